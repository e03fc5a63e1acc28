"""Playback: every shortcut moves the cursor as a presenter's clicker expects."""

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from lstm_viz.ui.playback import SPEEDS


@pytest.fixture
def window(make_window, state):
    w = make_window(state)
    w.activateWindow()
    return w


def key(qtbot, window, k, mod=Qt.KeyboardModifier.NoModifier):
    """Press a key on whatever widget has focus (or the window), as the user would."""
    target = QApplication.focusWidget() or window
    qtbot.keyClick(target, k, mod)


def test_right_left_home_end(qtbot, window, state):
    T = state.steps
    key(qtbot, window, Qt.Key.Key_Right)
    key(qtbot, window, Qt.Key.Key_Right)
    assert state.timestep == 2
    key(qtbot, window, Qt.Key.Key_Left)
    assert state.timestep == 1
    key(qtbot, window, Qt.Key.Key_End)
    assert state.timestep == T - 1
    key(qtbot, window, Qt.Key.Key_Right)          # clamped at the end
    assert state.timestep == T - 1
    key(qtbot, window, Qt.Key.Key_Home)
    assert state.timestep == 0
    key(qtbot, window, Qt.Key.Key_Left)           # clamped at the start
    assert state.timestep == 0
    key(qtbot, window, Qt.Key.Key_PageDown)       # clickers send Page Down / Page Up
    assert state.timestep == 1
    key(qtbot, window, Qt.Key.Key_PageUp)
    assert state.timestep == 0


def test_keys_work_whatever_has_focus(qtbot, window, state):
    bar = window.playback_bar
    for w in (bar.slider, bar.speed, bar.unit, bar.btn_forward):
        w.setFocus()
        qtbot.waitUntil(w.hasFocus)
        before = state.timestep
        qtbot.keyClick(w, Qt.Key.Key_Right)
        assert state.timestep == before + 1, type(w).__name__


def test_space_plays_to_the_end_and_stops(qtbot, window, state):
    state.set_animation_ms(0)
    window.playback.off_interval_ms = 5
    key(qtbot, window, Qt.Key.Key_Space)
    assert window.playback.playing
    qtbot.waitUntil(lambda: state.timestep == state.steps - 1, timeout=5000)
    qtbot.waitUntil(lambda: not window.playback.playing, timeout=2000)
    assert state.timestep == state.steps - 1


def test_space_pauses_and_a_step_key_stops_playing(qtbot, window, state):
    state.set_animation_ms(0)
    window.playback.off_interval_ms = 20
    key(qtbot, window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: state.timestep >= 2, timeout=5000)
    key(qtbot, window, Qt.Key.Key_Space)
    assert not window.playback.playing
    t = state.timestep
    qtbot.wait(100)
    assert state.timestep == t
    key(qtbot, window, Qt.Key.Key_Space)
    assert window.playback.playing
    key(qtbot, window, Qt.Key.Key_Home)
    assert not window.playback.playing and state.timestep == 0


def test_play_at_the_end_starts_over_and_loop_wraps(qtbot, window, state):
    state.set_animation_ms(0)
    pb = window.playback
    pb.off_interval_ms = 5
    state.set_timestep(state.steps - 1)
    key(qtbot, window, Qt.Key.Key_L)
    assert pb.loop
    key(qtbot, window, Qt.Key.Key_Space)
    seen = set()
    state.timestep_changed.connect(seen.add)
    qtbot.waitUntil(lambda: len(seen) == state.steps, timeout=5000)   # wrapped round
    assert pb.playing
    pb.pause()


