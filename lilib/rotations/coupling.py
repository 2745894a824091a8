"""Hop–rotation coupling (paddle wheel): are polyanion reorientations enhanced near ion hops?

>>> hops = detect_hops(traj, "Li")  # residence-centre hops with hysteresis
>>> c = hop_rotation_coupling(traj, events, hops, radius_A=5.0, window_ps=0.5)
>>> c.enhancement, c.ci_low, c.ci_high, c.p_value
>>> print(c.verdict)
>>> c.to_dataframe("distance")
... c.to_dataframe("lag")
... c.plot()

Paddle-wheel mechanism (seed 000 §3.1.9, §3.5.2; seed 003 §5.4 for Na3O(BH4)): rotations of
PS4, BH4, BF4, ... polyanions open the way for, or drag, nearby cations. Its fingerprint in a
trajectory is a co-occurrence: rotation events of a group close in space and time to hops of
the mobile ions, more often than chance.

Hops (operational, :func:`detect_hops`): an ion's residence centre is the running mean of its
(optionally smoothed) positions since it settled; it is away when farther than
``threshold_A`` from that centre, and it has hopped once it settles elsewhere (the last
``settle_ps`` of positions within ``settle_radius_A`` of their mean, that mean farther than
``threshold_A`` from the old centre). Coming back within the threshold ends an excursion
without a hop. The hop time is the crossing: the first frame of the last run before settling
nearer the new centre than the old. The hop position is the ion's position at that frame.

Coupling statistic: for every hop h and every group g whose centre lies within ``radius_A`` of
the hop position (minimum image, at the hop frame), count the rotation events of g with
|t_rot − t_hop| ≤ ``window_ps``: N_obs summed over pairs. Null model: rotations independent of
hops but with each group's own event sequence, i.e. each group's event times circularly
shifted by an independent uniform offset over the run (seeded). Under it every event is
uniform over the run, so the expected count is exact:
E0 = Σ_pairs n_g |[t_h − Δt, t_h + Δt] ∩ [0, T)| / T. Enhancement = N_obs / E0.
p-value (one-sided, for enhancement) = (1 + #{N_shuffled ≥ N_obs}) / (1 + n_shuffles).
Confidence interval: counts are small (often 0–20), where a bootstrap percentile interval
collapses (to [0, 0] at N_obs = 0); the interval is the exact Poisson (Garwood) interval of
N_obs, widened for overdispersion by φ = max(1, var/mean of the shuffled counts) (one event
near several hops is counted several times), divided by E0.
The lag cross-correlation (rotation time − hop time for pairs within R) and the spatial map
(pairs binned by distance) use the same observed/expected construction per bin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import pandas as pd
from scipy import stats

from lilib.errors import ArgumentError
from lilib.md.trajectory import Trajectory
from lilib.rotations import _kernels
from lilib.rotations.events import RotationEvents
from lilib.rotations.groups import PolyanionGroups

__all__ = ["CouplingResult", "HopEvents", "detect_hops", "hop_rotation_coupling"]


# ---------------------------------------------------------------------------- hops


@dataclass(frozen=True, eq=False)
class HopEvents:
    """Hops of the mobile ions (see the module doc for the detector).

    Per hop (time order): ion (atom index), frame (crossing) and time_ps, leave_frame,
    settle_frame, position_A (at the crossing frame, unwrapped), from_A / to_A (residence
    centres, unwrapped), length_A. Settings: species, n_ions (ions watched), threshold_A,
    settle_frames, settle_radius_A, smooth_frames, timestep_fs, n_frames.
    """

    ion: np.ndarray = field(repr=False)
    frame: np.ndarray = field(repr=False)
    leave_frame: np.ndarray = field(repr=False)
    settle_frame: np.ndarray = field(repr=False)
    position_A: np.ndarray = field(repr=False)
    from_A: np.ndarray = field(repr=False)
    to_A: np.ndarray = field(repr=False)
    species: str
    n_ions: int
    threshold_A: float
    settle_frames: int
    settle_radius_A: float
    smooth_frames: int
    timestep_fs: float
    n_frames: int

    def __repr__(self) -> str:
        return (
            f"HopEvents({self.n_hops} hops of {self.n_ions} {self.species} over "
            f"{self.duration_ps:g} ps, threshold {self.threshold_A:g} Å)"
        )

    @property
    def n_hops(self) -> int:
        """Number of hops."""
        return int(self.ion.size)

    @property
    def duration_ps(self) -> float:
        """Length of the run, ps (n_frames × time step)."""
        return self.n_frames * self.timestep_fs / 1000.0

    @property
    def time_ps(self) -> np.ndarray:
        """Crossing time of each hop, ps."""
        return self.frame * self.timestep_fs / 1000.0

    @property
    def length_A(self) -> np.ndarray:
        """Distance between the old and new residence centres, Å."""
        return np.linalg.norm(self.to_A - self.from_A, axis=1)

    @property
    def rate_per_ps(self) -> float:
        """Hops per ion per ps."""
        return self.n_hops / (self.n_ions * self.duration_ps)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per hop: ion, times (ps), length (Å), position (Å)."""
        dt = self.timestep_fs / 1000.0
        return pd.DataFrame(
            {
                "ion": self.ion,
                "time_ps": self.time_ps,
                "leave_time_ps": self.leave_frame * dt,
                "settle_time_ps": self.settle_frame * dt,
                "length_A": self.length_A,
                "x_A": self.position_A[:, 0],
                "y_A": self.position_A[:, 1],
                "z_A": self.position_A[:, 2],
            }
        )

    def plot(self, ax=None):
        """Hop raster: ion against crossing time; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3))
        _, row = np.unique(self.ion, return_inverse=True)
        ax.scatter(self.time_ps, row, s=8, color="tab:green")
        ax.set_xlim(0, self.duration_ps)
        ax.set_xlabel("time (ps)")
        ax.set_ylabel(f"{self.species} ion (hopping ones)")
        ax.set_title(f"{self.n_hops} hops", fontsize=9)
        return ax


def _positive(value, name: str, unit: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ArgumentError(name, f"must be a number > 0 {unit}, got {value!r}") from None
    if not 0 < v < np.inf:
        raise ArgumentError(name, f"must be > 0 {unit} (and finite), got {value!r}")
    return v


def detect_hops(
    traj: Trajectory,
    species: str = "Li",
    *,
    threshold_A: float = 1.5,
    settle_ps: float = 0.2,
    settle_radius_A: float | None = None,
    smooth_ps: float = 0.1,
) -> HopEvents:
    """Hops of the ``species`` ions with hysteresis (leave > threshold, settle elsewhere).

    threshold_A: distance from the residence centre that counts as leaving it (1.5 Å: about
    half a Li–Li site spacing in sulfides, above thermal vibration). settle_ps: how long the
    ion must stay put at the new place (≥ 2 frames). settle_radius_A: how still it must stay
    there (default threshold/2). smooth_ps: moving-average window over positions first (damps
    vibration; ≤ one frame: none). Wrapped trajectories are unwrapped first.
    """
    if not isinstance(traj, Trajectory):
        raise ArgumentError("traj", f"expected a lilib.md.Trajectory, got {type(traj).__name__}")
    if not isinstance(species, str) or species not in traj.species:
        raise ArgumentError("species", f"no {species!r} atoms here (species: {traj.species})")
    thr = _positive(threshold_A, "threshold_A", "Å")
    settle = _positive(settle_ps, "settle_ps", "ps")
    rad = thr / 2 if settle_radius_A is None else _positive(settle_radius_A, "settle_radius_A", "Å")
    smooth = float(smooth_ps)
    if not 0 <= smooth < np.inf:
        raise ArgumentError("smooth_ps", f"must be ≥ 0 ps, got {smooth_ps!r}")
    dt_ps = traj.timestep_fs / 1000.0
    m = max(2, round(settle / dt_ps))
    w = max(1, round(smooth / dt_ps))
    if m > traj.n_frames:
        raise ArgumentError(
            "settle_ps",
            f"{settle:g} ps is {m} frames, longer than the run ({traj.n_frames} frames)",
        )
    tr = traj.unwrap()
    idx = tr.atom_indices(species)
    pos = np.asarray(tr.positions[:, idx], dtype=np.float64)
    s = _moving_average(pos, w) if w > 1 else pos
    rows = _kernels.detect_hops(np.ascontiguousarray(s), thr, m, rad)
    order = np.lexsort((rows[:, 0], rows[:, 1])) if rows.size else np.zeros(0, dtype=int)
    rows = rows[order]
    ion_local = rows[:, 0].astype(np.int64)
    frame = rows[:, 1].astype(np.int64)
    return HopEvents(
        ion=idx[ion_local],
        frame=frame,
        leave_frame=rows[:, 2].astype(np.int64),
        settle_frame=rows[:, 3].astype(np.int64),
        position_A=pos[frame, ion_local] if rows.size else np.zeros((0, 3)),
        from_A=rows[:, 4:7].copy(),
        to_A=rows[:, 7:10].copy(),
        species=species,
        n_ions=int(idx.size),
        threshold_A=thr,
        settle_frames=m,
        settle_radius_A=rad,
        smooth_frames=w,
        timestep_fs=traj.timestep_fs,
        n_frames=traj.n_frames,
    )


def _moving_average(x: np.ndarray, w: int) -> np.ndarray:
    """Centred moving average over axis 0 (window shrinks at the ends)."""
    c = np.concatenate([np.zeros((1, *x.shape[1:])), np.cumsum(x, axis=0)])
    n = x.shape[0]
    lo = np.clip(np.arange(n) - w // 2, 0, n)
    hi = np.clip(np.arange(n) - w // 2 + w, 0, n)
    return (c[hi] - c[lo]) / (hi - lo).reshape((n,) + (1,) * (x.ndim - 1))


# ---------------------------------------------------------------------------- coupling


@dataclass(frozen=True, eq=False)
class CouplingResult:
    """Rotation–hop co-occurrence against a shuffled-time null (see the module doc).

    enhancement = n_observed / n_expected with ci_low–ci_high (at ``confidence``) and the
    one-sided p_value; n_expected: the exact mean of the null, null_mean: the mean over the
    shuffles (a check: they agree within sampling); n_pairs: hop–group pairs within radius_A;
    overdispersion: φ of the CI. Spatial map per distance bin (distance_edges_A):
    distance_observed, distance_expected, distance_enhancement and its CI. Lag
    cross-correlation (lag_edges_ps, rotation time − hop time, pairs within R): lag_observed,
    lag_expected. Inputs: radius_A, window_ps, n_shuffles, seed, n_groups, n_rotation_events,
    n_hops, n_ions, species, duration_ps.
    """

    enhancement: float
    ci_low: float
    ci_high: float
    p_value: float
    n_observed: int
    n_expected: float
    null_mean: float
    n_pairs: int
    overdispersion: float
    confidence: float
    radius_A: float
    window_ps: float
    n_shuffles: int
    seed: int
    n_groups: int
    n_rotation_events: int
    n_hops: int
    n_ions: int
    species: str
    duration_ps: float
    distance_edges_A: np.ndarray = field(repr=False)
    distance_observed: np.ndarray = field(repr=False)
    distance_expected: np.ndarray = field(repr=False)
    distance_ci: np.ndarray = field(repr=False)
    lag_edges_ps: np.ndarray = field(repr=False)
    lag_observed: np.ndarray = field(repr=False)
    lag_expected: np.ndarray = field(repr=False)

    @property
    def measurable(self) -> bool:
        """False when there were no rotations, no hops, or no hop near any group."""
        return self.n_rotation_events > 0 and self.n_hops > 0 and self.n_expected > 0

    @property
    def coupled(self) -> bool | None:
        """True: enhanced beyond the CI; False: CI contains 1 (or suppression); None: unmeasurable."""
        if not self.measurable:
            return None
        return bool(self.ci_low > 1.0)

    @property
    def distance_enhancement(self) -> np.ndarray:
        """Observed / expected per distance bin (NaN where nothing is expected)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(
                self.distance_expected > 0, self.distance_observed / self.distance_expected, np.nan
            )

    @property
    def lag_enhancement(self) -> np.ndarray:
        """Observed / expected per lag bin (NaN where nothing is expected)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.lag_expected > 0, self.lag_observed / self.lag_expected, np.nan)

    @property
    def verdict(self) -> str:
        """The conclusion in words, with the numbers behind it."""
        no_rot = self.n_rotation_events == 0
        no_hop = self.n_hops == 0
        if no_rot and no_hop:
            return (
                f"no rotations occurred (0 events in {self.n_groups} groups over "
                f"{self.duration_ps:g} ps) and no hops occurred (0 hops of {self.n_ions} "
                f"{self.species} ions): coupling cannot be measured"
            )
        if no_rot:
            return (
                f"no rotations occurred (0 events in {self.n_groups} groups over "
                f"{self.duration_ps:g} ps): coupling cannot be measured"
            )
        if no_hop:
            return (
                f"no hops occurred (0 hops of {self.n_ions} {self.species} ions over "
                f"{self.duration_ps:g} ps): coupling cannot be measured"
            )
        if self.n_expected <= 0:
            return (
                f"no hop came within {self.radius_A:g} Å of a rotating group: coupling cannot be "
                "measured at this radius"
            )
        pct = f"{self.confidence:.0%}"
        nums = (
            f"enhancement {self.enhancement:.2f} ({pct} CI {self.ci_low:.2f}–{self.ci_high:.2f}), "
            f"p = {self.p_value:.3g}; {self.n_observed} rotation–hop co-occurrences within "
            f"{self.radius_A:g} Å and ±{self.window_ps:g} ps vs {self.n_expected:.2f} expected "
            f"({self.n_rotation_events} rotations, {self.n_hops} hops)"
        )
        if self.ci_low > 1.0:
            return f"rotations are enhanced near hops (paddle-wheel coupling): {nums}"
        if self.ci_high < 1.0:
            return f"rotations are suppressed near hops: {nums}"
        return f"rotations and hops are uncorrelated within CI: {nums}"

    def to_dataframe(self, kind: str = "summary") -> pd.DataFrame:
        """'summary' (one row), 'distance' (spatial map) or 'lag' (cross-correlation) table."""
        if kind == "summary":
            return pd.DataFrame(
                [
                    {
                        "enhancement": self.enhancement,
                        "ci_low": self.ci_low,
                        "ci_high": self.ci_high,
                        "p_value": self.p_value,
                        "n_observed": self.n_observed,
                        "n_expected": self.n_expected,
                        "radius_A": self.radius_A,
                        "window_ps": self.window_ps,
                        "n_rotation_events": self.n_rotation_events,
                        "n_hops": self.n_hops,
                        "verdict": self.verdict,
                    }
                ]
            )
        if kind == "distance":
            e = self.distance_edges_A
            return pd.DataFrame(
                {
                    "r_lo_A": e[:-1],
                    "r_hi_A": e[1:],
                    "observed": self.distance_observed,
                    "expected": self.distance_expected,
                    "enhancement": self.distance_enhancement,
                    "ci_low": self.distance_ci[:, 0],
                    "ci_high": self.distance_ci[:, 1],
                }
            )
        if kind == "lag":
            e = self.lag_edges_ps
            return pd.DataFrame(
                {
                    "lag_lo_ps": e[:-1],
                    "lag_hi_ps": e[1:],
                    "observed": self.lag_observed,
                    "expected": self.lag_expected,
                    "enhancement": self.lag_enhancement,
                }
            )
        raise ArgumentError("kind", f"must be 'summary', 'distance' or 'lag', got {kind!r}")

    def plot(self, ax=None, kind: str = "lag"):
        """Observed vs expected co-occurrences against lag ('lag') or distance ('distance')."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3))
        if kind == "lag":
            e, obs, exp = self.lag_edges_ps, self.lag_observed, self.lag_expected
            xlabel = "t_rotation − t_hop (ps)"
        elif kind == "distance":
            e, obs, exp = self.distance_edges_A, self.distance_observed, self.distance_expected
            xlabel = "hop–group distance (Å)"
        else:
            raise ArgumentError("kind", f"must be 'lag' or 'distance', got {kind!r}")
        mid = 0.5 * (e[1:] + e[:-1])
        ax.bar(mid, obs, width=np.diff(e), color="tab:orange", alpha=0.7, label="observed")
        ax.step(
            e,
            np.append(exp, exp[-1] if exp.size else 0),
            where="post",
            color="k",
            label="shuffled-time expectation",
        )
        ax.set_xlabel(xlabel)
        ax.set_ylabel("rotation–hop pairs")
        ax.set_title(self.verdict.split(":")[0], fontsize=8)
        ax.legend(fontsize=7)
        return ax


