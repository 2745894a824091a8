"""Named crystal structures built from published crystallographic data, with citations.

>>> from lilib import structures
>>> structures.names()[:3]  # every library key, sorted
>>> atoms = structures.load("lgps")  # case-insensitive, aliases accepted
>>> atoms.info["doi"], atoms.info["ordered_approximant"]
>>> structures.load_pymatgen("Li10GeP2S12", ordered=False)  # published partial occupancies
>>> structures.table()  # one row per entry (pandas)

Each entry is one JSON file in ``lilib/structures/data`` (schema: ``data/SCHEMA.md``)
holding the published asymmetric unit, lattice, space group, the crystallographic
density Dx stated by the source, the oxidation states and the citation.

Entries with partial occupancies are returned by :func:`load` as a shipped, derived
*ordered approximant* (``data/ordered/<name>.json``), made once by
``scripts/order_structures.py`` (rule: see that script and
:mod:`lilib.structures._ordering`); nothing is re-ordered at load time.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lilib.errors import DataNotFoundError, FileFormatError, UnknownStructureError

from ._build import (
    density_g_cm3,
    ordered_atoms_from_published,
    published_structure,
    read_ordered_file,
    source_digest,
)
from ._entries import SiteInfo, StructureInfo, data_dir, ordered_dir, scan

if TYPE_CHECKING:
    import pandas as pd
    from ase import Atoms
    from pymatgen.core import Structure

__all__ = [
    "SiteInfo",
    "StructureInfo",
    "info",
    "load",
    "load_pymatgen",
    "names",
    "table",
]

_CACHE: dict[tuple, dict[str, StructureInfo]] = {}


def _registry(directory: Path | None = None) -> dict[str, StructureInfo]:
    directory = Path(directory) if directory is not None else data_dir()
    key = (
        str(directory),
        *tuple(
            (p.name, p.stat().st_mtime_ns, p.stat().st_size)
            for p in sorted(directory.glob("*.json"))
        ),
    )
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = scan(directory)
    return _CACHE[key]


def _lookup(name: str) -> StructureInfo:
    if not isinstance(name, str):
        raise UnknownStructureError(repr(name), names())
    registry = _registry()
    wanted = name.strip().lower()
    for entry in registry.values():
        if wanted == entry.name.lower() or wanted in (a.lower() for a in entry.aliases):
            return entry
    choices = list(registry) + [a for e in registry.values() for a in e.aliases]
    raise UnknownStructureError(name, choices)


def names() -> list[str]:
    """Every library key, sorted."""
    return sorted(_registry())


def info(name: str) -> StructureInfo:
    """Metadata and published data of an entry (case-insensitive; aliases accepted)."""
    return _lookup(name)


def _ordered_path(entry: StructureInfo) -> Path:
    return ordered_dir(entry.path.parent if entry.path else None) / f"{entry.name}.json"


def _ordered_atoms(entry: StructureInfo) -> tuple[Atoms, dict | None]:
    """The ordered structure of an entry and the approximant's metadata (None if published)."""
    if entry.is_ordered:
        return ordered_atoms_from_published(entry), None
    path = _ordered_path(entry)
    if not path.is_file():
        raise DataNotFoundError(
            f"ordered approximant of {entry.name!r} (run: python scripts/order_structures.py {entry.name})",
            [path],
        )
    atoms, meta = read_ordered_file(path)
    if meta.get("source_sha256") != source_digest(entry):
        raise FileFormatError(
            path,
            f"stale: made from another version of {entry.path.name if entry.path else entry.name}; "
            f"re-run scripts/order_structures.py {entry.name}",
        )
    return atoms, meta


def load(name: str) -> Atoms:
    """The ordered structure of an entry as :class:`ase.Atoms`.

    Fully ordered entries give the published conventional cell; entries with partial
    occupancies give the shipped ordered approximant.  ``atoms.info`` holds plain-Python
    metadata: name, title, family, spacegroup_symbol/number (of the published structure),
    doi, reference, ordered_approximant, dx_g_cm3, temperature_K (and, for approximants,
    the ordering rule, supercell and Ewald energy).
    """
    entry = _lookup(name)
    atoms, meta = _ordered_atoms(entry)
    atoms.info.update(entry.metadata())
    if meta is not None:
        atoms.info["ordering_rule"] = meta.get("rule")
        atoms.info["ordering_supercell"] = meta.get("supercell")
        atoms.info["ewald_energy_eV"] = meta.get("ewald_energy_eV")
    return atoms


def load_pymatgen(name: str, ordered: bool = True) -> Structure:
    """The entry as a :class:`pymatgen.core.Structure`.

    ``ordered=True``: the same ordered cell as :func:`load`.  ``ordered=False``: the
    published cell with partial occupancies; species carry the oxidation states.
    """
    from pymatgen.io.ase import AseAtomsAdaptor

    entry = _lookup(name)
    if not ordered:
        return published_structure(entry, oxidation=True)
    atoms = load(name)
    structure = AseAtomsAdaptor.get_structure(atoms)
    structure.add_oxidation_state_by_element(entry.oxidation_states)
    return structure


def table() -> pd.DataFrame:
    """One row per entry: name, formula, family, space group, Z, cell, densities, DOI, ordering."""
    import pandas as pd

    rows = []
    for key in names():
        entry = info(key)
        lat = entry.lattice
        try:
            density = density_g_cm3(load(key))
        except (DataNotFoundError, FileFormatError):
            density = float("nan")
        rows.append(
            {
                "name": entry.name,
                "formula": entry.nominal_formula,
                "family": entry.family,
                "spacegroup": entry.spacegroup_symbol,
                "spacegroup_number": entry.spacegroup_number,
                "Z": entry.Z,
                "a": lat["a"],
                "b": lat["b"],
                "c": lat["c"],
                "alpha": lat["alpha"],
                "beta": lat["beta"],
                "gamma": lat["gamma"],
                "density_g_cm3": density,
                "dx_g_cm3": entry.dx_g_cm3,
                "doi": entry.doi,
                "identifier": entry.identifier,
                "ordered_approximant": entry.ordered_approximant,
            }
        )
    return pd.DataFrame(rows)
