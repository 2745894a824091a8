"""mobile_msd_A2: the mobile-ion ⟨u²⟩ at any temperature from the stored pDOS, checked against
lattice_dynamics' exact mode sum (spring model; real DFT folders when present)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import constants as sc
from test_phonon_descriptors import _rocksalt_springs

from lilib.config import shared_data_dir
from lilib.errors import ArgumentError
from lilib.phonons import lattice_dynamics, load_phonons, mobile_msd_A2

TEMPERATURES = np.array([0.0, 10.0, 100.0, 300.0, 600.0, 1000.0])


@pytest.fixture(scope="module")
def spring():
    ph = _rocksalt_springs()
    exact = np.array([lattice_dynamics(ph, temperature_K=t).mobile_msd_A2 for t in TEMPERATURES])
    return ph, lattice_dynamics(ph, temperature_K=300.0), exact


def test_equals_lattice_dynamics_at_its_own_temperature(spring):
    _, ld, _ = spring
    assert mobile_msd_A2(ld, 300.0) == pytest.approx(ld.mobile_msd_A2, rel=1e-12)
    assert isinstance(mobile_msd_A2(ld, 300.0), float)


def test_pdos_integral_matches_mode_sum_at_every_temperature(spring):
    _, ld, exact = spring
    # unanchored: the harmonic integral over the smeared pDOS (Debye law below 3σ) alone
    np.testing.assert_allclose(mobile_msd_A2(ld, TEMPERATURES, anchored=False), exact, rtol=0.01)
    # anchored at 300 K: exact there, and the ratio barely depends on T
    np.testing.assert_allclose(mobile_msd_A2(ld, TEMPERATURES), exact, rtol=0.006)


def test_anchored_from_another_temperature(spring):
    ph, _, exact = spring
    ld600 = lattice_dynamics(ph, temperature_K=600.0)
    assert mobile_msd_A2(ld600, 600.0) == pytest.approx(exact[4], rel=1e-12)
    np.testing.assert_allclose(mobile_msd_A2(ld600, TEMPERATURES), exact, rtol=0.006)


def test_limits(spring):
    _, ld, _ = spring
    u = mobile_msd_A2(ld, TEMPERATURES)
    assert u.shape == TEMPERATURES.shape and np.all(np.diff(u) > 0)
    assert u[0] > 0  # zero-point motion
    assert u[0] == pytest.approx(mobile_msd_A2(ld, 1e-3), rel=1e-9)
    # classical limit: ⟨u²⟩ ∝ T (first quantum correction ∝ 1/T)
    hi = mobile_msd_A2(ld, [2000.0, 4000.0])
    assert hi[1] / hi[0] == pytest.approx(2.0, rel=0.01)


def test_works_on_a_json_round_trip_and_on_curves_alone(spring):
    _, ld, _ = spring
    data = json.loads(json.dumps(ld.to_dict()))
    assert mobile_msd_A2(data, 600.0) == pytest.approx(mobile_msd_A2(ld, 600.0), rel=1e-9)
    # DOS curves without the mode sum (as DescriptorCurves): unanchored by default
    curves = {"frequencies_THz": ld.dos_frequencies_THz, "pdos_per_THz": ld.pdos_per_THz,
              "mobile": "Li", "sigma_THz": ld.dos_sigma_THz}  # fmt: skip
    assert mobile_msd_A2(curves, 600.0) == pytest.approx(
        mobile_msd_A2(ld, 600.0, anchored=False), rel=1e-12
    )
    with pytest.raises(ArgumentError, match="anchor"):
        mobile_msd_A2(curves, 600.0, anchored=True)


def test_bad_arguments(spring):
    _, ld, _ = spring
    with pytest.raises(ArgumentError, match="temperature_K"):
        mobile_msd_A2(ld, -1.0)
    with pytest.raises(ArgumentError, match="temperature_K"):
        mobile_msd_A2(ld, [300.0, np.nan])
    with pytest.raises(ArgumentError, match="pdos_per_THz"):
        mobile_msd_A2({"mobile_element": "Li"}, 300.0)
    with pytest.raises(ArgumentError, match="mobile ion"):
        mobile_msd_A2(
            {"mobile_element": "Na", "pdos_per_THz": ld.pdos_per_THz,
             "dos_frequencies_THz": ld.dos_frequencies_THz}, 300.0,
        )  # fmt: skip


def test_unanchored_uses_the_harmonic_formula():
    """A single Gaussian-smeared Einstein peak: ⟨u²⟩ = 3 ħ coth(hν/2kT) / (2 m ω)."""
    nu0, sigma = 8.0, 0.2
    f = np.linspace(-1.0, 12.0, 4001)
    g = 3.0 * np.exp(-0.5 * ((f - nu0) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    fields = {"mobile_element": "Li", "pdos_per_THz": {"Li": g}, "dos_frequencies_THz": f,
              "dos_sigma_THz": sigma}  # fmt: skip
    from ase.data import atomic_masses

    m = atomic_masses[3] * sc.atomic_mass
    for t in (0.0, 300.0, 900.0):
        coth = 1.0 if t == 0 else 1.0 / np.tanh(sc.h * nu0 * 1e12 / (2 * sc.k * t))
        expected = 3 * sc.hbar * coth / (2 * m * 2 * np.pi * nu0 * 1e12) * 1e20
        assert mobile_msd_A2(fields, t, anchored=False) == pytest.approx(expected, rel=2e-3)


_DATA = shared_data_dir()


@pytest.mark.skipif(_DATA is None or not (_DATA / "phonons").is_dir(), reason="no phonon data")
@pytest.mark.parametrize("folder", ["mp-1138-20180417", "mp-1960-20180417"])  # LiF, Li2O (BORN)
def test_real_data(folder):
    """Stable crystals only: with imaginary modes (e.g. Li3PS4, mp-985583) the mode sum is
    dominated by the few positive modes next to the instability and is itself not converged
    in the mesh (0.16 → 0.23 Å² at 300 K from a 6³ to an 8³ mesh), so no curve can match it."""
    data = load_phonons(_DATA / "phonons" / folder)
    ld = lattice_dynamics(data, temperature_K=300.0, mesh=6)
    exact = [lattice_dynamics(data, temperature_K=t, mesh=6).mobile_msd_A2 for t in (100.0, 700.0)]
    np.testing.assert_allclose(mobile_msd_A2(ld, [100.0, 700.0]), exact, rtol=0.005)
    np.testing.assert_allclose(mobile_msd_A2(ld, [100.0, 700.0], anchored=False), exact, rtol=0.01)
