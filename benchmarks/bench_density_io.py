"""Read a VASP CHGCAR: lilib vs pymatgen (Chgcar.from_file) vs ASE (VaspChargeDensity), side by side.

Writes one synthetic CHGCAR of n³ points (default 200³, LiF 64-atom cell), then times each reader
on the same file in this one run and prints wall times, peak-memory increments and ratios.
Usage: python benchmarks/bench_density_io.py [--n 200] [--repeat 2]
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from ase.build import bulk


def _make(n: int, directory: Path) -> Path:
    from lilib.charges import Density, write_chgcar

    atoms = bulk("LiF", "rocksalt", a=4.03, cubic=True).repeat((2, 2, 2))
    values = np.random.default_rng(0).random((n, n, n)) + 0.01
    return write_chgcar(Density(atoms, values), directory / "CHGCAR")


def _lilib(path: Path) -> float:
    from lilib.charges import read_chgcar

    return read_chgcar(path).n_electrons


def _pymatgen(path: Path) -> float:
    from pymatgen.io.vasp import Chgcar

    chg = Chgcar.from_file(str(path))
    return float(chg.data["total"].sum() / chg.ngridpts)


def _ase(path: Path) -> float:
    from ase.calculators.vasp import VaspChargeDensity

    chg = VaspChargeDensity(str(path))
    return float(chg.chg[-1].sum() * chg.atoms[-1].get_volume() / chg.chg[-1].size)


def _measure(fn, path: Path, repeat: int) -> tuple[float, float, float]:
    times = []
    peak = 0.0
    for _ in range(repeat):
        gc.collect()
        tracemalloc.start()
        t0 = time.perf_counter()
        result = fn(path)
        times.append(time.perf_counter() - t0)
        peak = max(peak, tracemalloc.get_traced_memory()[1] / 1e6)
        tracemalloc.stop()
    return min(times), peak, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = _make(args.n, Path(tmp))
        size = path.stat().st_size / 1e6
        print(
            f"CHGCAR {args.n}^3 ({size:.0f} MB text); best of {args.repeat}; peak = traced numpy/python allocations"
        )
        rows = [(name, *_measure(fn, path, args.repeat)) for name, fn in
                [("lilib", _lilib), ("pymatgen", _pymatgen), ("ase", _ase)]]  # fmt: skip
    base = rows[0][1]
    print(f"{'reader':<10} {'wall s':>8} {'peak MB':>9} {'x lilib':>8} {'electrons':>12}")
    for name, secs, peak, electrons in rows:
        print(f"{name:<10} {secs:8.2f} {peak:9.0f} {secs / base:8.1f} {electrons:12.4f}")


if __name__ == "__main__":
    main()
