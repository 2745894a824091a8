"""NVT molecular dynamics with any ASE calculator, checkpointed on disk and resumable.

>>> from lilib.md.run import run_md
>>> run = run_md(
...     atoms,
...     "sevennet-0",
...     500.0,
...     40_000,
...     0.5,
...     workdir="runs/LiBH4-500K",
...     thermostat="bussi",
...     save_every=10,
... )
>>> traj = run.trajectory()  # lilib.md.Trajectory: unwrapped, 5 fs between frames
>>> run.to_dataframe()  # T (K), energies (eV), wall time per step (s) per saved frame
>>> run.plot()

Thermostats (ASE's integrators): ``'langevin'`` (:class:`ase.md.langevin.Langevin`, friction
``friction_per_fs``, default 0.01 fs⁻¹), ``'bussi'`` (stochastic velocity rescaling,
:class:`ase.md.bussi.Bussi`, time constant ``tdamp_fs``) and ``'nose-hoover'`` (a chain of 3,
:class:`ase.md.nose_hoover_chain.NoseHooverChainNVT`, ``tdamp_fs``); ``tdamp_fs`` defaults to
100 time steps. Langevin acts on every atom and perturbs dynamics (use small friction for
dynamical properties); Bussi and Nosé–Hoover act globally and leave them nearly intact.
Velocities start from a Maxwell–Boltzmann draw with ``seed``, with zero total momentum,
scaled to exactly ``temperature_K``. The total momentum stays zero (Langevin and Bussi: ASE's
``FixCom`` constraint; Nosé–Hoover conserves it), so temperatures count 3N − 3 degrees of
freedom; the Nosé–Hoover chain is told so too (ASE's default counts 3N).

Workdir (one run per folder)::

    manifest.json      key of the calculation (structure hash, calculator identity, T,
                       time step, thermostat and its parameters, save_every, seed,
                       save_velocities), n_steps, atoms, file layout
    positions.npy      (capacity, n_atoms, 3) float64, Å, unwrapped; frame k = step k·save_every
    velocities.npy     the same in Å/fs (save_velocities=True)
    thermo.npy         (capacity, 7) float64: step, time (fs), T (K), E_pot, E_kin,
                       conserved energy (eV; NaN for Langevin), mean wall time per step (s)
    checkpoint.npz     last restart point: step, frames written, positions and momenta
                       (float64), thermostat state (Nosé–Hoover chain η and p_η, Bussi's
                       transferred energy), the random generator's state, totals

The frame files are preallocated ``.npy`` files written in place through memory maps, not
ASE ``.traj`` appends: a restart only needs the number of valid frames (in the checkpoint) and
overwrites the frames after it, with nothing to truncate or parse, and reading is a memory
map with no per-frame Python objects. The checkpoint is written to a temporary name and moved
into place (``os.replace``) after the frame files are flushed, so a run killed at any moment
(SIGKILL included) leaves the last checkpoint and every frame up to it intact. Calling
``run_md`` again with the same arguments continues from that checkpoint; frames after it are
recomputed and overwritten, never duplicated. A larger ``n_steps`` extends a finished run
(files grow); a smaller one returns the first frames without computing. A workdir written for
another calculation raises :class:`~lilib.errors.WorkdirMismatchError` naming the field.

Reproducibility: the random generator (PCG64) state, positions and momenta are restored
bitwise, and every checkpoint is a restart point in the uninterrupted run too (the
calculator is reset there, so stateful calculators such as EMT rebuild their neighbour list
at the same steps in both runs). A resumed run is therefore bitwise identical to an
uninterrupted one when (a) the calculator is deterministic for identical inputs (EMT, and
MLIPs on the same device, thread count and library versions) and (b) checkpoints fall on
the same steps (``checkpoint_every_steps``; with time-based checkpoints the restart points
differ, which still gives bitwise identity for stateless calculators such as SevenNet
on CPU, but not for ones that keep a neighbour list). Wall times differ, of course.
A reset costs one extra force call per checkpoint.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import numbers
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from ase import Atoms, units
from ase.calculators.calculator import BaseCalculator

from lilib._files import atomic_write_bytes as _atomic_write
from lilib._files import write_json as _write_json
from lilib.errors import ArgumentError, FileFormatError, WorkdirMismatchError
from lilib.md.trajectory import Trajectory

__all__ = ["THERMOSTATS", "MDRun", "load_run", "run_md"]

FORMAT = "lilib.md.run/1"
MANIFEST = "manifest.json"
CHECKPOINT = "checkpoint.npz"
POSITIONS = "positions.npy"
VELOCITIES = "velocities.npy"
THERMO = "thermo.npy"
THERMO_COLUMNS = (
    "step",
    "time_fs",
    "temperature_K",
    "potential_eV",
    "kinetic_eV",
    "conserved_eV",
    "step_wall_s",
)
#: canonical thermostat names (aliases accepted: 'nose_hoover', 'nhc', 'csvr')
THERMOSTATS = ("langevin", "bussi", "nose-hoover")
_ALIASES = {"nose_hoover": "nose-hoover", "nhc": "nose-hoover", "nosehoover": "nose-hoover",
            "csvr": "bussi"}  # fmt: skip
DEFAULT_FRICTION_PER_FS = 0.01
DEFAULT_TDAMP_STEPS = 100
NHC_CHAIN = 3
_KEY_FIELDS = (
    "structure",
    "calculator",
    "temperature_K",
    "timestep_fs",
    "thermostat",
    "thermostat_parameters",
    "save_every",
    "seed",
    "save_velocities",
)
# 1 amu·Å²/fs² in eV; ASE's time unit is units.fs⁻¹ fs
_AMU_A2_FS2_EV = 1.0 / units.fs**2


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, eq=False)
class MDRun:
    """An NVT MD run in a workdir (from :func:`run_md` or :func:`load_run`).

    Per saved frame (``n_frames`` = steps // save_every + 1, frame 0 is the start):
    ``times_fs``, ``temperatures_K`` (kinetic, 3N − 3 degrees of freedom),
    ``potential_energies_eV``, ``kinetic_energies_eV``, ``conserved_energies_eV`` (Bussi: E minus
    the energy the thermostat added; Nosé–Hoover: E plus the chain's energy; Langevin: NaN) and
    ``step_wall_s`` (mean wall time of the MD steps since the previous frame, s; NaN at frame 0).
    ``settings``: temperature_K, n_steps, timestep_fs, thermostat, thermostat_parameters,
    save_every, seed, save_velocities. ``calculator``: its identity
    (:func:`lilib.phonons.compute.calculator_identity`). Totals over every call that worked on
    this workdir: ``n_force_calls``, ``wall_s`` (time inside MD steps), ``steps_integrated``
    (steps redone after a kill count twice). This call: ``n_force_calls_this_call``,
    ``steps_this_call``, ``resumed_from_step`` (None: started fresh). ``complete``: the
    requested ``n_steps`` are done.
    """

    workdir: Path
    symbols: np.ndarray = field(repr=False)
    masses: np.ndarray = field(repr=False)
    cell: np.ndarray = field(repr=False)
    settings: dict[str, Any]
    calculator: dict[str, Any]
    times_fs: np.ndarray = field(repr=False)
    temperatures_K: np.ndarray = field(repr=False)
    potential_energies_eV: np.ndarray = field(repr=False)
    kinetic_energies_eV: np.ndarray = field(repr=False)
    conserved_energies_eV: np.ndarray = field(repr=False)
    step_wall_s: np.ndarray = field(repr=False)
    n_force_calls: int
    wall_s: float
    steps_integrated: int
    n_force_calls_this_call: int
    steps_this_call: int
    resumed_from_step: int | None
    complete: bool

    @property
    def n_frames(self) -> int:
        """Number of saved frames in this run (frame 0 included)."""
        return int(self.times_fs.shape[0])

    @property
    def n_atoms(self) -> int:
        """Number of atoms."""
        return int(self.symbols.shape[0])

    @property
    def frame_timestep_fs(self) -> float:
        """Time between saved frames (save_every × timestep_fs), fs."""
        return float(self.settings["save_every"] * self.settings["timestep_fs"])

    @property
    def wall_s_per_step(self) -> float:
        """Mean wall time of one MD step over every call (s); NaN before the first step."""
        return self.wall_s / self.steps_integrated if self.steps_integrated else float("nan")

    @property
    def has_velocities(self) -> bool:
        """True when velocities were saved (``save_velocities=True``)."""
        return bool(self.settings["save_velocities"])

    def __repr__(self) -> str:
        s = self.settings
        return (
            f"MDRun({_formula(self.symbols)}, {s['thermostat']} {s['temperature_K']:g} K, "
            f"{self.n_frames} frames × {self.frame_timestep_fs:g} fs, "
            f"calculator={self.calculator.get('name')!r}, complete={self.complete}, "
            f"workdir={str(self.workdir)!r})"
        )

    def trajectory(self) -> Trajectory:
        """The saved frames as an unwrapped :class:`~lilib.md.Trajectory` (memory-mapped).

        ``timestep_fs`` = save_every × MD time step; ``temperature_K`` = the target.
        """
        positions = np.load(self.workdir / POSITIONS, mmap_mode="r")[: self.n_frames]
        return Trajectory(
            positions=positions,
            cell=self.cell,
            symbols=self.symbols,
            timestep_fs=self.frame_timestep_fs,
            temperature_K=float(self.settings["temperature_K"]),
            unwrapped=True,
            source={
                "format": FORMAT,
                "workdir": str(self.workdir),
                "calculator": self.calculator,
                "settings": self.settings,
            },
        )

    def velocities(self) -> np.ndarray:
        """Saved velocities, (n_frames, n_atoms, 3) Å/fs, memory-mapped read-only.

        Raises :class:`~lilib.errors.ArgumentError` when the run did not save them.
        """
        if not self.has_velocities:
            raise ArgumentError(
                "save_velocities", "this run saved no velocities (run with save_velocities=True)"
            )
        return np.load(self.workdir / VELOCITIES, mmap_mode="r")[: self.n_frames]

    def to_dataframe(self) -> pd.DataFrame:
        """One row per saved frame: step, time (ps), T (K), energies (eV), wall time per step."""
        steps = np.arange(self.n_frames) * int(self.settings["save_every"])
        df = pd.DataFrame(
            {
                "step": steps,
                "time_ps": self.times_fs / 1000.0,
                "temperature_K": self.temperatures_K,
                "potential_eV": self.potential_energies_eV,
                "kinetic_eV": self.kinetic_energies_eV,
                "total_eV": self.potential_energies_eV + self.kinetic_energies_eV,
                "conserved_eV": self.conserved_energies_eV,
                "step_wall_s": self.step_wall_s,
            }
        )
        df.index.name = "frame"
        return df

    def plot(self, ax=None):
        """Temperature (left axis) and total and conserved energy (right axis) vs time (ps)."""
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(6, 3.5))[1]
        t = self.times_fs / 1000.0
        target = float(self.settings["temperature_K"])
        ax.plot(t, self.temperatures_K, lw=1.0, color="C3", label="T")
        ax.axhline(target, color="C3", ls=":", lw=1.0, label=f"target {target:g} K")
        ax.set_xlabel("time (ps)")
        ax.set_ylabel("temperature (K)")
        right = ax.twinx()
        right.plot(t, self.potential_energies_eV + self.kinetic_energies_eV, lw=1.0, color="C0",
                   label="E_pot + E_kin")  # fmt: skip
        if np.isfinite(self.conserved_energies_eV).any():
            right.plot(t, self.conserved_energies_eV, lw=1.0, color="C2", label="conserved")
        right.set_ylabel("energy (eV)")
        lines = ax.get_legend_handles_labels()
        more = right.get_legend_handles_labels()
        ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="best")
        ax.set_title(
            f"{_formula(self.symbols)}: {self.settings['thermostat']} NVT, "
            f"{self.calculator.get('name')}"
        )
        return ax


# --------------------------------------------------------------------------- checks


def _formula(symbols: np.ndarray) -> str:
    uniq = list(dict.fromkeys(symbols.tolist()))
    return "".join(f"{s}{int(np.sum(symbols == s)) if np.sum(symbols == s) > 1 else ''}"
                   for s in uniq)  # fmt: skip


def _is_real(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(float(x))


def _is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _positive(name: str, value: Any, unit: str) -> float:
    if not (_is_real(value) and value > 0):
        raise ArgumentError(name, f"expected a finite number > 0 {unit}, got {value!r}")
    return float(value)


def _thermostat_name(name: Any) -> str:
    if not isinstance(name, str):
        raise ArgumentError("thermostat", f"expected one of {THERMOSTATS}, got {name!r}")
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in THERMOSTATS:
        raise ArgumentError("thermostat", f"expected one of {THERMOSTATS}, got {name!r}")
    return key


def _check_atoms(atoms: Any) -> None:
    if not isinstance(atoms, Atoms):
        raise ArgumentError("atoms", f"expected an ase.Atoms, got {type(atoms).__name__}")
    if len(atoms) < 2:
        raise ArgumentError("atoms", f"needs at least 2 atoms, got {len(atoms)}")
    cell = np.asarray(atoms.cell[:], dtype=float)
    if not all(atoms.pbc) or abs(np.linalg.det(cell)) < 1e-6:
        raise ArgumentError("atoms", "needs a 3-D periodic cell (pbc on all axes, volume > 0)")
    if atoms.constraints:
        raise ArgumentError(
            "atoms", f"has constraints {atoms.constraints}; remove them (set_constraint())"
        )


def _thermostat_parameters(
    thermostat: str, timestep_fs: float, friction_per_fs: Any, tdamp_fs: Any
) -> dict[str, Any]:
    if thermostat == "langevin":
        if tdamp_fs is not None:
            raise ArgumentError("tdamp_fs", "applies to 'bussi' and 'nose-hoover', not 'langevin'")
        f = DEFAULT_FRICTION_PER_FS if friction_per_fs is None else friction_per_fs
        return {"friction_per_fs": _positive("friction_per_fs", f, "1/fs")}
    if friction_per_fs is not None:
        raise ArgumentError("friction_per_fs", f"applies to 'langevin', not {thermostat!r}")
    tau = DEFAULT_TDAMP_STEPS * timestep_fs if tdamp_fs is None else tdamp_fs
    params = {"tdamp_fs": _positive("tdamp_fs", tau, "fs")}
    if thermostat == "nose-hoover":
        params["tchain"] = NHC_CHAIN
    return params


# --------------------------------------------------------------------------- files


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileFormatError(path, f"not valid JSON ({exc}); delete the workdir") from None
    if not isinstance(data, dict):
        raise FileFormatError(path, "not a JSON object")
    return data


def _read_checkpoint(path: Path) -> dict[str, Any]:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: np.array(z[k]) for k in z.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise FileFormatError(
            path, f"unreadable checkpoint ({exc}); delete it to restart"
        ) from None
    meta["arrays"] = arrays
    return meta


def _write_checkpoint(path: Path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    payload = dict(arrays)
    payload["meta"] = np.array(json.dumps(meta))
    _atomic_write(path, lambda fh: np.savez(fh, **payload))


def _open_frames(path: Path, shape: tuple[int, ...], create: bool) -> np.ndarray:
    if create:
        return np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=shape)
    try:
        mm = np.lib.format.open_memmap(path, mode="r+")
    except (OSError, ValueError) as exc:
        raise FileFormatError(path, f"unreadable frame file ({exc}); delete the workdir") from None
    if mm.shape[1:] != shape[1:] or mm.dtype != np.float64:
        raise FileFormatError(path, f"shape {mm.shape} {mm.dtype}, expected (…, {shape[1:]})")
    if mm.shape[0] < shape[0]:  # a longer run was asked for: grow, keeping the frames
        del mm
        tmp = path.with_name(path.name + ".grow")
        new = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float64, shape=shape)
        old = np.load(path, mmap_mode="r")
        for s in range(0, old.shape[0], 1024):
            e = min(s + 1024, old.shape[0])
            new[s:e] = old[s:e]
        new.flush()
        del new, old
        os.replace(tmp, path)
        mm = np.lib.format.open_memmap(path, mode="r+")
    return mm


# --------------------------------------------------------------------------- dynamics


def _make_dynamics(work: Atoms, thermostat: str, temperature_K: float, timestep_fs: float,
                   params: dict[str, Any], rng: np.random.Generator):  # fmt: skip
    dt = timestep_fs * units.fs
    if thermostat == "langevin":
        from ase.constraints import FixCom
        from ase.md.langevin import Langevin

        work.set_constraint(FixCom())
        return Langevin(work, dt, temperature_K=temperature_K,
                        friction=params["friction_per_fs"] / units.fs, fixcm=False,
                        rng=rng)  # fmt: skip
    if thermostat == "bussi":
        from ase.constraints import FixCom
        from ase.md.bussi import Bussi

        work.set_constraint(FixCom())
        return Bussi(work, dt, temperature_K=temperature_K, taut=params["tdamp_fs"] * units.fs,
                     rng=rng)  # fmt: skip
    from ase.md.nose_hoover_chain import NoseHooverChainNVT

    dyn = NoseHooverChainNVT(work, dt, temperature_K=temperature_K,
                             tdamp=params["tdamp_fs"] * units.fs,
                             tchain=params["tchain"])  # fmt: skip
    thermo = getattr(dyn, "_thermostat", None)
    if thermo is not None and hasattr(thermo, "_num_atoms_global"):
        # ASE's chain drives 3N degrees of freedom; with zero total momentum there are 3N − 3.
        thermo._num_atoms_global = len(work) - 1
    return dyn


def _dynamics_state(dyn, thermostat: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """(arrays, JSON fields) that restore ``dyn`` exactly."""
    if thermostat == "nose-hoover":
        th = dyn._thermostat
        arrays = {
            "positions": np.array(dyn._q, dtype=np.float64),
            "momenta": np.array(dyn._p, dtype=np.float64),
            "nhc_eta": np.array(th._eta, dtype=np.float64),
            "nhc_p_eta": np.array(th._p_eta, dtype=np.float64),
        }
        return arrays, {}
    arrays = {
        "positions": dyn.atoms.get_positions(),
        "momenta": dyn.atoms.get_momenta(),
    }
    extra = (
        {"bussi_transferred_energy": float(dyn.transferred_energy)} if thermostat == "bussi" else {}
    )
    return arrays, extra


def _restore_thermostat(dyn, thermostat: str, ck: dict[str, Any]) -> None:
    a = ck["arrays"]
    if thermostat == "nose-hoover":
        dyn._q = a["positions"].copy()
        dyn._p = a["momenta"].copy()
        dyn._thermostat._eta = a["nhc_eta"].copy()
        dyn._thermostat._p_eta = a["nhc_p_eta"].copy()
    elif thermostat == "bussi":
        dyn.transferred_energy = float(ck["bussi_transferred_energy"])


def _conserved(dyn, thermostat: str, e_pot: float, e_kin: float) -> float:
    if thermostat == "bussi":
        return e_pot + e_kin - float(dyn.transferred_energy)
    if thermostat == "nose-hoover":
        return e_pot + e_kin + float(dyn._thermostat.get_thermostat_energy())
    return float("nan")


def _initial_velocities(work: Atoms, temperature_K: float, rng: np.random.Generator) -> None:
    """Maxwell–Boltzmann momenta, zero total momentum, scaled to exactly ``temperature_K``."""
    masses = work.get_masses()[:, None]
    p = rng.standard_normal((len(work), 3)) * np.sqrt(masses * units.kB * temperature_K)
    p -= masses * (p.sum(axis=0) / masses.sum())
    ndof = 3 * len(work) - 3
    t_now = float(np.sum(p * p / masses)) / (ndof * units.kB)
    work.set_momenta(p * math.sqrt(temperature_K / t_now), apply_constraint=False)


def _reset(calc: BaseCalculator) -> None:
    reset = getattr(calc, "reset", None)
    if callable(reset):
        reset()


class _CallCounter:
    """Counts ``calculate`` calls of one calculator instance; :meth:`restore` undoes the patch."""

    def __init__(self, calc: BaseCalculator) -> None:
        self.calc = calc
        self.calls = 0
        self._had = "calculate" in vars(calc)
        self._old = vars(calc).get("calculate")
        inner = calc.calculate

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return inner(*args, **kwargs)

        calc.calculate = counted

    def restore(self) -> None:
        if self._had:
            self.calc.calculate = self._old
        else:
            vars(self.calc).pop("calculate", None)


# --------------------------------------------------------------------------- entry points


def _key(atoms: Atoms, calc: BaseCalculator, temperature_K: float, timestep_fs: float,
         thermostat: str, params: dict, save_every: int, seed: int,
         save_velocities: bool) -> dict[str, Any]:  # fmt: skip
    from lilib.phonons.compute import _structure_key, calculator_identity

    return {
        "structure": _structure_key(atoms),
        "calculator": calculator_identity(calc),
        "temperature_K": temperature_K,
        "timestep_fs": timestep_fs,
        "thermostat": thermostat,
        "thermostat_parameters": params,
        "save_every": save_every,
        "seed": seed,
        "save_velocities": save_velocities,
    }


def _n_frames(n_steps: int, save_every: int) -> int:
    return n_steps // save_every + 1


def run_md(
    atoms: Atoms,
    calculator: str | BaseCalculator | None,
    temperature_K: float,
    n_steps: int,
    timestep_fs: float,
    *,
    workdir: str | os.PathLike,
    thermostat: str = "langevin",
    friction_per_fs: float | None = None,
    tdamp_fs: float | None = None,
    save_every: int = 10,
    save_velocities: bool = False,
    seed: int = 0,
    progress: bool = True,
    checkpoint_every_s: float | None = 300.0,
    checkpoint_every_steps: int | None = None,
) -> MDRun:
    """NVT molecular dynamics of ``atoms`` with any ASE calculator, resumable from ``workdir``.

    atoms: periodic ase.Atoms (copied; its masses are used, e.g. 2.014 amu for deuterium; no
        constraints). calculator: an ASE calculator, or a model name for
        :func:`lilib.calculators.get_calculator` (None: ``'sevennet-0'``; elements checked).
    temperature_K: target (K). n_steps: MD steps. timestep_fs: MD time step (fs).
    thermostat: 'langevin', 'bussi' or 'nose-hoover' (see the module docstring).
    friction_per_fs: Langevin friction (1/fs; default 0.01). tdamp_fs: Bussi / Nosé–Hoover
        time constant (fs; default 100 × timestep_fs).
    save_every: steps between saved frames (frames: n_steps // save_every + 1, with the start).
    save_velocities: also save velocities per frame (for :func:`lilib.md.vdos.vdos`).
    seed: seeds the Maxwell–Boltzmann draw and the thermostat's noise (numpy PCG64).
    progress: a text progress bar (tqdm) on stderr.
    checkpoint_every_s, checkpoint_every_steps: write a restart point after this much wall
        time (s) or this many steps, whichever comes first (None: not by that criterion); always
        at the end. Steps give bitwise-reproducible restarts for every deterministic calculator
        (module docstring).

    Returns an :class:`MDRun`. Raises :class:`~lilib.errors.ArgumentError` (naming the argument)
    for bad arguments, :class:`~lilib.errors.WorkdirMismatchError` for a workdir of another
    calculation, :class:`~lilib.errors.FileFormatError` for a damaged workdir file.
    """
    from tqdm.std import tqdm

    from lilib import calculators, provenance

    _check_atoms(atoms)
    temperature_K = _positive("temperature_K", temperature_K, "K")
    if not (_is_int(n_steps) and n_steps >= 1):
        raise ArgumentError("n_steps", f"expected an integer ≥ 1, got {n_steps!r}")
    n_steps = int(n_steps)
    timestep_fs = _positive("timestep_fs", timestep_fs, "fs")
    if not (_is_int(save_every) and save_every >= 1):
        raise ArgumentError("save_every", f"expected an integer ≥ 1, got {save_every!r}")
    if save_every > n_steps:
        raise ArgumentError("save_every", f"{save_every} > n_steps = {n_steps}: no frame to save")
    save_every = int(save_every)
    if not (_is_int(seed) and seed >= 0):
        raise ArgumentError("seed", f"expected an integer ≥ 0, got {seed!r}")
    seed = int(seed)
    if not isinstance(save_velocities, bool):
        raise ArgumentError("save_velocities", f"expected True or False, got {save_velocities!r}")
    thermostat = _thermostat_name(thermostat)
    params = _thermostat_parameters(thermostat, timestep_fs, friction_per_fs, tdamp_fs)
    if checkpoint_every_s is not None:
        checkpoint_every_s = _positive("checkpoint_every_s", checkpoint_every_s, "s")
    if checkpoint_every_steps is not None and not (
        _is_int(checkpoint_every_steps) and checkpoint_every_steps >= 1
    ):
        raise ArgumentError(
            "checkpoint_every_steps", f"expected an integer ≥ 1, got {checkpoint_every_steps!r}"
        )
    if workdir is None:
        raise ArgumentError("workdir", "required: the folder for frames and checkpoints")
    wd = Path(workdir)
    if wd.exists() and not wd.is_dir():
        raise ArgumentError("workdir", f"{wd} exists and is not a folder")

    if calculator is None:
        calculator = calculators.DEFAULT_MODEL
    if isinstance(calculator, str):
        calculators.check_coverage(atoms, calculator)
        calc = calculators.get_calculator(calculator)
    elif isinstance(calculator, BaseCalculator):
        calc = calculator
    else:
        raise ArgumentError(
            "calculator", f"expected an ASE Calculator or a model name, got {calculator!r}"
        )
    provenance.cite("ase")

    key = _key(atoms, calc, temperature_K, timestep_fs, thermostat, params, save_every, seed,
               save_velocities)  # fmt: skip
    wd.mkdir(parents=True, exist_ok=True)
    manifest_path, ck_path = wd / MANIFEST, wd / CHECKPOINT
    ck: dict[str, Any] | None = None
    if manifest_path.is_file():
        manifest = _read_manifest(manifest_path)
        if manifest.get("format") != FORMAT:
            raise WorkdirMismatchError(wd, "format", manifest.get("format"), FORMAT)
        stored = manifest.get("key", {})
        for name in _KEY_FIELDS:
            if stored.get(name) != key[name]:
                raise WorkdirMismatchError(wd, name, stored.get(name), key[name])
        if ck_path.is_file():
            ck = _read_checkpoint(ck_path)
    elif any(wd.glob("*.npy")) or ck_path.exists():
        raise WorkdirMismatchError(wd, "manifest", "frame files without manifest.json",
                                   "a new MD run")  # fmt: skip

    n_atoms = len(atoms)
    capacity = _n_frames(n_steps, save_every)
    if ck is not None:
        capacity = max(capacity, _n_frames(int(ck["step"]), save_every))
    manifest = {
        "format": FORMAT,
        "key": key,
        "n_steps": n_steps,
        "n_atoms": n_atoms,
        "symbols": atoms.get_chemical_symbols(),
        "masses_amu": atoms.get_masses().tolist(),
        "cell_A": np.asarray(atoms.cell[:], dtype=float).tolist(),
        "thermo_columns": list(THERMO_COLUMNS),
        "files": {
            "positions": POSITIONS,
            "velocities": VELOCITIES if save_velocities else None,
            "thermo": THERMO,
            "checkpoint": CHECKPOINT,
        },
        "versions": _versions(),
    }

    fresh = ck is None
    frames = _Frames(wd, capacity, n_atoms, save_velocities, create=fresh)
    manifest["created"] = _now() if fresh else _read_manifest(manifest_path).get("created")
    _write_json(manifest_path, manifest)

    work = atoms.copy()
    work.calc = calc
    rng = np.random.default_rng(seed)
    if fresh:
        _initial_velocities(work, temperature_K, rng)
        start = 0
        totals = {"n_force_calls": 0, "wall_s": 0.0, "steps_integrated": 0}
    else:
        start = int(ck["step"])
        work.set_positions(ck["arrays"]["positions"], apply_constraint=False)
        work.set_momenta(ck["arrays"]["momenta"], apply_constraint=False)
        rng.bit_generator.state = ck["rng_state"]
        totals = {k: ck[k] for k in ("n_force_calls", "wall_s", "steps_integrated")}

    counter = _CallCounter(calc)
    stepper = None
    try:
        if start < n_steps:  # else done earlier: the frames asked for are on disk
            _reset(calc)  # a restart point: no state carried over from another run
            dyn = _make_dynamics(work, thermostat, temperature_K, timestep_fs, params, rng)
            if not fresh:
                _restore_thermostat(dyn, thermostat, ck)
            stepper = _Stepper(dyn, work, thermostat, rng, frames, ck_path, save_every,
                               timestep_fs, totals, counter)  # fmt: skip
            if fresh:
                stepper.write_frame(0, float("nan"))
                stepper.checkpoint(0)
            bar = tqdm(total=n_steps, initial=start, unit="step", file=sys.stderr,
                       disable=not progress, desc=f"MD {work.get_chemical_formula()} "
                       f"{temperature_K:g} K", mininterval=1.0, dynamic_ncols=False,
                       ascii=True)  # fmt: skip
            try:
                stepper.run(start, n_steps, checkpoint_every_steps, checkpoint_every_s, bar)
            finally:
                bar.close()
    finally:
        counter.restore()
        frames.close()

    return _build_run(wd, manifest, _read_checkpoint(ck_path), n_steps,
                      n_force_calls_this_call=counter.calls,
                      steps_this_call=stepper.steps if stepper else 0,
                      resumed_from_step=None if fresh else start)  # fmt: skip


class _Frames:
    """The memory-mapped frame files of a workdir (positions, velocities, thermo)."""

    def __init__(self, wd: Path, capacity: int, n_atoms: int, velocities: bool, create: bool):
        self.positions = _open_frames(wd / POSITIONS, (capacity, n_atoms, 3), create)
        self.velocities = (
            _open_frames(wd / VELOCITIES, (capacity, n_atoms, 3), create) if velocities else None
        )
        self.thermo = _open_frames(wd / THERMO, (capacity, len(THERMO_COLUMNS)), create)

    def flush(self) -> None:
        for mm in (self.positions, self.velocities, self.thermo):
            if mm is not None:
                mm.flush()

    def close(self) -> None:
        self.flush()
        self.positions = self.velocities = self.thermo = None


class _Stepper:
    """Integrates, writes frames and checkpoints for :func:`run_md`."""

    def __init__(self, dyn, work: Atoms, thermostat: str, rng: np.random.Generator,
                 frames: _Frames, ck_path: Path, save_every: int, timestep_fs: float,
                 totals: dict[str, Any], counter: _CallCounter) -> None:  # fmt: skip
        self.dyn, self.work, self.thermostat, self.rng = dyn, work, thermostat, rng
        self.frames, self.ck_path = frames, ck_path
        self.save_every, self.timestep_fs = save_every, timestep_fs
        self.totals, self.counter = totals, counter
        self.masses = work.get_masses()[:, None]
        self.ndof = 3 * len(work) - 3
        self.wall = 0.0
        self.steps = 0

    def write_frame(self, step: int, wall_per_step: float) -> float:
        """Write the frame of ``step``; returns its temperature (K)."""
        k = step // self.save_every
        if self.thermostat == "nose-hoover":
            pos, mom = self.dyn._q, self.dyn._p
        else:
            pos, mom = self.work.get_positions(), self.work.get_momenta()
        e_pot = float(self.work.get_potential_energy())
        e_kin = float(0.5 * np.sum(mom * mom / self.masses))
        temperature = 2.0 * e_kin / (self.ndof * units.kB)
        self.frames.positions[k] = pos
        if self.frames.velocities is not None:
            self.frames.velocities[k] = mom / self.masses * units.fs  # Å/fs
        conserved = _conserved(self.dyn, self.thermostat, e_pot, e_kin)
        self.frames.thermo[k] = (step, step * self.timestep_fs, temperature, e_pot, e_kin,
                                 conserved, wall_per_step)  # fmt: skip
        return temperature

    def checkpoint(self, step: int) -> None:
        self.frames.flush()  # frames first: the checkpoint vouches for them
        arrays, extra = _dynamics_state(self.dyn, self.thermostat)
        meta = {
            "format": FORMAT,
            "step": step,
            "frames_done": step // self.save_every + 1,
            "rng_state": self.rng.bit_generator.state,
            "n_force_calls": self.totals["n_force_calls"] + self.counter.calls,
            "wall_s": self.totals["wall_s"] + self.wall,
            "steps_integrated": self.totals["steps_integrated"] + self.steps,
            "date": _now(),
            **extra,
        }
        _write_checkpoint(self.ck_path, meta, arrays)

    def run(self, start: int, end: int, every_steps: int | None, every_s: float | None,
            bar) -> None:  # fmt: skip
        last_time, last_step = time.perf_counter(), start
        frame_wall, frame_steps = 0.0, 0
        for step in range(start + 1, end + 1):
            t0 = time.perf_counter()
            self.dyn.step()
            dt_wall = time.perf_counter() - t0
            self.wall += dt_wall
            self.steps += 1
            frame_wall += dt_wall
            frame_steps += 1
            if step % self.save_every == 0:
                temperature = self.write_frame(step, frame_wall / frame_steps)
                frame_wall, frame_steps = 0.0, 0
                bar.set_postfix_str(f"T={temperature:.0f} K", refresh=False)
            by_steps = every_steps is not None and step - last_step >= every_steps
            by_time = every_s is not None and time.perf_counter() - last_time >= every_s
            if step == end or by_steps or by_time:
                self.checkpoint(step)
                last_time, last_step = time.perf_counter(), step
                if step < end:
                    _reset(self.work.calc)  # the same restart point a resumed run would have
            bar.update(1)


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("lilib", "ase", "numpy"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return out


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _build_run(wd: Path, manifest: dict[str, Any], ck: dict[str, Any], n_steps: int, *,
               n_force_calls_this_call: int, steps_this_call: int,
               resumed_from_step: int | None) -> MDRun:  # fmt: skip
    key = manifest["key"]
    save_every = int(key["save_every"])
    steps_on_disk = int(ck["step"])
    n_frames = min(_n_frames(n_steps, save_every), int(ck["frames_done"]))
    thermo = np.load(wd / THERMO, mmap_mode="r")
    if thermo.shape[0] < n_frames:
        raise FileFormatError(wd / THERMO, f"{thermo.shape[0]} rows, checkpoint says {n_frames}")
    th = np.array(thermo[:n_frames])
    del thermo
    settings = {
        "temperature_K": key["temperature_K"],
        "n_steps": n_steps,
        "timestep_fs": key["timestep_fs"],
        "thermostat": key["thermostat"],
        "thermostat_parameters": dict(key["thermostat_parameters"]),
        "save_every": save_every,
        "seed": key["seed"],
        "save_velocities": key["save_velocities"],
    }
    return MDRun(
        workdir=wd,
        symbols=np.asarray(manifest["symbols"], dtype=str),
        masses=np.asarray(manifest["masses_amu"], dtype=float),
        cell=np.asarray(manifest["cell_A"], dtype=float),
        settings=settings,
        calculator=dict(key["calculator"]),
        times_fs=th[:, 1].copy(),
        temperatures_K=th[:, 2].copy(),
        potential_energies_eV=th[:, 3].copy(),
        kinetic_energies_eV=th[:, 4].copy(),
        conserved_energies_eV=th[:, 5].copy(),
        step_wall_s=th[:, 6].copy(),
        n_force_calls=int(ck["n_force_calls"]),
        wall_s=float(ck["wall_s"]),
        steps_integrated=int(ck["steps_integrated"]),
        n_force_calls_this_call=int(n_force_calls_this_call),
        steps_this_call=int(steps_this_call),
        resumed_from_step=resumed_from_step,
        complete=steps_on_disk >= n_steps,
    )


def load_run(workdir: str | os.PathLike) -> MDRun:
    """The run stored in ``workdir`` up to its last checkpoint (finished or not); no calculator.

    ``complete`` says whether the ``n_steps`` of the last call were reached. Raises
    :class:`~lilib.errors.FileFormatError` when the folder holds no MD run.
    """
    wd = Path(workdir)
    manifest_path, ck_path = wd / MANIFEST, wd / CHECKPOINT
    for p in (manifest_path, ck_path):
        if not p.is_file():
            raise FileFormatError(p, "no such file: not an MD workdir of lilib.md.run_md")
    manifest = _read_manifest(manifest_path)
    if manifest.get("format") != FORMAT:
        raise FileFormatError(manifest_path, f"format {manifest.get('format')!r}, not {FORMAT!r}")
    ck = _read_checkpoint(ck_path)
    n_steps = max(int(manifest["n_steps"]), int(ck["step"]))
    return _build_run(wd, manifest, ck, n_steps, n_force_calls_this_call=0,
                      steps_this_call=0, resumed_from_step=None)  # fmt: skip
