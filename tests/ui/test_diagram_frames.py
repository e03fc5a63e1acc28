"""Frames drawn ahead (`CellDiagramView.draw_ahead`): once stepping pauses, the next
step's repaint is copied from a picture drawn in advance, and what the screen shows
after every repaint, copied or not, is exactly what a fresh paint of the scene as it
stands shows.

"The screen" is the window's backing store, where Qt's repaints land (a ``grab()`` of
the view would paint it afresh, which is never a copy)."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPixmap, QRegion

from lstm_viz.model import Network, init_params
from lstm_viz.ui import diagram
from lstm_viz.ui.diagram import CellDiagramView
from lstm_viz.ui.kit import PREFETCH_MS, draw_from


@pytest.fixture
def view(qtbot, state):
    v = CellDiagramView(state)
    qtbot.addWidget(v)
    v.resize(1100, 560)
    v.show()
    qtbot.waitExposed(v)
    state.set_animation_ms(0)
    return v


def _screen(qtbot, view):
    """What the screen shows in the view once the pending repaints are done."""
    qtbot.wait(1)
    vp = view.viewport()
    at = vp.mapTo(vp.window(), QPoint(0, 0))
    return QGuiApplication.primaryScreen().grabWindow(
        vp.window().winId(), at.x(), at.y(), vp.width(), vp.height()).toImage()


def _fresh(view):
    """The picture painted from the scene as it stands (never copied from a frame)."""
    return view.viewport().grab().toImage()


def _same(a: QImage, b: QImage) -> bool:
    return a.convertToFormat(QImage.Format.Format_RGB32) == b.convertToFormat(
        QImage.Format.Format_RGB32)


def _pause(qtbot, view, frames=3):
    """Let stepping pause until the view has drawn its frames ahead (of the step shown)."""
    qtbot.wait(PREFETCH_MS * 2)
    qtbot.waitUntil(lambda: len(view._frames) >= frames and not view._ahead,
                    timeout=PREFETCH_MS * 30)


@pytest.mark.parametrize("unit, gradients", [(-1, False), (1, False), (-1, True), (0, True)])
def test_the_step_after_a_pause_is_copied_from_a_frame_and_is_the_same_picture(
        qtbot, view, state, unit, gradients):
    state.set_unit(unit)
    state.set_show_gradients(gradients)
    state.set_timestep(5)
    _pause(qtbot, view)
    assert view.scene().timestep == 5               # drawing ahead put the step shown back
    for t in (6, 5, 4, 5):
        before = view.frame_blits
        state.set_timestep(t)
        shown = _screen(qtbot, view)
        assert view.frame_blits > before, t         # copied, not painted again
        assert _same(shown, _fresh(view)), t
        _pause(qtbot, view, 2)


def test_drawing_ahead_leaves_the_step_shown_and_its_numbers(qtbot, view, state):
    state.set_unit(0)
    state.set_timestep(7)
    before = {k: v.displayed_text() for k, v in view.scene().values.items()}
    caption = view.scene().caption.text()
    _pause(qtbot, view)
    after = {k: v.displayed_text() for k, v in view.scene().values.items()}
    assert after == before and view.scene().timestep == 7
    assert view.scene().caption.text() == caption
    assert view.scene().shown_values("c")[0] == state.trace.c[7, 0]


def test_captions_that_wrap_onto_more_lines_leave_nothing_behind(qtbot, view, state):
    """A step whose caption takes fewer lines than the last one's: the lines that go
    away are repainted (a copy skips Qt's record of where the caption last painted)."""
    long = "a rather long token label that makes the caption of this step wrap " * 2
    T = state.trace.steps
    state.set_inputs(state.trace.x, [long if t % 3 == 1 else f"s{t}" for t in range(T)])
    state.set_timestep(2)
    _pause(qtbot, view)
    copied = view.frame_blits
    for t in (1, 0, 1, 2, 3, 4, 5, 4, 3):
        state.set_timestep(t)
        assert _same(_screen(qtbot, view), _fresh(view)), t
        _pause(qtbot, view, 2)
    assert view.frame_blits > copied


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("gradients", [False, True])
def test_no_item_shrinks_from_one_step_to_the_next(qtbot, view, state, kind, gradients):
    """What copies rely on: an item's rectangle at a step holds its rectangle at every
    step before (a copy does not tell Qt where an item last painted)."""
    net = Network(init_params(kind, 2, 3, seed=2))
    labels = ["x" * (5 + 40 * (t % 3)) for t in range(9)]
    state.set_model(net, np.random.default_rng(1).normal(size=(9, 2)), labels)
    state.set_show_gradients(gradients)
    for unit in (-1, 0):
        state.set_unit(unit)
        scene = view.scene()
        seen = {}
        for t in list(range(9)) + [3, 0]:
            state.set_timestep(t)
            for item in scene.items():
                r = item.sceneBoundingRect() if item.isVisible() else None
                if item in seen and seen[item] is not None and r is not None:
                    assert r.contains(seen[item]), (kind, unit, t, type(item).__name__)
                seen[item] = r


def test_a_whole_scene_update_is_painted_and_the_diagram_keeps_following(qtbot, view, state):
    state.set_timestep(5)
    _pause(qtbot, view)
    before = view.frame_blits
    view.scene().update()                           # (Qt marks the whole scene for repaint)
    _screen(qtbot, view)
    assert view.frame_blits == before               # painted: Qt's bookkeeping is reset
    for t in (6, 7, 12):
        state.set_timestep(t)
        assert _same(_screen(qtbot, view), _fresh(view)), t


def test_a_hover_between_steps_is_painted_not_copied(qtbot, view, state):
    state.set_timestep(3)
    _pause(qtbot, view)
    state.set_timestep(4)
    state.set_focus("f")                            # the mouse rests on the forget gate
    before = view.frame_blits
    shown = _screen(qtbot, view)
    assert view.frame_blits == before               # the frame has no highlight: not used
    assert _same(shown, _fresh(view))
    state.set_focus("")                             # the mouse leaves: the frames fit again
    before = view.frame_blits
    state.set_timestep(3)
    assert _same(_screen(qtbot, view), _fresh(view))
    assert view.frame_blits == before + 1


def test_an_edit_a_theme_or_a_resize_drops_the_frames(qtbot, view, state):
    state.set_timestep(3)
    _pause(qtbot, view)
    tr = state.trace
    state.set_network(Network(init_params(tr.kind, tr.input_size, tr.hidden_size, seed=123)))
    assert not view._frames
    before = view.frame_blits
    assert _same(_screen(qtbot, view), _fresh(view)) and view.frame_blits == before
    state.set_timestep(4)           # (only a step draws ahead: an edit may be a drag going on)
    _pause(qtbot, view)
    state.set_theme("dark")
    assert not view._frames
    state.set_timestep(5)
    _pause(qtbot, view)
    view.resize(900, 500)
    assert not view._frames


def test_no_frame_is_used_while_a_step_animates(qtbot, view, state):
    state.set_timestep(3)
    _pause(qtbot, view)
    state.set_animation_ms(400)
    before = view.frame_blits
    state.set_timestep(4)                           # animates towards the frame of step 4
    assert view.scene().is_animating()
    _screen(qtbot, view)
    assert view.frame_blits == before
    qtbot.waitUntil(lambda: not view.scene().is_animating(), timeout=3000)
    assert _same(_screen(qtbot, view), _fresh(view))


def test_a_key_pressed_meanwhile_stops_the_drawing_ahead(qtbot, view, state):
    state.set_timestep(3)
    qtbot.waitUntil(lambda: len(view._frames) >= 1, timeout=PREFETCH_MS * 30)
    state.set_timestep(8)                           # before the other two frames are drawn
    assert not view._ahead
    assert _same(_screen(qtbot, view), _fresh(view))


def test_frames_are_kept_within_their_memory(qtbot, view, state, monkeypatch):
    vp = view.viewport()
    one = vp.width() * vp.height() * 4
    for t in (3, 6, 9, 12):
        state.set_timestep(t)
        _pause(qtbot, view, 2)
        assert len(view._frames) <= diagram.MAX_FRAMES
    monkeypatch.setattr(diagram, "FRAME_BYTES", 2 * one)     # no room for three frames
    view.drop_frames()
    state.set_timestep(4)
    qtbot.wait(PREFETCH_MS * 4)
    assert not view._frames


@pytest.mark.parametrize("dpr", [1.0, 1.25, 1.5, 1.75, 2.0])
def test_a_copy_puts_each_pixel_where_it_was_drawn_at_any_pixel_ratio(qapp, dpr):
    """A pixmap of a widget copied under a region lands on the same device pixels as the
    original drawing, also at fractional ratios."""
    w, h = 201, 121
    size = (int(w * dpr + 0.5), int(h * dpr + 0.5))
    src = QPixmap(*size)
    src.setDevicePixelRatio(dpr)
    src.fill(QColor("white"))
    p = QPainter(src)
    for k in range(0, w, 7):                        # a pattern with edges everywhere
        p.fillRect(QRect(k, (k * 3) % h, 5, 9), QColor(k % 256, 80, 200))
    p.end()
    target = QImage(*size, QImage.Format.Format_RGB32)
    target.setDevicePixelRatio(dpr)
    target.fill(QColor("black"))
    p = QPainter(target)
    draw_from(p, QRegion(QRect(13, 17, 90, 60)).united(QRect(120, 5, 40, 100)), src)
    p.end()
    a = src.toImage().convertToFormat(QImage.Format.Format_RGB32)
    for x0, y0, x1, y1 in ((13, 17, 103, 77), (120, 5, 160, 105)):
        for x in range(int(x0 * dpr) + 1, int(x1 * dpr) - 1, 3):
            for y in range(int(y0 * dpr) + 1, int(y1 * dpr) - 1, 3):
                assert target.pixel(x, y) == a.pixel(x, y), (x, y)
    assert target.pixelColor(int(5 * dpr), int(115 * dpr)) == QColor("black")   # outside
    assert np.isfinite(dpr)
