#!/usr/bin/env python
"""Make the shipped rotor-phase MD trajectories in ``lilib/data/md/rotor/`` (SevenNet-0, NVT).

System: high-temperature LiBH4 (``lilib.structures.load('LiBH4-HT')``, P6_3mc, Filinchuk et
al. 2008, the X-ray cell at 535 K, Z = 2), a rotor phase: BH4⁻ reorients on a ps time scale
while Li⁺ conducts. Default supercell 2×2×2: 96 atoms, 16 BH4⁻, 16 Li⁺ (perpendicular widths
7.4 / 7.4 / 14.1 Å, above SevenNet-0's 5 Å cutoff); ``--supercell 2 2 1``: 48 atoms, 8 BH4⁻
(7.4 / 7.4 / 7.0 Å).

Protocol per temperature (400, 450, 500, 550 K: the HT phase exists above ~380 K and melts at
~540 K in experiment; 1000/T spans 2.5 to 1.8 for an Arrhenius plot of rotation rates):

1. positions relaxed at the fixed experimental cell (once, on the 12-atom cell; FIRE, fmax
   0.05 eV/Å): the refined X-ray H positions give B–H = 1.04–1.11 Å (X-ray sees the bond's
   electron density, not the proton; real ~1.22 Å), 5.5 eV/Å forces and a heat spike otherwise;
2. ``lilib.md.run_md``: Bussi stochastic velocity rescaling (time constant 100 fs) — a global
   thermostat that leaves rotational dynamics nearly intact, unlike Langevin friction on every H;
   time step 0.5 fs with the natural H mass; seed = T; 2 ps equilibration + 20 ps production;
   frames every 5 fs with velocities in the (not shipped) workdir, checkpointed every 5 min;
3. shipped: the production part, positions as float32 every 10 fs (unwrapped, Å) with per-frame
   T and energies, ``np.savez_compressed`` → ``<name>_<T>K.npz`` (2.3 MB raw, ≈ 2.1 MB
   compressed each, ≈ 8.3 MB for all four), and ``<name>_<T>K.json`` with the provenance
   (engine, model, versions, settings, date, git commit, machine, command), run checks (mean T, conserved-energy drift, wall time),
   VDOS band centres (``lilib.md.vdos`` from the 5 fs velocities: defined where harmonic
   phonons of this phase are imaginary) and a B–H orientation check (l = 1 autocorrelation).

Time step: the B–H stretch is ~70 THz (≈ 2300 cm⁻¹, period 14 fs); 0.5 fs gives 28 steps per
period (good energy conservation under Bussi, checked by ``conserved_drift_meV_per_atom_ps``).
The alternative, 1 fs with H given the deuterium mass (2.014 amu, ``--deuterium``), halves the
cost but makes rotations slower: classical rotational attempt rates scale as 1/√I, so D jumps
√2 ≈ 1.4× less often at equal barrier (the Arrhenius energy is unchanged classically) and the H
bands of the VDOS move down by √2. We keep natural H at 0.5 fs so that rates and spectra refer
to LiBH4; ``--deuterium`` is recorded in the provenance and the file names (``LiBD4``).

Cost, measured on this 2-core shared machine (SevenNet-0 on CPU, 1 torch thread, Dec 2026;
``--benchmark 30``): 96 atoms 1.57 s/step at load 1.3 and 2.2 s/step at load 3.3 (216 atoms
5.6 s/step, 12 atoms 0.15 s/step); model load 3 s, relaxation of the 12-atom cell 9 s (43 FIRE
steps). Full run: 4 temperatures × 44 000 steps × 1.6–2.2 s ≈ 78–108 h on one CPU thread (two
temperatures at a time on 2 cores: ~40–55 h wall); ``--deuterium`` (1 fs) halves it. On a GPU the
step of a ~100-atom graph through ASE is bound by per-step overhead (graph building on the CPU,
Python integrator); tens of ms per step is the usual order, i.e. roughly 1–3 h for the whole set,
but this is NOT measured (DESIGN.md and the sevenn docs give no number): run
``--benchmark 50 --device cuda`` there first. Li hops are rare on this time scale
(D ≈ 10⁻⁷ cm²/s gives ~0.1 hop per Li in 20 ps): hop–rotation coupling statistics need a longer
production (``--production-ps``); rotations do not.

The shipped run (2026-11-28, no GPU in that session) is the affordable cut of this protocol:
``--supercell 2 2 1 --deuterium --temperatures 550 --threads 2 --equilibration-ps 1
--production-ps 12`` — 48 atoms (8 BH4⁻), 13 000 steps of 1 fs; 0.42–0.47 s/step with 2 torch
threads on an otherwise idle 2-core machine (``--benchmark 20``: 0.76 s/step with 1 thread), about
1.1 s/step while other jobs shared the cores; the JSON records the wall time. A short probe of it
found ~0.7 reorientations per BH4⁻ per ps, hence 12 ps for ≥ 50 events among the 8 groups.

Usage::

    python scripts/make_rotor_md.py --supercell 2 2 1 --deuterium --temperatures 550 \
        --threads 2 --equilibration-ps 1 --production-ps 12      # the shipped run (~2-3 h on 2 cores)
    nice -n 10 python scripts/make_rotor_md.py                      # all temperatures (days on CPU)
    python scripts/make_rotor_md.py --temperatures 500 --device cuda
    python scripts/make_rotor_md.py --benchmark 30                  # step cost, estimated totals
    python scripts/make_rotor_md.py --smoke                         # seconds: 12 atoms, a few steps

Checkpoints in ``build/rotor_md/<name>/``: ``relax.json`` and one ``run_md`` workdir per
temperature (resumable after any kill; rerun the same command). A temperature whose ``.json``
says ``"status": "done"`` is skipped unless ``--force``. ``lilib/data/md/README.md`` is rewritten
with a table of the shipped runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
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

from lilib._files import read_json  # noqa: E402
from lilib.provenance import package_version, run_environment, utc_now  # noqa: E402

SCRIPT = "scripts/make_rotor_md.py"
FORMAT = "lilib.data.md.rotor/1"
DATA_ROOT = ROOT / "lilib" / "data" / "md"
OUT_DEFAULT = DATA_ROOT / "rotor"
WORK_DEFAULT = ROOT / "build" / "rotor_md"
MODEL = "sevennet-0"
D_MASS = 2.01410178  # amu
README_HEAD = "# MD trajectories shipped with lilib\n"
README_BEGIN = "<!-- rotor: written by scripts/make_rotor_md.py -->"
README_END = "<!-- /rotor -->"

REAL: dict[str, Any] = {
    "structure": "LiBH4-HT",
    "supercell": [2, 2, 2],
    "temperatures_K": [400.0, 450.0, 500.0, 550.0],
    "timestep_fs": 0.5,
    "deuterium": False,
    "thermostat": "bussi",
    "tdamp_fs": 100.0,
    "equilibration_ps": 2.0,
    "production_ps": 20.0,
    "save_every": 10,  # workdir frames every 5 fs, with velocities
    "ship_stride": 2,  # shipped frames every 10 fs
    "relax_fmax_eV_A": 0.05,
    "relax_steps": 300,
    "checkpoint_every_s": 300.0,
}
SMOKE: dict[str, Any] = {
    **REAL,
    "supercell": [1, 1, 1],
    "temperatures_K": [500.0],
    "equilibration_ps": 0.001,  # 2 steps
    "production_ps": 0.004,  # 8 steps
    "save_every": 1,
    "ship_stride": 1,
    "relax_fmax_eV_A": 0.5,
    "relax_steps": 5,
    "checkpoint_every_s": None,
    "checkpoint_every_steps": 2,
}


# ---------------------------------------------------------------------------- small helpers


def write_json(path: Path, record: dict) -> None:
    """Write atomically: a temporary name in the same folder, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(record, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def environment(device: str) -> dict:
    """Package versions, git commit and machine of this run."""
    import torch

    packages = ["lilib", "sevenn", "torch", "e3nn", "ase", "numpy", "scipy"]
    return run_environment(packages, ROOT, torch_threads=torch.get_num_threads(), device=device)


def _set_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)
    with contextlib.suppress(RuntimeError):  # only settable before parallel work started
        torch.set_num_interop_threads(1)


