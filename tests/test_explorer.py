"""The explorer's state -> images/metrics functions and its widget wiring (no browser needed)."""

from __future__ import annotations

import io as bytes_io
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from res2netfuse import explorer as ex
from res2netfuse.io import ImageError, load_gray_uint8
from res2netfuse.metrics import PAPER_METRICS, evaluate
from res2netfuse.model import ModelConfig, Res2NetFuse
from res2netfuse.pipeline import fuse_arrays, load_model


class CountingModel(torch.nn.Module):
    """Wraps a fusion model and counts encoder calls, independently of the engine's own counter."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner, self.input_scale, self.calls = inner, inner.input_scale, 0

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.inner.encode(x)

    def decode(self, f: torch.Tensor) -> torch.Tensor:
        return self.inner.decode(f)


@pytest.fixture(scope="module")
def densefuse(data_dir: Path) -> torch.nn.Module:
    return load_model("densefuse", device="cpu")


@pytest.fixture(scope="module")
def pair(data_dir: Path) -> ex.Pair:
    a = load_gray_uint8(data_dir / "fusion/tno/ir/01.png")[200:296, 300:428]
    b = load_gray_uint8(data_dir / "fusion/tno/vi/01.png")[200:296, 300:428]
    return ex.Pair("TNO/01-crop", a, b)


def png_bytes(img: np.ndarray) -> bytes:
    buf = bytes_io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def test_engine_matches_the_uncached_pipeline(densefuse: torch.nn.Module, pair: ex.Pair) -> None:
    engine = ex.FusionEngine(densefuse, "densefuse")
    for name, params in (("l1", {"r": 1}), ("mean", {"temperature": 0.5}), ("addition", {}), ("max", {})):
        got = engine.fuse(pair, ex.Settings.of(name, **params))
        ref = fuse_arrays(densefuse, pair.a / 255.0, pair.b / 255.0, name, **params)
        np.testing.assert_array_equal(got.image, ref.image)
        np.testing.assert_allclose(got.weight_a, ref.weight_a, atol=1e-6)


def test_strategy_switch_changes_the_fused_image_and_weights(densefuse: torch.nn.Module, pair: ex.Pair) -> None:
    engine = ex.FusionEngine(densefuse, "densefuse")
    l1 = ex.render(engine, pair, ex.ViewState(ex.Settings.of("l1"), ex.Settings.of("addition")))
    mx = ex.render(engine, pair, ex.ViewState(ex.Settings.of("max"), ex.Settings.of("addition")))
    assert np.abs(l1.fused.image.astype(int) - mx.fused.image).mean() > 1.0
    assert not np.array_equal(l1.heat_a, mx.heat_a)


def test_cache_hit_does_not_recompute_features(densefuse: torch.nn.Module, pair: ex.Pair) -> None:
    model = CountingModel(densefuse)
    engine = ex.FusionEngine(model, "counting")
    first = engine.fuse(pair, ex.Settings.of("l1"))
    assert (model.calls, first.features_cached) == (1, False)
    for name, params in (("mean", {}), ("mean", {"temperature": 2.0}), ("l1", {"r": 3}), ("max", {})):
        assert engine.fuse(pair, ex.Settings.of(name, **params)).features_cached
    assert model.calls == 1 == engine.encodes
    other = ex.Pair("other", pair.b, pair.a)
    assert not engine.fuse(other, ex.Settings.of("l1")).features_cached
    assert model.calls == 2


def test_feature_cache_is_keyed_by_model(pair: ex.Pair) -> None:
    torch.manual_seed(0)
    m1, m2 = (CountingModel(Res2NetFuse(ModelConfig()).eval()) for _ in range(2))
    e1, e2 = ex.FusionEngine(m1, "m1"), ex.FusionEngine(m2, "m2")
    i1, i2 = e1.fuse(pair, ex.Settings.of("l1")).image, e2.fuse(pair, ex.Settings.of("l1")).image
    assert (m1.calls, m2.calls) == (1, 1) and not np.array_equal(i1, i2)


def test_metrics_table_against_direct_evaluation(densefuse: torch.nn.Module, pair: ex.Pair) -> None:
    engine = ex.FusionEngine(densefuse, "densefuse")
    table = ex.metrics_table(engine, pair, ex.Settings.of("l1"), ex.Settings.of("addition"))
    cur = evaluate(pair.a, pair.b, fuse_arrays(densefuse, pair.a / 255.0, pair.b / 255.0, "l1").image, PAPER_METRICS)
    ref = evaluate(pair.a, pair.b, fuse_arrays(densefuse, pair.a / 255.0, pair.b / 255.0, "addition").image,
                   PAPER_METRICS)
    assert list(table.metric) == list(PAPER_METRICS)
    np.testing.assert_allclose(table.current, [cur[m] for m in PAPER_METRICS], rtol=1e-12)
    np.testing.assert_allclose(table.delta, [cur[m] - ref[m] for m in PAPER_METRICS], rtol=1e-9, atol=1e-12)


def test_settings_validate_and_fill_defaults(densefuse: torch.nn.Module, pair: ex.Pair) -> None:
    s = ex.Settings.of("mean", temperature=2.0)
    assert s.kwargs["temperature"] == 2.0 and set(s.kwargs) == {"temperature", "normalise", "form"}
    assert ex.Settings.of("l1") == ex.Settings.of("l1", r=0)  # the cache key does not depend on spelling
    with pytest.raises(ValueError, match="has no parameter radius"):
        ex.Settings.of("l1", radius=1)
    with pytest.raises(ValueError, match="unknown fusion strategy"):
        ex.Settings.of("median")
    with pytest.raises(ValueError, match="integer"):
        ex.FusionEngine(densefuse, "densefuse").fuse(pair, ex.Settings.of("l1", r=-1))


# ---- bad uploads ---------------------------------------------------------------------------


def test_non_image_upload_names_the_uploaded_file() -> None:
    with pytest.raises(ImageError) as err:
        ex.decode_upload("notes.txt", b"this is not an image")
    assert err.value.path.name == "notes.txt" and "cannot be read as an image" in str(err.value)
    assert "explorer-upload-" not in str(err.value)  # the temporary copy is not what the user knows
    with pytest.raises(ImageError, match="empty"):
        ex.decode_upload("empty.png", b"")


def test_upload_pair_of_different_sizes_is_refused() -> None:
    a, b = png_bytes(np.zeros((60, 80), np.uint8)), png_bytes(np.zeros((60, 90), np.uint8))
    with pytest.raises(ImageError, match="90x60 differs from ir.png .80x60.*same size"):
        ex.upload_pair(("ir.png", a), ("vi.png", b))
    with pytest.raises(ValueError, match="choose one file for each source"):
        ex.upload_pair(("ir.png", a), None)


def test_upload_pair_converts_colour_to_gray() -> None:
    rgb = np.zeros((50, 60, 3), np.uint8)
    rgb[..., 0] = 200
    pair = ex.upload_pair(("ir.png", png_bytes(np.full((50, 60), 7, np.uint8))), ("vi.png", png_bytes(rgb)))
    assert pair.b.shape == (50, 60) and int(pair.b[0, 0]) == round(0.298936021293775 * 200)


# ---- pure view functions -------------------------------------------------------------------

images = arrays(np.uint8, st.tuples(st.integers(2, 40), st.integers(2, 40)))


@given(images, st.floats(0, 1), st.sampled_from(["split", "blend"]))
@settings(max_examples=60, deadline=None)
def test_composite_is_bounded_by_its_inputs(current: np.ndarray, position: float, mode: Any) -> None:
    other = 255 - current
    out = ex.composite(current, other, position, mode)
    lo, hi = np.minimum(current, other), np.maximum(current, other)
    assert out.shape == current.shape and np.all(out >= lo) and np.all(out <= hi)
    np.testing.assert_array_equal(ex.composite(current, other, 0.0, mode), current)
    np.testing.assert_array_equal(ex.composite(current, other, 1.0, mode), other)
    np.testing.assert_array_equal(ex.composite(current, None, position, mode), current)


def test_split_shows_the_other_image_on_the_right() -> None:
    current, other = np.zeros((4, 10), np.uint8), np.full((4, 10), 9, np.uint8)
    out = ex.composite(current, other, 0.3, "split")
    assert (out[:, :7] == 0).all() and (out[:, 7:] == 9).all()
    with pytest.raises(ValueError, match="mode"):
        ex.composite(current, other, 0.3, "wipe")  # type: ignore[arg-type]


@given(st.integers(1, 300), st.integers(1, 300), st.floats(0, 1), st.floats(0, 1), st.integers(1, 400))
@settings(max_examples=100, deadline=None)
def test_zoom_box_stays_inside_the_image(h: int, w: int, cx: float, cy: float, side: int) -> None:
    top, left, bh, bw = ex.zoom_box((h, w), cx, cy, side)
    assert 0 <= top and top + bh <= h and 0 <= left and left + bw <= w
    assert (bh, bw) == (min(side, h), min(side, w))


def test_heatmap_uses_a_fixed_zero_to_one_scale() -> None:
    w = np.array([[0.0, 0.5, 1.0, 2.0]])
    heat = ex.heatmap(w)
    assert heat.shape == (1, 4, 3) and heat.dtype == np.uint8
    np.testing.assert_array_equal(heat[0, 2], heat[0, 3])  # clipped above 1
    assert heat[0, 0].sum() < heat[0, 1].sum() < heat[0, 2].sum()  # inferno brightens with the weight


def test_zoom_strip_tiles_the_same_region() -> None:
    img = np.arange(100 * 120, dtype=np.uint32).reshape(100, 120).astype(np.uint8)
    strip = ex.zoom_strip([img, img], (10, 20, 30, 30), tile=90)
    assert strip.shape == (90, 2 * 90 + 4)
    np.testing.assert_array_equal(strip[::3, :90:3], img[10:40, 20:50])


# ---- widget wiring -------------------------------------------------------------------------


@pytest.fixture
def explorer(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> ex.FusionExplorer:
    monkeypatch.chdir(data_dir.parent)
    e = ex.FusionExplorer("MRI-CT", "11", "densefuse", strategy="l1", reference="addition", device="cpu")
    yield e
    e.wait_metrics()


def test_widget_strategy_switch_updates_the_shown_image(explorer: ex.FusionExplorer) -> None:
    before = explorer.images["fused"].value
    explorer.c.strategy.value = "max"
    assert explorer.images["fused"].value != before
    assert "max" in explorer.status.value and "features cached" in explorer.status.value
    assert list(explorer.c.param_widgets) == []  # max has no parameters
    explorer.c.strategy.value = "mean"
    assert set(explorer.c.param_widgets) == {"temperature", "normalise", "form"}
    df = explorer.wait_metrics()
    assert df is not None and list(df.metric) == list(PAPER_METRICS)
    assert "delta" in explorer.table.value and "&hellip;" not in explorer.table.value


def test_widget_invalid_parameter_is_a_message(explorer: ex.FusionExplorer) -> None:
    explorer.c.strategy.value = "mean"
    explorer.c.param_widgets["form"].value = "median"
    assert "form must be" in explorer.status.value and "b00020" in explorer.status.value
    assert "no metrics until the error above is fixed" in explorer.table.value and explorer.wait_metrics() is None


def test_widget_bad_uploads_give_visible_messages(explorer: ex.FusionExplorer) -> None:
    def upload(widget: Any, name: str, content: bytes) -> None:
        widget.value = ({"name": name, "type": "", "size": len(content), "content": memoryview(content),
                         "last_modified": datetime.now(timezone.utc)},)

    shown = explorer.images["fused"].value
    upload(explorer.c.upload_a, "ir.png", png_bytes(np.zeros((60, 80), np.uint8)))
    upload(explorer.c.upload_b, "vi.txt", b"not an image")
    explorer.c.upload_go.click()
    assert "vi.txt" in explorer.upload_msg.value and "cannot be read as an image" in explorer.upload_msg.value
    upload(explorer.c.upload_b, "vi.png", png_bytes(np.zeros((64, 80), np.uint8)))
    explorer.c.upload_go.click()
    assert "same size" in explorer.upload_msg.value
    assert explorer.images["fused"].value == shown  # the previous pair stays on screen
    rng = np.random.default_rng(0)
    upload(explorer.c.upload_b, "vi.png", png_bytes(rng.integers(0, 256, (60, 80), dtype=np.uint8)))
    explorer.c.upload_go.click()
    assert "Using ir.png + vi.png" in explorer.upload_msg.value
    assert explorer.c.dataset.value == ex.UPLOAD and explorer.last_view.fused.image.shape == (60, 80)


def test_missing_checkpoint_falls_back_to_densefuse_and_says_how(data_dir: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(data_dir.parent)
    model, key, note = ex.load_explorer_model("res2netfuse", str(tmp_path / "none.pt"), "cpu")
    assert key[0] == "densefuse" and type(model).__name__ == "DenseFuse"
    assert "none.pt" in note and "dvc repro train" in note


def test_metrics_html_marks_pending_rows_and_the_sign_of_delta() -> None:
    rows = [{"metric": "SSIM_a", "current": 0.7, "reference": 0.6, "delta": 0.7 - 0.6},
            {"metric": "Qabf", "current": 0.4, "reference": 0.5, "delta": 0.4 - 0.5}]
    out = ex.metrics_html(rows)
    assert "color:#1b5e20'>+0.1000" in out and "color:#b00020'>-0.1000" in out
    assert out.count("<tr>") == len(PAPER_METRICS) and out.count("&hellip;") == 3 * (len(PAPER_METRICS) - 2)


def test_oversized_upload_is_refused_with_the_limit() -> None:
    side = int(np.ceil(np.sqrt(ex.MAX_UPLOAD_PIXELS))) + 1
    big = png_bytes(np.zeros((side, side), np.uint8))
    with pytest.raises(ImageError, match=rf"ir.png: is {side}x{side} px; .* megapixels.*downscale"):
        ex.upload_pair(("ir.png", big), ("vi.png", big))


def test_widget_fallback_reuses_the_densefuse_engine_and_warns(explorer: ex.FusionExplorer, tmp_path: Path) -> None:
    dense = explorer.engine
    explorer.c.checkpoint.value = str(tmp_path / "none.pt")
    explorer.c.model.value = "res2netfuse"
    assert explorer.engine is dense and "features cached" in explorer.status.value
    assert "none.pt" in explorer.model_note.value and "dvc repro train" in explorer.model_note.value
    assert "#b26a00" in explorer.model_note.value
