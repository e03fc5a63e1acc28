"""The cell diagram shows the trace's numbers, explains what is hovered, animates and restyles;
clicking a gate asks for its weights; the picture fills its pane and nothing overlaps."""

import itertools
import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QFontMetricsF

from lstm_viz.explain import fmt
from lstm_viz.ui.diagram import CellDiagramView
from lstm_viz.ui.theme import get_theme


@pytest.fixture
def view(qtbot, state):
    v = CellDiagramView(state)
    qtbot.addWidget(v)
    v.resize(1300, 700)
    v.show()
    qtbot.waitExposed(v)
    return v


def _expected(tr, t, u):
    """Every element's value for unit u at step t, from the trace's stored arrays."""
    c_prev = tr.c0[u] if t == 0 else tr.c[t - 1, u]
    h_prev = tr.h0[u] if t == 0 else tr.h[t - 1, u]
    f, i, g, o = (tr.gates[k][t, u] for k in "figo")
    return {"c_prev": c_prev, "h_prev": h_prev, "f": f, "i": i, "g": g, "o": o,
            "mul_f": f * c_prev, "mul_i": i * g, "c": tr.c[t, u],
            "tanh_c": math.tanh(tr.c[t, u]), "h": tr.h[t, u]}


def _viewport_point(view, scene_point):
    return view.mapFromScene(QPointF(*scene_point))


@pytest.mark.parametrize("t, u", [(0, 0), (2, 0), (10, 1), (11, 2)])
def test_numbers_and_colours_are_the_trace_at_step_t(view, state, t, u):
    tr = state.trace
    state.set_unit(u)
    state.set_timestep(t)
    scene = view.scene()
    assert scene.timestep == t
    th = state.theme
    cmax = max(1.0, float(np.max(np.abs(tr.c))), float(np.max(np.abs(tr.c0))))
    for key, v in _expected(tr, t, u).items():
        assert scene.values[key].displayed_text() == fmt(v), key
        vmax = cmax if key in ("c_prev", "mul_f", "c") else 1.0
        assert scene.wires[key].look.color == th.value_color(v, vmax), key
    assert f"Step {t + 1} of {tr.steps}" in scene.caption.text()


def test_all_units_show_one_strip_cell_per_unit(view, state):
    tr = state.trace
    state.set_unit(-1)
    state.set_timestep(10)
    scene = view.scene()
    cells = scene.wires["f"].look.cells
    assert len(cells) == tr.hidden_size == len(scene.wires["f"].strip_cells)
    want = state.theme.value_rgb(tr.gates["f"][10], 1.0)
    for u in range(tr.hidden_size):
        assert cells[u] == QColor(*(int(c) for c in want[u]))
    assert scene.values["f"].displayed_text() == ""          # no single number for a vector
    assert "one cell per unit" in scene.legend.note()


@pytest.mark.parametrize("hidden, lines", [(3, True), (40, False)])
def test_strip_cells_are_drawn_crisp_with_a_line_between_units(qtbot, view, state, hidden, lines):
    """Each unit's cell is its own colour up to a hairline at each boundary (few units),
    so that two neighbours of one colour still read as two cells; many units' thin
    cells get no lines (they would be mostly lines)."""
    from lstm_viz.model import Network, init_params

    if hidden != state.trace.hidden_size:
        state.set_model(Network(init_params("lstm", 2, hidden, seed=0)), np.zeros((6, 2)))
    state.set_animation_ms(0)
    state.set_unit(-1)
    state.set_timestep(3)
    qtbot.wait(20)
    scene = view.scene()
    wire = scene.wires["f"]
    img = view.viewport().grab().toImage()
    hair = scene._style.hair_pen.color().name()
    cells, colours = wire.strip_cells, wire.look.cells
    assert len(cells) == hidden
    for k in range(1, min(hidden, 6)):
        a, b = cells[k - 1], cells[k]
        # the middle of each cell shows its unit's colour, exactly (no antialiased blend)
        mid = view.mapFromScene(a.center())
        assert img.pixelColor(mid).name() == colours[k - 1].name()
        # along the boundary: the hairline, or (many units) one of the two cells
        edge = view.mapFromScene(QPointF(a.center().x(), b.top()) if wire.spec.vertical
                                 else QPointF(b.left(), a.center().y()))
        seen = {img.pixelColor(edge + d).name() for d in (QPoint(0, 0), QPoint(1, 0), QPoint(0, 1),
                                                           QPoint(-1, 0), QPoint(0, -1))}
        if lines:
            assert hair in seen
        else:
            assert hair not in seen - {colours[k - 1].name(), colours[k].name()}


