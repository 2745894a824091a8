#!/usr/bin/env python
"""Make the lattice-dynamics descriptors shipped in ``lilib/data/descriptors/<model>/``.

For every structure of the library (``lilib.structures.names()``; ordered approximants as
``structures.load`` returns them) and every model of ``--models`` (default SevenNet-0):

1. relax cell and positions with the model (``lilib.phonons.relax``: BFGS, fmax 0.01 eV/Å,
   ASE's ``FrechetCellFilter``), keeping the space group: the structure is first symmetrized
   (``ase.spacegroup.symmetrize.refine_symmetry``, symprec 0.01 — published coordinates are
   rounded) and relaxed under ``ase.constraints.FixSymmetry``. Without it, force noise lowers
   the symmetry phonopy finds (LiBH4-HT ends in P2_1), and with it the number of displaced
   supercells and the cost grow several-fold;
2. phonons by finite displacements (``lilib.phonons.compute_phonons``: phonopy, 0.01 Å,
   diagonal supercell with every perpendicular width ≥ ``--min-length`` Å (10), checkpointed);
3. descriptors (``lilib.phonons.lattice_dynamics``, Γ-centred 8×8×8 mesh, 300 K, source = model).

Each material's result goes to ``<out>/<model>/<name>.json`` (format in
``lilib/phonons/library_data.py``, read by ``lilib.phonons.load_descriptors``): every scalar
descriptor, the DOS curves (frequencies to 1e-4 THz, pDOS to 4 significant digits), the
relaxation (converged flag, steps, largest force, cells), the supercell and displacements, the
time inside force calls against the total, and the provenance (versions, git commit, command,
machine). A structure the model cannot handle (elements it was not trained on) gets a
``"skipped"`` file with the reason; a material whose run raised gets ``"failed"`` (retried on
the next run).

Usage::

    nice -n 10 python scripts/make_descriptors.py                     # every structure, SevenNet-0
    python scripts/make_descriptors.py LiF beta-Li3PS4 --models sevennet-0 chgnet
    python scripts/make_descriptors.py --hops                         # + LiF vacancy hop (NEB, Vineyard)
    python scripts/make_descriptors.py --hops --hop-names LiF beta-Li3PS4   # other hops
    python scripts/make_descriptors.py --smoke                        # LiF, tiny settings, temp dir, < 60 s

Checkpoints: ``build/descriptors/<model>/<name>/`` holds the relaxed structure (``relax.json``),
the phonon workdir of ``compute_phonons`` (a force file per displaced supercell, then
``phonopy_params.yaml``) and the accumulated timings (``timings.json``): an interrupted run
resumes where it stopped, and its times add up over the runs. A finished material (its JSON in
``<out>``) is skipped on a rerun; ``--force`` deletes its checkpoints and redoes it. Structures
run smallest first. Torch uses ``--threads`` threads (1: the machine is shared).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import re
import shlex
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lilib._files import read_json  # noqa: E402
from lilib.phonons.library_data import FORMAT, HOPS_FORMAT  # noqa: E402
from lilib.provenance import run_environment, utc_now  # noqa: E402

SCRIPT = "scripts/make_descriptors.py"
OUT_DEFAULT = ROOT / "lilib" / "data" / "descriptors"
WORK_DEFAULT = ROOT / "build" / "descriptors"
RELAX_FILE = "relax.json"
TIMINGS_FILE = "timings.json"
_NOT_SHIPPED = ("numbers", "masses", "positions_A")  # relax.json only (checkpoint)
SYMPREC = 1e-2  # Å: symmetry kept during the relaxation (ASE's FixSymmetry default)

REAL = {
    "min_length_A": 10.0,
    "fmax_eV_A": 0.01,
    "relax_steps": 500,
    "optimizer": "BFGS",
    "displacement_A": 0.01,
    "mesh": 8,
    "temperature_K": 300.0,
}
SMOKE = {**REAL, "min_length_A": 4.0, "fmax_eV_A": 0.05, "relax_steps": 20, "mesh": 4}

# Vacancy hops (--hops): the library names, the hop supercell and NEB settings.
# beta-Li3PS4 (--hop-names) is not a default: in its ordered approximant the first Li and its
# nearest Li are inequivalent sites, the NEB path has images below the initial state and no
# saddle (run of 2026-11-28: StationaryPointError, 0 imaginary modes); it needs a chosen hop.
HOP_NAMES = ("LiF",)
HOP = {
    "min_length_A": 8.0,
    "n_images": 5,
    "neb_fmax_eV_A": 0.03,
    "neb_steps": 400,
    "perturb_A": 0.05,  # rattle the interior images: the straight LiF path is a 2nd-order saddle
    # ν* from the Hessian of every atom; the regions (rest frozen) show how far a partial Hessian
    # would be off: in the 2x2x2 LiF cell a 4 Å region gave 0.48 THz (run of 2026-11-28)
    "convergence_radii_A": [2.0, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0],
    "hessian_delta_A": 0.01,
    "temperature_K": 300.0,
}
HOP_SMOKE = {**HOP, "min_length_A": 4.0, "n_images": 1, "neb_fmax_eV_A": 0.2, "neb_steps": 20}
#: hop settings that change the result: a checkpoint folder per combination
_HOP_KEYS = ("min_length_A", "n_images", "neb_fmax_eV_A", "perturb_A", "hessian_delta_A")


# ---------------------------------------------------------------------------- small helpers


def _compact_json(record: dict) -> str:
    """JSON with indent 1, but every list of numbers on one line (the curves stay small)."""
    text = json.dumps(record, indent=1, ensure_ascii=False, allow_nan=False)
    number_list = re.compile(r"\[\s*(-?[0-9][-+0-9.eE]*(?:,\s*-?[0-9][-+0-9.eE]*)*)\s*\]")
    return number_list.sub(lambda m: "[" + ",".join(re.split(r",\s*", m.group(1))) + "]", text)


def write_json(path: Path, record: dict) -> None:
    """Write atomically: a temporary name in the same folder, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(_compact_json(record) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _none_if_nan(x):
    return None if isinstance(x, float) and not math.isfinite(x) else x


def _sig(x: float, digits: int = 4) -> float:
    return float(f"{x:.{digits}g}")


def round_curves(descriptors: dict, digits: int = 4) -> dict:
    """Frequencies to 1e-4 THz; pDOS to ``digits`` significant digits, below 1e-5 × max → 0."""
    out = dict(descriptors)
    out["dos_frequencies_THz"] = [round(float(f), 4) for f in descriptors["dos_frequencies_THz"]]
    pdos = {}
    for el, y in descriptors["pdos_per_THz"].items():
        y = np.asarray(y, dtype=float)
        floor = 1e-5 * float(np.abs(y).max()) if y.size else 0.0
        pdos[el] = [0.0 if abs(v) < floor else _sig(v, digits) for v in y]
    out["pdos_per_THz"] = pdos
    return out


def environment(model: str) -> dict:
    """Package versions, git commit and machine of this run."""
    import torch

    packages = ["lilib", "torch", "phonopy", "ase", "numpy", "spglib", "pymatgen", "e3nn"]
    packages.insert(1, "sevenn" if model == "sevennet-0" else "chgnet")
    return run_environment(packages, ROOT, torch_threads=torch.get_num_threads(), device="cpu")


class ForceTimer:
    """Accumulates the wall time and number of ``calculate`` calls of one ASE calculator.

    Patches the instance's ``calculate`` (not its class), so ``calculator_identity`` and the
    checkpoint keys of ``compute_phonons`` do not change.
    """

    def __init__(self, calc) -> None:
        self.calc, self.seconds, self.calls = calc, 0.0, 0
        original = calc.calculate

        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - t
                self.calls += 1

        calc.calculate = timed

    def snapshot(self) -> tuple[float, int]:
        return self.seconds, self.calls


# ---------------------------------------------------------------------------- models


_CALCS: dict[str, tuple[Any, ForceTimer, float]] = {}


def calculator(model: str) -> tuple[Any, ForceTimer, float]:
    """(calculator, its ForceTimer, model load time s) of a model, loaded once per process."""
    from lilib import calculators

    if model not in _CALCS:
        t = time.perf_counter()
        calc = calculators.get_calculator(model)
        _CALCS[model] = (calc, ForceTimer(calc), time.perf_counter() - t)
    return _CALCS[model]


# ---------------------------------------------------------------------------- one material


def _spacegroup(atoms, symprec: float) -> str | None:
    import spglib

    cell = (np.asarray(atoms.cell[:]), atoms.get_scaled_positions(), atoms.numbers)
    return spglib.get_spacegroup(cell, symprec=symprec)


def _relaxed_atoms(rec: dict):
    from ase import Atoms

    return Atoms(
        numbers=rec["numbers"],
        positions=rec["positions_A"],
        cell=rec["cell_final_A"],
        masses=rec["masses"],
        pbc=True,
    )


def relax_step(name: str, atoms, calc, timer: ForceTimer, wd: Path, settings: dict) -> dict:
    """Relaxation record (cached in ``wd/relax.json``): symmetry-kept cell + positions."""
    from ase.constraints import FixSymmetry
    from ase.spacegroup.symmetrize import refine_symmetry

    from lilib.phonons import relax

    path = wd / RELAX_FILE
    key = {k: settings[k] for k in ("fmax_eV_A", "relax_steps", "optimizer")}
    cached = read_json(path)
    if cached is not None and cached.get("settings") == key:
        print(f"[{name}] relaxation: done earlier ({cached['n_steps']} steps)", flush=True)
        return cached
    work = atoms.copy()
    work.info = {}
    sg_published = _spacegroup(work, 1e-5)
    sg_detected = _spacegroup(work, SYMPREC)
    refine_symmetry(work, symprec=SYMPREC)
    work.set_constraint(FixSymmetry(work, symprec=SYMPREC))
    f0, c0 = timer.snapshot()
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = relax(
            work,
            calc,
            fmax=settings["fmax_eV_A"],
            steps=settings["relax_steps"],
            cell=True,
            optimizer=settings["optimizer"],
        )
    wall = time.perf_counter() - t0
    f1, c1 = timer.snapshot()
    relaxed = res.atoms
    relaxed.set_constraint()
    v0, v1 = atoms.get_volume(), relaxed.get_volume()
    rec = {
        "settings": key,
        "method": (
            f"lilib.phonons.relax(cell=True, optimizer={settings['optimizer']!r}): ASE "
            "FrechetCellFilter; structure symmetrized first (refine_symmetry) and relaxed under "
            f"FixSymmetry, symprec {SYMPREC} Å"
        ),
        "converged": res.converged,
        "n_steps": res.n_steps,
        "max_force_eV_A": res.max_force_eV_A,
        "fmax": res.fmax,
        "energy_eV": res.energy_eV,
        "energy_per_atom_eV": res.energy_eV / len(relaxed),
        "spacegroup_input_symprec_1e-5": sg_published,
        "spacegroup_kept": sg_detected,
        "spacegroup_relaxed": _spacegroup(relaxed, 1e-5),
        "cell_initial_A": np.asarray(atoms.cell[:]).tolist(),
        "cell_final_A": np.asarray(relaxed.cell[:]).tolist(),
        "lengths_final_A": [round(x, 6) for x in relaxed.cell.cellpar()[:3].tolist()],
        "angles_final_deg": [round(x, 4) for x in relaxed.cell.cellpar()[3:].tolist()],
        "volume_initial_A3": v0,
        "volume_final_A3": v1,
        "volume_change_pct": 100.0 * (v1 / v0 - 1.0),
        "warnings": [
            str(w.message) for w in caught if "ConvergenceWarning" in type(w.message).__name__
        ],
        "numbers": [int(z) for z in relaxed.numbers],
        "masses": relaxed.get_masses().tolist(),
        "positions_A": relaxed.positions.tolist(),
        "wall_s": wall,
        "force_s": f1 - f0,
        "n_force_calls": c1 - c0,
    }
    write_json(path, rec)
    flag = "converged" if res.converged else "NOT converged"
    print(f"[{name}] relaxation {flag} in {res.n_steps} steps ({wall:.0f} s), "
          f"|F|max {res.max_force_eV_A:.4f} eV/Å, ΔV {rec['volume_change_pct']:+.2f} %, "
          f"{rec['spacegroup_relaxed']}", flush=True)  # fmt: skip
    return rec


def phonon_step(name: str, relaxed, calc, timer: ForceTimer, wd: Path, settings: dict):
    """compute_phonons in ``wd`` with timings accumulated over resumed runs (``timings.json``)."""
    from lilib.phonons import compute_phonons, supercell_for

    tpath = wd / TIMINGS_FILE
    before = read_json(tpath) or {"phonons_s": 0.0, "force_s": 0.0, "n_force_calls": 0, "runs": 0}
    before["runs"] += 1
    f0, c0 = timer.snapshot()
    t0 = time.perf_counter()
    state = {"last": t0}

    def progress(done: int, total: int) -> None:
        f, c = timer.snapshot()
        now = time.perf_counter()
        write_json(tpath, {
            **before,
            "phonons_s": before["phonons_s"] + now - t0,
            "force_s": before["force_s"] + f - f0,
            "n_force_calls": before["n_force_calls"] + c - c0,
            "done": done,
            "total": total,
        })  # fmt: skip
        if now - state["last"] > 60 or done == total:
            print(f"[{name}] phonons: {done}/{total} displaced supercells", flush=True)
            state["last"] = now

    smat = supercell_for(relaxed, settings["min_length_A"])
    ph = compute_phonons(
        relaxed,
        calc,
        supercell=smat,
        displacement=settings["displacement_A"],
        workdir=wd,
        progress=progress,
    )
    f1, c1 = timer.snapshot()
    timings = {
        **before,
        "phonons_s": before["phonons_s"] + time.perf_counter() - t0,
        "force_s": before["force_s"] + f1 - f0,
        "n_force_calls": before["n_force_calls"] + c1 - c0,
        "done": ph.n_displacements,
        "total": ph.n_displacements,
    }
    write_json(tpath, timings)
    return ph, smat, timings


def make_one(name: str, model: str, out: Path, work: Path, settings: dict, command: str,
             force: bool) -> dict:  # fmt: skip
    """Relax, phonons, descriptors of one structure with one model; writes its JSON."""
    from lilib import calculators, structures
    from lilib.errors import UnsupportedElementError
    from lilib.phonons import lattice_dynamics

    jpath = out / model / f"{name}.json"
    wd = work / model / name
    old = read_json(jpath)
    if not force and old is not None and old.get("status") in ("done", "skipped"):
        print(f"[{name}] {model}: {old['status']} earlier, skipped", flush=True)
        return old
    if force and wd.exists():
        shutil.rmtree(wd)
    atoms = structures.load(name)
    base = {"format": FORMAT, "name": name, "model": model}
    try:
        calculators.check_coverage(atoms, model)
    except UnsupportedElementError as exc:
        rec = {**base, "status": "skipped", "reason": str(exc),
               "provenance": {"date": utc_now(), "script": SCRIPT, "command": command}}  # fmt: skip
        write_json(jpath, rec)
        print(f"[{name}] {model}: skipped ({exc})", flush=True)
        return rec
    calc, timer, load_s = calculator(model)
    wd.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    relaxation = relax_step(name, atoms, calc, timer, wd, settings)
    relaxed = _relaxed_atoms(relaxation)
    ph, smat, ptime = phonon_step(name, relaxed, calc, timer, wd, settings)
    t = time.perf_counter()
    ld = lattice_dynamics(
        ph, mesh=settings["mesh"], temperature_K=settings["temperature_K"], label=name,
        source=model,
    )  # fmt: skip
    desc_s = time.perf_counter() - t
    total_s = relaxation["wall_s"] + ptime["phonons_s"] + desc_s
    force_s = relaxation["force_s"] + ptime["force_s"]
    diag = np.diag(smat)
    is_diag = np.array_equal(smat, np.diag(diag))
    info = atoms.info
    rec = {
        **base,
        "model_label": calculators._LABELS.get(model, model),
        "status": "done",
        "descriptors": round_curves(ld.to_dict()),
        "structure": {
            "source": f"lilib.structures.load({name!r})",
            "formula": atoms.get_chemical_formula(),
            "n_atoms": len(atoms),
            "spacegroup_symbol": info.get("spacegroup_symbol"),
            "spacegroup_number": info.get("spacegroup_number"),
            "ordered_approximant": bool(info.get("ordered_approximant")),
            "doi": info.get("doi"),
            "identifier": info.get("identifier"),
        },
        "relaxation": {
            **{k: v for k, v in relaxation.items() if k not in _NOT_SHIPPED},
            "cell_final_A": (np.round(relaxation["cell_final_A"], 8) + 0.0).tolist(),
        },
        "phonons": {
            "method": "lilib.phonons.compute_phonons: phonopy finite displacements; force "
            "constants compact, symmetrized (translational/permutational), no NAC",
            "supercell": smat.tolist(),
            "supercell_label": "x".join(map(str, diag)) if is_diag else str(smat.tolist()),
            "min_length_A": settings["min_length_A"],
            "n_supercell_atoms": len(ph.phonopy.supercell),
            "displacement_A": settings["displacement_A"],
            "n_displacements": ph.n_displacements,
            "primitive_matrix": np.asarray(ph.primitive_matrix).round(8).tolist(),
            "n_atoms_primitive": len(ph.phonopy.primitive),
            "phonopy_params": "build/descriptors/<model>/<name>/phonopy_params.yaml (not shipped)",
        },
        "timings": {
            "total_s": round(total_s, 2),
            "force_s": round(force_s, 2),
            "other_s": round(total_s - force_s, 2),
            "force_share": round(force_s / total_s, 4) if total_s > 0 else None,
            "relax_s": round(relaxation["wall_s"], 2),
            "relax_force_s": round(relaxation["force_s"], 2),
            "phonons_s": round(ptime["phonons_s"], 2),
            "phonons_force_s": round(ptime["force_s"], 2),
            "descriptors_s": round(desc_s, 2),
            "n_force_calls": int(relaxation["n_force_calls"] + ptime["n_force_calls"]),
            "n_force_calls_relax": int(relaxation["n_force_calls"]),
            "n_force_calls_phonons": int(ptime["n_force_calls"]),
            "phonon_runs": ptime["runs"],
            "this_run_s": round(time.perf_counter() - t_start, 2),
            "model_load_s": round(load_s, 2),
            "note": "wall times on a shared machine; totals add up over resumed runs "
            "(build/descriptors checkpoints); model load not included in total_s",
        },
        "provenance": {
            "date": utc_now(),
            "script": SCRIPT,
            "command": command,
            "settings": settings,
            **environment(model),
        },
    }
    write_json(jpath, rec)
    print(f"[{name}] {model}: Li/Na centre {ld.mobile_band_centre_THz:.2f} THz, anion "
          f"{ld.anion_band_centre_THz:.2f} THz, θ_D {ld.debye_temperature_K:.0f} K, "
          f"min ν {ld.min_frequency_THz:.2f} THz; {total_s:.0f} s (forces {force_s:.0f} s)",
          flush=True)  # fmt: skip
    return rec


# ---------------------------------------------------------------------------- hops


def _accumulate_timings(wd: Path, run: dict) -> dict:
    """Add this run's timings to those of earlier (interrupted or cached) runs in ``wd``: the
    shipped numbers are what the whole calculation cost, not the last resume."""
    path = wd / "timings.json"
    total = {k: (read_json(path) or {}).get(k, 0) + v for k, v in run.items()}
    write_json(path, total)
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in total.items()}


