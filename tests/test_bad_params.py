"""Bad parameters, each caught before any work starts with an error naming the key, the value and what is allowed:
through a whole profile (`tiekd.pipeline.validate_params`, what the `prepare` stage runs first), through one run's
config (`tiekd.train.validate_config`), through the profile switch, and through `dvc repro` itself (it stops in its
first stage, in seconds, with no run folder written). Each case asserts the exact text: key, `key=value`, allowed."""
import copy
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tiekd.core import ConfigError
from tiekd.pipeline import tiekd_profile_cli, use_profile, validate_params
from tiekd.train import validate_config

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = yaml.safe_load((ROOT / "profiles" / "default.yaml").read_text())

# (path in the profile, bad value, the exact text the message must contain: the checked key, `key=value` as Python
# writes the value, and what is allowed). Keys of a run's config (`model.encoder`, `train.lr`, ...) come with the run
# that has them, e.g. "main (main/baseline/s70): model.encoder='vgg99' is not allowed: expected one of ...".
ENC = "efficientnet_b0, efficientnet_b1, efficientnet_b2, efficientnet_b3, efficientnet_b4, efficientnet_b5, mobilenetv2_100, resnet18, resnet34, resnet50"
DIST = ("gt, reskd-mse, reskd-si, reskd-ssim, reskd-ssim-mse, reskd-ssim-si, spatialkd, spatialkd-decomp, spatialkd-replace, "
        "tiekd, tiekd-depth, tiekd-dpm")
