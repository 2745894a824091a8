"""`lilib` is the compute layer: it must never import UI packages (ipywidgets, nglview, IPython)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("ipywidgets", "nglview", "IPython", "widgets")


def test_lilib_source_has_no_ui_imports():
    offenders = []
    for path in sorted((ROOT / "lilib").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in FORBIDDEN:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert offenders == []


def test_importing_every_lilib_module_loads_no_ui_package():
    """Import all of lilib in a fresh interpreter; no UI module may appear in sys.modules."""
    code = (
        "import importlib, pkgutil, sys, lilib\n"
        "for m in pkgutil.walk_packages(lilib.__path__, 'lilib.'):\n"
        "    importlib.import_module(m.name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_widgets_builds_on_lilib():
    import widgets

    assert callable(widgets.show_structure)