def make_hop(name: str, model: str, out: Path, work: Path, hop: dict, command: str,
             force: bool) -> dict:  # fmt: skip
    """Vacancy hop of ``name`` with ``model``: NEB + Vineyard; writes ``<model>/hops/<name>.json``."""
    from lilib.errors import StationaryPointError
    from lilib.phonons import hop_rate_convergence, run_neb, vacancy_hop

    jpath = out / model / "hops" / f"{name}.json"
    tag = hashlib.sha256(json.dumps({k: hop[k] for k in _HOP_KEYS}).encode()).hexdigest()[:10]
    wd = work / model / "hops" / name / tag  # earlier settings keep their own folders
    old = read_json(jpath)
    if not force and old is not None and old.get("status") == "done":
        print(f"[{name}] hop {model}: done earlier, skipped", flush=True)
        return old
    if force and wd.exists():
        shutil.rmtree(wd)
    drec = read_json(out / model / f"{name}.json")
    if drec is None or drec.get("status") != "done":
        raise RuntimeError(f"{name}: descriptors for {model} first (the hop uses its relaxed cell)")
    relaxed = _relaxed_atoms(read_json(work / model / name / RELAX_FILE))
    mobile = drec["descriptors"]["mobile_element"]
    calc, timer, _ = calculator(model)
    f0, c0 = timer.snapshot()
    t0 = time.perf_counter()
    ends = vacancy_hop(relaxed, mobile=mobile, min_length=hop["min_length_A"])
    neb = run_neb(ends.initial, ends.final, calc, n_images=hop["n_images"],
                  fmax=hop["neb_fmax_eV_A"], steps=hop["neb_steps"], perturb_A=hop["perturb_A"],
                  workdir=wd / "neb")  # fmt: skip
    t_neb = time.perf_counter() - t0
    _, c1 = timer.snapshot()
    status, reason, rate, lowest, conv = "done", "", None, None, None
    try:
        conv = hop_rate_convergence(neb, calc, hop["convergence_radii_A"],
                                    delta=hop["hessian_delta_A"], workdir=wd,
                                    temperature_K=hop["temperature_K"])  # fmt: skip
        rate = conv.full
    except StationaryPointError as exc:  # the NEB result is kept, the rate is not
        status, reason = "failed", f"{type(exc).__name__}: {exc}"
        lowest = {exc.state: np.sort(exc.frequencies_THz)[:6].round(3).tolist()}
    t_all = time.perf_counter() - t0
    f2, c2 = timer.snapshot()
    nan = float("nan")
    result = {
        "barrier_eV": neb.barrier_eV,
        "reaction_energy_eV": neb.reaction_energy_eV,
        "attempt_frequency_THz": rate.attempt_frequency_THz if rate else nan,
        "jump_rate_THz": rate.jump_rate_THz if rate else nan,
        "temperature_K": hop["temperature_K"],
        "migration_entropy_kB": rate.migration_entropy_kB if rate else nan,
        "hop_length_A": ends.hop_length_A,
        "saddle_imaginary_THz": float(np.min(rate.saddle_frequencies_THz)) if rate else nan,
        "lowest_modes_THz_of_failed_check": lowest,
        "neb_converged": neb.converged,
        "neb_max_force_eV_A": neb.max_force_eV_A,
        "neb_steps": neb.n_steps,
        "n_atoms_supercell": len(ends.initial),
        "n_atoms_in_hessian": len(ends.initial),
        "energies_eV": [round(float(e), 6) for e in neb.energies_eV],
        "reaction_coordinate_A": [round(float(x), 5) for x in neb.reaction_coordinate_A],
    }
    rec = {
        "format": HOPS_FORMAT,
        "name": name,
        "model": model,
        "status": status,
        "reason": reason,
        "result": {k: _none_if_nan(v) for k, v in result.items()},
        "convergence": None
        if conv is None
        else [
            {k: _none_if_nan(v) for k, v in row.items()}
            for row in conv.to_dataframe().replace(np.inf, np.nan).to_dict("records")
        ],  # ν* with a partial Hessian (radius_A, rest frozen); radius null: all atoms
        "modes_THz": None
        if rate is None
        else {  # every mode, sorted; imaginary < 0
            "initial": np.sort(rate.initial_frequencies_THz).round(4).tolist(),
            "saddle": np.sort(rate.saddle_frequencies_THz).round(4).tolist(),
        },
        "settings": {
            **hop,
            "mobile": mobile,
            "supercell": np.asarray(ends.supercell).tolist(),
            "structure": f"relaxed cell of {name} from the descriptor run (same model)",
            "method": "lilib.phonons.vacancy_hop → run_neb (climbing image, IDPP, FIRE; endpoints "
            "relaxed at fixed cell) → hop_rate_convergence (finite-difference Hessians of every "
            "atom, translations removed; Vineyard; sub-blocks for the regions of "
            "convergence_radii_A)",
        },
        "timings": _accumulate_timings(
            wd,
            {
                "neb_s": t_neb,
                "hessians_s": t_all - t_neb,
                "total_s": t_all,
                "force_s": f2 - f0,
                "n_force_calls_neb": c1 - c0,
                "n_force_calls_hessians": c2 - c1,
            },
        ),
        "provenance": {
            "date": utc_now(),
            "script": SCRIPT,
            "command": command,
            **environment(model),
        },
    }
    write_json(jpath, rec)
    print(f"[{name}] hop {model}: E_a {neb.barrier_eV:.3f} eV, ν* "
          f"{result['attempt_frequency_THz']:.2f} THz, S_m {result['migration_entropy_kB']:.2f} "
          f"k_B, {t_all:.0f} s {reason}", flush=True)  # fmt: skip
    return rec


