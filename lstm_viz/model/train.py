"""Gradient descent on the user's own sequence: what training by BPTT does to the weights.

One step runs the sequence forward and back (the engine's exact BPTT, with the
network's own options: the loss and its step, truncation, clipping, the
experiments) and moves every parameter against its gradient::

    W  <-  W - lr * dL/dW

That is plain SGD, what ``torch.optim.SGD(model.parameters(), lr)`` does after
``loss.backward()`` (and, with a clipping norm, ``clip_grad_norm_``). The
parameters are the four tensors of the recurrent layer and, when there is one,
the readout; the initial states h0 and c0 are inputs, not parameters, and stay.

`descend` takes several steps and keeps the loss before each one, so a view can
show the loss falling (or, with too large a rate, not).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .cells import ModelInputError, Network

#: Most steps one call takes (a run of the app's "steps" buttons stays well below).
MAX_STEPS = 10_000


@dataclass(frozen=True)
class DescentRun:
    """What `descend` did.

    Attributes
    ----------
    network : Network
        The network after the last step taken.
    losses : ndarray, shape (n + 1,)
        The loss before each of the n steps taken, and after the last one.
    grad_norms : ndarray, shape (n,)
        The joint norm of the parameter gradients at each step, before clipping.
    clipped : int
        How many of the steps were shortened by the clipping norm.
    stopped : str
        Empty when every step asked for was taken; else why the run stopped early.
        A step after which the loss or a gradient is no longer a finite number is
        taken back: ``network`` is then the last one with a finite loss.
    """

    network: Network
    losses: np.ndarray
    grad_norms: np.ndarray
    clipped: int
    stopped: str = ""

    @property
    def steps(self) -> int:
        return len(self.grad_norms)


def descend(network: Network, x: np.ndarray, target: np.ndarray | None, lr: float,
            steps: int = 1, time_limit: float | None = None) -> DescentRun:
    """Take ``steps`` steps of gradient descent with learning rate ``lr``.

    With ``time_limit`` (seconds), no new step starts once that much time has
    passed (at least one step is taken): a long sequence stays responsive, and
    ``stopped`` says how many steps were done.

    Raises
    ------
    ModelInputError
        For a rate that is not a positive finite number, or a count of steps
        outside 1 .. MAX_STEPS.
    """
    lr = float(lr)
    if not (math.isfinite(lr) and lr > 0):
        raise ModelInputError(f"the learning rate must be a positive number, not {lr:g}")
    if not 1 <= int(steps) <= MAX_STEPS:
        raise ModelInputError(f"take between 1 and {MAX_STEPS} steps, not {steps}")
    clip = network.options.clip_norm
    net, prev = network, None
    losses: list[float] = []
    norms: list[float] = []
    was_clipped: list[bool] = []
    stopped = ""
    start = time.perf_counter()
    k, steps = 0, int(steps)
    with np.errstate(over="ignore", invalid="ignore"):
        while True:
            # the full pass (gradients too) checks every network, the last one included
            tr = net.trace(x, target=target)
            loss, norm = float(tr.loss), float(tr.grad_norm)
            if not (math.isfinite(loss) and math.isfinite(norm)):
                if prev is None:
                    losses.append(loss)
                    stopped = ("the loss or a gradient is already infinite or NaN, so there "
                               "is no direction to step in")
                else:                       # the last step broke it: take that one back
                    net = prev
                    norms.pop()
                    was_clipped.pop()
                    stopped = (f"step {k} made the loss or a gradient infinite or NaN and was "
                               "taken back: the rate is too large (or an experiment lets the "
                               "state grow without bound)")
                break
            losses.append(loss)
            if k == steps:
                break
            if k and time_limit is not None and time.perf_counter() - start > time_limit:
                stopped = (f"stopped after {k} of {steps} steps, at the time limit of "
                           f"{time_limit:g} s (a long sequence)")
                break
            norms.append(norm)
            was_clipped.append(clip is not None and norm > clip)
            p = net.params
            new = {name: p.tensor(name) - lr * g for name, g in tr.grads.items()}
            prev, net = net, net.with_(params=p.with_tensors(new))
            k += 1
    return DescentRun(net, np.array(losses), np.array(norms), sum(was_clipped), stopped)


__all__ = ["MAX_STEPS", "DescentRun", "descend"]
