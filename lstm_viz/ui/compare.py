"""The comparison tab: how far back the gradient reaches in an LSTM, a GRU and a simple RNN.

Left, one log-scale plot of the gradient of each cell's state over the steps,
``||dL/d(state_t)||`` (`state_grad_norms`: h_t, and for the LSTM C_t too), for the three cells
(one colour and line style per kind, a legend), the loss step marked by a dashed
line and the time cursor linked to ``state.timestep``. Steps with no gradient
(after the loss step, or cut off by truncated BPTT) are left out of the log plot.

Right, one row per kind: where its weights come from (the user's model or seeded
ones), the fitted factor per step back (`decay_per_step`), ``||dL/dx_1||`` and a
"Use as main cell" button (it calls the ``use_as_main(network)`` callback given
to the constructor). Under them, a slider sets the spectral radius of the
seeded RNN's recurrent matrix.

The numbers come from a `ComparisonState`; the view sets it active while shown,
so nothing is computed while the tab is hidden.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics, QPen
from PySide6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QSlider, QVBoxLayout, QWidget)

from ..compare import KIND_NAMES, KINDS, RADIUS_MAX, RADIUS_MIN, ComparisonState
from ..explain import fmt
from ..model import Network
from ..state import AppState
from .kit import (STYLE_GLYPHS, CurveDrafts, ElidedLabel, LogCurve, NumberLines, key_html,
                  key_label, keyed, log_plot_widget, opaque_viewport, scrolling, set_log_y, step_at,
                  style_axes)
from .theme import KIND_COLORS, scaled_font
from .timecursor import TimeCursor

#: Identity colour and line style of each cell kind in this view (colour-blind safe).

KIND_STYLES = {"lstm": Qt.PenStyle.SolidLine, "gru": Qt.PenStyle.DashLine,
               "rnn": Qt.PenStyle.DotLine}
#: Slider positions per unit of spectral radius.
RADIUS_STEPS = 100


def decay_text(kind: str, r: float, with_name: bool = True) -> str:
    """``"RNN: ×0.62 per step back (shrinks 38 %)"`` (without ``"RNN: "`` if not ``with_name``)."""
    name = f"{KIND_NAMES[kind]}: " if with_name else ""
    if not math.isfinite(r):
        return f"{name}too few steps with a gradient to fit"
    change = (1.0 - r) * 100.0
    if abs(change) < 0.5:
        how = "about constant"
    elif change > 0:
        how = f"shrinks {change:.0f} %"
    else:
        how = f"grows {-change:.0f} %"
    return f"{name}×{fmt(r)} per step back ({how})"


#: What the RNN's recurrent scale does, and why the input matters (the slider's tooltip).
RADIUS_TIP = ("Scales the seeded RNN's W_hh to this spectral radius ρ (its largest |eigenvalue|). "
              "Each step back multiplies the gradient by W_hhᵀ and by tanh's slope, which is 1 "
              "only at h = 0. So with h small, ρ < 1 makes the gradient vanish and ρ > 1 lets "
              "it grow; once h is large, tanh flattens and the gradient can shrink even with "
              "ρ > 1. Small inputs (try the sequence scaled down) keep h small.")


def radius_text(rho: float, factor: float, slope: float = float("nan"),
                long: bool = False) -> str:
    """The RNN slider's read-out: ρ, and whether the RNN's gradient shrinks or grows on
    this input (its fitted ``factor`` per step back). When ρ > 1 and it still shrinks,
    the mean ``slope`` of tanh on the way back, if that is low enough to explain it.
    ``long``: the whole sentence, for the tooltip (the label has one short line)."""
    head = f"ρ(W_hh) = {rho:.2f}" if long else f"ρ = {rho:.2f}"    # the row says "RNN W_hh"
    if not math.isfinite(factor):
        return f"{head}: too few steps to fit"
    if factor > 1.0:
        return f"{head}: the gradient grows"
    if rho > 1.0:
        if math.isfinite(slope) and rho * slope < 1.0:
            if long:
                return (f"{head} > 1, yet the gradient shrinks: going back, tanh's slope "
                        f"averages {slope:.2f}, and {rho:.2f} × {slope:.2f} < 1.")
            return f"{head}, yet it shrinks: tanh′ ≈ {slope:.2f}"
        return (f"{head} > 1, yet the gradient shrinks on this input." if long
                else f"{head}, yet it shrinks")
    return f"{head}: the gradient shrinks"


def plot_points(norms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the log plot draws: (steps from 1, norms, connect-to-next flags).

    Zero, infinite and NaN norms are left out (a log axis cannot show them); a
    line joins two points only if they are neighbouring steps.
    """
    y = np.asarray(norms, dtype=np.float64)
    keep = np.flatnonzero(np.isfinite(y) & (y > 0.0))
    connect = np.zeros(keep.size, dtype=bool)
    connect[:-1] = np.diff(keep) == 1
    return keep + 1.0, y[keep], connect


