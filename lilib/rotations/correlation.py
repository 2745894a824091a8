"""Legendre autocorrelations of bond vectors, C_l(t) = ⟨P_l(u(0)·u(t))⟩, by FFT, with a fitted time.

>>> acf = bond_acf(traj, groups)  # l = 1 and 2, every centre→ligand bond, all time origins
>>> acf.c2[acf.times_ps <= 10][-1]  # P2 ACF at 10 ps
>>> acf.fits[2].tau_ps, acf.fits[2].tau_stderr_ps, acf.fits[2].decorrelated

u: unit centre→ligand vectors (clusters: centroid→atom). Over all time origins t0,
C1(t) = ⟨u(t0)·u(t0 + t)⟩ = Σ_a ⟨u_a u_a⟩, and since P2(x) = (3x² − 1)/2 and
(u·v)² = Σ_ab u_a u_b v_a v_b, C2(t) = (3/2) Σ_ab ⟨(u_a u_b)(t0) (u_a u_b)(t0 + t)⟩ − 1/2: six
autocorrelations of component products (off-diagonal ones twice). Each is a zero-padded FFT
autocorrelation divided by the number of origins (n − m), so C_l is exact, not windowed.
Averaged over the ligands of a group, then over groups.

Fit (stated in the result): a stretched exponential (Kohlrausch–Williams–Watts)
C_l(t) ≈ A exp[−(t/τ)^β] over ``fit_range_ps`` (default from 0.2 ps, after the sub-ps libration
drop that A < 1 absorbs, to half the run), β ≤ 1. The mean relaxation time
⟨τ⟩ = τ Γ(1/β)/β is reported too. Uncertainty: bootstrap over groups (groups resampled with
replacement, averaged, refitted; seeded). A group set that never decorrelates (C_l at the end
of the window above A/e) has no measurable τ: ``decorrelated`` is False, τ is inf, and
``tau_lower_bound_ps`` = t_max / ln(A / C_l(t_max)), the time of a single exponential from A
through the last point, a rough lower bound.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import fft as sfft
from scipy.optimize import OptimizeWarning, curve_fit

from lilib.errors import ArgumentError
from lilib.md.trajectory import Trajectory
from lilib.rotations.groups import PolyanionGroups

__all__ = ["ACFFit", "BondACF", "bond_acf", "legendre_acf"]

_BOND_CHUNK = 64


def _autocorr(x: np.ndarray, n_lags: int) -> np.ndarray:
    """Σ_t x(t) x(t+m) / (n − m) for m < n_lags, over axis 0 (no mean removed)."""
    n = x.shape[0]
    n_fft = sfft.next_fast_len(2 * n, real=True)
    spec = sfft.rfft(x, n=n_fft, axis=0)
    spec = spec.real**2 + spec.imag**2
    out = sfft.irfft(spec, n=n_fft, axis=0)[:n_lags]
    out /= np.arange(n, n - n_lags, -1, dtype=np.float64).reshape((n_lags,) + (1,) * (x.ndim - 1))
    return out


def legendre_acf(
    u: np.ndarray, ls: tuple[int, ...] = (1, 2), n_lags: int | None = None
) -> dict[int, np.ndarray]:
    """C_l(t) of unit vectors u (n_frames, n_vectors, 3), per vector: {l: (n_lags, n_vectors)}.

    l = 1 and 2 (the Cartesian-product forms of the module doc), all time origins, by FFT.
    """
    u = np.asarray(u, dtype=np.float64)
    if u.ndim != 3 or u.shape[2] != 3:
        raise ArgumentError("u", f"expected (n_frames, n_vectors, 3) unit vectors, got {u.shape}")
    if any(ell not in (1, 2) for ell in ls):
        raise ArgumentError("ls", f"only l = 1 and 2 are implemented, got {ls}")
    n = u.shape[0]
    n_lags = n if n_lags is None else int(n_lags)
    out: dict[int, np.ndarray] = {}
    if 1 in ls:
        out[1] = _autocorr(u, n_lags).sum(axis=2)
    if 2 in ls:
        ii, jj = np.triu_indices(3)
        prod = u[:, :, ii] * u[:, :, jj]  # (n, v, 6): xx xy xz yy yz zz
        w = np.where(ii == jj, 1.0, 2.0)
        out[2] = 1.5 * np.einsum("mvk,k->mv", _autocorr(prod, n_lags), w) - 0.5
    return out


@dataclass(frozen=True)
class ACFFit:
    """KWW fit C(t) ≈ A exp[−(t/τ)^β] of one C_l, with bootstrap standard errors over groups.

    tau_ps, beta, amplitude; mean_time_ps = τ Γ(1/β)/β; *_stderr: bootstrap standard errors
    (NaN when there are < 2 groups). decorrelated: C_l fell below A/e inside the window; when
    False, tau_ps and mean_time_ps are inf and tau_lower_bound_ps bounds τ. fit_range_ps: the
    lags fitted. n_boot: bootstrap resamples.
    """

    ell: int
    tau_ps: float
    tau_stderr_ps: float
    beta: float
    beta_stderr: float
    amplitude: float
    mean_time_ps: float
    mean_time_stderr_ps: float
    decorrelated: bool
    tau_lower_bound_ps: float
    fit_range_ps: tuple[float, float]
    n_boot: int

    def __str__(self) -> str:
        if not self.decorrelated:
            return (
                f"C{self.ell}: no decay to A/e within {self.fit_range_ps[1]:g} ps "
                f"(A = {self.amplitude:.3f}); τ > {self.tau_lower_bound_ps:.3g} ps"
            )
        return (
            f"C{self.ell}: τ = {self.tau_ps:.3g} ± {self.tau_stderr_ps:.2g} ps, β = {self.beta:.2f}, "
            f"A = {self.amplitude:.3f}, ⟨τ⟩ = {self.mean_time_ps:.3g} ± {self.mean_time_stderr_ps:.2g} ps"
        )


@dataclass(frozen=True, eq=False)
class BondACF:
    """Bond-vector Legendre autocorrelations of a set of groups.

    times_ps: lags (n_lags,). c1, c2: averaged over ligands and groups (n_lags,).
    per_group: {l: (n_lags, n_groups)}. fits: {l: ACFFit}. kinds: group kinds.
    """

    times_ps: np.ndarray = field(repr=False)
    c1: np.ndarray = field(repr=False)
    c2: np.ndarray = field(repr=False)
    per_group: dict[int, np.ndarray] = field(repr=False)
    fits: dict[int, ACFFit]
    kinds: tuple[str, ...] = field(repr=False)

    def value_at(self, ell: int, time_ps: float) -> float:
        """C_ell (ell = 1 or 2) at the lag nearest ``time_ps``."""
        c = {1: self.c1, 2: self.c2}.get(ell)
        if c is None:
            raise ArgumentError("ell", f"must be 1 or 2, got {ell!r}")
        k = int(np.argmin(np.abs(self.times_ps - float(time_ps))))
        return float(c[k])

    def to_dataframe(self) -> pd.DataFrame:
        """One row per lag: time, C1, C2."""
        return pd.DataFrame({"time_ps": self.times_ps, "C1": self.c1, "C2": self.c2})

    def plot(self, ax=None):
        """C1 and C2 against lag with the KWW fits; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3))
        t = self.times_ps
        for ell, c, col in ((1, self.c1, "tab:blue"), (2, self.c2, "tab:red")):
            ax.plot(t, c, color=col, lw=1, label=f"C{ell}")
            f = self.fits.get(ell)
            if f is not None and f.decorrelated:
                ax.plot(t, _kww(t, f.amplitude, f.tau_ps, f.beta), color=col, ls="--", lw=0.8)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xlabel("lag (ps)")
        ax.set_ylabel("⟨P_l(u(0)·u(t))⟩")
        ax.legend(fontsize=8)
        return ax


