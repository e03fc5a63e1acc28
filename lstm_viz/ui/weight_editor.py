"""The weight editor: every weight, bias and initial state of the cell as editable heatmaps.

For each gate (LSTM ``i f g o``, GRU ``r z n``, simple RNN one block) the editor
shows three heatmaps side by side, rows being the gate's units:

* **from h_{t−1}**: the gate's rows of ``weight_hh`` (H x H), column j = unit j of h_{t−1};
* **from x_t**: the gate's rows of ``weight_ih`` (H x D), column j = input j;
* **bias**: the *effective* bias ``bias_ih + bias_hh`` (H x 1). Editing it changes
  ``bias_ih`` and leaves ``bias_hh`` alone. The GRU candidate ``n`` is the exception:
  its ``b_hn`` sits inside ``r_t ⊙ (W_hn h + b_hn)``, so its two biases are shown and
  edited separately (H x 2).

Below the gates, the initial states ``h_0`` (and ``C_0`` for an LSTM) are one row each.
All heatmaps share one symmetric colour scale ±vmax (the largest magnitude in the
model, rounded up to a nice number), shown by a colour bar. The scale is recomputed
when a different model arrives (preset, file, undo) but not while the user edits, so
colours do not jump under the mouse; "Fit colours" recomputes it on demand.

Editing (every edit is one `SetNetworkCommand` on the undo stack):

* click a cell to select it; type a value in the spin box (Enter applies) or move the
  slider under it;
* drag vertically on a cell: up increases, ``vmax / 100`` per pixel (Shift: 1/10 of that);
  one drag is one undo step;
* turn the mouse wheel over a cell: ``vmax / 50`` per notch (Shift: 1/10);
* per gate, a *scale* slider multiplies the gate's rows of W_ih, W_hh and both biases by
  a factor (×1/4 .. ×4) relative to the values when the slider was grabbed, and a *bias*
  slider shifts the effective bias of all units or one unit by up to ±vmax; both spring
  back to neutral on release.

Speed: a drag recomputes the whole trace per change. Mouse moves only store the latest
requested edit; one zero-delay timer applies it, so moves never queue behind redraws
(see `WeightEditor.PENDING`). Heatmaps are updated in place with fixed levels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Hashable

import numpy as np
from PySide6.QtCore import QElapsedTimer, QEvent, QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QColor, QFontMetrics, QUndoStack
from PySide6.QtWidgets import (QAbstractSpinBox, QComboBox, QDoubleSpinBox, QFrame, QGridLayout,
                               QHBoxLayout, QLabel, QPushButton, QScrollArea, QSlider,
                               QVBoxLayout, QWidget)

from ..explain import fmt
from ..model import ModelInputError, Network, WeightsError
from ..state import AppState
from .commands import edit
from .equations import unicode_subscripts
from .heatmap import AxisLabels, ColorBar, Heatmap, cell_text
from .kit import NumberLines, OpaqueBackground
from .theme import scaled_font

# --------------------------------------------------------------------------- words

#: Section titles per gate.
GATE_TITLES = {
    "i": "Input gate i_t", "f": "Forget gate f_t", "g": "Candidate C̃_t", "o": "Output gate o_t",
    "r": "Reset gate r_t", "z": "Update gate z_t", "n": "Candidate n_t", "a": "New hidden state h_t",
}
#: The gate's name inside a sentence.
GATE_NAMES = {
    "i": "input gate", "f": "forget gate", "g": "candidate C̃", "o": "output gate",
    "r": "reset gate", "z": "update gate", "n": "candidate n", "a": "new hidden state",
}
#: One line per gate on what its weights decide.
GATE_ROLES = {
    "i": "How much of the candidate is written into the cell.",
    "f": "How much of the old cell state is kept (1 keeps all, 0 wipes it).",
    "g": "The value that may be written into the cell.",
    "o": "How much of tanh(C_t) is let out as h_t.",
    "r": "How much of h_{t−1} the candidate gets to see.",
    "z": "How much of h_{t−1} is kept instead of the candidate.",
    "n": "The proposed new hidden state.",
    "a": "h_t = tanh(W_ih x_t + W_hh h_{t−1} + b).",
}

#: Pixels of vertical drag per 1/100 of the colour-scale limit (coarse drag).
DRAG_DIVISIONS = 100
#: Wheel notches per colour-scale limit.
WHEEL_DIVISIONS = 50
#: Shift divides drag and wheel steps by this.
FINE = 10.0
#: Slider positions per side (the selected weight's slider spans ±vmax).
SLIDER_STEPS = 500
#: Scale slider: position p in [-SCALE_STEPS, SCALE_STEPS] multiplies by 2 ** (2 p / SCALE_STEPS).
SCALE_STEPS = 100
#: Bias slider: position p in [-BIAS_STEPS, BIAS_STEPS] shifts by p / BIAS_STEPS * vmax.
BIAS_STEPS = 100
#: Consecutive wheel notches on one weight within this many ms make one undo step.
WHEEL_MERGE_MS = 1000
#: Keys that begin typing a value (besides the digits); after a click on a cell only these
#: stay in the value box, the rest are the window's (Ctrl+Z, Space, the arrows...).
TYPING_KEYS = (Qt.Key.Key_Minus, Qt.Key.Key_Plus, Qt.Key.Key_Period, Qt.Key.Key_Comma,
               Qt.Key.Key_Backspace, Qt.Key.Key_Delete)

Target = tuple  # ("weight_hh", row, col) | ("weight_ih", row, col) | ("bias", row)
#                 | ("bias_ih", row) | ("bias_hh", row) | ("h0", unit) | ("c0", unit)


# --------------------------------------------------------------------------- model helpers (no Qt)

def nice_ceil(v: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is >= ``v`` (1 for v <= 0)."""
    if not (v > 0 and math.isfinite(v)):
        return 1.0
    e = math.floor(math.log10(v))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        n = m * 10.0 ** e
        if n >= v * (1 - 1e-12):
            return float(n)
    return float(10.0 ** (e + 1))


