"""Charge densities and their partitioning (Bader, Hirshfeld family).

>>> from lilib.charges import read_density
>>> rho = read_density("CHGCAR")  # or *.cube, *.xsf (also .gz/.bz2/.xz)
>>> rho.n_electrons, rho.voxel_volume  # e, Å³
"""

from lilib.charges.bader import BaderResult, bader, read_potcar_valences
from lilib.charges.density import Density
from lilib.charges.examples import example_density_info, example_density_names, load_example_density
from lilib.charges.hirshfeld import HirshfeldResult, hirshfeld, hirshfeld_i, vdd
from lilib.charges.io import (
    read_chgcar,
    read_cube,
    read_density,
    read_xsf,
    write_chgcar,
    write_cube,
)
from lilib.charges.proatoms import ProAtoms, load_proatoms, promolecule_density

__all__ = [
    "BaderResult",
    "Density",
    "HirshfeldResult",
    "ProAtoms",
    "bader",
    "example_density_info",
    "example_density_names",
    "hirshfeld",
    "hirshfeld_i",
    "load_example_density",
    "load_proatoms",
    "promolecule_density",
    "read_chgcar",
    "read_cube",
    "read_density",
    "read_potcar_valences",
    "read_xsf",
    "vdd",
    "write_chgcar",
    "write_cube",
]
