"""The explorer without a browser: pairs, cached engine, pure views (colour pairs too) and widget wiring."""

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
from res2netfuse.datasets import PAIR_SETS, pair_set
from res2netfuse.io import ImageError, load_gray_uint8, rgb_to_ycbcr
from res2netfuse.metrics import PAPER_METRICS, evaluate
from res2netfuse.model import ModelConfig, Res2NetFuse
from res2netfuse.pipeline import Sources, fuse_arrays, fuse_files, load_model
from res2netfuse.weights import default_weights


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
    return load_model("densefuse", data_dir.parent / "data/weights/densefuse_gray.model", device="cpu")


@pytest.fixture(scope="module")
def pair(data_dir: Path) -> ex.Pair:
    a = load_gray_uint8(data_dir / "fusion/tno/ir/01.png")[200:296, 300:428]
    b = load_gray_uint8(data_dir / "fusion/tno/vi/01.png")[200:296, 300:428]
    return ex.Pair("tno/01-crop", Sources(a / np.float32(255), b / np.float32(255)))


@pytest.fixture(scope="module")
def roadscene(data_dir: Path) -> tuple[ex.Pair, tuple[Path, Path]]:
    """The first RoadScene pair (colour visible image) and its two files."""
    stem, files = pair_set("roadscene").pairs()[0]
    return ex.load_pair("roadscene", stem), files


def png_bytes(img: np.ndarray) -> bytes:
    buf = bytes_io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def decoded(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(bytes_io.BytesIO(png)))


def colour_share(img: np.ndarray) -> float:
    """Share of pixels whose RGB channels differ by more than 2 levels (0 for a gray image)."""
    return float((np.ptp(img.astype(int), axis=-1) > 2).mean()) if img.ndim == 3 else 0.0


# ---- engine --------------------------------------------------------------------------------


def test_engine_matches_the_uncached_pipeline(densefuse: torch.nn.Module, pair: ex.Pair) -> None:
    engine = ex.FusionEngine(densefuse, "densefuse")
    for name, params in (("l1", {"r": 1}), ("mean", {"temperature": 0.5}), ("addition", {}), ("max", {})):
        got = engine.fuse(pair, ex.Settings.of(name, **params))
        ref = fuse_arrays(densefuse, pair.sources.a, pair.sources.b, name, **params)
        np.testing.assert_array_equal(got.image, ref.image)
        np.testing.assert_allclose(got.weight_a, ref.weight_a, atol=1e-6)


def test_strategy_switch_changes_the_fused_image_and_weights(densefuse: torch.nn.Module, pair: ex.Pair) -> None:
    engine = ex.FusionEngine(densefuse, "densefuse")
    l1 = ex.render(engine, pair, ex.ViewState(ex.Settings.of("l1"), ex.Settings.of("addition")))
    mx = ex.render(engine, pair, ex.ViewState(ex.Settings.of("max"), ex.Settings.of("addition")))
    assert np.abs(l1.fused.image.astype(int) - mx.fused.image).mean() > 1.0
    assert not np.array_equal(l1.heat_a, mx.heat_a)
    assert (l1.features_cached, mx.features_cached) == (False, True)


def test_cache_hit_does_not_recompute_features(densefuse: torch.nn.Module, pair: ex.Pair) -> None:
    model = CountingModel(densefuse)
    engine = ex.FusionEngine(model, "counting")
    assert not engine.features_cached(pair)
    engine.fuse(pair, ex.Settings.of("l1"))
    assert model.calls == 1 and engine.features_cached(pair)
    for name, params in (("mean", {}), ("mean", {"temperature": 2.0}), ("l1", {"r": 3}), ("max", {})):
        engine.fuse(pair, ex.Settings.of(name, **params))
    assert model.calls == 1 == engine.encodes and engine.decodes == 5
    engine.fuse(pair, ex.Settings.of("max"))  # a fused result is looked up, not decoded again
    assert engine.decodes == 5
    other = ex.Pair("other", Sources(pair.sources.b, pair.sources.a))
    assert not engine.features_cached(other)
    engine.fuse(other, ex.Settings.of("l1"))
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
    a, b = pair.sources.a, pair.sources.b
    sources = (np.round(a * 255).astype(np.uint8), np.round(b * 255).astype(np.uint8))
    cur = evaluate(*sources, fuse_arrays(densefuse, a, b, "l1").image, PAPER_METRICS)
    ref = evaluate(*sources, fuse_arrays(densefuse, a, b, "addition").image, PAPER_METRICS)
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


