"""Lattice-dynamics descriptors from MLIPs: SevenNet-0 vs CHGNet, and where the time goes.

For each structure (default LiF and β-Li3PS4 from the library) and each model (default
SevenNet-0 and CHGNet), side by side in one run, a fresh child process (torch with ``--threads``
threads, 2 by default: the 2-core CI machine) runs the whole descriptor set exactly as
``scripts/make_descriptors.py`` does (same settings, imported from it): symmetry-kept BFGS
relaxation of cell and positions (fmax 0.01 eV/Å), ``compute_phonons`` (0.01 Å, supercell
widths ≥ 10 Å, a temporary workdir so the checkpoint writes count) and ``lattice_dynamics``
(8×8×8). It reports:

- model load time (``get_calculator``: checkpoint read, model built; imports not included);
- wall time of the descriptor set and of its parts (relax, phonons, descriptors);
- the time inside the calculator (its ``calculate`` wrapped on the instance: the model's graph
  construction and forward/backward pass) against everything else ("other": ASE's optimizer
  and FixSymmetry during the relaxation; phonopy, lilib and the checkpoint files during the
  phonons; the descriptors);
- the number of force calls (calculator evaluations);
- peak RSS of the child (sampled every 5 ms) and its rise during the descriptor set.

Ratios: CHGNet against SevenNet-0 per structure; "other %" is the share of the wall time outside
the force calls (lilib + phonopy + ASE), which should be small next to the forces.

numpy/scipy's OpenBLAS runs with ``--blas-threads`` threads (1 by default) while torch has
``--threads``: with both at 2, every small BLAS call after a torch call waits for the other
pool's spinning threads (measured: ASE's BFGS ``eigh`` of a 105×105 matrix 45 ms instead of
1 ms; the relaxation's non-force time ×10). Pass ``--blas-threads 2`` to see it.

Usage::

    .venv/bin/python benchmarks/bench_descriptors_mlip.py                        # LiF, beta-Li3PS4
    .venv/bin/python benchmarks/bench_descriptors_mlip.py --names LiF --models sevennet-0 --threads 1

Needs the ``mlip`` extra (torch, sevenn, chgnet); nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, resource, sys, tempfile, threading, time, warnings
name, model, threads, root = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sys.path.insert(0, root); sys.path.insert(0, os.path.join(root, "scripts"))
PAGE = os.sysconf("SC_PAGE_SIZE")

def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE / 1e6

peak, done = [rss()], threading.Event()
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], rss()); time.sleep(0.005)
sampler = threading.Thread(target=sample, daemon=True); sampler.start()

t0 = time.perf_counter()
import numpy as np
import torch
torch.set_num_threads(threads)
from ase.constraints import FixSymmetry
from ase.spacegroup.symmetrize import refine_symmetry
from lilib import calculators, structures
from lilib.phonons import compute_phonons, lattice_dynamics, relax, supercell_for
from make_descriptors import REAL, SYMPREC
t_import = time.perf_counter() - t0

t = time.perf_counter(); calc = calculators.get_calculator(model); t_load = time.perf_counter() - t
inside = {"s": 0.0, "calls": 0}
original = calc.calculate
def timed(*a, **k):
    s = time.perf_counter()
    try:
        return original(*a, **k)
    finally:
        inside["s"] += time.perf_counter() - s; inside["calls"] += 1
calc.calculate = timed  # on the instance: the calculator's identity is unchanged

atoms = structures.load(name)
rss_before = rss()
with tempfile.TemporaryDirectory() as wd, warnings.catch_warnings():
    warnings.simplefilter("ignore")
    t_all = time.perf_counter()
    work = atoms.copy(); work.info = {}
    refine_symmetry(work, symprec=SYMPREC)
    work.set_constraint(FixSymmetry(work, symprec=SYMPREC))
    t = time.perf_counter()
    res = relax(work, calc, fmax=REAL["fmax_eV_A"], steps=REAL["relax_steps"], cell=True,
                optimizer=REAL["optimizer"])
    t_relax = time.perf_counter() - t; f_relax = inside["s"]; c_relax = inside["calls"]
    relaxed = res.atoms; relaxed.set_constraint()
    t = time.perf_counter()
    ph = compute_phonons(relaxed, calc, supercell=supercell_for(relaxed, REAL["min_length_A"]),
                         displacement=REAL["displacement_A"], workdir=wd)
    t_ph = time.perf_counter() - t
    t = time.perf_counter()
    ld = lattice_dynamics(ph, mesh=REAL["mesh"], temperature_K=REAL["temperature_K"], source=model)
    t_ld = time.perf_counter() - t
    wall = time.perf_counter() - t_all
done.set(); sampler.join()
print(json.dumps({
    "import_s": t_import, "load_s": t_load, "wall_s": wall, "relax_s": t_relax,
    "phonons_s": t_ph, "descriptors_s": t_ld, "force_s": inside["s"], "calls": inside["calls"],
    "relax_force_s": f_relax, "relax_calls": c_relax, "relax_steps": res.n_steps,
    "converged": res.converged, "n_displacements": ph.n_displacements,
    "supercell_atoms": len(ph.phonopy.supercell),
    "peak_rss_MB": max(peak[0], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3),
    "rss_rise_MB": peak[0] - rss_before,
    "mobile_THz": ld.mobile_band_centre_THz, "anion_THz": ld.anion_band_centre_THz,
    "debye_K": ld.debye_temperature_K, "min_THz": ld.min_frequency_THz,
}))
"""


