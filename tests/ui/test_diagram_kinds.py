"""GRU and simple-RNN diagrams, switching cell kinds, and gradient mode on every kind.

Reference values come from the engine's Trace arrays (and, for the gradients, the
trace's dL_* fields), picked here independently of the scene's own series code.
"""

import itertools
import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from lstm_viz.explain import fmt
from lstm_viz.model import Network, Options, init_params
from lstm_viz.ui.diagram import CellDiagramView
from lstm_viz.ui.diagram.scene import GRAD_DECADES, grad_strength, number_text


@pytest.fixture
def view(qtbot, state):
    v = CellDiagramView(state)
    qtbot.addWidget(v)
    v.resize(1300, 700)
    v.show()
    qtbot.waitExposed(v)
    return v


def _use(state, kind, H=3, seed=0, **opts):
    net = Network(init_params(kind, state.network.input_size, H, seed=seed),
                  options=Options(**opts))
    state.set_network(net)
    state.set_target(np.linspace(-0.5, 0.5, H))       # a loss that is not trivially 0
    return state.trace


def _point(view, scene_point):
    return view.mapFromScene(QPointF(*scene_point))


def _gru_expected(tr, t, u):
    h_prev = tr.h0[u] if t == 0 else tr.h[t - 1, u]
    r, z, n = (tr.gates[k][t, u] for k in "rzn")
    hn = tr.preacts["hn"][t, u]
    return {"h_prev": h_prev, "r": r, "z": z, "n": n, "hn": hn, "mul_r": r * hn,
            "one_minus_z": 1 - z, "mul_n": (1 - z) * n, "mul_z": z * h_prev, "h": tr.h[t, u]}


def _rnn_expected(tr, t, u):
    return {"h_prev": tr.h0[u] if t == 0 else tr.h[t - 1, u], "h": tr.h[t, u]}


# ---------------------------------------------------------------- values

@pytest.mark.parametrize("t, u", [(0, 0), (4, 1), (13, 2)])
def test_gru_shows_the_trace_at_step_t(view, state, t, u):
    tr = _use(state, "gru")
    state.set_unit(u)
    state.set_timestep(t)
    scene = view.scene()
    assert scene.kind == "gru" and scene.timestep == t
    th = state.theme
    pre_max = max(1.0, float(np.max(np.abs(tr.preacts["hn"]))),
                  float(np.max(np.abs(tr.gates["r"] * tr.preacts["hn"]))))
    for key, v in _gru_expected(tr, t, u).items():
        assert scene.values[key].displayed_text() == fmt(v), key
        vmax = pre_max if key in ("hn", "mul_r") else 1.0
        assert scene.wires[key].look.color == th.value_color(v, vmax), key
    # The gate boxes are there, in their own colours (open gate: nearly solid).
    for key in "rzn":
        assert scene.nodes[key].spec.color == key
    assert f"Step {t + 1} of {tr.steps}" in scene.caption.text()


@pytest.mark.parametrize("t, u", [(0, 0), (7, 2)])
def test_rnn_shows_the_trace_at_step_t(view, state, t, u):
    tr = _use(state, "rnn")
    state.set_unit(u)
    state.set_timestep(t)
    scene = view.scene()
    assert scene.kind == "rnn" and set(scene.nodes) == {"a"}
    for key, v in _rnn_expected(tr, t, u).items():
        assert scene.values[key].displayed_text() == fmt(v), key
        assert scene.wires[key].look.color == state.theme.value_color(v, 1.0), key
    assert scene.nodes["a"].look.text == fmt(tr.h[t, u])


def test_gru_all_units_strips_are_the_gate_vectors(view, state):
    tr = _use(state, "gru", H=4)
    state.set_unit(-1)
    state.set_timestep(6)
    cells = view.scene().wires["z"].look.cells
    want = state.theme.value_rgb(tr.gates["z"][6], 1.0)
    assert [c.getRgb()[:3] for c in cells] == [tuple(int(v) for v in w) for w in want]


# ---------------------------------------------------------------- hover and click

