"""`ChargeExplorer`: atomic charges of one density under several partitioning schemes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as ipw
import numpy as np
import pandas as pd

from lilib.charges.density import Density
from lilib.charges.slices import PlaneSlice, plane_slice
from lilib.errors import ArgumentError
from widgets.structure_view import StructureView, show_structure

__all__ = ["ChargeExplorer"]


def _per_atom(result: Any, n_atoms: int, name: str) -> tuple[np.ndarray, str]:
    """Net charges (e) of a partition result, or its electron counts when it has no charges."""
    charges = getattr(result, "charges", None)
    if charges is not None:
        values, label = np.asarray(charges, dtype=float), f"{name} charge (e)"
    elif getattr(result, "electrons", None) is not None:
        values, label = np.asarray(result.electrons, dtype=float), f"{name} electrons (e)"
    else:
        raise ArgumentError("results", f"{name!r} has neither .charges nor .electrons per atom")
    if values.shape != (n_atoms,):
        raise ArgumentError("results", f"{name!r} has {values.size} values for {n_atoms} atoms")
    return values, label


class ChargeExplorer(ipw.VBox):
    """Structure coloured by charge (scheme toggle), table of charges and volumes, and a 2-D cut.

    density: the analysed density (its atoms are shown; the cut shows its values, log scale).
    results: scheme name → result with per-atom ``charges`` (or ``electrons``) in e, optionally
        ``volumes`` (Å³); a result with ``atom_labels()`` (Bader) supplies the basin map drawn on
        the cut, where the selected atom's basin is shaded.
    hkl: the lattice plane of the cut; by default it passes through the selected atom.
    view_width, view_height: size of the 3D view (CSS lengths).
    """

    def __init__(
        self,
        density: Density,
        results: Mapping[str, Any],
        *,
        hkl: tuple[int, int, int] = (0, 0, 1),
        selected: int = 0,
        spacing: float = 0.05,
        view_width: str = "100%",
        view_height: str = "360px",
    ):
        if not results:
            raise ArgumentError("results", "give at least one partition result")
        atoms = density.atoms
        self.density = density
        self.results = dict(results)
        self.symbols = atoms.get_chemical_symbols()
        if not 0 <= selected < len(atoms):
            raise ArgumentError("selected", f"atom {selected} out of range 0..{len(atoms) - 1}")
        self.charges = {k: _per_atom(r, len(atoms), k) for k, r in self.results.items()}
        mapped = [r for r in self.results.values() if hasattr(r, "atom_labels")]
        self.basin_map = mapped[0].atom_labels() if mapped else None
        self._spacing = spacing
        self._view_width = view_width
        self._view_height = view_height

        self.scheme = ipw.ToggleButtons(options=list(self.results), description="scheme")
        self.atom = ipw.Dropdown(
            options=[(f"{i} {s}", i) for i, s in enumerate(self.symbols)],
            value=selected,
            description="atom",
        )
        self.h, self.k, self.l = (
            ipw.BoundedIntText(
                value=int(x), min=-6, max=6, description=name, layout=ipw.Layout(width="110px")
            )
            for x, name in zip(hkl, "hkl")
        )
        self.through_atom = ipw.Checkbox(value=True, description="plane through atom")
        self.position = ipw.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.02,
                                        description="d fraction", disabled=True)  # fmt: skip
        self.table = ipw.HTML()
        self.cut = ipw.Output(layout=ipw.Layout(min_height="380px"))
        self.view_box = ipw.VBox(layout=ipw.Layout(width="100%"))
        self.structure_view: StructureView | None = None
        self.plane: PlaneSlice | None = None

        self.scheme.observe(lambda _: self._redraw(view=True), "value")
        self.atom.observe(lambda _: self._redraw(view=True, cut=True), "value")
        for w in (self.h, self.k, self.l, self.position):
            w.observe(lambda _: self._redraw(cut=True), "value")
        self.through_atom.observe(self._toggle_through, "value")

        controls = ipw.HBox([self.scheme, self.atom])
        plane = ipw.HBox([self.h, self.k, self.l, self.through_atom, self.position])
        # the 3D view spans the width on its own row: inside a flex row its canvas can be laid
        # out at zero width before the row is sized (seen in JupyterLab 4 with nglview 3.1.4)
        body = ipw.HBox([self.table, ipw.VBox([plane, self.cut])])
        super().__init__([controls, self.view_box, body])
        self._redraw(view=True, cut=True)

    @property
    def current_charges(self) -> np.ndarray:
        """Per-atom values (e) of the scheme shown."""
        return self.charges[self.scheme.value][0]

    def dataframe(self) -> pd.DataFrame:
        """The table shown: one row per atom, a charge column (and volume, when known) per scheme."""
        data: dict[str, Any] = {"element": self.symbols}
        for name, result in self.results.items():
            values, label = self.charges[name]
            data[label] = values
            volumes = getattr(result, "volumes", None)
            if volumes is not None:
                data[f"{name} volume (Å³)"] = np.asarray(volumes, dtype=float)
        return pd.DataFrame(data)

    def _toggle_through(self, change) -> None:
        self.position.disabled = bool(change["new"])
        self._redraw(cut=True)

    def _redraw(self, view: bool = False, cut: bool = False) -> None:
        selected = self.atom.value
        if view:
            values, label = self.charges[self.scheme.value]
            bound = float(np.max(np.abs(values))) or 1.0
            symmetric = "charge" in label
            self.structure_view = show_structure(
                self.density.atoms, color_by=values, label=label, cmap="coolwarm",
                vmin=-bound if symmetric else None, vmax=bound if symmetric else None,
                width=self._view_width,
                height=self._view_height,
            )  # fmt: skip
            self.structure_view.view.add_representation(
                "spacefill", selection=f"@{selected}", color="#ffd700", opacity=0.45,
                radiusScale=0.6,
            )  # fmt: skip
            self.view_box.children = [self.structure_view]
        self.table.value = self._table_html(selected)
        if cut:
            self._draw_cut(selected)

    def _table_html(self, selected: int) -> str:
        df = self.dataframe().round(4)
        rows = df.to_html(index=True, border=0, classes="lilib-charge-table")
        marker = f"<tr>\n      <th>{selected}</th>"
        return rows.replace(
            marker, f'<tr style="background:#fff3b0">\n      <th>{selected}</th>', 1
        )

    def _draw_cut(self, selected: int) -> None:
        import matplotlib.pyplot as plt
        from IPython.display import display

        hkl = (self.h.value, self.k.value, self.l.value)
        self.cut.clear_output(wait=True)
        if hkl == (0, 0, 0):
            with self.cut:
                print("(0 0 0) is not a plane")
            return
        self.plane = plane_slice(
            self.density, hkl, labels=self.basin_map, spacing=self._spacing,
            through=selected if self.through_atom.value else None,
            position=self.position.value,
        )  # fmt: skip
        with plt.ioff():
            fig, ax = plt.subplots(figsize=(4.6, 4.2))
            self.plane.plot(ax=ax, highlight=selected if self.basin_map is not None else None)
            fig.tight_layout()
        with self.cut:
            display(fig)
        plt.close(fig)
