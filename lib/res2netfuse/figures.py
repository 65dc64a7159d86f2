"""The artifact's figures, drawn from data the stages computed: each function returns a matplotlib ``Figure``.

Pure drawing: arrays and tidy tables in, a figure with labelled axes (units in brackets) out; the
notebooks compute, call one function, and save it with :func:`res2netfuse.report.save_figure`. Per-point
plots use swarm plots (deterministic: seaborn's strip jitter draws from numpy's global RNG).

=============================== ===========================================================
figure                          shows
=============================== ===========================================================
:func:`loss_curves`             Fig. 4: training losses per iteration, stabilisation marked
:func:`image_panels`            a row of gray images with titles (training image vs output)
:func:`scale_groups`            Res2Net scale-group activations with their receptive fields
:func:`reconstruction_examples` Table III's examples: originals, reconstructions, errors
:func:`psnr_per_image`          per-image PSNR of the reconstruction models, both sets
:func:`mapping_ceiling`         PSNR of a model vs a perfect reconstruction after minmax
:func:`fusion_grid`             Fig. 5: a pair's sources and fused images, salient inset
:func:`weight_maps`             the strategies' infrared weight maps per model
:func:`per_image_distributions` metric values per image and method (box + swarm)
:func:`rank_heatmap`            rank of each method's mean per metric
=============================== ===========================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from scipy.ndimage import uniform_filter


def loss_curves(losses: pd.DataFrame, stable: int, titles: Mapping[str, str]) -> Figure:
    """One log-scale panel per loss column in ``titles`` (column -> title) against ``losses.iteration``,
    with the stabilisation iteration ``stable`` marked."""
    fig, axes = plt.subplots(1, len(titles), figsize=(14 / 3 * len(titles), 3.8), squeeze=False)
    for ax, (col, title) in zip(axes[0], titles.items()):
        ax.plot(losses["iteration"], losses[col], lw=0.8)
        ax.set_yscale("log")
        ax.axvline(stable, ls="--", c="gray", lw=0.8, label=f"stable from it. {stable}")
        ax.set(title=title, xlabel="iteration", ylabel="loss (log scale, unitless)")
        ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


def image_panels(images: Mapping[str, np.ndarray], vmax: float = 1.0) -> Figure:
    """A row of gray images (title -> array on ``[0, vmax]``), pixel axes."""
    fig, axes = plt.subplots(1, len(images), figsize=(3.5 * len(images), 3.6), squeeze=False)
    for ax, (title, image) in zip(axes[0], images.items()):
        ax.imshow(image, cmap="gray", vmin=0, vmax=vmax)
        ax.set(title=title, xlabel="x [px]", ylabel="y [px]")
    fig.tight_layout()
    return fig


def scale_groups(x: np.ndarray, groups: Sequence[np.ndarray], receptive_fields: Sequence[int], title: str) -> Figure:
    """The input ``x`` ([0, 1]) and the mean |activation| of each Res2Net scale group ``y_i``."""
    fig, axes = plt.subplots(1, len(groups) + 1, figsize=(3.2 * (len(groups) + 1), 3.4))
    axes[0].imshow(x, cmap="gray", vmin=0, vmax=1)
    axes[0].set_title("input")
    for i, (ax, g) in enumerate(zip(axes[1:], groups), start=1):
        im = ax.imshow(g, cmap="magma")
        ax.set_title(f"group y$_{i}$ (RF {receptive_fields[i - 1]} px)")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02, label="mean |activation|")
    for ax in axes:
        ax.set_xlabel("x [px]")
        ax.set_ylabel("y [px]")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def reconstruction_examples(originals: Mapping[str, np.ndarray], outputs: Mapping[str, Mapping[str, np.ndarray]],
                            psnr: Mapping[tuple[str, str], float], title: str) -> Figure:
    """Rows: images; columns: the original, each model's output (``outputs[image][model]``, [0, 1]) with its PSNR
    (``psnr[(image, model)]``), then each model's absolute error on one colour scale (capped at the 99.5th
    percentile of all errors)."""
    errors = {img: {m: np.abs(o - originals[img]) for m, o in outs.items()} for img, outs in outputs.items()}
    vmax = float(np.percentile(np.concatenate([e.ravel() for errs in errors.values() for e in errs.values()]), 99.5))
    names = list(next(iter(outputs.values())))
    ncols = 1 + 2 * len(names)
    fig, axes = plt.subplots(len(outputs), ncols, figsize=(2.9 * ncols, 2.9 * len(outputs)), squeeze=False,
                             layout="constrained")
    for row, img in zip(axes, outputs):
        row[0].imshow(originals[img], cmap="gray", vmin=0, vmax=1)
        row[0].set_title(f"{img}: original", fontsize=9)
        for j, name in enumerate(names):
            row[1 + j].imshow(outputs[img][name], cmap="gray", vmin=0, vmax=1)
            row[1 + j].set_title(f"{name} ({psnr[(img, name)]:.2f} dB)", fontsize=9)
            err_im = row[1 + len(names) + j].imshow(errors[img][name], cmap="inferno", vmin=0, vmax=vmax)
            row[1 + len(names) + j].set_title(f"|error|, {name}", fontsize=9)
    for ax in axes.flat:
        ax.label_outer()
    for ax in axes[-1]:
        ax.set_xlabel("x [px]")
    for ax in axes[:, 0]:
        ax.set_ylabel("y [px]")
    fig.colorbar(err_im, ax=axes, fraction=0.02, pad=0.01,
                 label=f"absolute error ([0, 1] scale; capped at 99.5th pct = {vmax:.3f})")
    fig.suptitle(title)
    return fig


def psnr_per_image(per_image: pd.DataFrame, first: str, second: str, title: str) -> Figure:
    """Left: per-image PSNR per test set and model (``set, image, model, PSNR``); right: model ``second``
    against model ``first`` on the same images, one marker per set."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    sns.swarmplot(data=per_image, x="set", y="PSNR", hue="model", dodge=True, ax=axes[0], size=4)
    axes[0].set(xlabel="test set", ylabel="PSNR [dB]", title=title)
    for (set_name, rows), marker in zip(per_image.groupby("set", sort=False), "o^sv"):
        wide = rows.pivot(index="image", columns="model", values="PSNR")
        axes[1].scatter(wide[first], wide[second], s=20, marker=marker, label=set_name)
    finite = per_image.PSNR[np.isfinite(per_image.PSNR)]
    lims = [float(finite.min()) - 1, float(finite.max()) + 1]
    axes[1].plot(lims, lims, "--", c="gray", lw=0.8, label="equal PSNR")
    axes[1].set(xlim=lims, ylim=lims, xlabel=f"{first} PSNR [dB]", ylabel=f"{second} PSNR [dB]",
                title="same image, both models")
    axes[1].legend()
    fig.tight_layout()
    return fig


