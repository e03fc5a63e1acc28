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

Speed (a weight drag redraws every panel many times a second): each panel draws
all units of a quantity with *one* scene item (`UnitLines`, a polyline and pen
per unit), so a trace change costs one update per quantity, not one per unit.
A hidden panel, and the part of a panel that is not shown (the heatmap in line
mode, the lines in heatmap mode), is updated only when it is shown. Range
changes are applied before Qt paints (applied during the paint they would make
Qt paint the panel twice), and the cell-state axis snaps to round numbers so a
small change of the data leaves it (and its cached tick labels) alone.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QElapsedTimer, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics, QPen, QPixmapCache, QTextDocument
from PySide6.QtWidgets import QGraphicsItem, QLabel, QSplitter, QVBoxLayout, QWidget

from ..explain import fmt
from ..state import AppState
from .equations import unicode_subscripts
from .kit import (DISPLAY_LIMIT, DRAFT_WITHIN_MS, SETTLE_MS, ImageItem, opaque_viewport, shifted,
                  step_at, style_axes, thin_passes, view_pixel)
from .theme import Theme, colormap, scaled_font
from .timecursor import TimeCursor

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

#: Line styles that tell units apart when all units are shown.
UNIT_STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine,
               Qt.PenStyle.DashDotLine, Qt.PenStyle.DashDotDotLine)

#: How each line style looks in the legend (same order as UNIT_STYLES).
UNIT_STYLE_GLYPHS = ("━━", "╍╍", "┉┉", "━·━", "━··")
#: Most units listed in the legend line.
MAX_LEGEND_UNITS = 8

#: Most lines per panel kept as cached pixmaps (above this: thin, solid, uncached lines).
MAX_CACHED_LINES = 40
#: Most points (units x steps) per panel drawn with wide lines: a wide line costs a few
#: times a thin one (`thin_passes`), which the redraw after a drag pauses spends at
#: once; above this, lines are 1 px (at 100 steps: all 8 units' C_t or h_t wide, their
#: 32 gate lines thin).
MAX_WIDE_POINTS = 1000
#: Pixmap cache the cached lines need (KB); raised once if Qt's default is smaller.
PIXMAP_CACHE_KB = 128 * 1024

# A trace change within DRAFT_WITHIN_MS of the previous one's redraw means the user is
# dragging (or typing): the lines are drawn 1 px wide, not antialiased (a few times
# faster again) until the changes have paused for SETTLE_MS, then redrawn at full
# width (kit; the gradient and comparison curves do the same).
#: The panels settle one after another, this far apart (ms): a drag resumed meanwhile then
#: waits for one panel's full-width redraw at most, not for all three at once.
SETTLE_STAGGER_MS = 60

#: Lines of at most this many steps are drawn whole; longer ones are clipped to the
#: view and reduced to each pixel column's minimum and maximum (`peak_decimate`).
CLIP_FROM_STEPS = 1000
#: While a drag changes the data (`draft`), a line keeps at most one point per this many
#: pixels (each block's minimum and maximum, so no peak is lost); the settled redraw
#: has every point again. Thin lines cost Qt per point: at 500 steps in a 460 px plot
#: this keeps 230 of them (192 lines of them at H=32: ~4 ms less per drag frame).
DRAFT_PX_PER_POINT = 2

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
        if trace.c is None:
            return []
        c = trace.c
        with np.errstate(invalid="ignore"):
            blown = not np.all(np.abs(c) <= DISPLAY_LIMIT)
        if blown:                       # an experiment blew up: inf -> the limit, NaN a gap
            c = np.clip(c, -DISPLAY_LIMIT, DISPLAY_LIMIT)
        return [("c", c)]
    if panel == "h":
        return [("h", trace.h)]
    if trace.kind == "lstm":
        return [(k, trace.gates[k]) for k in ("f", "i", "o", "g")]
    return [(k, trace.gates[k]) for k in ("r", "z", "n") if k in trace.gates]


