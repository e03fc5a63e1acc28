"""The window's issue-5 wiring, driven as a user would: switch the cell kind, show the
gradients, play the backward pass, run an experiment, use a compared cell, open the
long-range task; each is one undoable step.

Expected traces come from the engine on networks built here, never from the window.
"""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from lstm_viz.model import Clamp, Network, Options, init_params
from lstm_viz.model.longrange import long_range_network, long_range_task
from lstm_viz.state import AppState
from lstm_viz.ui.main_window import (BOTTOM_COMPARE, BOTTOM_GRADIENTS, BOTTOM_LONG,
                                     BOTTOM_TRACES, REBUILD_SEED, TAB_EXPERIMENTS)
from lstm_viz.ui.theme import scaled_font


@pytest.fixture
def window(make_window, state):
    return make_window(state)


def assert_same_trace(tr, ref):
    for name in ("h", "dL_dh", "dL_dx"):
        np.testing.assert_array_equal(getattr(tr, name), getattr(ref, name))
    assert tr.kind == ref.kind and tr.loss == ref.loss


@pytest.mark.parametrize("key, kind", [(Qt.Key.Key_2, "gru"), (Qt.Key.Key_3, "rnn")])
def test_ctrl_digit_switches_the_cell_and_undo_brings_the_lstm_back(qtbot, window, state,
                                                                   key, kind):
    before = state.snapshot()
    qtbot.keyClick(window, key, Qt.KeyboardModifier.ControlModifier)
    D, H = before.network.input_size, before.network.hidden_size
    expected = Network(init_params(kind, D, H, seed=REBUILD_SEED), h0=before.network.h0)
    if kind == "rnn":               # as the comparison's seeded RNN: biases 0 (h rests at 0)
        p = expected.params
        expected = expected.with_(params=p.replace(bias_ih=np.zeros(H), bias_hh=np.zeros(H)))
    assert state.network.kind == kind
    assert_same_trace(state.trace, expected.trace(state.inputs))
    assert window.cell_actions[kind].isChecked()
    assert window.diagram.scene().kind == kind
    assert "LSTM" not in window.model_shape.text() and kind.upper() in window.model_shape.text()
    name = {"gru": "GRU", "rnn": "simple RNN"}[kind]     # lower case in mid-sentence
    assert state.caption.startswith(f"A {name} cell with seeded random weights")
    assert before.unit_names[0]                         # the demo's units have names ...
    assert state.unit_label(0) == "unit 1"              # ... which a new cell's units lack
    window.act_undo.trigger()
    assert state.network is before.network
    assert window.cell_actions["lstm"].isChecked()
    assert window.diagram.scene().kind == "lstm"


def test_ctrl_1_after_ctrl_2_brings_back_the_users_own_lstm(qtbot, window, state):
    """Without the comparison tab ever opened: Ctrl+2 then Ctrl+1 gives back the latch
    as it was (weights, initial state, caption, unit names), not a seeded LSTM; an edit
    made to the GRU meanwhile is there when Ctrl+2 is pressed again."""
    window.activateWindow()
    latch = state.snapshot()
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert state.network.kind == "gru"
    p = state.network.params
    window.apply_network(state.network.with_(params=p.replace(bias_hh=p.bias_hh + 0.25)), "edit")
    gru = state.network
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert state.network.kind == "lstm"
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        np.testing.assert_array_equal(getattr(state.network.params, name),
                                      getattr(latch.network.params, name))
    np.testing.assert_array_equal(state.network.c0, latch.network.c0)
    assert state.caption == latch.caption and state.unit_names == latch.unit_names
    assert state.preset_id == latch.preset_id
    assert_same_trace(state.trace, latch.network.trace(state.inputs))
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(state.network.params.bias_hh, gru.params.bias_hh)
    assert state.caption.startswith("A GRU cell with seeded random weights")  # its own words
    window.act_undo.trigger()
    assert state.network.kind == "lstm"


