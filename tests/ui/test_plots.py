"""Trace plots: the lines show the trace, the cursor follows the time step, clicks move it."""

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from lstm_viz.explain import fmt
from lstm_viz.model import Network, init_params
from lstm_viz.ui.plots import UNIT_STYLES, TracePlots, peak_decimate


@pytest.fixture
def plots(qtbot, state):
    w = TracePlots(state)
    qtbot.addWidget(w)
    w.resize(1200, 320)
    w.show()
    qtbot.waitExposed(w)
    return w


def _series(tr):
    return (("c", {"c": tr.c}), ("h", {"h": tr.h}), ("gates", {k: tr.gates[k] for k in "fiog"}))


def _wider(state, H=8, T=40, seed=5):
    """Load an LSTM with H units (more units than line styles when H > 5)."""
    net = Network(init_params("lstm", 2, H, seed=seed))
    x = np.random.default_rng(seed).normal(size=(T, 2))
    state.set_model(net, x, [str(k) for k in range(T)])


def _view_pixel(panel, t):
    """Viewport pixel of 0-based step t, halfway up the plot."""
    scene_pt = panel.step_to_scene(t, 0.5)
    return panel.mapFromScene(scene_pt)


def test_lines_hold_the_trace_of_the_focused_unit(plots, state):
    tr = state.trace
    T = tr.steps
    state.set_unit(1)
    for panel, series in _series(tr):
        p = plots.panels[panel]
        for key, arr in series.items():
            for u in range(tr.hidden_size):
                drawn = p.unit_data(key, u)
                if u != 1:
                    assert drawn is None
                    continue
                np.testing.assert_array_equal(drawn[0], np.arange(1, T + 1))
                np.testing.assert_array_equal(drawn[1], arr[:, u])
                assert p.line(key).isVisible()


def test_all_units_show_the_trace(plots, state):
    _wider(state, H=8)
    tr = state.trace
    for panel, series in _series(tr):
        p = plots.panels[panel]
        for key, arr in series.items():
            assert p.line(key).units() == list(range(8)) and p.line(key).isVisible()
            for u in range(8):
                x, y = p.unit_data(key, u)
                np.testing.assert_array_equal(x, np.arange(1, tr.steps + 1))
                np.testing.assert_array_equal(y, arr[:, u])


def test_units_are_told_apart_by_line_style_and_the_focused_unit_stands_out(qtbot, plots, state):
    _wider(state, H=8)
    p = plots.panels["h"]
    qtbot.waitUntil(lambda: not p.draft)          # full-width lines once changes pause
    styles = [p.line("h").pen(u).style() for u in range(8)]
    assert styles == [UNIT_STYLES[u % len(UNIT_STYLES)] for u in range(8)]
    all_width = p.line("h").pen(0).widthF()
    state.set_unit(6)
    qtbot.waitUntil(lambda: not p.draft)
    assert p.line("h").units() == [6]
    pen = p.line("h").pen(6)
    assert pen.style() == Qt.PenStyle.SolidLine
    assert pen.widthF() > all_width
    np.testing.assert_array_equal(p.unit_data("h", 6)[1], state.trace.h[:, 6])
    assert p.unit_data("h", 0) is None


def test_lines_follow_a_new_trace(plots, state):
    net = Network(init_params("lstm", 2, 4, seed=5))
    x = np.random.default_rng(0).normal(size=(30, 2))
    state.set_model(net, x, [str(k) for k in range(30)])
    p = plots.panels["c"]
    np.testing.assert_array_equal(p.unit_data("c", 3)[1], state.trace.c[:, 3])
    assert p.unit_data("c", 3)[0][-1] == 30
    assert p.unit_data("c", 4) is None               # no fifth unit any more


def test_a_weight_change_redraws_every_panel_once(qtbot, plots, state):
    qtbot.wait(10)
    counts = {k: 0 for k in plots.panels}
    vps = {p.viewport(): k for k, p in plots.panels.items()}

    class Count(QObject):
        def eventFilter(self, obj, ev):  # noqa: N802 (Qt override)
            if ev.type() == QEvent.Type.Paint and obj in vps:
                counts[vps[obj]] += 1
            return False

    f = Count()
    for vp in vps:
        vp.installEventFilter(f)
    net = state.network
    old_c, old_range = state.trace.c.copy(), plots.panels["c"].vb.viewRange()[1]
    b = net.params.bias_ih                        # the cell input g of unit 0: C_t grows
    state.set_network(net.with_(params=net.params.with_value("bias_ih_l0", 2 * 3, b[6] + 5.0)))
    QApplication.processEvents()
    for vp in vps:
        vp.removeEventFilter(f)
    assert not np.array_equal(old_c, state.trace.c)
    assert plots.panels["c"].vb.viewRange()[1] != old_range      # the y axis changed too
    np.testing.assert_array_equal(plots.panels["c"].unit_data("c", 0)[1], state.trace.c[:, 0])
    assert counts == {"c": 1, "h": 1, "gates": 1}


