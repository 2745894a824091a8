#!/usr/bin/env python
"""Make ``lilib/data/proatoms.npz``: spherically averaged free-atom and ion densities.

Every (element, charge) is a spin-restricted, spherically averaged all-electron Kohn–Sham
calculation in PySCF: PBE, uncontracted ANO-RCC basis (spherical harmonics), scalar-relativistic
spin-free X2C one-electron Hamiltonian for every element, (200, 110) Treutler radial ×
Lebedev grid, Coulomb by density fitting (PySCF auto-generated even-tempered auxiliary basis). The Fock matrix is averaged over the 2l+1 components of each shell and the
occupations of each l channel are fixed by an explicit configuration (fractional occupation
of open shells, equal over m), so the density is exactly spherical (PySCF's
``pyscf.scf.atom_ks.AtomSphAverageRKS`` with our own ``get_occ``).

Configurations: neutral atoms in aufbau (Madelung) order with La = [Xe]5d¹6s²; cations lose
electrons from the subshell with the highest n (then highest l): 4s before 3d, 6s before 5d;
anions add electrons to the first open (partly filled) subshell in aufbau order, or else to the
first empty one (La- = [Xe]5d2 6s2, not 4f1 5d1 6s2).

Anions (q < 0) are not bound as free ions in PBE; all of them are stabilised alike with a
Watson sphere: a spherical shell of charge +|q| and radius R centred on the nucleus, i.e. the
one-electron potential v(r) = −|q|/max(r, R), added to the core Hamiltonian. The constant part
(−|q|/R · S) is exact; the rest (−|q|/r + |q|/R for r > R) is integrated numerically on the DFT
grid. R per element: see ``WATSON_RADIUS_A`` and lilib/data/PROATOMS.md. Orbital energies of
anions include the shift −|q|/R inside the sphere.

Each result is tabulated on one logarithmic radial grid (Å) as the total density and the
density of every occupied shell (n, l) (e/Å³), with occupations and orbital energies (eV),
so a core density with n_core electrons (the deepest shells) is separated exactly.

Usage::

    python scripts/make_proatoms.py                # all elements/charges, checkpoints in build/proatoms
    python scripts/make_proatoms.py Li F --out /tmp/x.npz
    python scripts/make_proatoms.py --smoke        # Li and F, small basis, into a temp dir (< 60 s)

Each (element, charge) is written to ``<work>/<El>_<q>.npz`` as soon as it finishes; a rerun
skips those already there, then assembles the table and its PROATOMS.md.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "scripts/make_proatoms.py"
BOHR_A = 0.529177210903  # Å per bohr (CODATA 2018, as in pyscf.lib.param.BOHR)
HARTREE_EV = 27.211386245988

# Radial grid of the table, Å (log spaced).
R_MIN_A, R_MAX_A, N_R = 1.0e-5, 30.0, 480

# Charges per element: 0 → the usual oxidation state(s) met in the structure library, and one
# step beyond on each side (anions: down to the closed shell, no electron into a new shell).
CHARGES: dict[str, tuple[int, ...]] = {
    "H": (-1, 0, 1),
    "Li": (-1, 0, 1, 2),
    "Na": (-1, 0, 1, 2),
    "B": (-1, 0, 1, 2, 3, 4),
    "N": (-3, -2, -1, 0, 1, 2, 3),
    "O": (-2, -1, 0, 1),
    "F": (-1, 0, 1),
    "P": (-3, -2, -1, 0, 1, 2, 3, 4, 5),
    "S": (-2, -1, 0, 1, 2, 3, 4),
    "Cl": (-1, 0, 1),
    "Br": (-1, 0, 1),
    "I": (-1, 0, 1),
    "Se": (-2, -1, 0, 1, 2),
    "Ge": (-1, 0, 1, 2, 3, 4, 5),
    "Y": (-1, 0, 1, 2, 3, 4),
    "Zr": (-1, 0, 1, 2, 3, 4, 5),
    "La": (-1, 0, 1, 2, 3, 4),
    "Fe": (-1, 0, 1, 2, 3, 4),
    "Co": (-1, 0, 1, 2, 3, 4),
    "Ni": (-1, 0, 1, 2, 3),
    "Ca": (0, 1, 2, 3),
}

# Watson-sphere radius R (Å) used for every anion (q < 0) of the element.
# Closed-shell anions tabulated by Shannon: his effective ionic radius (CN VI; N3- only CN IV),
# R. D. Shannon, Acta Cryst. A32, 751-767 (1976), read from pymatgen 2026.10.24
# (pymatgen/core/periodic_table.json, "Shannon radii", "ionic_radius").
# Other elements (no anion in Shannon's table): the van der Waals radius of S. Alvarez,
# Dalton Trans. 42, 8617-8636 (2013), read from ASE 3.29.0 (ase/data/vdw_alvarez.py).
_SHANNON = "Shannon 1976 effective ionic radius"
_ALVAREZ = "van der Waals radius, Alvarez 2013"
WATSON_RADIUS_A: dict[str, tuple[float, str]] = {
    "O": (1.40, f"{_SHANNON}, O2- CN VI"),
    "N": (1.46, f"{_SHANNON}, N3- CN IV"),
    "S": (1.84, f"{_SHANNON}, S2- CN VI"),
    "Se": (1.98, f"{_SHANNON}, Se2- CN VI"),
    "F": (1.33, f"{_SHANNON}, F- CN VI"),
    "Cl": (1.81, f"{_SHANNON}, Cl- CN VI"),
    "Br": (1.96, f"{_SHANNON}, Br- CN VI"),
    "I": (2.20, f"{_SHANNON}, I- CN VI"),
    "H": (1.20, _ALVAREZ),
    "Li": (2.12, _ALVAREZ),
    "Na": (2.50, _ALVAREZ),
    "B": (1.91, _ALVAREZ),
    "P": (1.90, _ALVAREZ),
    "Ge": (2.29, _ALVAREZ),
    "Y": (2.75, _ALVAREZ),
    "Zr": (2.52, _ALVAREZ),
    "La": (2.98, _ALVAREZ),
    "Fe": (2.44, _ALVAREZ),
    "Co": (2.40, _ALVAREZ),
    "Ni": (2.40, _ALVAREZ),
    "Ca": (2.62, _ALVAREZ),
}

# Madelung (n + l, then n) order of subshells.
_AUFBAU = sorted(
    ((n, ang) for n in range(1, 8) for ang in range(0, min(n, 4))),
    key=lambda s: (s[0] + s[1], s[0]),
)
_L_NAME = "spdf"


def _z(symbol: str) -> int:
    from ase.data import atomic_numbers

    return int(atomic_numbers[symbol])


def neutral_configuration(symbol: str) -> dict[tuple[int, int], float]:
    """Ground-configuration occupations {(n, l): electrons} of the neutral atom."""
    left = _z(symbol)
    conf: dict[tuple[int, int], float] = {}
    for n, ang in _AUFBAU:
        if left <= 0:
            break
        take = min(left, 2 * (2 * ang + 1))
        conf[(n, ang)] = float(take)
        left -= take
    if symbol == "La":  # [Xe]5d1 6s2, not 4f1
        conf.pop((4, 3))
        conf[(5, 2)] = 1.0
    return conf


def ion_configuration(symbol: str, charge: int) -> dict[tuple[int, int], float]:
    """Occupations of the ion with integer ``charge`` (e); see the module docstring for the rule."""
    conf = neutral_configuration(symbol)
    if charge > 0:
        for _ in range(charge):
            occupied = [s for s, o in conf.items() if o > 0]
            if not occupied:
                raise ValueError(f"{symbol}{charge:+d}: more electrons removed than present")
            shell = max(occupied, key=lambda s: (s[0], s[1]))
            conf[shell] -= 1.0
    elif charge < 0:
        for _ in range(-charge):
            full = {s: 2 * (2 * s[1] + 1) for s in _AUFBAU}
            open_shells = [s for s in _AUFBAU if 0 < conf.get(s, 0.0) < full[s]]
            empty = [s for s in _AUFBAU if conf.get(s, 0.0) < full[s]]
            shell = (open_shells or empty)[0]
            conf[shell] = conf.get(shell, 0.0) + 1.0
    return {s: o for s, o in conf.items() if o > 0}


def _occupation_per_l(conf: dict[tuple[int, int], float]) -> dict[int, list[float]]:
    """Per l: electrons in shell n = l+1, l+2, ... (index 0 = lowest shell of that l)."""
    out: dict[int, list[float]] = {}
    for (n, ang), o in conf.items():
        lst = out.setdefault(ang, [])
        i = n - ang - 1
        lst.extend([0.0] * (i + 1 - len(lst)))
        lst[i] = o
    return out


def _build_mol(symbol: str, charge: int, basis: str):
    from pyscf import gto

    mol = gto.Mole()
    mol.atom = f"{symbol} 0 0 0"
    mol.basis = basis
    mol.charge = charge
    mol.spin = (_z(symbol) - charge) % 2
    mol.cart = False
    mol.verbose = 0
    mol.build()
    return mol


def run_atom(
    symbol: str,
    charge: int,
    basis: str = "unc-ano-rcc",
    grid: tuple[int, int] = (200, 110),
    watson_radius_a: float | None = None,
    relativistic: bool = True,
    density_fit: bool = True,
) -> dict:
    """One spherically averaged PBE calculation; returns the tabulated record (arrays + metadata)."""
    import pyscf
    from pyscf.scf import ADIIS, atom_ks

    z = _z(symbol)
    n_el = z - charge
    conf = ion_configuration(symbol, charge) if n_el > 0 else {}
    r_a = radial_grid()
    if n_el == 0:
        return {
            "symbol": symbol,
            "charge": charge,
            "total": np.zeros_like(r_a),
            "shells": np.zeros((0, r_a.size)),
            "nl": np.zeros((0, 2), dtype=np.int16),
            "occ": np.zeros(0),
            "eps_ev": np.zeros(0),
            "energy_ev": 0.0,
            "converged": True,
            "watson_radius_a": np.nan,
            "seconds": 0.0,
        }
    mol = _build_mol(symbol, charge, basis)
    per_l = _occupation_per_l(conf)

    class _ConfiguredAtom(atom_ks.AtomSphAverageRKS):
        def get_occ(self, mo_energy=None, mo_coeff=None):
            occ = []
            for ang in range(mol._bas[:, 1].max() + 1):
                nsh = int(mol._bas[mol._bas[:, 1] == ang, 3].sum())
                if nsh == 0:
                    continue
                occ_l = np.zeros(nsh)
                want = per_l.get(ang, [])
                if len(want) > nsh:
                    raise RuntimeError(f"{symbol}{charge:+d}: basis has too few l={ang} functions")
                occ_l[: len(want)] = np.asarray(want) / (2 * ang + 1)
                occ.append(np.repeat(occ_l, 2 * ang + 1))
            return np.hstack(occ)

    mf = _ConfiguredAtom(mol)
    mf.xc = "pbe"
    mf.grids.atom_grid = grid
    mf.grids.prune = None
    mf.conv_tol = 1e-10
    mf.max_cycle = 200
    diis = ADIIS()
    diis.space = 12
    mf.diis = diis
    if relativistic:
        mf = mf.sfx2c1e()
    if density_fit:
        mf = mf.density_fit()
    t0 = time.perf_counter()
    if charge < 0:
        radius_bohr = watson_radius_a / BOHR_A
        hcore = mf.get_hcore(mol) + _watson_matrix(mol, abs(charge), radius_bohr, grid)
        mf.get_hcore = lambda *args, **kwargs: hcore
    mf.kernel()
    if not mf.converged:  # second try: level shift, plain DIIS
        mf.level_shift = 0.3
        mf.diis = True
        mf.kernel(mf.make_rdm1())
        mf.level_shift = 0.0
        mf.kernel(mf.make_rdm1())
    seconds = time.perf_counter() - t0

    # tabulate: shells = groups of (l, k-th eigenvalue of that l)
    mo_l = _mo_angular(mol, mf.mo_coeff)
    direction = np.array([0.267, 0.535, 0.802])
    direction /= np.linalg.norm(direction)
    coords = (r_a / BOHR_A)[:, None] * direction[None, :]
    ao = mol.eval_gto("GTOval_sph", coords)
    phi = ao @ mf.mo_coeff  # (n_r, n_mo)
    shells, nl, occ, eps = [], [], [], []
    for ang in sorted(set(mo_l.tolist())):
        cols = np.where(mo_l == ang)[0]
        cols = cols[np.argsort(mf.mo_energy[cols], kind="stable")]
        for k in range(len(cols) // (2 * ang + 1)):
            group = cols[k * (2 * ang + 1) : (k + 1) * (2 * ang + 1)]
            o = float(mf.mo_occ[group].sum())
            if o <= 1e-12:
                continue
            rho = (phi[:, group] ** 2 * mf.mo_occ[group]).sum(axis=1) / BOHR_A**3
            shells.append(rho)
            nl.append((ang + 1 + k, ang))
            occ.append(o)
            eps.append(float(mf.mo_energy[group].mean()) * HARTREE_EV)
    order = np.argsort(eps, kind="stable")
    shells = np.asarray(shells)[order]
    record = {
        "symbol": symbol,
        "charge": charge,
        "total": shells.sum(axis=0),
        "shells": shells,
        "nl": np.asarray(nl, dtype=np.int16)[order],
        "occ": np.asarray(occ)[order],
        "eps_ev": np.asarray(eps)[order],
        "energy_ev": float(mf.e_tot) * HARTREE_EV,
        "converged": bool(mf.converged),
        "watson_radius_a": float(watson_radius_a) if charge < 0 else np.nan,
        "seconds": seconds,
        "analytic_electrons": float(np.einsum("ij,ji->", mf.make_rdm1(), mol.intor("int1e_ovlp"))),
        "pyscf": pyscf.__version__,
    }
    return record


def _mo_angular(mol, mo_coeff: np.ndarray) -> np.ndarray:
    """Angular momentum of every MO (each MO of the spherical atom lives in one l channel)."""
    ao_l = np.zeros(mol.nao, dtype=int)
    loc = mol.ao_loc_nr()
    for i in range(mol.nbas):
        ao_l[loc[i] : loc[i + 1]] = mol.bas_angular(i)
    weight = np.zeros((ao_l.max() + 1, mo_coeff.shape[1]))
    for ang in range(ao_l.max() + 1):
        weight[ang] = (mo_coeff[ao_l == ang] ** 2).sum(axis=0)
    return weight.argmax(axis=0)


def _watson_matrix(mol, q: float, radius_bohr: float, grid: tuple[int, int]) -> np.ndarray:
    """⟨μ| −q/max(r, R) |ν⟩ (hartree): exact constant part plus a numerical outer part."""
    from pyscf.dft import gen_grid

    grids = gen_grid.Grids(mol)
    grids.atom_grid = (max(grid[0], 300), grid[1])
    grids.prune = None
    grids.build(with_non0tab=False)
    r = np.linalg.norm(grids.coords, axis=1)
    outer = np.where(r > radius_bohr, -q / np.maximum(r, 1e-300) + q / radius_bohr, 0.0)
    ao = mol.eval_gto("GTOval_sph", grids.coords)
    v = (ao * (grids.weights * outer)[:, None]).T @ ao
    return v - q / radius_bohr * mol.intor("int1e_ovlp")


def radial_grid() -> np.ndarray:
    """The table's radial grid, Å (log spaced)."""
    return np.geomspace(R_MIN_A, R_MAX_A, N_R)


