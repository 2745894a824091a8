"""Lattice-dynamics descriptors of ion mobility from a phonopy object.

All descriptors come from one Γ-centred mesh (default 8×8×8 on the primitive cell, symmetry-
reduced with weights) with eigenvectors, plus the force constants and a few q-points near Γ:

- per-element projected DOS: mode (q, ν) counts for element X with weight
  w_q · Σ_{j∈X} |e_j(qν)|², the mass-weighted eigenvector squared on the atoms of X (per-element
  sums are invariant under the crystal's symmetry, so the reduced mesh is exact);
- band centre of X: first moment Σ w ν P_X / Σ w P_X over *positive* modes only (ν > 0, the three
  Γ acoustic modes excluded): imaginary modes never enter an average (Muy et al., Energy Environ.
  Sci. 2018 / iScience 2019 descriptors; seed 000 §3.5.3, "average phonon frequency of Li");
- mobile-ion RMS frequency ⟨ν²⟩^{1/2} over the same modes;
- mobile-ion mean-square displacement at T (Å²): our own sum over the same positive modes,
  ⟨u_j²⟩ = (1/N_q) Σ w_q |e_j|² ħ (n_B + ½)/(m_j ω), the formula of phonopy's
  ``ThermalDisplacements`` with ``exclude_gamma_acoustic=True`` (tests check the two agree);
  with imaginary modes present this is a lower bound (those modes are left out);
- acoustic Debye temperature from sound velocities: slopes ν/|q| of the three acoustic branches
  (picked by their overlap with rigid translations) at |q| = δ and 2δ along quasi-uniform
  directions, Richardson-extrapolated to q → 0; the Debye mean velocity 3/v_m³ = ⟨Σ_i v_i⁻³⟩
  over directions; θ_D = ħ/k_B (6π² N/V)^{1/3} v_m with N/V the atom number density
  (not phonopy's Debye fit of the DOS, which is meaningless with imaginary modes);
- lattice softness: the on-site force constant of the mobile ion, k = tr(Φ_jj)/3 (eV/Å²), the
  spring constant of its cage (the "lattice stiffness" of seed 000 §3.5.3; a softer cage means
  the softer low-energy optical modes that seed 003 §6 links to faster ions), with the Einstein
  frequency (1/2π)√(k/m) it implies. Identity used in the tests: m ⟨ω²⟩ over *all* modes of a
  mesh commensurate with the supercell (without NAC) equals k;
- imaginary modes: minimum mesh frequency, fraction of mesh modes below −0.1 THz, a flag.

Units: THz (cycles per ps, not angular), K, Å², eV/Å², m/s.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd
from scipy import constants as sc

from lilib.errors import ArgumentError
from lilib.phonons.io import PhononData

__all__ = [
    "DEFAULT_MESH",
    "IMAGINARY_THRESHOLD_THZ",
    "LatticeDynamics",
    "acoustic_velocities",
    "lattice_dynamics",
    "mobile_msd_A2",
]

#: Default Γ-centred mesh (per reciprocal axis of the primitive cell).
DEFAULT_MESH = 8
#: Mesh modes below this frequency (THz) count as imaginary.
IMAGINARY_THRESHOLD_THZ = -0.1
MOBILE_IONS = ("Li", "Na")

_THZ_A_TO_M_S = 100.0  # 1 THz·Å = 1e12 s⁻¹ · 1e-10 m
#: ``format`` tag of :meth:`LatticeDynamics.to_dict`
DICT_FORMAT = "lilib.phonons.LatticeDynamics/1"
_DICT_ARRAYS = ("sound_velocities_m_s", "dos_frequencies_THz")
_DICT_BOOLS = ("acoustic_stable", "has_imaginary_modes", "born_used")
_DICT_INTS = ("n_irreducible_qpoints", "n_atoms_primitive")
_DICT_STRS = (
    "label",
    "formula",
    "source",
    "mobile_element",
    "anion_element",
    "primitive_matrix_source",
)


def _plain(value: Any) -> Any:
    """JSON types: arrays and tuples as lists, numpy scalars as Python ones, NaN/inf as None."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _floats(values: Any) -> np.ndarray:
    return np.array([_float(v) for v in values], dtype=float)


