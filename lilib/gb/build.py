"""Periodic bicrystals (two grain boundaries) that keep the bulk stoichiometry and charge neutrality.

>>> from lilib.gb import enumerate_sigma, build_gb, rigid_translation_scan
>>> enumerate_sigma("LiF", (0, 0, 1), 30).to_dataframe()  # Σ and rotation angles about [001]
>>> gb = build_gb("LiF", (0, 0, 1), 5, (3, 1, 0))  # Σ5(310)[001] symmetric tilt
>>> gb.atoms, gb.grain, gb.gb_positions_A, gb.removed, gb.summary()
>>> scan = rigid_translation_scan("LiF", (0, 0, 1), 5, (3, 1, 0), grid=(3, 3), calculator=calc)
>>> scan.best().atoms, scan.to_dataframe()  # γ in J/m² and eV/Å² per in-plane shift

The grains come from pymatgen's :class:`~pymatgen.core.interface.GrainBoundaryGenerator`, with
its overlap removal switched off: that removal deletes single atoms and breaks neutrality
(Li2O Σ3 → Li88O48, −8 e). Close contacts are removed here instead by :data:`RULE`:

1. Contacts are pairs closer than a per-species-pair minimum: ``contact_ratio`` × the shortest
   distance of that pair in the bulk crystal (pairs absent in the bulk: ``contact_ratio`` × the
   sum of covalent radii), or one explicit ``min_distance_A`` for every pair.
2. While a contact remains: take the contact with the smallest distance/minimum ratio (ties:
   lowest atom indices); delete whichever of its two atoms has more contacts (ties: nearer its
   GB plane, then lower index); complete one formula unit of the bulk with atoms of the missing
   species from the same GB's half of the cell, ranked by number of contacts, then distance to
   that GB plane, then index.
3. If that needs more than ``max_removed_fraction`` of the atoms, raise
   :class:`~lilib.errors.ArgumentError` naming the worst remaining pair and its distance.

Whole formula units leave the composition an integer multiple of the bulk formula unit, so the
cell is neutral whenever the formula unit is, and E_bulk per atom is a valid reference for the
GB energy. No atom is ever added. The rule is deterministic: the same input gives the same cell.

Limits: molecular anions (PS4, BH4, PO4) are not kept whole, neither by pymatgen's cut nor by the
removal; polar planes (rocksalt (111)) give grains with a dipole; non-cubic lattices use
pymatgen's rational approximation of the axial ratio, so their CSL is approximate; cells are
rigid (unrelaxed).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lilib.errors import ArgumentError, UnknownStructureError

if TYPE_CHECKING:
    from ase import Atoms
    from pymatgen.core import Structure

__all__ = [
    "EV_PER_A2_TO_J_PER_M2",
    "RULE",
    "GBModel",
    "RemovedAtom",
    "SigmaTable",
    "TranslationScan",
    "build_gb",
    "enumerate_sigma",
    "rigid_translation_scan",
]

EV_PER_A2_TO_J_PER_M2 = 16.021766339999997  # 1 eV/Å² = 1.602176634e-19 J / 1e-20 m²

RULE = (
    "pymatgen GrainBoundaryGenerator grains without overlap removal (rm_ratio=0); contacts = "
    "pairs below the pair minimum (contact_ratio x shortest bulk distance of that species pair, "
    "or min_distance_A); repeat: worst contact (smallest d/d_min, ties lowest indices) -> delete "
    "its atom with more contacts (ties: nearer its GB plane, lower index) and complete one bulk "
    "formula unit from the same GB half with atoms ranked by contacts, distance to that GB plane, "
    "index; stop when no contact is left, fail above max_removed_fraction"
)

_LATTICE_NAMES = {"c": "cubic", "t": "tetragonal", "o": "orthorhombic", "h": "hexagonal"}
_LATTICE_NAMES["r"] = "rhombohedral"
# Conventional → primitive rows in the setting pymatgen's generator expects (FCC, BCC).
_PRIMITIVE_ROWS = {
    "F": np.array([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [0.5, 0.0, 0.5]]),
    "I": np.array([[0.5, 0.5, -0.5], [-0.5, 0.5, 0.5], [0.5, -0.5, 0.5]]),
}


# --------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class SigmaTable:
    """Coincidence-site-lattice Σ values up to ``max_sigma`` for rotations about ``axis``.

    ``angles_deg[k]``: every rotation angle (degrees, ascending) that gives ``sigmas[k]``;
    symmetry-equivalent angles are listed too (e.g. 36.87° and 53.13° for Σ5 about [001]).
    ``lattice_type``: cubic, tetragonal, ...; ``ratio``: pymatgen's rational axial ratio (None
    for cubic).
    """

    axis: tuple[int, int, int]
    max_sigma: int
    lattice_type: str
    ratio: tuple[int, ...] | None
    sigmas: tuple[int, ...]
    angles_deg: tuple[tuple[float, ...], ...]

    def angles(self, sigma: int) -> tuple[float, ...]:
        """Rotation angles (degrees) of one Σ; ArgumentError if this axis has no such Σ."""
        if sigma not in self.sigmas:
            raise ArgumentError(
                "sigma",
                f"Σ{sigma} does not exist for rotations about {_miller(self.axis)} in a "
                f"{self.lattice_type} lattice; available up to Σ{self.max_sigma}: "
                f"{', '.join(str(s) for s in self.sigmas) or 'none'}",
            )
        return self.angles_deg[self.sigmas.index(sigma)]

    def to_dataframe(self) -> pd.DataFrame:
        """One row per (Σ, angle): sigma, angle_deg, smallest (True for the smallest angle)."""
        rows = [
            {"sigma": s, "angle_deg": a, "smallest": k == 0}
            for s, angles in zip(self.sigmas, self.angles_deg)
            for k, a in enumerate(angles)
        ]
        return pd.DataFrame(rows, columns=["sigma", "angle_deg", "smallest"])

    def plot(self, ax: Any = None) -> Any:
        """Rotation angle (°) against Σ; returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        df = self.to_dataframe()
        ax.scatter(df["sigma"], df["angle_deg"], c=np.where(df["smallest"], "C0", "0.7"), s=14)
        ax.set_xlabel("Σ")
        ax.set_ylabel("rotation angle (°)")
        ax.set_title(f"CSL rotations about {_miller(self.axis)} ({self.lattice_type})")
        return ax


