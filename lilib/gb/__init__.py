"""Grain boundaries: stoichiometric bicrystal builder and polycrystal transport models.

>>> from lilib.gb import build_gb, enumerate_sigma, harrison_regimes, brick_layer
>>> gb = build_gb("LiF", (0, 0, 1), 5, (3, 1, 0))  # neutral, stoichiometric Σ5(310)[001]
>>> harrison_regimes(d_nm=100, delta_nm=0.5, D_gb_cm2_s=1e-9, D_bulk_cm2_s=1e-12, t_s=3600)
>>> brick_layer(sigma_bulk_mS_cm=1.0, sigma_gb_mS_cm=1e-3, d_nm=[50, 500, 5000], delta_nm=1)
"""

from lilib.gb.build import (
    EV_PER_A2_TO_J_PER_M2,
    RULE,
    GBModel,
    RemovedAtom,
    SigmaTable,
    TranslationScan,
    build_gb,
    enumerate_sigma,
    rigid_translation_scan,
)
from lilib.gb.polycrystal import (
    BrickLayer,
    HarrisonRegimes,
    brick_layer,
    harrison_regimes,
)

__all__ = [
    "EV_PER_A2_TO_J_PER_M2",
    "RULE",
    "BrickLayer",
    "GBModel",
    "HarrisonRegimes",
    "RemovedAtom",
    "SigmaTable",
    "TranslationScan",
    "brick_layer",
    "build_gb",
    "enumerate_sigma",
    "harrison_regimes",
    "rigid_translation_scan",
]
