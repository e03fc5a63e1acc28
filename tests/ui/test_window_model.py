"""The window drives the model like a user: type a sequence, rebuild for another width,
edit a weight, undo, load presets, save and open weights files, click a gate.

Expected traces come from the engine (`Network.trace`) on networks and inputs built
here in the test, never read back from the window.
"""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from lstm_viz.model import Network, init_params
from lstm_viz.model.demo import demo_network
from lstm_viz.model.presets import list_presets
from lstm_viz.ui.main_window import REBUILD_SEED, TAB_EQUATIONS, TAB_WEIGHTS


@pytest.fixture
def window(make_window, state):
    return make_window(state)


@pytest.fixture
def answers(monkeypatch):
    """Answer the window's confirmations from a list; records the questions asked."""
    asked = []
    queue = []

    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        return QMessageBox.StandardButton.Yes if queue.pop(0) else QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", question)
    return queue, asked


def type_sequence(qtbot, window, text):
    field = window.sequence_input.field
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, text)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def assert_trace_is(state, net, x):
    ref = net.trace(x)
    tr = state.trace
    for name in ("h", "c", "dL_dh", "dL_dc", "dL_dx"):
        np.testing.assert_array_equal(getattr(tr, name), getattr(ref, name))
    for g in ref.gates:
        np.testing.assert_array_equal(tr.gates[g], ref.gates[g])


def test_typing_a_sequence_changes_the_trace_as_the_engine_computes(qtbot, window, state):
    net = state.network
    type_sequence(qtbot, window, "1,0; 0,0; 0.5,0; 0,1")
    x = np.array([[1, 0], [0, 0], [0.5, 0], [0, 1]], dtype=float)
    assert state.steps == 4
    assert_trace_is(state, net, x)
    assert state.labels == ("1,0", "0,0", "0.5,0", "0,1")
    assert state.sequence_text == "1,0; 0,0; 0.5,0; 0,1"


def test_undo_of_the_same_numbers_written_another_way_puts_the_text_back(qtbot, window, state):
    type_sequence(qtbot, window, "1,0; 0,1")
    trace = state.trace
    type_sequence(qtbot, window, "1,0;0,1")             # same numbers, new text: an undo step
    assert state.sequence_text == "1,0;0,1" and state.trace is trace
    window.undo_stack.undo()
    assert state.sequence_text == "1,0; 0,1"
    assert window.sequence_input.text() == "1,0; 0,1"   # the field follows at once
    window.undo_stack.redo()
    assert window.sequence_input.text() == "1,0;0,1"
    window.sequence_input.encoding_combo.setCurrentIndex(
        window.sequence_input.encoding_combo.findData("vectors"))   # the grammar chosen by hand
    qtbot.waitUntil(lambda: state.encoding == "vectors", timeout=3000)
    window.undo_stack.undo()
    assert state.encoding == "auto" and window.sequence_input.encoding() == "auto"


def test_space_and_digits_go_into_the_field_not_to_playback(qtbot, window, state):
    type_sequence(qtbot, window, "0,0; 1,0")
    assert state.unit == -1 and not window.playback.playing       # "1" and Space were typed
    assert window.sequence_input.text() == "0,0; 1,0"


def test_a_bad_sequence_shows_its_error_and_keeps_the_last_trace(qtbot, window, state):
    before = state.trace
    type_sequence(qtbot, window, "1,0; 0,x; 0,1")
    si = window.sequence_input
    assert "x" in si.error_message() and "step 2" in si.error_message()
    start, end = si.error_span()
    assert si.text()[start:end] == "x"
    assert state.trace is before
    assert si.status.text().startswith("✗")


