"""Small reference tables shipped inside the package.

>>> from lilib.data import transport_table
>>> df = transport_table()
>>> df.attrs["units"]["sigma_exp_low_mS_cm"]
'mS/cm'

``transport_table.csv`` is Table 1 of Fu, Chen & Zhang, "Review on the lithium
transport mechanism in solid-state battery materials": activation energies,
diffusion coefficients and ionic conductivities, experimental and computed, one
row per material. How it was read from the review (and which cells had to be put
back in their columns) is described in ``TRANSPORT_TABLE.md`` next to it.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd

from lilib.config import package_data_dir
from lilib.errors import DataNotFoundError, FileFormatError

__all__ = ["TRANSPORT_QUANTITIES", "TRANSPORT_UNITS", "transport_table", "transport_table_path"]

#: The six quantities of the table: (column prefix, column unit suffix, unit).
TRANSPORT_QUANTITIES: tuple[tuple[str, str, str], ...] = (
    ("Ea_exp", "eV", "eV"),
    ("Ea_calc", "eV", "eV"),
    ("D_exp", "cm2_s", "cm^2/s"),
    ("D_calc", "cm2_s", "cm^2/s"),
    ("sigma_exp", "mS_cm", "mS/cm"),
    ("sigma_calc", "mS_cm", "mS/cm"),
)

_HEAD = ["seed_order", "category", "material", "material_text"]
_TAIL = ["refs", "reconstructed", "seed_line", "seed_row", "note"]
_FLOAT: list[str] = []
_COLUMNS: list[str] = list(_HEAD)
#: Unit of every numeric column of :func:`transport_table` (also ``df.attrs["units"]``).
TRANSPORT_UNITS: dict[str, str] = {}
for _q, _suffix, _unit in TRANSPORT_QUANTITIES:
    _lo, _hi = f"{_q}_low_{_suffix}", f"{_q}_high_{_suffix}"
    _COLUMNS += [_lo, _hi, f"{_q}_text", f"{_q}_refs"]
    _FLOAT += [_lo, _hi]
    TRANSPORT_UNITS[_lo] = _unit
    TRANSPORT_UNITS[_hi] = _unit
_COLUMNS += _TAIL
_INT = ["seed_order", "seed_line"]


def transport_table_path() -> Path:
    """Path of the shipped ``transport_table.csv``."""
    return package_data_dir() / "transport_table.csv"


def _float(path: Path, line: int, column: str, text: str) -> float:
    if text == "":
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise FileFormatError(
            path, f"column {column!r}: {text!r} is not a number", line=line
        ) from None
    if not math.isfinite(value):
        raise FileFormatError(
            path,
            f"column {column!r}: {text!r} is not a finite number (leave the cell empty)",
            line=line,
        )
    return value


def _int(path: Path, line: int, column: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise FileFormatError(
            path, f"column {column!r}: {text!r} is not an integer", line=line
        ) from None


def _check_record(path: Path, line: int, rec: dict) -> None:
    for q, suffix, _ in TRANSPORT_QUANTITIES:
        lo, hi = rec[f"{q}_low_{suffix}"], rec[f"{q}_high_{suffix}"]
        if math.isnan(lo) != math.isnan(hi):
            raise FileFormatError(
                path, f"{q}: low and high must both be given or both be empty", line=line
            )
        if not math.isnan(lo):
            if lo > hi:
                raise FileFormatError(path, f"{q}: low {lo!r} > high {hi!r}", line=line)
            if rec[f"{q}_text"] == "":
                raise FileFormatError(
                    path,
                    f"{q}: numbers given but {q}_text (the cell as printed) is empty",
                    line=line,
                )


def transport_table(path: str | Path | None = None) -> pd.DataFrame:
    """Table 1 of the review as a DataFrame, one row per material, in the review's order.

    Columns: ``seed_order``, ``category`` (Anode, SEI, Sulfide/Oxide/Halide electrolyte,
    Cathode), ``material`` (plain formula), ``material_text`` (as printed); for each of
    ``Ea_exp``, ``Ea_calc`` (eV), ``D_exp``, ``D_calc`` (cm^2/s), ``sigma_exp``,
    ``sigma_calc`` (mS/cm): ``<q>_low_<unit>`` and ``<q>_high_<unit>`` (float, NaN where the
    table gives nothing; a single value has low == high), ``<q>_text`` (the cell as printed)
    and ``<q>_refs`` (the review's reference numbers, ``;``-separated); then ``refs`` (all
    references of the row), ``reconstructed`` (bool: a cell was moved back to its column),
    ``seed_line``, ``seed_row`` (the row as extracted) and ``note`` (what was moved and why,
    and doubts about the printed values).

    ``df.attrs["units"]`` maps each numeric column to its unit. ``path`` reads another copy
    of the CSV (default: the one shipped in ``lilib/data``). Raises
    :class:`~lilib.errors.FileFormatError` (with the line) for a malformed file and
    :class:`~lilib.errors.DataNotFoundError` for a missing one.
    """
    path = Path(path) if path is not None else transport_table_path()
    if not path.is_file():
        raise DataNotFoundError("transport table CSV", [path])
    records: list[dict] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise FileFormatError(path, "empty file (no header)", line=1)
            if header != _COLUMNS:
                missing = [c for c in _COLUMNS if c not in header]
                extra = [c for c in header if c not in _COLUMNS]
                raise FileFormatError(
                    path,
                    f"unexpected header (missing: {missing or 'none'}; unknown: {extra or 'none'}; "
                    "or columns out of order)",
                    line=1,
                )
            for row in reader:
                line = reader.line_num
                if not row:
                    raise FileFormatError(path, "empty line", line=line)
                if len(row) != len(_COLUMNS):
                    raise FileFormatError(
                        path, f"expected {len(_COLUMNS)} fields, found {len(row)}", line=line
                    )
                rec: dict = dict(zip(_COLUMNS, row))
                for col in _FLOAT:
                    rec[col] = _float(path, line, col, rec[col])
                for col in _INT:
                    rec[col] = _int(path, line, col, rec[col])
                if rec["reconstructed"] not in ("true", "false"):
                    raise FileFormatError(
                        path,
                        f"column 'reconstructed': {rec['reconstructed']!r} is not true/false",
                        line=line,
                    )
                rec["reconstructed"] = rec["reconstructed"] == "true"
                if not rec["material"]:
                    raise FileFormatError(path, "empty 'material'", line=line)
                _check_record(path, line, rec)
                records.append(rec)
        except csv.Error as exc:
            raise FileFormatError(path, f"CSV syntax: {exc}", line=reader.line_num) from None
    if not records:
        raise FileFormatError(path, "no data rows", line=2)
    df = pd.DataFrame.from_records(records, columns=_COLUMNS)
    df[_FLOAT] = df[_FLOAT].astype("float64")
    df[_INT] = df[_INT].astype("int64")
    df["reconstructed"] = df["reconstructed"].astype(bool)
    df.attrs["units"] = dict(TRANSPORT_UNITS)
    df.attrs["source"] = (
        "Fu Z-H, Chen X, Zhang Q. Review on the lithium transport mechanism in "
        "solid-state battery materials. Table 1"
    )
    df.attrs["path"] = str(path)
    return df
