"""The weight editor, driven like a user: click, type, drag, scroll, slide; then undo.

Expected values are computed here from the parameters (entry by entry) and the
engine's own `Network.trace` on the expected parameters, never read back from
the editor.
"""

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QSize, Qt
from PySide6.QtGui import QColor, QHelpEvent, QImage, QMouseEvent, QUndoStack, QWheelEvent
from PySide6.QtWidgets import QApplication, QToolTip

from lstm_viz import explain
from lstm_viz.explain import fmt
from lstm_viz.model import Network, init_params
from lstm_viz.model.demo import demo_params
from lstm_viz.state import AppState
from lstm_viz.ui.heatmap import cell_text
from lstm_viz.ui.weight_editor import (BIAS_STEPS, SCALE_STEPS, WeightEditor, nice_ceil,
                                       value_scale)

X = np.random.default_rng(7).normal(size=(9, 2))


def _editor(qtbot, net):
    """(state, undo stack, shown editor) on ``net`` and the inputs X."""
    state = AppState(net, X)
    stack = QUndoStack()
    editor = WeightEditor(state, stack)
    qtbot.addWidget(editor)
    editor.resize(800, 900)
    editor.show()
    qtbot.waitExposed(editor)
    return state, stack, editor


@pytest.fixture
def setup(qtbot):
    return _editor(qtbot, Network(init_params("lstm", 2, 3, seed=3), h0=np.zeros(3), c0=np.zeros(3)))


def click_cell(qtbot, editor, gate, part, r, c):
    hm = editor.heatmap(gate, part)
    editor.show_gate(gate if gate not in ("h0", "c0") else "h0")
    qtbot.mouseClick(hm.viewport(), Qt.MouseButton.LeftButton, pos=hm.cell_pos(r, c))
    return hm


def type_value(qtbot, editor, text):
    editor.spin.selectAll()
    qtbot.keyClicks(editor.spin, text)
    qtbot.keyClick(editor.spin, Qt.Key.Key_Return)


def assert_trace_matches(state, expected_net):
    ref = expected_net.trace(X)
    tr = state.trace
    for name in ("h", "c", "dL_dh", "dL_dc", "dL_dx"):
        np.testing.assert_array_equal(getattr(tr, name), getattr(ref, name))
    for g in ("i", "f", "g", "o"):
        np.testing.assert_array_equal(tr.gates[g], ref.gates[g])
    for k in ref.grads:
        np.testing.assert_array_equal(tr.grads[k], ref.grads[k])


def test_typing_a_value_sets_exactly_that_weight(qtbot, setup):
    state, stack, editor = setup
    before = state.network
    click_cell(qtbot, editor, "f", "hh", 2, 1)        # forget gate unit 3, from h unit 2
    assert editor.selected_target == ("weight_hh", 3 + 2, 1)
    type_value(qtbot, editor, "0.35")
    w = before.params.weight_hh.copy()
    w[5, 1] = 0.35
    np.testing.assert_array_equal(state.network.params.weight_hh, w)
    np.testing.assert_array_equal(state.network.params.weight_ih, before.params.weight_ih)
    np.testing.assert_array_equal(state.network.params.bias_ih, before.params.bias_ih)
    expected = Network(before.params.replace(weight_hh=w), h0=before.h0, c0=before.c0)
    assert_trace_matches(state, expected)
    assert stack.count() == 1


def test_bias_cell_edits_bias_ih_to_give_the_effective_value(qtbot, setup):
    state, stack, editor = setup
    p0 = state.network.params
    click_cell(qtbot, editor, "o", "b", 0, 0)
    type_value(qtbot, editor, "1.5")
    row = 9                                           # output gate rows 9..11
    assert state.network.params.bias_ih[row] == 1.5 - p0.bias_hh[row]
    np.testing.assert_array_equal(state.network.params.bias_hh, p0.bias_hh)
    expected = np.delete(p0.bias_ih, row)
    np.testing.assert_array_equal(np.delete(state.network.params.bias_ih, row), expected)


