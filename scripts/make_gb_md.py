#!/usr/bin/env python
"""Make the grain-boundary MD trajectories shipped in ``lilib/data/md/gb/`` (LAMMPS, rigid ions).

System: a Li2O Σ5(310)[001] symmetric-tilt bicrystal (``lilib.gb.build_gb``, in-plane repeat
2 × 2, grains ≥ 12 Å: 456 atoms) with ``--schottky`` Schottky defects (2 Li + 1 O vacancies
each) drawn among the atoms within 3 Å of a GB plane, so that Li can move; and, as the bulk
control, an antifluorite 3×3×3 supercell (324 atoms) with Schottky defects at the same number
per formula unit, placed at random. Each seed of ``FULL["seeds"]`` places the defects anew and
draws new velocities. Potential: ``Li2O_Pedone2006`` (``lilib.potentials``; Pedone et al. 2006,
partial charges; its lattice constant is within 0.1 % of experiment, see its file). The LiF
Tosi–Fumi set is not used: in that model rock salt is metastable and GB cells turn
4-coordinated (see ``lilib/data/potentials/README.md``). For each seed and temperature, GB cell
and bulk control alike: positions minimised at the built cell, velocities at T, ``--npt-steps``
of anisotropic NPT at 0 GPa (cell and GB relax, thermal expansion), then ``--steps`` of
Nosé–Hoover NVT, unwrapped positions every ``--dump-every`` steps
(``lilib.md.lammps.run_lammps_md``).

Outputs per cell, seed and temperature, in ``--out`` (default ``lilib/data/md/gb``):

- ``<tag>_<T>K_s<seed>.npz`` (compressed), tag ``Li2O_sigma5_310`` or ``Li2O_bulk``: ``positions``
  (n_frames, n_atoms, 3) float32 Å, unwrapped; ``cell`` (3, 3) Å (the NPT-equilibrated cell,
  fixed in NVT); ``symbols``; for the GB cell ``grain`` (0/1), ``distance_to_gb_A`` and
  ``gb_positions_A`` of the built cell (scale ``gb_positions_A`` by the cell's z ratio for the
  NPT cell); ``timestep_fs`` between frames; ``temperature_K``. Read back with
  :func:`load_trajectory` of this script or ``lilib.md.Trajectory(positions=..., cell=...,
  symbols=..., timestep_fs=..., unwrapped=True)``.
- ``<tag>_<T>K_s<seed>.json``: provenance — engine (LAMMPS version), potential (name, DOI, table,
  where it was read), every MD setting, the cell (GB summary or bulk repeat) and removed atoms,
  the measured steps/s and wall time, Li–O coordination at the first and last frame, date,
  script, command, git commit, machine.

- with ``--derive DIR``: ``<stem>.derived.json`` per run (``lilib.store.read_result_file`` with
  ``DERIVED_FORMAT``): the analysis of notebook 14 (``ANALYSIS``) — the Li D(z) profile
  (``lilib.gb.GBProfile``) of a GB cell, or the Li tracer D* (``lilib.md.Diffusivity``) and MSD
  curve of a bulk control — with displacement checks, the run's record and this step's
  provenance. Research-size runs ship this way (tens of kB instead of tens of MB):
  ``lilib/data/md/gb_research/``.

Checkpoints: ``--work`` (default ``build/gb_md``) holds one LAMMPS workdir per run
(data file, logs, dump, restart files); a killed run resumes from its last restart file and
appends, and a finished run (its ``.npz`` in ``--out``) is skipped (``--force`` redoes it).
``--estimate`` times a short run of the GB cell and prints the projected wall time.

Usage::

    python scripts/make_gb_md.py --smoke            # small cells, 2 temperatures, temp dir, seconds
    python scripts/make_gb_md.py --estimate         # steps/s of the full cell → projected hours
    nice -n 10 python scripts/make_gb_md.py --threads 2   # the shipped set (~1 h, checkpointed)
    # research size, as shipped in lilib/data/md/gb_research (3 015 + 1 479 atoms, 200 ps each,
    # ~45 min per temperature on 2 cores), then its analysis:
    python scripts/make_gb_md.py --in-plane-repeat 5 3 --grain-A 25 --bulk-repeat 5 5 5 \
        --schottky 15 --steps 100000 --temperatures 1000 900 800 --seeds 2027 --threads 2 \
        --out build/gb-research/out --work build/gb-research/work
    python scripts/make_gb_md.py --derive-only --out build/gb-research/out \
        --derive lilib/data/md/gb_research
"""

