"""`GBExplorer`: build a grain boundary and see it in 3D, its D(z), and polycrystal transport."""

from __future__ import annotations

import html
import itertools
import math
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as ipw
import numpy as np
import pandas as pd

from lilib import structures
from lilib.errors import ArgumentError, LilibError
from lilib.gb import (
    RULE,
    BrickLayer,
    GBModel,
    HarrisonRegimes,
    SigmaTable,
    brick_layer,
    build_gb,
    enumerate_sigma,
    harrison_regimes,
)
from widgets.structure_view import StructureView, show_structure

__all__ = ["GBExplorer", "buildable_materials", "candidate_planes"]

#: Rotation axes offered (label → [uvw]).
AXES: dict[str, tuple[int, int, int]] = {"[001]": (0, 0, 1), "[110]": (1, 1, 0), "[111]": (1, 1, 1)}
_GRAIN_LABEL = "grain (0 lower, 1 upper)"
_GRAIN_CMAP = "lilib_grains"  # grain 0 → C0, grain 1 → C1: the colours of GBModel.plot
_D_GRID_NM = np.logspace(1, 5, 81)  # grain sizes of the brick-layer curve, nm

# Kernel-wide caches: the same inputs always build the same cell (lilib.gb.RULE is deterministic).
_MATERIALS: list[str] | None = None
_SIGMAS: dict[tuple, SigmaTable | str] = {}
_PLANES: dict[tuple, dict[tuple[int, int, int], GBModel | str]] = {}


def _grain_cmap() -> str:
    """Register (once) the two-colour map that matches GBModel.plot's grain colours."""
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    if _GRAIN_CMAP not in colormaps:
        colormaps.register(ListedColormap(["#1f77b4", "#ff7f0e"], name=_GRAIN_CMAP))
    return _GRAIN_CMAP


def buildable_materials() -> list[str]:
    """Library names whose lattice :func:`lilib.gb.enumerate_sigma` accepts (cached)."""
    global _MATERIALS
    if _MATERIALS is None:
        ok = []
        for name in structures.names():
            try:
                enumerate_sigma(name, (0, 0, 1), 3)
            except LilibError:
                continue
            ok.append(name)
        _MATERIALS = ok
    return list(_MATERIALS)


def _miller(p: Sequence[int], paren: bool = True) -> str:
    body = "".join(f"{x}" if x >= 0 else f"{-x}\u0305" for x in p)  # overbar for negatives
    return f"({body})" if paren else f"[{body}]"


def candidate_planes(
    axis: Sequence[int], kind: str, max_index: int = 3
) -> list[tuple[int, int, int]]:
    """Short list of (hkl) to try: for tilt the planes containing the axis (h·u = 0), for twist
    the axis itself and the low-index planes; one of ±(hkl), indices ≤ ``max_index``."""
    u = tuple(int(x) for x in axis)
    top = max_index if kind == "tilt" else 1
    out: list[tuple[int, int, int]] = [u] if kind == "twist" else []
    for p in itertools.product(range(-top, top + 1), repeat=3):
        if p == (0, 0, 0) or math.gcd(*p) != 1 or next(x for x in p if x) < 0:
            continue
        contains = sum(a * b for a, b in zip(p, u)) == 0
        if (kind == "tilt") == contains and p not in out:
            out.append(p)
    return sorted(out, key=lambda p: (p != u, sum(x * x for x in p), tuple(-x for x in p)))


