"""Vibrational density of states (VDOS) from MD velocities, and its band-centre descriptors.

>>> from lilib.md.vdos import vdos
>>> res = vdos(run)  # an MDRun (saved velocities if any) or a Trajectory (positions)
>>> res.mobile_band_centre_THz, res.anion_band_centre_THz
>>> res.plot()
... res.to_dataframe()

Method (Wiener–Khinchin): the spectrum of the velocity autocorrelation
C_j(τ) = ⟨v_j(t)·v_j(t+τ)⟩ is the power spectrum of the velocity itself, so per atom j we take
|FFT(w·v_j)|² of the windowed velocity (``window``, a scipy window name; Hann by default),
zero-padded to twice its length, averaged over segments (Welch; ``segment_ps``, 50 % overlap;
default one segment, the finest resolution). Species X:

    g_X(ν) ∝ Σ_{j∈X} m_j |ṽ_j(ν)|²   (mass_weighted=True, default),

the kinetic-energy spectrum. For a classical harmonic crystal in equilibrium each mode holds
k_BT, so this equals the phonon DOS projected with mass-weighted eigenvectors, Σ_{j∈X}|e_j|²:
the same projection as :func:`lilib.phonons.lattice_dynamics`. ``mass_weighted=False`` uses
Σ_j |ṽ_j|² (a velocity spectrum; light atoms dominate). The total g = Σ_X g_X is normalised to
3N modes, Σ_k g(ν_k) Δν = 3N over the one-sided grid ν_k = k Δν (k ≥ 0); each species then
holds 3N × its share (``modes_per_species``; ≈ 3N_X by equipartition when mass-weighted).
Frequencies in THz (cycles per ps).

Band centres (as in :mod:`lilib.phonons.descriptors`): first moment Σ ν g_X / Σ g_X over
positive frequencies (k ≥ 1), per species; mobile ion (Li, else Na) and anion (the most
electronegative other element, e.g. S, H in LiBH4). Unlike harmonic phonons they stay defined
at finite temperature in rotor phases, where harmonic modes are imaginary; diffusive motion
puts weight near ν → 0 (g(0) ∝ D) and so lowers a mobile ion's centre.

Velocities: saved MD velocities when available, else the centred differences of unwrapped
positions at the midpoints, v(t + Δt/2) = (r(t + Δt) − r(t))/Δt. That difference multiplies the
amplitude at ν by sinc(νΔt) = sin(πνΔt)/(πνΔt) (≥ 2/π up to Nyquist); the power is divided by
sinc² to undo it, which is exact for harmonic motion. Either way, frequencies above the Nyquist
frequency 1/(2Δt) of the frame spacing Δt fold back (alias): save frames at least twice per
period of the fastest vibration (B–H stretch ≈ 70 THz: Δt ≤ 7 fs). A spectrum with more than 1 %
of its weight in the top 10 % of the band below Nyquist is flagged (``aliasing_suspect``) and
warned about. Resolution: the full width at half maximum of the window's spectral peak for
the segment length (``resolution_THz``; Hann: 1.44 / segment duration).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from ase import units

from lilib.errors import ArgumentError
from lilib.md.trajectory import Trajectory

__all__ = ["VDOS", "vdos"]

MOBILE_IONS = ("Li", "Na")
#: weight share in the top 10 % of the band below Nyquist that flags aliasing
ALIASING_THRESHOLD = 0.01
_EV_PER_AMU_A2_FS2 = 1.0 / units.fs**2
_CHUNK_VALUES = 1 << 22  # complex values per FFT block (bounds memory on big runs)


@dataclass(frozen=True, eq=False)
class VDOS:
    """Vibrational density of states from MD velocities (units in the names; DOS in states/THz).

    ``frequencies_THz`` (one-sided grid from 0), ``total`` and ``per_species`` (states/THz;
    Σ total·Δν = 3N), ``modes_per_species`` (Σ g_X Δν), ``band_centres_THz`` and
    ``rms_frequencies_THz`` per species over ν > 0, ``mobile_element`` / ``anion_element`` and
    their ``mobile_band_centre_THz`` / ``anion_band_centre_THz`` (None / NaN when absent).
    ``temperature_K``: kinetic temperature of the velocities, Σ m⟨v²⟩ / (3N k_B) (finite
    differences corrected). ``vacf_times_fs`` and ``vacf``: the (weighted, window-corrected)
    total velocity autocorrelation normalised to 1 at τ = 0, for lags up to half a segment.
    Sampling: ``timestep_fs`` (between velocity samples), ``nyquist_THz``, ``resolution_THz``,
    ``segment_frames``, ``n_segments``, ``window``; ``velocity_source`` ('velocities' or
    'finite differences'); ``nyquist_weight_fraction`` and ``aliasing_suspect``.
    """

    frequencies_THz: np.ndarray = field(repr=False)
    total: np.ndarray = field(repr=False)
    per_species: dict[str, np.ndarray] = field(repr=False)
    modes_per_species: dict[str, float]
    band_centres_THz: dict[str, float]
    rms_frequencies_THz: dict[str, float]
    mobile_element: str | None
    anion_element: str | None
    mobile_band_centre_THz: float
    anion_band_centre_THz: float
    n_atoms: int
    temperature_K: float
    timestep_fs: float
    nyquist_THz: float
    resolution_THz: float
    segment_frames: int
    n_segments: int
    window: str
    mass_weighted: bool
    velocity_source: str
    nyquist_weight_fraction: float
    aliasing_suspect: bool
    vacf_times_fs: np.ndarray = field(repr=False)
    vacf: np.ndarray = field(repr=False)
    source: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def n_modes(self) -> int:
        """3N, the integral of :attr:`total`."""
        return 3 * self.n_atoms

    def to_dataframe(self) -> pd.DataFrame:
        """Curves: frequency (THz), total and per-species DOS (states/THz).

        The band centres (THz) are in ``df.attrs['band_centres_THz']``.
        """
        data = {"frequency_THz": self.frequencies_THz, "total_per_THz": self.total}
        for el, y in self.per_species.items():
            data[f"{el}_per_THz"] = y
        df = pd.DataFrame(data)
        df.attrs["band_centres_THz"] = dict(self.band_centres_THz)
        return df

    def plot(self, ax=None, max_frequency_THz: float | None = None):
        """Per-species VDOS with band-centre markers; returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(6, 3.5))[1]
        f = self.frequencies_THz
        for el, y in self.per_species.items():
            (line,) = ax.plot(f, y, lw=1.1, label=el)
            c = self.band_centres_THz[el]
            style = "--" if el == self.mobile_element else ":"
            ax.axvline(
                c, color=line.get_color(), ls=style, lw=1.0, label=f"{el} centre {c:.2f} THz"
            )
        ax.set_xlabel("frequency (THz)")
        ax.set_ylabel("VDOS (states/THz)")
        ax.set_xlim(0, max_frequency_THz or f[-1])
        ax.set_ylim(bottom=0)
        ax.set_title(f"VDOS ({self.velocity_source}, {self.temperature_K:.0f} K)")
        ax.legend(fontsize=8)
        return ax


