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


def test_a_vector_lists_its_numbers_with_the_same_decimals():
    # f held open (bias +30), i shut (bias -30): the cell state keeps c0 to 1e-13.
    H = 3
    b = np.concatenate([np.full(H, -30.0), np.full(H, 30.0), np.zeros(H), np.zeros(H)])
    p = Params("lstm", np.zeros((4 * H, 1)), np.zeros((4 * H, H)), b, np.zeros(4 * H))
    tr = Network(p, c0=np.array([0.995, 1.37, -2.5])).trace(np.zeros((2, 1)))
    assert ex.equation_numbers(tr, 1, -1, "c") == "C_t = (0.995, 1.370, −2.500)"
    assert ex.fmt(1.37) == "1.37"                    # a number on its own keeps 3 digits


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


def test_equations_name_the_experiments_that_change_them():
    net = Network(init_params("lstm", 1, 2, seed=0))
    assert ex.equations_for("lstm", net) == ex.equations("lstm") == ex.equations_for("lstm")
    net = Network(net.params, options=Options(forget_activation="relu",
                                              clamps=(Clamp("o", 1.0, 4), Clamp("i", 0.0, 0))))
    eqs = dict(ex.equations_for("lstm", net))
    assert eqs["f"] == "f_t = ReLU(W_f·[h_{t−1}, x_t] + b_f)"
    assert eqs["o"] == dict(ex.EQUATIONS)["o"] + "  (held at 1.00 from step 5 on)"
    assert eqs["i"].endswith("(held at 0.000 from step 1 on)")
    assert eqs["g"] == dict(ex.EQUATIONS)["g"] and eqs["c"] == dict(ex.EQUATIONS)["c"]
    gru = Network(init_params("gru", 1, 2, seed=0), options=Options(clamps=(Clamp("z", 1.0, 2),)))
    assert dict(ex.equations_for("gru", gru))["z"].endswith("(held at 1.00 from step 3 on)")


def test_a_forget_multiply_above_one_is_said_to_grow():
    p = init_params("lstm", 1, 1, seed=0)
    b = np.zeros(4)
    b[1] = 3.0                                      # f = ReLU(3) = 3 at every step
    p = p.replace(weight_ih=np.zeros((4, 1)), weight_hh=np.zeros((4, 1)), bias_ih=b,
                  bias_hh=np.zeros(4))
    net = Network(p, c0=np.array([2.0]), options=Options(forget_activation="relu"))
    tr = net.trace(np.zeros((2, 1)))
    m = ex.explain(tr, 0, 0, "mul_f", net).meaning
    # C_0 = 2, f = 3: kept memory 6 (i = 0.5, g = tanh(0) = 0 adds nothing)
    assert m == "f_t is above 1 (a ReLU forget gate), so the old memory grows: 2.00 × 3.00 = 6.00."
    assert "survives" not in m


def test_equations_and_bad_input():
    assert [k for k, _ in ex.EQUATIONS] == ["f", "i", "g", "o", "c", "h"]
    assert all(ex.EQUATION_OF[k] in dict(ex.EQUATIONS) for k in ex.EQUATION_OF)
    tr = Network(init_params("lstm", 1, 2, seed=0)).trace(np.zeros((2, 1)))
    with pytest.raises(KeyError):
        ex.explain(tr, 0, 0, "nope")
    with pytest.raises(ValueError):
        ex.explain(tr, 5, 0, "f")
    gru = Network(init_params("gru", 1, 2, seed=0)).trace(np.zeros((2, 1)))
    with pytest.raises(KeyError):
        ex.explain(gru, 0, 0, "f")                # an LSTM key on a GRU
    with pytest.raises(KeyError):
        ex.equation_numbers(gru, 0, 0, "c")
    with pytest.raises(ValueError):
        ex.explain_gradient(gru, 0, 7, "h")


# --------------------------------------------------------------------------- GRU and RNN

