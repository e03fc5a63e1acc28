"""Explanations: the numbers they print are the trace's, recomputed here by hand."""

import math

import numpy as np
import pytest

from lstm_viz import explain as ex
from lstm_viz.model import Clamp, Network, Options, Params, init_params


def _sig(a):
    return 1.0 / (1.0 + math.exp(-a))


@pytest.fixture
def net():
    """A small random LSTM (D=2, H=3) with non-trivial states."""
    return Network(init_params("lstm", 2, 3, seed=4), h0=np.array([0.3, -0.2, 0.1]),
                   c0=np.array([0.5, -1.0, 0.25]))


@pytest.fixture
def x():
    return np.random.default_rng(1).normal(size=(6, 2))


def _hand_step(p: Params, x_t, h_prev, c_prev):
    """One LSTM step computed from the weights with plain Python, PyTorch's row order i f g o."""
    H = p.hidden_size
    a = p.weight_ih @ x_t + p.bias_ih + p.weight_hh @ h_prev + p.bias_hh
    pre = {k: a[n * H:(n + 1) * H] for n, k in enumerate("ifgo")}
    i = [_sig(v) for v in pre["i"]]
    f = [_sig(v) for v in pre["f"]]
    g = [math.tanh(v) for v in pre["g"]]
    o = [_sig(v) for v in pre["o"]]
    c = [f[u] * c_prev[u] + i[u] * g[u] for u in range(H)]
    h = [o[u] * math.tanh(c[u]) for u in range(H)]
    return pre, dict(i=i, f=f, g=g, o=o), c, h


def test_fmt_uses_three_significant_digits_and_a_real_minus():
    assert ex.fmt(0.79751) == "0.798"
    assert ex.fmt(1.3712) == "1.37"
    assert ex.fmt(-12.345) == "−12.3"
    assert ex.fmt(-0.0) == "0.000"
    assert ex.fmt(-1e-9) == "−1.0e−9"
    assert "-" not in ex.fmt(-3.5)


def test_gate_numbers_are_sigmoid_of_the_preactivation(net, x):
    tr = net.trace(x)
    t, u = 3, 1
    pre, gates, c, h = _hand_step(net.params, x[t], tr.h[t - 1], tr.c[t - 1])
    for key, sym in (("f", "f_t"), ("i", "i_t"), ("o", "o_t")):
        e = ex.explain(tr, t, u, key, net)
        assert e.numeric == f"{sym} = σ({ex.fmt(pre[key][u])}) = {ex.fmt(gates[key][u])}"
        assert e.value == pytest.approx(gates[key][u], abs=1e-12)
    e = ex.explain(tr, t, u, "g", net)
    assert e.numeric == f"C̃_t = tanh({ex.fmt(pre['g'][u])}) = {ex.fmt(gates['g'][u])}"


def test_cell_and_hidden_state_substitute_every_factor(net, x):
    tr = net.trace(x)
    t, u = 0, 2                                  # the first step reads c0 and h0
    pre, gates, c, h = _hand_step(net.params, x[0], net.h0, net.c0)
    f, i, g, o = (gates[k][u] for k in "figo")
    e = ex.explain(tr, t, u, "c", net)
    assert e.numeric == (f"C_t = {ex.fmt(f)}·{ex.fmt(0.25)} + {ex.fmt(i)}·{ex.fmt(g)} = "
                         f"{ex.fmt(f * 0.25)} + {ex.fmt(i * g)} = {ex.fmt(c[u])}")
    assert e.value == pytest.approx(c[u], abs=1e-12)
    e = ex.explain(tr, t, u, "h", net)
    assert e.numeric.endswith(f"= {ex.fmt(o)}·{ex.fmt(math.tanh(c[u]))} = {ex.fmt(h[u])}")
    assert ex.explain(tr, t, u, "c_prev").value == 0.25
    assert ex.explain(tr, t, u, "tanh_c").value == pytest.approx(math.tanh(c[u]))
    assert ex.explain(tr, t, u, "mul_f").value == pytest.approx(f * 0.25)
    assert ex.explain(tr, t, u, "mul_i").value == pytest.approx(i * g)


