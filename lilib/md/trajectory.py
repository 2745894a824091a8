"""`Trajectory`: MD positions as one array, with the cell, species and time step.

Positions are Cartesian, Å, shape (n_frames, n_atoms, 3); the cell is fixed, shape (3, 3), or
one per frame, shape (n_frames, 3, 3) (rows are the cell vectors, Å). ``timestep_fs`` is the
time between *stored* frames. The readers in :mod:`lilib.md.readers` return unwrapped
trajectories (``unwrapped=True``); transport functions refuse wrapped ones.

Unwrapping (:meth:`Trajectory.unwrap`) takes each frame-to-frame displacement to its minimum
image in the cell of the later frame: Δ = r(t) − r(t−1), n = round(Δ · h(t)⁻¹),
r_u(t) = r_u(t−1) + Δ − n · h(t). With a fixed cell the image counts add up in integers, so the
result is exact to rounding; with a per-frame (NPT) cell it is the scheme of von Bülow,
Bullerjahn and Hummer (J. Chem. Phys. 153, 021101, 2020) that does not inflate the
displacements of atoms far from the origin. It needs every atom to move less than half a cell
width between stored frames.

Big runs: positions may be float32 (``dtype``), and :meth:`Trajectory.save` /
:meth:`Trajectory.memmap` keep them in a ``.npy`` file that is mapped, not loaded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lilib.errors import ArgumentError, FileFormatError

if TYPE_CHECKING:
    from ase import Atoms

__all__ = ["Trajectory"]

#: frames per chunk in streaming loops (bounds temporary memory on long runs)
_CHUNK_FRAMES = 2048


def _all_finite(a: np.ndarray) -> bool:
    """True when every value is finite; chunked over the first axis (memmaps stay cheap)."""
    if a.ndim == 0 or a.shape[0] <= _CHUNK_FRAMES:
        return bool(np.isfinite(a).all())
    return all(
        bool(np.isfinite(a[i : i + _CHUNK_FRAMES]).all())
        for i in range(0, a.shape[0], _CHUNK_FRAMES)
    )


def _readonly(a: np.ndarray) -> np.ndarray:
    view = a.view()
    view.flags.writeable = False
    return view


def _masses(symbols: np.ndarray) -> np.ndarray:
    from ase.data import atomic_masses, atomic_numbers

    try:
        return np.array([atomic_masses[atomic_numbers[s]] for s in symbols], dtype=float)
    except KeyError as exc:
        raise ArgumentError("symbols", f"{exc.args[0]!r} is not an element symbol") from None


@dataclass(frozen=True, eq=False)
class Trajectory:
    """Positions of all atoms over time.

    positions: (n_frames, n_atoms, 3) Cartesian, Å (float32 or float64).
    cell: (3, 3) or (n_frames, 3, 3), rows are the cell vectors, Å.
    symbols: (n_atoms,) element symbols.
    timestep_fs: time between stored frames, fs.
    temperature_K: of the run, if known. unwrapped: True once periodic jumps are removed.
    source: provenance (file, format, reader settings, processing steps); JSON-serialisable.
    """

    positions: np.ndarray = field(repr=False)
    cell: np.ndarray = field(repr=False)
    symbols: np.ndarray = field(repr=False)
    timestep_fs: float
    temperature_K: float | None = None
    unwrapped: bool = False
    source: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        pos = np.asarray(self.positions)
        if pos.dtype not in (np.float32, np.float64):
            if not np.issubdtype(pos.dtype, np.number):
                raise ArgumentError("positions", f"expected numbers, got dtype {pos.dtype}")
            pos = pos.astype(np.float64)
        if pos.ndim != 3 or pos.shape[2] != 3 or pos.shape[0] < 1 or pos.shape[1] < 1:
            raise ArgumentError(
                "positions", f"expected shape (n_frames, n_atoms, 3), got {pos.shape}"
            )
        if not _all_finite(pos):
            raise ArgumentError("positions", "contains NaN or inf")
        n_frames, n_atoms = pos.shape[:2]

        cell = np.asarray(self.cell, dtype=np.float64)
        if cell.shape not in ((3, 3), (n_frames, 3, 3)):
            raise ArgumentError(
                "cell", f"expected shape (3, 3) or ({n_frames}, 3, 3), got {cell.shape}"
            )
        if not np.all(np.isfinite(cell)):
            raise ArgumentError("cell", "contains NaN or inf")
        volumes = np.abs(np.linalg.det(cell))
        if np.any(volumes < 1e-6):
            raise ArgumentError("cell", "a cell has zero volume (a 3-D periodic cell is needed)")
        if cell.ndim == 3 and np.all(cell == cell[0]):
            cell = cell[0]  # a per-frame cell that never changes: keep one

        symbols = np.asarray(self.symbols, dtype=str)
        if symbols.shape != (n_atoms,):
            raise ArgumentError(
                "symbols", f"expected {n_atoms} symbols (one per atom), got shape {symbols.shape}"
            )
        dt = self.timestep_fs
        if isinstance(dt, bool) or not isinstance(dt, (int, float, np.number)) or not dt > 0:
            raise ArgumentError("timestep_fs", f"must be a number > 0 fs, got {dt!r}")
        if not np.isfinite(dt):
            raise ArgumentError("timestep_fs", f"must be finite, got {dt!r}")
        t = self.temperature_K
        if t is not None and (not isinstance(t, (int, float, np.number)) or not 0 < t < np.inf):
            raise ArgumentError("temperature_K", f"must be None or a number > 0 K, got {t!r}")
        if not isinstance(self.source, dict):
            raise ArgumentError("source", f"must be a dict, got {type(self.source).__name__}")

        object.__setattr__(self, "positions", _readonly(pos))
        object.__setattr__(self, "cell", _readonly(cell))
        object.__setattr__(self, "symbols", _readonly(symbols))
        object.__setattr__(self, "timestep_fs", float(dt))
        object.__setattr__(self, "temperature_K", None if t is None else float(t))
        object.__setattr__(self, "unwrapped", bool(self.unwrapped))
        object.__setattr__(self, "source", dict(self.source))

    # ------------------------------------------------------------------ basic properties

    @property
    def n_frames(self) -> int:
        """Number of stored frames."""
        return int(self.positions.shape[0])

    @property
    def n_atoms(self) -> int:
        """Number of atoms."""
        return int(self.positions.shape[1])

    @property
    def times_fs(self) -> np.ndarray:
        """Time of each frame from the first, fs."""
        return np.arange(self.n_frames) * self.timestep_fs

    @property
    def duration_ps(self) -> float:
        """Time from the first to the last frame, ps."""
        return (self.n_frames - 1) * self.timestep_fs / 1000.0

    @property
    def variable_cell(self) -> bool:
        """True when the cell changes between frames."""
        return self.cell.ndim == 3

    @property
    def cells(self) -> np.ndarray:
        """The cell of every frame, (n_frames, 3, 3) Å (a broadcast view for a fixed cell)."""
        if self.variable_cell:
            return self.cell
        return np.broadcast_to(self.cell, (self.n_frames, 3, 3))

    @property
    def volumes_A3(self) -> np.ndarray:
        """Cell volume of every frame, Å³."""
        return np.abs(np.linalg.det(self.cells))

    @property
    def volume_A3(self) -> float:
        """Mean cell volume over the frames, Å³."""
        return float(self.volumes_A3.mean())

    @property
    def species(self) -> list[str]:
        """Distinct element symbols in order of first appearance."""
        return list(dict.fromkeys(self.symbols.tolist()))

    @property
    def formula(self) -> str:
        """Composition of the cell, e.g. 'Li20Ge2P4S24'."""
        counts = {s: int(np.sum(self.symbols == s)) for s in self.species}
        return "".join(f"{s}{n if n > 1 else ''}" for s, n in counts.items())

    def __repr__(self) -> str:
        return (
            f"Trajectory({self.formula}, n_frames={self.n_frames}, "
            f"timestep_fs={self.timestep_fs:g}, duration_ps={self.duration_ps:g}, "
            f"variable_cell={self.variable_cell}, unwrapped={self.unwrapped}, "
            f"dtype={self.positions.dtype})"
        )

    def __len__(self) -> int:
        return self.n_frames

    # ------------------------------------------------------------------ selections

    def atom_indices(
        self, selection: str | Sequence[str] | Sequence[int] | np.ndarray
    ) -> np.ndarray:
        """Indices of the atoms chosen by an element symbol, symbols, indices or a boolean mask."""
        if isinstance(selection, str):
            selection = [selection]
        sel = np.asarray(selection)
        if sel.size == 0:
            raise ArgumentError("selection", "selects no atoms")
        if sel.dtype == bool:
            if sel.shape != (self.n_atoms,):
                raise ArgumentError(
                    "selection", f"a mask needs {self.n_atoms} entries, got shape {sel.shape}"
                )
            idx = np.flatnonzero(sel)
        elif sel.dtype.kind in "US":
            unknown = sorted(set(sel.tolist()) - set(self.species))
            if unknown:
                raise ArgumentError(
                    "selection", f"no atoms of {unknown} here (species: {self.species})"
                )
            idx = np.flatnonzero(np.isin(self.symbols, sel))
        elif sel.dtype.kind in "iu":
            idx = sel.ravel().astype(np.intp)
            if idx.min() < -self.n_atoms or idx.max() >= self.n_atoms:
                raise ArgumentError(
                    "selection",
                    f"atom indices must lie in [0, {self.n_atoms}), got {idx.tolist()[:8]}",
                )
            idx = np.where(idx < 0, idx + self.n_atoms, idx)
            if np.unique(idx).size != idx.size:
                raise ArgumentError("selection", "repeats atom indices")
        else:
            raise ArgumentError(
                "selection", f"expected symbols, indices or a mask, got dtype {sel.dtype}"
            )
        if idx.size == 0:
            raise ArgumentError("selection", "selects no atoms")
        return idx

    def select(self, selection: str | Sequence[str] | Sequence[int] | np.ndarray) -> Trajectory:
        """A trajectory of some atoms only (by symbol(s), indices or mask); positions copied."""
        idx = self.atom_indices(selection)
        return self._replace(
            positions=self.positions[:, idx, :],
            symbols=self.symbols[idx],
            step=f"select {len(idx)} atoms",
        )

    def slice(self, start: int | None = None, stop: int | None = None, step: int = 1) -> Trajectory:
        """Frames ``start:stop:step`` (step ≥ 1; the time step is multiplied by it)."""
        if not isinstance(step, (int, np.integer)) or step < 1:
            raise ArgumentError("step", f"must be an integer ≥ 1, got {step!r}")
        frames = range(self.n_frames)[start:stop:step]
        if len(frames) == 0:
            raise ArgumentError("start", f"frames {start}:{stop}:{step} select no frame")
        sl = slice(frames.start, frames.stop, frames.step)
        return self._replace(
            positions=self.positions[sl],
            cell=self.cell[sl] if self.variable_cell else self.cell,
            timestep_fs=self.timestep_fs * step,
            step=f"frames {frames.start}:{frames.stop}:{step}",
        )

    def __getitem__(self, key: slice) -> Trajectory:
        if not isinstance(key, slice):
            raise ArgumentError("key", "index a Trajectory with a slice of frames, e.g. traj[100:]")
        return self.slice(key.start, key.stop, 1 if key.step is None else key.step)

    def astype(self, dtype: type | str) -> Trajectory:
        """The same trajectory with positions stored as float32 or float64."""
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ArgumentError("dtype", f"must be float32 or float64, got {dtype}")
        if self.positions.dtype == dtype:
            return self
        return self._replace(positions=self.positions.astype(dtype))

    def _replace(self, *, step: str | None = None, **changes: Any) -> Trajectory:
        source = dict(self.source)
        if step:
            source["processing"] = [*source.get("processing", []), step]
        kw = {
            "positions": self.positions,
            "cell": self.cell,
            "symbols": self.symbols,
            "timestep_fs": self.timestep_fs,
            "temperature_K": self.temperature_K,
            "unwrapped": self.unwrapped,
            "source": source,
        }
        kw.update(changes)
        return Trajectory(**kw)

    # ------------------------------------------------------------------ physics

    def unwrap(self) -> Trajectory:
        """Remove periodic jumps: each step taken to its minimum image (see module doc).

        Returns self when already unwrapped. Works for triclinic and per-frame cells; frame 0
        is kept as it is. Positions keep their dtype; the arithmetic is float64.
        """
        if self.unwrapped:
            return self
        out = np.empty(self.positions.shape, dtype=self.positions.dtype)
        out[0] = self.positions[0]
        fixed = not self.variable_cell
        if fixed:
            h = self.cell
            h_inv = np.linalg.inv(h)
            images = np.zeros((self.n_atoms, 3), dtype=np.int64)
        else:
            shift = np.zeros((self.n_atoms, 3))
        prev = np.asarray(self.positions[0], dtype=np.float64)
        for start in range(1, self.n_frames, _CHUNK_FRAMES):
            stop = min(start + _CHUNK_FRAMES, self.n_frames)
            cur = np.asarray(self.positions[start:stop], dtype=np.float64)
            delta = np.diff(np.concatenate([prev[None], cur]), axis=0)
            if fixed:
                n = np.rint(delta @ h_inv).astype(np.int64)
                counts = images + np.cumsum(n, axis=0)
                out[start:stop] = cur - counts @ h
                images = counts[-1]
            else:
                h = self.cell[start:stop]
                n = np.rint(np.einsum("fak,fkl->fal", delta, np.linalg.inv(h)))
                shifts = shift + np.cumsum(np.einsum("fak,fkl->fal", n, h), axis=0)
                out[start:stop] = cur - shifts
                shift = shifts[-1]
            prev = cur[-1]
        return self._replace(positions=out, unwrapped=True, step="unwrap")

    def remove_drift(
        self,
        framework: str | Sequence[str] | Sequence[int] | np.ndarray | None = None,
        *,
        mobile: str | Sequence[str] | None = None,
        mass_weighted: bool = True,
    ) -> Trajectory:
        """Subtract the framework's centre-of-mass displacement from every atom, every frame.

        framework: the non-mobile atoms (symbols, indices or mask); or give ``mobile`` and the
        framework is every other species. mass_weighted: centre of mass (True) or the plain
        mean of the framework displacements (False, as pymatgen's DiffusionAnalyzer does).
        Needs an unwrapped trajectory.
        """
        if not self.unwrapped:
            raise ArgumentError("trajectory", "positions are wrapped: call unwrap() first")
        if (framework is None) == (mobile is None):
            raise ArgumentError("framework", "give either framework or mobile (not both)")
        if framework is None:
            mob = [mobile] if isinstance(mobile, str) else list(mobile)
            self.atom_indices(mob)  # checks the symbols exist
            idx = np.flatnonzero(~np.isin(self.symbols, mob))
            if idx.size == 0:
                raise ArgumentError("mobile", f"{mob} covers every atom: no framework left")
            label = f"all but {','.join(mob)}"
        else:
            idx = self.atom_indices(framework)
            label = framework if isinstance(framework, str) else f"{len(idx)} framework atoms"
        w = _masses(self.symbols[idx]) if mass_weighted else np.ones(idx.size)
        w = w / w.sum()
        ref = np.asarray(self.positions[0, idx], dtype=np.float64)
        out = np.empty(self.positions.shape, dtype=self.positions.dtype)
        for start in range(0, self.n_frames, _CHUNK_FRAMES):
            stop = min(start + _CHUNK_FRAMES, self.n_frames)
            block = np.asarray(self.positions[start:stop], dtype=np.float64)
            drift = np.einsum("a,fak->fk", w, block[:, idx] - ref)
            out[start:stop] = block - drift[:, None, :]
        kind = "centre of mass" if mass_weighted else "mean"
        return self._replace(positions=out, step=f"remove_drift ({kind} of {label})")

    def framework_drift_A(
        self,
        framework: str | Sequence[str] | Sequence[int] | np.ndarray,
        mass_weighted: bool = True,
    ) -> np.ndarray:
        """Centre-of-mass displacement of the given atoms from frame 0, (n_frames, 3) Å."""
        if not self.unwrapped:
            raise ArgumentError("trajectory", "positions are wrapped: call unwrap() first")
        idx = self.atom_indices(framework)
        w = _masses(self.symbols[idx]) if mass_weighted else np.ones(idx.size)
        w = w / w.sum()
        ref = np.asarray(self.positions[0, idx], dtype=np.float64)
        return np.concatenate(
            [
                np.einsum(
                    "a,fak->fk",
                    w,
                    np.asarray(self.positions[s : s + _CHUNK_FRAMES, idx], dtype=np.float64) - ref,
                )
                for s in range(0, self.n_frames, _CHUNK_FRAMES)
            ]
        )

    # ------------------------------------------------------------------ interoperability

    def to_atoms(self, frame: int = 0, wrap: bool = False) -> Atoms:
        """Frame ``frame`` as an ``ase.Atoms`` (periodic; positions wrapped into the cell if asked)."""
        from ase import Atoms

        if not isinstance(frame, (int, np.integer)) or not -self.n_frames <= frame < self.n_frames:
            raise ArgumentError(
                "frame", f"must be an integer in [0, {self.n_frames}), got {frame!r}"
            )
        atoms = Atoms(
            symbols=self.symbols.tolist(),
            positions=np.asarray(self.positions[frame], dtype=np.float64),
            cell=self.cells[frame],
            pbc=True,
        )
        if wrap:
            atoms.wrap()
        return atoms

    @classmethod
    def from_atoms(
        cls,
        frames: Iterable,
        timestep_fs: float,
        *,
        temperature_K: float | None = None,
        unwrap: bool = True,
        dtype: type | str = np.float64,
        source: dict[str, Any] | None = None,
    ) -> Trajectory:
        """A trajectory from ``ase.Atoms`` frames (any iterable; consumed once, not kept).

        All frames need the same symbols and a 3-D cell. unwrap: remove periodic jumps (a
        no-op on positions that are already continuous).
        """
        positions, cells, symbols = [], [], None
        for k, atoms in enumerate(frames):
            sym = atoms.get_chemical_symbols()
            if symbols is None:
                symbols = sym
            elif sym != symbols:
                raise ArgumentError("frames", f"frame {k} has other atoms than frame 0")
            positions.append(np.asarray(atoms.positions, dtype=dtype))
            cells.append(np.asarray(atoms.cell.array, dtype=np.float64))
        if symbols is None:
            raise ArgumentError("frames", "no frames")
        traj = cls(
            positions=np.stack(positions),
            cell=np.stack(cells),
            symbols=symbols,
            timestep_fs=timestep_fs,
            temperature_K=temperature_K,
            source=dict(source or {"format": "ase.Atoms"}),
        )
        return traj.unwrap() if unwrap else traj

    # ------------------------------------------------------------------ storage

    def save(self, path: str | Path) -> Path:
        """Write positions to ``path`` (.npy) and the rest beside it (.json, + .cell.npy if NPT).

        Returns the .npy path; :meth:`memmap` reads it back without loading the positions.
        """
        path = Path(path)
        if path.suffix != ".npy":
            path = path.with_name(path.name + ".npy")
        stem = path.with_suffix("")
        out = np.lib.format.open_memmap(
            path, mode="w+", dtype=self.positions.dtype, shape=self.positions.shape
        )
        for s in range(0, self.n_frames, _CHUNK_FRAMES):
            out[s : s + _CHUNK_FRAMES] = self.positions[s : s + _CHUNK_FRAMES]
        out.flush()
        del out
        meta = {
            "format": "lilib.md.Trajectory",
            "version": 1,
            "symbols": self.symbols.tolist(),
            "timestep_fs": self.timestep_fs,
            "temperature_K": self.temperature_K,
            "unwrapped": self.unwrapped,
            "source": self.source,
        }
        if self.variable_cell:
            np.save(stem.with_suffix(".cell.npy"), self.cell)
            meta["cell"] = stem.with_suffix(".cell.npy").name
        else:
            meta["cell"] = self.cell.tolist()
        stem.with_suffix(".json").write_text(json.dumps(meta, indent=1, default=str))
        return path

    @classmethod
    def memmap(cls, path: str | Path) -> Trajectory:
        """A trajectory written by :meth:`save`, positions memory-mapped read-only."""
        path = Path(path)
        if path.suffix != ".npy":
            path = path.with_name(path.name + ".npy")
        stem = path.with_suffix("")
        meta_path = stem.with_suffix(".json")
        for p in (path, meta_path):
            if not p.is_file():
                raise FileFormatError(p, "no such file (write it with Trajectory.save)")
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError) as exc:
            raise FileFormatError(meta_path, f"not valid JSON: {exc}") from None
        missing = {"symbols", "timestep_fs", "cell", "unwrapped"} - set(meta)
        if missing:
            raise FileFormatError(meta_path, f"missing keys {sorted(missing)}")
        try:
            positions = np.load(path, mmap_mode="r")
        except (OSError, ValueError) as exc:
            raise FileFormatError(path, f"not a readable .npy file: {exc}") from None
        cell = meta["cell"]
        if isinstance(cell, str):
            cell = np.load(path.parent / cell)
        source = dict(meta.get("source") or {})
        source["memmap"] = str(path)
        try:
            return cls(
                positions=positions,
                cell=cell,
                symbols=meta["symbols"],
                timestep_fs=meta["timestep_fs"],
                temperature_K=meta.get("temperature_K"),
                unwrapped=meta["unwrapped"],
                source=source,
            )
        except ArgumentError as exc:
            raise FileFormatError(path, f"inconsistent with {meta_path.name}: {exc}") from None
