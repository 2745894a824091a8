"""NVT MD with checkpoints (lilib.md.run): thermostats, kill-and-resume, mismatches, arguments.

The calculator is ASE's EMT on a 32-atom fcc Cu cell (2×2×2 conventional): real, analytic and
a few ms per step. The rotor-MD script's smoke mode (SevenNet-0) runs at the end when sevenn is
installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones

from lilib.errors import ArgumentError, FileFormatError, WorkdirMismatchError
from lilib.md import Trajectory
from lilib.md.run import THERMOSTATS, MDRun, load_run, run_md

ROOT = Path(__file__).resolve().parents[1]
HAVE_SEVENN = all(importlib.util.find_spec(m) for m in ("torch", "sevenn"))


def cu32():
    return bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)


def tparams(thermostat: str) -> dict:
    if thermostat == "langevin":
        return {"friction_per_fs": 0.02}
    return {"tdamp_fs": 50.0}


def interrupting(n: int) -> EMT:
    """An EMT instance (same identity as EMT()) whose n-th evaluation raises KeyboardInterrupt."""
    calc = EMT()
    inner, count = calc.calculate, [0]

    def calculate(*args, **kwargs):
        count[0] += 1
        if count[0] == n:
            raise KeyboardInterrupt
        return inner(*args, **kwargs)

    calc.calculate = calculate
    return calc


@pytest.mark.parametrize("thermostat", THERMOSTATS)
def test_temperature_equilibrates_near_the_target(tmp_path, thermostat):
    run = run_md(cu32(), EMT(), 300.0, 800, 5.0, workdir=tmp_path, thermostat=thermostat,
                 save_every=5, progress=False, seed=1, **tparams(thermostat))  # fmt: skip
    assert run.complete and run.n_frames == 161
    assert run.temperatures_K[0] == pytest.approx(300.0)  # scaled exactly at the start
    mean = run.temperatures_K[run.n_frames // 3 :].mean()
    # 32 atoms: instantaneous T fluctuates by ~15 %; the mean over 2.7 ps within ±12 %
    assert mean == pytest.approx(300.0, rel=0.12)
    if thermostat == "langevin":
        assert np.isnan(run.conserved_energies_eV).all()
    else:  # integrator + thermostat conserve their extended energy (5 fs, Cu)
        drift = run.conserved_energies_eV[-1] - run.conserved_energies_eV[1]
        assert abs(drift) < 0.02
    assert run.n_force_calls == 801  # one per step + the start; no checkpoint resets here
    assert run.wall_s > 0 and run.wall_s_per_step > 0


def test_result_api_trajectory_dataframe_plot_and_progress(tmp_path, capsys):
    import matplotlib

    matplotlib.use("Agg")
    run = run_md(cu32(), EMT(), 500.0, 40, 2.0, workdir=tmp_path, thermostat="bussi",
                 save_every=4, save_velocities=True, seed=3)  # fmt: skip
    err = capsys.readouterr().err
    assert "MD Cu32 500 K" in err and "40/40" in err  # plain-text tqdm on stderr
    assert isinstance(run, MDRun) and "bussi 500 K" in repr(run)
    traj = run.trajectory()
    assert isinstance(traj, Trajectory)
    assert traj.n_frames == 11 and traj.timestep_fs == 8.0 and traj.unwrapped
    assert traj.temperature_K == 500.0 and traj.formula == "Cu32"
    assert np.array_equal(traj.positions[0], cu32().positions)
    step = np.linalg.norm(np.diff(np.asarray(traj.positions), axis=0), axis=2)
    assert step.max() < 0.5  # continuous (never wrapped back into the cell)
    v = run.velocities()
    assert v.shape == (11, 32, 3)
    # velocities (Å/fs) against the centred difference of positions around frame 5
    fd = (traj.positions[6] - traj.positions[4]) / (2 * traj.timestep_fs)
    assert np.abs(fd - v[5]).max() < 0.2 * np.abs(v[5]).max()
    df = run.to_dataframe()
    assert list(df.columns) == ["step", "time_ps", "temperature_K", "potential_eV", "kinetic_eV",
                                "total_eV", "conserved_eV", "step_wall_s"]  # fmt: skip
    assert df["step"].tolist() == list(range(0, 41, 4))
    assert np.isnan(df["step_wall_s"].iloc[0]) and (df["step_wall_s"].iloc[1:] > 0).all()
    assert run.calculator["name"] == "emt" and run.settings["thermostat_parameters"] == {
        "tdamp_fs": 200.0  # 100 time steps
    }
    ax = run.plot()
    assert ax.get_xlabel() == "time (ps)"
    again = load_run(tmp_path)
    assert np.array_equal(again.temperatures_K, run.temperatures_K) and again.complete
    quiet = run_md(cu32(), EMT(), 500.0, 40, 2.0, workdir=tmp_path / "q", progress=False)
    assert capsys.readouterr().err == ""
    with pytest.raises(ArgumentError) as exc:
        quiet.velocities()
    assert exc.value.name == "save_velocities"


def test_done_run_is_returned_without_force_calls_and_can_be_extended(tmp_path):
    kw = {"thermostat": "langevin", "save_every": 3, "progress": False, "seed": 5,
          "checkpoint_every_steps": 15}  # fmt: skip
    direct = run_md(cu32(), EMT(), 400.0, 90, 4.0, workdir=tmp_path / "direct", **kw)
    first = run_md(cu32(), EMT(), 400.0, 45, 4.0, workdir=tmp_path / "ext", **kw)
    assert first.n_frames == 16
    again = run_md(cu32(), EMT(), 400.0, 45, 4.0, workdir=tmp_path / "ext", **kw)
    assert again.n_force_calls_this_call == 0 and again.steps_this_call == 0
    longer = run_md(cu32(), EMT(), 400.0, 90, 4.0, workdir=tmp_path / "ext", **kw)
    assert longer.resumed_from_step == 45 and longer.steps_this_call == 45
    assert longer.n_frames == direct.n_frames == 31
    assert np.array_equal(longer.trajectory().positions, direct.trajectory().positions)
    assert np.array_equal(longer.temperatures_K, direct.temperatures_K)
    shorter = run_md(cu32(), EMT(), 400.0, 30, 4.0, workdir=tmp_path / "ext", **kw)
    assert shorter.n_frames == 11 and shorter.n_force_calls_this_call == 0 and shorter.complete
    assert np.array_equal(shorter.trajectory().positions, direct.trajectory().positions[:11])
    assert load_run(tmp_path / "ext").n_frames == 31  # nothing on disk was dropped


@pytest.mark.parametrize("thermostat", THERMOSTATS)
def test_interrupted_run_resumes_bitwise(tmp_path, thermostat):
    kw = {"thermostat": thermostat, "save_every": 3, "progress": False, "seed": 7,
          "checkpoint_every_steps": 10, **tparams(thermostat)}  # fmt: skip
    ref = run_md(cu32(), EMT(), 500.0, 120, 5.0, workdir=tmp_path / "ref", **kw)
    with pytest.raises(KeyboardInterrupt):
        run_md(cu32(), interrupting(57), 500.0, 120, 5.0, workdir=tmp_path / "cut", **kw)
    ck = load_run(tmp_path / "cut")
    assert not ck.complete and ck.n_frames == 17  # checkpoint at step 50 (calls 1+50+4 resets)
    res = run_md(cu32(), EMT(), 500.0, 120, 5.0, workdir=tmp_path / "cut", **kw)
    assert res.resumed_from_step == 50 and res.steps_this_call == 70
    assert res.n_frames == 41
    assert np.array_equal(res.trajectory().positions, ref.trajectory().positions)
    for name in ("temperatures_K", "potential_energies_eV", "kinetic_energies_eV"):
        assert np.array_equal(getattr(res, name), getattr(ref, name)), name
    assert np.array_equal(res.conserved_energies_eV, ref.conserved_energies_eV, equal_nan=True)
    assert res.n_force_calls == ref.n_force_calls  # steps lost after the checkpoint not counted


_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from ase.build import bulk
    from ase.calculators.emt import EMT
    from lilib.md.run import run_md
    print("UI_MODULES", sorted({"ipywidgets", "IPython", "tqdm.notebook"} & set(sys.modules)),
          flush=True)
    calc = EMT()
    inner, count = calc.calculate, [0]
    def calculate(*args, **kwargs):
        count[0] += 1
        if count[0] == int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)
        return inner(*args, **kwargs)
    calc.calculate = calculate
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    run_md(atoms, calc, 600.0, 90, 5.0, workdir=sys.argv[1], thermostat="langevin",
           save_every=3, seed=11, progress=True, checkpoint_every_steps=20)
    """
)