def test_cell_state_range_holds_every_line(plots, state):
    _wider(state, H=8, seed=3)
    p = plots.panels["c"]
    lo, hi = p.vb.viewRange()[1]
    assert lo <= state.trace.c.min() and hi >= state.trace.c.max()


def test_a_relu_forget_gate_above_one_stays_in_view(plots, state):
    from lstm_viz.model import Options

    p = plots.panels["gates"]
    assert p.vb.viewRange()[1][1] < 1.2                      # gates live on [-1, 1]
    state.set_options(Options(forget_activation="relu"))
    f = state.trace.gates["f"]
    assert f.max() > 2.0                                     # the demo's f goes well past 1
    lo, hi = p.vb.viewRange()[1]
    assert hi >= f.max() and lo <= -1.0
    state.set_options(Options())
    assert p.vb.viewRange()[1][1] < 1.2


def test_gate_lines_use_the_gate_colours(plots, state):
    p = plots.panels["gates"]
    for k in "fiog":
        assert p.line(k).pen(0).color() == state.theme.gate_color(k)


def test_cursor_line_sits_at_the_time_step(plots, state):
    for t in (0, 7, state.steps - 1):
        state.set_timestep(t)
        for p in plots.panels.values():
            assert p.cursor.value() == t + 1


@pytest.mark.parametrize("panel", ["c", "h", "gates"])
def test_clicking_a_plot_moves_the_cursor(qtbot, plots, state, panel):
    p = plots.panels[panel]
    for k in (9, 4):
        pos = _view_pixel(p, k)
        qtbot.mouseClick(p.viewport(), Qt.MouseButton.LeftButton, pos=pos)
        assert state.timestep == k
        assert p.cursor.value() == k + 1


def test_hover_shows_the_value_under_the_mouse(qtbot, plots, state):
    p = plots.panels["c"]
    state.set_unit(0)
    t = 5
    y = float(state.trace.c[t, 0])
    scene_pt = p.vb.mapViewToScene(QPointF(t + 1, y))
    qtbot.mouseMove(p.viewport(), p.mapFromScene(scene_pt))
    qtbot.waitUntil(lambda: p.hover_text.isVisible())
    assert p.hover_value == y
    assert f"step {t + 1}" in p.hover_text.toPlainText()


def test_the_hover_follows_an_edit_made_while_the_mouse_rests_then_goes_off_the_plot(
        qtbot, plots, state):
    # found by the hover audit: after an undo or an edit under a resting mouse the label
    # and the tool tip kept the old number, and off the plot the tool tip stayed
    p = plots.panels["c"]
    state.set_unit(0)
    t = 5
    scene_pt = p.vb.mapViewToScene(QPointF(t + 1, float(state.trace.c[t, 0])))
    box = p.vb.sceneBoundingRect()
    axis = p.mapFromScene(QPointF(box.left() - 15, box.center().y()))
    qtbot.mouseMove(p.viewport(), axis)                     # (where the mouse was does not matter)
    import time
    time.sleep(0.012)                                       # pyqtgraph's mouse rate limit
    qtbot.mouseMove(p.viewport(), p.mapFromScene(scene_pt))
    qtbot.waitUntil(lambda: p.hover_text.isVisible())
    params = state.network.params
    b = params.bias_ih.copy()
    b[params.gate_rows("g")] += 0.5                         # the candidate: C changes
    state.set_network(Network(params.replace(bias_ih=b)))
    new = float(state.trace.c[t, 0])
    assert p.hover_value == new != float(scene_pt.y())
    assert fmt(new)[:4] in p.hover_text.toPlainText() and fmt(new)[:4] in p.toolTip()
    # off the plot area (over the y axis): no label, no tool tip with a number
    time.sleep(0.012)
    qtbot.mouseMove(p.viewport(), axis)
    qtbot.waitUntil(lambda: not p.hover_text.isVisible())
    assert p.toolTip() == ""


def test_a_value_too_small_for_three_decimals_is_not_shown_as_zero():
    from lstm_viz.ui.plots import _fmt
    assert _fmt(4.8e-4) == "4.8e−4" and _fmt(-0.25) == "−0.250" and _fmt(0.0) == "0.000"


