"""The gradient check: agrees with the engine, and catches a gradient that is wrong."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lstm_viz.model import Network, Options, init_params
from lstm_viz.model.gradcheck import FLOOR, TOLERANCE, check_gradients, rel_error


def _net(kind, options=Options()):
    p = init_params(kind, 3, 4, seed=2)
    x = np.random.default_rng(1).normal(size=(7, 3))
    return Network(p, options=options), x, np.array([0.5, -0.5, 0.25, 0.0])


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_the_real_gradients_pass(kind):
    net, x, y = _net(kind)
    res = check_gradients(net, x, y, n=20, seed=0)
    assert len(res.entries) == 24
    assert [e.name for e in res.entries[20:]] == ["x"] * 4
    assert res.ok and res.max_rel_error < 1e-5
    assert res.max_rel_error == max(e.rel_error for e in res.entries)
    tr = net.trace(x, y)
    for e in res.entries:
        ref = tr.dL_dx if e.name == "x" else tr.grads[e.name]
        assert e.exact == ref[e.index]
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


def test_an_overflowed_network_is_refused_with_a_reason():
    from lstm_viz.model import ModelInputError, Params

    b = np.zeros(8)
    b[0:2], b[2:4], b[4:6], b[6:8] = 5.0, 1e300, 2.0, 1.0
    p = Params("lstm", np.zeros((8, 1)), np.zeros((8, 2)), b, np.zeros(8))
    net = Network(p, options=Options(forget_activation="relu"))
    with pytest.raises(ModelInputError, match="not finite"):
        check_gradients(net, np.ones((5, 1)), np.zeros(2))
