"""The unrolled strip: the whole sequence as a row of small cells, one per step.

The cell-state highway runs through every cell, coloured by C_t (h_t for cells
without a cell state); a small swatch shows h_t; the input token sits under each
cell; the current step is outlined. With one unit focused both show that unit;
with all units shown, the band and the swatch are split into one row per unit,
top to bottom (as the diagram's strips are one cell per unit), so a unit that
holds its value is seen holding it whatever the others do. Cell states past
`DISPLAY_LIMIT` (an experiment that overflows) are drawn at the scale's ends.
Click a cell to jump there; hover it for its numbers.

Long sequences (thousands of steps) stay cheap: the widget is one scroll area
whose ``paintEvent`` draws only the visible cells from colours precomputed when
the trace, the unit or the theme changes. The current step is kept in view.
Moving the cursor repaints only the old and the new current cell (unless the
strip has to scroll), and ``paintEvent`` draws only the cells in the exposed
rectangle.

The strip needs only the height of a cell and a token line: its size hint and
maximum height say so (scaled with the font scale), so a splitter does not give
it a blank band.

The loss step carries a small "L" badge. In gradient mode (``state.show_gradients``)
the strip shows the gradient flowing back instead of the values: the highway band
in step t's cell is as thick and as strong as |dL/dC_t| (LSTM; |dL/dh_t| for a
GRU or RNN), and a second line, the h path, as thick as |dL/dh_t|. Both use one
logarithmic scale (`gradient_levels`, six decades below the largest gradient),
so a vanishing gradient fades step by step and the LSTM's cell state is seen
carrying the gradient further than the h path. Steps with no gradient at all
(after the loss step, or cut off by truncation) draw nothing. `play_backward`
animates a front moving from the loss step back to step 1, revealing the
gradient as it goes.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEasingCurve, QEvent, QRect, QSize, Qt, QVariantAnimation, Signal
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPen, QPixmap, QStaticText
from PySide6.QtWidgets import QAbstractScrollArea, QSizePolicy, QToolTip, QWidget

from ..explain import fmt, loss_formula
from ..model.analysis import unit_magnitude
from ..model.paths import backward_window
from .equations import unicode_subscripts
from .kit import DISPLAY_LIMIT, argb_image, static_text
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
#: Decades of gradient magnitude the gradient widths span (below that: a hairline).
DECADES = 6.0
#: Duration of `play_backward`'s sweep from the loss step to step 1, in ms.
BACKWARD_MS = 1500


#: Shades between the panel colour and the full colour of a gradient line.
SHADES = 32


def _shades(a: str, b: str, n: int = SHADES) -> list[QColor]:
    """``n`` colours from ``a`` to ``b`` (inclusive)."""
    ca, cb = QColor(a), QColor(b)
    ra = np.array([ca.red(), ca.green(), ca.blue()], dtype=float)
    rb = np.array([cb.red(), cb.green(), cb.blue()], dtype=float)
    t = np.linspace(0.0, 1.0, n)[:, None]
    rgb = np.rint(ra + (rb - ra) * t).astype(int)
    return [QColor(int(r), int(g), int(b_)) for r, g, b_ in rgb]


def _shade_index(levels: np.ndarray, n: int = SHADES) -> np.ndarray:
    """Which of `_shades` each level gets: a quarter strength at level 0 up to full at 1."""
    strength = 0.25 + 0.75 * np.clip(np.asarray(levels, dtype=float), 0.0, 1.0)
    return np.rint(strength * (n - 1)).astype(int)


def gradient_levels(mags: np.ndarray, gmax: float, decades: float = DECADES) -> np.ndarray:
    """Where each magnitude sits on a log scale: 1 at ``gmax``, 0 at ``gmax * 10**-decades``.

    Exact zeros (no gradient reached the step) and NaN give -1, so they are not
    drawn; an infinite magnitude gives 1. ``gmax`` should be the largest finite one.
    """
    m = np.asarray(mags, dtype=float)
    out = np.full(m.shape, -1.0)
    nz = (m > 0) & np.isfinite(m)
    if gmax > 0 and np.isfinite(gmax) and np.any(nz):
        out[nz] = np.clip(1.0 + np.log10(m[nz] / gmax) / decades, 0.0, 1.0)
    out[np.isposinf(m)] = 1.0
    return out


def gradient_widths(levels: np.ndarray, max_width: int) -> np.ndarray:
    """Line widths in pixels for `gradient_levels`: 0 for -1, else 1 .. max_width."""
    lv = np.asarray(levels, dtype=float)
    w = np.rint(1.0 + np.clip(lv, 0.0, 1.0) * (max_width - 1)).astype(int)
    w[lv < 0] = 0
    return w


_LUT_COLORS: dict[str, list[QColor]] = {}


def _colors(theme, values: np.ndarray, vmax: float) -> list[QColor]:
    """One QColor per value on the theme's diverging scale (the 256 colours are made once)."""
    lut = _LUT_COLORS.get(theme.name)
    if lut is None:
        rgb = theme.value_rgb(np.linspace(-1.0, 1.0, 256), 1.0)
        lut = _LUT_COLORS[theme.name] = [QColor(int(r), int(g), int(b)) for r, g, b in rgb]
    if vmax <= 0 or not np.isfinite(vmax):
        vmax = 1.0
    # the same index as Theme.value_rgb (values clipped first: an overflowed state is inf)
    v = np.clip(np.nan_to_num(np.asarray(values, dtype=float)), -vmax, vmax)
    idx = np.clip(np.round((v / vmax + 1.0) * 0.5 * 255), 0, 255).astype(int)
    return [lut[i] for i in idx.tolist()]


