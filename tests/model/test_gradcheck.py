"""The gradient check: agrees with the engine, and catches a gradient that is wrong."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lstm_viz.model import Clamp, Network, Options, init_params
from lstm_viz.model.gradcheck import (FLOOR, STATE_STEPS, TOLERANCE, _after, check_gradients,
                                      rel_error, state_steps)

EXACT = {"x": "dL_dx", "h": "dL_dh", "c": "dL_dc"}


def _net(kind, options=Options()):
    p = init_params(kind, 3, 4, seed=2)
    x = np.random.default_rng(1).normal(size=(7, 3))
    return Network(p, options=options), x, np.array([0.5, -0.5, 0.25, 0.0])


def _exact(tr, e):
    """The trace's value of a check entry."""
    return (getattr(tr, EXACT[e.name]) if e.name in EXACT else tr.grads[e.name])[e.index]


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_the_real_gradients_pass(kind):
    net, x, y = _net(kind)
    res = check_gradients(net, x, y, n=20, seed=0)
    steps = state_steps(6)
    assert steps == [0, 3, 4, 5, 6] and len(steps) == STATE_STEPS
    states = ["h"] * 5 + (["c"] * 5 if kind == "lstm" else [])
    assert [e.name for e in res.entries[20:]] == ["x"] * 4 + states
    assert [e.index[0] for e in res.entries[24:]] == steps * (2 if kind == "lstm" else 1)
    assert res.ok and res.max_rel_error < 1e-5
    assert res.max_rel_error == max(e.rel_error for e in res.entries)
    tr = net.trace(x, y)
    for e in res.entries:
        assert e.exact == _exact(tr, e)
    assert res.note == ""


def test_a_tampered_gradient_is_caught(monkeypatch):
    net, x, y = _net("lstm")
    real = Network.trace

    def tampered(self, xx, target=None, lazy=False):
        tr = real(self, xx, target)
        out = {k: getattr(tr, k) for k in ("dL_dh", "dL_dc", "dL_dh0", "dL_dc0", "dL_dpre")}
        grads = dict(tr.grads)
        grads["weight_hh_l0"] = tr.grads["weight_hh_l0"] * 1.01 + 1e-3
        out.update(grads=grads, dL_dx=tr.dL_dx * -1.0)
        return replace(tr, backward=lambda: out)

    monkeypatch.setattr(Network, "trace", tampered)
    res = check_gradients(net, x, y, n=40, seed=0)
    bad = [e for e in res.entries if e.name in ("weight_hh_l0", "x")]
    assert bad and all(e.rel_error > 1e-3 for e in bad)
    good = [e for e in res.entries if e.name not in ("weight_hh_l0", "x")]
    assert good and all(e.rel_error < 1e-5 for e in good)
    assert not res.ok and res.max_rel_error > 1.0         # sign flip of dL/dx: error 2


def test_same_seed_same_sample_and_other_seed_other_sample():
    net, x, y = _net("gru")
    a = check_gradients(net, x, y, n=10, seed=3)
    b = check_gradients(net, x, y, n=10, seed=3)
    c = check_gradients(net, x, y, n=10, seed=4)
    assert [(e.name, e.index) for e in a.entries] == [(e.name, e.index) for e in b.entries]
    assert [(e.name, e.index) for e in a.entries] != [(e.name, e.index) for e in c.entries]


def test_truncation_and_clipping_are_switched_off_and_said_so():
    net, x, y = _net("lstm", Options(truncate=2, clip_norm=1e-3))
    res = check_gradients(net, x, y, n=15)
    assert res.ok
    assert "Truncation and clipping" in res.note


def test_relative_error_is_robust_near_zero():
    assert rel_error(0.0, 0.0) == 0.0
    assert rel_error(1e-12, 0.0) == pytest.approx(1e-12 / FLOOR)
    assert rel_error(2.0, 1.0) == 0.5
    assert rel_error(-1.0, 1.0) == 2.0
    assert TOLERANCE < 1e-3


