"""The error hierarchy: every deliberate error is a LilibError and says what and where."""

from __future__ import annotations

import pickle

import pytest

from lilib.errors import (
    ArgumentError,
    DataNotFoundError,
    FileFormatError,
    InputFileError,
    LilibError,
    StoreError,
    UnknownNameError,
    UnknownStructureError,
    UnsupportedElementError,
)


def test_file_format_error_names_file_and_line(tmp_path):
    err = FileFormatError(tmp_path / "CHGCAR", "expected 3 grid counts, got 2", line=12)
    assert isinstance(err, InputFileError) and isinstance(err, LilibError)
    assert str(err) == f"{tmp_path / 'CHGCAR'}:12: expected 3 grid counts, got 2"
    assert err.line == 12 and err.path.name == "CHGCAR"


def test_file_error_without_line():
    err = InputFileError("POSCAR", "empty file")
    assert str(err) == "POSCAR: empty file" and err.line is None


def test_argument_error_is_value_error():
    err = ArgumentError("temperature_K", "must be positive, got -3")
    assert isinstance(err, ValueError) and isinstance(err, LilibError)
    assert "'temperature_K'" in str(err) and "-3" in str(err)


def test_unknown_structure_suggests_close_matches():
    err = UnknownStructureError("LiCL", ["LiCl", "LiF", "Li2O"])
    assert isinstance(err, KeyError) and isinstance(err, LilibError)
    assert err.suggestions[0] == "LiCl"
    assert "did you mean 'LiCl'" in str(err)


def test_unknown_name_without_close_match_lists_choices():
    err = UnknownNameError("zzz", ["alpha", "beta"])
    assert err.suggestions == []
    assert "known: alpha, beta" in str(err)


def test_unsupported_element_and_missing_data():
    err = UnsupportedElementError("Og", "the SevenNet-0 model")
    assert "'Og'" in str(err) and "SevenNet-0" in str(err)
    missing = DataNotFoundError("phonon data", ["/a", "/b"])
    assert isinstance(missing, FileNotFoundError)
    assert "/a" in str(missing) and "phonon data" in str(missing)


@pytest.mark.parametrize(
    "err",
    [
        FileFormatError("x.cube", "bad", line=3),
        ArgumentError("n", "bad"),
        UnknownStructureError("Lif", ["LiF"]),
        UnsupportedElementError("Xe", "table"),
        StoreError("postgresql://u:secret@h/db", "down"),
    ],
)
def test_errors_survive_pickling(err):
    """Errors cross process boundaries (executors, dask) intact."""
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err) and str(back) == str(err)


def test_store_error_hides_the_password():
    err = StoreError("postgresql://lilib:secret@127.0.0.1:5432/results", "connection refused")
    assert "secret" not in str(err) and "lilib:***@127.0.0.1" in str(err)
    assert StoreError("results.db", "locked").url == "results.db"
