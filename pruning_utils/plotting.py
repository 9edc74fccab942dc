"""One house style for every figure in the book."""

from __future__ import annotations

import matplotlib as mpl


__all__ = ["use_style", "METHOD_STYLE", "WINDOW_COLORS", "remaining_axis", "dense_lines", "learning_curves"]

# One colour and marker per method, the same in every chapter.
METHOD_STYLE = {
    "dense": {"color": "black", "marker": "", "label": "dense"},
    "imp": {"color": "#1b6ca8", "marker": "o", "label": "IMP (rewind)"},
    "oneshot": {"color": "#e08a00", "marker": "s", "label": "one-shot magnitude"},
    "random": {"color": "#8c8c8c", "marker": "^", "label": "random"},
    "kmp": {"color": "#2a9d8f", "marker": "D", "label": "KMP"},
    "gmp": {"color": "#1b6ca8", "marker": "o", "label": "GMP"},
    "kgp": {"color": "#e76f51", "marker": "v", "label": "KGP"},
    "gp": {"color": "#8c8c8c", "marker": "^", "label": "GP"},
    "mst_imp": {"color": "#2a9d8f", "marker": "D", "label": "MST-preserving IMP"},
}

# Windows of training (early, mid, late), the same in every chapter.
WINDOW_COLORS = {"early": "#d1495b", "mid": "#edae49", "late": "#00798c"}


def use_style():
    """Apply the book's matplotlib style (call once per notebook)."""
    mpl.rcParams.update({
        "figure.figsize": (6.4, 4.0), "figure.dpi": 110, "savefig.dpi": 150,
        "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False,
        "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9, "legend.frameon": False,
        "lines.linewidth": 1.6, "lines.markersize": 4.5,
    })


def remaining_axis(ax, sparsities):
    """Put "percent of weights remaining" on a log x-axis, denser networks on the left."""
    remaining = [100.0 * (1.0 - s) for s in sparsities]
    ax.set_xscale("log")
    ax.invert_xaxis()
    ticks = [100, 50, 20, 10, 5, 2, 1, 0.5, 0.2, 0.1]
    lo = min(remaining)
    ax.set_xticks([t for t in ticks if t >= lo * 0.8])
    ax.get_xaxis().set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("weights remaining (%)")
    return remaining



def dense_lines(ax, dense_percent: float, tolerance_points: float):
    """The dense network's accuracy (solid) and the tolerance band's floor (dashed)."""
    ax.axhline(dense_percent, color="black", lw=0.8, label=f"dense ({dense_percent:.1f}%)")
    ax.axhline(dense_percent - tolerance_points, color="black", lw=0.8, ls="--",
               label=f"dense - {tolerance_points:g} point")


def learning_curves(ax, per_seed, color="black", label=None):
    """Test accuracy (%) against epoch: each seed's curve thin, their mean thick (``per_seed``: one list of test
    accuracies, fractions, one per epoch, per seed; all of one length). Where training has settled the mean
    stays flat to the right. Returns the mean curve in percent."""
    import numpy as np

    msg = "parameter 'per_seed' must hold one non-empty accuracy list per seed, all of one length"
    try:
        acc = 100 * np.asarray(per_seed, dtype=float)
    except ValueError:
        raise ValueError(msg) from None
    if acc.ndim != 2 or acc.shape[1] == 0:
        raise ValueError(msg)
    epochs = np.arange(1, acc.shape[1] + 1)
    for row in acc:
        ax.plot(epochs, row, color=color, alpha=0.3, lw=0.8)
    mean = acc.mean(0)
    ax.plot(epochs, mean, color=color, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    return mean
