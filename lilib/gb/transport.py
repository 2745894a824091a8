"""Position-resolved transport around grain boundaries: D(z), hops, GB width, GB vs bulk Arrhenius.

>>> from lilib.gb.transport import distance_to_gb, gb_profile, gb_width, gb_arrhenius
>>> # gb: a GBModel (lilib.gb.build_gb) or the planes' z (Å)
>>> prof = gb_profile(traj, gb, "Li", lag_frames=(20, 100), bin_width_A=1.0)
>>> prof.to_dataframe()  # per slab: D_parallel, D_perp (cm²/s) ± stderr, samples, hops
>>> w = gb_width(prof, component="parallel")
>>> w.delta_A, w.delta_stderr_A, w.gb.D_parallel_cm2_s, w.bulk.D_parallel_cm2_s, w.excess_cm3_s
>>> fit = gb_arrhenius([w_600K, w_800K, w_1000K], component="perp")
>>> fit.gb.ea_eV, fit.bulk.ea_eV  # lilib.md.transport.ArrheniusFit each

Grain boundaries can be short circuits along them and barriers across them (seed 000 §3.1.7 and
§3.6.2: in LLZO Σ5 GBs the activation energy exceeds the bulk's and diffusion along the GB is
~1000× faster than through it; seed 003 §2: the anisotropy depends on the GB structure). This
module measures that from an MD trajectory, slab by slab.

Geometry. The GB planes are normal to z (the frame of :class:`~lilib.gb.build.GBModel`: cell
vectors a and b span the plane). d = signed distance to the nearest plane, wrapped with the cell
length L along z (c_z), d ∈ [−L/2, L/2), positive on the side of increasing z. Slabs are bins
in |d| (default: the two sides and all GBs pooled) or in d (``signed=True``).

Estimator (D per slab). Every ion and time origin t (each ``origin_stride`` frames) gives an
increment Δr = r(t + τ) − r(t) of the unwrapped positions; it is credited to the slab that holds
its midpoint z_m = (z(t) + z(t + τ))/2, and D_α = Σ Δr_α² / (2 τ N) over the N increments of the
slab. The midpoint, not the start: an equilibrium trajectory is time-reversible, and the
midpoint is the time-symmetric estimate of where the ion spent the window; in a homogeneous
region it is independent of Δr, so it leaves D unbiased, whereas the start point credits an ion
that spent the window in the GB to the slab it came from. Not "resident the whole window":
keeping only increments that never left the slab drops the long excursions and biases D low,
most in fast and narrow slabs. ``lag_frames=(τ1, τ2)`` gives D_α = [M_α(τ2) − M_α(τ1)] /
(2(τ2 − τ1)) with M the slab's mean Δr_α² at each lag (same origins): this removes the
vibrational offset of the MSD (the intercept of :mod:`lilib.md.transport`'s fits), which
dominates a one-lag estimate at short τ in a real solid. Choose τ so that √(2 D τ) stays below
the slab width (``rms_dz_A`` per slab reports it). D_parallel = (D_x + D_y)/2, D_perp = D_z,
D_total = (D_x + D_y + D_z)/3.

Uncertainty. Two delete-one-group jackknifes, var = (n − 1)/n Σ_g (θ_−g − θ̄)², applied to
every quantity (per-slab D, pooled GB and bulk D, ratios, width, excess); the larger of the two
standard errors is reported (both are kept). (1) Over time: the origins are cut into
``n_blocks`` contiguous blocks; this covers correlated increments (overlapping windows, ions
moving together) when a block outlasts those correlations, but not which ions happen to sit in
a slab: where ions barely move along z during the run (a slow GB normal) every block sees the
same few ions. (2) Over ions: the ions are dealt at random (``seed``) into ``n_ion_groups``
groups; this covers that ion-to-ion spread but treats ions as independent (it misses ions
moving together). In the oracle tests, on the steep edge of a slow GB, the ion-group error is
1.6× the time-block one, and the time blocks alone made a correct D look 4σ off.

Hops (operational). Each ion has a residence position, the running mean of its positions since
its last hop; when the ion is farther than ``hop_threshold_A`` from it, that is a hop, counted
in the slab of the residence position (where the hop starts), and the residence restarts at
the new position (a running mean, so vibration about a site is not a hop). Default threshold:
half the median nearest-neighbour distance among the chosen ions in the first frame (on a
partly occupied sublattice that exceeds the site spacing: then pass half the site spacing).
A slab with fewer than ``min_hops`` (30) hops has too few independent events for a D:
:func:`gb_profile` raises :class:`~lilib.errors.ArgumentError` naming the slab and its count,
unless ``min_hops=0`` or ``on_insufficient="mask"`` (NaN there).

Width. :func:`gb_width` fits D(|d|) of one component, bin-averaged, with a symmetric tanh step
D_b + (D_gb − D_b)·½[tanh((x + h)/w) − tanh((x − h)/w)] (default) or a plateau plus Gaussian
D_b + (D_gb − D_b)·exp(−x²/2s²). δ is the equivalent-rectangle width (2h, or √(2π)·s): the GB
excess then equals (D_gb − D_b)·δ for the model. The model-free excess is the integral across
one GB of (D(z) − D_bulk), in Å·cm²/s (× 1e-8 → cm³/s, the unit of δ·D_gb in Fisher/Harrison
analysis, :func:`lilib.gb.harrison_regimes`).

Units: Å, fs (time step), K, cm²/s, eV.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numba import njit
from scipy import optimize, special

from lilib.errors import ArgumentError, ConvergenceWarning, InsufficientStatisticsError
from lilib.md.trajectory import Trajectory
from lilib.md.transport import ArrheniusFit, arrhenius_fit

__all__ = [
    "GBArrhenius",
    "GBProfile",
    "GBWidth",
    "RegionDiffusivity",
    "distance_to_gb",
    "gb_arrhenius",
    "gb_profile",
    "gb_width",
]

_A2_FS_TO_CM2_S = 1e-16 / 1e-15  # Å²/fs → cm²/s
_A_TO_CM = 1e-8
_CHUNK_FRAMES = 2048  # frames per kernel call: bounds what a memmap pulls in at once
_COMPONENTS = ("parallel", "perp", "total")
_MODELS = ("tanh", "gaussian")


# ---------------------------------------------------------------------------- kernels


@njit(cache=True, inline="always")
def _signed_distance(z, planes, length, inv_length):
    """Signed distance of z to the nearest plane, periodic with ``length`` (first plane on ties)."""
    best = 0.0
    best_abs = np.inf
    for k in range(planes.size):
        d = z - planes[k]
        d -= length * math.floor(d * inv_length + 0.5)
        a = abs(d)
        if a < best_abs:
            best_abs = a
            best = d
    return best


@njit(cache=True, inline="always")
def _bin_index(x, edges, inv_width):
    """Index b with edges[b] ≤ x < edges[b + 1], or −1 outside; inv_width > 0: equal bins."""
    n = edges.size - 1
    if not (x >= edges[0] and x < edges[n]):
        return -1
    if inv_width > 0.0:  # a guess, corrected against the edges themselves (exact)
        b = min(int((x - edges[0]) * inv_width), n - 1)
        if x < edges[b]:
            b -= 1
        elif x >= edges[b + 1]:
            b += 1
        return b
    lo, hi = 0, n
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if x >= edges[mid]:
            lo = mid
        else:
            hi = mid
    return lo


@njit(cache=True)
def _increment_sums(
    chunk, idx, groups, j0, n_origins, n_total, stride, lag, n_blocks, geometry, sums, counts
):
    """Add Δr_α² of origins j0 … j0 + n_origins − 1 (at frame (j − j0)·stride of ``chunk``)."""
    planes, length, edges, inv_width, signed = geometry
    inv_length = 1.0 / length
    for jj in range(n_origins):
        t = jj * stride
        start = chunk[t]
        end = chunk[t + lag]
        block = ((j0 + jj) * n_blocks) // n_total
        s_block = sums[block]
        c_block = counts[block]
        for j in range(idx.size):
            i = idx[j]
            z0 = np.float64(start[i, 2])
            z1 = np.float64(end[i, 2])
            x = _signed_distance(0.5 * (z0 + z1), planes, length, inv_length)
            b = _bin_index(x if signed else abs(x), edges, inv_width)
            if b < 0:
                continue
            g = groups[j]
            dx = np.float64(end[i, 0]) - np.float64(start[i, 0])
            dy = np.float64(end[i, 1]) - np.float64(start[i, 1])
            dz = z1 - z0
            s_block[g, b, 0] += dx * dx
            s_block[g, b, 1] += dy * dy
            s_block[g, b, 2] += dz * dz
            c_block[g, b] += 1


@njit(cache=True)
def _hops_and_occupancy(chunk, idx, res_sum, res_n, thr2, geometry, hops, occupancy):
    """Hop counts per slab of the residence position and ion-frames per slab (both in place)."""
    planes, length, edges, inv_width, signed = geometry
    inv_length = 1.0 / length
    for t in range(chunk.shape[0]):
        frame = chunk[t]
        for j in range(idx.size):
            i = idx[j]
            x = np.float64(frame[i, 0])
            y = np.float64(frame[i, 1])
            z = np.float64(frame[i, 2])
            dz = _signed_distance(z, planes, length, inv_length)
            b = _bin_index(dz if signed else abs(dz), edges, inv_width)
            if b >= 0:
                occupancy[b] += 1
            n = res_n[j]
            if n > 0:
                inv_n = 1.0 / n
                mx, my, mz = res_sum[j, 0] * inv_n, res_sum[j, 1] * inv_n, res_sum[j, 2] * inv_n
                if (x - mx) ** 2 + (y - my) ** 2 + (z - mz) ** 2 <= thr2:
                    res_sum[j, 0] += x
                    res_sum[j, 1] += y
                    res_sum[j, 2] += z
                    res_n[j] = n + 1
                    continue
                dm = _signed_distance(mz, planes, length, inv_length)
                bm = _bin_index(dm if signed else abs(dm), edges, inv_width)
                if bm >= 0:
                    hops[bm] += 1
            res_sum[j, 0], res_sum[j, 1], res_sum[j, 2] = x, y, z
            res_n[j] = 1


# ---------------------------------------------------------------------------- geometry


def _check_length(cell_length_z_A: Any) -> float:
    try:
        length = float(cell_length_z_A)
    except (TypeError, ValueError):
        raise ArgumentError(
            "cell_length_z_A", f"must be a number > 0 Å, got {cell_length_z_A!r}"
        ) from None
    if not 0 < length < np.inf:
        raise ArgumentError("cell_length_z_A", f"must be finite and > 0 Å, got {cell_length_z_A!r}")
    return length


def _check_planes(gb_planes_A: Any, length: float) -> np.ndarray:
    try:
        planes = np.asarray(gb_planes_A, dtype=np.float64)
    except (TypeError, ValueError):
        raise ArgumentError(
            "gb_planes_A", f"expected z positions (Å), got {gb_planes_A!r}"
        ) from None
    if planes.ndim == 0:
        planes = planes.reshape(1)
    if planes.ndim != 1 or planes.size == 0:
        raise ArgumentError(
            "gb_planes_A", f"expected a 1-D list of plane z positions (Å), got shape {planes.shape}"
        )
    if not np.all(np.isfinite(planes)):
        raise ArgumentError("gb_planes_A", "contains NaN or inf")
    if np.any(planes < 0) or np.any(planes >= length):
        raise ArgumentError(
            "gb_planes_A",
            f"planes {planes.tolist()} must lie inside the cell, 0 ≤ z < {length:g} Å",
        )
    if np.unique(planes).size != planes.size:
        raise ArgumentError("gb_planes_A", f"repeats a plane: {planes.tolist()}")
    return np.sort(planes)


def distance_to_gb(
    positions_z_A: Any, gb_planes_A: Sequence[float], cell_length_z_A: float
) -> np.ndarray:
    """Signed distance (Å) of each z to the nearest GB plane, periodic along z.

    positions_z_A: z coordinates (Å) of any shape, e.g. (n_frames, n_atoms); wrapped or
    unwrapped. gb_planes_A: plane z positions, 0 ≤ z < cell_length_z_A (the cell's c_z, Å).
    Returns the same shape, d ∈ [−L/2, L/2): positive on the side of increasing z. Equidistant
    points go to the lower plane. float32 in → float32 out (arithmetic in float64).
    """
    length = _check_length(cell_length_z_A)
    planes = _check_planes(gb_planes_A, length)
    z = np.asarray(positions_z_A)
    if not np.issubdtype(z.dtype, np.number) or np.iscomplexobj(z):
        raise ArgumentError("positions_z_A", f"expected real numbers, got dtype {z.dtype}")
    out_dtype = np.float32 if z.dtype == np.float32 else np.float64
    flat = z.reshape(-1)
    out = np.empty(flat.shape, dtype=out_dtype)
    step = 1 << 22  # elements per pass: bounded float64 temporaries
    for s in range(0, flat.size, step):
        zz = flat[s : s + step].astype(np.float64)
        if not np.all(np.isfinite(zz)):
            raise ArgumentError("positions_z_A", "contains NaN or inf")
        best = None
        best_abs = None
        for p in planes:
            d = zz - p
            d -= length * np.floor(d * (1.0 / length) + 0.5)  # as the kernels do
            a = np.abs(d)
            if best is None:
                best, best_abs = d, a
            else:
                closer = a < best_abs
                best = np.where(closer, d, best)
                best_abs = np.where(closer, a, best_abs)
        out[s : s + step] = best
    return out.reshape(z.shape)


def _slab_lengths(edges: np.ndarray, planes: np.ndarray, length: float, signed: bool) -> np.ndarray:
    """Total z length (Å, whole cell) whose distance to the nearest plane falls in each bin."""
    gaps = np.diff(np.append(planes, planes[0] + length))
    lo, hi = edges[:-1], edges[1:]
    out = np.zeros(lo.size)
    for g in gaps:
        half = g / 2
        if signed:
            out += np.clip(np.minimum(hi, half) - np.maximum(lo, 0.0), 0, None)  # above a plane
            out += np.clip(np.minimum(hi, 0.0) - np.maximum(lo, -half), 0, None)  # below the next
        else:
            out += 2 * np.clip(np.minimum(hi, half) - np.minimum(lo, half), 0, None)
    return out


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True)
class RegionDiffusivity:
    """D pooled over a set of slabs (all their increments together), ± block-jackknife stderr.

    slabs: the slab indices pooled. anisotropy = D_parallel / D_perp. samples: increments.
    """

    slabs: tuple[int, ...]
    D_parallel_cm2_s: float
    D_parallel_stderr_cm2_s: float
    D_perp_cm2_s: float
    D_perp_stderr_cm2_s: float
    D_total_cm2_s: float
    D_total_stderr_cm2_s: float
    anisotropy: float
    anisotropy_stderr: float
    samples: int

    def value(self, component: str) -> tuple[float, float]:
        """(D, stderr) in cm²/s of 'parallel', 'perp' or 'total'."""
        component = _check_component(component)
        return (
            getattr(self, f"D_{component}_cm2_s"),
            getattr(self, f"D_{component}_stderr_cm2_s"),
        )

    def to_dict(self, prefix: str = "") -> dict[str, float]:
        """The numbers as a flat dict, keys prefixed (e.g. 'gb_')."""
        return {
            f"{prefix}{k}": getattr(self, k)
            for k in (
                "D_parallel_cm2_s",
                "D_parallel_stderr_cm2_s",
                "D_perp_cm2_s",
                "D_perp_stderr_cm2_s",
                "D_total_cm2_s",
                "D_total_stderr_cm2_s",
                "anisotropy",
                "anisotropy_stderr",
                "samples",
            )
        }


@dataclass(frozen=True, eq=False)
class GBProfile:
    """D(z) around the GB planes: per slab D_x, D_y, D_z (cm²/s) ± stderr, samples, hops.

    bin_edges_A: slab edges in |d| (or d if ``signed``), Å. D_cm2_s / D_stderr_cm2_s: (n_slabs,
    3) x, y, z parts (NaN where a slab has no increment or was refused). samples: increments
    per slab (at the longer lag). hops: hops starting in each slab. refused_slabs: slabs below
    ``min_hops`` (masked to NaN). density_rel: ion density per slab over the cell mean (1 =
    uniform). rms_dz_A: √⟨Δz²⟩ at the longer lag (the z resolution of that slab's D).
    lag_frames: (τ1, τ2) with τ1 = 0 for the one-lag estimator. sums_A2 / counts: Σ Δr_α² and
    N per (lag, time block, ion group, slab[, axis]), for pooled values and the jackknifes.
    Standard errors are the larger of the time-block and ion-group jackknifes (module doc);
    ``stderr(component)`` gives both.
    """

    bin_edges_A: np.ndarray = field(repr=False)
    signed: bool
    D_cm2_s: np.ndarray = field(repr=False)
    D_stderr_cm2_s: np.ndarray = field(repr=False)
    samples: np.ndarray = field(repr=False)
    hops: np.ndarray = field(repr=False)
    refused_slabs: tuple[int, ...]
    density_rel: np.ndarray = field(repr=False)
    rms_dz_A: np.ndarray = field(repr=False)
    slab_length_A: np.ndarray = field(repr=False)
    sums_A2: np.ndarray = field(repr=False)
    counts: np.ndarray = field(repr=False)
    gb_planes_A: tuple[float, ...]
    cell_length_z_A: float
    lag_frames: tuple[int, int]
    timestep_fs: float
    origin_stride: int
    n_blocks: int
    n_ion_groups: int
    seed: int
    hop_threshold_A: float
    min_hops: int
    species: str
    n_ions: int
    temperature_K: float | None = None
    estimator: str = ""
    uncertainty: str = ""

    @property
    def n_slabs(self) -> int:
        """Number of slabs."""
        return int(self.bin_edges_A.size - 1)

    @property
    def centres_A(self) -> np.ndarray:
        """Slab centres, Å."""
        return 0.5 * (self.bin_edges_A[1:] + self.bin_edges_A[:-1])

    @property
    def widths_A(self) -> np.ndarray:
        """Slab widths, Å."""
        return np.diff(self.bin_edges_A)

    @property
    def lag_fs(self) -> tuple[float, float]:
        """(τ1, τ2) in fs."""
        return (self.lag_frames[0] * self.timestep_fs, self.lag_frames[1] * self.timestep_fs)

    @property
    def D_parallel_cm2_s(self) -> np.ndarray:
        """In-plane D = (D_x + D_y)/2 per slab, cm²/s."""
        return self._component("parallel")[0]

    @property
    def D_parallel_stderr_cm2_s(self) -> np.ndarray:
        """Its standard error (the larger jackknife), cm²/s."""
        return self._component("parallel")[1]

    @property
    def D_perp_cm2_s(self) -> np.ndarray:
        """D along the GB normal (z) per slab, cm²/s."""
        return self._component("perp")[0]

    @property
    def D_perp_stderr_cm2_s(self) -> np.ndarray:
        """Its standard error (the larger jackknife), cm²/s."""
        return self._component("perp")[1]

    @property
    def D_total_cm2_s(self) -> np.ndarray:
        """(D_x + D_y + D_z)/3 per slab, cm²/s."""
        return self._component("total")[0]

    @property
    def D_total_stderr_cm2_s(self) -> np.ndarray:
        """Its standard error (the larger jackknife), cm²/s."""
        return self._component("total")[1]

    def _component(self, component: str) -> tuple[np.ndarray, np.ndarray]:
        val, err_t, err_i = self.stderr(component)
        return val, np.fmax(err_t, err_i)

    def stderr(self, component: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per slab D of a component, its time-block and its ion-group jackknife stderr, cm²/s."""
        component = _check_component(component)
        cache = self.__dict__.setdefault("_cache", {})
        if component not in cache:
            out = _jackknife(
                lambda s, n: _component_of(self._per_slab(s, n), component),
                self.sums_A2,
                self.counts,
            )
            for a in out:
                a[list(self.refused_slabs)] = np.nan
                a.flags.writeable = False  # cached: shared by every caller
            cache[component] = out
        return cache[component]

    def _per_slab(self, sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
        return _diffusivity(sums, counts, self.lag_frames, self.timestep_fs)

    def region(self, slabs: Sequence[int] | np.ndarray) -> RegionDiffusivity:
        """D pooled over some slabs (indices or a boolean mask), ± block-jackknife stderr."""
        sel = np.asarray(slabs)
        if sel.dtype == bool:
            if sel.shape != (self.n_slabs,):
                raise ArgumentError("slabs", f"a mask needs {self.n_slabs} entries")
            sel = np.flatnonzero(sel)
        sel = np.unique(sel.astype(np.int64).ravel())
        if sel.size == 0 or sel.min() < 0 or sel.max() >= self.n_slabs:
            raise ArgumentError("slabs", f"expected slab indices in [0, {self.n_slabs})")
        refused = sorted(set(sel.tolist()) & set(self.refused_slabs))
        if refused:
            raise ArgumentError("slabs", f"slabs {refused} were refused (too few hops)")

        def pooled(s: np.ndarray, n: np.ndarray) -> np.ndarray:
            d = _diffusivity(
                s[:, sel].sum(axis=1, keepdims=True),
                n[:, sel].sum(axis=1, keepdims=True),
                self.lag_frames,
                self.timestep_fs,
            )[0]
            par, perp = 0.5 * (d[0] + d[1]), d[2]
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.array([par, perp, d.mean(), par / perp])

        val, err_t, err_i = _jackknife(pooled, self.sums_A2, self.counts)
        err = np.fmax(err_t, err_i)
        return RegionDiffusivity(
            slabs=tuple(int(s) for s in sel),
            D_parallel_cm2_s=float(val[0]),
            D_parallel_stderr_cm2_s=float(err[0]),
            D_perp_cm2_s=float(val[1]),
            D_perp_stderr_cm2_s=float(err[1]),
            D_total_cm2_s=float(val[2]),
            D_total_stderr_cm2_s=float(err[2]),
            anisotropy=float(val[3]),
            anisotropy_stderr=float(err[3]),
            samples=int(self.samples[sel].sum()),
        )

    def to_dataframe(self) -> pd.DataFrame:
        """One row per slab: edges, centre, D parts ± stderr, samples, hops, density, refused."""
        df = pd.DataFrame(
            {
                "slab": np.arange(self.n_slabs),
                "lo_A": self.bin_edges_A[:-1],
                "hi_A": self.bin_edges_A[1:],
                "centre_A": self.centres_A,
            }
        )
        for k, a in enumerate("xyz"):
            df[f"D_{a}_cm2_s"] = self.D_cm2_s[:, k]
        for c in _COMPONENTS:
            val, err_t, err_i = self.stderr(c)
            df[f"D_{c}_cm2_s"] = val
            df[f"D_{c}_stderr_cm2_s"] = np.fmax(err_t, err_i)
            df[f"D_{c}_stderr_time_cm2_s"] = err_t
            df[f"D_{c}_stderr_ions_cm2_s"] = err_i
        df["samples"] = self.samples
        df["hops"] = self.hops
        df["density_rel"] = self.density_rel
        df["rms_dz_A"] = self.rms_dz_A
        df["refused"] = np.isin(np.arange(self.n_slabs), self.refused_slabs)
        return df

    def plot(self, ax: Any = None) -> Any:
        """D_parallel and D_perp (± stderr) against the slab centre; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        x = self.centres_A
        for c, label, marker in (("parallel", "D∥ (x, y)", "o"), ("perp", "D⊥ (z)", "s")):
            val, err = self._component(c)
            ax.errorbar(x, val, yerr=err, fmt=f"{marker}-", ms=4, capsize=2, label=label)
        for s in self.refused_slabs:
            ax.axvspan(self.bin_edges_A[s], self.bin_edges_A[s + 1], color="0.85", lw=0)
        finite = np.concatenate([self._component(c)[0] for c in ("parallel", "perp")])
        finite = finite[np.isfinite(finite)]
        if finite.size and np.all(finite > 0):
            ax.set_yscale("log")
        if self.signed:
            ax.axvline(0.0, ls="--", c="0.4", lw=1)
        ax.set_xlabel("signed distance to GB plane (Å)" if self.signed else "|distance to GB| (Å)")
        ax.set_ylabel(f"D ({self.species}) (cm²/s)")
        ax.legend(fontsize=8)
        return ax


@dataclass(frozen=True, eq=False)
class GBWidth:
    """GB width δ and GB vs bulk diffusivities from a :class:`GBProfile`.

    model: 'tanh' or 'gaussian'; component: the D fitted ('parallel', 'perp', 'total').
    delta_A ± delta_stderr_A: equivalent-rectangle width (full, both sides of the plane);
    edge_A: the tanh edge w or the Gaussian s. fit_params: (D_bulk, D_gb, h or s, w) of the
    model, cm²/s and Å. gb / bulk: D pooled over the slabs inside the GB (|d| ≤ h − 3w) and
    far from it (|d| ≥ h + 3w, or the caller's limits; 3w: the step is within 0.25 % of its
    plateaus). ratio = D_gb/D_bulk of the component.
    excess_A_cm2_s: ∫ (D(z) − D_bulk) dz across one GB (component; Å·cm²/s).
    delta_D_gb_cm3_s: δ·D_gb (cm³/s). Every stderr: the larger of the two jackknifes.
    """

    model: str
    component: str
    delta_A: float
    delta_stderr_A: float
    edge_A: float
    fit_params: tuple[float, ...]
    chi2_reduced: float
    converged: bool
    gb: RegionDiffusivity
    bulk: RegionDiffusivity
    ratio: float
    ratio_stderr: float
    excess_A_cm2_s: float
    excess_stderr_A_cm2_s: float
    delta_D_gb_cm3_s: float
    delta_D_gb_stderr_cm3_s: float
    gb_half_width_A: float
    bulk_min_distance_A: float
    temperature_K: float | None
    profile: GBProfile = field(repr=False)

    @property
    def delta_nm(self) -> float:
        """δ in nm (the unit of :func:`lilib.gb.harrison_regimes`)."""
        return self.delta_A / 10.0

    @property
    def D_gb_cm2_s(self) -> float:
        """Pooled GB D of the fitted component, cm²/s."""
        return self.gb.value(self.component)[0]

    @property
    def D_bulk_cm2_s(self) -> float:
        """Pooled bulk D of the fitted component, cm²/s."""
        return self.bulk.value(self.component)[0]

    @property
    def excess_cm3_s(self) -> float:
        """∫ (D − D_bulk) dz across one GB in cm³/s."""
        return self.excess_A_cm2_s * _A_TO_CM

    @property
    def excess_stderr_cm3_s(self) -> float:
        """Its stderr, cm³/s."""
        return self.excess_stderr_A_cm2_s * _A_TO_CM

    def model_curve(self, x_A: Any) -> np.ndarray:
        """The fitted model at distances x (Å), cm²/s (point values, not bin averages)."""
        x = np.asarray(x_A, dtype=float)
        return _model_point(self.model, x, *self.fit_params)

    def to_dataframe(self) -> pd.DataFrame:
        """One row: δ ± stderr, D_gb and D_bulk (parallel, perp, total) ± stderr, excess."""
        row: dict[str, Any] = {
            "temperature_K": self.temperature_K,
            "model": self.model,
            "component": self.component,
            "delta_A": self.delta_A,
            "delta_stderr_A": self.delta_stderr_A,
            "edge_A": self.edge_A,
            "ratio_gb_bulk": self.ratio,
            "ratio_stderr": self.ratio_stderr,
            "excess_A_cm2_s": self.excess_A_cm2_s,
            "excess_stderr_A_cm2_s": self.excess_stderr_A_cm2_s,
            "excess_cm3_s": self.excess_cm3_s,
            "delta_D_gb_cm3_s": self.delta_D_gb_cm3_s,
            "delta_D_gb_stderr_cm3_s": self.delta_D_gb_stderr_cm3_s,
            "chi2_reduced": self.chi2_reduced,
            "converged": self.converged,
        }
        row.update(self.gb.to_dict("gb_"))
        row.update(self.bulk.to_dict("bulk_"))
        return pd.DataFrame([row])

    def plot(self, ax: Any = None) -> Any:
        """The profile of the fitted component, the model, δ/2 and D_bulk; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        p = self.profile
        val, err = p._component(self.component)
        ax.errorbar(p.centres_A, val, yerr=err, fmt="o", ms=4, capsize=2, label=self.component)
        lo, hi = p.bin_edges_A[0], p.bin_edges_A[-1]
        x = np.linspace(lo, hi, 400)
        ax.plot(x, self.model_curve(x), "-", lw=1.5, label=f"{self.model} fit")
        for s in (-1, 1) if p.signed else (1,):
            ax.axvline(s * self.delta_A / 2, ls="--", c="0.4", lw=1)
        ax.axhline(self.D_bulk_cm2_s, ls=":", c="0.4", lw=1, label="D bulk")
        ax.set_xlabel("signed distance to GB plane (Å)" if p.signed else "|distance to GB| (Å)")
        ax.set_ylabel("D (cm²/s)")
        ax.set_title(f"δ = {self.delta_A:.2f} ± {self.delta_stderr_A:.2f} Å")
        ax.legend(fontsize=8)
        return ax


@dataclass(frozen=True, eq=False)
class GBArrhenius:
    """Arrhenius fits of the GB and the bulk D of one component over temperatures.

    gb, bulk: :class:`lilib.md.transport.ArrheniusFit` (E_a in eV ± stderr, D0, 300 K value).
    widths: the per-temperature :class:`GBWidth` results used.
    """

    component: str
    gb: ArrheniusFit
    bulk: ArrheniusFit
    temperatures_K: np.ndarray = field(repr=False)
    widths: tuple[GBWidth, ...] = field(repr=False)

    @property
    def ea_gb_eV(self) -> float:
        """GB activation energy, eV."""
        return self.gb.ea_eV

    @property
    def ea_bulk_eV(self) -> float:
        """Bulk activation energy, eV."""
        return self.bulk.ea_eV

    def to_dataframe(self) -> pd.DataFrame:
        """One row per temperature: D_gb, D_bulk (± stderr), their fits, δ."""
        gb_fit, _ = self.gb.predict(self.temperatures_K)
        bulk_fit, _ = self.bulk.predict(self.temperatures_K)
        gb = [w.gb.value(self.component) for w in self.widths]
        bulk = [w.bulk.value(self.component) for w in self.widths]
        return pd.DataFrame(
            {
                "temperature_K": self.temperatures_K,
                "D_gb_cm2_s": [g[0] for g in gb],
                "D_gb_stderr_cm2_s": [g[1] for g in gb],
                "D_gb_fit_cm2_s": gb_fit,
                "D_bulk_cm2_s": [b[0] for b in bulk],
                "D_bulk_stderr_cm2_s": [b[1] for b in bulk],
                "D_bulk_fit_cm2_s": bulk_fit,
                "delta_A": [w.delta_A for w in self.widths],
            }
        )

    def plot(self, ax: Any = None) -> Any:
        """log D against 1000/T for GB and bulk with their fits; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 3.5))
        inv = 1000.0 / self.temperatures_K
        grid = np.linspace(inv.min(), inv.max(), 50)
        for name, fit, color in (("GB", self.gb, "C3"), ("bulk", self.bulk, "C0")):
            ax.errorbar(
                inv, fit.diffusivities_cm2_s, yerr=fit.stderr_cm2_s, fmt="o", ms=4, color=color
            )
            d, _ = fit.predict(1000.0 / grid)
            label = f"{name}: E_a = {fit.ea_eV:.3f} ± {fit.ea_stderr_eV:.3f} eV"
            ax.plot(grid, d, "-", color=color, label=label)
        ax.set_yscale("log")
        ax.set_xlabel("1000/T (1/K)")
        ax.set_ylabel(f"D {self.component} (cm²/s)")
        ax.legend(fontsize=8)
        return ax


# ---------------------------------------------------------------------------- statistics


def _check_component(component: Any) -> str:
    if component not in _COMPONENTS:
        raise ArgumentError("component", f"must be one of {_COMPONENTS}, got {component!r}")
    return component


def _diffusivity(
    sums: np.ndarray, counts: np.ndarray, lags: tuple[int, int], timestep_fs: float
) -> np.ndarray:
    """D (n_slabs, 3) in cm²/s from Σ Δr² (n_lags, n_slabs, 3) and N (n_lags, n_slabs)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        m = sums / counts[..., None]  # mean Δr_α², Å²
    tau1, tau2 = lags
    diff = m[-1] - m[0] if tau1 > 0 else m[-1]
    return diff / (2.0 * (tau2 - tau1) * timestep_fs) * _A2_FS_TO_CM2_S


def _component_of(d: np.ndarray, component: str) -> np.ndarray:
    if component == "parallel":
        return 0.5 * (d[..., 0] + d[..., 1])
    if component == "perp":
        return d[..., 2]
    return d.mean(axis=-1)


def _jackknife(
    stat: Callable[[np.ndarray, np.ndarray], np.ndarray],
    sums: np.ndarray,
    counts: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """stat(Σ, N) on everything, and its delete-one jackknife stderr over time blocks and over
    ion groups. sums: (n_lags, n_blocks, n_groups, n_slabs, 3); counts: the same without axis."""
    s_tot = sums.sum(axis=(1, 2))
    n_tot = counts.sum(axis=(1, 2))
    full = np.asarray(stat(s_tot, n_tot), dtype=float)
    errors = []
    for axis in (1, 2):
        k = sums.shape[axis]
        if k < 2:
            errors.append(np.full_like(full, np.nan))
            continue
        s_part = sums.sum(axis=3 - axis)  # (n_lags, k, n_slabs, 3): one partition's groups
        n_part = counts.sum(axis=3 - axis)
        loo = np.stack(
            [
                np.asarray(stat(s_tot - s_part[:, g], n_tot - n_part[:, g]), dtype=float)
                for g in range(k)
            ]
        )
        with np.errstate(invalid="ignore"):  # inf − inf where a statistic is infinite: NaN
            dev = loo - loo.mean(axis=0)
        errors.append(np.sqrt((k - 1) / k * (dev * dev).sum(axis=0)))
    return full, errors[0], errors[1]


# ---------------------------------------------------------------------------- gb_profile


def _int_arg(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ArgumentError(name, f"must be an integer ≥ {minimum}, got {value!r}")
    return int(value)


def _check_lags(lag_frames: Any, n_frames: int) -> tuple[int, int]:
    if isinstance(lag_frames, (int, np.integer)) and not isinstance(lag_frames, bool):
        lags = (0, int(lag_frames))
    else:
        try:
            lags = tuple(lag_frames)
        except TypeError:
            raise ArgumentError(
                "lag_frames", f"expected an integer τ or a pair (τ1, τ2), got {lag_frames!r}"
            ) from None
        ok = len(lags) == 2 and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in lags
        )
        if not ok:
            raise ArgumentError(
                "lag_frames", f"expected an integer τ or a pair (τ1, τ2), got {lag_frames!r}"
            )
        lags = (int(lags[0]), int(lags[1]))
        if not 0 <= lags[0] < lags[1]:
            raise ArgumentError("lag_frames", f"need 0 ≤ τ1 < τ2 (frames), got {lag_frames!r}")
    if lags[1] < 1:
        raise ArgumentError("lag_frames", f"must be ≥ 1 frame, got {lag_frames!r}")
    if lags[1] >= n_frames:
        raise ArgumentError(
            "lag_frames", f"τ = {lags[1]} frames needs more than the {n_frames} frames given"
        )
    return lags


def _cell_length_z(traj: Trajectory) -> float:
    if traj.variable_cell:
        raise ArgumentError(
            "traj", "the cell changes between frames (NPT): D(z) needs a fixed cell along z"
        )
    cell = traj.cell
    if abs(cell[0, 2]) > 1e-6 or abs(cell[1, 2]) > 1e-6 or cell[2, 2] <= 0:
        raise ArgumentError(
            "traj",
            "cell vectors a and b must lie in the GB plane (no z component) and c_z > 0, the "
            f"frame of GBModel; got a_z = {cell[0, 2]:g}, b_z = {cell[1, 2]:g}, c_z = {cell[2, 2]:g}",
        )
    return float(cell[2, 2])


def _planes_from(gb: Any, length: float) -> np.ndarray:
    if hasattr(gb, "gb_positions_A") and hasattr(gb, "normal_length_A"):
        if abs(gb.normal_length_A - length) > 1e-4 * length:
            raise ArgumentError(
                "gb",
                f"the GB model's normal length {gb.normal_length_A:g} Å differs from the "
                f"trajectory's c_z {length:g} Å: not the same cell",
            )
        return _check_planes(gb.gb_positions_A, length)
    return _check_planes(gb, length)


def _edges(
    bin_width_A: float | None,
    bin_edges_A: Any,
    planes: np.ndarray,
    length: float,
    signed: bool,
) -> np.ndarray:
    gaps = np.diff(np.append(planes, planes[0] + length))
    d_max = float(gaps.max()) / 2
    if bin_edges_A is not None:
        try:
            edges = np.asarray(bin_edges_A, dtype=float)
        except (TypeError, ValueError):
            raise ArgumentError("bin_edges_A", f"expected numbers, got {bin_edges_A!r}") from None
        if edges.ndim != 1 or edges.size < 2:
            raise ArgumentError("bin_edges_A", "needs at least two edges")
        if not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0):
            raise ArgumentError("bin_edges_A", "must be finite and strictly increasing")
        if not signed and edges[0] < 0:
            raise ArgumentError("bin_edges_A", "bins in |d| start at ≥ 0 (or pass signed=True)")
        return edges
    try:
        width = float(bin_width_A)
    except (TypeError, ValueError):
        raise ArgumentError("bin_width_A", f"must be a number > 0 Å, got {bin_width_A!r}") from None
    if not 0 < width < np.inf:
        raise ArgumentError("bin_width_A", f"must be > 0 Å, got {bin_width_A!r}")
    n = max(1, math.ceil(d_max / width - 1e-9))
    edges = width * np.arange(n + 1, dtype=float)
    return np.concatenate([-edges[:0:-1], edges]) if signed else edges


def _nearest_neighbour_A(traj: Trajectory, idx: np.ndarray) -> float:
    """Median nearest-neighbour distance among the chosen atoms in frame 0 (minimum image), Å."""
    from ase import Atoms
    from ase.neighborlist import neighbor_list

    if idx.size < 2:
        raise ArgumentError("hop_threshold_A", "one ion has no neighbour: give a threshold (Å)")
    atoms = Atoms(
        symbols=traj.symbols[idx].tolist(),
        positions=np.asarray(traj.positions[0, idx], dtype=np.float64),
        cell=traj.cell,
        pbc=True,
    )
    vol = abs(np.linalg.det(traj.cell))
    cutoff = 1.5 * (vol / idx.size) ** (1 / 3)
    for _ in range(6):
        i, d = neighbor_list("id", atoms, cutoff)
        nn = np.full(idx.size, np.inf)
        np.minimum.at(nn, i, d)
        if np.all(np.isfinite(nn)):
            return float(np.median(nn))
        cutoff *= 1.6
    raise ArgumentError("hop_threshold_A", "could not find neighbours: give a threshold (Å)")


def gb_profile(
    traj: Trajectory,
    gb: Any,
    species: str | Sequence[str] | Sequence[int] | np.ndarray = "Li",
    *,
    lag_frames: int | tuple[int, int],
    bin_width_A: float = 1.0,
    bin_edges_A: Sequence[float] | np.ndarray | None = None,
    signed: bool = False,
    origin_stride: int = 1,
    n_blocks: int = 10,
    n_ion_groups: int = 10,
    seed: int = 0,
    hop_threshold_A: float | None = None,
    min_hops: int = 30,
    on_insufficient: str = "raise",
) -> GBProfile:
    """D_parallel(z) and D_perp(z) per slab around the GB planes, with hops (see module doc).

    traj: unwrapped, fixed cell with a, b in the GB plane (GB normal z), any dtype the
    Trajectory holds (float32 is read as is, never copied as a whole). gb: a
    :class:`~lilib.gb.build.GBModel` or the plane z positions (Å, 0 ≤ z < c_z). species:
    symbol(s), indices or mask. lag_frames: τ (frames), or (τ1, τ2) for the offset-free
    two-lag form. bin_width_A / bin_edges_A: slabs in |d| (in d if ``signed``); the default
    covers |d| up to half the largest gap between planes. origin_stride: frames between
    origins. n_blocks: contiguous time blocks of one jackknife (≥ 2); n_ion_groups: random
    groups of ions of the other (at most one per ion), dealt with ``seed``. hop_threshold_A:
    default half the median nearest-neighbour distance of the chosen ions in frame 0.
    min_hops: slabs with fewer hops are refused (0 turns the check off). on_insufficient:
    'raise' (ArgumentError naming the slab and count) or 'mask' (NaN there, listed in
    ``refused_slabs``).
    """
    if not isinstance(traj, Trajectory):
        raise ArgumentError("traj", f"expected a lilib.md.Trajectory, got {type(traj).__name__}")
    if not traj.unwrapped:
        raise ArgumentError("traj", "positions are wrapped: call unwrap() first")
    length = _cell_length_z(traj)
    planes = _planes_from(gb, length)
    idx = np.ascontiguousarray(traj.atom_indices(species), dtype=np.int64)
    n_frames = traj.n_frames
    lags = _check_lags(lag_frames, n_frames)
    stride = _int_arg(origin_stride, "origin_stride", 1)
    n_blocks = _int_arg(n_blocks, "n_blocks", 2)
    n_groups = min(_int_arg(n_ion_groups, "n_ion_groups", 2), idx.size)
    seed = _int_arg(seed, "seed", 0)
    groups = np.ascontiguousarray(
        np.random.default_rng(seed).permutation(idx.size) % n_groups, dtype=np.int64
    )
    min_hops = _int_arg(min_hops, "min_hops", 0)
    if on_insufficient not in ("raise", "mask"):
        raise ArgumentError(
            "on_insufficient", f"must be 'raise' or 'mask', got {on_insufficient!r}"
        )
    signed = bool(signed)
    edges = _edges(bin_width_A, bin_edges_A, planes, length, signed)
    n_bins = edges.size - 1
    n_origins = (n_frames - lags[1] - 1) // stride + 1
    if n_origins < n_blocks:
        raise ArgumentError(
            "n_blocks",
            f"{n_origins} time origins (lag {lags[1]}, stride {stride}) cannot fill {n_blocks} blocks",
        )
    if hop_threshold_A is None:
        thr = 0.5 * _nearest_neighbour_A(traj, idx)
    else:
        try:
            thr = float(hop_threshold_A)
        except (TypeError, ValueError):
            thr = np.nan
        if not 0 < thr < np.inf:
            raise ArgumentError("hop_threshold_A", f"must be > 0 Å, got {hop_threshold_A!r}")

    widths = np.diff(edges)
    equal = np.allclose(widths, widths[0], rtol=1e-12, atol=0.0)
    geometry = (planes, length, edges, 1.0 / widths[0] if equal else 0.0, signed)
    used_lags = [lags[0], lags[1]] if lags[0] > 0 else [lags[1]]
    sums = np.zeros((len(used_lags), n_blocks, n_groups, n_bins, 3))
    counts = np.zeros((len(used_lags), n_blocks, n_groups, n_bins), dtype=np.int64)
    pos = traj.positions
    per_call = max(1, _CHUNK_FRAMES // stride)
    for k, lag in enumerate(used_lags):
        for j0 in range(0, n_origins, per_call):
            n_o = min(per_call, n_origins - j0)
            t0 = j0 * stride
            chunk = np.asarray(pos[t0 : t0 + (n_o - 1) * stride + lag + 1])
            _increment_sums(
                chunk,
                idx,
                groups,
                j0,
                n_o,
                n_origins,
                stride,
                lag,
                n_blocks,
                geometry,
                sums[k],
                counts[k],
            )

    hops = np.zeros(n_bins, dtype=np.int64)
    occupancy = np.zeros(n_bins, dtype=np.int64)
    res_sum = np.zeros((idx.size, 3))
    res_n = np.zeros(idx.size, dtype=np.int64)
    for t0 in range(0, n_frames, _CHUNK_FRAMES):
        chunk = np.asarray(pos[t0 : t0 + _CHUNK_FRAMES])
        _hops_and_occupancy(chunk, idx, res_sum, res_n, thr * thr, geometry, hops, occupancy)

    slab_len = _slab_lengths(edges, planes, length, signed)
    with np.errstate(divide="ignore", invalid="ignore"):
        density = (occupancy / (n_frames * idx.size)) / (slab_len / length)

    low = [b for b in range(n_bins) if hops[b] < min_hops]
    if low and on_insufficient == "raise":
        worst = ", ".join(
            f"slab {b} ({edges[b]:.2f}–{edges[b + 1]:.2f} Å): {hops[b]} hops" for b in low
        )
        raise InsufficientStatisticsError(
            "min_hops",
            f"too few hops for a D: {worst} (fewer than min_hops={min_hops}); run longer, use "
            "wider slabs, or pass min_hops=0 or on_insufficient='mask' to accept it",
            where=low,
            counts=[int(hops[b]) for b in low],
        )
    d_val, d_err_t, d_err_i = _jackknife(
        lambda s, n: _diffusivity(s, n, lags, traj.timestep_fs), sums, counts
    )
    d_err = np.fmax(d_err_t, d_err_i)
    d_val[low] = np.nan
    d_err[low] = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        rms_dz = np.sqrt(sums[-1, ..., 2].sum(axis=(0, 1)) / counts[-1].sum(axis=(0, 1)))

    if lags[0] > 0:
        est = f"midpoint slabs; two-lag D = [M(τ2) − M(τ1)]/(2(τ2 − τ1)), τ = {lags} frames"
    else:
        est = f"midpoint slabs; D = M(τ)/(2τ), τ = {lags[1]} frames"
    return GBProfile(
        bin_edges_A=edges,
        signed=signed,
        D_cm2_s=d_val,
        D_stderr_cm2_s=d_err,
        samples=counts[-1].sum(axis=(0, 1)),
        hops=hops,
        refused_slabs=tuple(low) if low else (),
        density_rel=density,
        rms_dz_A=rms_dz,
        slab_length_A=slab_len,
        sums_A2=sums,
        counts=counts,
        gb_planes_A=tuple(float(p) for p in planes),
        cell_length_z_A=length,
        lag_frames=lags,
        timestep_fs=traj.timestep_fs,
        origin_stride=stride,
        n_blocks=n_blocks,
        n_ion_groups=n_groups,
        seed=seed,
        hop_threshold_A=float(thr),
        min_hops=min_hops,
        species=",".join(dict.fromkeys(traj.symbols[idx].tolist())),
        n_ions=int(idx.size),
        temperature_K=traj.temperature_K,
        estimator=est,
        uncertainty=(
            f"larger of the jackknifes over {n_blocks} contiguous time blocks and over "
            f"{n_groups} random ion groups (seed {seed})"
        ),
    )


# ---------------------------------------------------------------------------- gb_width


def _logcosh(u: np.ndarray) -> np.ndarray:
    a = np.abs(u)
    return a + np.log1p(np.exp(-2.0 * a)) - math.log(2.0)


def _model_point(model: str, x: np.ndarray, d_b: float, d_g: float, h: float, w: float = 0.0):
    if model == "tanh":
        step = 0.5 * (np.tanh((x + h) / w) - np.tanh((x - h) / w))
    else:
        step = np.exp(-(x**2) / (2 * h * h))
    return d_b + (d_g - d_b) * step


def _model_binned(model: str, lo: np.ndarray, hi: np.ndarray, *p: float) -> np.ndarray:
    """The model averaged over each bin [lo, hi] (the estimator's expectation)."""
    d_b, d_g, h = p[0], p[1], p[2]
    if model == "tanh":
        w = p[3]

        def prim(x):  # ∫ ½[tanh((x + h)/w) − tanh((x − h)/w)] dx
            return 0.5 * w * (_logcosh((x + h) / w) - _logcosh((x - h) / w))

    else:

        def prim(x):
            return h * math.sqrt(math.pi / 2) * special.erf(x / (math.sqrt(2) * h))

    step = (prim(hi) - prim(lo)) / (hi - lo)
    return d_b + (d_g - d_b) * step


def _fit_width(
    model: str, lo: np.ndarray, hi: np.ndarray, y: np.ndarray, sigma: np.ndarray, p0: np.ndarray
) -> tuple[np.ndarray, float]:
    """Weighted least-squares fit of the binned model; returns parameters and χ²_red.

    Slabs without a finite D are skipped; zero errors (noise-free data) take the smallest
    positive one, and an all-zero set fits unweighted.
    """
    ok = np.isfinite(y)
    lo, hi, y, sigma = lo[ok], hi[ok], y[ok], np.where(np.isfinite(sigma[ok]), sigma[ok], 0.0)
    positive = sigma[sigma > 0]
    sigma = np.where(sigma > 0, sigma, positive.min()) if positive.size else np.ones_like(y)
    n_par = p0.size
    if y.size <= n_par:
        raise RuntimeError(f"{y.size} usable slabs for {n_par} parameters")
    span = float(max(hi.max(), -lo.min()))
    tiny = 1e-3 * float(np.min(hi - lo))
    lower = [-np.inf, -np.inf, tiny] + ([tiny] if n_par == 4 else [])
    upper = [np.inf, np.inf, span] + ([span] if n_par == 4 else [])
    p0 = np.clip(p0, np.array(lower) + 1e-12, np.array(upper) - 1e-12)

    def f(_x, *p):
        return _model_binned(model, lo, hi, *p)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optimize.OptimizeWarning)
        popt, _ = optimize.curve_fit(
            f,
            lo,
            y,
            p0=p0,
            sigma=sigma,
            absolute_sigma=bool(positive.size),
            bounds=(lower, upper),
            maxfev=20000,
        )
    resid = (y - f(lo, *popt)) / sigma
    dof = y.size - n_par
    return popt, float(np.sum(resid**2) / dof) if dof > 0 else np.nan


def gb_width(
    profile: GBProfile,
    *,
    component: str = "parallel",
    model: str = "tanh",
    gb_half_width_A: float | None = None,
    bulk_min_distance_A: float | None = None,
) -> GBWidth:
    """GB width δ (Å), D_gb, D_bulk and the GB excess from a D(z) profile (see module doc).

    component: 'parallel' (along the GB, the Fisher δ·D_gb), 'perp' (through it) or 'total'.
    model: 'tanh' (plateau with tanh edges) or 'gaussian' (plateau + Gaussian). The D_gb pool
    takes slabs with |d| ≤ gb_half_width_A (default h − 3w of the fit, or s for the Gaussian;
    at least the slab at the plane); the D_bulk pool takes slabs with |d| ≥ bulk_min_distance_A
    (default h + 3w, or 3s). The excess is NaN if a slab has no D (refused or empty).
    Uncertainties: the larger of the time-block and ion-group jackknifes, each left-out fit
    started from the full fit, the slab choices held fixed. A failed fit warns
    (ConvergenceWarning) and then needs both limits given.
    """
    if not isinstance(profile, GBProfile):
        raise ArgumentError("profile", f"expected a GBProfile, got {type(profile).__name__}")
    component = _check_component(component)
    if model not in _MODELS:
        raise ArgumentError("model", f"must be one of {_MODELS}, got {model!r}")
    lo_e, hi_e = profile.bin_edges_A[:-1], profile.bin_edges_A[1:]
    val, err = profile._component(component)
    ok = np.isfinite(val)
    if ok.sum() < 5:
        raise ArgumentError("profile", f"{ok.sum()} slabs with a D: a width fit needs at least 5")
    near = np.minimum(np.abs(lo_e), np.abs(hi_e))
    near[(lo_e < 0) & (hi_e > 0)] = 0.0
    far = np.maximum(np.abs(lo_e), np.abs(hi_e))
    centre = np.abs(profile.centres_A)

    # starting point: plateau values at the two ends, half width where the curve crosses halfway
    order = np.argsort(centre[ok])
    xs, ys = centre[ok][order], val[ok][order]
    n3 = max(1, xs.size // 3)
    d_g0, d_b0 = float(ys[0]), float(np.mean(ys[-n3:]))
    halfway = np.flatnonzero(np.abs(ys - d_b0) < 0.5 * abs(d_g0 - d_b0))
    h0 = float(xs[halfway[0]]) if halfway.size else float(xs[xs.size // 3])
    bin_w = float(np.median(hi_e - lo_e))
    if model == "tanh":
        p0 = np.array([d_b0, d_g0, max(h0, bin_w / 2), bin_w / 2])
    else:
        p0 = np.array([d_b0, d_g0, max(h0, bin_w / 2) / math.sqrt(math.pi / 2)])

    converged = True
    try:
        popt, chi2 = _fit_width(model, lo_e, hi_e, val, err, p0)
    except (RuntimeError, ValueError) as exc:
        warnings.warn(f"GB width fit failed ({exc}); δ is NaN", ConvergenceWarning, stacklevel=2)
        converged, popt, chi2 = False, np.full(p0.size, np.nan), np.nan

    if model == "tanh":
        delta, edge = 2 * popt[2], popt[3]
        gb_lim = popt[2] - 3 * popt[3] if gb_half_width_A is None else gb_half_width_A
        bulk_lim = popt[2] + 3 * popt[3] if bulk_min_distance_A is None else bulk_min_distance_A
    else:
        delta, edge = math.sqrt(2 * math.pi) * popt[2], popt[2]
        gb_lim = popt[2] if gb_half_width_A is None else gb_half_width_A
        bulk_lim = 3 * popt[2] if bulk_min_distance_A is None else bulk_min_distance_A
    for name, v in (("gb_half_width_A", gb_lim), ("bulk_min_distance_A", bulk_lim)):
        if not np.isfinite(v) or v < 0:
            raise ArgumentError(name, f"must be a distance ≥ 0 Å (no usable fit), got {v!r}")

    usable = np.array([b not in profile.refused_slabs for b in range(profile.n_slabs)])
    gb_slabs = np.flatnonzero((far <= gb_lim + 1e-9) & usable)
    if gb_slabs.size == 0:
        gb_slabs = np.flatnonzero((near == near.min()) & usable)
    bulk_slabs = np.flatnonzero((near >= bulk_lim - 1e-9) & usable)
    if bulk_slabs.size == 0:
        raise ArgumentError(
            "bulk_min_distance_A",
            f"no slab lies beyond {bulk_lim:.2f} Å from the GB: the grains are too thin for a "
            "bulk reference; use a longer cell or set bulk_min_distance_A",
        )
    gb_region = profile.region(gb_slabs)
    bulk_region = profile.region(bulk_slabs)

    per_gb = profile.slab_length_A / len(profile.gb_planes_A)  # z length per GB, Å
    lags, dt = profile.lag_frames, profile.timestep_fs

    def pooled(s: np.ndarray, n: np.ndarray, slabs: np.ndarray) -> float:
        d = _diffusivity(
            s[:, slabs].sum(1, keepdims=True), n[:, slabs].sum(1, keepdims=True), lags, dt
        )
        return float(_component_of(d[0], component))

    def derived(s: np.ndarray, n: np.ndarray) -> np.ndarray:
        """[D_gb/D_bulk, excess, half width h (or s)] of one (resampled) data set."""
        d = _component_of(_diffusivity(s, n, lags, dt), component)
        d_bulk = pooled(s, n, bulk_slabs)
        valid = usable & np.isfinite(d)
        excess = float(np.sum(per_gb[valid] * (d[valid] - d_bulk))) if valid.all() else np.nan
        h = np.nan
        if converged:
            with contextlib.suppress(RuntimeError, ValueError):  # a failed refit: NaN
                h = _fit_width(model, lo_e, hi_e, np.where(usable, d, np.nan), err, popt)[0][2]
        return np.array([pooled(s, n, gb_slabs) / d_bulk, excess, h])

    full, err_t, err_i = _jackknife(derived, profile.sums_A2, profile.counts)
    jk = np.fmax(err_t, err_i)
    scale = 2.0 if model == "tanh" else math.sqrt(2 * math.pi)
    delta_err = scale * jk[2] if converged else np.nan

    d_gb, d_gb_err = gb_region.value(component)
    delta_d = delta * _A_TO_CM * d_gb
    delta_d_err = _A_TO_CM * math.hypot(delta_err * d_gb, delta * d_gb_err)
    return GBWidth(
        model=model,
        component=component,
        delta_A=float(delta),
        delta_stderr_A=float(delta_err),
        edge_A=float(edge),
        fit_params=tuple(float(v) for v in popt),
        chi2_reduced=float(chi2),
        converged=converged,
        gb=gb_region,
        bulk=bulk_region,
        ratio=float(full[0]),
        ratio_stderr=float(jk[0]),
        excess_A_cm2_s=float(full[1]),
        excess_stderr_A_cm2_s=float(jk[1]),
        delta_D_gb_cm3_s=float(delta_d),
        delta_D_gb_stderr_cm3_s=float(delta_d_err),
        gb_half_width_A=float(gb_lim),
        bulk_min_distance_A=float(bulk_lim),
        temperature_K=profile.temperature_K,
        profile=profile,
    )


# ---------------------------------------------------------------------------- Arrhenius


def gb_arrhenius(
    results: Sequence[GBWidth | GBProfile],
    temperatures_K: Sequence[float] | None = None,
    *,
    component: str = "parallel",
    model: str = "tanh",
) -> GBArrhenius:
    """E_a (eV) ± stderr of D_gb and of D_bulk, each fitted by :func:`lilib.md.arrhenius_fit`.

    results: one :class:`GBWidth` (or :class:`GBProfile`, passed to :func:`gb_width` with
    ``component`` and ``model``) per temperature. temperatures_K: default the trajectories'.
    component: which D ('parallel', 'perp', 'total'); the fits are weighted by the jackknife
    stderr.
    """
    component = _check_component(component)
    items = list(results)
    if len(items) < 2:
        raise ArgumentError("results", "an Arrhenius fit needs results at ≥ 2 temperatures")
    widths = []
    for k, r in enumerate(items):
        if isinstance(r, GBProfile):
            r = gb_width(r, component=component, model=model)
        if not isinstance(r, GBWidth):
            raise ArgumentError(
                "results", f"item {k} is a {type(r).__name__}, not a GBWidth or GBProfile"
            )
        widths.append(r)
    if temperatures_K is None:
        missing = [k for k, w in enumerate(widths) if w.temperature_K is None]
        if missing:
            raise ArgumentError(
                "temperatures_K", f"results {missing} carry no temperature: pass temperatures_K"
            )
        temps = np.array([w.temperature_K for w in widths], dtype=float)
    else:
        temps = np.asarray(temperatures_K, dtype=float).ravel()
        if temps.size != len(widths):
            raise ArgumentError(
                "temperatures_K", f"{temps.size} temperatures for {len(widths)} results"
            )
    fits = []
    for region in ("gb", "bulk"):
        vals = [getattr(w, region).value(component) for w in widths]
        d = [v[0] for v in vals]
        e = np.array([v[1] for v in vals])
        weights = e if np.all(np.isfinite(e) & (e > 0)) else None
        fits.append(arrhenius_fit(temps, d, weights))
    return GBArrhenius(
        component=component,
        gb=fits[0],
        bulk=fits[1],
        temperatures_K=temps,
        widths=tuple(widths),
    )
