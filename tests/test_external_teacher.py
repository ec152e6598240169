"""A teacher given by its maps, as a user with the authors' released maps has it: a profile set from the command line
(`tiekd_profile smoke --set ...`), the data check the prepare stage runs first, the teacher stage that evaluates the
maps instead of training, and the teacher_predict stage that stores them where every student reads its teacher.
The maps are the ground truth itself (uint16 PNG, released names), so the expectations are closed-form: AbsRel 0 up
to the PNG's quantisation, and the stored maps equal the prepared ground truth on every labelled pixel."""
import contextlib
import io
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tiekd import data as D
from tiekd import pipeline as P
from tiekd.check import tiekd_check_data_cli
from tiekd.testing import write_kitti
from tiekd.train import with_teacher_predictions

ROOT = Path(__file__).resolve().parents[1]


def _save(p, a):
    p.parent.mkdir(parents=True, exist_ok=True); Image.fromarray(a).save(p)


def _tree(root: Path, maps: Path, disparity: Path) -> None:
    "Six frames (four train, two test lines), their sparse ground truth at /256, and two folders of teacher maps."
    lines = write_kitti(root, train=4, test=2, unlabeled=0, no_gt={})
    for l in lines["train"] + lines["test"]:
        gt = l["depth"].astype(np.float64)
        m = np.where(gt > 0, gt / 256.0, 30.0)                    # the ground truth where labelled, 30 m elsewhere
        D.save_teacher_depth(m, maps / D.released_teacher_file_name(l["name"]), d_max=80.)   # the released code's names
        D.save_teacher_depth(np.where(gt > 0, 256.0 / np.maximum(gt, 1), 1.0), disparity / D.released_teacher_file_name(l["name"]), d_max=80.)


def _cli(fn, args):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out): rc = fn(args)
    return rc, out.getvalue()


def test_a_teacher_given_by_its_maps(tmp_path, monkeypatch):
    proj, tree, maps, disp = tmp_path / "proj", tmp_path / "kitti", tmp_path / "maps" / "adabins", tmp_path / "disp"
    _tree(tree, maps, disp)
    shutil.copytree(ROOT / "profiles", proj / "profiles")
    (proj / "settings.ini").write_text("")
    monkeypatch.setenv("TIEKD_ROOT", str(proj))

    # the profile, its dataset root and the teacher's maps set from the command line
    rc, out = _cli(P.tiekd_profile_cli, ["smoke", "--set", f"data.root={tree}", "--set", f"teachers.maps.adabins={maps}",
                                         "--set", "data.size=[24, 40]", "--set", "check_data=3", "--set", "device=cpu"])
    assert rc == 0, out
    p = P.load_params(proj / "params.yaml")
    assert (p["data"]["root"], p["teachers"]["maps"], p["check_data"]) == (str(tree), {"adabins": str(maps)}, 3)
    assert (proj / "params.yaml").read_text().startswith(f"# profiles/smoke.yaml with --set data.root={tree}")
    rc, out = _cli(P.tiekd_profile_cli, ["smoke", "--set", "data.rot=/x"])
    assert rc == 2 and "unknown key 'data.rot'; expected one of d_max, d_min" in out

    # the prepare stage's check: 3 of the 4 train lines decoded, the maps found and on the ground truth's scale
    rc, out = _cli(tiekd_check_data_cli, ["--stage", "--no-progress", "--splits", "train", "test"])
    assert rc == 0, out
    assert "train: 4 images (3 decoded)" in out and "teacher maps adabins (all found): OK" in out and out.rstrip().endswith("all splits OK")

    # the prepared splits, then the teacher stage: the maps evaluated, nothing trained
    (proj / P.PREPARED).mkdir(parents=True)
    for name in ("train", "test"):
        D.prepare_split(P.raw_split(p, name), size=(24, 40), progress=False).save(proj / P.PREPARED / f"{name}.pt")
    rec = P.run_stage(p, "teachers", "adabins")[0]
    assert rec["method"] == "external" and rec["source"] == str(maps) and rec["train_s"] is None
    assert rec["metrics"]["n_images"] == 2 and 0 <= rec["metrics"]["abs_rel"] < 80 / 65535 / 2, rec["metrics"]
    assert (proj / "metrics" / p["profile"] / "teachers" / "adabins.json").exists()
    assert not (proj / "artifacts" / "runs" / "teachers" / "adabins" / "model.pt").exists()

    # teacher_predict: stored where the students read a teacher; equal to the prepared ground truth where labelled
    splits = P.load_prepared(["train", "test"])
    done = P.teacher_predictions(p, "adabins", splits)
    assert sorted(done) == ["test", "train"]
    # the project's folder, named absolutely: a relative name is looked up in the working directory first (tiekd.teachermaps
    # ._resolve_path), where a checkout that has run the pipeline holds its own artifacts/teacher_depth/adabins
    tr = with_teacher_predictions(splits["train"], P.project_root() / P.teacher_dir("adabins"), "train")
    lab = tr.depth > 0
    assert lab.sum() > 50 and (tr.teacher_depth[lab] - tr.depth[lab]).abs().max() <= 80 / 65535
    assert torch.allclose(tr.teacher_depth[~lab], torch.tensor(30.0), atol=80 / 65535)

    # maps of inverse depth: the teacher stage stops and says why
    q = P.validate_params({**p, "teachers": {**p["teachers"], "maps": {"adabins": str(disp)}}})
    with pytest.raises(D.DataError, match="looks like disparity or inverse depth"): P.run_stage(q, "teachers", "adabins")
    rc, out = _cli(tiekd_check_data_cli, ["--profile", "smoke", "--root", str(tree), "--no-progress", "--splits", "train"])
    assert rc == 0 and "teacher maps" not in out                 # the smoke profile itself names no maps