@pytest.mark.parametrize("kind,y,seed", [("lstm", 1.0, 0), ("gru", 0.0, 0), ("lstm", 3.0, 1)])
def test_rounding_of_tiny_gradients_is_no_false_alarm(kind, y, seed):
    """Cases where an absolute floor of 1e-6 flagged round-off (differences of 1e-10 to
    1e-9 on gradients below 1e-6) as disagreement: the floor grows with the loss."""
    net = Network(init_params(kind, 4, 8, seed=seed))
    x = np.random.default_rng(seed).normal(size=(60, 4))
    res = check_gradients(net, x, np.full(8, y), seed=seed)
    loss = net.trace(x, np.full(8, y)).loss
    assert res.floor == FLOOR * max(1.0, loss)
    assert res.ok, max(res.entries, key=lambda e: e.rel_error)
    tiny = [e for e in res.entries if abs(e.exact) < res.floor]
    assert tiny and all(abs(e.exact - e.numeric) < TOLERANCE * res.floor for e in tiny)
    big = [e for e in res.entries if abs(e.exact) > 1e-3]
    assert big and all(e.rel_error < 1e-5 for e in big)


def test_an_overflowed_network_is_refused_with_a_reason():
    from lstm_viz.model import ModelInputError, Params

    b = np.zeros(8)
    b[0:2], b[2:4], b[4:6], b[6:8] = 5.0, 1e300, 2.0, 1.0
    p = Params("lstm", np.zeros((8, 1)), np.zeros((8, 2)), b, np.zeros(8))
    net = Network(p, options=Options(forget_activation="relu"))
    with pytest.raises(ModelInputError, match="not finite"):
        check_gradients(net, np.ones((5, 1)), np.zeros(2))


# --------------------------------------------------------------------------- state gradients


def test_state_steps_run_from_the_loss_step_back_to_the_first():
    assert state_steps(99) == [0, 78, 94, 98, 99]       # distances 0, 1, 5, 21, 99
    assert state_steps(13, 2) == [0, 13]
    assert state_steps(13, 1) == [13]
    assert state_steps(2) == [0, 1, 2]                  # no step twice
    assert state_steps(0) == [0]
    assert state_steps(5, 0) == []


def test_a_run_from_step_k_shifts_the_clamps_and_ends_on_its_last_step():
    opt = Options(clamps=(Clamp("f", 1.0, 5), Clamp("o", 0.5, 2), Clamp("i", 0.0, -1)),
                  loss_step=-3, forget_activation="relu")
    out = _after(opt, 3)
    assert [c.start for c in out.clamps] == [2, 0, 0]
    assert [(c.gate, c.value) for c in out.clamps] == [("f", 1.0), ("o", 0.5), ("i", 0.0)]
    assert out.loss_step is None and out.forget_activation == "relu"


def _lively(kind, options, T=9):
    """Weights large enough that every step's state gradient is well above the floor."""
    p = init_params(kind, 3, 4, seed=5)
    p = p.replace(weight_hh=2.0 * p.weight_hh, weight_ih=1.5 * p.weight_ih)
    rng = np.random.default_rng(4)
    h0 = 0.5 * rng.standard_normal(4)
    c0 = rng.standard_normal(4) if kind == "lstm" else None
    x = rng.standard_normal((T, 3))
    return Network(p, h0=h0, c0=c0, options=options), x, np.array([0.3, -0.2, 0.1, 0.4])


STATE_CASES = [
    ("lstm", Options()),
    ("lstm", Options(loss_step=5)),
    ("lstm", Options(clamps=(Clamp("f", 1.0, 3),))),
    ("lstm", Options(clamps=(Clamp("o", 0.7, 2), Clamp("i", 0.2, 4)))),
    ("lstm", Options(clamps=(Clamp("g", -0.5, 5),), loss_step=7)),
    ("lstm", Options(forget_activation="relu")),
    ("gru", Options()),
    ("gru", Options(loss_step=-3)),
    ("gru", Options(clamps=(Clamp("z", 0.9, 3),))),
    ("gru", Options(clamps=(Clamp("r", 0.3, 2), Clamp("n", 0.1, 6)))),
    ("rnn", Options()),
    ("rnn", Options(loss_step=4)),
]


