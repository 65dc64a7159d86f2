"""Process runtime shared by training, fusion and the notebooks: device, seeds, memory reuse."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import random

import numpy as np
import torch


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` -> CUDA when available, else CPU; otherwise ``torch.device(name)`` (checked)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available (use 'auto' or 'cpu')")
    return device


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, numpy and torch; make CPU kernels deterministic; return a seeded generator."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    if torch.backends.cudnn.is_available():
        torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(seed)

@functools.cache  # process-wide: once is enough (finding libc runs ldconfig)
def retain_freed_memory() -> bool:
    """Make glibc ``malloc`` serve large blocks from its heap and keep freed memory for reuse.

    ``mallopt(M_MMAP_MAX, 0)`` (no per-allocation ``mmap``) and ``mallopt(M_TRIM_THRESHOLD, -1)``
    (never give the heap top back to the OS, per ``man mallopt``): a fusion or training process
    then reuses the pages of the previous layer's output instead of faulting in zeroed pages for
    every tensor (``benchmarks/bench_fusion.py``: 2.8x less CPU per fused pair;
    ``benchmarks/bench_train.py``: ~1.2x faster training steps). The price: the process keeps its peak memory (~2 GB for a 768x576 Res2NetFuse pair)
    until it exits. Process-wide and idempotent; ``False`` (nothing done) where the C library is
    not glibc.
    """
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_max = -1, -4  # <malloc.h>
    return bool(mallopt(m_mmap_max, 0)) and bool(mallopt(m_trim_threshold, -1))
