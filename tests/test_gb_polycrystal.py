"""Harrison regimes and the brick-layer model against their closed forms and limits."""

from __future__ import annotations

import numpy as np
import pytest

from lilib.errors import ArgumentError
from lilib.gb import brick_layer, harrison_regimes

D_BULK = 1e-12  # cm²/s
D_GB = 1e-8
DELTA = 0.5  # nm
D = 200.0  # nm


def test_regime_boundaries_are_where_the_criteria_say():
    h = harrison_regimes(D, DELTA, D_GB, D_BULK, 1.0)
    # A: d/√(D t) ≤ 0.4  →  t ≥ (d/0.4)²/D ; C: δ/(2√(D t)) ≥ 5  →  t ≤ (δ/10)²/D
    t_a = (D * 1e-7 / 0.4) ** 2 / D_BULK
    t_c = (DELTA * 1e-7 / 10) ** 2 / D_BULK
    assert h.t_A_s(D) == pytest.approx(t_a)
    assert h.t_C_s == pytest.approx(t_c)
    t = np.array([t_c / 2, t_c * 0.999, t_c * 1.001, np.sqrt(t_a * t_c), t_a * 0.999, t_a * 1.001])
    r = harrison_regimes(D, DELTA, D_GB, D_BULK, t)
    assert list(r.regime) == ["C", "C", "B", "B", "B", "A"]
    assert r.bulk_length_nm == pytest.approx(np.sqrt(D_BULK * t) * 1e7)
    assert r.gb_length_nm == pytest.approx(np.sqrt(D_GB * t) * 1e7)
    assert r.Lambda == pytest.approx(D / r.bulk_length_nm)
    assert r.alpha == pytest.approx(DELTA / (2 * r.bulk_length_nm))
    assert r.beta == pytest.approx(D_GB / D_BULK * r.alpha)


def test_textbook_c_limit_and_segregation_factor():
    base = harrison_regimes(D, DELTA, D_GB, D_BULK, 1.0)
    textbook = harrison_regimes(D, DELTA, D_GB, D_BULK, 1.0, alpha_C=1.0)
    assert textbook.t_C_s == pytest.approx(25 * base.t_C_s)  # (10/2)²
    seg = harrison_regimes(D, DELTA, D_GB, D_BULK, 1.0, segregation_factor=3.0)
    assert seg.t_C_s == pytest.approx(9 * base.t_C_s)
    assert seg.alpha == pytest.approx(3 * base.alpha)


def test_vectorised_over_time_and_grain_size():
    t = np.logspace(-6, 8, 57)
    d = np.array([20.0, 200.0, 2000.0])[:, None]
    h = harrison_regimes(d, DELTA, D_GB, D_BULK, t[None, :])
    assert h.regime.shape == (3, 57)
    order = {"C": 0, "B": 1, "A": 2}
    codes = np.vectorize(order.get)(h.regime)
    assert np.all(np.diff(codes, axis=1) >= 0)  # C → B → A as time grows
    assert np.all(np.diff(codes, axis=0) <= 0)  # bigger grains reach A later
    assert set(h.regime[:, 0]) == {"C"} and h.regime[0, -1] == "A"
    df = h.to_dataframe()
    assert len(df) == 3 * 57 and set(df["regime"]) == {"A", "B", "C"}


def test_harrison_bad_input():
    with pytest.raises(ArgumentError) as err:
        harrison_regimes(0.4, DELTA, D_GB, D_BULK, 1.0)
    assert err.value.name == "d_nm"
    with pytest.raises(ArgumentError) as err:
        harrison_regimes(D, DELTA, D_GB, -1e-12, 1.0)
    assert err.value.name == "D_bulk_cm2_s"
    with pytest.raises(ArgumentError) as err:
        harrison_regimes(D, DELTA, D_GB, D_BULK, [1.0, 0.0])
    assert err.value.name == "t_s"
    with pytest.raises(ArgumentError) as err:
        harrison_regimes([100.0, 200.0], DELTA, D_GB, D_BULK, [1.0, 2.0, 3.0])
    assert err.value.name == "t_s"


