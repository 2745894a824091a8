"""Machine-learned interatomic potentials (MLIPs) as ASE calculators.

>>> from lilib import calculators, structures
>>> atoms = calculators.attach(structures.load("LiF"))  # SevenNet-0, coverage checked
>>> calculators.single_point(atoms).to_dict()  # energy (eV), max force (eV/Å), pressure (GPa)
>>> calculators.get_calculator("chgnet")  # CHGNet 0.3.0

Models (``model_names()``), both pretrained on the Materials Project trajectory set (MPtrj, PBE/PBE+U):

- ``"sevennet-0"`` (alias ``"7net-0"``): SevenNet-0, checkpoint of 11 Jul 2024 shipped in the
  ``sevenn`` wheel.
- ``"chgnet"`` (alias ``"chgnet-0.3.0"``): CHGNet 0.3.0, checkpoint shipped in the ``chgnet`` wheel.

Weights are read from the installed packages only; nothing is downloaded. torch, sevenn and chgnet
are imported on first use (``pip install lilib[mlip]``), so ``import lilib.calculators`` needs none
of them. Loaded models are kept per (name, device): repeated calls reuse them.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import Calculator
from ase.data import chemical_symbols

from lilib.errors import (
    ArgumentError,
    DataNotFoundError,
    LilibError,
    UnknownNameError,
    UnsupportedElementError,
)

__all__ = [
    "DEFAULT_MODEL",
    "MissingDependencyError",
    "SinglePoint",
    "UnknownCalculatorError",
    "attach",
    "check_coverage",
    "covered_elements",
    "get_calculator",
    "model_names",
    "model_package",
    "pressure_GPa",
    "resolve_name",
    "single_point",
]

DEFAULT_MODEL = "sevennet-0"

_LABELS = {
    "sevennet-0": "SevenNet-0 (11Jul2024)",
    "chgnet": "CHGNet 0.3.0",
}
_ALIASES = {"7net-0": "sevennet-0", "chgnet-0.3.0": "chgnet"}
_PACKAGES = {"sevennet-0": "sevenn", "chgnet": "chgnet"}

# (canonical name, device) -> loaded torch model; filled by _model().
_MODEL_CACHE: dict[tuple[str, str], Any] = {}


class UnknownCalculatorError(UnknownNameError):
    """A calculator name that :func:`get_calculator` does not know."""

    kind = "calculator"


class MissingDependencyError(LilibError, ImportError):
    """An optional package needed for the request is not installed; names the extra to install."""

    def __init__(self, package: str, extra: str = "mlip") -> None:
        self._init_args = (package, extra)
        self.package = package
        self.extra = extra
        super().__init__(
            f"{package} is not installed; install the machine-learned potentials with "
            f"`pip install lilib[{extra}]` (CPU-only torch: see README, 'CPU-only PyTorch')"
        )


# --------------------------------------------------------------------------- names


def model_names() -> list[str]:
    """Canonical model names accepted by :func:`get_calculator`."""
    return list(_LABELS)


def resolve_name(name: str) -> str:
    """Canonical model name for ``name`` (case-insensitive, aliases accepted).

    Raises :class:`UnknownCalculatorError` (an ``UnknownNameError``) with close matches.
    """
    if not isinstance(name, str):
        raise ArgumentError("name", f"expected a model name or an ASE Calculator, got {name!r}")
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _LABELS:
        raise UnknownCalculatorError(name, [*_LABELS, *_ALIASES])
    return key


def model_package(name: str) -> str:
    """The PyPI package whose wheel ships the weights of model ``name`` (e.g. 'sevenn')."""
    return _PACKAGES[resolve_name(name)]


# --------------------------------------------------------------------------- loading


@contextlib.contextmanager
def _advisory_warnings_off() -> Iterator[None]:
    """Hide the dependencies' advisory warnings that a user cannot act on."""
    with warnings.catch_warnings():
        # SevenNet: "No tensor product accelerator is enabled" (cuEquivariance/FlashTP: GPU only).
        warnings.filterwarnings("ignore", message="No tensor product accelerator")
        # torch 2.13 on torch.jit.script, which sevenn and e3nn call when imported.
        warnings.filterwarnings("ignore", message="`torch.jit.script` is deprecated")
        yield


