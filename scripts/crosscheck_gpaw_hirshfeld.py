"""Cross-check lilib's Hirshfeld charges against GPAW's ``HirshfeldPartitioning`` (rock-salt LiF).

A child ``/usr/bin/python3`` (Debian's GPAW 22.8, which does not install into the venv) runs a
PBE plane-wave calculation of primitive rock-salt LiF, GPAW's Hirshfeld charges, the
all-electron density (``gridrefinement=2``, the fine grid GPAW's Hirshfeld itself uses) and
GPAW's free-atom densities tabulated radially. Back in the venv, lilib partitions the same
density (a) with its own pro-atoms and (b) with GPAW's pro-atoms passed as a user dict.

GPAW's pro-atoms (read from ``gpaw/analyse/hirshfeld.py``, ``gpaw/density.py``,
``gpaw/setup.py`` of the installed 22.8.0): for each atom a separate density object is
initialised "from atomic densities" and its all-electron density reconstructed, so the free
atom is the PAW setup's atom: non-spin-polarised (no Hund's rule), neutral, the setup's
reference valence occupations (Li 2s¹; F 2s² 2p⁵, spread evenly over m), the frozen
all-electron core density included. Its smooth part is the setup's LCAO basis (without a
``basis`` keyword: the bound pseudo partial waves, smoothly cut to zero between 2·max r_c and
8 bohr) plus the pseudo core ñ_c, *scaled* by x so that the atom holds Z electrons; the PAW
correction Σ_i D_ii (φ_i² − φ̃_i²), D_ii = occupations, is added inside the augmentation
spheres, and n_c − ñ_c. Spherically averaged (Y_00² → 1/4π), in the child::

    ρ(r) = n_c + Σ_j f_j/(4π) [φ_j² − φ̃_j²] r^{2l} − ñ_c + x (Σ_b f_b/(4π) χ_b² r^{2l} + ñ_c)

with x from ∫4πr²ρ dr = Z (Li: x = 1.09, its 2s cut at 8 bohr = 4.23 Å; F: 1.0001). On the
grid GPAW also puts each atom's grid-integration deficit of the core and augmentation terms as
a point charge on the grid point nearest the nucleus (crystal density and pro-atoms alike).
The child checks the radial tables against GPAW's per-atom grid densities
(``HirshfeldDensity.get_density([a])``); the report holds the agreement.

GPAW's Hirshfeld divides by a promolecule made in one go (``get_density()`` of all atoms), whose
smooth parts share *one* scale factor, while each numerator ρ_a has its own x: its weights
ρ_a/ρ_pro do not sum to one (0.989…1.055 here) and its charges do not sum to zero. lilib's
weights always sum to one, so (b) cannot reproduce GPAW's numbers exactly; the report shows
the parts: GPAW's formula redone on its own grids (reproduces it to 1e-13 e), the same with
weights that sum to one, and GPAW's formula from the radial tables evaluated by lilib.

Workaround: in GPAW 22.8 ``HirshfeldDensity`` reads ``calc.density.stencil``, which the
plane-wave density lacks (AttributeError); the child sets it to 3 (the finite-difference
mode's default interpolation order). It only sets how GPAW interpolates its pro-atoms' smooth
part from the coarse to the fine grid.

Both lilib columns use ``grid_correction=False``: GPAW's density already integrates exactly
(the point charges above), so lilib's correction for the unresolved cusp would count it twice
(the report also holds lilib's default, ``lilib_own_proatoms_default_grid_correction``).
``max_mismatch`` is raised to 10 e: with a nucleus on a grid point, the pro-atom sampled there
(ρ(0)·ΔV) over-counts the cusp by up to a few e (``promolecule_electrons_on_grid``).

Usage::

    .venv/bin/python scripts/crosscheck_gpaw_hirshfeld.py            # full run (~25 s here)
    .venv/bin/python scripts/crosscheck_gpaw_hirshfeld.py --smoke    # < 90 s

Measured (full mode, 2026-11-22T05:05:01+00:00; GPAW 22.8.0, ase 3.22.1; PBE, PW 800 eV,
10×10×10 Γ-centred k (47 irreducible), Fermi-Dirac 0.01 eV, coarse grid
20×20×20, fine 40×40×40; GPAW SCF 8.3 s, whole script 19.7 s on 2 shared cores)::

    charges (e)  GPAW      lilib(ours)  lilib(GPAW pro)   ours−GPAW  (GPAW pro)−GPAW
    Li          +0.15369   +0.18036     +0.18299         +0.02668   +0.02930
    F           -0.14286   -0.18036     -0.18299         -0.03751   -0.04013
    Σq          +0.01083   +0.00000     +0.00000
    ∫ρ dV = 11.999998 e (all-electron LiF: 12 e)

    parts (e)  ours−(GPAW pro)  (GPAW pro)−(Σw=1)  (Σw=1)−GPAW  (GPAW formula, radial)−GPAW  ours−(GPAW pro) on GPAW-pro superposition
    Li          -0.00263         +0.00005         +0.02925     +0.00005                      -0.00299
    F           +0.00263         -0.00005         -0.04008     -0.00006                      +0.00299
    (Σw=1: GPAW's grid pro-atoms with weights ρ_a/Σ_b ρ_b; GPAW formula, radial: the radial tables with GPAW's promolecule scaling)

GPAW's formula redone on its saved grids: 1.1e-13 e from get_charges(). The radial tables
with GPAW's common scaling reproduce GPAW to 5.5e-5 e; (b) equals GPAW's grid pro-atoms with
weights summing to one to 5.1e-5 e. So (b) − GPAW (+0.029/−0.040 e) is GPAW's weights not
summing to one, and (a) − (b) = ∓0.0026 e is the pro-atoms: lilib's Li (PySCF ANO-RCC,
uncut 2s) is more diffuse (⟨r⟩ 0.863 vs 0.825 Å; 0.443 vs 0.400 e beyond 2 Å), F nearly
equal (⟨r⟩ 0.4636 vs 0.4634 Å). Smoke mode (PW 300 eV, 2×2×2 k): (b) − GPAW +0.030/−0.043 e,
(b) − (Σw=1) 7e-4 e.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from ase import Atoms, units

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# the interpreter that imports GPAW (Debian: apt install gpaw gpaw-data); env override for tests
GPAW_PYTHON = os.environ.get("LILIB_GPAW_PYTHON", "/usr/bin/python3")
DEFAULT_OUT = ROOT / "build" / "crosscheck_gpaw" / "report.json"
A_LIF = 4.0293  # Å, rock-salt LiF lattice constant used when the library has no LiF entry
MAX_MISMATCH = 10.0  # e; see the module docstring
SETTINGS = {
    "full": {"ecut_eV": 800.0, "kpts": [10, 10, 10], "gridrefinement": 2, "smearing_eV": 0.01},
    "smoke": {"ecut_eV": 300.0, "kpts": [2, 2, 2], "gridrefinement": 2, "smearing_eV": 0.01},
}

# Runs under /usr/bin/python3 with Debian's GPAW; argv[1] = params JSON, argv[2] = output stem.
CHILD = r"""
import json, platform, sys, time
from math import pi, sqrt

