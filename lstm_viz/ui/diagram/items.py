"""Generic diagram items: wires, nodes, numbers, labels and the legend.

Every item is told *what* to show (a `Look`: colours, a number, the per-unit strip
colours) by the scene, which prepares looks from arrays precomputed per trace. An item only blends
between its previous and its new look while a step animates (`set_progress`,
called from the animation's slot) and draws; ``paint()`` does no maths beyond
choosing what to draw.

Items know their element key and report hover enter/leave to the scene through
a callback, so hovering a wire, a gate, a number or a label all focus the same
element.

Speed: static geometry (wire outlines, arrow heads) is turned into filled paths
once, so ``paint()`` never strokes; what never changes during a step (the cell
body, the wires' casings and arrow heads) is drawn by the scene's
``drawBackground``, which the view caches as one opaque pixmap; an item is only
marked dirty when its look really changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import (QColor, QFont, QFontMetricsF, QImage, QPainter, QPainterPath,
                           QPainterPathStroker, QPen, QPolygonF, QStaticText, QTextOption,
                           QTransform)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject, QGraphicsTextItem

from ..kit import TextLayouts
from ..theme import Theme, focus_color, scaled_font
from .layout import NodeSpec, WireSpec

#: Hover callback: (element key, entered?)
HoverSink = Callable[[str, bool], None]

# Sizes in scene units.
WIRE_CORE = 7.0
WIRE_CASING = 11.0
GRAD_CASING = 4.0       # gradient mode: the casing is this much wider than the core
HALO = 22.0
ARROW_LEN = 16.0
ARROW_HALF = 9.0
STRIP_CELL = 22.0
STRIP_MAX = 110.0
STRIP_THICK = 22.0
#: A strip's cells shorter than this (device pixels) get no separating lines: many
#: units' thin cells would be mostly lines.
MIN_SEPARATED_CELL_PX = 6.0
HOVER_WIDTH = 24.0


def _outline(path: QPainterPath, width: float, cap=Qt.PenCapStyle.FlatCap) -> QPainterPath:
    """The area a pen of ``width`` covers along ``path`` (filled instead of stroked at paint)."""
    stroker = QPainterPathStroker()
    stroker.setWidth(width)
    stroker.setCapStyle(cap)
    stroker.setJoinStyle(Qt.PenJoinStyle.MiterJoin if cap == Qt.PenCapStyle.FlatCap
                         else Qt.PenJoinStyle.RoundJoin)
    return stroker.createStroke(path).simplified()


def pixel_font(theme: Theme, scale: float, factor: float, bold: bool = False,
               italic: bool = False) -> QFont:
    """`scaled_font` with its size fixed in pixels (= scene units), so the picture has the
    same proportions on every platform whatever the screen's logical DPI."""
    f = scaled_font(theme, scale, factor, bold)
    f.setPixelSize(max(6, round(f.pointSizeF() * 4.0 / 3.0)))
    f.setItalic(italic)
    return f


def mix(a: QColor, b: QColor, t: float) -> QColor:
    """Colour ``t`` of the way from ``a`` to ``b`` (componentwise, alpha included)."""
    return QColor(round(a.red() + (b.red() - a.red()) * t),
                  round(a.green() + (b.green() - a.green()) * t),
                  round(a.blue() + (b.blue() - a.blue()) * t),
                  round(a.alpha() + (b.alpha() - a.alpha()) * t))