# ---------------------------------------------------------------------------- driver


def ordered_names(names: list[str]) -> list[str]:
    """Smallest cells first, so most of the library is done early."""
    from lilib import structures

    return sorted(names, key=lambda n: (len(structures.load(n)), n))


def generate(names: list[str], models: list[str], out: Path, work: Path, settings: dict,
             command: str, force: bool = False) -> dict[tuple[str, str], dict]:  # fmt: skip
    """Every (model, name); a material that raises is recorded as 'failed' and the run goes on."""
    records = {}
    for model in models:
        for name in names:
            try:
                records[model, name] = make_one(name, model, out, work, settings, command, force)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # recorded, retried on the next run
                print(f"[{name}] {model}: FAILED: {exc!r}", flush=True)
                traceback.print_exc()
                rec = {
                    "format": FORMAT, "name": name, "model": model, "status": "failed",
                    "reason": f"{type(exc).__name__}: {exc}",
                    "provenance": {"date": utc_now(), "script": SCRIPT, "command": command},
                }  # fmt: skip
                write_json(out / model / f"{name}.json", rec)
                records[model, name] = rec
    return records


def summary(records: dict) -> str:
    lines = [f"{'model':<11} {'name':<18} {'status':<7} {'Li/Na THz':>9} {'anion THz':>9} "
             f"{'θ_D K':>6} {'imag':>5} {'min ν':>6} {'conv':>5} {'total s':>8} {'force %':>7}"]  # fmt: skip
    for (model, name), r in records.items():
        if r.get("status") != "done":
            lines.append(f"{model:<11} {name:<18} {r.get('status')}: {r.get('reason')}")
            continue
        d, t = r["descriptors"], r["timings"]
        theta = d["debye_temperature_K"]
        lines.append(
            f"{model:<11} {name:<18} {'done':<7} {d['mobile_band_centre_THz']:9.2f} "
            f"{d['anion_band_centre_THz']:9.2f} "
            f"{theta if theta is not None else float('nan'):6.0f} "
            f"{d['has_imaginary_modes']!s:>5} {d['min_frequency_THz']:6.2f} "
            f"{r['relaxation']['converged']!s:>5} {t['total_s']:8.0f} "
            f"{100 * (t['force_share'] or 0):7.1f}"
        )
    return "\n".join(lines)


