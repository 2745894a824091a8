"""Results store: exact round trips of every result type, content-hash keys, SQLite and a real
PostgreSQL server (started here; skipped with the reason when it cannot be), two concurrent
writer processes."""

from __future__ import annotations

import dataclasses
import importlib
import multiprocessing
import os
import pkgutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _postgres import NoPostgres, postgres_server
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT

import lilib
from lilib.errors import ArgumentError, FileFormatError, LilibError, StoreError
from lilib.store import (
    ResultStore,
    decode_result,
    encode_result,
    read_result_file,
    result_key,
    write_result_file,
)

# ------------------------------------------------------------------ every result type


def _small_density():
    from lilib.charges import Density

    cell = np.eye(3) * 4.0
    grid = np.stack(np.meshgrid(*(np.arange(16) / 16,) * 3, indexing="ij"), axis=-1)
    rho = np.zeros((16, 16, 16))
    for q, f in [(3.0, (0.0, 0.0, 0.0)), (9.0, (0.5, 0.5, 0.5))]:
        d = grid - np.asarray(f)
        d -= np.round(d)
        r2 = np.einsum("...i,...i", d @ cell, d @ cell)
        rho += q * np.exp(-r2 / (2 * 0.4**2)) / (2 * np.pi * 0.4**2) ** 1.5
    atoms = Atoms("LiF", scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]], cell=cell, pbc=True)
    return Density(atoms, rho)


def _hop():
    from lilib.phonons import hop_rate_convergence, run_neb, vacancy_hop

    ends = vacancy_hop(bulk("Cu", "fcc", a=3.61), "Cu", supercell=(3, 3, 3))
    neb = run_neb(ends.initial, ends.final, EMT(), n_images=3, fmax=0.01)
    return ends, neb, hop_rate_convergence(neb, EMT(), radii_A=(2.6, 4.0))


def _examples() -> dict[str, object]:
    """One real instance of every public lilib result type, made cheaply."""
    from lilib.calculators import single_point
    from lilib.charges import bader, hirshfeld, load_example_density, load_proatoms
    from lilib.charges.slices import plane_slice
    from lilib.phonons import load_descriptor_curves, load_lattice_dynamics, relax
    from lilib.stats import rank_correlation

    density = _small_density()
    ends, neb, conv = _hop()
    rate = conv.full
    cu = bulk("Cu", cubic=True)
    out = {
        "SinglePoint": single_point(cu, EMT()),
        "RelaxResult": relax(cu, EMT(), fmax=0.05),
        "Density": density,
        "BaderResult": bader(density),
        "HirshfeldResult": hirshfeld(
            load_example_density("LiF"), core=load_example_density("LiF", "core")
        ),
        "ProAtoms": load_proatoms(),
        "PlaneSlice": plane_slice(density, (0, 0, 1)),
        "LatticeDynamics": load_lattice_dynamics("LiF"),
        "DescriptorCurves": load_descriptor_curves("LiF"),
        "HopEndpoints": ends,
        "NebResult": neb,
        "HopRate": rate,
        "RateConvergence": conv,
        "HarmonicTST": rate.tst,
        "RankCorrelation": rank_correlation([1, 2, 3, 4, 5.0], [2, 1, 4, 3, 5.0], seed=0),
    }
    from lilib.provenance import report

    out["ProvenanceReport"] = report()
    out.update(_md_examples())
    out.update(_gb_examples())
    out.update(_rotation_examples())
    out.update(_gb_transport_examples())
    out.update(_md_run_examples())
    return out


def _rotation_examples() -> dict[str, object]:
    from test_rotation_coupling import scenario

    from lilib.rotations import rotation_analysis, rotation_arrhenius

    traj, _ = scenario(coupled=True)
    ana = rotation_analysis(traj, "P", "S")
    hops = ana.hops()
    return {
        "RotationAnalysis": ana,
        "PolyanionGroups": ana.groups,
        "PointGroup": ana.orientations.point_groups[0],
        "Orientations": ana.orientations,
        "RotationEvents": ana.events,
        "BondACF": ana.acf,
        "ACFFit": next(iter(ana.acf.fits.values())),
        "HopEvents": hops,
        "CouplingResult": ana.coupling(hops=hops, n_shuffles=100),
        "RotationArrhenius": rotation_arrhenius([400.0, 500.0, 600.0], [0.05, 0.2, 0.5]),
    }


