"""The long-range task: everything the last step needs sits at step 1.

A sequence of length L has one input channel. Step 1 carries a value (a spike of
size `SPIKE`); steps 2 .. L carry small seeded noise that is irrelevant to the
task. The loss is on the last step, ``L = 0.5 ||h_L - y||^2``, with a target that
depends only on step 1: ``y = TARGET_GAIN * x_1`` in every unit.

To learn this task, the gradient must carry information from the last step all
the way back to step 1, so ``||dL/dx_1||`` says how much of a learning signal
reaches the one step that matters. `long_range_curve` computes it exactly with
the engine (one forward and backward pass per length) for a simple RNN, a GRU,
an LSTM, and an LSTM whose forget-gate bias is raised (so ``f`` starts near 1 and
the cell state carries the gradient back with little loss). The last shows that
gating slows the fade down a lot but does not abolish it: the curve still falls,
just far more slowly.

All sequences of one seed are prefixes of one sequence of `MAX_LENGTH` steps,
so lengths differ only in where the sequence stops. Weights are seeded with
`init_params` (PyTorch's uniform scheme); the four variants share one seed, and
the forget-bias LSTM has the plain LSTM's weights plus the bias.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cells import Network
from .weights import init_params

#: Lengths the curve is computed at by default: 10, 20, ..., 200.
LENGTHS: tuple[int, ...] = tuple(range(10, 201, 10))
MIN_LENGTH, MAX_LENGTH = 10, 200
#: The cell variants of the curve, in legend order.
VARIANTS: tuple[str, ...] = ("rnn", "gru", "lstm", "lstm_fb")
#: Names people read.
VARIANT_NAMES = {"rnn": "RNN", "gru": "GRU", "lstm": "LSTM", "lstm_fb": "LSTM, forget bias"}
#: Default forget-gate bias of the "lstm_fb" variant: sigma(3) = 0.95.
DEFAULT_FORGET_BIAS = 3.0
#: The value at step 1, the noise level elsewhere, and y = TARGET_GAIN * x_1.
SPIKE = 1.0
NOISE = 0.1
TARGET_GAIN = 0.5


@dataclass(frozen=True)
class LongRangeTask:
    """One sequence of the task: inputs (L, 1), labels, target (H,) and a caption."""

    x: np.ndarray
    labels: tuple[str, ...]
    target: np.ndarray
    caption: str


def long_range_inputs(length: int, seed: int = 0, noise: float = NOISE) -> np.ndarray:
    """Inputs (L, 1): the spike at step 1, seeded noise N(0, noise^2) after it.

    The noise comes from one seeded draw of `MAX_LENGTH` steps, so a shorter
    sequence is a prefix of a longer one with the same seed.
    """
    L = int(length)
    if not MIN_LENGTH <= L <= MAX_LENGTH:
        raise ValueError(f"the length must be between {MIN_LENGTH} and {MAX_LENGTH}, got {L}")
    rng = np.random.default_rng(seed)
    tail = rng.normal(0.0, float(noise), MAX_LENGTH - 1)
    x = np.empty((L, 1))
    x[0, 0] = SPIKE
    x[1:, 0] = tail[: L - 1]
    return x


def long_range_task(length: int, hidden: int, seed: int = 0, noise: float = NOISE) -> LongRangeTask:
    """The task of one length: inputs, token labels, target and a caption."""
    x = long_range_inputs(length, seed, noise)
    y = np.full(int(hidden), TARGET_GAIN * x[0, 0])
    labels = ("1",) + ("·",) * (len(x) - 1)
    caption = (f"Long-range task: only step 1 matters for the target at step {len(x)}; "
               "the rest is noise. Watch how little gradient reaches step 1.")
    return LongRangeTask(x, labels, y, caption)


def long_range_network(variant: str, hidden: int, seed: int = 0,
                       forget_bias: float = DEFAULT_FORGET_BIAS) -> Network:
    """The seeded network of one variant (``rnn gru lstm lstm_fb``), one input channel."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {', '.join(VARIANTS)}")
    if variant == "lstm_fb":
        return Network(init_params("lstm", 1, hidden, seed=seed, forget_bias=float(forget_bias)))
    return Network(init_params(variant, 1, hidden, seed=seed))


def grad_at_first_step(net: Network, length: int, seed: int = 0, noise: float = NOISE) -> float:
    """``||dL/dx_1||`` of ``net`` on the task of one length (exact, one engine pass)."""
    task = long_range_task(length, net.hidden_size, seed, noise)
    tr = net.trace(task.x, target=task.target)
    return float(np.linalg.norm(tr.dL_dx[0]))


def long_range_curve(lengths=LENGTHS, kinds=VARIANTS, H: int = 8, seed: int = 0,
                     forget_bias: float = DEFAULT_FORGET_BIAS, noise: float = NOISE
                     ) -> dict[str, np.ndarray]:
    """``||dL/dx_1||`` per variant and length.

    Parameters
    ----------
    lengths : sequence of int
        Sequence lengths, each in 10 .. 200.
    kinds : sequence of str
        Variants among ``rnn gru lstm lstm_fb`` (``lstm_fb``: the LSTM with
        ``forget_bias`` added to its forget-gate bias).
    H : int
        Hidden units.
    seed : int
        Seeds the weights and the noise.

    Returns
    -------
    dict variant -> ndarray, shape (len(lengths),)
    """
    out = {}
    for kind in kinds:
        net = long_range_network(kind, H, seed, forget_bias)
        out[kind] = np.array([grad_at_first_step(net, L, seed, noise) for L in lengths])
    return out


__all__ = [
    "DEFAULT_FORGET_BIAS", "LENGTHS", "MAX_LENGTH", "MIN_LENGTH", "VARIANTS", "VARIANT_NAMES",
    "LongRangeTask", "grad_at_first_step", "long_range_curve", "long_range_inputs",
    "long_range_network", "long_range_task",
]