def _gru_hand_step(p: Params, x_t, h_prev):
    """One GRU step from the weights with plain Python (PyTorch's rows r z n)."""
    H = p.hidden_size
    gi = p.weight_ih @ x_t + p.bias_ih
    gh = p.weight_hh @ h_prev + p.bias_hh
    r = [_sig(gi[u] + gh[u]) for u in range(H)]
    z = [_sig(gi[H + u] + gh[H + u]) for u in range(H)]
    hn = [gh[2 * H + u] for u in range(H)]
    xin = [gi[2 * H + u] for u in range(H)]
    n = [math.tanh(xin[u] + r[u] * hn[u]) for u in range(H)]
    h = [(1 - z[u]) * n[u] + z[u] * h_prev[u] for u in range(H)]
    return dict(r=r, z=z, hn=hn, xin=xin, n=n, h=h)


@pytest.fixture
def gru():
    return Network(init_params("gru", 2, 3, seed=5), h0=np.array([0.4, -0.3, 0.2]))


def test_gru_numbers_are_the_hand_computed_step(gru, x):
    tr = gru.trace(x)
    t, u = 2, 1
    v = _gru_hand_step(gru.params, x[t], tr.h[t - 1])
    f = ex.fmt
    r, z, n, hn, xin, h = (v[k][u] for k in ("r", "z", "n", "hn", "xin", "h"))
    hp = tr.h[t - 1, u]
    assert ex.explain(tr, t, u, "r", gru).numeric.endswith(f"= {f(r)}")
    assert ex.explain(tr, t, u, "z", gru).value == pytest.approx(z, abs=1e-12)
    assert ex.explain(tr, t, u, "n", gru).numeric == (
        f"n_t = tanh({f(xin)} + {f(r)}·{f(hn)}) = tanh({f(xin + r * hn)}) = {f(n)}")
    assert ex.explain(tr, t, u, "hn").value == pytest.approx(hn, abs=1e-12)
    assert ex.explain(tr, t, u, "mul_r").numeric == f"r_t·(W_hn h_{{t−1}} + b_hn) = {f(r)}·{f(hn)} = {f(r * hn)}"
    assert ex.explain(tr, t, u, "one_minus_z").value == pytest.approx(1 - z, abs=1e-12)
    assert ex.explain(tr, t, u, "mul_n").value == pytest.approx((1 - z) * n, abs=1e-12)
    assert ex.explain(tr, t, u, "mul_z").value == pytest.approx(z * hp, abs=1e-12)
    assert ex.explain(tr, t, u, "h").numeric == (
        f"h_t = {f(1 - z)}·{f(n)} + {f(z)}·{f(hp)} = {f((1 - z) * n)} + {f(z * hp)} = {f(h)}")
    assert ex.explain(tr, 0, u, "h_prev").value == pytest.approx(0.4 if u == 0 else -0.3)
    # The equations panel: four equations, one line each.
    assert [k for k, _ in ex.equations("gru")] == ["r", "z", "n", "h"]
    assert ex.equation_numbers(tr, t, u, "n", gru) == ex.explain(tr, t, u, "n", gru).numeric
    assert ex.equation_numbers(tr, t, -1, "z") == "z_t = (" + ", ".join(
        f(zz) for zz in tr.gates["z"][t]) + ")"
    assert all(ex.equation_of("gru")[k] in dict(ex.equations("gru")) for k in ex.equation_of("gru"))


def test_gru_meanings_follow_the_gates():
    """An update gate near 1 keeps the old state; near 0 takes the candidate (hand-set biases)."""
    H = 2
    b = np.zeros(3 * H)
    b[H:2 * H] = [8.0, -8.0]                      # z rows: unit 1 keeps, unit 2 replaces
    b[:H] = [-8.0, 8.0]                           # r rows: unit 1 shut, unit 2 open
    p = Params("gru", np.zeros((3 * H, 1)), np.zeros((3 * H, H)), b, np.zeros(3 * H))
    tr = Network(p, h0=np.array([0.5, 0.5])).trace(np.zeros((1, 1)))
    assert "keeps its old state" in ex.explain(tr, 0, 0, "z").meaning
    assert "replaced by the candidate" in ex.explain(tr, 0, 1, "z").meaning
    assert "ignores h_{t−1}" in ex.explain(tr, 0, 0, "r").meaning
    assert "in full" in ex.explain(tr, 0, 1, "r").meaning
    assert "mostly keeps its old state" in ex.explain(tr, 0, 0, "h").meaning


