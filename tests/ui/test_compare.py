"""The comparison tab: three cells on the state's inputs, read back from the plot."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from lstm_viz.compare import KINDS, ComparisonState
from lstm_viz.explain import fmt
from lstm_viz.model import Network, Options, init_params
from lstm_viz.model.analysis import decay_per_step
from lstm_viz.state import AppState
from lstm_viz.ui.compare import RADIUS_STEPS, ComparisonView, decay_text, radius_text


@pytest.fixture
def used():
    return []


@pytest.fixture
def view(qtbot, state, used):
    w = ComparisonView(state, use_as_main=used.append)
    qtbot.addWidget(w)
    w.resize(1900, 400)
    w.show()
    qtbot.waitExposed(w)
    return w


def _plotted(view, kind):
    c = view.curves[kind]
    return c.values


def _state_norms(tr):
    """||dL/d(state_t)||: over h_t, and for an LSTM over h_t and the C_t it carries on,
    whose gradient (h_t held) is f_{t+1} dL/dC_{t+1} (0 at the loss step)."""
    parts = [tr.dL_dh]
    if tr.dL_dc is not None:
        carried = np.zeros_like(tr.dL_dc)
        s = tr.loss_step
        carried[:s] = tr.gates["f"][1:s + 1] * tr.dL_dc[1:s + 1]
        parts.append(carried)
    return np.linalg.norm(np.concatenate(parts, axis=1), axis=1)


def _engine_norms(state, net):
    """||dL/d(state_t)|| of an independent engine run of ``net`` on the state's inputs."""
    tr = net.trace(state.inputs, target=state.target)
    return _state_norms(tr), tr


def test_three_traces_match_each_engine_trace(view, state):
    state.set_target(np.full(state.network.hidden_size, 0.3))
    opts = Options(loss_step=state.loss_step)
    for kind in KINDS:
        if kind == state.network.kind:
            net = state.network                       # the user's own model
        else:
            p = init_params(kind, state.network.input_size, state.network.hidden_size, seed=0)
            if kind == "rnn":
                p = p.replace(bias_ih=np.zeros_like(p.bias_ih), bias_hh=np.zeros_like(p.bias_hh))
            net = Network(p, options=opts)
        norms, tr = _engine_norms(state, net)
        x, y = _plotted(view, kind)
        keep = np.flatnonzero(norms > 0)
        np.testing.assert_array_equal(x, keep + 1)
        np.testing.assert_allclose(y, norms[keep], rtol=1e-12)
        r = decay_per_step(norms, tr.loss_step)
        assert decay_text(kind, r, with_name=False) == view.decay_labels[kind].text()
        assert view.dx1_labels[kind].text().endswith(fmt(np.linalg.norm(tr.dL_dx[0])))


def test_main_kind_is_the_state_trace_and_says_so(view, state):
    assert view.comparison.trace("lstm") is state.trace
    assert view.source_labels["lstm"].text() == "your model"
    assert view.source_labels["gru"].text() == "seeded"
    assert not view.use_buttons["lstm"].isEnabled()
    assert view.use_buttons["gru"].isEnabled()


def test_traces_follow_a_state_edit(view, state):
    old = _plotted(view, "gru")[1].copy()
    state.set_loss_step(7)
    norms, _ = _engine_norms(state, view.comparison.network("gru"))
    x, y = _plotted(view, "gru")
    assert x.max() == 8                              # nothing after the loss step
    np.testing.assert_allclose(y, norms[norms > 0], rtol=1e-12)
    assert len(y) != len(old)
    assert view.loss_line.value() == 8