@dataclass
class Style:
    """Pens, brushes and fonts for one theme and font scale; built once per change."""

    theme: Theme
    scale: float
    name_font: QFont = field(init=False)
    value_font: QFont = field(init=False)
    symbol_font: QFont = field(init=False)
    word_font: QFont = field(init=False)
    op_font: QFont = field(init=False)
    small_font: QFont = field(init=False)
    caption_font: QFont = field(init=False)

    def __post_init__(self) -> None:
        th, s = self.theme, self.scale
        # The whole picture is scaled to fill its pane, so its type is already as large as
        # the pane allows; the font scale adds to that, but labels and numbers sit between
        # fixed wires and symbols inside fixed shapes, so they grow less past 1.25 / 1.15.
        outer = min(s, 1.0 + 0.5 * max(s - 1.0, 0.0), 1.3) if s > 1.0 else s
        inner = min(s, 1.15)
        self.name_font = pixel_font(th, outer, 2.3, italic=True)
        self.value_font = pixel_font(th, outer, 1.95, bold=True)
        self.symbol_font = pixel_font(th, inner, 2.4)
        self.word_font = pixel_font(th, inner, 1.7)
        self.op_font = pixel_font(th, inner, 2.4, bold=True)
        self.small_font = pixel_font(th, min(s, 1.1), 1.3)
        self.caption_font = pixel_font(th, outer, 1.6)
        self.background = QColor(th.background)
        self.foreground = QColor(th.foreground)
        self.muted = QColor(th.muted)
        self.body_fill = QColor(th.panel)
        self.body_pen = QPen(QColor(th.grid), 2.0)
        self.casing = QColor(th.foreground if th.name == "contrast" else th.muted)
        self.neutral = QColor(th.grid) if th.name != "dark" else QColor("#6A6A6A")
        # Gradient mode, all units: the wire's core goes from `neutral` to this as the
        # largest gradient grows.
        self.flow = QColor(th.muted) if th.name != "dark" else QColor("#C8C8C8")
        self.halo = focus_color(th)
        self.outline_pen = QPen(self.foreground, 2.5 if th.name != "contrast" else 3.5)
        self.hair_pen = QPen(self.casing, 1.0)
        self.hair_pen.setCosmetic(True)
        self.value_ink = self.foreground
        self.value_plate = QColor(self.background)
        self.value_plate.setAlpha(225)


@dataclass(frozen=True)
class Look:
    """What an element shows at one step (prepared by the scene, read by paint)."""

    color: QColor                   # wire core or node fill
    text: str = ""                  # the focused unit's number ("" when all units are shown)
    cells: tuple = ()               # per-unit strip colours (all units shown), one per unit
    ink: QColor | None = None       # node symbol colour on ``color``
    width: float = 0.0              # wire core width (gradient mode); 0: the normal core
    strip: QImage | None = field(default=None, compare=False)   # ``cells``, a pixel each


class ElementItem(QGraphicsObject):
    """Base: an element key, a current and a previous look, progress, highlight, hover."""

    def __init__(self, key: str, sink: HoverSink | None) -> None:
        super().__init__()
        self.key = key
        self._sink = sink
        self._style: Style | None = None
        self._from: Look | None = None
        self._to: Look | None = None
        self._p = 1.0
        self._glow = 0.0
        self._color = QColor()
        self._hi = False
        if sink is not None and key:
            self.setAcceptHoverEvents(True)

    # ------------------------------------------------------------------ state from the scene

    def set_style(self, style: Style) -> None:
        self._style = style
        self.update()

    def show_look(self, look: Look, animate: bool = False) -> None:
        """Show ``look``; with ``animate`` start from the current look at progress 0.

        Nothing is repainted when the item already shows exactly this look.
        """
        if animate and self._to is not None:
            self._from, self._to = self._to, look
            self._p = -1.0
            self.set_progress(0.0)
        else:
            if (look is self._to or look == self._to) and self._from is self._to \
                    and self._p == 1.0:
                self._from = self._to = look    # the same picture (frame keys name this one)
                return
            self._from = self._to = look
            self._p = 1.0
            self._glow = 0.0
            self._color = look.color
            self.update()

    def set_progress(self, p: float) -> None:
        """Blend from the previous look (0) to the new one (1); pulses a halo meanwhile."""
        p = min(max(p, 0.0), 1.0)
        if p == self._p or self._to is None:
            return
        self._p = p
        self._color = mix(self._from.color, self._to.color, p)
        self._glow = math.sin(math.pi * p) if 0.0 < p < 1.0 else 0.0
        self.update()

    @property
    def progress(self) -> float:
        return self._p

    @property
    def look(self) -> Look | None:
        """The look this item is showing (or heading to, while animating)."""
        return self._to

    def displayed_text(self) -> str:
        """The number shown right now ("" for none)."""
        if self._to is None:
            return ""
        return (self._to if self._p >= 0.5 else self._from).text

    def set_highlight(self, on: bool) -> None:
        if on != self._hi:
            self._hi = on
            self.update()

    @property
    def highlighted(self) -> bool:
        return self._hi

    def _halo_alpha(self) -> int:
        return round(210 * max(1.0 if self._hi else 0.0, self._glow))

    def frame_state(self, pins: list) -> tuple:
        """Everything ``paint`` reads that can change, as a tuple of plain values and the
        ids of the objects it reads (appended to ``pins``, which keeps them alive, so an
        id is never another object's): equal states draw equal pixels."""
        blending = self._p < 1.0
        pins += (self._to, self._style, self._from) if blending else (self._to, self._style)
        return (id(self._to), id(self._from) if blending else 0, self._p, self._glow,
                self._hi, self._color.rgba(), id(self._style), self.isVisible())

    # ------------------------------------------------------------------ hover

    def hoverEnterEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        if self._sink is not None:
            self._sink(self.key, True)
        super().hoverEnterEvent(ev)

    def hoverLeaveEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        if self._sink is not None:
            self._sink(self.key, False)
        super().hoverLeaveEvent(ev)


