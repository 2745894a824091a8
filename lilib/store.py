"""Results store on an ASE database: SQLite file by default, PostgreSQL by URL.

>>> from lilib.store import ResultStore
>>> store = ResultStore("results.db")  # or "postgresql://user:pw@host:5432/lilib"
>>> key = store.key("lattice_dynamics", 1, atoms, settings, calculator)
>>> store.put(key, task="lattice_dynamics", atoms=atoms, result=ld, name="LiF")
>>> store.get(key).result  # the LatticeDynamics again, bit for bit
>>> store.to_dataframe("lattice_dynamics")  # one row per material, the numbers as columns

Keys are content hashes (SHA-256) of the task name and its version number, the structure
(cell, numbers, masses, positions rounded to 1e-8 Å, pbc), the settings and the calculator
identity with the versions of its packages: the same computation is a cache hit, any change a
miss. The git commit is not part of the key (every commit would be a miss); a task's version
number is raised when its code changes what it returns.

Results are any of lilib's result dataclasses (or plain dicts/lists/numbers); they are stored as
JSON with numpy arrays as compressed exact bytes, ``ase.Atoms`` via ASE's JSON encoder and
DataFrames by their columns, so a round trip returns equal values. Classes are re-created only
from ``lilib`` modules. One row per entry; a key written twice (two writers racing) keeps both
rows and :meth:`ResultStore.get` returns the newest.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as _dt
import hashlib
import importlib
import json
import os
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lilib.errors import ArgumentError, FileFormatError, StoreError
from lilib.provenance import package_version

__all__ = [
    "ResultStore",
    "StoredResult",
    "decode_result",
    "encode_result",
    "read_result_file",
    "result_key",
    "write_result_file",
]

FORMAT = "lilib.store/1"
_PG_LOCK = 0x11B1B  # advisory-lock id of lilib's writers
_TAG = "__lilib__"


# ------------------------------------------------------------------------------ codec


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        if not cls.__module__.startswith("lilib."):
            raise ArgumentError("result", f"cannot store a {cls.__qualname__} (not a lilib type)")
        fields = {
            f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init
        }
        return {_TAG: "dataclass", "type": f"{cls.__module__}:{cls.__qualname__}", "fields": fields}
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        if arr.dtype == object:
            return {_TAG: "objarray", "items": [_encode(v) for v in arr.ravel().tolist()],
                    "shape": list(arr.shape)}  # fmt: skip
        raw = zlib.compress(arr.tobytes(), 6)
        return {_TAG: "ndarray", "dtype": arr.dtype.str, "shape": list(arr.shape),
                "zlib_b64": base64.b64encode(raw).decode("ascii")}  # fmt: skip
    if isinstance(value, np.generic):
        return _encode(value.item())
    if isinstance(value, float):
        return value if np.isfinite(value) else {_TAG: "float", "repr": repr(value)}
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, tuple):
        return {_TAG: "tuple", "items": [_encode(v) for v in value]}
    if isinstance(value, os.PathLike):
        return {_TAG: "path", "value": os.fspath(value)}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, Mapping):
        if all(isinstance(k, str) for k in value) and _TAG not in value:
            return {k: _encode(v) for k, v in value.items()}
        return {_TAG: "dict", "items": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, pd.DataFrame):
        return {_TAG: "dataframe", "columns": [_encode(c) for c in value.columns],
                "index": _encode(value.index.to_numpy()),
                "data": [_encode(value[c].to_numpy()) for c in value.columns]}  # fmt: skip
    from ase import Atoms

    if isinstance(value, Atoms):
        from ase.io.jsonio import encode

        return {_TAG: "atoms", "json": encode(value)}
    raise ArgumentError("result", f"cannot store a value of type {type(value).__name__}")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get(_TAG)
    if kind is None:
        return {k: _decode(v) for k, v in value.items()}
    if kind == "ndarray":
        raw = zlib.decompress(base64.b64decode(value["zlib_b64"]))
        return np.frombuffer(raw, dtype=np.dtype(value["dtype"])).reshape(value["shape"]).copy()
    if kind == "objarray":
        out = np.empty(len(value["items"]), dtype=object)
        out[:] = [_decode(v) for v in value["items"]]
        return out.reshape(value["shape"])
    if kind == "float":
        return float(value["repr"])
    if kind == "tuple":
        return tuple(_decode(v) for v in value["items"])
    if kind == "path":
        return Path(value["value"])
    if kind == "dict":
        return {_decode(k): _decode(v) for k, v in value["items"]}
    if kind == "dataframe":
        cols = [_decode(c) for c in value["columns"]]
        data = {c: _decode(d) for c, d in zip(cols, value["data"])}
        return pd.DataFrame(data, index=_decode(value["index"]), columns=cols)
    if kind == "atoms":
        from ase.io.jsonio import decode

        return decode(value["json"])
    if kind == "dataclass":
        module, _, qualname = value["type"].partition(":")
        if not module.startswith("lilib."):
            raise ValueError(f"refusing to create {value['type']}: not a lilib type")
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
        return obj(**{k: _decode(v) for k, v in value["fields"].items()})
    raise ValueError(f"unknown encoded kind {kind!r}")


def encode_result(result: Any) -> str:
    """JSON text of a lilib result (dataclass, array, dict, ...) that :func:`decode_result` reads
    back to equal values (arrays bit for bit)."""
    return json.dumps(_encode(result), separators=(",", ":"), allow_nan=False)


def decode_result(text: str) -> Any:
    """The value :func:`encode_result` wrote."""
    return _decode(json.loads(text))


def write_result_file(path: str | os.PathLike, result: Mapping[str, Any], fmt: str) -> Path:
    """Write ``result`` (a dict of lilib results, arrays, plain values) as one JSON file with
    ``"format": fmt``, atomically; :func:`read_result_file` reads it back. Returns the path."""
    from lilib._files import atomic_write_bytes

    path = Path(path)
    if "format" in result:
        raise ArgumentError("result", "the key 'format' is reserved for fmt")
    text = encode_result({"format": fmt, **result})
    atomic_write_bytes(path, lambda fh: fh.write(text.encode()))
    return path


def read_result_file(path: str | os.PathLike, fmt: str) -> dict[str, Any]:
    """The dict a :func:`write_result_file` call with the same ``fmt`` wrote; FileFormatError
    naming the file when it is not JSON, has another format or holds an unreadable value."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileFormatError(path, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FileFormatError(path, f"cannot be read as text: {exc}") from None
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise FileFormatError(
            path, f"not valid JSON ({exc})", getattr(exc, "lineno", None)
        ) from None
    if not isinstance(raw, dict) or raw.get("format") != fmt:
        found = raw.get("format") if isinstance(raw, dict) else type(raw).__name__
        raise FileFormatError(path, f"expected format {fmt!r}, found {found!r}")
    try:
        return _decode(raw)
    except Exception as exc:  # zlib, base64, shapes, a lilib type's own validation
        raise FileFormatError(path, f"unreadable value ({type(exc).__name__}: {exc})") from None


