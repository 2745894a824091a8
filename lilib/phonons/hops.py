"""Ion hops from any ASE calculator: vacancy endpoints, NEB, finite-difference Hessians, Vineyard.

>>> from lilib.phonons import vacancy_hop, run_neb, hop_rate
>>> ends = vacancy_hop(structures.load("LiF"), mobile="Li")  # supercell, vacancy, hop
>>> neb = run_neb(ends.initial, ends.final, calc, workdir="runs/LiF-hop/neb")  # resumable
>>> rate = hop_rate(neb, calc, workdir="runs/LiF-hop")  # Hessians → Vineyard ν*, Γ(T)
>>> hop_rate_convergence(neb, calc, workdir="runs/LiF-hop").to_dataframe()  # ν* vs region size
>>> neb.barrier_eV, rate.attempt_frequency_THz, rate.jump_rate_THz, rate.migration_entropy_kB

Conventions are those of :mod:`lilib.phonons.rates`: ν* = Π_{3N} ν_i(minimum) / Π_{3N−1} ν_i(saddle,
real) in cycles per time (THz), Γ = ν* exp(−E_a/k_B T), S_m/k_B = ln(ν*/ν0) with ν0 the initial
well's frequency along the saddle's unstable mode, and D0 = f z a² ν* / (2d) (d = 3: z a² ν*/6).

NEB (:func:`run_neb`): :class:`ase.mep.NEB` with the improved-tangent method and a climbing image,
optimised with FIRE; endpoints relaxed first at fixed cell; images interpolated with IDPP (or
linearly) under the minimum-image convention. Hessian (:func:`hessian`): central differences of
the forces, H_ij = −(F_j(x_i + δ) − F_j(x_i − δ)) / 2δ (eV/Å²), symmetrised.

Checkpoints (``workdir`` given), every file written to a temporary name and moved into place::

    run_neb:  workdir/neb.json            key, positions of all images (endpoints included), steps
                                          done, the result when done; written every
                                          ``checkpoint_every`` steps; a rerun continues from it
              workdir/neb_images.extxyz   the same images for viewers (not read back)
    hessian:  workdir/hessian.json        key (structure, calculator, moved atoms, δ)
              workdir/disp_0000.npy ...   forces (eV/Å) of displacement k = 6p + 2c + s (atom p of
                                          ``indices``, Cartesian c, s = 0 for +δ, 1 for −δ)
    hop_rate: workdir/hessian_initial/, workdir/hessian_saddle/ (two hessian workdirs)

Keys hold a hash of each structure and the calculator identity as :mod:`lilib.phonons.compute`
does; a workdir of another calculation raises :class:`~lilib.errors.WorkdirMismatchError`. A
finished NEB is read back with no force calls; an unconverged one continues when rerun with more
``steps`` (``steps`` is not part of the key). FIRE restarts from rest after a resume. One process
per workdir.
"""

from __future__ import annotations

import io
import json
import math
import numbers
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from lilib import provenance
from lilib.errors import (
    ArgumentError,
    CalculatorError,
    ConvergenceWarning,
    FileFormatError,
    StationaryPointError,
    WorkdirMismatchError,
)
from lilib.phonons.compute import (
    _atomic_write_bytes,
    _cell_of,
    _check_supercell,
    _identity_label,
    _is_real,
    _structure_key,
    _write_json,
    calculator_identity,
    relax,
    supercell_for,
)
from lilib.phonons.descriptors import IMAGINARY_THRESHOLD_THZ
from lilib.phonons.rates import HarmonicTST, frequencies_from_hessian, vineyard_from_hessians

__all__ = [
    "HopEndpoints",
    "HopRate",
    "NebResult",
    "StationaryPointError",
    "hessian",
    "hop_rate",
    "run_neb",
    "vacancy_hop",
]

NEB_MANIFEST = "neb.json"
NEB_IMAGES = "neb_images.extxyz"
HESSIAN_MANIFEST = "hessian.json"
_NEB_FORMAT = "lilib.phonons.hops.neb/1"
_HESSIAN_FORMAT = "lilib.phonons.hops.hessian/1"
_NEB_KEYS = (
    "format",
    "key",
    "endpoint_energies_eV",
    "steps_done",
    "n_force_calls_total",
    "positions_A",
)
_POSITION_MATCH_A = 0.1  # Å: an atom "sits on" a site closer than this


# --------------------------------------------------------------------------- endpoints


@dataclass(frozen=True, eq=False)
class HopEndpoints:
    """Endpoints of a vacancy hop made by :func:`vacancy_hop` (same atom ordering in both).

    ``initial``/``final``: supercells with one ``mobile`` ion removed; in ``final`` the ion
    ``moving_index`` sits on the vacant site. ``vacancy_position_A``: the vacant site (Å) of
    ``initial``. ``hop_vector_A`` (Å): final − initial position of the moving ion (minimum
    image); ``hop_length_A`` its length. ``supercell``: the 3×3 repetition of the input cell.
    """

    initial: Any
    final: Any
    moving_index: int
    vacancy_position_A: np.ndarray
    hop_vector_A: np.ndarray
    hop_length_A: float
    supercell: np.ndarray
    mobile: str


