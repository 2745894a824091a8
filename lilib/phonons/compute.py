"""Phonons from any ASE calculator: finite displacements with phonopy, checkpointed on disk.

>>> from lilib.phonons import compute_phonons, lattice_dynamics
>>> ph = compute_phonons(atoms, calc, workdir="runs/LiF-sevennet")  # resumable, cached
>>> ld = lattice_dynamics(ph, source="SevenNet-0")

phonopy generates the symmetry-reduced displacements of a supercell (diagonal, every
perpendicular width ≥ ``min_length`` Å unless given); the calculator gives the forces on each
displaced supercell; phonopy builds the force constants the way :func:`phonopy.load` (and so
:func:`~lilib.phonons.load_phonons`) does: compact, translational/permutational symmetrization
of the traditional finite-difference result.

Checkpoints (``workdir`` given)::

    workdir/manifest.json        key of the calculation + displacement list (+ relaxed structure)
    workdir/forces_0000.npy ...  forces (eV/Å) on displaced supercell i, written as each is done
    workdir/phonopy_params.yaml  the finished calculation (phonopy's own format; load_phonons reads it)

The key holds a hash of the structure (cell, atomic numbers, masses, positions rounded to 1e-6 Å,
pbc), the calculator identity (class, model name, simple parameters), the supercell matrix,
the displacement distance, the primitive matrix as given and the relaxation settings (the
phonopy version is recorded; the displacement list it generates is compared instead). A rerun with the same key loads the force files present and computes only
the missing ones; once ``phonopy_params.yaml`` exists, a rerun calls the calculator not at all.
A workdir written with a different key raises :class:`~lilib.errors.WorkdirMismatchError`
naming the field. Every file is written to a temporary name and moved into place
(``os.replace``), so an interrupt never leaves a half-written file behind. One process per
workdir: two runs sharing a workdir at the same time would compute the same forces twice.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np

from lilib import provenance
from lilib._files import atomic_write_bytes as _atomic_write_bytes
from lilib._files import write_json as _write_json
from lilib.errors import (
    ArgumentError,
    CalculatorError,
    ConvergenceWarning,
    FileFormatError,
    WorkdirMismatchError,
)
from lilib.phonons.io import _CENTRING, PhononData, load_phonons

__all__ = [
    "ComputedPhonons",
    "RelaxResult",
    "calculator_identity",
    "compute_phonons",
    "relax",
    "supercell_for",
]

MANIFEST = "manifest.json"
PARAMS_YAML = "phonopy_params.yaml"
_FORMAT = "lilib.phonons.compute/1"
_FORCE_FILE = re.compile(r"forces_(\d+)\.npy$")
_ROUND = 6  # decimals (Å) of the positions and cell in the structure hash
_DISP_TOLERANCE = 1e-8  # Å, stored vs regenerated displacements
_RELAX_KEYS = ("fmax", "steps", "cell", "optimizer")
#: calculator.parameters that say where/how a calculation runs, not what it computes
_RUN_PARAMETERS = frozenset({"device", "directory", "label", "txt", "logfile", "command"})
_MANIFEST_KEYS = ("key", "primitive_matrix_resolved", "n_displacements", "displacements")


# --------------------------------------------------------------------------- supercell


def supercell_for(atoms, min_length: float = 10.0) -> np.ndarray:
    """Smallest diagonal supercell whose perpendicular widths are all ≥ ``min_length`` Å.

    The perpendicular width along a_i is V / |a_j × a_k| (the distance between opposite faces);
    repeating a_i n_i times multiplies it by n_i, so n_i = ⌈min_length / width_i⌉ is the
    smallest diagonal choice. Returns a 3×3 int matrix (phonopy's ``supercell_matrix``).
    A non-diagonal matrix can be smaller for skewed cells (e.g. fcc primitive cells).
    """
    if not (_is_real(min_length) and math.isfinite(min_length) and min_length > 0):
        raise ArgumentError("min_length", f"expected a positive length in Å, got {min_length!r}")
    cell = _cell_of(atoms)
    volume = abs(float(np.linalg.det(cell)))
    widths = np.array(
        [volume / np.linalg.norm(np.cross(cell[(i + 1) % 3], cell[(i + 2) % 3])) for i in range(3)]
    )
    reps = np.maximum(1, np.ceil(min_length / widths - 1e-9)).astype(int)
    return np.diag(reps)


def _is_real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _cell_of(atoms) -> np.ndarray:
    cell = np.asarray(atoms.cell[:], dtype=float)
    if cell.shape != (3, 3) or abs(np.linalg.det(cell)) < 1e-6:
        raise ArgumentError("atoms", "needs a 3D cell with non-zero volume (a crystal)")
    if not all(atoms.pbc):
        raise ArgumentError("atoms", f"needs periodic boundaries along all axes, got {atoms.pbc}")
    return cell


def _check_supercell(supercell) -> np.ndarray:
    try:
        arr = np.asarray(supercell, dtype=float)
    except (TypeError, ValueError):
        raise ArgumentError("supercell", f"not numeric: {supercell!r}") from None
    if arr.shape == (3,):
        arr = np.diag(arr)
    if arr.shape != (3, 3) or not np.all(np.isfinite(arr)) or not np.allclose(arr, np.round(arr)):
        raise ArgumentError(
            "supercell", f"expected a 3×3 integer matrix (or 3 integers), got {supercell!r}"
        )
    arr = np.round(arr).astype(int)
    det = round(float(np.linalg.det(arr)))
    if det <= 0:
        raise ArgumentError(
            "supercell", f"the matrix must have a positive determinant, got {det}: {arr.tolist()}"
        )
    return arr


def _check_primitive(primitive_matrix) -> str | list[list[float]]:
    if isinstance(primitive_matrix, str):
        if primitive_matrix not in _CENTRING:
            raise ArgumentError(
                "primitive_matrix",
                f"expected a 3×3 matrix or one of {_CENTRING}, got {primitive_matrix!r}",
            )
        return primitive_matrix
    try:
        arr = np.asarray(primitive_matrix, dtype=float)
    except (TypeError, ValueError):
        arr = np.zeros(0)
    if arr.shape != (3, 3) or abs(np.linalg.det(arr)) < 1e-8:
        raise ArgumentError(
            "primitive_matrix", f"expected a non-singular 3×3 matrix, got {primitive_matrix!r}"
        )
    return arr.tolist()


# --------------------------------------------------------------------------- relaxation


@dataclass(frozen=True, eq=False)
class RelaxResult:
    """Outcome of :func:`relax`.

    ``atoms``: the relaxed structure (a copy, no calculator attached). ``converged``: whether
    the largest force fell below ``fmax`` within ``steps``; ``n_steps``: optimizer steps taken.
    ``max_force_eV_A``: the largest force at the end, the quantity compared with ``fmax`` (with
    ``cell=True`` the cell filter's generalized forces, which include the stress on the cell).
    ``energy_eV``: potential energy of the relaxed structure.
    """

    atoms: Any
    converged: bool
    n_steps: int
    max_force_eV_A: float
    energy_eV: float
    fmax: float


def relax(
    atoms,
    calculator,
    fmax: float = 0.01,
    steps: int = 300,
    cell: bool = True,
    optimizer: Literal["FIRE", "BFGS"] = "FIRE",
) -> RelaxResult:
    """Relax positions (and, with ``cell=True``, the cell) with ASE; the input is not modified.

    fmax: force criterion (eV/Å). steps: most optimizer steps. cell: relax the cell too, via
    :class:`ase.filters.FrechetCellFilter`. optimizer: 'FIRE' (default, robust) or 'BFGS'.

    A relaxation that does not converge emits :class:`~lilib.errors.ConvergenceWarning` and
    returns ``converged=False`` with the structure it reached.
    """
    provenance.cite("fire" if optimizer == "FIRE" else "ase")
    from ase.calculators.calculator import PropertyNotImplementedError
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS, FIRE

    if not (_is_real(fmax) and fmax > 0):
        raise ArgumentError("fmax", f"expected a positive force in eV/Å, got {fmax!r}")
    if not (isinstance(steps, numbers.Integral) and not isinstance(steps, bool) and steps >= 0):
        raise ArgumentError("steps", f"expected a non-negative integer, got {steps!r}")
    optimizers = {"FIRE": FIRE, "BFGS": BFGS}
    if optimizer not in optimizers:
        raise ArgumentError("optimizer", f"expected 'FIRE' or 'BFGS', got {optimizer!r}")
    work = atoms.copy()
    work.calc = calculator
    target = FrechetCellFilter(work) if cell else work
    opt = optimizers[optimizer](target, logfile=None)
    try:
        opt.run(fmax=fmax, steps=steps)
        forces = np.asarray(target.get_forces())
    except PropertyNotImplementedError as exc:
        if not cell:
            raise
        raise CalculatorError(
            _identity_label(calculator_identity(calculator)),
            f"{exc}: a cell relaxation needs the stress; relax with cell=False",
        ) from exc
    max_force = float(np.sqrt((forces**2).sum(axis=1).max())) if len(forces) else 0.0
    converged = max_force < fmax
    result = RelaxResult(
        atoms=work.copy(),
        converged=bool(converged),
        n_steps=int(opt.nsteps),
        max_force_eV_A=max_force,
        energy_eV=float(work.get_potential_energy()),
        fmax=float(fmax),
    )
    if not converged:
        _warn_unconverged(result, work.get_chemical_formula(), stacklevel=3)
    return result


def _warn_unconverged(result: RelaxResult, formula: str, stacklevel: int) -> None:
    warnings.warn(
        ConvergenceWarning(
            f"relaxation of {formula} did not converge in {result.n_steps} steps: largest force "
            f"{result.max_force_eV_A:.3g} eV/Å > fmax {result.fmax:g} eV/Å"
        ),
        stacklevel=stacklevel,
    )


# --------------------------------------------------------------------------- identities


def _json_safe(value, depth: int = 0):
    """Value if made of JSON scalars/lists/dicts (numpy scalars/arrays converted), else None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray) and value.size <= 64:
        value = value.tolist()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if depth < 3 and isinstance(value, list | tuple):
        items = [_json_safe(v, depth + 1) for v in value]
        return None if any(i is None and v is not None for i, v in zip(items, value)) else items
    if depth < 3 and isinstance(value, Mapping):
        out = {str(k): _json_safe(v, depth + 1) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None or value[k] is None}
    return None


def calculator_identity(calculator) -> dict[str, Any]:
    """What identifies a calculator in a checkpoint key: class, model name, simple parameters.

    ``name``: the first string among the attributes ``model_name`` (lilib's MLIP calculators),
    ``model`` and ``name`` (ASE calculators, e.g. 'emt'), else the class name. ``parameters``:
    the entries of ``calculator.parameters`` (ASE) that are plain numbers/strings/lists; objects
    (torch models, ...) and where-it-runs settings ('device', 'directory', 'label', 'txt',
    'logfile', 'command') are left out, so a run can be resumed on another machine.
    """
    cls = type(calculator)
    name = None
    for attr in ("model_name", "model", "name"):
        value = getattr(calculator, attr, None)
        if isinstance(value, str) and value:
            name = value
            break
    params = getattr(calculator, "parameters", None)
    if isinstance(params, Mapping):
        params = {k: v for k, v in params.items() if k not in _RUN_PARAMETERS}
    safe = _json_safe(params) if isinstance(params, Mapping) else None
    return {
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "name": name or cls.__name__,
        "parameters": safe or {},
    }


def _identity_label(identity: Mapping[str, Any]) -> str:
    return f"{identity['class']} ({identity['name']})"


def _structure_key(atoms) -> dict[str, Any]:
    def rounded(a, decimals=_ROUND):
        return (np.round(np.asarray(a, dtype=float), decimals) + 0.0).tolist()  # no -0.0

    payload = {
        "cell": rounded(atoms.cell[:]),
        "numbers": [int(z) for z in atoms.numbers],
        "masses": rounded(atoms.get_masses(), 6),
        "positions": rounded(atoms.positions),
        "pbc": [bool(p) for p in atoms.pbc],
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return {"formula": atoms.get_chemical_formula(), "sha256": digest}


def _relax_settings(relax_first) -> dict[str, Any] | None:
    if relax_first is False or relax_first is None:
        return None
    if relax_first is True:
        given: Mapping[str, Any] = {}
    elif isinstance(relax_first, Mapping):
        given = relax_first
        unknown = sorted(set(given) - set(_RELAX_KEYS))
        if unknown:
            raise ArgumentError(
                "relax_first", f"unknown relax() options {unknown}; known: {list(_RELAX_KEYS)}"
            )
    else:
        raise ArgumentError(
            "relax_first", f"expected a bool or a dict of relax() options, got {relax_first!r}"
        )
    settings = {"fmax": 0.01, "steps": 300, "cell": True, "optimizer": "FIRE"}
    settings.update(given)
    try:  # plain JSON types: the settings are part of the checkpoint key
        return {
            "fmax": float(settings["fmax"]),
            "steps": int(settings["steps"]),
            "cell": bool(settings["cell"]),
            "optimizer": str(settings["optimizer"]),
        }
    except (TypeError, ValueError):
        raise ArgumentError("relax_first", f"invalid relax() options {dict(given)!r}") from None


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, eq=False)
class ComputedPhonons(PhononData):
    """A :class:`~lilib.phonons.io.PhononData` computed with a calculator.

    Everything :func:`~lilib.phonons.lattice_dynamics` reads is set as for loaded data.
    ``folder``, ``structure_file`` and ``force_file`` are the workdir and its
    ``phonopy_params.yaml``, or None without a workdir (then pass ``source=`` to
    :func:`lattice_dynamics`, whose default source is the folder). ``label``: the workdir's
    name, else the formula. Added: ``calculator`` (its identity, as stored in the manifest),
    ``workdir``, ``n_force_calls`` (displaced supercells computed in *this* call),
    ``from_cache`` (True when read from ``phonopy_params.yaml`` without force work) and
    ``relaxation`` (the :class:`RelaxResult` when ``relax_first``, else None).
    """

    folder: Path | None
    structure_file: Path | None
    force_file: Path | None
    calculator: dict[str, Any] | None = None
    workdir: Path | None = None
    n_force_calls: int = 0
    from_cache: bool = False
    relaxation: RelaxResult | None = None


# --------------------------------------------------------------------------- checkpoint files


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FileFormatError(
            path, f"not valid JSON ({exc}); delete the workdir to start over"
        ) from None
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise FileFormatError(path, f"not a {_FORMAT} manifest")
    missing = [k for k in _MANIFEST_KEYS if k not in data]
    if missing or not isinstance(data["key"], dict):
        raise FileFormatError(path, f"manifest lacks {missing or ['key']}")
    return data


def _force_files(workdir: Path) -> dict[int, Path]:
    out = {}
    for p in workdir.glob("forces_*.npy"):
        m = _FORCE_FILE.match(p.name)
        if m:
            out[int(m.group(1))] = p
    return out


def _load_forces(path: Path, n_atoms: int) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise FileFormatError(
            path, f"unreadable force file ({exc}); delete it to recompute"
        ) from None
    if arr.shape != (n_atoms, 3):
        raise FileFormatError(
            path,
            f"forces of shape {arr.shape}, but the supercell has {n_atoms} atoms: expected "
            f"({n_atoms}, 3); delete the file to recompute it",
        )
    if not np.all(np.isfinite(arr)):
        raise FileFormatError(path, "forces contain NaN or inf; delete the file to recompute it")
    return np.asarray(arr, dtype=float)


def _dataset_rows(ph) -> list[list[float]]:
    return [
        [int(d["number"]), *(float(x) for x in d["displacement"])]
        for d in ph.dataset["first_atoms"]
    ]


def _atoms_from_cell(cell) -> Any:
    from ase import Atoms

    return Atoms(
        numbers=np.asarray(cell.numbers),
        cell=np.asarray(cell.cell),
        scaled_positions=np.asarray(cell.scaled_positions),
        masses=np.asarray(cell.masses),
        pbc=True,
    )


def _relaxed_record(res: RelaxResult) -> dict[str, Any]:
    a = res.atoms
    return {
        "converged": res.converged,
        "n_steps": res.n_steps,
        "max_force_eV_A": res.max_force_eV_A,
        "energy_eV": res.energy_eV,
        "fmax": res.fmax,
        "cell": np.asarray(a.cell[:]).tolist(),
        "numbers": [int(z) for z in a.numbers],
        "masses": a.get_masses().tolist(),
        "positions": a.positions.tolist(),
    }


def _relaxed_from_record(rec: Mapping[str, Any], path: Path) -> RelaxResult:
    from ase import Atoms

    try:
        atoms = Atoms(
            numbers=rec["numbers"],
            positions=rec["positions"],
            cell=rec["cell"],
            masses=rec["masses"],
            pbc=True,
        )
        return RelaxResult(
            atoms=atoms,
            converged=bool(rec["converged"]),
            n_steps=int(rec["n_steps"]),
            max_force_eV_A=float(rec["max_force_eV_A"]),
            energy_eV=float(rec["energy_eV"]),
            fmax=float(rec["fmax"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise FileFormatError(path, f"malformed 'relaxation' record ({exc})") from None


# --------------------------------------------------------------------------- main entry


def _make_phonopy(atoms, supercell: np.ndarray, primitive):
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms

    unit = PhonopyAtoms(
        numbers=[int(z) for z in atoms.numbers],
        cell=np.asarray(atoms.cell[:], dtype=float),
        scaled_positions=atoms.get_scaled_positions(wrap=True),
        masses=atoms.get_masses(),
    )
    with warnings.catch_warnings():
        try:  # we pass primitive_matrix on purpose (also 'auto'); phonopy 4.10 cannot tell
            from phonopy.structure.cells import PrimitiveMatrixAutoDefaultWarning
        except ImportError:
            pass
        else:
            warnings.simplefilter("ignore", PrimitiveMatrixAutoDefaultWarning)
        return Phonopy(unit, supercell_matrix=supercell, primitive_matrix=primitive, log_level=0)


def _formula(ph) -> str:
    from pymatgen.core import Composition

    return Composition("".join(ph.primitive.symbols)).reduced_formula


def _produce_force_constants(ph) -> None:
    """As :func:`phonopy.load` does by default: compact fc, then symmetrized (ASR)."""
    ph.produce_force_constants(calculate_full_force_constants=False, show_drift=False)
    ph.symmetrize_force_constants(show_drift=False)


def compute_phonons(
    atoms,
    calculator,
    *,
    supercell: Sequence[int] | Sequence[Sequence[int]] | np.ndarray | None = None,
    min_length: float = 10.0,
    displacement: float = 0.01,
    relax_first: bool | Mapping[str, Any] = False,
    workdir: str | os.PathLike | None = None,
    primitive_matrix: str | Sequence[Sequence[float]] | np.ndarray = "auto",
    progress: Callable[[int, int], None] | None = None,
) -> ComputedPhonons:
    """Harmonic phonons of a crystal from any ASE calculator (finite displacements, phonopy).

    atoms: the unit cell (ase.Atoms, periodic in 3D); its masses are used (isotopes count).
    calculator: an ASE calculator (EMT, an MLIP such as SevenNet or CHGNet, DFT, ...).
    supercell: 3×3 integer matrix (or 3 integers) with positive determinant; default
        :func:`supercell_for` (atoms, ``min_length``) of the input cell.
    displacement: finite-displacement distance (Å).
    relax_first: relax with :func:`relax` before the phonons: True (defaults) or a dict of
        its options ('fmax', 'steps', 'cell', 'optimizer'). With a workdir, the relaxed
        structure is stored in the manifest and reused on reruns.
    workdir: folder for checkpoints and the cached result (see the module docstring); created
        if missing. None: everything in memory.
    primitive_matrix: 'auto' (phonopy finds it), a centring letter or a 3×3 matrix.
    progress: called as ``progress(done, total)``: once for the forces found in the workdir
        (or the cached result), then after each displaced supercell computed.

    Returns a :class:`ComputedPhonons` (a :class:`~lilib.phonons.io.PhononData`; pass it to
    :func:`~lilib.phonons.lattice_dynamics`). Raises :class:`~lilib.errors.ArgumentError` for
    bad arguments, :class:`~lilib.errors.WorkdirMismatchError` for a workdir of another
    calculation, :class:`~lilib.errors.FileFormatError` (naming the file) for a corrupted
    checkpoint file, :class:`~lilib.errors.CalculatorError` for non-finite or misshapen forces.
    """
    provenance.cite("phonopy", "spglib")
    import phonopy

    _cell_of(atoms)
    if not (_is_real(displacement) and math.isfinite(displacement) and 0 < displacement < 1):
        raise ArgumentError(
            "displacement", f"expected a distance in Å between 0 and 1, got {displacement!r}"
        )
    smat = supercell_for(atoms, min_length) if supercell is None else _check_supercell(supercell)
    primitive = _check_primitive(primitive_matrix)
    relax_settings = _relax_settings(relax_first)
    if progress is not None and not callable(progress):
        raise ArgumentError("progress", f"expected a callable(done, total), got {progress!r}")
    identity = calculator_identity(calculator)
    key = {
        "structure": _structure_key(atoms),
        "calculator": identity,
        "supercell": smat.tolist(),
        "displacement": float(displacement),
        "primitive_matrix": primitive,
        "relax": relax_settings,
    }

    wd = Path(workdir) if workdir is not None else None
    manifest: dict[str, Any] | None = None
    manifest_path = None
    if wd is not None:
        if wd.exists() and not wd.is_dir():
            raise ArgumentError("workdir", f"{wd} exists and is not a folder")
        wd.mkdir(parents=True, exist_ok=True)
        manifest_path = wd / MANIFEST
        if manifest_path.is_file():
            manifest = _read_manifest(manifest_path)
            stored = manifest["key"]
            for field in key:
                if stored.get(field) != key[field]:
                    raise WorkdirMismatchError(wd, field, stored.get(field), key[field])
        elif _force_files(wd) or (wd / PARAMS_YAML).exists():
            raise WorkdirMismatchError(
                wd, "manifest", "force files without manifest.json", "a new calculation"
            )

    relaxation: RelaxResult | None = None
    if manifest is not None and manifest.get("relaxation") is not None:
        relaxation = _relaxed_from_record(manifest["relaxation"], manifest_path)
        if not relaxation.converged:
            _warn_unconverged(relaxation, relaxation.atoms.get_chemical_formula(), stacklevel=3)

    # Cached final result: no structure work, no force work.
    if wd is not None and manifest is not None and (wd / PARAMS_YAML).is_file():
        loaded = load_phonons(
            wd / PARAMS_YAML, primitive_matrix=manifest["primitive_matrix_resolved"], nac=False
        )
        if loaded.n_displacements != manifest["n_displacements"]:
            raise FileFormatError(
                loaded.structure_file,
                f"{loaded.n_displacements} displacements, manifest.json lists "
                f"{manifest['n_displacements']}; delete the file to rebuild it",
            )
        if progress is not None:
            progress(loaded.n_displacements, loaded.n_displacements)
        base = {f.name: getattr(loaded, f.name) for f in fields(PhononData)}
        base["label"] = wd.name
        base["primitive_matrix_source"] = "auto" if primitive == "auto" else "argument"
        return ComputedPhonons(
            **base,
            calculator=identity,
            workdir=wd,
            n_force_calls=0,
            from_cache=True,
            relaxation=relaxation,
        )

    structure = atoms
    if relax_settings is not None:
        if relaxation is None:
            relaxation = relax(atoms, calculator, **relax_settings)
        structure = relaxation.atoms

    ph = _make_phonopy(structure, smat, primitive)
    ph.generate_displacements(distance=float(displacement))
    rows = _dataset_rows(ph)
    supercells = ph.supercells_with_displacements
    n_total, n_atoms = len(supercells), len(ph.supercell)

    forces: list[np.ndarray | None] = [None] * n_total
    if wd is not None:
        if manifest is not None:
            stored_rows = np.asarray(manifest.get("displacements", []), dtype=float)
            if stored_rows.shape != (n_total, 4) or np.abs(stored_rows - rows).max() > (
                _DISP_TOLERANCE
            ):
                raise WorkdirMismatchError(wd, "displacements", manifest.get("displacements"), rows)
        else:
            manifest = {
                "format": _FORMAT,
                "key": key,
                "phonopy": phonopy.__version__,  # recorded only; the displacement list is compared
                "primitive_matrix_resolved": np.asarray(ph.primitive_matrix).tolist(),
                "supercell_atoms": n_atoms,
                "n_displacements": n_total,
                "displacements": rows,
                "relaxation": None if relaxation is None else _relaxed_record(relaxation),
            }
            _write_json(manifest_path, manifest)
        for i, path in sorted(_force_files(wd).items()):
            if i >= n_total:
                raise FileFormatError(
                    path, f"index {i} beyond the {n_total} displacements of this calculation"
                )
            forces[i] = _load_forces(path, n_atoms)

    done = sum(f is not None for f in forces)
    if progress is not None and done:
        progress(done, n_total)
    label = _identity_label(identity)
    n_calls = 0
    for i, cell in enumerate(supercells):
        if forces[i] is not None:
            continue
        displaced = _atoms_from_cell(cell)
        displaced.calc = calculator
        f = np.asarray(displaced.get_forces(), dtype=float)
        n_calls += 1
        if f.shape != (n_atoms, 3):
            raise CalculatorError(
                label, f"forces of shape {f.shape} for a {n_atoms}-atom supercell"
            )
        if not np.all(np.isfinite(f)):
            raise CalculatorError(
                label,
                f"non-finite forces (NaN/inf) on displaced supercell {i + 1} of {n_total} "
                f"(atom {rows[i][0] + 1} displaced)",
            )
        forces[i] = f
        if wd is not None:
            _atomic_write_bytes(wd / f"forces_{i:04d}.npy", lambda fh, f=f: np.save(fh, f))
        done += 1
        if progress is not None:
            progress(done, n_total)

    ph.forces = np.asarray(forces)
    _produce_force_constants(ph)
    params = None
    if wd is not None:
        params = wd / PARAMS_YAML
        tmp = wd / (PARAMS_YAML + ".tmp")
        ph.save(tmp)
        os.replace(tmp, params)
    return ComputedPhonons(
        phonopy=ph,
        folder=wd,
        label=wd.name if wd is not None else _formula(ph),
        structure_file=params,
        force_file=params,
        born_file=None,
        born_used=False,
        primitive_matrix=np.asarray(ph.primitive_matrix, dtype=float),
        primitive_matrix_source="auto" if primitive == "auto" else "argument",
        n_displacements=n_total,
        calculator=identity,
        workdir=wd,
        n_force_calls=n_calls,
        from_cache=False,
        relaxation=relaxation,
    )
