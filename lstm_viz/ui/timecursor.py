"""The time cursor of a plot: a vertical line at the current step, painted over a
snapshot of the plot.

Stepping through time moves the cursor in every plot at once, so it is the
redraw people trigger most. Were the cursor an item of the plot's scene (a
pyqtgraph ``InfiniteLine``), each step would make Qt redraw every scene item
under the line's old and new places, much of it Python code (the lines, the
axes' bounds, the line's own bounds): about 2 ms per plot here. Instead the
cursor is not in the scene: `TimeCursor` draws it over what the view painted,
and keeps a pixmap snapshot of the view, so that a cursor move repaints two
thin strips from the snapshot and draws the line over them.

When a repaint may come from the snapshot: only when all it covers is strips
this cursor asked to repaint since the last paint. Any other repaint (the data
changed, the mouse hovered, the view was exposed, resized or restyled) is
painted by the view as usual, and what it covered is redrawn into the snapshot
before the next cursor move. (Not during the paint itself: Qt cannot render a
widget into a pixmap while it paints that widget.) So a drag, which changes
the data every frame, costs nothing extra, and the snapshot is not shown where
anything else changed, with one exception: a change of the scene confined to
the strips of a cursor move in the same frame would be missed until the next
repaint there. No item of these plots is that small (a hover label spans more
than a strip; lines and images span the plot), and nothing moves one together
with the cursor.

(Qt's ``QGraphicsScene.changed`` signal would name every change, but
connecting it switches the scene to its compatibility mode, which repaints an
item's old area only if the item announces a geometry change before making it;
several pyqtgraph items announce it after, and their old pixels would stay.)

The user drags the cursor with the mouse (it widens and the mouse pointer
changes when over it); a press elsewhere is left to the plot (a click jumps
the cursor there, a drag pans).
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap, QRegion
from PySide6.QtWidgets import QToolTip

from .kit import device_size, draw_from

#: How near (px) the mouse must be to the cursor line to grab it.
GRAB_PX = 6

#: Shown when the mouse rests on the line ({step} is 1-based).
TIP = ("The time cursor, at step {step}. Drag it to move through the sequence: every view "
       "follows. A click anywhere in a plot also jumps there, and ← / → step one at a time.")


class TimeCursor(QObject):
    """A draggable vertical line at x = `value` (view units) across each of the view
    boxes ``viewboxes`` shown in the pyqtgraph ``view``.

    ``set_value(x)`` moves it; ``moved(x)`` is emitted with the mouse's x (view
    units) while the user drags it. ``set_theme(theme)`` styles it.
    """

    moved = Signal(float)

    def __init__(self, view: pg.GraphicsView, viewboxes=(), value: float = 1.0) -> None:
        super().__init__(view)
        self.view = view
        self.vp = view.viewport()
        self.viewboxes: list[pg.ViewBox] = list(viewboxes)
        self._value = float(value)
        self.pen = QPen(QColor("#000000"), 2.0)
        self.hover_pen = QPen(QColor("#000000"), 4.0)
        self.hovering = False
        self.dragging: pg.ViewBox | None = None    # the view box being dragged in
        self._snapshot: QPixmap | None = None
        self._dirty = QRegion()        # viewport area the view painted since the snapshot
        self._strips = QRegion()       # what cursor moves asked to repaint
        self._painted = QRegion()      # where the line was drawn last
        self._rendering = False        # the view is painting into the snapshot
        self.snapshot_blits = 0        # repaints served from the snapshot (tests, bench)
        self.snapshot_renders = 0      # ... and redraws of the snapshot
        self.vp.installEventFilter(self)

    # ------------------------------------------------------------------ public

    def add_viewbox(self, vb: pg.ViewBox) -> None:
        self.viewboxes.append(vb)
        self._update(self._strip_region())

    def value(self) -> float:
        """Where the cursor is, in view units (step t is at t + 1)."""
        return self._value

    def set_value(self, x: float) -> None:
        x = float(x)
        if x == self._value:
            return
        self._refresh_snapshot()
        self._value = x
        self._update(self._painted)                 # where it was drawn last
        self._update(self._strip_region())

    def set_theme(self, theme) -> None:
        """The line in ``theme``'s accent colour, a little wider than the plot lines; under
        the mouse wider still, in the output gate's colour."""
        width = max(2.0, theme.line_width * 1.25)
        self.pen = QPen(QColor(theme.accent), width)
        self.hover_pen = QPen(QColor(theme.gate_colors.get("o", theme.accent)), width + 2)
        self._update(self._strip_region())

    def pixel_x(self, vb: pg.ViewBox | None = None) -> float | None:
        """The cursor's x in viewport pixels over ``vb`` (default: the first view box);
        None while that view box is not shown."""
        vb = vb if vb is not None else (self.viewboxes[0] if self.viewboxes else None)
        for box, x, _span in self._lines():
            if box is vb:
                return x
        return None

    # ------------------------------------------------------------------ geometry

    def _lines(self) -> list[tuple[pg.ViewBox, float, QRectF]]:
        """(view box, the cursor's x, the view box's area) in viewport pixels, for each
        shown view box."""
        out = []
        vt = self.view.viewportTransform()
        for vb in self.viewboxes:
            if not vb.isVisible() or vb.width() <= 0:
                continue
            vb.updateMatrix()                   # a pending range change, applied now
            x = (vb.childGroup.sceneTransform() * vt).map(QPointF(self._value, 0.0)).x()
            out.append((vb, x, (vb.sceneTransform() * vt).mapRect(vb.rect())))
        return out

    def _strip_region(self, lines=None) -> QRegion:
        """The viewport pixels the cursor covers (at its widest pen, plus a margin);
        ``lines`` as from `_lines` (default: now)."""
        region = QRegion()
        half = max(self.pen.widthF(), self.hover_pen.widthF()) / 2 + 2
        for _vb, x, span in (self._lines() if lines is None else lines):
            left = math.floor(x - half)
            region = region.united(QRect(left, math.floor(span.top()) - 1,
                                         math.ceil(x + half) - left + 1,
                                         math.ceil(span.height()) + 3))
        return region

    def _update(self, region: QRegion) -> None:
        # One rectangle: a paint clipped to several is ~50x slower per blit in Qt's
        # raster engine (it takes its general clipping path).
        rect = self._strips.united(region).boundingRect().intersected(self.vp.rect())
        if not rect.isEmpty():
            self._strips = QRegion(rect)
            self.vp.update(rect)

    # ------------------------------------------------------------------ snapshot

    def _refresh_snapshot(self) -> None:
        """Redraw into the snapshot what changed since it was last drawn."""
        vp = self.vp
        if not vp.isVisible() or vp.width() <= 0 or vp.height() <= 0:
            return
        dpr = vp.devicePixelRatioF()
        w, h = device_size(vp)
        snap = self._snapshot
        if snap is None or snap.width() != w or snap.height() != h:
            snap = self._snapshot = QPixmap(w, h)
            snap.setDevicePixelRatio(dpr)
            self._dirty = QRegion(vp.rect())
        if self._dirty.isEmpty():
            return
        self._rendering = True
        try:
            vp.render(snap, self._dirty.boundingRect().topLeft(), self._dirty)
        finally:
            self._rendering = False
        self._dirty = QRegion()
        self.snapshot_renders += 1

    def _paint(self, ev) -> None:
        vp = self.vp
        region = ev.region()
        snap = self._snapshot
        blit = (snap is not None and region.subtracted(self._strips).isEmpty()
                and self._dirty.intersected(region).isEmpty()
                and snap.deviceIndependentSize().toSize() == vp.size())
        if not blit:
            self._dirty = self._dirty.united(region)
            self.view.viewportEvent(ev)                    # the view paints as usual
        self._strips = self._strips.subtracted(region)
        p = QPainter(vp)
        if blit:
            draw_from(p, region, snap)
            self.snapshot_blits += 1
        p.setClipRegion(region)
        pen = self.hover_pen if self.hovering or self.dragging is not None else self.pen
        w = pen.widthF()
        lines = self._lines()
        for _vb, x, span in lines:
            p.fillRect(QRectF(x - w / 2, span.top(), w, span.height()), pen.color())
        p.end()
        self._painted = self._strip_region(lines)

    # ------------------------------------------------------------------ mouse

    def _grabbed(self, pos: QPointF) -> pg.ViewBox | None:
        """The view box whose cursor line is under ``pos`` (None if none is)."""
        for vb, x, span in self._lines():
            if abs(pos.x() - x) <= GRAB_PX and span.contains(QPointF(x, pos.y())):
                return vb
        return None

    def _view_x(self, vb: pg.ViewBox, pos: QPointF) -> float:
        return vb.mapSceneToView(self.view.mapToScene(pos.toPoint())).x()

    def _set_hover(self, on: bool) -> None:
        if on != self.hovering:
            self.hovering = on
            if on:
                self.vp.setCursor(Qt.CursorShape.SizeHorCursor)
            else:
                self.vp.unsetCursor()
            self._update(self._strip_region())

    def tooltip(self) -> str:
        """What the line says when the mouse rests on it."""
        return TIP.format(step=round(self._value))

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802 (Qt override)
        kind = ev.type()
        if kind == QEvent.Type.Paint:
            if self._rendering:
                return False                    # the view paints into the snapshot
            self._paint(ev)
            return True
        if kind == QEvent.Type.ToolTip and self._grabbed(QPointF(ev.pos())) is not None:
            QToolTip.showText(ev.globalPos(), self.tooltip(), self.vp)
            return True                         # not the plot's value under the mouse
        left = Qt.MouseButton.LeftButton
        if kind == QEvent.Type.MouseButtonPress and ev.button() == left:
            vb = self._grabbed(ev.position())
            if vb is None:
                return False
            self.dragging = vb
            self._update(self._strip_region())
            self.moved.emit(self._view_x(vb, ev.position()))
            return True
        if kind == QEvent.Type.MouseMove:
            if self.dragging is not None:
                self.moved.emit(self._view_x(self.dragging, ev.position()))
                return True
            self._set_hover(self._grabbed(ev.position()) is not None)
        elif kind == QEvent.Type.MouseButtonRelease and self.dragging is not None \
                and ev.button() == left:
            self.dragging = None
            self._update(self._strip_region())
            return True
        elif kind == QEvent.Type.Leave:
            self._set_hover(False)
        return False


__all__ = ["GRAB_PX", "TIP", "TimeCursor"]
