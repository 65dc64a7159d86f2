"""Fusion strategies: combine the encoder features of two sources (paper Sec. III-C, eqs. 8-11).

Every strategy is a function ``fn(phi_a, phi_b, **params) -> (fused, w_a, w_b)`` on
``N x C x H x W`` feature tensors; ``w_a``/``w_b`` are ``N x 1 x H x W`` weight maps such that
``fused = w_a * phi_a + w_b * phi_b`` (eqs. 9 and 11) -- for ``max`` they are the *effective*
weights (see there). The strategies are registered in :data:`STRATEGIES` by the
:func:`strategy` decorator; adding one is writing one decorated function whose keyword
parameters (with defaults) are its tunable parameters.

Reference implementations checked (see the docstrings for what each default follows):

* the Res2NetFuse authors' ``net_fusion_gray.py``: ``addition`` is ``phi_a + phi_b``;
  ``l1-norm`` is eq. 8 per pixel, no window, no zero guard; ``mean`` min-max normalises each
  channel-mean map over the image to ``[0, 1]`` and then takes the softmax of eq. 10's text;
* DenseFuse (Li & Wu, TIP 2019): the paper averages the l1 activity over a ``(2r+1)^2`` block
  with ``r = 1``, but the TensorFlow release (``fusion_l1norm.py``) has that 3x3 mean filter
  commented out, i.e. ``r = 0``; its ``addition`` is ``phi_a + phi_b`` (the PyTorch release
  uses the average ``(phi_a + phi_b) / 2``).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
import torch.nn.functional as F

Tensor = torch.Tensor
StrategyFn = Callable[..., tuple[Tensor, Tensor, Tensor]]


@dataclass(frozen=True)
class Strategy:
    """A registered fusion strategy: its function, parameter defaults and one-line description."""

    name: str
    fn: StrategyFn
    defaults: dict[str, Any] = field(default_factory=dict)
    description: str = ""


STRATEGIES: dict[str, Strategy] = {}


def strategy(name: str) -> Callable[[StrategyFn], StrategyFn]:
    """Register ``fn(phi_a, phi_b, *, p=default, ...)`` under ``name``.

    The keyword parameters after the two feature tensors become :attr:`Strategy.defaults`; the
    first docstring line becomes :attr:`Strategy.description`.
    """

    def register(fn: StrategyFn) -> StrategyFn:
        if name in STRATEGIES:
            raise ValueError(f"fusion strategy {name!r} is already registered")
        params = list(inspect.signature(fn).parameters.values())[2:]
        missing = [p.name for p in params if p.default is inspect.Parameter.empty]
        if missing:
            raise TypeError(f"strategy {name!r}: parameters {missing} need defaults")
        doc = (fn.__doc__ or "").strip().splitlines()
        STRATEGIES[name] = Strategy(name, fn, {p.name: p.default for p in params}, doc[0] if doc else "")
        return fn

    return register


def _weighted(phi_a: Tensor, phi_b: Tensor, w_a: Tensor, w_b: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``(w_a phi_a + w_b phi_b, w_a, w_b)`` with the ``N x 1 x H x W`` maps broadcast over channels."""
    return torch.addcmul(w_b * phi_b, w_a, phi_a), w_a, w_b


