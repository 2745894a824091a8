#!/usr/bin/env python
"""Make the grain-boundary MD trajectories shipped in ``lilib/data/md/gb/`` (LAMMPS, rigid ions).

System: a LiF Σ5(310)[001] symmetric-tilt bicrystal (``lilib.gb.build_gb``, in-plane repeat
3 × 2, grains ≥ 20 Å) with ``--schottky`` Li–F vacancy pairs drawn among the atoms within 3 Å
of a GB plane, so that Li can move; each seed of ``FULL["seeds"]`` places them anew and draws
new velocities. Potential: ``LiF_TosiFumi1964`` (``lilib.potentials``; Fumi & Tosi 1964).
Temperatures stay below this model's melting range (see ``FULL``). For each seed and
temperature:
velocities at T, ``--npt-steps`` of anisotropic NPT at 0 GPa (cell and GB relax, thermal
expansion), then ``--steps`` of Nosé–Hoover NVT, unwrapped positions every ``--dump-every``
steps (``lilib.md.lammps.run_lammps_md``; positions minimised at the built cell first, so that
the unrelaxed GB does not heat the run).

Outputs per seed and temperature, in ``--out`` (default ``lilib/data/md/gb``):

- ``<tag>_<T>K_s<seed>.npz`` (compressed): ``positions`` (n_frames, n_atoms, 3) float32 Å, unwrapped;
  ``cell`` (3, 3) Å (the NPT-equilibrated cell, fixed in NVT); ``symbols``; ``grain`` (0/1);
  ``distance_to_gb_A`` and ``gb_positions_A`` of the built cell; ``timestep_fs`` between frames;
  ``temperature_K``. Read back with :func:`load_trajectory` of this script or
  ``lilib.md.Trajectory(positions=..., cell=..., symbols=..., timestep_fs=..., unwrapped=True)``.
- ``<tag>_<T>K_s<seed>.json``: provenance — engine (LAMMPS version), potential (name, DOI, table,
  where it was read), every MD setting, the GB model summary and removed atoms, the measured
  steps/s and wall time, date, script, command, git commit, machine.

Checkpoints: ``--work`` (default ``build/gb_md``) holds one LAMMPS workdir per run
(data file, logs, dump, restart files); a killed run resumes from its last restart file and
appends, and a finished temperature (its ``.npz`` in ``--out``) is skipped (``--force`` redoes
it). ``--estimate`` times a short run of the full cell and prints the projected wall time.

Usage::

    python scripts/make_gb_md.py --smoke            # 54 atoms, 2 temperatures, temp dir, seconds
    python scripts/make_gb_md.py --estimate         # steps/s of the full cell → projected hours
    nice -n 10 python scripts/make_gb_md.py --threads 2   # the full run (hours, checkpointed)
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import platform
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lilib.gb import build_gb  # noqa: E402
from lilib.md import Trajectory  # noqa: E402
from lilib.md.lammps import run_lammps_md, schottky_defects  # noqa: E402
from lilib.potentials import load_potential  # noqa: E402
from lilib.provenance import git_state  # noqa: E402

SCRIPT = "scripts/make_gb_md.py"
OUT_DEFAULT = ROOT / "lilib" / "data" / "md" / "gb"
WORK_DEFAULT = ROOT / "build" / "gb_md"
FORMAT = "lilib.gb-md.v1"

FULL = {
    "material": "LiF",
    "potential": "LiF_TosiFumi1964",
    "axis": (0, 0, 1),
    "sigma": 5,
    "plane": (3, 1, 0),
    "in_plane_repeat": (3, 2),
    "min_grain_thickness_A": 20.0,
    "schottky": 4,
    "near_gb_A": 3.0,
    # Below the melting range of this model: a 296-atom Σ5 cell run at 1000 K had D ≈ 1e-4 cm²/s
    # in every slab (liquid-like) and at 850 K hops everywhere; at 700 K D(GB) ≈ 2× D(grain)
    # (runs of 2026-11-28, tests of this script's settings).
    "temperatures": (650.0, 700.0, 750.0, 800.0),
    "seeds": (2027, 2028),
    "timestep_fs": 2.0,
    "npt_steps": 5_000,
    "steps": 50_000,
    "dump_every": 250,
    "restart_every": 5_000,
    "seed": 2027,
}
SMOKE = dict(
    FULL,
    in_plane_repeat=(1, 1),
    min_grain_thickness_A=8.0,
    schottky=1,
    temperatures=(700.0, 750.0),
    seeds=(2027,),
    npt_steps=100,
    steps=400,
    dump_every=50,
    restart_every=200,
)


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _git() -> dict[str, Any]:
    """HEAD and whether lilib/ or scripts/ have uncommitted changes."""
    state = git_state(ROOT, ("lilib", "scripts"))
    return {"commit": state["commit"], "dirty": state["dirty"]}


def _machine() -> dict[str, Any]:
    import os

    return {
        "node": platform.node(),
        "processor": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def build_system(cfg: dict[str, Any]):
    """The bicrystal, the atoms after the Schottky defects, and the kept indices."""
    gb = build_gb(
        cfg["material"],
        cfg["axis"],
        cfg["sigma"],
        cfg["plane"],
        in_plane_repeat=cfg["in_plane_repeat"],
        min_grain_thickness_A=cfg["min_grain_thickness_A"],
    )
    near = np.flatnonzero(gb.distance_to_gb_A() < cfg["near_gb_A"])
    atoms = schottky_defects(
        gb.atoms, {"Li": 1, "F": 1}, cfg["schottky"], seed=cfg["seed"], candidates=near
    )
    removed = atoms.info["schottky_removed"]
    kept = np.setdiff1d(np.arange(len(gb.atoms)), removed)
    return gb, atoms, kept


def load_trajectory(path: str | Path) -> Trajectory:
    """A trajectory written by this script (``.npz``) as a :class:`lilib.md.Trajectory`."""
    with np.load(path) as z:
        return Trajectory(
            positions=z["positions"],
            cell=z["cell"],
            symbols=z["symbols"].tolist(),
            timestep_fs=float(z["timestep_fs"]),
            temperature_K=float(z["temperature_K"]),
            unwrapped=True,
            source={"path": str(path), "format": FORMAT},
        )


def _stem(cfg: dict[str, Any], temperature: float) -> str:
    """File stem of one run: material, GB, temperature and seed."""
    tag = f"{cfg['material']}_sigma{cfg['sigma']}_{''.join(map(str, cfg['plane']))}"
    return f"{tag}_{temperature:.0f}K_s{cfg['seed']}"


def run_temperature(
    cfg: dict[str, Any],
    temperature: float,
    out: Path,
    work: Path,
    threads: int,
    system,
    command: str,
) -> dict[str, Any]:
    gb, atoms, kept = system
    stem = out / _stem(cfg, temperature)
    pot = load_potential(cfg["potential"])
    t0 = time.perf_counter()
    run = run_lammps_md(
        atoms,
        pot,
        temperature,
        cfg["steps"],
        timestep_fs=cfg["timestep_fs"],
        dump_every=cfg["dump_every"],
        restart_every=cfg["restart_every"],
        npt_first_steps=cfg["npt_steps"],
        workdir=work / _stem(cfg, temperature),
        seed=cfg["seed"],
        threads=threads,
        minimize=True,
        dtype=np.float32,
    )
    wall = time.perf_counter() - t0
    traj = run.trajectory
    np.savez_compressed(
        stem.with_suffix(".npz"),
        positions=traj.positions.astype(np.float32),
        cell=np.asarray(traj.cell),
        symbols=np.asarray(traj.symbols),
        grain=np.asarray(gb.grain)[kept],
        distance_to_gb_A=gb.distance_to_gb_A()[kept],
        gb_positions_A=np.asarray(gb.gb_positions_A),
        timestep_fs=traj.timestep_fs,
        temperature_K=temperature,
    )
    record = {
        "format": FORMAT,
        "file": stem.with_suffix(".npz").name,
        "engine": run.lammps_version,
        "potential": {
            "name": pot.name,
            "pair_style": pot.pair_style,
            "doi": pot.doi,
            "citation": pot.citation,
            "table": pot.table,
            "read_from": pot.read_from,
        },
        "md": {k: v for k, v in run.settings.items() if k not in ("potential", "engine")},
        "system": {
            "gb": {k: (list(v) if isinstance(v, tuple) else v) for k, v in gb.summary().items()},
            "n_atoms": len(atoms),
            "composition": atoms.get_chemical_formula(),
            "schottky_pairs": cfg["schottky"],
            "schottky_removed_indices": atoms.info["schottky_removed"],
            "schottky_within_A_of_gb": cfg["near_gb_A"],
        },
        "result": {
            "n_frames": traj.n_frames,
            "frame_interval_fs": traj.timestep_fs,
            "duration_ps": traj.duration_ps,
            "completed": run.completed,
            "last_step": run.last_step,
            "steps_per_s_last_call": run.steps_per_s,
            "wall_s_last_call": wall,
            "mean_temperature_K": float(run.thermo["temperature_K"].mean()),
            "cell_A": np.asarray(traj.cell).tolist(),
        },
        "provenance": {
            "date": _now(),
            "script": SCRIPT,
            "command": command,
            "git": _git(),
            "machine": _machine(),
            "threads": threads,
        },
    }
    stem.with_suffix(".json").write_text(json.dumps(record, indent=1, default=str) + "\n")
    print(
        f"  {temperature:.0f} K: {traj.n_frames} frames, {run.steps_run} steps in {wall:.1f} s "
        f"({run.steps_per_s:.1f} steps/s), <T> = {record['result']['mean_temperature_K']:.0f} K"
    )
    return record


def estimate(cfg: dict[str, Any], threads: int, steps: int = 300) -> float:
    """Steps/s of the full cell (a short NVT run) and the projected wall time, printed."""
    _, atoms, _ = build_system(cfg)
    with tempfile.TemporaryDirectory(prefix="lilib-gb-estimate-") as tmp:
        run = run_lammps_md(
            atoms, cfg["potential"], cfg["temperatures"][0], steps,
            timestep_fs=cfg["timestep_fs"], dump_every=100, workdir=tmp, threads=threads,
        )  # fmt: skip
    per_t = cfg["npt_steps"] + cfg["steps"]
    total = per_t * len(cfg["temperatures"]) / run.steps_per_s
    print(
        f"{len(atoms)} atoms, {threads} thread(s): {run.steps_per_s:.1f} steps/s; "
        f"{len(cfg['temperatures'])} × ({cfg['npt_steps']} NPT + {cfg['steps']} NVT) steps "
        f"≈ {total / 3600:.1f} h"
    )
    return run.steps_per_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run in a temporary folder")
    parser.add_argument("--estimate", action="store_true", help="time the full cell, run nothing")
    parser.add_argument("--out", type=Path, default=None, help=f"output folder ({OUT_DEFAULT})")
    parser.add_argument("--work", type=Path, default=None, help=f"checkpoints ({WORK_DEFAULT})")
    parser.add_argument("--temperatures", type=float, nargs="+", default=None, help="K")
    parser.add_argument("--steps", type=int, default=None, help="NVT steps per temperature")
    parser.add_argument("--npt-steps", type=int, default=None, help="NPT steps per temperature")
    parser.add_argument("--dump-every", type=int, default=None, help="steps between frames")
    parser.add_argument("--schottky", type=int, default=None, help="Li–F vacancy pairs")
    parser.add_argument("--threads", type=int, default=1, help="OpenMP threads for LAMMPS")
    parser.add_argument("--force", action="store_true", help="redo finished temperatures")
    args = parser.parse_args(argv)
    command = shlex.join([SCRIPT, *(sys.argv[1:] if argv is None else argv)])

    cfg = dict(SMOKE if args.smoke else FULL)
    for key in ("temperatures", "steps", "npt_steps", "dump_every", "schottky"):
        value = getattr(args, key)
        if value is not None:
            cfg[key] = tuple(value) if key == "temperatures" else value
    if args.estimate:
        estimate(cfg, args.threads)
        return 0

    tmp = None
    if args.smoke and (args.out is None or args.work is None):
        tmp = Path(tempfile.mkdtemp(prefix="lilib-gb-md-smoke-"))
    out = args.out or (tmp / "out" if tmp else OUT_DEFAULT)
    work = args.work or (tmp / "work" if tmp else WORK_DEFAULT)
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    records = []
    for seed in cfg["seeds"]:  # a seed places the Schottky pairs and draws the velocities
        run_cfg = dict(cfg, seed=seed)
        system = build_system(run_cfg)
        print(
            f"{cfg['material']} Σ{cfg['sigma']}{cfg['plane']} seed {seed}: {len(system[1])} "
            f"atoms after {cfg['schottky']} Schottky pair(s); potential {cfg['potential']}; "
            f"out {out}"
        )
        for temperature in cfg["temperatures"]:
            stem = _stem(run_cfg, temperature)
            done = out / f"{stem}.npz"
            if done.is_file() and not args.force:
                print(f"  {temperature:.0f} K: done ({done.name}); --force to redo")
                continue
            if args.force:
                shutil.rmtree(work / stem, ignore_errors=True)
            records.append(
                run_temperature(run_cfg, temperature, out, work, args.threads, system, command)
            )
    print(f"total {time.perf_counter() - t0:.1f} s")
    if args.smoke:
        for rec in records:
            traj = load_trajectory(out / rec["file"])
            assert traj.n_frames == cfg["steps"] // cfg["dump_every"] + 1, traj
            assert rec["result"]["completed"] and rec["potential"]["doi"]
        print(f"smoke: OK ({len(records)} temperatures; files in {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