from __future__ import annotations

import argparse
import json
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
from lilib.provenance import run_environment, utc_now  # noqa: E402

SCRIPT = "scripts/make_gb_md.py"
OUT_DEFAULT = ROOT / "lilib" / "data" / "md" / "gb"
WORK_DEFAULT = ROOT / "build" / "gb_md"
FORMAT = "lilib.gb-md.v1"
DERIVED_FORMAT = "lilib.gb-md-derived.v1"
#: the analysis of notebook 14, applied by ``--derive`` (frames 200 fs apart: lags 0.4 and 2 ps)
ANALYSIS = {
    "species": "Li",
    "lag_frames": (2, 10),
    "bin_width_A": 1.0,
    "min_hops": 30,
    "fit_window": (0.1, 0.5),
    "moved_threshold_A": 1.6,
    "msd_points": 400,
}

FULL = {
    "material": "Li2O",
    "potential": "Li2O_Pedone2006",
    "schottky_unit": {"Li": 2, "O": 1},
    "axis": (0, 0, 1),
    "sigma": 5,
    "plane": (3, 1, 0),
    "in_plane_repeat": (2, 2),
    "min_grain_thickness_A": 12.0,
    "bulk_repeat": (3, 3, 3),
    "schottky": 4,
    "near_gb_A": 3.0,
    # A probe of this cell at 1000 K (2026-11-28) kept antifluorite (Li mostly 4 O within
    # 2.6 Å, first and last frame alike) with thousands of Li hops in 10 ps: the model's Li
    # sublattice is very mobile there, so the range stays at and below 1000 K.
    "temperatures": (700.0, 800.0, 900.0, 1000.0),
    "seeds": (2027, 2028),
    "timestep_fs": 2.0,
    "npt_steps": 1_500,
    "steps": 10_000,
    "dump_every": 100,
    "restart_every": 2_500,
    "seed": 2027,
}
SMOKE = dict(
    FULL,
    in_plane_repeat=(1, 1),
    min_grain_thickness_A=8.0,
    bulk_repeat=(2, 2, 2),
    schottky=1,
    temperatures=(900.0, 1000.0),
    seeds=(2027,),
    npt_steps=100,
    steps=400,
    dump_every=5,
    restart_every=200,
)


def _environment(threads: int | None = None) -> dict[str, Any]:
    """Versions, git state and machine, taken when a step starts (the code that ran); with
    ``threads`` for an MD run (the analysis step runs no LAMMPS)."""
    extra = {} if threads is None else {"lammps_threads": threads}
    return run_environment(("lilib", "lammps", "ase", "numpy"), ROOT, **extra)


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
        gb.atoms, cfg["schottky_unit"], cfg["schottky"], seed=cfg["seed"], candidates=near
    )
    removed = atoms.info["schottky_removed"]
    kept = np.setdiff1d(np.arange(len(gb.atoms)), removed)
    return gb, atoms, kept


def build_bulk(cfg: dict[str, Any], gb_formula_units: int):
    """The bulk control: a supercell with Schottky defects at the GB cell's number per
    formula unit (at least one), placed at random."""
    from lilib import structures

    cell = structures.load(cfg["material"]).repeat(cfg["bulk_repeat"])
    n_fu = len(cell) // sum(cfg["schottky_unit"].values())
    n = max(1, round(cfg["schottky"] * n_fu / gb_formula_units))
    return schottky_defects(cell, cfg["schottky_unit"], n, seed=cfg["seed"])


def coordination(atoms, cation: str = "Li", anion: str = "O", cutoff_A: float = 2.6) -> dict:
    """Histogram of the number of ``anion`` within ``cutoff_A`` of each ``cation``."""
    from ase.neighborlist import neighbor_list

    i, j = neighbor_list("ij", atoms, cutoff_A)
    sym = np.array(atoms.get_chemical_symbols())
    mask = (sym[i] == cation) & (sym[j] == anion)
    counts = np.bincount(i[mask], minlength=len(atoms))[sym == cation]
    return {str(k): int(v) for k, v in enumerate(np.bincount(counts)) if v}


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


