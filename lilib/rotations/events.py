"""Discrete reorientation events of polyanion groups, with hysteresis; rates and residence times.

>>> ev = rotation_events(orient)  # θ_in = 20°, θ_out = 35°
>>> ev.n_events, ev.rate_per_ps, ev.rate_stderr_per_ps, ev.mean_residence_ps
>>> ev.class_counts  # {'C3': 12, 'C2': 5} for tetrahedra
>>> ev.to_dataframe()  # one row per event: group, time, old/new state, class, axis
>>> rotation_arrhenius([500, 600, 700], [ev500, ev600, ev700]).ea_eV

Hysteresis (two thresholds on the misorientation ω from the symmetry-equivalent states of
:mod:`~lilib.rotations.orientation`): a group stays in state s until it has been farther than
θ_out from s *and then* comes within θ_in of another state s'. Libration never counts: it
would have to carry the group to within θ_in of a state that is at least the point group's
smallest rotation away (120° for T and D3, 90° for O, 72° for I), and an excursion beyond
θ_out that returns to s is counted separately (``n_excursions``, failed jumps). Defaults
θ_in = 20° and θ_out = 35°: PS4 in real sulfide AIMD librate with 7–10° RMS misorientation from
their state (measured with this module: LGPS 600 K 6.7°, Li6PS5Cl 7.6°, cubic Na3PS4 800 K
9.6°; shared/data/md/PROVENANCE.md), so a group arrives within 20° (2–3 RMS) of its new state
within a few frames of a jump, while 35° (3.5–5 RMS) is crossed by libration in ≲10⁻³ of
frames; θ_in must stay below half the smallest state separation (36° for I, 45° for O, 60° for
T and D3), which the function checks.

Event times: ``time_ps`` is the barrier crossing, the first frame of the last run before
arrival in which the new state is nearer than the old; ``exit_time_ps`` (last frame within
θ_in of the old state) and ``entry_time_ps`` (first within θ_in of the new) bracket it.
Jump class: the lab-frame rotation h = g_new g_old⁻¹ between the two states is an element of
the point group; its class label (C3 = 120° about a 3-fold axis, C2 = 180°, C4^2 = 180° about a
4-fold axis, ...) and whether its axis passes through a ligand ("about a bond") are reported.
A turn that passes through an intermediate state on its way (a continuous 180° turn about a
4-fold axis visits the 90° state) is counted as two jumps: the group did arrive there.

Rates: events / (groups × run), ± √N / (groups × run) (Poisson), with an exact Poisson 95 %
interval (upper bound 3.69 / (groups × run) when nothing happened). Residence times: the
intervals between consecutive events of a group (complete residences only); the mean
residence time is the exponential maximum-likelihood estimate total group-time / events,
which also uses the censored first and last residences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from lilib.errors import ArgumentError
from lilib.md.transport import ArrheniusFit, arrhenius_fit
from lilib.rotations import _kernels
from lilib.rotations.orientation import Orientations
from lilib.rotations.symmetry import quat_conj, quat_multiply

__all__ = ["RotationArrhenius", "RotationEvents", "rotation_arrhenius", "rotation_events"]

THETA_IN_DEG = 20.0
THETA_OUT_DEG = 35.0


def _poisson_interval(n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) interval of a Poisson mean from n counts."""
    a = 1.0 - confidence
    lo = 0.0 if n == 0 else float(stats.chi2.ppf(a / 2, 2 * n) / 2)
    hi = float(stats.chi2.ppf(1 - a / 2, 2 * n + 2) / 2)
    return lo, hi


