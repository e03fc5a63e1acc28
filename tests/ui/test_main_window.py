"""The main window: equations with this step's numbers, focus, themes, font scale,
presentation mode and remembered settings."""

import re

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from lstm_viz.state import AppState
from lstm_viz.ui.main_window import (BOTTOM_COMPARE, BOTTOM_GRADIENTS, BOTTOM_LONG,
                                    PRESENTATION_FACTOR, TAB_WEIGHTS)
from lstm_viz.ui.theme import get_theme, scaled_font


@pytest.fixture
def window(make_window, state):
    w = make_window(state)
    return w


def _last_number(rich: str) -> float:
    """The number after the last '=' of an equation line shown as rich text."""
    text = re.sub(r"<[^>]+>", "", rich).replace("−", "-")
    return float(text.rsplit("=", 1)[1].strip().split()[0])


@pytest.mark.parametrize("t", [0, 2, 10, 13])
@pytest.mark.parametrize("unit", [0, 1, 2])
def test_equations_show_this_steps_numbers(window, state, t, unit):
    state.set_timestep(t)
    state.set_unit(unit)
    tr = state.trace
    expected = {"f": tr.gates["f"], "i": tr.gates["i"], "g": tr.gates["g"], "o": tr.gates["o"],
                "c": tr.c, "h": tr.h}
    rows = window.equations.rows
    assert list(rows) == ["f", "i", "g", "o", "c", "h"]
    for key, arr in expected.items():
        shown = _last_number(rows[key].num.text())
        assert shown == pytest.approx(arr[t, unit], abs=6e-4), key
    header = window.equations.header.text()
    assert f"Step {t + 1} of 14" in header and state.unit_names[unit] in header


def test_equations_show_every_unit_when_all_are_selected(window, state):
    state.set_timestep(10)
    text = re.sub(r"<[^>]+>", "", window.equations.rows["h"].num.text()).replace("−", "-")
    values = [float(v) for v in re.findall(r"-?\d+\.\d+", text)]
    np.testing.assert_allclose(values, state.trace.h[10], atol=6e-4)


def test_focus_highlights_its_equation(qtbot, window, state):
    eq = window.equations
    assert eq.highlighted_key() == ""
    state.set_focus("mul_f")                 # the forget multiply belongs to C_t's equation
    assert eq.highlighted_key() == "c"
    assert "C" in eq.explain_title.text()
    state.set_focus("o")
    assert eq.highlighted_key() == "o"
    state.set_focus("x")                     # feeds every gate: no single equation
    assert eq.highlighted_key() == ""
    qtbot.mouseClick(eq.rows["i"], Qt.MouseButton.LeftButton)
    assert state.focus == "i" and eq.highlighted_key() == "i"
    qtbot.mouseClick(eq.rows["i"], Qt.MouseButton.LeftButton)    # click again to clear
    assert state.focus == ""


def test_a_new_font_scale_reaches_every_text_the_window_sizes_itself(qtbot, window, state):
    """The app's style sheet is replaced on every scale change, which re-polishes all
    widgets; views must still end up at the new size (they used not to: the playback
    bar, the equations header and explanation, the hidden-units box kept their size)."""
    eq = window.equations
    texts = {
        "step label": window.playback_bar.step_label,
        "play button": window.playback_bar.btn_play,
        "equations header": eq.header,
        "explanation title": eq.explain_title,
        "explanation": eq.explain_meaning,
        "equation": eq.rows["f"].sym,
        "hidden units": window.hidden_spin.lineEdit(),
        "caption": window.caption,
    }
    before = {k: w.font().pointSizeF() for k, w in texts.items()}
    state.set_font_scale(1.5)
    qtbot.wait(10)
    after = {k: w.font().pointSizeF() for k, w in texts.items()}
    for k in texts:
        assert after[k] == pytest.approx(1.5 * before[k], rel=0.02), k
    # ... and from the start the explanation has its own size, not the default text's
    assert before["explanation"] == pytest.approx(scaled_font(state.theme, 1.0, 1.1).pointSizeF())