def _default_anion(species: list[str], mobile: str | None) -> str | None:
    from pymatgen.core import Element

    others = [s for s in species if s != mobile]
    if len(species) < 2 or not others:
        return None
    return max(others, key=lambda s: Element(s).X)


def _masses_of(symbols: np.ndarray) -> np.ndarray:
    from ase.data import atomic_masses, atomic_numbers

    try:
        return np.array([atomic_masses[atomic_numbers[s]] for s in symbols], dtype=float)
    except KeyError as exc:
        raise ArgumentError("symbols", f"{exc.args[0]!r} is not an element symbol") from None


def _window_values(window: Any, n: int) -> np.ndarray:
    from scipy.signal import get_window

    try:
        w = np.asarray(get_window(window, n), dtype=float)
    except (ValueError, TypeError) as exc:
        raise ArgumentError("window", f"not a scipy window ({exc}): {window!r}") from None
    if not np.any(w > 0):
        raise ArgumentError("window", f"{window!r} is zero everywhere for {n} samples")
    return w


def _fwhm_bins(w: np.ndarray) -> float:
    """Full width at half maximum of |W(ν)|², in units of 1/(len(w) Δt)."""
    pad = 64
    p = np.abs(np.fft.rfft(w, n=pad * w.size)) ** 2
    p /= p[0]
    below = np.flatnonzero(p < 0.5)
    if below.size == 0:
        return float("nan")
    i = below[0]
    x = i - 1 + (p[i - 1] - 0.5) / (p[i - 1] - p[i])  # linear interpolation
    return 2.0 * x / pad


