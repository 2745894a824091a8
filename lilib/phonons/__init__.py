"""Phonons: loading phonopy data, lattice-dynamics descriptors, harmonic transition-state theory.

>>> from lilib.phonons import load_phonons, lattice_dynamics
>>> data = load_phonons("mp-1138-20180417")  # folder with phonon.yaml + FORCE_SETS (+ BORN)
>>> ld = lattice_dynamics(data)  # Γ-centred 8×8×8 mesh
>>> ld.mobile_band_centre_THz, ld.debye_temperature_K, ld.has_imaginary_modes
>>> mobile_msd_A2(ld, [100.0, 600.0])  # mobile-ion ⟨u²⟩ (Å²) at other temperatures
>>> tst = vineyard(initial_frequencies, saddle_frequencies)  # THz, imaginary negative
>>> tst.attempt_frequency_THz, tst.jump_rate_THz(300.0, barrier_eV=0.3)
>>> ph = compute_phonons(atoms, calc, workdir="runs/LiF")  # any ASE calculator; resumable
>>> ld = lattice_dynamics(ph, source="SevenNet-0")
>>> ends = vacancy_hop(atoms, mobile="Li")  # supercell with a vacancy, hop into it
>>> neb = run_neb(ends.initial, ends.final, calc, workdir="runs/LiF-neb")  # resumable, cached
>>> rate = hop_rate(neb, calc)  # finite-difference Hessians → Vineyard ν*, Γ(T), S_m
>>> load_descriptors()  # shipped SevenNet-0 descriptors of the structure library (DataFrame)
>>> load_descriptor_curves("LiF")  # its projected DOS curves
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
    mobile_msd_A2,
)
from lilib.phonons.hops import (
    HopEndpoints,
    HopRate,
    NebResult,
    RateConvergence,
    StationaryPointError,
    hessian,
    hop_rate,
    hop_rate_convergence,
    run_neb,
    vacancy_hop,
)
from lilib.phonons.io import PhononData, load_phonons
from lilib.phonons.library_data import (
    DescriptorCurves,
    load_descriptor_curves,
    load_descriptors,
    load_hop_convergence,
    load_hop_modes,
    load_hops,
    load_lattice_dynamics,
)
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
    "DescriptorCurves",
    "HarmonicTST",
    "HopEndpoints",
    "HopRate",
    "LatticeDynamics",
    "NebResult",
    "PhononData",
    "RateConvergence",
    "RelaxResult",
    "StationaryPointError",
    "acoustic_velocities",
    "calculator_identity",
    "compute_phonons",
    "frequencies_from_hessian",
    "hessian",
    "hop_rate",
    "hop_rate_convergence",
    "lattice_dynamics",
    "load_descriptor_curves",
    "load_descriptors",
    "load_hop_convergence",
    "load_hop_modes",
    "load_hops",
    "load_lattice_dynamics",
    "load_phonons",
    "mobile_msd_A2",
    "relax",
    "run_neb",
    "supercell_for",
    "vacancy_hop",
    "vineyard",
    "vineyard_from_hessians",
]
