"""Shipped MLIP lattice-dynamics descriptors (lilib/data/descriptors), their loader, the script
that makes them (smoke mode), and the LatticeDynamics dict round trip."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lilib import structures
from lilib.errors import ArgumentError, DataNotFoundError, LilibError
from lilib.phonons import (
    DescriptorCurves,
    LatticeDynamics,
    lattice_dynamics,
    load_descriptor_curves,
    load_descriptors,
    load_hop_convergence,
    load_hop_modes,
    load_hops,
    load_lattice_dynamics,
    vineyard,
)
from lilib.phonons.library_data import FORMAT, descriptors_dir

ROOT = Path(__file__).resolve().parents[1]
MODEL = "sevennet-0"
DATA = descriptors_dir(MODEL)
HAVE_MLIP = all(importlib.util.find_spec(m) for m in ("torch", "sevenn"))
mlip = pytest.mark.skipif(not HAVE_MLIP, reason="torch/sevenn not installed (lilib[mlip])")
SIZE_BUDGET = 2_000_000  # bytes of JSON for all shipped descriptor files


# ---------------------------------------------------------------- the script, smoke mode


@mlip
def test_smoke_mode_relaxes_computes_reruns_and_loads_back_in_under_a_minute():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_descriptors.py"), "--smoke"],
        capture_output=True, text=True, timeout=180, env=env, cwd=ROOT,
    )  # fmt: skip
    wall = time.perf_counter() - t
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("SMOKE_RESULT "))
    result = json.loads(line.split(" ", 1)[1])
    assert result["files"] == ["sevennet-0/LiF.json"]
    assert "skipped" in proc.stdout  # the rerun skipped the finished material
    assert result["relax_converged"] is True
    assert result["n_displacements"] == 2  # rock salt: one Li, one F displacement
    assert result["n_force_calls"] >= 3  # relaxation (≥ 1) + 2 displaced supercells
    assert 0 < result["force_share"] <= 1
    assert 4 < result["mobile_band_centre_THz"] < 15 and 3 < result["anion_band_centre_THz"] < 12
    assert wall < 60, f"smoke run took {wall:.0f} s"


# ---------------------------------------------------------------- shipped data

needs_data = pytest.mark.skipif(
    not any(DATA.glob("*.json")), reason=f"no shipped descriptor files in {DATA}"
)


@pytest.fixture(scope="module")
def shipped() -> pd.DataFrame:
    return load_descriptors(MODEL)


@needs_data
def test_every_library_structure_is_shipped_or_skipped_with_a_reason(shipped):
    records = {p.stem: json.loads(p.read_text()) for p in DATA.glob("*.json")}
    assert set(records) == set(structures.names())
    for name, rec in records.items():
        assert rec["format"] == FORMAT and rec["name"] == name and rec["model"] == MODEL
        assert rec["status"] in ("done", "skipped"), f"{name}: {rec['status']} {rec.get('reason')}"
        if rec["status"] == "skipped":
            assert rec["reason"], name
    assert set(shipped.index) | set(shipped.attrs["skipped"]) == set(structures.names())
    assert set(shipped.index).isdisjoint(shipped.attrs["skipped"])


@needs_data
def test_shipped_values_are_finite_and_physical(shipped):
    finite = [
        "mobile_band_centre_THz",
        "anion_band_centre_THz",
        "mobile_rms_frequency_THz",
        "mobile_msd_A2",
        "mobile_force_constant_eV_A2",
        "min_frequency_THz",
        "imaginary_fraction",
        "relax_max_force_eV_A",
        "energy_per_atom_eV",
        "force_time_s",
        "total_time_s",
    ]
    assert np.isfinite(shipped[finite].to_numpy(dtype=float)).all()
    assert (shipped["mobile_band_centre_THz"] > 0).all()
    assert (shipped["anion_band_centre_THz"] > 0).all()
    assert (shipped["mobile_rms_frequency_THz"] >= shipped["mobile_band_centre_THz"]).all()
    stable = shipped[shipped["acoustic_stable"]]
    assert np.isfinite(stable["debye_temperature_K"]).all()
    assert (stable["debye_temperature_K"] > 0).all()
    assert shipped.loc[~shipped["acoustic_stable"], "debye_temperature_K"].isna().all()
    for flag in ("has_imaginary_modes", "acoustic_stable", "relaxed", "relax_converged"):
        assert shipped[flag].dtype == bool, flag
    assert (shipped["has_imaginary_modes"] == (shipped["min_frequency_THz"] < -0.1)).all()
    assert (shipped["n_displacements"] >= 1).all()
    assert (shipped["n_force_calls"] >= shipped["n_displacements"]).all()
    assert (shipped["force_time_s"] <= shipped["total_time_s"]).all()
    assert shipped["mobile"].isin(["Li", "Na"]).all()
    assert (shipped["model"] == MODEL).all()


@needs_data
def test_shipped_relaxations_converged_and_kept_the_space_group(shipped):
    # fmax 0.01 eV/Å; the published group of ordered entries, the approximant's otherwise
    done = shipped[shipped["relax_converged"]]
    assert (done["relax_max_force_eV_A"] < 0.01).all()
    not_converged = sorted(set(shipped.index) - set(done.index))
    assert not not_converged, f"relaxation not converged: {not_converged}"
    ordered = shipped[~shipped["ordered_approximant"]]
    for name, row in ordered.iterrows():
        assert row["spacegroup_relaxed"].startswith(row["spacegroup_published"] + " "), name


@needs_data
def test_shipped_size_is_small():
    size = sum(p.stat().st_size for p in DATA.parent.rglob("*.json"))
    assert size < SIZE_BUDGET, f"{size / 1e6:.2f} MB of descriptor JSON"


@needs_data
def test_curves_load_and_integrate_to_three_modes_per_atom(shipped):
    for name in shipped.index:
        curves = load_descriptor_curves(name)
        assert isinstance(curves, DescriptorCurves) and curves.model == MODEL
        f = curves.frequencies_THz
        assert f.ndim == 1 and np.all(np.diff(f) > 0)
        n_atoms = int(shipped.loc[name, "n_atoms_primitive"])
        total = np.trapezoid(curves.total_per_THz, f)
        assert total == pytest.approx(3 * n_atoms, rel=0.01), name
        assert set(curves.pdos_per_THz) >= {shipped.loc[name, "mobile"], shipped.loc[name, "anion"]}
        df = curves.to_dataframe()
        assert df.columns[0] == "frequency_THz" and "total_per_THz" in df


@needs_data
def test_lattice_dynamics_of_a_shipped_material_round_trips(shipped):
    name = shipped.index[0]
    ld = load_lattice_dynamics(name)
    assert isinstance(ld, LatticeDynamics) and ld.label == name and ld.source == MODEL
    row = ld.to_dataframe().iloc[0]
    assert row["mobile_band_centre_THz"] == shipped.loc[name, "mobile_band_centre_THz"]
    _assert_same(LatticeDynamics.from_dict(json.loads(json.dumps(ld.to_dict()))), ld)


def test_loader_errors_name_what_is_missing(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"make_descriptors\.py"):
        load_descriptors(MODEL, directory=tmp_path)
    with pytest.raises(LilibError, match="unknown"):
        load_descriptors("no-such-model")
    (tmp_path / MODEL).mkdir()
    skipped = {"format": FORMAT, "name": "LiX", "model": MODEL, "status": "skipped",
               "reason": "element X not covered"}  # fmt: skip
    (tmp_path / MODEL / "LiX.json").write_text(json.dumps(skipped))
    df = load_descriptors(MODEL, directory=tmp_path)
    assert df.empty and df.attrs["skipped"] == {"LiX": "skipped: element X not covered"}
    df = load_descriptors(MODEL, directory=tmp_path, include_skipped=True)
    assert df.loc["LiX", "status"] == "skipped"
    with pytest.raises(DataNotFoundError, match="element X not covered"):
        load_descriptor_curves("LiX", directory=tmp_path)
    with pytest.raises(DataNotFoundError, match="have: LiX"):
        load_descriptor_curves("LiF", directory=tmp_path)


# ---------------------------------------------------------------- to_dict / from_dict


def _rocksalt(k1: float, k2: float, a: float = 4.0):
    """Primitive rock-salt 'LiF' with central springs k1 (Li–F) and k2 (Li–Li, F–F), eV/Å²."""
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms

    li = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]
    f = [[0.5, 0, 0], [0.5, 0.5, 0.5], [0, 0, 0.5], [0, 0.5, 0]]
    unit = PhonopyAtoms(symbols=["Li"] * 4 + ["F"] * 4, cell=np.eye(3) * a, scaled_positions=li + f)
    ph = Phonopy(unit, supercell_matrix=np.eye(3, dtype=int) * 2, primitive_matrix="F")
    sup = ph.supercell
    r = sup.scaled_positions[None, :, :] - sup.scaled_positions[:, None, :]
    r = (r - np.round(r)) @ sup.cell
    dist = np.linalg.norm(r, axis=2)
    same = np.equal.outer(sup.symbols, sup.symbols)
    k = np.where(np.isclose(dist, a / 2) & ~same, k1, 0.0)
    k += np.where(np.isclose(dist, a / np.sqrt(2)) & same, k2, 0.0)
    u = r / np.where(dist > 0, dist, 1.0)[..., None]
    fc = -k[..., None, None] * u[..., :, None] * u[..., None, :]
    fc[np.arange(len(dist)), np.arange(len(dist))] = -fc.sum(axis=1)
    ph.force_constants = fc
    return ph


def _assert_same(a: LatticeDynamics, b: LatticeDynamics) -> None:
    da, db = a.to_dict(), b.to_dict()
    assert da.keys() == db.keys()
    assert da == db  # NaN are None in both
    assert type(a.mesh) is tuple and isinstance(a.sound_velocities_m_s, np.ndarray)
    assert all(isinstance(y, np.ndarray) for y in a.pdos_per_THz.values())
    pd.testing.assert_frame_equal(a.to_dataframe(), b.to_dataframe())
    pd.testing.assert_frame_equal(a.pdos_dataframe(), b.pdos_dataframe())


@pytest.mark.parametrize(
    ("k2", "stable"), [(0.5, True), (-0.3, False)], ids=["stable", "unstable-shear"]
)
def test_to_dict_from_dict_round_trip_through_json(k2, stable):
    ld = lattice_dynamics(_rocksalt(2.0, k2), mesh=4, label="springs", source="test")
    assert ld.acoustic_stable is stable
    data = ld.to_dict()
    text = json.dumps(data, allow_nan=False)  # plain JSON: NaN written as null
    back = LatticeDynamics.from_dict(json.loads(text))
    _assert_same(back, ld)
    assert np.array_equal(back.dos_frequencies_THz, ld.dos_frequencies_THz)
    for el in ld.pdos_per_THz:
        assert np.array_equal(back.pdos_per_THz[el], ld.pdos_per_THz[el])
    if not stable:
        assert data["debye_temperature_K"] is None and np.isnan(back.debye_temperature_K)
        assert back.has_imaginary_modes


def test_from_dict_refuses_other_formats_and_missing_fields():
    data = lattice_dynamics(_rocksalt(2.0, 0.5), mesh=2).to_dict()
    with pytest.raises(ArgumentError, match="format"):
        LatticeDynamics.from_dict({**data, "format": "something/9"})
    del data["mobile_band_centre_THz"]
    with pytest.raises(ArgumentError, match="mobile_band_centre_THz"):
        LatticeDynamics.from_dict(data)
    with pytest.raises(ArgumentError):
        LatticeDynamics.from_dict([1, 2])


# ---------------------------------------------------------------- vacancy hops (optional)


@pytest.mark.skipif(not any((DATA / "hops").glob("*.json")), reason="no shipped hop files")
def test_shipped_hops_have_a_barrier_and_a_vineyard_rate():
    hops = load_hops(MODEL)
    assert (hops["status"].isin(["done", "failed"])).all()
    assert (hops["barrier_eV"] > 0).all() and (hops["hop_length_A"] > 1.5).all()
    done = hops[hops["status"] == "done"]
    assert not done.empty, hops["reason"].to_dict()
    assert (done["attempt_frequency_THz"] > 0).all() and (done["saddle_imaginary_THz"] < 0).all()
    assert np.isfinite(done["migration_entropy_kB"]).all() and done["neb_converged"].all()


@pytest.mark.skipif(not (DATA / "hops" / "LiF.json").is_file(), reason="no shipped LiF hop")
def test_shipped_hop_modes_reproduce_its_rate_and_the_region_table_converges():
    """The shipped modes give the shipped ν* through vineyard(); the region table ends with the
    full Hessian, and its largest region equals it."""
    hop = load_hops(MODEL).loc["LiF"]
    modes = load_hop_modes("LiF", MODEL)
    n = int(hop["n_atoms_supercell"])
    assert modes["initial"].size == modes["saddle"].size == 3 * n - 3
    assert (modes["initial"] > 0).all() and int((modes["saddle"] < 0).sum()) == 1
    tst = vineyard(modes["initial"], modes["saddle"], zero_modes=0)
    assert tst.attempt_frequency_THz == pytest.approx(hop["attempt_frequency_THz"], rel=1e-3)
    conv = load_hop_convergence("LiF", MODEL)
    assert np.isnan(conv["radius_A"].iloc[-1]) and conv["n_atoms"].iloc[-1] == n
    assert conv["n_atoms"].is_monotonic_increasing
    full = conv["attempt_frequency_THz"].iloc[-1]
    assert full == pytest.approx(hop["attempt_frequency_THz"], rel=1e-9)
    assert conv["attempt_frequency_THz"].iloc[-2] == pytest.approx(full, rel=1e-9)  # 6 Å: all
    with pytest.raises(DataNotFoundError, match="NaCl"):
        load_hop_convergence("NaCl", MODEL)
