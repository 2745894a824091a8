"""Read and write volumetric charge densities: VASP CHGCAR family, Gaussian cube, XSF.

All readers return a :class:`~lilib.charges.density.Density` in e/Å³ (CHGCAR stores
ρ·V_cell; cube files in bohr store e/bohr³). Grid data are parsed with numpy's C
tokenizer: a 200³ CHGCAR takes about a second. Files may be gzip/bz2/xz compressed.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers, chemical_symbols
from ase.units import Bohr

from lilib import provenance
from lilib.charges.density import Density
from lilib.errors import ArgumentError, FileFormatError

__all__ = ["read_chgcar", "read_cube", "read_density", "read_xsf", "write_chgcar", "write_cube"]

_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
# CHGCAR, CHG, AECCAR0/1/2, PARCHG as a name or a name part (Ni_CHGCAR_spin, PARCHG.0042.ALLK)
_VASP_NAME = re.compile(r"(^|[_.\-])(CHGCAR|CHG|AECCAR[012]|PARCHG|CHGDIFF)([_.\-]|$)")


def _read_text(path: Path) -> str:
    opener = _OPENERS.get(path.suffix.lower(), open)
    try:
        with opener(path, "rt", encoding="ascii", errors="replace") as fh:
            return fh.read()
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise FileFormatError(path, f"cannot read: {exc}") from exc


def _stem(path: Path) -> str:
    return path.name[: -len(path.suffix)] if path.suffix.lower() in _OPENERS else path.name


def _format_of(path: Path) -> str:
    name = _stem(path)
    upper = name.upper()
    if upper.endswith((".CUBE", ".CUB")):
        return "cube"
    if upper.endswith(".XSF"):
        return "xsf"
    if _VASP_NAME.search(upper):
        return "chgcar"
    raise ArgumentError(
        "fmt", f"cannot tell the format of {path.name!r}; pass fmt='chgcar', 'cube' or 'xsf'"
    )


def read_density(
    path: str | Path, fmt: str | None = None, symbols: list[str] | None = None
) -> Density:
    """Read a density file; ``fmt`` is guessed from the name (CHGCAR/AECCAR*/CHG/PARCHG, *.cube, *.xsf).

    symbols: element symbols, one per species, for VASP 4 files that do not name them.
    """
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(path, "no such file")
    fmt = fmt or _format_of(path)
    readers = {"chgcar": read_chgcar, "cube": read_cube, "xsf": read_xsf}
    if fmt not in readers:
        raise ArgumentError("fmt", f"unknown format {fmt!r}; known: {sorted(readers)}")
    if fmt == "chgcar":
        return read_chgcar(path, symbols=symbols)
    return readers[fmt](path)


# ---------------------------------------------------------------------------- helpers


class _Lines:
    """Line cursor over a text with 1-based line numbers and byte offsets for error messages."""

    def __init__(self, path: Path, text: str):
        self.path, self.text = path, text
        self.pos = 0  # character offset of the next line
        self.lineno = 0  # number of the last line returned

    def next(self, what: str) -> str:
        if self.pos >= len(self.text):
            raise FileFormatError(self.path, f"file ends before {what}", line=self.lineno + 1)
        end = self.text.find("\n", self.pos)
        end = len(self.text) if end < 0 else end
        line = self.text[self.pos : end]
        self.pos = end + 1
        self.lineno += 1
        return line

    def floats(self, what: str, n: int | None = None) -> list[float]:
        line = self.next(what)
        try:
            values = [float(v) for v in line.split()]
        except ValueError:
            raise self.error(f"expected numbers for {what}, got {line.strip()!r}") from None
        if n is not None and len(values) < n:
            raise self.error(f"expected {n} numbers for {what}, got {len(values)}")
        return values

    def ints(self, what: str, n: int) -> list[int]:
        line = self.next(what)
        parts = line.split()
        try:
            values = [int(v) for v in parts[:n]]
        except ValueError:
            raise self.error(f"expected {n} integers for {what}, got {line.strip()!r}") from None
        if len(values) != n:
            raise self.error(f"expected {n} integers for {what}, got {line.strip()!r}")
        return values

    def error(self, message: str) -> FileFormatError:
        return FileFormatError(self.path, message, line=self.lineno)

    def line_of(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1


def _parse_block(lines: _Lines, n: int, stop: int, what: str) -> np.ndarray:
    """Exactly the n numbers between lines.pos and offset ``stop``; checks count and finiteness.

    (np.fromstring with ``count`` would pad a short read with uninitialised memory, so the
    slice must hold the block alone and its size is checked.)
    """
    start_line = lines.lineno + 1
    try:
        data = np.fromstring(lines.text[lines.pos : stop], dtype=np.float64, sep=" ")
    except ValueError:
        raise FileFormatError(
            lines.path,
            f"{what}: expected {n} values from line {start_line} on, but non-numeric text "
            "comes first (wrong grid counts or a damaged block)",
            line=start_line,
        ) from None
    if data.size != n:
        raise FileFormatError(
            lines.path,
            f"{what}: expected {n} values from line {start_line} on, found {data.size} "
            "(truncated file or wrong grid counts)",
            line=start_line,
        )
    bad = np.flatnonzero(~np.isfinite(data))
    if bad.size:
        raise FileFormatError(
            lines.path,
            f"{what}: non-finite value (NaN/inf) at grid index {bad[0]}",
            line=start_line,
        )
    return data


def _end_of_lines(text: str, start: int, n_lines: int) -> int:
    """Offset just after the n-th newline from ``start`` (end of text if there are fewer)."""
    newlines = np.flatnonzero(np.frombuffer(text[start:].encode("latin-1"), np.uint8) == 10)
    return len(text) if newlines.size < n_lines else start + int(newlines[n_lines - 1]) + 1


# ---------------------------------------------------------------------------- VASP


def read_chgcar(path: str | Path, symbols: list[str] | None = None) -> Density:
    """Read a VASP CHGCAR/CHG/AECCAR*/PARCHG (VASP 4, 5 and 6 layouts).

    The first grid is ρ·V (returned as ρ in e/Å³); for ISPIN=2 the next grid is the
    magnetization (μB/Å³), for non-collinear runs the next three are its x, y, z parts.
    Augmentation occupancies and per-atom moment lines are skipped.
    """
    provenance.record_file(path)
    path = Path(path)
    text = _read_text(path)
    lines = _Lines(path, text)
    lines.next("the title line")
    scale = lines.floats("the scaling factor", 1)[0]
    lattice = np.array([lines.floats(f"lattice vector {i + 1}", 3)[:3] for i in range(3)])
    if scale < 0:  # negative: target volume in Å³
        lattice *= (-scale / abs(np.linalg.det(lattice))) ** (1.0 / 3.0)
    elif scale > 0:
        lattice *= scale
    else:
        raise lines.error("scaling factor is zero")
    line = lines.next("species names or counts")
    tokens = line.split()
    if tokens and all(t.isdigit() for t in tokens):  # VASP 4: no names line
        counts = [int(t) for t in tokens]
        if symbols is None:
            raise lines.error("VASP 4 layout without element names: pass symbols=[...]")
        names = list(symbols)
    else:
        names = [t.split("/")[0].split("_")[0] for t in tokens]  # VASP 6 may write 'Ni_pv/hash'
        counts = lines.ints("the atom counts", len(names)) if names else []
    if len(names) != len(counts) or not counts:
        raise lines.error(f"{len(names)} element names but {len(counts)} atom counts")
    for name in names:
        if name not in atomic_numbers:
            raise lines.error(f"unknown element {name!r}")
    mode = lines.next("the coordinate mode").strip().lower()
    if mode.startswith("s"):  # selective dynamics
        mode = lines.next("the coordinate mode").strip().lower()
    n_atoms = sum(counts)
    positions = np.array([lines.floats(f"position of atom {i + 1}", 3)[:3] for i in range(n_atoms)])
    if mode.startswith(("c", "k")):
        atoms = Atoms([n for n, c in zip(names, counts) for _ in range(c)],
                      positions=positions * (scale if scale > 0 else 1.0), cell=lattice, pbc=True)  # fmt: skip
    else:
        atoms = Atoms([n for n, c in zip(names, counts) for _ in range(c)],
                      scaled_positions=positions, cell=lattice, pbc=True)  # fmt: skip
    volume = abs(np.linalg.det(lattice))

    blocks: list[np.ndarray] = []
    shape = None
    while True:
        # Next grid header: a line of exactly three positive integers.
        header = _next_grid_header(lines, shape)
        if header is None:
            break
        if shape is None:
            shape = header
        n = int(np.prod(shape))
        # VASP writes the grid in full lines of k values (5 in CHGCAR, 10 in CHG).
        first_end = text.find("\n", lines.pos)
        per_line = len(text[lines.pos : first_end if first_end >= 0 else None].split()) or 1
        stop = _end_of_lines(text, lines.pos, -(-n // per_line))
        data = _parse_block(lines, n, stop, f"grid {len(blocks) + 1}")
        nxt = _find_grid_header(text, stop, shape)
        blocks.append(data.reshape(shape[::-1]).transpose(2, 1, 0) / volume)
        if nxt is None:
            break
        lines.pos = nxt
        lines.lineno = lines.line_of(nxt) - 1
    if not blocks:
        raise FileFormatError(
            path, "no grid found after the atomic positions", line=lines.lineno + 1
        )
    values = np.ascontiguousarray(blocks[0])
    magnetization = None
    if len(blocks) == 2:
        magnetization = np.ascontiguousarray(blocks[1])
    elif len(blocks) == 4:
        magnetization = np.stack([np.ascontiguousarray(b) for b in blocks[1:]])
    elif len(blocks) > 1:
        raise FileFormatError(path, f"{len(blocks)} grids: expected 1 (no spin), 2 or 4")
    return Density(atoms, values, magnetization, source=str(path), fmt="chgcar")


_GRID_LINE = re.compile(r"^[ \t]*(\d+)[ \t]+(\d+)[ \t]+(\d+)[ \t]*\r?$", re.M)


def _find_grid_header(text: str, start: int, shape: tuple[int, int, int]) -> int | None:
    """Offset of the next line repeating the grid counts (start of the next grid), or None."""
    pattern = re.compile(r"^[ \t]*{}[ \t]+{}[ \t]+{}[ \t]*\r?$".format(*shape), re.M)
    match = pattern.search(text, start)
    return None if match is None else match.start()


def _next_grid_header(lines: _Lines, shape) -> tuple[int, int, int] | None:
    """Read the grid-counts line (skipping a blank line first); None at the end of the file."""
    while lines.pos < len(lines.text):
        line = lines.next("the grid counts")
        if not line.strip():
            continue
        match = _GRID_LINE.match(line)
        if match is None:
            raise lines.error(f"expected three grid counts, got {line.strip()!r}")
        counts = tuple(int(g) for g in match.groups())
        if min(counts) <= 0:
            raise lines.error(f"grid counts must be positive, got {counts}")
        if shape is not None and counts != shape:
            raise lines.error(f"grid {counts} differs from the first grid {shape}")
        return counts
    return None


def write_chgcar(density: Density, path: str | Path, title: str | None = None) -> Path:
    """Write a VASP 5 CHGCAR (ρ·V, x fastest, 5 values a line; magnetization block if present)."""
    path = Path(path)
    atoms = density.atoms
    symbols = atoms.get_chemical_symbols()
    order = np.argsort([symbols.index(s) for s in symbols], kind="stable")
    species = list(dict.fromkeys(symbols[i] for i in order))
    counts = [symbols.count(s) for s in species]
    volume = abs(np.linalg.det(density.cell))
    out = [title or atoms.get_chemical_formula(), "   1.00000000000000"]
    out += ["  " + " ".join(f"{x:12.6f}" for x in vec) for vec in density.cell]
    out += ["   " + "   ".join(species), "   " + "   ".join(str(c) for c in counts), "Direct"]
    out += [
        "  " + " ".join(f"{x:10.6f}" for x in pos) for pos in atoms.get_scaled_positions()[order]
    ]
    out.append("")
    grids = [density.values]
    if density.magnetization is not None:
        mag = density.magnetization
        grids += [mag] if mag.ndim == 3 else list(mag)
    with open(path, "w", encoding="ascii") as fh:
        fh.write("\n".join(out) + "\n")
        for i, grid in enumerate(grids):
            if i:
                fh.write(" ".join(["0.0"] * len(atoms)) + "\n")  # per-atom moments line
            fh.write("   {}   {}   {}\n".format(*grid.shape))
            _write_values(fh, (grid * volume).transpose(2, 1, 0).ravel(), 5, "{: .11E}")
    return path


def _write_values(fh, flat: np.ndarray, per_line: int, fmt: str) -> None:
    n_full = flat.size // per_line * per_line
    if n_full:
        line_fmt = " ".join([fmt] * per_line) + "\n"
        fh.write("".join(line_fmt.format(*row) for row in flat[:n_full].reshape(-1, per_line)))
    if flat.size > n_full:
        fh.write(" ".join(fmt.format(v) for v in flat[n_full:]) + "\n")


# ---------------------------------------------------------------------------- cube


def read_cube(path: str | Path) -> Density:
    """Read a Gaussian cube file (bohr units when grid counts are positive, Å when negative).

    The cell is n_i × voxel vector i; values are converted to e/Å³ (from e/bohr³ in bohr files).
    """
    provenance.record_file(path)
    path = Path(path)
    text = _read_text(path)
    lines = _Lines(path, text)
    lines.next("the first comment line")
    lines.next("the second comment line")
    head = lines.floats("the atom count and origin", 4)
    n_atoms_signed = int(head[0])
    if head[0] != n_atoms_signed:
        raise lines.error(f"atom count must be an integer, got {head[0]}")
    n_atoms = abs(n_atoms_signed)
    if n_atoms == 0:
        raise lines.error("no atoms in the cube file")
    origin = np.array(head[1:4])
    counts, vectors = [], []
    for axis in range(3):
        row = lines.floats(f"grid axis {axis + 1}", 4)
        if row[0] != int(row[0]) or row[0] == 0:
            raise lines.error(f"grid axis {axis + 1}: point count must be a nonzero integer")
        counts.append(int(row[0]))
        vectors.append(row[1:4])
        if (counts[-1] > 0) != (counts[0] > 0):
            raise lines.error(f"grid counts {counts} mix bohr (positive) and Å (negative) units")
    unit = Bohr if counts[0] > 0 else 1.0
    shape = tuple(abs(n) for n in counts)
    voxel = np.array(vectors) * unit
    numbers, positions = [], []
    for i in range(n_atoms):
        row = lines.floats(f"atom {i + 1}", 5)
        z = int(row[0])
        if z != row[0] or not 0 < z < len(chemical_symbols):
            raise lines.error(f"atom {i + 1}: invalid atomic number {row[0]}")
        numbers.append(z)
        positions.append(np.array(row[2:5]) * unit)
    if n_atoms_signed < 0:  # orbital cube: one line of dataset ids
        lines.next("the dataset ids")
    cell = voxel * np.array(shape)[:, None]
    atoms = Atoms(numbers=numbers, positions=np.array(positions), cell=cell, pbc=True)
    data = _parse_block(lines, int(np.prod(shape)), len(text), "grid data")
    values = data.reshape(shape) / unit**3  # cube data run to the end of the file
    return Density(atoms, np.ascontiguousarray(values), origin=origin * unit, source=str(path),
                   fmt="cube")  # fmt: skip


def write_cube(density: Density, path: str | Path, comment: str = "") -> Path:
    """Write a Gaussian cube file in bohr units (values in e/bohr³, z fastest)."""
    path = Path(path)
    atoms = density.atoms
    shape = density.shape
    voxel = density.cell / np.array(shape)[:, None] / Bohr
    out = ["lilib density (e/bohr^3)", comment or atoms.get_chemical_formula()]
    out.append("{:5d} {:12.6f} {:12.6f} {:12.6f}".format(len(atoms), *(density.origin / Bohr)))
    for n, vec in zip(shape, voxel):
        out.append("{:5d} {:12.6f} {:12.6f} {:12.6f}".format(n, *vec))
    for z, pos in zip(atoms.numbers, atoms.positions / Bohr):
        out.append("{:5d} {:12.6f} {:12.6f} {:12.6f} {:12.6f}".format(z, float(z), *pos))
    with open(path, "w", encoding="ascii") as fh:
        fh.write("\n".join(out) + "\n")
        _write_values(fh, (density.values * Bohr**3).ravel(), 6, "{: .5E}")
    return path


# ---------------------------------------------------------------------------- XSF


def read_xsf(path: str | Path) -> Density:
    """Read the first DATAGRID_3D block of an XSF file (periodic general grid, Å).

    XSF grids repeat the first plane at the end of each axis; the duplicate is dropped.
    Values are taken as e/Å³.
    """
    provenance.record_file(path)
    from ase.io import read

    path = Path(path)
    text = _read_text(path)
    try:
        atoms = read(path, format="xsf")
    except Exception as exc:  # ASE raises assorted errors on broken structure blocks
        raise FileFormatError(path, f"cannot read the structure: {exc}") from exc
    begin = re.search(r"^\s*BEGIN_DATAGRID_3D\S*\s*$", text, re.M)
    if begin is None:
        raise FileFormatError(path, "no BEGIN_DATAGRID_3D block")
    lines = _Lines(path, text)
    lines.pos, lines.lineno = begin.end() + 1, lines.line_of(begin.end())
    counts = lines.ints("the grid counts", 3)
    if min(counts) < 2:
        raise lines.error(f"grid counts {counts}: need at least 2 points per axis")
    origin = np.array(lines.floats("the grid origin", 3)[:3])
    span = np.array([lines.floats(f"spanning vector {i + 1}", 3)[:3] for i in range(3)])
    end = text.find("END_DATAGRID_3D", lines.pos)
    if end < 0:
        raise FileFormatError(path, "missing END_DATAGRID_3D", line=lines.lineno)
    data = _parse_block(lines, int(np.prod(counts)), end, "grid data")
    grid = data.reshape(counts[::-1]).transpose(2, 1, 0)[:-1, :-1, :-1]
    if not np.allclose(span, np.asarray(atoms.cell), atol=1e-4):
        atoms.set_cell(span, scale_atoms=False)
    return Density(atoms, np.ascontiguousarray(grid), origin=origin, source=str(path), fmt="xsf")
