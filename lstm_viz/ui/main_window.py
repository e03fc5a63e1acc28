"""The main window: cell diagram, unrolled strip, traces, equations, weights and playback.

Layout (normal mode)::

    menu bar: File  Edit  Presets  Cell  Playback  Units  View  Help
    playback bar: |<- <- play -> ->|  timeline ...  Step 3 / 14  loop speed unit ▦ ∇ ◀∇
    sequence field [encoding] [Examples]            Preset [combo]  Hidden units [spin]
    caption: what to watch
    +-------------------------------------------+-----------------------------------+
    | cell diagram (LSTM, GRU or RNN; values    | [Equations] [Weights] [Experiments]|
    |   or, with G, gradients)                  | [Train]: the cell's equations with |
    | unrolled strip (B: backward pass)         |  this step's numbers, every weight |
    | [States and gates] [Gradients]            |  as a heatmap, the experiments     |
    | [LSTM vs GRU vs RNN] [Long range]  (F5)   |  that break the cell, or training  |
    +-------------------------------------------+-----------------------------------+
    status bar: the preset and what it shows          LSTM · 2 inputs · 3 units

Every change of the model goes through one ``QUndoStack`` (Edit > Undo,
Ctrl+Z; Redo, Ctrl+Shift+Z or Ctrl+Y): weight edits (`commands.edit`) and
sequences, presets, weights files, rebuilds for another size, another cell
kind (Ctrl+1/2/3), experiments and the long-range task (`commands.change`,
whole-model snapshots). A click of the Train tab's steps is one `commands.edit`. Changing the input width or the
number of hidden units rebuilds the weights with ``init_params(kind, D, H,
seed=REBUILD_SEED)`` after a confirmation that says what will be replaced.
The file code takes paths (`open_weights`, `save_weights`); only the menu
actions open file dialogs.

Larger type (Ctrl+Plus) splits the left column again so that the diagram's
labels never look smaller: the lower tabs give way, and fold away where the
window has no room left for them (F5 or a drag of the bar at the bottom brings
them back); each type size keeps its own split (`MainWindow._resplit_left`).

Presentation mode (F11) goes full screen with larger type and keeps only the
diagram, the strip and one trace (the cell state); F11 or Esc leaves it.

The window owns no model state: every view reads the `AppState` and calls its
setters. The window only applies the theme to the whole application and keeps
its own layout, theme and font scale in `QSettings` when given one.
"""

from __future__ import annotations

import importlib.util
import weakref
from typing import TYPE_CHECKING
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, QSignalBlocker, Qt, QTimer
from PySide6.QtGui import (QAction, QActionGroup, QColor, QKeySequence, QPalette, QTextCursor,
                           QUndoStack)
from PySide6.QtWidgets import (QAbstractButton, QAbstractSpinBox, QApplication, QComboBox,
                               QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel,
                               QLineEdit, QMainWindow, QMessageBox, QPlainTextEdit, QSpinBox,
                               QSizePolicy, QSplitter, QTabBar, QTableWidget, QTableWidgetItem,
                               QTabWidget,
                               QVBoxLayout, QWidget)

from ..explain import class_name
from ..model import (ENCODINGS, GATES, ModelInputError, Network, Options, SequenceError,
                     WeightsError, WeightsFileError, detect_encoding, encode, init_params,
                     load_weights)
from ..model import io as weights_io
from ..model.examples import EXAMPLES
from ..model.presets import Preset, list_presets
from ..state import (DEMO_PRESET, AppState, ModelSnapshot, demo_labels, format_sequence,
                     same_network)
from .commands import change, edit
from .equations import EquationsPanel
from .experiments import ExperimentsPanel
from .kit import ElidedLabel, scrolling
from .playback import Playback, PlaybackBar, _action
from .plots import TracePlots
from .sequence_input import SequenceInput
from .theme import THEMES, palette, scaled_font, stylesheet
from .weight_editor import WeightEditor

from .diagram import CellDiagramView
from .strip import UnrolledStripView

if TYPE_CHECKING:       # the lower tabs' views are imported when first shown (start-up)
    from .compare import ComparisonView
    from .training import TrainingPanel
    from .gradients import GradientPanel
    from .longrange import LongRangeView

#: Font scale steps for Ctrl+Plus / Ctrl+Minus.
FONT_STEP = 0.1
#: Extra type size in presentation mode (multiplies the font scale).
PRESENTATION_FACTOR = 1.4
#: Theme order for "next theme".
THEME_ORDER = ("light", "dark", "contrast")
THEME_TITLES = {"light": "Light (projector)", "dark": "Dark", "contrast": "High contrast"}
#: Seed of the random weights made when the input width or the number of units changes.
REBUILD_SEED = 0
#: Largest number of hidden units the spin box offers.
MAX_HIDDEN = 64
#: The largest model a weights file may open (beyond it every view would take seconds).
MAX_OPEN_INPUTS, MAX_OPEN_HIDDEN = 4096, 1024
#: Presets whose token labels are the demo's readable ones ("·", "1", "go").
DEMO_LABEL_PRESETS = {DEMO_PRESET: demo_labels}
#: Menu titles of the three cell kinds, and their shortcuts.
CELL_TITLES = {"lstm": "LSTM", "gru": "GRU", "rnn": "Simple RNN"}
CELL_KEYS = {"lstm": "Ctrl+1", "gru": "Ctrl+2", "rnn": "Ctrl+3"}


def _weak(method):
    """A callback that calls a bound ``method`` without keeping its object alive.

    The panels hold their callbacks; a plain bound method would tie the window
    and its children into a reference cycle that outlives the closed window.
    """
    ref = weakref.WeakMethod(method)

    def call(*args, **kwargs):
        m = ref()
        return m(*args, **kwargs) if m is not None else None
    return call


class LeaveFieldKeys(QObject):
    """Enter and Esc hand the keyboard back from a text field or number box to the window.

    In a field the arrows, Space, Home and End edit the text, as they should; without
    a way out a presenter's clicker would go on editing it after the Enter that applied
    it. So Enter, once the field has taken it (and the window agrees, see
    ``MainWindow.hand_back_keys``), and Esc at any time move the focus to the diagram,
    and the keys step and play again. (An application-wide filter: it sees the fields
    of tabs built later too.)
    """

    KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape)

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self._window = weakref.ref(window)

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802 (Qt override)
        if ev.type() != QEvent.Type.KeyPress or ev.key() not in self.KEYS:
            return False
        w = self._window()
        if (w is None or not isinstance(obj, (QLineEdit, QAbstractSpinBox, QPlainTextEdit))
                or obj.window() is not w
                or ev.modifiers() & ~Qt.KeyboardModifier.KeypadModifier):
            return False
        if ev.key() == Qt.Key.Key_Escape:
            w.hand_back_keys(obj)
            return True
        QTimer.singleShot(0, lambda: w.hand_back_keys(obj, applied=True))
        return False


class SpaceForButtons(QObject):
    """Space plays and pauses everywhere (a presenter's clicker sends it), except on a
    button or check box reached with Tab: there it presses it, so that the keyboard
    alone can switch an experiment on. A click leaves Space to playback.

    A combo box or a tab bar reached with Tab keeps Space and the arrows, Home and End
    too (to open the list, to move between tabs) instead of stepping.
    """

    #: Keys a combo box or tab bar reached with Tab takes for itself.
    LIST_KEYS = (Qt.Key.Key_Space, Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up,
                 Qt.Key.Key_Down, Qt.Key.Key_Home, Qt.Key.Key_End)

    def __init__(self, play: QAction) -> None:
        super().__init__(play)
        self.play = play
        self.keys = play.shortcuts()
        self.on_button = False

    def watch(self, root: QWidget) -> None:
        """Watch every button, check box, combo box and tab bar under ``root`` (built so far)."""
        for b in (*root.findChildren(QAbstractButton), *root.findChildren(QComboBox),
                  *root.findChildren(QTabBar)):
            b.installEventFilter(self)

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802 (Qt override)
        t = ev.type()
        if (t == QEvent.Type.ShortcutOverride and self.on_button
                and isinstance(obj, (QComboBox, QTabBar)) and ev.key() in self.LIST_KEYS
                and not ev.modifiers() & ~Qt.KeyboardModifier.KeypadModifier):
            ev.accept()                     # the key goes to the list, not to a shortcut
            return True
        if t == QEvent.Type.FocusIn:
            tabbed = ev.reason() in (Qt.FocusReason.TabFocusReason,
                                     Qt.FocusReason.BacktabFocusReason)
            if tabbed != self.on_button:
                self.on_button = tabbed
                self.play.setShortcuts([] if tabbed else self.keys)
        elif (t in (QEvent.Type.FocusOut, QEvent.Type.MouseButtonPress)
              and self.on_button):                 # (a click hands Space back to playback)
            self.on_button = False
            self.play.setShortcuts(self.keys)
        return False


