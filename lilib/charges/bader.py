"""Bader (atoms-in-molecules) partitioning of a grid density: near-grid and weight methods.

Basins of the (reference) density are found either with the near-grid method of Tang, Sanville
& Henkelman (2009; the default, as in the Henkelman code): every voxel belongs to the basin its
bias-corrected steepest-ascent trajectory ends in, with edge voxels re-traced until stable; or
with the weight method of Yu & Trinkle (2011): each voxel is shared between the basins its
uphill flux leads to, so zero-flux surfaces are resolved below the grid spacing. Any field on
the same grid (valence density, magnetization) is then integrated over the same basins. Maxima are reported one by
one, including those that are not at a nucleus (electrides, interstitial sites); atom totals
follow the convention of the Henkelman code (each basin counts for the atom nearest to its
maximum). Any cell, orthogonal or not: neighbours and facet areas come from the Voronoi cell of
the grid lattice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lilib import provenance
from lilib.charges._surface_kernel import count_labels, surface_distances
from lilib.charges.density import Density
from lilib.errors import ArgumentError, FileFormatError

__all__ = ["BaderResult", "bader", "read_potcar_valences"]

METHODS = ("near-grid", "weight")


@dataclass(frozen=True, eq=False)
class BaderResult:
    """Bader partition of a density.

    Per atom (Henkelman convention: every basin counts for the atom nearest to its maximum):
    ``electrons`` (e), ``volumes`` (Å³), ``min_surface_distance`` (Å, from the nucleus to the
    nearest voxel of its region that borders another region: exact to about one grid spacing),
    ``spin_moments`` (μB,
    when the density has a collinear magnetization), ``net_charges`` = valence − electrons (e,
    when valence counts were given). Per basin: ``basin_maxima`` (fractional), ``basin_electrons``,
    ``basin_volumes``, ``basin_atom`` (nearest atom), ``basin_distance`` (Å to it),
    ``basin_nuclear`` (maximum within ``nonnuclear_distance`` of that atom).
    ``labels``: basin of every voxel (weight method: the basin with the largest weight; −1 = vacuum), for maps and plots. ``vacuum_electrons``/``vacuum_volume``
    are zero unless a vacuum threshold was set. ``n_electrons``: ∫ρ over the cell;
    ``sum_rule_error`` = Σ basins + vacuum − n_electrons (e).
    """

    symbols: list[str]
    electrons: np.ndarray
    volumes: np.ndarray
    min_surface_distance: np.ndarray
    spin_moments: np.ndarray | None
    net_charges: np.ndarray | None
    basin_maxima: np.ndarray
    basin_electrons: np.ndarray
    basin_volumes: np.ndarray
    basin_atom: np.ndarray
    basin_distance: np.ndarray
    basin_nuclear: np.ndarray
    labels: np.ndarray
    vacuum_electrons: float
    vacuum_volume: float
    n_electrons: float
    sum_rule_error: float
    method: str
    refinement_passes: int = 0

    @property
    def n_maxima(self) -> int:
        """Number of density maxima (basins)."""
        return int(self.basin_electrons.size)

    def atom_labels(self) -> np.ndarray:
        """Atom owning each voxel (its basin's nearest atom; −1 = vacuum), on the density grid."""
        return np.where(self.labels >= 0, self.basin_atom[np.maximum(self.labels, 0)], -1)

    @property
    def charges(self) -> np.ndarray | None:
        """Net charges (e) per atom, when valence counts were given; else None."""
        return self.net_charges

    @property
    def non_nuclear(self) -> np.ndarray:
        """Indices of basins whose maximum is not at a nucleus."""
        return np.flatnonzero(~self.basin_nuclear)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per atom: element, electrons (e), net charge (e), volume (Å³), surface distance (Å), spin (μB)."""
        data = {
            "element": self.symbols,
            "electrons_e": self.electrons,
            "volume_A3": self.volumes,
            "min_surface_distance_A": self.min_surface_distance,
        }
        if self.net_charges is not None:
            data["net_charge_e"] = self.net_charges
        if self.spin_moments is not None:
            data["spin_moment_muB"] = self.spin_moments
        return pd.DataFrame(data)

    def basins_dataframe(self) -> pd.DataFrame:
        """One row per basin (maximum): fractional position, electrons, volume, nearest atom, distance."""
        return pd.DataFrame(
            {
                "x_frac": self.basin_maxima[:, 0],
                "y_frac": self.basin_maxima[:, 1],
                "z_frac": self.basin_maxima[:, 2],
                "electrons_e": self.basin_electrons,
                "volume_A3": self.basin_volumes,
                "nearest_atom": self.basin_atom,
                "distance_A": self.basin_distance,
                "nuclear": self.basin_nuclear,
            }
        )

    def plot(self, ax=None):
        """Bar chart of net charges (or electrons) per atom; returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(6, 3))[1]
        values = self.net_charges if self.net_charges is not None else self.electrons
        ax.bar(range(len(values)), values, color="tab:blue")
        ax.set_xticks(
            range(len(values)), [f"{s}{i}" for i, s in enumerate(self.symbols)], rotation=90
        )
        ax.set_ylabel(
            "Bader net charge (e)" if self.net_charges is not None else "Bader electrons (e)"
        )
        return ax


