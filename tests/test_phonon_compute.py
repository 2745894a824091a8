"""Phonons from an ASE calculator: supercells, relaxation, checkpoint/resume, cache, errors.

The calculator is ASE's EMT (Al, Cu, Ag, Au, Ni, Pd, Pt): real, analytic and fast. EMT has no
Li or Na, and :func:`lattice_dynamics` needs two elements (a mobile ion and an anion), so its
pass-through test uses the ordered alloy Cu3Au (L1_2) with ``mobile='Cu'``: it checks the plumbing
(computed force constants → descriptors), not ion-transport physics.
Checkpoint tests use a tetragonally strained Cu3Au (3 displacements on a 32-atom supercell).
"""

from __future__ import annotations

import json
import pickle
import warnings
from typing import ClassVar

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT

from lilib.errors import (
    ArgumentError,
    CalculatorError,
    ConvergenceWarning,
    FileFormatError,
    LilibError,
    WorkdirMismatchError,
)
from lilib.phonons import (
    ComputedPhonons,
    PhononData,
    compute_phonons,
    lattice_dynamics,
    load_phonons,
    relax,
    supercell_for,
)

N_DISP = 3  # displacements of the strained Cu3Au below


def cu3au(a: float = 3.707, c_over_a: float = 1.0) -> Atoms:
    return Atoms(
        "AuCu3",
        scaled_positions=[[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]],
        cell=np.diag([a, a, a * c_over_a]),
        pbc=True,
    )


STRAINED = cu3au(c_over_a=1.05)
SMALL = {"min_length": 7.0}  # 2×2×2 → 32 atoms


class CountingEMT(Calculator):
    """EMT that counts evaluations; raises KeyboardInterrupt after ``interrupt_after`` of them."""

    implemented_properties: ClassVar[list[str]] = ["energy", "forces", "stress"]
    name = "counting-emt"

    def __init__(self, interrupt_after: int | None = None) -> None:
        super().__init__()
        self.calls = 0
        self.interrupt_after = interrupt_after
        self._emt = EMT()

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        if self.interrupt_after is not None and self.calls >= self.interrupt_after:
            raise KeyboardInterrupt  # as a user pressing Ctrl-C mid-run
        self.calls += 1
        work = self.atoms.copy()
        work.calc = self._emt
        self.results = {
            "energy": work.get_potential_energy(),
            "forces": work.get_forces(),
            "stress": work.get_stress(),
        }


class NaNEMT(CountingEMT):
    name = "nan-emt"

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.results["forces"] = np.full_like(self.results["forces"], np.nan)


def fc(result) -> np.ndarray:
    return np.asarray(result.phonopy.force_constants)


@pytest.fixture(scope="module")
def reference():
    """Uninterrupted in-memory run on the strained Cu3Au."""
    calc = CountingEMT()
    res = compute_phonons(STRAINED, calc, **SMALL)
    assert calc.calls == res.n_displacements == res.n_force_calls == N_DISP
    return res


# ----------------------------------------------------------------------------- supercell_for


def test_supercell_for_cubic():
    cubic = Atoms("Cu", cell=np.eye(3) * 3.6, pbc=True)
    assert np.array_equal(supercell_for(cubic, 10.0), np.diag([3, 3, 3]))
    exact = Atoms("Cu", cell=np.eye(3) * 5.0, pbc=True)
    assert np.array_equal(supercell_for(exact, 10.0), np.diag([2, 2, 2]))  # 10.0 Å suffices
    assert supercell_for(cubic).dtype.kind == "i"


