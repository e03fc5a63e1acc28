"""Check the engine's exact gradients against central finite differences.

For a random sample of parameter entries, a few input entries and a few entries
of the state gradients the Gradients tab plots (dL/dh_t, and dL/dC_t for the
LSTM), the loss is evaluated with the entry nudged up and down by ``eps``; the
slope ``(L(+eps) - L(-eps)) / (2 eps)`` is compared with the gradient the
backward pass reported. In float64 with ``eps = 1e-6`` the difference quotient is
accurate to about 1e-9 relative for gradients that are not tiny; a wrong
backward term shows up as an error of order one.

Relative error: ``|a - b| / max(|a|, |b|, floor)`` with ``floor = FLOOR *
max(1, |L|)``. The difference quotient carries the rounding of the two loss
values divided by ``2 eps``: the loss's last bit (~1e-16 |L|) plus what the
forward pass's own rounding adds to it, measured at up to ~1e-10 max(1, |L|)
for eps = 1e-6 (T = 60, H = 8, losses from 0.1 to 40). Gradients below the floor
are therefore compared in absolute terms: they agree when they differ by less
than ``TOLERANCE * floor = 1e-9 max(1, |L|)``, a margin of about ten over that
rounding. (A gradient of 1e-9, common where gates saturate or far before the loss
step, would otherwise show a "relative error" near one that is only rounding.)

Truncated backpropagation and gradient clipping change the reported gradient
on purpose, so it is no longer the derivative of the loss; the check switches
them off (and says so in `GradCheck.note`). Clamps and the ReLU forget gate are
part of the function and stay.

State gradients. ``trace.dL_dh[t]`` and ``trace.dL_dc[t]`` are total derivatives
of L with respect to the state after step t, through every later step. A state
is not an input of `Network.trace`, so its nudge is made by hand: the state
after step t is taken from the trace, nudged, and the rest of the sequence,
steps t+1 .. s (s the loss step), runs from it as initial state (``h0``, ``c0``)
on ``x[t+1 : s+1]`` with the same parameters, target and loss; a clamp "from
step k" becomes "from step k - (t+1)" there. At t = s the loss is taken from the
nudged state directly. Which state is held fixed follows the engine's backward
pass (``cells.lstm_trace``: ``dL/dc_t = o_t tanh'(c_t) dL/dh_t + f_{t+1}
dL/dc_{t+1}``):

- dL/dh_t: h_t is nudged, c_t is kept. c_t reaches h_t only at the same step,
  so this is the derivative the backward pass reports.
- dL/dC_t counts the path through h_t = o_t tanh(c_t) at the same step, so
  nudging C_t recomputes h_t from it (o_t kept: it does not depend on c_t)
  before the rest runs on.

Steps too wide for a sharply curved loss. Where an experiment makes the loss
curve sharply (a ReLU forget gate above 1 multiplies a nudge by itself at every
step), ``eps`` can be far outside the range where the loss is linear: the exact
gradient is right and the difference quotient is not its slope. An entry that
disagrees is therefore measured again with steps ``eps/10``, ``eps/100`` and
``eps/1000`` (`RETRIES`). Rounding in the quotient grows as ``1/step``, so the
floor grows with it: at ``eps/1000`` it is a thousand times larger. If one of
them agrees, the entry agrees, at that step (``GradEntry.eps``). If none does,
the last two quotients tell the rest: when they agree with each other within
`SETTLED` the quotient has settled on a slope that is not the exact gradient
(a real disagreement); when they do not, the quotient is still moving as its
step shrinks, and the entry is ``settled = False``: neither confirmed nor
refuted. A wrong backward term gives a settled difference, so it cannot hide
as an unsettled one unless the loss is sharply curved at that very entry.

The steps are spread from the loss step back to the first step, geometrically
in their distance from the loss step (`state_steps`): gradients usually fade
about geometrically going back, so this samples where they are large and the
far end alike. The unit at each step is drawn at random.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace

import numpy as np

from .cells import ModelInputError, Network, Options, loss_at
from .trace import Trace

#: Step of the central differences.
EPS = 1e-6
#: A ReLU forget gate's input closer to 0 than this may be pushed across the kink by a
#: nudge of ``EPS`` (carried through the weights and steps), so the check says so.
KINK_MARGIN = 1e-4
#: Smallest denominator of the relative error per unit of loss (see the module docstring).
FLOOR = 1e-5
#: Relative error below which a gradient counts as correct.
TOLERANCE = 1e-4
#: Smaller steps tried, each a tenth of the last, for an entry that disagrees at ``EPS``.
RETRIES = 3
#: Relative difference between the last two quotients below which they have settled.
SETTLED = 1e-2
#: Parameter tensors sampled, PyTorch names.
TENSORS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
#: Sampled too when the loss is the readout's cross-entropy.
READOUT_TENSORS = ("readout.weight", "readout.bias")
#: Steps at which the state gradients are sampled (one unit each, for h and for C).
STATE_STEPS = 5
#: Entry names of the input and of the state gradients (the rest are parameter tensors).
INPUT = "x"
STATES = ("h", "c")


@dataclass(frozen=True)
class GradEntry:
    """One compared entry.

    ``name`` is a parameter tensor (PyTorch name, ``index`` into it), ``"x"`` (the
    input, ``index = (t, d)``), ``"h"`` or ``"c"`` (the state gradients dL/dh_t and
    dL/dC_t, ``index = (t, unit)``). Indices are 0-based. ``eps`` is the step of the
    difference shown (smaller than the check's when that one disagreed and a smaller
    one agrees); ``settled`` is False when no step agreed and the quotient kept changing
    as the step shrank (see the module docstring), so ``rel_error`` measures nothing.
    """

    name: str
    index: tuple[int, ...]
    exact: float
    numeric: float
    rel_error: float
    eps: float = EPS
    settled: bool = True


@dataclass(frozen=True)
class GradCheck:
    """The result of `check_gradients`.

    Attributes
    ----------
    entries : tuple of GradEntry
    max_rel_error : float
        Over the settled entries.
    eps : float
    note : str
        What the check changed, if anything ("" if nothing).
    floor : float
        The relative error's smallest denominator, ``FLOOR * max(1, |L|)``.
    """

    entries: tuple[GradEntry, ...]
    max_rel_error: float
    eps: float = EPS
    note: str = ""
    floor: float = FLOOR

    @property
    def ok(self) -> bool:
        """True if every entry agrees within `TOLERANCE` (none unsettled)."""
        return not self.disagreeing and not self.unsettled

    @property
    def disagreeing(self) -> tuple[GradEntry, ...]:
        """Entries whose difference settled on another value than the exact gradient."""
        return tuple(e for e in self.entries if e.settled and e.rel_error > TOLERANCE)

    @property
    def unsettled(self) -> tuple[GradEntry, ...]:
        """Entries no difference could measure (see the module docstring)."""
        return tuple(e for e in self.entries if not e.settled)

    @property
    def smaller_steps(self) -> tuple[GradEntry, ...]:
        """Entries that agreed only at a step smaller than the check's."""
        return tuple(e for e in self.entries if e.settled and e.eps < self.eps)


