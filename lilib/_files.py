"""Checkpoint files written so that a kill at any moment leaves the old or the new file whole."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: Path, write: Callable[[Any], None]) -> None:
    """Call ``write(fh)`` on a temporary file beside ``path``, sync it, then rename it over."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """``data`` as indented JSON, written atomically."""
    text = json.dumps(data, indent=1) + "\n"
    atomic_write_bytes(path, lambda fh: fh.write(text.encode()))


def read_json(path: Path) -> Any:
    """The JSON in ``path``, or None when it is missing or unreadable (a cache that is not there)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
