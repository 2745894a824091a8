"""Proper point groups of rigid ligand sets, and the quaternion algebra the module uses.

>>> pg = proper_point_group(tetrahedron_vectors)  # (n, 3) centre→ligand vectors, Å
>>> pg.name, pg.order, pg.labels  # 'T', 12, ('E', 'C3', ..., 'C2', ...)

A proper symmetry element is a rotation g with g·v_i = v_π(i) for every ligand vector v_i and a
permutation π (atoms of one species map onto atoms of that species). Candidates come from
mapping one pair of non-collinear reference vectors onto every pair of vectors with the same
lengths and angle (within ``symprec``); a candidate is kept when it maps the whole set onto
itself. The shape is then symmetrised (averaged over the group, v_i ← ⟨gᵀ v_π_g(i)⟩_g) and the
rotations recomputed from the permutations, so they form a group to machine precision.

Quaternions are scalar-first (w, x, y, z); R(q) rotates vectors actively.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lilib.errors import ArgumentError

__all__ = [
    "PointGroup",
    "proper_point_group",
    "quat_conj",
    "quat_from_matrix",
    "quat_multiply",
    "quat_to_matrix",
    "rotation_angle_deg",
]


# ---------------------------------------------------------------------------- quaternions


def quat_multiply(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hamilton product p ⊗ q (rotation q first, then p); broadcasts over leading axes."""
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    pw, px, py, pz = np.moveaxis(p, -1, 0)
    qw, qx, qy, qz = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            pw * qw - px * qx - py * qy - pz * qz,
            pw * qx + px * qw + py * qz - pz * qy,
            pw * qy - px * qz + py * qw + pz * qx,
            pw * qz + px * qy - py * qx + pz * qw,
        ],
        axis=-1,
    )


def quat_conj(q: np.ndarray) -> np.ndarray:
    """Conjugate (the inverse rotation for a unit quaternion)."""
    q = np.array(q, dtype=float, copy=True)
    q[..., 1:] *= -1.0
    return q


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) of unit quaternions (..., 4)."""
    q = np.asarray(q, dtype=float)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        axis=-2,
    )


def quat_from_matrix(m: np.ndarray) -> np.ndarray:
    """Unit quaternions (..., 4), w ≥ 0, of rotation matrices (..., 3, 3)."""
    m = np.asarray(m, dtype=float)
    shape = m.shape[:-2]
    m = m.reshape(-1, 3, 3)
    # Horn's key matrix of the basis vectors mapped by m: its top eigenvector is q (robust for
    # every angle, unlike the trace formula near 180°)
    from lilib.rotations._kernels import best_fit_quaternions

    ref = np.broadcast_to(np.eye(3), (m.shape[0], 3, 3))
    cur = np.swapaxes(m, 1, 2)[None]  # columns of m = images of the basis vectors
    q = np.empty((1, m.shape[0], 4))
    rmsd = np.empty((1, m.shape[0]))
    best_fit_quaternions(np.ascontiguousarray(cur), np.ascontiguousarray(ref), q, rmsd)
    return q[0].reshape(*shape, 4)


def rotation_angle_deg(q: np.ndarray) -> np.ndarray:
    """Rotation angle in [0°, 180°] of unit quaternions (..., 4)."""
    w = np.clip(np.abs(np.asarray(q, dtype=float)[..., 0]), 0.0, 1.0)
    return np.degrees(2.0 * np.arccos(w))


def _axis(q: np.ndarray) -> np.ndarray:
    """Unit rotation axis (w ≥ 0 convention); zeros for the identity."""
    q = np.where(q[..., :1] < 0, -q, q)
    v = q[..., 1:]
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.where(n > 1e-12, v / np.where(n > 1e-12, n, 1.0), 0.0)


# ---------------------------------------------------------------------------- point group


@dataclass(frozen=True, eq=False)
class PointGroup:
    """Proper rotations that map a rigid ligand set onto itself.

    name: Schoenflies symbol of the rotation group (C1, Cn, Dn, T, O, I). order: number of
    elements. rotations: (order, 3, 3), element 0 the identity; quaternions: (order, 4), w ≥ 0.
    permutations: (order, n) with rotations[k] @ v_i = v_{permutations[k, i]}. angles_deg:
    rotation angle of each element. labels: class of each element, 'E', 'Cn' (rotation by
    360°/n about an n-fold axis) or 'Cn^m' (by m·360°/n, e.g. 'C4^2' for the 180° rotation
    about a 4-fold axis of an octahedron). axes: unit axis of each element (zeros for E).
    through_ligand: the axis passes through a ligand (e.g. C3 of a tetrahedron: "about a
    bond"). reference_A: the symmetrised ligand vectors, Å. symprec: tolerance used, Å.
    """

    name: str
    order: int
    rotations: np.ndarray = field(repr=False)
    quaternions: np.ndarray = field(repr=False)
    permutations: np.ndarray = field(repr=False)
    angles_deg: np.ndarray = field(repr=False)
    labels: tuple[str, ...] = field(repr=False)
    axes: np.ndarray = field(repr=False)
    through_ligand: np.ndarray = field(repr=False)
    reference_A: np.ndarray = field(repr=False)
    symprec: float = field(repr=False)

    @property
    def min_separation_deg(self) -> float:
        """Smallest rotation angle between two distinct elements (the closest states), °."""
        if self.order == 1:
            return 360.0
        return float(self.angles_deg[1:].min())

    @property
    def classes(self) -> dict[str, int]:
        """Element count per class label, e.g. {'E': 1, 'C3': 8, 'C2': 3} for T."""
        out: dict[str, int] = {}
        for lab in self.labels:
            out[lab] = out.get(lab, 0) + 1
        return out

    def describe(self, k: int) -> str:
        """Words for element k, e.g. 'C3 (120°) about a bond'."""
        if k == 0:
            return "E (identity)"
        where = " about a bond" if self.through_ligand[k] else ""
        return f"{self.labels[k]} ({self.angles_deg[k]:.0f}°){where}"

    def plot(self, ax=None):
        """Bar chart of the element classes (count per label); returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4, 3))
        classes = self.classes
        ax.bar(list(classes), list(classes.values()), color="tab:purple")
        ax.set_ylabel("elements")
        ax.set_title(f"{self.name} (order {self.order})", fontsize=9)
        return ax

    def to_dataframe(self) -> pd.DataFrame:
        """One row per element: label, angle, axis, axis through a ligand."""
        return pd.DataFrame(
            {
                "label": list(self.labels),
                "angle_deg": self.angles_deg,
                "axis_x": self.axes[:, 0],
                "axis_y": self.axes[:, 1],
                "axis_z": self.axes[:, 2],
                "through_ligand": self.through_ligand,
            }
        )

    def transformed(self, rotation: np.ndarray) -> PointGroup:
        """The same group for the ligand set rotated by ``rotation`` (3×3): g → R g Rᵀ."""
        r = np.asarray(rotation, dtype=float)
        rots = r @ self.rotations @ r.T
        return PointGroup(
            name=self.name,
            order=self.order,
            rotations=rots,
            quaternions=quat_from_matrix(rots),
            permutations=self.permutations,
            angles_deg=self.angles_deg,
            labels=self.labels,
            axes=self.axes @ r.T,
            through_ligand=self.through_ligand,
            reference_A=self.reference_A @ r.T,
            symprec=self.symprec,
        )


