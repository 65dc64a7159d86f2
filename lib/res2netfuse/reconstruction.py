"""Image reconstruction with an encoder/decoder and the metrics of paper Table III (Sec. IV-B1).

For a reference image ``I`` and a reconstruction ``R``, both gray and in ``[0, 1]``
(paper eq. 13 and the conventions of Table III)::

    MSE  = 1 / (W H) sum_{x,y} (I(x, y) - R(x, y))^2
    PSNR = 10 log10(1 / MSE)                             [dB], peak value 1
    SSIM = mean SSIM map of Wang et al. (IEEE TIP 2004): 11x11 Gaussian window, sigma 1.5,
           K1 = 0.01, K2 = 0.03, data range 1, valid positions only (``pytorch_msssim.ssim``,
           the same SSIM as the training loss; equals scikit-image's ``structural_similarity``
           with ``gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1``).

:func:`reconstruct` runs any model with ``input_scale`` (Res2NetFuse: 1, DenseFuse: 255) on a
``[0, 1]`` image and returns the raw float output on the ``[0, 1]`` scale; mapping to 8 bits
(``minmax`` as in the authors' and DenseFuse's code, or ``clip``) is
:func:`res2netfuse.io.to_uint8`, and :func:`jpeg_round_trip` mimics the authors' JPEG saving.
"""

from __future__ import annotations

import io as _bytes_io
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image
from pytorch_msssim import ssim as _ssim
from skimage.transform import resize
from torch import nn

from .io import Mapping, to_uint8
from .progress import bar as progress_bar

SSIM_WINDOW = 11  # px; pytorch_msssim's default Gaussian window (sigma 1.5)


@dataclass(frozen=True)
class Reconstruction:
    """Raw decoder output (float32, ``[0, 1]`` scale, neither clipped nor mapped) and its run time."""

    output: np.ndarray
    seconds: float


def _check_gray(image: np.ndarray, what: str = "image") -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim != 2:
        raise ValueError(f"{what} must be a 2-D gray array, got shape {arr.shape}")
    return arr


def reconstruct(model: nn.Module, image: np.ndarray, device: str | torch.device = "cpu") -> Reconstruction:
    """``decode(encode(input_scale * x)) / input_scale`` for a 2-D float image ``x`` in ``[0, 1]``.

    ``model`` must provide ``encode``/``decode`` and ``input_scale`` and already be on ``device``.
    The time covers host-to-device copy, the forward pass and the copy back (CUDA synchronised).
    """
    x = _check_gray(image)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"reconstruct expects a float image in [0, 1], got {x.dtype} (use io.load_gray)")
    if x.size and (float(x.min()) < 0.0 or float(x.max()) > 1.0):
        raise ValueError(f"reconstruct expects an image in [0, 1], got values in [{x.min():g}, {x.max():g}]")
    x = x.astype(np.float32)
    scale = float(getattr(model, "input_scale", 1.0))
    device = torch.device(device)
    start = time.perf_counter()
    with torch.inference_mode():
        t = torch.from_numpy(x)[None, None].to(device) * scale
        out = (model.decode(model.encode(t)) / scale)[0, 0].float().cpu().numpy()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return Reconstruction(output=out, seconds=time.perf_counter() - start)


def reconstruct_all(models: dict[str, nn.Module], images: dict[str, np.ndarray], device: str | torch.device = "cpu",
                    warmup: bool = True) -> dict[str, dict[str, Reconstruction]]:
    """:func:`reconstruct` every image with every model: ``{model: {image: Reconstruction}}``.

    Models take turns on each image (a progress bar over images), so that a change of machine load
    during the run affects all models alike; with ``warmup``, each model first runs once untimed.
    """
    if warmup and images:
        first = next(iter(images.values()))
        for model in models.values():
            reconstruct(model, first, device)
    results: dict[str, dict[str, Reconstruction]] = {name: {} for name in models}
    for img_name, img in progress_bar(images.items(), desc="reconstruct", unit="img"):
        for name, model in models.items():
            results[name][img_name] = reconstruct(model, img, device)
    return results


def score_reconstructions(results: dict[str, dict[str, Reconstruction]], originals: dict[str, np.ndarray],
                          mapping: Mapping = "minmax") -> pd.DataFrame:
    """Per (image, model): Table III's :func:`scores` of the ``mapping``-mapped 8-bit output, its run time
    and the value ranges of output and original (columns ``image, model, MSE, SSIM, PSNR, seconds, ...``)."""
    return pd.DataFrame([
        {"image": img, "model": name, **scores(originals[img], mapped(r.output, mapping)), "seconds": r.seconds,
         "output_min": float(r.output.min()), "output_max": float(r.output.max()),
         "original_min": float(originals[img].min()), "original_max": float(originals[img].max())}
        for name, rs in results.items() for img, r in rs.items()
    ])


