"""Hop detection and hop–rotation (paddle-wheel) coupling against synthetic ground truth.

Li ions vibrate (0.12 Å per axis) at sites 3.3 Å from a PS4 centre and hop 2.6 Å sideways at
prescribed frames (over 4 frames). Coupled data: half of the hops are accompanied by a jump of
the ion's own PS4 within ±0.2 ps; independent data: the same number of jumps at random times.
Background jumps are added to both. The coupling must come out ≫ 1 with a CI excluding 1 in
the first case, a CI containing 1 in the second, and plain-language verdicts when there is
nothing to measure.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from test_rotations import DT_FS, body_element, rigid_rotors

from lilib.errors import ArgumentError
from lilib.md import Trajectory
from lilib.rotations import (
    HopEvents,
    detect_hops,
    find_groups,
    hop_rotation_coupling,
    rotation_analysis,
)

N_GROUPS = 16
N_FRAMES = 2500  # 50 ps
SPACING = 8.0


def li_sites(centres, rng, per_group=2):
    """Sites 3.3 Å from the group centres in random directions, and a sideways hop vector."""
    sites, hop_vec, owner = [], [], []
    for g, c in enumerate(centres):
        for _ in range(per_group):
            u = rng.normal(size=3)
            u /= np.linalg.norm(u)
            w = np.cross(u, rng.normal(size=3))
            w /= np.linalg.norm(w)
            sites.append(c + 3.3 * u)
            hop_vec.append(2.6 * w)
            owner.append(g)
    return np.array(sites), np.array(hop_vec), np.array(owner)


def li_trajectory(sites, hop_vec, hop_frames, rng, ramp=4, vib=0.12):
    """(n_frames, n_ions, 3): vibration about the site; at each hop frame the ion moves ±hop_vec."""
    n = len(sites)
    pos = np.broadcast_to(sites, (N_FRAMES, n, 3)).copy()
    for i, frames in enumerate(hop_frames):
        for k, f in enumerate(sorted(frames)):
            step = hop_vec[i] * (1 if k % 2 == 0 else -1)  # there and back
            s = np.clip((np.arange(N_FRAMES) - (f - ramp // 2) + 0.5) / ramp, 0, 1)
            pos[:, i] += s[:, None] * step
    return pos + rng.normal(0, vib, pos.shape)


def scenario(coupled: bool, seed: int = 4, rotations: bool = True, hops: bool = True):
    """Trajectory + truth for the coupled / independent cases (same hops, same jump count)."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(N_GROUPS ** (1 / 3)))
    grid = np.array([[i, j, k] for i in range(side) for j in range(side) for k in range(side)])
    centres = (grid[:N_GROUPS] + 0.5) * SPACING
    sites, hop_vec, owner = li_sites(centres, rng)
    hop_frames = (
        [
            sorted(
                rng.choice(np.arange(150, N_FRAMES - 150, 400), 2, replace=False)
                + rng.integers(0, 300)
            )
            for _ in sites
        ]
        if hops
        else [[] for _ in sites]
    )
    jump_frames = {g: [] for g in range(N_GROUPS)}
    if rotations:
        all_hops = [(f, owner[i]) for i, fr in enumerate(hop_frames) for f in fr]
        for k, (f, g) in enumerate(all_hops):
            if k % 2 == 0:  # half of the hops get a jump of their own group
                if coupled:
                    jump_frames[g].append(int(f + rng.integers(-10, 11)))
                else:
                    jump_frames[int(rng.integers(N_GROUPS))].append(
                        int(rng.integers(50, N_FRAMES - 50))
                    )
        for g in range(N_GROUPS):  # background: two jumps per group at random times
            jump_frames[g] += [int(x) for x in rng.integers(50, N_FRAMES - 50, 2)]
    jumps = {}
    for g, frames in jump_frames.items():
        kept = []
        for f in sorted(frames):
            if not kept or f - kept[-1] >= 20:  # resolvable jumps only
                kept.append(f)
        jump_frames[g] = kept
        jumps[g] = [(f, body_element("PS4", "C3" if (f + g) % 3 else "C2", f)) for f in kept]
    li = li_trajectory(sites, hop_vec, hop_frames, rng)
    traj, truth = rigid_rotors(
        "PS4",
        N_GROUPS,
        N_FRAMES,
        jumps,
        spacing_A=SPACING,
        seed=seed,
        extra=(["Li"] * len(sites), li),
    )
    truth.update(hop_frames=hop_frames, jump_frames=jump_frames, owner=owner)
    return traj, truth