def test_ctrl_plus_and_minus_scale_the_text(qtbot, window, state):
    cap0 = window.caption.font().pointSizeF()
    eq0 = window.equations.rows["f"].sym.font().pointSizeF()
    qtbot.keyClick(window, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert state.font_scale == pytest.approx(1.1)
    assert window.caption.font().pointSizeF() > cap0
    assert window.equations.rows["f"].sym.font().pointSizeF() > eq0
    assert window.playback_bar.step_label.font().pointSizeF() > 0      # (see the next test)
    qtbot.keyClick(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert state.font_scale == pytest.approx(0.9)
    assert window.caption.font().pointSizeF() < cap0
    qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert state.font_scale == 1.0
    assert window.caption.font().pointSizeF() == cap0


def test_theme_switch_applies_everywhere(qtbot, window, state):
    qtbot.keyClick(window, Qt.Key.Key_D,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    dark = get_theme("dark")
    assert state.theme is dark
    app_pal = QApplication.instance().palette()
    assert app_pal.color(QPalette.ColorRole.Window) == QColor(dark.panel)
    assert app_pal.color(QPalette.ColorRole.WindowText) == QColor(dark.foreground)
    assert window.caption.palette().color(QPalette.ColorRole.WindowText) == QColor(dark.foreground)
    for p in window.plots.panels.values():
        assert p.backgroundBrush().color() == QColor(dark.background)
    assert window.theme_actions["dark"].isChecked()
    assert dark.panel.lower() in window.equations.rows["f"].styleSheet().lower() or \
        dark.background.lower() in window.equations.rows["f"].styleSheet().lower()
    qtbot.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)   # next theme
    assert state.theme.name == "contrast"
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window) == QColor("#FFFFFF")


def test_presentation_mode_keeps_diagram_strip_and_one_trace(qtbot, window, state):
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert window.presenting
    assert window.side.isHidden() and window.playback_bar.isHidden()
    assert window.menuBar().isHidden()
    assert not window.diagram.isHidden() and not window.strip.isHidden()
    assert window.plots.visible_panels() == ["c"]
    assert state.font_scale == pytest.approx(PRESENTATION_FACTOR)
    qtbot.keyClick(window, Qt.Key.Key_Right)          # stepping still works
    assert state.timestep == 1
    # the keys of what presentation hides do nothing there (F9 once hid the side panel
    # unseen, and it was missing after leaving)
    assert not window.act_equations.isEnabled() and not window.act_show_training.isEnabled()
    window.act_equations.trigger()
    assert window.act_equations.isChecked()
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.presenting
    assert window.act_equations.isEnabled() and window.act_show_training.isEnabled()
    assert not window.side.isHidden() and not window.playback_bar.isHidden()
    assert window.plots.visible_panels() == ["c", "h", "gates"]
    assert state.font_scale == pytest.approx(1.0)


@pytest.mark.parametrize("scale", [1.3, 2.5, 3.0])
def test_leaving_presentation_mode_gives_back_the_users_text_size(qtbot, make_window, state,
                                                                  tmp_path, scale):
    """F11 then Esc (or closing the window while presenting) puts back the size the user
    had, and that is the size saved: dividing by the factor turned 2.5 and 3.0 (held at
    the largest, 3.0, while presenting) into 2.14."""
    path = str(tmp_path / "present.ini")
    window = make_window(state, settings=QSettings(path, QSettings.Format.IniFormat))
    window.activateWindow()                 # (the keys are the window's shortcuts)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    state.set_font_scale(scale)
    for leave in (Qt.Key.Key_Escape, Qt.Key.Key_F11):
        qtbot.keyClick(window, Qt.Key.Key_F11)
        assert window.presenting
        assert state.font_scale == pytest.approx(min(scale * PRESENTATION_FACTOR, 3.0))
        qtbot.keyClick(window, leave)
        assert not window.presenting
        assert state.font_scale == scale
    qtbot.keyClick(window, Qt.Key.Key_F11)
    window.close()                                  # saved as it was before presenting
    saved = QSettings(path, QSettings.Format.IniFormat).value("view/font_scale")
    assert float(saved) == scale


def test_a_size_chosen_while_presenting_is_carried_back(qtbot, window, state):
    """Ctrl+Minus while presenting: leaving keeps that change, by the factor."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    state.set_font_scale(1.2)
    qtbot.keyClick(window, Qt.Key.Key_F11)
    qtbot.keyClick(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    presented = state.font_scale
    assert presented == pytest.approx(1.2 * PRESENTATION_FACTOR - 0.1)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert state.font_scale == pytest.approx(presented / PRESENTATION_FACTOR)


def test_heatmap_key_toggles_every_plot(qtbot, window):
    qtbot.keyClick(window, Qt.Key.Key_H)
    assert all(p.heatmap and p.image.isVisible() for p in window.plots.panels.values())
    qtbot.keyClick(window, Qt.Key.Key_H)
    assert not any(p.heatmap for p in window.plots.panels.values())


def test_every_action_has_a_shortcut_and_a_tooltip(window):
    for a in window.all_actions():
        assert a.shortcuts(), a.text()
        assert a.toolTip() and a.toolTip() != a.text(), a.text()


def test_settings_persist_between_runs(make_window, state, tmp_path):
    path = str(tmp_path / "s.ini")
    w = make_window(state, settings=QSettings(path, QSettings.Format.IniFormat))
    state.set_theme("contrast")
    state.set_font_scale(1.3)
    w.act_heatmap.setChecked(True)
    w.close()
    state2 = AppState()
    w2 = make_window(state2, settings=QSettings(path, QSettings.Format.IniFormat))
    assert state2.theme.name == "contrast"
    assert state2.font_scale == pytest.approx(1.3)
    assert w2.plots.heatmap


def test_bad_saved_settings_are_ignored(make_window, state, tmp_path):
    path = str(tmp_path / "bad.ini")
    s = QSettings(path, QSettings.Format.IniFormat)
    s.setValue("view/theme", "neon")
    s.setValue("view/font_scale", "big")
    s.setValue("window/geometry", "garbage")
    s.sync()
    make_window(state, settings=QSettings(path, QSettings.Format.IniFormat))
    assert state.theme.name == "light" and state.font_scale == 1.0


@pytest.mark.parametrize("saved", ["3000000000", "99999999999999999999"])
def test_an_absurd_saved_animation_time_is_held_to_the_longest(qtbot, make_window, state,
                                                                 tmp_path, saved):
    from lstm_viz.state import MAX_ANIMATION_MS
    path = str(tmp_path / "anim.ini")
    s = QSettings(path, QSettings.Format.IniFormat)
    s.setValue("playback/animation_ms", saved)
    s.sync()
    w = make_window(state, settings=QSettings(path, QSettings.Format.IniFormat))
    assert state.animation_ms == MAX_ANIMATION_MS
    w.playback.act_play.trigger()                       # Play: Qt's timer takes the interval
    assert w.playback.playing and w.playback.timer.interval() == w.playback.interval_ms()
    w.playback.act_play.trigger()
    assert not w.playback.playing
    w.close()                                           # and the settings are written back
    assert int(QSettings(path, QSettings.Format.IniFormat).value("playback/animation_ms")) \
        == MAX_ANIMATION_MS


def test_lower_tabs_built_on_first_use_keep_their_bold_titles(qtbot, window, state):
    from lstm_viz.ui.main_window import BOTTOM_COMPARE, BOTTOM_LONG

    body = scaled_font(state.theme, state.font_scale).pointSizeF()
    for index, view in ((BOTTOM_COMPARE, lambda: window.compare),
                        (BOTTOM_LONG, lambda: window.long_range)):
        window.bottom.setCurrentIndex(index)
        qtbot.waitUntil(lambda: view().isVisible())
        title = view().title.font()
        assert title.bold() and title.pointSizeF() > body
    assert all(lab.font().bold() for lab in window.compare.name_labels.values())


@pytest.mark.parametrize("theme", ["light", "dark", "contrast"])
def test_a_disabled_control_looks_disabled_in_every_theme(qtbot, window, state, theme):
    state.set_theme(theme)
    th = get_theme(theme)
    window.show_side_tab(TAB_WEIGHTS)
    edit = window.weights.spin.lineEdit()      # disabled until a weight is selected
    qtbot.wait(10)
    assert not edit.isEnabled()
    group, text = QPalette.ColorGroup, QPalette.ColorRole.Text
    assert edit.palette().color(group.Disabled, text) != QColor(th.foreground)
    assert edit.palette().color(group.Active, text) == QColor(th.foreground)
    # what is drawn: no pixel of the box has the foreground colour of enabled text
    img = edit.grab().toImage()
    inks = {img.pixelColor(x, y).name() for x in range(img.width()) for y in range(img.height())}
    assert QColor(th.foreground).name() not in inks


@pytest.mark.parametrize("side", [0, TAB_WEIGHTS])
@pytest.mark.parametrize("tab", [BOTTOM_COMPARE, BOTTOM_LONG])
def test_the_bottom_tabs_side_panels_fit_a_laptop_window(qtbot, make_window, state, tab, side):
    """At 1280x800 the comparison and long-range panels' controls fit their width, also
    with the wide Weights tab open beside them: the side panel scrolls only up and
    down (the plot gives way), and every visible control is whole."""
    window = make_window(state)
    window.resize_for_layout(1280, 800)
    window.show_side_tab(side)
    window.bottom.setCurrentIndex(tab)
    qtbot.wait(50)
    view = window.bottom.currentWidget().widget()
    port = view.side_scroll.viewport()
    # the lazily built tab and the layouts around it settle over a few event-loop passes
    qtbot.waitUntil(lambda: view.side_scroll.horizontalScrollBar().maximum() == 0, timeout=2000)
    for w in view.side.findChildren(QWidget):
        if w.isVisible() and w.parent() is view.side:
            right = w.mapTo(port, w.rect().topRight()).x()
            assert right <= port.width(), (type(w).__name__, getattr(w, "text", str)())


@pytest.mark.parametrize("size, side", [((1280, 800), TAB_WEIGHTS), ((1920, 1080), 0)])
def test_the_plot_titles_fit_their_panels(qtbot, make_window, state, size, side):
    """Each trace title is whole within its panel, and so is its plot (the last steps
    too): with the Weights tab open at 1280x800 "· all units" was cut ("· all unit") and
    the title, as the plot's minimum width, pushed the plot's right edge out of sight.
    Where there is room, the titles still say which units they show."""
    window = make_window(state)
    window.resize_for_layout(*size)
    bar = window.side.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(side).center())
    assert window.side.currentIndex() == side
    panels = list(window.plots.panels.values())

    def whole(p) -> bool:
        text = p.plot.titleLabel.item.sceneBoundingRect()
        return (0 <= text.left() and text.right() <= p.width()
                and p.vb.sceneBoundingRect().right() <= p.width())

    qtbot.waitUntil(lambda: all(whole(p) for p in panels), timeout=2000)
    qtbot.wait(50)                              # (and they stay so once the layout settles)
    assert all(whole(p) for p in panels)
    if side == 0:
        assert all("all units" in p.plot.titleLabel.text for p in panels)


def test_the_experiments_fit_a_laptop_window_and_scroll_up_and_down(qtbot, make_window, state):
    """At 1280x800 no switch, setting or hint of the Experiments tab is squeezed below
    the size it needs (its text would be cut); the tab scrolls vertically instead."""
    from PySide6.QtWidgets import QAbstractSpinBox, QCheckBox, QComboBox, QLabel, QScrollArea
    from lstm_viz.ui.main_window import TAB_EXPERIMENTS

    window = make_window(state)
    window.resize_for_layout(1280, 800)
    window.show_side_tab(TAB_EXPERIMENTS)
    panel = window.experiments

    def squeezed() -> list[str]:
        out = []
        for w in panel.findChildren(QWidget):
            if not (isinstance(w, (QCheckBox, QAbstractSpinBox, QComboBox, QLabel))
                    and w.isVisibleTo(panel)):
                continue
            need = w.minimumSizeHint()
            if isinstance(w, QLabel) and w.wordWrap():
                need.setHeight(w.heightForWidth(w.width()))
            if w.width() < need.width() or w.height() < need.height():
                out.append(w.accessibleName() or getattr(w, "text", str)())
        return out

    # the layouts settle over a few event-loop passes
    try:
        qtbot.waitUntil(lambda: not squeezed(), timeout=2000)
    except Exception:
        pass
    assert squeezed() == []
    controls = [w for w in panel.findChildren(QWidget) if w.isVisibleTo(panel)
                and isinstance(w, (QCheckBox, QAbstractSpinBox, QComboBox, QLabel))]
    assert len(controls) >= 12
    area = window.side.currentWidget()
    assert isinstance(area, QScrollArea) and area.widget() is panel
    assert area.horizontalScrollBar().maximum() == 0


def test_larger_type_on_a_laptop_keeps_the_bar_and_side_panel_whole(qtbot, make_window, state):
    """At 1280x800 with type at 1.2x (Ctrl+Plus twice): the playback bar's buttons and
    boxes each get the width they need and none overlaps another, and the side panel
    widens to what its open page needs (the Experiments tab's switches were cut)."""
    from lstm_viz.ui.main_window import TAB_EXPERIMENTS

    window = make_window(state)
    window.resize_for_layout(1280, 800)
    window.show_side_tab(TAB_EXPERIMENTS)
    state.set_font_scale(1.2)
    bar = window.playback_bar
    parts = [bar.btn_first, bar.btn_back, bar.btn_play, bar.btn_forward, bar.btn_last, bar.slider,
             bar.step_label, bar.btn_loop, bar.speed, bar.unit, *bar.extra_buttons]
    page = window.side.currentWidget()

    def whole() -> bool:
        boxes = [w.geometry() for w in parts]
        apart = all(a.right() < b.left() for a, b in zip(boxes, boxes[1:]))
        wide = all(w.width() >= w.minimumSizeHint().width() for w in parts if w is not bar.slider)
        return apart and wide and page.width() >= page.minimumSizeHint().width()

    qtbot.waitUntil(whole, timeout=2000)
    assert bar.slider.width() >= bar.slider.minimumWidth()


def _label_px(window) -> float:
    """The diagram's smallest name label (C_t, h_t, f_t, ...) as drawn: its size in the
    scene times the view's zoom."""
    from lstm_viz.ui.diagram.items import LabelItem

    view = window.diagram
    labels = [i for i in view.scene().items() if isinstance(i, LabelItem) and i.isVisible()]
    assert labels
    return min(i.font().pixelSize() for i in labels) * view.transform().m11()


def _near(sizes, want) -> bool:
    """The same split, to a pixel or two (the bars around may settle a pixel apart)."""
    return all(abs(a - b) <= 2 for a, b in zip(sizes, want)) and (sizes[2] == 0) == (want[2] == 0)


def _active(qtbot, window) -> None:
    window.activateWindow()                 # (Ctrl+Plus is one of the window's shortcuts)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    window.diagram.setFocus()


@pytest.mark.parametrize("size, start, end", [((1280, 800), 1.0, 1.5),
                                              ((1920, 1080), 1.5, 2.0)])
def test_larger_type_never_makes_the_diagrams_labels_smaller(qtbot, make_window, state,
                                                              size, start, end):
    """Ctrl+Plus from ``start`` to ``end``: the caption, the bars and the strip grow with
    the type, and the room they took came out of the diagram (at 1280x800 from 1.0 to
    1.5 it went from 306 to 200 px and its labels from 22 to 18 px). Now its labels are
    never smaller than at the start, and larger at the end; the lower tabs keep what they
    need or fold away, never squeezed below it. Ctrl+Minus back gives the split back."""
    window = make_window(state)
    window.resize_for_layout(*size)
    state.set_font_scale(start)
    qtbot.wait(20)
    window.resize_for_layout(*size)             # (laid out for the start's type)
    _active(qtbot, window)
    qtbot.wait(20)
    split, first = window.left.sizes(), _label_px(window)
    steps = round((end - start) / 0.1)
    for _ in range(steps):
        qtbot.keyClick(window.diagram, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: _label_px(window) >= first)
        qtbot.wait(20)                          # (and stays so once all is laid out)
        assert _label_px(window) >= first
        bottom = window.left.sizes()[2]
        assert bottom == 0 or bottom >= window.bottom.minimumSizeHint().height()
    assert state.font_scale == pytest.approx(end)
    assert _label_px(window) > 1.2 * first
    for _ in range(steps):
        qtbot.keyClick(window.diagram, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: _near(window.left.sizes(), split))


def test_folded_lower_tabs_come_back_and_a_dragged_split_is_kept(qtbot, make_window, state):
    """At 1280x800 the lower tabs have no room at 1.5x type: F5 brings them back; a split
    the user dragged is the one that comes back after Ctrl+Plus and Ctrl+Minus."""
    window = make_window(state)
    window.resize_for_layout(1280, 800)
    _active(qtbot, window)
    qtbot.wait(50)                              # (laid out)
    handle = window.left.handle(2)              # between the strip and the lower tabs
    y = handle.height() // 2
    qtbot.mousePress(handle, Qt.MouseButton.LeftButton, pos=QPoint(5, y))
    qtbot.mouseMove(handle, QPoint(5, y - 40))
    qtbot.mouseRelease(handle, Qt.MouseButton.LeftButton, pos=QPoint(5, y - 40))
    dragged = window.left.sizes()
    assert dragged[2] > 200                     # (the traces made taller)
    qtbot.keyClick(window.diagram, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window.diagram, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: _near(window.left.sizes(), dragged))
    for _ in range(5):
        qtbot.keyClick(window.diagram, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.left.sizes()[2] == 0)
    assert "folded" in window.model_info.text()
    qtbot.keyClick(window.diagram, Qt.Key.Key_F5)
    assert window.bottom.currentIndex() == BOTTOM_GRADIENTS
    qtbot.waitUntil(lambda: window.left.sizes()[2] > 0)
    tabs = window.bottom.tabBar()
    assert tabs.isVisible() and tabs.height() > 0 and window.gradients.isVisible()


def test_lower_tabs_folded_by_larger_type_come_back_in_a_larger_window(qtbot, make_window, state):
    window = make_window(state)
    window.resize_for_layout(1280, 800)
    _active(qtbot, window)
    qtbot.wait(50)                              # (laid out)
    for _ in range(5):
        qtbot.keyClick(window.diagram, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.left.sizes()[2] == 0)
    kept = window.left.sizes()[0]
    window.resize(1280, 805)                    # not yet room for both
    qtbot.wait(50)
    assert window.left.sizes()[2] == 0
    window.resize(1280, 1150)                   # room: the tabs come back, the diagram keeps
    qtbot.waitUntil(lambda: window.left.sizes()[2] > 0)
    sizes = window.left.sizes()
    assert sizes[2] >= window.bottom.minimumSizeHint().height() and sizes[0] >= kept - 2


def test_presentation_mode_leaves_the_split_as_it_found_it(qtbot, make_window, state):
    window = make_window(state)
    window.resize_for_layout(1280, 800)
    _active(qtbot, window)
    qtbot.wait(50)                              # (laid out)
    split = window.left.sizes()
    qtbot.keyClick(window.diagram, Qt.Key.Key_F11)
    qtbot.waitUntil(lambda: window.left.sizes()[0] > split[0])    # more room, larger type
    qtbot.keyClick(window.diagram, Qt.Key.Key_Escape)
    window.resize(1280, 800)                    # (the offscreen window is not maximised)
    qtbot.waitUntil(lambda: _near(window.left.sizes(), split))


def test_the_weight_editor_fits_a_laptop_window_without_scrolling_sideways(qtbot, make_window,
                                                                          state):
    """At 1280x800 the Weights tab shows each gate's matrices and sliders in full: no
    horizontal scroll bar, and each slider at least 100 px long."""
    window = make_window(state)
    window.resize_for_layout(1280, 800)
    window.show_side_tab(TAB_WEIGHTS)
    qtbot.wait(50)
    ed = window.weights
    assert ed.scroll.horizontalScrollBar().maximum() == 0
    for sec in ed._sections.values():
        for slider in (sec.scale, sec.bias):
            assert slider.isVisible() and slider.width() >= 100
            right = slider.mapTo(ed.scroll.viewport(), slider.rect().topRight()).x()
            assert right <= ed.scroll.viewport().width()


def test_the_window_starts_with_a_broken_preset_file_and_keeps_the_others(
        make_window, state, tmp_path, monkeypatch):
    import shutil

    from lstm_viz.model import presets as P
    for f in P.presets_dir().glob("*.json"):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "zz_broken.json").write_text('{"id": "zz_broken", "weights": [1e999999]}')
    monkeypatch.setattr(P, "presets_dir", lambda: tmp_path)
    w = make_window(state)
    assert list(w.presets) == list(P.BUILDERS)
    assert "zz_broken.json" in w._preset_error


def test_the_caption_fades_once_the_presets_weights_are_edited_and_returns_on_undo(window, state):
    from dataclasses import replace

    from PySide6.QtGui import QPalette

    def color():
        return window.caption.palette().color(QPalette.ColorRole.WindowText).name().lower()

    assert state.preset_id and color() == state.theme.foreground.lower()
    p = state.network.params
    window.apply_network(state.network.with_(params=p.with_value("bias_ih", 0, p.bias_ih[0] + 1.0)),
                         "Edit a bias")
    assert color() == state.theme.muted.lower()
    assert "may no longer hold" in window.caption.toolTip()
    state.set_options(replace(state.options, truncate=3))   # an option is not a weight edit
    assert color() == state.theme.muted.lower()
    window.undo_stack.undo()                                 # (the options were set directly)
    assert color() == state.theme.foreground.lower()
    assert "may no longer hold" not in window.caption.toolTip()


def test_f1_lists_every_shortcut_with_its_keys(qtbot, window):
    from PySide6.QtWidgets import QTableWidget

    window.act_shortcuts.trigger()
    dlg = window._shortcuts_dialog
    qtbot.waitUntil(dlg.isVisible)
    table = dlg.findChild(QTableWidget)
    rows = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert all(keys.strip() for keys in rows.values()), rows      # no row without a key
    assert rows["Quit"] == "Ctrl+Q" and rows["Train"] == "F7"
    assert rows["Step forward"] == "Right, PgDown"
    dlg.close()


def test_a_tall_lower_tab_gives_the_diagram_its_room_back_when_left(qtbot, state, make_window):
    """A tab widget asks for its tallest page's height: once the Gradients and the
    comparison tabs had been open, the diagram stayed ~50 px shorter at 1280x800 on
    every tab. Now only the shown page counts, and leaving a taller one gives back the
    split there was."""
    from lstm_viz.ui.main_window import BOTTOM_TRACES

    w = make_window(state, size=(1280, 800))
    w.resize_for_layout(1280, 800)
    qtbot.wait(50)
    before = w.left.sizes()
    for tab in (BOTTOM_GRADIENTS, BOTTOM_COMPARE):
        w.bottom.setCurrentIndex(tab)
        qtbot.wait(20)
        assert w.left.sizes()[2] >= w.bottom.currentWidget().minimumSizeHint().height()
    w.bottom.setCurrentIndex(BOTTOM_TRACES)
    qtbot.waitUntil(lambda: abs(w.left.sizes()[0] - before[0]) <= 2, timeout=2000)
    assert abs(w.left.sizes()[2] - before[2]) <= 2
