"""Orientation of every polyanion group in every frame, and its misorientation modulo symmetry.

>>> orient = track_orientations(traj, groups)  # quaternions (n_frames, n_groups, 4)
>>> orient.point_groups[0].name, orient.point_groups[0].order  # 'T', 12 for PS4
>>> orient.misorientation_deg  # (n_frames, n_groups) angle to the nearest equivalent state
>>> orient.lag_misorientation_deg(0.5)  # mean rotation over 0.5 ps, modulo symmetry

Method, per group:

1. Centre→ligand vectors x_i(t) (minimum image per frame; clusters: from the centroid).
2. Kabsch fit of every frame to the reference frame's vectors (Horn/QCP quaternion method,
   numba, batched over frames and groups); the body-frame average ⟨R(t)ᵀ x_i(t)⟩_t is the
   mean shape (thermal distortion averaged out; a jump only relabels ligands, so it is valid
   through jumps).
3. The proper point group G of the mean shape (:func:`~lilib.rotations.symmetry.
   proper_point_group`): T (12) for a tetrahedron, O (24) for an octahedron, D3 (6) for a planar
   XY3, C3 (3) for a pyramidal XY3, I (60) for B12H12; the shape is symmetrised over G.
4. Kabsch fit of every frame to the symmetrised shape → R(t) as unit quaternions (scalar first,
   sign made continuous in time). The symmetry-equivalent orientation states are the elements
   g_k of G: R = g_k puts the ligands on the reference positions, permuted.
5. The reference orientation is moved to the equilibrium orientation: the quaternion average
   (Markley) of R(t) g_k(t)⁻¹ over all frames, k(t) the nearest state; libration is then
   centred on the states.

Misorientation: ω_k(t) = angle(g_k⁻¹ R(t)) = 2 arccos|q(t)·q_k|; the nearest state k(t) and
min_k ω_k(t) (libration and tilt about the current state) are stored for every frame.
Discrete reorientations (state changes with hysteresis) are found by
:func:`~lilib.rotations.events.rotation_events`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lilib.errors import ArgumentError
from lilib.md.trajectory import Trajectory
from lilib.rotations import _kernels
from lilib.rotations.groups import PolyanionGroups
from lilib.rotations.symmetry import (
    PointGroup,
    proper_point_group,
    quat_conj,
    quat_multiply,
    quat_to_matrix,
)

__all__ = ["Orientations", "track_orientations"]

#: frames per chunk when streaming vectors through the fit (bounds temporary memory)
_CHUNK = 2048
#: frames used to average the body-frame shape (evenly spaced)
_SHAPE_FRAMES = 2000


@dataclass(frozen=True, eq=False)
class Orientations:
    """Orientation of each group in each frame.

    groups: the :class:`~lilib.rotations.groups.PolyanionGroups`. point_groups: one
    :class:`~lilib.rotations.symmetry.PointGroup` per group, in the lab frame (its rotations
    are the orientation states). quaternions: (n_frames, n_groups, 4) scalar-first rotation from
    the group's reference geometry (``point_groups[g].reference_A``) to the frame, continuous in
    sign. rmsd_A: (n_frames, n_groups) residual of the rigid fit, Å (distortion).
    nearest_state: (n_frames, n_groups) index of the nearest state. misorientation_deg:
    (n_frames, n_groups) angle to it, ° (libration + tilt). timestep_fs: between frames.
    temperature_K: of the run, or None.
    """

    groups: PolyanionGroups
    point_groups: tuple[PointGroup, ...] = field(repr=False)
    quaternions: np.ndarray = field(repr=False)
    rmsd_A: np.ndarray = field(repr=False)
    nearest_state: np.ndarray = field(repr=False)
    misorientation_deg: np.ndarray = field(repr=False)
    timestep_fs: float
    temperature_K: float | None = None

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.quaternions.shape[0])

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return int(self.quaternions.shape[1])

    @property
    def times_ps(self) -> np.ndarray:
        """Time of each frame, ps."""
        return np.arange(self.n_frames) * self.timestep_fs / 1000.0

    @property
    def duration_ps(self) -> float:
        """Length of the run, ps (n_frames × time step: every frame stands for one step)."""
        return self.n_frames * self.timestep_fs / 1000.0

    @property
    def libration_rms_deg(self) -> np.ndarray:
        """RMS misorientation from the nearest state per group, ° (libration amplitude)."""
        m = self.misorientation_deg.astype(np.float64)
        return np.sqrt(np.mean(m * m, axis=0))

    def state_quaternions(self) -> tuple[np.ndarray, np.ndarray]:
        """States of all groups padded to one array: (n_groups, max order, 4) and the orders."""
        orders = np.array([pg.order for pg in self.point_groups])
        out = np.zeros((self.n_groups, int(orders.max()), 4))
        for g, pg in enumerate(self.point_groups):
            out[g, : pg.order] = pg.quaternions
        return out, orders

    def rotation_matrices(self, frames: slice | np.ndarray | None = None) -> np.ndarray:
        """Rotation matrices (n_frames, n_groups, 3, 3) of the chosen frames (all by default)."""
        q = self.quaternions if frames is None else self.quaternions[frames]
        return quat_to_matrix(q)

    def lag_misorientation_deg(self, lag_ps: float) -> np.ndarray:
        """Mean rotation angle between frames ``lag_ps`` apart, modulo symmetry, per group, °.

        min_k angle(R(t)⁻¹ R(t + τ) g_k), averaged over all time origins t.
        """
        lag = round(float(lag_ps) * 1000.0 / self.timestep_fs)
        if not 1 <= lag < self.n_frames:
            raise ArgumentError(
                "lag_ps",
                f"must be between one frame ({self.timestep_fs / 1000:g} ps) and the run "
                f"({self.duration_ps:g} ps), got {lag_ps!r}",
            )
        sym, orders = self.state_quaternions()
        out = np.zeros(self.n_groups)
        n_orig = self.n_frames - lag
        for s in range(0, n_orig, _CHUNK):
            e = min(s + _CHUNK, n_orig)
            q1 = self.quaternions[s:e]
            q2 = self.quaternions[s + lag : e + lag]
            rel = quat_multiply(
                quat_conj(q1), q2
            )  # R(t)⁻¹ R(t+τ), lab-frame states act on the right
            # |rel · g_k| = cos(½ angle(rel g_k⁻¹)); g_k⁻¹ runs over G as g_k does
            dots = np.abs(np.einsum("fgc,gkc->fgk", rel, sym))
            for g in range(self.n_groups):
                dots[:, g, orders[g] :] = 0.0
            cos = np.clip(dots.max(axis=2), 0.0, 1.0)
            out += np.degrees(2.0 * np.arccos(cos)).sum(axis=0)
        return out / n_orig

    def to_dataframe(self) -> pd.DataFrame:
        """One row per group: kind, point group, libration (mean, RMS, max), rigid-fit RMSD."""
        m = self.misorientation_deg.astype(np.float64)
        return pd.DataFrame(
            {
                "kind": list(self.groups.kinds),
                "centre": self.groups.centres,
                "point_group": [pg.name for pg in self.point_groups],
                "order": [pg.order for pg in self.point_groups],
                "misorientation_mean_deg": m.mean(axis=0),
                "misorientation_rms_deg": self.libration_rms_deg,
                "misorientation_max_deg": m.max(axis=0),
                "rmsd_mean_A": self.rmsd_A.mean(axis=0),
                "rmsd_max_A": self.rmsd_A.max(axis=0),
            }
        )

    def plot(self, ax=None, groups: list[int] | None = None):
        """Misorientation from the nearest state against time, one line per group; the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3))
        sel = range(min(self.n_groups, 8)) if groups is None else groups
        t = self.times_ps
        for g in sel:
            ax.plot(t, self.misorientation_deg[:, g], lw=0.6, label=f"{self.groups.kinds[g]} {g}")
        ax.set_xlabel("time (ps)")
        ax.set_ylabel("misorientation (°)")
        ax.legend(fontsize=6, ncol=2)
        return ax


