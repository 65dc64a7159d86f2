"""Image input/output with explicit conversion rules and errors that name the file.

Conventions used everywhere in the package:

* A *gray image* is a 2-D ``float32`` array in ``[0, 1]`` (``load_gray``) or a 2-D
  ``uint8`` array in ``[0, 255]`` (``load_gray_uint8``; the metrics work on these,
  like the MATLAB toolbox that reads PNGs as ``uint8``).
* RGB/RGBA files are converted to gray with ITU-R BT.601 luma
  ``Y = 0.299 R + 0.587 G + 0.114 B`` rounded to the nearest integer (MATLAB's
  ``rgb2gray`` weights), unless ``allow_rgb=False``, which refuses them.
* 16-bit files are rescaled to 8 bits with ``round(v / 257)`` (65535 -> 255), unless
  ``allow_16bit=False``, which refuses them.
* Colour fusion works on the luminance: :func:`rgb_to_ycbcr` / :func:`ycbcr_to_rgb`
  (full-range JPEG/BT.601 YCbCr) split and merge it.
* Writing is atomic: an image is written to a temporary file in the target folder and
  renamed, so an interrupted run never leaves a half-written PNG.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, UnidentifiedImageError

PathLike = str | os.PathLike[str]
Mapping = Literal["minmax", "clip"]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


class ImageError(ValueError):
    """An image file is missing, unreadable, or not what the caller expects."""

    def __init__(self, path: PathLike, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


@contextlib.contextmanager
def _opened(path: PathLike) -> Iterator[Image.Image]:
    """``PIL.Image.open(path)`` as a context; a missing, folder or unreadable file raises :class:`ImageError`."""
    p = Path(path)
    if not p.exists():
        raise ImageError(p, "file not found")
    if p.is_dir():
        raise ImageError(p, "is a folder, expected an image file")
    try:
        with Image.open(p) as im:
            yield im
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ImageError(p, f"cannot be read as an image ({exc.__class__.__name__}: {exc})") from None


def _open_array(path: PathLike) -> np.ndarray:
    """Read ``path`` into a numpy array (any mode) or raise :class:`ImageError`."""
    with _opened(path) as im:
        im.load()
        if im.mode == "P":
            im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        elif im.mode in ("1", "LA", "PA", "CMYK", "YCbCr", "HSV", "LAB"):
            im = im.convert("RGB" if im.mode != "LA" else "L")
        return np.asarray(im)


def image_size(path: PathLike) -> tuple[int, int]:
    """``(width, height)`` of an image file, read from its header only; :class:`ImageError` if unreadable."""
    with _opened(path) as im:
        return im.size


def _to_uint8_gray(arr: np.ndarray, path: PathLike, allow_rgb: bool, allow_16bit: bool) -> np.ndarray:
    """Apply the module's documented gray/8-bit conversion rules to a raw array."""
    if arr.dtype == np.uint16 or arr.dtype == np.int32 or arr.dtype == np.uint32:
        if not allow_16bit:
            raise ImageError(path, f"is a 16-bit image ({arr.dtype}); an 8-bit image is expected")
        arr = np.clip(np.round(arr.astype(np.float64) / 257.0), 0, 255).astype(np.uint8)
    elif arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    elif arr.dtype != np.uint8:
        raise ImageError(path, f"has unsupported pixel type {arr.dtype}")
    if arr.ndim == 3:
        rgb = arr[..., :3]
        if rgb.shape[-1] != 3:
            raise ImageError(path, f"has {arr.shape[-1]} channels; expected gray or RGB")
        if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2]):
            return np.ascontiguousarray(rgb[..., 0])
        if not allow_rgb:
            raise ImageError(path, "is a colour (RGB) image; a grayscale image is expected")
        return rgb_to_gray_uint8(rgb)
    if arr.ndim != 2:
        raise ImageError(path, f"has shape {arr.shape}; expected a 2-D image")
    return arr


def rgb_to_gray_uint8(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma ``0.298936 R + 0.587043 G + 0.114021 B`` rounded to uint8 (MATLAB ``rgb2gray``)."""
    weights = np.array([0.298936021293775, 0.587043074451121, 0.114020904255103])
    y = rgb.astype(np.float64) @ weights
    return np.clip(np.round(y), 0, 255).astype(np.uint8)


def load_gray_uint8(path: PathLike, *, allow_rgb: bool = True, allow_16bit: bool = True) -> np.ndarray:
    """Load an image as a 2-D ``uint8`` gray array, applying the module's conversion rules."""
    arr = _open_array(path)
    return _to_uint8_gray(arr, path, allow_rgb, allow_16bit)


def load_gray(path: PathLike, *, allow_rgb: bool = True, allow_16bit: bool = True) -> np.ndarray:
    """Load an image as a 2-D ``float32`` gray array in ``[0, 1]`` (8-bit value / 255)."""
    return load_gray_uint8(path, allow_rgb=allow_rgb, allow_16bit=allow_16bit).astype(np.float32) / 255.0


def load_rgb(path: PathLike) -> np.ndarray:
    """Load an image as an ``H x W x 3`` ``float32`` array in ``[0, 1]`` (gray files are replicated)."""
    arr = _open_array(path)
    if arr.ndim == 2 or arr.dtype != np.uint8:
        gray = _to_uint8_gray(arr, path, True, True)
        arr = np.repeat(gray[..., None], 3, axis=2)
    elif arr.ndim == 3 and arr.shape[-1] >= 3:
        arr = arr[..., :3]
    else:
        raise ImageError(path, f"has shape {arr.shape}; expected gray or RGB")
    return arr.astype(np.float32) / 255.0


def is_colour(path: PathLike) -> bool:
    """True when the file holds an RGB image whose channels differ (a real colour image)."""
    arr = _open_array(path)
    if arr.ndim != 3 or arr.shape[-1] < 3:
        return False
    rgb = arr[..., :3]
    return not (np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2]))


