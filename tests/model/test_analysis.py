"""Gradient-decay helpers: hand cases with known answers."""

import math

import numpy as np
import pytest

from lstm_viz.model import Network, Params, init_params
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


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_state_grad_norms_cover_everything_the_cell_carries(kind):
    net = Network(init_params(kind, 2, 3, seed=4))
    tr = net.trace(np.random.default_rng(4).normal(size=(9, 2)))
    got = state_grad_norms(tr)
    state = [tr.dL_dh] + ([tr.dL_dc] if kind == "lstm" else [])     # LSTM: (h_t, C_t)
    want = np.array([math.sqrt(sum(float(v) ** 2 for part in state for v in part[t]))
                     for t in range(9)])
    np.testing.assert_allclose(got, want, rtol=1e-13)
    if kind == "lstm":
        assert np.all(got >= grad_norms(tr)) and np.any(got > grad_norms(tr) * 1.01)


def test_state_grad_norms_keep_an_overflow_visible():
    class Overflowed:                        # what a ReLU forget gate can leave behind
        dL_dh = np.array([[np.inf, 1.0], [3.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
        dL_dc = np.array([[1.0, 0.0], [0.0, 4.0], [np.nan, 0.0], [np.inf, 0.0]])
    got = state_grad_norms(Overflowed())
    assert got[0] == np.inf and got[1] == 5.0 and np.isnan(got[2]) and got[3] == np.inf


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
