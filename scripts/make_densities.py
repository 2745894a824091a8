#!/usr/bin/env python
"""Make the example DFT charge densities shipped in ``lilib/data/densities/``.

Every system is a PySCF periodic Kohn–Sham calculation: PBE, GTH-PBE pseudopotentials, a GTH
basis, plane-wave (FFT) Coulomb with the multigrid XC integrator, k-point mesh per system. The
converged valence (pseudo) density is evaluated on a uniform grid (spacing ≲ 0.1 Å, point
(i, j, k) at fractional (i/n1, j/n2, k/n3)) and written as a gzipped Gaussian cube (bohr,
e/bohr³, 5 significant digits). Next to it goes the matching core density (the AECCAR0
analogue): the superposition of the spherical all-electron pro-atom cores with
n_core = Z − (valence charge of the element's GTH pseudopotential) electrons, from
:func:`lilib.charges.proatoms.promolecule_density`. Use ``valence + core`` as the Bader
reference and integrate the valence density.

Systems: LiF (rock-salt) and Li2O (anti-fluorite) primitive cells, and a linear Li-vacancy hop
in LiF (a 2×2×2 supercell of the primitive cell with one Li⁺ removed, cell charge −1 on a
uniform neutralising background; the nearest Li moved along the straight line to the vacant
site, images at 0, ½, 1; host atoms unrelaxed; the "saddle" is the midpoint of that line, not
an NEB saddle point). The final image is not a separate SCF: it is the initial one mapped by
the inversion through the hop midpoint, a symmetry of the host crystal that swaps the vacancy
and the moving Li (atoms checked to map; the density moved by an exact grid index map).

Usage::

    OMP_NUM_THREADS=2 nice -n 10 python scripts/make_densities.py           # everything
    python scripts/make_densities.py LiF Li2O                               # some systems
    python scripts/make_densities.py --smoke                                # tiny run, temp dir, < 60 s

Checkpoints: each system's files and its ``<name>.json`` provenance are written as soon as it
is done (valence first, then core); a rerun skips what is already there (``--force`` redoes).
The README.md of the output directory is rebuilt from the JSON files at the end.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gzip
import json
import math
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ase import Atoms  # noqa: E402
from ase.build import bulk, make_supercell  # noqa: E402
from ase.units import Bohr  # noqa: E402

SCRIPT = "scripts/make_densities.py"
OUT_DEFAULT = ROOT / "lilib" / "data" / "densities"
HARTREE_EV = 27.211386245988

# Lattice parameters (Å) used only while lilib.structures has no entry for the compound.
# NOT from a cited source (see lilib/data/densities/README.md, "Known gap"): replace by library
# entries with a DOI as soon as they exist.
FALLBACK_A = {"LiF": 4.0263, "Li2O": 4.6114}
# ASE formula with the atom at the origin first (anti-fluorite: O at 4a, Li at 8c).
FALLBACK_ASE = {"LiF": ("LiF", "rocksalt"), "Li2O": ("OLi2", "fluorite")}

# Settings of the shipped run and of the smoke run.
REAL = {
    "basis": "gth-dzvp",
    "pseudo": "gth-pbe",
    "xc": "pbe",
    "ke_cutoff_Ha": 200.0,
    "conv_tol_Ha": 1e-8,
    "precision": 1e-6,
    "spacing_A": 0.1,
    "kmesh_bulk": (3, 3, 3),
    "kmesh_hop": (1, 1, 1),
    "hop_supercell": 2,
}
SMOKE = {
    "basis": "gth-szv",
    "pseudo": "gth-pbe",
    "xc": "pbe",
    "ke_cutoff_Ha": 60.0,
    "conv_tol_Ha": 1e-7,
    "precision": 1e-6,
    "spacing_A": 0.12,
    "kmesh_bulk": (1, 1, 1),
    "kmesh_hop": (1, 1, 1),
    "hop_supercell": 2,
}
HOP_IMAGES = {"initial": 0.0, "saddle": 0.5, "final": 1.0}
SYSTEMS = ["LiF", "Li2O"] + [f"LiF-hop-{image}" for image in HOP_IMAGES]
ELECTRON_TOL = 1e-3  # e: |∫ρ_valence − N_valence| allowed after writing and reading back


# ---------------------------------------------------------------------------- structures


def conventional_cell(formula: str) -> tuple[Atoms, dict]:
    """Conventional cubic cell of LiF/Li2O and where it came from (structure library if it has it)."""
    from lilib import structures
    from lilib.errors import UnknownStructureError

    try:
        atoms = structures.load(formula)
    except UnknownStructureError:
        a = FALLBACK_A[formula]
        ase_formula, kind = FALLBACK_ASE[formula]
        atoms = bulk(ase_formula, kind, a=a, cubic=True)
        return atoms, {
            "source": f"ase.build.bulk({ase_formula!r}, {kind!r}, a={a}, "
            "cubic=True) (fallback: no lilib.structures entry at run time)",
            "doi": None,
            "reference": None,
            "a_A": a,
        }
    return atoms, {
        "source": f"lilib.structures.load({formula!r})",
        "doi": atoms.info.get("doi"),
        "identifier": atoms.info.get("identifier"),
        "reference": atoms.info.get("reference"),
        "a_A": float(atoms.cell.lengths()[0]),
    }


def fcc_primitive(conv: Atoms) -> Atoms:
    """Primitive cell of an F-centred cubic conventional cell: vectors a/2·(0,1,1), (1,0,1), (1,1,0)."""
    cell = np.array([[0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]) @ np.asarray(conv.cell)
    frac = np.linalg.solve(cell.T, conv.positions.T).T
    frac -= np.floor(frac + 1e-8)
    keep: list[int] = []
    for i, f in enumerate(frac):
        if not any(np.allclose(((f - frac[j] + 0.5) % 1.0) - 0.5, 0, atol=1e-6) for j in keep):
            keep.append(i)
    if 4 * len(keep) != len(conv):
        raise RuntimeError(f"{conv.get_chemical_formula()}: not an F-centred cell")
    return Atoms([conv[i].symbol for i in keep], scaled_positions=frac[keep], cell=cell, pbc=True)


def check_coordination(prim: Atoms) -> None:
    """Every Li has only anions as nearest neighbours, as many as rock-salt (6) or anti-fluorite (4)."""
    symbols = np.array(prim.get_chemical_symbols())
    sc = make_supercell(prim, 3 * np.eye(3, dtype=int))
    sym = np.array(sc.get_chemical_symbols())
    wanted = 6 if (symbols == "F").any() else 4
    for i in np.flatnonzero(sym == "Li")[:4]:
        d = sc.get_distances(i, range(len(sc)), mic=True)
        d[i] = np.inf
        first = np.flatnonzero(d < d.min() + 1e-3)
        if len(first) != wanted or (sym[first] == "Li").any():
            raise RuntimeError(f"{prim.get_chemical_formula()}: unexpected Li coordination")


def hop_images(prim: Atoms, n: int) -> tuple[dict[str, Atoms], dict]:
    """Initial/saddle/final images of a linear Li-vacancy hop in an n×n×n supercell of ``prim``.

    The vacancy is the Li nearest the origin; the moving Li is its nearest Li neighbour (lowest
    index on ties); it sits at r + t·d (t = 0, ½, 1), d the minimum-image vector to the vacancy.
    """
    sc = make_supercell(prim, n * np.eye(3, dtype=int))
    symbols = np.array(sc.get_chemical_symbols())
    li = np.flatnonzero(symbols == "Li")
    vac = int(li[np.argmin(np.linalg.norm(sc.positions[li], axis=1))])
    dists = sc.get_distances(vac, li, mic=True)
    dists[li == vac] = np.inf
    mover = int(li[np.flatnonzero(np.isclose(dists, dists.min(), atol=1e-6))[0]])
    d = -sc.get_distance(vac, mover, mic=True, vector=True)  # from mover to vacancy
    host = sc.copy()
    del host[vac]
    moving = mover - (1 if mover > vac else 0)
    images = {}
    for name, t in HOP_IMAGES.items():
        image = host.copy()
        image.positions[moving] = sc.positions[mover] + t * d
        images[name] = image
    info = {
        "supercell": f"{n}x{n}x{n} of the primitive cell",
        "vacant_site_A": sc.positions[vac].round(6).tolist(),
        "moving_atom_index": moving,
        "moving_start_A": sc.positions[mover].round(6).tolist(),
        "hop_vector_A": np.asarray(d).round(6).tolist(),
        "hop_length_A": round(float(np.linalg.norm(d)), 6),
        "images_t": dict(HOP_IMAGES),
    }
    return images, info


def system_structure(name: str, settings: dict) -> tuple[Atoms, int, dict]:
    """Atoms, cell charge (e) and structure provenance of one system."""
    formula = name.split("-")[0]
    conv, source = conventional_cell(formula)
    prim = fcc_primitive(conv)
    check_coordination(prim)
    if "-hop-" not in name:
        return prim, 0, {**source, "cell": "primitive (fcc) cell of the conventional cell"}
    images, path = hop_images(prim, settings["hop_supercell"])
    structure = {
        **source,
        "cell": path["supercell"],
        "path": {
            **path,
            "description": (
                "Textbook Li vacancy hop: one Li+ removed (cell charge -1, V_Li'); the nearest Li "
                "moved along the straight line to the vacant site; images at t = 0, 1/2, 1 of "
                "that line; host atoms unrelaxed (ideal crystal positions). The 'saddle' is the "
                "midpoint of the linear path, not an NEB or relaxed saddle point."
            ),
            "charge_state": (
                "-1: removing Li+ leaves the closed-shell vacancy V_Li' of an ionic crystal "
                "(RKS). Removing a neutral Li would leave a hole in the F 2p band (open shell, "
                "delocalised in PBE), not the defect that carries Li transport. PySCF treats a "
                "charged cell with a uniform neutralising background (G=0 terms dropped; Ewald "
                "background term); total energies carry no finite-size correction."
            ),
        },
    }
    return images[name.rsplit("-", 1)[1]], -1, structure


# ---------------------------------------------------------------------------- DFT


def grid_shape(atoms: Atoms, spacing: float) -> tuple[int, int, int]:
    """Points per cell vector: spacing ≤ ``spacing`` (Å), a multiple of 4.

    Multiples of 4 put every site of these fcc-based cells (fractions 0, ¼, ½, ¾) on a grid
    point, so symmetry-equivalent atoms see the same grid (Bader on an off-grid pair of
    equivalent Li in Li2O differed by 0.035 e).
    """
    return tuple(int(4 * math.ceil(length / spacing / 4)) for length in atoms.cell.lengths())


def run_scf(atoms: Atoms, charge: int, settings: dict, kmesh: tuple[int, int, int], shape, log):
    """PySCF KS-DFT of ``atoms``; returns (valence density e/Å³ on ``shape``, record dict)."""
    import pyscf
    from pyscf.pbc import dft, gto
    from pyscf.pbc.dft import gen_grid, numint

    cell = gto.Cell()
    cell.a = np.asarray(atoms.cell)
    cell.atom = [(s, tuple(p)) for s, p in zip(atoms.get_chemical_symbols(), atoms.positions)]
    cell.unit = "A"
    cell.basis = settings["basis"]
    cell.pseudo = settings["pseudo"]
    cell.ke_cutoff = settings["ke_cutoff_Ha"]
    cell.charge = charge
    cell.precision = settings["precision"]
    cell.verbose = 4
    cell.output = str(log)
    cell.build()
    gamma = tuple(kmesh) == (1, 1, 1)
    # k-point code even at Γ alone: its multigrid integrator (MultiGridNumInt) is ~2× faster
    # here than the Γ-point one (MultiGridNumInt2).
    mf = dft.KRKS(cell, cell.make_kpts(kmesh))
    mf.xc = settings["xc"]
    mf.conv_tol = settings["conv_tol_Ha"]
    mf = mf.multigrid_numint()
    if charge:
        # PySCF's _finalize adds a Makov-Payne estimate for charged cells through mf.get_rho on
        # its own grid, which the multigrid get_rho ignores (shape mismatch): keep the plain one.
        from pyscf.scf import hf as mol_hf

        mf._finalize = lambda: mol_hf.SCF._finalize(mf)
    cycles = []
    mf.callback = lambda env: cycles.append(env["cycle"])
    t0 = time.perf_counter()
    energy = float(mf.kernel())
    wall = time.perf_counter() - t0
    if not mf.converged:
        raise RuntimeError(f"SCF did not converge (see {log})")
    grids = gen_grid.UniformGrids(cell)
    grids.mesh = np.asarray(shape)
    dm = mf.make_rdm1()
    rho = numint.KNumInt().get_rho(cell, dm, grids, mf.kpts)
    # UniformGrids runs over fftfreq(n) fractions: periodic images of i/n, k fastest.
    rho = np.asarray(rho).reshape(shape) / Bohr**3
    valence = {s: int(cell.atom_charge(i)) for i, s in enumerate(atoms.get_chemical_symbols())}
    record = {
        "engine": {"name": "PySCF", "version": pyscf.__version__},
        "method": {
            "hamiltonian": "Kohn-Sham DFT, spin-restricted (closed shell), periodic",
            "functional": settings["xc"].upper(),
            "basis": settings["basis"],
            "pseudopotential": settings["pseudo"],
            "valence_electrons": valence,
            "k_mesh": list(kmesh),
            "k_points": "Gamma only" if gamma else "Gamma-centred Monkhorst-Pack (cell.make_kpts)",
            "ke_cutoff_Ha": settings["ke_cutoff_Ha"],
            "cell_precision": settings["precision"],
            "fft_mesh": [int(n) for n in cell.mesh],
            "coulomb": "plane waves (FFT mesh from ke_cutoff), in the multigrid integrator",
            "xc_integration": "multigrid, J and XC together (KRKS.multigrid_numint())",
            "conv_tol_Ha": settings["conv_tol_Ha"],
            "converged": bool(mf.converged),
            "scf_cycles": len(cycles),
            "charge": charge,
            "n_electrons": int(cell.nelectron),
        },
        "total_energy_Ha": energy,
        "total_energy_eV": energy * HARTREE_EV,
        "scf_wall_time_s": round(wall, 1),
    }
    return rho, record


# ---------------------------------------------------------------------------- files


def write_cube_gz(path: Path, atoms: Atoms, values: np.ndarray, comment: str) -> None:
    """Gzipped Gaussian cube (bohr, e/bohr³, z fastest, 5 significant digits), written atomically.

    ``values`` in e/Å³. The gzip header holds no name or time, so equal data give equal bytes.
    """
    shape = values.shape
    voxel = np.asarray(atoms.cell) / np.array(shape)[:, None] / Bohr
    head = ["lilib density (e/bohr^3)", comment]
    head.append(f"{len(atoms):5d} {0.0:12.6f} {0.0:12.6f} {0.0:12.6f}")
    for n, vec in zip(shape, voxel):
        head.append("{:5d} {:12.6f} {:12.6f} {:12.6f}".format(n, *vec))
    for z, pos in zip(atoms.numbers, atoms.positions / Bohr):
        head.append("{:5d} {:12.6f} {:12.6f} {:12.6f} {:12.6f}".format(z, float(z), *pos))
    data = (values * Bohr**3).ravel()
    data = np.where(np.abs(data) < 1e-30, 0.0, data)
    per_line = 6
    n_full = data.size // per_line * per_line
    body = "\n".join(
        " ".join(f"{v: .4E}" for v in row) for row in data[:n_full].reshape(-1, per_line)
    )
    if n_full < data.size:
        body += "\n" + " ".join(f"{v: .4E}" for v in data[n_full:])
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(("\n".join(head) + "\n" + body + "\n").encode("ascii"))
    tmp.replace(path)


def write_json(path: Path, record: dict) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def _environment() -> dict:
    import ase

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "ase": ase.__version__,
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
    }


def _file_provenance(out: Path, fname: str, n_val: int, back, t0: float, command: str) -> dict:
    """Provenance entries shared by every system: the valence file, timing, date, environment."""
    return {
        "files": {
            "valence": {
                "file": fname,
                "format": "Gaussian cube (bohr, e/bohr^3), 5 significant digits, gzip",
                "bytes": (out / fname).stat().st_size,
                "n_electrons_expected": n_val,
                "n_electrons_integral": round(back.n_electrons, 6),
            }
        },
        "wall_time_s": round(time.perf_counter() - t0, 1),
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "script": SCRIPT,
        "command": command,
        "environment": _environment(),
    }


def _log_path(out: Path, name: str) -> Path:
    """PySCF log of one system: build/densities/ for the package directory, else next to the files."""
    logs = ROOT / "build" / "densities" if out.resolve() == OUT_DEFAULT.resolve() else out
    logs.mkdir(parents=True, exist_ok=True)
    return logs / f"{name}.pyscf.log"


def make_valence(name: str, out: Path, settings: dict, command: str) -> dict:
    """SCF of one system; writes ``<name>.valence.cube.gz`` and ``<name>.json``; returns the record."""
    from lilib.charges import read_density

    atoms, charge, structure = system_structure(name, settings)
    kmesh = settings["kmesh_hop"] if "-hop-" in name else settings["kmesh_bulk"]
    shape = grid_shape(atoms, settings["spacing_A"])
    print(f"[{name}] {atoms.get_chemical_formula()} charge {charge}, k {kmesh}, grid {shape}",
          flush=True)  # fmt: skip
    t0 = time.perf_counter()
    rho, record = run_scf(atoms, charge, settings, kmesh, shape, _log_path(out, name))
    fname = f"{name}.valence.cube.gz"
    write_cube_gz(out / fname, atoms, rho, f"{name} valence (pseudo) density, PySCF PBE")
    back = read_density(out / fname)
    n_val = record["method"]["n_electrons"]
    error = back.n_electrons - n_val
    if abs(error) > ELECTRON_TOL:
        raise RuntimeError(f"{name}: valence integrates to {back.n_electrons:.6f}, not {n_val}")
    spacing = (atoms.cell.lengths() / np.array(shape)).round(4).tolist()
    record = {
        "name": name,
        "formula": atoms.get_chemical_formula(),
        "n_atoms": len(atoms),
        "cell_A": np.asarray(atoms.cell).round(6).tolist(),
        "charge": charge,
        "structure": structure,
        **record,
        "grid": {"shape": list(shape), "spacing_A": spacing, "origin_A": [0.0, 0.0, 0.0]},
        **_file_provenance(out, fname, n_val, back, t0, command),
    }
    write_json(out / f"{name}.json", record)
    print(f"[{name}] E = {record['total_energy_Ha']:.8f} Ha, SCF {record['scf_wall_time_s']} s, "
          f"∫ρ = {back.n_electrons:.6f} e (expected {n_val})", flush=True)  # fmt: skip
    return record


def final_from_initial(name: str, out: Path, settings: dict, command: str) -> dict:
    """Final hop image from the initial one by the inversion r → V + A − r through the hop midpoint.

    V: vacant site, A: start of the moving Li. The inversion is a symmetry of the host crystal
    (rock-salt is centrosymmetric about every Li site and V − A is a lattice vector) that swaps
    the vacancy and the moving Li, so it maps the initial image onto the final one exactly; the
    atoms are checked to map, and the density is moved by an exact grid index map.
    """
    from lilib.charges import read_density

    first = f"{name.rsplit('-', 1)[0]}-initial"
    init_rec = json.loads((out / f"{first}.json").read_text(encoding="utf-8"))
    init = read_density(out / init_rec["files"]["valence"]["file"])
    atoms, charge, structure = system_structure(name, settings)
    path = structure["path"]
    centre2 = np.array(path["vacant_site_A"]) + np.array(path["moving_start_A"])  # 2 × midpoint
    cell = np.asarray(atoms.cell)
    inv = np.linalg.solve(cell.T, (centre2 - init.atoms.positions).T).T
    frac = atoms.get_scaled_positions(wrap=False)
    for sym, f in zip(init.atoms.get_chemical_symbols(), inv):
        d = frac - f
        d -= np.round(d)
        hit = (np.abs(d @ cell).max(axis=1) < 1e-4) & (
            np.array(atoms.get_chemical_symbols()) == sym
        )
        if hit.sum() != 1:
            raise RuntimeError(f"{name}: the inversion does not map the initial image onto it")
    shape = init.shape
    shift = np.linalg.solve(cell.T, centre2) * np.array(shape)
    if not np.allclose(shift, np.round(shift), atol=1e-6):
        raise RuntimeError(f"{name}: the inversion centre is not on the grid")
    idx = [(int(np.rint(s)) - np.arange(n)) % n for s, n in zip(shift, shape)]
    rho = init.values[np.ix_(*idx)]
    t0 = time.perf_counter()
    fname = f"{name}.valence.cube.gz"
    write_cube_gz(out / fname, atoms, rho, f"{name} valence density = inversion of {first}")
    back = read_density(out / fname)
    n_val = init_rec["method"]["n_electrons"]
    if abs(back.n_electrons - n_val) > ELECTRON_TOL:
        raise RuntimeError(f"{name}: valence integrates to {back.n_electrons:.6f}, not {n_val}")
    keep = ("engine", "method", "total_energy_Ha", "total_energy_eV", "grid")
    record = {
        "name": name,
        "formula": atoms.get_chemical_formula(),
        "n_atoms": len(atoms),
        "cell_A": cell.round(6).tolist(),
        "charge": charge,
        "structure": structure,
        **{k: init_rec[k] for k in keep},
        "scf_wall_time_s": 0.0,
        "derived_from": {
            "image": first,
            "operation": "inversion r -> V + A - r through the hop midpoint (V vacant site, A "
            "start of the moving Li): a symmetry of the host crystal that swaps vacancy and "
            "moving Li, so the final image is the initial one mapped exactly (same energy); "
            "the density is moved by an exact grid index map, no separate SCF",
            "inversion_centre_A": (centre2 / 2).round(6).tolist(),
        },
        **_file_provenance(out, fname, n_val, back, t0, command),
    }
    write_json(out / f"{name}.json", record)
    print(f"[{name}] from {first} by inversion, ∫ρ = {back.n_electrons:.6f} e", flush=True)
    return record


def make_core(name: str, out: Path, record: dict) -> dict:
    """Core density of one system from lilib's pro-atoms; adds it to the record and its JSON."""
    from ase.data import atomic_numbers

    from lilib.charges import read_density
    from lilib.charges.proatoms import load_proatoms, promolecule_density

    valence = read_density(out / record["files"]["valence"]["file"])
    atoms = valence.atoms
    n_val = record["method"]["valence_electrons"]
    n_core = {el: atomic_numbers[el] - q for el, q in n_val.items() if atomic_numbers[el] > q}
    core = promolecule_density(atoms, valence.shape, part="core", n_core=n_core)
    fname = f"{record['name']}.core.cube.gz"
    write_cube_gz(out / fname, atoms, core, f"{record['name']} core density, lilib pro-atoms")
    back = read_density(out / fname)
    expected = sum(n_core.get(s, 0) for s in atoms.get_chemical_symbols())
    table = load_proatoms()
    record["files"]["core"] = {
        "file": fname,
        "format": "Gaussian cube (bohr, e/bohr^3), 5 significant digits, gzip",
        "bytes": (out / fname).stat().st_size,
        "made_by": "lilib.charges.proatoms.promolecule_density(atoms, shape, part='core', "
        f"n_core={n_core})",
        "n_core": n_core,
        "n_core_rule": "Z - valence charge of the element's GTH pseudopotential (cell.atom_charge)",
        "proatoms": {k: v for k, v in table.meta.items() if isinstance(v, str | int | float)},
        "n_electrons_expected": expected,
        "n_electrons_integral": round(back.n_electrons, 6),
        "note": "The grid does not resolve the 1s cusps: the grid integral of the core density "
        "differs from n_core; it serves as a Bader reference (basin shapes), not for counting.",
    }
    write_json(out / f"{record['name']}.json", record)
    print(f"[{name}] core: ∫ = {back.n_electrons:.4f} e (n_core total {expected})", flush=True)
    return record


