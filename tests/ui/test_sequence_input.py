"""The sequence field, driven as a user would: typing, Enter, Up/Down, the Examples menu."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QAction, QColor, QKeySequence, QTextCharFormat
from PySide6.QtWidgets import QMainWindow

from lstm_viz.model.examples import EXAMPLES
from lstm_viz.ui.sequence_input import DEBOUNCE_MS, ERROR_COLOR, SequenceInput

#: Long enough for the debounce timer to have fired (used only to show that nothing comes).
QUIET_MS = 3 * DEBOUNCE_MS


@pytest.fixture
def seq(qtbot):
    w = SequenceInput()
    qtbot.addWidget(w)
    w.show()
    return w


@pytest.fixture
def spy(seq):
    got = []
    seq.sequence_accepted.connect(got.append)
    return got


def retype(qtbot, seq, text):
    """Select everything in the field and type ``text`` over it."""
    seq.field.selectAll()
    qtbot.keyClicks(seq.field, text)


def test_typing_emits_once_after_the_pause(qtbot, seq, spy):
    with qtbot.waitSignal(seq.sequence_accepted, timeout=5000) as blocker:
        qtbot.keyClicks(seq.field, "1 0 0.5 -2")
        assert spy == []                               # nothing while still typing
    enc = blocker.args[0]
    np.testing.assert_array_equal(enc.x, [[1.0], [0.0], [0.5], [-2.0]])
    assert enc.labels == ("1", "0", "0.5", "\u22122") and enc.encoding == "numbers"
    qtbot.wait(QUIET_MS)
    assert len(spy) == 1                               # one emission for the whole burst
    assert seq.error_message() == "" and seq.error_span() is None
    assert "4 steps" in seq.status.text()


def test_enter_emits_at_once(qtbot, seq, spy):
    qtbot.keyClicks(seq.field, "1,0; 0,1; 0.5,0.5")
    qtbot.keyClick(seq.field, Qt.Key.Key_Return)
    assert len(spy) == 1                               # synchronously, no pause needed
    np.testing.assert_array_equal(spy[0].x, [[1, 0], [0, 1], [0.5, 0.5]])
    assert seq.text() == "1,0; 0,1; 0.5,0.5"           # Enter added no line break
    qtbot.wait(QUIET_MS)
    assert len(spy) == 1                               # the pending pause does not repeat it


def test_typo_is_underlined_explained_and_not_emitted_until_fixed(qtbot, seq, spy):
    qtbot.keyClicks(seq.field, "1 0 2")
    qtbot.keyClick(seq.field, Qt.Key.Key_Return)
    assert len(spy) == 1
    retype(qtbot, seq, "1 0 0.5x 2")
    qtbot.waitUntil(lambda: seq.error_message() != "", timeout=5000)
    qtbot.keyClick(seq.field, Qt.Key.Key_Return)
    assert len(spy) == 1                               # the bad text was never emitted
    assert seq.error_message() == 'step 3: "0.5x" is not a number'
    assert seq.status.text().endswith('step 3: "0.5x" is not a number')
    # The underline, read back from the editor, covers exactly "0.5x".
    sels = seq.field.extraSelections()
    assert len(sels) == 1
    start, end = sels[0].cursor.selectionStart(), sels[0].cursor.selectionEnd()
    assert seq.text()[start:end] == "0.5x" and (start, end) == (4, 8)
    fmt = sels[0].format
    assert fmt.underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline
    assert fmt.underlineColor() == QColor(ERROR_COLOR)
    # Fix it: the cursor is at the end; step back over " 2" and delete the x.
    for _ in range(2):
        qtbot.keyClick(seq.field, Qt.Key.Key_Left)
    qtbot.keyClick(seq.field, Qt.Key.Key_Backspace)
    assert seq.text() == "1 0 0.5 2"
    assert seq.error_span() is None                    # a stale underline is removed at once
    with qtbot.waitSignal(seq.sequence_accepted, timeout=5000) as blocker:
        pass
    np.testing.assert_array_equal(blocker.args[0].x[:, 0], [1, 0, 0.5, 2])
    assert seq.error_message() == "" and "✗" not in seq.status.text()


@pytest.mark.parametrize("text, bad", [("1 0x", "0x"), ("0.5x", "0.5x")])
def test_numbers_with_a_stray_letter_are_a_typo_not_words(qtbot, seq, spy, text, bad):
    retype(qtbot, seq, text)
    qtbot.waitUntil(lambda: seq.error_message() != "", timeout=5000)
    assert seq.error_message().endswith(f'"{bad}" is not a number')
    start, end = seq.error_span()
    assert seq.text()[start:end] == bad
    assert spy == []                                   # nothing emitted: the last trace stays


@pytest.mark.parametrize("text, encoding, bad, says", [
    ("1,0; 0; 1,1", "vectors", "0", 'step 2: "0" has 1 value but step 1 has 2'),
    ("1 2,, 3", "numbers", ",", "step 3: a value is missing between two commas"),
    ("the cat", "numbers", "the", 'step 1: "the" is not a number'),
    ("1 nan 2", "auto", "nan", 'step 2: "nan" is not a finite number'),
    ("0 1 O 1", "auto", "O", 'step 3: "O" is not a number'),    # letter O typed for zero
])
def test_underline_covers_the_offending_text(qtbot, seq, spy, text, encoding, bad, says):
    seq.encoding_combo.setCurrentIndex(seq.encoding_combo.findData(encoding))
    qtbot.keyClicks(seq.field, text)
    qtbot.keyClick(seq.field, Qt.Key.Key_Return)
    assert spy == []
    start, end = seq.error_span()
    assert text[start:end] == bad
    assert seq.error_message().startswith(says)


def test_auto_still_reads_real_words(qtbot, seq, spy):
    qtbot.keyClicks(seq.field, "I ate 2 apples")       # one number among words: words
    qtbot.keyClick(seq.field, Qt.Key.Key_Return)
    assert spy[-1].encoding == "words" and spy[-1].x.shape == (4, 4)
    seq.encoding_combo.setCurrentIndex(seq.encoding_combo.findData("words"))
    retype(qtbot, seq, "1 0 x 1")                      # words chosen explicitly: as asked
    qtbot.keyClick(seq.field, Qt.Key.Key_Return)
    assert spy[-1].encoding == "words" and spy[-1].x.shape == (4, 3)


def test_emptied_field_says_so_without_underline(qtbot, seq, spy):
    qtbot.keyClicks(seq.field, "1")
    qtbot.keyClick(seq.field, Qt.Key.Key_Backspace)
    qtbot.keyClick(seq.field, Qt.Key.Key_Return)
    assert spy == []
    assert "empty" in seq.error_message() and seq.error_span() is None


def test_up_and_down_walk_the_history(qtbot, seq, spy):
    for text in ("1 2", "3 4"):
        retype(qtbot, seq, text)
        qtbot.keyClick(seq.field, Qt.Key.Key_Return)
    retype(qtbot, seq, "5")                            # a draft, not yet accepted
    assert seq.history() == [("1 2", "auto"), ("3 4", "auto")]
    qtbot.keyClick(seq.field, Qt.Key.Key_Up)
    assert seq.text() == "3 4"
    qtbot.keyClick(seq.field, Qt.Key.Key_Up)
    assert seq.text() == "1 2"
    with qtbot.waitSignal(seq.sequence_accepted, timeout=5000) as blocker:
        qtbot.keyClick(seq.field, Qt.Key.Key_Up)        # already the oldest: stays
    assert seq.text() == "1 2"
    np.testing.assert_array_equal(blocker.args[0].x[:, 0], [1, 2])   # a recalled text is used
    qtbot.keyClick(seq.field, Qt.Key.Key_Down)
    assert seq.text() == "3 4"
    qtbot.keyClick(seq.field, Qt.Key.Key_Down)
    assert seq.text() == "5"                            # back to the draft
    qtbot.keyClick(seq.field, Qt.Key.Key_Down)
    assert seq.text() == "5"


def test_history_restores_the_encoding_and_skips_what_is_on_screen(qtbot, seq):
    seq.encoding_combo.setCurrentIndex(seq.encoding_combo.findData("chars"))
    qtbot.keyClicks(seq.field, "the cat")
    qtbot.keyClick(seq.field, Qt.Key.Key_Return)
    seq.encoding_combo.setCurrentIndex(seq.encoding_combo.findData("auto"))
    retype(qtbot, seq, "1 0 1")
    qtbot.keyClick(seq.field, Qt.Key.Key_Return)
    qtbot.keyClick(seq.field, Qt.Key.Key_Up)            # "1 0 1" is on screen: go past it
    assert (seq.text(), seq.encoding()) == ("the cat", "chars")
    qtbot.keyClick(seq.field, Qt.Key.Key_Down)
    assert (seq.text(), seq.encoding()) == ("1 0 1", "auto")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.id)
def test_choosing_an_example_sets_the_text_and_emits(qtbot, seq, spy, example):
    chosen = []
    seq.example_chosen.connect(chosen.append)
    seq.example_actions[example.id].trigger()
    assert seq.text() == example.text and seq.encoding() == example.encoding
    assert chosen == [example] and len(spy) == 1
    assert spy[0].encoding == example.encoding and spy[0].x.shape[0] >= 7
    assert seq.error_message() == ""
    assert seq.history()[-1] == (example.text, example.encoding)


def test_chars_example_reads_one_step_per_character(qtbot, seq, spy):
    seq.example_actions["chars"].trigger()
    enc = spy[0]
    assert enc.x.shape == (len("the cat sat"), len(set("the cat sat")))
    t = enc.vocab.index("t")
    np.testing.assert_array_equal(np.flatnonzero(enc.x[:, t]), [0, 6, 10])


def test_switching_the_encoding_reparses(qtbot, seq, spy):
    qtbot.keyClicks(seq.field, "the cat")
    qtbot.keyClick(seq.field, Qt.Key.Key_Return)
    assert spy[-1].encoding == "words" and spy[-1].x.shape == (2, 2)
    assert "auto: words" in seq.status.text()
    seq.encoding_combo.setCurrentIndex(seq.encoding_combo.findData("chars"))
    assert len(spy) == 2
    assert spy[-1].encoding == "chars" and spy[-1].x.shape == (7, 6)
    seq.encoding_combo.setCurrentIndex(seq.encoding_combo.findData("numbers"))
    assert len(spy) == 2
    assert seq.error_message() == 'step 1: "the" is not a number'
    assert seq.error_span() == (0, 3)


def test_set_text_shows_without_echo_and_drops_pending_typing(qtbot, seq, spy):
    qtbot.keyClicks(seq.field, "9 9")                  # a parse is pending ...
    seq.set_text("0.5,1; 1,0", "vectors")              # ... and the app pushes its sequence
    assert (seq.text(), seq.encoding()) == ("0.5,1; 1,0", "vectors")
    assert "2 steps" in seq.status.text()
    qtbot.wait(QUIET_MS)
    assert spy == []
    qtbot.keyClick(seq.field, Qt.Key.Key_Return)       # Enter uses it even though unchanged
    np.testing.assert_array_equal(spy[-1].x, [[0.5, 1], [1, 0]])
    seq.set_text("1 x", "numbers")                      # a bad pushed text shows its error
    assert '"x" is not a number' in seq.error_message() and len(spy) == 1
    with pytest.raises(ValueError):
        seq.set_text("1", "morse")


def test_paste_keeps_one_line(qtbot, seq):
    mime = QMimeData()
    mime.setText("1\n2\r\n3")
    seq.field.insertFromMimeData(mime)
    assert seq.text() == "1 2 3"


def test_typing_wins_over_application_shortcuts(qtbot):
    """Playback binds Space, Left/Right, Home/End app-wide; in the field they edit text."""
    win = QMainWindow()
    qtbot.addWidget(win)
    seq = SequenceInput()
    win.setCentralWidget(seq)
    fired = []
    for key in ("Space", "Left", "Home", "Up"):
        a = QAction(key, win)
        a.setShortcut(QKeySequence(key))
        a.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        a.triggered.connect(lambda _=False, key=key: fired.append(key))
        win.addAction(a)
    win.show()
    qtbot.waitExposed(win)
    seq.field.setFocus()
    qtbot.waitUntil(seq.field.hasFocus)
    qtbot.keyClicks(seq.field, "1 2")
    qtbot.keyClick(seq.field, Qt.Key.Key_Home)
    qtbot.keyClicks(seq.field, "0 ")
    qtbot.keyClick(seq.field, Qt.Key.Key_Up)
    assert seq.text() == "0 1 2"
    assert fired == []
    qtbot.keyClick(seq.status, Qt.Key.Key_Space)      # control: outside the field it fires
    assert fired == ["Space"]


def test_everything_has_a_tooltip(seq):
    for w in (seq.field, seq.encoding_combo, seq.examples_button, seq.status):
        assert w.toolTip()
    for k in range(seq.encoding_combo.count()):
        assert seq.encoding_combo.itemData(k, Qt.ItemDataRole.ToolTipRole)
    for action in seq.example_actions.values():
        assert action.toolTip() and action.toolTip() != action.text()


def test_a_model_vocabulary_fixes_the_columns_and_names_unknown_tokens(qtbot, seq, spy):
    seq.set_vocabulary(("x", "a", "b"), "chars")           # column 0 is "x", not sorted order
    retype(qtbot, seq, "ba")
    qtbot.keyClick(seq.field, Qt.Key.Key_Return)
    np.testing.assert_array_equal(spy[-1].x, [[0, 0, 1], [0, 1, 0]])
    assert spy[-1].vocab == ("x", "a", "b")
    retype(qtbot, seq, "abc")
    qtbot.keyClick(seq.field, Qt.Key.Key_Return)
    assert len(spy) == 1
    assert "this model was built for (x, a, b)" in seq.error_message()
    start, end = seq.error_span()
    assert seq.text()[start:end] == "c"
    retype(qtbot, seq, "1 0 0.5")                            # numbers are read as numbers
    qtbot.keyClick(seq.field, Qt.Key.Key_Return)
    assert spy[-1].encoding == "numbers" and spy[-1].x.shape == (3, 1)
    seq.set_vocabulary(None)                                 # back to each text's own
    retype(qtbot, seq, "abc")
    qtbot.keyClick(seq.field, Qt.Key.Key_Return)
    assert spy[-1].vocab == ("a", "b", "c") and seq.error_message() == ""
