"""The Trace: every per-step quantity of one forward and backward pass.

A `Trace` is what the engine returns and what every view reads. It is immutable
(all arrays read-only) and explicit: stacked ``(T, ...)`` arrays, no per-step
lists, no counters. Time runs along axis 0.

The backward pass may be deferred: the engine hands the Trace a function that
runs it (over the forward pass's own arrays), and the gradients are computed
the first time one is read, once. A weight being dragged while only forward
values are on screen then costs the forward pass alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property
from types import MappingProxyType
from typing import Callable, Mapping

import numpy as np


def _ro(a: np.ndarray | None) -> np.ndarray | None:
    if a is not None:
        a.flags.writeable = False
    return a


#: The Trace's attributes the backward pass gives (`Trace.backward`).
GRADIENTS = ("dL_dh", "dL_dc", "dL_dx", "dL_dh0", "dL_dc0", "dL_dpre", "grads")


def _gradient(name: str) -> property:
    """A Trace attribute given by the backward pass (run on the first read of any)."""
    return property(lambda self: self._gradients[name],
                    doc=f"``{name}``, from the backward pass; see the class docstring.")


@dataclass(frozen=True, eq=False)
class Trace:
    """One sequence run through a cell, forward and back.

    Attributes
    ----------
    kind : {"lstm", "gru", "rnn"}
    x : ndarray, shape (T, D)
        The inputs.
    h : ndarray, shape (T, H)
        Hidden states h_1 .. h_T (row t is the state after step t).
    c : ndarray, shape (T, H) or None
        LSTM cell states; None for GRU and RNN.
    h0, c0 : ndarray, shape (H,)
        Initial states (c0 is None for GRU and RNN).
    gates : dict name -> ndarray, shape (T, H)
        Gate activations: LSTM ``i f g o``, GRU ``r z n``, RNN none.
    preacts : dict name -> ndarray, shape (T, H)
        The argument of each gate's nonlinearity (for GRU ``n``, the full
        argument ``W_in x + b_in + r * (W_hn h + b_hn)``; ``hn`` holds
        ``W_hn h + b_hn``). For RNN, ``a`` is the argument of the tanh.
    target : ndarray, shape (H,)
    loss_step : int
        The step s whose hidden state enters the loss: ``L = 0.5 ||h_s - y||^2``,
        or with a loss class k the readout's cross-entropy ``L = -log softmax(z)_k``.
    loss : float
    dL_dh : ndarray, shape (T, H)
        Total derivative of L with respect to each h_t, through every later step.
    dL_dc : ndarray, shape (T, H) or None
        Total derivative of L with respect to each c_t (LSTM).
    dL_dx : ndarray, shape (T, D)
    dL_dh0, dL_dc0 : ndarray, shape (H,)
    dL_dpre : ndarray, shape (T, G*H)
        Derivative of L with respect to every gate's pre-activation, in
        PyTorch row order (for GRU the ``n`` block is with respect to the
        input part ``W_in x + b_in``).
    grads : dict name -> ndarray
        Parameter gradients under PyTorch names: ``weight_ih_l0`` (G*H, D),
        ``weight_hh_l0`` (G*H, H), ``bias_ih_l0``, ``bias_hh_l0`` (G*H,); with the
        readout loss also ``readout.weight`` (K, H) and ``readout.bias`` (K,).
    readout_logits, readout_probs : ndarray, shape (K,), or None
        With the readout loss: the logits ``z = W_r h_s + b_r`` at the loss step
        and ``softmax(z)``. None with the squared error.
    loss_class : int or None
        The class k of the readout loss (0-based); None with the squared error.
    """

    kind: str
    x: np.ndarray
    h: np.ndarray
    c: np.ndarray | None
    h0: np.ndarray
    c0: np.ndarray | None
    gates: Mapping[str, np.ndarray]
    preacts: Mapping[str, np.ndarray]
    target: np.ndarray
    loss_step: int
    loss: float
    #: Runs the backward pass: -> {"dL_dh", "dL_dc", "dL_dx", "dL_dh0", "dL_dc0",
    #: "dL_dpre", "grads", "grad_norm"} (see `backward_once`). Read the attributes, not this.
    backward: Callable[[], Mapping] = field(repr=False)
    labels: tuple[str, ...] = field(default=())
    readout_logits: np.ndarray | None = None
    readout_probs: np.ndarray | None = None
    loss_class: int | None = None

    def __post_init__(self) -> None:
        for name in ("x", "h", "c", "h0", "c0", "target", "readout_logits", "readout_probs"):
            _ro(getattr(self, name))
        for name in ("gates", "preacts"):
            d = MappingProxyType(dict(getattr(self, name)))     # read-only mapping
            for a in d.values():
                _ro(a)
            object.__setattr__(self, name, d)

    # -- the backward pass, run on first use
    @cached_property
    def _gradients(self) -> Mapping:
        g = dict(self.backward())
        for name in GRADIENTS[:-1]:
            _ro(g[name])
        grads = MappingProxyType(dict(g["grads"]))
        for a in grads.values():
            _ro(a)
        g["grads"] = grads
        return g

    dL_dh = _gradient("dL_dh")
    dL_dc = _gradient("dL_dc")
    dL_dx = _gradient("dL_dx")
    dL_dh0 = _gradient("dL_dh0")
    dL_dc0 = _gradient("dL_dc0")
    dL_dpre = _gradient("dL_dpre")
    grads = _gradient("grads")

    @property
    def grad_norm(self) -> float:
        """The joint 2-norm of the parameter gradients *before* clipping (``grads`` are
        after it): what ``torch.nn.utils.clip_grad_norm_`` returns."""
        return self._gradients["grad_norm"]

    @property
    def has_gradients(self) -> bool:
        """True once the backward pass has run (reading any gradient runs it)."""
        return "_gradients" in self.__dict__

    @property
    def steps(self) -> int:
        """T, the number of time steps."""
        return self.x.shape[0]

    @property
    def hidden_size(self) -> int:
        return self.h.shape[1]

    @property
    def input_size(self) -> int:
        return self.x.shape[1]

    def h_prev(self, t: int) -> np.ndarray:
        """h_{t-1}: the hidden state entering step t (h0 for t = 0)."""
        return self.h0 if t == 0 else self.h[t - 1]

    def c_prev(self, t: int) -> np.ndarray:
        """c_{t-1}: the cell state entering step t (c0 for t = 0)."""
        if self.c is None:
            raise AttributeError("only an LSTM has a cell state")
        return self.c0 if t == 0 else self.c[t - 1]

    def to_dict(self) -> dict[str, np.ndarray]:
        """The exported arrays, float64, under the command line's names.

        ``x h loss dL_dh dL_dx grad_weight_ih_l0 grad_weight_hh_l0
        grad_bias_ih_l0 grad_bias_hh_l0``; LSTM adds ``c dL_dc i f g o``,
        GRU adds ``r z n``; the readout loss adds ``readout_logits readout_probs
        grad_readout.weight grad_readout.bias``.
        """
        out: dict[str, np.ndarray] = {
            "x": self.x,
            "h": self.h,
            "loss": np.asarray(self.loss, dtype=np.float64),
            "dL_dh": self.dL_dh,
            "dL_dx": self.dL_dx,
        }
        for name, g in self.grads.items():
            out[f"grad_{name}"] = g
        if self.c is not None:
            out["c"] = self.c
            out["dL_dc"] = self.dL_dc
        for name, g in self.gates.items():
            out[name] = g
        if self.readout_probs is not None:
            out["readout_logits"] = self.readout_logits
            out["readout_probs"] = self.readout_probs
        return {k: np.array(v, dtype=np.float64) for k, v in out.items()}


def backward_once(fn: Callable[[], Mapping]) -> Callable[[], Mapping]:
    """``fn`` (a backward pass) run at most once, with NumPy's overflow warnings off
    (an experiment can overflow: inf and NaN are then the honest result), its result
    kept: every copy of a Trace (``dataclasses.replace``) shares the one computation."""
    @cache
    def run() -> Mapping:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return fn()
    return run