def rel_error(a: float, b: float, floor: float = FLOOR) -> float:
    """``|a - b| / max(|a|, |b|, floor)``."""
    return float(abs(a - b) / max(abs(a), abs(b), floor))


def _compare(name: str, index: tuple[int, ...], exact: float, slope, eps: float,
             floor: float) -> GradEntry:
    """The entry for ``exact`` against ``slope(step)``, a central difference: at ``eps``,
    then, while it disagrees, at up to `RETRIES` smaller steps (see the module docstring)."""
    num = slope(eps)
    err = rel_error(exact, num, floor)
    if err <= TOLERANCE:
        return GradEntry(name, index, exact, num, err, eps)
    last, step = num, eps
    for _ in range(RETRIES):
        step /= 10.0
        fl = floor * eps / step                  # the quotient's rounding grows as 1 / step
        now = slope(step)
        e = rel_error(exact, now, fl)
        if e <= TOLERANCE:
            return GradEntry(name, index, exact, now, e, step)
        prev, last = last, now
    settled = rel_error(prev, last, floor * eps / step) <= SETTLED
    return GradEntry(name, index, exact, num, err, eps, settled)


def state_steps(s: int, n: int = STATE_STEPS) -> list[int]:
    """Up to ``n`` steps from 0 to the loss step ``s``, ascending, where the state
    gradients are sampled.

    The loss step is one, and the others lie at distances from it spaced
    geometrically from 1 to ``s``, so step 0 is always among them (when n > 1).
    Every step when ``n > s``; otherwise rounding may give fewer than ``n``
    (no step twice).
    """
    if n <= 0:
        return []
    if n > s:
        return list(range(s + 1))
    far = np.geomspace(s, 1, n - 1) if s > 0 else np.zeros(0)
    dist = np.unique(np.concatenate(([0], np.rint(far).astype(int))))
    return sorted(int(s - d) for d in dist)