def radial_electrons(r_a: np.ndarray, rho: np.ndarray) -> float:
    """∫ 4π r² ρ dr (e) on a log grid (trapezoid in ln r)."""
    f = 4.0 * np.pi * r_a**3 * rho
    return float(np.trapezoid(f, np.log(r_a)))


def watson_radius(symbol: str) -> tuple[float, str]:
    """Watson-sphere radius (Å) for anions of ``symbol`` and where it comes from."""
    return WATSON_RADIUS_A[symbol]


def _key(symbol: str, charge: int) -> str:
    return f"{symbol}_{charge:+d}"


def compute_all(jobs, work: Path, basis: str, grid=(200, 110), log=print) -> None:
    """Run every (element, charge) not yet checkpointed in ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    for symbol, charge in jobs:
        path = work / f"{_key(symbol, charge)}.npz"
        if path.exists():
            continue
        radius, _ = watson_radius(symbol)
        rec = run_atom(symbol, charge, basis=basis, grid=grid, watson_radius_a=radius)
        n = radial_electrons(radial_grid(), rec["total"])
        log(
            f"{_key(symbol, charge):8s} {rec['seconds']:7.1f} s  converged={rec['converged']}  "
            f"∫ρ={n:.6f} (want {_z(symbol) - charge})"
        )
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        meta = {k: v for k, v in rec.items() if not isinstance(v, np.ndarray)}
        arrays = {k: v for k, v in rec.items() if isinstance(v, np.ndarray)}
        np.savez(tmp, meta=json.dumps(meta), **arrays)
        tmp.replace(path)


def assemble(jobs, work: Path, out: Path, settings: dict, command: str) -> dict:
    """Gather the checkpoints into one compressed float32 table; returns the electron check."""
    r_a = radial_grid()
    arrays: dict[str, np.ndarray] = {"r": r_a.astype(np.float32)}
    index = []
    check = {}
    for symbol, charge in jobs:
        with np.load(work / f"{_key(symbol, charge)}.npz") as f:
            meta = json.loads(str(f["meta"]))
            key = _key(symbol, charge)
            shells = f["shells"].astype(np.float32)
            total = f["shells"].sum(axis=0) if len(shells) else np.zeros(r_a.size)
            total = total.astype(np.float32)
            arrays[f"{key}/total"] = total
            arrays[f"{key}/shells"] = shells
            arrays[f"{key}/nl"] = f["nl"].astype(np.int8)
            arrays[f"{key}/occ"] = f["occ"].astype(np.float32)
            arrays[f"{key}/eps_ev"] = f["eps_ev"].astype(np.float32)
            n = radial_electrons(r_a.astype(np.float64), total.astype(np.float64))
            want = _z(symbol) - charge
            check[key] = (n, want)
            if abs(n - want) > 1e-4:
                raise RuntimeError(f"{key}: ∫ρ = {n:.6f} e, expected {want}")
            if not meta["converged"]:
                raise RuntimeError(f"{key}: SCF not converged")
            index.append(
                {
                    "element": symbol,
                    "charge": charge,
                    "n_electrons": want,
                    "energy_ev": meta["energy_ev"],
                    "watson_radius_a": None
                    if charge >= 0 or meta["watson_radius_a"] is None
                    else meta["watson_radius_a"],
                    "integrated_electrons": n,
                    "seconds": meta["seconds"],
                }
            )
    header = dict(settings)
    header["entries"] = index
    header["command"] = command
    arrays["meta"] = np.array(json.dumps(header))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(out)
    return check


def settings_dict(basis: str, grid, relativistic: bool = True) -> dict:
    import pyscf

    return {
        "format": "lilib-proatoms-1",
        "engine": "PySCF",
        "engine_version": pyscf.__version__,
        "functional": "PBE",
        "basis": basis,
        "relativity": "spin-free X2C (sfx2c1e), all elements" if relativistic else "none",
        "scf": "spin-restricted, spherically averaged (AtomSphAverageRKS), fractional occupations",
        "dft_grid": f"({grid[0]} Treutler radial, {grid[1]} Lebedev), unpruned; the density is "
        "spherical, so Lebedev-110 (degree 17) integrates products of basis functions up to h "
        "and their gradients exactly",
        "coulomb": "density fitting, PySCF default auxiliary basis (even-tempered, generated from "
        "the basis primitives)",
        "radial_table": f"log grid {R_MIN_A:g}..{R_MAX_A:g} Å, {N_R} points",
        "units": {"r": "Å", "density": "e/Å³", "eps": "eV", "energy": "eV"},
        "stabilisation": "Watson sphere (charged shell +abs(q), radius R) for every anion",
        "watson_radii_a": {s: watson_radius(s)[0] for s in CHARGES},
        "watson_sources": {s: watson_radius(s)[1] for s in CHARGES},
        "date": _dt.date.today().isoformat(),
        "script": SCRIPT,
        "python": platform.python_version(),
    }


def proatoms_md(out: Path, settings: dict, check: dict, wall: float) -> str:
    """The provenance note that goes next to the table."""
    with np.load(out) as f:
        scf_seconds = sum(e["seconds"] for e in json.loads(str(f["meta"]))["entries"])
    by_el: dict[str, list[str]] = {}
    for key in check:
        el, q = key.split("_")
        by_el.setdefault(el, []).append(f"{int(q):+d}")
    rows = "\n".join(
        f"| {el} | {' '.join(qs)} | {settings['watson_radii_a'][el]:.2f} | "
        f"{settings['watson_sources'][el]} |"
        for el, qs in by_el.items()
    )
    worst = max(abs(n - w) for n, w in check.values())
    per_el: dict[str, float] = {}
    for key, (n, w) in check.items():
        el = key.split("_")[0]
        per_el[el] = max(per_el.get(el, 0.0), abs(n - w))
    check_rows = "\n".join(f"| {el} | {dev:.1e} |" for el, dev in per_el.items())
    return f"""# proatoms.npz

