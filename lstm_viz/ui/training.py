"""The training panel: gradient descent by BPTT on the user's own sequence.

A learning rate and three buttons (1, 10 or 100 steps). Each step is the
engine's exact backward pass with the network's own loss, clipping and
truncation, then ``W <- W - lr * dL/dW`` for every weight and bias
(`model.train.descend`). The steps of one click are one undoable edit, passed
to ``apply_network(network, text)`` (the window makes it undoable), so every
view (weights, diagram, plots, gradients) shows the trained network at once.

Below, the loss against the number of steps taken (from 0): one curve for
the steps taken since the last change that was not a training step (an edit, an
undo, another sequence starts a new curve). The line under the buttons says
what the last click did, or why it stopped early.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout,
                               QWidget)

from ..explain import fmt
from ..model import ModelInputError, Network
from ..model.train import DescentRun, descend
from ..state import AppState
from .kit import Curve, NumberLines, opaque_viewport, style_axes, style_panel
from .theme import OKABE_ITO, scaled_font

#: Steps each button takes.
STEP_COUNTS = (1, 10, 100)
#: Seconds one click may train for (then it stops and says so: the window stays responsive).
TIME_LIMIT_S = 3.0
#: The learning rate's range and its value at start.
RATE_MIN, RATE_MAX, RATE_START = 1e-4, 100.0, 0.1

INTRO = ("Each step runs the sequence forward and back (BPTT) and moves every weight and "
         "bias against its gradient: W ← W − η·dL/dW (one whose gradient is 0, such as a "
         "clamped gate's, stays). The loss is the one on the Gradients tab (its step, and the "
         "target y or the readout's class); clipping and truncated BPTT from Experiments "
         "shape every step. h₀ and c₀ are inputs and stay as they are.")


def run_text(run: DescentRun, clip: float | None, truncated: bool = False) -> str:
    """One line on what a run did: the loss before and after, the gradient's size, clipping."""
    if run.steps == 0:
        return f"No step taken: {run.stopped}."
    n = run.steps
    s = "" if n == 1 else "s"
    text = (f"{n} step{s}: loss {fmt(run.losses[0])} → {fmt(run.losses[-1])}; "
            f"‖∇‖ {fmt(run.grad_norms[0])}" + (f" → {fmt(run.grad_norms[-1])}" if n > 1 else ""))
    if clip is not None:
        text += (f"; {run.clipped} of {n} clipped to {fmt(clip)}" if run.clipped
                 else f"; none clipped (norm ≤ {fmt(clip)})")
    if run.losses[-1] > run.losses[0]:
        text += (". The loss went up: the steps overshoot (try a smaller η)"
                 + (", or the clipped or truncated gradient is not the loss's own slope"
                    if clip is not None or truncated else ""))
    if run.stopped:
        text += f". {run.stopped[0].upper()}{run.stopped[1:]}."
    return text + ("." if not text.endswith(".") else "")