def _after(opt: Options, k: int) -> Options:
    """``opt`` for a run that starts at step ``k`` of the sequence and ends on the loss step:
    every clamp's start shifted by ``-k`` (a step before 0 is 0), the loss on the last step."""
    clamps = tuple(replace(cl, start=max(0, cl.start - k)) for cl in opt.clamps)
    return replace(opt, clamps=clamps, loss_step=None)


def _state_entries(network: Network, trace: Trace, target: np.ndarray | None,
                   rng: np.random.Generator, n_steps: int, eps: float,
                   floor: float) -> Iterator[GradEntry]:
    """dL/dh_t (and dL/dC_t) at `state_steps`, one random unit each, against central
    differences of the loss in the state after step t (see the module docstring): the
    dL/dh entries by step, then the dL/dC ones, one at a time."""
    s, H = trace.loss_step, network.hidden_size
    p, y = network.params, trace.target
    lstm = trace.c is not None

    def rest(t: int, h: np.ndarray, c: np.ndarray | None) -> float:
        """L when the state after step t is (h, c): steps t+1 .. s run on from it."""
        if t == s:
            return loss_at(p, h, y, network.options).value
        net = network.with_(h0=h, c0=c, options=_after(network.options, t + 1))
        return net.trace(trace.x[t + 1: s + 1], target, lazy=True).loss

    # the units first, in the order the draws were always made (h's, then C's, by step)
    picks = []
    for t in state_steps(s, n_steps):
        picks.append((t, int(rng.integers(H)), int(rng.integers(H)) if lstm else -1))

    for t, u, _ in picks:
        h, c = trace.h[t].copy(), (trace.c[t].copy() if lstm else None)

        def h_slope(e, t=t, u=u, h=h, c=c):
            up, down = h.copy(), h.copy()
            up[u] += e
            down[u] -= e                          # h_t nudged, c_t kept
            return (rest(t, up, c) - rest(t, down, c)) / (2.0 * e)

        yield _compare("h", (t, u), float(trace.dL_dh[t, u]), h_slope, eps, floor)
    if not lstm:
        return
    for t, _, u in picks:
        c, o = trace.c[t].copy(), trace.gates["o"][t]

        def c_slope(e, t=t, u=u, c=c, o=o):
            up, down = c.copy(), c.copy()
            up[u] += e
            down[u] -= e                          # c_t nudged, h_t = o_t tanh(c_t) follows
            return (rest(t, o * np.tanh(up), up) - rest(t, o * np.tanh(down), down)) / (2.0 * e)

        yield _compare("c", (t, u), float(trace.dL_dc[t, u]), c_slope, eps, floor)


def check_gradients(network: Network, x: np.ndarray, target: np.ndarray | None,
                    n: int = 20, seed: int = 0, n_inputs: int = 4,
                    n_states: int = STATE_STEPS, eps: float = EPS) -> GradCheck:
    """Compare exact gradients with central differences on a random sample.

    `iter_check` with the same arguments does the same work an entry at a time.

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
    n_states : int
        Steps at which the state gradients are sampled (`state_steps`): at each,
        one random unit of dL/dh_t and, for the LSTM, one of dL/dC_t.
    eps : float
        Step of the central differences.

    Returns
    -------
    GradCheck
        One entry per sampled value (parameters, then inputs ``"x"``, then the state
        gradients ``"h"`` and ``"c"``, each by step) and the largest relative error.

    Raises
    ------
    ModelInputError
        If the network cannot run on ``x`` (from the engine), or its loss or
        gradients are not finite (an overflowed experiment).
    """
    run = iter_check(network, x, target, n, seed, n_inputs, n_states, eps)
    while True:
        try:
            next(run)
        except StopIteration as done:
            return done.value