def _ratio(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """``(a / (a + b), b / (a + b))`` for non-negative maps; ``(1/2, 1/2)`` where ``a + b = 0``.

    The reference codes divide without a guard (``0 / 0`` gives NaN where both activities
    vanish); splitting evenly there keeps ``w_a + w_b = 1`` exactly and adds no epsilon bias.
    """
    total = a + b
    w_a = torch.where(total > 0, a / total.clamp_min(torch.finfo(total.dtype).tiny), 0.5)
    return w_a, 1.0 - w_a


def _minmax(m: Tensor) -> Tensor:
    """Scale each ``N x 1 x H x W`` map to ``[0, 1]`` over its own pixels (constant map -> 0)."""
    lo = m.amin(dim=(-2, -1), keepdim=True)
    span = m.amax(dim=(-2, -1), keepdim=True) - lo
    return torch.where(span > 0, (m - lo) / span.clamp_min(torch.finfo(m.dtype).tiny), 0.0)


@strategy("l1")
def l1_attention(phi_a: Tensor, phi_b: Tensor, r: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    """l1-norm spatial attention (paper eq. 8-9, after DenseFuse).

    Activity ``a_i(x, y) = ||phi_i(x, y)||_1`` (sum of |values| over channels), optionally
    averaged over a ``(2r+1) x (2r+1)`` window (edge pixels replicated; equal to DenseFuse's
    commented-out ``'symm'`` filter for ``r = 1``); ``w_A = a_A / (a_A + a_B)``, ``w_B = 1 - w_A``,
    and ``1/2`` each where both activities are 0. Default ``r = 0``: the paper's eq. 8, the
    authors' code and DenseFuse's release; ``r = 1`` is the DenseFuse paper's block average.
    """
    if int(r) != r or r < 0:
        raise ValueError(f"l1: window radius r must be an integer >= 0, got {r!r}")
    act_a = phi_a.abs().sum(dim=1, keepdim=True)
    act_b = phi_b.abs().sum(dim=1, keepdim=True)
    if r > 0:
        r = int(r)
        act_a, act_b = (F.avg_pool2d(F.pad(t, (r, r, r, r), mode="replicate"), 2 * r + 1, stride=1)
                        for t in (act_a, act_b))
    return _weighted(phi_a, phi_b, *_ratio(act_a, act_b))


@strategy("mean")
def mean_attention(phi_a: Tensor, phi_b: Tensor, temperature: float = 1.0, normalise: bool = True,
                   form: str = "softmax") -> tuple[Tensor, Tensor, Tensor]:
    """Channel-mean spatial attention with softmax across the sources (paper eq. 10-11).

    ``m_i(x, y) = mean_c phi_i^c(x, y)``; with ``normalise`` (default, the authors' code) each map
    is min-max scaled to ``[0, 1]`` over its image, which makes the weights independent of the
    model's pixel scale. ``form="softmax"`` (default; the paper's text and the authors' code):
    ``w_A = e^{m_A/T} / (e^{m_A/T} + e^{m_B/T})`` with temperature ``T``. ``form="ratio"``: eq. 10
    as printed, ``w_A = m_A / (m_A + m_B)`` (``1/2`` where both are 0; needs ``m >= 0``, true for
    ReLU features). The authors add ``1e-5`` to the softmax denominator; here ``w_A + w_B = 1``.
    """
    if form not in ("softmax", "ratio"):
        raise ValueError(f"mean: form must be 'softmax' or 'ratio', got {form!r}")
    if not temperature > 0:
        raise ValueError(f"mean: temperature must be > 0, got {temperature!r}")
    m_a, m_b = phi_a.mean(dim=1, keepdim=True), phi_b.mean(dim=1, keepdim=True)
    if normalise:
        m_a, m_b = _minmax(m_a), _minmax(m_b)
    if form == "ratio":
        if bool((m_a < 0).any() or (m_b < 0).any()):
            raise ValueError("mean: form='ratio' needs non-negative channel means (use normalise=True)")
        return _weighted(phi_a, phi_b, *_ratio(m_a, m_b))
    w_a = torch.sigmoid((m_a - m_b) / temperature)  # = e^{a/T} / (e^{a/T} + e^{b/T}), overflow-free
    return _weighted(phi_a, phi_b, w_a, 1.0 - w_a)


@strategy("addition")
def addition(phi_a: Tensor, phi_b: Tensor, average: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """Addition: ``f = phi_A + phi_B`` (weights 1 and 1; DenseFuse's TF release and the authors' code).

    ``average=True``: ``f = (phi_A + phi_B) / 2`` (weights 1/2, DenseFuse's PyTorch release).
    """
    w = torch.full_like(phi_a[:, :1], 0.5 if average else 1.0)
    return _weighted(phi_a, phi_b, w, w.clone())


@strategy("max")
def maximum(phi_a: Tensor, phi_b: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Element-wise maximum ``f^c = max(phi_A^c, phi_B^c)`` (extra baseline, not in the paper).

    The effective weight ``w_A(x, y)`` is the fraction of channels where ``phi_A`` is chosen
    (ties count 1/2 for each source), ``w_B = 1 - w_A``; ``f`` itself is the exact maximum.
    """
    w_a = ((phi_a > phi_b).to(phi_a.dtype) + 0.5 * (phi_a == phi_b).to(phi_a.dtype)).mean(dim=1, keepdim=True)
    return torch.maximum(phi_a, phi_b), w_a, 1.0 - w_a


def _coerce(name: str, key: str, value: Any, default: Any) -> Any:
    """Convert a (CLI) string ``value`` to the type of ``default`` or raise ``ValueError``."""
    if not isinstance(value, str) or isinstance(default, str):
        return value
    kind = type(default).__name__
    problem = ValueError(f"strategy {name!r}: parameter {key}={value!r} is not a valid {kind}")
    if isinstance(default, bool):
        if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise problem
        return value.lower() in ("true", "1", "yes")
    try:
        number = float(value)
    except ValueError:
        raise problem from None
    if isinstance(default, int):
        if not number.is_integer():
            raise problem
        return int(number)
    return number


def resolve(name: str, **params: Any) -> tuple[Strategy, dict[str, Any]]:
    """The registered strategy ``name`` and its full parameter set (defaults updated by ``params``).

    Raises ``ValueError`` for an unknown strategy or parameter, naming the valid choices, and for an
    invalid value: the values are tried once on two tiny zero feature maps, so that a bad value
    (``r=-1``, ``temperature=0``) is refused before any image is encoded.
    """
    if name not in STRATEGIES:
        raise ValueError(f"unknown fusion strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    s = STRATEGIES[name]
    unknown = sorted(set(params) - set(s.defaults))
    if unknown:
        known = ", ".join(s.defaults) or "none"
        raise ValueError(f"strategy {name!r} has no parameter {', '.join(unknown)} (its parameters: {known})")
    full = {k: _coerce(name, k, params.get(k, d), d) for k, d in s.defaults.items()}
    probe = torch.zeros(1, 1, 2, 2)
    s.fn(probe, probe, **full)
    return s, full


def fuse_features(name: str, phi_a: Tensor, phi_b: Tensor, **params: Any) -> tuple[Tensor, Tensor, Tensor]:
    """Fuse two ``N x C x H x W`` feature tensors with strategy ``name``: ``(fused, w_a, w_b)``."""
    s, full = resolve(name, **params)
    if phi_a.shape != phi_b.shape or phi_a.dim() != 4:
        raise ValueError(f"features must be two N x C x H x W tensors of one shape, got "
                         f"{tuple(phi_a.shape)} and {tuple(phi_b.shape)}")
    return s.fn(phi_a, phi_b, **full)
