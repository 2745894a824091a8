"""Read MD trajectories into :class:`~lilib.md.trajectory.Trajectory` (unwrapped, Å, fs).

>>> traj = read_trajectory("XDATCAR.gz", timestep_fs=100.0)  # VASP: 2 fs × NBLOCK 50
>>> traj = read_trajectory("dump.lammpstrj", md_step_fs=2.0, type_map={1: "Li", 2: "S"})
>>> traj = read_trajectory("md.traj", timestep_fs=10.0)  # anything ase.io reads
>>> traj = read_trajectory("DiffusionAnalyzer.json")  # pymatgen, time step inside

Formats and what each needs:

- VASP XDATCAR (fixed or variable cell; VASP 5 with symbols, or VASP 4 with ``symbols=``):
  the file has no time step, so ``timestep_fs`` (POTIM × NBLOCK) is required.
- LAMMPS text dump (``dump atom/custom``): orthogonal or triclinic boxes; positions from
  ``xu yu zu``, ``x y z`` (+ ``ix iy iz``), ``xs ys zs`` or ``xsu ysu zsu``; atoms sorted by
  ``id``; species from an ``element`` column or ``type_map``. Time: ``md_step_fs`` (the MD
  time step, combined with the dump's TIMESTEP values) or ``timestep_fs`` per stored frame.
  ``units`` sets the length unit (metal/real: Å; si: m; cgs: cm; electron: bohr; nano: nm).
- ASE trajectory (.traj), extended XYZ and anything ``ase.io.iread`` reads: streamed frame by
  frame; ``timestep_fs`` required; ``cell=`` for files without one (plain XYZ).
- pymatgen-analysis-diffusion ``DiffusionAnalyzer`` JSON (``as_dict()``): initial structure
  plus unwrapped Cartesian displacements; time step = time_step × step_skip; read with json.

Files may be gzip, bz2 or xz compressed. Every reader raises :class:`FileFormatError` naming
the file (and line) for malformed input and :class:`ArgumentError` for bad arguments.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lilib import __version__, provenance
from lilib.errors import ArgumentError, FileFormatError, LilibError
from lilib.md.trajectory import Trajectory

__all__ = [
    "read_ase",
    "read_lammps_dump",
    "read_pmg_diffusion",
    "read_trajectory",
    "read_xdatcar",
]

_MAGIC = {b"\x1f\x8b": gzip.open, b"BZh": bz2.open, b"\xfd7zXZ": lzma.open}
_COMPRESSED = (".gz", ".bz2", ".xz")
# LAMMPS unit styles → Å per length unit
_LAMMPS_LENGTH_A = {
    "metal": 1.0,
    "real": 1.0,
    "si": 1e10,
    "cgs": 1e8,
    "electron": 0.529177210903,
    "micro": 1e4,
    "nano": 10.0,
}


def _check_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(path, "no such file")
    return path


def _open_text(path: Path):
    """Text handle, decompressing by magic bytes (names can lie)."""
    with open(path, "rb") as fh:
        head = fh.read(6)
    opener = next((op for magic, op in _MAGIC.items() if head.startswith(magic)), None)
    if opener is None:
        return open(path, encoding="ascii", errors="replace")
    return io.TextIOWrapper(opener(path, "rb"), encoding="ascii", errors="replace")


def _stem(path: Path) -> str:
    name = path.name
    for suffix in _COMPRESSED:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _check_timestep(value: Any, name: str = "timestep_fs") -> float:
    if value is None:
        raise ArgumentError(name, "required: the file does not store the time between frames")
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ArgumentError(name, f"must be a number of fs, got {value!r}")
    if not 0 < value < np.inf:
        raise ArgumentError(name, f"must be > 0 fs, got {value!r}")
    return float(value)


def _check_dtype(dtype: Any) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ArgumentError("dtype", f"must be float32 or float64, got {dt}")
    return dt


class _Lines:
    """Streaming line cursor with 1-based line numbers for error messages."""

    def __init__(self, path: Path, handle) -> None:
        self.path = path
        self.handle = handle
        self.lineno = 0
        self._pushed: str | None = None

    def next(self) -> str | None:
        """The next line without its newline, or None at the end of the file."""
        if self._pushed is not None:
            line, self._pushed = self._pushed, None
            self.lineno += 1
            return line
        try:
            line = self.handle.readline()
        except (OSError, EOFError, lzma.LZMAError) as exc:
            raise FileFormatError(
                self.path, f"cannot read (damaged compression?): {exc}", line=self.lineno + 1
            ) from None
        if not line:
            return None
        self.lineno += 1
        return line.rstrip("\r\n")

    def push_back(self, line: str) -> None:
        self._pushed = line
        self.lineno -= 1

    def need(self, what: str) -> str:
        line = self.next()
        if line is None:
            raise self.error(f"file ends before {what} (truncated?)", self.lineno + 1)
        return line

    def take(self, n: int, what: str) -> list[str]:
        out = []
        for _ in range(n):
            line = self.next()
            if line is None:
                raise self.error(f"truncated: {what} has {len(out)} of {n} lines", self.lineno + 1)
            out.append(line)
        return out

    def floats(self, what: str, n: int) -> list[float]:
        line = self.need(what)
        parts = line.split()
        try:
            values = [float(v) for v in parts[:n]]
        except ValueError:
            raise self.error(f"expected {n} numbers for {what}, got {line.strip()!r}") from None
        if len(values) != n or not all(np.isfinite(values)):
            raise self.error(f"expected {n} finite numbers for {what}, got {line.strip()!r}")
        return values

    def error(self, message: str, line: int | None = None) -> FileFormatError:
        return FileFormatError(self.path, message, line=self.lineno if line is None else line)


def _parse_rows(
    lines: list[str], first_line: int, n_cols: int, path: Path, what: str
) -> np.ndarray:
    """The first ``n_cols`` numbers of each line as a float64 array; errors name the line."""
    tokens = " ".join(lines).split()
    if len(tokens) == n_cols * len(lines):
        try:
            data = np.array(tokens, dtype=np.float64).reshape(len(lines), n_cols)
        except ValueError:
            data = None
        if data is not None and np.isfinite(data).all():
            return data
    # slow path: find the line at fault, or accept lines with extra trailing fields
    rows = np.empty((len(lines), n_cols))
    for k, line in enumerate(lines):
        parts = line.split()
        try:
            rows[k] = [float(v) for v in parts[:n_cols]] if len(parts) >= n_cols else None
        except (ValueError, TypeError):
            raise FileFormatError(
                path,
                f"{what}: expected {n_cols} numbers, got {line.strip()!r}",
                line=first_line + k,
            ) from None
        if not np.isfinite(rows[k]).all():
            raise FileFormatError(
                path, f"{what}: non-finite value in {line.strip()!r}", line=first_line + k
            )
    return rows


def _unwrapped_trajectory(
    positions: list[np.ndarray],
    cells: list[np.ndarray],
    symbols: Sequence[str],
    timestep_fs: float,
    temperature_K: float | None,
    dtype: np.dtype,
    source: dict[str, Any],
    already_unwrapped: bool = False,
) -> Trajectory:
    pos = np.stack(positions).astype(dtype, copy=False)
    cell = np.stack(cells)
    source = {**source, "lilib_version": __version__}
    traj = Trajectory(
        positions=pos,
        cell=cell,
        symbols=list(symbols),
        timestep_fs=timestep_fs,
        temperature_K=temperature_K,
        unwrapped=already_unwrapped,
        source=source,
    )
    return traj.unwrap()


# ---------------------------------------------------------------------------- XDATCAR


def read_xdatcar(
    path: str | Path,
    timestep_fs: float | None = None,
    *,
    temperature_K: float | None = None,
    symbols: Sequence[str] | None = None,
    allow_truncated: bool = False,
    dtype: type | str = np.float64,
) -> Trajectory:
    """Read a VASP XDATCAR (fixed or variable cell, plain or compressed), unwrapped.

    timestep_fs: time between stored configurations (POTIM × NBLOCK), required.
    symbols: element per species for VASP 4 files without a symbols line.
    allow_truncated: drop a last configuration cut short (a running job) instead of raising.
    dtype: float64 or float32 position storage.
    """
    provenance.record_file(path, "trajectory")
    path = _check_file(path)
    dt = _check_timestep(timestep_fs)
    dtype = _check_dtype(dtype)
    with _open_text(path) as fh:
        lines = _Lines(path, fh)
        species, counts, cell, scale = _xdatcar_header(lines, symbols)
        n_atoms = int(sum(counts))
        positions, cells = [], []
        variable = False
        last_number: int | None = None
        header_before, restarts = True, 0
        while True:
            line = lines.next()
            if line is None:
                break
            if not line.strip():
                continue
            key = line.split()[0].lower() if line.split() else ""
            if not key.startswith(("direct", "cartesian")):
                # variable-cell XDATCAR: a full header before every configuration
                lines.push_back(line)
                sp, cn, cell, scale = _xdatcar_header(lines, symbols)
                if (sp, cn) != (species, counts):
                    raise lines.error(
                        f"this configuration lists species {dict(zip(sp, cn))}, "
                        f"the first one {dict(zip(species, counts))}"
                    )
                variable, header_before = True, True
                line = lines.need("a 'Direct configuration=' line")
                key = line.split()[0].lower() if line.split() else ""
                if not key.startswith(("direct", "cartesian")):
                    raise lines.error(
                        f"expected a 'Direct configuration=' line, got {line.strip()!r}"
                    )
            number = _configuration_number(line)
            if number is not None and last_number is not None and number <= last_number:
                if not header_before:
                    raise lines.error(
                        f"configuration number {number} after {last_number}: time goes "
                        "backwards (concatenated runs need a header between them)"
                    )
                restarts += 1  # 'cat XDATCAR.1 XDATCAR.2': numbering restarts after a header
            last_number = number if number is not None else last_number
            header_before = False
            first = lines.lineno + 1
            try:
                block = lines.take(n_atoms, f"configuration {len(positions) + 1}")
            except FileFormatError:
                if allow_truncated and positions:
                    break
                raise
            xyz = _parse_rows(block, first, 3, path, "coordinate line")
            xyz = xyz @ cell if key.startswith("direct") else xyz * scale
            positions.append(xyz.astype(dtype, copy=False))
            cells.append(cell)
    if not positions:
        raise FileFormatError(path, "no configurations (no 'Direct configuration=' block)")
    source = {
        "path": str(path),
        "format": "vasp-xdatcar",
        "reader": "lilib.md.readers.read_xdatcar",
        "variable_cell": variable,
        "n_configurations": len(positions),
        "numbering_restarts": restarts,
    }
    return _unwrapped_trajectory(
        positions,
        cells,
        [s for s, c in zip(species, counts) for _ in range(c)],
        dt,
        temperature_K,
        dtype,
        source,
    )


def _configuration_number(line: str) -> int | None:
    """The N of 'Direct configuration=     N' (None when the line has no number)."""
    tail = line.split("=", 1)[1] if "=" in line else ""
    try:
        return int(tail.split()[0])
    except (IndexError, ValueError):
        return None


def _xdatcar_header(
    lines: _Lines, symbols: Sequence[str] | None
) -> tuple[list[str], list[int], np.ndarray, float]:
    """Species, counts, cell (Å) and the length scale applied to Cartesian coordinates."""
    lines.need("the title line")
    scale = lines.floats("the scale factor", 1)[0]
    lattice = np.array([lines.floats(f"lattice vector {k + 1}", 3) for k in range(3)])
    volume = abs(np.linalg.det(lattice))
    if scale == 0 or volume == 0:
        raise lines.error("zero scale factor or flat lattice")
    # a negative scale factor is the cell volume (VASP convention)
    factor = scale if scale > 0 else (-scale / volume) ** (1.0 / 3.0)
    lattice = lattice * factor
    line = lines.need("the species line")
    parts = line.split()
    if parts and all(p.lstrip("+").isdigit() for p in parts):
        counts_line, names = line, None
    else:
        names = [p.split("/")[0].split("_")[0] for p in parts]
        counts_line = lines.need("the atom counts line")
    try:
        counts = [int(p) for p in counts_line.split()]
    except ValueError:
        raise lines.error(f"expected atom counts, got {counts_line.strip()!r}") from None
    if not counts or min(counts) < 0 or sum(counts) == 0:
        raise lines.error(f"expected positive atom counts, got {counts_line.strip()!r}")
    if names is None:
        if symbols is None:
            raise ArgumentError(
                "symbols", f"{lines.path} (VASP 4 format) does not name its species: pass symbols"
            )
        names = list(symbols)
    elif symbols is not None and list(symbols) != names:
        raise ArgumentError("symbols", f"{list(symbols)} differ from the file's {names}")
    if len(names) != len(counts):
        raise lines.error(f"{len(names)} species names but {len(counts)} counts")
    _check_symbols(names, lines.path)
    return names, counts, lattice, factor


def _check_symbols(names: Sequence[str], path: Path) -> None:
    from ase.data import atomic_numbers

    bad = [n for n in names if n not in atomic_numbers]
    if bad:
        raise FileFormatError(path, f"not element symbols: {bad}")


# ---------------------------------------------------------------------------- LAMMPS dump

_POSITION_SETS = (
    (("xu", "yu", "zu"), "cartesian", True),
    (("xsu", "ysu", "zsu"), "scaled", True),
    (("x", "y", "z"), "cartesian", False),
    (("xs", "ys", "zs"), "scaled", False),
)


def read_lammps_dump(
    path: str | Path,
    *,
    md_step_fs: float | None = None,
    timestep_fs: float | None = None,
    type_map: Mapping[int, str] | Sequence[str] | None = None,
    units: str = "metal",
    temperature_K: float | None = None,
    dtype: type | str = np.float64,
) -> Trajectory:
    """Read a LAMMPS text dump (``dump atom`` or ``dump custom``), sorted by id, unwrapped.

    md_step_fs: the MD integration time step, fs; frame spacing = it × the change of the
    dump's TIMESTEP (which must be even). Or timestep_fs: the time between stored frames.
    type_map: atom type → element ({1: "Li"} or ["Li", ...] for types 1, 2, ...); not
    needed with an ``element`` column. units: the run's LAMMPS unit style (sets the length
    unit; time is given in fs by you).
    """
    provenance.record_file(path, "trajectory")
    path = _check_file(path)
    dtype = _check_dtype(dtype)
    if (md_step_fs is None) == (timestep_fs is None):
        raise ArgumentError("md_step_fs", "give either md_step_fs or timestep_fs (not both)")
    if md_step_fs is not None:
        md_step_fs = _check_timestep(md_step_fs, "md_step_fs")
    else:
        timestep_fs = _check_timestep(timestep_fs)
    if units not in _LAMMPS_LENGTH_A:
        raise ArgumentError(
            "units", f"unknown LAMMPS unit style {units!r}; known: {sorted(_LAMMPS_LENGTH_A)}"
        )
    to_A = _LAMMPS_LENGTH_A[units]
    tmap = _type_map(type_map)

    steps, positions, cells, ids0, symbols0 = [], [], [], None, None
    unwrapped_input = None
    with _open_text(path) as fh:
        lines = _Lines(path, fh)
        for frame in _lammps_frames(lines):
            step, n_atoms, (origin, cell), header_line, header, rows = frame
            cols = {name: k for k, name in enumerate(header)}
            pos_cols, kind, is_unwrapped = _position_columns(cols, path, header_line, header)
            data = rows  # list of token lists
            first = header_line + 1
            ncol = len(header)
            numeric = [c for c in (*pos_cols, "id", "ix", "iy", "iz") if c in cols]
            arr = _columns(data, [cols[c] for c in numeric], first, path, ncol)
            values = dict(zip(numeric, arr.T))
            xyz = np.stack([values[c] for c in pos_cols], axis=1) * to_A
            origin, cell = origin * to_A, cell * to_A
            if kind == "scaled":
                xyz = origin + xyz @ cell
            if not is_unwrapped and all(c in cols for c in ("ix", "iy", "iz")):
                image = np.stack([values["ix"], values["iy"], values["iz"]], axis=1)
                xyz = xyz + image @ cell
                is_unwrapped = True
            if "id" in cols:
                ids = values["id"].astype(np.int64)
                order = np.argsort(ids, kind="stable")
                ids = ids[order]
                if np.unique(ids).size != ids.size:
                    raise FileFormatError(path, "repeated atom ids", line=header_line)
            else:
                ids, order = np.arange(n_atoms), np.arange(n_atoms)
            if "element" in cols:
                syms = [data[k][cols["element"]] for k in order]
                if ids0 is None:
                    _check_symbols(sorted(set(syms)), path)
            elif "type" in cols:
                syms = _symbols_from_types([data[k][cols["type"]] for k in order], tmap, path)
            else:
                raise FileFormatError(
                    path, f"no 'type' or 'element' column in {' '.join(header)!r}", line=header_line
                )
            if ids0 is None:
                ids0, symbols0, unwrapped_input = ids, syms, is_unwrapped
            else:
                if ids.size != ids0.size or np.any(ids != ids0):
                    raise FileFormatError(
                        path, f"frame at TIMESTEP {step} holds other atom ids", line=header_line
                    )
                if syms != symbols0:
                    raise FileFormatError(
                        path, f"frame at TIMESTEP {step}: atom species changed", line=header_line
                    )
                if is_unwrapped != unwrapped_input:
                    raise FileFormatError(
                        path, "position columns change between frames", line=header_line
                    )
            steps.append(step)
            positions.append(xyz[order].astype(dtype, copy=False))
            cells.append(cell)
    if not positions:
        raise FileFormatError(path, "no frames (no 'ITEM: TIMESTEP')")
    steps_arr = np.array(steps, dtype=np.int64)
    gaps = np.diff(steps_arr)
    if np.any(gaps <= 0):
        k = int(np.argmax(gaps <= 0))
        raise FileFormatError(
            path,
            f"TIMESTEP {steps_arr[k + 1]} follows {steps_arr[k]} (frame {k + 1}): time does not "
            "increase (a restarted run appended to the dump?)",
        )
    if md_step_fs is not None:
        if len(steps) > 1:
            if np.any(gaps != gaps[0]):
                raise FileFormatError(
                    path,
                    f"TIMESTEP values are not evenly spaced (gaps {sorted(set(gaps.tolist()))[:5]}); "
                    "pass timestep_fs if the frames are known to be evenly spaced in time",
                )
            timestep_fs = float(gaps[0]) * md_step_fs
        else:
            timestep_fs = md_step_fs
    source = {
        "path": str(path),
        "format": "lammps-dump",
        "reader": "lilib.md.readers.read_lammps_dump",
        "units": units,
        "first_timestep": int(steps_arr[0]),
        "last_timestep": int(steps_arr[-1]),
        "positions_in_file": "unwrapped" if unwrapped_input else "wrapped",
    }
    return _unwrapped_trajectory(
        positions,
        cells,
        symbols0,
        timestep_fs,
        temperature_K,
        dtype,
        source,
        already_unwrapped=bool(unwrapped_input),
    )


def _type_map(type_map: Mapping[int, str] | Sequence[str] | None) -> dict[str, str] | None:
    if type_map is None:
        return None
    if isinstance(type_map, str):
        raise ArgumentError("type_map", "expected a mapping {type: symbol} or a list of symbols")
    if isinstance(type_map, Mapping):
        items = type_map.items()
    else:
        items = ((k + 1, s) for k, s in enumerate(type_map))
    out = {str(k): str(v) for k, v in items}
    from ase.data import atomic_numbers

    bad = [v for v in out.values() if v not in atomic_numbers]
    if bad:
        raise ArgumentError("type_map", f"not element symbols: {bad}")
    return out


def _symbols_from_types(types: list[str], tmap: dict[str, str] | None, path: Path) -> list[str]:
    if tmap is None:
        raise ArgumentError(
            "type_map",
            f"{path} has atom types {sorted(set(types), key=lambda t: (len(t), t))} and no "
            "element column: pass type_map={1: 'Li', ...}",
        )
    missing = sorted(set(types) - set(tmap))
    if missing:
        raise ArgumentError("type_map", f"no symbol for atom type(s) {missing} of {path}")
    return [tmap[t] for t in types]


def _position_columns(
    cols: dict[str, int], path: Path, header_line: int, header: list[str]
) -> tuple[tuple[str, str, str], str, bool]:
    for names, kind, unwrapped in _POSITION_SETS:
        if all(n in cols for n in names):
            return names, kind, unwrapped
    raise FileFormatError(
        path,
        f"no complete set of position columns (x y z, xs ys zs, xu yu zu or xsu ysu zsu) in "
        f"'ITEM: ATOMS {' '.join(header)}'",
        line=header_line,
    )


def _columns(
    rows: list[list[str]], which: list[int], first: int, path: Path, ncol: int
) -> np.ndarray:
    out = np.empty((len(rows), len(which)))
    for k, parts in enumerate(rows):
        if len(parts) != ncol:
            raise FileFormatError(
                path,
                f"atom line has {len(parts)} fields, the ITEM: ATOMS header names {ncol}",
                line=first + k,
            )
    try:
        out[:] = np.array([[parts[c] for c in which] for parts in rows], dtype=np.float64)
    except ValueError:
        for k, parts in enumerate(rows):
            try:
                [float(parts[c]) for c in which]
            except ValueError:
                raise FileFormatError(
                    path, f"non-numeric value in atom line {' '.join(parts)!r}", line=first + k
                ) from None
    if not np.isfinite(out).all():
        k = int(np.flatnonzero(~np.isfinite(out).all(axis=1))[0])
        raise FileFormatError(path, "non-finite value in atom line", line=first + k)
    return out


def _lammps_box(lines: _Lines, flags: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Origin and cell (rows a, b, c) from the three BOX BOUNDS lines."""
    if "abc" in flags or "origin" in flags:
        raise lines.error("general triclinic boxes ('BOX BOUNDS abc origin') are not supported")
    triclinic = "xy" in flags
    n = 3 if triclinic else 2
    b = np.array([lines.floats("a BOX BOUNDS line", n) for _ in range(3)])
    xy, xz, yz = (b[0, 2], b[1, 2], b[2, 2]) if triclinic else (0.0, 0.0, 0.0)
    # LAMMPS prints the bounding box of a tilted cell; undo that to get the cell edges
    xlo = b[0, 0] - min(0.0, xy, xz, xy + xz)
    xhi = b[0, 1] - max(0.0, xy, xz, xy + xz)
    ylo = b[1, 0] - min(0.0, yz)
    yhi = b[1, 1] - max(0.0, yz)
    zlo, zhi = b[2, 0], b[2, 1]
    cell = np.array([[xhi - xlo, 0.0, 0.0], [xy, yhi - ylo, 0.0], [xz, yz, zhi - zlo]])
    if np.any(np.diag(cell) <= 0):
        raise lines.error("BOX BOUNDS give a cell of non-positive length")
    return np.array([xlo, ylo, zlo]), cell