def test_vertical_drag_is_one_undo_step_and_undo_is_exact(qtbot, setup):
    state, stack, editor = setup
    before = state.network
    hm = editor.heatmap("i", "ih")
    p = hm.cell_pos(1, 0)
    vp = hm.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=p)
    for dy in (4, 9, 17, 25):
        qtbot.mouseMove(vp, QPoint(p.x(), p.y() - dy))
        QApplication.processEvents()
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=QPoint(p.x(), p.y() - 25))
    expected = before.params.weight_ih[1, 0] + 25 * (editor.vmax / 100)
    assert state.network.params.weight_ih[1, 0] == pytest.approx(expected, abs=1e-12)
    assert stack.count() == 1
    stack.undo()
    assert state.network.params.equals(before.params)
    assert_trace_matches(state, before)
    stack.redo()
    assert state.network.params.weight_ih[1, 0] == pytest.approx(expected, abs=1e-12)


def test_shift_drag_is_ten_times_finer(qtbot, setup):
    state, stack, editor = setup
    v0 = state.network.params.weight_hh[0, 0]
    hm = editor.heatmap("i", "hh")
    p, vp = hm.cell_pos(0, 0), hm.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=p)
    down = QPointF(p.x(), p.y() + 10)                  # downwards: smaller
    move = QMouseEvent(QEvent.Type.MouseMove, down, vp.mapToGlobal(down), Qt.MouseButton.NoButton,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier)
    QApplication.sendEvent(vp, move)                   # QTest's mouseMove carries no modifiers
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=down.toPoint())
    got = state.network.params.weight_hh[0, 0] - v0
    assert got == pytest.approx(-10 * editor.vmax / 100 / 10, abs=1e-12)
    assert stack.count() == 1


def test_wheel_nudges_the_cell_under_the_mouse(qtbot, setup):
    state, stack, editor = setup
    hm = editor.heatmap("g", "hh")
    editor.show_gate("g")
    pos = QPointF(hm.cell_pos(1, 2))
    v0 = state.network.params.weight_hh[6 + 1, 2]
    for _ in range(2):
        ev = QWheelEvent(pos, hm.viewport().mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120),
                         Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                         Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(hm.viewport(), ev)
    qtbot.waitUntil(lambda: state.network.params.weight_hh[7, 2] != v0)
    editor.flush()
    assert state.network.params.weight_hh[7, 2] == pytest.approx(v0 + 2 * editor.wheel_step(),
                                                                 abs=1e-12)
    assert editor.selected_target == ("weight_hh", 7, 2)
    assert stack.count() == 1                          # quick notches on one weight merge


def test_gate_scale_slider_scales_only_that_gate(qtbot, setup):
    state, stack, editor = setup
    p0 = state.network.params
    sec = editor.section("f")
    sec.scale.setFocus()
    qtbot.keyClick(sec.scale, Qt.Key.Key_PageUp)       # +10 positions
    factor = 2.0 ** (2.0 * 10 / SCALE_STEPS)
    p1 = state.network.params
    f = p0.gate_rows("f")
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        a0, a1 = p0.tensor(name), p1.tensor(name)
        np.testing.assert_array_equal(a1[f], a0[f] * factor)
        np.testing.assert_array_equal(np.delete(a1, np.r_[f], axis=0),
                                      np.delete(a0, np.r_[f], axis=0))
    assert sec.scale.value() == 0                      # springs back
    assert stack.count() == 1