def test_rnn_radius_slider_gives_decay_below_one_and_growth_above(qtbot, qapp):
    # A fixed case near h = 0: zero inputs, and the seeded RNN has zero biases, so the
    # gradient goes back through W_hh^T alone and its size follows the spectral radius.
    net = Network(init_params("lstm", 1, 4, seed=1))
    state = AppState(net, np.zeros((30, 1)))
    state.set_target(np.ones(4))
    view = ComparisonView(state)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.radius_slider.setValue(50)                  # radius 0.5
    assert view.comparison.rnn_radius == pytest.approx(0.5)
    assert view.radius_label.text() == "ρ = 0.50: the gradient shrinks"
    r_low = view.comparison.decay("rnn")
    assert r_low < 0.9
    y_low = _plotted(view, "rnn")[1]
    assert y_low[0] < 1e-3 * y_low[-1]               # step 1 gets almost nothing
    view.radius_slider.setValue(150)                 # radius 1.5
    r_high = view.comparison.decay("rnn")
    assert view.radius_label.text() == "ρ = 1.50: the gradient grows"
    assert r_high > 1.1
    y_high = _plotted(view, "rnn")[1]
    assert y_high[0] > 1e3 * y_high[-1]              # step 1 gets far more than the loss step
    assert view.decay_labels["rnn"].text() == decay_text("rnn", r_high, with_name=False)
    assert decay_text("rnn", r_high).startswith("RNN: ×1.")


def test_radius_above_one_that_still_shrinks_says_why(view, state):
    # The demo's spike drives the RNN's h far from 0, where tanh's slope cuts the gradient
    # down whatever ρ is: the read-out must not promise an explosion the plot does not show.
    view.radius_slider.setValue(150)
    r = view.comparison.decay("rnn")
    assert r < 1.0
    tr = view.comparison.trace("rnn")
    slope = float(np.mean(1.0 - tr.h[1: tr.loss_step + 1] ** 2))    # steps 2..s: crossed going back
    assert view.comparison.rnn_slope() == pytest.approx(slope, rel=1e-12)
    assert 1.5 * slope < 1.0
    assert view.radius_label.text() == f"ρ = 1.50, yet it shrinks: tanh′ ≈ {slope:.2f}"
    assert view.radius_label.toolTip().startswith(
        f"ρ(W_hh) = 1.50 > 1, yet the gradient shrinks: going back, tanh's slope averages "
        f"{slope:.2f}, and 1.50 × {slope:.2f} < 1.")
    assert "lets it grow" in view.radius_slider.toolTip()


def test_radius_read_out_gives_the_slope_only_when_it_explains_the_shrinking():
    assert radius_text(0.8, 0.7) == "ρ = 0.80: the gradient shrinks"
    assert radius_text(1.2, 1.05) == "ρ = 1.20: the gradient grows"
    assert radius_text(1.5, 0.9, 0.5) == "ρ = 1.50, yet it shrinks: tanh′ ≈ 0.50"
    # 1.5 x 0.9 > 1: the slope alone does not account for it, so no reason is claimed
    assert radius_text(1.5, 0.9, 0.9) == "ρ = 1.50, yet it shrinks"
    assert radius_text(1.5, 0.9, 0.9, long=True) == "ρ(W_hh) = 1.50 > 1, yet the gradient shrinks on this input."
    assert radius_text(1.5, float("nan")) == "ρ = 1.50: too few steps to fit"


def test_rnn_slider_stays_in_sight_in_a_short_tab(qtbot, state):
    view = ComparisonView(state)
    qtbot.addWidget(view)
    view.resize(1380, 270)                           # the bottom tab at 1920x1080
    view.show()
    qtbot.waitExposed(view)
    for w in (view.radius_slider, view.radius_label):
        box = w.rect().translated(w.mapTo(view, w.rect().topLeft()))
        assert w.isVisible() and view.rect().contains(box), w


def test_rnn_slider_is_off_when_the_rnn_is_the_users_model(view, state):
    state.set_network(Network(init_params("rnn", 2, 3, seed=7)))
    assert not view.radius_slider.isEnabled()
    assert "weight editor" in view.radius_slider.toolTip()
    assert view.comparison.trace("rnn") is state.trace