def _stem(cfg: dict[str, Any], temperature: float, bulk: bool = False) -> str:
    """File stem of one run: material, GB (or 'bulk'), temperature and seed."""
    tag = f"{cfg['material']}_bulk" if bulk else (
        f"{cfg['material']}_sigma{cfg['sigma']}_{''.join(map(str, cfg['plane']))}")  # fmt: skip
    return f"{tag}_{temperature:.0f}K_s{cfg['seed']}"


def run_cell(
    cfg: dict[str, Any],
    temperature: float,
    out: Path,
    work: Path,
    threads: int,
    atoms,
    stem_name: str,
    system_record: dict[str, Any],
    arrays: dict[str, np.ndarray],
    command: str,
) -> dict[str, Any]:
    """One MD run (GB cell or bulk control) and its shipped .npz/.json; returns the record."""
    stem = out / stem_name
    pot = load_potential(cfg["potential"])
    environment = _environment(threads)
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
        workdir=work / stem_name,
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
        timestep_fs=traj.timestep_fs,
        temperature_K=temperature,
        **arrays,
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
            **system_record,
            "n_atoms": len(atoms),
            "composition": atoms.get_chemical_formula(),
            "schottky_unit": cfg["schottky_unit"],
            "schottky_removed_indices": atoms.info["schottky_removed"],
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
            "li_o_coordination_first_frame": coordination(traj.to_atoms(0)),
            "li_o_coordination_last_frame": coordination(traj.to_atoms(traj.n_frames - 1)),
            "coordination_cutoff_A": 2.6,
        },
        "provenance": {
            "date": utc_now(),
            "script": SCRIPT,
            "command": command,
            "threads": threads,
            **environment,
        },
    }
    stem.with_suffix(".json").write_text(json.dumps(record, indent=1, default=str) + "\n")
    print(
        f"  {stem_name}: {traj.n_frames} frames, {run.steps_run} steps in {wall:.1f} s "
        f"({run.steps_per_s:.1f} steps/s), <T> = {record['result']['mean_temperature_K']:.0f} K, "
        f"Li–O coordination (last frame) {record['result']['li_o_coordination_last_frame']}"
    )
    return record


def run_gb(cfg, temperature, out, work, threads, system, command) -> dict[str, Any]:
    """The GB cell at one temperature."""
    gb, atoms, kept = system
    summary = {k: (list(v) if isinstance(v, tuple) else v) for k, v in gb.summary().items()}
    arrays = {
        "grain": np.asarray(gb.grain)[kept],
        "distance_to_gb_A": gb.distance_to_gb_A()[kept],
        "gb_positions_A": np.asarray(gb.gb_positions_A),
        "built_cell": np.asarray(gb.atoms.cell),
    }
    record = {"kind": "gb", "gb": summary, "schottky_pairs": cfg["schottky"],
              "schottky_within_A_of_gb": cfg["near_gb_A"]}  # fmt: skip
    return run_cell(cfg, temperature, out, work, threads, atoms, _stem(cfg, temperature),
                    record, arrays, command)  # fmt: skip


def run_bulk(cfg, temperature, out, work, threads, atoms, command) -> dict[str, Any]:
    """The bulk control at one temperature."""
    record = {"kind": "bulk", "repeat": list(cfg["bulk_repeat"]),
              "schottky_pairs": len(atoms.info["schottky_removed"]) //
              sum(cfg["schottky_unit"].values())}  # fmt: skip
    return run_cell(cfg, temperature, out, work, threads, atoms,
                    _stem(cfg, temperature, bulk=True), record, {}, command)  # fmt: skip