def test_equations_of_a_new_cell_kind_keep_the_scaled_fonts(qtbot, window, state):
    """Rows built for a new kind in a shown window used to fall back to the default font
    (the row's style sheet re-polished them after the fonts were set), and the old rows
    stayed on screen until the event loop deleted them."""
    eq = window.equations
    sym, num = (eq.rows["f"].sym.font().pointSizeF(), eq.rows["f"].num.font().pointSizeF())
    old_rows = list(eq.rows.values())
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert list(eq.rows) == ["r", "z", "n", "h"]
    assert not any(row.isVisible() for row in old_rows)
    expected_sym = scaled_font(state.theme, state.font_scale, 1.4).pointSizeF()
    assert sym == expected_sym
    for row in eq.rows.values():
        assert row.isVisible()
        assert (row.sym.font().pointSizeF(), row.num.font().pointSizeF()) == (sym, num)
    state.set_focus("z")                  # re-styles the rows: the fonts stay
    assert eq.rows["z"].sym.font().pointSizeF() == sym


def test_switching_keeps_only_the_experiments_that_apply(window, state):
    window.apply_options(Options(forget_activation="relu", clamps=(Clamp("o", 1.0, 2),),
                                 truncate=5))
    window.set_cell_kind("gru")
    assert state.options == Options(truncate=5)


def test_g_shows_gradients_and_b_plays_the_backward_pass(qtbot, window, state):
    qtbot.keyClick(window, Qt.Key.Key_G)
    assert state.show_gradients and window.act_gradients.isChecked()
    assert window.diagram.scene().gradient_mode
    qtbot.keyClick(window, Qt.Key.Key_G)
    assert not state.show_gradients
    state.set_animation_ms(0)                  # no animation: the end state at once
    qtbot.keyClick(window, Qt.Key.Key_B)
    assert state.show_gradients and window.act_gradients.isChecked()
    assert not window.strip.playing_backward


def test_b_plays_the_step_shown_backward_on_the_diagram_when_the_front_reaches_it(qtbot, window,
                                                                                  state):
    window.activateWindow()
    state.set_animation_ms(300)
    state.set_timestep(6)
    scene = window.diagram.scene()
    played = []
    real = scene.play_backward_step
    scene.play_backward_step = lambda: (played.append(window.strip.backward_front), real())
    qtbot.keyClick(window, Qt.Key.Key_B)
    assert window.strip.playing_backward and not played       # the front starts at the loss step
    qtbot.waitUntil(lambda: bool(played), timeout=5000)
    assert played[0] <= 6.0 and scene.is_animating()         # there: the diagram runs backward
    qtbot.waitUntil(lambda: not window.strip.playing_backward, timeout=5000)
    assert len(played) == 1


def test_an_experiment_from_the_panel_is_undoable(qtbot, window, state):
    window.show_side_tab(TAB_EXPERIMENTS)
    before = state.network
    qtbot.mouseClick(window.experiments.relu, Qt.MouseButton.LeftButton)
    assert state.options.forget_activation == "relu"
    ref = before.with_(options=Options(forget_activation="relu")).trace(state.inputs)
    assert_same_trace(state.trace, ref)
    window.act_undo.trigger()
    assert state.network is before
    assert not window.experiments.relu.isChecked()      # the panel follows the undo


def test_use_as_main_cell_from_the_comparison(qtbot, window, state):
    window.bottom.setCurrentIndex(BOTTOM_COMPARE)
    qtbot.waitUntil(lambda: window.compare.isVisible())
    rnn = window.compare.comparison.network("rnn")
    qtbot.mouseClick(window.compare.use_buttons["rnn"], Qt.MouseButton.LeftButton)
    assert state.network.kind == "rnn" and state.network.params.equals(rnn.params)
    assert_same_trace(state.trace, rnn.trace(state.inputs))
    window.act_undo.trigger()
    assert state.network.kind == "lstm"


def test_open_the_long_range_task_in_the_main_views(qtbot, window, state):
    window.bottom.setCurrentIndex(BOTTOM_LONG)
    view = window.long_range
    view.set_length(50)
    before = state.network
    qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
    task = long_range_task(view.highlighted_length, view.current_network().hidden_size)
    np.testing.assert_array_equal(state.inputs, task.x)
    np.testing.assert_array_equal(state.target, task.target)
    assert state.steps == view.highlighted_length == 50
    ref = view.current_network().trace(task.x, target=task.target)
    assert_same_trace(state.trace, ref)
    assert window.bottom.currentIndex() == BOTTOM_GRADIENTS
    window.act_undo.trigger()
    assert state.network is before and not np.any(state.target)


