"""LSTM, GRU and simple-RNN cells: forward pass and exact backpropagation through time.

Everything is float64 and follows PyTorch's formulas and gate order.

LSTM (rows ``i, f, g, o``)::

    i_t = sigma(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)
    f_t = sigma(W_if x_t + b_if + W_hf h_{t-1} + b_hf)      (or ReLU, as an experiment)
    g_t = tanh (W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)      (the candidate C~_t)
    o_t = sigma(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

GRU (rows ``r, z, n``)::

    r_t = sigma(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
    z_t = sigma(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
    n_t = tanh (W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

Simple RNN::

    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)

Loss, on one step ``s`` (the last by default): ``L = 0.5 * ||h_s - y||^2``, or,
when ``Options.loss_class`` is set, the cross-entropy of the network's linear
readout on class ``k``::

    z = W_r h_s + b_r          (K logits)
    p = softmax(z)             (computed as exp(z - max z) / sum, so it never overflows)
    L = -log p_k = logsumexp(z) - z_k
    dL/dh_s = W_r^T (p - e_k)   dL/dW_r = (p - e_k) h_s^T   dL/db_r = p - e_k

How the code is fast: only what is truly sequential happens per step. All input
projections are one matmul before the loop; each step makes a handful of
in-place NumPy calls on preallocated buffers (sigmoid is computed as
``0.5 * tanh(a / 2) + 0.5`` so one ``tanh`` call serves every gate, with the
halving folded into the weights); every activation derivative and every
parameter gradient is one vectorised expression outside the loop. Buffers
are laid out so that the products a step needs sit side by side in memory
and cost one call: in the LSTM's forward pass ``[i, f] * [g, c_{t-1}]``; in
its backward pass, dL/dc_t and the four pre-activation gradients are all
weightings of ``[dL/dh_t, dL/dc_{t+1}]``, one multiply and one add. A NumPy
call costs about a microsecond whatever the size at these sizes, and
constants are passed as arrays (a Python float costs a conversion). The
trace's arrays are views into those buffers, not copies.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

import numpy as np

from .trace import Trace, backward_once
from .weights import GATES, Params, WeightsError


class ModelInputError(ValueError):
    """Inputs the engine cannot run (wrong width, NaN, empty); the message says why."""


@dataclass(frozen=True)
class Clamp:
    """Hold gate ``gate`` at ``value`` from step ``start`` (0-based) on.

    A clamped gate passes no gradient to its pre-activation at those steps.
    """

    gate: str
    value: float
    start: int = 0


@dataclass(frozen=True)
class Options:
    """Experiments and loss settings, applied exactly in forward and backward.

    Attributes
    ----------
    forget_activation : {"sigmoid", "relu"}
        LSTM only: the forget gate's nonlinearity.
    clamps : tuple of Clamp
    loss_step : int or None
        Step whose hidden state enters the loss; None means the last; negative
        values count from the end.
    truncate : int or None
        Truncated BPTT: gradients flow back at most this many steps from the
        loss step (the loss step itself counts as one). None: the full sequence.
    clip_norm : float or None
        Rescale the parameter gradients so their joint 2-norm is at most this.
        With the readout loss the joint norm includes the readout's gradients
        (as ``torch.nn.utils.clip_grad_norm_(model.parameters(), ...)`` would, except
        that it divides by the norm plus 1e-6, so its clipped norm falls short by that).
    loss_class : int or None
        None: the squared error to the target. A class k (0-based, as PyTorch's
        targets): the cross-entropy of the readout on class k at the loss step;
        the network needs a readout with more than k classes.
    """

    forget_activation: str = "sigmoid"
    clamps: tuple[Clamp, ...] = field(default=())
    loss_step: int | None = None
    truncate: int | None = None
    clip_norm: float | None = None
    loss_class: int | None = None


def _check_x(x: np.ndarray, input_size: int) -> np.ndarray:
    x = np.array(x, dtype=np.float64)           # a private copy: the Trace freezes it
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ModelInputError(f"input must be a (T, D) array, got shape {x.shape}")
    if x.shape[0] == 0:
        raise ModelInputError("the sequence is empty")
    if x.shape[1] != input_size:
        raise ModelInputError(
            f"input has {x.shape[1]} value(s) per step but the weights expect {input_size}"
        )
    if not np.all(np.isfinite(x)):
        bad = int(np.argwhere(~np.isfinite(x))[0, 0])
        raise ModelInputError(f"input step {bad + 1} is not a finite number")
    return x


def _vec(v: np.ndarray | None, n: int, name: str) -> np.ndarray:
    if v is None:
        return np.zeros(n)
    a = np.asarray(v, dtype=np.float64).reshape(-1)
    if a.shape != (n,):
        raise ModelInputError(f"{name} must have {n} value(s), got {a.size}")
    if not np.all(np.isfinite(a)):
        raise ModelInputError(f"{name} contains NaN or infinite values")
    return a.copy()


def _clamp_mask(
    clamps: tuple[Clamp, ...], gates: tuple[str, ...], order: tuple[str, ...], T: int, H: int
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(T, G*H) boolean mask of clamped entries and their values, in ``order``."""
    if not clamps:
        return None, None
    mask = np.zeros((T, len(order) * H), dtype=bool)
    vals = np.zeros((T, len(order) * H))
    for cl in clamps:
        if cl.gate not in gates:
            raise ModelInputError(f"no gate {cl.gate!r} to clamp; gates are {', '.join(gates)}")
        if not np.isfinite(cl.value):
            raise ModelInputError("a clamp value must be a finite number")
        k = order.index(cl.gate)
        s = max(0, cl.start)
        mask[s:, k * H:(k + 1) * H] = True
        vals[s:, k * H:(k + 1) * H] = cl.value
    return mask, vals


