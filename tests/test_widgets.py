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


# ---------------------------------------------------------------- PhononExplorer


@pytest.fixture(scope="module")
def phonon_explorer():
    from test_phonon_descriptors import _rocksalt_springs

    from lilib.phonons import lattice_dynamics
    from widgets import PhononExplorer

    stiff = lattice_dynamics(_rocksalt_springs(), label="stiff")
    soft = lattice_dynamics(_rocksalt_springs(k1=1.0), label="soft")  # softer Li–F springs
    return PhononExplorer({"stiff": stiff, "soft": soft}, temperature_K=300.0)


def test_phonon_explorer_state(phonon_explorer):
    ex = phonon_explorer
    assert ex.material.options == ("stiff", "soft") and ex.material.value == "stiff"
    ld = ex.current
    assert ex.temperature.value == 300.0
    assert ex.current_msd_A2 == pytest.approx(ld.mobile_msd_A2, rel=1e-12)  # its own T
    assert ex.markers == {"Li": ld.mobile_band_centre_THz, "F": ld.anion_band_centre_THz}
    assert f"{ld.mobile_msd_A2:.4f} Å²" in ex.msd_label.value
    df = ex.dataframe()
    assert list(df.index) == ["stiff", "soft"]
    assert df.loc["soft", "mobile band centre (THz)"] < df.loc["stiff", "mobile band centre (THz)"]
    assert (
        df.loc["soft", "mobile ⟨u²⟩ at 300 K (Å²)"] > df.loc["stiff", "mobile ⟨u²⟩ at 300 K (Å²)"]
    )
    assert "lilib-phonon-table" in ex.table.value and "#fff3b0" in ex.table.value
    assert ex.dos_labels == ["Li pDOS", "F pDOS", f"Li centre {ld.mobile_band_centre_THz:.2f} THz",
                             f"F centre {ld.anion_band_centre_THz:.2f} THz"]  # fmt: skip


def test_phonon_explorer_reacts_to_controls(phonon_explorer):
    from lilib.phonons import mobile_msd_A2

    ex = phonon_explorer
    ex.material.value = "soft"
    assert ex.markers["Li"] == ex.results["soft"].mobile_band_centre_THz
    assert "<th>soft</th>" in ex.table.value.split("#fff3b0")[1][:80]
    ex.temperature.value = 800.0
    expected = mobile_msd_A2(ex.results["soft"], 800.0)
    assert ex.current_msd_A2 == pytest.approx(expected, rel=1e-12)
    assert ex.msd_A2["stiff"] == pytest.approx(mobile_msd_A2(ex.results["stiff"], 800.0))
    assert "800 K" in ex.msd_label.value and "mobile ⟨u²⟩ at 800 K (Å²)" in ex.dataframe()
    temps, msd = ex.msd_curve("soft")
    assert temps[0] == 0.0 and temps[-1] == 1000.0 and np.all(np.diff(msd) > 0)


def test_phonon_explorer_takes_plain_curves(phonon_explorer):
    from widgets import PhononExplorer

    ld = phonon_explorer.results["stiff"]
    curves = {k: getattr(ld, k) for k in ("dos_frequencies_THz", "pdos_per_THz", "mobile_element",
              "anion_element", "band_centres_THz", "dos_sigma_THz", "temperature_K",
              "mobile_msd_A2", "mobile_band_centre_THz")}  # fmt: skip
    ex = PhononExplorer({"curves": curves}, temperature_K=300.0)
    assert ex.current_msd_A2 == pytest.approx(ld.mobile_msd_A2, rel=1e-12)
    assert np.isnan(ex.dataframe().loc["curves", "Debye θ_D (K)"])


def test_phonon_explorer_rejects_bad_input(phonon_explorer):
    from widgets import PhononExplorer

    ld = phonon_explorer.results["stiff"]
    with pytest.raises(ArgumentError, match="results"):
        PhononExplorer({})
    with pytest.raises(ArgumentError, match="lacks"):
        PhononExplorer({"x": {"mobile_element": "Li"}})
    with pytest.raises(ArgumentError, match="temperature_K"):
        PhononExplorer({"x": ld}, temperature_K=2000.0)
    with pytest.raises(ArgumentError, match="selected"):
        PhononExplorer({"x": ld}, selected="y")


def test_phonon_explorer_on_shipped_curves_and_lattice_dynamics():
    from lilib.phonons import load_descriptor_curves, load_lattice_dynamics, mobile_msd_A2
    from widgets import PhononExplorer

    curves, ld = load_descriptor_curves("LiF"), load_lattice_dynamics("LiF")
    ex = PhononExplorer({"curves": curves, "full": ld}, temperature_K=500.0)
    assert ex.markers == {"Li": curves.band_centres_THz["Li"], "F": curves.band_centres_THz["F"]}
    assert ex.current_msd_A2 == pytest.approx(mobile_msd_A2(curves, 500.0, anchored=False))
    assert ex.msd_A2["full"] == pytest.approx(mobile_msd_A2(ld, 500.0))
    df = ex.dataframe()
    assert np.isnan(df.loc["curves", "Debye θ_D (K)"]) and df.loc["full", "Debye θ_D (K)"] > 0
