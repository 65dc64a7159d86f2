"""The metric registry and :func:`evaluate`: input checks, the paper's input convention, shared work.

Input (all metrics): ``a`` = infrared, ``b`` = visible, ``f`` = fused; 2-D arrays of equal size on
the **[0, 255] scale** -- ``uint8`` (recommended: what ``imread`` gives the toolbox and what
:func:`res2netfuse.io.load_gray_uint8` returns) or float, used as is (not rescaled); values
outside [0, 255] or non-finite values are refused. Images must be at least :data:`MIN_SIDE` px
on each side (MEF-SSIM's three scales with an 11x11 window).

Convention (``convention=``): ``"paper"`` (default) = the paper's wrapper ``analysis_Reference.m``,
which gives ``im2double`` ([0, 1]) images to Q_abf and N_abf (and to FMI, SCD, SSIM, which are
scale-free or use the matching dynamic range, so their values do not change) and the raw
[0, 255] values to MEF-SSIM and MI. ``"toolbox"`` = every toolbox function on [0, 255] values,
the range their own headers document; it changes Q_abf slightly (its exact-equality quirks;
0.41359 vs 0.41306 on TNO 01 / DenseFuse) and N_abf a lot (its threshold Td = 2 grey levels never
fires on [0, 1]: 1.03e-4 vs 1.22e-3). The other nine metrics are not in the wrapper; they always
get [0, 255] values.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import gradient, information, statistics, structural, vif
from ._common import CONVENTIONS, Convention, Triple

PAPER_METRICS = ("SSIM_a", "Qabf", "FMI_dct", "FMI_w", "SCD", "MS_SSIM")
ALL_METRICS = PAPER_METRICS + ("EN", "SD", "SF", "AG", "MI", "VIF", "PSNR", "CC", "Nabf")
EXTRA_METRICS = ("SSIM_a_wang",)  # accepted by evaluate, not part of the tables
HIGHER_IS_BETTER = {m: m != "Nabf" for m in ALL_METRICS + EXTRA_METRICS}
MIN_SIDE = 44


def _edge_scale(t: Triple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The images Q_abf / N_abf see: [0, 1] under the paper's convention, else [0, 255]."""
    return t.unit if t.convention == "paper" else (t.a, t.b, t.f)


# FMI_dct and FMI_w (information.FEATURES) are started by evaluate on worker threads
_METRICS: dict[str, Callable[[Triple], float]] = {
    "SSIM_a": structural.ssim_a,
    "Qabf": lambda t: gradient.qabf(*_edge_scale(t)),
    "SCD": lambda t: statistics.scd(t.a, t.b, t.f),
    "MS_SSIM": structural.mef_ssim_triple,
    "EN": lambda t: information.entropy(t.f),
    "SD": lambda t: statistics.standard_deviation(t.f),
    "SF": lambda t: statistics.spatial_frequency(t.f),
    "AG": lambda t: statistics.average_gradient(t.f),
    "MI": lambda t: information.mutual_information(t.a, t.f) + information.mutual_information(t.b, t.f),
    "VIF": lambda t: vif.vif(t.a, t.b, t.f),
    "PSNR": lambda t: statistics.psnr_toolbox(t.a, t.b, t.f),
    "CC": lambda t: statistics.cc_toolbox(t.a, t.b, t.f),
    "Nabf": lambda t: gradient.nabf(*_edge_scale(t)),
    "SSIM_a_wang": structural.ssim_a_wang,
}


def check_image(x: np.ndarray, name: str) -> np.ndarray:
    """``x`` as a float64 [0, 255] gray image, or ``ValueError`` naming ``name`` and the problem."""
    arr = np.asarray(x)
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D gray image, got shape {arr.shape} "
                         "(convert RGB with res2netfuse.io.rgb_to_gray_uint8 / load_gray_uint8)")
    if arr.dtype == np.uint8:
        return arr.astype(np.float64)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name}: unsupported pixel type {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    if arr.min() < 0 or arr.max() > 255:
        raise ValueError(f"{name}: values outside [0, 255] (min {arr.min():g}, max {arr.max():g}); "
                         "the metrics expect the [0, 255] scale")
    return arr


def check_names(metrics: Sequence[str], convention: str) -> tuple[str, ...]:
    """The requested metric names, or ``ValueError`` for unknown ones or an unknown convention."""
    if isinstance(metrics, str):
        raise ValueError(f"metrics must be a sequence of names, not the string {metrics!r}")
    unknown = [m for m in metrics if m not in _METRICS and m not in information.FEATURES]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; choose from {list(ALL_METRICS + EXTRA_METRICS)}")
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}; choose from {list(CONVENTIONS)}")
    return tuple(metrics)


def available_cores() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def evaluate(a: np.ndarray, b: np.ndarray, f: np.ndarray, metrics: Sequence[str] = ALL_METRICS, *,
             convention: Convention = "paper", threads: int | None = None) -> dict[str, float]:
    """Metrics of fused image ``f`` for infrared ``a`` and visible ``b`` ([0, 255] scale, see module doc).

    ``metrics`` selects a subset (e.g. :data:`PAPER_METRICS`, or ``"SSIM_a_wang"``); the result keeps
    that order. ``convention``: ``"paper"`` (``analysis_Reference.m``: Q_abf and N_abf on [0, 1]) or
    ``"toolbox"`` (every function on [0, 255]). ``threads``: the metrics (and FMI's row blocks) run
    as tasks on this many threads (default: all cores; their compiled kernels release the GIL);
    the values do not depend on it. Raises ``ValueError`` for non-2-D input, size mismatch, values off the [0, 255]
    scale, images smaller than :data:`MIN_SIDE` px, unknown metric names or convention.
    """
    names = check_names(metrics, convention)
    a, b, f = check_image(a, "A (infrared)"), check_image(b, "B (visible)"), check_image(f, "F (fused)")
    if not a.shape == b.shape == f.shape:
        raise ValueError(f"sizes differ: A {a.shape}, B {b.shape}, F {f.shape} (rows, columns)")
    if min(a.shape) < MIN_SIDE:
        raise ValueError(f"images are {a.shape}; the metrics need at least {MIN_SIDE} px per side")
    t = Triple(a, b, f, convention)
    n = max(1, threads if threads is not None else available_cores())
    fmi_names = [m for m in names if m in information.FEATURES]
    others = [m for m in names if m not in information.FEATURES]
    if n == 1 or (len(names) == 1 and not fmi_names):
        values = {m: information.fmi(t.a, t.b, t.f, information.FEATURES[m]) for m in fmi_names}
        values.update({m: _METRICS[m](t) for m in others})
    else:  # every metric a task; meanwhile this thread computes FMI's features and queues its row blocks
        with ThreadPoolExecutor(n, thread_name_prefix="metrics") as pool:
            futures = {m: pool.submit(_METRICS[m], t) for m in others}
            pending = {m: information.fmi_start(*(information.FEATURES[m](x) for x in (t.a, t.b, t.f)), pool, 2 * n)
                       for m in fmi_names}
            values = {m: finish() for m, finish in pending.items()}
            values.update({m: fut.result() for m, fut in futures.items()})
    return {m: values[m] for m in names}
