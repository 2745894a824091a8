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


@pytest.fixture(scope="module")
def charge_explorer():
    from lilib.charges import Density, bader
    from widgets import ChargeExplorer

    atoms = bulk("LiF", "rocksalt", a=4.0)
    n = 24
    grid = np.stack(np.meshgrid(*(np.arange(n) / n,) * 3, indexing="ij"), axis=-1)
    rho = np.zeros((n, n, n))
    for q, s, f in zip((2.0, 10.0), (0.3, 0.4), atoms.get_scaled_positions()):
        d = grid - f
        d -= np.round(d)
        c = d @ atoms.cell.array
        rho += q * np.exp(-np.einsum("...i,...i", c, c) / (2 * s * s)) / (2 * np.pi * s * s) ** 1.5
    density = Density(atoms, rho)
    near = bader(density, valence={"Li": 2.0, "F": 10.0})
    weight = bader(density, method="weight")  # no valence: shown as electrons
    return ChargeExplorer(density, {"Bader": near, "weight": weight}, hkl=(1, 1, 0))


def test_charge_explorer_state(charge_explorer):
    ex = charge_explorer
    assert ex.scheme.options == ("Bader", "weight")
    np.testing.assert_allclose(ex.current_charges, ex.results["Bader"].net_charges)
    assert ex.structure_view.colormap.label == "Bader charge (e)"
    df = ex.dataframe()
    assert list(df.columns) == ["element", "Bader charge (e)", "Bader volume (Å³)",
                                "weight electrons (e)", "weight volume (Å³)"]  # fmt: skip
    assert "lilib-charge-table" in ex.table.value and "#fff3b0" in ex.table.value
    assert ex.plane is not None and ex.plane.hkl == (1, 1, 0)
    assert (ex.plane.labels == 0).any()  # the selected atom's basin crosses the cut


def test_charge_explorer_reacts_to_controls(charge_explorer):
    ex = charge_explorer
    ex.scheme.value = "weight"
    np.testing.assert_allclose(ex.current_charges, ex.results["weight"].electrons)
    assert ex.structure_view.colormap.label == "weight electrons (e)"
    ex.atom.value = 1
    np.testing.assert_allclose(ex.plane.origin, ex.density.atoms.positions[1])
    ex.through_atom.value = False
    assert not ex.position.disabled
    ex.l.value = 1
    assert ex.plane.hkl == (1, 1, 1)


def test_charge_explorer_rejects_bad_results(lif):
    from lilib.charges import Density
    from widgets import ChargeExplorer

    density = Density(lif, np.ones((4, 4, 4)))
    with pytest.raises(ArgumentError, match="results"):
        ChargeExplorer(density, {})
    with pytest.raises(ArgumentError, match="values for"):
        ChargeExplorer(density, {"x": type("R", (), {"charges": [1.0]})()})