@dataclass(frozen=True, eq=False)
class LatticeDynamics:
    """Lattice-dynamics descriptors of one material (units in the names).

    Band centres (first moments of the projected DOS over positive modes): ``band_centres_THz``
    for every element, ``mobile_band_centre_THz`` (also the mean mobile-ion frequency, see
    :attr:`mobile_mean_frequency_THz`) and ``anion_band_centre_THz``; ``mobile_rms_frequency_THz``
    = ⟨ν²⟩^{1/2}. ``mobile_msd_A2``: mean-square displacement of a mobile ion at
    ``temperature_K`` (Å², mean over mobile atoms, positive modes only). ``debye_temperature_K``
    from the acoustic sound velocities ``sound_velocities_m_s`` (direction-averaged, slow
    transverse, fast transverse, longitudinal) and the Debye mean ``debye_velocity_m_s``; NaN when
    an acoustic branch is unstable near Γ (``acoustic_stable`` False). Softness:
    ``mobile_force_constant_eV_A2`` = tr(Φ_jj)/3 of the mobile ion and
    ``mobile_einstein_frequency_THz``. Imaginary modes: ``min_frequency_THz``,
    ``imaginary_fraction`` (weighted share of mesh modes below ``imaginary_threshold_THz``),
    ``has_imaginary_modes``. Provenance: ``label``, ``source``, ``mesh``, ``born_used``,
    ``primitive_matrix_source``. Curves for plots: ``dos_frequencies_THz``, ``pdos_per_THz``
    (states/THz per primitive cell, Gaussian width ``dos_sigma_THz``; imaginary modes drawn at
    negative frequency).
    """

    label: str
    formula: str
    source: str
    mobile_element: str
    anion_element: str
    band_centres_THz: dict[str, float]
    mobile_band_centre_THz: float
    anion_band_centre_THz: float
    mobile_rms_frequency_THz: float
    mobile_msd_A2: float
    temperature_K: float
    debye_temperature_K: float
    debye_velocity_m_s: float
    sound_velocities_m_s: np.ndarray
    acoustic_stable: bool
    mobile_force_constant_eV_A2: float
    mobile_einstein_frequency_THz: float
    min_frequency_THz: float
    imaginary_fraction: float
    has_imaginary_modes: bool
    imaginary_threshold_THz: float
    mesh: tuple[int, int, int]
    n_irreducible_qpoints: int
    born_used: bool
    primitive_matrix_source: str
    n_atoms_primitive: int
    volume_A3: float
    dos_frequencies_THz: np.ndarray = field(repr=False)
    pdos_per_THz: dict[str, np.ndarray] = field(repr=False)
    dos_sigma_THz: float = 0.2

    @property
    def mobile_mean_frequency_THz(self) -> float:
        """Mean mobile-ion phonon frequency (THz): the mobile-ion band centre (first moment)."""
        return self.mobile_band_centre_THz

    def to_dataframe(self) -> pd.DataFrame:
        """One row (index: label) with every scalar descriptor and flag."""
        row = {
            "formula": self.formula,
            "mobile": self.mobile_element,
            "anion": self.anion_element,
            "mobile_band_centre_THz": self.mobile_band_centre_THz,
            "anion_band_centre_THz": self.anion_band_centre_THz,
            "mobile_rms_frequency_THz": self.mobile_rms_frequency_THz,
            "mobile_msd_A2": self.mobile_msd_A2,
            "temperature_K": self.temperature_K,
            "debye_temperature_K": self.debye_temperature_K,
            "debye_velocity_m_s": self.debye_velocity_m_s,
            "v_transverse_slow_m_s": self.sound_velocities_m_s[0],
            "v_transverse_fast_m_s": self.sound_velocities_m_s[1],
            "v_longitudinal_m_s": self.sound_velocities_m_s[2],
            "acoustic_stable": self.acoustic_stable,
            "mobile_force_constant_eV_A2": self.mobile_force_constant_eV_A2,
            "mobile_einstein_frequency_THz": self.mobile_einstein_frequency_THz,
            "min_frequency_THz": self.min_frequency_THz,
            "imaginary_fraction": self.imaginary_fraction,
            "has_imaginary_modes": self.has_imaginary_modes,
            "mesh": "x".join(map(str, self.mesh)),
            "born_used": self.born_used,
            "primitive_matrix_source": self.primitive_matrix_source,
            "source": self.source,
        }
        for el, c in self.band_centres_THz.items():
            row[f"band_centre_{el}_THz"] = c
        return pd.DataFrame([row], index=pd.Index([self.label], name="label"))

    def to_dict(self) -> dict[str, Any]:
        """Every field in plain JSON types (``json.dumps`` takes it as it is): arrays and the
        mesh as lists, dicts of arrays as dicts of lists, NaN (and ±inf) as None; plus
        ``"format"``. :meth:`from_dict` inverts it exactly (NaN back from None).
        """
        out: dict[str, Any] = {"format": DICT_FORMAT}
        for f in fields(self):
            out[f.name] = _plain(getattr(self, f.name))
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LatticeDynamics:
        """The :class:`LatticeDynamics` written by :meth:`to_dict` (also after a JSON round trip).

        Raises :class:`~lilib.errors.ArgumentError` for another ``format`` or missing fields;
        keys it does not know are ignored.
        """
        if not isinstance(data, Mapping):
            raise ArgumentError(
                "data", f"expected a dict from to_dict(), got {type(data).__name__}"
            )
        if data.get("format", DICT_FORMAT) != DICT_FORMAT:
            raise ArgumentError("data", f"format {data.get('format')!r}, expected {DICT_FORMAT!r}")
        required = [f.name for f in fields(cls) if f.default is MISSING]
        missing = [name for name in required if name not in data]
        if missing:
            raise ArgumentError("data", f"missing fields {missing}")
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            if f.name in _DICT_ARRAYS:
                value = _floats(value)
            elif f.name == "pdos_per_THz":
                value = {str(el): _floats(y) for el, y in value.items()}
            elif f.name == "band_centres_THz":
                value = {str(el): _float(c) for el, c in value.items()}
            elif f.name == "mesh":
                value = tuple(int(n) for n in value)
            elif f.name in _DICT_BOOLS:
                value = bool(value)
            elif f.name in _DICT_INTS:
                value = int(value)
            elif f.name in _DICT_STRS:
                value = str(value)
            else:
                value = _float(value)
            kwargs[f.name] = value
        return cls(**kwargs)

    def pdos_dataframe(self) -> pd.DataFrame:
        """Projected DOS curves: frequency (THz) and states/THz per element and in total."""
        data = {"frequency_THz": self.dos_frequencies_THz}
        for el, y in self.pdos_per_THz.items():
            data[f"{el}_per_THz"] = y
        data["total_per_THz"] = sum(self.pdos_per_THz.values())
        return pd.DataFrame(data)

    def plot(self, ax=None):
        """Projected DOS per element with band-centre markers; returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(6, 3.5))[1]
        f = self.dos_frequencies_THz
        colours = {}
        for el, y in self.pdos_per_THz.items():
            (line,) = ax.plot(f, y, label=el, lw=1.2)
            colours[el] = line.get_color()
        for el, style in ((self.mobile_element, "--"), (self.anion_element, ":")):
            c = self.band_centres_THz[el]
            ax.axvline(c, color=colours[el], ls=style, lw=1.2, label=f"{el} centre {c:.2f} THz")
        if self.has_imaginary_modes:
            ax.axvspan(f[0], 0.0, color="0.85", zorder=0, label="imaginary (excluded)")
        ax.set_xlabel("frequency (THz)")
        ax.set_ylabel("projected DOS (states/THz)")
        ax.set_title(f"{self.formula} ({self.label})")
        ax.set_xlim(f[0], f[-1])
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
        return ax


def _mesh_numbers(mesh) -> tuple[int, int, int]:
    arr = np.atleast_1d(np.asarray(mesh))
    if arr.size == 1:
        arr = np.repeat(arr, 3)
    if arr.shape != (3,) or not np.all(np.equal(np.mod(arr, 1), 0)) or np.any(arr < 1):
        raise ArgumentError("mesh", f"expected a positive integer or three, got {mesh!r}")
    return tuple(int(x) for x in arr)


def _fibonacci_directions(n: int) -> np.ndarray:
    """n quasi-uniform unit vectors on the upper hemisphere (golden-angle spiral).

    A hemisphere suffices: ν(q) = ν(−q) (time reversal), so sound velocities are even in q.
    """
    i = np.arange(n) + 0.5
    z = 1.0 - i / n  # uniform in z ∈ (0, 1] → uniform in area on the hemisphere
    phi = np.pi * (1.0 + 5.0**0.5) * i
    r = np.sqrt(1.0 - z * z)
    return np.column_stack([r * np.cos(phi), r * np.sin(phi), z])


def acoustic_velocities(
    phonon, n_directions: int = 100, dq: float = 0.005
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Sound velocities (m/s) of the three acoustic branches along quasi-uniform directions.

    phonon: phonopy object with force constants. n_directions: directions on a hemisphere.
    dq: |q| in 1/Å (without 2π) of the first point; slopes at dq and 2·dq are Richardson-extrapolated to q → 0. Returns (directions
    (n, 3) Cartesian unit vectors, velocities (n, 3) sorted per direction, stable), where
    stable is False when an acoustic frequency at dq is not positive.
    """
    prim = phonon.primitive
    dirs = _fibonacci_directions(n_directions)
    q_cart = np.concatenate([dirs * dq, dirs * 2 * dq])
    q_red = q_cart @ np.asarray(prim.cell).T  # q_red_i = a_i · q_cart
    phonon.run_qpoints(q_red, with_eigenvectors=True)
    freqs = np.asarray(phonon.qpoints.frequencies)
    vecs = np.asarray(phonon.qpoints.eigenvectors)
    masses = np.asarray(prim.masses)
    trans = np.zeros((3 * len(masses), 3))
    for a in range(3):
        trans[a::3, a] = np.sqrt(masses)
    trans /= np.linalg.norm(trans, axis=0)
    weight = np.zeros(freqs.shape)
    for a in range(3):
        weight += np.abs(np.einsum("k,qkn->qn", trans[:, a], vecs)) ** 2
    idx = np.argsort(-weight, axis=1)[:, :3]
    acoustic = np.take_along_axis(freqs, idx, axis=1)
    acoustic.sort(axis=1)
    stable = bool(np.all(acoustic[:n_directions] > 0))
    v1 = acoustic[:n_directions] / dq * _THZ_A_TO_M_S
    v2 = acoustic[n_directions:] / (2 * dq) * _THZ_A_TO_M_S
    return dirs, (4 * v1 - v2) / 3, stable