def test_gru_hover_substitutes_the_trace_numbers(qtbot, view, state):
    tr = _use(state, "gru")
    state.set_unit(1)
    state.set_timestep(5)
    scene = view.scene()
    node = scene.nodes["n"]
    qtbot.mouseMove(view.viewport(), _point(view, node.spec.center))
    qtbot.waitUntil(lambda: state.focus == "n")
    tip = node.toolTip()
    r, hn, pre, n = (tr.gates["r"][5, 1], tr.preacts["hn"][5, 1], tr.preacts["n"][5, 1],
                     tr.gates["n"][5, 1])
    assert "Candidate" in tip
    assert f"tanh({fmt(pre - r * hn)} + {fmt(r)}·{fmt(hn)}) = tanh({fmt(pre)}) = {fmt(n)}" in tip
    assert "Click to edit its weights" in tip and "b<sub>hn</sub>" in tip
    # The kept-state product on the top line.
    qtbot.mouseMove(view.viewport(), _point(view, scene.wires["mul_z"].spec.anchor))
    qtbot.waitUntil(lambda: state.focus == "mul_z")
    z, hp = tr.gates["z"][5, 1], tr.h[4, 1]
    assert f"{fmt(z)}·{fmt(hp)} = {fmt(z * hp)}" in scene.wires["mul_z"].toolTip()


def test_rnn_hover_substitutes_the_trace_numbers(qtbot, view, state):
    tr = _use(state, "rnn")
    state.set_unit(0)
    state.set_timestep(3)
    scene = view.scene()
    node = scene.nodes["a"]
    qtbot.mouseMove(view.viewport(), _point(view, node.spec.center))
    qtbot.waitUntil(lambda: state.focus == "a")
    assert f"tanh({fmt(tr.preacts['a'][3, 0])}) = {fmt(tr.h[3, 0])}" in node.toolTip()


@pytest.mark.parametrize("kind, keys", [("gru", ["r", "z", "n", "h_prev"]),
                                        ("rnn", ["a", "h_prev"])])
def test_clicking_a_gate_or_the_state_input_activates_its_key(qtbot, view, state, kind, keys):
    _use(state, kind)
    scene = view.scene()
    for key in keys:
        at = scene.nodes[key].spec.center if key in scene.nodes else scene.wires[key].spec.anchor
        with qtbot.waitSignal(state.activated, timeout=1000) as blocker:
            qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=_point(view, at))
        assert blocker.args == [key]
    assert set(keys) <= set(scene.clickable_keys())


def test_clicking_a_gru_operation_activates_nothing(qtbot, view, state):
    _use(state, "gru")
    scene = view.scene()
    got = []
    state.activated.connect(got.append)
    for key in ("mul_r", "one_minus_z", "mul_n", "add"):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                         pos=_point(view, scene.nodes[key].spec.center))
    assert got == []


# ---------------------------------------------------------------- switching kinds

def test_switching_kind_rebuilds_the_picture(view, state):
    scene = view.scene()
    assert scene.kind == "lstm" and "f" in scene.nodes
    _use(state, "gru")
    assert scene.kind == "gru"
    assert set(scene.nodes) == {"r", "z", "n", "mul_z", "one_minus_z", "mul_r", "mul_n", "add"}
    assert "c" not in scene.wires and "c_prev" not in scene.wires
    assert view.accessibleName() == "GRU cell diagram"
    # Only the new items are in the scene.
    assert all(getattr(it, "key", "") not in ("f", "c_prev") for it in scene.items())
    assert scene.nodes["z"].look is not None                 # fed at once
    _use(state, "rnn")
    assert scene.kind == "rnn" and set(scene.nodes) == {"a"}
    assert view.accessibleName() == "Simple RNN cell diagram"
    state.set_network(Network(init_params("lstm", state.network.input_size, 3, seed=1)))
    assert scene.kind == "lstm" and set("figo") <= set(scene.nodes)
    assert scene.values["c"].displayed_text() == "" or scene.values["c"].displayed_text()


def test_switching_kind_keeps_theme_focus_and_step(view, state):
    state.set_theme("dark")
    state.set_font_scale(1.5)
    state.set_unit(0)
    state.set_timestep(6)
    state.set_focus("h")
    _use(state, "gru")
    scene = view.scene()
    assert scene.backgroundBrush().color().name() == state.theme.background.lower()
    assert scene.wires["h"].highlighted
    assert scene.timestep == 6
    assert scene.values["h"].displayed_text() == fmt(state.trace.h[6, 0])


# ---------------------------------------------------------------- gradient mode

