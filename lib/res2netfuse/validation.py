"""``params.yaml`` checked before any heavy work: every key known, every id and name one that exists.

The stage runner checks each section it passes to a notebook (``-p KEY``) with :func:`check`, so that
a typo -- an unknown key, a pair that no data set has, a strategy that is not registered, a missing
image -- fails in seconds with one line naming the key and the valid choices, instead of after a
4-minute stage (or, worse, with a figure silently missing). A section's schema is a mapping
``key -> rule``; a rule returns the problem with a value (``None``: fine). Sections and keys that have
no schema here are passed unchecked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

Rule = Callable[[Any], "str | None"]


def check(key: str, value: Any) -> None:
    """Raise ``ValueError`` naming ``params.yaml``'s ``key`` and the problem when ``value`` breaks its schema."""
    schema = SCHEMAS.get(key)
    if schema is None:
        return
    if callable(schema):
        _report(key, schema(value))
        return
    if not isinstance(value, Mapping):
        raise ValueError(f"params.yaml {key}: expected a mapping of settings, got {type(value).__name__}")
    unknown = sorted(set(value) - set(schema))
    missing = sorted(set(schema) - set(value))
    if unknown or missing:
        what = "; ".join(p for p in (f"unknown key(s) {', '.join(unknown)}" if unknown else "",
                                     f"missing key(s) {', '.join(missing)}" if missing else "") if p)
        raise ValueError(f"params.yaml {key}: {what} (its keys: {', '.join(schema)})")
    for name, rule in schema.items():
        _report(f"{key}.{name}", rule(value[name]))


def _report(key: str, problem: str | None) -> None:
    if problem:
        raise ValueError(f"params.yaml {key}: {problem}")


# --- rules -----------------------------------------------------------------------------------------


def one_of(choices: Iterable[Any]) -> Rule:
    """The value is one of ``choices``."""
    options = list(choices)
    return lambda v: None if v in options else f"{v!r} is not one of {', '.join(map(str, options))}"


def integer(low: int | None = None) -> Rule:
    """An int (not a bool), at least ``low``."""
    def rule(v: Any) -> str | None:
        if not isinstance(v, int) or isinstance(v, bool):
            return f"{v!r} is not an integer"
        return f"{v} is below {low}" if low is not None and v < low else None
    return rule


def number(low: float | None = None, high: float | None = None, strict: bool = False) -> Rule:
    """A real number in ``[low, high]`` (``strict``: the open interval)."""
    def rule(v: Any) -> str | None:
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return f"{v!r} is not a number"
        if low is not None and (v <= low if strict else v < low):
            return f"{v} must be {'>' if strict else '>='} {low}"
        if high is not None and (v >= high if strict else v > high):
            return f"{v} must be {'<' if strict else '<='} {high}"
        return None
    return rule


def boolean(v: Any) -> str | None:
    return None if isinstance(v, bool) else f"{v!r} is not true or false"


def existing(kind: str = "file") -> Rule:
    """A path (relative to the repository root) to an existing file, folder, or either (``kind="path"``)."""
    def rule(v: Any) -> str | None:
        p = Path(str(v))
        ok = p.is_file() if kind == "file" else p.is_dir() if kind == "folder" else p.exists()
        return None if ok else f"{v} is not an existing {kind} (paths are relative to the repository root)"
    return rule


def each(rule: Rule) -> Rule:
    """A list whose every element satisfies ``rule``."""
    def check_all(v: Any) -> str | None:
        if not isinstance(v, list):
            return f"{v!r} is not a list"
        return next((f"item {i}: {p}" for i, p in enumerate(map(rule, v)) if p), None)
    return check_all


def pair_of(set_name: str) -> Rule:
    """A pair (file stem) of the registered data set ``set_name``."""
    def rule(v: Any) -> str | None:
        from . import datasets

        stems = [s for s, _ in datasets.pair_set(set_name).pairs()]
        return None if str(v) in stems and isinstance(v, str) else \
            f"{v!r} is not a pair of {set_name} (its pairs: {_span(stems)})"
    return rule


def data_set(v: Any) -> str | None:
    from . import datasets

    return one_of(datasets.PAIR_SETS)(v)


def coco_image(v: Any) -> str | None:
    from . import datasets

    ids = datasets.coco_ids()
    return None if v in ids else f"{v!r} is not a COCO id of {datasets.COCO_FOLDER} ({_span(ids)})"


def device(v: Any) -> str | None:
    from .runtime import resolve_device

    try:
        resolve_device(str(v))
    except (RuntimeError, ValueError) as exc:
        return " ".join(str(exc).split())
    return None


def convention(v: Any) -> str | None:
    from .metrics import CONVENTIONS

    return one_of(CONVENTIONS)(v)


def _span(names: Sequence[str]) -> str:
    return ", ".join(names) if len(names) <= 8 else f"{names[0]} ... {names[-1]}, {len(names)} in all"


def _train(v: Any) -> str | None:
    from .train import TrainConfig, training_images

    try:
        if not isinstance(v, Mapping):
            return f"expected a mapping of settings, got {type(v).__name__}"
        config = TrainConfig.from_params(dict(v))
        if not Path(config.image).exists():
            return f"image {config.image} is not an existing file or folder"
        training_images(config)
        device(config.device)
    except (TypeError, ValueError) as exc:  # ImageError is a ValueError
        return " ".join(str(exc).split())
    return None


def _model(v: Any) -> str | None:
    from .model import ModelConfig

    try:
        ModelConfig(**v)
    except (TypeError, ValueError) as exc:
        return " ".join(str(exc).split())
    return None


def _strategies(v: Any) -> str | None:
    from .fusion import resolve

    if not isinstance(v, Mapping):
        return f"expected a mapping strategy -> parameters, got {type(v).__name__}"
    for name, params in v.items():
        try:
            resolve(name, **(params or {}))
        except (TypeError, ValueError) as exc:
            return " ".join(str(exc).split())
    return None


def _runs(v: Any) -> str | None:
    if not isinstance(v, Mapping) or not v:
        return "expected a mapping run name -> {image, seed}"
    for name, run in v.items():
        if not isinstance(run, Mapping) or set(run) != {"image", "seed"}:
            return f"run {name}: expected the keys image and seed"
        problem = integer(0)(run["seed"])
        if problem:
            return f"run {name}: seed {problem}"
    return None


MAPPINGS = ("minmax", "clip")

SCHEMAS: dict[str, Mapping[str, Rule] | Rule] = {
    "train": _train,
    "model": _model,
    "strategies": _strategies,
    "output.mapping": one_of(MAPPINGS),
    "architecture": {"image": existing("file"), "crop": integer(8)},
    "reconstruction": {
        "coco_images": each(coco_image), "coco_seed": integer(0), "kodak": existing("folder"),
        "densefuse_weights": existing("file"), "jpeg_quality": integer(1), "examples": integer(1),
        "device": device, "seed": integer(0)},
    "fusion": {
        "densefuse_weights": existing("file"), "datasets": each(data_set), "grid_pairs": each(pair_of("tno21")),
        "weight_pair": pair_of("tno21"), "inset_size": integer(8), "timing_repeats": integer(1), "device": device,
        "seed": integer(0)},
    "scores": {"convention": convention, "jobs": integer(0)},
    "metrics": {"reference": existing("file"), "reference_ssim": existing("file")},
    "sensitivity": {"runs": _runs, "other_coco_seed": integer(0), "noise_seed": integer(0)},
    "claims": {"alpha": number(0, 1, strict=True), "n_resamples": integer(1), "seed": integer(0),
               "estimate_images": integer(1), "estimate_passes": each(integer(1))},
}
