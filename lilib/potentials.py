"""Published rigid-ion Buckingham(-type) + Coulomb parameter sets for classical MD (LAMMPS).

>>> from lilib.potentials import available_potentials, load_potential, potential_for
>>> available_potentials()  # names of the shipped sets (lilib/data/potentials/*.json)
>>> pot = load_potential("LiF_TosiFumi1964")
>>> pot.doi, pot.table, pot.charges, pot.pairs  # source, table in it, e, eV/Å/eV·Å⁶
>>> pot = potential_for(atoms.get_chemical_symbols())  # a set covering these elements
>>> pot.to_lammps_commands(["Li", "F"])  # types 1, 2: charges, pair_style, pair_coeff, kspace

Form per pair: E(r) = A exp(−r/ρ) − C/r⁶ − D/r⁸ + q_i q_j/(4πε0 r), A in eV, ρ in Å, C in eV·Å⁶,
D in eV·Å⁸, q in e. D = 0 is the Buckingham form (LAMMPS ``pair_style buck/coul/long``); D > 0
is the Born–Mayer–Huggins form of the Tosi–Fumi alkali-halide sets (``born/coul/long`` with
σ = 0 and its D = −D here). Or the Pedone form (:class:`MorsePair`, partial charges):
E(r) = D0[e^{−2α(r−r0)} − 2e^{−α(r−r0)}] + B/r¹² + q_i q_j/(4πε0 r) (``pair_style hybrid/overlay
pedone coul/long``). The short-range part is cut at ``cutoff_A``; the Coulomb sum is done
by Ewald or PPPM (``kspace_style``). A pair stored as ``null`` in a file is Coulomb-only.

Every shipped set was read from its source and carries the DOI, the table and where it was
read (``read_from``); see ``lilib/data/potentials/README.md``. With C, D > 0 the pair energy
goes to −∞ at short range (the "Buckingham catastrophe"); it only matters when two ions are
pushed far inside their contact distance (very high temperature, too long a time step), and
the MD runner reports lost atoms as an error.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lilib.errors import (
    ArgumentError,
    FileFormatError,
    UnknownNameError,
    UnsupportedElementError,
)

__all__ = [
    "BuckinghamPair",
    "BuckinghamPotential",
    "MorsePair",
    "UnknownPotentialError",
    "available_potentials",
    "load_potential",
    "load_potential_file",
    "potential_dir",
    "potential_for",
]

_KSPACE = ("pppm", "ewald")
_REQUIRED = ("name", "species", "charges", "pairs", "cutoff_A", "doi", "citation", "table")


class UnknownPotentialError(UnknownNameError):
    """A potential name that :func:`load_potential` does not know."""

    kind = "potential"


def potential_dir() -> Path:
    """Folder of the shipped parameter sets (one JSON file per set)."""
    return Path(__file__).resolve().parent / "data" / "potentials"


def _pair_key(a: str, b: str, order: Sequence[str]) -> str:
    """Canonical 'A-B' key: the species in the order of ``order``."""
    ia, ib = order.index(a), order.index(b)
    return f"{a}-{b}" if ia <= ib else f"{b}-{a}"


@dataclass(frozen=True)
class BuckinghamPair:
    """Short-range term A exp(−r/ρ) − C/r⁶ − D/r⁸ of one pair (eV, Å, eV·Å⁶, eV·Å⁸; D = 0: Buckingham)."""

    A_eV: float
    rho_A: float
    C_eV_A6: float
    D_eV_A8: float = 0.0

    def __post_init__(self) -> None:
        for name in ("A_eV", "rho_A", "C_eV_A6", "D_eV_A8"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ArgumentError(name, f"must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ArgumentError(name, f"must be finite, got {value!r}")
            object.__setattr__(self, name, float(value))
        if self.A_eV < 0 or self.C_eV_A6 < 0 or self.D_eV_A8 < 0:
            raise ArgumentError("A_eV", "A, C and D must be ≥ 0 (repulsion and attractions)")
        if self.rho_A <= 0:
            raise ArgumentError("rho_A", f"must be > 0 Å, got {self.rho_A!r}")

    def energy_eV(self, r_A: float) -> float:
        """Short-range energy at distance r (Å), eV (no Coulomb term)."""
        return (
            self.A_eV * math.exp(-r_A / self.rho_A) - self.C_eV_A6 / r_A**6 - self.D_eV_A8 / r_A**8
        )

    def to_dict(self) -> dict[str, float]:
        """{'A_eV', 'rho_A', 'C_eV_A6'} (+ 'D_eV_A8' when non-zero)."""
        out = {"A_eV": self.A_eV, "rho_A": self.rho_A, "C_eV_A6": self.C_eV_A6}
        if self.D_eV_A8:
            out["D_eV_A8"] = self.D_eV_A8
        return out


@dataclass(frozen=True)
class MorsePair:
    """Short-range term D0[e^{−2α(r−r0)} − 2e^{−α(r−r0)}] + B/r¹² of one pair (Pedone form).

    D0_eV: well depth (eV); alpha_1_A: stiffness (1/Å); r0_A: well position (Å);
    B_eV_A12: short-range repulsion (eV·Å¹²). LAMMPS ``pair_style pedone``.
    """

    D0_eV: float
    alpha_1_A: float
    r0_A: float
    B_eV_A12: float

    def __post_init__(self) -> None:
        for name in ("D0_eV", "alpha_1_A", "r0_A", "B_eV_A12"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ArgumentError(name, f"must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ArgumentError(name, f"must be finite and ≥ 0, got {value!r}")
            object.__setattr__(self, name, float(value))
        if self.alpha_1_A <= 0 or self.r0_A <= 0:
            raise ArgumentError("alpha_1_A", "α and r0 must be > 0")

    def energy_eV(self, r_A: float) -> float:
        """Short-range energy at distance r (Å), eV (no Coulomb term)."""
        x = math.exp(-self.alpha_1_A * (r_A - self.r0_A))
        return self.D0_eV * (x * x - 2.0 * x) + self.B_eV_A12 / r_A**12

    def to_dict(self) -> dict[str, float]:
        """{'D0_eV', 'alpha_1_A', 'r0_A', 'B_eV_A12'}."""
        return {
            "D0_eV": self.D0_eV,
            "alpha_1_A": self.alpha_1_A,
            "r0_A": self.r0_A,
            "B_eV_A12": self.B_eV_A12,
        }


_PAIR_KEYS = {
    BuckinghamPair: ({"A_eV", "rho_A", "C_eV_A6"}, {"D_eV_A8"}),
    MorsePair: ({"D0_eV", "alpha_1_A", "r0_A", "B_eV_A12"}, set()),
}


def _make_pair(key: str, value: Mapping) -> BuckinghamPair | MorsePair:
    """A pair from its JSON mapping; the keys decide the form."""
    for cls, (required, optional) in _PAIR_KEYS.items():
        if required <= set(value):
            extra = set(value) - required - optional
            if extra:
                raise ArgumentError("pairs", f"{key}: unknown keys {sorted(extra)}")
            return cls(**value)
    raise ArgumentError(
        "pairs",
        f"{key}: expected A_eV/rho_A/C_eV_A6[/D_eV_A8] (Buckingham) or "
        f"D0_eV/alpha_1_A/r0_A/B_eV_A12 (Morse, Pedone form), got keys {sorted(value)}",
    )


@dataclass(frozen=True)
class BuckinghamPotential:
    """A rigid-ion Buckingham + Coulomb parameter set with its source.

    species: elements in the order the source lists them. charges: element → charge (e).
    pairs: 'A-B' → :class:`BuckinghamPair`, or None for a Coulomb-only pair; every pair of
    ``species`` has an entry. cutoff_A: short-range (and real-space Coulomb) cutoff, Å.
    doi, citation, table: the publication and the table holding the numbers. read_from: where
    the numbers were read (URL or repo:path@commit). material: the compound it was made for.
    source_values: the numbers as printed in the source, in its units, when ``pairs`` were
    converted from them (the conversion is in ``notes``).
    """

    name: str
    species: tuple[str, ...]
    charges: Mapping[str, float]
    pairs: Mapping[str, BuckinghamPair | MorsePair | None]
    cutoff_A: float
    doi: str
    citation: str
    table: str
    read_from: str = ""
    material: str = ""
    notes: str = ""
    limitations: str = ""
    source_values: Mapping[str, Any] = field(default_factory=dict, compare=False)
    source_path: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        from ase.data import atomic_numbers

        if not isinstance(self.name, str) or not self.name.strip():
            raise ArgumentError("name", f"must be a non-empty string, got {self.name!r}")
        species = tuple(self.species)
        if not species:
            raise ArgumentError("species", "no species")
        bad = [s for s in species if s not in atomic_numbers]
        if bad:
            raise ArgumentError("species", f"not element symbols: {bad}")
        if len(set(species)) != len(species):
            raise ArgumentError("species", f"repeated species in {list(species)}")
        charges = {}
        for s in species:
            if s not in self.charges:
                raise ArgumentError("charges", f"no charge for {s!r}")
            q = self.charges[s]
            if isinstance(q, bool) or not isinstance(q, (int, float)) or not math.isfinite(q):
                raise ArgumentError("charges", f"charge of {s!r} must be a number (e), got {q!r}")
            charges[s] = float(q)
        extra = set(self.charges) - set(species)
        if extra:
            raise ArgumentError("charges", f"charges for species not listed: {sorted(extra)}")
        pairs: dict[str, BuckinghamPair | MorsePair | None] = {}
        for key, value in self.pairs.items():
            parts = key.split("-") if isinstance(key, str) else []
            if len(parts) != 2 or any(p not in species for p in parts):
                raise ArgumentError("pairs", f"key {key!r} is not 'A-B' with A, B in {species}")
            canon = _pair_key(parts[0], parts[1], species)
            if canon in pairs:
                raise ArgumentError("pairs", f"pair {canon} given twice")
            if value is not None and not isinstance(value, (BuckinghamPair, MorsePair)):
                if not isinstance(value, Mapping):
                    raise ArgumentError(
                        "pairs", f"{key}: expected a mapping of parameters, got {value!r}"
                    )
                value = _make_pair(key, value)
            pairs[canon] = value
        forms = {type(v) for v in pairs.values() if v is not None}
        if len(forms) > 1:
            raise ArgumentError(
                "pairs", f"potential {self.name!r} mixes Buckingham and Morse pairs"
            )
        for i, a in enumerate(species):
            for b in species[i:]:
                if _pair_key(a, b, species) not in pairs:
                    raise ArgumentError(
                        "pairs",
                        f"no entry for pair {a}-{b} in potential {self.name!r} (give its "
                        "parameters, or null for a Coulomb-only pair)",
                    )
        cutoff = self.cutoff_A
        if isinstance(cutoff, bool) or not isinstance(cutoff, (int, float)) or not cutoff > 0:
            raise ArgumentError("cutoff_A", f"must be a number > 0 Å, got {cutoff!r}")
        for name in ("doi", "citation", "table"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise ArgumentError(name, f"potential {self.name!r} needs its source {name}")
        object.__setattr__(self, "species", species)
        object.__setattr__(self, "charges", _frozen(charges))
        object.__setattr__(self, "pairs", _frozen(pairs))
        object.__setattr__(self, "cutoff_A", float(cutoff))

    # ------------------------------------------------------------------ lookups

    def pair(self, a: str, b: str) -> BuckinghamPair | MorsePair | None:
        """Parameters of pair a–b (None: Coulomb only). Raises UnsupportedElementError."""
        for s in (a, b):
            if s not in self.species:
                raise UnsupportedElementError(
                    s, f"potential {self.name!r} ({'/'.join(self.species)})"
                )
        return self.pairs[_pair_key(a, b, self.species)]

    def missing_elements(self, symbols: Iterable[str]) -> list[str]:
        """Elements of ``symbols`` this set has no parameters for (in first-seen order)."""
        return [s for s in dict.fromkeys(symbols) if s not in self.species]

    def covers(self, symbols: Iterable[str]) -> bool:
        """True when every element of ``symbols`` has a charge and all its pairs."""
        return not self.missing_elements(symbols)

    def check(self, symbols: Iterable[str]) -> list[str]:
        """The distinct elements of ``symbols`` in this set's order; raises if one is missing."""
        symbols = list(symbols)
        missing = self.missing_elements(symbols)
        if missing:
            raise UnsupportedElementError(
                missing[0], f"potential {self.name!r} (species {', '.join(self.species)})"
            )
        present = set(symbols)
        return [s for s in self.species if s in present]

    def net_charge(self, symbols: Iterable[str]) -> float:
        """Total charge (e) of atoms with these symbols."""
        symbols = list(symbols)
        self.check(symbols)
        return float(sum(self.charges[s] for s in symbols))

    @property
    def pair_style(self) -> str:
        """'buck/coul/long' (all D = 0), 'born/coul/long' (a pair with a −D/r⁸ term) or
        'pedone + coul/long' (Morse pairs; LAMMPS hybrid/overlay)."""
        if any(isinstance(p, MorsePair) for p in self.pairs.values()):
            return "pedone + coul/long"
        has_d = any(p is not None and p.D_eV_A8 for p in self.pairs.values())
        return "born/coul/long" if has_d else "buck/coul/long"

    # ------------------------------------------------------------------ LAMMPS

    def to_lammps_commands(
        self,
        type_symbols: Sequence[str] | None = None,
        *,
        kspace: str = "pppm",
        kspace_accuracy: float = 1e-5,
        set_charges: bool = True,
    ) -> list[str]:
        """LAMMPS commands for this set, to follow ``read_data`` (units metal, atom_style charge).

        ``pair_style buck/coul/long`` (or ``born/coul/long`` for sets with D terms), one
        ``pair_coeff`` per type pair, ``kspace_style``.

        type_symbols: element of LAMMPS atom types 1, 2, ... (default: ``species``).
        kspace: 'pppm' or 'ewald'; kspace_accuracy: relative force accuracy. set_charges: add
        ``set type i charge q`` lines (harmless when the data file already has the charges).
        Coulomb-only pairs get A = 0.
        """
        types = list(self.species if type_symbols is None else type_symbols)
        if not types:
            raise ArgumentError("type_symbols", "no atom types")
        if len(set(types)) != len(types):
            raise ArgumentError("type_symbols", f"repeated element in {types}")
        self.check(types)
        if kspace not in _KSPACE:
            raise ArgumentError("kspace", f"must be one of {_KSPACE}, got {kspace!r}")
        if not 0 < kspace_accuracy < 1:
            raise ArgumentError("kspace_accuracy", f"must be in (0, 1), got {kspace_accuracy!r}")
        cmds = []
        if set_charges:
            cmds += [f"set type {i + 1} charge {self.charges[s]:.10g}" for i, s in enumerate(types)]
        style = self.pair_style
        cut = f"{self.cutoff_A:.10g}"
        if style.startswith("pedone"):
            cmds += [f"pair_style hybrid/overlay pedone {cut} coul/long {cut}",
                     "pair_coeff * * coul/long"]  # fmt: skip
        else:
            cmds.append(f"pair_style {style} {cut}")
        for i, a in enumerate(types):
            for j in range(i, len(types)):
                b = types[j]
                p = self.pair(a, b)
                head = f"pair_coeff {i + 1} {j + 1}"
                if style.startswith("pedone"):
                    if p is not None:  # a Coulomb-only pair needs no pedone line
                        cmds.append(
                            f"{head} pedone {p.D0_eV:.10g} {p.alpha_1_A:.10g} {p.r0_A:.10g} "
                            f"{p.B_eV_A12:.10g}  # {a}-{b}"
                        )
                elif p is None:
                    zero = "0.0 1.0 0.0 0.0 0.0" if style.startswith("born") else "0.0 1.0 0.0"
                    cmds.append(f"{head} {zero}  # {a}-{b}: Coulomb only")
                elif style.startswith("born"):
                    # born: A exp((σ − r)/ρ) − C/r⁶ + D/r⁸, so σ = 0 and the sign of D flips
                    cmds.append(
                        f"{head} {p.A_eV:.10g} {p.rho_A:.10g} 0.0 {p.C_eV_A6:.10g} "
                        f"{-p.D_eV_A8:.10g}  # {a}-{b}"
                    )
                else:
                    cmds.append(f"{head} {p.A_eV:.10g} {p.rho_A:.10g} {p.C_eV_A6:.10g}  # {a}-{b}")
        cmds.append(f"kspace_style {kspace} {kspace_accuracy:.3g}")
        return cmds

    # ------------------------------------------------------------------ export

    def to_dict(self) -> dict[str, Any]:
        """The set in the JSON schema of ``lilib/data/potentials``."""
        return {
            "name": self.name,
            "material": self.material,
            "species": list(self.species),
            "charges": dict(self.charges),
            "pairs": {k: (None if v is None else v.to_dict()) for k, v in self.pairs.items()},
            "cutoff_A": self.cutoff_A,
            "doi": self.doi,
            "citation": self.citation,
            "table": self.table,
            "read_from": self.read_from,
            "notes": self.notes,
            "source_values": dict(self.source_values),
        }

    def summary(self) -> dict[str, Any]:
        """Name, material, species, charges and source as one flat dict."""
        return {
            "name": self.name,
            "material": self.material,
            "species": "/".join(self.species),
            "charges_e": ", ".join(f"{s} {q:+g}" for s, q in self.charges.items()),
            "pair_style": self.pair_style,
            "cutoff_A": self.cutoff_A,
            "doi": self.doi,
            "table": self.table,
        }

    def __hash__(self) -> int:
        return hash((self.name, self.species, tuple(self.charges.items()), self.cutoff_A))


