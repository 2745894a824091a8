"""rank_correlation: Spearman ρ, bootstrap interval and permutation p against scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from lilib.errors import ArgumentError
from lilib.stats import rank_correlation


def test_rho_matches_scipy_with_ties():
    x = [1.0, 2.0, 2.0, 3.5, 4.0, 7.0, 6.0, 0.5]
    y = [0.3, 0.1, 0.4, 0.2, 0.9, 0.8, 0.8, 0.0]
    r = rank_correlation(x, y)
    assert r.rho == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert -1 <= r.ci_low <= r.rho <= r.ci_high <= 1


def test_perfect_monotone_relation():
    x = np.arange(10.0)
    r = rank_correlation(x, np.exp(x))
    assert r.rho == 1.0 and r.ci_high == 1.0
    # exact permutation p for n = 10 by sampling: only the identity pairing reaches ρ = 1
    assert r.p_value < 0.01
    assert rank_correlation(x, -x).rho == -1.0


def test_exact_permutations_for_small_n():
    x, y = [1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 1.0, 4.0, 3.0, 5.0]
    r = rank_correlation(x, y)
    assert r.n_permutations == 120
    null = [stats.spearmanr(x, np.array(y)[list(p)]).statistic for p in _perms(5)]
    assert r.p_value == pytest.approx(np.mean(np.abs(null) >= abs(r.rho) - 1e-12))


def _perms(n):
    from itertools import permutations

    return permutations(range(n))


def test_seeded_and_interval_width_shrinks_with_n():
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    y = x + rng.normal(size=200)
    small = rank_correlation(x[:10], y[:10], seed=3)
    assert small == rank_correlation(x[:10], y[:10], seed=3)
    big = rank_correlation(x, y, seed=3)
    assert (big.ci_high - big.ci_low) < (small.ci_high - small.ci_low)
    assert big.ci_low <= stats.spearmanr(x, y).statistic <= big.ci_high
    assert set(small.to_dict()) == {"n", "spearman_rho", "ci_low", "ci_high", "p_permutation"}


def test_independent_data_are_not_significant():
    rng = np.random.default_rng(7)
    r = rank_correlation(rng.normal(size=12), rng.normal(size=12), seed=0)
    assert r.ci_low < 0 < r.ci_high or r.p_value > 0.05


@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        ([1, 2, 3, 4], [1, 2, 3], "pairs"),
        ([1, 2, np.nan, 4, 5], [1, 2, 3, 4, 5], "NaN"),
        ([1, 2, 3], [1, 2, 3], "at least 4"),
        ([1, 1, 1, 1], [1, 2, 3, 4], "constant"),
    ],
)
def test_bad_input(x, y, match):
    with pytest.raises(ArgumentError, match=match):
        rank_correlation(x, y)