Spherically averaged all-electron densities of free atoms and integer ions (pro-atoms for the
Hirshfeld family and for core densities), made by `{SCRIPT}`; read them with
`lilib.charges.load_proatoms()`.

| setting | value |
|---|---|
| engine | {settings["engine"]} {settings["engine_version"]} (Python {settings["python"]}) |
| functional | {settings["functional"]} |
| basis | {settings["basis"]} (all-electron ANO-RCC primitives, uncontracted, spherical harmonics) |
| relativity | {settings["relativity"]} |
| SCF | {settings["scf"]} |
| DFT grid | {settings["dft_grid"]} |
| Coulomb | {settings["coulomb"]} |
| table grid | {settings["radial_table"]} |
| anions | {settings["stabilisation"]}: v(r) = -abs(q)/max(r, R) |
| date | {settings["date"]} |
| command | `{settings.get("command", "")}` |
| compute time | {scf_seconds / 60:.1f} min summed over the {len(check)} SCF runs (one core each, niced, on a shared 2-core machine; checkpoints of earlier invocations included); {wall / 60:.1f} min for the invocation that assembled the table |

Configurations: neutral atoms in aufbau (Madelung) order, La = [Xe]5d1 6s2; cations lose
electrons from the subshell with the highest n, then highest l (4s before 3d, 6s before 5d);
anions gain electrons in the first open (partly filled) subshell in aufbau order, else in the
first empty one (La- = [Xe]5d2 6s2). Every open
shell is occupied fractionally and equally over its 2l+1 components, spin-restricted, so the
density is exactly spherical (PySCF `AtomSphAverageRKS` with an explicit `get_occ`). The
ANO-RCC primitives are used uncontracted: the published contractions were made for DKH2, and
with X2C they shift the density at heavy nuclei (Fe2+: 9 % at r = 0, 0.67 eV in the total
energy, 0.013 e in ∫|Δρ|, against the uncontracted set).

