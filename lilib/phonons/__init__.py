"""Phonons: loading phonopy data, lattice-dynamics descriptors, harmonic transition-state theory.

>>> from lilib.phonons import load_phonons, lattice_dynamics
>>> data = load_phonons("mp-1138-20180417")  # folder with phonon.yaml + FORCE_SETS (+ BORN)
>>> ld = lattice_dynamics(data)  # Γ-centred 8×8×8 mesh
>>> ld.mobile_band_centre_THz, ld.debye_temperature_K, ld.has_imaginary_modes
>>> tst = vineyard(initial_frequencies, saddle_frequencies)  # THz, imaginary negative
>>> tst.attempt_frequency_THz, tst.jump_rate_THz(300.0, barrier_eV=0.3)
>>> ph = compute_phonons(atoms, calc, workdir="runs/LiF")  # any ASE calculator; resumable
>>> ld = lattice_dynamics(ph, source="SevenNet-0")
"""

from lilib.phonons.compute import (
    ComputedPhonons,
    RelaxResult,
    calculator_identity,
    compute_phonons,
    relax,
    supercell_for,
)
from lilib.phonons.descriptors import (
    DEFAULT_MESH,
    IMAGINARY_THRESHOLD_THZ,
    LatticeDynamics,
    acoustic_velocities,
    lattice_dynamics,
)
from lilib.phonons.io import PhononData, load_phonons
from lilib.phonons.rates import (
    HarmonicTST,
    frequencies_from_hessian,
    vineyard,
    vineyard_from_hessians,
)

__all__ = [
    "DEFAULT_MESH",
    "IMAGINARY_THRESHOLD_THZ",
    "ComputedPhonons",
    "HarmonicTST",
    "LatticeDynamics",
    "PhononData",
    "RelaxResult",
    "acoustic_velocities",
    "calculator_identity",
    "compute_phonons",
    "frequencies_from_hessian",
    "lattice_dynamics",
    "load_phonons",
    "relax",
    "supercell_for",
    "vineyard",
    "vineyard_from_hessians",
]