def bader_check(out: Path, record: dict) -> dict:
    """Bader (weight method) of the valence density with reference valence + core; adds charges."""
    from lilib.charges import bader, read_density

    val = read_density(out / record["files"]["valence"]["file"])
    core = read_density(out / record["files"]["core"]["file"])
    ref = val.with_values(val.values + core.values)
    res = bader(val, reference=ref, method="weight", valence=record["method"]["valence_electrons"])
    record["bader"] = {
        "method": "lilib.charges.bader, weight method, density = valence file, "
        "reference = valence + core",
        "net_charges_e": [round(float(q), 4) for q in res.net_charges],
        "symbols": res.symbols,
        "n_maxima": res.n_maxima,
        "sum_rule_error_e": round(float(res.sum_rule_error), 6),
    }
    write_json(out / f"{record['name']}.json", record)
    by_el = {}
    for s, q in zip(res.symbols, res.net_charges):
        by_el.setdefault(s, []).append(float(q))
    print(f"[{record['name']}] Bader net charges: "
          + ", ".join(f"{s} {min(v):+.3f}..{max(v):+.3f}" for s, v in by_el.items()), flush=True)  # fmt: skip
    return record


def write_readme(out: Path) -> None:
    """README.md of the output directory: one table row per system, from the JSON files."""
    rows = []
    order = {name: i for i, name in enumerate(SYSTEMS)}
    paths = sorted(out.glob("*.json"), key=lambda p: (order.get(p.stem, len(order)), p.stem))
    for path in paths:
        r = json.loads(path.read_text(encoding="utf-8"))
        m = r["method"]
        files = r["files"]
        size = sum(f["bytes"] for f in files.values())
        bader = r.get("bader", {})
        charges = {}
        for s, q in zip(bader.get("symbols", []), bader.get("net_charges_e", [])):
            charges.setdefault(s, []).append(q)
        scf = "by inversion" if "derived_from" in r else f"{r['scf_wall_time_s']:.0f}"
        qtext = ", ".join(
            f"{s} {v[0]:+.2f}" if max(v) - min(v) < 0.005 else f"{s} {min(v):+.2f}…{max(v):+.2f}"
            for s, v in charges.items()
        )
        rows.append(
            f"| {r['name']} | {r['formula']} ({r['charge']:+d}) | {m['basis']} | "
            f"{'×'.join(map(str, m['k_mesh']))} | {'×'.join(map(str, r['grid']['shape']))} | "
            f"{r['total_energy_Ha']:.6f} | "
            f"{scf} | "
            f"{files['valence']['n_electrons_integral']:.4f} / {m['n_electrons']} | "
            f"{'yes' if 'core' in files else 'pending'} | {size / 1024:.0f} | {qtext or '—'} |"
        )
    cells = {}
    for path in paths:
        st = json.loads(path.read_text(encoding="utf-8"))["structure"]
        cite = f"doi:{st['doi']}" if st.get("doi") else st.get("identifier") or "no citation"
        cells[f"{st['source']}: a = {st['a_A']:.4f} Å, {st.get('reference')} ({cite})"] = None
    cell_lines = "\n".join(f"  - {line}" for line in cells)
    text = (
        f"""# Example DFT charge densities

Made by `{SCRIPT}` (see its docstring; provenance of each system in `<name>.json`: engine and
version, functional, basis, pseudopotentials, k-mesh, FFT mesh/ke_cutoff, SCF convergence,
total energy, wall time, date, command line, structure source and DOI). Load them with
`lilib.charges.examples.load_example_density(name, part="valence" | "core" | "total")`.

- Cells (experimental lattice parameters, not relaxed with PBE):
{cell_lines}
- `<name>.valence.cube.gz`: PySCF PBE valence (pseudo) density, GTH-PBE pseudopotentials
  (Li 1s2s in the valence: 3 e; F and O without 1s), gzipped Gaussian cube in bohr, e/bohr³,
  5 significant digits; grid point (i, j, k) at fractional (i/n1, j/n2, k/n3), spacing ≤ 0.1 Å.
- `<name>.core.cube.gz`: the matching core density (AECCAR0 analogue), spherical all-electron
  pro-atom cores with n_core = Z − GTH valence (F, O: the 1s², Li: none) from
  `lilib.charges.proatoms`. Bader: integrate the valence density with `reference = valence + core`.
  The core grid does not resolve the 1s cusps, so it does not integrate to n_core.
- `LiF-hop-*`: 2×2×2 supercell of primitive LiF with one Li⁺ removed (charge −1, PySCF's uniform
  neutralising background), the nearest Li moved along the straight line to the vacancy: images
  at t = 0, ½, 1; host unrelaxed; the saddle is the midpoint of the linear path, **not an NEB**.
  Γ point only in the 15-atom cell (as dense as 2×2×2 k in the primitive cell). The final image
  is the initial one mapped by the inversion through the hop midpoint (a symmetry of the host
  that swaps vacancy and moving Li), not a separate SCF. Checked once (2026-11-22, these
  settings) against a separate SCF of the final image: ΔE = 4e-5 Ha, ∫|Δρ| dV = 0.004 e (the
  FFT mesh is not mapped onto itself by that inversion: an egg-box effect). Γ-only sampling
  here is like 2×2×2 k in primitive LiF, where going to 3×3×3 moved E by 11 mHa per LiF,
  ∫|Δρ| by 0.06 e per cell and Bader charges by 0.006 e: fine for densities and charges, not
  for quantitative energies (nor is an unrelaxed straight path a barrier).
- Run: `OMP_NUM_THREADS=2 nice -n 10 python scripts/make_densities.py` on a shared 2-core machine
  (SCF wall times below include that sharing). Li2O: PySCF warns of a near-singular overlap
  matrix (diffuse gth-dzvp functions in a dense crystal); the SCF converged to 1e-8 Ha.

| name | cell (charge) | basis | k-mesh | grid | E (Ha) | SCF s | ∫ρ_val / N_val (e) | core | KiB | Bader net charges (e) |
|---|---|---|---|---|---|---|---|---|---|---|
"""
        + "\n".join(rows)
        + "\n"
    )
    (out / "README.md").write_text(text, encoding="utf-8")