Anions (q < 0) are unbound in PBE as free ions; every anion is stabilised alike by a Watson
sphere: a spherical shell of charge +|q| and radius R around the nucleus, added to the
one-electron Hamiltonian (constant part -|q|/R times the overlap matrix exactly, the part
outside R by numerical integration on a (300, {settings["dft_grid"].split(",")[1].split()[0]})
grid). Orbital energies of anions include the shift -|q|/R. R per element (the same for all
its anions):

| element | charges (e) | R (Å) | source of R |
|---|---|---|---|
{rows}

Sources of R: R. D. Shannon, Acta Cryst. A32, 751-767 (1976), effective ionic radii of the
closed-shell anions (CN VI; N3- only CN IV), as tabulated in pymatgen 2026.10.24
(`pymatgen/core/periodic_table.json`, "Shannon radii"); for elements without an anion in
Shannon's table, the van der Waals radius of S. Alvarez, Dalton Trans. 42, 8617-8636 (2013),
as tabulated in ASE 3.29.0 (`ase/data/vdw_alvarez.py`).

Charges: 0 to the usual oxidation states met in the structure library and one step beyond on
each side; anions only down to the closed shell (no electron into a new shell). H+ holds no
electrons (a zero density).

## Checks of the settings (measured once while choosing them; not rerun by the script)