def _continuous(q: np.ndarray, prev: np.ndarray | None) -> np.ndarray:
    """Flip quaternion signs so consecutive frames have q(t)·q(t−1) ≥ 0 (q: (f, g, 4))."""
    if prev is not None:
        q = np.concatenate([prev[None], q])
    dots = np.einsum("fgc,fgc->fg", q[1:], q[:-1])
    flips = np.cumprod(np.where(dots < 0, -1.0, 1.0), axis=0)
    q[1:] *= flips[..., None]
    return q[1:] if prev is not None else q


def _markley_mean(q: np.ndarray) -> np.ndarray:
    """Average rotation of unit quaternions (n, 4): top eigenvector of Σ q qᵀ (sign-free)."""
    m = np.einsum("ni,nj->ij", q, q)
    _, v = np.linalg.eigh(m)
    out = v[:, 3]
    return out if out[0] >= 0 else -out


def _fit(vectors: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    q = np.empty((*vectors.shape[:2], 4))
    r = np.empty(vectors.shape[:2])
    _kernels.best_fit_quaternions(np.ascontiguousarray(vectors), np.ascontiguousarray(ref), q, r)
    return q, r


def track_orientations(
    traj: Trajectory,
    groups: PolyanionGroups,
    *,
    symprec: float = 0.15,
    chunk_frames: int = _CHUNK,
) -> Orientations:
    """Orientation quaternions, point groups and misorientation of every group (see module doc).

    symprec: symmetry tolerance as a fraction of the mean centre–ligand distance (0.15: a
    ligand may miss its symmetric image by 15 % of a bond in the time-averaged shape).
    chunk_frames: frames per streamed chunk (memory ≈ chunk × groups × ligands × 24 bytes).
    """
    if not isinstance(traj, Trajectory):
        raise ArgumentError("traj", f"expected a lilib.md.Trajectory, got {type(traj).__name__}")
    if not isinstance(groups, PolyanionGroups):
        raise ArgumentError(
            "groups", f"expected PolyanionGroups (find_groups), got {type(groups).__name__}"
        )
    if groups.n_atoms != traj.n_atoms or not np.array_equal(groups.symbols, traj.symbols):
        raise ArgumentError(
            "groups",
            f"found in another system ({groups.n_atoms} atoms) than this trajectory "
            f"({traj.n_atoms} atoms, {traj.formula})",
        )
    if isinstance(symprec, bool) or not isinstance(symprec, (int, float)) or not 0 < symprec < 0.5:
        raise ArgumentError("symprec", f"must be in (0, 0.5) (fraction of a bond), got {symprec!r}")
    if not isinstance(chunk_frames, (int, np.integer)) or chunk_frames < 1:
        raise ArgumentError("chunk_frames", f"must be an integer ≥ 1, got {chunk_frames!r}")
    nf, ng = traj.n_frames, groups.n_groups
    quats = np.empty((nf, ng, 4))
    rmsd = np.empty((nf, ng), dtype=np.float32)
    point_groups: list[PointGroup | None] = [None] * ng
    stride = max(1, -(-nf // _SHAPE_FRAMES))
    for batch in groups.batches():
        n = int(groups.n_ligands[batch[0]])
        s_ref = groups.vectors_A(traj, batch, slice(groups.frame, groups.frame + 1))[0]
        # pass 1: mean body-frame shape
        body = np.zeros_like(s_ref)
        count = 0
        sample = np.arange(0, nf, stride)
        for s in range(0, sample.size, chunk_frames):
            fr = sample[s : s + chunk_frames]
            x = groups.vectors_A(traj, batch, fr)
            q, _ = _fit(x, s_ref)
            rot = quat_to_matrix(q)
            body += np.einsum("fgji,fgnj->gni", rot, x)
            count += fr.size
        body /= count
        ligand_types = groups.symbols[groups.members[batch, :n]]
        pgs: list[PointGroup] = []
        for k in range(batch.size):
            # groups of one kind share their symmetry: try the last one's before searching
            same = [
                pg for kk, pg in enumerate(pgs) if groups.kinds[batch[kk]] == groups.kinds[batch[k]]
            ]
            hint = same[-1].permutations if same else None
            try:
                pg = proper_point_group(body[k], ligand_types[k], symprec=symprec, hint=hint)
            except ArgumentError as exc:
                g = batch[k]
                raise ArgumentError(
                    "groups", f"group {g} ({groups.kinds[g]}): {exc.reason}"
                ) from None
            pgs.append(pg)
        ref = np.stack([pg.reference_A for pg in pgs])
        # pass 2: fit to the symmetrised shape, reduce modulo G, average → equilibrium orientation
        m_acc = np.zeros((batch.size, 4, 4))
        prev = None
        for s in range(0, nf, chunk_frames):
            e = min(s + chunk_frames, nf)
            q, r = _fit(groups.vectors_A(traj, batch, slice(s, e)), ref)
            q = _continuous(q, prev)
            prev = q[-1]
            quats[s:e, batch] = q
            rmsd[s:e, batch] = r
            for k, pg in enumerate(pgs):
                dots = np.abs(q[:, k] @ pg.quaternions.T)
                near = np.argmax(dots, axis=1)
                red = quat_multiply(q[:, k], quat_conj(pg.quaternions[near]))
                m_acc[k] += red.T @ red
        for k, g in enumerate(batch):
            _, v = np.linalg.eigh(m_acc[k])
            qbar = v[:, 3] if v[0, 3] >= 0 else -v[:, 3]
            rbar = quat_to_matrix(qbar)
            point_groups[g] = pgs[k].transformed(rbar)
            # R' = R R̄ᵀ: the reference now sits at the equilibrium orientation
            quats[:, g] = quat_multiply(quats[:, g], quat_conj(qbar))
    for kind in sorted(set(groups.kinds)):
        names = {point_groups[g].name for g in range(ng) if groups.kinds[g] == kind}
        if len(names) > 1:
            warnings.warn(
                f"{kind} groups got different point groups ({sorted(names)}): some are distorted "
                f"beyond symprec={symprec:g}; raise symprec to treat them alike",
                UserWarning,
                stacklevel=2,
            )
    sym = np.zeros((ng, max(pg.order for pg in point_groups), 4))
    orders = np.zeros(ng, dtype=np.int64)
    for g, pg in enumerate(point_groups):
        sym[g, : pg.order] = pg.quaternions
        orders[g] = pg.order
    nearest = np.empty((nf, ng), dtype=np.int64)
    cos = np.empty((nf, ng))
    _kernels.nearest_states(quats, sym, orders, nearest, cos)
    mis = np.degrees(2.0 * np.arccos(np.clip(cos, 0.0, 1.0))).astype(np.float32)
    return Orientations(
        groups=groups,
        point_groups=tuple(point_groups),
        quaternions=quats,
        rmsd_A=rmsd,
        nearest_state=nearest.astype(np.int16 if sym.shape[1] < 32000 else np.int32),
        misorientation_deg=mis,
        timestep_fs=traj.timestep_fs,
        temperature_K=traj.temperature_K,
    )