FAMS = "adabins, bts, depthformer, unet"       # the default profile's teachers.families
MODEL_FAMS = FAMS                             # tiekd.models.TEACHERS, written out: the same four
B, T = "main (main/baseline/s70): ", "teachers (teachers/adabins/s70): "
PROFILE_CASES = [
    (("distill", "sigma"), 0.0, B + "distill.sigma=0.0 is not allowed: expected a number > 0"),
    (("distill", "sigma"), -1.0, B + "distill.sigma=-1.0 is not allowed: expected a number > 0"),
    (("distill", "alpha"), 1.5, B + "distill.alpha=1.5 is not allowed: expected a number >= 0 and <= 1"),
    (("distill", "alpha"), -0.1, B + "distill.alpha=-0.1 is not allowed: expected a number >= 0 and <= 1"),
    (("alpha_sweep", "values"), [0.1, 2.0],
     "alpha_sweep (alpha_sweep/adabins/alpha2.0-s70): distill.alpha=2.0 is not allowed: expected a number >= 0 and <= 1"),
    (("sigma_sweep", "values"), [0.5, 0.0],
     "sigma_sweep (sigma_sweep/adabins/sigma0.0-s70): distill.sigma=0.0 is not allowed: expected a number > 0"),
    (("distill", "n_bins"), 1, B + "distill.n_bins=1 is not allowed: expected an integer >= 2"),
    (("distill", "n_bins"), 64.5, B + "distill.n_bins=64.5 is not allowed: expected an integer >= 2"),
    (("distill", "mode"), "dense", B + "distill.mode='dense' is not allowed: expected one of integral, softmax (integral: the paper; softmax: the released code)"),
    (("distill", "top_crop_frac"), 1.5, B + "distill.top_crop_frac=1.5 is not allowed: expected a number >= 0 and < 1"),
    (("distill", "aux_unlabeled"), -5, B + "distill.aux_unlabeled=-5 is not allowed: expected an integer >= 0"),
    (("data", "d_min"), 80.0, T + "data.d_min=80.0 is not allowed: expected a number < data.d_max=80.0"),
    (("data", "d_min"), -1.0, T + "data.d_min=-1.0 is not allowed: expected a number > 0"),
    (("data", "d_max"), -5.0, T + "data.d_max=-5.0 is not allowed: expected a number > 0"),
    (("data", "size"), [32], T + "data.size=[32] is not allowed: expected [height, width], two integers >= 16"),
    (("data", "size"), "32x104", T + "data.size='32x104' is not allowed: expected [height, width], two integers >= 16"),
    (("data", "limit_train"), -1, T + "data.limit_train=-1 is not allowed: expected an integer >= 0"),
    (("data", "eval_crop"), "square", T + "data.eval_crop='square' is not allowed: expected one of garg, eigen, nyu, null"),
    (("students", "encoder"), "vgg99", B + f"model.encoder='vgg99' is not allowed: expected one of {ENC} (unknown encoder)"),
    (("students", "encoder"), 5, B + f"model.encoder=5 is not allowed: expected one of {ENC} (unknown encoder)"),
    (("students", "size"), "huge", B + "model.size='huge' is not allowed: expected one of tiny, small, paper for a student"),
    (("students", "train", "epochs"), "ten", B + "train.epochs='ten' is not allowed: expected an integer >= 1"),
    (("students", "train", "batch_size"), 0, B + "train.batch_size=0 is not allowed: expected an integer >= 1"),
    (("students", "train", "lr"), "fast", B + "train.lr='fast' is not allowed: expected a number > 0"),
    (("students", "train", "grad_clip"), "none",
     B + "train.grad_clip='none' is not allowed: expected a number >= 0 (0 or null: no clipping)"),
    (("students", "train", "betas"), [0.9], B + "train.betas=[0.9] is not allowed: expected [beta1, beta2]"),
    (("students", "train", "weight_decay"), -1, B + "train.weight_decay=-1 is not allowed: expected a number >= 0"),
    (("students", "train", "div_factor"), 0, B + "train.div_factor=0 is not allowed: expected a number > 0"),
    (("students", "train", "threads"), -2, B + "train.threads=-2 is not allowed: expected an integer >= 0"),
    (("students", "train", "channels_last"), "yes", B + "train.channels_last='yes' is not allowed: expected true or false"),
    (("students", "train", "device"), "tpu", B + "train.device='tpu' is not allowed: expected 'auto', 'cpu', 'cuda' or 'cuda:N'"),
    (("students", "pretrained"), True, B + "model.pretrained=True is not allowed: expected false or the path of a local weights file (tiekd never downloads"),
    (("teachers", "pretrained"), "/nonexistent/w.pth",
     T + "model.pretrained='/nonexistent/w.pth' is not allowed: expected an existing weights file (.safetensors, .pth or .bin): no such file"),
    (("teachers", "families"), ["adabins", "bts", "depthformer", "unet", "dpt"],
     f"teachers (teachers/dpt/s70): model.family='dpt' is not allowed: expected one of {MODEL_FAMS} (unknown teacher)"),
    (("teachers", "families"), [], "teachers.families=[] is not allowed: expected a non-empty list of teacher families"),
    (("teachers", "size"), "huge", T + "model.size='huge' is not allowed: expected one of tiny, small, base, paper for a teacher"),
    (("teachers", "train", "epochs"), 0, T + "train.epochs=0 is not allowed: expected an integer >= 1"),
    (("teachers", "overrides"), {"dpt": {"lr": 0.1}},
     f"teachers.overrides={{'dpt': {{'lr': 0.1}}}} is not allowed: expected a mapping from teachers.families ({FAMS}) to `train` keys"),
    (("teachers", "overrides"), {"bts": {"lr": -1}}, "teachers (teachers/bts/s70): train.lr=-1 is not allowed: expected a number > 0"),
    (("backbones", "encoders"), ["resnet18", "alexnet"],
     f"backbones (backbones/alexnet-baseline/s70): model.encoder='alexnet' is not allowed: expected one of {ENC}"),
    (("backbones", "methods"), ["magic"],
     f"backbones (backbones/resnet18-adabins/s70): distill.method='magic' is not allowed: expected one of {DIST} (unknown distiller)"),
    (("ablation", "teachers"), ["midas"], f"ablation.teachers=['midas'] is not allowed: expected a list of teachers.families ({FAMS})"),
    (("ablation", "methods"), ["tiekd-magic"],
     f"ablation (ablation/adabins/tiekd-magic-s70): distill.method='tiekd-magic' is not allowed: expected one of {DIST}"),
    (("main", "methods"), ["tiekd", "kd-magic"],
     f"main (main/adabins/kd-magic-s70): distill.method='kd-magic' is not allowed: expected one of {DIST} (unknown distiller)"),
    (("aux", "methods"), ["distill-all"],
     f"aux (aux/adabins-distill-all/aux_unlabeled192-s70): distill.method='distill-all' is not allowed: expected one of {DIST}"),
    (("aux", "n_unlabeled"), -1,
     "aux (aux/adabins-reskd-ssim-si/aux_unlabeled-1-s70): distill.aux_unlabeled=-1 is not allowed: expected an integer >= 0"),
    (("aux", "teacher"), "dpt", f"aux.teacher='dpt' is not allowed: expected one of teachers.families ({FAMS})"),
    (("alpha_sweep", "teacher"), "dpt", f"alpha_sweep.teacher='dpt' is not allowed: expected one of teachers.families ({FAMS})"),
    (("sigma_sweep", "teacher"), "dpt", f"sigma_sweep.teacher='dpt' is not allowed: expected one of teachers.families ({FAMS})"),
    (("mode_sweep", "teachers"), ["dpt"], f"mode_sweep.teachers=['dpt'] is not allowed: expected a list of teachers.families ({FAMS})"),
    (("mode_sweep", "modes"), ["integral", "dense"],
     "mode_sweep (mode_sweep/adabins/modedense-s70): distill.mode='dense' is not allowed: expected one of integral, softmax"),
    (("mode_sweep", "presets"), ["authors"], "mode_sweep.presets=['authors'] is not allowed: expected a list of tiekd.losses.PRESETS (paper, released)"),
    (("distill", "preset"), "authors", "main (main/baseline/s70): distill.preset='authors' is not allowed: expected one of paper, released"),
    (("distill", "reduction"), "sum", "main (main/baseline/s70): distill.reduction='sum' is not allowed: expected one of valid, all"),
    (("spatial", "teacher"), "dpt", f"spatial.teacher='dpt' is not allowed: expected one of teachers.families ({FAMS})"),
    (("distill", "spatial"), {"gamma": 1}, "main (main/baseline/s70): distill.spatial.gamma=1 is not allowed: unknown key; expected one of "
     "alpha, beta, blocks, p_max, ramp, w_feat, w_lap, w_replace, w_si under distill.spatial"),
    (("seeds",), [70, "x"], "seeds=[70, 'x'] is not allowed: expected a non-empty list of integers"),
    (("seeds",), 70, "seeds=70 is not allowed: expected a list"),
    (("sigma_sweep", "seeds"), ["a"], "sigma_sweep.seeds=['a'] is not allowed: expected a non-empty list of integers"),
    (("backbones", "seeds"), [], "backbones.seeds=[] is not allowed: expected a non-empty list of integers"),
    (("main", "seeds"), [70, True], "main.seeds=[70, True] is not allowed: expected a non-empty list of integers"),
    (("teachers", "seed"), "x", "teachers.seed='x' is not allowed: expected an integer (the teachers' seed)"),
    (("device",), "tpu", "device='tpu' is not allowed: expected 'auto', 'cpu', 'cuda' or 'cuda:N'"),
    (("device",), 3, "device=3 is not allowed: expected 'auto', 'cpu', 'cuda' or 'cuda:N'"),
    (("workers",), 0, "workers=0 is not allowed: expected an integer >= 1 (processes per stage)"),
    (("workers",), "two", "workers='two' is not allowed: expected an integer >= 1 (processes per stage)"),
    (("dataset",), "cityscapes", "dataset='cityscapes' is not allowed: expected kitti (KITTI layout, e.g. the synthetic set) or nyu"),
]