def test_supercell_for_skewed_cells():
    # fcc primitive: every perpendicular width is a/√3 = 2.338 Å → 5 (4 gives 9.35 Å)
    al = bulk("Al", "fcc", a=4.05)
    assert np.array_equal(supercell_for(al, 10.0), np.diag([5, 5, 5]))
    # hexagonal a = 3, c = 5: in-plane widths a√3/2 = 2.598 Å → 4; along c 5 Å → 2
    hexa = bulk("Mg", "hcp", a=3.0, c=5.0)
    assert np.array_equal(supercell_for(hexa, 10.0), np.diag([4, 4, 2]))
    # triclinic: widths of the supercell ≥ min_length, one fewer repetition is not enough
    tri = Atoms("Cu", cell=[[4.0, 0, 0], [1.5, 3.5, 0], [0.8, 1.1, 4.6]], pbc=True)
    n = supercell_for(tri, 12.0).diagonal()
    cell = tri.cell[:]
    vol = abs(np.linalg.det(cell))
    widths = [
        vol / np.linalg.norm(np.cross(cell[(i + 1) % 3], cell[(i + 2) % 3])) for i in range(3)
    ]
    assert np.all(n * widths >= 12.0) and np.all((n - 1) * widths < 12.0)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_supercell_for_rejects_bad_length(bad):
    with pytest.raises(ArgumentError, match="min_length"):
        supercell_for(bulk("Al"), bad)


def test_supercell_for_needs_a_crystal():
    with pytest.raises(ArgumentError, match="atoms"):
        supercell_for(Atoms("Cu2", positions=[[0, 0, 0], [2, 0, 0]]))


# ----------------------------------------------------------------------------- relax


def test_relax_converges_and_leaves_input_alone():
    start = cu3au(a=3.74)
    res = relax(start, EMT(), fmax=0.01)
    assert res.converged and res.max_force_eV_A < 0.01 and res.n_steps > 0
    assert res.atoms.cell[0, 0] < 3.74 and start.cell[0, 0] == 3.74  # shrank; input untouched
    assert res.atoms.calc is None and np.isfinite(res.energy_eV)


def test_relax_nonconvergence_warns_and_flags():
    strained = cu3au(a=3.9)
    with pytest.warns(ConvergenceWarning, match="did not converge in 1 steps"):
        res = relax(strained, EMT(), steps=1)
    assert res.converged is False and res.n_steps == 1 and res.max_force_eV_A > 0.01
    assert issubclass(ConvergenceWarning, UserWarning)


class ForcesOnly(CountingEMT):
    implemented_properties: ClassVar[list[str]] = ["energy", "forces"]


def test_cell_relaxation_needs_stress():
    with pytest.raises(CalculatorError, match=r"stress.*cell=False"):
        relax(STRAINED, ForcesOnly())
    assert relax(STRAINED, ForcesOnly(), cell=False).converged


def test_relax_positions_only():
    res = relax(STRAINED, EMT(), cell=False, optimizer="BFGS")
    assert res.converged and np.allclose(res.atoms.cell[:], STRAINED.cell[:])


# ----------------------------------------------------------------------------- physics


def test_fcc_al_acoustic_zero_at_gamma_and_stable():
    al = relax(bulk("Al", "fcc", a=4.05), EMT()).atoms
    res = compute_phonons(al, EMT())  # 5×5×5 supercell, one displacement
    assert isinstance(res, ComputedPhonons) and isinstance(res, PhononData)
    assert res.n_displacements == 1 and len(res.phonopy.supercell) == 125
    ph = res.phonopy
    ph.run_qpoints([[0, 0, 0]])
    assert np.all(np.abs(ph.qpoints.frequencies) < 0.05)
    ph.run_mesh([8, 8, 8], is_gamma_center=True)
    freqs = ph.mesh.frequencies
    assert freqs.min() > -0.05  # no imaginary modes
    assert 8.0 < freqs.max() < 12.0  # EMT Al: ~9–10 THz (experiment 9.7 THz)
    assert res.folder is None and res.label == "Al" and res.primitive_matrix_source == "auto"


def test_result_feeds_lattice_dynamics():
    alloy = cu3au()
    res = compute_phonons(alloy, EMT(), **SMALL)
    ld = lattice_dynamics(res, mobile="Cu", mesh=6, source="EMT")
    assert ld.formula == "Cu3Au" and ld.anion_element == "Au" and ld.source == "EMT"
    assert not ld.has_imaginary_modes and ld.acoustic_stable
    # heavy Au sits lower in frequency than Cu
    assert ld.band_centres_THz["Au"] < ld.band_centres_THz["Cu"]
    assert 100 < ld.debye_temperature_K < 500


