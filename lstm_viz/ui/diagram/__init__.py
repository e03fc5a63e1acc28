"""The animated cell diagram (LSTM, GRU or simple RNN): a QGraphicsView on a `CellScene`.

``CellDiagramView(state)`` connects itself to the `AppState`; its scene
(``view.scene()``) exposes ``set_timestep(t)``, draws the trace's cell kind
and follows ``state.show_gradients``. The picture always fits the view (aspect
ratio kept) and is drawn antialiased, so it is crisp at any size.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QFrame, QGraphicsView, QWidget

from ..kit import opaque_viewport
from .layout import GRU_LAYOUT, LAYOUTS, LSTM_LAYOUT, RNN_LAYOUT, CellLayout, NodeSpec, WireSpec
from .scene import CLICKABLE, GRADIENTS, SERIES, CellScene

__all__ = ["CellDiagramView", "CellScene", "CellLayout", "NodeSpec", "WireSpec", "LAYOUTS",
           "LSTM_LAYOUT", "GRU_LAYOUT", "RNN_LAYOUT", "CLICKABLE", "SERIES", "GRADIENTS"]

_NAMES = {"lstm": "LSTM", "gru": "GRU", "rnn": "Simple RNN"}


class CellDiagramView(QGraphicsView):
    """The cell diagram widget for one `AppState`."""

    def __init__(self, state, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._scene = CellScene(state, self)
        self.setScene(self._scene)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing
                            | QPainter.RenderHint.SmoothPixmapTransform)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Items restore what they change and their bounding rects include the antialiasing
        # margin (and the halo), so Qt can skip saving painter state and widening exposures.
        # A step changes items all over the cell; repainting their bounding rectangle is
        # cheaper than their ~30 separate rectangles, because Qt's raster engine draws
        # everything clipped to a many-rectangle region on a slow path (~2 ms a step here).
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self.setOptimizationFlags(QGraphicsView.OptimizationFlag.DontSavePainterState
                                  | QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing)
        # The scene's background (colour, cell body, wire casings) never changes per step.
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        opaque_viewport(self)       # that background covers the view
        self.setMouseTracking(True)
        self.setMinimumSize(320, 200)
        self.setToolTip("")
        self._name_for_kind()
        self._scene.sceneRectChanged.connect(self._fit)
        state.trace_changed.connect(self._name_for_kind)

    def _name_for_kind(self) -> None:
        name = f"{_NAMES.get(self._scene.kind, self._scene.kind.upper())} cell diagram"
        if self.accessibleName() != name:
            self.setAccessibleName(name)

    def _fit(self, *_args) -> None:
        self.fitInView(self._scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(ev)
        self._fit()

    def showEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().showEvent(ev)
        self._fit()
