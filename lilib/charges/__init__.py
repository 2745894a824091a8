"""Charge densities and their partitioning (Bader, Hirshfeld family).

>>> from lilib.charges import read_density
>>> rho = read_density("CHGCAR")  # or *.cube, *.xsf (also .gz/.bz2/.xz)
>>> rho.n_electrons, rho.voxel_volume  # e, Å³
"""

from lilib.charges.bader import BaderResult, bader, read_potcar_valences
from lilib.charges.density import Density
from lilib.charges.io import (
    read_chgcar,
    read_cube,
    read_density,
    read_xsf,
    write_chgcar,
    write_cube,
)

__all__ = [
    "BaderResult",
    "Density",
    "bader",
    "read_chgcar",
    "read_cube",
    "read_density",
    "read_potcar_valences",
    "read_xsf",
    "write_chgcar",
    "write_cube",
]