# ---------------------------------------------------------------------------- driver


def _core_available() -> bool:
    try:
        from lilib.charges.proatoms import promolecule_density  # noqa: F401
    except ImportError:
        return False
    return True


def generate(names: list[str], out: Path, settings: dict, force: bool, command: str) -> list[dict]:
    """Make every system in ``names`` into ``out`` (skipping finished ones unless ``force``)."""
    out.mkdir(parents=True, exist_ok=True)
    records = []
    core_ok = _core_available()
    for name in names:
        jpath = out / f"{name}.json"
        record = json.loads(jpath.read_text(encoding="utf-8")) if jpath.is_file() else None
        have_val = record is not None and (out / record["files"]["valence"]["file"]).is_file()
        if (force or not have_val) and name.endswith("-hop-final"):
            record = final_from_initial(name, out, settings, command)
        elif force or not have_val:
            record = make_valence(name, out, settings, command)
        else:
            print(f"[{name}] valence: done earlier, skipped", flush=True)
        if core_ok:
            core = record["files"].get("core")
            if force or core is None or not (out / core["file"]).is_file():
                record = make_core(name, out, record)
            if force or "bader" not in record:
                record = bader_check(out, record)
        else:
            print(f"[{name}] core: lilib.charges.proatoms not available yet, left pending")
        records.append(record)
    write_readme(out)
    return records