def value_scale(net: Network) -> float:
    """Colour-scale limit: max |value| over weights, biases and initial states, made nice."""
    p = net.params
    parts = [p.weight_ih, p.weight_hh, p.bias_ih + p.bias_hh, p.bias_ih, p.bias_hh]
    parts += [v for v in (net.h0, net.c0) if v is not None]
    return nice_ceil(max(float(np.max(np.abs(a))) for a in parts))


def entry(net: Network, target: Target) -> float:
    """The value at an edit target (the effective bias for ``("bias", row)``)."""
    p, kind = net.params, target[0]
    if kind in ("weight_hh", "weight_ih"):
        return float(p.tensor(kind)[target[1], target[2]])
    if kind == "bias":
        return float(p.bias_ih[target[1]] + p.bias_hh[target[1]])
    if kind in ("bias_ih", "bias_hh"):
        return float(p.tensor(kind)[target[1]])
    v = getattr(net, kind)
    return 0.0 if v is None else float(v[target[1]])


def with_entry(net: Network, target: Target, value: float) -> Network:
    """A network with one entry set; the effective bias is set through ``bias_ih``."""
    p, kind, value = net.params, target[0], float(value)
    if kind in ("weight_hh", "weight_ih"):
        return net.with_(params=p.with_value(kind, (target[1], target[2]), value))
    if kind == "bias":
        row = target[1]
        return net.with_(params=p.with_value("bias_ih", row, value - p.bias_hh[row]))
    if kind in ("bias_ih", "bias_hh"):
        return net.with_(params=p.with_value(kind, target[1], value))
    v = getattr(net, kind)
    v = np.zeros(net.hidden_size) if v is None else v.copy()
    v[target[1]] = value
    return net.with_(**{kind: v})


def scaled_gate(net: Network, gate: str, factor: float) -> Network:
    """A network with gate ``gate``'s rows of W_ih, W_hh, bias_ih and bias_hh times ``factor``."""
    p = net.params
    s = p.gate_rows(gate)
    arrays = {}
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        a = p.tensor(name).copy()
        a[s] *= factor
        arrays[name] = a
    return net.with_(params=p.replace(**arrays))


def shifted_bias(net: Network, gate: str, unit: int, offset: float) -> Network:
    """A network whose gate ``gate`` bias_ih is shifted by ``offset`` (one unit, or all if -1)."""
    p = net.params
    s = p.gate_rows(gate)
    b = p.bias_ih.copy()
    if unit < 0:
        b[s] += offset
    else:
        b[s.start + unit] += offset
    return net.with_(params=p.replace(bias_ih=b))


# --------------------------------------------------------------------------- blocks

@dataclass
class _Block:
    """One heatmap: which part of which gate it shows, and how its cells map to targets."""

    gate: str          # gate name, or "h0" / "c0"
    part: str          # "hh", "ih", "b", "h0", "c0"
    heatmap: Heatmap

    def data(self, net: Network) -> np.ndarray:
        p = net.params
        if self.part in ("h0", "c0"):
            v = getattr(net, self.part)
            return (np.zeros(net.hidden_size) if v is None else v)[None, :]
        s = p.gate_rows(self.gate)
        if self.part == "hh":
            return p.weight_hh[s]
        if self.part == "ih":
            return p.weight_ih[s]
        if _split_bias(p.kind, self.gate):
            return np.stack([p.bias_ih[s], p.bias_hh[s]], axis=1)
        return (p.bias_ih[s] + p.bias_hh[s])[:, None]

    def target(self, net: Network, r: int, c: int) -> Target:
        if self.part in ("h0", "c0"):
            return (self.part, c)
        row = net.params.gate_rows(self.gate).start + r
        if self.part == "hh":
            return ("weight_hh", row, c)
        if self.part == "ih":
            return ("weight_ih", row, c)
        if _split_bias(net.kind, self.gate):
            return ("bias_ih" if c == 0 else "bias_hh", row)
        return ("bias", row)


def _split_bias(kind: str, gate: str) -> bool:
    """True where bias_ih and bias_hh do not simply add (the GRU candidate n)."""
    return kind == "gru" and gate == "n"


