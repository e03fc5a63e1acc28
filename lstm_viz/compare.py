"""Side-by-side comparison: the same inputs through an LSTM, a GRU and a simple RNN.

`ComparisonState` is fed by an `AppState`. It holds one network per cell kind,
all with the state's number of hidden units and input width, and runs the
state's inputs, target and loss step through each:

* the kind of the state's own network is the state's network itself, so the
  comparison shows the model the user edited (its trace is the state's trace:
  no extra work);
* a kind that was the main cell earlier in this session (and has the state's
  D and H) keeps the weights it had when it stopped being the main one (`kept`):
  switching the main cell to the GRU and back finds the user's LSTM (the
  hand-built latch, say) as they left it, and an edited GRU too. Its options
  are the carried ones below, like a seeded network's;
* the other kinds get their own seeded weights, ``init_params(kind, D, H,
  seed)`` (PyTorch's uniform scheme), re-made when D or H changes. The seeded
  RNN's biases are zero, so with no input it rests at h = 0, where its gradient
  goes back through ``W_hh^T`` alone and the spectral radius decides whether it
  vanishes or grows (nonzero biases would push h into tanh's flat tails and
  hide the effect).

Options carried over to the seeded networks: the loss step, truncated BPTT and
gradient clipping (they apply to every kind). The LSTM-only forget-gate
activation and gate clamps stay with the state's own network.

The simple RNN's recurrent matrix can be rescaled to a chosen spectral radius
(`set_rnn_radius`) to show vanishing (radius < 1) and exploding (> 1)
gradients. That acts on the RNN the comparison shows, seeded or kept (a kept
one starts at its own radius); when the state's network is the RNN it is the
user's model, which the comparison never edits.

Work is small and lazy. A weight edit of the user's model reruns nothing (the
main kind's trace is the state's); the seeded networks rerun only when the
inputs, target, loss step, truncation or clipping change. A change marks the traces stale and emits `changed`; they are
recomputed right away only while a view has called ``set_active(True)``,
otherwise when first read. Every reader (`trace`, `norms`, ...) returns
current values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QObject, Signal

from .model import ModelInputError, Network, Options, Trace, WeightsError, init_params
from .model.analysis import decay_per_step, scale_recurrent, spectral_radius, state_grad_norms
from .model.paths import backward_window
from .state import AppState

#: Cell kinds in display order.
KINDS: tuple[str, ...] = ("lstm", "gru", "rnn")
KIND_NAMES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}
#: Limits of the RNN's spectral radius (the slider's range).
RADIUS_MIN, RADIUS_MAX = 0.05, 2.0


def seeded_params(kind: str, inputs: int, hidden: int, seed: int = 0):
    """The seeded weights of a ``kind`` cell, as the comparison (and the Cell menu) use
    them: `init_params`, except that a simple RNN's biases are 0, so with no input its
    h rests at 0, where its recurrent scale alone decides whether gradients vanish."""
    p = init_params(kind, inputs, hidden, seed=seed)
    if kind == "rnn":
        p = p.replace(bias_ih=np.zeros(hidden), bias_hh=np.zeros(hidden))
    return p


class ComparisonState(QObject):
    """Three cells on the state's inputs; see the module docstring.

    Signals
    -------
    changed()   the traces (may) have changed; read them with `trace` & co.
    """

    changed = Signal()

    def __init__(self, state: AppState, seed: int = 0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.seed = int(seed)
        self._active = False
        self._shape: tuple[int, int] | None = None
        self._seeded: dict[str, Network] = {}
        self._kept: dict[str, Network] = {}        # kinds that were the main cell earlier
        self._main = state.network                 # the main network as last seen
        self._scaled: tuple[Network, float, Network] | None = None   # (source, radius, scaled)
        self._rnn_radius: float | None = None      # None: as seeded
        self._traces: dict[str, Trace | None] = {}
        self._errors: dict[str, str] = {}
        # (kind, what) -> (the trace or matrix it was computed from, value): a view reads
        # each several times per edit, and only the edited kind's trace is new
        self._memo: dict[tuple[str, str], tuple[object, object]] = {}
        self._dirty = set(KINDS)
        self._reseed()
        self._seeded_key: tuple | None = self._seeded_inputs()
        state.trace_changed.connect(self._on_state)

    # ------------------------------------------------------------------ activity

    @property
    def active(self) -> bool:
        return self._active

    @property
    def stale(self) -> bool:
        """True while some trace waits to be recomputed (only ever while inactive)."""
        return bool(self._dirty)

    def set_active(self, on: bool) -> None:
        """A view is showing the comparison (True): recompute on every change."""
        on = bool(on)
        if on == self._active:
            return
        self._active = on
        if on and self._dirty:
            self._refresh()
            self.changed.emit()

    # ------------------------------------------------------------------ reading

    @property
    def main_kind(self) -> str:
        """The kind of the state's own network."""
        return self.state.network.kind

    def is_main(self, kind: str) -> bool:
        return kind == self.main_kind

    def network(self, kind: str) -> Network:
        """The network used for ``kind``: the state's own, the one kept from when it was
        the main cell, or the seeded one (see the module docstring)."""
        if kind == self.main_kind:
            return self.state.network
        self._ensure_shape()
        return self._source(kind).with_(options=self._carried_options())

    def kept(self, kind: str) -> bool:
        """True if ``kind`` (not the main cell) shows the weights it had as the main cell."""
        return kind != self.main_kind and self._kept_fits(kind)

    def _kept_fits(self, kind: str) -> bool:
        net, st = self._kept.get(kind), self.state.network
        return net is not None and (net.input_size, net.hidden_size) == (st.input_size, st.hidden_size)

    def _source(self, kind: str) -> Network:
        """The kept or seeded network of a kind that is not the main one (the RNN at the
        radius the slider set, if it did)."""
        net = self._kept[kind] if self._kept_fits(kind) else self._seeded[kind]
        if kind != "rnn" or self._rnn_radius is None:
            return net
        if self._scaled is None or self._scaled[0] is not net or self._scaled[1] != self._rnn_radius:
            try:
                scaled = net.with_(params=scale_recurrent(net.params, self._rnn_radius))
            except ValueError:      # a zero recurrent matrix: nothing to scale
                scaled = net
            self._scaled = (net, self._rnn_radius, scaled)
        return self._scaled[2]

    def trace(self, kind: str) -> Trace | None:
        """The trace of ``kind`` on the state's inputs (None if it could not run, see `error`)."""
        self._refresh()
        return self._traces.get(kind)

    def error(self, kind: str) -> str:
        """Why ``kind`` has no trace ("" if it has one)."""
        self._refresh()
        return self._errors.get(kind, "")

    def _memoized(self, kind: str, what: str, source: object, compute: Callable[[], object]):
        """``compute()``, or its value from the last call with this very ``source`` object."""
        hit = self._memo.get((kind, what))
        if hit is not None and hit[0] is source:
            return hit[1]
        value = compute()
        self._memo[(kind, what)] = (source, value)
        return value

    def norms(self, kind: str) -> np.ndarray:
        """||dL/d(state_t)|| per step (`state_grad_norms`: h_t, and C_t too for the LSTM),
        shape (T,), read-only (NaN if the trace failed)."""
        tr = self.trace(kind)
        if tr is None:
            return np.full(self.state.steps, np.nan)

        def compute():
            n = state_grad_norms(tr, self.state.options.truncate)
            n.flags.writeable = False
            return n
        return self._memoized(kind, "norms", tr, compute)

    def decay(self, kind: str) -> float:
        """Fitted factor per step back from the loss step (see `decay_per_step`)."""
        tr = self.trace(kind)
        if tr is None:
            return float("nan")
        return self._memoized(kind, "decay", tr,
                              lambda: decay_per_step(self.norms(kind), tr.loss_step))

    def dx1(self, kind: str) -> float:
        """||dL/dx_1||: how much gradient reaches the first input."""
        tr = self.trace(kind)
        if tr is None:
            return float("nan")
        with np.errstate(over="ignore", invalid="ignore"):
            return float(np.linalg.norm(tr.dL_dx[0]))

    def rnn_slope(self) -> float:
        """The mean slope of tanh, 1 - h_t^2, over the RNN's units and the steps its gradient
        is carried back through (those after the first step reached, up to the loss step):
        each step back multiplies the gradient by W_hh^T and by this slope (NaN if none)."""
        tr = self.trace("rnn")
        if tr is None:
            return float("nan")

        def compute():
            first = backward_window(tr.loss_step, self.state.options)[0]
            h = tr.h[first + 1: tr.loss_step + 1]
            with np.errstate(over="ignore", invalid="ignore"):
                return float(np.mean(1.0 - h * h)) if h.size else float("nan")
        return self._memoized("rnn", "slope", tr, compute)

    @property
    def rnn_radius(self) -> float:
        """Spectral radius of the RNN's W_hh used in the comparison."""
        w = self.network("rnn").params.weight_hh
        return self._memoized("rnn", "radius", w, lambda: spectral_radius(w))

    @property
    def rnn_adjustable(self) -> bool:
        """False when the RNN is the user's own model (the comparison does not edit it)."""
        return self.main_kind != "rnn"

    # ------------------------------------------------------------------ edits

    def set_rnn_radius(self, rho: float) -> None:
        """Rescale the shown RNN's W_hh to spectral radius ``rho`` (clamped to the slider range).

        Acts on the RNN the comparison shows, seeded or kept (`kept`); does nothing when
        the state's own network is the RNN.
        """
        rho = float(rho)
        if not np.isfinite(rho):
            raise ValueError("the spectral radius must be a finite number")
        rho = min(max(rho, RADIUS_MIN), RADIUS_MAX)
        if rho == self._rnn_radius:
            return
        self._rnn_radius = rho
        self._ensure_shape()
        if self.main_kind != "rnn":
            self._mark({"rnn"})

    # ------------------------------------------------------------------ internals

    def _carried_options(self) -> Options:
        o = self.state.options
        # the option, not the step it gives now: "the last step" (None) stays the last step
        # of a sequence typed later, also in a seeded cell made the main one
        return Options(loss_step=o.loss_step, truncate=o.truncate, clip_norm=o.clip_norm)

    def _reseed(self) -> None:
        D, H = self.state.network.input_size, self.state.network.hidden_size
        self._shape = (D, H)
        self._seeded = {k: Network(seeded_params(k, D, H, seed=self.seed)) for k in KINDS}

    def _ensure_shape(self) -> None:
        net = self.state.network
        if self._shape != (net.input_size, net.hidden_size):
            self._reseed()
            self._dirty |= set(KINDS)

    def _seeded_inputs(self) -> tuple:
        """Everything of the state a seeded network's trace depends on.

        Arrays are compared by identity: the state replaces (never mutates) its
        read-only inputs and target when they change.
        """
        st = self.state
        return (st.inputs, st.target, st.labels, self._carried_options(), self.main_kind)

    def _on_state(self) -> None:
        # A weight edit of the user's model changes only the main kind's trace: the
        # seeded networks are rerun only when their inputs, target or options change.
        net = self.state.network
        if net.kind != self._main.kind:            # the main cell changed kind: keep the old
            self._kept[self._main.kind] = self._main.with_(options=Options())
            self._dirty.add(self._main.kind)
            if self._main.kind == "rnn":            # shown at its own radius, as it was left
                self._rnn_radius = None
        self._main = net
        key = self._seeded_inputs()
        old = self._seeded_key
        same = (old is not None and all(a is b for a, b in zip(key[:3], old[:3]))
                and key[3:] == old[3:])
        self._seeded_key = key
        self._mark({self.main_kind} if same else set(KINDS))

    def _mark(self, kinds: set[str]) -> None:
        self._dirty |= kinds
        if self._active:
            self._refresh()
        self.changed.emit()

    def _refresh(self) -> None:
        """Recompute the stale traces (the main kind is the state's trace itself)."""
        if not self._dirty:
            return
        self._ensure_shape()
        st = self.state
        for kind in list(self._dirty):
            self._errors.pop(kind, None)
            if kind == self.main_kind:
                self._traces[kind] = st.trace
                continue
            try:
                with np.errstate(over="ignore", invalid="ignore"):
                    tr = self.network(kind).trace(st.inputs, target=st.target)
                self._traces[kind] = replace(tr, labels=st.labels)
            except (ModelInputError, WeightsError) as e:
                self._traces[kind] = None
                self._errors[kind] = str(e)
        self._dirty.clear()


__all__ = ["KINDS", "KIND_NAMES", "RADIUS_MAX", "RADIUS_MIN", "ComparisonState", "seeded_params"]