def _debye(phonon, n_directions: int, dq: float):
    _, v, stable = acoustic_velocities(phonon, n_directions, dq)
    prim = phonon.primitive
    density = len(prim) / prim.volume * 1e30  # atoms / m³
    if not stable or np.any(v <= 0):
        return np.full(3, np.nan), np.nan, np.nan, False
    v_m = (3.0 / np.mean(np.sum(v**-3.0, axis=1))) ** (1.0 / 3.0)
    theta = sc.hbar / sc.k * (6 * np.pi**2 * density) ** (1.0 / 3.0) * v_m
    return v.mean(axis=0), float(v_m), float(theta), True


def _onsite_force_constants(phonon) -> np.ndarray:
    """tr(Φ_jj)/3 (eV/Å² in phonopy's VASP units) for every atom of the primitive cell."""
    fc = np.asarray(phonon.force_constants)
    p2s = np.asarray(phonon.primitive.p2s_map)
    # full (n_supercell, n_supercell, 3, 3) or compact (n_primitive, n_supercell, 3, 3)
    rows = p2s if fc.shape[0] == fc.shape[1] else np.arange(len(p2s))
    blocks = fc[rows, p2s]
    return np.trace(blocks, axis1=1, axis2=2) / 3.0


def _default_anion(symbols: Sequence[str], mobile: str) -> str:
    from pymatgen.core import Element

    others = sorted(set(symbols) - {mobile})
    if not others:
        raise ArgumentError("anion", f"the structure holds only {mobile}; no anion to choose")
    return max(others, key=lambda s: Element(s).X)


