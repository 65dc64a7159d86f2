"""The explorer page: ipywidgets controls -> :class:`ViewState` -> :func:`render` -> image and HTML widgets.

One small builder per panel (source pair, model, strategy, comparison, zoom, outputs) makes its
widgets, lays them out and connects their callbacks. Images update synchronously inside a
control's callback (with a busy indicator); the metrics are computed afterwards on one
low-priority worker thread and shown row by row, so they never delay the images; a newer control
change makes a pending metrics job obsolete.
"""

from __future__ import annotations

import concurrent.futures
import html
import os
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from .. import report
from ..datasets import PAIR_SETS
from ..fusion import STRATEGIES
from ..metrics import PAPER_METRICS
from ..pipeline import ModelName, save_fused
from ..weights import RES2NETFUSE_1
from .engine import FusionEngine, Settings, load_explorer_model, metric_rows
from .pairs import Pair, list_pairs, load_pair, upload_pair
from .view import View, ViewState, colourbar_png, metrics_html, render, to_jpeg, to_png

UPLOAD = "your own pair (upload)"
VIEWS = ("a", "b", "fused", "heat_a", "heat_b", "zoom")  # the image widgets, in grid order
JPEG_VIEWS = ("heat_a", "heat_b")  # pure visualisations; every other view is lossless PNG
ERROR = "<span style='color:#b00020'>{}</span>"
BUSY = ("<style>@keyframes explorer-spin{to{transform:rotate(360deg)}}</style><span style='display:inline-block;"
        "width:0.8em;height:0.8em;margin-right:0.4em;border:2px solid #888;border-top-color:transparent;"
        "border-radius:50%;animation:explorer-spin 0.8s linear infinite'></span>")  # busy indicator (CSS spinner)


def dataset_options() -> list[tuple[str, str]]:
    """``(label, value)`` of the data set dropdown: the registered pair sets, then the upload choice."""
    return [(f"{s.title}, colour" if s.colour else s.title, s.name) for s in PAIR_SETS.values()] + [(UPLOAD, UPLOAD)]


def parameter_widget(name: str, default: Any) -> widgets.ValueWidget:
    """A control for one strategy parameter, chosen by the type of its default value."""
    common: dict[str, Any] = {"description": name, "continuous_update": False,
                              "style": {"description_width": "initial"}}
    if isinstance(default, bool):
        return widgets.Checkbox(value=default, description=name)
    if isinstance(default, int):
        return widgets.IntSlider(value=default, min=0, max=max(8, 4 * default), **common)
    if isinstance(default, float) and default > 0:
        exp = float(np.log10(default))
        return widgets.FloatLogSlider(value=default, base=10, min=exp - 2, max=exp + 2, step=0.05,
                                      readout_format=".3g", **common)
    if isinstance(default, float):
        return widgets.FloatText(value=default, description=name)
    return widgets.Text(value=str(default), **common)


def _wide() -> dict[str, Any]:
    """Style and layout shared by the controls of the left column."""
    return {"style": {"description_width": "90px"}, "layout": widgets.Layout(width="320px")}


def _slider(description: str, value: float) -> widgets.FloatSlider:
    return widgets.FloatSlider(value=value, min=0, max=1, step=0.01, description=description,
                               continuous_update=False, **_wide())


def _html(css_class: str, value: str = "") -> widgets.HTML:
    """An HTML widget the browser tests can find by its CSS class."""
    out = widgets.HTML(value)
    out.add_class(css_class)
    return out


class Controls:
    """The explorer's input widgets, made by the panel builders of :class:`FusionExplorer`."""

    dataset: widgets.Dropdown
    pair: widgets.Dropdown
    upload_a: widgets.FileUpload
    upload_b: widgets.FileUpload
    upload_go: widgets.Button
    model: widgets.Dropdown
    checkpoint: widgets.Text
    strategy: widgets.Dropdown
    params: widgets.VBox
    param_widgets: dict[str, widgets.ValueWidget]
    reference: widgets.Dropdown
    compare: widgets.Dropdown
    mode: widgets.ToggleButtons
    position: widgets.FloatSlider
    zoom_x: widgets.FloatSlider
    zoom_y: widgets.FloatSlider
    zoom_side: widgets.IntSlider