def _loss_step(opt: Options, T: int) -> int:
    s = T - 1 if opt.loss_step is None else int(opt.loss_step)
    if s < 0:
        s += T
    if not 0 <= s < T:
        raise ModelInputError(f"loss step {opt.loss_step} is outside the sequence of {T} steps")
    return s


def _stop_step(opt: Options, s: int) -> int:
    """First step (inclusive) that the backward pass reaches."""
    if opt.truncate is None:
        return 0
    if opt.truncate < 1:
        raise ModelInputError("the truncation window must be at least 1 step")
    return max(0, s - opt.truncate + 1)


def _prepare(p: Params, x, h0, target, options: Options):
    """Checked inputs every cell needs: x, T, H, h0, y, the loss step and the first step reached back."""
    x = _check_x(x, p.input_size)
    check_loss_class(p, options.loss_class)
    T, H = x.shape[0], p.hidden_size
    s = _loss_step(options, T)
    return x, T, H, _vec(h0, H, "h0"), _vec(target, H, "target"), s, _stop_step(options, s)


@dataclass(frozen=True, eq=False)
class LossAt:
    """The loss on the loss step and where its gradient starts.

    Attributes
    ----------
    value : float
        L.
    dh : ndarray, shape (H,)
        dL/dh_s, the seed of backpropagation through time.
    logits, probs : ndarray, shape (K,), or None
        The readout's z and softmax(z) at step s (None for the squared error).
    grads : dict
        The readout's gradients ``readout.weight`` (K, H) and ``readout.bias`` (K,);
        empty for the squared error (it does not depend on the readout).
    """

    value: float
    dh: np.ndarray
    logits: np.ndarray | None = None
    probs: np.ndarray | None = None
    grads: dict = field(default_factory=dict)


def check_loss_class(p: Params, k: int | None) -> None:
    """Raise ModelInputError (one line) if class ``k`` cannot be used with ``p``'s readout."""
    if k is None:
        return
    if p.readout_weight is None:
        raise ModelInputError("the readout loss needs a readout layer, and these weights have "
                              "none (add readout.weight and readout.bias to the weights file)")
    K = p.readout_weight.shape[0]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < K:
        raise ModelInputError(f"class {k} is not a class of the readout: it has {K} "
                              f"class{'es' if K != 1 else ''}, 0 to {K - 1}")


