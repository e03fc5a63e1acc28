"""The gradient panel: every plotted gradient is the trace's, and its controls drive the state."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from lstm_viz.explain import fmt
from lstm_viz.model import Network, Options, init_params
from lstm_viz.ui.gradients import ERROR_COLOR, GradientPanel, nice_limit, parse_target


@pytest.fixture
def panel(qtbot, state):
    w = GradientPanel(state)
    qtbot.addWidget(w)
    w.resize(1900, 400)
    w.show()
    qtbot.waitExposed(w)
    return w


def _gapped(a):
    """What a log axis can show: zeros become NaN (gaps)."""
    a = np.array(a, dtype=float)
    a[a == 0] = np.nan
    return a


def _lstm_model(state, **opt):
    net = Network(init_params("lstm", 2, 4, seed=3), options=Options(**opt))
    x = np.random.default_rng(2).normal(size=(10, 2))
    state.set_model(net, x, [f"t{k}" for k in range(10)], target=np.array([0.5, -0.5, 0.2, 0.0]))


def test_norms_paths_and_saliency_are_the_traces(panel, state):
    _lstm_model(state)
    tr = state.trace
    T = tr.steps
    x = np.arange(1, T + 1)
    c, h = panel.norm_curves["c"], panel.norm_curves["h"]
    np.testing.assert_array_equal(c.values[0], x)
    np.testing.assert_allclose(c.values[1], _gapped(np.linalg.norm(tr.dL_dc, axis=1)), rtol=1e-12)
    np.testing.assert_allclose(h.values[1], _gapped(np.linalg.norm(tr.dL_dh, axis=1)), rtol=1e-12)
    # the two paths into dL/dC_t, straight from the backward recursion
    f = tr.gates["f"]
    along = np.zeros(T)
    along[:-1] = np.linalg.norm(tr.dL_dc[1:] * f[1:], axis=1)
    through = np.linalg.norm(tr.dL_dc - np.vstack([tr.dL_dc[1:] * f[1:], np.zeros(4)]), axis=1)
    np.testing.assert_allclose(panel.path_curves["along"].values[1], _gapped(along), rtol=1e-9)
    np.testing.assert_allclose(panel.path_curves["through"].values[1], _gapped(through), rtol=1e-9)
    heights = panel.saliency_bars.values[1]
    np.testing.assert_allclose(heights, np.linalg.norm(tr.dL_dx, axis=1), rtol=1e-12)
    np.testing.assert_array_equal(panel.saliency_bars.values[0], x)
    # the token labels sit under the bars
    ticks = panel.saliency_view.plots[0].getAxis("bottom")._tickLevels
    assert [lab for _, lab in ticks[0]] == list(state.labels)


def test_steps_cut_by_truncation_are_shaded_and_labelled(panel, state):
    _lstm_model(state, loss_step=6, truncate=3)           # reaches steps 5..7 (1-based)
    assert not state.trace.dL_dh[:4].any()                # cut: zero there
    for v in panel.views:
        for region, label in zip(v.cut_regions, v.cut_labels):
            assert region.isVisible()
            lo, hi = region.getRegion()
            assert lo < 1.0 and hi == 4.5                 # steps 1-4 cut, step 5 not
            assert label.format == "cut (k = 3) "
            assert "only the loss step and the 2 before it; steps 1 to 4 get none" in region.toolTip()
    _lstm_model(state, loss_step=6)
    assert not any(r.isVisible() for v in panel.views for r in v.cut_regions)


def test_when_no_gradient_reaches_back_the_plot_says_why(panel, state):
    from lstm_viz.ui.gradients import zero_gradient_note

    assert zero_gradient_note(state.trace) == ""                   # the demo: it does
    assert "exactly 0" not in panel.headers["norm"].full_text()
    state.set_options(Options(forget_activation="relu"))          # C grows to ~1e8
    tr = state.trace
    s = tr.loss_step
    assert not tr.dL_dh[:s].any() and not tr.dL_dc[:s].any()
    note = zero_gradient_note(tr)
    assert note.startswith("Every gradient before the loss step is exactly 0")
    assert "tanh(Cₜ) is flat at ±1" in note
    assert "exactly 0" in panel.headers["norm"].full_text()
    state.set_options(Options(forget_activation="relu", truncate=1))   # all cut: shaded instead
    assert panel.paths.first_step == s                            # (the panel's own paths)
    assert "exactly 0" not in panel.headers["norm"].full_text()
    assert any(r.isVisible() for r in panel.norm_view.cut_regions)
    state.set_options(Options())
    assert "exactly 0" not in panel.headers["norm"].full_text()
    state.set_target(state.trace.h[s].copy())                     # the loss at its minimum
    assert "no slope" in zero_gradient_note(state.trace)


def test_the_time_views_make_one_choice_of_axis(qtbot, panel, state):
    _lstm_model(state)
    panel.resize(1100, 400)                               # the saliency plot is the narrowest
    qtbot.wait(20)
    shown = [v for v in panel.views if v.isVisible()]
    labels = {v.plots[-1].getAxis("bottom").labelText for v in shown}
    assert len(shown) >= 3 and len(labels) == 1


def test_a_focused_unit_shows_its_own_magnitude(panel, state):
    _lstm_model(state)
    state.set_unit(2)
    tr = state.trace
    np.testing.assert_array_equal(panel.norm_curves["h"].values[1], _gapped(np.abs(tr.dL_dh[:, 2])))
    np.testing.assert_array_equal(panel.norm_curves["c"].values[1], _gapped(np.abs(tr.dL_dc[:, 2])))


def test_zero_gradients_are_gaps_and_the_hover_says_why(panel, state):
    _lstm_model(state, loss_step=6, truncate=3)
    tr = state.trace
    y = panel.norm_curves["h"].values[1]
    assert np.isnan(y[7:]).all() and np.isnan(y[:4]).all() and np.isfinite(y[4:7]).all()
    after = panel.hover_text(panel.norm_view, 0, 8, 0.0)
    assert "after the loss step" in after and "gap" in after
    assert "truncated" in panel.hover_text(panel.norm_view, 0, 1, 0.0)
    inside = panel.hover_text(panel.norm_view, 0, 5, 0.0)
    assert f"‖dL/dhₜ‖ = {fmt(np.linalg.norm(tr.dL_dh[5]))}" in inside
    assert "gap" not in inside
    assert "measured on this step" in panel.hover_text(panel.norm_view, 0, 6, 0.0)
    sal = panel.hover_text(panel.saliency_view, 0, 5, 0.0)
    assert fmt(np.linalg.norm(tr.dL_dx[5])) in sal and "input “t5”" in sal


def test_heatmaps_hold_dl_dh_and_dl_dc_with_symmetric_levels(qtbot, panel, state):
    _lstm_model(state)
    qtbot.mouseClick(panel.heat_button, Qt.MouseButton.LeftButton)
    assert panel.heatmap and panel.heat_view.isVisible() and not panel.norm_view.isVisible()
    tr = state.trace
    m = panel.levels
    peak = max(np.abs(tr.dL_dh).max(), np.abs(tr.dL_dc).max())
    assert peak <= m < 5 * peak
    # By default the colours are log sized, as in the diagram: ±1 at ±m, 0 at 1e-6 m and below.
    assert panel.heat_log and panel.heat_log_box.isVisible() and panel.heat_log_box.isChecked()
    for key, g in (("h", tr.dL_dh.T), ("c", tr.dL_dc.T)):
        with np.errstate(divide="ignore"):
            want = np.sign(g) * np.clip(1 + np.log10(np.abs(g) / m) / 6, 0, 1)
        np.testing.assert_allclose(panel.heat_images[key].image, want, rtol=1e-12, atol=1e-15)
    assert tuple(panel.colorbar.levels()) == (-1.0, 1.0)
    marks = dict(panel.colorbar.axis._tickLevels[0])
    assert marks[1.0] == f"±{fmt(m)}" and marks[0.0] == f"< {fmt(m / 1e6)}"
    assert "log colour over 6 decades" in panel.headers["heat"].full_text()
    box = panel.heat_log_box                                           # off: the values
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert not panel.heat_log
    np.testing.assert_array_equal(panel.heat_images["h"].image, tr.dL_dh.T)
    np.testing.assert_array_equal(panel.heat_images["c"].image, tr.dL_dc.T)
    assert tuple(panel.colorbar.levels()) == (-m, m)
    assert tuple(panel.heat_images["h"].getLevels()) == (-m, m)
    tip = panel.hover_text(panel.heat_view, 1, 4, 2.5)
    assert f"dL/dCₜ = {fmt(tr.dL_dc[4, 2])}" in tip and "unit 3" in tip
    qtbot.mouseClick(panel.lines_button, Qt.MouseButton.LeftButton)
    assert not panel.heatmap and panel.norm_view.isVisible() and not panel.heat_view.isVisible()


def test_loss_step_spin_box_and_cursor_button_drive_the_state(qtbot, panel, state):
    T = state.steps
    assert panel.loss_spin.maximum() == T and panel.loss_spin.value() == T
    spin = panel.loss_spin
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "5")
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    assert state.loss_step == 4
    assert state.trace.dL_dh[5:].sum() == 0.0
    assert panel.norm_view.loss_lines[0].value() == 5
    state.set_timestep(9)
    qtbot.mouseClick(panel.loss_here, Qt.MouseButton.LeftButton)
    assert state.loss_step == 9 and panel.loss_spin.value() == 10
    assert panel.loss_label.text() == f"Loss L = {fmt(state.trace.loss)} on step 10"


def test_target_edit_sets_the_target(qtbot, panel, state):
    edit = panel.target_edit
    edit.selectAll()
    qtbot.keyClicks(edit, "0.5, -1  0.25")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    np.testing.assert_array_equal(state.target, [0.5, -1.0, 0.25])
    tr = state.trace
    assert tr.loss == pytest.approx(0.5 * np.sum((tr.h[-1] - [0.5, -1.0, 0.25]) ** 2), rel=1e-12)
    assert fmt(tr.loss) in panel.loss_label.text()
    assert panel.target_error_text() == ""
    state.set_target([0.0, 1.0, 0.0])                 # pushed back into the field
    assert edit.text() == "0 1 0"


@pytest.mark.parametrize("text,reason", [("1 2", "needs 3 number(s)"),
                                         ("1 x 2", "“x” is not a number"),
                                         ("1 nan 2", "not a finite number")])
def test_a_bad_target_shows_why_and_changes_nothing(qtbot, panel, state, text, reason):
    before_trace, before_y = state.trace, state.target.copy()
    edit = panel.target_edit
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert reason in panel.target_error_text()
    assert panel.target_error.isVisible()
    assert ERROR_COLOR in edit.styleSheet() and reason in edit.toolTip()
    assert state.trace is before_trace
    np.testing.assert_array_equal(state.target, before_y)
    assert edit.text() == text                         # the user's text stays to be fixed
    qtbot.keyClicks(edit, "0")                         # typing again clears the complaint
    assert panel.target_error_text() == "" and edit.styleSheet() == ""


def test_check_gradients_reports_a_small_error(qtbot, panel, state):
    _lstm_model(state)
    with qtbot.waitSignal(state.trace_changed, timeout=100, raising=False) as blocker:
        qtbot.mouseClick(panel.check_button, Qt.MouseButton.LeftButton)
    assert not blocker.signal_triggered                # checking changes nothing
    res = panel.last_check
    assert res is not None and res.max_rel_error < 1e-5 and len(res.entries) == 34
    text = panel.check_label.text()
    assert text.startswith("Exact and numerical agree ✓") and fmt(res.max_rel_error) in text
    assert "20 parameters, 4 inputs and 10 plotted state gradients (dL/dh, dL/dC)" in text
    tip = panel.check_label.toolTip()
    assert tip.count("<tr") == 35 and "weight_hh_l0" in tip
    # the state gradients and inputs with 1-based steps and units, as the plots count them
    steps = sorted({e.index[0] + 1 for e in res.entries if e.name == "h"})
    assert steps == [1, 6, 8, 9, 10]                       # from step 1 to the loss step
    for e in res.entries:
        if e.name in ("h", "c", "x"):
            t, k = e.index[0] + 1, e.index[1] + 1
            step = f"step {t} (loss)" if t == 10 else f"step {t}"
            what = {"h": f"dL/dh at {step}, unit {k}", "c": f"dL/dC at {step}, unit {k}",
                    "x": f"dL/dx at {step}, input {k}"}[e.name]
            assert f"<td>{what}</td>" in tip, what
    assert fmt(res.floor) in tip and "runs on from it to the loss step" in tip
    state.set_target([0.0, 0.0, 0.0, 1.0])
    assert panel.last_check is None and "Not checked" in panel.check_label.text()


def test_check_names_what_it_compared_for_a_gru(qtbot, panel, state):
    net = Network(init_params("gru", 2, 3, seed=1))
    state.set_model(net, np.random.default_rng(0).normal(size=(6, 2)), [f"t{k}" for k in range(6)])
    qtbot.mouseClick(panel.check_button, Qt.MouseButton.LeftButton)
    res = panel.last_check
    assert res is not None and res.ok
    assert "20 parameters, 4 inputs and 5 plotted state gradients (dL/dh)." in panel.check_label.text()
    tip = panel.check_label.toolTip()
    assert "dL/dC" not in tip and tip.count("dL/dh at step") == 5


def test_a_wrong_state_gradient_shows_in_red(qtbot, panel, state, monkeypatch):
    from dataclasses import replace

    _lstm_model(state)
    real = Network.trace

    def tampered(self, xx, target=None, lazy=False):
        tr = real(self, xx, target)
        if xx.shape[0] != 10:                              # the check's own shorter runs
            return tr
        out = {k: getattr(tr, k) for k in ("dL_dh", "dL_dc", "dL_dx", "dL_dh0", "dL_dc0",
                                           "dL_dpre", "grads")}
        out["dL_dh"] = tr.dL_dh * 2.0                      # every dL/dh_t twice too big
        return replace(tr, backward=lambda: out)

    monkeypatch.setattr(Network, "trace", tampered)
    qtbot.mouseClick(panel.check_button, Qt.MouseButton.LeftButton)
    res = panel.last_check
    assert not res.ok and "DISAGREE" in panel.check_label.text()
    red = [row for row in panel.check_label.toolTip().split("<tr") if ERROR_COLOR in row]
    assert red and all("dL/dh at step" in row for row in red)


def test_a_check_that_cannot_measure_says_so_instead_of_disagree(qtbot, panel, state,
                                                                 curved_relu_lstm):
    # the loss is so curved in the candidate's weights that no central difference
    # measures its slope (tests/model/test_gradcheck.py)
    net, x, y = curved_relu_lstm(30)
    state.set_model(net, x, target=y)
    qtbot.mouseClick(panel.check_button, Qt.MouseButton.LeftButton)
    res = panel.last_check
    n = len(res.unsettled)
    assert n and not res.disagreeing
    text = panel.check_label.text()
    assert text.startswith("Exact and numerical agree where measurable ⚠") and "DISAGREE" not in text
    assert f"{n} of {len(res.entries)} could not be measured" in text and "±10⁻⁹" in text
    assert panel.check_label.toolTip().count(">unsettled<") == n
    if res.smaller_steps:                               # and those a smaller nudge settled
        assert "agreed only with a smaller nudge" in text


def test_cursor_follows_the_time_step_and_clicks_move_it(qtbot, panel, state):
    state.set_timestep(6)
    for v in panel.views:
        assert v.cursor.value() == 7
    view = panel.saliency_view
    pos = view.step_pos(0, 3, 0.0)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert state.timestep == 3


def test_updates_wait_while_hidden(qtbot, panel, state):
    panel.hide()
    old = panel.norm_curves["h"].values[1].copy()
    state.set_loss_step(3)
    np.testing.assert_array_equal(panel.norm_curves["h"].values[1], old)      # not redrawn yet
    panel.show()
    qtbot.waitExposed(panel)
    np.testing.assert_allclose(panel.norm_curves["h"].values[1],
                               _gapped(np.linalg.norm(state.trace.dL_dh, axis=1)), rtol=1e-12)
    assert panel.loss_spin.value() == 4


@pytest.mark.parametrize("kind", ["gru", "rnn"])
def test_cells_without_a_cell_state(qtbot, panel, state, kind):
    net = Network(init_params(kind, 2, 3, seed=1))
    x = np.random.default_rng(0).normal(size=(8, 2))
    state.set_model(net, x, target=np.array([0.3, 0.0, -0.3]))
    tr = state.trace
    assert not panel.norm_curves["c"].isVisible()
    np.testing.assert_allclose(panel.norm_curves["h"].values[1],
                               _gapped(np.linalg.norm(tr.dL_dh, axis=1)), rtol=1e-12)
    along = np.zeros(8)
    if kind == "gru":
        along[:-1] = np.linalg.norm(tr.dL_dh[1:] * tr.gates["z"][1:], axis=1)
    np.testing.assert_allclose(panel.path_curves["along"].values[1], _gapped(along), rtol=1e-12)
    panel.set_heat_log(False)
    panel.set_heatmap(True)
    assert panel.heat_plots["c"].scene() is None or not panel.heat_plots["c"].isVisible()
    np.testing.assert_array_equal(panel.heat_images["h"].image, tr.dL_dh.T)
    _lstm_model(state)                                    # and back to a cell state
    assert panel.heat_plots["c"].isVisible()
    np.testing.assert_array_equal(panel.heat_images["c"].image, state.trace.dL_dc.T)


def test_theme_and_font_scale(panel, state):
    size = panel.loss_spin.font().pointSizeF()
    state.set_font_scale(1.5)
    assert panel.loss_spin.font().pointSizeF() > size
    state.set_theme("dark")
    assert panel.norm_view.backgroundBrush().color().name() == state.theme.background.lower()
    assert panel.norm_curves["c"].opts["pen"].color().name() == state.theme.gate_colors["c"].lower()


def test_every_control_has_a_tooltip(panel):
    for w in (panel.loss_spin, panel.loss_here, panel.target_edit, panel.loss_label,
              panel.lines_button, panel.heat_button, panel.check_button, panel.check_label):
        assert w.toolTip()


def test_helpers():
    np.testing.assert_array_equal(parse_target(" [1, −2; 3e-1] ", 3), [1.0, -2.0, 0.3])
    assert nice_limit(0.32) == 0.5 and nice_limit(1.0) == 1.0 and nice_limit(1.01) == 2.0
    assert nice_limit(0.0) == 1.0 and nice_limit(3e-7) == pytest.approx(5e-7)


def test_an_overflowed_experiment_shows_gaps_and_refuses_the_check(qtbot, panel, state):
    from lstm_viz.model import Params

    b = np.zeros(8)
    b[0:2], b[2:4], b[4:6], b[6:8] = 5.0, 1e300, 2.0, 1.0
    p = Params("lstm", np.zeros((8, 1)), np.zeros((8, 2)), b, np.zeros(8))
    state.set_model(Network(p, options=Options(forget_activation="relu")), np.ones((5, 1)))
    y = panel.norm_curves["c"].values[1]
    assert np.isnan(y[:4]).all()
    assert "made it overflow" in panel.hover_text(panel.norm_view, 0, 1, 0.0)
    panel.set_heatmap(True)
    assert np.isfinite(panel.heat_images["c"].image).all()
    qtbot.mouseClick(panel.check_button, Qt.MouseButton.LeftButton)
    assert panel.last_check is None and "not finite" in panel.check_label.text()


def test_gradients_near_the_largest_float_draw_in_both_colour_modes(qtbot, panel, state):
    """A ReLU forget gate of 3 triples dL/dC at each step back: at the start of 1000 steps
    it nears 1e308. The heatmaps' levels, colour bar and saliency axis must stay finite
    (pyqtgraph's ticks overflowed on ±2e308 and on ±1.8e308, an exception in paint)."""
    from lstm_viz.ui.kit import AXIS_LIMIT

    H, T = 3, 1000
    b = np.zeros(4 * H)
    b[H:2 * H] = 3.0                                   # f = relu(3), the rest 0: C stays 0
    p = init_params("lstm", 2, H, seed=1).replace(weight_ih=np.zeros((4 * H, 2)), weight_hh=np.zeros((4 * H, H)),
                                                  bias_ih=b, bias_hh=np.zeros(4 * H))
    x = np.random.default_rng(0).normal(size=(T, 2))
    state.set_model(Network(p, options=Options(forget_activation="relu")), x, target=np.ones(H))
    top = np.nanmax(np.abs(state.trace.dL_dc[np.isfinite(state.trace.dL_dc)]))
    assert top > 1e300                                 # the case this test is about
    assert nice_limit(top) == AXIS_LIMIT and nice_limit(1e299) == 1e299 and nice_limit(3e299) == 5e299
    panel.set_heatmap(True)
    for log in (True, False):
        panel.set_heat_log(log)
        panel.repaint()                                # an exception in paint fails the test
        for key in ("h", "c"):
            assert np.isfinite(panel.heat_images[key].image).all()
            panel.heat_plots[key].getViewBox().scene().views()[0].grab()
        assert all(np.isfinite(panel.colorbar.levels()))


def test_path_legend_names_both_paths(panel, state):
    def plain(key: str) -> str:          # (a word joiner keeps "dL/dC" on one line)
        return panel.headers[key].full_text().replace("\u2060", "")

    text = plain("path")
    assert "along the cell state (through f)" in text and "through h (gates and W_hh)" in text
    assert state.theme.gate_colors["f"] in text
    assert "dL/dC" in plain("norm")
    net = Network(init_params("gru", 2, 3, seed=1))
    state.set_model(net, np.zeros((4, 2)))
    assert "through z" in plain("path")
    assert "dL/dC" not in plain("norm") and "dL/dh" in plain("norm")


def test_curves_are_thin_drafts_while_an_edit_drags_on_then_full(qtbot, panel, state):
    from lstm_viz.ui.kit import DRAFT_WITHIN_MS, SETTLE_MS

    _lstm_model(state)
    curves = [*panel.norm_curves.values(), *panel.path_curves.values()]
    net = state.network
    qtbot.waitUntil(lambda: not any(c.draft for c in curves), timeout=SETTLE_MS + 1000)
    qtbot.wait(DRAFT_WITHIN_MS + 50)                   # a pause: the next edit is not a drag
    for k in range(3):                                 # edits in quick succession: a drag
        state.set_network(net.with_(params=net.params.with_value("bias_hh_l0", 0, 0.1 * k)))
        assert all(c.draft for c in curves) == (k > 0)
    # the numbers are the new trace's even while drawn as drafts
    np.testing.assert_allclose(panel.norm_curves["h"].values[1],
                               _gapped(np.linalg.norm(state.trace.dL_dh, axis=1)), rtol=1e-12)
    qtbot.waitUntil(lambda: not any(c.draft for c in curves), timeout=SETTLE_MS + 1000)


def test_a_step_reached_only_along_the_cell_state_is_not_called_zero(panel, state):
    # The demo's latch has no recurrent weights on h: early steps get dL/dh = 0 exactly
    # while dL/dC carries the gradient back (found by the hover audit: it said "Exactly zero").
    tr = state.trace
    early = [t for t in range(tr.loss_step) if not tr.dL_dh[t].any() and tr.dL_dc[t].any()]
    assert early                                   # the case exists in the demo
    for t in early:
        tip = panel.hover_text(panel.norm_view, 0, t, 0.0)
        assert "zero (a gap" not in tip.lower()
        assert f"‖dL/dCₜ‖ = {fmt(np.linalg.norm(tr.dL_dc[t]))}" in tip
        assert "only along the cell state" in tip
    after = panel.hover_text(panel.norm_view, 0, tr.loss_step, 0.0)
    assert "only along the cell state" not in after


def test_the_norms_tool_tip_follows_an_edit_under_a_resting_mouse_and_goes_off_the_plot(
        qtbot, panel, state):
    import time

    from PySide6.QtCore import QPointF

    v = panel.norm_view
    vb = v.plots[0].getViewBox()
    (x0, x1), (y0, y1) = vb.viewRange()
    box = vb.sceneBoundingRect()
    axis = v.mapFromScene(QPointF(box.left() - 15, box.center().y()))
    on_step = v.mapFromScene(vb.mapViewToScene(QPointF(3.0, (y0 + y1) / 2)))
    qtbot.mouseMove(v.viewport(), axis)
    time.sleep(0.012)                                        # pyqtgraph's mouse rate limit
    qtbot.mouseMove(v.viewport(), on_step)
    qtbot.waitUntil(lambda: v.toolTip().startswith("Step 3"))
    params = state.network.params
    b = params.bias_ih.copy()
    b[params.gate_rows("f")] -= 2.0                          # the cell forgets more
    state.set_network(Network(params.replace(bias_ih=b)))
    new = fmt(np.linalg.norm(state.trace.dL_dc[2]))
    assert f"‖dL/dCₜ‖ = {new}" in v.toolTip()
    time.sleep(0.012)
    qtbot.mouseMove(v.viewport(), axis)
    qtbot.waitUntil(lambda: v.toolTip() == "")


def test_the_paths_hover_says_how_the_split_is_made(panel, state):
    _lstm_model(state)
    s = state.trace.loss_step
    before = panel.hover_text(panel.path_view, 0, s - 1, 0.0)
    assert "Along C: dL/dCₜ₊₁ ⊙ fₜ₊₁" in before and "Through h: dL/dhₜ ⊙ oₜ ⊙ (1 − tanh²Cₜ)" in before
    assert "loss's own term" not in before
    assert "loss's own term (½‖hₛ − y‖², whose slope is hₛ − y)" in panel.hover_text(panel.path_view, 0, s, 0.0)
    state.set_model(Network(init_params("gru", 2, 3, seed=1)), np.zeros((4, 2)))
    assert "dL/dhₜ₊₁ ⊙ zₜ₊₁" in panel.hover_text(panel.path_view, 0, 1, 0.0)


def test_a_zero_saliency_bar_is_not_called_a_gap_on_a_log_axis(panel, state):
    _lstm_model(state)
    state.set_loss_step(4)
    tip = panel.hover_text(panel.saliency_view, 0, 7, 0.0)          # after the loss step: 0
    assert "cannot change the loss" in tip and "log axis" not in tip
    assert "a gap on the log axis" in panel.hover_text(panel.norm_view, 0, 7, 0.0)


def test_the_demos_tokens_sit_under_the_saliency_bars_at_1920x1080(qtbot, state, make_window):
    """Each token is centred on its step: neighbours clear each other when a step is as
    wide as half of each plus a space. The widest token's width for every step was too
    strict for the demo's 14 short tokens at 1920x1080 (they need ~220 px of 260)."""
    from lstm_viz.ui.main_window import BOTTOM_GRADIENTS

    w = make_window(state, size=(1920, 1080))
    w.resize_for_layout(1920, 1080)
    w.bottom.setCurrentIndex(BOTTOM_GRADIENTS)
    panel = w.gradients
    qtbot.waitUntil(lambda: panel.saliency_view.plots[0].getViewBox().width() > 100, timeout=2000)
    for v in panel.views:
        v.update_ticks()
    ticks = panel.saliency_view.plots[0].getAxis("bottom")._tickLevels
    assert ticks and [lab for _, lab in ticks[0]] == list(state.labels)
    # and where they would collide, step numbers instead
    state.set_inputs(state.inputs, ["a-long-token"] * state.steps)
    for v in panel.views:
        v.update_ticks()
    assert panel.saliency_view.plots[0].getAxis("bottom")._tickLevels is None


def test_the_loss_step_row_is_never_cut_by_a_long_sequence(qtbot, panel, state):
    from lstm_viz.ui.gradients import CONTROLS_WIDTH

    assert panel.controls.width() == CONTROLS_WIDTH            # the demo: the usual column
    for T in (1000, 20000):
        x = np.zeros((T, state.inputs.shape[1]))
        state.set_inputs(x, [str(t) for t in range(T)])
        assert panel.loss_spin.maximum() == T
        for w in (panel.loss_spin, panel.loss_here):
            assert w.width() >= w.sizeHint().width(), (T, w)
        assert panel.loss_here.geometry().right() <= panel.controls.contentsRect().right()


def test_a_long_check_goes_on_between_events_and_can_be_stopped(qtbot, panel, state, monkeypatch):
    """A check longer than CHECK_WAIT_MS (thousands of steps) works an entry at a time
    between events: its progress shows, the button stops it, an edit stops it, and the
    result it reaches is the one the whole check gives at once."""
    from lstm_viz.model.gradcheck import check_gradients
    from lstm_viz.ui import gradients

    _lstm_model(state)
    monkeypatch.setattr(gradients, "CHECK_WAIT_MS", 0.0)      # every check is a long one
    monkeypatch.setattr(gradients, "CHECK_SLICE_MS", 0.0)
    qtbot.mouseClick(panel.check_button, Qt.MouseButton.LeftButton)
    assert panel.checking and panel.last_check is None
    assert panel.check_label.text().startswith("Checking… 1 of 34 entries compared")
    assert panel.check_button.text() == "Stop checking"
    qtbot.mouseClick(panel.check_button, Qt.MouseButton.LeftButton)       # stop
    assert not panel.checking and panel.check_label.text() == "Check stopped."
    assert panel.check_button.text() == "Check gradients"
    qtbot.mouseClick(panel.check_button, Qt.MouseButton.LeftButton)       # again, then an edit
    assert panel.checking
    state.set_target([0.1, 0.1, 0.1, 0.1])
    assert not panel.checking and "Not checked" in panel.check_label.text()
    qtbot.mouseClick(panel.check_button, Qt.MouseButton.LeftButton)       # to the end
    qtbot.waitUntil(lambda: not panel.checking, timeout=10000)
    whole = check_gradients(state.network, state.inputs, state.target, n=20, seed=0)
    assert panel.last_check == whole
    assert panel.check_label.text().startswith("Exact and numerical agree ✓")
