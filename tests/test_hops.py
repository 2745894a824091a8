"""Ion hops: vacancy endpoints, NEB (checkpoint/cache), finite-difference Hessians, Vineyard rates.

Known answers come from model potentials written as tiny ASE calculators (milliseconds per call):

- ``valley``: a Li in a curved double-well valley, V = E_b g(x) + ½k_y (y − h(x))² + ½k_z(x) z²,
  g = (1 − x²/a²)², h = c(1 − x²/a²), k_z = k_z0 + k_z1 g, plus an F spectator tethered by a
  spring s0 + s1 g(x). Minima (±a, 0, 0), saddle (0, c, 0) at E_b; the straight interpolation
  misses the saddle, so the NEB has work to do. Vineyard's ν* = Π ν(min) / Π' ν(saddle) is
  analytic: ν* = (1/2π) √(8E_b/(a² m_Li) · k_z0/(k_z0 + k_z1) · (s0/(s0 + s1))³).
- ``harmonic``: V = ½ uᵀKu, whose Hessian is K exactly.
- ``fork``: a double well whose straight path crosses a second-order saddle (two imaginary modes).

The real hop (LiF, SevenNet-0) is at the end; it is skipped when SevenNet-0 cannot be loaded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import ClassVar

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes
from scipy import constants as sc

from lilib import structures
from lilib.errors import (
    ArgumentError,
    ConvergenceWarning,
    FileFormatError,
    LilibError,
    WorkdirMismatchError,
)
from lilib.phonons import (
    HopRate,
    NebResult,
    StationaryPointError,
    hessian,
    hop_rate,
    hop_rate_convergence,
    run_neb,
    vacancy_hop,
)

TO_THZ = np.sqrt(sc.eV / (1e-20 * sc.atomic_mass)) / (2 * np.pi) / 1e12  # √(eV/Å²/amu) → THz


class Model(Calculator):
    """ASE calculator for ``energy_and_gradient(positions)``; counts calls; can interrupt."""

    implemented_properties: ClassVar[list[str]] = ["energy", "forces"]

    def __init__(self, name: str, fn: Callable, interrupt_after: int | None = None) -> None:
        super().__init__()
        self.model_name = name  # read by calculator_identity (checkpoint keys)
        self.fn = fn
        self.calls = 0
        self.interrupt_after = interrupt_after

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        if self.interrupt_after is not None and self.calls >= self.interrupt_after:
            raise KeyboardInterrupt  # as a user pressing Ctrl-C mid-run
        self.calls += 1
        energy, grad = self.fn(self.atoms.positions)
        self.results = {"energy": float(energy), "forces": -np.asarray(grad, dtype=float)}


# ---------------------------------------------------------------- valley (analytic Vineyard)

VALLEY = {"eb": 0.5, "a": 1.0, "c": 0.4, "ky": 5.0, "kz0": 4.0, "kz1": 2.0, "s0": 3.0, "s1": 1.5}
TETHER = np.array([0.0, 0.0, 4.0])  # the spectator's site (Å)


def valley_fn(pos):
    p = VALLEY
    (x, y, z), r1 = pos[0], pos[1] - TETHER
    u = 1 - x**2 / p["a"] ** 2
    g, dg = u**2, -4 * x / p["a"] ** 2 * u
    h, dh = p["c"] * u, -2 * p["c"] * x / p["a"] ** 2
    kz, ks = p["kz0"] + p["kz1"] * g, p["s0"] + p["s1"] * g
    energy = p["eb"] * g + 0.5 * p["ky"] * (y - h) ** 2 + 0.5 * kz * z**2 + 0.5 * ks * r1 @ r1
    dx = (
        p["eb"] * dg
        - p["ky"] * (y - h) * dh
        + 0.5 * p["kz1"] * dg * z**2
        + 0.5 * p["s1"] * dg * r1 @ r1
    )
    return energy, np.array([[dx, p["ky"] * (y - h), kz * z], ks * r1])


def valley(**kw) -> Model:
    return Model("valley", valley_fn, **kw)


def valley_endpoints(shift: float = 0.02) -> tuple[Atoms, Atoms]:
    """Endpoints a little off the minima, so the endpoint relaxation has work to do."""
    a = VALLEY["a"]
    kw = {"cell": [12.0] * 3, "pbc": False}
    ini = Atoms("LiF", positions=[[-a + shift, shift, -shift], TETHER + shift], **kw)
    fin = Atoms("LiF", positions=[[a - shift, -shift, shift], TETHER - shift], **kw)
    return ini, fin


def valley_analytic() -> dict[str, float]:
    p = VALLEY
    m = Atoms("Li").get_masses()[0]
    stiffer = p["kz0"] / (p["kz0"] + p["kz1"]) * (p["s0"] / (p["s0"] + p["s1"])) ** 3
    return {
        "nu_star": TO_THZ * np.sqrt(8 * p["eb"] / p["a"] ** 2 / m * stiffer),
        # initial-well curvature along the saddle's unstable mode (x of the Li)
        "nu0": TO_THZ * np.sqrt((8 * p["eb"] + 4 * p["ky"] * p["c"] ** 2) / p["a"] ** 2 / m),
        "nu_unstable": TO_THZ * np.sqrt(4 * p["eb"] / p["a"] ** 2 / m),
    }


NEB_KW = {"n_images": 5, "fmax": 1e-3, "steps": 2000}


@pytest.fixture(scope="module")
def valley_neb() -> NebResult:
    return run_neb(*valley_endpoints(), valley(), **NEB_KW)


# ---------------------------------------------------------------- 1. known answer


def test_valley_vineyard_matches_analytic(valley_neb):
    neb = valley_neb
    assert neb.converged and neb.max_force_eV_A < 1e-3 and not neb.from_cache
    assert neb.barrier_eV == pytest.approx(VALLEY["eb"], rel=1e-3)
    assert neb.saddle.positions[0] == pytest.approx([0.0, VALLEY["c"], 0.0], abs=2e-3)
    assert neb.hop_length_A == pytest.approx(2 * VALLEY["a"], abs=1e-3)
    assert neb.reaction_energy_eV == pytest.approx(0.0, abs=1e-6)
    assert neb.moving_index == 0 and 0 in neb.atoms_near_hop(1.0)

    calc = valley()
    rate = hop_rate(neb, calc, temperature_K=500.0)
    ref = valley_analytic()
    assert isinstance(rate, HopRate) and not rate.remove_translations  # not periodic
    assert rate.n_force_calls == calc.calls == 2 * 6 * 2  # 2 states × 6 displacements × 2 atoms
    assert rate.attempt_frequency_THz == pytest.approx(ref["nu_star"], rel=1e-3)
    assert rate.tst.reaction_frequency_THz == pytest.approx(ref["nu0"], rel=1e-3)
    assert rate.tst.unstable_frequency_THz == pytest.approx(ref["nu_unstable"], rel=1e-3)
    assert rate.migration_entropy_kB == pytest.approx(np.log(ref["nu_star"] / ref["nu0"]), abs=1e-3)
    assert rate.barrier_eV == neb.barrier_eV
    assert int(np.sum(rate.saddle_frequencies_THz < 0)) == 1
    kt = sc.k / sc.eV * 500.0
    assert rate.jump_rate_THz == pytest.approx(
        ref["nu_star"] * np.exp(-VALLEY["eb"] / kt), rel=2e-3
    )
    # D0 = z a² ν*/6 in 3D (Å² THz → cm²/s: 1e-4)
    d0 = rate.diffusion_prefactor_cm2_s(n_sites=12)
    assert d0 == pytest.approx(12 * neb.hop_length_A**2 * rate.attempt_frequency_THz / 6 * 1e-4)
    row = rate.to_dataframe().iloc[0]
    assert row["n_atoms_in_hessian"] == 2 and row["temperature_K"] == 500.0


def test_neb_table_and_plot(valley_neb):
    import matplotlib

    matplotlib.use("Agg")
    df = valley_neb.to_dataframe()
    assert len(df) == NEB_KW["n_images"] + 2
    assert list(df.columns) == [
        "image",
        "reaction_coordinate_A",
        "energy_eV",
        "relative_energy_eV",
        "saddle",
    ]
    assert df["saddle"].sum() == 1 and df["reaction_coordinate_A"].is_monotonic_increasing
    assert df["relative_energy_eV"].max() == pytest.approx(valley_neb.barrier_eV)
    ax = valley_neb.plot()
    assert "reaction coordinate (Å)" in ax.get_xlabel() and len(ax.lines) == 2


# ---------------------------------------------------------------- 2. Hessian


def random_k(n_atoms: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(3 * n_atoms, 3 * n_atoms))
    return a @ a.T + 3 * np.eye(3 * n_atoms)


K3 = random_k(3)
X0 = np.array([[0.0, 0.0, 0.0], [1.5, 0.2, 0.0], [0.1, 1.4, 0.3]])


def harmonic_fn(pos):
    u = (pos - X0).ravel()
    return 0.5 * u @ K3 @ u, (K3 @ u).reshape(-1, 3)


def harmonic(**kw) -> Model:
    return Model("harmonic", harmonic_fn, **kw)


HARM_ATOMS = Atoms("LiFO", positions=X0 + 0.05, cell=[10.0] * 3, pbc=False)


def test_hessian_equals_force_constants():
    calc = harmonic()
    h = hessian(HARM_ATOMS, calc, delta=0.01)
    assert h.shape == (9, 9) and calc.calls == 18
    np.testing.assert_allclose(h, K3, atol=1e-9)
    sub = hessian(HARM_ATOMS, harmonic(), indices=[2, 0])  # rows/columns in the given order
    rows = [6, 7, 8, 0, 1, 2]
    np.testing.assert_allclose(sub, K3[np.ix_(rows, rows)], atol=1e-9)


def test_hessian_resume_computes_only_missing(tmp_path):
    wd = tmp_path / "h"
    with pytest.raises(KeyboardInterrupt):
        hessian(HARM_ATOMS, harmonic(interrupt_after=7), workdir=wd)
    assert len(list(wd.glob("disp_*.npy"))) == 7 and not list(wd.glob("*.tmp"))
    calc = harmonic()
    h = hessian(HARM_ATOMS, calc, workdir=wd)
    assert calc.calls == 18 - 7
    np.testing.assert_allclose(h, K3, atol=1e-9)
    again = harmonic(interrupt_after=0)  # any call would raise
    np.testing.assert_array_equal(hessian(HARM_ATOMS, again, workdir=wd), h)
    with pytest.raises(WorkdirMismatchError, match="delta"):
        hessian(HARM_ATOMS, harmonic(), delta=0.02, workdir=wd)
    (wd / "disp_0003.npy").write_bytes(b"garbage")
    with pytest.raises(FileFormatError, match="disp_0003"):
        hessian(HARM_ATOMS, harmonic(), workdir=wd)


def test_hessian_bad_arguments():
    for bad in ([], [3], [0, 0], [0.5], "0"):
        with pytest.raises(ArgumentError, match="indices"):
            hessian(HARM_ATOMS, harmonic(), indices=bad)
    for bad in (0, -0.01, 0.7, float("nan")):
        with pytest.raises(ArgumentError, match="delta"):
            hessian(HARM_ATOMS, harmonic(), delta=bad)


# ---------------------------------------------------------------- 3. NEB checkpoint


def test_neb_resume_and_cache(tmp_path, valley_neb):
    wd = tmp_path / "neb"
    ini, fin = valley_endpoints()
    kw = {**NEB_KW, "checkpoint_every": 5}
    with pytest.raises(KeyboardInterrupt):
        run_neb(ini, fin, valley(interrupt_after=200), workdir=wd, **kw)
    manifest = json.loads((wd / "neb.json").read_text())
    assert manifest["steps_done"] >= 5 and manifest["result"] is None
    assert not list(wd.glob("*.tmp"))

    calc = valley()
    resumed = run_neb(ini, fin, calc, workdir=wd, **kw)
    assert resumed.converged and not resumed.from_cache
    assert resumed.n_force_calls == calc.calls < valley_neb.n_force_calls  # no endpoint relaxation
    assert resumed.n_steps > manifest["steps_done"]
    assert resumed.barrier_eV == pytest.approx(valley_neb.barrier_eV, abs=1e-5)
    np.testing.assert_allclose(resumed.saddle.positions, valley_neb.saddle.positions, atol=2e-3)

    cached = run_neb(ini, fin, valley(interrupt_after=0), workdir=wd, **kw)
    assert cached.from_cache and cached.n_force_calls == 0
    np.testing.assert_array_equal(cached.energies_eV, resumed.energies_eV)
    np.testing.assert_array_equal(cached.saddle.positions, resumed.saddle.positions)
    assert cached.n_steps == resumed.n_steps

    with pytest.raises(WorkdirMismatchError, match="n_images"):
        run_neb(ini, fin, valley(), workdir=wd, **{**kw, "n_images": 3})


def test_unconverged_neb_warns_and_continues_with_more_steps(tmp_path):
    wd = tmp_path / "neb"
    ini, fin = valley_endpoints(shift=0.0)
    kw = {"n_images": 3, "fmax": 1e-3, "relax_endpoints": False, "workdir": wd}
    with pytest.warns(ConvergenceWarning, match="did not converge in 4 steps"):
        short = run_neb(ini, fin, valley(), steps=4, **kw)
    assert not short.converged and short.n_steps == 4
    with pytest.warns(ConvergenceWarning):  # cached, still unconverged: warns again, no calls
        assert run_neb(ini, fin, valley(interrupt_after=0), steps=4, **kw).from_cache
    longer = run_neb(ini, fin, valley(), steps=2000, **kw)
    assert longer.converged and longer.n_steps > 4
    assert longer.barrier_eV == pytest.approx(VALLEY["eb"], rel=1e-3)


# ---------------------------------------------------------------- 5. bad input


def test_bad_endpoints():
    ini, fin = valley_endpoints()
    with pytest.raises(ArgumentError, match="same atoms"):
        run_neb(ini, fin[:1], valley())
    swapped = fin.copy()
    swapped.set_chemical_symbols(["F", "Li"])
    with pytest.raises(ArgumentError, match="atom 0 is F but Li"):
        run_neb(ini, swapped, valley())
    with pytest.raises(ArgumentError, match="no atom moves"):
        run_neb(ini, ini.copy(), valley())
    two = Atoms("Li2F", positions=[[0, 0, 0], [2, 0, 0], [1, 1, 0]], cell=[8.0] * 3, pbc=True)
    renumbered = two.copy()
    renumbered.positions[[0, 1]] = two.positions[[1, 0]]
    with pytest.raises(ArgumentError, match="reordered"):
        run_neb(two, renumbered, valley())
    moved_cell = fin.copy()
    moved_cell.set_cell([13.0] * 3)
    with pytest.raises(ArgumentError, match="cell"):
        run_neb(ini, moved_cell, valley())
    for name, value in (("n_images", 0), ("fmax", 0.0), ("steps", -1), ("interpolation", "x")):
        with pytest.raises(ArgumentError, match=name):
            run_neb(ini, fin, valley(), **{name: value})
    with pytest.raises(ArgumentError, match="neb"):
        hop_rate("not a neb", valley())


def test_saddle_without_imaginary_mode_is_refused():
    """A 'path' through a single harmonic well: its middle image is a minimum, not a saddle."""
    a, b = HARM_ATOMS.copy(), HARM_ATOMS.copy()
    a.positions[0] -= [0.2, 0, 0]
    b.positions[0] += [0.2, 0, 0]
    with pytest.warns(ConvergenceWarning):
        neb = run_neb(a, b, harmonic(), n_images=1, steps=0, relax_endpoints=False)
    with pytest.raises(StationaryPointError, match="0 imaginary mode") as err:
        hop_rate(neb, harmonic())
    assert isinstance(err.value, LilibError) and err.value.state == "saddle"
    assert err.value.n_imaginary == 0 and len(err.value.frequencies_THz) == 9


FORK = {"eb": 0.4, "a": 1.0, "k0": 1.0, "k1": 3.0, "q": 10.0, "kz": 4.0}


def fork_fn(pos):
    """Double well in x; across x = 0 the straight path is unstable in y (2nd-order saddle)."""
    p = FORK
    x, y, z = pos[0]
    u = 1 - x**2 / p["a"] ** 2
    g, dg = u**2, -4 * x / p["a"] ** 2 * u
    ky = p["k0"] - p["k1"] * g
    energy = p["eb"] * g + 0.5 * ky * y**2 + 0.25 * p["q"] * y**4 + 0.5 * p["kz"] * z**2
    dx = p["eb"] * dg - 0.5 * p["k1"] * dg * y**2
    return energy, np.array([[dx, ky * y + p["q"] * y**3, p["kz"] * z]])


def test_second_order_saddle_is_refused_with_frequencies():
    kw = {"cell": [10.0] * 3, "pbc": False}
    ini = Atoms("Li", positions=[[-1.0, 0.0, 0.0]], **kw)
    fin = Atoms("Li", positions=[[1.0, 0.0, 0.0]], **kw)
    fork = Model("fork", fork_fn)
    neb = run_neb(ini, fin, fork, n_images=3, fmax=1e-3, interpolation="linear")
    assert neb.converged and neb.barrier_eV == pytest.approx(FORK["eb"], rel=1e-3)
    with pytest.raises(StationaryPointError, match=r"2 imaginary mode\(s\)") as err:
        hop_rate(neb, fork)
    assert err.value.n_imaginary == 2 and "THz" in str(err.value)
    # breaking the mirror symmetry finds the first-order saddle off the straight line
    off = run_neb(ini, fin, fork, n_images=3, fmax=1e-3, interpolation="linear", perturb_A=0.05)
    assert off.barrier_eV < neb.barrier_eV
    assert abs(off.saddle.positions[0, 1]) > 0.1
    assert hop_rate(off, fork).attempt_frequency_THz > 0


# ---------------------------------------------------------------- vacancy endpoints


def lif_primitive() -> Atoms:
    return bulk("LiF", "rocksalt", a=structures.load("LiF").cell.cellpar()[0])


def test_vacancy_hop_geometry():
    prim = lif_primitive()
    a0 = structures.load("LiF").cell.cellpar()[0]
    ends = vacancy_hop(prim, "Li", supercell=(2, 2, 2))
    assert len(ends.initial) == len(ends.final) == 15
    assert ends.initial.get_chemical_formula() == "F8Li7"
    assert ends.initial[ends.moving_index].symbol == "Li"
    assert ends.hop_length_A == pytest.approx(a0 / np.sqrt(2), abs=1e-6)  # fcc nearest neighbour
    moved = np.flatnonzero(np.linalg.norm(ends.final.positions - ends.initial.positions, axis=1))
    assert moved.tolist() == [ends.moving_index]
    assert ends.final.positions[ends.moving_index] == pytest.approx(ends.vacancy_position_A)
    big = vacancy_hop(structures.load("LiF"), "Li")  # conventional cell, default 8 Å → 2×2×2
    assert len(big.initial) == 63 and np.diag(big.supercell).tolist() == [2, 2, 2]
    with pytest.raises(ArgumentError, match="mobile"):
        vacancy_hop(prim, "Na")
    with pytest.raises(ArgumentError, match="nothing can hop"):
        vacancy_hop(prim, "Li", supercell=(1, 1, 1))


def test_periodic_vacancy_hop_emt(tmp_path):
    """Cu vacancy hop with ASE's EMT (26 atoms): a periodic cell, translations projected out."""
    from ase.calculators.emt import EMT

    ends = vacancy_hop(bulk("Cu", "fcc", a=3.61), "Cu", supercell=(3, 3, 3))
    neb = run_neb(ends.initial, ends.final, EMT(), n_images=3, fmax=0.01)
    assert neb.converged and neb.hop_length_A == pytest.approx(3.61 / np.sqrt(2), abs=0.05)
    assert 0.4 < neb.barrier_eV < 1.0  # EMT: ~0.7 eV
    rate = hop_rate(neb, EMT(), workdir=tmp_path)
    assert rate.remove_translations and rate.tst.n_zero_modes_removed == 3
    assert rate.n_force_calls == 2 * 6 * 26
    assert rate.initial_frequencies_THz.size == 3 * 26 - 3
    assert int(np.sum(rate.saddle_frequencies_THz < 0)) == 1
    assert 1.0 < rate.attempt_frequency_THz < 20.0
    again = hop_rate(neb, EMT(), workdir=tmp_path)  # every displacement on disk
    assert again.n_force_calls == 0
    assert again.attempt_frequency_THz == rate.attempt_frequency_THz


