"""Transport coefficients from unwrapped trajectories: MSD, D*, D_σ, Haven ratio, σ, Arrhenius.

>>> from lilib.md import read_trajectory, transport
>>> traj = read_trajectory("XDATCAR.gz", timestep_fs=100.0).remove_drift(mobile="Li")
>>> res = transport(traj, "Li", temperature_K=600.0)
>>> res.tracer.value_cm2_s, res.tracer.stderr_cm2_s, res.haven_ratio, res.conductivity.value_mS_cm

Definitions (seed 000 §2.2 and §3.2), for N mobile ions in d dimensions:

- tracer MSD, averaged over ions and all time origins t0 (eq. 18):
  MSD*(t) = (1/N) Σ_i ⟨|r_i(t0 + t) − r_i(t0)|²⟩_t0, and D* = slope / (2d) (eqs. 17, 32);
- collective ("charge") MSD of the summed displacement (eqs. 19–20, N r_com² written out):
  MSD_σ(t) = (1/N) ⟨|Σ_i [r_i(t0 + t) − r_i(t0)]|²⟩_t0, and D_σ = slope / (2d);
- Haven ratio H_R = D*/D_σ (eq. 40); Nernst–Einstein σ = N (z e)² D / (V k_B T) (eq. 39 solved
  for σ with c = N/V): with D* it is the tracer conductivity σ*, with D_σ the conductivity σ;
- Arrhenius D = D0 exp(−E_a/k_B T) (eq. 36), fitted as ln D against 1/(k_B T).

Method choices (all stated in the results):

- MSDs by FFT over every time origin (O(n log n) per ion and axis, float64 arithmetic).
- Slopes by ordinary least squares *with an intercept* (it absorbs the vibrational/ballistic
  offset) over a fit window, by default 10 %–50 % of the run: before 10 % the motion is not yet
  diffusive, after 50 % fewer than two independent origins remain per lag.
- D* uncertainty: bootstrap over ions (ions resampled with replacement; the OLS slope is linear
  in the MSD, so each resample's slope is the mean of per-ion slopes). It treats ions as
  independent and so underestimates the error when their motions are correlated.
- D_σ uncertainty: the collective MSD is one series, so ions cannot be resampled; the run is
  cut into ``n_blocks`` contiguous blocks, each fitted over the same fractional window, and the
  standard error is std(blocks)/√n_blocks. Blocks probe shorter lags: treat it as approximate.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import constants as sc
from scipy import fft as sfft

from lilib.errors import ArgumentError
from lilib.md._msd_kernels import centre_and_square, fold_power
from lilib.md.trajectory import Trajectory

__all__ = [
    "ArrheniusFit",
    "Conductivity",
    "Diffusivity",
    "MSDResult",
    "TransportResult",
    "VanHove",
    "arrhenius_fit",
    "charge_diffusivity",
    "haven_ratio",
    "msd",
    "msd_fft",
    "nernst_einstein",
    "tracer_diffusivity",
    "transport",
    "van_hove_distinct",
    "van_hove_self",
]

_A2_PS_TO_CM2_S = 1e-16 / 1e-12  # Å²/ps → cm²/s
_KB_EV = sc.k / sc.eV  # eV/K
_FFT_BUDGET_BYTES = 192 * 2**20  # temporary memory per chunk of the MSD loop
_AXES = ("x", "y", "z")


# ---------------------------------------------------------------------------- MSD kernel


def msd_fft(x: np.ndarray) -> np.ndarray:
    """Mean squared displacement of each series over all time origins, by FFT.

    x: (n_frames, ...) values (e.g. one Cartesian coordinate of each atom, Å). Returns the same
    shape: out[m, ...] = mean over t of (x[t + m] − x[t])², t = 0 … n_frames − 1 − m (Å²).
    Uses Σ(x_{t+m} − x_t)² = Σx_t² + Σx_{t+m}² − 2 Σx_t x_{t+m}: the squares by running
    sums, the cross term as an autocorrelation by zero-padded FFT. float64 throughout.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 1 or x.shape[0] < 1:
        raise ArgumentError("x", f"expected (n_frames, ...) values, got shape {x.shape}")
    n = x.shape[0]
    # MSD does not depend on a constant offset; removing the mean keeps the two large sums
    # below from cancelling into round-off
    x = x - x.mean(axis=0)
    n_fft = sfft.next_fast_len(2 * n, real=True)
    spec = sfft.rfft(x, n=n_fft, axis=0)
    # |F|² in place (the inverse transform wants complex input)
    re, im = spec.real, spec.imag
    im2 = im * im
    re *= re
    re += im2
    del im2
    im[...] = 0.0
    cross = sfft.irfft(spec, n=n_fft, axis=0, overwrite_x=True)[:n]  # Σ_t x_t x_{t+m}
    del spec, re, im
    cum = np.cumsum(x * x, axis=0)  # cum[k] = Σ_{t≤k} x_t²
    out = cum[::-1].copy()  # Σ_{t=0}^{n-1-m} x_t²
    out += cum[-1]
    out[1:] -= cum[:-1]  # + Σ_{t=m}^{n-1} x_t²
    cross *= 2.0
    out -= cross
    out /= np.arange(n, 0, -1, dtype=np.float64).reshape((n,) + (1,) * (x.ndim - 1))
    out[0] = 0.0
    return out


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class MSDResult:
    """Tracer and collective MSDs of one species (all time origins), plus what fits need.

    times_ps: lag times (n_lags,). msd_A2: tracer MSD (eq. 18), x + y + z (n_lags,);
    components_A2: its x, y, z parts (n_lags, 3). collective_msd_A2 / collective_components_A2:
    |Σ_i Δr_i|²/N (eqs. 19–20; equals msd_A2 for uncorrelated ions). ion_msd_A2: per ion and
    axis (n_ion_lags, n_ions, 3), float32, for the bootstrap, on the lags 0, s, 2s, … with
    s = ion_lag_stride (``ion_times_ps``). block_collective_components_A2:
    collective MSD of each of ``n_blocks`` contiguous blocks (n_blocks, n_block_lags, 3).
    indices: the atoms used; volume_A3: mean cell volume; temperature_K: of the run or None.
    """

    times_ps: np.ndarray = field(repr=False)
    msd_A2: np.ndarray = field(repr=False)
    components_A2: np.ndarray = field(repr=False)
    collective_msd_A2: np.ndarray = field(repr=False)
    collective_components_A2: np.ndarray = field(repr=False)
    ion_msd_A2: np.ndarray = field(repr=False)
    block_collective_components_A2: np.ndarray = field(repr=False)
    species: str
    n_ions: int
    indices: np.ndarray = field(repr=False)
    timestep_fs: float
    volume_A3: float
    temperature_K: float | None = None
    ion_lag_stride: int = 1

    @property
    def ion_times_ps(self) -> np.ndarray:
        """Lag times of ion_msd_A2, ps."""
        return self.times_ps[:: self.ion_lag_stride]

    @property
    def duration_ps(self) -> float:
        """Longest lag, ps."""
        return float(self.times_ps[-1])

    @property
    def n_blocks(self) -> int:
        """Number of blocks behind the collective-MSD uncertainty."""
        return int(self.block_collective_components_A2.shape[0])

    def to_dataframe(self) -> pd.DataFrame:
        """One row per lag: time, tracer and collective MSD with their x/y/z parts."""
        df = pd.DataFrame({"time_ps": self.times_ps, "msd_A2": self.msd_A2})
        for k, a in enumerate(_AXES):
            df[f"msd_{a}_A2"] = self.components_A2[:, k]
        df["collective_msd_A2"] = self.collective_msd_A2
        for k, a in enumerate(_AXES):
            df[f"collective_msd_{a}_A2"] = self.collective_components_A2[:, k]
        return df

    def plot(self, ax=None, components: bool = True, collective: bool = True):
        """MSD against lag time (tracer, its x/y/z parts, collective); returns the Axes."""
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(5, 3.5))[1]
        ax.plot(self.times_ps, self.msd_A2, color="k", lw=1.5, label=f"{self.species} tracer")
        if components:
            for k, a in enumerate(_AXES):
                ax.plot(self.times_ps, self.components_A2[:, k], lw=0.8, label=a)
        if collective:
            ax.plot(
                self.times_ps,
                self.collective_msd_A2,
                color="0.5",
                lw=1,
                ls="--",
                label="collective |ΣΔr|²/N",
            )
        ax.set_xlabel("lag time (ps)")
        ax.set_ylabel("MSD (Å²)")
        ax.legend(fontsize=8)
        return ax


