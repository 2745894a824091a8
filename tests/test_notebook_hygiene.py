"""Notebooks stay reviewable and scalable: policy of scripts/clean_notebooks.py, parameters cell."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NAME = re.compile(r"^(\d\d_[a-z0-9_]+|widget_gallery)\.ipynb$")

_spec = importlib.util.spec_from_file_location(
    "clean_notebooks", ROOT / "scripts/clean_notebooks.py"
)
clean_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(clean_notebooks)


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean(path):
    assert clean_notebooks.problems(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_name_and_readme_entry(path):
    assert NAME.match(path.name), f"{path.name}: name notebooks NN_topic.ipynb"
    assert path.name in (ROOT / "README.md").read_text(), f"{path.name} missing from README"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_parameters_cell_reading_quick_mode(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert params, f"{path.name}: no code cell tagged 'parameters'"
    assert params[0] is code[0], f"{path.name}: the parameters cell must be the first code cell"
    assert "quick()" in params[0].source, (
        f"{path.name}: parameters cell must read lilib.config.quick()"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_ends_with_provenance_report(path):
    code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    assert "provenance.report()" in code[-1].source, (
        f"{path.name}: the last code cell must show lilib.provenance.report()"
    )


def test_cleaner_strips_unchecked_outputs_and_keeps_checked_text():
    nb = nbformat.v4.new_notebook()
    plain = nbformat.v4.new_code_cell("1 + 1")
    plain.outputs = [
        nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)
    ]
    plain.execution_count = 1
    checked = nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(2)")
    checked.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="2\n"),
        nbformat.v4.new_output("display_data", {"image/png": "AAAA", "text/plain": "<Figure>"}),
        nbformat.v4.new_output("display_data", {"image/png": "AAAA"}),
    ]
    nb.cells = [plain, checked]
    nb.metadata["widgets"] = {"state": {}}
    out = clean_notebooks.clean(nb)
    assert out.cells[0].outputs == [] and out.cells[0].execution_count is None
    assert out.cells[1].execution_count == 2  # nbval skips checked cells it deems "unrun"
    kinds = [(o.output_type, sorted(o.get("data", {}))) for o in out.cells[1].outputs]
    assert kinds == [("stream", []), ("display_data", ["text/plain"])]
    assert "widgets" not in out.metadata