# ---------------------------------------------------------------------------- structure


def relaxed_cell(settings: dict, calc, work: Path) -> tuple[Any, dict]:
    """The unit cell with positions relaxed at the fixed cell (cached in ``work/relax.json``)."""
    from ase import Atoms

    from lilib import structures
    from lilib.phonons import relax

    path = work / "relax.json"
    key = {k: settings[k] for k in ("structure", "relax_fmax_eV_A", "relax_steps")}
    cached = read_json(path)
    if cached is None or cached.get("key") != key:
        atoms = structures.load(settings["structure"])
        t0 = time.perf_counter()
        res = relax(atoms, calc, fmax=settings["relax_fmax_eV_A"], steps=settings["relax_steps"],
                    cell=False, optimizer="FIRE")  # fmt: skip
        relaxed = res.atoms
        cached = {
            "key": key,
            "method": "lilib.phonons.relax(cell=False, optimizer='FIRE'): positions only, the "
            "experimental cell kept",
            "converged": res.converged,
            "n_steps": res.n_steps,
            "max_force_eV_A": res.max_force_eV_A,
            "energy_per_atom_eV": res.energy_eV / len(relaxed),
            "b_h_distances_A": _b_h_distances(relaxed),
            "b_h_distances_published_A": _b_h_distances(atoms),
            "wall_s": round(time.perf_counter() - t0, 2),
            "numbers": [int(z) for z in relaxed.numbers],
            "cell_A": np.asarray(relaxed.cell[:]).tolist(),
            "positions_A": relaxed.positions.tolist(),
            "info": {k: v for k, v in atoms.info.items() if isinstance(v, str | int | float)},
        }
        write_json(path, cached)
    atoms = Atoms(numbers=cached["numbers"], positions=cached["positions_A"],
                  cell=cached["cell_A"], pbc=True)  # fmt: skip
    return atoms, cached


