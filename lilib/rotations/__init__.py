"""Polyanion rotations: orientation tracking, reorientation events, hop–rotation coupling.

>>> from lilib.md import read_trajectory
>>> from lilib.rotations import rotation_analysis
>>> traj = read_trajectory("DiffusionAnalyzer.json")  # LGPS, 600 K
>>> ra = rotation_analysis(traj, centres=["P", "Ge"], ligands="S")
>>> ra.groups.counts  # {'GeS4': 2, 'PS4': 4}
>>> ra.orientations.point_groups[0].name  # 'T' (12 proper rotations)
>>> ra.events.n_events, ra.events.rate_per_ps, ra.events.class_counts
>>> ra.acf.c2, ra.acf.fits[2]  # P2 bond autocorrelation and its KWW time
>>> print(ra.coupling("Li").verdict)  # paddle wheel: rotations near Li hops vs chance

Step by step: :func:`find_groups` (central atom + ligands by covalent-radius cutoffs, or rigid
clusters; ligand exchange checked), :func:`track_orientations` (batched Kabsch/QCP quaternions,
the group's proper point group, misorientation modulo it), :func:`rotation_events`
(hysteresis θ_in/θ_out; rates, residence times, jump classes), :func:`bond_acf` (Legendre
C1/C2 by FFT, KWW fit), :func:`detect_hops` and :func:`hop_rotation_coupling` (co-occurrence
against circularly shifted rotation times), :func:`rotation_arrhenius` (rates across T).

Units: Å, fs (time step), ps (times, rates per ps), degrees, eV. Quaternions are scalar-first.
Science: seed 000 §3.1.9/§3.5.2 (paddle wheel), §3.5.1 (concerted migration); seed 003 §3.3
and §5.4 (paddle wheel in Na3O(BH4)).
"""

from lilib.rotations.analysis import RotationAnalysis, rotation_analysis
from lilib.rotations.correlation import ACFFit, BondACF, bond_acf, legendre_acf
from lilib.rotations.coupling import CouplingResult, HopEvents, detect_hops, hop_rotation_coupling
from lilib.rotations.events import (
    RotationArrhenius,
    RotationEvents,
    rotation_arrhenius,
    rotation_events,
)
from lilib.rotations.groups import LigandExchangeWarning, PolyanionGroups, find_groups
from lilib.rotations.orientation import Orientations, track_orientations
from lilib.rotations.symmetry import PointGroup, proper_point_group

__all__ = [
    "ACFFit",
    "BondACF",
    "CouplingResult",
    "HopEvents",
    "LigandExchangeWarning",
    "Orientations",
    "PointGroup",
    "PolyanionGroups",
    "RotationAnalysis",
    "RotationArrhenius",
    "RotationEvents",
    "bond_acf",
    "detect_hops",
    "find_groups",
    "hop_rotation_coupling",
    "legendre_acf",
    "proper_point_group",
    "rotation_analysis",
    "rotation_arrhenius",
    "rotation_events",
    "track_orientations",
]
