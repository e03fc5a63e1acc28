"""The equations panel follows the cell kind: six LSTM rows, four GRU rows, one RNN row,
with this step's numbers, the focused element's row highlighted, gradients explained."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from lstm_viz import explain
from lstm_viz.explain import fmt
from lstm_viz.model import Network, init_params
from lstm_viz.ui.equations import EquationsPanel, equation_html, unicode_subscripts


@pytest.fixture
def panel(qtbot, state):
    p = EquationsPanel(state)
    qtbot.addWidget(p)
    p.resize(500, 800)
    p.show()
    qtbot.waitExposed(p)
    return p


def _use(state, kind):
    state.set_network(Network(init_params(kind, state.network.input_size, 3, seed=0)))
    state.set_target(np.array([0.5, -0.5, 0.0]))
    return state.trace


def test_rows_follow_the_cell_kind(panel, state):
    assert list(panel.rows) == ["f", "i", "g", "o", "c", "h"]
    _use(state, "gru")
    assert list(panel.rows) == ["r", "z", "n", "h"]
    assert all(row.isVisible() for row in panel.rows.values())
    _use(state, "rnn")
    assert list(panel.rows) == ["a"]
    assert "tanh" in panel.rows["a"].sym.text()


def test_gru_rows_show_this_steps_numbers(panel, state):
    tr = _use(state, "gru")
    state.set_unit(2)
    state.set_timestep(4)
    r, z, n = (tr.gates[k][4, 2] for k in "rzn")
    hn, pre = tr.preacts["hn"][4, 2], tr.preacts["n"][4, 2]
    hp = tr.h[3, 2]
    assert panel.rows["r"].numbers.endswith(f"= {fmt(r)}")
    assert panel.rows["n"].numbers == (f"n_t = tanh({fmt(pre - r * hn)} + {fmt(r)}·{fmt(hn)}) = "
                                       f"tanh({fmt(pre)}) = {fmt(n)}")
    assert panel.rows["h"].numbers.endswith(f"= {fmt(tr.h[4, 2])}")
    assert f"{fmt(z)}·{fmt(hp)}" in panel.rows["h"].numbers
    state.set_unit(-1)
    assert panel.rows["z"].numbers == "z_t = (" + ", ".join(fmt(v) for v in tr.gates["z"][4]) + ")"


def test_gru_symbols_are_coloured_by_gate(panel, state):
    _use(state, "gru")
    th = state.theme
    html = equation_html("n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t−1} + b_hn))", th)
    for key in ("n", "r"):
        assert th.gate_color(key).name() in html
    assert th.gate_color("n").name() in panel.rows["n"].sym.text()


def test_focus_on_a_gru_element_highlights_its_equation(qtbot, panel, state):
    _use(state, "gru")
    state.set_focus("mul_z")
    assert panel.highlighted_key() == "h"
    state.set_focus("hn")
    assert panel.highlighted_key() == "n"
    qtbot.mouseClick(panel.rows["z"], Qt.MouseButton.LeftButton)
    assert state.focus == "z" and panel.highlighted_key() == "z"
    assert "Update gate" in panel.explain_title.text()


def test_gradient_mode_explains_the_gradient(panel, state):
    tr = _use(state, "rnn")
    state.set_unit(0)
    state.set_timestep(13)
    state.set_focus("h")
    assert "Hidden state" in panel.explain_title.text()
    state.set_show_gradients(True)
    assert "Gradient" in panel.explain_title.text()
    assert fmt(tr.dL_dh[13, 0]) in panel.explain_numeric.text()
    assert "starts here" in panel.explain_meaning.text()
    assert "dL/dhₜ = hₜ − y" in panel.explain_meaning.text()      # plain text: Unicode subscripts


def test_a_hidden_panel_shows_the_current_numbers_when_shown_again(qtbot, panel, state):
    panel.hide()                                       # another side tab is open
    state.set_timestep(5)
    state.set_network(Network(init_params("lstm", state.network.input_size, 3, seed=4)))
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.header.text().startswith("Step 6 of")
    for key, row in panel.rows.items():                # this network's numbers, not the old one's
        assert row.numbers == explain.equation_numbers(state.trace, 5, state.unit, key,
                                                       state.network)


def test_a_step_repaints_the_header_and_numbers_not_the_panel_behind_them(qtbot, make_window, state):
    from PySide6.QtCore import QEvent, QObject, QRect
    from PySide6.QtWidgets import QApplication

    window = make_window(state)
    panel = window.equations
    painted = []                           # (widget, region) of each paint

    class Spy(QObject):
        def eventFilter(self, obj, ev):
            if ev.type() == QEvent.Type.Paint:
                painted.append((obj, ev.region()))
            return False

    spy = Spy()
    watched = (window, panel, panel.header, *(row.num for row in panel.rows.values()))
    for w in watched:
        w.installEventFilter(spy)
    state.set_timestep(3)
    qtbot.wait(50)                         # the window's first paints are done
    QApplication.processEvents()
    painted.clear()
    state.set_timestep(4)
    qtbot.waitUntil(lambda: any(w is panel.header for w, _ in painted))
    assert "Step 5 of" in panel.header.text()
    assert any(w is row.num for w, _ in painted for row in panel.rows.values())

    def under(w, widget):                  # a changed widget's rectangle in w's coordinates
        return QRect(widget.mapTo(w, widget.rect().topLeft()), widget.size())

    changed = [panel.header, *(row.num for row in panel.rows.values())]
    for w in (panel, window):              # (a hover elsewhere may repaint other parts)
        for obj, region in painted:
            if obj is w:
                assert not any(region.intersects(under(w, c)) for c in changed)


def test_a_step_shown_again_shows_the_current_trace_and_units_numbers(panel, state):
    # the panel keeps each step's numbers for stepping back; an edit or another unit
    # must not bring back the old ones
    def expected(t):
        tr, u = state.trace, state.unit
        return {k: explain.equation_numbers(tr, t, u, k, state.network) for k in panel.rows}

    def shown():
        return {k: row.numbers for k, row in panel.rows.items()}

    state.set_timestep(3)
    first = shown()
    assert first == expected(3)
    state.set_timestep(4)
    state.set_timestep(3)
    assert shown() == first
    net = state.network
    state.set_network(net.with_(params=net.params.with_value("bias_ih_l0", 0, 2.0)))
    assert shown() == expected(3) != first            # the edit's numbers
    state.set_unit(1)
    assert shown() == expected(3)
    state.set_unit(-1)
    state.set_timestep(5)
    state.set_timestep(3)
    assert shown() == expected(3)
    assert panel.rows["f"].num.text() == panel.rows["f"].numbers.replace("f_t", "fₜ")


def test_an_experiment_rewrites_its_equation_and_turning_it_off_restores_it(panel, state):
    from lstm_viz.model import Clamp, Options

    plain = panel.rows["f"].sym.text()
    assert "σ" in plain and "ReLU" not in plain
    state.set_options(Options(forget_activation="relu", clamps=(Clamp("o", 1.0, 2),)))
    f_text, o_text = panel.rows["f"].sym.text(), panel.rows["o"].sym.text()
    assert "ReLU(" in f_text and "σ" not in f_text
    assert "held at 1.00 from step 3 on" in o_text
    assert panel.rows["f"].numbers.startswith("f_t = ")            # numbers still follow
    state.set_options(Options())
    assert panel.rows["f"].sym.text() == plain
    assert "held" not in panel.rows["o"].sym.text()


def test_after_a_pause_the_next_steps_numbers_are_laid_out_and_never_stale(qtbot, panel, state):
    """Once stepping pauses the panel lays out the numbers of the steps beside; after an
    edit the next step shows the new trace's numbers."""
    from lstm_viz.ui.kit import PREFETCH_MS

    state.set_timestep(3)
    qtbot.waitUntil(lambda: {2, 4} <= set(panel._numbers_at), timeout=PREFETCH_MS + 2000)
    row = panel.rows["f"]
    ahead = panel._numbers_at[4][list(panel.rows).index("f")]
    assert ahead == explain.equation_numbers(state.trace, 4, state.unit, "f", state.network)
    assert unicode_subscripts(ahead) in row.num._layouts._layouts        # laid out already
    heading = state.step_title(4)
    assert heading.startswith("Step 5 of ") and heading in panel.header._layouts._layouts
    p = state.network.params
    state.set_network(Network(p.replace(bias_ih=p.bias_ih + 0.3)))
    state.set_timestep(4)
    tr = state.trace
    want = explain.equation_numbers(tr, 4, state.unit, "f", state.network)
    assert row.numbers == want


