"""Find rigid polyanion groups (PS4, BH4, BF4, SO4, PF6, CO3, NO3, B12H12, ...) in a trajectory.

>>> groups = find_groups(traj, centres="P", ligands="S")  # every P with its bonded S
>>> groups = find_groups(traj)  # automatic: bonded clusters of non-mobile atoms
>>> groups.counts  # {'PS4': 4, 'GeS4': 2}
>>> groups.to_dataframe()

Bonds: a pair (A, B) is bonded when closer than ``cutoff_factor`` × (r_cov(A) + r_cov(B))
(ASE's covalent radii; factor 1.2 by default: P–S 2.54 Å against a 2.05 Å bond, B–H 1.38 Å
against 1.22 Å, P–F 1.96 Å against 1.60 Å), or than ``cutoffs_A[(A, B)]`` where given, in the
reference frame, with periodic minimum images. Mobile cations (``exclude``; the alkali and
alkaline-earth metals by default) never bond.

Modes:

- ``"central"``: a group is a central atom and its bonded ligands (XY3, XY4, XY6, ...; any
  number ≥ 2, not all collinear). With ``centres`` given, every atom of those species is a
  centre and its ligands are the bonded atoms of the ``ligands`` species (default: every species
  that is neither a centre nor excluded).
- ``"cluster"``: a group is a connected cluster of bonded atoms (e.g. closo-B12H12), its centre
  the centroid; a cluster that bonds to its own periodic image (a framework) is not a group.
- ``"auto"`` (default): star-shaped clusters (one atom bonded to all others, those bonded only to
  it) are central groups, other finite clusters of ≥ 3 atoms are clusters; single atoms (S²⁻,
  Cl⁻) and pairs are not groups.

Validation: on every ``validate``-th frame (by default enough frames that at most ~500 are
checked), each central group must keep its ligands: a ligand is lost when it moves beyond
(1 + ``bond_slack``) × cutoff, a foreign atom of a ligand species joins when it comes within the
cutoff. Equal numbers lost and joined is a ligand exchange: flagged per group and warned about
(:class:`LigandExchangeWarning`; ``on_exchange="raise"`` makes it an error). A change of the
number of ligands is an :class:`~lilib.errors.ArgumentError`: orientations of a group that
gains or loses ligands are undefined. Cluster groups are checked for broken bonds the same way.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lilib.errors import ArgumentError
from lilib.md.trajectory import Trajectory

__all__ = ["LigandExchangeWarning", "PolyanionGroups", "find_groups"]

#: cations that move through the lattice: never part of a polyanion
MOBILE_CATIONS = ("Li", "Na", "K", "Rb", "Cs", "Be", "Mg", "Ca", "Sr", "Ba")
_MODES = ("auto", "central", "cluster")
_MAX_CHECKED_FRAMES = 500


class LigandExchangeWarning(UserWarning):
    """A polyanion group swapped a ligand with its surroundings during the trajectory."""


@dataclass(frozen=True, eq=False)
class PolyanionGroups:
    """Rigid groups found in a trajectory.

    centres: (n_groups,) atom index of each central atom, −1 for a cluster (centroid).
    members: (n_groups, n_max) atom indices of the ligands (cluster: of all its atoms), padded
    with −1. n_ligands: (n_groups,). kinds: formula of each group ('PS4', 'B12H12').
    modes: 'central' or 'cluster' per group. cutoffs_A: the pair cutoffs used, Å.
    frame: reference frame of the bonding. exchanged: (n_groups,) a ligand exchange was seen;
    first_exchange_frame: (n_groups,) frame where it was first seen, −1 if never.
    checked_stride: every how many frames the ligands were checked (0: not checked).
    n_atoms: atoms in the trajectory. symbols: element of every atom.
    """

    centres: np.ndarray
    members: np.ndarray = field(repr=False)
    n_ligands: np.ndarray = field(repr=False)
    kinds: tuple[str, ...] = field(repr=False)
    modes: tuple[str, ...] = field(repr=False)
    cutoffs_A: dict[tuple[str, str], float] = field(repr=False)
    frame: int = field(repr=False)
    exchanged: np.ndarray = field(repr=False)
    first_exchange_frame: np.ndarray = field(repr=False)
    checked_stride: int = field(repr=False)
    n_atoms: int = field(repr=False)
    symbols: np.ndarray = field(repr=False)

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return int(self.centres.size)

    def __len__(self) -> int:
        return self.n_groups

    def __repr__(self) -> str:
        parts = ", ".join(f"{n} {k}" for k, n in self.counts.items())
        return f"PolyanionGroups({parts})"

    @property
    def counts(self) -> dict[str, int]:
        """Number of groups of each kind, e.g. {'PS4': 4, 'GeS4': 2}."""
        out: dict[str, int] = {}
        for k in self.kinds:
            out[k] = out.get(k, 0) + 1
        return out

    def ligands(self, group: int) -> np.ndarray:
        """Atom indices of one group's ligands (cluster: its atoms)."""
        return self.members[group, : self.n_ligands[group]]

    def batches(self) -> list[np.ndarray]:
        """Group indices split into batches of equal ligand count and mode (vectorised alike)."""
        keys = sorted({(int(n), m) for n, m in zip(self.n_ligands, self.modes)})
        modes = np.array(self.modes)
        return [np.flatnonzero((self.n_ligands == n) & (modes == m)) for n, m in keys]

    def subset(self, indices: Sequence[int] | np.ndarray) -> PolyanionGroups:
        """The groups at ``indices`` only."""
        idx = np.asarray(indices, dtype=int).ravel()
        if idx.size == 0 or idx.min() < 0 or idx.max() >= self.n_groups:
            raise ArgumentError("indices", f"expected group indices in [0, {self.n_groups})")
        n_max = int(self.n_ligands[idx].max())
        return PolyanionGroups(
            centres=self.centres[idx],
            members=self.members[idx, :n_max],
            n_ligands=self.n_ligands[idx],
            kinds=tuple(self.kinds[i] for i in idx),
            modes=tuple(self.modes[i] for i in idx),
            cutoffs_A=dict(self.cutoffs_A),
            frame=self.frame,
            exchanged=self.exchanged[idx],
            first_exchange_frame=self.first_exchange_frame[idx],
            checked_stride=self.checked_stride,
            n_atoms=self.n_atoms,
            symbols=self.symbols,
        )

    def vectors_A(
        self, traj: Trajectory, groups: np.ndarray, frames: slice | np.ndarray | None = None
    ) -> np.ndarray:
        """Centre→ligand vectors (minimum image per frame), (n_frames, len(groups), n, 3) Å.

        ``groups`` must share one ligand count and mode (see :meth:`batches`); ``frames``: a
        slice or index array (all frames by default). Cluster groups: atom positions relative
        to the cluster centroid.
        """
        groups = np.asarray(groups, dtype=int)
        n = int(self.n_ligands[groups[0]])
        mode = self.modes[groups[0]]
        if np.any(self.n_ligands[groups] != n) or any(self.modes[g] != mode for g in groups):
            raise ArgumentError("groups", "a batch needs one ligand count and one mode")
        frames = slice(None) if frames is None else frames
        lig = self.members[groups, :n]
        pos = traj.positions[frames]
        root = pos[:, self.centres[groups]] if mode == "central" else pos[:, lig[:, 0]]
        d = (
            np.asarray(pos[:, lig], dtype=np.float64)
            - np.asarray(root, dtype=np.float64)[:, :, None]
        )
        d = _minimum_image(d, traj.cell[frames] if traj.variable_cell else traj.cell)
        if mode == "cluster":
            d -= d.mean(axis=2, keepdims=True)
        return d

    def centre_positions_A(self, traj: Trajectory, frames: np.ndarray | None = None) -> np.ndarray:
        """Position of each group's centre (central atom or centroid), (n_frames, n_groups, 3) Å."""
        frames = np.arange(traj.n_frames) if frames is None else np.asarray(frames, dtype=int)
        out = np.empty((frames.size, self.n_groups, 3))
        for batch in self.batches():
            if self.modes[batch[0]] == "central":
                out[:, batch] = traj.positions[frames][:, self.centres[batch]]
            else:
                lig = self.members[batch, : self.n_ligands[batch[0]]]
                root = np.asarray(traj.positions[frames][:, lig[:, 0]], dtype=np.float64)
                d = np.asarray(traj.positions[frames][:, lig], dtype=np.float64) - root[:, :, None]
                cells = traj.cell[frames] if traj.variable_cell else traj.cell
                out[:, batch] = root + _minimum_image(d, cells).mean(axis=2)
        return out

    def to_dataframe(self) -> pd.DataFrame:
        """One row per group: kind, mode, centre atom, ligand atoms, exchange flag."""
        return pd.DataFrame(
            {
                "kind": list(self.kinds),
                "mode": list(self.modes),
                "centre": self.centres,
                "n_ligands": self.n_ligands,
                "ligands": [self.ligands(g).tolist() for g in range(self.n_groups)],
                "exchanged": self.exchanged,
                "first_exchange_frame": self.first_exchange_frame,
            }
        )

    def plot(self, ax=None):
        """Bar chart of the number of groups of each kind; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4, 3))
        counts = self.counts
        ax.bar(list(counts), list(counts.values()), color="tab:blue")
        ax.set_ylabel("groups")
        ax.set_title(f"{self.n_groups} polyanion groups")
        return ax


# ---------------------------------------------------------------------------- geometry helpers


def _minimum_image(d: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Minimum image of vectors d (n_frames, ..., 3) in a fixed (3, 3) or per-frame cell, Å.

    Rounds fractional components: exact for vectors shorter than half the cell's smallest
    width (bonds, and clusters the caller has checked)."""
    if cell.ndim == 2:
        frac = d @ np.linalg.inv(cell)
        frac -= np.rint(frac)
        return frac @ cell
    inv = np.linalg.inv(cell)
    shape = d.shape
    flat = d.reshape(shape[0], -1, 3)
    frac = np.einsum("fak,fkl->fal", flat, inv)
    frac -= np.rint(frac)
    return np.einsum("fak,fkl->fal", frac, cell).reshape(shape)


