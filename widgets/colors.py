"""Colour mapping shared by the explorers: per-atom values or elements → hex colours + HTML legend."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ase.data import atomic_numbers
from ase.data.colors import jmol_colors
from matplotlib import colormaps
from matplotlib.colors import Normalize, to_hex

from lilib.errors import ArgumentError

__all__ = ["ColorMap", "element_colors", "value_colors"]

_N_LEVELS = 32  # distinct colours drawn; one nglview representation per colour


@dataclass(frozen=True)
class ColorMap:
    """Per-atom colours and the legend that explains them.

    ``colors`` are hex strings, one per atom. Continuous maps carry ``values``, ``vmin``,
    ``vmax`` and ``cmap``; categorical (element) maps carry ``categories`` → hex.
    """

    colors: tuple[str, ...]
    label: str
    values: np.ndarray | None = None
    vmin: float | None = None
    vmax: float | None = None
    cmap: str | None = None
    categories: tuple[tuple[str, str], ...] = ()

    def legend_html(self) -> str:
        """A small self-contained HTML legend (colour bar or element swatches)."""
        title = f"<b>{html.escape(self.label)}</b>"
        if self.categories:
            swatches = "".join(
                f'<span style="display:inline-block;margin-right:10px">'
                f'<span style="display:inline-block;width:12px;height:12px;border-radius:6px;'
                f'background:{color};border:1px solid #555;vertical-align:middle"></span> '
                f"{html.escape(name)}</span>"
                for name, color in self.categories
            )
            return f'<div class="lilib-legend">{title}<br>{swatches}</div>'
        stops = ", ".join(to_hex(colormaps[self.cmap](x)) for x in np.linspace(0.0, 1.0, 11))
        return (
            f'<div class="lilib-legend">{title}<br>'
            f'<span style="margin-right:6px">{self.vmin:.3g}</span>'
            f'<span style="display:inline-block;width:220px;height:12px;vertical-align:middle;'
            f'background:linear-gradient(to right, {stops});border:1px solid #555"></span>'
            f'<span style="margin-left:6px">{self.vmax:.3g}</span></div>'
        )


def element_colors(symbols: Sequence[str]) -> ColorMap:
    """Jmol colours by element (the familiar CPK-like palette)."""
    colors = tuple(to_hex(jmol_colors[atomic_numbers[s]]) for s in symbols)
    seen = dict.fromkeys(symbols)
    categories = tuple((s, to_hex(jmol_colors[atomic_numbers[s]])) for s in seen)
    return ColorMap(colors=colors, label="element", categories=categories)


def value_colors(
    values: Sequence[float],
    label: str,
    cmap: str = "coolwarm",
    vmin: float | None = None,
    vmax: float | None = None,
) -> ColorMap:
    """Colours for a per-atom scalar; values are binned into 32 levels of ``cmap``."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ArgumentError("color_by", f"expected one value per atom, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ArgumentError("color_by", "values contain NaN or infinity")
    if cmap not in colormaps:
        raise ArgumentError("cmap", f"unknown matplotlib colormap {cmap!r}")
    lo = float(arr.min()) if vmin is None else float(vmin)
    hi = float(arr.max()) if vmax is None else float(vmax)
    if hi <= lo:  # constant field: a visible, centred colour
        lo, hi = lo - 0.5, hi + 0.5
    levels = np.clip(Normalize(lo, hi)(arr), 0.0, 1.0)
    levels = np.round(levels * (_N_LEVELS - 1)) / (_N_LEVELS - 1)
    colors = tuple(to_hex(colormaps[cmap](x)) for x in levels)
    return ColorMap(colors=colors, label=label, values=arr, vmin=lo, vmax=hi, cmap=cmap)
