"""Polycrystal transport models: Harrison diffusion regimes and the brick-layer conductivity.

>>> from lilib.gb import harrison_regimes, brick_layer
>>> h = harrison_regimes(
...     d_nm=100, delta_nm=0.5, D_gb_cm2_s=1e-9, D_bulk_cm2_s=1e-12, t_s=[1, 1e2, 1e4, 1e6]
... )
>>> h.regime, h.alpha, h.Lambda  # 'A' / 'B' / 'C' per time; the dimensionless parameters
>>> b = brick_layer(sigma_bulk_mS_cm=0.5, sigma_gb_mS_cm=5e-4, d_nm=[50, 500, 5000], delta_nm=1)
>>> b.sigma_total_mS_cm, b.to_dataframe(), b.plot()

Grain boundaries are short circuits for diffusion along them and, in many solid electrolytes,
barriers across them (review seed 000, §3.1.7 and §3.6.2: LLZO Σ5 GBs conduct ~1000× faster
along than through; seed 003, §2, §5.3 and §5.9: impedance separates grain and GB
contributions, and GBs block some fluoride conductors while adding paths in others).
The formulas themselves are the standard ones cited in each function, not the seeds'.
Units: lengths in nm, diffusivities in cm²/s, times in s, conductivities in mS/cm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lilib.errors import ArgumentError

__all__ = ["BrickLayer", "HarrisonRegimes", "brick_layer", "harrison_regimes"]

_CM_TO_NM = 1e7


def _positive(value: Any, name: str, allow_zero: bool = False) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ArgumentError(name, f"must be a number or array of numbers, got {value!r}") from None
    if arr.size == 0:
        raise ArgumentError(name, "is empty")
    ok = arr >= 0 if allow_zero else arr > 0
    if not np.all(np.isfinite(arr)) or not np.all(ok):
        bound = "≥ 0" if allow_zero else "> 0"
        raise ArgumentError(name, f"must be finite and {bound}, got {value!r}")
    return arr


# --------------------------------------------------------------------------------------------
# Harrison A/B/C


@dataclass(frozen=True, eq=False)
class HarrisonRegimes:
    """Harrison's kinetic regime of tracer diffusion in a polycrystal, per (d, t) point.

    ``bulk_length_nm`` = √(D_bulk t); ``gb_length_nm`` = √(D_gb t); ``Lambda`` = d/√(D_bulk t);
    ``alpha`` = sδ/(2√(D_bulk t)); ``beta`` = (D_gb/D_bulk)·alpha (LeClaire's β, ≫ 1 for a
    usable type-B profile). ``regime``: 'A' where Lambda ≤ ``lambda_A``, 'C' where alpha ≥
    ``alpha_C``, else 'B' (which includes the transitional AB and BC kinetics).
    """

    d_nm: np.ndarray
    t_s: np.ndarray
    delta_nm: float
    D_gb_cm2_s: float
    D_bulk_cm2_s: float
    segregation_factor: float
    lambda_A: float
    alpha_C: float
    bulk_length_nm: np.ndarray
    gb_length_nm: np.ndarray
    Lambda: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    regime: np.ndarray

    @property
    def t_C_s(self) -> float:
        """Time (s) below which the kinetics is type C (bulk diffusion length ≤ sδ/(2 alpha_C))."""
        length_cm = self.segregation_factor * self.delta_nm / (2 * self.alpha_C) / _CM_TO_NM
        return float(length_cm**2 / self.D_bulk_cm2_s)

    def t_A_s(self, d_nm: Any) -> np.ndarray:
        """Time (s) above which grains of size d (nm) show type-A kinetics."""
        d = _positive(d_nm, "d_nm")
        return (d / self.lambda_A / _CM_TO_NM) ** 2 / self.D_bulk_cm2_s

    def to_dataframe(self) -> pd.DataFrame:
        """One row per point: d_nm, t_s, lengths (nm), Lambda, alpha, beta, regime."""
        return pd.DataFrame(
            {
                "d_nm": self.d_nm.ravel(),
                "t_s": self.t_s.ravel(),
                "bulk_length_nm": self.bulk_length_nm.ravel(),
                "gb_length_nm": self.gb_length_nm.ravel(),
                "Lambda": self.Lambda.ravel(),
                "alpha": self.alpha.ravel(),
                "beta": self.beta.ravel(),
                "regime": self.regime.ravel(),
            }
        )

    def plot(self, ax: Any = None) -> Any:
        """Regime map over time (s) and grain size (nm), log axes, the given points on top."""
        import matplotlib.pyplot as plt
        from matplotlib.colors import ListedColormap

        if ax is None:
            _, ax = plt.subplots()
        t_lo = min(float(self.t_s.min()), self.t_C_s) / 10
        t_hi = max(float(self.t_s.max()), float(self.t_A_s(self.d_nm.max()))) * 10
        d_lo = max(float(self.d_nm.min()) / 10, 2 * self.delta_nm)
        d_hi = float(self.d_nm.max()) * 10
        tt = np.logspace(np.log10(t_lo), np.log10(t_hi), 300)
        dd = np.logspace(np.log10(d_lo), np.log10(d_hi), 200)
        grid = harrison_regimes(
            dd[:, None],
            self.delta_nm,
            self.D_gb_cm2_s,
            self.D_bulk_cm2_s,
            tt[None, :],
            segregation_factor=self.segregation_factor,
            lambda_A=self.lambda_A,
            alpha_C=self.alpha_C,
        )
        code = np.searchsorted(np.array(["A", "B", "C"]), grid.regime)
        cmap = ListedColormap(["#c6dbef", "#fdd0a2", "#d9d9d9"])
        ax.pcolormesh(tt, dd, code, cmap=cmap, vmin=-0.5, vmax=2.5, shading="auto")
        for label, (t, d) in (("A", (t_hi / 3, d_lo * 1.5)), ("C", (t_lo * 1.5, d_hi / 2))):
            ax.text(t, d, label, ha="right" if label == "A" else "left", va="center")
        ax.text(np.sqrt(self.t_C_s * t_hi), d_hi / 2, "B", ha="center", va="center")
        ax.scatter(
            np.broadcast_to(self.t_s, self.regime.shape).ravel(),
            np.broadcast_to(self.d_nm, self.regime.shape).ravel(),
            c="k",
            s=12,
            zorder=3,
        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("time t (s)")
        ax.set_ylabel("grain size d (nm)")
        ax.set_title(
            f"Harrison regimes: D_bulk={self.D_bulk_cm2_s:.2g} cm²/s, δ={self.delta_nm:g} nm"
        )
        return ax


def harrison_regimes(
    d_nm: Any,
    delta_nm: float,
    D_gb_cm2_s: float,
    D_bulk_cm2_s: float,
    t_s: Any,
    *,
    segregation_factor: float = 1.0,
    lambda_A: float = 0.4,
    alpha_C: float = 5.0,
) -> HarrisonRegimes:
    """Harrison's A/B/C classification of GB diffusion kinetics, vectorised over d and t.

    d_nm: grain size (nm); delta_nm: GB width δ (nm); D_gb_cm2_s, D_bulk_cm2_s: GB and bulk
    diffusivities (cm²/s); t_s: diffusion time (s); d and t broadcast against each other.
    segregation_factor: s (1 for self-diffusion).
    Type A when Λ = d/√(D_bulk t) ≤ lambda_A: the bulk diffusion length spans several grains.
    Type C when α = sδ/(2√(D_bulk t)) ≥ alpha_C: bulk frozen, transport only in the GBs.
    Type B otherwise. Harrison, Trans. Faraday Soc. 57, 1191 (1961) defines the regimes;
    the default limits are the lattice Monte Carlo ones (A: Λ ≤ 0.4, Belova & Murch, Defect
    Diffus. Forum 194–199, 1223 (2001); C: α ≥ 5, Belova, Murch & Fiedler, Defect Diffus. Forum
    297–301, 1226 (2010)); alpha_C=1 is the looser C limit often quoted in textbooks.
    """
    d = _positive(d_nm, "d_nm")
    t = _positive(t_s, "t_s")
    delta = float(_positive(delta_nm, "delta_nm"))
    dgb = float(_positive(D_gb_cm2_s, "D_gb_cm2_s"))
    db = float(_positive(D_bulk_cm2_s, "D_bulk_cm2_s"))
    s = float(_positive(segregation_factor, "segregation_factor"))
    lam = float(_positive(lambda_A, "lambda_A"))
    ac = float(_positive(alpha_C, "alpha_C"))
    if np.any(d <= delta):
        raise ArgumentError("d_nm", f"grain size must exceed the GB width δ = {delta:g} nm")
    try:
        d, t = np.broadcast_arrays(d, t)
    except ValueError:
        raise ArgumentError(
            "t_s", f"shape {t.shape} does not broadcast with d_nm {d.shape}"
        ) from None
    bulk_len = np.sqrt(db * t) * _CM_TO_NM
    gb_len = np.sqrt(dgb * t) * _CM_TO_NM
    big_lambda = d / bulk_len
    alpha = s * delta / (2.0 * bulk_len)
    beta = (dgb / db) * alpha
    regime = np.where(big_lambda <= lam, "A", np.where(alpha >= ac, "C", "B"))
    return HarrisonRegimes(
        d_nm=np.array(d, dtype=float),
        t_s=np.array(t, dtype=float),
        delta_nm=delta,
        D_gb_cm2_s=dgb,
        D_bulk_cm2_s=db,
        segregation_factor=s,
        lambda_A=lam,
        alpha_C=ac,
        bulk_length_nm=bulk_len,
        gb_length_nm=gb_len,
        Lambda=big_lambda,
        alpha=alpha,
        beta=beta,
        regime=regime,
    )


# --------------------------------------------------------------------------------------------
# brick layer


@dataclass(frozen=True, eq=False)
class BrickLayer:
    """Brick-layer conductivity of cubic grains (edge d) separated by GBs of thickness δ.

    Per period L = d + δ along the current: a grain column (d × d section: grain length d in
    series with one GB of thickness δ crossed normal to its plane) in parallel with the GB
    column (the remaining L² − d² section, GB material along the current). All in mS/cm:
    ``sigma_series_mS_cm`` = (d/L)² · L/(d/σ_bulk + δ/σ_gb) (through-GB path);
    ``sigma_parallel_mS_cm`` = σ_gb,along · (1 − (d/L)²) (along-GB path);
    ``sigma_total_mS_cm`` = their sum. ``sigma_gb_apparent_mS_cm`` = σ_gb · d²/(δL): the GB
    conductivity an impedance arc normalised by the sample's geometry reports (≈ σ_gb d/δ).
    """

    d_nm: np.ndarray
    delta_nm: float
    sigma_bulk_mS_cm: float
    sigma_gb_mS_cm: float
    sigma_gb_along_mS_cm: float
    sigma_series_mS_cm: np.ndarray
    sigma_parallel_mS_cm: np.ndarray
    sigma_total_mS_cm: np.ndarray
    sigma_gb_apparent_mS_cm: np.ndarray

    def to_dataframe(self) -> pd.DataFrame:
        """One row per grain size: d_nm and the conductivities (mS/cm)."""
        return pd.DataFrame(
            {
                "d_nm": self.d_nm,
                "sigma_series_mS_cm": self.sigma_series_mS_cm,
                "sigma_parallel_mS_cm": self.sigma_parallel_mS_cm,
                "sigma_total_mS_cm": self.sigma_total_mS_cm,
                "sigma_gb_apparent_mS_cm": self.sigma_gb_apparent_mS_cm,
            }
        )

    def plot(self, ax: Any = None) -> Any:
        """σ (mS/cm) against grain size (nm), log-log: total, both paths and σ_bulk."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        order = np.argsort(self.d_nm)
        d = self.d_nm[order]
        ax.plot(d, self.sigma_total_mS_cm[order], "k-", label="total")
        ax.plot(d, self.sigma_series_mS_cm[order], "C0--", label="through GBs (series)")
        if np.any(self.sigma_parallel_mS_cm > 0):
            ax.plot(d, self.sigma_parallel_mS_cm[order], "C1:", label="along GBs (parallel)")
        ax.axhline(self.sigma_bulk_mS_cm, c="0.5", lw=1, label="bulk")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("grain size d (nm)")
        ax.set_ylabel("σ (mS/cm)")
        ax.set_title(f"brick layer, δ = {self.delta_nm:g} nm")
        ax.legend(loc="best", fontsize="small")
        return ax