def test_all_units_lists_each_unit_and_gives_no_single_value(net, x):
    tr = net.trace(x)
    e = ex.explain(tr, 2, -1, "f", net)
    assert e.value is None
    lines = e.numeric.split("\n")
    assert [ln.split(":")[0] for ln in lines] == ["unit 1", "unit 2", "unit 3"]
    for u, ln in enumerate(lines):
        assert ln.endswith(ex.fmt(tr.gates["f"][2, u]))
    vec = ex.equation_numbers(tr, 2, -1, "h")
    assert vec == "h_t = (" + ", ".join(ex.fmt(v) for v in tr.h[2]) + ")"


def test_meaning_follows_the_numbers():
    """A forget gate near 1 keeps the memory, near 0 wipes it (hand-set biases)."""
    H, D = 2, 1
    w_ih, w_hh, b = np.zeros((4 * H, D)), np.zeros((4 * H, H)), np.zeros(4 * H)
    b[H:2 * H] = [8.0, -8.0]                     # f rows: unit 1 open, unit 2 shut
    net = Network(Params("lstm", w_ih, w_hh, b, np.zeros(4 * H)), c0=np.array([1.0, 1.0]))
    tr = net.trace(np.zeros((2, 1)))
    keep = ex.explain(tr, 0, 0, "f", net).meaning
    wipe = ex.explain(tr, 0, 1, "f", net).meaning
    assert "keeps almost all" in keep and "(more than 99.9%)" in keep
    assert "wiped" in wipe
    both = ex.explain(tr, 0, -1, "f", net).meaning
    assert "Unit 1" in both and "Unit 2" in both


def test_relu_forget_and_clamps_are_named():
    p = init_params("lstm", 1, 2, seed=0)
    H = 2
    b = np.zeros(4 * H)
    b[H:2 * H] = [1.5, -2.0]                      # f pre-activations (x = 0, h0 = 0)
    p = p.replace(weight_ih=np.zeros((4 * H, 1)), weight_hh=np.zeros((4 * H, H)),
                  bias_ih=b, bias_hh=np.zeros(4 * H))
    net = Network(p, c0=np.array([1.0, 1.0]),
                  options=Options(forget_activation="relu", clamps=(Clamp("o", 1.0, 1),)))
    tr = net.trace(np.zeros((3, 1)))
    e = ex.explain(tr, 0, 0, "f", net)
    assert e.symbolic.startswith("f_t = ReLU(")
    assert e.numeric == "f_t = ReLU(1.50) = 1.50"
    assert "exceed 1" in e.meaning
    assert ex.explain(tr, 0, 1, "f", net).numeric == "f_t = ReLU(−2.00) = 0.000"
    # The output gate is free at step 1 and clamped from step 2 on.
    assert ex.explain(tr, 0, 0, "o", net).numeric == "o_t = σ(0.000) = 0.500"
    e = ex.explain(tr, 1, 0, "o", net)
    assert e.numeric == "o_t = 1.00 (clamped; σ(0.000) would give 0.500)"
    assert e.meaning.startswith("Held at 1.00 from step 2 on")


def test_equations_and_bad_input():
    assert [k for k, _ in ex.EQUATIONS] == ["f", "i", "g", "o", "c", "h"]
    assert all(ex.EQUATION_OF[k] in dict(ex.EQUATIONS) for k in ex.EQUATION_OF)
    tr = Network(init_params("lstm", 1, 2, seed=0)).trace(np.zeros((2, 1)))
    with pytest.raises(KeyError):
        ex.explain(tr, 0, 0, "nope")
    with pytest.raises(ValueError):
        ex.explain(tr, 5, 0, "f")
    gru = Network(init_params("gru", 1, 2, seed=0)).trace(np.zeros((2, 1)))
    with pytest.raises(ValueError):
        ex.explain(gru, 0, 0, "f")