def lattice_dynamics(
    phonons,
    *,
    mesh: int | Sequence[int] = DEFAULT_MESH,
    temperature_K: float = 300.0,
    mobile: str | None = None,
    anion: str | None = None,
    imaginary_threshold_THz: float = IMAGINARY_THRESHOLD_THZ,
    dos_sigma_THz: float = 0.2,
    n_directions: int = 100,
    dq: float = 0.005,
    label: str | None = None,
    source: str | None = None,
) -> LatticeDynamics:
    """Lattice-dynamics descriptors of one material.

    phonons: a :class:`~lilib.phonons.io.PhononData` (from :func:`load_phonons`) or a phonopy
        object with force constants (its mesh and q-point results are overwritten).
    mesh: Γ-centred mesh on the primitive cell (int n → n×n×n; default 8).
    temperature_K: temperature of the mean-square displacement.
    mobile: mobile-ion element (default: Li if present, else Na).
    anion: anion element (default: the most electronegative element other than the mobile ion,
        e.g. S in Li3PS4, H in LiBH4).
    imaginary_threshold_THz: mesh modes below this count as imaginary (default −0.1 THz).
    n_directions, dq: directions (hemisphere) and |q| (1/Å, no 2π) of the sound-velocity slopes.
    dos_sigma_THz: Gaussian width of the plotted DOS curves (the numbers use no smearing).
    label, source: names for the result (default: the folder name and path, or the formula and
        'phonopy object'; e.g. source='SevenNet-0' for force constants from a calculator).
    """
    if isinstance(phonons, PhononData):
        ph = phonons.phonopy
        default_source, born_used, pm_source = (
            str(phonons.folder) if phonons.folder is not None else "computed in memory",
            phonons.born_used,
            phonons.primitive_matrix_source,
        )
        default_label = phonons.label
    elif hasattr(phonons, "run_mesh") and hasattr(phonons, "primitive"):
        ph = phonons
        default_source, born_used = "phonopy object", ph.nac_params is not None
        pm_source = "phonopy object"
        default_label = None
    else:
        raise ArgumentError(
            "phonons", f"expected PhononData or a phonopy object, got {type(phonons).__name__}"
        )
    if ph.force_constants is None:
        raise ArgumentError("phonons", "the phonopy object has no force constants")
    if not temperature_K >= 0:
        raise ArgumentError("temperature_K", f"must be ≥ 0, got {temperature_K!r}")
    mesh_n = _mesh_numbers(mesh)
    prim = ph.primitive
    symbols = list(prim.symbols)
    masses = np.asarray(prim.masses, dtype=float)
    elements = list(dict.fromkeys(symbols))
    if mobile is None:
        mobile = next((m for m in MOBILE_IONS if m in symbols), None)
        if mobile is None:
            raise ArgumentError(
                "mobile", f"no Li or Na in {''.join(elements)}; name the mobile ion"
            )
    elif mobile not in symbols:
        raise ArgumentError("mobile", f"{mobile!r} is not in the structure ({', '.join(elements)})")
    if anion is None:
        anion = _default_anion(symbols, mobile)
    elif anion not in symbols:
        raise ArgumentError("anion", f"{anion!r} is not in the structure ({', '.join(elements)})")

    ph.run_mesh(mesh_n, with_eigenvectors=True, is_gamma_center=True, is_mesh_symmetry=True)
    m = ph.mesh
    freqs = np.asarray(m.frequencies)  # (nq, nb), THz, imaginary as negative
    weights = np.asarray(m.weights, dtype=float)
    vecs = np.asarray(m.eigenvectors)  # (nq, 3n, nb): columns are modes
    n_atoms = len(symbols)
    proj = (np.abs(vecs) ** 2).reshape(len(freqs), n_atoms, 3, -1).sum(axis=2)  # (nq, atom, band)
    proj = proj.transpose(0, 2, 1)  # (nq, band, atom)
    nq_total = float(weights.sum())

    gamma = np.flatnonzero(np.all(np.abs(np.asarray(m.qpoints)) < 1e-10, axis=1))
    positive = freqs > 0.0
    if gamma.size:
        g = gamma[0]
        positive[g, np.argsort(np.abs(freqs[g]))[:3]] = False  # Γ acoustic modes: zero by ASR
    w_pos = weights[:, None] * positive  # (nq, band)

    centres, rms = {}, {}
    for el in elements:
        p_el = proj[:, :, [i for i, s in enumerate(symbols) if s == el]].sum(axis=2)
        norm = np.sum(w_pos * p_el)
        centres[el] = float(np.sum(w_pos * p_el * freqs) / norm)
        rms[el] = float(np.sqrt(np.sum(w_pos * p_el * freqs**2) / norm))

    # Mean-square displacement (Å²) of the mobile atoms: positive modes, Γ acoustic excluded.
    f_pos = np.where(positive, freqs, 1.0)
    omega = 2 * np.pi * f_pos * 1e12
    if temperature_K > 0:
        x = sc.h * f_pos * 1e12 / (sc.k * temperature_K)
        occupation = 1.0 / np.expm1(np.minimum(x, 700.0)) + 0.5
    else:
        occupation = np.full_like(f_pos, 0.5)
    amp = np.where(positive, sc.hbar * occupation / omega, 0.0) * weights[:, None]  # J s · s
    mobile_idx = [i for i, s in enumerate(symbols) if s == mobile]
    msd = [
        float(np.sum(amp * proj[:, :, j]) / nq_total / (masses[j] * sc.atomic_mass) * 1e20)
        for j in mobile_idx
    ]

    k_onsite = _onsite_force_constants(ph)[mobile_idx]
    k_mobile = float(np.mean(k_onsite))
    m_mobile = float(np.mean(masses[mobile_idx]))
    if k_mobile > 0:
        einstein = float(
            np.sqrt(k_mobile * sc.eV / 1e-20 / (m_mobile * sc.atomic_mass)) / (2 * np.pi) / 1e12
        )
    else:
        einstein = float("nan")

    w_all = np.repeat(weights[:, None], freqs.shape[1], axis=1)
    f_min = float(freqs.min())
    imag_frac = float(np.sum(w_all * (freqs < imaginary_threshold_THz)) / np.sum(w_all))

    v_branches, v_m, theta, stable = _debye(ph, n_directions, dq)

    lo = min(0.0, f_min) - 4 * dos_sigma_THz
    hi = float(freqs.max()) + 4 * dos_sigma_THz
    grid = np.linspace(lo, hi, int(np.ceil((hi - lo) / (dos_sigma_THz / 3))) + 1)
    pdos = {}
    flat_f = freqs.ravel()
    for el in elements:
        p_el = proj[:, :, [i for i, s in enumerate(symbols) if s == el]].sum(axis=2)
        wgt = (weights[:, None] * p_el).ravel() / nq_total
        y = np.zeros_like(grid)
        for start in range(0, flat_f.size, 4096):
            fs, ws = flat_f[start : start + 4096], wgt[start : start + 4096]
            y += (
                ws[:, None] * np.exp(-0.5 * ((grid[None, :] - fs[:, None]) / dos_sigma_THz) ** 2)
            ).sum(0)
        pdos[el] = y / (dos_sigma_THz * np.sqrt(2 * np.pi))

    from pymatgen.core import Composition

    formula = Composition("".join(symbols)).reduced_formula
    return LatticeDynamics(
        label=label or default_label or formula,
        formula=formula,
        source=source or default_source,
        mobile_element=mobile,
        anion_element=anion,
        band_centres_THz=centres,
        mobile_band_centre_THz=centres[mobile],
        anion_band_centre_THz=centres[anion],
        mobile_rms_frequency_THz=rms[mobile],
        mobile_msd_A2=float(np.mean(msd)),
        temperature_K=float(temperature_K),
        debye_temperature_K=theta,
        debye_velocity_m_s=v_m,
        sound_velocities_m_s=v_branches,
        acoustic_stable=stable,
        mobile_force_constant_eV_A2=k_mobile,
        mobile_einstein_frequency_THz=einstein,
        min_frequency_THz=f_min,
        imaginary_fraction=imag_frac,
        has_imaginary_modes=f_min < imaginary_threshold_THz,
        imaginary_threshold_THz=float(imaginary_threshold_THz),
        mesh=mesh_n,
        n_irreducible_qpoints=len(freqs),
        born_used=bool(born_used),
        primitive_matrix_source=pm_source,
        n_atoms_primitive=n_atoms,
        volume_A3=float(prim.volume),
        dos_frequencies_THz=grid,
        pdos_per_THz=pdos,
        dos_sigma_THz=float(dos_sigma_THz),
    )


