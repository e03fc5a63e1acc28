"""The experiments panel: each switch sets the options, and the gradients stay exact."""

import numpy as np
import pytest

from lstm_viz.explain import fmt
from lstm_viz.model import Clamp, ModelInputError, Network, Options, init_params
from lstm_viz.state import AppState
from lstm_viz.ui.experiments import HUGE, ExperimentsPanel, overflow_report

#: A few (tensor, index) entries checked by finite differences after each toggle.
PROBES = (("weight_hh", (1, 0)), ("weight_ih", (-2, 1)), ("bias_ih", (-1,)))


def small_state(kind="lstm"):
    net = Network(init_params(kind, 2, 3, seed=3))
    x = np.random.default_rng(1).normal(size=(8, 2))
    st = AppState(net, x)
    st.set_target(np.array([0.2, -0.4, 0.1]))
    return st


def fd_grad(state, name, idx, eps=1e-6):
    """Central difference of the loss in one parameter, with the state's options."""
    net, p = state.network, state.network.params
    vals = []
    for sign in (1, -1):
        arr = p.tensor(name).copy()
        arr[idx] += sign * eps
        q = p.replace(**{name: arr})
        vals.append(net.with_(params=q).trace(state.inputs, state.target).loss)
    return (vals[0] - vals[1]) / (2 * eps)


def assert_fd_holds(state):
    for name, idx in PROBES:
        g = state.trace.grads[f"{name}_l0"][idx]
        assert g == pytest.approx(fd_grad(state, name, idx), rel=1e-5, abs=1e-9), name


@pytest.fixture
def state(qapp):
    return small_state()


@pytest.fixture
def panel(qtbot, state):
    w = ExperimentsPanel(state)
    qtbot.addWidget(w)
    w.resize(450, 900)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_relu_forget_gate_sets_the_option_and_gradients_stay_exact(qtbot, panel, state):
    panel.relu.click()
    assert state.options.forget_activation == "relu"
    assert_fd_holds(state)
    panel.relu.click()
    assert state.options.forget_activation == "sigmoid"


@pytest.mark.parametrize("choice", ["f = 1", "f = 0", "i = 0", "o = 1"])
def test_each_clamp_holds_the_gate_from_the_chosen_step(qtbot, panel, state, choice):
    panel.clamp_from.setValue(3)
    panel.clamp_choice.setCurrentIndex(panel.clamp_choice.findText(choice))
    panel.clamp_choice.activated.emit(panel.clamp_choice.currentIndex())   # as a user pick does
    assert state.options.clamps == ()                 # the switch is still off
    panel.clamp.click()
    gate, value = choice.split(" = ")
    assert state.options.clamps == (Clamp(gate, float(value), 2),)
    g = state.trace.gates[gate]
    assert np.all(g[2:] == float(value)) and not np.all(g[:2] == float(value))
    assert_fd_holds(state)
    panel.clamp_from.setValue(5)                      # moving the step while on applies it
    assert state.options.clamps == (Clamp(gate, float(value), 4),)


def test_a_clamp_past_a_shorter_sequence_stays_where_it_was_set(panel, state):
    T = state.steps
    panel.clamp_from.setValue(T)                            # the last step
    panel.clamp.click()
    assert state.options.clamps == (Clamp("f", 1.0, T - 1),)
    state.set_inputs(np.zeros((3, state.inputs.shape[1])))    # a 3-step sequence typed after
    assert panel.clamp_from.value() == T                    # shown as it is, not "step 3"
    panel.clip.click()                                      # another switch: the clamp stays
    assert state.options.clip_norm is not None
    assert state.options.clamps == (Clamp("f", 1.0, T - 1),)


def test_clipping_scales_the_exact_gradients_to_the_norm(panel, state):
    full = {k: v.copy() for k, v in state.trace.grads.items()}
    norm = np.sqrt(sum(np.sum(v * v) for v in full.values()))
    assert_fd_holds(state)                            # the unclipped reference is exact
    panel.clip_value.setValue(norm / 4)
    panel.clip.click()
    assert state.options.clip_norm == pytest.approx(norm / 4, abs=1e-3)
    c = state.options.clip_norm
    for k, g in state.trace.grads.items():
        np.testing.assert_allclose(g, full[k] * c / norm, rtol=1e-12)
    # The panel says what clipping did: the norm it found and the factor it applied.
    hint = panel.clip_hint.text()
    assert f"their norm is {fmt(norm)}" in hint and f"multiplied by {fmt(c / norm)}" in hint
    panel.clip_value.setValue(norm * 2)
    hint = panel.clip_hint.text()
    assert f"their norm is {fmt(norm)}, within {fmt(state.options.clip_norm)}: nothing is scaled" in hint
    panel.clip.click()
    assert "their norm" not in panel.clip_hint.text()


def test_truncation_cuts_the_gradient_beyond_the_window(panel, state):
    full = state.trace.dL_dh.copy()
    panel.trunc_k.setValue(3)
    panel.trunc.click()
    assert state.options.truncate == 3
    d = state.trace.dL_dh
    s = state.loss_step
    np.testing.assert_array_equal(d[: s - 2], 0.0)    # cut: the views show zeros there
    np.testing.assert_allclose(d[s - 2: s + 1], full[s - 2: s + 1], rtol=1e-12)   # exact inside


def test_apply_options_callback_is_used_when_given(qtbot, state):
    calls = []

    def apply(o):
        calls.append(o)
        state.set_options(o)

    w = ExperimentsPanel(state, apply_options=apply)
    qtbot.addWidget(w)
    w.trunc.click()
    assert calls and calls[-1].truncate == w.trunc_k.value()