def test_use_as_main_hands_over_that_kinds_network(qtbot, view, state, used):
    qtbot.mouseClick(view.use_buttons["gru"], Qt.MouseButton.LeftButton)
    assert len(used) == 1 and used[0].kind == "gru"
    assert used[0].hidden_size == state.network.hidden_size
    state.set_network(used[0])                        # what the window will do
    assert view.source_labels["gru"].text() == "your model"
    assert not view.use_buttons["gru"].isEnabled()
    assert view.use_buttons["lstm"].isEnabled()


def test_a_cell_that_was_the_main_one_keeps_its_weights(qtbot, view, state, used):
    """Switch the main cell to the GRU, edit it, switch back: the LSTM is the user's latch
    again (not a seeded one) and the GRU beside it keeps the edit."""
    latch = state.network
    qtbot.mouseClick(view.use_buttons["gru"], Qt.MouseButton.LeftButton)
    state.set_network(used[-1])                                   # what the window will do
    assert view.source_labels["lstm"].text() == "yours, kept"
    assert "the LSTM is yours as you last had it, the RNN seeded" in view.source_note.text()
    np.testing.assert_array_equal(view.comparison.network("lstm").params.weight_hh,
                                  latch.params.weight_hh)
    p = state.network.params
    edited = state.network.with_(params=p.replace(weight_hh=3 * p.weight_hh))
    state.set_network(edited)                                     # an edit of the GRU
    qtbot.mouseClick(view.use_buttons["lstm"], Qt.MouseButton.LeftButton)
    back = used[-1]
    assert back.kind == "lstm"
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        np.testing.assert_array_equal(getattr(back.params, name), getattr(latch.params, name))
    state.set_network(back)
    assert view.source_labels["gru"].text() == "yours, kept"
    np.testing.assert_array_equal(view.comparison.network("gru").params.weight_hh,
                                  edited.params.weight_hh)
    # its trace is that network's on the state's inputs
    tr = edited.with_(options=Options()).trace(state.inputs, target=state.target)
    np.testing.assert_allclose(view.comparison.trace("gru").dL_dh, tr.dL_dh, rtol=1e-12)
    # a new hidden size: the kept ones no longer fit, the seeded ones come back
    state.set_network(Network(init_params("lstm", state.network.input_size, 5, seed=2)))
    assert view.source_labels["gru"].text() == "seeded"


def test_the_radius_slider_rescales_a_kept_rnn_from_its_own_radius(qtbot, view, state, used):
    from lstm_viz.model.analysis import spectral_radius

    latch = state.network
    mine = Network(init_params("rnn", latch.input_size, latch.hidden_size, seed=4))
    view.radius_slider.setValue(view.radius_slider.maximum())   # the seeded RNN at 2.0 first
    state.set_network(mine)
    state.set_network(latch)                                    # back: the RNN is kept
    assert view.source_labels["rnn"].text() == "yours, kept"
    assert view.comparison.rnn_radius == pytest.approx(spectral_radius(mine.params.weight_hh))
    assert view.radius_slider.isEnabled()
    view.radius_slider.setValue(view.radius_slider.minimum() + 10)
    assert view.comparison.rnn_radius == pytest.approx(view.radius_slider.value() / RADIUS_STEPS, rel=1e-6)


def test_a_cell_taken_as_main_keeps_the_loss_on_the_last_step(qtbot, view, state, used):
    assert state.options.loss_step is None                    # the demo: the last step
    qtbot.mouseClick(view.use_buttons["gru"], Qt.MouseButton.LeftButton)
    assert used[0].options.loss_step is None
    state.set_network(used[0])
    state.set_inputs(np.zeros((20, state.inputs.shape[1])))   # a longer sequence typed after
    assert state.loss_step == 19


