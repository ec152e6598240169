"The recipe protocol's pieces (bench/recipe.py): whole drives held out, and the choice rule on hand-made scores."
import importlib.util
from pathlib import Path

import pytest
import torch

from tiekd.data import PreparedSplit

_spec = importlib.util.spec_from_file_location("recipe", Path(__file__).resolve().parents[1] / "bench" / "recipe.py")
recipe = importlib.util.module_from_spec(_spec); _spec.loader.exec_module(recipe)


def _split(drives=5, per=3):
    names = [f"2000_01_01/2000_01_01_drive_{d:04d}_sync/image_02/data/{i:010d}" for d in range(1, drives + 1) for i in range(per)]
    n = len(names)
    return PreparedSplit(torch.zeros(n, 3, 2, 2, dtype=torch.uint8), torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 2, 2).clone(),
                         torch.ones(n), names)


def test_split_by_drive_holds_out_whole_drives():
    s = _split()
    tr, va, held = recipe.split_by_drive(s, 2, seed=0)
    assert len(held) == 2 and len(va) == 6 and len(tr) == 9
    assert {recipe.drive_of(n) for n in va.names} == set(held)
    assert not {recipe.drive_of(n) for n in tr.names} & set(held)
    assert sorted(tr.names + va.names) == sorted(s.names)
    # the samples travel with their depth: the depth value is the sample's index in the original split
    for part in (tr, va):
        assert [s.names[int(v)] for v in part.depth[:, 0, 0, 0]] == part.names
    assert recipe.split_by_drive(s, 2, seed=0)[2] == held            # deterministic
    with pytest.raises(SystemExit, match="--val-drives=5 is not allowed: expected 1 .. 4 of the 5 drives"):
        recipe.split_by_drive(s, 5)


def test_choose_prefers_the_shortest_schedule_within_one_std():
    rows = [dict(lr=1e-3, epochs=6, n=2, abs_rel=0.200, abs_rel_std=0.010),
            dict(lr=3e-3, epochs=4, n=2, abs_rel=0.205, abs_rel_std=0.004),     # within 0.010 of the best: shorter
            dict(lr=3e-3, epochs=2, n=2, abs_rel=0.260, abs_rel_std=0.004),     # too far
            dict(lr=1e-3, epochs=4, n=2, abs_rel=0.209, abs_rel_std=0.004)]     # within, same length, but worse? lr decides
    assert recipe.choose(rows) == rows[3]                                       # 4 epochs, smaller lr
    rows[3]["abs_rel"] = 0.2101                                                 # now outside 0.200 + 0.010
    assert recipe.choose(rows) == rows[1]
    one_seed = [dict(lr=1e-3, epochs=8, n=1, abs_rel=0.150, abs_rel_std=0.0),
                dict(lr=3e-3, epochs=4, n=1, abs_rel=0.1529, abs_rel_std=0.0)]  # within 2 % of 0.150
    assert recipe.choose(one_seed) == one_seed[1]
