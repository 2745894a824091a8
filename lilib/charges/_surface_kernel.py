"""Numba kernels shared by both Bader methods: basin volumes and atom-surface distances."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def count_labels(labels, n_basins):
    """Voxels per basin (labels ≥ 0; −1 = vacuum, skipped)."""
    out = np.zeros(n_basins)
    for t in range(labels.size):
        if labels[t] >= 0:
            out[labels[t]] += 1.0
    return out


@njit(cache=True)
def surface_distances(labels, basin_atom, frac_atoms, cell):
    """Minimum distance (Å) from each atom to a voxel of its region with a face neighbour elsewhere.

    labels: basin of every voxel (−1 = vacuum); basin_atom: atom owning each basin. Distances use
    the nearest periodic image (27 neighbouring shifts, enough for skewed cells).
    """
    n0, n1, n2 = labels.shape
    out = np.full(frac_atoms.shape[0], np.inf)
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                lab = labels[i, j, k]
                if lab < 0:
                    continue
                a = basin_atom[lab]
                edge = False
                for d in range(6):
                    ii, jj, kk = i, j, k
                    if d == 0:
                        ii = i + 1 if i + 1 < n0 else 0
                    elif d == 1:
                        ii = i - 1 if i > 0 else n0 - 1
                    elif d == 2:
                        jj = j + 1 if j + 1 < n1 else 0
                    elif d == 3:
                        jj = j - 1 if j > 0 else n1 - 1
                    elif d == 4:
                        kk = k + 1 if k + 1 < n2 else 0
                    else:
                        kk = k - 1 if k > 0 else n2 - 1
                    other = labels[ii, jj, kk]
                    if other < 0 or basin_atom[other] != a:
                        edge = True
                        break
                if not edge:
                    continue
                f0 = i / n0 - frac_atoms[a, 0]
                f1 = j / n1 - frac_atoms[a, 1]
                f2 = k / n2 - frac_atoms[a, 2]
                f0 -= np.round(f0)
                f1 -= np.round(f1)
                f2 -= np.round(f2)
                best = np.inf
                for s0 in range(-1, 2):
                    for s1 in range(-1, 2):
                        for s2 in range(-1, 2):
                            g0, g1, g2 = f0 + s0, f1 + s1, f2 + s2
                            x = g0 * cell[0, 0] + g1 * cell[1, 0] + g2 * cell[2, 0]
                            y = g0 * cell[0, 1] + g1 * cell[1, 1] + g2 * cell[2, 1]
                            z = g0 * cell[0, 2] + g1 * cell[1, 2] + g2 * cell[2, 2]
                            r2 = x * x + y * y + z * z
                            if r2 < best:
                                best = r2
                best = np.sqrt(best)
                if best < out[a]:
                    out[a] = best
    return out
