"""Molecular dynamics: trajectories as arrays, file readers, transport coefficients.

>>> from lilib.md import read_trajectory, transport, arrhenius_fit
>>> traj = read_trajectory("XDATCAR.gz", timestep_fs=100.0, temperature_K=600.0)
>>> traj = traj.remove_drift(mobile="Li")  # framework centre of mass held still
>>> res = transport(traj, "Li")  # FFT MSD, D* ± bootstrap, D_σ ± blocks, H_R, σ (mS/cm)
>>> print(res.tracer, res.charge, res.haven_ratio, res.conductivity, sep="\\n")
>>> res.msd.plot()
... res.to_dataframe()
>>> fit = arrhenius_fit([600, 800, 1000], [d600, d800, d1000])  # Diffusivity results or cm²/s
>>> fit.ea_eV, fit.ea_stderr_eV, fit.diffusivity_300K_cm2_s
>>> van_hove_self(traj, "Li", times_ps=[1, 5]).plot()

Units: Å, fs (time step) and ps (lags), K, cm²/s, mS/cm, eV.
"""

from lilib.md.lammps import LammpsRun, relax_lattice, run_lammps_md, schottky_defects
from lilib.md.pmg_mode import PmgDiffusionResult, diffusion_analyzer_equivalent
from lilib.md.readers import (
    read_ase,
    read_lammps_dump,
    read_pmg_diffusion,
    read_trajectory,
    read_xdatcar,
)
from lilib.md.run import MDRun, load_run, run_md
from lilib.md.trajectory import Trajectory
from lilib.md.transport import (
    ArrheniusFit,
    Conductivity,
    Diffusivity,
    MSDResult,
    TransportResult,
    VanHove,
    arrhenius_fit,
    charge_diffusivity,
    haven_ratio,
    msd,
    msd_fft,
    nernst_einstein,
    tracer_diffusivity,
    transport,
    van_hove_distinct,
    van_hove_self,
)
from lilib.md.vdos import VDOS, vdos

__all__ = [
    "VDOS",
    "ArrheniusFit",
    "Conductivity",
    "Diffusivity",
    "LammpsRun",
    "MDRun",
    "MSDResult",
    "PmgDiffusionResult",
    "Trajectory",
    "TransportResult",
    "VanHove",
    "arrhenius_fit",
    "charge_diffusivity",
    "diffusion_analyzer_equivalent",
    "haven_ratio",
    "load_run",
    "msd",
    "msd_fft",
    "nernst_einstein",
    "read_ase",
    "read_lammps_dump",
    "read_pmg_diffusion",
    "read_trajectory",
    "read_xdatcar",
    "relax_lattice",
    "run_lammps_md",
    "run_md",
    "schottky_defects",
    "tracer_diffusivity",
    "transport",
    "van_hove_distinct",
    "van_hove_self",
    "vdos",
]