def loss_at(p: Params, h_s: np.ndarray, y: np.ndarray, opt: Options) -> LossAt:
    """The loss on hidden state ``h_s`` (H,) and its gradient dL/dh_s (see the module docstring)."""
    k = opt.loss_class
    if k is None:
        d = h_s - y
        return LossAt(float(0.5 * np.sum(d ** 2)), d)           # dL/dh_s = h_s - y
    check_loss_class(p, k)
    w, b = p.readout_weight, p.readout_bias
    z = w @ h_s + b                                             # logits
    e = np.exp(z - z.max())                                     # <= 1: cannot overflow
    total = e.sum()
    probs = e / total
    value = float(np.log(total) + z.max() - z[k])               # -log p_k = logsumexp(z) - z_k
    dz = probs.copy()
    dz[k] -= 1.0                                                # dL/dz = p - e_k
    return LossAt(value, w.T @ dz, z, probs,                    # dL/dh_s = W_r^T (p - e_k)
                  {"readout.weight": np.outer(dz, h_s), "readout.bias": dz})


def _param_grads(
    dpre_ih: np.ndarray, dpre_hh: np.ndarray, x: np.ndarray, h_prev: np.ndarray, opt: Options,
    extra: dict[str, np.ndarray] | None = None,
) -> tuple[dict[str, np.ndarray], float]:
    """Parameter gradients from the per-step pre-activation gradients, one matmul each,
    and their joint 2-norm before any clipping.

    ``extra`` (the readout's gradients) joins them, and the joint norm.
    """
    grads = {
        "weight_ih_l0": dpre_ih.T @ x,          # sum_t dL/da_t x_t^T
        "weight_hh_l0": dpre_hh.T @ h_prev,     # sum_t dL/da_t h_{t-1}^T
        "bias_ih_l0": dpre_ih.sum(axis=0),
        "bias_hh_l0": dpre_hh.sum(axis=0),
        **(extra or {}),
    }
    norm = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads.values())))
    if opt.clip_norm is not None:
        if not opt.clip_norm > 0:
            raise ModelInputError("the clipping norm must be positive")
        if norm > opt.clip_norm:
            scale = opt.clip_norm / norm
            grads = {k: g * scale for k, g in grads.items()}
    return grads, norm


# --------------------------------------------------------------------------- LSTM

# Internal row order: the three sigmoid gates first (o, i, f), then the tanh
# candidate g, so one slice covers every sigmoid gate and, in the backward pass,
# the three gates fed by dc (i, f, g) sit together.
_LSTM_ORDER = ("o", "i", "f", "g")