def estimate(cfg: dict[str, Any], threads: int, steps: int = 300) -> float:
    """Steps/s of the full cell (a short NVT run) and the projected wall time, printed."""
    _, atoms, _ = build_system(cfg)  # the GB cell
    with tempfile.TemporaryDirectory(prefix="lilib-gb-estimate-") as tmp:
        run = run_lammps_md(
            atoms, cfg["potential"], cfg["temperatures"][0], steps,
            timestep_fs=cfg["timestep_fs"], dump_every=100, workdir=tmp, threads=threads,
        )  # fmt: skip
    per_t = cfg["npt_steps"] + cfg["steps"]
    total = per_t * len(cfg["temperatures"]) * len(cfg["seeds"]) / run.steps_per_s
    print(
        f"{len(atoms)} atoms, {threads} thread(s): {run.steps_per_s:.1f} steps/s; "
        f"{len(cfg['seeds'])} seeds × {len(cfg['temperatures'])} × ({cfg['npt_steps']} NPT + "
        f"{cfg['steps']} NVT) steps ≈ {total / 3600:.1f} h for the GB cells (bulk controls less)"
    )
    return run.steps_per_s


def _displacement_checks(traj: Trajectory, threshold_A: float) -> dict[str, float]:
    """⟨Δr²⟩ (Å²) of O and Li between the first and last frame, and the fraction of each
    displaced by more than ``threshold_A`` (half the O–O distance: a melt moves most O)."""
    out = {}
    for s in ("O", "Li"):
        sel = traj.select(s).positions
        dr = np.asarray(sel[-1], dtype=np.float64) - np.asarray(sel[0], dtype=np.float64)
        out[f"{s}_msd_first_last_A2"] = float((dr**2).sum(axis=1).mean())
        out[f"{s}_moved_fraction"] = float(np.mean(np.linalg.norm(dr, axis=1) > threshold_A))
    return out


