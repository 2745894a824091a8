"""`show_structure`: the one entry point for 3D views of structures and trajectories."""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Sequence

import ipywidgets as ipw
import numpy as np
from ase import Atoms

from lilib.errors import ArgumentError
from widgets.colors import ColorMap, element_colors, value_colors

with warnings.catch_warnings():  # nglview 3.1.4 imports the deprecated pkg_resources
    warnings.simplefilter("ignore")
    import nglview

__all__ = ["StructureView", "show_structure"]

_REPRESENTATIONS = ("ball+stick", "spacefill", "licorice")


class StructureView(ipw.VBox):
    """A 3D view (``view``, an nglview widget) above its colour legend (``legend``).

    The Python-side state (``colormap``, ``n_atoms``, ``n_frames``) is what was sent to the view.
    """

    def __init__(self, view: nglview.NGLWidget, colormap: ColorMap, n_atoms: int, n_frames: int):
        self.view = view
        self.colormap = colormap
        self.n_atoms = n_atoms
        self.n_frames = n_frames
        self.legend = ipw.HTML(colormap.legend_html())
        super().__init__([view, self.legend])

    @property
    def colors(self) -> tuple[str, ...]:
        """Hex colour of each atom, as drawn."""
        return self.colormap.colors


def _as_frames(structure: Atoms | Sequence[Atoms]) -> list[Atoms]:
    if isinstance(structure, Atoms):
        return [structure]
    if hasattr(structure, "to_ase_atoms"):  # pymatgen Structure
        return [structure.to_ase_atoms()]
    frames = list(structure)
    if not frames or not all(isinstance(f, Atoms) for f in frames):
        raise ArgumentError(
            "structure", "expected ase.Atoms, a pymatgen Structure or a list of Atoms"
        )
    symbols = frames[0].get_chemical_symbols()
    for i, frame in enumerate(frames):
        if frame.get_chemical_symbols() != symbols:
            raise ArgumentError("structure", f"frame {i} has other atoms than frame 0")
    return frames


def _colormap(atoms: Atoms, color_by, cmap, vmin, vmax, label) -> ColorMap:
    symbols = atoms.get_chemical_symbols()
    if color_by is None:
        return element_colors(symbols)
    if isinstance(color_by, str):
        if color_by not in atoms.arrays:
            known = sorted(k for k in atoms.arrays if k not in ("numbers", "positions"))
            raise ArgumentError("color_by", f"no per-atom array {color_by!r} on the structure "
                                f"(arrays: {known or 'none'})")  # fmt: skip
        values, label = atoms.arrays[color_by], label or color_by
    else:
        values = np.asarray(color_by, dtype=float)
    if len(values) != len(atoms):
        raise ArgumentError("color_by", f"{len(values)} values for {len(atoms)} atoms")
    return value_colors(values, label or "value", cmap=cmap, vmin=vmin, vmax=vmax)


def show_structure(
    structure: Atoms | Sequence[Atoms],
    color_by: str | Sequence[float] | None = None,
    *,
    label: str | None = None,
    cmap: str = "coolwarm",
    vmin: float | None = None,
    vmax: float | None = None,
    representation: str = "ball+stick",
    radius: float = 0.35,
    unit_cell: bool = True,
    width: str = "100%",
    height: str = "400px",
) -> StructureView:
    """Show a structure (or a list of Atoms as a playable trajectory) in 3D.

    color_by: None for element colours, a per-atom array (e.g. Bader charges in e), or the
    name of an array stored on the Atoms (``atoms.arrays``). Values map linearly onto
    ``cmap`` between ``vmin`` and ``vmax`` (default: the data range) and a legend is drawn.
    radius: atom radius in Å for ball+stick/licorice (spacefill scales van der Waals radii).
    """
    if representation not in _REPRESENTATIONS:
        raise ArgumentError("representation", f"expected one of {_REPRESENTATIONS}")
    frames = _as_frames(structure)
    colormap = _colormap(frames[0], color_by, cmap, vmin, vmax, label)
    if len(frames) > 1:
        view = nglview.NGLWidget(nglview.ASETrajectory(frames))
    else:
        view = nglview.NGLWidget(nglview.ASEStructure(frames[0]))
    view.clear_representations()
    by_color: dict[str, list[int]] = defaultdict(list)
    for index, color in enumerate(colormap.colors):
        by_color[color].append(index)
    params = {"radius": radius} if representation != "spacefill" else {"radiusScale": 0.5}
    for color, indices in by_color.items():
        selection = "@" + ",".join(map(str, indices))
        view.add_representation(representation, selection=selection, color=color, **params)
    if unit_cell and frames[0].cell.rank == 3:
        view.add_unitcell()
    view.camera = "orthographic"
    view.layout = ipw.Layout(width=width, height=height)
    return StructureView(view, colormap, n_atoms=len(frames[0]), n_frames=len(frames))