def _min_width(cells: np.ndarray) -> float:
    """Smallest distance between opposite faces of the cell(s) (3, 3) or (n, 3, 3), Å."""
    cells = np.asarray(cells).reshape(-1, 3, 3)
    vol = np.abs(np.linalg.det(cells))
    areas = np.stack(
        [
            np.linalg.norm(np.cross(cells[:, (i + 1) % 3], cells[:, (i + 2) % 3]), axis=-1)
            for i in range(3)
        ]
    )
    return float((vol / areas).min())


def _species_list(value: str | Sequence[str] | None, name: str, known: list[str]) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    if not items:
        raise ArgumentError(name, "is empty")
    unknown = sorted(set(items) - set(known))
    if unknown:
        raise ArgumentError(name, f"no atoms of {unknown} in the trajectory (species: {known})")
    return items


def _pair_cutoffs(
    species: list[str], factor: float, overrides: Mapping[tuple[str, str], float] | None
) -> dict[tuple[str, str], float]:
    from ase.data import atomic_numbers, covalent_radii

    out = {}
    for a in species:
        for b in species:
            out[(a, b)] = factor * float(
                covalent_radii[atomic_numbers[a]] + covalent_radii[atomic_numbers[b]]
            )
    for key, value in (overrides or {}).items():
        if not (isinstance(key, tuple) and len(key) == 2):
            raise ArgumentError("cutoffs_A", f"keys must be (symbol, symbol) pairs, got {key!r}")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ArgumentError(
                "cutoffs_A", f"{key}: expected a number (Å), got {value!r}"
            ) from None
        if not 0 < v < np.inf:
            raise ArgumentError("cutoffs_A", f"{key}: must be > 0 Å, got {value!r}")
        out[(key[0], key[1])] = out[(key[1], key[0])] = v
    return out