def test_rnn_numbers_and_meaning():
    p = init_params("rnn", 1, 2, seed=0)
    p = p.replace(weight_ih=np.array([[3.0], [0.1]]), weight_hh=np.zeros((2, 2)),
                  bias_ih=np.zeros(2), bias_hh=np.zeros(2))
    net = Network(p)
    tr = net.trace(np.array([[1.0]]))
    assert ex.explain(tr, 0, 0, "a", net).numeric == f"h_t = tanh(3.00) = {ex.fmt(math.tanh(3.0))}"
    assert "saturated" in ex.explain(tr, 0, 0, "a").meaning
    assert "saturated" not in ex.explain(tr, 0, 1, "h").meaning
    assert ex.explain(tr, 0, 1, "h").value == pytest.approx(math.tanh(0.1))
    assert [k for k, _ in ex.equations("rnn")] == ["a"]
    assert ex.equation_numbers(tr, 0, -1, "a") == f"h_t = ({ex.fmt(math.tanh(3.0))}, {ex.fmt(math.tanh(0.1))})"
    with pytest.raises(KeyError):
        ex.explain(tr, 0, 0, "c")


def test_clamped_gru_gate_is_named():
    net = Network(init_params("gru", 1, 2, seed=0), options=Options(clamps=(Clamp("z", 1.0, 0),)))
    tr = net.trace(np.zeros((2, 1)))
    e = ex.explain(tr, 1, 0, "z", net)
    assert e.numeric.startswith("z_t = 1.00 (clamped; σ(") and e.meaning.startswith("Held at 1.00")


# --------------------------------------------------------------------------- gradients

@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_gradients_are_the_trace_fields(kind, x):
    net = Network(init_params(kind, 2, 3, seed=2))
    tr = net.trace(x, target=np.array([0.3, -0.2, 0.1]))
    H = 3
    order = {"lstm": "ifgo", "gru": "rzn", "rnn": "a"}[kind]
    for t in (0, 3, 5):
        for k, g in enumerate(order):
            assert np.array_equal(ex.gradient_at(tr, t, g), tr.dL_dpre[t, k * H:(k + 1) * H])
        assert np.array_equal(ex.gradient_at(tr, t, "h"), tr.dL_dh[t])
        assert np.array_equal(ex.gradient_at(tr, t, "x"), tr.dL_dx[t])
        want_prev = tr.dL_dh0 if t == 0 else tr.dL_dh[t - 1]
        assert np.array_equal(ex.gradient_at(tr, t, "h_prev"), want_prev)
        e = ex.explain_gradient(tr, t, 1, "h", net)
        assert e.numeric == f"dL/dh_t = {ex.fmt(tr.dL_dh[t, 1])}"
        assert e.value == tr.dL_dh[t, 1]
    if kind == "lstm":
        assert np.array_equal(ex.gradient_at(tr, 0, "c_prev"), tr.dL_dc0)
        assert np.array_equal(ex.gradient_at(tr, 4, "c"), tr.dL_dc[4])
        assert np.array_equal(ex.gradient_at(tr, 4, "tanh_c"), tr.dL_dh[4] * tr.gates["o"][4])
        e = ex.explain_gradient(tr, 4, 0, "c", net)
        assert e.numeric == f"dL/dC_t = {ex.fmt(tr.dL_dc[4, 0])}"
        assert "per unit change of the cell state at step 5" in e.meaning
    if kind == "gru":
        dn = tr.dL_dpre[4, 2 * H:]
        assert np.allclose(ex.gradient_at(tr, 4, "hn"), dn * tr.gates["r"][4])
        assert np.allclose(ex.gradient_at(tr, 4, "one_minus_z"), tr.dL_dh[4] * tr.gates["n"][4])