def read_potcar_valences(path: str | Path) -> dict[str, float]:
    """Valence electron count (ZVAL) per element from a VASP POTCAR (in file order)."""
    path = Path(path)
    text = path.read_text(errors="replace")
    titles = re.findall(r"TITEL\s*=\s*\S+\s+(\S+)", text)
    zvals = re.findall(r"ZVAL\s*=\s*([-+0-9.Ee]+)", text)
    if not titles or len(titles) != len(zvals):
        raise FileFormatError(path, f"found {len(titles)} TITEL and {len(zvals)} ZVAL entries")
    return {t.split("_")[0]: float(z) for t, z in zip(titles, zvals)}


def _voronoi_neighbours(cell: np.ndarray, shape: tuple[int, int, int]):
    """Offsets of the Voronoi neighbours of a grid point and their flux coefficients A_ij/|R_ij| (1/Å... Å)."""
    from scipy.spatial import Voronoi

    steps = cell / np.asarray(shape)[:, None]
    span = range(-3, 4)
    index = np.array([(i, j, k) for i in span for j in span for k in span])
    points = index @ steps
    vor = Voronoi(points)
    centre = int(np.flatnonzero((index == 0).all(axis=1))[0])
    voxel_area = abs(np.linalg.det(steps)) ** (2.0 / 3.0)
    offsets, coeff = [], []
    for (a, b), vertices in zip(vor.ridge_points, vor.ridge_vertices):
        if centre not in (a, b) or -1 in vertices:
            continue
        other = b if a == centre else a
        poly = vor.vertices[vertices]
        mid = poly.mean(axis=0)
        area = 0.5 * np.linalg.norm(
            sum(np.cross(poly[i] - mid, poly[(i + 1) % len(poly)] - mid) for i in range(len(poly)))
        )
        if area > 1e-8 * voxel_area:  # skip facets that degenerate to an edge or a point
            offsets.append(index[other])
            coeff.append(area / np.linalg.norm(points[other]))
    return np.array(offsets, dtype=np.int64), np.array(coeff)


def _min_image_distances(
    frac_points: np.ndarray, frac_atom: np.ndarray, cell: np.ndarray
) -> np.ndarray:
    d = frac_points - frac_atom
    d -= np.round(d)
    # a skewed cell can need a neighbouring image: check the 27 shifts
    shifts = np.array([(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)])
    best = np.full(len(d), np.inf)
    for s in shifts:
        best = np.minimum(best, np.linalg.norm((d + s) @ cell, axis=1))
    return best