def iter_check(network: Network, x: np.ndarray, target: np.ndarray | None,
               n: int = 20, seed: int = 0, n_inputs: int = 4,
               n_states: int = STATE_STEPS, eps: float = EPS) -> Generator[tuple[int, int], None, GradCheck]:
    """`check_gradients` an entry at a time, for a window that stays responsive while a
    long sequence is checked: yields ``(entries done, entries in all)`` after each
    entry and returns the `GradCheck` (``StopIteration.value``). Raises like
    `check_gradients`, at the first ``next``."""
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
    states = (trace.dL_dh,) if trace.dL_dc is None else (trace.dL_dh, trace.dL_dc)
    if not (np.isfinite(trace.loss) and all(np.all(np.isfinite(g)) for g in states)
            and np.all(np.isfinite(trace.dL_dx))
            and all(np.all(np.isfinite(g)) for g in trace.grads.values())):
        raise ModelInputError("the loss or its gradients are not finite numbers (they "
                              "overflowed), so there is nothing to compare")
    p = network.params
    rng = np.random.default_rng(seed)
    floor = FLOOR * max(1.0, abs(trace.loss))

    def loss(net: Network, xx: np.ndarray) -> float:
        return net.trace(xx, target, lazy=True).loss     # the forward pass is enough

    entries: list[GradEntry] = []
    tensors = TENSORS + (READOUT_TENSORS if network.options.loss_class is not None else ())
    sizes = [p.tensor(name).size for name in tensors]
    total = int(sum(sizes))
    picks = np.sort(rng.choice(total, size=min(int(n), total), replace=False))
    offsets = np.cumsum([0, *sizes])
    m = min(int(n_inputs), x.size)
    n_all = (len(picks) + max(m, 0)
             + len(state_steps(trace.loss_step, int(n_states))) * (1 if trace.c is None else 2))
    for flat in picks:
        k = int(np.searchsorted(offsets, flat, side="right") - 1)
        name = tensors[k]
        arr = p.tensor(name)
        idx = tuple(int(i) for i in np.unravel_index(int(flat - offsets[k]), arr.shape))
        v = float(arr[idx])

        def p_slope(e, name=name, idx=idx, v=v):
            up = loss(network.with_(params=p.with_value(name, idx, v + e)), x)
            down = loss(network.with_(params=p.with_value(name, idx, v - e)), x)
            return (up - down) / (2.0 * e)

        entries.append(_compare(name, idx, float(trace.grads[name][idx]), p_slope, eps, floor))
        yield len(entries), n_all

    for flat in np.sort(rng.choice(x.size, size=m, replace=False)) if m > 0 else ():
        idx = tuple(int(i) for i in np.unravel_index(int(flat), x.shape))

        def x_slope(e, idx=idx):
            xp, xm = x.copy(), x.copy()
            xp[idx] += e
            xm[idx] -= e
            return (loss(network, xp) - loss(network, xm)) / (2.0 * e)

        entries.append(_compare(INPUT, idx, float(trace.dL_dx[idx]), x_slope, eps, floor))
        yield len(entries), n_all

    for e in _state_entries(network, trace, target, rng, int(n_states), eps, floor):
        entries.append(e)
        yield len(entries), n_all

    worst = max((e.rel_error for e in entries if e.settled), default=0.0)
    note = ""
    if notes:
        it = "they change" if len(notes) > 1 else "it changes"
        note = (" and ".join(notes).capitalize()
                + f" switched off for the check: {it} the gradient on purpose.")
    kink = _near_kink(network, trace)
    if kink is not None and any(not e.settled or e.rel_error > TOLERANCE for e in entries):
        t, u, a = kink
        note = (note + " " if note else "") + (
            f"The ReLU forget gate's input is {a:.1e} at step {t + 1}, unit {u + 1}: so near its "
            "kink at 0 that a nudge can cross it, and a difference there may disagree although "
            "the gradient is right.")
    return GradCheck(tuple(entries), float(worst), float(eps), note, float(floor))


def _near_kink(network: Network, trace: Trace) -> tuple[int, int, float] | None:
    """(step, unit, input) of the ReLU forget gate's input nearest 0 within `KINK_MARGIN`, over
    the steps up to the loss step; None if there is none (or the gate is a sigmoid)."""
    if network.options.forget_activation != "relu" or trace.kind != "lstm":
        return None
    a = trace.preacts["f"][: trace.loss_step + 1]
    t, u = np.unravel_index(int(np.argmin(np.abs(a))), a.shape)
    return (int(t), int(u), float(a[t, u])) if abs(a[t, u]) < KINK_MARGIN else None


__all__ = ["EPS", "FLOOR", "INPUT", "KINK_MARGIN", "READOUT_TENSORS", "RETRIES", "SETTLED", "STATES",
           "STATE_STEPS", "TOLERANCE", "GradCheck", "GradEntry", "check_gradients", "iter_check",
           "rel_error", "state_steps"]
