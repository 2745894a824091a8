"""Rigid-ion MD of a grain-boundary cell: LAMMPS running the MD (lilib.md.lammps) against the
same MD driven step by step from ASE (LAMMPSlib calculator + VelocityVerlet).

Systems (``--system``), all Σ5(310)[001] bicrystals from ``lilib.gb.build_gb`` with 4 Schottky
defects near the GBs, 1000 K, 2 fs, PPPM 1e-5:
- ``li2o-notebook`` (default): the Li₂O cell of notebooks 04 and 14 and ``scripts/make_gb_md.py``
  (in-plane repeat 2 × 2, grains ≥ 12 Å: 444 atoms), ``Li2O_Pedone2006`` (pedone + coul/long);
- ``li2o-2000``: the same with in-plane repeat 5 × 3 and grains ≥ 20 Å (~2000 atoms);
- ``lif-2000``: LiF, in-plane repeat 5 × 3, grains ≥ 20 Å (2032 atoms), ``LiF_TosiFumi1964``
  (born/coul/long) — the earlier benchmark (that model is unfit for GB MD: timing only).

Rows:
- lammps-N: ``run_lammps_md`` (Nosé–Hoover NVT, dump every 100 steps) with N OpenMP threads
  (``-sf omp -pk omp N``); steps/s of the production run (setup and reading the dump excluded);
- ase-lammpslib: ``ase.calculators.lammpslib.LAMMPSlib`` (same commands, one LAMMPS instance kept
  alive) under ``ase.md.verlet.VelocityVerlet`` (NVE: no thermostat cost, so the ratio is a lower
  bound of the gap); one LAMMPS force call (``run 0``: neighbour list and PPPM set up again) per
  step. The first step (instance start) is excluded.

``x`` is each row's steps/s over ase-lammpslib's. DESIGN.md §3 expects LAMMPS running the MD to
be ~10× faster than stepping through ASE.

Usage: python benchmarks/bench_lammps.py [--quick] [--threads 1 2] [--system li2o-notebook]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lilib.gb import build_gb  # noqa: E402
from lilib.md import lammps as lmd  # noqa: E402
from lilib.potentials import load_potential  # noqa: E402

SYSTEMS = {  # material, potential, Schottky unit, in-plane repeat, min grain thickness (Å)
    "li2o-notebook": ("Li2O", "Li2O_Pedone2006", {"Li": 2, "O": 1}, (2, 2), 12.0),
    "li2o-2000": ("Li2O", "Li2O_Pedone2006", {"Li": 2, "O": 1}, (5, 3), 20.0),
    "lif-2000": ("LiF", "LiF_TosiFumi1964", {"Li": 1, "F": 1}, (5, 3), 20.0),
}
POTENTIAL = "Li2O_Pedone2006"  # set by main() from --system
TEMPERATURE_K = 1000.0
TIMESTEP_FS = 2.0


def gb_cell(system: str):
    material, _, unit, repeat, grain = SYSTEMS[system]
    gb = build_gb(
        material, (0, 0, 1), 5, (3, 1, 0), in_plane_repeat=repeat, min_grain_thickness_A=grain
    )
    near = np.flatnonzero(gb.distance_to_gb_A() < 3.0)
    return lmd.schottky_defects(gb.atoms, unit, 4, seed=1, candidates=near)


def bench_lammps(atoms, steps: int, threads: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-lammps-") as tmp:
        run = lmd.run_lammps_md(
            atoms, POTENTIAL, TEMPERATURE_K, steps, timestep_fs=TIMESTEP_FS, dump_every=100,
            workdir=tmp, threads=threads, seed=3,
        )  # fmt: skip
    return {
        "tool": f"lammps-{threads}",
        "steps": steps,
        "wall_s": run.wall_s,
        "steps_s": run.steps_per_s,
    }


def bench_ase(atoms, steps: int) -> dict:
    from ase import units
    from ase.calculators.lammpslib import LAMMPSlib
    from ase.md.velocitydistribution import Stationary, thermalize_momenta
    from ase.md.verlet import VelocityVerlet

    lmd._lammps_module()  # libmpi preload, as for lilib's runner
    pot = load_potential(POTENTIAL)
    types = pot.check(atoms.get_chemical_symbols())
    cmds = [c.split("#")[0].strip() for c in pot.to_lammps_commands(types)]
    calc = LAMMPSlib(
        lmpcmds=cmds,
        atom_types={s: i + 1 for i, s in enumerate(types)},
        lammps_header=["units metal", "atom_style charge", "atom_modify map array sort 0 0"],
        keep_alive=True,
    )
    a = atoms.copy()
    a.calc = calc
    thermalize_momenta(a, TEMPERATURE_K, rng=np.random.default_rng(3))
    Stationary(a)
    dyn = VelocityVerlet(a, timestep=TIMESTEP_FS * units.fs)
    dyn.run(1)  # starts LAMMPS
    t0 = time.perf_counter()
    dyn.run(steps)
    wall = time.perf_counter() - t0
    calc.clean()
    return {"tool": "ase-lammpslib", "steps": steps, "wall_s": wall, "steps_s": steps / wall}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few steps (a minute)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--system", choices=sorted(SYSTEMS), default="li2o-notebook")
    args = parser.parse_args(argv)
    global POTENTIAL
    POTENTIAL = SYSTEMS[args.system][1]
    if not lmd.lammps_available():
        print(f"lammps not usable here: {lmd.LAMMPS_PIP}")
        return 1
    lammps_steps, ase_steps = (300, 10) if args.quick else (3000, 100)
    atoms = gb_cell(args.system)
    print(
        f"{SYSTEMS[args.system][0]} Σ5(310) GB ({args.system}), {len(atoms)} atoms, {POTENTIAL}, {TEMPERATURE_K:.0f} K, "
        f"{TIMESTEP_FS} fs; {lmd.lammps_version()}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}"
    )
    rows = [bench_lammps(atoms, lammps_steps, n) for n in args.threads]
    try:
        rows.append(bench_ase(atoms, ase_steps))
    except Exception as exc:  # a peer that cannot run is reported, not fatal
        print(f"ase-lammpslib failed: {type(exc).__name__}: {exc}")
    ref = next((r["steps_s"] for r in rows if r["tool"] == "ase-lammpslib"), None)
    print(f"{'tool':<15} {'steps':>6} {'wall s':>8} {'steps/s':>9} {'x ase':>7}")
    for r in rows:
        x = f"{r['steps_s'] / ref:7.1f}" if ref else "    n/a"
        print(f"{r['tool']:<15} {r['steps']:>6} {r['wall_s']:>8.2f} {r['steps_s']:>9.2f} {x}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