class _FrozenDict(dict):
    """A dict that refuses changes (keeps the frozen dataclass honest)."""

    def _readonly(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("potential parameters are read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self.items()))

    def __reduce__(self) -> tuple:
        return (_FrozenDict, (dict(self),))


def _frozen(d: Mapping) -> _FrozenDict:
    return _FrozenDict(d)


# ---------------------------------------------------------------------- files


def load_potential_file(path: str | Path) -> BuckinghamPotential:
    """A parameter set from a JSON file in the schema of ``lilib/data/potentials``."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(path, "no such file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FileFormatError(path, f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise FileFormatError(path, "expected a JSON object")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise FileFormatError(path, f"missing keys {missing}")
    try:
        pot = BuckinghamPotential(
            name=data["name"],
            species=tuple(data["species"]),
            charges=data["charges"],
            pairs=data["pairs"],
            cutoff_A=data["cutoff_A"],
            doi=data["doi"],
            citation=data["citation"],
            table=data["table"],
            read_from=str(data.get("read_from", "")),
            material=str(data.get("material", "")),
            notes=str(data.get("notes", "")),
            limitations=str(data.get("limitations", "")),
            source_values=dict(data.get("source_values") or {}),
            source_path=str(path),
        )
    except ArgumentError as exc:
        raise FileFormatError(path, str(exc)) from None
    except TypeError as exc:
        raise FileFormatError(path, f"malformed entry: {exc}") from None
    return pot


def _registry() -> dict[str, Path]:
    directory = potential_dir()
    return {p.stem: p for p in sorted(directory.glob("*.json"))} if directory.is_dir() else {}


def available_potentials() -> list[str]:
    """Names of the shipped parameter sets, sorted."""
    return list(_registry())


def load_potential(name: str | BuckinghamPotential) -> BuckinghamPotential:
    """A shipped parameter set by name (case-insensitive); a potential is returned unchanged.

    Raises :class:`UnknownPotentialError` (an UnknownNameError) with close matches.
    """
    if isinstance(name, BuckinghamPotential):
        return name
    if not isinstance(name, str):
        raise ArgumentError("name", f"expected a potential name, got {name!r}")
    reg = _registry()
    lowered = {k.lower(): k for k in reg}
    key = lowered.get(name.strip().lower())
    if key is None:
        raise UnknownPotentialError(name, reg)
    pot = load_potential_file(reg[key])
    try:
        from lilib import provenance

        provenance.record_file(reg[key], role="potential")
    except ImportError:  # provenance is optional here
        pass
    return pot


def potential_for(symbols: Iterable[str], material: str | None = None) -> BuckinghamPotential:
    """A shipped set that covers every element of ``symbols``.

    Prefers a set made for ``material`` (e.g. 'LiF'), then the set with the fewest extra
    species, then the name. Raises :class:`UnsupportedElementError` naming an element no
    shipped set covers together with the others.
    """
    elements = list(dict.fromkeys(symbols))
    if not elements:
        raise ArgumentError("symbols", "no elements given")
    pots = [load_potential(n) for n in available_potentials()]
    fitting = [p for p in pots if p.covers(elements)]
    if not fitting:
        if not pots:
            raise UnsupportedElementError(elements[0], "any shipped potential (none is shipped)")
        # name the element that the closest set lacks
        best = min(pots, key=lambda p: (len(p.missing_elements(elements)), p.name))
        missing = best.missing_elements(elements)
        raise UnsupportedElementError(
            missing[0],
            f"any shipped potential together with {'/'.join(e for e in elements if e != missing[0])} "
            f"(closest: {best.name!r}, species {'/'.join(best.species)}; shipped: "
            f"{', '.join(p.name for p in pots)})",
        )

    def rank(p: BuckinghamPotential) -> tuple:
        return (material is None or p.material != material, len(p.species) - len(elements), p.name)

    return min(fitting, key=rank)