def _polyline(points) -> QPainterPath:
    path = QPainterPath(QPointF(*points[0]))
    for p in points[1:]:
        path.lineTo(QPointF(*p))
    return path


class WireItem(ElementItem):
    """A wire (one or more polylines with arrow heads), coloured by its value.

    With one unit focused the core takes the value colour; with all units the core
    is neutral and a strip of per-unit cells sits on the wire at ``spec.anchor``.
    """

    def __init__(self, spec: WireSpec, sink: HoverSink | None, bridges=()) -> None:
        super().__init__(spec.key, sink)
        self.spec = spec
        self._lines = QPainterPath()
        self._heads = QPainterPath()
        for pts, arrow in zip(spec.paths, spec.arrows):
            pts = list(pts)
            if arrow:
                (x0, y0), (x1, y1) = pts[-2], pts[-1]
                length = math.hypot(x1 - x0, y1 - y0) or 1.0
                ux, uy = (x1 - x0) / length, (y1 - y0) / length
                base = (x1 - ux * ARROW_LEN, y1 - uy * ARROW_LEN)
                pts[-1] = (x1 - ux * (ARROW_LEN - 2), y1 - uy * (ARROW_LEN - 2))
                self._heads.addPolygon(QPolygonF([
                    QPointF(x1, y1),
                    QPointF(base[0] - uy * ARROW_HALF, base[1] + ux * ARROW_HALF),
                    QPointF(base[0] + uy * ARROW_HALF, base[1] - ux * ARROW_HALF)]))
                self._heads.closeSubpath()
            self._lines.addPath(_polyline(pts))
        # Short gaps where this wire passes over another one.
        self._bridges = [QRectF(b[0] - 14, b[1] - 12, 28, 24) for b in bridges]
        # Outlines filled at paint time (stroking wide antialiased pens is the slow part).
        self._casing = _outline(self._lines, WIRE_CASING)
        self._thin = False
        self._core = _outline(self._lines, WIRE_CORE)
        # Gradient mode: width -> (casing, core) outlines, made on first use.
        self._cores: dict[float, tuple[QPainterPath, QPainterPath]] = {}
        self._width = 0.0
        self._halo = _outline(self._lines, HALO, Qt.PenCapStyle.RoundCap)
        self._shape = _outline(self._lines, HOVER_WIDTH) + self._heads
        self._strip = QRectF()
        self._cells: list[QRectF] = []
        self._separators: list[QLineF] = []
        self._bounds = self._shape.boundingRect().adjusted(-HALO, -HALO, HALO, HALO)
        self._units = 0
        self.set_units(1)

    def set_units(self, n: int) -> None:
        """Size the per-unit strip for ``n`` units (one cell per unit along the wire)."""
        if self.spec.anchor is None or n == self._units:
            return
        self._units = n
        longest = self.spec.strip_max or STRIP_MAX
        length = min(longest, STRIP_MAX, max(STRIP_CELL, n * STRIP_CELL))
        ax, ay = self.spec.anchor
        w, h = (STRIP_THICK, length) if self.spec.vertical else (length, STRIP_THICK)
        self.prepareGeometryChange()
        self._strip = QRectF(ax - w / 2, ay - h / 2, w, h)
        step = length / max(n, 1)
        self._cells = [QRectF(self._strip.x(), self._strip.y() + k * step, w, step)
                       if self.spec.vertical else
                       QRectF(self._strip.x() + k * step, self._strip.y(), step, h)
                       for k in range(max(n, 1))]
        # the lines between neighbouring cells
        self._separators = [QLineF(r.topLeft(), r.topRight()) if self.spec.vertical else
                            QLineF(r.topLeft(), r.bottomLeft()) for r in self._cells[1:]]
        self._bounds = self._shape.boundingRect().united(self._strip).adjusted(
            -HALO, -HALO, HALO, HALO)

    def _cell_px(self, painter: QPainter) -> float:
        """Length of one strip cell along the wire, in device pixels."""
        r = self._cells[0]
        t = painter.worldTransform()
        return (r.height() * abs(t.m22())) if self.spec.vertical else (r.width() * abs(t.m11()))

    @property
    def strip_rect(self) -> QRectF:
        return QRectF(self._strip)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return self._bounds

    def shape(self) -> QPainterPath:
        return self._shape

    @property
    def strip_cells(self) -> list[QRectF]:
        """Scene rectangles of the per-unit strip's cells, unit 0 first."""
        return [QRectF(r) for r in self._cells]

    def set_thin_casing(self, on: bool) -> None:
        """Gradient mode: the background draws only the arrow heads; the casing is painted
        with the core, because its width follows the core's."""
        if on != self._thin:
            self._thin = on
            self.update()

    def show_look(self, look: Look, animate: bool = False) -> None:
        super().show_look(look, animate)
        if not animate:
            self._set_width(look.width)

    def set_progress(self, p: float) -> None:
        super().set_progress(p)
        if self._to is not None and self._from is not None:
            w0, w1 = self._from.width, self._to.width
            self._set_width(w1 if self._p >= 1.0 else round(w0 + (w1 - w0) * self._p))

    def _set_width(self, w: float) -> None:
        """Use core width ``w`` (its outlines are made here once, never in paint)."""
        self._width = w
        if w > 0 and w not in self._cores:
            self._cores[w] = (_outline(self._lines, w + GRAD_CASING), _outline(self._lines, w))

    def frame_state(self, pins: list) -> tuple:
        return (super().frame_state(pins), self._width, self._thin, self._units)

    @property
    def core_width(self) -> float:
        """Width of the core drawn now (0: the normal, fixed core)."""
        return self._width

    def _paths_for_width(self) -> tuple[QPainterPath | None, QPainterPath]:
        """(casing or None, core) outlines for the current core width."""
        w = self._width
        if w <= 0 or not self._thin:
            return None, self._core
        return self._cores[w]

    def paint_static(self, painter: QPainter, style: Style) -> None:
        """The parts that never change with the step (casing, arrow heads), for the background."""
        if not self._thin:
            painter.fillPath(self._casing, style.casing)
        if not self._heads.isEmpty():
            painter.fillPath(self._heads, style.casing)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        st = self._style
        if st is None or self._to is None:
            return
        # The casing and heads are in the scene's cached background; they are drawn
        # again here only where something covered them (a halo, a bridge gap).
        alpha = self._halo_alpha()
        if alpha:
            halo = QColor(st.halo)
            halo.setAlpha(alpha)
            painter.fillPath(self._halo, halo)
        for b in self._bridges:            # a gap in the wire underneath
            painter.fillRect(b, st.body_fill)
        if alpha or self._bridges:
            self.paint_static(painter, st)
        casing, core = self._paths_for_width()
        if casing is not None:
            painter.fillPath(casing, st.casing)
        painter.fillPath(core, self._color)
        new = self._to.strip
        if new is not None and not self._strip.isEmpty():
            # Axis-aligned cells, hairline separators and frame, without antialiasing:
            # whole pixels (crisp, each unit's cell clearly apart from the next). The cells
            # are one image of a pixel per unit, scaled up unsmoothed: one call instead of
            # one fill per unit (~100 fills a step over the whole diagram, ~1 ms).
            aa = painter.testRenderHint(QPainter.RenderHint.Antialiasing)
            smooth = painter.testRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            old = self._from.strip if self._from is not None else None
            if old is not None and self._p < 1.0 and old.size() == new.size():
                painter.drawImage(self._strip, old)
                painter.setOpacity(self._p)
            painter.drawImage(self._strip, new)
            painter.setOpacity(1.0)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
            painter.setPen(st.hair_pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            if self._separators and self._cell_px(painter) >= MIN_SEPARATED_CELL_PX:
                painter.drawLines(self._separators)
            painter.drawRect(self._strip)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, aa)


