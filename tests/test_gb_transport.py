"""Position-resolved GB transport: distances, D(z) per slab, hops, width, excess, Arrhenius.

The oracle is an Euler–Maruyama walk with a prescribed, anisotropic D(z): around each of two
GB planes D follows a symmetric tanh step, D_b + (D_gb − D_b)·½[tanh((d + h)/w) − tanh((d − h)/w)],
with its own D_gb along the GB (x, y) and through it (z). A walk with position-dependent D needs
the Itô drift dD_z/dz in z (without it the ions pile up where D_z is small and the density is
no longer uniform); in x and y, D depends on z only, so no drift. Increments within one region
are exact Gaussians, so a slab far from the steps must return D_gb or D_b exactly up to noise,
and a slab on a step its bin average of D(z) (midpoint estimator, lag blur ≪ slab width). A
lattice walk would make every slab analytic but puts sites and bond midpoints on slab edges; the
continuous walk has no such ties and tests the drift-free uniform density as a bonus.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import itertools
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import constants as sc

from lilib.errors import ArgumentError, InsufficientStatisticsError, LilibError
from lilib.gb.transport import (
    GBArrhenius,
    GBProfile,
    GBWidth,
    distance_to_gb,
    gb_arrhenius,
    gb_profile,
    gb_width,
)
from lilib.md import Trajectory

KB_EV = sc.k / sc.eV
L_Z = 30.0
PLANES = (7.5, 22.5)
HALF, EDGE = 2.5, 0.25  # tanh step: half width h and edge w, Å (δ = 2h = 5 Å)
D_BULK = 0.002  # Å²/frame, isotropic
D_GB_PAR, D_GB_PERP = 0.02, 2e-5  # 10× faster along, 100× slower through: 1000× anisotropy
DT_FS = 1000.0  # 1 ps per frame → D_BULK = 2e-7 cm²/s
TO_CM2_S = 0.1 / DT_FS  # Å²/frame → cm²/s
CELL = np.diag([20.0, 20.0, L_Z])


def step(z):
    """S(d) ∈ [0, 1] of the prescribed profile and dS/dz."""
    d = distance_to_gb(z, PLANES, L_Z)
    a, b = np.tanh((d + HALF) / EDGE), np.tanh((d - HALF) / EDGE)
    return 0.5 * (a - b), 0.5 / EDGE * (b * b - a * a)


def em_walk(n_ions, n_frames, d_bulk, d_par, d_perp, n_sub=4, seed=0):
    """Positions (n_frames, n_ions, 3) float32, Å: Euler–Maruyama with the Itô drift in z."""
    rng = np.random.default_rng(seed)
    r = rng.random((n_ions, 3)) * np.array([20.0, 20.0, L_Z])  # uniform = stationary
    out = np.empty((n_frames, n_ions, 3), np.float32)
    out[0] = r
    dt = 1.0 / n_sub
    for f in range(1, n_frames):
        for _ in range(n_sub):
            s, ds = step(r[:, 2])
            dp = d_bulk + (d_par - d_bulk) * s
            dz = d_bulk + (d_perp - d_bulk) * s
            xi = rng.standard_normal((n_ions, 3))
            r[:, :2] += np.sqrt(2 * dp * dt)[:, None] * xi[:, :2]
            r[:, 2] += (d_perp - d_bulk) * ds * dt + np.sqrt(2 * dz * dt) * xi[:, 2]
        out[f] = r
    return out


def bin_average(edges, d_bulk, d_gb):
    """Exact slab expectation: D(|d|) averaged over each slab (uniform density), Å²/frame."""
    out = []
    for lo, hi in itertools.pairwise(edges):
        x = np.linspace(lo, hi, 4001)
        s = 0.5 * (np.tanh((x + HALF) / EDGE) - np.tanh((x - HALF) / EDGE))
        out.append(np.trapezoid(d_bulk + (d_gb - d_bulk) * s, x) / (hi - lo))
    return np.array(out)


def trajectory(pos, dt_fs=DT_FS, temperature_K=600.0):
    return Trajectory(
        pos, CELL, ["Li"] * pos.shape[1], dt_fs, temperature_K=temperature_K, unwrapped=True
    )


@pytest.fixture(scope="module")
def walk():
    return em_walk(400, 4000, D_BULK, D_GB_PAR, D_GB_PERP)


@pytest.fixture(scope="module")
def profile(walk):
    return gb_profile(trajectory(walk), PLANES, lag_frames=1, bin_width_A=0.5, hop_threshold_A=1.0)


# ---------------------------------------------------------------------------- distances


def test_distance_to_gb_hand_cases_with_periodic_wrap():
    z = np.array([0.0, 2.0, 4.4, 4.6, 9.9, 12.5, -1.0, 4.5])
    d = distance_to_gb(z, [2.0, 7.0], 10.0)
    # 0 → −2 from plane 2; 9.9 → −2.1 from plane 2 (via the wrap), not +2.9 from plane 7;
    # 12.5 ≡ 2.5; −1 ≡ 9 → +2 from plane 7; 4.5 is midway: the lower plane wins
    np.testing.assert_allclose(d, [-2.0, 0.0, 2.4, -2.4, -2.1, 0.5, 2.0, 2.5], atol=1e-12)
    zz = np.stack([z, z + 10.0])  # (n_frames, n_atoms), one cell length apart
    dd = distance_to_gb(zz, (7.0, 2.0), 10.0)
    assert dd.shape == zz.shape
    np.testing.assert_allclose(dd[0], dd[1], atol=1e-12)
    d32 = distance_to_gb(z.astype(np.float32), [2.0, 7.0], 10.0)
    assert d32.dtype == np.float32
    np.testing.assert_allclose(d32, d, atol=1e-5)
    assert distance_to_gb(3.0, [0.0], 10.0) == pytest.approx(3.0)
    assert distance_to_gb(7.0, [0.0], 10.0) == pytest.approx(-3.0)


def test_distance_matches_gb_model():
    from lilib.gb import build_gb

    gb = build_gb("LiF", (0, 0, 1), 5, (3, 1, 0))
    d = distance_to_gb(gb.atoms.positions[:, 2], gb.gb_positions_A, gb.normal_length_A)
    np.testing.assert_allclose(np.abs(d), gb.distance_to_gb_A(), atol=1e-12)
    # a GBModel is accepted as the plane source of gb_profile
    li = np.flatnonzero(np.array(gb.atoms.get_chemical_symbols()) == "Li")
    rng = np.random.default_rng(3)
    pos = gb.atoms.positions[None] + rng.normal(0, 0.05, (50, len(gb.atoms), 3))
    traj = Trajectory(
        pos, gb.atoms.cell.array, gb.atoms.get_chemical_symbols(), 2.0, unwrapped=True
    )
    prof = gb_profile(traj, gb, "Li", lag_frames=1, min_hops=0, n_blocks=2)
    assert prof.gb_planes_A == pytest.approx(gb.gb_positions_A)
    assert prof.n_ions == li.size
    bad = SimpleNamespace(gb_positions_A=gb.gb_positions_A, normal_length_A=25.0)
    with pytest.raises(ArgumentError, match="normal length") as err:
        gb_profile(traj, bad, "Li", lag_frames=1, min_hops=0, n_blocks=2)
    assert err.value.name == "gb"


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((np.zeros(3), [11.0], 10.0), "gb_planes_A"),
        ((np.zeros(3), [-0.5], 10.0), "gb_planes_A"),
        ((np.zeros(3), [[1.0, 2.0]], 10.0), "gb_planes_A"),
        ((np.zeros(3), [2.0, 2.0], 10.0), "gb_planes_A"),
        ((np.zeros(3), [], 10.0), "gb_planes_A"),
        ((np.zeros(3), [1.0], 0.0), "cell_length_z_A"),
        ((np.zeros(3), [1.0], "ten"), "cell_length_z_A"),
        ((np.array([0.0, np.nan]), [1.0], 10.0), "positions_z_A"),
        ((np.array(["a"]), [1.0], 10.0), "positions_z_A"),
    ],
)
def test_distance_bad_input(args, name):
    with pytest.raises(ArgumentError) as err:
        distance_to_gb(*args)
    assert err.value.name == name
    assert isinstance(err.value, LilibError)


# ---------------------------------------------------------------------------- tiny exact cases


def tiny_traj():
    """Ion 0 at z = 0.5 steps +1 Å in x per frame; ion 1 at z = 3.0 steps +0.2 Å in z."""
    pos = np.zeros((3, 2, 3))
    pos[:, 0] = [[0, 0, 0.5], [1, 0, 0.5], [2, 0, 0.5]]
    pos[:, 1] = [[0, 0, 3.0], [0, 0, 3.2], [0, 0, 3.4]]
    return Trajectory(pos, np.diag([10.0, 10.0, 10.0]), ["Li", "Li"], 1000.0, unwrapped=True)


def test_profile_exact_on_hand_made_case():
    prof = gb_profile(tiny_traj(), [0.0], lag_frames=1, n_blocks=2, min_hops=0, hop_threshold_A=5)
    assert prof.bin_edges_A.tolist() == [0, 1, 2, 3, 4, 5]
    np.testing.assert_array_equal(prof.samples, [2, 0, 0, 2, 0])
    # slab 0: Δx² = 1 Å² per ps → D_x = 1/(2·1 ps) = 0.5 Å²/ps = 5e-5 cm²/s; D∥ = half of it
    assert prof.D_cm2_s[0] == pytest.approx([5e-5, 0, 0], abs=1e-20)
    assert prof.D_parallel_cm2_s[0] == pytest.approx(2.5e-5)
    # slab 3 (midpoints 3.1, 3.3): Δz² = 0.04 → D_z = 0.02 Å²/ps = 2e-6 cm²/s
    assert prof.D_perp_cm2_s[3] == pytest.approx(2e-6)
    assert prof.D_parallel_cm2_s[3] == 0.0
    assert np.isnan(prof.D_perp_cm2_s[1])  # no increment there
    assert prof.D_parallel_stderr_cm2_s[0] == 0.0  # both blocks agree exactly
    assert prof.hops.sum() == 0
    np.testing.assert_allclose(prof.rms_dz_A[[0, 3]], [0.0, 0.2], atol=1e-12)


def test_two_lag_estimator_exact():
    # x = 0.1·t² (accelerating) at z = 0.5: M(1) and M(2) known, slab 0
    t = np.arange(6.0)
    pos = np.zeros((6, 1, 3))
    pos[:, 0, 0] = 0.1 * t**2
    pos[:, 0, 2] = 0.5
    traj = Trajectory(pos, np.eye(3) * 10, ["Li"], 1000.0, unwrapped=True)
    prof = gb_profile(traj, [0.0], lag_frames=(1, 2), n_blocks=2, min_hops=0, hop_threshold_A=9)
    origins = np.arange(6 - 2)  # the same origins for both lags
    m1 = np.mean((0.1 * ((origins + 1) ** 2 - origins**2)) ** 2)
    m2 = np.mean((0.1 * ((origins + 2) ** 2 - origins**2)) ** 2)
    assert prof.D_cm2_s[0, 0] == pytest.approx((m2 - m1) / (2 * 1.0) * 1e-4)
    assert prof.lag_fs == (1000.0, 2000.0)


def test_hops_exact_on_hand_made_case():
    # ion 0 sits at z = 1.2, jumps 3 Å in x at frame 5 and back at frame 10: 2 hops in slab 1;
    # ion 1 jumps in z from 0.5 (slab 0) to 2.5 (slab 2) at frame 4, back at frame 12
    pos = np.zeros((15, 2, 3))
    pos[:, 0, 2] = 1.2
    pos[5:10, 0, 0] = 3.0
    pos[:, 1, 2] = 0.5
    pos[4:12, 1, 2] = 2.5
    traj = Trajectory(pos, np.eye(3) * 10, ["Li", "Li"], 100.0, unwrapped=True)
    prof = gb_profile(traj, [0.0], lag_frames=1, n_blocks=2, min_hops=0, hop_threshold_A=1.5)
    np.testing.assert_array_equal(prof.hops, [1, 2, 1, 0, 0])  # counted where each hop starts
    # ion-frames: ion 0 15 in slab 1; ion 1 7 in slab 0 and 8 in slab 2; density per 2 Å of z
    occupancy = np.array([7, 15, 8, 0, 0]) / 30
    np.testing.assert_allclose(prof.density_rel, occupancy / (2.0 / 10.0))
    # vibration around a site is not a hop: the residence position is a running mean
    rng = np.random.default_rng(0)
    vib = np.full((400, 1, 3), 5.0) + rng.normal(0, 0.3, (400, 1, 3))
    traj = Trajectory(vib, np.eye(3) * 10, ["Li"], 100.0, unwrapped=True)
    prof = gb_profile(traj, [0.0], lag_frames=1, min_hops=0, hop_threshold_A=1.5)
    assert prof.hops.sum() <= 2


def test_default_hop_threshold_is_half_nearest_neighbour():
    a = 2.5
    grid = np.stack(np.meshgrid(*[np.arange(4)] * 3, indexing="ij"), -1).reshape(-1, 3) * a
    pos = np.repeat(grid[None], 5, axis=0) + 0.01
    traj = Trajectory(pos, np.eye(3) * 4 * a, ["Li"] * len(grid), 10.0, unwrapped=True)
    prof = gb_profile(traj, [0.0], lag_frames=1, min_hops=0, n_blocks=2)
    assert prof.hop_threshold_A == pytest.approx(a / 2)


def exact_profile(d_par_slabs, edges):
    """Ions fixed in z at each slab centre (both sides of both planes) taking ±a steps in x:
    Δx² = a² on every step, so each slab's D∥ = a²/4 per frame exactly, with zero noise."""
    rng = np.random.default_rng(5)
    centres = 0.5 * (edges[1:] + edges[:-1])
    z = np.array([p + s * c for c in centres for p in PLANES for s in (-1, 1)])
    a = np.repeat(np.sqrt(4 * np.asarray(d_par_slabs)), 4)
    steps = rng.choice([-1.0, 1.0], (200, z.size)) * a
    pos = np.zeros((201, z.size, 3))
    pos[1:, :, 0] = np.cumsum(steps, axis=0)
    pos[:, :, 2] = z % L_Z
    return gb_profile(
        trajectory(pos), PLANES, lag_frames=1, bin_edges_A=edges, min_hops=0, hop_threshold_A=9
    )