def test_width_change_asks_rebuilds_seeded_and_undo_restores_bit_for_bit(qtbot, window, state,
                                                                          answers):
    queue, asked = answers
    old_net, old_x, old_labels = state.network, state.inputs, state.labels
    queue.append(True)
    type_sequence(qtbot, window, "1 0 0.5 0")
    assert len(asked) == 1
    assert asked[0].startswith("The weights expect 2 values per step; this sequence has 1.")
    assert "W_ih, W_hh, biases" in asked[0] and "Undo" in asked[0]
    expected = init_params("lstm", 1, 3, seed=REBUILD_SEED)
    assert state.network.params.equals(expected)
    assert_trace_is(state, Network(expected), np.array([[1.0], [0.0], [0.5], [0.0]]))
    assert window.weights.heatmap("f", "ih").values.shape == (3, 1)
    assert "Rebuild" in window.act_undo.text()

    window.act_undo.trigger()
    assert state.network is old_net and state.labels == old_labels
    assert state.network.params.equals(demo_network().params)
    np.testing.assert_array_equal(state.inputs, old_x)
    assert_trace_is(state, old_net, old_x)
    assert window.sequence_input.text() == state.sequence_text       # the field follows
    window.act_redo.trigger()
    assert state.network.params.equals(expected)


def test_a_rebuild_asks_about_the_readout_it_removes(qtbot, window, state, answers):
    """The rebuild makes a cell without a readout: the question says that the readout,
    its class names and the loss on a class go too (it named only W_ih, W_hh, biases)."""
    queue, asked = answers
    window.preset_actions["first_opinion"].trigger()
    assert state.network.params.classes == 2
    window.apply_loss_class(1)                  # (the Gradients tab's class box)
    net = state.network
    queue.append(False)
    window.hidden_spin.setValue(4)
    qtbot.waitUntil(lambda: len(asked) == 1)
    assert "readout layer (2 classes: negative, positive) removed" in asked[0]
    assert "loss on class 1 (positive) goes back to the squared error" in asked[0]
    assert state.network is net and window.hidden_spin.value() == 2
    queue.append(True)                          # another width: the same question
    type_sequence(qtbot, window, "1 0 1")
    assert len(asked) == 2 and "readout layer (2 classes: negative, positive) removed" in asked[1]
    assert state.network.params.classes == 0 and state.loss_class is None
    window.act_undo.trigger()
    assert state.network is net and state.loss_class == 1
    window.load_preset("latch")                 # no readout: not a word about one
    queue.append(False)
    window.hidden_spin.setValue(4)
    qtbot.waitUntil(lambda: len(asked) == 3)
    assert "readout" not in asked[2] and "W_ih, W_hh, biases" in asked[2]


def test_width_change_cancelled_keeps_the_model_and_resyncs_the_field(qtbot, window, state,
                                                                      answers):
    queue, asked = answers
    before = state.snapshot()
    queue.append(False)
    type_sequence(qtbot, window, "1 2 3")
    assert len(asked) == 1
    assert state.network is before.network and state.inputs is before.inputs
    assert window.sequence_input.text() == before.sequence_text
    assert window.sequence_input.error_message() == ""
    assert window.undo_stack.count() == 0


def test_a_pause_while_typing_another_width_asks_nothing(qtbot, window, state, answers):
    _, asked = answers
    window.sequence_input.field.setFocus()
    window.sequence_input.field.selectAll()
    qtbot.keyClicks(window.sequence_input.field, "1 0 1")
    qtbot.waitUntil(lambda: "Press Enter" in window.sequence_input.status.text())
    assert asked == [] and state.inputs.shape[1] == 2


def test_hidden_units_spin_rebuilds_after_asking(qtbot, window, state, answers):
    queue, asked = answers
    old = state.network
    queue.append(True)
    window.hidden_spin.setValue(5)
    qtbot.waitUntil(lambda: state.network.hidden_size == 5)
    assert "3 hidden units" in asked[0] and "Rebuild it with 5" in asked[0]
    assert state.network.params.equals(init_params("lstm", 2, 5, seed=REBUILD_SEED))
    assert window.weights.heatmap("f", "hh").values.shape == (5, 5)
    window.act_undo.trigger()
    assert state.network is old and window.hidden_spin.value() == 3
    queue.append(False)
    window.hidden_spin.setValue(4)
    qtbot.waitUntil(lambda: len(asked) == 2)
    qtbot.waitUntil(lambda: window.hidden_spin.value() == 3)
    assert state.network is old


