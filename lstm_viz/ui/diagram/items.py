"""Generic diagram items: wires, nodes, numbers, labels and the legend.

Every item is told *what* to show (a `Look`: colours, a number, a per-unit strip
image) by the scene, which computes looks once per step. An item only blends
between its previous and its new look while a step animates (`set_progress`,
called from the animation's slot) and draws; ``paint()`` does no maths beyond
choosing what to draw.

Items know their element key and report hover enter/leave to the scene through
a callback, so hovering a wire, a gate, a number or a label all focus the same
element.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (QBrush, QColor, QFont, QFontMetricsF, QImage, QPainter, QPainterPath,
                           QPainterPathStroker, QPen, QPolygonF)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject, QGraphicsTextItem

from ..theme import Theme, focus_color, scaled_font
from .layout import NodeSpec, WireSpec

#: Hover callback: (element key, entered?)
HoverSink = Callable[[str, bool], None]

# Sizes in scene units.
WIRE_CORE = 7.0
WIRE_CASING = 11.0
HALO = 22.0
ARROW_LEN = 16.0
ARROW_HALF = 9.0
STRIP_CELL = 22.0
STRIP_MAX = 110.0
STRIP_THICK = 22.0
HOVER_WIDTH = 24.0


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


def ink_for(fill: QColor, theme: Theme) -> QColor:
    """Black or white text, whichever reads better on ``fill``."""
    lum = 0.2126 * fill.redF() + 0.7152 * fill.greenF() + 0.0722 * fill.blueF()
    return QColor("#000000") if lum > 0.5 else QColor("#FFFFFF")


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
        # Symbols sit inside fixed shapes and the legend in a fixed corner: they grow less.
        inner = min(s, 1.15)
        self.name_font = pixel_font(th, s, 1.9, italic=True)
        self.value_font = pixel_font(th, s, 1.55, bold=True)
        self.symbol_font = pixel_font(th, inner, 2.1)
        self.word_font = pixel_font(th, inner, 1.45)
        self.op_font = pixel_font(th, inner, 2.2, bold=True)
        self.small_font = pixel_font(th, min(s, 1.2), 1.0)
        self.caption_font = pixel_font(th, s, 1.35)
        self.background = QColor(th.background)
        self.foreground = QColor(th.foreground)
        self.muted = QColor(th.muted)
        self.body_fill = QColor(th.panel)
        self.body_pen = QPen(QColor(th.grid), 2.0)
        self.casing = QColor(th.foreground if th.name == "contrast" else th.muted)
        self.neutral = QColor(th.grid) if th.name != "dark" else QColor("#6A6A6A")
        self.halo = focus_color(th)
        self.outline_pen = QPen(self.foreground, 2.5 if th.name != "contrast" else 3.5)
        self.hair_pen = QPen(self.casing, 1.0)
        self.hair_pen.setCosmetic(True)
        self.value_ink = self.foreground
        self.value_plate = QColor(self.background)
        self.value_plate.setAlpha(225)


@dataclass(frozen=True)
class Look:
    """What an element shows at one step (computed by the scene, read by paint)."""

    color: QColor                   # wire core or node fill
    text: str = ""                  # the focused unit's number ("" when all units are shown)
    image: QImage | None = None     # per-unit strip (all units), one pixel per unit
    ink: QColor | None = None       # node symbol colour on ``color``


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
        """Show ``look``; with ``animate`` start from the current look at progress 0."""
        if animate and self._to is not None:
            self._from, self._to = self._to, look
            self._p = -1.0
            self.set_progress(0.0)
        else:
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
        self._bridges = [QPointF(*b) for b in bridges]
        stroker = QPainterPathStroker()
        stroker.setWidth(HOVER_WIDTH)
        self._shape = stroker.createStroke(self._lines) + self._heads
        self._strip = QRectF()
        self._bounds = self._shape.boundingRect().adjusted(-HALO, -HALO, HALO, HALO)
        self.set_units(1)

    def set_units(self, n: int) -> None:
        """Size the per-unit strip for ``n`` units."""
        if self.spec.anchor is None:
            return
        length = min(STRIP_MAX, max(STRIP_CELL, n * STRIP_CELL))
        ax, ay = self.spec.anchor
        w, h = (STRIP_THICK, length) if self.spec.vertical else (length, STRIP_THICK)
        self.prepareGeometryChange()
        self._strip = QRectF(ax - w / 2, ay - h / 2, w, h)
        self._bounds = self._shape.boundingRect().united(self._strip).adjusted(
            -HALO, -HALO, HALO, HALO)

    @property
    def strip_rect(self) -> QRectF:
        return QRectF(self._strip)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return self._bounds

    def shape(self) -> QPainterPath:
        return self._shape

    def paint(self, painter: QPainter, option, widget=None) -> None:
        st = self._style
        if st is None or self._to is None:
            return
        alpha = self._halo_alpha()
        if alpha:
            halo = QColor(st.halo)
            halo.setAlpha(alpha)
            painter.setPen(QPen(halo, HALO, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                                Qt.PenJoinStyle.RoundJoin))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(self._lines)
        for b in self._bridges:            # a gap in the wire underneath
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(st.body_fill)
            painter.drawRect(QRectF(b.x() - 14, b.y() - 12, 28, 24))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(st.casing, WIRE_CASING, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap,
                            Qt.PenJoinStyle.MiterJoin))
        painter.drawPath(self._lines)
        painter.setPen(QPen(self._color, WIRE_CORE, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap,
                            Qt.PenJoinStyle.MiterJoin))
        painter.drawPath(self._lines)
        if not self._heads.isEmpty():
            painter.setPen(QPen(st.casing, 2.0))
            painter.setBrush(st.casing)
            painter.drawPath(self._heads)
        img_new = self._to.image
        if img_new is not None and not self._strip.isEmpty():
            img_old = self._from.image if self._from is not None else None
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            if img_old is not None and self._p < 1.0:
                painter.drawImage(self._strip, img_old)
                painter.setOpacity(self._p)
            painter.drawImage(self._strip, img_new)
            painter.setOpacity(1.0)
            painter.setPen(st.hair_pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(self._strip)


class NodeItem(ElementItem):
    """A gate box or a point-wise operation with its symbol (σ, tanh, ×, +)."""

    def __init__(self, spec: NodeSpec, sink: HoverSink | None) -> None:
        super().__init__(spec.key, sink)
        self.spec = spec
        cx, cy = spec.center
        w, h = spec.size
        self._rect = QRectF(cx - w / 2, cy - h / 2, w, h)
        self._path = QPainterPath()
        if spec.shape == "box":
            self._path.addRoundedRect(self._rect, 10.0, 10.0)
        else:
            self._path.addEllipse(self._rect)
        self._bounds = self._rect.adjusted(-HALO, -HALO, HALO, HALO)
        self._ink = QColor()
        self.setZValue(2)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return self._bounds

    def shape(self) -> QPainterPath:
        return self._path

    def show_look(self, look: Look, animate: bool = False) -> None:
        super().show_look(look, animate)
        self._ink = look.ink or QColor()

    def symbol_font(self) -> QFont:
        st = self._style
        if self.spec.symbol in ("×", "+"):
            return st.op_font
        return st.symbol_font if len(self.spec.symbol) == 1 else st.word_font

    def paint(self, painter: QPainter, option, widget=None) -> None:
        st = self._style
        if st is None or self._to is None:
            return
        alpha = self._halo_alpha()
        if alpha:
            halo = QColor(st.halo)
            halo.setAlpha(alpha)
            painter.setPen(QPen(halo, HALO))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(self._path)
        painter.setPen(st.outline_pen)
        painter.setBrush(QBrush(self._color))
        painter.drawPath(self._path)
        painter.setFont(self.symbol_font())
        ink = self._to.ink if self._p >= 0.5 or self._from is None else self._from.ink
        painter.setPen(ink or st.foreground)
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self.spec.symbol)


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
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(halo)
            painter.drawRoundedRect(painter.boundingRect(self._rect, flags, text).adjusted(
                -6, -2, 6, 2), 6, 6)
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
        self.document().setDocumentMargin(0)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(3)
        if sink is not None and key:
            self.setAcceptHoverEvents(True)

    def set_style(self, style: Style) -> None:
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


class BodyItem(QGraphicsObject):
    """The rounded rectangle of the cell, behind everything."""

    def __init__(self, rect: QRectF) -> None:
        super().__init__()
        self._rect = rect
        self._style: Style | None = None
        self.setZValue(-10)

    def set_style(self, style: Style) -> None:
        self._style = style
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return self._rect.adjusted(-2, -2, 2, 2)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if self._style is None:
            return
        painter.setPen(self._style.body_pen)
        painter.setBrush(self._style.body_fill)
        painter.drawRoundedRect(self._rect, 24, 24)


class TextItem(QGraphicsObject):
    """Plain text that changes now and then (caption, legend notes); top-left anchored."""

    def __init__(self, at, width: float, font_attr: str = "caption_font",
                 align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft) -> None:
        super().__init__()
        self._at = QPointF(*at)
        self._width = width
        self._font_attr = font_attr
        self._align = align
        self._text = ""
        self._rect = QRectF()
        self._style: Style | None = None
        self.setZValue(5)

    def set_style(self, style: Style) -> None:
        self._style = style
        self._relayout()

    def set_text(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self._relayout()

    def text(self) -> str:
        return self._text

    def _relayout(self) -> None:
        if self._style is None:
            return
        fm = QFontMetricsF(getattr(self._style, self._font_attr))
        r = fm.boundingRect(QRectF(0, 0, self._width, 1e4),
                            int(Qt.TextFlag.TextWordWrap) | int(self._align), self._text)
        self.prepareGeometryChange()
        self._rect = QRectF(self._at.x(), self._at.y(), self._width, r.height() + 2)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return self._rect

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if self._style is None or not self._text:
            return
        painter.setFont(getattr(self._style, self._font_attr))
        painter.setPen(self._style.foreground)
        painter.drawText(self._rect, int(Qt.TextFlag.TextWordWrap) | int(self._align), self._text)


class LegendItem(QGraphicsObject):
    """The value colour bar with its scale: blue negative, pale zero, red positive."""

    BAR = QRectF(0, 0, 190, 16)

    def __init__(self, at) -> None:
        super().__init__()
        self.setPos(*at)
        self._style: Style | None = None
        self._bar: QImage | None = None
        self._note = ""
        self._rect = QRectF(-24, -6, 714, 66)
        self.setZValue(5)

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

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return self._rect

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
        painter.drawText(QRectF(w + 30, -4, self._rect.right() - w - 30, self._rect.height()),
                         int(Qt.TextFlag.TextWordWrap) | int(Qt.AlignmentFlag.AlignLeft),
                         self._note)
