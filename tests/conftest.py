"""Shared test set-up, and the fault ledger: every fault test records what it injected and what it recovered
(pytest's `record_property`), and the session ends with one line that adds them up, printed just above pytest's
own summary line:

    fault tolerance (tests/): 3 faults injected (full disk: 1, kill -9: 2), 65 bad inputs tried, 3 runs rerun after
    their fault, 3 recovered exactly, 0 bytes lost (timing fields set aside: ...)

"Bytes lost" is measured, not assumed: the bytes of the reference (uninterrupted) output that the recovered output
does not reproduce exactly, over its whole output folder (`run_bytes_lost`: every file; fields that measure time
rather than results are set aside by name and listed). Every test's records count, whether it passed or failed; what
failing tests recorded is printed again on a line of its own, so a recovery that loses bytes shows its loss instead
of dropping out of the tally. The module notebooks hold more fault checks of their own (a kill -9 of the data
generator in 05_synth, bad data files in 06_data); they pass or fail as their notebook's item and are not counted here.
"""
import io
import json
import os
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TIEKD_ROOT", str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

_LEDGER, _FAILED, _SET_ASIDE = Counter(), Counter(), set()


class FaultLedger:
    "What one test injected and recovered, recorded as user properties of its report (summed at the end)."
    def __init__(self, record): self._record = record
    def injected(self, kind: str): self._record(f"fault:{kind}", 1)
    def bad_input(self): self._record("bad_inputs", 1)
    def recovered(self, bytes_lost: int, set_aside=()):
        self._record("reruns", 1)
        self._record("runs_recovered", int(bytes_lost == 0))   # recovered = every byte of the reference reproduced
        self._record("bytes_lost", int(bytes_lost))
        for f in set_aside: self._record(f"set_aside:{f}", 0)


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


# Fields that measure the run, not its result: a resumed run cannot reproduce them, so they are compared by name
# only (present in both) and listed in the tally.
TIMING_FIELDS = ("images_per_s", "train_seconds", "seconds", "resumed_from")


def _canonical(obj):
    "A deterministic byte form of loaded JSON / torch objects, with `TIMING_FIELDS` values blanked (keys kept)."
    import torch
    if isinstance(obj, dict):
        return b"{" + b",".join(repr(k).encode() + b":" + (b"<time>" if k in TIMING_FIELDS else _canonical(v))
                                for k, v in sorted(obj.items(), key=lambda kv: repr(kv[0]))) + b"}"
    if isinstance(obj, (list, tuple)): return b"[" + b",".join(_canonical(v) for v in obj) + b"]"
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        return f"tensor({t.dtype},{tuple(t.shape)})".encode() + t.view(-1).view(torch.uint8).numpy().tobytes()
    return repr(obj).encode()


def normalised_bytes(path: Path) -> tuple[bytes, set]:
    "(bytes to compare, timing fields set aside) of one output file: JSON and torch files canonically, logs deduplicated."
    import torch
    raw = path.read_bytes()
    if path.suffix == ".json":
        return _canonical(json.loads(raw)), {f for f in TIMING_FIELDS if f'"{f}"' in raw.decode()}
    if path.suffix == ".pt":
        return _canonical(torch.load(io.BytesIO(raw), weights_only=False)), {f for f in TIMING_FIELDS if f.encode() in raw}
    if path.suffix == ".tsv":   # a DVCLive series: a step redone after a kill is logged again, identically
        if path.stem in TIMING_FIELDS: return b"", {path.stem}
        lines = raw.decode().splitlines()
        return "\n".join(dict.fromkeys(lines)).encode(), set()
    return raw, set()


def run_bytes_lost(ref_dir: Path, got_dir: Path) -> tuple[int, list[str]]:
    "Bytes of the uninterrupted run's output folder that the recovered one does not reproduce, and the fields set aside."
    ref = {p.relative_to(ref_dir): p for p in Path(ref_dir).rglob("*") if p.is_file()}
    got = {p.relative_to(got_dir): p for p in Path(got_dir).rglob("*") if p.is_file()}
    lost, aside = 0, set()
    for k in ref.keys() | got.keys():
        a, fa = normalised_bytes(ref[k]) if k in ref else (b"", set())
        b, fb = normalised_bytes(got[k]) if k in got else (b"", set())
        lost += bytes_lost(a, b); aside |= fa | fb
    return lost, sorted(aside)


def pytest_runtest_logreport(report):
    if report.when == "call" and (report.passed or report.failed):
        for k, v in report.user_properties:
            if k.startswith("set_aside:"): _SET_ASIDE.add(k.split(":", 1)[1]); continue
            _LEDGER[k] += v
            if report.failed: _FAILED[k] += v


def _tally(c: Counter) -> str:
    kinds = {k.split(":", 1)[1]: v for k, v in sorted(c.items()) if k.startswith("fault:")}
    detail = ", ".join(f"{k}: {v}" for k, v in kinds.items())
    return (f"{sum(kinds.values())} faults injected{f' ({detail})' if detail else ''}, {c['bad_inputs']} bad inputs tried, "
            f"{c['reruns']} runs rerun after their fault, {c['runs_recovered']} recovered exactly, {c['bytes_lost']} bytes lost")


def pytest_terminal_summary(terminalreporter):
    if not _LEDGER: return
    aside = f" (timing fields set aside: {', '.join(sorted(_SET_ASIDE))})" if _SET_ASIDE else ""
    terminalreporter.write_line(f"fault tolerance (tests/): {_tally(_LEDGER)}{aside}")
    if _FAILED: terminalreporter.write_line(f"  of which in FAILING tests: {_tally(_FAILED)}")