class NodeItem(ElementItem):
    """A gate box or a point-wise operation with its symbol (σ, tanh, ×, +)."""

    def __init__(self, spec: NodeSpec, sink: HoverSink | None) -> None:
        super().__init__(spec.key, sink)
        self.spec = spec
        cx, cy = spec.center
        w, h = spec.size
        self._rect = QRectF(cx - w / 2, cy - h / 2, w, h)
        self._path = self._shape_path(0.0)
        self._bounds = self._rect.adjusted(-HALO, -HALO, HALO, HALO)
        self._halo = _outline(self._path, HALO, Qt.PenCapStyle.RoundCap)
        # The outline is drawn as the shape grown by half the pen, then the fill on the
        # shape shrunk by half the pen: two plain shapes fill much faster than a stroke.
        self._outer = self._inner = self._path
        self.symbol = spec.symbol               # the layout's, or what an experiment makes it
        self._symbol = QStaticText(spec.symbol)
        self._symbol_at = QPointF()
        self._ink = QColor()
        self.setZValue(2)

    def _shape_path(self, grow: float) -> QPainterPath:
        path = QPainterPath()
        r = self._rect.adjusted(-grow, -grow, grow, grow)
        if self.spec.shape == "box":
            path.addRoundedRect(r, 10.0 + grow, 10.0 + grow)
        else:
            path.addEllipse(r)
        return path

    def set_style(self, style: Style) -> None:
        half = style.outline_pen.widthF() / 2
        self._outer, self._inner = self._shape_path(half), self._shape_path(-half)
        font = self.symbol_font(style)
        self._symbol.prepare(QTransform(), font)
        self._symbol.setTextFormat(Qt.TextFormat.PlainText)
        fm = QFontMetricsF(font)
        self._symbol_at = QPointF(self._rect.center().x() - fm.horizontalAdvance(self.symbol) / 2,
                                  self._rect.center().y() - fm.height() / 2)
        super().set_style(style)

    def set_symbol(self, text: str) -> None:
        """Write ``text`` in the node instead (a ReLU forget gate is no longer a σ)."""
        if text == self.symbol:
            return
        self.symbol = text
        self._symbol = QStaticText(text)
        if self._style is not None:
            self.set_style(self._style)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return self._bounds

    def shape(self) -> QPainterPath:
        return self._path

    def show_look(self, look: Look, animate: bool = False) -> None:
        super().show_look(look, animate)
        self._ink = look.ink or QColor()

    def frame_state(self, pins: list) -> tuple:
        return (super().frame_state(pins), self.symbol)

    def symbol_font(self, style: Style | None = None) -> QFont:
        st = style or self._style
        if self.symbol in ("×", "+"):
            return st.op_font
        return st.symbol_font if len(self.symbol) == 1 else st.word_font

    def paint(self, painter: QPainter, option, widget=None) -> None:
        st = self._style
        if st is None or self._to is None:
            return
        alpha = self._halo_alpha()
        if alpha:
            halo = QColor(st.halo)
            halo.setAlpha(alpha)
            painter.fillPath(self._halo, halo)
        painter.fillPath(self._outer, st.foreground)
        painter.fillPath(self._inner, self._color)
        painter.setFont(self.symbol_font())
        ink = self._to.ink if self._p >= 0.5 or self._from is None else self._from.ink
        painter.setPen(ink or st.foreground)
        painter.drawStaticText(self._symbol_at, self._symbol)


