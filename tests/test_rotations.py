"""lilib.rotations: groups, point groups, orientations, reorientation events, bond ACFs.

Synthetic ground truth (``rigid_rotors``): rigid tetrahedra / octahedra / triangles on a lattice
that librate (Ornstein–Uhlenbeck rotation vector, 12° RMS angle, 0.1 ps correlation time) and
make prescribed symmetry jumps (C3 about a bond, C2, C4, ...) at known frames. Real AIMD runs
(LGPS 600 K, cubic Na3PS4 800 K, Li6PS5Cl) show libration only (shared/data/md/PROVENANCE.md):
PS4 counts, zero events, P2 ACF 0.93–0.96, libration a few to ~10°.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import warnings

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from lilib.config import shared_data_dir
from lilib.errors import ArgumentError, LilibError
from lilib.md import Trajectory
from lilib.rotations import (
    LigandExchangeWarning,
    bond_acf,
    find_groups,
    legendre_acf,
    proper_point_group,
    rotation_analysis,
    rotation_arrhenius,
    rotation_events,
    track_orientations,
)

DT_FS = 20.0
LIB_RMS_DEG = 12.0

_TET = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float) / np.sqrt(3)
_OCT = np.vstack([np.eye(3), -np.eye(3)])
_TRI = np.array([[1, 0, 0], [-0.5, np.sqrt(3) / 2, 0], [-0.5, -np.sqrt(3) / 2, 0]])
_PHI = (1 + 5**0.5) / 2
_ICO = np.array(
    [[0, a, b * _PHI] for a in (1, -1) for b in (1, -1)]
    + [[a, b * _PHI, 0] for a in (1, -1) for b in (1, -1)]
    + [[b * _PHI, 0, a] for a in (1, -1) for b in (1, -1)],
    float,
)
_ICO /= np.linalg.norm(_ICO, axis=1, keepdims=True)
SHAPES = {
    # name: (unit ligand directions, bond Å, centre, ligand)
    "PS4": (_TET, 2.05, "P", "S"),
    "BH4": (_TET, 1.22, "B", "H"),
    "BF4": (_TET, 1.40, "B", "F"),
    "SO4": (_TET, 1.48, "S", "O"),
    "PF6": (_OCT, 1.60, "P", "F"),
    "CO3": (_TRI, 1.29, "C", "O"),
    "NO3": (_TRI, 1.25, "N", "O"),
    "ClO3": (_TRI - [0, 0, 0.6], 1.49, "Cl", "O"),  # pyramidal, C3v → C3
}


def body_element(shape: str, label: str, index: int = 0) -> np.ndarray:
    """A body-frame rotation matrix of the given class (e.g. 'C3', 'C2', 'C4') for a shape."""
    pg = proper_point_group(SHAPES[shape][0])
    ks = [k for k, lab in enumerate(pg.labels) if lab == label]
    return pg.rotations[ks[index % len(ks)]]


def libration(n_frames, n_groups, rms_deg=LIB_RMS_DEG, tau_ps=0.1, seed=0):
    """OU rotation vectors (n_frames, n_groups, 3), rad, with an RMS angle of ``rms_deg``."""
    rng = np.random.default_rng(seed)
    a = np.exp(-DT_FS / 1000.0 / tau_ps)
    sigma = np.radians(rms_deg) / np.sqrt(3)
    w = np.empty((n_frames, n_groups, 3))
    w[0] = rng.normal(0, sigma, (n_groups, 3))
    kick = rng.normal(0, sigma * np.sqrt(1 - a * a), (n_frames, n_groups, 3))
    for t in range(1, n_frames):
        w[t] = a * w[t - 1] + kick[t]
    return w


def rigid_rotors(
    shape="PS4",
    n_groups=8,
    n_frames=1500,
    jumps=None,
    *,
    spacing_A=8.0,
    lib_rms_deg=LIB_RMS_DEG,
    seed=0,
    extra=None,
    ramp=6,
):
    """Trajectory of rigid groups on a cubic lattice + the ground truth.

    jumps: {group: [(frame, body-frame rotation 3×3), ...]}: from that frame on, the group's
    ligands are permuted by that symmetry element (a lab-frame jump R0 g R0ᵀ about the group's
    current axes), turning continuously about the element's axis over ``ramp`` frames centred
    on ``frame`` (half-way at ``frame``). extra: (symbols, positions (n_frames, n, 3)) appended
    (e.g. Li ions). Returns (traj, truth) with truth['centres_A'] (n_groups, 3) and truth['R0'].
    """
    dirs, bond, c_sym, l_sym = SHAPES[shape]
    rng = np.random.default_rng(seed)
    side = int(np.ceil(n_groups ** (1 / 3)))
    box = spacing_A * side
    grid = np.array([[i, j, k] for i in range(side) for j in range(side) for k in range(side)])
    centres = (grid[:n_groups] + 0.5) * spacing_A
    r0 = Rotation.random(n_groups, random_state=seed).as_matrix()
    body = dirs * bond
    n_l = len(dirs)
    lib = Rotation.from_rotvec(
        libration(n_frames, n_groups, lib_rms_deg, seed=seed + 1).reshape(-1, 3)
    )
    lib = lib.as_matrix().reshape(n_frames, n_groups, 3, 3)
    state = np.broadcast_to(np.eye(3), (n_frames, n_groups, 3, 3)).copy()
    for g, seq in (jumps or {}).items():
        for frame, elem in sorted(seq, key=lambda x: x[0]):
            h = r0[g] @ elem @ r0[g].T  # lab-frame symmetry element of the reference set
            start, end = frame - ramp // 2, frame - ramp // 2 + ramp
            rotvec = Rotation.from_matrix(h).as_rotvec()
            for t in range(max(start, 0), min(end, n_frames)):
                part = Rotation.from_rotvec(rotvec * (t - start + 0.5) / ramp).as_matrix()
                state[t, g] = part @ state[t, g]
            state[max(end, 0) :, g] = h @ state[max(end, 0) :, g]
    rot = np.einsum("fgij,fgjk,gkl->fgil", lib, state, r0)
    lig = centres[None, :, None, :] + np.einsum("fgij,nj->fgni", rot, body)
    lig += rng.normal(0, 0.02, lig.shape)
    cen = centres[None] + rng.normal(0, 0.02, (n_frames, n_groups, 3))
    pos = np.concatenate([cen, lig.reshape(n_frames, -1, 3)], axis=1)
    symbols = [c_sym] * n_groups + [l_sym] * (n_groups * n_l)
    if extra is not None:
        symbols += list(extra[0])
        pos = np.concatenate([pos, extra[1]], axis=1)
    traj = Trajectory(pos, np.eye(3) * box, symbols, DT_FS, temperature_K=600.0, unwrapped=True)
    return traj, {"centres_A": centres, "R0": r0, "box_A": box}


# ---------------------------------------------------------------------------- point groups


@pytest.mark.parametrize(
    ("shape", "name", "order", "classes"),
    [
        ("PS4", "T", 12, {"E": 1, "C3": 8, "C2": 3}),
        ("PF6", "O", 24, {"E": 1, "C4": 6, "C4^2": 3, "C2": 6, "C3": 8}),
        ("CO3", "D3", 6, {"E": 1, "C3": 2, "C2": 3}),
        ("ClO3", "C3", 3, {"E": 1, "C3": 2}),
    ],
)
def test_point_group_of_ideal_shapes(shape, name, order, classes):
    dirs, bond, _, _ = SHAPES[shape]
    pg = proper_point_group(Rotation.random(random_state=3).apply(dirs * bond))
    assert (pg.name, pg.order) == (name, order)
    assert pg.classes == classes
    # a group: closed under composition, every element maps the set onto itself
    q = pg.quaternions
    for a in range(order):
        prod = np.abs(np.einsum("kc,c->k", q, _qmul(q[a], q[(a + 1) % order]))).max()
        assert prod > 1 - 1e-9
    v = pg.reference_A
    for r, p in zip(pg.rotations, pg.permutations):
        np.testing.assert_allclose(v @ r.T, v[p], atol=1e-9)
    assert pg.describe(0) == "E (identity)"
    if name == "T":
        c3 = pg.labels.index("C3")
        assert pg.describe(c3) == "C3 (120°) about a bond"
        assert not pg.through_ligand[pg.labels.index("C2")]
    assert len(pg.to_dataframe()) == order
    assert pg.plot().get_ylabel() == "elements"


def _qmul(p, q):
    from lilib.rotations.symmetry import quat_multiply

    return quat_multiply(p, q)


def test_point_group_tolerates_distortion_and_refuses_collinear():
    rng = np.random.default_rng(0)
    v = _TET * 2.05 + rng.normal(0, 0.05, (4, 3))
    assert proper_point_group(v).order == 12
    assert proper_point_group(v, symprec=0.01).order == 1  # tight tolerance: no symmetry left
    with pytest.raises(ArgumentError) as e:
        proper_point_group([[0, 0, 1.2], [0, 0, -1.2]])
    assert e.value.name == "vectors"
    with pytest.raises(ArgumentError) as e:
        proper_point_group(v, symprec=0)
    assert e.value.name == "symprec"


def test_icosahedral_cluster_b12h12():
    cluster = np.vstack([_ICO * 1.693, _ICO * 2.893])
    pg = proper_point_group(cluster, ["B"] * 12 + ["H"] * 12)
    assert (pg.name, pg.order) == ("I", 60)
    assert pg.classes["C5"] == 12 and pg.classes["C5^2"] == 12 and pg.classes["C3"] == 20


# ---------------------------------------------------------------------------- group detection


def zoo_trajectory(n_frames=12, seed=0):
    """One of each group kind (+ B12H12, free Cl, Li) in a 40 Å box, librating."""
    rng = np.random.default_rng(seed)
    symbols, pos = [], []
    for k0, (dirs, bond, c, lig) in enumerate(SHAPES.values()):
        centre = np.array([5.0 + 10 * (k0 % 4), 5.0 + 10 * (k0 // 4), 5.0])
        k = k0 + 1
        tilt = Rotation.from_rotvec(rng.normal(0, 0.1, (n_frames, 3)))
        r = (tilt * Rotation.random(random_state=k)).as_matrix()
        symbols += [c] + [lig] * len(dirs)
        pos.append(
            np.concatenate(
                [
                    np.broadcast_to(centre, (n_frames, 1, 3)),
                    centre + np.einsum("fij,nj->fni", r, dirs * bond),
                ],
                axis=1,
            )
        )
    cluster = np.vstack([_ICO * 1.693, _ICO * 2.893])
    r = Rotation.random(random_state=99).as_matrix()
    symbols += ["B"] * 12 + ["H"] * 12
    pos.append(np.broadcast_to(np.array([25.0, 25.0, 25.0]) + cluster @ r.T, (n_frames, 24, 3)))
    symbols += ["Cl", "Li", "Li"]
    pos.append(
        np.broadcast_to(np.array([[35.0, 35, 35], [15, 30, 30], [30, 15, 30]]), (n_frames, 3, 3))
    )
    p = np.concatenate(pos, axis=1) + rng.normal(0, 0.01, (n_frames, len(symbols), 3))
    return Trajectory(p, np.eye(3) * 40.0, symbols, DT_FS, unwrapped=True)


def test_find_groups_auto_finds_every_kind():
    traj = zoo_trajectory()
    groups = find_groups(traj)
    assert groups.counts == {
        k: 1 for k in ["B12H12", "BF4", "BH4", "CO3", "ClO3", "NO3", "PF6", "PS4", "SO4"]
    }
    by_kind = dict(zip(groups.kinds, groups.n_ligands))
    assert by_kind["PS4"] == 4 and by_kind["PF6"] == 6 and by_kind["CO3"] == 3
    assert by_kind["B12H12"] == 24
    assert groups.modes[groups.kinds.index("B12H12")] == "cluster"
    orient = track_orientations(traj, groups)
    names = {k: pg.name for k, pg in zip(groups.kinds, orient.point_groups)}
    assert names == {
        "B12H12": "I", "BF4": "T", "BH4": "T", "CO3": "D3", "ClO3": "C3",
        "NO3": "D3", "PF6": "O", "PS4": "T", "SO4": "T",
    }  # fmt: skip
    df = groups.to_dataframe()
    assert list(df["kind"]) == list(groups.kinds)
    assert not df["exchanged"].any()
    # the central mode with explicit species, and per-pair cutoffs
    ps4 = find_groups(traj, centres="P", ligands="S")
    assert ps4.counts == {"PS4": 1}
    assert find_groups(traj, centres="P", ligands=["F"]).counts == {"PF6": 1}
    with pytest.raises(ArgumentError) as e:
        find_groups(traj, centres="P", ligands="S", cutoffs_A={("P", "S"): 1.9})
    assert e.value.name == "centres"


def test_find_groups_periodic_minimum_image():
    # a PS4 straddling the cell corner: ligands are found through the periodic images
    traj, truth = rigid_rotors("PS4", n_groups=1, n_frames=20, jumps=None, spacing_A=10.0)
    shifted = Trajectory(
        np.mod(traj.positions - truth["centres_A"][0], 10.0), traj.cell, traj.symbols, DT_FS
    )
    groups = find_groups(shifted, centres="P", ligands="S")
    assert groups.counts == {"PS4": 1}
    orient = track_orientations(shifted, groups)
    assert orient.point_groups[0].order == 12
    assert orient.misorientation_deg.max() < 40


def test_wrapped_variable_cell_trajectory_gives_the_same_events():
    # NPT-like: the lattice breathes by ±1 %, the rigid groups ride on it, positions wrapped
    jumps = {1: [(100, body_element("PS4", "C3"))], 3: [(150, body_element("PS4", "C2"))]}
    traj, _ = rigid_rotors("PS4", n_groups=4, n_frames=300, jumps=jumps, seed=2)
    scale = 1.0 + 0.01 * np.sin(np.arange(300) / 15.0)
    cells = scale[:, None, None] * traj.cell
    pos = np.array(traj.positions)
    n_g = 4
    centres = pos[:, :n_g]
    lig = pos[:, n_g:].reshape(300, n_g, 4, 3) - centres[:, :, None]
    centres = centres * scale[:, None, None]
    pos = np.concatenate([centres, (centres[:, :, None] + lig).reshape(300, -1, 3)], axis=1)
    frac = np.einsum("fak,fkl->fal", pos, np.linalg.inv(cells))
    wrapped = np.einsum("fak,fkl->fal", frac - np.floor(frac), cells)
    npt = Trajectory(wrapped, cells, traj.symbols, DT_FS, unwrapped=False)
    ra = rotation_analysis(npt, centres="P", ligands="S", acf=False)
    assert npt.variable_cell and ra.groups.counts == {"PS4": 4}
    assert sorted(zip(ra.events.group.tolist(), ra.events.label)) == [(1, "C3"), (3, "C2")]
    np.testing.assert_allclose(np.sort(ra.events.frame), [100, 150], atol=3)
    assert ra.orientations.rmsd_A.max() < 0.1


def test_linear_group_and_bad_symprec_are_refused():
    pos = np.array([[[5.0, 5, 5], [5, 5, 6.16], [5, 5, 3.84]]] * 3)
    co2 = Trajectory(pos, np.eye(3) * 10, ["C", "O", "O"], DT_FS)
    groups = find_groups(co2, centres="C", ligands="O")
    with pytest.raises(ArgumentError) as e:
        track_orientations(co2, groups)
    assert e.value.name == "groups" and "collinear" in str(e.value)
    traj, _ = rigid_rotors("PS4", n_groups=1, n_frames=5)
    with pytest.raises(ArgumentError) as e:
        track_orientations(traj, find_groups(traj, "P", "S"), symprec=0.0)
    assert e.value.name == "symprec"


def test_ligand_exchange_is_flagged_and_count_change_refused():
    traj, truth = rigid_rotors("PS4", n_groups=2, n_frames=60, spacing_A=9.0)
    pos = np.array(traj.positions)
    # a free S²⁻ 4 Å from group 0 that trades places with one of its ligands at frame 30
    free = truth["centres_A"][0] + [0.0, 0.0, 4.0]
    free_traj = np.broadcast_to(free, (60, 1, 3)).copy()
    lig = 2  # atom index of group 0's first ligand (after the two centres)
    swap = pos[30:, lig].copy()
    pos[30:, lig] = free_traj[30:, 0]
    free_traj[30:, 0] = swap
    t2 = Trajectory(
        np.concatenate([pos, free_traj], axis=1), traj.cell, [*traj.symbols, "S"], DT_FS
    )
    with pytest.warns(LigandExchangeWarning):
        groups = find_groups(t2, centres="P", ligands="S")
    assert groups.exchanged.tolist() == [True, False]
    assert groups.first_exchange_frame[0] == 30
    with pytest.raises(ArgumentError):
        find_groups(t2, centres="P", ligands="S", on_exchange="raise")
    # a ligand that leaves for good: the ligand count changes → error naming the trajectory
    pos = np.array(traj.positions)
    pos[40:, lig] += 3.0
    t3 = Trajectory(pos, traj.cell, traj.symbols, DT_FS)
    with pytest.raises(ArgumentError) as e:
        find_groups(t3, centres="P", ligands="S")
    assert e.value.name == "traj" and "ligand count that changes" in str(e.value)
    assert "frame 40" in str(e.value)


def test_find_groups_bad_input():
    traj = Trajectory(
        np.random.default_rng(0).random((5, 6, 3)) * 10,
        np.eye(3) * 10,
        ["Li"] * 3 + ["Cl"] * 3,
        DT_FS,
    )
    with pytest.raises(ArgumentError) as e:
        find_groups(traj)
    assert e.value.name in ("traj", "exclude")
    with pytest.raises(ArgumentError) as e:
        find_groups(traj, centres="P")
    assert e.value.name == "centres"
    ps4, _ = rigid_rotors("PS4", n_groups=1, n_frames=5)
    for kw, name in [
        ({"mode": "nope"}, "mode"),
        ({"cutoff_factor": 0}, "cutoff_factor"),
        ({"cutoff_factor": -1.0}, "cutoff_factor"),
        ({"cutoffs_A": {("P", "S"): -2.0}}, "cutoffs_A"),
        ({"frame": 99}, "frame"),
        ({"on_exchange": "shout"}, "on_exchange"),
    ]:
        with pytest.raises(ArgumentError) as e:
            find_groups(ps4, "P", "S", **kw)
        assert e.value.name == name
    with pytest.raises(LilibError):
        find_groups("not a trajectory")


# ---------------------------------------------------------------------------- orientations


def test_orientation_quaternions_recover_the_prescribed_rotation():
    traj, _ = rigid_rotors("PS4", n_groups=4, n_frames=400, lib_rms_deg=8.0, seed=5)
    groups = find_groups(traj, centres="P", ligands="S")
    orient = track_orientations(traj, groups)
    assert orient.quaternions.shape == (400, 4, 4)
    np.testing.assert_allclose(np.linalg.norm(orient.quaternions, axis=-1), 1.0, atol=1e-12)
    # sign continuity: consecutive frames on the same hemisphere
    assert np.all(np.einsum("fgc,fgc->fg", orient.quaternions[1:], orient.quaternions[:-1]) > 0)
    # the fitted rotation maps the reference onto the ligands (rigid fit residual ~ noise)
    rot = orient.rotation_matrices()
    x = groups.vectors_A(traj, np.arange(4))
    ref = np.stack([pg.reference_A for pg in orient.point_groups])
    resid = np.linalg.norm(np.einsum("fgij,gnj->fgni", rot, ref) - x, axis=-1)
    assert resid.max() < 0.15 and orient.rmsd_A.max() < 0.1
    # libration RMS from the states ≈ the prescribed 8°
    assert 6.0 < orient.libration_rms_deg.mean() < 10.0
    df = orient.to_dataframe()
    assert set(df["point_group"]) == {"T"} and (df["order"] == 12).all()
    assert orient.lag_misorientation_deg(0.02).mean() < orient.lag_misorientation_deg(1.0).mean()
    ax = orient.plot()
    assert ax.get_xlabel() == "time (ps)"


# ---------------------------------------------------------------------------- events


def tetra_jump_schedule():
    """Prescribed jumps: group → [(frame, class)], C3 about a bond and C2 (180°)."""
    return {
        0: [(200, "C3"), (700, "C2"), (1200, "C3")],
        1: [(450, "C2")],
        2: [(300, "C3"), (900, "C3")],
        5: [(1000, "C2"), (1300, "C3")],
    }


def test_tetrahedral_jumps_detected_at_the_right_time_and_class():
    sched = tetra_jump_schedule()
    jumps = {
        g: [(f, body_element("PS4", lab, i)) for i, (f, lab) in enumerate(seq)]
        for g, seq in sched.items()
    }
    traj, _ = rigid_rotors("PS4", n_groups=8, n_frames=1500, jumps=jumps, seed=1)
    ra = rotation_analysis(traj, centres="P", ligands="S", acf=False)
    ev = ra.events
    truth = sorted((f, g, lab) for g, seq in sched.items() for f, lab in seq)
    found = sorted(zip(ev.frame.tolist(), ev.group.tolist(), ev.label))
    assert len(found) == len(truth) == 8
    for (f, g, lab), (f2, g2, lab2) in zip(truth, found):
        assert g2 == g and lab2 == lab
        assert abs(f2 - f) <= 3
    assert np.all(ev.entry_frame - ev.frame <= 5)
    assert np.all(ev.frame - ev.exit_frame <= 5)
    c3 = np.array([lab == "C3" for lab in ev.label])
    assert np.all(ev.about_bond[c3]) and not np.any(ev.about_bond[~c3])
    np.testing.assert_allclose(ev.angle_deg[c3], 120.0, atol=1e-6)
    np.testing.assert_allclose(ev.angle_deg[~c3], 180.0, atol=1e-6)
    # librating groups (3, 4, 6, 7): no event
    assert ev.events_per_group.tolist() == [3, 1, 2, 0, 0, 2, 0, 0]
    # rates and residence times against the schedule
    assert ev.rate_per_ps == pytest.approx(8 / (8 * 30.0))
    assert ev.rate_stderr_per_ps == pytest.approx(np.sqrt(8) / (8 * 30.0))
    np.testing.assert_allclose(
        np.sort(ev.residence_times_ps), np.sort([10.0, 10.0, 12.0, 6.0]), atol=0.1
    )
    assert ev.mean_residence_ps == pytest.approx(30.0)
    assert ev.class_counts == {"C3": 5, "C2": 3}
    df = ev.to_dataframe()
    assert list(df.columns[:3]) == ["group", "kind", "time_ps"] and len(df) == 8
    assert "8 reorientations" in ev.verdict
    assert ra.to_dataframe()["events"].tolist() == [3, 1, 2, 0, 0, 2, 0, 0]
    ax = ev.plot()
    assert ax.get_xlabel() == "time (ps)"


def test_libration_is_never_counted():
    # 12° RMS libration, 32 groups × 3000 frames, no jump: zero events
    traj, _ = rigid_rotors("PS4", n_groups=32, n_frames=3000, spacing_A=7.0, seed=7)
    ra = rotation_analysis(traj, centres="P", ligands="S", acf=False)
    assert ra.events.n_events == 0
    assert ra.orientations.misorientation_deg.max() > 25  # large libration did happen
    assert 9.0 < np.nanmean(ra.events.libration_rms_deg) < 14.0
    lo, hi = ra.events.rate_ci95_per_ps
    assert lo == 0 and hi == pytest.approx(3.689 / (32 * 60.0), rel=1e-3)
    assert "no reorientations" in ra.events.verdict
    # hysteresis is what saves us: a single threshold at the 'leave' angle would count more
    assert ra.events.in_flight_fraction < 0.01


@pytest.mark.parametrize(
    ("shape", "n_lig", "order", "labels"),
    [("PF6", 6, 24, ["C4", "C3", "C4^2", "C2"]), ("CO3", 3, 6, ["C3", "C2"])],
)
def test_octahedron_and_triangle_jumps(shape, n_lig, order, labels):
    jumps = {
        0: [(250 + 300 * i, body_element(shape, lab)) for i, lab in enumerate(labels)],
        2: [(600, body_element(shape, labels[0]))],
    }
    # instantaneous jumps: a continuous 180° turn about a 4-fold axis passes through the 90°
    # state (checked below)
    traj, _ = rigid_rotors(shape, n_groups=4, n_frames=1500, jumps=jumps, seed=3, ramp=0)
    ra = rotation_analysis(traj, acf=False)
    assert set(ra.groups.n_ligands.tolist()) == {n_lig}
    assert {pg.order for pg in ra.orientations.point_groups} == {order}
    ev = ra.events
    got = sorted(zip(ev.group.tolist(), ev.frame.tolist(), ev.label))
    want = sorted([(0, 250 + 300 * i, lab) for i, lab in enumerate(labels)] + [(2, 600, labels[0])])
    assert len(got) == len(want)
    for (g, f, lab), (g2, f2, lab2) in zip(want, got):
        assert (g, lab) == (g2, lab2) and abs(f - f2) <= 3
    if shape == "PF6":
        # the same C4^2 turned over 12 frames visits the C4 state half-way: two C4 jumps
        traj, _ = rigid_rotors(
            shape, 1, 400, {0: [(200, body_element(shape, "C4^2"))]}, seed=3, ramp=12
        )
        ev = rotation_events(track_orientations(traj, find_groups(traj)))
        assert ev.label == ("C4", "C4") and np.all(np.abs(ev.frame - 200) <= 6)


def test_event_arguments_checked():
    traj, _ = rigid_rotors("PS4", n_groups=1, n_frames=50)
    orient = track_orientations(traj, find_groups(traj, "P", "S"))
    for kw, name in [
        ({"theta_in_deg": 40, "theta_out_deg": 30}, "theta_out_deg"),
        ({"theta_in_deg": -5}, "theta_in_deg"),
        ({"theta_in_deg": 0}, "theta_in_deg"),
        ({"theta_out_deg": 200}, "theta_out_deg"),
        ({"theta_in_deg": 65, "theta_out_deg": 90}, "theta_in_deg"),  # > half of 120°
    ]:
        with pytest.raises(ArgumentError) as e:
            rotation_events(orient, **kw)
        assert e.value.name == name
    with pytest.raises(ArgumentError) as e:
        rotation_events("orientations")
    assert e.value.name == "orient"
    other, _ = rigid_rotors("PF6", n_groups=1, n_frames=50)
    with pytest.raises(ArgumentError) as e:
        track_orientations(other, find_groups(traj, "P", "S"))
    assert e.value.name == "groups"


def test_rotation_arrhenius():
    t = np.array([500.0, 600.0, 700.0, 800.0])
    k = 50.0 * np.exp(-0.25 / (8.617333262e-5 * t))
    fit = rotation_arrhenius(t, k)
    assert fit.ea_eV == pytest.approx(0.25, rel=1e-9)
    assert fit.prefactor_per_ps == pytest.approx(50.0, rel=1e-9)
    assert len(fit.to_dataframe()) == 4
    assert fit.plot().get_yscale() == "log"
    traj, _ = rigid_rotors("PS4", n_groups=1, n_frames=50)
    ev0 = rotation_events(track_orientations(traj, find_groups(traj, "P", "S")))
    with pytest.raises(ArgumentError) as e:
        rotation_arrhenius([600.0, 700.0], [ev0, ev0])
    assert e.value.name == "rates"
    with pytest.raises(ArgumentError) as e:
        rotation_arrhenius([600.0, 700.0], [1.0, -1.0])
    assert e.value.name == "rates"


# ---------------------------------------------------------------------------- ACF


def test_legendre_acf_fft_equals_direct_sum():
    rng = np.random.default_rng(2)
    u = rng.normal(size=(64, 3, 3))
    u /= np.linalg.norm(u, axis=-1, keepdims=True)
    acf = legendre_acf(u)
    for m in (0, 1, 7, 40, 63):
        dots = np.einsum("tvk,tvk->tv", u[: 64 - m], u[m:])
        np.testing.assert_allclose(acf[1][m], dots.mean(axis=0), atol=1e-12)
        np.testing.assert_allclose(acf[2][m], (1.5 * dots**2 - 0.5).mean(axis=0), atol=1e-12)
    with pytest.raises(ArgumentError) as e:
        legendre_acf(u[..., :2])
    assert e.value.name == "u"


def test_c2_decays_for_jumping_and_plateaus_for_librating_groups():
    # Poisson C3 jumps at k = 0.5 /ps: C_l(t) = A exp(−k t) for a tetrahedron (⟨P_l⟩ over the
    # 8 C3 elements is 0 for l = 1, 2), so τ = 2 ps; librating groups keep C2 near 0.9
    rng = np.random.default_rng(11)
    n_frames, k = 2000, 0.5
    jumps = {}
    for g in range(16):
        frames = np.cumsum(np.maximum(10, rng.exponential(1 / k, 40) * 1000 / DT_FS)).astype(int)
        jumps[g] = [
            (int(f), body_element("PS4", "C3", int(rng.integers(8))))
            for f in frames
            if f < n_frames
        ]
    traj, _ = rigid_rotors(
        "PS4", n_groups=16, n_frames=n_frames, jumps=jumps, spacing_A=7.0, seed=2
    )
    groups = find_groups(traj, "P", "S")
    acf = bond_acf(traj, groups, max_lag_ps=12.0, n_boot=50, seed=1)
    fit = acf.fits[2]
    assert fit.decorrelated and acf.fits[1].decorrelated
    assert fit.tau_ps == pytest.approx(2.0, rel=0.3)
    assert 0 < fit.tau_stderr_ps < 0.5
    assert abs(acf.value_at(2, 10.0)) < 0.1
    assert "τ =" in str(fit)
    # events: the detected rate matches the Poisson rate used
    ev = rotation_events(track_orientations(traj, groups))
    assert ev.n_events == sum(len(v) for v in jumps.values())
    assert ev.rate_per_ps == pytest.approx(k, rel=0.15)
    assert ev.mean_residence_ps == pytest.approx(1 / k, rel=0.15)

    still, _ = rigid_rotors("PS4", n_groups=16, n_frames=n_frames, spacing_A=7.0, seed=2)
    acf0 = bond_acf(still, find_groups(still, "P", "S"), max_lag_ps=12.0, n_boot=0)
    assert acf0.c2[acf0.times_ps > 1].min() > 0.85
    assert not acf0.fits[2].decorrelated and acf0.fits[2].tau_ps == np.inf
    assert acf0.fits[2].tau_lower_bound_ps > 50
    assert "no decay" in str(acf0.fits[2])
    assert len(acf0.to_dataframe()) == acf0.times_ps.size
    assert acf0.plot().get_xlabel() == "lag (ps)"
    with pytest.raises(ArgumentError) as e:
        bond_acf(still, find_groups(still, "P", "S"), fit_range_ps=(5.0, 1.0))
    assert e.value.name == "fit_range_ps"


# ---------------------------------------------------------------------------- real AIMD data

DATA = shared_data_dir()
MD = DATA / "md" if DATA is not None else None


def _need(path):
    if MD is None or not (MD / path).is_file():
        pytest.skip(f"shared MD data not available ({path})")
    return MD / path


@pytest.mark.parametrize(
    ("path", "reader", "centres", "counts", "c2_lag_ps", "c2_range", "lib_range"),
    [
        (
            "pmg_diffusion/DiffusionAnalyzer.json",
            "pmg",
            ["P", "Ge"],
            {"GeS4": 2, "PS4": 4},
            10.0,
            (0.94, 0.98),
            (3.0, 10.0),
        ),
        (
            "pmg_diffusion/cNa3PS4_pda.json",
            "pmg",
            None,
            {"PS4": 16},
            1.0,
            (0.90, 0.96),
            (5.0, 13.0),
        ),
        (
            "site_analysis/Li6PS5Cl_0p_XDATCAR.gz",
            "xdatcar",
            None,
            {"PS4": 32},
            7.0,
            (0.92, 0.97),
            (4.0, 12.0),
        ),
    ],
)
def test_real_aimd_libration_only(path, reader, centres, counts, c2_lag_ps, c2_range, lib_range):
    from lilib.md import read_pmg_diffusion, read_xdatcar

    file = _need(path)
    traj = read_pmg_diffusion(file) if reader == "pmg" else read_xdatcar(file, timestep_fs=100.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LigandExchangeWarning)
        ra = rotation_analysis(traj, centres=centres, ligands="S" if centres else None)
    assert ra.groups.counts == counts
    assert {pg.name for pg in ra.orientations.point_groups} == {"T"}
    assert ra.events.n_events == 0
    c2 = ra.acf.value_at(2, c2_lag_ps)
    assert c2_range[0] <= c2 <= c2_range[1]
    assert not ra.acf.fits[2].decorrelated
    lib = float(np.nanmean(ra.events.libration_rms_deg))
    assert lib_range[0] <= lib <= lib_range[1]
    mobile = "Na" if "Na" in traj.species else "Li"
    c = ra.coupling(mobile)
    assert c.verdict.startswith(f"no rotations occurred (0 events in {sum(counts.values())} groups")
    assert c.verdict.endswith("coupling cannot be measured")
    assert c.coupled is None
