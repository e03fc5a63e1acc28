"""The unrolled strip: the whole sequence as a row of small cells, one per step.

The cell-state highway runs through every cell, coloured by C_t (the focused
unit, or the mean over units when all are shown; h_t for cells without a cell
state); a small swatch shows h_t; the input token sits under each cell; the
current step is outlined. Click a cell to jump there; hover it for its numbers.

Long sequences (thousands of steps) stay cheap: the widget is one scroll area
whose ``paintEvent`` draws only the visible cells from colours precomputed when
the trace, the unit or the theme changes. The current step is kept in view.
Moving the cursor repaints only the old and the new current cell (unless the
strip has to scroll), and ``paintEvent`` draws only the cells in the exposed
rectangle.

The strip needs only the height of a cell and a token line: its size hint and
maximum height say so (scaled with the font scale), so a splitter does not give
it a blank band.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QAbstractScrollArea, QSizePolicy, QToolTip, QWidget

from ..explain import fmt
from .theme import highlight_color, scaled_font

#: Cell width limits in pixels at font scale 1.
MIN_CELL = 22
MAX_CELL = 110
#: Height of the cell boxes and of the highway band, at font scale 1.
BOX_H = 44
BAND_H = 12
#: Margin above the boxes and below the tokens, in pixels.
PAD = 6
#: Type size of the tokens under the cells (times the theme's base size and the font scale).
TOKEN_FACTOR = 1.3
#: Tokens drawn with a bigger glyph of the same meaning (a quiet step's "·" is a speck).
TOKEN_GLYPH = {"·": "•"}


def _colors(theme, values: np.ndarray, vmax: float) -> list[QColor]:
    """One QColor per value on the theme's diverging scale."""
    rgb = theme.value_rgb(values, vmax)
    return [QColor(int(r), int(g), int(b)) for r, g, b in rgb]


