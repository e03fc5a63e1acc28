"""The long-range task and its ||dL/dx_1|| curve."""

import numpy as np
import pytest

from lstm_viz.model import Network, init_params
from lstm_viz.model.longrange import (LENGTHS, NOISE, SPIKE, TARGET_GAIN, VARIANTS,
                                      long_range_curve, long_range_inputs, long_range_network,
                                      long_range_task)


def test_inputs_have_the_spike_first_and_are_prefixes_of_each_other():
    x50, x200 = long_range_inputs(50, seed=4), long_range_inputs(200, seed=4)
    assert x50.shape == (50, 1) and x200.shape == (200, 1)
    assert x50[0, 0] == SPIKE
    np.testing.assert_array_equal(x50, x200[:50])
    assert 0.5 * NOISE < np.std(x200[1:]) < 2 * NOISE
    assert not np.array_equal(long_range_inputs(50, seed=5), x50)     # the seed matters


def test_target_depends_only_on_step_one():
    t = long_range_task(30, hidden=5, seed=1)
    np.testing.assert_array_equal(t.target, np.full(5, TARGET_GAIN * SPIKE))
    assert t.labels[0] == "1" and len(t.labels) == 30


def test_bad_length_and_variant_are_refused():
    with pytest.raises(ValueError, match="between"):
        long_range_inputs(5)
    with pytest.raises(ValueError, match="between"):
        long_range_inputs(201)
    with pytest.raises(ValueError, match="variant"):
        long_range_network("transformer", 4)


def test_curve_is_the_engine_gradient_at_step_one():
    lengths = (10, 40)
    curve = long_range_curve(lengths, VARIANTS, H=3, seed=2, forget_bias=4.0)
    for kind in VARIANTS:
        base = "lstm" if kind == "lstm_fb" else kind
        fb = 4.0 if kind == "lstm_fb" else 0.0
        net = Network(init_params(base, 1, 3, seed=2, forget_bias=fb))
        for j, L in enumerate(lengths):
            task = long_range_task(L, 3, seed=2)
            tr = net.trace(task.x, target=task.target)
            assert curve[kind][j] == pytest.approx(np.linalg.norm(tr.dL_dx[0]), rel=1e-14)


def test_gradient_at_step_one_matches_finite_differences():
    # ||dL/dx_1|| is only worth plotting if dL/dx_1 is right: check it against
    # central differences of the loss in the first input (one input channel).
    net = long_range_network("lstm_fb", 3, seed=0, forget_bias=3.0)
    task = long_range_task(20, 3, seed=0)
    eps = 1e-6
    xp, xm = task.x.copy(), task.x.copy()
    xp[0, 0] += eps
    xm[0, 0] -= eps
    fd = (net.trace(xp, task.target).loss - net.trace(xm, task.target).loss) / (2 * eps)
    g = net.trace(task.x, task.target).dL_dx[0, 0]
    assert g == pytest.approx(fd, rel=1e-5, abs=1e-10)


def test_forget_bias_keeps_the_lstm_gradient_alive_where_the_rnn_has_lost_it():
    # A property of this setup (seed 0, H = 8, forget bias +3), checked for seeds 0-3
    # when it was chosen: at L = 100 the RNN's gradient at step 1 is ~1e-17 while the
    # LSTM whose forget gate rests near 1 still gets ~1e-6.
    curve = long_range_curve(LENGTHS, VARIANTS, H=8, seed=0, forget_bias=3.0)
    i = LENGTHS.index(100)
    assert curve["lstm_fb"][i] > 1e6 * curve["rnn"][i]
    assert curve["lstm_fb"][i] > 1e6 * curve["lstm"][i]
    # ... but it still fades: mitigated, not abolished
    assert curve["lstm_fb"][-1] < 1e-3 * curve["lstm_fb"][0]
    # and every plain cell fades with length
    for kind in ("rnn", "gru", "lstm"):
        assert curve[kind][-1] < 1e-20 * curve[kind][0]
