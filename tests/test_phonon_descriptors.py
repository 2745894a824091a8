"""Descriptors and Vineyard rates on models with analytic answers (no data needed), plus
cross-checks against phonopy's own thermal displacements on real folders (skipped without data).

Spring model: rocksalt "LiF" with central springs k1 (Li–F, a/2) and k2 (Li–Li and F–F, a/√2).
For central springs between centrosymmetric sites the elastic constants are
C_ijkl = (1/V) Σ_bonds k r² n_i n_j n_k n_l, sound velocities follow from the Christoffel
equation det(C_ijkl n_j n_l − ρv² δ_ik) = 0, and the on-site force constant of an atom is the
sum of its spring constants: tr(Φ_jj)/3 = (6 k1 + 12 k2)/3.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import constants as sc

from lilib.config import shared_data_dir
from lilib.errors import ArgumentError, LilibError
from lilib.phonons import (
    HarmonicTST,
    LatticeDynamics,
    acoustic_velocities,
    frequencies_from_hessian,
    lattice_dynamics,
    load_phonons,
    vineyard,
    vineyard_from_hessians,
)

A = 4.0  # Å, cubic lattice constant of the model
K1, K2 = 2.0, 0.5  # eV/Å²
EV_AMU = np.sqrt(sc.eV / sc.atomic_mass)  # m/s per sqrt(eV/amu)
TO_THZ = np.sqrt(sc.eV / (1e-20 * sc.atomic_mass)) / (2 * np.pi) / 1e12  # sqrt(eV/Å²/amu) → THz
# phonopy converts with its own (older CODATA) eV and amu: its THz differ from ours by 1.2e-7
# relative, so quantities rebuilt from phonopy's frequencies agree to ~3e-7, not to rounding.
PHONOPY_UNITS_RTOL = 1e-6


def _rocksalt_springs(k1: float = K1, k2: float = K2, a: float = A):
    """Phonopy object (primitive fcc, 2 atoms) with spring-model force constants, and bonds."""
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms

    li = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]
    f = [[0.5, 0, 0], [0.5, 0.5, 0.5], [0, 0, 0.5], [0, 0.5, 0]]
    unit = PhonopyAtoms(symbols=["Li"] * 4 + ["F"] * 4, cell=np.eye(3) * a, scaled_positions=li + f)
    ph = Phonopy(unit, supercell_matrix=np.eye(3, dtype=int) * 2, primitive_matrix="F")
    sup = ph.supercell
    pos, cell, sym = sup.scaled_positions, sup.cell, sup.symbols
    n = len(sym)
    fc = np.zeros((n, n, 3, 3))
    for i in range(n):
        d = pos - pos[i]
        d -= np.round(d)
        r = d @ cell
        dist = np.linalg.norm(r, axis=1)
        for j in range(n):
            if j == i:
                continue
            if abs(dist[j] - a / 2) < 1e-6 and sym[i] != sym[j]:
                k = k1
            elif abs(dist[j] - a / np.sqrt(2)) < 1e-6 and sym[i] == sym[j]:
                k = k2
            else:
                continue
            u = r[j] / dist[j]
            fc[i, j] = -k * np.outer(u, u)
        fc[i, i] = -fc[i].sum(axis=0)
    ph.force_constants = fc
    return ph


def _elastic_tensor(k1: float = K1, k2: float = K2, a: float = A) -> np.ndarray:
    """C_ijkl (eV/Å³) of the spring model from its bonds (each counted once per cell)."""
    vol = a**3 / 4
    c = np.zeros((3, 3, 3, 3))
    nn = [np.array(v, float) * a / 2 for v in ([1, 0, 0], [0, 1, 0], [0, 0, 1])]
    nnn = [
        np.array(v, float) * a / 2
        for v in ([1, 1, 0], [1, -1, 0], [1, 0, 1], [1, 0, -1], [0, 1, 1], [0, 1, -1])
    ]
    # per cell: 6 Li–F bonds (3 axes, both signs), 6 Li–Li and 6 F–F face-diagonal bonds
    for k, bonds, count in ((k1, nn, 2), (k2, nnn, 2)):
        for r in bonds:
            c += count * k * np.einsum("i,j,k,l->ijkl", r, r, r, r) / (r @ r) / vol
    return c


def _christoffel_velocities(c: np.ndarray, rho_amu_A3: float, dirs: np.ndarray) -> np.ndarray:
    gam = np.einsum("ijkl,nj,nl->nik", c, dirs, dirs)
    return np.sqrt(np.linalg.eigvalsh(gam) / rho_amu_A3) * EV_AMU  # m/s, ascending


@pytest.fixture(scope="module")
def model():
    ph = _rocksalt_springs()
    return ph, lattice_dynamics(ph, temperature_K=300.0, label="spring rocksalt")


# ---------------------------------------------------------------- Debye temperature


def test_sound_velocities_match_christoffel(model):
    ph, _ = model
    dirs, v, stable = acoustic_velocities(ph)
    assert stable
    rho = float(np.sum(ph.primitive.masses)) / ph.primitive.volume
    expected = _christoffel_velocities(_elastic_tensor(), rho, dirs)
    np.testing.assert_allclose(v, expected, rtol=2e-4)


def test_debye_temperature_matches_isotropic_average_of_christoffel(model):
    ph, ld = model
    rho = float(np.sum(ph.primitive.masses)) / ph.primitive.volume
    # independent quadrature: 40 000 random directions
    rng = np.random.default_rng(7)
    dirs = rng.normal(size=(40000, 3))
    dirs /= np.linalg.norm(dirs, axis=1)[:, None]
    v = _christoffel_velocities(_elastic_tensor(), rho, dirs)
    v_m = (3.0 / np.mean(np.sum(v**-3.0, axis=1))) ** (1 / 3)
    n_density = 2 / ph.primitive.volume * 1e30
    theta = sc.hbar / sc.k * (6 * np.pi**2 * n_density) ** (1 / 3) * v_m
    assert ld.acoustic_stable
    assert ld.debye_velocity_m_s == pytest.approx(v_m, rel=5e-3)
    assert ld.debye_temperature_K == pytest.approx(theta, rel=5e-3)
    # [100]: v_L = sqrt(C11/ρ), v_T = sqrt(C44/ρ); C11 = (2 k1 + 4 k2)/a, C44 = 2 k2/a
    v100 = _christoffel_velocities(_elastic_tensor(), rho, np.array([[1.0, 0, 0]]))[0]
    assert v100[2] == pytest.approx(np.sqrt((2 * K1 + 4 * K2) / A / rho) * EV_AMU, rel=1e-12)
    assert v100[0] == pytest.approx(np.sqrt(2 * K2 / A / rho) * EV_AMU, rel=1e-12)


def test_unstable_shear_flags_imaginary_modes_and_no_debye_temperature():
    ld = lattice_dynamics(_rocksalt_springs(k2=-0.3))
    assert ld.has_imaginary_modes and ld.min_frequency_THz < -0.1
    assert 0 < ld.imaginary_fraction < 1
    assert not ld.acoustic_stable and np.isnan(ld.debye_temperature_K)
    assert all(c > 0 for c in ld.band_centres_THz.values())  # imaginary modes never averaged


# ---------------------------------------------------------------- softness, MSD, DOS


def test_onsite_force_constant_and_second_moment_identity(model):
    ph, ld = model
    k_expected = (6 * K1 + 12 * K2) / 3
    assert ld.mobile_force_constant_eV_A2 == pytest.approx(k_expected, rel=1e-12)
    m_li = ph.primitive.masses[0]
    assert ld.mobile_einstein_frequency_THz == pytest.approx(
        np.sqrt(k_expected / m_li) * TO_THZ, rel=1e-12
    )
    # m ⟨ω²⟩ over all modes of a mesh commensurate with the supercell = on-site force constant
    assert _second_moment_force_constant(ph, "Li") == pytest.approx(
        k_expected, rel=PHONOPY_UNITS_RTOL
    )


def _second_moment_force_constant(ph, element: str) -> float:
    """(1/3) m Σ_q w_q Σ_ν |e_j|² sign(ν) ω² / N_q (eV/Å²), mean over atoms of the element,
    from the mesh left on ``ph`` by lattice_dynamics (all modes, imaginary ones with ω² < 0)."""
    mesh = ph.mesh
    f, w, e = mesh.frequencies, mesh.weights, mesh.eigenvectors
    symbols = list(ph.primitive.symbols)
    out = []
    for j, s in enumerate(symbols):
        if s != element:
            continue
        p = (np.abs(e[:, 3 * j : 3 * j + 3, :]) ** 2).sum(axis=1)  # (nq, band)
        omega2 = np.sign(f) * f**2 / TO_THZ**2  # eV/(Å² amu)
        out.append(np.sum(w[:, None] * p * omega2) / w.sum() * ph.primitive.masses[j] / 3)
    return float(np.mean(out))


def test_msd_equals_phonopy_thermal_displacements_on_model(model):
    ph, _ = model
    ld = lattice_dynamics(ph, temperature_K=500.0)
    assert ld.mobile_msd_A2 == pytest.approx(_phonopy_msd(ph, "Li", 500.0), rel=PHONOPY_UNITS_RTOL)


def _phonopy_msd(ph, element: str, temperature: float, mesh=(8, 8, 8)) -> float:
    ph.run_mesh(mesh, with_eigenvectors=True, is_gamma_center=True, is_mesh_symmetry=False)
    td = ph.run_thermal_displacements(temperatures=[temperature], exclude_gamma_acoustic=True)
    u2 = np.asarray(td.thermal_displacements[0]).reshape(-1, 3).sum(axis=1)  # per atom, Å²
    symbols = list(ph.primitive.symbols)
    return float(np.mean([u2[i] for i, s in enumerate(symbols) if s == element]))


def test_msd_high_temperature_expansion(model):
    """⟨u²⟩ = Σ |e|² ħ coth(ħω/2k_BT)/(2mω) = A T + B/T + O(T⁻³), and the first quantum
    correction is universal: B = ħ²/(12 m k_B) Σ|e|² = ħ²/(4 m k_B) (3 modes per atom)."""
    ph, _ = model
    t1, t2 = 3000.0, 6000.0
    u1 = lattice_dynamics(ph, temperature_K=t1).mobile_msd_A2
    u2 = lattice_dynamics(ph, temperature_K=t2).mobile_msd_A2
    b = (u1 * t1 - u2 * t2 * (t1 / t2) ** 2) / (1 - (t1 / t2) ** 2)  # Å² K
    m_li = ph.primitive.masses[0] * sc.atomic_mass
    expected = sc.hbar**2 / (4 * m_li * sc.k) * 1e20
    assert b == pytest.approx(expected, rel=1e-2)


def test_result_object(model):
    _, ld = model
    assert isinstance(ld, LatticeDynamics)
    assert ld.mobile_element == "Li" and ld.anion_element == "F"
    assert ld.mesh == (8, 8, 8) and not ld.born_used and ld.source == "phonopy object"
    assert ld.mobile_mean_frequency_THz == ld.mobile_band_centre_THz
    df = ld.to_dataframe()
    assert df.index.tolist() == ["spring rocksalt"]
    for col in (
        "mobile_band_centre_THz",
        "anion_band_centre_THz",
        "mobile_msd_A2",
        "debye_temperature_K",
        "mobile_force_constant_eV_A2",
        "has_imaginary_modes",
        "imaginary_fraction",
        "band_centre_F_THz",
    ):
        assert col in df.columns
    pdos = ld.pdos_dataframe()
    x = pdos["frequency_THz"].to_numpy()
    # each element: 3 modes per atom (one Li, one F per primitive cell)
    assert np.trapezoid(pdos["Li_per_THz"], x) == pytest.approx(3.0, rel=1e-3)
    assert np.trapezoid(pdos["total_per_THz"], x) == pytest.approx(6.0, rel=1e-3)
    import matplotlib

    matplotlib.use("Agg")
    ax = ld.plot()
    assert len(ax.lines) == 4  # two PDOS curves, two band-centre markers
    assert ax.get_xlabel() == "frequency (THz)"


def test_bad_arguments(model):
    ph, _ = model
    with pytest.raises(ArgumentError, match="mobile"):
        lattice_dynamics(ph, mobile="Na")
    with pytest.raises(ArgumentError, match="anion"):
        lattice_dynamics(ph, anion="S")
    with pytest.raises(ArgumentError, match="mesh"):
        lattice_dynamics(ph, mesh=(8, 8))
    with pytest.raises(ArgumentError, match="temperature_K"):
        lattice_dynamics(ph, temperature_K=-1)
    with pytest.raises(ArgumentError, match="phonons"):
        lattice_dynamics("LiF")


# ---------------------------------------------------------------- real data (skipped without)

SHARED = shared_data_dir()
PHONONS = SHARED / "phonons" if SHARED is not None else None
needs_data = pytest.mark.skipif(
    PHONONS is None or not PHONONS.is_dir(), reason="no shared phonon data (../shared/data/phonons)"
)


@needs_data
@pytest.mark.parametrize(
    "folder",
    ["mp-1138-20180417", "mp-2251-20180417"],  # LiF (BORN), Li3N P6/mmm (BORN, imaginary modes)
)
def test_msd_equals_phonopy_thermal_displacements_on_dft_data(folder):
    data = load_phonons(PHONONS / folder)
    ld = lattice_dynamics(data, temperature_K=300.0)
    assert ld.mobile_msd_A2 == pytest.approx(
        _phonopy_msd(data.phonopy, "Li", 300.0), rel=PHONOPY_UNITS_RTOL
    )


@needs_data
def test_force_constant_identity_on_dft_data_with_imaginary_modes():
    data = load_phonons(PHONONS / "mp-2251-20180417", nac=False)  # Li3N, 3×3×3, mesh 9 fits
    ld = lattice_dynamics(data, mesh=9)
    assert ld.has_imaginary_modes
    assert _second_moment_force_constant(data.phonopy, "Li") == pytest.approx(
        ld.mobile_force_constant_eV_A2, rel=PHONOPY_UNITS_RTOL
    )


# ---------------------------------------------------------------- Vineyard


def test_one_dimensional_double_well():
    """V = E_b((x/x0)² − 1)²: V''(±x0) = 8E_b/x0², V''(0) = −4E_b/x0²; ν* is the well frequency."""
    eb, x0, m = 0.3, 1.2, 6.94
    tst = vineyard_from_hessians(
        [[8 * eb / x0**2, 0, 0], [0, 1.0, 0], [0, 0, 1.0]],
        [[-4 * eb / x0**2, 0, 0], [0, 1.0, 0], [0, 0, 1.0]],
        [m],
        remove_translations=False,
        barrier_eV=eb,
    )
    nu_well = np.sqrt(8 * eb / x0**2 / m) * TO_THZ
    assert tst.attempt_frequency_THz == pytest.approx(nu_well, rel=1e-12)
    assert tst.reaction_frequency_THz == pytest.approx(nu_well, rel=1e-12)
    assert tst.unstable_frequency_THz == pytest.approx(np.sqrt(4 * eb / x0**2 / m) * TO_THZ)
    assert tst.migration_entropy_kB() == pytest.approx(0.0, abs=1e-12)
    kt = sc.k / sc.eV * 400.0
    assert tst.jump_rate_THz(400.0) == pytest.approx(nu_well * np.exp(-eb / kt), rel=1e-12)
    # seed 003 eq. 3 convention: S/k_B = ln(h ν*/k_B T)
    assert tst.migration_entropy_kB(temperature_K=400.0) == pytest.approx(
        np.log(sc.h * nu_well * 1e12 / (sc.k * 400.0))
    )
    # D0 = z a² ν*/6 (d = 3), Å² THz → cm²/s is 1e-4
    assert tst.diffusion_prefactor_cm2_s(2.5, n_sites=4) == pytest.approx(
        4 * 2.5**2 * nu_well / 6 * 1e-4, rel=1e-12
    )
    assert tst.diffusivity_cm2_s(400.0, 2.5, n_sites=4) == pytest.approx(
        4 * 2.5**2 * nu_well / 6 * 1e-4 * np.exp(-eb / kt), rel=1e-12
    )


def test_separable_oscillators_in_rotated_coordinates():
    """Hop along one normal coordinate, spectators stiffen or soften at the saddle:
    ν* = (1/2π) √(Π k_i / Π k'_j / m) whatever orthogonal frame the Hessians are written in."""
    rng = np.random.default_rng(3)
    m = 22.99
    k_ini = np.array([1.7, 2.0, 3.1, 0.8, 4.4, 1.1])  # eV/Å², k_ini[0] along the hop
    k_sad = np.array([-0.9, 2.6, 2.2, 1.5, 3.9, 0.7])  # one negative curvature
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    tst = vineyard_from_hessians(
        q @ np.diag(k_ini) @ q.T, q @ np.diag(k_sad) @ q.T, [m, m], remove_translations=False
    )
    expected = np.sqrt(np.prod(k_ini) / np.prod(k_sad[1:]) / m) * TO_THZ
    assert tst.attempt_frequency_THz == pytest.approx(expected, rel=1e-10)
    assert tst.reaction_frequency_THz == pytest.approx(np.sqrt(k_ini[0] / m) * TO_THZ, rel=1e-10)
    # S_m/k_B = ln(ν*/ν0) = ½ ln(Π_{i≥2} k_i / Π_j k'_j): entropy of the transverse modes
    assert tst.migration_entropy_kB() == pytest.approx(
        0.5 * np.log(np.prod(k_ini[1:]) / np.prod(k_sad[1:])), rel=1e-10
    )
    # the same from frequency lists
    f_ini = frequencies_from_hessian(q @ np.diag(k_ini) @ q.T, [m, m])
    f_sad = frequencies_from_hessian(q @ np.diag(k_sad) @ q.T, [m, m])
    assert vineyard(f_ini, f_sad).attempt_frequency_THz == pytest.approx(expected, rel=1e-10)


def _dimer_hessian(kx: float, kyz: float) -> np.ndarray:
    """Two atoms, V = ½ kx (x1−x2)² + ½ kyz [(y1−y2)² + (z1−z2)²]: translation invariant."""
    h = np.zeros((6, 6))
    for a, k in enumerate((kx, kyz, kyz)):
        h[a, a] = h[3 + a, 3 + a] = k
        h[a, 3 + a] = h[3 + a, a] = -k
    return h


def test_translations_removed_unequal_masses():
    m1, m2, kx, kyz = 6.94, 32.06, 3.0, 1.2
    mu = m1 * m2 / (m1 + m2)
    tst = vineyard_from_hessians(_dimer_hessian(kx, kyz), _dimer_hessian(-0.7, kyz), [m1, m2])
    assert tst.n_zero_modes_removed == 3
    assert tst.initial_frequencies_THz.size == 3 and tst.saddle_frequencies_THz.size == 2
    # three relative modes at √(k/μ); the two transverse ones cancel: ν* = ν_x
    assert tst.attempt_frequency_THz == pytest.approx(np.sqrt(kx / mu) * TO_THZ, rel=1e-10)
    assert tst.unstable_frequency_THz == pytest.approx(np.sqrt(0.7 / mu) * TO_THZ, rel=1e-10)
    # frequency lists with the three zero modes left in: found and removed automatically
    f_ini = frequencies_from_hessian(_dimer_hessian(kx, kyz), [m1, m2])
    f_sad = frequencies_from_hessian(_dimer_hessian(-0.7, kyz), [m1, m2])
    auto = vineyard(f_ini, f_sad)
    assert auto.n_zero_modes_removed == 3
    assert auto.attempt_frequency_THz == pytest.approx(tst.attempt_frequency_THz, rel=1e-8)
    df = auto.to_dataframe()
    assert df.loc[0, "n_initial_modes"] == 3 and np.isnan(df.loc[0, "migration_entropy_kB"])
    import matplotlib

    matplotlib.use("Agg")
    assert auto.plot().get_ylabel() == "frequency (THz)"


def test_frequencies_from_hessian_match_phonopy_supercell():
    """Units and mass weighting: the supercell Γ problem holds the frequencies of all
    commensurate q-points of the primitive cell (spring model, no NAC)."""
    ph = _rocksalt_springs()
    sup = ph.supercell
    n = len(sup)
    h = ph.force_constants.transpose(0, 2, 1, 3).reshape(3 * n, 3 * n)
    ours = np.sort(frequencies_from_hessian(h, sup.masses))
    from phonopy.harmonic.dynmat_to_fc import get_commensurate_points

    smat_prim = np.rint(np.linalg.inv(ph.primitive_matrix) @ ph.supercell_matrix).astype(int)
    qs = get_commensurate_points(smat_prim)
    theirs = np.sort(np.concatenate(ph.run_qpoints(qs).frequencies))
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_vineyard_checks():
    good_ini = [0.0, 0.0, 0.0, 3.0, 4.0, 5.0]
    with pytest.raises(ArgumentError, match="exactly one imaginary"):
        vineyard(good_ini, [0, 0, 0, 2.0, 3.0, 4.0])  # no imaginary mode at the saddle
    with pytest.raises(ArgumentError, match="exactly one imaginary"):
        vineyard(good_ini, [0, 0, 0, -2.0, -3.0, 4.0])
    with pytest.raises(ArgumentError, match="not a minimum"):
        vineyard([0, 0, 0, -1.0, 4.0, 5.0], [0, 0, 0, -2.0, 3.0, 4.0])
    with pytest.raises(ArgumentError, match="3N"):
        vineyard(good_ini, [0, 0, 0, -2.0, 3.0])
    with pytest.raises(ArgumentError, match="near-zero modes"):
        vineyard(good_ini, [0, 0, -2.0, 3.0, 4.0, 5.0])  # 3 zeros vs 2
    with pytest.raises(ArgumentError, match="zero"):
        vineyard(good_ini, [0.3, 0, 0, -2.0, 3.0, 4.0], zero_modes=3)
    with pytest.raises(ArgumentError, match="near-zero"):
        vineyard([0, 0, 0, 0.01, 4.0, 5.0], [0, 0, 0, -2.0, 3.0, 4.0], zero_modes=3)
    with pytest.raises(ArgumentError, match="translation invariant"):
        vineyard_from_hessians(np.eye(6), -np.eye(6), [1.0, 1.0])  # fixed-atom-like Hessian
    with pytest.raises(ArgumentError, match="hessian"):
        frequencies_from_hessian(np.eye(5), [1.0, 1.0])
    tst = vineyard(good_ini, [0, 0, 0, -2.0, 3.0, 4.0])
    assert isinstance(tst, HarmonicTST) and tst.attempt_frequency_THz == pytest.approx(5.0)
    with pytest.raises(ArgumentError, match="barrier_eV"):
        tst.jump_rate_THz(300.0)
    with pytest.raises(ArgumentError, match="attempt_frequency_THz"):
        tst.migration_entropy_kB()
    assert tst.migration_entropy_kB(attempt_frequency_THz=2.5) == pytest.approx(np.log(2.0))
    with pytest.raises(LilibError):
        tst.diffusion_prefactor_cm2_s(-1.0)