def test_f5_cycles_the_lower_tabs_and_presentation_shows_the_traces(qtbot, window):
    seen = []
    for _ in range(4):
        qtbot.keyClick(window, Qt.Key.Key_F5)
        seen.append(window.bottom.currentIndex())
    assert seen == [BOTTOM_GRADIENTS, BOTTOM_COMPARE, BOTTOM_LONG, BOTTOM_TRACES]
    window.bottom.setCurrentIndex(BOTTOM_COMPARE)
    window.set_presentation(True)
    assert window.bottom.currentIndex() == BOTTOM_TRACES
    window.set_presentation(False)
    assert window.bottom.currentIndex() == BOTTOM_COMPARE


def test_long_range_networks_are_the_models_own(state):
    # the helper the test above relies on builds the same seeded network each time
    a, b = long_range_network("lstm", 8), long_range_network("lstm", 8)
    assert a.params.equals(b.params)


def test_loss_step_and_target_from_the_gradient_tab_are_undoable(qtbot, window, state):
    window.bottom.setCurrentIndex(BOTTOM_GRADIENTS)
    panel = window.gradients
    before = state.snapshot()
    panel.loss_spin.setValue(5)                       # step 5 (1-based)
    panel.loss_spin.setValue(6)                       # a held spin box: one undo step
    assert state.loss_step == 5
    H = state.network.hidden_size
    panel.target_edit.setFocus()
    panel.target_edit.selectAll()
    qtbot.keyClicks(panel.target_edit, " ".join(["0.5"] * H))
    qtbot.keyClick(panel.target_edit, Qt.Key.Key_Return)
    np.testing.assert_array_equal(state.target, np.full(H, 0.5))
    ref = before.network.with_(options=Options(loss_step=5)).trace(state.inputs,
                                                                   target=np.full(H, 0.5))
    assert_same_trace(state.trace, ref)
    window.act_undo.trigger()                         # the target
    assert not np.any(state.target) and state.loss_step == 5
    window.act_undo.trigger()                         # both spin steps at once
    assert state.loss_step == state.steps - 1 and state.network is before.network


def test_lower_tabs_are_built_when_first_shown(qtbot, window, state):
    tabs = (window.gradients_tab, window.compare_tab, window.long_range_tab)
    assert not any(t.built for t in tabs)               # start-up pays for the traces only
    window.act_heatmap.setChecked(True)
    window.bottom.setCurrentIndex(BOTTOM_GRADIENTS)
    assert window.gradients_tab.built and window.gradients.isVisible()
    assert window.gradients.heatmap                      # built with the window's setting
    assert not window.compare_tab.built


def test_a_blown_up_relu_forget_gate_is_shown_not_crashed(make_window, qapp):
    # forget pre-activation ~30 with a ReLU: C_t grows x30 per step, to inf, and the
    # backward pass meets 0 * inf = NaN; every view must cope (warnings are errors here)
    p = init_params("lstm", 1, 4, seed=0)
    b = p.bias_ih.copy()
    b[4:8] = 30.0
    net = Network(p.replace(bias_ih=b), options=Options(forget_activation="relu"))
    st = AppState(net, np.ones((300, 1)))
    assert np.isinf(st.trace.c).any() and np.isnan(st.trace.dL_dc).any()
    w = make_window(st)
    st.set_animation_ms(0)
    for tab in (BOTTOM_TRACES, BOTTOM_GRADIENTS, BOTTOM_COMPARE):
        w.bottom.setCurrentIndex(tab)
        for show in (False, True):
            st.set_show_gradients(show)
            for t in (0, 100, 299):
                st.set_timestep(t)
                qapp.processEvents()
    assert "clipped" in w.plots.panels["c"].plot.titleLabel.text
    assert "infinite or NaN" in w.diagram.scene().legend.note()
    w.show_side_tab(TAB_EXPERIMENTS)
    assert w.experiments.flagged


def test_larger_type_on_the_gradients_tab_still_makes_the_diagram_larger(qtbot, make_window,
                                                                         state):
    # The tab's controls column asks for room; it must not take so much that Ctrl+Plus
    # shrinks the diagram below its size at normal type (its labels would get smaller).
    w = make_window(state, size=(1920, 1080))
    w.resize_for_layout(1920, 1080)
    w.bottom.setCurrentIndex(BOTTOM_GRADIENTS)
    qtbot.wait(50)
    zoom = w.diagram.transform().m11()
    state.set_font_scale(1.6)
    qtbot.wait(50)
    assert 1.6 * w.diagram.transform().m11() > zoom      # its labels grow too
    state.set_font_scale(1.0)
    w.resize_for_layout(1280, 800)                      # a laptop: the column scrolls sooner
    qtbot.wait(50)
    assert w.diagram.viewport().height() >= 240