def write_readme(out: Path) -> None:
    """``<out>/README.md``: what the files are, and one table row per material and model."""
    lines = [
        "# Lattice-dynamics descriptors of the structure library (MLIP)",
        "",
        f"Made by `{SCRIPT}` (see its docstring); read them with "
        "`lilib.phonons.load_descriptors(model)` and `load_descriptor_curves(name, model)`. One "
        "JSON per material in `<model>/<name>.json` (format: `lilib/phonons/library_data.py`): "
        "every scalar of `LatticeDynamics`, the projected DOS curves, the relaxation, supercell "
        "and displacements, timings and provenance. Vacancy hops (if made) in `<model>/hops/`.",
        "",
        "Protocol: structure from `lilib.structures.load` (ordered approximants where the "
        "published structure is partially occupied), symmetrized (symprec 0.01 Å) and relaxed "
        "with the model under FixSymmetry (cell + positions, BFGS, fmax 0.01 eV/Å); phonopy "
        "finite displacements of 0.01 Å in a diagonal supercell with widths ≥ 10 Å; descriptors "
        "on a Γ-centred 8×8×8 mesh of the primitive cell, 300 K. No NAC (an MLIP gives no Born "
        "charges): LO–TO splitting is absent. Band centres are first moments over positive modes; "
        "the anion is the most electronegative element besides the mobile ion (H in LiBH4). "
        "Times are wall seconds on a shared 2-core machine, 1 torch thread.",
        "",
    ]
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        lines += [
            f"## {folder.name}",
            "",
            "| name | formula | mobile / anion | mobile centre THz | anion centre THz | θ_D K | "
            "min ν THz | imaginary | relax (steps) | ΔV % | supercell (atoms) | displ. | "
            "total s | forces s |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for path in sorted(folder.glob("*.json"), key=lambda q: q.stem.lower()):
            r = read_json(path) or {}
            if r.get("status") != "done":
                lines.append(f"| {path.stem} | {r.get('status')}: {r.get('reason')} |")
                continue
            d, x, ph, t = r["descriptors"], r["relaxation"], r["phonons"], r["timings"]
            theta = d["debye_temperature_K"]
            lines.append(
                f"| {path.stem} | {d['formula']} | {d['mobile_element']} / {d['anion_element']} | "
                f"{d['mobile_band_centre_THz']:.2f} | {d['anion_band_centre_THz']:.2f} | "
                f"{'—' if theta is None else f'{theta:.0f}'} | {d['min_frequency_THz']:.2f} | "
                f"{'yes' if d['has_imaginary_modes'] else 'no'} | "
                f"{'converged' if x['converged'] else 'NOT converged'} ({x['n_steps']}) | "
                f"{x['volume_change_pct']:+.1f} | {ph['supercell_label']} "
                f"({ph['n_supercell_atoms']}) | {ph['n_displacements']} | {t['total_s']:.0f} | "
                f"{t['force_s']:.0f} |"
            )
        lines.append("")
        hops = sorted((folder / "hops").glob("*.json"))
        if hops:
            lines += [
                f"### {folder.name}: vacancy hops (`--hops`)",
                "",
                "| name | supercell atoms | E_a eV | ν* THz | S_m k_B | saddle mode THz | hop Å | "
                "atoms in Hessians | NEB steps | total s |",
                "|---|---|---|---|---|---|---|---|---|---|",
            ]
            for path in hops:
                r = read_json(path) or {}
                x, t = r.get("result", {}), r.get("timings", {})
                if r.get("status") != "done":
                    lines.append(f"| {path.stem} | {r.get('status')}: {r.get('reason')} |")
                    continue
                lines.append(
                    f"| {path.stem} | {x['n_atoms_supercell']} | {x['barrier_eV']:.3f} | "
                    f"{x['attempt_frequency_THz']:.2f} | {x['migration_entropy_kB']:.2f} | "
                    f"{x['saddle_imaginary_THz']:.2f} | {x['hop_length_A']:.3f} | "
                    f"{x['n_atoms_in_hessian']} | {x['neb_steps']} | {t['total_s']:.0f} |"
                )
            lines += [
                "",
                "Vineyard ν* from the Hessians of every atom of the supercell (translations "
                "removed); the NEB images were rattled by 0.05 Å because the straight path in LiF "
                "is a second-order saddle (modes −7.1 and −2.7 THz, E_a 0.538 eV).",
                "",
            ]
            for path in hops:
                conv = (read_json(path) or {}).get("convergence")
                if not conv:
                    continue
                lines += [
                    f"{path.stem}: ν* with a partial Hessian (atoms within the radius of the "
                    "moving ion at the saddle displaced, the rest frozen), same NEB:",
                    "",
                    "| radius Å | atoms | ν* THz | S_m k_B |",
                    "|---|---|---|---|",
                ]
                for row in conv:
                    nu, sm = row["attempt_frequency_THz"], row["migration_entropy_kB"]
                    lines.append(
                        f"| {'all' if row['radius_A'] is None else row['radius_A']} | "
                        f"{row['n_atoms']} | {'—' if nu is None else f'{nu:.2f}'} | "
                        f"{'—' if sm is None else f'{sm:.2f}'} |"
                    )
                lines.append("")
    (out / "README.md").write_text("\n".join(lines), encoding="utf-8")


def _set_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)
    with contextlib.suppress(RuntimeError):  # only settable before parallel work started
        torch.set_num_interop_threads(1)


