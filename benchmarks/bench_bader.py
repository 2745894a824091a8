"""Bader partitioning: lilib vs baderkit vs pybader, side by side in one run, fresh process each.

For each input (the Ca2N cube of ../shared/data when present, and a synthetic 200³ LiF density
written as a cube file), each method (near-grid, weight) and each tool that has it, a child
process reads the file and runs the analysis twice, reporting: read time, first call
(including numba compilation: a fresh NUMBA_CACHE_DIR per child), warm call, the analysis
memory (peak RSS during the warm call above the RSS before it, sampled every 1 ms), the
process's peak RSS, and the per-atom charges. Ratios are against lilib.
Usage: python benchmarks/bench_bader.py [--n 200] [--methods near-grid weight]
(baderkit and pybader come with the `bench` extra; see README "Benchmarks").
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, os, resource, sys, threading, time
tool, method, path = sys.argv[1], sys.argv[2], sys.argv[3]
PAGE = os.sysconf("SC_PAGE_SIZE")

def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE / 1e6

def timed(fn):
    # (wall s, peak RSS during fn() above the RSS before it, MB), RSS sampled every 1 ms
    # (the kernel's VmHWM could not be reset reliably on the test machine: clear_refs gave
    # peaks below the starting RSS)
    base, peak, done = rss(), [0.0], threading.Event()
    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss()); time.sleep(0.001)
    th = threading.Thread(target=sample); th.start()
    t = time.perf_counter(); value = fn(); wall = time.perf_counter() - t
    done.set(); th.join()
    return value, wall, max(peak[0], rss()) - base

out = {}
t0 = time.perf_counter()
if tool == "lilib":
    from lilib.charges import bader, read_density
    rho = read_density(path)
    out["read_s"] = time.perf_counter() - t0
    run = lambda: bader(rho, method=method)
    res, first, _ = timed(run)
    res, warm, mem = timed(run)
    charges, n_max = res.electrons.tolist(), res.n_maxima
elif tool == "baderkit":
    from baderkit.bader.bader import Bader
    fmt = "cube" if path.endswith(".cube") else "vasp"  # its guess goes by "CHGCAR" in the name
    kit_method = {"near-grid": "neargrid", "weight": "weight"}[method]
    runs = []
    for i in range(2):
        t = time.perf_counter()
        # no vacuum on either side (lilib's default, like the Henkelman code's)
        b = Bader.from_dynamic(path, format=fmt, method=kit_method, vacuum_tol=False)
        if i == 0:
            out["read_s"] = time.perf_counter() - t
        charges, wall, mem = timed(lambda: list(map(float, b.atom_charges)))
        runs.append(wall)
    first, warm = runs
    n_max = len(b.maxima_frac)
else:  # pybader: near-grid only
    from pybader.interface import Bader
    runs = []
    for i in range(2):
        t = time.perf_counter()
        b = Bader.from_file(path)
        if i == 0:
            out["read_s"] = time.perf_counter() - t
        def analyse():  # pybader's __call__ without its output file (a pickle of the whole grid)
            b.apply_config(dict(method="neargrid", refine_method="neargrid"))
            b.volumes_init(); b.bader_calc(); b.refine_volumes(b.bader_volumes)
            b.sum_volumes(bader=True); b.bader_to_atom_distance(); b.min_surface_distance()
            b.sum_volumes()
        _, wall, mem = timed(analyse)
        runs.append(wall)
    first, warm = runs
    charges, n_max = list(map(float, b.atoms_charge)), len(b.bader_maxima)
out.update(first_s=first, warm_s=warm, analysis_MB=mem, charges=charges, maxima=n_max,
           peak_rss_MB=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps(out))
"""

TOOLS = {"near-grid": ("lilib", "baderkit", "pybader"), "weight": ("lilib", "baderkit")}


def _synthetic_cube(n: int, directory: Path) -> Path:
    """64-atom LiF supercell density: sum of Gaussians (Li 2 e, F 10 e), written as a cube file."""
    import numpy as np
    from ase.build import bulk

    from lilib.charges import Density, write_cube

    atoms = bulk("LiF", "rocksalt", a=4.03, cubic=True).repeat((2, 2, 2))
    cell = np.asarray(atoms.cell)
    axes = [np.arange(m) / m for m in (n, n, n)]
    rho = np.zeros((n, n, n))
    for z, frac in zip(atoms.numbers, atoms.get_scaled_positions()):
        q, s = (2.0, 0.35) if z == 3 else (10.0, 0.45)
        d = [(ax - f + 0.5) % 1.0 - 0.5 for ax, f in zip(axes, frac)]
        # orthogonal cell: separable Gaussian
        g = [np.exp(-((di * cell[i, i]) ** 2) / (2 * s * s)) for i, di in enumerate(d)]
        rho += (
            q
            / (2 * np.pi * s * s) ** 1.5
            * g[0][:, None, None]
            * g[1][None, :, None]
            * g[2][None, None, :]
        )
    return write_cube(Density(atoms, rho), directory / f"LiF_{n}.cube")


def _run(tool: str, method: str, path: Path) -> dict:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        proc = subprocess.run([sys.executable, "-c", CHILD, tool, method, str(path)], env=env,
                              capture_output=True, text=True, check=False)  # fmt: skip
    if proc.returncode:
        return {"error": (proc.stderr.strip().splitlines() or ["(no output)"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument(
        "--methods", nargs="+", default=["near-grid", "weight"], choices=list(TOOLS)
    )
    args = parser.parse_args()
    from lilib.config import shared_data_dir

    inputs = []
    shared = shared_data_dir()
    if shared and (shared / "charge/baderkit_Ca2N/CHGCAR.cube").is_file():
        inputs.append(("Ca2N 60^3", 60**3, shared / "charge/baderkit_Ca2N/CHGCAR.cube"))
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        inputs.append((f"LiF {args.n}^3", args.n**3, _synthetic_cube(args.n, Path(tmp))))
        print(f"(synthetic cube written in {time.perf_counter() - t:.0f} s)")
        for label, n_voxels, path in inputs:
            grid_mb = n_voxels * 8 / 1e6
            for method in args.methods:
                print(f"\n{label}, {method}: grid {grid_mb:.0f} MB as float64")
                print(f"{'tool':<9} {'read s':>7} {'first s':>8} {'warm s':>7} {'warm x':>7} "
                      f"{'anal. MB':>8} {'x grid':>6} {'peak MB':>8}  charges (first 3)")  # fmt: skip
                rows = {tool: _run(tool, method, path) for tool in TOOLS[method]}
                base = rows["lilib"].get("warm_s")
                for tool, r in rows.items():
                    if "error" in r:
                        print(f"{tool:<9} failed: {r['error']}")
                        continue
                    ratio = r["warm_s"] / base if base else float("nan")
                    q = ", ".join(f"{c:.5f}" for c in r["charges"][:3])
                    print(f"{tool:<9} {r['read_s']:7.2f} {r['first_s']:8.2f} {r['warm_s']:7.2f} "
                          f"{ratio:7.2f} {r['analysis_MB']:8.0f} {r['analysis_MB'] / grid_mb:6.1f} "
                          f"{r['peak_rss_MB']:8.0f}  {q}  ({r['maxima']} maxima)")  # fmt: skip


if __name__ == "__main__":
    main()
