"""Built-in example sequences, each chosen to teach one thing.

The texts are written in the grammar of `lstm_viz.model.encoding.encode`
(numbers, vectors, characters or words) and parse with the encoding named
next to them. Noisy values are written out in the text with two decimals
(drawn once from a seeded generator), so an example reads and runs the same
everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    """One example sequence.

    Attributes
    ----------
    id : str
        Stable name (for menus, settings and tests).
    title : str
        Menu text.
    text : str
        The sequence as the user would type it.
    encoding : str
        How to read ``text``: ``numbers``, ``vectors``, ``chars`` or ``words``.
    explanation : str
        One line: what to watch when this sequence runs.
    """

    id: str
    title: str
    text: str
    encoding: str
    explanation: str


# 30 values of uniform noise in [-0.2, 0.2] (numpy default_rng(4)), rounded to 2 decimals.
_NOISE = (
    "0.18 0.00 0.19 -0.17 0.04 -0.05 0.12 -0.13 0.15 0.02 0.16 -0.01 -0.03 0.12 0.19 "
    "-0.05 0.19 0.17 -0.13 0.04 0.08 0.18 0.07 -0.15 0.00 0.00 0.00 0.18 -0.06 -0.11"
)

# Two periods of sin(2*pi*t/12), t = 0..24, rounded to 2 decimals.
_SINE = (
    "0.00 0.50 0.87 1.00 0.87 0.50 0.00 -0.50 -0.87 -1.00 -0.87 -0.50 0.00 "
    "0.50 0.87 1.00 0.87 0.50 0.00 -0.50 -0.87 -1.00 -0.87 -0.50 0.00"
)

#: The examples, in the order of the Examples menu.
EXAMPLES: tuple[Example, ...] = (
    Example(
        id="spike",
        title="Spike, then zeros (memory)",
        text="1 0 0 0 0 0 0 0 0 0 0 0",
        encoding="numbers",
        explanation=(
            "One spike and then nothing: whatever the cell still shows later is memory, "
            "and the forget gate decides how long it lasts."
        ),
    ),
    Example(
        id="long_range",
        title="Spike, then a long run of noise (long-range dependency)",
        text="1 " + _NOISE,
        encoding="numbers",
        explanation=(
            "The signal comes first and 30 noisy steps follow: to use it at the end the cell "
            "must hold it through the noise, and the gradient must travel all the way back."
        ),
    ),
    Example(
        id="sine",
        title="Sine wave (numbers)",
        text=_SINE,
        encoding="numbers",
        explanation=(
            "A smooth wave with a period of 12 steps: compare h with x to see the cell lag, "
            "squash or smooth the input."
        ),
    ),
    Example(
        id="chars",
        title="A short sentence, one step per character",
        text="the cat sat",
        encoding="chars",
        explanation=(
            "Each character is a one-hot vector; the three t's are identical inputs, so any "
            "difference in h at those steps is the cell's memory of what came before."
        ),
    ),
    Example(
        id="words",
        title="A sentence, one step per word (sentiment)",
        text="the film was not good at all",
        encoding="words",
        explanation=(
            "One step per word: to read the mood of this sentence the cell has to carry "
            "'not' forward until it meets 'good'."
        ),
    ),
)