import ase
import gpaw
import numpy as np
from ase import Atoms, units
from ase.units import Bohr
from gpaw import GPAW, PW
from gpaw.analyse.hirshfeld import HirshfeldPartitioning
from gpaw.utilities import unpack2

p = json.load(open(sys.argv[1]))
stem = sys.argv[2]
atoms = Atoms(numbers=p["numbers"], scaled_positions=p["scaled_positions"], cell=p["cell"],
              pbc=True)
t0 = time.perf_counter()
calc = GPAW(mode=PW(p["ecut_eV"]), xc="PBE", kpts={"size": p["kpts"], "gamma": True},
            occupations={"name": "fermi-dirac", "width": p["smearing_eV"]},
            convergence={"density": 1e-6}, txt=stem + "_gpaw.txt")
atoms.calc = calc
energy = atoms.get_potential_energy()
t_scf = time.perf_counter() - t0

t0 = time.perf_counter()
calc.density.stencil = 3  # GPAW 22.8: HirshfeldDensity needs it; the PW density has none
hp = HirshfeldPartitioning(calc)
q_gpaw = np.array(hp.get_charges(), dtype=float)
t_hirsh = time.perf_counter() - t0

rho = calc.get_all_electron_density(gridrefinement=p["gridrefinement"])  # e/Å³, periodic grid
finegd = calc.density.finegd
assert tuple(rho.shape) == tuple(finegd.N_c), (rho.shape, finegd.N_c)
pro_grid, _ = hp.hdensity.get_density()  # GPAW's promolecule, bohr⁻³, same fine grid
pro_grid = finegd.collect(pro_grid) / Bohr**3