SB, SG = 0.8, 2e-4  # mS/cm: bulk and a blocking GB


def test_large_grains_give_bulk():
    b = brick_layer(SB, SG, [1e9, 1e12], 1.0)
    assert b.sigma_total_mS_cm == pytest.approx([SB, SB], rel=1e-5)


def test_equal_conductivities_give_bulk_exactly():
    d = np.logspace(0.5, 5, 20)
    b = brick_layer(SB, SB, d, 2.0)
    assert b.sigma_total_mS_cm == pytest.approx(np.full(20, SB), rel=1e-12)


def test_series_path_formula_and_thin_gb_limit():
    d = np.array([10.0, 100.0, 1e4])
    delta = 1.0
    b = brick_layer(SB, SG, d, delta, sigma_gb_along_mS_cm=0.0)
    period = d + delta
    exact = d**2 / (period * (d / SB + delta / SG))
    assert b.sigma_total_mS_cm == pytest.approx(exact, rel=1e-12)
    assert np.all(b.sigma_parallel_mS_cm == 0)
    thin = brick_layer(SB, SG, 1e5, 1e-2, sigma_gb_along_mS_cm=0.0)
    series = 1 / (1 / SB + (1e-2 / 1e5) / SG)
    assert thin.sigma_total_mS_cm[0] == pytest.approx(series, rel=1e-6)


def test_parallel_path_volume_average_and_short_circuit_limit():
    d, delta = np.array([5.0, 50.0, 500.0]), 1.0
    along = 50.0
    b = brick_layer(SB, SB, d, delta, sigma_gb_along_mS_cm=along)
    f_gb = 1 - (d / (d + delta)) ** 2  # GB area fraction normal to the current
    assert b.sigma_total_mS_cm == pytest.approx(SB * (1 - f_gb) + along * f_gb, rel=1e-12)
    thin = brick_layer(SB, SB, 1e5, 1.0, sigma_gb_along_mS_cm=1e6)
    assert thin.sigma_total_mS_cm[0] == pytest.approx(SB + 2 * 1e-5 * 1e6, rel=1e-4)


def test_first_order_expansion_in_delta_over_d():
    x = 1e-7  # δ/d, small also against σ_gb/σ_bulk
    b = brick_layer(SB, SG, 1.0 / x, 1.0, sigma_gb_along_mS_cm=3 * SG)
    first_order_change = -x * (SB + SB**2 / SG) + 2 * x * 3 * SG
    assert b.sigma_total_mS_cm[0] - SB == pytest.approx(first_order_change, rel=1e-2)


def test_apparent_gb_conductivity_and_blocking_trend():
    d = np.logspace(1, 4, 7)
    b = brick_layer(SB, SG, d, 1.0)
    assert b.sigma_gb_apparent_mS_cm == pytest.approx(SG * d**2 / (1.0 * (d + 1.0)))
    assert np.all(np.diff(b.sigma_total_mS_cm) > 0)  # blocking GBs: bigger grains conduct better
    fast = brick_layer(SB, 1e3, d, 1.0)
    assert np.all(np.diff(fast.sigma_total_mS_cm) < 0)  # short-circuit GBs: the reverse
    assert b.to_dataframe().columns[0] == "d_nm"


def test_brick_layer_bad_input():
    with pytest.raises(ArgumentError) as err:
        brick_layer(0.0, SG, 100.0, 1.0)
    assert err.value.name == "sigma_bulk_mS_cm"
    with pytest.raises(ArgumentError) as err:
        brick_layer(SB, SG, [100.0, -1.0], 1.0)
    assert err.value.name == "d_nm"
    with pytest.raises(ArgumentError) as err:
        brick_layer(SB, SG, 100.0, "thin")
    assert err.value.name == "delta_nm"


def test_plots_return_axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = harrison_regimes([50.0, 500.0], DELTA, D_GB, D_BULK, [10.0, 1e4]).plot()
    assert ax.get_xscale() == "log" and ax.get_ylabel().startswith("grain size")
    ax2 = brick_layer(SB, SG, np.logspace(1, 4, 10), 1.0).plot()
    assert len(ax2.get_lines()) >= 3
    plt.close("all")
