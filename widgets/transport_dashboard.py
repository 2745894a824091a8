"""`TransportDashboard`: MSD with its fit window, D*, D_σ, Haven ratio, σ, and an Arrhenius plot."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import ipywidgets as ipw
import numpy as np
import pandas as pd

from lilib.errors import ArgumentError, LilibError
from lilib.md.trajectory import Trajectory
from lilib.md.transport import (
    ArrheniusFit,
    MSDResult,
    TransportResult,
    arrhenius_fit,
    charge_diffusivity,
    haven_ratio,
    nernst_einstein,
    tracer_diffusivity,
    transport,
)
from widgets.gb_explorer import _show

__all__ = ["TransportDashboard"]

_ERROR_STYLE = "background:#fde2e2;border:1px solid #d33;padding:4px 8px;border-radius:4px"


def _fmt(value: float | None, err: float | None = None, spec: str = ".3g") -> str:
    """'v ± e' with blanks for missing values."""
    if value is None or not np.isfinite(value):
        return "—"
    out = f"{value:{spec}}"
    if err is not None and np.isfinite(err):
        out += f" ± {err:.2g}"
    return out


class TransportDashboard(ipw.VBox):
    """The MSD of a run (log–log or linear) with the fit window shaded, a slider that moves the
    window, and D* ± stderr, D_σ, Haven ratio and σ refitted on the stored MSD; with several runs
    at different temperatures, an Arrhenius plot of D* (or D_σ) with E_a and D(300 K).

    data: a :class:`~lilib.md.Trajectory` (unwrapped; :func:`lilib.md.transport` is called once),
        a :class:`~lilib.md.TransportResult`, or a list / mapping (label → either) of runs.
    species: the mobile ions (for trajectories). charge: their z (e). temperature_K: overrides
        the trajectories' (one value, or one per run).
    fit_window: (start, stop) fractions of the longest lag; default: the results' own window
        (10–50 % for trajectories).
    n_bootstrap, seed: of the D* bootstrap when the window moves (as in lilib.md.transport).

    Moving the window calls :func:`~lilib.md.transport.tracer_diffusivity`,
    :func:`~lilib.md.transport.charge_diffusivity`, :func:`~lilib.md.transport.haven_ratio` and
    :func:`~lilib.md.transport.nernst_einstein` on every run's stored MSD (the MSD itself is
    never recomputed); a window lilib refuses leaves the last fit and shows why.
    """

    def __init__(
        self,
        data: Any,
        species: str | Sequence[str] = "Li",
        *,
        charge: float = 1.0,
        temperature_K: float | Sequence[float] | None = None,
        fit_window: tuple[float, float] | None = None,
        n_bootstrap: int = 1000,
        seed: int = 0,
        selected: str | None = None,
    ):
        runs = self._as_runs(data)
        temps = self._temperatures(temperature_K, len(runs))
        self._charge = float(charge)
        self._n_bootstrap, self._seed = int(n_bootstrap), int(seed)
        computed: list[TransportResult] = []
        for (_, item), t in zip(runs, temps):
            if isinstance(item, Trajectory):
                item = transport(item, species, charge=charge, temperature_K=t,
                                 fit_window=fit_window or (0.1, 0.5),
                                 n_bootstrap=n_bootstrap, seed=seed)  # fmt: skip
            elif t is not None:
                item = replace(item, msd=replace(item.msd, temperature_K=float(t)))
            computed.append(item)
        labels = [label for label, _ in runs]
        if None in labels:
            labels = self._labels(computed)
        #: label → TransportResult as given or computed once (its MSD is never recomputed)
        self.base: dict[str, TransportResult] = dict(zip(labels, computed))
        #: label → TransportResult refitted at the slider's window
        self.results: dict[str, TransportResult] = dict(self.base)
        self.labels: list[str] = list(self.base)
        self.arrhenius: ArrheniusFit | None = None
        if selected is None:
            selected = self.labels[0]
        if selected not in self.results:
            raise ArgumentError("selected", f"{selected!r} is not one of {self.labels}")

        first = self.results[selected]
        start = fit_window or tuple(
            round(x / first.msd.duration_ps, 2) for x in first.tracer.fit_window_ps
        )
        style = {"description_width": "initial"}
        self.run = ipw.Dropdown(options=self.labels, value=selected, description="run", style=style)
        self.scale = ipw.ToggleButtons(options=[("linear", "linear"), ("log–log", "log")],
                                       value="linear", description="axes",
                                       style={"button_width": "70px"})  # fmt: skip
        self.components = ipw.Checkbox(value=False, description="x, y, z parts", indent=False)
        self.window = ipw.FloatRangeSlider(
            value=start, min=0.0, max=1.0, step=0.01, description="fit window (fraction of run)",
            continuous_update=False, readout_format=".2f", style=style,
            layout=ipw.Layout(width="520px"),
        )  # fmt: skip
        self.window_label = ipw.HTML()
        self.error = ipw.HTML(layout=ipw.Layout(display="none"))
        self.msd_plot = ipw.Output(layout=ipw.Layout(min_height="340px", width="58%"))
        self.table = ipw.HTML()
        self.arrhenius_d = ipw.ToggleButtons(options=[("D*", "tracer"), ("D_σ", "charge")],
                                             value="tracer", description="Arrhenius of",
                                             style={"button_width": "60px"})  # fmt: skip
        self.arrhenius_label = ipw.HTML()
        self.arrhenius_plot = ipw.Output(layout=ipw.Layout(min_height="320px", width="58%"))

        self.run.observe(lambda _: self._redraw(), "value")
        self.scale.observe(lambda _: self._draw_msd(), "value")
        self.components.observe(lambda _: self._draw_msd(), "value")
        self.window.observe(lambda _: self._refit(), "value")
        self.arrhenius_d.observe(lambda _: self._draw_arrhenius(), "value")

        if len(self.labels) == 1:
            self.run.layout.display = "none"
        head = "<h4 style='margin:6px 0 2px'>{}</h4>".format
        children = [
            ipw.HTML(head("MSD and transport coefficients (lilib.md.transport)")),
            ipw.HBox([self.run, self.scale, self.components]),
            ipw.HBox([self.window, self.window_label]),
            self.error,
            ipw.HBox([self.msd_plot, self.table], layout=ipw.Layout(width="100%")),
        ]
        if self._has_arrhenius():
            children += [
                ipw.HTML(head("Arrhenius (lilib.md.arrhenius_fit)")),
                self.arrhenius_d,
                ipw.HBox([self.arrhenius_plot, self.arrhenius_label], layout=ipw.Layout(width="100%")),
            ]  # fmt: skip
        super().__init__(children)
        given = any(isinstance(d, TransportResult) for _, d in runs)
        if given and (fit_window is not None or temperature_K is not None):
            self._refit()  # precomputed results, refitted to the requested window or T
        else:
            self._redraw()

    # ------------------------------------------------------------------ inputs

    @staticmethod
    def _as_runs(data: Any) -> list[tuple[str | None, Any]]:
        if isinstance(data, (Trajectory, TransportResult)):
            items: list[tuple[str | None, Any]] = [(None, data)]
        elif isinstance(data, Mapping):
            items = [(str(k), v) for k, v in data.items()]
        elif isinstance(data, Sequence) and not isinstance(data, str):
            items = [(None, v) for v in data]
        else:
            raise ArgumentError(
                "data", f"expected a Trajectory, a TransportResult or a list of them, got "
                f"{type(data).__name__}",
            )  # fmt: skip
        if not items:
            raise ArgumentError("data", "give at least one run")
        for k, (label, item) in enumerate(items):
            if not isinstance(item, (Trajectory, TransportResult)):
                raise ArgumentError(
                    "data", f"run {label or k} is a {type(item).__name__}, not a Trajectory or "
                    "TransportResult",
                )  # fmt: skip
        return items

    @staticmethod
    def _temperatures(temperature_K: Any, n: int) -> list[float | None]:
        if temperature_K is None:
            return [None] * n
        temps = np.atleast_1d(np.asarray(temperature_K, dtype=float))
        if temps.size == 1:
            temps = np.repeat(temps, n)
        if temps.size != n:
            raise ArgumentError("temperature_K", f"{temps.size} temperatures for {n} runs")
        return [float(t) for t in temps]

    @staticmethod
    def _labels(results: Sequence[TransportResult]) -> list[str]:
        temps = [r.msd.temperature_K for r in results]
        if None not in temps and len(set(temps)) == len(temps):
            return [f"{t:g} K" for t in temps]
        return [f"run {k}" for k in range(len(temps))]

    def _has_arrhenius(self) -> bool:
        temps = [r.msd.temperature_K for r in self.base.values()]
        return len(temps) >= 2 and None not in temps and len(set(temps)) >= 2

    # ------------------------------------------------------------------ state

    @property
    def current(self) -> TransportResult:
        """The selected run's result at the slider's fit window."""
        return self.results[self.run.value]

    @property
    def msd(self) -> MSDResult:
        """The selected run's stored MSD (computed once)."""
        return self.current.msd

    @property
    def fit_window(self) -> tuple[float, float]:
        """The slider's (start, stop), fractions of the longest lag."""
        return tuple(float(x) for x in self.window.value)

    def dataframe(self) -> pd.DataFrame:
        """One row per run: lilib's TransportResult.to_dataframe() at the current window."""
        frames = [r.to_dataframe().assign(run=label) for label, r in self.results.items()]
        return pd.concat(frames, ignore_index=True).set_index("run")

    # ------------------------------------------------------------------ fitting

    def _refit_one(self, result: TransportResult, window: tuple[float, float]) -> TransportResult:
        msd = result.msd
        tracer = tracer_diffusivity(msd, fit_window=window, axes=result.tracer.axes,
                                    n_bootstrap=self._n_bootstrap, seed=self._seed)  # fmt: skip
        chg = charge_diffusivity(msd, fit_window=window, axes=result.charge.axes)
        h, h_err = haven_ratio(tracer, chg) if chg.value_cm2_s > 0 else (np.nan, np.nan)
        z = result.conductivity.charge if result.conductivity is not None else self._charge
        sig_t = sig = None
        if msd.temperature_K is not None:
            sig_t = nernst_einstein(tracer, charge=z)
            sig = nernst_einstein(chg, charge=z)
        return replace(result, tracer=tracer, charge=chg, haven_ratio=h, haven_ratio_stderr=h_err,
                       tracer_conductivity=sig_t, conductivity=sig)  # fmt: skip

    def _refit(self) -> None:
        window = self.fit_window
        try:
            refitted = {k: self._refit_one(r, window) for k, r in self.base.items()}
        except LilibError as exc:
            self._set_error(f"fit window {window[0]:.2f}–{window[1]:.2f}: {exc}")
            return
        self.results = refitted
        self._redraw()

    def _set_error(self, message: str) -> None:
        self.error.value = (
            f'<div class="lilib-error" style="{_ERROR_STYLE}">{html.escape(message)}</div>'
            if message
            else ""
        )
        self.error.layout.display = "" if message else "none"

    # ------------------------------------------------------------------ drawing

    def _redraw(self) -> None:
        self._set_error("")
        r = self.current
        lo, hi = r.tracer.fit_window_ps
        self.window_label.value = (
            f"<span class='lilib-window'>&nbsp;→ {lo:.3g}–{hi:.3g} ps ({r.tracer.n_fit_points} lags of "
            f"{r.msd.duration_ps:.3g} ps)</span>"
        )
        self.table.value = self._table_html(r)
        self._draw_msd()
        self._draw_arrhenius()

    def _table_html(self, r: TransportResult) -> str:
        t = r.msd.temperature_K
        sig_t, sig = r.tracer_conductivity, r.conductivity
        rows = [
            ("species", f"{r.msd.species} ({r.msd.n_ions} ions)"),
            ("T (K)", "—" if t is None else f"{t:g}"),
            ("D* (cm²/s)", _fmt(r.tracer.value_cm2_s, r.tracer.stderr_cm2_s)),
            ("D_σ (cm²/s)", _fmt(r.charge.value_cm2_s, r.charge.stderr_cm2_s)),
            ("Haven ratio D*/D_σ", _fmt(r.haven_ratio, r.haven_ratio_stderr, ".2f")),
            (
                "σ* (mS/cm, from D*)",
                _fmt(sig_t and sig_t.value_mS_cm, sig_t and sig_t.stderr_mS_cm),
            ),
            ("σ (mS/cm, from D_σ)", _fmt(sig and sig.value_mS_cm, sig and sig.stderr_mS_cm)),
            ("fit window (ps)", f"{r.tracer.fit_window_ps[0]:.3g}–{r.tracer.fit_window_ps[1]:.3g}"),
        ]
        body = "".join(
            f"<tr><th style='text-align:left;padding-right:8px'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        note = (
            f"<small>D*: {html.escape(r.tracer.uncertainty)}; D_σ: "
            f"{html.escape(r.charge.uncertainty)}"
            + ("" if t is not None else "; no temperature: no σ")
            + "</small>"
        )
        return f'<table class="lilib-transport-table">{body}</table>{note}'

    def _draw_msd(self) -> None:
        import matplotlib.pyplot as plt

        r = self.current
        msd = r.msd
        log = self.scale.value == "log"
        with plt.ioff():
            fig, ax = plt.subplots(figsize=(5.6, 3.6))
            r.plot(ax=ax)  # lilib: tracer and collective MSD with the two fitted lines
            if self.components.value:
                for k, a in enumerate("xyz"):
                    ax.plot(msd.times_ps, msd.components_A2[:, k], lw=0.8, label=a)
            ax.axvspan(*r.tracer.fit_window_ps, color="C2", alpha=0.15, lw=0, label="fit window")
            if log:
                ax.set_xscale("log")
                ax.set_yscale("log")
                positive = msd.msd_A2[1:][msd.msd_A2[1:] > 0]
                ax.set_xlim(msd.times_ps[1], msd.times_ps[-1])
                if positive.size:
                    ax.set_ylim(bottom=positive.min() / 2)
            else:
                ax.set_xlim(0, msd.times_ps[-1])
                ax.set_ylim(bottom=0)
            ax.legend(fontsize=7)
            fig.subplots_adjust(left=0.13, right=0.97, bottom=0.14, top=0.95)
        _show(self.msd_plot, fig)

    def _draw_arrhenius(self) -> None:
        import matplotlib.pyplot as plt

        if not self._has_arrhenius():
            self.arrhenius = None
            return
        kind = self.arrhenius_d.value
        temps = [r.msd.temperature_K for r in self.results.values()]
        ds = [getattr(r, kind) for r in self.results.values()]
        try:
            fit = arrhenius_fit(temps, ds)
        except LilibError as exc:
            self.arrhenius = None
            self.arrhenius_label.value = (
                f'<div class="lilib-error" style="{_ERROR_STYLE}">{html.escape(str(exc))}</div>'
            )
            self.arrhenius_plot.outputs = ()
            return
        self.arrhenius = fit
        sym = "D*" if kind == "tracer" else "D_σ"
        lo, hi = fit.interval(300.0)
        self.arrhenius_label.value = (
            f"<span class='lilib-arrhenius'>E_a = <b>{fit.ea_eV:.3f} ± {fit.ea_stderr_eV:.3f} "
            f"eV</b><br>{sym}(300 K) = <b>{fit.diffusivity_300K_cm2_s:.3g}</b> cm²/s "
            f"(1σ range {lo:.2g}–{hi:.2g}, extrapolated)<br>D0 = {fit.prefactor_cm2_s:.3g} cm²/s; "
            f"{len(temps)} temperatures, {'weighted' if fit.weighted else 'unweighted'}, "
            f"χ²_red = {fit.chi2_reduced:.2g}</span>"
        )
        with plt.ioff():
            fig, ax = plt.subplots(figsize=(5.0, 3.4))
            fit.plot(ax=ax, extrapolate_to_K=300.0)
            ax.set_ylabel(f"{sym} (cm²/s)")
            fig.subplots_adjust(left=0.16, right=0.97, bottom=0.15, top=0.95)
        _show(self.arrhenius_plot, fig)