#: Other names of the same fields (e.g. :class:`lilib.phonons.DescriptorCurves`).
_ALIASES = {
    "dos_frequencies_THz": "frequencies_THz",
    "dos_sigma_THz": "sigma_THz",
    "mobile_element": "mobile",
    "anion_element": "anion",
}


def descriptor_field(obj: Any, name: str, default: Any = MISSING) -> Any:
    """``obj.name`` or ``obj[name]`` (LatticeDynamics, DescriptorCurves or a mapping).

    Without ``default``, a missing field raises :class:`ArgumentError`.
    """
    for key in (name, _ALIASES.get(name)):
        if key is None:
            continue
        if isinstance(obj, Mapping):
            if key in obj:
                return obj[key]
        elif hasattr(obj, key):
            return getattr(obj, key)
    if default is MISSING:
        raise ArgumentError("ld", f"has no {name!r} (expected a LatticeDynamics or its fields)")
    return default


def _dos_msd_A2(freqs: np.ndarray, pdos: np.ndarray, mass_amu: float, temperatures, nu_c: float):
    """⟨u²⟩ (Å²) per atom from a projected DOS curve, ν ≤ ν_c replaced by the Debye law ∝ ν²."""
    n_atoms = np.trapezoid(pdos, freqs) / 3.0  # a pDOS holds 3 states per atom
    if not n_atoms > 0:
        raise ArgumentError("ld", "the mobile-ion projected DOS holds no states")
    pos = freqs > 0.0
    nu, g = freqs[pos], pdos[pos].copy()
    if nu.size < 2 or nu_c >= nu[-1]:
        raise ArgumentError("ld", "the DOS curve has too few positive frequencies")
    low = nu < nu_c
    g[low] = np.interp(nu_c, nu, pdos[pos]) * (nu[low] / nu_c) ** 2
    out = []
    for t in temperatures:
        if t > 0:
            x = np.minimum(sc.h * nu * 1e12 / (2 * sc.k * t), 350.0)
            occupation = 0.5 / np.tanh(x)  # n_B + ½ = ½ coth(hν / 2k_BT)
        else:
            occupation = np.full_like(nu, 0.5)
        integrand = g * sc.hbar * occupation / (2 * np.pi * nu * 1e12)  # per THz
        out.append(np.trapezoid(integrand, nu) / (mass_amu * sc.atomic_mass * n_atoms) * 1e20)
    return np.asarray(out)