def mapping_ceiling(ceiling: pd.Series, measured: Mapping[str, pd.Series], title: str) -> Figure:
    """Each model's per-image PSNR (``measured[model]``, indexed by image) against the PSNR of the original
    itself after the same mapping (``ceiling``): points on the diagonal are limited by the mapping."""
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for name, values in measured.items():
        ax.scatter(ceiling[values.index], values, s=20, label=name)
    everything = pd.concat([ceiling, *measured.values()])
    finite = everything[np.isfinite(everything)]
    lims = [float(pd.concat(list(measured.values())).min()) - 1, float(finite.max()) + 1]
    ax.plot(lims, lims, "--", c="gray", lw=0.8, label="limited by the mapping")
    ax.set(xlim=lims, ylim=lims, xlabel="PSNR of the mapped original [dB]", ylabel="PSNR of the mapped output [dB]",
           title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def salient_box(ir: np.ndarray, size: int) -> tuple[int, int, int]:
    """``(top, left, side)`` of the box around the most salient infrared target: centred where the mean
    intensity over a ``size/4`` window exceeds its ``size x size`` surround the most (side ``size``, at
    most the image's)."""
    size = min(size, *ir.shape)
    ir = ir.astype(float)
    contrast = uniform_filter(ir, max(size // 4, 1)) - uniform_filter(ir, size, mode="reflect")
    margin = size // 2
    contrast[:margin], contrast[-margin:], contrast[:, :margin], contrast[:, -margin:] = (-np.inf,) * 4
    y, x = np.unravel_index(np.argmax(contrast), ir.shape)
    return int(np.clip(y - size // 2, 0, ir.shape[0] - size)), int(np.clip(x - size // 2, 0, ir.shape[1] - size)), size


def fusion_grid(panels: Mapping[str, np.ndarray], box: tuple[int, int, int], title: str, cols: int = 6) -> Figure:
    """Fig. 5: one panel per image (title -> uint8 gray array), the ``(top, left, side)`` box drawn in red
    and enlarged in each panel's lower-right corner."""
    y0, x0, s = box
    rows = int(np.ceil(len(panels) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.7 * cols, 2.3 * rows), squeeze=False)
    for ax, (name, img) in zip(axes.flat, panels.items()):
        ax.imshow(img, cmap="gray", vmin=0, vmax=255)
        ax.add_patch(Rectangle((x0, y0), s, s, fill=False, ec="red", lw=1))
        inset = ax.inset_axes([0.6, 0.0, 0.4, 0.4])
        inset.imshow(img[y0:y0 + s, x0:x0 + s], cmap="gray", vmin=0, vmax=255)
        inset.set_xticks([]), inset.set_yticks([])
        for spine in inset.spines.values():
            spine.set_edgecolor("red")
        ax.set_title(name, fontsize=8)
        ax.set_xticks([]), ax.set_yticks([])
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def weight_maps(sources: Sequence[tuple[str, np.ndarray]], maps: Mapping[str, Mapping[str, np.ndarray]]) -> Figure:
    """Rows: models (``maps[model][strategy]`` = the infrared weight map on [0, 1]); the first column shows
    ``sources[row]`` = (title, [0, 1] image)."""
    strategies = list(next(iter(maps.values())))
    fig, axes = plt.subplots(len(maps), 1 + len(strategies), figsize=(4.4 * (1 + len(strategies)), 3.2 * len(maps)),
                             sharex=True, sharey=True, squeeze=False)
    for row, (model, by_strategy) in enumerate(maps.items()):
        title, image = sources[row % len(sources)]
        axes[row, 0].imshow(image, cmap="gray", vmin=0, vmax=1)
        axes[row, 0].set_title(title, fontsize=9)
        for col, (strategy, w_a) in enumerate(by_strategy.items(), start=1):
            im = axes[row, col].imshow(w_a, cmap="magma", vmin=0, vmax=1)
            axes[row, col].set_title(f"{model} {strategy}: $w_A$ (mean {w_a.mean():.2f})", fontsize=9)
    for ax in axes.flat:
        ax.set(xlabel="x [px]", ylabel="y [px]")
        ax.label_outer()
    fig.colorbar(im, ax=axes, shrink=0.8, label="weight of the infrared source $w_A$ (0-1)")
    return fig


def per_image_distributions(scores: pd.DataFrame, metrics: Sequence[str], title: str) -> Figure:
    """Per-image values (``method, image`` and one column per metric): a box and the points per method,
    one panel per metric."""
    long = scores.melt(id_vars=["method", "image"], value_vars=list(metrics), var_name="metric")
    grid = sns.catplot(data=long, x="value", y="method", col="metric", col_wrap=3, kind="box", sharex=False,
                       height=3.2, aspect=1.2, color="0.85", fliersize=0)
    grid.map_dataframe(sns.swarmplot, x="value", y="method", size=2, color="C0", alpha=0.6)
    grid.set_axis_labels("metric value (unitless)", "method")
    grid.figure.suptitle(title, y=1.02)
    return grid.figure


def rank_heatmap(ranks: pd.DataFrame, title: str, metric_label: str = "metric") -> Figure:
    """Ranks (rows: methods, columns: metrics; 1 = best) as an annotated heat map."""
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(ranks) + 1.5))
    sns.heatmap(ranks, annot=True, fmt=".0f", cmap="viridis_r", cbar_kws={"label": "rank (1 = best)"}, ax=ax)
    ax.set_xlabel(metric_label)
    ax.set_ylabel("method")
    ax.set_title(title)
    return fig