def test_undo_brings_back_the_unit_and_step_a_smaller_model_held_back(qtbot, window, state,
                                                                       answers):
    """Fewer units or a shorter sequence hold the focused unit and the step back; undoing
    that change puts back the ones the user had chosen (unit 3 stayed unit 2)."""
    queue, _ = answers
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    window.diagram.setFocus()
    qtbot.keyClick(window.diagram, Qt.Key.Key_3)            # unit 3
    qtbot.keyClick(window.diagram, Qt.Key.Key_End)          # step 14, then back to 11
    for _ in range(3):
        qtbot.keyClick(window.diagram, Qt.Key.Key_Left)
    assert (state.unit, state.timestep) == (2, 10)
    queue.append(True)
    window.hidden_spin.setValue(2)
    qtbot.waitUntil(lambda: state.network.hidden_size == 2)
    assert state.unit == 1
    window.act_undo.trigger()
    assert state.network.hidden_size == 3 and state.unit == 2
    assert window.playback_bar.unit.currentData() == 2
    type_sequence(qtbot, window, "0,0; 1,0; 0,0; 0,0")
    assert state.steps == 4 and state.timestep == 3
    window.act_undo.trigger()
    assert state.steps == 14 and state.timestep == 10
    assert window.playback_bar.step_label.text().startswith("Step 11 / 14")
    window.act_redo.trigger()
    assert state.timestep == 3
    window.diagram.setFocus()
    qtbot.keyClick(window.diagram, Qt.Key.Key_Left)         # a step chosen on the short one
    window.act_undo.trigger()
    assert state.steps == 14 and state.timestep == 2
    type_sequence(qtbot, window, "0,0; 1,0")                # held back to step 2 ...
    window.load_preset("counter")                           # ... not brought back by a new
    assert state.steps == 10 and state.timestep == 1        # model with room for it


def test_a_rebuild_leaves_the_preset_behind(qtbot, window, state, answers):
    queue, _ = answers
    assert window.preset_combo.currentData() == "latch"
    queue.append(True)
    window.hidden_spin.setValue(4)
    qtbot.waitUntil(lambda: state.network.hidden_size == 4)
    # the latch's name and explanation no longer describe these weights
    assert state.preset_id == "" and window.preset_combo.currentText() == "Custom"
    assert "latch" not in window.model_info.text().lower()
    assert not any(state.unit_names)
    window.act_undo.trigger()
    assert state.preset_id == "latch" and window.preset_combo.currentData() == "latch"


def test_a_typed_sequence_replaces_the_caption_about_the_presets_own(qtbot, window, state):
    demo_caption = state.caption
    assert "step 11" in demo_caption                   # the demo's caption names its steps
    type_sequence(qtbot, window, "1,0; 0,0; 0,1; 0,0")
    assert state.steps == 4
    assert state.caption == ("Your own sequence on the “Hand-built latch” weights: "
                             "watch what the cell makes of it.")
    assert window.caption.text() == state.caption
    type_sequence(qtbot, window, window.presets["latch"].sequence)   # the preset's own again
    assert state.caption == demo_caption
    window.act_undo.trigger()                           # undo brings the text and caption back
    assert state.steps == 4 and state.caption.startswith("Your own sequence")


