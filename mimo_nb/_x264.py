"""Repeatable x264 encodes: the same frames give the same bytes, run after run.

Used by the sample clips (whose bytes key the response cache) and by ``Video.fit``.
"""
from __future__ import annotations

import functools
import importlib

__all__ = ["x264_params"]


@functools.lru_cache(maxsize=1)
def _cpu_has_avx512() -> bool:
    """Whether x264 would pick its AVX-512 kernels here (it wants AVX-512 F/CD/BW/DQ/VL and AVX2)."""
    need = ("AVX2", "AVX512F", "AVX512CD", "AVX512BW", "AVX512DQ", "AVX512VL")
    features: object = None
    for module in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):  # numpy 2, then 1
        try:  # numpy's runtime dispatch table: the CPU's and the OS's support, on any platform
            features = importlib.import_module(module).__cpu_features__
            break
        except (ImportError, AttributeError):
            continue
    if isinstance(features, dict) and "AVX512F" in features:
        return all(features.get(name) for name in need)
    try:  # Linux without numpy's table
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            flags = next((line.split(":", 1)[1].split() for line in fh if line.startswith("flags")), [])
    except OSError:
        return False
    return all(name.lower() in flags for name in need)


def x264_params(gop: int | None = None) -> str:
    """x264 settings that make the same frames give the same bytes on this machine (and a fixed GOP)."""
    params = []
    if gop:  # a fixed GOP: no extra keyframes at scene cuts
        params.append(f"keyint={gop}:min-keyint={gop}:scenecut=0")
    if _cpu_has_avx512():
        # With its AVX-512 kernels x264 reads uninitialised heap memory in the macroblock-tree
        # (mbtree) lookahead, so the same frames give different bytes depending on what the heap
        # held before (e.g. whether an audio encoder was opened first). Likely culprit: the AVX-512
        # mbtree_propagate_list works on whole 8-macroblock blocks and does not mask the lanes past
        # the end of a lowres row (160 px wide = 10 macroblocks). Its AVX2 code is exact.
        params.append("asm=avx2")
    return ":".join(params)