def lstm_trace(
    p: Params,
    x: np.ndarray,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
    target: np.ndarray | None = None,
    options: Options = Options(),
) -> Trace:
    """Run an LSTM over ``x`` (T, D) and backpropagate ``L = 0.5 ||h_s - y||^2``.

    Returns a `Trace` with h, c, gates i f g o, pre-activations and every
    gradient; see the module docstring for the equations.
    """
    if options.forget_activation not in ("sigmoid", "relu"):
        raise ModelInputError(f"unknown forget activation {options.forget_activation!r}")
    relu_f = options.forget_activation == "relu"
    x, T, H, h0, y, s, stop = _prepare(p, x, h0, target, options)
    c0 = _vec(c0, H, "c0")

    # Permute PyTorch rows (i f g o) into the internal order (o i f g).
    perm = np.concatenate([np.arange(H) + GATES["lstm"].index(g) * H for g in _LSTM_ORDER])
    # Sigmoid rows are pre-halved so that sigma(a) = 0.5 * tanh(scaled) + 0.5.
    scale = np.ones(4 * H)
    scale[: 3 * H] = 0.5
    if relu_f:
        scale[2 * H: 3 * H] = 1.0
    w_ih = p.weight_ih[perm]
    w_hh = p.weight_hh[perm]
    bias = (p.bias_ih + p.bias_hh)[perm]
    w_hh_s = np.ascontiguousarray(w_hh * scale[:, None])
    xp = (x @ (w_ih * scale[:, None]).T) + bias * scale     # all input projections, (T, 4H)

    mask, cvals = _clamp_mask(options.clamps, GATES["lstm"], _LSTM_ORDER, T, H)

    A = np.empty((T, 4 * H))      # pre-activations (scaled rows), internal order
    # Row t of W is [o i f g | c_{t-1}]: the step's activations, then the cell state
    # they act on, so [i f] * [g c_{t-1}] is one multiply. c_t is written into row t+1.
    W = np.empty((T + 1, 5 * H))
    W[0, 4 * H:] = c0
    G = W[:T, : 4 * H]            # activations o i f g
    TC = np.empty((T, H))         # tanh(c_t)
    Hs = np.empty((T, H))
    tmp = np.empty(4 * H)
    half = np.full((2 if relu_f else 3) * H, 0.5)    # an array operand is cheaper than 0.5
    prod = np.empty(2 * H)
    prod_a, prod_b = prod[:H], prod[H:]       # the two halves of a paired product
    Go, Gi, Gf, Gg = (G[:, k * H:(k + 1) * H] for k in range(4))
    Gsig = G[:, : 2 * H] if relu_f else G[:, : 3 * H]
    Af = A[:, 2 * H: 3 * H]
    # Per-step extras only when an experiment needs them.
    extras = itertools.repeat((None, None, None, None))
    if relu_f or mask is not None:
        extras = zip(Af, Gf, *((mask, cvals) if mask is not None
                                else (itertools.repeat(None),) * 2))
    h = h0
    # Per step, Python's call overhead is the cost: ufuncs are bound to local names
    # and given their output positionally (in-place operators are slower still).
    dot, add, mul, tanh = np.dot, np.add, np.multiply, np.tanh
    # Iterating with zip hands out row views at C speed; indexing would cost more.
    for a, xpt, gt, st, fi, gc, ct, tct, go, ht, (aft, gf, mt, vt) in zip(
        A, xp, G, Gsig, W[:T, H: 3 * H], W[:T, 3 * H:], W[1:, 4 * H:], TC, Go, Hs, extras
    ):
        dot(w_hh_s, h, tmp)
        add(xpt, tmp, a)                          # a_t = W_ih x_t + W_hh h_{t-1} + b
        tanh(a, gt)                               # one tanh for all four blocks
        mul(st, half, st)
        add(st, half, st)                         # sigmoid rows: 0.5 tanh(a/2) + 0.5
        if aft is not None:
            if relu_f:
                np.maximum(aft, 0.0, out=gf)
            if mt is not None:
                np.copyto(gt, vt, where=mt)       # clamped gates
        mul(fi, gc, prod)                         # [i_t g_t, f_t c_{t-1}]
        add(prod_a, prod_b, ct)                   # c_t = f_t c_{t-1} + i_t g_t
        tanh(ct, tct)
        mul(go, tct, ht)                          # h_t = o_t * tanh(c_t)
        h = ht
    C = W[1:, 4 * H:]             # c_1 .. c_T (a view: copies of these cost ~1 ms at T=500)

    lo = loss_at(p, Hs[s], y, options)           # the loss, and where backward starts

    def backward() -> dict:
        # ---- backward through time -------------------------------------------------
        # Local derivatives of each activation w.r.t. its pre-activation, all steps at once.
        D = np.empty((T, 4 * H))
        Ds, Dg = D[:, : 3 * H], D[:, 3 * H:]
        np.subtract(1.0, G[:, : 3 * H], out=Ds)
        Ds *= G[:, : 3 * H]                                         # sigma' = s (1 - s)
        np.multiply(Gg, Gg, out=Dg)
        np.subtract(1.0, Dg, out=Dg)                                # tanh'  = 1 - g^2
        if relu_f:
            D[:, 2 * H: 3 * H] = Af > 0.0                           # relu'  = [a > 0]
        if mask is not None:
            D[mask] = 0.0                                           # a clamped gate is a constant
        Do, Di, Df, Dgg = (D[:, k * H:(k + 1) * H] for k in range(4))
        C_prev = W[:T, 4 * H:]
        # Going back, step t starts from e_t = [dL/dh_t, dL/dc_{t+1}]. Every quantity the
        # step makes is a fixed weighting of the two halves of e_t:
        #   dL/dc_t  = o_t tanh'(c_t) dL/dh_t + f_{t+1} dL/dc_{t+1}      (K_t, F_t below)
        #   dL/da_i  = dc_t g_t sigma'_i   dL/da_f = dc_t c_{t-1} sigma'_f
        #   dL/da_g  = dc_t i_t tanh'_g    dL/da_o = dL/dh_t tanh(c_t) sigma'_o
        # so one multiply by a (5, 2H) block of coefficients and one add of its halves
        # give all five, and one matmul takes dL/da_t back to dL/dh_{t-1}.
        K = Go * (1.0 - TC * TC)
        F = np.zeros((T, H))
        F[:-1] = Gf[1:]                          # f_{t+1}; nothing after the last step
        CO = np.zeros((T, 5, 2 * H))             # rows: dc, i, f, g, o; columns: [x dh | x dc']
        CO[:, 0, :H], CO[:, 0, H:] = K, F
        for row, m in ((1, Gg * Di), (2, C_prev * Df), (3, Gi * Dgg)):
            np.multiply(m, K, out=CO[:, row, :H])
            np.multiply(m, F, out=CO[:, row, H:])
        np.multiply(TC, Do, out=CO[:, 4, :H])
        # Row t of Z is [dL/dc_t | dL/da_t (i f g o, PyTorch order) | dL/dh_t], and a zero row
        # follows the last step: e_t is then the end of row t and the start of row t+1.
        Z = np.zeros((T + 1, 6 * H))
        Z[s, 5 * H:] = lo.dh                     # the loss: dL/dh_s (h_s - y, or the readout's)
        E = np.lib.stride_tricks.as_strided(Z.reshape(-1)[5 * H:], (T, 2 * H), Z.strides)
        out5 = Z[:, : 5 * H].reshape(T + 1, 5, H)
        dpre = Z[:T, H: 5 * H]
        w_hh_T = np.ascontiguousarray(p.weight_hh.T)
        dh0 = np.zeros(H)                        # dL/dh0, written by the last step back
        back = slice(s, stop - 1 if stop > 0 else None, -1)
        # Where each step's W_hh back-projection lands: the row of dL/dh_{t-1} (it is the
        # only contribution there, since steps after s carry no loss), or dh0 at the start.
        dh_out = list(Z[stop:s, 5 * H:][::-1]) + [dh0]
        terms = np.empty((5, 2 * H))
        by_dh, by_dc = terms[:, :H], terms[:, H:]
        for e, co, o5, da, out in zip(E[back], CO[back], out5[back], dpre[back], dh_out):
            mul(co, e, terms)                     # each quantity's two terms
            add(by_dh, by_dc, o5)                 # dL/dc_t and dL/da_t
            dot(w_hh_T, da, out)                  # back through W_hh to h_{t-1}
        dc0 = Z[0, :H] * Gf[0] if stop == 0 else np.zeros(H)   # back through c_1 = f_1 c0 + ...
        if stop > 0:                              # truncated: nothing reaches h0, c0
            dh0[:] = 0.0
        dH, dC = Z[:T, 5 * H:], Z[:T, :H]        # views, as the forward's arrays
        H_prev = np.vstack([h0[None], Hs[:-1]])
        grads, norm = _param_grads(dpre, dpre, x, H_prev, options, lo.grads)
        return {"dL_dh": dH, "dL_dc": dC,
                "dL_dx": dpre @ p.weight_ih,   # sum over gates of W_ih^T dL/da_t
                "dL_dh0": dh0, "dL_dc0": dc0, "dL_dpre": dpre, "grads": grads,
                "grad_norm": norm}

    names = _LSTM_ORDER
    pre = A * (1.0 / scale)                       # undo the halving of sigmoid rows, in one pass

    def block(M: np.ndarray, g: str) -> np.ndarray:   # gate g's columns (a view)
        k = names.index(g)
        return M[:, k * H:(k + 1) * H]
    return Trace(
        kind="lstm",
        x=x,
        h=Hs,
        c=C,
        h0=h0,
        c0=c0,
        gates={g: block(G, g) for g in GATES["lstm"]},
        preacts={g: block(pre, g) for g in GATES["lstm"]},
        target=y,
        loss_step=s,
        loss=lo.value,
        readout_logits=lo.logits,
        readout_probs=lo.probs,
        loss_class=options.loss_class,
        backward=backward_once(backward),
    )