@dataclass(frozen=True)
class RemovedAtom:
    """An atom the stoichiometry rule deleted.

    ``index``: in the cell before removal; ``grain``: 0 (lower) or 1 (upper); ``gb``: which GB
    plane's half it came from (0 or 1); ``position_A``: Cartesian (Å) in the output frame;
    ``unit``: number of the formula unit it was removed with (0, 1, ...).
    """

    index: int
    symbol: str
    grain: int
    gb: int
    position_A: tuple[float, float, float]
    unit: int


@dataclass(frozen=True, eq=False)
class GBModel:
    """A periodic bicrystal with two grain boundaries, stoichiometric and neutral.

    Frame: a and b span the GB plane, the GB normal is z (Å); ``gb_positions_A`` are the two GB
    planes' z (0 ≤ z < ``normal_length_A``), each midway between the outermost atoms of the two
    grains: grain 1 lies above the first plane, grain 0 above the second (periodic in z). ``grain``: 0/1 per atom (also ``atoms.arrays['grain']``). ``atoms`` is shared: copy
    it before changing it. ``translation``: in-plane rigid shift of grain 1, fractions of the CSL cell's a, b
    (before ``in_plane_repeat``).
    ``min_distance_A``: shortest interatomic distance in the final cell, between
    ``closest_pair`` (indices in ``atoms``). ``pair_minimum_A``: the contact threshold per
    species pair. ``rule``: :data:`RULE`.
    """

    atoms: Atoms
    grain: np.ndarray
    gb_positions_A: tuple[float, float]
    normal_length_A: float
    area_A2: float
    sigma: int
    axis: tuple[int, int, int]
    plane: tuple[int, int, int]
    kind: str
    rotation_angle_deg: float
    translation: tuple[float, float]
    gap_A: float
    expand_times: int
    in_plane_repeat: tuple[int, int]
    lattice_type: str
    ratio: tuple[int, ...] | None
    formula_unit: dict[str, int]
    n_formula_units: int
    oxidation_states: dict[str, float]
    total_charge: float
    pair_minimum_A: dict[str, float]
    min_distance_A: float
    closest_pair: tuple[int, int]
    n_atoms_before: int
    removed: tuple[RemovedAtom, ...]
    rule: str = RULE
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_atoms(self) -> int:
        """Number of atoms in the final cell."""
        return len(self.atoms)

    @property
    def composition(self) -> dict[str, int]:
        """Element counts of the final cell."""
        symbols, counts = np.unique(self.atoms.get_chemical_symbols(), return_counts=True)
        return {str(s): int(c) for s, c in zip(symbols, counts)}

    def distance_to_gb_A(self) -> np.ndarray:
        """Per atom: z distance (Å) to the nearer GB plane (periodic along the normal)."""
        z = self.atoms.positions[:, 2]
        d = [_circular_abs(z - p, self.normal_length_A) for p in self.gb_positions_A]
        return np.minimum(d[0], d[1])

    def summary(self) -> dict[str, Any]:
        """The scalars of the model as a flat dict (one row of a table)."""
        comp = self.composition
        return {
            "source": self.source,
            "sigma": self.sigma,
            "axis": _miller(self.axis),
            "plane": _miller(self.plane, paren=True),
            "kind": self.kind,
            "rotation_angle_deg": self.rotation_angle_deg,
            "n_atoms": self.n_atoms,
            "composition": "".join(f"{s}{n}" for s, n in comp.items()),
            "n_formula_units": self.n_formula_units,
            "n_removed": len(self.removed),
            "total_charge_e": self.total_charge,
            "min_distance_A": self.min_distance_A,
            "area_A2": self.area_A2,
            "normal_length_A": self.normal_length_A,
            "gb1_z_A": self.gb_positions_A[0],
            "gb2_z_A": self.gb_positions_A[1],
            "translation_a": self.translation[0],
            "translation_b": self.translation[1],
            "gap_A": self.gap_A,
        }

    def to_dataframe(self) -> pd.DataFrame:
        """One row per atom: index, symbol, grain, x_A, y_A, z_A, distance_to_gb_A."""
        pos = self.atoms.positions
        return pd.DataFrame(
            {
                "index": np.arange(len(self.atoms)),
                "symbol": self.atoms.get_chemical_symbols(),
                "grain": self.grain,
                "x_A": pos[:, 0],
                "y_A": pos[:, 1],
                "z_A": pos[:, 2],
                "distance_to_gb_A": self.distance_to_gb_A(),
            }
        )

    def removed_dataframe(self) -> pd.DataFrame:
        """One row per removed atom: index (before removal), symbol, grain, gb, x/y/z (Å), unit."""
        cols = ["index", "symbol", "grain", "gb", "x_A", "y_A", "z_A", "unit"]
        rows = [(r.index, r.symbol, r.grain, r.gb, *r.position_A, r.unit) for r in self.removed]
        return pd.DataFrame(rows, columns=cols)

    def plot(self, ax: Any = None) -> Any:
        """Side view (y against z, Å) coloured by grain, GB planes dashed, removed atoms ×."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        pos = self.atoms.positions
        for g, colour in ((0, "C0"), (1, "C1")):
            sel = self.grain == g
            ax.scatter(pos[sel, 2], pos[sel, 1], s=12, c=colour, label=f"grain {g}")
        if self.removed:
            rem = np.array([r.position_A for r in self.removed])
            ax.scatter(rem[:, 2], rem[:, 1], marker="x", c="k", s=20, label="removed")
        for p in self.gb_positions_A:
            ax.axvline(p, ls="--", c="0.4", lw=1)
        ax.set_xlabel("z along GB normal (Å)")
        ax.set_ylabel("y, in the GB plane (Å)")
        ax.set_title(f"Σ{self.sigma} {_miller(self.plane, paren=True)} {_miller(self.axis)}")
        ax.legend(loc="best", fontsize="small")
        return ax


@dataclass(frozen=True, eq=False)
class TranslationScan:
    """GB cells on a grid of in-plane rigid translations, with energies if a calculator was given.

    ``translations``: (n, 2) fractions of a, b; ``models``: one :class:`GBModel` per row;
    ``energies_eV``: total energies (NaN without a calculator); ``gamma_J_m2`` /
    ``gamma_eV_A2``: γ = (E_GB − N·E_bulk/atom) / (2A) of the unrelaxed cells;
    ``failed``: (translation, reason) of grid points the rule could not build.
    """

    translations: np.ndarray
    models: tuple[GBModel, ...]
    energies_eV: np.ndarray
    bulk_energy_per_atom_eV: float
    gamma_eV_A2: np.ndarray
    gamma_J_m2: np.ndarray
    failed: tuple[tuple[tuple[float, float], str], ...]
    calculator: str | None

    def best(self) -> GBModel:
        """The model with the lowest γ (with no energies: the fewest removed atoms)."""
        if np.all(np.isnan(self.gamma_J_m2)):
            key = [len(m.removed) for m in self.models]
        else:
            key = np.where(np.isnan(self.gamma_J_m2), np.inf, self.gamma_J_m2)
        return self.models[int(np.argmin(key))]

    def to_dataframe(self) -> pd.DataFrame:
        """One row per built translation: shift, atoms, removed, min distance, E, γ."""
        return pd.DataFrame(
            {
                "translation_a": self.translations[:, 0],
                "translation_b": self.translations[:, 1],
                "n_atoms": [m.n_atoms for m in self.models],
                "n_removed": [len(m.removed) for m in self.models],
                "min_distance_A": [m.min_distance_A for m in self.models],
                "energy_eV": self.energies_eV,
                "gamma_eV_A2": self.gamma_eV_A2,
                "gamma_J_m2": self.gamma_J_m2,
            }
        )

    def plot(self, ax: Any = None) -> Any:
        """γ (J/m², or atoms removed without energies) over the translation grid; returns Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        has_e = not np.all(np.isnan(self.gamma_J_m2))
        values = self.gamma_J_m2 if has_e else np.array([len(m.removed) for m in self.models])
        sc = ax.scatter(self.translations[:, 0], self.translations[:, 1], c=values, s=80)
        ax.figure.colorbar(sc, ax=ax, label="γ (J/m²)" if has_e else "atoms removed")
        ax.set_xlabel("translation along a (fraction)")
        ax.set_ylabel("translation along b (fraction)")
        return ax


