"""Gradients through time: how the loss at one step reaches back to every earlier step.

`GradientPanel` (a tab next to the trace plots) shows, against time:

* **Size of the gradient**: ``‖dL/dh_t‖`` and ``‖dL/dC_t‖`` on a logarithmic axis
  (a vanishing gradient is a straight line going down). Steps that get no gradient
  at all (after the loss step, or cut off by truncation) are gaps: a log axis has no
  zero. Or, toggled, per-unit heatmaps of dL/dh and dL/dC (units × time) on the
  shared diverging scale with symmetric levels and a colour bar.
* **Paths**: the two parts of dL/dC_t (see `lstm_viz.model.paths`), "along the cell
  state (through f)" and "through h (gates and W_hh)", as norms on the same kind of
  log axis (GRU: along the state through z / through the gates; RNN: W_hh only).
* **Input saliency**: ``‖dL/dx_t‖`` as one bar per step, the input tokens under them.

A vertical cursor marks the current step in every plot (click or drag to move it), a
dashed line marks the loss step. Hovering any plot names the number under the mouse
and what it means.

Controls on the left: the loss step (spin box, or "At cursor"), which loss
(the squared error to a target y, or, when the model has a readout layer, the
readout's cross-entropy on a chosen class), the target y (typed as H numbers; bad
text turns red with the reason and changes nothing), the loss value, the readout's
class probabilities at the loss step (`ReadoutBars`, the chosen class highlighted;
classes are labelled by their names when the model has them, "0 negative", else
"class 0"),
the lines/heatmaps toggle and "Check gradients", which compares the engine's
gradients (a sample of parameters, inputs and the plotted dL/dh_t, dL/dC_t) with
finite differences (`lstm_viz.model.gradcheck`).

Speed: every plot item is created once and updated in place; the per-trace work is
a few vectorised NumPy calls. While the panel is hidden, trace changes only mark it
stale; it redraws when shown.
"""

from __future__ import annotations

import html
import re
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, QSignalBlocker, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFontMetrics, QGuiApplication, QPainter, QPen, QValidator
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QGridLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QSizePolicy, QSpinBox, QSplitter,
                               QStackedWidget, QToolTip, QVBoxLayout, QWidget)

from ..explain import class_label, class_name, fmt, readout_prob_text, zero_gradient_note
from ..model import ModelInputError
from ..model.analysis import step_norms, unit_magnitude
from ..model.gradcheck import INPUT, RETRIES, STATES, TOLERANCE, GradCheck, GradEntry, iter_check
from ..model.paths import GradientPaths, gradient_paths
from ..state import AppState
from .diagram.scene import grad_strength
from .kit import (STYLE_GLYPHS, Bars, CurveDrafts, FittingLabel, ImageItem, LogCurve, Marker,
                  decade_labels_only, nice_limit, opaque_viewport, scrolling, set_log_y, set_y_top, step_at,
                  style_axes)
from .theme import OKABE_ITO, colormap, scaled_font
from .timecursor import TimeCursor

pg.setConfigOptions(imageAxisOrder="row-major")

#: Colour of an error message (vermillion: readable with every colour vision).
ERROR_COLOR = OKABE_ITO["vermillion"]
#: Decades below the largest gradient that the heatmaps' log colours span.
HEAT_DECADES = 6
#: The check's line until the button is pressed for the model on screen.
NOT_CHECKED = "Not checked yet for this model."
#: A gradient check is done at once when it takes no longer than this (ms), else it goes
#: on between events in slices of about CHECK_SLICE_MS (`GradientPanel.run_check`).
CHECK_WAIT_MS = 300
CHECK_SLICE_MS = 30
#: Most of the window's height the controls column claims before it scrolls instead.
CONTROLS_SHARE = 0.25
#: Width of the controls column at font scale 1 (pixels).
CONTROLS_WIDTH = 250
#: Width (px) the heatmaps' view keeps besides the colour bar's numbers: the bar, the
#: unit axis and a readable heatmap.
HEAT_MIN_WIDTH = 120
#: Most lines a plot's heading wraps to before a shorter one is shown.
HEADER_LINES = 3
#: The two paths' names where the panel is narrow, per cell kind (the long ones in
#: `lstm_viz.model.paths.PATH_NAMES`).
SHORT_PATH_NAMES = {"lstm": ("along C (f)", "through h"), "gru": ("along h (z)", "through W_hh"),
                    "rnn": ("along h (none)", "through W_hh")}

#: Tool tips of the controls.
TIPS = {
    "loss_step": "The step s whose hidden state hₛ enters the loss (½‖hₛ − y‖², or the "
                 "readout's cross-entropy). Gradients flow back from here; later steps get none.",
    "loss_here": "Put the loss on the step under the time cursor.",
    "target": "The target y the loss compares hₛ with: one number per hidden unit, "
              "separated by spaces or commas. Press Enter to apply.",
    "loss": "The loss of this sequence: half the squared distance between hₛ and the target y.",
    "lines": "Plot the size of each step's gradient on a log scale.",
    "heat": "Show the gradient of every unit at every step as a colour (units × time).",
    "heat_log": "Colour by the size of the gradient on a log scale over "
                "{d} decades, as the diagram does: a gradient 1000 times smaller than the "
                "largest is still seen. Off: colour proportional to the value.",
    "check": "Compare the exact gradients with finite differences on a random sample of "
             "weights, inputs and the plotted dL/dh and dL/dC: nudge each up and down a little "
             "and measure the loss.",
    "loss_kind": "Which loss the gradients start from: the squared error ½‖hₛ − y‖² to the "
                 "target y, or the readout's cross-entropy −log pₖ on the class k below.",
    "squared": "L = ½‖hₛ − y‖²: half the squared distance between hₛ and the target y.",
    "readout": "L = −log pₖ: the readout turns hₛ into class probabilities "
               "p = softmax(Wᵣ·hₛ + bᵣ); the loss is small when class k is likely.",
    "class": "The class k the readout's cross-entropy is measured on (counted from 0, as "
             "PyTorch's class labels).",
    "probs": "The readout's class probabilities at the loss step, p = softmax(Wᵣ·hₛ + bᵣ). "
             "The chosen class is highlighted. Hover a bar for its numbers.",
    "no_readout": "This model has no readout layer, so the loss is the squared error to y. "
                  "To get one, open a weights file with readout.weight and readout.bias "
                  "(or a PyTorch model's one Linear layer, e.g. fc.weight / fc.bias), or "
                  "load the preset “Readout: first opinion wins”.",
}

#: Items of the loss combo box: (text, tool tip key).
LOSS_KINDS = (("Squared error", "squared"), ("Cross-entropy", "readout"))


def parse_target(text: str, hidden: int) -> np.ndarray:
    """H numbers separated by spaces, commas or semicolons -> (H,) array.

    Raises ModelInputError with a short reason.
    """
    parts = [p for p in re.split(r"[\s,;]+", text.strip().strip("()[]")) if p]
    values = []
    for p in parts:
        try:
            v = float(p.replace("−", "-"))
        except ValueError:
            raise ModelInputError(f"“{p}” is not a number") from None
        if not np.isfinite(v):
            raise ModelInputError(f"“{p}” is not a finite number")
        values.append(v)
    if len(values) != hidden:
        raise ModelInputError(f"the target needs {hidden} number(s), one per hidden unit; "
                              f"got {len(values)}")
    return np.array(values, dtype=np.float64)


def format_target(y: np.ndarray) -> str:
    """The target as the line edit shows it: ``0.5 -0.25 0``."""
    return " ".join(f"{float(v):g}" for v in y)


_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _blend(a: str, b: str, t: float) -> QColor:
    """The colour ``t`` of the way from ``a`` to ``b``."""
    ca, cb = QColor(a), QColor(b)
    return QColor(round(ca.red() + (cb.red() - ca.red()) * t),
                  round(ca.green() + (cb.green() - ca.green()) * t),
                  round(ca.blue() + (cb.blue() - ca.blue()) * t))


def _gaps(a: np.ndarray) -> np.ndarray:
    """Zeros (and inf, NaN) -> NaN, so a log axis shows a gap instead of −∞."""
    out = np.array(a, dtype=float)
    out[~(out > 0) | ~np.isfinite(out)] = np.nan
    return out


def _finite_max(*arrays: np.ndarray) -> float:
    """The largest finite value of |a| over the arrays (0 if none)."""
    best = 0.0
    for a in arrays:
        if a is None or not a.size:
            continue
        v = np.abs(a[np.isfinite(a)])
        if v.size:
            best = max(best, float(v.max()))
    return best