def peak_decimate(Y: np.ndarray, lo: int, hi: int, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Steps ``lo .. hi - 1`` of the lines ``Y`` (T, U), at most ~2 points per pixel column.

    Returns ``(x, Yd)``: ``x`` (n,) the 1-based step of each point and ``Yd``
    (n, U). A range of at most ``2 * columns`` steps comes back unchanged;
    a longer one is cut into blocks of ``ds`` steps, each drawn as two points at
    its first step: the block's minimum and its maximum, so no peak is lost.
    """
    n = hi - lo
    if n <= 2 * columns:
        return np.arange(lo + 1, hi + 1, dtype=float), Y[lo:hi]
    ds = -(-n // columns)
    nb = -(-n // ds)
    block = Y[lo:hi]
    if nb * ds > n:                     # pad the last block with its last value
        block = np.concatenate([block, np.repeat(block[-1:], nb * ds - n, axis=0)])
    block = block.reshape(nb, ds, Y.shape[1])
    out = np.empty((nb, 2, Y.shape[1]))
    out[:, 0] = block.min(axis=1)
    out[:, 1] = block.max(axis=1)
    x = np.repeat(np.arange(lo + 1, lo + 1 + nb * ds, ds, dtype=float), 2)
    return x, out.reshape(2 * nb, Y.shape[1])


def nice_range(lo: float, hi: float) -> tuple[float, float]:
    """``[lo, hi]`` widened to multiples of a round step (a quarter of a power of ten
    near the span), so small changes of the data keep the axis still."""
    step = 10.0 ** np.floor(np.log10(hi - lo)) / 4.0
    return float(np.floor(lo / step) * step), float(np.ceil(hi / step) * step)


def _fmt(v: float) -> str:
    """Three decimals, as the plots' axes; a value too small for them as the diagram
    writes it (``4.8e−4``, not ``0.000``)."""
    if v != 0 and abs(v) < 0.0005:
        return fmt(v)
    return f"{v:.3f}".replace("-", "−")


class UnitLines(pg.GraphicsObject):
    """The lines of one quantity for several hidden units, as one scene item.

    ``set_units(x, Y, units)`` draws column ``u`` of ``Y`` (one column per
    unit) against ``x`` for each ``u`` in ``units``, each unit as its own
    polyline with its own pen (`set_pens`). One item per quantity instead of
    one per unit: a trace change costs one ``set_units`` per quantity. The
    painter gets one reused QPolygonF, refilled with each unit's points in turn
    (making a polygon per unit and paint would cost more than drawing them).
    """

    def __init__(self) -> None:
        super().__init__()
        self._x = np.zeros(0)
        self._Y = np.zeros((0, 0))
        self._units: list[int] = []
        self._finite = True
        self._data_rect: QRectF | None = None    # bounds of the drawn points
        self._rect: QRectF | None = None         # ... plus the pen, in data units
        self._buffer = None                      # a reused polygon and its (n, 2) view
        self._pens: dict[int, QPen] = {}
        self._thin: dict[int, tuple[QPen, list]] = {}      # wide pens drawn thin (`thin_passes`)
        self._pad_px = 1.0
        self.antialias = True
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)   # exposedRect

    # -- data and look
    def set_units(self, x: np.ndarray, Y: np.ndarray, units) -> None:
        """Draw ``Y[:, u]`` against ``x`` (n,) for each ``u`` in ``units``; ``Y`` is (n, H)."""
        self.prepareGeometryChange()         # before the bounds change: Qt repaints the old ones
        self._x, self._Y, self._units = x, Y, list(units)
        rect = None
        if len(x) and self._units:
            cols = Y if len(self._units) == Y.shape[1] else Y[:, self._units]
            lo, hi = cols.min(), cols.max()
            self._finite = bool(np.isfinite(lo) and np.isfinite(hi))
            if not self._finite:                  # a blown-up value: bounds of the rest
                ok = cols[np.isfinite(cols)]
                lo, hi = (ok.min(), ok.max()) if ok.size else (np.nan, np.nan)
            if np.isfinite(lo):
                rect = QRectF(float(x[0]), float(lo), float(x[-1] - x[0]), float(hi - lo))
        self._data_rect = rect
        self._rect = None
        self.informViewBoundsChanged()
        self.update()

    def set_pens(self, pens: dict[int, QPen], antialias: bool) -> None:
        """The pen of each unit (cosmetic pens), and whether to antialias."""
        self._pens = pens
        self._thin = {u: thin_passes(pen) for u, pen in pens.items() if pen.widthF() > 1.0}
        self.antialias = antialias
        width = max((p.widthF() for p in pens.values()), default=1.0)
        if width / 2 + 1 != self._pad_px:
            self.prepareGeometryChange()
            self._pad_px = width / 2 + 1
            self._rect = None
        self.update()

    def units(self) -> list[int]:
        """The units this item draws."""
        return list(self._units)

    def pen(self, unit: int) -> QPen:
        return self._pens[unit]

    def drawn(self, unit: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The (x, y) points of the polylines handed to the painter for ``unit``."""
        if unit not in self._units:
            return None
        pts = [xy.copy() for u, _, xy in self._strokes() if u == unit]
        xy = np.concatenate(pts) if pts else np.zeros((0, 2))
        return xy[:, 0], xy[:, 1]

    # -- QGraphicsItem
    def _strokes(self, lo: int = 0, hi: int | None = None):
        """Yield (unit, polygon, its (n, 2) points) for each polyline to draw.

        With finite data that is one polyline per unit, all in one reused
        polygon (valid until the next one is yielded); a non-finite value
        breaks its unit's line into the finite stretches around it. ``lo:hi``
        limits the points to a stretch (what a partial repaint exposes).
        """
        x = self._x[lo:hi]
        if self._finite:
            poly, buf = self._reused(len(x))
            buf[:, 0] = x
            Y = self._Y[lo:hi]
            for u in self._units:
                buf[:, 1] = Y[:, u]
                yield u, poly, buf
            return
        for u in self._units:
            y = self._Y[lo:hi, u]
            ok = np.concatenate([[False], np.isfinite(y), [False]])
            edges = np.flatnonzero(np.diff(ok.astype(np.int8)))
            for a, b in zip(edges[0::2], edges[1::2]):
                poly = pg.functions.create_qpolygonf(int(b - a))
                buf = pg.functions.ndarray_from_qpolygonf(poly)
                buf[:, 0] = x[a:b]
                buf[:, 1] = y[a:b]
                yield u, poly, buf

    def _reused(self, n: int):
        """A reused polygon of ``n`` points and its (n, 2) view."""
        b = self._buffer
        if b is None or len(b[1]) != n:
            poly = pg.functions.create_qpolygonf(n)
            b = self._buffer = (poly, pg.functions.ndarray_from_qpolygonf(poly))
        return b

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        if self._rect is None:
            if self._data_rect is None:
                return QRectF()
            r = QRectF(self._data_rect)
            pixel = view_pixel(self)             # one device pixel in data units
            if pixel is None:
                px, py = self.pixelVectors()
                pixel = (px.length(), py.length()) if px is not None and py is not None else None
            if pixel is not None:
                dx, dy = pixel[0] * self._pad_px, pixel[1] * self._pad_px
                r.adjust(-dx, -dy, dx, dy)
            self._rect = r
        return self._rect

    def viewTransformChanged(self) -> None:  # noqa: N802 (pyqtgraph hook)
        self.prepareGeometryChange()
        self._rect = None                        # the pen's width in data units changed

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):  # noqa: N802 (pyqtgraph)
        r = self._data_rect
        if r is None:
            return (None, None)
        return (r.left(), r.right()) if ax == 0 else (r.top(), r.bottom())

    def paint(self, p, option, *_args) -> None:
        if not len(self._x) or not self._units:
            return          # (nothing to draw; a polygon of no points would crash Qt here)
        p.setRenderHint(p.RenderHint.Antialiasing, self.antialias)
        # Only the points whose segments can reach the exposed rectangle: moving the
        # time cursor exposes two thin strips, so it redraws a few points, not all.
        lo, hi = 0, None
        r = option.exposedRect
        x = self._x
        if len(x) > 2 and not r.isEmpty() and (r.left() > x[0] or r.right() < x[-1]):
            lo = max(0, int(np.searchsorted(x, r.left())) - 1)
            hi = int(np.searchsorted(x, r.right())) + 1
        if lo and any(pen.style() != Qt.PenStyle.SolidLine for pen in self._pens.values()):
            lo = 0      # a dashed polyline's pattern starts at its first point: keep it there
        pen_of, thin = None, None
        for u, poly, xy in self._strokes(lo, hi):
            if u != pen_of:
                pen_of = u
                thin = self._thin.get(u) if self.antialias else None
                p.setPen(self._pens[u] if thin is None else thin[0])
            if thin is None:
                p.drawPolyline(poly)
            else:
                for _ in shifted(p, thin[1]):
                    p.drawPolyline(poly)


