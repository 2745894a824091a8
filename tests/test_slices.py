"""Planar cuts through densities: geometry, interpolation, basin maps, atoms on the plane."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

from lilib.charges import Density, bader
from lilib.charges.slices import plane_slice
from lilib.errors import ArgumentError


def _rocksalt_density(n=32):
    atoms = bulk("LiF", "rocksalt", a=4.0, cubic=True)
    grid = np.stack(np.meshgrid(*(np.arange(n) / n,) * 3, indexing="ij"), axis=-1)
    rho = np.zeros((n, n, n))
    for z, f in zip(atoms.numbers, atoms.get_scaled_positions()):
        d = grid - f
        d -= np.round(d)
        r2 = np.einsum("...i,...i", d @ atoms.cell.array, d @ atoms.cell.array)
        q, s = (2.0, 0.3) if z == 3 else (10.0, 0.4)
        rho += q * np.exp(-r2 / (2 * s * s)) / (2 * np.pi * s * s) ** 1.5
    return Density(atoms, rho)


def test_001_plane_through_an_atom_shows_the_atoms_of_that_layer():
    rho = _rocksalt_density()
    cut = plane_slice(rho, (0, 0, 1), through=0, size=4.0, spacing=0.1)
    np.testing.assert_allclose(cut.normal, [0, 0, 1], atol=1e-12)
    # the z = 0 layer of the conventional cell (2 Li + 2 F) and nothing else
    layer = {i for i, p in enumerate(rho.atoms.positions) if abs(p[2]) < 1e-9}
    assert set(cut.atom_index.tolist()) == layer and len(layer) == 4
    assert {"Li", "F"} == {rho.atoms[i].symbol for i in layer}
    # the density peaks at the centre (the Li nucleus) of the window
    centre = cut.values[cut.values.shape[0] // 2, cut.values.shape[1] // 2]
    assert centre == pytest.approx(rho.values[0, 0, 0], rel=1e-9)


def test_position_moves_the_plane_by_fractions_of_d():
    rho = _rocksalt_density()
    a = plane_slice(rho, (0, 0, 1), position=0.0)
    b = plane_slice(rho, (0, 0, 1), position=0.5)
    assert (b.origin - a.origin) @ a.normal == pytest.approx(2.0)  # d_001 = 4 Å
    c = plane_slice(rho, (1, 1, 1), position=1.0)
    d111 = 4.0 / np.sqrt(3)
    assert c.origin @ c.normal == pytest.approx(d111)


def test_basin_labels_on_the_cut_and_plot():
    rho = _rocksalt_density()
    result = bader(rho, valence={"Li": 2.0, "F": 10.0})
    owner = result.atom_labels()
    assert owner.shape == rho.shape and set(np.unique(owner)) == set(range(len(rho.atoms)))
    cut = plane_slice(rho, (1, 1, 0), through=0, labels=owner, spacing=0.1)
    assert cut.labels is not None and 0 in cut.labels
    ax = cut.plot(highlight=0)
    assert ax.get_title() == "(1 1 0) plane"


def test_bad_arguments():
    rho = _rocksalt_density(8)
    with pytest.raises(ArgumentError, match="hkl"):
        plane_slice(rho, (0, 0, 0))
    with pytest.raises(ArgumentError, match="labels"):
        plane_slice(rho, labels=np.zeros((2, 2, 2), dtype=int))
    with pytest.raises(ArgumentError, match="spacing"):
        plane_slice(rho, spacing=0)