@pytest.mark.parametrize("model", ["tanh", "gaussian"])
def test_width_fit_exact_on_noise_free_profile(model):
    edges = np.linspace(0, 7.5, 16)
    x = np.linspace(0, 7.5, 15 * 2000 + 1)
    h, w, s = 2.0, 0.3, 1.2
    if model == "tanh":
        shape = 0.5 * (np.tanh((x + h) / w) - np.tanh((x - h) / w))
        delta = 2 * h
    else:
        shape = np.exp(-(x**2) / (2 * s * s))
        delta = np.sqrt(2 * np.pi) * s
    prof_x = D_BULK + (D_GB_PAR - D_BULK) * shape
    slab = np.array([prof_x[k * 2000 : (k + 1) * 2000 + 1].mean() for k in range(15)])
    prof = exact_profile(slab, edges)
    np.testing.assert_allclose(prof.D_parallel_cm2_s, slab * TO_CM2_S, rtol=1e-9)
    res = gb_width(prof, model=model)
    assert res.delta_A == pytest.approx(delta, rel=1e-3)
    assert res.fit_params[:2] == pytest.approx((D_BULK * TO_CM2_S, D_GB_PAR * TO_CM2_S), rel=1e-3)
    # excess of the profile as sampled (bin averages over 7.5 Å on each side of one GB)
    excess = 2 * np.sum((slab - slab[-1]) * 0.5) * TO_CM2_S
    if model == "tanh":  # the bulk plateau is reached: the excess is (D_gb − D_b)·δ
        assert res.excess_A_cm2_s == pytest.approx((D_GB_PAR - D_BULK) * delta * TO_CM2_S, rel=1e-3)
    assert res.excess_A_cm2_s == pytest.approx(excess, rel=0.02)