def test_typed_text_in_quotes_keeps_its_underscores():
    """A word the user typed (token “go_home”) is shown as typed in the explanation and
    tooltips; the symbols around it still get their subscripts."""
    from dataclasses import replace

    from lstm_viz.ui.equations import lines_html
    from lstm_viz.ui.theme import get_theme

    net = Network(init_params("lstm", 2, 3, seed=0))
    trace = replace(net.trace(np.zeros((2, 2))), labels=("go_home", "b_1"))
    e = explain.explain(trace, 0, -1, "x")
    assert "“go_home”" in e.numeric
    th = get_theme("light")
    for shown in (lines_html(e.numeric, th, color=False), equation_html(e.numeric, th)):
        assert "“go_home”" in shown and "x<sub>t</sub>" in shown
    assert unicode_subscripts(e.numeric).startswith("xₜ = ")
    assert "“go_home”" in unicode_subscripts(e.numeric)
    assert "“b_1”" in lines_html(explain.explain(trace, 1, -1, "x").numeric, th)


def test_hovering_an_equations_numbers_says_what_they_mean_at_the_current_step(qtbot, panel, state):
    # it only said "Click to select this equation" (found by the hover audit)
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    row = panel.rows["f"]
    for t in (2, 9):
        state.set_timestep(t)
        pos = row.num.rect().center()
        QApplication.sendEvent(row.num, QHelpEvent(QEvent.Type.ToolTip, pos, row.num.mapToGlobal(pos)))
        e = explain.explain(state.trace, t, state.unit, "f", state.network)
        qtbot.waitUntil(lambda: QToolTip.isVisible())
        tip = QToolTip.text()
        assert unicode_subscripts(e.numeric) in tip and unicode_subscripts(e.meaning) in tip
        f = state.trace.gates["f"][t, 0]
        assert f"= {fmt(f)}" in tip                       # the engine's number at this step
        QToolTip.hideText()
