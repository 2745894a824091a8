"""Shipped lattice-dynamics descriptors of the structure library, computed with an MLIP.

>>> from lilib.phonons import load_descriptor_curves, load_descriptors, load_lattice_dynamics
>>> df = load_descriptors()  # SevenNet-0: one row per library structure
>>> df[["mobile_band_centre_THz", "debye_temperature_K", "has_imaginary_modes"]]
>>> curves = load_descriptor_curves("LiF")  # projected DOS per element
>>> curves.frequencies_THz, curves.pdos_per_THz["Li"], curves.to_dataframe()
>>> load_lattice_dynamics("LiF").plot()  # the full LatticeDynamics

Made by ``scripts/make_descriptors.py``: every structure of :mod:`lilib.structures` (ordered
approximants as :func:`lilib.structures.load` returns them) relaxed with the model (cell and
positions, space group kept), phonons by finite displacements (:func:`compute_phonons`),
descriptors by :func:`lattice_dynamics` on its default Γ-centred mesh. One JSON file per
material in ``lilib/data/descriptors/<model>/<name>.json``::

    format        "lilib.descriptors/1"
    name, model   library key, canonical model name (lilib.calculators)
    status        "done" | "skipped" (the model cannot handle it) | "failed" (retried on rerun)
    reason        why, when not done
    descriptors   LatticeDynamics.to_dict(): every scalar, the DOS curves (frequencies rounded
                  to 1e-4 THz, pDOS to 4 significant digits)
    structure     formula, atoms, published space group, DOI, ordered approximant or not
    relaxation    converged, steps, largest force, fmax, optimizer, energies, cells before/after
    phonons       supercell, displacement (Å), number of displaced supercells, primitive matrix
    timings       seconds: relaxation, phonons, descriptors, total, time inside force calls
    provenance    date, command, script, package versions, lilib git commit, machine

Vacancy hops (``--hops``) go to ``<model>/hops/<name>.json`` (:func:`load_hops`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lilib import provenance
from lilib.errors import DataNotFoundError, FileFormatError
from lilib.phonons.descriptors import LatticeDynamics

__all__ = [
    "FORMAT",
    "DescriptorCurves",
    "descriptors_dir",
    "load_descriptor_curves",
    "load_descriptors",
    "load_hops",
    "load_lattice_dynamics",
]

#: ``format`` of the per-material JSON files
FORMAT = "lilib.descriptors/1"
HOPS_FORMAT = "lilib.descriptors.hop/1"
SCRIPT = "scripts/make_descriptors.py"


def descriptors_dir(model: str = "sevennet-0", directory: str | Path | None = None) -> Path:
    """Folder of one model's files: ``<directory>/<model>``; default directory
    ``lilib/data/descriptors``. ``model`` is resolved as by :func:`lilib.calculators.resolve_name`
    (aliases, any case)."""
    from lilib.calculators import resolve_name
    from lilib.config import package_data_dir

    base = Path(directory) if directory is not None else package_data_dir() / "descriptors"
    return base / resolve_name(model)


def _read(path: Path) -> dict[str, Any]:
    provenance.record_file(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FileFormatError(path, f"not readable as JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") not in (FORMAT, HOPS_FORMAT):
        raise FileFormatError(path, f"not a {FORMAT} file")
    return data


def _records(model: str, directory) -> tuple[Path, list[tuple[Path, dict[str, Any]]]]:
    folder = descriptors_dir(model, directory)
    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise DataNotFoundError(
            f"descriptor files of model {model!r} (make them with {SCRIPT} --models {model})",
            [folder],
        )
    return folder, [(p, _read(p)) for p in paths]


def _flat(value: Any) -> Any:
    return float("nan") if value is None else value


_RUN_COLUMNS = (
    "status",
    "reason",
    "model",
    "n_atoms_primitive",
    "volume_primitive_A3",
    "n_irreducible_qpoints",
    "n_atoms_cell",
    "ordered_approximant",
    "spacegroup_published",
    "spacegroup_relaxed",
    "relaxed",
    "relax_converged",
    "relax_steps",
    "relax_max_force_eV_A",
    "relax_fmax_eV_A",
    "energy_per_atom_eV",
    "volume_change_pct",
    "supercell",
    "n_supercell_atoms",
    "displacement_A",
    "n_displacements",
    "n_force_calls",
    "force_time_s",
    "total_time_s",
    "relax_time_s",
    "phonon_time_s",
    "descriptor_time_s",
    "date",
    "lilib_commit",
)


def _row(rec: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """One DataFrame row (dict) of a finished material."""
    try:
        ld = LatticeDynamics.from_dict(rec["descriptors"])
        relax = rec["relaxation"]
        phon = rec["phonons"]
        timing = rec["timings"]
        prov = rec["provenance"]
        structure = rec["structure"]
    except (KeyError, TypeError, ValueError) as exc:
        raise FileFormatError(path, f"malformed descriptor record ({exc!r})") from None
    row = ld.to_dataframe().iloc[0].to_dict()
    row.update(
        status="done",
        reason="",
        model=rec["model"],
        n_atoms_primitive=ld.n_atoms_primitive,
        volume_primitive_A3=ld.volume_A3,
        n_irreducible_qpoints=ld.n_irreducible_qpoints,
        n_atoms_cell=structure.get("n_atoms"),
        ordered_approximant=bool(structure.get("ordered_approximant")),
        spacegroup_published=structure.get("spacegroup_symbol"),
        spacegroup_relaxed=relax.get("spacegroup_relaxed"),
        relaxed=True,
        relax_converged=bool(relax["converged"]),
        relax_steps=int(relax["n_steps"]),
        relax_max_force_eV_A=_flat(relax["max_force_eV_A"]),
        relax_fmax_eV_A=_flat(relax["fmax"]),
        energy_per_atom_eV=_flat(relax["energy_per_atom_eV"]),
        volume_change_pct=_flat(relax["volume_change_pct"]),
        supercell=phon["supercell_label"],
        n_supercell_atoms=int(phon["n_supercell_atoms"]),
        displacement_A=float(phon["displacement_A"]),
        n_displacements=int(phon["n_displacements"]),
        n_force_calls=int(timing["n_force_calls"]),
        force_time_s=_flat(timing["force_s"]),
        total_time_s=_flat(timing["total_s"]),
        relax_time_s=_flat(timing["relax_s"]),
        phonon_time_s=_flat(timing["phonons_s"]),
        descriptor_time_s=_flat(timing["descriptors_s"]),
        date=prov.get("date"),
        lilib_commit=prov.get("lilib_git_commit"),
    )
    return row


def load_descriptors(
    model: str = "sevennet-0",
    *,
    include_skipped: bool = False,
    directory: str | Path | None = None,
) -> pd.DataFrame:
    """Shipped descriptors of every library structure for ``model``: one row per material.

    Index: library name (``structures.names()`` keys). Columns: every scalar of
    :meth:`LatticeDynamics.to_dataframe` (units in the names: ``*_THz``, ``*_K``, ``*_A2``,
    ``*_eV_A2``, ``*_m_s``; flags ``has_imaginary_modes``, ``acoustic_stable``), per-element
    ``band_centre_<El>_THz`` (NaN where the element is absent), and run columns: ``status``,
    ``model``, ``relaxed``, ``relax_converged``, ``relax_steps``, ``relax_max_force_eV_A``,
    ``volume_change_pct`` (relaxed vs published cell), ``spacegroup_published``/``_relaxed``,
    ``supercell`` (e.g. '3x3x3'), ``n_supercell_atoms``, ``displacement_A``,
    ``n_displacements``, ``n_force_calls``, times in s (``force_time_s``: inside the
    calculator; ``total_time_s``; ``relax_time_s``, ``phonon_time_s``, ``descriptor_time_s``),
    ``date``, ``lilib_commit``.

    include_skipped: also a row (``status`` 'skipped' or 'failed', ``reason``, NaN values) for
        materials without results. Either way ``df.attrs["skipped"]`` maps their names to the
        reason. directory: another root than ``lilib/data/descriptors`` (e.g. a smoke run's).
    Raises :class:`~lilib.errors.DataNotFoundError` when the model has no files.
    """
    folder, records = _records(model, directory)
    rows, names, skipped = [], [], {}
    for path, rec in records:
        name = rec.get("name", path.stem)
        if rec.get("status") == "done":
            rows.append(_row(rec, path))
            names.append(name)
        else:
            reason = f"{rec.get('status', 'unknown')}: {rec.get('reason', 'no reason recorded')}"
            skipped[name] = reason
            if include_skipped:
                rows.append({"status": rec.get("status"), "reason": reason, "model": rec["model"]})
                names.append(name)
    df = pd.DataFrame(rows, index=pd.Index(names, name="name"))
    centres = sorted(c for c in df.columns if c.startswith("band_centre_"))
    first = [c for c in df.columns if c not in centres and c not in _RUN_COLUMNS]
    df = df[first + centres + [c for c in _RUN_COLUMNS if c in df.columns]]
    bools = ["has_imaginary_modes", "acoustic_stable", "relaxed", "relax_converged"]
    if not include_skipped or not skipped:
        for col in bools:
            if col in df:
                df[col] = df[col].astype(bool)
    df.attrs["model"] = folder.name
    df.attrs["skipped"] = skipped
    df.attrs["directory"] = str(folder)
    return df


def _record(name: str, model: str, directory) -> tuple[Path, dict[str, Any]]:
    folder = descriptors_dir(model, directory)
    path = folder / f"{name}.json"
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.json"))
        raise DataNotFoundError(
            f"descriptors of {name!r} for model {model!r} (have: {', '.join(known) or 'none'})",
            [path],
        )
    rec = _read(path)
    if rec.get("status") != "done":
        raise DataNotFoundError(
            f"descriptors of {name!r} ({rec.get('status')}: {rec.get('reason')})", [path]
        )
    return path, rec


def load_lattice_dynamics(
    name: str, model: str = "sevennet-0", *, directory: str | Path | None = None
) -> LatticeDynamics:
    """The shipped :class:`LatticeDynamics` of library structure ``name`` (``.plot()`` works).

    Its curves carry the shipped rounding (frequencies 1e-4 THz, pDOS 4 significant digits).
    """
    path, rec = _record(name, model, directory)
    try:
        return LatticeDynamics.from_dict(rec["descriptors"])
    except (KeyError, TypeError, ValueError) as exc:
        raise FileFormatError(path, f"malformed 'descriptors' ({exc!r})") from None


@dataclass(frozen=True, eq=False)
class DescriptorCurves:
    """Projected phonon DOS of one material (states/THz per primitive cell, Gaussian width
    ``sigma_THz``; imaginary modes at negative frequency).

    ``frequencies_THz``: the common grid; ``pdos_per_THz``: element → curve on that grid (the
    order of the primitive cell); ``band_centres_THz``: element → first moment over positive
    modes; ``mobile``/``anion``: the elements the descriptors single out.
    """

    name: str
    model: str
    formula: str
    frequencies_THz: np.ndarray = field(repr=False)
    pdos_per_THz: dict[str, np.ndarray] = field(repr=False)
    sigma_THz: float
    band_centres_THz: dict[str, float]
    mobile: str
    anion: str

    @property
    def total_per_THz(self) -> np.ndarray:
        """Sum of the per-element curves."""
        return np.sum(list(self.pdos_per_THz.values()), axis=0)

    def to_dataframe(self) -> pd.DataFrame:
        """Columns ``frequency_THz``, ``<El>_per_THz`` per element, ``total_per_THz``
        (as :meth:`LatticeDynamics.pdos_dataframe`)."""
        data = {"frequency_THz": self.frequencies_THz}
        for el, y in self.pdos_per_THz.items():
            data[f"{el}_per_THz"] = y
        data["total_per_THz"] = self.total_per_THz
        return pd.DataFrame(data)


def load_descriptor_curves(
    name: str, model: str = "sevennet-0", *, directory: str | Path | None = None
) -> DescriptorCurves:
    """DOS curves of library structure ``name``: frequencies (THz) and per-element pDOS."""
    ld = load_lattice_dynamics(name, model, directory=directory)
    return DescriptorCurves(
        name=name,
        model=descriptors_dir(model, directory).name,
        formula=ld.formula,
        frequencies_THz=ld.dos_frequencies_THz,
        pdos_per_THz=dict(ld.pdos_per_THz),
        sigma_THz=ld.dos_sigma_THz,
        band_centres_THz=dict(ld.band_centres_THz),
        mobile=ld.mobile_element,
        anion=ld.anion_element,
    )


def load_hops(model: str = "sevennet-0", *, directory: str | Path | None = None) -> pd.DataFrame:
    """Shipped vacancy-hop results (``<model>/hops/*.json``): one row per material with
    ``barrier_eV``, ``attempt_frequency_THz`` (Vineyard ν*), ``migration_entropy_kB``,
    ``hop_length_A``, ``saddle_imaginary_THz``, NEB convergence and timings.
    Raises :class:`~lilib.errors.DataNotFoundError` when there are none."""
    folder = descriptors_dir(model, directory) / "hops"
    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise DataNotFoundError(
            f"hop files of model {model!r} (make them with {SCRIPT} --hops)", [folder]
        )
    rows, names = [], []
    for path in paths:
        rec = _read(path)
        result = rec.get("result", {})
        row = {k: _flat(v) for k, v in result.items() if not isinstance(v, list | dict)}
        row["status"] = rec.get("status")
        row["reason"] = rec.get("reason", "")
        row.update({k: _flat(v) for k, v in rec.get("timings", {}).items()})
        rows.append(row)
        names.append(rec.get("name", path.stem))
    df = pd.DataFrame(rows, index=pd.Index(names, name="name"))
    df.attrs["model"] = folder.parent.name
    return df


def _hop_record(name: str, model: str, directory) -> tuple[Path, dict[str, Any]]:
    path = descriptors_dir(model, directory) / "hops" / f"{name}.json"
    if not path.is_file():
        raise DataNotFoundError(f"hop of {name!r} for model {model!r} ({SCRIPT} --hops)", [path])
    rec = _read(path)
    if rec.get("status") != "done":
        raise DataNotFoundError(
            f"hop of {name!r} ({rec.get('status')}: {rec.get('reason')})", [path]
        )
    return path, rec


def load_hop_convergence(
    name: str = "LiF", model: str = "sevennet-0", *, directory: str | Path | None = None
) -> pd.DataFrame:
    """How the shipped hop's Vineyard ν* (THz) and S_m (k_B) change with the Hessian region:
    one row per radius (Å) around the moving ion at the saddle (atoms inside displaced, the
    rest frozen), the last row (radius NaN) every atom. All from one full Hessian per state."""
    path, rec = _hop_record(name, model, directory)
    rows = rec.get("convergence")
    if not rows:
        raise DataNotFoundError(f"a convergence table in the hop of {name!r}", [path])
    df = pd.DataFrame([{k: _flat(v) for k, v in r.items()} for r in rows])
    return df[["radius_A", "n_atoms", "attempt_frequency_THz", "migration_entropy_kB", "error"]]


def load_hop_modes(
    name: str = "LiF", model: str = "sevennet-0", *, directory: str | Path | None = None
) -> dict[str, np.ndarray]:
    """Every normal mode (THz, sorted, imaginary as negative) of the shipped hop's initial state
    and saddle, from the full Hessians (translations removed): ``{"initial": ..., "saddle": ...}``."""
    path, rec = _hop_record(name, model, directory)
    modes = rec.get("modes_THz")
    if not modes:
        raise DataNotFoundError(f"normal modes in the hop of {name!r}", [path])
    return {k: np.asarray(v, dtype=float) for k, v in modes.items()}
