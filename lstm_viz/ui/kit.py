"""Small pieces several views share: a quiet log plot, themed axes, the step under x,
and a side panel that scrolls instead of cutting its text off."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
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
