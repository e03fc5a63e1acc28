"""Frames drawn ahead (`CellDiagramView.draw_ahead`): once stepping pauses, the next
step's repaint is copied from a picture drawn in advance, and every repaint, copied
or not, shows exactly what a fresh paint of the scene as it stands shows."""

import numpy as np
import pytest

from lstm_viz.model import Network, init_params
from lstm_viz.ui.diagram import CellDiagramView
from lstm_viz.ui.kit import PREFETCH_MS


@pytest.fixture
def view(qtbot, state):
    v = CellDiagramView(state)
    qtbot.addWidget(v)
    v.resize(1100, 560)
    v.show()
    qtbot.waitExposed(v)
    state.set_animation_ms(0)
    return v


def _shown(view):
    """The viewport's pixels as a repaint now draws them (copied from a frame or not)."""
    return view.viewport().grab().toImage()


def _fresh(view):
    """The same, painted from the scene (every frame drawn ahead dropped first)."""
    view._frames.clear()
    return view.viewport().grab().toImage()


def _pause(qtbot, view, frames=2):
    """Let stepping pause until the view has drawn its frames ahead."""
    qtbot.waitUntil(lambda: len(view._frames) >= frames, timeout=PREFETCH_MS * 20)


@pytest.mark.parametrize("unit, gradients", [(-1, False), (1, False), (-1, True), (0, True)])
def test_the_step_after_a_pause_is_copied_from_a_frame_and_is_the_same_picture(
        qtbot, view, state, unit, gradients):
    state.set_unit(unit)
    state.set_show_gradients(gradients)
    state.set_timestep(5)
    _pause(qtbot, view, 3)
    scene = view.scene()
    assert scene.timestep == 5                      # drawing ahead put the step shown back
    for t in (6, 5, 4):
        state.set_timestep(t)
        before = view.frame_blits
        shown = _shown(view)
        assert view.frame_blits > before            # copied, not painted again
        assert shown == _fresh(view), t
        assert view.frame_blits == before + 1       # ... and the fresh one was painted
        _pause(qtbot, view, 2)


def test_drawing_ahead_leaves_the_step_shown_and_its_numbers(qtbot, view, state):
    state.set_unit(0)
    state.set_timestep(7)
    before = {k: v.displayed_text() for k, v in view.scene().values.items()}
    _pause(qtbot, view, 3)
    after = {k: v.displayed_text() for k, v in view.scene().values.items()}
    assert after == before and view.scene().timestep == 7
    tr = state.trace
    assert view.scene().shown_values("c")[0] == tr.c[7, 0]


def test_a_hover_between_steps_is_painted_not_copied(qtbot, view, state):
    state.set_timestep(3)
    _pause(qtbot, view, 3)
    state.set_timestep(4)
    state.set_focus("f")                            # the mouse rests on the forget gate
    before = view.frame_blits
    shown = _shown(view)
    assert view.frame_blits == before               # the frame has no highlight: not used
    assert shown == _fresh(view)
    state.set_focus("")
    _pause(qtbot, view, 3)
    state.set_timestep(5)
    before = view.frame_blits
    assert _shown(view) == _fresh(view)
    assert view.frame_blits == before + 1


def test_an_edit_or_a_theme_drops_the_frames_and_paints_the_new_picture(qtbot, view, state):
    state.set_timestep(3)
    _pause(qtbot, view, 3)
    tr = state.trace
    params = init_params(tr.kind, tr.input_size, tr.hidden_size, seed=123)
    state.set_network(Network(params))
    assert not view._frames
    before = view.frame_blits
    assert _shown(view) == _fresh(view) and view.frame_blits == before
    state.set_timestep(4)           # (only a step draws ahead: an edit may be a drag going on)
    _pause(qtbot, view, 3)
    state.set_theme("dark")
    assert not view._frames


def test_no_frame_is_used_while_a_step_animates(qtbot, view, state):
    state.set_timestep(3)
    _pause(qtbot, view, 3)
    state.set_animation_ms(400)
    state.set_timestep(4)                           # animates towards the frame of step 4
    assert view.scene().is_animating()
    before = view.frame_blits
    _shown(view)
    assert view.frame_blits == before
    qtbot.waitUntil(lambda: not view.scene().is_animating(), timeout=3000)
    assert _shown(view) == _fresh(view)


def test_frames_are_kept_within_their_memory(qtbot, view, state, monkeypatch):
    from lstm_viz.ui import diagram

    vp = view.viewport()
    one = round(vp.width() * vp.devicePixelRatioF()) * round(vp.height() * vp.devicePixelRatioF()) * 4
    monkeypatch.setattr(diagram, "FRAME_BYTES", one)        # room for one: two are kept
    for t in (3, 6, 9):
        state.set_timestep(t)
        qtbot.wait(PREFETCH_MS * 4)
        assert len(view._frames) <= 2
    assert np.isfinite(one)
