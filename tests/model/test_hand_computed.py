"""Worked examples: one unit, one input, two steps, every number by hand.

Each test writes the forward pass and backpropagation through time out as
scalar arithmetic with `math.exp` / `math.tanh`, the way one would on paper,
and compares the engine's Trace with it. The weights are round numbers so the
first step's pre-activations can be checked in one's head.

Notation: step 1 and step 2 are the engine's rows 0 and 1; ``a_*`` are
pre-activations, ``d*`` are derivatives of the loss ``L = 0.5 (h_2 - y)^2``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lstm_viz.model import Clamp, Network, Options, Params, init_params

REL = 1e-12


def sig(a: float) -> float:
    return 1.0 / (1.0 + math.exp(-a))


def close(got, expected) -> None:
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(expected, dtype=float),
                               rtol=REL, atol=1e-15)


# --------------------------------------------------------------------------- LSTM


def test_lstm_two_steps_by_hand():
    # Weights, PyTorch row order i, f, g, o (one row each since H = 1).
    wx = {"i": 0.5, "f": -1.0, "g": 1.5, "o": 2.0}      # weight_ih (4, 1)
    wh = {"i": 1.0, "f": 0.5, "g": -1.0, "o": 0.25}     # weight_hh (4, 1)
    bx = {"i": 0.1, "f": 0.2, "g": -0.1, "o": 0.0}      # bias_ih
    bh = {"i": 0.0, "f": 0.3, "g": 0.2, "o": -0.5}      # bias_hh
    x1, x2 = 1.0, -0.5
    h0, c0, y = 0.5, 0.2, 0.3

    # ---- step 1 (x1 = 1, h0 = 0.5, c0 = 0.2)
    a_i1 = 0.5 * 1.0 + 0.1 + 1.0 * 0.5 + 0.0          # = 1.1
    a_f1 = -1.0 * 1.0 + 0.2 + 0.5 * 0.5 + 0.3         # = -0.25
    a_g1 = 1.5 * 1.0 - 0.1 - 1.0 * 0.5 + 0.2          # = 1.1
    a_o1 = 2.0 * 1.0 + 0.0 + 0.25 * 0.5 - 0.5         # = 1.625
    i1, f1, g1, o1 = sig(a_i1), sig(a_f1), math.tanh(a_g1), sig(a_o1)
    c1 = f1 * c0 + i1 * g1                           # forget some of c0, write i*g
    tc1 = math.tanh(c1)
    h1 = o1 * tc1                                    # expose a squashed c

    # ---- step 2 (x2 = -0.5, h1 from above)
    a_i2 = wx["i"] * x2 + bx["i"] + wh["i"] * h1 + bh["i"]
    a_f2 = wx["f"] * x2 + bx["f"] + wh["f"] * h1 + bh["f"]
    a_g2 = wx["g"] * x2 + bx["g"] + wh["g"] * h1 + bh["g"]
    a_o2 = wx["o"] * x2 + bx["o"] + wh["o"] * h1 + bh["o"]
    i2, f2, g2, o2 = sig(a_i2), sig(a_f2), math.tanh(a_g2), sig(a_o2)
    c2 = f2 * c1 + i2 * g2
    tc2 = math.tanh(c2)
    h2 = o2 * tc2
    loss = 0.5 * (h2 - y) ** 2

    # ---- backward, step 2
    dh2 = h2 - y                                     # dL/dh2
    dc2 = dh2 * o2 * (1 - tc2 ** 2)                  # through h2 = o2 tanh(c2); no later c
    da_o2 = dh2 * tc2 * o2 * (1 - o2)                # through o2 = sigma(a_o2)
    da_i2 = dc2 * g2 * i2 * (1 - i2)                 # c2 = ... + i2 g2
    da_f2 = dc2 * c1 * f2 * (1 - f2)                 # c2 = f2 c1 + ...
    da_g2 = dc2 * i2 * (1 - g2 ** 2)                 # g2 = tanh(a_g2)
    # ---- backward, step 1
    dh1 = wh["i"] * da_i2 + wh["f"] * da_f2 + wh["g"] * da_g2 + wh["o"] * da_o2
    dc1 = dh1 * o1 * (1 - tc1 ** 2) + dc2 * f2       # via h1, and along the cell state
    da_o1 = dh1 * tc1 * o1 * (1 - o1)
    da_i1 = dc1 * g1 * i1 * (1 - i1)
    da_f1 = dc1 * c0 * f1 * (1 - f1)
    da_g1 = dc1 * i1 * (1 - g1 ** 2)
    dh0 = wh["i"] * da_i1 + wh["f"] * da_f1 + wh["g"] * da_g1 + wh["o"] * da_o1
    dc0 = dc1 * f1
    dx1 = wx["i"] * da_i1 + wx["f"] * da_f1 + wx["g"] * da_g1 + wx["o"] * da_o1
    dx2 = wx["i"] * da_i2 + wx["f"] * da_f2 + wx["g"] * da_g2 + wx["o"] * da_o2
    da1 = [da_i1, da_f1, da_g1, da_o1]
    da2 = [da_i2, da_f2, da_g2, da_o2]
    # Each weight collects its pre-activation's gradient times what it multiplied.
    g_wx = [d1 * x1 + d2 * x2 for d1, d2 in zip(da1, da2)]
    g_wh = [d1 * h0 + d2 * h1 for d1, d2 in zip(da1, da2)]
    g_b = [d1 + d2 for d1, d2 in zip(da1, da2)]

    assert a_i1 == pytest.approx(1.1) and a_o1 == pytest.approx(1.625)   # the arithmetic above
    p = Params(
        "lstm",
        [[wx[k]] for k in "ifgo"], [[wh[k]] for k in "ifgo"],
        [bx[k] for k in "ifgo"], [bh[k] for k in "ifgo"],
    )
    tr = Network(p, h0=[h0], c0=[c0]).trace(np.array([[x1], [x2]]), target=[y])
    close(tr.h[:, 0], [h1, h2])
    close(tr.c[:, 0], [c1, c2])
    close(tr.gates["i"][:, 0], [i1, i2])
    close(tr.gates["f"][:, 0], [f1, f2])
    close(tr.gates["g"][:, 0], [g1, g2])
    close(tr.gates["o"][:, 0], [o1, o2])
    close(tr.preacts["f"][:, 0], [a_f1, a_f2])
    close(tr.loss, loss)
    close(tr.dL_dh[:, 0], [dh1, dh2])
    close(tr.dL_dc[:, 0], [dc1, dc2])
    close(tr.dL_dx[:, 0], [dx1, dx2])
    close(tr.dL_dh0, [dh0])
    close(tr.dL_dc0, [dc0])
    close(tr.grads["weight_ih_l0"][:, 0], g_wx)
    close(tr.grads["weight_hh_l0"][:, 0], g_wh)
    close(tr.grads["bias_ih_l0"], g_b)
    close(tr.grads["bias_hh_l0"], g_b)


# --------------------------------------------------------------------------- GRU


def test_gru_two_steps_by_hand():
    # PyTorch row order r, z, n.
    wx = {"r": 1.0, "z": -0.5, "n": 2.0}
    wh = {"r": 0.5, "z": 1.0, "n": -1.5}
    bx = {"r": 0.0, "z": 0.25, "n": 0.1}
    bh = {"r": 0.2, "z": -0.25, "n": 0.3}
    x1, x2 = 0.5, -1.0
    h0, y = -0.4, 0.2

    # ---- step 1 (x1 = 0.5, h0 = -0.4)
    a_r1 = 1.0 * 0.5 + 0.0 + 0.5 * -0.4 + 0.2        # = 0.5
    a_z1 = -0.5 * 0.5 + 0.25 + 1.0 * -0.4 - 0.25     # = -0.65
    r1, z1 = sig(a_r1), sig(a_z1)
    hn1 = -1.5 * -0.4 + 0.3                          # W_hn h0 + b_hn = 0.9
    a_n1 = 2.0 * 0.5 + 0.1 + r1 * hn1                # reset gate scales the recurrent part
    n1 = math.tanh(a_n1)
    h1 = (1 - z1) * n1 + z1 * h0                     # z keeps the old state

    # ---- step 2 (x2 = -1)
    a_r2 = wx["r"] * x2 + bx["r"] + wh["r"] * h1 + bh["r"]
    a_z2 = wx["z"] * x2 + bx["z"] + wh["z"] * h1 + bh["z"]
    r2, z2 = sig(a_r2), sig(a_z2)
    hn2 = wh["n"] * h1 + bh["n"]
    a_n2 = wx["n"] * x2 + bx["n"] + r2 * hn2
    n2 = math.tanh(a_n2)
    h2 = (1 - z2) * n2 + z2 * h1
    loss = 0.5 * (h2 - y) ** 2

    # ---- backward, step 2
    dh2 = h2 - y
    da_n2 = dh2 * (1 - z2) * (1 - n2 ** 2)           # through h2 = (1-z2) n2 + ..., n2 = tanh
    da_z2 = dh2 * (h1 - n2) * z2 * (1 - z2)          # dh2/dz2 = h1 - n2
    da_r2 = da_n2 * hn2 * r2 * (1 - r2)              # r2 multiplies hn2 inside a_n2
    dhn2 = da_n2 * r2                                # into W_hn h1 + b_hn
    # ---- backward, step 1
    dh1 = z2 * dh2 + wh["r"] * da_r2 + wh["z"] * da_z2 + wh["n"] * dhn2
    da_n1 = dh1 * (1 - z1) * (1 - n1 ** 2)
    da_z1 = dh1 * (h0 - n1) * z1 * (1 - z1)
    da_r1 = da_n1 * hn1 * r1 * (1 - r1)
    dhn1 = da_n1 * r1
    dh0 = z1 * dh1 + wh["r"] * da_r1 + wh["z"] * da_z1 + wh["n"] * dhn1
    dx1 = wx["r"] * da_r1 + wx["z"] * da_z1 + wx["n"] * da_n1
    dx2 = wx["r"] * da_r2 + wx["z"] * da_z2 + wx["n"] * da_n2
    # Input side sees da_n, the recurrent side of n sees r * da_n.
    g_wx = [da_r1 * x1 + da_r2 * x2, da_z1 * x1 + da_z2 * x2, da_n1 * x1 + da_n2 * x2]
    g_wh = [da_r1 * h0 + da_r2 * h1, da_z1 * h0 + da_z2 * h1, dhn1 * h0 + dhn2 * h1]
    g_bx = [da_r1 + da_r2, da_z1 + da_z2, da_n1 + da_n2]
    g_bh = [da_r1 + da_r2, da_z1 + da_z2, dhn1 + dhn2]

    assert a_r1 == pytest.approx(0.5) and a_z1 == pytest.approx(-0.65)
    p = Params(
        "gru",
        [[wx[k]] for k in "rzn"], [[wh[k]] for k in "rzn"],
        [bx[k] for k in "rzn"], [bh[k] for k in "rzn"],
    )
    tr = Network(p, h0=[h0]).trace(np.array([[x1], [x2]]), target=[y])
    assert tr.c is None and tr.dL_dc is None
    close(tr.h[:, 0], [h1, h2])
    close(tr.gates["r"][:, 0], [r1, r2])
    close(tr.gates["z"][:, 0], [z1, z2])
    close(tr.gates["n"][:, 0], [n1, n2])
    close(tr.preacts["n"][:, 0], [a_n1, a_n2])
    close(tr.preacts["hn"][:, 0], [hn1, hn2])
    close(tr.loss, loss)
    close(tr.dL_dh[:, 0], [dh1, dh2])
    close(tr.dL_dx[:, 0], [dx1, dx2])
    close(tr.dL_dh0, [dh0])
    close(tr.grads["weight_ih_l0"][:, 0], g_wx)
    close(tr.grads["weight_hh_l0"][:, 0], g_wh)
    close(tr.grads["bias_ih_l0"], g_bx)
    close(tr.grads["bias_hh_l0"], g_bh)


# --------------------------------------------------------------------------- RNN


def test_rnn_two_steps_by_hand():
    wx, wh, bx, bh = 1.5, -0.5, 0.1, -0.3
    x1, x2 = 1.0, 2.0
    h0, y = 0.3, -0.1

    a1 = 1.5 * 1.0 + 0.1 - 0.5 * 0.3 - 0.3           # = 1.15
    h1 = math.tanh(a1)
    a2 = wx * x2 + bx + wh * h1 + bh
    h2 = math.tanh(a2)
    loss = 0.5 * (h2 - y) ** 2

    dh2 = h2 - y
    da2 = dh2 * (1 - h2 ** 2)                         # through the tanh
    dh1 = wh * da2                                    # back through W_hh
    da1 = dh1 * (1 - h1 ** 2)
    dh0 = wh * da1

    assert a1 == pytest.approx(1.15)
    p = Params("rnn", [[wx]], [[wh]], [bx], [bh])
    tr = Network(p, h0=[h0]).trace(np.array([[x1], [x2]]), target=[y])
    close(tr.h[:, 0], [h1, h2])
    close(tr.preacts["a"][:, 0], [a1, a2])
    close(tr.loss, loss)
    close(tr.dL_dh[:, 0], [dh1, dh2])
    close(tr.dL_dx[:, 0], [wx * da1, wx * da2])
    close(tr.dL_dh0, [dh0])
    close(tr.grads["weight_ih_l0"], [[da1 * x1 + da2 * x2]])
    close(tr.grads["weight_hh_l0"], [[da1 * h0 + da2 * h1]])
    close(tr.grads["bias_ih_l0"], [da1 + da2])
    close(tr.grads["bias_hh_l0"], [da1 + da2])


# --------------------------------------------------------------------------- experiments


def test_forget_open_input_shut_freezes_the_cell_state():
    """f = 1 and i = 0 from step 0: c_t = 1 * c_{t-1} + 0 * g_t = c0 at every step."""
    p = init_params("lstm", 2, 3, seed=5)
    c0 = np.array([0.7, -1.2, 0.05])
    h0 = np.array([0.3, -0.1, 0.4])
    x = np.random.default_rng(5).standard_normal((6, 2))
    y = np.array([0.5, 0.0, -0.5])
    opt = Options(clamps=(Clamp("f", 1.0, 0), Clamp("i", 0.0, 0)))
    tr = Network(p, h0=h0, c0=c0, options=opt).trace(x, target=y)
    np.testing.assert_array_equal(tr.c, np.tile(c0, (6, 1)))       # exactly, not roughly
    assert np.all(tr.gates["f"] == 1.0) and np.all(tr.gates["i"] == 0.0)

    # With W_hh = 0 no gradient reaches c through earlier hidden states, so dL/dc
    # travels back along c_t = 1 * c_{t-1} unchanged: the same at every step, and at c0.
    p0 = p.replace(weight_hh=np.zeros((12, 3)))
    tr = Network(p0, h0=h0, c0=c0, options=opt).trace(x, target=y)
    o_last = tr.gates["o"][-1]
    dc_last = (tr.h[-1] - y) * o_last * (1 - np.tanh(c0) ** 2)      # through h = o tanh(c)
    np.testing.assert_allclose(tr.dL_dc[-1], dc_last, rtol=1e-13)
    np.testing.assert_array_equal(tr.dL_dc, np.tile(tr.dL_dc[-1], (6, 1)))
    np.testing.assert_array_equal(tr.dL_dc0, tr.dL_dc[-1])
    # The clamped gates learn nothing: their rows get zero gradient.
    for gate in ("f", "i"):
        assert not np.any(tr.grads["weight_ih_l0"][p.gate_rows(gate)])
        assert not np.any(tr.grads["bias_hh_l0"][p.gate_rows(gate)])


def _growing_cell_params(forget_preact: float) -> Params:
    """H = D = 1; forget pre-activation fixed at ``forget_preact``; candidate g = tanh(0) = 0."""
    z = [0.0, 0.0, 0.0, 0.0]
    return Params("lstm", [[0.0], [0.0], [0.0], [1.0]], [[0.0]] * 4,
                  [0.0, forget_preact, 0.0, 0.0], z)


def test_relu_forget_above_one_makes_the_cell_grow():
    """ReLU forget with pre-activation 1.5: f = 1.5 and c_t = 1.5 c_{t-1}, without bound."""
    p = _growing_cell_params(1.5)
    x = np.array([[1.0], [2.0], [3.0], [4.0]])
    relu = Network(p, h0=[0.0], c0=[1.0], options=Options(forget_activation="relu"))
    tr = relu.trace(x, target=[0.0])
    np.testing.assert_array_equal(tr.gates["f"][:, 0], [1.5, 1.5, 1.5, 1.5])
    # 1.5, 2.25, 3.375, 5.0625: exact in binary floating point.
    np.testing.assert_array_equal(tr.c[:, 0], [1.5, 2.25, 3.375, 5.0625])
    assert tr.c[-1, 0] > 1.0
    # Backwards the same factor compounds: dL/dc_{t-1} = 1.5 dL/dc_t (W_hh = 0, no h path).
    np.testing.assert_allclose(tr.dL_dc[:-1, 0], 1.5 * tr.dL_dc[1:, 0], rtol=1e-15)

    # The usual sigmoid forget gate with the same pre-activation lets c decay instead.
    f = sig(1.5)                                                     # ~ 0.818
    tr_sig = Network(p, h0=[0.0], c0=[1.0]).trace(x, target=[0.0])
    close(tr_sig.c[:, 0], [f, f ** 2, f ** 3, f ** 4])
    assert np.all(np.diff(tr_sig.c[:, 0]) < 0)