@dataclass(frozen=True)
class Diffusivity:
    """A diffusion coefficient with its standard error, per-axis parts and how it was fitted.

    kind: 'tracer' (D*) or 'charge' (D_σ). value_cm2_s = slope/(2d) of the MSD summed over
    ``axes`` (d = len(axes)); components_cm2_s: slope/2 of each Cartesian part (x, y, z).
    fit_window_ps: the lag range fitted (n_fit_points lags, OLS with ``intercept_A2``).
    uncertainty: how the standard errors were made. n_ions, volume_A3, temperature_K: for
    :func:`nernst_einstein`.
    """

    kind: str
    species: str
    value_cm2_s: float
    stderr_cm2_s: float
    components_cm2_s: tuple[float, float, float]
    components_stderr_cm2_s: tuple[float, float, float]
    fit_window_ps: tuple[float, float]
    n_fit_points: int
    axes: tuple[int, ...]
    intercept_A2: float
    uncertainty: str
    n_ions: int
    volume_A3: float
    temperature_K: float | None = None

    @property
    def dimensionality(self) -> int:
        """d in D = slope/(2d)."""
        return len(self.axes)

    @property
    def relative_stderr(self) -> float:
        """stderr / value."""
        return self.stderr_cm2_s / self.value_cm2_s if self.value_cm2_s else np.inf

    def __str__(self) -> str:
        sym = "D*" if self.kind == "tracer" else "D_σ"
        return (
            f"{sym}({self.species}) = {self.value_cm2_s:.4g} ± {self.stderr_cm2_s:.2g} cm²/s "
            f"(fit {self.fit_window_ps[0]:.3g}–{self.fit_window_ps[1]:.3g} ps)"
        )

    def to_dataframe(self) -> pd.DataFrame:
        """One row: value, stderr, x/y/z parts and the fit settings."""
        row = {
            "kind": self.kind,
            "species": self.species,
            "D_cm2_s": self.value_cm2_s,
            "stderr_cm2_s": self.stderr_cm2_s,
        }
        for a, v, e in zip(_AXES, self.components_cm2_s, self.components_stderr_cm2_s):
            row[f"D_{a}_cm2_s"], row[f"stderr_{a}_cm2_s"] = v, e
        row.update(
            fit_start_ps=self.fit_window_ps[0],
            fit_stop_ps=self.fit_window_ps[1],
            n_fit_points=self.n_fit_points,
            dimensionality=self.dimensionality,
            uncertainty=self.uncertainty,
            temperature_K=self.temperature_K,
        )
        return pd.DataFrame([row])


@dataclass(frozen=True)
class Conductivity:
    """Nernst–Einstein conductivity σ = N (z e)² D / (V k_B T), mS/cm.

    kind: 'tracer' (σ*, from D*) or 'charge' (σ, from D_σ). components_mS_cm: from the x, y,
    z parts of D. The standard errors carry D's only (N, V, T exact).
    """

    kind: str
    species: str
    value_mS_cm: float
    stderr_mS_cm: float
    components_mS_cm: tuple[float, float, float]
    n_ions: int
    volume_A3: float
    temperature_K: float
    charge: float

    def __str__(self) -> str:
        sym = "σ*" if self.kind == "tracer" else "σ"
        return f"{sym}({self.species}) = {self.value_mS_cm:.4g} ± {self.stderr_mS_cm:.2g} mS/cm"

    def to_dataframe(self) -> pd.DataFrame:
        """One row: σ, its stderr, x/y/z parts and the inputs."""
        row = {
            "kind": self.kind,
            "species": self.species,
            "sigma_mS_cm": self.value_mS_cm,
            "stderr_mS_cm": self.stderr_mS_cm,
        }
        for a, v in zip(_AXES, self.components_mS_cm):
            row[f"sigma_{a}_mS_cm"] = v
        row.update(
            n_ions=self.n_ions,
            volume_A3=self.volume_A3,
            temperature_K=self.temperature_K,
            charge=self.charge,
        )
        return pd.DataFrame([row])


# ---------------------------------------------------------------------------- MSD


def _species_label(traj: Trajectory, idx: np.ndarray) -> str:
    return ",".join(dict.fromkeys(traj.symbols[idx].tolist()))


def _workers(workers: int | None) -> int:
    if workers is None:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    if not isinstance(workers, (int, np.integer)) or workers == 0:
        raise ArgumentError("workers", f"must be a non-zero integer or None, got {workers!r}")
    return int(workers)


def _ion_lag_stride(n_frames: int, max_ion_lags: int) -> int:
    """Power-of-two stride s with ≤ max_ion_lags per-ion lags (1 when all fit)."""
    if n_frames <= max_ion_lags:
        return 1
    return 1 << int(np.ceil(np.log2(n_frames / max_ion_lags)))


