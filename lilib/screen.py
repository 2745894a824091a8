"""Screening: one lilib computation over many structures, results streamed into a store.

>>> from lilib import screen, store
>>> s = store.ResultStore("results.db")
>>> report = screen.run(
...     screen.LATTICE_DYNAMICS,
...     {"LiF": "LiF", "LiCl": "LiCl"},
...     s,
...     settings={"model": "sevennet-0"},
...     executor="processes",
...     max_workers=2,
... )
>>> report.to_dataframe()  # one row per structure: cached / computed / failed, seconds
>>> s.to_dataframe("lattice_dynamics")  # the descriptors

Executors: ``"processes"`` (default, a :class:`concurrent.futures.ProcessPoolExecutor`, spawned
workers), ``"dask"`` (a ``dask.distributed.LocalCluster`` of ``max_workers`` single-threaded
processes, closed afterwards), ``"serial"`` (in this process), or any
:class:`concurrent.futures.Executor` you pass (e.g. ``Client(...).get_executor()`` of a Dask
cluster on SLURM/PBS built with dask-jobqueue). Workers use one BLAS/torch thread each.

Entries whose key (:func:`lilib.store.result_key`) is in the store are not recomputed; only this
process writes to the store, as each result arrives, so an interrupted run loses only the
entries in flight and a rerun computes just the missing ones. A task that raises is stored as
'failed' with its error and the rest go on; ``retry_failed=True`` recomputes those.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import inspect
import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lilib import provenance
from lilib.errors import ArgumentError
from lilib.store import ResultStore, calculator_record, encode_result, result_key

__all__ = [
    "LATTICE_DYNAMICS",
    "RELAXED_SINGLE_POINT",
    "ScreenReport",
    "Task",
    "run",
]

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Task:
    """A computation to screen: ``func(atoms, **settings)`` returns a storable result.

    ``name`` and ``version`` enter the store key: raise ``version`` when the code changes what
    ``func`` returns. ``func`` must be importable by name (a module-level function) to run in
    worker processes. ``calculator_setting``: the settings entry naming the calculator, whose
    identity (model and package version) enters the key.
    """

    name: str
    version: int
    func: Callable[..., Any]
    calculator_setting: str | None = None


def _one_thread() -> None:
    for var in _THREAD_VARS:
        os.environ[var] = "1"
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(1)


def _calculator(model: str):
    """The named MLIP on one torch thread (loaded once per worker process)."""
    import torch

    from lilib.calculators import get_calculator

    torch.set_num_threads(1)
    return get_calculator(model)


def lattice_dynamics_task(
    atoms,
    *,
    model: str = "sevennet-0",
    min_length: float = 10.0,
    relax_fmax: float = 0.01,
    relax_steps: int = 500,
    mesh: int = 8,
    temperature_K: float = 300.0,
):
    """Relax cell and positions with ``model`` (BFGS to ``relax_fmax`` eV/Å), phonons on a
    supercell ≥ ``min_length`` Å, and :class:`~lilib.phonons.LatticeDynamics` descriptors on a
    ``mesh``³ Γ-centred mesh at ``temperature_K`` (the settings of scripts/make_descriptors.py)."""
    from lilib.phonons import compute_phonons, lattice_dynamics

    calc = _calculator(model)
    relax = {"fmax": relax_fmax, "steps": relax_steps, "cell": True, "optimizer": "BFGS"}
    ph = compute_phonons(atoms, calc, min_length=min_length, relax_first=relax)
    return lattice_dynamics(
        ph,
        mesh=mesh,
        temperature_K=temperature_K,
        label=atoms.info.get("name") or atoms.get_chemical_formula(),
        source=model,
    )


def relaxed_single_point_task(atoms, *, calculator: str = "emt", fmax: float = 0.01):
    """Relax positions and cell with ``calculator`` (a model name, or 'emt' for ASE's EMT),
    then :class:`~lilib.calculators.SinglePoint` of the relaxed structure."""
    from lilib.calculators import single_point
    from lilib.phonons import relax

    if calculator == "emt":
        from ase.calculators.emt import EMT

        calc = EMT()
    else:
        calc = _calculator(calculator)
    relaxed = relax(atoms, calc, fmax=fmax, cell=True).atoms
    return single_point(relaxed, calc)


LATTICE_DYNAMICS = Task("lattice_dynamics", 1, lattice_dynamics_task, "model")
RELAXED_SINGLE_POINT = Task("relaxed_single_point", 1, relaxed_single_point_task, "calculator")


def _work(func: Callable[..., Any], atoms, settings: dict[str, Any]) -> tuple[str, str, float]:
    """Worker side: (status, encoded result or error text, seconds)."""
    _one_thread()
    t0 = time.perf_counter()
    try:
        result = func(atoms, **settings)
        text = encode_result(result)
    except Exception as exc:  # recorded in the store; the run goes on
        tail = "".join(traceback.format_exception(exc)[-3:]).strip()
        return "failed", f"{type(exc).__name__}: {exc}\n{tail}", time.perf_counter() - t0
    return "done", text, time.perf_counter() - t0


@dataclass(frozen=True, eq=False)
class ScreenReport:
    """What :func:`run` did: per structure its key and ``outcome`` ('cached', 'computed',
    'failed'), seconds of compute, the error; ``wall_s`` of the whole run, the executor."""

    task: str
    executor: str
    wall_s: float
    rows: list[dict[str, Any]] = field(repr=False)

    @property
    def n_computed(self) -> int:
        """Entries computed (successfully) in this run."""
        return sum(r["outcome"] == "computed" for r in self.rows)

    @property
    def n_cached(self) -> int:
        """Entries found in the store."""
        return sum(r["outcome"] == "cached" for r in self.rows)

    @property
    def n_failed(self) -> int:
        """Entries whose task raised (stored as 'failed')."""
        return sum(r["outcome"] == "failed" for r in self.rows)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per structure: name, outcome, seconds, error, key."""
        return pd.DataFrame(self.rows, columns=["name", "outcome", "seconds", "error", "key"])


def _structures(structures) -> dict[str, Any]:
    from ase import Atoms

    from lilib import structures as library

    if isinstance(structures, Mapping):
        items = list(structures.items())
    elif isinstance(structures, list | tuple):
        items = [(s if isinstance(s, str) else s.get_chemical_formula(), s) for s in structures]
    else:
        raise ArgumentError(
            "structures",
            f"expected a dict name → Atoms/library name, or a list, got {structures!r}",
        )
    out: dict[str, Any] = {}
    for name, s in items:
        atoms = library.load(s) if isinstance(s, str) else s
        if not isinstance(atoms, Atoms):
            raise ArgumentError("structures", f"{name!r}: expected ase.Atoms or a library name")
        if name in out:
            raise ArgumentError("structures", f"name {name!r} appears twice")
        atoms = atoms.copy()
        atoms.calc = None
        atoms.info["name"] = str(name)
        out[str(name)] = atoms
    return out


@contextlib.contextmanager
def _executor(executor, max_workers: int) -> Iterator[tuple[Any, str]]:
    if isinstance(executor, cf.Executor):
        yield executor, type(executor).__name__
        return
    if executor == "serial":
        yield None, "serial"
        return
    if executor == "processes":
        ctx = multiprocessing.get_context("spawn")  # torch and threads do not survive fork
        with cf.ProcessPoolExecutor(max_workers, mp_context=ctx, initializer=_one_thread) as ex:
            yield ex, f"processes×{max_workers}"
        return
    if executor == "dask":
        from dask.distributed import Client, LocalCluster

        provenance.cite("dask")
        env = dict.fromkeys(_THREAD_VARS, "1")
        with (
            LocalCluster(
                n_workers=max_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                env=env,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client.get_executor(pure=False), f"dask LocalCluster×{max_workers}"
        return
    raise ArgumentError(
        "executor",
        f"expected 'processes', 'dask', 'serial' or a concurrent.futures.Executor, got {executor!r}",
    )


def _full_settings(task: Task, settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """The task's keyword defaults updated with ``settings``: all of them enter the key."""
    params = inspect.signature(task.func).parameters
    defaults = {
        k: p.default
        for k, p in params.items()
        if p.kind is p.KEYWORD_ONLY or (p.default is not p.empty and k != "atoms")
    }
    given = dict(settings or {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ArgumentError(
            "settings", f"{unknown} not accepted by {task.name} (it takes {sorted(defaults)})"
        )
    missing = sorted(
        k for k, v in defaults.items() if v is inspect.Parameter.empty and k not in given
    )
    if missing:
        raise ArgumentError("settings", f"{task.name} needs {missing}")
    return {**defaults, **given}


def _progress(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm.std import tqdm  # plain text bar: lilib does not load notebook widgets

    return tqdm(total=total, file=sys.stderr, unit="structure", dynamic_ncols=True)


def run(
    task: Task,
    structures,
    store: ResultStore,
    *,
    settings: Mapping[str, Any] | None = None,
    executor: str | cf.Executor = "processes",
    max_workers: int = 2,
    retry_failed: bool = False,
    progress: bool = True,
) -> ScreenReport:
    """Compute ``task`` for every structure not yet in ``store``; store each result as it comes.

    structures: dict name → ``ase.Atoms`` or library name, or a list of library names/Atoms.
    settings: keyword arguments of ``task.func`` (part of the key). Returns a
    :class:`ScreenReport`; the results are read back with ``store.get``/``store.to_dataframe``.
    """
    if not isinstance(task, Task):
        raise ArgumentError("task", f"expected a lilib.screen.Task, got {task!r}")
    if not isinstance(store, ResultStore):
        raise ArgumentError("store", f"expected a lilib.store.ResultStore, got {store!r}")
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise ArgumentError("max_workers", f"expected an integer ≥ 1, got {max_workers!r}")
    settings = _full_settings(task, settings)
    atoms_by_name = _structures(structures)
    calc = calculator_record(settings.get(task.calculator_setting or ""))
    t0 = time.perf_counter()
    rows: dict[str, dict[str, Any]] = {}
    todo: list[tuple[str, str]] = []
    for name, atoms in atoms_by_name.items():
        key = result_key(task.name, task.version, atoms, settings, calc)
        row = {"name": name, "outcome": "", "seconds": 0.0, "error": "", "key": key}
        rows[name] = row
        if key in store:
            row["outcome"] = "cached"
        elif not retry_failed and store.get(key, status="failed") is not None:
            row["outcome"], row["error"] = (
                "failed",
                store.get(key, status="failed").error.splitlines()[0],
            )
        else:
            todo.append((name, key))

    def record(name: str, key: str, status: str, text: str, seconds: float) -> None:
        ok = status == "done"
        store.put(
            key, task=task.name, atoms=atoms_by_name[name], name=name, settings=settings,
            calculator=calc,
            encoded=text if ok else None, error="" if ok else text, wall_s=seconds,
        )  # fmt: skip
        rows[name].update(outcome="computed" if ok else "failed", seconds=seconds,
                          error="" if ok else text.splitlines()[0])  # fmt: skip

    bar = _progress(len(todo), progress and bool(todo))
    label = "serial"
    try:
        with _executor(executor if todo else "serial", max_workers) as (ex, label):
            if ex is None:
                for name, key in todo:
                    record(name, key, *_work(task.func, atoms_by_name[name], settings))
                    if bar is not None:
                        bar.update()
            else:
                futures = {
                    ex.submit(_work, task.func, atoms_by_name[name], settings): (name, key)
                    for name, key in todo
                }
                for fut in cf.as_completed(futures):
                    name, key = futures[fut]
                    try:
                        status, text, seconds = fut.result()
                    except Exception as exc:  # the worker died (memory, signal)
                        status, text, seconds = "failed", f"worker lost: {exc!r}", float("nan")
                    record(name, key, status, text, seconds)
                    if bar is not None:
                        bar.update()
    finally:
        if bar is not None:
            bar.close()
    return ScreenReport(
        task=task.name,
        executor=label if todo else "none (all cached)",
        wall_s=time.perf_counter() - t0,
        rows=list(rows.values()),
    )
