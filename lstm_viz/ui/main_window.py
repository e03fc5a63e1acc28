"""The main window: cell diagram, unrolled strip, traces, equations and playback.

Layout (normal mode)::

    menu bar
    playback bar: |<- <- play -> ->|  timeline ........  Step 3 / 14  loop speed unit heatmap
    caption: what to watch
    +-------------------------------------------+------------------+
    | cell diagram                              | equations panel  |
    | unrolled strip                            |  (six equations, |
    | traces: C_t | h_t | gates                 |   explanation)   |
    +-------------------------------------------+------------------+

Presentation mode (F11) goes full screen with larger type and keeps only the
diagram, the strip and one trace (the cell state); F11 or Esc leaves it.

The window owns no model state: every view reads the `AppState` and calls its
setters. The window only applies the theme to the whole application and keeps
its own layout, theme and font scale in `QSettings` when given one.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, QSignalBlocker, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (QApplication, QDialog, QDialogButtonBox, QLabel, QMainWindow,
                               QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from ..state import AppState
from .equations import EquationsPanel
from .playback import Playback, PlaybackBar, _action
from .plots import TracePlots
from .theme import THEMES, palette, scaled_font, stylesheet

from .diagram import CellDiagramView
from .strip import UnrolledStripView

#: Font scale steps for Ctrl+Plus / Ctrl+Minus.
FONT_STEP = 0.1
#: Extra type size in presentation mode (multiplies the font scale).
PRESENTATION_FACTOR = 1.4
#: Theme order for "next theme".
THEME_ORDER = ("light", "dark", "contrast")
THEME_TITLES = {"light": "Light (projector)", "dark": "Dark", "contrast": "High contrast"}


class MainWindow(QMainWindow):
    """The application window on one `AppState`.

    Parameters
    ----------
    state : AppState
    settings : QSettings or None
        Where the window keeps its geometry, layout, theme and font scale.
        None (tests, screenshots) reads and writes nothing.
    """

    def __init__(self, state: AppState, settings: QSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.settings = settings
        self.presenting = False
        self._saved_scale = state.font_scale
        self._was_maximized = False
        self.setWindowTitle("lstm-viz — inside an LSTM cell")
        self.setMinimumSize(640, 400)

        # ---- views
        self.diagram = CellDiagramView(state)
        self.strip = UnrolledStripView(state)
        self.plots = TracePlots(state)
        self.equations = EquationsPanel(state)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setObjectName("caption")
        self.caption.setToolTip("What to watch in this example")
        self.caption.setContentsMargins(4, 2, 4, 2)

        # ---- actions and playback
        self.playback = Playback(state, self)
        self._make_view_actions()
        self.playback_bar = PlaybackBar(state, self.playback, extra_actions=(self.act_heatmap,))

        # ---- layout
        self.left = QSplitter(Qt.Orientation.Vertical)
        self.left.setChildrenCollapsible(False)
        for w in (self.diagram, self.strip, self.plots):
            self.left.addWidget(w)
        self.left.setStretchFactor(0, 5)
        self.left.setStretchFactor(1, 1)
        self.left.setStretchFactor(2, 3)
        self.main_split = QSplitter(Qt.Orientation.Horizontal)
        self.main_split.setChildrenCollapsible(False)
        self.main_split.addWidget(self.left)
        self.main_split.addWidget(self.equations)
        self.main_split.setStretchFactor(0, 3)
        self.main_split.setStretchFactor(1, 1)
        self.equations.setMinimumWidth(260)

        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(6, 0, 6, 6)
        lay.setSpacing(4)
        lay.addWidget(self.playback_bar)
        lay.addWidget(self.caption)
        lay.addWidget(self.main_split, 1)
        self.setCentralWidget(central)
        self._make_menus()
        self._initial_sizes()

        state.trace_changed.connect(self._on_trace)
        state.appearance_changed.connect(self._on_appearance)
        self._on_trace()
        self._on_appearance()
        if settings is not None:
            self.restore_settings()

    # ------------------------------------------------------------------ actions and menus

    def _make_view_actions(self) -> None:
        A = _action
        self.theme_group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        keys = {"light": "Ctrl+Alt+L", "dark": "Ctrl+Alt+D", "contrast": "Ctrl+Alt+H"}
        for name in THEME_ORDER:
            a = A(self, THEME_TITLES[name], keys[name], f"Switch to the {THEME_TITLES[name].lower()} theme",
                  checkable=True)
            a.setData(name)
            self.theme_group.addAction(a)
            self.theme_actions[name] = a
        self.theme_group.triggered.connect(lambda a: self.state.set_theme(a.data()))
        self.act_next_theme = A(self, "Next theme", "Ctrl+T", "Cycle light, dark, high contrast",
                                self._next_theme)
        self.act_bigger = A(self, "Larger text", [QKeySequence.StandardKey.ZoomIn, "Ctrl+="],
                            "Make all text larger", lambda: self._bump_font(+FONT_STEP))
        self.act_smaller = A(self, "Smaller text", [QKeySequence.StandardKey.ZoomOut],
                             "Make all text smaller", lambda: self._bump_font(-FONT_STEP))
        self.act_reset_font = A(self, "Normal text size", "Ctrl+0", "Reset the text size",
                                self._reset_font)
        self.act_heatmap = A(self, "Heatmap", "H",
                             "Show the traces as a units × time heatmap instead of lines",
                             self._set_heatmap, checkable=True)
        self.act_heatmap.setIconText("▦")
        self.act_present = A(self, "Presentation mode", "F11",
                             "Full screen, large type, only the diagram, strip and one trace",
                             self.set_presentation, checkable=True)
        self.act_leave = A(self, "Leave presentation mode", "Esc", "Leave presentation mode",
                           lambda: self.set_presentation(False))
        self.act_leave.setEnabled(False)
        self.act_equations = A(self, "Equations panel", "F9", "Show or hide the equations panel",
                               self._toggle_equations, checkable=True)
        self.act_equations.setChecked(True)
        self.act_shortcuts = A(self, "Keyboard shortcuts", "F1", "List every keyboard shortcut",
                               self.show_shortcuts)
        self.act_quit = A(self, "Quit", QKeySequence.StandardKey.Quit, "Close the window",
                          self.close)
        for a in self.view_actions():
            self.addAction(a)

    def view_actions(self) -> list[QAction]:
        return [*self.theme_actions.values(), self.act_next_theme, self.act_bigger,
                self.act_smaller, self.act_reset_font, self.act_heatmap, self.act_present,
                self.act_leave, self.act_equations, self.act_shortcuts, self.act_quit]

    def _make_menus(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addAction(self.act_quit)
        pb = self.playback
        m = mb.addMenu("&Playback")
        for a in (pb.act_play, pb.act_back, pb.act_forward, pb.act_first, pb.act_last,
                  pb.act_back_many, pb.act_forward_many, pb.act_loop):
            m.addAction(a)
        m.addSeparator()
        speed = m.addMenu("Animation &speed")
        speed.addActions(list(pb.speed_actions.values()))
        speed.addSeparator()
        speed.addActions([pb.act_slower, pb.act_faster])
        units = mb.addMenu("&Units")
        units.addActions(pb.unit_actions)
        units.addSeparator()
        units.addActions([pb.act_next_unit, pb.act_prev_unit])
        m = mb.addMenu("&View")
        themes = m.addMenu("&Theme")
        themes.addActions(list(self.theme_actions.values()))
        themes.addSeparator()
        themes.addAction(self.act_next_theme)
        m.addActions([self.act_bigger, self.act_smaller, self.act_reset_font])
        m.addSeparator()
        m.addActions([self.act_heatmap, self.act_equations, self.act_present])
        m = mb.addMenu("&Help")
        m.addAction(self.act_shortcuts)
        for menu in mb.findChildren(type(m)):
            menu.setToolTipsVisible(True)

    def all_actions(self) -> list[QAction]:
        """Every action of the window (each has a shortcut and a tool tip)."""
        return [*self.playback.actions(), *self.view_actions()]

    # ------------------------------------------------------------------ commands

    def _next_theme(self) -> None:
        k = THEME_ORDER.index(self.state.theme.name) if self.state.theme.name in THEME_ORDER else 0
        self.state.set_theme(THEME_ORDER[(k + 1) % len(THEME_ORDER)])

    def _bump_font(self, d: float) -> None:
        self.state.set_font_scale(round(self.state.font_scale + d, 2))

    def _reset_font(self) -> None:
        self.state.set_font_scale(PRESENTATION_FACTOR if self.presenting else 1.0)

    def _set_heatmap(self, on: bool) -> None:
        self.plots.set_heatmap(on)

    def _toggle_equations(self, on: bool) -> None:
        if not self.presenting:
            self.equations.setVisible(on)

    def set_presentation(self, on: bool) -> None:
        """Enter or leave presentation mode (full screen, large type, fewer panels)."""
        on = bool(on)
        if on == self.presenting:
            return
        self.presenting = on
        with QSignalBlocker(self.act_present):
            self.act_present.setChecked(on)
        self.act_leave.setEnabled(on)
        if on:
            self._saved_scale = self.state.font_scale
            self._was_maximized = self.isMaximized()
            self.state.set_font_scale(self._saved_scale * PRESENTATION_FACTOR)
            self.showFullScreen()
        else:
            self.state.set_font_scale(self.state.font_scale / PRESENTATION_FACTOR)
            self.showMaximized() if self._was_maximized else self.showNormal()
        self.menuBar().setVisible(not on)
        self.playback_bar.setVisible(not on)
        self.equations.setVisible(not on and self.act_equations.isChecked())
        self.plots.set_only("c" if on else None)

    def show_shortcuts(self) -> None:
        """A dialog listing every action with its shortcut."""
        dlg = QDialog(self)
        dlg.setWindowTitle("Keyboard shortcuts")
        acts = [a for a in self.all_actions() if a.isVisible() and a.shortcuts()]
        table = QTableWidget(len(acts), 2, dlg)
        table.setHorizontalHeaderLabels(["Action", "Keys"])
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, a in enumerate(acts):
            keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in a.shortcuts())
            table.setItem(r, 0, QTableWidgetItem(a.text().replace("&", "")))
            table.setItem(r, 1, QTableWidgetItem(keys))
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dlg)
        box.rejected.connect(dlg.reject)
        lay = QVBoxLayout(dlg)
        lay.addWidget(table)
        lay.addWidget(box)
        dlg.resize(520, 640)
        dlg.open()
        self._shortcuts_dialog = dlg

    # ------------------------------------------------------------------ state -> window

    def _on_trace(self) -> None:
        text = self.state.caption
        self.caption.setText(text)
        self.caption.setVisible(bool(text))

    def _on_appearance(self) -> None:
        st = self.state
        th, s = st.theme, st.font_scale
        app = QApplication.instance()
        if app is not None:
            app.setPalette(palette(th))
            app.setFont(scaled_font(th, s))
            app.setStyleSheet(stylesheet(th, s))
        self.setPalette(palette(th))
        self.caption.setFont(scaled_font(th, s, 1.2, bold=True))
        self.menuBar().setFont(scaled_font(th, s))
        if th.name in self.theme_actions:
            self.theme_actions[th.name].setChecked(True)

    # ------------------------------------------------------------------ layout and settings

    def _initial_sizes(self, width: int | None = None, height: int | None = None) -> None:
        """Split the space: equations ~27 % of the width; diagram, strip, traces 5:1.1:3.1."""
        w = width or max(self.width(), 1280)
        h = height or max(self.height(), 800)
        right = max(300, int(w * 0.27))
        self.main_split.setSizes([w - right, right])
        self.left.setSizes([int(h * 0.50), int(h * 0.11), int(h * 0.31)])

    def resize_for_layout(self, width: int, height: int) -> None:
        """Resize and re-split the panels for that window size (used by screenshots)."""
        self.resize(width, height)
        self._initial_sizes(width, height)

    def restore_settings(self) -> None:
        """Apply the saved theme, font scale, layout and playback options (bad values ignored)."""
        s = self.settings
        if s is None:
            return
        theme = s.value("view/theme", "", str)
        if theme in THEMES:
            self.state.set_theme(theme)
        try:
            self.state.set_font_scale(float(s.value("view/font_scale", 1.0)))
        except (TypeError, ValueError):
            pass
        try:
            self.state.set_animation_ms(int(s.value("playback/animation_ms", self.state.animation_ms)))
        except (TypeError, ValueError):
            pass
        self.playback.set_loop(s.value("playback/loop", False, bool))
        self.act_heatmap.setChecked(s.value("view/heatmap", False, bool))
        self.act_equations.setChecked(s.value("view/equations", True, bool))
        for key, restore in (("window/geometry", self.restoreGeometry),
                             ("window/state", self.restoreState),
                             ("window/split_main", self.main_split.restoreState),
                             ("window/split_left", self.left.restoreState)):
            v = s.value(key)
            if isinstance(v, QByteArray):
                restore(v)

    def save_settings(self) -> None:
        s = self.settings
        if s is None:
            return
        if self.presenting:
            self.set_presentation(False)
        s.setValue("view/theme", self.state.theme.name)
        s.setValue("view/font_scale", self.state.font_scale)
        s.setValue("view/heatmap", self.act_heatmap.isChecked())
        s.setValue("view/equations", self.act_equations.isChecked())
        s.setValue("playback/animation_ms", self.state.animation_ms)
        s.setValue("playback/loop", self.playback.loop)
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/split_main", self.main_split.saveState())
        s.setValue("window/split_left", self.left.saveState())
        s.sync()

    def closeEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        self.playback.pause()
        self.save_settings()
        super().closeEvent(ev)

