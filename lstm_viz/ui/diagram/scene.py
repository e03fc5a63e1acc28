"""The cell scene: items built once from a layout, fed each step's values from the Trace.

Data flow: ``trace_changed`` (or a unit / theme change) -> `lstm_series` (every
element's value at every step) and, in one vectorised pass over the whole
(T, ...) arrays, every wire's, strip cell's and gate box's colour at every step;
``timestep_changed`` -> `CellScene.set_timestep` only picks that step's
precomputed colours, wraps them in `Look` objects (memoised per step, with the
formatted numbers) and hands them to the items, which repaint only if their
look changed. Stepping forward by one animates: a single
`QVariantAnimation` drives a phase 0..1 and each item blends from its old look
to its new one inside its own window of the phase (inputs, gates, forget,
write, output), as listed in the layout's ``stages``.

Clicking a gate box (f, i, g, o) or the h_{t-1} / C_{t-1} inputs calls
``state.activate(key)`` (the window opens that element's weights).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEasingCurve, QRectF, Qt, QVariantAnimation
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QGraphicsScene

from ... import explain
from ...model import Trace
from ..equations import equation_html
from .items import (ElementItem, LabelItem, LegendItem, Look, NodeItem, Style, TextItem,
                    ValueItem, WireItem)
from .layout import LAYOUTS, LSTM_LAYOUT, CellLayout

#: Colour key of each element's identity (tooltip titles).
IDENTITY = {
    "x": "x", "h_prev": "h", "c_prev": "c", "f": "f", "i": "i", "g": "g", "o": "o",
    "mul_f": "f", "mul_i": "i", "add": "c", "c": "c", "tanh_c": "c", "mul_o": "o", "h": "h",
}


def lstm_series(trace: Trace) -> dict[str, np.ndarray]:
    """Every LSTM element's value at every step.

    Returns
    -------
    dict key -> ndarray
        ``x`` has shape (T, D); every other key (T, H).
    """
    h_prev = np.vstack([trace.h0[None], trace.h[:-1]])
    c_prev = np.vstack([trace.c0[None], trace.c[:-1]])
    g = trace.gates
    return {
        "x": trace.x, "h_prev": h_prev, "c_prev": c_prev,
        "f": g["f"], "i": g["i"], "g": g["g"], "o": g["o"],
        "mul_f": g["f"] * c_prev, "mul_i": g["i"] * g["g"],
        "add": trace.c, "c": trace.c, "tanh_c": np.tanh(trace.c),
        "mul_o": trace.h, "h": trace.h,
    }


#: Per-kind functions giving every element's values; add GRU / RNN here with their layouts.
SERIES = {"lstm": lstm_series}

#: Elements a click opens (gate boxes: their weights; inputs h_{t-1}, C_{t-1}).
CLICKABLE_GATES = ("f", "i", "g", "o")
CLICKABLE_INPUTS = ("h_prev", "c_prev")
CLICK_HINT = {
    "f": "Click to edit its weights (W_f, b_f).",
    "i": "Click to edit its weights (W_i, b_i).",
    "g": "Click to edit its weights (W_c, b_c).",
    "o": "Click to edit its weights (W_o, b_o).",
    "h_prev": "Click to edit its weights: the starting states h_0 and C_0 (the h_{t−1} of step 1).",
    "c_prev": "Click to edit its weights: the starting states h_0 and C_0 (the C_{t−1} of step 1).",
}


def _qcolors(rgb: np.ndarray) -> list[QColor]:
    """QColors of an (n, 3) uint8 array."""
    return [QColor(r, g, b) for r, g, b in rgb.tolist()]


def _ink(rgb: np.ndarray) -> np.ndarray:
    """True where black text reads better than white on each (..., 3) uint8 colour."""
    lum = rgb.astype(float) @ np.array([0.2126, 0.7152, 0.0722]) / 255.0
    return lum > 0.5


class CellScene(QGraphicsScene):
    """The LSTM cell picture for one `AppState`.

    Parameters
    ----------
    state : AppState
        Read for the trace, step, unit, theme and font scale; written only through
        ``set_focus`` (hover).
    """

    def __init__(self, state, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.layout_spec: CellLayout = LSTM_LAYOUT
        self.setSceneRect(QRectF(0, 0, *self.layout_spec.size))
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self._t = -1
        self._unit = state.unit
        self._series: dict[str, np.ndarray] = {}
        self._vmax: dict[str, float] = {}
        self._rgb: dict[str, np.ndarray] = {}       # key -> (T, n, 3) uint8 value colours
        self._fill: dict[str, np.ndarray] = {}      # gate key -> (T, 3) uint8 box fill
        self._looks_at: dict[int, tuple[dict, dict]] = {}   # step -> looks (memo)
        self._hover_key = ""
        self._clicked = False
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

        state.trace_changed.connect(self._on_trace)
        state.timestep_changed.connect(self._on_timestep)
        state.unit_changed.connect(self._on_unit)
        state.focus_changed.connect(self._on_focus)
        state.appearance_changed.connect(self._on_appearance)
        self._on_appearance()
        self._on_trace()

    # ------------------------------------------------------------------ building

    def _build(self, lay: CellLayout) -> None:
        sink = self._on_hover
        self._body = QRectF(*lay.body)
        self._supported = True
        for spec in lay.wires:
            bridges = [b for b in lay.bridges
                       if any(p0[0] == p1[0] == b[0] and min(p0[1], p1[1]) < b[1] < max(p0[1], p1[1])
                              for path in spec.paths for p0, p1 in zip(path, path[1:]))]
            item = WireItem(spec, sink if spec.key else None, bridges)
            item.setZValue(1 if bridges else 0)
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
        for item in self.clickable_items():
            item.setCursor(Qt.CursorShape.PointingHandCursor)
        # Animation windows, looked up once.
        self._windows = []
        for item in self.element_items():
            s, e = lay.stages.get(item.key, (0.0, 1.0))
            self._windows.append((item, s, 1.0 / max(e - s, 1e-6)))

    def element_items(self) -> list[ElementItem]:
        """Every item that shows a value (wires, nodes, numbers), bus included."""
        return [self.bus, *self.wires.values(), *self.nodes.values(), *self.values.values()]

    def clickable_items(self) -> list:
        """Items a click activates: the gate boxes and everything of the h_{t-1}, C_{t-1} inputs."""
        out = [self.nodes[k] for k in CLICKABLE_GATES if k in self.nodes]
        for key in CLICKABLE_INPUTS:
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
        fn = SERIES.get(tr.kind)
        supported = fn is not None and LAYOUTS.get(tr.kind) is self.layout_spec
        if supported != self._supported:
            self._supported = supported
            self.invalidate(self.sceneRect(), QGraphicsScene.SceneLayer.BackgroundLayer)
        for item in self.items():
            if item is not self.note:
                item.setVisible(supported)
        self.note.setVisible(not supported)
        if not supported:
            self._series = {}
            self.note.set_text(f"This model is a {tr.kind.upper()}. The cell diagram is drawn for "
                               "LSTM cells; the strip, the plots and the numbers show this cell.")
            return
        self._series = fn(tr)
        c_abs = max(float(np.max(np.abs(self._series["c"]))),
                    float(np.max(np.abs(self._series["c_prev"]))))
        self._vmax = {"unit": 1.0, "cell": max(1.0, c_abs),
                      "input": max(1.0, float(np.max(np.abs(tr.x))))}
        self._scale_of = {w.spec.key: w.spec.scale for w in self.wires.values()}
        for key, w in self.wires.items():
            w.set_units(self._series[key].shape[1])
        self._precompute()
        self.set_timestep(self.state.timestep)

    def _precompute(self) -> None:
        """Every element's colours at every step, in one vectorised pass per element.

        Run on a new trace, unit or theme; `set_timestep` then only picks rows.
        """
        self._looks_at = {}
        if not self._series:
            return
        th, st, unit = self._style.theme, self._style, self.state.unit
        self._rgb = {key: th.value_rgb(series, self._vmax[self._scale_of.get(key, "unit")])
                     for key, series in self._series.items()}
        # Gate boxes: their own colour, solid when open, pale when shut.
        bg = np.array(st.background.getRgb()[:3], dtype=float)
        self._fill = {}
        for key, node in self.nodes.items():
            if node.spec.color:
                vals = np.abs(self._series[key])
                a = vals[:, unit] if unit >= 0 else vals.mean(axis=1)
                w = (0.25 + 0.75 * np.minimum(a, 1.0))[:, None]
                gate = np.array(th.gate_color(node.spec.color).getRgb()[:3], dtype=float)
                # Same rounding as mixing the two QColors one by one.
                self._fill[key] = np.floor(bg + (gate - bg) * w + 0.5).astype(np.uint8)

    def _on_timestep(self, t: int) -> None:
        animate = (self._series and t == self._t + 1 and self.state.animation_ms > 0)
        self.set_timestep(t, animate=bool(animate))

    def _on_unit(self, _u: int) -> None:
        self._precompute()
        self.set_timestep(self.state.timestep)

    def _on_focus(self, key: str) -> None:
        for item in self.element_items():
            item.set_highlight(bool(key) and item.key == key)

    def _on_appearance(self) -> None:
        self._style = Style(self.state.theme, self.state.font_scale)
        self.setBackgroundBrush(self._style.background)
        self.invalidate(self.sceneRect(), QGraphicsScene.SceneLayer.BackgroundLayer)
        for item in [*self.element_items(), *self.labels, self.caption, self.legend,
                     self.note]:
            item.set_style(self._style)
        if self._series:
            self._precompute()
            self.set_timestep(self.state.timestep)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 (Qt override)
        """Background colour, the cell body and every wire's casing and arrow heads.

        None of these change with the step, so the view caches this layer
        (``CacheBackground``); it is invalidated on a theme or font change.
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

    def set_timestep(self, t: int, animate: bool = False) -> None:
        """Show step ``t``; ``animate`` plays the step's computation over ``state.animation_ms``."""
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
            self._anim.setDuration(int(self.state.animation_ms))
            self._anim.start()

    def _on_phase(self, phase) -> None:
        phase = float(phase)
        for item, start, inv in self._windows:
            item.set_progress((phase - start) * inv)

    def _looks(self, t: int, unit: int) -> tuple[dict[str, Look], dict[str, Look]]:
        """What every wire (and its number) and every node shows at step ``t``.

        Picks row ``t`` of the precomputed colour arrays (no colour maths here).
        Returns ``(wire_looks, node_looks)`` by element key; ``unit`` -1 means all units.
        """
        st = self._style
        wires: dict[str, Look] = {"": Look(st.neutral)}
        for key, series in self._series.items():
            rgb = self._rgb[key][t]
            if unit >= 0 and key != "x":
                wires[key] = Look(QColor(*rgb[unit].tolist()), explain.fmt(series[t, unit]))
            elif key == "x" and rgb.shape[0] == 1:
                wires[key] = Look(QColor(*rgb[0].tolist()), explain.fmt(series[t, 0]))
            else:
                wires[key] = Look(st.neutral, "", tuple(_qcolors(rgb)))
        nodes: dict[str, Look] = {}
        black, white = QColor("#000000"), QColor("#FFFFFF")
        for key, node in self.nodes.items():
            fill_rgb = self._fill.get(key)
            if fill_rgb is not None:
                fill = QColor(*fill_rgb[t].tolist())
                ink = black if _ink(fill_rgb[t]) else white
            else:
                fill = QColor(st.background)
                ink = black if _ink(np.array(fill.getRgb()[:3])) else white
            nodes[key] = Look(fill, wires[key].text, (), ink)
        return wires, nodes

    def _update_texts(self, t: int) -> None:
        st = self.state
        label = st.labels[t] if t < len(st.labels) else ""
        who = st.unit_label(st.unit) if st.unit >= 0 else "all units"
        token = f" · input “{label}”" if label else ""
        self.caption.set_text(f"Step {t + 1} of {st.trace.steps}{token} · {who}")
        note = (f"Wire colour = value on a fixed scale: ±1 for gates, C̃, tanh(C), h; "
                f"±{explain.fmt(self._vmax['cell'])} for C; ±{explain.fmt(self._vmax['input'])} for x.")
        if st.unit < 0:
            note += " Strips: one cell per unit."
        self.legend.set_note(note)

    # ------------------------------------------------------------------ explanations

    def tooltip_html(self, key: str) -> str:
        """Rich text explaining element ``key`` at the current step (gate-coloured title)."""
        st = self.state
        try:
            e = explain.explain(st.trace, self._t, st.unit, key, st.network)
        except (KeyError, ValueError):
            return ""
        th = st.theme
        color = th.gate_color(IDENTITY.get(key, "h")).name()
        hint = (f"<div style='margin-top:6px; color:{th.muted}'>"
                f"{equation_html(CLICK_HINT[key], th)}</div>" if key in CLICK_HINT else "")
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