nspins = calc.density.nspins
r_bohr = None
radial, info, parts = {}, {}, {}
for a, setup in enumerate(calc.setups):
    sym = atoms.get_chemical_symbols()[a]
    if sym in radial:
        continue
    f_si = setup.calculate_initial_occupation_numbers(0.0, False, 0.0, nspins)
    D_ii = unpack2(setup.initialize_density_matrix(f_si).sum(axis=0))
    phi_j, phit_j, nc, nct = setup.get_partial_waves()[:4]
    rmax = max([s.get_cutoff() for s in list(setup.phit_j) + list(phi_j)] + [nc.get_cutoff()])
    r = np.concatenate([np.geomspace(1e-5 / Bohr, rmax, 2000), [rmax * 1.0001]])
    core = nc.map(r) / sqrt(4 * pi)
    aug = np.zeros_like(r)
    i = 0
    for j, l in enumerate(setup.l_j):
        for _m in range(2 * l + 1):
            aug += D_ii[i, i] / (4 * pi) * r ** (2 * l) * (phi_j[j].map(r) ** 2
                                                          - phit_j[j].map(r) ** 2)
            i += 1
    smooth = np.zeros_like(r)
    ib = 0
    for chi in setup.phit_j:
        l = chi.get_angular_momentum_number()
        smooth += f_si[:, ib:ib + 2 * l + 1].sum() / (4 * pi) * r ** (2 * l) * chi.map(r) ** 2
        ib += 2 * l + 1
    smooth += nct.map(r) / sqrt(4 * pi)  # the pseudo core is scaled with the smooth part
    fixed = core + aug - nct.map(r) / sqrt(4 * pi)
    integ = lambda y: float(np.trapz(4 * pi * r**3 * y, np.log(r)))
    x = (setup.Z - integ(fixed)) / integ(smooth)
    dens = fixed + x * smooth
    r_bohr = r
    radial[sym] = dens / Bohr**3  # e/Å³
    parts[sym] = (fixed / Bohr**3, smooth / Bohr**3, setup.Z - integ(fixed), integ(smooth))
    info[sym] = {
        "Z": int(setup.Z), "core_electrons": float(setup.Nc), "valence_electrons": float(setup.Nv),
        "valence_occupations_f_j": [float(f) for f in setup.f_j],
        "n_j": [int(n) for n in setup.n_j], "l_j": [int(l) for l in setup.l_j],
        "basis": setup.basis.get_description(),
        "basis_cutoff_bohr": [float(s.get_cutoff()) for s in setup.phit_j],
        "core_cutoff_bohr": float(nc.get_cutoff()),
        "smooth_part_scale_x": float(x),
        "smooth_part_electrons_before_scaling": float(integ(smooth)),
        "radial_integral_e": integ(dens),
        "setup_file": str(getattr(setup, "filename", "")),
    }

# the promolecule GPAW divides by: one scale x for the smooth parts of all atoms together
symbols = atoms.get_chemical_symbols()
x_common = (sum(parts[s][2] for s in symbols) / sum(parts[s][3] for s in symbols))
common = {s: parts[s][0] + x_common * parts[s][1] for s in radial}

