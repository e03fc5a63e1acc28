"""Small pieces several views share: a quiet log plot, themed axes, the step under x,
a side panel that scrolls instead of cutting its text off, and a cheap wrapped text line
for numbers that change on every step or edit."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QStaticText, QTransform
from PySide6.QtWidgets import QFrame, QScrollArea, QSizePolicy, QWidget


def step_at(x: float, steps: int) -> int:
    """The 0-based step nearest plot coordinate ``x`` (steps are drawn at 1 .. T), clamped."""
    return int(np.clip(np.floor(x + 0.5) - 1, 0, steps - 1))


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
    return widget, plot


def style_axes(axes, theme, font, tick_offset: int | None = None) -> None:
    """Pen, tick text and label font of pyqtgraph axes in ``theme``'s foreground."""
    for ax in axes:
        ax.setPen(pg.mkPen(theme.foreground, width=1))
        ax.setTextPen(pg.mkPen(theme.foreground))
        if tick_offset is None:
            ax.setStyle(tickFont=font)
        else:
            ax.setStyle(tickFont=font, tickTextOffset=tick_offset)
        ax.label.setFont(font)


def scrolling(widget: QWidget, parent: QWidget) -> QScrollArea:
    """``widget`` in a frameless scroll area: at laptop sizes or large type its text
    scrolls instead of being cut off."""
    area = QScrollArea(parent)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(widget)
    widget.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
    return area


class NumberLines(QWidget):
    """Plain lines of numbers, painted directly.

    Cheaper than a rich-text QLabel for text that changes on every step: a new
    text is laid out once (a QStaticText wrapped to the width, which both
    sizes the widget and is what paint draws), the layout is asked to change
    only when the number of wrapped lines does, and paint just draws the laid
    out glyphs. It paints its own background (`set_background`) and is
    opaque, so a new number does not repaint the frames behind it.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self._static = QStaticText()
        self._static.setTextFormat(Qt.TextFormat.PlainText)
        self._height = 0
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
            self._static.setText(text)
            self._fit()
            self.update()

    def _fit(self) -> None:
        """Lay the text out for the current width and font; fit the height to it."""
        self._static.setTextWidth(max(self.width(), 10))
        self._static.prepare(QTransform(), self.font())
        h = math.ceil(self._static.size().height()) + 2 if self._text else 2
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
