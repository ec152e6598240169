import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TIEKD_ROOT", str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")
