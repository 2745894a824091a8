"""The shipped research-size GB runs (lilib/data/md/gb_research): derived results of LAMMPS MD of
~3 000-atom Li2O Σ5 cells and ~1 500-atom bulk controls, 200 ps each. Their provenance, that they
stayed solid, that every GB-core slab has enough hops, and that their D(z) pools again here."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lilib.config import package_data_dir
from lilib.errors import ConvergenceWarning
from lilib.gb import GBProfile, gb_width
from lilib.md import Diffusivity
from lilib.store import read_result_file

DIR = package_data_dir() / "md" / "gb_research"
FORMAT = "lilib.gb-md-derived.v1"
FILES = sorted(DIR.glob("*.derived.json"))


@pytest.fixture(scope="module")
def runs():
    out = {}
    for path in FILES:
        d = read_result_file(path, FORMAT)
        out[(d["run"]["system"]["kind"], d["run"]["md"]["temperature_K"])] = d
    return out


def test_research_runs_are_shipped_with_provenance(runs):
    temps = sorted({t for _, t in runs})
    assert len(temps) >= 3 and set(runs) == {(k, t) for k in ("gb", "bulk") for t in temps}
    for (kind, _), d in runs.items():
        rec, ana = d["run"], d["analysis"]
        assert rec["engine"].startswith("LAMMPS") and rec["potential"]["doi"] == "10.1021/jp0611018"
        assert rec["result"]["completed"] and rec["result"]["duration_ps"] >= 199.0
        assert rec["system"]["n_atoms"] >= (2500 if kind == "gb" else 1000)
        assert rec["provenance"]["command"].startswith("scripts/make_gb_md.py")
        assert ana["script"] == "scripts/make_gb_md.py" and ana["lilib_git_commit"]
        assert tuple(ana["lag_frames"]) == (2, 10) and ana["min_hops"] == 30
        assert d["run_file_bytes"] > 1e6  # what the derived file stands for
        # a solid: the O sublattice stays (a melt moves most O by more than half the O–O distance)
        assert d["checks"]["O_moved_fraction"] < 0.2
        assert d["checks"]["Li_msd_first_last_A2"] > d["checks"]["O_msd_first_last_A2"]


def test_profiles_and_tracers_are_complete(runs):
    for (kind, t), d in runs.items():
        if kind == "bulk":
            assert isinstance(d["tracer"], Diffusivity) and d["profile"] is None
            tr = d["tracer"]
            assert tr.temperature_K == t and 0 < tr.stderr_cm2_s < 0.5 * tr.value_cm2_s
            continue
        prof = d["profile"]
        assert isinstance(prof, GBProfile) and prof.temperature_K == t
        assert prof.species == "Li" and prof.n_slabs >= 10  # |d| up to > 10 Å: thick grains
        core = np.flatnonzero(prof.bin_edges_A[1:] <= 2.0 + 1e-9)
        assert core.size and np.all(prof.hops[core] >= 30)
        assert not set(core.tolist()) & set(prof.refused_slabs)


def test_gb_core_is_faster_than_interior_and_bulk(runs):
    """The small cells' main result, asked of the research-size runs (pooled again here)."""
    for (kind, t), d in runs.items():
        if kind != "gb":
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            w = gb_width(d["profile"], component="parallel", gb_half_width_A=2.0,
                         bulk_min_distance_A=4.0)  # fmt: skip
        g, ge = w.gb.value("parallel")
        i, ie = w.bulk.value("parallel")
        b = runs[("bulk", t)]["tracer"]
        assert g - i > 2 * np.hypot(ge, ie), (t, g, ge, i, ie)
        assert g - b.value_cm2_s > 2 * np.hypot(ge, b.stderr_cm2_s), (t, g, ge, b)