def _kww(t, a, tau, beta):
    return a * np.exp(-((np.maximum(t, 0.0) / tau) ** beta))


def _fit_kww(t: np.ndarray, c: np.ndarray, t_span: float) -> tuple[float, float, float]:
    """(A, τ, β) of the KWW fit; τ = inf when the data never reach A/e."""
    p0_tau = t[np.argmax(c < c[0] / np.e)] if np.any(c < c[0] / np.e) else t[-1] * 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        try:
            popt, _ = curve_fit(
                _kww,
                t,
                c,
                p0=(min(max(c[0], 1e-3), 1.0), max(p0_tau, t[0]), 0.9),
                bounds=([0.0, 1e-4 * t[0], 0.1], [1.2, 1e4 * t_span, 1.0]),
                maxfev=4000,
            )
        except (RuntimeError, ValueError):
            return float(c[0]), float("inf"), 1.0
    return float(popt[0]), float(popt[1]), float(popt[2])


def _acf_fit(
    t: np.ndarray, per_group: np.ndarray, ell: int, sel: np.ndarray, n_boot: int, rng
) -> ACFFit:
    c = per_group.mean(axis=1)
    tf, cf = t[sel], c[sel]
    a, tau, beta = _fit_kww(tf, cf, t[-1])
    decorrelated = bool(cf[-1] < a / np.e) and np.isfinite(tau)
    rng_range = (float(tf[0]), float(tf[-1]))
    if not decorrelated:
        ratio = a / cf[-1] if cf[-1] > 0 else np.inf
        lb = float(tf[-1] / math.log(ratio)) if ratio > 1 else float("inf")
        return ACFFit(
            ell,
            float("inf"),
            float("nan"),
            beta,
            float("nan"),
            a,
            float("inf"),
            float("nan"),
            False,
            lb,
            rng_range,
            0,
        )
    mean_t = tau * math.gamma(1.0 / beta) / beta
    n_g = per_group.shape[1]
    boots = []
    if n_g >= 2 and n_boot > 0:
        for _ in range(n_boot):
            pick = rng.integers(0, n_g, n_g)
            cb = per_group[:, pick].mean(axis=1)[sel]
            _, tb, bb = _fit_kww(tf, cb, t[-1])
            if np.isfinite(tb):
                boots.append((tb, bb, tb * math.gamma(1.0 / bb) / bb))
    if len(boots) >= 2:
        b = np.array(boots)
        err = b.std(axis=0, ddof=1)
    else:
        err = np.full(3, np.nan)
    return ACFFit(
        ell,
        tau,
        float(err[0]),
        beta,
        float(err[1]),
        a,
        mean_t,
        float(err[2]),
        True,
        tau,
        rng_range,
        len(boots),
    )


