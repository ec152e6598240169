"""Bad parameters, each caught before any work starts with an error naming the key, the value and what is allowed:
through a whole profile (`tiekd.pipeline.validate_params`, what the `prepare` stage runs first), through one run's
config (`tiekd.train.validate_config`) and through the profile switch."""
import copy
from pathlib import Path

import pytest
import yaml

from tiekd.core import ConfigError
from tiekd.pipeline import tiekd_profile_cli, use_profile, validate_params
from tiekd.train import validate_config

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = yaml.safe_load((ROOT / "profiles" / "default.yaml").read_text())

# (path in the profile, bad value, a fragment the message must contain besides key and value)
PROFILE_CASES = [
    (("distill", "sigma"), 0.0, "expected"), (("distill", "sigma"), -1.0, "expected"),
    (("distill", "alpha"), 1.5, "expected"), (("distill", "alpha"), -0.1, "expected"),
    (("alpha_sweep", "values"), [0.1, 2.0], "expected"), (("sigma_sweep", "values"), [0.5, 0.0], "expected"),
    (("distill", "n_bins"), 1, "expected"), (("distill", "n_bins"), 64.5, "integer"),
    (("distill", "mode"), "dense", "integral"),
    (("data", "d_min"), 80.0, "d_max"), (("data", "d_max"), -5.0, "expected"),
    (("students", "encoder"), "vgg99", "expected"), (("backbones", "encoders"), ["resnet18", "alexnet"], "expected"),
    (("teachers", "families"), ["adabins", "dpt"], "expected"), (("ablation", "teachers"), ["midas"], "expected"),
    (("main", "methods"), ["tiekd", "kd-magic"], "expected"), (("aux", "methods"), ["distill-all"], "expected"),
    (("students", "train", "epochs"), "ten", "integer"), (("students", "train", "batch_size"), 0, "expected"),
    (("students", "train", "lr"), "fast", "number"), (("seeds",), [70, "x"], "integers"), (("seeds",), 70, "list"),
    (("data", "size"), [32], "two integers"), (("data", "size"), "32x104", "two integers"),
    (("workers",), 0, "expected"), (("workers",), "two", "expected"), (("dataset",), "cityscapes", "kitti"),
]


def _set(d, path, v):
    for k in path[:-1]: d = d[k]
    d[path[-1]] = v


@pytest.mark.parametrize("path,value,fragment", PROFILE_CASES, ids=[".".join(c[0]) + f"={c[1]!r}" for c in PROFILE_CASES])
def test_bad_profile_value_is_named(path, value, fragment, fault_ledger):
    fault_ledger.bad_input()
    p = copy.deepcopy(DEFAULT)
    _set(p, path, value)
    with pytest.raises(ConfigError) as e:
        validate_params(p)
    msg = str(e.value)
    bad = value[-1] if isinstance(value, list) else value
    assert path[0] in msg or ".".join(path[1:]) in msg, msg   # the key: its profile section or the run config key
    assert str(bad) in msg, msg                   # the value
    assert fragment in msg and "not allowed" in msg, msg   # what is allowed


CONFIG_CASES = [({"model": {"kind": "student", "encoder": "vgg99"}}, "vgg99"),
                ({"model": {"kind": "teacher", "family": "dpt"}}, "dpt"),
                ({"distill": {"method": "kd-magic"}}, "kd-magic"),
                ({"distill": {"method": "tiekd", "sigma": 0}}, "sigma"),
                ({"distill": {"method": "tiekd", "alpha": 2}}, "alpha"),
                ({"distill": {"method": "tiekd", "n_bins": 1}}, "n_bins"),
                ({"data": {"d_min": 10, "d_max": 1}}, "d_min"),
                ({"train": {"device": "tpu"}}, "device"),
                ({"train": {"grad_clip": "none"}}, "grad_clip")]


@pytest.mark.parametrize("cfg,key", CONFIG_CASES, ids=[c[1] for c in CONFIG_CASES])
def test_bad_run_config_is_named(cfg, key, fault_ledger):
    fault_ledger.bad_input()
    with pytest.raises(ConfigError, match=key):
        validate_config(cfg)


def test_unknown_profile_lists_the_known_ones(tmp_path, capsys, fault_ledger):
    fault_ledger.bad_input()
    with pytest.raises(ConfigError, match=r"profile='fastest' is not allowed: expected one of .*default.*smoke"):
        use_profile("fastest", ROOT)
    assert tiekd_profile_cli(["fastest"]) != 0


def test_channels_last_must_be_a_bool(fault_ledger):
    fault_ledger.bad_input()
    with pytest.raises(ConfigError) as e:
        validate_config({"train": {"channels_last": "yes"}})
    assert "train.channels_last='yes' is not allowed: expected true or false" in str(e.value), str(e.value)