class TrainingPanel(QWidget):
    """Learning rate, step buttons, what the last run did, and the loss so far.

    Parameters
    ----------
    state : AppState
    apply_network : callable(Network, str), optional
        Hands over the trained network with the undo text (default: ``state.set_network``).
    """

    def __init__(self, state: AppState,
                 apply_network: Callable[[Network, str], object] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.apply_network = apply_network
        self.setAccessibleName("Training")
        # the loss after each step of the current curve, and the network it ended at
        self.history: list[float] = []
        self._history_end: tuple | None = None    # (network, inputs, target) it ended at
        self._applying = False

        self.title = QLabel("Train by gradient descent", self)
        self.intro = QLabel(INTRO, self)
        self.intro.setWordWrap(True)
        self.rate = QDoubleSpinBox(self)
        self.rate.setAccessibleName("Learning rate")
        self.rate.setToolTip("η: each step moves the weights by η times the gradient, "
                             "downhill (so a step's length is η·‖∇‖)")
        self.rate.setDecimals(4)
        self.rate.setRange(RATE_MIN, RATE_MAX)
        self.rate.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.rate.setValue(RATE_START)
        rate_row = QHBoxLayout()
        rate_row.addWidget(QLabel("Learning rate η", self))
        rate_row.addWidget(self.rate)
        rate_row.addStretch(1)
        self.buttons: dict[int, QPushButton] = {}
        button_row = QHBoxLayout()
        for n in STEP_COUNTS:
            b = QPushButton(f"{n} step{'s' if n > 1 else ''}", self)
            b.setToolTip(f"Take {n} step{'s' if n > 1 else ''} of gradient descent "
                         "(one undo step)")
            b.clicked.connect(lambda _=False, n=n: self.train(n))
            button_row.addWidget(b)
            self.buttons[n] = b
        button_row.addStretch(1)
        self.result = NumberLines(self)
        self.result.setAccessibleName("What the last training did")
        self.loss_now = NumberLines(self)

        # a linear axis from 0: the loss is never negative, and how much of it is left
        # reads straight off the height
        self.plot_widget = pg.PlotWidget(self)
        self.plot_widget.setMinimumSize(200, 150)
        self.plot_widget.setMaximumHeight(420)
        opaque_viewport(self.plot_widget)
        self.plot = self.plot_widget.getPlotItem()
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "steps taken")
        self.plot.setLabel("left", "loss L")
        self.plot.getAxis("left").enableAutoSIPrefix(False)     # not "loss L (x0.001)"
        self.curve = Curve(pen=pg.mkPen(OKABE_ITO["blue"], width=2))
        self.plot.addItem(self.curve)
        self.plot_widget.setToolTip("The loss before the first step and after each one, "
                                    "since the last change that was not a training step")

        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(self.intro)
        lay.addLayout(rate_row)
        lay.addLayout(button_row)
        lay.addWidget(self.loss_now)
        lay.addWidget(self.result)
        lay.addWidget(self.plot_widget, 1)
        lay.addStretch(1)                       # a tall panel: the room goes below, not between

        state.trace_changed.connect(self._on_trace)
        state.appearance_changed.connect(self._on_appearance)
        self._on_trace()
        self._on_appearance()

    # ------------------------------------------------------------------ view -> state

    def train(self, steps: int) -> DescentRun | None:
        """Take ``steps`` steps at the rate shown; the network changes as one undoable edit."""
        st = self.state
        net = st.network
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            run = descend(net, st.inputs, st.target, self.rate.value(), steps, TIME_LIMIT_S)
        except ModelInputError as e:            # (the spin box keeps the rate in range)
            self.result.setText(f"No step taken: {e}.")
            return None
        finally:
            QGuiApplication.restoreOverrideCursor()
        if not self._continues():
            self.history = [float(run.losses[0])]
        self.history.extend(float(v) for v in run.losses[1:])
        text = run_text(run, net.options.clip_norm, net.options.truncate is not None)
        if run.steps:
            undo = (f"Gradient descent: {run.steps} step{'s' if run.steps > 1 else ''} "
                    f"(η = {self.rate.value():g})")
            self._applying = True               # (the new trace continues the curve)
            try:
                if self.apply_network is not None:
                    self.apply_network(run.network, undo)
                else:
                    st.set_network(run.network)
            finally:
                self._applying = False
            self._history_end = self._model()
        self.result.setText(text)
        self._draw_history()
        return run

    # ------------------------------------------------------------------ state -> view

    def _on_trace(self) -> None:
        tr = self.state.trace
        what = ("the readout's cross-entropy" if tr.loss_class is not None
                else "½‖hₛ − y‖²")
        self.loss_now.setText(f"Loss now: L = {fmt(tr.loss)} ({what}, on step {tr.loss_step + 1})")
        if not self._applying and self.history and not self._continues():
            self.history = []                   # another change: the curve starts again
            self._history_end = None
            self.result.setText("")
            self._draw_history()

    def _model(self) -> tuple:
        st = self.state
        return st.network, st.inputs, st.target

    def _continues(self) -> bool:
        """True if the model is the one the curve ended at (nothing else changed since)."""
        end = self._history_end
        return end is not None and all(a is b for a, b in zip(end, self._model()))

    def _draw_history(self) -> None:
        y = np.array(self.history, dtype=float)
        x = np.arange(y.size, dtype=float)
        self.curve.setData(x, y)
        ok = y[np.isfinite(y)]
        top = float(ok.max()) if ok.size else 1.0
        self.plot.setYRange(0.0, top if top > 0 else 1.0, padding=0.05)
        self.plot.setXRange(0, max(1, y.size - 1), padding=0.02)

    def _on_appearance(self) -> None:
        th, s = self.state.theme, self.state.font_scale
        style_panel(self, self.title, (self.intro,), th, s)
        self.plot_widget.setBackground(th.background)
        style_axes((self.plot.getAxis(n) for n in ("left", "bottom")), th, scaled_font(th, s, 0.85))


__all__ = ["STEP_COUNTS", "TrainingPanel", "run_text"]
