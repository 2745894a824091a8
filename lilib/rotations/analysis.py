"""One entry point: groups → orientations → events → autocorrelations → coupling to ion hops."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lilib.errors import ArgumentError
from lilib.md.trajectory import Trajectory
from lilib.rotations.correlation import BondACF, bond_acf
from lilib.rotations.coupling import CouplingResult, HopEvents, detect_hops, hop_rotation_coupling
from lilib.rotations.events import THETA_IN_DEG, THETA_OUT_DEG, RotationEvents, rotation_events
from lilib.rotations.groups import PolyanionGroups, find_groups
from lilib.rotations.orientation import Orientations, track_orientations

__all__ = ["RotationAnalysis", "rotation_analysis"]


@dataclass(frozen=True, eq=False)
class RotationAnalysis:
    """Everything :func:`rotation_analysis` computed for one trajectory.

    groups, orientations, events, acf (:class:`BondACF`, None if ``acf=False``); ``traj`` is
    kept (not copied) so that :meth:`coupling` can find hops.
    """

    traj: Trajectory = field(repr=False)
    groups: PolyanionGroups
    orientations: Orientations = field(repr=False)
    events: RotationEvents
    acf: BondACF | None = field(repr=False)

    def hops(self, species: str = "Li", **kw: Any) -> HopEvents:
        """Hops of the mobile ions (:func:`~lilib.rotations.coupling.detect_hops`)."""
        return detect_hops(self.traj, species, **kw)

    def coupling(
        self, species: str = "Li", hops: HopEvents | None = None, **kw: Any
    ) -> CouplingResult:
        """Hop–rotation coupling (:func:`~lilib.rotations.coupling.hop_rotation_coupling`).

        hops: precomputed hops, else detected for ``species`` with default settings.
        """
        if hops is None:
            hops = self.hops(species)
        return hop_rotation_coupling(self.traj, self.events, hops, self.groups, **kw)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per group: kind, point group, events, rate, libration, excursions."""
        df = self.orientations.to_dataframe()
        per = self.events.per_group_dataframe()
        df["events"] = per["events"]
        df["rate_per_ps"] = per["rate_per_ps"]
        df["excursions"] = per["excursions"]
        return df

    def summary(self) -> dict[str, Any]:
        """Headline numbers as a flat dict."""
        out: dict[str, Any] = {
            "groups": self.groups.counts,
            "point_groups": sorted({pg.name for pg in self.orientations.point_groups}),
            "n_events": self.events.n_events,
            "rate_per_ps": self.events.rate_per_ps,
            "rate_stderr_per_ps": self.events.rate_stderr_per_ps,
            "classes": self.events.class_counts,
            "libration_rms_deg": float(self.orientations.libration_rms_deg.mean()),
            "duration_ps": self.events.duration_ps,
        }
        if self.acf is not None:
            out["C2_end"] = float(self.acf.c2[-1])
            out["C2_fit"] = str(self.acf.fits[2])
        return out

    def plot(self, ax=None):
        """Event raster (see :meth:`RotationEvents.plot`); returns the Axes."""
        return self.events.plot(ax=ax)


def rotation_analysis(
    traj: Trajectory,
    centres: str | Sequence[str] | None = None,
    ligands: str | Sequence[str] | None = None,
    *,
    theta_in_deg: float = THETA_IN_DEG,
    theta_out_deg: float = THETA_OUT_DEG,
    symprec: float = 0.15,
    acf: bool = True,
    seed: int = 0,
    **group_kw: Any,
) -> RotationAnalysis:
    """Find groups, track orientations, detect reorientations, compute C1/C2 (one call).

    centres/ligands and ``group_kw``: passed to :func:`~lilib.rotations.groups.find_groups`.
    theta_in_deg/theta_out_deg: hysteresis of :func:`~lilib.rotations.events.rotation_events`.
    symprec: point-group tolerance. acf: also compute :func:`~lilib.rotations.correlation.
    bond_acf` (seeded bootstrap).
    """
    if not isinstance(traj, Trajectory):
        raise ArgumentError("traj", f"expected a lilib.md.Trajectory, got {type(traj).__name__}")
    groups = find_groups(traj, centres, ligands, **group_kw)
    orient = track_orientations(traj, groups, symprec=symprec)
    events = rotation_events(orient, theta_in_deg, theta_out_deg)
    c = bond_acf(traj, groups, seed=seed) if acf else None
    return RotationAnalysis(traj=traj, groups=groups, orientations=orient, events=events, acf=c)