class LazyTab(QWidget):
    """A tab page that builds its widget from ``factory(parent)`` when first shown or asked for.

    Start-up then pays only for the tab on screen; a page's widget, once built,
    stays for the life of the window. The widget is made with this page as its
    parent: one re-parented after it set its fonts would lose them to the app's
    style sheet.
    """

    def __init__(self, factory, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._factory = factory
        self._widget: QWidget | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)

    @property
    def built(self) -> bool:
        return self._widget is not None

    def widget(self) -> QWidget:
        if self._widget is None:
            self._widget = self._factory(self)
            self.layout().addWidget(self._widget)
            if self.isVisible():
                self._widget.show()
        return self._widget

    def showEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        self.widget()
        super().showEvent(ev)


def fit_options(options: Options, kind: str) -> Options:
    """The experiments of ``options`` that apply to a ``kind`` cell (others dropped)."""
    clamps = tuple(c for c in options.clamps if c.gate in GATES[kind])
    relu = options.forget_activation if kind == "lstm" else "sigmoid"
    return replace(options, clamps=clamps, forget_activation=relu)


#: Index of the side-panel tabs.
TAB_EQUATIONS, TAB_WEIGHTS, TAB_EXPERIMENTS, TAB_TRAIN = 0, 1, 2, 3
#: Index of the bottom tabs.
BOTTOM_TRACES, BOTTOM_GRADIENTS, BOTTOM_COMPARE, BOTTOM_LONG = 0, 1, 2, 3


def torch_available() -> bool:
    """True if PyTorch is installed (checked without importing it)."""
    return importlib.util.find_spec("torch") is not None


def _short_text(text: str, n: int = 28) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 1] + "…"


def _values(n: int) -> str:
    return f"{n} value" if n == 1 else f"{n} values"


def _inputs(n: int) -> str:
    return f"{n} input" if n == 1 else f"{n} inputs"


