"""A small editable heatmap of a matrix, and a colour bar for the shared value scale.

`Heatmap` shows a (rows, cols) array as a pyqtgraph ``ImageItem`` with fixed
symmetric levels ±vmax and the theme's diverging lookup table. One screen cell
is one matrix entry; row 0 is at the top. It can print each value inside its
cell (for small matrices), outline one selected cell, and turns the mouse into
cell-level signals: press, vertical drag (in pixels), release and wheel. It does
no editing itself; the owner decides what a gesture means.

Everything is created once; `Heatmap.set_values` updates the image and the
printed numbers in place, and when only a few entries changed (a weight being
dragged) Qt repaints only their cells.

`ColorBar` paints the same scale as a horizontal bar with its limits.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QSizePolicy, QToolTip, QWidget

from .kit import ImageItem, TextLayouts
from .theme import Theme

pg.setConfigOptions(imageAxisOrder="row-major")


def cell_text(v: float) -> str:
    """A value short enough to print inside a heatmap cell: ``0.35``, ``−2.5``, ``12``."""
    a = abs(v)
    if a == 0.0:
        return "0"
    if a >= 99.5:
        s = f"{v:.0e}".replace("e+0", "e").replace("e+", "e")
    elif a >= 9.95:
        s = f"{v:.0f}"
    elif a >= 0.995:
        s = f"{v:.1f}"
    elif a >= 0.005:
        s = f"{v:.2f}"
    else:
        s = f"{v:.0e}".replace("e-0", "e-")
    return s.replace("-", "−")


#: Number colours on light and dark cells, and the weights of a colour's lightness.
_DARK, _LIGHT = QColor("#000000"), QColor("#FFFFFF")
_LUMA = np.array([0.299, 0.587, 0.114])


class _CellUpdates:
    """For a scene item of a heatmap: while ``dirty`` (a rectangle of cells) is set, the
    item's own ``update()`` (pyqtgraph calls it after every change) repaints only that."""

    dirty: QRectF | None = None

    def update(self, *args) -> None:
        if not args and self.dirty is not None:
            super().update(self.dirty)
        else:
            super().update(*args)


class _CellImage(_CellUpdates, ImageItem):
    """The matrix's colours, repainting only changed cells (`_CellUpdates`).

    With a ``theme`` the picture is made straight from `Theme.value_rgb` (the colours
    the diagram and every view give the same value) as 32-bit pixels: pyqtgraph's own
    rendering through its lookup table costs ~0.7 ms of Python per new matrix, that
    is per frame of a drag.
    """

    theme: Theme | None = None
    vmax = 1.0

    def render(self, *args, **kwargs) -> None:
        img = self.image
        if self.theme is None or img is None or img.ndim != 2:
            super().render(*args, **kwargs)
            return
        rgb = self.theme.value_rgb(img, self.vmax)
        rows, cols = img.shape
        bgra = np.empty((rows, cols, 4), dtype=np.uint8)      # 0xffRRGGBB, little-endian
        bgra[..., 0], bgra[..., 1], bgra[..., 2] = rgb[..., 2], rgb[..., 1], rgb[..., 0]
        bgra[..., 3] = 255
        self._pixels = bgra                                   # the QImage's memory
        self.qimage = QImage(bgra.data, cols, rows, 4 * cols, QImage.Format.Format_RGB32)
        self._renderRequired = False
        self._unrenderable = False


