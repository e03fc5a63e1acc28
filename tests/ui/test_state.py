"""AppState: the single source of truth. Signals only on real change, clamping, and a
trace that is exactly the engine's."""

import numpy as np
import pytest

from lstm_viz.model import Network, init_params
from lstm_viz.model import demo
from lstm_viz.state import AppState, demo_labels


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _reference_lstm(p, x):
    """A plain, independent LSTM forward pass (PyTorch formulas, gate rows i f g o)."""
    H = p.hidden_size
    h, c = np.zeros(H), np.zeros(H)
    hs, cs, gates = [], [], {k: [] for k in "ifgo"}
    for xt in x:
        a = p.weight_ih @ xt + p.bias_ih + p.weight_hh @ h + p.bias_hh
        i, f, g, o = (a[k * H:(k + 1) * H] for k in range(4))
        i, f, g, o = _sigmoid(i), _sigmoid(f), np.tanh(g), _sigmoid(o)
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
        cs.append(c)
        for k, v in zip("ifgo", (i, f, g, o)):
            gates[k].append(v)
    return np.array(hs), np.array(cs), {k: np.array(v) for k, v in gates.items()}


class Spy:
    """Records every emission of the state's signals, in order."""

    def __init__(self, state):
        self.events = []
        for name in ("trace_changed", "timestep_changed", "unit_changed", "focus_changed",
                     "appearance_changed", "animation_changed"):
            getattr(state, name).connect(lambda *a, n=name: self.events.append((n, *a)))


def test_default_is_the_demo(state):
    x = demo.demo_inputs()
    assert np.array_equal(state.trace.x, x)
    assert state.caption == demo.CAPTION
    assert state.unit_names == demo.UNIT_NAMES
    assert state.labels == demo_labels(x)
    assert state.labels[2] == "1" and state.labels[10] == "go" and state.labels[0] == "·"
    assert state.trace.labels == state.labels
    assert (state.timestep, state.unit, state.focus, state.font_scale) == (0, -1, "", 1.0)
    assert state.theme.name == "light"


def test_trace_equals_an_independent_forward_pass(state):
    p = demo.demo_params()
    h, c, gates = _reference_lstm(p, demo.demo_inputs())
    np.testing.assert_allclose(state.trace.h, h, rtol=0, atol=1e-12)
    np.testing.assert_allclose(state.trace.c, c, rtol=0, atol=1e-12)
    for k in "ifgo":
        np.testing.assert_allclose(state.trace.gates[k], gates[k], rtol=0, atol=1e-12)


def test_set_network_recomputes_with_the_new_weights(state):
    p = init_params("lstm", 2, 5, seed=3)
    spy = Spy(state)
    state.set_network(Network(p))
    h, c, _ = _reference_lstm(p, demo.demo_inputs())
    np.testing.assert_allclose(state.trace.h, h, atol=1e-12)
    np.testing.assert_allclose(state.trace.c, c, atol=1e-12)
    assert spy.events == [("trace_changed",)]
    assert state.unit_names == ("",) * 5
    state.set_network(Network(p))            # equal network: nothing happens
    assert spy.events == [("trace_changed",)]


def test_setters_emit_only_on_a_real_change(state):
    spy = Spy(state)
    state.set_timestep(0)
    state.set_unit(-1)
    state.set_focus("")
    state.set_theme("light")
    state.set_font_scale(1.0)
    state.set_animation_ms(state.animation_ms)
    state.set_inputs(demo.demo_inputs(), demo_labels(demo.demo_inputs()))
    assert spy.events == []
    state.set_timestep(4)
    state.set_timestep(4)
    state.step(1)
    state.set_unit(2)
    state.set_focus("f")
    state.set_focus("f")
    state.set_theme("dark")
    state.set_font_scale(1.5)
    state.set_animation_ms(0)
    state.set_animation_ms(0)
    assert spy.events == [("timestep_changed", 4), ("timestep_changed", 5), ("unit_changed", 2),
                          ("focus_changed", "f"), ("appearance_changed",),
                          ("appearance_changed",), ("animation_changed",)]
    assert (state.timestep, state.unit, state.focus, state.theme.name, state.font_scale,
            state.animation_ms) == (5, 2, "f", "dark", 1.5, 0)


def test_clamping(state):
    T, H = state.steps, state.trace.hidden_size
    state.set_timestep(10_000)
    assert state.timestep == T - 1
    state.set_timestep(-7)
    assert state.timestep == 0
    state.step(-1)
    assert state.timestep == 0
    state.set_unit(99)
    assert state.unit == H - 1
    state.set_unit(-5)
    assert state.unit == -1
    state.set_font_scale(100)
    assert state.font_scale == 3.0
    state.set_font_scale(0.01)
    assert state.font_scale == 0.6
    state.set_animation_ms(-3)
    assert state.animation_ms == 0
    with pytest.raises(ValueError):
        state.set_theme("neon")
    assert state.theme.name == "light"


