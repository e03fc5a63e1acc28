"""The built-in demo: a three-unit LSTM, built by hand, that latches a value.

Input has two channels per step, ``x_t = (value, release)``. The sequence
carries one spike on the value channel early on and one pulse on the release
channel later. Each unit shows one idea:

unit 1 "latch"
    The input gate opens only when a value arrives, so the spike is written
    into the cell. The forget gate sits near 1, so the cell holds it. The
    output gate opens only on the release pulse, so h stays near 0 until then
    and shows the stored value at release. Once h has fired, a recurrent
    weight from h to the forget gate shuts f, and the memory is wiped.
unit 2 "leaky"
    Same writing, but the forget gate rests at 1/2: the stored value halves
    each step, which is what happens to memory when f is not near 1.
unit 3 "open"
    Same writing and holding as the latch, with the output gate always open,
    so h_t = tanh(c_t) shows the cell state at every step.

The weights are round numbers so the equations panel is easy to follow.
"""

from __future__ import annotations

import numpy as np

from .cells import Network
from .weights import Params

#: One line shown under the diagram when the demo is loaded.
CAPTION = (
    "Watch unit 1: the spike at step 3 is written into the cell (i opens), held while f stays "
    "near 1, and read out only when the release pulse opens o at step 11."
)

#: The demo sequence, in the vectors grammar: (value, release) per step.
SEQUENCE_TEXT = "0,0; 0,0; 1,0; 0,0; 0,0; 0,0; 0,0; 0,0; 0,0; 0,0; 0,1; 0,0; 0,0; 0,0"

UNIT_NAMES = ("latch", "leaky", "open")


def demo_params() -> Params:
    """Hand-built LSTM weights: D = 2 inputs (value, release), H = 3 units."""
    H, D = 3, 2
    w_ih = np.zeros((4 * H, D))
    w_hh = np.zeros((4 * H, H))
    b = np.zeros(4 * H)
    i, f, g, o = (slice(k * H, (k + 1) * H) for k in range(4))
    # Input gate: shut (sigma(-5) = 0.007) unless a value arrives (sigma(+5) = 0.993).
    w_ih[i, 0] = 10.0
    b[i] = -5.0
    # Candidate: the value itself, squashed: tanh(3 * 1) = 0.995.
    w_ih[g, 0] = 3.0
    # Forget gate: latch and open units hold (sigma(6) = 0.998), the leaky unit halves.
    b[f] = [6.0, 0.0, 6.0]
    # The latch wipes itself one step after it has fired: a large h shuts f.
    w_hh[f.start + 0, 0] = -12.0
    # Output gate: the latch opens only on release; leaky and open units always open.
    w_ih[o.start + 0, 1] = 10.0
    b[o] = [-5.0, 5.0, 5.0]
    return Params("lstm", w_ih, w_hh, b, np.zeros(4 * H))


def demo_network() -> Network:
    """The demo network with zero initial states."""
    return Network(demo_params())


def demo_inputs() -> np.ndarray:
    """The demo sequence as a (T, 2) array, parsed from `SEQUENCE_TEXT` without the encoder."""
    rows = [[float(v) for v in step.split(",")] for step in SEQUENCE_TEXT.split(";")]
    return np.array(rows)