# ----------------------------------------------------------------------------- checkpoints


@pytest.mark.parametrize("k", [0, 1, 2])
def test_resume_after_interrupt_computes_only_missing(tmp_path, reference, k):
    wd = tmp_path / "run"
    first = CountingEMT(interrupt_after=k)
    with pytest.raises(KeyboardInterrupt):
        compute_phonons(STRAINED, first, workdir=wd, **SMALL)
    assert first.calls == k
    names = sorted(p.name for p in wd.glob("forces_*.npy"))
    assert names == [f"forces_{i:04d}.npy" for i in range(k)]
    assert not list(wd.glob("*.tmp")) and not (wd / "phonopy_params.yaml").exists()
    manifest = json.loads((wd / "manifest.json").read_text())
    assert manifest["n_displacements"] == N_DISP and manifest["key"]["displacement"] == 0.01

    seen = []
    second = CountingEMT()
    res = compute_phonons(
        STRAINED, second, workdir=wd, progress=lambda i, n: seen.append((i, n)), **SMALL
    )
    assert second.calls == res.n_force_calls == N_DISP - k
    assert seen == ([(k, N_DISP)] if k else []) + [(i, N_DISP) for i in range(k + 1, N_DISP + 1)]
    assert not res.from_cache and (wd / "phonopy_params.yaml").is_file()
    np.testing.assert_allclose(fc(res), fc(reference), rtol=0, atol=1e-10)
    assert res.folder == wd and res.label == "run" and res.force_file.name == "phonopy_params.yaml"


def test_third_call_uses_cache(tmp_path, reference):
    wd = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        compute_phonons(STRAINED, CountingEMT(interrupt_after=1), workdir=wd, **SMALL)
    compute_phonons(STRAINED, CountingEMT(), workdir=wd, **SMALL)
    (wd / "forces_0000.npy").unlink()  # the cache does not even read force files
    calc = CountingEMT()
    seen = []
    res = compute_phonons(
        STRAINED, calc, workdir=wd, progress=lambda i, n: seen.append((i, n)), **SMALL
    )
    assert calc.calls == 0 and res.n_force_calls == 0 and res.from_cache
    assert seen == [(N_DISP, N_DISP)]
    np.testing.assert_allclose(fc(res), fc(reference), rtol=0, atol=1e-10)
    ld = lattice_dynamics(res, mobile="Cu", mesh=4)
    assert ld.label == "run" and ld.source == str(wd)
    # the cached file is plain phonopy data: load_phonons reads it
    assert load_phonons(wd).n_displacements == N_DISP


def test_relax_first_is_stored_and_not_redone(tmp_path):
    wd = tmp_path / "relaxed"
    start = cu3au(a=3.72)
    calc = CountingEMT()
    res = compute_phonons(start, calc, relax_first={"fmax": 0.02}, workdir=wd, **SMALL)
    assert res.relaxation is not None and res.relaxation.converged
    assert calc.calls == res.relaxation.n_steps + 1 + res.n_force_calls  # +1: final evaluation
    again = CountingEMT()
    res2 = compute_phonons(start, again, relax_first={"fmax": 0.02}, workdir=wd, **SMALL)
    assert again.calls == 0 and res2.from_cache
    assert np.allclose(res2.relaxation.atoms.cell[:], res.relaxation.atoms.cell[:])
    with pytest.raises(WorkdirMismatchError) as err:  # other relaxation settings
        compute_phonons(start, again, relax_first=True, workdir=wd, **SMALL)
    assert err.value.field == "relax"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"displacement": 0.02}, "displacement"),
        ({"calculator": EMT()}, "calculator"),
        ({"atoms": cu3au(c_over_a=1.06)}, "structure"),
        ({"supercell": [2, 2, 1]}, "supercell"),
        ({"primitive_matrix": "P"}, "primitive_matrix"),
    ],
)
def test_key_mismatch_names_the_field(tmp_path, change, field):
    wd = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        compute_phonons(STRAINED, CountingEMT(interrupt_after=1), workdir=wd, **SMALL)
    kwargs = {"atoms": STRAINED, "calculator": CountingEMT(), "workdir": wd, **SMALL}
    kwargs.update(change)
    with pytest.raises(WorkdirMismatchError) as err:
        compute_phonons(**kwargs)
    assert isinstance(err.value, LilibError)
    assert err.value.field == field and err.value.workdir == wd
    assert str(wd) in str(err.value) and f"different {field}" in str(err.value)