class ValueItem(ElementItem):
    """The big number of the focused unit next to a wire, on a soft plate."""

    WIDEST = "−0.000"

    def __init__(self, key: str, at, align: str, sink: HoverSink | None) -> None:
        super().__init__(key, sink)
        self._at = QPointF(*at)
        self._align = align
        self._rect = QRectF()
        self.setZValue(4)

    def set_style(self, style: Style) -> None:
        fm = QFontMetricsF(style.value_font)
        w, h = fm.horizontalAdvance(self.WIDEST) + 8, fm.height()
        x = {"l": self._at.x(), "r": self._at.x() - w, "c": self._at.x() - w / 2}[self._align]
        self.prepareGeometryChange()
        self._rect = QRectF(x, self._at.y() - h / 2, w, h)
        super().set_style(style)

    def show_look(self, look: Look, animate: bool = False) -> None:
        super().show_look(look, animate)
        self._show_if_numbered()

    def set_progress(self, p: float) -> None:
        super().set_progress(p)
        self._show_if_numbered()

    def _show_if_numbered(self) -> None:
        # With all units shown there is no single number: hidden, the view skips the
        # item entirely instead of calling paint() for nothing on every step.
        on = bool(self.displayed_text())
        if on != self.isVisible():
            self.setVisible(on)

    def text_rect(self) -> QRectF:
        """Scene rectangle reserved for the number (room for the widest one)."""
        return QRectF(self._rect)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return self._rect.adjusted(-HALO / 2, -HALO / 2, HALO / 2, HALO / 2)

    def shape(self) -> QPainterPath:
        p = QPainterPath()
        p.addRect(self._rect)
        return p

    def paint(self, painter: QPainter, option, widget=None) -> None:
        st = self._style
        text = self.displayed_text()
        if st is None or not text:
            return
        flags = {"l": Qt.AlignmentFlag.AlignLeft, "r": Qt.AlignmentFlag.AlignRight,
                 "c": Qt.AlignmentFlag.AlignHCenter}[self._align] | Qt.AlignmentFlag.AlignVCenter
        painter.setFont(st.value_font)
        alpha = self._halo_alpha()
        if alpha:
            halo = QColor(st.halo)
            halo.setAlpha(alpha)
            # measured before the pen goes: with no pen Qt's boundingRect is empty (a
            # speck at the corner instead of the plate behind the number)
            plate = painter.boundingRect(self._rect, flags, text).adjusted(-6, -2, 6, 2)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(halo)
            painter.drawRoundedRect(plate, 6, 6)
        painter.setPen(st.value_ink)
        painter.drawText(self._rect, flags, text)


