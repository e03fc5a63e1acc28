"""How gradients fade (or grow) going back in time: small NumPy helpers for the views.

Everything here reads a `Trace` or a weight matrix and returns plain numbers.

* `grad_norms` — ``||dL/dh_t||`` for every step t.
* `state_grad_norms` — the gradient of the whole recurrent state at every step: h_t for
  a GRU or a simple RNN, (h_t, C_t) for an LSTM (the quantity the comparison plots).
* `carried_back` — the part of a state's gradient that crosses a step along the cell's
  additive path (f * dL/dC for the LSTM, z * dL/dh for the GRU; `paths` builds on it).
* `decay_per_step` — the geometric factor r that best fits ``||dL/dh_t|| ~ A r^(s - t)``
  going back from the loss step s. It is a *factor*, not a rate: r = 0.71 means the
  gradient is 0.71 times as large one step further back, i.e. it shrinks by 29 % per
  step; r = 1.2 means it grows by 20 % per step.
* `spectral_radius`, `scale_recurrent` — the largest |eigenvalue| of a recurrent
  matrix, and a copy of a simple RNN's weights rescaled to a chosen radius. For a
  tanh RNN near h = 0 the gradient goes back through ``W_hh^T`` once per step, so a
  radius below 1 makes it vanish and above 1 lets it explode.
"""

from __future__ import annotations

import numpy as np

from .cells import Options, _stop_step
from .trace import Trace
from .weights import Params


def step_norms(a: np.ndarray) -> np.ndarray:
    """The 2-norm of each row of ``a`` (T, N), shape (T,); inf or NaN rows give inf or NaN."""
    a = np.asarray(a, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.sqrt(np.einsum("tn,tn->t", a, a))


def unit_magnitude(a: np.ndarray, unit: int) -> np.ndarray:
    """``|a[:, unit]|`` for one unit, or the norm over all units (`step_norms`) for -1."""
    return np.abs(a[:, unit]) if unit >= 0 else step_norms(a)


def grad_norms(trace: Trace) -> np.ndarray:
    """``||dL/dh_t||_2`` for every step, shape (T,).

    Steps after the loss step (and before a truncation window) are 0. Infinite or
    NaN gradients give inf or NaN.
    """
    return step_norms(trace.dL_dh)


def carried_back(total: np.ndarray, keep: np.ndarray, loss_step: int,
                 first: int = 0) -> np.ndarray:
    """``keep_{t+1} * total_{t+1}`` at the steps ``first <= t < loss_step`` (0 elsewhere),
    shape of ``total``: the part of a state's gradient that crosses from step t+1 back to
    step t along the cell's additive path, with no weights on the way (the LSTM's
    ``f * dL/dC``, the GRU's ``z * dL/dh``). ``first`` is where a truncated backward pass
    stops. Infinite or NaN gradients stay inf or NaN, without warnings."""
    out = np.zeros_like(total)
    s = loss_step
    with np.errstate(over="ignore", invalid="ignore"):
        out[first:s] = keep[first + 1:s + 1] * total[first + 1:s + 1]
    return out


def state_grad_norms(trace: Trace, truncate: int | None = None) -> np.ndarray:
    """``||dL/d(state_t)||`` for every step, shape (T,): the gradient reaching everything
    the cell carries to the next step.

    For a GRU or a simple RNN the state is h_t, so this is `grad_norms`. An LSTM
    carries (h_t, C_t): its norm is ``sqrt(||dL/dh_t||^2 + ||g_t||^2)`` where
    ``g_t = f_{t+1} * dL/dC_{t+1}`` (`carried_back`) is the gradient of C_t *as
    carried*, with h_t held (the trace's ``dL_dc`` also holds the path through
    ``h_t = o_t tanh(C_t)``, which ``dL/dh_t`` already counts). The two parts can tell
    very different stories: with its forget gate held open an LSTM carries the gradient
    back along C_t unchanged while dL/dh_t is all but 0 (nothing in W_hh uses h_t), so
    ``||dL/dh_t||`` alone would say the gradient vanished.

    ``truncate`` is the network's truncated-BPTT window (None: none): steps the
    backward pass did not reach get 0. Infinite or NaN gradients give inf or NaN.
    """
    h = grad_norms(trace)
    if trace.dL_dc is None:
        return h
    s = trace.loss_step
    first = _stop_step(Options(truncate=truncate), s)
    carried = carried_back(trace.dL_dc, trace.gates["f"], s, first)
    return np.hypot(h, step_norms(carried))     # no overflow from squaring large norms


def decay_per_step(norms: np.ndarray, loss_step: int) -> float:
    """Geometric factor per step back from the loss step, fitted by least squares.

    Fits ``log ||g_t|| = a + (s - t) log r`` over the steps ``t < s`` whose norm is
    finite and nonzero (``s = loss_step``), and returns ``r``. So ``0.71`` means
    the gradient shrinks 29 % per step back, ``1.2`` that it grows 20 % per step.

    Parameters
    ----------
    norms : array, shape (T,)
        ``||dL/dh_t||`` per step (see `grad_norms`).
    loss_step : int
        0-based step of the loss.

    Returns
    -------
    float
        The factor r, or NaN with fewer than two usable steps.
    """
    n = np.asarray(norms, dtype=np.float64).reshape(-1)
    s = int(loss_step)
    t = np.arange(min(max(s, 0), n.size))
    v = n[t]
    ok = np.isfinite(v) & (v > 0.0)
    if np.count_nonzero(ok) < 2:
        return float("nan")
    dist = (s - t[ok]).astype(np.float64)
    logv = np.log(v[ok])
    dm = dist - dist.mean()
    slope = float(np.dot(dm, logv - logv.mean()) / np.dot(dm, dm))
    with np.errstate(over="ignore"):
        return float(np.exp(slope))


def spectral_radius(w: np.ndarray) -> float:
    """Largest absolute eigenvalue of a square matrix ``w``."""
    w = np.asarray(w, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ValueError(f"the spectral radius needs a square matrix, got shape {w.shape}")
    if w.size == 0:
        return 0.0
    return float(np.max(np.abs(np.linalg.eigvals(w))))


def scale_recurrent(params: Params, rho: float) -> Params:
    """A copy of a simple RNN's params whose ``weight_hh`` has spectral radius ``rho``.

    ``weight_hh`` is multiplied by ``rho / spectral_radius(weight_hh)``; nothing
    else changes. Raises ValueError for a gated cell (its ``weight_hh`` stacks
    several gate blocks and is not square), a negative or non-finite ``rho``, or a
    recurrent matrix whose radius is 0 (it cannot be scaled to a nonzero radius).
    """
    if params.kind != "rnn":
        raise ValueError("only a simple RNN's recurrent matrix has one spectral radius")
    rho = float(rho)
    if not (np.isfinite(rho) and rho >= 0.0):
        raise ValueError("the spectral radius must be a finite number >= 0")
    r = spectral_radius(params.weight_hh)
    if r == 0.0:
        if rho == 0.0:
            return params
        raise ValueError("the recurrent matrix has spectral radius 0 and cannot be rescaled")
    return params.replace(weight_hh=params.weight_hh * (rho / r))


__all__ = ["carried_back", "decay_per_step", "grad_norms", "scale_recurrent", "spectral_radius",
           "state_grad_norms"]
