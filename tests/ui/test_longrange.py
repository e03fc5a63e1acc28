"""The long-range view: the plotted curve is the engine's, computed without freezing the UI."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from lstm_viz.model.longrange import LENGTHS, VARIANTS, long_range_curve, long_range_task
from lstm_viz.ui.longrange import HIDDEN, SEED, LongRangeView


@pytest.fixture
def loaded():
    return []


@pytest.fixture
def view(qtbot, state, loaded):
    w = LongRangeView(state, load_into_main=lambda *a, **k: loaded.append((a, k)))
    qtbot.addWidget(w)
    w.resize(1900, 400)
    return w


def _plotted(view, v):
    c = view.curves[v]
    return np.asarray(c.xData), np.asarray(c.yData)


def test_nothing_is_computed_until_shown(qtbot, view):
    qtbot.wait(50)
    assert not view.done
    assert all(np.isnan(view.results[v]).all() for v in VARIANTS)


def test_curve_fills_in_from_the_timer_and_matches_the_engine(qtbot, view):
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.done, timeout=20000)
    ref = long_range_curve(LENGTHS, VARIANTS, H=HIDDEN, seed=SEED, forget_bias=view.forget_bias)
    for v in VARIANTS:
        x, y = _plotted(view, v)
        np.testing.assert_array_equal(x, LENGTHS)
        np.testing.assert_allclose(y, ref[v], rtol=1e-14)
    assert view.progress.text() == ""


def test_forget_bias_slider_recomputes_only_that_lstm(qtbot, view):
    view.show()
    view.compute_now()
    rnn_before = view.results["rnn"].copy()
    fb_before = view.results["lstm_fb"].copy()
    view.bias_slider.setValue(50)                       # +5.0
    assert view.forget_bias == 5.0
    assert view.bias_label.text() == "+5.0 (f ≈ 0.993)"          # σ(5) = 0.99331
    assert "σ(5.0) = 0.993" in view.bias_label.toolTip()
    assert np.isnan(view.results["lstm_fb"]).all()
    np.testing.assert_array_equal(view.results["rnn"], rnn_before)
    qtbot.waitUntil(lambda: view.done, timeout=20000)
    ref = long_range_curve(LENGTHS, ("lstm_fb",), H=HIDDEN, seed=SEED, forget_bias=5.0)
    np.testing.assert_allclose(view.results["lstm_fb"], ref["lstm_fb"], rtol=1e-14)
    assert not np.allclose(view.results["lstm_fb"], fb_before)


def test_length_slider_highlights_one_length_and_reads_it_out(view):
    view.compute_now()
    view.length_slider.setValue(LENGTHS.index(50))
    assert view.highlight.value() == 50
    assert view.length_label.text() == "50 steps"
    i = LENGTHS.index(50)
    from lstm_viz.explain import fmt
    assert f"RNN {fmt(view.results['rnn'][i])}" in view.readout.text()
    view.set_length(133)
    assert view.highlighted_length == 130


def test_open_button_hands_the_sequence_and_cell_to_the_main_view(qtbot, view, loaded, state):
    view.show()
    view.set_length(60)
    view.cell_combo.setCurrentIndex(VARIANTS.index("lstm_fb"))
    qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
    (net, x, labels, caption), kw = loaded[-1]
    task = long_range_task(60, HIDDEN, SEED)
    assert net.kind == "lstm" and net.hidden_size == HIDDEN
    np.testing.assert_array_equal(x, task.x)
    np.testing.assert_array_equal(kw["target"], task.target)
    assert labels == task.labels and "forget bias" in caption
    # what the window will do with it: the main view then shows the same gradient
    state.set_model(net, x, labels, caption, target=kw["target"])
    i = LENGTHS.index(60)
    view.compute_now()
    assert np.linalg.norm(state.trace.dL_dx[0]) == pytest.approx(view.results["lstm_fb"][i], rel=1e-14)


def test_open_button_is_off_without_a_callback(qtbot, state):
    w = LongRangeView(state)
    qtbot.addWidget(w)
    assert not w.open_button.isEnabled()


def test_key_above_the_plot_names_every_curve_in_its_colour(qtbot, view, state):
    from lstm_viz.model.longrange import VARIANT_NAMES
    from lstm_viz.ui.longrange import COLORS

    view.resize(900, 260)                  # short, as in a laptop's window
    view.show()
    qtbot.waitExposed(view)
    text = view.key.text()
    for v in VARIANTS:
        assert VARIANT_NAMES[v] in text and COLORS[v] in text
    # outside the plot: nothing of the plot is under it
    assert view.key.geometry().bottom() < view.plot_widget.geometry().top()
    assert not view.plot.legend                      # no legend inside the plot


def test_the_controls_are_in_sight_in_a_short_tab(qtbot, view):
    view.resize(1380, 270)                              # the bottom tab at 1920x1080
    view.show()
    qtbot.waitExposed(view)
    port = view.side_scroll.viewport()
    for w in (view.bias_slider, view.length_slider, view.readout, view.open_button):
        box = w.rect().translated(w.mapTo(port, w.rect().topLeft()))
        assert port.rect().contains(box), w.accessibleName() or w.text()