- Angular grid: Lebedev 110 vs 302 (P, exact Coulomb, contracted ANO-RCC): total energy equal
  to 2e-9 eV.
- Density fitting vs exact four-centre Coulomb (uncontracted basis): Br-: 2.2e-4 eV,
  ∫|Δρ| dV = 1.0e-4 e, largest relative Δρ (r < 3 Å) 4e-5; Fe2+: 7e-5 eV, 4.5e-5 e, 8e-5.
- Contracted vs uncontracted ANO-RCC (Fe2+): see above; the uncontracted set is used.

## Layout (`numpy.load`)

- `r`: radial grid, Å (float32, log spaced).
- `meta`: JSON string: the settings above and per entry `element`, `charge`, `n_electrons`,
  total energy (eV), Watson radius (Å), integrated electrons, seconds.
- `<El>_<q>/total` (n_r,) e/Å³: the spherically averaged total density.
- `<El>_<q>/shells` (n_shell, n_r) e/Å³: density of each occupied shell (n, l), deepest first
  (sorted by orbital energy); they add up to the total (to float32 rounding). `<El>_<q>/nl` (n, l),
  `/occ` electrons per shell, `/eps_ev` orbital energies (eV). A core of n_core electrons is
  the sum of the first shells whose occupations add up to n_core.