@pytest.fixture(scope="module")
def coupled():
    traj, truth = scenario(coupled=True)
    ra = rotation_analysis(traj, centres="P", ligands="S", acf=False)
    return traj, truth, ra


@pytest.fixture(scope="module")
def independent():
    traj, truth = scenario(coupled=False)
    ra = rotation_analysis(traj, centres="P", ligands="S", acf=False)
    return traj, truth, ra


def test_hops_detected_at_the_prescribed_frames(coupled):
    traj, truth, ra = coupled
    hops = detect_hops(traj, "Li")
    n_li = int(np.sum(traj.symbols == "Li"))
    first_li = int(np.flatnonzero(traj.symbols == "Li")[0])
    want = sorted((int(f), first_li + i) for i, fr in enumerate(truth["hop_frames"]) for f in fr)
    got = sorted(zip(hops.frame.tolist(), hops.ion.tolist()))
    assert hops.n_hops == len(want) == 2 * n_li
    for (f, i), (f2, i2) in zip(want, got):
        assert i == i2 and abs(f - f2) <= 3
    np.testing.assert_allclose(hops.length_A, 2.6, atol=0.3)
    assert hops.rate_per_ps == pytest.approx(2 / 50.0)
    df = hops.to_dataframe()
    assert len(df) == hops.n_hops and {"time_ps", "length_A"} <= set(df.columns)
    assert hops.plot().get_xlabel() == "time (ps)"
    # and the rotations of the same data, against their schedule
    ev = ra.events
    assert ev.n_events == sum(len(v) for v in truth["jump_frames"].values())
    for g, frames in truth["jump_frames"].items():
        np.testing.assert_allclose(np.sort(ev.frame[ev.group == g]), frames, atol=3)


def test_vibration_alone_makes_no_hops():
    rng = np.random.default_rng(0)
    sites = rng.random((40, 3)) * 20
    pos = sites + rng.normal(0, 0.25, (3000, 40, 3))  # large thermal vibration, no hop
    traj = Trajectory(pos, np.eye(3) * 20, ["Li"] * 40, DT_FS, unwrapped=True)
    assert detect_hops(traj, "Li").n_hops == 0


def test_coupled_rotations_are_enhanced(coupled):
    _, _, ra = coupled
    c = ra.coupling("Li", radius_A=5.0, window_ps=0.5, seed=1)
    assert c.enhancement > 3.0
    assert c.null_mean == pytest.approx(c.n_expected, rel=0.1)  # shuffles agree with the exact null
    assert c.ci_low > 1.5 and c.ci_high > c.enhancement
    assert c.p_value < 0.005
    assert c.coupled is True
    assert c.verdict.startswith("rotations are enhanced near hops")
    assert f"{c.n_observed} rotation–hop co-occurrences" in c.verdict
    # spatial map: the excess sits within the coupling radius (own group ≈ 3.3–4.2 Å away)
    dmap = c.to_dataframe("distance")
    near = dmap[(dmap.r_hi_A <= 5.0) & (dmap.expected > 0.5)]
    assert (near.enhancement > 2).any()
    # lag cross-correlation: the excess sits at the prescribed |lag| ≤ 0.2 ps
    lag = c.to_dataframe("lag")
    centre = lag[(lag.lag_lo_ps >= -0.25) & (lag.lag_hi_ps <= 0.25)]
    assert centre.observed.sum() >= 0.8 * c.n_observed
    assert centre.enhancement.min() > 5
    far = lag[(lag.lag_hi_ps <= -0.5) | (lag.lag_lo_ps >= 0.5)]
    assert far.observed.sum() <= 3 * far.expected.sum()
    assert c.plot().get_ylabel() == "rotation–hop pairs"
    assert c.plot(kind="distance").get_xlabel() == "hop–group distance (Å)"
    assert c.to_dataframe().loc[0, "verdict"] == c.verdict