def test_missing_checkpoint_falls_back_to_the_shipped_model_and_says_how(tmp_path: Path) -> None:
    model, key, note = ex.load_explorer_model("res2netfuse", str(tmp_path / "none.pt"), "cpu")
    assert key[0] == "res2netfuse" and type(model).__name__ == "Res2NetFuse"
    assert Path(key[1]) == default_weights("res2netfuse").resolve()
    assert "none.pt" in note and "shipped" in note and "dvc repro train" in note
    with pytest.raises(FileNotFoundError, match="none.model"):
        ex.load_explorer_model("densefuse", str(tmp_path / "none.model"), "cpu")


# ---- pairs: the datasets registry and uploads --------------------------------------------


def test_pairs_come_from_the_datasets_registry(data_dir: Path) -> None:
    registered = pair_set("mri_ct")
    stem, (path_a, path_b) = registered.pairs()[1]
    loaded = ex.load_pair("mri_ct", stem)
    assert ex.list_pairs("mri_ct") == [s for s, _ in registered.pairs()]
    assert (loaded.label_a, loaded.label_b, loaded.colour) == (registered.label_a, registered.label_b, False)
    np.testing.assert_array_equal(loaded.gray_a, load_gray_uint8(path_a))
    np.testing.assert_array_equal(loaded.shown_b, load_gray_uint8(path_b))
    with pytest.raises(ValueError, match="unknown data set 'TNO'; choose one of tno21"):
        ex.load_pair("TNO", "01")
    with pytest.raises(ValueError, match="mri_ct has no pair 'x'"):
        ex.load_pair("mri_ct", "x")


def test_colour_pair_fuses_the_luminance_and_shows_the_colour_image(roadscene: tuple[ex.Pair, Any]) -> None:
    pair, (_, path_b) = roadscene
    rgb = np.asarray(Image.open(path_b).convert("RGB"))
    assert pair.colour and pair.gray_b.ndim == 2 and colour_share(rgb) > 0.3
    np.testing.assert_allclose(pair.sources.b, rgb_to_ycbcr(rgb / np.float32(255))[..., 0], atol=1e-6)
    assert np.abs(pair.shown_b.astype(int) - rgb).max() <= 1  # the colour image, up to rounding


def test_non_image_upload_names_the_uploaded_file() -> None:
    ir = ("ir.png", png_bytes(np.zeros((60, 80), np.uint8)))
    with pytest.raises(ImageError) as err:
        ex.upload_pair(ir, ("notes.txt", b"this is not an image"))
    assert err.value.path.name == "notes.txt" and "cannot be read as an image" in str(err.value)
    assert "explorer-upload-" not in str(err.value)  # the temporary copy is not what the user knows
    with pytest.raises(ImageError, match="empty.png: is empty"):
        ex.upload_pair(ir, ("empty.png", b""))


def test_upload_pair_of_different_sizes_is_refused() -> None:
    a, b = png_bytes(np.zeros((60, 80), np.uint8)), png_bytes(np.zeros((60, 90), np.uint8))
    with pytest.raises(ImageError, match="90x60 differs from ir.png .80x60.*same size"):
        ex.upload_pair(("ir.png", a), ("vi.png", b))
    with pytest.raises(ValueError, match="choose one file for each source"):
        ex.upload_pair(("ir.png", a), None)


