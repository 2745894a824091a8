"""Hirshfeld-family charges of a grid density: Hirshfeld, iterative Hirshfeld (Hirshfeld-I), VDD.

Hirshfeld (stockholder): atom A receives w_A = ρ_A/ρ_pro of the density at every point, where
ρ_pro = Σ ρ_A is the superposition of spherical free-atom densities over all periodic images
(F. L. Hirshfeld, Theor. Chim. Acta 44, 129 (1977)). Hirshfeld-I: the pro-atoms are ions whose
charge is made self-consistent with the charge they yield (P. Bultinck et al., J. Chem. Phys.
126, 144111 (2007)); fractional charges interpolate linearly between integer ions. VDD:
Q_A = −∫ over A's periodic Voronoi cell of (ρ − ρ_pro) (C. Fonseca Guerra et al., J. Comput.
Chem. 25, 189 (2004)). Own implementation; pro-atoms from `lilib.charges.proatoms`.

Each evaluation makes two passes over the grid: the promolecule, then per atom Σ ρ·ρ_A/ρ_pro
over the points within its cutoff (no per-atom full-grid arrays).

Grid correction (default on): an all-electron density has a nuclear cusp no practical grid
integrates (a 0.05 Å grid misses several tenths of an electron per heavy atom). Near a nucleus
the density and the weighted density are the atom's own core, so each Hirshfeld population
gets N_A(pro, exact) − ΔV Σ_p ρ_A(p): the exact minus the grid-summed electrons of its own
pro-atom. With it, a density equal to the promolecule gives charges 0 on any grid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from ase import Atoms
from ase.data import atomic_numbers

from lilib import provenance
from lilib.charges._grid_kernels import add_spheres, nearest_atom, weighted_sums
from lilib.charges.density import Density
from lilib.charges.proatoms import ProAtoms, ProAtomsError, _atom_tables, _extent, as_proatoms
from lilib.errors import ArgumentError, LilibError

__all__ = ["HirshfeldResult", "MismatchError", "hirshfeld", "hirshfeld_i", "vdd"]

_TINY = 1e-300
_MARGIN = 0.05  # e: Hirshfeld-I charges may pass the outermost ion by this much (pro-atom clipped)


class MismatchError(LilibError, ValueError):
    """The density and the pro-atoms count different electrons (valence vs all-electron)."""

    def __init__(self, message: str) -> None:
        self._init_args = (message,)
        super().__init__(message)


@dataclass(frozen=True, eq=False)
class HirshfeldResult:
    """Charges of one Hirshfeld-family partition.

    ``charges`` (e) = ``reference_electrons`` − ``populations``; reference electrons are Z, or
    Z − n_core with valence pro-atoms. ``pro_charges``: charges of the pro-atoms used (0 for
    Hirshfeld and VDD; the self-consistent ones for Hirshfeld-I). ``n_electrons``: ∫ρ over the
    cell on the grid (core included when added); ``sum_populations`` = Σ populations;
    ``grid_corrections`` (e per atom, included in the populations; see the module docstring);
    ``unassigned_electrons``: density where no pro-atom reaches (vacuum);
    ``sum_rule_error`` = Σ populations − Σ corrections + unassigned − ∫ρ (numerical, ~1e-10).
    ``history``: charges after each Hirshfeld-I iteration, shape (n_iterations, n_atoms).
    """

    method: str
    atoms: Atoms
    charges: np.ndarray
    populations: np.ndarray
    reference_electrons: np.ndarray
    pro_charges: np.ndarray
    grid_corrections: np.ndarray
    n_electrons: float
    unassigned_electrons: float
    proatom_source: str
    valence: bool
    n_core: dict = field(default_factory=dict)
    n_iterations: int = 1
    converged: bool = True
    tolerance: float | None = None
    history: np.ndarray | None = None

    @property
    def symbols(self) -> list[str]:
        """Chemical symbols, one per atom."""
        return self.atoms.get_chemical_symbols()

    @property
    def sum_populations(self) -> float:
        """Σ populations (e)."""
        return float(self.populations.sum())

    @property
    def sum_rule_error(self) -> float:
        """Σ populations − Σ grid corrections + unassigned − ∫ρ (e): zero up to rounding."""
        return float(
            self.populations.sum()
            - self.grid_corrections.sum()
            + self.unassigned_electrons
            - self.n_electrons
        )

    def to_dataframe(self) -> pd.DataFrame:
        """One row per atom: element, charge (e), population (e), reference electrons (e), pro-atom charge (e)."""
        return pd.DataFrame(
            {
                "element": self.symbols,
                "charge_e": self.charges,
                "population_e": self.populations,
                "reference_electrons_e": self.reference_electrons,
                "pro_charge_e": self.pro_charges,
                "grid_correction_e": self.grid_corrections,
            }
        )

    def plot(self, ax=None):
        """Bar chart of the charges per atom; returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(6, 3))[1]
        ax.bar(range(len(self.charges)), self.charges, color="tab:blue")
        ax.set_xticks(
            range(len(self.charges)), [f"{s}{i}" for i, s in enumerate(self.symbols)], rotation=90
        )
        ax.axhline(0.0, color="0.5", lw=0.8)
        ax.set_ylabel(f"{self.method} charge (e)")
        return ax

    def __repr__(self) -> str:
        it = f", {self.n_iterations} iterations" if self.method == "Hirshfeld-I" else ""
        return (
            f"HirshfeldResult({self.method}, {self.atoms.get_chemical_formula()}, "
            f"Σq = {self.charges.sum():+.4f} e{it})"
        )