def test_hover_explains_and_sets_focus(qtbot, view, state):
    state.set_unit(0)
    state.set_timestep(2)
    scene = view.scene()
    node = scene.nodes["f"]
    qtbot.mouseMove(view.viewport(), _viewport_point(view, node.spec.center))
    qtbot.waitUntil(lambda: state.focus == "f")
    tip = node.toolTip()
    assert "Forget gate" in tip
    assert f"σ({fmt(state.trace.preacts['f'][2, 0])}) = {fmt(state.trace.gates['f'][2, 0])}" in tip
    assert "keeps almost all" in tip
    assert node.highlighted and scene.wires["f"].highlighted
    # Move onto the cell-state line: focus follows; off the cell: focus clears.
    qtbot.mouseMove(view.viewport(), _viewport_point(view, scene.wires["c"].spec.anchor))
    qtbot.waitUntil(lambda: state.focus == "c")
    assert "Cell state" in scene.wires["c"].toolTip()
    assert not node.highlighted
    qtbot.mouseMove(view.viewport(), _viewport_point(view, (40.0, 300.0)))
    qtbot.waitUntil(lambda: state.focus == "")


def test_focus_from_elsewhere_highlights_the_element(view, state):
    scene = view.scene()
    state.set_focus("o")
    assert scene.nodes["o"].highlighted and scene.wires["o"].highlighted
    assert not scene.nodes["f"].highlighted
    state.set_focus("")
    assert not scene.nodes["o"].highlighted


def test_stepping_forward_animates_and_lands_on_the_direct_jump(qtbot, view, state):
    state.set_unit(0)
    state.set_animation_ms(150)
    state.set_timestep(4)
    direct = {k: v.displayed_text() for k, v in view.scene().values.items()}
    state.set_timestep(1)
    state.set_timestep(2)
    state.set_timestep(3)
    scene = view.scene()
    assert scene.is_animating()
    state.step(1)                                     # interrupts and animates 3 -> 4
    assert scene.is_animating()
    mid = [item.progress for item in scene.element_items()]
    assert min(mid) < 1.0
    qtbot.waitUntil(lambda: not scene.is_animating(), timeout=5000)
    assert {k: v.displayed_text() for k, v in scene.values.items()} == direct
    assert all(item.progress == 1.0 for item in scene.element_items())


def test_other_jumps_and_zero_duration_are_immediate(view, state):
    scene = view.scene()
    state.set_timestep(5)
    assert not scene.is_animating()
    state.set_animation_ms(0)
    state.step(1)
    assert not scene.is_animating() and scene.timestep == 6


def test_theme_and_font_scale_apply(view, state):
    scene = view.scene()
    label = scene.labels[0]
    size = label.font().pixelSize()
    number = scene.values["c"]._style.value_font.pixelSize()
    state.set_font_scale(1.5)
    assert label.font().pixelSize() > size
    assert scene.values["c"]._style.value_font.pixelSize() > number
    state.set_theme("dark")
    assert scene.backgroundBrush().color() == QColor(get_theme("dark").background)
    state.set_unit(0)
    tr = state.trace
    t = state.timestep
    assert scene.wires["h"].look.color == get_theme("dark").value_color(tr.h[t, 0], 1.0)


# ---------------------------------------------------------------- clicking a gate

@pytest.mark.parametrize("key", ["f", "i", "g", "o"])
def test_clicking_a_gate_box_asks_for_its_weights(qtbot, view, state, key):
    node = view.scene().nodes[key]
    pos = _viewport_point(view, node.spec.center)
    with qtbot.waitSignal(state.activated, timeout=1000) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == [key]
    qtbot.mouseMove(view.viewport(), pos)
    qtbot.waitUntil(lambda: view.viewport().cursor().shape() == Qt.CursorShape.PointingHandCursor)