def save_pt(path: str | Path, net: Network) -> None:
    """Write ``net``'s state_dict (float64 tensors, PyTorch names) with ``torch.save``, atomically.

    Raises `WeightsFileError` if PyTorch is missing or the file cannot be written.
    """
    try:
        import torch
    except ImportError:
        raise WeightsFileError(path, "saving .pt files needs PyTorch; save as .npz instead") from None
    sd = {k: torch.from_numpy(np.array(v)) for k, v in net.params.to_state_dict().items()}
    for name in weights_io.STATE_NAMES:
        v = getattr(net, name)
        if v is not None:
            sd[name] = torch.from_numpy(np.array(v, dtype=np.float64))
    try:
        weights_io.atomic_write(path, lambda f: torch.save(sd, f))
    except OSError as e:
        raise WeightsFileError(path, f"cannot be written ({e.strerror or e})") from None


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
        state.appearance_changed.connect(self._apply_app_style)      # first: see there
        self.presenting = False
        self._saved_scale = state.font_scale           # the user's size, before presenting
        self._presented_scale = state.font_scale       # ... and the one presenting set
        self._was_maximized = False
        self.setWindowTitle("lstm-viz — inside an LSTM cell")
        self.setMinimumSize(640, 400)

        # ---- the model's history: every change of the model is one command here
        self.undo_stack = QUndoStack(self)
        self._pushing = False                             # in `_push`, not an undo or redo
        #: The step and unit the user chose, kept while a shorter sequence or fewer
        #: units hold the cursor back (`_on_cursor`, `_on_undo`).
        self._wanted = (state.timestep, state.unit)
        self.message_box: QMessageBox | None = None       # the last error shown (non-blocking)
        self._seq_serial = 0                              # typing merges into one undo step
        self._synced = (state.sequence_text, state.encoding)
        self._vocab_for: tuple = (None, (None, ""))      # (preset, width, text) -> vocabulary
        #: The preset loaded last (Ctrl+R resets to it even after a rebuild left it behind).
        self._last_preset = state.preset_id
        # per cell kind, what the window said about it when it stopped being the main cell
        # (caption, unit names, preset, sequence): the comparison keeps its weights, and
        # taking it back as the main cell brings its words back too
        self._left_as: dict[str, tuple] = {}
        self._pending_hidden: int | None = None
        broken: list[str] = []                            # a damaged installation
        self.presets: dict[str, Preset] = {p.id: p for p in list_presets(broken)}
        self._preset_error = "; ".join(broken)

        # ---- views
        self.diagram = CellDiagramView(state)
        self.strip = UnrolledStripView(state)
        # B: when the strip's backward front reaches the step shown, the diagram plays it
        self.strip.backward_reached.connect(self._backward_here)
        self.plots = TracePlots(state)
        self.equations = EquationsPanel(state)
        self.weights = WeightEditor(state, self.undo_stack)
        self.experiments = ExperimentsPanel(state, apply_options=_weak(self.apply_options))
        self.side = QTabWidget()
        self.side.setDocumentMode(True)
        # in a scroll area, as the experiments below: a step title that wraps onto another
        # line re-lays out this page only, not the whole window
        self.side.addTab(scrolling(self.equations, self.side), "Equations")
        self.side.addTab(self.weights, "Weights")
        # in a scroll area: at laptop sizes or large type the hints scroll, never squeezed
        self.side.addTab(scrolling(self.experiments, self.side), "Experiments")
        self.side.setTabToolTip(TAB_EQUATIONS, "The cell's equations with this step's numbers (F3)")
        self.side.setTabToolTip(TAB_WEIGHTS, "Every weight, bias and initial state, editable (F4); "
                                             "click a gate in the diagram to open its weights")
        self.side.setTabToolTip(TAB_EXPERIMENTS, "Break the cell on purpose: ReLU forget gate, "
                                                 "clamped gates, clipping, truncated BPTT (F6)")
        self.training: TrainingPanel | None = None      # built when first shown
        self.training_tab = LazyTab(_weak(self._make_training))
        self.side.addTab(self.training_tab, "Train")
        self.side.setTabToolTip(TAB_TRAIN, "Train the cell on this sequence by gradient descent, "
                                           "one undoable step per click (F7)")
        # the lower tabs other than the traces are built when first shown (or asked for)
        self.gradients_tab = LazyTab(_weak(self._make_gradients))
        # from the start, not with its tab: it keeps the weights of a cell that stops being
        # the main one, for Ctrl+1/2/3 and the tab alike (and computes nothing until shown)
        from ..compare import ComparisonState
        self.comparison = ComparisonState(state, seed=REBUILD_SEED, parent=self)
        self.compare_tab = LazyTab(_weak(self._make_compare))
        self.long_range_tab = LazyTab(_weak(self._make_long_range))
        self.bottom = QTabWidget()
        self.bottom.setDocumentMode(True)
        for w, title, tip in (
                (self.plots, "States and gates",
                 "Cell state, hidden state and gates over time (F5 cycles the tabs)"),
                (self.gradients_tab, "Gradients",
                 "How strongly the loss depends on each step: dL/dhₜ, dL/dCₜ, dL/dxₜ"),
                (self.compare_tab, "LSTM vs GRU vs RNN",
                 "The same input through the three cells: how far back does the gradient reach?"),
                (self.long_range_tab, "Long range",
                 "The gradient reaching step 1 as the sequence grows, for each cell")):
            self.bottom.addTab(w, title)
            self.bottom.setTabToolTip(self.bottom.count() - 1, tip)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setObjectName("caption")
        self._caption_faded = False             # see `_style_caption`
        self.caption.setContentsMargins(4, 2, 4, 2)

        # ---- model controls: sequence, preset, hidden units
        self.sequence_input = SequenceInput()
        self.sequence_input.set_text(state.sequence_text, self._field_encoding())
        self.sequence_input.field.moveCursor(QTextCursor.MoveOperation.Start)
        self.preset_combo = QComboBox()
        self.preset_combo.setToolTip("Load a preset: weights, a sequence and what to watch "
                                     "(Presets menu; Ctrl+R resets to it)")
        self.preset_combo.setAccessibleName("Preset")
        self.preset_combo.addItem("Custom", "")
        for p in self.presets.values():
            self.preset_combo.addItem(p.title, p.id)
            self.preset_combo.setItemData(self.preset_combo.count() - 1, p.explanation,
                                          Qt.ItemDataRole.ToolTipRole)
        self.preset_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.hidden_spin = QSpinBox()
        self.hidden_spin.setRange(1, MAX_HIDDEN)
        self.hidden_spin.setKeyboardTracking(False)
        self.hidden_spin.setAccessibleName("Hidden units")
        self.hidden_spin.setToolTip("Number of hidden units H. Changing it rebuilds the weights "
                                    "(seeded random) after asking; Ctrl+Z brings them back.")
        self.preset_label = QLabel("Preset")
        self.hidden_label = QLabel("Hidden units")
        self.preset_label.setBuddy(self.preset_combo)
        self.hidden_label.setBuddy(self.hidden_spin)
        self.model_row = QWidget()
        row = QHBoxLayout(self.model_row)
        row.setContentsMargins(8, 0, 8, 0)
        row.setSpacing(6)
        row.addWidget(self.sequence_input, 1)
        row.addSpacing(10)
        for w in (self.preset_label, self.preset_combo, self.hidden_label, self.hidden_spin):
            row.addWidget(w, 0, Qt.AlignmentFlag.AlignTop)

        # ---- actions and playback
        self.playback = Playback(state, self)
        self._make_view_actions()
        self._make_model_actions()
        self.playback_bar = PlaybackBar(state, self.playback, extra_actions=(self.act_heatmap, self.act_gradients,
                                                                 self.act_backward))

        # ---- layout
        self.left = QSplitter(Qt.Orientation.Vertical)
        self.left.setChildrenCollapsible(False)
        for w in (self.diagram, self.strip, self.bottom):
            self.left.addWidget(w)
        self.left.setStretchFactor(0, 5)
        self.left.setStretchFactor(1, 1)
        self.left.setStretchFactor(2, 3)
        self.left.setCollapsible(2, True)       # large type on a small screen: see `_resplit_left`
        # each type size (and presentation mode) keeps its own split of the left column
        self._splits: dict[tuple, list[int]] = {}
        self._split_key = self._left_key()      # what the split on screen is for
        #: (sizes, type size, the diagram's zoom) before a change of type size
        self._split_from: tuple | None = None
        self._bottom_pref: int | None = None    # the lower tabs' height before a page grew them
        self._folded_at: int | None = None      # the diagram's height when type folded the tabs
        self._resplit = QTimer(self)
        self._resplit.setSingleShot(True)
        self._resplit.setInterval(0)            # once the new fonts are laid out
        self._resplit.timeout.connect(self._resplit_left)
        self.main_split = QSplitter(Qt.Orientation.Horizontal)
        self.main_split.setChildrenCollapsible(False)
        self.main_split.addWidget(self.left)
        self.main_split.addWidget(self.side)
        self.main_split.setStretchFactor(0, 3)
        self.main_split.setStretchFactor(1, 1)
        self.side.setMinimumWidth(260)

        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(6, 0, 6, 0)
        lay.setSpacing(4)
        lay.addWidget(self.playback_bar)
        lay.addWidget(self.model_row)
        lay.addWidget(self.caption)
        lay.addWidget(self.main_split, 1)
        self.setCentralWidget(central)
        self.model_info = ElidedLabel()       # a long explanation ends in "…", whole on hover
        self.model_info.setToolTip("The preset this model comes from, and what it shows")
        self.model_shape = QLabel()
        self.model_shape.setToolTip("Cell kind, input width D and hidden units H")
        self.statusBar().addWidget(self.model_info, 1)
        self._notify_timer = QTimer(self)
        self._notify_timer.setSingleShot(True)
        self._notify_timer.timeout.connect(self._show_model_info)
        self.statusBar().addPermanentWidget(self.model_shape)
        self._make_menus()
        self._initial_sizes()

        self.sequence_input.sequence_accepted.connect(self._on_sequence)
        self.preset_combo.activated.connect(self._on_preset_combo)
        self.hidden_spin.valueChanged.connect(self._on_hidden_spin)
        self.side.currentChanged.connect(self._on_tab)
        self.bottom.currentChanged.connect(self._fit_bottom)
        self.bottom.currentChanged.connect(self._unfold_bottom)
        self.left.splitterMoved.connect(self._remember_split)
        state.trace_changed.connect(self._on_trace)
        state.texts_changed.connect(self._on_texts)
        state.appearance_changed.connect(self._on_appearance)
        state.activated.connect(self._on_activated)
        state.gradients_shown.connect(self._on_gradients_shown)
        state.timestep_changed.connect(self._on_cursor)
        state.unit_changed.connect(self._on_cursor)
        self.undo_stack.indexChanged.connect(self._on_undo)
        self._on_trace()
        self._space_keys = SpaceForButtons(self.playback.act_play)
        self._space_keys.watch(self)
        self._field_keys = LeaveFieldKeys(self)
        QApplication.instance().installEventFilter(self._field_keys)
        # once, at the end: creating the widgets under the app's style sheet costs more
        self._apply_app_style()
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
        self.act_equations = A(self, "Side panel", "F9",
                               "Show or hide the side panel (equations, weights, experiments, training)",
                               self._toggle_equations, checkable=True)
        self.act_equations.setChecked(True)
        self.act_show_equations = A(self, "Equations", "F3", "Show the equations panel",
                                    lambda: self.show_side_tab(TAB_EQUATIONS))
        self.act_show_weights = A(self, "Weights", "F4", "Show the weight editor",
                                  lambda: self.show_side_tab(TAB_WEIGHTS))
        self.act_show_experiments = A(self, "Experiments", "F6",
                                      "Show the experiments that break the cell",
                                      lambda: self.show_side_tab(TAB_EXPERIMENTS))
        self.act_show_training = A(self, "Train", "F7",
                                   "Show the training panel (gradient descent by BPTT)",
                                   lambda: self.show_side_tab(TAB_TRAIN))
        self.act_next_bottom = A(self, "Next lower tab", "F5",
                                 "Cycle the lower tabs: states and gates, gradients, the "
                                 "three cells compared, long range", self._next_bottom_tab)
        self.act_shortcuts = A(self, "Keyboard shortcuts", "F1", "List every keyboard shortcut",
                               self.show_shortcuts)
        self.act_quit = A(self, "Quit", "Ctrl+Q", "Close the window",     # (Cmd+Q on a Mac)
                          self.close)
        for a in self.view_actions():
            self.addAction(a)

    def view_actions(self) -> list[QAction]:
        return [*self.theme_actions.values(), self.act_next_theme, self.act_bigger,
                self.act_smaller, self.act_reset_font, self.act_heatmap, self.act_present,
                self.act_leave, self.act_equations, self.act_show_equations,
                self.act_show_weights, self.act_show_experiments, self.act_show_training,
                self.act_next_bottom, self.act_shortcuts, self.act_quit]

    def _make_model_actions(self) -> None:
        """File, Edit and Presets actions (window shortcuts: a text field keeps its own Ctrl+Z)."""
        A = _action
        self.act_open = A(self, "&Open weights…", QKeySequence.StandardKey.Open,
                          "Open a weights file (.npz, or .pt with PyTorch) in PyTorch's layout",
                          self._open_dialog)
        self.act_save = A(self, "&Save weights…", QKeySequence.StandardKey.Save,
                          "Save the weights and initial states in PyTorch's layout",
                          self._save_dialog)
        self.act_undo = self.undo_stack.createUndoAction(self, "&Undo")
        self.act_redo = self.undo_stack.createRedoAction(self, "&Redo")
        for a, keys, tip in ((self.act_undo, [QKeySequence.StandardKey.Undo], "Undo the last change"),
                             (self.act_redo, ["Ctrl+Shift+Z", "Ctrl+Y"], "Redo what was undone")):
            a.setShortcuts([QKeySequence(k) for k in keys])
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            names = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in a.shortcuts())
            a.setToolTip(f"{tip} ({names})")
            a.setStatusTip(tip)
        self.act_reset_preset = A(self, "&Reset to preset", "Ctrl+R",
                                  "Put back the weights of the preset last loaded", self.reset_to_preset)
        self.preset_actions: dict[str, QAction] = {}
        for p in self.presets.values():
            a = QAction(p.title, self)
            a.setToolTip(p.explanation)
            a.setStatusTip(p.explanation)
            a.triggered.connect(lambda _=False, pid=p.id: self.load_preset(pid))
            self.preset_actions[p.id] = a
        self.cell_group = QActionGroup(self)
        self.cell_actions: dict[str, QAction] = {}
        for kind, title in CELL_TITLES.items():
            a = A(self, f"{title} cell", CELL_KEYS[kind],
                  f"Make the main cell a {title} of the same size (seeded weights; Ctrl+Z undoes)",
                  checkable=True)
            a.setData(kind)
            self.cell_group.addAction(a)
            self.cell_actions[kind] = a
        self.cell_group.triggered.connect(lambda a: self.set_cell_kind(a.data()))
        self.act_gradients = A(self, "Show gradients", "G",
                               "Show the gradients of the loss dL/d(...) on the diagram and the "
                               "strip instead of the values", self.state.set_show_gradients,
                               checkable=True)
        self.act_gradients.setIconText("∇")
        self.act_backward = A(self, "Play the backward pass", "B",
                              "Animate the gradient flowing back from the loss step along the "
                              "strip (turns on Show gradients)", self.play_backward)
        self.act_backward.setIconText("◀∇")
        for a in (self.act_open, self.act_save, self.act_reset_preset, *self.cell_actions.values()):
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        for a in self.model_actions():
            self.addAction(a)

    def model_actions(self) -> list[QAction]:
        return [self.act_open, self.act_save, self.act_undo, self.act_redo, self.act_reset_preset,
                *self.cell_actions.values(), self.act_gradients, self.act_backward]

    def _make_menus(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addActions([self.act_open, self.act_save])
        m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu("&Edit")
        m.addActions([self.act_undo, self.act_redo])
        m.addSeparator()
        m.addAction(self.act_reset_preset)
        m = self.presets_menu = mb.addMenu("P&resets")
        m.addActions(list(self.preset_actions.values()))
        m.addSeparator()
        m.addAction(self.act_reset_preset)
        m = self.cell_menu = mb.addMenu("&Cell")
        m.addActions(list(self.cell_actions.values()))
        m.addSeparator()
        m.addActions([self.act_gradients, self.act_backward])
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
        m.addActions([self.act_heatmap, self.act_equations, self.act_show_equations,
                      self.act_show_weights, self.act_show_experiments, self.act_show_training,
                      self.act_next_bottom,
                      self.act_present])
        m = mb.addMenu("&Help")
        m.addAction(self.act_shortcuts)
        for menu in mb.findChildren(type(m)):
            menu.setToolTipsVisible(True)

    def all_actions(self) -> list[QAction]:
        """Every action of the window (each has a shortcut and a tool tip)."""
        return [*self.playback.actions(), *self.view_actions(), *self.model_actions()]

    # ------------------------------------------------------------------ commands

    def _next_theme(self) -> None:
        k = THEME_ORDER.index(self.state.theme.name) if self.state.theme.name in THEME_ORDER else 0
        self.state.set_theme(THEME_ORDER[(k + 1) % len(THEME_ORDER)])

    def _bump_font(self, d: float) -> None:
        self.state.set_font_scale(round(self.state.font_scale + d, 2))

    def _reset_font(self) -> None:
        self.state.set_font_scale(PRESENTATION_FACTOR if self.presenting else 1.0)

    def _next_bottom_tab(self) -> None:
        if not self.presenting:
            self.bottom.setCurrentIndex((self.bottom.currentIndex() + 1) % self.bottom.count())

    def _set_heatmap(self, on: bool) -> None:
        self.plots.set_heatmap(on)
        if self.gradients_tab.built:
            self.gradients.set_heatmap(on)

    # ------------------------------------------------------------------ lower tabs, built lazily

    @property
    def gradients(self) -> GradientPanel:
        """The Gradients tab's panel (built on first use)."""
        return self.gradients_tab.widget()

    @property
    def compare(self) -> ComparisonView:
        """The LSTM vs GRU vs RNN tab's view (built on first use)."""
        return self.compare_tab.widget()

    @property
    def long_range(self) -> LongRangeView:
        """The Long range tab's view (built on first use)."""
        return self.long_range_tab.widget()

    def _make_gradients(self, parent: QWidget) -> GradientPanel:
        from .gradients import GradientPanel
        panel = GradientPanel(self.state, set_loss_step=_weak(self.apply_loss_step),
                              set_target=_weak(self.apply_target),
                              set_loss_class=_weak(self.apply_loss_class), parent=parent)
        panel.set_heatmap(self.act_heatmap.isChecked())
        self._space_keys.watch(panel)
        return panel

    def _make_compare(self, parent: QWidget) -> ComparisonView:
        from .compare import ComparisonView
        view = ComparisonView(self.state, use_as_main=_weak(self.use_as_main),
                              comparison=self.comparison, parent=parent)
        self._space_keys.watch(view)
        return view

    def _make_training(self, parent: QWidget) -> QWidget:
        from .training import TrainingPanel
        self.training = TrainingPanel(self.state, apply_network=_weak(self.apply_network),
                                      parent=parent)
        self._space_keys.watch(self.training)
        return scrolling(self.training, parent)

    def _make_long_range(self, parent: QWidget) -> LongRangeView:
        from .longrange import LongRangeView
        view = LongRangeView(self.state, load_into_main=_weak(self.load_long_range),
                             parent=parent)
        self._space_keys.watch(view)
        return view

    def play_backward(self) -> None:
        """Show the gradients and animate the backward pass on the strip, and on the
        diagram when it reaches the step shown."""
        self.playback.pause()
        self.strip.play_backward()

    def _backward_here(self, t: int) -> None:
        if t == self.state.timestep:
            self.diagram.scene().play_backward_step()

    def _toggle_equations(self, on: bool) -> None:
        if not self.presenting:
            self.side.setVisible(on)

    def show_side_tab(self, index: int) -> None:
        """Show the side panel at the Equations or the Weights tab."""
        if not self.presenting and not self.act_equations.isChecked():
            self.act_equations.setChecked(True)
        self.side.setCurrentIndex(index)

    def hand_back_keys(self, field: QWidget, applied: bool = False) -> None:
        """Move the keyboard focus from ``field`` to the diagram (`LeaveFieldKeys`).

        With ``applied`` (after Enter) only if the field still has the focus (Enter
        did not open a dialog) and, for the sequence, if its text is now the one shown:
        a text with a typo, or one that asks for new weights, keeps the focus.
        """
        try:
            focus = QApplication.focusWidget()
            if applied and focus is not field and not (focus is not None and field.isAncestorOf(focus)):
                return
        except RuntimeError:                        # (the field is gone)
            return
        seq = self.sequence_input
        if applied and field is seq.field and (seq.text(), seq.encoding()) != (
                self.state.sequence_text, self.state.encoding):
            return
        self.diagram.setFocus(Qt.FocusReason.OtherFocusReason)

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
            self._presented_scale = self.state.font_scale
            self.showFullScreen()
        else:
            # The user's own size comes back as it was: dividing by the factor gave
            # another one (2.5 -> 3.0 at most -> 2.14), and it was saved. Only a size
            # changed while presenting (Ctrl+Plus there) is carried back, by the factor.
            if self.state.font_scale == self._presented_scale:
                self.state.set_font_scale(self._saved_scale)
            else:
                self.state.set_font_scale(self.state.font_scale / PRESENTATION_FACTOR)
            self.showMaximized() if self._was_maximized else self.showNormal()
        self.menuBar().setVisible(not on)
        self.playback_bar.setVisible(not on)
        self.model_row.setVisible(not on)
        self.statusBar().setVisible(not on)
        self.side.setVisible(not on and self.act_equations.isChecked())
        if on:
            self._bottom_before = self.bottom.currentIndex()
            self.bottom.setCurrentIndex(BOTTOM_TRACES)
        else:
            self.bottom.setCurrentIndex(getattr(self, "_bottom_before", BOTTOM_TRACES))
        self.bottom.tabBar().setVisible(not on)
        self.plots.set_only("c" if on else None)
        # what presentation hides, its keys leave alone (F9 would otherwise hide the
        # side panel unseen, to be missing after leaving)
        for a in (self.act_equations, self.act_show_equations, self.act_show_weights,
                  self.act_show_experiments, self.act_show_training, self.act_next_bottom):
            a.setEnabled(not on)

    def show_shortcuts(self) -> None:
        """A dialog listing every action with its shortcut."""
        dlg = QDialog(self)
        dlg.setWindowTitle("Keyboard shortcuts")
        acts = [a for a in self.all_actions()         # (Quit has no key on some systems)
                if a.isVisible() and any(not k.isEmpty() for k in a.shortcuts())]
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

    # ------------------------------------------------------------------ model changes

    def confirm(self, title: str, text: str) -> bool:
        """Ask a yes/cancel question (blocking); True for yes."""
        answer = QMessageBox.question(self, title, text,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def report_error(self, title: str, text: str) -> None:
        """Show an error in a window-modal box that does not block (kept in `message_box`)."""
        if self.message_box is not None:
            self.message_box.close()
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        self.message_box = box

    def _push(self, snap: ModelSnapshot, text: str, merge_key=None) -> bool:
        """One undoable change of the model; an engine refusal is shown, never raised."""
        self._pushing = True
        try:
            return change(self.undo_stack, self.state, snap, text, merge_key)
        except (ModelInputError, WeightsError, ValueError) as e:
            self.report_error("Not applied", f"That change was not applied: {e}\n"
                                             "The model is unchanged.")
            return False
        finally:
            self._pushing = False
            # a choice still held back stays for an undo; one the new model has room
            # for again is not brought back on it (it shows where the cursor is)
            st, (t, u) = self.state, self._wanted
            self._wanted = (t if t >= st.steps else st.timestep,
                            u if u >= st.trace.hidden_size else st.unit)

    def _on_cursor(self, *_args) -> None:
        """The step or unit moved: the user's choice, unless the model merely held it to
        a shorter sequence or fewer units (then the choice is kept, see `_on_undo`)."""
        st = self.state
        t, u = self._wanted
        if st.timestep != min(t, st.steps - 1):
            t = st.timestep
        if st.unit != min(u, st.trace.hidden_size - 1):
            u = st.unit
        self._wanted = (t, u)

    def _on_undo(self) -> None:
        """After an undo or redo: the step and unit the user had come back if they fit
        again (undoing a rebuild for fewer units left unit 3 at unit 2)."""
        if self._pushing:
            return
        st = self.state
        t, u = self._wanted
        if (t, u) == (st.timestep, st.unit):        # (also every merged drag frame)
            return
        if t < st.steps:
            st.set_timestep(t)
        if u < st.trace.hidden_size:
            st.set_unit(u)

    def rebuilt_network(self, inputs: int, hidden: int) -> Network:
        """Seeded random weights of the current kind for ``inputs`` x ``hidden``.

        Options are kept; initial states too when the number of units stays.
        """
        net = self.state.network
        params = init_params(net.kind, inputs, hidden, seed=REBUILD_SEED)
        keep = hidden == net.hidden_size
        return Network(params, h0=net.h0 if keep else None, c0=net.c0 if keep else None,
                       options=net.options)

    def set_cell_kind(self, kind: str, network: Network | None = None) -> bool:
        """Make the main cell a ``kind`` cell, as one undoable step; True if changed.

        Without ``network``: the comparison's cell of that kind (the experiments that
        apply to it are kept): the user's own ``kind`` cell as they left it when it
        stopped being the main one, with its caption and unit names, or seeded weights of
        the same size. With one (e.g. from the comparison view): that one.
        """
        st = self.state
        if kind not in CELL_TITLES:
            self.report_error("No such cell", f"There is no cell kind {kind!r}.")
            return False
        comp = self.comparison
        kept = comp.kept(kind)                            # the user's own, from earlier
        if network is None:
            if kind == st.network.kind:
                self._sync_cell_actions()
                return False
            # the cell the comparison tab shows: the user's kept one, or the same seeded
            # one (its RNN has zero biases, and the radius its slider set)
            if kept:
                network = comp.network(kind).with_(options=fit_options(st.options, kind))
            else:
                network = Network(comp.network(kind).params, h0=st.network.h0,
                                  options=fit_options(st.options, kind))
        elif kept:
            kept = network.params.equals(comp.network(kind).params)
        title = "simple RNN" if kind == "rnn" else CELL_TITLES[kind]     # mid-sentence
        story = self._left_as.get(kind) if kept else None
        yours = (f"Your {title} cell as you last had it, on this sequence: compare it with the "
                 "other cells' (Ctrl+1, 2, 3).")
        if story is not None:
            caption, unit_names, preset_id, text = story
            if text != st.sequence_text:             # it described another sequence
                p = self.presets.get(preset_id)
                own = p is not None and p.sequence.strip() == st.sequence_text.strip()
                caption = p.caption if own else yours
        elif kept:
            caption, unit_names, preset_id = yours, (), ""
        else:
            caption = (f"A {title} cell with seeded random weights, on the same sequence: compare "
                       "its traces and gradients with the other cells' (Ctrl+1, 2, 3). Ctrl+Z "
                       "brings the previous cell back.")
            # the units' names described the previous cell's hand-built weights, not these
            unit_names, preset_id = (), ""
        if kept and len(unit_names) != network.hidden_size:
            unit_names = ()
        leaving = (st.network.kind, (st.caption, st.unit_names, st.preset_id, st.sequence_text))
        snap = replace(st.snapshot(), network=network, caption=caption, preset_id=preset_id,
                       unit_names=unit_names)
        done = self._push(snap, f"Switch to a {title} cell")
        if done and leaving[0] != kind:
            self._left_as[leaving[0]] = leaving[1]
        self._sync_cell_actions()
        return done

    def use_as_main(self, network: Network) -> bool:
        """The comparison view's "Use as main cell": that network becomes the main cell."""
        return self.set_cell_kind(network.kind, network)

    def load_long_range(self, network: Network, x, labels, caption: str,
                        target=None) -> bool:
        """Open the long-range task in the main views, as one undoable step."""
        text, encoding = format_sequence(np.asarray(x))
        snap = ModelSnapshot(network, np.asarray(x, dtype=np.float64), tuple(labels), caption,
                             (), text, encoding, "", target)
        done = self._push(snap, "Open the long-range sequence")
        if done:
            self.bottom.setCurrentIndex(BOTTOM_GRADIENTS)
        return done

    def apply_network(self, network: Network, text: str) -> bool:
        """Replace the network (trained weights, say) as one undoable step."""
        return edit(self.undo_stack, self.state, network, text)

    def apply_options(self, options: Options, text: str = "Change the experiments",
                      merge_key=None) -> bool:
        """Set the network's options (experiments, loss step) as one undoable step."""
        st = self.state
        snap = replace(st.snapshot(), network=st.network.with_(options=options))
        return self._push(snap, text, merge_key)

    def apply_loss_step(self, s: int | None) -> bool:
        """Put the loss on step ``s`` (0-based; None or the last step: the default), undoably.

        Successive changes (a spin box held down) merge into one undo step.
        """
        st = self.state
        s = st.loss_step_option(s)
        if s == st.options.loss_step:
            return False
        where = "the last step" if s is None else f"step {s + 1}"
        return self.apply_options(replace(st.options, loss_step=s), f"Put the loss on {where}",
                                  merge_key="loss_step")

    def apply_target(self, y) -> bool:
        """Set the loss target y (H values), undoably; a bad target raises ModelInputError."""
        st = self.state
        y = st.checked_target(y)
        if np.array_equal(y, st.target):
            return False
        return self._push(replace(st.snapshot(), target=y), "Set the loss target")

    def apply_loss_class(self, k: int | None) -> bool:
        """Use the readout's cross-entropy on class ``k`` (None: the squared error), undoably;
        a class the readout does not have raises ModelInputError."""
        st = self.state
        k = st.checked_loss_class(k)
        if k == st.loss_class:
            return False
        net = st.network.with_(options=replace(st.options, loss_class=k))
        name = "" if k is None else class_name(k, st.class_names)
        what = ("the squared error" if k is None else
                f"the readout loss on class {k}" + (f" ({name})" if name else ""))
        return self._push(replace(st.snapshot(), network=net, loss_class=k), f"Use {what}")

    def _sync_cell_actions(self) -> None:
        a = self.cell_actions.get(self.state.network.kind)
        if a is not None and not a.isChecked():
            with QSignalBlocker(self.cell_group):
                a.setChecked(True)

    def _rebuild_replaces(self, states: bool) -> str:
        """What a rebuild takes away, for its question: the weights (and the initial
        ``states``), and a readout layer, with its class names and the loss on a class:
        `rebuilt_network` makes none, so the loss goes back to the squared error."""
        st = self.state
        text = ("The current weights (W_ih, W_hh, biases)"
                + (" and initial states" if states else "")
                + " will be replaced by seeded random ones")
        K = st.network.params.classes
        if K:
            names = st.network.params.readout_classes or ()
            listed = (f": {', '.join(names[:8])}{', …' if len(names) > 8 else ''}"
                      if names else "")
            text += (f", and the readout layer ({K} class{'es' if K != 1 else ''}{listed}) "
                     "removed")
            k = st.loss_class
            if k is not None:
                name = class_name(k, names)
                text += (f", so the readout loss on class {k}" + (f" ({name})" if name else "")
                         + " goes back to the squared error")
        return text + "; Undo brings them back."

    def _rebuild_caption(self, inputs: int, hidden: int) -> str:
        return (f"New random weights for {_values(inputs)} per step and {hidden} hidden "
                f"unit{'s' if hidden != 1 else ''} (PyTorch's initialisation, seed {REBUILD_SEED}): "
                "nothing is learned yet. Ctrl+Z brings the old weights back.")

    def _on_sequence(self, enc) -> None:
        """The field parsed a sequence: use it (same width) or offer to rebuild the weights."""
        si, st = self.sequence_input, self.state
        text, encoding = si.text(), si.encoding()
        example = si.last_example if si.last_trigger == "example" else None
        x = enc.x
        T, D = x.shape
        net = st.network
        snap = replace(st.snapshot(), inputs=x, labels=enc.labels, sequence_text=text,
                       encoding=encoding)
        if example is not None:
            snap = replace(snap, caption=example.explanation)
        else:
            snap = replace(snap, caption=self._caption_for_typed(text))
        vocab, _kind = self._model_vocabulary()
        # words or characters one-hot over another vocabulary: same width or not, each
        # column would mean another token to these weights
        foreign = (vocab is not None and enc.vocab is not None
                   and tuple(enc.vocab) != tuple(vocab))
        if D == net.input_size and not foreign:
            key = ("sequence", self._seq_serial)
            if si.explicit or si.last_trigger == "focus":
                self._seq_serial += 1
                key = None
            self._synced = (text, encoding)
            self._push(snap, f"Sequence “{_short_text(text)}”", key)
            return
        tokens = "characters" if _kind == "chars" else "words"
        if not si.explicit:
            why = (f"The weights were built for other {tokens}" if foreign else
                   f"The weights expect {_values(net.input_size)} per step; this sequence has {D}")
            si.show_note(f"{why}. Press Enter to rebuild the weights for {_inputs(D)}.")
            return
        if foreign:
            question = (f"The weights were built for the {tokens} of the preset "
                        f"({', '.join(vocab[:8])}{', …' if len(vocab) > 8 else ''}); this "
                        f"sequence uses others. Rebuild the weights for {_inputs(D)}?\n\n")
        else:
            question = (f"The weights expect {_values(net.input_size)} per step; this sequence "
                        f"has {D}. Rebuild the weights for {_inputs(D)}?\n\n")
        question += self._rebuild_replaces(states=False)
        if not self.confirm("Rebuild the weights?", question):
            self.sync_sequence()
            return
        H = net.hidden_size
        snap = replace(snap, network=self.rebuilt_network(D, H), preset_id="", unit_names=(),
                       caption=snap.caption if example is not None else self._rebuild_caption(D, H))
        self._seq_serial += 1
        self._synced = (text, encoding)
        if self._push(snap, f"Rebuild the weights for {_inputs(D)}"):
            self.notify(f"Rebuilt the weights for {_inputs(D)} (seed {REBUILD_SEED}); "
                                         "Ctrl+Z brings the old ones back.", 8000)

    def _caption_for_typed(self, text: str, reset: Preset | None = None) -> str:
        """The caption once the user types ``text``: a preset's or an example's caption
        describes its own sequence (its steps, its tokens), so it gives way to a neutral
        one, and comes back when that sequence is typed again.

        With ``reset`` (Ctrl+R puts that preset's weights back under ``text``), only an
        example's caption about ``text`` itself stays: any other described other weights
        (a rebuild's, a file's) or another sequence.
        """
        st = self.state
        p = reset or self.presets.get(st.preset_id)
        if p is not None and text.strip() == p.sequence.strip():
            return p.caption
        about = {ex.explanation: ex.text for ex in EXAMPLES}
        if p is not None:
            about[p.caption] = p.sequence
        if st.caption in about and about[st.caption].strip() == text.strip():
            return st.caption
        if st.caption not in about and reset is None:
            return st.caption
        whose = f" on the “{p.title}” weights" if p is not None else ""
        return f"Your own sequence{whose}: watch what the cell makes of it."

    def _model_vocabulary(self) -> tuple[tuple[str, ...] | None, str]:
        """The one-hot vocabulary the current inputs are written in, with its grammar:
        that of the preset loaded last (a words or chars one) while the inputs are as
        wide as it and the sequence reads in it (also after Ctrl+2 on the same inputs);
        (None, "") otherwise."""
        st = self.state
        p = self.presets.get(st.preset_id or self._last_preset)
        if p is None or p.encoding not in ("chars", "words"):
            return None, ""
        key = (p.id, st.network.input_size, st.inputs.shape[1], st.sequence_text)
        if self._vocab_for[0] != key:
            found: tuple = (None, "")
            vocab = encode(p.sequence, p.encoding).vocab
            if vocab is not None and len(vocab) == st.network.input_size == st.inputs.shape[1]:
                try:
                    x = encode(st.sequence_text, p.encoding, vocab=vocab).x
                    if np.array_equal(x, st.inputs):
                        found = (vocab, p.encoding)
                except SequenceError:
                    pass
            self._vocab_for = (key, found)
        return self._vocab_for[1]

    def set_hidden_units(self, hidden: int, ask: bool = True) -> bool:
        """Rebuild the weights for ``hidden`` units after a confirmation; True if done."""
        st = self.state
        net = st.network
        hidden = int(hidden)
        if hidden == net.hidden_size:
            return False
        if ask and not self.confirm(
                "Change the number of hidden units?",
                f"The network has {net.hidden_size} hidden unit{'s' if net.hidden_size != 1 else ''}. "
                f"Rebuild it with {hidden}?\n\n{self._rebuild_replaces(states=True)}"):
            self._sync_hidden()
            return False
        D = net.input_size
        snap = replace(st.snapshot(), network=self.rebuilt_network(D, hidden), unit_names=(),
                       preset_id="", caption=self._rebuild_caption(D, hidden))
        return self._push(snap, f"Rebuild the weights for {hidden} hidden units")

    def _on_hidden_spin(self, hidden: int) -> None:
        # after the click or key that changed it: no dialog inside the spin box's own event
        self._pending_hidden = hidden
        QTimer.singleShot(0, self._apply_hidden)

    def _apply_hidden(self) -> None:
        hidden, self._pending_hidden = self._pending_hidden, None
        if hidden is not None:
            self.set_hidden_units(hidden)
        self._sync_hidden()

    def _preset_snapshot(self, p: Preset) -> ModelSnapshot:
        enc = encode(p.sequence, p.encoding)
        make_labels = DEMO_LABEL_PRESETS.get(p.id)
        labels = make_labels(enc.x) if make_labels else enc.labels
        return ModelSnapshot(p.network, enc.x, tuple(labels), p.caption, p.unit_names,
                             p.sequence, p.encoding, p.id)

    def load_preset(self, preset_id: str) -> bool:
        """Load a preset (network, sequence, caption, unit names) as one undoable step."""
        p = self.presets.get(preset_id)
        if p is None:
            self.report_error("No such preset", f"There is no preset called {preset_id!r}.")
            return False
        try:
            snap = self._preset_snapshot(p)
        except SequenceError as e:
            self.report_error("Preset not loaded", f"The sequence of preset {p.title!r} "
                                                   f"cannot be read: {e}")
            return False
        self._seq_serial += 1
        return self._push(snap, f"Load preset “{p.title}”")

    def reset_to_preset(self) -> bool:
        """Put back the weights of the last loaded preset (and its sequence if the width differs)."""
        st = self.state
        p = self.presets.get(st.preset_id or self._last_preset)
        if p is None:
            self.notify("No preset was loaded: nothing to reset to "
                                         "(choose one in the Presets menu).", 6000)
            return False
        if p.network.input_size == st.inputs.shape[1]:
            # the preset's caption tells what its own sequence does: under another one
            # it would be false (a spike at step 3 in a four-step sequence of the user's)
            snap = replace(st.snapshot(), network=p.network, unit_names=p.unit_names,
                           caption=self._caption_for_typed(st.sequence_text, reset=p),
                           preset_id=p.id)
        else:
            snap = self._preset_snapshot(p)
        self._seq_serial += 1
        return self._push(snap, f"Reset to preset “{p.title}”")

    def _on_preset_combo(self, index: int) -> None:
        pid = self.preset_combo.itemData(index)
        if pid:
            self.load_preset(pid)
        self._sync_preset_combo()

    def weight_filters(self) -> str:
        """File dialog filters for weights files (PyTorch's only when it is installed)."""
        if torch_available():
            return ("Weights (*.npz *.pt *.pth);;NumPy weights (*.npz);;"
                    "PyTorch state_dict (*.pt *.pth)")
        return "NumPy weights (*.npz)"

    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open weights", "", self.weight_filters())
        if path:
            self.open_weights(path)

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save weights", "weights.npz",
                                              self.weight_filters())
        if path:
            self.save_weights(path)

    def open_weights(self, path: str | Path) -> bool:
        """Load a weights file as one undoable step; on any problem say why and change nothing.

        If the file's input width differs from the sequence's, the user is asked
        whether to replace the sequence by zeros of the right width (T steps kept).
        """
        st = self.state
        name = Path(path).name
        try:
            net = load_weights(path)
        except WeightsFileError as e:
            self.report_error("Could not open the weights",
                              f"{name} was not opened: {e.reason}\n\nThe current model is unchanged.")
            return False
        too_big = [f"{what} (at most {most})" for n, most, what in (
            (net.input_size, MAX_OPEN_INPUTS, f"{_values(net.input_size)} per step"),
            (net.hidden_size, MAX_OPEN_HIDDEN, f"{net.hidden_size} hidden units")) if n > most]
        if too_big:
            self.report_error("Could not open the weights",
                              f"{name} was not opened: its {net.kind.upper()} is too large to "
                              f"show here, with {' and '.join(too_big)}.\n\n"
                              "The current model is unchanged.")
            return False
        snap = replace(st.snapshot(), network=net, unit_names=(), preset_id="",
                       caption=f"Weights from {name}.")
        T, D = st.inputs.shape
        if net.input_size != D:
            if not self.confirm(
                    "The sequence does not fit these weights",
                    f"The weights in {name} expect {_values(net.input_size)} per step; the "
                    f"sequence has {D}.\n\nOpen them and replace the sequence by {T} steps of "
                    f"zeros ({_values(net.input_size)} each)? Type a new sequence afterwards; "
                    "Undo brings back the current weights and sequence."):
                return False
            x = np.zeros((T, net.input_size))
            text, encoding = format_sequence(x)
            snap = replace(snap, inputs=x, labels=tuple("0" if net.input_size == 1 else "·"
                                                        for _ in range(T)),
                           sequence_text=text, encoding=encoding)
        self._seq_serial += 1
        if not self._push(snap, f"Open weights {name}"):
            return False
        # A ReLU nn.RNN has the same tensors as a tanh one: say which one runs.
        note = (" Run with tanh: an nn.RNN(nonlinearity='relu') file looks the same."
                if net.kind == "rnn" else "")
        self.notify(
            f"Opened {name}: {net.kind.upper()}, {_values(net.input_size)} per step, "
            f"{net.hidden_size} hidden units.{note}", 8000)
        return True

    def save_weights(self, path: str | Path) -> bool:
        """Write the current weights (and initial states) to ``path`` (.npz; .pt with PyTorch)."""
        p = Path(path)
        if not p.suffix:
            p = p.with_suffix(".npz")
        try:
            if p.suffix.lower() in (".pt", ".pth"):
                save_pt(p, self.state.network)
            else:
                weights_io.save_weights(p, self.state.network)
        except WeightsFileError as e:
            self.report_error("Could not save the weights", f"{p.name} was not saved: {e.reason}")
            return False
        self.notify(f"Saved the weights to {p}.", 8000)
        return True

    def _on_activated(self, key: str) -> None:
        """A click on a diagram element: a gate (or h_{t-1} / C_{t-1}) opens its weights."""
        if key in self.state.network.params.gates or key in ("h_prev", "c_prev", "h0", "c0"):
            if self.presenting:
                return
            self.show_side_tab(TAB_WEIGHTS)
            self.weights.show_gate(key)

    def _on_tab(self, index: int) -> None:
        """The weights need more room than the equations: widen the side panel for them."""
        total = sum(self.main_split.sizes())
        if total <= 0 or self.side.isHidden():
            return
        want = self._side_width(total, index)
        if index == TAB_WEIGHTS and self.side.width() >= want:
            return
        self.main_split.setSizes([total - want, want])

    def _side_width(self, total: int, index: int) -> int:
        """The side panel's width for tab ``index`` out of ``total``: ~27 % (42 % for the
        weights), and never less than the tab's page or the row of tab names needs
        (large type on a laptop) while the panels on the left keep what they need."""
        page = self.side.widget(index)
        need = page.minimumSizeHint().width() + 4 if page is not None else 0
        need = max(need, self.side.tabBar().sizeHint().width() + 4)   # every tab's name in view
        room = total - self.left.minimumSizeHint().width()
        want = max(int(total * (0.42 if index == TAB_WEIGHTS else 0.27)), min(need, room))
        return max(300, want)

    def _keep_side_whole(self) -> None:
        """After a font change or a resize: widen the side panel if its page no longer fits."""
        sizes = self.main_split.sizes()
        if self.side.isHidden() or len(sizes) != 2 or sum(sizes) <= 0:
            return
        want = self._side_width(sum(sizes), self.side.currentIndex())
        if sizes[1] < want:
            self.main_split.setSizes([sum(sizes) - want, want])

    # ------------------------------------------------------------------ state -> window

    def sync_sequence(self) -> None:
        """Show the state's sequence text in the field (after presets, undo, a refused change)."""
        st = self.state
        self.sequence_input.set_text(st.sequence_text, self._field_encoding())
        self.sequence_input.field.moveCursor(QTextCursor.MoveOperation.Start)   # show the start
        self._synced = (st.sequence_text, st.encoding)

    def _field_encoding(self) -> str:
        """The state's encoding for the field: "auto" when auto reads the text the same way,
        so that typing a different kind of sequence next just works."""
        st = self.state
        if st.encoding != "auto" and detect_encoding(st.sequence_text) == st.encoding:
            return "auto"
        return st.encoding if st.encoding in ENCODINGS else "auto"

    def _sync_hidden(self) -> None:
        H = self.state.network.hidden_size
        if self.hidden_spin.value() != H:      # the same value still repaints the box, each edit
            with QSignalBlocker(self.hidden_spin):
                self.hidden_spin.setValue(H)

    def _sync_preset_combo(self) -> None:
        with QSignalBlocker(self.preset_combo):
            k = self.preset_combo.findData(self.state.preset_id)
            self.preset_combo.setCurrentIndex(max(k, 0))

    def _weights_edited(self) -> bool:
        """True if the state's preset is known and its weights are no longer the preset's
        (experiments and the loss are options, not weights: they do not count)."""
        net, p = self.state.network, self.presets.get(self.state.preset_id)
        return p is not None and not same_network(net.with_(options=p.network.options), p.network)

    def _on_trace(self) -> None:
        st = self.state
        text = st.caption
        self.caption.setText(text)
        self.caption.setVisible(bool(text))
        # The caption tells what the preset's own weights do: once they are edited or
        # trained it may no longer hold, so it fades (a colour, never a new layout).
        edited = bool(text) and self._weights_edited()
        if edited != self._caption_faded:
            self._caption_faded = edited
            self._style_caption()
        if st.preset_id:
            self._last_preset = st.preset_id
        self.sequence_input.set_vocabulary(*self._model_vocabulary())
        if (st.sequence_text, st.encoding) != self._synced:
            self.sync_sequence()
        if self._pending_hidden is None:
            self._sync_hidden()
        self._sync_preset_combo()
        self._sync_cell_actions()
        net = st.network
        self.model_shape.setText(f"{net.kind.upper()} · {_values(net.input_size)} per step · "
                                 f"{net.hidden_size} unit{'s' if net.hidden_size != 1 else ''} · "
                                 f"{st.steps} steps")
        self._show_model_info()

    def _on_texts(self) -> None:
        """Only the sequence's text, its encoding or the preset id changed (undo of writing
        the same numbers another way): the field, the preset box and the status follow."""
        st = self.state
        if st.preset_id:
            self._last_preset = st.preset_id
        if (st.sequence_text, st.encoding) != self._synced:
            self.sync_sequence()
        self._sync_preset_combo()
        self._show_model_info()

    def _on_gradients_shown(self, on: bool) -> None:
        if self.act_gradients.isChecked() != on:
            with QSignalBlocker(self.act_gradients):
                self.act_gradients.setChecked(on)

    def notify(self, text: str, ms: int = 8000) -> None:
        """Say something in the status line for a while, then show the model again."""
        self.model_info.setText(text)
        self._notify_timer.start(ms)

    def _show_model_info(self) -> None:
        if self._notify_timer.isActive():
            self._notify_timer.stop()
        st = self.state
        p = self.presets.get(st.preset_id)
        if p is not None:
            edited = " (weights edited; Ctrl+R resets)" if self._weights_edited() else ""
            self.model_info.setText(f"Preset “{p.title}”{edited}: {p.explanation}")
            self.model_info.setToolTip(p.explanation)
        elif self._preset_error:
            self.model_info.setText(f"Some presets could not be read: {self._preset_error}")
        else:
            self.model_info.setText("Your own model: Presets menu for examples, Ctrl+Z to undo.")

    def _apply_app_style(self) -> None:
        """The application's palette, font and style sheet for the theme and font scale.

        Connected before any view's handler: a new style sheet re-polishes every
        widget, which would undo the fonts a view had just set for the new scale.
        """
        st = self.state
        th, s = st.theme, st.font_scale
        app = QApplication.instance()
        if app is not None:
            app.setPalette(palette(th))
            app.setFont(scaled_font(th, s))
            app.setStyleSheet(stylesheet(th, s))

    def _style_caption(self) -> None:
        """The caption in the text colour, or faded (muted) once the weights are edited."""
        th = self.state.theme
        pal = self.caption.palette()
        pal.setColor(QPalette.ColorRole.WindowText,
                     QColor(th.muted if self._caption_faded else th.foreground))
        self.caption.setPalette(pal)
        self.caption.setToolTip(
            "What to watch in the preset, with its own weights: yours are edited now, so it "
            "may no longer hold (Ctrl+R puts the preset's weights back)" if self._caption_faded
            else "What to watch in this example")

    def _on_appearance(self) -> None:
        st = self.state
        th, s = st.theme, st.font_scale
        self.setPalette(palette(th))
        self.caption.setFont(scaled_font(th, s, 1.2, bold=True))
        self._style_caption()
        self.menuBar().setFont(scaled_font(th, s))
        self.sequence_input.apply_appearance(th, s)
        normal = scaled_font(th, s)
        for w in (self.preset_label, self.preset_combo, self.hidden_label, self.hidden_spin,
                  self.hidden_spin.lineEdit(), self.model_info, self.model_shape,
                  self.side.tabBar(), self.bottom.tabBar()):
            w.setFont(normal)          # (a spin box's line edit keeps its own font)
        self.statusBar().setFont(normal)
        if th.name in self.theme_actions:
            self.theme_actions[th.name].setChecked(True)
        QTimer.singleShot(0, self._keep_side_whole)     # once the new fonts are laid out
        if self._left_key() != self._split_key and not self._resplit.isActive():
            # the sizes now are those of the old type (its fonts are not laid out yet)
            self._remember_split()
            self._split_from = (self.left.sizes(), self._split_key[0],
                                self.diagram.transform().m11())
            self._resplit.start()

    # ------------------------------------------------------------------ layout and settings

    def _initial_sizes(self, width: int | None = None, height: int | None = None) -> None:
        """Split the space: side panel ~27 % of the width (42 % for the weights, more if
        its page needs it); diagram, strip, traces 5:1.1:3.1."""
        w = width or max(self.width(), 1280)
        h = height or max(self.height(), 800)
        right = self._side_width(w, self.side.currentIndex())
        self.main_split.setSizes([w - right, right])
        self.left.setSizes([int(h * 0.50), int(h * 0.11), int(h * 0.31)])
        self._forget_splits()
        self._bottom_pref = self._folded_at = None

    def _left_key(self) -> tuple:
        return (round(self.state.font_scale, 6), self.presenting)

    def _remember_split(self, *_args) -> None:
        """Keep the left column's split (the user's own, after a drag) for this type size."""
        sizes = self.left.sizes()
        if sum(sizes) > 0:
            self._splits[self._split_key] = sizes
            self._bottom_pref = sizes[2] or None

    def _fit_bottom(self, index: int) -> None:
        """The lower tabs ask for the room their current page needs, not their tallest
        page's (a tab widget's minimum is its largest page's: once the Gradients or the
        comparison tab had been open, the diagram stayed ~50 px shorter at 1280x800 on
        every tab); a page that needed more gives it back when another is shown."""
        for k in range(self.bottom.count()):
            page = self.bottom.widget(k)
            policy = page.sizePolicy()
            policy.setVerticalPolicy(QSizePolicy.Policy.Preferred if k == index
                                     else QSizePolicy.Policy.Ignored)
            page.setSizePolicy(policy)
        sizes = self.left.sizes()
        if self._bottom_pref is None and sizes[2] > 0:
            self._bottom_pref = sizes[2]        # the split before a page asks for more
        QTimer.singleShot(0, self._give_back_room)

    def _give_back_room(self) -> None:
        sizes = self.left.sizes()
        if self._bottom_pref is None or sizes[2] <= 0:
            return
        want = max(self.bottom.minimumSizeHint().height(), self._bottom_pref)
        if sizes[2] > want:
            self.left.setSizes([sizes[0] + sizes[2] - want, sizes[1], want])

    def _forget_splits(self) -> None:
        """A new layout (another window size, the saved one): the kept splits are history."""
        self._resplit.stop()
        self._splits.clear()
        self._split_key = self._left_key()

    def _resplit_left(self) -> None:
        """Split the left column again for a new type size (Ctrl+Plus, Ctrl+Minus, F11).

        The caption, the bars and the strip above and below grow with the type, and the
        space they took came out of the diagram, which shrank (306 to 200 px at 1280x800
        from 1.0 to 1.5), so larger type made its labels smaller. A type size seen before
        gets back its split (the user's own, if they dragged it). For a new one:

        - larger type: the diagram keeps its share, and at least the height at which
          its text is no smaller on screen than before (its zoom may fall by as much as
          its text grows, `CellDiagramView.height_keeping_text`; no more than its width allows), the strip
          its own height, and the lower tabs the rest; if that is less than they need,
          they fold away (the handle at the bottom, F5 or smaller type bring them back);
        - smaller type: the diagram keeps its share, and folded lower tabs come back.
        """
        # the new type's layout first (the caption and the bars may take a pass or two)
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        key, start = self._left_key(), self._split_from
        sizes = self.left.sizes()
        total = sum(sizes)
        if total <= 0:
            return
        self._split_key = key
        if key in self._splits:
            self.left.setSizes(self._splits[key])
            return
        if start is None or sum(start[0]) <= 0:
            return
        (d0, _, b0), s0, zoom0 = start
        s = key[0]
        strip = self.strip.minimumHeight()              # (its own, fixed height)
        need = self.bottom.minimumSizeHint().height()
        room = total - strip                            # for the diagram and the lower tabs
        keep = self.diagram.minimumHeight()             # what the diagram must have
        if s > s0:
            keep = max(keep, self.diagram.height_keeping_text(s0, s, zoom0))
        diagram = max(keep, round(d0 * total / sum(start[0])))     # (and its share)
        if room - diagram >= need:
            self.left.setSizes([diagram, strip, room - diagram])
        elif room - keep >= need or s <= s0:
            self.left.setSizes([room - need, strip, need])
        else:
            self.left.setSizes([room, strip, 0])
            self._folded_at = keep          # unfold when a larger window leaves room
            if b0 > 0:
                self.notify("Larger type leaves no room for the lower tabs: they are folded "
                            "away so that the diagram's labels do not get smaller (F5, dragging "
                            "the bar at the bottom up, or a taller window brings them back).",
                            10000)
        self._remember_split()

    def _unfold_bottom(self, *_args) -> None:
        """A lower tab asked for (F5, the long-range task) while they are folded away:
        they come back at the size they need, taken from the diagram."""
        sizes = self.left.sizes()
        if sizes[2] > 0 or sum(sizes) <= 0 or self._resplit.isActive():
            return                      # (a new type size is split next: see there)
        page = self.bottom.currentWidget()
        if isinstance(page, LazyTab):
            page.widget()               # (built now: what it needs counts)
        need = self.bottom.minimumSizeHint().height()
        self.left.setSizes([max(sizes[0] - need, 0), sizes[1], need])
        self._remember_split()

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
        try:
            self.bottom.setCurrentIndex(int(s.value("view/bottom_tab", BOTTOM_TRACES)))
        except (TypeError, ValueError):
            pass
        self.act_equations.setChecked(s.value("view/equations", True, bool))
        for key, restore in (("window/geometry", self.restoreGeometry),
                             ("window/state", self.restoreState),
                             ("window/split_main", self.main_split.restoreState),
                             ("window/split_left", self.left.restoreState)):
            v = s.value(key)
            if isinstance(v, QByteArray):
                restore(v)
        self._forget_splits()           # the saved split is the user's, for the saved type

    def save_settings(self) -> None:
        s = self.settings
        if s is None:
            return
        if self.presenting:
            self.set_presentation(False)
        if self._resplit.isActive():    # (the split for the type size now, not the last one)
            self._resplit.stop()
            self._resplit_left()
        s.setValue("view/theme", self.state.theme.name)
        s.setValue("view/font_scale", self.state.font_scale)
        s.setValue("view/heatmap", self.act_heatmap.isChecked())
        s.setValue("view/bottom_tab", self.bottom.currentIndex())
        s.setValue("view/equations", self.act_equations.isChecked())
        s.setValue("playback/animation_ms", self.state.animation_ms)
        s.setValue("playback/loop", self.playback.loop)
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/split_main", self.main_split.saveState())
        s.setValue("window/split_left", self.left.saveState())
        s.sync()

    def resizeEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(ev)
        QTimer.singleShot(0, self._keep_side_whole)     # once the splitter has its new size
        if self._folded_at is not None:
            QTimer.singleShot(0, self._unfold_if_room)

    def _unfold_if_room(self) -> None:
        """Lower tabs that larger type folded away come back once the window leaves the
        diagram the height it kept for its labels as well as the tabs' own."""
        sizes = self.left.sizes()
        if self._folded_at is None:
            return
        if sizes[2] > 0:                    # the user brought them back meanwhile
            self._folded_at = None
            return
        need = self.bottom.minimumSizeHint().height()
        if sizes[0] - need >= self._folded_at:
            self._folded_at = None
            self.left.setSizes([sizes[0] - need, sizes[1], need])
            self._remember_split()

    def closeEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        self.playback.pause()
        self.save_settings()
        super().closeEvent(ev)