def vacancy_hop(
    atoms,
    mobile: str = "Li",
    supercell: Sequence[int] | Sequence[Sequence[int]] | np.ndarray | None = None,
    min_length: float = 8.0,
) -> HopEndpoints:
    """Initial and final supercells (Atoms, same ordering) of a hop of ``mobile`` into a vacancy.

    atoms: the unit cell (periodic in 3D). supercell: 3×3 integer matrix or 3 integers; default
    :func:`~lilib.phonons.supercell_for` (atoms, ``min_length`` Å). The first ``mobile`` ion of
    the supercell is removed; the nearest other ``mobile`` ion (minimum image; lowest index on
    ties) moves into the vacancy. Lengths in Å.
    """
    from ase.build import make_supercell
    from ase.geometry import find_mic

    _cell_of(atoms)
    symbols = atoms.get_chemical_symbols()
    if not isinstance(mobile, str) or mobile not in symbols:
        raise ArgumentError(
            "mobile", f"{mobile!r} is not in {atoms.get_chemical_formula()}: no ion to hop"
        )
    smat = supercell_for(atoms, min_length) if supercell is None else _check_supercell(supercell)
    big = make_supercell(atoms, smat)
    first = next(i for i, s in enumerate(big.get_chemical_symbols()) if s == mobile)
    site = big.positions[first].copy()
    del big[first]
    others = [i for i, s in enumerate(big.get_chemical_symbols()) if s == mobile]
    if not others:
        raise ArgumentError(
            "supercell",
            f"the {smat.tolist()} supercell holds one {mobile}: nothing can hop into its vacancy",
        )
    vectors, lengths = find_mic(site - big.positions[others], big.cell, big.pbc)
    best = int(np.flatnonzero(lengths <= lengths.min() + 1e-6)[0])
    moving, hop = others[best], vectors[best]
    final = big.copy()
    final.positions[moving] += hop
    return HopEndpoints(
        initial=big,
        final=final,
        moving_index=int(moving),
        vacancy_position_A=site,
        hop_vector_A=np.asarray(hop, dtype=float),
        hop_length_A=float(np.linalg.norm(hop)),
        supercell=smat,
        mobile=mobile,
    )


# --------------------------------------------------------------------------- helpers


def _counting(calculator, counter: list[int]):
    """A fresh ASE calculator delegating energy/forces to ``calculator``, counting calls."""
    from ase.calculators.calculator import Calculator, all_changes

    label = _identity_label(calculator_identity(calculator))

    class _Counted(Calculator):
        implemented_properties: ClassVar[list[str]] = ["energy", "forces"]

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            work = self.atoms.copy()
            energy = calculator.get_potential_energy(work)
            forces = np.array(calculator.get_forces(work), dtype=float)
            counter[0] += 1
            _check_forces(forces, len(work), label)
            if not math.isfinite(energy):
                raise CalculatorError(label, f"non-finite energy {energy!r}")
            self.results = {"energy": float(energy), "forces": forces}

    return _Counted()


def _check_forces(forces: np.ndarray, n_atoms: int, label: str) -> None:
    if forces.shape != (n_atoms, 3):
        raise CalculatorError(label, f"forces of shape {forces.shape} for {n_atoms} atoms")
    if not np.all(np.isfinite(forces)):
        raise CalculatorError(label, "non-finite forces (NaN/inf)")


def _check_positive(name: str, value, upper: float | None = None) -> float:
    if not (_is_real(value) and math.isfinite(value) and value > 0):
        raise ArgumentError(name, f"expected a positive number, got {value!r}")
    if upper is not None and value >= upper:
        raise ArgumentError(name, f"expected a value below {upper}, got {value!r}")
    return float(value)


def _check_count(name: str, value, minimum: int) -> int:
    if not (isinstance(value, numbers.Integral) and not isinstance(value, bool)):
        raise ArgumentError(name, f"expected an integer, got {value!r}")
    if value < minimum:
        raise ArgumentError(name, f"expected an integer ≥ {minimum}, got {value!r}")
    return int(value)


def _mic_differences(a, b) -> np.ndarray:
    """Per-atom displacement b − a (Å), minimum image along the periodic axes."""
    from ase.geometry import find_mic

    d = b.positions - a.positions
    if any(a.pbc):
        d, _ = find_mic(d, a.cell, a.pbc)
    return d


def _check_endpoints(initial, final) -> None:
    from ase import Atoms

    for name, a in (("initial", initial), ("final", final)):
        if not isinstance(a, Atoms):
            raise ArgumentError(name, f"expected an ase.Atoms, got {type(a).__name__}")
        if len(a) == 0:
            raise ArgumentError(name, "has no atoms")
    if len(initial) != len(final):
        raise ArgumentError(
            "final",
            f"{len(final)} atoms but initial has {len(initial)}: the endpoints of a hop must hold "
            "the same atoms in the same order",
        )
    diff = np.flatnonzero(initial.numbers != final.numbers)
    if diff.size:
        i = int(diff[0])
        raise ArgumentError(
            "final",
            f"atom {i} is {final.get_chemical_symbols()[i]} but {initial.get_chemical_symbols()[i]}"
            f" in initial ({diff.size} atoms differ): the endpoints must list the same atoms "
            "in the same order",
        )
    if not np.array_equal(initial.pbc, final.pbc) or not np.allclose(
        initial.cell[:], final.cell[:], atol=1e-6
    ):
        raise ArgumentError("final", "cell or pbc differs from initial (NEB needs a fixed cell)")
    d = np.linalg.norm(_mic_differences(initial, final), axis=1)
    moved = np.flatnonzero(d > _POSITION_MATCH_A)
    if moved.size == 0:
        raise ArgumentError("final", "no atom moves between initial and final: nothing to hop")
    # the same structure with atoms renumbered: every moved atom sits on another atom's site

    def on_a_site(i: int) -> bool:
        same = initial.numbers == initial.numbers[i]
        return bool(np.any(_distances_to(initial, final.positions[i])[same] < _POSITION_MATCH_A))

    if all(on_a_site(i) for i in moved):
        raise ArgumentError(
            "final",
            f"the {moved.size} atoms that move all land on sites of other atoms of their species: "
            "final is initial with its atoms reordered, not a hop (same ordering needed)",
        )