# ---------------------------------------------------------------------------- the oracle


def test_slab_diffusivities_recover_prescribed_profile(profile):
    edges = profile.bin_edges_A
    assert edges.size == 16 and edges[-1] == pytest.approx(7.5)
    expect = {
        "parallel": bin_average(edges, D_BULK, D_GB_PAR) * TO_CM2_S,
        "perp": bin_average(edges, D_BULK, D_GB_PERP) * TO_CM2_S,
    }
    for comp, true in expect.items():
        est = getattr(profile, f"D_{comp}_cm2_s")
        err = getattr(profile, f"D_{comp}_stderr_cm2_s")
        z = (est - true) / err
        assert np.all(np.abs(z) < 3.5), (comp, np.round(z, 2))
        assert np.all(np.abs(est / true - 1) < 0.10), (comp, est / true)
    # the plateaus themselves: GB core (|d| < 1.5 Å) and bulk (|d| > 3.5 Å)
    core = profile.region([0, 1, 2])
    assert core.D_parallel_cm2_s == pytest.approx(D_GB_PAR * TO_CM2_S, rel=0.01)
    assert core.D_perp_cm2_s == pytest.approx(D_GB_PERP * TO_CM2_S, rel=0.01)
    assert abs(core.anisotropy - 1000) < 3 * core.anisotropy_stderr + 10
    bulk = profile.region(np.arange(7, 15))
    assert bulk.D_parallel_cm2_s == pytest.approx(D_BULK * TO_CM2_S, rel=0.01)
    assert bulk.anisotropy == pytest.approx(1.0, abs=3 * bulk.anisotropy_stderr + 0.005)
    # the jackknife error is honest: bulk D_perp's stderr matches the χ² estimate D·√(2/N)
    naive = profile.D_perp_cm2_s[7:] * np.sqrt(2 / profile.samples[7:])
    ratio = profile.D_perp_stderr_cm2_s[7:] / naive
    assert 0.5 < np.median(ratio) < 1.6, ratio
    # the Itô drift keeps the density uniform, the hops follow the local D
    assert np.all(np.abs(profile.density_rel - 1) < 0.3)
    assert profile.hops[:3].min() > 3 * profile.hops[8:].max()
    assert profile.refused_slabs == ()