def test_cursor_follows_the_time_step_and_moves_it(view, state, drag_cursor):
    state.set_timestep(4)
    assert view.cursor.value() == 5
    assert view.at_step.text().startswith("At step 5")
    drag_cursor(view.cursor, view.plot.vb, 9.2)
    assert state.timestep == 8 and view.cursor.value() == 9


def test_nothing_is_computed_while_hidden_but_reads_are_current(qtbot, state):
    comp = ComparisonState(state)
    comp.set_active(False)
    comp.trace("gru")
    assert not comp.stale
    state.set_target(np.full(state.network.hidden_size, 0.7))
    assert comp.stale                                  # not recomputed yet
    norms, _ = _engine_norms(state, comp.network("gru"))
    np.testing.assert_allclose(comp.norms("gru"), norms, rtol=1e-12)
    assert not comp.stale


def test_hidden_view_catches_up_when_shown(qtbot, state):
    view = ComparisonView(state)
    qtbot.addWidget(view)
    state.set_loss_step(5)                             # while never shown
    assert view.comparison.stale
    view.show()
    qtbot.waitExposed(view)
    assert _plotted(view, "rnn")[0].max() == 6


def test_font_scale_reaches_the_labels(view, state):
    before = view.decay_labels["gru"].font().pointSizeF()
    state.set_font_scale(2.0)
    assert view.decay_labels["gru"].font().pointSizeF() == pytest.approx(2 * before)


def test_a_weight_edit_reruns_only_the_users_cell(view, state):
    gru_before = view.comparison.trace("gru")
    p = state.network.params
    state.set_network(state.network.with_(params=p.with_value("weight_hh", (0, 0), 0.37)))
    assert view.comparison.trace("gru") is gru_before          # seeded: inputs unchanged
    assert view.comparison.trace("lstm") is state.trace
    norms = _state_norms(state.trace)
    np.testing.assert_allclose(_plotted(view, "lstm")[1], norms[norms > 0], rtol=1e-12)
    state.set_target(np.full(state.network.hidden_size, -0.2))
    assert view.comparison.trace("gru") is not gru_before       # new target: rerun


def test_key_above_the_plot_shows_each_kind_in_its_colour_and_line_style(qtbot, view):
    from lstm_viz.ui.compare import KIND_COLORS, KIND_NAMES, KIND_STYLES
    from lstm_viz.ui.kit import STYLE_GLYPHS

    text = view.key.text()
    for k in KINDS:
        assert f"color:{KIND_COLORS[k]}'>{STYLE_GLYPHS[KIND_STYLES[k]]}" in text
        assert KIND_NAMES[k] in text
    assert view.key.geometry().bottom() < view.plot_widget.geometry().top()
    assert not view.plot.legend                      # nothing drawn over the curves


def test_curves_are_thin_drafts_while_an_edit_drags_on_then_full(qtbot, view, state):
    from lstm_viz.ui.kit import DRAFT_WITHIN_MS, SETTLE_MS

    curves = list(view.curves.values())
    qtbot.waitUntil(lambda: not any(c.draft for c in curves), timeout=SETTLE_MS + 1000)
    qtbot.wait(DRAFT_WITHIN_MS + 50)                   # a pause: the next edit is not a drag
    for k in range(3):                                 # edits in quick succession: a drag
        state.set_loss_step(5 + k)
        assert all(c.draft for c in curves) == (k > 0)
    norms, _ = _engine_norms(state, view.comparison.network("gru"))
    np.testing.assert_allclose(_plotted(view, "gru")[1], norms[norms > 0], rtol=1e-12)
    qtbot.waitUntil(lambda: not any(c.draft for c in curves), timeout=SETTLE_MS + 1000)