def _distances_to(atoms, point) -> np.ndarray:
    """Distance (Å, minimum image) from ``point`` to every atom."""
    from ase.geometry import find_mic

    d = atoms.positions - np.asarray(point, dtype=float)
    if any(atoms.pbc):
        d, _ = find_mic(d, atoms.cell, atoms.pbc)
    return np.linalg.norm(d, axis=1)


def _images_text(images) -> bytes:
    from ase.io import write

    buf = io.StringIO()
    write(buf, [im.copy() for im in images], format="extxyz")  # copies: no calculator results
    return buf.getvalue().encode()


def _images_from(manifest: dict[str, Any], path: Path, template, n_images: int) -> list:
    """Images rebuilt from the positions stored in the manifest on copies of ``template``."""
    try:
        pos = np.asarray(manifest["positions_A"], dtype=float)
    except (KeyError, TypeError, ValueError):
        pos = np.zeros(0)
    if pos.shape != (n_images, len(template), 3) or not np.all(np.isfinite(pos)):
        raise FileFormatError(
            path,
            f"'positions_A' must hold {n_images} images of {len(template)} atoms; "
            "delete the workdir to restart",
        )
    out = []
    for p in pos:
        im = template.copy()  # keeps masses, constraints, tags of the input
        im.positions[:] = p
        out.append(im)
    return out


def _read_json(path: Path, fmt: str, required: Sequence[str]) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FileFormatError(path, f"not valid JSON ({exc}); delete the workdir") from None
    if not isinstance(data, dict) or data.get("format") != fmt:
        raise FileFormatError(path, f"not a {fmt} manifest")
    missing = [k for k in required if k not in data]
    if missing or not isinstance(data.get("key"), dict):
        raise FileFormatError(path, f"manifest lacks {missing or ['key']}")
    return data


def _open_workdir(workdir, manifest: str, fmt: str, required, key, other_files) -> tuple:
    """(path, manifest dict or None); raises on a workdir of another calculation."""
    wd = Path(workdir)
    if wd.exists() and not wd.is_dir():
        raise ArgumentError("workdir", f"{wd} exists and is not a folder")
    wd.mkdir(parents=True, exist_ok=True)
    path = wd / manifest
    if path.is_file():
        data = _read_json(path, fmt, required)
        for name, value in key.items():
            if data["key"].get(name) != value:
                raise WorkdirMismatchError(wd, name, data["key"].get(name), value)
        return wd, data
    if any(True for pattern in other_files for _ in wd.glob(pattern)):
        raise WorkdirMismatchError(wd, "manifest", f"files without {manifest}", "a new calculation")
    return wd, None


# --------------------------------------------------------------------------- NEB


@dataclass(frozen=True, eq=False)
class NebResult:
    """Minimum-energy path from :func:`run_neb`.

    ``images``: all images (Atoms, endpoints included, no calculator); ``energies_eV``: their
    potential energies (eV); ``reaction_coordinate_A``: cumulative path length (Å, all atoms,
    minimum image). ``barrier_eV``: max(E) − E(initial). ``saddle_index``: the highest interior
    image (the climbing image with ``climb=True``). ``hop_length_A``: largest displacement of
    one atom between the endpoints (Å). ``converged``: the largest NEB force (eV/Å)
    ``max_force_eV_A`` fell below ``fmax`` within the steps. ``n_steps``: optimizer steps over
    all runs; ``n_force_calls``: calculator calls in *this* call (0 when ``from_cache``).
    """

    images: list = field(repr=False)
    energies_eV: np.ndarray = field(repr=False)
    reaction_coordinate_A: np.ndarray = field(repr=False)
    barrier_eV: float
    saddle_index: int
    hop_length_A: float
    converged: bool
    max_force_eV_A: float
    fmax: float
    n_steps: int
    n_force_calls: int
    from_cache: bool
    climb: bool
    calculator: dict[str, Any] = field(repr=False)
    workdir: Path | None = None

    @property
    def initial(self):
        """The (relaxed) initial endpoint."""
        return self.images[0]

    @property
    def final(self):
        """The (relaxed) final endpoint."""
        return self.images[-1]

    @property
    def saddle(self):
        """The saddle estimate: the climbing (highest interior) image."""
        return self.images[self.saddle_index]

    @property
    def reaction_energy_eV(self) -> float:
        """E(final) − E(initial) in eV (0 for a symmetric hop)."""
        return float(self.energies_eV[-1] - self.energies_eV[0])

    @property
    def moving_index(self) -> int:
        """Index of the atom displaced most between the endpoints."""
        d = np.linalg.norm(_mic_differences(self.initial, self.final), axis=1)
        return int(np.argmax(d))

    def atoms_near_hop(self, radius_A: float = 3.5) -> list[int]:
        """Indices of the atoms within ``radius_A`` Å (minimum image) of the moving atom at the
        saddle, the moving atom included: a region for :func:`hessian`/:func:`hop_rate`."""
        _check_positive("radius_A", radius_A)
        sad = self.saddle
        d = _distances_to(sad, sad.positions[self.moving_index])
        return [int(i) for i in np.flatnonzero(d <= radius_A)]

    def to_dataframe(self) -> pd.DataFrame:
        """One row per image: reaction coordinate (Å), energy and energy − E(initial) (eV)."""
        return pd.DataFrame(
            {
                "image": np.arange(len(self.images)),
                "reaction_coordinate_A": self.reaction_coordinate_A,
                "energy_eV": self.energies_eV,
                "relative_energy_eV": self.energies_eV - self.energies_eV[0],
                "saddle": np.arange(len(self.images)) == self.saddle_index,
            }
        )

    def plot(self, ax=None):
        """E − E(initial) (eV) against the reaction coordinate (Å); the saddle marked."""
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(5, 3))[1]
        x, e = self.reaction_coordinate_A, self.energies_eV - self.energies_eV[0]
        ax.plot(x, e, "o-", ms=4, label="images")
        ax.plot(x[self.saddle_index], e[self.saddle_index], "*", ms=12, label="saddle")
        ax.set_xlabel("reaction coordinate (Å)")
        ax.set_ylabel("E − E(initial) (eV)")
        flag = "" if self.converged else " (not converged)"
        ax.set_title(f"E_a = {self.barrier_eV:.3f} eV{flag}")
        ax.legend(fontsize=8)
        return ax


