"""Pro-atom table, its loader, interpolation, grid superposition and the generating script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.data import atomic_numbers

from lilib.charges.proatoms import (
    ProAtoms,
    ProAtomsError,
    as_proatoms,
    load_proatoms,
    promolecule_density,
)
from lilib.errors import ArgumentError, FileFormatError, LilibError

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = [
    "Li",
    "Na",
    "H",
    "B",
    "N",
    "O",
    "F",
    "P",
    "S",
    "Cl",
    "Br",
    "I",
    "Se",
    "Ge",
    "Y",
    "Zr",
    "La",
    "Fe",
    "Co",
    "Ni",
    "Ca",
]


@pytest.fixture(scope="module")
def table() -> ProAtoms:
    return load_proatoms()


def _electrons(r, rho):
    return float(np.trapezoid(4 * np.pi * r**3 * rho, np.log(r)))


def test_table_covers_the_structure_library(table):
    assert set(LIBRARY) <= set(table.elements)
    assert table.meta["functional"] == "PBE" and table.meta["engine"] == "PySCF"
    for el in LIBRARY:
        qs = table.charges(el)
        assert 0 in qs and qs == tuple(range(qs[0], qs[-1] + 1))


def test_every_entry_integrates_to_z_minus_q(table):
    r = table.r
    for (el, q), entry in table.entries.items():
        assert entry.n_electrons == atomic_numbers[el] - q
        assert abs(_electrons(r, entry.total) - (atomic_numbers[el] - q)) < 1e-4, (el, q)


def test_shells_and_core_parts(table):
    assert table.core_boundaries("F")[:2] == (2, 4)
    assert {2, 10, 18} <= set(table.core_boundaries("Fe"))
    labels = [s["shell"] for s in table.shells("Fe", 2)]
    assert labels[:4] == ["1s", "2s", "2p", "3s"] and "4s" not in labels
    r = np.geomspace(1e-3, 6, 200)
    total = table.radial_density("Fe", r, 0)
    core = table.radial_density("Fe", r, 0, part="core", n_core=18)
    val = table.radial_density("Fe", r, 0, part="valence", n_core=18)
    np.testing.assert_allclose(core + val, total, rtol=1e-4, atol=1e-12)  # PCHIP is not linear
    assert abs(_electrons(table.r, table._part("Fe", 0, "core", 18)) - 18) < 1e-4
    with pytest.raises(ArgumentError, match="valid values: 2, 4, 10"):
        table.radial_density("Fe", r, 0, part="core", n_core=11)


def test_fractional_charge_is_linear(table):
    r = np.geomspace(1e-3, 8, 50)
    mid = table.radial_density("Li", r, 0.25)
    ref = 0.75 * table.radial_density("Li", r, 0) + 0.25 * table.radial_density("Li", r, 1)
    np.testing.assert_allclose(mid, ref, rtol=1e-12, atol=1e-14)
    assert table.n_electrons("Li", 0.25) == pytest.approx(2.75)


def test_interpolation_reproduces_table_points(table):
    r = table.r[10:-40:7]
    entry = table.entries[("O", 0)]
    np.testing.assert_allclose(table.radial_density("O", r), entry.total[10:-40:7], rtol=2e-3)


def test_missing_element_and_charge_are_named(table):
    with pytest.raises(ProAtomsError, match=r"'Xe'.*available: H, Li"):
        table.charges("Xe")
    with pytest.raises(
        ProAtomsError, match=r"\+5.* of Li is outside.*available charges for Li: -1, \+0, \+1, \+2"
    ):
        table.radial_density("Li", [1.0], 5)
    with pytest.raises(LilibError, match="Kr"):
        promolecule_density(Atoms("LiKr", positions=[[0, 0, 0], [1, 1, 1]], cell=[4] * 3), (8,) * 3)


def _brute_force(atoms, shape, table, charges=None):
    """Direct image sum with numpy at every grid point (reference for the kernel)."""
    cell = atoms.cell.array
    grid = np.stack(np.meshgrid(*(np.arange(n) / n for n in shape), indexing="ij"), -1) @ cell
    out = np.zeros(shape)
    q = np.zeros(len(atoms)) if charges is None else charges
    rng = range(-3, 4)
    for s, pos, qa in zip(atoms.get_chemical_symbols(), atoms.positions, q):
        rc = table.cutoff(s, qa)
        for i in rng:
            for j in rng:
                for k in rng:
                    d = np.linalg.norm(grid - pos - np.array([i, j, k]) @ cell, axis=-1)
                    inside = d < rc
                    out[inside] += table.radial_density(s, d[inside], qa)
    return out


def test_kernel_matches_direct_image_sum_in_a_skewed_cell(table):
    atoms = Atoms(
        "LiF",
        scaled_positions=[[0.1, 0.2, 0.3], [0.6, 0.55, 0.8]],
        cell=[[3.2, 0, 0], [1.1, 2.9, 0], [0.4, 0.7, 3.1]],
        pbc=True,
    )
    shape = (10, 11, 12)
    grid = promolecule_density(atoms, shape, table, charges=[0.4, -0.3])
    ref = _brute_force(atoms, shape, table, charges=np.array([0.4, -0.3]))
    np.testing.assert_allclose(grid, ref, rtol=1e-9, atol=1e-12)


def test_axis_permutation(table):
    atoms = bulk("LiF", "rocksalt", a=4.03)
    shape = (12, 14, 16)
    rho = promolecule_density(atoms, shape, table)
    perm = [2, 0, 1]
    p_atoms = atoms.copy()
    p_atoms.set_cell(atoms.cell.array[perm], scale_atoms=False)
    rho_p = promolecule_density(p_atoms, tuple(shape[i] for i in perm), table)
    np.testing.assert_allclose(rho_p, np.transpose(rho, perm), rtol=1e-10, atol=1e-12)


def test_core_plus_valence_on_grid(table):
    atoms = bulk("LiF", "rocksalt", a=4.03)
    kw = {"n_core": {"Li": 2, "F": 2}}
    core = promolecule_density(atoms, (16,) * 3, table, part="core", **kw)
    val = promolecule_density(atoms, (16,) * 3, table, part="valence", **kw)
    tot = promolecule_density(atoms, (16,) * 3, table)
    # the core's shorter cutoff leaves < 1e-5 e per atom outside
    assert np.abs(core + val - tot).max() < 1e-6 * tot.max()
    with pytest.raises(ArgumentError, match="n_core"):
        promolecule_density(atoms, (8,) * 3, table, part="core")


def test_user_dict_proatoms():
    r = np.geomspace(1e-4, 12, 300)
    gauss = {el: (r, n * np.exp(-(r**2)) / np.pi**1.5) for el, n in (("Li", 3), ("F", 9))}
    user = as_proatoms(gauss)
    assert user.elements == ["Li", "F"] and user.charges("Li") == (0,)
    assert user.n_electrons("F") == pytest.approx(9, abs=1e-6)
    atoms = bulk("LiF", "rocksalt", a=4.03)
    rho = promolecule_density(atoms, (24,) * 3, gauss)
    assert rho.sum() * atoms.get_volume() / 24**3 == pytest.approx(12, abs=1e-4)
    with pytest.raises(ArgumentError, match="proatoms"):
        as_proatoms({"Li": (r, r[:-1])})


def test_user_file_and_malformed_files(tmp_path):
    r = np.geomspace(1e-4, 10, 100)
    good = tmp_path / "mine.npz"
    np.savez(good, r=r, Li=np.exp(-r) / (8 * np.pi) * 3, **{"Li_+1": np.exp(-2 * r) * 2 / np.pi})
    user = load_proatoms(good)
    assert user.charges("Li") == (0, 1) and str(good) in user.source
    assert user.n_electrons("Li", 1) == pytest.approx(2, abs=1e-3)

    cases = {
        "no_r.npz": {"Li": np.ones(10)},
        "bad_shape.npz": {"r": r, "Li": np.ones(5)},
        "bad_name.npz": {"r": r, "Qq": np.ones(100)},
        "bad_grid.npz": {"r": -r, "Li": np.ones(100)},
    }
    for name, arrays in cases.items():
        path = tmp_path / name
        np.savez(path, **arrays)
        with pytest.raises(FileFormatError) as err:
            load_proatoms(path)
        assert name in str(err.value)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file")
    with pytest.raises(FileFormatError, match=r"junk\.npz"):
        load_proatoms(junk)
    meta = {
        "format": "lilib-proatoms-1",
        "entries": [{"element": "Li", "charge": 0, "n_electrons": 3}],
    }
    broken = tmp_path / "broken.npz"
    np.savez(broken, r=r, meta=np.array(json.dumps(meta)))
    with pytest.raises(FileFormatError, match=r"broken\.npz.*Li_\+0"):
        load_proatoms(broken)
    meta["entries"] = [{"element": "Li"}]
    np.savez(broken, r=r, meta=np.array(json.dumps(meta)))
    with pytest.raises(FileFormatError, match=r"broken\.npz.*lacks element/charge"):
        load_proatoms(broken)
    with pytest.raises(LilibError, match=r"missing\.npz"):
        load_proatoms(tmp_path / "missing.npz")


def test_smoke_run_of_the_script(tmp_path):
    out = tmp_path / "smoke.npz"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_proatoms.py"), "--smoke", "--out", str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "largest |∫ρ − (Z − q)|" in proc.stdout
    smoke = load_proatoms(out)
    assert smoke.elements == ["Li", "F"]
    assert smoke.charges("F") == (-1, 0, 1)
    assert smoke.meta["basis"] == "6-31g" and "Watson" in smoke.meta["stabilisation"]
    for (el, q), entry in smoke.entries.items():
        assert abs(_electrons(smoke.r, entry.total) - (atomic_numbers[el] - q)) < 1e-4
    # the anion's Watson-sphere radius is recorded
    f_minus = next(e for e in smoke.meta["entries"] if e["element"] == "F" and e["charge"] == -1)
    assert f_minus["watson_radius_a"] == pytest.approx(1.33)
