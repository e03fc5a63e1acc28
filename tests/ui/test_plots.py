"""Trace plots: the curves show the trace, the cursor follows the time step, clicks move it."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor

from lstm_viz.model import Network, init_params
from lstm_viz.state import AppState
from lstm_viz.ui.plots import TracePlots


@pytest.fixture
def state(qapp):
    return AppState()


@pytest.fixture
def plots(qtbot, state):
    w = TracePlots(state)
    qtbot.addWidget(w)
    w.resize(1200, 320)
    w.show()
    qtbot.waitExposed(w)
    return w


def _view_pixel(panel, t):
    """Viewport pixel of 0-based step t, halfway up the plot."""
    scene_pt = panel.step_to_scene(t, 0.5)
    return panel.mapFromScene(scene_pt)


def test_curves_hold_the_trace_of_the_focused_unit(plots, state):
    tr = state.trace
    T = tr.steps
    state.set_unit(1)
    for panel, series in (("c", {"c": tr.c}), ("h", {"h": tr.h}),
                          ("gates", {k: tr.gates[k] for k in "fiog"})):
        p = plots.panels[panel]
        for key, arr in series.items():
            for u in range(tr.hidden_size):
                curve = p.curve(key, u)
                np.testing.assert_array_equal(curve.xData, np.arange(1, T + 1))
                np.testing.assert_array_equal(curve.yData, arr[:, u])
                assert curve.isVisible() == (u == 1)
    state.set_unit(-1)
    assert all(c.isVisible() for c in plots.panels["gates"].curves.values())


def test_curves_follow_a_new_trace(plots, state):
    net = Network(init_params("lstm", 2, 4, seed=5))
    x = np.random.default_rng(0).normal(size=(30, 2))
    state.set_model(net, x, [str(k) for k in range(30)])
    p = plots.panels["c"]
    assert len(p.curves) == 4
    np.testing.assert_array_equal(p.curve("c", 3).yData, state.trace.c[:, 3])
    assert p.curve("c", 3).xData[-1] == 30


def test_gate_curves_use_the_gate_colours(plots, state):
    p = plots.panels["gates"]
    for k in "fiog":
        assert p.curve(k, 0).opts["pen"].color() == state.theme.gate_color(k)


def test_cursor_line_sits_at_the_time_step(plots, state):
    for t in (0, 7, state.steps - 1):
        state.set_timestep(t)
        for p in plots.panels.values():
            assert p.cursor.value() == t + 1


@pytest.mark.parametrize("panel", ["c", "h", "gates"])
def test_clicking_a_plot_moves_the_cursor(qtbot, plots, state, panel):
    p = plots.panels[panel]
    for k in (9, 4):
        pos = _view_pixel(p, k)
        qtbot.mouseClick(p.viewport(), Qt.MouseButton.LeftButton, pos=pos)
        assert state.timestep == k
        assert p.cursor.value() == k + 1


def test_hover_shows_the_value_under_the_mouse(qtbot, plots, state):
    p = plots.panels["c"]
    state.set_unit(0)
    t = 5
    y = float(state.trace.c[t, 0])
    scene_pt = p.vb.mapViewToScene(QPointF(t + 1, y))
    qtbot.mouseMove(p.viewport(), p.mapFromScene(scene_pt))
    qtbot.waitUntil(lambda: p.hover_text.isVisible())
    assert p.hover_value == y
    assert f"step {t + 1}" in p.hover_text.toPlainText()


def test_heatmap_shows_the_trace(plots, state):
    plots.set_heatmap(True)
    tr = state.trace
    c, g = plots.panels["c"], plots.panels["gates"]
    assert c.image.isVisible() and not any(cv.isVisible() for cv in c.curves.values())
    np.testing.assert_array_equal(c.image.image, tr.c.T)
    np.testing.assert_array_equal(
        g.image.image, np.concatenate([tr.gates[k].T for k in "fiog"]))
    lo, hi = c.image.getLevels()
    assert lo == -hi and hi >= np.max(np.abs(tr.c))
    assert tuple(plots.panels["h"].image.getLevels()) == (-1.0, 1.0)
    assert c.colorbar.isVisible()
    plots.set_heatmap(False)
    assert not c.image.isVisible() and not c.colorbar.isVisible()


def test_theme_change_updates_the_plot_background(plots, state):
    p = plots.panels["h"]
    assert p.backgroundBrush().color() == QColor(state.theme.background)
    state.set_theme("dark")
    assert p.backgroundBrush().color() == QColor("#1E1E1E")
    assert p.cursor.pen.color() == QColor(state.theme.accent)


def test_a_thousand_steps_are_downsampled(plots, state):
    net = Network(init_params("lstm", 1, 3, seed=2))
    x = np.sin(np.arange(3000) / 50.0)
    state.set_model(net, x, [""] * 3000)
    p = plots.panels["h"]
    assert p.curve("h", 0).xData.size == 3000
    assert p.plot.ctrl.downsampleCheck.isChecked() or p.curve("h", 0).opts["autoDownsample"]
    assert p.curve("h", 0).opts["clipToView"]
    state.set_timestep(2500)
    assert p.cursor.value() == 2501