def test_a_word_preset_reads_new_sentences_with_its_own_vocabulary(qtbot, window, state,
                                                                   answers):
    from lstm_viz.model import encode

    _queue, asked = answers
    window.load_preset("first_opinion")
    p = window.presets["first_opinion"]
    vocab = encode(p.sequence, "words").vocab             # column k is vocab[k]
    net = state.network
    # Four of its seven words: on its own this sentence is 4 one-hot columns wide (a rebuild);
    # read with the model's vocabulary it is 7 wide, "bad" in the column the weights read.
    type_sequence(qtbot, window, "the plot was bad")
    assert asked == []
    x = encode("the plot was bad", "words", vocab=vocab).x
    assert state.steps == 4 and state.inputs.shape == (4, 7)
    np.testing.assert_array_equal(state.inputs, x)
    assert state.inputs[3, vocab.index("bad")] == 1.0
    assert_trace_is(state, net, x)
    before = state.trace
    type_sequence(qtbot, window, "the film was good")
    si = window.sequence_input
    assert "“film”" in si.error_message() or '"film"' in si.error_message()
    assert "this model was built for (acting, bad, but, good, plot, the, was)" in si.error_message()
    start, end = si.error_span()
    assert si.text()[start:end] == "film"
    assert state.trace is before


@pytest.mark.parametrize("example", ["words", "chars"])
def test_an_example_in_other_words_asks_before_a_word_preset_reads_it(qtbot, window, state,
                                                                       answers, example):
    # Both examples happen to have 7 distinct tokens, as many as the preset's vocabulary:
    # read with their own columns they would fit the width and mean other words.
    from lstm_viz.model import encode

    queue, asked = answers
    window.load_preset("first_opinion")
    before = state.network
    queue.append(False)                                   # first: cancel
    window.sequence_input.example_actions[example].trigger()
    assert len(asked) == 1 and "built for the " in asked[0] and "acting, bad" in asked[0]
    assert state.network is before and state.preset_id == "first_opinion"
    queue.append(True)                                    # then: rebuild
    window.sequence_input.example_actions[example].trigger()
    assert state.preset_id == "" and state.network is not before
    own = encode(state.sequence_text, state.encoding).x
    np.testing.assert_array_equal(state.inputs, own)       # its own columns, new weights
    assert window.sequence_input.vocabulary() is None


def test_ctrl_r_resets_to_the_preset_last_loaded_after_a_rebuild(qtbot, window, state,
                                                                 answers):
    queue, _ = answers
    window.load_preset("counter")
    counter = window.presets["counter"]
    queue.append(True)
    window.hidden_spin.setValue(5)
    qtbot.waitUntil(lambda: state.network.hidden_size == 5)
    assert state.preset_id == ""
    qtbot.keyClick(window.diagram, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert state.network.params.equals(counter.network.params) and state.preset_id == "counter"


def test_a_typed_sentence_keeps_its_vocabulary_after_a_cell_switch(qtbot, window, state,
                                                                   answers):
    _queue, asked = answers
    window.load_preset("first_opinion")
    type_sequence(qtbot, window, "the plot was bad")
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)   # a GRU
    assert state.network.kind == "gru" and state.inputs.shape == (4, 7)
    si = window.sequence_input
    assert si.vocabulary() is not None and "over 7 words" in si.status.text()
    type_sequence(qtbot, window, "the plot was good")       # still read in its columns
    assert asked == [] and state.inputs.shape == (4, 7)


def test_click_a_cell_and_type_a_value_as_the_readme_says(qtbot, window, state):
    # Digits are also the app's unit shortcuts: after the click they must go to the value.
    window.show_side_tab(TAB_WEIGHTS)
    ed = window.weights
    ed.show_gate("i")
    hm = ed.heatmap("i", "ih")
    qtbot.mouseClick(hm.viewport(), Qt.MouseButton.LeftButton, pos=hm.cell_pos(1, 0))
    typed_into = QApplication.focusWidget()
    qtbot.keyClicks(typed_into, "2.5")
    qtbot.keyClick(typed_into, Qt.Key.Key_Return)
    assert state.unit == -1                                # no unit was picked
    row = state.network.params.gate_rows("i").start + 1
    assert state.network.params.weight_ih[row, 0] == 2.5


