# A mock KITTI tree in KITTI's own layout, to try the commands of README.md, "Run on KITTI / NYU", in seconds.
# Real names (lines of the Eigen split files as BTS ships them), KITTI's image size (375x1242), random images, sparse
# depth; the annotated depth split over data_depth_annotated/train and val as KITTI ships it; optionally a teacher's
# maps in the authors' released naming and format (uint16 PNG, value / 65535 * 80 m). tests/test_external_teacher.py
# runs it and the README's commands on what it writes.
#   python docs/mock_kitti.py /tmp/kitti --maps /tmp/maps/bts
import argparse
from pathlib import Path

import numpy as np
from PIL import Image

TRAIN = [("2011_09_26", "2011_09_26_drive_0022_sync", 473), ("2011_09_29", "2011_09_29_drive_0026_sync", 1),
         ("2011_09_30", "2011_09_30_drive_0028_sync", 2127), ("2011_10_03", "2011_10_03_drive_0034_sync", 3104)]
TEST = [("2011_09_26", "2011_09_26_drive_0002_sync", 69), ("2011_09_26", "2011_09_26_drive_0009_sync", 16),
        ("2011_09_26", "2011_09_26_drive_0117_sync", 11)]   # the last one without ground truth ("None"), as 45 real lines are
FOCAL = {"2011_09_26": 721.5377, "2011_09_29": 718.3351, "2011_09_30": 707.0493, "2011_10_03": 718.856}
VAL_DRIVES = {"2011_09_26_drive_0002_sync"}    # in KITTI's data_depth_annotated/val/, the others in train/


def _save(p: Path, a: np.ndarray) -> None:
    p.parent.mkdir(parents=True, exist_ok=True); Image.fromarray(a).save(p)


def mock_kitti(root, maps=None, seed: int = 0) -> dict:
    "Write the tree under `root` (and a teacher's maps under `maps`); returns {'train': n, 'test': n} lines written."
    root, rng = Path(root), np.random.default_rng(seed)
    rows = np.arange(375)[:, None] * np.ones((1, 1242))
    for split, frames in (("train", TRAIN), ("test", TEST)):
        lines = []
        for k, (date, drive, i) in enumerate(frames):
            rgb = f"{date}/{drive}/image_02/data/{i:010d}.png"
            _save(root / rgb, rng.integers(0, 256, (375, 1242, 3), dtype=np.uint8))
            depth = 80 * 40 / (rows + 40)                           # far at the top, near at the bottom, like a road
            labelled = (rng.random((375, 1242)) < 0.05) & (rows > 140)
            gt = f"{drive}/proj_depth/groundtruth/image_02/{i:010d}.png"
            none = split == "test" and k == len(frames) - 1
            if not none:
                sub = "val" if drive in VAL_DRIVES else "train"
                _save(root / "data_depth_annotated" / sub / gt, np.where(labelled, depth * 256, 0).astype(np.uint16))
            if maps is not None:                                  # the released code's name: every '/' -> '_'
                m = depth * rng.uniform(0.9, 1.1, depth.shape)
                _save(Path(maps) / (rgb[:-4].replace("/", "_") + ".png"), np.round(m / 80 * 65535).astype(np.uint16))
            lines.append(f"{rgb} {'None' if none else gt} {FOCAL[date]}")
        (root / "splits").mkdir(parents=True, exist_ok=True)
        (root / "splits" / f"eigen_{split}_files.txt").write_text("\n".join(lines) + "\n")
    (root / "splits" / "unlabeled_files.txt").write_text("".join(f"{d}/{v}/image_02/data/{i:010d}.png None {FOCAL[d]}\n"
                                                                 for d, v, i in TRAIN[:2]))
    return {"train": len(TRAIN), "test": len(TEST)}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Write a mock KITTI tree in KITTI's layout (real split-file names).")
    ap.add_argument("root", help="where to write it")
    ap.add_argument("--maps", help="also write a teacher's maps here, in the released naming and format")
    a = ap.parse_args()
    n = mock_kitti(a.root, a.maps)
    print(f"mock KITTI at {a.root}: {n['train']} train and {n['test']} test lines" + (f"; teacher maps in {a.maps}" if a.maps else ""))