def test_colour_upload_for_b_fuses_its_luminance_and_keeps_its_colour() -> None:
    rgb = np.zeros((50, 60, 3), np.uint8)
    rgb[..., 0] = 200
    pair = ex.upload_pair(("ir.png", png_bytes(np.full((50, 60), 7, np.uint8))), ("vi.png", png_bytes(rgb)))
    assert pair.colour and pair.sources.b.shape == (50, 60) and int(pair.gray_b[0, 0]) == round(0.299 * 200)
    assert np.abs(pair.shown_b.astype(int) - rgb).max() <= 1


def test_oversized_upload_is_refused_with_the_limit() -> None:
    side = int(np.ceil(np.sqrt(ex.MAX_UPLOAD_PIXELS))) + 1
    big = png_bytes(np.zeros((side, side), np.uint8))
    with pytest.raises(ImageError, match=rf"ir.png: is {side}x{side} px; .* megapixels.*downscale"):
        ex.upload_pair(("ir.png", big), ("vi.png", big))


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


def test_gray_and_colour_are_composed_in_colour() -> None:
    gray, colour = np.full((4, 10), 50, np.uint8), np.zeros((4, 10, 3), np.uint8)
    colour[..., 2] = 240
    out = ex.composite(gray, colour, 0.3, "split")
    assert out.shape == (4, 10, 3) and (out[:, :7] == 50).all() and (out[:, 7:] == colour[:, 7:]).all()
    blend = ex.composite(colour, gray, 0.5, "blend")
    assert (blend[..., 0] == 25).all() and (blend[..., 2] == 145).all()


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
    rgb = np.stack([img, 255 - img, img // 2], axis=-1)
    mixed = ex.zoom_strip([img, rgb], (10, 20, 30, 30), tile=90)
    assert mixed.shape == (90, 2 * 90 + 4, 3)
    np.testing.assert_array_equal(mixed[::3, 94::3], rgb[10:40, 20:50])
    np.testing.assert_array_equal(mixed[::3, :90:3, 1], img[10:40, 20:50])


def test_outline_draws_the_box_on_gray_and_colour() -> None:
    for img in (np.full((20, 30), 7, np.uint8), np.full((20, 30, 3), 7, np.uint8)):
        out = ex.outline(img, (5, 6, 10, 12), colour=(1, 2, 3), width=2)
        assert out.shape == (20, 30, 3) and tuple(out[5, 6]) == (1, 2, 3) and tuple(out[14, 17]) == (1, 2, 3)
        assert (out[8:13, 9:15] == 7).all() and (out[:5] == 7).all() and (img == 7).all()


def test_display_encoders_round_trip() -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    np.testing.assert_array_equal(decoded(ex.to_png(rgb)), rgb)
    assert decoded(ex.to_jpeg(rgb)).shape == rgb.shape and ex.to_jpeg(rgb)[:2] == b"\xff\xd8"


def test_colour_pair_is_shown_as_the_cli_writes_it(densefuse: torch.nn.Module, roadscene: tuple[ex.Pair, Any],
                                                   tmp_path: Path) -> None:
    """Fused luminance + visible chroma, pixel for pixel the CLI's file; heat maps and metrics on gray."""
    pair, files = roadscene
    engine = ex.FusionEngine(densefuse, "densefuse")
    view = ex.render(engine, pair, ex.ViewState(ex.Settings.of("l1"), ex.Settings.of("addition"),
                                                zoom=(0.0, 0.0, 32)))
    cli = fuse_files(densefuse, *files, tmp_path / "fused.png", "l1")
    written = np.asarray(Image.open(tmp_path / "fused.png"))
    top, left, h, w = view.box
    outside = np.ones(written.shape[:2], bool)
    outside[top:top + h, left:left + w] = False
    assert view.shown.shape == written.shape and colour_share(view.shown) > 0.3
    np.testing.assert_array_equal(view.shown[outside], written[outside])
    np.testing.assert_array_equal(view.fused.image, cli.image)  # the gray luminance
    np.testing.assert_array_equal(view.heat_a, ex.heatmap(cli.weight_a))
    chroma = rgb_to_ycbcr(view.shown / np.float32(255))[..., 1:] - pair.sources.visible_ycbcr[..., 1:]
    assert np.median(np.abs(chroma)) < 1 / 255  # the visible image's chroma is kept
    table = ex.metrics_table(engine, pair, ex.Settings.of("l1"), ex.Settings.of("addition"), names=("Qabf",))
    assert table.current[0] == pytest.approx(evaluate(pair.gray_a, pair.gray_b, cli.image, ("Qabf",))["Qabf"])


def test_metrics_html_marks_pending_rows_and_the_sign_of_delta() -> None:
    rows = [{"metric": "SSIM_a", "current": 0.7, "reference": 0.6, "delta": 0.7 - 0.6},
            {"metric": "Qabf", "current": 0.4, "reference": 0.5, "delta": 0.4 - 0.5}]
    out = ex.metrics_html(rows)
    assert "color:#1b5e20'>+0.1000" in out and "color:#b00020'>-0.1000" in out
    assert out.count("<tr>") == len(PAPER_METRICS) and out.count("&hellip;") == 3 * (len(PAPER_METRICS) - 2)


# ---- widget wiring -------------------------------------------------------------------------


@pytest.fixture
def explorer(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> ex.FusionExplorer:
    monkeypatch.chdir(data_dir.parent)  # the default DenseFuse weights are a path in the repository
    e = ex.FusionExplorer("mri_ct", "11", "densefuse", strategy="l1", reference="addition", device="cpu")
    yield e
    e.wait_metrics()


def test_widget_dataset_choices_are_the_registry(explorer: ex.FusionExplorer) -> None:
    assert [value for _, value in explorer.c.dataset.options] == [*PAIR_SETS, ex.UPLOAD]
    assert explorer.c.dataset.value == "mri_ct" and explorer.c.pair.value == "11"


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


def test_widget_roadscene_pair_is_shown_in_colour(explorer: ex.FusionExplorer, roadscene: tuple[ex.Pair, Any],
                                                  tmp_path: Path) -> None:
    pair, files = roadscene
    assert colour_share(decoded(explorer.images["fused"].value)) < 0.05  # gray pair: only the zoom box
    explorer.c.dataset.value = "roadscene"
    assert f"on {pair.key}" in explorer.status.value
    assert colour_share(decoded(explorer.images["b"].value)) > 0.3
    assert colour_share(decoded(explorer.images["fused"].value)) > 0.3
    assert decoded(explorer.images["a"].value).ndim == 2 and "chroma" in explorer.captions["fused"].value
    fused = next(p for p in explorer.snapshot(str(tmp_path / "snap")) if p.name == "fused.png")
    fuse_files(explorer.engine.model, *files, tmp_path / "cli.png", "l1")
    np.testing.assert_array_equal(decoded(fused.read_bytes()), decoded((tmp_path / "cli.png").read_bytes()))


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
    upload(explorer.c.upload_b, "vi.png", png_bytes(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)))
    explorer.c.upload_go.click()
    assert "Using ir.png + vi.png" in explorer.upload_msg.value
    assert explorer.c.dataset.value == ex.UPLOAD and explorer.last_view.fused.image.shape == (60, 80)
    assert colour_share(explorer.last_view.shown) > 0.3  # a colour upload for B is shown in colour


def test_widget_falls_back_to_the_shipped_model_warns_and_keeps_engines(explorer: ex.FusionExplorer,
                                                                        tmp_path: Path) -> None:
    dense = explorer.engine
    explorer.c.checkpoint.value = str(tmp_path / "none.pt")
    explorer.c.model.value = "res2netfuse"
    assert explorer.engine is not dense and type(explorer.engine.model).__name__ == "Res2NetFuse"
    assert "none.pt" in explorer.model_note.value and "dvc repro train" in explorer.model_note.value
    assert "#b26a00" in explorer.model_note.value
    explorer.c.model.value = "densefuse"
    assert explorer.engine is dense and "features cached" in explorer.status.value
    assert "#b26a00" not in explorer.model_note.value