# --------------------------------------------------------------------------------------------
# input handling


@dataclass(frozen=True)
class _Bulk:
    structure: Structure  # conventional standard cell, plain elements
    generator_input: Structure  # what GrainBoundaryGenerator gets (primitive for cubic F/I)
    lattice_type: str  # one letter, pymatgen's
    ratio: tuple[int, ...] | None
    formula_unit: dict[str, int]
    oxidation_states: dict[str, float]
    metric: np.ndarray  # lattice matrix in which axis/plane indices are read
    source: str
    symprec: float


def _miller(v: Sequence[int], paren: bool = False) -> str:
    body = "".join(str(int(x)) if x >= 0 else f"-{-int(x)}" for x in v)
    return f"({body})" if paren else f"[{body}]"


def _circular_abs(dz: np.ndarray, period: float) -> np.ndarray:
    dz = np.asarray(dz, dtype=float)
    return np.abs(dz - period * np.round(dz / period))


def _int_triple(value: Any, name: str) -> tuple[int, int, int]:
    try:
        arr = np.asarray(value, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ArgumentError(name, f"must be three integers, got {value!r}") from None
    if arr.size != 3 or not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
        raise ArgumentError(name, f"must be three integers (Miller indices), got {value!r}")
    ints = tuple(int(x) for x in arr)
    if ints == (0, 0, 0):
        raise ArgumentError(name, "must not be (0, 0, 0)")
    g = math.gcd(*ints)
    return (ints[0] // g, ints[1] // g, ints[2] // g)


def _as_structure(obj: Any) -> tuple[Structure, dict[str, float] | None, str]:
    """A pymatgen Structure, oxidation states it carries (or None) and a source label."""
    from ase import Atoms
    from pymatgen.core import Structure
    from pymatgen.io.ase import AseAtomsAdaptor

    from lilib import structures

    if isinstance(obj, str):
        s = structures.load_pymatgen(obj)  # UnknownStructureError suggests close names
        return s, dict(structures.info(obj).oxidation_states), structures.info(obj).name
    if isinstance(obj, Atoms):
        if not np.all(obj.pbc) or abs(obj.cell.volume) < 1e-6 or len(obj) == 0:
            raise ArgumentError(
                "structure", "needs atoms in a periodic 3D cell (pbc all True, non-zero volume)"
            )
        s = AseAtomsAdaptor.get_structure(obj)
        oxi = None
        name = obj.info.get("name")
        if isinstance(name, str):
            try:
                oxi = dict(structures.info(name).oxidation_states)
            except UnknownStructureError:
                oxi = None
        return s, oxi, name if isinstance(name, str) else obj.get_chemical_formula()
    if isinstance(obj, Structure):
        if not obj.is_ordered:
            raise ArgumentError("structure", "has partial occupancies: order it first")
        if len(obj) == 0 or obj.volume < 1e-6:
            raise ArgumentError("structure", "is empty or has no volume")
        oxi = None
        states = {}
        for site in obj:
            st = getattr(site.specie, "oxi_state", None)
            if st is None:
                states = {}
                break
            states[site.specie.symbol] = float(st)
        if states:
            oxi = states
        return obj, oxi, obj.composition.reduced_formula
    raise ArgumentError(
        "structure", f"must be a library name, ase.Atoms or pymatgen Structure, got {type(obj)}"
    )


def _prepare(structure: Any, symprec: float, ratio_max_denominator: int, oxidation_states) -> _Bulk:
    from pymatgen.core.interface import GrainBoundaryGenerator
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    s, oxi, source = _as_structure(structure)
    s = s.copy()
    s.remove_oxidation_states()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # spglib's error-handling notice
            sga = SpacegroupAnalyzer(s, symprec=symprec)
            lattice_name = sga.get_lattice_type()
            symbol = sga.get_space_group_symbol()
    except Exception as exc:  # spglib gives up on some non-crystalline inputs
        raise ArgumentError(
            "structure", f"no space group found (symprec={symprec}): {exc}"
        ) from None
    letters = {v: k for k, v in _LATTICE_NAMES.items()}
    if lattice_name not in letters:
        raise ArgumentError(
            "structure",
            f"lattice is {lattice_name} (space group {symbol} at symprec={symprec}); coincidence "
            "site lattices are tabulated for cubic, tetragonal, orthorhombic, hexagonal and "
            "rhombohedral lattices only (a non-crystalline or distorted input reads as triclinic)",
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        conv = sga.get_conventional_standard_structure()
    lat = letters[lattice_name]
    gen_input = conv
    if lat == "c" and symbol[0] in _PRIMITIVE_ROWS:
        gen_input = _primitive_in_pymatgen_setting(conv, _PRIMITIVE_ROWS[symbol[0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gen = GrainBoundaryGenerator(gen_input, symprec=symprec)
        ratio = None if lat == "c" else gen.get_ratio(max_denominator=ratio_max_denominator)
    if ratio is not None and any(r is not None and not 0 < abs(r) <= 1000 for r in ratio):
        raise ArgumentError(
            "structure",
            f"{_LATTICE_NAMES[lat]} axial ratio {ratio} has no usable rational approximation "
            f"(pseudo-cubic cell at symprec={symprec}?): build from the higher-symmetry parent",
        )
    metric = conv.lattice.matrix if lat == "c" else gen.initial_structure.lattice.matrix

    reduced, _ = conv.composition.get_reduced_composition_and_factor()
    formula_unit = {str(el): round(n) for el, n in reduced.items()}
    oxi = _oxidation_states(conv, formula_unit, oxidation_states, oxi)
    return _Bulk(
        conv,
        gen_input,
        lat,
        None if ratio is None else tuple(ratio),
        formula_unit,
        oxi,
        metric,
        source,
        symprec,
    )


def _primitive_in_pymatgen_setting(conv: Structure, rows: np.ndarray) -> Structure:
    from pymatgen.core import Lattice, Structure

    lattice = Lattice(rows @ conv.lattice.matrix)
    frac = lattice.get_fractional_coords(conv.cart_coords)
    frac = np.round(frac - np.floor(frac + 1e-8), 8) % 1.0
    keep: list[int] = []
    for k, f in enumerate(frac):
        if not any(np.all(_circular_abs(f - frac[j], 1.0) < 1e-4) for j in keep):
            keep.append(k)
    prim = Structure(lattice, [conv[k].specie for k in keep], frac[keep])
    if len(prim) * round(conv.volume / lattice.volume) != len(conv):
        raise ArgumentError("structure", "centred cubic cell does not reduce to a primitive cell")
    return prim


def _oxidation_states(conv, formula_unit, given, carried) -> dict[str, float]:
    elements = sorted(formula_unit)
    if given is not None:
        if not isinstance(given, Mapping):
            raise ArgumentError("oxidation_states", f"must map element → charge, got {given!r}")
        missing = [e for e in elements if e not in given]
        if missing:
            raise ArgumentError("oxidation_states", f"no charge for {', '.join(missing)}")
        oxi = {e: float(given[e]) for e in elements}
        where = "oxidation_states"
    elif carried is not None and all(e in carried for e in elements):
        oxi = {e: float(carried[e]) for e in elements}
        where = "structure"
    else:
        guesses = conv.composition.oxi_state_guesses()
        if not guesses:
            raise ArgumentError(
                "structure",
                f"composition {conv.composition.reduced_formula} cannot be made charge-neutral "
                "with common oxidation states; pass oxidation_states={...} if it is meant to be",
            )
        oxi = {e: float(guesses[0][e]) for e in elements}
        where = "structure"
    charge = sum(formula_unit[e] * oxi[e] for e in elements)
    if abs(charge) > 1e-6:
        raise ArgumentError(
            where,
            f"formula unit {formula_unit} with oxidation states {oxi} carries {charge:+g} e: "
            "no stoichiometric cell of it can be neutral",
        )
    return oxi


# --------------------------------------------------------------------------------------------
# Σ enumeration


def _enum(bulk: _Bulk, axis: tuple[int, int, int], max_sigma: int) -> dict[int, list[float]]:
    from pymatgen.core.interface import GrainBoundaryGenerator as G

    lat, ratio = bulk.lattice_type, bulk.ratio
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if lat == "c":
            return G.enum_sigma_cubic(max_sigma, axis)
        if lat == "t":
            return G.enum_sigma_tet(max_sigma, axis, ratio)
        if lat == "h":
            return G.enum_sigma_hex(max_sigma, axis, ratio)
        if lat == "o":
            return G.enum_sigma_ort(max_sigma, axis, ratio)
        return G.enum_sigma_rho(max_sigma, axis, ratio)


def _sigma_table(bulk: _Bulk, axis: tuple[int, int, int], max_sigma: int) -> SigmaTable:
    try:
        raw = _enum(bulk, axis, max_sigma)
    except (RuntimeError, ValueError, ZeroDivisionError) as exc:
        raise ArgumentError(
            "axis", f"{_miller(axis)}: pymatgen cannot enumerate Σ: {exc}"
        ) from None
    sigmas = tuple(sorted(int(s) for s in raw))
    angles = tuple(tuple(sorted({round(float(a), 10) for a in raw[s]})) for s in sigmas)
    return SigmaTable(
        axis=axis,
        max_sigma=max_sigma,
        lattice_type=_LATTICE_NAMES[bulk.lattice_type],
        ratio=bulk.ratio,
        sigmas=sigmas,
        angles_deg=angles,
    )


def enumerate_sigma(
    structure: Any,
    axis: Sequence[int],
    max_sigma: int,
    *,
    symprec: float = 0.1,
    ratio_max_denominator: int = 5,
) -> SigmaTable:
    """All Σ ≤ ``max_sigma`` and their rotation angles (°) for rotations about ``axis``.

    structure: library name, ase.Atoms or pymatgen Structure; axis: [uvw] in its conventional
    standard cell (rhombohedral lattices: pymatgen's rhombohedral setting). Non-cubic lattices use
    pymatgen's rational approximation of the axial ratio (denominator ≤ ratio_max_denominator).
    """
    ax = _int_triple(axis, "axis")
    if int(max_sigma) != max_sigma or max_sigma < 3:
        raise ArgumentError("max_sigma", f"must be an integer ≥ 3, got {max_sigma!r}")
    bulk = _prepare(structure, symprec, ratio_max_denominator, None)
    return _sigma_table(bulk, ax, int(max_sigma))


# --------------------------------------------------------------------------------------------
# building


def _pair_key(a: str, b: str) -> str:
    return "-".join(sorted((a, b)))


def _pair_minima(bulk: _Bulk, contact_ratio: float, min_distance_A: float | None):
    """Contact threshold per species pair (Å) and the bulk shortest distance per pair."""
    from ase.data import atomic_numbers, covalent_radii
    from ase.neighborlist import neighbor_list
    from pymatgen.io.ase import AseAtomsAdaptor

    atoms = AseAtomsAdaptor.get_atoms(bulk.structure)
    cutoff = 6.0
    i, j, d = neighbor_list("ijd", atoms, cutoff)
    symbols = np.array(atoms.get_chemical_symbols())
    elements = sorted(bulk.formula_unit)
    bulk_min: dict[str, float] = {}
    for a_idx, a in enumerate(elements):
        for b in elements[a_idx:]:
            sel = ((symbols[i] == a) & (symbols[j] == b)) | ((symbols[i] == b) & (symbols[j] == a))
            if np.any(sel):
                bulk_min[_pair_key(a, b)] = float(d[sel].min())
    minima: dict[str, float] = {}
    for a_idx, a in enumerate(elements):
        for b in elements[a_idx:]:
            key = _pair_key(a, b)
            if min_distance_A is not None:
                minima[key] = float(min_distance_A)
            elif key in bulk_min:
                minima[key] = contact_ratio * bulk_min[key]
            else:
                r = covalent_radii[atomic_numbers[a]] + covalent_radii[atomic_numbers[b]]
                minima[key] = contact_ratio * float(r)
    if min_distance_A is not None:
        too_close = {k: v for k, v in bulk_min.items() if v < min_distance_A}
        if too_close:
            k, v = min(too_close.items(), key=lambda kv: kv[1])
            raise ArgumentError(
                "min_distance_A",
                f"{min_distance_A:g} Å is above the bulk crystal's own {k} distance "
                f"({v:.3f} Å): no GB cell can satisfy it",
            )
    return minima, bulk_min


def _pymatgen_gb(bulk: _Bulk, axis, angle, plane, expand, translation, gap_A):
    from pymatgen.core.interface import GrainBoundaryGenerator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gen = GrainBoundaryGenerator(bulk.generator_input, symprec=bulk.symprec)
        try:
            return gen.gb_from_parameters(
                axis,
                angle,
                expand_times=expand,
                vacuum_thickness=gap_A,
                ab_shift=tuple(translation),
                normal=False,
                ratio=None if bulk.ratio is None else list(bulk.ratio),
                plane=plane,
                rm_ratio=0.0,
            )
        except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
            raise ArgumentError(
                "plane",
                f"pymatgen could not build Σ about {_miller(axis)} with plane "
                f"{_miller(plane, paren=True)}: {exc}",
            ) from None


def _frame(lattice: np.ndarray, cart: np.ndarray):
    """Cell with a along x, b in xy, GB normal along +z; c made as short as the lattice allows."""
    a, b, c = (np.array(v, dtype=float) for v in lattice)
    n = np.cross(a, b)
    n /= np.linalg.norm(n)
    if np.dot(c, n) < 0:
        c = -c
    in_plane = c - np.dot(c, n) * n
    coef, *_ = np.linalg.lstsq(np.stack([a, b], axis=1), in_plane, rcond=None)
    c = c - np.round(coef[0]) * a - np.round(coef[1]) * b
    e1 = a / np.linalg.norm(a)
    e2 = np.cross(n, e1)
    rot = np.stack([e1, e2, n])
    cell = np.stack([a, b, c]) @ rot.T
    cell[np.abs(cell) < 1e-12] = 0.0
    frac = np.linalg.solve(np.stack([a, b, c]).T, np.asarray(cart, dtype=float).T).T
    frac -= np.floor(frac)
    frac[frac >= 1.0 - 1e-12] = 0.0
    return cell, frac @ cell


def _arc(z: np.ndarray, period: float) -> tuple[float, float]:
    """Start and end (z, end may exceed period) of the shortest arc covering points on a circle."""
    zs = np.sort(np.mod(z, period))
    gaps = np.diff(np.append(zs, zs[0] + period))
    k = int(np.argmax(gaps))
    start = zs[(k + 1) % len(zs)]
    end = zs[k]
    if end < start:
        end += period
    return float(start), float(end)


def _gb_planes(z: np.ndarray, grain: np.ndarray, period: float) -> tuple[float, float]:
    """z of the GB 0→1 (lower grain below) and 1→0, midway between the grains' outer atoms."""
    s0, e0 = _arc(z[grain == 0], period)
    s1, e1 = _arc(z[grain == 1], period)
    gap_01 = (s1 - e0) % period
    gap_10 = (s0 - e1) % period
    if gap_01 > period / 2:  # grains overlap in z at this GB: the signed gap is negative
        gap_01 -= period
    if gap_10 > period / 2:
        gap_10 -= period
    p0 = (e0 + gap_01 / 2) % period
    p1 = (e1 + gap_10 / 2) % period
    return float(p0), float(p1)


def _contacts(atoms: Atoms, minima: dict[str, float]):
    """Unique pairs (i < j) closer than their pair minimum: i, j, d, d/d_min."""
    from ase.neighborlist import neighbor_list

    cutoff = max(minima.values())
    i, j, d = neighbor_list("ijd", atoms, cutoff)
    keep = i < j
    i, j, d = i[keep], j[keep], d[keep]
    symbols = np.array(atoms.get_chemical_symbols())
    lookup = {k: v for k, v in minima.items()}
    thr = np.array([lookup[_pair_key(a, b)] for a, b in zip(symbols[i], symbols[j])])
    close = d < thr
    i, j, d, thr = i[close], j[close], d[close], thr[close]
    if i.size:
        order = np.lexsort((d, j, i))
        i, j, d, thr = i[order], j[order], d[order], thr[order]
        first = np.ones(i.size, bool)
        first[1:] = (i[1:] != i[:-1]) | (j[1:] != j[:-1])
        i, j, d, thr = i[first], j[first], d[first], thr[first]
    return i, j, d, d / thr if i.size else d


def _min_distance(atoms: Atoms) -> tuple[float, tuple[int, int]]:
    from ase.neighborlist import neighbor_list

    for cutoff in (3.0, 6.0, 12.0):
        i, j, d = neighbor_list("ijd", atoms, cutoff)
        keep = i != j
        if np.any(keep):
            i, j, d = i[keep], j[keep], d[keep]
            k = int(np.argmin(d))
            return float(d[k]), (int(min(i[k], j[k])), int(max(i[k], j[k])))
    return float("inf"), (0, 0)


def _remove_formula_units(
    atoms: Atoms,
    grain: np.ndarray,
    region: np.ndarray,
    zdist: np.ndarray,
    minima: dict[str, float],
    formula_unit: dict[str, int],
    max_removed: int,
) -> list[tuple[int, int]]:
    """Greedy whole-formula-unit removal (see RULE); returns (atom index, unit number)."""
    ci, cj, cd, cratio = _contacts(atoms, minima)
    symbols = np.array(atoms.get_chemical_symbols())
    n = len(atoms)
    alive = np.ones(n, bool)
    chosen: list[tuple[int, int]] = []
    unit = 0

    def counts(mask: np.ndarray) -> np.ndarray:
        act = mask[ci] & mask[cj]
        return np.bincount(ci[act], minlength=n) + np.bincount(cj[act], minlength=n)

    while True:
        act = np.flatnonzero(alive[ci] & alive[cj])
        if act.size == 0:
            return chosen
        k = act[np.lexsort((cj[act], ci[act], cratio[act]))[0]]
        i, j = int(ci[k]), int(cj[k])
        size = sum(formula_unit.values())
        if len(chosen) + size > max_removed:
            raise ArgumentError(
                "min_distance_A",
                f"atoms {i} ({symbols[i]}, grain {grain[i]}) and {j} ({symbols[j]}, grain "
                f"{grain[j]}) of the unpruned cell are {cd[k]:.3f} Å apart (minimum {cd[k] / cratio[k]:.3f} Å) and "
                f"removing whole formula units would exceed max_removed_fraction "
                f"({max_removed} atoms): try another translation or gap_A, or a smaller "
                "contact_ratio/min_distance_A",
            )
        c = counts(alive)
        seed = min((i, j), key=lambda a: (-c[a], zdist[a], a))
        g = region[seed]
        mask = alive.copy()
        mask[seed] = False
        picked = [seed]
        need = dict(formula_unit)
        need[symbols[seed]] -= 1
        for element in sorted(need):
            for _ in range(need[element]):
                cand = np.flatnonzero(mask & (symbols == element) & (region == g))
                if cand.size == 0:
                    raise ArgumentError(
                        "structure",
                        f"no {element} left near GB {g} to complete a formula unit "
                        f"{formula_unit}: the grains are too thin (raise min_grain_thickness_A)",
                    )
                c = counts(mask)
                best = cand[np.lexsort((cand, zdist[cand], -c[cand]))[0]]
                mask[best] = False
                picked.append(int(best))
        alive = mask
        chosen.extend((a, unit) for a in picked)
        unit += 1


def build_gb(
    structure: Any,
    axis: Sequence[int],
    sigma: int,
    plane: Sequence[int],
    kind: str = "tilt",
    *,
    angle_deg: float | None = None,
    translation: Sequence[float] = (0.0, 0.0),
    gap_A: float = 0.0,
    min_grain_thickness_A: float = 8.0,
    in_plane_repeat: Sequence[int] = (1, 1),
    min_distance_A: float | None = None,
    contact_ratio: float = 0.75,
    max_removed_fraction: float = 0.2,
    oxidation_states: Mapping[str, float] | None = None,
    symprec: float = 0.1,
    ratio_max_denominator: int = 5,
) -> GBModel:
    """A periodic Σ bicrystal (two GBs) that keeps the bulk stoichiometry and neutrality.

    structure: library name, ase.Atoms or pymatgen Structure (bulk). axis [uvw] and plane (hkl):
    indices in the conventional standard cell; ``kind='tilt'`` needs the plane to contain the
    axis, ``'twist'`` the plane normal along it. angle_deg: one of the Σ's rotation angles (°;
    default the smallest). translation: in-plane rigid shift of grain 1 (fractions of the CSL cell's a, b).
    gap_A: extra separation (Å) of the grains at both GBs. min_grain_thickness_A: each grain at
    least this thick along the normal (Å). in_plane_repeat: (na, nb) copies of the CSL cell in
    the GB plane, made before contacts are removed (so one formula unit is a smaller part of a
    GB layer). min_distance_A: one contact threshold (Å) for every
    pair, else ``contact_ratio`` × the shortest bulk distance of each species pair.
    max_removed_fraction: fail if the rule would delete more of the atoms. oxidation_states:
    element → charge (e); default from the library entry, the structure's species, or pymatgen's
    first guess. Close contacts are removed by :data:`RULE`.
    """
    from ase import Atoms

    ax = _int_triple(axis, "axis")
    pl = _int_triple(plane, "plane")
    if kind not in ("tilt", "twist"):
        raise ArgumentError("kind", f"must be 'tilt' or 'twist', got {kind!r}")
    if isinstance(sigma, bool) or int(sigma) != sigma or sigma < 3:
        raise ArgumentError("sigma", f"must be an integer ≥ 3, got {sigma!r}")
    sigma = int(sigma)
    try:
        shift = tuple(float(x) for x in translation)
    except (TypeError, ValueError):
        raise ArgumentError("translation", f"must be two numbers, got {translation!r}") from None
    if len(shift) != 2 or not all(math.isfinite(x) for x in shift):
        raise ArgumentError("translation", f"must be two finite fractions, got {translation!r}")
    shift = (shift[0] - math.floor(shift[0]), shift[1] - math.floor(shift[1]))
    if not (math.isfinite(gap_A) and gap_A >= 0):
        raise ArgumentError("gap_A", f"must be ≥ 0 Å, got {gap_A!r}")
    if not (math.isfinite(min_grain_thickness_A) and min_grain_thickness_A > 0):
        raise ArgumentError(
            "min_grain_thickness_A", f"must be > 0 Å, got {min_grain_thickness_A!r}"
        )
    if min_distance_A is not None and not (math.isfinite(min_distance_A) and min_distance_A > 0):
        raise ArgumentError("min_distance_A", f"must be > 0 Å or None, got {min_distance_A!r}")
    try:
        reps = tuple(int(r) for r in in_plane_repeat)
    except (TypeError, ValueError):
        raise ArgumentError(
            "in_plane_repeat", f"must be two integers ≥ 1, got {in_plane_repeat!r}"
        ) from None
    if len(reps) != 2 or min(reps) < 1:
        raise ArgumentError("in_plane_repeat", f"must be two integers ≥ 1, got {in_plane_repeat!r}")
    if not (0 < contact_ratio <= 1):
        raise ArgumentError("contact_ratio", f"must be in (0, 1], got {contact_ratio!r}")
    if not (0 <= max_removed_fraction < 1):
        raise ArgumentError(
            "max_removed_fraction", f"must be in [0, 1), got {max_removed_fraction!r}"
        )

    bulk = _prepare(structure, symprec, ratio_max_denominator, oxidation_states)
    table = _sigma_table(bulk, ax, sigma)
    angles = table.angles(sigma)
    if angle_deg is None:
        angle = angles[0]
    else:
        match = [a for a in angles if abs(a - float(angle_deg)) < 1e-3]
        if not match:
            raise ArgumentError(
                "angle_deg",
                f"{angle_deg!r}° is not a Σ{sigma} rotation about {_miller(ax)}; "
                f"choose from {', '.join(f'{a:.4f}' for a in angles)}",
            )
        angle = match[0]
    _check_geometry(bulk, ax, pl, kind)
    minima, bulk_min = _pair_minima(bulk, contact_ratio, min_distance_A)

    first = _pymatgen_gb(bulk, ax, angle, pl, 1, shift, gap_A)
    lattice = first.lattice.matrix
    normal = np.cross(lattice[0], lattice[1])
    grain_period = abs(np.dot(lattice[2], normal / np.linalg.norm(normal))) / 2 - gap_A
    expand = max(1, math.ceil(min_grain_thickness_A / grain_period - 1e-9))
    raw = first if expand == 1 else _pymatgen_gb(bulk, ax, angle, pl, expand, shift, gap_A)

    labels = raw.site_properties.get("grain_label")
    if labels is None or any(lab is None for lab in labels):
        raise ArgumentError("structure", "pymatgen left sites without a grain label")
    grain = np.array([1 if str(lab).startswith("top") else 0 for lab in labels], dtype=int)
    cell, positions = _frame(raw.lattice.matrix, raw.cart_coords)
    symbols = [site.specie.symbol for site in raw]
    full = Atoms(symbols=symbols, positions=positions, cell=cell, pbc=True)
    if reps != (1, 1):
        full = full.repeat((reps[0], reps[1], 1))
        grain = np.tile(grain, reps[0] * reps[1])
        positions = full.positions
        symbols = full.get_chemical_symbols()
        cell = np.array(full.cell)
    n_before = len(full)
    fu_size = sum(bulk.formula_unit.values())
    _check_stoichiometry(full, bulk.formula_unit, "pymatgen's cell before removal")

    period = float(cell[2, 2])
    planes = _gb_planes(positions[:, 2], grain, period)
    dist = np.stack([_circular_abs(positions[:, 2] - p, period) for p in planes])
    region = np.argmin(dist, axis=0)
    zdist = dist.min(axis=0)
    max_removed = math.floor(max_removed_fraction * n_before / fu_size) * fu_size
    chosen = _remove_formula_units(
        full, grain, region, zdist, minima, bulk.formula_unit, max_removed
    )

    removed_idx = np.array(sorted(a for a, _ in chosen), dtype=int)
    keep = np.ones(n_before, bool)
    keep[removed_idx] = False
    atoms = full[keep]
    grain_final = grain[keep]
    atoms.set_array("grain", grain_final.copy())
    unit_of = dict(chosen)
    removed = tuple(
        RemovedAtom(
            index=int(a),
            symbol=symbols[a],
            grain=int(grain[a]),
            gb=int(region[a]),
            position_A=tuple(float(x) for x in positions[a]),
            unit=int(unit_of[a]),
        )
        for a in sorted(unit_of, key=lambda a: (unit_of[a], a))
    )

    n_fu = _check_stoichiometry(atoms, bulk.formula_unit, "the GB cell")
    charge = float(sum(bulk.oxidation_states[s] for s in atoms.get_chemical_symbols()))
    if abs(charge) > 1e-6:  # cannot happen with whole neutral units; kept as a guard
        raise ArgumentError("structure", f"GB cell carries {charge:+g} e")
    dmin, pair = _min_distance(atoms)
    remaining = _contacts(atoms, minima)
    if remaining[0].size:
        i, j = int(remaining[0][0]), int(remaining[1][0])
        raise ArgumentError(
            "min_distance_A", f"atoms {i} and {j} left {remaining[2][0]:.3f} Å apart"
        )

    area = float(np.linalg.norm(np.cross(cell[0], cell[1])))
    model = GBModel(
        atoms=atoms,
        grain=grain_final,
        gb_positions_A=planes,
        normal_length_A=period,
        area_A2=area,
        sigma=sigma,
        axis=ax,
        plane=pl,
        kind=kind,
        rotation_angle_deg=float(angle),
        translation=shift,
        gap_A=float(gap_A),
        expand_times=expand,
        in_plane_repeat=reps,
        lattice_type=_LATTICE_NAMES[bulk.lattice_type],
        ratio=bulk.ratio,
        formula_unit=dict(bulk.formula_unit),
        n_formula_units=n_fu,
        oxidation_states=dict(bulk.oxidation_states),
        total_charge=charge,
        pair_minimum_A=minima,
        min_distance_A=dmin,
        closest_pair=pair,
        n_atoms_before=n_before,
        removed=removed,
        source=bulk.source,
        extra={"bulk_min_distance_A": bulk_min},
    )
    atoms.info.update(
        {
            "gb_sigma": sigma,
            "gb_axis": list(ax),
            "gb_plane": list(pl),
            "gb_kind": kind,
            "gb_rotation_angle_deg": float(angle),
            "gb_positions_A": list(planes),
            "gb_translation": list(shift),
            "gb_rule": RULE,
        }
    )
    return model


def _check_geometry(bulk: _Bulk, axis, plane, kind: str) -> None:
    m = np.asarray(bulk.metric, dtype=float)
    u = np.asarray(axis, float) @ m
    n = np.asarray(plane, float) @ np.linalg.inv(m).T
    cos = abs(np.dot(u, n)) / (np.linalg.norm(u) * np.linalg.norm(n))
    if kind == "tilt" and cos > 1e-6:
        raise ArgumentError(
            "plane",
            f"a tilt GB plane must contain the rotation axis: {_miller(plane, paren=True)} does "
            f"not contain {_miller(axis)} (h·u = {int(np.dot(plane, axis))}); use kind='twist' "
            "for a plane normal to the axis",
        )
    if kind == "twist" and abs(cos - 1) > 1e-6:
        raise ArgumentError(
            "plane",
            f"a twist GB plane must be normal to the rotation axis: {_miller(plane, paren=True)} "
            f"is not normal to {_miller(axis)}",
        )


def _check_stoichiometry(atoms: Atoms, formula_unit: dict[str, int], what: str) -> int:
    symbols, counts = np.unique(atoms.get_chemical_symbols(), return_counts=True)
    comp = {str(s): int(c) for s, c in zip(symbols, counts)}
    first = next(iter(formula_unit))
    n = comp.get(first, 0) // formula_unit[first]
    expected = {e: n * k for e, k in formula_unit.items()}
    if comp != expected or n == 0:
        raise ArgumentError(
            "structure",
            f"{what} has composition {comp}, not an integer multiple of {formula_unit}",
        )
    return n


# --------------------------------------------------------------------------------------------
# rigid translations


def _calc_name(calc: Any) -> str:
    cls = type(calc)
    return f"{cls.__module__}.{cls.__qualname__}"


def rigid_translation_scan(
    structure: Any,
    axis: Sequence[int],
    sigma: int,
    plane: Sequence[int],
    kind: str = "tilt",
    *,
    grid: tuple[int, int] = (3, 3),
    calculator: Any = None,
    bulk_energy_per_atom_eV: float | None = None,
    **build_kwargs: Any,
) -> TranslationScan:
    """Build the GB for every in-plane shift (i/na, j/nb) of grain 1 and, optionally, its energy.

    grid: (na, nb) points along a and b. calculator: any ASE calculator; each cell's
    ``get_potential_energy`` (eV, unrelaxed) gives γ = (E_GB − N·E_bulk/atom)/(2A) in eV/Å² and
    J/m²; E_bulk/atom from ``bulk_energy_per_atom_eV`` or the calculator on the bulk cell.
    build_kwargs: passed to :func:`build_gb` (not ``translation``). Grid points the rule cannot
    build are listed in ``failed``.
    """
    if "translation" in build_kwargs:
        raise ArgumentError("translation", "is set by the grid; do not pass it to the scan")
    try:
        na, nb = (int(g) for g in grid)
    except (TypeError, ValueError):
        raise ArgumentError("grid", f"must be two positive integers, got {grid!r}") from None
    if na < 1 or nb < 1:
        raise ArgumentError("grid", f"must be two positive integers, got {grid!r}")
    shifts = [(i / na, j / nb) for i in range(na) for j in range(nb)]
    models: list[GBModel] = []
    built: list[tuple[float, float]] = []
    failed: list[tuple[tuple[float, float], str]] = []
    first_error: ArgumentError | None = None
    for shift in shifts:
        try:
            models.append(
                build_gb(structure, axis, sigma, plane, kind, translation=shift, **build_kwargs)
            )
            built.append(shift)
        except ArgumentError as exc:
            if exc.name != "min_distance_A":
                raise
            failed.append((shift, exc.reason))
            first_error = first_error or exc
    if not models and first_error is not None:
        raise first_error
    n = len(models)
    energies = np.full(n, np.nan)
    gamma = np.full(n, np.nan)
    e_bulk = float("nan") if bulk_energy_per_atom_eV is None else float(bulk_energy_per_atom_eV)
    if calculator is not None:
        if bulk_energy_per_atom_eV is None:
            e_bulk = _bulk_energy_per_atom(structure, calculator, build_kwargs)
        for k, m in enumerate(models):
            at = m.atoms.copy()
            at.calc = calculator
            energies[k] = float(at.get_potential_energy())
            gamma[k] = (energies[k] - len(at) * e_bulk) / (2.0 * m.area_A2)
    return TranslationScan(
        translations=np.array(built, dtype=float).reshape(-1, 2),
        models=tuple(models),
        energies_eV=energies,
        bulk_energy_per_atom_eV=e_bulk,
        gamma_eV_A2=gamma,
        gamma_J_m2=gamma * EV_PER_A2_TO_J_PER_M2,
        failed=tuple(failed),
        calculator=None if calculator is None else _calc_name(calculator),
    )


def _bulk_energy_per_atom(structure: Any, calculator: Any, build_kwargs: dict) -> float:
    from pymatgen.io.ase import AseAtomsAdaptor

    bulk = _prepare(
        structure,
        build_kwargs.get("symprec", 0.1),
        build_kwargs.get("ratio_max_denominator", 5),
        build_kwargs.get("oxidation_states"),
    )
    atoms = AseAtomsAdaptor.get_atoms(bulk.structure)
    atoms.calc = calculator
    return float(atoms.get_potential_energy()) / len(atoms)