def _gb_transport_examples() -> dict[str, object]:
    from test_gb_transport import D_BULK, D_GB_PAR, D_GB_PERP, PLANES, em_walk, trajectory

    from lilib.gb import gb_arrhenius, gb_profile, gb_width

    prof = gb_profile(trajectory(em_walk(60, 600, D_BULK, D_GB_PAR, D_GB_PERP)), PLANES,
                      lag_frames=1, bin_width_A=1.5, min_hops=0)  # fmt: skip
    width = gb_width(prof)
    return {
        "GBProfile": prof,
        "GBWidth": width,
        "RegionDiffusivity": width.gb,
        "GBArrhenius": gb_arrhenius([width, width, width], [600.0, 700.0, 800.0]),
    }


def _md_run_examples() -> dict[str, object]:
    from lilib.md import run_md, vdos
    from lilib.md.lammps import LammpsCell, lammps_available, run_lammps_md

    with tempfile.TemporaryDirectory() as tmp:
        run = run_md(bulk("Cu", cubic=True), EMT(), 300.0, 40, 2.0, workdir=tmp, save_every=2,
                     save_velocities=True, progress=False)  # fmt: skip
        out = {"MDRun": run, "VDOS": vdos(run)}
        cu = bulk("Cu", cubic=True)
        out["LammpsCell"] = LammpsCell.from_cell(cu.cell[:])
        if lammps_available():
            from lilib import structures

            with pytest.warns(UserWarning):
                out["LammpsRun"] = run_lammps_md(structures.load("LiF"), "LiF_TosiFumi1964", 300.0,
                                                 20, dump_every=10, workdir=Path(tmp) / "l")  # fmt: skip
        return out


def _md_examples() -> dict[str, object]:
    from lilib.md import Trajectory, arrhenius_fit, transport, van_hove_self

    rng = np.random.default_rng(0)
    steps = rng.normal(scale=0.3, size=(200, 12, 3))
    symbols = np.array(["Li"] * 8 + ["F"] * 4)
    steps[:, 8:] *= 0.05
    traj = Trajectory(np.cumsum(steps, axis=0), np.eye(3) * 12.0, symbols, timestep_fs=10.0,
                      temperature_K=600.0, unwrapped=True)  # fmt: skip
    res = transport(traj, "Li", temperature_K=600.0, n_bootstrap=50)
    from lilib.md import diffusion_analyzer_equivalent

    return {
        "PmgDiffusionResult": diffusion_analyzer_equivalent(
            traj, "Li", temperature_K=600.0, min_obs=5
        ),
        "Trajectory": traj,
        "TransportResult": res,
        "MSDResult": res.msd,
        "Diffusivity": res.tracer,
        "Conductivity": res.tracer_conductivity,
        "ArrheniusFit": arrhenius_fit([500.0, 600.0, 800.0], [1e-7, 4e-7, 2e-6]),
        "VanHove": van_hove_self(traj, "Li", r_max_A=5.0, n_bins=20),
    }


def _gb_examples() -> dict[str, object]:
    from lilib.gb import (
        brick_layer,
        build_gb,
        enumerate_sigma,
        harrison_regimes,
        rigid_translation_scan,
    )

    gb = build_gb("LiF", (0, 0, 1), 5, (3, 1, 0))
    scan = rigid_translation_scan("LiF", (0, 0, 1), 5, (3, 1, 0), grid=(1, 2))
    return {
        "GBModel": gb,
        "RemovedAtom": gb.removed[0],
        "SigmaTable": enumerate_sigma("LiF", (0, 0, 1), 30),
        "TranslationScan": scan,
        "HarrisonRegimes": harrison_regimes(100.0, 0.5, 1e-9, 1e-12, [1.0, 3600.0]),
        "BrickLayer": brick_layer(1.0, 1e-3, [50.0, 500.0], 1.0),
    }