def _lammps_frames(lines: _Lines) -> Iterator[tuple]:
    while True:
        line = lines.next()
        if line is None:
            return
        if not line.strip():
            continue
        step = n_atoms = box = None
        while True:
            if not line.startswith("ITEM:"):
                raise lines.error(f"expected an 'ITEM:' line, got {line.strip()[:60]!r}")
            item = line[5:].strip()
            upper = item.upper()
            if upper.startswith("TIMESTEP"):
                text = lines.need("the TIMESTEP value").split()
                try:
                    step = int(text[0])
                except (ValueError, IndexError):
                    raise lines.error(f"TIMESTEP is not an integer: {' '.join(text)!r}") from None
            elif upper.startswith(("TIME", "UNITS")):
                lines.need(f"the {item} value")
            elif upper.startswith("NUMBER OF ATOMS"):
                text = lines.need("the number of atoms").split()
                try:
                    n_atoms = int(text[0])
                except (ValueError, IndexError):
                    raise lines.error(f"NUMBER OF ATOMS is not an integer: {text!r}") from None
                if n_atoms < 1:
                    raise lines.error(f"NUMBER OF ATOMS is {n_atoms}")
            elif upper.startswith("BOX BOUNDS"):
                box = _lammps_box(lines, item.split()[2:])
            elif upper.startswith("ATOMS"):
                missing = [
                    n
                    for n, v in (
                        ("TIMESTEP", step),
                        ("NUMBER OF ATOMS", n_atoms),
                        ("BOX BOUNDS", box),
                    )
                    if v is None
                ]
                if missing:
                    raise lines.error(f"ITEM: ATOMS before {', '.join(missing)}")
                header = item.split()[1:]
                header_line = lines.lineno
                if len(set(header)) != len(header):
                    raise lines.error(f"repeated column names in {item!r}")
                block = lines.take(n_atoms, f"the ATOMS block of TIMESTEP {step}")
                yield step, n_atoms, box, header_line, header, [b.split() for b in block]
                break
            else:
                raise lines.error(f"unknown dump section 'ITEM: {item}'")
            line = lines.need("the next ITEM line")


