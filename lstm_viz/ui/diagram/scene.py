"""The cell scene: items built once per cell kind from a layout, fed each step's values.

Data flow: ``trace_changed`` -> the per-kind series function (every element's
value at every step, a few whole-array NumPy operations) and the colour-scale
limits; ``timestep_changed`` -> `CellScene.set_timestep`, which colours only
that step's rows (memoised per step) into `Look` objects with the formatted
numbers and hands them to the items, which repaint only if their look changed.
So a new trace (a weight drag) costs a few array operations plus one step's
colours, whatever T is.

A trace of another cell kind (LSTM, GRU, simple RNN) rebuilds the items from
that kind's layout.

Gradient mode (``state.show_gradients``): every element shows dL/d(element) at
the current step instead of its value (see `GRADIENTS`), coloured on one
symmetric *log* scale fitted to the whole trace's gradients (full colour at
±max|gradient|, fading to nothing over `GRAD_DECADES` decades), and each wire's
width grows with the size of its gradient.

Stepping forward by one animates: a single `QVariantAnimation` drives a phase
0..1 and each item blends from its old look to its new one inside its own
window of the phase, as listed in the layout's ``stages``. In gradient mode it
is stepping *backward* by one that animates, with the stages mirrored (output
first, then the gates, then the inputs), the way the gradient flows.

Clicking a gate box or the h_{t-1} / C_{t-1} inputs calls ``state.activate(key)``
(the window opens that element's weights); see `CLICKABLE`.
"""

from __future__ import annotations

import functools

import numpy as np
from PySide6.QtCore import QEasingCurve, QRectF, Qt, QVariantAnimation, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QGraphicsScene

from ... import explain
from ...model import GATES, Trace
from ..equations import equation_html
from ..kit import DISPLAY_LIMIT, PREFETCH_MS, IdleWork, argb_image
from ..theme import value_index
from .items import (ElementItem, LabelItem, LegendItem, Look, NodeItem, Style, TextItem,
                    ValueItem, WireItem, mix)
from .layout import LAYOUTS, LSTM_LAYOUT, CellLayout

#: Colour key of each element's identity (tooltip titles), per cell kind.
IDENTITIES = {
    "lstm": {"x": "x", "h_prev": "h", "c_prev": "c", "f": "f", "i": "i", "g": "g", "o": "o",
             "mul_f": "f", "mul_i": "i", "add": "c", "c": "c", "tanh_c": "c", "mul_o": "o",
             "h": "h"},
    "gru": {"x": "x", "h_prev": "h", "r": "r", "z": "z", "n": "n", "hn": "n", "mul_r": "r",
            "one_minus_z": "z", "mul_n": "n", "mul_z": "z", "add": "h", "h": "h"},
    "rnn": {"x": "x", "h_prev": "h", "a": "a", "h": "h"},
}
IDENTITY = IDENTITIES["lstm"]

#: How many decades of |gradient| the gradient colour and width span (below: shown as 0).
GRAD_DECADES = 3