def _names(kind: str, gate: str) -> tuple[str, str, str]:
    """A gate's weights from h, from x and its bias as the equations panel names them.

    The LSTM's ``W_f·[h_{t−1}, x_t] + b_f`` has one W per gate: its two blocks are
    W_hf and W_xf, and the candidate C̃ is ``W_C``, ``b_C`` there (PyTorch's g). The GRU
    has PyTorch's W_hr and W_ir (its bias b_r = b_ir + b_hr), the simple RNN W_hh and
    W_ih (its bias b = b_ih + b_hh).
    """
    if kind == "rnn":
        return "W_hh", "W_ih", "b"
    if kind == "gru":
        return f"W_h{gate}", f"W_i{gate}", f"b_{gate}"
    g = "C" if gate == "g" else gate
    return f"W_h{g}", f"W_x{g}", f"b_{g}"


def symbol(net: Network, block: _Block, r: int, c: int) -> str:
    """Short name of one cell, 1-based: ``W_hf[1, 2]``, ``W_xC[1, 1]``, ``b_f[3]``, ``C_0[2]``."""
    if block.part in ("h0", "c0"):
        return f"{'h' if block.part == 'h0' else 'C'}_0[{c + 1}]"
    w_h, w_x, b = _names(net.kind, block.gate)
    if block.part == "hh":
        return f"{w_h}[{r + 1}, {c + 1}]"
    if block.part == "ih":
        return f"{w_x}[{r + 1}, {c + 1}]"
    if _split_bias(net.kind, block.gate):
        return f"{'b_in' if c == 0 else 'b_hn'}[{r + 1}]"
    return f"{b}[{r + 1}]"


# --------------------------------------------------------------------------- widgets

class KeySlider(QSlider):
    """A slider that a focused keyboard moves: the arrows, Page Up/Down, Home and End.

    Those keys are also the window's playback shortcuts, and a shortcut wins over a
    focused widget unless the widget claims the key when Qt asks (ShortcutOverride),
    which a QSlider does not: the arrows stepped the timeline instead. This one claims
    them while it has the focus. Only Tab gives it the focus, not a click: after
    dragging a slider with the mouse, a presenter's clicker (Page Up/Down) still steps
    the timeline, as a combo box reached with Tab keeps the arrows and a clicked one
    does not (``SpaceForButtons`` in the main window).
    """

    KEYS = (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down,
            Qt.Key.Key_PageUp, Qt.Key.Key_PageDown, Qt.Key.Key_Home, Qt.Key.Key_End)

    def __init__(self, orientation: Qt.Orientation, parent: QWidget | None = None) -> None:
        super().__init__(orientation, parent)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)

    def event(self, ev) -> bool:  # noqa: D102 (Qt override)
        if (ev.type() == QEvent.Type.ShortcutOverride and ev.key() in self.KEYS
                and not ev.modifiers() & ~Qt.KeyboardModifier.KeypadModifier):
            ev.accept()                 # the key goes to the slider, not to a shortcut
            return True
        return super().event(ev)


