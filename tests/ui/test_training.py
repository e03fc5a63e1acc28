"""The training panel: its steps are the engine's gradient descent, undoable, and said."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from lstm_viz.explain import fmt
from lstm_viz.model import Network, Options
from lstm_viz.model.train import descend
from lstm_viz.ui.training import TrainingPanel, run_text


@pytest.fixture
def panel(qtbot, state):
    p = TrainingPanel(state)
    qtbot.addWidget(p)
    p.resize(420, 700)
    p.show()
    qtbot.waitExposed(p)
    return p


def _same(a: Network, b: Network) -> bool:
    sa, sb = a.params.to_state_dict(), b.params.to_state_dict()
    return sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)


def test_ten_steps_are_the_engines_descent_and_the_curve_goes_on(qtbot, panel, state):
    before = state.network
    panel.rate.setValue(0.5)
    qtbot.mouseClick(panel.buttons[10], Qt.MouseButton.LeftButton)
    want = descend(before, state.inputs, state.target, 0.5, 10)
    assert _same(state.network, want.network)
    assert panel.history == pytest.approx(list(want.losses), abs=0)
    assert state.trace.loss == want.losses[-1]
    assert panel.result.text() == run_text(want, None)
    assert f"loss {fmt(want.losses[0])} → {fmt(want.losses[-1])}" in panel.result.text()
    assert f"L = {fmt(want.losses[-1])}" in panel.loss_now.text()
    xs, ys = panel.curve.getData()
    np.testing.assert_array_equal(ys, want.losses)
    qtbot.mouseClick(panel.buttons[1], Qt.MouseButton.LeftButton)
    assert len(panel.history) == 12                      # one curve: 1 + 10 + 1 points


def test_another_change_starts_a_new_curve(qtbot, panel, state):
    qtbot.mouseClick(panel.buttons[10], Qt.MouseButton.LeftButton)
    assert len(panel.history) == 11
    state.set_target(np.full(state.network.hidden_size, 0.3))
    assert panel.history == [] and panel.result.text() == ""
    qtbot.mouseClick(panel.buttons[1], Qt.MouseButton.LeftButton)
    assert len(panel.history) == 2


def test_clipping_is_applied_and_said(qtbot, panel, state):
    state.set_options(replace(state.options, clip_norm=1e-3))
    norm = state.trace.grad_norm
    assert norm > 1e-3
    before = state.network.params.to_state_dict()
    qtbot.mouseClick(panel.buttons[1], Qt.MouseButton.LeftButton)
    after = state.network.params.to_state_dict()
    moved = np.sqrt(sum(np.sum((after[k] - before[k]) ** 2) for k in before))
    assert moved == pytest.approx(panel.rate.value() * 1e-3, rel=1e-9)
    assert "1 of 1 clipped to 0.001" in panel.result.text()


def test_a_model_that_overflowed_is_not_stepped_and_the_reason_is_shown(qtbot, panel, state):
    p = state.network.params
    b = p.bias_ih.copy()
    b[p.gate_rows("f")] = 1e300
    broken = Network(p.replace(bias_ih=b), options=Options(forget_activation="relu"))
    state.set_network(broken)
    qtbot.mouseClick(panel.buttons[100], Qt.MouseButton.LeftButton)
    assert state.network is broken
    assert panel.result.text().startswith("No step taken:") and "infinite or NaN" in panel.result.text()


def test_a_step_taken_back_is_said_in_a_sentence(qtbot, panel, state):
    state.set_options(replace(state.options, forget_activation="relu"))
    panel.rate.setValue(panel.rate.maximum())
    run = panel.train(100)
    text = panel.result.text()
    if run.stopped:                 # (whether 100 reaches an overflow depends on the model)
        assert ". Step " in text and "taken back" in text
    fake = replace(run, stopped="step 3 made the loss or a gradient infinite or NaN and was taken back")
    assert run_text(fake, None).endswith(". Step 3 made the loss or a gradient infinite or NaN "
                                         "and was taken back.")


def test_in_the_window_a_click_is_one_undo_step_restored_bit_for_bit(qtbot, make_window, state):
    from lstm_viz.ui.main_window import TAB_TRAIN

    window = make_window(state, size=(1280, 800))
    assert window.act_show_training.shortcut().toString() == "F7"
    window.act_show_training.trigger()
    assert window.side.currentIndex() == TAB_TRAIN
    panel = window.training
    qtbot.waitUntil(lambda: panel is not None and panel.isVisible())
    # every tab's name fits the side panel at laptop size (no scroll arrows)
    assert window.side.tabBar().sizeHint().width() <= window.side.width()
    before = state.network
    count = window.undo_stack.count()
    qtbot.mouseClick(panel.buttons[100], Qt.MouseButton.LeftButton)
    assert window.undo_stack.count() == count + 1
    assert window.undo_stack.undoText() == f"Gradient descent: 100 steps (η = {panel.rate.value():g})"
    trained = state.network
    assert not _same(trained, before)
    window.undo_stack.undo()
    assert _same(state.network, before) and panel.history == []
    window.undo_stack.redo()
    assert _same(state.network, trained)


def test_a_loss_that_went_up_is_said_with_its_possible_causes(state):
    from lstm_viz.model.train import DescentRun

    up = DescentRun(state.network, np.array([0.2, 0.5]), np.array([1.0]), 0)
    assert "overshoot (try a smaller η)" in run_text(up, None)
    assert "clipped or truncated" not in run_text(up, None)
    assert "clipped or truncated gradient" in run_text(up, None, truncated=True)
    down = DescentRun(state.network, np.array([0.5, 0.2]), np.array([1.0]), 0)
    assert "went up" not in run_text(down, None)