def _grad_expected(tr, t, u):
    """dL/d(element) for unit u at step t, straight from the trace's gradient fields."""
    H = tr.hidden_size
    pre = {g: tr.dL_dpre[t, k * H + u] for k, g in enumerate({"lstm": "ifgo", "gru": "rzn",
                                                                "rnn": "a"}[tr.kind])}
    dh = tr.dL_dh[t, u]
    dh_prev = tr.dL_dh0[u] if t == 0 else tr.dL_dh[t - 1, u]
    if tr.kind == "lstm":
        dc = tr.dL_dc[t, u]
        return {**pre, "h_prev": dh_prev, "c_prev": tr.dL_dc0[u] if t == 0 else tr.dL_dc[t - 1, u],
                "c": dc, "mul_f": dc, "mul_i": dc, "tanh_c": dh * tr.gates["o"][t, u], "h": dh}
    if tr.kind == "gru":
        return {**pre, "h_prev": dh_prev, "hn": pre["n"] * tr.gates["r"][t, u],
                "mul_r": pre["n"], "one_minus_z": dh * tr.gates["n"][t, u], "mul_n": dh,
                "mul_z": dh, "h": dh}
    return {"a": pre["a"], "h_prev": dh_prev, "h": dh}


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("t", [0, 6, 13])
def test_gradient_mode_shows_the_trace_gradients_at_step_t(view, state, kind, t):
    tr = _use(state, kind)
    state.set_unit(1)
    state.set_timestep(t)
    with_signal = []
    state.gradients_shown.connect(with_signal.append)
    state.set_show_gradients(True)
    assert with_signal == [True]
    scene = view.scene()
    assert scene.gradient_mode
    grads = [np.abs(a).max() for a in (tr.dL_dh, tr.dL_dx, tr.dL_dpre, tr.dL_dh0)]
    if kind == "lstm":
        grads += [np.abs(tr.dL_dc).max(), np.abs(tr.dL_dc0).max()]
    gmax = max(float(g) for g in grads)
    for key, g in _grad_expected(tr, t, 1).items():
        assert scene.shown_values(key)[1] == pytest.approx(g, rel=1e-12, abs=1e-300), key
        shown = scene.values[key].displayed_text() if key in scene.values else \
            scene.nodes[key].look.text
        assert shown == number_text(g), key
        if key in scene.wires:
            assert scene.wires[key].look.color == state.theme.value_color(
                float(grad_strength(g, gmax)), 1.0), key
    assert scene.shown_values("x") == pytest.approx(tr.dL_dx[t])
    assert scene.caption.text().endswith("· dL/d(·)")
    assert "loss at step 14" in scene.legend.note()
    assert f"±{fmt(gmax)}" in scene.legend.note() and scene.legend.note_fits()


def test_gradient_strength_is_a_signed_log_scale():
    g = np.array([1.0, -0.1, 0.01, 1e-3, 1e-5, 0.0, 2.0])
    m = grad_strength(g, 1.0)
    assert GRAD_DECADES == 3
    assert m == pytest.approx([1.0, -2 / 3, 1 / 3, 0.0, 0.0, 0.0, 1.0])
    assert np.all(grad_strength(g, 0.0) == 0.0)


def test_a_larger_gradient_makes_a_wider_wire(view, state):
    _use(state, "lstm")
    state.set_unit(0)
    state.set_show_gradients(True)
    state.set_timestep(state.trace.loss_step)
    scene = view.scene()
    widths = {k: w.core_width for k, w in scene.wires.items()}
    mags = {k: abs(scene.shown_values(k)[0]) for k in scene.wires if k != "x"}
    big, small = max(mags, key=mags.get), min(mags, key=mags.get)
    assert mags[big] > 10 * mags[small]
    assert widths[big] > widths[small] > 0
    state.set_show_gradients(False)
    assert all(w.core_width == 0 for w in scene.wires.values())     # back to normal wires


def test_steps_after_the_loss_step_carry_no_gradient_and_say_so(view, state):
    _use(state, "gru")
    state.set_loss_step(4)
    state.set_unit(0)
    state.set_show_gradients(True)
    state.set_timestep(9)
    scene = view.scene()
    assert all(not np.any(scene.shown_values(k)) for k in scene.wires)
    assert scene.caption.text().endswith("dL/d(·) = 0")
    assert "loss at step 5 (0 for what later steps compute)" in scene.legend.note()
    tip = scene.tooltip_html("h")
    assert "dL/d" in tip and "comes after the loss step (step 5)" in tip


@pytest.mark.parametrize("kind, named", [("lstm", "only hₜ₋₁ and Cₜ₋₁ non-zero"),
                                         ("gru", "only hₜ₋₁ non-zero")])
def test_the_step_after_the_loss_step_brings_in_the_loss_steps_gradient(view, state, kind, named):
    tr = _use(state, kind)
    state.set_loss_step(4)
    state.set_unit(0)
    state.set_show_gradients(True)
    state.set_timestep(5)
    scene = view.scene()
    tr = state.trace
    incoming = {"h_prev": tr.dL_dh[4]} | ({"c_prev": tr.dL_dc[4]} if kind == "lstm" else {})
    for k in scene.wires:
        if k in incoming:
            assert scene.shown_values(k)[0] == incoming[k][0] != 0.0, k
        else:
            assert not np.any(scene.shown_values(k)), k
    assert scene.caption.text().endswith("dL/d(·): " + named)
    assert "comes after" not in scene.tooltip_html("h_prev")


