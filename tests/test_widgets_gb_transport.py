"""Python-side state of widgets.GBExplorer and widgets.TransportDashboard (no browser).

User actions are simulated by setting the controls' values; every number the widgets show is
compared with a direct call of the lilib function behind it.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from lilib.errors import ArgumentError
from lilib.gb import GBModel, brick_layer, build_gb, harrison_regimes
from lilib.gb.transport import gb_profile
from lilib.md import Trajectory, arrhenius_fit, transport
from lilib.md.transport import charge_diffusivity, haven_ratio, tracer_diffusivity
from widgets.gb_explorer import GBExplorer, buildable_materials, candidate_planes
from widgets.structure_view import StructureView
from widgets.transport_dashboard import TransportDashboard

KB_EV = 8.617333262e-5
PLANES = (7.5, 22.5)


def _drawn(out) -> bool:
    """An Output holds a PNG image."""
    return len(out.outputs) == 1 and "image/png" in out.outputs[0]["data"]


# ---------------------------------------------------------------- GBExplorer


def _profile(d_par_A2_frame: float, temperature_K: float, seed: int):
    """D(z) of an isotropic random walk of 60 Li in a 20 × 20 × 30 Å cell (two GB planes)."""
    rng = np.random.default_rng(seed)
    start = rng.random((60, 3)) * np.array([20.0, 20.0, 30.0])
    steps = rng.normal(scale=np.sqrt(2 * d_par_A2_frame), size=(400, 60, 3))
    pos = start + np.cumsum(steps, axis=0)
    traj = Trajectory(pos, np.diag([20.0, 20.0, 30.0]), ["Li"] * 60, 1000.0,
                      temperature_K=temperature_K, unwrapped=True)  # fmt: skip
    return gb_profile(traj, PLANES, "Li", lag_frames=1, bin_width_A=2.5, hop_threshold_A=0.3,
                      min_hops=0, n_blocks=4)  # fmt: skip


@pytest.fixture(scope="module")
def profiles():
    return [_profile(0.002, 600.0, 1), _profile(0.006, 800.0, 2)]


@pytest.fixture(scope="module")
def gb(profiles):
    return GBExplorer(["LiF", "Li2O"], plane=(3, 1, 0), max_index=1, profiles=profiles)


def test_candidate_planes_and_materials():
    tilt = candidate_planes((0, 0, 1), "tilt", 3)
    assert (3, 1, 0) in tilt and (3, -1, 0) in tilt and len(tilt) == 16
    assert all(p[2] == 0 for p in tilt)  # every tilt plane contains [001]
    assert candidate_planes((1, 1, 1), "twist", 3)[0] == (1, 1, 1)
    names = buildable_materials()
    assert "LiF" in names and "Li2O" in names
    assert "Li10GeP2S12" not in names  # its ordered approximant is monoclinic: no CSL


def test_gb_explorer_builds_the_requested_bicrystal(gb):
    assert gb.selection == {"material": "LiF", "axis": (0, 0, 1), "sigma": 5,
                            "plane": (3, 1, 0), "kind": "tilt"}  # fmt: skip
    m = gb.model
    ref = build_gb("LiF", (0, 0, 1), 5, (3, 1, 0))
    assert isinstance(m, GBModel) and m.n_atoms == ref.n_atoms == 56
    np.testing.assert_allclose(m.atoms.positions, ref.atoms.positions)
    assert m.composition == {"F": 28, "Li": 28} and len(m.removed) == 4
    # the 3D view: every atom, coloured by its grain
    view = gb.structure_view
    assert isinstance(view, StructureView) and gb.view_box.children == (view,)
    assert view.n_atoms == 56 and view.colormap.label.startswith("grain")
    colors = np.array(view.colors)
    assert len(set(colors[m.grain == 0])) == 1 and len(set(colors[m.grain == 1])) == 1
    assert colors[m.grain == 0][0] != colors[m.grain == 1][0]
    # GB planes named in the title, summary table from the model
    for z in m.gb_positions_A:
        assert f"{z:.2f}" in gb.title.value
    df = gb.dataframe()
    assert df.loc["atoms", "value"].startswith("56")
    assert df.loc["composition", "value"].startswith("F28Li28")
    assert df.loc["removed atoms", "value"] == "4 (F2 Li2)"
    assert df.loc["min distance (Å)", "value"].startswith(f"{m.min_distance_A:.3f}")
    assert "lilib-gb-table" in gb.table.value and "whole formula units" in gb.table.value
    assert gb.error.layout.display == "none" and gb.error.value == ""
    # planes offered: each built, labelled with its size, smallest first
    sizes = [gb.planes[p].n_atoms for _, p in gb.plane.options]
    assert sizes == sorted(sizes) and (3, 1, 0) in gb.planes
    assert _drawn(gb.side_view)


def test_gb_explorer_dz_panel(gb, profiles):
    assert set(gb.profiles) == {"600 K", "800 K"}
    assert set(gb.dz_curves) == {"600 K parallel", "600 K perp", "800 K parallel", "800 K perp"}
    x, d, err = gb.dz_curves["800 K parallel"]
    np.testing.assert_array_equal(x, profiles[1].centres_A)
    np.testing.assert_array_equal(d, profiles[1].D_parallel_cm2_s)
    np.testing.assert_array_equal(err, profiles[1].D_parallel_stderr_cm2_s)
    assert _drawn(gb.dz_plot)
    gb.component.value = "perp"
    assert set(gb.dz_curves) == {"600 K perp", "800 K perp"}
    gb.component.value = "both"


def test_gb_explorer_reacts_to_sigma_plane_and_colour(gb):
    first = gb.model
    gb.sigma.value = 13
    assert gb.model is not first and gb.model.sigma == 13
    assert gb.model.plane == gb.plane.value
    assert "Σ13" in gb.title.value and gb.dataframe().loc["GB", "value"].startswith("Σ13")
    assert gb.structure_view.n_atoms == gb.model.n_atoms
    # (310) builds for Σ13 but with 612 atoms, over max_atoms: listed as not offered
    assert "612 atoms > max_atoms" in gb.unavailable[(3, 1, 0)]
    other = next(p for _, p in gb.plane.options if p != gb.plane.value)
    gb.plane.value = other
    assert gb.model.plane == other
    assert gb.model.n_atoms == build_gb("LiF", (0, 0, 1), 13, other).n_atoms
    gb.color_by.value = "element"
    assert gb.structure_view.colormap.label == "element"
    gb.color_by.value = "grain"
    gb.select(material="LiF", axis=(0, 0, 1), sigma=5, plane=(3, 1, 0), kind="tilt")
    assert gb.selection["plane"] == (3, 1, 0) and gb.model.n_atoms == 56


def test_gb_explorer_shows_error_for_invalid_combination(gb):
    gb.select(material="Li2O", axis=(1, 1, 1), kind="twist")
    assert gb.model is None and gb.structure_view is None and gb.view_box.children == ()
    assert gb.error.layout.display == ""
    assert "No plane to offer for Li2O Σ3 [111] twist" in gb.error.value
    assert "min_distance_A" in gb.error.value  # lilib's reason, not a traceback
    assert "Traceback" not in gb.error.value and gb.dataframe().empty
    gb.kind.value = "tilt"  # Σ3 [111] tilts of Li2O build
    assert isinstance(gb.model, GBModel) and gb.model.source == "Li2O"
    assert gb.error.layout.display == "none"
    gb.select(material="LiF", axis=(0, 0, 1), sigma=5, plane=(3, 1, 0), kind="tilt")


def test_gb_explorer_polycrystal_sliders(gb):
    d_grid = gb.brick.d_nm
    ref = brick_layer(1.0, 1e-3, d_grid, 1.0)
    np.testing.assert_allclose(gb.brick.sigma_total_mS_cm, ref.sigma_total_mS_cm)
    assert gb.brick_at_d.d_nm.tolist() == [500.0]
    assert _drawn(gb.brick_plot) and _drawn(gb.harrison_plot)
    before = float(gb.brick_at_d.sigma_total_mS_cm[0])
    gb.sigma_gb_ratio.value = 1e-1  # less blocking GBs: higher total σ
    assert float(gb.brick_at_d.sigma_total_mS_cm[0]) > before
    ref = brick_layer(1.0, 1e-1, [500.0], 1.0)
    assert float(gb.brick_at_d.sigma_total_mS_cm[0]) == pytest.approx(ref.sigma_total_mS_cm[0])
    regimes = {}
    for t in (1e-5, 1e3, 1e8):
        gb.time.value = t
        expected = harrison_regimes(500.0, 1.0, 1e-9, 1e-12, gb.time.value).regime.ravel()[0]
        assert gb.regime == expected and f"regime <b>{expected}</b>" in gb.poly_label.value
        regimes[t] = gb.regime
    assert regimes == {1e-5: "C", 1e3: "B", 1e8: "A"}


def test_gb_explorer_without_profiles_and_bad_input():
    ex = GBExplorer(["LiF"], plane=(3, 1, 0), max_index=1)
    assert "No D(z) profile given" in ex.dz_note.value and ex.dz_plot.outputs == ()
    assert ex.component.layout.display == "none" and ex.model.n_atoms == 56
    # a Σ that does not exist about the axis: lilib's message, the smallest Σ shown instead
    ex = GBExplorer(["LiF"], axis=(1, 1, 0), sigma=5, max_index=1, probe_budget_s=0.0)
    assert "Σ5 does not exist" in ex.error.value and ex.sigma.value == 3
    # no time left after the first build: the other candidates are listed, not built
    assert len(ex.planes) == 1 and ex.model is not None
    assert all("not tried" in why for why in ex.unavailable.values())
    assert len(ex.unavailable) == len(candidate_planes((1, 1, 0), "tilt", 1)) - 1
    with pytest.raises(ArgumentError, match="material"):
        GBExplorer(["LiF"], material="NaCl")
    with pytest.raises(ArgumentError, match="axis"):
        GBExplorer(["LiF"], axis=(2, 1, 0))
    with pytest.raises(ArgumentError, match="profiles"):
        GBExplorer(["LiF"], max_index=1, profiles=[1.0])


# ---------------------------------------------------------------- TransportDashboard


def _walk(d_cm2_s: float = 5e-6, temperature_K: float = 600.0, seed: int = 0) -> Trajectory:
    """24 Li on an isotropic random walk (D per axis given) and 8 fixed F; 300 frames of 100 fs."""
    rng = np.random.default_rng(seed)
    step = np.sqrt(2 * d_cm2_s * 1e4 * 0.1)  # Å per axis per frame: D in Å²/ps × 0.1 ps
    li = rng.random((24, 3)) * 12 + np.cumsum(rng.normal(scale=step, size=(300, 24, 3)), axis=0)
    f = np.broadcast_to(rng.random((8, 3)) * 12, (300, 8, 3))
    return Trajectory(np.concatenate([li, f], axis=1), np.eye(3) * 12.0, ["Li"] * 24 + ["F"] * 8,
                      100.0, temperature_K=temperature_K, unwrapped=True)  # fmt: skip


@pytest.fixture(scope="module")
def walk():
    return _walk()


def test_dashboard_from_trajectory(walk):
    db = TransportDashboard(walk, "Li")
    ref = transport(walk, "Li")
    r = db.current
    assert r.tracer.value_cm2_s == pytest.approx(ref.tracer.value_cm2_s, rel=1e-12)
    assert r.charge.value_cm2_s == pytest.approx(ref.charge.value_cm2_s, rel=1e-12)
    assert r.tracer.value_cm2_s == pytest.approx(5e-6, rel=0.4)  # the walk's D, loosely
    assert db.fit_window == (0.1, 0.5) and db.msd.n_ions == 24
    assert f"{r.tracer.value_cm2_s:.3g} ± {r.tracer.stderr_cm2_s:.2g}" in db.table.value
    assert f"{r.conductivity.value_mS_cm:.3g}" in db.table.value
    assert f"{r.tracer.fit_window_ps[0]:.3g}–{r.tracer.fit_window_ps[1]:.3g} ps" in (
        db.window_label.value
    )
    assert _drawn(db.msd_plot) and db.arrhenius is None
    assert db.run.layout.display == "none"  # one run: no run selector
    assert db.arrhenius_plot not in db.children  # no Arrhenius panel for one temperature


def test_dashboard_fit_window_refits_the_stored_msd(walk):
    db = TransportDashboard(walk)
    msd, d_before = db.msd, db.current.tracer.value_cm2_s
    db.window.value = (0.05, 0.3)
    r = db.current
    assert db.msd is msd  # the MSD is not recomputed
    assert r.tracer.value_cm2_s != d_before
    ref = tracer_diffusivity(msd, fit_window=(0.05, 0.3))
    assert r.tracer.value_cm2_s == ref.value_cm2_s and r.tracer.stderr_cm2_s == ref.stderr_cm2_s
    chg = charge_diffusivity(msd, fit_window=(0.05, 0.3))
    assert r.charge.value_cm2_s == chg.value_cm2_s
    if chg.value_cm2_s > 0:
        assert r.haven_ratio == pytest.approx(haven_ratio(ref, chg)[0])
    assert f"{r.tracer.value_cm2_s:.3g}" in db.table.value
    assert f"{r.tracer.fit_window_ps[1]:.3g} ps" in db.window_label.value
    # a window lilib refuses: its message shown, the last fit kept
    db.window.value = (0.5, 0.505)
    assert db.error.layout.display == "" and "at least 3" in db.error.value
    assert db.current is r
    db.window.value = (0.1, 0.5)
    assert db.error.layout.display == "none"
    db.scale.value = "log"
    db.components.value = True
    assert _drawn(db.msd_plot)


def test_dashboard_from_precomputed_result(walk):
    res = transport(walk, "Li", fit_window=(0.2, 0.6))
    db = TransportDashboard(res)
    assert db.current is res and db.fit_window == (0.2, 0.6)
    db2 = TransportDashboard(res, fit_window=(0.1, 0.4))
    ref = tracer_diffusivity(res.msd, fit_window=(0.1, 0.4))
    assert db2.current.tracer.value_cm2_s == ref.value_cm2_s and db2.msd is res.msd
    # a temperature given for a result: refitted, σ follows (Nernst–Einstein σ ∝ D/T)
    db3 = TransportDashboard(res, temperature_K=1200.0)
    sigma = db3.current.tracer_conductivity.value_mS_cm
    assert sigma == pytest.approx(res.tracer_conductivity.value_mS_cm / 2, rel=1e-9)


def test_dashboard_arrhenius_panel():
    ea, d0 = 0.3, 1e-2
    temps = (500.0, 700.0, 900.0)
    runs = [_walk(d0 * np.exp(-ea / (KB_EV * t)), t, seed=k) for k, t in enumerate(temps)]
    db = TransportDashboard(runs)
    assert db.labels == ["500 K", "700 K", "900 K"] and db.run.layout.display != "none"
    fit = db.arrhenius
    ref = arrhenius_fit(temps, [r.tracer for r in db.results.values()])
    assert fit.ea_eV == pytest.approx(ref.ea_eV) and abs(fit.ea_eV - ea) < 0.1
    assert f"{fit.ea_eV:.3f} ± {fit.ea_stderr_eV:.3f}" in db.arrhenius_label.value
    assert f"{fit.diffusivity_300K_cm2_s:.3g}" in db.arrhenius_label.value
    assert _drawn(db.arrhenius_plot) and db.arrhenius_plot in db.children[-1].children
    db.window.value = (0.1, 0.3)  # every run refitted, the Arrhenius fit follows
    ref = arrhenius_fit(temps, [tracer_diffusivity(r.msd, fit_window=(0.1, 0.3))
                                for r in db.base.values()])  # fmt: skip
    assert db.arrhenius.ea_eV == pytest.approx(ref.ea_eV)
    db.run.value = "900 K"
    assert db.current.msd.temperature_K == 900.0 and "900" in db.table.value
    db.arrhenius_d.value = "charge"
    assert "D_σ(300 K)" in db.arrhenius_label.value or "lilib-error" in db.arrhenius_label.value


def test_dashboard_rejects_bad_input(walk):
    with pytest.raises(ArgumentError, match="data"):
        TransportDashboard("traj.xyz")
    with pytest.raises(ArgumentError, match="data"):
        TransportDashboard([walk, 3])
    with pytest.raises(ArgumentError, match="temperature_K"):
        TransportDashboard([walk, walk], temperature_K=[600.0, 700.0, 800.0])
    with pytest.raises(ArgumentError, match="selected"):
        TransportDashboard(walk, selected="1000 K")