class _GateSection(QFrame):
    """Title, three heatmaps and the scale / bias sliders of one gate."""

    def __init__(self, gate: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gate = gate
        self.title = QLabel(unicode_subscripts(GATE_TITLES.get(gate, gate)))   # iₜ, as the equations
        self.role = QLabel(unicode_subscripts(GATE_ROLES.get(gate, "")))
        self.role.setWordWrap(True)
        self.hh = Heatmap(1, 1)
        self.ih = Heatmap(1, 1)
        self.b = Heatmap(1, 1)
        self.cap_hh = QLabel(unicode_subscripts("from h_{t−1}"))
        self.cap_ih = QLabel(unicode_subscripts("from x_t"))
        self.cap_b = QLabel("bias")
        self.scale = KeySlider(Qt.Orientation.Horizontal)
        self.scale.setRange(-SCALE_STEPS, SCALE_STEPS)
        self.scale.setPageStep(10)
        self.scale_label = QLabel("scale ×1")
        self.bias = KeySlider(Qt.Orientation.Horizontal)
        self.bias.setRange(-BIAS_STEPS, BIAS_STEPS)
        self.bias.setPageStep(10)
        self.bias_label = QLabel("bias +0")
        self.bias_unit = QComboBox()
        for w in (self.scale, self.bias):        # they take the room there is, up to a point
            w.setMinimumWidth(100)
            w.setMaximumWidth(260)

        self.rows_axis = AxisLabels(Qt.Orientation.Vertical)
        self.cols_hh = AxisLabels(Qt.Orientation.Horizontal)
        self.cols_ih = AxisLabels(Qt.Orientation.Horizontal)
        self.rows_axis.setToolTip("Rows: the units of this gate.")
        self.cols_hh.setToolTip("Columns: the units of hₜ₋₁.")
        self.cols_ih.setToolTip("Columns: the inputs of xₜ.")
        mats = QGridLayout()
        mats.setHorizontalSpacing(10)
        mats.setVerticalSpacing(1)
        top = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        mats.addWidget(self.rows_axis, 2, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        for col, (cap, axis, hm) in enumerate(((self.cap_hh, self.cols_hh, self.hh),
                                               (self.cap_ih, self.cols_ih, self.ih),
                                               (self.cap_b, None, self.b)), start=1):
            mats.addWidget(cap, 0, col, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
            if axis is not None:
                mats.addWidget(axis, 1, col, top)
            mats.addWidget(hm, 2, col, top)
        ctl = QGridLayout()
        ctl.setVerticalSpacing(2)
        ctl.addWidget(self.scale_label, 0, 0)
        ctl.addWidget(self.scale, 1, 0)
        # one column (the unit choice under its label): the side panel is narrow on a laptop
        ctl.addWidget(self.bias_label, 2, 0)
        ctl.addWidget(self.bias_unit, 3, 0, Qt.AlignmentFlag.AlignLeft)
        ctl.addWidget(self.bias, 4, 0)
        ctl.setRowStretch(5, 1)
        body = QHBoxLayout()
        body.addLayout(mats)
        body.addSpacing(12)
        body.addLayout(ctl, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(3)
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addSpacing(8)
        head.addWidget(self.role, 1)
        lay.addLayout(head)
        lay.addLayout(body)

        self.cap_hh.setToolTip("Weights from the previous hidden state: row k is this gate's unit k, "
                               "column j is unit j of hₜ₋₁.")
        self.cap_ih.setToolTip("Weights from the input: row k is this gate's unit k, "
                               "column j is input j of xₜ.")
        self.scale.setToolTip("Drag to multiply every weight and bias of this gate by up to ×4 "
                              "or down to ×¼, relative to where they were when you grabbed the "
                              "slider. It springs back to ×1 when released; Ctrl+Z undoes it.")
        self.bias.setToolTip("Drag to add up to ± the colour-scale limit to this gate's bias "
                             "(the units chosen in the list above). It springs back to 0 when "
                             "released; Ctrl+Z undoes it.")
        self.bias_unit.setToolTip("Which units the bias slider shifts.")


class WeightEditor(QWidget):
    """Heatmaps of every weight, bias and initial state of the current cell, editable.

    Parameters
    ----------
    state : AppState
        Read for the network, theme and unit names; changed only through
        `SetNetworkCommand`s pushed on ``undo_stack``.
    undo_stack : QUndoStack
    """

    def __init__(self, state: AppState, undo_stack: QUndoStack,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.undo_stack = undo_stack
        self._vmax = value_scale(state.network)
        self._shape: tuple | None = None
        self._shown: Network | None = None
        self._own_edit = False
        self._blocks: list[_Block] = []
        self._sections: dict[str, _GateSection] = {}
        self._selected: tuple[_Block, int, int] | None = None
        # a drag in progress: (target or gate, base value or network, merge key)
        self._drag_serial = 0
        self._drag: dict | None = None
        # the latest requested edit, applied by `_flush_timer` (see `_propose`)
        self._pending: tuple[Callable[[], Network], str, Hashable | None] | None = None
        self._pending_value: tuple[Target, float] | None = None
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(0)
        self._flush_timer.timeout.connect(self._flush)
        self._wheel_clock = QElapsedTimer()
        self._wheel_key: Hashable | None = None
        # the value box has the keys because a cell was clicked, not because the user
        # went into it: until they type, the window's shortcuts pass (see `eventFilter`)
        self._box_from_cell = False

        self._build_chrome()
        self._rebuild()
        state.trace_changed.connect(self._on_trace)
        state.appearance_changed.connect(self._apply_appearance)

    # ------------------------------------------------------------------ public

    @property
    def vmax(self) -> float:
        """The shared colour-scale limit (levels are ±vmax)."""
        return self._vmax

    @property
    def selected_target(self) -> Target | None:
        """What the spin box and slider edit, e.g. ``("weight_hh", 4, 0)``, or None."""
        if self._selected is None:
            return None
        b, r, c = self._selected
        return b.target(self.state.network, r, c)

    def section(self, gate: str) -> _GateSection:
        """The section of one gate (``"f"``...)."""
        return self._sections[gate]

    def heatmap(self, gate: str, part: str) -> Heatmap:
        """The heatmap of ``part`` ("hh", "ih", "b") of ``gate``, or of "h0" / "c0"."""
        for b in self._blocks:
            if b.gate == gate and b.part == part:
                return b.heatmap
        raise KeyError((gate, part))

    def show_gate(self, gate: str) -> bool:
        """Scroll the gate's section into view (gate name, or "h0"/"c0"); False if unknown."""
        if gate in ("h0", "c0", "h_prev", "c_prev"):
            w = self._state_box
        else:
            w = self._sections.get(gate)
        if w is None:
            return False
        self.scroll.ensureWidgetVisible(w, 0, 0)
        self.scroll.horizontalScrollBar().setValue(0)      # titles and row labels stay in view
        return True

    def select(self, gate: str, part: str, row: int, col: int) -> None:
        """Select a cell, as a click on it does."""
        for b in self._blocks:
            if b.gate == gate and b.part == part:
                self._select(b, row, col)
                return
        raise KeyError((gate, part))

    def drag_step(self, fine: bool = False) -> float:
        """Value change per pixel of vertical drag."""
        return self._vmax / DRAG_DIVISIONS / (FINE if fine else 1.0)

    def wheel_step(self, fine: bool = False) -> float:
        """Value change per wheel notch."""
        return self._vmax / WHEEL_DIVISIONS / (FINE if fine else 1.0)

    def fit_colors(self) -> None:
        """Recompute the colour scale from the current model."""
        self._set_vmax(value_scale(self.state.network))

    def flush(self) -> None:
        """Apply a pending edit now (normally the zero-delay timer does this)."""
        self._flush()

    # ------------------------------------------------------------------ building

    def _build_chrome(self) -> None:
        """Selection bar, colour bar and the scroll area (created once)."""
        # changes on every drag step: a QLabel would ask the whole window to relayout
        self.sel_label = NumberLines()
        self.sel_label.setText("Click a cell to select a weight.")
        self.spin = QDoubleSpinBox()
        self.spin.setRange(-1e4, 1e4)
        self.spin.setDecimals(4)
        self.spin.setKeyboardTracking(False)          # apply on Enter / focus out / arrows
        self.spin.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.UpDownArrows)
        self.spin.setToolTip("Value of the selected weight: type a number and press Enter.")
        self.spin.setMinimumWidth(110)
        self.slider = KeySlider(Qt.Orientation.Horizontal)
        self.slider.setRange(-SLIDER_STEPS, SLIDER_STEPS)
        self.slider.setPageStep(SLIDER_STEPS // 10)
        self.slider.setToolTip("Slide the selected weight between the ends of the colour scale.")
        for w in (self.spin, self.slider):     # they change on every drag step: repaint alone
            OpaqueBackground(w)
        self.colorbar = ColorBar()
        self.fit_button = QPushButton("Fit colours")
        self.fit_button.setToolTip("Stretch the colour scale to the largest value in the model now. "
                                   "(It stays fixed while you edit, so colours do not jump.)")
        self.hint = QLabel("Drag a cell up or down, or use the wheel (Shift: finer). "
                           "Ctrl+Z undoes.")
        self.hint.setWordWrap(True)                # a narrow panel wraps it, never cuts it

        top = QGridLayout()
        top.setHorizontalSpacing(8)
        top.addWidget(self.sel_label, 0, 0, 1, 3)
        top.addWidget(self.spin, 1, 0)
        top.addWidget(self.slider, 1, 1, 1, 2)
        top.addWidget(QLabel("Colours:"), 2, 0)
        top.addWidget(self.colorbar, 2, 1)
        top.addWidget(self.fit_button, 2, 2)
        top.addWidget(self.hint, 3, 0, 1, 3)
        top.setColumnStretch(1, 1)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.scroll, 1)

        self.spin.installEventFilter(self)
        self.spin.lineEdit().installEventFilter(self)
        self.spin.valueChanged.connect(self._spin_changed)
        self.slider.valueChanged.connect(self._slider_changed)
        self.slider.sliderPressed.connect(self._slider_pressed)
        self.slider.sliderReleased.connect(self._drag_end)
        self.fit_button.clicked.connect(self.fit_colors)
        self._set_selection_enabled(False)

    def _rebuild(self) -> None:
        """Create sections and heatmaps for the current network's kind and sizes."""
        net = self.state.network
        self._selected = None
        self._blocks = []
        self._sections = {}
        content = QWidget()
        col = QVBoxLayout(content)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(6)
        for gate in net.params.gates:
            sec = _GateSection(gate)
            self._sections[gate] = sec
            for part, hm in (("hh", sec.hh), ("ih", sec.ih), ("b", sec.b)):
                self._add_block(_Block(gate, part, hm))
            if _split_bias(net.kind, gate):
                sec.cap_b.setText("b_in  b_hn")
            sec.bias_unit.addItem("all units", -1)
            for u in range(net.hidden_size):
                sec.bias_unit.addItem(f"unit {u + 1}", u)
            self._connect_section(sec)
            col.addWidget(sec)
        self._state_box = QFrame()
        sl = QGridLayout(self._state_box)
        sl.setContentsMargins(6, 6, 6, 6)
        self._state_title = QLabel("Initial state")
        sl.addWidget(self._state_title, 0, 0, 1, 2)
        self._state_caps = []
        states = ("h0", "c0") if net.kind == "lstm" else ("h0",)
        for k, name in enumerate(states):
            cap = QLabel("h₀" if name == "h0" else "C₀")
            cap.setToolTip("The hidden state before step 1 (hₜ₋₁ at the first step)."
                           if name == "h0" else
                           "The cell state before step 1 (Cₜ₋₁ at the first step).")
            self._state_caps.append(cap)
            hm = Heatmap(1, 1)
            self._add_block(_Block(name, name, hm))
            sl.addWidget(cap, k + 1, 0)
            sl.addWidget(hm, k + 1, 1, Qt.AlignmentFlag.AlignLeft)
        sl.setColumnStretch(2, 1)
        col.addWidget(self._state_box)
        col.addStretch(1)
        self.scroll.setWidget(content)       # deletes the previous content
        self._shape = (net.kind, net.input_size, net.hidden_size)
        self._shown = None
        self._vmax = value_scale(net)
        self._apply_appearance()
        self._show_values(net)
        self._update_selection_widgets()

    def _add_block(self, block: _Block) -> None:
        hm = block.heatmap
        hm.tooltip_fn = lambda r, c, b=block: self._tooltip(b, r, c)
        hm.pressed.connect(lambda r, c, b=block: self._press(b, r, c))
        hm.dragged.connect(lambda r, c, dy, fine, b=block: self._dragged(b, r, c, dy, fine))
        hm.released.connect(lambda r, c: self._drag_end())
        hm.wheeled.connect(lambda r, c, n, fine, b=block: self._wheel(b, r, c, n, fine))
        self._blocks.append(block)

    def _connect_section(self, sec: _GateSection) -> None:
        g = sec.gate
        sec.scale.sliderPressed.connect(lambda: self._group_press(g))
        sec.scale.valueChanged.connect(lambda v: self._scale_changed(g, v))
        sec.scale.sliderReleased.connect(lambda: self._group_release(g))
        sec.bias.sliderPressed.connect(lambda: self._group_press(g))
        sec.bias.valueChanged.connect(lambda v: self._bias_changed(g, v))
        sec.bias.sliderReleased.connect(lambda: self._group_release(g))

    # ------------------------------------------------------------------ appearance

    def _cell_px(self, net: Network) -> int:
        small = net.hidden_size <= Heatmap.MAX_PRINTED and net.input_size <= Heatmap.MAX_PRINTED
        if small:
            fm = QFontMetrics(self._cell_font())
            return max(28, fm.horizontalAdvance("−0.00") + 10)
        return int(min(24, max(8, 384 // max(net.hidden_size, net.input_size))))

    def _cell_font(self):
        return scaled_font(self.state.theme, self.state.font_scale, 0.85)

    def _apply_appearance(self) -> None:
        th, s = self.state.theme, self.state.font_scale
        net = self.state.network
        px = self._cell_px(net)
        H, D = net.hidden_size, net.input_size
        font = self._cell_font()
        for b in self._blocks:
            rows, cols = {"hh": (H, H), "ih": (H, D), "h0": (1, H), "c0": (1, H),
                          "b": (H, 2 if _split_bias(net.kind, b.gate) else 1)}[b.part]
            b.heatmap.set_shape(rows, cols, px)
            b.heatmap.set_theme(th, self._vmax, font)
        for g, sec in self._sections.items():
            color = th.gate_color(g).name()
            pt = th.base_point_size * s * 1.15
            sec.title.setStyleSheet(f"color: {color}; font-weight: bold; font-size: {pt:.1f}pt;")
            sec.rows_axis.set_axis(H, px, th.qcolor("muted"))
            sec.cols_hh.set_axis(H, px, th.qcolor("muted"))
            sec.cols_ih.set_axis(D, px, th.qcolor("muted"))
            sec.role.setStyleSheet(f"color: {th.muted};")
            sec.setObjectName(f"gate_{g}")
            sec.setStyleSheet(f"QFrame#gate_{g} {{ border-left: 4px solid {color}; "
                              f"background: {th.background}; }}")
        pt = th.base_point_size * s * 1.15
        self._state_title.setStyleSheet(f"font-weight: bold; font-size: {pt:.1f}pt;")
        self._state_box.setObjectName("initial_state")
        self._state_box.setStyleSheet(f"QFrame#initial_state {{ border-left: 4px solid "
                                      f"{th.gate_color('h').name()}; background: {th.background}; }}")
        self.hint.setStyleSheet(f"color: {th.muted};")
        self.sel_label.set_background(QColor(th.panel))       # the panel's colour: opaque
        self.colorbar.set_scale(th, self._vmax, cell_text)
        self._update_selection_widgets()

    def _set_vmax(self, vmax: float) -> None:
        if vmax == self._vmax:
            return
        self._vmax = vmax
        font = self._cell_font()
        for b in self._blocks:
            b.heatmap.set_theme(self.state.theme, vmax, font)
        self.colorbar.set_scale(self.state.theme, vmax, cell_text)
        self._update_selection_widgets()

    # ------------------------------------------------------------------ state -> view

    def _on_trace(self) -> None:
        net = self.state.network
        if net is self._shown:
            return                                      # only the inputs changed
        if (net.kind, net.input_size, net.hidden_size) != self._shape:
            self._cancel_pending()
            self._rebuild()
            return
        if not self._own_edit and self._drag is None:
            self._set_vmax(value_scale(net))            # a new model: fit the colours once
        self._show_values(net)
        self._update_selection_widgets()

    def _show_values(self, net: Network) -> None:
        for b in self._blocks:
            data = b.data(net)
            hm = b.heatmap
            if hm.values.shape != data.shape or not np.array_equal(hm.values, data):
                hm.set_values(data)
        self._shown = net

    def _update_selection_widgets(self) -> None:
        """Push the selected weight's name and value into the label, spin box and slider."""
        if self._selected is None:
            self._set_selection_enabled(False)
            return
        self._set_selection_enabled(True)
        b, r, c = self._selected
        net = self.state.network
        v = entry(net, b.target(net, r, c))
        self.sel_label.setText(self._describe(b, r, c, v, brief=True))
        with QSignalBlocker(self.spin):
            self.spin.setSingleStep(self._vmax / 100)
            self.spin.setValue(v)
        with QSignalBlocker(self.slider):
            self.slider.setValue(int(round(np.clip(v / self._vmax, -1, 1) * SLIDER_STEPS)))

    def _set_selection_enabled(self, on: bool) -> None:
        self.spin.setEnabled(on)
        self.slider.setEnabled(on)
        if not on:
            self.sel_label.setText("Click a cell to select a weight, then type, drag or scroll.")
            with QSignalBlocker(self.spin), QSignalBlocker(self.slider):
                self.spin.setValue(0.0)          # no weight: no stale number from the last one
                self.slider.setValue(0)

    # ------------------------------------------------------------------ words

    def _unit(self, u: int) -> str:
        return self.state.unit_label(u)

    def _describe(self, b: _Block, r: int, c: int, v: float, brief: bool = False) -> str:
        """Tooltip / selection text of one cell, in words."""
        net = self.state.network
        name = f"{symbol(net, b, r, c)} = {fmt(v)}"
        g = GATE_NAMES.get(b.gate, b.gate)
        tgt = b.target(net, r, c)
        if b.part == "hh":
            what = f"weight from hₜ₋₁ {self._unit(c)} to {g} {self._unit(r)}"
            where = f"weight_hh_l0[{tgt[1]}, {tgt[2]}]"
        elif b.part == "ih":
            what = f"weight from input {c + 1} of xₜ to {g} {self._unit(r)}"
            where = f"weight_ih_l0[{tgt[1]}, {tgt[2]}]"
        elif b.part == "b" and tgt[0] == "bias":
            p = net.params
            what = (f"bias of {g} {self._unit(r)} (bias_ih + bias_hh = {fmt(p.bias_ih[tgt[1]])} + "
                    f"{fmt(p.bias_hh[tgt[1]])}; editing changes bias_ih)")
            where = f"bias_ih_l0[{tgt[1]}]"
        elif b.part == "b":
            inside = "added before rₜ multiplies" if c == 1 else "added to the input part"
            what = f"{'b_hn' if c else 'b_in'} of {g} {self._unit(r)} ({inside})"
            where = f"{tgt[0]}_l0[{tgt[1]}]"
        else:
            sym = "h" if b.part == "h0" else "C"
            what = f"initial {'hidden' if sym == 'h' else 'cell'} state of {self._unit(c)}, " \
                   f"used as {sym}ₜ₋₁ at step 1"
            where = ""
        if brief:
            return f"{name}: {what}"
        tail = f"\n{where} in the PyTorch weights (counted from 0)" if where else ""
        return f"{name}: {what}{tail}"

    def _tooltip(self, b: _Block, r: int, c: int) -> str:
        net = self.state.network
        v = entry(net, b.target(net, r, c))
        return self._describe(b, r, c, v) + "\nDrag up/down or scroll to change it (Shift: finer)."

    # ------------------------------------------------------------------ selection and cell edits

    def _select(self, b: _Block, r: int, c: int) -> None:
        if self._selected is not None:
            self._selected[0].heatmap.set_selected(None)
        self._selected = (b, r, c)
        b.heatmap.set_selected((r, c))
        self._update_selection_widgets()

    def _press(self, b: _Block, r: int, c: int) -> None:
        self._select(b, r, c)
        # "Click a cell and type a value": the keys go to the value box (else a digit
        # would be the app's shortcut for a hidden unit), its text selected to replace.
        self.spin.setFocus(Qt.FocusReason.MouseFocusReason)
        self.spin.selectAll()
        self.spin.lineEdit().setModified(False)
        self._box_from_cell = True
        self._drag_start(("cell", b.target(self.state.network, r, c)))

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802 (Qt override)
        """After a click on a cell, the value box takes only the keys that type a value.

        The click gives the box the keys so that a typed digit is a value, not a unit
        shortcut; but the user who only clicked or dragged has not gone into a text
        field: Ctrl+Z must undo the drag (the box's own undo knows nothing of it) and
        Space, the arrows, Home and End must play and step. So until the box's text is
        edited, any other key is left to the window's shortcuts (Qt asks the focused
        widget first with a ShortcutOverride; not accepted, the shortcut runs), and the
        first key typed replaces the whole value. A click into the text, or the focus
        leaving the box, makes it a plain number box again.
        """
        t = ev.type()
        keys = (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress)
        if t in keys and obj is self.spin and self._box_from_cell \
                and not self.spin.lineEdit().isModified():
            typing = self._types_a_value(ev)
            if t == QEvent.Type.ShortcutOverride and not typing:
                ev.ignore()
                return True
            if t == QEvent.Type.KeyPress and typing:
                # (a drag or an undo since the click has put a new text, unselected)
                self.spin.selectAll()
        elif t == QEvent.Type.MouseButtonPress and obj is self.spin.lineEdit():
            self._box_from_cell = False
        elif t == QEvent.Type.FocusOut and obj is self.spin and ev.reason() not in (
                Qt.FocusReason.ActiveWindowFocusReason, Qt.FocusReason.PopupFocusReason):
            self._box_from_cell = False
        return False

    @staticmethod
    def _types_a_value(ev) -> bool:
        """True for a key that begins typing a number: a digit, sign, decimal point, erase."""
        mods = Qt.KeyboardModifier
        if ev.modifiers() & ~(mods.ShiftModifier | mods.KeypadModifier):
            return False
        return Qt.Key.Key_0 <= ev.key() <= Qt.Key.Key_9 or ev.key() in TYPING_KEYS

    def _drag_start(self, what: tuple) -> None:
        """Begin one undo step: later edits with this drag's key merge into it."""
        self._flush()
        self._drag_serial += 1
        net = self.state.network
        base = entry(net, what[1]) if what[0] == "cell" else net
        self._drag = {"what": what, "base": base, "key": (what, self._drag_serial)}

    def _drag_end(self) -> None:
        self._flush()
        self._drag = None

    def _dragged(self, b: _Block, r: int, c: int, dy: float, fine: bool) -> None:
        if self._drag is None or self._drag["what"][0] != "cell":
            return
        target = self._drag["what"][1]
        value = self._drag["base"] + dy * self.drag_step(fine)
        self._propose_value(b, r, c, target, value, self._drag["key"])

    def _wheel(self, b: _Block, r: int, c: int, notches: float, fine: bool) -> None:
        if self._selected is None or self._selected[:1] != (b,) or self._selected[1:] != (r, c):
            self._select(b, r, c)
        target = b.target(self.state.network, r, c)
        if self._pending_value is not None and self._pending_value[0] == target:
            base = self._pending_value[1]
        else:
            base = entry(self.state.network, target)
        key = ("wheel", target)
        if key != self._wheel_key or not self._wheel_clock.isValid() or \
                self._wheel_clock.elapsed() > WHEEL_MERGE_MS:
            self._drag_serial += 1
        self._wheel_key = key
        self._wheel_clock.start()
        self._propose_value(b, r, c, target, base + notches * self.wheel_step(fine),
                            (key, self._drag_serial))

    def _spin_changed(self, v: float) -> None:
        if self._selected is None:
            return
        b, r, c = self._selected
        self._flush()
        target = b.target(self.state.network, r, c)
        self._propose_value(b, r, c, target, float(v), None)
        self._flush()

    def _slider_pressed(self) -> None:
        if self._selected is not None:
            b, r, c = self._selected
            self._drag_start(("cell", b.target(self.state.network, r, c)))

    def _slider_changed(self, pos: int) -> None:
        if self._selected is None:
            return
        b, r, c = self._selected
        target = b.target(self.state.network, r, c)
        value = pos / SLIDER_STEPS * self._vmax
        key = self._drag["key"] if self._drag is not None else None
        self._propose_value(b, r, c, target, value, key)
        if key is None:
            self._flush()

    def _propose_value(self, b: _Block, r: int, c: int, target: Target, value: float,
                       key: Hashable | None) -> None:
        if not math.isfinite(value):
            return
        text = f"Set {symbol(self.state.network, b, r, c)} to {fmt(value)}"
        self._propose(lambda: with_entry(self.state.network, target, value), text, key)
        self._pending_value = (target, value)

    # ------------------------------------------------------------------ gate sliders

    def _group_press(self, gate: str) -> None:
        self._drag_start(("gate", gate))

    def _group_release(self, gate: str) -> None:
        self._drag_end()
        sec = self._sections.get(gate)
        if sec is None:
            return
        for w in (sec.scale, sec.bias):
            with QSignalBlocker(w):
                w.setValue(0)
        sec.scale_label.setText("scale ×1")
        sec.bias_label.setText("bias +0")

    def _group_base(self, gate: str) -> tuple[Network, Hashable | None, bool]:
        """Network the slider is relative to, the merge key, and whether it is a mouse drag."""
        d = self._drag
        if d is not None and d["what"] == ("gate", gate):
            return d["base"], d["key"], True
        return self.state.network, None, False

    def _scale_changed(self, gate: str, pos: int) -> None:
        factor = 2.0 ** (2.0 * pos / SCALE_STEPS)
        base, key, dragging = self._group_base(gate)
        sec = self._sections[gate]
        sec.scale_label.setText(f"scale ×{factor:.2f}")
        text = f"Scale the {GATE_NAMES.get(gate, gate)} weights by {factor:.2f}"
        self._propose(lambda: scaled_gate(base, gate, factor), text, key)
        if not dragging:                    # keyboard step: apply now, spring back
            self._flush()
            self._group_release(gate)

    def _bias_changed(self, gate: str, pos: int) -> None:
        offset = pos / BIAS_STEPS * self._vmax
        base, key, dragging = self._group_base(gate)
        sec = self._sections[gate]
        unit = sec.bias_unit.currentData()
        unit = -1 if unit is None else int(unit)
        sign = "+" if offset >= 0 else ""
        sec.bias_label.setText(f"bias {sign}{cell_text(offset)}")
        who = "all units" if unit < 0 else f"unit {unit + 1}"
        text = f"Shift the {GATE_NAMES.get(gate, gate)} bias by {fmt(offset)} ({who})"
        self._propose(lambda: shifted_bias(base, gate, unit, offset), text, key)
        if not dragging:
            self._flush()
            self._group_release(gate)

    # ------------------------------------------------------------------ coalescing

    def _propose(self, make: Callable[[], Network], text: str, key: Hashable | None) -> None:
        """Remember the latest edit; the zero-delay timer applies it once (no queueing)."""
        self._pending = (make, text, key)
        self._pending_value = None
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def _cancel_pending(self) -> None:
        self._pending = None
        self._pending_value = None
        self._flush_timer.stop()

    def _flush(self) -> None:
        pending = self._pending
        self._cancel_pending()
        if pending is None:
            return
        make, text, key = pending
        self._own_edit = True
        try:
            edit(self.undo_stack, self.state, make(), text, key)
        except (WeightsError, ModelInputError) as e:   # e.g. a value the engine refuses
            self.hint.setText(f"That edit was not applied: {e}")
        finally:
            self._own_edit = False
