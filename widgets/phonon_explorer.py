"""`PhononExplorer`: projected phonon DOS, band centres and the mobile-ion MSD of several materials."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import ipywidgets as ipw
import numpy as np
import pandas as pd

from lilib.errors import ArgumentError
from lilib.phonons import mobile_msd_A2
from lilib.phonons.descriptors import descriptor_field

__all__ = ["PhononExplorer"]

#: Table columns: (label, field of LatticeDynamics, format).
_DESCRIPTORS = (
    ("mobile band centre (THz)", "mobile_band_centre_THz", "{:.2f}"),
    ("anion band centre (THz)", "anion_band_centre_THz", "{:.2f}"),
    ("mobile ⟨ν²⟩^½ (THz)", "mobile_rms_frequency_THz", "{:.2f}"),
    ("mobile k (eV/Å²)", "mobile_force_constant_eV_A2", "{:.2f}"),
    ("Debye θ_D (K)", "debye_temperature_K", "{:.0f}"),
    ("min ν (THz)", "min_frequency_THz", "{:.2f}"),
    ("imaginary modes", "has_imaginary_modes", "{}"),
)
_REQUIRED = ("dos_frequencies_THz", "pdos_per_THz", "mobile_element", "band_centres_THz")


def _get(result: Any, name: str, default: Any = None) -> Any:
    return descriptor_field(result, name, default)


def _check(name: str, result: Any) -> None:
    missing = [f for f in _REQUIRED if _get(result, f) is None]
    if missing:
        raise ArgumentError(
            "results",
            f"{name!r} lacks {missing}: give LatticeDynamics results (lilib.phonons."
            "lattice_dynamics) or their descriptor curves",
        )
    pdos = _get(result, "pdos_per_THz")
    n = np.asarray(_get(result, "dos_frequencies_THz")).size
    for el, y in pdos.items():
        if np.asarray(y).shape != (n,):
            raise ArgumentError(
                "results",
                f"{name!r}: the {el} pDOS has {np.asarray(y).size} values for {n} frequencies",
            )
    if _get(result, "mobile_element") not in pdos:
        raise ArgumentError("results", f"{name!r}: no projected DOS of its mobile ion")


def _format(value: Any, spec: str) -> str:
    """A table cell: blank for missing values, no negative zero (−1e-7 THz prints 0.00)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        value = round(value, 6) + 0.0
    return spec.format(value)


def _colours(result: Any) -> dict[str, str]:
    """Matplotlib colours by role (mobile C0, anion C1, the rest C2...), the same in every plot."""
    mobile, anion = _get(result, "mobile_element"), _get(result, "anion_element")
    order = [mobile] + ([anion] if anion else [])
    order += [el for el in _get(result, "pdos_per_THz") if el not in order]
    return {el: f"C{i % 10}" for i, el in enumerate(order)}