def _b_h_distances(atoms) -> list[float]:
    from ase.neighborlist import neighbor_list

    i, j, d = neighbor_list("ijd", atoms, 1.6)
    sym = np.array(atoms.get_chemical_symbols())
    mask = (sym[i] == "B") & (sym[j] == "H")
    return sorted({round(float(x), 3) for x in d[mask]})


def md_atoms(settings: dict, unit) -> Any:
    atoms = unit.repeat(tuple(settings["supercell"]))
    if settings["deuterium"]:
        masses = atoms.get_masses()
        masses[np.array(atoms.get_chemical_symbols()) == "H"] = D_MASS
        atoms.set_masses(masses)
    return atoms


def run_name(settings: dict, temperature: float) -> str:
    base = settings["structure"].replace("LiBH4", "LiBD4") if settings["deuterium"] else (
        settings["structure"])  # fmt: skip
    return f"{base}_{round(temperature)}K"


def n_steps_of(settings: dict) -> tuple[int, int]:
    """(equilibration steps, total steps), both multiples of save_every × ship_stride."""
    stride = settings["save_every"] * settings["ship_stride"]
    dt = settings["timestep_fs"]
    equil = math.ceil(settings["equilibration_ps"] * 1000.0 / dt / stride) * stride
    prod = math.ceil(settings["production_ps"] * 1000.0 / dt / stride) * stride
    return equil, equil + prod


# ---------------------------------------------------------------------------- checks