# ------------------------------------------------------------------------------ keys


def calculator_record(calculator: Any) -> dict[str, Any]:
    """Identity of a calculator for keys: class, model name, simple parameters, and the version
    of the package that defines its class (so a new model release is a cache miss). A string
    names a model of :func:`lilib.calculators.get_calculator` (its package version included)
    or 'emt' (ASE's EMT); a dict is taken as such a record."""
    if calculator is None:
        return {"name": None}
    if isinstance(calculator, Mapping):  # a record already
        return dict(calculator)
    if isinstance(calculator, str) and calculator.lower() == "emt":
        return {"name": "emt", "package": "ase", "version": package_version("ase")}
    if isinstance(calculator, str):
        from lilib import calculators

        name = calculators.resolve_name(calculator)
        package = calculators.model_package(name)
        return {"name": name, "package": package, "version": package_version(package)}
    from lilib.phonons.compute import calculator_identity

    ident = calculator_identity(calculator)
    package = type(calculator).__module__.split(".")[0]
    return {**ident, "package": package, "version": package_version(package)}


def result_key(
    task: str, version: int, atoms: Any, settings: Mapping[str, Any], calculator: Any
) -> str:
    """SHA-256 (hex) of task name + version, structure, settings and calculator identity."""
    from lilib.phonons.compute import _json_safe, _structure_key

    if not (isinstance(task, str) and task):
        raise ArgumentError("task", f"expected a task name, got {task!r}")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ArgumentError("version", f"expected an integer ≥ 1, got {version!r}")
    safe = _json_safe(dict(settings)) if isinstance(settings, Mapping) else None
    if safe is None or len(safe) != len(settings):
        raise ArgumentError(
            "settings", f"expected a dict of numbers, strings and lists, got {settings!r}"
        )
    payload = {
        "task": task,
        "version": version,
        "structure": _structure_key(atoms)["sha256"],
        "settings": safe,
        "calculator": calculator_record(calculator),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


# ------------------------------------------------------------------------------ store


@dataclass(frozen=True, eq=False)
class StoredResult:
    """One stored entry: ``status`` 'done' (``result`` set) or 'failed' (``error`` set),
    the input ``atoms``, ``name``, ``task``, ``settings``, ``calculator`` record, ``created``
    (ISO time, UTC), ``lilib_version`` and ``wall_s`` (compute time, s)."""

    key: str
    task: str
    name: str
    status: str
    atoms: Any
    result: Any
    error: str
    settings: dict[str, Any]
    calculator: dict[str, Any]
    created: str
    lilib_version: str
    wall_s: float


def _check_url(url: str | os.PathLike) -> str:
    text = os.fspath(url) if isinstance(url, os.PathLike) else url
    if not isinstance(text, str) or not text:
        raise ArgumentError("url", f"expected a file path or a postgresql:// URL, got {url!r}")
    if text.startswith(("postgresql://", "postgres://")):
        return "postgresql://" + text.split("://", 1)[1]
    if "://" in text:
        raise ArgumentError("url", f"{text!r}: only SQLite files and postgresql:// URLs")
    return text


class ResultStore:
    """Results in an ASE database (:func:`ase.db.connect`): a SQLite file path (created when
    missing) or a ``postgresql://user:password@host:port/dbname`` URL. Safe for several
    processes writing at once (SQLite waits for the lock, PostgreSQL has transactions)."""

    def __init__(self, url: str | os.PathLike = "lilib-results.db") -> None:
        self.url = _check_url(url)
        self._db = None
        self._lock_connection = None

    def __repr__(self) -> str:
        return f"ResultStore({self.url!r})"

    @property
    def db(self):
        """The :class:`ase.db.core.Database` (connected on first use)."""
        if self._db is None:
            from ase.db import connect

            if not self.url.startswith("postgresql://"):
                Path(self.url).parent.mkdir(parents=True, exist_ok=True)
            try:
                with self._init_lock():
                    db = connect(self.url, type="postgresql" if self._is_pg else "db")
                    db.count()  # opens it: a bad file or server fails here, not later
                self._db = db
            except Exception as exc:  # driver errors differ between backends
                pg_missing = self._is_pg and isinstance(exc, ImportError)
                hint = " (pip install psycopg2-binary ase-db-backends)" if pg_missing else ""
                raise StoreError(self.url, f"cannot open the database: {exc}{hint}") from exc
        return self._db

    @property
    def _is_pg(self) -> bool:
        return self.url.startswith("postgresql://")

    key = staticmethod(result_key)

    def put(
        self,
        key: str,
        *,
        task: str,
        atoms: Any,
        name: str = "",
        result: Any = None,
        error: str = "",
        settings: Mapping[str, Any] | None = None,
        calculator: Any = None,
        wall_s: float = float("nan"),
        encoded: str | None = None,
    ) -> int:
        """Store one entry (``result`` or, for a failure, ``error``); returns the row id.
        ``encoded``: the result already as :func:`encode_result` text (from a worker)."""
        from lilib import __version__

        if error and (result is not None or encoded is not None):
            raise ArgumentError("error", "give either a result or an error, not both")
        text = encoded if encoded is not None else (None if error else encode_result(result))
        calc = calculator_record(calculator)
        data = {
            "format": FORMAT,
            "result": text or "",
            "error": str(error),
            "settings": json.dumps(dict(settings or {}), sort_keys=True, default=str),
            "calculator": json.dumps(calc, sort_keys=True, default=str),
        }
        kvp = {
            "result_key": str(key),
            "task": str(task),
            "name": str(name) or "-",
            "status": "failed" if error else "done",
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "lilib_version": __version__,
            "wall_s": float(wall_s) if np.isfinite(wall_s) else -1.0,
        }
        with self._write_lock():
            return int(self.db.write(atoms, key_value_pairs=kvp, data=data))

    @contextlib.contextmanager
    def _init_lock(self) -> Iterator[None]:
        # ASE creates a new SQLite file's tables and then its version row in two steps: a second
        # process opening the file in between reads no version and fails. A lock file beside the
        # database serialises the first opening (POSIX; elsewhere nothing is locked).
        if self._is_pg:
            yield
            return
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            yield
            return
        with open(f"{self.url}.lilib-open.lock", "a") as fh:  # not ASE's own <db>.lock
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        # ase-db-backends' PostgreSQL writer reads the new row id as the sequence's global
        # last_value, so two writers at once can attach rows to each other's ids (seen as a
        # foreign-key violation). A server-side advisory lock makes writes one at a time.
        if not self._is_pg:
            yield
            return
        if self._lock_connection is None:
            import psycopg2

            self._lock_connection = psycopg2.connect(self.url)
            self._lock_connection.autocommit = True
        with self._lock_connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (_PG_LOCK,))
            try:
                yield
            finally:
                cur.execute("SELECT pg_advisory_unlock(%s)", (_PG_LOCK,))

    def _rows(self, **selection):
        return list(self.db.select(**{k: v for k, v in selection.items() if v is not None}))

    def _entry(self, row) -> StoredResult:
        data = row.data
        try:
            result = decode_result(data["result"]) if data.get("result") else None
            settings = json.loads(data.get("settings", "{}"))
            calc = json.loads(data.get("calculator", "{}"))
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(self.url, f"row {row.id}: unreadable stored result: {exc}") from None
        return StoredResult(
            key=row.result_key,
            task=row.task,
            name="" if row.name == "-" else row.name,
            status=row.status,
            atoms=row.toatoms(),
            result=result,
            error=data.get("error", ""),
            settings=settings,
            calculator=calc,
            created=row.created,
            lilib_version=row.lilib_version,
            wall_s=float("nan") if row.wall_s < 0 else float(row.wall_s),
        )

    def get(self, key: str, *, status: str | None = "done") -> StoredResult | None:
        """The newest entry of ``key`` with ``status`` ('done', 'failed' or None for any)."""
        rows = self._rows(result_key=key, status=status)
        return self._entry(max(rows, key=lambda r: r.id)) if rows else None

    def __contains__(self, key: str) -> bool:
        return self.db.count(result_key=key, status="done") > 0

    def keys(self, task: str | None = None, status: str | None = "done") -> set[str]:
        """Keys with ``status`` (None: any) of ``task`` (None: all tasks)."""
        return {r.result_key for r in self._rows(task=task, status=status)}

    def entries(self, task: str | None = None, status: str | None = "done") -> list[StoredResult]:
        """All entries (newest per key), oldest first."""
        newest: dict[str, Any] = {}
        for row in sorted(self._rows(task=task, status=status), key=lambda r: r.id):
            newest[row.result_key] = row
        return [self._entry(r) for r in newest.values()]

    def count(self, task: str | None = None, status: str | None = "done") -> int:
        """Number of distinct keys with ``status`` of ``task``."""
        return len(self.keys(task, status))

    def to_dataframe(self, task: str | None = None, status: str | None = "done") -> pd.DataFrame:
        """One row per key: name, task, status, formula, the result's numbers (from its
        ``to_dict()`` or its scalar fields), error, wall_s, created."""
        rows = []
        for e in self.entries(task, status):
            row = {"name": e.name, "task": e.task, "status": e.status,
                   "formula": e.atoms.get_chemical_formula()}  # fmt: skip
            row.update(_scalars(e.result))
            row.update(error=e.error, wall_s=e.wall_s, created=e.created, key=e.key)
            rows.append(row)
        return pd.DataFrame(rows)


def _scalars(result: Any) -> dict[str, Any]:
    if result is None:
        return {}
    if hasattr(result, "to_dict"):
        result = result.to_dict()
    elif dataclasses.is_dataclass(result):
        result = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    if not isinstance(result, Mapping):
        return {"result": result} if isinstance(result, int | float | str) else {}
    return {
        k: v
        for k, v in result.items()
        if isinstance(v, bool | int | float | str | np.generic) and not isinstance(v, bytes)
    }
