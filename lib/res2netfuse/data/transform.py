"""How an upstream file becomes a file of ``data/``, and the check of a file against the registry.

The transforms (Pillow 13.0.0, the project's pin; they are the provenance table's definitions):

* ``copy``: the bytes as they are (weights, VIFB's JPEGs). Checked: SHA-256 of the bytes.
* ``gray``: decode, ``Image.convert("L")`` (ITU-R 601-2 luma ``L = R*299/1000 + G*587/1000 + B*114/1000``),
  PNG. Used for COCO (JPEG), Kodak, tno21, RFN-Nest's zip members, ``camera.png``.
* ``squeeze``: decode; an RGB image whose three channels are equal becomes one channel (values
  unchanged), other images stay as decoded (RoadScene's visible images, some peers' outputs stay RGB);
  PNG. Used for the TNO toolbox's images and outputs, RoadScene, MRI-CT.

An image is checked by its decoded pixels: SHA-256 of the ``uint8`` array (``np.asarray(Image.open(f))``,
C order) and its shape, never by PNG bytes, which depend on the encoder. PNGs are written with Pillow's
``optimize=True``, which is how the project's reference copy of the data was written: with the pinned
Pillow the bytes come out identical to it (same DVC hashes whether the data was downloaded or copied).
JPEG sources decode with the pinned Pillow; another decoder may differ by one grey level, which the
pixel check catches.
"""

from __future__ import annotations

import hashlib
import io

import numpy as np
from PIL import Image, UnidentifiedImageError

from .registry import DataError, Entry


def pixels(data: bytes) -> np.ndarray:
    """The decoded pixels of an image file's bytes, as numpy sees them (``ValueError`` if not an image)."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            return np.asarray(im)
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValueError(f"not a readable image ({exc.__class__.__name__}: {exc})") from None


def transformed(entry: Entry, upstream: bytes) -> np.ndarray:
    """The pixels of ``entry`` made from its upstream bytes by its ``gray`` or ``squeeze`` transform."""
    try:
        with Image.open(io.BytesIO(upstream)) as im:
            if entry.transform == "gray":
                return np.asarray(im.convert("L"))
            arr = np.asarray(im)
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise DataError(f"{entry.path}: {entry.where} is not a readable image ({exc})") from None
    if entry.transform != "squeeze":
        raise DataError(f"{entry.path}: transform {entry.transform!r} does not decode an image")
    if arr.ndim == 3 and arr.shape[2] == 3 and (arr[..., 0] == arr[..., 1]).all() and (arr[..., 1] == arr[..., 2]).all():
        return arr[..., 0]
    return arr


def pixel_problem(entry: Entry, arr: np.ndarray) -> str | None:
    """What is wrong with ``arr`` as ``entry``'s pixels (shape, then SHA-256 of the ``uint8`` bytes), or None."""
    shape = "x".join(map(str, arr.shape))
    if arr.dtype != np.uint8 or shape != entry.shape:
        return f"decodes to {shape} {arr.dtype}, the registry says {entry.shape} uint8"
    if hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest() != entry.pixels_sha256:
        return "its pixels differ from the registry's (SHA-256 of the decoded image)"
    return None


def produce(entry: Entry, upstream: bytes) -> bytes:
    """The bytes of ``entry``'s file in ``data/``, made from its upstream bytes and checked against the
    registry (``DataError`` naming the file and the URL when they differ)."""
    if entry.transform == "copy":
        if hashlib.sha256(upstream).hexdigest() != entry.sha256:
            raise DataError(f"{entry.path}: {entry.where} differs from the registry's SHA-256")
        return upstream
    arr = transformed(entry, upstream)
    problem = pixel_problem(entry, arr)
    if problem is not None:
        raise DataError(f"{entry.path}: made from {entry.where}, {problem}")
    out = io.BytesIO()
    Image.fromarray(arr).save(out, format="PNG", optimize=True)
    return out.getvalue()


def file_problem(entry: Entry, data: bytes) -> str | None:
    """What is wrong with ``data`` as the content of ``entry``'s file in ``data/`` (bytes for ``copy``,
    decoded pixels otherwise), or None when it is the registry's."""
    if entry.transform == "copy":
        return None if hashlib.sha256(data).hexdigest() == entry.sha256 else "its bytes differ from the registry's"
    try:
        return pixel_problem(entry, pixels(data))
    except ValueError as exc:
        return str(exc)
