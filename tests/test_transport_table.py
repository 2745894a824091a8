"""Tests of lilib.data.transport_table (Table 1 of the Fu/Chen/Zhang Li-transport review)."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lilib.data import TRANSPORT_QUANTITIES, transport_table, transport_table_path
from lilib.errors import DataNotFoundError, FileFormatError

QUANTS = [(q, f"{q}_low_{s}", f"{q}_high_{s}") for q, s, _ in TRANSPORT_QUANTITIES]

# Plausible ranges, in the table's units.
EA_RANGE = (0.05, 3.0)  # eV
D_RANGE = (1e-20, 1e-3)  # cm^2/s
SIGMA_RANGE = (1e-12, 1e3)  # mS/cm (1e-15 .. 1 S/cm)
# Printed values outside SIGMA_RANGE, each explained in the row's note:
#  LiF sigma_calc 10^-28-10^-4 [225,230]: a computed, voltage-dependent range (its lower end is
#    a genuine printed value, far below anything measurable);
#  Li7GePS8 sigma_calc 10^-13 [100,240]: printed value, flagged as implausible (probably the
#    LGPS row's spilled sigma(cal) cell).
SIGMA_OUTLIERS = {
    ("LiF", "sigma_calc_low_mS_cm"): 1e-28,
    ("Li7GePS8", "sigma_calc_low_mS_cm"): 1e-13,
    ("Li7GePS8", "sigma_calc_high_mS_cm"): 1e-13,
}

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_59ed707ab38198c4.txt"


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return transport_table()


def row(df: pd.DataFrame, material: str) -> pd.Series:
    hit = df[df["material"] == material]
    assert len(hit) == 1, material
    return hit.iloc[0]


# --- a small independent parser of the printed cells -------------------------------


def norm(cell: str) -> str:
    """The normalisation used for ``*_text``: LaTeX markup and spaces dropped."""
    s = cell.replace("$", "").replace(r"\text{--}", "–").replace(r"\times", "×")
    s = re.sub(r"\s*\^\s*", "^", s).replace(" ", "")
    return s.replace("[", " [").replace("],", "], ").replace("(ab)", " (ab)").replace("(c)", " (c)")


def numbers(text: str) -> list[float]:
    s = re.sub(r"\[[^\]]*\]|\((?:ab|c)\)|\s", "", text)
    out: list[float] = []
    for part in filter(None, s.split(",")):
        m = re.fullmatch(r"\(?([\d.]+)(?:–([\d.]+))?\)?(?:×10\^\{(-?\d+)\})?", part)
        if m:
            e = m.group(3) or "0"
            out += [float(f"{g}e{e}") for g in m.group(1, 2) if g]
            continue
        m = re.fullmatch(r"10\^\{(-?\d+)\}(?:–10\^\{(-?\d+)\})?", part)
        assert m, f"unparsable cell {text!r}"
        out += [float(f"1e{g}") for g in m.group(1, 2) if g]
    return out


def refs(text: str) -> list[int]:
    out: list[int] = []
    for group in re.findall(r"\[([^\]]*)\]", text):
        for part in group.split(","):
            a, _, b = part.strip().partition("–")
            out += list(range(int(a), int(b or a) + 1))
    return list(dict.fromkeys(out))


# --- structure ---------------------------------------------------------------------


def test_shape_order_and_categories(df):
    assert len(df) == 85
    assert df["seed_order"].tolist() == list(range(1, 86))
    assert df["seed_line"].is_monotonic_increasing
    blocks = [(k, len(list(g))) for k, g in itertools.groupby(df["category"])]
    assert blocks == [
        ("Anode", 4),
        ("SEI", 8),
        ("Sulfide electrolyte", 18),
        ("Oxide electrolyte", 27),
        ("Halide electrolyte", 24),
        ("Cathode", 4),
    ]
    assert df["material"].is_unique
    assert df["material"].str.len().gt(0).all()


def test_dtypes_and_units_attrs(df):
    units = df.attrs["units"]
    numeric = [c for _, lo, hi in QUANTS for c in (lo, hi)]
    assert set(units) == set(numeric)
    for col in numeric:
        assert df[col].dtype == np.float64, col
        suffix = next(s for s in ("_eV", "_cm2_s", "_mS_cm") if col.endswith(s))
        assert units[col] == {"_eV": "eV", "_cm2_s": "cm^2/s", "_mS_cm": "mS/cm"}[suffix], col
    assert df["reconstructed"].dtype == bool
    assert df["seed_order"].dtype == np.int64
    assert "Table 1" in df.attrs["source"]


def test_default_path_is_the_package_csv(df):
    assert transport_table_path().name == "transport_table.csv"
    assert transport_table_path().parent.name == "data"
    pd.testing.assert_frame_equal(transport_table(transport_table_path()), df)


# --- values ------------------------------------------------------------------------


def test_low_le_high_and_paired(df):
    for q, lo, hi in QUANTS:
        assert (df[lo].isna() == df[hi].isna()).all(), q
        both = df[lo].notna()
        assert (df.loc[both, lo] <= df.loc[both, hi]).all(), q
        # a number exactly when the cell has text
        assert (both == df[f"{q}_text"].ne("")).all(), q


@pytest.mark.parametrize("prefix, bounds", [("Ea", EA_RANGE), ("D", D_RANGE)])
def test_plausible_ranges_ea_and_d(df, prefix, bounds):
    for q, lo, hi in QUANTS:
        if not q.startswith(prefix + "_"):
            continue
        values = pd.concat([df[lo], df[hi]]).dropna()
        assert len(values) > 0
        assert values.between(*bounds).all(), (q, values[~values.between(*bounds)].tolist())


def test_plausible_range_sigma_with_explained_outliers(df):
    seen = {}
    for q, lo, hi in QUANTS:
        if not q.startswith("sigma_"):
            continue
        for col in (lo, hi):
            for material, value in zip(df["material"], df[col]):
                if math.isnan(value):
                    continue
                if (material, col) in SIGMA_OUTLIERS:
                    seen[(material, col)] = value
                    continue
                assert SIGMA_RANGE[0] <= value <= SIGMA_RANGE[1], (material, col, value)
    assert seen == SIGMA_OUTLIERS
    # the outliers are flagged in their notes
    assert "computational" in row(df, "LiF")["note"]
    assert "implausible" in row(df, "Li7GePS8")["note"]


def test_numbers_match_printed_text_and_refs(df):
    for _, r in df.iterrows():
        allrefs: set[int] = set()
        for q, lo, hi in QUANTS:
            text = r[f"{q}_text"]
            if not text:
                assert r[f"{q}_refs"] == ""
                continue
            vals = numbers(text)
            assert r[lo] == pytest.approx(min(vals), rel=1e-12), (r["material"], q)
            assert r[hi] == pytest.approx(max(vals), rel=1e-12), (r["material"], q)
            cell_refs = refs(text)
            assert r[f"{q}_refs"] == ";".join(map(str, cell_refs)), (r["material"], q)
            allrefs.update(cell_refs)
        assert r["refs"] == ";".join(map(str, sorted(allrefs))), r["material"]


def _seed_cells(seed_row: str) -> list[str]:
    main, _, cont = seed_row.partition(" || continuation line 404: ")
    cells = main.split(" | ")
    assert len(cells) == 6
    return cells + (cont.split(" | ") if cont else [])


def test_clean_rows_keep_printed_columns(df):
    clean = df[~df["reconstructed"]]
    assert len(clean) == 41
    for _, r in clean.iterrows():
        cells = _seed_cells(r["seed_row"])
        for (q, _, _), cell in zip(QUANTS, cells):
            assert r[f"{q}_text"] == (norm(cell.strip()) if cell.strip() else ""), (
                r["material"],
                q,
            )
        assert r["note"]


def test_reconstruction_loses_and_invents_nothing(df):
    """Every printed cell appears in exactly one *_text column, and nothing else does."""
    printed = Counter(norm(c.strip()) for s in df["seed_row"] for c in _seed_cells(s) if c.strip())
    placed = Counter(t for q, _, _ in QUANTS for t in df[f"{q}_text"] if t)
    assert printed == placed
    for _, r in df[df["reconstructed"]].iterrows():
        assert "Clean row" not in r["note"] and len(r["note"]) > 40, r["material"]


# exact rows, values read from the seed (clean rows first, then reconstructed ones)
EXACT = {
    "Li": dict(
        Ea_exp=(0.52, 0.57), Ea_calc=(0.575, 0.575), D_exp=(5e-11, 9e-11), D_calc=(1e-11, 1e-10)
    ),
    "LiC6": dict(
        Ea_exp=(0.27, 0.55), Ea_calc=(0.283, 0.283), D_exp=(3.8e-11, 7.6e-11), D_calc=(9e-12, 9e-12)
    ),
    "LiC12": dict(
        Ea_exp=(0.17, 0.17),
        Ea_calc=(0.297, 0.297),
        D_exp=(1.46e-10, 1.46e-10),
        D_calc=(9e-12, 9e-12),
    ),
    "Li4Ti5O12": dict(Ea_exp=(0.2, 0.48), D_exp=(1.15e-11, 6.8e-11), sigma_exp=(5.96e-4, 5.96e-4)),
    "Li3N": dict(Ea_exp=(0.41, 0.68), D_exp=(2.53e-13, 3.49e-10), sigma_exp=(0.16, 0.58)),
    "Li7P3S11": dict(Ea_exp=(0.18, 0.18), sigma_exp=(17.0, 17.0)),
    "Li6PS5Cl": dict(Ea_exp=(0.33, 0.33), sigma_exp=(0.62, 2.4)),
    "Li10SiP2S12": dict(
        Ea_exp=(0.23, 0.27),
        Ea_calc=(0.24, 0.24),
        D_exp=(1.4e-8, 1.8e-8),
        D_calc=(4.4e-8, 4.4e-8),
        sigma_exp=(7.0, 7.0),
    ),
    "Li7La3Zr2O12": dict(
        Ea_exp=(0.32, 0.32), Ea_calc=(0.25, 0.25), sigma_exp=(0.3, 0.3), sigma_calc=(0.03, 0.03)
    ),
    "Li6.25Ga0.25La3Zr2O12": dict(Ea_exp=(0.25, 0.25), sigma_exp=(1.46, 1.46)),
    "LiCoO2": dict(
        Ea_exp=(0.3, 0.3), Ea_calc=(0.31, 0.31), D_exp=(1e-16, 1e-11), D_calc=(7.3e-19, 7.3e-19)
    ),
    # reconstructed
    "Li10GeP2S12": dict(
        Ea_exp=(0.21, 0.24),
        Ea_calc=(0.22, 0.23),
        D_exp=(2.2e-8, 2.2e-8),
        D_calc=(1e-7, 1e-7),
        sigma_exp=(12.0, 12.0),
    ),
    "LiF": dict(
        Ea_exp=(1.99, 1.99),
        Ea_calc=(2.03, 2.03),
        D_calc=(3.5e-16, 3.5e-16),
        sigma_exp=(1e-11, 1e-6),
        sigma_calc=(1e-28, 1e-4),
    ),
    "Li9.54Si1.74P1.44S11.7Cl0.3": dict(
        Ea_exp=(0.19, 0.19), sigma_exp=(25.0, 25.0), sigma_calc=(23.0, 23.0)
    ),
    "Li3InCl6": dict(
        Ea_exp=(0.326, 0.347), Ea_calc=(0.2, 0.2), sigma_exp=(1.49, 2.04), sigma_calc=(6.0, 21.0)
    ),
    "Li3YCl6": dict(
        Ea_exp=(0.40, 0.45), Ea_calc=(0.19, 0.19), sigma_exp=(0.095, 0.5), sigma_calc=(14.0, 14.0)
    ),
    "Li3ScCl6": dict(Ea_exp=(0.36, 0.36), sigma_exp=(3.0, 3.0), sigma_calc=(5.1, 29.0)),
    "Li3HoCl6": dict(Ea_calc=(0.19, 0.19), sigma_calc=(21.0, 21.0)),
    "Li6BaLa2Ta2O12": dict(Ea_exp=(0.40, 0.44), sigma_exp=(0.013, 0.04)),
    "Al-doped Li7La3Zr2O12": dict(sigma_exp=(0.2, 0.2)),
    "Li6SrLa2Bi2O12": dict(Ea_exp=(0.42, 0.42)),
}


@pytest.mark.parametrize("material", list(EXACT))
def test_exact_rows(df, material):
    r = row(df, material)
    expected = EXACT[material]
    for q, lo, hi in QUANTS:
        if q in expected:
            assert (r[lo], r[hi]) == pytest.approx(expected[q], rel=1e-12), q
        else:
            assert math.isnan(r[lo]) and math.isnan(r[hi]), q


def test_exact_categories_and_refs(df):
    assert row(df, "Li")["category"] == "Anode"
    assert row(df, "LiF")["category"] == "SEI"
    assert row(df, "Li10GeP2S12")["refs"] == "100;171;239;240"
    assert row(df, "Li10GeP2S12")["Ea_calc_text"] == "0.22–0.23 [100,240]"
    assert row(df, "Li9.54Si1.74P1.44S11.7Cl0.3")["sigma_exp_refs"] == "243"
    assert row(df, "LiCoO2")["category"] == "Cathode"
    assert row(df, "Li9P3S12")[[lo for _, lo, _ in QUANTS]].isna().all()  # printed empty


@pytest.mark.skipif(not SEED.is_file(), reason="seed text not available (developer checkout only)")
def test_seed_rows_match_seed_file(df):
    lines = SEED.read_text(encoding="utf-8").split("\n")
    for _, r in df.iterrows():
        cells = [c.strip() for c in lines[r["seed_line"] - 1].split("\t")]
        assert len(cells) == 7
        assert norm(cells[0]) == norm(r["material_text"])
        assert _seed_cells(r["seed_row"])[:6] == cells[1:]


# --- malformed files -------------------------------------------------------------------


def _copy_with(tmp_path: Path, lineno: int, edit) -> Path:
    lines = transport_table_path().read_text(encoding="utf-8").splitlines(keepends=True)
    lines[lineno - 1] = edit(lines[lineno - 1])
    out = tmp_path / "bad.csv"
    out.write_text("".join(lines), encoding="utf-8")
    return out


def test_bad_number_reports_file_and_line(tmp_path):
    # line 2 is the Li row; its Ea_exp_low_eV field is "0.52"
    bad = _copy_with(tmp_path, 2, lambda s: s.replace(",0.52,", ",0.5two,", 1))
    with pytest.raises(FileFormatError) as info:
        transport_table(bad)
    assert info.value.line == 2
    assert info.value.path == bad
    assert f"{bad}:2" in str(info.value) and "Ea_exp_low_eV" in str(info.value)


def test_wrong_field_count_reports_line(tmp_path):
    bad = _copy_with(tmp_path, 10, lambda s: s.rstrip("\n") + ",extra\n")
    with pytest.raises(FileFormatError) as info:
        transport_table(bad)
    assert info.value.line == 10


def test_low_above_high_reports_line(tmp_path):
    bad = _copy_with(tmp_path, 3, lambda s: s.replace(",0.27,0.55,", ",0.55,0.27,", 1))
    with pytest.raises(FileFormatError) as info:
        transport_table(bad)
    assert info.value.line == 3 and "low" in str(info.value)


def test_bad_header_and_empty_file(tmp_path):
    bad = _copy_with(tmp_path, 1, lambda s: s.replace("Ea_exp_low_eV", "Ea_exp_low_meV"))
    with pytest.raises(FileFormatError) as info:
        transport_table(bad)
    assert info.value.line == 1
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(FileFormatError) as info:
        transport_table(empty)
    assert info.value.line == 1


def test_missing_file(tmp_path):
    with pytest.raises(DataNotFoundError):
        transport_table(tmp_path / "nope.csv")