def _neb_result(
    images, energies, *, converged, max_force, fmax, n_steps, calls, cached, climb, identity, wd
) -> NebResult:
    energies = np.asarray(energies, dtype=float)
    steps = [np.linalg.norm(_mic_differences(a, b)) for a, b in pairwise(images)]
    coordinate = np.concatenate([[0.0], np.cumsum(steps)])
    hop = float(np.linalg.norm(_mic_differences(images[0], images[-1]), axis=1).max())
    images = [im.copy() for im in images]
    for im, e in zip(images, energies):
        im.calc = None
        im.info["energy_eV"] = float(e)
    return NebResult(
        images=images,
        energies_eV=energies,
        reaction_coordinate_A=coordinate,
        barrier_eV=float(energies.max() - energies[0]),
        saddle_index=1 + int(np.argmax(energies[1:-1])),
        hop_length_A=hop,
        converged=bool(converged),
        max_force_eV_A=float(max_force),
        fmax=float(fmax),
        n_steps=int(n_steps),
        n_force_calls=int(calls),
        from_cache=bool(cached),
        climb=bool(climb),
        calculator=identity,
        workdir=wd,
    )


def _warn_neb(result: NebResult, stacklevel: int = 3) -> None:
    warnings.warn(
        ConvergenceWarning(
            f"NEB did not converge in {result.n_steps} steps: largest force "
            f"{result.max_force_eV_A:.3g} eV/Å > fmax {result.fmax:g} eV/Å; rerun with more "
            "steps (with a workdir it continues)"
        ),
        stacklevel=stacklevel,
    )


