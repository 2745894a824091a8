"""Trajectory type and readers: validation, exact unwrapping, drift removal, storage, file
formats written here (round trips against known positions), malformed files, real data."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from ase import Atoms

from lilib.config import shared_data_dir
from lilib.errors import ArgumentError, FileFormatError, LilibError
from lilib.md import (
    Trajectory,
    read_ase,
    read_lammps_dump,
    read_pmg_diffusion,
    read_trajectory,
    read_xdatcar,
)

SHARED = shared_data_dir()
MD = SHARED / "md" if SHARED is not None and (SHARED / "md").is_dir() else None
needs_md = pytest.mark.skipif(
    MD is None, reason="shared/data/md (real MD trajectories) not present"
)

TRICLINIC = np.array([[7.0, 0.0, 0.0], [2.1, 6.5, 0.0], [-1.4, 1.2, 8.0]])


def walk(n_frames=300, symbols=("Li",) * 6 + ("S",) * 4, step_A=0.35, cell=TRICLINIC, seed=0):
    """Unwrapped Cartesian random walk starting inside ``cell`` (n_frames, n_atoms, 3)."""
    rng = np.random.default_rng(seed)
    start = rng.random((len(symbols), 3)) @ cell
    steps = rng.normal(0.0, step_A, (n_frames - 1, len(symbols), 3))
    return start + np.concatenate([np.zeros((1, len(symbols), 3)), np.cumsum(steps, axis=0)])


def wrap(positions, cell):
    """Positions folded into the cell (per-frame cells allowed)."""
    cells = np.broadcast_to(cell, (positions.shape[0], 3, 3))
    frac = np.einsum("fak,fkl->fal", positions, np.linalg.inv(cells))
    return np.einsum("fak,fkl->fal", frac - np.floor(frac), cells), frac - np.floor(frac)


def make(positions, cell=TRICLINIC, symbols=None, unwrapped=True, **kw):
    symbols = symbols or ["Li"] * 6 + ["S"] * 4
    return Trajectory(
        positions, cell, symbols, kw.pop("timestep_fs", 10.0), unwrapped=unwrapped, **kw
    )


# ---------------------------------------------------------------------------- the type


def test_basic_properties_and_selection():
    pos = walk(50)
    tr = make(pos, temperature_K=600)
    assert (tr.n_frames, tr.n_atoms) == (50, 10)
    assert tr.formula == "Li6S4" and tr.species == ["Li", "S"]
    np.testing.assert_allclose(tr.times_fs, np.arange(50) * 10.0)
    assert tr.duration_ps == pytest.approx(0.49)
    assert tr.volume_A3 == pytest.approx(abs(np.linalg.det(TRICLINIC)))
    li = tr.select("Li")
    assert li.n_atoms == 6 and set(li.symbols) == {"Li"}
    np.testing.assert_array_equal(tr.select([9, 0]).positions[:, 0], pos[:, 9])
    np.testing.assert_array_equal(tr.atom_indices(tr.symbols == "S"), np.arange(6, 10))
    sub = tr[10:40:3]
    assert sub.n_frames == 10 and sub.timestep_fs == 30.0
    np.testing.assert_array_equal(sub.positions, pos[10:40:3])
    assert "frames 10:40:3" in sub.source["processing"]
    assert tr.astype(np.float32).positions.dtype == np.float32
    atoms = tr.to_atoms(3)
    assert isinstance(atoms, Atoms) and atoms.get_chemical_formula() == "Li6S4"
    np.testing.assert_allclose(atoms.positions, pos[3])
    assert np.all(atoms.pbc) and not tr.positions.flags.writeable
    assert "Li6S4" in repr(tr)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"positions": np.zeros((5, 10))}, "positions"),
        ({"positions": np.full((5, 10, 3), np.nan)}, "positions"),
        ({"cell": np.eye(2)}, "cell"),
        ({"cell": np.zeros((3, 3))}, "cell"),
        ({"cell": np.ones((4, 3, 3))}, "cell"),
        ({"symbols": ["Li"] * 9}, "symbols"),
        ({"timestep_fs": 0.0}, "timestep_fs"),
        ({"timestep_fs": "2"}, "timestep_fs"),
        ({"temperature_K": -5.0}, "temperature_K"),
    ],
)
def test_validation_names_the_argument(kwargs, name):
    args = {
        "positions": np.zeros((5, 10, 3)),
        "cell": np.eye(3) * 5,
        "symbols": ["Li"] * 10,
        "timestep_fs": 1.0,
    }
    args.update(kwargs)
    with pytest.raises(ArgumentError) as info:
        Trajectory(**args)
    assert info.value.name == name


def test_bad_selections():
    tr = make(walk(5))
    for sel, msg in (("Na", "no atoms"), ([10], "indices"), ([1, 1], "repeats"), ([], "no atoms")):
        with pytest.raises(ArgumentError, match=msg):
            tr.select(sel)
    with pytest.raises(ArgumentError):
        tr.slice(step=0)
    with pytest.raises(ArgumentError):
        tr[3]


def test_unwrap_triclinic_is_exact():
    true = walk(400, step_A=0.6)
    wrapped, _ = wrap(true, TRICLINIC)
    assert np.abs(np.diff(wrapped, axis=0)).max() > 3.0  # there are jumps to undo
    tr = make(wrapped, unwrapped=False)
    un = tr.unwrap()
    assert un.unwrapped and un.unwrap() is un
    np.testing.assert_allclose(un.positions, true, atol=1e-9)
    # a second pass over unwrapped positions changes nothing
    again = make(un.positions, unwrapped=False).unwrap()
    np.testing.assert_allclose(again.positions, true, atol=1e-9)


def test_unwrap_per_frame_cells():
    true = walk(300, step_A=0.4)
    # the same cell given per frame: exact
    same = np.repeat(TRICLINIC[None], 300, axis=0)
    wrapped, _ = wrap(true, same)
    tr = make(wrapped, cell=same + 0.0, unwrapped=False)
    assert not tr.variable_cell  # an unchanging per-frame cell is stored once
    np.testing.assert_allclose(tr.unwrap().positions, true, atol=1e-9)
    # a breathing cell (NPT-like): steps stay continuous; the error is bounded by
    # (image count) × (cell change), it does not grow with time
    scale = 1.0 + 0.02 * np.sin(np.linspace(0, 6 * np.pi, 300))
    cells = TRICLINIC[None] * scale[:, None, None]
    wrapped, _ = wrap(true, cells)
    un = make(wrapped, cell=cells, unwrapped=False).unwrap()
    assert un.variable_cell
    step_err = np.abs(np.diff(un.positions, axis=0) - np.diff(true, axis=0)).max()
    assert step_err < 0.05 * np.abs(TRICLINIC).max() * 4
    frac_true = np.einsum("fak,fkl->fal", true, np.linalg.inv(cells))
    k_max = np.abs(np.floor(frac_true)).max()
    bound = (k_max + 1) * 3 * np.abs(cells - cells[0]).max() + 1e-9
    assert np.abs(un.positions - true).max() <= bound


def test_remove_drift_removes_an_imposed_framework_drift():
    rng = np.random.default_rng(3)
    n_frames, symbols = 200, ["Li"] * 6 + ["S"] * 4
    still = np.repeat(rng.random((1, 10, 3)) * 7, n_frames, axis=0)
    vibration = rng.normal(0, 0.05, still.shape)
    vibration[:, 6:] -= vibration[:, 6:].mean(axis=1, keepdims=True)  # framework COM fixed
    drift = np.cumsum(rng.normal(0, 0.1, (n_frames, 3)), axis=0)
    drift -= drift[0]
    tr = make(still + vibration + drift[:, None, :], symbols=symbols)
    np.testing.assert_allclose(tr.framework_drift_A("S"), drift, atol=1e-12)
    fixed = tr.remove_drift(mobile="Li")
    np.testing.assert_allclose(fixed.positions, still + vibration, atol=1e-12)
    np.testing.assert_allclose(tr.remove_drift("S", mass_weighted=False).positions, fixed.positions)
    assert "remove_drift" in fixed.source["processing"][-1]
    with pytest.raises(ArgumentError, match="wrapped"):
        make(tr.positions, unwrapped=False).remove_drift(mobile="Li")
    with pytest.raises(ArgumentError, match="either"):
        tr.remove_drift()
    with pytest.raises(ArgumentError, match="no framework"):
        tr.remove_drift(mobile=["Li", "S"])


def _is_mapped(a) -> bool:
    import mmap

    while a is not None:
        if isinstance(a, (np.memmap, mmap.mmap)):
            return True
        a = getattr(a, "base", None)
    return False


def test_save_and_memmap_round_trip(tmp_path):
    tr = make(walk(60), temperature_K=450.0, source={"path": "x"}).astype(np.float32)
    path = tr.save(tmp_path / "run")
    assert path.suffix == ".npy" and (tmp_path / "run.json").is_file()
    back = Trajectory.memmap(path)
    assert _is_mapped(back.positions)
    assert back.positions.dtype == np.float32 and not back.positions.flags.writeable
    np.testing.assert_array_equal(back.positions, tr.positions)
    assert (
        back.temperature_K == 450.0
        and back.unwrapped
        and back.symbols.tolist() == tr.symbols.tolist()
    )
    # per-frame cells go to a side file
    cells = np.repeat(TRICLINIC[None], 60, axis=0) * np.linspace(1, 1.01, 60)[:, None, None]
    npt = make(walk(60), cell=cells)
    back = Trajectory.memmap(npt.save(tmp_path / "npt.npy"))
    np.testing.assert_allclose(back.cell, cells)
    with pytest.raises(FileFormatError, match="no such file"):
        Trajectory.memmap(tmp_path / "absent.npy")
    (tmp_path / "bad.npy").write_bytes(b"not numpy")
    (tmp_path / "bad.json").write_text(
        json.dumps({"symbols": [], "timestep_fs": 1, "cell": [], "unwrapped": 1})
    )
    with pytest.raises(FileFormatError, match=r"bad\.npy"):
        Trajectory.memmap(tmp_path / "bad.npy")


def test_from_atoms_unwraps():
    true = walk(40, step_A=0.5, cell=np.eye(3) * 6)
    wrapped, _ = wrap(true, np.eye(3) * 6)
    frames = (
        Atoms(["Li"] * 6 + ["S"] * 4, positions=p, cell=np.eye(3) * 6, pbc=True) for p in wrapped
    )
    tr = Trajectory.from_atoms(frames, timestep_fs=5.0)
    np.testing.assert_allclose(tr.positions, true, atol=1e-9)
    with pytest.raises(ArgumentError, match="no frames"):
        Trajectory.from_atoms([], timestep_fs=1.0)


# ---------------------------------------------------------------------------- XDATCAR


def write_xdatcar(
    path, frac, cells, species=("Li", "S"), counts=(6, 4), vasp4=False, scale=1.0, cartesian=False
):
    """An XDATCAR with one header (fixed cell) or a header per frame (per-frame cells)."""
    variable = cells.ndim == 3
    out = []

    def header(cell):
        out.append("test system")
        out.append(f"   {scale:.6f}")
        out.extend("  " + " ".join(f"{v:.12f}" for v in row / abs(scale)) for row in cell)
        if not vasp4:
            out.append("   " + "   ".join(species))
        out.append("   " + "   ".join(str(c) for c in counts))

    if not variable:
        header(cells)
    for k, f in enumerate(frac):
        if variable:
            header(cells[k])
        if cartesian:  # Cartesian coordinates are in units of the scale factor, like the cell
            out.append(f"Cartesian configuration= {k + 1:6d}")
            f = f @ (cells[k] if variable else cells) / scale
        else:
            out.append(f"Direct configuration= {k + 1:6d}")
        out.extend(" ".join(f"{v:.12f}" for v in row) for row in f)
    text = "\n".join(out) + "\n"
    if str(path).endswith(".gz"):
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def test_xdatcar_fixed_cell_gz(tmp_path):
    true = walk(120, step_A=0.5)
    _, frac = wrap(true, TRICLINIC)
    path = write_xdatcar(tmp_path / "XDATCAR.gz", frac, TRICLINIC)
    tr = read_xdatcar(path, timestep_fs=20.0, temperature_K=700.0)
    assert tr.unwrapped and tr.timestep_fs == 20.0 and tr.temperature_K == 700.0
    assert tr.symbols.tolist() == ["Li"] * 6 + ["S"] * 4
    np.testing.assert_allclose(tr.positions, true, atol=1e-8)
    assert tr.source["format"] == "vasp-xdatcar" and not tr.source["variable_cell"]
    assert read_trajectory(path, timestep_fs=20.0, dtype=np.float32).positions.dtype == np.float32


def test_xdatcar_variable_cell_and_vasp4(tmp_path):
    true = walk(80, step_A=0.3)
    cells = TRICLINIC[None] * np.linspace(1.0, 1.03, 80)[:, None, None]
    wrapped, frac = wrap(true, cells)
    tr = read_xdatcar(write_xdatcar(tmp_path / "XDATCAR_npt", frac, cells), timestep_fs=5.0)
    assert tr.variable_cell and tr.source["variable_cell"]
    np.testing.assert_allclose(tr.cell, cells, atol=1e-10)
    expected = make(wrapped, cell=cells, unwrapped=False).unwrap().positions
    np.testing.assert_allclose(tr.positions, expected, atol=1e-8)
    # VASP 4: no symbols line; a negative scale factor is the volume
    _, frac = wrap(walk(10), TRICLINIC)
    vol = abs(np.linalg.det(TRICLINIC))
    path = write_xdatcar(tmp_path / "XDATCAR4", frac, TRICLINIC, vasp4=True, scale=-vol)
    with pytest.raises(ArgumentError, match="symbols"):
        read_xdatcar(path, timestep_fs=1.0)
    tr = read_xdatcar(path, timestep_fs=1.0, symbols=["Li", "S"])
    np.testing.assert_allclose(tr.cell, TRICLINIC, atol=1e-9)
    # Cartesian configurations scale with the (positive) scale factor
    true = walk(10)
    _, frac = wrap(true, TRICLINIC)
    path = write_xdatcar(tmp_path / "XDATCAR_cart", frac, TRICLINIC, scale=2.0, cartesian=True)
    np.testing.assert_allclose(read_xdatcar(path, timestep_fs=1.0).positions, true, atol=1e-9)


def test_xdatcar_needs_a_timestep(tmp_path):
    _, frac = wrap(walk(3), TRICLINIC)
    path = write_xdatcar(tmp_path / "XDATCAR", frac, TRICLINIC)
    with pytest.raises(ArgumentError) as info:
        read_trajectory(path)
    assert info.value.name == "timestep_fs"


def test_xdatcar_truncated(tmp_path):
    _, frac = wrap(walk(5), TRICLINIC)
    good = write_xdatcar(tmp_path / "XDATCAR", frac, TRICLINIC).read_text().splitlines()
    cut = tmp_path / "cut_XDATCAR"
    cut.write_text("\n".join(good[:-3]) + "\n")
    with pytest.raises(FileFormatError) as info:
        read_xdatcar(cut, timestep_fs=1.0)
    assert info.value.path == cut and "truncated" in str(info.value)
    assert "configuration 5" in str(info.value) and info.value.line == len(good) - 2
    tr = read_xdatcar(cut, timestep_fs=1.0, allow_truncated=True)
    assert tr.n_frames == 4
    header_only = tmp_path / "head_XDATCAR"
    header_only.write_text("\n".join(good[:4]) + "\n")
    with pytest.raises(FileFormatError, match="lattice vector 3"):
        read_xdatcar(header_only, timestep_fs=1.0)
    nothing = tmp_path / "empty_XDATCAR"
    nothing.write_text("\n".join(good[:7]) + "\n")
    with pytest.raises(FileFormatError, match="no configurations"):
        read_xdatcar(nothing, timestep_fs=1.0)


def test_xdatcar_non_numeric_coordinate_line(tmp_path):
    _, frac = wrap(walk(4), TRICLINIC)
    lines = write_xdatcar(tmp_path / "XDATCAR", frac, TRICLINIC).read_text().splitlines()
    bad_line = 8 + 11 + 3  # header (7) + frame 1 (1 + 10 lines) + 3rd line of frame 2
    lines[bad_line - 1] = "0.1 abc 0.3"
    path = tmp_path / "bad_XDATCAR.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    with pytest.raises(FileFormatError) as info:
        read_xdatcar(path, timestep_fs=1.0)
    assert info.value.line == bad_line and "abc" in str(info.value)
    assert str(path) in str(info.value)
    lines[bad_line - 1] = "0.1 0.2"  # too few numbers
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FileFormatError) as info:
        read_xdatcar(path, timestep_fs=1.0)
    assert info.value.line == bad_line


# ---------------------------------------------------------------------------- LAMMPS dump


def lammps_box(cell, origin=(0.5, -1.0, 2.0)):
    """BOX BOUNDS lines (bounding box + tilts) of a LAMMPS-style (lower-triangular) cell."""
    (lx, _, _), (xy, ly, _), (xz, yz, lz) = cell
    xlo, ylo, zlo = origin
    bx = (xlo + min(0, xy, xz, xy + xz), xlo + lx + max(0, xy, xz, xy + xz))
    by = (ylo + min(0, yz), ylo + ly + max(0, yz))
    return [f"{bx[0]} {bx[1]} {xy}", f"{by[0]} {by[1]} {xz}", f"{zlo} {zlo + lz} {yz}"]


POSITION_COLUMNS = {
    f"{a}{suffix}": (key, k)
    for k, a in enumerate("xyz")
    for suffix, key in (("", "x"), ("s", "xs"), ("u", "xu"), ("su", "xsu"))
}
IMAGE_COLUMNS = {"ix": 0, "iy": 1, "iz": 2}


def write_dump(
    path, positions, cell, columns="id type x y z", steps=None, types=None, seed=1, drop=None
):
    """A LAMMPS text dump of ``positions`` (absolute Cartesian, Å) with shuffled atom order."""
    rng = np.random.default_rng(seed)
    n_frames, n_atoms = positions.shape[:2]
    types = types if types is not None else [1] * 6 + [2] * 4
    origin = np.array([0.5, -1.0, 2.0])
    inv = np.linalg.inv(cell)
    out = []
    names = columns.split()
    for k in range(n_frames):
        out += ["ITEM: TIMESTEP", str(steps[k] if steps is not None else 100 * k)]
        out += ["ITEM: NUMBER OF ATOMS", str(n_atoms), "ITEM: BOX BOUNDS xy xz yz pp pp pp"]
        out += lammps_box(cell, origin)
        out.append("ITEM: ATOMS " + " ".join(n for n in names if n != drop))
        frac = (positions[k] - origin) @ inv
        image = np.floor(frac)
        values = {
            "xs": frac - image,
            "x": (frac - image) @ cell + origin,
            "xu": positions[k],
            "xsu": frac,
            "ix": image,
        }
        for i in rng.permutation(n_atoms):
            row = []
            for n in names:
                if n == drop:
                    continue
                if n == "id":
                    row.append(str(i + 1))
                elif n == "type":
                    row.append(str(types[i]))
                elif n == "element":
                    row.append(["Li", "S"][types[i] - 1])
                elif n in IMAGE_COLUMNS:
                    row.append(str(int(values["ix"][i, IMAGE_COLUMNS[n]])))
                else:
                    key, axis = POSITION_COLUMNS[n]
                    row.append(f"{values[key][i, axis]:.12f}")
            out.append(" ".join(row))
    path.write_text("\n".join(out) + "\n")
    return path


@pytest.mark.parametrize(
    "columns",
    [
        "id type x y z",
        "id type xs ys zs",
        "id type xu yu zu",
        "id element xsu ysu zsu",
        "id type x y z ix iy iz",
    ],
)
def test_lammps_dump_columns_triclinic(tmp_path, columns):
    true = walk(60, step_A=0.5) + np.array([0.5, -1.0, 2.0])
    path = write_dump(tmp_path / "run.lammpstrj", true, TRICLINIC, columns=columns)
    tr = read_trajectory(path, md_step_fs=2.0, type_map={1: "Li", 2: "S"})
    assert tr.timestep_fs == 200.0 and tr.symbols.tolist() == ["Li"] * 6 + ["S"] * 4
    np.testing.assert_allclose(tr.cell, TRICLINIC, atol=1e-10)
    # wrapped columns unwrap to the true path up to the lattice vector of frame 0
    shift = tr.positions[0] - true[0]
    frac_shift = shift @ np.linalg.inv(TRICLINIC)
    np.testing.assert_allclose(frac_shift, np.rint(frac_shift), atol=1e-9)
    np.testing.assert_allclose(tr.positions - shift, true, atol=1e-8)


def test_lammps_dump_units_and_timestep(tmp_path):
    true = walk(5)
    path = write_dump(
        tmp_path / "dump.nano", true / 10.0, TRICLINIC / 10.0, columns="id type xu yu zu"
    )
    tr = read_lammps_dump(path, timestep_fs=50.0, type_map=["Li", "S"], units="nano")
    np.testing.assert_allclose(tr.positions, true, atol=1e-9)
    assert tr.timestep_fs == 50.0
    uneven = write_dump(tmp_path / "uneven.dump", true, TRICLINIC, steps=[0, 10, 20, 35, 40])
    with pytest.raises(FileFormatError, match="evenly"):
        read_lammps_dump(uneven, md_step_fs=1.0, type_map=["Li", "S"])
    with pytest.raises(ArgumentError) as info:
        read_lammps_dump(path, timestep_fs=1.0)
    assert info.value.name == "type_map"
    with pytest.raises(ArgumentError, match="either"):
        read_lammps_dump(path, type_map=["Li", "S"])
    with pytest.raises(ArgumentError):
        read_lammps_dump(path, timestep_fs=1.0, type_map=["Li", "S"], units="lj")


def test_lammps_dump_malformed(tmp_path):
    true = walk(3)
    path = write_dump(tmp_path / "a.dump", true, TRICLINIC, columns="id type x y z", drop="z")
    with pytest.raises(FileFormatError) as info:
        read_lammps_dump(path, timestep_fs=1.0, type_map=["Li", "S"])
    assert info.value.line == 9 and "position columns" in str(info.value)
    lines = write_dump(tmp_path / "b.dump", true, TRICLINIC).read_text().splitlines()
    lines[12] = " ".join(lines[12].split()[:4])  # an atom line missing its z
    (tmp_path / "b.dump").write_text("\n".join(lines) + "\n")
    with pytest.raises(FileFormatError) as info:
        read_lammps_dump(tmp_path / "b.dump", timestep_fs=1.0, type_map=["Li", "S"])
    assert info.value.line == 13 and "4 fields" in str(info.value)
    lines = write_dump(tmp_path / "c.dump", true, TRICLINIC).read_text().splitlines()
    (tmp_path / "c.dump").write_text("\n".join(lines[:-4]) + "\n")
    with pytest.raises(FileFormatError, match="truncated"):
        read_lammps_dump(tmp_path / "c.dump", timestep_fs=1.0, type_map=["Li", "S"])
    lines[12] = lines[12].replace(lines[12].split()[2], "nan?", 1)
    (tmp_path / "d.dump").write_text("\n".join(lines) + "\n")
    with pytest.raises(FileFormatError) as info:
        read_lammps_dump(tmp_path / "d.dump", timestep_fs=1.0, type_map=["Li", "S"])
    assert info.value.line == 13
    (tmp_path / "e.dump").write_text("ITEM: TIMESTEP\n0\nITEM: ATOMS id type x y z\n")
    with pytest.raises(FileFormatError, match="before"):
        read_lammps_dump(tmp_path / "e.dump", timestep_fs=1.0, type_map=["Li", "S"])


# ---------------------------------------------------------------------------- ASE formats


def test_ase_extxyz_and_traj(tmp_path):
    import ase.io

    true = walk(30, step_A=0.5)
    wrapped, _ = wrap(true, TRICLINIC)
    frames = [Atoms(["Li"] * 6 + ["S"] * 4, positions=p, cell=TRICLINIC, pbc=True) for p in wrapped]
    ase.io.write(tmp_path / "md.extxyz", frames)
    ase.io.write(tmp_path / "md.traj", frames)
    for name in ("md.extxyz", "md.traj"):
        tr = read_trajectory(tmp_path / name, timestep_fs=4.0)
        np.testing.assert_allclose(tr.positions, true, atol=1e-6)
        assert tr.source["reader"].endswith("read_ase")
    tr = read_ase(tmp_path / "md.traj", timestep_fs=8.0, index="::2")
    assert tr.n_frames == 15
    # plain XYZ has no cell
    plain = tmp_path / "plain.xyz"
    plain.write_text(
        "".join(
            f"10\nframe {k}\n"
            + "".join(f"{s} {x} {y} {z}\n" for s, (x, y, z) in zip(["Li"] * 6 + ["S"] * 4, p))
            for k, p in enumerate(wrapped)
        )
    )
    with pytest.raises(ArgumentError) as info:
        read_trajectory(plain, timestep_fs=1.0)
    assert info.value.name == "cell"
    tr = read_trajectory(plain, timestep_fs=1.0, cell=TRICLINIC)
    np.testing.assert_allclose(tr.positions, true, atol=1e-6)
    broken = tmp_path / "broken.xyz"
    broken.write_text("10\nframe\nLi 0 0 0\nLi 1 1\n")
    with pytest.raises(FileFormatError) as info:
        read_trajectory(broken, timestep_fs=1.0, cell=TRICLINIC)
    assert info.value.path == broken


# ---------------------------------------------------------------------------- pymatgen JSON


def pmg_dict(n_atoms=4, n_frames=6):
    rng = np.random.default_rng(0)
    lattice = np.eye(3) * 5.0
    sites = [
        {
            "species": [{"element": "Li", "occu": 1}],
            "abc": list(rng.random(3)),
            "xyz": list(rng.random(3) * 5),
        }
        for _ in range(n_atoms)
    ]
    return {
        "@module": "pymatgen.analysis.diffusion.analyzer",
        "@class": "DiffusionAnalyzer",
        "structure": {"lattice": {"matrix": lattice.tolist()}, "sites": sites},
        "displacements": rng.normal(size=(n_atoms, n_frames, 3)).tolist(),
        "specie": "Li",
        "temperature": 900,
        "time_step": 2,
        "step_skip": 5,
    }


def test_pmg_json_synthetic_and_malformed(tmp_path):
    d = pmg_dict()
    path = tmp_path / "da.json"
    path.write_text(json.dumps(d))
    tr = read_pmg_diffusion(path)
    assert tr.timestep_fs == 10.0 and tr.temperature_K == 900.0 and tr.unwrapped
    expected = np.array([s["xyz"] for s in d["structure"]["sites"]])[None] + np.array(
        d["displacements"]
    ).transpose(1, 0, 2)
    np.testing.assert_allclose(tr.positions, expected)
    cases = {
        "missing": ({k: v for k, v in d.items() if k != "displacements"}, "missing keys"),
        "shape": ({**d, "displacements": np.zeros((3, 6, 3)).tolist()}, "shape"),
        "ragged": ({**d, "displacements": [[[0, 0]]]}, "displacements"),
        "structure": ({**d, "structure": {"lattice": {}, "sites": []}}, "structure"),
        "temperature": ({**d, "temperature": "hot"}, "temperature"),
    }
    for name, (bad, msg) in cases.items():
        p = tmp_path / f"{name}.json"
        p.write_text(json.dumps(bad))
        with pytest.raises(FileFormatError, match=msg) as info:
            read_pmg_diffusion(p)
        assert info.value.path == p
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(FileFormatError, match="JSON"):
        read_trajectory(tmp_path / "junk.json")


def test_dispatch_errors(tmp_path):
    (tmp_path / "thing.bin").write_text("x")
    with pytest.raises(ArgumentError) as info:
        read_trajectory(tmp_path / "thing.bin")
    assert info.value.name == "format"
    with pytest.raises(ArgumentError):
        read_trajectory(tmp_path / "thing.bin", format="nonsense")
    with pytest.raises(FileFormatError, match="no such file"):
        read_trajectory(tmp_path / "absent_XDATCAR", timestep_fs=1.0)
    d = tmp_path / "da.json"
    d.write_text(json.dumps(pmg_dict()))
    with pytest.raises(ArgumentError) as info:
        read_trajectory(d, timestep_fs=1.0)
    assert info.value.name == "timestep_fs"
    assert issubclass(FileFormatError, LilibError)


# ---------------------------------------------------------------------------- real data


@needs_md
def test_real_pmg_lgps_json():
    tr = read_trajectory(MD / "pmg_diffusion" / "DiffusionAnalyzer.json")
    assert tr.formula == "Li20Ge2P4S24" and tr.n_frames == 1000
    assert tr.timestep_fs == 20.0 and tr.temperature_K == 600.0 and tr.source["specie"] == "Li"
    assert tr.volume_A3 == pytest.approx(970.4137, rel=1e-6)
    # pymatgen stores displacements from the initial structure: frame 0 is that structure
    assert np.abs(np.diff(tr.positions, axis=0)).max() < 2.0


@needs_md
def test_real_xdatcar_li6ps5cl():
    tr = read_xdatcar(MD / "site_analysis" / "Li6PS5Cl_50p_XDATCAR.gz", timestep_fs=100.0)
    assert tr.formula == "Li192Cl32S160P32" and tr.n_frames == 140
    assert tr.duration_ps == pytest.approx(13.9)
    assert tr.volume_A3 == pytest.approx(20.3123**3, rel=1e-4)
    step = np.linalg.norm(np.diff(tr.positions, axis=0), axis=-1)
    assert step.max() < 5.0  # unwrapped: no jump of a cell length (20 Å)


@needs_md
def test_real_gemdat_lammps_xyz_with_cell_from_data_file():
    """4-frame LAMMPS xyz dump of a triclinic Li3InCl6-like cell; the cell is in the data file."""
    import ase.io

    data = ase.io.read(
        MD / "gemdat_test_data" / "lammps_data.txt",
        format="lammps-data",
        atom_style="atomic",
        units="metal",
    )
    tr = read_trajectory(
        MD / "gemdat_test_data" / "lammps_coords.xyz", timestep_fs=1.0, cell=data.cell.array
    )
    assert tr.n_frames == 4 and tr.formula == "Li24Cl48In8"
    # the data file is frame 0 (same run, atoms in id order; ASE applies its image flags)
    order = np.argsort(data.arrays["id"])
    frac = (tr.positions[0] - data.positions[order]) @ np.linalg.inv(data.cell.array)
    np.testing.assert_allclose(frac, np.rint(frac), atol=1e-5)
    assert np.abs(np.rint(frac)).max() == 1  # some atoms sit one cell over
    assert np.linalg.norm(np.diff(tr.positions, axis=0), axis=-1).max() < 2.0


# ---------------------------------------------------------------------------- bad input (issue list)


def test_changing_atom_counts_are_refused_by_every_reader(tmp_path):
    import ase.io

    true = walk(4)
    # LAMMPS: the third frame lost an atom
    lines = write_dump(tmp_path / "a.dump", true, TRICLINIC).read_text().splitlines()
    per_frame = 9 + 10
    third = lines[2 * per_frame : 3 * per_frame]
    third[3] = "9"
    lines[2 * per_frame : 3 * per_frame] = third[:-1]
    (tmp_path / "a.dump").write_text("\n".join(lines) + "\n")
    with pytest.raises(FileFormatError, match="other atom ids") as info:
        read_lammps_dump(tmp_path / "a.dump", timestep_fs=1.0, type_map=["Li", "S"])
    assert info.value.line == 2 * per_frame + 9
    # XDATCAR: a variable-cell header with other counts
    _, frac = wrap(true, TRICLINIC)
    cells = np.stack([TRICLINIC] * 4)
    xd = write_xdatcar(tmp_path / "XDATCAR", frac, cells).read_text().splitlines()
    block = 7 + 1 + 10
    xd[2 * block + 6] = "   7   4"
    (tmp_path / "XDATCAR").write_text("\n".join(xd) + "\n")
    with pytest.raises(FileFormatError, match="lists species") as info:
        read_xdatcar(tmp_path / "XDATCAR", timestep_fs=1.0)
    assert info.value.line is not None
    # extended XYZ: one frame with an extra atom
    frames = [Atoms(["Li"] * 6 + ["S"] * 4, positions=p, cell=TRICLINIC, pbc=True) for p in true]
    frames[1] = frames[1] + Atoms("Li", positions=[[0.1, 0.2, 0.3]])
    ase.io.write(tmp_path / "grow.extxyz", frames)
    with pytest.raises(FileFormatError, match="frame 1 has other atoms") as info:
        read_trajectory(tmp_path / "grow.extxyz", timestep_fs=1.0)
    assert info.value.path == tmp_path / "grow.extxyz"


def test_missing_cells_are_refused(tmp_path):
    true = walk(3)
    with pytest.raises(ArgumentError) as info:
        Trajectory(true, None, ["Li"] * 6 + ["S"] * 4, 1.0)
    assert info.value.name == "cell"
    lines = write_dump(tmp_path / "a.dump", true, TRICLINIC).read_text().splitlines()
    del lines[4:8]  # BOX BOUNDS header and its three lines in the first frame
    (tmp_path / "a.dump").write_text("\n".join(lines) + "\n")
    with pytest.raises(FileFormatError, match="BOX BOUNDS") as info:
        read_lammps_dump(tmp_path / "a.dump", timestep_fs=1.0, type_map=["Li", "S"])
    assert info.value.line == 5
    xd = write_xdatcar(tmp_path / "XDATCAR", wrap(true, TRICLINIC)[1], TRICLINIC)
    lines = xd.read_text().splitlines()
    lines[4] = "0 0 0"  # a zero lattice vector
    xd.write_text("\n".join(lines) + "\n")
    with pytest.raises(FileFormatError, match="flat lattice"):
        read_xdatcar(xd, timestep_fs=1.0)


def test_time_going_backwards_is_refused(tmp_path):
    true = walk(5)
    back = write_dump(tmp_path / "back.dump", true, TRICLINIC, steps=[0, 100, 200, 100, 200])
    for kw in ({"md_step_fs": 1.0}, {"timestep_fs": 1.0}):
        with pytest.raises(FileFormatError, match=r"TIMESTEP 100 follows 200 \(frame 3\)"):
            read_lammps_dump(back, type_map=["Li", "S"], **kw)
    same = write_dump(tmp_path / "same.dump", true, TRICLINIC, steps=[0, 100, 100, 200, 300])
    with pytest.raises(FileFormatError, match="does not increase"):
        read_lammps_dump(same, timestep_fs=1.0, type_map=["Li", "S"])
    # XDATCAR: numbering that goes back inside one block is an error ...
    _, frac = wrap(true, TRICLINIC)
    lines = write_xdatcar(tmp_path / "XDATCAR", frac, TRICLINIC).read_text().splitlines()
    lines[7 + 3 * 11] = "Direct configuration=      2"
    (tmp_path / "XDATCAR").write_text("\n".join(lines) + "\n")
    with pytest.raises(FileFormatError, match="time goes backwards") as info:
        read_xdatcar(tmp_path / "XDATCAR", timestep_fs=1.0)
    assert info.value.line == 7 + 3 * 11 + 1
    # ... while two runs concatenated with a header between them continue in time
    first = write_xdatcar(tmp_path / "X1", frac[:3], TRICLINIC).read_text()
    second = write_xdatcar(tmp_path / "X2", frac[3:], TRICLINIC).read_text()
    (tmp_path / "cat_XDATCAR").write_text(first + second)
    tr = read_xdatcar(tmp_path / "cat_XDATCAR", timestep_fs=1.0)
    assert tr.n_frames == 5 and tr.source["numbering_restarts"] == 1


def test_unknown_formats_and_unreadable_content(tmp_path):
    for name in ("run.h5", "trajectory", "md.dcd.bak"):
        (tmp_path / name).write_bytes(b"\x00\x01binary")
        with pytest.raises(ArgumentError, match="cannot tell the format") as info:
            read_trajectory(tmp_path / name, timestep_fs=1.0)
        assert info.value.name == "format"
    (tmp_path / "vasprun.xml").write_text("<modeling><atominfo>")
    with pytest.raises(FileFormatError) as info:
        read_trajectory(tmp_path / "vasprun.xml", timestep_fs=1.0)
    assert info.value.path == tmp_path / "vasprun.xml"
    (tmp_path / "garbage.lammpstrj").write_text("this is not a dump\n")
    with pytest.raises(FileFormatError, match="ITEM:") as info:
        read_trajectory(tmp_path / "garbage.lammpstrj", timestep_fs=1.0, type_map=["Li"])
    assert info.value.line == 1


def write_vasprun(path, frac, cell, symbols):
    """A minimal vasprun.xml of an MD run (the elements ASE's reader needs)."""
    vec = lambda rows: "".join(f"<v>{' '.join(f'{x:.10f}' for x in r)}</v>" for r in rows)  # noqa: E731
    crystal = f'<crystal><varray name="basis">{vec(cell)}</varray></crystal>'
    atoms = "".join(f"<rc><c>{s}</c><c>1</c></rc>" for s in symbols)
    out = [
        '<?xml version="1.0" encoding="ISO-8859-1"?><modeling>',
        '<kpoints><varray name="kpointlist"><v>0 0 0</v></varray>'
        '<varray name="weights"><v>1</v></varray></kpoints>',
        f'<atominfo><array name="atoms"><set>{atoms}</set></array></atominfo>',
        f'<structure name="initialpos">{crystal}<varray name="positions">{vec(frac[0])}'
        "</varray></structure>",
    ]
    energy = '<energy><i name="e_fr_energy">-1.0</i><i name="e_0_energy">-1.0</i></energy>'
    for f in frac:
        out.append(
            f"<calculation><scstep>{energy}</scstep><structure>{crystal}"
            f'<varray name="positions">{vec(f)}</varray></structure>{energy}</calculation>'
        )
    path.write_text("".join(out) + "</modeling>\n")
    return path


def test_vasprun_xml_is_read_through_ase(tmp_path):
    true = walk(6, step_A=0.5)
    _, frac = wrap(true, TRICLINIC)
    path = write_vasprun(tmp_path / "vasprun.xml", frac, TRICLINIC, ["Li"] * 6 + ["S"] * 4)
    tr = read_trajectory(path, timestep_fs=2.0)
    assert tr.n_frames == 6 and tr.source["reader"].endswith("read_ase")
    shift = tr.positions[0] - true[0]
    np.testing.assert_allclose(tr.positions - shift, true, atol=1e-8)
