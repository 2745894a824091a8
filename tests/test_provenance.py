"""lilib.provenance: versions, git state, files with hashes, models, citations of methods used."""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest

from lilib import provenance
from lilib.charges import bader, load_example_density
from lilib.charges.examples import _directory
from lilib.errors import ArgumentError


@pytest.fixture(autouse=True)
def fresh():
    provenance._reset()
    yield
    provenance._reset()


def test_report_records_files_and_methods_used(monkeypatch):
    monkeypatch.setenv("LILIB_QUICK", "1")
    before = provenance.report()
    assert [c["method"] for c in before.citations] == ["lilib", "ase"] and before.files == []
    bader(load_example_density("LiF"))
    rep = provenance.report()
    path = _directory() / "LiF.valence.cube.gz"
    (entry,) = rep.files
    assert entry["path"] == str(path.resolve())
    assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert entry["bytes"] == path.stat().st_size
    methods = [c["method"] for c in rep.citations]
    assert methods == ["lilib", "ase", "bader-ongrid", "bader-neargrid"]
    assert all(c["doi"].startswith("10.") for c in rep.citations[1:])
    assert rep.quick is True
    assert rep.packages["numpy"] and rep.packages["lilib"]
    json.dumps(rep.to_dict())  # JSON-able for a supplement
    text = rep.to_markdown()
    assert "10.1088/0953-8984/21/8/084204" in text and entry["sha256"][:16] in text
    df = rep.to_dataframe()
    assert set(df["section"]) >= {"run", "package", "file", "citation"}


def test_git_state(tmp_path):
    assert provenance._git(tmp_path)["commit"] is None
    run = lambda *a: subprocess.run(["git", "-C", str(tmp_path), *a], check=True,  # noqa: E731
                                    capture_output=True)  # fmt: skip
    run("init", "-q")
    (tmp_path / "a.txt").write_text("1")
    run("add", "a.txt")
    run("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x")
    clean = provenance._git(tmp_path)
    assert len(clean["commit"]) == 40 and clean["dirty"] is False
    (tmp_path / "a.txt").write_text("2")
    assert provenance._git(tmp_path)["dirty"] is True
    env = provenance.run_environment(["numpy", "no-such-dist"], tmp_path, paths=(), threads=3)
    assert env["lilib_git_commit"] == clean["commit"] and env["lilib_git_dirty"] is True
    assert env["versions"]["numpy"] and env["versions"]["no-such-dist"] is None
    assert env["machine"]["threads"] == 3 and env["machine"]["cpus"] >= 1
    json.dumps(env)
    assert provenance.utc_now().endswith("+00:00")


def test_unknown_citation_and_missing_file(tmp_path):
    with pytest.raises(ArgumentError, match="no citation"):
        provenance.cite("astrology")
    provenance.record_file(tmp_path / "absent.cube")
    assert provenance.report().files == []
    f = tmp_path / "x.dat"
    f.write_text("a")
    provenance.record_file(f)
    f.write_text("bb")  # changed: hashed again
    provenance.record_file(f)
    (entry,) = provenance.report().files
    assert entry["bytes"] == 2 and entry["sha256"] == hashlib.sha256(b"bb").hexdigest()
