"""The unrolled strip: one cell per step, click to jump, hover for numbers, long sequences scroll."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from lstm_viz.explain import fmt
from lstm_viz.state import AppState
from lstm_viz.ui.strip import UnrolledStripView


@pytest.fixture
def state(qapp):
    return AppState()


@pytest.fixture
def strip(qtbot, state):
    w = UnrolledStripView(state)
    qtbot.addWidget(w)
    w.resize(1200, 120)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_clicking_a_cell_jumps_there(qtbot, strip, state):
    for t in (7, 0, state.trace.steps - 1):
        qtbot.mouseClick(strip.viewport(), Qt.MouseButton.LeftButton,
                         pos=strip.cell_rect(t).center())
        assert state.timestep == t


def test_hover_text_names_step_token_and_values(strip, state):
    tr = state.trace
    state.set_unit(0)
    x = strip.cell_rect(2).center().x()
    tip = strip.tooltip_at(x)
    assert tip.startswith(f"Step 3 of {tr.steps} · input “{state.labels[2]}”")
    assert f"C_t = {fmt(tr.c[2, 0])}" in tip and f"h_t = {fmt(tr.h[2, 0])}" in tip
    state.set_unit(-1)
    tip = strip.tooltip_at(x)
    assert "C_t = (" + ", ".join(fmt(v) for v in tr.c[2]) + ")" in tip


def test_highway_colours_follow_the_cell_state(strip, state):
    tr, th = state.trace, state.theme
    vmax = max(1.0, float(np.max(np.abs(tr.c))))
    state.set_unit(1)
    assert [c.name() for c in strip._c_colors] == [th.value_color(v, vmax).name() for v in tr.c[:, 1]]
    state.set_unit(-1)
    mean = tr.c.mean(axis=1)
    assert [c.name() for c in strip._c_colors] == [th.value_color(v, vmax).name() for v in mean]


def test_long_sequences_scroll_to_keep_the_current_step_visible(qtbot, strip, state):
    T = 3000
    x = np.stack([np.sin(np.arange(T) / 25.0), np.zeros(T)], axis=1)
    state.set_inputs(x, [str(t) for t in range(T)])
    assert strip.horizontalScrollBar().maximum() > 0
    for t in (2500, 10, T - 1):
        state.set_timestep(t)
        r = strip.cell_rect(t)
        assert 0 <= r.left() and r.right() <= strip.viewport().width()
    strip.viewport().repaint()                        # draws only the visible cells
    qtbot.mouseClick(strip.viewport(), Qt.MouseButton.LeftButton,
                     pos=strip.cell_rect(T - 3).center())
    assert state.timestep == T - 3
