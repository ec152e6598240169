"""Bad real-data inputs, each stopped with an error naming the file (and split line), what is wrong and what to do:
a KITTI tree with its folders, split lines, images, ground truth and a teacher's maps broken one at a time, and an
NYU tree in the wrong unit (tiekd.data), and weights files that are missing, partial, foreign or carry code (tiekd.train.load_model). Each case asserts exact fragments of the message and counts in the tally."""
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tiekd import data as D
from tiekd.testing import write_kitti

H, W = 24, 40   # the tree's image size


def _save(p, a):
    p.parent.mkdir(parents=True, exist_ok=True); Image.fromarray(a).save(p)


@pytest.fixture(scope="module")
def kitti_tree(tmp_path_factory):
    "Three frames in KITTI's layout (raw/, gt/ at /256, splits/), a teacher's maps for all three, and the lines written."
    root = tmp_path_factory.mktemp("kitti")
    lines = write_kitti(root, train=3, test=0, unlabeled=0, h=H, w=W)["train"]
    for l in lines: D.save_teacher_depth(np.full((H, W), 5.0), root / "teacher" / D.teacher_file_name(l["name"]), d_max=80.)
    return root, lines


def _split_lines(root): return (root / "splits" / "eigen_train_files.txt").read_text().splitlines()


# each damage(root, lines) breaks the copy of the tree at root (lines: what write_kitti wrote) and returns the call to fail
def _no_raw(r, t):
    shutil.rmtree(r / "raw"); return lambda: D.kitti_split(r, "train")

def _missing_image(r, t):
    (r / t[1]["rgb"]).unlink(); return lambda: D.kitti_split(r, "train")

def _missing_gt(r, t):
    (r / t[2]["gt"]).unlink(); return lambda: D.kitti_split(r, "train")

def _two_columns(r, t):
    (r / "splits" / "two.txt").write_text(_split_lines(r)[0].rsplit(" ", 1)[0] + "\n"); return lambda: D.kitti_split(r, "two.txt")

def _bad_focal(r, t):
    (r / "splits" / "f.txt").write_text(_split_lines(r)[0].rsplit(" ", 1)[0] + " f=721\n"); return lambda: D.kitti_split(r, "f.txt")

def _truncated_image(r, t):
    f = r / t[1]["rgb"]; f.write_bytes(f.read_bytes()[:60]); return lambda: D.kitti_split(r, "train")[1]

def _millimetre_gt(r, t):
    mm = np.where(np.random.default_rng(1).random((H, W)) < 0.2, np.random.default_rng(2).integers(21000, 60000, (H, W)), 0)
    _save(r / t[2]["gt"], mm.astype(np.uint16)); return lambda: D.kitti_split(r, "train")[2]

def _gt_other_size(r, t):
    _save(r / t[0]["gt"], np.full((20, 40), 256, np.uint16)); return lambda: D.kitti_split(r, "train")[0]

def _teacher_map_missing(r, t):
    (r / "teacher" / D.teacher_file_name(t[1]["name"])).unlink()
    return lambda: D.kitti_split(r, "train", teacher_dir=r / "teacher")

def _teacher_folder_missing(r, t):
    return lambda: D.kitti_split(r, "train", teacher_dir=r / "maps")

def _teacher_rgb_map(r, t):
    _save(r / "teacher" / D.teacher_file_name(t[0]["name"]), np.zeros((H, W, 3), np.uint8))
    return lambda: D.kitti_split(r, "train", teacher_dir=r / "teacher")[0]

def _teacher_inverse_depth(r, t):
    gt = t[0]["depth"] / 256
    D.save_teacher_depth(np.where(gt > 0, 1 / np.maximum(gt, 1e-3), 1.0), r / "teacher" / D.teacher_file_name(t[0]["name"]), d_max=80.)
    return lambda: D.kitti_split(r, "train", teacher_dir=r / "teacher")[0]

def _teacher_other_view(r, t):
    D.save_teacher_depth(np.full((30, 10), 5.0), r / "teacher" / D.teacher_file_name(t[0]["name"]), d_max=80.)
    return lambda: D.kitti_split(r, "train", teacher_dir=r / "teacher")[0]

def _nyu_tenths_of_mm(r, t):
    rng = np.random.default_rng(3)
    _save(r / "nyu" / "kitchen" / "rgb_00000.jpg", rng.integers(0, 256, (24, 32, 3), dtype=np.uint8))
    _save(r / "nyu" / "kitchen" / "sync_depth_00000.png", (rng.integers(500, 6000, (24, 32)) * 10).astype(np.uint16))
    return lambda: D.NyuDataset(r / "nyu")[0]