def mobile_msd_A2(ld, temperature_K, *, anchored: bool | None = None):
    """Mean-square displacement ⟨u²⟩ (Å², all three directions) of a mobile ion at any T.

    ld: a :class:`LatticeDynamics`, the :class:`~lilib.phonons.DescriptorCurves` of shipped
    data, or a mapping with the same fields. temperature_K: a temperature (K) or an array of
    them; returns a float or an array of the same shape.

    The harmonic formula on the stored mobile-ion projected DOS g(ν) (states/THz per cell, 3
    per atom, so the number of mobile atoms n is ∫g/3):

        ⟨u²⟩ = ħ/(2 m n) ∫_{ν>0} g(ν)/(2πν) · coth(hν / 2k_BT) dν,

    i.e. the sum of :func:`lattice_dynamics` over modes, with n_B + ½ = ½ coth(hν/2k_BT).
    The stored curve is Gaussian-smeared (width σ = ``dos_sigma_THz``), which spreads the
    acoustic modes onto ν → 0 where 1/ν² (high T) diverges; below ν_c = 3σ the curve is
    therefore replaced by the Debye law g(ν_c)(ν/ν_c)². Modes at negative (imaginary)
    frequency are left out, as in :func:`lattice_dynamics`. On the spring model of the tests
    and on PBEsol LiF and Li2O this is within 1 % of the mode sum from 0 to 1000 K.

    With imaginary modes (``has_imaginary_modes``) the harmonic ⟨u²⟩ is ill-defined: the few
    positive modes next to the instability dominate it (∝ 1/ν²), the mode sum itself changes
    with the mesh and this curve estimate can differ from it by tens of per cent. Quote it,
    if at all, as a rough lower bound.

    anchored: scale the curve result so that at ``ld.temperature_K`` it equals the exact mode
    sum ``ld.mobile_msd_A2`` (the ratio of the two is nearly independent of T, so the scaled
    value inherits the mode sum's accuracy; this also removes any mass-table difference).
    None (default): anchored when ``ld`` carries both numbers (a LatticeDynamics does, DOS
    curves alone do not). Unanchored, the mass is ASE's standard atomic mass of the element.
    """
    from ase.data import atomic_masses, atomic_numbers

    t = np.asarray(temperature_K, dtype=float)
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ArgumentError("temperature_K", f"must be ≥ 0 K, got {temperature_K!r}")
    element = str(descriptor_field(ld, "mobile_element"))
    pdos = descriptor_field(ld, "pdos_per_THz")
    if element not in pdos:
        raise ArgumentError("ld", f"no projected DOS of the mobile ion {element!r}")
    freqs = np.asarray(descriptor_field(ld, "dos_frequencies_THz"), dtype=float)
    g = np.asarray(pdos[element], dtype=float)
    if freqs.ndim != 1 or g.shape != freqs.shape:
        raise ArgumentError("ld", f"DOS curve of {freqs.shape} frequencies and {g.shape} values")
    nu_c = 3.0 * float(descriptor_field(ld, "dos_sigma_THz", 0.2))
    mass = float(atomic_masses[atomic_numbers[element]])
    values = _dos_msd_A2(freqs, g, mass, t.ravel(), nu_c)
    t0, exact = (
        descriptor_field(ld, "temperature_K", None),
        descriptor_field(ld, "mobile_msd_A2", None),
    )
    if anchored is None:
        anchored = t0 is not None and exact is not None
    if anchored:
        if t0 is None or exact is None:
            raise ArgumentError(
                "anchored", "ld has no mobile_msd_A2 at a temperature_K to anchor to"
            )
        t0, exact = float(t0), float(exact)
        if not (math.isfinite(exact) and exact > 0):
            raise ArgumentError("ld", f"mobile_msd_A2 = {exact!r}: cannot anchor (anchored=False)")
        values = values * exact / _dos_msd_A2(freqs, g, mass, [t0], nu_c)[0]
    return float(values[0]) if t.ndim == 0 else values.reshape(t.shape)