def smoke(threads: int, hops: bool = False) -> int:
    """Same code path on LiF with tiny settings into a temp dir; reruns (skip) and loads back."""
    from lilib.phonons import load_descriptor_curves, load_descriptors

    t0 = time.perf_counter()
    _set_threads(threads)
    with tempfile.TemporaryDirectory(prefix="lilib-descriptors-smoke-") as tmp:
        out, work = Path(tmp) / "out", Path(tmp) / "work"
        command = "make_descriptors.py --smoke"
        first = generate(["LiF"], ["sevennet-0"], out, work, SMOKE, command)
        rec = first["sevennet-0", "LiF"]
        assert rec["status"] == "done", rec.get("reason")
        again = generate(["LiF"], ["sevennet-0"], out, work, SMOKE, command)
        assert again["sevennet-0", "LiF"]["provenance"]["date"] == rec["provenance"]["date"]
        df = load_descriptors("sevennet-0", directory=out)
        curves = load_descriptor_curves("LiF", directory=out)
        row = df.loc["LiF"]
        assert np.isfinite(row["mobile_band_centre_THz"]) and row["mobile_band_centre_THz"] > 0
        assert set(curves.pdos_per_THz) == {"Li", "F"}
        result = {
            "files": sorted(str(p.relative_to(out)) for p in out.rglob("*.json")),
            "mobile_band_centre_THz": round(float(row["mobile_band_centre_THz"]), 3),
            "anion_band_centre_THz": round(float(row["anion_band_centre_THz"]), 3),
            "n_displacements": int(row["n_displacements"]),
            "n_force_calls": int(row["n_force_calls"]),
            "force_share": rec["timings"]["force_share"],
            "relax_converged": bool(row["relax_converged"]),
            "bytes": (out / "sevennet-0" / "LiF.json").stat().st_size,
        }
        if hops:
            hop = make_hop("LiF", "sevennet-0", out, work, HOP_SMOKE, command, False)
            result["hop_barrier_eV"] = round(hop["result"]["barrier_eV"], 4)
            result["hop_status"] = hop["status"]
        result["seconds"] = round(time.perf_counter() - t0, 1)
        print("SMOKE_RESULT " + json.dumps(result), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    from lilib import calculators, structures

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="library structures (default: all)")
    parser.add_argument("--models", nargs="+", default=["sevennet-0"],
                        help=f"models (of {calculators.model_names()})")  # fmt: skip
    parser.add_argument("--min-length", type=float, default=REAL["min_length_A"],
                        help="supercell: every perpendicular width ≥ this (Å)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=OUT_DEFAULT, help="output directory")
    parser.add_argument("--work", type=Path, default=WORK_DEFAULT, help="checkpoint directory")
    parser.add_argument("--force", action="store_true", help="redo finished materials")
    parser.add_argument("--hops", action="store_true",
                        help=f"also vacancy hops (NEB + Vineyard) of {', '.join(HOP_NAMES)}")  # fmt: skip
    parser.add_argument("--hop-names", nargs="+", default=list(HOP_NAMES))
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--smoke", action="store_true", help="tiny self-check in a temp dir")
    args = parser.parse_args(argv)
    if args.smoke:
        return smoke(args.threads, hops=args.hops)
    _set_threads(args.threads)
    known = structures.names()
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"unknown structures {unknown}; known: {known}")
    models = [calculators.resolve_name(m) for m in args.models]
    settings = {**REAL, "min_length_A": float(args.min_length)}
    command = "python " + " ".join(shlex.quote(a) for a in [SCRIPT, *sys.argv[1:]])
    t0 = time.perf_counter()
    records = generate(ordered_names(args.names or known), models, args.out, args.work,
                       settings, command, args.force)  # fmt: skip
    print(summary(records), flush=True)
    failed = [k for k, r in records.items() if r.get("status") == "failed"]
    if args.hops:
        for model in models:
            for name in args.hop_names:
                try:
                    make_hop(name, model, args.out, args.work, HOP, command, args.force)
                except Exception as exc:  # reported; the descriptors are kept
                    print(f"[{name}] hop {model}: FAILED: {exc!r}", flush=True)
                    traceback.print_exc()
                    failed.append((model, f"hop {name}"))
    write_readme(args.out)
    size = sum(p.stat().st_size for p in args.out.rglob("*.json"))
    print(f"total {time.perf_counter() - t0:.0f} s this run; {args.out}: {size / 1024:.0f} KiB "
          f"in JSON", flush=True)  # fmt: skip
    if failed:
        print(f"failed: {failed}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
