"""Check the engine's exact gradients against central finite differences.

For a random sample of parameter entries (and a few input entries) the loss is
evaluated with the entry nudged up and down by ``eps``; the slope
``(L(+eps) - L(-eps)) / (2 eps)`` is compared with the gradient the backward
pass reported. In float64 with ``eps = 1e-6`` the difference quotient is
accurate to about 1e-9 relative for gradients that are not tiny; a wrong
backward term shows up as an error of order one.

Relative error: ``|a - b| / max(|a|, |b|, floor)``. The difference quotient
carries a round-off of about ``1e-16 * L / eps``, i.e. ~1e-11 for a loss near one,
so gradients much smaller than ``FLOOR = 1e-6`` are compared in absolute terms
(a gradient of 1e-9, common where gates saturate, would otherwise show a
"relative error" of 1e-2 that is only round-off).

Truncated backpropagation and gradient clipping change the reported gradient
on purpose, so it is no longer the derivative of the loss; the check switches
them off (and says so in `GradCheck.note`). Clamps and the ReLU forget gate are
part of the function and stay.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .cells import ModelInputError, Network

#: Step of the central differences.
EPS = 1e-6
#: Smallest denominator of the relative error (see the module docstring).
FLOOR = 1e-6
#: Relative error below which a gradient counts as correct.
TOLERANCE = 1e-4
#: Parameter tensors sampled, PyTorch names.
TENSORS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
#: Sampled too when the loss is the readout's cross-entropy.
READOUT_TENSORS = ("readout.weight", "readout.bias")


@dataclass(frozen=True)
class GradEntry:
    """One compared entry: ``name`` is a parameter tensor or ``"x"`` (the input)."""

    name: str
    index: tuple[int, ...]
    exact: float
    numeric: float
    rel_error: float


@dataclass(frozen=True)
class GradCheck:
    """The result of `check_gradients`.

    Attributes
    ----------
    entries : tuple of GradEntry
    max_rel_error : float
    eps : float
    note : str
        What the check changed, if anything ("" if nothing).
    """

    entries: tuple[GradEntry, ...]
    max_rel_error: float
    eps: float = EPS
    note: str = ""

    @property
    def ok(self) -> bool:
        """True if every entry agrees within `TOLERANCE`."""
        return bool(self.max_rel_error <= TOLERANCE)


def rel_error(a: float, b: float, floor: float = FLOOR) -> float:
    """``|a - b| / max(|a|, |b|, floor)``."""
    return float(abs(a - b) / max(abs(a), abs(b), floor))


def check_gradients(network: Network, x: np.ndarray, target: np.ndarray | None,
                    n: int = 20, seed: int = 0, n_inputs: int = 4,
                    eps: float = EPS) -> GradCheck:
    """Compare exact gradients with central differences on a random sample.

    Parameters
    ----------
    network : Network
    x : ndarray, shape (T, D)
    target : ndarray, shape (H,) or None (zeros)
    n : int
        Parameter entries sampled (without replacement, over all four tensors,
        and the readout's two when the loss is the readout's cross-entropy).
    seed : int
        Seed of the sample, so a check can be repeated.
    n_inputs : int
        Input entries x[t, d] sampled.
    eps : float
        Step of the central differences.

    Returns
    -------
    GradCheck
        One entry per sampled value, parameters first, and the largest relative error.

    Raises
    ------
    ModelInputError
        If the network cannot run on ``x`` (from the engine), or its loss or
        gradients are not finite (an overflowed experiment).
    """
    notes = []
    opt = network.options
    if opt.truncate is not None:
        notes.append("truncation")
    if opt.clip_norm is not None:
        notes.append("clipping")
    if notes:
        network = network.with_(options=replace(opt, truncate=None, clip_norm=None))
    x = np.array(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    trace = network.trace(x, target)
    if not (np.isfinite(trace.loss) and np.all(np.isfinite(trace.dL_dx))
            and all(np.all(np.isfinite(g)) for g in trace.grads.values())):
        raise ModelInputError("the loss or its gradients are not finite numbers (the states "
                              "overflowed), so there is nothing to compare")
    p = network.params
    rng = np.random.default_rng(seed)

    def loss(net: Network, xx: np.ndarray) -> float:
        return net.trace(xx, target, lazy=True).loss     # the forward pass is enough

    entries: list[GradEntry] = []
    tensors = TENSORS + (READOUT_TENSORS if network.options.loss_class is not None else ())
    sizes = [p.tensor(name).size for name in tensors]
    total = int(sum(sizes))
    picks = np.sort(rng.choice(total, size=min(int(n), total), replace=False))
    offsets = np.cumsum([0, *sizes])
    for flat in picks:
        k = int(np.searchsorted(offsets, flat, side="right") - 1)
        name = tensors[k]
        arr = p.tensor(name)
        idx = tuple(int(i) for i in np.unravel_index(int(flat - offsets[k]), arr.shape))
        v = float(arr[idx])
        up = loss(network.with_(params=p.with_value(name, idx, v + eps)), x)
        down = loss(network.with_(params=p.with_value(name, idx, v - eps)), x)
        num = (up - down) / (2.0 * eps)
        exact = float(trace.grads[name][idx])
        entries.append(GradEntry(name, idx, exact, num, rel_error(exact, num)))

    m = min(int(n_inputs), x.size)
    for flat in np.sort(rng.choice(x.size, size=m, replace=False)) if m > 0 else ():
        idx = tuple(int(i) for i in np.unravel_index(int(flat), x.shape))
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        num = (loss(network, xp) - loss(network, xm)) / (2.0 * eps)
        exact = float(trace.dL_dx[idx])
        entries.append(GradEntry("x", idx, exact, num, rel_error(exact, num)))

    worst = max((e.rel_error for e in entries), default=0.0)
    note = ""
    if notes:
        it = "they change" if len(notes) > 1 else "it changes"
        note = (" and ".join(notes).capitalize()
                + f" switched off for the check: {it} the gradient on purpose.")
    return GradCheck(tuple(entries), float(worst), float(eps), note)


__all__ = ["EPS", "FLOOR", "READOUT_TENSORS", "TOLERANCE", "GradCheck", "GradEntry",
           "check_gradients", "rel_error"]