def test_heatmap_shows_the_trace(plots, state):
    plots.set_heatmap(True)
    tr = state.trace
    c, g = plots.panels["c"], plots.panels["gates"]
    assert c.image.isVisible() and not any(cv.isVisible() for cv in c.lines.values())
    assert c.unit_data("c", 0) is None
    np.testing.assert_array_equal(c.image.image, tr.c.T)
    np.testing.assert_array_equal(
        g.image.image, np.concatenate([tr.gates[k].T for k in "fiog"]))
    lo, hi = c.image.getLevels()
    assert lo == -hi and hi >= np.max(np.abs(tr.c))
    assert tuple(plots.panels["h"].image.getLevels()) == (-1.0, 1.0)
    assert c.colorbar.isVisible()
    plots.set_heatmap(False)
    assert not c.image.isVisible() and not c.colorbar.isVisible()


def _heatmaps_first(qtbot, state, width, height):
    """TracePlots switched to heatmaps before it is ever shown (no line drawn yet)."""
    w = TracePlots(state)
    qtbot.addWidget(w)
    w.set_heatmap(True)
    w.resize(width, height)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_a_heatmap_shown_first_names_each_gates_band(qtbot, state):
    # (as when the app starts with the heatmap setting saved)
    w = _heatmaps_first(qtbot, state, 1200, 320)
    H = state.trace.hidden_size
    ticks = w.panels["gates"].plot.getAxis("left")._tickLevels[0]
    assert ticks == [(H * k + H / 2, name) for k, name in enumerate(["fₜ", "iₜ", "oₜ", "C̃ₜ"])]


def test_switching_between_lines_and_heatmap_shows_the_current_trace(plots, state):
    plots.set_heatmap(True)
    _wider(state, H=4, seed=7)                     # changed while the heatmap is shown
    plots.set_heatmap(False)
    p = plots.panels["h"]
    np.testing.assert_array_equal(p.unit_data("h", 2)[1], state.trace.h[:, 2])
    _wider(state, H=6, seed=8)                     # changed while the lines are shown
    plots.set_heatmap(True)
    np.testing.assert_array_equal(p.image.image, state.trace.h.T)


def test_a_hidden_panel_shows_the_current_trace_when_shown_again(qtbot, plots, state):
    plots.set_only("c")
    assert plots.visible_panels() == ["c"]
    _wider(state, H=4, seed=9)
    np.testing.assert_array_equal(plots.panels["c"].unit_data("c", 1)[1], state.trace.c[:, 1])
    plots.set_only(None)
    qtbot.waitUntil(lambda: plots.panels["gates"].isVisible())
    g = plots.panels["gates"]
    for k in "fiog":
        np.testing.assert_array_equal(g.unit_data(k, 3)[1], state.trace.gates[k][:, 3])


def test_theme_change_updates_the_plot_background(plots, state):
    p = plots.panels["h"]
    assert p.backgroundBrush().color() == QColor(state.theme.background)
    state.set_theme("dark")
    assert p.backgroundBrush().color() == QColor("#1E1E1E")
    assert p.cursor.pen.color() == QColor(state.theme.accent)


def test_peak_decimation_keeps_every_extreme():
    rng = np.random.default_rng(1)
    Y = rng.normal(size=(1000, 3))
    x, Yd = peak_decimate(Y, 0, 1000, 100)            # 10 steps per column
    assert len(x) == 200 and Yd.shape == (200, 3)
    np.testing.assert_array_equal(x[::2], np.arange(1, 1001, 10))
    np.testing.assert_array_equal(Yd[0::2], Y.reshape(100, 10, 3).min(axis=1))
    np.testing.assert_array_equal(Yd[1::2], Y.reshape(100, 10, 3).max(axis=1))
    x, Yd = peak_decimate(Y, 995, 1000, 100)           # short: unchanged
    np.testing.assert_array_equal(x, [996, 997, 998, 999, 1000])
    np.testing.assert_array_equal(Yd, Y[995:])
    x, Yd = peak_decimate(Y, 0, 1000, 300)             # 4 per block, last block padded
    assert Yd.max() == Y.max() and Yd.min() == Y.min()


def test_a_thousand_steps_are_downsampled(plots, state):
    net = Network(init_params("lstm", 1, 3, seed=2))
    x = np.sin(np.arange(3000) / 50.0)
    state.set_model(net, x, [""] * 3000)
    p = plots.panels["h"]
    h = state.trace.h
    xs, ys = p.unit_data("h", 0)
    assert xs.size < 3000 // 2                        # ~2 points per pixel column
    assert ys.max() == h[:, 0].max() and ys.min() == h[:, 0].min()   # peaks are kept
    p.vb.setXRange(2001, 2100, padding=0)            # zoomed in: every step, exactly
    xs, ys = p.unit_data("h", 0)
    inside = (xs >= 2001) & (xs <= 2100)
    np.testing.assert_array_equal(xs[inside], np.arange(2001, 2101))
    np.testing.assert_array_equal(ys[inside], h[2000:2100, 0])
    state.set_timestep(2500)
    assert p.cursor.value() == 2501