def test_rate_convergence_blocks_equal_partial_hessians(tmp_path):
    """hop_rate_convergence: each region's ν* is that of hop_rate with the same indices (the
    sub-block of the full Hessian), the full row is hop_rate with every atom, and the workdir it
    fills makes the full hop_rate free."""
    from ase.calculators.emt import EMT

    ends = vacancy_hop(bulk("Cu", "fcc", a=3.61), "Cu", supercell=(3, 3, 3))
    neb = run_neb(ends.initial, ends.final, EMT(), n_images=3, fmax=0.01)
    conv = hop_rate_convergence(neb, EMT(), radii_A=(3.0, 2.6, 4.0, 20.0), workdir=tmp_path)
    table = conv.to_dataframe()
    assert table["radius_A"].tolist() == [2.6, 3.0, 4.0, 20.0, np.inf]  # sorted; full last
    assert table["n_atoms"].tolist()[-2:] == [26, 26]
    assert conv.full.n_force_calls == 2 * 6 * 26
    for row in table.itertuples():
        if row.radius_A < 20:
            ref = hop_rate(neb, EMT(), indices=neb.atoms_near_hop(row.radius_A))
            assert row.n_atoms == len(ref.indices)
            assert row.attempt_frequency_THz == pytest.approx(ref.attempt_frequency_THz, rel=1e-9)
            assert row.migration_entropy_kB == pytest.approx(ref.migration_entropy_kB, rel=1e-9)
    full = hop_rate(neb, EMT(), workdir=tmp_path)
    assert full.n_force_calls == 0
    assert table["attempt_frequency_THz"].iloc[-1] == full.attempt_frequency_THz
    assert table["attempt_frequency_THz"].iloc[-2] == full.attempt_frequency_THz
    assert conv.plot().get_ylabel() == "Vineyard ν* (THz)"
    with pytest.raises(ArgumentError, match="radii_A"):
        hop_rate_convergence(neb, EMT(), radii_A=(-1.0,))


