"""Trace plots linked to the time cursor: cell state, hidden state and gates over time.

Three panels side by side (``c``, ``h``, ``gates``), each a small pyqtgraph
view. Every panel shows either line plots (one colour per quantity, the gate
colours used everywhere; units told apart by line style, or only the focused
unit when one is selected) or a units x time heatmap on the shared diverging
value scale with fixed symmetric levels and a colour bar.

A vertical cursor marks the current step in every panel: clicking a panel or
dragging the cursor moves it. Hovering shows the value under the mouse.

The x axis counts steps from 1 (step ``t + 1`` for the 0-based time step ``t``),
as everywhere the user reads step numbers. When every step's input token fits
under its step, the axis shows the tokens instead (labelled "input"; the hover
text still names the step). All plot items are created once per
trace shape and updated in place; long sequences are downsampled for display.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QElapsedTimer, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics, QPen, QPixmapCache
from PySide6.QtWidgets import QGraphicsItem, QLabel, QSplitter, QVBoxLayout, QWidget

from ..state import AppState
from .theme import Theme, colormap, scaled_font

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

#: Line styles that tell units apart when all units are shown.
UNIT_STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine,
               Qt.PenStyle.DashDotLine, Qt.PenStyle.DashDotDotLine)

#: How each line style looks in the legend (same order as UNIT_STYLES).
UNIT_STYLE_GLYPHS = ("━━", "╍╍", "┉┉", "━·━", "━··")
#: Most units listed in the legend line.
MAX_LEGEND_UNITS = 8

#: Most lines per panel kept as cached pixmaps (above this: thin, uncached lines).
MAX_CACHED_LINES = 40
#: Pixmap cache the cached lines need (KB); raised once if Qt's default is smaller.
PIXMAP_CACHE_KB = 128 * 1024

#: A trace change this soon (ms) after the previous one was drawn means the user is
#: dragging (or typing):
#: the lines are drawn 1 px wide (Qt's fast antialiased path, ~70x faster than 2 px)
#: until the changes have paused for SETTLE_MS, then redrawn at full width.
DRAFT_WITHIN_MS = 500
SETTLE_MS = 250

#: Readable names of the plotted quantities (HTML, for titles and hover text).
SYMBOLS = {
    "c": "C<sub>t</sub>", "h": "h<sub>t</sub>", "f": "f<sub>t</sub>", "i": "i<sub>t</sub>",
    "o": "o<sub>t</sub>", "g": "C̃<sub>t</sub>", "r": "r<sub>t</sub>", "z": "z<sub>t</sub>",
    "n": "n<sub>t</sub>",
}
_PLAIN = {"c": "C_t", "h": "h_t", "f": "f_t", "i": "i_t", "o": "o_t", "g": "C̃_t",
          "r": "r_t", "z": "z_t", "n": "n_t"}

#: The three panels: key -> title.
PANELS = {"c": "Cell state", "h": "Hidden state", "gates": "Gates"}


def panel_series(trace, panel: str) -> list[tuple[str, np.ndarray]]:
    """The (quantity key, (T, H) array) pairs a panel plots for this trace ([] if none)."""
    if panel == "c":
        return [("c", trace.c)] if trace.c is not None else []
    if panel == "h":
        return [("h", trace.h)]
    if trace.kind == "lstm":
        return [(k, trace.gates[k]) for k in ("f", "i", "o", "g")]
    return [(k, trace.gates[k]) for k in ("r", "z", "n") if k in trace.gates]


def _fmt(v: float) -> str:
    return f"{v:.3f}".replace("-", "−")


class TracePanel(pg.GraphicsLayoutWidget):
    """One plot (``c``, ``h`` or ``gates``) over time, in line or heatmap mode.

    Reads `AppState`; calls only ``state.set_timestep``.
    """

    def __init__(self, state: AppState, panel: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.panel = panel
        self.heatmap = False
        if QPixmapCache.cacheLimit() < PIXMAP_CACHE_KB:
            QPixmapCache.setCacheLimit(PIXMAP_CACHE_KB)
        self.setMinimumSize(160, 120)
        self.ci.setContentsMargins(4, 4, 4, 4)
        self.plot: pg.PlotItem = self.addPlot(row=0, col=0)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.setDownsampling(auto=True, mode="peak")
        self.plot.setClipToView(True)
        self.plot.showGrid(x=False, y=True, alpha=0.25)     # the cursor marks time
        self.vb: pg.ViewBox = self.plot.getViewBox()
        # The axes (tick text, and the left one's grid across the view) are kept as
        # pixmaps: moving the cursor then blits them instead of replaying their text.
        for name in ("left", "bottom"):
            self.plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

        self.curves: dict[tuple[str, int], pg.PlotDataItem] = {}    # lines of this trace
        self._pool: dict[tuple[str, int], pg.PlotDataItem] = {}     # every line ever made
        self.series: list[tuple[str, np.ndarray]] = []
        self._shape: tuple | None = None

        self.image = pg.ImageItem(autoDownsample=True)
        self.image.setZValue(-10)
        self.image.hide()
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(-1.0, 1.0), interactive=False, width=18,
                                        colorMap=colormap(state.theme))
        self.colorbar.setImageItem(self.image)
        self.colorbar.hide()
        self._levels = 1.0

        self.cursor = pg.InfiniteLine(pos=1, angle=90, movable=True)
        self.cursor.setZValue(20)
        self.cursor.setToolTip("Time cursor: drag it, or click anywhere in the plot")
        self.plot.addItem(self.cursor, ignoreBounds=True)
        self.cursor.sigPositionChanged.connect(self._cursor_dragged)

        self.hover_text = pg.TextItem(anchor=(0, 1))
        self.hover_text.setZValue(30)
        self.hover_dot = pg.ScatterPlotItem(size=10)
        self.hover_dot.setZValue(29)
        for item in (self.hover_text, self.hover_dot):
            item.hide()
            self.plot.addItem(item, ignoreBounds=True)
        self.hover_value: float | None = None
        self._time_ticks: list | None = None
        self._left_axis: tuple | None = ("unset",)
        self._unit_range: list | None = None
        self._title: tuple | None = None
        self.draft = False                       # 1 px lines while the data changes fast
        self._repaint_pending = False
        self._last_change = QElapsedTimer()
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._end_draft)

        self.vb.sigXRangeChanged.connect(lambda *_: self._update_time_ticks())
        self.scene().sigMouseClicked.connect(self._clicked)
        self.scene().sigMouseMoved.connect(self._moved)
        state.trace_changed.connect(self._on_trace)
        state.timestep_changed.connect(self._on_timestep)
        state.unit_changed.connect(self._on_unit)
        state.appearance_changed.connect(self._on_appearance)
        self._on_trace()
        self._on_appearance()

    # ------------------------------------------------------------------ public

    def curve(self, key: str, unit: int) -> pg.PlotDataItem:
        """The line of quantity ``key`` for hidden unit ``unit`` (0-based)."""
        return self.curves[(key, unit)]

    def set_heatmap(self, on: bool) -> None:
        """Show the units x time heatmap (True) or the line plots (False)."""
        on = bool(on)
        if on == self.heatmap:
            return
        self.heatmap = on
        if on:
            self.ci.addItem(self.colorbar, row=0, col=1)
            self.colorbar.show()
        else:
            self.ci.removeItem(self.colorbar)
            self.colorbar.hide()
        self._apply_mode()

    def step_to_scene(self, t: int, frac_y: float = 0.5) -> QPointF:
        """Scene position of 0-based step ``t`` at height ``frac_y`` (0 bottom, 1 top) of the view."""
        (x0, x1), (y0, y1) = self.vb.viewRange()
        return self.vb.mapViewToScene(QPointF(t + 1, y0 + frac_y * (y1 - y0)))

    # ------------------------------------------------------------------ state -> view

    def _on_trace(self) -> None:
        # time from the end of the previous redraw (see paintEvent) to this change
        fast = self._last_change.isValid() and self._last_change.elapsed() < DRAFT_WITHIN_MS
        self._last_change.start()
        self._repaint_pending = True
        if fast:
            self._settle.start()
            if not self.draft:
                self.draft = True
                self._style_curves()
        trace = self.state.trace
        self.series = panel_series(trace, self.panel)
        T, H = trace.steps, trace.hidden_size
        keys = tuple(k for k, _ in self.series)
        if self._shape != (keys, H):
            self._rebuild_curves(keys, H)
        x = np.arange(1, T + 1, dtype=float)
        for key, arr in self.series:
            for u in range(H):
                self.curves[(key, u)].setData(x, arr[:, u])
        if self.series:
            img = np.concatenate([arr.T for _, arr in self.series], axis=0)    # (rows, T)
            m = 1.0
            if self.panel == "c":
                peak = float(np.max(np.abs(img))) if img.size else 0.0
                m = max(1.0, float(np.ceil(peak * 10) / 10)) if np.isfinite(peak) else 1.0
            self._levels = m
            self.image.setImage(img, levels=(-m, m), autoLevels=False)
            self.image.setRect(0.5, 0.0, float(T), float(img.shape[0]))
            self.colorbar.setLevels((-m, m))
        self.vb.setLimits(xMin=0.5 - 0.02 * T, xMax=T + 0.5 + 0.02 * T)
        self.vb.setXRange(0.5, T + 0.5, padding=0.01)
        self._update_time_ticks()
        self._apply_mode()
        self._on_timestep(self.state.timestep)

    def paintEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().paintEvent(ev)
        if self._repaint_pending:             # the change is on screen: start the clock now
            self._repaint_pending = False
            self._last_change.start()

    def _end_draft(self) -> None:
        if self.draft:
            self.draft = False
            self._style_curves()

    def _update_time_ticks(self) -> None:
        """Token labels on the time axis when all visible ones fit, else step numbers."""
        st = self.state
        labels = st.labels
        axis = self.plot.getAxis("bottom")
        (x0, x1), _ = self.vb.viewRange()
        lo, hi = max(0, int(np.ceil(x0 - 1))), min(st.steps, int(np.floor(x1)))
        shown = labels[lo:hi]
        fits = False
        if shown and hi > lo:
            fm = QFontMetrics(scaled_font(st.theme, st.font_scale, 0.85))
            widest = max(fm.horizontalAdvance(t) for t in set(shown)) + fm.horizontalAdvance("  ")
            fits = widest * (x1 - x0) <= max(1, self.vb.width())
        ticks = [[(t + 1.0, labels[t]) for t in range(lo, hi)]] if fits else None
        if ticks != self._time_ticks:
            self._time_ticks = ticks
            axis.setTicks(ticks)
            axis.setLabel("input" if fits else "step", color=st.theme.foreground)

    def resizeEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(ev)
        if hasattr(self, "_time_ticks"):        # not during construction
            self._update_time_ticks()

    def _rebuild_curves(self, keys: tuple[str, ...], H: int) -> None:
        """Choose the line items for a new trace shape (only when keys or H change).

        Items are pooled, never removed: lines of a larger earlier shape are
        emptied and hidden, so switching models creates no churn.
        """
        for item in self.curves.values():
            item.setData([], [])
            item.hide()
        self.curves = {}
        for key in keys:
            for u in range(H):
                c = self._pool.get((key, u))
                if c is None:
                    c = self._pool[(key, u)] = pg.PlotDataItem(skipFiniteCheck=True)
                    c.setZValue(10 if key in ("c", "h") else 5)
                    self.plot.addItem(c)
                self.curves[(key, u)] = c
        self._shape = (keys, H)
        ticks = []
        if keys and self.panel == "gates":
            ticks = [[(H * k + H / 2, _PLAIN.get(key, key)) for k, key in enumerate(keys)]]
        self._heat_ticks = ticks
        self._style_curves()

    def _apply_mode(self) -> None:
        heat = self.heatmap
        self.image.setVisible(heat)
        unit = self.state.unit
        for (key, u), c in self.curves.items():
            c.setVisible(not heat and (unit < 0 or u == unit))
        rows = sum(a.shape[1] for _, a in self.series)
        if heat:
            self.vb.setYRange(0.0, float(max(rows, 1)), padding=0.0)
            H = self.state.trace.hidden_size
            if self.panel == "gates":
                ticks = self._heat_ticks
            else:
                step = max(1, H // 8)
                ticks = [[(u + 0.5, str(u + 1)) for u in range(0, H, step)]]
            self._set_left_axis(ticks, "unit" if self.panel != "gates" else "")
        else:
            self._set_left_axis(None, "")
            if self.panel == "c":
                lo, hi = self._line_range()
                self.vb.setYRange(lo, hi, padding=0.08)
            elif self.vb.viewRange()[1] != self._unit_range:
                self.vb.setYRange(-1.0, 1.0, padding=0.06)
                self._unit_range = self.vb.viewRange()[1]
        self._set_title()

    def _set_left_axis(self, ticks, label: str) -> None:
        """Ticks and label of the y axis, only when they change (each change redraws the axis)."""
        if (ticks, label) == self._left_axis:
            return
        self._left_axis = (ticks, label)
        left = self.plot.getAxis("left")
        left.setTicks(ticks)
        left.setLabel(label)

    def _line_range(self) -> tuple[float, float]:
        unit = self.state.unit
        vals = [a if unit < 0 else a[:, unit] for _, a in self.series]
        if not vals:
            return -1.0, 1.0
        lo = min(float(np.min(v)) for v in vals)
        hi = max(float(np.max(v)) for v in vals)
        lo, hi = min(lo, -0.1), max(hi, 0.1)
        return (lo, hi) if np.isfinite(lo) and np.isfinite(hi) else (-1.0, 1.0)

    def _on_timestep(self, t: int) -> None:
        blocked = self.cursor.blockSignals(True)
        self.cursor.setValue(t + 1)
        self.cursor.blockSignals(blocked)

    def _on_unit(self, _u: int) -> None:
        self._style_curves()
        self._apply_mode()

    def _on_appearance(self) -> None:
        th: Theme = self.state.theme
        scale = self.state.font_scale
        self.setBackground(th.background)
        tick_font = scaled_font(th, scale, 0.85)
        for name in ("left", "bottom"):
            ax = self.plot.getAxis(name)
            ax.setPen(pg.mkPen(th.foreground, width=1))
            ax.setTextPen(pg.mkPen(th.foreground))
            ax.setStyle(tickFont=tick_font, tickTextOffset=max(3, round(4 * scale)))
            ax.label.setFont(tick_font)
        self._time_ticks = ["redo"]                 # font or colour changed: redo the labels
        self._update_time_ticks()
        for ax_name in ("left", "right"):
            cb_ax = self.colorbar.getAxis(ax_name)
            cb_ax.setPen(pg.mkPen(th.foreground))
            cb_ax.setTextPen(pg.mkPen(th.foreground))
            cb_ax.setStyle(tickFont=tick_font)
        self.colorbar.setColorMap(colormap(th))
        self.colorbar.setLevels((-self._levels, self._levels))
        width = max(2.0, th.line_width * 1.25)
        self.cursor.setPen(pg.mkPen(th.accent, width=width))
        self.cursor.setHoverPen(pg.mkPen(th.gate_colors.get("o", th.accent), width=width + 2))
        self.hover_text.setColor(th.foreground)
        self.hover_text.fill = pg.mkBrush(th.background)
        self.hover_text.border = pg.mkPen(th.foreground)
        self.hover_text.setFont(scaled_font(th, scale, 0.9, bold=True))
        self.hover_dot.setPen(pg.mkPen(th.foreground, width=2))
        self.hover_dot.setBrush(pg.mkBrush(th.background))
        self._style_curves()
        self._set_title()

    def _style_curves(self) -> None:
        """Pens for the lines, and how they are drawn.

        Thick antialiased lines are slow to stroke, so each visible line is kept
        as a pixmap (moving the cursor or animating the diagram then only blits
        it). With many lines (all units of a wide layer) the pixmaps would not
        fit the cache; those lines are drawn 1 px wide, which Qt strokes fast,
        and the heatmap is the better overview anyway. While a drag changes the
        data many times a second (`draft`), lines are 1 px too, uncached.
        """
        th = self.state.theme
        unit = self.state.unit
        n_visible = len(self.curves) if unit < 0 else len(self.series)
        many = n_visible > MAX_CACHED_LINES or self.draft
        width = 1.0 if many else th.line_width * (1.5 if unit >= 0 else 1.0)
        cache = (QGraphicsItem.CacheMode.NoCache if many
                 else QGraphicsItem.CacheMode.DeviceCoordinateCache)
        for (key, u), c in self.curves.items():
            c.curve.setCacheMode(cache)
            pen = QPen(th.gate_color(key))
            pen.setWidthF(width)
            pen.setCosmetic(True)
            # dashes on long paths are slow to stroke, and with more lines than dash
            # styles they no longer tell units apart: solid lines then
            solid = unit >= 0 or n_visible > MAX_CACHED_LINES
            pen.setStyle(Qt.PenStyle.SolidLine if solid else UNIT_STYLES[u % len(UNIT_STYLES)])
            c.setPen(pen)

    def _set_title(self) -> None:
        th = self.state.theme
        size = f"{th.base_point_size * self.state.font_scale * 1.1:.1f}pt"
        parts = []
        for key, _ in self.series:
            parts.append(f"<span style='color:{th.gate_color(key).name()}'><b>{SYMBOLS.get(key, key)}</b></span>")
        title = PANELS[self.panel]
        if self.panel == "gates" and parts:
            title = "Gates " + " ".join(parts)
        elif parts:
            title = f"{title} {parts[0]}"
        u = self.state.unit
        where = self.state.unit_label(u) if u >= 0 else "all units"
        if self.heatmap:
            where = "units × time"
        html = f"{title} <span style='color:{th.muted}'>· {where}</span>"
        if (html, size, th.foreground) != self._title:       # setTitle re-lays out the plot
            self._title = (html, size, th.foreground)
            self.plot.setTitle(html, size=size, color=th.foreground)

    # ------------------------------------------------------------------ view -> state

    def _step_at(self, x: float) -> int:
        return int(np.clip(np.floor(x + 0.5) - 1, 0, self.state.trace.steps - 1))

    def _cursor_dragged(self) -> None:
        self.state.set_timestep(self._step_at(self.cursor.value()))
        # snap the line to the step even when the step did not change
        self._on_timestep(self.state.timestep)

    def _clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        pos = ev.scenePos()
        if not self.vb.sceneBoundingRect().contains(pos):
            return
        self.state.set_timestep(self._step_at(self.vb.mapSceneToView(pos).x()))

    def _moved(self, pos) -> None:
        if not self.series or not self.vb.sceneBoundingRect().contains(pos):
            self._hide_hover()
            return
        p = self.vb.mapSceneToView(pos)
        t = self._step_at(p.x())
        H = self.state.trace.hidden_size
        unit = self.state.unit
        if self.heatmap:
            row = int(np.floor(p.y()))
            rows = len(self.series) * H
            if not 0 <= row < rows:
                self._hide_hover()
                return
            key, arr = self.series[row // H]
            u = row % H
            y = row + 0.5
        else:
            best = None
            for key_, arr_ in self.series:
                for u_ in (range(H) if unit < 0 else (unit,)):
                    d = abs(arr_[t, u_] - p.y())
                    if best is None or d < best[0]:
                        best = (d, key_, arr_, u_)
            _, key, arr, u = best
            y = float(arr[t, u])
        value = float(arr[t, u])
        self.hover_value = value
        unit_txt = self.state.unit_label(u)
        self.hover_text.setHtml(f"step {t + 1} · {unit_txt}<br>{SYMBOLS.get(key, key)} = {_fmt(value)}")
        (x0, x1), (y0, y1) = self.vb.viewRange()
        # keep the label inside the view: flip it to the left of the point near the right edge
        right = (t + 1) > x0 + 0.6 * (x1 - x0)
        top = y > y0 + 0.7 * (y1 - y0)
        self.hover_text.setAnchor((1.0 if right else 0.0, 0.0 if top else 1.0))
        self.hover_text.setPos(t + 1, y)
        self.hover_text.show()
        if self.heatmap:
            self.hover_dot.hide()
        else:
            self.hover_dot.setData([t + 1], [y])
            self.hover_dot.show()
        self.setToolTip(f"step {t + 1}, {unit_txt}: {_PLAIN.get(key, key)} = {_fmt(value)}")

    def _hide_hover(self) -> None:
        if self.hover_text.isVisible():
            self.hover_text.hide()
            self.hover_dot.hide()
            self.hover_value = None

    def leaveEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        self._hide_hover()
        super().leaveEvent(ev)


class TracePlots(QWidget):
    """The three trace panels side by side, with a shared heatmap toggle.

    ``set_only(panel)`` shows one panel (presentation mode); ``set_only(None)`` all.
    """

    heatmap_toggled = Signal(bool)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setChildrenCollapsible(False)
        self.panels: dict[str, TracePanel] = {}
        for key in PANELS:
            p = TracePanel(state, key, self.splitter)
            self.panels[key] = p
            self.splitter.addWidget(p)
        self.legend = QLabel(self)
        self.legend.setToolTip("Line styles tell the hidden units apart; pick one unit with U or 1 … 9")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.legend)
        lay.addWidget(self.splitter, 1)
        self._only: str | None = None
        self.heatmap = False
        state.trace_changed.connect(self._update_visibility)
        state.trace_changed.connect(self._update_legend)
        state.unit_changed.connect(self._update_legend)
        state.appearance_changed.connect(self._update_legend)
        self._update_legend()

    def _update_legend(self, *_args) -> None:
        """One line naming the line style of each unit (shown when all units are drawn)."""
        st = self.state
        H = st.trace.hidden_size
        self.legend.setFont(scaled_font(st.theme, st.font_scale, 0.95))
        self.legend.setVisible(st.unit < 0 and not self.heatmap and 1 < H <= MAX_LEGEND_UNITS)
        parts = [f"{UNIT_STYLE_GLYPHS[u % len(UNIT_STYLE_GLYPHS)]} {st.unit_label(u)}"
                 for u in range(min(H, MAX_LEGEND_UNITS))]
        self.legend.setText("Lines:   " + "     ".join(parts))

    def set_heatmap(self, on: bool) -> None:
        on = bool(on)
        if on == self.heatmap:
            return
        self.heatmap = on
        for p in self.panels.values():
            p.set_heatmap(on)
        self._update_legend()
        self.heatmap_toggled.emit(on)

    def set_only(self, panel: str | None) -> None:
        self._only = panel
        self._update_visibility()

    def _update_visibility(self) -> None:
        only = self._only
        if only is not None and not self.panels[only].series:
            only = "h"      # a GRU or RNN has no cell state: show the hidden state instead
        for key, p in self.panels.items():
            p.setVisible(bool(p.series) and (only is None or key == only))

    def visible_panels(self) -> list[str]:
        return [k for k, p in self.panels.items() if not p.isHidden()]


__all__ = ["PANELS", "TracePanel", "TracePlots", "panel_series"]