def test_play_interval_follows_the_animation_speed(qtbot, window, state):
    pb = window.playback
    key(qtbot, window, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    assert state.animation_ms == SPEEDS["slow"]
    assert pb.interval_ms() >= SPEEDS["slow"]
    key(qtbot, window, Qt.Key.Key_BracketRight)
    assert state.animation_ms == SPEEDS["normal"]
    key(qtbot, window, Qt.Key.Key_0, Qt.KeyboardModifier.AltModifier)
    assert state.animation_ms == 0
    assert window.playback_bar.speed.currentData() == "off"


def test_slower_and_faster_keys_move_between_the_animated_speeds(qtbot, window, state):
    """[ and ] go slow, normal, fast and no further; animation off is not a speed between
    them (] from off switched to slow, and [ from slow switched animation off, which
    steps faster): there they do nothing, and the menu shows them greyed."""
    pb, combo = window.playback, window.playback_bar.speed
    key(qtbot, window, Qt.Key.Key_0, Qt.KeyboardModifier.AltModifier)
    for k in (Qt.Key.Key_BracketRight, Qt.Key.Key_BracketLeft):
        key(qtbot, window, k)
        assert state.animation_ms == 0 and combo.currentData() == "off"
    assert not pb.act_faster.isEnabled() and not pb.act_slower.isEnabled()
    key(qtbot, window, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    key(qtbot, window, Qt.Key.Key_BracketLeft)          # slow is the slowest
    assert state.animation_ms == SPEEDS["slow"] and not pb.act_slower.isEnabled()
    seen = []
    for _ in range(3):
        key(qtbot, window, Qt.Key.Key_BracketRight)
        seen.append(combo.currentData())
    assert seen == ["normal", "fast", "fast"] and not pb.act_faster.isEnabled()
    key(qtbot, window, Qt.Key.Key_BracketLeft)
    assert state.animation_ms == SPEEDS["normal"] and combo.currentData() == "normal"
    assert pb.act_slower.isEnabled() and pb.act_faster.isEnabled()
    state.set_animation_ms(100)                 # (a saved duration): it animates, so not "off"
    assert combo.currentData() == "fast" and pb.speed_actions["fast"].isChecked()


def test_slider_scrubs_the_timeline(qtbot, window, state):
    slider = window.playback_bar.slider
    assert (slider.minimum(), slider.maximum()) == (0, state.steps - 1)
    slider.setValue(6)                   # as a drag does, through valueChanged
    assert state.timestep == 6
    r = slider.rect()
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(int(r.width() * 0.95), r.center().y()))
    assert state.timestep > 6 and state.timestep == slider.value()     # a click on the groove
    state.set_timestep(11)
    assert slider.value() == 11
    assert "12 / 14" in window.playback_bar.step_label.text()


def test_unit_selector_and_unit_keys(qtbot, window, state):
    combo = window.playback_bar.unit
    assert combo.count() == 1 + state.trace.hidden_size
    assert "latch" in combo.itemText(1)
    key(qtbot, window, Qt.Key.Key_2)
    assert state.unit == 1 and combo.currentData() == 1
    key(qtbot, window, Qt.Key.Key_U)
    assert state.unit == 2
    key(qtbot, window, Qt.Key.Key_U)
    assert state.unit == -1                 # wraps to all units
    key(qtbot, window, Qt.Key.Key_U, Qt.KeyboardModifier.ShiftModifier)
    assert state.unit == 2
    key(qtbot, window, Qt.Key.Key_0)
    assert state.unit == -1
    combo.setCurrentIndex(1)
    combo.activated.emit(1)                 # what choosing an entry does
    assert state.unit == 0


def test_read_out_and_unit_list_follow_a_new_model(qtbot, window, state):
    import numpy as np

    from lstm_viz.model import Network, init_params

    bar = window.playback_bar
    label = bar.step_label
    width = label.width()
    T = 30
    long_token = "a-much-longer-token"                # wider than any demo token
    net = Network(init_params("lstm", 2, 5, seed=1))
    state.set_model(net, np.zeros((T, 2)), [long_token] * T)
    assert [bar.unit.itemData(i) for i in range(bar.unit.count())] == [-1, 0, 1, 2, 3, 4]
    state.set_timestep(T - 1)
    text = label.text()
    assert f"{T} / {T}" in text and long_token in text
    assert label.width() > width
    assert label.fontMetrics().horizontalAdvance(text) <= label.width()   # not cut off
    state.set_network(net.with_(params=net.params.with_value("bias_ih_l0", 0, 1.0)))
    assert bar.unit.count() == 6                      # same units: same list


def _events_on(widgets, kind):
    """(list that collects each widget sent an event of ``kind``, the filter to keep alive)."""
    from PySide6.QtCore import QObject

    seen = []

    class Spy(QObject):
        def eventFilter(self, obj, ev):  # noqa: N802 (Qt override)
            if ev.type() == kind:
                seen.append(obj)
            return False

    spy = Spy()
    for w in widgets:
        w.installEventFilter(spy)
    return seen, spy


def test_a_step_repaints_the_step_label_and_slider_not_the_bar_behind_them(qtbot, window, state):
    from PySide6.QtCore import QEvent

    from lstm_viz.ui.playback import PlaybackBar

    bar = window.findChild(PlaybackBar)
    painted, _spy = _events_on((bar, bar.slider, bar.step_label), QEvent.Type.Paint)
    state.set_timestep(3)                  # mid-sequence: no button changes its state
    QApplication.processEvents()
    painted.clear()
    state.set_timestep(4)
    qtbot.waitUntil(lambda: bar.step_label in painted)
    assert bar.slider in painted and bar not in painted
    assert f"Step {state.timestep + 1}" in bar.step_label.text().replace("  ", " ").replace("  ", " ")


def test_a_step_does_not_ask_the_window_to_lay_itself_out_again(qtbot, window, state):
    # The step label's text changes on every step; if its size could change, each
    # step would make the bar's and the main window's layouts recompute.
    from PySide6.QtCore import QEvent

    from lstm_viz.ui.playback import PlaybackBar

    bar = window.findChild(PlaybackBar)
    asked, _spy = _events_on((window, window.centralWidget(), bar), QEvent.Type.LayoutRequest)
    qtbot.wait(100)                        # what the window's start left to do
    asked.clear()
    for t in (1, 2, 9, 10, state.steps - 1, 0):
        state.set_timestep(t)
        QApplication.processEvents()
    assert [type(o).__name__ for o in asked] == []
    text = bar.step_label.text()
    assert bar.step_label.fontMetrics().horizontalAdvance(text) <= bar.step_label.width()
    assert bar.step_label.fontMetrics().height() <= bar.step_label.height()


def test_space_presses_a_check_box_reached_with_tab_and_plays_otherwise(qtbot, window, state):
    from lstm_viz.ui.main_window import TAB_EXPERIMENTS

    window.show_side_tab(TAB_EXPERIMENTS)
    relu = window.experiments.relu
    relu.setFocus(Qt.FocusReason.TabFocusReason)          # as Tab from the previous control
    key(qtbot, window, Qt.Key.Key_Space)
    assert relu.isChecked() and state.options.forget_activation == "relu"
    assert not window.playback.playing
    # clicked with the mouse, the box keeps focus, but Space is the presenter's play key
    qtbot.mouseClick(relu, Qt.MouseButton.LeftButton, pos=QPoint(8, relu.height() // 2))
    assert not relu.isChecked()
    key(qtbot, window, Qt.Key.Key_Space)
    assert window.playback.playing and not relu.isChecked()
    key(qtbot, window, Qt.Key.Key_Space)
    assert not window.playback.playing


def test_enter_or_esc_in_a_field_hands_the_keys_back_to_stepping(qtbot, window, state):
    # found by a keyboard audit: after typing a sequence and Enter, focus stayed in the
    # field, and a clicker's Left/Right/Space went on editing the text
    field = window.sequence_input.field
    field.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is field)
    field.selectAll()
    qtbot.keyClicks(field, "0,0; 1,0; 0,0; 0,1; 0,0")      # the demo's two inputs a step
    key(qtbot, window, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.diagram, timeout=2000)
    assert state.steps == 5
    t = state.timestep
    key(qtbot, window, Qt.Key.Key_Right)                  # the clicker steps again
    assert state.timestep == t + 1 and field.toPlainText() == "0,0; 1,0; 0,0; 0,1; 0,0"


def test_a_text_that_does_not_apply_keeps_the_focus_and_esc_leaves(qtbot, window, state):
    field = window.sequence_input.field
    field.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is field)
    field.selectAll()
    qtbot.keyClicks(field, "0,0; 1,x")                     # a typo: underlined, not applied
    key(qtbot, window, Qt.Key.Key_Return)
    qtbot.wait(20)
    assert QApplication.focusWidget() is field
    key(qtbot, window, Qt.Key.Key_Escape)
    assert QApplication.focusWidget() is window.diagram
    t = state.timestep
    key(qtbot, window, Qt.Key.Key_Right)                  # the keys step again
    assert state.timestep == t + 1
    assert field.toPlainText() == "0,0; 1,x"               # (Esc keeps the text)


def test_enter_in_a_number_box_applies_it_and_hands_the_keys_back(qtbot, window, state):
    from lstm_viz.ui.main_window import TAB_WEIGHTS

    window.show_side_tab(TAB_WEIGHTS)
    ed = window.weights
    ed.show_gate("f")
    hm = ed.heatmap("f", "hh")
    qtbot.waitUntil(hm.isVisible)
    qtbot.mouseClick(hm.viewport(), Qt.MouseButton.LeftButton, pos=hm.cell_pos(0, 0))
    spin = ed.spin                                          # a click on a cell: type its value
    qtbot.waitUntil(lambda: QApplication.focusWidget() in (spin, spin.lineEdit()))
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "0.5")
    key(qtbot, window, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.diagram, timeout=2000)
    assert spin.value() == 0.5
    t = state.timestep
    key(qtbot, window, Qt.Key.Key_Right)
    assert state.timestep == t + 1


def test_a_tab_bar_or_combo_box_reached_with_tab_keeps_its_keys(qtbot, window, state):
    # found by a keyboard audit: Right on a tab bar reached with Tab stepped the timeline
    bar = window.side.tabBar()
    bar.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is bar)
    t, tab = state.timestep, window.side.currentIndex()
    key(qtbot, window, Qt.Key.Key_Right)
    assert state.timestep == t and window.side.currentIndex() == tab + 1
    combo = window.preset_combo
    combo.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is combo)
    key(qtbot, window, Qt.Key.Key_Home)
    assert state.timestep == t
    # clicked, not tabbed to: the keys step again
    qtbot.mouseClick(window.diagram.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    window.diagram.setFocus()
    key(qtbot, window, Qt.Key.Key_Right)
    assert state.timestep == t + 1
