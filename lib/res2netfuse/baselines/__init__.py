"""The paper's rivals that are run here from their released weights or code, one module each.

:mod:`.densefuse` -- DenseFuse (Li & Wu, TIP 2019), the encoder/decoder that the fusion strategies of
:mod:`res2netfuse.fusion` also drive. Importing the package loads DenseFuse only; every other rival is imported
from its own module (``from res2netfuse.baselines import mufusion``), so that a stage depends on the rivals it runs.
"""

from .densefuse import DenseFuse, load_densefuse

__all__ = ["DenseFuse", "load_densefuse"]