def test_scale_slider_drag_is_relative_to_the_grab_and_one_step(qtbot, setup):
    state, stack, editor = setup
    p0 = state.network.params
    sl = editor.section("o").scale
    sl.setSliderDown(True)                             # as when the handle is grabbed
    for pos in (20, 60, SCALE_STEPS // 2):
        sl.setValue(pos)
    sl.setSliderDown(False)
    o = p0.gate_rows("o")
    np.testing.assert_array_equal(state.network.params.weight_hh[o], p0.weight_hh[o] * 2.0)
    assert stack.count() == 1
    stack.undo()
    assert state.network.params.equals(p0)


def test_bias_slider_shifts_one_chosen_unit(qtbot, setup):
    state, stack, editor = setup
    p0 = state.network.params
    sec = editor.section("i")
    sec.bias_unit.setCurrentIndex(2)                   # "unit 2"
    sec.bias.setFocus()
    qtbot.keyClick(sec.bias, Qt.Key.Key_PageUp)
    shift = 10 / BIAS_STEPS * editor.vmax
    expected = p0.bias_ih.copy()
    expected[1] += shift
    np.testing.assert_array_equal(state.network.params.bias_ih, expected)
    np.testing.assert_array_equal(state.network.params.weight_hh, p0.weight_hh)


def test_initial_states_reach_the_trace(qtbot, setup):
    state, stack, editor = setup
    before = state.network
    click_cell(qtbot, editor, "c0", "c0", 0, 1)
    type_value(qtbot, editor, "0.5")
    click_cell(qtbot, editor, "h0", "h0", 0, 2)
    type_value(qtbot, editor, "-0.25")
    np.testing.assert_array_equal(state.trace.c0, [0.0, 0.5, 0.0])
    np.testing.assert_array_equal(state.trace.h0, [0.0, 0.0, -0.25])
    expected = Network(before.params, h0=np.array([0, 0, -0.25]), c0=np.array([0, 0.5, 0]))
    assert_trace_matches(state, expected)
    stack.undo()
    stack.undo()
    np.testing.assert_array_equal(state.trace.c0, before.c0)


def test_hover_tooltip_names_the_weight_and_its_value(qtbot, setup):
    state, stack, editor = setup
    editor.show_gate("f")
    hm = editor.heatmap("f", "hh")
    pos = hm.cell_pos(0, 2)
    ev = QHelpEvent(QEvent.Type.ToolTip, pos, hm.viewport().mapToGlobal(pos))
    QApplication.sendEvent(hm.viewport(), ev)
    text = QToolTip.text()
    v = state.network.params.weight_hh[3, 2]
    assert "W_hf[1, 3]" in text
    assert fmt(v) in text
    assert "hₜ₋₁ unit 3" in text and "forget gate unit 1" in text
    assert "weight_hh_l0[3, 2]" in text


def test_heatmaps_show_the_weight_blocks(setup):
    state, stack, editor = setup
    p = state.network.params
    for g in p.gates:
        s = p.gate_rows(g)
        np.testing.assert_array_equal(editor.heatmap(g, "hh").image.image, p.weight_hh[s])
        np.testing.assert_array_equal(editor.heatmap(g, "ih").image.image, p.weight_ih[s])
        np.testing.assert_array_equal(editor.heatmap(g, "b").image.image[:, 0],
                                      p.bias_ih[s] + p.bias_hh[s])
        assert editor.heatmap(g, "hh").image.levels.tolist() == [-editor.vmax, editor.vmax]
    # headings in the equations' notation (subscripts, not TeX-like h_{t-1})
    sec = editor.section("f")
    assert (sec.title.text(), sec.cap_hh.text(), sec.cap_ih.text()) == \
        ("Forget gate fₜ", "from hₜ₋₁", "from xₜ")
    assert editor.section("g").title.text() == "Candidate C̃ₜ"
    assert [c.text() for c in editor._state_caps] == ["h₀", "C₀"]


def test_the_selected_weight_is_named_in_the_same_notation(qtbot, setup):
    state, stack, editor = setup
    click_cell(qtbot, editor, "f", "hh", 0, 1)
    text = editor.sel_label.text()
    assert text.endswith(": weight from hₜ₋₁ unit 2 to forget gate unit 1")
    assert "h_{" not in text and "_t" not in text
    click_cell(qtbot, editor, "i", "ih", 1, 0)
    assert "of xₜ" in editor.sel_label.text()


def test_colour_scale_stays_during_edits_and_refits_for_a_new_model(qtbot, setup):
    state, stack, editor = setup
    vmax = editor.vmax
    assert vmax == nice_ceil(max(np.abs(state.network.params.weight_hh).max(),
                                 np.abs(state.network.params.weight_ih).max(),
                                 np.abs(state.network.params.bias_ih
                                        + state.network.params.bias_hh).max(),
                                 np.abs(state.network.params.bias_ih).max(),
                                 np.abs(state.network.params.bias_hh).max()))
    click_cell(qtbot, editor, "f", "hh", 0, 0)
    type_value(qtbot, editor, "40")
    assert editor.vmax == vmax                        # no jump while editing
    state.set_network(Network(demo_params()))         # e.g. a preset
    assert editor.vmax == value_scale(state.network) == 20.0
    np.testing.assert_array_equal(editor.colorbar.vmax, 20.0)


def test_gru_and_rnn_layouts(qtbot):
    x = np.zeros((4, 2))
    state = AppState(Network(init_params("gru", 2, 4, seed=1)), x)
    editor = WeightEditor(state, QUndoStack())
    qtbot.addWidget(editor)
    assert [g for g in ("r", "z", "n") if editor.show_gate(g)] == ["r", "z", "n"]
    assert not editor.show_gate("f")
    b = editor.heatmap("n", "b")
    p = state.network.params
    s = p.gate_rows("n")
    np.testing.assert_array_equal(b.image.image, np.stack([p.bias_ih[s], p.bias_hh[s]], 1))
    with pytest.raises(KeyError):
        editor.heatmap("c0", "c0")                    # a GRU has no cell state
    state.set_network(Network(init_params("rnn", 2, 5, seed=1)))   # rebuilds
    assert editor.heatmap("a", "hh").image.image.shape == (5, 5)


def test_heatmap_cells_are_drawn_in_the_scale_colours_as_32_bit_pixels(setup):
    """The picture Qt scales up each repaint is 32-bit (an 8-bit indexed one draws ~10x
    slower) and holds each weight's colour on the value scale, as the diagram gives it."""
    state, stack, editor = setup
    hm = editor.heatmap("f", "hh")
    hm.viewport().grab()                              # a paint renders the picture
    q = hm.image.qimage
    assert q.format() in (QImage.Format.Format_RGB32, QImage.Format.Format_ARGB32_Premultiplied)
    w = state.network.params.weight_hh[state.network.params.gate_rows("f")]
    want = state.theme.value_rgb(w, editor.vmax).astype(int)
    for r in range(w.shape[0]):
        for c in range(w.shape[1]):
            got = QColor(q.pixel(c, r))
            assert [got.red(), got.green(), got.blue()] == want[r, c].tolist()


def test_a_drag_repaints_only_the_edited_cell_and_the_screen_matches_a_full_repaint(qtbot, setup):
    """Dragging a weight changes one entry: the heatmap repaints that cell only, and
    what the screen shows is what a full repaint shows."""
    from PySide6.QtCore import QObject
    from PySide6.QtGui import QGuiApplication

    state, stack, editor = setup
    editor.move(0, 0)
    hm = editor.heatmap("f", "hh")
    vp = hm.viewport()
    regions = []

    class Spy(QObject):
        def eventFilter(self, obj, ev):
            if ev.type() == QEvent.Type.Paint:
                regions.append(ev.region().boundingRect())
            return False

    spy = Spy()
    vp.installEventFilter(spy)
    p = hm.cell_pos(1, 2)
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=p)
    QApplication.processEvents()
    for dy in (5, 11, 30):
        regions.clear()
        qtbot.mouseMove(vp, QPoint(p.x(), p.y() - dy))
        qtbot.waitUntil(lambda: bool(regions), timeout=2000)
        QApplication.processEvents()
        px = hm.cell_pos(0, 1).x() - hm.cell_pos(0, 0).x()          # one cell, in pixels
        cell = QRect(hm.cell_pos(1, 2) - QPoint(px // 2, px // 2), QSize(px, px))
        assert regions and all(cell.adjusted(-8, -8, 8, 8).contains(r) for r in regions)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=QPoint(p.x(), p.y() - 30))
    QApplication.processEvents()
    top = vp.mapToGlobal(QPoint(0, 0))
    shot = QGuiApplication.primaryScreen().grabWindow(0).toImage()
    assert shot.rect().contains(QRect(top, vp.size()))
    on_screen = shot.copy(QRect(top, vp.size())).convertToFormat(QImage.Format.Format_RGB32)
    assert on_screen == vp.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    assert hm.values[1, 2] == state.network.params.weight_hh[state.network.params.gate_rows("f")][1, 2]
    # the printed numbers, updated cell by cell during the drag, are those of all the values
    texts, colors = hm.overlay.labels
    assert texts[1 * hm.values.shape[1] + 2] == cell_text(hm.values[1, 2])
    hm._update_labels()                                    # every cell afresh
    assert hm.overlay.labels == (texts, colors)


def test_a_drag_in_the_window_repaints_the_changed_widgets_not_the_panels_behind(
        qtbot, make_window, state):
    from PySide6.QtCore import QObject

    from lstm_viz.ui.main_window import TAB_WEIGHTS

    window = make_window(state)
    window.show_side_tab(TAB_WEIGHTS)
    ed = window.weights
    ed.show_gate("f")
    qtbot.wait(50)                          # the window's first paints are done
    painted = []
    regions = []

    class Spy(QObject):
        def eventFilter(self, obj, ev):
            if ev.type() == QEvent.Type.Paint:
                painted.append(obj)
                regions.append((obj, ev.region()))
            return False

    spy = Spy()
    watched = (window, ed, ed.sel_label, ed.spin, ed.slider, window.hidden_spin)
    for w in watched:
        w.installEventFilter(spy)
    hm = ed.heatmap("f", "hh")
    vp = hm.viewport()
    p = hm.cell_pos(0, 1)
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=p)
    qtbot.mouseMove(vp, QPoint(p.x(), p.y() - 6))     # the first edit: the status line says so
    qtbot.wait(50)
    before = state.network.params.weight_hh.copy()
    painted.clear()
    regions.clear()                         # (the press moved focus to the value box: once)
    qtbot.mouseMove(vp, QPoint(p.x(), p.y() - 12))
    qtbot.waitUntil(lambda: ed.slider in painted)
    QApplication.processEvents()
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=QPoint(p.x(), p.y() - 12))
    assert not np.array_equal(state.network.params.weight_hh, before)     # it did edit
    assert ed.sel_label in painted and ed.spin in painted
    assert window.hidden_spin not in painted

    def under(w, widget):                  # a changed widget's rectangle in w's coordinates
        return QRect(widget.mapTo(w, widget.rect().topLeft()), widget.size())

    changed = (ed.sel_label, ed.spin, ed.slider, window.hidden_spin)
    for w in (ed, window):                 # (a hover elsewhere may repaint other parts)
        for obj, region in regions:
            if obj is w:
                assert not any(region.intersects(under(w, c)) for c in changed)


