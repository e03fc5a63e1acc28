"""Gradient paths: the two parts add up to the engine's gradient and each equals its own derivative.

The reference is an independent forward pass written from the equations, with
two separate perturbation hooks per step:

- LSTM: ``dc_carry[t]`` is added to the cell state handed on to step t+1 only,
  ``dc_h[t]`` only to the c_t inside ``h_t = o_t tanh(c_t)``. Differencing the
  loss over each gives the part of dL/dc_t along the cell state and the part
  through h_t.
- GRU: ``dh_direct[t]`` is added to h_t only where step t+1 copies it
  (``z_{t+1} * h_t``), ``dh_rest[t]`` everywhere else (the gates' W_hh input
  and the loss).
"""

from __future__ import annotations

import numpy as np
import pytest

from lstm_viz.model import Clamp, Network, Options, init_params
from lstm_viz.model.paths import PATH_NAMES, gradient_paths

EPS = 1e-6
T, D, H = 6, 2, 3


def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def _blocks(p, n):
    """Per-gate (W_ih, W_hh, b_ih, b_hh) in PyTorch row order."""
    return [(p.weight_ih[k * H:(k + 1) * H], p.weight_hh[k * H:(k + 1) * H],
             p.bias_ih[k * H:(k + 1) * H], p.bias_hh[k * H:(k + 1) * H]) for k in range(n)]


def lstm_loss(p, x, y, s, *, relu_f=False, clamps=(), dc_carry=None, dc_h=None):
    (Wi, Ui, bi, ci), (Wf, Uf, bf, cf), (Wg, Ug, bg, cg), (Wo, Uo, bo, co) = _blocks(p, 4)
    h, c = np.zeros(H), np.zeros(H)
    for t in range(s + 1):
        af = Wf @ x[t] + Uf @ h + bf + cf
        gates = {
            "i": _sig(Wi @ x[t] + Ui @ h + bi + ci),
            "f": np.maximum(af, 0.0) if relu_f else _sig(af),
            "g": np.tanh(Wg @ x[t] + Ug @ h + bg + cg),
            "o": _sig(Wo @ x[t] + Uo @ h + bo + co),
        }
        for gate, value, start in clamps:
            if t >= start:
                gates[gate] = np.full(H, value)
        c_new = gates["f"] * c + gates["i"] * gates["g"]
        c_in_h = c_new + (dc_h[t] if dc_h is not None else 0.0)
        h = gates["o"] * np.tanh(c_in_h)
        c = c_new + (dc_carry[t] if dc_carry is not None else 0.0)
    return 0.5 * float(np.sum((h - y) ** 2))


def gru_loss(p, x, y, s, *, clamps=(), dh_direct=None, dh_rest=None):
    (Wr, Ur, br, cr), (Wz, Uz, bz, cz), (Wn, Un, bn, cn) = _blocks(p, 3)
    h_rest = h_direct = np.zeros(H)
    for t in range(s + 1):
        r = _sig(Wr @ x[t] + Ur @ h_rest + br + cr)
        z = _sig(Wz @ x[t] + Uz @ h_rest + bz + cz)
        for gate, value, start in clamps:
            if t >= start and gate == "r":
                r = np.full(H, value)
            if t >= start and gate == "z":
                z = np.full(H, value)
        n = np.tanh(Wn @ x[t] + bn + r * (Un @ h_rest + cn))
        h = (1 - z) * n + z * h_direct
        h_rest = h + (dh_rest[t] if dh_rest is not None else 0.0)
        h_direct = h + (dh_direct[t] if dh_direct is not None else 0.0)
    return 0.5 * float(np.sum((h_rest - y) ** 2))


def _fd(f, shape):
    """Central differences of f(perturbation array) for every entry."""
    out = np.zeros(shape)
    for idx in np.ndindex(*shape):
        d = np.zeros(shape)
        d[idx] = EPS
        out[idx] = (f(d) - f(-d)) / (2 * EPS)
    return out


def _setup(kind, seed=3):
    p = init_params(kind, D, H, seed=seed)
    p = p.replace(weight_hh=p.weight_hh * 2.0, weight_ih=p.weight_ih * 2.0)   # livelier gradients
    x = np.random.default_rng(seed).normal(size=(T, D))
    y = np.array([0.5, -0.3, 0.2])
    return p, x, y