def _run(name: str, model: str, threads: int, blas_threads: int) -> dict:
    env = dict(
        os.environ,
        OMP_NUM_THREADS=str(threads),
        OPENBLAS_NUM_THREADS=str(blas_threads),
        MKL_NUM_THREADS=str(blas_threads),
    )
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, name, model, str(threads), str(ROOT)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if proc.returncode:
        return {"error": (proc.stderr.strip().splitlines() or ["(no output)"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", nargs="+", default=["LiF", "beta-Li3PS4"])
    parser.add_argument("--models", nargs="+", default=["sevennet-0", "chgnet"])
    parser.add_argument("--threads", type=int, default=2, help="torch threads per child")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="OpenBLAS threads of numpy/scipy (ASE's BFGS, phonopy) per child",
    )
    args = parser.parse_args()
    head = (
        f"{'structure':<12} {'model':<11} {'load s':>6} {'wall s':>7} {'relax':>6} {'phon.':>6} "
        f"{'descr':>6} {'force s':>7} {'calls':>5} {'ms/call':>7} {'other s':>7} {'relax':>6} "
        f"{'phon.':>6} {'other %':>7} "
        f"{'peak MB':>7} {'wall x':>6}  Li/Na, anion THz; θ_D K; min ν THz"
    )
    print(
        f"torch threads per child: {args.threads}, OpenBLAS threads: {args.blas_threads}; "
        f"'wall x': against {args.models[0]}; other = wall − force (relax: ASE optimizer, "
        "FixSymmetry; phonons: phonopy + lilib + checkpoint files; descriptors)"
    )
    print(head)
    for name in args.names:
        base = None
        for model in args.models:
            r = _run(name, model, args.threads, args.blas_threads)
            if "error" in r:
                print(f"{name:<12} {model:<11} failed: {r['error']}")
                continue
            base = base or r["wall_s"]
            other = r["wall_s"] - r["force_s"]
            print(
                f"{name:<12} {model:<11} {r['load_s']:6.1f} {r['wall_s']:7.1f} {r['relax_s']:6.1f} "
                f"{r['phonons_s']:6.1f} {r['descriptors_s']:6.1f} {r['force_s']:7.1f} "
                f"{r['calls']:5d} {1e3 * r['force_s'] / max(r['calls'], 1):7.0f} {other:7.2f} "
                f"{r['relax_s'] - r['relax_force_s']:6.2f} "
                f"{r['phonons_s'] - (r['force_s'] - r['relax_force_s']):6.2f} "
                f"{100 * other / r['wall_s']:7.1f} {r['peak_rss_MB']:7.0f} "
                f"{r['wall_s'] / base:6.2f}  {r['mobile_THz']:.2f}, {r['anion_THz']:.2f}; "
                f"{r['debye_K']:.0f}; {r['min_THz']:.2f}"
                f"  ({r['relax_steps']} BFGS steps{'' if r['converged'] else ' NOT converged'}, "
                f"{r['n_displacements']} × {r['supercell_atoms']} atoms)"
            )


if __name__ == "__main__":
    main()