def run_neb(
    initial,
    final,
    calculator,
    *,
    n_images: int = 5,
    climb: bool = True,
    fmax: float = 0.05,
    steps: int = 500,
    relax_endpoints: bool = True,
    interpolation: Literal["idpp", "linear"] = "idpp",
    perturb_A: float = 0.0,
    checkpoint_every: int = 10,
    workdir: str | os.PathLike | None = None,
) -> NebResult:
    """Climbing-image NEB (ASE, improved tangent, FIRE) between two endpoints (same atom order).

    n_images: interior images (n_images + 2 in all). fmax: force criterion (eV/Å) of the NEB and
    of the endpoint relaxation (fixed cell, ``steps`` FIRE steps at most). steps: NEB optimizer
    steps, over all resumed runs. interpolation: 'idpp' or 'linear' (minimum image).
    perturb_A: rattle the interior images (Gaussian, this σ in Å, fixed seeds) after the
    interpolation, to break a symmetry that holds the path on a higher-order saddle.
    checkpoint_every: save the images every this many steps (with ``workdir``).
    Raises :class:`~lilib.errors.ArgumentError` for endpoints that differ in atoms, order or cell;
    warns :class:`~lilib.errors.ConvergenceWarning` when not converged.
    """
    provenance.cite("ci-neb", "fire", *(("idpp",) if interpolation == "idpp" else ()))
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.mep import NEB
    from ase.optimize import FIRE

    _check_endpoints(initial, final)
    n_images = _check_count("n_images", n_images, 1)
    fmax = _check_positive("fmax", fmax)
    steps = _check_count("steps", steps, 0)
    checkpoint_every = _check_count("checkpoint_every", checkpoint_every, 1)
    if interpolation not in ("idpp", "linear"):
        raise ArgumentError("interpolation", f"expected 'idpp' or 'linear', got {interpolation!r}")
    if not (_is_real(perturb_A) and 0 <= perturb_A < 0.5):
        raise ArgumentError("perturb_A", f"expected a distance in Å in [0, 0.5), got {perturb_A!r}")
    identity = calculator_identity(calculator)
    key = {
        "initial": _structure_key(initial),
        "final": _structure_key(final),
        "calculator": identity,
        "n_images": n_images,
        "climb": bool(climb),
        "fmax": fmax,
        "relax_endpoints": bool(relax_endpoints),
        "interpolation": interpolation,
        "perturb_A": float(perturb_A),
        "method": "improvedtangent",
    }
    wd, manifest = None, None
    if workdir is not None:
        wd, manifest = _open_workdir(
            workdir, NEB_MANIFEST, _NEB_FORMAT, _NEB_KEYS, key, [NEB_IMAGES]
        )
    template = initial.copy()
    template.calc = None
    n_total = n_images + 2

    # finished (or out of steps): read back, no force calls
    if manifest is not None and manifest.get("result") is not None:
        rec = manifest["result"]
        if not (
            isinstance(rec, dict)
            and {"converged", "max_force_eV_A", "energies_eV"} <= set(rec)
            and len(rec["energies_eV"]) == n_total
        ):
            raise FileFormatError(wd / NEB_MANIFEST, "malformed 'result'; delete the workdir")
        if rec["converged"] or manifest["steps_done"] >= steps:
            images = _images_from(manifest, wd / NEB_MANIFEST, template, n_total)
            result = _neb_result(
                images,
                rec["energies_eV"],
                converged=rec["converged"],
                max_force=rec["max_force_eV_A"],
                fmax=fmax,
                n_steps=manifest["steps_done"],
                calls=0,
                cached=True,
                climb=climb,
                identity=identity,
                wd=wd,
            )
            if not result.converged:
                _warn_neb(result)
            return result

    counter = [0]
    if manifest is not None:
        images = _images_from(manifest, wd / NEB_MANIFEST, template, n_total)
        e_ends = [float(e) for e in manifest["endpoint_energies_eV"]]
        steps_done = int(manifest["steps_done"])
        calls_before = int(manifest["n_force_calls_total"])
    else:
        ends = []
        for atoms in (initial, final):
            if relax_endpoints:
                res = relax(atoms, _counting(calculator, counter), fmax, steps, cell=False)
                ends.append((res.atoms, res.energy_eV))
            else:
                work = atoms.copy()
                work.calc = _counting(calculator, counter)
                ends.append((work, float(work.get_potential_energy())))
        e_ends = [ends[0][1], ends[1][1]]
        images = [ends[0][0].copy()]
        images += [ends[0][0].copy() for _ in range(n_images)]
        images.append(ends[1][0].copy())
        probe = NEB(images, climb=False, method="improvedtangent")
        probe.interpolate(method=interpolation, mic=True, apply_constraint=False)
        if perturb_A:
            for k, im in enumerate(images[1:-1]):
                im.rattle(stdev=float(perturb_A), seed=k + 1)
        steps_done, calls_before = 0, 0
        manifest = {
            "format": _NEB_FORMAT,
            "key": key,
            "endpoint_energies_eV": e_ends,
            "steps_done": 0,
            "n_force_calls_total": counter[0],
            "result": None,
        }

    images[0].calc = SinglePointCalculator(images[0], energy=e_ends[0])
    images[-1].calc = SinglePointCalculator(images[-1], energy=e_ends[1])
    for im in images[1:-1]:
        im.calc = _counting(calculator, counter)  # one each: results cached per image
    neb = NEB(images, climb=climb, method="improvedtangent")
    opt = FIRE(neb, logfile=None)

    def save(state_steps: int, result: dict | None = None) -> None:
        if wd is None:
            return
        manifest["steps_done"] = state_steps
        manifest["n_force_calls_total"] = calls_before + counter[0]
        manifest["result"] = result
        manifest["positions_A"] = [im.positions.tolist() for im in images]  # exact: JSON floats
        _write_json(wd / NEB_MANIFEST, manifest)  # the checkpoint (one atomic file)
        text = _images_text(images)  # a copy for viewers (ase gui), 1e-8 Å precision
        _atomic_write_bytes(wd / NEB_IMAGES, lambda f: f.write(text))

    save(steps_done)

    def observe() -> None:
        if opt.nsteps and opt.nsteps % checkpoint_every == 0:
            save(steps_done + opt.nsteps)

    opt.attach(observe, interval=1)
    remaining = max(steps - steps_done, 0)
    opt.run(fmax=fmax, steps=remaining)
    forces = neb.get_forces()  # cached per image: no new calls
    max_force = float(np.sqrt((forces**2).sum(axis=1)).max())
    converged = max_force < fmax
    energies = [e_ends[0], *[float(im.get_potential_energy()) for im in images[1:-1]], e_ends[1]]
    total_steps = steps_done + opt.nsteps
    save(
        total_steps,
        {"converged": converged, "max_force_eV_A": max_force, "energies_eV": energies},
    )
    result = _neb_result(
        images,
        energies,
        converged=converged,
        max_force=max_force,
        fmax=fmax,
        n_steps=total_steps,
        calls=counter[0],
        cached=False,
        climb=climb,
        identity=identity,
        wd=wd,
    )
    if not converged:
        _warn_neb(result)
    return result


# --------------------------------------------------------------------------- Hessian


def _check_indices(indices, n_atoms: int) -> list[int]:
    if indices is None:
        return list(range(n_atoms))
    try:
        arr = np.asarray(indices)
    except (TypeError, ValueError):
        arr = np.zeros(0, dtype=float)
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise ArgumentError(
            "indices", f"expected a non-empty list of atom indices, got {indices!r}"
        )
    if arr.min() < 0 or arr.max() >= n_atoms:
        raise ArgumentError(
            "indices", f"atom indices must lie in 0..{n_atoms - 1}, got {indices!r}"
        )
    if np.unique(arr).size != arr.size:
        raise ArgumentError("indices", f"repeated atom indices in {indices!r}")
    return [int(i) for i in arr]