@pytest.mark.parametrize("key", ["h_prev", "c_prev"])
def test_clicking_an_input_wire_or_its_label_asks_for_it(qtbot, view, state, key):
    scene = view.scene()
    wire_point = _viewport_point(view, scene.wires[key].spec.anchor)
    label_point = view.mapFromScene(scene.items_for(key)[-1].sceneBoundingRect().center())
    for pos in (wire_point, label_point):
        with qtbot.waitSignal(state.activated, timeout=1000) as blocker:
            qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
        assert blocker.args == [key]


def test_clicking_elsewhere_asks_for_nothing(qtbot, view, state):
    scene = view.scene()
    got = []
    state.activated.connect(got.append)
    for key in ("mul_f", "add", "tanh_c"):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                         pos=_viewport_point(view, scene.nodes[key].spec.center))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=_viewport_point(view, (40, 300)))
    assert got == []
    assert scene.nodes["add"].cursor().shape() != Qt.CursorShape.PointingHandCursor


def test_tooltips_of_clickable_elements_say_so(qtbot, view, state):
    scene = view.scene()
    for key in ("f", "i", "g", "o", "h_prev", "c_prev"):
        assert "Click to edit" in scene.tooltip_html(key), key
    assert "Click" not in scene.tooltip_html("add")


# ---------------------------------------------------------------- legibility

def _text_rects(scene):
    """Scene rectangles of everything written: labels, numbers shown, symbols, caption."""
    out = [(f"label {lab.key}", lab.sceneBoundingRect()) for lab in scene.labels]
    out += [(f"number {k}", v.text_rect()) for k, v in scene.values.items() if v.displayed_text()]
    out += [(f"node {k}", n.shape().boundingRect()) for k, n in scene.nodes.items()]
    out.append(("caption", scene.caption.sceneBoundingRect()))
    return out


@pytest.mark.parametrize("theme", ["light", "dark", "contrast"])
@pytest.mark.parametrize("scale", [0.8, 1.0, 1.5, 2.1])
@pytest.mark.parametrize("unit", [-1, 0])
def test_no_text_overlaps_or_leaves_the_picture(view, state, theme, scale, unit):
    state.set_theme(theme)
    state.set_font_scale(scale)
    state.set_unit(unit)
    state.set_timestep(10)
    scene = view.scene()
    rects = _text_rects(scene)
    for (a, ra), (b, rb) in itertools.combinations(rects, 2):
        assert not ra.intersects(rb), (a, b)
    for name, r in rects:
        assert scene.sceneRect().contains(r), name
    for key, wire in scene.wires.items():            # per-unit strips stay clear of the text
        if wire.look.cells:
            for name, r in rects:
                if not name.endswith(" " + key):
                    assert not r.intersects(wire.strip_rect), (key, name)
    assert scene.legend.note_fits()


def test_the_picture_fills_a_wide_pane(qtbot, view):
    for w, h in ((1390, 560), (920, 360)):         # the diagram pane at 1920x1080 and 1280x800
        view.resize(w, h)
        qtbot.waitUntil(lambda: view.viewport().width() == w)
        shown = view.mapFromScene(view.scene().sceneRect()).boundingRect()
        assert shown.width() >= 0.85 * w and shown.height() >= 0.85 * h


def test_focused_numbers_are_big(view, state):
    state.set_unit(0)
    scene = view.scene()
    number = scene.values["f"]._style.value_font
    label = scene.labels[0].font()
    assert number.bold() and number.pixelSize() >= 1.9 * state.theme.base_point_size
    assert label.pixelSize() >= 2.2 * state.theme.base_point_size


def test_a_caption_shown_again_is_laid_out_in_the_current_font(view, state):
    scene = view.scene()
    state.set_timestep(2)
    small = scene.caption.boundingRect().height()
    state.set_timestep(3)
    state.set_font_scale(1.6)
    state.set_timestep(2)                         # the same text as before, bigger type
    assert f"Step 3 of {state.steps}" in scene.caption.text()
    assert scene.caption.boundingRect().height() > 1.3 * small
    state.set_font_scale(1.0)
    state.set_timestep(3)
    state.set_timestep(2)
    assert scene.caption.boundingRect().height() == pytest.approx(small)


