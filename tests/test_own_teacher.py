"""The README's "distil your own teacher" recipe (docs/own_teacher.py), run as written on the real frame that
scikit-image ships, with an external "teacher" we never saw: its depth maps are given as files, in both formats."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def _recipe():
    spec = importlib.util.spec_from_file_location("own_teacher", ROOT / "docs" / "own_teacher.py")
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("fmt", ["npy", "png"])
def test_recipe_distils_an_external_teacher(tmp_path, fmt):
    from skimage.data import stereo_motorcycle
    left, _, disp = stereo_motorcycle()
    depth = 994.978 * 0.193001 / (disp + 31.086)          # metres (Middlebury 2014's calibration of this frame), inf where disparity is invalid
    depth[~np.isfinite(depth)] = 0
    imgs, tdir = tmp_path / "my_images", tmp_path / "my_teacher_depth"
    imgs.mkdir(); tdir.mkdir()
    d_max = 10.0
    for i, flip in enumerate((False, True)):                # two images: the frame and its mirror
        im, d = (left[:, ::-1], depth[:, ::-1]) if flip else (left, depth)
        Image.fromarray(np.ascontiguousarray(im)).save(imgs / f"frame{i}.png")
        if fmt == "npy": np.save(tdir / f"frame{i}.npy", np.ascontiguousarray(d).astype(np.float32))
        else: Image.fromarray(np.round(np.clip(d, 0, d_max) / d_max * 65535).astype(np.uint16)).save(tdir / f"frame{i}.png")
    res = _recipe().distil(str(imgs), str(tdir), str(tmp_path / "run"), size=(32, 48), d_max=d_max, epochs=2, batch_size=2,
                           student_size="tiny")
    student = res["model"]
    assert (tmp_path / "run" / "model.pt").exists()
    hist = res["history"]["step_loss"]
    assert len(hist) == 2 and all(np.isfinite(hist))        # 2 epochs of one batch of 2 images
    x = torch.from_numpy(np.array(Image.open(imgs / "frame0.png").resize((48, 32)))).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad(): out = student.eval()(x)
    assert out["depth"].shape == (1, 1, 32, 48) and out["logits"].shape == (1, 257, 32, 48)
    assert bool(((out["depth"] > 0) & (out["depth"] < d_max)).all())


def test_recipe_says_which_teacher_maps_are_missing(tmp_path, fault_ledger):
    fault_ledger.bad_input()
    from tiekd.data import DataError
    imgs, tdir = tmp_path / "my_images", tmp_path / "my_teacher_depth"
    imgs.mkdir(); tdir.mkdir()
    for i in range(3): Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(imgs / f"im{i}.png")
    np.save(tdir / "im0.npy", np.ones((8, 8), np.float32))
    with pytest.raises(DataError, match=r"(?s)2 of 3.*im1"):
        _recipe().distil(str(imgs), str(tdir), str(tmp_path / "run"), size=(8, 8), epochs=1, student_size="tiny")


def test_recipe_as_a_command_on_a_folder_smaller_than_a_batch(tmp_path):
    "`python docs/own_teacher.py IMAGES TEACHER --out ...` on 3 images with the default batch of 8: one batch of 3."
    import json, os, subprocess, sys
    imgs, tdir = tmp_path / "my_images", tmp_path / "my_teacher_depth"
    imgs.mkdir(); tdir.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (16, 24, 3), dtype=np.uint8)).save(imgs / f"im{i}.png")
        np.save(tdir / f"im{i}.npy", rng.uniform(1, 9, (16, 24)).astype(np.float32))
    r = subprocess.run([sys.executable, str(ROOT / "docs" / "own_teacher.py"), str(imgs), str(tdir), "--out",
                        str(tmp_path / "run"), "--size", "16", "24", "--d-max", "10", "--epochs", "1", "--student-size", "tiny"],
                       capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "note: 3 images, fewer than --batch-size 8: each step is one batch of all 3" in r.stdout
    assert f"student saved in {tmp_path / 'run'}/model.pt" in r.stdout
    s = json.loads((tmp_path / "run" / "train_summary.json").read_text())
    assert s["global_step"] == 1, s       # 3 images, batch min(8, 3) = 3: one step
