"""Bader weight method: lilib vs baderkit, side by side in one run, each tool in a fresh process.

For each input (the Ca2N cube of ../shared/data when present, and a synthetic 200³ LiF density
written as a cube file) and each tool, a child process reads the file, runs the weight method
twice and reports: read time, first call (including numba compilation: a fresh NUMBA_CACHE_DIR
per child), warm call, peak RSS, and the per-atom charges. Ratios are against lilib.
Usage: python benchmarks/bench_bader.py [--n 200]   (baderkit comes with the `bench` extra)
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
import json, resource, sys, time
tool, path = sys.argv[1], sys.argv[2]
out = {}
t0 = time.perf_counter()
if tool == "lilib":
    from lilib.charges import bader, read_density
    rho = read_density(path)
    out["read_s"] = time.perf_counter() - t0
    runs = []
    for _ in range(2):
        t = time.perf_counter(); res = bader(rho); runs.append(time.perf_counter() - t)
    charges = res.electrons.tolist(); n_max = res.n_maxima
else:
    from baderkit.bader.bader import Bader
    runs = []
    for i in range(2):
        t = time.perf_counter()
        fmt = "cube" if path.endswith(".cube") else "vasp"  # its guess goes by "CHGCAR" in the name
        # no vacuum on either side (lilib's default, like the Henkelman code's)
        b = Bader.from_dynamic(path, format=fmt, method="weight", vacuum_tol=False)
        if i == 0:
            out["read_s"] = time.perf_counter() - t
        t = time.perf_counter(); charges = list(map(float, b.atom_charges)); runs.append(time.perf_counter() - t)
    n_max = len(b.maxima_frac)
out.update(first_s=runs[0], warm_s=runs[1], charges=charges, maxima=n_max,
           peak_rss_MB=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps(out))
"""


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


def _run(tool: str, path: Path) -> dict:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        proc = subprocess.run([sys.executable, "-c", CHILD, tool, str(path)], env=env,
                              capture_output=True, text=True, check=False)  # fmt: skip
    if proc.returncode:
        return {"error": proc.stderr.strip().splitlines()[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    from lilib.config import shared_data_dir

    inputs = []
    shared = shared_data_dir()
    if shared and (shared / "charge/baderkit_Ca2N/CHGCAR.cube").is_file():
        inputs.append(("Ca2N 60^3", shared / "charge/baderkit_Ca2N/CHGCAR.cube"))
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        inputs.append((f"LiF {args.n}^3", _synthetic_cube(args.n, Path(tmp))))
        print(f"(synthetic cube written in {time.perf_counter() - t:.0f} s)")
        for label, path in inputs:
            grid_mb = (args.n**3 if "LiF" in label else 60**3) * 8 / 1e6
            print(f"\n{label}: grid {grid_mb:.0f} MB as float64")
            print(
                f"{'tool':<9} {'read s':>7} {'first s':>8} {'warm s':>7} {'peak MB':>8} {'warm x':>7}  charges (first 3)"
            )
            rows = {tool: _run(tool, path) for tool in ("lilib", "baderkit")}
            base = rows["lilib"].get("warm_s")
            for tool, r in rows.items():
                if "error" in r:
                    print(f"{tool:<9} failed: {r['error']}")
                    continue
                ratio = r["warm_s"] / base if base else float("nan")
                q = ", ".join(f"{c:.5f}" for c in r["charges"][:3])
                print(f"{tool:<9} {r['read_s']:7.2f} {r['first_s']:8.2f} {r['warm_s']:7.2f} "
                      f"{r['peak_rss_MB']:8.0f} {ratio:7.2f}  {q}  ({r['maxima']} maxima)")  # fmt: skip


if __name__ == "__main__":
    main()