@pytest.mark.parametrize("kind,opt", STATE_CASES)
def test_state_gradients_agree_with_every_experiment(kind, opt):
    net, x, y = _lively(kind, opt)
    T = x.shape[0]
    tr = net.trace(x, y)
    s = tr.loss_step
    # every step up to the loss step, so a clamp's start is crossed from both sides
    res = check_gradients(net, x, y, n=0, n_inputs=0, n_states=T, seed=1)
    names = ("h", "c") if kind == "lstm" else ("h",)
    for name in names:
        got = [e for e in res.entries if e.name == name]
        assert [e.index[0] for e in got] == list(range(s + 1))
        for e in got:
            assert e.exact == _exact(tr, e)
            assert abs(e.numeric - e.exact) <= 1e-6 * abs(e.exact) + 1e-10, e
        # not vacuous: the gradients before the loss step are not all near zero
        assert max(abs(e.exact) for e in got[:-1]) > 1e-2
    assert {e.name for e in res.entries} == set(names)
    if opt.forget_activation == "relu":                 # the ReLU is on, somewhere off
        assert np.any(tr.preacts["f"] < 0) and np.any(tr.preacts["f"] > 0)


def test_state_gradients_with_the_readout_loss():
    net, x, _ = _lively("lstm", Options(loss_class=1, loss_step=6))
    rng = np.random.default_rng(0)
    net = net.with_(params=net.params.replace(readout_weight=rng.standard_normal((3, 4)),
                                              readout_bias=rng.standard_normal(3)))
    res = check_gradients(net, x, None, n=0, n_inputs=0, n_states=7)
    assert len(res.entries) == 14 and res.ok and res.max_rel_error < 1e-6


def test_without_the_shift_a_clamp_would_be_caught(monkeypatch):
    """The clamp shift matters here: a run from step t+1 that kept the clamp's start (4)
    would clamp from step t+5 instead, and disagree."""
    import lstm_viz.model.gradcheck as gc

    net, x, y = _lively("lstm", Options(clamps=(Clamp("f", 0.0, 4),)))
    assert check_gradients(net, x, y, n=0, n_inputs=0, n_states=9).ok
    monkeypatch.setattr(gc, "_after", lambda opt, k: replace(opt, loss_step=None))
    res = check_gradients(net, x, y, n=0, n_inputs=0, n_states=9)
    assert not res.ok
    wrong = {e.index[0] for e in res.entries if e.rel_error > 1e-3}
    assert len(wrong) >= 5 and 8 not in wrong     # the loss step runs nothing after it


@pytest.mark.parametrize("name", ["dL_dh", "dL_dc"])
def test_one_wrong_state_gradient_is_caught(monkeypatch, name):
    net, x, y = _lively("lstm", Options(), T=12)
    honest = check_gradients(net, x, y, n=5, seed=0)
    assert honest.ok
    # the sampled entry two steps before the loss step
    target = next(e for e in honest.entries if EXACT.get(e.name) == name and e.index[0] == 9)
    assert abs(target.exact) > 1e-3
    real = Network.trace

    def tampered(self, xx, target_=None, lazy=False):
        tr = real(self, xx, target_)
        if xx.shape[0] != x.shape[0]:                # the check's own shorter runs
            return tr
        out = {k: getattr(tr, k) for k in ("dL_dh", "dL_dc", "dL_dx", "dL_dh0", "dL_dc0",
                                           "dL_dpre", "grads")}
        wrong = out[name].copy()
        wrong[target.index] *= 1.001                  # one entry, off by a tenth of a percent
        out[name] = wrong
        return replace(tr, backward=lambda: out)

    monkeypatch.setattr(Network, "trace", tampered)
    res = check_gradients(net, x, y, n=5, seed=0)
    assert [(e.name, e.index) for e in res.entries] == [(e.name, e.index) for e in honest.entries]
    bad = [e for e in res.entries if e.rel_error > TOLERANCE]
    assert [(e.name, e.index) for e in bad] == [(target.name, target.index)]
    assert bad[0].rel_error == pytest.approx(1e-3, rel=1e-2)
    assert not res.ok
    assert res.disagreeing == tuple(bad) and not res.unsettled   # smaller nudges settle on it