def _hessian(atoms, calculator, indices, delta, workdir) -> tuple[np.ndarray, int]:
    from ase import Atoms

    if not isinstance(atoms, Atoms) or len(atoms) == 0:
        raise ArgumentError("atoms", "expected a non-empty ase.Atoms")
    idx = _check_indices(indices, len(atoms))
    delta = _check_positive("delta", delta, upper=0.5)
    identity = calculator_identity(calculator)
    label = _identity_label(identity)
    key = {
        "structure": _structure_key(atoms),
        "calculator": identity,
        "indices": idx,
        "delta": delta,
    }
    n_disp, n_atoms = 6 * len(idx), len(atoms)
    forces: list[np.ndarray | None] = [None] * n_disp
    wd = None
    if workdir is not None:
        wd, manifest = _open_workdir(
            workdir, HESSIAN_MANIFEST, _HESSIAN_FORMAT, ("format", "key"), key, ["disp_*.npy"]
        )
        if manifest is None:
            _write_json(wd / HESSIAN_MANIFEST, {"format": _HESSIAN_FORMAT, "key": key})
        for k in range(n_disp):
            path = wd / f"disp_{k:04d}.npy"
            if path.is_file():
                forces[k] = _load_disp(path, n_atoms)
    calls = 0
    for k in range(n_disp):
        if forces[k] is not None:
            continue
        p, rest = divmod(k, 6)
        c, s = divmod(rest, 2)
        work = atoms.copy()
        work.positions[idx[p], c] += delta if s == 0 else -delta
        f = np.array(calculator.get_forces(work), dtype=float)  # raw: no constraints applied
        calls += 1
        _check_forces(f, n_atoms, label)
        forces[k] = f
        if wd is not None:
            _atomic_write_bytes(wd / f"disp_{k:04d}.npy", lambda fh, f=f: np.save(fh, f))
    n = len(idx)
    h = np.empty((3 * n, 3 * n))
    for p in range(n):
        for c in range(3):
            plus, minus = forces[6 * p + 2 * c], forces[6 * p + 2 * c + 1]
            h[3 * p + c] = -(plus[idx] - minus[idx]).ravel() / (2 * delta)
    return 0.5 * (h + h.T), calls


def _load_disp(path: Path, n_atoms: int) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise FileFormatError(path, f"unreadable ({exc}); delete it to recompute") from None
    if arr.shape != (n_atoms, 3) or not np.all(np.isfinite(arr)):
        raise FileFormatError(
            path, f"expected finite forces of shape ({n_atoms}, 3); delete it to recompute"
        )
    return np.asarray(arr, dtype=float)


def hessian(
    atoms,
    calculator,
    *,
    indices: Sequence[int] | None = None,
    delta: float = 0.01,
    workdir: str | os.PathLike | None = None,
) -> np.ndarray:
    """Finite-difference Hessian (eV/Å², shape (3n, 3n), symmetrised) of the atoms ``indices``.

    indices: the n atoms displaced (rows/columns in their order, x, y, z each); default all.
    delta: displacement (Å), central differences (6n force calls). workdir: one force file per
    displacement; a rerun computes only the missing ones. Others stay fixed (no projection).
    """
    return _hessian(atoms, calculator, indices, delta, workdir)[0]


# --------------------------------------------------------------------------- rates


@dataclass(frozen=True, eq=False)
class HopRate:
    """Vineyard rate of one hop from :func:`hop_rate`.

    ``tst``: the :class:`~lilib.phonons.rates.HarmonicTST` (ν*, modes, S_m); ``barrier_eV``:
    E_a from the NEB; ``hop_length_A``: a (Å); ``temperature_K``: T of ``jump_rate_THz``.
    ``initial_frequencies_THz``/``saddle_frequencies_THz``: every mode of each Hessian (signed,
    imaginary < 0, translations removed when ``remove_translations``). ``indices``: the atoms
    in the Hessians (None: all). ``n_force_calls``: calculator calls in this call.
    """

    tst: HarmonicTST
    barrier_eV: float
    hop_length_A: float
    temperature_K: float
    initial_frequencies_THz: np.ndarray = field(repr=False)
    saddle_frequencies_THz: np.ndarray = field(repr=False)
    indices: tuple[int, ...] | None
    remove_translations: bool
    n_force_calls: int

    @property
    def attempt_frequency_THz(self) -> float:
        """Vineyard ν* (THz)."""
        return self.tst.attempt_frequency_THz

    @property
    def jump_rate_THz(self) -> float:
        """Γ = ν* exp(−E_a/k_B T) at ``temperature_K`` (THz)."""
        return self.tst.jump_rate_THz(self.temperature_K, self.barrier_eV)

    @property
    def migration_entropy_kB(self) -> float:
        """S_m/k_B = ln(ν*/ν0), ν0 the initial well's frequency along the unstable mode."""
        return self.tst.migration_entropy_kB()

    def diffusion_prefactor_cm2_s(
        self, n_sites: int, dimensionality: int = 3, correlation_factor: float = 1.0
    ) -> float:
        """D0 = f z a² ν* / (2d) in cm²/s, a = ``hop_length_A``, z = ``n_sites`` (3D: z a² ν*/6)."""
        return self.tst.diffusion_prefactor_cm2_s(
            self.hop_length_A, n_sites, dimensionality, correlation_factor
        )

    def diffusivity_cm2_s(
        self, n_sites: int, dimensionality: int = 3, correlation_factor: float = 1.0
    ) -> float:
        """D = D0 exp(−E_a/k_B T) at ``temperature_K`` in cm²/s."""
        return self.tst.diffusivity_cm2_s(
            self.temperature_K,
            self.hop_length_A,
            n_sites,
            dimensionality,
            correlation_factor,
            self.barrier_eV,
        )

    def to_dataframe(self) -> pd.DataFrame:
        """One row: the HarmonicTST row plus hop length, T, Γ(T) and the atoms counted."""
        df = self.tst.to_dataframe()
        df["hop_length_A"] = self.hop_length_A
        df["temperature_K"] = self.temperature_K
        df["jump_rate_THz"] = self.jump_rate_THz
        n_modes = self.initial_frequencies_THz.size + (3 if self.remove_translations else 0)
        df["n_atoms_in_hessian"] = n_modes // 3
        return df


