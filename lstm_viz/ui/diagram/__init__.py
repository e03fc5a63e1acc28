"""The animated cell diagram (LSTM, GRU or simple RNN): a QGraphicsView on a `CellScene`.

``CellDiagramView(state)`` connects itself to the `AppState`; its scene
(``view.scene()``) exposes ``set_timestep(t)``, draws the trace's cell kind
and follows ``state.show_gradients``. The picture always fits the view (aspect
ratio kept) and is drawn antialiased, so it is crisp at any size.

Frames drawn ahead. Painting the picture for a new step takes a few milliseconds
(every wire, node and strip changes). Once stepping pauses, the view draws the
pictures of the step shown and of the steps on either side into pixmaps; when
the next key press shows one of them, the repaint copies it instead. A frame is
filed under the scene's `CellScene.frame_key`: what each item draws, from its
own state (its look, highlight, animation progress, visibility, style), plus the
view's size and transform. A repaint uses a frame only when the key of the
picture as it stands is the frame's key, so a hover, an edit, a theme or an
animation between two steps is painted as usual. A frame is drawn by the view's
own paint into the pixmap (``QWidget.render``), so it is the same pixels.

A copied repaint skips Qt's own drawing of the items, and with it Qt's record
of where each item was last painted (which the next repaint's area comes from)
and its reset of a pending whole-scene update. So: no item changes its size
with the step (the caption's rectangle only grows, `TextItem`); a repaint of the
whole viewport (a whole-scene update, a new size or transform) is always painted,
never copied; and the frames are drawn one per turn of the event loop, so that a
key pressed meanwhile is not kept waiting.
"""

from __future__ import annotations

import math
from collections import OrderedDict

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QPainter, QPixmap, QRegion
from PySide6.QtWidgets import QFrame, QGraphicsView, QWidget

from ..kit import device_size, draw_from, opaque_viewport
from .layout import GRU_LAYOUT, LAYOUTS, LSTM_LAYOUT, RNN_LAYOUT, CellLayout, NodeSpec, WireSpec
from .items import Style
from .scene import CLICKABLE, GRADIENTS, SERIES, CellScene

#: The fonts that must not look smaller after a larger type size (`height_keeping_text`):
#: names, numbers, symbols and the step caption (the colour legend's small print is
#: held back by the diagram itself).
TEXT_FONTS = ("name_font", "value_font", "symbol_font", "word_font", "op_font", "caption_font")

__all__ = ["CellDiagramView", "CellScene", "CellLayout", "NodeSpec", "WireSpec", "LAYOUTS",
           "LSTM_LAYOUT", "GRU_LAYOUT", "RNN_LAYOUT", "CLICKABLE", "SERIES", "GRADIENTS"]

_NAMES = {"lstm": "LSTM", "gru": "GRU", "rnn": "Simple RNN"}

