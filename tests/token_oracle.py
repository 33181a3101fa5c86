"""An independent re-derivation of the spec's token formula, used only as a test oracle.

Written from the spec summary's five steps in a different shape from mimo_nb.core.tokens (one flat
function, divmod and explicit branches), keeping the same floating-point operations in the same
order, because the vendor's reference is defined by its float arithmetic.
"""

from __future__ import annotations

import math


def oracle_tokens(duration, width, height, fps=2.0, resolution="default", mute=False):
    # 1. frames: ceil(d*fps), <= 2048, rounded up to even, >= 2
    n = math.ceil(duration * fps)
    if n > 2048:
        n = 2048
    q, r = divmod(n, 2)
    n = 2 * (q + (1 if r else 0))
    if n < 2:
        n = 2
    # 2. per-frame pixel budget
    budget = (131072 * 1024 * 2) // n
    if resolution == "default" and budget > 300 * 1024:
        budget = 300 * 1024
    budget = min(max(budget, 8192), 8388608)
    # 3. resize
    h, w = height, width
    if h < 32 or w < 32:
        if h < w:
            w = int(w * 32 / h)
            h = 32
        else:
            h = int(h * 32 / w)
            w = 32
    hb = round(h / 32) * 32
    wb = round(w / 32) * 32
    if hb * wb > budget:
        beta = math.sqrt(h * w / budget)
        hb = 32 * math.floor(h / beta / 32)
        wb = 32 * math.floor(w / beta / 32)
    elif hb * wb < 8192:
        beta = math.sqrt(8192 / (h * w))
        hb = 32 * math.ceil(h * beta / 32)
        wb = 32 * math.ceil(w * beta / 32)
    # 4. tokens
    grids = n // 2
    per_grid = ((hb // 16) * (wb // 16)) // 4
    total = grids * per_grid + grids * (5 if fps > 2 else 3) + (2 * grids + 2)
    # 5. audio
    if not mute:
        mel = int(duration * 24000) // 240 + 1
        t = (mel - 1) // 2 + 1
        t = (t + 1) // 2  # halve again, rounding up
        total += -(-t // 4) + 2
    return total