class _Overlay(_CellUpdates, pg.GraphicsObject):
    """Drawn over a heatmap: thin cell borders, the printed numbers and the selection outline.

    `set_labels` and `set_selected` store ready-made strings, colours and pens;
    `paint` only draws them, in screen pixels so text and lines stay crisp.
    """

    def __init__(self) -> None:
        super().__init__()
        self._rows = self._cols = 0
        self._texts: list[str] = []
        self._colors: list[QColor] = []
        self._selected: tuple[int, int] | None = None
        self.font = QFont()
        self.grid_pen = QPen(QColor("#FFFFFF"), 1)
        self.select_pen = QPen(QColor("#000000"), 3)
        self._layouts = TextLayouts(limit=4096)     # values repeat, and a drag changes one
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)   # exposedRect

    def set_shape(self, rows: int, cols: int) -> None:
        if (rows, cols) != (self._rows, self._cols):
            self.prepareGeometryChange()
            self._rows, self._cols = rows, cols
            self._texts, self._colors = [], []
        self.update()

    def set_labels(self, texts: list[str], colors: list[QColor]) -> None:
        self._texts, self._colors = texts, colors
        self.update()

    @property
    def labels(self) -> tuple[list[str], list[QColor]]:
        """The printed numbers and their colours, row by row (empty when none are printed)."""
        return self._texts, self._colors

    def set_selected(self, cell: tuple[int, int] | None) -> None:
        self._selected = cell
        self.update()

    @property
    def selected(self) -> tuple[int, int] | None:
        return self._selected

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return QRectF(-0.1, -0.1, self._cols + 0.2, self._rows + 0.2)

    def paint(self, painter: QPainter, option, widget=None) -> None:  # noqa: D102
        world = painter.transform()
        painter.save()
        painter.resetTransform()
        full = world.mapRect(QRectF(0, 0, self._cols, self._rows))
        if self._rows and full.height() / self._rows >= 6:
            painter.setPen(self.grid_pen)
            for r in range(1, self._rows):
                y = full.top() + r * full.height() / self._rows
                painter.drawLine(QPointF(full.left(), y), QPointF(full.right(), y))
            for c in range(1, self._cols):
                x = full.left() + c * full.width() / self._cols
                painter.drawLine(QPointF(x, full.top()), QPointF(x, full.bottom()))
        if self._texts:
            painter.setFont(self.font)
            cw, ch = full.width() / self._cols, full.height() / self._rows
            x0, y0 = full.left(), full.top()
            pen_color = None
            self._layouts.use(self.font)
            # only the cells Qt repaints (after an edit, often just the edited one)
            ex = option.exposedRect
            rows = range(max(0, int(ex.top())), min(self._rows, int(np.ceil(ex.bottom())) + 1))
            cols = range(max(0, int(ex.left())), min(self._cols, int(np.ceil(ex.right())) + 1))
            for r in rows:
                for c in cols:
                    k = r * self._cols + c
                    if self._colors[k] is not pen_color:
                        pen_color = self._colors[k]
                        painter.setPen(pen_color)
                    st = self._layouts.get(self._texts[k])
                    size = st.size()
                    painter.drawStaticText(QPointF(x0 + (c + 0.5) * cw - size.width() / 2,
                                                   y0 + (r + 0.5) * ch - size.height() / 2), st)
        if self._selected is not None:
            r, c = self._selected
            painter.setPen(self.select_pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            rect = world.mapRect(QRectF(c, r, 1, 1)).adjusted(1.5, 1.5, -1.5, -1.5)
            painter.drawRect(rect)
        painter.restore()


class Heatmap(pg.GraphicsView):
    """One matrix as coloured cells, with selection and mouse gestures per cell.

    Mouse events arrive on ``viewport()``; `cell_pos` gives a cell's centre in
    viewport coordinates.

    Signals
    -------
    pressed(row, col)            left button pressed on a cell
    dragged(row, col, dy, fine)  mouse moved with the button held: ``dy`` pixels
                                 upwards since the press; ``fine`` if Shift is held
    released(row, col)           button released after a press on a cell
    wheeled(row, col, steps, fine)  wheel over a cell: ``steps`` notches (up > 0)
    """

    pressed = Signal(int, int)
    dragged = Signal(int, int, float, bool)
    released = Signal(int, int)
    wheeled = Signal(int, int, float, bool)

    #: Print values inside cells when both dimensions are at most this.
    MAX_PRINTED = 8
    #: A new matrix with at most this many changed entries repaints only their cells.
    FEW_CHANGED = 4

    def __init__(self, rows: int, cols: int, cell_px: int = 32,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, background=None)
        self.setFrameShape(pg.QtWidgets.QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self.image = _CellImage(axisOrder="row-major")
        self.addItem(self.image)
        self.overlay = _Overlay()
        self.addItem(self.overlay)
        self.tooltip_fn: Callable[[int, int], str] | None = None
        self._theme: Theme | None = None
        self._vmax = 1.0
        self._values = np.zeros((rows, cols))
        self._press: tuple[int, int, float] | None = None  # row, col, y at press
        self._rows = self._cols = 0
        self._cell_px = cell_px
        self.set_shape(rows, cols, cell_px)

    # ------------------------------------------------------------------ geometry

    @property
    def rows(self) -> int:
        return self._rows

    @property
    def cols(self) -> int:
        return self._cols

    @property
    def values(self) -> np.ndarray:
        """The matrix shown, shape (rows, cols) (read-only copy)."""
        return self._values

    def set_shape(self, rows: int, cols: int, cell_px: int) -> None:
        """Size the view for a (rows, cols) matrix at ``cell_px`` pixels per cell."""
        self._rows, self._cols, self._cell_px = rows, cols, cell_px
        self.setFixedSize(QSize(cols * cell_px, rows * cell_px))
        self.setRange(QRectF(0, 0, cols, rows), padding=0)
        if self._values.shape != (rows, cols):
            self._values = np.zeros((rows, cols))
        self.image.setImage(self._values, levels=(-self._vmax, self._vmax), autoLevels=False)
        self.overlay.set_shape(rows, cols)
        self._update_labels()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(self._cols * self._cell_px, self._rows * self._cell_px)

    def cell_at(self, pos: QPoint | QPointF) -> tuple[int, int] | None:
        """(row, col) under a viewport position, or None outside the matrix."""
        p = self.mapToScene(QPoint(int(pos.x()), int(pos.y())))
        r, c = int(np.floor(p.y())), int(np.floor(p.x()))
        if 0 <= r < self._rows and 0 <= c < self._cols:
            return r, c
        return None

    def cell_pos(self, row: int, col: int) -> QPoint:
        """Centre of cell (row, col) in viewport coordinates."""
        return self.mapFromScene(QPointF(col + 0.5, row + 0.5))

    # ------------------------------------------------------------------ content

    def set_theme(self, theme: Theme, vmax: float, font: QFont) -> None:
        """Colours (diverging LUT with levels ±vmax), outline colour and label font."""
        self._theme, self._vmax = theme, float(vmax)
        self.image.theme, self.image.vmax = theme, self._vmax
        self.image.setLookupTable(theme.lut(256))
        self.image.setLevels((-self._vmax, self._vmax))
        self.overlay.select_pen = QPen(QColor(theme.accent), 3)
        self.overlay.grid_pen = QPen(QColor(theme.background), 1)
        self.setBackground(QColor(theme.background))
        self.overlay.font = font
        self._update_labels()

    def set_values(self, values: np.ndarray) -> None:
        """Show a new (rows, cols) matrix with the fixed levels (no auto-levels)."""
        new = np.array(values, dtype=np.float64).reshape(self._rows, self._cols)
        changed = ~((new == self._values) | (np.isnan(new) & np.isnan(self._values)))
        if not changed.any():
            return
        self._values = new
        self._values.flags.writeable = False
        dirty = None
        if changed.sum() <= self.FEW_CHANGED:       # repaint those cells only
            rs, cs = np.nonzero(changed)
            dirty = QRectF(float(cs.min()), float(rs.min()), float(cs.max() - cs.min() + 1),
                           float(rs.max() - rs.min() + 1)).adjusted(-0.1, -0.1, 0.1, 0.1)
        self.image.dirty = self.overlay.dirty = dirty
        try:
            self.image.setImage(self._values, levels=(-self._vmax, self._vmax), autoLevels=False)
            self._update_labels(np.flatnonzero(changed) if dirty is not None else None)
        finally:
            self.image.dirty = self.overlay.dirty = None

    def set_selected(self, cell: tuple[int, int] | None) -> None:
        """Outline one cell, or none."""
        self.overlay.set_selected(cell)

    @property
    def selected(self) -> tuple[int, int] | None:
        return self.overlay.selected

    def printed(self) -> bool:
        """True if values are printed inside the cells at this size."""
        return self._rows <= self.MAX_PRINTED and self._cols <= self.MAX_PRINTED and \
            self._cell_px >= 24

    def _update_labels(self, only: np.ndarray | None = None) -> None:
        """The printed numbers and their colours (black on light cells, white on dark);
        ``only``: the flat indices of the cells that changed (the rest are as shown)."""
        if not self.printed() or self._theme is None:
            self.overlay.set_labels([], [])
            return
        texts, colors = self.overlay.labels
        if only is None or len(texts) != self._values.size:
            only = np.arange(self._values.size)
            texts, colors = [""] * only.size, [_DARK] * only.size
        else:
            texts, colors = list(texts), list(colors)
        v = self._values.ravel()[only]
        lum = self._theme.value_rgb(v, self._vmax).astype(float) @ _LUMA
        for k, x, y in zip(only.tolist(), v.tolist(), lum.tolist()):
            texts[k] = cell_text(x)
            colors[k] = _DARK if y > 140 else _LIGHT
        self.overlay.set_labels(texts, colors)

    # ------------------------------------------------------------------ mouse

    def mousePressEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        cell = self.cell_at(ev.position())
        if ev.button() == Qt.MouseButton.LeftButton and cell is not None:
            self._press = (cell[0], cell[1], ev.position().y())
            self.pressed.emit(*cell)
            ev.accept()
        else:
            ev.ignore()

    def mouseMoveEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        if self._press is not None and ev.buttons() & Qt.MouseButton.LeftButton:
            r, c, y0 = self._press
            fine = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self.dragged.emit(r, c, float(y0 - ev.position().y()), fine)
            ev.accept()
            return
        over = self.cell_at(ev.position()) is not None
        self.viewport().setCursor(Qt.CursorShape.SizeVerCursor if over
                                  else Qt.CursorShape.ArrowCursor)
        ev.ignore()

    def mouseReleaseEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        if self._press is not None and ev.button() == Qt.MouseButton.LeftButton:
            r, c, _ = self._press
            self._press = None
            self.released.emit(r, c)
            ev.accept()
        else:
            ev.ignore()

    def wheelEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        cell = self.cell_at(ev.position())
        d = ev.angleDelta()
        delta = d.y() or d.x()          # Shift+wheel turns vertical into horizontal on some systems
        if cell is None or delta == 0:
            ev.ignore()
            return
        fine = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        self.wheeled.emit(cell[0], cell[1], delta / 120.0, fine)
        ev.accept()

    def viewportEvent(self, ev) -> bool:  # noqa: N802 (Qt override)
        if ev.type() == QEvent.Type.ToolTip:
            cell = self.cell_at(ev.pos())
            text = self.tooltip_fn(*cell) if (cell is not None and self.tooltip_fn) else ""
            if text:
                QToolTip.showText(ev.globalPos(), text, self.viewport())
            else:
                QToolTip.hideText()
                ev.ignore()
            return True
        return super().viewportEvent(ev)


class ColorBar(QWidget):
    """The diverging value scale as a horizontal bar labelled −vmax, 0, +vmax."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lut = np.zeros((2, 4), dtype=np.ubyte)
        self._vmax = 1.0
        self._fg = QColor("#000000")
        self._fmt: Callable[[float], str] = cell_text
        self.setMinimumWidth(160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    @property
    def vmax(self) -> float:
        return self._vmax

    def set_scale(self, theme: Theme, vmax: float, fmt: Callable[[float], str] | None = None) -> None:
        """Colours from the theme's LUT, limits ±vmax, text in the theme's foreground."""
        self._lut = theme.lut(64)
        self._vmax = float(vmax)
        self._fg = QColor(theme.foreground)
        if fmt is not None:
            self._fmt = fmt
        fm = self.fontMetrics()
        self.setFixedHeight(int(fm.height() * 2.2))
        self.setToolTip(f"Colour scale shared by every weight, bias and initial state here: "
                        f"blue is negative, red is positive, from {self._fmt(-vmax)} to "
                        f"{self._fmt(vmax)} (values beyond it get the end colours).")
        self.update()

    def paintEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        fm = self.fontMetrics()
        bar_h = max(8, int(fm.height() * 0.9))
        left = fm.horizontalAdvance(self._fmt(-self._vmax)) // 2 + 2
        right = fm.horizontalAdvance(self._fmt(self._vmax)) // 2 + 2
        bar = QRect(left, 1, max(10, self.width() - left - right), bar_h)
        grad = QLinearGradient(bar.left(), 0, bar.right(), 0)
        n = len(self._lut)
        for k, (r, g, b, a) in enumerate(self._lut):
            grad.setColorAt(k / (n - 1), QColor(int(r), int(g), int(b), int(a)))
        p.fillRect(bar, grad)
        p.setPen(QPen(self._fg, 1))
        p.drawRect(bar)
        y = bar.bottom() + 2
        for frac, v in ((0.0, -self._vmax), (0.5, 0.0), (1.0, self._vmax)):
            x = bar.left() + frac * bar.width()
            p.drawLine(QPointF(x, bar.bottom()), QPointF(x, bar.bottom() + 3))
            text = self._fmt(v)
            w = fm.horizontalAdvance(text)
            p.drawText(QRectF(x - w / 2 - 1, y + 2, w + 2, fm.height()),
                       Qt.AlignmentFlag.AlignCenter, text)
        p.end()


class AxisLabels(QWidget):
    """Numbers 1..n along a heatmap's rows or columns, one per cell (every k-th if crowded)."""

    def __init__(self, orientation: Qt.Orientation, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._orientation = orientation
        self._n = 0
        self._cell_px = 1
        self._color = QColor("#555555")
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def set_axis(self, n: int, cell_px: int, color: QColor) -> None:
        """``n`` cells of ``cell_px`` pixels, numbers drawn in ``color``."""
        self._n, self._cell_px, self._color = n, cell_px, QColor(color)
        fm = self.fontMetrics()
        if self._orientation == Qt.Orientation.Horizontal:
            self.setFixedSize(n * cell_px, fm.height())
        else:
            self.setFixedSize(fm.horizontalAdvance(str(max(n, 1))) + 6, n * cell_px)
        self.update()

    def _every(self) -> int:
        fm = self.fontMetrics()
        need = (fm.horizontalAdvance(str(self._n)) + 4 if self._orientation == Qt.Orientation.Horizontal
                else fm.height())
        k = 1
        while k * self._cell_px < need:
            k *= 2
        return k

    def paintEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        if self._n == 0:
            return
        p = QPainter(self)
        p.setPen(self._color)
        k = self._every()
        horizontal = self._orientation == Qt.Orientation.Horizontal
        for i in range(0, self._n, k):
            if horizontal:
                rect = QRectF(i * self._cell_px - self._cell_px, 0, 3 * self._cell_px, self.height())
            else:
                rect = QRectF(0, i * self._cell_px, self.width() - 4, self._cell_px)
            align = Qt.AlignmentFlag.AlignCenter if horizontal else \
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            p.drawText(rect, align, str(i + 1))
        p.end()
