"""Density readers and writers: exact round trips, grid order, units, real files, malformed files."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from ase import Atoms
from ase.units import Bohr

from lilib.charges import Density, read_chgcar, read_cube, read_density, write_chgcar, write_cube
from lilib.config import shared_data_dir
from lilib.errors import ArgumentError, FileFormatError

SHARED = shared_data_dir()
CHARGE = SHARED / "charge" if SHARED else None
needs_shared = pytest.mark.skipif(CHARGE is None, reason="../shared/data not present")


def _gaussian_density(shape=(24, 30, 36), cell=None, sigma=0.45):
    """Two normalised Gaussians (3 e and 1 e) in a (possibly skewed) periodic cell."""
    cell = np.array(cell if cell is not None else [[6.0, 0, 0], [0, 6.5, 0], [0, 0, 7.0]])
    atoms = Atoms("LiF", scaled_positions=[[0.1, 0.2, 0.3], [0.6, 0.55, 0.7]], cell=cell, pbc=True)
    grids = np.meshgrid(*(np.arange(n) / n for n in shape), indexing="ij")
    frac = np.stack(grids, axis=-1)
    rho = np.zeros(shape)
    for charge, pos in zip([3.0, 1.0], atoms.get_scaled_positions()):
        d = frac - pos
        d -= np.round(d)  # minimum image in fractional space (fine for these cells)
        r2 = np.einsum("...i,...i->...", d @ cell, d @ cell)
        rho += charge * np.exp(-r2 / (2 * sigma**2)) / (2 * np.pi * sigma**2) ** 1.5
    return Density(atoms, rho)


def _indexed_density(shape=(4, 5, 6)):
    """values[i, j, k] = i + 10 j + 100 k: any axis mix-up changes the numbers."""
    i, j, k = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    atoms = Atoms("Li", positions=[[0, 0, 0]], cell=[[4, 0, 0], [1, 5, 0], [0.5, 0.5, 6]], pbc=True)
    return Density(atoms, (i + 10 * j + 100 * k).astype(float) + 1.0)


def test_analytic_density_integrates_to_its_electrons():
    rho = _gaussian_density()
    assert rho.n_electrons == pytest.approx(4.0, abs=1e-3)
    assert rho.voxel_volume == pytest.approx(6.0 * 6.5 * 7.0 / (24 * 30 * 36))


@pytest.mark.parametrize(("writer", "reader", "suffix", "rtol"), [
    (write_chgcar, read_chgcar, "CHGCAR", 1e-10),
    (write_cube, read_cube, "rho.cube", 1e-5),
])  # fmt: skip
def test_round_trip_keeps_grid_order_and_values(tmp_path, writer, reader, suffix, rtol):
    rho = _indexed_density()
    back = reader(writer(rho, tmp_path / suffix))
    assert back.shape == rho.shape
    np.testing.assert_allclose(back.values, rho.values, rtol=rtol)
    np.testing.assert_allclose(back.cell, rho.cell, atol=1e-5)
    np.testing.assert_allclose(back.atoms.positions, rho.atoms.positions, atol=1e-5)


def test_chgcar_round_trip_with_magnetization_on_skewed_cell(tmp_path):
    rho = _gaussian_density(cell=[[5.0, 0, 0], [2.0, 5.5, 0], [1.0, 1.5, 6.0]])
    spin = Density(rho.atoms, rho.values, magnetization=0.1 * rho.values)
    back = read_density(write_chgcar(spin, tmp_path / "CHGCAR"))
    assert back.n_electrons == pytest.approx(rho.n_electrons, rel=1e-10)
    np.testing.assert_allclose(back.magnetization, 0.1 * rho.values, rtol=1e-10, atol=1e-14)


def test_cube_units_bohr_to_angstrom(tmp_path):
    rho = _gaussian_density()
    path = write_cube(rho, tmp_path / "x.cube")
    first_value = float(path.read_text().splitlines()[8].split()[0])  # e/bohr^3 on file
    assert first_value == pytest.approx(rho.values[0, 0, 0] * Bohr**3, rel=1e-5)
    back = read_cube(path)
    assert back.n_electrons == pytest.approx(4.0, abs=1e-3)


def test_compressed_files_are_read(tmp_path):
    rho = _indexed_density()
    plain = write_chgcar(rho, tmp_path / "CHGCAR")
    packed = tmp_path / "CHGCAR.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    np.testing.assert_array_equal(read_density(packed).values, read_density(plain).values)


def test_xsf_datagrid_drops_periodic_duplicates(tmp_path):
    rho = _indexed_density()
    n1, n2, n3 = rho.shape
    general = np.pad(rho.values, ((0, 1), (0, 1), (0, 1)), mode="wrap")  # XSF repeats plane 0
    flat = general.transpose(2, 1, 0).ravel()
    cell = "\n".join(" ".join(f"{x:.6f}" for x in v) for v in rho.cell)
    text = (
        f"CRYSTAL\nPRIMVEC\n{cell}\nPRIMCOORD\n1 1\nLi 0.0 0.0 0.0\n"
        "BEGIN_BLOCK_DATAGRID_3D\nrho\nBEGIN_DATAGRID_3D_rho\n"
        f"{n1 + 1} {n2 + 1} {n3 + 1}\n0 0 0\n{cell}\n"
        + "\n".join(" ".join(f"{v:.6f}" for v in flat[i : i + 6]) for i in range(0, flat.size, 6))
        + "\nEND_DATAGRID_3D\nEND_BLOCK_DATAGRID_3D\n"
    )
    (tmp_path / "rho.xsf").write_text(text)
    back = read_density(tmp_path / "rho.xsf")
    np.testing.assert_allclose(back.values, rho.values)


@needs_shared
def test_real_vasp_chgcar_parses_and_integrates():
    rho = read_density(CHARGE / "Ni_fcc_CHGCAR_no_spin")
    volume = rho.atoms.get_volume()
    assert rho.shape == (32, 32, 32) and rho.magnetization is None
    # bader-rs parser checks: first and last stored values (rho * V), x fastest
    assert rho.values[0, 0, 0] * volume == pytest.approx(0.15246059033e3, rel=1e-12)
    assert rho.values[-1, -1, -1] * volume == pytest.approx(0.13036296982e3, rel=1e-12)
    assert rho.n_electrons == pytest.approx(10.000, abs=1e-3)


@needs_shared
def test_real_spin_chgcar_magnetization_block():
    rho = read_density(CHARGE / "Ni_fcc_CHGCAR_spin")
    assert rho.n_electrons == pytest.approx(10.000, abs=1e-3)
    assert rho.magnetization.shape == rho.shape
    volume = rho.atoms.get_volume()
    assert rho.magnetization[0, 0, 0] * volume == pytest.approx(-0.10283642961e-07, rel=1e-10)


@needs_shared
def test_real_cube_non_orthogonal_cell():
    rho = read_density(CHARGE / "baderkit_Ca2N" / "CHGCAR.cube")
    assert rho.atoms.get_chemical_formula() == "Ca2N"
    assert rho.shape == (60, 60, 60)
    assert rho.n_electrons == pytest.approx(25.0, abs=1e-3)
    angles = rho.atoms.cell.cellpar()[3:]
    assert not np.allclose(angles, 90.0)


# ---------------------------------------------------------------- malformed input


@pytest.fixture
def good_chgcar(tmp_path):
    return write_chgcar(_indexed_density(), tmp_path / "CHGCAR").read_text().splitlines()


def _write(tmp_path, lines, name="CHGCAR"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_truncated_chgcar(tmp_path, good_chgcar):
    path = _write(tmp_path, good_chgcar[:-5])
    with pytest.raises(FileFormatError, match="expected 120 values") as err:
        read_density(path)
    assert err.value.path == path and err.value.line == 12  # first data line


def test_wrong_grid_counts(tmp_path, good_chgcar):
    lines = list(good_chgcar)
    lines[10] = "   4   5   7"  # one plane more than the data hold
    with pytest.raises(FileFormatError, match="expected 140 values"):
        read_density(_write(tmp_path, lines))


def test_grid_counts_not_numbers(tmp_path, good_chgcar):
    lines = list(good_chgcar)
    lines[10] = "   4   five   6"
    with pytest.raises(FileFormatError, match="three grid counts") as err:
        read_density(_write(tmp_path, lines))
    assert err.value.line == 11


def test_header_atom_count_mismatch(tmp_path, good_chgcar):
    lines = list(good_chgcar)
    lines[6] = "   3"  # three atoms announced, one position given
    with pytest.raises(FileFormatError, match="position of atom 2") as err:
        read_density(_write(tmp_path, lines))
    assert err.value.line == 10


def test_names_counts_mismatch(tmp_path, good_chgcar):
    lines = list(good_chgcar)
    lines[5] = "   Li   F"
    with pytest.raises(FileFormatError, match="2 integers for the atom counts"):
        read_density(_write(tmp_path, lines))


def test_nan_in_grid(tmp_path, good_chgcar):
    lines = list(good_chgcar)
    lines[12] = lines[12].replace(lines[12].split()[0], "NaN", 1)
    with pytest.raises(FileFormatError, match="NaN"):
        read_density(_write(tmp_path, lines))


def test_vasp4_without_names_needs_symbols(tmp_path, good_chgcar):
    lines = list(good_chgcar)
    del lines[5]
    path = _write(tmp_path, lines)
    with pytest.raises(FileFormatError, match="symbols="):
        read_density(path)
    assert read_density(path, symbols=["Li"]).atoms.get_chemical_formula() == "Li"


def test_cube_units_mismatch(tmp_path):
    lines = write_cube(_indexed_density(), tmp_path / "a.cube").read_text().splitlines()
    lines[3] = "   -4" + lines[3][5:]  # first axis in Å, the others in bohr
    with pytest.raises(FileFormatError, match="mix bohr") as err:
        read_density(_write(tmp_path, lines, "b.cube"))
    assert err.value.line == 5  # the first axis that disagrees with axis 1


def test_cube_truncated_and_bad_atom(tmp_path):
    lines = write_cube(_indexed_density(), tmp_path / "a.cube").read_text().splitlines()
    with pytest.raises(FileFormatError, match="expected 120 values"):
        read_density(_write(tmp_path, lines[:-3], "t.cube"))
    bad = list(lines)
    bad[6] = "  999 3.0 0.0 0.0 0.0"
    with pytest.raises(FileFormatError, match="invalid atomic number") as err:
        read_density(_write(tmp_path, bad, "z.cube"))
    assert err.value.line == 7


def test_unknown_format_and_missing_file(tmp_path):
    path = tmp_path / "density.dat"
    path.write_text("1 2 3\n")
    with pytest.raises(ArgumentError, match="fmt="):
        read_density(path)
    with pytest.raises(FileFormatError, match="no such file"):
        read_density(tmp_path / "CHGCAR")


def test_density_rejects_mismatched_magnetization():
    rho = _indexed_density()
    with pytest.raises(ArgumentError, match="magnetization"):
        Density(rho.atoms, rho.values, magnetization=np.zeros((2, 2, 2)))


def test_reference_sum_and_mismatched_aeccar_grid_name_the_files(tmp_path):
    """AECCAR0 + AECCAR2 as a Bader reference; an AECCAR on another grid is refused by name."""
    from ase.build import bulk

    from lilib.charges import bader

    atoms = bulk("LiF", "rocksalt", a=4.0)
    grid = np.random.default_rng(1).random((12, 12, 12)) + 0.1
    write_chgcar(Density(atoms, grid), tmp_path / "CHGCAR")
    write_chgcar(Density(atoms, 2 * grid), tmp_path / "AECCAR0")
    write_chgcar(Density(atoms, 3 * grid), tmp_path / "AECCAR2")
    write_chgcar(Density(atoms, np.ones((12, 12, 10))), tmp_path / "AECCAR2_other")
    valence = read_density(tmp_path / "CHGCAR")
    reference = read_density(tmp_path / "AECCAR0") + read_density(tmp_path / "AECCAR2")
    np.testing.assert_allclose(reference.values, 5 * valence.values, rtol=1e-9)
    assert "AECCAR0" in reference.source and "AECCAR2" in reference.source
    assert bader(valence, reference=reference).electrons.sum() == pytest.approx(
        valence.n_electrons, abs=1e-9
    )
    with pytest.raises(ArgumentError, match="AECCAR2_other"):
        read_density(tmp_path / "AECCAR0") + read_density(tmp_path / "AECCAR2_other")
    with pytest.raises(ArgumentError, match="AECCAR2_other"):
        bader(valence, reference=read_density(tmp_path / "AECCAR2_other"))