def test_gradient_hover_names_the_gradient_and_its_number(qtbot, view, state):
    tr = _use(state, "lstm")
    state.set_unit(2)
    state.set_timestep(12)
    state.set_show_gradients(True)
    scene = view.scene()
    qtbot.mouseMove(view.viewport(), _point(view, scene.wires["c"].spec.anchor))
    qtbot.waitUntil(lambda: state.focus == "c")
    tip = scene.wires["c"].toolTip()
    assert f"= {fmt(tr.dL_dc[12, 2])}" in tip
    assert "how much the loss changes per unit change of the cell state at step 13" in tip.lower()
    state.set_show_gradients(False)                         # the hover follows the mode
    assert "Cell state" in scene.wires["c"].toolTip()


def test_backward_steps_animate_in_reverse_only_in_gradient_mode(view, state):
    scene = view.scene()
    state.set_unit(0)
    state.set_animation_ms(400)
    state.set_timestep(8)
    state.step(-1)                                   # forward mode: a jump back is immediate
    assert not scene.is_animating()
    state.step(1)                                    # forward mode: forward animates, inputs first
    assert scene.is_animating() and not scene.animating_backward
    scene._on_phase(0.1)
    assert scene.wires["x"].progress > 0 and scene.wires["h"].progress == 0
    state.set_show_gradients(True)
    assert not scene.is_animating()
    state.step(1)                                    # gradient mode: forward is immediate
    assert not scene.is_animating()
    state.step(-1)                                   # ... and backward plays the backward pass
    assert scene.animating_backward
    scene._on_phase(0.1)                             # output first
    assert scene.wires["h"].progress > 0 and scene.wires["x"].progress == 0
    assert scene.nodes["f"].progress == 0
    scene._on_phase(0.7)                             # then the gates
    assert scene.nodes["f"].progress > 0 and scene.wires["c_prev"].progress == 0
    scene._on_phase(1.0)
    assert all(item.progress == 1.0 for item in scene.element_items())


# ---------------------------------------------------------------- legibility

def _text_rects(scene):
    out = [(f"label {lab.key}", lab.sceneBoundingRect()) for lab in scene.labels]
    out += [(f"number {k}", v.text_rect()) for k, v in scene.values.items() if v.displayed_text()]
    out += [(f"node {k}", n.shape().boundingRect()) for k, n in scene.nodes.items()]
    out.append(("caption", scene.caption.sceneBoundingRect()))
    return out


@pytest.mark.parametrize("kind", ["gru", "rnn"])
@pytest.mark.parametrize("scale", [0.8, 1.0, 1.5, 2.1])
@pytest.mark.parametrize("unit, grad", [(-1, False), (0, False), (0, True)])
def test_no_text_overlaps_or_leaves_the_picture(view, state, kind, scale, unit, grad):
    _use(state, kind)
    state.set_font_scale(scale)
    state.set_unit(unit)
    state.set_timestep(10)
    state.set_show_gradients(grad)
    scene = view.scene()
    rects = _text_rects(scene)
    for (a, ra), (b, rb) in itertools.combinations(rects, 2):
        assert not ra.intersects(rb), (a, b)
    for name, r in rects:
        assert scene.sceneRect().contains(r), name
    for key, wire in scene.wires.items():
        if wire.look.cells:
            for name, r in rects:
                if not name.endswith(" " + key):
                    assert not r.intersects(wire.strip_rect), (key, name)
    assert scene.legend.note_fits()


def test_tiny_gradients_fit_the_room_of_a_value():
    assert number_text(-4.3e-7) == "−4e−7"
    assert number_text(0.031) == fmt(0.031)
    assert len(number_text(-1.5e-12)) <= len("−0.000")
    assert not math.isnan(float(number_text(2.5e-5).replace("−", "-")))


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_click_hints_name_the_weights_as_the_equations_write_them(kind):
    import re

    from lstm_viz import explain
    from lstm_viz.ui.diagram.scene import CLICK_HINTS

    written = " ".join(text for _, text in explain.equations(kind))
    for key, hint in CLICK_HINTS[kind].items():
        for name in re.findall(r"\b[Wb]_\w+", hint):
            if name not in ("b_r", "b_z", "b"):                 # sums the hint spells out
                assert name in written, (key, name)