@pytest.mark.torch
def test_state_gradients_match_torch_autograd():
    """dL/dh_t and dL/dC_t from an unrolled torch.nn.LSTMCell in float64, retaining the
    grads of every state: the engine's values and the finite differences both match."""
    torch = pytest.importorskip("torch")
    net, x, y = _lively("lstm", Options(loss_step=7), T=10)
    p = net.params
    cell = torch.nn.LSTMCell(3, 4).double()
    cell.load_state_dict({name: torch.tensor(getattr(p, name))
                          for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
    h = torch.tensor(net.h0[None])
    c = torch.tensor(net.c0[None])
    hs, cs = [], []
    for t in range(8):                                    # up to the loss step
        h, c = cell(torch.tensor(x[t:t + 1]), (h, c))
        h.retain_grad()
        c.retain_grad()
        hs.append(h)
        cs.append(c)
    loss = 0.5 * ((hs[7][0] - torch.tensor(y)) ** 2).sum()
    loss.backward()
    ref = {"h": np.stack([v.grad[0].numpy() for v in hs]),
           "c": np.stack([v.grad[0].numpy() for v in cs])}

    res = check_gradients(net, x, y, n=0, n_inputs=0, n_states=8, seed=3)
    assert len(res.entries) == 16
    for e in res.entries:
        want = ref[e.name][e.index]
        assert e.exact == pytest.approx(want, rel=1e-12, abs=1e-14), e
        assert e.numeric == pytest.approx(want, rel=1e-6, abs=1e-9), e
    assert max(abs(e.exact) for e in res.entries if e.index[0] < 4) > 1e-2


def test_a_relu_forget_input_at_the_kink_is_named_in_the_note():
    # All weights 0 and x = 0: every pre-activation is its bias. The forget bias of unit 2
    # is 1e-12, so even the smallest nudge (1e-9) on it crosses the ReLU's kink (slope 1 on
    # one side, 0 on the other) and its difference quotient is about half the one-sided
    # derivative, whatever the nudge: a settled disagreement, which the note explains.
    from lstm_viz.model import Params
    H = 2
    b = np.array([0.5, 0.5, 1.0, 1e-12, 0.3, 0.3, 2.0, 2.0])      # i, f, g, o blocks
    p = Params("lstm", np.zeros((4 * H, 1)), np.zeros((4 * H, H)), b, np.zeros(4 * H))
    net = Network(p, c0=np.array([0.5, 0.5]), options=Options(forget_activation="relu"))
    x, y = np.zeros((3, 1)), np.array([1.0, -1.0])
    res = check_gradients(net, x, y, n=4 * H * (H + 3), n_inputs=0, n_states=0)
    assert "step 1, unit 2" in res.note and "kink" in res.note
    assert not res.ok and res.disagreeing               # the disagreement the note explains
    for e in res.disagreeing:                           # unit 2's forget rows: half the slope
        assert e.numeric == pytest.approx(e.exact / 2, rel=1e-3)
    # 1e-9 from the kink: the nudges 1e-6 .. 1e-8 cross it, 1e-9 ends on it and measures
    # the slope of the side the gradient is taken on, so those entries agree there
    near = check_gradients(net.with_(params=p.replace(bias_ih=b + np.r_[0, 0, 0, 1e-9 - 1e-12, 0, 0, 0, 0])),
                           x, y, n=4 * H * (H + 3), n_inputs=0, n_states=0)
    assert near.ok and near.note == ""
    assert {e.index for e in near.smaller_steps if e.name == "bias_ih_l0"} == {(3,)}
    assert all(e.eps == pytest.approx(1e-9) for e in near.smaller_steps)
    far = check_gradients(net.with_(params=p.replace(bias_ih=b + np.r_[0, 0, 0, 0.2, 0, 0, 0, 0])),
                          x, y, n=20, n_inputs=0, n_states=0)
    assert far.note == "" and far.ok and not far.smaller_steps
    sig = check_gradients(net.with_(options=Options()), x, y, n=5, n_inputs=0, n_states=0)
    assert "kink" not in sig.note


def test_an_exploding_loss_is_unmeasured_not_a_disagreement(curved_relu_lstm):
    # A ReLU forget gate of 3 and no candidate: C stays 0, but a nudge to the candidate's
    # weights starts a C that triples at every step, and tanh(C) saturates long before
    # step 30. The loss is linear only within ~1e-14 of the point, so every central
    # difference down to 1e-9 is far outside it: the quotient grows about tenfold with
    # each tenfold smaller nudge and measures nothing. The exact gradient (checked against
    # PyTorch elsewhere) is right, so this must not read as a disagreement.
    net, x, y = curved_relu_lstm(30)
    res = check_gradients(net, x, y)
    assert res.unsettled and not res.disagreeing and not res.ok
    for e in res.unsettled:
        assert abs(e.exact) > 1e9 and abs(e.numeric) < 1e-3 * abs(e.exact)
    assert res.max_rel_error < 1e-5                     # over the entries it could measure
