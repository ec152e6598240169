# A mock KITTI tree in KITTI's own layout, to try the commands of README.md, "Run on KITTI / NYU", in seconds.
# Real names (lines of the Eigen split files as BTS ships them), KITTI's image size (375x1242), random images, sparse
# depth (5 % of the pixels); the annotated depth split over data_depth_annotated/train and val as KITTI ships it;
# optionally a teacher's maps in the authors' released naming and format (uint16 PNG, value / 65535 * 80 m).
# The tree is written by tiekd.testing.write_kitti, the builder of the tests' KITTI trees; tests/test_external_teacher.py
# runs this script and the README's commands on what it writes.
#   python docs/mock_kitti.py /tmp/kitti --maps /tmp/maps/bts
import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from tiekd.testing import write_kitti

TRAIN = [("2011_09_26_drive_0022_sync", 473), ("2011_09_29_drive_0026_sync", 1), ("2011_09_30_drive_0028_sync", 2127),
         ("2011_10_03_drive_0034_sync", 3104)]
TEST = [("2011_09_26_drive_0002_sync", 69), ("2011_09_26_drive_0009_sync", 16),
        ("2011_09_26_drive_0117_sync", 11)]   # the last one without ground truth ("None"), as 45 real lines are
FOCAL = {"2011_09_26": 721.5377, "2011_09_29": 718.3351, "2011_09_30": 707.0493, "2011_10_03": 718.856}
VAL_DRIVES = {"2011_09_26_drive_0002_sync"}    # in KITTI's data_depth_annotated/val/, the others in train/


def mock_kitti(root, maps=None, seed: int = 0) -> dict:
    "Write the tree under `root` (and a teacher's maps under `maps`); returns {'train': n, 'test': n} lines written."
    lines = write_kitti(root, train=TRAIN, test=TEST, unlabeled=TRAIN[:2], h=375, w=1242, no_gt={"test": [-1]},
                        as_shipped=True, val_drives=VAL_DRIVES, focal=FOCAL, density=0.05, seed=seed)
    if maps is not None:                                          # the teacher: the dense depth, 10 % off at most
        rng = np.random.default_rng(seed + 1)
        for l in lines["train"] + lines["test"]:                  # the released code's name: every '/' -> '_'
            m = l["dense"] / 256 * rng.uniform(0.9, 1.1, l["dense"].shape)
            p = Path(maps) / (l["name"].replace("/", "_") + ".png")
            p.parent.mkdir(parents=True, exist_ok=True); Image.fromarray(np.round(m / 80 * 65535).astype(np.uint16)).save(p)
    return {"train": len(lines["train"]), "test": len(lines["test"])}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Write a mock KITTI tree in KITTI's layout (real split-file names).")
    ap.add_argument("root", help="where to write it")
    ap.add_argument("--maps", help="also write a teacher's maps here, in the released naming and format")
    a = ap.parse_args()
    n = mock_kitti(a.root, a.maps)
    print(f"mock KITTI at {a.root}: {n['train']} train and {n['test']} test lines" + (f"; teacher maps in {a.maps}" if a.maps else ""))