def _canonical(plane: Sequence[int]) -> tuple[int, int, int]:
    p = tuple(int(x) for x in plane)
    g = math.gcd(*p) or 1
    p = tuple(x // g for x in p)
    return tuple(-x for x in p) if next((x for x in p if x), 1) < 0 else p


def _as_profiles(profiles: Any) -> dict[str, Any]:
    """label → GBProfile from None, one profile, a sequence or a mapping."""
    from lilib.gb.transport import GBProfile

    if profiles is None:
        return {}
    if isinstance(profiles, GBProfile):
        profiles = [profiles]
    if isinstance(profiles, Mapping):
        items = [(str(k), v) for k, v in profiles.items()]
    else:
        try:
            seq = list(profiles)
        except TypeError:
            raise ArgumentError(
                "profiles", f"expected GBProfile(s), got {type(profiles).__name__}"
            ) from None
        temps = [getattr(p, "temperature_K", None) for p in seq]
        unique = None not in temps and len(set(temps)) == len(temps)
        items = [
            (f"{t:.0f} K" if unique else f"profile {i}", p)
            for i, (t, p) in enumerate(zip(temps, seq))
        ]
    for label, p in items:
        if not isinstance(p, GBProfile):
            raise ArgumentError(
                "profiles", f"{label!r} is a {type(p).__name__}, not a lilib GBProfile"
            )
    return dict(items)


def _log_slider(value: float, lo: int, hi: int, description: str, fmt: str = ".2g") -> Any:
    return ipw.FloatLogSlider(
        value=value, base=10, min=lo, max=hi, step=0.1, description=description,
        continuous_update=False, readout_format=fmt, style={"description_width": "initial"},
        layout=ipw.Layout(width="380px"),
    )  # fmt: skip


def _show(out: ipw.Output, fig: Any) -> None:
    """Put a matplotlib figure into an Output as a PNG (also without a kernel), then close it."""
    import base64
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    png = base64.b64encode(buf.getvalue()).decode("ascii")
    text = f"<Figure: {fig.axes[0].get_title() if fig.axes else ''}>"
    out.outputs = (
        {
            "output_type": "display_data",
            "data": {"image/png": png, "text/plain": text},
            "metadata": {},
        },
    )


class GBExplorer(ipw.VBox):
    """Choose material, axis, Σ, plane and kind: the bicrystal in 3D coloured by grain, its summary
    and side view (GB planes dashed); D(z) of given MD profiles; brick-layer σ against grain size
    and the Harrison regime of a chosen grain size and time.

    materials: library names offered (default: every entry :func:`lilib.gb.enumerate_sigma`
        accepts; probing them costs ~2 s once per kernel).
    material, axis ((0, 0, 1), (1, 1, 0) or (1, 1, 1)), sigma, plane, kind: the first selection
        (default: the smallest Σ and the plane with the smallest cell).
    max_sigma: Σ values offered, from :func:`lilib.gb.enumerate_sigma`.
    max_index: largest Miller index of the candidate tilt planes; each candidate is built once
        (cached per kernel) and only those that build with at most ``max_atoms`` atoms are
        offered, smallest cell first. probe_budget_s: building stops after this many seconds per
        (material, axis, Σ, kind); planes not tried are listed (big cells such as LLZO's take
        seconds each). build_options: extra keywords for :func:`lilib.gb.build_gb`.
    profiles: a :class:`lilib.gb.transport.GBProfile`, a list of them (one per temperature) or a
        mapping label → profile; D∥ and D⊥ are drawn against the distance to the GB.
    sigma_bulk_mS_cm, sigma_gb_ratio, delta_nm: start values of the brick-layer sliders;
        D_bulk_cm2_s, D_gb_ratio, grain_size_nm, time_s: of the Harrison sliders.

    A combination lilib refuses shows its message in the red box; the previous cell is cleared.
    """

    def __init__(
        self,
        materials: Sequence[str] | None = None,
        *,
        material: str = "LiF",
        axis: Sequence[int] = (0, 0, 1),
        sigma: int | None = None,
        plane: Sequence[int] | None = None,
        kind: str = "tilt",
        max_sigma: int = 15,
        max_index: int = 3,
        max_atoms: int = 500,
        probe_budget_s: float = 20.0,
        build_options: Mapping[str, Any] | None = None,
        profiles: Any = None,
        sigma_bulk_mS_cm: float = 1.0,
        sigma_gb_ratio: float = 1e-3,
        delta_nm: float = 1.0,
        D_bulk_cm2_s: float = 1e-12,
        D_gb_ratio: float = 1e3,
        grain_size_nm: float = 500.0,
        time_s: float = 3600.0,
        view_height: str = "420px",
    ):
        names = buildable_materials() if materials is None else [str(m) for m in materials]
        if not names:
            raise ArgumentError("materials", "give at least one material")
        if material not in names:
            raise ArgumentError("material", f"{material!r} is not one of {names}")
        axis = tuple(int(x) for x in axis)
        axis_label = next((k for k, v in AXES.items() if v == axis), None)
        if axis_label is None:
            raise ArgumentError("axis", f"expected one of {list(AXES.values())}, got {axis}")
        if kind not in ("tilt", "twist"):
            raise ArgumentError("kind", f"must be 'tilt' or 'twist', got {kind!r}")
        for name, value, low in (("max_sigma", max_sigma, 3), ("max_index", max_index, 1),
                                 ("max_atoms", max_atoms, 2)):  # fmt: skip
            if int(value) < low:
                raise ArgumentError(name, f"must be an integer ≥ {low}, got {value!r}")
        self._max_sigma = int(max_sigma)
        self._max_index = int(max_index)
        self._max_atoms = int(max_atoms)
        self._build_options = dict(build_options or {})
        self._probe_budget_s = float(probe_budget_s)
        self._wanted_sigma = sigma
        self._wanted_plane = None if plane is None else _canonical(plane)
        # planes asked for by name stay candidates for every Σ (besides candidate_planes)
        self._extra_planes: list[tuple[int, int, int]] = (
            [] if plane is None else [_canonical(plane)]
        )
        self._view_height = view_height
        self._busy = False

        self.model: GBModel | None = None
        self.structure_view: StructureView | None = None
        self.sigma_table: SigmaTable | None = None
        self.planes: dict[tuple[int, int, int], GBModel] = {}  # plane → model, offered
        self.unavailable: dict[tuple[int, int, int], str] = {}  # plane → why not offered
        self.profiles = _as_profiles(profiles)
        self.dz_curves: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.brick: BrickLayer | None = None  # on the grain-size grid
        self.brick_at_d: BrickLayer | None = None  # at the chosen grain size
        self.harrison: HarrisonRegimes | None = None

        style = {"description_width": "initial"}
        self.material = ipw.Dropdown(options=names, value=material, description="material",
                                     style=style, layout=ipw.Layout(width="240px"))  # fmt: skip
        self.axis = ipw.Dropdown(options=list(AXES), value=axis_label, description="axis",
                                 style=style, layout=ipw.Layout(width="130px"))  # fmt: skip
        self.sigma = ipw.Dropdown(options=[], description="Σ", style=style,
                                  layout=ipw.Layout(width="170px"))  # fmt: skip
        self.plane = ipw.Dropdown(options=[], description="plane", style=style,
                                  layout=ipw.Layout(width="260px"))  # fmt: skip
        self.kind = ipw.ToggleButtons(options=["tilt", "twist"], value=kind, description="kind",
                                      style={"button_width": "60px"})  # fmt: skip
        self.color_by = ipw.ToggleButtons(options=["grain", "element"], value="grain",
                                          description="colour", style={"button_width": "80px"})  # fmt: skip
        self.title = ipw.HTML()
        self.error = ipw.HTML(layout=ipw.Layout(display="none"))
        self.view_box = ipw.VBox(layout=ipw.Layout(width="100%"))
        self.table = ipw.HTML()
        self.side_view = ipw.Output(layout=ipw.Layout(min_height="280px", width="52%"))

        self.component = ipw.ToggleButtons(
            options=[("D∥ and D⊥", "both"), ("D∥", "parallel"), ("D⊥", "perp")], value="both",
            description="D(z)", style={"button_width": "110px"},
        )  # fmt: skip
        self.dz_note = ipw.HTML()
        self.dz_plot = ipw.Output(layout=ipw.Layout(min_height="300px"))

        self.sigma_bulk = _log_slider(sigma_bulk_mS_cm, -4, 2, "σ_bulk (mS/cm)")
        self.sigma_gb_ratio = _log_slider(sigma_gb_ratio, -6, 3, "σ_gb / σ_bulk")
        self.delta = ipw.FloatSlider(
            value=delta_nm, min=0.2, max=5.0, step=0.1, description="GB thickness δ (nm)",
            continuous_update=False, style=style, layout=ipw.Layout(width="380px"),
        )  # fmt: skip
        self.grain_size = _log_slider(grain_size_nm, 1, 5, "grain size d (nm)", ".3g")
        self.D_bulk = _log_slider(D_bulk_cm2_s, -18, -5, "D_bulk (cm²/s)")
        self.D_gb_ratio = _log_slider(D_gb_ratio, 0, 8, "D_gb / D_bulk")
        self.time = _log_slider(time_s, -6, 9, "time t (s)")
        self.poly_label = ipw.HTML()
        self.brick_plot = ipw.Output(layout=ipw.Layout(min_height="300px", width="50%"))
        self.harrison_plot = ipw.Output(layout=ipw.Layout(min_height="300px", width="50%"))

        self.material.observe(lambda _: self._refresh("material"), "value")
        self.axis.observe(lambda _: self._refresh("axis"), "value")
        self.sigma.observe(lambda _: self._refresh("sigma"), "value")
        self.kind.observe(lambda _: self._refresh("kind"), "value")
        self.plane.observe(lambda _: self._refresh("plane"), "value")
        self.color_by.observe(lambda _: self._draw_view(), "value")
        self.component.observe(lambda _: self._draw_dz(), "value")
        for w in (self.sigma_bulk, self.sigma_gb_ratio, self.delta, self.grain_size,
                  self.D_bulk, self.D_gb_ratio, self.time):  # fmt: skip
            w.observe(lambda _: self._draw_polycrystal(), "value")

        head = "<h4 style='margin:6px 0 2px'>{}</h4>".format
        controls = ipw.VBox([
            ipw.HBox([self.material, self.axis, self.sigma, self.plane]),
            ipw.HBox([self.kind, self.color_by]),
        ])  # fmt: skip
        # the 3D view spans the width on its own row (a flex row can lay its canvas out at zero width)
        bicrystal = [ipw.HTML(head("Bicrystal (lilib.gb.build_gb)")), controls, self.title,
                     self.error, self.view_box, ipw.HBox([self.table, self.side_view])]  # fmt: skip
        dz = [ipw.HTML(head("D(z) around the GB (lilib.gb.transport.gb_profile)")), self.component,
              self.dz_note, self.dz_plot]  # fmt: skip
        poly = [
            ipw.HTML(head("Polycrystal: brick layer and Harrison regimes (lilib.gb)")),
            ipw.HBox([
                ipw.VBox([self.sigma_bulk, self.sigma_gb_ratio, self.delta]),
                ipw.VBox([self.grain_size, self.time, self.D_bulk, self.D_gb_ratio]),
            ]),
            self.poly_label,
            ipw.HBox([self.brick_plot, self.harrison_plot], layout=ipw.Layout(width="100%")),
        ]  # fmt: skip
        super().__init__(bicrystal + dz + poly)
        self._refresh("material")
        self._draw_dz()
        self._draw_polycrystal()

    # ------------------------------------------------------------------ state

    @property
    def selection(self) -> dict[str, Any]:
        """The current choice: material, axis [uvw], Σ, plane (hkl) and kind."""
        return {"material": self.material.value, "axis": AXES[self.axis.value],
                "sigma": self.sigma.value, "plane": self.plane.value, "kind": self.kind.value}  # fmt: skip

    @property
    def regime(self) -> str | None:
        """Harrison regime ('A', 'B' or 'C') at the chosen grain size and time."""
        return None if self.harrison is None else str(self.harrison.regime.ravel()[0])

    def select(self, **choice: Any) -> None:
        """Set several controls at once (material, axis, sigma, plane, kind) with one rebuild."""
        unknown = set(choice) - {"material", "axis", "sigma", "plane", "kind"}
        if unknown:
            raise ArgumentError("choice", f"unknown controls {sorted(unknown)}")
        self._busy = True
        try:
            if "material" in choice:
                self.material.value = choice["material"]
            if "axis" in choice:
                ax = tuple(int(x) for x in choice["axis"])
                label = next((k for k, v in AXES.items() if v == ax), None)
                if label is None:
                    raise ArgumentError("axis", f"expected one of {list(AXES.values())}, got {ax}")
                self.axis.value = label
            if "kind" in choice:
                self.kind.value = choice["kind"]
        finally:
            self._busy = False
        self._wanted_sigma = choice.get("sigma", self._wanted_sigma)
        if "plane" in choice:
            self._wanted_plane = _canonical(choice["plane"])
            if self._wanted_plane not in self._extra_planes:
                self._extra_planes.append(self._wanted_plane)
        self._refresh("material")

    def dataframe(self) -> pd.DataFrame:
        """The summary table shown (one row per quantity); empty when no cell is built."""
        return pd.DataFrame(self._summary_rows(), columns=["quantity", "value"]).set_index(
            "quantity"
        )

    # ------------------------------------------------------------------ bicrystal

    def _refresh(self, level: str) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            self._set_error("")
            if level in ("material", "axis"):
                self._fill_sigmas()
            if level in ("material", "axis", "sigma", "kind"):
                self._fill_planes()
            plane = self.plane.value
            self.model = None if plane is None else self.planes[plane]
        finally:
            self._busy = False
        self._show_model()

    def _fill_sigmas(self) -> None:
        material, axis = self.material.value, AXES[self.axis.value]
        key = (material, axis, self._max_sigma)
        if key not in _SIGMAS:
            try:
                _SIGMAS[key] = enumerate_sigma(material, axis, self._max_sigma)
            except LilibError as exc:
                _SIGMAS[key] = str(exc)
        table = _SIGMAS[key]
        self.sigma_table = table if isinstance(table, SigmaTable) else None
        if self.sigma_table is None or not self.sigma_table.sigmas:
            self.sigma.options = []
            self.sigma.value = None
            msg = (
                table
                if isinstance(table, str)
                else f"no Σ ≤ {self._max_sigma} about {_miller(axis, False)}"
            )
            self._set_error(f"{material}: {msg}")
            return
        t = self.sigma_table
        self.sigma.options = [(f"Σ{s} ({t.angles(s)[0]:.2f}°)", s) for s in t.sigmas]
        wanted = self._wanted_sigma
        self._wanted_sigma = None
        self.sigma.value = wanted if wanted in t.sigmas else t.sigmas[0]
        if wanted is not None and wanted not in t.sigmas:
            try:
                t.angles(wanted)  # lilib's message: which Σ exist about this axis
            except LilibError as exc:
                self._set_error(str(exc))

    def _fill_planes(self) -> None:
        previous = self.plane.value
        self.planes, self.unavailable = {}, {}
        sigma = self.sigma.value
        if sigma is None:
            self.plane.options = []
            self.plane.value = None
            return
        material, axis, kind = self.material.value, AXES[self.axis.value], self.kind.value
        candidates = candidate_planes(axis, kind, self._max_index)
        wanted = self._wanted_plane
        for p in self._extra_planes:  # a tilt plane must contain the axis: skip the others
            if p not in candidates and (kind == "twist" or np.dot(p, axis) == 0 or p == wanted):
                candidates.append(p)
        key = (material, axis, sigma, kind, repr(sorted(self._build_options.items())))
        built = _PLANES.setdefault(key, {})
        self.title.value = f"<i>building {len(candidates)} candidate planes…</i>"
        start, tried = time.monotonic(), 0
        for p in candidates:
            if p not in built:
                if tried and time.monotonic() - start > self._probe_budget_s:
                    self.unavailable[p] = (
                        f"not tried: probe_budget_s = {self._probe_budget_s:g} s spent"
                    )
                    continue
                tried += 1
                try:
                    built[p] = build_gb(material, axis, sigma, p, kind, **self._build_options)
                except LilibError as exc:
                    built[p] = str(exc)
            result = built[p]
            if isinstance(result, str):
                self.unavailable[p] = result
            elif result.n_atoms > self._max_atoms:
                self.unavailable[p] = f"{result.n_atoms} atoms > max_atoms = {self._max_atoms}"
            else:
                self.planes[p] = result
        order = sorted(self.planes, key=lambda p: (self.planes[p].n_atoms, sum(x * x for x in p)))
        self.plane.options = [(f"{_miller(p)} · {self.planes[p].n_atoms} atoms", p) for p in order]
        if wanted is not None:
            self._wanted_plane = None
            if wanted in self.unavailable:
                self._set_error(f"{_miller(wanted)} is not offered: {self.unavailable[wanted]}")
        for choice in (wanted, previous):
            if choice in self.planes:
                self.plane.value = choice
                break
        else:
            self.plane.value = order[0] if order else None
        if not order:
            self._set_error(self._no_plane_message(material, axis, sigma, kind), is_html=True)

    def _no_plane_message(self, material, axis, sigma, kind) -> str:
        reasons = Counter(self.unavailable.values())
        lines = []
        for reason, n in reasons.most_common(4):
            planes = [_miller(p) for p, r in self.unavailable.items() if r == reason]
            where = ", ".join(planes[:3]) + (f" and {n - 3} more" if n > 3 else "")
            lines.append(html.escape(f"{where}: {reason}"))
        head = html.escape(
            f"No plane to offer for {material} Σ{sigma} {_miller(axis, False)} {kind}:"
        )
        return head + "<br>" + "<br>".join(lines)

    def _set_error(self, message: str, is_html: bool = False) -> None:
        if not message:
            self.error.value = ""
            self.error.layout.display = "none"
            return
        text = message if is_html else html.escape(message)
        self.error.value = (
            '<div class="lilib-error" style="background:#fde2e2;border:1px solid #d33;'
            f'padding:4px 8px;border-radius:4px">{text}</div>'
        )
        self.error.layout.display = ""

    def _show_model(self) -> None:
        m = self.model
        if m is None:
            self.title.value = ""
            self.view_box.children = []
            self.structure_view = None
            self.table.value = ""
            self.side_view.outputs = ()
            return
        z = ", ".join(f"{p:.2f}" for p in m.gb_positions_A)
        self.title.value = (
            f"<b>{html.escape(m.source)} Σ{m.sigma} {_miller(m.plane)}{_miller(m.axis, False)} "
            f"{m.kind}</b>, θ = {m.rotation_angle_deg:.2f}°; GB normal along z, "
            f"<b>GB planes at z = {z} Å</b> (cell length {m.normal_length_A:.2f} Å)"
        )
        self._draw_view()
        self.table.value = self._table_html()
        self._draw_side_view()

    def _draw_view(self) -> None:
        m = self.model
        if m is None:
            return
        if self.color_by.value == "grain":
            view = show_structure(m.atoms, color_by="grain", label=_GRAIN_LABEL, cmap=_grain_cmap(),
                                  vmin=0, vmax=1, height=self._view_height)  # fmt: skip
        else:
            view = show_structure(m.atoms, height=self._view_height)
        # look along x, in the GB plane: z (the GB normal) horizontal, as in the side view
        view.view.control.spin([0, 1, 0], -math.pi / 2)
        self.structure_view = view
        self.view_box.children = [view]

    def _summary_rows(self) -> list[tuple[str, str]]:
        m = self.model
        if m is None:
            return []
        s = m.summary()
        removed = Counter(r.symbol for r in m.removed)
        removed_txt = f"{len(m.removed)}" + (
            " (" + " ".join(f"{e}{n}" for e, n in sorted(removed.items())) + ")" if removed else ""
        )
        i, j = m.closest_pair
        sym = m.atoms.get_chemical_symbols()
        return [
            ("GB", f"Σ{m.sigma} {s['plane']}{s['axis']} {m.kind}, θ = {m.rotation_angle_deg:.2f}°"),
            ("atoms", f"{m.n_atoms} (before removal {m.n_atoms_before})"),
            (
                "composition",
                f"{s['composition']} ({m.n_formula_units} formula units, "
                f"charge {m.total_charge:+.0f} e)",
            ),
            ("removed atoms", removed_txt),
            ("min distance (Å)", f"{m.min_distance_A:.3f} (atoms {sym[i]}{i}, {sym[j]}{j})"),
            ("GB planes z (Å)", ", ".join(f"{p:.2f}" for p in m.gb_positions_A)),
            ("GB area (Å²)", f"{m.area_A2:.2f}"),
            (
                "cell (Å)",
                f"{m.atoms.cell.lengths()[0]:.2f} × {m.atoms.cell.lengths()[1]:.2f} "
                f"× {m.normal_length_A:.2f}",
            ),
            ("rule", "lilib.gb.RULE: whole formula units removed at close contacts"),
        ]

    def _table_html(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left;padding-right:8px'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self._summary_rows()
        )
        rule = f"<details><summary>full rule text</summary><small>{html.escape(RULE)}</small></details>"
        skipped = ""
        if self.unavailable:
            items = "".join(
                f"<li>{_miller(p)}: {html.escape(r)}</li>" for p, r in self.unavailable.items()
            )
            skipped = (f"<details><summary>{len(self.unavailable)} candidate plane(s) not offered"
                       f"</summary><small><ul>{items}</ul></small></details>")  # fmt: skip
        return (f'<table class="lilib-gb-table" style="font-size:90%">{rows}</table>'
                f"{rule}{skipped}")  # fmt: skip

    def _draw_side_view(self) -> None:
        import matplotlib.pyplot as plt

        with plt.ioff():
            fig, ax = plt.subplots(figsize=(5.0, 3.0))
            self.model.plot(ax=ax)
            fig.tight_layout()
        _show(self.side_view, fig)

    # ------------------------------------------------------------------ D(z)

    def _draw_dz(self) -> None:
        import matplotlib.pyplot as plt

        self.dz_curves = {}
        if not self.profiles:
            self.dz_note.value = (
                "<span class='lilib-note'>No D(z) profile given: pass <code>profiles=</code> one "
                "<code>lilib.gb.transport.gb_profile(traj, gb, 'Li', lag_frames=…)</code> result, "
                "or a list of them (one per temperature).</span>"
            )
            self.dz_plot.outputs = ()
            self.component.layout.display = "none"
            return
        self.component.layout.display = ""
        which = ("parallel", "perp") if self.component.value == "both" else (self.component.value,)
        first = next(iter(self.profiles.values()))
        self.dz_note.value = (
            f"<span class='lilib-note'>{html.escape(first.species)}: D per slab ± the larger "
            "jackknife stderr; x = distance to the nearest GB plane (from the MD run the profile "
            "was measured on).</span>"
        )
        with plt.ioff():
            fig, ax = plt.subplots(figsize=(6.4, 3.4))
            positive = True
            for k, (label, prof) in enumerate(self.profiles.items()):
                x = prof.centres_A
                for comp in which:
                    val = np.asarray(getattr(prof, f"D_{comp}_cm2_s"))
                    err = np.asarray(getattr(prof, f"D_{comp}_stderr_cm2_s"))
                    par = comp == "parallel"
                    ax.errorbar(x, val, yerr=err, fmt="o-" if par else "s--", ms=4, capsize=2,
                                color=f"C{k % 10}", alpha=1.0 if par else 0.8,
                                label=f"{label} {'D∥' if par else 'D⊥'}")  # fmt: skip
                    self.dz_curves[f"{label} {comp}"] = (x, val, err)
                    finite = val[np.isfinite(val)]
                    positive &= bool(finite.size) and bool(np.all(finite > 0))
                for s in prof.refused_slabs:
                    ax.axvspan(prof.bin_edges_A[s], prof.bin_edges_A[s + 1], color="0.88", lw=0)
            ax.axvline(0.0, ls=":", c="0.3", lw=1, label="GB plane")
            if positive:
                ax.set_yscale("log")
            signed = first.signed
            ax.set_xlabel(
                "signed distance to GB plane (Å)" if signed else "|distance to GB plane| (Å)"
            )
            ax.set_ylabel("D (cm²/s)")
            ax.legend(fontsize=7, ncol=2)
            fig.tight_layout()
        _show(self.dz_plot, fig)

    # ------------------------------------------------------------------ polycrystal

    def _draw_polycrystal(self) -> None:
        import matplotlib.pyplot as plt

        sb = float(self.sigma_bulk.value)
        sg = sb * float(self.sigma_gb_ratio.value)
        delta = float(self.delta.value)
        d = float(self.grain_size.value)
        db = float(self.D_bulk.value)
        dg = db * float(self.D_gb_ratio.value)
        t = float(self.time.value)
        try:
            self.brick = brick_layer(sb, sg, _D_GRID_NM, delta)
            self.brick_at_d = brick_layer(sb, sg, [d], delta)
            self.harrison = harrison_regimes(d, delta, dg, db, t)
        except LilibError as exc:
            self.poly_label.value = (
                f"<span class='lilib-error' style='color:#b00'>{html.escape(str(exc))}</span>"
            )
            return
        h = self.harrison
        b = self.brick_at_d
        self.poly_label.value = (
            f"<span class='lilib-poly'>d = {d:.3g} nm: σ_total = <b>{b.sigma_total_mS_cm[0]:.3g} "
            f"mS/cm</b> (through GBs {b.sigma_series_mS_cm[0]:.3g}, along GBs "
            f"{b.sigma_parallel_mS_cm[0]:.3g}; σ_bulk {sb:.3g}); at t = {t:.3g} s: Harrison "
            f"regime <b>{self.regime}</b> (Λ = {h.Lambda.ravel()[0]:.3g}, α = {h.alpha.ravel()[0]:.3g}, "
            f"β = {h.beta.ravel()[0]:.3g}; bulk diffusion length {h.bulk_length_nm.ravel()[0]:.3g} nm)</span>"
        )
        with plt.ioff():
            fig, ax = plt.subplots(figsize=(4.8, 3.4))
            self.brick.plot(ax=ax)
            ax.axvline(d, c="C3", lw=1, ls=":")
            ax.plot([d], [b.sigma_total_mS_cm[0]], "o", c="C3", ms=5)
            fig.subplots_adjust(left=0.17, right=0.97, bottom=0.15, top=0.9)
        _show(self.brick_plot, fig)
        with plt.ioff():
            fig, ax = plt.subplots(figsize=(4.8, 3.4))
            h.plot(ax=ax)
            ax.set_title(f"regime {self.regime} at d = {d:.3g} nm, t = {t:.3g} s", fontsize=9)
            fig.subplots_adjust(left=0.17, right=0.97, bottom=0.15, top=0.9)
        _show(self.harrison_plot, fig)