def smoke() -> int:
    """Same code path on LiF, tiny settings, into a temp dir; checks electron counts and the hop."""
    t0 = time.perf_counter()
    conv, _ = conventional_cell("LiF")
    images, info = hop_images(fcc_primitive(conv), 2)
    assert all(len(a) == 15 for a in images.values()), "hop images need 15 atoms"
    a = info["hop_length_A"]
    mid = images["saddle"].positions[info["moving_atom_index"]]
    start = np.array(info["moving_start_A"])
    assert np.allclose(mid, start + 0.5 * np.array(info["hop_vector_A"]), atol=1e-6)
    assert abs(a - conv.cell.lengths()[0] / math.sqrt(2)) < 1e-4, "hop is not to a nearest Li"
    with tempfile.TemporaryDirectory(prefix="lilib-densities-smoke-") as tmp:
        out = Path(tmp)
        records = generate(["LiF"], out, SMOKE, False, "make_densities.py --smoke")
        again = generate(["LiF"], out, SMOKE, False, "make_densities.py --smoke")  # skips
        assert again[0]["date"] == records[0]["date"], "rerun did not skip the finished system"
        rec = records[0]
        val = rec["files"]["valence"]
        assert abs(val["n_electrons_integral"] - val["n_electrons_expected"]) < ELECTRON_TOL
        print("SMOKE_RESULT " + json.dumps({
            "files": sorted(p.name for p in out.iterdir() if not p.name.startswith(".")),
            "n_electrons": val["n_electrons_integral"],
            "n_expected": val["n_electrons_expected"],
            "core": "core" in rec["files"],
            "bader": rec.get("bader", {}).get("net_charges_e"),
            "energy_Ha": rec["total_energy_Ha"],
            "seconds": round(time.perf_counter() - t0, 1),
        }), flush=True)  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help=f"systems (default all: {', '.join(SYSTEMS)})")
    parser.add_argument("--out", type=Path, default=OUT_DEFAULT, help="output directory")
    parser.add_argument("--force", action="store_true", help="redo finished systems")
    parser.add_argument("--smoke", action="store_true", help="tiny self-check in a temp dir")
    args = parser.parse_args(argv)
    if args.smoke:
        return smoke()
    unknown = [n for n in args.names if n not in SYSTEMS]
    if unknown:
        parser.error(f"unknown systems {unknown}; known: {SYSTEMS}")
    command = "python " + " ".join(shlex.quote(a) for a in [SCRIPT, *sys.argv[1:]])
    if os.environ.get("OMP_NUM_THREADS"):
        command = f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']} " + command
    generate(args.names or SYSTEMS, args.out, REAL, args.force, command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
