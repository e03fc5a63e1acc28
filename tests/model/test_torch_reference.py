"""The engine against PyTorch's own LSTM, GRU and RNN, in float64.

The same random weights are loaded into ``torch.nn.LSTM`` / ``GRU`` / ``RNN``
(batch of one, given h0 and c0), the loss ``0.5 ||h_s - y||^2`` is
backpropagated by autograd, and every forward value and gradient is compared.
The per-step total derivatives dL/dh_t and dL/dc_t come from an unrolled loop
of ``LSTMCell`` / ``GRUCell`` / ``RNNCell`` with ``retain_grad`` on every state.
Skipped when torch is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest

from lstm_viz.model import Network, Options, Params

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

T, D, H = 6, 3, 4
TOL = 1e-10
TENSORS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
MODULES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}
CELLS = {"lstm": "LSTMCell", "gru": "GRUCell", "rnn": "RNNCell"}
NGATES = {"lstm": 4, "gru": 3, "rnn": 1}


def _problem(kind: str, seed: int):
    rng = np.random.default_rng(seed)
    gh = NGATES[kind] * H
    sd = {
        "weight_ih_l0": 0.6 * rng.standard_normal((gh, D)),
        "weight_hh_l0": 0.6 * rng.standard_normal((gh, H)),
        "bias_ih_l0": 0.3 * rng.standard_normal(gh),
        "bias_hh_l0": 0.3 * rng.standard_normal(gh),
    }
    x = rng.standard_normal((T, D))
    h0 = 0.5 * rng.standard_normal(H)
    c0 = rng.standard_normal(H) if kind == "lstm" else None
    y = 0.5 * rng.standard_normal(H)
    return sd, x, h0, c0, y


def _t(a: np.ndarray, grad: bool = False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def _close(got, expected, what: str) -> None:
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    np.testing.assert_allclose(np.asarray(got), expected, rtol=TOL, atol=TOL, err_msg=what)


CASES = [(k, s) for k in ("lstm", "gru", "rnn") for s in (None, 2, -2, 0)]


@pytest.mark.parametrize("kind,loss_step", CASES, ids=[f"{k}-s{s}" for k, s in CASES])
def test_matches_torch_module(kind, loss_step):
    sd, x, h0, c0, y = _problem(kind, seed=len(kind) + (loss_step or 0))
    s = T - 1 if loss_step is None else loss_step % T
    net = Network(Params.from_state_dict(sd, kind=kind), h0, c0, Options(loss_step=loss_step))
    tr = net.trace(x, target=y)

    torch.manual_seed(0)
    mod = getattr(torch.nn, MODULES[kind])(D, H).double()
    mod.load_state_dict({k: torch.tensor(v) for k, v in sd.items()})
    xt = _t(x[:, None, :], grad=True)                         # (T, batch=1, D)
    h0t = _t(h0[None, None, :], grad=True)                    # (layers=1, batch=1, H)
    if kind == "lstm":
        c0t = _t(c0[None, None, :], grad=True)
        out, (_, c_last) = mod(xt, (h0t, c0t))
    else:
        out, _ = mod(xt, h0t)
    loss = 0.5 * ((out[s, 0] - _t(y)) ** 2).sum()
    loss.backward()

    _close(tr.h, out[:, 0], "h")
    if kind == "lstm":
        _close(tr.c[-1], c_last[0, 0], "c_T")
        _close(tr.dL_dc0, c0t.grad[0, 0], "dL_dc0")
    assert tr.loss == pytest.approx(loss.item(), rel=TOL, abs=TOL)
    _close(tr.dL_dx, xt.grad[:, 0], "dL_dx")
    _close(tr.dL_dh0, h0t.grad[0, 0], "dL_dh0")
    for name in TENSORS:
        _close(tr.grads[f"{name}_l0"], getattr(mod, f"{name}_l0").grad, name)


@pytest.mark.parametrize("kind,loss_step", CASES, ids=[f"{k}-s{s}" for k, s in CASES])
def test_state_gradients_match_unrolled_torch_cell(kind, loss_step):
    sd, x, h0, c0, y = _problem(kind, seed=10 + len(kind) + (loss_step or 0))
    s = T - 1 if loss_step is None else loss_step % T
    net = Network(Params.from_state_dict(sd, kind=kind), h0, c0, Options(loss_step=loss_step))
    tr = net.trace(x, target=y)

    cell = getattr(torch.nn, CELLS[kind])(D, H).double()
    cell.load_state_dict({k.removesuffix("_l0"): torch.tensor(v) for k, v in sd.items()})
    xt = _t(x)
    h = _t(h0[None], grad=True)
    c = _t(c0[None], grad=True) if kind == "lstm" else None
    hs, cs = [], []
    for t in range(T):
        if kind == "lstm":
            h, c = cell(xt[t:t + 1], (h, c))
            c.retain_grad()
            cs.append(c)
        else:
            h = cell(xt[t:t + 1], h)
        h.retain_grad()
        hs.append(h)
    loss = 0.5 * ((hs[s][0] - _t(y)) ** 2).sum()
    loss.backward()

    def grads(states):
        # States after the loss step are not on the loss's graph: their gradient is None.
        return np.stack([np.zeros(H) if v.grad is None else v.grad[0].numpy() for v in states])

    assert all(v.grad is None for v in hs[s + 1:])
    _close(tr.h, np.stack([v[0].detach().numpy() for v in hs]), "h")
    _close(tr.dL_dh, grads(hs), "dL_dh")
    if kind == "lstm":
        _close(tr.c, np.stack([v[0].detach().numpy() for v in cs]), "c")
        _close(tr.dL_dc, grads(cs), "dL_dc")
    for name in TENSORS:
        _close(tr.grads[f"{name}_l0"], getattr(cell, name).grad, name)