def _import(module: str) -> Any:
    """Import an optional dependency, turning ImportError into MissingDependencyError."""
    try:
        with _advisory_warnings_off():
            return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(module.split(".")[0]) from exc


def _quiet(func: Callable[[], Any]) -> Any:
    """Run ``func`` without its console prints (CHGNet prints on load) and advisory warnings."""
    with _advisory_warnings_off(), contextlib.redirect_stdout(io.StringIO()):
        return func()


def _sevennet_checkpoint_path() -> Path:
    """Path of the SevenNet-0 checkpoint inside the installed sevenn wheel (never downloaded)."""
    const = _import("sevenn._const")
    path = Path(const.SEVENNET_0_11Jul2024)
    if not path.is_file():
        raise DataNotFoundError("the SevenNet-0 checkpoint (sevenn wheel)", [str(path)])
    return path


def _load_sevennet(device: str) -> Any:
    _import("torch")
    checkpoint = _import("sevenn.checkpoint").SevenNetCheckpoint(str(_sevennet_checkpoint_path()))
    model = checkpoint.build_model()
    model.set_is_batch_data(False)
    return model.to(device).eval()


def _load_chgnet(device: str) -> Any:
    _import("torch")
    chgnet_model = _import("chgnet.model")
    # model_name="0.3.0" reads chgnet/pretrained/0.3.0/*.pth.tar from the wheel.
    return chgnet_model.CHGNet.load(model_name="0.3.0", use_device=device, verbose=False)


def _model(name: str, device: str) -> Any:
    """Torch model of canonical ``name`` on ``device``, loaded once per (name, device)."""
    key = (name, device)
    if key not in _MODEL_CACHE:
        loader = _load_sevennet if name == "sevennet-0" else _load_chgnet
        _MODEL_CACHE[key] = _quiet(lambda: loader(device))
    return _MODEL_CACHE[key]


def get_calculator(
    name: str | Calculator = DEFAULT_MODEL, device: str = "cpu", **kwargs: Any
) -> Calculator:
    """A new ASE calculator for the pretrained model ``name`` on torch ``device``.

    ``name``: ``"sevennet-0"`` (default) or ``"chgnet"``, case-insensitive (see
    :func:`model_names`). An ASE ``Calculator`` instance is returned unchanged (``device`` is then
    not used; ``kwargs`` are refused). ``kwargs`` go to ``sevenn.calculator.SevenNetCalculator`` or
    ``chgnet.model.dynamics.CHGNetCalculator``. Units are ASE's: eV, Å, eV/Å³ (stress).
    The returned calculator carries ``model_name`` (the canonical name): coverage checks and
    :func:`lilib.phonons.compute.calculator_identity` read it.
    """
    if isinstance(name, Calculator):
        if kwargs:
            raise ArgumentError(
                "kwargs", f"{sorted(kwargs)} cannot apply to an existing calculator instance"
            )
        return name
    canonical = resolve_name(name)
    device = str(device).strip().lower()
    model = _model(canonical, device)
    if canonical == "sevennet-0":
        cls = _import("sevenn.calculator").SevenNetCalculator
        calc = _quiet(lambda: cls(model=model, file_type="model_instance", device=device, **kwargs))
    else:
        cls = _import("chgnet.model.dynamics").CHGNetCalculator
        calc = _quiet(lambda: cls(model=model, use_device=device, **kwargs))
    calc.model_name = canonical
    from lilib import provenance

    package = _PACKAGES[canonical]
    provenance.record_model(
        canonical, _LABELS[canonical], package, provenance.package_version(package)
    )
    provenance.cite("sevennet" if canonical == "sevennet-0" else "chgnet")
    return calc


# --------------------------------------------------------------------------- coverage


_COVERAGE: dict[str, frozenset[str]] = {}