def test_independent_rotations_are_not(independent):
    _, _, ra = independent
    c = ra.coupling("Li", radius_A=5.0, window_ps=0.5, seed=1)
    assert c.n_expected > 3  # enough pairs that the CI means something
    assert c.ci_low <= 1.0 <= c.ci_high
    assert c.ci_high < 4.0
    assert c.p_value > 0.05
    assert c.coupled is False
    assert c.verdict.startswith("rotations and hops are uncorrelated within CI")


def test_same_seed_same_numbers(coupled):
    traj, _, ra = coupled
    hops = ra.hops("Li")
    a = hop_rotation_coupling(traj, ra.events, hops, ra.groups, seed=3, n_shuffles=500)
    b = hop_rotation_coupling(traj, ra.events, hops, ra.groups, seed=3, n_shuffles=500)
    assert (a.enhancement, a.ci_low, a.ci_high, a.p_value) == (
        b.enhancement,
        b.ci_low,
        b.ci_high,
        b.p_value,
    )


def test_verdicts_when_nothing_to_measure():
    traj, _ = scenario(coupled=True, rotations=False)
    ra = rotation_analysis(traj, centres="P", ligands="S", acf=False)
    c = ra.coupling("Li")
    assert ra.events.n_events == 0
    assert c.verdict == (
        f"no rotations occurred (0 events in {N_GROUPS} groups over 50 ps): coupling cannot be measured"
    )
    assert c.coupled is None and not c.measurable
    traj, _ = scenario(coupled=True, hops=False)
    ra = rotation_analysis(traj, centres="P", ligands="S", acf=False)
    c = ra.coupling("Li")
    assert c.n_hops == 0 and ra.events.n_events > 0
    assert (
        c.verdict
        == "no hops occurred (0 hops of 32 Li ions over 50 ps): coupling cannot be measured"
    )
    traj, _ = scenario(coupled=True, hops=False, rotations=False)
    ra = rotation_analysis(traj, centres="P", ligands="S", acf=False)
    c = ra.coupling("Li")
    assert c.verdict.startswith("no rotations occurred") and "no hops occurred" in c.verdict


def test_coupling_bad_input(coupled):
    traj, _, ra = coupled
    hops = ra.hops("Li")
    for kw, name in [
        ({"radius_A": 0}, "radius_A"),
        ({"radius_A": -2.0}, "radius_A"),
        ({"window_ps": 0.0}, "window_ps"),
        ({"window_ps": "soon"}, "window_ps"),
        ({"n_shuffles": 10}, "n_shuffles"),
        ({"confidence": 1.5}, "confidence"),
        ({"lag_edges_ps": [1.0, 0.0]}, "lag_edges_ps"),
    ]:
        with pytest.raises(ArgumentError) as e:
            hop_rotation_coupling(traj, ra.events, hops, ra.groups, **kw)
        assert e.value.name == name
    short = traj[:1000]
    with pytest.raises(ArgumentError) as e:
        hop_rotation_coupling(traj, ra.events, detect_hops(short, "Li"), ra.groups)
    assert e.value.name == "hops"
    with pytest.raises(ArgumentError) as e:
        hop_rotation_coupling(
            short, ra.events, detect_hops(short, "Li"), find_groups(short, "P", "S")
        )
    assert e.value.name == "events"
    with pytest.raises(ArgumentError) as e:
        hop_rotation_coupling(traj, ra.events, "hops", ra.groups)
    assert e.value.name == "hops"
    for kw, name in [
        ({"threshold_A": 0}, "threshold_A"),
        ({"threshold_A": -1.5}, "threshold_A"),
        ({"settle_ps": 0}, "settle_ps"),
        ({"settle_radius_A": -0.1}, "settle_radius_A"),
        ({"smooth_ps": -1}, "smooth_ps"),
    ]:
        with pytest.raises(ArgumentError) as e:
            detect_hops(traj, "Li", **kw)
        assert e.value.name == name
    with pytest.raises(ArgumentError) as e:
        detect_hops(traj, "Na")
    assert e.value.name == "species"
    assert isinstance(hops, HopEvents)
