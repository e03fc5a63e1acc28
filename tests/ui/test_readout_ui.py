"""The readout loss in the GUI: the preset, the Gradients tab's loss controls, the class
probabilities, undo, and the state rules (valid class kept, no readout forces None).

Expected numbers come from the engine on networks built here from the preset's file,
never from the widgets.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from lstm_viz.explain import fmt
from lstm_viz.model import ModelInputError, Network, Options, encode, init_params, save_weights
from lstm_viz.model.presets import load_preset
from lstm_viz.ui.gradients import TIPS, GradientPanel
from lstm_viz.ui.main_window import BOTTOM_GRADIENTS

PRESET = "first_opinion"


@pytest.fixture
def window(make_window, state):
    return make_window(state, size=(1600, 1000))


def _reference(loss_class=None, loss_step=None):
    """The engine's trace of the shipped preset, built here."""
    p = load_preset(PRESET)
    x = encode(p.sequence, p.encoding).x
    net = p.network.with_(options=Options(loss_class=loss_class, loss_step=loss_step))
    return net.trace(x, np.zeros(p.network.hidden_size))


def _gapped(a):
    a = np.array(a, dtype=float)
    a[a == 0] = np.nan
    return a


def _open_preset_and_tab(window):
    assert window.load_preset(PRESET)
    window.bottom.setCurrentIndex(BOTTOM_GRADIENTS)
    return window.gradients


def _choose_cross_entropy(qtbot, panel):
    combo = panel.loss_kind
    assert combo.isEnabled() and combo.currentText() == "Squared error"
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)          # the next item: "Cross-entropy"
    assert combo.currentText() == "Cross-entropy"


def _type_class(qtbot, panel, k: int):
    spin = panel.class_spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, str(k))
    qtbot.keyClick(spin, Qt.Key.Key_Return)


def test_preset_readout_loss_through_the_widgets_matches_the_engine(qtbot, window, state):
    panel = _open_preset_and_tab(window)
    squared = _reference()
    assert state.loss_class is None and state.trace.loss == squared.loss
    assert panel.probs.isHidden() and not panel.class_spin.isEnabled()
    _choose_cross_entropy(qtbot, panel)
    assert state.loss_class == 0                    # the spin box's class, 0 at first
    _type_class(qtbot, panel, 1)
    assert state.loss_class == 1
    ref = _reference(loss_class=1)
    tr = state.trace
    assert tr.loss == ref.loss
    np.testing.assert_array_equal(tr.readout_probs, ref.readout_probs)
    # the probabilities shown are the engine's, the chosen class marked
    assert panel.probs.isVisible()
    assert [(k, p) for k, p, _, _ in panel.probs.rows] == [(0, ref.readout_probs[0]),
                                                          (1, ref.readout_probs[1])]
    assert [v for *_, v in panel.probs.rows] == [fmt(p) for p in ref.readout_probs]
    assert panel.probs.chosen == 1 and "★" in panel.probs.rows[1][2]
    assert fmt(ref.loss) in panel.loss_label.text() and "log p₁" in panel.loss_label.text()
    # the gradient norms drawn are the engine's, for the readout loss
    np.testing.assert_allclose(panel.norm_curves["h"].values[1],
                               _gapped(np.linalg.norm(ref.dL_dh, axis=1)), rtol=1e-12)
    np.testing.assert_allclose(panel.norm_curves["c"].values[1],
                               _gapped(np.linalg.norm(ref.dL_dc, axis=1)), rtol=1e-12)
    np.testing.assert_allclose(panel.saliency_bars.values[1],
                               np.linalg.norm(ref.dL_dx, axis=1), rtol=1e-12)
    # the target is not part of this loss, so its field is out of the way
    assert panel.target_edit.isHidden()


def test_undo_returns_to_the_squared_loss_bit_for_bit(qtbot, window, state):
    panel = _open_preset_and_tab(window)
    before = state.trace
    _choose_cross_entropy(qtbot, panel)
    _type_class(qtbot, panel, 1)
    assert state.loss_class == 1
    window.act_undo.trigger()                       # class 1 -> class 0
    assert state.loss_class == 0 and panel.class_spin.value() == 0
    window.act_undo.trigger()                       # back to the squared error
    assert state.loss_class is None
    tr = state.trace
    assert tr.loss == before.loss and tr.readout_probs is None
    for name in ("h", "dL_dh", "dL_dc", "dL_dx"):
        np.testing.assert_array_equal(getattr(tr, name), getattr(before, name))
    assert panel.loss_kind.currentText() == "Squared error" and panel.probs.isHidden()
    assert panel.target_edit.isVisible()
    window.act_redo.trigger()
    assert state.loss_class == 0