# ---------------------------------------------------------------- 4. a real hop: LiF, SevenNet-0


@pytest.fixture(scope="module")
def sevennet():
    """SevenNet-0 on one torch thread (2 shared cores: a second thread only waits)."""
    try:
        import torch

        from lilib.calculators import get_calculator

        calc = get_calculator("sevennet-0")
    except (ImportError, LilibError) as exc:
        pytest.skip(f"SevenNet-0 not usable here: {exc}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield calc
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_lif_vacancy_hop_sevennet(sevennet, record_property):
    """Li vacancy hop in LiF (primitive fcc cell × 2×2×2: 15 atoms after the vacancy).

    With SevenNet-0 the straight ⟨110⟩ path (Li through the F–F edge) tops out at a
    second-order saddle (~0.67 eV, the Li also unstable along ⟨001⟩); the path bends out of that
    plane into a shallow intermediate I on the mirror plane. Stage 1: a symmetry-broken
    climbing image from the straight midpoint falls into I (a minimum: refused as a saddle).
    Stage 2: NEB initial → I; its climbing image is the first-order saddle S1, and the Vineyard
    rate is computed for Li plus its F neighbours at S1 (frozen lattice beyond).
    """
    t0 = time.perf_counter()
    ends = vacancy_hop(lif_primitive(), "Li", supercell=(2, 2, 2))
    to_i = run_neb(ends.initial, ends.final, sevennet, n_images=1, fmax=0.1, perturb_A=0.05)
    assert to_i.converged
    m = to_i.moving_index
    assert m == ends.moving_index
    assert abs(to_i.saddle.positions[m, 2] - ends.initial.positions[m, 2]) > 0.2  # off-plane
    t1 = time.perf_counter()
    neb = run_neb(to_i.initial, to_i.saddle, sevennet, n_images=1, fmax=0.05)
    t2 = time.perf_counter()
    region = neb.atoms_near_hop(2.0)
    rate = hop_rate(neb, sevennet, indices=region)
    t3 = time.perf_counter()
    assert neb.converged and neb.moving_index == m and m in region
    assert 0.3 < neb.barrier_eV < 1.2  # DFT-level reports for LiF: ~0.7 eV
    assert int(np.sum(rate.saddle_frequencies_THz < 0)) == 1
    assert np.all(rate.initial_frequencies_THz > 0)
    assert 1.0 < rate.attempt_frequency_THz < 30.0
    numbers = {
        "barrier_eV": neb.barrier_eV,
        "intermediate_eV": to_i.barrier_eV,
        "nu_star_THz": rate.attempt_frequency_THz,
        "nu0_THz": rate.tst.reaction_frequency_THz,
        "unstable_THz": rate.tst.unstable_frequency_THz,
        "S_m_kB": rate.migration_entropy_kB,
        "region_atoms": len(region),
        "force_calls": to_i.n_force_calls + neb.n_force_calls + rate.n_force_calls,
        "seconds_neb_to_I": t1 - t0,
        "seconds_neb_to_S1": t2 - t1,
        "seconds_hessians": t3 - t2,
    }
    for k, v in numbers.items():
        record_property(k, v)
    print(numbers)
