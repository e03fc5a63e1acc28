"""Gradient-decay helpers: hand cases with known answers."""

import math

import numpy as np
import pytest

from lstm_viz.model import Network, Options, Params, init_params
from lstm_viz.model.analysis import (decay_per_step, grad_norms, scale_recurrent, spectral_radius,
                                     state_grad_norms)


def test_spectral_radius_of_a_diagonal_matrix_is_its_largest_absolute_entry():
    assert spectral_radius(np.diag([0.5, -0.9, 0.2])) == pytest.approx(0.9)


def test_spectral_radius_of_a_rotation_is_one():
    a = 0.3
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    assert spectral_radius(2.0 * rot) == pytest.approx(2.0)


def test_spectral_radius_refuses_a_non_square_matrix():
    with pytest.raises(ValueError, match="square"):
        spectral_radius(np.zeros((4, 2)))


def test_pure_geometric_sequence_gives_its_ratio():
    s, r = 9, 0.71
    norms = np.zeros(12)
    norms[: s + 1] = 3.0 * r ** (s - np.arange(s + 1))
    norms[s + 1:] = 0.0                       # after the loss step: no gradient
    assert decay_per_step(norms, s) == pytest.approx(r, rel=1e-12)


def test_growth_is_a_factor_above_one_and_zeros_are_skipped():
    s = 6
    norms = 1.5 ** (s - np.arange(8.0))
    norms[0] = 0.0                            # e.g. cut off by truncation
    norms[1] = np.inf                         # and an overflow: neither is used
    assert decay_per_step(norms, s) == pytest.approx(1.5, rel=1e-12)


def test_fewer_than_two_usable_steps_is_nan():
    assert math.isnan(decay_per_step(np.array([1.0, 2.0, 0.5]), 1))   # only t = 0 before s
    assert math.isnan(decay_per_step(np.array([0.0, 0.0, 2.0, 1.0]), 3))   # one nonzero


def test_least_squares_fit_of_a_noisy_sequence():
    # log-norms 0, 1, 3 at distances 3, 2, 1 (t = 0, 1, 2; s = 3): slope of the fit by hand
    # dist mean 2, log mean 4/3; slope = sum((d-2)(l-4/3)) / sum((d-2)^2) = (-1.3333-0-1.6667)/2 = -1.5
    norms = np.exp([0.0, 1.0, 3.0, 5.0])
    assert decay_per_step(norms, 3) == pytest.approx(math.exp(-1.5), rel=1e-12)


def test_grad_norms_are_the_row_norms_of_dL_dh():
    net = Network(init_params("gru", 2, 3, seed=1))
    x = np.random.default_rng(0).normal(size=(7, 2))
    tr = net.trace(x, np.ones(3))
    expected = [math.sqrt(sum(v * v for v in row)) for row in tr.dL_dh.tolist()]
    np.testing.assert_allclose(grad_norms(tr), expected, rtol=1e-14)


