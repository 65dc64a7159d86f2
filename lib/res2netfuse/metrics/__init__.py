"""Objective fusion metrics, vectorised and compiled, agreeing with the field's MATLAB toolbox.

The oracle is the MATLAB evaluation code of the public VIF toolbox (L. Tang et al.) and the
paper's wrapper ``analysis_Reference.m``, kept in ``../shared/reference/fusion-metrics-matlab/``;
``reference/tang/`` holds the GNU Octave driver that ran it and the expected values the tests
compare against (:mod:`.reference` tabulates the agreement).

Metrics (column names as in the paper's tables; the docstring of each module gives the formulas):

* the paper's six, :data:`PAPER_METRICS`: SSIM_a (MATLAB's ``ssim``) and MS_SSIM (= MEF-SSIM of
  Ma et al. 2015) in :mod:`.structural`; Qabf in :mod:`.gradient`; FMI_dct, FMI_w in
  :mod:`.information`; SCD in :mod:`.statistics`;
* nine more, :data:`ALL_METRICS`: EN, MI (:mod:`.information`), SD, SF, AG, PSNR, CC
  (:mod:`.statistics`), VIF (:mod:`.vif`), Nabf (:mod:`.gradient`);
* ``SSIM_a_wang`` (Wang's ``ssim_index.m``, this project's SSIM_a until it adopted MATLAB's), on request.

:func:`evaluate` scores one triple (input scale and the ``convention`` option: :mod:`.core`);
:func:`evaluate_folders` scores folders serially, on all cores or on a Dask cluster
(:mod:`.folders`); :mod:`.reference` tabulates the agreement with the toolbox (the metrics stage, notebook 07).
"""

from . import reference
from .core import (ALL_METRICS, EXTRA_METRICS, HIGHER_IS_BETTER, MIN_SIDE, PAPER_METRICS, available_cores,
                   evaluate)
from ._common import CONVENTIONS, Convention
from .folders import evaluate_files, evaluate_folders
from .gradient import nabf, qabf
from .information import dct_feature, entropy, fmi, mutual_information, wavelet_feature
from .statistics import average_gradient, cc_toolbox, psnr_toolbox, scd, spatial_frequency, standard_deviation
from .structural import mef_ssim, ssim, ssim_wang
from .vif import vifp

__all__ = [
    "ALL_METRICS", "CONVENTIONS", "Convention", "EXTRA_METRICS", "HIGHER_IS_BETTER", "MIN_SIDE", "PAPER_METRICS",
    "available_cores", "average_gradient", "cc_toolbox", "dct_feature", "entropy", "evaluate", "evaluate_files", "evaluate_folders",
    "fmi", "mef_ssim", "mutual_information", "nabf", "psnr_toolbox", "qabf", "scd", "spatial_frequency", "ssim",
    "reference", "ssim_wang", "standard_deviation", "vifp", "wavelet_feature",
]