class LabelItem(QGraphicsTextItem):
    """A static symbol label (rich text with subscripts), anchored and aligned."""

    def __init__(self, key: str, html_text: Callable[[Theme], str], at, align: str,
                 sink: HoverSink | None) -> None:
        super().__init__()
        self.key = key
        self._html = html_text
        self._at = QPointF(*at)
        self._align = align
        self._sink = sink
        self._styled: Style | None = None
        self.document().setDocumentMargin(0)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(3)
        if sink is not None and key:
            self.setAcceptHoverEvents(True)

    def frame_state(self, pins: list) -> tuple:
        """As `ElementItem.frame_state`: the label changes only with the style."""
        pins.append(self._styled)
        return (id(self._styled), self.isVisible())

    def set_style(self, style: Style) -> None:
        self._styled = style
        self.setFont(style.name_font)
        self.setDefaultTextColor(style.foreground)
        self.setHtml(self._html(style.theme))
        r = self.boundingRect()
        x = {"l": self._at.x(), "r": self._at.x() - r.width(),
             "c": self._at.x() - r.width() / 2}[self._align]
        self.setPos(x, self._at.y() - r.height() / 2)

    def hoverEnterEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        if self._sink is not None:
            self._sink(self.key, True)
        super().hoverEnterEvent(ev)

    def hoverLeaveEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        if self._sink is not None:
            self._sink(self.key, False)
        super().hoverLeaveEvent(ev)