# --------------------------------------------------------------------------- GRU


def gru_trace(
    p: Params,
    x: np.ndarray,
    h0: np.ndarray | None = None,
    target: np.ndarray | None = None,
    options: Options = Options(),
) -> Trace:
    """Run a GRU over ``x`` (T, D) with PyTorch's formulation and backpropagate the loss."""
    if options.forget_activation != "sigmoid":
        raise ModelInputError("the forget-gate activation applies to the LSTM only")
    x, T, H, h0, y, s, stop = _prepare(p, x, h0, target, options)
    # Internal row order r, z', z, n with z' = 1 - z computed as sigma(-a_z): its rows
    # are the z rows negated, so the step's update h_t = z' n_t + z h_{t-1} is one
    # paired product. Sigmoid rows are pre-halved for the tanh trick.
    Wr, Wz, Wn = np.split(p.weight_hh, 3)
    br, bz, bn = np.split(p.bias_hh, 3)
    # W_hh h + b_hh as one matmul with h followed by a 1 (the bias is the last column).
    w_hh_s = np.ascontiguousarray(np.hstack((
        np.vstack((0.5 * Wr, -0.5 * Wz, 0.5 * Wz, Wn)),
        np.concatenate((0.5 * br, -0.5 * bz, 0.5 * bz, bn))[:, None])))
    xp = x @ p.weight_ih.T + p.bias_ih                # (T, 3H), rows r z n, unscaled
    xpr, xpz, xpn = np.split(xp, 3, axis=1)
    xp_s = np.hstack((0.5 * xpr, -0.5 * xpz, 0.5 * xpz))   # the sigmoid rows' input part
    mask, cvals = _clamp_mask(options.clamps, GATES["gru"], GATES["gru"], T, H)
    if mask is not None:                              # clamp z' = 1 - z along with z
        mask = np.hstack((mask[:, :H], mask[:, H: 2 * H], mask[:, H:]))
        cvals = np.hstack((cvals[:, :H], 1.0 - cvals[:, H: 2 * H], cvals[:, H:]))
        clamps = zip(mask[:, : 3 * H], cvals[:, : 3 * H], mask[:, 3 * H:], cvals[:, 3 * H:])
    else:
        clamps = itertools.repeat((None, None, None, None))

    HH = np.empty((T, 4 * H))     # W_hh h_{t-1} + b_hh, rows r z' z n (sigmoid rows scaled)
    A = np.empty((T, 4 * H))      # pre-activations (r z' z scaled; n the full argument)
    # Row t of G is [r z' z n | h_{t-1} 1]: h_t is written into row t+1.
    G = np.empty((T + 1, 5 * H + 1))
    G[:, 5 * H] = 1.0
    G[0, 4 * H: 5 * H] = h0
    half = np.full(3 * H, 0.5)
    prod = np.empty(2 * H)
    prod_a, prod_b = prod[:H], prod[H:]
    dot, add, mul, tanh = np.dot, np.add, np.multiply, np.tanh
    for hh, xst, ast, gst, gr, hn, an, xpnt, gn, zz, nh, h1, hnext, (ms, vs, mn, vn) in zip(
        HH, xp_s, A[:, : 3 * H], G[:T, : 3 * H], G[:T, :H], HH[:, 3 * H:], A[:, 3 * H:], xpn,
        G[:T, 3 * H: 4 * H], G[:T, H: 3 * H], G[:T, 3 * H: 5 * H], G[:T, 4 * H: 5 * H + 1],
        G[1:, 4 * H: 5 * H], clamps,
    ):
        dot(w_hh_s, h1, hh)                       # W_hh h_{t-1} + b_hh
        add(xst, hh[: 3 * H], ast)
        tanh(ast, gst)
        mul(gst, half, gst)
        add(gst, half, gst)                       # r_t, 1 - z_t, z_t
        if ms is not None:
            np.copyto(gst, vs, where=ms)
        mul(gr, hn, an)                           # r_t * (W_hn h + b_hn)
        add(an, xpnt, an)                         # + W_in x_t + b_in
        tanh(an, gn)                              # n_t
        if mn is not None:
            np.copyto(gn, vn, where=mn)
        mul(zz, nh, prod)                         # [(1 - z_t) n_t, z_t h_{t-1}]
        add(prod_a, prod_b, hnext)                # h_t
    Hs = G[1:, 4 * H: 5 * H]                      # h_1 .. h_T (views, not copies: see the LSTM)
    H_prev = G[:T, 4 * H: 5 * H]
    Gr, Gzc, Gz, Gn = (G[:T, k * H:(k + 1) * H] for k in range(4))
    HHn = HH[:, 3 * H:]

    lo = loss_at(p, Hs[s], y, options)           # the loss, and where backward starts

    def backward() -> dict:
        # ---- backward through time -------------------------------------------------
        D = np.empty((T, 3 * H))                      # rows r z n
        D[:, :H] = Gr * (1.0 - Gr)                    # sigma'
        D[:, H: 2 * H] = Gz * Gzc                     # sigma' = z (1 - z)
        D[:, 2 * H:] = 1.0 - Gn * Gn                  # tanh'
        if mask is not None:
            D[mask[:, np.r_[0:H, 2 * H:4 * H]]] = 0.0  # a clamped gate is a constant
        # P: dh_t -> the input-side pre-activations (r, z, n); Q: -> W_hh h + b_hh,
        # followed by z_t, the direct path h_{t-1} -> h_t.
        P = np.empty((T, 3 * H))
        P[:, 2 * H:] = Gzc * D[:, 2 * H:]                      # n: dh (1 - z) tanh'
        P[:, :H] = P[:, 2 * H:] * HHn * D[:, :H]               # r: through r * hn inside n
        P[:, H: 2 * H] = (H_prev - Gn) * D[:, H: 2 * H]        # z: dh (h_{t-1} - n) sigma'
        Q = np.empty((T, 4, H))
        Q[:, :3] = P.reshape(T, 3, H)
        Q[:, 2] *= Gr                                          # hn enters n multiplied by r
        Q[:, 3] = Gz
        # dL/dh_{t-1} = W_hh^T dL/d(W_hh h + b_hh) + z_t dL/dh_t: one matmul with
        # [W_hh^T | I] of the step's block Q_t * dL/dh_t.
        w_T = np.hstack((p.weight_hh.T, np.eye(H)))
        E = np.zeros((T, 4, H))
        E_flat = E.reshape(T, 4 * H)
        dH = np.zeros((T, H))
        dh_rec = np.zeros(H)          # dL/dh0 in the end (scratch when truncated)
        dH[s] = lo.dh                                 # the loss: dL/dh_s (h_s - y, or the readout's)
        back = slice(s, stop - 1 if stop > 0 else None, -1)
        dh_out = list(dH[stop:s][::-1]) + [dh_rec]
        for q, dh, e, ef, out in zip(Q[back], dH[back], E[back], E_flat[back], dh_out):
            mul(q, dh, e)                             # into W_hh h + b_hh, and along z_t
            dot(w_T, ef, out)                         # back to h_{t-1}
        if stop > 0:
            dh_rec[:] = 0.0
        dB = np.ascontiguousarray(E_flat[:, : 3 * H])  # dL/d(W_hh h + b_hh), r z n
        dA = P * np.tile(dH, 3)       # dL/d(input-side pre-activation), r z n, all steps at once

        grads, norm = _param_grads(dA, dB, x, H_prev, options, lo.grads)
        return {"dL_dh": dH, "dL_dc": None, "dL_dx": dA @ p.weight_ih,
                "dL_dh0": dh_rec.copy(), "dL_dc0": None, "dL_dpre": dA, "grads": grads,
                "grad_norm": norm}

    unhalve = np.ones(4 * H)
    unhalve[: 3 * H] = 2.0
    pre = A * unhalve                                 # undo the halving, in one pass
    gates = {"r": Gr, "z": Gz, "n": Gn}
    preacts = {"r": pre[:, :H], "z": pre[:, 2 * H: 3 * H], "n": pre[:, 3 * H:], "hn": HHn}
    return Trace(
        kind="gru",
        x=x,
        h=Hs,
        c=None,
        h0=h0,
        c0=None,
        gates=gates,
        preacts=preacts,
        target=y,
        loss_step=s,
        loss=lo.value,
        readout_logits=lo.logits,
        readout_probs=lo.probs,
        loss_class=options.loss_class,
        backward=backward_once(backward),
    )


