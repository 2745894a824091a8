"""`RotationExplorer`: polyanion orientation states and mobile-ion hops, frame by frame."""

from __future__ import annotations

from typing import Any

import ipywidgets as ipw
import numpy as np
import pandas as pd

from lilib.errors import ArgumentError
from widgets.gb_explorer import _show
from widgets.structure_view import StructureView, show_structure

__all__ = ["RotationExplorer"]

_HOP = -1.0  # colour value of an ion hopping near the shown frame
_OTHER = np.nan


class RotationExplorer(ipw.VBox):
    """Frame slider over a :class:`lilib.rotations.RotationAnalysis`.

    The 3D view colours every atom of a polyanion by the orientation state its group holds at
    that frame (the hysteresis state of :func:`lilib.rotations.rotation_events`), and mobile ions
    that hop within ``hop_window_ps`` of the frame in a separate colour; other atoms are grey.
    Below: misorientation from the nearest state against time for the groups that reorient
    (all groups if none does), the events as markers and the current frame as a line, and the
    event table. ``hops``: a :class:`lilib.rotations.HopEvents` (default: detected for
    ``species`` with the default settings).
    """

    def __init__(
        self,
        analysis: Any,
        hops: Any = None,
        *,
        species: str = "Li",
        hop_window_ps: float = 0.5,
        max_groups_plotted: int = 8,
    ) -> None:
        for name in ("traj", "groups", "orientations", "events"):
            if not hasattr(analysis, name):
                raise ArgumentError(
                    "analysis", "expected a lilib.rotations.RotationAnalysis (rotation_analysis)"
                )
        if not hop_window_ps > 0:
            raise ArgumentError("hop_window_ps", f"must be > 0, got {hop_window_ps!r}")
        self.analysis = analysis
        self.traj = analysis.traj
        self.hops = hops if hops is not None else analysis.hops(species)
        self.hop_window_frames = max(1, round(1000.0 * hop_window_ps / self.traj.timestep_fs))
        self._atom_group = self._group_of_atoms()
        events = analysis.events
        moving = np.unique(np.asarray(events.group, dtype=int))
        pool = moving if moving.size else np.arange(len(analysis.groups.centres))
        self.plotted_groups = pool[:max_groups_plotted]
        self.slider = ipw.IntSlider(
            value=0, min=0, max=self.traj.n_frames - 1, description="frame",
            continuous_update=False, layout=ipw.Layout(width="60%"),
        )  # fmt: skip
        self.info = ipw.HTML()
        self.view_box = ipw.VBox(
            layout=ipw.Layout(width="100%")
        )  # a bare Box collapses the 3D view to 1 px
        self.plot_out = ipw.Output()
        self.table = ipw.HTML(self.events_dataframe().to_html(index=False, max_rows=30))
        self.structure_view: StructureView | None = None
        self.slider.observe(lambda _: self._update(), names="value")
        super().__init__([self.slider, self.info, self.view_box, self.plot_out, self.table])
        self._update()

    # ------------------------------------------------------------------ state

    def _group_of_atoms(self) -> np.ndarray:
        groups = self.analysis.groups
        owner = np.full(self.traj.n_atoms, -1)
        for g, (centre, members, n) in enumerate(
            zip(groups.centres, groups.members, groups.n_ligands)
        ):
            if centre >= 0:
                owner[centre] = g
            owner[np.asarray(members[:n], dtype=int)] = g
        return owner

    @property
    def frame(self) -> int:
        """The frame shown."""
        return int(self.slider.value)

    def states(self, frame: int | None = None) -> np.ndarray:
        """Orientation state of every group at ``frame`` (−1: between states)."""
        f = self.frame if frame is None else int(frame)
        return np.asarray(self.analysis.events.state[f], dtype=int)

    def hopping_ions(self, frame: int | None = None) -> np.ndarray:
        """Indices of the mobile ions whose hop lies within the window around ``frame``."""
        f = self.frame if frame is None else int(frame)
        near = np.abs(np.asarray(self.hops.frame) - f) <= self.hop_window_frames
        return np.unique(np.asarray(self.hops.ion)[near]).astype(int)

    def atom_values(self, frame: int | None = None) -> np.ndarray:
        """Colour value per atom: the group's state, −1 for hopping ions, NaN otherwise."""
        states = self.states(frame)
        values = np.full(self.traj.n_atoms, _OTHER)
        owned = self._atom_group >= 0
        values[owned] = states[self._atom_group[owned]]
        values[self.hopping_ions(frame)] = _HOP
        return values

    def events_dataframe(self) -> pd.DataFrame:
        """The reorientation events (time, group, old → new state, class, angle)."""
        return self.analysis.events.to_dataframe()

    # ------------------------------------------------------------------ drawing

    def _update(self) -> None:
        f = self.frame
        values = self.atom_values(f)
        shown = np.where(np.isnan(values), -2.0, values)  # grey end of the map for the rest
        atoms = self.traj.to_atoms(f, wrap=True)
        n_states = int(max(1, np.nanmax(np.where(values >= 0, values, 0)) + 1))
        self.structure_view = show_structure(
            atoms, shown, label="orientation state (−1 hopping ion, −2 other)", cmap="turbo",
            vmin=-2.0, vmax=float(max(n_states - 1, 1)), height="360px",
        )  # fmt: skip
        self.view_box.children = [self.structure_view]
        n_between = int(np.sum(self.states(f) < 0))
        self.info.value = (
            f"t = {f * self.traj.timestep_fs / 1000:.2f} ps · {len(self.states(f))} groups "
            f"({n_between} between states) · {self.hopping_ions(f).size} ions hopping within "
            f"±{self.hop_window_frames} frames · {len(self.events_dataframe())} events in the run"
        )
        self._draw(f)

    def _draw(self, frame: int) -> None:
        import matplotlib.pyplot as plt

        orient, events = self.analysis.orientations, self.analysis.events
        t_ps = np.arange(self.traj.n_frames) * self.traj.timestep_fs / 1000
        fig, ax = plt.subplots(figsize=(7, 2.6))
        for g in self.plotted_groups:
            line = ax.plot(t_ps, orient.misorientation_deg[:, g], lw=0.8, label=f"group {g}")
            mine = np.asarray(events.group) == g
            ev = np.asarray(events.frame)[mine]
            ax.plot(t_ps[ev], orient.misorientation_deg[ev, g], "o", color=line[0].get_color())
        ax.axvline(t_ps[frame], color="k", lw=1)
        ax.set_xlabel("time (ps)")
        ax.set_ylabel("misorientation (°)")
        ax.legend(fontsize=7, ncol=4, frameon=False)
        fig.tight_layout()
        _show(self.plot_out, fig)
