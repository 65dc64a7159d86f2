"""The paper's published numbers as data: Tables II, III and IV (Song et al., "Res2NetFuse").

Copied once from the paper's text (``../shared/paper/res2netfuse.txt``) and used by every
notebook and by the claims ledger; nothing else in the artifact types these numbers. They are
what the measured values are *compared with*, never a target: no code path reads them to choose
a parameter.

Table II and Table IV share their rows for DenseFuse, MSDNet and Res2NetFuse_1; both average
the same 20 fused TNO images (``datasets.PAIR_SETS["tno21"]``). Column ``MS_SSIM`` is the
paper's name for MEF-SSIM (Ma et al. 2015). Table III averages 20 reconstructed MS-COCO images.
:data:`CLAIMS` lists the statements the claims study (notebook 09) tests, with their sections.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

FUSION_METRICS = ("SSIM_a", "Qabf", "FMI_dct", "FMI_w", "SCD", "MS_SSIM")  # paper's column order
RECONSTRUCTION_METRICS = ("MSE", "SSIM", "PSNR")

# (method, strategy, SSIM_a, Qabf, FMI_dct, FMI_w, SCD, MS_SSIM); strategy "" = as its authors fused
_FUSION_ROWS = [
    ("DCHWT", "", 0.73078, 0.45890, 0.38061, 0.39700, 1.61007, 0.84278),
    ("JSR", "", 0.60912, 0.36267, 0.16738, 0.21284, 1.75518, 0.84735),
    ("JSRSD", "", 0.54471, 0.32914, 0.14560, 0.18697, 1.59142, 0.76548),
    ("DenseFuse", "", 0.72829, 0.43454, 0.41456, 0.42525, 1.83379, 0.92860),
    ("FusionGAN", "", 0.65207, 0.21853, 0.36097, 0.36797, 1.45818, 0.73233),
    ("AEFusion", "", 0.68948, 0.32510, 0.17045, 0.22482, 1.75508, 0.86873),
    ("AT-GAN", "", 0.56636, 0.35253, 0.36184, 0.39656, 1.68997, 0.86337),
    ("CUFD", "", 0.64916, 0.37775, 0.19354, 0.26088, 1.61723, 0.78413),
    ("MUFusion", "", 0.65392, 0.37838, 0.23752, 0.28688, 1.69340, 0.86064),
    ("MSDNet", "l1", 0.76365, 0.44416, 0.37547, 0.41741, 1.61825, 0.83311),
    ("MSDNet", "mean", 0.77453, 0.39214, 0.39046, 0.41116, 1.67953, 0.87041),
    ("Res2NetFuse_80000", "l1", 0.70881, 0.47354, 0.37620, 0.43160, 1.67887, 0.84166),
    ("Res2NetFuse_80000", "mean", 0.72993, 0.45175, 0.40685, 0.42417, 1.82024, 0.91695),
    ("Res2NetFuse_1", "l1", 0.72520, 0.48364, 0.37552, 0.42924, 1.69888, 0.85384),
    ("Res2NetFuse_1", "mean", 0.74206, 0.46368, 0.40262, 0.42334, 1.83464, 0.92129),
]
TABLE2_METHODS = ("DenseFuse", "MSDNet", "Res2NetFuse_80000", "Res2NetFuse_1")
TABLE4_METHODS = ("DCHWT", "JSR", "JSRSD", "DenseFuse", "FusionGAN", "AEFusion", "AT-GAN", "CUFD", "MUFusion",
                  "MSDNet", "Res2NetFuse_1")

# (method, MSE, SSIM, PSNR [dB]) on images in [0, 1] (eq. 13)
_TABLE3_ROWS = [
    ("DenseFuseRecon", 0.00016, 0.99560, 43.62612),
    ("MSDNetRecon", 0.00001, 0.99933, 52.10881),
    ("Res2NetFuseRecon_1", 0.00042, 0.99560, 40.36431),
    ("Res2NetFuseRecon_80000", 0.00005, 0.99888, 46.50366),
]

TEST_PAIRS = 20  # fused images averaged in Tables II and IV
RECONSTRUCTION_IMAGES = 20  # MS-COCO images averaged in Table III
TRAINING = {"iterations": 2000, "batch": 1, "size": 256, "stabilises_after": 200}  # Sec. IV-A, Fig. 4


def fusion_table() -> pd.DataFrame:
    """Every fusion row of Tables II and IV: columns ``method, strategy`` and :data:`FUSION_METRICS`."""
    return pd.DataFrame(_FUSION_ROWS, columns=["method", "strategy", *FUSION_METRICS])


def table2() -> pd.DataFrame:
    """Table II: DenseFuse, MSDNet, Res2NetFuse_80000 and Res2NetFuse_1 (l1 / mean)."""
    t = fusion_table()
    return t[t.method.isin(TABLE2_METHODS)].reset_index(drop=True)


def table4() -> pd.DataFrame:
    """Table IV: the nine compared methods, MSDNet and Res2NetFuse_1 (l1 / mean)."""
    t = fusion_table()
    return t[t.method.isin(TABLE4_METHODS)].reset_index(drop=True)


def table3() -> pd.DataFrame:
    """Table III: reconstruction MSE, SSIM, PSNR of the four auto-encoders."""
    return pd.DataFrame(_TABLE3_ROWS, columns=["method", *RECONSTRUCTION_METRICS])


def fusion_row(method: str, strategy: str = "") -> pd.Series:
    """The paper's six values for ``method`` (and ``strategy`` where it has several rows)."""
    t = fusion_table()
    hit = t[(t.method == method) & (t.strategy == strategy)]
    if hit.empty:
        known = ", ".join(f"{m}/{s}" if s else m for m, s in zip(t.method, t.strategy))
        raise KeyError(f"the paper has no fusion row {method!r} strategy {strategy!r}; rows: {known}")
    return hit.iloc[0][list(FUSION_METRICS)].astype(float)


