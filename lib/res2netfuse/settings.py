"""The pipeline's settings: ``params.yaml`` sections, with overrides, for notebooks and the stage runner.

A stage notebook declares one parameter per ``params.yaml`` key it uses, named like that key,
with an empty default (``fusion = {}``), and starts with ``fusion = section("fusion", fusion)``:

* run by DVC, the stage runner passes the whole section, so the merge changes nothing;
* opened in Jupyter, the notebook gets the pipeline's settings from ``params.yaml``;
* the nbval smoke test passes only the keys it changes (``{"max_pairs": 2}``).

So every setting is written once, in ``params.yaml``, and read under the same name everywhere.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from .report import project_root

PARAMS_FILE = "params.yaml"


def load(path: str | Path | None = None) -> dict[str, Any]:
    """All of ``params.yaml`` (default: the repository's) as a dict."""
    file = Path(path) if path is not None else project_root() / PARAMS_FILE
    try:
        data = yaml.safe_load(file.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{file}: settings file not found") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{file}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{file}: expected a mapping of sections, got {type(data).__name__}")
    return data


def lookup(params: dict[str, Any], key: str) -> Any:
    """The value at dotted ``key`` (``"output.mapping"``); ``KeyError`` naming the missing part."""
    value: Any = params
    for i, part in enumerate(key.split(".")):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(f"params.yaml has no '{'.'.join(key.split('.')[:i + 1])}'")
        value = value[part]
    return value


def merged(base: Any, overrides: Any) -> Any:
    """``base`` with ``overrides`` applied: dicts merge key by key (recursively), anything else replaces."""
    if isinstance(base, dict) and isinstance(overrides, dict):
        out = copy.deepcopy(base)
        for k, v in overrides.items():
            out[k] = merged(out[k], v) if k in out else copy.deepcopy(v)
        return out
    return copy.deepcopy(overrides)


def section(key: str, overrides: Any = None, path: str | Path | None = None) -> Any:
    """``params.yaml``'s value at ``key``, with ``overrides`` merged in (``None``/``{}``: unchanged)."""
    value = lookup(load(path), key)
    if overrides is None or overrides == {}:
        return copy.deepcopy(value)
    return merged(value, overrides)