def brick_layer(
    sigma_bulk_mS_cm: float,
    sigma_gb_mS_cm: float,
    d_nm: Sequence[float] | float,
    delta_nm: float,
    *,
    sigma_gb_along_mS_cm: float | None = None,
) -> BrickLayer:
    """Total conductivity (mS/cm) of a polycrystal against grain size d (nm), brick-layer model.

    sigma_bulk_mS_cm: grain interior; sigma_gb_mS_cm: GB conductivity across the GB plane;
    sigma_gb_along_mS_cm: along it (default the same; GBs can be strongly anisotropic, e.g. the
    ~1000× of LLZO Σ5 in seed 000 §3.6.2); delta_nm: GB thickness δ (nm).
    Series–parallel brick layer after van Dijk & Burggraaf, Phys. Status Solidi A 63, 229
    (1981) and Haile, West & Campbell, J. Mater. Res. 13, 1576 (1998). For δ ≪ d it reduces to
    1/σ = 1/σ_bulk + (δ/d)/σ_gb when the GBs block (σ_gb ≪ σ_bulk) and to
    σ = σ_bulk + 2(δ/d)σ_gb,along when they short-circuit (σ_gb,along ≫ σ_bulk).
    """
    sb = float(_positive(sigma_bulk_mS_cm, "sigma_bulk_mS_cm"))
    sg = float(_positive(sigma_gb_mS_cm, "sigma_gb_mS_cm"))
    sa = (
        sg
        if sigma_gb_along_mS_cm is None
        else float(_positive(sigma_gb_along_mS_cm, "sigma_gb_along_mS_cm", allow_zero=True))
    )
    d = np.atleast_1d(_positive(d_nm, "d_nm")).astype(float)
    if d.ndim != 1:
        raise ArgumentError("d_nm", f"must be a number or 1D array, got shape {d.shape}")
    delta = float(_positive(delta_nm, "delta_nm"))
    period = d + delta
    core = (d / period) ** 2
    series = core * period / (d / sb + delta / sg)
    parallel = sa * (1.0 - core)
    return BrickLayer(
        d_nm=d,
        delta_nm=delta,
        sigma_bulk_mS_cm=sb,
        sigma_gb_mS_cm=sg,
        sigma_gb_along_mS_cm=sa,
        sigma_series_mS_cm=series,
        sigma_parallel_mS_cm=parallel,
        sigma_total_mS_cm=series + parallel,
        sigma_gb_apparent_mS_cm=sg * d**2 / (delta * period),
    )
