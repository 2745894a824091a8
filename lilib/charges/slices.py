"""Planar cuts through grid densities: values, basin maps and nearby atoms on a lattice plane.

A plane is given by Miller indices (h k l) of the density's cell and a position along its normal
(a point it passes through, or a fraction of the interplanar spacing d_hkl). Values are
interpolated trilinearly on the periodic grid, basin labels taken from the nearest grid point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lilib.charges.density import Density
from lilib.errors import ArgumentError

__all__ = ["PlaneSlice", "plane_slice"]


@dataclass(frozen=True, eq=False)
class PlaneSlice:
    """Density on a rectangle of a lattice plane.

    ``values`` (n_v, n_u) in e/Å³ on the points ``origin + s·u + t·v`` (s, t from ``extent``, Å);
    ``labels`` (n_v, n_u) the atom (or basin) index of the nearest grid point, when a map was
    given; ``atoms_uv`` (m, 2) in-plane coordinates (Å) of the atoms (periodic images included)
    within ``tolerance`` Å of the plane and ``atom_index`` (m,) which atom each one is.
    """

    hkl: tuple[int, int, int]
    origin: np.ndarray
    u: np.ndarray
    v: np.ndarray
    normal: np.ndarray
    extent: tuple[float, float, float, float]
    values: np.ndarray
    labels: np.ndarray | None
    atoms_uv: np.ndarray
    atom_index: np.ndarray
    symbols: list[str]

    def plot(self, ax=None, highlight: int | None = None, log: bool = True, cmap: str = "viridis"):
        """Density map (log10 by default) with label boundaries and atoms; returns the Axes.

        highlight: a label whose region is outlined and shaded (e.g. the selected atom's basin).
        """
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(4.5, 4.5))[1]
        data = np.log10(np.clip(self.values, 1e-6, None)) if log else self.values
        image = ax.imshow(data, origin="lower", extent=self.extent, cmap=cmap, aspect="equal")
        cbar = ax.figure.colorbar(image, ax=ax, shrink=0.8)
        cbar.set_label("log10 ρ (e/Å³)" if log else "ρ (e/Å³)")
        if self.labels is not None:
            s = np.linspace(self.extent[0], self.extent[1], self.values.shape[1])
            t = np.linspace(self.extent[2], self.extent[3], self.values.shape[0])
            edges = np.zeros(self.labels.shape, dtype=bool)
            edges[:, 1:] |= self.labels[:, 1:] != self.labels[:, :-1]
            edges[1:, :] |= self.labels[1:, :] != self.labels[:-1, :]
            ax.contour(s, t, edges.astype(float), levels=[0.5], colors="white", linewidths=0.6)
            if highlight is not None:
                mask = (self.labels == highlight).astype(float)
                if mask.any():
                    ax.contourf(s, t, mask, levels=[0.5, 1.5], colors=["#ff0000"], alpha=0.25)
                    ax.contour(s, t, mask, levels=[0.5], colors="red", linewidths=1.5)
        for (x, y), i in zip(self.atoms_uv, self.atom_index):
            ax.plot(x, y, "o", ms=6, mfc="white", mec="black")
            ax.annotate(self.symbols[i] + str(i), (x, y), xytext=(3, 3),
                        textcoords="offset points", fontsize=7, color="white")  # fmt: skip
        ax.set_title("({} {} {}) plane".format(*self.hkl))
        ax.set_xlabel("u (Å)")
        ax.set_ylabel("v (Å)")
        return ax


def _in_plane_axes(normal: np.ndarray, cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal u, v spanning the plane; u along the cell vector most parallel to it."""
    candidates = [c - (c @ normal) * normal for c in cell]
    u = max(candidates, key=np.linalg.norm)
    u /= np.linalg.norm(u)
    v = np.cross(normal, u)
    return u, v / np.linalg.norm(v)


def plane_slice(
    density: Density,
    hkl: tuple[int, int, int] = (0, 0, 1),
    *,
    position: float = 0.0,
    through: int | np.ndarray | None = None,
    labels: np.ndarray | None = None,
    size: float | None = None,
    spacing: float = 0.05,
    tolerance: float = 0.3,
) -> PlaneSlice:
    """Cut ``density`` along the lattice plane (h k l).

    position: where the plane lies along its normal, as a fraction of the interplanar spacing
        d_hkl from the cell origin (ignored when ``through`` is given).
    through: an atom index or a Cartesian point (Å) the plane passes through; the rectangle is
        centred there (otherwise on the projection of the cell centre).
    labels: an integer map on the density's grid (e.g. the atom owning each voxel) to sample.
    size: edge of the square window (Å); default: the longest cell vector.
    spacing: sampling step in the plane (Å). tolerance: atoms this close to the plane (Å) are shown.
    """
    from scipy.ndimage import map_coordinates

    hkl = tuple(int(x) for x in hkl)
    if hkl == (0, 0, 0):
        raise ArgumentError("hkl", "Miller indices (0 0 0) define no plane")
    if labels is not None and np.shape(labels) != density.shape:
        raise ArgumentError(
            "labels", f"shape {np.shape(labels)} differs from the grid {density.shape}"
        )
    if spacing <= 0:
        raise ArgumentError("spacing", f"must be positive, got {spacing}")
    cell = density.cell
    recip = np.linalg.inv(cell).T  # rows b_i with a_i · b_j = δ_ij
    g = np.asarray(hkl, dtype=float) @ recip
    d_hkl = 1.0 / np.linalg.norm(g)
    normal = g * d_hkl
    atoms = density.atoms
    if through is None:
        centre = density.origin + 0.5 * cell.sum(axis=0)
        centre = centre + (position * d_hkl - (centre - density.origin) @ normal) * normal
    else:
        point = atoms.positions[int(through)] if np.ndim(through) == 0 else np.asarray(through)
        centre = np.asarray(point, dtype=float)
    u, v = _in_plane_axes(normal, cell)
    size = float(size or np.linalg.norm(cell, axis=1).max())
    n = max(round(size / spacing) + 1, 2)
    s = np.linspace(-size / 2, size / 2, n)
    points = centre + s[None, :, None] * u + s[:, None, None] * v  # (n_v, n_u, 3)
    frac = (points - density.origin) @ np.linalg.inv(cell)
    coords = (frac * np.asarray(density.shape)).reshape(-1, 3).T
    values = map_coordinates(density.values, coords, order=1, mode="grid-wrap").reshape(n, n)
    sampled = None
    if labels is not None:
        sampled = map_coordinates(np.asarray(labels), coords, order=0, mode="grid-wrap").reshape(
            n, n
        )

    # atoms and periodic images near the plane and inside the window
    shifts = np.array([(i, j, k) for i in range(-2, 3) for j in range(-2, 3) for k in range(-2, 3)])
    images = atoms.positions[:, None, :] + (shifts @ cell)[None, :, :]
    rel = images - centre
    near = (
        (np.abs(rel @ normal) <= tolerance)
        & (np.abs(rel @ u) <= size / 2)
        & (np.abs(rel @ v) <= size / 2)
    )
    index, image = np.nonzero(near)
    uv = np.stack([rel[index, image] @ u, rel[index, image] @ v], axis=1)
    return PlaneSlice(
        hkl=hkl,
        origin=centre,
        u=u,
        v=v,
        normal=normal,
        extent=(-size / 2, size / 2, -size / 2, size / 2),
        values=values,
        labels=sampled,
        atoms_uv=uv,
        atom_index=index,
        symbols=atoms.get_chemical_symbols(),
    )