# --- shared set-up -------------------------------------------------------------------------
@dataclass
class _Setup:
    atoms: Atoms
    rho: np.ndarray
    dv: float
    cell: np.ndarray
    frac: np.ndarray
    extent: np.ndarray
    table: ProAtoms
    part: str
    n_core: dict
    reference: np.ndarray
    cutoff: float | None

    def tables(self, charges: np.ndarray):
        return _atom_tables(self.atoms, self.table, charges, self.part, self.n_core, self.cutoff)

    def nominal(self, charges: np.ndarray) -> np.ndarray:
        """Exact electrons of each pro-atom at ``charges`` (e), part total or valence."""
        out = np.empty(len(self.atoms))
        for a, (s, q) in enumerate(zip(self.atoms.get_chemical_symbols(), charges, strict=True)):
            n = self.table.n_electrons(s, q)
            out[a] = n - (self.n_core.get(s, 0) if self.part == "valence" else 0)
        return out


def _setup(
    density: Density,
    proatoms,
    core: Density | None,
    valence: bool,
    n_core: Mapping[str, int] | None,
    cutoff: float | None,
) -> _Setup:
    if not isinstance(density, Density):
        raise ArgumentError("density", f"expected a Density, got {type(density).__name__}")
    table = as_proatoms(proatoms)
    rho = np.asarray(density.values, dtype=float)
    if core is not None:
        if not isinstance(core, Density) or core.shape != density.shape:
            got = core.shape if isinstance(core, Density) else type(core).__name__
            raise ArgumentError(
                "core", f"expected a Density on the grid {density.shape}, got {got}"
            )
        if valence or n_core:
            raise ArgumentError(
                "core", "a core density makes the density all-electron: drop valence/n_core"
            )
        rho = rho + np.asarray(core.values, dtype=float)
    valence = bool(valence or n_core)
    symbols = density.atoms.get_chemical_symbols()
    missing = sorted({s for s in symbols if s not in table.elements}, key=atomic_numbers.get)
    if missing:
        raise ProAtomsError(
            f"no pro-atom for element(s) {', '.join(missing)} in {table.source}; "
            f"available: {', '.join(table.elements)}"
        )
    nc: dict[str, int] = {}
    if valence:
        if n_core is None:
            raise ArgumentError(
                "n_core",
                "valence=True needs n_core, a dict element → core electrons (Z − valence electrons, "
                "e.g. from read_potcar_valences); valid values: "
                + _boundaries_hint(table, symbols),
            )
        unknown = sorted(set(n_core) - set(symbols))
        if unknown:
            raise ArgumentError("n_core", f"elements not in the structure: {', '.join(unknown)}")
        nc = {s: int(n_core.get(s, 0)) for s in set(symbols)}
    z = np.array([atomic_numbers[s] for s in symbols], dtype=float)
    reference = z - np.array([nc.get(s, 0) for s in symbols], dtype=float)
    cell = np.ascontiguousarray(density.cell, dtype=float)
    frac = density.atoms.get_scaled_positions(wrap=False) - np.linalg.solve(
        cell.T, np.asarray(density.origin, dtype=float)
    )
    frac = np.ascontiguousarray(frac % 1.0)
    return _Setup(
        density.atoms, rho, density.voxel_volume, cell, frac, _extent(cell), table,
        "valence" if valence else "total", nc, reference, cutoff,
    )  # fmt: skip