def test_a_drag_draws_fewer_points_keeps_the_peaks_then_every_point(qtbot, plots, state):
    """While the data changes fast (a drag) a dense line keeps about one point per
    pixel, each block's minimum and maximum; once the changes pause, every point."""
    T = 600
    net = Network(init_params("lstm", 2, 3, seed=4))
    x = np.random.default_rng(4).normal(size=(T, 2))
    state.set_model(net, x, [""] * T)
    p = plots.panels["h"]
    qtbot.waitUntil(lambda: not p.draft)
    state.set_network(net.with_(h0=np.full(3, 0.1)))       # two changes in quick
    state.set_network(net.with_(h0=np.full(3, 0.2)))       # succession: a draft
    assert p.draft
    h = state.trace.h
    width = int(p.vb.width())
    assert width < T                                        # the case this is for
    xs, ys = p.unit_data("h", 1)
    assert xs.size <= width + 2
    assert ys.max() == h[:, 1].max() and ys.min() == h[:, 1].min()
    qtbot.waitUntil(lambda: not p.draft)
    xs, ys = p.unit_data("h", 1)
    np.testing.assert_array_equal(xs, np.arange(1, T + 1))
    np.testing.assert_array_equal(ys, h[:, 1])


def test_the_panels_settle_one_after_another(qtbot, plots, state):
    """After a drag pauses, each panel redraws its full-width lines on its own timer,
    SETTLE_STAGGER_MS apart, so a resumed drag never waits for all three redraws."""
    from lstm_viz.ui.plots import PANELS, SETTLE_MS, SETTLE_STAGGER_MS

    intervals = [plots.panels[k]._settle.interval() for k in PANELS]
    assert intervals == [SETTLE_MS + k * SETTLE_STAGGER_MS for k in range(len(PANELS))]
    assert SETTLE_STAGGER_MS >= 16                       # at least a frame apart
    net = state.network
    state.set_network(net.with_(h0=np.full(net.hidden_size, 0.1)))
    state.set_network(net.with_(h0=np.full(net.hidden_size, 0.2)))
    assert all(p.draft for p in plots.panels.values())
    qtbot.waitUntil(lambda: not any(p.draft for p in plots.panels.values()))


def test_a_blown_up_value_breaks_the_line_there(qapp):
    from lstm_viz.ui.plots import UnitLines

    x = np.arange(1.0, 11.0)
    Y = np.column_stack([np.linspace(-1, 1, 10), np.linspace(2, 3, 10)])
    Y[4, 0] = np.nan
    Y[7, 0] = np.inf
    line = UnitLines()
    line.set_units(x, Y, [0, 1])
    xs, ys = line.drawn(0)
    keep = np.isfinite(Y[:, 0])
    np.testing.assert_array_equal(xs, x[keep])
    np.testing.assert_array_equal(ys, Y[keep, 0])
    np.testing.assert_array_equal(line.drawn(1)[1], Y[:, 1])
    assert line.dataBounds(1) == (-1.0, 3.0)           # of the finite values
    assert line.drawn(2) is None


def test_unit_lines_bounds_are_the_data_grown_by_the_pen_in_pixels(qtbot):
    """The pixel's size read off the view box is the one pyqtgraph's device transform
    gives, so the rectangle holds the widest pen's half width all round."""
    import pyqtgraph as pg
    from PySide6.QtGui import QPen

    from lstm_viz.ui.plots import UnitLines

    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(500, 300)
    widget.show()
    qtbot.waitExposed(widget)
    line = UnitLines()
    widget.getPlotItem().addItem(line)
    widget.getPlotItem().setRange(xRange=(0, 12), yRange=(-2, 4), padding=0)
    qtbot.wait(20)
    Y = np.column_stack([np.linspace(-1, 1, 10), np.linspace(2, 3, 10)])
    line.set_units(np.arange(1.0, 11.0), Y, [0, 1])
    pen = QPen(QColor("black"))
    pen.setWidthF(4.0)
    pen.setCosmetic(True)
    line.set_pens({0: pen, 1: pen}, True)
    qtbot.wait(20)
    widget.getPlotItem().getViewBox().updateMatrix()    # (a pending resize, applied now)
    line.viewTransformChanged()
    r = line.boundingRect()
    px, py = line.pixelVectors()
    pad = 4.0 / 2 + 1
    assert r.left() == pytest.approx(1.0 - pad * px.length(), rel=1e-9)
    assert r.right() == pytest.approx(10.0 + pad * px.length(), rel=1e-9)
    assert r.top() == pytest.approx(-1.0 - pad * py.length(), rel=1e-9)
    assert r.bottom() == pytest.approx(3.0 + pad * py.length(), rel=1e-9)