#: Frames drawn ahead are kept up to this many bytes in all, and up to MAX_FRAMES of them;
#: a view too large for three (the step shown and its two neighbours) draws none ahead.
FRAME_BYTES = 64 * 2 ** 20
MAX_FRAMES = 4


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
        # frames drawn ahead: key -> (pixmap, objects the key names by id)
        self._frames: OrderedDict[tuple, tuple[QPixmap, list]] = OrderedDict()
        self.frame_blits = 0            # repaints copied from a frame (tests, bench)
        self._ahead: list[int] = []     # steps still to draw ahead, one per loop turn
        self._ahead_timer = QTimer(self)
        self._ahead_timer.setSingleShot(True)
        self._ahead_timer.setInterval(0)
        self._ahead_timer.timeout.connect(self._draw_next)
        self._scene.sceneRectChanged.connect(self._fit)
        self._scene.neighbours_ready.connect(self.draw_ahead)
        state.trace_changed.connect(self._name_for_kind)
        state.timestep_changed.connect(self._ahead.clear)    # a step: what comes next changes
        for signal in (state.trace_changed, state.unit_changed, state.appearance_changed,
                       state.gradients_shown):
            signal.connect(self.drop_frames)        # their frames would never be shown again

    def _name_for_kind(self) -> None:
        name = f"{_NAMES.get(self._scene.kind, self._scene.kind.upper())} cell diagram"
        if self.accessibleName() != name:
            self.setAccessibleName(name)

    def height_keeping_text(self, s0: float, s: float, zoom0: float) -> int:
        """The view height at which the picture's text at type size ``s`` looks no smaller
        than at ``s0`` when it was drawn at zoom ``zoom0`` (no taller than the view's
        width lets the picture grow). Its labels sit among fixed shapes, so they grow less
        than the type (`Style`): the zoom may fall by as much as the least of them grows."""
        th = self.state.theme
        a, b = Style(th, s0), Style(th, s)
        growth = min(getattr(b, f).pixelSize() / getattr(a, f).pixelSize() for f in TEXT_FONTS)
        scene = self.sceneRect()
        # the zoom is fitInView's: the scene in the view less 2 px a side
        zoom = min(zoom0 / growth, (self.width() - 4) / scene.width())
        return math.ceil(zoom * scene.height()) + 4

    def _fit(self, *_args) -> None:
        self.fitInView(self._scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(ev)
        self.drop_frames()                  # (drawn at the old size, and holding memory)
        self._fit()

    def showEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().showEvent(ev)
        self._fit()

    # ------------------------------------------------------------------ frames drawn ahead

    def _frame_key(self) -> tuple[tuple, list] | None:
        scene = self._scene.frame_key()
        if scene is None:
            return None
        key, pins = scene
        vp = self.viewport()
        t = self.viewportTransform()
        return (key, vp.width(), vp.height(), vp.devicePixelRatioF(), t.m11(), t.m12(),
                t.m21(), t.m22(), t.dx(), t.dy()), pins

    def paintEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        vp = self.viewport()
        region = ev.region()
        if self._frames and not QRegion(vp.rect()).subtracted(region).isEmpty():
            found = self._frame_key()                   # (a repaint of it all is Qt's own)
            frame = self._frames.get(found[0]) if found is not None else None
            if frame is not None:
                self._frames.move_to_end(found[0])
                p = QPainter(vp)
                draw_from(p, region, frame[0])
                p.end()
                self.frame_blits += 1
                return
        super().paintEvent(ev)

    def drop_frames(self) -> None:
        """Forget every frame drawn ahead (and any still to draw)."""
        self._frames.clear()
        self._ahead.clear()

    def _frames_kept(self) -> int:
        w, h = device_size(self.viewport())
        return min(MAX_FRAMES, FRAME_BYTES // max(w * h * 4, 1))

    def draw_ahead(self) -> None:
        """Draw the pictures of the step shown, the next and the previous step into
        frames, one per turn of the event loop (once stepping has paused: the scene's
        ``neighbours_ready``)."""
        shown, steps = self._scene.timestep, self.state.trace.steps
        if shown < 0 or self._frames_kept() < 3:
            return
        self._ahead[:] = [t for t in (shown, shown + 1, shown - 1) if 0 <= t < steps]
        self._ahead_timer.start()

    def _draw_next(self) -> None:
        scene = self._scene
        vp = self.viewport()
        if (not self._ahead or not vp.isVisible() or vp.width() <= 0
                or scene.is_animating()):
            self._ahead.clear()
            return
        shown, t = scene.timestep, self._ahead.pop(0)
        if t != shown:
            scene.set_timestep(t)
        found = self._frame_key()
        if found is not None and found[0] not in self._frames:
            w, h = device_size(vp)
            pixmap = QPixmap(w, h)
            pixmap.setDevicePixelRatio(vp.devicePixelRatioF())
            vp.render(pixmap, QPoint(), QRegion(vp.rect()))     # the view's own paint
            self._frames[found[0]] = (pixmap, found[1])
            while len(self._frames) > self._frames_kept():
                self._frames.popitem(last=False)
        if scene.timestep != shown:
            scene.set_timestep(shown)           # (the repaint copies the step's frame)
        if self._ahead:
            self._ahead_timer.start()