LSTM_OPTIONS = [
    ({}, Options()),
    ({}, Options(loss_step=3)),
    ({"relu_f": True}, Options(forget_activation="relu")),
    ({"clamps": (("f", 1.0, 2),)}, Options(clamps=(Clamp("f", 1.0, 2),))),
    ({"clamps": (("o", 0.7, 0),)}, Options(clamps=(Clamp("o", 0.7, 0),))),
]


@pytest.mark.parametrize("ref_kw,opt", LSTM_OPTIONS)
def test_lstm_parts_are_the_derivatives_along_each_path(ref_kw, opt):
    p, x, y = _setup("lstm")
    net = Network(p, options=opt)
    tr = net.trace(x, y)
    s = tr.loss_step
    paths = gradient_paths(tr, net)
    along = _fd(lambda d: lstm_loss(p, x, y, s, dc_carry=d, **ref_kw), (T, H))
    through = _fd(lambda d: lstm_loss(p, x, y, s, dc_h=d, **ref_kw), (T, H))
    np.testing.assert_allclose(paths.along, along, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(paths.through, through, rtol=1e-6, atol=1e-9)
    assert np.max(np.abs(paths.along)) > 1e-3 and np.max(np.abs(paths.through)) > 1e-3
    assert paths.state == "c" and paths.names == PATH_NAMES["lstm"]


@pytest.mark.parametrize("ref_kw,opt", [
    ({}, Options()),
    ({}, Options(loss_step=4)),
    ({"clamps": (("z", 0.9, 1),)}, Options(clamps=(Clamp("z", 0.9, 1),))),
    ({"clamps": (("r", 0.5, 0),)}, Options(clamps=(Clamp("r", 0.5, 0),))),
])
def test_gru_parts_are_the_derivatives_along_each_path(ref_kw, opt):
    p, x, y = _setup("gru")
    net = Network(p, options=opt)
    tr = net.trace(x, y)
    paths = gradient_paths(tr, net)
    s = tr.loss_step
    direct = _fd(lambda d: gru_loss(p, x, y, s, dh_direct=d, **ref_kw), (T, H))
    rest = _fd(lambda d: gru_loss(p, x, y, s, dh_rest=d, **ref_kw), (T, H))
    np.testing.assert_allclose(paths.along, direct, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(paths.through, rest, rtol=1e-6, atol=1e-9)
    assert np.max(np.abs(paths.along)) > 1e-3 and np.max(np.abs(paths.through)) > 1e-3
    assert paths.state == "h"


ALL_OPTIONS = {
    "lstm": [Options(), Options(loss_step=2), Options(truncate=2), Options(truncate=3, loss_step=4),
             Options(forget_activation="relu", truncate=4),
             Options(clamps=(Clamp("f", 0.0, 3), Clamp("i", 1.0, 1))), Options(clip_norm=0.01)],
    "gru": [Options(), Options(truncate=2), Options(truncate=1, loss_step=3),
            Options(clamps=(Clamp("z", 1.0, 2),))],
    "rnn": [Options(), Options(truncate=3), Options(loss_step=1)],
}


@pytest.mark.parametrize("kind,opt", [(k, o) for k, opts in ALL_OPTIONS.items() for o in opts])
def test_parts_add_up_to_the_engines_gradient(kind, opt):
    p, x, y = _setup(kind, seed=7)
    net = Network(p, options=opt)
    tr = net.trace(x, y)
    paths = gradient_paths(tr, net)
    total = tr.dL_dc if kind == "lstm" else tr.dL_dh
    np.testing.assert_array_equal(paths.total, total)
    scale = max(1.0, float(np.max(np.abs(total))))
    assert np.max(np.abs(paths.along + paths.through - total)) <= 1e-12 * scale
    np.testing.assert_allclose(paths.total_norm, np.linalg.norm(total, axis=1), rtol=1e-12)
    np.testing.assert_allclose(paths.along_norm, np.linalg.norm(paths.along, axis=1), rtol=1e-12)
    np.testing.assert_allclose(paths.through_norm, np.linalg.norm(paths.through, axis=1),
                               rtol=1e-12)
    # Only the options are needed to split an LSTM or RNN (GRU: the rest is then a remainder).
    alone = gradient_paths(tr, opt)
    np.testing.assert_allclose(alone.along, paths.along, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(alone.through, paths.through, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_truncation_cuts_both_paths_outside_the_window(kind):
    p, x, y = _setup(kind, seed=7)
    s, k = 4, 2
    full = gradient_paths(Network(p, options=Options(loss_step=s)).trace(x, y),
                          Options(loss_step=s))
    net = Network(p, options=Options(loss_step=s, truncate=k))
    tr = net.trace(x, y)
    cut = gradient_paths(tr, net)
    first = s - k + 1
    assert cut.first_step == first and cut.loss_step == s
    outside = np.r_[0:first, s + 1:T]
    assert not np.any(cut.along[outside]) and not np.any(cut.through[outside])
    # the step at the window's edge still gets what came from the loss step itself...
    np.testing.assert_array_equal(cut.through[s], full.through[s])
    # ...but nothing reaches the step before the window, which untruncated did get something
    assert np.any(full.through[first - 1]) and not np.any(cut.through[first - 1])
    # the cell state at the edge received nothing along the highway from a cut step
    assert not np.any(cut.along[s])


def test_rnn_has_only_the_path_through_w_hh():
    p, x, y = _setup("rnn")
    tr = Network(p).trace(x, y)
    paths = gradient_paths(tr)
    assert not np.any(paths.along)
    np.testing.assert_array_equal(paths.through, tr.dL_dh)


def test_hand_computed_lstm_two_steps_one_unit():
    """T=2, H=1, D=1 with weights chosen so every number can be followed by hand."""
    from lstm_viz.model import Params

    # rows i f g o; W_hh = 0 so h_0 does not feed step 1's gates and the parts are simple
    p = Params("lstm", weight_ih=np.array([[0.0], [0.0], [1.0], [0.0]]),
               weight_hh=np.zeros((4, 1)), bias_ih=np.zeros(4), bias_hh=np.zeros(4))
    x = np.array([[0.5], [-1.0]])
    tr = Network(p).trace(x, np.array([0.0]))
    # i = f = o = sigma(0) = 1/2 at both steps; g_t = tanh(x_t)
    g0, g1 = np.tanh(0.5), np.tanh(-1.0)
    c0 = 0.5 * g0
    c1 = 0.5 * c0 + 0.5 * g1
    h1 = 0.5 * np.tanh(c1)
    dc1 = h1 * 0.5 * (1 - np.tanh(c1) ** 2)            # (h_1 - 0) * o_1 * tanh'(c_1)
    paths = gradient_paths(tr)
    np.testing.assert_allclose(paths.through[1], [dc1], rtol=1e-14)
    np.testing.assert_allclose(paths.along[1], [0.0])
    np.testing.assert_allclose(paths.along[0], [dc1 * 0.5], rtol=1e-14)     # times f_1 = 1/2
    np.testing.assert_allclose(paths.through[0], [0.0])                     # W_hh = 0: h_0 unused


def _overflowing():
    """An LSTM whose ReLU forget gate (≈1e300) makes the cell state overflow to inf."""
    from lstm_viz.model import Params

    b = np.zeros(4 * 2)
    b[0:2], b[2:4], b[4:6], b[6:8] = 5.0, 1e300, 2.0, 1.0
    p = Params("lstm", np.zeros((8, 1)), np.zeros((8, 2)), b, np.zeros(8))
    return Network(p, options=Options(forget_activation="relu")), np.ones((5, 1))


def test_an_overflowed_trace_gives_nan_parts_without_warnings():
    net, x = _overflowing()
    tr = net.trace(x, np.zeros(2))
    assert not np.all(np.isfinite(tr.dL_dc))
    paths = gradient_paths(tr, net)                 # pytest turns any warning into an error
    assert np.isnan(paths.along_norm[:3]).all()
    np.testing.assert_array_equal(paths.through[-1], tr.dL_dc[-1])
