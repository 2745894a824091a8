"""Bader partitioning (near-grid and weight methods): analytic densities, invariances, real references, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms

from lilib.charges import Density, read_density
from lilib.charges.bader import METHODS, bader, read_potcar_valences
from lilib.config import shared_data_dir
from lilib.errors import ArgumentError, FileFormatError

SHARED = shared_data_dir()
CHARGE = SHARED / "charge" if SHARED else None
needs_shared = pytest.mark.skipif(CHARGE is None, reason="../shared/data not present")
both_methods = pytest.mark.parametrize("method", METHODS)


def _gaussians(charges, frac, cell, shape, sigma=0.35, background=0.0):
    """Sum of normalised periodic Gaussians (e) at fractional positions, on an n1×n2×n3 grid."""
    cell = np.asarray(cell, dtype=float)
    grids = np.meshgrid(*(np.arange(n) / n for n in shape), indexing="ij")
    points = np.stack(grids, axis=-1)
    rho = np.full(shape, background)
    for q, f in zip(charges, frac):
        d = points - np.asarray(f)
        d -= np.round(d)
        r = d @ cell
        rho += (
            q
            * np.exp(-np.einsum("...i,...i", r, r) / (2 * sigma**2))
            / (2 * np.pi * sigma**2) ** 1.5
        )
    atoms = Atoms(["Li", "F"][: len(charges)] + ["O"] * max(0, len(charges) - 2),
                  scaled_positions=frac, cell=cell, pbc=True)  # fmt: skip
    return Density(atoms, rho)


@both_methods
def test_separated_gaussians_recover_their_charges(method):
    rho = _gaussians(
        [3.0, 7.0], [[0.25, 0.25, 0.25], [0.75, 0.75, 0.75]], np.eye(3) * 8.0, (40, 40, 40)
    )
    result = bader(rho, method=method)
    assert result.n_maxima == 2 and len(result.non_nuclear) == 0
    np.testing.assert_allclose(result.electrons, [3.0, 7.0], atol=2e-3)
    assert abs(result.sum_rule_error) < 1e-6


@both_methods
def test_equal_gaussians_split_evenly_in_a_skewed_cell(method):
    cell = [[7.0, 0, 0], [2.5, 6.5, 0], [1.0, 1.5, 7.5]]
    rho = _gaussians([4.0, 4.0], [[0.2, 0.3, 0.25], [0.7, 0.8, 0.75]], cell, (36, 40, 44))
    result = bader(rho, method=method)
    np.testing.assert_allclose(result.electrons, [4.0, 4.0], atol=2e-3)
    np.testing.assert_allclose(result.volumes.sum(), abs(np.linalg.det(cell)), rtol=1e-6)


@both_methods
def test_axis_permutation_invariance(method):
    cell = np.array([[6.0, 0, 0], [1.0, 7.0, 0], [0.5, 0.8, 8.0]])
    frac = np.array([[0.1, 0.2, 0.3], [0.55, 0.6, 0.8]])
    rho = _gaussians([2.0, 5.0], frac, cell, (30, 36, 42), sigma=0.6)
    perm = [2, 0, 1]
    permuted = Density(
        Atoms(
            rho.atoms.get_chemical_symbols(),
            scaled_positions=frac[:, perm],
            cell=cell[perm],
            pbc=True,
        ),
        np.ascontiguousarray(rho.values.transpose(perm)),
    )
    np.testing.assert_allclose(
        bader(permuted, method=method).electrons, bader(rho, method=method).electrons, atol=1e-9
    )


@both_methods
def test_vacuum_threshold_reports_vacuum_and_keeps_the_sum_rule(method):
    rho = _gaussians([3.0, 5.0], [[0.3, 0.5, 0.5], [0.7, 0.5, 0.5]], np.eye(3) * 10.0, (40, 40, 40),
                     background=1e-4)  # fmt: skip
    without = bader(rho, method=method)
    assert without.vacuum_volume == 0.0 and without.vacuum_electrons == 0.0
    result = bader(rho, vacuum=1e-3, method=method)
    assert result.vacuum_volume > 500.0  # most of the 1000 Å³ box
    assert result.vacuum_electrons > 0.05
    assert result.electrons.sum() + result.vacuum_electrons == pytest.approx(
        rho.n_electrons, abs=1e-6
    )
    assert (result.labels == -1).sum() * rho.voxel_volume == pytest.approx(result.vacuum_volume)


@both_methods
def test_reference_density_draws_basins_for_another_field(method):
    cell, shape = np.eye(3) * 8.0, (32, 32, 32)
    frac = [[0.25, 0.5, 0.5], [0.75, 0.5, 0.5]]
    ref = _gaussians([5.0, 5.0], frac, cell, shape)
    valence = _gaussians([1.0, 3.0], frac, cell, shape, sigma=0.8)
    result = bader(valence, reference=ref, method=method)
    # the zero-flux plane of the symmetric reference is x = 0.5: each half-cell's valence charge
    half = valence.values[: shape[0] // 2].sum() * valence.voxel_volume
    assert result.electrons[0] == pytest.approx(half, abs=0.02)
    assert result.electrons.sum() == pytest.approx(4.0, abs=1e-3)


def test_result_tables_and_plot():
    rho = _gaussians(
        [3.0, 7.0], [[0.25, 0.25, 0.25], [0.75, 0.75, 0.75]], np.eye(3) * 8.0, (24, 24, 24)
    )
    result = bader(rho, valence={"Li": 3.0, "F": 7.0})
    df = result.to_dataframe()
    assert list(df.columns) == [
        "element",
        "electrons_e",
        "volume_A3",
        "min_surface_distance_A",
        "net_charge_e",
    ]
    assert np.all(np.abs(df.net_charge_e) < 0.01)
    assert len(result.basins_dataframe()) == result.n_maxima
    assert np.all(result.min_surface_distance > 0.5)
    assert result.plot() is not None


@needs_shared
def test_ca2n_weight_method_matches_baderkit_reference():
    """Electride Ca2N (rhombohedral cell): baderkit weight reference Ca 9.00697 ×2, N 6.98605 e."""
    rho = read_density(CHARGE / "baderkit_Ca2N" / "CHGCAR.cube")
    result = bader(rho, method="weight")
    np.testing.assert_allclose(result.electrons, [9.00697, 9.00697, 6.98605], atol=1e-4)
    # 7 maxima as in the Henkelman run: N plus three grid maxima around each Ca nucleus, which
    # sits between grid points; no maximum lies away from a nucleus in this density.
    assert result.n_maxima == 7
    assert result.non_nuclear.size == 0
    assert abs(result.sum_rule_error) < 1e-6


@needs_shared
def test_ca2n_neargrid_matches_henkelman_reference():
    """Henkelman bader 1.05 near-grid (PROVENANCE.md): Ca 9.000477, 8.999819, N 6.999766 e."""
    rho = read_density(CHARGE / "baderkit_Ca2N" / "CHGCAR.cube")
    result = bader(rho, method="near-grid", valence={"Ca": 10.0, "N": 5.0})
    np.testing.assert_allclose(result.electrons, [9.000477, 8.999819, 6.999766], atol=1e-5)
    assert result.n_maxima == 7  # the Henkelman run finds 7 as well
    assert result.non_nuclear.size == 0
    assert result.refinement_passes > 1
    assert abs(result.sum_rule_error) < 1e-9
    np.testing.assert_allclose(result.net_charges, [10.0, 10.0, 5.0] - result.electrons)


@needs_shared
@both_methods
def test_ni_chgcar_without_spin_integrates_to_ten(method):
    rho = read_density(CHARGE / "Ni_fcc_CHGCAR_no_spin")
    result = bader(rho, method=method)
    assert result.electrons[0] == pytest.approx(10.000001, abs=1e-5)  # Henkelman: 10.000001
    assert result.volumes[0] == pytest.approx(10.996744, abs=1e-4)  # Henkelman volume, Å³


@needs_shared
def test_ni_spin_chgcar_single_atom():
    rho = read_density(CHARGE / "Ni_fcc_CHGCAR_spin")
    result = bader(rho, valence={"Ni": 10.0})
    assert result.electrons[0] == pytest.approx(10.000001, abs=1e-5)  # Henkelman: 10.000001
    assert abs(result.spin_moments[0]) < 1e-6


def test_bad_arguments():
    rho = _gaussians(
        [3.0, 7.0], [[0.25, 0.25, 0.25], [0.75, 0.75, 0.75]], np.eye(3) * 8.0, (16, 16, 16)
    )
    other = _gaussians(
        [3.0, 7.0], [[0.25, 0.25, 0.25], [0.75, 0.75, 0.75]], np.eye(3) * 8.0, (16, 16, 20)
    )
    with pytest.raises(ArgumentError, match="differs from grid"):
        bader(rho, reference=other)
    with pytest.raises(ArgumentError, match="no valence count for \\['F'\\]"):
        bader(rho, valence={"Li": 1})
    with pytest.raises(ArgumentError, match="method"):
        bader(rho, method="ongrid")
    with pytest.raises(ArgumentError, match="vacuum"):
        bader(rho, vacuum=1e9)


def test_potcar_valences(tmp_path):
    potcar = tmp_path / "POTCAR"
    potcar.write_text(
        "  PAW_PBE Li_sv 10Sep2004\n   TITEL  = PAW_PBE Li_sv 10Sep2004\n   ZVAL   =    3.000\n"
        " End of Dataset\n  PAW_PBE F 08Apr2002\n   TITEL  = PAW_PBE F 08Apr2002\n   ZVAL   =    7.000\n"
    )
    assert read_potcar_valences(potcar) == {"Li": 3.0, "F": 7.0}
    (tmp_path / "BAD").write_text("nothing here")
    with pytest.raises(FileFormatError, match="TITEL"):
        read_potcar_valences(tmp_path / "BAD")
