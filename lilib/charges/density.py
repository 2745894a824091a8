"""`Density`: a scalar field on a periodic grid (charge density in e/Å³) with its structure."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ase import Atoms

from lilib.errors import ArgumentError

__all__ = ["Density"]


@dataclass(frozen=True, eq=False)
class Density:
    """Charge density on a periodic grid.

    values: ρ in e/Å³, shape (n1, n2, n3); grid point (i, j, k) sits at fractional
    position (i/n1, j/n2, k/n3) of ``atoms.cell`` (plus ``origin``, Å).
    magnetization: spin density in μB/Å³ on the same grid (collinear, shape (n1, n2, n3)),
    or (3, n1, n2, n3) for non-collinear runs; None when the source has none.
    source: the file it was read from, if any; fmt: the format name.
    """

    atoms: Atoms
    values: np.ndarray
    magnetization: np.ndarray | None = None
    origin: np.ndarray = field(default_factory=lambda: np.zeros(3))
    source: str | None = None
    fmt: str | None = None

    def __post_init__(self) -> None:
        values = np.asarray(self.values)
        if values.ndim != 3:
            raise ArgumentError("values", f"expected a 3-D grid, got shape {values.shape}")
        if self.atoms.cell.rank != 3:
            raise ArgumentError("atoms", "the structure needs a full 3-D cell")
        if self.magnetization is not None:
            mag = np.asarray(self.magnetization)
            if mag.shape[-3:] != values.shape or mag.ndim not in (3, 4):
                raise ArgumentError(
                    "magnetization", f"shape {mag.shape} does not match the grid {values.shape}"
                )

    @property
    def shape(self) -> tuple[int, int, int]:
        """Grid points along the three cell vectors."""
        return tuple(int(n) for n in self.values.shape)

    @property
    def cell(self) -> np.ndarray:
        """Cell vectors as rows, Å."""
        return np.asarray(self.atoms.cell)

    @property
    def voxel_volume(self) -> float:
        """Volume of one grid voxel, Å³."""
        return float(abs(np.linalg.det(self.cell))) / float(np.prod(self.shape))

    @property
    def n_electrons(self) -> float:
        """∫ρ dV over the cell, e."""
        return float(self.values.sum(dtype=np.float64) * self.voxel_volume)

    def integrate(self, mask: np.ndarray | None = None, field: np.ndarray | None = None) -> float:
        """∫ field dV over the voxels where ``mask`` is true (default: ρ over the whole cell)."""
        data = self.values if field is None else np.asarray(field)
        if data.shape != self.shape:
            raise ArgumentError("field", f"shape {data.shape} does not match the grid {self.shape}")
        if mask is None:
            return float(data.sum(dtype=np.float64) * self.voxel_volume)
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != self.shape:
            raise ArgumentError("mask", f"shape {mask.shape} does not match the grid {self.shape}")
        return float(data[mask].sum(dtype=np.float64) * self.voxel_volume)

    def axis_fractions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fractional coordinate of the grid planes along each cell vector (three 1-D arrays)."""
        return tuple(np.arange(n) / n for n in self.shape)

    def fractional_coordinates(self, indices: np.ndarray) -> np.ndarray:
        """Fractional coordinates of grid points given as integer (…, 3) indices."""
        idx = np.asarray(indices)
        frac = idx / np.asarray(self.shape)
        return frac + np.linalg.solve(self.cell.T, self.origin)

    def cartesian_coordinates(self, indices: np.ndarray) -> np.ndarray:
        """Cartesian coordinates (Å) of grid points given as integer (…, 3) indices."""
        return (np.asarray(indices) / np.asarray(self.shape)) @ self.cell + self.origin

    def with_values(self, values: np.ndarray, magnetization: np.ndarray | None = None) -> Density:
        """A copy on the same grid and structure with other values (e.g. a sum of densities)."""
        return Density(self.atoms.copy(), np.asarray(values), magnetization, self.origin.copy(),
                       None, self.fmt)  # fmt: skip

    def __add__(self, other: Density) -> Density:
        """Sum of two densities on the same grid and cell (e.g. AECCAR0 + AECCAR2), e/Å³."""
        if not isinstance(other, Density):
            return NotImplemented
        names = f"{self.source or 'the first density'} and {other.source or 'the second density'}"
        if other.shape != self.shape:
            raise ArgumentError("other", f"grids differ: {self.shape} in {self.source or 'the first density'}, "
                                f"{other.shape} in {other.source or 'the second density'}")  # fmt: skip
        if not np.allclose(other.cell, self.cell, atol=1e-4) or len(other.atoms) != len(self.atoms):
            raise ArgumentError("other", f"{names} describe different cells or atoms")
        summed = self.with_values(self.values + other.values)
        source = f"{self.source} + {other.source}" if self.source and other.source else None
        return Density(summed.atoms, summed.values, None, summed.origin, source, self.fmt)

    def __repr__(self) -> str:
        spin = "" if self.magnetization is None else ", with magnetization"
        return (
            f"Density({self.atoms.get_chemical_formula()}, grid {self.shape}, "
            f"{self.n_electrons:.4f} e{spin}, source={self.source!r})"
        )
