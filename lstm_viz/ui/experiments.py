"""The experiments panel: switches that bend the cell's rules, each with what to look for.

Every switch edits the network's `Options` (the engine applies them exactly, in
the forward and the backward pass):

* forget gate ReLU instead of sigmoid (LSTM only);
* clamp one gate from a chosen step on (LSTM ``f = 1, f = 0, i = 0, o = 1``;
  GRU ``z = 1, z = 0``; a simple RNN has no gates);
* gradient clipping by norm;
* truncated backpropagation through time with a window of k steps.

A change goes through ``apply_options(new_options)`` when given (the window
passes a function that makes it undoable), else ``state.set_options``.
"Reset experiments" returns to ``Options()`` with the loss step kept. The panel
follows ``state.options`` when it changes elsewhere (undo, a new model), with
its controls under `QSignalBlocker` so nothing echoes back.

A warning line appears when any |C_t|, hidden-state or gradient value is above
`HUGE` or is infinite or NaN (what a ReLU forget gate with large weights does).
Such numbers are not meaningful; the line says where they start. Applying
options runs under ``np.errstate`` so the overflow itself raises no warning.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFrame, QHBoxLayout,
                               QLabel, QPushButton, QSpinBox, QStyle, QVBoxLayout, QWidget)

from ..explain import fmt
from ..model import Clamp, ModelInputError, Options, Trace, WeightsError
from ..state import AppState
from .kit import style_panel
from .theme import scaled_font

#: Values above this (in absolute value) raise the warning flag.
HUGE = 1e6

#: Clamp choices per cell kind: (gate, value) -> what to look for.
CLAMPS: dict[str, dict[tuple[str, float], str]] = {
    "lstm": {
        ("f", 1.0): "f = 1: nothing is forgotten, C only adds up; its gradient passes back "
                    "undiminished along the cell state.",
        ("f", 0.0): "f = 0: the cell keeps nothing from one step to the next; the gradient "
                    "along C stops at every step.",
        ("i", 0.0): "i = 0: nothing new is written, so C only fades (or holds) what it had.",
        ("o", 1.0): "o = 1: hₜ = tanh(Cₜ) shows the cell state at every step.",
    },
    "gru": {
        ("z", 1.0): "z = 1: h is copied unchanged; the input is ignored and the gradient "
                    "passes back intact.",
        ("z", 0.0): "z = 0: h is replaced by the candidate n at every step; no direct copy path.",
    },
    "rnn": {},
}

RELU_HINT = ("Look at Cₜ: f is no longer capped at 1, so the cell state can grow without "
             "bound, and its gradient, multiplied by f at each step back, can explode. Once Cₜ "
             "is so large that tanh(Cₜ) sits flat at ±1, no gradient enters the cell: dL/dCₜ "
             "drops to 0, and only the path through the output gate and W_hh still carries "
             "some back to hₜ.")
CLIP_HINT = ("The weight gradients are scaled down together so their total norm is at most "
             "this. The gradients through time (dL/dhₜ) are not clipped.")
TRUNC_HINT = ("Backpropagation keeps only k steps: the loss step and the k − 1 before it. "
              "Earlier steps get none: the gradient views show zeros there.")

NOT_LSTM = {
    "gru": "The GRU has no forget gate (its update gate z plays that part).",
    "rnn": "A simple RNN has no gates.",
}


def _label_clamp(gate: str, value: float) -> str:
    return f"{gate} = {value:g}"


def overflow_report(trace: Trace, limit: float = HUGE) -> str:
    """One line naming where a trace's values are huge or not finite, "" if nowhere.

    The states first (C_t, h_t), from the first step where one is: they run forward,
    so that is where the trouble starts. Else the gradients (dL/dh_t, dL/dC_t, dL/dx_t),
    which run backward from the loss step and so are worst at the early steps: the
    range of steps where one is. Else the weight gradients.
    """
    states = [("Cₜ", trace.c), ("hₜ", trace.h)]
    grads = [("dL/dhₜ", trace.dL_dh), ("dL/dCₜ", trace.dL_dc), ("dL/dxₜ", trace.dL_dx)]
    worst = 0.0
    where = ""
    with np.errstate(invalid="ignore", over="ignore"):
        for group in (states, grads):
            found = None                              # (name, first bad step, last bad step)
            for name, arr in group:
                if arr is None:
                    continue
                bad = np.flatnonzero(~(np.abs(arr) <= limit).all(axis=1))    # NaN counts as bad
                if bad.size and (found is None or bad[0] < found[1]):
                    found = (name, int(bad[0]), int(bad[-1]))
                a = np.abs(arr)
                if np.isnan(a).any():
                    worst = np.nan
                elif not np.isnan(worst):
                    worst = max(worst, float(a.max()))
            if found is not None and not where:
                name, a, b = found
                if group is states:
                    where = f"{name} from step {a + 1}"
                else:
                    where = f"{name} at step {a + 1}" if a == b else f"{name} at steps {a + 1}–{b + 1}"
        grads_bad = any(not (np.abs(g) <= limit).all() for g in trace.grads.values())
    if not where and not grads_bad:
        return ""
    where = where or "the weight gradients"
    size = "some are NaN, not a number" if np.isnan(worst) else f"largest {fmt(worst)}"
    return (f"⚠ Huge or broken numbers: {where} ({size}). They are not meaningful: "
            "turn the experiment off or shrink the weights.")


def clip_report(trace, clip_norm: float | None) -> str:
    """What clipping does to this trace's weight gradients ("" when it is off)."""
    if clip_norm is None:
        return ""
    n = trace.grad_norm
    if not np.isfinite(n):
        return "Now: their norm is not a finite number; clipping cannot rescue that."
    if n > clip_norm:
        return (f"Now: their norm is {fmt(n)}, so every one is multiplied by "
                f"{fmt(clip_norm / n)}, down to {fmt(clip_norm)}.")
    return f"Now: their norm is {fmt(n)}, within {fmt(clip_norm)}: nothing is scaled."