# radial table vs GPAW's own per-atom grid density (periodic images summed)
N_c = np.array(finegd.N_c)
frac = np.stack(np.meshgrid(*[np.arange(n) / n for n in N_c], indexing="ij"), axis=-1)
cell = atoms.cell.array
spos = atoms.get_scaled_positions() % 1.0
validation = []
free_grid = []
for a, sym in enumerate(atoms.get_chemical_symbols()):
    g, _ = hp.hdensity.get_density([a])
    g = finegd.collect(g) / Bohr**3
    free_grid.append(g.copy())
    mine = np.zeros(tuple(N_c))
    reach = r_bohr[-1] * Bohr
    nimg = np.ceil(reach * np.linalg.norm(np.linalg.inv(cell), axis=0)).astype(int)
    for n in np.ndindex(*(2 * nimg + 1)):
        d = (frac - spos[a] + np.array(n) - nimg) @ cell
        rr = np.linalg.norm(d, axis=-1)
        mine += np.interp(rr, r_bohr * Bohr, radial[sym], right=0.0)
    diff = g - mine
    gi = tuple(np.around(N_c * spos[a]).astype(int) % N_c)
    nucleus = float(diff[gi] * finegd.dv * Bohr**3)
    diff[gi] = 0.0
    dv = finegd.dv * Bohr**3
    validation.append({
        "atom": a, "element": sym,
        "gpaw_grid_electrons": float(g.sum() * dv),
        "radial_on_grid_electrons": float(mine.sum() * dv),
        "nucleus_point_difference_e": nucleus,
        "max_abs_difference_elsewhere_e_per_A3": float(np.abs(diff).max()),
        "rms_difference_elsewhere_e_per_A3": float(np.sqrt((diff**2).mean())),
        "integrated_abs_difference_elsewhere_e": float(np.abs(diff).sum() * dv),
    })

np.savez_compressed(stem + ".npz", rho=rho, gpaw_promolecule=pro_grid, r=r_bohr * Bohr,
                    gpaw_free_atoms=np.array(free_grid),
                    **{"proatom_" + s: v for s, v in radial.items()},
                    **{"common_scale_" + s: v for s, v in common.items()})
