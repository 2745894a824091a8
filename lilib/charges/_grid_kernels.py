"""Numba kernels: spherical (pro-atom) functions on a periodic grid, Hirshfeld sums, Voronoi owners.

Every atom contributes to the grid points inside a sphere of radius ``rcut[a]`` (Å) around
its position; the loop runs over the unwrapped index box that holds the sphere, so periodic
images are summed without an image loop (a box longer than the cell visits a point once per
image). Radial functions are tabulated on a uniform grid in ln r (Å): value m at
ln r = x0 + m·dx, linearly interpolated; below the first point the first value is used, beyond
the last point the function is zero.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always", fastmath=True)
def _radial(table, x0, inv_dx, r2):
    if r2 <= 0.0:
        return table[0]
    t = (0.5 * math.log(r2) - x0) * inv_dx
    if t <= 0.0:
        return table[0]
    m = int(t)
    if m >= table.size - 1:
        return 0.0
    w = t - m
    return (1.0 - w) * table[m] + w * table[m + 1]


@njit(cache=True)
def _box(frac, rc, extent, shape):
    """Unwrapped index bounds (inclusive) of the box holding a sphere of radius rc."""
    lo = np.empty(3, np.int64)
    hi = np.empty(3, np.int64)
    for d in range(3):
        lo[d] = math.ceil((frac[d] - rc * extent[d]) * shape[d])
        hi[d] = math.floor((frac[d] + rc * extent[d]) * shape[d])
    return lo, hi


@njit(cache=True, parallel=True, fastmath=True)
def add_spheres(out, cell, frac, tables, x0, inv_dx, rcut, extent):
    """out[p] += Σ_atoms,images table_a(|r_p − R_a|) for every grid point p (in place)."""
    n0, n1, n2 = out.shape
    shape = np.array([n0, n1, n2])
    for a in range(frac.shape[0]):
        lo, hi = _box(frac[a], rcut[a], extent, shape)
        rc2 = rcut[a] * rcut[a]
        tab = tables[a]
        for start in range(lo[0], hi[0] + 1, n0):  # segments whose wrapped planes are distinct
            stop = min(start + n0, hi[0] + 1)
            for ii in prange(start, stop):
                fi = ii / n0 - frac[a, 0]
                ia = ii % n0
                for jj in range(lo[1], hi[1] + 1):
                    fj = jj / n1 - frac[a, 1]
                    ja = jj % n1
                    bx = fi * cell[0, 0] + fj * cell[1, 0]
                    by = fi * cell[0, 1] + fj * cell[1, 1]
                    bz = fi * cell[0, 2] + fj * cell[1, 2]
                    for kk in range(lo[2], hi[2] + 1):
                        fk = kk / n2 - frac[a, 2]
                        dx = bx + fk * cell[2, 0]
                        dy = by + fk * cell[2, 1]
                        dz = bz + fk * cell[2, 2]
                        r2 = dx * dx + dy * dy + dz * dz
                        if r2 < rc2:
                            out[ia, ja, kk % n2] += _radial(tab, x0, inv_dx, r2)
    return out


@njit(cache=True, parallel=True, fastmath=True)
def weighted_sums(ratio, cell, frac, tables, x0, inv_dx, rcut, extent):
    """Per atom: (Σ_p ratio[p]·ρ_a(p), Σ_p ρ_a(p)) over its sphere and images (multiply by ΔV)."""
    n0, n1, n2 = ratio.shape
    shape = np.array([n0, n1, n2])
    n_atoms = frac.shape[0]
    weighted = np.zeros(n_atoms)
    own = np.zeros(n_atoms)
    for a in prange(n_atoms):
        lo, hi = _box(frac[a], rcut[a], extent, shape)
        rc2 = rcut[a] * rcut[a]
        tab = tables[a]
        acc = 0.0
        acc_own = 0.0
        for ii in range(lo[0], hi[0] + 1):
            fi = ii / n0 - frac[a, 0]
            ia = ii % n0
            for jj in range(lo[1], hi[1] + 1):
                fj = jj / n1 - frac[a, 1]
                ja = jj % n1
                bx = fi * cell[0, 0] + fj * cell[1, 0]
                by = fi * cell[0, 1] + fj * cell[1, 1]
                bz = fi * cell[0, 2] + fj * cell[1, 2]
                for kk in range(lo[2], hi[2] + 1):
                    fk = kk / n2 - frac[a, 2]
                    dx = bx + fk * cell[2, 0]
                    dy = by + fk * cell[2, 1]
                    dz = bz + fk * cell[2, 2]
                    r2 = dx * dx + dy * dy + dz * dz
                    if r2 < rc2:
                        v = _radial(tab, x0, inv_dx, r2)
                        acc += v * ratio[ia, ja, kk % n2]
                        acc_own += v
        weighted[a] = acc
        own[a] = acc_own
    return weighted, own


@njit(cache=True)
def nearest_atom(owner, best, cell, frac, radius, extent):
    """Voronoi owner of every grid point within ``radius`` (Å) of some atom image (in place).

    A point keeps the atom with the smallest squared distance seen (``best``); points farther
    than ``radius`` from every atom stay at −1.
    """
    n0, n1, n2 = owner.shape
    shape = np.array([n0, n1, n2])
    r2max = radius * radius
    for a in range(frac.shape[0]):
        lo, hi = _box(frac[a], radius, extent, shape)
        for ii in range(lo[0], hi[0] + 1):
            fi = ii / n0 - frac[a, 0]
            ia = ii % n0
            for jj in range(lo[1], hi[1] + 1):
                fj = jj / n1 - frac[a, 1]
                ja = jj % n1
                bx = fi * cell[0, 0] + fj * cell[1, 0]
                by = fi * cell[0, 1] + fj * cell[1, 1]
                bz = fi * cell[0, 2] + fj * cell[1, 2]
                for kk in range(lo[2], hi[2] + 1):
                    fk = kk / n2 - frac[a, 2]
                    dx = bx + fk * cell[2, 0]
                    dy = by + fk * cell[2, 1]
                    dz = bz + fk * cell[2, 2]
                    r2 = dx * dx + dy * dy + dz * dz
                    ka = kk % n2
                    if r2 < r2max and r2 < best[ia, ja, ka]:
                        best[ia, ja, ka] = r2
                        owner[ia, ja, ka] = a
    return owner