def test_editing_a_weight_in_the_window_and_undo(qtbot, window, state):
    x = state.inputs
    old = state.network
    window.show_side_tab(TAB_WEIGHTS)
    ed = window.weights
    hm = ed.heatmap("f", "hh")
    ed.show_gate("f")
    qtbot.mouseClick(hm.viewport(), Qt.MouseButton.LeftButton, pos=hm.cell_pos(0, 1))
    ed.spin.selectAll()
    qtbot.keyClicks(ed.spin, "-2.5")
    qtbot.keyClick(ed.spin, Qt.Key.Key_Return)
    row = old.params.gate_rows("f").start + 0
    w_hh = old.params.weight_hh.copy()
    w_hh[row, 1] = -2.5
    expected = Network(old.params.replace(weight_hh=w_hh))
    assert state.network.params.equals(expected.params)
    assert_trace_is(state, expected, x)
    assert "W_hf[1, 2]" in window.act_undo.text()
    qtbot.keyClick(window.diagram, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert state.network is old
    assert_trace_is(state, old, x)
    qtbot.keyClick(window.diagram, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert state.network.params.equals(expected.params)


@pytest.mark.parametrize("preset", list_presets(), ids=lambda p: p.id)
def test_each_preset_loads_from_the_menu_and_shows_its_explanation(qtbot, window, state, preset):
    window.load_preset("copy_input" if preset.id == "latch" else "latch")   # start elsewhere
    action = window.preset_actions[preset.id]
    assert action in window.presets_menu.actions()
    action.trigger()
    assert state.preset_id == preset.id
    assert state.network.params.equals(preset.network.params)
    assert state.caption == preset.caption and window.caption.text() == preset.caption
    assert preset.explanation in window.model_info.text()
    assert window.sequence_input.text() == preset.sequence
    assert window.preset_combo.currentData() == preset.id
    assert "Load preset" in window.act_undo.text()


def test_latch_preset_keeps_the_demo_labels(window, state):
    window.load_preset("counter")
    window.load_preset("latch")
    assert state.labels[2] == "1" and state.labels[10] == "go" and state.labels[0] == "·"


def test_reset_to_preset_puts_back_its_weights(qtbot, window, state):
    window.load_preset("counter")
    original = state.network
    window.weights.select("f", "ih", 0, 0)
    window.weights.spin.setValue(3.0)
    assert not state.network.params.equals(original.params)
    assert "edited" in window.model_info.text()
    qtbot.keyClick(window.diagram, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert state.network.params.equals(original.params)
    window.act_undo.trigger()
    assert state.network.params.weight_ih[original.params.gate_rows("f").start, 0] == 3.0


def test_reset_to_preset_keeps_a_caption_true_to_the_typed_sequence(qtbot, window, state,
                                                                    answers):
    """Ctrl+R under a sequence the user typed puts the preset's weights back, not its
    caption: the latch's names steps 3 and 11 of its own sequence (it was put back on
    a four-step one). On the preset's own sequence its caption comes back."""
    queue, _ = answers
    p = window.presets["latch"]
    neutral = "Your own sequence on the “Hand-built latch” weights: watch what the cell makes of it."
    type_sequence(qtbot, window, "0,0; 1,0; 0,0; 0,0")
    window.weights.select("f", "b", 0, 0)
    window.weights.spin.setValue(2.0)
    qtbot.keyClick(window.diagram, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert state.network.params.equals(p.network.params) and state.steps == 4
    assert state.caption == neutral and window.caption.text() == neutral
    queue.append(True)                          # a rebuild's caption is about its weights
    window.hidden_spin.setValue(4)
    qtbot.waitUntil(lambda: state.network.hidden_size == 4)
    assert state.caption.startswith("New random weights")
    qtbot.keyClick(window.diagram, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert state.network.params.equals(p.network.params) and state.caption == neutral
    type_sequence(qtbot, window, p.sequence)    # the preset's own sequence: its caption
    window.weights.select("f", "b", 0, 0)
    window.weights.spin.setValue(2.0)
    qtbot.keyClick(window.diagram, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert state.caption == p.caption and window.caption.text() == p.caption


def test_reset_to_preset_keeps_an_examples_caption_about_its_sequence(qtbot, window, state):
    """An example's caption tells what to watch in that sequence, on any weights."""
    window.load_preset("counter")
    window.sequence_input.example_actions["spike"].trigger()     # one value per step too
    caption = state.caption
    assert "memory" in caption
    window.weights.select("f", "ih", 0, 0)
    window.weights.spin.setValue(3.0)
    qtbot.keyClick(window.diagram, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert state.network.params.equals(window.presets["counter"].network.params)
    assert state.caption == caption


def test_example_from_the_menu_sets_the_inputs(qtbot, window, state, answers):
    queue, _ = answers
    queue.append(True)                    # the spike example has 1 value per step
    window.sequence_input.example_actions["spike"].trigger()
    assert state.inputs.shape == (12, 1) and state.inputs[0, 0] == 1.0
    assert "memory" in state.caption or "spike" in state.caption.lower()


def test_save_then_open_round_trips_exactly(tmp_path, window, state):
    window.load_preset("random")
    net = state.network
    path = tmp_path / "w.npz"
    assert window.save_weights(path)
    window.load_preset("counter")
    assert window.open_weights(path)
    assert state.network.params.equals(net.params)
    assert "Open weights" in window.act_undo.text()
    window.act_undo.trigger()
    assert state.preset_id == "counter"


@pytest.mark.torch
def test_save_then_open_pt_round_trips_exactly(tmp_path, window, state):
    pytest.importorskip("torch")
    window.load_preset("xavier")
    net = state.network
    assert window.save_weights(tmp_path / "w.pt")
    window.load_preset("counter")
    assert window.open_weights(tmp_path / "w.pt")
    assert state.network.params.equals(net.params)


def test_a_corrupt_file_shows_the_reason_and_changes_nothing(tmp_path, window, state):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    before = state.snapshot()
    assert not window.open_weights(bad)
    box = window.message_box
    assert box is not None and box.isVisible()
    assert "broken.npz was not opened" in box.text() and "unchanged" in box.text()
    assert state.network is before.network and state.inputs is before.inputs
    assert window.undo_stack.count() == 0
    box.close()


def test_a_model_too_large_to_show_is_refused_with_its_size(tmp_path, window, state, monkeypatch):
    from lstm_viz.model import save_weights
    from lstm_viz.ui import main_window
    monkeypatch.setattr(main_window, "MAX_OPEN_HIDDEN", 4)       # (a real one is 34 MB)
    monkeypatch.setattr(main_window, "MAX_OPEN_INPUTS", 2)
    save_weights(tmp_path / "big.npz", Network(init_params("lstm", 3, 5, seed=1)))
    before = state.snapshot()
    assert not window.open_weights(tmp_path / "big.npz")
    box = window.message_box
    assert "big.npz was not opened" in box.text()
    assert "3 values per step (at most 2) and 5 hidden units (at most 4)" in box.text()
    assert state.network is before.network and window.undo_stack.count() == 0
    box.close()


def test_weights_of_another_width_ask_to_replace_the_sequence(tmp_path, window, state, answers):
    from lstm_viz.model import save_weights
    queue, asked = answers
    other = Network(init_params("gru", 4, 2, seed=5))
    save_weights(tmp_path / "gru.npz", other)
    queue.append(False)
    assert not window.open_weights(tmp_path / "gru.npz")
    assert "expect 4 values per step" in asked[0] and state.network.kind == "lstm"
    queue.append(True)
    assert window.open_weights(tmp_path / "gru.npz")
    assert state.network.params.equals(other.params)
    np.testing.assert_array_equal(state.inputs, np.zeros((14, 4)))
    window.act_undo.trigger()
    assert state.network.kind == "lstm" and state.inputs.shape == (14, 2)


@pytest.mark.parametrize("key", ["f", "o", "h_prev"])
def test_gate_click_opens_the_weights_tab_at_that_gate(window, state, key):
    window.side.setCurrentIndex(TAB_EQUATIONS)
    state.activate(key)
    assert window.side.currentIndex() == TAB_WEIGHTS
    assert window.side.currentWidget() is window.weights


def test_undo_redo_shortcuts_are_listed(window):
    keys = {a.text().replace("&", ""): [s.toString() for s in a.shortcuts()]
            for a in window.all_actions()}
    assert "Ctrl+Z" in keys[window.act_undo.text().replace("&", "")]
    redo = keys[window.act_redo.text().replace("&", "")]
    assert "Ctrl+Shift+Z" in redo and "Ctrl+Y" in redo
    assert "Ctrl+O" in keys["Open weights…"] and "Ctrl+S" in keys["Save weights…"]
    assert "Ctrl+R" in keys["Reset to preset"]


def _layer(kind="lstm", d=2, h=3):
    return init_params(kind, d, h, seed=8).to_state_dict()


@pytest.mark.parametrize("arrays, words", [
    ({**_layer(), **{f"{k}_reverse": v for k, v in _layer().items()}},
     ("bidirectional", "bidirectional=False")),
    ({**_layer(), "weight_hr_l0": np.ones((2, 3))}, ("proj_size", "weight_hr_l0")),
    ({k: v for k, v in _layer().items() if k != "bias_hh_l0"}, ("missing bias_hh_l0",)),
], ids=["bidirectional", "proj_size", "one bias"])
def test_a_refused_layout_shows_the_reason_and_changes_nothing(tmp_path, window, state,
                                                              arrays, words):
    path = tmp_path / "other.npz"
    np.savez(path, **arrays)
    before = state.snapshot()
    assert not window.open_weights(path)
    box = window.message_box
    assert box is not None and box.isVisible()
    assert "other.npz was not opened" in box.text() and "unchanged" in box.text()
    for w in words:
        assert w in box.text(), box.text()
    assert state.network is before.network and window.undo_stack.count() == 0
    box.close()


@pytest.mark.torch
def test_a_whole_pickled_model_is_refused_in_plain_words(tmp_path, window, state):
    torch = pytest.importorskip("torch")
    torch.save(torch.nn.LSTM(2, 3), tmp_path / "model.pt")
    before = state.snapshot()
    assert not window.open_weights(tmp_path / "model.pt")
    text = window.message_box.text()
    assert "whole pickled model" in text and "torch.save(model.state_dict(), path)" in text
    assert "\x1b" not in text
    assert state.network is before.network and window.undo_stack.count() == 0
    window.message_box.close()


def test_a_bias_free_cell_file_opens_and_an_rnn_says_it_runs_tanh(tmp_path, window, state):
    p = init_params("lstm", 2, 3, seed=9)
    np.savez(tmp_path / "cell.npz", weight_ih=p.weight_ih, weight_hh=p.weight_hh)
    assert window.open_weights(tmp_path / "cell.npz")
    assert np.array_equal(state.network.params.weight_hh, p.weight_hh)
    assert not state.network.params.bias_ih.any() and not state.network.params.bias_hh.any()
    assert "tanh" not in window.model_info.text()
    np.savez(tmp_path / "rnn.npz", **init_params("rnn", 2, 3, seed=9).to_state_dict())
    assert window.open_weights(tmp_path / "rnn.npz")
    assert "RNN" in window.model_info.text() and "tanh" in window.model_info.text()
    assert "relu" in window.model_info.text()
