"""Every figure builder draws from small constructed data, with labelled axes (units in brackets where they apply)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from res2netfuse import figures  # noqa: E402

RNG = np.random.default_rng(0)
IMG = RNG.random((40, 48))


def labelled(fig: Figure) -> list[str]:
    """The x and y labels of every axes with an image or data (colour bars and insets excluded)."""
    return [a.get_xlabel() and a.get_ylabel() for a in fig.axes if a.get_label() != "<colorbar>" and a.get_xlabel()]


@pytest.fixture(autouse=True)
def close_figures() -> None:
    yield
    plt.close("all")


def test_loss_curves_mark_the_stabilisation() -> None:
    losses = pd.DataFrame({"iteration": range(1, 51), "pixel": np.linspace(1, 0.1, 50), "total": np.linspace(2, 0.2, 50)})
    fig = figures.loss_curves(losses, 17, {"pixel": "a", "total": "b"})
    assert len(fig.axes) == 2 and all(a.get_yscale() == "log" for a in fig.axes)
    assert [line.get_xdata()[0] for line in fig.axes[0].lines if line.get_linestyle() == "--"] == [17]
    assert all(labelled(fig))


def test_image_panels_and_scale_groups() -> None:
    assert len(figures.image_panels({"a": IMG, "b": IMG}).axes) == 2
    fig = figures.scale_groups(IMG, [IMG, IMG], [5, 9], "groups")
    assert "RF 9 px" in fig.axes[2].get_title() and all(labelled(fig))


def test_reconstruction_figures() -> None:
    outputs = {"i1": {"m1": IMG, "m2": 1 - IMG}, "i2": {"m1": IMG, "m2": IMG}}
    fig = figures.reconstruction_examples({"i1": IMG, "i2": IMG}, outputs, {(i, m): 30.0 for i in outputs
                                                                            for m in ("m1", "m2")}, "examples")
    assert "m2 (30.00 dB)" in [a.get_title() for a in fig.axes]
    per_image = pd.DataFrame({"set": ["s"] * 4, "image": ["1", "2"] * 2, "model": ["a", "a", "b", "b"],
                              "PSNR": [30.0, 31.0, 29.0, np.inf]})
    fig = figures.psnr_per_image(per_image, "a", "b", "psnr")
    assert fig.axes[1].get_xlabel() == "a PSNR [dB]"
    fig = figures.mapping_ceiling(pd.Series([40.0, np.inf], index=["1", "2"]), {"a": pd.Series([30.0, 31.0], index=["1", "2"])},
                                  "ceiling")
    assert all(labelled(fig))


def test_salient_box_finds_the_bright_target() -> None:
    ir = np.zeros((100, 120))
    ir[60:70, 80:90] = 255
    top, left, side = figures.salient_box(ir, 32)
    assert side == 32 and top <= 60 and top + side >= 70 and left <= 80 and left + side >= 90


def test_fusion_grid_weight_maps_scores_and_ranks() -> None:
    panels = {f"m{i}": (IMG * 255).astype(np.uint8) for i in range(7)}
    fig = figures.fusion_grid(panels, (5, 6, 12), "pair", cols=6)
    assert [a.get_title() for a in fig.axes[:2]] == ["m0", "m1"]
    fig = figures.weight_maps([("IR", IMG), ("VI", IMG)], {"x": {"l1": IMG, "mean": IMG}, "y": {"l1": IMG, "mean": IMG}})
    assert "y mean: $w_A$" in fig.axes[5].get_title()
    scores = pd.DataFrame({"method": ["a", "a", "b", "b"], "image": ["1", "2", "1", "2"], "SCD": [1.0, 1.1, 1.2, 1.3]})
    fig = figures.per_image_distributions(scores, ["SCD"], "values")
    assert fig.axes[0].get_xlabel() == "metric value (unitless)"
    fig = figures.rank_heatmap(pd.DataFrame({"SCD": [1, 2]}, index=["a", "b"]), "ranks")
    assert fig.axes[0].get_ylabel() == "method"