@dataclass(frozen=True)
class Claim:
    """A statement of the paper the claims study tests: where it is made and its words."""

    id: str
    section: str
    text: str


CLAIMS: tuple[Claim, ...] = (
    Claim("stabilises_200", "Sec. IV-A, Fig. 4", "the training model stabilizes after 200 iterations"),
    Claim("recon_comparable_many", "Sec. IV-B1, Table III", "In contrast to Res2NetFuseRecon_80000, the model "
          "trained on a single image attains both acceptable and comparable reconstruction performance"),
    Claim("recon_comparable_densefuse", "Sec. III-B / IV-B1, Table III", "our model’s reconstruction proficiency "
          "was comparable to that of DenseFuse [...] trained with 80,000 images"),
    Claim("fusion_similar_many", "Sec. IV-B2, Table II", "Comparing with Res2NetFuse_80,000, we observe similar "
          "metric values, indicating acceptable fusion performance for Res2NetFuse_1"),
    Claim("best_qabf_fmiw_scd", "Sec. IV-B3, Table IV", "Res2NetFuse exhibits advantages in these fusion "
          "evaluation metrics (best Q_abf, FMI_w and SCD in Table IV)"),
    Claim("beats_densefuse", "Abstract, Table IV", "surpassing existing techniques: Res2NetFuse_1 scores higher "
          "than DenseFuse on Q_abf, FMI_w and SCD"),
    Claim("mean_vs_l1", "Sec. IV-B2, Table II", "mean strategy above l1 on SSIM_a, FMI_dct, SCD, MS_SSIM; "
          "l1 above mean on Q_abf, FMI_w (the orderings of Table II)"),
    Claim("single_natural_image", "Sec. III-B, Conclusion", "training the network for image fusion can be "
          "effectively accomplished using just a single natural image"),
    Claim("training_time", "Sec. III-B, IV-B1", "this training strategy significantly reduces the training time"),
    Claim("beats_msdnet", "Sec. IV-B2", "while MSDNet outperforms Res2NetFuse in reconstruction, Res2NetFuse "
          "achieves superior fusion results under the same strategy"),
)
