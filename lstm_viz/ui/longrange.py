"""The long-range demonstration: how much gradient reaches step 1 as sequences get longer.

One log-scale plot of ``||dL/dx_1||`` against the sequence length (10 .. 200) for
a simple RNN, a GRU, an LSTM and an LSTM with a raised forget-gate bias, on the
task of `lstm_viz.model.longrange` (only step 1 matters for the target at the
last step). A slider sets that forget bias; a length slider highlights one
length and prints its four values; "Open in main view" hands
the chosen cell and sequence to ``load_into_main(network, x, labels, caption,
target=y)``.

The curve costs one engine pass per (cell, length), a few hundred ms in all, so
it is computed in small slices from a zero-delay timer (at most `SLICE_MS` per
slice) and only while the view is shown; the plot fills in as it goes and the
UI never freezes. `compute_now` finishes it at once (tests, screenshots).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from PySide6.QtGui import QPen
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QSlider, QVBoxLayout, QWidget)

from ..explain import fmt
from ..model import Network
from ..model.longrange import (DEFAULT_FORGET_BIAS, LENGTHS, VARIANT_NAMES, VARIANTS,
                               grad_at_first_step, long_range_network, long_range_task)
from ..state import AppState
from .kit import Curve, key_html, key_label, keyed, log_plot_widget, scrolling, style_axes
from .theme import KIND_COLORS, OKABE_ITO, scaled_font

#: Hidden units and seed of the demonstration's networks.
HIDDEN = 8
SEED = 0
#: Longest slice of computing per timer tick, in ms.
SLICE_MS = 12
#: Shortest time between two redraws while the curve fills in, in ms.
REDRAW_MS = 150
#: Forget-bias slider: positions per unit, and its range.
BIAS_STEPS = 10
BIAS_MAX = 8.0

COLORS = {**KIND_COLORS, "lstm_fb": OKABE_ITO["green"]}
STYLES = {"rnn": Qt.PenStyle.DotLine, "gru": Qt.PenStyle.DashLine, "lstm": Qt.PenStyle.SolidLine,
          "lstm_fb": Qt.PenStyle.SolidLine}
SYMBOLS = {"rnn": "t", "gru": "s", "lstm": "o", "lstm_fb": "d"}
#: Each curve's marker (SYMBOLS) as text, for the key above the plot.
MARKER_TEXT = {"rnn": "▼", "gru": "■", "lstm": "●", "lstm_fb": "◆"}

EXPLANATION = (
    "Only step 1 holds what the target at the last step needs; the rest is noise. The plot shows "
    "how much gradient reaches step 1, ‖dL/dx₁‖, as the gap grows. Every cell fades; the LSTM "
    "whose forget gate rests near 1 fades far more slowly: gating mitigates, it does not abolish.")


def _sigmoid(v: float) -> float:
    return 1.0 / (1.0 + np.exp(-v))


class LongRangeView(QWidget):
    """||dL/dx_1|| against sequence length for RNN, GRU, LSTM and LSTM with forget bias.

    Parameters
    ----------
    state : AppState
        Read for the theme and font scale only.
    load_into_main : callable, optional
        ``load_into_main(network, x, labels, caption, target=y)`` opens the highlighted
        sequence with the chosen cell in the main view.
    """

    def __init__(self, state: AppState, load_into_main: Callable | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.load_into_main = load_into_main
        self.lengths = np.array(LENGTHS)
        self.forget_bias = DEFAULT_FORGET_BIAS
        self.results = {v: np.full(len(LENGTHS), np.nan) for v in VARIANTS}
        self._nets: dict[str, Network] = {}
        self._queue: list[tuple[str, int]] = []
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._work)
        self._last_draw = QElapsedTimer()
        self.setAccessibleName("Long-range gradient demonstration")

        # ---- plot
        self.plot_widget, self.plot = log_plot_widget(self)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "sequence length L (the loss on step L)")
        self.plot.setLabel("left", "‖dL/dx₁‖")
        self.plot.setXRange(0, LENGTHS[-1] + 5, padding=0)
        self.key = key_label(self, "Key to the curves")
        self.curves: dict[str, pg.PlotDataItem] = {}
        for v in VARIANTS:
            c = Curve(name=VARIANT_NAMES[v], symbol=SYMBOLS[v])
            self.plot.addItem(c)
            self.curves[v] = c
        self.highlight = pg.InfiniteLine(angle=90, movable=False)
        self.plot.addItem(self.highlight, ignoreBounds=True)
        self.plot_widget.setToolTip(
            "How much of the learning signal reaches step 1 (log scale), for each sequence length")

        # ---- controls
        self.title = QLabel("Long-range memory: does any gradient reach step 1?", self)
        self.explain = QLabel(EXPLANATION, self)
        self.explain.setWordWrap(True)
        self.setup_note = QLabel(
            f"Seeded random weights (seed {SEED}), {HIDDEN} hidden units, one input; "
            "loss on the last step.", self)
        self.setup_note.setWordWrap(True)

        self.bias_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.bias_slider.setRange(0, round(BIAS_MAX * BIAS_STEPS))
        self.bias_slider.setValue(round(self.forget_bias * BIAS_STEPS))
        self.bias_slider.setAccessibleName("LSTM forget-gate bias")
        self.bias_slider.setToolTip("Added to the LSTM's forget-gate bias: the higher, the closer "
                                    "f rests to 1 and the longer the cell keeps what it holds")
        self.bias_slider.valueChanged.connect(self._bias_moved)
        self.bias_label = QLabel(self)

        self.length_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.length_slider.setRange(0, len(LENGTHS) - 1)
        self.length_slider.setValue(LENGTHS.index(100))
        self.length_slider.setAccessibleName("Highlighted sequence length")
        self.length_slider.setToolTip("Pick one sequence length to read its values and open it")
        self.length_slider.valueChanged.connect(lambda _v: self._update_readout())
        self.length_label = QLabel(self)
        self.readout = QLabel(self)
        self.readout.setToolTip("‖dL/dx₁‖ of each cell at the highlighted length")
        self.readout.setWordWrap(True)

        self.cell_combo = QComboBox(self)
        for v in VARIANTS:
            self.cell_combo.addItem(VARIANT_NAMES[v], v)
        self.cell_combo.setCurrentIndex(VARIANTS.index("lstm_fb"))
        self.cell_combo.setAccessibleName("Cell to open")
        self.cell_combo.setToolTip("Which of the four cells to open in the main view")
        self.open_button = QPushButton("Open in main view", self)
        self.open_button.setToolTip(
            "Load the highlighted sequence with the chosen cell into the main view "
            "(replaces the current model; undoable)" if load_into_main is not None
            else "Not available here")
        self.open_button.setEnabled(load_into_main is not None)
        self.open_button.clicked.connect(self._open)
        self.progress = QLabel(self)
        self.progress.setToolTip("The curve is computed in small pieces so the window stays responsive")

        grid = QGridLayout()
        grid.addWidget(QLabel("LSTM forget bias", self), 0, 0)
        grid.addWidget(self.bias_slider, 0, 1)
        grid.addWidget(self.bias_label, 0, 2)
        grid.addWidget(QLabel("Length", self), 1, 0)
        grid.addWidget(self.length_slider, 1, 1)
        grid.addWidget(self.length_label, 1, 2)
        grid.setColumnStretch(1, 1)
        self.bias_label.setWordWrap(True)
        # The cell list and a short button fit the side panel of a 1280x800 window
        # ("Open in the main view" made the row wider than it: it scrolled sideways).
        open_row = QHBoxLayout()
        open_row.addWidget(self.cell_combo)
        open_row.addWidget(self.open_button)
        open_row.addStretch(1)
        # The controls and what they read first: in a short bottom tab the reading
        # (explanation, set-up) is what scrolls, never a slider or the button.
        side = QVBoxLayout()
        side.setContentsMargins(6, 4, 6, 4)           # the scroll area has its own edge
        side.addWidget(self.title)
        side.addLayout(grid)
        side.addWidget(self.readout)
        side.addLayout(open_row)
        side.addWidget(self.explain)
        side.addWidget(self.setup_note)
        side.addWidget(self.progress)
        side.addStretch(1)
        self.title.setWordWrap(True)
        self.side = QWidget(self)
        self.side.setLayout(side)
        self.side_scroll = scrolling(self.side, self)
        self.side_scroll.setMaximumWidth(760)

        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(keyed(self.key, self.plot_widget), 3)
        lay.addWidget(self.side_scroll, 2)

        state.appearance_changed.connect(self._on_appearance)
        self._on_appearance()
        self._invalidate(VARIANTS)
        self._update_bias_label()
        self._update_readout()

    # ------------------------------------------------------------------ computing

    @property
    def done(self) -> bool:
        """True when every point of the curve is computed."""
        return not self._queue

    @property
    def highlighted_length(self) -> int:
        return int(LENGTHS[self.length_slider.value()])

    def _invalidate(self, variants) -> None:
        for v in variants:
            self._nets[v] = long_range_network(v, HIDDEN, SEED, self.forget_bias)
            self.results[v][:] = np.nan
        self._queue = [(v, i) for (v, i) in self._queue if v not in variants]
        self._queue += [(v, i) for v in variants for i in range(len(LENGTHS))]
        self._redraw()
        if self.isVisible():
            self._timer.start()

    def _compute_one(self) -> None:
        v, i = self._queue.pop(0)
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            self.results[v][i] = grad_at_first_step(self._nets[v], int(LENGTHS[i]), SEED)

    def _work(self) -> None:
        clock = QElapsedTimer()
        clock.start()
        while self._queue and clock.elapsed() < SLICE_MS:
            self._compute_one()
        if not self._queue:
            self._timer.stop()
            self._redraw()
        elif not self._last_draw.isValid() or self._last_draw.elapsed() >= REDRAW_MS:
            self._redraw()              # the plot fills in a few times a second

    def compute_now(self) -> None:
        """Finish the whole curve at once (blocks; for tests and screenshots)."""
        while self._queue:
            self._compute_one()
        self._timer.stop()
        self._redraw()

    def showEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().showEvent(ev)
        if self._queue:
            self._timer.start()

    def hideEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().hideEvent(ev)
        self._timer.stop()

    # ------------------------------------------------------------------ drawing

    def _redraw(self) -> None:
        self._last_draw.start()
        x = self.lengths.astype(float)
        for v, c in self.curves.items():
            y = self.results[v]
            ok = np.isfinite(y) & (y > 0.0)         # a log axis shows positive values only
            c.setData(x[ok], y[ok])
        total = len(VARIANTS) * len(LENGTHS)
        left = len(self._queue)
        self.progress.setText("" if not left else f"Computing… {100 * (total - left) // total} %")
        self._update_readout()

    def _update_bias_label(self) -> None:
        b = self.forget_bias
        self.bias_label.setText(f"+{b:.1f} (f ≈ {_sigmoid(b):.3f})")
        self.bias_label.setToolTip(f"f ≈ σ({b:.1f}) = {_sigmoid(b):.3f}: the forget gate's value "
                                   "before the inputs, h and the seeded random biases move it")

    def _update_readout(self) -> None:
        i = self.length_slider.value()
        L = int(LENGTHS[i])
        self.length_label.setText(f"{L} steps")
        self.highlight.setValue(L)
        parts = []
        for v in VARIANTS:
            val = self.results[v][i]
            parts.append(f"{VARIANT_NAMES[v]} {'…' if np.isnan(val) else fmt(val)}")
        self.readout.setText(f"‖dL/dx₁‖ at length {L}:  " + " · ".join(parts))

    def _on_appearance(self) -> None:
        th, s = self.state.theme, self.state.font_scale
        self.plot_widget.setBackground(th.background)
        style_axes((self.plot.getAxis(n) for n in ("left", "bottom")), th,
                   scaled_font(th, s, 0.85))
        size = max(6.0, 7.0 * s)
        for v, c in self.curves.items():
            color = pg.mkColor(COLORS[v])
            pen = QPen(color)
            pen.setWidthF(th.line_width * 1.25)
            pen.setCosmetic(True)
            pen.setStyle(STYLES[v])
            c.setPen(pen)
            c.setSymbolBrush(color)
            c.setSymbolPen(pg.mkPen(th.background))
            c.setSymbolSize(size)
        self.key.setFont(scaled_font(th, s))
        self.key.setText(key_html((COLORS[v], STYLES[v], MARKER_TEXT[v], VARIANT_NAMES[v])
                                  for v in VARIANTS))
        self.highlight.setPen(pg.mkPen(th.accent, width=2, style=Qt.PenStyle.DashLine))
        font = scaled_font(th, s)
        for w in self.side.findChildren(QWidget):
            w.setFont(font)
        self.title.setFont(scaled_font(th, s, 1.15, bold=True))
        self.setup_note.setStyleSheet(f"color: {th.muted};")
        self.progress.setStyleSheet(f"color: {th.muted};")

    # ------------------------------------------------------------------ user

    def _bias_moved(self, pos: int) -> None:
        self.forget_bias = pos / BIAS_STEPS
        self._update_bias_label()
        self._invalidate(("lstm_fb",))

    def set_length(self, length: int) -> None:
        """Highlight ``length`` (rounded to the nearest computed length)."""
        i = int(np.argmin(np.abs(self.lengths - int(length))))
        self.length_slider.setValue(i)

    def current_network(self) -> Network:
        """The network of the cell chosen in the combo box."""
        return self._nets[self.cell_combo.currentData()]

    def _open(self) -> None:
        if self.load_into_main is None:
            return
        v = self.cell_combo.currentData()
        task = long_range_task(self.highlighted_length, HIDDEN, SEED)
        caption = task.caption
        if v == "lstm_fb":
            caption += f" (LSTM with forget bias +{self.forget_bias:.1f})"
        self.load_into_main(self._nets[v], task.x, task.labels, caption, target=task.target)


__all__ = ["HIDDEN", "SEED", "LongRangeView"]