def test_an_edit_of_the_main_model_reuses_the_other_kinds_numbers(view, state):
    comp = view.comparison
    before = {k: comp.norms(k) for k in KINDS}
    decays = {k: comp.decay(k) for k in KINDS}
    main = state.network.kind
    net = state.network
    state.set_network(net.with_(params=net.params.with_value("bias_hh_l0", 0, 0.4)))
    for kind in KINDS:
        now = comp.norms(kind)
        assert not now.flags.writeable
        if kind == main:                              # the edited model: its new trace's
            want, tr = _engine_norms(state, state.network)
            np.testing.assert_allclose(now, want, rtol=1e-12)
            assert comp.decay(kind) == decay_per_step(want, tr.loss_step)
        else:                                         # the seeded ones did not change
            assert now is before[kind] and comp.decay(kind) == decays[kind]
    assert view.decay_labels[main].text() == decay_text(main, comp.decay(main), with_name=False)


def test_the_lstm_line_counts_the_gradient_its_cell_state_carries(qtbot, state):
    """The demo latch holds its forget gate open and uses no h_{t-1} in W_hh: dL/dh_t is
    all but 0 before the loss step, while dL/dC_t comes back along the cell unchanged
    (f = 1). The comparison must show the LSTM's state gradient, not the vanished h part."""
    from lstm_viz.model.demo import demo_inputs, demo_network

    x = demo_inputs()
    state.set_model(demo_network(), x, [str(k) for k in range(len(x))])
    w = ComparisonView(state, use_as_main=lambda n: None)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    tr = state.trace
    s = tr.loss_step
    h = np.linalg.norm(tr.dL_dh[:s], axis=1)
    c = np.linalg.norm(tr.dL_dc[:s], axis=1)
    assert h.max() < 1e-4 and c.min() > 0.1        # the story: h faded, C carried it
    x_plot, y = _plotted(w, "lstm")
    before = x_plot < s + 1
    np.testing.assert_allclose(y[before], np.hypot(h, c)[x_plot[before].astype(int) - 1],
                               rtol=1e-12)
    assert y[before].min() > 0.1
    assert w.comparison.decay("lstm") > 0.95       # about constant going back, not vanishing


def test_the_note_says_when_the_seeded_cells_use_another_loss(view, state):
    assert view.source_note.text().startswith("Same inputs, target and loss step.")
    from lstm_viz.model import encode
    from lstm_viz.model.presets import load_preset
    p = load_preset("first_opinion")                  # an LSTM with a readout
    state.set_model(p.network, encode(p.sequence, p.encoding).x)
    state.set_loss_class(0)
    assert state.trace.loss_class == 0
    assert view.source_note.text().startswith(
        "Same inputs and loss step; the seeded cells have no readout, so their loss is the "
        "squared error to the target y.")
    assert view.comparison.trace("gru").loss_class is None


def test_the_whole_side_panel_fits_the_bottom_tab_at_1920x1080(qtbot, state, make_window):
    # the last line (the gradients at the cursor) was cut off and scrolled
    from lstm_viz.ui.main_window import BOTTOM_COMPARE

    window = make_window(state, size=(1920, 1080))
    window.resize_for_layout(1920, 1080)
    window.bottom.setCurrentIndex(BOTTOM_COMPARE)
    view = window.findChild(ComparisonView)
    qtbot.waitUntil(lambda: view.isVisible() and view.at_step.text() != "")

    def fits() -> bool:             # (after the layouts have settled, a few passes later)
        vp = view.side_scroll.viewport()
        box = view.at_step.rect().translated(view.at_step.mapTo(vp, view.at_step.rect().topLeft()))
        return view.side_scroll.verticalScrollBar().maximum() == 0 and vp.rect().contains(box)

    qtbot.waitUntil(fits, timeout=2000)


def test_the_names_of_the_cells_read_in_their_colours(view, state):
    from lstm_viz.ui.theme import KIND_COLORS, THEMES

    for theme in ("light", "dark"):
        state.set_theme(theme)
        for kind, lab in view.name_labels.items():
            assert THEMES[theme].ink(KIND_COLORS[kind]) in lab.styleSheet()
