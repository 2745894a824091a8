from __future__ import annotations

import pytest

from lilib import config
from lilib.errors import ArgumentError


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("TRUE", True), ("0", False), ("", False)]
)
def test_quick_mode_switch(monkeypatch, value, expected):
    monkeypatch.setenv("LILIB_QUICK", value)
    assert config.quick() is expected


def test_quick_mode_rejects_typos(monkeypatch):
    monkeypatch.setenv("LILIB_QUICK", "yes please")
    with pytest.raises(ArgumentError, match="LILIB_QUICK"):
        config.quick()


def test_shared_data_dir_env_override(monkeypatch, tmp_path):
    monkeypatch.setenv("LILIB_SHARED_DATA", str(tmp_path))
    assert config.shared_data_dir() == tmp_path


def test_shared_data_dir_absent_gives_none(monkeypatch, tmp_path):
    monkeypatch.setenv("LILIB_SHARED_DATA", str(tmp_path / "nope"))
    monkeypatch.setattr(config, "__file__", str(tmp_path / "a" / "b" / "config.py"))
    assert config.shared_data_dir() is None


def test_cache_dir_created(monkeypatch, tmp_path):
    monkeypatch.setenv("LILIB_CACHE", str(tmp_path / "cache"))
    assert config.cache_dir().is_dir()


def test_package_data_dir_holds_tables():
    assert (config.package_data_dir() / "transport_table.csv").is_file()
