"""The engine's public surface: Trace, Network input checks, Params and init_params."""

from __future__ import annotations

from collections.abc import Mapping

import dataclasses

import numpy as np
import pytest

from lstm_viz.model import (
    GATES,
    Clamp,
    ModelInputError,
    Network,
    Options,
    Params,
    Trace,
    WeightsError,
    init_params,
)
from lstm_viz.model.trace import GRADIENTS

T, D, H = 4, 3, 2
KINDS = ("lstm", "gru", "rnn")


def _trace(kind: str, **options) -> Trace:
    p = init_params(kind, D, H, seed=3)
    x = np.random.default_rng(3).standard_normal((T, D))
    return Network(p, options=Options(**options)).trace(x, target=np.full(H, 0.25))


# --------------------------------------------------------------------------- Trace


@pytest.mark.parametrize("kind", KINDS)
def test_a_lazy_trace_runs_backward_on_first_read_with_the_same_numbers(kind):
    p = init_params(kind, D, H, seed=3)
    x = np.random.default_rng(3).standard_normal((T, D))
    net = Network(p)
    eager = net.trace(x, target=np.full(H, 0.25))
    lazy = net.trace(x, target=np.full(H, 0.25), lazy=True)
    assert eager.has_gradients and not lazy.has_gradients
    np.testing.assert_array_equal(lazy.h, eager.h)
    assert lazy.loss == eager.loss
    assert not lazy.has_gradients                      # forward values cost no backward
    copy = dataclasses.replace(lazy, labels=("a",) * T)
    for name in GRADIENTS[:-1]:
        a, b = getattr(copy, name), getattr(eager, name)
        assert (a is None and b is None) or np.array_equal(a, b)
    for k, g in eager.grads.items():
        np.testing.assert_array_equal(copy.grads[k], g)
        assert lazy.grads[k] is copy.grads[k]          # one backward pass for both copies
    assert lazy.has_gradients


def test_a_lazy_backward_through_an_overflow_gives_inf_not_a_warning():
    p = init_params("lstm", 1, 2, seed=0)
    w = p.weight_hh.copy()
    w[:] = 30.0
    net = Network(dataclasses.replace(p, weight_hh=w), options=Options(forget_activation="relu"))
    tr = net.trace(np.ones((400, 1)), lazy=True)       # warnings are errors in the tests
    assert not np.all(np.isfinite(tr.dL_dh))


def _all_arrays(tr: Trace) -> dict[str, np.ndarray]:
    out = {}
    for name in [f.name for f in dataclasses.fields(tr)] + list(GRADIENTS):
        v = getattr(tr, name)
        if isinstance(v, np.ndarray):
            out[name] = v
        elif isinstance(v, Mapping):
            out.update({f"{name}[{k}]": a for k, a in v.items()})
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_trace_arrays_are_read_only(kind):
    tr = _trace(kind)
    arrays = _all_arrays(tr)
    expected = {"x", "h", "h0", "target", "dL_dh", "dL_dx", "dL_dh0", "dL_dpre",
                "grads[weight_ih_l0]", "grads[weight_hh_l0]", "grads[bias_ih_l0]",
                "grads[bias_hh_l0]"}
    if kind == "lstm":
        expected |= {"c", "c0", "dL_dc", "dL_dc0"}
    assert expected <= set(arrays)
    assert len([k for k in arrays if k.startswith("gates[")]) == len(GATES[kind]) * (kind != "rnn")
    for mapping in (tr.gates, tr.preacts, tr.grads):
        with pytest.raises(TypeError):
            mapping["i"] = np.zeros(3)
    for name, arr in arrays.items():
        with pytest.raises(ValueError):
            arr[(0,) * arr.ndim] = 123.0
        assert arr.flags.writeable is False, name
    with pytest.raises(dataclasses.FrozenInstanceError):
        tr.loss = 0.0


@pytest.mark.parametrize("kind", KINDS)
def test_trace_does_not_share_the_callers_input(kind):
    """Tracing leaves the caller's array alone, and later edits to it leave the Trace alone."""
    p = init_params(kind, D, H, seed=3)
    x = np.random.default_rng(4).standard_normal((T, D))      # float64, C-contiguous
    tr = Network(p).trace(x)
    still_writeable = bool(x.flags.writeable)
    assert still_writeable, "trace() made the caller's input read-only"
    before = tr.x.copy()
    x[0, 0] += 1.0
    np.testing.assert_array_equal(tr.x, before)


@pytest.mark.parametrize("kind", KINDS)
def test_to_dict_names_shapes_and_dtypes(kind):
    tr = _trace(kind)
    d = tr.to_dict()
    shapes = {
        "x": (T, D), "h": (T, H), "loss": (), "dL_dh": (T, H), "dL_dx": (T, D),
        "grad_weight_ih_l0": (len(GATES[kind]) * H, D),
        "grad_weight_hh_l0": (len(GATES[kind]) * H, H),
        "grad_bias_ih_l0": (len(GATES[kind]) * H,),
        "grad_bias_hh_l0": (len(GATES[kind]) * H,),
    }
    if kind == "lstm":
        shapes.update({"c": (T, H), "dL_dc": (T, H)})
        shapes.update({g: (T, H) for g in "ifgo"})
    elif kind == "gru":
        shapes.update({g: (T, H) for g in "rzn"})
    assert set(d) == set(shapes)
    for name, arr in d.items():
        assert isinstance(arr, np.ndarray), name
        assert arr.dtype == np.float64, name
        assert arr.shape == shapes[name], name
    assert float(d["loss"]) == tr.loss
    np.testing.assert_array_equal(d["h"], tr.h)
    np.testing.assert_array_equal(d["grad_weight_hh_l0"], tr.grads["weight_hh_l0"])


def test_trace_properties_and_previous_states():
    p = init_params("lstm", D, H, seed=1)
    h0, c0 = np.array([0.1, -0.2]), np.array([0.3, 0.4])
    x = np.ones((T, D))
    tr = Network(p, h0=h0, c0=c0).trace(x)
    assert (tr.kind, tr.steps, tr.hidden_size, tr.input_size) == ("lstm", T, H, D)
    np.testing.assert_array_equal(tr.h_prev(0), h0)
    np.testing.assert_array_equal(tr.c_prev(0), c0)
    np.testing.assert_array_equal(tr.h_prev(2), tr.h[1])
    np.testing.assert_array_equal(tr.c_prev(2), tr.c[1])
    np.testing.assert_array_equal(tr.target, np.zeros(H))     # no target: zeros
    gru = _trace("gru")
    with pytest.raises(AttributeError):
        gru.c_prev(1)


def test_one_dimensional_input_is_a_column():
    p = init_params("rnn", 1, H, seed=0)
    tr = Network(p).trace([0.5, -1.0, 2.0])
    assert tr.x.shape == (3, 1)


# --------------------------------------------------------------------------- input errors


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "x",
    [np.zeros((0, D)), np.array([[0.0, np.nan, 1.0]] * 2), np.array([[0.0, np.inf, 1.0]]),
     np.zeros((T, D + 1)), np.zeros((T, D - 1)), np.zeros((2, T, D))],
    ids=["empty", "nan", "inf", "too-wide", "too-narrow", "3d"],
)
def test_bad_input_raises_model_input_error(kind, x):
    with pytest.raises(ModelInputError):
        Network(init_params(kind, D, H, seed=0)).trace(x)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("loss_step", [T, T + 3, -T - 1])
def test_loss_step_outside_the_sequence(kind, loss_step):
    with pytest.raises(ModelInputError):
        _trace(kind, loss_step=loss_step)


@pytest.mark.parametrize("kind", KINDS)
def test_loss_step_at_either_end_is_accepted(kind):
    assert _trace(kind, loss_step=-T).loss_step == 0
    assert _trace(kind, loss_step=T - 1).loss_step == T - 1


@pytest.mark.parametrize("kind,gate", [("lstm", "z"), ("lstm", "a"), ("gru", "f"),
                                       ("gru", "g"), ("rnn", "a"), ("rnn", "i")])
def test_clamping_an_unknown_gate(kind, gate):
    with pytest.raises(ModelInputError):
        _trace(kind, clamps=(Clamp(gate, 0.5, 0),))


def test_clamp_value_must_be_finite():
    with pytest.raises(ModelInputError):
        _trace("lstm", clamps=(Clamp("f", float("nan"), 0),))


@pytest.mark.parametrize("kind,activation", [("lstm", "tanh"), ("gru", "relu"), ("rnn", "relu")])
def test_forget_activation_checked(kind, activation):
    with pytest.raises(ModelInputError):
        _trace(kind, forget_activation=activation)


@pytest.mark.parametrize("kind", KINDS)
def test_target_of_the_wrong_size(kind):
    p = init_params(kind, D, H, seed=0)
    with pytest.raises(ModelInputError):
        Network(p).trace(np.zeros((T, D)), target=np.zeros(H + 1))
    with pytest.raises(ModelInputError):
        Network(p).trace(np.zeros((T, D)), target=[np.nan] * H)


def test_initial_states_checked_by_network():
    p = init_params("lstm", D, H, seed=0)
    with pytest.raises(WeightsError):
        Network(p, h0=np.zeros(H + 1))
    with pytest.raises(WeightsError):
        Network(p, c0=[np.inf] * H)
    with pytest.raises(WeightsError):
        Network(init_params("gru", D, H, seed=0), c0=np.zeros(H))


# --------------------------------------------------------------------------- Params


def _arrays(kind: str, d: int = D, h: int = H) -> dict[str, np.ndarray]:
    g = len(GATES[kind])
    return {"weight_ih": np.ones((g * h, d)), "weight_hh": np.ones((g * h, h)),
            "bias_ih": np.ones(g * h), "bias_hh": np.ones(g * h)}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name,bad", [
    ("weight_ih", lambda a: a[:-1]),              # rows disagree with weight_hh
    ("weight_ih", lambda a: a[:, 0]),             # 1-D
    ("weight_hh", lambda a: a[:, :-1]),
    ("weight_hh", lambda a: np.vstack([a, a])),
    ("bias_ih", lambda a: a[:-1]),
    ("bias_hh", lambda a: a[None]),
    ("weight_hh", lambda a: np.where(a == a, np.nan, a)),
    ("bias_ih", lambda a: a * np.inf),
], ids=["ih-rows", "ih-1d", "hh-cols", "hh-rows", "bih-len", "bhh-2d", "hh-nan", "bih-inf"])
def test_params_reject_bad_arrays(kind, name, bad):
    arrays = _arrays(kind)
    Params(kind, **arrays)                         # the good version is accepted
    arrays[name] = bad(arrays[name])
    with pytest.raises(WeightsError):
        Params(kind, **arrays)


def test_params_reject_unknown_kind_and_half_readout():
    with pytest.raises(WeightsError):
        Params("transformer", **_arrays("lstm"))
    with pytest.raises(WeightsError):
        Params("lstm", **_arrays("lstm"), readout_weight=np.ones((2, H)))
    with pytest.raises(WeightsError):
        Params("lstm", **_arrays("lstm"), readout_weight=np.ones((2, H + 1)),
               readout_bias=np.ones(2))


def test_params_are_immutable_copies():
    arrays = _arrays("gru")
    p = Params("gru", **arrays)
    arrays["weight_hh"][0, 0] = 7.0
    assert p.weight_hh[0, 0] == 1.0
    with pytest.raises(ValueError):
        p.weight_hh[0, 0] = 7.0
    q = p.with_value("weight_hh_l0", (0, 0), 7.0)
    assert q.weight_hh[0, 0] == 7.0 and p.weight_hh[0, 0] == 1.0
    assert not q.equals(p) and p.equals(Params("gru", **_arrays("gru")))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("prefix", ["", "lstm.", "model.rnn."])
def test_from_state_dict_infers_the_kind(kind, prefix):
    p = init_params(kind, D, H, seed=9)
    sd = p.to_state_dict(prefix=prefix)
    assert set(sd) == {f"{prefix}{t}_l0" for t in ("weight_ih", "weight_hh", "bias_ih",
                                                   "bias_hh")}
    q = Params.from_state_dict(sd)
    assert q.kind == kind
    assert q.equals(p)
    assert Params.from_state_dict(sd, kind=kind).equals(p)
    other = next(k for k in KINDS if k != kind)
    with pytest.raises(WeightsError):
        Params.from_state_dict(sd, kind=other)


def test_from_state_dict_keeps_the_readout():
    p = init_params("lstm", D, H, seed=2)
    sd = p.to_state_dict(prefix="lstm.")
    sd["readout.weight"] = np.ones((5, H))
    sd["readout.bias"] = np.zeros(5)
    q = Params.from_state_dict(sd)
    assert q.readout_weight.shape == (5, H) and q.readout_bias.shape == (5,)


@pytest.mark.parametrize("change", ["missing", "two-prefixes", "layer1", "bad-gates", "1d"])
def test_from_state_dict_errors(change):
    sd = init_params("lstm", D, H, seed=2).to_state_dict(prefix="lstm.")
    if change == "missing":
        del sd["lstm.bias_hh_l0"]
    elif change == "two-prefixes":
        sd["other.bias_hh_l0"] = sd.pop("lstm.bias_hh_l0")
    elif change == "layer1":
        sd["lstm.weight_ih_l1"] = sd["lstm.weight_ih_l0"]
    elif change == "bad-gates":                   # 2 gate blocks: no such cell
        sd = {k: v[: 2 * H] for k, v in sd.items()}
    else:
        sd["lstm.weight_hh_l0"] = sd["lstm.weight_hh_l0"].ravel()
    with pytest.raises(WeightsError):
        Params.from_state_dict(sd)


# --------------------------------------------------------------------------- init_params


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("scheme", ["pytorch", "xavier"])
def test_init_is_seeded(kind, scheme):
    a = init_params(kind, D, 5, seed=11, scheme=scheme)
    b = init_params(kind, D, 5, seed=11, scheme=scheme)
    c = init_params(kind, D, 5, seed=12, scheme=scheme)
    assert a.equals(b)
    assert not a.equals(c)


@pytest.mark.parametrize("kind", KINDS)
def test_pytorch_init_bounds(kind):
    h = 9                                                 # bound 1/3
    p = init_params(kind, 4, h, seed=0, scheme="pytorch")
    g = len(GATES[kind])
    assert p.weight_ih.shape == (g * h, 4) and p.weight_hh.shape == (g * h, h)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        arr = p.tensor(name)
        assert np.all(np.abs(arr) <= 1 / 3), name
        assert np.max(np.abs(arr)) > 0.25, name          # actually spread over the range
        assert np.min(arr) < 0 < np.max(arr), name


@pytest.mark.parametrize("kind", KINDS)
def test_xavier_init(kind):
    d, h = 3, 5
    p = init_params(kind, d, h, seed=0, scheme="xavier")
    a = np.sqrt(6.0 / (d + h))
    assert np.all(np.abs(p.weight_ih) <= a) and np.max(np.abs(p.weight_ih)) > 0.5 * a
    for gate in p.gates:
        q = p.weight_hh[p.gate_rows(gate)]
        np.testing.assert_allclose(q.T @ q, np.eye(h), atol=1e-12)
        np.testing.assert_allclose(q @ q.T, np.eye(h), atol=1e-12)
    assert not np.any(p.bias_ih) and not np.any(p.bias_hh)


@pytest.mark.parametrize("scheme", ["pytorch", "xavier"])
def test_forget_bias_goes_to_forget_rows_only(scheme):
    base = init_params("lstm", D, H, seed=4, scheme=scheme)
    p = init_params("lstm", D, H, seed=4, scheme=scheme, forget_bias=1.0)
    f = p.gate_rows("f")
    assert f == slice(H, 2 * H)
    np.testing.assert_array_equal(p.bias_ih[f], base.bias_ih[f] + 1.0)
    others = np.ones(4 * H, dtype=bool)
    others[f] = False
    np.testing.assert_array_equal(p.bias_ih[others], base.bias_ih[others])
    np.testing.assert_array_equal(p.bias_hh, base.bias_hh)
    np.testing.assert_array_equal(p.weight_ih, base.weight_ih)
    np.testing.assert_array_equal(p.weight_hh, base.weight_hh)


def test_forget_bias_leaves_gru_and_rnn_alone():
    for kind in ("gru", "rnn"):
        assert init_params(kind, D, H, seed=4, forget_bias=2.0).equals(
            init_params(kind, D, H, seed=4))


@pytest.mark.parametrize("args", [("lstm", 0, 2), ("lstm", 2, 0), ("cnn", 2, 2)])
def test_init_rejects_bad_sizes_and_kinds(args):
    with pytest.raises(WeightsError):
        init_params(*args)
    with pytest.raises(WeightsError):
        init_params("lstm", 2, 2, scheme="he")