# --------------------------------------------------------------------------- RNN


def rnn_trace(
    p: Params,
    x: np.ndarray,
    h0: np.ndarray | None = None,
    target: np.ndarray | None = None,
    options: Options = Options(),
) -> Trace:
    """Run a simple tanh RNN over ``x`` (T, D) and backpropagate the loss."""
    if options.clamps:
        raise ModelInputError("a simple RNN has no gates to clamp")
    if options.forget_activation != "sigmoid":
        raise ModelInputError("the forget-gate activation applies to the LSTM only")
    x, T, H, h0, y, s, stop = _prepare(p, x, h0, target, options)
    w_hh = np.ascontiguousarray(p.weight_hh)
    xp = x @ p.weight_ih.T + (p.bias_ih + p.bias_hh)
    A = np.empty((T, H))
    Hs = np.empty((T, H))
    h = h0
    dot, add, mul, tanh = np.dot, np.add, np.multiply, np.tanh
    for a, xpt, ht in zip(A, xp, Hs):
        dot(w_hh, h, a)
        add(a, xpt, a)                            # a_t = W_ih x_t + b + W_hh h_{t-1}
        tanh(a, ht)
        h = ht

    lo = loss_at(p, Hs[s], y, options)           # the loss, and where backward starts

    def backward() -> dict:
        Dt = 1.0 - Hs * Hs                            # tanh'
        w_hh_T = np.ascontiguousarray(w_hh.T)
        dH = np.zeros((T, H))
        dA = np.zeros((T, H))
        dh_rec = np.zeros(H)
        dH[s] = lo.dh                                 # the loss: dL/dh_s (h_s - y, or the readout's)
        for t in range(s, stop - 1, -1):
            mul(dH[t], Dt[t], dA[t])                  # through the tanh
            # back through W_hh to h_{t-1} (the only contribution there; dh0 at the start)
            dot(w_hh_T, dA[t], dH[t - 1] if t > stop else dh_rec)
        if stop > 0:
            dh_rec[:] = 0.0
        H_prev = np.vstack([h0[None], Hs[:-1]])
        grads, norm = _param_grads(dA, dA, x, H_prev, options, lo.grads)
        return {"dL_dh": dH, "dL_dc": None, "dL_dx": dA @ p.weight_ih,
                "dL_dh0": dh_rec.copy(), "dL_dc0": None, "dL_dpre": dA, "grads": grads,
                "grad_norm": norm}

    return Trace(
        kind="rnn",
        x=x,
        h=Hs,
        c=None,
        h0=h0,
        c0=None,
        gates={},
        preacts={"a": A},
        target=y,
        loss_step=s,
        loss=lo.value,
        readout_logits=lo.logits,
        readout_probs=lo.probs,
        loss_class=options.loss_class,
        backward=backward_once(backward),
    )