def _prev(first: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """[first; rows[:-1]]: the value entering each step."""
    out = np.empty_like(rows)
    out[0] = first
    out[1:] = rows[:-1]
    return out


def lstm_series(trace: Trace) -> dict[str, np.ndarray]:
    """Every LSTM element's value at every step.

    Returns
    -------
    dict key -> ndarray
        ``x`` has shape (T, D); every other key (T, H).
    """
    h_prev = _prev(trace.h0, trace.h)
    c_prev = _prev(trace.c0, trace.c)
    g = trace.gates
    return {
        "x": trace.x, "h_prev": h_prev, "c_prev": c_prev,
        "f": g["f"], "i": g["i"], "g": g["g"], "o": g["o"],
        "mul_f": g["f"] * c_prev, "mul_i": g["i"] * g["g"],
        "add": trace.c, "c": trace.c, "tanh_c": np.tanh(trace.c),
        "mul_o": trace.h, "h": trace.h,
    }


def gru_series(trace: Trace) -> dict[str, np.ndarray]:
    """Every GRU element's value at every step (``hn`` = W_hn h_{t-1} + b_hn)."""
    h_prev = _prev(trace.h0, trace.h)
    r, z, n = (trace.gates[k] for k in "rzn")
    hn = trace.preacts["hn"]
    one_minus_z = 1.0 - z
    return {
        "x": trace.x, "h_prev": h_prev, "r": r, "z": z, "n": n, "hn": hn,
        "mul_r": r * hn, "one_minus_z": one_minus_z, "mul_n": one_minus_z * n,
        "mul_z": z * h_prev, "add": trace.h, "h": trace.h,
    }


def rnn_series(trace: Trace) -> dict[str, np.ndarray]:
    """Every simple-RNN element's value at every step (the tanh box ``a`` shows h_t)."""
    return {"x": trace.x, "h_prev": _prev(trace.h0, trace.h), "a": trace.h, "h": trace.h}


#: Per-kind functions giving every element's values.
SERIES = {"lstm": lstm_series, "gru": gru_series, "rnn": rnn_series}


def _pre_blocks(trace: Trace) -> dict[str, np.ndarray]:
    """dL/d(pre-activation) per gate, from ``dL_dpre`` (PyTorch row order)."""
    H = trace.hidden_size
    return {g: trace.dL_dpre[:, k * H:(k + 1) * H] for k, g in enumerate(GATES[trace.kind])}


def lstm_gradients(trace: Trace) -> dict[str, np.ndarray]:
    """dL/d(every LSTM element) at every step; gates: w.r.t. their pre-activation."""
    pre = _pre_blocks(trace)
    dc, dh = trace.dL_dc, trace.dL_dh
    return {
        "x": trace.dL_dx, "h_prev": _prev(trace.dL_dh0, dh), "c_prev": _prev(trace.dL_dc0, dc),
        **pre, "mul_f": dc, "mul_i": dc, "add": dc, "c": dc,
        "tanh_c": dh * trace.gates["o"], "mul_o": dh, "h": dh,
    }


def gru_gradients(trace: Trace) -> dict[str, np.ndarray]:
    """dL/d(every GRU element) at every step; gates: w.r.t. their pre-activation."""
    pre = _pre_blocks(trace)
    dh = trace.dL_dh
    return {
        "x": trace.dL_dx, "h_prev": _prev(trace.dL_dh0, dh), **pre,
        "hn": pre["n"] * trace.gates["r"],           # a_n = W_in x + b_in + r * hn
        "mul_r": pre["n"], "one_minus_z": dh * trace.gates["n"],
        "mul_n": dh, "mul_z": dh, "add": dh, "h": dh,
    }


def rnn_gradients(trace: Trace) -> dict[str, np.ndarray]:
    """dL/d(every simple-RNN element) at every step (``a``: w.r.t. the tanh's input)."""
    return {"x": trace.dL_dx, "h_prev": _prev(trace.dL_dh0, trace.dL_dh),
            "a": trace.dL_dpre, "h": trace.dL_dh}


#: Per-kind functions giving every element's gradient dL/d(element).
GRADIENTS = {"lstm": lstm_gradients, "gru": gru_gradients, "rnn": rnn_gradients}


def grad_strength(g: np.ndarray, gmax: float, decades: float = GRAD_DECADES) -> np.ndarray:
    """Signed strength in [-1, 1] of gradients ``g`` on the log scale fitted to ``gmax``.

    ±1 at |g| = gmax, 0 at |g| <= gmax / 10**decades, linear in log10|g| between.
    """
    g = np.asarray(g, dtype=float)
    if not gmax > 0 or not np.isfinite(gmax):
        return np.zeros_like(g)
    a = np.abs(g) / gmax
    with np.errstate(divide="ignore"):
        m = 1.0 + np.log10(a) / decades
    # NaN (an overflowed experiment) shows as no gradient; +-inf as the strongest
    return np.nan_to_num(np.sign(g), nan=0.0) * np.clip(np.nan_to_num(m, nan=0.0, neginf=0.0),
                                                        0.0, 1.0)


#: Elements a click activates, per kind: (gate boxes, inputs). The keys are the weight
#: blocks' names (`lstm_viz.model.GATES`) and "h_prev" / "c_prev" for the initial states.
CLICKABLE = {
    "lstm": (("f", "i", "g", "o"), ("h_prev", "c_prev")),
    "gru": (("r", "z", "n"), ("h_prev",)),
    "rnn": (("a",), ("h_prev",)),
}
CLICKABLE_GATES, CLICKABLE_INPUTS = CLICKABLE["lstm"]
CLICK_HINTS = {
    "lstm": {
        "f": "Click to edit its weights (W_f, b_f).",
        "i": "Click to edit its weights (W_i, b_i).",
        "g": "Click to edit its weights (W_C, b_C).",
        "o": "Click to edit its weights (W_o, b_o).",
        "h_prev": "Click to edit the starting states h_0 and C_0 (the h_{t−1} of step 1).",
        "c_prev": "Click to edit the starting states h_0 and C_0 (the C_{t−1} of step 1).",
    },
    "gru": {
        "r": "Click to edit its weights (W_ir, W_hr and its bias b_r = b_ir + b_hr).",
        "z": "Click to edit its weights (W_iz, W_hz and its bias b_z = b_iz + b_hz).",
        "n": "Click to edit its weights (W_in, W_hn and its two biases b_in, b_hn).",
        "h_prev": "Click to edit the starting state h_0 (the h_{t−1} of step 1).",
    },
    "rnn": {
        "a": "Click to edit its weights (W_ih, W_hh and its bias b = b_ih + b_hh).",
        "h_prev": "Click to edit the starting state h_0 (the h_{t−1} of step 1).",
    },
}
CLICK_HINT = CLICK_HINTS["lstm"]

#: What the fixed value scales cover, per kind, for the legend.
_SCALE_WORDS = {
    "lstm": (("unit", "gates, C̃, tanh(C), h"), ("cell", "C"), ("input", "x")),
    "gru": (("unit", "gates, n, h"), ("pre", "Wₕₙh + bₕₙ and r ⊙ it"), ("input", "x")),
    "rnn": (("unit", "h"), ("input", "x")),
}


def _qcolors(rgb: np.ndarray) -> list[QColor]:
    """QColors of an (n, 3) uint8 array."""
    return [QColor(r, g, b) for r, g, b in rgb.tolist()]


def _strip_image(argb: np.ndarray, vertical: bool) -> QImage:
    """A per-unit strip as an image of one pixel per unit (``argb``: 0xAARRGGBB values),
    along x, or down for a vertical wire; the wire scales it up to the strip."""
    return argb_image(argb[:, None] if vertical else argb[None, :])


def _overflow_ok(fn):
    """Run ``fn`` with NumPy's overflow/invalid warnings off.

    An experiment (a ReLU forget gate) can drive values to inf or NaN; the
    engine returns them as they are, and the diagram shows them as such (colours
    clipped to the scale's ends), so products that overflow here are expected.
    """
    @functools.wraps(fn)
    def quiet(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return fn(*args, **kwargs)
    return quiet


#: `theme.value_index` (as `Theme.value_rgb` colours), quiet on overflowed values.
_lut_index = _overflow_ok(value_index)


def _black_ink(color: QColor) -> bool:
    """True when black text reads better than white on ``color`` (its luminance > 0.5)."""
    return 0.2126 * color.red() + 0.7152 * color.green() + 0.0722 * color.blue() > 127.5


class CellScene(QGraphicsScene):
    """The cell picture (LSTM, GRU or simple RNN) for one `AppState`.

    Parameters
    ----------
    state : AppState
        Read for the trace, step, unit, theme, font scale and gradient mode; written
        only through ``set_focus`` (hover) and ``activate`` (click).

    ``neighbours_ready`` is emitted once stepping has paused and the steps beside the
    one shown are prepared (the view then draws them ahead, `CellDiagramView`).
    """

    neighbours_ready = Signal()

    def __init__(self, state, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.layout_spec: CellLayout = LAYOUTS.get(state.trace.kind, LSTM_LAYOUT)
        self.setSceneRect(QRectF(0, 0, *self.layout_spec.size))
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self._t = -1
        self._series: dict[str, np.ndarray] = {}    # what is shown: values or gradients
        self._grad = bool(state.show_gradients)
        self._gmax = 0.0
        self._gbroken = False         # some gradients are inf or NaN (an overflowed experiment)
        self._vmax: dict[str, float] = {}
        self._vclipped: dict[str, float] = {}  # scales cut at DISPLAY_LIMIT -> the largest |value|
        self._scale_of: dict[str, str] = {}
        self._looks_at: dict[int, tuple[dict, dict]] = {}   # step -> looks (memo)
        # once stepping pauses, the looks of the steps beside the one shown (a first
        # visit to a step otherwise computes them while the user waits)
        self._prefetch = IdleWork(self, self._prefetch_neighbours, PREFETCH_MS)
        self._qlut: list[QColor] = []                        # the value scale's 256 colours
        self._lut32 = np.zeros(0, dtype=np.uint32)           # ... as 0xAARRGGBB (strips)
        self._hover_key = ""
        self._clicked = False
        self._supported = True
        self._style = Style(state.theme, state.font_scale)

        self.wires: dict[str, WireItem] = {}
        self.nodes: dict[str, NodeItem] = {}
        self.values: dict[str, ValueItem] = {}
        self.labels: list[LabelItem] = []
        self._build(self.layout_spec)

        self._anim = QVariantAnimation(self)
        self._anim.setStartValue(0.0)
        self._anim.setEndValue(1.0)
        self._anim.setEasingCurve(QEasingCurve.Type.Linear)
        self._anim.valueChanged.connect(self._on_phase)
        self._anim.finished.connect(lambda: self._on_phase(1.0))
        self._windows = self._windows_fwd

        state.trace_changed.connect(self._on_trace)
        state.timestep_changed.connect(self._on_timestep)
        state.unit_changed.connect(self._on_unit)
        state.focus_changed.connect(self._on_focus)
        state.appearance_changed.connect(self._on_appearance)
        state.gradients_shown.connect(self._on_gradients)
        self._on_appearance()
        self._on_trace()

    # ------------------------------------------------------------------ building

    @property
    def kind(self) -> str:
        """The cell kind drawn now ("lstm", "gru" or "rnn")."""
        return self.layout_spec.kind

    @property
    def gradient_mode(self) -> bool:
        """True while the picture shows gradients dL/d(...) instead of values."""
        return self._grad

    def _build(self, lay: CellLayout) -> None:
        sink = self._on_hover
        self._body = QRectF(*lay.body)
        for spec in lay.wires:
            bridges = [b for b in lay.bridges
                       if any(p0[0] == p1[0] == b[0] and min(p0[1], p1[1]) < b[1] < max(p0[1], p1[1])
                              for path in spec.paths for p0, p1 in zip(path, path[1:]))]
            item = WireItem(spec, sink if spec.key else None, bridges)
            item.setZValue(1 if bridges else 0)
            item.set_thin_casing(self._grad and bool(spec.key))
            self.addItem(item)
            if spec.key:
                self.wires[spec.key] = item
            else:
                self.bus = item
            if spec.value_at is not None:
                v = ValueItem(spec.key, spec.value_at[0], spec.value_at[1], sink)
                self.addItem(v)
                self.values[spec.key] = v
            for text, at, align in spec.labels:
                lab = LabelItem(spec.key, lambda th, s=text: equation_html(s, th), at, align, sink)
                self.addItem(lab)
                self.labels.append(lab)
        for spec in lay.nodes:
            node = NodeItem(spec, sink)
            self.addItem(node)
            self.nodes[spec.key] = node
        self.caption = TextItem(lay.caption_at, lay.size[0] * 0.75)
        self.addItem(self.caption)
        lx, ly = lay.legend_at
        self.legend = LegendItem(lay.legend_at, (lay.size[0] - lx - 8, lay.size[1] - ly - 2))
        self.addItem(self.legend)
        self.note = TextItem((lay.size[0] * 0.15, lay.size[1] * 0.4), lay.size[0] * 0.7,
                             align=Qt.AlignmentFlag.AlignHCenter)
        self.addItem(self.note)
        self.note.setVisible(False)
        for item in self.clickable_items():
            item.setCursor(Qt.CursorShape.PointingHandCursor)
        self._scale_of = {w.spec.key: w.spec.scale for w in self.wires.values()}
        # Animation windows, looked up once: forward, and mirrored for a backward step.
        self._windows_fwd, self._windows_rev = [], []
        for item in self.element_items():
            s, e = lay.stages.get(item.key, (0.0, 1.0))
            inv = 1.0 / max(e - s, 1e-6)
            self._windows_fwd.append((item, s, inv))
            self._windows_rev.append((item, 1.0 - e, inv))

    def _rebuild(self, lay: CellLayout) -> None:
        """Replace every item by those of layout ``lay`` (the trace's cell kind changed)."""
        self._anim.stop()
        self._hover_key = ""
        self.clear()                          # deletes the old items
        self.wires, self.nodes, self.values, self.labels = {}, {}, {}, []
        self.layout_spec = lay
        self.setSceneRect(QRectF(0, 0, *lay.size))
        self._build(lay)
        self._windows = self._windows_fwd
        for item in self._styled_items():
            item.set_style(self._style)
        self._t = -1
        self._looks_at = {}
        self.invalidate(self.sceneRect(), QGraphicsScene.SceneLayer.BackgroundLayer)
        focus = self.state.focus
        self._on_focus(focus)

    def _styled_items(self) -> list:
        return [*self.element_items(), *self.labels, self.caption, self.legend, self.note]

    def element_items(self) -> list[ElementItem]:
        """Every item that shows a value (wires, nodes, numbers), bus included."""
        return [self.bus, *self.wires.values(), *self.nodes.values(), *self.values.values()]

    def clickable_keys(self) -> tuple[str, ...]:
        """Element keys a click activates in this picture (gate boxes, then inputs)."""
        gates, inputs = CLICKABLE.get(self.kind, ((), ()))
        return gates + inputs

    def clickable_items(self) -> list:
        """Items a click activates: the gate boxes and everything of the h_{t-1}, C_{t-1} inputs."""
        gates, inputs = CLICKABLE.get(self.kind, ((), ()))
        out = [self.nodes[k] for k in gates if k in self.nodes]
        for key in inputs:
            out += self.items_for(key)
        return out

    def clickable_key_at(self, pos) -> str:
        """The element key a click at scene point ``pos`` activates ("" for none)."""
        clickable = self.clickable_items()
        for item in self.items(pos):
            if item in clickable and item.isVisible():
                return item.key
        return ""

    def mousePressEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        if ev.button() == Qt.MouseButton.LeftButton and self._series:
            key = self.clickable_key_at(ev.scenePos())
            if key:
                ev.accept()
                self._clicked = True
                self.state.activate(key)
                return
        super().mousePressEvent(ev)

    def mouseReleaseEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        if self._clicked and ev.button() == Qt.MouseButton.LeftButton:
            self._clicked = False
            ev.accept()                     # the press activated an element: the click is used
            return
        super().mouseReleaseEvent(ev)

    def items_for(self, key: str) -> list:
        """All items (wire, node, number, labels) of element ``key``."""
        out = [it for it in (self.wires.get(key), self.nodes.get(key), self.values.get(key)) if it]
        return out + [lab for lab in self.labels if lab.key == key]

    # ------------------------------------------------------------------ state slots

    def _on_trace(self) -> None:
        self._anim.stop()
        tr = self.state.trace
        lay = LAYOUTS.get(tr.kind)
        if lay is not None and lay is not self.layout_spec:
            self._rebuild(lay)
        supported = lay is not None and tr.kind in SERIES
        if supported != self._supported:
            self._supported = supported
            for item in self.items():
                if item is not self.note:
                    item.setVisible(supported)
            self.note.setVisible(not supported)
            self.invalidate(self.sceneRect(), QGraphicsScene.SceneLayer.BackgroundLayer)
        if not supported:
            self._series = {}
            self.note.set_text(f"This model is a {tr.kind.upper()}; the cell diagram has no "
                               "picture for it. The strip, the plots and the numbers show it.")
            return
        if "f" in self.nodes and tr.kind == "lstm":
            relu = self.state.options.forget_activation == "relu"
            self.nodes["f"].set_symbol("ReLU" if relu else self.nodes["f"].spec.symbol)
        self._load_series()
        self.set_timestep(self.state.timestep)

    @_overflow_ok
    def _load_series(self) -> None:
        """What the picture shows for the current trace: values or gradients, and their scales.

        Whole-array NumPy work only (no per-step colours: `set_timestep` does those).
        """
        tr = self.state.trace
        self._looks_at = {}
        if self._grad:
            self._series = GRADIENTS[tr.kind](tr)
            finite = [np.abs(a[np.isfinite(a)]) for a in self._series.values()]
            self._gmax = float(max((f.max() for f in finite if f.size), default=0.0))
            self._gbroken = any(f.size < a.size for f, a in zip(finite, self._series.values()))
        else:
            self._series = SERIES[tr.kind](tr)
            vmax, peak = {"unit": 1.0}, {}
            for key, scale in self._scale_of.items():
                if scale != "unit":
                    a = np.abs(self._series[key])
                    m = float(np.max(a))
                    if not np.isfinite(m):                 # inf or NaN: the finite ones' scale
                        fin = a[np.isfinite(a)]
                        m = float(fin.max()) if fin.size else 1.0
                        peak[scale] = np.inf
                    peak[scale] = max(peak.get(scale, 0.0), m)
                    vmax[scale] = max(vmax.get(scale, 1.0), min(m, DISPLAY_LIMIT))
            self._vmax = vmax
            # scales cut at DISPLAY_LIMIT, with what they would have reached (the legend says)
            self._vclipped = {k: v for k, v in peak.items() if v > DISPLAY_LIMIT}
        for key, w in self.wires.items():
            w.set_units(self._series[key].shape[1])

    def _on_timestep(self, t: int) -> None:
        self._prefetch.poke()          # (after a step; an edit drops what it would prepare)
        if not self._series or self.state.animation_ms <= 0:
            self.set_timestep(t)
        elif self._grad:
            self.set_timestep(t, animate=t == self._t - 1, reverse=True)
        else:
            self.set_timestep(t, animate=t == self._t + 1)

    def _on_unit(self, _u: int) -> None:
        self._looks_at = {}
        self.set_timestep(self.state.timestep)

    def _on_gradients(self, on: bool) -> None:
        on = bool(on)
        if on == self._grad:
            return
        self._anim.stop()
        self._grad = on
        for wire in self.wires.values():
            wire.set_thin_casing(on)
        self.invalidate(self.sceneRect(), QGraphicsScene.SceneLayer.BackgroundLayer)
        if self._supported and self._series:
            self._load_series()
            self.set_timestep(self.state.timestep)

    def _on_focus(self, key: str) -> None:
        for item in self.element_items():
            item.set_highlight(bool(key) and item.key == key)

    def _on_appearance(self) -> None:
        self._style = Style(self.state.theme, self.state.font_scale)
        self._qlut = _qcolors(self._style.theme.lut(256)[:, :3])
        self._lut32 = self._style.theme.lut_argb()
        self.setBackgroundBrush(self._style.background)
        self.invalidate(self.sceneRect(), QGraphicsScene.SceneLayer.BackgroundLayer)
        for item in self._styled_items():
            item.set_style(self._style)
        if self._series:
            self._looks_at = {}
            self.set_timestep(self.state.timestep)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 (Qt override)
        """Background colour, the cell body and every wire's casing and arrow heads.

        None of these change with the step, so the view caches this layer
        (``CacheBackground``); it is invalidated on a theme, font, kind or mode change.
        """
        st = self._style
        painter.fillRect(rect, st.background)
        if not self._supported:
            return
        painter.setPen(st.body_pen)
        painter.setBrush(st.body_fill)
        painter.drawRoundedRect(self._body, 24, 24)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for wire in [self.bus, *self.wires.values()]:
            wire.paint_static(painter, st)

    def _on_hover(self, key: str, entered: bool) -> None:
        if entered:
            self._hover_key = key
            self._refresh_tooltip()
            self.state.set_focus(key)
        elif self._hover_key == key:
            self._hover_key = ""
            self.state.set_focus("")

    # ------------------------------------------------------------------ per step

    @property
    def timestep(self) -> int:
        return self._t

    def is_animating(self) -> bool:
        return self._anim.state() == QVariantAnimation.State.Running

    @property
    def animating_backward(self) -> bool:
        """True while a step animates in the mirrored (backward-pass) order."""
        return self.is_animating() and self._windows is self._windows_rev

    def set_timestep(self, t: int, animate: bool = False, reverse: bool = False) -> None:
        """Show step ``t``; ``animate`` plays the step over ``state.animation_ms``,
        in the layout's stage order, or mirrored (last stage first) with ``reverse``."""
        if not self._series:
            return
        was_running = self.is_animating()
        self._anim.stop()
        if was_running:
            self._on_phase(1.0)             # land the interrupted step before the next one
        T = self.state.trace.steps
        t = min(max(int(t), 0), T - 1)
        self._t = t
        looks = self._looks_at.get(t)
        if looks is None:
            looks = self._looks_at[t] = self._looks(t, self.state.unit)
        wires, nodes = looks
        self.bus.show_look(wires[""], animate)
        for key, item in self.wires.items():
            item.show_look(wires[key], animate)
        for key, item in self.values.items():
            item.show_look(wires[key], animate)
        for key, item in self.nodes.items():
            item.show_look(nodes[key], animate)
        self._update_texts(t)
        self._refresh_tooltip()
        if animate:
            self._windows = self._windows_rev if reverse else self._windows_fwd
            self._anim.setDuration(int(self.state.animation_ms))
            self._anim.start()

    def play_backward_step(self) -> None:
        """In gradient mode, play the step shown backward: every element starts with no
        gradient and fills in from the outputs back to the inputs (the stages in reverse),
        as the gradient flows through the cell. Nothing without animation."""
        if not (self._grad and self._series) or self.state.animation_ms <= 0:
            return
        t = self._t
        looks = self._looks_at.get(t)
        if looks is None:
            looks = self._looks_at[t] = self._looks(t, self.state.unit)
        wires, nodes = self._blank_looks(looks[0])
        self._anim.stop()
        self.bus.show_look(wires[""])
        for key, item in self.wires.items():
            item.show_look(wires[key])
        for key, item in self.values.items():
            item.show_look(wires[key])
        for key, item in self.nodes.items():
            item.show_look(nodes[key])
        self.set_timestep(t, animate=True, reverse=True)

    def _blank_looks(self, wires: dict[str, Look]) -> tuple[dict[str, Look], dict[str, Look]]:
        """The looks of ``wires`` and of every node with no gradient at all (each a zero)."""
        st = self._style
        zero_at = int(_lut_index(np.zeros(1), 1.0)[0])
        zero, zero32 = self._qlut[zero_at], int(self._lut32[zero_at])
        blank: dict[str, Look] = {}
        for key, look in wires.items():
            strip = None
            if look.strip is not None:
                strip = QImage(look.strip.size(), QImage.Format.Format_RGB32)
                strip.fill(zero32)
            core = st.neutral if (look.cells or key == "") else zero
            blank[key] = Look(core, "", (zero,) * len(look.cells), None, 0.0, strip)
        black, white = QColor("#000000"), QColor("#FFFFFF")
        out: dict[str, Look] = {}
        for key, node in self.nodes.items():
            fill = (mix(st.background, st.theme.gate_color(node.spec.color), 0.15)
                    if node.spec.color else QColor(st.background))
            out[key] = Look(fill, "", (), black if _black_ink(fill) else white)
        return blank, out

    def _prefetch_neighbours(self) -> None:
        """Compute the looks and lay out the caption of the next and the previous step,
        if not known yet."""
        if not self._series:
            return
        T = self.state.trace.steps
        for t in (self._t + 1, self._t - 1):
            if 0 <= t < T and t not in self._looks_at:
                self._looks_at[t] = self._looks(t, self.state.unit)
            if 0 <= t < T:
                self.caption.prepare(self._caption(t))
        self.neighbours_ready.emit()

    def frame_key(self) -> tuple[tuple, list] | None:
        """What the picture depends on now: ``(key, pins)``, where equal keys draw equal
        pixels (each item's `frame_state`, the background's inputs) and ``pins`` keeps
        the objects whose ids the key holds alive. None while a step animates."""
        if self.is_animating():
            return None
        pins: list = [self._style, self.layout_spec]
        key = [id(self._style), id(self.layout_spec), self._supported]
        for item in self.items():
            state = getattr(item, "frame_state", None)
            if state is None:
                return None                 # an item that cannot say what it draws
            key.append(state(pins))
        return tuple(key), pins

    def _on_phase(self, phase) -> None:
        phase = float(phase)
        for item, start, inv in self._windows:
            item.set_progress(round((phase - start) * inv, 9))    # 1.0 exactly at the end

    def shown_values(self, key: str) -> np.ndarray:
        """The numbers element ``key`` shows at the current step (values or gradients)."""
        return self._series[key][self._t]

    @_overflow_ok
    def _looks(self, t: int, unit: int) -> tuple[dict[str, Look], dict[str, Look]]:
        """What every wire (and its number) and every node shows at step ``t``.

        Colours only row ``t`` of each series, all hidden-size rows in one array
        operation. Returns ``(wire_looks, node_looks)`` by element key; ``unit`` -1
        means all units.
        """
        st = self._style
        th = st.theme
        grad = self._grad
        qlut = self._qlut
        series = self._series
        keys = [k for k in series if k != "x"]
        rows = np.stack([series[k][t] for k in keys])                       # (K, H)
        x_row = series["x"][t]
        if grad:
            m = grad_strength(rows, self._gmax)
            mx = grad_strength(x_row, self._gmax)
            at, at_x = _lut_index(m, 1.0), _lut_index(mx, 1.0)
            mag, mag_x = np.abs(m), np.abs(mx)
        else:
            vmax = np.array([self._vmax[self._scale_of.get(k, "unit")] for k in keys])
            at = _lut_index(rows, vmax[:, None])
            at_x = _lut_index(x_row, self._vmax.get("input", 1.0))
            mag, mag_x = np.abs(rows), np.abs(x_row)
        idx, idx_x = at.tolist(), at_x.tolist()
        if unit >= 0:
            strengths = mag[:, unit]
        else:
            strengths = mag.max(axis=1) if grad else mag.mean(axis=1)
        # an overflowed experiment: a NaN shows pale (no strength), inf as full
        strengths = np.nan_to_num(strengths, nan=0.0, posinf=1.0)
        mag_x = np.nan_to_num(mag_x, nan=0.0, posinf=1.0)

        wires: dict[str, Look] = {"": Look(st.neutral)}
        strength: dict[str, float] = {}
        for n, key in enumerate(keys):
            a = float(strengths[n])
            strength[key] = a
            width = _width(a) if grad else 0.0
            if unit >= 0:
                wires[key] = Look(qlut[idx[n][unit]], number_text(rows[n, unit]), (), None, width)
            else:
                core = mix(st.neutral, st.flow, a) if grad else st.neutral
                wire = self.wires.get(key)              # (a node's key has no strip)
                strip = _strip_image(self._lut32[at[n]], wire.spec.vertical) if wire else None
                wires[key] = Look(core, "", tuple([qlut[i] for i in idx[n]]), None, width, strip)
        # The input: one number when it is a single value, else a strip per input feature.
        if x_row.shape[0] == 1:
            a = float(mag_x[0])
            wires["x"] = Look(qlut[idx_x[0]], number_text(x_row[0]), (), None,
                              _width(a) if grad else 0.0)
        else:
            a = float(mag_x.max()) if grad else float(mag_x.mean())
            wires["x"] = Look(mix(st.neutral, st.flow, a) if grad else st.neutral, "",
                              tuple([qlut[i] for i in idx_x]), None, _width(a) if grad else 0.0,
                              _strip_image(self._lut32[at_x], self.wires["x"].spec.vertical))
        nodes: dict[str, Look] = {}
        black, white = QColor("#000000"), QColor("#FFFFFF")
        bg = st.background
        for key, node in self.nodes.items():
            if node.spec.color:
                # Gate boxes: their own colour, solid when open (or, for gradients, when
                # the gradient is large), pale when shut.
                a = strength[key]
                w = (0.15 + 0.85 * a) if grad else (0.25 + 0.75 * min(a, 1.0))
                fill = mix(bg, th.gate_color(node.spec.color), w)
            else:
                fill = QColor(bg)
            ink = black if _black_ink(fill) else white
            nodes[key] = Look(fill, wires[key].text, (), ink)
        return wires, nodes

    def _caption(self, t: int) -> str:
        """The caption at step ``t``: the state's step title, and in gradient mode what
        the wires show."""
        caption = self.state.step_title(t)
        if self._grad:
            s = self.state.trace.loss_step
            if t <= s:
                caption += " · dL/d(·)"
            elif t == s + 1:       # the state brought in from the loss step has its gradient
                caption += " · dL/d(·): " + ("only hₜ₋₁ and Cₜ₋₁" if self.kind == "lstm"
                                             else "only hₜ₋₁") + " non-zero"
            else:
                caption += " · dL/d(·) = 0"
        return caption

    def _update_texts(self, t: int) -> None:
        st = self.state
        s = st.trace.loss_step
        self.caption.set_text(self._caption(t))
        if self._grad:
            if self._gmax > 0:
                note = (f"Gradients dL/d(·), loss at step {s + 1}"
                        + (" (0 for what later steps compute)" if s < st.trace.steps - 1 else "")
                        + f". Colour and width on a log scale: full at "
                        f"±{explain.fmt(self._gmax)}, 0 below "
                        f"±{explain.fmt(self._gmax / 10 ** GRAD_DECADES)}.")
            else:
                note = (f"Gradients dL/d(·), loss at step {s + 1}: all 0 "
                        + ("(the loss has no slope at h on that step)."
                           if st.trace.loss_class is not None else
                           "(h there equals the target)."))
            if self._gbroken:
                note = (f"Gradients dL/d(·), loss at step {s + 1}: some are infinite or NaN "
                        "(the experiment overflowed); the scale uses the finite ones.")
        else:
            note = self._scale_note()
        if st.unit < 0:
            note += " Strips: one cell per unit."
        self.legend.set_note(note)

    def _scale_note(self) -> str:
        """What the wire colours' fixed scales are, wires that share a range named together:
        "±1.00 for gates, C̃, tanh(C), h; ±3.20 for C; ±1.00 for x" when the cell state
        goes past 1, "±1.00 for every wire" when nothing does."""
        groups: dict[str, list[str]] = {}         # the range as shown -> what it covers
        for scale, words in _SCALE_WORDS.get(self.kind, ()):
            top = explain.fmt(self._vmax.get(scale, 1.0))
            if scale in self._vclipped:            # its own group: the note says how far it went
                top = (top, scale)
            groups.setdefault(top, []).append(words)
        if len(groups) == 1:
            return f"Wire colour = value on one fixed scale, ±{next(iter(groups))} for every wire."
        parts = []
        for v, words in groups.items():
            if isinstance(v, tuple):
                v, scale = v
                reach = self._vclipped[scale]
                far = "±∞ or NaN" if not np.isfinite(reach) else f"±{explain.fmt(reach)}"
                parts.append(f"±{v} for " + ", ".join(words) + f" (⚠ clipped: reaches {far})")
            else:
                parts.append(f"±{v} for " + ", ".join(words))
        return "Wire colour = value on a fixed scale: " + "; ".join(parts) + "."

    # ------------------------------------------------------------------ explanations

    def tooltip_html(self, key: str) -> str:
        """Rich text explaining element ``key`` at the current step (gate-coloured title).

        In gradient mode it explains the gradient dL/d(key) instead of the value.
        """
        st = self.state
        if not self._series:
            return ""
        try:
            fn = explain.explain_gradient if self._grad else explain.explain
            e = fn(st.trace, self._t, st.unit, key, st.network)
        except (KeyError, ValueError):
            return ""
        th = st.theme
        color = th.gate_color(IDENTITIES.get(self.kind, IDENTITY).get(key, "h")).name()
        hints = CLICK_HINTS.get(self.kind, {})
        hint = (f"<div style='margin-top:6px; color:{th.muted}'>"
                f"{equation_html(hints[key], th)}</div>" if key in hints else "")
        px = round(th.base_point_size * st.font_scale * 4 / 3 * 1.1)
        numeric = "<br>".join(equation_html(line, th) for line in e.numeric.split("\n"))
        return (f"<div style='font-size:{px}px'>"
                f"<div style='color:{color}; font-weight:bold; font-size:{round(px * 1.15)}px'>"
                f"{equation_html(e.title, th)}</div>"
                f"<div>{equation_html(e.symbolic, th)}</div>"
                f"<div style='margin-top:4px'>{numeric}</div>"
                f"<div style='margin-top:6px'><i>{equation_html(e.meaning, th)}</i></div>"
                f"{hint}</div>")

    def _refresh_tooltip(self) -> None:
        key = self._hover_key
        if not key:
            return
        tip = self.tooltip_html(key)
        for item in self.items_for(key):
            item.setToolTip(tip)


def number_text(v: float) -> str:
    """A number as the diagram writes it: `explain.fmt`, but tiny values with one significant
    digit (``−4e−7``), so a gradient fits the room a value has. Hovers give more digits."""
    v = float(v)
    if 0.0 < abs(v) < 0.0005:
        return f"{v:.0e}".replace("e-0", "e-").replace("e+0", "e").replace("-", "−")
    return explain.fmt(v)


#: Width of a wire's core in gradient mode, from the gradient's strength 0..1 (scene units).
GRAD_WIDTH_MIN, GRAD_WIDTH_MAX = 3.0, 22.0


def _width(strength: float) -> float:
    """Core width for a gradient of log-scale ``strength`` 0..1 (rounded: cached outlines)."""
    return float(round(GRAD_WIDTH_MIN + (GRAD_WIDTH_MAX - GRAD_WIDTH_MIN) * min(strength, 1.0)))
