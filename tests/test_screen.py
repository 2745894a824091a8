"""Screening: the same stored results from serial, process-pool and Dask runs; failures kept and
not fatal; a killed run resumed computing only what is missing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from _screen_tasks import slow_emt_energy
from ase.build import bulk

from lilib import screen
from lilib.errors import ArgumentError
from lilib.store import ResultStore

SLOW = screen.Task("slow_emt_energy", 1, slow_emt_energy)
METALS = {"Cu": 3.61, "Al": 4.05, "Ni": 3.52, "Ag": 4.09, "Au": 4.08, "Pd": 3.89, "Pt": 3.92}


def metals(n: int = len(METALS), rattle: float = 0.02) -> dict:
    """Small rattled fcc cells (a seed per metal): relaxations that do some work."""
    out = {}
    for i, (m, a) in enumerate(list(METALS.items())[:n]):
        atoms = bulk(m, "fcc", a=a * 1.01, cubic=True).repeat((2, 1, 1))
        atoms.rattle(rattle, seed=i)
        out[m] = atoms
    return out


def _stored(store: ResultStore, task: str) -> dict[str, object]:
    return {e.name: e.result for e in store.entries(task)}


def test_local_and_dask_give_the_same_stored_results(tmp_path):
    pytest.importorskip("dask.distributed", reason="Dask is not installed (pip install lilib[hpc])")
    structures = metals()
    stores = {}
    for executor in ("serial", "processes", "dask"):
        store = ResultStore(tmp_path / f"{executor}.db")
        report = screen.run(screen.RELAXED_SINGLE_POINT, structures, store,
                            executor=executor, max_workers=2, progress=False)  # fmt: skip
        assert report.n_computed == len(structures) and report.n_failed == 0
        stores[executor] = _stored(store, "relaxed_single_point")
    ref = stores["serial"]
    assert set(ref) == set(structures)
    for executor in ("processes", "dask"):
        for name, sp in ref.items():
            other = stores[executor][name]
            for field in ("energy_eV", "max_force_eV_A", "pressure_GPa"):
                a, b = getattr(sp, field), getattr(other, field)
                assert b == pytest.approx(a, rel=1e-10, abs=1e-12), (executor, name, field)


def test_cache_hits_failures_and_retry(tmp_path):
    store = ResultStore(tmp_path / "r.db")
    calls = tmp_path / "calls"
    calls.mkdir()
    settings = {"calls_dir": str(calls), "fail_on": "Ni"}
    structures = metals(4)
    first = screen.run(SLOW, structures, store, settings=settings, executor="processes",
                       progress=False)  # fmt: skip
    assert (first.n_computed, first.n_failed) == (3, 1)
    df = first.to_dataframe().set_index("name")
    assert df.loc["Ni", "outcome"] == "failed" and "asked to fail on Ni" in df.loc["Ni", "error"]
    assert store.get(df.loc["Ni", "key"], status="failed").error.startswith("RuntimeError")
    again = screen.run(SLOW, structures, store, settings=settings, executor="serial",
                       progress=False)  # fmt: skip
    assert (again.n_cached, again.n_failed, again.n_computed) == (3, 1, 0)
    assert len(list(calls.iterdir())) == 4  # nothing recomputed, the failure not retried
    retry = screen.run(SLOW, structures, store, settings=settings, executor="serial",
                       retry_failed=True, progress=False)  # fmt: skip
    assert retry.n_failed == 1 and len(list(calls.iterdir())) == 5
    other = screen.run(SLOW, structures, store, settings={**settings, "fail_on": ""},
                       executor="serial", progress=False)  # fmt: skip
    assert other.n_computed == 4  # other settings, other keys
    energies = store.to_dataframe("slow_emt_energy")
    assert energies["energy_per_atom_eV"].notna().sum() == 7


KILLED_RUN = """
import sys
sys.path.insert(0, {tests!r})
from ase.build import bulk
from lilib import screen
from lilib.store import ResultStore
from test_screen import SLOW, metals
if __name__ == "__main__":
    screen.run(SLOW, metals(), ResultStore({db!r}),
               settings={{"delay_s": 1.0, "calls_dir": {calls!r}}},
               executor="processes", max_workers=1, progress=False)
"""


def test_killed_run_resumes_with_only_the_missing_entries(tmp_path):
    db, calls = tmp_path / "r.db", tmp_path / "calls"
    calls.mkdir()
    script = tmp_path / "run.py"
    tests = str(Path(__file__).parent)
    script.write_text(KILLED_RUN.format(tests=tests, db=str(db), calls=str(calls)))
    proc = subprocess.Popen([sys.executable, str(script)], start_new_session=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip
    store = ResultStore(db)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists() and store.count("slow_emt_energy") >= 3:
            break
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # the run and its worker, as a dead node or kill -9
    proc.wait()
    stored = store.count("slow_emt_energy")
    assert 3 <= stored < len(METALS)
    calls_before = len(list(calls.iterdir()))
    resumed = screen.run(SLOW, metals(), store,
                         settings={"delay_s": 1.0, "calls_dir": str(calls)},
                         executor="serial", progress=False)  # fmt: skip
    assert resumed.n_cached == stored
    assert resumed.n_computed == len(METALS) - stored
    assert len(list(calls.iterdir())) - calls_before == len(METALS) - stored
    assert store.count("slow_emt_energy") == len(METALS)


def test_bad_arguments(tmp_path):
    store = ResultStore(tmp_path / "r.db")
    with pytest.raises(ArgumentError, match="not accepted"):
        screen.run(SLOW, metals(1), store, settings={"nope": 1}, progress=False)
    with pytest.raises(ArgumentError, match="executor"):
        screen.run(SLOW, metals(1), store, executor="threads", progress=False)
    with pytest.raises(ArgumentError, match="structures"):
        screen.run(SLOW, 42, store, progress=False)
    with pytest.raises(ArgumentError, match="max_workers"):
        screen.run(SLOW, metals(1), store, max_workers=0, progress=False)
    with pytest.raises(ArgumentError, match="task"):
        screen.run(slow_emt_energy, metals(1), store, progress=False)
    assert np.isfinite(screen.run(SLOW, ["LiF"], store, executor="serial",
                                  progress=False).wall_s)  # a library name  # fmt: skip
