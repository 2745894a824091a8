#!/usr/bin/env python
"""Make the ordered approximants shipped in ``lilib/structures/data/ordered/``.

Every library entry with partial occupancies gets one derived file
``data/ordered/<name>.json`` holding the cell, species and fractional coordinates of a
deterministic ordered approximant, plus its provenance: the rule, the Ewald energy,
pymatgen/numpy versions, the date, this script's name and the SHA-256 of the entry's
structural data (so ``lilib.structures.load`` refuses a stale approximant).

The rule (see ``lilib/structures/_ordering.py``, copied into each file):
cell = published conventional cell, repeated k (1..4) times along its shortest axis where
that makes occupancy × multiplicity nearly integral; per-orbit counts = largest-remainder
rounding of occupancy × multiplicity constrained to exactly nominal_formula × Z × k; the
arrangement inside each orbit minimises the Ewald energy of the stated oxidation states
(seeded simulated annealing + greedy swaps, seed 0, several starts; lowest kept).

Usage::

    python scripts/order_structures.py                 # every disordered entry
    python scripts/order_structures.py Li6PS5Cl LGPS   # some entries (aliases accepted)
    python scripts/order_structures.py --smoke         # fast self-check into a temp dir

Runs in a few minutes on 2 cores for the current library.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lilib.structures import _entries, info, names  # noqa: E402
from lilib.structures._build import density_g_cm3, read_ordered_file, source_digest  # noqa: E402
from lilib.structures._ordering import RULE, order_entry  # noqa: E402

SCRIPT = "scripts/order_structures.py"


def write_approximant(entry, out_dir: Path, n_starts: int = 8, sweeps: int = 60) -> Path:
    """Order one entry and write its JSON file into ``out_dir``; returns the path."""
    import pymatgen.core

    t0 = time.perf_counter()
    result = order_entry(entry, n_starts=n_starts, sweeps=sweeps, seed=0)
    check = _pymatgen_ewald(result, entry.oxidation_states)
    record = {
        "name": entry.name,
        "source_entry": entry.path.name if entry.path else None,
        "source_sha256": source_digest(entry),
        "rule": RULE,
        "supercell": result.supercell,
        "formula_in_cell": result.counts,
        "ewald_energy_eV": round(result.ewald_energy_eV, 6),
        "ewald_energy_eV_pymatgen_check": round(check, 6),
        "oxidation_states": entry.oxidation_states,
        "seed": 0,
        "n_starts": n_starts,
        "sweeps": sweeps,
        "engine": f"pymatgen {pymatgen.core.__version__} EwaldSummation; numpy {np.__version__}",
        "script": SCRIPT,
        "date": _dt.date.today().isoformat(),
        "seconds": round(time.perf_counter() - t0, 1),
        "cell": [[round(float(x), 8) for x in row] for row in result.cell],
        "species": result.species,
        "frac_coords": [[round(float(x), 8) for x in row] for row in result.frac_coords],
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{entry.name}.json"
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return path


def _pymatgen_ewald(result, oxidation_states) -> float:
    from pymatgen.analysis.ewald import EwaldSummation
    from pymatgen.core import Lattice, Species, Structure

    species = [Species(s, oxidation_states[s]) for s in result.species]
    structure = Structure(Lattice(result.cell), species, result.frac_coords)
    return float(EwaldSummation(structure).total_energy)


def smoke() -> int:
    """Order a small synthetic disordered entry into a temp dir and check the result."""
    entry_json = {
        "name": "smoke-LiMgCl3",
        "title": "synthetic rocksalt with Li/Mg/vacancy disorder (smoke test only)",
        "family": "halide",
        "nominal_formula": "Li2MgCl4",
        "spacegroup": {"number": 225, "symbol": "Fm-3m", "setting": 1},
        "lattice": {"a": 5.2, "b": 5.2, "c": 5.2, "alpha": 90, "beta": 90, "gamma": 90},
        "sites": [
            {"label": "M", "species": {"Li": 0.5, "Mg": 0.25}, "wyckoff": "4a", "xyz": [0, 0, 0]},
            {"label": "Cl", "species": {"Cl": 1.0}, "wyckoff": "4b", "xyz": [0.5, 0.5, 0.5]},
        ],
        "Z": 1,
        "oxidation_states": {"Li": 1, "Mg": 2, "Cl": -1},
        "citation": {"doi": "10.0000/smoke", "reference": "none"},
    }
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "smoke.json"
        src.write_text(json.dumps(entry_json), encoding="utf-8")
        entry = _entries.read_entry(src)
        path = write_approximant(entry, tmp / "ordered", n_starts=2, sweeps=10)
        atoms, meta = read_ordered_file(path)
        symbols = atoms.get_chemical_symbols()
        counts = {s: symbols.count(s) for s in set(symbols)}
        assert counts == {"Li": 2, "Mg": 1, "Cl": 4}, counts
        assert abs(meta["ewald_energy_eV"] - meta["ewald_energy_eV_pymatgen_check"]) < 1e-3 * abs(
            meta["ewald_energy_eV"]
        ), meta
        assert meta["source_sha256"] == source_digest(entry)
        charge = sum(entry.oxidation_states[s] for s in symbols)
        assert charge == 0, charge
        print(
            f"smoke OK: {counts}, Ewald {meta['ewald_energy_eV']:.4f} eV, density {density_g_cm3(atoms):.3f} g/cm3"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", help="entries to order (default: every disordered entry)"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="fast self-check in a temporary directory"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="output directory (default: the package's)"
    )
    parser.add_argument("--starts", type=int, default=8, help="random starts per entry (default 8)")
    args = parser.parse_args(argv)
    if args.smoke:
        return smoke()
    entries = [info(n) for n in args.names] if args.names else [info(n) for n in names()]
    todo = [e for e in entries if not e.is_ordered]
    out = args.out or _entries.ordered_dir()
    for entry in todo:
        t0 = time.perf_counter()
        path = write_approximant(entry, out, n_starts=args.starts)
        atoms, meta = read_ordered_file(path)
        print(
            f"{entry.name}: {len(atoms)} atoms, supercell {meta['supercell']}, Ewald {meta['ewald_energy_eV']:.3f} eV, "
            f"density {density_g_cm3(atoms):.3f} (Dx {entry.dx_g_cm3}) g/cm3, {time.perf_counter() - t0:.1f} s -> {path}"
        )
    if not todo:
        print("no disordered entries to order")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