CASES = {   # damage -> fragments the message must contain (the file or line; what is wrong; what to do); {rgb[k]}, {gt[k]}:
            # line k's files as written (relative to the root), {map[k]}: its teacher map's name ('/' -> '__')
    "no raw/ folder": (_no_raw, ["KITTI image folder (root)", "/raw' does not exist", "raw/ = the KITTI raw data"]),
    "split line names a missing image": (_missing_image, ["eigen_train_files.txt' line 2 names a missing image file",
                                                         "{rgb[1]}", "check those folders"]),
    "split line names a missing depth map": (_missing_gt, ["eigen_train_files.txt' line 3 names a missing depth map file",
                                                          "{gt[2]}"]),
    "split line with two columns": (_two_columns, ["two.txt' line 1: expected 3 columns `rgb gt focal` (gt may be None), got 2",
                                                  "Fix or remove the line"]),
    "split line with a bad focal": (_bad_focal, ["f.txt' line 1: focal 'f=721' is not a number"]),
    "truncated image": (_truncated_image, ["cannot read image", "{rgb[1]}", "truncated", "copy it again from its source"]),
    "ground truth in millimetres": (_millimetre_gt, ["{gt[2]}", "looks wrongly scaled: 100% of its",
                                                     "exceed d_max=80 m", "decoded as uint16 / 256", "check the dataset type"]),
    "ground truth of another size": (_gt_other_size, ["{gt[0]}", "is 20x40 but its image"]),
    "a teacher map missing": (_teacher_map_missing, ["1 of 3 samples have no teacher depth map",
                                                     "expected file '{map[1]}'",
                                                     "point teacher_dir at the folder that has them"]),
    "no teacher folder": (_teacher_folder_missing, ["teacher depth folder (teacher_dir)", "/maps' does not exist", "To get teacher maps: export a trained teacher's predictions"]),
    "teacher map in colour": (_teacher_rgb_map, ["is a 'RGB' image, not a 16-bit"]),
    "teacher map of inverse depth": (_teacher_inverse_depth, ["{map[0]}",
                                                              "looks like disparity or inverse depth", "Convert it to depth in metres"]),
    "teacher map of another view": (_teacher_other_view, [f"is 30x10 but its image is {H}x{W}: another aspect ratio",
                                                          "Predict the teacher's maps on these images"]),
    "NYU depth in tenths of millimetres": (_nyu_tenths_of_mm, ["sync_depth_00000.png", "exceed d_max=10 m"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_data_is_named(case, kitti_tree, tmp_path, fault_ledger):
    damage, fragments = CASES[case]
    tree, lines = kitti_tree
    root = tmp_path / "kitti"
    shutil.copytree(tree, root)
    call = damage(root, lines)
    fault_ledger.bad_input()
    with pytest.raises(D.DataError) as e: call()
    msg = str(e.value)
    named = dict(rgb=[l["rgb"] for l in lines], gt=[l["gt"] for l in lines], map=[l["name"].replace("/", "__") + ".png" for l in lines])
    missing = [f for f in (f.format(**named) for f in fragments) if f not in msg]
    assert not missing, f"the message lacks {missing}: {msg}"


class _Payload:   # what a pickled file with code looks like to torch.load
    def __reduce__(self): return (print, ("this must never run",))


def _weights_missing(d): return d / "none.pt"

def _weights_truncated(d):
    import torch
    torch.save({"format": "tiekd-model/1", "model": {"w": torch.zeros(64, 64)}}, d / "m.pt")
    (d / "m.pt").write_bytes((d / "m.pt").read_bytes()[:200]); return d / "m.pt"

def _weights_plain_state_dict(d):
    import torch
    torch.save({"conv1.weight": torch.zeros(8, 3, 3, 3)}, d / "sd.pt"); return d / "sd.pt"

def _weights_with_code(d):
    import torch
    torch.save({"format": "tiekd-model/1", "x": _Payload()}, d / "evil.pt"); return d / "evil.pt"


WEIGHT_CASES = {   # a weights file given to `tiekd.train.load_model` (predict, evaluate, the explorer)
    "no such file": (_weights_missing, ["none.pt: no such checkpoint"]),
    "truncated file": (_weights_truncated, ["m.pt: not a readable checkpoint", "it may be partial or corrupt"]),
    "a plain state_dict, not a tiekd model": (_weights_plain_state_dict, ["sd.pt: not a tiekd model file",
                                                                       "expected format 'tiekd-model/1'"]),
    "pickled code": (_weights_with_code, ["evil.pt: refusing to load", "Nothing in it was run"]),
}


@pytest.mark.parametrize("case", list(WEIGHT_CASES))
def test_bad_weights_are_named(case, tmp_path, fault_ledger, capsys):
    from tiekd.train import CheckpointError, load_model
    make, fragments = WEIGHT_CASES[case]
    path = make(tmp_path)
    fault_ledger.bad_input()
    with pytest.raises(CheckpointError) as e: load_model(path)
    missing = [f for f in fragments if f not in str(e.value)]
    assert not missing, f"the message lacks {missing}: {e.value}"
    assert "this must never run" not in capsys.readouterr().out
