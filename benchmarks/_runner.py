"""Run one benchmarked tool in a fresh child process (one BLAS/numba thread) and read its result.

The child prints one line ``RESULT {json}``; :func:`run_child` returns that dict with the
child's wall time added as ``wall_s``, or ``{"tool": ..., "error": ...}`` when it failed or
timed out. :func:`importable` says whether a peer can be imported, and why not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def child_env() -> dict[str, str]:
    """This environment with one thread per library and the repository first on PYTHONPATH."""
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = "1"
    repo = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (repo, env.get("PYTHONPATH", "")) if p)
    return env


def importable(module: str) -> str | None:
    """None when ``module`` imports in a child process, else the last line of its error."""
    r = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, env=child_env()
    )
    if r.returncode == 0:
        return None
    return (r.stderr.strip().splitlines() or ["?"])[-1][:120]


def run_child(code: str, tool: str, args: Sequence[str], timeout: float) -> dict:
    """Run ``python -c code tool *args``; the dict of its ``RESULT`` line plus ``wall_s``."""
    cmd = [sys.executable, "-c", code, tool, *args]
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=child_env())
    except subprocess.TimeoutExpired:
        return {"tool": tool, "error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - t0
    for line in r.stdout.splitlines():
        if line.startswith("RESULT "):
            out = json.loads(line[7:])
            out["wall_s"] = wall
            return out
    tail = (r.stderr.strip().splitlines() or ["no output"])[-1]
    return {"tool": tool, "error": tail[:160]}