# ---------------------------------------------------------------------------- ASE


def read_ase(
    path: str | Path,
    timestep_fs: float | None = None,
    *,
    format: str | None = None,
    index: str | slice = ":",
    cell: np.ndarray | Sequence[Sequence[float]] | None = None,
    temperature_K: float | None = None,
    dtype: type | str = np.float64,
) -> Trajectory:
    """Read any trajectory ``ase.io.iread`` reads (.traj, extended XYZ, ...), streamed, unwrapped.

    timestep_fs: time between the frames read (after ``index`` slicing), required.
    format: ASE's format name (guessed by ASE from the name when None).
    cell: (3, 3) Å, used for frames without a cell (plain XYZ) and refused otherwise.
    """
    provenance.record_file(path, "trajectory")
    import ase.io

    path = _check_file(path)
    dt = _check_timestep(timestep_fs)
    dtype = _check_dtype(dtype)
    given = None
    if cell is not None:
        given = np.asarray(cell, dtype=float)
        if (
            given.shape != (3, 3)
            or not np.isfinite(given).all()
            or abs(np.linalg.det(given)) < 1e-6
        ):
            raise ArgumentError(
                "cell", f"expected a (3, 3) non-singular cell in Å, got {given.shape}"
            )
    positions, cells, symbols = [], [], None
    frames = ase.io.iread(str(path), index=index, format=format)
    k = 0
    while True:
        try:
            atoms = next(frames)
        except StopIteration:
            break
        except LilibError:
            raise
        except Exception as exc:  # ASE's parsers raise many kinds; name the file
            raise FileFormatError(
                path, f"ASE cannot read frame {k}: {type(exc).__name__}: {exc}"
            ) from exc
        sym = atoms.get_chemical_symbols()
        if symbols is None:
            symbols = sym
        elif sym != symbols:
            raise FileFormatError(path, f"frame {k} has other atoms than frame 0")
        frame_cell = np.asarray(atoms.cell.array, dtype=float)
        has_cell = abs(np.linalg.det(frame_cell)) > 1e-6
        if has_cell and given is not None:
            raise ArgumentError("cell", f"{path} has its own cell; do not pass one")
        if not has_cell:
            if given is None:
                raise ArgumentError(
                    "cell", f"{path} frame {k} has no 3-D cell: pass cell= (3×3, Å)"
                )
            frame_cell = given
        positions.append(np.asarray(atoms.positions, dtype=dtype))
        cells.append(frame_cell)
        k += 1
    if not positions:
        raise FileFormatError(path, "no frames")
    source = {
        "path": str(path),
        "format": format or "ase",
        "reader": "lilib.md.readers.read_ase",
        "index": str(index),
    }
    return _unwrapped_trajectory(positions, cells, symbols, dt, temperature_K, dtype, source)