class UnrolledStripView(QAbstractScrollArea):
    """The sequence as a strip of cells for one `AppState`."""

    def __init__(self, state, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setFrameShape(QAbstractScrollArea.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.viewport().setMouseTracking(True)
        self.viewport().setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAccessibleName("Unrolled sequence strip")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        self.horizontalScrollBar().valueChanged.connect(self.viewport().update)
        self._c_colors: list[QColor] = []
        self._h_colors: list[QColor] = []
        self._cell = MIN_CELL
        self._shown_t = state.timestep
        self._state_name = "C"
        state.trace_changed.connect(self._recolor)
        state.unit_changed.connect(self._recolor)
        state.appearance_changed.connect(self._on_appearance)
        state.timestep_changed.connect(self._on_timestep)
        self._on_appearance()

    # ------------------------------------------------------------------ precomputation

    def _on_appearance(self) -> None:
        th, s = self.state.theme, self.state.font_scale
        self._font = scaled_font(th, s, TOKEN_FACTOR, bold=True)
        self._scale = s
        fm = QFontMetrics(self._font)
        self._box_h = round(BOX_H * s)
        self._band_h = max(6, round(BAND_H * s))
        self._label_h = fm.height()
        self._height = self.content_height() + self.horizontalScrollBar().sizeHint().height()
        self.setMinimumHeight(self._height)
        self.setMaximumHeight(self._height)
        self.updateGeometry()
        self._pens = {
            "box": QPen(QColor(th.grid), 1.0),
            "current": QPen(QColor(th.accent), max(2.0, 3.0 * s)),
            "text": QPen(QColor(th.foreground)),
            "muted": QPen(QColor(th.muted)),
            "swatch": QPen(QColor(th.muted), 1.0),
        }
        self._bg = QColor(th.background)
        self._panel = QColor(th.panel)
        self._hi = highlight_color(th)
        self._recolor()

    def _recolor(self, *_args) -> None:
        tr, u, th = self.state.trace, self.state.unit, self.state.theme
        cells = tr.c if tr.c is not None else tr.h
        self._state_name = "C" if tr.c is not None else "h"
        c = cells[:, u] if u >= 0 else cells.mean(axis=1)
        h = tr.h[:, u] if u >= 0 else tr.h.mean(axis=1)
        vmax = max(1.0, float(np.max(np.abs(cells))))
        self._c_colors = _colors(th, c, vmax)
        self._h_colors = _colors(th, h, 1.0)
        self._relayout()

    def _relayout(self) -> None:
        T = self.state.trace.steps
        width = max(1, self.viewport().width())
        lo, hi = round(MIN_CELL * self._scale), round(MAX_CELL * self._scale)
        self._cell = int(min(max(width // max(T, 1), lo), hi))
        bar = self.horizontalScrollBar()
        bar.setRange(0, max(0, T * self._cell - width))
        bar.setPageStep(width)
        bar.setSingleStep(self._cell)
        self._ensure_visible(self.state.timestep)
        self.viewport().update()

    def content_height(self) -> int:
        """Pixels the cells and their tokens need (without the scroll bar)."""
        return PAD + self._box_h + 2 + self._label_h + PAD

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(max(400, self.state.trace.steps * round(MIN_CELL * self._scale)),
                     self._height)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(120, self._height)

    def resizeEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(ev)
        self._relayout()

    # ------------------------------------------------------------------ geometry

    @property
    def cell_width(self) -> int:
        return self._cell

    def _origin(self) -> int:
        """x of step 0 in viewport coordinates (cells are centred when they do not fill it)."""
        total = self.state.trace.steps * self._cell
        free = self.viewport().width() - total
        return free // 2 if free > 0 else -self.horizontalScrollBar().value()

    def cell_rect(self, t: int) -> QRect:
        """Viewport rectangle of step ``t``'s box."""
        x = self._origin() + t * self._cell
        return QRect(x + 2, PAD, self._cell - 4, self._box_h)

    def column_rect(self, t: int) -> QRect:
        """Viewport rectangle of everything step ``t`` draws (box, outline, token)."""
        return QRect(self._origin() + t * self._cell - 2, 0, self._cell + 4,
                     self.viewport().height())

    def step_at(self, x: float) -> int:
        """The step under viewport x (-1 if none)."""
        t = int((x - self._origin()) // self._cell)
        return t if 0 <= t < self.state.trace.steps else -1

    def _ensure_visible(self, t: int) -> bool:
        """Scroll so step ``t`` is in view; True if it scrolled (the scroll repaints all)."""
        bar = self.horizontalScrollBar()
        left = t * self._cell
        width = self.viewport().width()
        if left < bar.value() or left + self._cell > bar.value() + width:
            before = bar.value()
            bar.setValue(left - (width - self._cell) // 2)
            return bar.value() != before
        return False

    def _on_timestep(self, t: int) -> None:
        old, self._shown_t = self._shown_t, t
        if self._ensure_visible(t):
            return
        vp = self.viewport()
        vp.update(self.column_rect(old))
        vp.update(self.column_rect(t))

    # ------------------------------------------------------------------ painting

    def paintEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        """Draw the cells inside the exposed rectangle (all visible ones on a full repaint)."""
        p = QPainter(self.viewport())
        exposed = ev.rect()
        p.fillRect(exposed, self._bg)
        T = self.state.trace.steps
        cw = self._cell
        x0 = self._origin()
        first = max(0, (exposed.left() - 2 - x0) // cw)
        last = min(T, (exposed.right() + 2 - x0) // cw + 1)
        if first >= last:
            p.end()
            return
        labels = self.state.labels
        cur = self._shown_t = self.state.timestep
        band_y = PAD + self._box_h // 3 - self._band_h // 2
        sw = max(6, min(cw - 12, round(14 * self._scale)))
        fm = QFontMetrics(self._font)
        p.setFont(self._font)
        for t in range(first, last):
            r = self.cell_rect(t)
            p.setPen(self._pens["current"] if t == cur else self._pens["box"])
            p.setBrush(self._hi if t == cur else self._panel)
            p.drawRoundedRect(r, 5, 5)
        # The highway: one continuous band through every visible cell.
        p.setPen(Qt.PenStyle.NoPen)
        for t in range(first, last):
            p.fillRect(QRect(x0 + t * cw, band_y, cw, self._band_h), self._c_colors[t])
        left, right = x0 + first * cw, x0 + last * cw
        p.setPen(self._pens["swatch"])
        p.drawLine(left, band_y - 1, right, band_y - 1)
        p.drawLine(left, band_y + self._band_h, right, band_y + self._band_h)
        hy = PAD + self._box_h - sw - 5
        for t in range(first, last):
            x = x0 + t * cw + (cw - sw) // 2
            p.setBrush(self._h_colors[t])
            p.drawRect(QRect(x, hy, sw, sw))
        p.setPen(self._pens["text"])
        ty = PAD + self._box_h + 2
        for t in range(first, last):
            text = labels[t] if t < len(labels) else ""
            text = TOKEN_GLYPH.get(text, text)
            if text:
                text = fm.elidedText(text, Qt.TextElideMode.ElideRight, cw - 2)
                if text == "…":
                    continue            # no room: leave it to the tool tip
                p.drawText(QRect(x0 + t * cw, ty, cw, self._label_h),
                           Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, text)
        p.end()

    # ------------------------------------------------------------------ interaction

    def mousePressEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        if ev.button() == Qt.MouseButton.LeftButton:
            t = self.step_at(ev.position().x())
            if t >= 0:
                self.state.set_timestep(t)
                return
        super().mousePressEvent(ev)

    def tooltip_at(self, x: float) -> str:
        """The hover text for the step under viewport x ("" if none)."""
        t = self.step_at(x)
        if t < 0:
            return ""
        st = self.state
        tr, u = st.trace, st.unit
        label = st.labels[t] if t < len(st.labels) else ""
        head = f"Step {t + 1} of {tr.steps}" + (f" · input “{label}”" if label else "")
        cells = tr.c if tr.c is not None else None
        if u >= 0:
            lines = [st.unit_label(u)]
            if cells is not None:
                lines.append(f"C_t = {fmt(cells[t, u])}")
            lines.append(f"h_t = {fmt(tr.h[t, u])}")
        else:
            lines = []
            if cells is not None:
                lines.append("C_t = (" + ", ".join(fmt(v) for v in cells[t, :8]) + (", …)" if tr.hidden_size > 8 else ")"))
            lines.append("h_t = (" + ", ".join(fmt(v) for v in tr.h[t, :8]) + (", …)" if tr.hidden_size > 8 else ")"))
        return "\n".join([head, *lines, "Click to go to this step."])

    def viewportEvent(self, ev) -> bool:  # noqa: N802 (Qt override)
        if ev.type() == QEvent.Type.ToolTip:
            text = self.tooltip_at(ev.pos().x())
            if text:
                QToolTip.showText(ev.globalPos(), text, self.viewport())
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(ev)