def _kind(centre: str | None, ligand_symbols: list[str]) -> str:
    counts: dict[str, int] = {}
    for s in ligand_symbols:
        counts[s] = counts.get(s, 0) + 1
    body = "".join(f"{s}{n if n > 1 else ''}" for s, n in sorted(counts.items()))
    return f"{centre}{body}" if centre else body


# ---------------------------------------------------------------------------- finder


def find_groups(
    traj: Trajectory,
    centres: str | Sequence[str] | None = None,
    ligands: str | Sequence[str] | None = None,
    *,
    mode: str = "auto",
    cutoff_factor: float = 1.2,
    cutoffs_A: Mapping[tuple[str, str], float] | None = None,
    exclude: Sequence[str] = MOBILE_CATIONS,
    frame: int = 0,
    max_cluster_atoms: int = 60,
    validate: bool | int = True,
    bond_slack: float = 0.15,
    on_exchange: str = "warn",
) -> PolyanionGroups:
    """Polyanion groups of a trajectory: central atom + bonded ligands, or rigid clusters.

    centres / ligands: element symbols: every ``centres`` atom with its bonded atoms of the
    ``ligands`` species (central mode); without centres, ``ligands`` (if given) lists the
    species that may form groups; by default everything not excluded (see the module doc). mode: 'auto', 'central' or 'cluster'. cutoff_factor: bond cutoff as a
    multiple of the summed covalent radii; cutoffs_A: {(A, B): Å} overrides per pair.
    exclude: species that never bond (mobile cations). frame: reference frame for bonding.
    max_cluster_atoms: larger clusters are treated as frameworks. validate: check the ligands
    on every k-th frame (True: automatic stride, False/0: no check). bond_slack: fractional
    stretch beyond the cutoff before a ligand counts as lost. on_exchange: 'warn', 'raise' or
    'ignore' for ligand exchange. Raises ArgumentError when no group is found.
    """
    if not isinstance(traj, Trajectory):
        raise ArgumentError("traj", f"expected a lilib.md.Trajectory, got {type(traj).__name__}")
    if mode not in _MODES:
        raise ArgumentError("mode", f"must be one of {_MODES}, got {mode!r}")
    if on_exchange not in ("warn", "raise", "ignore"):
        raise ArgumentError(
            "on_exchange", f"must be 'warn', 'raise' or 'ignore', got {on_exchange!r}"
        )
    try:
        factor = float(cutoff_factor)
    except (TypeError, ValueError):
        raise ArgumentError(
            "cutoff_factor", f"must be a number > 0, got {cutoff_factor!r}"
        ) from None
    if not 0 < factor < 10:
        raise ArgumentError("cutoff_factor", f"must be > 0 (and < 10), got {cutoff_factor!r}")
    if not 0 <= bond_slack < 1:
        raise ArgumentError("bond_slack", f"must be in [0, 1), got {bond_slack!r}")
    if not isinstance(frame, (int, np.integer)) or not -traj.n_frames <= frame < traj.n_frames:
        raise ArgumentError("frame", f"must be an integer in [0, {traj.n_frames}), got {frame!r}")
    frame = int(frame) % traj.n_frames
    if int(max_cluster_atoms) < 3:
        raise ArgumentError("max_cluster_atoms", f"must be ≥ 3, got {max_cluster_atoms!r}")
    known = traj.species
    centre_sp = _species_list(centres, "centres", known)
    ligand_sp = _species_list(ligands, "ligands", known)
    excluded = set(exclude) - set(centre_sp) - set(ligand_sp)
    if centre_sp:
        if mode == "cluster":
            raise ArgumentError("mode", "'cluster' groups have no central atom: omit centres")
        if not ligand_sp:
            ligand_sp = [s for s in known if s not in centre_sp and s not in excluded]
        overlap = set(centre_sp) & set(ligand_sp)
        if overlap:
            raise ArgumentError("ligands", f"{sorted(overlap)} are also centres")
        if not ligand_sp:
            raise ArgumentError("ligands", "no ligand species left (all excluded or centres)")
        active = centre_sp + ligand_sp
    else:
        active = ligand_sp or [s for s in known if s not in excluded]
        if not active:
            raise ArgumentError("exclude", f"excludes every species ({known}): nothing can bond")
    cut = _pair_cutoffs(active, factor, cutoffs_A)

    cell = traj.cells[frame]
    pos = np.asarray(traj.positions[frame], dtype=np.float64)
    sub = np.flatnonzero(np.isin(traj.symbols, active))
    bonds_i, bonds_j, _ = _bonds(pos[sub], cell, traj.symbols[sub], cut)
    bonds_i, bonds_j = sub[bonds_i], sub[bonds_j]
    sym = traj.symbols

    found: list[tuple[int, list[int], str, str]] = []  # (centre, members, kind, mode)
    if centre_sp:
        is_lig = np.isin(sym, ligand_sp)
        for c in np.flatnonzero(np.isin(sym, centre_sp)):
            nb = sorted(int(j) for j in bonds_j[(bonds_i == c) & is_lig[bonds_j]])
            if len(nb) >= 2:
                found.append((int(c), nb, _kind(str(sym[c]), [str(sym[j]) for j in nb]), "central"))
        if not found:
            pairs = ", ".join(f"{a}–{b} {cut[(a, b)]:.2f} Å" for a in centre_sp for b in ligand_sp)
            raise ArgumentError(
                "centres",
                f"no {'/'.join(centre_sp)} atom has ≥ 2 {'/'.join(ligand_sp)} neighbours within "
                f"its bond cutoff ({pairs}; cutoff_factor={factor:g}); raise cutoff_factor or "
                "give cutoffs_A",
            )
        shared = np.bincount(
            np.concatenate([np.array(m) for _, m, _, _ in found]), minlength=traj.n_atoms
        )
        if np.any(shared > 1):
            warnings.warn(
                f"{int(np.sum(shared > 1))} ligand atoms are bonded to two centres "
                "(corner-sharing units): those groups are not independent rigid bodies",
                LigandExchangeWarning,
                stacklevel=2,
            )
    else:
        found = _clusters(pos, cell, sym, sub, bonds_i, bonds_j, mode, int(max_cluster_atoms))
        if not found:
            raise ArgumentError(
                "traj",
                f"no polyanion groups found among {active} (mode {mode!r}, cutoff_factor "
                f"{factor:g}, excluded {sorted(excluded)}): give centres= and ligands=, or "
                "raise cutoff_factor",
            )
    found.sort(key=lambda x: (x[2], x[0] if x[0] >= 0 else min(x[1])))
    n_max = max(len(m) for _, m, _, _ in found)
    members = np.full((len(found), n_max), -1, dtype=np.int64)
    for g, (_, m, _, _) in enumerate(found):
        members[g, : len(m)] = m
    groups = PolyanionGroups(
        centres=np.array([c for c, _, _, _ in found], dtype=np.int64),
        members=members,
        n_ligands=np.array([len(m) for _, m, _, _ in found], dtype=np.int64),
        kinds=tuple(k for _, _, k, _ in found),
        modes=tuple(md for _, _, _, md in found),
        cutoffs_A=cut,
        frame=frame,
        exchanged=np.zeros(len(found), dtype=bool),
        first_exchange_frame=np.full(len(found), -1, dtype=np.int64),
        checked_stride=0,
        n_atoms=traj.n_atoms,
        symbols=np.asarray(traj.symbols),
    )
    _check_extent(groups, traj)
    if validate is False or validate == 0:
        return groups
    if validate is True:
        stride = max(1, -(-traj.n_frames // _MAX_CHECKED_FRAMES))
    else:
        if not isinstance(validate, (int, np.integer)) or validate < 0:
            raise ArgumentError(
                "validate", f"must be True, False or a frame stride ≥ 1, got {validate!r}"
            )
        stride = int(validate)
    return _validate(groups, traj, stride, bond_slack, on_exchange)


def _bonds(pos, cell, symbols, cut):
    """Bonded pairs (i, j, d) within the pair cutoffs (both directions), minimum image."""
    from ase.neighborlist import primitive_neighbor_list

    rmax = max(cut.values())
    i, j, d = primitive_neighbor_list("ijd", [True] * 3, cell, pos, rmax)
    keep = np.array(
        [d[k] <= cut[(symbols[i[k]], symbols[j[k]])] for k in range(i.size)], dtype=bool
    )
    return i[keep], j[keep], d[keep]


def _clusters(pos, cell, sym, sub, bi, bj, mode, max_atoms):
    """Star (central) and finite rigid (cluster) components of the bond graph."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = sym.size
    adj = coo_matrix((np.ones(bi.size), (bi, bj)), shape=(n, n)).tocsr()
    _, labels = connected_components(adj, directed=False)
    out = []
    inv = np.linalg.inv(cell)
    for lab in np.unique(labels[sub]):
        comp = np.flatnonzero(labels == lab)
        if comp.size < 3:
            continue
        deg = {int(a): set(int(b) for b in bj[bi == a]) for a in comp}
        hubs = [a for a in comp if len(deg[int(a)]) == comp.size - 1]
        star = len(hubs) == 1 or (comp.size == 3 and len(hubs) >= 1)
        if star and mode in ("auto", "central"):
            hub = (
                int(hubs[0])
                if len(hubs) == 1
                else int(comp[np.argmax([len(deg[int(a)]) for a in comp])])
            )
            others = [int(a) for a in comp if a != hub]
            if all(deg[a] == {hub} for a in others):
                out.append(
                    (
                        hub,
                        sorted(others),
                        _kind(str(sym[hub]), [str(sym[a]) for a in others]),
                        "central",
                    )
                )
                continue
        if mode == "central" or comp.size > max_atoms:
            continue
        # unfold by breadth-first search; a bond whose two ends disagree with the unfolded
        # positions by a lattice vector makes the cluster periodic (a framework)
        unfolded = {int(comp[0]): pos[comp[0]]}
        queue = [int(comp[0])]
        periodic = False
        while queue and not periodic:
            a = queue.pop()
            for b in deg[a]:
                d = pos[b] - unfolded[a]
                f = d @ inv
                d = (f - np.rint(f)) @ cell
                if b not in unfolded:
                    unfolded[b] = unfolded[a] + d
                    queue.append(b)
                elif np.linalg.norm(unfolded[b] - unfolded[a] - d) > 1e-6:
                    periodic = True
                    break
        if periodic:
            continue
        xyz = np.array([unfolded[int(a)] for a in comp])
        xyz -= xyz.mean(axis=0)
        if np.linalg.matrix_rank(xyz, tol=1e-3) < 2:
            continue  # linear: no orientation about its axis
        out.append(
            (-1, sorted(int(a) for a in comp), _kind(None, [str(sym[a]) for a in comp]), "cluster")
        )
    return out


def _check_extent(groups: PolyanionGroups, traj: Trajectory) -> None:
    """Groups must be smaller than half the cell (minimum images of their vectors are unique)."""
    width = _min_width(traj.cell)
    for batch in groups.batches():
        d = groups.vectors_A(traj, batch, slice(groups.frame, groups.frame + 1))
        ext = float(np.linalg.norm(d, axis=-1).max()) * (
            2.0 if groups.modes[batch[0]] == "cluster" else 1.0
        )
        if ext >= 0.5 * width:
            raise ArgumentError(
                "traj",
                f"{groups.kinds[batch[0]]} groups span {ext:.2f} Å, not less than half the "
                f"cell's smallest width ({width:.2f} Å): use a larger supercell",
            )


def _candidate_pairs(groups, traj, batch, lig, cand, frames, slack):
    """(group-in-batch, atom, own ligand, cutoff) pairs that can ever be within a cutoff.

    With unwrapped positions an atom a can come within the cutoff of centre c only if
    d_ref(c, a) − max|Δr_c| − max|Δr_a| ≤ cutoff × (1 + slack) (triangle inequality over the
    checked frames); wrapped trajectories keep every pair.
    """
    sym = groups.symbols
    centres = groups.centres[batch]
    c_sym = sym[centres]
    cut = np.array([[groups.cutoffs_A.get((cs, sym[a]), 0.0) for a in cand] for cs in c_sym])
    own = np.zeros((batch.size, cand.size), dtype=bool)
    where = {int(a): k for k, a in enumerate(cand)}
    for k in range(batch.size):
        own[k, [where[int(a)] for a in lig[k]]] = True
    keep = np.ones_like(own)
    if traj.unwrapped:
        atoms = np.concatenate([centres, cand])
        ref = np.asarray(traj.positions[groups.frame, atoms], dtype=np.float64)
        dmax = np.zeros(atoms.size)
        for s in range(0, frames.size, 1024):
            p = np.asarray(traj.positions[frames[s : s + 1024]][:, atoms], dtype=np.float64)
            dmax = np.maximum(dmax, np.linalg.norm(p - ref, axis=-1).max(axis=0))
        d = ref[batch.size :][None] - ref[: batch.size, None]
        d0 = np.linalg.norm(_minimum_image(d[None], traj.cells[groups.frame])[0], axis=-1)
        reach = dmax[: batch.size, None] + dmax[None, batch.size :]
        keep = own | (d0 - reach <= cut * (1 + slack))
    k_idx, a_idx = np.nonzero(keep & (cut > 0))
    return k_idx, cand[a_idx], own[k_idx, a_idx], cut[k_idx, a_idx]


def _validate(groups, traj, stride, slack, on_exchange):
    """Ligands kept over the trajectory (every stride-th frame); see the module doc."""
    frames = np.arange(0, traj.n_frames, stride)
    exchanged = groups.exchanged.copy()
    first = groups.first_exchange_frame.copy()
    sym = groups.symbols
    for batch in groups.batches():
        mode = groups.modes[batch[0]]
        n = int(groups.n_ligands[batch[0]])
        lig = groups.members[batch, :n]
        # candidates: atoms of the species these groups use as ligands, never a centre
        cand = np.setdiff1d(np.flatnonzero(np.isin(sym, np.unique(sym[lig]))), groups.centres)
        if mode == "central":
            k_idx, atoms, own, cut = _candidate_pairs(groups, traj, batch, lig, cand, frames, slack)
            chunk = max(1, 4_000_000 // max(1, atoms.size))
            onehot = np.zeros((atoms.size, batch.size))
            onehot[np.arange(atoms.size), k_idx] = 1.0
            for s in range(0, frames.size, chunk):
                fr = frames[s : s + chunk]
                p = traj.positions[fr]
                cells = traj.cell[fr] if traj.variable_cell else traj.cell
                d = np.asarray(p[:, atoms], dtype=np.float64) - np.asarray(
                    p[:, groups.centres[batch][k_idx]], dtype=np.float64
                )
                dist = np.linalg.norm(_minimum_image(d, cells), axis=-1)  # (f, pairs)
                n_lost = ((dist > cut * (1 + slack)) & own) @ onehot  # (f, batch)
                n_joined = ((dist < cut) & ~own) @ onehot
                bad = n_lost != n_joined
                if np.any(bad):
                    fi, k = np.argwhere(bad)[0]
                    g = batch[k]
                    now = int(n - n_lost[fi, k] + n_joined[fi, k])
                    raise ArgumentError(
                        "traj",
                        f"group {g} ({groups.kinds[g]} at atom {groups.centres[g]}) has {n} "
                        f"ligands at frame {groups.frame} but {now} at frame {fr[fi]} (a ligand "
                        "count that changes): its orientation is undefined; adjust "
                        "cutoff_factor/cutoffs_A/bond_slack, or validate=False",
                    )
                swap = n_lost > 0
                for k in np.flatnonzero(swap.any(axis=0)):
                    g = batch[k]
                    if not exchanged[g]:
                        exchanged[g] = True
                        first[g] = int(fr[np.argmax(swap[:, k])])
        else:
            ii, jj = np.triu_indices(n, 1)
            d0 = groups.vectors_A(traj, batch, slice(groups.frame, groups.frame + 1))[0]
            bonded = np.linalg.norm(d0[:, ii] - d0[:, jj], axis=-1)
            cut_pairs = np.array(
                [
                    [groups.cutoffs_A[(sym[lig[k, a]], sym[lig[k, b]])] for a, b in zip(ii, jj)]
                    for k in range(batch.size)
                ]
            )
            bonded = bonded <= cut_pairs
            chunk = max(1, 2_000_000 // max(1, batch.size * ii.size))
            for s in range(0, frames.size, chunk):
                fr = frames[s : s + chunk]
                d = groups.vectors_A(traj, batch, fr)
                dist = np.linalg.norm(d[:, :, ii] - d[:, :, jj], axis=-1)
                broken = ((dist > cut_pairs * (1 + slack)) & bonded).any(axis=2)
                for k in np.flatnonzero(broken.any(axis=0)):
                    g = batch[k]
                    if not exchanged[g]:
                        exchanged[g] = True
                        first[g] = int(fr[np.argmax(broken[:, k])])
    if np.any(exchanged):
        bad = np.flatnonzero(exchanged)
        msg = (
            f"{bad.size} of {groups.n_groups} groups exchanged ligands or broke a bond "
            f"(groups {bad[:8].tolist()}, first at frame {int(first[bad].min())}): their "
            "orientations after that are not those of one rigid body"
        )
        if on_exchange == "raise":
            raise ArgumentError("traj", msg)
        if on_exchange == "warn":
            warnings.warn(msg, LigandExchangeWarning, stacklevel=3)
    return PolyanionGroups(
        centres=groups.centres,
        members=groups.members,
        n_ligands=groups.n_ligands,
        kinds=groups.kinds,
        modes=groups.modes,
        cutoffs_A=groups.cutoffs_A,
        frame=groups.frame,
        exchanged=exchanged,
        first_exchange_frame=first,
        checked_stride=stride,
        n_atoms=groups.n_atoms,
        symbols=groups.symbols,
    )