def _curve(plot: pg.PlotItem, **kwargs) -> LogCurve:
    """An empty line in the log plot ``plot`` that breaks at gaps (a zero on the log axis)."""
    c = LogCurve(**kwargs)
    plot.addItem(c)
    return c


class _TimeView(pg.GraphicsLayoutWidget):
    """A few plots over time with a cursor and a loss-step line each; click moves the cursor."""

    def __init__(self, panel: "GradientPanel", name: str) -> None:
        super().__init__()
        self._hover_pos = None              # scene position of the last mouse move
        self.panel, self.state = panel, panel.state
        self.setAccessibleName(name)
        self.setMinimumSize(130, 120)
        opaque_viewport(self)                   # the theme's background covers it
        self.ci.setContentsMargins(4, 4, 4, 4)
        self.plots: list[pg.PlotItem] = []
        self.cursor = TimeCursor(self)            # one line across every plot
        self.cursor.moved.connect(self._dragged)
        self.loss_lines: list[pg.InfiniteLine] = []
        self.cut_regions: list[pg.LinearRegionItem] = []
        self.cut_labels: list[pg.InfLineLabel] = []
        self._cut: tuple[int, int | None] = (0, None)
        self.token_axis = False
        self._ticks: object = ("unset",)
        self._steps = -1
        self.scene().sigMouseClicked.connect(self._clicked)
        self.scene().sigMouseMoved.connect(self._moved)

    def add_plot(self, row: int, col: int, log: bool = False) -> pg.PlotItem:
        p = self.addPlot(row=row, col=col)
        p.hideButtons()
        p.setMenuEnabled(False)
        p.setMouseEnabled(x=False, y=False)
        p.showGrid(x=False, y=True, alpha=0.25)
        if log:
            p.setLogMode(x=False, y=True)
            decade_labels_only(p)
        self.cursor.add_viewbox(p.getViewBox())
        loss = pg.InfiniteLine(pos=1, angle=90, movable=False,
                               label="loss", labelOpts={"position": 0.92, "anchors": [(1, 0), (1, 0)]})
        loss.setZValue(15)
        p.addItem(loss, ignoreBounds=True)
        # Steps truncated BPTT cut off: shaded and labelled (their gradient is 0, a gap)
        cut = pg.LinearRegionItem(values=(0.0, 0.5), movable=False)
        cut.setZValue(-20)
        cut.hide()
        p.addItem(cut, ignoreBounds=True)
        # on the region's right edge, inside it, a third of the way down
        label = pg.InfLineLabel(cut.lines[1], text="", position=0.66,
                                anchors=[(1, 0.5), (1, 0.5)])
        self.plots.append(p)
        self.loss_lines.append(loss)
        self.cut_regions.append(cut)
        self.cut_labels.append(label)
        return p

    # -- state -> view

    def set_steps(self, T: int) -> None:
        if T == self._steps:
            self.update_ticks()
            return
        self._steps = T
        for p in self.plots:
            vb = p.getViewBox()
            vb.setLimits(xMin=0.5 - 0.02 * T, xMax=T + 0.5 + 0.02 * T)
            vb.setXRange(0.5, T + 0.5, padding=0.01)
        self.update_ticks()

    def set_cursor(self, t: int) -> None:
        self.cursor.set_value(t + 1)

    def set_loss_step(self, s: int) -> None:
        for line in self.loss_lines:
            if line.value() != s + 1:
                line.setValue(s + 1)

    def set_cut(self, first_step: int, window: int | None) -> None:
        """Shade the steps before ``first_step`` (0-based), which truncated BPTT with
        ``window`` steps cut off; nothing when nothing is cut."""
        if (first_step, window) == self._cut:
            return
        self._cut = (first_step, window)
        on = first_step > 0 and window is not None
        for region, label in zip(self.cut_regions, self.cut_labels):
            region.setVisible(on)
            if on:
                region.setRegion((0.5 - 0.02 * max(self._steps, 1), first_step + 0.5))
                label.setFormat(f"cut (k = {window}) ")
                region.setToolTip(f"Truncated BPTT with k = {window}: the gradient reaches "
                                  f"only the loss step and the {window - 1} before it; steps 1 "
                                  f"to {first_step} get none (0, not shown on a log axis).")

    def update_ticks(self) -> None:
        """Token labels under the steps when they all fit, else step numbers (one choice
        for every time view of the panel: a token "1" beside a step 1 misleads)."""
        shown = [p for p in self.plots if p.isVisible()]
        if not shown:
            return
        st = self.state
        labels = st.labels
        T = st.steps
        bottom = shown[-1]
        fits = False
        if labels and len(labels) == T:
            width = min(v.plots[-1].getViewBox().width() for v in self.panel.views
                        if v is self or v.isVisible())
            fits = self.panel.token_width() * T <= max(1, width)
        key = (labels if fits else None, bottom)
        if key != self._ticks:                  # (the same labels are often the same tuple)
            self._ticks = key
            ticks = [[(t + 1.0, labels[t]) for t in range(T)]] if fits else None
            label = "input" if fits else "step"
            for p in self.plots:
                ax = p.getAxis("bottom")
                ax.setTicks(ticks)
                if p is bottom:
                    ax.setLabel(label, color=st.theme.foreground)
                else:
                    ax.showLabel(False)

    def resizeEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(ev)
        if getattr(self, "plots", None) and getattr(self.panel, "views", None):
            for v in self.panel.views:          # the narrowest decides for all
                v.update_ticks()

    def style(self) -> None:
        th, scale = self.state.theme, self.state.font_scale
        self.setBackground(th.background)
        font = scaled_font(th, scale, 0.85)
        style_axes((p.getAxis(n) for p in self.plots for n in ("left", "bottom")), th, font,
                   tick_offset=max(3, round(4 * scale)))
        self.cursor.set_theme(th)
        for line in self.loss_lines:
            line.setPen(pg.mkPen(th.foreground, width=max(1.5, th.line_width * 0.75),
                                 style=Qt.PenStyle.DashLine))
            line.label.setColor(th.foreground)
            line.label.setFont(scaled_font(th, scale, 0.85, bold=True))
            line.setToolTip("The loss step: the loss is measured on this step's hidden state")
        shade = QColor(th.muted)
        shade.setAlpha(45)
        for region, label in zip(self.cut_regions, self.cut_labels):
            region.setBrush(pg.mkBrush(shade))
            for edge in region.lines:
                edge.setPen(pg.mkPen(th.muted, width=1, style=Qt.PenStyle.DotLine))
            label.setColor(th.foreground)
            label.setFont(scaled_font(th, scale, 0.85))
        self._ticks = ("redo",)
        self.update_ticks()

    # -- view -> state

    def _step_at(self, x: float) -> int:
        return step_at(x, self.state.steps)

    def _plot_at(self, pos) -> int:
        for k, p in enumerate(self.plots):
            if p.isVisible() and p.getViewBox().sceneBoundingRect().contains(pos):
                return k
        return -1

    def _clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        k = self._plot_at(ev.scenePos())
        if k >= 0:
            x = self.plots[k].getViewBox().mapSceneToView(ev.scenePos()).x()
            self.state.set_timestep(self._step_at(x))

    def _dragged(self, x: float) -> None:
        self.state.set_timestep(self._step_at(x))

    def _moved(self, pos) -> None:
        self._hover_pos = pos
        k = self._plot_at(pos)
        if k < 0:
            self.setToolTip("")         # off the plots: not the last point's numbers
            return
        p = self.plots[k].getViewBox().mapSceneToView(pos)
        text = self.panel.hover_text(self, k, self._step_at(p.x()), p.y())
        self.setToolTip(text)

    def rehover(self) -> None:
        """After the numbers changed under a resting mouse, the tool tip says the new ones."""
        if self._hover_pos is not None and self.underMouse():
            self._moved(self._hover_pos)

    def step_pos(self, k: int, t: int, y: float):
        """Viewport position of step ``t`` (0-based) at view height ``y`` in plot ``k``."""
        scene = self.plots[k].getViewBox().mapViewToScene(QPointF(t + 1, y))
        return self.mapFromScene(scene)