@dataclass(frozen=True, eq=False)
class RotationEvents:
    """Reorientation events of all groups (see the module doc for the method).

    Per event (arrays of length n_events, in time order): group, frame (crossing) and time_ps,
    exit_frame / entry_frame, old_state / new_state (indices into the group's point group),
    element (index of the jump rotation g_new g_old⁻¹ in that point group), label (its class,
    'C3', 'C2', ...), angle_deg, axis (n_events, 3) lab frame, about_bond.
    Per group: kinds, n_excursions (left beyond θ_out and came back). Per frame and group:
    state (assigned state, −1 before the first arrival), libration_deg (angle to it, °).
    Settings: theta_in_deg, theta_out_deg, timestep_fs, n_frames, temperature_K.
    """

    group: np.ndarray = field(repr=False)
    frame: np.ndarray = field(repr=False)
    exit_frame: np.ndarray = field(repr=False)
    entry_frame: np.ndarray = field(repr=False)
    old_state: np.ndarray = field(repr=False)
    new_state: np.ndarray = field(repr=False)
    element: np.ndarray = field(repr=False)
    label: tuple[str, ...] = field(repr=False)
    angle_deg: np.ndarray = field(repr=False)
    axis: np.ndarray = field(repr=False)
    about_bond: np.ndarray = field(repr=False)
    kinds: tuple[str, ...] = field(repr=False)
    point_groups: tuple[str, ...] = field(repr=False)
    n_excursions: np.ndarray = field(repr=False)
    state: np.ndarray = field(repr=False)
    libration_deg: np.ndarray = field(repr=False)
    theta_in_deg: float
    theta_out_deg: float
    timestep_fs: float
    n_frames: int
    temperature_K: float | None = None

    def __repr__(self) -> str:
        return (
            f"RotationEvents({self.n_events} events in {self.n_groups} groups over "
            f"{self.duration_ps:g} ps, rate {self.rate_per_ps:.3g} ± {self.rate_stderr_per_ps:.2g} "
            f"/ps per group, θ_in={self.theta_in_deg:g}°, θ_out={self.theta_out_deg:g}°)"
        )

    # ------------------------------------------------------------------ counts and times

    @property
    def n_events(self) -> int:
        """Number of reorientation events."""
        return int(self.group.size)

    @property
    def n_groups(self) -> int:
        """Number of groups watched."""
        return len(self.kinds)

    @property
    def duration_ps(self) -> float:
        """Observation time per group, ps (n_frames × time step)."""
        return self.n_frames * self.timestep_fs / 1000.0

    @property
    def time_ps(self) -> np.ndarray:
        """Crossing time of each event, ps."""
        return self.frame * self.timestep_fs / 1000.0

    @property
    def exit_time_ps(self) -> np.ndarray:
        """Last time within θ_in of the old state before each event, ps."""
        return self.exit_frame * self.timestep_fs / 1000.0

    @property
    def entry_time_ps(self) -> np.ndarray:
        """First time within θ_in of the new state, ps."""
        return self.entry_frame * self.timestep_fs / 1000.0

    @property
    def events_per_group(self) -> np.ndarray:
        """Number of events of each group."""
        return np.bincount(self.group, minlength=self.n_groups)

    @property
    def rates_per_group_per_ps(self) -> np.ndarray:
        """Event rate of each group, 1/ps."""
        return self.events_per_group / self.duration_ps

    @property
    def rate_per_ps(self) -> float:
        """Mean event rate per group, 1/ps."""
        return self.n_events / (self.n_groups * self.duration_ps)

    @property
    def rate_stderr_per_ps(self) -> float:
        """Poisson standard error of :attr:`rate_per_ps`, 1/ps."""
        return float(np.sqrt(self.n_events)) / (self.n_groups * self.duration_ps)

    @property
    def rate_ci95_per_ps(self) -> tuple[float, float]:
        """Exact Poisson 95 % interval of the rate per group, 1/ps."""
        lo, hi = _poisson_interval(self.n_events)
        exposure = self.n_groups * self.duration_ps
        return lo / exposure, hi / exposure

    @property
    def class_counts(self) -> dict[str, int]:
        """Events per jump class, e.g. {'C3': 12, 'C2': 4}."""
        out: dict[str, int] = {}
        for lab in self.label:
            out[lab] = out.get(lab, 0) + 1
        return out

    @property
    def class_rates_per_ps(self) -> dict[str, float]:
        """Rate per group of each jump class, 1/ps."""
        exposure = self.n_groups * self.duration_ps
        return {k: v / exposure for k, v in self.class_counts.items()}

    @property
    def residence_times_ps(self) -> np.ndarray:
        """Complete residence times (between consecutive events of one group), ps."""
        out = []
        for g in range(self.n_groups):
            t = np.sort(self.time_ps[self.group == g])
            out.append(np.diff(t))
        return np.concatenate(out) if out else np.zeros(0)

    @property
    def mean_residence_ps(self) -> float:
        """Mean residence time, ps: total group-time / events (exponential MLE); inf if none."""
        if self.n_events == 0:
            return float("inf")
        return self.n_groups * self.duration_ps / self.n_events

    @property
    def mean_residence_stderr_ps(self) -> float:
        """Standard error of :attr:`mean_residence_ps` (τ/√N), ps; inf if no event."""
        if self.n_events == 0:
            return float("inf")
        return self.mean_residence_ps / np.sqrt(self.n_events)

    @property
    def mean_residence_lower95_ps(self) -> float:
        """Lower 95 % bound of the mean residence time, ps (finite even with 0 events)."""
        return self.n_groups * self.duration_ps / _poisson_interval(self.n_events)[1]

    @property
    def libration_rms_deg(self) -> np.ndarray:
        """RMS angle from the assigned state per group, frames in flight (beyond θ_out) left out, °."""
        lib = self.libration_deg.astype(np.float64)
        ok = np.isfinite(lib) & (lib <= self.theta_out_deg)
        n = ok.sum(axis=0)
        s = np.where(ok, lib * lib, 0.0).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, np.sqrt(s / np.maximum(n, 1)), np.nan)

    @property
    def in_flight_fraction(self) -> float:
        """Fraction of group-frames farther than θ_out from the assigned state."""
        lib = self.libration_deg
        return float(np.mean(~np.isfinite(lib) | (lib > self.theta_out_deg)))

    @property
    def verdict(self) -> str:
        """One sentence with the numbers."""
        if self.n_events == 0:
            lo = self.mean_residence_lower95_ps
            return (
                f"no reorientations (0 events in {self.n_groups} groups over "
                f"{self.duration_ps:g} ps; libration only, RMS "
                f"{np.nanmean(self.libration_rms_deg):.1f}°): rate < "
                f"{self.rate_ci95_per_ps[1]:.3g} /ps per group, residence > {lo:.3g} ps (95 %)"
            )
        classes = ", ".join(f"{k}: {v}" for k, v in sorted(self.class_counts.items()))
        return (
            f"{self.n_events} reorientations in {self.n_groups} groups over {self.duration_ps:g} ps "
            f"({classes}): rate {self.rate_per_ps:.3g} ± {self.rate_stderr_per_ps:.2g} /ps per "
            f"group, mean residence {self.mean_residence_ps:.3g} ± "
            f"{self.mean_residence_stderr_ps:.2g} ps"
        )

    # ------------------------------------------------------------------ tables and plots

    def to_dataframe(self) -> pd.DataFrame:
        """One row per event: group, kind, times (ps), states, class, angle, axis."""
        return pd.DataFrame(
            {
                "group": self.group,
                "kind": [self.kinds[g] for g in self.group],
                "time_ps": self.time_ps,
                "exit_time_ps": self.exit_time_ps,
                "entry_time_ps": self.entry_time_ps,
                "old_state": self.old_state,
                "new_state": self.new_state,
                "class": list(self.label),
                "angle_deg": self.angle_deg,
                "axis_x": self.axis[:, 0],
                "axis_y": self.axis[:, 1],
                "axis_z": self.axis[:, 2],
                "about_bond": self.about_bond,
            }
        )

    def per_group_dataframe(self) -> pd.DataFrame:
        """One row per group: kind, point group, events, rate, excursions, libration RMS."""
        return pd.DataFrame(
            {
                "kind": list(self.kinds),
                "point_group": list(self.point_groups),
                "events": self.events_per_group,
                "rate_per_ps": self.rates_per_group_per_ps,
                "excursions": self.n_excursions,
                "libration_rms_deg": self.libration_rms_deg,
            }
        )

    def plot(self, ax=None):
        """Event raster: group against crossing time, one marker per jump class; the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3))
        markers = "o^sDvP*X"
        for k, lab in enumerate(sorted(set(self.label))):
            sel = np.array([x == lab for x in self.label], dtype=bool)
            ax.scatter(self.time_ps[sel], self.group[sel], marker=markers[k % 8], s=18, label=lab)
        ax.set_xlim(0, self.duration_ps)
        ax.set_ylim(-0.5, self.n_groups - 0.5)
        ax.set_xlabel("time (ps)")
        ax.set_ylabel("group")
        ax.set_title(f"{self.n_events} reorientations", fontsize=9)
        if self.n_events:
            ax.legend(fontsize=7)
        return ax


def _check_angle(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ArgumentError(name, f"must be an angle in degrees, got {value!r}") from None
    if not 0 < v < 180:
        raise ArgumentError(name, f"must be between 0° and 180°, got {value!r}")
    return v


def rotation_events(
    orient: Orientations,
    theta_in_deg: float = THETA_IN_DEG,
    theta_out_deg: float = THETA_OUT_DEG,
) -> RotationEvents:
    """Reorientation events with hysteresis (θ_in to arrive, θ_out to leave; module doc).

    orient: from :func:`~lilib.rotations.orientation.track_orientations`. theta_in_deg must be
    below θ_out and below half the smallest angle between two states of every group.
    """
    if not isinstance(orient, Orientations):
        raise ArgumentError(
            "orient", f"expected Orientations (track_orientations), got {type(orient).__name__}"
        )
    t_in = _check_angle(theta_in_deg, "theta_in_deg")
    t_out = _check_angle(theta_out_deg, "theta_out_deg")
    if not t_in < t_out:
        raise ArgumentError(
            "theta_out_deg", f"must exceed theta_in_deg ({t_in:g}°) for hysteresis, got {t_out:g}°"
        )
    for g, pg in enumerate(orient.point_groups):
        if t_in >= pg.min_separation_deg / 2:
            raise ArgumentError(
                "theta_in_deg",
                f"{t_in:g}° is not below half the {pg.min_separation_deg:.0f}° between states of "
                f"group {g} ({orient.groups.kinds[g]}, point group {pg.name}): states would overlap",
            )
    sym, _ = orient.state_quaternions()
    nf, ng = orient.n_frames, orient.n_groups
    assigned = np.empty((nf, ng), dtype=np.int64)
    cos_assigned = np.empty((nf, ng))
    ev, ex = _kernels.hysteresis_states(
        orient.quaternions,
        sym,
        orient.nearest_state.astype(np.int64),
        np.cos(np.radians(orient.misorientation_deg.astype(np.float64)) / 2.0),
        float(np.cos(np.radians(t_in) / 2.0)),
        float(np.cos(np.radians(t_out) / 2.0)),
        assigned,
        cos_assigned,
    )
    order = np.lexsort((ev[:, 0], ev[:, 2]))
    ev = ev[order]
    n = ev.shape[0]
    element = np.zeros(n, dtype=np.int64)
    labels: list[str] = []
    angle = np.zeros(n)
    axis = np.zeros((n, 3))
    about = np.zeros(n, dtype=bool)
    for i, (g, _, _, _, old, new) in enumerate(ev):
        pg = orient.point_groups[g]
        h = quat_multiply(pg.quaternions[new], quat_conj(pg.quaternions[old]))
        k = int(np.argmax(np.abs(pg.quaternions @ h)))
        element[i] = k
        labels.append(pg.labels[k])
        angle[i] = pg.angles_deg[k]
        axis[i] = pg.axes[k]
        about[i] = bool(pg.through_ligand[k])
    lib = np.degrees(2.0 * np.arccos(np.clip(cos_assigned, 0.0, 1.0)))
    lib[assigned < 0] = np.nan
    return RotationEvents(
        group=ev[:, 0].copy(),
        frame=ev[:, 2].copy(),
        exit_frame=ev[:, 1].copy(),
        entry_frame=ev[:, 3].copy(),
        old_state=ev[:, 4].copy(),
        new_state=ev[:, 5].copy(),
        element=element,
        label=tuple(labels),
        angle_deg=angle,
        axis=axis,
        about_bond=about,
        kinds=tuple(orient.groups.kinds),
        point_groups=tuple(pg.name for pg in orient.point_groups),
        n_excursions=np.bincount(ex[:, 0], minlength=ng)
        if ex.size
        else np.zeros(ng, dtype=np.int64),
        state=assigned.astype(np.int16),
        libration_deg=lib.astype(np.float32),
        theta_in_deg=t_in,
        theta_out_deg=t_out,
        timestep_fs=orient.timestep_fs,
        n_frames=nf,
        temperature_K=orient.temperature_K,
    )


# ---------------------------------------------------------------------------- Arrhenius


@dataclass(frozen=True, eq=False)
class RotationArrhenius:
    """Rotation rate k = k0 exp(−E_a/k_B T) fitted as ln k against 1/(k_B T) (seed 000 eq. 36 form).

    ea_eV ± ea_stderr_eV; prefactor_per_ps = k0 ± prefactor_stderr_per_ps; rate_300K_per_ps ±
    rate_300K_stderr_per_ps: the extrapolation. fit: the underlying
    :class:`~lilib.md.transport.ArrheniusFit` (its ``*_cm2_s`` fields hold rates in 1/ps here).
    """

    ea_eV: float
    ea_stderr_eV: float
    prefactor_per_ps: float
    prefactor_stderr_per_ps: float
    rate_300K_per_ps: float
    rate_300K_stderr_per_ps: float
    temperatures_K: np.ndarray = field(repr=False)
    rates_per_ps: np.ndarray = field(repr=False)
    stderr_per_ps: np.ndarray | None = field(repr=False)
    fit: ArrheniusFit = field(repr=False)

    def predict(self, temperature_K: float | Sequence[float]):
        """Rate (1/ps) at the given temperature(s) and its standard error."""
        return self.fit.predict(temperature_K)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per temperature: T, rate ± error, fitted rate."""
        pred, _ = self.fit.predict(self.temperatures_K)
        return pd.DataFrame(
            {
                "temperature_K": self.temperatures_K,
                "inverse_T_1000_K": 1000.0 / self.temperatures_K,
                "rate_per_ps": self.rates_per_ps,
                "stderr_per_ps": self.stderr_per_ps if self.stderr_per_ps is not None else np.nan,
                "fit_rate_per_ps": pred,
            }
        )

    def plot(self, ax=None):
        """ln-scale rate against 1000/T with the fitted line; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4, 3))
        x = 1000.0 / self.temperatures_K
        ax.errorbar(x, self.rates_per_ps, yerr=self.stderr_per_ps, fmt="o", color="tab:red")
        xs = np.linspace(x.min(), x.max(), 50)
        ax.plot(xs, self.fit.predict(1000.0 / xs)[0], color="k", lw=1)
        ax.set_yscale("log")
        ax.set_xlabel("1000 / T (1/K)")
        ax.set_ylabel("rotation rate (1/ps)")
        ax.set_title(f"E_a = {self.ea_eV:.3f} ± {self.ea_stderr_eV:.3f} eV", fontsize=9)
        return ax


def rotation_arrhenius(
    temperatures_K: Sequence[float],
    rates: Sequence[float] | Sequence[RotationEvents],
    stderr_per_ps: Sequence[float] | None = None,
) -> RotationArrhenius:
    """Arrhenius fit of rotation rates (1/ps, or :class:`RotationEvents`) across temperatures.

    With RotationEvents their Poisson errors weight the fit. A temperature without events has
    no rate to take a log of: an ArgumentError names it (run longer or drop it).
    """
    items = list(rates)
    t = np.asarray(temperatures_K, dtype=float).ravel()
    if items and all(isinstance(r, RotationEvents) for r in items):
        empty = [float(ti) for ti, r in zip(t, items) if r.n_events == 0]
        if empty:
            raise ArgumentError(
                "rates",
                f"no rotation events at {empty} K: no rate to fit (run longer or drop them)",
            )
        values = np.array([r.rate_per_ps for r in items])
        if stderr_per_ps is None:
            stderr_per_ps = [r.rate_stderr_per_ps for r in items]
    else:
        try:
            values = np.asarray(items, dtype=float).ravel()
        except (TypeError, ValueError):
            raise ArgumentError("rates", "expected rates (1/ps) or RotationEvents") from None
    try:
        fit = arrhenius_fit(t, values, stderr_per_ps)
    except ArgumentError as exc:
        name = {"diffusivities": "rates", "stderr_cm2_s": "stderr_per_ps"}.get(exc.name, exc.name)
        raise ArgumentError(name, exc.reason.replace("cm²/s", "1/ps")) from None
    return RotationArrhenius(
        ea_eV=fit.ea_eV,
        ea_stderr_eV=fit.ea_stderr_eV,
        prefactor_per_ps=fit.prefactor_cm2_s,
        prefactor_stderr_per_ps=fit.prefactor_stderr_cm2_s,
        rate_300K_per_ps=fit.diffusivity_300K_cm2_s,
        rate_300K_stderr_per_ps=fit.diffusivity_300K_stderr_cm2_s,
        temperatures_K=fit.temperatures_K,
        rates_per_ps=fit.diffusivities_cm2_s,
        stderr_per_ps=fit.stderr_cm2_s,
        fit=fit,
    )