class ComparisonView(QWidget):
    """Gradient norms through time for LSTM, GRU and RNN side by side.

    Parameters
    ----------
    state : AppState
    use_as_main : callable(Network), optional
        Called by a kind's "Use as main cell" button with that kind's network.
    comparison : ComparisonState, optional
        Made from ``state`` when not given.
    """

    def __init__(self, state: AppState, use_as_main: Callable[[Network], None] | None = None,
                 comparison: ComparisonState | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.use_as_main = use_as_main
        self.comparison = comparison if comparison is not None else ComparisonState(state, parent=self)
        self._stale = True
        # kind -> (the trace and the rest its row was drawn from, its norms' range);
        # see `refresh`
        self._rows: dict[str, tuple] = {}
        self.setAccessibleName("Gradient comparison of LSTM, GRU and RNN")

        # ---- plot
        self.plot_widget, self.plot = log_plot_widget(self)
        opaque_viewport(self.plot_widget)       # the theme's background covers it
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "‖dL/d state<sub>t</sub>‖")
        self.key = key_label(self, "Key to the curves")
        self.curves: dict[str, LogCurve] = {}
        for kind in KINDS:
            c = LogCurve(name=KIND_NAMES[kind])
            self.plot.addItem(c)
            self.curves[kind] = c
        self.drafts = CurveDrafts(self, self.curves.values())     # 1 px lines while dragging
        self._placed: tuple[int, int] | None = None    # (loss step, steps) the plot shows
        self.loss_line = pg.InfiniteLine(angle=90, movable=False, label="loss",
                                         labelOpts={"position": 0.92})
        self.loss_line.setToolTip("The step whose hidden state enters the loss")
        self.plot.addItem(self.loss_line, ignoreBounds=True)
        self.cursor = TimeCursor(self.plot_widget, [self.plot.vb])
        self.cursor.moved.connect(self._cursor_dragged)
        self.plot_widget.scene().sigMouseClicked.connect(self._clicked)
        self.plot_widget.setToolTip(
            "Size of the gradient of the loss with respect to each cell's state at step t (log "
            "scale): hₜ for the GRU and the RNN; hₜ and Cₜ together for the LSTM, whose cell "
            "state Cₜ can carry the gradient back even where dL/dhₜ is almost 0. A straight "
            "falling line means the gradient shrinks by the same factor every step back.")

        # ---- side panel
        self.title = QLabel("How far back does the gradient reach?", self)
        self.source_note = QLabel(self)
        self.source_note.setWordWrap(True)
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(2)          # all of it fits the bottom tab at 1920x1080
        self.name_labels: dict[str, QLabel] = {}
        self.source_labels: dict[str, QLabel] = {}
        self.decay_labels: dict[str, NumberLines] = {}
        self.dx1_labels: dict[str, NumberLines] = {}
        self.use_buttons: dict[str, QPushButton] = {}
        for row, kind in enumerate(KINDS):
            name = QLabel(f"{STYLE_GLYPHS[KIND_STYLES[kind]]} {KIND_NAMES[kind]}", self)
            name.setToolTip(f"The {KIND_NAMES[kind]} line in the plot")
            src = QLabel(self)
            # the numbers change on every edit and step: painted text, which asks the
            # panel for a new layout only when its number of lines changes
            dec = NumberLines(self)
            dec.setToolTip(
                "Fitted factor by which the state's gradient changes per step going back from "
                "the loss step (least squares on the log of the norm, over the steps before the "
                "loss step). ×0.7 means 30 % smaller each step back.")
            dx1 = NumberLines(self)
            dx1.setToolTip("‖dL/dx₁‖: how much gradient reaches the first input of the sequence.")
            btn = QPushButton("Use as main cell", self)
            btn.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            btn.setAccessibleName(f"Use the {KIND_NAMES[kind]} as main cell")
            btn.clicked.connect(lambda _=False, k=kind: self._use(k))
            # two lines per cell: who it is and the button; then its numbers
            grid.addWidget(name, 2 * row, 0)
            grid.addWidget(src, 2 * row, 1)
            grid.addWidget(btn, 2 * row, 2)
            grid.addWidget(dec, 2 * row + 1, 0, 1, 2)
            grid.addWidget(dx1, 2 * row + 1, 2)
            self.name_labels[kind], self.source_labels[kind] = name, src
            self.decay_labels[kind], self.dx1_labels[kind] = dec, dx1
            self.use_buttons[kind] = btn
        self.at_step = NumberLines(self)
        self.at_step.setToolTip("The gradient of each cell's state at the time cursor "
                                "(hₜ; for the LSTM hₜ and Cₜ together)")

        self.radius_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.radius_slider.setRange(round(RADIUS_MIN * RADIUS_STEPS), round(RADIUS_MAX * RADIUS_STEPS))
        self.radius_slider.setPageStep(10)
        self.radius_slider.setAccessibleName("RNN recurrent weight scale")
        self.radius_slider.valueChanged.connect(self._radius_moved)
        self.radius_label = ElidedLabel(self)      # one line: the plot keeps its height
        self.radius_label.setToolTip(RADIUS_TIP)
        self.radius_name = QLabel("RNN W_hh", self)
        self.radius_name.setToolTip(RADIUS_TIP)
        # Under the plot, where its effect shows: never scrolled out of sight.
        radius_row = QHBoxLayout()
        radius_row.addWidget(self.radius_name)
        radius_row.addWidget(self.radius_slider, 1)
        radius_row.addWidget(self.radius_label, 2)

        side = QVBoxLayout()
        side.addWidget(self.title)
        side.addWidget(self.source_note)
        side.addLayout(grid)
        side.addWidget(self.at_step)
        side.addStretch(1)
        self.title.setWordWrap(True)
        self.side = QWidget(self)
        self.side.setLayout(side)
        self.side_scroll = scrolling(self.side, self)

        left = QVBoxLayout()
        left.setSpacing(2)
        left.addLayout(keyed(self.key, self.plot_widget), 1)
        left.addLayout(radius_row)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(left, 3)
        lay.addWidget(self.side_scroll, 2)

        self.comparison.changed.connect(self._on_changed)
        state.timestep_changed.connect(self._on_timestep)
        state.appearance_changed.connect(self._on_appearance)
        self._on_appearance()

    # ------------------------------------------------------------------ visibility

    def showEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().showEvent(ev)
        self.comparison.set_active(True)
        if self._stale:
            self.refresh()

    def hideEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().hideEvent(ev)
        self.comparison.set_active(False)

    def _on_changed(self) -> None:
        if self.isVisible():
            self.drafts.changed()
            self.refresh()
        else:
            self._stale = True

    # ------------------------------------------------------------------ state -> view

    def refresh(self) -> None:
        """Redraw everything from the comparison (called when shown or on a change)."""
        self._stale = False
        comp, st = self.comparison, self.state
        T = st.steps
        main = comp.main_kind
        lo, hi = np.inf, -np.inf
        for kind in KINDS:
            # A weight edit of the user's model changes one kind: the others keep their rows.
            tr = comp.trace(kind)
            rest = (comp.error(kind), kind == main, comp.seed,
                    st.network.input_size, st.network.hidden_size)
            old = self._rows.get(kind)
            if old is None or old[0] is not tr or old[1] != rest:
                self._rows[kind] = (tr, rest, self._show_kind(kind))
            k_lo, k_hi = self._rows[kind][2]
            lo, hi = min(lo, k_lo), max(hi, k_hi)
        # a fixed range that changes only in half decades (not pyqtgraph's auto range,
        # which would regenerate the axes on every edit)
        set_log_y(self.plot, np.log10(lo) if hi > 0 else np.nan, np.log10(hi) if hi > 0 else np.nan)
        same = ("Same inputs and loss step; the seeded cells have no readout, so their loss "
                "is the squared error to the target y." if st.trace.loss_class is not None
                else "Same inputs, target and loss step.")
        others = [k for k in KINDS if k != main]
        kept = [KIND_NAMES[k] for k in others if comp.kept(k)]
        if not kept:
            rest = f"the others are seeded (seed {comp.seed})"
        elif len(kept) == len(others):
            rest = "the others are yours as you last had them as the main cell"
        else:
            seeded = next(KIND_NAMES[k] for k in others if not comp.kept(k))
            rest = f"the {kept[0]} is yours as you last had it, the {seeded} seeded (seed {comp.seed})"
        self.source_note.setText(
            f"{same} Your model is the {KIND_NAMES[main]}; {rest}. The LSTM's state is h and C.")
        s = st.loss_step + 1
        if (s, T) != self._placed:          # (pyqtgraph redoes its label and range even if equal)
            self._placed = (s, T)
            self.loss_line.setValue(s)
            self.loss_line.label.setFormat(f"loss (step {s})")
            self.plot.vb.setLimits(xMin=0.5 - 0.02 * T, xMax=T + 0.5 + 0.02 * T)
            self.plot.setXRange(0.5, T + 0.5, padding=0.01)
        self._sync_radius()
        self._on_timestep(st.timestep)

    def _show_kind(self, kind: str) -> tuple[float, float]:
        """Redraw ``kind``'s curve and its row of the side panel; returns the range of
        its plotted norms (inf, -inf if none)."""
        comp, st = self.comparison, self.state
        xs, ys, connect = plot_points(comp.norms(kind))
        self.curves[kind].set_values(xs, ys, connect=connect)
        err = comp.error(kind)
        if err:
            self.decay_labels[kind].setText(f"{KIND_NAMES[kind]}: {err}")
            self.dx1_labels[kind].setText("")
        else:
            self.decay_labels[kind].setText(decay_text(kind, comp.decay(kind), with_name=False))
            self.dx1_labels[kind].setText(f"‖dL/dx₁‖ = {fmt(comp.dx1(kind))}")
        is_main, kept = comp.is_main(kind), comp.kept(kind)
        self.source_labels[kind].setText("your model" if is_main else "yours, kept" if kept
                                         else "seeded")
        self.source_labels[kind].setToolTip(
            "The network in the main view, with your edits and experiments" if is_main else
            f"Your {KIND_NAMES[kind]} as it was when it was last the main cell, with its edits "
            "(the experiments stay with the main cell)" if kept else
            f"Random weights from init_params (PyTorch's scheme, seed {comp.seed}), "
            f"{st.network.input_size} input(s) and {st.network.hidden_size} units like your model"
            + ("; biases zero, so with no input h rests at 0" if kind == "rnn" else ""))
        btn = self.use_buttons[kind]
        btn.setText("Main cell" if is_main else "Use as main cell")
        btn.setEnabled(not is_main and self.use_as_main is not None)
        btn.setToolTip("This is already the main cell" if is_main else
                       f"Make this {'kept' if kept else 'seeded'} {KIND_NAMES[kind]} the main cell "
                       "(undoable)"
                       if self.use_as_main is not None else "Not available here")
        if not ys.size:
            return np.inf, -np.inf
        return float(ys.min()), float(ys.max())

    def _sync_radius(self) -> None:
        comp = self.comparison
        rho = comp.rnn_radius
        adjustable = comp.rnn_adjustable
        self.radius_slider.blockSignals(True)
        self.radius_slider.setValue(round(min(max(rho, RADIUS_MIN), RADIUS_MAX) * RADIUS_STEPS))
        self.radius_slider.blockSignals(False)
        self.radius_slider.setEnabled(adjustable)
        self.radius_slider.setToolTip(
            RADIUS_TIP if adjustable else
            "The RNN is your main model here: change its weights in the weight editor")
        factor, slope = comp.decay("rnn"), comp.rnn_slope()
        self.radius_label.setText(radius_text(rho, factor, slope))
        self.radius_label.setToolTip(radius_text(rho, factor, slope, long=True) + "\n\n"
                                     + RADIUS_TIP)

    def _on_timestep(self, t: int) -> None:
        self.cursor.set_value(t + 1)
        if self._stale or not self.isVisible():
            return
        parts = []
        for kind in KINDS:
            n = self.comparison.norms(kind)
            v = float(n[t]) if t < len(n) else float("nan")
            parts.append(f"{KIND_NAMES[kind]} {fmt(v)}")
        self.at_step.setText(f"At step {t + 1}: ‖dL/d state‖  " + " · ".join(parts))

    def _on_appearance(self) -> None:
        th, s = self.state.theme, self.state.font_scale
        self.plot_widget.setBackground(th.background)
        tick_font = scaled_font(th, s, 0.85)
        style_axes((self.plot.getAxis(n) for n in ("left", "bottom")), th, tick_font)
        for kind, c in self.curves.items():
            pen = QPen(pg.mkColor(KIND_COLORS[kind]))
            pen.setWidthF(th.line_width * 1.25)
            pen.setCosmetic(True)
            pen.setStyle(KIND_STYLES[kind])
            c.setPen(pen)
        self.key.setText(key_html((KIND_COLORS[k], KIND_STYLES[k], "", KIND_NAMES[k])
                                  for k in KINDS))
        self.cursor.set_theme(th)
        self.loss_line.setPen(pg.mkPen(th.muted, width=2, style=Qt.PenStyle.DashLine))
        self.loss_line.label.setColor(th.foreground)
        self.loss_line.label.setFont(tick_font)
        font = scaled_font(th, s)
        for w in self.findChildren(QLabel) + self.findChildren(QPushButton) + self.findChildren(
                NumberLines):
            w.setFont(font)
        for dx1 in self.dx1_labels.values():     # room for the widest number on one line
            dx1.setMinimumWidth(QFontMetrics(font).horizontalAdvance("‖dL/dx₁‖ = −8.88e−888") + 4)
        self.title.setFont(scaled_font(th, s, 1.15, bold=True))
        for kind, lab in self.name_labels.items():
            lab.setStyleSheet(f"color: {th.ink(KIND_COLORS[kind])};")   # before the font: it resets it
            lab.setFont(scaled_font(th, s, 1.0, bold=True))
        self.source_note.setStyleSheet(f"color: {th.muted};")

    # ------------------------------------------------------------------ view -> state

    def _radius_moved(self, v: int) -> None:
        self.comparison.set_rnn_radius(v / RADIUS_STEPS)
        if not self.isVisible():
            self._sync_radius()

    def _use(self, kind: str) -> None:
        if self.use_as_main is not None and kind != self.comparison.main_kind:
            self.use_as_main(self.comparison.network(kind))

    def _step_at(self, x: float) -> int:
        return step_at(x, self.state.steps)

    def _cursor_dragged(self, x: float) -> None:
        self.state.set_timestep(self._step_at(x))

    def _clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        vb = self.plot.vb
        pos = ev.scenePos()
        if vb.sceneBoundingRect().contains(pos):
            self.state.set_timestep(self._step_at(vb.mapSceneToView(pos).x()))


__all__ = ["KIND_COLORS", "ComparisonView", "decay_text", "plot_points", "radius_text"]
