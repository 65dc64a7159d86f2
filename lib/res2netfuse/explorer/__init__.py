"""Interactive fusion-strategy explorer (notebooks/explorer.ipynb): see *why* one strategy beats another.

Four modules, one concern each; everything but :mod:`.app` is plain Python on numpy arrays and is
tested without a browser:

* :mod:`.pairs`: the source pairs, from the :mod:`res2netfuse.datasets` registry or two uploads,
  loaded as :class:`res2netfuse.pipeline.Sources` (colour visible images keep their chroma);
* :mod:`.engine`: :class:`FusionEngine` encodes a pair once per (model, pair) and fuses + decodes
  per strategy, caching features, :class:`~res2netfuse.pipeline.FusionResult` s and metrics;
  :func:`load_explorer_model` falls back to DenseFuse without a checkpoint;
* :mod:`.view`: :func:`render` maps a :class:`ViewState` to the images shown (colour pairs in
  colour, as the CLI writes them), :func:`to_png`/:func:`to_jpeg` encode them for display;
* :mod:`.app`: :class:`FusionExplorer`, the ipywidgets page.
"""

from .app import UPLOAD, FusionExplorer, dataset_options, parameter_widget
from .engine import LRU, FusionEngine, Settings, load_explorer_model, metric_rows, metrics_table
from .pairs import MAX_UPLOAD_PIXELS, Pair, list_pairs, load_pair, upload_pair
from .view import (View, ViewState, as_rgb, colourbar_png, composite, heatmap, metrics_html, outline, render,
                   to_jpeg, to_png, zoom_box, zoom_strip)

__all__ = ["LRU", "MAX_UPLOAD_PIXELS", "UPLOAD", "FusionEngine", "FusionExplorer", "Pair", "Settings", "View",
           "ViewState", "as_rgb", "colourbar_png", "composite", "dataset_options", "heatmap", "list_pairs",
           "load_explorer_model", "load_pair", "metric_rows", "metrics_html", "metrics_table", "outline",
           "parameter_widget", "render", "to_jpeg", "to_png", "upload_pair", "zoom_box", "zoom_strip"]
