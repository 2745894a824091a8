"""Keep notebooks reviewable: stored outputs only where nbval checks them.

Policy (enforced by tests/test_notebook_hygiene.py):
- a code cell keeps its outputs only if its first line is ``# NBVAL_CHECK_OUTPUT``, and then only
  text outputs (stream, text/plain); everything else (images, widget views, HTML) is stripped;
- no execution counts (checked cells get their 1-based position among code cells, which nbval
  needs to treat them as run), no widget state, no kernel metadata besides the kernelspec.

Usage:
    python scripts/clean_notebooks.py notebooks/*.ipynb            # strip in place
    python scripts/clean_notebooks.py --check notebooks/*.ipynb    # exit 1 if any needs cleaning
    python scripts/clean_notebooks.py --execute notebooks/NB.ipynb # run (LILIB_QUICK=1), then strip
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
TEXT_MIME = {"text/plain"}
KEEP_NB_METADATA = {"kernelspec", "language_info"}
KEEP_CELL_METADATA = {"tags"}


def is_checked(cell) -> bool:
    """True for code cells whose stored output nbval compares."""
    return cell.cell_type == "code" and cell.source.lstrip().startswith(CHECK_MARK)


def _text_only(output):
    if output.output_type == "stream":
        return output
    if output.output_type in ("execute_result", "display_data"):
        data = {k: v for k, v in output.get("data", {}).items() if k in TEXT_MIME}
        if not data:
            return None
        output = nbformat.from_dict(dict(output, data=data, metadata={}))
        return output
    return None  # errors are never stored


def clean(nb) -> nbformat.NotebookNode:
    """Return a cleaned copy of a notebook (see module docstring)."""
    nb = nbformat.from_dict(nb)
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in KEEP_NB_METADATA}
    nb.metadata.get("language_info", {}).pop("version", None)
    n_code = 0
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA}
        if not cell.get("attachments"):
            cell.pop("attachments", None)
        if cell.cell_type != "code":
            continue
        n_code += 1
        checked = is_checked(cell)
        cell.execution_count = n_code if checked else None
        outputs = [_text_only(o) for o in cell.outputs] if checked else []
        cell.outputs = [o for o in outputs if o is not None]
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output["execution_count"] = cell.execution_count
    return nb


def problems(path: Path) -> list[str]:
    """What in ``path`` breaks the policy (empty when clean)."""
    nb = nbformat.read(path, as_version=4)
    found = []
    if nbformat.writes(clean(nb)) != nbformat.writes(nb):
        found.append(f"{path}: stored outputs, counts or metadata beyond the policy "
                     "(run `make nb-clean`)")  # fmt: skip
    return found


def execute(path: Path) -> None:
    """Run a notebook in quick mode in its own directory and store the result."""
    from nbclient import NotebookClient

    os.environ.setdefault("LILIB_QUICK", "1")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="report, change nothing")
    parser.add_argument("--execute", action="store_true", help="run in quick mode before cleaning")
    args = parser.parse_args(argv)
    if args.check:
        found = [p for path in args.notebooks for p in problems(path)]
        print("\n".join(found) or "notebooks clean")
        return 1 if found else 0
    for path in args.notebooks:
        if args.execute:
            execute(path)
        nbformat.write(clean(nbformat.read(path, as_version=4)), path)
        print(f"cleaned {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
