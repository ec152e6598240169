"""Faults: a full disk while a checkpoint is written (tiekd.train). The run stops with an error that names the
checkpoint and says what to do, the previous checkpoint stays intact and loadable, no partial file is left, and a
rerun once the disk has room resumes from it and ends exactly where an uninterrupted run ends."""
import errno

import pytest
import torch

from conftest import bytes_lost, run_bytes_lost
from test_train_resume import _toy


def test_full_disk_on_checkpoint_write(tmp_path, monkeypatch, fault_ledger):
    _, toy = _toy(tmp_path)
    ref = toy.run_train(tmp_path / "full")
    out = tmp_path / "disk"
    real_save, calls, before = torch.save, {"n": 0}, {}

    def full_disk_save(obj, f, *a, **kw):  # the 3rd checkpoint write runs out of space half-way
        calls["n"] += 1
        if calls["n"] == 3:
            before["last.pt"] = (out / "checkpoints" / "last.pt").read_bytes()   # the previous checkpoint
            fault_ledger.injected("full disk")
            f.write(b"\0" * 4096)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(obj, f, *a, **kw)

    monkeypatch.setattr(torch, "save", full_disk_save)
    from tiekd.train import CheckpointError
    with pytest.raises(CheckpointError, match=r"(?s)checkpoints/last\.pt.*No space left.*previous checkpoint is intact"):
        toy.run_train(out)
    ck_dir = out / "checkpoints"
    assert sorted(p.name for p in ck_dir.iterdir()) == ["last.pt"], "a partial temporary file was left behind"
    assert bytes_lost(before["last.pt"], (ck_dir / "last.pt").read_bytes()) == 0
    ck = torch.load(ck_dir / "last.pt", weights_only=True)          # the previous checkpoint, whole
    assert ck["position"]["global_step"] == 3      # writes at step 2, at the end of epoch 1 (step 3), then step 4 fails
    monkeypatch.setattr(torch, "save", real_save)                    # space again
    res = toy.run_train(out)
    assert res["resumed_from"] == 3
    lost, aside = run_bytes_lost(tmp_path / "full", out)          # the whole output folder, byte for byte
    fault_ledger.recovered(lost, aside)
    assert lost == 0, f"{lost} bytes of the uninterrupted run's output are not reproduced"
    assert res["history"]["step_loss"] == ref["history"]["step_loss"]
    for k, v in ref["model"].state_dict().items():
        assert torch.equal(v, res["model"].state_dict()[k]), f"weights {k} differ after the resumed run"