def test_gru_intermediate_gradients_match_finite_differences():
    """dL/d(W_hn h + b_hn): nudge b_hn and watch the loss.

    b_hn shifts W_hn h + b_hn one for one, so at a single step (T = 1) dL/db_hn is
    exactly the gradient the diagram shows on the ``hn`` wire.
    """
    net = Network(init_params("gru", 2, 3, seed=7), h0=np.array([0.2, -0.1, 0.4]))
    xs = np.array([[0.5, -1.0]])
    y = np.array([0.1, 0.2, -0.3])
    tr = net.trace(xs, target=y)
    eps = 1e-6
    p = net.params
    for u in range(3):
        b = p.bias_hh.copy()
        b[6 + u] += eps
        up = net.with_(params=p.replace(bias_hh=b)).trace(xs, target=y).loss
        b[6 + u] -= 2 * eps
        down = net.with_(params=p.replace(bias_hh=b)).trace(xs, target=y).loss
        assert ex.gradient_at(tr, 0, "hn")[u] == pytest.approx((up - down) / (2 * eps), rel=1e-5)


def test_gradient_notes_after_the_loss_step_and_truncation(x):
    net = Network(init_params("lstm", 2, 3, seed=2), options=Options(loss_step=3, truncate=2))
    tr = net.trace(x, target=np.ones(3))
    after = ex.explain_gradient(tr, 5, 0, "c", net)
    assert after.value == 0.0 and "comes after the loss step (step 4)" in after.meaning
    cut = ex.explain_gradient(tr, 1, 0, "h", net)
    assert cut.value == 0.0 and "keeps 2 step(s), the loss step included (steps 3 to 4)" in cut.meaning
    kept = ex.explain_gradient(tr, 2, 0, "h", net)          # the oldest step truncation keeps
    assert kept.value != 0.0 and "Truncated" not in kept.meaning
    # The step after the loss step: what it makes gets 0, the state it brings in does not.
    for key, grads in (("h_prev", tr.dL_dh), ("c_prev", tr.dL_dc)):
        brought = ex.explain_gradient(tr, 4, 0, key, net)
        assert brought.value == grads[3, 0] != 0.0
        assert "comes after" not in brought.meaning and "state of the loss step" in brought.meaning
    assert ex.explain_gradient(tr, 4, 0, "f", net).value == 0.0
    assert ex.explain_gradient(tr, 5, 0, "h_prev", net).value == 0.0
    assert "comes after" in ex.explain_gradient(tr, 5, 0, "h_prev", net).meaning
    start = ex.explain_gradient(tr, 3, 0, "h", net)
    assert "starts here" in start.meaning
    assert start.value == pytest.approx(tr.h[3, 0] - 1.0)
    every = ex.explain_gradient(tr, 2, -1, "f", net)
    assert every.value is None and len(every.numeric.split("\n")) == 3


def test_a_clamped_gates_gradient_hover_says_why_it_is_zero():
    net = Network(init_params("gru", 1, 2, seed=0), options=Options(clamps=(Clamp("z", 1.0, 2),)))
    tr = net.trace(np.ones((5, 1)))
    held = ex.explain_gradient(tr, 3, 0, "z", net)
    assert held.value == 0.0                                  # the engine's exact 0
    assert "holds this gate at 1.00 from step 3 on" in held.meaning
    free = ex.explain_gradient(tr, 0, 0, "z", net)            # before the clamp: a gradient
    assert free.value != 0.0 and "holds this gate" not in free.meaning


def test_the_gru_story_says_how_much_passes_straight_through():
    # dL/dh_{t-1} = z_t dL/dh_t + (terms through W_hr, W_hz, W_hn); with z held at 1 the
    # other terms vanish ((1 - z) and the clamp), so all of it passes.
    net = Network(init_params("gru", 1, 2, seed=0), options=Options(clamps=(Clamp("z", 1.0, 2),)))
    tr = net.trace(np.ones((5, 1)), np.ones(2))
    held = ex.explain_gradient(tr, 3, 0, "h", net).meaning
    assert "all of it passes straight through (z_t = 1)" in held
    np.testing.assert_allclose(tr.dL_dh[2], tr.dL_dh[3], rtol=1e-12)   # h_3 = h_2, unchanged
    free = ex.explain_gradient(tr, 1, 0, "h", net).meaning
    z = tr.gates["z"][1, 0]
    assert 0 < z < 1 and f"a share z_t = {ex.fmt(z)} of it" in free
