"""Python-side state of widgets.show_structure (what is sent to the browser); rendering: tests/browser."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

from lilib.errors import ArgumentError
from widgets import StructureView, show_structure
from widgets.colors import element_colors, value_colors


@pytest.fixture
def lif():
    return bulk("LiF", "rocksalt", a=4.03, cubic=True)


def _representations(view):
    """(type, selection, color) of every representation queued for the frontend."""
    reps = []
    for msg in view.view._ngl_msg_archive:
        if msg.get("methodName") == "addRepresentation":
            kind, params = msg["args"][0], msg["kwargs"]
            reps.append((kind, params.get("sele"), params.get("color")))
    return reps


def test_element_colours_and_legend(lif):
    view = show_structure(lif)
    assert isinstance(view, StructureView) and view.n_atoms == 8 and view.n_frames == 1
    li, f = view.colors[0], view.colors[1]
    assert li != f and set(view.colors) == {li, f}
    assert "Li" in view.legend.value and "F" in view.legend.value
    assert view.legend.value.count("border-radius") == 2  # one swatch per element


def test_every_atom_drawn_once_in_its_colour(lif):
    view = show_structure(lif, color_by=np.arange(8.0), label="index")
    reps = [r for r in _representations(view) if r[0] == "ball+stick"]
    drawn = {}
    for _, sele, color in reps:
        for i in sele.lstrip("@").split(","):
            assert int(i) not in drawn
            drawn[int(i)] = color
    assert drawn == dict(enumerate(view.colors))


def test_unit_cell_drawn_unless_disabled(lif):
    assert any(r[0] == "unitcell" for r in _representations(show_structure(lif)))
    assert not any(
        r[0] == "unitcell" for r in _representations(show_structure(lif, unit_cell=False))
    )


def test_values_map_onto_colormap_with_legend_range(lif):
    q = np.array([0.9, -0.9] * 4)
    view = show_structure(lif, color_by=q, label="Bader charge (e)")
    assert view.colors[0] == view.colors[2] != view.colors[1]
    cm = view.colormap
    assert (cm.vmin, cm.vmax) == (-0.9, 0.9)
    assert "Bader charge (e)" in view.legend.value
    assert "-0.9" in view.legend.value and "0.9" in view.legend.value
    assert "linear-gradient" in view.legend.value


def test_color_by_named_array_and_explicit_range(lif):
    lif.set_array("charges", np.array([1.0, -1.0] * 4))
    view = show_structure(lif, color_by="charges", vmin=-2, vmax=2)
    assert view.colormap.label == "charges" and (view.colormap.vmin, view.colormap.vmax) == (-2, 2)


def test_trajectory_is_playable(lif):
    frames = []
    for shift in np.linspace(0, 0.3, 4):
        frame = lif.copy()
        frame.positions[0, 0] += shift
        frames.append(frame)
    view = show_structure(frames)
    assert view.n_frames == 4 and view.view.max_frame == 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"color_by": [1.0, 2.0]}, "2 values for 8 atoms"),
        ({"color_by": "charges"}, "no per-atom array 'charges'"),
        ({"color_by": [np.nan] * 8}, "NaN"),
        ({"color_by": [0.0] * 8, "cmap": "nope"}, "colormap"),
        ({"representation": "cartoon"}, "representation"),
    ],
)
def test_bad_arguments_name_the_argument(lif, kwargs, match):
    with pytest.raises(ArgumentError, match=match):
        show_structure(lif, **kwargs)


def test_frames_with_other_atoms_rejected(lif):
    with pytest.raises(ArgumentError, match="frame 1"):
        show_structure([lif, lif[:-1]])


def test_constant_field_still_gets_a_colour():
    cm = value_colors([2.0, 2.0], "same")
    assert cm.vmin < 2.0 < cm.vmax and cm.colors[0] == cm.colors[1]


def test_element_palette_is_deterministic():
    assert element_colors(["Li", "O"]).colors == element_colors(["Li", "O"]).colors