# ---------------------------------------------------------------------------- pymatgen JSON


def read_pmg_diffusion(path: str | Path, *, dtype: type | str = np.float64) -> Trajectory:
    """Read a serialized pymatgen ``DiffusionAnalyzer`` (``as_dict()`` JSON), without pymatgen.

    Positions = initial Cartesian sites + ``displacements`` (unwrapped, Å); the time between
    frames is ``time_step × step_skip`` fs; ``temperature`` K. The analyzer's settings
    (``specie``, ``smoothed``, ...) go into ``source``. Drift is not removed here.
    """
    provenance.record_file(path, "trajectory")
    path = _check_file(path)
    dtype = _check_dtype(dtype)
    try:
        with _open_text(path) as fh:
            d = json.load(fh)
    except (ValueError, OSError, EOFError) as exc:
        raise FileFormatError(path, f"not valid JSON: {exc}") from None
    if not isinstance(d, dict):
        raise FileFormatError(path, "expected a JSON object")
    missing = [k for k in ("structure", "displacements", "time_step", "step_skip") if k not in d]
    if missing:
        raise FileFormatError(
            path, f"missing keys {missing}: not a DiffusionAnalyzer.as_dict() file"
        )
    try:
        structure = d["structure"]
        lattice = np.array(structure["lattice"]["matrix"], dtype=float)
        sites = structure["sites"]
        xyz = np.array(
            [s["xyz"] if "xyz" in s else np.dot(s["abc"], lattice) for s in sites], dtype=float
        )
        symbols = [_site_symbol(s) for s in sites]
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise FileFormatError(
            path, f"'structure' is not a pymatgen Structure dict ({type(exc).__name__}: {exc})"
        ) from None
    if lattice.shape != (3, 3) or xyz.ndim != 2 or xyz.shape[1:] != (3,):
        raise FileFormatError(
            path,
            f"'structure': lattice {lattice.shape}, sites {xyz.shape}: expected (3, 3), (n, 3)",
        )
    try:
        disp = np.asarray(d["displacements"], dtype=float)
    except (ValueError, TypeError):
        raise FileFormatError(path, "'displacements' is not a numeric array") from None
    n_atoms = xyz.shape[0]
    if disp.ndim != 3 or disp.shape[0] != n_atoms or disp.shape[2] != 3 or disp.shape[1] < 1:
        raise FileFormatError(
            path,
            f"'displacements' has shape {disp.shape}; expected ({n_atoms}, n_frames, 3) for "
            f"{n_atoms} sites",
        )
    if not np.isfinite(disp).all() or not np.isfinite(xyz).all():
        raise FileFormatError(path, "non-finite values in 'displacements' or the sites")
    try:
        dt = float(d["time_step"]) * float(d["step_skip"])
    except (TypeError, ValueError):
        raise FileFormatError(path, "'time_step'/'step_skip' are not numbers") from None
    if not 0 < dt < np.inf:
        raise FileFormatError(path, f"time_step × step_skip = {dt} fs is not > 0")
    temperature = d.get("temperature")
    if temperature is not None:
        try:
            temperature = float(temperature)
        except (TypeError, ValueError):
            raise FileFormatError(path, f"'temperature' is not a number: {temperature!r}") from None
        if not temperature > 0:
            raise FileFormatError(path, f"'temperature' is {temperature}, not > 0 K")
    positions = (xyz[:, None, :] + disp).transpose(1, 0, 2).astype(dtype)
    _check_symbols(sorted(set(symbols)), path)
    source = {
        "path": str(path),
        "format": "pymatgen-DiffusionAnalyzer-json",
        "reader": "lilib.md.readers.read_pmg_diffusion",
        "time_step_fs": float(d["time_step"]),
        "step_skip": d["step_skip"],
    }
    source["lilib_version"] = __version__
    for key in ("specie", "smoothed", "min_obs", "avg_nsteps", "weighted", "@module", "@class"):
        if key in d:
            source[key] = d[key]
    return Trajectory(
        positions=positions,
        cell=lattice,
        symbols=symbols,
        timestep_fs=dt,
        temperature_K=temperature,
        unwrapped=True,
        source=source,
    )


