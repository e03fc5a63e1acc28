"""The sequence field: type the input sequence, see parse errors where they are.

`SequenceInput` is a one-line editor (large, monospace), an encoding selector
(auto, numbers, vectors, chars, words), an Examples menu and a status line.

* While the user types, the text is parsed ~150 ms after the last key press
  (`DEBOUNCE_MS`); Enter parses at once. A text that parses is emitted as an
  `lstm_viz.model.encoding.Encoded` through `sequence_accepted`.
* A text that does not parse emits nothing, so whatever the app shows stays as
  it was. The offending characters get a red wavy underline (an
  ``ExtraSelection`` of the editor, so it moves with the text and can be read
  back) and the status line says what is wrong, e.g. ``step 3: "0.5x" is not a
  number``.
* Accepted texts are remembered: Up and Down in the field walk through them.

The widget knows nothing of `AppState`, so it can be tested alone. The main
window connects ``sequence_accepted`` to the state and pushes the state's
sequence back with `SequenceInput.set_text` (under signal blockers: no echo).
The emitted sequence may have a different width than the current weights; the
receiver decides what to do about that.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import (QAction, QColor, QFocusEvent, QFont, QFontDatabase, QKeyEvent, QPainter,
                           QPainterPath, QPen, QTextCharFormat, QTextCursor)
from PySide6.QtWidgets import (QComboBox, QFrame, QHBoxLayout, QLabel, QMenu, QPlainTextEdit,
                               QSizePolicy, QTextEdit, QToolButton, QVBoxLayout, QWidget)

from ..model.encoding import ENCODINGS, Encoded, SequenceError, detect_encoding, encode, visible
from ..model.examples import EXAMPLES, Example
from .theme import LIGHT, OKABE_ITO, Theme, scaled_font

#: Quiet time after the last key press before the text is parsed and emitted.
DEBOUNCE_MS = 150
#: How many accepted texts Up/Down can walk back through.
HISTORY_MAX = 50
#: Size of the field's monospace font relative to the normal text size.
FIELD_FONT_FACTOR = 1.4
#: Colour of the error underline and message (vermillion: visible to every colour vision).
ERROR_COLOR = OKABE_ITO["vermillion"]

ENCODING_TIPS = {
    "auto": "Guess the encoding from the text: ';' means vectors, all numbers means numbers, "
            "several words means words, one word means characters.",
    "numbers": "One number per step, separated by spaces or commas: 1 0 0.5",
    "vectors": "Several numbers per step; steps separated by ';': 1,0; 0,1; 0.5,0.5",
    "chars": "One step per character (spaces too), each a one-hot vector over the letters used.",
    "words": "One step per word, each a one-hot vector over the words used.",
}

FIELD_TIP = (
    "The input sequence, one token per time step.\n"
    "Numbers: 1 0 0.5   Vectors: 1,0; 0,1   Characters or words: any text.\n"
    "Enter: use it now (it is also used a moment after you stop typing).\n"
    "Up / Down: earlier sequences."
)

#: Status line before anything was parsed.
#: Most vocabulary entries an error lists (the rest is "…").
MAX_VOCAB_SHOWN = 12
HINT = "Enter: use the sequence now · ↑ / ↓: earlier sequences"


def _mostly_numbers(text: str) -> bool:
    """True if more than half of the whitespace-separated tokens are numbers.

    ``auto`` reads ``1 0 0.5x 2`` as four words; to someone typing numbers that
    is a typo, so in ``auto`` mode such a text is reported as a numbers error.
    (Choosing "words" explicitly still reads it as words.)
    """
    tokens = text.split()
    numeric = 0
    for token in tokens:
        try:
            encode(token, encoding="numbers")
        except SequenceError:
            continue
        numeric += 1
    return numeric * 2 > len(tokens)


class SequenceField(QPlainTextEdit):
    """A one-line plain-text editor: Enter submits, Up/Down ask for history, no line breaks.

    A `QPlainTextEdit` rather than a `QLineEdit` so that the error span can be
    marked with an ``ExtraSelection`` (a wavy underline that follows the text
    and that tests can read back).
    """

    submitted = Signal()
    history_step = Signal(int)      # -1: older (Up), +1: newer (Down)
    focus_left = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTabChangesFocus(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._fit_height()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.submitted.emit()
        elif key == Qt.Key.Key_Up:
            self.history_step.emit(-1)
        elif key == Qt.Key.Key_Down:
            self.history_step.emit(+1)
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def insertFromMimeData(self, source: QMimeData) -> None:
        """Paste as one line: line breaks become spaces."""
        text = source.text().replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
        self.textCursor().insertText(text)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.focus_left.emit()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == event.Type.FontChange:
            self._fit_height()

    def _fit_height(self) -> None:
        """Exactly one line of text tall."""
        margins = self.contentsMargins()
        doc_margin = self.document().documentMargin()
        line = self.fontMetrics().lineSpacing()
        self.setFixedHeight(int(line + 2 * doc_margin + margins.top() + margins.bottom() + 2))

    def paintEvent(self, event) -> None:
        """The text, then a bold wavy line under the error span (Qt's own is 1 px thin)."""
        super().paintEvent(event)
        sels = self.extraSelections()
        if not sels:
            return
        fmt, c = sels[0].format, sels[0].cursor
        a, b = QTextCursor(c), QTextCursor(c)
        a.setPosition(c.selectionStart())
        b.setPosition(c.selectionEnd())
        x0, x1 = self.cursorRect(a).left(), self.cursorRect(b).left()
        fm = self.fontMetrics()
        y = self.cursorRect(a).top() + fm.ascent() + fm.underlinePos() + 1
        amp = max(1.5, fm.height() / 14)      # half the wave's height
        half = 2.0 * amp                      # half a wavelength
        path = QPainterPath(QPointF(x0, y))
        x, up = float(x0), True
        while x < x1:
            nx = min(x + half, float(x1))
            path.quadTo(QPointF((x + nx) / 2, y - amp if up else y + amp), QPointF(nx, y))
            x, up = nx, not up
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(fmt.underlineColor(), max(1.5, fm.height() / 12))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.drawPath(path)
        painter.end()

    def set_error_span(self, start: int, end: int, color: QColor) -> None:
        """Underline ``text[start:end]`` with a wavy line in ``color`` (nothing if empty)."""
        n = len(self.toPlainText())
        start, end = max(0, min(start, n)), max(0, min(end, n))
        if end <= start:
            self.setExtraSelections([])
            return
        sel = QTextEdit.ExtraSelection()
        cursor = QTextCursor(self.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        sel.cursor = cursor
        fmt = QTextCharFormat()
        fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        fmt.setUnderlineColor(color)
        tint = QColor(color)
        tint.setAlpha(40)
        fmt.setBackground(tint)
        sel.format = fmt
        self.setExtraSelections([sel])

    def error_span(self) -> tuple[int, int] | None:
        """The underlined ``(start, end)``, read back from the editor, or None."""
        sels = self.extraSelections()
        if not sels:
            return None
        c = sels[0].cursor
        return c.selectionStart(), c.selectionEnd()

    def replace_text(self, text: str) -> None:
        """Replace the whole text as one undoable edit and put the cursor at the end."""
        cursor = self.textCursor()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(text)
        self.setTextCursor(cursor)


class SequenceInput(QWidget):
    """Sequence field, encoding selector, Examples menu and status line.

    Signals
    -------
    sequence_accepted(Encoded)
        The text parsed; emitted after typing pauses, on Enter, on an encoding
        change and when an example is chosen. Not emitted by `set_text`.
    example_chosen(Example)
        An example was picked from the menu (after its ``sequence_accepted``).
    """

    sequence_accepted = Signal(object)
    example_chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._history: list[tuple[str, str]] = []
        self._hist_pos: int | None = None          # index while walking the history
        self._draft: tuple[str, str] = ("", "auto")  # what was typed before walking
        self._browsing = False
        self._last_emitted: tuple[str, str] | None = None
        self._last_valid: tuple[str, str] | None = None
        self._error: SequenceError | None = None
        self._encoded: Encoded | None = None
        self._theme: Theme = LIGHT
        self._note = ""
        #: What caused the last ``sequence_accepted``: "typing" (a pause), "focus"
        #: (leaving the field), "enter", "encoding" or "example"; see `explicit`.
        self.last_trigger = ""
        #: The example of the last ``sequence_accepted`` when it came from the menu.
        self.last_example: Example | None = None
        #: The model's one-hot vocabulary and its grammar ("chars" or "words"), if it has one.
        self._vocab: tuple[str, ...] | None = None
        self._vocab_kind = ""

        self.field = SequenceField(self)
        self.field.setToolTip(FIELD_TIP)
        self.field.setAccessibleName("Input sequence")
        self.field.setPlaceholderText("e.g. 1 0 0.5 · 1,0; 0,1 · hello")

        self.encoding_combo = QComboBox(self)
        for k, name in enumerate(ENCODINGS):
            self.encoding_combo.addItem(name, name)
            self.encoding_combo.setItemData(k, ENCODING_TIPS[name], Qt.ItemDataRole.ToolTipRole)
        self.encoding_combo.setAccessibleName("Encoding")

        self.examples_button = QToolButton(self)
        self.examples_button.setText("Examples")
        self.examples_button.setToolTip("Built-in sequences, each chosen to show one idea")
        self.examples_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.examples_button)
        menu.setToolTipsVisible(True)
        self.example_actions: dict[str, QAction] = {}
        for ex in EXAMPLES:
            action = menu.addAction(ex.title)
            action.setToolTip(ex.explanation)
            action.setStatusTip(ex.explanation)
            action.triggered.connect(lambda _checked=False, ex=ex: self._choose_example(ex))
            self.example_actions[ex.id] = action
        self.examples_button.setMenu(menu)

        self.status = QLabel(self)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.status.setToolTip("What was read from the text, or what is wrong with it")
        self.status.setAccessibleName("Sequence status")

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.field, 1)
        row.addWidget(self.encoding_combo)
        row.addWidget(self.examples_button)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        col.addLayout(row)
        col.addWidget(self.status)
        self.field.setFrameShape(QFrame.Shape.StyledPanel)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(lambda: self._parse(emit=True))

        self.field.textChanged.connect(self._on_text_changed)
        self.field.submitted.connect(self._on_submit)
        self.field.history_step.connect(self._walk_history)
        self.field.focus_left.connect(self._on_focus_left)
        self.encoding_combo.currentIndexChanged.connect(self._on_encoding_changed)
        self.apply_appearance(LIGHT, 1.0)

    # -- public API -----------------------------------------------------------
    def text(self) -> str:
        """The text in the field."""
        return self.field.toPlainText()

    def encoding(self) -> str:
        """The selected encoding (``"auto"`` included)."""
        return self.encoding_combo.currentData()

    def set_text(self, text: str, encoding: str = "auto") -> None:
        """Show ``text`` read with ``encoding``, without emitting anything.

        For pushing the app's current sequence into the widget (e.g. after a
        preset was loaded). A pending parse of earlier typing is dropped.
        """
        index = self.encoding_combo.findData(encoding)
        if index < 0:
            raise ValueError(f"unknown encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")
        self._timer.stop()
        self._note = ""
        with QSignalBlocker(self.field), QSignalBlocker(self.encoding_combo):
            self.encoding_combo.setCurrentIndex(index)
            self.field.setPlainText(text)
            self.field.moveCursor(QTextCursor.MoveOperation.End)
        self._hist_pos = None
        if self._parse(emit=False) is not None:
            self._last_emitted = (text, encoding)
            self._remember()

    def history(self) -> list[tuple[str, str]]:
        """Accepted ``(text, encoding)`` pairs, oldest first."""
        return list(self._history)

    @property
    def explicit(self) -> bool:
        """True if the last ``sequence_accepted`` was asked for (Enter, encoding, example).

        A pause in typing or leaving the field is not: the receiver should not
        ask questions (a dialog in the middle of typing) for those.
        """
        return self.last_trigger in ("enter", "encoding", "example")

    def show_note(self, text: str) -> None:
        """Show ``text`` in the status line (instead of the step count) until the text changes."""
        self._note = str(text)
        self._show_status()

    def error_message(self) -> str:
        """The current parse error in words ("" when the text parses)."""
        return "" if self._error is None else str(self._error)

    def error_span(self) -> tuple[int, int] | None:
        """The underlined character span of the current error, read from the editor."""
        return self.field.error_span()

    def apply_appearance(self, theme: Theme, font_scale: float) -> None:
        """Fonts and colours from the app's theme and font scale."""
        self._theme = theme
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        big = scaled_font(theme, font_scale, FIELD_FONT_FACTOR, family=fixed.family())
        big.setStyleHint(QFont.StyleHint.TypeWriter)
        self.field.setFont(big)
        normal = scaled_font(theme, font_scale)
        for w in (self.encoding_combo, self.examples_button, self.status):
            w.setFont(normal)
        self.status.setMinimumHeight(self.status.fontMetrics().lineSpacing())
        self._show_status()

    def set_vocabulary(self, vocab: tuple[str, ...] | None, kind: str = "") -> None:
        """Read typed words (``kind`` "words") or characters ("chars") against the model's
        one-hot ``vocab``, column k being ``vocab[k]`` (None: each text brings its own).

        A model built for a vocabulary (a preset) means its input columns by word; a
        new sentence must keep those columns, not re-sort its own words into them.
        Numbers and vectors, and the Examples menu, are read as usual.
        """
        vocab = tuple(vocab) if vocab is not None else None
        if (vocab, kind) == (self._vocab, self._vocab_kind):
            return
        self._vocab, self._vocab_kind = vocab, kind if vocab is not None else ""
        if self.text():
            self._parse(emit=False)             # the status (and any error) for the new rule

    def vocabulary(self) -> tuple[str, ...] | None:
        """The model's vocabulary the field reads words or characters against (or None)."""
        return self._vocab

    def _encode(self, text: str, encoding: str, example: Example | None) -> Encoded:
        vocab, kind = self._vocab, self._vocab_kind
        if vocab is not None and example is None and (
                encoding == kind
                or encoding == "auto" and detect_encoding(text) in ("chars", "words")):
            try:
                return encode(text, encoding=kind, vocab=vocab)
            except SequenceError as e:
                if "not in the vocabulary" not in e.message:
                    raise
                shown = ", ".join(visible(v) if kind == "chars" else v
                                  for v in vocab[:MAX_VOCAB_SHOWN])
                more = ", …" if len(vocab) > MAX_VOCAB_SHOWN else ""
                raise SequenceError(f"{e.message} this model was built for ({shown}{more})",
                                    e.step, e.start, e.end) from None
        encoded = encode(text, encoding=encoding)
        if encoding == "auto" and encoded.encoding == "words" and _mostly_numbers(text):
            encode(text, encoding="numbers")     # raises: show the typo, not a new encoding
        return encoded

    # -- parsing ----------------------------------------------------------------
    def _parse(self, emit: bool, force: bool = False, trigger: str = "typing",
               example: Example | None = None) -> Encoded | None:
        """Parse the text; show the result; emit it when asked (and new, unless forced)."""
        key = (self.text(), self.encoding())
        try:
            encoded = self._encode(key[0], key[1], example)
        except SequenceError as e:
            self._error, self._encoded = e, None
            self._show_status()
            return None
        self._error, self._encoded = None, encoded
        self._last_valid = key
        self._show_status()
        if emit and (force or key != self._last_emitted):
            self._last_emitted = key
            self.last_trigger, self.last_example = trigger, example
            self.sequence_accepted.emit(encoded)
        return encoded

    def _show_status(self) -> None:
        """Error underline, status line and tool tips from the last parse."""
        theme = self._theme
        self.encoding_combo.setToolTip("How the text is read: " + ENCODING_TIPS[self.encoding()])
        self.field.setToolTip(FIELD_TIP if self._error is None else f"{self._error}\n\n{FIELD_TIP}")
        if self._error is not None:
            e = self._error
            color = QColor(ERROR_COLOR)
            if e.start is not None and e.end is not None:
                self.field.set_error_span(e.start, e.end, color)
            else:
                self.field.set_error_span(0, 0, color)
            self.status.setText(f"✗ {e}")
            self.status.setStyleSheet(f"color: {ERROR_COLOR};")
            return
        self.field.set_error_span(0, 0, QColor(ERROR_COLOR))
        enc = self._encoded
        self.status.setStyleSheet(f"color: {theme.muted};")
        if enc is None:
            self.status.setText(HINT)
            return
        if self._note:
            self.status.setStyleSheet(f"color: {theme.foreground}; font-weight: bold;")
            self.status.setText(self._note)
            return
        T, D = enc.x.shape
        how = enc.encoding if self.encoding() != "auto" else f"auto: {enc.encoding}"
        width = f"{D} value" + ("s" if D != 1 else "")
        if enc.vocab is not None:
            width = f"one-hot over {D} {'character' if enc.encoding == 'chars' else 'word'}" + (
                "s" if D != 1 else "")
        self.status.setText(f"{T} step{'s' if T != 1 else ''} × {width} ({how})")

    # -- slots --------------------------------------------------------------------
    def _on_text_changed(self) -> None:
        self._note = ""
        if not self._browsing:
            self._hist_pos = None
        self.field.set_error_span(0, 0, QColor(ERROR_COLOR))   # the old span no longer fits
        self._timer.start()

    def _on_submit(self) -> None:
        self._timer.stop()
        if self._parse(emit=True, force=True, trigger="enter") is not None:
            self._remember()

    def _on_encoding_changed(self, _index: int) -> None:
        self._timer.stop()
        self._note = ""
        self._parse(emit=True, trigger="encoding")

    def _on_focus_left(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self._parse(emit=True, trigger="focus")
        if self._error is None and self._last_valid == (self.text(), self.encoding()):
            self._remember()

    def _choose_example(self, example: Example) -> None:
        self._timer.stop()
        with QSignalBlocker(self.field), QSignalBlocker(self.encoding_combo):
            self.encoding_combo.setCurrentIndex(self.encoding_combo.findData(example.encoding))
            self.field.replace_text(example.text)
        self._hist_pos = None
        if self._parse(emit=True, force=True, trigger="example", example=example) is not None:
            self._remember()
        self.example_chosen.emit(example)

    # -- history -------------------------------------------------------------------
    def _remember(self) -> None:
        """Put the current text at the newest end of the history (once)."""
        key = (self.text(), self.encoding())
        if key in self._history:
            self._history.remove(key)
        self._history.append(key)
        del self._history[:-HISTORY_MAX]

    def _walk_history(self, delta: int) -> None:
        """Up (-1) shows the previous accepted text, Down (+1) the next, then the draft."""
        current = (self.text(), self.encoding())
        n = len(self._history)
        if self._hist_pos is None:
            if delta > 0 or n == 0:
                return
            self._draft = current
            pos = n - 1
            if self._history[pos] == current and n > 1:
                pos -= 1        # the newest entry is what is on screen already
            elif self._history[pos] == current:
                return
        else:
            pos = self._hist_pos + delta
            if pos < 0:
                return
        if pos >= n:
            self._hist_pos = None
            self._show_entry(self._draft)
            return
        self._hist_pos = pos
        self._show_entry(self._history[pos])

    def _show_entry(self, entry: tuple[str, str]) -> None:
        text, encoding = entry
        self._browsing = True
        try:
            with QSignalBlocker(self.encoding_combo):
                self.encoding_combo.setCurrentIndex(self.encoding_combo.findData(encoding))
            self.field.replace_text(text)       # textChanged -> parse after the pause
        finally:
            self._browsing = False