class UnrolledStripView(QAbstractScrollArea):
    """The sequence as a strip of cells for one `AppState`.

    Signals
    -------
    backward_reached(int)   `play_backward`'s front has reached the current step (its
                            number): the window plays that step backward on the diagram.
    """

    backward_reached = Signal(int)

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
        self._rows: tuple[QImage, QImage] | None = None    # (C, h) by unit, all units shown
        self._cell = MIN_CELL
        self._shown_t = state.timestep
        self._state_name = "C"
        self._loss_step = state.loss_step
        self._first_step = 0
        self._grad_c = np.zeros(0)          # the magnitudes behind the widths, (T,)
        self._grad_h = np.zeros(0)
        self._graded = False                          # the next three match the trace
        self._band_widths = np.zeros(0, dtype=int)    # highway thickness per step (px)
        self._h_widths = np.zeros(0, dtype=int)       # h-path thickness per step (px)
        self._band_colors: list[QColor] = []
        self._hpath_colors: list[QColor] = []
        self._shade_key: tuple | None = None
        self._front = 0.0                   # gradient shown for steps >= front (in steps)
        self._anim = QVariantAnimation(self)
        self._anim.setEasingCurve(QEasingCurve.Type.InOutSine)
        self._anim.valueChanged.connect(self._on_front)
        self._anim.finished.connect(self._backward_done)
        state.trace_changed.connect(self._recolor)
        state.unit_changed.connect(self._recolor)
        state.appearance_changed.connect(self._on_appearance)
        state.timestep_changed.connect(self._on_timestep)
        state.gradients_shown.connect(self._on_gradients_shown)
        self._on_appearance()

    # ------------------------------------------------------------------ precomputation

    def _on_appearance(self) -> None:
        th, s = self.state.theme, self.state.font_scale
        self._font = scaled_font(th, s, TOKEN_FACTOR, bold=True)
        self._scale = s
        fm = QFontMetrics(self._font)
        self._box_h = round(BOX_H * s)
        self._band_h = max(6, round(BAND_H * s))
        self._band_max = max(6, round(BAND_H * 1.5 * s))     # gradient highway, thickest
        self._hpath_max = max(4, round(BAND_H * s))           # gradient h path, thickest
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
            "front": QPen(QColor(th.accent), max(2.0, 2.5 * s)),
            "badge": QPen(QColor(th.background)),
        }
        self._badge_font = scaled_font(th, s, 0.8, bold=True)
        self._badge_brush = QColor(th.foreground)
        self._bg = QColor(th.background)
        self._panel = QColor(th.panel)
        self._hi = highlight_color(th)
        self._tokens: dict[tuple[str, int], QStaticText | None] = {}   # for this font
        self._box_pixmap: QPixmap | None = None
        self._layer: QPixmap | None = None      # `_static_layer` and what it was drawn for
        self._layer_key: tuple | None = None
        self._recolor()

    def _recolor(self, *_args) -> None:
        tr, u, th = self.state.trace, self.state.unit, self.state.theme
        cells = tr.c if tr.c is not None else tr.h
        self._state_name = "C" if tr.c is not None else "h"
        # the scale comes from the finite values, at most DISPLAY_LIMIT: past it, and inf
        # and NaN, show at the scale's ends
        finite = np.abs(cells[np.isfinite(cells)])
        vmax = min(max(1.0, float(finite.max())) if finite.size else 1.0, DISPLAY_LIMIT)
        if u >= 0 or tr.hidden_size == 1:
            u = max(u, 0)
            self._c_colors = _colors(th, cells[:, u], vmax)
            self._h_colors = _colors(th, tr.h[:, u], 1.0)
            self._rows = None
        else:
            # a pixel per step across and per unit down: painting scales a step's column
            # up to its band or swatch
            self._rows = (argb_image(th.value_argb(cells.T, vmax)),
                          argb_image(th.value_argb(tr.h.T, 1.0)))
        self._loss_step = tr.loss_step
        self._first_step = backward_window(tr.loss_step, self.state.options)[0]
        self._front = min(self._front, float(tr.steps))
        self._graded = False                # the gradient lines are redone when shown or read
        if self.state.show_gradients:
            self._regrade()
        self._relayout()

    @property
    def band_widths(self) -> np.ndarray:
        """The gradient highway's thickness per step (px)."""
        self._ensure_graded()
        return self._band_widths

    @property
    def h_widths(self) -> np.ndarray:
        """The gradient h path's thickness per step (px)."""
        self._ensure_graded()
        return self._h_widths

    def _ensure_graded(self) -> None:
        if not self._graded:
            self._regrade()

    def _regrade(self) -> None:
        """Widths and colours of the gradient lines (vectorised; paint only draws them).

        They read the trace's gradients, so they are made only while the strip shows
        gradients or when read: otherwise an edit would run the backward pass for them.
        """
        self._graded = True
        tr, u, th = self.state.trace, self.state.unit, self.state.theme
        lstm = tr.dL_dc is not None

        dh = unit_magnitude(tr.dL_dh, u)          # inf/NaN of an overflowed experiment pass
        dc = unit_magnitude(tr.dL_dc, u) if lstm else dh
        both = np.concatenate([dc, dh])
        both = both[np.isfinite(both)]
        gmax = float(both.max()) if both.size else 0.0
        self._grad_c, self._grad_h, self._grad_max = dc, dh, gmax
        lc, lh = gradient_levels(dc, gmax), gradient_levels(dh, gmax)
        self._band_widths = gradient_widths(lc, self._band_max)
        self._h_widths = gradient_widths(lh, self._hpath_max) if lstm else np.zeros_like(
            self._band_widths)
        band = th.gate_colors.get("c" if lstm else "h", th.foreground)
        hcol = th.gate_colors.get("h", th.foreground)
        # brightness grows with the level: from the cell's panel colour to the full colour
        key = (th.name, band, hcol)
        if key != self._shade_key:
            self._shade_key = key
            self._band_shades = _shades(th.panel, band)
            self._hpath_shades = _shades(th.panel, hcol)
        bs, hs = self._band_shades, self._hpath_shades
        self._band_colors = [bs[i] for i in _shade_index(lc).tolist()]
        self._hpath_colors = [hs[i] for i in _shade_index(lh).tolist()]
        if self.state.show_gradients:
            self.viewport().update()

    def _on_gradients_shown(self, on: bool) -> None:
        if not on:
            self._anim.stop()
            self._front = 0.0
        else:
            self._ensure_graded()
        self.viewport().update()

    # ------------------------------------------------------------------ backward animation

    @property
    def backward_front(self) -> float:
        """The animated front, in steps: the gradient is drawn for steps at or right of it."""
        return self._front

    @property
    def playing_backward(self) -> bool:
        return self._anim.state() == QVariantAnimation.State.Running

    def play_backward(self) -> None:
        """Animate the backward pass: a front moves from the loss step to step 1.

        Switches the views to gradients (``state.set_show_gradients(True)``).
        With ``state.animation_ms == 0`` (no animation) the end state is drawn at once.
        """
        self._anim.stop()
        self.state.set_show_gradients(True)
        if self.state.animation_ms <= 0:
            self._front = 0.0
            self.viewport().update()
            return
        self._anim.setStartValue(float(self._loss_step) + 1.0)
        self._anim.setEndValue(0.0)
        self._anim.setDuration(BACKWARD_MS)
        self._front = float(self._loss_step) + 1.0
        self._anim.start()

    def _on_front(self, v) -> None:
        old, self._front = self._front, float(v)
        t = self.state.timestep
        if self._front <= t < old:                  # the front has just reached step t
            self.backward_reached.emit(t)
        self.viewport().update()

    def _backward_done(self) -> None:
        self._front = 0.0
        self.viewport().update()

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

    def band_rect(self, t: int) -> QRect:
        """Viewport rectangle of the highway band in step ``t``'s cell."""
        return QRect(self._origin() + t * self._cell, self._band_y(), self._cell, self._band_h)

    def _band_y(self) -> int:
        return PAD + self._box_h // 3 - self._band_h // 2

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
        cur = self._shown_t = self.state.timestep
        band_y = self._band_y()
        sw = max(6, min(cw - 12, round(14 * self._scale)))
        p.drawPixmap(exposed, self._static_layer(x0, cw), exposed)   # boxes and tokens
        if first <= cur < last:
            p.setPen(self._pens["current"])
            p.setBrush(self._hi)
            p.drawRoundedRect(self.cell_rect(cur), 5, 5)
        grad = self.state.show_gradients
        left, right = x0 + first * cw, x0 + last * cw
        if grad:
            self._paint_gradient(p, first, last, x0, cw, band_y)
        else:
            # The highway: one continuous band through every visible cell.
            p.setPen(Qt.PenStyle.NoPen)
            rows = self._rows
            if rows is not None:                     # a row per unit, scaled up unsmoothed
                H = rows[0].height()
                p.drawImage(QRect(left, band_y, right - left, self._band_h), rows[0],
                            QRect(first, 0, last - first, H))
            else:
                for t in range(first, last):
                    p.fillRect(QRect(x0 + t * cw, band_y, cw, self._band_h), self._c_colors[t])
            p.setPen(self._pens["swatch"])
            p.drawLine(left, band_y - 1, right, band_y - 1)
            p.drawLine(left, band_y + self._band_h, right, band_y + self._band_h)
            hy = PAD + self._box_h - sw - 5
            if rows is not None:
                p.setBrush(Qt.BrushStyle.NoBrush)
            for t in range(first, last):
                x = x0 + t * cw + (cw - sw) // 2
                if rows is not None:
                    p.drawImage(QRect(x, hy, sw, sw), rows[1], QRect(t, 0, 1, H))
                else:
                    p.setBrush(self._h_colors[t])
                p.drawRect(QRect(x, hy, sw, sw))
        if first <= self._loss_step < last:
            self._paint_loss_badge(p, self._loss_step)
        p.end()

    def _static_layer(self, x0: int, cw: int) -> QPixmap:
        """The viewport's cells as they are whatever the values: background, every box
        (not current) and every token, drawn once per layout, scroll position, theme
        and labels. A repaint (a drag recolours every cell) blits it: one copy
        instead of a box and a token per step."""
        vp = self.viewport()
        T = self.state.trace.steps
        first = max(0, (-2 - x0) // cw)
        last = min(T, (vp.width() + 2 - x0) // cw + 1)
        labels = tuple(self.state.labels[first:last])
        box = self._box()
        key = (x0, cw, first, last, vp.width(), vp.height(), box.cacheKey(), self._font.key(),
               self._bg.rgba(), self._pens["text"].color().rgba(), labels)
        if self._layer_key == key and self._layer is not None:
            return self._layer
        dpr = self.devicePixelRatioF()
        pm = QPixmap(round(vp.width() * dpr), round(vp.height() * dpr))
        pm.setDevicePixelRatio(dpr)
        pm.fill(self._bg)
        q = QPainter(pm)
        q.setFont(self._font)
        q.setPen(self._pens["text"])
        ty = PAD + self._box_h + 2
        for t, label in zip(range(first, last), labels + ("",) * (last - first - len(labels))):
            q.drawPixmap(self.cell_rect(t).topLeft(), box)
            token = self._token(label, cw)
            if token is not None:
                q.drawStaticText(x0 + t * cw + (cw - token.size().width()) / 2, ty, token)
        q.end()
        self._layer, self._layer_key = pm, key
        return pm

    def _token(self, label: str, cw: int) -> QStaticText | None:
        """The laid-out token under a cell ``cw`` wide (None: nothing fits, or no label).

        Tokens repeat and rarely change, so each is elided and laid out once per
        font and cell width, and painting only draws the glyphs.
        """
        key = (label, cw)
        if key not in self._tokens:
            text = TOKEN_GLYPH.get(label, label)
            token = None
            if text:
                text = QFontMetrics(self._font).elidedText(text, Qt.TextElideMode.ElideRight, cw - 2)
                if text != "…":                 # no room: leave it to the tool tip
                    token = static_text(text, self._font)
            if len(self._tokens) > 4096:
                self._tokens.clear()
            self._tokens[key] = token
        return self._tokens[key]

    def _box(self) -> QPixmap:
        """A step's box when it is not the current step, drawn once per size and theme."""
        r = self.cell_rect(0)
        w, h = r.width() + 1, r.height() + 1       # the 1 px outline's right and bottom edges
        dpr = self.devicePixelRatioF()
        pm = self._box_pixmap
        if pm is None or pm.width() != round(w * dpr) or pm.height() != round(h * dpr):
            pm = QPixmap(round(w * dpr), round(h * dpr))
            pm.setDevicePixelRatio(dpr)
            pm.fill(self._bg)
            q = QPainter(pm)
            q.setPen(self._pens["box"])
            q.setBrush(self._panel)
            q.drawRoundedRect(QRect(0, 0, r.width(), r.height()), 5, 5)
            q.end()
            self._box_pixmap = pm
        return pm

    def _hpath_y(self) -> int:
        return PAD + round(self._box_h * 0.72)

    def _paint_gradient(self, p: QPainter, first: int, last: int, x0: int, cw: int,
                        band_y: int) -> None:
        """The gradient lines of the visible cells, right of the animated front."""
        cy = band_y + self._band_h // 2
        hy = self._hpath_y()
        xf = x0 + round(self._front * cw)
        p.save()
        p.setClipRect(QRect(xf, 0, max(0, x0 + last * cw - xf), self.viewport().height()),
                      Qt.ClipOperation.IntersectClip)
        p.setPen(Qt.PenStyle.NoPen)
        bw, hw = self.band_widths, self.h_widths
        for t in range(first, last):
            w = int(bw[t])
            if w:
                p.fillRect(QRect(x0 + t * cw, cy - w // 2, cw, w), self._band_colors[t])
            w = int(hw[t])
            if w:
                p.fillRect(QRect(x0 + t * cw, hy - w // 2, cw, w), self._hpath_colors[t])
        p.restore()
        if self.playing_backward:
            p.setPen(self._pens["front"])
            p.drawLine(xf, PAD, xf, PAD + self._box_h)

    def _paint_loss_badge(self, p: QPainter, s: int) -> None:
        """A small "L" in the top-right corner of the loss step's box."""
        r = self.cell_rect(s)
        fm = QFontMetrics(self._badge_font)
        d = fm.height()
        badge = QRect(r.right() - d - 1, r.top() + 2, d, d)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self._badge_brush)
        p.drawEllipse(badge)
        p.setPen(self._pens["badge"])
        p.setFont(self._badge_font)
        p.drawText(badge, Qt.AlignmentFlag.AlignCenter, "L")
        p.setFont(self._font)

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
                lines.append(f"Cₜ = {fmt(cells[t, u])}")
            lines.append(f"hₜ = {fmt(tr.h[t, u])}")
        else:
            lines = []
            if cells is not None:
                lines.append("Cₜ = (" + ", ".join(fmt(v) for v in cells[t, :8]) + (", …)" if tr.hidden_size > 8 else ")"))
            lines.append("hₜ = (" + ", ".join(fmt(v) for v in tr.h[t, :8]) + (", …)" if tr.hidden_size > 8 else ")"))
            if tr.hidden_size > 1:
                lines.append(f"Band and swatch: one row per unit, unit 1 at the top, unit {tr.hidden_size} "
                             "at the bottom.")
        if t == tr.loss_step:
            # subscripts in the formula's symbols (hₛ, pₖ), not in a class's name (user text)
            formula, sep, which = loss_formula(tr, st.class_names).partition(", class k = ")
            lines.append(f"The loss {unicode_subscripts(formula)}{sep}{which} is measured on this "
                         "step (badge L).")
        if st.show_gradients:
            lines.extend(self._gradient_tip(t))
        return "\n".join([head, *lines, "Click to go to this step."])

    def _gradient_tip(self, t: int) -> list[str]:
        self._ensure_graded()
        tr = self.state.trace
        what = "|·|" if self.state.unit >= 0 else "‖·‖"
        out = []
        if tr.dL_dc is not None:
            out.append(f"{what[0]}dL/dCₜ{what[-1]} = {fmt(self._grad_c[t])}  (highway thickness)")
            out.append(f"{what[0]}dL/dhₜ{what[-1]} = {fmt(self._grad_h[t])}  (h-path thickness)")
        else:
            out.append(f"{what[0]}dL/dhₜ{what[-1]} = {fmt(self._grad_h[t])}  (band thickness)")
        if np.isnan(self._grad_c[t]) or np.isnan(self._grad_h[t]):
            out.append("Not a number: the experiment overflowed, so the gradient is undefined.")
        elif t > tr.loss_step:
            out.append("No gradient: this step comes after the loss step, so it cannot change the loss.")
        elif t < self._first_step:
            out.append("No gradient: truncated backpropagation stops before this step.")
        elif self._grad_h[t] == 0.0 and (tr.dL_dc is None or self._grad_c[t] == 0.0):
            out.append("Exactly 0: nothing carries the gradient back to this step, or it shrank "
                       "below the smallest number a float64 can hold (about 5e−324).")
        return out

    def viewportEvent(self, ev) -> bool:  # noqa: N802 (Qt override)
        if ev.type() == QEvent.Type.ToolTip:
            text = self.tooltip_at(ev.pos().x())
            if text:
                QToolTip.showText(ev.globalPos(), text, self.viewport())
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(ev)