def bader(
    density: Density,
    reference: Density | None = None,
    method: str = "near-grid",
    vacuum: float | None = None,
    valence: dict[str, float] | None = None,
    nonnuclear_distance: float = 1.0,
    slots: int = 6,
) -> BaderResult:
    """Bader partition of ``density`` (e/Å³).

    method: "near-grid" (Tang, Sanville & Henkelman 2009; default) or "weight" (Yu & Trinkle 2011).
    reference: density whose maxima and zero-flux surfaces define the basins (e.g. AECCAR0 +
        AECCAR2 for a valence CHGCAR); must be on the same grid. Default: ``density`` itself.
    vacuum: voxels with reference density below this value (e/Å³) form the vacuum and belong
        to no basin (off by default, like the Henkelman code).
    valence: valence electrons per element (e.g. from :func:`read_potcar_valences`) to report
        net charges = valence − Bader electrons.
    nonnuclear_distance: a maximum farther than this (Å) from every atom is flagged non-nuclear.
    slots: weight method only: most basins one voxel may be shared between (the smallest
        weights beyond are dropped and the rest renormalised); memory ~8·slots bytes per voxel.
    """
    if method not in METHODS:
        raise ArgumentError("method", f"unknown method {method!r}; available: {METHODS}")
    provenance.cite("bader-ongrid", "bader-neargrid" if method == "near-grid" else "bader-weight")
    ref = reference if reference is not None else density
    if ref.shape != density.shape:
        raise ArgumentError(
            "reference",
            f"grid {ref.shape} of {ref.source or 'the reference'} differs from grid "
            f"{density.shape} of {density.source or 'the density'}",
        )
    if not np.allclose(ref.cell, density.cell, atol=1e-4):
        raise ArgumentError("reference", "the reference density is on another cell")
    shape = density.shape
    cell = density.cell
    rho_ref = np.ascontiguousarray(ref.values, dtype=np.float64).ravel()
    vacuum_flat = np.zeros(rho_ref.size, dtype=bool) if vacuum is None else rho_ref < vacuum
    if vacuum_flat.all():
        raise ArgumentError("vacuum", f"every voxel lies below the threshold {vacuum} e/Å³")
    dv = density.voxel_volume
    values = density.values.ravel()
    passes = 0
    if method == "weight":
        integrate, labels, maxima_flat = _weight_basins(
            rho_ref, vacuum_flat, cell, shape, slots, dv
        )
    else:
        integrate, labels, maxima_flat, passes = _neargrid_basins(
            rho_ref, vacuum_flat, cell, shape, dv
        )
    n_basins = len(maxima_flat)
    basin_electrons = integrate(values)
    if method == "weight":  # voxels are shared: integrate the weights
        basin_volumes = integrate(np.ones(values.size))
    else:  # each voxel belongs to one basin: count (no full-grid temporary)
        basin_volumes = count_labels(labels.ravel(), n_basins) * dv
    vacuum_electrons = float(values[vacuum_flat].sum() * dv)
    vacuum_volume = float(vacuum_flat.sum() * dv)

    atoms = density.atoms
    frac_atoms = atoms.get_scaled_positions(wrap=True)
    basin_frac = np.array(np.unravel_index(maxima_flat, shape)).T / np.asarray(shape)
    dist = np.stack([_min_image_distances(basin_frac, fa, cell) for fa in frac_atoms], axis=1)
    basin_atom = dist.argmin(axis=1)
    basin_distance = dist[np.arange(n_basins), basin_atom]
    n_atoms = len(atoms)
    electrons = np.bincount(basin_atom, weights=basin_electrons, minlength=n_atoms)
    volumes = np.bincount(basin_atom, weights=basin_volumes, minlength=n_atoms)

    surface = surface_distances(labels, basin_atom.astype(np.int64), frac_atoms, cell)

    spin = None
    if density.magnetization is not None and density.magnetization.ndim == 3:
        basin_spin = integrate(density.magnetization.ravel())
        spin = np.bincount(basin_atom, weights=basin_spin, minlength=n_atoms)

    net = None
    if valence is not None:
        missing = sorted(set(atoms.get_chemical_symbols()) - set(valence))
        if missing:
            raise ArgumentError("valence", f"no valence count for {missing}")
        net = np.array([valence[s] for s in atoms.get_chemical_symbols()]) - electrons

    total = density.n_electrons
    return BaderResult(
        symbols=atoms.get_chemical_symbols(),
        electrons=electrons,
        volumes=volumes,
        min_surface_distance=surface,
        spin_moments=spin,
        net_charges=net,
        basin_maxima=basin_frac,
        basin_electrons=basin_electrons,
        basin_volumes=basin_volumes,
        basin_atom=basin_atom,
        basin_distance=basin_distance,
        basin_nuclear=basin_distance <= nonnuclear_distance,
        labels=labels,
        vacuum_electrons=vacuum_electrons,
        vacuum_volume=vacuum_volume,
        n_electrons=total,
        sum_rule_error=float(basin_electrons.sum() + vacuum_electrons - total),
        method=method,
        refinement_passes=passes,
    )


def _weight_basins(rho_ref, vacuum_flat, cell, shape, slots, dv):
    """Weight-method basins: (integrate(field) -> e per basin, labels, maxima flat indices)."""
    from lilib.charges._weight_kernel import integrate_slots, weight_partition

    offsets, coeff = _voronoi_neighbours(cell, shape)
    order = np.argsort(-rho_ref, kind="stable")
    slot_labels, slot_weights, maxima_flat = weight_partition(
        rho_ref, shape, order, offsets, coeff, slots, vacuum_flat
    )
    del order
    n_basins = len(maxima_flat)

    def integrate(field: np.ndarray) -> np.ndarray:
        flat = np.ascontiguousarray(field, dtype=np.float64).ravel()
        return integrate_slots(slot_labels, slot_weights, flat, n_basins) * dv

    return integrate, slot_labels[:, 0].reshape(shape).copy(), maxima_flat


def _neargrid_basins(rho_ref, vacuum_flat, cell, shape, dv):
    """Near-grid basins: (integrate(field), labels, maxima flat indices, refinement passes)."""
    from lilib.charges._neargrid_kernel import VACUUM, integrate_labels, neargrid_partition

    steps = cell / np.asarray(shape)[:, None]
    metric = np.linalg.inv(steps @ steps.T)
    d = np.array([(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)])
    dist = np.linalg.norm(d @ steps, axis=1)
    inv_dist = np.where(dist > 0, 1.0 / np.where(dist > 0, dist, 1.0), 0.0).reshape(3, 3, 3)
    from numba import get_num_threads

    volnum, maxima, passes, _ = neargrid_partition(
        rho_ref.reshape(shape),
        vacuum_flat.reshape(shape),
        metric,
        inv_dist,
        100,
        get_num_threads(),
    )
    labels = volnum  # reused in place: no second full-grid array
    labels[labels == VACUUM] = 0
    labels -= 1
    n_basins = len(maxima)
    flat_labels = labels.ravel()

    def integrate(field: np.ndarray) -> np.ndarray:
        flat = np.ascontiguousarray(field, dtype=np.float64).ravel()
        return integrate_labels(flat_labels, flat, n_basins) * dv

    maxima_flat = np.ravel_multi_index(tuple(maxima.T), shape) if n_basins else np.zeros(0, int)
    return integrate, labels, maxima_flat, int(passes)