def _check_stationary(state: str, freqs: np.ndarray, expected: int, threshold: float) -> None:
    imag = freqs[freqs < -threshold]
    soft = freqs[(freqs < 0) & (freqs >= -threshold)]
    kind = "minimum" if expected == 0 else "first-order saddle"
    if imag.size == expected and soft.size == 0:
        return
    lowest = np.sort(freqs)[: expected + 4].round(3).tolist()
    msg = (
        f"not a {kind}: {imag.size} imaginary mode(s) below −{threshold:g} THz "
        f"({np.sort(imag).round(3).tolist()} THz), a {kind} has exactly {expected}"
    )
    if soft.size:
        msg += f"; {soft.size} soft imaginary mode(s) {soft.round(3).tolist()} THz"
    msg += f". Lowest modes: {lowest} THz"
    if expected == 1:
        msg += (
            ". 0: the image is not at a saddle (the path has no barrier there); ≥ 2: a "
            "higher-order saddle or an unconverged NEB (tighten fmax, more images)"
        )
    else:
        msg += ". Relax the endpoint further (smaller fmax)"
    raise StationaryPointError(state, freqs, msg)


def hop_rate(
    neb: NebResult,
    calculator,
    *,
    indices: Sequence[int] | None = None,
    delta: float = 0.01,
    workdir: str | os.PathLike | None = None,
    temperature_K: float = 300.0,
    remove_translations: bool | None = None,
    imaginary_threshold_THz: float = -IMAGINARY_THRESHOLD_THZ,
) -> HopRate:
    """Vineyard ν*, Γ(T) and S_m of a NEB hop from Hessians of its initial state and saddle.

    indices: atoms in both Hessians (default all). A subset (e.g. ``neb.atoms_near_hop(4.0)``)
    freezes the other atoms: an approximation for big cells that can be off by a factor of
    several in ν* (LiF, 63 atoms, SevenNet-0: the Li and its two bottleneck F give 5.6× the
    full-Hessian value, a 4 Å region 0.9×); check with :func:`hop_rate_convergence`. remove_translations: default True
    when every atom of a 3D-periodic cell without constraints is included. Raises
    :class:`StationaryPointError` unless the initial state has no mode below
    −``imaginary_threshold_THz`` (THz) and the saddle exactly one.
    """
    if not isinstance(neb, NebResult):
        raise ArgumentError("neb", f"expected a NebResult from run_neb, got {type(neb).__name__}")
    if not (_is_real(temperature_K) and temperature_K > 0):
        raise ArgumentError("temperature_K", f"must be > 0, got {temperature_K!r}")
    threshold = _check_positive("imaginary_threshold_THz", imaginary_threshold_THz)
    initial = neb.initial
    idx = _check_indices(indices, len(initial))
    if remove_translations is None:
        full = len(idx) == len(initial)
        remove_translations = bool(full and all(initial.pbc) and not initial.constraints)
    h_ini, h_sad, calls = _hop_hessians(neb, calculator, idx, delta, workdir)
    return _rate_from_hessians(
        neb, h_ini, h_sad, idx, indices is not None, remove_translations, threshold,
        temperature_K, calls,
    )  # fmt: skip


def _hop_hessians(neb, calculator, idx, delta, workdir) -> tuple[np.ndarray, np.ndarray, int]:
    wd = Path(workdir) if workdir is not None else None
    h_ini, n1 = _hessian(
        neb.initial, calculator, idx, delta, None if wd is None else wd / "hessian_initial"
    )
    h_sad, n2 = _hessian(
        neb.saddle, calculator, idx, delta, None if wd is None else wd / "hessian_saddle"
    )
    return h_ini, h_sad, n1 + n2


def _rate_from_hessians(
    neb, h_ini, h_sad, idx, subset, remove_translations, threshold, temperature_K, calls
) -> HopRate:
    masses = neb.initial.get_masses()[idx]
    f_ini = frequencies_from_hessian(h_ini, masses, remove_translations=remove_translations)
    f_sad = frequencies_from_hessian(h_sad, masses, remove_translations=remove_translations)
    _check_stationary("initial", f_ini, 0, threshold)
    _check_stationary("saddle", f_sad, 1, threshold)
    tst = vineyard_from_hessians(
        h_ini,
        h_sad,
        masses,
        remove_translations=remove_translations,
        barrier_eV=neb.barrier_eV,
    )
    return HopRate(
        tst=tst,
        barrier_eV=neb.barrier_eV,
        hop_length_A=neb.hop_length_A,
        temperature_K=float(temperature_K),
        initial_frequencies_THz=f_ini,
        saddle_frequencies_THz=f_sad,
        indices=tuple(idx) if subset else None,
        remove_translations=bool(remove_translations),
        n_force_calls=calls,
    )


