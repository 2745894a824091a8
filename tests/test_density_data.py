"""Shipped example DFT densities (lilib/data/densities) and the script that makes them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lilib.charges import bader, read_density
from lilib.charges.examples import (
    example_density_info,
    example_density_names,
    load_example_density,
)
from lilib.errors import ArgumentError, LilibError

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "lilib" / "data" / "densities"
NAMES = example_density_names()
EXPECTED = ["Li2O", "LiF", "LiF-hop-final", "LiF-hop-initial", "LiF-hop-saddle"]


def test_smoke_mode_runs_and_checks_electron_counts():
    env = dict(os.environ, OMP_NUM_THREADS="2")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_densities.py"), "--smoke"],
        capture_output=True, text=True, timeout=180, env=env, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("SMOKE_RESULT "))
    result = json.loads(line.split(" ", 1)[1])
    assert {"LiF.valence.cube.gz", "LiF.json", "README.md"} <= set(result["files"])
    assert abs(result["n_electrons"] - result["n_expected"]) < 1e-3
    if result["core"]:
        assert "LiF.core.cube.gz" in result["files"]
        li, f = result["bader"]
        assert li > 0.5 and f < -0.5 and abs(li + f) < 0.02


def test_all_systems_are_shipped():
    assert NAMES == EXPECTED


@pytest.mark.parametrize("name", NAMES)
def test_shipped_density_has_provenance_and_its_electron_count(name):
    info = example_density_info(name)
    assert info["name"] == name
    assert info["engine"]["name"] == "PySCF" and info["engine"]["version"]
    method = info["method"]
    for key in ("functional", "basis", "pseudopotential", "k_mesh", "ke_cutoff_Ha", "fft_mesh",
                "conv_tol_Ha", "n_electrons"):  # fmt: skip
        assert key in method, key
    assert method["converged"] is True
    assert np.isfinite(info["total_energy_Ha"])
    for key in ("date", "script", "command", "structure", "grid", "wall_time_s"):
        assert key in info, key
    assert "source" in info["structure"] and "doi" in info["structure"]
    val = info["files"]["valence"]
    rho = read_density(DATA / val["file"])
    assert rho.shape == tuple(info["grid"]["shape"])
    assert max(rho.atoms.cell.lengths() / np.array(rho.shape)) <= 0.1 + 1e-9  # Å
    assert abs(rho.n_electrons - val["n_electrons_expected"]) < 1e-3
    assert val["n_electrons_expected"] == method["n_electrons"]
    assert len(rho.atoms) == info["n_atoms"]
    assert np.allclose(rho.cell, info["cell_A"], atol=1e-5)
    if "core" in info["files"]:
        core = info["files"]["core"]
        c = read_density(DATA / core["file"])
        assert c.shape == rho.shape
        assert abs(c.n_electrons - core["n_electrons_integral"]) < 1e-3
        assert (c.values >= 0).all()
    if "-hop-" in name:
        assert info["charge"] == -1
        assert "not an NEB" in info["structure"]["path"]["description"]


def test_bader_on_lif_with_core_reference():
    info = example_density_info("LiF")
    if "core" not in info["files"]:
        pytest.skip("core density not shipped yet")
    val = load_example_density("LiF")
    total = load_example_density("LiF", part="total")
    res = bader(val, reference=total, valence=info["method"]["valence_electrons"])
    q = dict(zip(res.symbols, res.net_charges))
    assert 0.7 < q["Li"] < 1.0 and -1.0 < q["F"] < -0.7
    assert abs(res.net_charges.sum()) < 0.01
    assert (
        abs(total.n_electrons - val.n_electrons - load_example_density("LiF", "core").n_electrons)
        < 1e-6
    )


def test_unknown_example_name_lists_the_available_ones():
    with pytest.raises(LilibError) as err:
        load_example_density("NaCl")
    for name in NAMES:
        assert name in str(err.value)
    assert load_example_density("lif").atoms.get_chemical_formula() == "FLi"
    with pytest.raises(ArgumentError):
        load_example_density("LiF", part="AECCAR0")