#: dataclasses that are inputs or internals, not results a user stores
NOT_RESULTS = {
    "SiteInfo", "StructureInfo", "OrderedResult", "PhononData", "ComputedPhonons",
    "StoredResult", "ScreenReport", "Task",
    "BuckinghamPotential", "BuckinghamPair", "MorsePair",  # potential parameters: inputs
}  # fmt: skip


def _public_dataclasses() -> set[str]:
    names = set()
    for mod in pkgutil.walk_packages(lilib.__path__, "lilib."):
        module = importlib.import_module(mod.name)
        for name, obj in vars(module).items():
            if (
                isinstance(obj, type)
                and dataclasses.is_dataclass(obj)
                and obj.__module__ == module.__name__
                and not name.startswith("_")
            ):
                names.add(name)
    return names


@pytest.fixture(scope="module")
def examples():
    return _examples()


def test_every_result_type_is_covered(examples):
    """A new result dataclass must be added to the round-trip examples (or to NOT_RESULTS)."""
    missing = _public_dataclasses() - set(examples) - NOT_RESULTS
    assert missing == set()


def _same(a, b, where="") -> None:
    if dataclasses.is_dataclass(a):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, where
        if a.dtype == object:
            for x, y in zip(a.ravel(), b.ravel()):
                _same(x, y, where)
        else:
            assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), where
    elif isinstance(a, Atoms):
        assert a == b and a.info == b.info, where
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert isinstance(b, float) and np.isnan(b), where
    else:
        assert a == b and type(a) is type(b), where


def test_codec_round_trip_is_exact(examples):
    for name, value in examples.items():
        _same(value, decode_result(encode_result(value)), name)


def test_codec_refuses_foreign_types():
    class Foreign:
        pass

    with pytest.raises(ArgumentError, match="Foreign"):
        encode_result({"x": Foreign()})
    forged = encode_result({"a": 1}).replace('{"a":1}', '{"__lilib__":"dataclass",'
                                             '"type":"os:system","fields":{}}')  # fmt: skip
    with pytest.raises(ValueError, match="not a lilib type"):
        decode_result(forged)


def test_result_file_round_trip(examples, tmp_path):
    path = write_result_file(tmp_path / "r.json", dict(examples), "test.v1")
    back = read_result_file(path, "test.v1")
    assert back.pop("format") == "test.v1"
    for name, value in examples.items():
        _same(value, back[name], name)
    with pytest.raises(ArgumentError, match="reserved"):
        write_result_file(tmp_path / "x.json", {"format": "x"}, "test.v1")


def test_result_file_bad_input_names_the_file(examples, tmp_path):
    good = write_result_file(tmp_path / "good.json", {"d": examples["Diffusivity"]}, "test.v1")
    with pytest.raises(FileFormatError, match=r"expected format 'other\.v1'"):
        read_result_file(good, "other.v1")
    cases = {
        "missing.json": None,
        "truncated.json": good.read_text()[:-40],
        "list.json": "[1, 2]",
        "binary.json": b"\xff\xfe\x00",
        "bad_array.json": encode_result({"format": "test.v1", "a": np.arange(4.0)}).replace(
            '"shape":[4]', '"shape":[5]'
        ),
        "bad_field.json": good.read_text().replace('"value_cm2_s"', '"valu_cm2_s"'),
    }
    for name, text in cases.items():
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        elif text is not None:
            path.write_text(text)
        with pytest.raises(FileFormatError) as info:
            read_result_file(path, "test.v1")
        assert info.value.path == path, name
    assert (tmp_path / "good.json").is_file() and not list(tmp_path.glob("*.tmp"))


# ------------------------------------------------------------------ keys


