"""Pro-atoms: spherically averaged free-atom and ion densities, and their superposition on a grid.

The shipped table (``lilib/data/proatoms.npz``, provenance in ``lilib/data/PROATOMS.md``) holds
all-electron PBE densities of neutral atoms and integer ions, per shell, made by
``scripts/make_proatoms.py``. Users may bring their own radial densities instead.

>>> from lilib.charges.proatoms import load_proatoms, promolecule_density
>>> table = load_proatoms()
>>> table.charges("Li"), table.n_electrons("F", -1)
>>> rho_pro = promolecule_density(atoms, (60, 60, 60))  # e/Å³, grid as `Density`

Interpolation: each radial function is resampled once onto a fine uniform grid in ln r with a
monotone cubic (PCHIP) through the table points, then evaluated by linear interpolation in
ln r (relative error ≲ 1e-5, more in the far tails). Below the first radius the first value is
used; the table starts at 1e-5 Å, far inside any grid spacing: a grid cannot resolve the
nuclear cusp anyway, so values at points very near a nucleus are the density at that
distance, not a cell average (see the grid correction in `lilib.charges.hirshfeld`). Densities
at a fractional charge q are linear in q between the two neighbouring integer charges.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers

from lilib import provenance
from lilib.errors import ArgumentError, DataNotFoundError, FileFormatError, LilibError

__all__ = [
    "ProAtoms",
    "ProAtomsError",
    "as_proatoms",
    "load_proatoms",
    "promolecule_density",
]

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "proatoms.npz"
PARTS = ("total", "core", "valence")
TAIL_ELECTRONS = 1e-5  # e: default cutoff leaves at most this much of a pro-atom outside
_N_FINE = 4096


class ProAtomsError(LilibError, KeyError):
    """An element or charge the pro-atom set does not hold; names what is available."""

    def __init__(self, message: str) -> None:
        self._init_args = (message,)
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class _Entry:
    total: np.ndarray  # e/Å³ on the set's radial grid
    shells: np.ndarray | None  # (n_shell, n_r) e/Å³, deepest shell first
    nl: np.ndarray | None  # (n_shell, 2): n, l
    occ: np.ndarray | None  # electrons per shell
    eps_ev: np.ndarray | None  # orbital energies, eV
    n_electrons: float


@dataclass(frozen=True, eq=False)
class ProAtoms:
    """A set of spherical pro-atom densities ρ(r) (e/Å³, r in Å) per (element, integer charge).

    ``r``: the common radial grid (Å, increasing, positive); ``source``: where they came from;
    ``meta``: provenance (engine, functional, basis, ...) when known.
    """

    r: np.ndarray
    entries: dict[tuple[str, int], _Entry]
    source: str
    meta: dict = field(default_factory=dict)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    # --- what is there -------------------------------------------------------------------
    @property
    def elements(self) -> list[str]:
        """Elements with at least one pro-atom, sorted by atomic number."""
        return sorted({e for e, _ in self.entries}, key=lambda e: atomic_numbers.get(e, 0))

    def charges(self, element: str) -> tuple[int, ...]:
        """Integer charges (e) available for ``element``."""
        self._check_element(element)
        return tuple(sorted(q for e, q in self.entries if e == element))

    def n_electrons(self, element: str, charge: float = 0) -> float:
        """Electrons (e) of the pro-atom of ``element`` at ``charge`` (linear between integers)."""
        (q0, w0), (q1, w1) = self._bracket(element, charge)
        return w0 * self.entries[(element, q0)].n_electrons + w1 * (
            self.entries[(element, q1)].n_electrons
        )

    def shells(self, element: str, charge: int = 0) -> list[dict]:
        """Occupied shells, deepest first: label ('2p'), occupation (e), energy (eV), cumulative (e)."""
        entry = self._entry(element, charge)
        if entry.shells is None:
            raise ProAtomsError(
                f"the pro-atoms from {self.source} carry no shell data for {element} "
                "(only total densities): core/valence parts are not available"
            )
        out, cum = [], 0.0
        for (n, ang), o, e in zip(entry.nl, entry.occ, entry.eps_ev, strict=True):
            cum += float(o)
            out.append(
                {"shell": f"{int(n)}{'spdf'[int(ang)]}", "occupation_e": float(o),
                 "energy_eV": float(e), "cumulative_e": cum}
            )  # fmt: skip
        return out

    def core_boundaries(self, element: str, charge: int = 0) -> tuple[int, ...]:
        """Electron counts (e) that close a set of deepest shells: the valid ``n_core`` values."""
        return tuple(
            round(s["cumulative_e"])
            for s in self.shells(element, charge)
            if abs(s["cumulative_e"] - round(s["cumulative_e"])) < 1e-6
        )

    # --- radial densities -----------------------------------------------------------------
    def radial_density(
        self,
        element: str,
        r: np.ndarray,
        charge: float = 0,
        part: str = "total",
        n_core: int = 0,
    ) -> np.ndarray:
        """ρ(r) in e/Å³ at radii ``r`` (Å) of ``element`` at ``charge`` (e); part total/core/valence."""
        x0, dx, table = self.fine_table(element, charge, part, n_core)
        r = np.asarray(r, dtype=float)
        x = np.log(np.maximum(r, 1e-300))
        t = np.clip((x - x0) / dx, 0.0, None)
        m = np.minimum(t.astype(np.int64), table.size - 1)
        nxt = np.minimum(m + 1, table.size - 1)
        w = t - m
        out = (1 - w) * table[m] + w * table[nxt]
        return np.where(m >= table.size - 1, 0.0, out)

    def fine_table(
        self, element: str, charge: float = 0, part: str = "total", n_core: int = 0
    ) -> tuple[float, float, np.ndarray]:
        """(x0, dx, values): ρ (e/Å³) on the uniform ln r grid x0 + m·dx (r in Å) used on grids."""
        (q0, w0), (q1, w1) = self._bracket(element, charge)
        t0 = self._fine_integer(element, q0, part, n_core)
        if w1 == 0.0:
            return self._x0, self._dx, t0
        t1 = self._fine_integer(element, q1, part, n_core)
        return self._x0, self._dx, w0 * t0 + w1 * t1

    def cutoff(
        self, element: str, charge: float = 0, part: str = "total", n_core: int = 0
    ) -> float:
        """Radius (Å) outside which the pro-atom at ``charge`` holds < 1e-5 e (its grid cutoff)."""
        (q0, w0), (q1, w1) = self._bracket(element, charge)
        tail = w0 * self._tail(element, q0, part, n_core)
        if w1 > 0.0:
            tail = tail + w1 * self._tail(element, q1, part, n_core)
        idx = np.flatnonzero(tail > TAIL_ELECTRONS)
        r = self.r[0] * np.exp(self._dx * np.arange(_N_FINE))
        return float(r[idx[-1] + 1]) if idx.size else float(r[0])

    def _tail(self, element: str, charge: int, part: str, n_core: int) -> np.ndarray:
        """tail[m] = ∫_{r_m}^∞ 4π r² |ρ| dr (e) on the fine grid (trapezoid in ln r)."""
        key = ("tail", element, charge, part, n_core)
        if key not in self._cache:
            r = self.r[0] * np.exp(self._dx * np.arange(_N_FINE))
            f = 4 * np.pi * r**3 * np.abs(self._fine_integer(element, charge, part, n_core))
            seg = 0.5 * (f[1:] + f[:-1]) * self._dx
            self._cache[key] = np.concatenate([np.cumsum(seg[::-1])[::-1], [0.0]])
        return self._cache[key]

    # --- internals ------------------------------------------------------------------------
    @property
    def _x0(self) -> float:
        return float(np.log(self.r[0]))

    @property
    def _dx(self) -> float:
        return float((np.log(self.r[-1]) - np.log(self.r[0])) / (_N_FINE - 1))

    def _check_element(self, element: str) -> None:
        if not any(e == element for e, _ in self.entries):
            raise ProAtomsError(
                f"no pro-atom for element {element!r} in {self.source}; "
                f"available: {', '.join(self.elements)}"
            )

    def _entry(self, element: str, charge: int) -> _Entry:
        self._check_element(element)
        if (element, int(charge)) not in self.entries or int(charge) != charge:
            raise ProAtomsError(
                f"no pro-atom for {element} at charge {charge:+g} e in {self.source}; "
                f"available charges for {element}: {', '.join(f'{q:+d}' for q in self.charges(element))}"
            )
        return self.entries[(element, int(charge))]

    def _bracket(self, element: str, charge: float) -> tuple[tuple[int, float], tuple[int, float]]:
        qs = self.charges(element)
        charge = float(charge)
        if not math.isfinite(charge) or charge < qs[0] - 1e-12 or charge > qs[-1] + 1e-12:
            raise ProAtomsError(
                f"charge {charge:+.4f} e of {element} is outside the pro-atoms of {self.source} "
                f"(available charges for {element}: {', '.join(f'{q:+d}' for q in qs)})"
            )
        q0 = max(q for q in qs if q <= charge + 1e-12)
        if abs(charge - q0) < 1e-12:
            return (q0, 1.0), (q0, 0.0)
        q1 = min(q for q in qs if q > charge)
        if q1 - q0 != 1:
            raise ProAtomsError(
                f"charge {charge:+.4f} e of {element} falls between {q0:+d} and {q1:+d}: "
                "pro-atoms are interpolated only between consecutive integer charges"
            )
        w1 = charge - q0
        return (q0, 1.0 - w1), (q1, w1)

    def _part(self, element: str, charge: int, part: str, n_core: int) -> np.ndarray:
        entry = self._entry(element, charge)
        if part not in PARTS:
            raise ArgumentError("part", f"expected one of {', '.join(PARTS)}, got {part!r}")
        if part == "total" or (n_core == 0 and part == "valence"):
            return entry.total
        if n_core == 0:
            return np.zeros_like(entry.total)
        shells = self.shells(element, charge)  # raises without shell data
        cum = [s["cumulative_e"] for s in shells]
        k = next((i for i, c in enumerate(cum) if abs(c - n_core) < 1e-6), None)
        if k is None:
            raise ArgumentError(
                "n_core",
                f"{n_core} core electrons for {element} (charge {charge:+d}) do not close a set of "
                f"shells; valid values: {', '.join(str(b) for b in self.core_boundaries(element, charge))}",
            )
        core = entry.shells[: k + 1].sum(axis=0)
        return core if part == "core" else entry.total - core

    def _fine_integer(self, element: str, charge: int, part: str, n_core: int) -> np.ndarray:
        key = (element, int(charge), part, int(n_core))
        if key not in self._cache:
            from scipy.interpolate import PchipInterpolator

            y = np.asarray(self._part(element, charge, part, n_core), dtype=float)
            x = np.log(self.r)
            xf = self._x0 + self._dx * np.arange(_N_FINE)
            fine = PchipInterpolator(x, y, extrapolate=False)(np.clip(xf, x[0], x[-1]))
            fine[-1] = 0.0
            self._cache[key] = np.ascontiguousarray(fine)
        return self._cache[key]


# --- loading ------------------------------------------------------------------------------
def load_proatoms(path: str | Path | None = None) -> ProAtoms:
    """Read a pro-atom file: the shipped table (default) or a user's ``.npz``.

    Two layouts are read: lilib's own (as written by ``scripts/make_proatoms.py``) and a plain
    one: an array ``r`` (Å) plus one array ρ (e/Å³) per pro-atom named ``Li`` (neutral) or
    ``Li_+1``/``F_-1`` (charged).
    """
    p = DEFAULT_PATH if path is None else Path(path)
    if not p.exists():
        raise DataNotFoundError("pro-atom file", [p])
    provenance.record_file(p, "pro-atoms")
    try:
        with np.load(p, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except Exception as exc:  # zip/npy errors come in many types
        raise FileFormatError(p, f"not a readable .npz file ({exc})") from exc
    if "r" not in arrays:
        raise FileFormatError(p, "no radial grid array 'r' (Å)")
    r = np.asarray(arrays.pop("r"), dtype=float)
    meta = {}
    if "meta" in arrays:
        try:
            meta = json.loads(str(arrays.pop("meta")))
        except (ValueError, TypeError) as exc:
            raise FileFormatError(p, f"'meta' is not JSON ({exc})") from exc
    _check_grid(r, str(p), FileFormatError, p)
    entries: dict[tuple[str, int], _Entry] = {}
    if meta.get("format") == "lilib-proatoms-1":
        for item in meta.get("entries", []):
            try:
                el, q, n_el = str(item["element"]), int(item["charge"]), float(item["n_electrons"])
            except (KeyError, TypeError, ValueError) as exc:
                raise FileFormatError(
                    p, f"'meta' entry {item!r} lacks element/charge/n_electrons"
                ) from exc
            key = f"{el}_{q:+d}"
            try:
                shells = np.asarray(arrays[f"{key}/shells"], dtype=float).reshape(-1, r.size)
                nl = np.asarray(arrays[f"{key}/nl"]).reshape(-1, 2)
                occ = np.asarray(arrays[f"{key}/occ"], dtype=float)
                eps = np.asarray(arrays[f"{key}/eps_ev"], dtype=float)
            except KeyError as exc:
                raise FileFormatError(
                    p, f"entry {key} listed in 'meta' has no array {exc}"
                ) from exc
            except ValueError as exc:
                raise FileFormatError(p, f"entry {key}: shells do not match 'r' ({exc})") from exc
            if not (len(nl) == len(occ) == len(eps) == len(shells)):
                raise FileFormatError(p, f"entry {key}: shell arrays of different lengths")
            total = arrays.get(f"{key}/total")
            total = shells.sum(axis=0) if total is None else np.asarray(total, dtype=float)
            if total.shape != r.shape:
                raise FileFormatError(p, f"entry {key}: total density does not match 'r'")
            entries[(el, q)] = _Entry(total, shells, nl, occ, eps, n_el)
    else:
        for name, rho in arrays.items():
            el, q = _parse_name(name, p)
            entries[(el, q)] = _user_entry(p, name, r, rho)
    if not entries:
        raise FileFormatError(p, "holds no pro-atom densities")
    return ProAtoms(r, entries, str(p), meta)


def _parse_name(name: str, path: Path) -> tuple[str, int]:
    el, _, q = name.partition("_")
    if el not in atomic_numbers or el == "X":
        raise FileFormatError(path, f"array {name!r}: {el!r} is not an element symbol")
    try:
        return el, int(q) if q else 0
    except ValueError as exc:
        raise FileFormatError(path, f"array {name!r}: charge {q!r} is not an integer") from exc


def _check_grid(r: np.ndarray, what: str, error, *args) -> None:
    bad = r.ndim != 1 or r.size < 8 or not np.all(np.isfinite(r)) or np.any(r <= 0)
    if bad or np.any(np.diff(r) <= 0):
        msg = "radial grid 'r' must be ≥ 8 increasing positive radii (Å)"
        raise error(*args, msg) if args else error(what, msg)


def _user_entry(path, name, r, rho) -> _Entry:
    rho = np.asarray(rho, dtype=float)
    if rho.shape != r.shape or not np.all(np.isfinite(rho)):
        msg = f"pro-atom {name!r}: expected {r.size} finite densities matching 'r', got shape {rho.shape}"
        if isinstance(path, Path):
            raise FileFormatError(path, msg)
        raise ArgumentError("proatoms", msg)
    n = float(np.trapezoid(4 * np.pi * r**3 * rho, np.log(r)))
    return _Entry(rho, None, None, None, None, n)


def as_proatoms(proatoms: ProAtoms | str | Path | Mapping | None) -> ProAtoms:
    """Normalise the ``proatoms`` argument: None (shipped table), a ProAtoms, a file, or a dict.

    A dict maps element → (r Å, ρ e/Å³) for neutral pro-atoms, or element → {charge: (r, ρ)}.
    Radial grids may differ; all are put on the first one's ln r range by interpolation.
    """
    if proatoms is None:
        key = "_default"
        if key not in _LOADED:
            _LOADED[key] = load_proatoms()
        return _LOADED[key]
    if isinstance(proatoms, ProAtoms):
        return proatoms
    if isinstance(proatoms, str | Path):
        return load_proatoms(proatoms)
    if isinstance(proatoms, Mapping):
        return _from_mapping(proatoms)
    raise ArgumentError(
        "proatoms",
        f"expected None, a ProAtoms, a file path or a dict, got {type(proatoms).__name__}",
    )


_LOADED: dict[str, ProAtoms] = {}


def _from_mapping(mapping: Mapping) -> ProAtoms:
    items: list[tuple[str, int, np.ndarray, np.ndarray]] = []
    for el, value in mapping.items():
        if el not in atomic_numbers or el == "X":
            raise ArgumentError("proatoms", f"key {el!r} is not an element symbol")
        per_q = value if isinstance(value, Mapping) else {0: value}
        for q, pair in per_q.items():
            try:
                r, rho = (np.asarray(a, dtype=float) for a in pair)
            except (TypeError, ValueError) as exc:
                raise ArgumentError(
                    "proatoms", f"{el} charge {q}: expected a pair (r Å, ρ e/Å³) ({exc})"
                ) from exc
            _check_grid(r, "proatoms", ArgumentError)
            if rho.shape != r.shape or not np.all(np.isfinite(rho)):
                raise ArgumentError("proatoms", f"{el} charge {q}: ρ must be finite, shaped like r")
            items.append((el, int(q), r, rho))
    if not items:
        raise ArgumentError("proatoms", "the dict holds no pro-atoms")
    same = all(it[2].shape == items[0][2].shape and np.allclose(it[2], items[0][2]) for it in items)
    if same:
        grid = items[0][2]
    else:  # one common grid: monotone cubic in ln r, zero beyond each input's last radius
        from scipy.interpolate import PchipInterpolator

        grid = np.geomspace(min(it[2][0] for it in items), max(it[2][-1] for it in items), 800)
    entries = {}
    for el, q, r, rho in items:
        if same:
            on_grid = rho
        else:
            x = np.log(grid)
            on_grid = PchipInterpolator(np.log(r), rho, extrapolate=False)(x)
            on_grid = np.where(x < np.log(r[0]), rho[0], np.nan_to_num(on_grid, nan=0.0))
        entries[(el, q)] = _user_entry(None, el, grid, on_grid)
    return ProAtoms(grid, entries, "user-supplied dict")


# --- grid superposition -------------------------------------------------------------------
def _extent(cell: np.ndarray) -> np.ndarray:
    """Fractional half-width per Å of a sphere along each axis: ‖column d of cell⁻¹‖."""
    return np.linalg.norm(np.linalg.inv(cell), axis=0)


def _atom_tables(
    atoms: Atoms,
    table: ProAtoms,
    charges: np.ndarray | None,
    part: str,
    n_core: Mapping[str, int] | None,
    cutoff: float | None,
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """(x0, dx, tables (n_atoms, n_fine), rcut (n_atoms,)) for the grid kernels."""
    symbols = atoms.get_chemical_symbols()
    missing = sorted({s for s in symbols if s not in table.elements})
    if missing:
        raise ProAtomsError(
            f"no pro-atom for element(s) {', '.join(missing)} in {table.source}; "
            f"available: {', '.join(table.elements)}"
        )
    if part not in PARTS:
        raise ArgumentError("part", f"expected one of {', '.join(PARTS)}, got {part!r}")
    if part != "total" and n_core is None:
        raise ArgumentError("n_core", f"part={part!r} needs n_core (dict element → core electrons)")
    q = np.zeros(len(atoms)) if charges is None else np.asarray(charges, dtype=float)
    if q.shape != (len(atoms),):
        raise ArgumentError(
            "charges", f"expected {len(atoms)} per-atom charges, got shape {q.shape}"
        )
    tables = np.empty((len(atoms), _N_FINE))
    rcut = np.empty(len(atoms))
    x0 = dx = 0.0
    for a, (s, qa) in enumerate(zip(symbols, q, strict=True)):
        nc = int((n_core or {}).get(s, 0)) if part != "total" else 0
        x0, dx, tables[a] = table.fine_table(s, qa, part, nc)
        rcut[a] = table.cutoff(s, qa, part, nc) if cutoff is None else float(cutoff)
    return x0, dx, tables, rcut


def promolecule_density(
    atoms: Atoms,
    shape: tuple[int, int, int],
    proatoms: ProAtoms | str | Path | Mapping | None = None,
    *,
    charges: np.ndarray | None = None,
    part: str = "total",
    n_core: Mapping[str, int] | None = None,
    cutoff: float | None = None,
) -> np.ndarray:
    """Superposition of spherical pro-atoms on a periodic grid, e/Å³, shape ``shape``.

    Grid point (i, j, k) sits at fractional (i/n1, j/n2, k/n3) of ``atoms.cell`` (as `Density`).
    ``charges``: per-atom charges (e; fractional ones interpolate linearly between integer
    ions); default neutral. ``part``: "total", "core" (the ``n_core[element]`` electrons of the
    deepest shells) or "valence" (total − core); elements missing from ``n_core`` have no core.
    ``cutoff`` (Å): radius of every pro-atom's sphere; default per element, where less than
    1e-5 e of the pro-atom lies outside. Periodic images within the cutoff are summed.
    """
    from lilib.charges._grid_kernels import add_spheres

    table = as_proatoms(proatoms)
    shape = tuple(int(n) for n in shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ArgumentError("shape", f"expected three positive grid sizes, got {shape}")
    if atoms.cell.rank != 3:
        raise ArgumentError("atoms", "the structure needs a full 3-D cell")
    if cutoff is not None and not cutoff > 0:
        raise ArgumentError("cutoff", f"must be a positive radius in Å, got {cutoff}")
    x0, dx, tables, rcut = _atom_tables(atoms, table, charges, part, n_core, cutoff)
    cell = np.ascontiguousarray(atoms.cell.array, dtype=float)
    frac = np.ascontiguousarray(atoms.get_scaled_positions(wrap=True), dtype=float)
    out = np.zeros(shape)
    add_spheres(out, cell, frac, tables, x0, 1.0 / dx, rcut, _extent(cell))
    return out
