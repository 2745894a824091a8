"""The shipped rotor-phase MLIP trajectory (``lilib/data/md/rotor/``, scripts/make_rotor_md.py):
present, small, with provenance, and a real positive control for the paddle-wheel analysis —
≥ 50 reorientations detected among ≥ 8 anions and C2 below 0.5 by the end, recomputed here."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lilib.config import package_data_dir
from lilib.md import Trajectory
from lilib.rotations import rotation_analysis

ROTOR = package_data_dir() / "md" / "rotor"
RUNS = sorted(ROTOR.glob("*.npz"))


def load(path):
    z = np.load(path)
    return Trajectory(
        z["positions"],
        z["cell"],
        [str(s) for s in z["symbols"]],
        float(z["timestep_fs"]),
        temperature_K=float(z["temperature_K"]),
        unwrapped=True,
    )


def test_a_rotor_run_ships_with_provenance():
    assert RUNS, f"no rotor-phase trajectory in {ROTOR}"
    total = sum(p.stat().st_size for p in ROTOR.iterdir() if p.is_file())
    assert total < 20e6
    for path in RUNS:
        rec = json.loads(path.with_suffix(".json").read_text())
        assert rec["status"] == "done" and rec["file"] == path.name
        assert rec["model"]["name"] == "sevennet-0" and rec["model"]["version"]
        assert {"date", "command", "script"} <= set(rec["provenance"])
        assert rec["engine"]["md"] and rec["settings"]["production_ps"] > 0
        assert abs(rec["checks"]["mean_temperature_K"] - rec["settings"]["temperature_K"]) < 30


@pytest.mark.parametrize("path", RUNS, ids=[p.stem for p in RUNS])
def test_rotor_run_is_a_positive_control(path):
    traj = load(path)
    ra = rotation_analysis(traj, centres="B", ligands="H", seed=0)
    assert ra.groups.n_groups >= 8 and set(ra.groups.counts) == {"BH4"}
    assert not ra.groups.exchanged.any()  # B–H bonds intact: no ligand swapped groups
    ev = ra.events.to_dataframe()
    assert len(ev) >= 50
    assert ev["group"].nunique() >= 8
    assert ra.acf.c2[-1] < 0.5
    rec = json.loads(path.with_suffix(".json").read_text())["checks"]["rotations"]
    assert rec["n_events"] == len(ev)
    assert rec["c2_at_max_lag"] == pytest.approx(float(ra.acf.c2[-1]), abs=1e-9)