class ExperimentsPanel(QWidget):
    """Toggles for the engine's experiments, each with one line of what to look for.

    Parameters
    ----------
    state : AppState
    apply_options : callable(Options), optional
        Applies new options (e.g. as an undoable command); defaults to
        ``state.set_options``.
    """

    def __init__(self, state: AppState, apply_options: Callable[[Options], None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.apply_options = apply_options
        self._stale = True
        self.setAccessibleName("Experiments")

        self.title = QLabel("Experiments", self)
        self.intro = QLabel("Break the cell's rules and watch what changes. "
                            "Every switch is exact in the forward and backward pass.", self)
        self.intro.setWordWrap(True)

        # forget-gate ReLU
        self.relu = QCheckBox("Forget gate: ReLU instead of sigmoid", self)
        self.relu_hint = self._hint(RELU_HINT)
        self.relu.toggled.connect(self._changed)

        # clamp
        self.clamp = QCheckBox("Clamp a gate", self)
        self.clamp.setToolTip("Hold one gate at a fixed value from the chosen step on; "
                              "a clamped gate passes no gradient to its weights")
        self.clamp_choice = QComboBox(self)
        self.clamp_choice.setAccessibleName("Gate to clamp")
        self.clamp_choice.setToolTip("Which gate, and the value it is held at")
        self.clamp_from = QSpinBox(self)
        self.clamp_from.setAccessibleName("Clamp from step")
        self.clamp_from.setToolTip("First step (counting from 1) at which the gate is held")
        self.clamp_from.setPrefix("from step ")
        self.clamp_from.setKeyboardTracking(False)
        self.clamp_hint = self._hint("")
        self.clamp.toggled.connect(self._changed)
        self.clamp_choice.activated.connect(lambda _i: self._clamp_choice_changed())
        self.clamp_from.valueChanged.connect(lambda _v: self._changed())

        # clipping
        self.clip = QCheckBox("Clip gradients to norm", self)
        self.clip.setToolTip("Gradient clipping by norm, as torch.nn.utils.clip_grad_norm_ does")
        self.clip_value = QDoubleSpinBox(self)
        self.clip_value.setAccessibleName("Clipping norm")
        self.clip_value.setToolTip("Largest allowed joint norm of all weight gradients")
        self.clip_value.setRange(0.001, 1e6)
        self.clip_value.setDecimals(3)
        self.clip_value.setValue(1.0)
        self.clip_value.setKeyboardTracking(False)
        self.clip_hint = self._hint(CLIP_HINT)
        self.clip.toggled.connect(self._changed)
        self.clip_value.valueChanged.connect(lambda _v: self._changed())

        # truncation
        self.trunc = QCheckBox("Truncated BPTT, window", self)
        self.trunc.setToolTip("Backpropagate through at most k steps, counting the loss step")
        self.trunc_k = QSpinBox(self)
        self.trunc_k.setAccessibleName("Truncation window")
        self.trunc_k.setToolTip("k: how many steps back (including the loss step) get a gradient")
        self.trunc_k.setSuffix(" steps")
        self.trunc_k.setMinimum(1)
        self.trunc_k.setValue(5)
        self.trunc_k.setKeyboardTracking(False)
        self.trunc_hint = self._hint(TRUNC_HINT)
        self.trunc.toggled.connect(self._changed)
        self.trunc_k.valueChanged.connect(lambda _v: self._changed())

        self.reset = QPushButton("Reset experiments", self)
        self.reset.setToolTip("Switch every experiment off (the loss step stays where it is)")
        self.reset.clicked.connect(self._reset)

        self.flag = QLabel(self)
        self.flag.setWordWrap(True)
        self.flag.setAccessibleName("Overflow warning")
        self.flag.setToolTip("Values above 1e6, infinite or NaN were found in the current trace")
        self.flag.hide()
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Experiments status")
        self.status.hide()

        # Each switch on a line of its own and its settings on the next, indented: beside
        # the switch they left a laptop-width panel too narrow for both.
        indent = self.relu.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth) + 6
        switches = QVBoxLayout()
        for check, extra, hint in ((self.relu, None, self.relu_hint),
                                   (self.clamp, (self.clamp_choice, self.clamp_from), self.clamp_hint),
                                   (self.clip, (self.clip_value,), self.clip_hint),
                                   (self.trunc, (self.trunc_k,), self.trunc_hint)):
            switches.addWidget(check)
            if extra is not None:
                box = QHBoxLayout()
                box.setContentsMargins(indent, 0, 0, 0)
                for w in extra:
                    box.addWidget(w)
                box.addStretch(1)
                switches.addLayout(box)
            switches.addWidget(hint)
            line = QFrame(self)
            line.setFrameShape(QFrame.Shape.HLine)
            switches.addWidget(line)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(self.intro)
        lay.addLayout(switches)
        lay.addWidget(self.reset, 0, Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(self.flag)
        lay.addWidget(self.status)
        lay.addStretch(1)

        self._kind: str | None = None
        self._synced: tuple | None = None       # (options, kind, steps) the controls show
        state.trace_changed.connect(self._on_trace)
        state.appearance_changed.connect(self._on_appearance)
        self._on_trace()
        self._on_appearance()

    def _hint(self, text: str) -> QLabel:
        lab = QLabel(text, self)
        lab.setWordWrap(True)
        lab.setToolTip("What to look for")
        return lab

    # ------------------------------------------------------------------ state -> view

    def _on_trace(self) -> None:
        st = self.state
        synced = (st.options, st.network.kind, st.steps)
        if synced != self._synced:          # (not on every frame of a weight drag)
            self._synced = synced
            self._sync_controls()
        if self.isVisible():
            self._update_flag()
        else:
            self._stale = True

    def showEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().showEvent(ev)
        if self._stale:
            self._update_flag()

    def _update_flag(self) -> None:
        self._stale = False
        text = overflow_report(self.state.trace)
        self.flag.setText(text)
        self.flag.setVisible(bool(text))
        now = clip_report(self.state.trace, self.state.options.clip_norm)
        self.clip_hint.setText(CLIP_HINT + (" " + now if now else ""))

    @property
    def flagged(self) -> bool:
        """True when the warning about huge or non-finite values is up."""
        if self._stale:
            self._update_flag()
        return bool(self.flag.text())

    def _set_kind(self, kind: str) -> None:
        """Enable what applies to this cell kind; tooltips say why the rest is off."""
        if kind == self._kind:
            return
        self._kind = kind
        lstm = kind == "lstm"
        self.relu.setEnabled(lstm)
        self.relu.setToolTip("Replace σ by max(0, ·) in the forget gate" if lstm else NOT_LSTM[kind])
        with QSignalBlocker(self.clamp_choice):
            self.clamp_choice.clear()
            for (gate, value) in CLAMPS[kind]:
                self.clamp_choice.addItem(_label_clamp(gate, value), (gate, value))
        has_gates = bool(CLAMPS[kind])
        for w in (self.clamp, self.clamp_choice, self.clamp_from):
            w.setEnabled(has_gates)
        if not has_gates:
            self.clamp.setToolTip(NOT_LSTM["rnn"])
        else:
            self.clamp.setToolTip("Hold one gate at a fixed value from the chosen step on; "
                                  "a clamped gate passes no gradient to its weights")

    def _sync_controls(self) -> None:
        """Put ``state.options`` into the controls without emitting anything."""
        st = self.state
        o = st.options
        self._set_kind(st.network.kind)
        T = st.steps
        blockers = [QSignalBlocker(w) for w in (self.relu, self.clamp, self.clamp_choice,
                                                 self.clamp_from, self.clip, self.clip_value,
                                                 self.trunc, self.trunc_k)]
        self.relu.setChecked(o.forget_activation == "relu")
        # A clamp may start past a shorter sequence (set before it was typed): the box keeps
        # showing it, else the next change of any switch would move the clamp (as trunc_k).
        start = max(o.clamps[0].start, 0) + 1 if o.clamps else 1
        self.clamp_from.setRange(1, max(T, start, 1))
        if o.clamps:
            cl = o.clamps[0]
            key = (cl.gate, float(cl.value))
            i = self.clamp_choice.findData(key)
            if i < 0:                       # a clamp set elsewhere that is not in the list
                self.clamp_choice.addItem(_label_clamp(*key), key)
                i = self.clamp_choice.count() - 1
            self.clamp_choice.setCurrentIndex(i)
            self.clamp_from.setValue(start)
        self.clamp.setChecked(bool(o.clamps))
        self.clip.setChecked(o.clip_norm is not None)
        if o.clip_norm is not None:
            self.clip_value.setValue(o.clip_norm)
        self.trunc_k.setMaximum(max(T, o.truncate or 1, 1))
        self.trunc.setChecked(o.truncate is not None)
        if o.truncate is not None:
            self.trunc_k.setValue(o.truncate)
        for b in blockers:
            b.unblock()
        self._update_clamp_hint()

    def _update_clamp_hint(self) -> None:
        key = self.clamp_choice.currentData()
        kind = self.state.network.kind
        if not CLAMPS[kind]:
            self.clamp_hint.setText(NOT_LSTM["rnn"] + " Nothing to clamp.")
        elif key is not None:
            self.clamp_hint.setText(CLAMPS[kind].get(tuple(key), f"{_label_clamp(*key)} from the chosen step."))

    def _on_appearance(self) -> None:
        th, s = self.state.theme, self.state.font_scale
        style_panel(self, self.title, (self.relu_hint, self.clamp_hint, self.clip_hint,
                                       self.trunc_hint, self.intro), th, s)
        bad = "#B00020" if th.name != "dark" else "#FF8A80"
        self.flag.setFont(scaled_font(th, s, 1.0, bold=True))
        self.flag.setStyleSheet(f"color: {bad}; border: 2px solid {bad}; padding: 4px;")
        self.status.setStyleSheet(f"color: {bad};")

    # ------------------------------------------------------------------ view -> state

    def options_from_controls(self) -> Options:
        """The options the controls describe (the loss step is the state's)."""
        o = self.state.options
        clamps: tuple[Clamp, ...] = ()
        key = self.clamp_choice.currentData()
        if self.clamp.isChecked() and self.clamp.isEnabled() and key is not None:
            clamps = (Clamp(key[0], float(key[1]), self.clamp_from.value() - 1),)
        relu = self.relu.isChecked() and self.relu.isEnabled()
        return replace(
            o,
            forget_activation="relu" if relu else "sigmoid",
            clamps=clamps,
            clip_norm=float(self.clip_value.value()) if self.clip.isChecked() else None,
            truncate=int(self.trunc_k.value()) if self.trunc.isChecked() else None,
        )

    def _clamp_choice_changed(self) -> None:
        self._update_clamp_hint()
        self._changed()

    def _changed(self, *_args) -> None:
        self._apply(self.options_from_controls())

    def _reset(self) -> None:
        self._apply(Options(loss_step=self.state.options.loss_step))

    def _apply(self, options: Options) -> None:
        if options == self.state.options:
            self._sync_controls()
            return
        try:
            # Overflow (inf, NaN) is a legitimate outcome of these experiments: the
            # engine, and every view redrawing from this change, must not warn about it.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                if self.apply_options is not None:
                    self.apply_options(options)
                else:
                    self.state.set_options(options)
        except (ModelInputError, WeightsError) as e:
            self.status.setText(f"Not applied: {e}")
            self.status.show()
            self._sync_controls()
            return
        self.status.hide()
        self._sync_controls()
        if self.isVisible():
            self._update_flag()


__all__ = ["CLAMPS", "HUGE", "ExperimentsPanel", "overflow_report"]
