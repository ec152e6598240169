# Distil your own teacher: the recipe of README.md, "Distil your own teacher" (tests/test_own_teacher.py runs it).
# my_images/ holds RGB images; my_teacher_depth/ your teacher's depth for each, matched by file stem:
# <stem>.npy in metres, or <stem>.png in the released uint16 format (value / 65535 * d_max).
from tiekd.data import FolderDataset, prepare_split
from tiekd.train import train_model

def distil(images="my_images", teacher_depth="my_teacher_depth", out="runs/my_student", size=(128, 416),
           d_max=80.0, epochs=10, student_size="small", batch_size=8):
    train = prepare_split(FolderDataset(images, teacher_dir=teacher_depth, d_max=d_max), size=size)
    cfg = {"model": {"kind": "student", "encoder": "mobilenetv2_100", "size": student_size},
           "distill": {"method": "tiekd", "alpha": 0.1, "sigma": 0.5, "n_bins": 257},   # the paper's values
           "data": {"d_max": d_max},
           "train": {"epochs": epochs, "batch_size": batch_size, "device": "auto"}}     # a GPU when there is one
    return train_model(cfg, out, splits={"train": train})                             # resumable: rerun to continue

if __name__ == "__main__":
    student = distil()["model"]          # student(x)["depth"]: (B, 1, H, W) metres for images x (B, 3, H, W) in [0, 1]