def _ci(n_obs: int, expected: float, phi: float, confidence: float) -> tuple[float, float]:
    """Quasi-Poisson exact interval of n_obs / expected (see the module doc)."""
    if expected <= 0:
        return float("nan"), float("nan")
    a = 1.0 - confidence
    n_eff = n_obs / phi
    lo = 0.0 if n_obs == 0 else stats.chi2.ppf(a / 2, 2 * n_eff) / 2
    hi = stats.chi2.ppf(1 - a / 2, 2 * n_eff + 2) / 2
    return float(lo * phi / expected), float(hi * phi / expected)


def _overlap(t: np.ndarray, lo: float, hi: float, total: float) -> np.ndarray:
    """|[t + lo, t + hi] ∩ [0, total)| for every t."""
    return np.clip(np.minimum(t + hi, total) - np.maximum(t + lo, 0.0), 0.0, None)


def _pair_distances(traj: Trajectory, groups: PolyanionGroups, hops: HopEvents) -> np.ndarray:
    """Minimum-image distance (n_hops, n_groups) between each hop and each group centre, Å."""
    if hops.n_hops == 0:
        return np.zeros((0, groups.n_groups))
    centres = groups.centre_positions_A(traj, hops.frame)  # (h, g, 3)
    d = centres - hops.position_A[:, None, :]
    cells = (
        traj.cell[hops.frame]
        if traj.variable_cell
        else np.broadcast_to(traj.cell, (hops.n_hops, 3, 3))
    )
    frac = np.einsum("hgk,hkl->hgl", d, np.linalg.inv(cells))
    frac -= np.rint(frac)
    # the rounded image is the nearest for all but very skewed cells; check the 26 neighbours
    shifts = np.array(
        [[i, j, k] for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)], dtype=float
    )
    best = np.full(d.shape[:2], np.inf)
    for s in shifts:
        v = np.einsum("hgk,hkl->hgl", frac + s, cells)
        best = np.minimum(best, np.linalg.norm(v, axis=-1))
    return best


