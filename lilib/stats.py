"""Small-sample statistics for descriptor screening: rank correlation with honest error bars.

>>> from lilib.stats import rank_correlation
>>> r = rank_correlation(band_centre_THz, ea_eV, seed=0)
>>> r.rho, r.ci_low, r.ci_high, r.p_value, r.n

With ten materials a correlation coefficient alone says little: :func:`rank_correlation` gives
Spearman's ρ with a percentile bootstrap confidence interval (pairs resampled with replacement)
and a permutation p-value (how often shuffled pairings reach |ρ| as large), both seeded, so a
notebook prints the same numbers on every run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from lilib.errors import ArgumentError

__all__ = ["RankCorrelation", "rank_correlation"]


@dataclass(frozen=True)
class RankCorrelation:
    """Spearman ρ of ``n`` pairs, its bootstrap interval and permutation p-value.

    ``ci_low``/``ci_high``: percentile bootstrap interval at ``confidence`` from
    ``n_resamples_used`` resamples (resamples in which either variable is constant have no ρ
    and are dropped: ``n_resamples`` − ``n_resamples_used`` of them). ``p_value``: two-sided,
    from ``n_permutations`` random pairings (exact enumeration when n! is smaller).
    """

    rho: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    confidence: float
    n_resamples: int
    n_resamples_used: int
    n_permutations: int
    seed: int

    def to_dict(self) -> dict[str, float | int]:
        """The numbers as a flat dict (one row of a DataFrame)."""
        return {
            "n": self.n,
            "spearman_rho": self.rho,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_permutation": self.p_value,
        }


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman ρ along the last axis (average ranks for ties); NaN where a row is constant."""
    rx = stats.rankdata(x, axis=-1)
    ry = stats.rankdata(y, axis=-1)
    rx = rx - rx.mean(axis=-1, keepdims=True)
    ry = ry - ry.mean(axis=-1, keepdims=True)
    den = np.sqrt((rx * rx).sum(axis=-1) * (ry * ry).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (rx * ry).sum(axis=-1) / np.where(den > 0, den, 1.0), np.nan)


def rank_correlation(
    x: Sequence[float],
    y: Sequence[float],
    *,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    n_permutations: int = 10_000,
    seed: int = 0,
) -> RankCorrelation:
    """Spearman ρ of paired values with a bootstrap confidence interval and a permutation p.

    x, y: equal-length sequences (NaN pairs are refused: drop them first, and say so).
    confidence: of the percentile interval. n_resamples: bootstrap resamples of the pairs.
    n_permutations: random pairings for the p-value (all n! when fewer). seed: of both.
    """
    xa = np.asarray(pd.to_numeric(pd.Series(list(x)), errors="coerce"), dtype=float)
    ya = np.asarray(pd.to_numeric(pd.Series(list(y)), errors="coerce"), dtype=float)
    if xa.shape != ya.shape or xa.ndim != 1:
        raise ArgumentError("y", f"x has {xa.size} values, y has {ya.size}: need pairs")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(ya))):
        raise ArgumentError("x", "contains NaN or non-numbers: drop those pairs first")
    n = xa.size
    if n < 4:
        raise ArgumentError("x", f"{n} pairs: a rank correlation needs at least 4")
    if not 0 < confidence < 1:
        raise ArgumentError("confidence", f"must be between 0 and 1, got {confidence!r}")
    if int(n_resamples) < 100 or int(n_permutations) < 100:
        raise ArgumentError("n_resamples", "use at least 100 resamples and permutations")
    rho = float(_spearman(xa, ya))
    if not np.isfinite(rho):
        raise ArgumentError("x", "x or y is constant: no rank correlation")
    rng = np.random.default_rng(seed)

    idx = rng.integers(0, n, size=(int(n_resamples), n))
    boot = _spearman(xa[idx], ya[idx])
    boot = boot[np.isfinite(boot)]
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(boot, [alpha, 1.0 - alpha])

    import math

    if math.factorial(n) <= n_permutations:
        from itertools import permutations

        perms = np.array(list(permutations(range(n))))
    else:
        perms = np.argsort(rng.random((int(n_permutations), n)), axis=1)
    null = _spearman(np.broadcast_to(xa, perms.shape), ya[perms])
    p = float(np.mean(np.abs(null) >= abs(rho) - 1e-12))
    return RankCorrelation(
        rho=rho,
        ci_low=float(lo),
        ci_high=float(hi),
        p_value=p,
        n=n,
        confidence=float(confidence),
        n_resamples=int(n_resamples),
        n_resamples_used=int(boot.size),
        n_permutations=int(perms.shape[0]),
        seed=int(seed),
    )