def derive(runs: Path, out: Path, command: str, force: bool = False) -> list[Path]:
    """The analysis of every finished run in ``runs`` as ``<stem>.derived.json`` in ``out``:
    the Li D(z) profile (``lilib.gb.GBProfile``) of a GB cell or the Li tracer D* (with its
    MSD curve) of a bulk control, the displacement checks, the run's record and this step's
    provenance. Small (tens of kB) where the trajectories are tens of MB."""
    from lilib.gb import gb_profile
    from lilib.md import transport
    from lilib.store import write_result_file

    out.mkdir(parents=True, exist_ok=True)
    environment = _environment()  # before any file is written (rewrites would read as dirty)
    written = []
    for jpath in sorted(runs.glob("*.json")):
        if jpath.name.endswith(".derived.json"):
            continue
        record = json.loads(jpath.read_text())
        if record.get("format") != FORMAT:
            continue
        target = out / f"{jpath.stem}.derived.json"
        if target.is_file() and not force:
            print(f"  {target.name}: exists; --force to redo")
            continue
        t0 = time.perf_counter()
        traj = load_trajectory(runs / record["file"])
        result: dict[str, Any] = {"profile": None, "tracer": None, "msd": None}
        if record["system"]["kind"] == "gb":
            with np.load(runs / record["file"]) as z:  # planes of the NPT-equilibrated cell
                planes = z["gb_positions_A"] * z["cell"][2, 2] / z["built_cell"][2, 2]
            result["profile"] = gb_profile(
                traj, planes, ANALYSIS["species"], lag_frames=ANALYSIS["lag_frames"],
                bin_width_A=ANALYSIS["bin_width_A"], min_hops=ANALYSIS["min_hops"],
                on_insufficient="mask",
            )  # fmt: skip
        else:
            res = transport(traj.remove_drift(mobile="Li"), ANALYSIS["species"],
                            fit_window=ANALYSIS["fit_window"])  # fmt: skip
            step = max(1, res.msd.times_ps.size // ANALYSIS["msd_points"])
            result["tracer"] = res.tracer
            result["msd"] = {
                "times_ps": res.msd.times_ps[::step].astype(np.float32),
                "msd_A2": res.msd.msd_A2[::step].astype(np.float32),
            }
        write_result_file(
            target,
            {
                "run": record,
                "run_file_bytes": (runs / record["file"]).stat().st_size,
                "checks": _displacement_checks(traj, ANALYSIS["moved_threshold_A"]),
                **result,
                "analysis": {
                    **ANALYSIS,
                    "wall_s": time.perf_counter() - t0,
                    "date": utc_now(),
                    "script": SCRIPT,
                    "command": command,
                    **environment,
                },
            },
            DERIVED_FORMAT,
        )
        print(f"  {target.name}: {target.stat().st_size / 1e3:.0f} kB")
        written.append(target)
    return written


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
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="subset of seeds")
    parser.add_argument("--in-plane-repeat", type=int, nargs=2, default=None,
                        help="CSL cells in the GB plane (research size: e.g. 5 3)")  # fmt: skip
    parser.add_argument("--grain-A", type=float, default=None,
                        help="minimum grain thickness, Å (research size: e.g. 25)")  # fmt: skip
    parser.add_argument("--bulk-repeat", type=int, nargs=3, default=None,
                        help="conventional cells of the bulk control (e.g. 6 6 6)")  # fmt: skip
    parser.add_argument("--derive", type=Path, default=None, metavar="DIR",
                        help="after the runs, write the analysis of every run in --out to DIR "
                        "(<stem>.derived.json: D(z) or D*, checks, provenance)")  # fmt: skip
    parser.add_argument("--derive-only", action="store_true",
                        help="run no MD: only --derive the finished runs in --out")  # fmt: skip
    args = parser.parse_args(argv)
    command = shlex.join([SCRIPT, *(sys.argv[1:] if argv is None else argv)])

    cfg = dict(SMOKE if args.smoke else FULL)
    for key in ("temperatures", "steps", "npt_steps", "dump_every", "schottky"):
        value = getattr(args, key)
        if value is not None:
            cfg[key] = tuple(value) if key == "temperatures" else value
    for arg, key in (("in_plane_repeat", "in_plane_repeat"), ("grain_A", "min_grain_thickness_A"),
                     ("bulk_repeat", "bulk_repeat")):  # fmt: skip
        value = getattr(args, arg)
        if value is not None:
            cfg[key] = tuple(value) if isinstance(value, list) else value
    if args.estimate:
        estimate(cfg, args.threads)
        return 0
    if args.derive_only:
        if args.derive is None or args.out is None:
            parser.error("--derive-only needs --out (the runs) and --derive (where to write)")
        derive(args.out, args.derive, command, force=args.force)
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
    seeds = cfg["seeds"] if args.seeds is None else tuple(args.seeds)
    for seed in seeds:  # a seed places the Schottky defects and draws the velocities
        run_cfg = dict(cfg, seed=seed)
        system = build_system(run_cfg)
        n_fu = len(system[0].atoms) // sum(cfg["schottky_unit"].values())
        bulk = build_bulk(run_cfg, n_fu)
        print(
            f"{cfg['material']} Σ{cfg['sigma']}{cfg['plane']} seed {seed}: {len(system[1])} "
            f"atoms after {cfg['schottky']} Schottky defect(s); bulk control {len(bulk)} atoms; "
            f"potential {cfg['potential']}; out {out}"
        )
        for temperature in cfg["temperatures"]:
            for is_bulk in (False, True):
                stem = _stem(run_cfg, temperature, bulk=is_bulk)
                done = out / f"{stem}.npz"
                if done.is_file() and not args.force:
                    print(f"  {stem}: done; --force to redo")
                    continue
                if args.force:
                    shutil.rmtree(work / stem, ignore_errors=True)
                if is_bulk:
                    rec = run_bulk(run_cfg, temperature, out, work, args.threads, bulk, command)
                else:
                    rec = run_gb(run_cfg, temperature, out, work, args.threads, system, command)
                records.append(rec)
    print(f"total {time.perf_counter() - t0:.1f} s")
    derive_to = args.derive or (out / "derived" if args.smoke else None)
    derived = derive(out, derive_to, command, force=args.force) if derive_to else []
    if args.smoke:
        for rec in records:
            traj = load_trajectory(out / rec["file"])
            assert traj.n_frames == cfg["steps"] // cfg["dump_every"] + 1, traj
            assert rec["result"]["completed"] and rec["potential"]["doi"]
        from lilib.store import read_result_file

        assert len(derived) == len(records), (derived, records)
        for path in derived:
            d = read_result_file(path, DERIVED_FORMAT)
            assert (d["profile"] is None) != (d["tracer"] is None), path
            assert d["run"]["file"] and d["analysis"]["lilib_git_commit"] is not None, path
        print(f"smoke: OK ({len(records)} runs, {len(derived)} derived; files in {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