def _site_symbol(site: dict) -> str:
    species = site["species"]
    best = max(species, key=lambda s: s.get("occu", 1))
    element = best["element"]
    # pymatgen Species may carry an oxidation state ("Li+"): keep the element
    return "".join(c for c in element if c.isalpha())


# ---------------------------------------------------------------------------- dispatch

_READERS = {
    "xdatcar": read_xdatcar,
    "lammps-dump": read_lammps_dump,
    "ase": read_ase,
    "pmg-diffusion": read_pmg_diffusion,
}


def _format_of(path: Path) -> str:
    name = _stem(path).lower()
    if "xdatcar" in name:
        return "xdatcar"
    if name.endswith((".lammpstrj", ".dump", ".lammpsdump")) or name.startswith("dump."):
        return "lammps-dump"
    if name.endswith(".json"):
        return "pmg-diffusion"
    if name.endswith((".traj", ".xyz", ".extxyz")) or ("vasprun" in name and name.endswith(".xml")):
        return "ase"
    raise ArgumentError(
        "format",
        f"cannot tell the format of {path.name!r}; pass format= one of {sorted(_READERS)} "
        "(or an ASE format name)",
    )


def read_trajectory(path: str | Path, format: str | None = None, **kw: Any) -> Trajectory:
    """Read an MD trajectory, unwrapped, choosing the reader from ``format`` or the file name.

    format: 'xdatcar', 'lammps-dump', 'pmg-diffusion', 'ase' or any ASE format name (read
    through ase.io). Names: *XDATCAR*, *.lammpstrj / *.dump / dump.*, *.json, *.traj / *.xyz /
    *.extxyz / vasprun*.xml (each optionally .gz/.bz2/.xz). ``kw`` go to the reader (e.g.
    timestep_fs).
    """
    path = _check_file(path)
    fmt = format or _format_of(path)
    reader = _READERS.get(fmt)
    if reader is None:
        from ase.io.formats import ioformats

        if fmt not in ioformats:
            raise ArgumentError(
                "format", f"unknown format {fmt!r}; known: {sorted(_READERS)} or an ASE format"
            )
        reader, kw = read_ase, {**kw, "format": fmt}
    import inspect

    accepted = set(inspect.signature(reader).parameters) - {"path"}
    unknown = sorted(set(kw) - accepted)
    if unknown:
        raise ArgumentError(
            unknown[0], f"{reader.__name__} takes no {unknown}; it takes {sorted(accepted)}"
        )
    return reader(path, **kw)
