"""Harmonic transition-state theory (Vineyard 1957): attempt frequency, migration entropy, rates.

From the normal-mode frequencies of the initial minimum (3N real modes) and of the saddle point
(3N − 1 real modes and one imaginary mode along the hop), Vineyard's effective frequency is

    ν* = Π_{i=1}^{3N} ν_i / Π_{i=1}^{3N−1} ν'_i                          (seed 003, eq. 4)

with ν in cycles per time (THz here). Seed 003 prints eq. 4 with an extra 1/(2π); that factor
belongs to the same formula written with angular frequencies ω = 2πν and is *not* applied
here (the 1-D harmonic well, where ν* must equal the well frequency, is in the tests). The jump
rate is Γ = ν* exp(−E_a/k_B T) (seed 003 eq. 4; seed 000 eq. 33) and the diffusion prefactor in
d dimensions, for z equivalent target sites at hop length a and correlation factor f,

    D0 = f z a² ν* / (2d)      (seed 000 eqs. 32, 34, 36; d = 3: D0 = z a² ν*/6).

Migration entropy: with an attempt frequency ν0, ν* = ν0 exp(S_m/k_B) (seed 000 eq. 33,
seed 003 eq. 2), so S_m/k_B = ln(ν*/ν0). When Hessians are given, ν0 defaults to the curvature
of the initial well along the saddle's unstable direction u (mass-weighted, unit length):
ν0 = (1/2π) √(uᵀ D_initial u); in a separable model this is the frequency of the hopping mode
and S_m is the entropy of the 3N − 1 transverse modes. Seed 003 eq. 3 instead defines
S/k_B = Σ ln(hν_i/k_BT) − Σ ln(hν'_i/k_BT) = ln(hν*/k_BT) (T-dependent): available through
``migration_entropy_kB(temperature_K=...)``.

Zero modes: a periodic cell with every atom free has three translational modes of zero
frequency in both states; they are removed (projected out of a Hessian exactly, or dropped from
frequency lists after checking they are near zero), so 3N − 3 and 3N − 4 real modes enter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import constants as sc

from lilib import provenance
from lilib.errors import ArgumentError

__all__ = [
    "HarmonicTST",
    "frequencies_from_hessian",
    "vineyard",
    "vineyard_from_hessians",
]

#: |ν| below this (THz) counts as a zero (translational) mode.
ZERO_MODE_TOL_THZ = 0.05
_KB_EV = sc.k / sc.eV  # eV/K
_A2_THZ_TO_CM2_S = 1e-16 * 1e12  # Å² · THz → cm²/s


@dataclass(frozen=True, eq=False)
class HarmonicTST:
    """Vineyard harmonic transition-state theory for one hop.

    ``initial_frequencies_THz``: the real modes of the minimum that enter ν* (zero modes removed);
    ``saddle_frequencies_THz``: the real modes of the saddle; ``unstable_frequency_THz``: |ν| of
    the saddle's imaginary mode (reported positive; it is imaginary). ``attempt_frequency_THz``:
    ν*. ``reaction_frequency_THz``: ν0, the initial-state frequency along the hop direction
    (None without Hessians). ``n_zero_modes_removed`` per state. ``barrier_eV``: E_a if given.
    """

    initial_frequencies_THz: np.ndarray = field(repr=False)
    saddle_frequencies_THz: np.ndarray = field(repr=False)
    unstable_frequency_THz: float
    attempt_frequency_THz: float
    n_zero_modes_removed: int
    reaction_frequency_THz: float | None = None
    barrier_eV: float | None = None

    def _barrier(self, barrier_eV: float | None) -> float:
        e = self.barrier_eV if barrier_eV is None else barrier_eV
        if e is None:
            raise ArgumentError("barrier_eV", "no barrier given here or when the result was made")
        return float(e)

    def jump_rate_THz(self, temperature_K: float, barrier_eV: float | None = None) -> float:
        """Γ = ν* exp(−E_a/k_B T) in THz (rate of one hop to one target site)."""
        if not temperature_K > 0:
            raise ArgumentError("temperature_K", f"must be > 0, got {temperature_K!r}")
        return self.attempt_frequency_THz * float(
            np.exp(-self._barrier(barrier_eV) / (_KB_EV * temperature_K))
        )

    def migration_entropy_kB(
        self, attempt_frequency_THz: float | None = None, temperature_K: float | None = None
    ) -> float:
        """S_m/k_B: ln(ν*/ν0) (ν0 = given or the reaction frequency), or seed 003 eq. 3 at T.

        Give ``temperature_K`` alone for S/k_B = ln(hν*/k_B T) (seed 003 eq. 3); otherwise
        ν0 is ``attempt_frequency_THz`` or, by default, :attr:`reaction_frequency_THz`.
        """
        if temperature_K is not None:
            if attempt_frequency_THz is not None:
                raise ArgumentError(
                    "temperature_K", "give either temperature_K or attempt_frequency_THz"
                )
            if not temperature_K > 0:
                raise ArgumentError("temperature_K", f"must be > 0, got {temperature_K!r}")
            return float(np.log(sc.h * self.attempt_frequency_THz * 1e12 / (sc.k * temperature_K)))
        nu0 = (
            attempt_frequency_THz
            if attempt_frequency_THz is not None
            else self.reaction_frequency_THz
        )
        if nu0 is None:
            raise ArgumentError(
                "attempt_frequency_THz",
                "no reaction-coordinate frequency known (frequencies were given without "
                "Hessians): pass attempt_frequency_THz or temperature_K",
            )
        if not nu0 > 0:
            raise ArgumentError("attempt_frequency_THz", f"must be > 0, got {nu0!r}")
        return float(np.log(self.attempt_frequency_THz / nu0))

    def diffusion_prefactor_cm2_s(
        self,
        hop_length_A: float,
        n_sites: int = 1,
        dimensionality: int = 3,
        correlation_factor: float = 1.0,
    ) -> float:
        """D0 = f z a² ν* / (2d) in cm²/s (seed 000 eqs. 32, 34, 36; z = ``n_sites``)."""
        if not hop_length_A > 0:
            raise ArgumentError("hop_length_A", f"must be > 0, got {hop_length_A!r}")
        if int(n_sites) != n_sites or n_sites < 1:
            raise ArgumentError("n_sites", f"must be a positive integer, got {n_sites!r}")
        if dimensionality not in (1, 2, 3):
            raise ArgumentError("dimensionality", f"must be 1, 2 or 3, got {dimensionality!r}")
        return (
            correlation_factor
            * n_sites
            * hop_length_A**2
            * self.attempt_frequency_THz
            / (2 * dimensionality)
            * _A2_THZ_TO_CM2_S
        )

    def diffusivity_cm2_s(
        self,
        temperature_K: float,
        hop_length_A: float,
        n_sites: int = 1,
        dimensionality: int = 3,
        correlation_factor: float = 1.0,
        barrier_eV: float | None = None,
    ) -> float:
        """D = D0 exp(−E_a/k_B T) in cm²/s."""
        d0 = self.diffusion_prefactor_cm2_s(
            hop_length_A, n_sites, dimensionality, correlation_factor
        )
        return d0 * self.jump_rate_THz(temperature_K, barrier_eV) / self.attempt_frequency_THz

    def to_dataframe(self) -> pd.DataFrame:
        """One row: ν*, ν0, |ν_unstable|, S_m/k_B (vs ν0, when known), mode counts, barrier."""
        s = self.migration_entropy_kB() if self.reaction_frequency_THz else np.nan
        return pd.DataFrame(
            [
                {
                    "attempt_frequency_THz": self.attempt_frequency_THz,
                    "reaction_frequency_THz": self.reaction_frequency_THz,
                    "unstable_frequency_THz": self.unstable_frequency_THz,
                    "migration_entropy_kB": s,
                    "n_initial_modes": self.initial_frequencies_THz.size,
                    "n_saddle_real_modes": self.saddle_frequencies_THz.size,
                    "n_zero_modes_removed": self.n_zero_modes_removed,
                    "barrier_eV": self.barrier_eV,
                }
            ]
        )

    def plot(self, ax=None):
        """Sorted mode frequencies of the minimum and the saddle (imaginary mode negative)."""
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(5, 3))[1]
        ini = np.sort(self.initial_frequencies_THz)
        sad = np.sort(np.concatenate([[-self.unstable_frequency_THz], self.saddle_frequencies_THz]))
        ax.plot(np.arange(ini.size), ini, "o", ms=3, label="initial minimum")
        ax.plot(np.arange(sad.size), sad, "s", ms=3, label="saddle (imaginary < 0)")
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set_xlabel("mode index")
        ax.set_ylabel("frequency (THz)")
        ax.set_title(f"ν* = {self.attempt_frequency_THz:.3g} THz")
        ax.legend(fontsize=8)
        return ax


def frequencies_from_hessian(
    hessian_eV_A2: np.ndarray,
    masses_amu: Sequence[float],
    *,
    remove_translations: bool = False,
    return_vectors: bool = False,
):
    """Signed normal-mode frequencies (THz; imaginary as negative) of a Cartesian Hessian.

    hessian_eV_A2: (3N, 3N) second derivatives of the energy (eV/Å²), symmetrized here.
    masses_amu: N atomic masses. remove_translations: project the three rigid translations out
    of the mass-weighted Hessian and drop those modes (3N − 3 frequencies are returned).
    return_vectors: also return the mass-weighted unit eigenvectors (columns).
    """
    h = np.asarray(hessian_eV_A2, dtype=float)
    m = np.asarray(masses_amu, dtype=float)
    if h.ndim != 2 or h.shape[0] != h.shape[1] or h.shape[0] != 3 * m.size:
        raise ArgumentError(
            "hessian_eV_A2",
            f"expected a ({3 * m.size}, {3 * m.size}) matrix for {m.size} masses, got {h.shape}",
        )
    if np.any(m <= 0):
        raise ArgumentError("masses_amu", "masses must be positive")
    if not np.all(np.isfinite(h)):
        raise ArgumentError("hessian_eV_A2", "contains NaN or inf")
    m3 = np.repeat(m, 3)
    d = 0.5 * (h + h.T) / np.sqrt(np.outer(m3, m3))  # eV/(Å² amu)
    keep = None
    if remove_translations:
        t = np.zeros((3 * m.size, 3))
        for a in range(3):
            t[a::3, a] = np.sqrt(m)
        t /= np.linalg.norm(t, axis=0)
        trans_curv = np.linalg.eigvalsh(t.T @ d @ t)  # curvature along rigid translations
        to_thz = np.sqrt(sc.eV / (1e-20 * sc.atomic_mass)) / (2 * np.pi) / 1e12
        worst = float(np.sqrt(np.abs(trans_curv)).max() * to_thz)
        if worst > ZERO_MODE_TOL_THZ:
            raise ArgumentError(
                "hessian_eV_A2",
                f"not translation invariant (a rigid translation has |ν| = {worst:.3g} THz > "
                f"{ZERO_MODE_TOL_THZ} THz): fixed atoms or an external field? "
                "Use remove_translations=False",
            )
        proj = np.eye(3 * m.size) - t @ t.T
        d = proj @ d @ proj
    evals, evecs = np.linalg.eigh(d)
    if remove_translations:
        in_trans = np.sum((t.T @ evecs) ** 2, axis=0)  # overlap with translation subspace
        keep = np.argsort(in_trans)[: 3 * m.size - 3]
        keep.sort()
        evals, evecs = evals[keep], evecs[:, keep]
    to_thz = np.sqrt(sc.eV / (1e-20 * sc.atomic_mass)) / (2 * np.pi) / 1e12
    freqs = np.sign(evals) * np.sqrt(np.abs(evals)) * to_thz
    return (freqs, evecs) if return_vectors else freqs


def _strip_zero_modes(freqs: np.ndarray, n_zero: int, tol: float, name: str) -> np.ndarray:
    order = np.argsort(np.abs(freqs))
    zero, rest = order[:n_zero], order[n_zero:]
    if n_zero and np.abs(freqs[zero]).max() > tol:
        raise ArgumentError(
            name,
            f"expected {n_zero} zero (translational) modes, but the smallest |ν| are "
            f"{np.sort(np.abs(freqs[zero])).round(4).tolist()} THz (> {tol} THz)",
        )
    kept = freqs[np.sort(rest)]
    soft = kept[np.abs(kept) <= tol]
    if soft.size:
        raise ArgumentError(
            name,
            f"{soft.size} near-zero mode(s) ({soft.round(4).tolist()} THz) beyond the "
            f"{n_zero} translational modes removed: an unconverged structure or free rotation",
        )
    return kept


def vineyard(
    initial_frequencies_THz: Sequence[float],
    saddle_frequencies_THz: Sequence[float],
    *,
    zero_modes: int | None = None,
    zero_tol_THz: float = ZERO_MODE_TOL_THZ,
    barrier_eV: float | None = None,
    reaction_frequency_THz: float | None = None,
) -> HarmonicTST:
    """Vineyard ν* from the 3N signed frequencies (THz, imaginary negative) of both states.

    zero_modes: translational zero modes to remove from each list (0 or 3); None: count the
    modes with |ν| ≤ ``zero_tol_THz`` (they must agree between the states and be 0 or 3).
    Checks: equal lengths, no imaginary mode at the minimum, exactly one at the saddle.
    """
    provenance.cite("vineyard")
    ini = np.asarray(initial_frequencies_THz, dtype=float).ravel()
    sad = np.asarray(saddle_frequencies_THz, dtype=float).ravel()
    if ini.size != sad.size:
        raise ArgumentError(
            "saddle_frequencies_THz",
            f"{sad.size} modes at the saddle but {ini.size} at the minimum (both need all 3N)",
        )
    if ini.size < 1 or not (np.all(np.isfinite(ini)) and np.all(np.isfinite(sad))):
        raise ArgumentError("initial_frequencies_THz", "need finite frequencies")
    if zero_modes is None:
        n_ini = int(np.sum(np.abs(ini) <= zero_tol_THz))
        n_sad = int(np.sum(np.abs(sad) <= zero_tol_THz))
        if n_ini != n_sad or n_ini not in (0, 3):
            raise ArgumentError(
                "zero_modes",
                f"found {n_ini} near-zero modes at the minimum and {n_sad} at the saddle "
                f"(|ν| ≤ {zero_tol_THz} THz); expected 0 or 3 in both (translations). "
                "Give zero_modes explicitly or check the structures",
            )
        zero_modes = n_ini
    if zero_modes not in (0, 3):
        raise ArgumentError("zero_modes", f"must be 0 or 3, got {zero_modes!r}")
    ini = _strip_zero_modes(ini, zero_modes, zero_tol_THz, "initial_frequencies_THz")
    sad = _strip_zero_modes(sad, zero_modes, zero_tol_THz, "saddle_frequencies_THz")
    if np.any(ini < 0):
        raise ArgumentError(
            "initial_frequencies_THz",
            f"the minimum has {int(np.sum(ini < 0))} imaginary mode(s) "
            f"({ini[ini < 0].round(3).tolist()} THz): not a minimum",
        )
    n_imag = int(np.sum(sad < 0))
    if n_imag != 1:
        raise ArgumentError(
            "saddle_frequencies_THz",
            f"a first-order saddle has exactly one imaginary mode; found {n_imag}"
            + (f" ({sad[sad < 0].round(3).tolist()} THz)" if n_imag else ""),
        )
    unstable = float(-sad[sad < 0][0])
    real = sad[sad > 0]
    log_nu = np.sum(np.log(ini)) - np.sum(np.log(real))
    return HarmonicTST(
        initial_frequencies_THz=ini,
        saddle_frequencies_THz=real,
        unstable_frequency_THz=unstable,
        attempt_frequency_THz=float(np.exp(log_nu)),
        n_zero_modes_removed=int(zero_modes),
        reaction_frequency_THz=reaction_frequency_THz,
        barrier_eV=barrier_eV,
    )


def vineyard_from_hessians(
    initial_hessian_eV_A2: np.ndarray,
    saddle_hessian_eV_A2: np.ndarray,
    masses_amu: Sequence[float],
    *,
    remove_translations: bool = True,
    barrier_eV: float | None = None,
    zero_tol_THz: float = ZERO_MODE_TOL_THZ,
) -> HarmonicTST:
    """Vineyard ν* from Cartesian Hessians (eV/Å²) of the minimum and the saddle.

    remove_translations: project the rigid translations out of both (use for a periodic cell
    with every atom free; False when atoms are fixed). Also gives the reaction-coordinate
    frequency ν0 = (1/2π)√(uᵀ D_initial u), u the saddle's unstable mass-weighted mode.
    """
    provenance.cite("vineyard")
    f_ini = frequencies_from_hessian(
        initial_hessian_eV_A2, masses_amu, remove_translations=remove_translations
    )
    f_sad, v_sad = frequencies_from_hessian(
        saddle_hessian_eV_A2,
        masses_amu,
        remove_translations=remove_translations,
        return_vectors=True,
    )
    result = vineyard(f_ini, f_sad, zero_modes=0, zero_tol_THz=zero_tol_THz, barrier_eV=barrier_eV)
    u = v_sad[:, int(np.argmin(f_sad))]
    m3 = np.repeat(np.asarray(masses_amu, dtype=float), 3)
    h0 = np.asarray(initial_hessian_eV_A2, dtype=float)
    curv = float(u @ (0.5 * (h0 + h0.T) / np.sqrt(np.outer(m3, m3))) @ u)  # eV/(Å² amu)
    nu0 = None
    if curv > 0:
        nu0 = float(np.sqrt(curv * sc.eV / (1e-20 * sc.atomic_mass)) / (2 * np.pi) / 1e12)
    return HarmonicTST(
        initial_frequencies_THz=result.initial_frequencies_THz,
        saddle_frequencies_THz=result.saddle_frequencies_THz,
        unstable_frequency_THz=result.unstable_frequency_THz,
        attempt_frequency_THz=result.attempt_frequency_THz,
        n_zero_modes_removed=3 if remove_translations else 0,
        reaction_frequency_THz=nu0,
        barrier_eV=barrier_eV,
    )