def mse(reference: np.ndarray, test: np.ndarray) -> float:
    """Mean squared error of paper eq. 13 (float64)."""
    a, b = _check_gray(reference, "reference"), _check_gray(test, "test")
    if a.shape != b.shape:
        raise ValueError(f"reference {a.shape} and test {b.shape} images differ in size")
    return float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))


def psnr(reference: np.ndarray, test: np.ndarray, data_range: float = 1.0) -> float:
    """``10 log10(data_range^2 / MSE)`` in dB; ``inf`` for identical images."""
    err = mse(reference, test)
    return float("inf") if err == 0 else float(10.0 * np.log10(data_range**2 / err))


def ssim(reference: np.ndarray, test: np.ndarray, data_range: float = 1.0) -> float:
    """Mean SSIM (Wang et al. 2004, Gaussian 11x11, sigma 1.5, valid positions), see module doc."""
    a, b = _check_gray(reference, "reference"), _check_gray(test, "test")
    if a.shape != b.shape:
        raise ValueError(f"reference {a.shape} and test {b.shape} images differ in size")
    if min(a.shape) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW} px, got {a.shape}")
    ta, tb = (torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64))[None, None] for v in (a, b))
    return float(_ssim(ta, tb, data_range=data_range, size_average=True))


def scores(reference: np.ndarray, test: np.ndarray) -> dict[str, float]:
    """``{"MSE", "SSIM", "PSNR"}`` of ``test`` against ``reference`` (both in ``[0, 1]``), Table III order."""
    return {"MSE": mse(reference, test), "SSIM": ssim(reference, test), "PSNR": psnr(reference, test)}


def jpeg_round_trip(image: np.ndarray, quality: int = 75) -> np.ndarray:
    """Encode a ``uint8`` gray image as JPEG (PIL, ``quality``) in memory and decode it again."""
    if image.dtype != np.uint8:
        raise TypeError(f"jpeg_round_trip expects uint8 pixels, got {image.dtype} (use io.to_uint8 first)")
    buffer = _bytes_io.BytesIO()
    Image.fromarray(_check_gray(image)).save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as im:
        return np.asarray(im.convert("L"))


def mapped(output: np.ndarray, mapping: Mapping = "minmax", jpeg_quality: int | None = None) -> np.ndarray:
    """The 8-bit image a user would save, back on ``[0, 1]``: ``to_uint8(output, mapping)`` [-> JPEG] / 255."""
    img = to_uint8(output, mapping)
    if jpeg_quality is not None:
        img = jpeg_round_trip(img, jpeg_quality)
    return img.astype(np.float32) / 255.0


def training_overlap(train_image: np.ndarray, test_images: dict[str, np.ndarray]) -> pd.DataFrame:
    """Compare pixel content of the training image with every test image.

    Columns: ``identical`` (same shape and same pixels), ``max_abs_diff`` (same shape only, else NaN)
    and ``correlation``: Pearson correlation of the pixels after resizing the test image to the
    training image's shape (antialiased), which also catches a rescaled copy (~1.0).
    """
    ref = _check_gray(train_image, "training image").astype(np.float64)
    rows = []
    for name, img in test_images.items():
        img = _check_gray(img, name).astype(np.float64)
        same = img.shape == ref.shape
        diff = float(np.abs(img - ref).max()) if same else float("nan")
        resized = img if same else resize(img, ref.shape, anti_aliasing=True)
        corr = float(np.corrcoef(ref.ravel(), resized.ravel())[0, 1])
        rows.append({"image": name, "identical": bool(same and diff == 0), "max_abs_diff": diff, "correlation": corr})
    return pd.DataFrame(rows)


PERFECT = "perfect reconstruction (the original)"


def table3(per_image: pd.DataFrame, measured_as: str) -> pd.DataFrame:
    """Table III: for each row of the paper's Table III, the measured mean over the images of ``per_image``
    (``model, MSE, SSIM, PSNR``; models named as the paper's rows) labelled ``run here (<measured_as>)``, with
    the deviation from the paper (% for MSE and SSIM, dB for PSNR), followed by the paper's row; rows without
    a measured model are shown as reported."""
    from . import paper

    metrics = list(paper.RECONSTRUCTION_METRICS)
    means = per_image.groupby("model", sort=False)[metrics].mean()
    rows = []
    for ref in paper.table3().itertuples(index=False):
        published = {m: getattr(ref, m) for m in metrics}
        if ref.method not in means.index:
            rows.append({"Methods": ref.method, "source": "paper: reported, not re-run (no public weights)", **published})
            continue
        measured = means.loc[ref.method]
        rows.append({"Methods": ref.method, "source": f"run here ({measured_as})", **measured,
                     **{f"Δ{m} vs paper [%]": 100 * (measured[m] - published[m]) / published[m] for m in ("MSE", "SSIM")},
                     "ΔPSNR vs paper [dB]": measured["PSNR"] - published["PSNR"]})
        rows.append({"Methods": ref.method, "source": "paper (20 COCO images)", **published})
    return pd.DataFrame(rows)


