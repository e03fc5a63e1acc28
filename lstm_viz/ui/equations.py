"""The equations panel: the cell's equations with this step's numbers.

The LSTM has six equations, the GRU four, the simple RNN one; the rows are
rebuilt when the trace's cell kind changes.

Each row shows one equation (symbols in their gate colours, the same colours
as the diagram and the traces) and, under it, the same equation with the
numbers of the current step substituted for the focused unit. The row of the
element under the mouse (``state.focus``) is highlighted, and a box below the
rows explains that element in words. Clicking a row selects its equation.

All text comes from `lstm_viz.explain`; this module only lays it out.
"""

from __future__ import annotations

import html
import re

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QToolTip, QVBoxLayout, QWidget

from .. import explain
from ..state import AppState
from .kit import PREFETCH_MS, IdleWork, NumberLines
from .theme import Theme, highlight_color, scaled_font

_TOKEN = re.compile(r"([A-Za-z](?:\u0303|~)?)_(\{[^}]*\}|[A-Za-z0-9]+)")
_GATE_SUBS = {"f": "f", "i": "i", "o": "o", "g": "g", "c": "g", "C": "g",
              # GRU (PyTorch names: W_ir, W_hr, ... W_in, W_hn) and the simple RNN (W_ih, W_hh)
              "ir": "r", "hr": "r", "iz": "z", "hz": "z", "in": "n", "hn": "n",
              "ih": "a", "hh": "a"}


def _symbol_key(base: str, sub: str) -> str | None:
    """The colour key of a symbol such as f_t, C_{t-1}, W_f, r_t, W_hn (None: uncoloured)."""
    if base in ("C\u0303", "C~"):
        return "g"
    if base in ("f", "i", "o", "g", "h", "x", "r", "z", "n"):
        return base
    if base == "C":
        return "c"
    if base in ("W", "U", "b") and sub in _GATE_SUBS:
        return _GATE_SUBS[sub]
    if base == "a":                       # a pre-activation: a_f, a_r, ..., the RNN's a_t
        return sub if sub in ("f", "i", "g", "o", "r", "z", "n") else "a"
    return None


#: A quoted piece of the user's own text (a token “go_home”): left exactly as typed.
_QUOTED = re.compile(r"(“[^”]*”)")


def _outside_quotes(text: str, convert, quoted=lambda s: s) -> str:
    """``convert`` applied to ``text`` except its “quoted” pieces (given to ``quoted``)."""
    return "".join(quoted(part) if k % 2 else convert(part)
                   for k, part in enumerate(_QUOTED.split(text)))


def equation_html(text: str, theme: Theme) -> str:
    """Rich text of an equation: subscripts as <sub>, gate symbols in their colours
    (not inside “quoted” user text)."""
    return _outside_quotes(text, lambda part: _equation_html(part, theme), html.escape)


def _equation_html(text: str, theme: Theme) -> str:
    out, pos = [], 0
    for m in _TOKEN.finditer(text):
        out.append(html.escape(text[pos:m.start()]))
        base, sub = m.group(1), m.group(2)
        sub = sub[1:-1] if sub.startswith("{") else sub
        shown_base = "C\u0303" if base == "C~" else base
        token = f"{html.escape(shown_base)}<sub>{html.escape(sub)}</sub>"
        key = _symbol_key(base, sub)
        if key is not None:
            token = f"<span style='color:{theme.gate_color(key).name()}'><b>{token}</b></span>"
        out.append(token)
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def lines_html(text: str, theme: Theme, color: bool = True) -> str:
    """Several lines of equation text as rich text (subscripts; gate colours if ``color``)."""
    if color:
        body = equation_html(text, theme)
    else:
        body = _outside_quotes(text, lambda part: _TOKEN.sub(_plain_token, html.escape(part)),
                               html.escape)
    return body.replace("\n", "<br>")


def _plain_token(m: re.Match) -> str:
    base, sub = m.group(1), m.group(2)
    sub = sub[1:-1] if sub.startswith("{") else sub
    base = "C\u0303" if base == "C~" else base
    return f"{base}<sub>{sub}</sub>"


def focused_equation(focus: str, kind: str = "lstm") -> str:
    """The equation key of element ``focus`` in a ``kind`` cell ("" if none)."""
    return explain.equation_of(kind).get(focus, "") if focus else ""


_SUB = str.maketrans("0123456789+−-=()aehijklmnoprstuvx",
                     "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")


def unicode_subscripts(text: str) -> str:
    """``f_t`` -> ``fₜ``, ``C_{t−1}`` -> ``Cₜ₋₁`` where Unicode has the subscript letters
    (not inside “quoted” user text)."""
    def sub(m: re.Match) -> str:
        base, s = m.group(1), m.group(2)
        s = s[1:-1] if s.startswith("{") else s
        base = "C\u0303" if base == "C~" else base
        t = s.translate(_SUB)
        return base + t if all(ch not in t for ch in s if ch.isalnum()) else m.group(0)
    return _outside_quotes(text, lambda part: _TOKEN.sub(sub, part))