def check_same_size(a: np.ndarray, b: np.ndarray, path_a: PathLike, path_b: PathLike) -> None:
    """Raise :class:`ImageError` naming both files when two images differ in height/width."""
    if a.shape[:2] != b.shape[:2]:
        raise ImageError(
            path_b,
            f"size {b.shape[1]}x{b.shape[0]} differs from {Path(path_a).name} "
            f"({a.shape[1]}x{a.shape[0]}); the images of a pair must have the same size",
        )


def load_gray_pair(path_a: PathLike, path_b: PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Load two gray ``float32`` images and check they have the same size."""
    a, b = load_gray(path_a), load_gray(path_b)
    check_same_size(a, b, path_a, path_b)
    return a, b


def list_images(folder: PathLike) -> dict[str, Path]:
    """Map file stem -> path for the image files in ``folder`` (sorted); error if none or missing."""
    d = Path(folder)
    if not d.is_dir():
        raise ImageError(d, "folder not found")
    files = {p.stem: p for p in sorted(d.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}
    if not files:
        raise ImageError(d, f"contains no image files ({', '.join(IMAGE_SUFFIXES)})")
    return files


def paired_files(*folders: PathLike, stems: Sequence[str] | None = None) -> list[tuple[str, list[Path]]]:
    """Pair files by stem across folders: ``[(stem, [path_in_folder_0, ...]), ...]``.

    Every stem (of any folder, or only those in ``stems`` when given) must be present in every
    folder; otherwise an :class:`ImageError` names the folder and the missing names.
    """
    listings = [list_images(f) for f in folders]
    wanted = set().union(*listings) if stems is None else set(stems)
    for folder, listing in zip(folders, listings):
        missing = sorted(wanted - set(listing))
        if missing:
            raise ImageError(folder, f"has no file for {', '.join(missing[:5])}"
                             + (f" (and {len(missing) - 5} more)" if len(missing) > 5 else ""))
    return [(s, [listing[s] for listing in listings]) for s in sorted(wanted)]


def to_uint8(x: np.ndarray, mapping: Mapping = "minmax") -> np.ndarray:
    """Map a decoder output (nominally ``[0, 1]``) to ``uint8``.

    ``minmax`` (the authors' and DenseFuse's release code): ``floor(255 (x - min) / (max - min))``,
    i.e. stretch to ``[0, 255]`` and truncate; a constant image maps to 0.
    ``clip``: ``round(255 clip(x, 0, 1))``.
    """
    x = np.asarray(x, dtype=np.float64)
    if mapping == "minmax":
        lo, hi = float(x.min()), float(x.max())
        if hi - lo <= 0:
            return np.zeros(x.shape, dtype=np.uint8)
        return np.floor((x - lo) / (hi - lo) * 255.0).astype(np.uint8)
    if mapping == "clip":
        return np.round(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)
    raise ValueError(f"unknown output mapping {mapping!r}; expected 'minmax' or 'clip'")


def save_image(path: PathLike, img: np.ndarray) -> Path:
    """Write a ``uint8`` gray (H x W) or RGB (H x W x 3) array to ``path`` atomically."""
    p = Path(path)
    if img.dtype != np.uint8:
        raise TypeError(f"save_image expects uint8 pixels, got {img.dtype} (use to_uint8 first)")
    p.parent.mkdir(parents=True, exist_ok=True)
    fmt = Image.registered_extensions().get(p.suffix.lower())
    if fmt is None:
        raise ImageError(p, f"unknown image file extension {p.suffix!r}")
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.stem}.", suffix=p.suffix)
    os.close(fd)
    try:
        Image.fromarray(img).save(tmp, format=fmt)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


_YCBCR = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """Full-range YCbCr (JPEG, BT.601): Y in [0,1], Cb/Cr centred on 0.5, for ``[0,1]`` RGB input."""
    ycc = rgb.astype(np.float64) @ _YCBCR.T
    ycc[..., 1:] += 0.5
    return ycc.astype(np.float32)


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_ycbcr`; the result is clipped to ``[0, 1]``."""
    shifted = ycc.astype(np.float64).copy()
    shifted[..., 1:] -= 0.5
    rgb = shifted @ np.linalg.inv(_YCBCR).T
    return np.clip(rgb, 0.0, 1.0).astype(np.float32)