json.dump({
    "versions": {"gpaw": gpaw.__version__, "ase": ase.__version__, "numpy": np.__version__,
                 "python": platform.python_version()},
    "energy_eV": float(energy), "fermi_level_eV": float(calc.get_fermi_level()),
    "gpaw_charges": q_gpaw.tolist(),
    "coarse_grid": [int(n) for n in calc.density.gd.N_c], "fine_grid": [int(n) for n in N_c],
    "n_ibz_kpoints": int(len(calc.get_ibz_k_points())), "nbands": int(calc.get_number_of_bands()),
    "scf_iterations": int(calc.get_number_of_iterations()),
    "seconds": {"scf": t_scf, "hirshfeld": t_hirsh},
    "setups": info, "radial_vs_gpaw_grid": validation,
    "promolecule_common_smooth_scale_x": float(x_common),
}, open(stem + ".json", "w"), indent=1)
"""


def gpaw_available(python: str = GPAW_PYTHON) -> tuple[bool, str]:
    """Whether ``python -c "import gpaw"`` works; (ok, reason)."""
    try:
        run = subprocess.run(
            [python, "-c", "import gpaw"], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"{python} cannot be run ({exc})"
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["?"])[-1]
        return False, f'{python} -c "import gpaw" failed: {last}'
    return True, ""


def build_structure() -> tuple[Atoms, str]:
    """Primitive rock-salt LiF and where it came from (library entry or ase.build.bulk)."""
    import spglib
    from ase.build import bulk

    from lilib import structures

    if "LiF" in structures.names():
        conv = structures.load("LiF")
        cell, frac, numbers = spglib.standardize_cell(
            (conv.cell.array, conv.get_scaled_positions(), conv.numbers), to_primitive=True
        )
        atoms = Atoms(numbers=numbers, scaled_positions=frac, cell=cell, pbc=True)
        return atoms, 'lilib.structures.load("LiF"), primitive cell (spglib)'
    atoms = bulk("LiF", "rocksalt", a=A_LIF)
    src = (
        f'ase.build.bulk("LiF", "rocksalt", a={A_LIF}) primitive cell '
        "(lilib.structures has no LiF entry)"
    )
    return atoms, src


def run_gpaw(atoms: Atoms, settings: dict, workdir: Path, timeout: float) -> tuple[dict, dict]:
    """Run the GPAW child in ``workdir``; return (its JSON, its arrays)."""
    workdir.mkdir(parents=True, exist_ok=True)
    params = dict(
        settings,
        numbers=atoms.numbers.tolist(),
        scaled_positions=atoms.get_scaled_positions().tolist(),
        cell=atoms.cell.array.tolist(),
    )
    (workdir / "params.json").write_text(json.dumps(params, indent=1))
    (workdir / "gpaw_child.py").write_text(CHILD)
    stem = workdir / "gpaw"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env.pop("PYTHONPATH", None)
    cmd = ["nice", "-n", "10", GPAW_PYTHON, str(workdir / "gpaw_child.py")]
    cmd += [str(workdir / "params.json"), str(stem)]
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if run.returncode != 0:
        raise RuntimeError(
            f"GPAW child failed (exit {run.returncode}); see {stem}_gpaw.txt\n{run.stderr[-3000:]}"
        )
    meta = json.loads(stem.with_suffix(".json").read_text())
    with np.load(stem.with_suffix(".npz")) as f:
        arrays = {k: f[k] for k in f.files}
    return meta, arrays


def radial_summary(r: np.ndarray, rho: np.ndarray) -> dict:
    """N (e), ⟨r⟩ and ⟨r²⟩ (Å, Å²), electrons beyond 1, 1.5, 2 Å, of ρ(r) (e/Å³) on r (Å)."""
    x = np.log(r)
    w = 4 * np.pi * r**3 * rho
    n = float(np.trapezoid(w, x))
    out = {
        "electrons_e": n,
        "mean_r_A": float(np.trapezoid(w * r, x) / n),
        "mean_r2_A2": float(np.trapezoid(w * r**2, x) / n),
    }
    for rc in (1.0, 1.5, 2.0):
        m = r >= rc
        out[f"electrons_beyond_{rc:g}A_e"] = float(np.trapezoid(w[m], x[m]))
    return out


def bond_crossing(r: np.ndarray, rho_a: np.ndarray, rho_b: np.ndarray, d: float) -> float:
    """Distance (Å) from atom A along an A–B bond of length d where ρ_A(s) = ρ_B(d − s)."""
    s = np.linspace(0.05 * d, 0.95 * d, 4001)
    fa = np.interp(s, r, rho_a)
    fb = np.interp(d - s, r, rho_b)
    k = np.flatnonzero(np.diff(np.sign(fa - fb)))
    return float(s[k[0]]) if k.size else float("nan")


def compare(atoms: Atoms, meta: dict, arrays: dict) -> dict:
    """lilib's Hirshfeld charges on GPAW's density with both pro-atom sets, and diagnostics."""
    from lilib.charges.density import Density
    from lilib.charges.hirshfeld import hirshfeld
    from lilib.charges.proatoms import as_proatoms, promolecule_density

    symbols = atoms.get_chemical_symbols()
    density = Density(atoms, arrays["rho"])
    shape = density.shape
    r = arrays["r"]
    gpaw_pro = {s: (r, arrays["proatom_" + s]) for s in sorted(set(symbols))}
    ours = as_proatoms(None)
    kw = {"grid_correction": False, "max_mismatch": MAX_MISMATCH}

    t0 = time.perf_counter()
    res_a = hirshfeld(density, None, **kw)
    res_b = hirshfeld(density, gpaw_pro, **kw)
    res_a_default = hirshfeld(density, None, max_mismatch=MAX_MISMATCH)  # lilib defaults
    # pro-atom effect alone: the superposition of GPAW's pro-atoms partitioned with lilib's
    # pro-atoms and with GPAW's; and GPAW's own grid promolecule with lilib's
    pro_b = Density(atoms, promolecule_density(atoms, shape, gpaw_pro))
    # (compared as a difference of the two, so the sampled cusps at the nuclei cancel)
    res_pro_a = hirshfeld(pro_b, None, **kw)
    res_pro_b = hirshfeld(pro_b, gpaw_pro, **kw)
    res_pro_grid = hirshfeld(Density(atoms, arrays["gpaw_promolecule"]), None, **kw)
    t_lilib = time.perf_counter() - t0

    # GPAW's formula on GPAW's own grid arrays: w_a = ρ_a/ρ_pro with GPAW's promolecule
    # (reproduces get_charges), and with ρ_pro = Σ_a ρ_a (weights summing to one)
    free = arrays["gpaw_free_atoms"]
    z = atoms.numbers.astype(float)
    dv = density.voxel_volume
    cut = 1e-12 / units.Bohr**3  # GPAW's density_cutoff, bohr⁻³ → e/Å³

    def stockholder(denominator: np.ndarray) -> np.ndarray:
        inv = np.where(denominator > cut, 1.0 / np.where(denominator > cut, denominator, 1.0), 0)
        return z - np.einsum("aijk,ijk->a", free, arrays["rho"] * inv) * dv

    q_emulated = stockholder(arrays["gpaw_promolecule"])
    q_unit_weights = stockholder(free.sum(axis=0))
    weight_sum = free.sum(axis=0) / arrays["gpaw_promolecule"]
    # the same formula from the radial tables: own pro-atoms over the common-scale promolecule

    def on_grid(prefix: str, a: int) -> np.ndarray:
        s = symbols[a]
        return promolecule_density(atoms[[a]], shape, {s: (r, arrays[prefix + s])})

    free_r = np.array([on_grid("proatom_", a) for a in range(len(atoms))])
    pro_common = sum(on_grid("common_scale_", a) for a in range(len(atoms)))
    q_radial_formula = z - np.einsum("aijk,ijk->a", free_r, arrays["rho"] / pro_common) * dv

    pro_on_grid = {
        "lilib": float(promolecule_density(atoms, shape, None).sum() * density.voxel_volume),
        "gpaw_radial": float(
            promolecule_density(atoms, shape, gpaw_pro).sum() * density.voxel_volume
        ),
        "gpaw_grid": float(arrays["gpaw_promolecule"].sum() * density.voxel_volume),
    }
    radial = {}
    rr = np.geomspace(1e-5, r[-1], 4000)
    for s in sorted(set(symbols)):
        radial[s] = {
            "lilib": radial_summary(rr, ours.radial_density(s, rr)),
            "gpaw": radial_summary(r, arrays["proatom_" + s]),
        }
    # nearest Li–F distance and where the two pro-atoms cross along it
    i_li = symbols.index("Li")
    d = min(float(atoms.get_distance(i_li, j, mic=True)) for j, s in enumerate(symbols) if s == "F")
    crossing = {
        "bond_A": d,
        "lilib_from_Li_A": bond_crossing(
            rr, ours.radial_density("Li", rr), ours.radial_density("F", rr), d
        ),
        "gpaw_from_Li_A": bond_crossing(r, arrays["proatom_Li"], arrays["proatom_F"], d),
    }
    return {
        "charges": {
            "gpaw": meta["gpaw_charges"],
            "lilib_own_proatoms": res_a.charges.tolist(),
            "lilib_gpaw_proatoms": res_b.charges.tolist(),
            "lilib_own_proatoms_default_grid_correction": res_a_default.charges.tolist(),
        },
        "gpaw_formula_on_gpaw_grids": {
            "charges_gpaw_promolecule": q_emulated.tolist(),
            "charges_weights_sum_to_one": q_unit_weights.tolist(),
            "charges_from_radial_tables": q_radial_formula.tolist(),
            "sum_of_weights_min_max": [float(weight_sum.min()), float(weight_sum.max())],
            "gpaw_promolecule_minus_sum_of_free_atoms_abs_e": float(
                np.abs(arrays["gpaw_promolecule"] - free.sum(axis=0)).sum() * dv
            ),
        },
        "promolecule_charges": {
            "gpaw_proatom_superposition_lilib_minus_gpaw_proatoms": (
                res_pro_a.charges - res_pro_b.charges
            ).tolist(),
            "gpaw_grid_promolecule_lilib_proatoms": res_pro_grid.charges.tolist(),
        },
        "density_electrons_e": density.n_electrons,
        "all_electron_count_e": float(atoms.numbers.sum()),
        "promolecule_electrons_on_grid": pro_on_grid,
        "lilib_proatom_source": res_a.proatom_source,
        "lilib_proatom_meta": {k: v for k, v in ours.meta.items() if k != "entries"},
        "radial_moments": radial,
        "bond_crossing": crossing,
        "unassigned_electrons": [res_a.unassigned_electrons, res_b.unassigned_electrons],
        "sum_rule_errors": [res_a.sum_rule_error, res_b.sum_rule_error],
        "lilib_seconds": t_lilib,
    }


def table(symbols: list[str], cmp: dict) -> str:
    """The comparison table as text (charges in e)."""
    c = cmp["charges"]
    g, a, b = (np.array(c[k]) for k in ("gpaw", "lilib_own_proatoms", "lilib_gpaw_proatoms"))
    u = np.array(cmp["gpaw_formula_on_gpaw_grids"]["charges_weights_sum_to_one"])
    rf = np.array(cmp["gpaw_formula_on_gpaw_grids"]["charges_from_radial_tables"])
    pa = np.array(
        cmp["promolecule_charges"]["gpaw_proatom_superposition_lilib_minus_gpaw_proatoms"]
    )
    lines = [
        "charges (e)  GPAW      lilib(ours)  lilib(GPAW pro)   ours−GPAW  (GPAW pro)−GPAW",
    ]
    for i, s in enumerate(symbols):
        lines.append(
            f"{s:<4}       {g[i]:+9.5f}  {a[i]:+9.5f}    {b[i]:+9.5f}        "
            f"{a[i] - g[i]:+9.5f}  {b[i] - g[i]:+9.5f}"
        )
    lines.append(f"Σq         {g.sum():+9.5f}  {a.sum():+9.5f}    {b.sum():+9.5f}")
    lines.append(
        f"∫ρ dV = {cmp['density_electrons_e']:.6f} e "
        f"(all-electron LiF: {cmp['all_electron_count_e']:.0f} e)"
    )
    lines.append("")
    lines.append(
        "parts (e)  ours−(GPAW pro)  (GPAW pro)−(Σw=1)  (Σw=1)−GPAW  "
        "(GPAW formula, radial)−GPAW  ours−(GPAW pro) on GPAW-pro superposition"
    )
    for i, s in enumerate(symbols):
        lines.append(
            f"{s:<4}       {a[i] - b[i]:+9.5f}        {b[i] - u[i]:+9.5f}        "
            f"{u[i] - g[i]:+9.5f}    {rf[i] - g[i]:+9.5f}                     {pa[i]:+9.5f}"
        )
    lines.append(
        "(Σw=1: GPAW's grid pro-atoms with weights ρ_a/Σ_b ρ_b; GPAW formula, radial: the "
        "radial tables with GPAW's promolecule scaling)"
    )
    return "\n".join(lines)


def explanation(cmp: dict, meta: dict) -> str:
    """Where the differences come from, in numbers."""
    c = cmp["charges"]
    g, a, b = (np.array(c[k]) for k in ("gpaw", "lilib_own_proatoms", "lilib_gpaw_proatoms"))
    gf = cmp["gpaw_formula_on_gpaw_grids"]
    e = np.array(gf["charges_gpaw_promolecule"])
    u = np.array(gf["charges_weights_sum_to_one"])
    rf = np.array(gf["charges_from_radial_tables"])
    pa = np.array(
        cmp["promolecule_charges"]["gpaw_proatom_superposition_lilib_minus_gpaw_proatoms"]
    )
    li, f = cmp["radial_moments"]["Li"], cmp["radial_moments"]["F"]
    x = cmp["bond_crossing"]
    s = meta["setups"]
    w0, w1 = gf["sum_of_weights_min_max"]
    return "\n".join(
        [
            f"GPAW's formula redone here on its saved grids reproduces get_charges() to "
            f"{np.abs(e - g).max():.1e} e (density units and grid convention check).",
            f"GPAW's weights ρ_a/ρ_pro do not sum to one ({w0:.4f}…{w1:.4f}): its promolecule "
            "scales the smooth parts of all atoms by one common factor, each free atom by its "
            f"own (Li {s['Li']['smooth_part_scale_x']:.4f}, F {s['F']['smooth_part_scale_x']:.4f});"
            f" hence Σq_GPAW = {g.sum():+.5f} e. With weights that sum to one: "
            + ", ".join(f"{q:+.5f}" for q in u)
            + " e.",
            f"The radial tables with GPAW's common scaling reproduce GPAW to "
            f"{np.abs(rf - g).max():.1e} e; "
            f"lilib with GPAW's radial pro-atoms differs from Σw=1 by at most "
            f"{np.abs(b - u).max():.1e} e (radial table vs GPAW's grid-interpolated pro-atoms); "
            f"from GPAW's own numbers by {np.abs(b - g).max():.1e} e.",
            "Pro-atoms: ours−(GPAW pro) = "
            + ", ".join(f"{q:+.5f}" for q in a - b)
            + " e on the crystal density, "
            + ", ".join(f"{q:+.5f}" for q in pa)
            + " e on the superposition of GPAW's pro-atoms.",
            f"Li ⟨r⟩: lilib {li['lilib']['mean_r_A']:.4f} Å, GPAW {li['gpaw']['mean_r_A']:.4f} Å;"
            f" e beyond 2 Å: lilib {li['lilib']['electrons_beyond_2A_e']:.4f}, GPAW "
            f"{li['gpaw']['electrons_beyond_2A_e']:.4f} (GPAW's Li 2s is cut to zero at "
            f"{s['Li']['basis_cutoff_bohr'][0]:g} bohr = "
            f"{s['Li']['basis_cutoff_bohr'][0] * units.Bohr:.2f} Å and rescaled).",
            f"F ⟨r⟩: lilib {f['lilib']['mean_r_A']:.4f} Å, GPAW {f['gpaw']['mean_r_A']:.4f} Å;"
            f" e beyond 1.5 Å: lilib {f['lilib']['electrons_beyond_1.5A_e']:.4f}, GPAW "
            f"{f['gpaw']['electrons_beyond_1.5A_e']:.4f}.",
            f"ρ_Li = ρ_F on the {x['bond_A']:.4f} Å Li–F line at {x['lilib_from_Li_A']:.4f} Å "
            f"from Li (lilib) vs {x['gpaw_from_Li_A']:.4f} Å (GPAW).",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="coarse settings, < 90 s")
    ap.add_argument("--out", type=Path, default=None, help=f"report JSON (default {DEFAULT_OUT})")
    ap.add_argument("--workdir", type=Path, default=None, help="GPAW files (default: temporary)")
    ap.add_argument("--timeout", type=float, default=3600.0, help="GPAW child limit, s")
    args = ap.parse_args(argv)
    out = args.out or DEFAULT_OUT

    ok, why = gpaw_available()
    if not ok:
        print(f"SKIP: GPAW not importable by {GPAW_PYTHON}: {why}")
        return 0

    mode = "smoke" if args.smoke else "full"
    settings = SETTINGS[mode]
    t_start = time.perf_counter()
    atoms, source = build_structure()
    print(f"structure: {atoms.get_chemical_formula()} from {source}")
    print(
        f"GPAW PBE, PW {settings['ecut_eV']:g} eV, k {settings['kpts']} (Γ-centred), "
        f"Fermi-Dirac {settings['smearing_eV']:g} eV, gridrefinement={settings['gridrefinement']}"
    )
    with tempfile.TemporaryDirectory(prefix="crosscheck_gpaw_") as tmp:
        workdir = args.workdir or Path(tmp)
        t0 = time.perf_counter()
        meta, arrays = run_gpaw(atoms, settings, workdir, args.timeout)
        t_gpaw = time.perf_counter() - t0
    cmp = compare(atoms, meta, arrays)
    symbols = atoms.get_chemical_symbols()
    text = table(symbols, cmp)
    why = explanation(cmp, meta)
    print(text)
    print(why)
    wall = time.perf_counter() - t_start
    print(f"wall: GPAW child {t_gpaw:.1f} s, total {wall:.1f} s")

    import lilib

    report = {
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "mode": mode,
        "structure": {
            "source": source,
            "formula": atoms.get_chemical_formula(),
            "cell_A": atoms.cell.array.tolist(),
            "scaled_positions": atoms.get_scaled_positions().tolist(),
            "symbols": symbols,
        },
        "settings": dict(settings, xc="PBE", mode="PW", kpts_gamma_centred=True,
                         lilib_grid_correction=False, lilib_max_mismatch_e=MAX_MISMATCH),
        "versions": {
            "gpaw_side": meta["versions"],
            "lilib": getattr(lilib, "__version__", "unknown"),
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
        "gpaw": {k: v for k, v in meta.items() if k != "versions"},
        "comparison": cmp,
        "table": text,
        "explanation": why,
        "wall_seconds": {"gpaw_child": t_gpaw, "total": wall},
    }  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=float))
    print(f"report: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
