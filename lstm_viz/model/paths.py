"""Which way the gradient travelled: the total dL/dc_t (LSTM) or dL/dh_t split by path.

LSTM. The cell state c_t reaches the loss two ways: along the cell-state
highway into ``c_{t+1} = f_{t+1} * c_t + ...``, and through ``h_t = o_t * tanh(c_t)``
(from there into the loss itself, if t is the loss step, and into every gate of
later steps through W_hh). Backpropagation adds the two::

    dL/dc_t =  dL/dc_{t+1} * f_{t+1}                    along the cell state (through f)
            +  dL/dh_t * o_t * (1 - tanh(c_t)^2)        through h (gates, W_hh and the loss)

GRU. There is no cell state; h_t reaches the loss directly through the update
gate's copy ``h_{t+1} = ... + z_{t+1} * h_t`` and through everything else (the
gates and the candidate via W_hh, and the loss itself)::

    dL/dh_t =  dL/dh_{t+1} * z_{t+1}                     along the state (through z)
            +  sum_gates W_hh^T dL/d(W_hh h_t + b_hh)_{t+1}  (+ the loss's own dL/dh_s at step s)

Simple RNN: everything goes through W_hh; the "along" part is zero.

Both parts follow exactly what the engine did (clamped gates, a ReLU forget
gate, truncation): a path that truncated backpropagation cuts is zero, and the
two parts add up to the engine's ``trace.dL_dc`` (``trace.dL_dh``).
NumPy only; every step is computed at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .analysis import carried_back, step_norms
from .cells import Network, Options, _stop_step, loss_at
from .trace import Trace
from .weights import GATES

#: What the two parts are called, per cell kind: (along, through).
PATH_NAMES = {
    "lstm": ("along the cell state (through f)", "through h (gates and W_hh)"),
    "gru": ("along the state (through z)", "through the gates and W_hh"),
    "rnn": ("along the state (none in a simple RNN)", "through W_hh"),
}


@dataclass(frozen=True, eq=False)
class GradientPaths:
    """The two parts of each step's state gradient.

    Attributes
    ----------
    kind : {"lstm", "gru", "rnn"}
    state : {"c", "h"}
        Which gradient is split: dL/dc_t for an LSTM, dL/dh_t otherwise.
    total : ndarray, shape (T, H)
        The engine's ``dL_dc`` (LSTM) or ``dL_dh``.
    along : ndarray, shape (T, H)
        The part that arrived from step t+1 along the state: ``dL/dc_{t+1} * f_{t+1}``
        (LSTM), ``dL/dh_{t+1} * z_{t+1}`` (GRU), zero (RNN).
    through : ndarray, shape (T, H)
        The rest: through h_t (LSTM) or through the gates and W_hh (GRU, RNN),
        including the loss term at the loss step.
    along_norm, through_norm, total_norm : ndarray, shape (T,)
        The 2-norm over units of each part, per step.
    loss_step : int
        The step s of the loss (0-based).
    first_step : int
        The earliest step the backward pass reached (0 unless truncated).
    names : tuple of str
        Readable names of (along, through).
    """

    kind: str
    state: str
    total: np.ndarray
    along: np.ndarray
    through: np.ndarray
    along_norm: np.ndarray
    through_norm: np.ndarray
    total_norm: np.ndarray
    loss_step: int
    first_step: int
    names: tuple[str, str]

    def __post_init__(self) -> None:
        for name in ("total", "along", "through", "along_norm", "through_norm", "total_norm"):
            getattr(self, name).flags.writeable = False


def backward_window(loss_step: int, options: Options | None = None) -> tuple[int, int]:
    """(first, last): the steps the backward pass reaches, inclusive (last = the loss step).

    Steps after the loss step get no gradient (they do not affect the loss);
    steps before ``first`` get none because truncation cut them off.
    """
    return _stop_step(options or Options(), int(loss_step)), int(loss_step)


def gradient_paths(trace: Trace, network: Network | Options | None = None) -> GradientPaths:
    """Split the trace's state gradient by path (see the module docstring).

    Parameters
    ----------
    trace : Trace
        A trace the engine computed.
    network : Network or Options, optional
        What produced the trace: its ``options.truncate`` tells where the
        backward pass stopped, and (GRU) its ``weight_hh`` recomputes the part
        through W_hh independently. An LSTM or RNN needs only the options;
        None means default options (no truncation).

    Returns
    -------
    GradientPaths

    A trace whose states overflowed (possible with a ReLU forget gate) has
    inf and NaN gradients; the parts then hold inf and NaN too, without warnings.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return _paths(trace, network)


def _paths(trace: Trace, network: Network | Options | None) -> GradientPaths:
    params = network.params if isinstance(network, Network) else None
    opt = network.options if isinstance(network, Network) else (network or Options())
    T, H = trace.h.shape
    s = trace.loss_step
    stop = _stop_step(opt, s)
    # Steps t whose state received something from step t+1: stop <= t < s.
    rec = np.zeros(T, dtype=bool)
    rec[stop:s] = True
    along = np.zeros((T, H))
    through = np.zeros((T, H))

    if trace.kind == "lstm":
        total = trace.dL_dc
        f, o, c = trace.gates["f"], trace.gates["o"], trace.c
        tc = np.tanh(c)
        k = o * (1.0 - tc * tc)                             # dh_t -> dc_t, as the engine has it
        through[stop:s + 1] = trace.dL_dh[stop:s + 1] * k[stop:s + 1]
        along = carried_back(total, f, s, stop)              # dL/dc_{t+1} * f_{t+1}
        state = "c"
    elif trace.kind == "gru":
        total = trace.dL_dh
        z = trace.gates["z"]
        along = carried_back(total, z, s, stop)              # dL/dh_{t+1} * z_{t+1}
        if params is None:
            # Without W_hh the rest is what remains (the engine adds exactly these two).
            through[stop:s + 1] = total[stop:s + 1] - along[stop:s + 1]
        else:
            # dL/d(W_hh h_{t} + b_hh) at step t+1: the r and z blocks equal the
            # pre-activation gradients; the candidate's is scaled by r (n = tanh(.. + r * hn)).
            dpre = trace.dL_dpre
            db = dpre.copy()
            names = GATES["gru"]
            kn = names.index("n")
            db[:, kn * H:(kn + 1) * H] *= trace.gates["r"]
            back = db @ params.weight_hh                     # row t: into h_{t-1}
            through[rec] = back[1:][rec[:-1]]
            # the loss itself: dL/dh_s = h_s - y, or W_r^T (p - e_k) for the readout loss
            through[s] += loss_at(params, trace.h[s], trace.target, opt).dh
        state = "h"
    else:
        total = trace.dL_dh
        through[stop:s + 1] = total[stop:s + 1]
        state = "h"

    return GradientPaths(
        kind=trace.kind,
        state=state,
        total=total,
        along=along,
        through=through,
        along_norm=step_norms(along),
        through_norm=step_norms(through),
        total_norm=step_norms(np.asarray(total)),
        loss_step=s,
        first_step=stop,
        names=PATH_NAMES[trace.kind],
    )


__all__ = ["PATH_NAMES", "GradientPaths", "backward_window", "gradient_paths"]