@pytest.mark.parametrize("width", [2.0, 3.0, 4.5])
@pytest.mark.parametrize("style", [Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine])
def test_a_wide_line_drawn_as_thin_copies_inks_about_what_the_wide_pen_does(qapp, width, style):
    """`thin_passes` stands in for a wide antialiased pen: the shifted 1 px copies must
    cover about as many pixels as Qt's own wide stroke, dashes included."""
    from PySide6.QtCore import QPointF as P
    from PySide6.QtGui import QImage, QPainter, QPen, QPolygonF, QTransform

    from lstm_viz.ui.plots import thin_passes

    line = QPolygonF([P(10, 100), P(100, 30), P(200, 160), P(290, 100)])
    pen = QPen(QColor("black"))
    pen.setWidthF(width)
    pen.setCosmetic(True)
    pen.setStyle(style)

    def ink(pen, shifts):
        img = QImage(300, 200, QImage.Format.Format_ARGB32_Premultiplied)
        img.fill(0)
        p = QPainter(img)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(pen)
        for dx, dy in shifts:
            p.setTransform(QTransform.fromTranslate(dx, dy))
            p.drawPolyline(line)
        p.end()
        return np.frombuffer(img.constBits(), np.uint8).reshape(200, 300, 4)[:, :, 3].sum() / 255

    thin, shifts = thin_passes(pen)
    assert thin.widthF() == 1.0 and len(shifts) > 1
    ratio = ink(thin, shifts) / ink(pen, [(0, 0)])
    assert 0.7 < ratio < 1.25


def test_the_row_of_plots_makes_one_choice_of_time_axis(qtbot, state):
    # Token labels where they fit, step numbers where they do not: but a token "1" beside
    # a step 1 in the next plot misleads, so the narrowest plot decides for the row.
    net = Network(init_params("lstm", 2, 3, seed=1))
    T = 12
    state.set_model(net, np.zeros((T, 2)), [f"w{k}" * 2 for k in range(T)])
    w = TracePlots(state)
    qtbot.addWidget(w)
    w.resize(1500, 300)
    w.show()
    qtbot.waitExposed(w)
    w.splitter.setSizes([1000, 250, 250])
    qtbot.wait(20)

    def axis_labels():
        return {k: p.plot.getAxis("bottom").labelText for k, p in w.panels.items()}

    wide = w.panels["c"]
    assert wide.vb.width() > 3 * w.panels["h"].vb.width()
    assert set(axis_labels().values()) == {"step"}
    w.resize(4000, 300)                                   # room for the tokens everywhere
    w.splitter.setSizes([1400, 1300, 1300])
    qtbot.wait(20)
    assert set(axis_labels().values()) == {"input"}
    assert wide.plot.getAxis("bottom")._tickLevels[0][0] == (1.0, "w0w0")


def test_in_a_narrow_panel_the_heatmaps_colour_bar_stays_inside(qtbot, state):
    # A long title used to set the plot's minimum width and push the colour bar (and its
    # numbers) past the panel's edge at laptop sizes.
    w = _heatmaps_first(qtbot, state, 880, 240)
    qtbot.wait(20)
    for key, p in w.panels.items():
        edge = p.mapFromScene(p.colorbar.axis.sceneBoundingRect()).boundingRect().right()
        assert edge <= p.viewport().width(), key


def test_a_title_too_wide_for_its_panel_drops_the_units_and_gets_them_back(qtbot, plots, state):
    """'Gates fₜ iₜ oₜ C̃ₜ · all units' is cut at a narrow panel's edges; there the title
    leaves out which units (the key above the plots says it) and shows them again when
    the panel is wide enough."""
    panel = plots.panels["gates"]
    state.set_unit(-1)
    qtbot.waitUntil(lambda: "all units" in panel.plot.titleLabel.text)
    plots.resize(420, 320)                        # three panels of ~140 px
    qtbot.waitUntil(lambda: "all units" not in panel.plot.titleLabel.text)
    assert panel.plot.titleLabel.text.startswith("Gates")
    plots.resize(1500, 320)
    qtbot.waitUntil(lambda: "all units" in panel.plot.titleLabel.text)
