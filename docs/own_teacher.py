# Distil your own teacher: the recipe of README.md, "Distil your own teacher" (tests/test_own_teacher.py runs it).
# my_images/ holds RGB images; my_teacher_depth/ your teacher's depth for each, matched by file stem:
# <stem>.npy in metres, or <stem>.png in the released uint16 format (value / 65535 * d_max).
#   python docs/own_teacher.py my_images my_teacher_depth --out runs/my_student --epochs 10
import argparse

from tiekd.data import FolderDataset, prepare_split
from tiekd.train import train_model

def distil(images="my_images", teacher_depth="my_teacher_depth", out="runs/my_student", size=(128, 416),
           d_max=80.0, epochs=10, student_size="small", batch_size=8):
    train = prepare_split(FolderDataset(images, teacher_dir=teacher_depth, d_max=d_max), size=size)
    if len(train) < batch_size:                     # a folder of fewer images than a batch: one batch of all of them
        print(f"note: {len(train)} images, fewer than --batch-size {batch_size}: each step is one batch of all {len(train)}")
        batch_size = len(train)
    cfg = {"model": {"kind": "student", "encoder": "mobilenetv2_100", "size": student_size},
           "distill": {"method": "tiekd", "alpha": 0.1, "sigma": 0.5, "n_bins": 257},   # the paper's values
           "data": {"d_max": d_max},
           "train": {"epochs": epochs, "batch_size": batch_size, "device": "auto"}}     # a GPU when there is one
    return train_model(cfg, out, splits={"train": train})                             # interrupted? rerun to resume

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Distil a TIE-KD student from your teacher's depth maps.")
    ap.add_argument("images", nargs="?", default="my_images", help="folder of RGB images (default: %(default)s)")
    ap.add_argument("teacher_depth", nargs="?", default="my_teacher_depth",
                    help="folder of the teacher's maps, <stem>.npy (metres) or <stem>.png (default: %(default)s)")
    ap.add_argument("--out", default="runs/my_student", help="run folder (default: %(default)s)")
    ap.add_argument("--size", type=int, nargs=2, default=(128, 416), metavar=("H", "W"), help="training size (default: 128 416)")
    ap.add_argument("--d-max", type=float, default=80.0, help="largest depth in metres (default: %(default)s)")
    ap.add_argument("--epochs", type=int, default=10, help="(default: %(default)s)")
    ap.add_argument("--batch-size", type=int, default=8, help="(default: %(default)s)")
    ap.add_argument("--student-size", default="small", help="tiny, small or paper (default: %(default)s)")
    a = ap.parse_args()
    student = distil(a.images, a.teacher_depth, a.out, tuple(a.size), a.d_max, a.epochs, a.student_size,
                     a.batch_size)["model"]   # student(x)["depth"]: (B, 1, H, W) metres for x (B, 3, H, W) in [0, 1]
    print(f"student saved in {a.out}/model.pt")