class EquationRow(QFrame):
    """One equation: symbolic line and numeric line; clicking selects it."""

    def __init__(self, state: AppState, key: str, symbolic: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.key = key
        self.symbolic = symbolic
        self.setObjectName(f"eqrow_{key}")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.sym = QLabel(self)
        self.sym.setTextFormat(Qt.TextFormat.RichText)
        self.sym.setWordWrap(True)
        self.num = NumberLines(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 4, 6, 4)
        lay.setSpacing(1)
        lay.addWidget(self.sym)
        lay.addWidget(self.num)
        self.highlighted = False
        self.numbers = ""

    def set_numbers(self, text: str) -> None:
        """Show the substituted equation (plain text from `explain`; subscripts rendered)."""
        if text != self.numbers:
            self.numbers = text
            self.num.setText(unicode_subscripts(text))

    def mousePressEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        if ev.button() == Qt.MouseButton.LeftButton:
            self.state.set_focus("" if self.state.focus == self.key else self.key)
        super().mousePressEvent(ev)

    def hover_text(self) -> str:
        """What this step's numbers mean (made when asked: always the current step)."""
        st = self.state
        fn = explain.explain_gradient if st.show_gradients else explain.explain
        click = "Click to keep this explanation in the panel below."
        try:
            e = fn(st.trace, st.timestep, st.unit, self.key, st.network)
        except (KeyError, ValueError):
            return click
        return unicode_subscripts(f"{e.numeric}\n{e.meaning}") + f"\n\n{click}"

    def event(self, ev) -> bool:
        if ev.type() == QEvent.Type.ToolTip:
            QToolTip.showText(ev.globalPos(), self.hover_text(), self)
            return True
        return super().event(ev)


class EquationsPanel(QWidget):
    """Side panel: header, the cell's equation rows, and the explanation of the focused element.

    ``rows`` maps equation keys to rows for the current cell kind (LSTM ``f i g o c h``,
    GRU ``r z n h``, RNN ``a``). In gradient mode the explanation is of dL/d(element).
    """

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._stale = True                       # the numbers wait until the panel is shown
        # step -> the rows' numbers, for one trace and unit (stepping back shows them again)
        self._numbers_at: dict[int, list[str]] = {}
        self._numbers_for: tuple | None = None
        # once stepping pauses: the numbers (and their layout) of the steps beside
        self._prefetch = IdleWork(self, self._prefetch_neighbours, PREFETCH_MS)
        self.header = NumberLines(self)          # changes every step: painted, no relayout
        self.rows: dict[str, EquationRow] = {}
        self.kind = ""
        self.body = QWidget()
        self._body_lay = body_lay = QVBoxLayout(self.body)
        body_lay.setContentsMargins(0, 0, 0, 0)
        body_lay.setSpacing(4)
        self.note = QLabel(self.body)
        self.note.setWordWrap(True)
        self.note.hide()
        body_lay.addWidget(self.note)

        self.explain_title = QLabel(self.body)
        self.explain_numeric = QLabel(self.body)
        self.explain_meaning = QLabel(self.body)
        for w in (self.explain_title, self.explain_numeric, self.explain_meaning):
            w.setWordWrap(True)
            w.setTextFormat(Qt.TextFormat.RichText)
            body_lay.addWidget(w)
        self.explain_meaning.setTextFormat(Qt.TextFormat.PlainText)
        body_lay.addStretch(1)
        self._build_rows(state.trace.kind)

        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.body)
        self.scroll = scroll
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(6)
        lay.addWidget(self.header)
        lay.addWidget(scroll, 1)

        state.trace_changed.connect(self._on_trace)
        state.timestep_changed.connect(self._refresh)
        # after a step (an edit would drop what it prepares, so not after one)
        state.timestep_changed.connect(lambda _t: self._prefetch.poke())
        state.unit_changed.connect(self._refresh)
        state.focus_changed.connect(self._on_focus)
        state.appearance_changed.connect(self._on_appearance)
        state.gradients_shown.connect(lambda _on: self._explain())
        self._on_appearance()

    # ------------------------------------------------------------------ rows per kind

    def _build_rows(self, kind: str) -> None:
        """(Re)create one row per equation of cell ``kind``, above the note."""
        for row in self.rows.values():
            self._body_lay.removeWidget(row)
            row.hide()                    # at once: the deletion waits for the event loop
            row.deleteLater()
        self.rows = {}
        self.kind = kind
        try:
            eqs = explain.equations_for(kind, self.state.network)
        except KeyError:
            eqs = ()
        self._options = self.state.options
        for n, (key, text) in enumerate(eqs):
            row = EquationRow(self.state, key, text, self.body)
            self.rows[key] = row
            self._body_lay.insertWidget(n, row)
            row.show()

    def _on_trace(self) -> None:
        if self.state.trace.kind != self.kind:
            self._build_rows(self.state.trace.kind)
            self._on_appearance()          # style the new rows (and refresh)
            return
        if self.state.options != self._options:    # an experiment rewrites an equation
            self._options = self.state.options
            th = self.state.theme
            for key, text in explain.equations_for(self.kind, self.state.network):
                row = self.rows[key]
                if text != row.symbolic:
                    row.symbolic = text
                    row.sym.setText(equation_html(text, th))
        self._refresh()

    # ------------------------------------------------------------------ updates

    def highlighted_key(self) -> str:
        """The equation key currently highlighted ("" if none)."""
        return next((k for k, r in self.rows.items() if r.highlighted), "")

    def showEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().showEvent(ev)
        if self._stale:
            self._refresh()

    def _refresh(self, *_args) -> None:
        # Hidden (another side tab is open, as while dragging a weight in the weight
        # editor): only remember to refresh when shown.
        self._stale = not self.isVisible()
        if self._stale:
            return
        st = self.state
        tr, t = st.trace, st.timestep
        self.header.setText(st.step_title(t))
        for row, text in zip(self.rows.values(), self._numbers(t)):
            row.set_numbers(text)
        self.note.setVisible(not self.rows)
        if not self.rows:
            self.note.setText(f"No equations for a {tr.kind.upper()} cell.")
        self._explain()

    def _numbers(self, t: int) -> list[str]:
        """Each row's numbers at step ``t`` for the state's trace and unit (remembered)."""
        st = self.state
        shown = self._numbers_for
        if shown is None or shown[0] is not st.trace or shown[1] != st.unit:
            self._numbers_for = (st.trace, st.unit)    # (the trace's kind decides the rows)
            self._numbers_at = {}
        numbers = self._numbers_at.get(t)
        if numbers is None:
            if len(self._numbers_at) >= 1024:
                self._numbers_at.clear()
            numbers = self._numbers_at[t] = [
                explain.equation_numbers(st.trace, t, st.unit, key, st.network)
                for key in self.rows]
        return numbers

    def _prefetch_neighbours(self) -> None:
        """Work out and lay out the heading and numbers of the next and the previous step."""
        st = self.state
        if self._stale or not self.isVisible():
            return                      # (shown again, it refreshes first)
        for t in (st.timestep + 1, st.timestep - 1):
            if 0 <= t < st.trace.steps:
                self.header.prepare(st.step_title(t))
                for row, text in zip(self.rows.values(), self._numbers(t)):
                    row.num.prepare(unicode_subscripts(text))

    def _explain(self) -> None:
        st = self.state
        key = st.focus
        e = None
        if key:
            fn = explain.explain_gradient if st.show_gradients else explain.explain
            try:
                e = fn(st.trace, st.timestep, st.unit, key, st.network)
            except (KeyError, ValueError):
                e = None
        if e is None:
            self.explain_title.setText("<b>What is this?</b>")
            self.explain_numeric.setText("")
            self.explain_numeric.hide()
            what = ("its gradient dL/d(·) at this step and what it says" if st.show_gradients
                    else "its numbers at this step and what they mean")
            self.explain_meaning.setText(
                f"Point at any part of the cell diagram, or click an equation, to see {what}.")
            return
        self.explain_title.setText(f"<b>{equation_html(e.title, st.theme)}</b>")
        self.explain_numeric.setText(lines_html(e.numeric, st.theme, color=False))
        self.explain_numeric.show()
        self.explain_meaning.setText(unicode_subscripts(e.meaning))     # plain text: hₜ, not h_t

    def _on_focus(self, _key: str) -> None:
        self._restyle_rows()
        self._explain()

    def _on_appearance(self) -> None:
        th, s = self.state.theme, self.state.font_scale
        # Styles first: a style sheet set on a shown row re-polishes it, and that
        # resets the fonts of rows just built (a new cell kind) to the default.
        self._restyle_rows()
        self.header.setFont(scaled_font(th, s, 1.2, bold=True))
        # Opaque, so that a new step repaints the header alone, not every widget behind it.
        self.header.set_background(QColor(th.panel))
        sym_font, num_font = scaled_font(th, s, 1.4), scaled_font(th, s, 1.2)
        for key, row in self.rows.items():
            row.sym.setFont(sym_font)
            row.num.setFont(num_font)
            row.sym.setText(equation_html(row.symbolic, th))
        # These labels' sizes go in their style sheets: a font set with setFont is
        # reset when the panel is re-parented (into the side tabs) under the app's
        # style sheet, a style-sheet size is not.
        for label, factor in ((self.explain_title, 1.2), (self.explain_numeric, 1.2),
                              (self.explain_meaning, 1.1), (self.note, 1.0)):
            font = scaled_font(th, s, factor)
            label.setFont(font)
            label.setStyleSheet(f"font-size: {font.pointSizeF():.2f}pt;")
        self._refresh()

    def _restyle_rows(self) -> None:
        th = self.state.theme
        active = focused_equation(self.state.focus, self.kind) if self.rows else ""
        hi = highlight_color(th).name()
        for key, row in self.rows.items():
            on = key == active
            row.highlighted = on
            bar = th.gate_color(key).name()
            bg = hi if on else th.background
            width = 3 if th.name == "contrast" or on else 1
            row.num.set_background(QColor(bg))
            row.setStyleSheet(
                f"QFrame#{row.objectName()} {{ background: {bg}; border: {width}px solid "
                f"{th.foreground if on else th.grid}; border-left: 8px solid {bar}; "
                f"border-radius: 4px; }}")