def test_sigkilled_run_resumes_without_loss_or_duplicates(tmp_path):
    kw = {"thermostat": "langevin", "save_every": 3, "seed": 11, "progress": False,
          "checkpoint_every_steps": 20}  # fmt: skip
    ref = run_md(cu32(), EMT(), 600.0, 90, 5.0, workdir=tmp_path / "ref", **kw)
    wd = tmp_path / "killed"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    # force calls: 1 at the start, 1 per step, 1 per reset after checkpoints at 20, 40 →
    # call 58 is step 55: checkpoint at 40, frames up to step 54 written after it
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(wd), "58"], capture_output=True,
                          text=True, env=env, timeout=300)  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert "UI_MODULES []" in proc.stdout  # lilib never imports notebook widgets
    meta = json.loads(str(np.load(wd / "checkpoint.npz")["meta"]))
    assert meta["step"] == 40
    thermo = np.load(wd / "thermo.npy")
    assert thermo[18, 0] == 54  # a frame after the checkpoint was written before the kill
    res = run_md(cu32(), EMT(), 600.0, 90, 5.0, workdir=wd, **kw)
    assert res.resumed_from_step == 40 and res.complete
    assert res.n_frames == 90 // 3 + 1
    assert np.array_equal(np.diff(res.times_fs), np.full(30, 15.0))  # no duplicate times
    assert np.array_equal(res.trajectory().positions, ref.trajectory().positions)
    assert np.array_equal(res.temperatures_K, ref.temperatures_K)