def test_shorter_inputs_clamp_the_cursor_after_trace_changed(state):
    state.set_timestep(12)
    state.set_unit(2)
    spy = Spy(state)
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    state.set_inputs(x, ["a", "b", "c"])
    assert spy.events == [("trace_changed",), ("timestep_changed", 2)]
    assert state.labels == ("a", "b", "c") and state.steps == 3
    state.set_model(Network(init_params("lstm", 2, 2, seed=0)), x, ["a", "b", "c"],
                    caption="two units")
    assert spy.events[-2:] == [("trace_changed",), ("unit_changed", 1)]
    assert state.caption == "two units" and state.unit_names == ("", "")


def test_bad_inputs_raise_and_leave_the_state_alone(state):
    from lstm_viz.model import ModelInputError

    before = state.trace
    spy = Spy(state)
    with pytest.raises(ModelInputError):
        state.set_inputs(np.ones((4, 3)), list("abcd"))
    with pytest.raises(ValueError):
        state.set_inputs(np.ones((4, 2)), ["only one"])
    assert state.trace is before and spy.events == []


def test_labels_default_to_values_or_step_numbers(qapp):
    net = Network(init_params("lstm", 1, 2, seed=1))
    s = AppState(net, np.array([0.5, -1.0, 2.0]))
    assert s.labels == ("0.5", "−1", "2")
    assert s.unit_names == ("", "") and s.caption == ""


# ----------------------------------------------------------------------------- loss settings


def test_target_enters_the_loss_as_half_squared_error(state):
    H = state.network.hidden_size
    y = np.linspace(-0.5, 0.5, H)
    spy = Spy(state)
    state.set_target(y)
    assert spy.events == [("trace_changed",)]
    h_T = state.trace.h[-1]
    assert state.trace.loss == pytest.approx(0.5 * np.sum((h_T - y) ** 2), rel=1e-14)
    np.testing.assert_array_equal(state.trace.dL_dh[-1], h_T - y)   # direct term at T
    state.set_target(y.copy())
    assert spy.events == [("trace_changed",)]                       # same value: no signal
    with pytest.raises(ValueError, match="needs"):
        state.set_target([1.0])
    with pytest.raises(ValueError, match="finite"):
        state.set_target([np.nan] * H)
    np.testing.assert_array_equal(state.target, y)                  # unchanged by the refusals


def test_loss_step_moves_the_loss_and_the_gradient_before_it_only(state):
    T = state.steps
    state.set_loss_step(3)
    tr = state.trace
    assert tr.loss_step == state.loss_step == 3
    assert tr.loss == pytest.approx(0.5 * np.sum((tr.h[3] - state.target) ** 2), rel=1e-14)
    assert not np.any(tr.dL_dh[4:]) and not np.any(tr.dL_dc[4:])  # nothing after the loss
    assert np.any(tr.dL_dh[:3])
    state.set_loss_step(T + 10)                                     # clamped to the last step
    assert state.loss_step == T - 1 and state.options.loss_step is None
    state.set_loss_step(2)
    state.set_inputs(np.zeros((2, state.network.input_size)))      # sequence got shorter
    assert state.loss_step == 1


def test_options_change_through_the_network_and_snapshot_restores_target(state):
    from lstm_viz.model import Clamp, Options
    snap = state.snapshot()
    state.set_target(np.ones(state.network.hidden_size) * 0.25)
    state.set_options(Options(clamps=(Clamp("f", 1.0, 0),)))
    assert np.all(state.trace.gates["f"] == 1.0)
    with pytest.raises(ValueError, match="no gate"):
        state.set_options(Options(clamps=(Clamp("z", 1.0, 0),)))
    assert state.options.clamps == (Clamp("f", 1.0, 0),)            # refused: unchanged
    state.restore(snap)
    assert state.options == Options() and not np.any(state.target)
    assert state.trace.loss == pytest.approx(0.5 * np.sum(state.trace.h[-1] ** 2), rel=1e-14)


def test_new_hidden_size_resets_the_target(state):
    state.set_target(np.ones(state.network.hidden_size))
    net = Network(init_params("lstm", state.network.input_size, 5, seed=1))
    state.set_network(net)
    np.testing.assert_array_equal(state.target, np.zeros(5))


def test_show_gradients_signal(state, qtbot):
    with qtbot.waitSignal(state.gradients_shown) as blocker:
        state.set_show_gradients(True)
    assert blocker.args == [True] and state.show_gradients
    with qtbot.assertNotEmitted(state.gradients_shown):
        state.set_show_gradients(True)
