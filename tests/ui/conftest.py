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
