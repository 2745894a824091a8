"""Module-level tasks for tests/test_screen.py (worker processes import them by name)."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path


def slow_emt_energy(atoms, *, delay_s: float = 0.0, calls_dir: str = "", fail_on: str = ""):
    """EMT energy per atom (eV) after ``delay_s``; one file per call in ``calls_dir``; raises
    for a structure named ``fail_on``."""
    from ase.calculators.emt import EMT

    if calls_dir:
        name = atoms.info.get("name", "?")
        Path(calls_dir, f"{name}-{os.getpid()}-{uuid.uuid4().hex[:8]}").touch()
    time.sleep(delay_s)
    if fail_on and atoms.info.get("name") == fail_on:
        raise RuntimeError(f"asked to fail on {fail_on}")
    work = atoms.copy()
    work.calc = EMT()
    return {"energy_per_atom_eV": work.get_potential_energy() / len(work), "pid": 0}