def orientation_check(traj, times_ps=(0.5, 1.0, 5.0)) -> dict:
    """l = 1 autocorrelation ⟨u(0)·u(t)⟩ of the B–H unit vectors (a check, not the analysis).

    H atoms are assigned to their nearest B in the first frame (minimum image); C1 → 0 when the
    anions reorient fully, stays near 1 for librations only. ``tau_1e_ps``: first time C1 < 1/e.
    """
    sym = np.asarray(traj.symbols)
    b, h = np.flatnonzero(sym == "B"), np.flatnonzero(sym == "H")
    if b.size == 0 or h.size == 0:
        return {}
    cell = np.asarray(traj.cells[0])
    inv = np.linalg.inv(cell)
    pos0 = np.asarray(traj.positions[0], dtype=float)
    d = pos0[h][:, None, :] - pos0[b][None, :, :]
    d -= np.rint(d @ inv) @ cell
    owner = b[np.argmin(np.linalg.norm(d, axis=2), axis=1)]
    pos = np.asarray(traj.positions, dtype=float)
    vec = pos[:, h] - pos[:, owner]
    vec -= np.rint(vec @ inv) @ cell  # a bond never spans half a cell
    u = vec / np.linalg.norm(vec, axis=2, keepdims=True)
    n = u.shape[0]
    c1 = np.array([np.mean(np.sum(u[: n - k] * u[k:], axis=2)) for k in range(n // 2)])
    t_ps = np.arange(n // 2) * traj.timestep_fs / 1000.0
    below = np.flatnonzero(c1 < 1.0 / math.e)
    out = {"c1_at_ps": {}, "tau_1e_ps": float(t_ps[below[0]]) if below.size else None}
    for t in times_ps:
        k = round(t / (traj.timestep_fs / 1000.0))
        out["c1_at_ps"][str(t)] = float(c1[k]) if k < c1.size else None
    return out


def rotation_check(traj) -> dict:
    """Reorientation events and Legendre C1/C2 of the BH4⁻ groups (``lilib.rotations``)."""
    from lilib.rotations import rotation_analysis

    long_enough = traj.duration_ps >= 1.0  # the C1/C2 fit needs lags past 0.2 ps (smoke: not)
    ra = rotation_analysis(traj, centres="B", ligands="H", seed=0, acf=long_enough)
    ev = ra.events.to_dataframe()
    acf = ra.acf
    return {
        "analysis": "lilib.rotations.rotation_analysis(traj, 'B', 'H') with its default "
        "hysteresis (θ_in, θ_out) on the shipped frames",
        "n_groups": int(ra.groups.n_groups),
        "n_events": len(ev),
        "n_groups_with_events": int(ev["group"].nunique()) if len(ev) else 0,
        "rate_per_group_per_ps": float(len(ev) / ra.groups.n_groups / traj.duration_ps),
        "acf_max_lag_ps": float(acf.times_ps[-1]) if acf is not None else None,
        "c1_at_max_lag": float(acf.c1[-1]) if acf is not None else None,
        "c2_at_max_lag": float(acf.c2[-1]) if acf is not None else None,
    }


# ---------------------------------------------------------------------------- one temperature


def make_one(temperature: float, settings: dict, calc, unit, relax_rec: dict, out: Path,
             work: Path, command: str, device: str, force: bool,
             progress: bool) -> dict:  # fmt: skip
    """MD at one temperature (resumable) and its shipped files; returns the provenance record."""
    from lilib.calculators import _LABELS
    from lilib.md.run import run_md
    from lilib.md.vdos import vdos

    name = run_name(settings, temperature)
    jpath, npath = out / f"{name}.json", out / f"{name}.npz"
    wd = work / (f"{round(temperature)}K" + ("_D" if settings["deuterium"] else ""))
    old = read_json(jpath)
    if not force and old is not None and old.get("status") == "done" and npath.is_file():
        print(f"[{name}] done earlier, skipped", flush=True)
        return old
    if force and wd.exists():
        shutil.rmtree(wd)
    atoms = md_atoms(settings, unit)
    equil, total = n_steps_of(settings)
    t0 = time.perf_counter()
    run = run_md(
        atoms, calc, float(temperature), total, settings["timestep_fs"], workdir=wd,
        thermostat=settings["thermostat"], tdamp_fs=settings["tdamp_fs"],
        save_every=settings["save_every"], save_velocities=True, seed=round(temperature),
        progress=progress, checkpoint_every_s=settings["checkpoint_every_s"],
        checkpoint_every_steps=settings.get("checkpoint_every_steps"),
    )  # fmt: skip
    wall_this_call = time.perf_counter() - t0
    first = equil // settings["save_every"]
    stride = settings["ship_stride"]
    traj = run.trajectory()
    shipped = slice(first, None, stride)
    positions = np.asarray(traj.positions[shipped], dtype=np.float32)
    df = run.to_dataframe().iloc[shipped]
    frame_fs = run.frame_timestep_fs * stride
    out.mkdir(parents=True, exist_ok=True)
    tmp = npath.with_name(npath.name + ".part.npz")
    np.savez_compressed(
        tmp,
        positions=positions,
        cell=np.asarray(traj.cell, dtype=np.float64),
        symbols=np.asarray(traj.symbols, dtype="U2"),
        masses=np.asarray(run.masses, dtype=np.float64),
        timestep_fs=np.float64(frame_fs),
        temperature_K=np.float64(temperature),
        time_origin_ps=np.float64(equil * settings["timestep_fs"] / 1000.0),
        temperatures_K=df["temperature_K"].to_numpy(np.float32),
        potential_energies_eV=df["potential_eV"].to_numpy(np.float64),
    )
    os.replace(tmp, npath)

    prod = traj[first:]
    spectrum = vdos(run, skip_ps=equil * settings["timestep_fs"] / 1000.0)
    conserved = run.conserved_energies_eV[first:]
    duration_ps = (len(conserved) - 1) * run.frame_timestep_fs / 1000.0
    drift = (conserved[-1] - conserved[0]) / len(atoms) / duration_ps * 1000 if duration_ps else 0.0
    t_prod = run.temperatures_K[first:]
    rec = {
        "format": FORMAT,
        "name": name,
        "status": "done" if run.complete else "partial",
        "file": npath.name,
        "file_keys": {
            "positions": "(n_frames, n_atoms, 3) float32, Å, Cartesian, unwrapped",
            "cell": "(3, 3) Å, rows are cell vectors (fixed: NVT)",
            "symbols": "(n_atoms,)",
            "masses": "(n_atoms,) amu used in the MD",
            "timestep_fs": "time between shipped frames",
            "temperature_K": "thermostat target",
            "time_origin_ps": "MD time of the first shipped frame (equilibration before it)",
            "temperatures_K": "(n_frames,) kinetic temperature, 3N − 3 degrees of freedom",
            "potential_energies_eV": "(n_frames,) SevenNet-0 energy of the supercell",
        },
        "read_with": "z = np.load(path); lilib.md.Trajectory(positions=z['positions'], "
        "cell=z['cell'], symbols=z['symbols'], timestep_fs=float(z['timestep_fs']), "
        "temperature_K=float(z['temperature_K']), unwrapped=True)",
        "engine": {
            "md": f"ASE {package_version('ase')} integrators driven by lilib.md.run_md "
            "(checkpointed; Bussi: ase.md.bussi.Bussi with ase.constraints.FixCom)",
            "calculator": run.calculator,
            "device": device,
        },
        "model": {
            "name": MODEL,
            "label": _LABELS[MODEL],
            "package": "sevenn",
            "version": package_version("sevenn"),
        },
        "structure": {
            "source": f"lilib.structures.load({settings['structure']!r})",
            "doi": relax_rec.get("info", {}).get("doi"),
            "reference": relax_rec.get("info", {}).get("reference"),
            "cell": "experimental (X-ray, 535 K), not relaxed",
            "positions": "relaxed at fixed cell with the model (build/rotor_md/.../relax.json)",
            "relaxation": {
                k: relax_rec[k]
                for k in (
                    "converged",
                    "n_steps",
                    "max_force_eV_A",
                    "b_h_distances_A",
                    "b_h_distances_published_A",
                )
            },
            "supercell": settings["supercell"],
            "formula": atoms.get_chemical_formula(),
            "n_atoms": len(atoms),
            "hydrogen_mass_amu": float(run.masses[np.array(traj.symbols) == "H"][0]),
        },
        "settings": {
            **{k: v for k, v in settings.items() if k != "temperatures_K"},
            "temperature_K": float(temperature),
            "seed": round(temperature),
            "n_steps": total,
            "equilibration_steps": equil,
            "workdir_frame_fs": run.frame_timestep_fs,
            "shipped_frame_fs": frame_fs,
            "shipped_frames": int(positions.shape[0]),
        },
        "checks": {
            "mean_temperature_K": float(np.mean(t_prod)),
            "std_temperature_K": float(np.std(t_prod)),
            "conserved_drift_meV_per_atom_ps": _finite(float(drift)),
            "vdos_band_centres_THz": spectrum.band_centres_THz,
            "vdos_resolution_THz": spectrum.resolution_THz,
            "vdos_nyquist_THz": spectrum.nyquist_THz,
            "vdos_note": "lilib.md.vdos from the 5 fs workdir velocities of the production part "
            "(mass-weighted, Hann); shipped frames are 10 fs apart (Nyquist 50 THz): the B–H "
            "stretch (~70 THz) aliases in a VDOS computed from them",
            "orientation_c1": orientation_check(prod),
            "rotations": rotation_check(traj[shipped].astype(np.float32)),  # as shipped
            "production_ps": prod.duration_ps,
        },
        "timings": {
            "wall_s_md_total": round(run.wall_s, 2),
            "wall_s_per_step": round(run.wall_s_per_step, 4),
            "steps_integrated": run.steps_integrated,
            "n_force_calls": run.n_force_calls,
            "wall_s_this_call": round(wall_this_call, 2),
            "resumed_from_step_this_call": run.resumed_from_step,
            "note": "MD wall times add up over resumed calls (steps redone after a kill count "
            "twice); shared machine",
        },
        "provenance": {
            "date": utc_now(),
            "script": SCRIPT,
            "command": command,
            **environment(device),
        },
    }
    write_json(jpath, rec)
    c = spectrum.band_centres_THz
    print(f"[{name}] T {rec['checks']['mean_temperature_K']:.0f} ± "
          f"{rec['checks']['std_temperature_K']:.0f} K, drift {drift:+.3f} meV/atom/ps, VDOS "
          f"centres " + ", ".join(f"{k} {v:.2f}" for k, v in c.items()) + " THz, "
          f"{run.wall_s_per_step:.3f} s/step, {npath.stat().st_size / 1e6:.2f} MB",
          flush=True)  # fmt: skip
    return rec


# ---------------------------------------------------------------------------- README


def write_readme(out: Path, readme: Path = DATA_ROOT / "README.md") -> None:
    """The rotor section of ``lilib/data/md/README.md``: the files and one row per shipped run.

    Only the text between the ``rotor`` markers is rewritten; other sections (e.g. ``gb/``,
    written by other scripts or by hand) are kept.
    """
    lines = [
        README_BEGIN,
        "## rotor/: rotor-phase MLIP MD (paddle-wheel analysis)",
        "",
        f"Made by `{SCRIPT}` (its docstring has the protocol, the time-step choice and the cost). "
        "High-temperature LiBH4 (P6_3mc, X-ray cell at 535 K, positions relaxed with the model), "
        "SevenNet-0, NVT with Bussi's thermostat (100 fs); equilibration not shipped; positions "
        "every 10 fs. Supercell, H mass, time step and lengths are per run in the table (LiBD4: "
        "H given the deuterium mass, 1 fs steps).",
        "",
        "Per run `<name>_<T>K.npz` (`np.savez_compressed`): `positions` (n_frames, n_atoms, 3) "
        "float32 Å unwrapped, `cell` (3, 3) Å, `symbols`, `masses` (amu), `timestep_fs`, "
        "`temperature_K`, `time_origin_ps`, `temperatures_K` and `potential_energies_eV` per "
        "frame; and `<name>_<T>K.json`: provenance (engine, model, versions, settings, date, git "
        "commit, machine, command), checks (mean T, conserved-energy drift, VDOS band centres, "
        "B–H orientation autocorrelation) and timings. Read:",
        "",
        "```python",
        'z = np.load("LiBD4-HT_550K.npz")',
        "traj = lilib.md.Trajectory(",
        '    positions=z["positions"],',
        '    cell=z["cell"],',
        '    symbols=z["symbols"],',
        '    timestep_fs=float(z["timestep_fs"]),',
        '    temperature_K=float(z["temperature_K"]),',
        "    unwrapped=True,",
        ")",
        "```",
        "",
        "| run | status | atoms (BH4⁻) | dt fs | equil. + prod. ps | frames | mean T K | "
        "drift meV/atom/ps | reorientations (groups) | C1 / C2 at max lag | "
        "Li / B / H VDOS centre THz | s/step | MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    records = sorted(out.glob("*.json")) if out.is_dir() else []
    if not records:
        lines.append("| (none yet: see the script for the cost) | | | | | | | | | | | | |")
    for path in records:
        r = read_json(path) or {}
        if r.get("format") != FORMAT:
            continue
        ch, tm, st = r.get("checks", {}), r.get("timings", {}), r["settings"]
        rot = ch.get("rotations") or {}
        cen = ch.get("vdos_band_centres_THz", {})
        npz = path.with_suffix(".npz")
        n_atoms = r.get("structure", {}).get("n_atoms", "?")
        lines.append(
            f"| {r.get('name')} | {r.get('status')} | {n_atoms} ({rot.get('n_groups', '?')}) | "
            f"{st['timestep_fs']:g} | {st['equilibration_ps']:g} + {st['production_ps']:g} | "
            f"{st['shipped_frames']} | {ch.get('mean_temperature_K', float('nan')):.0f} | "
            f"{ch.get('conserved_drift_meV_per_atom_ps') or float('nan'):+.3f} | "
            + (f"{rot['n_events']} ({rot['n_groups_with_events']}) | " if rot else "— | ")
            + (
                f"{rot['c1_at_max_lag']:.2f} / {rot['c2_at_max_lag']:.2f} "
                f"({rot['acf_max_lag_ps']:.1f} ps) | "
                if rot.get("c2_at_max_lag") is not None
                else "— | "
            )
            + " / ".join(f"{cen[e]:.2f}" if e in cen else "—" for e in ("Li", "B", "H"))
            + f" | {tm.get('wall_s_per_step', float('nan')):.3f} | "
            f"{npz.stat().st_size / 1e6 if npz.is_file() else float('nan'):.2f} |"
        )
    lines += ["", "Not in the package: the workdirs in `build/rotor_md/` (float64 frames every "
              "5 fs with velocities, checkpoints).", README_END]  # fmt: skip
    section = "\n".join(lines)
    text = readme.read_text(encoding="utf-8") if readme.is_file() else README_HEAD
    if README_BEGIN in text and README_END in text:
        head, rest = text.split(README_BEGIN, 1)
        text = head + section + rest.split(README_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    readme.parent.mkdir(parents=True, exist_ok=True)
    tmp = readme.with_name(readme.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, readme)


# ---------------------------------------------------------------------------- modes


def generate(settings: dict, out: Path, work: Path, device: str, command: str, force: bool,
             progress: bool = True) -> list[dict]:  # fmt: skip
    from lilib import calculators

    calc = calculators.get_calculator(MODEL, device=device)
    wdir = work / settings["structure"]
    wdir.mkdir(parents=True, exist_ok=True)
    unit, relax_rec = relaxed_cell(settings, calc, wdir)
    print(f"relaxed {settings['structure']}: {relax_rec['n_steps']} steps, |F|max "
          f"{relax_rec['max_force_eV_A']:.3f} eV/Å, B–H {relax_rec['b_h_distances_A']} Å "
          f"(published {relax_rec['b_h_distances_published_A']})", flush=True)  # fmt: skip
    return [make_one(t, settings, calc, unit, relax_rec, out, wdir, command, device, force,
                     progress) for t in settings["temperatures_K"]]  # fmt: skip


def benchmark(n_steps: int, settings: dict, device: str, work: Path) -> int:
    """Step cost of the production cell on this machine and the estimated full-run time."""
    from lilib import calculators
    from lilib.md.run import run_md

    t0 = time.perf_counter()
    calc = calculators.get_calculator(MODEL, device=device)
    load_s = time.perf_counter() - t0
    wdir = work / settings["structure"]
    wdir.mkdir(parents=True, exist_ok=True)
    unit, _ = relaxed_cell(settings, calc, wdir)
    atoms = md_atoms(settings, unit)
    with tempfile.TemporaryDirectory(prefix="lilib-rotor-bench-") as tmp:
        run = run_md(atoms, calc, settings["temperatures_K"][-1], n_steps,
                     settings["timestep_fs"], workdir=tmp, thermostat=settings["thermostat"],
                     tdamp_fs=settings["tdamp_fs"], save_every=1, progress=False)  # fmt: skip
    per_step = float(np.median(run.step_wall_s[2:])) if n_steps > 3 else run.wall_s_per_step
    _, total = n_steps_of(settings)
    full = per_step * total * len(settings["temperatures_K"])
    print(json.dumps({
        "atoms": len(atoms), "device": device, "steps": n_steps, "model_load_s": round(load_s, 1),
        "median_s_per_step": round(per_step, 4), "mean_s_per_step": round(run.wall_s_per_step, 4),
        "steps_per_temperature": total, "temperatures": len(settings["temperatures_K"]),
        "estimated_full_run_h": round(full / 3600, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }), flush=True)  # fmt: skip
    return 0


def smoke(threads: int, device: str) -> int:
    """Same code path on the 12-atom cell for a few steps, in a temp dir; checks resume."""
    from lilib.md import Trajectory
    from lilib.md.run import load_run, run_md

    t0 = time.perf_counter()
    _set_threads(threads)
    settings = dict(SMOKE)
    with tempfile.TemporaryDirectory(prefix="lilib-rotor-smoke-") as tmp:
        out, work = Path(tmp) / "out", Path(tmp) / "work"
        from lilib import calculators

        calc = calculators.get_calculator(MODEL, device=device)
        wdir = work / settings["structure"]
        wdir.mkdir(parents=True)
        unit, _ = relaxed_cell(settings, calc, wdir)
        temperature = settings["temperatures_K"][0]
        equil, total = n_steps_of(settings)
        first_part = total // 2
        # an "interrupted" first call: the script's run then resumes it
        run_md(md_atoms(settings, unit), calc, temperature, first_part, settings["timestep_fs"],
               workdir=wdir / f"{int(temperature)}K", thermostat=settings["thermostat"],
               tdamp_fs=settings["tdamp_fs"], save_every=settings["save_every"],
               save_velocities=True, seed=int(temperature), progress=False,
               checkpoint_every_s=None, checkpoint_every_steps=2)  # fmt: skip
        recs = generate(settings, out, work, device, "make_rotor_md.py --smoke", False, False)
        ref = run_md(md_atoms(settings, unit), calc, temperature, total, settings["timestep_fs"],
                     workdir=Path(tmp) / "reference", thermostat=settings["thermostat"],
                     tdamp_fs=settings["tdamp_fs"], save_every=settings["save_every"],
                     save_velocities=True, seed=int(temperature), progress=False,
                     checkpoint_every_s=None, checkpoint_every_steps=2)  # fmt: skip
        resumed = load_run(wdir / f"{int(temperature)}K")
        rec = recs[0]
        z = np.load(out / rec["file"])
        traj = Trajectory(positions=z["positions"], cell=z["cell"], symbols=z["symbols"],
                          timestep_fs=float(z["timestep_fs"]),
                          temperature_K=float(z["temperature_K"]), unwrapped=True)  # fmt: skip
        again = generate(settings, out, work, device, "make_rotor_md.py --smoke", False, False)
        assert again[0]["provenance"]["date"] == rec["provenance"]["date"]  # skipped when done
        result = {
            "model": MODEL,
            "n_atoms": traj.n_atoms,
            "n_frames": traj.n_frames,
            "expected_frames": (total - equil) // (settings["save_every"] * settings["ship_stride"])
            + 1,
            "first_part_steps": first_part,
            "resumed_from_step": rec["timings"]["resumed_from_step_this_call"],
            "bitwise_equal_to_uninterrupted": bool(
                np.array_equal(resumed.trajectory().positions, ref.trajectory().positions)
            ),
            "positions_dtype": str(z["positions"].dtype),
            "provenance_keys": sorted(
                {k for k in ("engine", "model", "settings") if k in rec}
                | (
                    {"versions", "date"}
                    if {"versions", "date"} <= set(rec["provenance"])
                    else set()
                )
            ),
            "status": rec["status"],
            "mean_temperature_K": round(rec["checks"]["mean_temperature_K"], 1),
            "vdos_band_centres_THz": {
                k: round(v, 2) for k, v in rec["checks"]["vdos_band_centres_THz"].items()
            },
            "npz_bytes": (out / rec["file"]).stat().st_size,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        print("SMOKE_RESULT " + json.dumps(result), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--temperatures", nargs="+", type=float,
                        default=REAL["temperatures_K"], help="K")  # fmt: skip
    parser.add_argument("--supercell", nargs=3, type=int, default=REAL["supercell"])
    parser.add_argument("--production-ps", type=float, default=REAL["production_ps"])
    parser.add_argument("--equilibration-ps", type=float, default=REAL["equilibration_ps"])
    parser.add_argument("--deuterium", action="store_true",
                        help="H mass 2.014 amu, 1 fs time step (see the docstring)")  # fmt: skip
    parser.add_argument("--device", default="cpu", help="torch device ('cpu', 'cuda')")
    parser.add_argument("--out", type=Path, default=OUT_DEFAULT, help="output directory")
    parser.add_argument("--work", type=Path, default=WORK_DEFAULT, help="checkpoint directory")
    parser.add_argument("--force", action="store_true", help="redo finished temperatures")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--benchmark", type=int, metavar="STEPS",
                        help="time STEPS steps of the production cell; estimate the total")  # fmt: skip
    parser.add_argument("--smoke", action="store_true", help="tiny self-check in a temp dir")
    args = parser.parse_args(argv)
    if args.smoke:
        return smoke(args.threads, args.device)
    _set_threads(args.threads)
    settings = {
        **REAL,
        "temperatures_K": [float(t) for t in args.temperatures],
        "supercell": list(args.supercell),
        "production_ps": float(args.production_ps),
        "equilibration_ps": float(args.equilibration_ps),
        "deuterium": bool(args.deuterium),
        "timestep_fs": 1.0 if args.deuterium else REAL["timestep_fs"],
        "save_every": 5 if args.deuterium else REAL["save_every"],  # frames stay 5 fs apart
    }
    if any(not t > 0 for t in settings["temperatures_K"]):
        parser.error("temperatures must be > 0 K")
    if args.benchmark:
        return benchmark(args.benchmark, settings, args.device, args.work)
    command = "python " + " ".join(shlex.quote(a) for a in [SCRIPT, *sys.argv[1:]])
    t0 = time.perf_counter()
    records = generate(settings, args.out, args.work, args.device, command, args.force)
    write_readme(args.out)
    size = sum(p.stat().st_size for p in args.out.glob("*.npz"))
    print(f"total {time.perf_counter() - t0:.0f} s this call; {args.out}: {size / 1e6:.1f} MB "
          f"in .npz", flush=True)  # fmt: skip
    return 0 if all(r.get("status") == "done" for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