class TracePanel(pg.GraphicsLayoutWidget):
    """One plot (``c``, ``h`` or ``gates``) over time, in line or heatmap mode.

    Reads `AppState`; calls only ``state.set_timestep``.
    """

    def __init__(self, state: AppState, panel: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.panel = panel
        self.heatmap = False
        #: The panels shown side by side with this one (itself included): their time
        #: axes make one choice between token labels and step numbers.
        self.row: Callable[[], list[TracePanel]] = lambda: [self]
        if QPixmapCache.cacheLimit() < PIXMAP_CACHE_KB:
            QPixmapCache.setCacheLimit(PIXMAP_CACHE_KB)
        # (short enough that at 1280x800 with 1.2x type the lower tabs and the diagram,
        # at no smaller a zoom of its text, both fit: see MainWindow._resplit_left)
        self.setMinimumSize(160, 100)
        opaque_viewport(self)                   # the theme's background covers it
        self.ci.setContentsMargins(4, 4, 4, 4)
        self.plot: pg.PlotItem = self.addPlot(row=0, col=0)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.showGrid(x=False, y=True, alpha=0.25)     # the cursor marks time
        self.vb: pg.ViewBox = self.plot.getViewBox()
        # The axes (tick text, and the left one's grid across the view) are kept as
        # pixmaps: moving the cursor then blits them instead of replaying their text.
        for name in ("left", "bottom"):
            self.plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

        self.lines: dict[str, UnitLines] = {}    # quantity -> the lines of its units
        self._pool: dict[str, UnitLines] = {}    # every line item ever made
        self._layout: tuple | None = None        # (keys, H, unit) the lines are laid out for
        self.series: list[tuple[str, np.ndarray]] = []
        self._stale_lines = True                 # the trace changed since the lines were set
        self._draft_points = False               # the lines hold a draft's fewer points
        self._stale_image = True                 # ... since the heatmap was set
        self._steps: int | None = None           # T the time axis was set for
        self._y_range: tuple | None = None

        self.image = ImageItem(autoDownsample=True)
        self.image.setZValue(-10)
        self.image.hide()
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(-1.0, 1.0), interactive=False, width=18,
                                        colorMap=colormap(state.theme))
        self.colorbar.setImageItem(self.image)
        self.colorbar.hide()
        self._levels = 1.0

        self.cursor = TimeCursor(self, [self.vb])      # painted over a snapshot of the plot
        self.cursor.moved.connect(self._cursor_dragged)

        self.hover_text = pg.TextItem(anchor=(0, 1))
        self.hover_text.setZValue(30)
        self.hover_dot = pg.ScatterPlotItem(size=10)
        self.hover_dot.setZValue(29)
        for item in (self.hover_text, self.hover_dot):
            item.hide()
            self.plot.addItem(item, ignoreBounds=True)
        self.hover_value: float | None = None
        self._hover_pos = None                   # scene position of the last mouse move
        self._time_ticks: list | None = None
        self._ticks_for: tuple | None = None
        self._left_axis: tuple | None = ("unset",)
        self._title: tuple | None = None
        self._title_widths: dict[tuple, float] = {}     # (html, size, font) -> its width
        self.draft = False                       # 1 px lines while the data changes fast
        self._repaint_pending = False
        self._last_change = QElapsedTimer()
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        order = list(PANELS).index(panel) if panel in PANELS else 0
        self._settle.setInterval(SETTLE_MS + order * SETTLE_STAGGER_MS)
        self._settle.timeout.connect(self._end_draft)

        self.vb.sigXRangeChanged.connect(self._on_x_range)
        self.scene().sigMouseClicked.connect(self._clicked)
        self.scene().sigMouseMoved.connect(self._moved)
        state.trace_changed.connect(self._on_trace)
        state.timestep_changed.connect(self._on_timestep)
        state.unit_changed.connect(self._on_unit)
        state.appearance_changed.connect(self._on_appearance)
        self._on_trace()
        self._on_appearance()
        # the left axis is as wide as its tick labels, measured when it paints: the
        # title's room (`_title_room`) changes with it
        self.plot.getAxis("left").widthChanged.connect(self._on_axis_width)

    # ------------------------------------------------------------------ public

    def line(self, key: str) -> UnitLines:
        """The item that draws the units' lines of quantity ``key``."""
        return self.lines[key]

    def unit_data(self, key: str, unit: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The (x, y) points drawn for quantity ``key`` of ``unit`` (0-based), read back
        from the polylines its item paints; None when that unit is not drawn (another
        unit is selected, or the panel shows the heatmap)."""
        line = self.lines.get(key)
        if line is None or self.heatmap or not line.isVisible():
            return None
        return line.drawn(unit)

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
        if self.isVisible():
            self._refresh()                 # fills in what was skipped while not shown
        else:
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
                self._style_lines()
        self.series = panel_series(self.state.trace, self.panel)
        self._stale_lines = self._stale_image = True
        if self.isVisible():
            self._refresh()
            self._rehover()
        # else: showEvent refreshes

    def showEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().showEvent(ev)
        self._refresh()

    def _refresh(self) -> None:
        """Bring what the panel shows (lines or heatmap, axes, cursor) up to the trace."""
        T = self.state.trace.steps
        if T != self._steps:                     # a new length: show all of it
            self._steps = T
            self.vb.setLimits(xMin=0.5 - 0.02 * T, xMax=T + 0.5 + 0.02 * T)
            self.vb.setXRange(0.5, T + 0.5, padding=0.01)
        if self.heatmap:
            if self._stale_image:
                self._update_image()
        elif self._stale_lines:
            self._update_lines()
        self._update_time_ticks()
        self._apply_mode()
        self._on_timestep(self.state.timestep)
        # apply a range change now: done by the paint itself, it would move the
        # lines during the paint and make Qt paint the panel a second time
        self.vb.prepareForPaint()

    def _update_image(self) -> None:
        self._stale_image = False
        if not self.series:
            return
        img = np.concatenate([arr.T for _, arr in self.series], axis=0)    # (rows, T)
        m = 1.0
        if self.panel == "c":
            peak = float(np.max(np.abs(img))) if img.size else 0.0
            m = max(1.0, float(np.ceil(peak * 10) / 10)) if np.isfinite(peak) else 1.0
        self._levels = m
        self.image.setImage(img, levels=(-m, m), autoLevels=False)
        self.image.setRect(0.5, 0.0, float(img.shape[1]), float(img.shape[0]))
        self.colorbar.setLevels((-m, m))

    def _update_lines(self) -> None:
        """Put the trace into the line items: one `UnitLines.set_units` per quantity."""
        self._stale_lines = False
        trace = self.state.trace
        T, H = trace.steps, trace.hidden_size
        unit = self.state.unit if 0 <= self.state.unit < H else -1
        keys = tuple(k for k, _ in self.series)
        if self._layout != (keys, H, unit):
            self._rebuild_lines(keys, H, unit)
        lo, hi, columns = 0, T, T
        if T > CLIP_FROM_STEPS:                  # only what is in view, ~2 points per pixel
            (x0, x1), _ = self.vb.viewRange()
            lo = int(np.clip(np.floor(x0) - 2, 0, T))
            hi = int(np.clip(np.ceil(x1) + 1, lo + 1, T))
            columns = max(1, int(self.vb.width()))
        if self.draft:                           # a draft: fewer points (see DRAFT_PX_PER_POINT)
            columns = max(1, min(columns, int(self.vb.width()) // (2 * DRAFT_PX_PER_POINT)))
        self._draft_points = self.draft and hi - lo > 2 * columns
        units = range(H) if unit < 0 else (unit,)
        for key, arr in self.series:
            x, Y = peak_decimate(arr, lo, hi, columns)
            self.lines[key].set_units(x, Y, units)

    def paintEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().paintEvent(ev)
        if self._repaint_pending:             # the change is on screen: start the clock now
            self._repaint_pending = False
            self._last_change.start()

    def _end_draft(self) -> None:
        if self.draft:
            self.draft = False
            self._style_lines()
            if self._draft_points and not self.heatmap:
                self._update_lines()            # every point again

    def _on_x_range(self, *_args) -> None:
        self._update_time_ticks()
        if self._steps is not None and self._steps > CLIP_FROM_STEPS and not self.heatmap:
            self._update_lines()                # decimated for the new view

    def _update_time_ticks(self) -> None:
        """Token labels on the time axis when all visible ones fit, else step numbers."""
        st = self.state
        labels = st.labels
        (x0, x1), _ = self.vb.viewRange()
        # One choice for the whole row: a token "1" next to a step number 1 misleads.
        width = min(max(1, p.vb.width()) for p in self.row() if p is self or not p.isHidden())
        font = scaled_font(st.theme, st.font_scale, 0.85)
        inputs = (labels, x0, x1, width, font.key())
        if inputs == self._ticks_for:           # nothing they depend on changed (a drag)
            return
        self._ticks_for = inputs
        lo, hi = max(0, int(np.ceil(x0 - 1))), min(len(labels), int(np.floor(x1)))
        shown = labels[lo:hi]
        fits = False
        if shown and hi > lo:
            fm = QFontMetrics(font)
            widest = max(fm.horizontalAdvance(t) for t in set(shown)) + fm.horizontalAdvance("  ")
            fits = widest * (x1 - x0) <= width
        ticks = [[(t + 1.0, labels[t]) for t in range(lo, hi)]] if fits else None
        if ticks != self._time_ticks:
            self._time_ticks = ticks
            axis = self.plot.getAxis("bottom")
            axis.setTicks(ticks)
            axis.setLabel("input" if fits else "step", color=st.theme.foreground)

    def resizeEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(ev)
        if hasattr(self, "_title_widths") and self.series:
            self._set_title()                   # (the units may fit again, or no longer)
        if hasattr(self, "_ticks_for"):         # not during construction
            for p in self.row():                # the row's narrowest decides for all
                if hasattr(p, "_ticks_for"):
                    p._update_time_ticks()
            if (self._steps or 0) > CLIP_FROM_STEPS and not self.heatmap:
                self._stale_lines = True        # decimated for the new width
                if self.isVisible():
                    self._update_lines()

    def _on_axis_width(self) -> None:
        if self.series:
            self._set_title()

    def _rebuild_lines(self, keys: tuple[str, ...], H: int, unit: int) -> None:
        """Choose the line items for new quantities, H or selected unit.

        Items are pooled, never removed: ones not needed now are emptied and
        hidden, so switching models creates no churn.
        """
        for key, item in self.lines.items():
            if key not in keys:
                item.set_units(np.zeros(0), np.zeros((0, 0)), ())
                item.hide()
        self.lines = {}
        for key in keys:
            c = self._pool.get(key)
            if c is None:
                c = self._pool[key] = UnitLines()
                c.setZValue(10 if key in ("c", "h") else 5)
                self.plot.addItem(c)
            self.lines[key] = c
        self._layout = (keys, H, unit)
        self._style_lines()

    def _apply_mode(self) -> None:
        heat = self.heatmap
        self.image.setVisible(heat)
        for c in self.lines.values():
            c.setVisible(not heat)
        rows = sum(a.shape[1] for _, a in self.series)
        if heat:
            self._set_y_range(0.0, float(max(rows, 1)), 0.0)
            H = self.state.trace.hidden_size
            if self.panel == "gates":         # a band of H rows per gate, named
                ticks = [[(H * k + H / 2, unicode_subscripts(_PLAIN.get(key, key)))
                          for k, (key, _) in enumerate(self.series)]]
            else:
                step = max(1, H // 8)
                ticks = [[(u + 0.5, str(u + 1)) for u in range(0, H, step)]]
            self._set_left_axis(ticks, "unit" if self.panel != "gates" else "")
        else:
            self._set_left_axis(None, "")
            if self.panel == "c":
                self._set_y_range(*self._line_range(), 0.08)
            elif self.panel == "gates" and self.state.options.forget_activation == "relu":
                lo, hi = self._line_range()          # a ReLU forget gate goes past 1
                self._set_y_range(min(lo, -1.0), max(hi, 1.0), 0.06)
            else:
                self._set_y_range(-1.0, 1.0, 0.06)
        self._set_title()

    def _set_y_range(self, lo: float, hi: float, padding: float) -> None:
        """Set the y range only when it changes (each change redraws the axis)."""
        if (lo, hi, padding) != self._y_range:
            self._y_range = (lo, hi, padding)
            self.vb.setYRange(lo, hi, padding=padding)

    def _set_left_axis(self, ticks, label: str) -> None:
        """Ticks and label of the y axis, only when they change (each change redraws the axis)."""
        if (ticks, label) == self._left_axis:
            return
        self._left_axis = (ticks, label)
        left = self.plot.getAxis("left")
        left.setTicks(ticks)
        left.setLabel(label)

    def _line_range(self) -> tuple[float, float]:
        """The y range of the shown lines, widened to round numbers (see `nice_range`)."""
        unit = self.state.unit
        vals = [a if unit < 0 else a[:, unit] for _, a in self.series]
        if not vals:
            return -1.0, 1.0
        finite = [v[np.isfinite(v)] for v in vals]
        finite = [v for v in finite if v.size]
        if not finite:
            return -1.0, 1.0
        lo = min(float(np.min(v)) for v in finite)
        hi = max(float(np.max(v)) for v in finite)
        lo, hi = min(lo, -0.1), max(hi, 0.1)
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return -1.0, 1.0
        return nice_range(lo, hi)

    def _on_timestep(self, t: int) -> None:
        self.cursor.set_value(t + 1)

    def _on_unit(self, _u: int) -> None:
        self._stale_lines = True                # the selected unit has a line of its own
        if self.isVisible():
            self._refresh()
            self._rehover()

    def _on_appearance(self) -> None:
        th: Theme = self.state.theme
        scale = self.state.font_scale
        self.setBackground(th.background)
        tick_font = scaled_font(th, scale, 0.85)
        style_axes((self.plot.getAxis(n) for n in ("left", "bottom")), th, tick_font,
                   tick_offset=max(3, round(4 * scale)))
        self._time_ticks = ["redo"]                 # font or colour changed: redo the labels
        self._ticks_for = None
        self._update_time_ticks()
        style_axes((self.colorbar.getAxis(n) for n in ("left", "right")), th, tick_font)
        self.colorbar.setColorMap(colormap(th))
        self.colorbar.setLevels((-self._levels, self._levels))
        self.cursor.set_theme(th)
        self.hover_text.setColor(th.foreground)
        self.hover_text.fill = pg.mkBrush(th.background)
        self.hover_text.border = pg.mkPen(th.foreground)
        self.hover_text.setFont(scaled_font(th, scale, 0.9, bold=True))
        self.hover_dot.setPen(pg.mkPen(th.foreground, width=2))
        self.hover_dot.setBrush(pg.mkBrush(th.background))
        self._style_lines()
        self._set_title()

    def _style_lines(self) -> None:
        """Pens for the lines, and how they are drawn.

        Wide antialiased lines are slow to stroke, so each line item is kept
        as a pixmap (moving the cursor or animating the diagram then only
        blits it), and lines are drawn wide only when there are few of them:
        with many units (all units of a wide layer) or many points in all,
        they are 1 px wide, which Qt strokes fast (the heatmap is the better
        overview then anyway), and solid when there are more units than dash
        styles. While a drag changes the data many times a second (`draft`),
        lines are 1 px, uncached and not antialiased, until the settled redraw.
        """
        if self._layout is None:
            return
        th = self.state.theme
        keys, H, unit = self._layout
        n_units = len(keys) * H if unit < 0 else len(keys)
        points = n_units * self.state.trace.steps
        thin = n_units > MAX_CACHED_LINES or points > MAX_WIDE_POINTS
        width = 1.0 if thin or self.draft else th.line_width * (1.5 if unit >= 0 else 1.0)
        cache = (QGraphicsItem.CacheMode.NoCache if thin or self.draft
                 else QGraphicsItem.CacheMode.DeviceCoordinateCache)
        smooth = bool(pg.getConfigOption("antialias")) and not self.draft
        solid = unit >= 0 or n_units > MAX_CACHED_LINES
        units = range(H) if unit < 0 else (unit,)
        for key, c in self.lines.items():
            c.setCacheMode(cache)
            pens = {}
            for u in units:
                pen = QPen(th.gate_color(key))
                pen.setWidthF(width)
                pen.setCosmetic(True)
                pen.setStyle(Qt.PenStyle.SolidLine if solid else UNIT_STYLES[u % len(UNIT_STYLES)])
                pens[u] = pen
            c.set_pens(pens, smooth)

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
        # (a heatmap's axes say units and time; the title keeps to what is shown)
        units = "" if self.heatmap else f" <span style='color:{th.muted}'>· {where}</span>"
        c = self.state.trace.c
        warn = ""
        if self.panel == "c" and self.series and c is not None and self.series[0][1] is not c:
            warn = f" <span style='color:{th.gate_color('f').name()}'><b>⚠ clipped ±10⁶</b></span>"
        html = title + units + warn
        if units and not self._title_fits(html, size):
            html = title + warn             # a narrow panel: the units are in the key above
        if (html, size, th.foreground) != self._title:       # setTitle re-lays out the plot
            self._title = (html, size, th.foreground)
            self.plot.setTitle(html, size=size, color=th.foreground)
            # The title may be cut at the plot's edges in a narrow panel; as a minimum
            # width it would push the plot (and a heatmap's colour bar) out of the panel.
            self.plot.titleLabel.setMinimumWidth(0)
            # pyqtgraph fits its layout to the panel only on a resize: a shorter title
            # (the units dropped) must give back the width the longer one took
            for layout in (self.plot.layout, self.ci.layout):   # (their cached minimum
                layout.invalidate()                             # is the longer title's)
            self.ci.setGeometry(self.range)

    def _title_fits(self, html: str, size: str) -> bool:
        """Whether the title ``html`` at font size ``size`` fits the space it has.

        pyqtgraph puts the title over the view box, right of the left axis, and draws
        it with its text item's margins. Compared with the whole panel's width, a title
        up to an axis wider was taken to fit: it was cut at the panel's edge ("· all
        unit"), and as the label's minimum width it widened the plot past the panel.
        """
        key = (html, size, self.font().key())
        width = self._title_widths.get(key)
        if width is None:
            doc = QTextDocument()
            doc.setDocumentMargin(0)
            doc.setDefaultFont(self.font())
            doc.setHtml(f"<span style='font-size:{size}'>{html}</span>")
            if len(self._title_widths) > 64:
                self._title_widths.clear()
            width = self._title_widths[key] = doc.idealWidth()
        label = self.plot.titleLabel
        margins = 2 * label.item.document().documentMargin()
        return width + margins + 2 <= self._title_room()

    def _title_room(self) -> float:
        """The width of the title's column: the panel less the layouts' margins, the left
        axis (its width is fixed to its tick labels) and a heatmap's colour bar."""
        left, _, right, _ = self.ci.layout.getContentsMargins()
        p_left, _, p_right, _ = self.plot.layout.getContentsMargins()
        room = self.width() - left - right - p_left - p_right
        axis = self.plot.getAxis("left")
        if axis.isVisible():
            room -= axis.minimumWidth()
        if self.colorbar.isVisible():
            room -= self.colorbar.minimumWidth() + self.ci.layout.horizontalSpacing()
        return room

    # ------------------------------------------------------------------ view -> state

    def _step_at(self, x: float) -> int:
        return step_at(x, self.state.trace.steps)

    def _cursor_dragged(self, x: float) -> None:
        self.state.set_timestep(self._step_at(x))

    def _clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        pos = ev.scenePos()
        if not self.vb.sceneBoundingRect().contains(pos):
            return
        self.state.set_timestep(self._step_at(self.vb.mapSceneToView(pos).x()))

    def _moved(self, pos) -> None:
        self._hover_pos = pos
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
        self.setToolTip(f"step {t + 1}, {unit_txt}: "
                        f"{unicode_subscripts(_PLAIN.get(key, key))} = {_fmt(value)}")

    def _hide_hover(self) -> None:
        if self.hover_text.isVisible():
            self.hover_text.hide()
            self.hover_dot.hide()
            self.hover_value = None
            self.setToolTip("")             # off the plot, the last point's numbers are gone

    def _rehover(self) -> None:
        """After the numbers or the unit changed under a resting mouse: the hover label
        and the tool tip say the new value (or go, if that line is no longer drawn)."""
        if self.hover_text.isVisible() and self._hover_pos is not None:
            self._moved(self._hover_pos)

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
            p.row = self._row
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

    def _row(self) -> list[TracePanel]:
        return list(self.panels.values())

    def _update_legend(self, *_args) -> None:
        """One line naming the line style of each unit (shown when all units are drawn)."""
        st = self.state
        H = st.trace.hidden_size
        font = scaled_font(st.theme, st.font_scale, 0.95)
        if font != self.legend.font():          # a new font re-lays out the window
            self.legend.setFont(font)
        shown = st.unit < 0 and not self.heatmap and 1 < H <= MAX_LEGEND_UNITS
        if shown != self.legend.isVisibleTo(self):
            self.legend.setVisible(shown)
        parts = [f"{UNIT_STYLE_GLYPHS[u % len(UNIT_STYLE_GLYPHS)]} {st.unit_label(u)}"
                 for u in range(min(H, MAX_LEGEND_UNITS))]
        text = "Lines:   " + "     ".join(parts)
        if text != self.legend.text():
            self.legend.setText(text)

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
            shown = bool(p.series) and (only is None or key == only)
            if shown != p.isVisibleTo(self):
                p.setVisible(shown)

    def visible_panels(self) -> list[str]:
        return [k for k, p in self.panels.items() if not p.isHidden()]


__all__ = ["PANELS", "TracePanel", "TracePlots", "UnitLines", "nice_range", "panel_series",
           "peak_decimate"]
