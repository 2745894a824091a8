"""Building cells from a published asymmetric unit, and reading shipped approximants.

The published conventional cell is generated with :class:`ase.spacegroup.Spacegroup`
(its ``equivalent_sites``), one asymmetric site at a time, so that each site keeps its
own occupancies.  Settings follow ASE's numbering: for groups with two origin choices,
``setting`` 1/2 = origin choice 1/2.  For rhombohedral (R) groups ASE's setting 1 is
hexagonal axes and 2 is rhombohedral axes; because the shared schema text gets this
backwards, the axes of R groups are taken from the lattice itself (a = b, gamma = 120°
-> hexagonal axes), never from the ``setting`` field.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.data import atomic_masses, atomic_numbers
from ase.geometry import cellpar_to_cell
from ase.spacegroup import Spacegroup

from lilib.errors import FileFormatError

from ._entries import StructureInfo

__all__ = [
    "ase_setting",
    "density_g_cm3",
    "ordered_atoms_from_published",
    "published_structure",
    "read_ordered_file",
    "site_orbits",
    "source_digest",
]

_AMU_PER_A3_TO_G_CM3 = 1.66053906660  # 1 amu/Å^3 in g/cm^3


def ase_setting(info: StructureInfo) -> int:
    """ASE setting number for the entry (see the module docstring for R groups)."""
    symbol = Spacegroup(info.spacegroup_number, 1).symbol
    if symbol.startswith("R"):
        lat = info.lattice
        hexagonal = abs(lat["gamma"] - 120.0) < 1e-3 and abs(lat["a"] - lat["b"]) < 1e-6
        return 1 if hexagonal else 2
    return info.setting


def cell_matrix(info: StructureInfo) -> np.ndarray:
    lat = info.lattice
    return cellpar_to_cell([lat["a"], lat["b"], lat["c"], lat["alpha"], lat["beta"], lat["gamma"]])


def site_orbits(info: StructureInfo, symprec: float = 1e-3) -> list[np.ndarray]:
    """Fractional positions of the orbit of each asymmetric site, in the published cell."""
    sg = Spacegroup(info.spacegroup_number, ase_setting(info))
    orbits = []
    for site in info.sites:
        positions, _ = sg.equivalent_sites([site.xyz], symprec=symprec)
        orbits.append(np.mod(np.asarray(positions, dtype=float), 1.0))
    return orbits


def published_structure(info: StructureInfo, oxidation: bool = True):
    """The published (possibly disordered) conventional cell as a pymatgen Structure.

    With ``oxidation`` the species carry the entry's oxidation states (``Li+``, ``S2-``...).
    Each site also gets the site properties ``label`` and ``wyckoff``.
    """
    from pymatgen.core import Lattice, Species, Structure

    species, coords, labels, wyckoffs = [], [], [], []
    for site, orbit in zip(info.sites, site_orbits(info)):
        if oxidation:
            comp = {Species(el, info.oxidation_states[el]): occ for el, occ in site.species.items()}
        else:
            comp = dict(site.species)
        for position in orbit:
            species.append(comp)
            coords.append(position)
            labels.append(site.label)
            wyckoffs.append(site.wyckoff)
    return Structure(
        Lattice(cell_matrix(info)),
        species,
        coords,
        site_properties={"label": labels, "wyckoff": wyckoffs},
    )


def ordered_atoms_from_published(info: StructureInfo) -> Atoms:
    """ASE Atoms of a fully ordered published entry (every site occupancy 1)."""
    symbols, positions = [], []
    for site, orbit in zip(info.sites, site_orbits(info)):
        (element,) = site.species
        symbols.extend([element] * len(orbit))
        positions.extend(orbit)
    return Atoms(symbols=symbols, scaled_positions=positions, cell=cell_matrix(info), pbc=True)


def source_digest(info: StructureInfo) -> str:
    """SHA-256 of the structural data of an entry (lattice, group, sites, formula, Z, oxidation).

    An ordered approximant records the digest of the entry it was made from, so that a
    later change of the entry marks the shipped approximant as stale.
    """
    payload = {
        "spacegroup": [info.spacegroup_number, ase_setting(info)],
        "lattice": info.lattice,
        "sites": [[s.label, s.species, list(s.xyz), s.wyckoff] for s in info.sites],
        "nominal_formula": info.nominal_formula,
        "Z": info.Z,
        "oxidation_states": info.oxidation_states,
        "approximant_exclude": list(info.approximant_exclude),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def read_ordered_file(path: Path) -> tuple[Atoms, dict]:
    """Read a shipped ordered approximant; returns the Atoms and the file's metadata."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise FileFormatError(path, f"invalid JSON: {exc.msg}", line=exc.lineno) from exc
    except OSError as exc:
        raise FileFormatError(path, f"cannot read: {exc}") from exc
    try:
        cell = np.asarray(raw["cell"], dtype=float)
        symbols = list(raw["species"])
        frac = np.asarray(raw["frac_coords"], dtype=float)
    except (KeyError, TypeError, ValueError) as exc:
        raise FileFormatError(
            path, f"missing or malformed cell/species/frac_coords: {exc}"
        ) from exc
    if cell.shape != (3, 3) or frac.shape != (len(symbols), 3):
        raise FileFormatError(
            path,
            f"shapes do not match: cell {cell.shape}, frac_coords {frac.shape}, "
            f"{len(symbols)} species",
        )
    atoms = Atoms(symbols=symbols, scaled_positions=frac, cell=cell, pbc=True)
    meta = {k: v for k, v in raw.items() if k not in ("cell", "species", "frac_coords")}
    return atoms, meta


def density_g_cm3(atoms: Atoms) -> float:
    """Mass density of a periodic cell in g/cm^3 (standard atomic masses)."""
    mass = sum(atomic_masses[atomic_numbers[s]] for s in atoms.get_chemical_symbols())
    return float(mass / atoms.get_volume() * _AMU_PER_A3_TO_G_CM3)
