"""VDOS from MD velocities (lilib.md.vdos): oscillator oracles, sum rule, aliasing, phonons.

Oracles:
- independent harmonic oscillators with known frequencies (two species, analytic positions and
  velocities, equal energy k_BT per component): peaks, band centres, 3N sum rule, temperature;
- Cu (EMT, 32-atom cell, 20 K, Nosé–Hoover): the MD band centre against the harmonic modes of
  the same cell (phonopy, Γ of the 32-atom cell), (a) weighted by the kinetic energy each mode
  holds in the run (exact for harmonic motion: 0.3 %), (b) with equal weights (the phonon band
  centre of lattice_dynamics; a nearly harmonic 32-atom crystal keeps the random mode energies
  of its initial draw, so ~4 % is expected), (c) the phonon band centre on an 8×8×8 mesh.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from ase import units
from ase.build import bulk
from ase.calculators.emt import EMT
from scipy.signal import get_window

from lilib.errors import ArgumentError
from lilib.md import Trajectory
from lilib.md.vdos import VDOS, vdos

KT_300 = units.kB * 300.0
SPECIES = {"Li": (6.94, (5.0, 8.0)), "S": (32.06, (2.0, 3.0))}  # mass (amu), THz per atom


def oscillators(species=SPECIES, dt=2.0, n_frames=5000, copies=3, seed=1, extra=()):
    """Trajectory + exact velocities (Å/fs) of independent 3-D harmonic oscillators.

    Each Cartesian component holds energy k_BT (300 K): amplitude A = √(2k_BT/(mω²)).
    ``extra``: (symbol, mass, THz) oscillators added as they are.
    """
    rng = np.random.default_rng(seed)
    symbols, nus, masses = [], [], []
    for el, (m, freqs) in species.items():
        for f in freqs:
            for _ in range(copies):
                symbols.append(el)
                nus.append(f)
                masses.append(m)
    for el, m, f in extra:
        symbols.append(el)
        nus.append(f)
        masses.append(m)
    nus, masses = np.array(nus), np.array(masses)
    omega = 2 * np.pi * nus / 1000.0  # rad/fs
    amp = np.sqrt(2 * KT_300 / (masses * omega**2 / units.fs**2))
    phase = rng.uniform(0, 2 * np.pi, (len(nus), 3))
    t = np.arange(n_frames) * dt
    arg = omega[None, :, None] * t[:, None, None] + phase[None]
    pos = 5.0 + amp[None, :, None] * np.cos(arg)
    vel = -(amp * omega)[None, :, None] * np.sin(arg)
    traj = Trajectory(positions=pos, cell=np.eye(3) * 30.0, symbols=symbols, timestep_fs=dt,
                      unwrapped=True)  # fmt: skip
    return traj, vel, masses


def peaks(f, g, rel=0.2):
    return [f[i] for i in range(1, len(f) - 1) if g[i] > g[i - 1] and g[i] >= g[i + 1]
            and g[i] > rel * g.max()]  # fmt: skip


@pytest.mark.parametrize("source", ["velocities", "finite differences"])
def test_oscillators_peaks_band_centres_sum_rule_and_temperature(source):
    traj, vel, _ = oscillators()
    res = vdos(traj, velocities=vel if source == "velocities" else None)
    assert isinstance(res, VDOS) and res.velocity_source == source
    f = res.frequencies_THz
    assert res.resolution_THz == pytest.approx(1.44 / (res.segment_frames * 2.0e-3), rel=0.01)
    for el, (_, freqs) in SPECIES.items():
        found = peaks(f, res.per_species[el])
        assert len(found) == len(freqs)
        assert np.allclose(found, freqs, atol=res.resolution_THz / 2)
        # first moment of equal-energy peaks: the mean frequency
        assert res.band_centres_THz[el] == pytest.approx(np.mean(freqs), abs=0.01)
        assert res.modes_per_species[el] == pytest.approx(3 * 3 * len(freqs), rel=1e-3)
    assert np.sum(res.total) * (f[1] - f[0]) == pytest.approx(3 * res.n_atoms, rel=1e-12)
    assert np.trapezoid(res.total, f) == pytest.approx(3 * res.n_atoms, rel=1e-6)
    assert res.n_modes == 36
    assert res.temperature_K == pytest.approx(300.0, rel=2e-3)
    assert res.mobile_element == "Li" and res.anion_element == "S"
    assert res.mobile_band_centre_THz == res.band_centres_THz["Li"]
    assert res.anion_band_centre_THz == pytest.approx(2.5, abs=0.01)
    assert res.nyquist_THz == 250.0 and not res.aliasing_suspect


def test_vacf_of_one_oscillator_is_a_cosine():
    traj, vel, _ = oscillators({"Na": (22.99, (4.0,))}, copies=1)
    res = vdos(traj, velocities=vel)
    tau_ps = res.vacf_times_fs / 1000.0
    early = tau_ps < 1.0
    assert np.allclose(res.vacf[early], np.cos(2 * np.pi * 4.0 * tau_ps[early]), atol=0.02)
    assert res.mobile_element == "Na" and res.anion_element is None
    assert np.isnan(res.anion_band_centre_THz)


def test_mass_weighting_changes_species_shares_not_band_centres():
    traj, vel, masses = oscillators()
    weighted = vdos(traj, velocities=vel)
    plain = vdos(traj, velocities=vel, mass_weighted=False)
    for el in SPECIES:
        assert plain.band_centres_THz[el] == pytest.approx(weighted.band_centres_THz[el], 1e-9)
    # unweighted: shares follow ⟨v²⟩ ∝ 1/m at equal energy
    inv_m = {"Li": 12 / 6.94, "S": 12 / 32.06}
    expected_li = 36 * inv_m["Li"] / (inv_m["Li"] + inv_m["S"])
    assert plain.modes_per_species["Li"] == pytest.approx(expected_li, rel=1e-3)
    assert plain.temperature_K == pytest.approx(weighted.temperature_K)
    # explicit masses: doubling S's mass doubles its mass-weighted share before normalisation
    heavy = vdos(traj, velocities=vel, masses=np.where(masses > 20, 2 * masses, masses))
    assert heavy.modes_per_species["S"] == pytest.approx(2 * 36 / 3, rel=1e-3)


def test_welch_segments_trade_resolution_for_noise():
    traj, vel, _ = oscillators()
    whole = vdos(traj, velocities=vel)
    seg = vdos(traj, velocities=vel, segment_ps=2.0)
    assert seg.n_segments == 9 and seg.segment_frames == 1000  # 50 % overlap
    assert seg.resolution_THz == pytest.approx(5 * whole.resolution_THz, rel=0.01)
    for el, (_, freqs) in SPECIES.items():
        assert np.allclose(peaks(seg.frequencies_THz, seg.per_species[el]), freqs,
                           atol=seg.resolution_THz / 2)  # fmt: skip
        assert seg.band_centres_THz[el] == pytest.approx(np.mean(freqs), abs=0.05)
    boxcar = vdos(traj, velocities=vel, window="boxcar")
    assert boxcar.resolution_THz < whole.resolution_THz  # narrower peak, larger side lobes
    skipped = vdos(traj, velocities=vel, skip_ps=5.0)
    assert skipped.segment_frames == 2500 and skipped.source["first_frame"] == 2500


def test_frequencies_near_nyquist_are_flagged_and_above_it_alias():
    dt = 10.0  # Nyquist 50 THz
    traj, _, _ = oscillators({"Li": (6.94, (48.0,)), "F": (19.0, (10.0,))}, dt=dt, n_frames=2000)
    with pytest.warns(UserWarning, match="Nyquist"):
        res = vdos(traj)
    assert res.aliasing_suspect and res.nyquist_weight_fraction > 0.01
    traj, _, _ = oscillators({"Li": (6.94, (65.0,)), "F": (19.0, (10.0,))}, dt=dt, n_frames=2000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        folded = vdos(traj)
    assert np.allclose(peaks(folded.frequencies_THz, folded.per_species["Li"]), [35.0],
                       atol=folded.resolution_THz)  # 65 THz seen at 2 × 50 − 65  # fmt: skip


def test_result_helpers():
    import matplotlib

    matplotlib.use("Agg")
    traj, vel, _ = oscillators(n_frames=500)
    res = vdos(traj, velocities=vel)
    df = res.to_dataframe()
    assert list(df.columns) == ["frequency_THz", "total_per_THz", "Li_per_THz", "S_per_THz"]
    assert df.attrs["band_centres_THz"] == res.band_centres_THz
    ax = res.plot(max_frequency_THz=12.0)
    assert ax.get_xlim() == (0.0, 12.0) and ax.get_xlabel() == "frequency (THz)"


def test_bad_inputs_name_the_argument():
    traj, vel, masses = oscillators(n_frames=200)
    cases = [
        (lambda: vdos(np.zeros((10, 2, 3))), "data"),
        (lambda: vdos(traj, velocities=vel[:-1]), "velocities"),
        (lambda: vdos(traj, velocities=vel * np.nan), "velocities"),
        (lambda: vdos(traj, masses=masses[:-1]), "masses"),
        (lambda: vdos(traj, masses=-masses), "masses"),
        (lambda: vdos(traj[:6]), "data"),
        (lambda: vdos(traj, segment_ps=10.0), "segment_ps"),
        (lambda: vdos(traj, segment_ps=-1.0), "segment_ps"),
        (lambda: vdos(traj, skip_ps=-1.0), "skip_ps"),
        (lambda: vdos(traj, window="no-such-window"), "window"),
        (lambda: vdos(traj, mobile="Na"), "mobile"),
        (lambda: vdos(traj, anion="O"), "anion"),
        (lambda: vdos(traj, mass_weighted=1), "mass_weighted"),
    ]
    for call, name in cases:
        with pytest.raises(ArgumentError) as exc:
            call()
        assert exc.value.name == name


def test_wrapped_trajectory_is_unwrapped_before_differencing():
    traj, _, _ = oscillators(n_frames=1000)
    shifted = np.asarray(traj.positions) + np.array([14.9, 0.0, 0.0])  # crosses x = 30 Å
    wrapped = Trajectory(positions=shifted % 30.0, cell=traj.cell, symbols=traj.symbols,
                         timestep_fs=traj.timestep_fs)  # fmt: skip
    a, b = vdos(traj), vdos(wrapped)
    assert np.allclose(a.total, b.total, rtol=1e-6, atol=1e-9)


@pytest.mark.slow
def test_cu_md_vdos_agrees_with_harmonic_phonons(tmp_path):
    from lilib.md.run import run_md
    from lilib.phonons import compute_phonons, lattice_dynamics

    cell = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)  # 32 atoms
    run = run_md(cell, EMT(), 20.0, 2400, 5.0, workdir=tmp_path / "md", thermostat="nose-hoover",
                 tdamp_fs=500.0, save_every=2, save_velocities=True, seed=4,
                 progress=False)  # fmt: skip
    res = vdos(run, skip_ps=1.0)
    from_positions = vdos(run.trajectory(), masses=run.masses, skip_ps=1.0)
    assert res.velocity_source == "velocities"
    assert from_positions.velocity_source == "finite differences"
    centre = res.band_centres_THz["Cu"]
    assert from_positions.band_centres_THz["Cu"] == pytest.approx(centre, rel=0.005)
    assert res.temperature_K == pytest.approx(20.0, rel=0.15)
    assert res.mobile_element is None and res.anion_element is None

    ph = compute_phonons(cell, EMT(), supercell=np.eye(3, dtype=int),
                         primitive_matrix=np.eye(3)).phonopy  # fmt: skip
    ph.run_qpoints([[0, 0, 0]], with_eigenvectors=True)
    nu = np.asarray(ph.qpoints.frequencies[0])
    modes = np.asarray(ph.qpoints.eigenvectors[0]).real  # columns: mass-weighted eigenvectors
    positive = nu > 0.1  # the three translations are zero
    # (a) each mode weighted by the kinetic energy it holds in the run (same window)
    vel = np.asarray(run.velocities())[res.source["first_frame"] :]
    q_dot = (vel * np.sqrt(run.masses)[None, :, None]).reshape(len(vel), -1) @ modes
    w = get_window("hann", len(vel))
    kinetic = np.sum(w[:, None] ** 2 * q_dot**2, axis=0)
    exact = np.sum(nu[positive] * kinetic[positive]) / np.sum(kinetic[positive])
    assert centre == pytest.approx(exact, rel=0.01)  # measured 0.30 %
    # (b) equal weights: the harmonic band centre of this 32-atom cell (equipartition assumed)
    gamma_centre = nu[positive].mean()
    assert centre == pytest.approx(gamma_centre, rel=0.06)  # measured +3.7 %
    # (c) lattice_dynamics on the fcc primitive cell: mesh 8, force constants of a 4×4×4 cell
    ld = lattice_dynamics(
        compute_phonons(bulk("Cu", "fcc", a=3.61), EMT(), supercell=np.diag([4, 4, 4]),
                        primitive_matrix=np.eye(3)),
        mobile="Cu", anion="Cu",
    )  # fmt: skip
    assert ld.band_centres_THz["Cu"] == pytest.approx(gamma_centre, rel=0.03)  # 5.15 vs 5.27
    assert centre == pytest.approx(ld.band_centres_THz["Cu"], rel=0.08)  # measured +6.1 %
