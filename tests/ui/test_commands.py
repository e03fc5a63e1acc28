"""Undo commands: redo/undo hand networks to AppState bit for bit; drags merge into one step."""

import numpy as np
import pytest
from PySide6.QtGui import QUndoStack

from lstm_viz.model import Network, init_params
from lstm_viz.state import AppState
from lstm_viz.ui.commands import SetNetworkCommand, edit


@pytest.fixture
def state():
    net = Network(init_params("lstm", 2, 3, seed=4))
    return AppState(net, np.random.default_rng(1).normal(size=(6, 2)))


def _set(net, name, index, value):
    return net.with_(params=net.params.with_value(name, index, value))


def test_redo_and_undo_restore_exact_networks(state):
    stack = QUndoStack()
    old = state.network
    new = _set(old, "weight_hh", (4, 1), 0.1 + 0.2)
    stack.push(SetNetworkCommand(state, old, new, "Set W_hf[2, 2]"))
    assert state.network is new
    assert state.network.params.weight_hh[4, 1] == 0.1 + 0.2
    stack.undo()
    assert state.network is old
    assert state.network.params.equals(old.params)
    stack.redo()
    assert state.network.params.equals(new.params)
    assert stack.undoText() == "Set W_hf[2, 2]"


def test_edit_pushes_only_real_changes(state):
    stack = QUndoStack()
    same = state.network.with_()                      # equal content, different object
    assert edit(stack, state, same, "nothing") is False
    assert stack.count() == 0
    changed = _set(state.network, "bias_ih", 0, 2.5)
    assert edit(stack, state, changed, "bias") is True
    assert stack.count() == 1


def test_same_merge_key_makes_one_step_and_new_key_a_new_step(state):
    stack = QUndoStack()
    start = state.network
    for v in (0.5, 0.6, 0.7):
        edit(stack, state, _set(state.network, "weight_ih", (1, 0), v), f"to {v}", ("drag", 1))
    assert stack.count() == 1
    assert stack.undoText() == "to 0.7"
    assert state.network.params.weight_ih[1, 0] == 0.7
    edit(stack, state, _set(state.network, "weight_ih", (1, 0), 0.9), "next drag", ("drag", 2))
    assert stack.count() == 2
    stack.undo()
    assert state.network.params.weight_ih[1, 0] == 0.7
    stack.undo()
    assert state.network.params.equals(start.params)


def test_edits_without_key_never_merge(state):
    stack = QUndoStack()
    edit(stack, state, _set(state.network, "weight_ih", (1, 0), 0.5), "a")
    edit(stack, state, _set(state.network, "weight_ih", (1, 0), 0.6), "b")
    assert stack.count() == 2


def test_drag_back_to_start_leaves_no_step(state):
    stack = QUndoStack()
    start = state.network
    original = float(start.params.weight_ih[1, 0])
    edit(stack, state, _set(state.network, "weight_ih", (1, 0), original + 1), "away", ("d", 1))
    edit(stack, state, _set(state.network, "weight_ih", (1, 0), original), "back", ("d", 1))
    assert stack.count() == 0
    assert state.network.params.equals(start.params)
