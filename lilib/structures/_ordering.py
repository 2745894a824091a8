"""Deterministic ordered approximants of partially occupied published structures.

RULE (stated verbatim in every file ``scripts/order_structures.py`` writes):

1. Cell: the published conventional cell, repeated ``k`` times along its shortest
   axis, with ``k`` the smallest of 1..4 for which every (site orbit, species) count
   ``occupancy × multiplicity × k`` lies within 0.25 of an integer; ``k = 1`` if none does.
2. Counts: the whole cell holds exactly ``nominal_formula × Z × k`` atoms.  For each
   element, that total is shared among the orbits that hold it in proportion to
   ``occupancy × multiplicity`` (largest-remainder rounding, ties to the earlier site),
   never more atoms on an orbit than it has positions.  Other positions are vacant, and so
   are sites an entry lists in ``approximant.exclude_sites`` (a published position that is
   unphysical, with the reason in the entry).
3. Arrangement: within each orbit, which positions get which species (or stay vacant)
   minimises the Ewald energy of point charges equal to the entry's oxidation states
   (pymatgen ``EwaldSummation`` matrix): seeded random starts (``numpy`` default_rng,
   seed 0), each relaxed by simulated-annealing swaps inside orbits followed by greedy
   descent to a local minimum; the lowest energy found is kept.  Same inputs, same
   output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._build import cell_matrix, site_orbits
from ._entries import StructureInfo

__all__ = ["RULE", "OrderedResult", "order_entry"]

RULE = " ".join(
    line.strip()
    for line in __doc__.split(
        "RULE (stated verbatim in every file ``scripts/order_structures.py`` writes):"
    )[1]
    .strip()
    .splitlines()
)

_VACANCY = ""


@dataclass
class OrderedResult:
    cell: np.ndarray
    species: list[str]
    frac_coords: np.ndarray
    supercell: list[int]
    ewald_energy_eV: float
    n_starts: int
    counts: dict[str, int]


def _nominal_counts(formula: str) -> dict[str, float]:
    from pymatgen.core import Composition

    return {str(el): float(n) for el, n in Composition(formula).items()}


def _choose_k(info: StructureInfo, orbits, axis_max: int = 4) -> int:
    for k in range(1, axis_max + 1):
        ok = True
        for site, orbit in zip(info.sites, orbits):
            for occ in site.species.values():
                x = occ * len(orbit) * k
                if abs(x - round(x)) > 0.25:
                    ok = False
        if ok:
            return k
    return 1


def _allocate(info: StructureInfo, orbits, k: int) -> list[dict[str, int]]:
    """Integer species counts per orbit (in the k-fold cell), constrained to the nominal formula."""
    nominal = _nominal_counts(info.nominal_formula)
    capacity = [len(orbit) * k for orbit in orbits]
    alloc: list[dict[str, int]] = [dict() for _ in orbits]
    used = [0] * len(orbits)
    for element in sorted(nominal, key=lambda e: (-(info.oxidation_states.get(e, 0) ** 2), e)):
        total = nominal[element] * info.Z * k
        if abs(total - round(total)) > 1e-6:
            raise ValueError(f"{info.name}: {element} count {total} in the cell is not an integer")
        total = round(total)
        weights = np.array(
            [
                0.0
                if site.label in info.approximant_exclude
                else site.species.get(element, 0.0) * cap
                for site, cap in zip(info.sites, capacity)
            ]
        )
        if weights.sum() <= 0:
            raise ValueError(f"{info.name}: element {element} of the nominal formula is on no site")
        ideal = total * weights / weights.sum()
        counts = np.floor(ideal).astype(int)
        room = np.array([capacity[i] - used[i] for i in range(len(orbits))])
        counts = np.minimum(counts, room)
        remaining = total - counts.sum()
        order = sorted(range(len(orbits)), key=lambda i: (-(ideal[i] - counts[i]), i))
        while remaining > 0:
            progressed = False
            for i in order:
                if remaining == 0:
                    break
                if weights[i] > 0 and counts[i] < room[i]:
                    counts[i] += 1
                    remaining -= 1
                    progressed = True
            if not progressed:
                raise ValueError(
                    f"{info.name}: the sites holding {element} cannot take {total} atoms"
                )
        for i, n in enumerate(counts):
            if n:
                alloc[i][element] = int(n)
                used[i] += int(n)
    return alloc


def _ewald_matrix(cell: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """Ewald interaction matrix (eV) for unit point charges on the given positions."""
    from pymatgen.analysis.ewald import EwaldSummation
    from pymatgen.core import Lattice, Species, Structure

    structure = Structure(Lattice(cell), [Species("Li", 1)] * len(frac), frac)
    return np.asarray(EwaldSummation(structure).total_energy_matrix, dtype=float)


def order_entry(
    info: StructureInfo, n_starts: int = 8, sweeps: int = 60, seed: int = 0
) -> OrderedResult:
    """Ordered approximant of a partially occupied entry, following :data:`RULE`."""
    orbits = site_orbits(info)
    k = _choose_k(info, orbits)
    alloc = _allocate(info, orbits, k)
    cell = cell_matrix(info)
    lengths = np.linalg.norm(cell, axis=1)
    axis = int(np.argmin(lengths))
    reps = [1, 1, 1]
    reps[axis] = k
    shifts = [np.array(s, dtype=float) for s in np.ndindex(*reps)]
    scale = np.array(reps, dtype=float)

    frac, orbit_index = [], []
    for i, orbit in enumerate(orbits):
        for shift in shifts:
            for position in orbit:
                frac.append((position + shift) / scale)
                orbit_index.append(i)
    frac = np.asarray(frac)
    orbit_index = np.asarray(orbit_index)
    supercell = cell * scale[:, None]
    phi = _ewald_matrix(supercell, frac)

    groups = []  # (positions of this orbit, list of species labels to place there incl. vacancies)
    for i in range(len(orbits)):
        members = np.flatnonzero(orbit_index == i)
        labels: list[str] = []
        for element in sorted(alloc[i]):
            labels += [element] * alloc[i][element]
        labels += [_VACANCY] * (len(members) - len(labels))
        groups.append((members, labels))

    oxi = {el: float(q) for el, q in info.oxidation_states.items()}
    oxi[_VACANCY] = 0.0
    rng = np.random.default_rng(seed)
    best_energy, best_assign = math.inf, None
    mobile = [g for g in groups if len(set(g[1])) > 1]
    for _start in range(n_starts):
        assign = np.empty(len(frac), dtype=object)
        for members, labels in groups:
            assign[members] = list(rng.permutation(np.array(labels, dtype=object)))
        q = np.array([oxi[s] for s in assign])
        field = phi @ q
        energy = float(q @ field)
        for sweep in range(sweeps + 20):
            temperature = 0.5 * (1 - sweep / sweeps) if sweep < sweeps else 0.0
            improved = False
            for members, _labels in mobile:
                for a in rng.permutation(members):
                    candidates = members[q[members] != q[a]]
                    if len(candidates) == 0:
                        continue
                    deltas = 2 * (q[candidates] - q[a]) * (field[a] - field[candidates]) + (
                        q[candidates] - q[a]
                    ) ** 2 * (phi[a, a] + phi[candidates, candidates] - 2 * phi[a, candidates])
                    j = int(np.argmin(deltas))
                    b, delta = candidates[j], float(deltas[j])
                    accept = delta < -1e-10 or (
                        temperature > 0 and rng.random() < math.exp(-delta / temperature)
                    )
                    if accept:
                        d = q[b] - q[a]
                        field += d * (phi[:, a] - phi[:, b])
                        q[a], q[b] = q[b], q[a]
                        assign[a], assign[b] = assign[b], assign[a]
                        energy += delta
                        improved = improved or delta < -1e-10
            if sweep >= sweeps and not improved:
                break
        energy = float(q @ phi @ q)
        if energy < best_energy - 1e-9:
            best_energy, best_assign = energy, assign.copy()

    keep = np.array([s != _VACANCY for s in best_assign])
    species = [str(s) for s in best_assign[keep]]
    counts: dict[str, int] = {}
    for s in species:
        counts[s] = counts.get(s, 0) + 1
    return OrderedResult(
        cell=supercell,
        species=species,
        frac_coords=frac[keep],
        supercell=reps,
        ewald_energy_eV=best_energy,
        n_starts=n_starts,
        counts=counts,
    )