def test_force_files_without_manifest_are_refused(tmp_path):
    wd = tmp_path / "run"
    wd.mkdir()
    np.save(wd / "forces_0000.npy", np.zeros((32, 3)))
    with pytest.raises(WorkdirMismatchError, match="manifest"):
        compute_phonons(STRAINED, EMT(), workdir=wd, **SMALL)


def test_corrupted_force_file_is_named(tmp_path):
    wd = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        compute_phonons(STRAINED, CountingEMT(interrupt_after=2), workdir=wd, **SMALL)
    bad = wd / "forces_0001.npy"
    np.save(bad, np.zeros((31, 3)))  # one atom short
    with pytest.raises(FileFormatError, match=r"shape \(31, 3\).*\(32, 3\)") as err:
        compute_phonons(STRAINED, CountingEMT(), workdir=wd, **SMALL)
    assert err.value.path == bad and "forces_0001.npy" in str(err.value)
    bad.write_bytes(b"not a numpy file")
    with pytest.raises(FileFormatError, match="unreadable") as err:
        compute_phonons(STRAINED, CountingEMT(), workdir=wd, **SMALL)
    assert err.value.path == bad


def test_malformed_manifest_is_named(tmp_path):
    wd = tmp_path / "run"
    wd.mkdir()
    (wd / "manifest.json").write_text("{not json")
    with pytest.raises(FileFormatError) as err:
        compute_phonons(STRAINED, EMT(), workdir=wd, **SMALL)
    assert err.value.path.name == "manifest.json"


# ----------------------------------------------------------------------------- bad inputs


def test_nan_forces_raise_and_are_not_saved(tmp_path):
    wd = tmp_path / "run"
    with pytest.raises(CalculatorError, match=r"non-finite forces.*supercell 1 of 3") as err:
        compute_phonons(STRAINED, NaNEMT(), workdir=wd, **SMALL)
    assert "nan-emt" in str(err.value)
    assert not list(wd.glob("forces_*.npy"))


@pytest.mark.parametrize(
    "bad",
    [
        [[2, 0, 0], [0, 2, 0], [0, 0, -2]],  # negative determinant
        [[1, 0, 0], [0, 1, 0], [1, 1, 0]],  # singular
        [[1.5, 0, 0], [0, 1, 0], [0, 0, 1]],  # not integer
        [[2, 0], [0, 2]],  # not 3×3
        "2x2x2",
    ],
)
def test_bad_supercell_matrix(bad):
    with pytest.raises(ArgumentError, match="supercell"):
        compute_phonons(STRAINED, EMT(), supercell=bad)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"displacement": 0.0}, "displacement"),
        ({"primitive_matrix": "Q"}, "primitive_matrix"),
        ({"primitive_matrix": np.zeros((3, 3))}, "primitive_matrix"),
        ({"relax_first": {"fmax": 0.1, "maxiter": 3}}, "relax_first"),
        ({"progress": 3}, "progress"),
    ],
)
def test_bad_arguments(kwargs, name):
    with pytest.raises(ArgumentError, match=name):
        compute_phonons(STRAINED, EMT(), **kwargs)


def test_new_errors_survive_pickling(tmp_path):
    for err in (
        WorkdirMismatchError(tmp_path, "displacement", 0.01, 0.02),
        CalculatorError("EMT (emt)", "NaN"),
    ):
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err) and str(back) == str(err)


def test_explicit_supercell_and_no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = compute_phonons(STRAINED, EMT(), supercell=[2, 2, 2], primitive_matrix=np.eye(3))
    assert np.array_equal(res.supercell_matrix, np.diag([2, 2, 2]))
    assert res.primitive_matrix_source == "argument"
