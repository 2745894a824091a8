"""lilib: helpers for ion-transport research in solid-state battery materials.

Compute only: this package never imports ipywidgets, nglview or IPython.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lilib")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = ["__version__"]