# --------------------------------------------------------------------------- Network


@dataclass(frozen=True, eq=False)
class Network:
    """A cell's parameters, initial states and options: everything a trace needs.

    >>> net = Network(init_params("lstm", 1, 4, seed=0))      # doctest: +SKIP
    >>> tr = net.trace(np.array([[1.0], [0.0]]), target=np.zeros(4))
    """

    params: Params
    h0: np.ndarray | None = None
    c0: np.ndarray | None = None
    options: Options = Options()

    def __post_init__(self) -> None:
        H = self.params.hidden_size
        for name in ("h0", "c0"):
            v = getattr(self, name)
            if v is not None:
                try:
                    a = _vec(v, H, name)
                except ModelInputError as e:
                    raise WeightsError(str(e)) from None
                a.flags.writeable = False
                object.__setattr__(self, name, a)
        if self.c0 is not None and self.params.kind != "lstm":
            raise WeightsError("only an LSTM has an initial cell state c0")

    @property
    def kind(self) -> str:
        return self.params.kind

    @property
    def hidden_size(self) -> int:
        return self.params.hidden_size

    @property
    def input_size(self) -> int:
        return self.params.input_size

    def with_(self, **changes) -> "Network":
        """A copy with some fields replaced (params, h0, c0, options)."""
        return replace(self, **changes)

    def trace(self, x: np.ndarray, target: np.ndarray | None = None,
              lazy: bool = False) -> Trace:
        """Forward and backward through time over ``x`` (T, D); see `Trace`.

        With ``lazy`` the backward pass runs when a gradient is first read (for a
        view that may show only forward values); by default it runs now.
        """
        p, o = self.params, self.options
        # An experiment such as a ReLU forget gate can make the cell state grow past
        # float64's range: inf and NaN are then the honest result, not an error.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if p.kind == "lstm":
                tr = lstm_trace(p, x, self.h0, self.c0, target, o)
            elif p.kind == "gru":
                tr = gru_trace(p, x, self.h0, target, o)
            else:
                tr = rnn_trace(p, x, self.h0, target, o)
        if not lazy:
            tr.grads                                  # noqa: B018 (runs the backward pass)
        return tr