def _set(d, path, v):
    for k in path[:-1]: d = d[k]
    d[path[-1]] = v


@pytest.mark.parametrize("path,value,expected", PROFILE_CASES, ids=[".".join(c[0]) + f"={c[1]!r}" for c in PROFILE_CASES])
def test_bad_profile_value_is_named(path, value, expected, fault_ledger):
    fault_ledger.bad_input()
    p = copy.deepcopy(DEFAULT)
    _set(p, path, value)
    with pytest.raises(ConfigError) as e:
        validate_params(p)
    assert expected in str(e.value), f"expected {expected!r} in the message, got {str(e.value)!r}"


CONFIG_CASES = [
    ({"model": {"kind": "student", "encoder": "vgg99"}}, f"model.encoder='vgg99' is not allowed: expected one of {ENC} (unknown encoder)"),
    ({"model": {"kind": "teacher", "family": "dpt"}}, f"model.family='dpt' is not allowed: expected one of {MODEL_FAMS} (unknown teacher)"),
    ({"distill": {"method": "kd-magic"}}, f"distill.method='kd-magic' is not allowed: expected one of {DIST} (unknown distiller)"),
    ({"distill": {"method": "tiekd", "sigma": 0}}, "distill.sigma=0 is not allowed: expected a number > 0"),
    ({"distill": {"method": "tiekd", "alpha": 2}}, "distill.alpha=2 is not allowed: expected a number >= 0 and <= 1"),
    ({"distill": {"method": "tiekd", "n_bins": 1}}, "distill.n_bins=1 is not allowed: expected an integer >= 2"),
    ({"data": {"d_min": 10, "d_max": 1}}, "data.d_min=10 is not allowed: expected a number < data.d_max=1"),
    ({"train": {"device": "tpu"}}, "train.device='tpu' is not allowed: expected 'auto', 'cpu', 'cuda' or 'cuda:N'"),
    ({"train": {"grad_clip": "none"}}, "train.grad_clip='none' is not allowed: expected a number >= 0 (0 or null: no clipping)"),
    ({"train": {"channels_last": "yes"}}, "train.channels_last='yes' is not allowed: expected true or false"),
    ({"model": {"kind": "student", "pretrained": True}}, "model.pretrained=True is not allowed: expected false or the path of a local weights file")]


