"""Transport: FFT MSD against the direct sum, random-walk oracles for D*, D_σ and the Haven
ratio, Nernst–Einstein, Arrhenius, van Hove; real AIMD runs against their reference values."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from test_md_trajectory import MD, needs_md

from lilib.errors import ArgumentError
from lilib.md import (
    Diffusivity,
    Trajectory,
    arrhenius_fit,
    charge_diffusivity,
    haven_ratio,
    msd,
    msd_fft,
    nernst_einstein,
    read_trajectory,
    tracer_diffusivity,
    transport,
    van_hove_distinct,
    van_hove_self,
)

CELL = np.eye(3) * 20.0


def random_walk(
    d_A2_ps=(0.5, 0.5, 0.5), n_ions=200, n_frames=2000, dt_fs=10.0, seed=0, correlated=False
):
    """Gaussian random walk with D (Å²/ps) per axis; 'correlated': every ion takes the same steps."""
    rng = np.random.default_rng(seed)
    sigma = np.sqrt(2.0 * np.asarray(d_A2_ps) * dt_fs / 1000.0)  # per-step std per axis, Å
    shape = (n_frames - 1, 1 if correlated else n_ions, 3)
    steps = rng.normal(0.0, 1.0, shape) * sigma
    steps = np.broadcast_to(steps, (n_frames - 1, n_ions, 3))
    start = rng.random((n_ions, 3)) @ CELL
    pos = start + np.concatenate([np.zeros((1, n_ions, 3)), np.cumsum(steps, axis=0)])
    return Trajectory(pos, CELL, ["Li"] * n_ions, dt_fs, temperature_K=600.0, unwrapped=True)


def direct_msd(x):
    """O(N²) reference: mean over origins of (x[t+m] − x[t])² for every lag m."""
    n = x.shape[0]
    return np.stack([((x[m:] - x[: n - m]) ** 2).mean(axis=0) for m in range(n)])


def test_fft_msd_equals_direct_sum():
    rng = np.random.default_rng(1)
    x = 30.0 + np.cumsum(rng.normal(size=(257, 4, 3)), axis=0)  # offset: tests cancellation
    np.testing.assert_allclose(msd_fft(x), direct_msd(x), rtol=0, atol=1e-10)
    np.testing.assert_allclose(msd_fft(x[:, 0, 0]), direct_msd(x[:, 0, 0]), rtol=0, atol=1e-10)
    tr = Trajectory(x, CELL, ["Li", "Li", "S", "S"], 5.0, unwrapped=True)
    res = msd(tr, "Li")
    np.testing.assert_allclose(res.components_A2, direct_msd(x[:, :2]).mean(axis=1), atol=1e-10)
    np.testing.assert_allclose(
        res.msd_A2, direct_msd(x[:, :2]).sum(axis=2).mean(axis=1), atol=1e-10
    )
    total = (x[:, :2] - x[0, :2]).sum(axis=1)
    np.testing.assert_allclose(res.collective_components_A2, direct_msd(total) / 2, atol=1e-10)
    np.testing.assert_allclose(res.ion_msd_A2, direct_msd(x[:, :2]), rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(res.times_ps, np.arange(257) * 0.005)


def test_per_ion_msd_on_a_strided_lag_grid_is_exact():
    rng = np.random.default_rng(2)
    x = -40.0 + np.cumsum(rng.normal(size=(300, 5, 3)), axis=0)
    tr = Trajectory(x, CELL, ["Li"] * 5, 5.0, unwrapped=True)
    full, strided = msd(tr, "Li"), msd(tr, "Li", max_ion_lags=16, workers=1)
    assert full.ion_lag_stride == 1 and strided.ion_lag_stride == 32
    ref = direct_msd(x)
    np.testing.assert_allclose(strided.ion_msd_A2, ref[::32], rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(strided.ion_times_ps, full.times_ps[::32])
    np.testing.assert_allclose(strided.components_A2, full.components_A2, rtol=0, atol=1e-9)
    np.testing.assert_allclose(strided.components_A2, ref.mean(axis=1), rtol=0, atol=1e-9)
    with pytest.raises(ArgumentError, match="per-ion lags"):
        tracer_diffusivity(strided, fit_window=(0.1, 0.15))
    with pytest.raises(ArgumentError):
        msd(tr, "Li", max_ion_lags=4)
    with pytest.raises(ArgumentError):
        msd(tr, "Li", workers=0)


def test_bootstrap_error_barely_depends_on_the_per_ion_lag_grid():
    tr = random_walk()
    every = tracer_diffusivity(msd(tr, "Li", max_ion_lags=10**6))
    coarse = tracer_diffusivity(msd(tr, "Li", max_ion_lags=64))
    assert coarse.value_cm2_s == pytest.approx(every.value_cm2_s, rel=1e-12)
    assert coarse.stderr_cm2_s == pytest.approx(every.stderr_cm2_s, rel=0.05)


def test_isotropic_walk_recovers_d():
    d_true = 0.5  # Å²/ps = 5e-5 cm²/s
    res = transport(random_walk(), "Li")
    d = res.tracer
    assert d.kind == "tracer" and d.n_ions == 200 and d.dimensionality == 3
    assert d.fit_window_ps == pytest.approx((2.0, 10.0), abs=0.011)
    assert 0 < d.stderr_cm2_s < 0.05 * d.value_cm2_s
    assert abs(d.value_cm2_s - d_true * 1e-4) < 3 * d.stderr_cm2_s
    for comp, err in zip(d.components_cm2_s, d.components_stderr_cm2_s):
        assert abs(comp - d_true * 1e-4) < 3.5 * err
    assert d.intercept_A2 == pytest.approx(0.0, abs=0.5)
    assert "bootstrap over 200 ions" in d.uncertainty
    # independent walkers: D_σ ≈ D*, H_R ≈ 1 within the (large) block error
    assert abs(res.haven_ratio - 1.0) < max(3 * res.haven_ratio_stderr, 0.1)
    assert 0.4 < res.haven_ratio < 2.5
    assert "block" in res.charge.uncertainty


def test_bootstrap_error_is_honest():
    """Over independent runs the scatter of D* matches the bootstrap standard error (1.12 for
    these 30 seeds; 0.96 over 400)."""
    values, errors = [], []
    for seed in range(30):
        res = msd(random_walk(n_ions=40, n_frames=300, seed=seed), "Li")
        d = tracer_diffusivity(res, n_bootstrap=200)
        values.append(d.value_cm2_s)
        errors.append(d.stderr_cm2_s)
    ratio = np.std(values, ddof=1) / np.mean(errors)
    assert 0.7 < ratio < 1.4


def test_anisotropic_walk_components_and_axes():
    d_true = np.array([1.0, 0.25, 0.05])
    res = msd(random_walk(d_true, n_ions=150, n_frames=1500, seed=4), "Li")
    d = tracer_diffusivity(res)
    for comp, err, want in zip(d.components_cm2_s, d.components_stderr_cm2_s, d_true * 1e-4):
        assert abs(comp - want) < 3.5 * err
        assert err < 0.15 * want
    assert d.value_cm2_s == pytest.approx(np.mean(d.components_cm2_s), rel=1e-12)
    in_plane = tracer_diffusivity(res, axes=(0, 1))
    assert in_plane.dimensionality == 2
    assert in_plane.value_cm2_s == pytest.approx(np.mean(d.components_cm2_s[:2]), rel=1e-12)
    # a window in ps gives the same as the matching fractions
    same = tracer_diffusivity(res, fit_window_ps=d.fit_window_ps)
    assert same.value_cm2_s == pytest.approx(d.value_cm2_s, rel=1e-12)


def test_correlated_walkers_haven_ratio_is_one_over_n():
    n = 16
    res = transport(random_walk(n_ions=n, n_frames=1000, correlated=True), "Li")
    # every ion moves together: |Σ Δr|²/N = N |Δr|², so D_σ = N D* exactly
    np.testing.assert_allclose(res.msd.collective_msd_A2, n * res.msd.msd_A2, rtol=1e-9, atol=1e-9)
    assert res.haven_ratio == pytest.approx(1.0 / n, rel=1e-9)
    assert res.charge.value_cm2_s == pytest.approx(n * res.tracer.value_cm2_s, rel=1e-9)


def test_nernst_einstein_matches_pymatgen_lgps_numbers():
    # pymatgen-analysis-diffusion: D = 1.16129e-6 cm²/s, 20 Li, V = 970.4137 Å³, 600 K → 74.16537 mS/cm
    d = Diffusivity(
        kind="tracer",
        species="Li",
        value_cm2_s=1.16129e-6,
        stderr_cm2_s=1e-7,
        components_cm2_s=(1e-6, 1e-6, 1.5e-6),
        components_stderr_cm2_s=(0.0, 0.0, 0.0),
        fit_window_ps=(1.0, 5.0),
        n_fit_points=10,
        axes=(0, 1, 2),
        intercept_A2=0.0,
        uncertainty="given",
        n_ions=20,
        volume_A3=970.4137178985233,
        temperature_K=600.0,
    )
    s = nernst_einstein(d)
    assert s.value_mS_cm == pytest.approx(74.16537, rel=2e-5)
    assert s.stderr_mS_cm == pytest.approx(74.16537 / 11.6129, rel=2e-5)
    assert nernst_einstein(d, charge=2).value_mS_cm == pytest.approx(4 * s.value_mS_cm)
    assert "mS/cm" in str(s)
    with pytest.raises(ArgumentError) as info:
        nernst_einstein(Diffusivity(**{**d.__dict__, "temperature_K": None}))
    assert info.value.name == "temperature_K"


def test_arrhenius_recovers_ea():
    rng = np.random.default_rng(7)
    kb = 8.617333262e-5
    t = np.array([500.0, 600.0, 700.0, 800.0, 900.0, 1000.0])
    ea, d0 = 0.25, 2e-3
    exact = d0 * np.exp(-ea / (kb * t))
    fit = arrhenius_fit(t, exact)
    assert fit.ea_eV == pytest.approx(ea, rel=1e-10)
    assert fit.prefactor_cm2_s == pytest.approx(d0, rel=1e-9)
    assert fit.diffusivity_300K_cm2_s == pytest.approx(d0 * np.exp(-ea / (kb * 300)), rel=1e-9)
    # noisy, with honest errors: within 3σ, and the extrapolation's error is propagated
    rel = 0.08
    noisy = exact * np.exp(rng.normal(0, rel, t.size))
    fit = arrhenius_fit(t, noisy, stderr_cm2_s=rel * noisy)
    assert fit.weighted and abs(fit.ea_eV - ea) < 3 * fit.ea_stderr_eV
    assert 0.005 < fit.ea_stderr_eV < 0.05
    want = d0 * np.exp(-ea / (kb * 300))
    assert abs(fit.diffusivity_300K_cm2_s - want) < 3 * fit.diffusivity_300K_stderr_cm2_s
    assert (
        fit.diffusivity_300K_stderr_cm2_s / fit.diffusivity_300K_cm2_s > rel
    )  # far outside the data
    lo, hi = fit.interval(300.0)
    assert lo < fit.diffusivity_300K_cm2_s < hi
    # Diffusivity results carry their own errors
    ds = [
        Diffusivity(
            "tracer",
            "Li",
            v,
            rel * v,
            (v, v, v),
            (0, 0, 0),
            (1, 2),
            5,
            (0, 1, 2),
            0.0,
            "-",
            10,
            1e3,
        )
        for v in noisy
    ]
    assert arrhenius_fit(t, ds).ea_eV == pytest.approx(fit.ea_eV, rel=1e-12)
    assert len(fit.to_dataframe()) == t.size
    for bad in ([1.0, -2.0, 3.0, 4.0, 5.0, 6.0], [1.0] * 5):
        with pytest.raises(ArgumentError):
            arrhenius_fit(t, bad)


def test_van_hove_self_is_normalised_and_gaussian():
    from scipy import stats

    d_true = 0.5
    tr = random_walk(n_ions=400, n_frames=400, seed=2)
    vh = van_hove_self(tr, "Li", times_ps=[0.5, 1.0], r_max_A=10.0, n_bins=100, origin_stride=2)
    assert vh.g.shape == (2, 100) and vh.times_ps.tolist() == [0.5, 1.0]
    np.testing.assert_allclose((vh.g * vh.shell_volumes_A3).sum(axis=1), 1.0, atol=1e-6)
    for k, t in enumerate(vh.times_ps):
        sigma = np.sqrt(2 * d_true * t)  # per-axis std, Å; |Δr| then follows a χ(3) law
        cdf = np.cumsum(vh.g[k] * vh.shell_volumes_A3)
        assert np.abs(cdf - stats.chi(3, scale=sigma).cdf(vh.r_edges_A[1:])).max() < 0.04
        second_moment = np.sum(vh.r_A**2 * vh.g[k] * vh.shell_volumes_A3)
        assert second_moment == pytest.approx(6 * d_true * t, rel=0.05)
        gauss = (2 * np.pi * sigma**2) ** -1.5 * np.exp(-(vh.r_A**2) / (2 * sigma**2))
        assert np.abs(vh.g[k] - gauss)[vh.r_A > 0.5].max() < 0.15 * gauss.max()
    assert vh.to_dataframe().shape == (200, 3)


def test_van_hove_distinct_ideal_gas_and_minimum_image():
    rng = np.random.default_rng(5)
    cell = np.array([[9.0, 0, 0], [2.5, 8.5, 0], [1.0, -1.5, 9.5]])
    pos = rng.random((40, 60, 3)) @ cell  # uncorrelated uniform frames
    tr = Trajectory(pos, cell, ["Li"] * 30 + ["S"] * 30, 10.0, unwrapped=True)
    vh = van_hove_distinct(tr, "Li", "S", times_ps=[0.0, 0.1], n_bins=8)
    assert vh.r_edges_A[-1] <= 0.5 * 8.5
    assert np.abs(vh.g[:, 2:].mean() - 1.0) < 0.05
    # two atoms across the skewed boundary: the short image is found
    a = np.array([0.02, 0.5, 0.5]) @ cell
    b = np.array([0.97, 0.5, 0.5]) @ cell
    pair = Trajectory(np.stack([[a, b]] * 3), cell, ["Li", "Li"], 1.0, unwrapped=True)
    vh = van_hove_distinct(pair, "Li", times_ps=[0.0], r_max_A=3.0, n_bins=30)
    r_true = np.linalg.norm(0.05 * cell[0])
    k = int(np.flatnonzero(vh.g[0])[0])
    assert vh.r_edges_A[k] <= r_true < vh.r_edges_A[k + 1]
    with pytest.raises(ArgumentError) as info:
        van_hove_distinct(pair, "Li", times_ps=[0.0], r_max_A=20.0)
    assert info.value.name == "r_max_A"


def test_argument_errors():
    tr = random_walk(n_ions=5, n_frames=100)
    wrapped = Trajectory(tr.positions, tr.cell, tr.symbols, tr.timestep_fs)
    with pytest.raises(ArgumentError, match="wrapped"):
        msd(wrapped, "Li")
    res = msd(tr, "Li")
    with pytest.raises(ArgumentError) as info:
        tracer_diffusivity(res, fit_window=(0.5, 0.51))
    assert info.value.name == "fit_window"
    with pytest.raises(ArgumentError):
        tracer_diffusivity(res, fit_window=(0.6, 0.2))
    with pytest.raises(ArgumentError) as info:
        tracer_diffusivity(res, axes=(0, 3))
    assert info.value.name == "axes"
    with pytest.raises(ArgumentError):
        msd(tr, "Li", n_blocks=50)
    with pytest.raises(ArgumentError):
        van_hove_self(tr, "Li", times_ps=[5.0])
    with pytest.raises(ArgumentError):
        haven_ratio(charge_diffusivity(res), tracer_diffusivity(res))


def test_results_plot_and_tabulate():
    import matplotlib.pyplot as plt

    res = transport(random_walk(n_ions=20, n_frames=300), "Li")
    for obj in (res, res.msd):
        ax = obj.plot()
        assert ax.get_xlabel() == "lag time (ps)"
        plt.close(ax.figure)
    df = res.to_dataframe()
    assert df.shape[0] == 1 and {"D_tracer_cm2_s", "haven_ratio", "conductivity_mS_cm"} <= set(df)
    assert res.msd.to_dataframe().shape == (300, 9)
    fit = arrhenius_fit([500, 700, 900], [1e-6, 5e-6, 1.2e-5])
    plt.close(fit.plot().figure)
    ax = van_hove_self(random_walk(n_ions=5, n_frames=50), "Li").plot()
    assert ax.get_xlabel() == "r (Å)"
    plt.close(ax.figure)


# ---------------------------------------------------------------------------- real data


@needs_md
def test_lgps_against_pymatgen_reference():
    """LGPS 600 K (pymatgen test data). Provenance: plain FFT MSD + OLS over 10–50 % gives
    D* = 1.07e-6 cm²/s; pymatgen's own (smoothed='max') fit gives 1.1608e-6, σ* = 74.17 mS/cm,
    D_σ = 3.65e-6, H_R = 0.319 (different fitting convention, so compared loosely)."""
    tr = read_trajectory(MD / "pmg_diffusion" / "DiffusionAnalyzer.json")
    # pymatgen removes the plain mean displacement of the framework
    res = transport(tr.remove_drift(mobile="Li", mass_weighted=False), "Li", n_bootstrap=500)
    assert res.tracer.value_cm2_s == pytest.approx(1.07e-6, rel=0.01)
    assert res.tracer.value_cm2_s == pytest.approx(1.1608e-6, rel=0.15)
    assert res.tracer.stderr_cm2_s < 0.5 * res.tracer.value_cm2_s
    # LGPS conducts along c: D_z > D_x, D_y as in pymatgen's components [7.5e-7, 4.9e-7, 2.2e-6]
    dx, dy, dz = res.tracer.components_cm2_s
    assert dz > 2 * max(dx, dy) and dz == pytest.approx(2.246e-6, rel=0.2)
    assert res.tracer_conductivity.value_mS_cm == pytest.approx(74.17, rel=0.15)
    assert 0.1 < res.haven_ratio < 1.0  # pymatgen: 0.319
    assert 1e-6 < res.charge.value_cm2_s < 1e-5  # pymatgen: 3.65e-6
    assert 50 < res.conductivity.value_mS_cm < 500  # pymatgen: 232.8


@needs_md
def test_li6ps5cl_xdatcar_diffusivity():
    """Li6PS5Cl 50p (site-analysis/kinisi data), 2 fs × 50 per frame, drift-corrected, fit
    10–50 %: provenance D_Li = 1.45e-5 cm²/s."""
    tr = read_trajectory(MD / "site_analysis" / "Li6PS5Cl_50p_XDATCAR.gz", timestep_fs=100.0)
    d = tracer_diffusivity(msd(tr.remove_drift(mobile="Li"), "Li"))
    assert d.value_cm2_s == pytest.approx(1.45e-5, rel=0.01)
    assert d.stderr_cm2_s < 0.15 * d.value_cm2_s
    assert d.fit_window_ps == pytest.approx((1.4, 6.9))