def test_wire_colour_index_matches_the_theme_scale_for_odd_values():
    # The diagram indexes the theme's colour table itself (one array call per step); it must
    # land where `Theme.value_rgb` does, NaN in the middle and ±inf at the ends included.
    from lstm_viz.ui.diagram.scene import _lut_index

    th = get_theme("light")
    values = np.array([[np.nan, np.inf, -np.inf, 5.0, -2.0, 0.0, 0.3, -1.2e-9]])
    idx = _lut_index(values, 2.0)
    assert idx[0, :3].tolist() == [128, 255, 0]
    np.testing.assert_array_equal(th._lut_cache()[idx[0], :3], th.value_rgb(values[0], 2.0))


def test_number_ink_is_black_on_light_fills_and_white_on_dark_ones():
    from lstm_viz.ui.diagram.scene import _black_ink

    # luminance 0.2126 R + 0.7152 G + 0.0722 B, against half of 255
    assert _black_ink(QColor("#FFFFFF")) and not _black_ink(QColor("#000000"))
    assert _black_ink(QColor(128, 128, 128)) and not _black_ink(QColor(127, 127, 127))
    assert not _black_ink(QColor(255, 0, 255))          # 0.285 of full luminance
    assert _black_ink(QColor(0, 255, 0))                # 0.715


def test_a_relu_forget_gate_is_written_relu_in_its_box(view, state):
    from lstm_viz.model import Options

    box = view.scene().nodes["f"]
    assert box.symbol == "σ"
    before = view.grab().toImage()
    state.set_options(Options(forget_activation="relu"))
    assert box.symbol == "ReLU" and view.scene().nodes["i"].symbol == "σ"
    assert box.symbol_font() == box._style.word_font            # a word, like "tanh"
    state.set_options(Options())
    assert box.symbol == "σ"
    assert view.grab().toImage() == before


def test_after_a_pause_the_next_steps_are_ready_and_never_stale(qtbot, view, state):
    """Once stepping pauses, the diagram works out the steps beside the one shown (a
    first visit then costs nothing extra); an edit or another unit drops that work, so
    the step shown next is the new trace's."""
    from lstm_viz.model import Network
    from lstm_viz.ui.kit import PREFETCH_MS

    scene = view.scene()
    state.set_animation_ms(0)                 # (a step forward would animate)
    state.set_unit(1)
    state.set_timestep(5)
    qtbot.waitUntil(lambda: {4, 6} <= set(scene._looks_at), timeout=PREFETCH_MS + 2000)
    for t in (4, 6):                                  # the captions are laid out too
        assert scene._caption(t).startswith(f"Step {t + 1} of ")
        assert scene._caption(t) in scene.caption._layouts._layouts
    p = state.network.params
    state.set_network(Network(p.replace(bias_ih=p.bias_ih + 0.7)))         # an edit
    tr = state.trace
    cmax = max(1.0, float(np.max(np.abs(tr.c))), float(np.max(np.abs(tr.c0))))

    def shows(t, u):
        for key, v in _expected(tr, t, u).items():
            assert scene.values[key].displayed_text() == fmt(v), key
            vmax = cmax if key in ("c_prev", "mul_f", "c") else 1.0
            assert scene.wires[key].look.color == state.theme.value_color(v, vmax), key

    state.set_timestep(6)
    shows(6, 1)
    qtbot.waitUntil(lambda: 7 in scene._looks_at, timeout=PREFETCH_MS + 2000)
    state.set_unit(0)                                                       # another unit
    state.set_timestep(7)
    shows(7, 0)


def test_the_legend_names_each_colour_range_once(view, state):
    scene = view.scene()
    tr = state.trace
    assert max(np.max(np.abs(tr.c)), np.max(np.abs(tr.x))) <= 1.0       # the demo stays in ±1
    assert scene.legend.note().startswith(
        "Wire colour = value on one fixed scale, ±1.00 for every wire.")
    H = tr.h.shape[1]
    state.set_network(state.network.with_(c0=np.full(H, -2.5)))      # a cell state past 1
    cmax = max(1.0, float(np.max(np.abs(state.trace.c))), 2.5)
    note = scene.legend.note()
    assert note.startswith("Wire colour = value on a fixed scale: ±1.00 for gates, C̃, tanh(C), h, x; ")
    assert note.count("±") == 2 and f"±{fmt(cmax)} for C." in note


