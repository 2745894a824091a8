"""Reading and validating the JSON entries of the structure library.

One JSON file per material lives in ``lilib/structures/data/`` (schema in
``data/SCHEMA.md``).  Derived ordered approximants live in ``data/ordered/``.
Every problem with a file is a :class:`~lilib.errors.FileFormatError` naming it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lilib.errors import FileFormatError

__all__ = ["SiteInfo", "StructureInfo", "data_dir", "ordered_dir", "read_entry", "scan"]

_REQUIRED = {
    "name": str,
    "title": str,
    "family": str,
    "nominal_formula": str,
    "spacegroup": dict,
    "lattice": dict,
    "sites": list,
    "Z": int,
    "oxidation_states": dict,
    "citation": dict,
}
_LATTICE_KEYS = ("a", "b", "c", "alpha", "beta", "gamma")


def data_dir() -> Path:
    """Directory holding the shipped entry files."""
    return Path(__file__).resolve().parent / "data"


def ordered_dir(base: Path | None = None) -> Path:
    """Directory holding the shipped ordered approximants (derived data)."""
    return (base or data_dir()) / "ordered"


@dataclass(frozen=True)
class SiteInfo:
    """One site of the published asymmetric unit."""

    label: str
    species: dict[str, float]
    xyz: tuple[float, float, float]
    wyckoff: str | None = None

    @property
    def multiplicity(self) -> int | None:
        """Multiplicity read from the Wyckoff label (``"16h"`` -> 16), or None."""
        if not self.wyckoff:
            return None
        digits = "".join(ch for ch in self.wyckoff if ch.isdigit())
        return int(digits) if digits else None

    @property
    def ordered(self) -> bool:
        """True when one species fully occupies the site."""
        return len(self.species) == 1 and abs(next(iter(self.species.values())) - 1.0) < 1e-6


@dataclass(frozen=True)
class StructureInfo:
    """Metadata and published data of one library entry (read from its JSON file)."""

    name: str
    title: str
    family: str
    nominal_formula: str
    spacegroup_number: int
    spacegroup_symbol: str
    setting: int
    lattice: dict[str, float]
    sites: tuple[SiteInfo, ...]
    Z: int
    oxidation_states: dict[str, float]
    doi: str | None
    reference: str
    aliases: tuple[str, ...] = ()
    citation_table: str | None = None
    #: Persistent identifier where the source has no DOI (e.g. "COD 1011314").
    identifier: str | None = None
    #: Why the source has no DOI (only set when ``doi`` is None).
    no_doi: str | None = None
    dx_g_cm3: float | None = None
    dx_note: str | None = None
    temperature_K: float | None = None
    method: str | None = None
    data_source: str | None = None
    notes: str | None = None
    #: Labels of published sites left vacant in the ordered approximant (with the reason):
    #: for sites whose published position is unphysical, e.g. too close to a full anion site.
    approximant_exclude: tuple[str, ...] = ()
    approximant_exclude_reason: str | None = None
    path: Path | None = field(default=None, compare=False)

    @property
    def is_ordered(self) -> bool:
        """True when every published site is fully occupied by one species."""
        return all(site.ordered for site in self.sites)

    @property
    def ordered_approximant(self) -> bool:
        """True when :func:`lilib.structures.load` returns a derived ordered approximant."""
        return not self.is_ordered

    def density_g_cm3(self) -> float:
        """Density (g/cm³) of the ordered structure that :func:`load` returns."""
        from lilib.structures import load
        from lilib.structures._build import density_g_cm3

        return density_g_cm3(load(self.name))

    def metadata(self) -> dict[str, Any]:
        """Plain-Python metadata, as stored in ``atoms.info``."""
        return {
            "name": self.name,
            "title": self.title,
            "family": self.family,
            "nominal_formula": self.nominal_formula,
            "spacegroup_symbol": self.spacegroup_symbol,
            "spacegroup_number": self.spacegroup_number,
            "doi": self.doi,
            "identifier": self.identifier,
            "reference": self.reference,
            "ordered_approximant": self.ordered_approximant,
            "dx_g_cm3": self.dx_g_cm3,
            "temperature_K": self.temperature_K,
        }


def _fail(path: Path, message: str) -> FileFormatError:
    return FileFormatError(path, message)


def _number(path: Path, value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(path, f"{what} must be a finite number, got {value!r}")
    return float(value)


def read_entry(path: str | Path) -> StructureInfo:
    """Parse and validate one entry file; any defect raises FileFormatError naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(path, f"cannot read: {exc}") from exc
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(
            path, f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno
        ) from exc
    if not isinstance(raw, dict):
        raise _fail(path, "top level must be a JSON object")
    for key, typ in _REQUIRED.items():
        if key not in raw:
            raise _fail(path, f"missing required key {key!r}")
        if not isinstance(raw[key], typ) or (typ is int and isinstance(raw[key], bool)):
            raise _fail(path, f"key {key!r} must be {typ.__name__}, got {type(raw[key]).__name__}")

    sg = raw["spacegroup"]
    if not isinstance(sg.get("number"), int) or not 1 <= sg["number"] <= 230:
        raise _fail(path, f"spacegroup.number must be an integer 1..230, got {sg.get('number')!r}")
    setting = sg.get("setting", 1)
    if setting not in (1, 2):
        raise _fail(path, f"spacegroup.setting must be 1 or 2, got {setting!r}")

    lattice = {}
    for key in _LATTICE_KEYS:
        if key not in raw["lattice"]:
            raise _fail(path, f"lattice.{key} is missing")
        lattice[key] = _number(path, raw["lattice"][key], f"lattice.{key}")
        if lattice[key] <= 0:
            raise _fail(path, f"lattice.{key} must be positive")

    oxi = {}
    for element, state in raw["oxidation_states"].items():
        oxi[str(element)] = _number(path, state, f"oxidation_states.{element}")

    if not raw["sites"]:
        raise _fail(path, "sites is empty")
    sites = []
    for i, site in enumerate(raw["sites"]):
        where = f"sites[{i}]"
        if not isinstance(site, dict):
            raise _fail(path, f"{where} must be an object")
        species = site.get("species")
        if not isinstance(species, dict) or not species:
            raise _fail(path, f"{where}.species must be a non-empty object")
        occ = {}
        for element, value in species.items():
            occ[str(element)] = _number(path, value, f"{where}.species.{element}")
            if not 0 < occ[str(element)] <= 1.0 + 1e-6:
                raise _fail(path, f"{where}.species.{element} occupancy {value!r} outside (0, 1]")
            if str(element) not in oxi:
                raise _fail(path, f"{where}: element {element!r} has no entry in oxidation_states")
        if sum(occ.values()) > 1.0 + 1e-3:
            raise _fail(path, f"{where}: total occupancy {sum(occ.values()):.4f} exceeds 1")
        xyz = site.get("xyz")
        if not isinstance(xyz, list) or len(xyz) != 3:
            raise _fail(path, f"{where}.xyz must be a list of three numbers")
        xyz_f = tuple(_number(path, v, f"{where}.xyz") for v in xyz)
        wyckoff = site.get("wyckoff")
        if wyckoff is not None and not isinstance(wyckoff, str):
            raise _fail(path, f"{where}.wyckoff must be a string")
        sites.append(
            SiteInfo(
                label=str(site.get("label", f"site{i}")), species=occ, xyz=xyz_f, wyckoff=wyckoff
            )
        )

    citation = raw["citation"]
    doi = citation.get("doi")
    identifier = citation.get("identifier")
    no_doi = citation.get("no_doi")
    if doi is None:
        # sources without a DOI (a 1963 book, a 1938 or 1989 journal article) must say why and
        # give another persistent identifier (a COD entry, an OpenAlex work)
        if not (isinstance(no_doi, str) and no_doi.strip()):
            raise _fail(path, "citation.doi is null: citation.no_doi must say why")
        if not (isinstance(identifier, str) and identifier.strip()):
            raise _fail(path, "citation.doi is null: give citation.identifier (e.g. 'COD 1011314')")
    elif not isinstance(doi, str) or not doi.startswith("10."):
        raise _fail(path, f"citation.doi must be a DOI string starting with '10.', got {doi!r}")
    aliases = raw.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise _fail(path, "aliases must be a list of strings")
    dx = raw.get("dx_g_cm3")
    dx = None if dx is None else _number(path, dx, "dx_g_cm3")
    temperature = raw.get("temperature_K")
    temperature = None if temperature is None else _number(path, temperature, "temperature_K")
    if raw["Z"] <= 0:
        raise _fail(path, "Z must be positive")
    approx = raw.get("approximant", {})
    exclude = tuple(approx.get("exclude_sites", []))
    unknown = set(exclude) - {site.label for site in sites}
    if unknown:
        raise _fail(path, f"approximant.exclude_sites names no published site: {sorted(unknown)}")

    return StructureInfo(
        name=raw["name"],
        title=raw["title"],
        family=raw["family"],
        nominal_formula=raw["nominal_formula"],
        spacegroup_number=sg["number"],
        spacegroup_symbol=str(sg.get("symbol", "")),
        setting=setting,
        lattice=lattice,
        sites=tuple(sites),
        Z=raw["Z"],
        oxidation_states=oxi,
        doi=doi,
        reference=str(citation.get("reference", "")),
        aliases=tuple(aliases),
        citation_table=citation.get("table"),
        identifier=identifier,
        no_doi=no_doi if doi is None else None,
        dx_g_cm3=dx,
        dx_note=raw.get("dx_note"),
        temperature_K=temperature,
        method=raw.get("method"),
        data_source=raw.get("data_source"),
        notes=raw.get("notes"),
        approximant_exclude=exclude,
        approximant_exclude_reason=approx.get("reason"),
        path=path,
    )


def scan(directory: Path) -> dict[str, StructureInfo]:
    """Read every ``*.json`` entry of ``directory``; keys are the entry names."""
    entries: dict[str, StructureInfo] = {}
    for path in sorted(directory.glob("*.json")):
        info = read_entry(path)
        if info.name in entries:
            raise _fail(path, f"name {info.name!r} already used by {entries[info.name].path}")
        entries[info.name] = info
    return entries