def _frame(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Orthonormal frame (columns) from a and the part of b orthogonal to it."""
    e1 = a / np.linalg.norm(a)
    e2 = b - (b @ e1) * e1
    e2 /= np.linalg.norm(e2)
    return np.column_stack([e1, e2, np.cross(e1, e2)])


def _kabsch(ref: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """Rotation R minimising Σ|R ref_i − cur_i|² (SVD with the det correction)."""
    h = ref.T @ cur
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(vt.T @ u.T)) or 1.0
    return vt.T @ np.diag([1.0, 1.0, d]) @ u.T


def _match(rotated: np.ndarray, vectors: np.ndarray, types: np.ndarray, tol: float):
    """Permutation π with rotated_i ≈ vectors_π(i) (same type), or None."""
    d = np.linalg.norm(rotated[:, None, :] - vectors[None, :, :], axis=-1)
    d[types[:, None] != types[None, :]] = np.inf
    perm = np.argmin(d, axis=1)
    if np.any(d[np.arange(len(perm)), perm] > tol):
        return None
    if np.unique(perm).size != perm.size:
        return None
    return perm


def _element_order(angle_deg: float, max_order: int = 12) -> int:
    if angle_deg < 1e-3:
        return 1
    for k in range(2, max_order + 1):
        x = (k * angle_deg) % 360.0
        if min(x, 360.0 - x) < 0.5:
            return k
    return 0  # not a finite-order rotation within tolerance


def proper_point_group(
    vectors: np.ndarray,
    types: np.ndarray | list | None = None,
    *,
    symprec: float = 0.15,
    hint: np.ndarray | None = None,
) -> PointGroup:
    """The proper rotation group of a rigid set of centre→ligand vectors (Å).

    vectors: (n, 3), n ≥ 2, not all collinear (a linear group's spin about its axis has no
    orientation). types: species of each vector (symmetry maps a species onto itself); default
    all alike. symprec: tolerance as a fraction of the mean vector length (0.15 → a ligand may
    miss its image by 15 % of the bond after the best fit). hint: permutations (m, n) of the
    group of a similar set (same kind): taken as the answer when every one of them is a
    symmetry here (skips the search; a set with extra symmetry would need the search).
    Returns a :class:`PointGroup` of the symmetrised set.
    """

    v = np.asarray(vectors, dtype=float)
    if v.ndim != 2 or v.shape[1] != 3 or v.shape[0] < 2:
        raise ArgumentError("vectors", f"expected (n ≥ 2, 3) ligand vectors, got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ArgumentError("vectors", "contains NaN or inf")
    if not 0 < symprec < 0.5:
        raise ArgumentError("symprec", f"must be in (0, 0.5) (fraction of a bond), got {symprec!r}")
    n = v.shape[0]
    t = (
        np.zeros(n, dtype=int)
        if types is None
        else np.unique(np.asarray(types), return_inverse=True)[1]
    )
    if t.shape != (n,):
        raise ArgumentError("types", f"expected {n} types, got {len(t)}")
    lengths = np.linalg.norm(v, axis=1)
    scale = float(lengths.mean())
    if scale <= 0:
        raise ArgumentError("vectors", "all vectors are zero")
    tol = symprec * scale

    # anchor pair: the first vector and the one least collinear with it
    i0 = int(np.argmax(lengths))
    cross = np.linalg.norm(np.cross(v[i0], v), axis=1)
    j0 = int(np.argmax(cross))
    if cross[j0] < tol * lengths[i0]:
        raise ArgumentError(
            "vectors", "the ligands are collinear (a linear group): its orientation is undefined"
        )
    perms: list[np.ndarray] = []
    if hint is not None and np.shape(hint)[1:] == (n,):
        ok = all(
            np.array_equal(t[p], t)
            and np.max(np.linalg.norm(v @ _kabsch(v, v[p]).T - v[p], axis=1)) <= tol
            for p in hint
        )
        if ok:
            perms = [np.asarray(p) for p in hint]
    src = _frame(v[i0], v[j0])
    dot0 = v[i0] @ v[j0]
    for i in range(n if not perms else 0):
        if t[i] != t[i0] or abs(lengths[i] - lengths[i0]) > tol:
            continue
        for j in range(n):
            if j == i or t[j] != t[j0] or abs(lengths[j] - lengths[j0]) > tol:
                continue
            if abs(v[i] @ v[j] - dot0) > 2 * tol * scale:
                continue
            if np.linalg.norm(np.cross(v[i], v[j])) < 1e-9:
                continue
            r = _frame(v[i], v[j]) @ src.T
            # the pair-frame rotation carries the anchors' error to every other ligand: match
            # loosely, then judge the best-fit rotation of the whole permutation
            perm = _match(v @ r.T, v, t, 2.5 * tol)
            if perm is None or any(np.array_equal(perm, p) for p in perms):
                continue
            r = _kabsch(v, v[perm])
            if np.max(np.linalg.norm(v @ r.T - v[perm], axis=1)) <= tol:
                perms.append(perm)
    # close under composition: a loose tolerance could admit a near-symmetry without its partner
    perm_set = {tuple(p) for p in perms}
    closed = [p for p in perms if all(tuple(p[q]) in perm_set for q in perms)]
    perms = closed if closed else [np.arange(n)]
    identity = next((k for k, p in enumerate(perms) if np.array_equal(p, np.arange(n))), None)
    if identity is None:
        perms.insert(0, np.arange(n))
    else:
        perms.insert(0, perms.pop(identity))

    # symmetrise: average the set over the group, then exact rotations from the permutations
    rots = [_kabsch(v, v[p]) for p in perms]
    sym = np.mean([r.T @ v[p].T for r, p in zip(rots, perms)], axis=0).T
    rots = np.array([_kabsch(sym, sym[p]) for p in perms])
    quats = quat_from_matrix(rots)
    angles = rotation_angle_deg(quats)
    axes = _axis(quats)
    orders = np.array([_element_order(a) for a in angles])
    labels = ["E"]
    for k in range(1, len(perms)):
        parallel = np.abs(axes @ axes[k]) > np.cos(np.radians(2.0))
        n_axis = int(orders[parallel].max())
        m = round(angles[k] * n_axis / 360.0)
        labels.append(f"C{n_axis}" if m == 1 else f"C{n_axis}^{m}")
    unit = sym / np.linalg.norm(sym, axis=1, keepdims=True)
    through = np.array(
        [
            k > 0 and bool(np.any(np.abs(unit @ axes[k]) > np.cos(np.radians(3.0))))
            for k in range(len(perms))
        ]
    )
    order = len(perms)
    n_max = int(orders.max()) if order > 1 else 1
    if order == 1:
        name = "C1"
    elif order == 12 and np.sum(orders == 3) == 8:
        name = "T"
    elif order == 24 and np.sum(orders == 4) == 6:
        name = "O"
    elif order == 60 and np.sum(orders == 5) == 24:
        name = "I"
    elif order == n_max:
        name = f"C{n_max}"
    elif order == 2 * n_max:
        name = f"D{n_max}"
    else:
        name = f"G{order}"
    return PointGroup(
        name=name,
        order=order,
        rotations=rots,
        quaternions=quats,
        permutations=np.array(perms),
        angles_deg=angles,
        labels=tuple(labels),
        axes=axes,
        through_ligand=through,
        reference_A=sym,
        symprec=float(symprec),
    )