def test_the_readme_kitti_commands(tmp_path, monkeypatch):
    "README's 'Run on KITTI / NYU' commands on the mock tree in KITTI's layout: as printed there, then with a map removed."
    import subprocess, sys
    proj = tmp_path / "proj"
    shutil.copytree(ROOT / "profiles", proj / "profiles"); (proj / "settings.ini").write_text("")
    monkeypatch.setenv("TIEKD_ROOT", str(proj))
    kitti, maps = tmp_path / "mk" / "kitti", tmp_path / "mk" / "maps" / "bts"
    r = subprocess.run([sys.executable, str(ROOT / "docs" / "mock_kitti.py"), str(kitti), "--maps", str(maps)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith(f"mock KITTI at {kitti}: 4 train and 3 test lines"), r.stderr
    assert (kitti / "data_depth_annotated" / "val" / "2011_09_26_drive_0002_sync").is_dir()     # as KITTI ships it
    rc, out = _cli(P.tiekd_profile_cli, ["paper-kitti", "--set", f"data.root={kitti}", "--set", f"teachers.maps.bts={maps}"])
    assert rc == 0, out
    rc, out = _cli(tiekd_check_data_cli, ["--sample", "200", "--no-progress"])
    lines = out.splitlines()
    assert rc == 0 and lines[0] == f"tiekd_check_data: profile paper-kitti, kitti at {kitti}, 200 lines decoded per split", out
    assert lines[1].startswith("train: 4 images, ground truth on ") and lines[1].endswith("teacher maps bts (all found): OK")
    assert lines[2].startswith("test: 2 images (1 split lines without ground truth skipped)")
    assert lines[3] == "unlabeled: 2 images, teacher maps bts (all found): OK" and lines[4] == "all splits OK"
    (maps / "2011_09_26_2011_09_26_drive_0002_sync_image_02_data_0000000069.png").unlink()
    rc, out = _cli(tiekd_check_data_cli, ["--sample", "200", "--no-progress", "--splits", "test"])
    assert rc == 1 and "teacher maps bts (missing): 1 problem(s)" in out
    assert "(or the released code's '2011_09_26_2011_09_26_drive_0002_sync_image_02_data_0000000069.png'" in out


def test_nyu_as_bts_ships_it(tmp_path, monkeypatch):
    "NYU Depth v2 as BTS ships it: train lines (with a leading '/') under sync/, test lines under official_splits/test/."
    root, rng = tmp_path / "nyu_depth_v2", np.random.default_rng(0)
    for sub, scene in (("sync", "kitchen_0028a"), ("official_splits/test", "bathroom")):
        _save(root / sub / scene / "rgb_00045.jpg", rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
        _save(root / sub / scene / "sync_depth_00045.png", rng.integers(500, 9000, (48, 64)).astype(np.uint16))   # mm
    (root / "splits").mkdir()
    (root / "splits" / "nyudepthv2_train_files_with_gt.txt").write_text("/kitchen_0028a/rgb_00045.jpg /kitchen_0028a/sync_depth_00045.png 518.8579\n")
    (root / "splits" / "nyudepthv2_test_files_with_gt.txt").write_text("bathroom/rgb_00045.jpg bathroom/sync_depth_00045.png 518.8579\n")
    p = P.load_params(ROOT / "profiles" / "paper-nyu.yaml")
    p["data"]["root"] = str(root)
    tr, te = P.raw_split(p, "train"), P.raw_split(p, "test")
    assert (tr.names, te.names) == (["kitchen_0028a/rgb_00045"], ["bathroom/rgb_00045"])
    gt = np.asarray(Image.open(root / "official_splits/test/bathroom/sync_depth_00045.png"), np.float64) / 1000
    assert np.allclose(te[0]["depth"][0].numpy(), gt, atol=1e-6)                 # millimetres read as metres