def _boundaries_hint(table: ProAtoms, symbols: list[str]) -> str:
    parts = []
    for s in sorted(set(symbols), key=atomic_numbers.get):
        try:
            parts.append(f"{s}: {', '.join(str(b) for b in table.core_boundaries(s))}")
        except ProAtomsError:
            parts.append(f"{s}: (no shell data)")
    return "; ".join(parts)


def _promolecule(st: _Setup, charges: np.ndarray):
    x0, dx, tables, rcut = st.tables(charges)
    pro = np.zeros(st.rho.shape)
    add_spheres(pro, st.cell, st.frac, tables, x0, 1.0 / dx, rcut, st.extent)
    return pro, (x0, dx, tables, rcut)


def _default_mismatch(st: _Setup) -> float:
    """Half the smallest core a valence-only density could lack: 1 e per atom beyond He (≥ 0.5 e)."""
    z = np.array(st.atoms.get_atomic_numbers())
    return max(0.5, float(np.sum(z > 2)))


def _check_mismatch(st: _Setup, pro: np.ndarray, max_mismatch: float | None) -> None:
    n_rho = float(st.rho.sum() * st.dv)
    n_pro = float(pro.sum() * st.dv)
    diff = n_rho - n_pro
    if max_mismatch is None:
        max_mismatch = _default_mismatch(st)
    if abs(diff) <= max_mismatch:
        return
    symbols = st.atoms.get_chemical_symbols()
    if st.part == "total" and diff < 0:
        raise MismatchError(
            f"the density holds {n_rho:.3f} e but the all-electron pro-atoms {n_pro:.3f} e on this "
            f"grid ({-diff:.3f} e fewer, Σ Z = {st.reference.sum():.0f}): a valence-only density "
            "(VASP CHGCAR, pseudopotential code)? Either add the core density with core=<Density> "
            "(e.g. AECCAR0, or the core density of the script that made the density), or use "
            "valence pro-atoms with valence=True, n_core={element: core electrons}; valid n_core "
            f"per element: {_boundaries_hint(st.table, symbols)}"
        )
    kind = "valence" if st.part == "valence" else "all-electron"
    raise MismatchError(
        f"the density holds {n_rho:.3f} e but the {kind} pro-atoms {n_pro:.3f} e on this grid "
        f"(difference {diff:+.3f} e, more than max_mismatch={max_mismatch} e): "
        + (
            "check n_core (core electrons per element) or drop valence/n_core for an all-electron "
            f"density; valid n_core per element: {_boundaries_hint(st.table, symbols)}"
            if st.part == "valence"
            else "a charged cell or a density with extra electrons? raise max_mismatch if intended"
        )
    )


def _populations(
    st: _Setup, charges: np.ndarray, grid_correction: bool, check: bool, max_mismatch=None
):
    """(populations, corrections, unassigned electrons, promolecule) for pro-atoms at ``charges``."""
    pro, (x0, dx, tables, rcut) = _promolecule(st, charges)
    if check:
        _check_mismatch(st, pro, max_mismatch)
    covered = pro > _TINY
    ratio = np.where(covered, st.rho / np.where(covered, pro, 1.0), 0.0)
    weighted, own = weighted_sums(ratio, st.cell, st.frac, tables, x0, 1.0 / dx, rcut, st.extent)
    pops = weighted * st.dv
    corr = st.nominal(charges) - own * st.dv if grid_correction else np.zeros(len(pops))
    unassigned = float(st.rho[~covered].sum() * st.dv)
    return pops + corr, corr, unassigned, pro