def covered_elements(name: str = DEFAULT_MODEL) -> frozenset[str]:
    """Chemical symbols the model ``name`` has parameters for, read from its checkpoint.

    SevenNet-0: the checkpoint's ``chemical_species`` (its training set's elements; 89, without
    Po, At, Rn, Fr, Ra). CHGNet: the elements its atom embedding has rows for (Z = 1 to 94);
    CHGNet's checkpoint does not record which of them its training data contained.
    """
    canonical = resolve_name(name)
    if canonical not in _COVERAGE:
        if canonical == "sevennet-0":
            checkpoint = _import("sevenn.checkpoint").SevenNetCheckpoint(
                str(_sevennet_checkpoint_path())
            )
            symbols = checkpoint.config["chemical_species"]
        else:
            n = _model(canonical, "cpu").atom_embedding.embedding.num_embeddings
            symbols = chemical_symbols[1 : n + 1]
        _COVERAGE[canonical] = frozenset(symbols)
    return _COVERAGE[canonical]


def check_coverage(atoms: Atoms, name: str = DEFAULT_MODEL) -> None:
    """Raise :class:`~lilib.errors.UnsupportedElementError` for the first element of ``atoms``
    (in order of atomic number) that the model ``name`` does not cover."""
    covered = covered_elements(name)
    for z in sorted(set(atoms.get_atomic_numbers().tolist())):
        if chemical_symbols[z] not in covered:
            raise UnsupportedElementError(
                chemical_symbols[z], f"the {_LABELS[resolve_name(name)]} model"
            )


def attach(atoms: Atoms, name: str = DEFAULT_MODEL, device: str = "cpu") -> Atoms:
    """Check ``atoms`` against the model's elements, set ``atoms.calc`` and return ``atoms``."""
    check_coverage(atoms, name)
    atoms.calc = get_calculator(name, device=device)
    return atoms


# --------------------------------------------------------------------------- single point


@dataclass(frozen=True)
class SinglePoint:
    """Energy, largest force and pressure of one structure from one calculator.

    ``max_force_eV_A`` is the largest per-atom force norm (eV/Å); ``pressure_GPa`` is
    −trace(stress)/3 in GPa (positive: the cell would expand), NaN unless periodic in 3D and the
    calculator gives stress. Energies in eV.
    """

    calculator: str
    formula: str
    n_atoms: int
    energy_eV: float
    energy_per_atom_eV: float
    max_force_eV_A: float
    pressure_GPa: float

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (str, int and float values)."""
        return asdict(self)


def _calculator_label(calc: Calculator) -> str:
    name = getattr(calc, "model_name", None)
    return name if isinstance(name, str) and name else type(calc).__name__


def pressure_GPa(stress_voigt: np.ndarray) -> float:
    """Pressure −(σxx + σyy + σzz)/3 in GPa from an ASE stress (Voigt order, eV/Å³)."""
    stress = np.asarray(stress_voigt, dtype=float)
    return float(-stress[:3].sum() / 3.0 / units.GPa)


def single_point(atoms: Atoms, calculator: str | Calculator = DEFAULT_MODEL) -> SinglePoint:
    """Evaluate ``atoms`` with ``calculator`` (a model name or an ASE calculator).

    Works on a copy: ``atoms`` and its calculator are left as they are. Coverage is checked for
    lilib's models (:func:`check_coverage`).
    """
    calc = get_calculator(calculator)
    label = _calculator_label(calc)
    if label in _LABELS:
        check_coverage(atoms, label)
    work = atoms.copy()
    work.calc = calc
    energy = float(work.get_potential_energy())
    forces = np.asarray(work.get_forces(), dtype=float)
    n_atoms = len(work)
    max_force = float(np.linalg.norm(forces, axis=1).max()) if n_atoms else 0.0
    has_stress = work.pbc.all() and "stress" in getattr(calc, "implemented_properties", ())
    pressure = pressure_GPa(work.get_stress()) if has_stress else float("nan")
    return SinglePoint(
        calculator=label,
        formula=work.get_chemical_formula(),
        n_atoms=n_atoms,
        energy_eV=energy,
        energy_per_atom_eV=energy / n_atoms if n_atoms else float("nan"),
        max_force_eV_A=max_force,
        pressure_GPa=pressure,
    )