def test_model_without_readout_shows_the_controls_disabled(qtbot, window, state):
    window.bottom.setCurrentIndex(BOTTOM_GRADIENTS)
    panel = window.gradients
    assert state.readout_classes == 0
    assert not panel.loss_kind.isEnabled()
    assert panel.loss_kind.toolTip() == TIPS["no_readout"]
    assert "readout.weight" in TIPS["no_readout"] and "first opinion" in TIPS["no_readout"]
    assert panel.probs.isHidden() and panel.class_spin.isHidden()
    qtbot.keyClick(panel.loss_kind, Qt.Key.Key_Down)         # a disabled box takes no keys
    assert state.loss_class is None
    # asking anyway (e.g. from code) is refused in words, and nothing changes
    assert not panel.choose_loss_class(0)
    assert "readout" in panel.loss_error.text() and state.loss_class is None


def test_loading_keeps_a_valid_class_and_a_model_without_readout_drops_it(qtbot, window, state,
                                                                         tmp_path):
    panel = _open_preset_and_tab(window)
    assert panel.choose_loss_class(1) and state.loss_class == 1
    window.load_preset(PRESET)                                             # the preset again
    assert state.loss_class == 1
    # a weights file with a 2-class readout (saved from an edited copy) keeps class 1
    p = state.network.params
    edited = p.replace(readout_bias=np.array([0.5, -0.5]))
    save_weights(tmp_path / "clf.npz", Network(edited))
    assert window.open_weights(tmp_path / "clf.npz")
    assert state.loss_class == 1 and state.network.params.equals(edited)
    assert state.trace.loss == Network(edited, options=Options(loss_class=1)).trace(
        state.inputs, state.target).loss
    assert window.load_preset("latch")                                     # no readout
    assert state.loss_class is None and not panel.loss_kind.isEnabled()
    window.act_undo.trigger()
    assert state.loss_class == 1 and panel.loss_kind.currentText() == "Cross-entropy"


def test_hovering_a_bar_explains_it(qtbot, window, state):
    panel = _open_preset_and_tab(window)
    panel.choose_loss_class(0)
    bars = panel.probs
    ref = _reference(loss_class=0)
    y = int(bars.row_height() * 1.5)                          # the second row: class 1
    ev = QHelpEvent(QHelpEvent.Type.ToolTip, QPoint(20, y), bars.mapToGlobal(QPoint(20, y)))
    QApplication.sendEvent(bars, ev)
    text = QToolTip.text()
    assert "Class 1" in text and fmt(ref.readout_probs[1]) in text
    assert fmt(ref.readout_logits[1]) in text and "softmax" in text
    assert f"logit z₁ = {fmt(ref.readout_logits[1])}" in text and "z = Wᵣ·hₛ + bᵣ" in text
    QToolTip.hideText()


def test_font_scale_and_theme_reach_the_bars(qtbot, window, state):
    panel = _open_preset_and_tab(window)
    panel.choose_loss_class(1)
    h1 = panel.probs.sizeHint().height()
    state.set_font_scale(2.0)
    state.set_theme("contrast")
    assert panel.probs.font().pointSizeF() == pytest.approx(
        state.theme.base_point_size * 2.0, rel=1e-6)
    assert panel.probs.sizeHint().height() > h1
    panel.probs.grab()                                         # paints without error


# --------------------------------------------------------------------------- AppState rules


def _readout_network(k: int = 3, kind: str = "gru") -> Network:
    rng = np.random.default_rng(0)
    p = init_params(kind, 1, 2, seed=1)
    return Network(p.replace(readout_weight=rng.standard_normal((k, 2)),
                             readout_bias=rng.standard_normal(k)))


