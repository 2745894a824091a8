"""Example DFT charge densities shipped with lilib (made by ``scripts/make_densities.py``).

PySCF PBE valence (pseudo) densities with GTH pseudopotentials and the matching core densities
(AECCAR0 analogue, from lilib's all-electron pro-atoms) for LiF, Li2O and three images of a
linear Li-vacancy hop in LiF. Provenance of each system: :func:`example_density_info`.

>>> from lilib.charges import bader
>>> from lilib.charges.examples import load_example_density
>>> rho = load_example_density("LiF")  # valence, e/Å³
>>> ref = load_example_density("LiF", part="total")  # valence + core
>>> bader(rho, reference=ref).electrons
"""

from __future__ import annotations

import json
from pathlib import Path

from lilib.charges.density import Density
from lilib.config import package_data_dir
from lilib.errors import ArgumentError, DataNotFoundError, UnknownNameError

__all__ = ["example_density_info", "example_density_names", "load_example_density"]

PARTS = ("valence", "core", "total")


class UnknownExampleError(UnknownNameError):
    """A name that is not one of the shipped example densities."""

    kind = "example density"

    def __init__(self, name: str, choices) -> None:
        super().__init__(name, choices)
        if self.suggestions:  # always list what is available, not only the close matches
            self.args = (f"{self.args[0]} (available: {', '.join(self.choices)})",)


def _directory() -> Path:
    return package_data_dir() / "densities"


def example_density_names() -> list[str]:
    """Names of the shipped example densities (e.g. "LiF", "LiF-hop-saddle"), sorted."""
    return sorted(p.name[: -len(".json")] for p in _directory().glob("*.json"))


def _resolve(name: str) -> str:
    names = example_density_names()
    if isinstance(name, str):
        for known in names:
            if known.lower() == name.strip().lower():
                return known
    raise UnknownExampleError(str(name), names)


def example_density_info(name: str) -> dict:
    """Provenance record of one example (engine, settings, energies, files, structure source)."""
    path = _directory() / f"{_resolve(name)}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def load_example_density(name: str, part: str = "valence") -> Density:
    """One shipped density on its grid, e/Å³.

    part: "valence" (the DFT pseudo density; integrates to the valence electron count),
    "core" (pro-atom cores of the electrons the pseudopotentials remove) or "total"
    (valence + core, the Bader reference). The grid does not resolve the 1s cusps, so the core
    and total grids do not integrate to the all-electron count: use them for basin shapes.
    """
    if part not in PARTS:
        raise ArgumentError("part", f"expected one of {PARTS}, got {part!r}")
    from lilib.charges.io import read_density

    info = example_density_info(name)
    wanted = ("valence", "core") if part == "total" else (part,)
    grids = []
    for which in wanted:
        entry = info["files"].get(which)
        path = _directory() / entry["file"] if entry else None
        if path is None or not path.is_file():
            raise DataNotFoundError(f"{which} density of {info['name']!r}", [_directory()])
        grids.append(read_density(path))
    if part != "total":
        return grids[0]
    valence, core = grids
    return valence.with_values(valence.values + core.values)