def _result(st: _Setup, method: str, pops, corr, unassigned, pro_q, **extra) -> HirshfeldResult:
    return HirshfeldResult(
        method=method,
        atoms=st.atoms.copy(),
        charges=st.reference - pops,
        populations=pops,
        reference_electrons=st.reference.copy(),
        pro_charges=np.asarray(pro_q, dtype=float).copy(),
        grid_corrections=corr,
        n_electrons=float(st.rho.sum() * st.dv),
        unassigned_electrons=unassigned,
        proatom_source=st.table.source,
        valence=st.part == "valence",
        n_core=dict(st.n_core),
        **extra,
    )


# --- public ---------------------------------------------------------------------------------
def hirshfeld(
    density: Density,
    proatoms: ProAtoms | str | Path | Mapping | None = None,
    *,
    core: Density | None = None,
    valence: bool = False,
    n_core: Mapping[str, int] | None = None,
    cutoff: float | None = None,
    grid_correction: bool = True,
    max_mismatch: float | None = None,
) -> HirshfeldResult:
    """Hirshfeld charges (e) with neutral pro-atoms on a periodic grid density (any cell).

    ``proatoms``: None (shipped PBE table), a `ProAtoms`, a file, or a dict element → (r Å,
    ρ e/Å³). ``core``: a core `Density` added to a valence density (e.g. AECCAR0).
    ``valence``/``n_core``: valence pro-atoms (total minus the n_core[element] deepest-shell
    electrons) for a valence-only density. ``cutoff`` (Å): pro-atom radius, default per element.
    ``max_mismatch`` (e): largest allowed |∫ρ − ∫ρ_pro| (both summed on the grid) before
    `MismatchError`; default half the smallest core a valence density could lack (1 e per atom
    heavier than He, at least 0.5 e): a grid misses part of every nuclear cusp, by up to a few
    tenths of an electron per atom on 0.1 Å grids, so tighter checks misfire.
    """
    provenance.cite("hirshfeld")
    st = _setup(density, proatoms, core, valence, n_core, cutoff)
    q = np.zeros(len(st.atoms))
    pops, corr, unassigned, _ = _populations(st, q, grid_correction, True, max_mismatch)
    return _result(st, "Hirshfeld", pops, corr, unassigned, q)


