"""Fusion strategies: hand-computed weights (paper eqs. 8-11), properties, registry and errors."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from res2netfuse.fusion import STRATEGIES, fuse_features, resolve, strategy

WEIGHTED = ["l1", "mean", "max"]  # strategies whose weights sum to 1


def feats(*channels: list[float]) -> torch.Tensor:
    """A 1 x C x 1 x 1 feature tensor from per-channel values."""
    return torch.tensor([c for c in channels], dtype=torch.float32).reshape(1, -1, 1, 1)


@st.composite
def feature_pairs(draw: st.DrawFn) -> tuple[torch.Tensor, torch.Tensor]:
    n, c, h, w = draw(st.integers(1, 2)), draw(st.integers(1, 5)), draw(st.integers(1, 6)), draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    relu = draw(st.booleans())
    a, b = (torch.randn(n, c, h, w, generator=g) * 3 for _ in range(2))
    return (a.relu(), b.relu()) if relu else (a, b)


def test_registry_lists_the_paper_strategies_and_baselines() -> None:
    assert {"l1", "mean", "addition", "max"} <= set(STRATEGIES)
    for s in STRATEGIES.values():
        assert s.description and s.name in STRATEGIES


def test_l1_weights_are_the_normalised_channel_l1_norms() -> None:
    # eq. 8: |1| + |-2| = 3 against |1| + |0| = 1  ->  w_a = 3/4
    fused, w_a, w_b = fuse_features("l1", feats(1, -2), feats(1, 0))
    assert w_a.item() == pytest.approx(0.75) and w_b.item() == pytest.approx(0.25)
    assert fused.flatten().tolist() == pytest.approx([0.75 * 1 + 0.25 * 1, 0.75 * -2 + 0.25 * 0])


def test_l1_both_zero_splits_evenly() -> None:
    _, w_a, w_b = fuse_features("l1", feats(0, 0), feats(0, 0))
    assert (w_a.item(), w_b.item()) == (0.5, 0.5)


def test_l1_window_averages_activity_over_3x3() -> None:
    # activity A: 9 at the centre of a 5x5 grid, B: 1 everywhere. With r = 1 the windowed
    # activity of A is 1 on the 3x3 block around the centre and 0 outside -> w_a = 1/2 there, 0 elsewhere.
    a = torch.zeros(1, 1, 5, 5)
    a[0, 0, 2, 2] = 9.0
    b = torch.ones(1, 1, 5, 5)
    _, w_a, _ = fuse_features("l1", a, b, r=1)
    expected = torch.zeros(5, 5)
    expected[1:4, 1:4] = 0.5
    torch.testing.assert_close(w_a[0, 0], expected)
    _, w_a0, _ = fuse_features("l1", a, b)  # r = 0: per pixel, 9 / 10 at the centre
    assert w_a0[0, 0, 2, 2].item() == pytest.approx(0.9) and w_a0[0, 0, 0, 0].item() == 0.0


def test_mean_softmax_reference_values() -> None:
    # channel means 1 and 0 (no normalisation): w_a = e / (e + 1); T = 1/2: e^2 / (e^2 + 1)
    a, b = feats(2.0, 0.0), feats(0.0, 0.0)
    _, w_a, _ = fuse_features("mean", a, b, normalise=False)
    assert w_a.item() == pytest.approx(math.e / (math.e + 1))
    _, w_a, _ = fuse_features("mean", a, b, normalise=False, temperature=0.5)
    assert w_a.item() == pytest.approx(math.e**2 / (math.e**2 + 1))
    _, w_a, _ = fuse_features("mean", feats(3.0, 3.0), feats(1.0, 1.0), normalise=False, form="ratio")
    assert w_a.item() == pytest.approx(0.75)  # eq. 10 as printed: 3 / (3 + 1)


def test_mean_normalised_uses_per_image_minmax_of_the_mean_map() -> None:
    # A's mean map [0, 2, 4] -> [0, .5, 1]; B's [5, 5, 10] -> [0, 0, 1]; softmax of the differences
    a = torch.tensor([0.0, 2.0, 4.0]).reshape(1, 1, 1, 3)
    b = torch.tensor([5.0, 5.0, 10.0]).reshape(1, 1, 1, 3)
    _, w_a, _ = fuse_features("mean", a, b)
    expected = [0.5, math.exp(0.5) / (math.exp(0.5) + 1), 0.5]
    assert w_a.flatten().tolist() == pytest.approx(expected)


def test_addition_and_max_reference_values() -> None:
    fused, w_a, w_b = fuse_features("addition", feats(1, 2), feats(3, -1))
    assert fused.flatten().tolist() == [4, 1] and (w_a.item(), w_b.item()) == (1.0, 1.0)
    fused, w_a, _ = fuse_features("addition", feats(1, 2), feats(3, -1), average=True)
    assert fused.flatten().tolist() == [2, 0.5] and w_a.item() == 0.5
    # A wins channels 0 and 3, ties channel 2, loses channel 1 -> w_a = (2 + 1/2) / 4
    fused, w_a, w_b = fuse_features("max", feats(2, 0, 1, 1), feats(1, 1, 1, 0))
    assert fused.flatten().tolist() == [2, 1, 1, 1]
    assert (w_a.item(), w_b.item()) == (0.625, 0.375)


@pytest.mark.parametrize("name", WEIGHTED)
@settings(max_examples=30, deadline=None)
@given(pair=feature_pairs())
def test_weights_sum_to_one_and_lie_in_unit_interval(name: str, pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    a, b = pair
    fused, w_a, w_b = fuse_features(name, a, b)
    assert fused.shape == a.shape and w_a.shape == (a.shape[0], 1, *a.shape[2:])
    torch.testing.assert_close(w_a + w_b, torch.ones_like(w_a))
    assert bool((w_a >= 0).all() and (w_a <= 1).all())
    if name != "max":
        torch.testing.assert_close(fused, w_a * a + w_b * b)


@pytest.mark.parametrize("name", list(STRATEGIES))
@settings(max_examples=20, deadline=None)
@given(pair=feature_pairs())
def test_swapping_sources_swaps_weights(name: str, pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    a, b = pair
    f_ab, wa_ab, wb_ab = fuse_features(name, a, b)
    f_ba, wa_ba, wb_ba = fuse_features(name, b, a)
    torch.testing.assert_close(wa_ab, wb_ba)
    torch.testing.assert_close(wb_ab, wa_ba)
    torch.testing.assert_close(f_ab, f_ba)


@pytest.mark.parametrize("name", list(STRATEGIES))
@settings(max_examples=20, deadline=None)
@given(pair=feature_pairs())
def test_fusing_features_with_themselves(name: str, pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    a = pair[0]
    fused, _, _ = fuse_features(name, a, a)
    torch.testing.assert_close(fused, 2 * a if name == "addition" else a)


@settings(max_examples=20, deadline=None)
@given(pair=feature_pairs(), scale=st.floats(0.01, 300))
def test_normalised_mean_weights_ignore_the_feature_scale(pair: tuple[torch.Tensor, torch.Tensor],
                                                          scale: float) -> None:
    a, b = pair
    _, w1, _ = fuse_features("mean", a, b)
    _, w2, _ = fuse_features("mean", a * scale, b * scale)
    torch.testing.assert_close(w1, w2, atol=1e-4, rtol=1e-4)


def test_cli_strings_are_converted_to_the_parameter_types() -> None:
    _, params = resolve("mean", temperature="0.5", normalise="false", form="ratio")
    assert params == {"temperature": 0.5, "normalise": False, "form": "ratio"}
    assert resolve("l1", r="2")[1] == {"r": 2}


@pytest.mark.parametrize(("name", "params", "message"), [
    ("nope", {}, "unknown fusion strategy 'nope'"),
    ("l1", {"radius": 1}, "has no parameter radius"),
    ("l1", {"r": -1}, "integer >= 0"),
    ("l1", {"r": 1.5}, "integer >= 0"),
    ("l1", {"r": "x"}, "is not a valid int"),
    ("l1", {"r": "1.5"}, "is not a valid int"),
    ("mean", {"temperature": "hot"}, "is not a valid float"),
    ("mean", {"temperature": 0}, "temperature must be > 0"),
    ("mean", {"form": "other"}, "form must be"),
    ("mean", {"normalise": "maybe"}, "is not a valid bool"),
])
def test_bad_strategy_or_parameters_raise_clear_errors(name: str, params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fuse_features(name, feats(1, 2), feats(2, 1), **params)


def test_mismatched_feature_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="one shape"):
        fuse_features("l1", torch.ones(1, 2, 3, 3), torch.ones(1, 2, 3, 4))


def test_adding_a_strategy_is_one_decorated_function() -> None:
    @strategy("test_first")
    def first(phi_a: torch.Tensor, phi_b: torch.Tensor, gain: float = 1.0):  # type: ignore[no-untyped-def]
        """Take A only."""
        w = torch.ones_like(phi_a[:, :1])
        return gain * phi_a, w, 1 - w

    try:
        assert STRATEGIES["test_first"].defaults == {"gain": 1.0}
        assert STRATEGIES["test_first"].description == "Take A only."
        fused, _, _ = fuse_features("test_first", feats(1, 2), feats(5, 5), gain="2")
        assert fused.flatten().tolist() == [2, 4]
        with pytest.raises(ValueError, match="already registered"):
            strategy("test_first")(first)
    finally:
        STRATEGIES.pop("test_first", None)
