"""RotationExplorer without a browser: states per frame, hopping ions, redraw on the slider."""

from __future__ import annotations

import numpy as np
import pytest
from test_rotation_coupling import scenario

from lilib.errors import ArgumentError
from lilib.rotations import rotation_analysis
from widgets import RotationExplorer


@pytest.fixture(scope="module")
def explorer():
    traj, truth = scenario(coupled=True)
    return RotationExplorer(rotation_analysis(traj, "P", "S", acf=False)), truth


def test_states_hops_and_redraw(explorer):
    ex, _ = explorer
    ana = ex.analysis
    assert ex.frame == 0 and ex.structure_view is not None
    first_event = int(np.min(ana.events.frame))
    g = int(np.asarray(ana.events.group)[np.argmin(ana.events.frame)])
    before = ex.states(max(first_event - 5, 0))[g]
    ex.slider.value = min(first_event + 5, ana.traj.n_frames - 1)
    assert ex.states()[g] != before  # the group moved to another state
    values = ex.atom_values()
    centre = int(ana.groups.centres[g])
    assert values[centre] == ex.states()[g]
    hop_frame = int(ex.hops.frame[0])
    ex.slider.value = hop_frame
    assert int(ex.hops.ion[0]) in ex.hopping_ions()
    assert ex.atom_values()[int(ex.hops.ion[0])] == -1
    assert ex.plot_out.outputs and "events in the run" in ex.info.value
    assert len(ex.events_dataframe()) == len(ana.events.frame)


def test_bad_input():
    with pytest.raises(ArgumentError, match="analysis"):
        RotationExplorer(object())