def hirshfeld_i(
    density: Density,
    proatoms: ProAtoms | str | Path | Mapping | None = None,
    *,
    core: Density | None = None,
    valence: bool = False,
    n_core: Mapping[str, int] | None = None,
    cutoff: float | None = None,
    grid_correction: bool = True,
    max_mismatch: float | None = None,
    tolerance: float = 1e-5,
    max_iterations: int = 100,
    initial_charges: np.ndarray | None = None,
) -> HirshfeldResult:
    """Iterative Hirshfeld (Hirshfeld-I) charges (e): pro-ion charges made self-consistent.

    Starts from ``initial_charges`` (default neutral) and repeats Hirshfeld with pro-atoms at the
    current charges (linear between integer ions) until every charge it yields differs from
    its pro-atom's charge by less than ``tolerance`` (e), at most ``max_iterations`` times;
    ``converged``/``n_iterations`` report it. The map contracts slowly in ionic solids, so the
    charges may lie ~10 × ``tolerance`` from the exact fixed point (LiF: 1e-4 → 2e-3 e). The fixed-point map is accelerated by Anderson mixing (depth 5). Pro-atom charges are
    kept within the available ions; a charge more than 0.05 e beyond them raises
    `ProAtomsError` naming the atom and the available charges. Other arguments as in
    `hirshfeld`.
    """
    provenance.cite("hirshfeld-i")
    if not tolerance > 0:
        raise ArgumentError("tolerance", f"must be positive (e), got {tolerance}")
    if int(max_iterations) < 1:
        raise ArgumentError("max_iterations", f"must be ≥ 1, got {max_iterations}")
    st = _setup(density, proatoms, core, valence, n_core, cutoff)
    n = len(st.atoms)
    q = np.zeros(n) if initial_charges is None else np.asarray(initial_charges, dtype=float)
    if q.shape != (n,):
        raise ArgumentError("initial_charges", f"expected {n} charges, got shape {q.shape}")
    symbols = st.atoms.get_chemical_symbols()
    lo = np.array([st.table.charges(s)[0] for s in symbols], dtype=float)
    hi = np.array([st.table.charges(s)[-1] for s in symbols], dtype=float)
    q = np.clip(q, lo, hi)
    history = []
    converged = False
    check = True
    dq_hist: list[np.ndarray] = []
    dg_hist: list[np.ndarray] = []
    prev = None
    for _ in range(int(max_iterations)):
        pops, corr, unassigned, _ = _populations(st, q, grid_correction, check, max_mismatch)
        check = False  # once: the first pass compares ∫ρ with the starting promolecule
        q_new = st.reference - pops
        history.append(q_new)
        outside = np.flatnonzero((q_new < lo - _MARGIN) | (q_new > hi + _MARGIN))
        if outside.size:
            a = int(outside[0])
            avail = st.table.charges(symbols[a])
            raise ProAtomsError(
                f"Hirshfeld-I charge of atom {a} ({symbols[a]}) reached {q_new[a]:+.3f} e, outside "
                f"the pro-atoms of {st.table.source} (available charges for {symbols[a]}: "
                f"{', '.join(f'{c:+d}' for c in avail)})"
            )
        residual = q_new - q
        pro_q = q
        if float(np.max(np.abs(residual))) < tolerance:
            converged = True
            break
        # Anderson acceleration of the fixed-point map q → q_new (depth 5), kept inside the table
        if prev is not None:
            dq_hist.append(q - prev[0])
            dg_hist.append(residual - prev[1])
            del dq_hist[:-5], dg_hist[:-5]
        prev = (q, residual)
        step = q + residual
        if dg_hist:
            dg = np.array(dg_hist).T
            gamma = np.linalg.lstsq(dg, residual, rcond=None)[0]
            step = step - (np.array(dq_hist).T + dg) @ gamma
        q = np.clip(step, lo, hi)
    return _result(
        st, "Hirshfeld-I", pops, corr, unassigned, pro_q,
        n_iterations=len(history), converged=converged, tolerance=float(tolerance),
        history=np.asarray(history),
    )  # fmt: skip


def vdd(
    density: Density,
    proatoms: ProAtoms | str | Path | Mapping | None = None,
    *,
    core: Density | None = None,
    valence: bool = False,
    n_core: Mapping[str, int] | None = None,
    cutoff: float | None = None,
    max_mismatch: float | None = None,
) -> HirshfeldResult:
    """Voronoi deformation density charges (e): Q_A = −∫_{Voronoi cell of A} (ρ − ρ_pro) dV.

    Voronoi cells are periodic (nearest atom image for every grid point, any cell); ρ_pro is
    the neutral promolecule. Populations are the pro-atom electrons minus Q_A. Arguments as
    in `hirshfeld`; no grid correction is needed (core errors cancel in ρ − ρ_pro).
    """
    provenance.cite("vdd")
    st = _setup(density, proatoms, core, valence, n_core, cutoff)
    n = len(st.atoms)
    q0 = np.zeros(n)
    pro, _ = _promolecule(st, q0)
    _check_mismatch(st, pro, max_mismatch)
    owner = np.full(st.rho.shape, -1, dtype=np.int64)
    best = np.full(st.rho.shape, np.inf)
    radius = 1.2 * (abs(np.linalg.det(st.cell)) / n * 3 / (4 * np.pi)) ** (1 / 3)
    while True:
        nearest_atom(owner, best, st.cell, st.frac, radius, st.extent)
        if (owner >= 0).all():
            break
        radius *= 1.5
    deformation = np.bincount(owner.ravel(), weights=(st.rho - pro).ravel(), minlength=n) * st.dv
    nominal = st.nominal(q0)
    pops = nominal + deformation
    corr = nominal - np.bincount(owner.ravel(), weights=pro.ravel(), minlength=n) * st.dv
    return _result(st, "VDD", pops, corr, 0.0, q0)