class PhononExplorer(ipw.VBox):
    """Pick a material: its projected phonon DOS with band-centre markers, and its descriptors;
    move the temperature: the mobile-ion mean-square displacement of every material.

    results: material name → :class:`~lilib.phonons.LatticeDynamics` (from
        :func:`~lilib.phonons.lattice_dynamics` or ``load_lattice_dynamics``), the
        ``DescriptorCurves`` of ``load_descriptor_curves``, or a mapping with the fields of
        either. Each needs the DOS curves, ``pdos_per_THz``, the mobile element and
        ``band_centres_THz``; descriptors it lacks show as blanks in the table.
    temperature_K: initial temperature of the slider (K), between ``t_min_K`` and ``t_max_K``.
    selected: the material shown first (default: the first).
    xlim_THz: frequency range of the DOS plot (default: the curve's own range).

    The MSD comes from :func:`lilib.phonons.mobile_msd_A2` (harmonic, on the stored pDOS;
    anchored to the exact mode sum at the result's own temperature where that is known). With
    imaginary modes it is ill-defined: the label and table then say so.
    """

    def __init__(
        self,
        results: Mapping[str, Any],
        temperature_K: float = 300.0,
        *,
        selected: str | None = None,
        t_min_K: float = 0.0,
        t_max_K: float = 1000.0,
        t_step_K: float = 10.0,
        xlim_THz: tuple[float, float] | None = None,
    ):
        if not isinstance(results, Mapping) or not results:
            raise ArgumentError("results", "give a dict of at least one name → LatticeDynamics")
        for name, result in results.items():
            _check(str(name), result)
        if not t_min_K >= 0 or not t_max_K > t_min_K:
            raise ArgumentError("t_max_K", f"need 0 ≤ t_min_K < t_max_K, got {t_min_K}, {t_max_K}")
        if not t_min_K <= temperature_K <= t_max_K:
            raise ArgumentError(
                "temperature_K", f"{temperature_K} K is outside the slider ({t_min_K}–{t_max_K} K)"
            )
        self.results = {str(k): v for k, v in results.items()}
        if selected is None:
            selected = next(iter(self.results))
        if selected not in self.results:
            raise ArgumentError("selected", f"{selected!r} is not one of {list(self.results)}")
        self._xlim = xlim_THz
        self._curve_T = np.linspace(t_min_K, t_max_K, 51)
        self._msd_curves: dict[str, np.ndarray] = {}
        self.markers: dict[str, float] = {}  # element → band centre (THz) drawn on the DOS
        self.dos_labels: list[str] = []  # legend of the DOS plot drawn last
        self.msd_A2: dict[str, float] = {}  # material → ⟨u²⟩ (Å²) at the slider's T

        self.material = ipw.Dropdown(options=list(self.results), value=selected,
                                     description="material")  # fmt: skip
        self.temperature = ipw.FloatSlider(
            value=float(temperature_K), min=float(t_min_K), max=float(t_max_K),
            step=float(t_step_K), description="T (K)", continuous_update=False,
            readout_format=".0f",
        )  # fmt: skip
        self.msd_label = ipw.HTML()
        self.table = ipw.HTML()
        self.dos_plot = ipw.Output(layout=ipw.Layout(min_height="330px", width="56%"))
        self.msd_plot = ipw.Output(layout=ipw.Layout(min_height="330px", width="44%"))

        self.material.observe(lambda _: self._redraw(dos=True), "value")
        self.temperature.observe(lambda _: self._redraw(dos=False), "value")

        controls = ipw.HBox([self.material, self.temperature, self.msd_label])
        plots = ipw.HBox([self.dos_plot, self.msd_plot], layout=ipw.Layout(width="100%"))
        super().__init__([controls, plots, self.table])
        self._redraw(dos=True)

    # ------------------------------------------------------------------ state

    @property
    def current(self) -> Any:
        """The result of the selected material."""
        return self.results[self.material.value]

    @property
    def current_msd_A2(self) -> float:
        """⟨u²⟩ (Å²) of the selected material's mobile ion at the slider's temperature."""
        return self.msd_A2[self.material.value]

    def msd_curve(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(temperatures K, ⟨u²⟩ Å²) drawn for one material (computed once, by lilib)."""
        if name not in self._msd_curves:
            self._msd_curves[name] = mobile_msd_A2(self.results[name], self._curve_T)
        return self._curve_T, self._msd_curves[name]

    def dataframe(self) -> pd.DataFrame:
        """The table shown: one row per material, descriptors and ⟨u²⟩ at the slider's T."""
        rows = {}
        t = self.temperature.value
        for name, result in self.results.items():
            row = {"mobile": _get(result, "mobile_element")}
            for label, fieldname, _ in _DESCRIPTORS:
                value = _get(result, fieldname)
                row[label] = np.nan if value is None else value
            row[f"mobile ⟨u²⟩ at {t:.0f} K (Å²)"] = self.msd_A2[name]
            rows[name] = row
        return pd.DataFrame.from_dict(rows, orient="index")

    # ------------------------------------------------------------------ drawing

    def _redraw(self, dos: bool) -> None:
        t = float(self.temperature.value)
        self.msd_A2 = {name: float(mobile_msd_A2(r, t)) for name, r in self.results.items()}
        result = self.current
        caveat = (
            " (imaginary modes: rough lower bound)" if _get(result, "has_imaginary_modes") else ""
        )
        self.msd_label.value = (
            f"<span class='lilib-phonon-msd'>⟨u²⟩({html.escape(_get(result, 'mobile_element'))},"
            f" {t:.0f} K) = <b>{self.current_msd_A2:.4f} Å²</b>{caveat}</span>"
        )
        self.table.value = self._table_html()
        if dos:
            self._draw_dos()
        self._draw_msd()

    def _table_html(self) -> str:
        df = self.dataframe()
        fmt = {label: (lambda v, f=f: _format(v, f)) for label, _, f in _DESCRIPTORS}
        fmt[df.columns[-1]] = "{:.4f}".format
        out = df.to_html(border=0, classes="lilib-phonon-table", formatters=fmt, escape=True)
        marker = f"<tr>\n      <th>{html.escape(self.material.value)}</th>"
        return out.replace(
            marker,
            f'<tr style="background:#fff3b0">\n      <th>{html.escape(self.material.value)}</th>',
            1,
        )

    def _draw_dos(self) -> None:
        import matplotlib.pyplot as plt
        from IPython.display import display

        result, name = self.current, self.material.value
        f = np.asarray(_get(result, "dos_frequencies_THz"), dtype=float)
        pdos = _get(result, "pdos_per_THz")
        centres = _get(result, "band_centres_THz")
        mobile, anion = _get(result, "mobile_element"), _get(result, "anion_element")
        colours = _colours(result)
        self.markers = {}
        with plt.ioff():
            fig, ax = plt.subplots(figsize=(5.6, 3.4))
            for el, y in pdos.items():
                ax.plot(f, np.asarray(y), color=colours[el], lw=1.2, label=f"{el} pDOS")
            for el in (mobile, anion):
                if el is None or el not in centres:
                    continue
                c = float(centres[el])
                style = "--" if el == mobile else ":"
                ax.axvline(c, color=colours[el], ls=style, lw=1.3, label=f"{el} centre {c:.2f} THz")
                self.markers[el] = c
            if _get(result, "has_imaginary_modes"):
                ax.axvspan(f[0], 0.0, color="0.88", zorder=0, label="imaginary (< 0)")
            ax.set_xlim(*(self._xlim or (f[0], f[-1])))
            ax.set_ylim(bottom=0)
            ax.set_xlabel("frequency (THz)")
            ax.set_ylabel("projected DOS (states/THz)")
            formula = _get(result, "formula", "")
            ax.set_title(f"{name}" + (f" ({formula})" if formula and formula != name else ""))
            ax.legend(fontsize=7)
            fig.tight_layout()
        self.dos_labels = ax.get_legend_handles_labels()[1]
        self.dos_plot.clear_output(wait=True)
        with self.dos_plot:
            display(fig)
        plt.close(fig)

    def _draw_msd(self) -> None:
        import matplotlib.pyplot as plt
        from IPython.display import display

        t = float(self.temperature.value)
        with plt.ioff():
            fig, ax = plt.subplots(figsize=(4.2, 3.4))
            for name in self.results:
                temps, msd = self.msd_curve(name)
                bold = name == self.material.value
                ax.plot(temps, msd, lw=2.2 if bold else 1.0, alpha=1.0 if bold else 0.6,
                        label=name)  # fmt: skip
                ax.plot([t], [self.msd_A2[name]], "o", color=ax.lines[-1].get_color(), ms=4)
            ax.axvline(t, color="0.5", lw=0.8)
            ax.set_xlabel("T (K)")
            ax.set_ylabel("mobile-ion ⟨u²⟩ (Å²)")
            ax.set_ylim(bottom=0)
            ax.legend(fontsize=7)
            fig.tight_layout()
        self.msd_plot.clear_output(wait=True)
        with self.msd_plot:
            display(fig)
        plt.close(fig)