def msd(
    traj: Trajectory,
    species: str | Sequence[str] | Sequence[int] | np.ndarray = "Li",
    *,
    n_blocks: int = 5,
    max_ion_lags: int = 2048,
    workers: int | None = None,
) -> MSDResult:
    """Tracer and collective MSDs of the chosen atoms by FFT, all time origins.

    traj: an unwrapped trajectory (drift removed if wanted). species: element symbol(s),
    atom indices or a mask. n_blocks: contiguous blocks for the collective-MSD uncertainty
    (≥ 2; each needs ≥ 10 frames). max_ion_lags: per-ion MSDs (for the bootstrap) are kept
    on at most this many lags, a power-of-two stride apart; the tracer and collective MSDs
    always have every lag. workers: threads of the FFTs (None: the CPUs this process may use).

    One forward FFT per series; the ion average of the autocorrelations is one inverse FFT of
    the summed power spectra, and a per-ion MSD on lags s apart needs only the power spectrum
    folded to length N/s (aliasing: Σ_f P(f) e^{2πi f ks/N} depends on f mod N/s) and a short
    inverse FFT, instead of a full inverse FFT per series.
    """
    if not isinstance(traj, Trajectory):
        raise ArgumentError("traj", f"expected a Trajectory, got {type(traj).__name__}")
    if not traj.unwrapped:
        raise ArgumentError("traj", "positions are wrapped: call unwrap() first")
    if traj.n_frames < 4:
        raise ArgumentError("traj", f"{traj.n_frames} frames: an MSD fit needs many more")
    if not isinstance(n_blocks, (int, np.integer)) or n_blocks < 2:
        raise ArgumentError("n_blocks", f"must be an integer ≥ 2, got {n_blocks!r}")
    if traj.n_frames // n_blocks < 10:
        raise ArgumentError(
            "n_blocks", f"{n_blocks} blocks of {traj.n_frames} frames are shorter than 10 frames"
        )
    if not isinstance(max_ion_lags, (int, np.integer)) or max_ion_lags < 16:
        raise ArgumentError("max_ion_lags", f"must be an integer ≥ 16, got {max_ion_lags!r}")
    nw = _workers(workers)
    idx = traj.atom_indices(species)
    n, n_ions = traj.n_frames, idx.size
    stride = _ion_lag_stride(n, int(max_ion_lags))
    n_fold = sfft.next_fast_len(-(-2 * n // stride), real=True)
    n_fft = stride * n_fold  # a multiple of the stride, ≥ 2n: no wrap-around
    grid = np.arange(0, n, stride)  # per-ion lags
    n_freq = n_fft // 2 + 1

    power = np.zeros((n_freq, 3))  # Σ_ions |F|²
    square_sum = np.zeros((n, 3))  # Σ_ions x_t²
    ion_msd = np.empty((grid.size, n_ions, 3), dtype=np.float32)
    total_disp = np.zeros((n, 3))  # Σ_ions x_t (a constant offset does not change an MSD)
    lag_counts = np.arange(n, 0, -1, dtype=np.float64)  # time origins per lag
    per_ion_bytes = 3 * 8 * (n_fft + 3 * n_freq + n_fft + 2 * n)
    chunk = max(1, int(_FFT_BUDGET_BYTES // per_ion_bytes))
    positions = traj.positions
    # running sums of squares needed per ion: Σ_{t≤n-1-m}, Σ_{t≤m-1} at the grid lags, Σ_all
    rows, inverse = np.unique(
        np.concatenate([n - 1 - grid, np.maximum(grid - 1, 0), [n - 1]]), return_inverse=True
    )
    at_head, at_before, at_all = np.split(inverse, [grid.size, 2 * grid.size])
    for first in range(0, n_ions, chunk):
        sel = idx[first : first + chunk]
        buf = np.zeros((n_fft, sel.size, 3))
        cum_rows = np.empty((rows.size, sel.size, 3))
        # MSD does not depend on a constant offset; removing each series' mean keeps the
        # sums of squares small against the cross term (no cancellation into round-off)
        centre_and_square(positions, sel, rows, buf, total_disp, square_sum, cum_rows)
        head = cum_rows[at_head]  # Σ_{t=0}^{n-1-m} x_t²
        tail = cum_rows[at_all] - cum_rows[at_before]  # Σ_{t=m}^{n-1} x_t² (m > 0)
        tail[0] = cum_rows[at_all[0]]
        spec = sfft.rfft(buf, axis=0, overwrite_x=True, workers=nw)
        del buf
        folded = np.zeros((n_fold, sel.size, 3))
        fold_power(spec, n_fft, power, folded)
        del spec
        cross = sfft.irfft(folded[: n_fold // 2 + 1], n=n_fold, axis=0, workers=nw)
        cross = cross[: grid.size] / stride  # Σ_t x_t x_{t+m} at the grid lags
        m = head + tail
        m -= 2.0 * cross
        m /= lag_counts[grid].reshape(-1, 1, 1)
        m[0] = 0.0
        ion_msd[:, first : first + sel.size] = m
    # tracer MSD at every lag: the summed squares by running sums, the summed cross term as
    # one inverse FFT of the summed power spectra
    cum = np.cumsum(square_sum, axis=0)
    components = cum[::-1].copy()
    components += cum[-1]
    components[1:] -= cum[:-1]
    components -= 2.0 * sfft.irfft(power, n=n_fft, axis=0, workers=nw)[:n]
    components /= lag_counts[:, None] * n_ions
    components[0] = 0.0
    collective = msd_fft(total_disp) / n_ions

    block_len = n // n_blocks
    blocks = total_disp[: n_blocks * block_len].reshape(n_blocks, block_len, 3)
    block_collective = np.stack([msd_fft(b) for b in blocks]) / n_ions

    return MSDResult(
        times_ps=np.arange(n) * traj.timestep_fs / 1000.0,
        msd_A2=components.sum(axis=1),
        components_A2=components,
        collective_msd_A2=collective.sum(axis=1),
        collective_components_A2=collective,
        ion_msd_A2=ion_msd,
        block_collective_components_A2=block_collective,
        species=_species_label(traj, idx),
        n_ions=int(n_ions),
        indices=idx,
        timestep_fs=traj.timestep_fs,
        volume_A3=traj.volume_A3,
        temperature_K=traj.temperature_K,
        ion_lag_stride=int(stride),
    )


# ---------------------------------------------------------------------------- fits


def _check_axes(axes: Sequence[int]) -> tuple[int, ...]:
    try:
        ax = tuple(int(a) for a in axes)
    except (TypeError, ValueError):
        raise ArgumentError("axes", f"expected Cartesian axis numbers 0-2, got {axes!r}") from None
    if not ax or len(set(ax)) != len(ax) or not set(ax) <= {0, 1, 2}:
        raise ArgumentError("axes", f"expected distinct axes among 0, 1, 2; got {axes!r}")
    return tuple(sorted(ax))


def _window(
    times_ps: np.ndarray,
    fit_window: tuple[float, float],
    fit_window_ps: tuple[float, float] | None,
) -> np.ndarray:
    """Indices of the lags inside the fit window (fractions of the longest lag, or ps)."""
    if fit_window_ps is not None:
        lo, hi = (float(v) for v in fit_window_ps)
        name = "fit_window_ps"
        if not 0 <= lo < hi:
            raise ArgumentError(name, f"need 0 ≤ start < stop (ps), got {fit_window_ps!r}")
    else:
        f0, f1 = (float(v) for v in fit_window)
        name = "fit_window"
        if not 0 <= f0 < f1 <= 1:
            raise ArgumentError(name, f"need fractions 0 ≤ start < stop ≤ 1, got {fit_window!r}")
        lo, hi = f0 * times_ps[-1], f1 * times_ps[-1]
    eps = 1e-9 * max(times_ps[-1], 1e-30)
    sel = np.flatnonzero((times_ps >= lo - eps) & (times_ps <= hi + eps))
    if sel.size < 3:
        raise ArgumentError(
            name,
            f"holds {sel.size} lag(s) ({lo:.4g}–{hi:.4g} ps of {times_ps[-1]:.4g} ps): "
            "an OLS fit needs at least 3; widen it or use a longer trajectory",
        )
    return sel


def _ols_weights(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients c, e such that slope = c·y and intercept = e·y for OLS on (t, y)."""
    tc = t - t.mean()
    c = tc / np.dot(tc, tc)
    e = 1.0 / t.size - t.mean() * c
    return c, e


def tracer_diffusivity(
    result: MSDResult,
    *,
    fit_window: tuple[float, float] = (0.1, 0.5),
    fit_window_ps: tuple[float, float] | None = None,
    axes: Sequence[int] = (0, 1, 2),
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> Diffusivity:
    """D* = slope/(2d) of the tracer MSD (eq. 17), ± a bootstrap-over-ions standard error.

    fit_window: lags fitted, as fractions of the longest lag (default 10 %–50 %), unless
    fit_window_ps (start, stop) is given. axes: Cartesian axes summed for the total (d =
    len(axes); (0, 1) for in-plane diffusion). n_bootstrap: resamples of the ions; seed: rng.
    """
    if not isinstance(result, MSDResult):
        raise ArgumentError("result", f"expected an MSDResult, got {type(result).__name__}")
    ax = _check_axes(axes)
    if not isinstance(n_bootstrap, (int, np.integer)) or n_bootstrap < 10:
        raise ArgumentError("n_bootstrap", f"must be an integer ≥ 10, got {n_bootstrap!r}")
    sel = _window(result.times_ps, fit_window, fit_window_ps)
    t = result.times_ps[sel]
    c, e = _ols_weights(t)
    slopes = c @ result.components_A2[sel]  # (3,) Å²/ps
    intercept = float(e @ result.components_A2[sel][:, list(ax)].sum(axis=1))
    # per-ion slopes for the bootstrap: OLS on the per-ion lags inside the same window
    ion_sel = np.flatnonzero(
        np.isin(np.arange(result.times_ps.size), sel)[:: result.ion_lag_stride]
    )
    if ion_sel.size < 3:
        raise ArgumentError(
            "fit_window_ps" if fit_window_ps is not None else "fit_window",
            f"holds {ion_sel.size} of the per-ion lags ({result.ion_lag_stride} frames apart) "
            "needed for the bootstrap; widen it or call msd(..., max_ion_lags=...) larger",
        )
    ci, _ = _ols_weights(result.ion_times_ps[ion_sel])
    ion_slopes = np.einsum("t,tik->ik", ci, result.ion_msd_A2[ion_sel].astype(np.float64))
    rng = np.random.default_rng(seed)
    n = result.n_ions
    boot = np.empty((int(n_bootstrap), 3))
    for start in range(0, int(n_bootstrap), 256):  # bounded memory for many ions
        draw = rng.integers(0, n, size=(min(256, int(n_bootstrap) - start), n))
        boot[start : start + draw.shape[0]] = ion_slopes[draw].mean(axis=1)
    d = len(ax)
    total_boot = boot[:, list(ax)].sum(axis=1) / (2 * d)
    comp_err = boot.std(axis=0, ddof=1) / 2 * _A2_PS_TO_CM2_S if n > 1 else np.full(3, np.nan)
    return Diffusivity(
        kind="tracer",
        species=result.species,
        value_cm2_s=float(slopes[list(ax)].sum() / (2 * d) * _A2_PS_TO_CM2_S),
        stderr_cm2_s=float(total_boot.std(ddof=1) * _A2_PS_TO_CM2_S) if n > 1 else np.nan,
        components_cm2_s=tuple(float(s / 2 * _A2_PS_TO_CM2_S) for s in slopes),
        components_stderr_cm2_s=tuple(float(v) for v in comp_err),
        fit_window_ps=(float(t[0]), float(t[-1])),
        n_fit_points=int(sel.size),
        axes=ax,
        intercept_A2=intercept,
        uncertainty=f"bootstrap over {n} ions ({int(n_bootstrap)} resamples, seed {seed})",
        n_ions=n,
        volume_A3=result.volume_A3,
        temperature_K=result.temperature_K,
    )


def charge_diffusivity(
    result: MSDResult,
    *,
    fit_window: tuple[float, float] = (0.1, 0.5),
    fit_window_ps: tuple[float, float] | None = None,
    axes: Sequence[int] = (0, 1, 2),
) -> Diffusivity:
    """D_σ = slope/(2d) of the collective MSD |Σ Δr_i|²/N (eqs. 19–20), ± a block stderr.

    The value fits the whole run; the standard error is std/√n over ``result.n_blocks``
    contiguous blocks, each fitted over the same fraction of its own length (with
    fit_window_ps, over the fractions of the run that window covers).
    """
    if not isinstance(result, MSDResult):
        raise ArgumentError("result", f"expected an MSDResult, got {type(result).__name__}")
    ax = _check_axes(axes)
    sel = _window(result.times_ps, fit_window, fit_window_ps)
    t = result.times_ps[sel]
    c, e = _ols_weights(t)
    y = result.collective_components_A2[sel]
    slopes = c @ y
    intercept = float(e @ y[:, list(ax)].sum(axis=1))

    blocks = result.block_collective_components_A2
    block_t = result.times_ps[: blocks.shape[1]]
    frac = (t[0] / result.times_ps[-1], t[-1] / result.times_ps[-1])
    try:
        bsel = _window(block_t, frac, None)
    except ArgumentError:
        bsel = None
    d = len(ax)
    if bsel is None:
        comp_err = np.full(3, np.nan)
        total_err = np.nan
        how = f"none: blocks of {blocks.shape[1]} frames are too short for the window"
    else:
        bc, _ = _ols_weights(block_t[bsel])
        bslopes = np.einsum("t,btk->bk", bc, blocks[:, bsel])  # (n_blocks, 3)
        nb = blocks.shape[0]
        comp_err = bslopes.std(axis=0, ddof=1) / np.sqrt(nb) / 2 * _A2_PS_TO_CM2_S
        total_err = float(
            bslopes[:, list(ax)].sum(axis=1).std(ddof=1) / np.sqrt(nb) / (2 * d) * _A2_PS_TO_CM2_S
        )
        how = f"block averaging ({nb} contiguous blocks of {blocks.shape[1]} frames)"
    return Diffusivity(
        kind="charge",
        species=result.species,
        value_cm2_s=float(slopes[list(ax)].sum() / (2 * d) * _A2_PS_TO_CM2_S),
        stderr_cm2_s=total_err,
        components_cm2_s=tuple(float(s / 2 * _A2_PS_TO_CM2_S) for s in slopes),
        components_stderr_cm2_s=tuple(float(v) for v in comp_err),
        fit_window_ps=(float(t[0]), float(t[-1])),
        n_fit_points=int(sel.size),
        axes=ax,
        intercept_A2=intercept,
        uncertainty=how,
        n_ions=result.n_ions,
        volume_A3=result.volume_A3,
        temperature_K=result.temperature_K,
    )


def haven_ratio(tracer: Diffusivity, charge: Diffusivity) -> tuple[float, float]:
    """H_R = D*/D_σ (eq. 40) and its standard error (relative errors added in quadrature)."""
    for name, d, kind in (("tracer", tracer, "tracer"), ("charge", charge, "charge")):
        if not isinstance(d, Diffusivity) or d.kind != kind:
            raise ArgumentError(name, f"expected a {kind} Diffusivity")
    if charge.value_cm2_s <= 0:
        raise ArgumentError("charge", f"D_σ = {charge.value_cm2_s:.3g} cm²/s: no Haven ratio")
    h = tracer.value_cm2_s / charge.value_cm2_s
    rel = np.hypot(
        tracer.stderr_cm2_s / tracer.value_cm2_s, charge.stderr_cm2_s / charge.value_cm2_s
    )
    return float(h), float(abs(h) * rel)


def nernst_einstein(
    diffusivity: Diffusivity,
    *,
    charge: float = 1.0,
    temperature_K: float | None = None,
    n_ions: int | None = None,
    volume_A3: float | None = None,
) -> Conductivity:
    """σ = N (z e)² D / (V k_B T) in mS/cm (eq. 39), from D* (→ σ*) or D_σ (→ σ).

    charge: z of the mobile ion (e). temperature_K, n_ions, volume_A3: default to those
    stored with the diffusivity (the trajectory's).
    """
    if not isinstance(diffusivity, Diffusivity):
        raise ArgumentError(
            "diffusivity", f"expected a Diffusivity, got {type(diffusivity).__name__}"
        )
    t = diffusivity.temperature_K if temperature_K is None else temperature_K
    if t is None:
        raise ArgumentError(
            "temperature_K", "the trajectory has no temperature: pass temperature_K"
        )
    if not 0 < t < np.inf:
        raise ArgumentError("temperature_K", f"must be > 0 K, got {t!r}")
    n = diffusivity.n_ions if n_ions is None else n_ions
    v = diffusivity.volume_A3 if volume_A3 is None else volume_A3
    if not (isinstance(n, (int, np.integer)) and n >= 1):
        raise ArgumentError("n_ions", f"must be an integer ≥ 1, got {n!r}")
    if not 0 < v < np.inf:
        raise ArgumentError("volume_A3", f"must be > 0 Å³, got {v!r}")
    if not np.isfinite(charge) or charge == 0:
        raise ArgumentError("charge", f"must be a non-zero number of e, got {charge!r}")
    # S/cm per cm²/s: (N/V in cm⁻³)(ze)²/(k_B T); × 1000 → mS/cm
    factor = n / (v * 1e-24) * (charge * sc.e) ** 2 / (sc.k * t) * 1e3
    return Conductivity(
        kind=diffusivity.kind,
        species=diffusivity.species,
        value_mS_cm=float(factor * diffusivity.value_cm2_s),
        stderr_mS_cm=float(factor * diffusivity.stderr_cm2_s),
        components_mS_cm=tuple(float(factor * c) for c in diffusivity.components_cm2_s),
        n_ions=int(n),
        volume_A3=float(v),
        temperature_K=float(t),
        charge=float(charge),
    )


# ---------------------------------------------------------------------------- facade


@dataclass(frozen=True, eq=False)
class TransportResult:
    """Everything :func:`transport` computes for one species at one temperature.

    msd: the MSDs. tracer: D*; charge: D_σ; haven_ratio (± haven_ratio_stderr) = D*/D_σ;
    tracer_conductivity: σ* (Nernst–Einstein with D*); conductivity: σ (with D_σ), or None
    without a temperature. haven_ratio is NaN when the fitted D_σ is not positive (short runs:
    the collective MSD is a single, noisy series).
    """

    msd: MSDResult
    tracer: Diffusivity
    charge: Diffusivity
    haven_ratio: float
    haven_ratio_stderr: float
    tracer_conductivity: Conductivity | None
    conductivity: Conductivity | None

    def to_dataframe(self) -> pd.DataFrame:
        """One row: D*, D_σ (± stderr, x/y/z), H_R, σ*, σ."""
        row = {"species": self.tracer.species, "temperature_K": self.tracer.temperature_K}
        for name, d in (("tracer", self.tracer), ("charge", self.charge)):
            row[f"D_{name}_cm2_s"] = d.value_cm2_s
            row[f"D_{name}_stderr_cm2_s"] = d.stderr_cm2_s
            for a, v in zip(_AXES, d.components_cm2_s):
                row[f"D_{name}_{a}_cm2_s"] = v
        row["haven_ratio"] = self.haven_ratio
        row["haven_ratio_stderr"] = self.haven_ratio_stderr
        for name, c in (("tracer_", self.tracer_conductivity), ("", self.conductivity)):
            row[f"{name}conductivity_mS_cm"] = c.value_mS_cm if c else np.nan
            row[f"{name}conductivity_stderr_mS_cm"] = c.stderr_mS_cm if c else np.nan
        row["fit_start_ps"], row["fit_stop_ps"] = self.tracer.fit_window_ps
        return pd.DataFrame([row])

    def plot(self, ax=None):
        """Tracer and collective MSD with the fitted lines over the fit window; returns the Axes."""
        ax = self.msd.plot(ax=ax, components=False)
        for d, color in ((self.tracer, "C3"), (self.charge, "C0")):
            t = np.linspace(*d.fit_window_ps, 2)
            slope = d.value_cm2_s / _A2_PS_TO_CM2_S * 2 * d.dimensionality
            ax.plot(t, d.intercept_A2 + slope * t, color=color, lw=2, alpha=0.7, label=str(d))
        ax.legend(fontsize=7)
        return ax


def transport(
    traj: Trajectory,
    species: str | Sequence[str] | Sequence[int] | np.ndarray = "Li",
    *,
    charge: float = 1.0,
    temperature_K: float | None = None,
    fit_window: tuple[float, float] = (0.1, 0.5),
    fit_window_ps: tuple[float, float] | None = None,
    axes: Sequence[int] = (0, 1, 2),
    n_blocks: int = 5,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> TransportResult:
    """MSDs, D*, D_σ, Haven ratio and Nernst–Einstein σ*, σ of one species in one call.

    traj: unwrapped (remove the framework drift first: ``traj.remove_drift(mobile="Li")``).
    charge: z of the mobile ion. temperature_K: overrides the trajectory's (needed for σ).
    Other arguments as in :func:`msd`, :func:`tracer_diffusivity`, :func:`charge_diffusivity`.
    """
    res = msd(traj, species, n_blocks=n_blocks)
    if temperature_K is not None:
        if not 0 < temperature_K < np.inf:
            raise ArgumentError("temperature_K", f"must be > 0 K, got {temperature_K!r}")
        res = replace(res, temperature_K=float(temperature_K))
    tracer = tracer_diffusivity(
        res,
        fit_window=fit_window,
        fit_window_ps=fit_window_ps,
        axes=axes,
        n_bootstrap=n_bootstrap,
        seed=seed,
    )
    chg = charge_diffusivity(res, fit_window=fit_window, fit_window_ps=fit_window_ps, axes=axes)
    if chg.value_cm2_s > 0:
        h, h_err = haven_ratio(tracer, chg)
    else:
        h, h_err = np.nan, np.nan
    if res.temperature_K is not None:
        sig_t = nernst_einstein(tracer, charge=charge)
        sig = nernst_einstein(chg, charge=charge)
    else:
        sig_t = sig = None
    return TransportResult(
        msd=res,
        tracer=tracer,
        charge=chg,
        haven_ratio=h,
        haven_ratio_stderr=h_err,
        tracer_conductivity=sig_t,
        conductivity=sig,
    )


# ---------------------------------------------------------------------------- Arrhenius


@dataclass(frozen=True, eq=False)
class ArrheniusFit:
    """D = D0 exp(−E_a/k_B T) fitted as ln D = ln D0 − E_a/(k_B T) (seed 000 eq. 36).

    ea_eV ± ea_stderr_eV; prefactor_cm2_s = D0 (± prefactor_stderr_cm2_s, first order);
    covariance: of (ln D0, E_a). weighted: errors of D used (weights 1/σ_lnD², σ_lnD =
    σ_D/D); the covariance is scaled by max(1, χ²_red) so scatter beyond the stated errors
    widens it. diffusivity_300K_cm2_s ± diffusivity_300K_stderr_cm2_s: the extrapolation.
    """

    ea_eV: float
    ea_stderr_eV: float
    prefactor_cm2_s: float
    prefactor_stderr_cm2_s: float
    covariance: np.ndarray = field(repr=False)
    temperatures_K: np.ndarray = field(repr=False)
    diffusivities_cm2_s: np.ndarray = field(repr=False)
    stderr_cm2_s: np.ndarray | None = field(repr=False)
    weighted: bool
    chi2_reduced: float
    diffusivity_300K_cm2_s: float
    diffusivity_300K_stderr_cm2_s: float

    def predict(self, temperature_K: float | Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """D (cm²/s) at the given temperature(s) and its standard error (propagated covariance)."""
        t = np.asarray(temperature_K, dtype=float)
        if np.any(~np.isfinite(t)) or np.any(t <= 0):
            raise ArgumentError("temperature_K", "must be > 0 K")
        x = 1.0 / (_KB_EV * t)
        ln_d = np.log(self.prefactor_cm2_s) - self.ea_eV * x
        var = self.covariance[0, 0] + x**2 * self.covariance[1, 1] - 2 * x * self.covariance[0, 1]
        d = np.exp(ln_d)
        err = d * np.sqrt(np.maximum(var, 0.0))
        if t.ndim == 0:
            return float(d), float(err)
        return d, err

    def interval(self, temperature_K: float, n_sigma: float = 1.0) -> tuple[float, float]:
        """D range exp(ln D ± n σ_lnD) at one temperature (asymmetric, cm²/s)."""
        d, err = self.predict(float(temperature_K))
        s = err / d
        return float(d * np.exp(-n_sigma * s)), float(d * np.exp(n_sigma * s))

    def to_dataframe(self) -> pd.DataFrame:
        """One row per input temperature: T, D, its error and the fitted line."""
        fit, _ = self.predict(self.temperatures_K)
        return pd.DataFrame(
            {
                "temperature_K": self.temperatures_K,
                "inverse_T_1000_K": 1000.0 / self.temperatures_K,
                "D_cm2_s": self.diffusivities_cm2_s,
                "stderr_cm2_s": self.stderr_cm2_s if self.stderr_cm2_s is not None else np.nan,
                "D_fit_cm2_s": fit,
            }
        )

    def plot(self, ax=None, extrapolate_to_K: float | None = 300.0):
        """log D against 1000/T with the fit (and its extrapolation); returns the Axes."""
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(4.5, 3.5))[1]
        inv = 1000.0 / self.temperatures_K
        yerr = self.stderr_cm2_s if self.stderr_cm2_s is not None else None
        ax.errorbar(inv, self.diffusivities_cm2_s, yerr=yerr, fmt="o", ms=4, label="data")
        t_lo = self.temperatures_K.min() if extrapolate_to_K is None else extrapolate_to_K
        grid = np.linspace(1000.0 / self.temperatures_K.max(), 1000.0 / t_lo, 50)
        d, _ = self.predict(1000.0 / grid)
        ax.plot(grid, d, "-", label=f"E_a = {self.ea_eV:.3f} ± {self.ea_stderr_eV:.3f} eV")
        ax.set_yscale("log")
        ax.set_xlabel("1000/T (1/K)")
        ax.set_ylabel("D (cm²/s)")
        ax.legend(fontsize=8)
        return ax


def arrhenius_fit(
    temperatures_K: Sequence[float],
    diffusivities: Sequence[float] | Sequence[Diffusivity],
    stderr_cm2_s: Sequence[float] | None = None,
) -> ArrheniusFit:
    """Fit ln D against 1/(k_B T); returns E_a (eV) ± stderr, D0 and the 300 K extrapolation.

    diffusivities: cm²/s, or :class:`Diffusivity` results (their stderr is then used unless
    ``stderr_cm2_s`` is given). With errors the fit is weighted; without, ordinary (the
    covariance then comes from the residuals and needs ≥ 3 temperatures).
    """
    t = np.asarray(temperatures_K, dtype=float).ravel()
    items = list(diffusivities)
    if items and all(isinstance(d, Diffusivity) for d in items):
        d = np.array([x.value_cm2_s for x in items])
        if stderr_cm2_s is None:
            stderr_cm2_s = [x.stderr_cm2_s for x in items]
    else:
        try:
            d = np.asarray(items, dtype=float).ravel()
        except (TypeError, ValueError):
            raise ArgumentError(
                "diffusivities", "expected numbers (cm²/s) or Diffusivity results"
            ) from None
    if t.size != d.size:
        raise ArgumentError("diffusivities", f"{d.size} values for {t.size} temperatures")
    if t.size < 2:
        raise ArgumentError("temperatures_K", "an Arrhenius fit needs at least 2 temperatures")
    if np.any(~np.isfinite(t)) or np.any(t <= 0):
        raise ArgumentError("temperatures_K", "must be finite and > 0 K")
    if np.unique(t).size < 2:
        raise ArgumentError("temperatures_K", "needs at least 2 different temperatures")
    if np.any(~np.isfinite(d)) or np.any(d <= 0):
        raise ArgumentError("diffusivities", "must be finite and > 0 (a log is taken)")
    err = None
    if stderr_cm2_s is not None:
        err = np.asarray(stderr_cm2_s, dtype=float).ravel()
        if err.shape != d.shape:
            raise ArgumentError("stderr_cm2_s", f"{err.size} errors for {d.size} values")
        if np.any(~np.isfinite(err)) or np.any(err <= 0):
            raise ArgumentError("stderr_cm2_s", "must be finite and > 0 (or give none)")
    x = 1.0 / (_KB_EV * t)
    y = np.log(d)
    design = np.column_stack([np.ones_like(x), -x])  # parameters (ln D0, E_a)
    w = np.ones_like(x) if err is None else (d / err) ** 2
    a = design.T @ (w[:, None] * design)
    cov = np.linalg.inv(a)
    beta = cov @ design.T @ (w * y)
    resid = y - design @ beta
    dof = t.size - 2
    chi2 = float(np.sum(w * resid**2) / dof) if dof > 0 else np.nan
    if err is None:
        cov = cov * chi2 if dof > 0 else np.full((2, 2), np.nan)
    elif dof > 0:
        cov = cov * max(1.0, chi2)
    ln_d0, ea = float(beta[0]), float(beta[1])
    d0 = float(np.exp(ln_d0))
    fit = ArrheniusFit(
        ea_eV=ea,
        ea_stderr_eV=float(np.sqrt(cov[1, 1])),
        prefactor_cm2_s=d0,
        prefactor_stderr_cm2_s=float(d0 * np.sqrt(cov[0, 0])),
        covariance=cov,
        temperatures_K=t,
        diffusivities_cm2_s=d,
        stderr_cm2_s=err,
        weighted=err is not None,
        chi2_reduced=chi2,
        diffusivity_300K_cm2_s=np.nan,
        diffusivity_300K_stderr_cm2_s=np.nan,
    )
    d300, e300 = fit.predict(300.0)
    object.__setattr__(fit, "diffusivity_300K_cm2_s", d300)
    object.__setattr__(fit, "diffusivity_300K_stderr_cm2_s", e300)
    return fit


# ---------------------------------------------------------------------------- van Hove


@dataclass(frozen=True, eq=False)
class VanHove:
    """Van Hove correlation G(r, t) on a radial grid at a few lag times.

    kind 'self': G_s(r, t) in Å⁻³, normalised so Σ G_s · shell volume = fraction of
    displacements below r_max (→ 1). kind 'distinct': G_d(r, t)/ρ_b, dimensionless (→ 1 at
    large r; the partial RDF g_ab(r) at t = 0). g: (n_times, n_bins); r_A: bin centres;
    r_edges_A: bin edges; n_origins: time origins averaged per lag; species: (a, b).
    """

    kind: str
    species: tuple[str, str]
    times_ps: np.ndarray = field(repr=False)
    r_A: np.ndarray = field(repr=False)
    r_edges_A: np.ndarray = field(repr=False)
    g: np.ndarray = field(repr=False)
    n_origins: np.ndarray = field(repr=False)

    @property
    def shell_volumes_A3(self) -> np.ndarray:
        """Volume of each radial shell, Å³."""
        return 4.0 / 3.0 * np.pi * np.diff(self.r_edges_A**3)

    @property
    def radial_A1(self) -> np.ndarray:
        """4πr² G (per Å): for 'self', the probability density of the displacement length."""
        return self.g * self.shell_volumes_A3 / np.diff(self.r_edges_A)

    def to_dataframe(self) -> pd.DataFrame:
        """Long format: one row per (time, r)."""
        tt, rr = np.meshgrid(self.times_ps, self.r_A, indexing="ij")
        name = "G_self_A3" if self.kind == "self" else "G_distinct_over_rho"
        return pd.DataFrame({"time_ps": tt.ravel(), "r_A": rr.ravel(), name: self.g.ravel()})

    def plot(self, ax=None):
        """One curve per lag time (self: 4πr²G_s; distinct: G_d/ρ); returns the Axes."""
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(5, 3.5))[1]
        y = self.radial_A1 if self.kind == "self" else self.g
        for k, t in enumerate(self.times_ps):
            ax.plot(self.r_A, y[k], label=f"{t:.3g} ps")
        ax.set_xlabel("r (Å)")
        ax.set_ylabel("4πr² G_s(r, t) (1/Å)" if self.kind == "self" else "G_d(r, t)/ρ")
        ax.set_title(f"van Hove ({self.kind}) {'-'.join(dict.fromkeys(self.species))}")
        ax.legend(fontsize=8)
        return ax


def _lags(traj: Trajectory, times_ps: Sequence[float] | None) -> np.ndarray:
    if times_ps is None:
        lags = np.unique(np.rint(np.array([0.05, 0.1, 0.2, 0.4]) * (traj.n_frames - 1)))
    else:
        t = np.atleast_1d(np.asarray(times_ps, dtype=float))
        if t.ndim != 1 or np.any(~np.isfinite(t)) or np.any(t < 0):
            raise ArgumentError("times_ps", "must be lag times ≥ 0 ps")
        lags = np.rint(t * 1000.0 / traj.timestep_fs)
    lags = lags.astype(np.int64)
    if np.any(lags > traj.n_frames - 1):
        raise ArgumentError(
            "times_ps", f"lags up to {traj.duration_ps:.4g} ps exist in this trajectory"
        )
    return lags


def _radial_grid(r_max_A: float, n_bins: int) -> np.ndarray:
    if not 0 < r_max_A < np.inf:
        raise ArgumentError("r_max_A", f"must be > 0 Å, got {r_max_A!r}")
    if not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ArgumentError("n_bins", f"must be an integer ≥ 1, got {n_bins!r}")
    return np.linspace(0.0, float(r_max_A), int(n_bins) + 1)


def _check_origin_stride(origin_stride: int) -> int:
    if not isinstance(origin_stride, (int, np.integer)) or origin_stride < 1:
        raise ArgumentError("origin_stride", f"must be an integer ≥ 1, got {origin_stride!r}")
    return int(origin_stride)


def van_hove_self(
    traj: Trajectory,
    species: str | Sequence[str] | Sequence[int] | np.ndarray = "Li",
    *,
    times_ps: Sequence[float] | None = None,
    r_max_A: float = 10.0,
    n_bins: int = 200,
    origin_stride: int = 1,
) -> VanHove:
    """Self part G_s(r, t) = (1/N) Σ_i ⟨δ(r − |r_i(t0 + t) − r_i(t0)|)⟩ (Å⁻³).

    times_ps: lag times (rounded to frames; default 5, 10, 20, 40 % of the run). Origins
    every ``origin_stride`` frames. Displacements beyond r_max_A are not binned.
    """
    if not traj.unwrapped:
        raise ArgumentError("traj", "positions are wrapped: call unwrap() first")
    idx = traj.atom_indices(species)
    lags = _lags(traj, times_ps)
    edges = _radial_grid(r_max_A, n_bins)
    stride = _check_origin_stride(origin_stride)
    nb = edges.size - 1
    dr = edges[1] - edges[0]
    g = np.zeros((lags.size, nb))
    n_orig = np.zeros(lags.size, dtype=np.int64)
    pos = traj.positions
    chunk = max(1, int(2_000_000 // idx.size))  # ≤ ~50 MB of displacements
    for k, m in enumerate(lags):
        origins = np.arange(0, traj.n_frames - m, stride)
        counts = np.zeros(nb + 1, dtype=np.int64)
        for s in range(0, origins.size, chunk):
            o = origins[s : s + chunk]
            disp = np.asarray(pos[np.ix_(o + m, idx)], dtype=np.float64) - pos[np.ix_(o, idx)]
            r = np.sqrt(np.einsum("oik,oik->oi", disp, disp)).ravel()
            counts += np.bincount(np.minimum((r / dr).astype(np.int64), nb), minlength=nb + 1)
        n_orig[k] = origins.size
        shells = 4.0 / 3.0 * np.pi * np.diff(edges**3)
        g[k] = counts[:nb] / (origins.size * idx.size * shells)
    label = _species_label(traj, idx)
    return VanHove(
        kind="self",
        species=(label, label),
        times_ps=lags * traj.timestep_fs / 1000.0,
        r_A=0.5 * (edges[1:] + edges[:-1]),
        r_edges_A=edges,
        g=g,
        n_origins=n_orig,
    )


def _min_width(cells: np.ndarray) -> float:
    """Smallest distance between opposite faces over all cells, Å."""
    vol = np.abs(np.linalg.det(cells))
    widths = []
    for i, j in ((1, 2), (2, 0), (0, 1)):
        area = np.linalg.norm(np.cross(cells[:, i], cells[:, j]), axis=-1)
        widths.append(vol / area)
    return float(np.min(widths))


_IMAGES = np.array([(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)], float)


def van_hove_distinct(
    traj: Trajectory,
    species: str | Sequence[str] | Sequence[int] | np.ndarray = "Li",
    partner: str | Sequence[str] | Sequence[int] | np.ndarray | None = None,
    *,
    times_ps: Sequence[float] | None = None,
    r_max_A: float | None = None,
    n_bins: int = 200,
    origin_stride: int = 1,
) -> VanHove:
    """Distinct part G_d(r, t)/ρ_b: atoms ``partner`` at t0 + t around atoms ``species`` at t0.

    G_d(r, t)/ρ_b = ⟨Σ_i Σ_{j≠i} δ(r − |r_j(t0 + t) − r_i(t0)|)⟩ / (N_a ρ_b 4πr² dr), with the
    minimum image in the cell of frame t0 + t; ρ_b = (N_b − [a = b])/V. partner: defaults to
    ``species``. r_max_A: at most (and by default) half the narrowest cell width.
    """
    if not traj.unwrapped:
        raise ArgumentError("traj", "positions are wrapped: call unwrap() first")
    ia = traj.atom_indices(species)
    ib = ia if partner is None else traj.atom_indices(partner)
    lags = _lags(traj, times_ps)
    half = 0.5 * _min_width(traj.cells if traj.variable_cell else traj.cell[None])
    if r_max_A is None:
        r_max_A = half
    elif r_max_A > half * (1 + 1e-9):
        raise ArgumentError(
            "r_max_A",
            f"{r_max_A} Å exceeds half the narrowest cell width ({half:.3f} Å): shells would "
            "see more than one image",
        )
    edges = _radial_grid(r_max_A, n_bins)
    stride = _check_origin_stride(origin_stride)
    nb = edges.size - 1
    dr = edges[1] - edges[0]
    same = np.equal.outer(ia, ib)  # pairs of an atom with itself are excluded
    n_self = int(same.sum())
    orthogonal = _orthogonal(traj)
    per_origin = ia.size * ib.size * 3 * 8 * 5
    chunk = max(1, int(64 * 2**20 // per_origin))
    g = np.zeros((lags.size, nb))
    n_orig = np.zeros(lags.size, dtype=np.int64)
    pos = traj.positions
    for k, m in enumerate(lags):
        origins = np.arange(0, traj.n_frames - m, stride)
        counts = np.zeros(nb + 1, dtype=np.int64)
        for s in range(0, origins.size, chunk):
            o = origins[s : s + chunk]
            ra = np.asarray(pos[np.ix_(o, ia)], dtype=np.float64)
            rb = np.asarray(pos[np.ix_(o + m, ib)], dtype=np.float64)
            vec = rb[:, None, :, :] - ra[:, :, None, :]  # (n_o, n_a, n_b, 3)
            h = traj.cells[o + m]
            r = _minimum_image_lengths(vec, h, orthogonal)
            r[:, same] = np.inf
            counts += np.bincount(
                np.minimum((r.ravel() / dr), nb).astype(np.int64), minlength=nb + 1
            )
        n_orig[k] = origins.size
        rho_pairs = (ia.size * ib.size - n_self) / traj.volume_A3  # N_a ρ_b
        shells = 4.0 / 3.0 * np.pi * np.diff(edges**3)
        g[k] = counts[:nb] / (origins.size * rho_pairs * shells)
    la = _species_label(traj, ia)
    lb = _species_label(traj, ib)
    return VanHove(
        kind="distinct",
        species=(la, lb),
        times_ps=lags * traj.timestep_fs / 1000.0,
        r_A=0.5 * (edges[1:] + edges[:-1]),
        r_edges_A=edges,
        g=g,
        n_origins=n_orig,
    )


def _orthogonal(traj: Trajectory) -> bool:
    cells = traj.cells if traj.variable_cell else traj.cell[None]
    off = cells - np.einsum("fii->fi", cells)[:, :, None] * np.eye(3)
    return bool(np.all(np.abs(off) < 1e-12))


def _minimum_image_lengths(vec: np.ndarray, cells: np.ndarray, orthogonal: bool) -> np.ndarray:
    """|v| of the shortest periodic image of each vector; vec (n_o, ..., 3), cells (n_o, 3, 3)."""
    inv = np.linalg.inv(cells)
    flat = vec.reshape(vec.shape[0], -1, 3)
    frac = np.einsum("opk,okl->opl", flat, inv)
    frac -= np.rint(frac)
    if orthogonal:
        cart = np.einsum("opk,okl->opl", frac, cells)
        return np.sqrt(np.einsum("opk,opk->op", cart, cart)).reshape(vec.shape[:-1])
    # a skewed cell: rounding fractions can miss the shortest image; check the neighbours
    best = np.full(flat.shape[:2], np.inf)
    for n in _IMAGES:
        cart = np.einsum("opk,okl->opl", frac + n, cells)
        np.minimum(best, np.einsum("opk,opk->op", cart, cart), out=best)
    return np.sqrt(best).reshape(vec.shape[:-1])