def bond_acf(
    traj: Trajectory,
    groups: PolyanionGroups,
    *,
    max_lag_ps: float | None = None,
    fit_range_ps: tuple[float, float] | None = None,
    n_boot: int = 200,
    seed: int = 0,
) -> BondACF:
    """C1 and C2 of every centre→ligand bond, averaged per group and over groups, with KWW fits.

    max_lag_ps: longest lag kept (default half the run). fit_range_ps: (start, stop) of the fit
    (default (max(0.2 ps, one frame), max_lag)). n_boot: bootstrap resamples of groups for the
    errors (0: none). seed: of the bootstrap.
    """
    if not isinstance(traj, Trajectory):
        raise ArgumentError("traj", f"expected a lilib.md.Trajectory, got {type(traj).__name__}")
    if not isinstance(groups, PolyanionGroups):
        raise ArgumentError("groups", f"expected PolyanionGroups, got {type(groups).__name__}")
    if groups.n_atoms != traj.n_atoms:
        raise ArgumentError(
            "groups", f"found in a system of {groups.n_atoms} atoms, not {traj.n_atoms}"
        )
    if traj.n_frames < 4:
        raise ArgumentError("traj", f"{traj.n_frames} frames: too short for an autocorrelation")
    dt_ps = traj.timestep_fs / 1000.0
    if max_lag_ps is None:
        n_lags = traj.n_frames // 2 + 1
    else:
        if not float(max_lag_ps) > 0:
            raise ArgumentError("max_lag_ps", f"must be > 0 ps, got {max_lag_ps!r}")
        n_lags = min(traj.n_frames, round(float(max_lag_ps) / dt_ps) + 1)
    if n_lags < 3:
        raise ArgumentError("max_lag_ps", f"keeps only {n_lags} lags: need ≥ 3")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ArgumentError("n_boot", f"must be an integer ≥ 0, got {n_boot!r}")
    t = np.arange(n_lags) * dt_ps
    if fit_range_ps is None:
        lo, hi = max(0.2, dt_ps), t[-1]
    else:
        try:
            lo, hi = (float(x) for x in fit_range_ps)
        except (TypeError, ValueError):
            raise ArgumentError(
                "fit_range_ps", f"expected (start, stop) in ps, got {fit_range_ps!r}"
            ) from None
        if not 0 <= lo < hi:
            raise ArgumentError("fit_range_ps", f"needs 0 ≤ start < stop, got {fit_range_ps!r}")
    sel = (t >= lo) & (t <= hi) & (t > 0)
    if sel.sum() < 3:
        raise ArgumentError(
            "fit_range_ps", f"({lo:g}, {hi:g}) ps holds {int(sel.sum())} lags: need ≥ 3"
        )

    per_group = {1: np.zeros((n_lags, groups.n_groups)), 2: np.zeros((n_lags, groups.n_groups))}
    for batch in groups.batches():
        n = int(groups.n_ligands[batch[0]])
        per_chunk = max(1, _BOND_CHUNK // n)
        for s in range(0, batch.size, per_chunk):
            b = batch[s : s + per_chunk]
            d = groups.vectors_A(traj, b)
            u = d / np.linalg.norm(d, axis=-1, keepdims=True)
            acf = legendre_acf(u.reshape(u.shape[0], -1, 3), (1, 2), n_lags)
            for ell in (1, 2):
                per_group[ell][:, b] = acf[ell].reshape(n_lags, b.size, n).mean(axis=2)
    rng = np.random.default_rng(seed)
    fits = {ell: _acf_fit(t, per_group[ell], ell, sel, int(n_boot), rng) for ell in (1, 2)}
    return BondACF(
        times_ps=t,
        c1=per_group[1].mean(axis=1),
        c2=per_group[2].mean(axis=1),
        per_group=per_group,
        fits=fits,
        kinds=groups.kinds,
    )
