"""Playback: play/pause, stepping, looping, animation speed and the unit selector.

`Playback` owns the play timer and one `QAction` per command, each with a
keyboard shortcut that works whatever widget has focus (presentation clickers
send Space, Left/Right, Page Up/Down, Home/End). `PlaybackBar` is the row of
controls: buttons for those actions, a scrubbable timeline slider, the step
read-out, the speed and unit selectors.

While playing, the cursor advances one step every ``animation_ms + hold_ms``
milliseconds, so each step's animation finishes and stays on screen a moment
before the next one starts. With animation off, steps advance every
``OFF_INTERVAL_MS``.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QSizePolicy, QSlider,
                               QToolButton, QWidget)

from ..state import AppState
from .kit import OpaqueBackground
from .theme import scaled_font

#: Animation speeds offered to the user: name -> duration of one step's animation (ms).
SPEEDS = {"off": 0, "slow": 1200, "normal": 600, "fast": 250}
SPEED_NAMES = {"off": "Animation off", "slow": "Slow", "normal": "Normal", "fast": "Fast"}
#: The speeds Slower and Faster ([ and ]) move between. Animation off is not one of them:
#: it is not the slowest speed (steps then come at once) nor the fastest (playing waits
#: ``OFF_INTERVAL_MS`` a step), so it has its own key, Alt+0.
ANIMATED = ("slow", "normal", "fast")
#: Step interval while playing with animation off.
OFF_INTERVAL_MS = 700
#: Pause after each step's animation while playing.
HOLD_MS = 350
#: Glyphs of the play button.
PLAY_GLYPH, PAUSE_GLYPH = "▶", "❚❚"
#: Longest input token shown in the step read-out (longer ones end in "…").
MAX_LABEL_CHARS = 24
#: How many steps Page Up / Page Down jump.
PAGE_FRACTION = 10


def speed_name(ms: int) -> str:
    """The preset whose duration is closest to ``ms`` ("off" only for no animation at all)."""
    if ms <= 0:
        return "off"
    return min(ANIMATED, key=lambda k: abs(SPEEDS[k] - ms))


def _action(parent: QObject, text: str, shortcuts, tip: str, slot=None,
            checkable: bool = False) -> QAction:
    """A QAction with application-wide shortcuts and a tool tip that names them."""
    a = QAction(text, parent)
    seqs = [QKeySequence(s) if not isinstance(s, QKeySequence) else s
            for s in (shortcuts if isinstance(shortcuts, (list, tuple)) else [shortcuts])]
    a.setShortcuts(seqs)
    a.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
    keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in seqs)
    a.setToolTip(f"{tip} ({keys})" if keys else tip)
    a.setStatusTip(tip)
    a.setCheckable(checkable)
    if slot is not None:
        (a.toggled if checkable else a.triggered).connect(slot)
    return a


class Playback(QObject):
    """The play timer and the playback, speed and unit actions.

    Parameters
    ----------
    state : AppState
    host : QWidget
        The window the actions are added to (so their shortcuts are live).
    """

    playing_changed = Signal(bool)
    finished = Signal()          # playback reached the last step and stopped

    def __init__(self, state: AppState, host: QWidget) -> None:
        super().__init__(host)
        self.state = state
        self.hold_ms = HOLD_MS
        self.off_interval_ms = OFF_INTERVAL_MS
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)

        A = _action
        self.act_play = A(self, "Play", Qt.Key.Key_Space, "Play or pause", self.toggle)
        self.act_back = A(self, "Step back", [Qt.Key.Key_Left, Qt.Key.Key_PageUp],
                          "One step back", lambda: self._user_step(-1))
        self.act_forward = A(self, "Step forward", [Qt.Key.Key_Right, Qt.Key.Key_PageDown],
                             "One step forward", lambda: self._user_step(1))
        self.act_first = A(self, "First step", Qt.Key.Key_Home, "Go to the first step",
                           lambda: self._user_jump(0))
        self.act_last = A(self, "Last step", Qt.Key.Key_End, "Go to the last step",
                          lambda: self._user_jump(self.state.steps - 1))
        self.act_back_many = A(self, "Back 10%", "Ctrl+Left",
                               "Jump back a tenth of the sequence", lambda: self._user_step(-self._page()))
        self.act_forward_many = A(self, "Forward 10%", "Ctrl+Right",
                                  "Jump forward a tenth of the sequence",
                                  lambda: self._user_step(self._page()))
        self.act_loop = A(self, "Loop", "L", "Start again from the first step after the last",
                          checkable=True)

        self.speed_group = QActionGroup(self)
        self.speed_actions: dict[str, QAction] = {}
        for n, name in enumerate(("off", "slow", "normal", "fast")):
            a = A(self, SPEED_NAMES[name], f"Alt+{n}",
                  f"Animation speed: {SPEED_NAMES[name].lower()}", checkable=True)
            a.setData(name)
            self.speed_group.addAction(a)
            self.speed_actions[name] = a
        self.speed_group.triggered.connect(lambda a: state.set_animation_ms(SPEEDS[a.data()]))
        self.act_slower = A(self, "Slower", "[",
                            "Slower animation, down to slow; Alt+0 switches it off",
                            lambda: self._shift_speed(-1))
        self.act_faster = A(self, "Faster", "]",
                            "Faster animation, up to fast; with animation off, Alt+1 … Alt+3 "
                            "switch it on", lambda: self._shift_speed(1))

        self.act_next_unit = A(self, "Next unit", "U", "Focus the next hidden unit",
                               lambda: self._shift_unit(1))
        self.act_prev_unit = A(self, "Previous unit", "Shift+U", "Focus the previous hidden unit",
                               lambda: self._shift_unit(-1))
        self.unit_actions = [A(self, "All units", "0", "Show all hidden units",
                               lambda: state.set_unit(-1))]
        for k in range(1, 10):
            self.unit_actions.append(A(self, f"Unit {k}", str(k), f"Focus hidden unit {k}",
                                       lambda _=False, u=k - 1: state.set_unit(u)))

        for a in self.actions():
            host.addAction(a)
        self._units_for = -1                # the hidden size the unit actions are set for
        state.animation_changed.connect(self._on_animation)
        state.trace_changed.connect(self._on_trace)
        self._on_animation()
        self._on_trace()

    # ------------------------------------------------------------------ API

    def actions(self) -> list[QAction]:
        """Every action, in menu order."""
        return [self.act_play, self.act_back, self.act_forward, self.act_first, self.act_last,
                self.act_back_many, self.act_forward_many, self.act_loop,
                *self.speed_actions.values(), self.act_slower, self.act_faster,
                self.act_next_unit, self.act_prev_unit, *self.unit_actions]

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    @property
    def loop(self) -> bool:
        return self.act_loop.isChecked()

    def set_loop(self, on: bool) -> None:
        self.act_loop.setChecked(bool(on))

    def interval_ms(self) -> int:
        """Time between steps while playing."""
        ms = self.state.animation_ms
        return ms + self.hold_ms if ms > 0 else self.off_interval_ms

    def play(self) -> None:
        """Start playing; from the first step if the cursor is at the last."""
        if self.playing:
            return
        if self.state.timestep >= self.state.steps - 1:
            self.state.set_timestep(0)
        self.timer.start(self.interval_ms())
        self._sync_play()

    def pause(self) -> None:
        if not self.playing:
            return
        self.timer.stop()
        self._sync_play()

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    # ------------------------------------------------------------------ internals

    def _tick(self) -> None:
        st = self.state
        if st.timestep < st.steps - 1:
            st.step(1)
        elif self.loop:
            st.set_timestep(0)
        if st.timestep >= st.steps - 1 and not self.loop:
            self.pause()
            self.finished.emit()

    def _user_step(self, delta: int) -> None:
        self.pause()
        self.state.step(delta)

    def _user_jump(self, t: int) -> None:
        self.pause()
        self.state.set_timestep(t)

    def _page(self) -> int:
        return max(1, self.state.steps // PAGE_FRACTION)

    def _shift_speed(self, d: int) -> None:
        """One animated speed slower (``d`` < 0) or faster; nothing with animation off
        (see `ANIMATED`: going through "off" made ] slower and [ faster)."""
        name = speed_name(self.state.animation_ms)
        if name not in ANIMATED:
            return
        k = min(max(ANIMATED.index(name) + d, 0), len(ANIMATED) - 1)
        self.state.set_animation_ms(SPEEDS[ANIMATED[k]])

    def _shift_unit(self, d: int) -> None:
        H = self.state.trace.hidden_size
        u = (self.state.unit + 1 + d) % (H + 1) - 1        # cycles all, 1 .. H, all
        self.state.set_unit(u)

    def _on_animation(self) -> None:
        name = speed_name(self.state.animation_ms)
        self.speed_actions[name].setChecked(True)
        # greyed where the key does nothing: at either end, and with animation off
        self.act_slower.setEnabled(name in ANIMATED[1:])
        self.act_faster.setEnabled(name in ANIMATED[:-1])
        if self.playing:
            self.timer.setInterval(self.interval_ms())

    def _on_trace(self) -> None:
        H = self.state.trace.hidden_size
        if H == self._units_for:
            return
        self._units_for = H
        for k, a in enumerate(self.unit_actions[1:]):
            a.setEnabled(k < H)
            a.setVisible(k < H)

    def _sync_play(self) -> None:
        playing = self.playing
        self.act_play.setText("Pause" if playing else "Play")
        self.playing_changed.emit(playing)


class PlaybackBar(QWidget):
    """The row of playback controls, driven by a `Playback` and the `AppState`."""

    def __init__(self, state: AppState, playback: Playback, extra_actions=(),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.playback = playback
        pb = playback

        def button(action: QAction, glyph: str) -> QToolButton:
            b = QToolButton(self)
            b.setDefaultAction(action)
            b.setText(glyph)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            if action is not pb.act_play:
                action.changed.connect(lambda b=b, g=glyph: b.setText(g))
            return b

        self.btn_first = button(pb.act_first, "⇤")
        self.btn_back = button(pb.act_back, "←")
        self.btn_play = button(pb.act_play, PLAY_GLYPH)
        self.btn_forward = button(pb.act_forward, "→")
        self.btn_last = button(pb.act_last, "⇥")
        self.btn_loop = button(pb.act_loop, "⟲")

        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        OpaqueBackground(self.slider)          # moves on every step: repaint it alone
        self.slider.setToolTip("Timeline: drag to scrub through the steps")
        # short enough that the bar fits a 1280-px window at 1.2x type (else its
        # buttons and boxes were squeezed and overlapped); it stretches when there is room
        self.slider.setMinimumWidth(96)
        self.slider.setTracking(True)
        self.slider.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.slider.valueChanged.connect(state.set_timestep)

        self.step_label = QLabel(self)
        self.step_label.setToolTip("The current step and its input")
        # It changes on every step. Filling its own background (the window's colour)
        # makes it opaque, so Qt does not repaint the bar and the window behind it
        # first (about 0.5 ms of each step; the slider does the same).
        self.step_label.setAutoFillBackground(True)

        self.speed = QComboBox(self)
        for name in ("off", "slow", "normal", "fast"):
            self.speed.addItem(SPEED_NAMES[name], name)
        self.speed.setToolTip("Animation speed of one step: Alt+0 off, Alt+1 … Alt+3 slow to "
                              "fast; [ and ] slower and faster while it animates")
        self.speed.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.speed.activated.connect(
            lambda i: state.set_animation_ms(SPEEDS[self.speed.itemData(i)]))

        self.unit = QComboBox(self)
        self.unit.setToolTip("Focus one hidden unit or show all (U, Shift+U, 0 … 9)")
        self.unit.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.unit.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.unit.activated.connect(lambda i: state.set_unit(self.unit.itemData(i)))

        self.extra_buttons = [button(a, a.iconText()) for a in extra_actions]
        self._unit_entries: list | None = None   # what the unit list holds
        self._shown: tuple | None = None          # what `_on_trace` last showed
        self._fitted_for: tuple | None = None    # what the step label's width was fitted to

        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.setSpacing(4)
        for b in (self.btn_first, self.btn_back, self.btn_play, self.btn_forward, self.btn_last):
            lay.addWidget(b)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.step_label)
        lay.addSpacing(8)
        lay.addWidget(self.btn_loop)
        lay.addWidget(self.speed)
        lay.addWidget(self.unit)
        for b in self.extra_buttons:
            lay.addWidget(b)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

        pb.playing_changed.connect(self._on_playing)
        state.trace_changed.connect(self._on_trace)
        state.timestep_changed.connect(self._on_timestep)
        state.unit_changed.connect(self._on_unit)
        state.animation_changed.connect(self._on_animation)
        state.appearance_changed.connect(self._on_appearance)
        self._on_trace()
        self._on_animation()
        self._on_appearance()

    def _on_playing(self, playing: bool) -> None:
        self.btn_play.setText(PAUSE_GLYPH if playing else PLAY_GLYPH)

    def _on_trace(self) -> None:
        st = self.state
        T = st.steps
        shown = (T, st.labels, st.unit_names, st.trace.hidden_size, st.unit, st.timestep)
        if shown == self._shown:            # a weight drag: nothing here changes
            return
        self._shown = shown
        with QSignalBlocker(self.slider):
            self.slider.setRange(0, T - 1)
            self.slider.setPageStep(max(1, T // PAGE_FRACTION))
            self.slider.setValue(st.timestep)
        # a weight drag changes the trace many times a second but not the units or the
        # labels: refill the unit list only when its entries change (each refill
        # re-measures the combo box and re-lays out the bar)
        entries = [("All units", -1)] + [(st.unit_label(u).capitalize(), u)
                                         for u in range(st.trace.hidden_size)]
        if entries != self._unit_entries:
            self._unit_entries = entries
            with QSignalBlocker(self.unit):
                self.unit.clear()
                for text, u in entries:
                    self.unit.addItem(text, u)
        self._on_unit(st.unit)
        self._fit_step_label()
        self._on_timestep(st.timestep)

    def _step_text(self, t: int) -> str:
        st = self.state
        label = st.labels[t] if t < len(st.labels) else ""
        if len(label) > MAX_LABEL_CHARS:
            label = label[:MAX_LABEL_CHARS - 1] + "…"
        width = len(str(st.steps))
        text = f"Step {t + 1:>{width}} / {st.steps}"
        return f"{text} · “{label}”" if label else text

    def _fit_step_label(self) -> None:
        """A fixed size that fits every step's text: stepping then never re-lays out the bar.

        Measured again only when the labels, the number of steps or the font change
        (not on every trace change of a weight drag).
        """
        st = self.state
        font = self.step_label.font()
        key = (st.labels, st.steps, font.key())
        if key == self._fitted_for:
            return
        self._fitted_for = key
        fm = self.step_label.fontMetrics()
        first = {}                              # one step per distinct label
        for t, lab in enumerate(st.labels):
            first.setdefault(lab, t)
        texts = [self._step_text(t) for t in first.values()] or [self._step_text(0)]
        # A fixed size in both directions: a new text then does not ask the bar's and
        # the window's layouts to recompute (a width alone still did, every step).
        self.step_label.setFixedSize(max(fm.horizontalAdvance(x) for x in texts) + 8,
                                     fm.height() + 6)

    def _on_timestep(self, t: int) -> None:
        with QSignalBlocker(self.slider):
            self.slider.setValue(t)
        self.step_label.setText(self._step_text(t))

    def _on_unit(self, u: int) -> None:
        with QSignalBlocker(self.unit):
            self.unit.setCurrentIndex(self.unit.findData(u))

    def _on_animation(self) -> None:
        with QSignalBlocker(self.speed):
            self.speed.setCurrentIndex(self.speed.findData(speed_name(self.state.animation_ms)))

    def _on_appearance(self) -> None:
        th, s = self.state.theme, self.state.font_scale
        font = scaled_font(th, s, 1.0)
        big = scaled_font(th, s, 1.25, bold=True)
        for b in (self.btn_first, self.btn_back, self.btn_play, self.btn_forward, self.btn_last,
                  self.btn_loop, *self.extra_buttons):
            b.setFont(big)
        for w in (self.speed, self.unit):
            w.setFont(font)
        self.step_label.setFont(scaled_font(th, s, 1.1, bold=True))
        self._fit_step_label()