def test_workdir_of_another_calculation_is_refused(tmp_path):
    base = {"calculator": EMT(), "temperature_K": 300.0, "n_steps": 10, "timestep_fs": 5.0,
            "workdir": tmp_path, "save_every": 5, "progress": False}  # fmt: skip
    run_md(cu32(), **base)
    cases = [
        ({"temperature_K": 310.0}, "temperature_K"),
        ({"calculator": LennardJones()}, "calculator"),
        ({"timestep_fs": 2.0}, "timestep_fs"),
        ({"thermostat": "bussi"}, "thermostat"),
        ({"friction_per_fs": 0.05}, "thermostat_parameters"),
        ({"seed": 1}, "seed"),
        ({"save_every": 2}, "save_every"),
        ({"save_velocities": True}, "save_velocities"),
    ]
    for change, field in cases:
        with pytest.raises(WorkdirMismatchError) as exc:
            run_md(cu32(), **{**base, **change})
        assert exc.value.field == field, change
    other = cu32()
    other.positions[0, 0] += 0.01
    with pytest.raises(WorkdirMismatchError) as exc:
        run_md(other, **base)
    assert exc.value.field == "structure"
    foreign = tmp_path / "phonons"
    foreign.mkdir()
    (foreign / "manifest.json").write_text(json.dumps({"format": "lilib.phonons.compute/1"}))
    with pytest.raises(WorkdirMismatchError) as exc:
        run_md(cu32(), **{**base, "workdir": foreign})
    assert exc.value.field == "format"
    with pytest.raises(FileFormatError):
        load_run(foreign)


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"temperature_K": -5.0}, "temperature_K"),
        ({"temperature_K": 0.0}, "temperature_K"),
        ({"temperature_K": float("nan")}, "temperature_K"),
        ({"n_steps": 0}, "n_steps"),
        ({"n_steps": -3}, "n_steps"),
        ({"n_steps": 2.5}, "n_steps"),
        ({"n_steps": True}, "n_steps"),
        ({"timestep_fs": 0.0}, "timestep_fs"),
        ({"save_every": 0}, "save_every"),
        ({"save_every": 11}, "save_every"),
        ({"thermostat": "berendsen"}, "thermostat"),
        ({"thermostat": "bussi", "friction_per_fs": 0.01}, "friction_per_fs"),
        ({"tdamp_fs": 100.0}, "tdamp_fs"),
        ({"thermostat": "nose-hoover", "tdamp_fs": -1.0}, "tdamp_fs"),
        ({"friction_per_fs": 0.0}, "friction_per_fs"),
        ({"seed": -1}, "seed"),
        ({"checkpoint_every_steps": 0}, "checkpoint_every_steps"),
        ({"checkpoint_every_s": 0.0}, "checkpoint_every_s"),
        ({"calculator": 42}, "calculator"),
        ({"atoms": "Cu"}, "atoms"),
    ],
)
def test_bad_arguments_name_the_argument(tmp_path, change, name):
    args = {"atoms": cu32(), "calculator": EMT(), "temperature_K": 300.0, "n_steps": 10,
            "timestep_fs": 5.0, "workdir": tmp_path, "progress": False, **change}  # fmt: skip
    with pytest.raises(ArgumentError) as exc:
        run_md(**args)
    assert exc.value.name == name
    assert not (tmp_path / "manifest.json").exists()  # refused before touching the workdir


