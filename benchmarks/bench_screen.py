"""Screening throughput (1 vs 2 workers) and results-store overhead per entry.

Measured side by side in one run:

1. 20 small structures (rattled copies of small library cells), task = relax + single point with
   SevenNet-0 (``screen.RELAXED_SINGLE_POINT``), each run into a fresh SQLite store:
   - lilib ``screen.run`` with 1 and 2 process workers, and on a 2-worker Dask LocalCluster;
   - the peer: a bare ``concurrent.futures.ProcessPoolExecutor.map`` of the same function with
     2 workers (no keys, no store): what our bookkeeping costs on top.
   Printed: wall time, structures per minute, scaling 1 → 2 workers, lilib / bare ratio.
2. Store: ``put`` and ``get`` of a real LatticeDynamics (shipped LiF descriptors) N times, in
   SQLite and (when a server can be started, as in the tests) PostgreSQL: ms per entry.

Usage: python benchmarks/bench_screen.py [--quick] (--quick: 6 structures, 50 store entries).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the throwaway PostgreSQL server of the tests

BASES = ("LiF", "LiCl", "Li2O", "LiBr", "LiI")


def structures(n: int) -> dict:
    from lilib import structures as library

    out = {}
    for i in range(n):
        base = BASES[i % len(BASES)]
        atoms = library.load(base)
        atoms.rattle(0.03, seed=i)
        out[f"{base}-{i}"] = atoms
    return out


def bare(atoms):
    from lilib.screen import _one_thread, relaxed_single_point_task

    _one_thread()
    return relaxed_single_point_task(atoms, calculator="sevennet-0")


def run_screen(items: dict, executor: str, workers: int) -> float:
    from lilib import screen
    from lilib.store import ResultStore

    with tempfile.TemporaryDirectory() as tmp:
        store = ResultStore(Path(tmp) / "r.db")
        t0 = time.perf_counter()
        rep = screen.run(screen.RELAXED_SINGLE_POINT, items, store,
                         settings={"calculator": "sevennet-0"}, executor=executor,
                         max_workers=workers, progress=False)  # fmt: skip
        wall = time.perf_counter() - t0
        assert rep.n_computed == len(items), rep.to_dataframe()
    return wall


def run_bare(items: dict, workers: int) -> float:
    ctx = multiprocessing.get_context("spawn")
    t0 = time.perf_counter()
    with cf.ProcessPoolExecutor(workers, mp_context=ctx) as ex:
        results = list(ex.map(bare, items.values()))
    assert len(results) == len(items)
    return time.perf_counter() - t0


def store_overhead(url: str, n: int) -> tuple[float, float]:
    from ase.build import bulk

    from lilib.phonons import load_lattice_dynamics
    from lilib.store import ResultStore

    ld = load_lattice_dynamics("LiF")
    store = ResultStore(url)
    atoms = bulk("LiF", "rocksalt", a=4.03)
    keys = [store.key("bench", 1, atoms, {"i": i}, None) for i in range(n)]
    t0 = time.perf_counter()
    for k in keys:
        store.put(k, task="bench", atoms=atoms, name="LiF", result=ld)
    t_put = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    for k in keys:
        assert store.get(k).result.label == ld.label
    t_get = (time.perf_counter() - t0) / n
    return 1e3 * t_put, 1e3 * t_get


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n, n_store = (6, 50) if args.quick else (20, 200)
    items = structures(n)
    print(f"# screening {n} structures (relax + single point, SevenNet-0, 1 thread per worker); "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    rows = []
    for label, fn in [
        ("lilib processes×1", lambda: run_screen(items, "processes", 1)),
        ("lilib processes×2", lambda: run_screen(items, "processes", 2)),
        ("lilib dask×2", lambda: run_screen(items, "dask", 2)),
        ("bare ProcessPoolExecutor×2", lambda: run_bare(items, 2)),
    ]:
        wall = fn()
        rows.append((label, wall))
        print(f"{label:28s} {wall:7.1f} s  {60 * n / wall:6.1f} structures/min", flush=True)
    t = dict(rows)
    print(
        f"scaling 1 → 2 workers (processes): {t['lilib processes×1'] / t['lilib processes×2']:.2f}×"
    )
    print(f"scaling 1 → 2 workers (dask):      {t['lilib processes×1'] / t['lilib dask×2']:.2f}×")
    print(
        f"lilib processes×2 / bare ×2:       {t['lilib processes×2'] / t['bare ProcessPoolExecutor×2']:.2f}"
    )
    print(f"\n# store overhead, LatticeDynamics entry ({n_store} puts and gets)")
    with tempfile.TemporaryDirectory() as tmp:
        put, get = store_overhead(str(Path(tmp) / "s.db"), n_store)
        print(f"SQLite      put {put:6.1f} ms/entry   get {get:6.1f} ms/entry")
    try:
        from _postgres import NoPostgres, postgres_server

        with postgres_server() as url:
            put, get = store_overhead(url, n_store)
            print(f"PostgreSQL  put {put:6.1f} ms/entry   get {get:6.1f} ms/entry")
    except NoPostgres as exc:
        print(f"PostgreSQL  skipped: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