class TextItem(QGraphicsObject):
    """Plain text that changes now and then (caption, legend notes); top-left anchored.

    The layouts of its last texts are kept (`TextLayouts`).
    """

    def __init__(self, at, width: float, font_attr: str = "caption_font",
                 align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft) -> None:
        super().__init__()
        self._at = QPointF(*at)
        self._width = width
        self._font_attr = font_attr
        self._text = ""
        self._rect = QRectF()
        self._static = QStaticText()
        self._style: Style | None = None
        option = QTextOption(align)
        option.setWrapMode(QTextOption.WrapMode.WordWrap)
        self._layouts = TextLayouts(option=option)
        self.setZValue(5)

    def set_style(self, style: Style) -> None:
        self._style = style
        self._layouts.use(getattr(style, self._font_attr), self._width)
        self._rect = QRectF()           # (the room taken is measured again in this font)
        self._relayout()

    def set_text(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self._relayout()

    def text(self) -> str:
        return self._text

    def frame_state(self, pins: list) -> tuple:
        """As `ElementItem.frame_state`."""
        pins.append(self._style)
        return (self._text, id(self._style), self.isVisible())

    def prepare(self, text: str) -> None:
        """Lay ``text`` out now, so that showing it later only draws it."""
        if self._style is not None:
            self._layouts.get(text)

    def _relayout(self) -> None:
        """Lay the text out once (wrapped to the width); paint only draws it.

        The item's rectangle grows to the tallest text it has shown in this style and
        never shrinks back: a step whose caption wraps onto fewer lines than the last
        one's must still repaint the lines that go away, and the diagram's frames drawn
        ahead (`CellDiagramView`) bypass Qt's record of where an item last painted."""
        if self._style is None:
            return
        st = self._static = self._layouts.get(self._text)   # (a step's caption shown before)
        height = (st.size().height() if self._text else 0.0) + 2
        if height > self._rect.height() or self._rect.isNull():
            self.prepareGeometryChange()
            self._rect = QRectF(self._at.x(), self._at.y(), self._width, height)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return self._rect

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if self._style is None or not self._text:
            return
        painter.setFont(getattr(self._style, self._font_attr))
        painter.setPen(self._style.foreground)
        painter.drawStaticText(self._rect.topLeft(), self._static)


class LegendItem(QGraphicsObject):
    """The value colour bar with its scale: blue negative, pale zero, red positive."""

    BAR = QRectF(0, 0, 190, 18)

    def __init__(self, at, size=(714.0, 66.0)) -> None:
        super().__init__()
        self.setPos(*at)
        self._style: Style | None = None
        self._bar: QImage | None = None
        self._note = ""
        self._rect = QRectF(-24, -6, size[0] + 24, size[1] + 6)
        self.setZValue(5)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)    # changes per trace only

    def set_style(self, style: Style) -> None:
        self._style = style
        lut = style.theme.lut(256)
        rgb = lut[None, :, :3].copy()
        self._bar = QImage(rgb.data, 256, 1, 256 * 3, QImage.Format.Format_RGB888).copy()
        self.update()

    def set_note(self, note: str) -> None:
        if note != self._note:
            self._note = note
            self.update()

    def note(self) -> str:
        return self._note

    def frame_state(self, pins: list) -> tuple:
        """As `ElementItem.frame_state`."""
        pins.append(self._style)
        return (self._note, id(self._style), self.isVisible())

    def note_fits(self) -> bool:
        """Whether the wrapped note fits its rectangle in the current font."""
        if self._style is None:
            return True
        r = self.note_rect()
        need = QFontMetricsF(self._style.small_font).boundingRect(
            QRectF(0, 0, r.width(), 1e4), int(Qt.TextFlag.TextWordWrap), self._note)
        return need.height() <= r.height() and need.width() <= r.width() + 0.5

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return self._rect

    def note_rect(self) -> QRectF:
        """Where the note is written (item coordinates)."""
        x = self.BAR.width() + 30
        return QRectF(x, -4, self._rect.right() - x, self._rect.bottom() + 4)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        st = self._style
        if st is None or self._bar is None:
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(self.BAR, self._bar)
        painter.setPen(st.hair_pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(self.BAR)
        painter.setFont(st.small_font)
        painter.setPen(st.foreground)
        fm = QFontMetricsF(st.small_font)
        y = self.BAR.bottom() + 2
        h = fm.height()
        w = self.BAR.width()
        painter.drawText(QRectF(-20, y, 40, h), Qt.AlignmentFlag.AlignHCenter, "−")
        painter.drawText(QRectF(w / 2 - 20, y, 40, h), Qt.AlignmentFlag.AlignHCenter, "0")
        painter.drawText(QRectF(w - 20, y, 40, h), Qt.AlignmentFlag.AlignHCenter, "+")
        painter.drawText(self.note_rect(),
                         int(Qt.TextFlag.TextWordWrap) | int(Qt.AlignmentFlag.AlignLeft),
                         self._note)