@dataclass(frozen=True, eq=False)
class RateConvergence:
    """ν* and S_m against the size of the Hessian region, all from one full Hessian per state.

    ``full``: the :class:`HopRate` of every atom (translations removed); ``table``: one row per
    radius (Å) with the atoms inside it, ν* (THz), S_m (k_B), the saddle's imaginary mode (THz),
    and ``error`` (empty, or why that region is not a minimum/first-order saddle).
    """

    full: HopRate
    table: pd.DataFrame = field(repr=False)

    def to_dataframe(self) -> pd.DataFrame:
        """The per-radius table followed by a row for the full Hessian (radius_A = inf)."""
        f = self.full
        row = {
            "radius_A": math.inf,
            "n_atoms": len(f.initial_frequencies_THz) // 3 + 1,
            "attempt_frequency_THz": f.attempt_frequency_THz,
            "migration_entropy_kB": f.migration_entropy_kB,
            "saddle_imaginary_THz": float(np.min(f.saddle_frequencies_THz)),
            "error": "",
        }
        return pd.concat([self.table, pd.DataFrame([row])], ignore_index=True)

    def plot(self, ax=None):
        """ν* (THz, log scale) against the atoms in the Hessian; the full value as a line."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 3.2))
        ok = self.table[self.table["error"] == ""]
        ax.plot(ok["n_atoms"], ok["attempt_frequency_THz"], "o-", label="region, rest frozen")
        ax.axhline(self.full.attempt_frequency_THz, color="k", ls="--", label="all atoms")
        ax.set_yscale("log")
        ax.set_xlabel("atoms in the Hessian")
        ax.set_ylabel("Vineyard ν* (THz)")
        ax.legend(frameon=False)
        return ax


def hop_rate_convergence(
    neb: NebResult,
    calculator,
    radii_A: Sequence[float] = (2.0, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0),
    *,
    delta: float = 0.01,
    workdir: str | os.PathLike | None = None,
    temperature_K: float = 300.0,
    imaginary_threshold_THz: float = -IMAGINARY_THRESHOLD_THZ,
) -> RateConvergence:
    """How ν* converges with the Hessian region: one full Hessian per state (6N force calls
    each), and for each radius the sub-block of the atoms within it of the moving ion (exactly
    the Hessian :func:`hop_rate` builds with those ``indices``: the others frozen).

    ``workdir`` is shared with :func:`hop_rate` without ``indices``: a later full ``hop_rate``
    costs no force calls. Regions whose Hessians are not a minimum and a first-order saddle get
    NaN and the reason in ``error``; the full Hessian must pass (else
    :class:`StationaryPointError`).
    """
    if not isinstance(neb, NebResult):
        raise ArgumentError("neb", f"expected a NebResult from run_neb, got {type(neb).__name__}")
    if not (_is_real(temperature_K) and temperature_K > 0):
        raise ArgumentError("temperature_K", f"must be > 0, got {temperature_K!r}")
    radii = sorted(_check_positive("radii_A", r) for r in radii_A)
    threshold = _check_positive("imaginary_threshold_THz", imaginary_threshold_THz)
    n = len(neb.initial)
    full_idx = list(range(n))
    h_ini, h_sad, calls = _hop_hessians(neb, calculator, full_idx, delta, workdir)
    remove = bool(all(neb.initial.pbc) and not neb.initial.constraints)
    full = _rate_from_hessians(
        neb, h_ini, h_sad, full_idx, False, remove, threshold, temperature_K, calls
    )
    rows = []
    for r in radii:
        idx = neb.atoms_near_hop(r)
        row = {"radius_A": r, "n_atoms": len(idx)}
        if len(idx) == n:  # the whole cell: the full result (with translations removed)
            row.update(attempt_frequency_THz=full.attempt_frequency_THz, error="",
                       migration_entropy_kB=full.migration_entropy_kB,
                       saddle_imaginary_THz=float(np.min(full.saddle_frequencies_THz)))  # fmt: skip
            rows.append(row)
            continue
        dof = np.array([3 * i + c for i in idx for c in range(3)])
        block = np.ix_(dof, dof)
        try:
            rate = _rate_from_hessians(
                neb, h_ini[block], h_sad[block], idx, True, False, threshold, temperature_K, 0
            )
        except StationaryPointError as exc:
            row.update(attempt_frequency_THz=math.nan, migration_entropy_kB=math.nan,
                       saddle_imaginary_THz=math.nan, error=str(exc))  # fmt: skip
        else:
            row.update(attempt_frequency_THz=rate.attempt_frequency_THz, error="",
                       migration_entropy_kB=rate.migration_entropy_kB,
                       saddle_imaginary_THz=float(np.min(rate.saddle_frequencies_THz)))  # fmt: skip
        rows.append(row)
    cols = ["radius_A", "n_atoms", "attempt_frequency_THz", "migration_entropy_kB",
            "saddle_imaginary_THz", "error"]  # fmt: skip
    return RateConvergence(full=full, table=pd.DataFrame(rows, columns=cols))
