"""Class names in the Gradients tab: the preset's names on the bars and in the class box,
following the model through loading, undo and weights files.

Expected probabilities come from the engine on the preset built here; expected names are
written out here.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFontMetrics, QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from lstm_viz.explain import fmt
from lstm_viz.model import Network, Options, encode, init_params, save_weights
from lstm_viz.model.presets import load_preset
from lstm_viz.ui.gradients import GradientPanel
from lstm_viz.ui.main_window import BOTTOM_GRADIENTS

PRESET = "first_opinion"


@pytest.fixture
def window(make_window, state):
    return make_window(state, size=(1600, 1000))


def _reference_probs(loss_class: int) -> np.ndarray:
    p = load_preset(PRESET)
    x = encode(p.sequence, p.encoding).x
    return p.network.with_(options=Options(loss_class=loss_class)).trace(x).readout_probs


def _open_cross_entropy(qtbot, window):
    assert window.load_preset(PRESET)
    window.bottom.setCurrentIndex(BOTTOM_GRADIENTS)
    panel = window.gradients
    panel.loss_kind.setFocus()
    qtbot.keyClick(panel.loss_kind, Qt.Key.Key_Down)          # "Cross-entropy"
    assert panel.loss_kind.currentText() == "Cross-entropy"
    return panel


def _labels(panel) -> list[str]:
    return [label for _, _, label, _ in panel.probs.rows]


def _type_in_class_box(qtbot, panel, text: str) -> None:
    spin = panel.class_spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key.Key_Return)


def test_bars_and_class_box_show_the_preset_names(qtbot, window, state):
    panel = _open_cross_entropy(qtbot, window)
    assert state.class_names == ("negative", "positive") and state.loss_class == 0
    ref = _reference_probs(0)
    assert _labels(panel) == ["0 negative ★", "1 positive"]
    assert [v for *_, v in panel.probs.rows] == [fmt(p) for p in ref]
    assert panel.class_spin.text() == "0 negative"
    assert "0 negative ★: p = " + fmt(ref[0]) in panel.probs.accessibleDescription()
    assert "1 positive" in panel.class_spin.toolTip()
    # a class chosen by its name
    _type_in_class_box(qtbot, panel, "Positive")
    assert state.loss_class == 1 and panel.class_spin.text() == "1 positive"
    assert _labels(panel) == ["0 negative", "1 positive ★"]
    assert "“positive”" in panel.loss_label.toolTip()
    # and by its number
    _type_in_class_box(qtbot, panel, "0")
    assert state.loss_class == 0 and panel.class_spin.text() == "0 negative"


def test_hover_names_the_class(qtbot, window, state):
    panel = _open_cross_entropy(qtbot, window)
    bars = panel.probs
    y = int(bars.row_height() * 1.5)                           # the second row: class 1
    ev = QHelpEvent(QHelpEvent.Type.ToolTip, QPoint(20, y), bars.mapToGlobal(QPoint(20, y)))
    QApplication.sendEvent(bars, ev)
    assert QToolTip.text().startswith(f"Class 1 (positive): p = {fmt(_reference_probs(0)[1])}")
    QToolTip.hideText()


def test_names_follow_the_model_and_undo_brings_them_back(qtbot, window, state, tmp_path):
    panel = _open_cross_entropy(qtbot, window)
    assert window.load_preset("latch")                         # no readout: no names
    assert state.class_names == () and not panel.loss_kind.isEnabled()
    assert panel.probs.rows == [] and panel.class_spin.isHidden()
    window.act_undo.trigger()
    assert state.class_names == ("negative", "positive") and state.loss_class == 0
    assert _labels(panel) == ["0 negative ★", "1 positive"]
    assert panel.class_spin.text() == "0 negative"
    # the same readout from a file without names: numbered classes
    plain = state.network.params.replace(readout_classes=None)
    save_weights(tmp_path / "plain.npz", Network(plain))
    assert window.open_weights(tmp_path / "plain.npz")
    assert state.class_names == () and state.loss_class == 0
    assert _labels(panel) == ["class 0 ★", "class 1"]
    assert panel.class_spin.text() == "class 0"
    # ... and from a file with other names
    save_weights(tmp_path / "named.npz",
                 Network(plain.replace(readout_classes=("thumbs down", "thumbs up"))))
    assert window.open_weights(tmp_path / "named.npz")
    assert _labels(panel) == ["0 thumbs down ★", "1 thumbs up"]
    window.act_undo.trigger()
    window.act_undo.trigger()
    assert _labels(panel) == ["0 negative ★", "1 positive"]
    assert state.network.params.equals(load_preset(PRESET).network.params)


def test_save_weights_from_the_window_keeps_the_names(qtbot, window, state, tmp_path):
    assert window.load_preset(PRESET)
    window.save_weights(tmp_path / "saved.npz")
    with np.load(tmp_path / "saved.npz", allow_pickle=False) as z:
        assert z["readout.classes"].tolist() == ["negative", "positive"]


def test_class_box_is_wide_enough_for_its_names_at_every_font_scale(qtbot, window, state):
    panel = _open_cross_entropy(qtbot, window)
    spin = panel.class_spin
    for scale in (1.0, 1.5):
        state.set_font_scale(scale)
        qtbot.waitUntil(lambda: spin.font().pointSizeF() == pytest.approx(
            state.theme.base_point_size * scale, rel=1e-6))
        QApplication.processEvents()
        fm = QFontMetrics(spin.font())
        for k in (0, 1):
            state.set_loss_class(k)
            assert fm.horizontalAdvance(spin.text()) <= spin.lineEdit().width(), (scale, k)
        assert panel.loss_kind.width() >= panel.loss_kind.sizeHint().width()


def test_panel_alone_reads_names_from_the_state(qtbot, state):
    rng = np.random.default_rng(2)
    p = init_params("rnn", 1, 2, seed=1).replace(
        readout_weight=rng.standard_normal((3, 2)), readout_bias=rng.standard_normal(3),
        readout_classes=("low", "mid", "high"))
    panel = GradientPanel(state)
    qtbot.addWidget(panel)
    state.set_model(Network(p), np.ones((4, 1)))
    state.set_loss_class(2)
    panel.show()
    qtbot.waitExposed(panel)
    assert _labels(panel) == ["0 low", "1 mid", "2 high ★"]
    assert state.class_label(1) == "1 mid"
    # the same network without names is a change the panel shows
    state.set_network(state.network.with_(params=p.replace(readout_classes=None)))
    assert _labels(panel) == ["class 0", "class 1", "class 2 ★"]
    assert state.class_label(1) == "class 1"