def test_reset_keeps_the_loss_step(panel, state):
    state.set_loss_step(4)
    panel.relu.click()
    panel.trunc.click()
    panel.reset.click()
    assert state.options == Options(loss_step=4)
    assert not panel.relu.isChecked() and not panel.trunc.isChecked()


def test_panel_follows_options_changed_elsewhere_without_echo(qtbot, state):
    calls = []
    w = ExperimentsPanel(state, apply_options=calls.append)
    qtbot.addWidget(w)
    state.set_options(Options(forget_activation="relu", clamps=(Clamp("o", 1.0, 5),),
                              truncate=4, clip_norm=2.5))          # e.g. an undo
    assert w.relu.isChecked() and w.clamp.isChecked() and w.trunc.isChecked() and w.clip.isChecked()
    assert w.clamp_choice.currentText() == "o = 1" and w.clamp_from.value() == 6
    assert w.trunc_k.value() == 4 and w.clip_value.value() == pytest.approx(2.5)
    state.set_options(Options())
    assert not (w.relu.isChecked() or w.clamp.isChecked() or w.trunc.isChecked() or w.clip.isChecked())
    assert calls == []                                  # nothing echoed back


def test_gru_offers_z_clamps_and_no_forget_gate(qtbot, qapp):
    st = small_state("gru")
    w = ExperimentsPanel(st)
    qtbot.addWidget(w)
    assert not w.relu.isEnabled() and "no forget gate" in w.relu.toolTip()
    items = [w.clamp_choice.itemText(i) for i in range(w.clamp_choice.count())]
    assert items == ["z = 1", "z = 0"]
    w.clamp.click()
    assert st.options.clamps == (Clamp("z", 1.0, 0),)
    np.testing.assert_array_equal(st.trace.h[1:], st.trace.h[:-1])   # z = 1 copies h
    assert_fd_holds(st)


def test_rnn_has_nothing_to_clamp(qtbot, qapp):
    st = small_state("rnn")
    w = ExperimentsPanel(st)
    qtbot.addWidget(w)
    assert not w.clamp.isEnabled() and not w.relu.isEnabled()
    assert "no gates" in w.clamp.toolTip()
    w.trunc.click()
    assert st.options.truncate == w.trunc_k.value()


def test_relu_with_large_weights_does_not_crash_and_raises_the_flag(qtbot, qapp):
    p = init_params("lstm", 1, 3, seed=0)
    b = p.bias_ih.copy()
    b[3:6] = 50.0                                   # forget rows: f = 50 with ReLU
    st = AppState(Network(p.replace(bias_ih=b)), np.ones((250, 1)))
    w = ExperimentsPanel(st)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    assert not w.flag.isVisible()
    w.relu.click()                                   # C grows ~50x per step: overflows to inf
    assert st.options.forget_activation == "relu"
    assert not np.all(np.isfinite(st.trace.c))
    assert w.flag.isVisible() and w.flagged
    from lstm_viz.ui.experiments import HUGE
    with np.errstate(invalid="ignore"):
        k = int(np.flatnonzero(~(np.abs(st.trace.c) <= HUGE).all(axis=1))[0])
    assert k > 0                                     # the states run forward: named where C
    assert f"Huge or broken numbers: Cₜ from step {k + 1} (" in w.flag.text()   # goes wrong
    w.relu.click()
    assert not w.flag.isVisible()


def test_overflow_report_threshold():
    st = small_state()
    assert overflow_report(st.trace) == ""
    assert overflow_report(st.trace, limit=1e-6).startswith("⚠")
    assert HUGE == 1e6


def test_a_refused_change_shows_a_message_and_leaves_the_state(qtbot, state):
    def refuse(_o):
        raise ModelInputError("the truncation window must be at least 1 step")

    w = ExperimentsPanel(state, apply_options=refuse)
    qtbot.addWidget(w)
    w.show()
    before = state.options
    w.trunc.click()
    assert state.options == before
    assert not w.trunc.isChecked()                    # back in step with the state
    assert w.status.isVisible() and "at least 1 step" in w.status.text()


def test_an_overflow_of_the_gradients_alone_names_the_steps_they_fill(qtbot, qapp):
    """ReLU forget gate of 3 and no candidate: C stays 0, but dL/dC triples at each step
    back from the loss, past HUGE at the early steps. The flag names the gradient and
    those steps (it used to say 'from step 1' as if the trouble ran forward from there)."""
    from lstm_viz.ui.experiments import HUGE

    H, T = 3, 400
    b = np.zeros(4 * H)
    b[H:2 * H] = 3.0
    p = init_params("lstm", 2, H, seed=1)
    z = np.zeros_like
    st = AppState(Network(p.replace(weight_ih=z(p.weight_ih), weight_hh=z(p.weight_hh), bias_ih=b,
                                    bias_hh=z(p.bias_hh))), np.random.default_rng(0).normal(size=(T, 2)))
    st.set_target(np.ones(H))
    w = ExperimentsPanel(st)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.relu.click()
    assert np.all(st.trace.c == 0) and np.all(np.isfinite(st.trace.h))
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(~(np.abs(st.trace.dL_dc) <= HUGE).all(axis=1))
    assert bad[0] == 0 and bad[-1] < T - 1
    assert f"Huge or broken numbers: dL/dCₜ at steps 1–{bad[-1] + 1} (" in w.flag.text()
