"""Hirshfeld, Hirshfeld-I and VDD on densities built from the pro-atoms themselves."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from lilib.charges import Density, HirshfeldResult, hirshfeld, hirshfeld_i, read_density, vdd
from lilib.charges.hirshfeld import MismatchError
from lilib.charges.proatoms import ProAtomsError, load_proatoms, promolecule_density
from lilib.config import shared_data_dir
from lilib.errors import ArgumentError, LilibError

A_LIF = 4.03  # Å, rock-salt LiF
N = 36  # grid points per primitive-cell vector (spacing ≈ 0.08 Å)
SHARED = shared_data_dir()
CHARGE = SHARED / "charge" if SHARED else None


@pytest.fixture(scope="module")
def table():
    return load_proatoms()


@pytest.fixture(scope="module")
def lif():
    return bulk("LiF", "rocksalt", a=A_LIF)  # primitive fcc cell: non-orthogonal


@pytest.fixture(scope="module")
def neutral(lif, table):
    return Density(lif, promolecule_density(lif, (N,) * 3, table))


@pytest.fixture(scope="module")
def ionic(lif, table):
    return Density(lif, promolecule_density(lif, (N,) * 3, table, charges=[1, -1]))


def test_neutral_sum_gives_zero_hirshfeld_charges(neutral, table):
    res = hirshfeld(neutral, table)
    assert isinstance(res, HirshfeldResult) and res.method == "Hirshfeld"
    np.testing.assert_allclose(res.charges, 0.0, atol=1e-4)
    assert abs(res.sum_rule_error) < 1e-8
    assert res.unassigned_electrons == 0.0
    # the grid misses part of the F 1s cusp; the correction restores it
    assert res.grid_corrections[1] < -0.05
    np.testing.assert_allclose(res.populations, [3, 9], atol=1e-4)


def test_neutral_sum_gives_zero_vdd_charges(neutral, table):
    res = vdd(neutral, table)
    assert res.method == "VDD"
    np.testing.assert_allclose(res.charges, 0.0, atol=1e-10)
    assert abs(res.sum_rule_error) < 1e-8


def test_hirshfeld_i_recovers_the_pro_ions(ionic, table):
    plain = hirshfeld(ionic, table)
    assert 0.05 < plain.charges[0] < 0.5  # plain Hirshfeld underestimates
    res = hirshfeld_i(ionic, table, tolerance=1e-6)
    assert res.converged and res.method == "Hirshfeld-I"
    assert res.n_iterations < 40 and res.history.shape == (res.n_iterations, 2)
    np.testing.assert_allclose(res.charges, [1.0, -1.0], atol=1e-3)
    np.testing.assert_allclose(res.pro_charges, res.charges, atol=1e-3)
    assert abs(res.sum_rule_error) < 1e-8


def test_hirshfeld_i_reports_non_convergence(ionic, table):
    res = hirshfeld_i(ionic, table, tolerance=1e-9, max_iterations=2)
    assert not res.converged and res.n_iterations == 2


def test_vdd_of_ionic_density_is_positive_on_li(ionic, table):
    res = vdd(ionic, table)
    assert res.charges[0] > 0.1 and res.charges.sum() == pytest.approx(0, abs=5e-3)


def test_axis_permutation_invariance(ionic, table):
    perm = [1, 2, 0]
    atoms = ionic.atoms.copy()
    atoms.set_cell(ionic.cell[perm], scale_atoms=False)
    permuted = Density(atoms, np.transpose(ionic.values, perm))
    for method in (hirshfeld, vdd):
        a, b = method(ionic, table), method(permuted, table)
        np.testing.assert_allclose(a.charges, b.charges, atol=1e-9)


def test_non_orthogonal_cell_agrees_with_cubic_cell(table):
    prim = bulk("LiF", "rocksalt", a=A_LIF)
    cubic = bulk("LiF", "rocksalt", a=A_LIF, cubic=True)
    d_prim = Density(prim, promolecule_density(prim, (40,) * 3, table, charges=[0.5, -0.5]))
    q_cub = np.array([0.5 if s == "Li" else -0.5 for s in cubic.get_chemical_symbols()])
    d_cub = Density(cubic, promolecule_density(cubic, (56,) * 3, table, charges=q_cub))
    a, b = hirshfeld(d_prim, table), hirshfeld(d_cub, table)
    for el, q in zip(prim.get_chemical_symbols(), a.charges):
        mask = np.array(b.symbols) == el
        np.testing.assert_allclose(b.charges[mask], q, atol=1e-3)  # grid spacings 0.071/0.072 Å


def test_origin_shift_is_respected(lif, table):
    shift = np.array([0.31, -0.2, 0.45])  # Å
    moved = lif.copy()
    moved.positions += shift
    rho = promolecule_density(moved, (N,) * 3, table, charges=[1, -1])
    grid_shifted = Density(lif, rho, origin=-shift)  # same density, grid described from lif
    res_a = hirshfeld(Density(moved, rho), table)
    res_b = hirshfeld(Density(lif, rho, origin=np.zeros(3)), table)
    assert not np.allclose(res_a.charges, res_b.charges, atol=1e-3)
    np.testing.assert_allclose(hirshfeld(grid_shifted, table).charges, res_a.charges, atol=1e-9)


def test_valence_density_mismatch_and_its_two_remedies(lif, table):
    n_core = {"Li": 2, "F": 2}
    shape = (N,) * 3
    valence = Density(lif, promolecule_density(lif, shape, table, part="valence", n_core=n_core))
    core = Density(lif, promolecule_density(lif, shape, table, part="core", n_core=n_core))
    with pytest.raises(MismatchError, match=r"valence-only.*core=.*n_core.*Li: 2") as err:
        hirshfeld(valence, table)
    assert isinstance(err.value, LilibError)
    with pytest.raises(MismatchError):
        hirshfeld_i(valence, table)
    res = hirshfeld(valence, table, valence=True, n_core=n_core)
    np.testing.assert_allclose(res.charges, 0.0, atol=1e-4)
    np.testing.assert_allclose(res.reference_electrons, [1, 7])
    res = hirshfeld(valence, table, core=core)
    np.testing.assert_allclose(res.charges, 0.0, atol=1e-4)
    with pytest.raises(ArgumentError, match="n_core"):
        hirshfeld(valence, table, valence=True)
    with pytest.raises(MismatchError, match="valence pro-atoms"):
        hirshfeld(Density(lif, valence.values + core.values), table, n_core=n_core)


def test_unknown_element_is_named(table):
    atoms = Atoms("LiXe", positions=[[0, 0, 0], [2, 2, 2]], cell=[4.5] * 3, pbc=True)
    dens = Density(atoms, np.ones((8, 8, 8)))
    for method in (hirshfeld, hirshfeld_i, vdd):
        with pytest.raises(ProAtomsError, match=r"'?Xe'?.*available: H, Li"):
            method(dens, table)


def test_user_supplied_proatoms(lif):
    r = np.geomspace(1e-4, 12, 400)

    def gauss(n, alpha):  # n electrons, exp(−α r²), r in Å
        return (r, n * np.exp(-alpha * r**2) * (alpha / np.pi) ** 1.5)

    mine = {"Li": {0: gauss(3, 3.0), 1: gauss(2, 4.0)}, "F": {0: gauss(9, 0.8), -1: gauss(10, 0.6)}}
    dens = Density(lif, promolecule_density(lif, (24,) * 3, mine, charges=[1, -1]))
    res = hirshfeld_i(dens, mine, tolerance=1e-7)
    assert res.proatom_source == "user-supplied dict"
    np.testing.assert_allclose(res.charges, [1, -1], atol=1e-3)


def test_result_helpers(ionic, table):
    res = hirshfeld(ionic, table)
    df = res.to_dataframe()
    assert list(df["element"]) == ["Li", "F"]
    assert {"charge_e", "population_e", "grid_correction_e"} <= set(df.columns)
    ax = res.plot()
    assert ax.get_ylabel() == "Hirshfeld charge (e)"
    assert "Hirshfeld" in repr(res)


def test_bad_arguments(neutral, table):
    with pytest.raises(ArgumentError, match="density"):
        hirshfeld(neutral.values, table)
    with pytest.raises(ArgumentError, match="core"):
        hirshfeld(neutral, table, core=Density(neutral.atoms, np.zeros((4, 4, 4))))
    with pytest.raises(ArgumentError, match="tolerance"):
        hirshfeld_i(neutral, table, tolerance=0)


@pytest.mark.skipif(CHARGE is None, reason="../shared/data not present")
def test_real_vasp_valence_density_ca2n(table):
    """A VASP (valence-only) density: the mismatch is caught, valence pro-atoms give sane charges."""
    dens = read_density(CHARGE / "baderkit_Ca2N" / "CHGCAR.cube")
    assert dens.n_electrons == pytest.approx(25, abs=0.01)
    with pytest.raises(MismatchError, match=r"valence-only.*Ca: 2, 4, 10"):
        hirshfeld(dens, table)
    res = hirshfeld(dens, table, n_core={"Ca": 10, "N": 2})
    ca = res.charges[np.array(res.symbols) == "Ca"]
    n = res.charges[np.array(res.symbols) == "N"]
    assert np.all(ca > 0.1) and np.all(n < -0.3)
    assert res.charges.sum() == pytest.approx(0, abs=0.05)
    np.testing.assert_allclose(ca[0], ca[1], atol=1e-3)  # symmetry-equivalent
