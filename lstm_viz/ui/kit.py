"""Small pieces several views share: a quiet log plot, themed axes, the step under x,
a side panel that scrolls instead of cutting its text off, a heading that shortens in a
narrow panel, a cheap wrapped text line
for numbers that change on every step or edit, widgets that repaint alone, a plot's
key above it, and a colour-mapped image, wide lines and markers that Qt draws fast."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QElapsedTimer, QEvent, QObject, QPoint, QRectF, Qt, QTimer
from PySide6.QtGui import (QColor, QFont, QImage, QPainter, QPalette, QPen, QPixmap,
                           QStaticText, QTextDocument, QTextOption, QTransform)
from PySide6.QtWidgets import (QFrame, QGraphicsItem, QGraphicsPathItem, QLabel, QScrollArea,
                               QSizePolicy, QToolTip, QVBoxLayout, QWidget)

from .theme import scaled_font


def step_at(x: float, steps: int) -> int:
    """The 0-based step nearest plot coordinate ``x`` (steps are drawn at 1 .. T), clamped."""
    return int(np.clip(np.floor(x + 0.5) - 1, 0, steps - 1))


class ImageItem(pg.ImageItem):
    """A pyqtgraph ImageItem whose colour-mapped picture is kept in 32-bit colour.

    pyqtgraph keeps an image it maps through a lookup table as 8-bit indices
    with a colour table, and Qt's raster engine draws such an image scaled up
    ~10x slower than a 32-bit one (0.6 against 0.06 ms for an 8 x 8 weight
    matrix at 376 px), on every repaint. Converted once per new picture here.
    """

    def render(self, *args, **kwargs) -> None:
        super().render(*args, **kwargs)
        q = self.qimage
        if q is not None and q.format() == QImage.Format.Format_Indexed8:
            self.qimage = q.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied
                                            if q.hasAlphaChannel() else QImage.Format.Format_RGB32)


def thin_passes(pen: QPen) -> tuple[QPen, list[tuple[int, int]]]:
    """A 1 px pen like ``pen`` (a wider cosmetic pen) and the device-pixel shifts at which
    drawing a line with it covers what ``pen`` covers.

    Qt strokes a wide antialiased line as an outline its rasteriser fills slowly
    (about 0.8 ms per 100 points here); a 1 px antialiased line takes its fast
    path, so a few shifted copies draw ~2.5x faster and look the same. The dash
    pattern is stretched to the wide pen's lengths (Qt gives them in pen widths),
    and all copies share it, so dashes run on along the whole line.
    """
    w = pen.widthF()
    if w < 3.0:                                 # a 2 x 2 square of copies: about 2 px of ink
        shifts = [(0, 0), (1, 0), (0, 1), (1, 1)]
    else:                                       # the pixels of a disk as wide as the pen
        r = (w - 1.0) / 2.0
        shifts = [(dx, dy) for dx in range(-3, 4) for dy in range(-3, 4)
                  if dx * dx + dy * dy <= r * r + 1e-9]
    thin = QPen(pen)
    thin.setWidthF(1.0)
    if pen.style() != Qt.PenStyle.SolidLine:
        pattern = pen.dashPattern()             # in units of the wide pen's width
        extra = w - 1.0                         # its square caps lengthen each dash
        thin.setDashPattern([v * w + extra if k % 2 == 0        # a dash, and its caps
                             else max(1.0, v * w - extra)        # a gap, less the caps
                             for k, v in enumerate(pattern)])
    return thin, shifts


def shifted(painter: QPainter, shifts):
    """Yield once per (dx, dy) in ``shifts`` with ``painter`` moved by that many device
    pixels (draw the same thing each time: `thin_passes`); restores its transform."""
    base = painter.transform()
    try:
        for dx, dy in shifts:
            painter.setTransform(base * QTransform.fromTranslate(dx, dy))
            yield
    finally:
        painter.setTransform(base)


#: A data change this soon (ms) after the previous one means the user is dragging (or
#: typing): lines are drawn as drafts, 1 px wide and not antialiased (a few times
#: faster), until the changes have paused for SETTLE_MS, then redrawn in full.
DRAFT_WITHIN_MS = 500
SETTLE_MS = 250
#: Idle time (ms) after a step is shown before the views prepare the steps beside it.
PREFETCH_MS = 60


def view_pixel(item) -> tuple[float, float] | None:
    """The width and height of one pixel in ``item``'s coordinates, from its view box's
    range and size, when the item sits in the view box's data untransformed (as a plot's
    lines do); else None (ask pyqtgraph's ``pixelVectors``, which goes through the
    device transform: ~0.1 ms, on every new bounding rectangle)."""
    vb = item.getViewBox()
    if (vb is None or item.parentItem() is not vb.childGroup or not item.pos().isNull()
            or not item.transform().isIdentity()):
        return None
    w, h = vb.width(), vb.height()
    if w <= 0 or h <= 0:
        return None
    view = vb.viewRect()
    return view.width() / w, view.height() / h


class _ThinCurve(pg.PlotCurveItem):
    """A PlotCurveItem that draws a wide antialiased pen as `thin_passes` copies
    (or, as a draft, once at 1 px: `set_draft`)."""

    _draft = False

    def set_draft(self, on: bool) -> None:
        if on != self._draft:
            self._draft = on
            self.update()

    @property
    def draft(self) -> bool:
        return self._draft

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        """pyqtgraph's rectangle (the data's bounds grown by the pen's padding), in a few
        NumPy calls, with a pixel's size read off the view box's range: the gradient
        views' curves get new data on every edit, and pyqtgraph's own way (bounds
        through its cache and warning filters, the pixel through the device
        transform) took ~1 ms a drag frame over their four curves. Where its way
        would differ (a fill, steps, an item moved or scaled, infinite data) it is used."""
        if self._boundingRect is not None:
            return self._boundingRect
        x, y = self.xData, self.yData
        pixel = view_pixel(self)
        if (x is None or y is None or not len(x) or len(x) != len(y) or pixel is None
                or self.opts.get("fillLevel") is not None or self.opts.get("stepMode")):
            return super().boundingRect()
        bounds = [float(f(a)) for a in (x, y) for f in (np.fmin.reduce, np.fmax.reduce)]
        if any(math.isinf(b) for b in bounds):
            return super().boundingRect()
        if any(b != b for b in bounds):                         # all NaN: nothing drawn
            return QRectF()
        xmn, xmx, ymn, ymx = bounds
        pad = self.pixelPadding()
        px, py = pad * pixel[0], pad * pixel[1]
        self._boundingRect = QRectF(xmn - px, ymn - py, xmx - xmn + 2 * px, ymx - ymn + 2 * py)
        return self._boundingRect

    def paint(self, p, opt, widget=None) -> None:
        pen = self.opts["pen"]
        draft = self._draft and isinstance(pen, QPen)
        if not draft and not (isinstance(pen, QPen) and pen.isCosmetic() and pen.widthF() > 1.0
                              and self.opts.get("antialias") and self.opts.get("fillLevel") is None
                              and self.opts.get("shadowPen") is None and self._exportOpts is False):
            super().paint(p, opt, widget)
            return
        if self.xData is None or len(self.xData) == 0:
            return
        path = self.getPath()           # pyqtgraph's cached path (breaks where connect says)
        if draft:
            if getattr(self, "_draft_of", None) is not pen:
                self._draft_of, self._draft_pen = pen, QPen(pen)
                self._draft_pen.setWidthF(1.0)
                self._draft_pen.setCosmetic(True)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            p.setPen(self._draft_pen)
            p.drawPath(path)
            return
        if getattr(self, "_thin_of", None) is not pen:      # setPen gives a new pen object
            self._thin_of, self._thin = pen, thin_passes(pen)
        thin, shifts = self._thin
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(thin)
        for _ in shifted(p, shifts):
            p.drawPath(path)


class Bars(QGraphicsPathItem):
    """Vertical bars up from 0, one per x, ``width`` wide (in x units), as one filled path.

    Qt draws it alone: pyqtgraph's BarGraphItem runs Python on every new set of
    heights and on every paint (~0.6 ms a frame for 100 bars here, where
    `set_bars` and Qt's drawing take a fraction of that). ``values`` holds the
    (x, heights) last given, as given; style it with ``setPen`` (cosmetic) and
    ``setBrush``. Add it with ``plot.addItem(bars)`` and set the y range yourself.
    """

    def __init__(self, width: float = 0.7) -> None:
        super().__init__()
        self.width = float(width)
        self.values = (np.zeros(0), np.zeros(0))

    def set_bars(self, x, heights, cap: float = 1e12) -> None:
        """Bars of ``heights`` at ``x``. A NaN height is drawn as 0; heights beyond ±``cap``
        (infinite ones too) are drawn at ±``cap``: give a cap above the plot's top and such a
        bar runs off it (a path of huge numbers is not drawable)."""
        x = np.asarray(x, dtype=float)
        heights = np.asarray(heights, dtype=float)
        self.values = (x, heights)
        cap = min(float(cap), 1e300)
        h = np.clip(np.nan_to_num(heights, nan=0.0, posinf=cap, neginf=-cap), -cap, cap)
        half = self.width / 2
        # each bar: 0 → up the left side → across → down → back along 0, then a break
        xs = np.repeat(x[:, None], 5, axis=1) + np.array([-half, -half, half, half, -half])
        ys = np.zeros((x.size, 5))
        ys[:, 1:3] = h[:, None]
        connect = np.ones((x.size, 5), dtype=bool)
        connect[:, 4] = False
        self.setPath(pg.arrayToQPath(xs.ravel(), ys.ravel(), connect=connect.ravel()))


class Marker(QGraphicsPathItem):
    """One symbol (pyqtgraph's shapes, ``size`` pixels across) at one point of a plot.

    Qt draws it alone: a one-point pyqtgraph ScatterPlotItem runs its Python on
    every new position and every paint. Add it with ``plot.addItem(m, ignoreBounds=True)``;
    on a log axis give ``set_point`` the axis value (the log10).
    """

    def __init__(self, size: float = 14.0, symbol: str = "star") -> None:
        from pyqtgraph.graphicsItems.ScatterPlotItem import Symbols

        super().__init__(QTransform.fromScale(size, size).map(Symbols[symbol]))
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.hide()

    def set_point(self, x: float | None, y: float | None = None) -> None:
        """Put the symbol at (x, y) in the plot's coordinates; None hides it."""
        if x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
            self.hide()
            return
        self.setPos(float(x), float(y))
        self.show()


class Curve(pg.PlotDataItem):
    """A pyqtgraph PlotDataItem (same arguments) whose line, when wide and antialiased,
    is drawn as a few 1 px copies (`thin_passes`): ~2.5x faster to repaint, which the
    gradient plots do on every edit."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        old = self.curve
        old.setParentItem(None)
        self.curve = _ThinCurve()
        self.curve.setParentItem(self)
        self.curve.sigClicked.connect(self.sigClicked)
        if args or "x" in kwargs or "y" in kwargs:
            self.updateItems(styleUpdate=True)


class LogCurve(_ThinCurve):
    """A line on a log-y plot (`log_plot_widget`), set from plain values.

    pyqtgraph's PlotDataItem takes the log10 itself, but each of its ``setData``
    calls runs ~0.27 ms of Python (datasets, bounds, log mapping) against
    ~0.04 ms for the PlotCurveItem underneath, and the gradient views set
    several curves on every edit. This is that PlotCurveItem (wide lines drawn
    as in `Curve`): `set_values` takes the log10 once and hands it over. A value
    that is not finite and > 0 has no place on a log axis and is a gap.
    ``values`` holds the (x, y) last given, as given.
    """

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("connect", "finite")
        super().__init__(**kwargs)
        self.values = (np.zeros(0), np.zeros(0))

    def set_values(self, x, y, connect="finite") -> None:
        """Draw (x, y) on the log axis; ``connect`` as PlotCurveItem's (default: break at gaps)."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        self.values = (x, y)
        shown = np.full(y.shape, np.nan)
        ok = np.isfinite(y) & (y > 0)
        np.log10(y, out=shown, where=ok)
        self.setData(x, shown, connect=connect)


class IdleWork(QObject):
    """Runs ``fn`` once the event loop has been free of `poke` calls for ``delay_ms``.

    For work that makes the *next* action fast (laying out the step after the one
    shown): stepping quickly keeps restarting the wait, so it never competes with the
    steps themselves; between a teacher's key presses it runs.
    """

    def __init__(self, parent: QObject, fn, delay_ms: int) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(int(delay_ms))
        self._timer.timeout.connect(fn)

    def poke(self) -> None:
        self._timer.start()


class CurveDrafts(QObject):
    """Draws ``curves`` (`LogCurve` or `Curve`'s line) as drafts while their data changes fast.

    Call `changed` with each new data. A change within DRAFT_WITHIN_MS of the
    previous one is a drag: the curves are drawn once, 1 px wide (a wide
    antialiased line is several passes), until the changes pause for
    ``settle_ms``; then they are drawn in full again. The trace panels do the
    same with their lines.
    """

    def __init__(self, parent: QObject, curves, settle_ms: int = SETTLE_MS) -> None:
        super().__init__(parent)
        self.curves = list(curves)
        self.draft = False
        self._last = QElapsedTimer()
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(settle_ms)
        self._settle.timeout.connect(lambda: self._set(False))

    def changed(self) -> None:
        fast = self._last.isValid() and self._last.elapsed() < DRAFT_WITHIN_MS
        self._last.start()
        if fast:
            self._settle.start()
            self._set(True)

    def _set(self, on: bool) -> None:
        if on != self.draft:
            self.draft = on
            for c in self.curves:
                c.set_draft(on)


#: A pen style written as text, for keys in labels.
STYLE_GLYPHS = {Qt.PenStyle.SolidLine: "━━", Qt.PenStyle.DashLine: "╌╌", Qt.PenStyle.DotLine: "┈┈"}


def key_label(parent: QWidget, name: str) -> QLabel:
    """A plot's key as a centred, word-wrapped label to put above the plot.

    Inside the plot, a legend covers some curve whatever corner it takes once
    the plot is short (a laptop's window); above it, it covers nothing.
    """
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
    label.setAccessibleName(name)
    return label


def keyed(key: QLabel, plot: QWidget) -> QVBoxLayout:
    """A column of ``key`` above ``plot`` (the plot takes the height left)."""
    col = QVBoxLayout()
    col.setContentsMargins(0, 0, 0, 0)
    col.setSpacing(0)
    col.addWidget(key)
    col.addWidget(plot, 1)
    return col


def key_html(entries) -> str:
    """One line of samples for `key_label`: ``entries`` are (colour, pen style,
    marker text or "", name); each sample is its line style (and marker) in its colour."""
    return " &nbsp; ".join(
        f"<span style='color:{color}'>{STYLE_GLYPHS.get(style, '━━')}{marker}</span>&nbsp;{name}"
        for color, style, marker, name in entries)


def log_plot_widget(parent: QWidget) -> tuple[pg.PlotWidget, pg.PlotItem]:
    """A PlotWidget with a log y axis, no context menu, no auto-range button and no
    SI prefix on the axis (a log axis would read "(x0.001)")."""
    widget = pg.PlotWidget(parent)
    widget.setMinimumSize(300, 160)
    plot = widget.getPlotItem()
    plot.hideButtons()
    plot.setMenuEnabled(False)
    plot.setLogMode(x=False, y=True)
    plot.getAxis("left").enableAutoSIPrefix(False)
    decade_labels_only(plot)
    return widget, plot


def decade_labels_only(plot: pg.PlotItem) -> None:
    """Write numbers only at whole decades of a log y axis.

    Over a span of a decade or two pyqtgraph labels every 2×, 3×, … 9× tick as well
    (they are its only tick level then), and the labels crowd into one smudge. Here
    the whole decades become the first level, the only one with text.
    """
    axis = plot.getAxis("left")

    def ticks(min_val, max_val, size, std_ticks):
        levels = pg.AxisItem.logTickValues(axis, min_val, max_val, size, std_ticks)
        if levels and levels[0][0] is not None:
            return levels                       # pyqtgraph's own decade levels
        decades = [float(v) for v in range(math.ceil(min_val), math.floor(max_val) + 1)]
        return [(1.0, decades), *levels]

    axis.logTickValues = ticks
    axis.setStyle(maxTextLevel=0)


def set_log_y(plot: pg.PlotItem, lo: float, hi: float) -> None:
    """Show log10 values ``lo .. hi`` on a log plot: the range snapped outward to half
    decades (at least one decade), and set only when that changes.

    Every new range regenerates and repaints the axes' ticks and text, a large
    part of a frame; snapped, a drag that moves the data a little leaves them be.
    """
    if not (np.isfinite(lo) and np.isfinite(hi)):
        lo, hi = -3.0, 0.0
    lo_r, hi_r = math.floor(lo * 2) / 2, math.ceil(hi * 2) / 2
    _set_y(plot, lo_r, max(hi_r, lo_r + 1.0), 0.04)


DISPLAY_LIMIT = 1e6
"""Cell states beyond this size (or inf) are drawn at it, and the view says so: an
experiment such as a ReLU forget gate can make them grow without bound (the trace
plots, the diagram's wires and the strip share it)."""


def argb_image(argb: np.ndarray) -> QImage:
    """A (rows, columns) array of 0xAARRGGBB colours as an image of a pixel each, for
    painting scaled up unsmoothed (per-unit strips: `Theme.value_argb`)."""
    h, w = argb.shape
    data = np.ascontiguousarray(argb, dtype=np.uint32).tobytes()
    return QImage(data, w, h, 4 * w, QImage.Format.Format_RGB32).copy()


AXIS_LIMIT = 1e300
"""The largest value a linear axis or colour bar is given (see `nice_limit`)."""


def nice_limit(m: float) -> float:
    """The smallest of 1, 2, 5 × 10^k that is at least ``m`` (1 for 0 or non-finite), and
    never above `AXIS_LIMIT`: pyqtgraph's axes and colour bars overflow on a range that
    spans more than the largest float (an exploding experiment reaches 1e308)."""
    if not np.isfinite(m) or m <= 0:
        return 1.0
    if m >= AXIS_LIMIT:
        return AXIS_LIMIT
    k = np.floor(np.log10(m))
    for f in (1.0, 2.0, 5.0, 10.0):
        if f * 10.0 ** k >= m * (1 - 1e-12):
            return float(f * 10.0 ** k)
    return float(10.0 ** (k + 1))


def set_y_top(plot: pg.PlotItem, top: float) -> None:
    """Show ``0 .. top`` on a linear plot, the top rounded up by `nice_limit`, and set
    only when that changes (see `set_log_y`)."""
    _set_y(plot, 0.0, nice_limit(top), 0.05)


def _set_y(plot: pg.PlotItem, lo: float, hi: float, padding: float) -> None:
    if getattr(plot, "_kit_y_range", None) != (lo, hi, padding):
        plot._kit_y_range = (lo, hi, padding)
        plot.setYRange(lo, hi, padding=padding)


def style_axes(axes, theme, font, tick_offset: int | None = None) -> None:
    """Pen, tick text and label font of pyqtgraph axes in ``theme``'s foreground.

    The axes are also kept as pixmaps: a change of the curves inside the plot
    (which the left axis' grid lines cross) then blits them instead of replaying
    every tick label.
    """
    for ax in axes:
        ax.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        ax.setPen(pg.mkPen(theme.foreground, width=1))
        ax.setTextPen(pg.mkPen(theme.foreground))
        if tick_offset is None:
            ax.setStyle(tickFont=font)
        else:
            ax.setStyle(tickFont=font, tickTextOffset=tick_offset)
        ax.label.setFont(font)


def style_panel(panel: QWidget, title: QLabel, hints, theme, scale: float) -> None:
    """The side panels' type: every widget of ``panel`` at the text size, ``title`` larger
    and bold, the ``hints`` (what to look for, what a control does) smaller and muted."""
    font = scaled_font(theme, scale)
    for w in panel.findChildren(QWidget):
        w.setFont(font)
    title.setFont(scaled_font(theme, scale, 1.25, bold=True))
    for hint in hints:
        hint.setFont(scaled_font(theme, scale, 0.92))
        hint.setStyleSheet(f"color: {theme.muted};")


class _UpDownScroll(QScrollArea):
    """A scroll area never narrower than its widget's minimum width (plus the vertical
    scroll bar): wrapped text then scrolls up and down, and a row of controls is not
    pushed sideways out of sight when the layout around it is short of room."""

    def minimumSizeHint(self):  # noqa: N802 (Qt override)
        hint = super().minimumSizeHint()
        w = self.widget()
        if w is not None:
            need = (w.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width()
                    + 2 * self.frameWidth())
            hint.setWidth(max(hint.width(), need))
        return hint

    _min_width = -1

    def event(self, ev) -> bool:
        if ev.type() == QEvent.Type.LayoutRequest:      # the widget's minimum may have changed
            # Only then does the window around need a new layout: a label's new number
            # (every step of a drag) would otherwise lay out the whole window again.
            width = self.minimumSizeHint().width()
            if width != self._min_width:
                self._min_width = width
                self.updateGeometry()
        return super().event(ev)


def scrolling(widget: QWidget, parent: QWidget) -> QScrollArea:
    """``widget`` in a frameless scroll area: at laptop sizes or large type its text
    scrolls instead of being cut off. The area asks for the widget's minimum width, so
    the panel around it gives way before the widget's controls would."""
    area = _UpDownScroll(parent)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(widget)
    widget.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
    return area


def static_text(text: str, font, width: float = -1.0,
                option: QTextOption | None = None) -> QStaticText:
    """``text`` as plain text laid out once in ``font`` (wrapped at ``width`` if given, with
    ``option``'s alignment), for labels painted again and again: drawStaticText then
    only draws the glyphs."""
    st = QStaticText(text)
    st.setTextFormat(Qt.TextFormat.PlainText)
    st.setTextWidth(width)
    if option is not None:
        st.setTextOption(option)
    st.prepare(QTransform(), font)
    return st


class TextLayouts:
    """Texts laid out by `static_text` for one font and width, the last ``limit`` kept.

    For text painted again and again whose values repeat (a step shown again, a
    weight dragged back): a text seen before is not laid out again. `use` sets
    the font and width (and drops the layouts if they changed); `get` returns a
    text's layout.
    """

    def __init__(self, limit: int = 256, option: QTextOption | None = None) -> None:
        self.limit = limit
        self.option = option
        self._layouts: dict[str, QStaticText] = {}
        self._for: tuple | None = None
        self._font: QFont | None = None
        self._width = -1.0

    def use(self, font: QFont, width: float = -1.0) -> None:
        key = (font.key(), width)
        if key != self._for:
            self._for, self._font, self._width = key, QFont(font), width
            self._layouts.clear()

    def get(self, text: str) -> QStaticText:
        st = self._layouts.get(text)
        if st is None:
            if len(self._layouts) >= self.limit:
                self._layouts.clear()
            st = self._layouts[text] = static_text(text, self._font, self._width, self.option)
        return st


def device_size(widget: QWidget) -> tuple[int, int]:
    """``widget``'s size in device pixels, rounded as Qt rounds it (half up; Python's
    ``round`` takes 1648.5 to 1648, a pixel short of what Qt renders)."""
    dpr = widget.devicePixelRatioF()
    return int(widget.width() * dpr + 0.5), int(widget.height() * dpr + 0.5)


def draw_from(painter: QPainter, region, pixmap: QPixmap) -> None:
    """Draw the part of ``pixmap`` (a snapshot of the widget ``painter`` paints, at its
    device pixel ratio) under each rectangle of ``region`` (widget coordinates).

    The whole pixmap is drawn at the origin, clipped to one rectangle at a time: its
    pixels land where they were rendered at any pixel ratio (cutting a source rectangle
    out at 1.5 or 1.75 would round it a pixel off), and a one-rectangle clip keeps Qt
    on its fast path (a many-rectangle clip is ~50x slower per copy)."""
    for r in region:
        painter.setClipRect(r)
        painter.drawPixmap(QPoint(0, 0), pixmap)
    painter.setClipping(False)


def opaque_viewport(view) -> None:
    """Let a graphics view that paints every pixel of its viewport skip Qt's fill under it.

    QGraphicsView turns on its viewport's autoFillBackground: before each repaint
    Qt fills the area with the palette's colour, and the view then covers it with
    its own background (its cached background pixmap, for ours). Only for views
    whose background is opaque and covers the viewport: a view's (or scene's)
    background brush or `drawBackground` filling the exposed area.
    """
    vp = view.viewport()
    vp.setAutoFillBackground(False)
    vp.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)


class OpaqueBackground(QObject):
    """Makes a widget that changes often paint the window colour under itself.

    A widget Qt does not know to be opaque is repainted by first repainting every
    widget behind it there (the panel, the tabs, the main window: style-sheet
    paints). With this, a new value repaints the widget alone. (On a widget the
    app's style sheet styles, such as a slider or a spin box, autoFillBackground
    is turned off and the polish clears the opaque flag: it is set again at each
    paint.) The window colour must be what is behind the widget.
    """

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        widget.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        widget.installEventFilter(self)

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802 (Qt override)
        if ev.type() == QEvent.Type.Paint:
            obj.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
            p = QPainter(obj)
            p.fillRect(ev.rect(), obj.palette().window())
            p.end()
        return False


class ElidedLabel(QLabel):
    """A one-line label that, when narrower than its text, ends it with "…" instead of
    cutting a word in half; hovering it then shows the whole text.

    ``text()`` stays the whole text. The label asks for no more width than an
    ellipsis, so a long text never widens the window or pushes its neighbours.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def shown_text(self) -> str:
        """The text as painted at the current width."""
        width = self.contentsRect().width()
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, width)

    def is_elided(self) -> bool:
        return self.shown_text() != self.text()

    def minimumSizeHint(self):  # noqa: N802 (Qt override)
        hint = super().minimumSizeHint()
        hint.setWidth(self.fontMetrics().horizontalAdvance("…") * 4)
        return hint

    def paintEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        p.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        p.drawText(self.contentsRect(), int(self.alignment()), self.shown_text())
        p.end()

    def event(self, ev) -> bool:
        if ev.type() == QEvent.Type.ToolTip and self.is_elided():
            tip = self.toolTip()
            more = f"\n\n{tip}" if tip and tip not in self.text() else ""
            QToolTip.showText(ev.globalPos(), self.text() + more, self)
            return True
        return super().event(ev)


class FittingLabel(QLabel):
    """A word-wrapped rich-text label given its text in several lengths, longest first:
    it shows the longest that wraps to at most ``max_lines`` lines at its width (else
    the shortest), so a narrow panel gets a shorter heading instead of a clipped one.
    When it shows a shorter text, hovering it shows the longest.
    """

    def __init__(self, max_lines: int = 3, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.max_lines = max_lines
        self._texts = [""]
        self._doc = QTextDocument()
        self._doc.setDocumentMargin(0)

    def set_texts(self, *texts: str) -> None:
        """The texts this label may show, longest first."""
        self._texts = [t for t in texts if t] or [""]
        self._fit()

    def full_text(self) -> str:
        return self._texts[0]

    def lines(self, text: str, width: float) -> int:
        """How many lines ``text`` wraps to at ``width`` in this label's font."""
        doc = self._doc
        doc.setDefaultFont(self.font())
        doc.setHtml(text)
        doc.setTextWidth(max(1.0, width))
        doc.size()                                   # lays the text out
        n, block = 0, doc.begin()
        while block.isValid():
            n += block.layout().lineCount()
            block = block.next()
        return n

    def _fit(self) -> None:
        width = self.contentsRect().width() - 2 * self.margin() - 4   # a style sheet's padding
        shown = self._texts[-1]
        for t in self._texts[:-1]:
            if self.lines(t, width) <= self.max_lines:
                shown = t
                break
        if shown != self.text():
            self.setText(shown)
        self.setToolTip("" if shown == self._texts[0] else self._texts[0])

    def resizeEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(ev)
        self._fit()

    def changeEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(ev)
        if ev.type() == QEvent.Type.FontChange:
            self._fit()


class NumberLines(QWidget):
    """Plain lines of numbers, painted directly.

    Cheaper than a rich-text QLabel for text that changes on every step: a new
    text is laid out once (a QStaticText wrapped to the width, which both
    sizes the widget and is what paint draws), the layout is asked to change
    only when the number of wrapped lines does, and paint just draws the laid
    out glyphs. The last texts' layouts are kept (`TextLayouts`), so stepping
    back to a step shown before lays nothing out. It paints its own background
    (`set_background`) and is opaque, so a new number does not repaint the
    frames behind it.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self._static = QStaticText()
        self._height = 0
        self._layouts = TextLayouts()
        self._background: QColor | None = None
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_background(self, color: QColor | None) -> None:
        """Fill with ``color`` (then the widget is opaque); None: transparent."""
        self._background = None if color is None else QColor(color)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, color is not None)
        self.update()

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 (QLabel-like)
        if text != self._text:
            self._text = text
            self._fit()
            self.update()

    def prepare(self, text: str) -> None:
        """Lay ``text`` out now, so that showing it later lays nothing out."""
        self._layouts.use(self.font(), max(self.width(), 10))
        self._layouts.get(text)

    def _fit(self) -> None:
        """Lay the text out for the current width and font; fit the height to it."""
        self._layouts.use(self.font(), max(self.width(), 10))
        st = self._static = self._layouts.get(self._text)
        h = math.ceil(st.size().height()) + 2 if self._text else 2
        if h != self._height:
            self._height = h
            self.setFixedHeight(h)

    def resizeEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(ev)
        self._fit()

    def changeEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(ev)
        self._fit()

    def paintEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        if self._background is not None:
            p.fillRect(ev.rect(), self._background)
        p.setFont(self.font())
        p.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        p.drawStaticText(0, 0, self._static)
        p.end()