def test_keys_change_with_every_input():
    cu = bulk("Cu", cubic=True)
    base = result_key("t", 1, cu, {"fmax": 0.01}, "emt")
    assert base == result_key("t", 1, cu.copy(), {"fmax": 0.01}, "emt")  # same input: hit
    moved = cu.copy()
    moved.positions[0, 0] += 1e-6
    others = [
        result_key("t", 2, cu, {"fmax": 0.01}, "emt"),
        result_key("u", 1, cu, {"fmax": 0.01}, "emt"),
        result_key("t", 1, moved, {"fmax": 0.01}, "emt"),
        result_key("t", 1, cu, {"fmax": 0.02}, "emt"),
        result_key("t", 1, cu, {"fmax": 0.01}, {"name": "emt", "package": "ase", "version": "0"}),
    ]
    assert len({base, *others}) == 6
    with pytest.raises(ArgumentError, match="version"):
        result_key("t", 0, cu, {}, None)
    with pytest.raises(ArgumentError, match="settings"):
        result_key("t", 1, cu, {"calc": EMT()}, None)


# ------------------------------------------------------------------ backends


@pytest.fixture(scope="module")
def postgres_url():
    try:
        with postgres_server() as url:
            yield url
    except NoPostgres as exc:
        if os.environ.get("LILIB_REQUIRE_POSTGRES") == "1":  # CI installs it: must not skip
            pytest.fail(f"LILIB_REQUIRE_POSTGRES=1 but no PostgreSQL server: {exc}")
        pytest.skip(f"no PostgreSQL server here: {exc}")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        return ResultStore(tmp_path / "results.db")
    url = request.getfixturevalue("postgres_url")
    s = ResultStore(url)
    for row in list(s.db.select()):  # one server for the module: start each test empty
        s.db.delete([row.id])
    return s


def test_put_get_query(store, examples):
    cu = bulk("Cu", cubic=True)
    keys = {}
    for name in ("LatticeDynamics", "BaderResult", "HopRate"):
        keys[name] = result_key(name.lower(), 1, cu, {}, None)
        store.put(keys[name], task=name.lower(), atoms=cu, name=name, result=examples[name],
                  settings={"a": 1}, calculator="emt", wall_s=1.5)  # fmt: skip
    for name, key in keys.items():
        entry = store.get(key)
        assert entry.status == "done" and entry.name == name and entry.wall_s == 1.5
        assert entry.settings == {"a": 1} and entry.calculator["package"] == "ase"
        _same(examples[name], entry.result, name)
        assert entry.atoms == cu and key in store
    bad = result_key("failing", 1, cu, {}, None)
    store.put(bad, task="failing", atoms=cu, name="x", error="RuntimeError: boom")
    assert bad not in store and store.get(bad) is None
    assert store.get(bad, status="failed").error == "RuntimeError: boom"
    assert store.count() == 3 and store.count(status="failed") == 1
    df = store.to_dataframe("latticedynamics")
    assert df["name"].tolist() == ["LatticeDynamics"]
    assert (
        df["mobile_band_centre_THz"].iloc[0] == examples["LatticeDynamics"].mobile_band_centre_THz
    )
    # a key written again: the newest row wins
    store.put(keys["HopRate"], task="hoprate", atoms=cu, name="again", result={"v": 2})
    assert store.get(keys["HopRate"]).result == {"v": 2} and store.count() == 3


def _writer(url: str, worker: int, n: int) -> None:
    store = ResultStore(url)
    cu = bulk("Cu", cubic=True)
    for i in range(n):
        key = result_key("concurrent", 1, cu, {"worker": worker, "i": i}, None)
        store.put(key, task="concurrent", atoms=cu, name=f"{worker}-{i}",
                  result={"worker": worker, "i": i, "x": np.full(50, float(i))})  # fmt: skip


def test_two_processes_writing_at_once_lose_nothing(store):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(store.url, w, 40)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    entries = store.entries("concurrent")
    assert len(entries) == 80
    assert {(e.result["worker"], e.result["i"]) for e in entries} == {
        (w, i) for w in range(2) for i in range(40)
    }


def test_bad_urls(tmp_path):
    with pytest.raises(ArgumentError, match="url"):
        ResultStore("mysql://host/db")
    with pytest.raises(ArgumentError, match="url"):
        ResultStore("")
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError, match=r"dir\.db"):
        ResultStore(tmp_path / "dir.db").count()
    with pytest.raises(LilibError, match=r"127\.0\.0\.1"):
        ResultStore("postgresql://nobody:pw@127.0.0.1:9/none").count()
