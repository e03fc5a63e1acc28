"""The readout loss: cross-entropy of a linear readout on a chosen class, at the loss step.

References: central finite differences over every entry (parameters, readout,
x, h0, c0), a case computed by hand with the math module (H = 1, K = 2), and
PyTorch's nn.LSTM / GRU / RNN + nn.Linear + F.cross_entropy when torch is installed.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from lstm_viz.model import Clamp, ModelInputError, Network, Options, Params, init_params
from lstm_viz.model.cells import check_loss_class
from lstm_viz.model.gradcheck import check_gradients
from lstm_viz.model.paths import gradient_paths

T, D, H, K = 5, 2, 3, 3
EPS = 1e-6
NGATES = {"lstm": 4, "gru": 3, "rnn": 1}
RECURRENT = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _params(kind: str, seed: int = 0, k: int = K) -> Params:
    rng = np.random.default_rng(seed)
    p = init_params(kind, D, H, seed=seed)
    return p.replace(weight_ih=1.5 * p.weight_ih, weight_hh=1.5 * p.weight_hh,
                     readout_weight=rng.standard_normal((k, H)),
                     readout_bias=0.5 * rng.standard_normal(k))


def _inputs(seed: int = 1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((T, D)), 0.5 * rng.standard_normal(H), 0.5 * rng.standard_normal(H)


def _net(kind: str, options: Options, seed: int = 0) -> Network:
    _, h0, c0 = _inputs()
    return Network(_params(kind, seed), h0=h0, c0=c0 if kind == "lstm" else None, options=options)


def _numeric(f, a: np.ndarray) -> np.ndarray:
    """Central differences of the scalar f(a) for every entry of a."""
    out = np.zeros(a.shape)
    for idx in np.ndindex(a.shape):
        up, down = a.copy(), a.copy()
        up[idx] += EPS
        down[idx] -= EPS
        out[idx] = (f(up) - f(down)) / (2 * EPS)
    return out


def _close(exact, numeric, what):
    np.testing.assert_allclose(exact, numeric, rtol=1e-6, atol=1e-8, err_msg=what)


EXPERIMENTS = {
    "plain": ({}, ("lstm", "gru", "rnn")),
    "loss_step_2": ({"loss_step": 2}, ("lstm", "gru", "rnn")),
    "clamp": ({"clamps": "first"}, ("lstm", "gru")),
    "relu_forget": ({"forget_activation": "relu", "loss_step": 3}, ("lstm",)),
}
CASES = [(kind, name) for name, (_, kinds) in EXPERIMENTS.items() for kind in kinds]


def _options(kind: str, name: str, k: int = 1) -> Options:
    changes = dict(EXPERIMENTS[name][0])
    if changes.get("clamps") == "first":
        gate = {"lstm": "f", "gru": "z"}[kind]
        changes["clamps"] = (Clamp(gate, 0.9, start=2),)
    return Options(loss_class=k, **changes)


@pytest.mark.parametrize("kind,experiment", CASES, ids=[f"{k}-{e}" for k, e in CASES])
def test_every_gradient_matches_finite_differences(kind, experiment):
    net = _net(kind, _options(kind, experiment))
    x, _, _ = _inputs()
    tr = net.trace(x)
    assert tr.readout_probs is not None and set(tr.grads) >= {"readout.weight", "readout.bias"}
    p = net.params
    for name in RECURRENT:
        f = lambda a, n=name: net.with_(params=p.replace(**{n: a})).trace(x).loss  # noqa: E731
        _close(tr.grads[f"{name}_l0"], _numeric(f, p.tensor(name)), name)
    for name, field in (("readout.weight", "readout_weight"), ("readout.bias", "readout_bias")):
        f = lambda a, fl=field: net.with_(params=p.replace(**{fl: a})).trace(x).loss  # noqa: E731
        _close(tr.grads[name], _numeric(f, getattr(p, field)), name)
    _close(tr.dL_dx, _numeric(lambda a: net.trace(a).loss, x), "x")
    _close(tr.dL_dh0, _numeric(lambda a: net.with_(h0=a).trace(x).loss, np.array(net.h0)), "h0")
    if kind == "lstm":
        _close(tr.dL_dc0, _numeric(lambda a: net.with_(c0=a).trace(x).loss, np.array(net.c0)),
               "c0")
    # and the per-step state gradient at the loss step: L as a function of h_s alone
    s = tr.loss_step
    z = p.readout_weight @ tr.h[s] + p.readout_bias
    assert tr.loss == pytest.approx(float(np.log(np.exp(z).sum()) - z[1]), rel=1e-13)


def test_hand_computed_one_unit_two_classes():
    # RNN, H = D = 1, one step: h = tanh(2 * 0.5) = tanh(1); logits z = (h, -h + 0.5).
    p = Params("rnn", [[2.0]], [[0.0]], [0.0], [0.0],
               readout_weight=[[1.0], [-1.0]], readout_bias=[0.0, 0.5])
    h = math.tanh(1.0)
    z0, z1 = h, -h + 0.5
    lse = math.log(math.exp(z0) + math.exp(z1))
    p0, p1 = math.exp(z0 - lse), math.exp(z1 - lse)
    for k, (pk, zk) in enumerate(((p0, z0), (p1, z1))):
        tr = Network(p, options=Options(loss_class=k)).trace(np.array([[0.5]]))
        assert tr.h[0, 0] == pytest.approx(h, rel=1e-15)
        assert tr.loss == pytest.approx(-math.log(pk), rel=1e-14)
        assert tr.loss == pytest.approx(lse - zk, rel=1e-14)
        np.testing.assert_allclose(tr.readout_logits, [z0, z1], rtol=1e-15)
        np.testing.assert_allclose(tr.readout_probs, [p0, p1], rtol=1e-14)
        # dL/dz = p - e_k; dL/dh = 1 * dz0 + (-1) * dz1; through tanh: (1 - h^2); times x = 0.5
        dz = [p0 - (k == 0), p1 - (k == 1)]
        dh = dz[0] - dz[1]
        np.testing.assert_allclose(tr.grads["readout.bias"], dz, rtol=1e-14, atol=1e-16)
        np.testing.assert_allclose(tr.grads["readout.weight"][:, 0], [d * h for d in dz],
                                   rtol=1e-14, atol=1e-16)
        assert tr.dL_dh[0, 0] == pytest.approx(dh, rel=1e-14)
        assert tr.grads["weight_ih_l0"][0, 0] == pytest.approx(dh * (1 - h * h) * 0.5, rel=1e-13)
        assert tr.dL_dx[0, 0] == pytest.approx(dh * (1 - h * h) * 2.0, rel=1e-13)
    # class 0 wins (z0 > z1), so its loss is the smaller one
    assert -math.log(p0) < -math.log(p1)


def test_softmax_is_stable_for_huge_logits():
    p = Params("rnn", [[1.0]], [[0.0]], [0.0], [0.0],
               readout_weight=[[1000.0], [-1000.0]], readout_bias=[0.0, 0.0])
    tr = Network(p, options=Options(loss_class=1)).trace(np.array([[3.0]]))
    h = math.tanh(3.0)
    assert np.all(np.isfinite(tr.readout_probs)) and np.isfinite(tr.loss)
    assert tr.loss == pytest.approx(2000.0 * h, rel=1e-12)     # -log p_1 = z0 - z1 (+ tiny)
    assert tr.readout_probs[0] == 1.0 and tr.readout_probs[1] < 1e-300
    tr0 = Network(p, options=Options(loss_class=0)).trace(np.array([[3.0]]))
    assert tr0.loss == 0.0 and tr0.dL_dh[0, 0] == 0.0


def test_squared_loss_ignores_the_readout_bit_for_bit():
    x, h0, c0 = _inputs()
    p = _params("lstm")
    y = np.linspace(-0.5, 0.5, H)
    with_readout = Network(p, h0=h0, c0=c0).trace(x, y)
    without = Network(p.replace(readout_weight=None, readout_bias=None), h0=h0, c0=c0).trace(x, y)
    assert with_readout.loss == without.loss
    assert with_readout.readout_probs is None and with_readout.loss_class is None
    assert set(with_readout.grads) == set(without.grads) == {
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}
    for name, g in without.grads.items():
        np.testing.assert_array_equal(with_readout.grads[name], g)
    np.testing.assert_array_equal(with_readout.dL_dx, without.dL_dx)


def test_the_target_plays_no_part_in_the_readout_loss():
    net = _net("gru", Options(loss_class=2))
    x, _, _ = _inputs()
    a, b = net.trace(x, np.zeros(H)), net.trace(x, np.ones(H))
    assert a.loss == b.loss
    np.testing.assert_array_equal(a.dL_dx, b.dL_dx)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_clipping_includes_the_readout(kind):
    x, _, _ = _inputs()
    free = _net(kind, Options(loss_class=0)).trace(x)
    norm = math.sqrt(sum(float(np.sum(g * g)) for g in free.grads.values()))
    clip = 0.25 * norm
    tr = _net(kind, Options(loss_class=0, clip_norm=clip)).trace(x)
    assert set(tr.grads) == set(free.grads)
    clipped = math.sqrt(sum(float(np.sum(g * g)) for g in tr.grads.values()))
    assert clipped == pytest.approx(clip, rel=1e-12)
    for name, g in free.grads.items():              # every tensor, the readout's too, by one factor
        np.testing.assert_allclose(tr.grads[name], g * (clip / norm), rtol=1e-12, atol=0)
    # the recurrent tensors alone would have a smaller norm: the readout really counts
    rec = math.sqrt(sum(float(np.sum(free.grads[f"{n}_l0"] ** 2)) for n in RECURRENT))
    assert rec < norm


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_truncation_with_the_readout_loss(kind):
    x, _, _ = _inputs()
    full = _net(kind, Options(loss_class=1)).trace(x)
    tr = _net(kind, Options(loss_class=1, truncate=2)).trace(x)
    s = tr.loss_step
    assert tr.loss == full.loss
    np.testing.assert_array_equal(tr.dL_dh[s], full.dL_dh[s])      # the same seed
    np.testing.assert_array_equal(tr.grads["readout.weight"], full.grads["readout.weight"])
    assert np.all(tr.dL_dh[: s - 1] == 0) and np.all(tr.dL_dx[: s - 1] == 0)
    assert np.any(full.dL_dh[: s - 1] != 0)
    assert np.all(tr.dL_dh0 == 0)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_gradcheck_samples_the_readout_and_agrees(kind):
    net = _net(kind, Options(loss_class=2, loss_step=3))
    x, _, _ = _inputs()
    res = check_gradients(net, x, None, n=400, seed=0)
    names = {e.name for e in res.entries}
    assert {"readout.weight", "readout.bias"} <= names
    assert res.ok, res.max_rel_error


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_paths_add_up_with_the_readout_loss(kind):
    net = _net(kind, Options(loss_class=0, loss_step=3))
    x, _, _ = _inputs()
    tr = net.trace(x)
    paths = gradient_paths(tr, net)
    np.testing.assert_allclose(paths.along + paths.through, paths.total, rtol=1e-12, atol=1e-15)


def test_bad_class_and_no_readout_are_refused():
    x, _, _ = _inputs()
    bare = Network(init_params("lstm", D, H), options=Options(loss_class=0))
    with pytest.raises(ModelInputError, match="needs a readout") as e:
        bare.trace(x)
    assert "\n" not in str(e.value) and "readout.weight" in str(e.value)
    for k in (K, -1, 10):
        with pytest.raises(ModelInputError, match=f"class {k} is not a class of the readout: "
                                                   f"it has {K} classes, 0 to {K - 1}"):
            _net("gru", Options(loss_class=k)).trace(x)
    with pytest.raises(ModelInputError):
        _net("rnn", Options(loss_class=True)).trace(x)         # a bool is not a class
    check_loss_class(_params("rnn"), K - 1)                     # the last class is fine
    check_loss_class(init_params("rnn", D, H), None)            # no class, no readout: fine


def test_one_class_readout_has_zero_loss():
    p = _params("rnn", k=1)
    tr = Network(p, options=Options(loss_class=0)).trace(_inputs()[0])
    assert tr.loss == 0.0 and tr.readout_probs.tolist() == [1.0]
    assert np.all(tr.dL_dh == 0)


def test_trace_exports_the_readout():
    x, _, _ = _inputs()
    tr = _net("lstm", Options(loss_class=1)).trace(x)
    d = tr.to_dict()
    np.testing.assert_array_equal(d["readout_probs"], tr.readout_probs)
    np.testing.assert_array_equal(d["readout_logits"], tr.readout_logits)
    np.testing.assert_array_equal(d["grad_readout.weight"], tr.grads["readout.weight"])
    np.testing.assert_array_equal(d["grad_readout.bias"], tr.grads["readout.bias"])
    assert not tr.readout_probs.flags.writeable and not tr.grads["readout.bias"].flags.writeable
    assert "readout_probs" not in _net("lstm", Options()).trace(x).to_dict()
    assert np.sum(tr.readout_probs) == pytest.approx(1.0, abs=1e-15)


# --------------------------------------------------------------------------- PyTorch


def _torch_case(kind: str, loss_step: int | None, k: int, clip: float | None = None):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    p = _params(kind, seed=3)
    x, h0, c0 = _inputs(seed=4)
    torch.manual_seed(0)
    rnn = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind](D, H).double()
    fc = torch.nn.Linear(H, K).double()
    with torch.no_grad():
        for name in RECURRENT:
            getattr(rnn, f"{name}_l0").copy_(torch.tensor(p.tensor(name)))
        fc.weight.copy_(torch.tensor(p.readout_weight))
        fc.bias.copy_(torch.tensor(p.readout_bias))
    xt = torch.tensor(x[:, None, :], requires_grad=True)
    h0t = torch.tensor(h0[None, None, :], requires_grad=True)
    if kind == "lstm":
        c0t = torch.tensor(c0[None, None, :], requires_grad=True)
        out, _ = rnn(xt, (h0t, c0t))
    else:
        out, _ = rnn(xt, h0t)
    s = T - 1 if loss_step is None else loss_step
    logits = fc(out[s])                                           # (1, K)
    loss = F.cross_entropy(logits, torch.tensor([k]))
    loss.backward()
    fix = 1.0
    if clip is not None:
        total = float(torch.nn.utils.clip_grad_norm_(list(rnn.parameters()) + list(fc.parameters()),
                                                     clip))
        assert total > clip
        fix = (total + 1e-6) / total        # torch divides by (norm + 1e-6); we by the norm
    net = Network(p, h0=h0, c0=c0 if kind == "lstm" else None,
                  options=Options(loss_step=loss_step, loss_class=k, clip_norm=clip))
    tr = net.trace(x)
    tol = dict(rtol=1e-10, atol=1e-12)
    assert tr.loss == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(tr.readout_logits, logits.detach().numpy()[0], **tol)
    np.testing.assert_allclose(tr.readout_probs, F.softmax(logits, -1).detach().numpy()[0], **tol)
    for name in RECURRENT:
        np.testing.assert_allclose(tr.grads[f"{name}_l0"],
                                   getattr(rnn, f"{name}_l0").grad.numpy() * fix, err_msg=name,
                                   **tol)
    np.testing.assert_allclose(tr.grads["readout.weight"], fc.weight.grad.numpy() * fix, **tol)
    np.testing.assert_allclose(tr.grads["readout.bias"], fc.bias.grad.numpy() * fix, **tol)
    if clip is None:
        np.testing.assert_allclose(tr.dL_dx, xt.grad.numpy()[:, 0, :], **tol)
        np.testing.assert_allclose(tr.dL_dh0, h0t.grad.numpy()[0, 0], **tol)
        if kind == "lstm":
            np.testing.assert_allclose(tr.dL_dc0, c0t.grad.numpy()[0, 0], **tol)


TORCH_CASES = [(kind, s, k) for kind in ("lstm", "gru", "rnn") for s, k in ((None, 0), (2, 2))]


@pytest.mark.torch
@pytest.mark.parametrize("kind,loss_step,k", TORCH_CASES,
                         ids=[f"{a}-s{b}-k{c}" for a, b, c in TORCH_CASES])
def test_matches_torch_linear_and_cross_entropy(kind, loss_step, k):
    _torch_case(kind, loss_step, k)


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_clipping_matches_torch_clip_grad_norm(kind):
    _torch_case(kind, None, 1, clip=0.05)


def test_options_field_default_and_replace():
    assert Options().loss_class is None
    assert replace(Options(), loss_class=2).loss_class == 2


def test_first_opinion_preset_reads_the_first_opinion_word():
    from lstm_viz.model import encode
    from lstm_viz.model.presets import OPINION_SENTENCE, load_preset

    p = load_preset("first_opinion")
    assert p.network.params.classes == 2 and p.sequence == OPINION_SENTENCE
    enc = encode(p.sequence, p.encoding)
    words = p.sequence.split()
    good, bad = words.index("good"), words.index("bad")
    tr = p.network.with_(options=Options(loss_class=1)).trace(enc.x)
    assert tr.readout_probs[1] > 0.98                          # "good" came first: positive
    assert tr.gates["i"][good, 0] > 0.999 and tr.gates["i"][bad, 0] < 1e-5
    # the same words with good and bad swapped: the same one-hot columns, the other class
    swapped = " ".join({"good": "bad", "bad": "good"}.get(w, w) for w in words)
    enc2 = encode(swapped, "words")
    assert enc2.vocab == enc.vocab
    tr2 = p.network.with_(options=Options(loss_class=1)).trace(enc2.x)
    assert tr2.readout_probs[0] > 0.98
    np.testing.assert_allclose(tr2.readout_probs, tr.readout_probs[::-1], rtol=1e-12)
    # the gradient of the loss reaches the input mostly at the deciding word
    sal = np.linalg.norm(tr.dL_dx, axis=1)
    assert int(np.argmax(sal)) == good
