"""The time cursor (lstm_viz.ui.timecursor): drawn over a snapshot of the plot, it must
show exactly what a full repaint shows, and the mouse drags it."""

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QMouseEvent
from PySide6.QtWidgets import QApplication

from lstm_viz.model import Network, init_params
from lstm_viz.ui.plots import TracePlots


@pytest.fixture
def plots(qtbot, state):
    state.set_animation_ms(0)
    w = TracePlots(state)
    qtbot.addWidget(w)
    w.setGeometry(0, 0, 780, 300)          # inside the offscreen screen (800 x 800)
    w.show()
    qtbot.waitExposed(w)
    return w


def _on_screen(qtbot, widget) -> QImage:
    """What the screen shows of ``widget`` once pending repaints are done (the real
    pixels, blits from the snapshot included; ``grab`` would repaint it instead)."""
    QApplication.processEvents()
    qtbot.wait(1)
    top = widget.mapToGlobal(widget.rect().topLeft())
    shot = QGuiApplication.primaryScreen().grabWindow(0).toImage()
    assert shot.rect().contains(widget.rect().translated(top))
    return shot.copy(top.x(), top.y(), widget.width(), widget.height()).convertToFormat(
        QImage.Format.Format_RGB32)


def _full_repaint(widget) -> QImage:
    return widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def _model(state, seed):
    T = 40
    net = Network(init_params("lstm", 2, 4, seed=seed))
    x = np.random.default_rng(seed).normal(size=(T, 2))
    state.set_model(net, x, [str(k) for k in range(T)])


def test_stepping_repaints_from_the_snapshot_what_a_full_repaint_shows(qtbot, plots, state):
    _model(state, seed=1)
    panels = list(plots.panels.values())
    for t in range(3):                      # the snapshot is drawn on the first step
        state.set_timestep(t)
        QApplication.processEvents()
    before = [p.cursor.snapshot_blits for p in panels]
    for t in (3, 4, 9):
        state.set_timestep(t)
        for p in panels:
            assert _on_screen(qtbot, p.viewport()) == _full_repaint(p.viewport())
    assert all(p.cursor.snapshot_blits >= b + 3 for p, b in zip(panels, before))


def test_after_the_data_changes_no_step_shows_the_old_lines(qtbot, plots, state):
    _model(state, seed=1)
    panels = list(plots.panels.values())
    for t in range(4):
        state.set_timestep(t)
        QApplication.processEvents()
    old = [_on_screen(qtbot, p.viewport()) for p in panels]
    _model(state, seed=2)                  # other lines everywhere (a hover or a drag alike)
    for t in (5, 6, 7, 20):
        state.set_timestep(t)
        for p, was in zip(panels, old):
            now = _on_screen(qtbot, p.viewport())
            assert now == _full_repaint(p.viewport())
            assert now != was
    state.set_theme("dark")                # a restyle repaints the view outside the scene
    state.set_timestep(21)
    for p in panels:
        assert _on_screen(qtbot, p.viewport()) == _full_repaint(p.viewport())


def test_dragging_the_cursor_line_moves_the_time_step(plots, state, drag_cursor):
    _model(state, seed=1)
    p = plots.panels["h"]
    state.set_timestep(2)
    drag_cursor(p.cursor, p.vb, 17.2)
    assert state.timestep == 16 and p.cursor.value() == 17
    assert p.cursor.dragging is None
    for other in plots.panels.values():
        assert other.cursor.value() == 17


def _send(vp, kind, pos, button, buttons):
    QApplication.sendEvent(vp, QMouseEvent(kind, pos, vp.mapToGlobal(pos), button, buttons,
                                           Qt.KeyboardModifier.NoModifier))


def test_the_line_shows_it_can_be_grabbed_and_a_press_elsewhere_is_the_plots(plots, state):
    _model(state, seed=1)
    p = plots.panels["c"]
    state.set_timestep(4)
    QApplication.processEvents()
    vp, cur = p.viewport(), p.cursor
    y = p.step_to_scene(4, 0.5).y()
    on_line = QPointF(cur.pixel_x(), p.mapFromScene(QPointF(0, y)).y())
    none, left = Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton
    _send(vp, QEvent.Type.MouseMove, on_line, none, none)
    assert cur.hovering and vp.cursor().shape() == Qt.CursorShape.SizeHorCursor
    away = QPointF(p.mapFromScene(p.step_to_scene(30, 0.5)))
    _send(vp, QEvent.Type.MouseMove, away, none, none)
    assert not cur.hovering and vp.cursor().shape() != Qt.CursorShape.SizeHorCursor
    _send(vp, QEvent.Type.MouseButtonPress, away, left, left)
    assert cur.dragging is None            # not grabbed: the plot gets the press ...
    _send(vp, QEvent.Type.MouseButtonRelease, away, left, none)
    assert state.timestep == 30 and cur.value() == 31     # ... and a click jumps there


def test_resting_on_the_line_explains_it_and_elsewhere_the_plot_tells_its_value(qtbot, plots, state):
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QToolTip

    _model(state, seed=1)
    p = plots.panels["h"]
    state.set_timestep(6)
    QApplication.processEvents()
    vp, cur = p.viewport(), p.cursor
    y = round(p.mapFromScene(p.step_to_scene(6, 0.5)).y())

    def tip_at(x):
        at = QPoint(round(x), y)
        QApplication.sendEvent(vp, QMouseEvent(QEvent.Type.MouseMove, QPointF(at), vp.mapToGlobal(at),
                                               Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                                               Qt.KeyboardModifier.NoModifier))
        qtbot.wait(40)                      # pyqtgraph drops a move too soon after the last
        QApplication.sendEvent(vp, QHelpEvent(QEvent.Type.ToolTip, at, vp.mapToGlobal(at)))
        text = QToolTip.text() if QToolTip.isVisible() else ""
        QToolTip.hideText()
        return text

    on_line = tip_at(cur.pixel_x())
    assert "time cursor, at step 7" in on_line and "Drag" in on_line
    away = tip_at(p.mapFromScene(p.step_to_scene(25, 0.5)).x())
    assert "time cursor" not in away and "step 26" in away     # the plot's own tip
