"""numba kernels of :func:`lilib.md.transport.msd`: one pass each where numpy needs several.

``centre_and_square``: positions of a chunk of ions → mean-free series in the zero-padded FFT
buffer, their sum over ions, the sum over ions of their squares, and running sums of squares
per ion at the rows the per-ion MSD needs. ``fold_power``: the rfft half spectrum → power summed
over ions (every frequency) and each ion's power folded to length n_fold (aliasing of the full,
even spectrum of length n_fft = stride × n_fold).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def centre_and_square(positions, sel, rows, buf, total, square_sum, cum_rows):
    """positions (n, n_atoms, 3); sel (c,) atom indices; rows: sorted frame indices.

    Writes buf[:n] = x (positions minus their time mean), adds Σ_ions x to total (n, 3) and
    Σ_ions x² to square_sum (n, 3), and stores Σ_{t≤rows[j]} x_t² in cum_rows[j] (c, 3).
    """
    n = positions.shape[0]
    c = sel.size
    mean = np.zeros((c, 3))
    for t in range(n):
        for i in range(c):
            a = sel[i]
            for k in range(3):
                mean[i, k] += positions[t, a, k]
    mean /= n
    acc = np.zeros((c, 3))
    j = 0
    n_rows = rows.size
    for t in range(n):
        for i in range(c):
            a = sel[i]
            for k in range(3):
                x = positions[t, a, k] - mean[i, k]
                buf[t, i, k] = x
                total[t, k] += x
                sq = x * x
                square_sum[t, k] += sq
                acc[i, k] += sq
        while j < n_rows and rows[j] == t:
            cum_rows[j] = acc
            j += 1


@njit(cache=True)
def fold_power(spec, n_fft, power, folded):
    """spec (n_freq, c, 3) complex rfft of length n_fft; folded (n_fold, c, 3), zeroed.

    power[f, k] += Σ_ions |F|²; folded[g] = Σ_{f ≡ g mod n_fold} |F(f)|² over the full spectrum
    (|F(n_fft − f)| = |F(f)| for a real series).
    """
    n_freq, c = spec.shape[0], spec.shape[1]
    n_fold = folded.shape[0]
    for f in range(n_freq):
        g1 = f % n_fold
        mirror = f > 0 and 2 * f < n_fft
        g2 = (n_fft - f) % n_fold
        for i in range(c):
            for k in range(3):
                z = spec[f, i, k]
                p = z.real * z.real + z.imag * z.imag
                power[f, k] += p
                folded[g1, i, k] += p
                if mirror:
                    folded[g2, i, k] += p