def test_gb_width_and_excess(profile):
    w = gb_width(profile, component="parallel")
    bin_w = 0.5
    assert abs(w.delta_A - 2 * HALF) < bin_w
    assert abs(w.delta_A - 2 * HALF) < 3 * w.delta_stderr_A + 0.05
    assert w.edge_A == pytest.approx(EDGE, abs=0.1)
    assert w.converged and w.chi2_reduced < 3
    # symmetric tanh step: ∫ (D − D_b) dz across one GB = (D_gb − D_b)·2h exactly
    true_excess = (D_GB_PAR - D_BULK) * 2 * HALF * TO_CM2_S
    assert abs(w.excess_A_cm2_s - true_excess) < 3 * w.excess_stderr_A_cm2_s + 0.01 * true_excess
    assert w.excess_cm3_s == pytest.approx(w.excess_A_cm2_s * 1e-8)
    assert w.gb.D_parallel_cm2_s == pytest.approx(D_GB_PAR * TO_CM2_S, rel=0.01)
    assert w.bulk.D_parallel_cm2_s == pytest.approx(D_BULK * TO_CM2_S, rel=0.01)
    assert w.ratio == pytest.approx(10.0, rel=0.02)
    assert w.delta_D_gb_cm3_s == pytest.approx(w.delta_A * 1e-8 * w.D_gb_cm2_s)
    assert w.delta_nm == pytest.approx(w.delta_A / 10)
    # through the GB: the same width, a negative excess, D_gb 100× below bulk
    p = gb_width(profile, component="perp")
    assert abs(p.delta_A - 2 * HALF) < bin_w
    true_perp = (D_GB_PERP - D_BULK) * 2 * HALF * TO_CM2_S
    assert p.excess_A_cm2_s == pytest.approx(true_perp, rel=0.02)
    assert p.ratio == pytest.approx(0.01, rel=0.1)
    assert p.gb.anisotropy == pytest.approx(1000, rel=0.1)
    # a Gaussian cannot follow a flat-topped GB: χ² says which model to believe
    g = gb_width(profile, component="parallel", model="gaussian")
    assert g.chi2_reduced > 30 * w.chi2_reduced


