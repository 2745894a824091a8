"""Grain boundaries: stoichiometric bicrystal builder and polycrystal transport models.

>>> from lilib.gb import build_gb, enumerate_sigma, harrison_regimes, brick_layer
>>> gb = build_gb("LiF", (0, 0, 1), 5, (3, 1, 0))  # neutral, stoichiometric Σ5(310)[001]
>>> harrison_regimes(d_nm=100, delta_nm=0.5, D_gb_cm2_s=1e-9, D_bulk_cm2_s=1e-12, t_s=3600)
>>> prof = gb_profile(traj, gb, "Li", lag_frames=(5, 25))  # D∥, D⊥ per slab (time spent there)
>>> gb_width(prof).to_dataframe()  # δ, D_gb, D_bulk, excess δ·(D_gb − D_bulk)
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
from lilib.gb.transport import (
    GBArrhenius,
    GBProfile,
    GBWidth,
    RegionDiffusivity,
    distance_to_gb,
    gb_arrhenius,
    gb_profile,
    gb_width,
)

__all__ = [
    "EV_PER_A2_TO_J_PER_M2",
    "RULE",
    "BrickLayer",
    "GBArrhenius",
    "GBModel",
    "GBProfile",
    "GBWidth",
    "HarrisonRegimes",
    "RegionDiffusivity",
    "RemovedAtom",
    "SigmaTable",
    "TranslationScan",
    "brick_layer",
    "build_gb",
    "distance_to_gb",
    "enumerate_sigma",
    "gb_arrhenius",
    "gb_profile",
    "gb_width",
    "harrison_regimes",
    "rigid_translation_scan",
]