def test_no_stale_number_and_no_raw_notation_after_a_new_cell(qtbot, setup):
    state, stack, editor = setup
    editor.select("f", "hh", 0, 0)
    editor.spin.setValue(0.3)
    assert editor.spin.isEnabled()
    state.set_network(Network(init_params("gru", 2, 3, seed=1)))      # nothing selected now
    assert not editor.spin.isEnabled()
    assert editor.spin.value() == 0.0 and editor.slider.value() == 0
    for gate in "rzn":
        role = editor.section(gate).role.text()
        assert role and "_{" not in role and "_t" not in role, role
    # the diagram's click hint names the candidate's biases as the editor does
    from lstm_viz.ui.diagram.scene import CLICK_HINTS
    assert "b_in, b_hn" in CLICK_HINTS["gru"]["n"]


def test_after_a_drag_on_a_cell_ctrl_z_undoes_it_and_the_playback_keys_step(
        qtbot, make_window, state):
    # found by an audit: the press gave the value box the keys, so Ctrl+Z undid only the
    # box's text (the weight stayed changed) and Space, the arrows and End did nothing
    from lstm_viz.ui.main_window import TAB_WEIGHTS

    window = make_window(state)
    window.activateWindow()
    window.show_side_tab(TAB_WEIGHTS)
    ed = window.weights
    ed.show_gate("i")
    hm = ed.heatmap("i", "ih")
    qtbot.waitUntil(hm.isVisible)
    before = state.network
    vp, p = hm.viewport(), hm.cell_pos(0, 0)
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=p)
    for dy in (5, 12, 20):
        qtbot.mouseMove(vp, QPoint(p.x(), p.y() - dy))
        QApplication.processEvents()
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=QPoint(p.x(), p.y() - 20))
    assert not state.network.params.equals(before.params)

    def key(k, mod=Qt.KeyboardModifier.NoModifier):    # on whatever has the keys, as a user
        qtbot.keyClick(QApplication.focusWidget() or window, k, mod)

    key(Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert state.network.params.equals(before.params)          # the app's undo, not the box's
    assert ed.spin.value() == before.params.weight_ih[0, 0]
    key(Qt.Key.Key_Z, Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier)
    assert not state.network.params.equals(before.params)      # redo
    key(Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    t = state.timestep
    key(Qt.Key.Key_Right)
    assert state.timestep == t + 1
    key(Qt.Key.Key_End)
    assert state.timestep == state.steps - 1
    key(Qt.Key.Key_Home)
    assert state.timestep == 0
    key(Qt.Key.Key_Space)
    assert window.playback.playing
    key(Qt.Key.Key_Space)
    assert not window.playback.playing
    # typing a number still edits the selected weight (the digit is no unit shortcut)
    unit = state.unit
    qtbot.keyClicks(QApplication.focusWidget(), "-1.25")
    key(Qt.Key.Key_Return)
    assert state.unit == unit
    assert state.network.params.weight_ih[0, 0] == -1.25
    assert "W_xi[1, 1]" in window.undo_stack.undoText()
    key(Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert state.network.params.equals(before.params)
    # a click into the box's text: a number box as any other, its keys its own
    qtbot.mouseClick(hm.viewport(), Qt.MouseButton.LeftButton, pos=p)
    edit = ed.spin.lineEdit()
    qtbot.mouseClick(edit, Qt.MouseButton.LeftButton, pos=edit.rect().center())
    t = state.timestep
    key(Qt.Key.Key_Left)
    key(Qt.Key.Key_Space)
    assert state.timestep == t and not window.playback.playing


def test_the_sliders_move_from_the_keyboard_in_the_window(qtbot, make_window, state):
    # found by an audit: on a focused slider the arrows and Page Up/Down stepped the
    # timeline (the window's shortcuts won), so no slider could be moved from the keyboard
    from lstm_viz.ui.main_window import TAB_WEIGHTS

    window = make_window(state)
    window.activateWindow()
    window.show_side_tab(TAB_WEIGHTS)
    ed = window.weights
    ed.show_gate("f")
    sec = ed.section("f")
    qtbot.waitUntil(sec.scale.isVisible)

    def key(k, mod=Qt.KeyboardModifier.NoModifier):    # on whatever has the keys, as a user
        qtbot.keyClick(QApplication.focusWidget() or window, k, mod)

    t = state.timestep
    sec.b.setFocus(Qt.FocusReason.TabFocusReason)        # the bias heatmap, then Tab
    qtbot.waitUntil(lambda: QApplication.focusWidget() is sec.b)
    key(Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is sec.scale
    p0 = state.network.params
    key(Qt.Key.Key_PageUp)                               # ×2^(2·10/100), then ×2^(2/100)
    key(Qt.Key.Key_Right)
    f = p0.gate_rows("f")
    w = p0.weight_hh.copy()
    w[f] = w[f] * 2.0 ** (2.0 * 10 / SCALE_STEPS) * 2.0 ** (2.0 / SCALE_STEPS)
    np.testing.assert_array_equal(state.network.params.weight_hh, w)
    assert sec.scale.value() == 0 and state.timestep == t
    key(Qt.Key.Key_Tab)                                  # the unit list, above the slider
    assert QApplication.focusWidget() is sec.bias_unit
    key(Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is sec.bias
    p1 = state.network.params
    key(Qt.Key.Key_Left)                                 # all units, −vmax/100
    b = p1.bias_ih.copy()
    b[f] += -1 / BIAS_STEPS * ed.vmax
    np.testing.assert_array_equal(state.network.params.bias_ih, b)
    assert state.timestep == t
    # the selected weight's slider, reached with Tab from the value box
    hm = ed.heatmap("f", "hh")
    qtbot.mouseClick(hm.viewport(), Qt.MouseButton.LeftButton, pos=hm.cell_pos(0, 0))
    key(Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is ed.slider
    key(Qt.Key.Key_End)
    assert state.network.params.weight_hh[f.start, 0] == ed.vmax
    key(Qt.Key.Key_PageDown)
    assert state.network.params.weight_hh[f.start, 0] == ed.vmax * (1 - 1 / 10)
    assert state.timestep == t
    # a click (a drag with the mouse) does not take the keys: a clicker still steps
    window.diagram.setFocus()
    qtbot.mouseClick(sec.scale, Qt.MouseButton.LeftButton, pos=sec.scale.rect().center())
    assert QApplication.focusWidget() is not sec.scale
    key(Qt.Key.Key_PageDown)
    assert state.timestep == t + 1


@pytest.mark.parametrize("kind, cells", [
    # (gate, part, row, col, the editor's name, the equations' symbol it is part of)
    ("lstm", [("g", "ih", 0, 0, "W_xC[1, 1]", "W_C"), ("g", "hh", 0, 1, "W_hC[1, 2]", "W_C"),
              ("g", "b", 1, 0, "b_C[2]", "b_C"), ("f", "hh", 2, 0, "W_hf[3, 1]", "W_f"),
              ("c0", "c0", 0, 1, "C_0[2]", "C_{t−1}")]),
    ("gru", [("r", "ih", 0, 0, "W_ir[1, 1]", "W_ir"), ("r", "hh", 0, 1, "W_hr[1, 2]", "W_hr"),
             ("n", "ih", 1, 1, "W_in[2, 2]", "W_in"), ("n", "b", 0, 1, "b_hn[1]", "b_hn")]),
    ("rnn", [("a", "ih", 0, 0, "W_ih[1, 1]", "W_ih"), ("a", "hh", 0, 1, "W_hh[1, 2]", "W_hh")]),
])
def test_weights_are_named_as_in_the_equations(qtbot, kind, cells):
    # found by an audit: the candidate's weights were W_xg, W_hg, b_g beside the
    # equations' W_C, b_C (and the GRU's W_xr beside W_ir, the RNN's W_x beside W_ih)
    state, stack, editor = _editor(qtbot, Network(init_params(kind, 2, 3, seed=2)))
    written = " ".join(text for _, text in explain.equations(kind))
    for gate, part, r, c, name, in_equations in cells:
        assert in_equations in written
        click_cell(qtbot, editor, gate, part, r, c)
        assert editor.sel_label.text().startswith(f"{name} = ")
    gate, part, r, c, name, _ = cells[0]
    click_cell(qtbot, editor, gate, part, r, c)
    type_value(qtbot, editor, "0.5")
    assert stack.undoText() == f"Set {name} to {fmt(0.5)}"


def test_the_bias_slider_tip_points_at_the_unit_list_above_it(setup):
    state, stack, editor = setup
    sec = editor.section("i")
    tip = sec.bias.toolTip()
    assert "list above" in tip and "on the right" not in tip
    assert sec.bias_unit.geometry().bottom() < sec.bias.geometry().top()      # it is above