def test_molecules_and_constrained_atoms_are_refused(tmp_path):
    from ase import Atoms
    from ase.constraints import FixAtoms

    with pytest.raises(ArgumentError, match="periodic"):
        run_md(Atoms("Cu2", positions=[[0, 0, 0], [2.5, 0, 0]]), EMT(), 300.0, 10, 5.0,
               workdir=tmp_path)  # fmt: skip
    fixed = cu32()
    fixed.set_constraint(FixAtoms([0]))
    with pytest.raises(ArgumentError, match="constraints"):
        run_md(fixed, EMT(), 300.0, 10, 5.0, workdir=tmp_path)


def test_model_name_elements_are_checked_before_loading(tmp_path):
    from lilib.errors import UnsupportedElementError

    if not HAVE_SEVENN:
        pytest.skip("sevenn not installed (lilib[mlip])")
    from ase import Atoms

    polonium = Atoms("Po2", scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]], cell=np.eye(3) * 3.4,
                     pbc=True)  # fmt: skip
    with pytest.raises(UnsupportedElementError):
        run_md(polonium, "sevennet-0", 300.0, 10, 1.0, workdir=tmp_path)


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_SEVENN, reason="torch/sevenn not installed (lilib[mlip])")
def test_make_rotor_md_smoke():
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_rotor_md.py"), "--smoke"],
                          capture_output=True, text=True, env=env, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("SMOKE_RESULT "))
    result = json.loads(line.split(" ", 1)[1])
    assert result["n_frames"] == result["expected_frames"]
    assert result["resumed_from_step"] == result["first_part_steps"]
    assert result["bitwise_equal_to_uninterrupted"]
    assert result["positions_dtype"] == "float32" and result["model"] == "sevennet-0"
    assert set(result["provenance_keys"]) >= {"engine", "versions", "settings", "date", "model"}
