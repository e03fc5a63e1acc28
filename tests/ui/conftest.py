"""Shared fixtures for the GUI tests: no test reads or writes the user's real settings."""

import pytest


@pytest.fixture(autouse=True)
def _private_settings(tmp_path, monkeypatch):
    """Point the app's QSettings at a throw-away INI file."""
    monkeypatch.setenv("LSTM_VIZ_SETTINGS", str(tmp_path / "settings.ini"))



@pytest.fixture
def make_window(qtbot):
    """Build a MainWindow that is destroyed when pytest-qt closes it after the test.

    (A theme change re-styles every live widget; windows left alive by earlier
    tests would make each later test slower.)
    """
    from PySide6.QtCore import Qt

    from lstm_viz.ui.main_window import MainWindow

    def make(state, size=(1280, 800), **kwargs):
        w = MainWindow(state, **kwargs)
        w.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        qtbot.addWidget(w)
        w.resize(*size)
        w.show()
        qtbot.waitExposed(w)
        return w

    return make


@pytest.fixture
def state(qapp):
    """The app's state on its built-in demo (a test file may define its own)."""
    from lstm_viz.state import AppState

    return AppState()


@pytest.fixture
def drag_cursor():
    """Drag a plot's time cursor with the mouse, as a user does: press on its line in
    view box ``vb``, move to view x ``to_x`` in steps, release (returns the cursor)."""
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    def send(vp, kind, pos, button, buttons):
        QApplication.sendEvent(vp, QMouseEvent(kind, pos, vp.mapToGlobal(pos), button, buttons,
                                               Qt.KeyboardModifier.NoModifier))

    def drag(cursor, vb, to_x, steps=3):
        vp, left, none = cursor.vp, Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
        y = cursor.view.viewportTransform().mapRect(vb.sceneBoundingRect()).center().y()
        start = QPointF(cursor.pixel_x(vb), y)
        send(vp, QEvent.Type.MouseButtonPress, start, left, left)
        end_scene = vb.mapViewToScene(QPointF(to_x, 0.0))
        end_x = cursor.view.viewportTransform().map(end_scene).x()
        for k in range(1, steps + 1):
            pos = QPointF(start.x() + (end_x - start.x()) * k / steps, y)
            send(vp, QEvent.Type.MouseMove, pos, none, left)
        send(vp, QEvent.Type.MouseButtonRelease, QPointF(end_x, y), left, none)
        return cursor

    return drag

