"""Tests for pruning_utils.imp: sparsity schedule, nested masks, rewinding
variants, and bitwise-identical resume after an interruption."""

import os

import pytest
import torch

from pruning_utils.data import load_dataset
from pruning_utils.imp import IMPConfig, imp_sparsities, load_round, run_imp
from pruning_utils.masks import dense_state_dict
from pruning_utils.models import build_model
from pruning_utils.train import Callback, TrainConfig, lr_at, train


SYN = dict(n=256, dim=20, classes=4, separation=3.0, seed=0)
N_WEIGHTS = 20 * 32 + 32 * 16 + 16 * 4
TCFG = TrainConfig(epochs=2, batch_size=32, lr=0.05, momentum=0.9, weight_decay=5e-4, seed=0)
ICFG = IMPConfig(rounds=3, prune_fraction=0.2)
SPE = 256 // 32
TOTAL = TCFG.epochs * SPE


def model(seed=0):
    return build_model("mlp", input_shape=(1, 1, 20), hidden=(32, 16), num_classes=4, seed=seed)


@pytest.fixture(scope="module")
def data():
    return load_dataset("synthetic", **SYN), load_dataset("synthetic", train=False, **SYN)


@pytest.fixture(scope="module")
def baseline(data, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("imp_baseline")
    tr, te = data
    return run_imp(model(), tr, te, TCFG, ICFG, run_dir=run_dir), run_dir


class Recorder(Callback):
    """Counts training runs; keeps each run's starting step, starting weights and LRs."""

    def __init__(self, fail_in_run=None, fail_at_step=None):
        self.starts, self.start_steps, self.start_states, self.lrs = 0, [], [], []
        self.fail_in_run, self.fail_at_step = fail_in_run, fail_at_step

    def on_train_start(self, s):
        self.starts += 1
        self.start_steps.append(s.step)
        self.start_states.append(dense_state_dict(s.model))
        self.lrs.append([])

    def on_step_end(self, s):
        self.lrs[-1].append(s.lr)
        if self.starts == self.fail_in_run and s.step >= self.fail_at_step:
            raise RuntimeError("simulated interruption")


def assert_same_result(a, b):
    assert a["rounds"] == b["rounds"]  # metrics compared exactly (floats equal bitwise)
    assert len(a["masks"]) == len(b["masks"])
    for ma, mb in zip(a["masks"], b["masks"]):
        assert ma.keys() == mb.keys() and all(torch.equal(ma[k], mb[k]) for k in ma)
    for key in ("rewind_state", "dense_state", "init_state"):
        assert a[key].keys() == b[key].keys()
        assert all(torch.equal(a[key][k], b[key][k]) for k in a[key])


# ---------------------------------------------------------------------------


def test_imp_sparsities():
    assert imp_sparsities(3, 0.2) == pytest.approx([0.0, 0.2, 0.36, 0.488])
    assert imp_sparsities(0, 0.5) == [0.0]
    s = imp_sparsities(10, 0.5)
    assert len(s) == 11 and s[-1] == pytest.approx(1 - 2 ** -10)


def test_sparsity_schedule_and_nested_masks(baseline):
    res, _ = baseline
    assert [m["round"] for m in res["rounds"]] == [0, 1, 2, 3]
    for r, (metrics, masks) in enumerate(zip(res["rounds"], res["masks"])):
        target = 1 - (1 - 0.2) ** r
        assert metrics["target_sparsity"] == pytest.approx(target)
        removed = sum(int((~m).sum()) for m in masks.values())
        assert removed == round(target * N_WEIGHTS)
        assert metrics["kept"] == N_WEIGHTS - removed
        assert abs(metrics["sparsity"] - target) <= 0.5 / N_WEIGHTS + 1e-12
        assert 0.0 <= metrics["test_accuracy"] <= 1.0
        assert metrics["test_accuracy"] > 0.5  # chance is 0.25; 49% sparsity still learns this task
        assert list(masks) == ["0.weight", "2.weight", "4.weight"]
        assert all(m.dtype == torch.bool for m in masks.values())
    for prev, cur in zip(res["masks"], res["masks"][1:]):
        for k in cur:
            assert not bool((cur[k] & ~prev[k]).any()), "masks are not nested"
            assert int(cur[k].sum()) <= int(prev[k].sum())
    # round r's kept weights are the largest trained weights of round r-1 among those kept
    r1_state = load_round(baseline[1], 0)["state"]
    mags = torch.cat([r1_state[k].abs().flatten() for k in res["masks"][1]])
    keep = torch.cat([res["masks"][1][k].flatten() for k in res["masks"][1]])
    assert mags[keep].min() >= mags[~keep].max()


def test_round_files(baseline):
    res, run_dir = baseline
    names = sorted(p.name for p in run_dir.iterdir())
    assert names == ["config.json", "rewind.pt", "round_000.pt", "round_001.pt", "round_002.pt", "round_003.pt"]
    for r in range(4):
        saved = load_round(run_dir, r)
        assert saved["round"] == r
        assert saved["metrics"] == res["rounds"][r]
        assert all(torch.equal(saved["masks"][k], res["masks"][r][k]) for k in saved["masks"])
        # the saved state is the trained, masked network in the dense layout
        for k, m in saved["masks"].items():
            assert bool((saved["state"][k][~m] == 0).all())


def test_model_not_modified_and_no_run_dir_same(data, baseline):
    tr, te = data
    net = model()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    res = run_imp(net, tr, te, TCFG, ICFG)
    after = net.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert_same_result(res, baseline[0])


def test_interrupt_and_resume_bitwise(data, baseline, tmp_path):
    tr, te = data
    run_dir = tmp_path / "run"
    fail = Recorder(fail_in_run=3, fail_at_step=5)  # run 3 = round 2
    with pytest.raises(RuntimeError, match="simulated interruption"):
        run_imp(model(), tr, te, TCFG, ICFG, run_dir=run_dir, callbacks=[fail])
    assert fail.starts == 3
    assert (run_dir / "round_000.pt").exists() and (run_dir / "round_001.pt").exists()
    assert not (run_dir / "round_002.pt").exists()
    assert not list(run_dir.glob("*.tmp"))
    # stamp the finished rounds with an old time: a rewrite would change it
    old = 1_000_000_000_000_000_000
    stamped = [run_dir / "round_000.pt", run_dir / "round_001.pt", run_dir / "rewind.pt"]
    contents = [p.read_bytes() for p in stamped]
    for p in stamped:
        os.utime(p, ns=(old, old))

    rec, seen = Recorder(), []
    res = run_imp(model(), tr, te, TCFG, ICFG, run_dir=run_dir, callbacks=[rec], on_round=seen.append)
    assert rec.starts == 2  # only rounds 2 and 3 were trained
    assert rec.start_steps == [0, 0]
    assert [m["round"] for m in seen] == [0, 1, 2, 3]  # loaded rounds are reported too
    for p, c in zip(stamped, contents):
        assert p.stat().st_mtime_ns == old
        assert p.read_bytes() == c
    assert_same_result(res, baseline[0])
    for r in range(4):
        a, b = load_round(run_dir, r), load_round(baseline[1], r)
        assert a["metrics"] == b["metrics"]
        assert all(torch.equal(a["state"][k], b["state"][k]) for k in a["state"])
        assert all(torch.equal(a["masks"][k], b["masks"][k]) for k in a["masks"])

    # a finished run trains nothing when called again, and can be extended by more rounds
    rec = Recorder()
    again = run_imp(model(), tr, te, TCFG, ICFG, run_dir=run_dir, callbacks=[rec])
    assert rec.starts == 0
    assert_same_result(again, baseline[0])
    rec = Recorder()
    more = run_imp(model(), tr, te, TCFG, ICFG.replace(rounds=4), run_dir=run_dir, callbacks=[rec])
    assert rec.starts == 1
    assert more["rounds"][:4] == baseline[0]["rounds"]
    assert more["rounds"][4]["target_sparsity"] == pytest.approx(1 - 0.8 ** 4)


def test_interrupt_during_round_0(data, baseline, tmp_path):
    tr, te = data
    run_dir = tmp_path / "run0"
    with pytest.raises(RuntimeError):
        run_imp(model(), tr, te, TCFG, ICFG, run_dir=run_dir, callbacks=[Recorder(1, 3)])
    assert not (run_dir / "round_000.pt").exists()
    res = run_imp(model(), tr, te, TCFG, ICFG, run_dir=run_dir)
    assert_same_result(res, baseline[0])


@pytest.mark.parametrize("change", [
    dict(imp_config=ICFG.replace(prune_fraction=0.3)),
    dict(imp_config=ICFG.replace(scope="layerwise")),
    dict(train_config=TCFG.replace(lr=0.04)),
    dict(model=model(seed=1)),
    dict(train_data=load_dataset("synthetic", **{**SYN, "n": 224})),
    # same size, other contents: must not resume silently
    dict(train_data=load_dataset("synthetic", **{**SYN, "seed": 5})),
    dict(test_data=load_dataset("synthetic", train=False, **{**SYN, "seed": 5})),
    dict(scores_fn=lambda m: {n: w.abs() + 1 for n, w in dense_state_dict(m).items() if n.endswith("weight")}),
])
def test_run_dir_with_other_config(data, baseline, change):
    tr, te = data
    args = dict(model=model(), train_data=tr, test_data=te, train_config=TCFG, imp_config=ICFG)
    args.update(change)
    rec = Recorder()
    with pytest.raises(ValueError, match="run_dir"):
        run_imp(**args, run_dir=baseline[1], callbacks=[rec])
    assert rec.starts == 0


# ---------------------------------------------------------------------------
# rewinding variants


def _check_masks(res, rounds, scope="global"):
    assert len(res["masks"]) == rounds + 1
    for r, masks in enumerate(res["masks"]):
        t = 1 - 0.8 ** r
        if scope == "global":
            assert sum(int((~m).sum()) for m in masks.values()) == round(t * N_WEIGHTS)
        else:
            for m in masks.values():
                assert int((~m).sum()) == round(t * m.numel())
        if r:
            assert all(not bool((masks[k] & ~res["masks"][r - 1][k]).any()) for k in masks)


def test_weight_rewinding_to_step_k(data):
    tr, te = data
    k = 5
    rec = Recorder()
    res = run_imp(model(), tr, te, TCFG, ICFG.replace(rounds=2, rewind_step=k), callbacks=[rec])
    _check_masks(res, 2)
    # the rewind state is the dense run's weights after k steps
    ref = model()
    train(ref, tr, TCFG, stop_step=k)
    ref_state = ref.state_dict()
    assert all(torch.equal(res["rewind_state"][n], ref_state[n]) for n in ref_state)
    assert not torch.equal(res["rewind_state"]["0.weight"], res["init_state"]["0.weight"])
    # every pruned round starts at step k from the rewound weights, masked
    assert rec.start_steps == [0, k, k]
    for r in (1, 2):
        start, masks = rec.start_states[r], res["masks"][r]
        for n, v in res["rewind_state"].items():
            expected = v * masks[n] if n in masks else v
            assert torch.equal(start[n], expected), n
        assert rec.lrs[r] == [lr_at(TCFG, s, SPE) for s in range(k, TOTAL)]
        assert len(rec.lrs[r]) == TOTAL - k


def test_rewind_step_zero_is_init(data, baseline):
    assert all(torch.equal(baseline[0]["rewind_state"][n], v) for n, v in baseline[0]["init_state"].items())


def test_lr_rewinding_without_weight_rewinding(data, tmp_path):
    tr, te = data
    k = 3
    rec = Recorder()
    cfg = TCFG.replace(schedule="cosine")
    res = run_imp(model(), tr, te, cfg, ICFG.replace(rounds=2, rewind_step=k, rewind_weights=False),
                  run_dir=tmp_path, callbacks=[rec])
    _check_masks(res, 2)
    for r in (1, 2):
        prev = load_round(tmp_path, r - 1)["state"]
        masks = res["masks"][r]
        for n, v in prev.items():
            expected = v * masks[n] if n in masks else v
            assert torch.equal(rec.start_states[r][n], expected), n
        assert rec.lrs[r] == [lr_at(cfg, s, SPE) for s in range(k, TOTAL)]
    assert rec.start_steps == [0, k, k]


def test_fine_tuning_no_lr_rewind(data):
    tr, te = data
    k = 4
    rec = Recorder()
    cfg = TCFG.replace(schedule="cosine", warmup_epochs=0.5)
    res = run_imp(model(), tr, te, cfg,
                  ICFG.replace(rounds=2, rewind_step=k, rewind_weights=False, rewind_lr=False),
                  callbacks=[rec])
    _check_masks(res, 2)
    final = lr_at(cfg, TOTAL - 1, SPE)
    assert 0 < final < cfg.lr
    for r in (1, 2):
        assert rec.lrs[r] == [final] * (TOTAL - k)
    assert rec.lrs[0] == [lr_at(cfg, s, SPE) for s in range(TOTAL)]
    for m in res["rounds"]:
        assert 0.0 <= m["test_accuracy"] <= 1.0 and m["test_loss"] > 0


def test_layerwise_scope(data):
    tr, te = data
    res = run_imp(model(), tr, te, TCFG, ICFG.replace(rounds=2, scope="layerwise"))
    _check_masks(res, 2, scope="layerwise")


def test_on_round_and_custom_scores(data):
    tr, te = data
    seen = []

    def reverse_magnitude(net):
        from pruning_utils.scores import magnitude_scores
        return {n: -s for n, s in magnitude_scores(net).items()}

    res = run_imp(model(), tr, te, TCFG, ICFG.replace(rounds=1), scores_fn=reverse_magnitude,
                  on_round=seen.append)
    assert seen == res["rounds"]
    # the smallest weights were kept
    dense = res["dense_state"]
    mags = torch.cat([dense[k].abs().flatten() for k in res["masks"][1]])
    keep = torch.cat([res["masks"][1][k].flatten() for k in res["masks"][1]])
    assert mags[keep].max() <= mags[~keep].min()


# ---------------------------------------------------------------------------
# validation


@pytest.mark.parametrize("field,value", [
    ("prune_fraction", 0.0), ("prune_fraction", 1.0), ("scope", "foo"), ("rounds", -1),
    ("rewind_step", -2), ("rewind_weights", "yes"), ("rewind_lr", 0),
])
def test_imp_config_bad_values(field, value):
    with pytest.raises(ValueError, match=repr(field)):
        IMPConfig(**{field: value})


def test_run_imp_bad_arguments(data):
    tr, te = data
    with pytest.raises(ValueError, match="rewind_step"):
        run_imp(model(), tr, te, TCFG, ICFG.replace(rewind_step=TOTAL + 1))
    with pytest.raises(ValueError, match=f"rewind_step' = {TOTAL} .* expected 0 <= rewind_step < {TOTAL}"):
        run_imp(model(), tr, te, TCFG, ICFG.replace(rewind_step=TOTAL))   # nothing left to retrain
    with pytest.raises(ValueError, match="train_config"):
        run_imp(model(), tr, te, {"epochs": 1}, ICFG)
    with pytest.raises(ValueError, match="imp_config"):
        run_imp(model(), tr, te, TCFG, {"rounds": 1})


def test_scores_that_ignore_masks_still_nested(data):
    """Random scores rank already-removed weights like any other: ``current=`` must keep them out."""
    from pruning_utils.scores import random_scores

    tr, te = data
    seeds = iter(range(100))  # fresh scores every round
    res = run_imp(model(), tr, te, TCFG, ICFG.replace(rounds=3),
                  scores_fn=lambda net: random_scores(net, next(seeds)))
    _check_masks(res, 3)


def test_every_round_keeps_its_learning_curve(data, baseline):
    """TCFG evaluates every epoch: each round's curve has one point per epoch, ends at the round's accuracy,
    and is kept through a resume (the baseline's rounds reloaded from its folder)."""
    tr, te = data
    for res in (baseline[0], run_imp(model(), tr, te, TCFG, ICFG, run_dir=baseline[1])):
        for row in res["rounds"]:
            assert row["curve"]["epoch"] == [1.0, 2.0]
            assert row["curve"]["test_accuracy"][-1] == pytest.approx(row["test_accuracy"])
    once = run_imp(model(), tr, te, TCFG.replace(eval_every=0), ICFG.replace(rounds=1))
    assert [len(r["curve"]["epoch"]) for r in once["rounds"]] == [1, 1]   # only after the last epoch
