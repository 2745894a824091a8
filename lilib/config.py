"""Run-time settings: the quick-mode switch and where data lives."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir", "package_data_dir", "quick", "shared_data_dir"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def quick() -> bool:
    """True when ``LILIB_QUICK`` asks for quick mode (CI and default notebook runs).

    Accepts 1/true/yes/on and 0/false/no/off (any case); anything else is an error,
    so a typo never silently launches a research-size run.
    """
    from lilib.errors import ArgumentError

    value = os.environ.get("LILIB_QUICK", "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ArgumentError("LILIB_QUICK", f"expected 1/0/true/false, got {value!r}")


def package_data_dir() -> Path:
    """Directory of the small tables shipped inside the ``lilib`` package."""
    return Path(__file__).resolve().parent / "data"


def shared_data_dir() -> Path | None:
    """The reference data directory, or None where there is none.

    ``LILIB_SHARED_DATA`` wins; otherwise ``../shared/data`` next to the repository
    (a developer checkout). A user's clone usually has neither: tests skip then.
    """
    env = os.environ.get("LILIB_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "data")
    for path in candidates:
        if path.is_dir():
            return path
    return None


def cache_dir() -> Path:
    """Directory for cached computations (``LILIB_CACHE`` or ``~/.cache/lilib``); created on demand."""
    path = Path(os.environ.get("LILIB_CACHE", Path.home() / ".cache" / "lilib"))
    path.mkdir(parents=True, exist_ok=True)
    return path