def hop_rotation_coupling(
    traj: Trajectory,
    events: RotationEvents,
    hops: HopEvents,
    groups: PolyanionGroups,
    *,
    radius_A: float = 5.0,
    window_ps: float = 0.5,
    n_shuffles: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
    distance_edges_A: Sequence[float] | None = None,
    lag_edges_ps: Sequence[float] | None = None,
) -> CouplingResult:
    """Enhancement of rotation events near ion hops against a shuffled-time null (module doc).

    radius_A: hop–group-centre distance counted as "near" (5 Å: the first cation shell of a
    PS4/BH4 centre lies at ~3–3.5 Å, its hop saddles within ~5 Å). window_ps: ±time window
    (0.5 ps: a reorientation takes a few 100 fs). n_shuffles: circular-shift resamples for the
    p-value and overdispersion; seed: their rng. distance_edges_A: spatial-map bins (default
    0 to 2R by 1 Å); lag_edges_ps: lag bins (default ±4 windows in 16 bins).
    """
    if not isinstance(traj, Trajectory):
        raise ArgumentError("traj", f"expected a lilib.md.Trajectory, got {type(traj).__name__}")
    if not isinstance(events, RotationEvents):
        raise ArgumentError(
            "events", f"expected RotationEvents (rotation_events), got {type(events).__name__}"
        )
    if not isinstance(hops, HopEvents):
        raise ArgumentError("hops", f"expected HopEvents (detect_hops), got {type(hops).__name__}")
    if not isinstance(groups, PolyanionGroups):
        raise ArgumentError("groups", f"expected PolyanionGroups, got {type(groups).__name__}")
    if events.n_groups != groups.n_groups:
        raise ArgumentError(
            "events", f"cover {events.n_groups} groups, groups has {groups.n_groups}"
        )
    if groups.n_atoms != traj.n_atoms:
        raise ArgumentError(
            "groups", f"found in a system of {groups.n_atoms} atoms, not {traj.n_atoms}"
        )
    for name, obj in (("events", events), ("hops", hops)):
        if (
            obj.n_frames != traj.n_frames
            or abs(obj.timestep_fs - traj.timestep_fs) > 1e-9 * traj.timestep_fs
        ):
            raise ArgumentError(
                name,
                f"come from {obj.n_frames} frames × {obj.timestep_fs:g} fs, the trajectory has "
                f"{traj.n_frames} × {traj.timestep_fs:g} fs",
            )
    r_cut = _positive(radius_A, "radius_A", "Å")
    win = _positive(window_ps, "window_ps", "ps")
    if not isinstance(n_shuffles, (int, np.integer)) or n_shuffles < 100:
        raise ArgumentError("n_shuffles", f"must be an integer ≥ 100, got {n_shuffles!r}")
    if not 0 < confidence < 1:
        raise ArgumentError("confidence", f"must be between 0 and 1, got {confidence!r}")
    total = traj.n_frames * traj.timestep_fs / 1000.0
    d_edges = (
        np.arange(0.0, 2 * r_cut + 1e-9, 1.0)
        if distance_edges_A is None
        else np.asarray(distance_edges_A, float)
    )
    l_edges = (
        np.linspace(-4 * win, 4 * win, 17)
        if lag_edges_ps is None
        else np.asarray(lag_edges_ps, float)
    )
    for name, e in (("distance_edges_A", d_edges), ("lag_edges_ps", l_edges)):
        if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0) or not np.all(np.isfinite(e)):
            raise ArgumentError(name, "must be ≥ 2 increasing finite bin edges")

    ng = groups.n_groups
    t_rot = [events.time_ps[events.group == g] for g in range(ng)]
    n_per = np.array([t.size for t in t_rot])
    dist = _pair_distances(traj, groups, hops)  # (h, g)
    th = hops.time_ps
    hh, gg = np.nonzero(dist <= r_cut)

    def counts(h_idx, g_idx, lo, hi):
        out = np.zeros(h_idx.size)
        for k, (h, g) in enumerate(zip(h_idx, g_idx)):
            dtk = t_rot[g] - th[h]
            out[k] = np.count_nonzero((dtk >= lo) & (dtk <= hi))
        return out

    # Times lie on the frame grid: |Δt| ≤ win admits 2K + 1 lags, so the expectation uses a
    # window of that length and the shuffles shift by whole frames (a continuous 2·win window
    # against grid counts biased the enhancement by ~1/(2K) — 2 % at K = 25).
    dt_ps = traj.timestep_fs / 1000.0
    k_lags = int(np.floor(win / dt_ps + 1e-9))
    win_grid = (k_lags + 0.5) * dt_ps
    n_obs = int(counts(hh, gg, -win_grid, win_grid).sum())
    exp_pairs = n_per[gg] * _overlap(th[hh], -win_grid, win_grid, total) / total
    e0 = float(exp_pairs.sum())

    # shuffles: each group's events circularly shifted by its own uniform offset
    rng = np.random.default_rng(seed)
    null = np.zeros(n_shuffles)
    if n_obs or e0 > 0:
        pad = max(1, int(n_per.max()) if ng else 1)
        times = np.full((ng, pad), np.nan)
        for g in range(ng):
            times[g, : n_per[g]] = t_rot[g]
        step = max(1, 2_000_000 // max(1, hh.size * pad))
        for s in range(0, n_shuffles, step):
            k = min(step, n_shuffles - s)
            shift = rng.integers(0, traj.n_frames, size=(k, ng)) * dt_ps
            sh = np.mod(times[None] + shift[:, :, None], total)  # (k, g, pad)
            dtk = sh[:, gg, :] - th[hh][None, :, None]  # (k, pairs, pad)
            null[s : s + k] = np.sum(np.abs(dtk) <= win_grid, axis=(1, 2))
    mean_null = float(null.mean())
    phi = max(1.0, float(null.var(ddof=1)) / mean_null) if mean_null > 0 else 1.0
    p = float((1 + np.count_nonzero(null >= n_obs)) / (1 + n_shuffles))
    enh = n_obs / e0 if e0 > 0 else float("nan")
    lo, hi = _ci(n_obs, e0, phi, confidence)

    # spatial map
    h_all, g_all = np.nonzero(dist < d_edges[-1])
    d_all = dist[h_all, g_all]
    c_all = counts(h_all, g_all, -win_grid, win_grid)
    e_all = n_per[g_all] * _overlap(th[h_all], -win_grid, win_grid, total) / total
    bins = np.digitize(d_all, d_edges) - 1
    ok = (bins >= 0) & (bins < d_edges.size - 1)
    d_obs = np.bincount(bins[ok], weights=c_all[ok], minlength=d_edges.size - 1)
    d_exp = np.bincount(bins[ok], weights=e_all[ok], minlength=d_edges.size - 1)
    d_ci = np.array([_ci(int(o), x, phi, confidence) for o, x in zip(d_obs, d_exp)]).reshape(-1, 2)

    # lag cross-correlation within R
    lag_obs = np.zeros(l_edges.size - 1)
    for h, g in zip(hh, gg):
        lag_obs += np.histogram(t_rot[g] - th[h], bins=l_edges)[0]
    lag_exp = np.array(
        [
            float(np.sum(n_per[gg] * _overlap(th[hh], a, b, total) / total))
            for a, b in pairwise(l_edges)
        ]
    )
    return CouplingResult(
        enhancement=float(enh),
        ci_low=lo,
        ci_high=hi,
        p_value=p,
        n_observed=n_obs,
        n_expected=e0,
        null_mean=mean_null,
        n_pairs=int(hh.size),
        overdispersion=phi,
        confidence=float(confidence),
        radius_A=r_cut,
        window_ps=win,
        n_shuffles=int(n_shuffles),
        seed=int(seed),
        n_groups=ng,
        n_rotation_events=events.n_events,
        n_hops=hops.n_hops,
        n_ions=hops.n_ions,
        species=hops.species,
        duration_ps=total,
        distance_edges_A=d_edges,
        distance_observed=d_obs,
        distance_expected=d_exp,
        distance_ci=d_ci,
        lag_edges_ps=l_edges,
        lag_observed=lag_obs,
        lag_expected=lag_exp,
    )