def test_a_cell_state_past_the_display_limit_is_clipped_and_flagged(view, state):
    """A ReLU forget gate of ~6 in the latch: unit 3's C grows sixfold a step, to 3.6e8 at
    step 14. The wires' scale stops at the plots' DISPLAY_LIMIT, as the trace plots do,
    and the legend says how far C went; an overflow to inf keeps the finite scale (it
    used to fall back to ±1)."""
    from lstm_viz.model import Options
    from lstm_viz.ui.plots import DISPLAY_LIMIT

    scene = view.scene()
    state.set_options(Options(forget_activation="relu"))
    peak = float(np.max(np.abs(state.trace.c)))
    assert peak > DISPLAY_LIMIT                                        # the case in question
    state.set_timestep(state.trace.steps - 1)
    note = scene.legend.note()
    assert f"±{fmt(DISPLAY_LIMIT)} for C (⚠ clipped: reaches ±{fmt(peak)})" in note
    v = state.trace.c[-1, 2]                                           # 3.6e8: the scale's end
    state.set_unit(2)
    assert scene.wires["c"].look.color == state.theme.value_color(v, DISPLAY_LIMIT)
    assert scene.wires["c"].look.color == state.theme.value_color(1.0, 1.0)   # full red
    # overflowed: C is inf from some step on, the scale stays the finite values', clipped
    H = state.trace.hidden_size
    state.set_network(state.network.with_(c0=np.full(H, 1e300)))
    assert np.isinf(state.trace.c).any()
    assert "clipped: reaches ±∞ or NaN" in scene.legend.note()
    assert scene._vmax["cell"] == DISPLAY_LIMIT
    state.set_options(Options())
    state.set_network(state.network.with_(c0=np.zeros(H)))
    assert "clipped" not in scene.legend.note()


def test_a_focused_number_sits_on_its_plate(qtbot, view, state):
    """With one unit shown, the focused element's number is drawn on a rounded plate of
    the halo colour (it keeps the number readable over wires). The plate was measured
    after the pen was dropped, when Qt measures nothing: it became a speck at the item's
    corner (an orange dash at the diagram's top left)."""
    from PySide6.QtGui import QImage, QPainter

    state.set_animation_ms(0)
    state.set_timestep(10)
    state.set_unit(0)
    value = view.scene().values["o"]
    state.set_focus("o")
    assert value._halo_alpha() > 0
    r = value._rect
    img = QImage(int(r.right()) + 20, int(r.bottom()) + 20, QImage.Format.Format_ARGB32)
    img.fill(0)                                           # transparent: only the item shows
    p = QPainter(img)
    value.paint(p, None)
    p.end()
    xs, ys = [], []
    for y in range(img.height()):
        for x in range(img.width()):
            if img.pixelColor(x, y).alpha():
                xs.append(x)
                ys.append(y)
    fm = QFontMetricsF(value._style.value_font)
    width = fm.horizontalAdvance(value.displayed_text())
    assert min(xs) >= r.left() - 8 and min(ys) >= r.top() - 4      # around the number ...
    assert max(xs) - min(xs) >= width + 8                           # ... wider than it
    assert max(ys) - min(ys) >= fm.height()


def test_a_step_played_backward_fills_in_from_the_outputs(qtbot, view, state):
    """B on the diagram: every element starts with no gradient, the stages fill in last
    first (h_t and C_t before the gates and x_t), and the step ends as it was."""
    scene = view.scene()
    state.set_animation_ms(400)
    state.set_show_gradients(True)
    state.set_timestep(5)
    end = {k: w.look for k, w in scene.wires.items()}
    scene.play_backward_step()
    assert scene.is_animating()
    zero = state.theme.value_color(0.0, 1.0)
    for key, w in scene.wires.items():                   # from nothing ...
        assert w._from.width == 0.0 and not w._from.text, key
        assert w._from.strip is None or w._from.strip.pixelColor(0, 0) == zero, key
    order = []
    while scene.is_animating():                          # ... the outputs before the inputs
        qtbot.wait(20)
        for key, w in scene.wires.items():
            if key not in order and w.progress > 0.0:
                order.append(key)
    assert order.index("h") < order.index("x") and order.index("c") < order.index("x")
    assert {k: w.look for k, w in scene.wires.items()} == end
    state.set_animation_ms(0)
    scene.play_backward_step()                            # no animation: nothing to play
    assert not scene.is_animating()