def mapping_variants(jpeg_quality: int) -> dict[str, Any]:
    """The ways a decoder output can become an image, by name: the float output itself, ``clip``, ``minmax``
    and each followed by a JPEG round trip at ``jpeg_quality``."""
    q = jpeg_quality
    return {"float (unmapped)": lambda y: y, "clip": lambda y: mapped(y, "clip"),
            "minmax": lambda y: mapped(y, "minmax"), f"clip + JPEG q{q}": lambda y: mapped(y, "clip", q),
            f"minmax + JPEG q{q}": lambda y: mapped(y, "minmax", q)}


def mapping_sensitivity(outputs: dict[str, dict[str, dict[str, np.ndarray]]],
                        originals: dict[str, dict[str, np.ndarray]], jpeg_quality: int,
                        mapping: Mapping) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How much the output mapping moves Table III: ``outputs[set][model][image]`` (raw decoder outputs) and the
    originals themselves (model :data:`PERFECT`: what the mapping alone costs), through every variant of
    :func:`mapping_variants`. Returns the per-image rows (``set, model, image, output, MSE, SSIM, PSNR``) and
    the means per (set, model, output): PSNR over the images with MSE > 0 (``exact images`` counts the
    others), and ``ΔPSNR vs table [dB]`` relative to the ``mapping`` row of the same model and set."""
    variants = mapping_variants(jpeg_quality)
    rows = []
    for set_name, imgs in originals.items():
        for name, outs in {**outputs[set_name], PERFECT: imgs}.items():
            rows += [{"set": set_name, "model": name, "image": img, "output": v, **scores(imgs[img], f(y))}
                     for v, f in variants.items() for img, y in outs.items()]
    per_image = pd.DataFrame(rows)
    groups = per_image.groupby(["set", "model", "output"], sort=False)
    table = groups[["MSE", "SSIM"]].mean()
    table["PSNR"] = groups.PSNR.agg(lambda v: v[np.isfinite(v)].mean())
    table["exact images"] = groups.MSE.agg(lambda v: int((v == 0).sum()))
    table = table.reset_index()
    reference = table[table.output == mapping].set_index(["set", "model"]).PSNR
    table["ΔPSNR vs table [dB]"] = table.PSNR - [reference[k] for k in zip(table.set, table.model)]
    return per_image, table


def timing_table(per_image: pd.DataFrame, parameters: dict[str, int], baseline: str) -> pd.DataFrame:
    """Time per image (``set, model, seconds``) in ms per set and model, the model's parameter count and the
    ratio of its median to that of ``baseline`` on the same set."""
    timing = (per_image.groupby(["set", "model"], sort=False).seconds.agg(["mean", "median", "min", "max"])
              .mul(1e3).reset_index())
    timing.columns = ["set", "model", "mean [ms]", "median [ms]", "min [ms]", "max [ms]"]
    timing["parameters"] = timing.model.map(parameters)
    base = timing[timing.model == baseline].set_index("set")["median [ms]"]
    timing[f"time ratio vs {baseline}"] = timing["median [ms]"] / timing.set.map(base)
    return timing


def example_images(per_image: pd.DataFrame, model: str, n: int) -> list[str]:
    """``n`` images at evenly spaced ranks of ``model``'s PSNR in ``per_image`` (worst to best)."""
    ranked = per_image[per_image.model == model].sort_values("PSNR")
    picks = np.unique(np.linspace(0, len(ranked) - 1, min(n, len(ranked))).round().astype(int))
    return list(ranked.image.iloc[picks])


def test_set_overlap(train_file: np.ndarray, train_input: np.ndarray,
                     test_sets: dict[str, dict[str, np.ndarray]]) -> pd.DataFrame:
    """:func:`training_overlap` of the training image -- as the file and as the network's input (cropped and
    resized) -- with every image of every test set (columns ``set``, ``compared_with`` added). Raises
    ``ValueError`` naming the images when the training image appears in a test set (identical pixels or
    |correlation| > 0.95)."""
    overlap = pd.concat([training_overlap(reference, images).assign(set=name, compared_with=what)
                         for name, images in test_sets.items()
                         for what, reference in (("training file", train_file), ("network input", train_input))],
                        ignore_index=True)
    suspicious = overlap[overlap.identical | (overlap.correlation.abs() > 0.95)]
    if not suspicious.empty:
        raise ValueError("the training image appears in a test set: "
                         + ", ".join(f"{r.set}/{r.image}" for r in suspicious.itertuples()))
    return overlap