def test_state_set_loss_class_recomputes_once_and_refuses_bad_classes(qtbot, state):
    x = np.ones((4, 1))
    state.set_model(_readout_network(), x)
    with qtbot.waitSignal(state.trace_changed):
        state.set_loss_class(2)
    assert state.loss_class == 2 and state.trace.loss_class == 2
    ref = _readout_network().with_(options=Options(loss_class=2)).trace(x, np.zeros(2))
    assert state.trace.loss == ref.loss
    with qtbot.assertNotEmitted(state.trace_changed):
        state.set_loss_class(2)                               # no change, no signal
        for bad in (3, -1, 1.5, "one"):
            with pytest.raises(ModelInputError):
                state.set_loss_class(bad)
    assert state.loss_class == 2


def test_state_snapshot_restore_and_fitting(qtbot, state):
    x = np.ones((4, 1))
    state.set_model(_readout_network(), x)
    squared = state.snapshot()
    state.set_loss_class(1)
    chosen = state.snapshot()
    assert chosen.loss_class == 1
    state.restore(squared)
    assert state.loss_class is None
    state.restore(chosen)
    assert state.loss_class == 1
    # a network with the same class count keeps the class; fewer classes, or none, drop it
    state.set_network(_readout_network(k=2).with_(options=state.options))
    assert state.loss_class == 1
    state.set_model(_readout_network(k=3), x)                 # options None, KEEP: still 1
    assert state.loss_class == 1
    state.set_network(_readout_network(k=1).with_(options=state.options))
    assert state.loss_class is None
    state.set_loss_class(0)
    state.set_network(Network(init_params("gru", 1, 2), options=state.options))
    assert state.loss_class is None
    with pytest.raises(ModelInputError, match="needs a readout"):
        state.set_loss_class(0)
    # a snapshot asking for a class the model does not have gets the squared error
    state.restore(replace(squared, loss_class=5))
    assert state.loss_class is None


def test_panel_alone_uses_the_state_setter_and_hidden_panel_waits(qtbot, state):
    panel = GradientPanel(state)
    qtbot.addWidget(panel)
    state.set_model(_readout_network(), np.ones((4, 1)))
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.choose_loss_class(2) and state.loss_class == 2
    assert panel.probs.chosen == 2 and len(panel.probs.rows) == 3
    panel.hide()
    state.set_loss_class(0)
    assert panel.probs.chosen == 2                            # hidden: not redrawn yet
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.probs.chosen == 0 and panel.loss_kind.currentIndex() == 1


def test_many_classes_show_the_likeliest_and_the_chosen(qtbot, state):
    rng = np.random.default_rng(5)
    K = 30
    net = _readout_network(k=K)
    panel = GradientPanel(state)
    qtbot.addWidget(panel)
    state.set_model(net, rng.standard_normal((6, 1)))
    probs = net.with_(options=Options(loss_class=0)).trace(state.inputs).readout_probs
    k = int(np.argmin(probs))                                 # the least likely class
    state.set_loss_class(k)
    panel.show()
    qtbot.waitExposed(panel)
    shown = [r[0] for r in panel.probs.rows]
    assert len(shown) == panel.probs.MAX_ROWS and k in shown
    top = set(np.argsort(-probs)[: panel.probs.MAX_ROWS - 1].tolist())
    assert top <= set(shown)
    assert panel.probs.left_out == K - panel.probs.MAX_ROWS


def test_choosing_the_loss_is_not_a_weight_edit_but_a_weight_change_is(qtbot, window, state):
    """The status line says "weights edited" only when weights or initial states changed."""
    panel = _open_preset_and_tab(window)
    _choose_cross_entropy(qtbot, panel)
    assert state.loss_class == 0
    assert "edited" not in window.model_info.text()
    window.weights.select("f", "ih", 0, 0)
    window.weights.spin.setValue(2.5)
    assert "weights edited" in window.model_info.text()


def test_the_strips_loss_step_tooltip_names_the_loss_in_use(qtbot, window, state):
    panel = _open_preset_and_tab(window)
    strip = window.strip
    x = strip.cell_rect(state.loss_step).center().x()
    assert "½‖hₛ − y‖²" in strip.tooltip_at(x)
    _choose_cross_entropy(qtbot, panel)
    tip = strip.tooltip_at(x)
    assert "−log pₖ" in tip and "class k = 0" in tip and "½‖" not in tip