class ClassSpin(QSpinBox):
    """A spin box over the readout's classes that shows each one by its label:
    ``"0 negative"`` when the classes have names (`set_names`), else ``"class 0"``.

    Typing a number or a class name (any case) and Enter chooses that class.
    """

    #: Longest text Qt's own size hint measures; longer labels are measured here.
    _QT_MEASURED = 18

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._names: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    def set_names(self, names) -> None:
        """Label the classes by ``names`` (one per class; empty: "class k")."""
        names = tuple(names)
        if names != self._names:
            self._names = names
            self.setSuffix("")          # redraws the text and forgets the cached size

    def textFromValue(self, v: int) -> str:  # noqa: N802 (Qt override)
        return class_label(v, self._names)

    def _parse(self, text: str) -> int | None:
        t = text.strip()
        m = re.match(r"(?:class\s*)?(\d+)", t, re.IGNORECASE)
        if m:
            return int(m.group(1))
        low = t.casefold()
        for k, name in enumerate(self._names):
            if name.casefold() == low:
                return k
        return None

    def valueFromText(self, text: str) -> int:  # noqa: N802 (Qt override)
        k = self._parse(text)
        return self.value() if k is None else k

    def validate(self, text: str, pos: int) -> object:  # noqa: D102 (Qt override)
        k = self._parse(text)
        if k is not None and self.minimum() <= k <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        low = text.strip().casefold()
        if k is None and (not low or "class".startswith(low) or low.startswith("class")
                          or any(n.casefold().startswith(low) for n in self._names)):
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Invalid, text, pos

    def _extra_width(self) -> int:
        """Pixels the widest label needs beyond what Qt measured (the first and last, cut)."""
        fm = self.fontMetrics()
        lo, hi = self.minimum(), self.maximum()
        measured = max(fm.horizontalAdvance(self.textFromValue(v)[: self._QT_MEASURED])
                       for v in (lo, hi))
        widest = max(fm.horizontalAdvance(self.textFromValue(v))
                     for v in range(lo, min(hi, lo + 200) + 1))
        return max(0, widest - measured)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return super().sizeHint() + QSize(self._extra_width(), 0)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return super().minimumSizeHint() + QSize(self._extra_width(), 0)


