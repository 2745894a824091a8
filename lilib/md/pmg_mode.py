"""A pymatgen-equivalent diffusion estimator: D*, D_σ, σ and H_R as ``DiffusionAnalyzer`` gets them.

:func:`diffusion_analyzer_equivalent` re-implements (vectorised numpy, no pymatgen needed) the
algorithm of ``DiffusionAnalyzer`` in pymatgen-analysis-diffusion
(https://github.com/materialsvirtuallab/pymatgen-analysis-diffusion, module
``pymatgen/analysis/diffusion/analyzer.py``; BSD-3-Clause; the analysis of
S. P. Ong et al., Energy Environ. Sci. 6, 148 (2013), doi:10.1039/c2ee23355j, and
Y. Mo, S. P. Ong, G. Ceder, Chem. Mater. 24, 15 (2012), doi:10.1021/cm203303y). It is meant
for comparing with published pymatgen numbers; lilib's own estimator with error bars is
:func:`lilib.md.transport.transport`.

The algorithm, as implemented here:

1. Drift: every atom's displacement from the initial structure minus the *plain* (not
   mass-weighted) mean displacement of all non-mobile atoms, frame by frame.
2. Lags (in frames) and time origins, by ``smoothed``:

   * ``"max"`` (default): lags from ``int(1000 fs / frame_fs)`` up to
     ``min(n_mobile·n_frames // min_obs, n_frames)`` (exclusive) in steps of
     ``max(int(span / 200), 1)``, each averaged over *every* time origin;
   * ``"constant"``: lags 0 … ``n_frames − avg_nsteps − 1``, each averaged over the first
     ``avg_nsteps`` origins;
   * ``False``/``None``: every frame, one origin (the initial structure).

3. MSD (mean over mobile ions), per-axis MSD, and the mean square *charge* displacement
   MSCD = ⟨|Σ_i Δr_i|²⟩ / N (the collective displacement of the mobile ions).
4. Straight-line fit ``msd = m·t + c`` with a free intercept; for ``"max"`` weighted by
   1/t (weights on the squared residuals), otherwise unweighted. D = m/6 (Å²/fs → ×0.1 →
   cm²/s, i.e. m/60), components m_x/2, D_σ from the MSCD slope; slopes are floored at
   1e-15. The "std dev" is pymatgen's slope error
   √(n·RSS / ((n·Σt² − (Σt)²)(n − 2))) (meaningful only without smoothing).
5. Nernst–Einstein: σ = D · N z² e² N_A² / (V N_A R T) · 1000 (mS/cm), V the initial cell;
   H_R = D*/D_σ.

>>> from lilib.md.pmg_mode import diffusion_analyzer_equivalent
>>> res = diffusion_analyzer_equivalent("DiffusionAnalyzer.json")  # or a Trajectory
>>> res.diffusivity_cm2_s, res.conductivity_mS_cm, res.haven_ratio
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.constants as sc
import scipy.fft as sfft

from lilib.errors import ArgumentError
from lilib.md.readers import read_pmg_diffusion
from lilib.md.trajectory import Trajectory
from lilib.md.transport import msd_fft

__all__ = ["PmgDiffusionResult", "diffusion_analyzer_equivalent"]

_SMOOTHING = ("max", "constant", False)
_MIN_SLOPE = 1e-15  # pymatgen floors negative slopes here (Å²/fs)
_A2_FS_TO_CM2_S = 1e-16 / 1e-15  # Å²/fs → cm²/s (0.1)
# N_A (1/mol), e (C), R (J/mol/K). "codata2018": the exact SI values (scipy ≥ 1.4);
# "codata2010": scipy ≤ 0.16, with which pymatgen's original test values were generated.
_CONSTANTS = {
    "codata2018": (sc.N_A, sc.e, sc.R),
    "codata2010": (6.02214129e23, 1.602176565e-19, 8.3144621),
}


@dataclass(frozen=True, eq=False)
class PmgDiffusionResult:
    """What pymatgen's ``DiffusionAnalyzer`` reports, computed by :func:`diffusion_analyzer_equivalent`.

    Diffusivities cm²/s, conductivities mS/cm (Nernst–Einstein), haven_ratio = D*/D_σ.
    ``*_std_dev``: pymatgen's least-squares slope errors (meaningful only for smoothed=False).
    dt_fs: the sampled lags (fs); msd_A2, msd_components_A2 (n, 3, Cartesian x/y/z) and
    mscd_A2 (mean square charge displacement / N) at those lags (Å²).
    """

    species: str
    smoothed: str | bool
    temperature_K: float
    charge: float
    n_mobile: int
    volume_A3: float
    diffusivity_cm2_s: float
    diffusivity_std_dev_cm2_s: float
    chg_diffusivity_cm2_s: float
    chg_diffusivity_std_dev_cm2_s: float
    conductivity_mS_cm: float
    conductivity_std_dev_mS_cm: float
    chg_conductivity_mS_cm: float
    haven_ratio: float
    diffusivity_components_cm2_s: np.ndarray = field(repr=False)
    diffusivity_components_std_dev_cm2_s: np.ndarray = field(repr=False)
    conductivity_components_mS_cm: np.ndarray = field(repr=False)
    max_framework_displacement_A: float = field(repr=False)
    dt_fs: np.ndarray = field(repr=False)
    msd_A2: np.ndarray = field(repr=False)
    msd_components_A2: np.ndarray = field(repr=False)
    mscd_A2: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        for name in (
            "diffusivity_components_cm2_s",
            "diffusivity_components_std_dev_cm2_s",
            "conductivity_components_mS_cm",
            "dt_fs",
            "msd_A2",
            "msd_components_A2",
            "mscd_A2",
        ):
            arr = np.array(getattr(self, name), dtype=np.float64)
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)

    def to_dataframe(self) -> pd.DataFrame:
        """One row: D*, D_σ, σ, σ_charge, H_R, x/y/z parts and the settings."""
        row = {
            "species": self.species,
            "smoothed": self.smoothed,
            "temperature_K": self.temperature_K,
            "charge": self.charge,
            "n_mobile": self.n_mobile,
            "D_cm2_s": self.diffusivity_cm2_s,
            "D_std_dev_cm2_s": self.diffusivity_std_dev_cm2_s,
            "D_charge_cm2_s": self.chg_diffusivity_cm2_s,
            "D_charge_std_dev_cm2_s": self.chg_diffusivity_std_dev_cm2_s,
            "conductivity_mS_cm": self.conductivity_mS_cm,
            "conductivity_std_dev_mS_cm": self.conductivity_std_dev_mS_cm,
            "chg_conductivity_mS_cm": self.chg_conductivity_mS_cm,
            "haven_ratio": self.haven_ratio,
        }
        for a, d, s in zip(
            "xyz", self.diffusivity_components_cm2_s, self.conductivity_components_mS_cm
        ):
            row[f"D_{a}_cm2_s"] = float(d)
            row[f"conductivity_{a}_mS_cm"] = float(s)
        row["max_framework_displacement_A"] = self.max_framework_displacement_A
        row["n_lags"] = int(self.dt_fs.size)
        return pd.DataFrame([row])

    def msd_dataframe(self) -> pd.DataFrame:
        """The sampled MSD curve: dt_fs, msd, msd_x/y/z, mscd (Å²)."""
        return pd.DataFrame(
            {
                "dt_fs": self.dt_fs,
                "msd_A2": self.msd_A2,
                "msd_x_A2": self.msd_components_A2[:, 0],
                "msd_y_A2": self.msd_components_A2[:, 1],
                "msd_z_A2": self.msd_components_A2[:, 2],
                "mscd_A2": self.mscd_A2,
            }
        )


# ---------------------------------------------------------------------------- inputs


def _load(traj, time_step_fs, step_skip):
    """(symbols, displacements (n_atoms, n_frames, 3), volume Å³, frame_fs, T or None, source)."""
    if isinstance(traj, (str, Path)):
        path = Path(traj)
        tr = read_pmg_diffusion(path)  # validates the file
        with open(path, encoding="utf-8") if path.suffix != ".gz" else _gz(path) as fh:
            d = json.load(fh)
        disp = np.asarray(d["displacements"], dtype=np.float64)  # exactly as pymatgen has them
        source = dict(tr.source)
    elif isinstance(traj, Trajectory):
        tr = traj
        if not tr.unwrapped:
            raise ArgumentError("traj", "positions are wrapped: call unwrap() first")
        pos = np.asarray(tr.positions, dtype=np.float64)
        disp = (pos - pos[0]).transpose(1, 0, 2)
        source = dict(tr.source)
    else:
        raise ArgumentError(
            "traj", f"expected a Trajectory or a DiffusionAnalyzer JSON path, got {type(traj)}"
        )
    cell = np.asarray(tr.cell, dtype=np.float64)
    if cell.ndim == 3:
        cell = cell[0]  # pymatgen's conversion uses the initial structure's volume
    volume = float(abs(np.linalg.det(cell)))

    if (time_step_fs is None) != (step_skip is None):
        raise ArgumentError("time_step_fs", "give both time_step_fs and step_skip, or neither")
    if time_step_fs is None and "time_step_fs" in source and "step_skip" in source:
        time_step_fs, step_skip = source["time_step_fs"], source["step_skip"]
    if time_step_fs is not None:
        for name, v in (("time_step_fs", time_step_fs), ("step_skip", step_skip)):
            if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not v > 0:
                raise ArgumentError(name, f"must be a number > 0, got {v!r}")
        frame_fs = time_step_fs * step_skip
        if not np.isclose(frame_fs, tr.timestep_fs, rtol=1e-9):
            raise ArgumentError(
                "time_step_fs",
                f"time_step_fs × step_skip = {frame_fs} fs but the trajectory's frames are "
                f"{tr.timestep_fs} fs apart",
            )
    else:
        frame_fs = float(tr.timestep_fs)
    return np.asarray(tr.symbols), disp, volume, frame_fs, tr.temperature_K, source


def _gz(path):
    import gzip

    return gzip.open(path, "rt", encoding="utf-8")


# ---------------------------------------------------------------------------- kernels


def _windowed_msd(x: np.ndarray, n_lags: int, n_origins: int) -> np.ndarray:
    """out[k, ...] = mean over t < n_origins of (x[t + k] − x[t])², k < n_lags (x: (n, ...)).

    Σ x_{t+k}² by running sums, Σ x_t² once, the cross term Σ_t x_{t+k} x_t (t < n_origins)
    as a circular correlation by FFT (no wrap-around since t + k < n).
    """
    n = x.shape[0]
    x = x - x[:n_origins].mean(axis=0)  # offset-free: keeps the sums from cancelling
    cum = np.concatenate([np.zeros((1, *x.shape[1:])), np.cumsum(x * x, axis=0)])
    k = np.arange(n_lags)
    later = cum[k + n_origins] - cum[k]  # Σ_{t<A} x_{t+k}²
    first = cum[n_origins]  # Σ_{t<A} x_t²
    n_fft = sfft.next_fast_len(n, real=True)
    head = np.zeros_like(x)
    head[:n_origins] = x[:n_origins]
    cross = sfft.irfft(
        sfft.rfft(x, n=n_fft, axis=0) * np.conj(sfft.rfft(head, n=n_fft, axis=0)),
        n=n_fft,
        axis=0,
    )[:n_lags]
    return (later + first - 2.0 * cross) / n_origins


def _fit(t: np.ndarray, y: np.ndarray, weighted: bool) -> tuple[float, float]:
    """Slope m of y = m t + c (free intercept, weights 1/t if weighted) and the weighted RSS."""
    w = 1.0 / t if weighted else np.ones_like(t)
    sw, st, sy = w.sum(), (w * t).sum(), (w * y).sum()
    tm, ym = st / sw, sy / sw
    dt_, dy = t - tm, y - ym
    sxx = (w * dt_ * dt_).sum()
    m = (w * dt_ * dy).sum() / sxx
    c = ym - m * tm
    rss = float((w * (y - m * t - c) ** 2).sum())
    return float(m), rss


# ---------------------------------------------------------------------------- main


def diffusion_analyzer_equivalent(
    traj: Trajectory | str | Path,
    specie: str = "Li",
    *,
    smoothed: str | bool | None = "max",
    min_obs: int = 30,
    avg_nsteps: int = 1000,
    temperature_K: float | None = None,
    charge: float = 1.0,
    time_step_fs: float | None = None,
    step_skip: int | None = None,
    constants: str = "codata2018",
) -> PmgDiffusionResult:
    """D*, D_σ, σ, σ_charge and H_R exactly as pymatgen-analysis-diffusion's ``DiffusionAnalyzer``.

    traj: an unwrapped :class:`~lilib.md.trajectory.Trajectory` *without* drift removed
    (displacements are taken from frame 0), or the path of a serialized ``DiffusionAnalyzer``
    JSON (its stored displacements are then used bit for bit). specie: the mobile element;
    every other atom is the framework whose plain mean displacement is subtracted.
    smoothed: "max", "constant" or False/None (see the module docstring). min_obs: for "max";
    avg_nsteps: the number of time origins for "constant". temperature_K: defaults to the
    trajectory's. charge: z of the mobile ion (pymatgen takes the oxidation state, or the
    valence-shell occupancy: 1 for Li/Na). time_step_fs, step_skip: the MD step and the
    sampling stride (frame spacing = their product; needed only because "max" starts at
    ``int(1000 / (time_step·step_skip))`` frames); default from ``traj.source`` or the frame
    spacing. constants: "codata2018" (scipy's, default) or "codata2010" (scipy ≤ 0.16: the
    constants behind pymatgen's original test values; σ differs by 6e-8). Not supported: NPT (per-frame cells; the initial volume is used).

    Algorithm from pymatgen-analysis-diffusion, ``pymatgen/analysis/diffusion/analyzer.py``
    (Ong et al., Energy Environ. Sci. 2013, doi:10.1039/c2ee23355j; Mo et al., Chem. Mater.
    2012, doi:10.1021/cm203303y); re-implemented here, see the module docstring.
    """
    if smoothed is None:
        smoothed = False
    if isinstance(smoothed, bool) and smoothed:
        raise ArgumentError("smoothed", "True is ambiguous: use 'max' or 'constant'")
    if smoothed not in _SMOOTHING:
        raise ArgumentError("smoothed", f"expected 'max', 'constant' or False, got {smoothed!r}")
    for name, v in (("min_obs", min_obs), ("avg_nsteps", avg_nsteps)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ArgumentError(name, f"must be an integer ≥ 1, got {v!r}")
    if isinstance(charge, bool) or not isinstance(charge, (int, float, np.number)):
        raise ArgumentError("charge", f"must be a non-zero number, got {charge!r}")
    if not (np.isfinite(charge) and charge != 0):
        raise ArgumentError("charge", f"must be a non-zero number, got {charge!r}")
    if constants not in _CONSTANTS:
        raise ArgumentError("constants", f"expected one of {sorted(_CONSTANTS)}, got {constants!r}")
    if not isinstance(specie, str):
        raise ArgumentError("specie", f"expected an element symbol, got {specie!r}")

    symbols, disp, volume, frame_fs, traj_T, _ = _load(traj, time_step_fs, step_skip)
    temperature = traj_T if temperature_K is None else temperature_K
    if temperature is None:
        raise ArgumentError("temperature_K", "the trajectory has none: give temperature_K")
    if isinstance(temperature, bool) or not 0 < float(temperature) < np.inf:
        raise ArgumentError("temperature_K", f"must be > 0 K, got {temperature!r}")
    temperature = float(temperature)

    mobile = symbols == specie
    n_mob = int(mobile.sum())
    if n_mob == 0:
        raise ArgumentError("specie", f"no {specie!r} atoms (have {sorted(set(symbols))})")
    if mobile.all():
        raise ArgumentError("specie", f"every atom is {specie}: no framework to correct drift")
    n_frames = disp.shape[1]
    if n_frames < 2:
        raise ArgumentError("traj", f"{n_frames} frame: at least 2 are needed")

    drift = disp[~mobile].mean(axis=0)  # (n_frames, 3), plain mean as pymatgen
    dc = disp - drift[None]
    max_fw = float(np.sqrt((dc[~mobile] ** 2).sum(-1)).max())
    x = dc[mobile].transpose(1, 0, 2)  # (n_frames, n_mob, 3)
    coll = x.sum(axis=1)  # (n_frames, 3): Σ_i Δr_i

    if smoothed is False:
        lags = np.arange(n_frames)
        comp = (x**2).mean(axis=1)  # one origin: the initial structure
        chg = (coll**2).sum(-1) / n_mob
    elif smoothed == "constant":
        if n_frames <= avg_nsteps:
            raise ArgumentError(
                "avg_nsteps", f"{avg_nsteps} ≥ the {n_frames} frames: not enough data"
            )
        lags = np.arange(n_frames - avg_nsteps)
        comp = _windowed_msd(x, lags.size, avg_nsteps).mean(axis=1)
        chg = _windowed_msd(coll, lags.size, avg_nsteps).sum(-1) / n_mob
    else:
        lo = int(1000 / frame_fs)
        hi = min(n_mob * n_frames // min_obs, n_frames)
        if lo < 1:
            raise ArgumentError(
                "traj", f"frames {frame_fs} fs apart (> 1000 fs): smoothed='max' needs lags < 1 ps"
            )
        if lo >= hi:
            raise ArgumentError(
                "min_obs",
                f"not enough data: lags would run from {lo} to {hi} frames "
                f"({n_mob} {specie} × {n_frames} frames / min_obs {min_obs})",
            )
        lags = np.arange(lo, hi, max(int((hi - lo) / 200), 1))
        comp = msd_fft(x)[lags].mean(axis=1)
        chg = msd_fft(coll)[lags].sum(-1) / n_mob
    msd = comp.sum(-1)

    t = lags * frame_fs  # pymatgen: timesteps · time_step · step_skip (fs)
    weighted = smoothed == "max"
    n = t.size
    slopes, rss = [], []
    for y in (msd, chg, comp[:, 0], comp[:, 1], comp[:, 2]):
        m, r = _fit(t, y, weighted)
        slopes.append(max(m, _MIN_SLOPE))
        rss.append(r)
    slopes, rss = np.array(slopes), np.array(rss)
    sxx_n = n * np.sum(t**2) - np.sum(t) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        slope_err = np.sqrt(n * rss / (sxx_n * (n - 2))) if n > 2 else np.full(5, np.nan)

    n_a, e, r_gas = _CONSTANTS[constants]
    # mS/cm per cm²/s: 1000 · c z² F² / (R T), c = N / (V N_A) in mol/cm³
    factor = (
        1000.0 * n_mob / (volume * 1e-24 * n_a) * charge**2 * (n_a * e) ** 2 / (r_gas * temperature)
    )
    d_t, d_c = slopes[0] * _A2_FS_TO_CM2_S / 6, slopes[1] * _A2_FS_TO_CM2_S / 6
    d_comp = slopes[2:] * _A2_FS_TO_CM2_S / 2
    return PmgDiffusionResult(
        species=specie,
        smoothed=smoothed,
        temperature_K=temperature,
        charge=float(charge),
        n_mobile=n_mob,
        volume_A3=volume,
        diffusivity_cm2_s=float(d_t),
        diffusivity_std_dev_cm2_s=float(slope_err[0] * _A2_FS_TO_CM2_S / 6),
        chg_diffusivity_cm2_s=float(d_c),
        chg_diffusivity_std_dev_cm2_s=float(slope_err[1] * _A2_FS_TO_CM2_S / 6),
        conductivity_mS_cm=float(d_t * factor),
        conductivity_std_dev_mS_cm=float(slope_err[0] * _A2_FS_TO_CM2_S / 6 * factor),
        chg_conductivity_mS_cm=float(d_c * factor),
        haven_ratio=float(d_t / d_c),
        diffusivity_components_cm2_s=d_comp,
        diffusivity_components_std_dev_cm2_s=slope_err[2:] * _A2_FS_TO_CM2_S / 2,
        conductivity_components_mS_cm=d_comp * factor,
        max_framework_displacement_A=max_fw,
        dt_fs=t,
        msd_A2=msd,
        msd_components_A2=comp,
        mscd_A2=chg,
    )
