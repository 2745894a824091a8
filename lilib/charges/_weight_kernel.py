"""Numba kernel of the weight (flux) Bader method of Yu & Trinkle, J. Chem. Phys. 134, 064111 (2011).

Voxels are visited from the highest density down. A voxel with no higher Voronoi neighbour is
a maximum (a new basin). Otherwise it inherits the basin weights of its higher neighbours j in
proportion to the flux (ρ_j − ρ_i)·A_ij/|R_ij| (A_ij: area of the Voronoi facet between the two
grid points, R_ij: their separation). Each voxel keeps at most ``slots`` basins (the largest
weights, renormalised); own implementation.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def weight_partition(rho_flat, shape, order, offsets, coeff, slots, vacuum_flat):
    """Return (basin labels (N, slots) int32, weights (N, slots) float32, maxima flat indices)."""
    n0, n1, n2 = shape
    n = rho_flat.size
    labels = np.full((n, slots), -1, dtype=np.int32)
    weights = np.zeros((n, slots), dtype=np.float32)
    maxima = np.zeros(64, dtype=np.int64)
    n_max = 0
    tmp_lab = np.full(slots * offsets.shape[0], -1, dtype=np.int32)
    tmp_w = np.zeros(slots * offsets.shape[0])
    for t in range(n):
        idx = order[t]
        if vacuum_flat[idx]:
            continue
        i = idx // (n1 * n2)
        j = (idx // n2) % n1
        k = idx % n2
        here = rho_flat[idx]
        total = 0.0
        m = 0
        for o in range(offsets.shape[0]):
            a = (i + offsets[o, 0]) % n0
            b = (j + offsets[o, 1]) % n1
            c = (k + offsets[o, 2]) % n2
            nb = (a * n1 + b) * n2 + c
            rise = rho_flat[nb] - here
            if rise <= 0.0:
                continue
            flux = rise * coeff[o]
            total += flux
            for s in range(slots):
                lab = labels[nb, s]
                if lab < 0:
                    break
                found = -1
                for u in range(m):
                    if tmp_lab[u] == lab:
                        found = u
                        break
                if found < 0:
                    tmp_lab[m] = lab
                    tmp_w[m] = flux * weights[nb, s]
                    m += 1
                else:
                    tmp_w[found] += flux * weights[nb, s]
        if total == 0.0:  # no higher neighbour: a maximum
            if n_max == maxima.size:
                grown = np.zeros(2 * n_max, dtype=np.int64)
                grown[:n_max] = maxima
                maxima = grown
            maxima[n_max] = idx
            labels[idx, 0] = n_max
            weights[idx, 0] = 1.0
            n_max += 1
            continue
        kept = min(slots, m)
        for s in range(kept):  # partial selection sort: largest weights first
            best = s
            for u in range(s + 1, m):
                if tmp_w[u] > tmp_w[best]:
                    best = u
            tmp_lab[s], tmp_lab[best] = tmp_lab[best], tmp_lab[s]
            tmp_w[s], tmp_w[best] = tmp_w[best], tmp_w[s]
        norm = 0.0
        for s in range(kept):
            norm += tmp_w[s]
        for s in range(kept):
            labels[idx, s] = tmp_lab[s]
            weights[idx, s] = tmp_w[s] / norm
        for u in range(m):
            tmp_lab[u] = -1
            tmp_w[u] = 0.0
    return labels, weights, maxima[:n_max]


@njit(cache=True)
def integrate_slots(labels, weights, field, n_basins):
    """Σ_voxels weight · field per basin (without the voxel volume)."""
    out = np.zeros(n_basins)
    for v in range(labels.shape[0]):
        f = field[v]
        for s in range(labels.shape[1]):
            lab = labels[v, s]
            if lab < 0:
                break
            out[lab] += weights[v, s] * f
    return out
