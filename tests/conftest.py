"""Shared test set-up, and the fault ledger: every fault test records what it injected and what it recovered
(pytest's `record_property`), and the session ends with one line that adds them up, printed just above pytest's
own summary line:

    fault tolerance (tests/): 4 faults injected (kill -9: 2, ...), 47 bad inputs tried, 3 runs recovered, 0 bytes lost

"Bytes lost" is measured, not assumed: the bytes of the reference (uninterrupted) output that the recovered output
does not reproduce exactly. The module notebooks hold more fault checks of their own (a kill -9 of the data
generator in 05_synth, bad data files in 06_data); they pass or fail as their notebook's item and are not counted here.
"""
import os
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TIEKD_ROOT", str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

_LEDGER = Counter()


class FaultLedger:
    "What one test injected and recovered, recorded as user properties of its report (summed at the end)."
    def __init__(self, record): self._record = record
    def injected(self, kind: str): self._record(f"fault:{kind}", 1)
    def bad_input(self): self._record("bad_inputs", 1)
    def recovered(self, bytes_lost: int):
        self._record("runs_recovered", 1)
        self._record("bytes_lost", int(bytes_lost))


@pytest.fixture
def fault_ledger(record_property):
    return FaultLedger(record_property)


def bytes_lost(ref: bytes, got: bytes) -> int:
    "Bytes of `ref` that `got` does not reproduce: differing positions plus the length missing or extra."
    n = min(len(ref), len(got))
    return sum(a != b for a, b in zip(ref[:n], got[:n])) + abs(len(ref) - len(got))


def tree_bytes_lost(ref_dir: Path, got_dir: Path) -> int:
    "`bytes_lost` over every file under `ref_dir` (a missing file loses all its bytes; an extra file counts too)."
    ref = {p.relative_to(ref_dir): p for p in Path(ref_dir).rglob("*") if p.is_file()}
    got = {p.relative_to(got_dir): p for p in Path(got_dir).rglob("*") if p.is_file()}
    return sum(bytes_lost(ref[k].read_bytes() if k in ref else b"", got[k].read_bytes() if k in got else b"")
               for k in ref.keys() | got.keys())


def pytest_runtest_logreport(report):
    if report.when == "call" and report.passed:
        for k, v in report.user_properties:
            _LEDGER[k] += v


def pytest_terminal_summary(terminalreporter):
    if not _LEDGER: return
    kinds = {k.split(":", 1)[1]: v for k, v in sorted(_LEDGER.items()) if k.startswith("fault:")}
    detail = ", ".join(f"{k}: {v}" for k, v in kinds.items())
    terminalreporter.write_line(
        f"fault tolerance (tests/): {sum(kinds.values())} faults injected ({detail}), {_LEDGER['bad_inputs']} bad inputs "
        f"tried, {_LEDGER['runs_recovered']} runs recovered, {_LEDGER['bytes_lost']} bytes lost")