@pytest.mark.parametrize("size", [(1600, 900), (1920, 1080)])
def test_the_gradient_controls_show_whole_at_normal_type(qtbot, make_window, state, size):
    """Every control and the check's line without scrolling, and the check's verdict on
    the line that shows first."""
    w = make_window(state, size=size)
    w.resize_for_layout(*size)
    w.bottom.setCurrentIndex(BOTTOM_GRADIENTS)
    qtbot.wait(50)
    panel = w.gradients
    area = panel.controls_area
    assert not area.verticalScrollBar().isVisible()
    assert area.viewport().height() >= panel.controls.minimumHeight() - 1
    bottom = panel.check_label.mapTo(panel.controls, panel.check_label.rect().bottomLeft()).y()
    assert bottom <= area.viewport().height()
    for label in (panel.loss_step_label, panel.target_label):       # names not cut short
        assert label.width() >= label.sizeHint().width()
    qtbot.mouseClick(panel.check_button, Qt.MouseButton.LeftButton)
    assert panel.check_label.text().startswith("Exact and numerical agree ✓")


def test_ctrl_3_makes_the_comparisons_seeded_rnn_the_main_cell(qtbot, window, state):
    # "The RNN" is one network: the one the comparison plots is the one Ctrl+3 brings in,
    # so its curve does not jump when it becomes the main cell.
    window.bottom.setCurrentIndex(BOTTOM_COMPARE)
    qtbot.waitUntil(lambda: window.compare.isVisible())
    seeded = window.compare.comparison.network("rnn")
    before = window.compare.comparison.norms("rnn").copy()
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert state.network.params.equals(seeded.params)
    np.testing.assert_allclose(window.compare.comparison.norms("rnn"), before, rtol=1e-12)


def test_ctrl_3_takes_the_rnn_with_the_radius_its_slider_set(qtbot, window, state):
    window.bottom.setCurrentIndex(BOTTOM_COMPARE)
    qtbot.waitUntil(lambda: window.compare.isVisible())
    window.compare.radius_slider.setValue(150)            # ρ = 1.5
    seeded = window.compare.comparison.network("rnn")
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert state.network.params.equals(seeded.params)
    assert window.compare.comparison.rnn_radius == pytest.approx(1.5)


@pytest.mark.parametrize("heatmaps", [False, True])
def test_gradient_headings_are_whole_in_a_laptop_window_with_the_weights_open(qtbot, window,
                                                                             heatmaps):
    """1280x800 with the Weights tab open leaves the Gradients plots narrow: each heading
    then shows a shorter text of at most HEADER_LINES lines, drawn whole (its label as
    tall as its text needs), and keeps the full one for hover."""
    from lstm_viz.ui.gradients import HEADER_LINES
    from lstm_viz.ui.main_window import TAB_WEIGHTS

    window.resize_for_layout(1280, 800)
    window.show_side_tab(TAB_WEIGHTS)
    window.bottom.setCurrentIndex(BOTTOM_GRADIENTS)
    window.act_heatmap.setChecked(heatmaps)
    panel = window.bottom.currentWidget().widget()
    qtbot.waitUntil(lambda: all(h.height() >= h.heightForWidth(h.width())
                                for h in panel.headers.values() if h.isVisible()), timeout=2000)
    shortened = 0
    for key, head in panel.headers.items():
        if not head.isVisible():
            continue
        width = head.contentsRect().width() - 4
        assert head.lines(head.text(), width) <= HEADER_LINES, key
        assert head.height() >= head.heightForWidth(head.width()), key
        if head.text() != head.full_text():
            shortened += 1
            assert head.toolTip() == head.full_text()
    assert shortened >= 2
    if heatmaps:          # the colour bar's numbers are inside the view, not cut at its edge
        view, axis = panel.heat_view, panel.colorbar.axis
        right = view.mapFromScene(axis.sceneBoundingRect()).boundingRect().right()
        assert right <= view.viewport().width()
        for page in panel.pages.values():      # and no plot was pushed out instead
            if page.isVisible():
                assert page.mapTo(panel, page.rect().topRight()).x() <= panel.width()
