"""The unrolled strip: one cell per step, click to jump, hover for numbers, long sequences scroll."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from lstm_viz.explain import fmt
from lstm_viz.ui.strip import UnrolledStripView


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
    assert f"Cₜ = {fmt(tr.c[2, 0])}" in tip and f"hₜ = {fmt(tr.h[2, 0])}" in tip
    state.set_unit(-1)
    tip = strip.tooltip_at(x)
    assert "Cₜ = (" + ", ".join(fmt(v) for v in tr.c[2]) + ")" in tip


def test_highway_colours_follow_the_cell_state(strip, state):
    tr, th = state.trace, state.theme
    vmax = max(1.0, float(np.max(np.abs(tr.c))))
    state.set_unit(1)
    assert [c.name() for c in strip._c_colors] == [th.value_color(v, vmax).name() for v in tr.c[:, 1]]
    state.set_unit(-1)                       # all units: a row per unit, unit 1 on top
    c_rows, h_rows = strip._rows
    assert (c_rows.width(), c_rows.height()) == (tr.steps, tr.hidden_size)
    for t in range(tr.steps):
        for u in range(tr.hidden_size):
            assert c_rows.pixelColor(t, u).name() == th.value_color(tr.c[t, u], vmax).name()
            assert h_rows.pixelColor(t, u).name() == th.value_color(tr.h[t, u], 1.0).name()
    assert "one row per unit, unit 1 at the top" in strip.tooltip_at(strip.cell_rect(2).center().x())


def test_all_units_show_a_held_unit_that_the_mean_would_hide(qtbot, strip, state):
    """The latch after its release pulse: unit 3 still holds C ≈ 1 while the others have
    emptied. On screen its row of the band stays strong at that step (it read pale 0.34
    when the band showed the mean)."""
    tr, th = state.trace, state.theme
    t = tr.steps - 1
    assert abs(tr.c[t, 2]) > 0.9 and abs(tr.c[t].mean()) < 0.5      # the case in question
    state.set_unit(-1)
    state.set_timestep(0)                                             # (no outline on step t)
    strip.viewport().repaint()
    img = strip.viewport().grab().toImage()
    band = strip.band_rect(t)
    y3 = band.top() + int(band.height() * 2.5 / tr.hidden_size)         # unit 3's row, its middle
    got = img.pixelColor(band.center().x(), y3).name()
    assert got == th.value_color(tr.c[t, 2], max(1.0, float(np.abs(tr.c).max()))).name()
    assert got != th.value_color(tr.c[t].mean(), 1.0).name()


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


# ---------------------------------------------------------------- loss step and gradients

from lstm_viz.model import Network, Options, init_params  # noqa: E402
from lstm_viz.ui.strip import DECADES  # noqa: E402


def _expected_widths(mags, gmax, max_w):
    """Reference: log scale over DECADES below the largest gradient, 1 .. max_w pixels, 0 for none."""
    out = []
    for m in mags:
        if m == 0:
            out.append(0)
        else:
            level = min(1.0, max(0.0, 1.0 + np.log10(m / gmax) / DECADES))
            out.append(int(round(1 + level * (max_w - 1))))
    return out


def test_loss_step_is_marked_and_explained(strip, state):
    assert strip._loss_step == state.steps - 1
    state.set_loss_step(4)
    assert strip._loss_step == 4
    x = strip.cell_rect(4).center().x()
    assert "loss" in strip.tooltip_at(x) and "measured on this step" in strip.tooltip_at(x)
    assert "measured on this step" not in strip.tooltip_at(strip.cell_rect(5).center().x())


def test_gradient_widths_follow_dl_dc_and_dl_dh(strip, state):
    state.set_show_gradients(True)
    tr = state.trace
    dc, dh = np.linalg.norm(tr.dL_dc, axis=1), np.linalg.norm(tr.dL_dh, axis=1)
    gmax = max(dc.max(), dh.max())
    assert list(strip.band_widths) == _expected_widths(dc, gmax, strip._band_max)
    assert list(strip.h_widths) == _expected_widths(dh, gmax, strip._hpath_max)
    # the demo's lesson: the cell state carries the gradient back where the h path fades
    s = tr.loss_step
    assert (strip.band_widths[:s] > 3 * np.maximum(strip.h_widths[:s], 1)).all()
    # one unit: its own magnitudes
    state.set_unit(2)
    dc2, dh2 = np.abs(tr.dL_dc[:, 2]), np.abs(tr.dL_dh[:, 2])
    g2 = max(dc2.max(), dh2.max())
    assert list(strip.band_widths) == _expected_widths(dc2, g2, strip._band_max)
    tip = strip.tooltip_at(strip.cell_rect(3).center().x())
    assert f"|dL/dCₜ| = {fmt(dc2[3])}" in tip and f"|dL/dhₜ| = {fmt(dh2[3])}" in tip
    strip.viewport().repaint()                 # draws the gradient lines


def test_no_gradient_after_the_loss_step_or_before_the_truncation_window(strip, state):
    state.set_options(Options(loss_step=8, truncate=3))
    state.set_show_gradients(True)
    assert not strip.band_widths[9:].any() and not strip.h_widths[9:].any()
    assert not strip.band_widths[:6].any()
    assert strip.band_widths[6:9].all()
    assert "after the loss step" in strip.tooltip_at(strip.cell_rect(10).center().x())
    assert "truncated" in strip.tooltip_at(strip.cell_rect(2).center().x())


def test_a_gradient_that_underflowed_to_zero_says_so(strip, state):
    # A linear RNN (zero input and biases keep h at 0) with W = 0.01 I: the gradient shrinks
    # 100 times a step going back, and below ~1e-323 a float64 holds only 0.
    from lstm_viz.model import Params

    p = Params("rnn", np.zeros((2, 2)), 0.01 * np.eye(2), np.zeros(2), np.zeros(2))
    state.set_model(Network(p), np.zeros((200, 2)), target=np.ones(2))
    state.set_show_gradients(True)
    state.set_timestep(0)
    assert not state.trace.dL_dh[:30].any() and state.trace.dL_dh[-1].any()
    tip = strip.tooltip_at(strip.cell_rect(3).center().x())
    assert "Exactly 0" in tip and "float64" in tip
    state.set_timestep(199)
    assert "Exactly 0" not in strip.tooltip_at(strip.cell_rect(199).center().x())


def test_gru_band_shows_dl_dh(strip, state):
    net = Network(init_params("gru", 2, 3, seed=1))
    state.set_model(net, np.random.default_rng(0).normal(size=(9, 2)), target=np.ones(3))
    state.set_show_gradients(True)
    dh = np.linalg.norm(state.trace.dL_dh, axis=1)
    assert list(strip.band_widths) == _expected_widths(dh, dh.max(), strip._band_max)
    assert not strip.h_widths.any()


def test_play_backward_without_animation_draws_the_end_at_once(strip, state):
    state.set_animation_ms(0)
    assert not state.show_gradients
    strip.play_backward()
    assert state.show_gradients and not strip.playing_backward
    assert strip.backward_front == 0.0


def test_play_backward_sweeps_from_the_loss_step_to_the_start(qtbot, strip, state):
    state.set_loss_step(9)
    fronts = []
    strip._anim.valueChanged.connect(lambda v: fronts.append(float(v)))
    strip.play_backward()
    assert state.show_gradients and strip.playing_backward
    assert strip.backward_front == 10.0
    qtbot.waitUntil(lambda: 0.0 < strip.backward_front < 9.0, timeout=5000)
    strip.viewport().repaint()                 # a frame mid-sweep, front line drawn
    qtbot.waitUntil(lambda: not strip.playing_backward, timeout=5000)
    assert strip.backward_front == 0.0
    assert fronts[0] <= 10.0 and fronts[-1] == 0.0
    assert all(a >= b for a, b in zip(fronts, fronts[1:]))        # only ever moves back
    state.set_show_gradients(False)
    assert strip.backward_front == 0.0


def test_play_backward_says_when_its_front_reaches_the_current_step(qtbot, strip, state):
    state.set_loss_step(9)
    state.set_timestep(4)
    reached = []
    strip.backward_reached.connect(reached.append)
    with qtbot.waitSignal(strip.backward_reached, timeout=5000):
        strip.play_backward()
    assert reached == [4] and strip.backward_front <= 4.0
    qtbot.waitUntil(lambda: not strip.playing_backward, timeout=5000)
    assert reached == [4]                                # once per sweep


def test_an_overflowed_experiment_draws_without_warnings(strip, state):
    from lstm_viz.model import Params

    b = np.zeros(8)
    b[0:2], b[2:4], b[4:6], b[6:8] = 5.0, 1e300, 2.0, 1.0
    p = Params("lstm", np.zeros((8, 1)), np.zeros((8, 2)), b, np.zeros(8))
    state.set_model(Network(p, options=Options(forget_activation="relu")), np.ones((5, 1)))
    state.set_show_gradients(True)
    assert not strip.band_widths.any() and strip.h_widths[4] > 0    # C_5 = inf: tanh is flat
    assert "Not a number" in strip.tooltip_at(strip.cell_rect(1).center().x())
    strip.viewport().repaint()


def test_what_the_screen_shows_after_steps_edits_and_scrolling_is_a_full_repaint(qtbot, state):
    """The boxes and tokens come from a layer drawn once per layout: after steps (partial
    repaints), a new model (every cell recoloured) and scrolling, the pixels on screen
    must be those a new strip draws."""
    from PySide6.QtGui import QGuiApplication, QImage
    from PySide6.QtWidgets import QApplication

    from lstm_viz.model import Network, init_params

    state.set_animation_ms(0)
    w = UnrolledStripView(state)
    qtbot.addWidget(w)
    w.setGeometry(0, 0, 780, 120)           # inside the offscreen screen
    w.show()
    qtbot.waitExposed(w)
    vp = w.viewport()

    def same() -> bool:
        QApplication.processEvents()
        top = vp.mapToGlobal(vp.rect().topLeft())
        shot = QGuiApplication.primaryScreen().grabWindow(0).toImage()
        on_screen = shot.copy(top.x(), top.y(), vp.width(), vp.height())
        fresh = UnrolledStripView(state)         # the reference: a strip with no history
        fresh.resize(w.size())
        fresh.horizontalScrollBar().setValue(w.horizontalScrollBar().value())
        want = fresh.viewport().grab().toImage()
        fresh.deleteLater()
        fmt_ = QImage.Format.Format_RGB32
        return on_screen.convertToFormat(fmt_) == want.convertToFormat(fmt_)

    for t in (1, 2, 5, 4):
        state.set_timestep(t)
        assert same()
    T = 60                                  # longer than fits: the strip scrolls
    net = Network(init_params("lstm", 2, 3, seed=1))
    state.set_model(net, np.random.default_rng(1).normal(size=(T, 2)), [f"w{k}" for k in range(T)])
    assert same()
    for t in (40, 41, 59, 3):               # far steps scroll the strip to them
        state.set_timestep(t)
        assert same()