class ReadoutBars(QWidget):
    """The readout's class probabilities at the loss step: one labelled bar per class.

    Each class is labelled ``"0 negative"`` when the model names its classes
    (`AppState.class_names`), else ``"class 0"``.
    The chosen class is drawn in the accent colour with a bold label. With more
    than `MAX_ROWS` classes the likeliest ones (and the chosen one) are shown
    and a last line says how many are left out. Rows are computed in `set_trace`;
    ``paintEvent`` only draws them. Hovering a row explains its numbers.
    """

    MAX_ROWS = 8

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setAccessibleName("Readout probabilities")
        self.setToolTip(TIPS["probs"])
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        #: Shown rows: (class, probability, label, value text), in class order.
        self.rows: list[tuple[int, float, str, str]] = []
        self.chosen: int | None = None
        self.left_out = 0
        self._trace = None
        self._names: tuple[str, ...] = ()

    def set_trace(self, trace, names=None) -> None:
        """Take the probabilities of ``trace`` (None: nothing to show) and the class
        names (None: the state's, `AppState.class_names`)."""
        self._trace = trace
        self._names = tuple(self.state.class_names if names is None else names)
        probs = None if trace is None else trace.readout_probs
        self.chosen = None if trace is None else trace.loss_class
        if probs is None:
            self.rows, self.left_out = [], 0
        else:
            K = probs.size
            if K <= self.MAX_ROWS:
                shown = np.arange(K)
            else:
                order = np.argsort(-np.nan_to_num(probs, nan=-1.0), kind="stable")
                top = list(order[: self.MAX_ROWS - 1])
                if self.chosen not in top:
                    top.append(self.chosen)
                else:
                    top.append(order[self.MAX_ROWS - 1])
                shown = np.sort(np.array(top))
            labels = [class_label(int(k), self._names) for k in shown]
            self.rows = [(int(k), float(probs[k]),
                          f"{lab} ★" if k == self.chosen else lab,
                          fmt(float(probs[k]))) for k, lab in zip(shown, labels)]
            self.left_out = K - len(self.rows)
        self.setAccessibleDescription("; ".join(f"{lab}: p = {val}" for _, _, lab, val in self.rows))
        self.updateGeometry()
        self.update()

    def row_height(self) -> int:
        return round(QFontMetrics(self.font()).height() * 1.25)

    def changeEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(ev)
        if ev.type() == QEvent.Type.FontChange:
            self.updateGeometry()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        n = len(self.rows) + (1 if self.left_out else 0)
        return QSize(160, n * self.row_height() + 4)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return self.sizeHint()

    def row_at(self, y: float) -> int:
        """Index into `rows` of the row at height ``y`` (-1 if none)."""
        i = int(y // max(1, self.row_height()))
        return i if 0 <= i < len(self.rows) else -1

    def event(self, ev) -> bool:  # noqa: D102 (Qt override)
        if ev.type() == QEvent.Type.ToolTip and self._trace is not None:
            i = self.row_at(ev.pos().y())
            if i >= 0:
                QToolTip.showText(ev.globalPos(),
                                  readout_prob_text(self._trace, self.rows[i][0], self._names),
                                  self)
            else:
                QToolTip.showText(ev.globalPos(), TIPS["probs"], self)
            return True
        return super().event(ev)

    def paintEvent(self, _ev) -> None:  # noqa: N802 (Qt override)
        th = self.state.theme
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rh = self.row_height()
        bold = self.font()
        bold.setBold(True)
        fmb = QFontMetrics(bold)
        label_w = max((fmb.horizontalAdvance(r[2]) for r in self.rows), default=0) + 8
        value_w = max((fmb.horizontalAdvance(r[3]) for r in self.rows), default=0) + 8
        bar_w = max(10, self.width() - label_w - value_w - 4)
        fg, muted = QColor(th.foreground), QColor(th.muted)
        bar_color = _blend(th.muted, th.background, 0.45)     # the other classes: grey
        accent = QColor(th.accent)                            # the chosen class: the selection
        for i, (k, p, label, value) in enumerate(self.rows):
            y = i * rh
            chosen = k == self.chosen
            painter.setFont(bold if chosen else self.font())
            painter.setPen(fg)
            painter.drawText(QRectF(0, y, label_w, rh), Qt.AlignmentFlag.AlignVCenter, label)
            track = QRectF(label_w, y + rh * 0.2, bar_w, rh * 0.6)
            painter.setPen(QPen(muted, 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(track)
            frac = min(max(p, 0.0), 1.0) if np.isfinite(p) else 0.0
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(accent if chosen else bar_color)
            painter.drawRect(QRectF(track.left(), track.top(), track.width() * frac,
                                    track.height()))
            painter.setPen(fg)
            painter.drawText(QRectF(label_w + bar_w + 4, y, value_w, rh),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, value)
        if self.left_out:
            painter.setFont(self.font())
            painter.setPen(muted)
            painter.drawText(QRectF(0, len(self.rows) * rh, self.width(), rh),
                             Qt.AlignmentFlag.AlignVCenter,
                             f"… {self.left_out} more, less likely")
        painter.end()


class GradientPanel(QWidget):
    """Gradients through time for one `AppState` (see the module docstring).

    Reads the state; calls ``set_timestep``, ``set_loss_step``, ``set_target`` and
    ``set_loss_class`` (the last three can be replaced by the keyword arguments of
    the same names, e.g. with the window's undoable versions).
    """

    def __init__(self, state: AppState, parent: QWidget | None = None, *,
                 set_loss_step=None, set_target=None, set_loss_class=None) -> None:
        super().__init__(parent)
        self.state = state
        # how a change of the loss reaches the state (the window passes undoable ones)
        self._set_loss_step = set_loss_step or state.set_loss_step
        self._set_target = set_target or state.set_target
        self._set_loss_class = set_loss_class or state.set_loss_class
        self.setAccessibleName("Gradients through time")
        self.heatmap = False
        self.heat_log = True                      # heatmap colours on a signed log scale
        self._colorbar_key: tuple | None = None    # what the colour bar's numbers show
        self._loss_class_key: tuple | None = None  # (classes, class, names) the controls show
        self.paths: GradientPaths | None = None
        self.last_check: GradCheck | None = None
        self._check_run = None                    # a long check going on (`run_check`)
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(0)
        self._check_timer.timeout.connect(lambda: self._advance_check(CHECK_SLICE_MS))
        self._dirty = True
        self._kind: str | None = None
        self._shown_target: np.ndarray | None = None
        self._c_heat_shown = True
        self._token_key: tuple | None = None
        self._nothing_back = ""                   # why no gradient reaches back, if none does
        self._token_w = 0

        # ---------------------------------------------------------------- controls
        self.controls = QWidget(self)
        grid = QGridLayout(self.controls)
        grid.setContentsMargins(4, 4, 4, 4)
        self.loss_step_label = QLabel("Loss step")
        self.loss_spin = QSpinBox()
        self.loss_spin.setKeyboardTracking(False)
        self.loss_spin.setAccessibleName("Loss step")
        self.loss_spin.setToolTip(TIPS["loss_step"])
        self.loss_step_label.setToolTip(TIPS["loss_step"])
        self.loss_here = QPushButton("At cursor")
        self.loss_here.setToolTip(TIPS["loss_here"])
        self.target_label = QLabel("Target y")
        self.target_label.setToolTip(TIPS["target"])
        self.target_edit = QLineEdit()
        self.target_edit.setAccessibleName("Target y")
        self.target_edit.setToolTip(TIPS["target"])
        self.target_error = QLabel()
        self.target_error.setWordWrap(True)
        self.target_error.setStyleSheet(f"color: {ERROR_COLOR}; font-weight: bold;")
        self.target_error.hide()
        self.loss_kind = QComboBox()
        self.loss_kind.setAccessibleName("Loss function")
        for k, (text, tip) in enumerate(LOSS_KINDS):
            self.loss_kind.addItem(text)
            self.loss_kind.setItemData(k, TIPS[tip], Qt.ItemDataRole.ToolTipRole)
        self.class_label = QLabel("Class")
        self.class_spin = ClassSpin()
        self.class_spin.setKeyboardTracking(False)
        self.class_spin.setAccessibleName("Readout class")
        self.class_label.setBuddy(self.class_spin)
        self.loss_error = QLabel()
        self.loss_error.setWordWrap(True)
        self.loss_error.setStyleSheet(f"color: {ERROR_COLOR}; font-weight: bold;")
        self.loss_error.hide()
        self.loss_label = QLabel()
        self.loss_label.setToolTip(TIPS["loss"])
        self.loss_label.setWordWrap(True)
        self.probs = ReadoutBars(state)
        self.lines_button = QPushButton("Lines")
        self.heat_button = QPushButton("Heatmaps")
        self.mode_group = QButtonGroup(self)
        for b, tip in ((self.lines_button, TIPS["lines"]), (self.heat_button, TIPS["heat"])):
            b.setCheckable(True)
            b.setToolTip(tip)
            self.mode_group.addButton(b)
        self.lines_button.setChecked(True)
        self.check_button = QPushButton("Check gradients")
        self.check_button.setToolTip(TIPS["check"])
        self.check_label = QLabel(NOT_CHECKED)
        self.check_label.setToolTip(TIPS["check"])
        self.check_label.setWordWrap(True)
        # One row fewer than a row per control: at 1600x900 the check's result shows
        # without scrolling.
        self.loss_step_label.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)
        grid.addWidget(self.loss_step_label, 0, 0)
        grid.addWidget(self.loss_spin, 0, 1)
        grid.addWidget(self.loss_here, 0, 2)
        grid.addWidget(self.loss_kind, 2, 0, 1, 3)
        grid.addWidget(self.class_label, 3, 0)
        grid.addWidget(self.class_spin, 3, 1, 1, 2)
        grid.addWidget(self.loss_error, 4, 0, 1, 3)
        grid.addWidget(self.target_label, 5, 0)
        grid.addWidget(self.target_edit, 5, 1, 1, 2)
        grid.addWidget(self.target_error, 6, 0, 1, 3)
        grid.addWidget(self.loss_label, 7, 0, 1, 3)
        grid.addWidget(self.probs, 9, 0, 1, 3)
        modes = QHBoxLayout()
        modes.setSpacing(0)
        modes.addWidget(self.lines_button)
        modes.addWidget(self.heat_button)
        grid.addLayout(modes, 10, 0, 1, 3)
        self.heat_log_box = QCheckBox("Log colours", self.controls)
        self.heat_log_box.setChecked(True)
        self.heat_log_box.setToolTip(TIPS["heat_log"].format(d=HEAT_DECADES))
        self.heat_log_box.setVisible(False)          # with the heatmaps only
        grid.addWidget(self.heat_log_box, 11, 0, 1, 3)
        grid.addWidget(self.check_button, 12, 0, 1, 3)
        grid.addWidget(self.check_label, 13, 0, 1, 3)
        grid.setRowStretch(14, 1)

        # ---------------------------------------------------------------- plots
        self.norm_view = _TimeView(self, "Gradient size over time")
        self.norm_plot = self.norm_view.add_plot(0, 0, log=True)
        self.norm_curves = {
            "c": _curve(self.norm_plot, name="c"),
            "h": _curve(self.norm_plot, name="h"),
        }
        self.loss_marker = Marker(14, "star")
        self.loss_marker.setZValue(25)
        self.norm_plot.addItem(self.loss_marker, ignoreBounds=True)

        self.heat_view = _TimeView(self, "Gradient heatmaps")
        self.heat_plots = {"h": self.heat_view.add_plot(0, 0), "c": self.heat_view.add_plot(1, 0)}
        self.heat_images: dict[str, pg.ImageItem] = {}
        for key, p in self.heat_plots.items():
            img = ImageItem()
            img.setZValue(-10)
            p.addItem(img)
            self.heat_images[key] = img
        self.colorbar = pg.ColorBarItem(values=(-1.0, 1.0), interactive=False, width=16,
                                        colorMap=colormap(state.theme))
        self.colorbar.setImageItem(list(self.heat_images.values()))
        self.heat_view.ci.addItem(self.colorbar, row=0, col=1, rowspan=2)
        self.levels = 1.0

        self.path_view = _TimeView(self, "Gradient paths")
        self.path_plot = self.path_view.add_plot(0, 0, log=True)
        self.path_curves = {
            "along": _curve(self.path_plot),
            "through": _curve(self.path_plot),
        }
        # 1 px lines while an edit drags on (each wide line is several passes)
        self.drafts = CurveDrafts(self, [*self.norm_curves.values(), *self.path_curves.values()])

        self.saliency_view = _TimeView(self, "Input saliency")
        self.saliency_plot = self.saliency_view.add_plot(0, 0)
        self.saliency_bars = Bars(width=0.7)
        self.saliency_plot.addItem(self.saliency_bars)
        self.saliency_plot.getAxis("left").enableAutoSIPrefix(False)
        self.saliency = np.zeros(0)

        # Titles and legends are word-wrapped labels above the plots: inside a plot a
        # long title would set the plot's minimum width and push the plot off its widget.
        self.headers: dict[str, FittingLabel] = {}
        pages = {}
        for key, view in (("norm", self.norm_view), ("heat", self.heat_view),
                          ("path", self.path_view), ("saliency", self.saliency_view)):
            page = QWidget()
            page.setObjectName(f"gradient_page_{key}")
            v = QVBoxLayout(page)
            v.setContentsMargins(0, 0, 0, 0)
            v.setSpacing(0)
            head = FittingLabel(HEADER_LINES)
            head.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            v.addWidget(head)
            v.addWidget(view, 1)
            self.headers[key] = head
            pages[key] = page
        self.pages = pages
        self.stack = QStackedWidget()
        self.stack.addWidget(pages["norm"])
        self.stack.addWidget(pages["heat"])
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        for w in (self.stack, pages["path"], pages["saliency"]):
            self.splitter.addWidget(w)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 4)
        self.splitter.setStretchFactor(2, 3)
        self.views = (self.norm_view, self.heat_view, self.path_view, self.saliency_view)

        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        # at laptop sizes or large type the column scrolls rather than losing its last rows
        self.controls_area = scrolling(self.controls, self)
        self.controls_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        lay.addWidget(self.controls_area)
        lay.addWidget(self.splitter, 1)

        # ---------------------------------------------------------------- wiring
        self.loss_spin.valueChanged.connect(lambda v: self._set_loss_step(v - 1))
        self.loss_here.clicked.connect(lambda: self._set_loss_step(self.state.timestep))
        self.target_edit.editingFinished.connect(self.apply_target)
        self.target_edit.textEdited.connect(lambda _t: self._show_target_error(""))
        self.loss_kind.activated.connect(self._on_loss_kind)
        self.class_spin.valueChanged.connect(self._on_class_spin)
        self.heat_button.toggled.connect(self.set_heatmap)
        self.heat_log_box.toggled.connect(self.set_heat_log)
        self.check_button.clicked.connect(self._on_check_button)
        state.trace_changed.connect(self._on_trace)
        state.timestep_changed.connect(self._on_timestep)
        state.unit_changed.connect(self._on_unit)
        state.appearance_changed.connect(self._on_appearance)
        self._on_appearance()
        self.refresh()

    # ------------------------------------------------------------------ public

    def set_heatmap(self, on: bool) -> None:
        """Per-unit heatmaps (True) or the norms on a log axis (False)."""
        on = bool(on)
        with QSignalBlocker(self.heat_button), QSignalBlocker(self.lines_button):
            self.heat_button.setChecked(on)
            self.lines_button.setChecked(not on)
        if on == self.heatmap:
            return
        self.heatmap = on
        self.stack.setCurrentWidget(self.pages["heat" if on else "norm"])
        self.heat_log_box.setVisible(on)
        self._fit_controls_height()
        self._update_main()

    def set_heat_log(self, on: bool) -> None:
        """Heatmap colours on a signed log scale (True, the default) or linear."""
        on = bool(on)
        with QSignalBlocker(self.heat_log_box):
            self.heat_log_box.setChecked(on)
        if on != self.heat_log:
            self.heat_log = on
            self._set_titles()
            self._update_main()

    def apply_target(self) -> None:
        """Read the target line edit; on bad text show why (in red) and change nothing."""
        text = self.target_edit.text()
        if self._shown_target is not None and text == format_target(self._shown_target):
            self._show_target_error("")
            return
        try:
            y = parse_target(text, self.state.trace.hidden_size)
            self._set_target(y)
        except ModelInputError as e:
            self._show_target_error(str(e))
            return
        self._show_target_error("")
        self._push_target(force=True)

    def choose_loss_class(self, k: int | None) -> bool:
        """Ask for the readout loss on class ``k`` (None: the squared error); on refusal
        show why under the controls and change nothing. True if it was accepted."""
        try:
            self._set_loss_class(k)
        except ModelInputError as e:
            self.loss_error.setText(str(e))
            self.loss_error.show()
            return False
        self.loss_error.hide()
        return True

    def _on_loss_kind(self, index: int) -> None:
        self.choose_loss_class(self.class_spin.value() if index == 1 else None)
        self._push_loss_class(force=True)       # (refused: the controls show the state's again)

    def _on_class_spin(self, k: int) -> None:
        if self.loss_kind.currentIndex() == 1:
            self.choose_loss_class(k)
            self._push_loss_class(force=True)

    def _push_loss_class(self, force: bool = False) -> None:
        """Show the state's loss (kind, class, readout probabilities) in the controls
        (``force``: even if the kind, class and class names are as last shown)."""
        st = self.state
        K = st.readout_classes
        k = st.loss_class
        readout = k is not None
        names = st.class_names
        key = (K, k, names)
        if key == self._loss_class_key and not force:   # an edit of the weights: only the numbers
            if readout:
                self.probs.set_trace(st.trace, names)
            return
        self._loss_class_key = key
        with QSignalBlocker(self.loss_kind), QSignalBlocker(self.class_spin):
            self.loss_kind.setCurrentIndex(1 if readout else 0)
            self.class_spin.setRange(0, max(0, K - 1))
            self.class_spin.set_names(names)
            if readout:
                self.class_spin.setValue(k)
        has = K > 0
        self.loss_kind.setEnabled(has)
        self.class_spin.setEnabled(has and readout)
        self.class_label.setEnabled(has and readout)
        if has:
            kind_tip, class_tip = TIPS["loss_kind"], TIPS["class"]
            if names:
                listed = ", ".join(class_label(c, names) for c in range(min(K, 10)))
                class_tip += f" Its classes: {listed}{', …' if K > 10 else ''}."
        else:
            kind_tip = class_tip = TIPS["no_readout"]
        self.loss_kind.setToolTip(kind_tip)
        self.class_spin.setToolTip(class_tip)
        self.class_label.setToolTip(class_tip)
        # Only what the chosen loss uses is shown: the target y, or the class and the readout.
        self.target_label.setVisible(not readout)
        self.target_edit.setVisible(not readout)
        if readout:
            self.target_error.hide()
        self.class_spin.setVisible(readout)
        self.class_label.setVisible(readout)
        self.probs.set_trace(st.trace if readout else None, names)
        self.probs.setVisible(readout)
        self._fit_controls_height()

    def _fit_controls_height(self) -> None:
        """Ask for the height the controls need at their width (wrapped labels included),
        so the window never squeezes the last rows away."""
        lay = self.controls.layout()
        w = self.controls.width() if self.controls.isVisible() else self.controls.maximumWidth()
        if lay.hasHeightForWidth() and 0 < w < 100000:
            need = lay.totalHeightForWidth(w)
            self.controls.setMinimumHeight(need)
            # The column asks the window for its full height while that is at most a
            # quarter of the window (at 1920x1080 all of it shows); in a smaller window
            # (1280x800, large type) it takes less and scrolls, and the diagram keeps
            # its room (larger type must not make the diagram's labels smaller).
            top = self.window()
            cap = round(CONTROLS_SHARE * top.height()) if top is not self else need
            self.controls_area.setMinimumHeight(min(need, max(cap, 120)))

    def target_error_text(self) -> str:
        """The target's error message ("" when the text was accepted)."""
        return self.target_error.text() if not self.target_error.isHidden() else ""

    def run_check(self) -> GradCheck | None:
        """Check the current network's gradients (`iter_check`) and show the result.

        A check that takes longer than `CHECK_WAIT_MS` (thousands of steps) goes on an
        entry at a time between events, with its progress shown and the button turned
        into a stop: the window stays usable meanwhile, and an edit stops the check (its
        answer would be about a model no longer shown). Returns the result when it was
        done at once, else None (it lands in `last_check`)."""
        self.stop_check()
        st = self.state
        run = iter_check(st.network, st.inputs, st.target, n=20, seed=0)
        self._check_run = run
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            return self._advance_check(CHECK_WAIT_MS)
        finally:
            QGuiApplication.restoreOverrideCursor()

    @property
    def checking(self) -> bool:
        """True while a long check goes on between events."""
        return self._check_run is not None

    def stop_check(self, why: str = "") -> None:
        """Stop a check that is going on (``why``, if given, replaces its progress line)."""
        if self._check_run is None:
            return
        self._check_run.close()
        self._end_check()
        self.check_label.setText(why or NOT_CHECKED)

    def _end_check(self) -> None:
        self._check_run = None
        self._check_timer.stop()
        self.check_button.setText("Check gradients")

    def _on_check_button(self) -> None:
        if self.checking:
            self.stop_check("Check stopped.")
        else:
            self.run_check()

    def _advance_check(self, budget_ms: float) -> GradCheck | None:
        """Work on the check for about ``budget_ms``; show the result once it is done."""
        run, start = self._check_run, time.perf_counter()
        try:
            while True:
                done, total = next(run)
                if (time.perf_counter() - start) * 1e3 >= budget_ms:
                    break
        except StopIteration as finished:
            self._end_check()
            res = self.last_check = finished.value
            # the verdict first: in a short window it is the line that shows without scrolling
            self.check_label.setText(_verdict(res))
            self.check_label.setToolTip(self._check_table(res))
            return res
        except ModelInputError as e:           # cannot happen for a state's own model
            self._end_check()
            self.check_label.setText(f"Could not check: {e}")
            return None
        self.check_button.setText("Stop checking")
        self.check_label.setText(f"Checking… {done} of {total} entries compared (each runs the "
                                 f"sequence twice); the window stays usable.")
        self._check_timer.start()
        return None

    def token_width(self) -> int:
        """Pixels a step needs on a time axis for the input tokens to be written under
        every step (cached per labels and font). Each token is centred on its step, so
        two neighbours clear each other when the step is as wide as half of each plus a
        space: a short "·" beside "go" leaves "go" room (a 14-step demo's tokens fit a
        plot of 260 px, where the widest token's own width for every step did not)."""
        st = self.state
        key = (st.labels, st.font_scale, st.theme.base_point_size)
        if key != self._token_key:
            fm = QFontMetrics(scaled_font(st.theme, st.font_scale, 0.85))
            size = {t: fm.horizontalAdvance(t) for t in set(st.labels)}
            w = [size[t] for t in st.labels]
            pairs = [(a + b + 1) // 2 for a, b in zip(w, w[1:])] or w[:1] or [0]
            self._token_key, self._token_w = key, max(pairs) + fm.horizontalAdvance(" ")
        return self._token_w

    # ------------------------------------------------------------------ state -> view

    def refresh(self) -> None:
        """Redraw everything from the state's trace now."""
        self._dirty = False
        st = self.state
        tr = st.trace
        T = tr.steps
        self.paths = gradient_paths(tr, st.network)
        if (self.loss_spin.maximum(), self.loss_spin.value()) != (T, tr.loss_step + 1):
            with QSignalBlocker(self.loss_spin):     # (setting the same repaints the box)
                digits = len(str(self.loss_spin.maximum())) != len(str(T))
                self.loss_spin.setRange(1, T)
                self.loss_spin.setValue(tr.loss_step + 1)
            if digits:
                self._fit_controls()
        if tr.loss_class is None:
            self.loss_label.setText(f"Loss L = {fmt(tr.loss)} on step {tr.loss_step + 1}")
            self.loss_label.setToolTip(TIPS["loss"])
        else:
            sub = str(tr.loss_class).translate(_SUBSCRIPTS)
            self.loss_label.setText(f"Loss L = −log p{sub} = {fmt(tr.loss)}")
            # the name is in the class box just above; here it would cost a line
            name = class_name(tr.loss_class, st.class_names)
            self.loss_label.setToolTip(TIPS["readout"] + (f" Here k = {tr.loss_class}, “{name}”."
                                                          if name else ""))
        self._push_target()
        self._push_loss_class()
        note = zero_gradient_note(tr, self.paths.first_step)
        if tr.kind != self._kind:
            self._kind, self._nothing_back = tr.kind, note
            self._relabel()
        elif note != self._nothing_back:
            self._nothing_back = note
            self._set_titles()
        self._update_main()
        # paths
        x = np.arange(1, T + 1, dtype=float)
        self.path_curves["along"].set_values(x, _gaps(self.paths.along_norm))
        self.path_curves["through"].set_values(x, _gaps(self.paths.through_norm))
        self._fit_log_range(self.path_plot, self.paths.along_norm, self.paths.through_norm)
        # saliency
        self.saliency = step_norms(tr.dL_dx)
        top = _finite_max(self.saliency)
        set_y_top(self.saliency_plot, top)
        self.saliency_bars.set_bars(x, self.saliency, cap=2 * nice_limit(top))
        truncate = st.options.truncate
        for v in self.views:
            v.set_steps(T)
            v.set_loss_step(tr.loss_step)
            v.set_cut(self.paths.first_step, truncate)
            v.set_cursor(st.timestep)
            v.rehover()

    def _update_main(self) -> None:
        """The norms or the heatmaps, whichever is shown."""
        tr = self.state.trace
        T = tr.steps
        x = np.arange(1, T + 1, dtype=float)
        u = self.state.unit
        if not self.heatmap:
            hn = unit_magnitude(tr.dL_dh, u)
            self.norm_curves["h"].set_values(x, _gaps(hn))
            cn = unit_magnitude(tr.dL_dc, u) if tr.dL_dc is not None else np.zeros(0)
            self.norm_curves["c"].set_values(x[: cn.size], _gaps(cn))
            s = tr.loss_step
            top = _finite_max(hn[s:s + 1], cn[s:s + 1])
            self.loss_marker.set_point(s + 1, np.log10(top) if top > 0 else None)
            self._fit_log_range(self.norm_plot, hn, cn)
        else:
            H = tr.hidden_size
            m = nice_limit(_finite_max(tr.dL_dh, tr.dL_dc))
            self.levels = m
            lv = (-1.0, 1.0) if self.heat_log else (-m, m)
            for key, arr in (("h", tr.dL_dh), ("c", tr.dL_dc)):
                if arr is None:
                    continue
                img = self.heat_images[key]
                if self.heat_log:                          # NaN as 0, ±inf at the ends
                    data = grad_strength(arr.T, m, HEAT_DECADES)
                else:
                    data = arr.T
                    if not np.all(np.isfinite(data)):      # an overflowed experiment
                        data = np.nan_to_num(data, nan=0.0, posinf=m, neginf=-m)
                img.setImage(np.ascontiguousarray(data), levels=lv, autoLevels=False)
                img.setRect(0.5, 0.0, float(T), float(H))
                self.heat_plots[key].setYRange(0.0, float(H), padding=0.0)
            self.colorbar.setLevels(lv)
            self._label_colorbar(m if self.heat_log else None)
            step = max(1, H // 8)
            ticks = [[(k + 0.5, str(k + 1)) for k in range(0, H, step)]]
            for p in self.heat_plots.values():
                p.getAxis("left").setTicks(ticks)

    def _label_colorbar(self, m: float | None) -> None:
        """The heatmaps' colour bar numbers: the log scale's (``m`` its top), or pyqtgraph's
        own for the linear scale (None). Set only when they change: each setting redraws
        the axis, and an edit redraws the heatmaps many times a second."""
        font = scaled_font(self.state.theme, self.state.font_scale, 0.85)
        key = (m, font.key())
        if key == self._colorbar_key:
            return
        self._colorbar_key = key
        if m is None:
            self.colorbar.axis.setTicks(None)
            return
        d = HEAT_DECADES
        marks = [(1.0, f"±{fmt(m)}"), (0.5, f"±{fmt(m / 10 ** (d / 2))}"),
                 (0.0, f"< {fmt(m / 10 ** d)}")]
        self.colorbar.axis.setTicks([marks + [(-v, "") for v, _ in marks if v]])
        # a label wider than the axis is not drawn at all: make room for them
        room = max(QFontMetrics(font).horizontalAdvance(t) for _, t in marks) + 14
        if self.colorbar.axis.width() < room:
            self.colorbar.axis.setWidth(room)
        # and the view room for the bar, its numbers and a heatmap beside them: in a
        # narrow panel the splitter takes it from the other plots, not the numbers' ends
        self.heat_view.setMinimumWidth(round(max(self.colorbar.axis.width(), room)) + HEAT_MIN_WIDTH)

    @staticmethod
    def _fit_log_range(plot: pg.PlotItem, *arrays: np.ndarray) -> None:
        """y range of a log plot: the positive values, at least one decade; a fixed range if none."""
        vals = np.concatenate([a[(a > 0) & np.isfinite(a)] for a in arrays if a.size])
        if vals.size:
            set_log_y(plot, np.log10(float(vals.min())), np.log10(float(vals.max())))
        else:
            set_log_y(plot, np.nan, np.nan)     # its fixed range for no data

    def _relabel(self) -> None:
        """Titles, legends and which items exist depend on the cell kind."""
        tr = self.state.trace
        lstm = tr.dL_dc is not None
        self.norm_curves["c"].setVisible(lstm)
        lay = self.heat_view.ci
        c_plot = self.heat_plots["c"]
        if lstm != self._c_heat_shown:          # a GRU or RNN has no cell state to show
            self._c_heat_shown = lstm
            if lstm:
                lay.addItem(c_plot, row=1, col=0)
                c_plot.show()
            else:
                lay.removeItem(c_plot)
                c_plot.hide()
            self.heat_view.update_ticks()
        self._set_titles()

    def _set_titles(self) -> None:
        th = self.state.theme
        lstm = self.state.trace.dL_dc is not None
        kind = self.state.trace.kind
        u = self.state.unit

        def col(key: str) -> str:
            return th.gate_colors.get(key, th.foreground)

        def head(title: str, legend: str = "") -> str:
            more = f"<br>{legend}" if legend else ""
            # a word joiner after "dL/": a narrow heading wraps before ‖dL/dxₜ‖, not inside
            return f"<b>{title}</b>{more}".replace("dL/d", "dL/\u2060d")

        # Each heading in several lengths: a narrow panel (a laptop window with the
        # Weights tab open) gets a shorter one rather than one cut off at the bottom.
        where = self.state.unit_label(u) if u >= 0 else "norm over units"
        b0, b1 = ("|", "|") if u >= 0 else ("‖", "‖")
        solid, dashed = STYLE_GLYPHS[Qt.PenStyle.SolidLine], STYLE_GLYPHS[Qt.PenStyle.DashLine]
        def norm_legend(glyph: str) -> str:
            parts = [f"<span style='color:{col('h')}'>{glyph}{b0}dL/dh<sub>t</sub>{b1}</span>"]
            if lstm:
                parts.insert(0, f"<span style='color:{col('c')}'>{glyph}{b0}dL/dC<sub>t</sub>{b1}</span>")
            legend = " &nbsp; ".join(parts)
            if self._nothing_back:
                note = html.escape(self._nothing_back)
                legend += f"<br><span style='color:{col('f')}'>{note}</span>"
            return legend

        sample = solid + "&nbsp;"
        self.headers["norm"].set_texts(head(f"Gradient size (log) · {where}", norm_legend(sample)),
                                       head("Gradient size (log)", norm_legend(sample)),
                                       head("Gradient (log)", norm_legend("")))
        zero = "dark grey" if th.name == "dark" else "white"
        if self.heat_log:
            legend = (f"blue negative, red positive; log colour over {HEAT_DECADES} decades, "
                      f"{zero} below")
            short = f"log colour, {HEAT_DECADES} decades"
        else:
            legend = f"blue negative, red positive, {zero} zero"
            short = "blue −, red +"
        self.headers["heat"].set_texts(head("Gradient of every unit", legend),
                                       head("Gradient of every unit", short),
                                       head("Gradient of every unit"))
        along, through = self.paths.names if self.paths else ("", "")
        along_key = {"lstm": "f", "gru": "z"}.get(kind, "h")
        what = "dL/dC<sub>t</sub>" if lstm else "dL/dh<sub>t</sub>"

        def path_legend(a: str, b: str) -> str:      # (no break between a sample and its name)
            return (f"<span style='color:{col(along_key)}'>{solid}&nbsp;{html.escape(a)}</span>"
                    f" &nbsp; <span style='color:{col('h')}'>{dashed}&nbsp;{html.escape(b)}</span>")

        self.headers["path"].set_texts(
            head(f"Paths into {what} (log, ‖·‖)", path_legend(along, through)),
            head(f"Paths into {what}", path_legend(*SHORT_PATH_NAMES[kind])),
            head(f"Paths into {what}"))
        self.headers["saliency"].set_texts(head("Input saliency ‖dL/dx<sub>t</sub>‖",
                                                "how much each input moves the loss"),
                                           head("Input saliency ‖dL/dx<sub>t</sub>‖"))
        size = f"{th.base_point_size * self.state.font_scale * 0.95:.1f}pt"
        for key, p in self.heat_plots.items():
            name = "dL/dh<sub>t</sub>" if key == "h" else "dL/dC<sub>t</sub>"
            p.setTitle(name, size=size, color=th.foreground)
            p.getAxis("left").setLabel("unit")

    def _push_target(self, force: bool = False) -> None:
        """Show the state's target in the line edit (unless the user's bad text is shown)."""
        y = self.state.target
        if self._shown_target is not None and np.array_equal(y, self._shown_target) and not force:
            return
        self._shown_target = y
        with QSignalBlocker(self.target_edit):
            self.target_edit.setText(format_target(y))
        self._show_target_error("")

    def _show_target_error(self, msg: str) -> None:
        if msg:
            self.target_error.setText(msg)
            self.target_error.show()
            self.target_edit.setStyleSheet(f"QLineEdit {{ border: 2px solid {ERROR_COLOR}; "
                                           f"color: {ERROR_COLOR}; }}")
            self.target_edit.setToolTip(f"{msg}\n\n{TIPS['target']}")
        elif not self.target_error.isHidden():
            self.target_error.hide()
            self.target_error.setText("")
            self.target_edit.setStyleSheet("")
            self.target_edit.setToolTip(TIPS["target"])

    def _on_trace(self) -> None:
        self.stop_check()                      # about the model before this change
        if self.last_check is not None or self.check_label.text() != NOT_CHECKED:
            self.last_check = None
            self.check_label.setText(NOT_CHECKED)
            self.check_label.setToolTip(TIPS["check"])
        if not self.isVisible():
            self._dirty = True
            return
        self.drafts.changed()
        self.refresh()

    def resizeEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(ev)
        self._fit_controls_height()             # the window's height sets the column's share

    def showEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().showEvent(ev)
        if self._dirty:
            self.refresh()

    def _on_timestep(self, t: int) -> None:
        for v in self.views:
            v.set_cursor(t)

    def _on_unit(self, _u: int) -> None:
        if not self.isVisible():
            self._dirty = True
            return
        self._update_main()
        self._set_titles()
        for v in self.views:
            v.rehover()

    def _fit_controls(self) -> None:
        """The controls column's width: its usual one, or wider when the first row needs
        it (the step box grows with the digits of a long sequence's steps, and neither
        it nor the "At cursor" button may be cut)."""
        scale = self.state.font_scale
        self.loss_here.setMinimumWidth(self.loss_here.sizeHint().width())
        self.loss_spin.setMinimumWidth(self.loss_spin.sizeHint().width())
        lay = self.controls.layout()
        m = lay.contentsMargins()
        row = (self.loss_step_label.sizeHint().width() + self.loss_spin.sizeHint().width()
               + self.loss_here.sizeHint().width() + 2 * max(lay.horizontalSpacing(), 0)
               + m.left() + m.right())
        width = max(round(CONTROLS_WIDTH * max(1.0, scale)), row)
        if width != self.controls.minimumWidth():          # (its fixed width)
            self.controls.setFixedWidth(width)
            self.controls_area.setFixedWidth(
                width + self.controls_area.verticalScrollBar().sizeHint().width())

    def _on_appearance(self) -> None:
        th, scale = self.state.theme, self.state.font_scale
        font = scaled_font(th, scale)
        self.controls.setFont(font)
        for w in self.controls.findChildren(QWidget):
            w.setFont(font)
        self._fit_controls()
        for key, page in self.pages.items():
            page.setStyleSheet(f"QWidget#gradient_page_{key} {{ background: {th.background}; }}")
            self.headers[key].setFont(font)
            self.headers[key].setStyleSheet(f"background: {th.background}; "
                                            f"color: {th.foreground}; padding: 2px;")
        self.loss_label.setFont(scaled_font(th, scale, 1.0, bold=True))
        lw = th.line_width * 1.25
        self.norm_curves["c"].setPen(pg.mkPen(th.gate_colors["c"], width=lw))
        self.norm_curves["h"].setPen(pg.mkPen(th.gate_colors["h"], width=lw))
        along_key = {"lstm": "f", "gru": "z"}.get(self.state.trace.kind, "h")
        self.path_curves["along"].setPen(pg.mkPen(th.gate_colors.get(along_key, th.foreground),
                                                  width=lw))
        self.path_curves["through"].setPen(pg.mkPen(th.gate_colors["h"], width=lw,
                                                    style=Qt.PenStyle.DashLine))
        self.loss_marker.setPen(pg.mkPen(th.foreground, width=1.5))
        self.loss_marker.setBrush(pg.mkBrush(th.background))      # (pens made by pg are cosmetic)
        bar = QColor(th.gate_colors["x"])
        bar.setAlpha(150)                       # the cursor line stays visible through a bar
        self.saliency_bars.setBrush(pg.mkBrush(bar))
        self.saliency_bars.setPen(pg.mkPen(th.foreground, width=1))     # (cosmetic: 1 px)
        self.colorbar.setColorMap(colormap(th))
        self.colorbar.setLevels((-1.0, 1.0) if self.heat_log else (-self.levels, self.levels))
        style_axes((self.colorbar.getAxis(n) for n in ("left", "right")), th,
                   scaled_font(th, scale, 0.85))
        for v in self.views:
            v.style()
        self._set_titles()

    # ------------------------------------------------------------------ hover

    def hover_text(self, view: _TimeView, k: int, t: int, y: float) -> str:
        """The tool tip for step ``t`` (0-based) at view height ``y`` of plot ``k`` of ``view``."""
        tr = self.state.trace
        label = self.state.labels[t] if t < len(self.state.labels) else ""
        head = f"Step {t + 1}" + (f" · input “{label}”" if label else "")
        u = self.state.unit
        if view is self.saliency_view:
            v = self.saliency[t]
            return (f"{head}\n‖dL/dxₜ‖ = {fmt(v)}: how much the loss would change per unit "
                    f"change of this step's input (the bar's height)." + self._zero_note(t, v, log=False))
        if view is self.path_view:
            p = self.paths
            a, b = p.along_norm[t], p.through_norm[t]
            state = "Cₜ" if p.state == "c" else "hₜ"
            total = a + b
            share = f" ({100 * a / total:.0f}% of the two sizes together)" if total > 0 else ""
            return (f"{head}\n{p.names[0]}: ‖·‖ = {fmt(a)}{share}\n"
                    f"{p.names[1]}: ‖·‖ = {fmt(b)}\n"
                    f"The two parts add up to dL/d{state}, the gradient of {state}.\n"
                    + _path_terms(p.kind, t == p.loss_step, tr.loss_class is not None)
                    + self._zero_note(t, a + b))
        if view is self.heat_view:
            key = "h" if k == 0 else "c"
            arr = tr.dL_dh if key == "h" else tr.dL_dc
            unit = int(np.floor(y))
            if arr is None or not 0 <= unit < tr.hidden_size:
                return ""
            v = arr[t, unit]
            sym = "hₜ" if key == "h" else "Cₜ"
            return (f"{head} · {self.state.unit_label(unit)}\ndL/d{sym} = {fmt(v)}: nudging "
                    f"{sym} of this unit up by a small δ changes the loss by about {fmt(v)}·δ."
                    + self._zero_note(t, v))
        # norms
        h = unit_magnitude(tr.dL_dh[t:t + 1], u)[0]
        c = 0.0
        lines = [head]
        bars = ("|", "|") if u >= 0 else ("‖", "‖")
        if tr.dL_dc is not None:
            c = unit_magnitude(tr.dL_dc[t:t + 1], u)[0]
            lines.append(f"{bars[0]}dL/dCₜ{bars[1]} = {fmt(c)}")
        lines.append(f"{bars[0]}dL/dhₜ{bars[1]} = {fmt(h)}")
        lines.append("How strongly a small change of the state at this step would change the loss.")
        if t == tr.loss_step:
            lines.append("★ The loss is measured on this step.")
        if h == 0 and c != 0 and np.isfinite(c):
            # the LSTM's point: the cell state carries what the h path does not
            lines.append("dL/dhₜ is exactly 0 here: the gradient reaches this step only along "
                         "the cell state.")
        return "\n".join(lines) + self._zero_note(t, h + c)

    def _zero_note(self, t: int, v: float, log: bool = True) -> str:
        """Why a value has no point or bar: not finite, or zero (``log``: on a log axis, a gap)."""
        if not np.isfinite(v):
            return ("\nNot a finite number: the experiment made it overflow, so the plot "
                    + ("leaves a gap here." if log else "draws no bar here."))
        if v != 0:
            return ""
        gap = "Zero (a gap on the log axis)" if log else "Zero"
        p = self.paths
        if t > p.loss_step:
            return (f"\n{gap}: this step comes after the loss step, so it cannot change the loss.")
        if t < p.first_step:
            return f"\n{gap}: truncated backpropagation stops before this step."
        return "\nExactly zero (a gap on the log axis)." if log else "\nExactly zero."

    def _entry_name(self, e: GradEntry) -> str:
        """A check entry as the rest of the panel says it: 1-based steps and units."""
        if e.name not in (INPUT, *STATES):
            return f"{e.name}[{', '.join(str(i) for i in e.index)}]"   # PyTorch's indexing
        t, k = e.index
        step = f"step {t + 1}" + (" (loss)" if t == self.state.trace.loss_step else "")
        if e.name == INPUT:
            return f"dL/dx at {step}, input {k + 1}"
        sym = "h" if e.name == "h" else "C"
        return f"dL/d{sym} at {step}, {self.state.unit_label(k)}"

    def _check_table(self, res: GradCheck) -> str:
        rows = []
        for e in res.entries:
            bad = e.settled and e.rel_error > TOLERANCE
            style = f" style='color:{ERROR_COLOR}'" if bad else ""
            err = f"{e.rel_error:.1e}" if e.settled else "unsettled"
            if e.eps != res.eps:
                err += f" (±{e.eps:g})"
            rows.append(f"<tr{style}><td>{html.escape(self._entry_name(e))}</td>"
                        f"<td align=right>{e.exact:.6g}</td><td align=right>{e.numeric:.6g}</td>"
                        f"<td align=right>{err}</td></tr>")
        note = f"<p>{html.escape(res.note)}</p>" if res.note else ""
        states = ("For dL/dh and dL/dC the state hₜ or Cₜ is nudged (hₜ = oₜ·tanh(Cₜ) "
                  "follows Cₜ)" if self.state.trace.c is not None
                  else "For dL/dh the state hₜ is nudged")
        return (f"<p>Exact gradients (backpropagation) against central differences "
                f"(nudge ±{res.eps:g}). {states} and the sequence runs on from it to the loss "
                f"step. Relative error = "
                f"|a − b| / max(|a|, |b|, {fmt(res.floor)}); below {TOLERANCE:g} the two "
                f"agree. An entry that disagrees is measured again with nudges 10, 100 and "
                f"1000 times smaller (the floor as many times larger, for rounding); a nudge "
                f"in brackets is the one that agreed. “Unsettled”: no nudge agreed and the "
                f"difference kept changing as the nudge shrank, so it measured no slope.</p>{note}"
                "<table cellspacing=4><tr><th align=left>entry</th><th>exact</th>"
                "<th>finite diff.</th><th>rel. error</th></tr>" + "".join(rows) + "</table>")


def _path_terms(kind: str, at_loss: bool, readout: bool) -> str:
    """How the paths plot splits a step's gradient, in symbols, for a hover."""
    own = ("the readout's cross-entropy" if readout else "½‖hₛ − y‖², whose slope is hₛ − y")
    if kind == "lstm":
        text = ("Along C: dL/dCₜ₊₁ ⊙ fₜ₊₁, what comes back from the next step's cell state. "
                "Through h: dL/dhₜ ⊙ oₜ ⊙ (1 − tanh²Cₜ), what reaches Cₜ through hₜ (the next "
                "step's gates, by W_hh). Each is counted as it arrives here: gradient that is "
                "along C now may have entered the cell state through h at a later step.")
    elif kind == "gru":
        text = ("Along h: dL/dhₜ₊₁ ⊙ zₜ₊₁, the share the update gate copies back from the next "
                "step. Through W_hh: the rest, through the next step's gates and candidate.")
    else:
        text = "A simple RNN has no copy path: all of dL/dhₜ comes back through W_hh and the tanh."
    if at_loss:
        text += f" On this, the loss step, the through part also holds the loss's own term ({own})."
    return text


def _verdict(res: GradCheck) -> str:
    """The check's result in words, the verdict first (see `GradientPanel.run_check`)."""
    note = f" {res.note}" if res.note else ""
    smaller = res.smaller_steps
    if smaller:
        least = min(e.eps for e in smaller)
        n = len(smaller)
        note += (f" {n} {'entry' if n == 1 else 'entries'} agreed only with a smaller nudge "
                 f"(down to ±{_power(least)}): the loss curves sharply there.")
    if res.disagreeing:
        verdict = "Exact and numerical DISAGREE ✗"
    elif res.unsettled:
        n, total = len(res.unsettled), len(res.entries)
        verdict = ("Exact and numerical agree where measurable ⚠" if n < total
                   else "Exact and numerical cannot be compared ⚠")
        note += (f" {n} of {total} could not be measured: the loss curves so sharply that the "
                 f"difference kept changing as the nudge shrank to ±{_power(res.eps / 10 ** RETRIES)} "
                 "(neither confirmed nor refuted).")
    else:
        verdict = "Exact and numerical agree ✓"
    if res.unsettled and len(res.unsettled) == len(res.entries):
        return f"{verdict}.{note}"
    return f"{verdict}: max relative error {fmt(res.max_rel_error)} over {_compared(res)}.{note}"


def _power(v: float) -> str:
    """A nudge such as 1e-07 as "10⁻⁷" (the nudges are powers of ten)."""
    k = int(round(np.log10(v)))
    return "10" + str(k).translate(_SUPERSCRIPTS)


def _compared(res: GradCheck) -> str:
    """What the check compared, e.g. "20 parameters, 4 inputs and 10 plotted state gradients
    (dL/dh, dL/dC)"."""
    names = [e.name for e in res.entries]
    n_in = names.count(INPUT)
    n_state = sum(names.count(k) for k in STATES)
    n_par = len(names) - n_in - n_state
    parts = [f"{n} {word}{'s' if n != 1 else ''}"
             for n, word in ((n_par, "parameter"), (n_in, "input")) if n]
    if n_state:
        which = "dL/dh, dL/dC" if "c" in names else "dL/dh"
        parts.append(f"{n_state} plotted state gradient{'s' if n_state != 1 else ''} ({which})")
    if not parts:
        return "no entries"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


__all__ = ["ClassSpin", "GradientPanel", "LOSS_KINDS", "ReadoutBars", "format_target",
           "nice_limit", "parse_target"]