def _rest_loss(net, x, y, t, h, c):
    """The loss of running steps t+1.. from the state (h, c) carried out of step t."""
    rest = Network(net.params, h0=h, c0=c, options=Options(loss_step=len(x) - t - 2))
    return rest.trace(x[t + 1:], y).loss


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_state_grad_norms_are_the_gradient_of_the_carried_state(kind):
    # Reference by central differences: nudge one entry of the state step t hands on
    # (h_t, and C_t for the LSTM, each with the other held) and rerun the rest.
    net = Network(init_params(kind, 2, 3, seed=4))
    x = np.random.default_rng(4).normal(size=(9, 2))
    y = np.array([0.3, -0.2, 0.5])
    tr = net.trace(x, y)
    got = state_grad_norms(tr)
    eps = 1e-6
    for t in (1, 4, 7):
        h = tr.h[t].copy()
        c = tr.c[t].copy() if kind == "lstm" else None
        parts = []
        for which in (["h", "c"] if kind == "lstm" else ["h"]):
            g = []
            for u in range(3):
                vals = []
                for sign in (1, -1):
                    hh, cc = h.copy(), None if c is None else c.copy()
                    (hh if which == "h" else cc)[u] += sign * eps
                    vals.append(_rest_loss(net, x, y, t, hh, cc))
                g.append((vals[0] - vals[1]) / (2 * eps))
            parts.append(np.array(g))
        np.testing.assert_allclose(parts[0], tr.dL_dh[t], rtol=1e-6, atol=1e-9)
        assert got[t] == pytest.approx(math.sqrt(sum(float(p @ p) for p in parts)), rel=1e-6)
    if kind == "lstm":
        # dL_dc[t] also holds the path through h_t = o tanh(C_t), which dL/dh_t counts:
        # with it the norm would be another (wrong) number
        total = np.hypot(grad_norms(tr), np.linalg.norm(tr.dL_dc, axis=1))
        assert np.all(np.abs(got[:-1] - total[:-1]) > 1e-3 * total[:-1])
    assert got[-1] == pytest.approx(np.linalg.norm(tr.dL_dh[-1]))     # the loss step: h alone


def test_state_grad_norms_stop_where_truncation_stops_the_backward_pass():
    net = Network(init_params("lstm", 2, 3, seed=4), options=Options(truncate=3))
    tr = net.trace(np.random.default_rng(4).normal(size=(9, 2)))
    got = state_grad_norms(tr, truncate=3)
    assert np.all(got[:6] == 0.0) and np.all(got[6:] > 0.0)
    assert state_grad_norms(tr)[5] > 0.0          # C_6's gradient, if nothing were cut


def test_state_grad_norms_keep_an_overflow_visible():
    class Overflowed:                        # what a ReLU forget gate can leave behind
        loss_step = 3
        gates = {"f": np.full((4, 2), 2.0)}
        dL_dh = np.array([[np.inf, 1.0], [3.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
        dL_dc = np.array([[1.0, 0.0], [0.0, 2.0], [np.nan, 0.0], [np.inf, 0.0]])
    got = state_grad_norms(Overflowed())
    # carried C gradient f_{t+1} dL/dC_{t+1}: (0, 4), (NaN, 0), (inf, 0), then 0
    assert got[0] == np.inf and np.isnan(got[1]) and got[2] == np.inf and got[3] == 1.0


def test_linear_rnn_decays_at_its_spectral_radius():
    # Zero inputs and biases keep h at 0, where tanh' = 1: dL/dh_t = (W^T)^(s-t) dL/dh_s.
    # With W = 0.6 * I the gradient shrinks by exactly 0.6 per step back.
    H = 3
    p = Params("rnn", np.zeros((H, 1)), 0.6 * np.eye(H), np.zeros(H), np.zeros(H))
    tr = Network(p).trace(np.zeros((10, 1)), target=np.ones(H))
    assert decay_per_step(grad_norms(tr), tr.loss_step) == pytest.approx(0.6, rel=1e-12)


def test_scale_recurrent_sets_the_radius_and_keeps_everything_else():
    p = init_params("rnn", 2, 5, seed=3)
    q = scale_recurrent(p, 1.3)
    assert spectral_radius(q.weight_hh) == pytest.approx(1.3, rel=1e-10)
    np.testing.assert_array_equal(q.weight_ih, p.weight_ih)
    np.testing.assert_array_equal(q.bias_hh, p.bias_hh)
    ratio = q.weight_hh / p.weight_hh
    np.testing.assert_allclose(ratio, ratio.flat[0])           # one common factor


def test_scale_recurrent_refuses_gated_cells_and_bad_radii():
    with pytest.raises(ValueError, match="simple RNN"):
        scale_recurrent(init_params("lstm", 1, 2), 1.0)
    p = init_params("rnn", 1, 2)
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            scale_recurrent(p, bad)
    zero = p.replace(weight_hh=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="radius 0"):
        scale_recurrent(zero, 0.5)