## Check

∫ 4π r² ρ dr on the stored float32 grid (trapezoid in ln r) equals Z - q for every entry;
largest deviation {worst:.1e} e over {len(check)} entries. Per element (largest over its charges):

| element | max abs(∫ρ − (Z − q)) (e) |
|---|---|
{check_rows}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("elements", nargs="*", help="subset of elements (default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "lilib" / "data" / "proatoms.npz")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "proatoms")
    parser.add_argument("--basis", default="unc-ano-rcc")
    parser.add_argument("--smoke", action="store_true", help="Li and F, small basis, temp dir")
    parser.add_argument("--no-md", action="store_true", help="do not write PROATOMS.md")
    args = parser.parse_args(argv)
    command = "python " + " ".join(shlex.quote(a) for a in [SCRIPT, *(argv or sys.argv[1:])])
    grid = (200, 110)
    if args.smoke:
        tmp = Path(tempfile.mkdtemp(prefix="proatoms_smoke_"))
        args.work = tmp / "work"
        if args.out == ROOT / "lilib" / "data" / "proatoms.npz":
            args.out = tmp / "proatoms.npz"
        args.basis = "6-31g"
        args.elements = args.elements or ["Li", "F"]
        grid = (60, 50)
        args.no_md = True
    elements = args.elements or list(CHARGES)
    for e in elements:
        if e not in CHARGES:
            parser.error(f"no charge list for element {e!r}; known: {', '.join(CHARGES)}")
    charges = {e: CHARGES[e] for e in elements}
    if args.smoke:
        charges = {e: tuple(q for q in CHARGES[e] if -1 <= q <= 1) for e in elements}
    jobs = [(e, q) for e in elements for q in charges[e]]
    t0 = time.perf_counter()
    compute_all(jobs, args.work, args.basis, grid)
    settings = settings_dict(args.basis, grid)
    settings["command"] = command
    check = assemble(jobs, args.work, args.out, settings, command)
    wall = time.perf_counter() - t0
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB), {len(jobs)} entries, "
          f"{wall:.1f} s")  # fmt: skip
    worst = max(abs(n - w) for n, w in check.values())
    print(f"largest |∫ρ − (Z − q)| = {worst:.2e} e")
    if args.smoke:  # keep only the table
        keep = args.out.resolve().is_relative_to(args.work.parent.resolve())
        shutil.rmtree(args.work if keep else args.work.parent, ignore_errors=True)
    if not args.no_md:
        md = args.out.with_name("PROATOMS.md")
        md.write_text(proatoms_md(args.out, settings, check, wall))
        print(f"wrote {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