@pytest.mark.parametrize("cfg,expected", CONFIG_CASES, ids=[c[1].split("=")[0] for c in CONFIG_CASES])
def test_bad_run_config_is_named(cfg, expected, fault_ledger):
    fault_ledger.bad_input()
    with pytest.raises(ConfigError) as e:
        validate_config(cfg)
    assert expected in str(e.value), f"expected {expected!r} in the message, got {str(e.value)!r}"


def test_unknown_profile_lists_the_known_ones(tmp_path, capsys, fault_ledger):
    fault_ledger.bad_input()
    with pytest.raises(ConfigError, match=r"profile='fastest' is not allowed: expected one of .*default.*smoke"):
        use_profile("fastest", ROOT)
    assert tiekd_profile_cli(["fastest"]) != 0


def test_a_bad_profile_stops_dvc_repro_before_any_training(tmp_path, fault_ledger):
    "`dvc repro` with a bad value fails in its first stage, in seconds, naming the key; no run folder is written."
    if not (ROOT / "data" / "synth" / "meta.json").exists():
        pytest.skip("no synthetic data: `make test` generates it first")
    fault_ledger.bad_input()
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for f in files:
        if f.startswith(("metrics/", "plots/", "paper_figures/", "reports/")) or not (ROOT / f).exists(): continue
        (tmp_path / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, tmp_path / f)
    shutil.copytree(ROOT / "data", tmp_path / "data", dirs_exist_ok=True)   # data/synth.dvc came with the tracked files
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    p = yaml.safe_load((ROOT / "profiles" / "smoke.yaml").read_text())
    p["distill"]["sigma"] = 0.0
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(p, sort_keys=False))
    bin_ = Path(sys.executable).parent
    env = {**os.environ, "TIEKD_ROOT": str(tmp_path), "PATH": f"{bin_}:{os.environ['PATH']}"}
    t0 = time.time()
    r = subprocess.run([str(bin_ / "dvc"), "repro"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    secs = time.time() - t0
    out = r.stdout + r.stderr
    assert r.returncode != 0, out[-3000:]
    assert "failed to reproduce 'prepare'" in out, out[-3000:]
    assert "distill.sigma=0.0 is not allowed: expected a number > 0" in out, out[-3000:]
    assert not (tmp_path / "artifacts" / "runs").exists() and not (tmp_path / "artifacts" / "prepared").exists()
    assert secs < 90, f"took {secs:.0f} s"
