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


# ---------------------------------------------------------------- size and partial repaints

def test_height_is_what_a_cell_and_its_token_need(qtbot, state):
    from PySide6.QtWidgets import QSplitter, QWidget

    split = QSplitter(Qt.Orientation.Vertical)
    qtbot.addWidget(split)
    strip = UnrolledStripView(state)
    split.addWidget(QWidget())
    split.addWidget(strip)
    split.addWidget(QWidget())
    split.resize(1200, 1000)
    split.setSizes([300, 400, 300])                  # asks the strip for far too much
    split.show()
    qtbot.waitExposed(split)
    need = strip.content_height() + strip.horizontalScrollBar().sizeHint().height()
    assert strip.sizeHint().height() == strip.maximumHeight() == need
    assert strip.height() <= need < 140
    small = strip.maximumHeight()
    state.set_font_scale(1.5)
    assert strip.maximumHeight() > small and strip.sizeHint().height() == strip.maximumHeight()
    assert strip.height() <= strip.maximumHeight()


def _painted(strip):
    """What the strip's window really shows now (its backing store, not a fresh render)."""
    return strip.screen().grabWindow(strip.winId()).toImage()


def _box_pixel(strip, img, t):
    r = strip.cell_rect(t)
    p = strip.viewport().mapTo(strip, r.bottomLeft())
    return img.pixelColor(p.x() + r.width() // 4, p.y() - 3).name()


def test_moving_repaints_only_the_old_and_new_cell_and_shows_the_right_one(qtbot, strip, state):
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtGui import QRegion

    from lstm_viz.ui.theme import highlight_color

    exposed = []

    class Spy(QObject):
        def eventFilter(self, obj, ev):  # noqa: N802 (Qt override)
            if ev.type() == QEvent.Type.Paint:
                exposed.extend(ev.region())
            return False

    spy = Spy()
    strip.viewport().installEventFilter(spy)
    hi, panel = highlight_color(state.theme).name(), state.theme.panel.lower()
    state.set_timestep(0)
    qtbot.wait(20)
    for old, new in ((0, 1), (1, 2), (2, 9), (9, 3)):
        exposed.clear()
        state.set_timestep(new)
        qtbot.waitUntil(lambda: bool(exposed))
        allowed = QRegion(strip.column_rect(old)).united(QRegion(strip.column_rect(new)))
        for r in exposed:                              # only those two columns were repainted
            assert QRegion(r).subtracted(allowed).isEmpty(), r
        img = _painted(strip)
        assert _box_pixel(strip, img, new) == hi
        assert _box_pixel(strip, img, old) == panel
    strip.viewport().removeEventFilter(spy)


def test_tokens_are_larger_than_body_text_and_grow_with_the_font_scale(strip, state):
    base = strip._font.pointSizeF()
    assert base > state.theme.base_point_size
    state.set_font_scale(1.5)
    assert strip._font.pointSizeF() > base