def vdos(
    data: Any,
    *,
    velocities: np.ndarray | None = None,
    masses: np.ndarray | None = None,
    mass_weighted: bool = True,
    window: str | tuple = "hann",
    segment_ps: float | None = None,
    skip_ps: float = 0.0,
    mobile: str | None = None,
    anion: str | None = None,
) -> VDOS:
    """VDOS of a trajectory or MD run and its band centres (see the module docstring).

    data: an :class:`~lilib.md.run.MDRun` (its saved velocities if any, else positions; its
        masses) or a :class:`~lilib.md.Trajectory` (positions; unwrapped first if needed).
    velocities: (n_frames, n_atoms, 3) Å/fs, one per frame of ``data`` (overrides the above).
    masses: per atom (amu); default the run's masses or ASE's standard atomic masses.
    mass_weighted: weight atoms by mass (kinetic-energy spectrum, comparable with phonon DOS).
    window: scipy window name (or tuple, e.g. ('tukey', 0.5)) applied to each segment.
    segment_ps: Welch segment length (ps), 50 % overlap; None: one segment (whole run).
    skip_ps: leave out this much time at the start (equilibration), ps.
    mobile: mobile-ion element (default Li, else Na, else none); anion: default the most
        electronegative other element (none for a one-element system).
    """
    traj, vel, masses_default, source = _inputs(data, velocities)
    n_frames, n_atoms = traj.n_frames, traj.n_atoms
    dt = traj.timestep_fs
    symbols = np.asarray(traj.symbols)
    if masses is None:
        masses = masses_default if masses_default is not None else _masses_of(symbols)
    masses = np.asarray(masses, dtype=float)
    if masses.shape != (n_atoms,) or not np.all(np.isfinite(masses)) or np.any(masses <= 0):
        raise ArgumentError("masses", f"expected {n_atoms} positive masses (amu), got {masses!r}")
    if not isinstance(mass_weighted, bool):
        raise ArgumentError("mass_weighted", f"expected True or False, got {mass_weighted!r}")
    if not (isinstance(skip_ps, (int, float)) and math.isfinite(skip_ps) and skip_ps >= 0):
        raise ArgumentError("skip_ps", f"expected a time ≥ 0 ps, got {skip_ps!r}")
    first = round(skip_ps * 1000.0 / dt)

    if vel is not None:
        velocity_source = "velocities"
        n_samples = n_frames - first
    else:
        velocity_source = "finite differences"
        n_samples = n_frames - first - 1
    if n_samples < 8:
        raise ArgumentError(
            "data", f"{n_samples} velocity samples after skip_ps = {skip_ps} ps: need at least 8"
        )
    if segment_ps is None:
        seg = n_samples
    else:
        if not (isinstance(segment_ps, (int, float)) and segment_ps > 0):
            raise ArgumentError("segment_ps", f"expected a time > 0 ps, got {segment_ps!r}")
        seg = round(segment_ps * 1000.0 / dt)
        if not 8 <= seg <= n_samples:
            raise ArgumentError(
                "segment_ps",
                f"{segment_ps} ps is {seg} samples; need 8 to {n_samples} (the run's length)",
            )
    hop = max(1, seg // 2)
    starts = list(range(0, n_samples - seg + 1, hop))
    w = _window_values(window, seg)
    n_fft = 2 * seg
    n_freq = n_fft // 2 + 1
    freqs_per_fs = np.arange(n_freq) / (n_fft * dt)
    correction = np.ones(n_freq)
    if vel is None:
        correction = 1.0 / np.sinc(freqs_per_fs * dt) ** 2

    species = list(dict.fromkeys(symbols.tolist()))
    weight = masses if mass_weighted else np.ones(n_atoms)
    spec_w = {s: np.zeros(n_freq) for s in species}  # Σ weight |X|² per species
    spec_m = np.zeros(n_freq)  # Σ m |X|² (temperature)
    chunk = max(1, _CHUNK_VALUES // (3 * n_fft))
    for a0 in range(0, n_atoms, chunk):
        idx = np.arange(a0, min(a0 + chunk, n_atoms))
        v_all = _velocity_block(traj, vel, idx, first, n_samples)
        for s0 in starts:
            x = np.fft.rfft(v_all[s0 : s0 + seg] * w[:, None, None], n=n_fft, axis=0)
            p = (x.real**2 + x.imag**2).sum(axis=2)  # (n_freq, atoms)
            spec_m += p @ masses[idx]
            for s in species:
                sel = symbols[idx] == s
                if sel.any():
                    spec_w[s] += p[:, sel] @ weight[idx][sel]

    # one-sided: interior bins stand for ±ν
    fold = np.full(n_freq, 2.0)
    fold[0] = fold[-1] = 1.0
    n_seg = len(starts)
    sum_w2 = float(np.sum(w * w))
    dnu_per_fs = 1.0 / (n_fft * dt)
    per_species_raw = {s: spec_w[s] * fold * correction for s in species}
    total_raw = sum(per_species_raw.values())
    norm = float(np.sum(total_raw) * dnu_per_fs)
    if not norm > 0:
        raise ArgumentError("data", "the velocities are zero: no vibrational spectrum")
    # Parseval: Σ_t (w v)² = Σ_k |X_k|² (two-sided) / n_fft
    mean_mv2 = float(np.sum(spec_m * fold * correction)) / (n_fft * sum_w2 * n_seg)
    temperature = mean_mv2 * _EV_PER_AMU_A2_FS2 / (3 * n_atoms * units.kB)

    dnu = dnu_per_fs * 1000.0  # THz
    scale = 3 * n_atoms / (norm * 1000.0)  # per THz
    per_species = {s: per_species_raw[s] * scale for s in species}
    total = total_raw * scale
    freqs = freqs_per_fs * 1000.0
    modes = {s: float(np.sum(per_species[s]) * dnu) for s in species}
    centres, rms = {}, {}
    for s in species:
        g = per_species[s][1:]
        den = float(np.sum(g))
        centres[s] = float(np.sum(freqs[1:] * g) / den) if den > 0 else float("nan")
        rms[s] = float(np.sqrt(np.sum(freqs[1:] ** 2 * g) / den)) if den > 0 else float("nan")

    if mobile is None:
        mobile = next((m for m in MOBILE_IONS if m in species), None)
    elif mobile not in species:
        raise ArgumentError("mobile", f"{mobile!r} is not in the structure ({', '.join(species)})")
    if anion is None:
        anion = _default_anion(species, mobile)
    elif anion not in species:
        raise ArgumentError("anion", f"{anion!r} is not in the structure ({', '.join(species)})")

    nyquist = 1000.0 / (2.0 * dt)
    top = freqs >= 0.9 * nyquist
    frac = float(np.sum(total[top]) * dnu / (3 * n_atoms))
    suspect = frac > ALIASING_THRESHOLD
    if suspect:
        warnings.warn(
            f"{100 * frac:.1f} % of the VDOS lies within 10 % of the Nyquist frequency "
            f"{nyquist:.1f} THz (frames {dt:g} fs apart): higher frequencies alias onto the "
            "spectrum; save frames more often",
            UserWarning,
            stacklevel=2,
        )

    # autocorrelation: Wiener–Khinchin back, divided by the window's own autocorrelation
    acf = np.fft.irfft(sum(spec_w.values()), n=n_fft)[: seg // 2]
    wacf = np.fft.irfft(np.abs(np.fft.rfft(w, n=n_fft)) ** 2, n=n_fft)[: seg // 2]
    acf = acf / wacf
    vacf = acf / acf[0] if acf[0] != 0 else acf

    res_bins = _fwhm_bins(w)
    return VDOS(
        frequencies_THz=freqs,
        total=total,
        per_species=per_species,
        modes_per_species=modes,
        band_centres_THz=centres,
        rms_frequencies_THz=rms,
        mobile_element=mobile,
        anion_element=anion,
        mobile_band_centre_THz=centres[mobile] if mobile else float("nan"),
        anion_band_centre_THz=centres[anion] if anion else float("nan"),
        n_atoms=n_atoms,
        temperature_K=float(temperature),
        timestep_fs=float(dt),
        nyquist_THz=float(nyquist),
        resolution_THz=float(res_bins / (seg * dt) * 1000.0),
        segment_frames=int(seg),
        n_segments=int(n_seg),
        window=str(window),
        mass_weighted=mass_weighted,
        velocity_source=velocity_source,
        nyquist_weight_fraction=frac,
        aliasing_suspect=bool(suspect),
        vacf_times_fs=np.arange(seg // 2) * dt,
        vacf=vacf,
        source={**source, "skip_ps": float(skip_ps), "first_frame": first},
    )


def _inputs(data: Any, velocities: np.ndarray | None):
    """(trajectory, velocities or None, masses or None, source) from the accepted inputs."""
    masses = None
    if isinstance(data, Trajectory):
        traj = data
        source = {"trajectory": dict(traj.source)}
    elif hasattr(data, "trajectory") and hasattr(data, "masses") and hasattr(data, "settings"):
        traj = data.trajectory()
        masses = np.asarray(data.masses, dtype=float)
        source = {"md_run": str(getattr(data, "workdir", "")), "calculator": data.calculator}
        if velocities is None and getattr(data, "has_velocities", False):
            velocities = data.velocities()
    else:
        raise ArgumentError("data", f"expected an MDRun or a Trajectory, got {type(data).__name__}")
    if velocities is not None:
        velocities = np.asarray(velocities)
        if velocities.shape != traj.positions.shape:
            raise ArgumentError(
                "velocities",
                f"shape {velocities.shape}, expected {traj.positions.shape} (one per frame)",
            )
        if not np.all(np.isfinite(velocities)):
            raise ArgumentError("velocities", "contains NaN or inf")
    elif not traj.unwrapped:
        traj = traj.unwrap()
    return traj, velocities, masses, source


def _velocity_block(traj: Trajectory, vel: np.ndarray | None, idx: np.ndarray, first: int,
                    n_samples: int) -> np.ndarray:  # fmt: skip
    """(n_samples, len(idx), 3) float64 velocities (Å/fs) of atoms ``idx``."""
    if vel is not None:
        return np.asarray(vel[first : first + n_samples][:, idx], dtype=np.float64)
    pos = np.asarray(traj.positions[first : first + n_samples + 1][:, idx], dtype=np.float64)
    return np.diff(pos, axis=0) / traj.timestep_fs