class FusionExplorer:
    """The explorer UI (``.ui``); every control change re-renders through the cached engine.

    ``dataset`` is a name of :data:`res2netfuse.datasets.PAIR_SETS` and ``pair`` one of its stems
    (default: the first). ``last_view``, ``last_latency`` (seconds from control change to updated
    image widgets) and :meth:`wait_metrics` make it scriptable from a notebook or a test.
    """

    def __init__(self, dataset: str = "tno21", pair: str | None = None, model: ModelName = "res2netfuse",
                 checkpoint: str = str(RES2NETFUSE_1), strategy: str = "l1",
                 reference: str = "addition", device: str = "auto") -> None:
        self.device = device
        self._engines: dict[Hashable, FusionEngine] = {}  # per model key: features stay cached across switches
        self._generation = 0  # bumped by every update; a metrics job of an older one is obsolete
        self._lock = threading.Lock()  # makes "is this job current? then show its table" atomic
        self._suspended = False
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="explorer-metrics", initializer=_background_priority)
        self._metrics_future: concurrent.futures.Future[pd.DataFrame | None] | None = None
        self.last_view: View | None = None
        self.last_latency = float("nan")
        self._shown_pair: str | None = None
        self.c = Controls()
        controls = widgets.VBox([self._source_panel(dataset), self._model_panel(model, checkpoint),
                                 self._strategy_panel(strategy, reference), self._compare_panel(),
                                 self._zoom_panel()], layout=widgets.Layout(width="340px", min_width="340px"))
        self.ui = widgets.HBox([controls, self._output_panel()], layout=widgets.Layout(width="100%"))
        self._pair = load_pair(dataset, pair if pair is not None else self.c.pair.value)
        with self._suspend():
            self.c.pair.value = self._pair.key.split("/", 1)[1]
        self._load_model()
        self.update()

    # ---- panels: each makes its widgets, lays them out and connects their callbacks ---------
    def _source_panel(self, dataset: str) -> widgets.VBox:
        """A registered data set and pair, or two uploaded files."""
        c = self.c
        c.pair = widgets.Dropdown(options=list_pairs(dataset), description="pair", **_wide())
        c.dataset = widgets.Dropdown(options=dataset_options(), value=dataset, description="dataset", **_wide())
        c.dataset.add_class("explorer-dataset")
        c.upload_a, c.upload_b = (widgets.FileUpload(accept="image/*", multiple=False, description=f"source {s}")
                                  for s in "AB")
        c.upload_go = widgets.Button(description="fuse uploaded pair", icon="upload")
        self.upload_msg = _html("explorer-upload-msg")
        c.dataset.observe(self._on_dataset, "value")
        c.pair.observe(self._on_pair, "value")
        c.upload_go.on_click(self._on_upload)
        return widgets.VBox([widgets.HTML("<b>Source pair</b>"), c.dataset, c.pair,
                             widgets.HTML("<small>or upload your own registered pair (B may be in colour):</small>"),
                             widgets.HBox([c.upload_a, c.upload_b]), c.upload_go, self.upload_msg])

    def _model_panel(self, model: str, checkpoint: str) -> widgets.VBox:
        """Res2NetFuse (with its checkpoint path) or DenseFuse, and a note on what was loaded."""
        c = self.c
        c.model = widgets.Dropdown(options=[("Res2NetFuse", "res2netfuse"), ("DenseFuse", "densefuse")],
                                   value=model, description="model", **_wide())
        c.checkpoint = widgets.Text(value=checkpoint, description="checkpoint", continuous_update=False,
                                    disabled=model != "res2netfuse", **_wide())
        self.model_note = widgets.HTML()
        c.model.observe(self._on_model, "value")
        c.checkpoint.observe(self._on_model, "value")
        return widgets.VBox([widgets.HTML("<b>Model</b>"), c.model, c.checkpoint, self.model_note])

    def _strategy_panel(self, strategy: str, reference: str) -> widgets.VBox:
        """The fusion strategy, its parameters (rebuilt per strategy) and the reference strategy."""
        c, names = self.c, list(STRATEGIES)
        c.strategy = widgets.Dropdown(options=names, value=strategy, description="strategy", **_wide())
        c.strategy.add_class("explorer-strategy")
        c.params = widgets.VBox()
        c.reference = widgets.Dropdown(options=names, value=reference, description="reference", **_wide())
        self.description = widgets.HTML()
        self._strategy_params(strategy)
        c.strategy.observe(self._on_strategy, "value")
        c.reference.observe(self._on_view, "value")
        return widgets.VBox([widgets.HTML("<b>Fusion strategy</b>"), c.strategy, self.description, c.params,
                             c.reference])

    def _compare_panel(self) -> widgets.VBox:
        """What the fused image is split with or blended towards, and by how much."""
        c = self.c
        c.compare = widgets.Dropdown(options=[("nothing", "none"), ("reference strategy", "reference"),
                                              ("source A", "a"), ("source B", "b")],
                                     value="none", description="compare with", **_wide())
        c.mode = widgets.ToggleButtons(options=["split", "blend"], value="split", style={"button_width": "70px"})
        c.position = _slider("share", 0.5)
        for w in (c.compare, c.mode, c.position):
            w.observe(self._on_view, "value")
        return widgets.VBox([widgets.HTML("<b>Compare</b>"), c.compare, c.mode, c.position])

    def _zoom_panel(self) -> widgets.VBox:
        """Centre and side of the zoomed region."""
        c = self.c
        c.zoom_x, c.zoom_y = _slider("zoom x", 0.5), _slider("zoom y", 0.5)
        c.zoom_side = widgets.IntSlider(value=96, min=16, max=256, step=8, description="zoom side px",
                                        continuous_update=False, **_wide())
        for w in (c.zoom_x, c.zoom_y, c.zoom_side):
            w.observe(self._on_view, "value")
        return widgets.VBox([widgets.HTML("<b>Zoom region</b>"), c.zoom_x, c.zoom_y, c.zoom_side])

    def _output_panel(self) -> widgets.VBox:
        """Status line, the six image views with captions, the heat maps' colour bar, the metrics table."""
        self.status = _html("explorer-status")
        self.table = _html("explorer-metrics", "<i>metrics pending</i>")
        self.images = {k: widgets.Image(format="jpeg" if k in JPEG_VIEWS else "png",
                                        layout=widgets.Layout(width="100%")) for k in VIEWS}
        self.captions = {k: widgets.HTML() for k in VIEWS}
        for k, image in self.images.items():
            image.add_class(f"explorer-{k.replace('_', '-')}")
        cells = [widgets.VBox([self.captions[k], self.images[k]],
                              layout=widgets.Layout(width="100%", min_width="0", overflow="hidden")) for k in VIEWS]
        grid = widgets.GridBox(cells, layout=widgets.Layout(grid_template_columns="repeat(3, 1fr)", grid_gap="6px",
                                                            width="100%"))
        bar = widgets.Image(value=colourbar_png(), format="png", layout=widgets.Layout(width="320px"))
        return widgets.VBox([self.status, grid, bar, widgets.HTML("<b>Paper metrics</b> (higher is better; "
                             "delta = current - reference)"), self.table], layout=widgets.Layout(flex="1"))

    def _strategy_params(self, name: str) -> None:
        """One control per parameter of strategy ``name``, and its description."""
        self.c.param_widgets = {k: parameter_widget(k, v) for k, v in STRATEGIES[name].defaults.items()}
        for w in self.c.param_widgets.values():
            w.observe(self._on_view, "value")
        self.c.params.children = list(self.c.param_widgets.values())
        self.description.value = f"<small>{html.escape(STRATEGIES[name].description.replace('``', ''))}</small>"

    @contextmanager
    def _suspend(self) -> Iterator[None]:
        """Apply several control changes without re-rendering after each."""
        self._suspended, before = True, self._suspended
        try:
            yield
        finally:
            self._suspended = before

    # ---- callbacks -------------------------------------------------------------------------
    def _on_dataset(self, change: dict[str, Any]) -> None:
        if self._suspended:
            return
        if change["new"] == UPLOAD:
            self.upload_msg.value = "Choose a file for source A and for source B, then press 'fuse uploaded pair'."
            return
        with self._suspend():
            self.c.pair.options = list_pairs(change["new"])
        self._set_pair(lambda: load_pair(change["new"], self.c.pair.value))

    def _on_pair(self, change: dict[str, Any]) -> None:
        if not self._suspended and change["new"] is not None and self.c.dataset.value != UPLOAD:
            self._set_pair(lambda: load_pair(self.c.dataset.value, change["new"]))

    def _on_model(self, _: dict[str, Any]) -> None:
        self.c.checkpoint.disabled = self.c.model.value != "res2netfuse"
        if not self._suspended and self._guard(self._load_model):
            self.update()

    def _on_strategy(self, change: dict[str, Any]) -> None:
        if self._suspended:
            return
        with self._suspend():
            self._strategy_params(change["new"])
        self.update()

    def _on_view(self, _: dict[str, Any]) -> None:
        if not self._suspended:
            self.update()

    def _on_upload(self, _: Any) -> None:
        files = [(f["name"], bytes(f["content"])) if (f := next(iter(u.value), None)) else None
                 for u in (self.c.upload_a, self.c.upload_b)]
        try:
            pair = upload_pair(*files)
        except ValueError as exc:  # ImageError is a ValueError
            self.upload_msg.value = ERROR.format(f"Upload not used: {html.escape(str(exc))}")
            return
        names = " + ".join(html.escape(f[0]) for f in files if f)
        self.upload_msg.value = f"<span style='color:#1b5e20'>Using {names}.</span>"
        with self._suspend():
            self.c.dataset.value = UPLOAD
        self._pair = pair
        self.update()

    def _set_pair(self, load: Callable[[], Pair]) -> None:
        if self._guard(lambda: setattr(self, "_pair", load())):
            self.update()

    def _guard(self, action: Callable[[], None]) -> bool:
        """Run ``action``; show a ValueError/FileNotFoundError in the status line instead of raising."""
        try:
            action()
            return True
        except (ValueError, FileNotFoundError) as exc:
            self.status.value = ERROR.format(html.escape(str(exc)))
            return False

    def _load_model(self) -> None:
        """(Re)load the chosen weights (cheap) and reuse the engine, with its caches, of identical weights."""
        name = self.c.model.value
        model, model_key, note = load_explorer_model(name, self.c.checkpoint.value if name == "res2netfuse" else None,
                                                     self.device)
        self.engine = self._engines.setdefault(model_key, FusionEngine(model, model_key))
        requested = self.c.checkpoint.value if name == "res2netfuse" else ""
        fell_back = bool(requested) and Path(requested).resolve() != Path(model_key[1])
        colour = "#b26a00" if fell_back else "inherit"  # another model than asked for: warn
        self.model_note.value = f"<small style='color:{colour}'>{html.escape(note)}</small>"

    # ---- rendering ------------------------------------------------------------------------
    def state(self) -> ViewState:
        """The current controls as a :class:`ViewState` (raises ValueError for invalid parameters)."""
        c = self.c
        return ViewState(Settings.of(c.strategy.value, **{k: w.value for k, w in c.param_widgets.items()}),
                         Settings.of(c.reference.value), c.compare.value, c.mode.value, c.position.value,
                         (c.zoom_x.value, c.zoom_y.value, c.zoom_side.value))

    def update(self) -> None:
        """Re-render the images now (busy indicator meanwhile), then schedule the metrics table."""
        start = time.perf_counter()
        with self._lock:
            self._generation += 1
            self.table.value = f"{BUSY}<i>metrics pending&hellip;</i>"
        self.status.value = f"{BUSY}<span class='explorer-busy'>computing the fused image&hellip;</span>"
        try:
            state = self.state()
            view = render(self.engine, self._pair, state)
        except (ValueError, FileNotFoundError) as exc:
            self.status.value = ERROR.format(html.escape(str(exc)))
            self.table.value = "<i>no metrics until the error above is fixed</i>"
            self._metrics_future = None
            return
        self._show_sources()
        self._show_views(view, state)
        self.last_view, self.last_latency = view, time.perf_counter() - start
        source = "encoder features cached" if view.features_cached else "encoder run for this pair"
        self.status.value = (f"<span class='explorer-done'>&#10003; {html.escape(state.settings.label)} on "
                             f"{html.escape(self._pair.key)}: updated in {self.last_latency:.2f} s ({source})</span>")
        self._metrics_future = self._executor.submit(self._metrics_job, self._generation, self.engine, self._pair,
                                                     state)

    def _show_sources(self) -> None:
        """The two source panels (encoded only when the pair changed); source B in colour if it is."""
        p = self._pair
        if self._shown_pair == p.key:
            return
        colour = ", in colour" if p.colour else ""
        for k, image, label, note in (("a", p.gray_a, p.label_a, ""), ("b", p.shown_b, p.label_b, colour)):
            self.images[k].value = to_png(image)
            self.captions[k].value = (f"<b>{html.escape(label)}</b> (source {k.upper()}), "
                                      f"{image.shape[1]}x{image.shape[0]} px{note}")
        self._shown_pair = p.key

    def _show_views(self, view: View, state: ViewState) -> None:
        """The fused composite, the weight heat maps and the zoom strip, with their captions."""
        p, im, cap = self._pair, self.images, self.captions
        other = {"none": "", "reference": f"reference {state.reference.label}", "a": p.label_a, "b": p.label_b}
        mix = f" | {state.mode} with {other[state.compare]} ({state.position:.0%})" if state.compare != "none" else ""
        colour = f"; colour = fused luminance + {p.label_b} chroma" if p.colour else ""
        cap["fused"].value = (f"<b>fused: {html.escape(state.settings.label)}</b>{html.escape(mix + colour)}; "
                              "cyan box = zoom region")
        im["fused"].value = to_png(view.shown)
        cap["heat_a"].value = f"<b>weight w_{p.label_a}</b> (heat map, 0-1)"
        cap["heat_b"].value = f"<b>weight w_{p.label_b}</b> (heat map, 0-1)"
        im["heat_a"].value, im["heat_b"].value = to_jpeg(view.heat_a), to_jpeg(view.heat_b)
        top, left, h, w = view.box
        cap["zoom"].value = f"<b>zoom</b> {p.label_a} | {p.label_b} | fused, {w}x{h} px at x={left}, y={top}"
        im["zoom"].value = to_png(view.zoom)

    # ---- metrics and snapshots ----------------------------------------------------------------
    def _metrics_job(self, generation: int, engine: FusionEngine, pair: Pair, state: ViewState) -> pd.DataFrame | None:
        """Worker thread: fill the table metric by metric; stop as soon as a newer change arrived."""
        caption = (f"<small>{html.escape(pair.key)}; current = {html.escape(state.settings.label)}, "
                   f"reference = {html.escape(state.reference.label)}</small>")
        rows: list[dict[str, Any]] = []
        pending = metric_rows(engine, pair, state.settings, state.reference)
        try:
            while generation == self._generation and (row := next(pending, None)) is not None:
                rows.append(row)
                self._publish(generation, caption + metrics_html(rows))
        except (ValueError, FileNotFoundError) as exc:
            self._publish(generation, ERROR.format(f"metrics failed: {html.escape(str(exc))}"))
            return None
        return pd.DataFrame(rows) if len(rows) == len(PAPER_METRICS) else None

    def _publish(self, generation: int, table: str) -> None:
        """Show ``table`` unless a newer update has started (atomically with :meth:`update`'s reset)."""
        with self._lock:
            if generation == self._generation:
                self.table.value = table

    def wait_metrics(self, timeout: float = 300.0) -> pd.DataFrame | None:
        """Block until the metrics of the latest update are shown; their table (None if superseded)."""
        return self._metrics_future.result(timeout) if self._metrics_future else None

    def snapshot(self, out_dir: str) -> list[Path]:
        """Write the current fused image (``fused.png``, in colour for a colour pair, as the CLI writes it)
        and the metrics table (``metrics.csv``/``.md``)."""
        if self.last_view is None:
            raise ValueError("nothing rendered yet: the explorer has no valid state")
        state, df = self.state(), self.wait_metrics()
        if df is None:
            raise ValueError("the metrics were superseded by a newer change; call snapshot again")
        caption = (f"Paper metrics of {state.settings.label} vs the reference {state.reference.label} on "
                   f"{self._pair.key} ({self.engine.model_key[0]}); delta = current - reference, "
                   f"higher is better for all six. Image update latency {self.last_latency:.2f} s.")
        paths = list(report.save_table(df, out_dir, "metrics", caption))
        return [save_fused(Path(out_dir) / "fused.png", self.last_view.fused.image, self._pair.sources), *paths]


def _background_priority() -> None:
    """Give the calling (metrics) thread the lowest CPU priority, so image updates win the cores.

    On Linux ``setpriority`` on a thread id changes only that thread (and the threads it starts);
    elsewhere this is a no-op.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass
