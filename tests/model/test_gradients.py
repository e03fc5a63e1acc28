"""Finite-difference checks of every gradient the engine reports.

The reference here is a small forward pass written from the equations in plain
NumPy (``ref_forward``), independent of ``lstm_viz.model.cells``. It can add a
perturbation to any h_t or c_t inside the recurrence, which is how the *total*
derivatives dL/dh_t and dL/dc_t are checked: perturb the state at step t, let
the rest of the sequence run on, and difference the loss.

Central differences in float64 with ``EPS = 1e-6`` have a truncation error of
order EPS**2 and a round-off error of order 1e-16 / EPS, so an agreement of
``RTOL = 1e-6`` relative (plus ``ATOL = 1e-9`` for entries near zero) is both
achievable and tight enough to catch any wrong term.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pytest

from lstm_viz.model import Clamp, ModelInputError, Network, Options, Params

EPS = 1e-6
RTOL = 1e-6
ATOL = 1e-9
T, D, H = 5, 3, 4
NGATES = {"lstm": 4, "gru": 3, "rnn": 1}
TENSORS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


# --------------------------------------------------------------------------- reference


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def ref_forward(kind, W, x, h0, c0=None, *, relu_f=False, clamps=(), dh=None, dc=None):
    """An independent forward pass, written straight from the cell equations.

    Parameters
    ----------
    kind : {"lstm", "gru", "rnn"}
    W : dict
        ``weight_ih`` (G*H, D), ``weight_hh`` (G*H, H), ``bias_ih``, ``bias_hh`` (G*H,),
        gate blocks in PyTorch order (LSTM i f g o, GRU r z n).
    x : ndarray, shape (T, D)
    h0, c0 : ndarray, shape (H,)
    relu_f : bool
        LSTM forget gate through ReLU instead of the sigmoid.
    clamps : sequence of (gate, value, start)
        The gate's activation is replaced by ``value`` at steps ``t >= start``.
    dh, dc : ndarray, shape (T, H), optional
        Added to h_t (after it is computed) and to c_t (before h_t is computed from it).

    Returns
    -------
    hs : ndarray, shape (T, H)
    cs : ndarray, shape (T, H) or None
    f_pre : ndarray, shape (T, H) or None
        LSTM forget-gate pre-activations (to keep ReLU away from its kink).
    """
    n = h0.size
    blk = lambda k: slice(k * n, (k + 1) * n)  # noqa: E731 - rows of gate block k

    def clamp(name, t, value):
        for gate, v, start in clamps:
            if gate == name and t >= start:
                return np.full(n, float(v))
        return value

    h = np.array(h0, dtype=float)
    c = None if c0 is None else np.array(c0, dtype=float)
    hs, cs, f_pre = [], [], []
    for t in range(x.shape[0]):
        if kind == "lstm":
            a = W["weight_ih"] @ x[t] + W["bias_ih"] + W["weight_hh"] @ h + W["bias_hh"]
            i = clamp("i", t, _sigmoid(a[blk(0)]))
            f = clamp("f", t, np.maximum(a[blk(1)], 0.0) if relu_f else _sigmoid(a[blk(1)]))
            g = clamp("g", t, np.tanh(a[blk(2)]))
            o = clamp("o", t, _sigmoid(a[blk(3)]))
            f_pre.append(a[blk(1)])
            c = f * c + i * g
            if dc is not None:
                c = c + dc[t]
            h = o * np.tanh(c)
            cs.append(c)
        elif kind == "gru":
            gx = W["weight_ih"] @ x[t] + W["bias_ih"]
            gh = W["weight_hh"] @ h + W["bias_hh"]
            r = clamp("r", t, _sigmoid(gx[blk(0)] + gh[blk(0)]))
            z = clamp("z", t, _sigmoid(gx[blk(1)] + gh[blk(1)]))
            nn = clamp("n", t, np.tanh(gx[blk(2)] + r * gh[blk(2)]))
            h = (1.0 - z) * nn + z * h
        else:
            h = np.tanh(W["weight_ih"] @ x[t] + W["bias_ih"] + W["weight_hh"] @ h + W["bias_hh"])
        if dh is not None:
            h = h + dh[t]
        hs.append(h)
    if kind != "lstm":
        return np.array(hs), None, None
    return np.array(hs), np.array(cs), np.array(f_pre)


def ref_loss(hs: np.ndarray, s: int, y: np.ndarray) -> float:
    """L = 0.5 ||h_s - y||^2."""
    return 0.5 * float(np.sum((hs[s] - y) ** 2))


def numeric_grad(fun, base: np.ndarray) -> np.ndarray:
    """Central differences of the scalar ``fun`` at ``base``, entry by entry."""
    base = np.array(base, dtype=float)
    out = np.empty_like(base)
    for idx in np.ndindex(base.shape):
        plus, minus = base.copy(), base.copy()
        plus[idx] += EPS
        minus[idx] -= EPS
        out[idx] = (fun(plus) - fun(minus)) / (2.0 * EPS)
    return out


def assert_grad(analytic, numeric, what: str) -> None:
    analytic = np.asarray(analytic)
    assert analytic.shape == numeric.shape, what
    np.testing.assert_allclose(analytic, numeric, rtol=RTOL, atol=ATOL, err_msg=what)


# --------------------------------------------------------------------------- problems


@dataclass
class Problem:
    """One configuration: weights, inputs, initial states, target and options."""

    kind: str
    W: dict
    x: np.ndarray
    h0: np.ndarray
    c0: np.ndarray | None
    y: np.ndarray
    options: Options

    @property
    def params(self) -> Params:
        return Params(self.kind, *(self.W[t] for t in TENSORS))

    @property
    def s(self) -> int:
        ls = self.options.loss_step
        return T - 1 if ls is None else ls % T

    def trace(self, **option_changes):
        opt = replace(self.options, **option_changes)
        return Network(self.params, self.h0, self.c0, opt).trace(self.x, target=self.y)

    def ref_kwargs(self) -> dict:
        return {
            "relu_f": self.options.forget_activation == "relu",
            "clamps": [(c.gate, c.value, c.start) for c in self.options.clamps],
        }

    def loss(self, W=None, x=None, h0=None, c0=None, dh=None, dc=None) -> float:
        """Reference loss with any one ingredient swapped or perturbed."""
        hs, _, _ = ref_forward(
            self.kind,
            self.W if W is None else W,
            self.x if x is None else x,
            self.h0 if h0 is None else h0,
            self.c0 if c0 is None else c0,
            dh=dh, dc=dc, **self.ref_kwargs(),
        )
        return ref_loss(hs, self.s, self.y)


def make_problem(kind: str, seed: int = 0, *, zero_state: bool = False, **options) -> Problem:
    """Random weights large enough that every nonlinearity is used away from its linear part.

    Weights ~ N(0, 0.6^2) and inputs ~ N(0, 1) give pre-activations of order one,
    where sigmoid and tanh curve but do not saturate; h0, c0 and the target are non-zero.
    """
    rng = np.random.default_rng(seed)
    gh = NGATES[kind] * H
    W = {
        "weight_ih": 0.6 * rng.standard_normal((gh, D)),
        "weight_hh": 0.6 * rng.standard_normal((gh, H)),
        "bias_ih": 0.3 * rng.standard_normal(gh),
        "bias_hh": 0.3 * rng.standard_normal(gh),
    }
    x = rng.standard_normal((T, D))
    h0 = np.zeros(H) if zero_state else 0.5 * rng.standard_normal(H)
    c0 = None
    if kind == "lstm":
        c0 = np.zeros(H) if zero_state else rng.standard_normal(H)
    y = 0.5 * rng.standard_normal(H)
    return Problem(kind, W, x, h0, c0, y, Options(**options))


# (id, kind, seed, options); seeds for ReLU cases are chosen (and checked below) so that
# no forget pre-activation sits near the ReLU kink, where differences are meaningless.
CASES = [
    ("lstm", "lstm", 0, {}),
    ("lstm-zero-state", "lstm", 1, {"zero_state": True}),
    ("lstm-relu-forget", "lstm", 2, {"forget_activation": "relu"}),
    ("lstm-relu-forget-loss2", "lstm", 3, {"forget_activation": "relu", "loss_step": 2}),
    ("lstm-f1-from2", "lstm", 4, {"clamps": (Clamp("f", 1.0, 2),)}),
    ("lstm-f0-from1", "lstm", 5, {"clamps": (Clamp("f", 0.0, 1),)}),
    ("lstm-i0-from0", "lstm", 6, {"clamps": (Clamp("i", 0.0, 0),)}),
    ("lstm-o1-from2", "lstm", 7, {"clamps": (Clamp("o", 1.0, 2),)}),
    ("lstm-f1-i0-g-half", "lstm", 8,
     {"clamps": (Clamp("f", 1.0, 1), Clamp("i", 0.0, 3), Clamp("g", 0.5, 2))}),
    ("lstm-loss2", "lstm", 9, {"loss_step": 2}),
    ("lstm-loss-neg4", "lstm", 10, {"loss_step": -4}),
    ("lstm-loss0", "lstm", 11, {"loss_step": 0}),
    ("gru", "gru", 0, {}),
    ("gru-zero-state", "gru", 1, {"zero_state": True}),
    ("gru-z1-from3", "gru", 2, {"clamps": (Clamp("z", 1.0, 3),)}),
    ("gru-z0-from1", "gru", 3, {"clamps": (Clamp("z", 0.0, 1),)}),
    ("gru-r0-from1", "gru", 4, {"clamps": (Clamp("r", 0.0, 1),)}),
    ("gru-r1-from0", "gru", 5, {"clamps": (Clamp("r", 1.0, 0),)}),
    ("gru-n-from2", "gru", 6, {"clamps": (Clamp("n", 0.3, 2),)}),
    ("gru-loss2", "gru", 7, {"loss_step": 2}),
    ("gru-loss-neg2", "gru", 8, {"loss_step": -2}),
    ("gru-loss0", "gru", 9, {"loss_step": 0}),
    ("rnn", "rnn", 0, {}),
    ("rnn-zero-state", "rnn", 1, {"zero_state": True}),
    ("rnn-loss2", "rnn", 2, {"loss_step": 2}),
    ("rnn-loss-neg4", "rnn", 3, {"loss_step": -4}),
    ("rnn-loss0", "rnn", 4, {"loss_step": 0}),
]


@pytest.fixture(params=CASES, ids=[c[0] for c in CASES])
def problem(request) -> Problem:
    _, kind, seed, opts = request.param
    opts = dict(opts)
    zero = opts.pop("zero_state", False)
    return make_problem(kind, seed, zero_state=zero, **opts)


# --------------------------------------------------------------------------- checks


def test_problem_exercises_the_nonlinearities(problem):
    """Preconditions: pre-activations of order one, none near the ReLU kink."""
    tr = problem.trace()
    pre = np.concatenate([a.ravel() for a in tr.preacts.values()])
    assert np.max(np.abs(pre)) > 0.5          # the curves bend ...
    assert np.max(np.abs(pre)) < 6.0          # ... but are not flat
    if problem.options.forget_activation == "relu":
        _, _, f_pre = ref_forward(problem.kind, problem.W, problem.x, problem.h0, problem.c0,
                                  **problem.ref_kwargs())
        assert np.min(np.abs(f_pre)) > 1e-3
        assert np.any(f_pre > 0) and np.any(f_pre < 0)    # both sides of the ReLU are used


def test_forward_matches_reference(problem):
    """The engine computes the same h, c and loss as the reference differenced below."""
    tr = problem.trace()
    hs, cs, _ = ref_forward(problem.kind, problem.W, problem.x, problem.h0, problem.c0,
                            **problem.ref_kwargs())
    np.testing.assert_allclose(tr.h, hs, rtol=1e-13, atol=1e-14)
    if problem.kind == "lstm":
        np.testing.assert_allclose(tr.c, cs, rtol=1e-13, atol=1e-14)
    assert tr.loss_step == problem.s
    assert tr.loss == pytest.approx(ref_loss(hs, problem.s, problem.y), rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("name", TENSORS)
def test_parameter_gradient(problem, name):
    tr = problem.trace()

    def loss(arr):
        return problem.loss(W={**problem.W, name: arr})

    assert_grad(tr.grads[f"{name}_l0"], numeric_grad(loss, problem.W[name]), name)


def test_input_gradient(problem):
    tr = problem.trace()
    assert_grad(tr.dL_dx, numeric_grad(lambda x: problem.loss(x=x), problem.x), "dL_dx")


def test_initial_state_gradients(problem):
    tr = problem.trace()
    assert_grad(tr.dL_dh0, numeric_grad(lambda h0: problem.loss(h0=h0), problem.h0), "dL_dh0")
    if problem.kind == "lstm":
        assert_grad(tr.dL_dc0, numeric_grad(lambda c0: problem.loss(c0=c0), problem.c0),
                    "dL_dc0")
    else:
        assert tr.dL_dc0 is None


def test_state_gradients_are_total_derivatives(problem):
    """dL_dh[t] (and dL_dc[t]) = change of L when h_t (c_t) is nudged inside the recurrence."""
    tr = problem.trace()
    zero = np.zeros((T, H))
    assert_grad(tr.dL_dh, numeric_grad(lambda dh: problem.loss(dh=dh), zero), "dL_dh")
    if problem.kind == "lstm":
        assert_grad(tr.dL_dc, numeric_grad(lambda dc: problem.loss(dc=dc), zero), "dL_dc")
    else:
        assert tr.dL_dc is None


def test_nothing_flows_back_from_after_the_loss_step(problem):
    tr = problem.trace()
    s = problem.s
    assert not np.any(tr.dL_dh[s + 1:])
    assert not np.any(tr.dL_dx[s + 1:])
    if problem.kind == "lstm":
        assert not np.any(tr.dL_dc[s + 1:])


# --------------------------------------------------------------------------- truncated BPTT

TRUNCATIONS = [
    # (kind, truncate k, loss_step, extra options)
    ("lstm", 2, 3, {}),
    ("lstm", 1, -1, {}),
    ("lstm", 3, None, {}),
    ("lstm", 2, None, {"forget_activation": "relu"}),
    ("lstm", 3, None, {"clamps": (Clamp("f", 1.0, 3),)}),
    ("gru", 2, 3, {}),
    ("gru", 1, None, {}),
    ("gru", 3, -1, {"clamps": (Clamp("z", 0.2, 3),)}),
    ("rnn", 2, -2, {}),
    ("rnn", 3, None, {}),
]


@pytest.mark.parametrize("kind,k,loss_step,extra", TRUNCATIONS,
                         ids=[f"{c[0]}-k{c[1]}-s{c[2]}-{len(c[3])}" for c in TRUNCATIONS])
def test_truncated_bptt(kind, k, loss_step, extra):
    """Within the window: the exact gradient of a restarted sequence; before it: zero."""
    seed = 12 if extra.get("forget_activation") == "relu" else 20
    pb = make_problem(kind, seed, loss_step=loss_step, truncate=k, **extra)
    s = pb.s
    start = s - k + 1
    assert start > 0, "the window must start inside the sequence for this test"
    tr = pb.trace()
    full = pb.trace(truncate=None)

    # The forward pass does not depend on truncation.
    np.testing.assert_array_equal(tr.h, full.h)
    assert tr.loss == full.loss

    # Before the window: exactly nothing.
    assert not np.any(tr.dL_dh[:start])
    assert not np.any(tr.dL_dx[:start])
    assert not np.any(tr.dL_dh0)
    if kind == "lstm":
        assert not np.any(tr.dL_dc[:start])
        assert not np.any(tr.dL_dc0)
    assert not np.any(tr.dL_dh[s + 1:])

    # Inside the window: restart the sequence at `start` from the states entering it,
    # now constants, and difference the reference on that shorter sequence.
    relu_f = extra.get("forget_activation") == "relu"
    clamps = [(c.gate, c.value, c.start - start) for c in extra.get("clamps", ())]
    if relu_f:
        _, _, f_pre = ref_forward(kind, pb.W, pb.x, pb.h0, pb.c0, relu_f=True)
        assert np.min(np.abs(f_pre)) > 1e-3
    xw = pb.x[start:]
    h_in = full.h[start - 1]
    c_in = full.c[start - 1] if kind == "lstm" else None
    sw = s - start
    tw = xw.shape[0]

    def loss(W=pb.W, x=xw, dh=None, dc=None):
        hs, _, _ = ref_forward(kind, W, x, h_in, c_in, relu_f=relu_f, clamps=clamps,
                               dh=dh, dc=dc)
        return ref_loss(hs, sw, pb.y)

    zero = np.zeros((tw, H))
    assert_grad(tr.dL_dh[start:], numeric_grad(lambda dh: loss(dh=dh), zero), "dL_dh")
    assert_grad(tr.dL_dx[start:], numeric_grad(lambda x: loss(x=x), xw), "dL_dx")
    if kind == "lstm":
        assert_grad(tr.dL_dc[start:], numeric_grad(lambda dc: loss(dc=dc), zero), "dL_dc")
    for name in TENSORS:
        num = numeric_grad(lambda a: loss(W={**pb.W, name: a}), pb.W[name])
        assert_grad(tr.grads[f"{name}_l0"], num, name)
    # And truncation really changed something (the test would be vacuous otherwise).
    assert not np.allclose(tr.grads["weight_hh_l0"], full.grads["weight_hh_l0"])


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_window_reaching_the_start_is_full_bptt(kind):
    pb = make_problem(kind, 21, loss_step=2)
    full = pb.trace()
    for k in (3, 4, 50):            # window covers steps 0..2 (or more)
        tr = pb.trace(truncate=k)
        np.testing.assert_array_equal(tr.dL_dh, full.dL_dh)
        np.testing.assert_array_equal(tr.dL_dx, full.dL_dx)
        np.testing.assert_array_equal(tr.dL_dh0, full.dL_dh0)
        for name, g in full.grads.items():
            np.testing.assert_array_equal(tr.grads[name], g)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_truncation_below_one_step_is_rejected(kind):
    pb = make_problem(kind, 22)
    with pytest.raises(ModelInputError):
        pb.trace(truncate=0)


# --------------------------------------------------------------------------- gradient clipping


def _joint_norm(grads) -> float:
    return float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_clip_norm_rescales_parameter_gradients(kind):
    pb = make_problem(kind, 30)
    free = pb.trace()
    norm = _joint_norm(free.grads)
    assert norm > 0.1

    clip = norm / 4.0
    tr = pb.trace(clip_norm=clip)
    assert _joint_norm(tr.grads) == pytest.approx(clip, rel=1e-12)
    assert set(tr.grads) == set(free.grads)
    for name, g in free.grads.items():
        np.testing.assert_allclose(tr.grads[name], g * (clip / norm), rtol=1e-12, atol=0)
    # Clipping concerns the parameter gradients only.
    np.testing.assert_array_equal(tr.dL_dh, free.dL_dh)
    np.testing.assert_array_equal(tr.dL_dx, free.dL_dx)
    assert tr.loss == free.loss

    # Below the threshold nothing changes, bit for bit.
    loose = pb.trace(clip_norm=2.0 * norm)
    for name, g in free.grads.items():
        np.testing.assert_array_equal(loose.grads[name], g)
    # The norm before clipping (as clip_grad_norm_ returns it), whether or not it clipped.
    for t in (free, tr, loose):
        assert t.grad_norm == pytest.approx(norm, rel=1e-12)


@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_clip_norm_must_be_positive(bad):
    pb = make_problem("lstm", 31)
    with pytest.raises(ModelInputError):
        pb.trace(clip_norm=bad)


def test_a_saturated_relu_cell_lets_no_gradient_into_c_but_some_through_o():
    # What the experiment's hint says: with a ReLU forget gate held above 1 the cell state
    # grows until tanh(C) is exactly ±1; then dL/dC is 0 at the last steps, while the output
    # gate (dL/da_o = dL/dh · tanh(C) · σ') still sends gradient back through W_hh to h.
    from lstm_viz.model import init_params
    p = init_params("lstm", 1, 3, seed=1)
    b = p.bias_ih.copy()
    b[3:6], b[6:9] = 8.0, 3.0                          # f = relu(≈8) > 1, candidate > 0
    tr = Network(p.replace(bias_ih=b), options=Options(forget_activation="relu")).trace(
        np.ones((60, 1)))
    assert np.all(np.abs(np.tanh(tr.c[-10:])) == 1.0)
    assert not tr.dL_dc[-10:].any()
    assert np.all(np.linalg.norm(tr.dL_dh[-5:], axis=1) > 1e-5)
