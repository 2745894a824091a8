"""Loading DFT phonon data (phonopy files) into a :class:`phonopy.Phonopy` object, with checks.

A phonon folder holds either ``phonopy_params.yaml`` (structure, displacements, forces and,
optionally, NAC parameters in one file) or a structure yaml (``phonopy.yaml``,
``phonopy_disp.yaml`` or the phonondb ``phonon.yaml``) plus ``FORCE_SETS``, and optionally
``BORN`` (Born effective charges and dielectric tensor for the non-analytical correction, NAC).

Every file is passed to phonopy by name: phonopy itself would otherwise look for ``FORCE_SETS``,
``FORCE_CONSTANTS`` and ``BORN`` in the *current* directory. The primitive matrix is always
passed explicitly (phonopy 4.10 resolves a missing one to ``'auto'``): an explicit argument wins,
then a ``primitive_matrix`` stored in the yaml, then ``PRIMITIVE_AXIS``/``PRIMITIVE_AXES`` of a
``phonopy.conf`` next to it (what the phonondb folders state), else ``'auto'``; the resolved
matrix and where it came from are recorded on the result.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from lilib import provenance
from lilib.errors import ArgumentError, DataNotFoundError, FileFormatError

__all__ = ["STRUCTURE_YAMLS", "PhononData", "load_phonons"]

#: Structure yaml files, in the order they are looked for in a folder.
STRUCTURE_YAMLS = ("phonopy_params.yaml", "phonopy.yaml", "phonopy_disp.yaml", "phonon.yaml")
_CENTRING = ("P", "F", "I", "A", "C", "R", "auto")
_DISP_TOLERANCE = 1e-4  # Å, for comparing displacements listed in two files


@dataclass(frozen=True, eq=False)
class PhononData:
    """A loaded phonopy object and where everything in it came from.

    ``phonopy``: the :class:`phonopy.Phonopy` object with force constants produced.
    ``folder``: the folder read; ``label``: its name. ``structure_file``: the yaml holding the
    unit cell; ``force_file``: ``FORCE_SETS``, or the yaml itself when it holds the forces.
    ``born_file``: where the NAC parameters came from (``BORN`` or the yaml), None when none were
    used; ``born_used``: whether the non-analytical correction is applied.
    ``primitive_matrix``: the resolved 3×3 matrix; ``primitive_matrix_source``: 'argument',
    '<yaml> primitive_matrix', 'phonopy.conf PRIMITIVE_AXIS' or 'auto'.
    ``n_displacements``: number of displaced supercells in the force data.
    """

    phonopy: object
    folder: Path
    label: str
    structure_file: Path
    force_file: Path
    born_file: Path | None
    born_used: bool
    primitive_matrix: np.ndarray
    primitive_matrix_source: str
    n_displacements: int

    @property
    def formula(self) -> str:
        """Reduced chemical formula of the primitive cell (e.g. 'LiF')."""
        from pymatgen.core import Composition

        return Composition("".join(self.phonopy.primitive.symbols)).reduced_formula

    @property
    def supercell_matrix(self) -> np.ndarray:
        """Supercell matrix (3×3 int) relative to the unit cell."""
        return np.asarray(self.phonopy.supercell_matrix)


def _read_yaml(path: Path) -> dict:
    import yaml

    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        with open(path) as f:
            data = yaml.load(f, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise FileFormatError(path, f"malformed yaml: {exc}", line=line) from None
    except UnicodeDecodeError as exc:
        raise FileFormatError(path, f"not a text file ({exc})") from None
    if not isinstance(data, dict):
        raise FileFormatError(path, "expected a yaml mapping at the top level")
    return data


def _unit_cell_atoms(data: dict, path: Path) -> int:
    """Number of atoms of the unit cell described in a phonopy-style yaml."""
    cell = data.get("unit_cell")
    if cell is None and "lattice" in data:  # phonondb phonon.yaml / old phonopy.yaml
        cell = data
    if not isinstance(cell, dict) or "lattice" not in cell:
        raise FileFormatError(path, "no unit cell ('unit_cell' or 'lattice' + 'points') found")
    points = cell.get("points", cell.get("atoms"))
    if not isinstance(points, list) or not points:
        raise FileFormatError(path, "the unit cell lists no atoms ('points')")
    lattice = np.asarray(cell["lattice"], dtype=float) if _is_matrix(cell["lattice"]) else None
    if lattice is None or lattice.shape != (3, 3):
        raise FileFormatError(path, "the unit cell 'lattice' is not a 3×3 matrix")
    for i, p in enumerate(points):
        if not isinstance(p, dict) or "symbol" not in p or "coordinates" not in p:
            raise FileFormatError(path, f"unit-cell atom {i + 1} lacks 'symbol' or 'coordinates'")
    return len(points)


def _is_matrix(value) -> bool:
    try:
        return np.asarray(value, dtype=float).shape == (3, 3)
    except (TypeError, ValueError):
        return False


def _supercell_matrix(data: dict, path: Path) -> np.ndarray:
    smat = data.get("supercell_matrix")
    if smat is None:
        return np.eye(3, dtype=int)
    try:
        arr = np.asarray(smat, dtype=float)
    except (TypeError, ValueError):
        raise FileFormatError(path, f"'supercell_matrix' is not numeric: {smat!r}") from None
    if arr.shape == (3,):
        arr = np.diag(arr)
    if arr.shape != (3, 3) or not np.allclose(arr, np.round(arr)):
        raise FileFormatError(path, f"'supercell_matrix' is not a 3×3 integer matrix: {smat!r}")
    arr = np.round(arr).astype(int)
    if round(abs(np.linalg.det(arr))) == 0:
        raise FileFormatError(path, "'supercell_matrix' is singular")
    return arr


def _yaml_displacements(data: dict) -> list[tuple[int, np.ndarray]] | None:
    """(1-based atom, displacement Å) pairs listed in a phonopy/phonondb yaml, if any."""
    disps = data.get("displacements")
    if not isinstance(disps, list) or not disps or not isinstance(disps[0], dict):
        return None
    if "atom" not in disps[0]:
        return None
    return [(int(d["atom"]), np.asarray(d["displacement"], dtype=float)) for d in disps]


def _scan_force_sets(path: Path, natom: int) -> tuple[int, list[tuple[int, np.ndarray]] | None]:
    """Check FORCE_SETS against a supercell of ``natom`` atoms; return (n_displacements, list).

    Type 1 (header: atoms, displacements; then per displacement the atom, vector and forces)
    gives the displaced atoms; type 2 (6 numbers per line) gives None for the list.
    """
    try:
        lines = [ln.split() for ln in path.read_text().splitlines()]
    except UnicodeDecodeError as exc:
        raise FileFormatError(path, f"not a text file ({exc})") from None
    rows = [(i + 1, t) for i, t in enumerate(lines) if t and not t[0].startswith("#")]
    if not rows:
        raise FileFormatError(path, "empty file")
    if len(rows[0][1]) == 6:  # type 2: displacement and force of every atom on each line
        if len(rows) % natom:
            raise FileFormatError(
                path,
                f"{len(rows)} lines of displacements/forces is not a multiple of the "
                f"supercell's {natom} atoms",
            )
        return len(rows) // natom, None
    try:
        n_atoms = int(rows[0][1][0])
        n_disp = int(rows[1][1][0])
    except (IndexError, ValueError):
        raise FileFormatError(
            path, "header must give the number of atoms and of displacements", line=rows[0][0]
        ) from None
    if n_atoms != natom:
        raise FileFormatError(
            path,
            f"forces for {n_atoms} atoms, but the supercell built from the structure file has "
            f"{natom} atoms (force sets and supercell do not match)",
            line=rows[0][0],
        )
    disps: list[tuple[int, np.ndarray]] = []
    k = 2
    for d in range(n_disp):
        block = rows[k : k + 2 + natom]
        if len(block) < 2 + natom:
            raise FileFormatError(
                path,
                f"header announces {n_disp} displacements but the file ends inside "
                f"displacement {d + 1} (truncated?)",
            )
        try:
            atom = int(block[0][1][0])
            vec = np.array([float(x) for x in block[1][1][:3]])
            forces = np.array([[float(x) for x in r[1][:3]] for r in block[2:]])
        except (IndexError, ValueError):
            raise FileFormatError(
                path, f"unreadable numbers in displacement {d + 1}", line=block[0][0]
            ) from None
        if vec.shape != (3,) or forces.shape != (natom, 3):
            raise FileFormatError(
                path, f"displacement {d + 1} has malformed rows", line=block[0][0]
            )
        if not 1 <= atom <= natom:
            raise FileFormatError(
                path, f"displaced atom {atom} outside 1..{natom}", line=block[0][0]
            )
        disps.append((atom, vec))
        k += 2 + natom
    if k < len(rows):
        raise FileFormatError(
            path,
            f"header announces {n_disp} displacements but more data follow "
            f"(line {rows[k][0]}); force sets and header disagree",
            line=rows[k][0],
        )
    return n_disp, disps


def _parse_primitive_axis(path: Path) -> np.ndarray | str | None:
    """PRIMITIVE_AXIS/PRIMITIVE_AXES of a phonopy.conf (matrix or centring letter), or None."""
    for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        m = re.match(r"\s*PRIMITIVE_AX(?:IS|ES)\s*=\s*(.+?)\s*(#.*)?$", line, flags=re.IGNORECASE)
        if not m:
            continue
        value = m.group(1).strip()
        if value.upper() == "AUTO":
            return "auto"
        if value.upper() in _CENTRING:
            return value.upper()
        try:
            numbers = [float(Fraction(tok)) for tok in value.split()]
        except (ValueError, ZeroDivisionError):
            raise FileFormatError(
                path, f"PRIMITIVE_AXIS is not 9 numbers: {value!r}", line=lineno
            ) from None
        if len(numbers) != 9:
            raise FileFormatError(
                path, f"PRIMITIVE_AXIS has {len(numbers)} numbers, expected 9", line=lineno
            )
        return np.array(numbers).reshape(3, 3)
    return None


def _resolve_primitive(
    primitive_matrix, data: dict, yaml_path: Path, folder: Path
) -> tuple[np.ndarray | str, str]:
    if primitive_matrix is not None:
        if isinstance(primitive_matrix, str):
            if primitive_matrix not in _CENTRING:
                raise ArgumentError(
                    "primitive_matrix",
                    f"expected a 3×3 matrix or one of {_CENTRING}, got {primitive_matrix!r}",
                )
            return primitive_matrix, "argument"
        arr = np.asarray(primitive_matrix, dtype=float)
        if arr.shape != (3, 3) or abs(np.linalg.det(arr)) < 1e-8:
            raise ArgumentError(
                "primitive_matrix", f"expected a non-singular 3×3 matrix, got {primitive_matrix!r}"
            )
        return arr, "argument"
    if data.get("primitive_matrix") is not None:
        if not _is_matrix(data["primitive_matrix"]):
            raise FileFormatError(yaml_path, "'primitive_matrix' is not a 3×3 matrix")
        return np.asarray(
            data["primitive_matrix"], dtype=float
        ), f"{yaml_path.name} primitive_matrix"
    conf = folder / "phonopy.conf"
    if conf.is_file():
        axis = _parse_primitive_axis(conf)
        if axis is not None:
            return axis, "phonopy.conf PRIMITIVE_AXIS"
    return "auto", "auto"


def load_phonons(
    path: str | Path,
    *,
    primitive_matrix: np.ndarray | str | None = None,
    nac: bool = True,
    symprec: float = 1e-5,
) -> PhononData:
    """Load DFT phonon data from a folder (or a structure yaml in it) into phonopy.

    path: a folder holding ``phonopy_params.yaml``, or ``phonopy.yaml``/``phonopy_disp.yaml``/
        ``phonon.yaml`` + ``FORCE_SETS`` (+ ``BORN``); or one of those yaml files. Forces stored
        in the yaml are used in preference to a ``FORCE_SETS`` beside it; displacements listed
        in the yaml or in phonondb's ``disp.yaml`` must match those of ``FORCE_SETS``.
    primitive_matrix: 3×3 matrix or 'P'/'F'/'I'/'A'/'C'/'R'/'auto'. Default (None): the yaml's
        ``primitive_matrix``, else ``PRIMITIVE_AXIS`` of ``phonopy.conf``, else 'auto'
        (passed explicitly).
    nac: apply the non-analytical correction when BORN (or NAC data in the yaml) is present.

    Raises :class:`~lilib.errors.DataNotFoundError` for missing files and
    :class:`~lilib.errors.FileFormatError` (naming the file) for malformed yaml, FORCE_SETS whose
    atom count does not match the supercell, or displacement lists that disagree between files.
    """
    provenance.cite("phonopy", "spglib")
    path = Path(path)
    if path.is_file():
        folder, candidates = path.parent, [path]
    elif path.is_dir():
        folder = path
        candidates = [folder / n for n in STRUCTURE_YAMLS if (folder / n).is_file()]
        if not candidates:
            raise DataNotFoundError(
                f"phonon structure file ({', '.join(STRUCTURE_YAMLS)})", [folder]
            )
    else:
        raise DataNotFoundError("phonon data", [path])
    yaml_path = candidates[0]
    data = _read_yaml(yaml_path)
    for used in (yaml_path, folder / "FORCE_SETS", folder / "BORN"):
        provenance.record_file(used, "phonon data")  # absent files are skipped
    n_unit = _unit_cell_atoms(data, yaml_path)
    smat = _supercell_matrix(data, yaml_path)
    n_super = n_unit * round(abs(np.linalg.det(smat)))

    yaml_disps = _yaml_displacements(data)
    yaml_has_forces = (
        bool(
            isinstance(data.get("displacements"), list)
            and data["displacements"]
            and isinstance(data["displacements"][0], dict)
            and "forces" in data["displacements"][0]
        )
        or "force_constants" in data
    )
    force_sets = folder / "FORCE_SETS"
    if yaml_has_forces:  # phonopy_params.yaml-like: the yaml's own forces win over FORCE_SETS
        force_file = yaml_path
        n_disp = len(data.get("displacements") or [])
    elif force_sets.is_file():
        force_file = force_sets
        n_disp, fs_disps = _scan_force_sets(force_sets, n_super)
        # Displacements listed elsewhere (this yaml, or phonondb's disp.yaml) must match.
        listed = [(yaml_path, yaml_disps)]
        disp_yaml = folder / "disp.yaml"
        if disp_yaml.is_file() and disp_yaml != yaml_path:
            listed.append((disp_yaml, _yaml_displacements(_read_yaml(disp_yaml))))
        for other, disps in listed:
            if disps is None or fs_disps is None:
                continue
            if len(disps) != n_disp:
                raise FileFormatError(
                    force_sets,
                    f"{n_disp} displacements, but {other.name} lists {len(disps)} "
                    "(force sets and displacement file do not match)",
                )
            for i, ((a1, v1), (a2, v2)) in enumerate(zip(fs_disps, disps, strict=True), 1):
                if a1 != a2 or v1.shape != v2.shape or np.abs(v1 - v2).max() > _DISP_TOLERANCE:
                    raise FileFormatError(
                        force_sets,
                        f"displacement {i} (atom {a1}, {v1.tolist()} Å) differs from "
                        f"{other.name} (atom {a2}, {v2.tolist()} Å)",
                    )
    else:
        raise DataNotFoundError(
            f"forces for {yaml_path.name} (FORCE_SETS, or forces inside the yaml)", [folder]
        )

    born = folder / "BORN"
    yaml_nac = isinstance(data.get("nac"), dict) or "born_effective_charge" in data
    born_file: Path | None = None
    if nac and born.is_file():
        born_file = born
    elif nac and yaml_nac:
        born_file = yaml_path

    pmat, pmat_source = _resolve_primitive(primitive_matrix, data, yaml_path, folder)

    import phonopy

    kwargs = dict(
        # a list, not an ndarray: phonopy 4.10's load compares it with "auto" (ndarray → error)
        primitive_matrix=pmat if isinstance(pmat, str) else np.asarray(pmat).tolist(),
        is_nac=born_file is not None,
        symprec=symprec,
        log_level=0,
    )
    if born_file is born:
        kwargs["born_filename"] = str(born)
    if force_file == force_sets:
        kwargs["force_sets_filename"] = str(force_sets)
    with warnings.catch_warnings():
        # We pass primitive_matrix on purpose (also 'auto'); phonopy cannot tell and warns.
        try:
            from phonopy.structure.cells import PrimitiveMatrixAutoDefaultWarning
        except ImportError:  # phonopy < 4.10 has no such warning
            pass
        else:
            warnings.simplefilter("ignore", PrimitiveMatrixAutoDefaultWarning)
        try:
            ph = phonopy.load(str(yaml_path), **kwargs)
        except (ValueError, RuntimeError, KeyError, TypeError, IndexError, AssertionError) as exc:
            about_born = "born" in str(exc).lower() or "dielectric" in str(exc).lower()
            culprit = born_file if born_file is not None and about_born else yaml_path
            raise FileFormatError(culprit, f"phonopy could not load the data: {exc}") from exc
    if len(ph.supercell) != n_super:
        raise FileFormatError(
            yaml_path, f"phonopy built a {len(ph.supercell)}-atom supercell, expected {n_super}"
        )
    if ph.force_constants is None:
        raise FileFormatError(force_file, "no force constants could be produced from the data")
    return PhononData(
        phonopy=ph,
        folder=folder,
        label=folder.name,
        structure_file=yaml_path,
        force_file=force_file,
        born_file=born_file,
        born_used=ph.nac_params is not None,
        primitive_matrix=np.asarray(ph.primitive_matrix, dtype=float),
        primitive_matrix_source=pmat_source,
        n_displacements=int(n_disp),
    )
