"""Tests of lilib.structures: every shipped entry against its own published data.

Physical minimum distance used below: no two atoms closer than 0.75 × the sum of their
covalent radii (ase.data.covalent_radii, Cordero et al. 2008); pairs involving H use
0.60 × the sum, because X-H bonds refined from X-ray data come out short.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from ase.data import atomic_numbers, covalent_radii
from ase.neighborlist import neighbor_list

from lilib import structures
from lilib.errors import FileFormatError, LilibError, UnknownStructureError
from lilib.structures import _entries
from lilib.structures._build import density_g_cm3, published_structure, site_orbits

ROOT = Path(__file__).resolve().parents[1]

try:
    NAMES = structures.names()
    SCAN_ERROR = None
except LilibError as exc:  # a malformed data file must not hide the other tests
    NAMES, SCAN_ERROR = [], exc

DISORDERED = [n for n in NAMES if not structures.info(n).is_ordered]
ORDERED = [n for n in NAMES if structures.info(n).is_ordered]
WITH_ALIASES = [n for n in NAMES if structures.info(n).aliases]


def _nominal(name):
    from pymatgen.core import Composition

    return Composition(structures.info(name).nominal_formula)


def _min_factor(a: str, b: str) -> float:
    return 0.60 if "H" in (a, b) else 0.75


def test_data_directory_scans_cleanly():
    assert SCAN_ERROR is None, f"a data file is malformed: {SCAN_ERROR}"
    assert sorted(NAMES) == NAMES
    assert NAMES, "the structure library is empty"


@pytest.mark.parametrize("name", NAMES)
def test_formula_matches_nominal(name):
    from pymatgen.core import Composition

    atoms = structures.load(name)
    got = Composition(atoms.get_chemical_formula())
    assert got.reduced_formula == _nominal(name).reduced_formula


@pytest.mark.parametrize("name", NAMES)
def test_charge_neutral(name):
    entry = structures.info(name)
    charge = sum(entry.oxidation_states[s] for s in structures.load(name).get_chemical_symbols())
    assert abs(charge) < 1e-6
    nominal_charge = sum(entry.oxidation_states[str(el)] * n for el, n in _nominal(name).items())
    assert abs(nominal_charge) < 1e-6, "the nominal formula itself is not neutral"


@pytest.mark.parametrize("name", NAMES)
def test_density_matches_published_dx(name):
    entry = structures.info(name)
    if entry.dx_g_cm3 is None:
        pytest.skip(f"{name}: no source states Dx ({entry.dx_note})")
    density = density_g_cm3(structures.load(name))
    assert density == pytest.approx(entry.dx_g_cm3, rel=0.02), (density, entry.dx_g_cm3)
    assert entry.density_g_cm3() == pytest.approx(density)


@pytest.mark.parametrize("name", NAMES)
def test_no_short_contacts(name):
    atoms = structures.load(name)
    i, j, d = neighbor_list("ijd", atoms, 3.5)
    symbols = atoms.get_chemical_symbols()
    for a, b, dist in zip(i, j, d):
        sa, sb = symbols[a], symbols[b]
        limit = _min_factor(sa, sb) * (
            covalent_radii[atomic_numbers[sa]] + covalent_radii[atomic_numbers[sb]]
        )
        assert dist >= limit, f"{name}: {sa}{a}-{sb}{b} at {dist:.3f} Å < {limit:.3f} Å"


@pytest.mark.parametrize("name", ORDERED)
def test_spacegroup_recovered(name):
    import spglib

    atoms = structures.load(name)
    cell = (atoms.cell[:], atoms.get_scaled_positions(), atoms.numbers)
    expected = structures.info(name).spacegroup_number
    found = set()
    for symprec in (1e-3, 1e-2):
        with (
            warnings.catch_warnings()
        ):  # spglib 2.x warns about its legacy error handling on every call
            warnings.simplefilter("ignore", DeprecationWarning)
            dataset = spglib.get_symmetry_dataset(cell, symprec=symprec)
        found.add(None if dataset is None else dataset.number)
    assert expected in found, f"{name}: spglib finds {found}, published {expected}"


@pytest.mark.parametrize("name", NAMES)
def test_wyckoff_multiplicities(name):
    """Orbit sizes equal the published Wyckoff multiplicities (catches setting/origin mistakes)."""
    entry = structures.info(name)
    for site, orbit in zip(entry.sites, site_orbits(entry)):
        if site.multiplicity is not None:
            assert len(orbit) == site.multiplicity, (
                f"{name} {site.label}: {len(orbit)} positions, {site.wyckoff}"
            )


@pytest.mark.parametrize("name", NAMES)
def test_published_cell_content_matches_formula(name):
    """occupancy × multiplicity summed per element ≈ nominal × Z (within 5 %)."""
    entry = structures.info(name)
    content: dict[str, float] = {}
    for site, orbit in zip(entry.sites, site_orbits(entry)):
        for element, occ in site.species.items():
            content[element] = content.get(element, 0.0) + occ * len(orbit)
    nominal = {str(el): n * entry.Z for el, n in _nominal(name).items()}
    assert set(content) == set(nominal)
    for element, n in nominal.items():
        assert content[element] == pytest.approx(n, rel=0.05), (element, content[element], n)


@pytest.mark.parametrize("name", NAMES)
def test_metadata_and_doi(name):
    entry = structures.info(name)
    if entry.doi is None:  # allowed only with a reason and another persistent identifier
        assert entry.no_doi and entry.identifier
    else:
        assert entry.doi.startswith("10.")
    atoms = structures.load(name)
    for key in (
        "name",
        "title",
        "family",
        "spacegroup_symbol",
        "spacegroup_number",
        "doi",
        "reference",
        "ordered_approximant",
        "dx_g_cm3",
        "temperature_K",
    ):
        assert key in atoms.info
    assert atoms.info["name"] == name
    json.dumps({k: v for k, v in atoms.info.items()})  # plain Python only
    assert atoms.info["ordered_approximant"] == (not entry.is_ordered)


@pytest.mark.parametrize("name", NAMES)
def test_pymatgen_views(name):
    entry = structures.info(name)
    published = structures.load_pymatgen(name, ordered=False)
    assert len(published) == sum(len(o) for o in site_orbits(entry))
    assert all(
        getattr(sp, "oxi_state", None) is not None for site in published for sp in site.species
    )
    assert published.is_ordered == entry.is_ordered
    ordered = structures.load_pymatgen(name)
    assert ordered.is_ordered and len(ordered) == len(structures.load(name))
    assert abs(ordered.charge) < 1e-6


@pytest.mark.parametrize("name", DISORDERED)
def test_ordered_approximant(name):
    """Stoichiometry exactly nominal × Z × cells, provenance recorded (neutrality, contacts, Dx: above)."""
    atoms = structures.load(name)
    entry = structures.info(name)
    assert atoms.info["ordered_approximant"] is True
    assert atoms.info["ordering_rule"] and atoms.info["ewald_energy_eV"] < 0
    cells = int(np.prod(atoms.info["ordering_supercell"]))
    symbols = atoms.get_chemical_symbols()
    for element, n in _nominal(name).items():
        assert symbols.count(str(element)) == round(n * entry.Z * cells)


def test_ordered_files_belong_to_disordered_entries():
    directory = _entries.ordered_dir()
    files = sorted(p.stem for p in directory.glob("*.json")) if directory.is_dir() else []
    assert set(files) <= set(DISORDERED), set(files) - set(DISORDERED)


@pytest.mark.parametrize("name", WITH_ALIASES)
def test_aliases_and_case(name):
    for alias in structures.info(name).aliases:
        assert structures.info(alias).name == name
        assert structures.info(alias.upper()).name == name
    assert structures.load(name.lower()).info["name"] == name


def test_case_insensitive_all():
    for name in NAMES:
        assert structures.info(name.swapcase()).name == name


def test_unknown_name_suggests():
    if not NAMES:
        pytest.skip("empty library")
    typo = NAMES[0][:-1] + ("x" if NAMES[0][-1] != "x" else "y")
    with pytest.raises(UnknownStructureError) as err:
        structures.load(typo)
    assert NAMES[0] in err.value.suggestions
    assert "did you mean" in str(err.value)
    with pytest.raises(KeyError):
        structures.info("no-such-structure-zzz")


def test_table():
    df = structures.table()
    assert len(df) == len(NAMES)
    for col in (
        "name",
        "formula",
        "family",
        "spacegroup",
        "Z",
        "a",
        "b",
        "c",
        "alpha",
        "beta",
        "gamma",
        "density_g_cm3",
        "dx_g_cm3",
        "doi",
        "identifier",
        "ordered_approximant",
    ):
        assert col in df.columns


GOOD = {
    "name": "X",
    "title": "t",
    "family": "halide",
    "nominal_formula": "LiF",
    "spacegroup": {"number": 225, "symbol": "Fm-3m", "setting": 1},
    "lattice": {"a": 4.0, "b": 4.0, "c": 4.0, "alpha": 90, "beta": 90, "gamma": 90},
    "sites": [
        {"label": "Li", "species": {"Li": 1.0}, "wyckoff": "4a", "xyz": [0, 0, 0]},
        {"label": "F", "species": {"F": 1.0}, "wyckoff": "4b", "xyz": [0.5, 0.5, 0.5]},
    ],
    "Z": 4,
    "oxidation_states": {"Li": 1, "F": -1},
    "citation": {"doi": "10.1/x", "reference": "r"},
}


def _broken(**changes):
    data = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('{"name": "X", ', "invalid JSON"),
        ("[1, 2]", "top level"),
        (_broken(lattice={"a": 4.0}), "lattice.b"),
        (_broken(sites=[{"label": "Li", "species": {"Li": 1.5}, "xyz": [0, 0, 0]}]), "occupancy"),
        (_broken(citation={"reference": "no doi"}), "no_doi"),
        (_broken(citation={"reference": "r", "no_doi": "1938"}), "identifier"),
        (_broken(citation={"reference": "r", "doi": "doi.org/10.1/x"}), "starting with '10.'"),
        (_broken(oxidation_states={"Li": 1}), "oxidation_states"),
        (_broken(Z=None), "'Z'"),
    ],
)
def test_malformed_file_raises_file_format_error(tmp_path, text, fragment):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(FileFormatError) as err:
        _entries.read_entry(path)
    assert str(path) in str(err.value) and fragment in str(err.value)
    with pytest.raises(FileFormatError):
        _entries.scan(tmp_path)


def test_entry_without_doi_keeps_its_identifier(tmp_path):
    data = json.loads(json.dumps(GOOD))
    data["citation"] = {"reference": "r", "no_doi": "a 1938 article", "identifier": "COD 1"}
    path = tmp_path / "nodoi.json"
    path.write_text(json.dumps(data))
    entry = _entries.read_entry(path)
    assert entry.doi is None and entry.identifier == "COD 1"
    assert entry.metadata()["identifier"] == "COD 1"


def test_good_file_builds(tmp_path):
    path = tmp_path / "good.json"
    path.write_text(json.dumps(GOOD))
    entry = _entries.read_entry(path)
    assert len(published_structure(entry)) == 8


def test_order_script_smoke():
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "order_structures.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "smoke OK" in out.stdout


def _disordered_entry(tmp_path):
    data = json.loads(json.dumps(GOOD))
    data.update(
        name="toy-disordered",
        nominal_formula="Li2MgCl4",
        sites=[
            {"label": "M", "species": {"Li": 0.5, "Mg": 0.25}, "wyckoff": "4a", "xyz": [0, 0, 0]},
            {"label": "Cl", "species": {"Cl": 1.0}, "wyckoff": "4b", "xyz": [0.5, 0.5, 0.5]},
        ],
        Z=1,
        oxidation_states={"Li": 1, "Mg": 2, "Cl": -1},
    )
    path = tmp_path / "toy.json"
    path.write_text(json.dumps(data))
    return _entries.read_entry(path)


def test_ordering_is_deterministic(tmp_path):
    from lilib.structures._ordering import order_entry

    entry = _disordered_entry(tmp_path)
    first = order_entry(entry, n_starts=2, sweeps=5)
    second = order_entry(entry, n_starts=2, sweeps=5)
    assert first.species == second.species
    np.testing.assert_allclose(first.frac_coords, second.frac_coords)
    assert first.counts == {"Li": 2, "Mg": 1, "Cl": 4}


def test_stale_or_missing_approximant_is_refused(tmp_path):
    from lilib.errors import DataNotFoundError
    from lilib.structures import _ordered_atoms

    entry = _disordered_entry(tmp_path)
    with pytest.raises(DataNotFoundError):
        _ordered_atoms(entry)
    ordered = tmp_path / "ordered"
    ordered.mkdir()
    (ordered / "toy-disordered.json").write_text(
        json.dumps(
            {
                "source_sha256": "0" * 64,
                "cell": np.eye(3).tolist(),
                "species": ["Li"],
                "frac_coords": [[0, 0, 0]],
            }
        )
    )
    with pytest.raises(FileFormatError, match="stale"):
        _ordered_atoms(entry)