def test_signed_profile_is_symmetric(walk):
    traj = trajectory(walk[:2000])
    prof = gb_profile(traj, PLANES, lag_frames=1, bin_width_A=1.0, signed=True, hop_threshold_A=1)
    assert prof.bin_edges_A[0] == -8.0 and prof.bin_edges_A[-1] == 8.0
    d, e = prof.D_parallel_cm2_s, prof.D_parallel_stderr_cm2_s
    n = prof.n_slabs
    z = (d - d[::-1]) / np.hypot(e, e[::-1])
    assert np.all(np.abs(z[: n // 2 - 1]) < 4)
    assert d[n // 2] == pytest.approx(D_GB_PAR * TO_CM2_S, rel=0.03)
    w = gb_width(prof)
    assert abs(w.delta_A - 2 * HALF) < 1.0


def test_two_lags_remove_the_vibrational_offset(walk):
    rng = np.random.default_rng(7)
    noisy = walk[:2000] + rng.normal(0, 0.3, walk[:2000].shape).astype(np.float32)
    traj = trajectory(noisy)
    one = gb_profile(traj, PLANES, lag_frames=5, bin_width_A=0.5, hop_threshold_A=1.2)
    two = gb_profile(traj, PLANES, lag_frames=(5, 25), bin_width_A=0.5, hop_threshold_A=1.2)
    true_bulk = D_BULK * TO_CM2_S
    # one lag: + 2σ²/(2τ) = 0.018 Å²/frame on each axis, 10× the bulk D
    assert one.region(range(8, 15)).D_perp_cm2_s > 5 * true_bulk
    bulk = two.region(range(8, 15))
    assert abs(bulk.D_perp_cm2_s / true_bulk - 1) < 0.1
    assert abs(bulk.D_perp_cm2_s - true_bulk) < 3 * bulk.D_perp_stderr_cm2_s
    core = two.region([0, 1, 2])
    assert core.D_parallel_cm2_s == pytest.approx(D_GB_PAR * TO_CM2_S, rel=0.1)


def test_refusal_below_min_hops(walk):
    traj = trajectory(walk[:300, :60])
    with pytest.raises(InsufficientStatisticsError, match=r"slab \d+ \(.*\): \d+ hops") as err:
        gb_profile(traj, PLANES, lag_frames=1, bin_width_A=0.5, hop_threshold_A=1.0)
    assert err.value.name == "min_hops"
    counts = gb_profile(
        traj, PLANES, lag_frames=1, bin_width_A=0.5, hop_threshold_A=1.0, min_hops=0
    )
    low = np.flatnonzero(counts.hops < 30)
    assert low.size and f"slab {low[0]} " in str(err.value)
    assert f": {counts.hops[low[0]]} hops" in str(err.value)
    assert list(err.value.where) == low.tolist()
    assert list(err.value.counts) == counts.hops[low].tolist()
    assert np.all(np.isfinite(counts.D_parallel_cm2_s))
    masked = gb_profile(
        traj,
        PLANES,
        lag_frames=1,
        bin_width_A=0.5,
        hop_threshold_A=1.0,
        on_insufficient="mask",
    )
    assert masked.refused_slabs == tuple(low.tolist())
    assert np.all(np.isnan(masked.D_perp_cm2_s[low]))
    ok = np.setdiff1d(np.arange(masked.n_slabs), low)
    np.testing.assert_array_equal(masked.D_perp_cm2_s[ok], counts.D_perp_cm2_s[ok])
    assert masked.to_dataframe()["refused"].sum() == low.size
    with pytest.raises(ArgumentError, match="refused"):
        masked.region(low)


# ---------------------------------------------------------------------------- implementation


def reference_sums(pos, planes, length, edges, lag, stride, n_blocks, signed=False):
    """Plain numpy version of the increment sums: (n_blocks, n_bins, 3), (n_blocks, n_bins)."""
    p = np.asarray(pos, dtype=np.float64)
    n_o = (p.shape[0] - lag[1] - 1) // stride + 1
    t = np.arange(n_o) * stride
    block = np.arange(n_o) * n_blocks // n_o
    out = []
    for tau in [v for v in lag if v > 0]:
        delta = p[t + tau] - p[t]
        x = distance_to_gb(0.5 * (p[t + tau, :, 2] + p[t, :, 2]), planes, length)
        x = x if signed else np.abs(x)
        b = np.searchsorted(edges, x, side="right") - 1
        ok = (b >= 0) & (b < edges.size - 1)
        key = (np.broadcast_to(block[:, None], b.shape) * (edges.size - 1) + b)[ok]
        nb = n_blocks * (edges.size - 1)
        s = np.stack([np.bincount(key, (delta[..., k] ** 2)[ok], nb) for k in range(3)], -1)
        out.append((s.reshape(n_blocks, -1, 3), np.bincount(key, None, nb).reshape(n_blocks, -1)))
    return out


@pytest.mark.parametrize(("lag", "stride", "signed"), [((0, 3), 1, False), ((2, 7), 3, True)])
def test_kernel_equals_numpy_reference(walk, lag, stride, signed):
    pos = walk[:2500, :50]  # > one chunk of frames
    traj = trajectory(pos)
    prof = gb_profile(
        traj,
        PLANES,
        lag_frames=lag if lag[0] else lag[1],
        origin_stride=stride,
        n_blocks=4,
        min_hops=0,
        hop_threshold_A=1.0,
        signed=signed,
    )
    ref = reference_sums(pos, PLANES, L_Z, prof.bin_edges_A, lag, stride, 4, signed)
    for k, (s, n) in enumerate(ref):
        np.testing.assert_array_equal(prof.counts[k].sum(axis=1), n)  # summed over ion groups
        np.testing.assert_allclose(prof.sums_A2[k].sum(axis=1), s, rtol=1e-10, atol=1e-12)


def test_float32_float64_and_memmap_agree(walk, tmp_path):
    pos = walk[:1000, :100]
    kw = dict(lag_frames=2, bin_width_A=1.0, min_hops=0, hop_threshold_A=1.0)
    p32 = gb_profile(trajectory(pos), PLANES, **kw)
    p64 = gb_profile(trajectory(pos.astype(np.float64)), PLANES, **kw)
    np.testing.assert_allclose(p32.D_cm2_s, p64.D_cm2_s, rtol=1e-9)
    np.testing.assert_array_equal(p32.hops, p64.hops)
    path = trajectory(pos).save(tmp_path / "walk.npy")
    pm = gb_profile(Trajectory.memmap(path), PLANES, **kw)
    np.testing.assert_array_equal(pm.D_cm2_s, p32.D_cm2_s)


# ---------------------------------------------------------------------------- Arrhenius


def test_gb_and_bulk_activation_energies():
    # LLZO Σ5-like (seed 000 §3.6.2): E_a 0.64 eV in the GB, 0.52 eV in the bulk; the frame
    # interval is chosen per T so that the walk moves D_BULK Å² per frame in the bulk
    ea_gb, ea_bulk, d0 = 0.64, 0.52, 1e-3  # eV, eV, cm²/s
    widths = []
    for k, t in enumerate((600.0, 800.0, 1000.0)):
        d_bulk = d0 * np.exp(-ea_bulk / (KB_EV * t))
        d_gb = d0 * np.exp(-ea_gb / (KB_EV * t))
        dt_fs = D_BULK / (d_bulk * 10.0)  # Å²/frame ÷ Å²/fs
        ratio = d_gb / d_bulk
        pos = em_walk(200, 1500, D_BULK, D_BULK * ratio, D_BULK * ratio, n_sub=2, seed=10 + k)
        traj = trajectory(pos, dt_fs=dt_fs, temperature_K=t)
        prof = gb_profile(traj, PLANES, lag_frames=1, bin_width_A=1.0, hop_threshold_A=0.3)
        w = gb_width(prof, component="total")
        assert w.gb.D_total_cm2_s == pytest.approx(d_gb, rel=0.03)
        assert w.bulk.D_total_cm2_s == pytest.approx(d_bulk, rel=0.03)
        widths.append(w)
    fit = gb_arrhenius(widths, component="total")
    assert isinstance(fit, GBArrhenius)
    assert abs(fit.ea_gb_eV - ea_gb) < max(3 * fit.gb.ea_stderr_eV, 0.01)
    assert abs(fit.ea_bulk_eV - ea_bulk) < max(3 * fit.bulk.ea_stderr_eV, 0.01)
    assert fit.gb.ea_stderr_eV < 0.01
    df = fit.to_dataframe()
    assert list(df["temperature_K"]) == [600.0, 800.0, 1000.0]
    assert fit.plot().get_yscale() == "log"
    with pytest.raises(ArgumentError) as err:
        gb_arrhenius(widths, [600.0, 800.0])
    assert err.value.name == "temperatures_K"
    with pytest.raises(ArgumentError) as err:
        gb_arrhenius(widths[:1])
    assert err.value.name == "results"


# ---------------------------------------------------------------------------- results, errors


def test_result_tables_and_plots(profile):
    df = profile.to_dataframe()
    assert len(df) == profile.n_slabs
    for col in ("D_parallel_cm2_s", "D_perp_stderr_cm2_s", "samples", "hops", "refused"):
        assert col in df
    assert isinstance(profile, GBProfile)
    ax = profile.plot()
    assert ax.get_xlabel().startswith("|distance")
    w = gb_width(profile)
    assert isinstance(w, GBWidth)
    row = w.to_dataframe()
    assert len(row) == 1 and row["delta_A"][0] == w.delta_A
    assert "gb_D_perp_cm2_s" in row and "bulk_anisotropy" in row
    assert w.plot().get_title().startswith("δ =")
    import matplotlib.pyplot as plt

    plt.close("all")


def test_import_is_light():
    code = (
        "import sys, lilib.gb.transport; "
        "bad = {'IPython', 'ipywidgets', 'matplotlib.pyplot'} & set(sys.modules); "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_bad_input_names_the_argument(walk):
    traj = trajectory(walk[:200, :20])
    kw = dict(min_hops=0, hop_threshold_A=1.0)
    cases = [
        (dict(lag_frames=0), "lag_frames"),
        (dict(lag_frames=-2), "lag_frames"),
        (dict(lag_frames=(5, 3)), "lag_frames"),
        (dict(lag_frames=(1, 2, 3)), "lag_frames"),
        (dict(lag_frames=1.5), "lag_frames"),
        (dict(lag_frames=200), "lag_frames"),
        (dict(lag_frames=1, bin_width_A=0), "bin_width_A"),
        (dict(lag_frames=1, bin_edges_A=[0, 2, 1]), "bin_edges_A"),
        (dict(lag_frames=1, bin_edges_A=[-1, 0, 1]), "bin_edges_A"),
        (dict(lag_frames=1, n_blocks=1), "n_blocks"),
        (dict(lag_frames=1, n_blocks=500), "n_blocks"),
        (dict(lag_frames=1, origin_stride=0), "origin_stride"),
        (dict(lag_frames=1, on_insufficient="ignore"), "on_insufficient"),
    ]
    for extra, name in cases:
        with pytest.raises(ArgumentError) as err:
            gb_profile(traj, PLANES, **{**kw, **extra})
        assert err.value.name == name, extra
    for planes in ([31.0], [-1.0, 7.5]):
        with pytest.raises(ArgumentError) as err:
            gb_profile(traj, planes, lag_frames=1, **kw)
        assert err.value.name == "gb_planes_A"
    with pytest.raises(ArgumentError) as err:
        gb_profile(traj, PLANES, lag_frames=1, hop_threshold_A=-1.0)
    assert err.value.name == "hop_threshold_A"
    wrapped = Trajectory(walk[:50, :5], CELL, ["Li"] * 5, 10.0)
    npt = Trajectory(
        walk[:50, :5],
        np.stack([CELL * (1 + 0.001 * i) for i in range(50)]),
        ["Li"] * 5,
        10.0,
        unwrapped=True,
    )
    tilted = Trajectory(
        walk[:50, :5],
        CELL + np.array([[0, 0, 1.0], [0, 0, 0], [0, 0, 0]]),
        ["Li"] * 5,
        10.0,
        unwrapped=True,
    )
    for bad in (wrapped, npt, tilted, walk[:50]):
        with pytest.raises(ArgumentError) as err:
            gb_profile(bad, PLANES, lag_frames=1, **kw)
        assert err.value.name == "traj"
    prof = gb_profile(traj, PLANES, lag_frames=1, **kw)
    with pytest.raises(ArgumentError) as err:
        gb_width(prof, component="xy")
    assert err.value.name == "component"
    with pytest.raises(ArgumentError) as err:
        gb_width(prof, model="lorentz")
    assert err.value.name == "model"
    with pytest.raises(ArgumentError) as err:
        gb_width(prof, bulk_min_distance_A=50.0)
    assert err.value.name == "bulk_min_distance_A"
    with pytest.raises(ArgumentError) as err:
        prof.region([99])
    assert err.value.name == "slabs"
