"""Undoable edits of the model, for one ``QUndoStack``.

Every change the user makes to the network (a weight, a bias, an initial
state, a gate scale, a preset) is one `SetNetworkCommand`: it holds the
network before and after, and ``redo``/``undo`` hand one or the other to
``AppState.set_network``. `Network` and `Params` are immutable, so keeping
references restores the old weights bit for bit.

A drag sends many edits of the same weight; they carry the same *merge key*
(which weight, plus a number that is new for every mouse press), and
``QUndoStack`` folds consecutive commands with equal keys into one step. A
drag that ends where it began leaves no step at all.

Changes of more than the network (a new sequence, a preset, a weights file, a
rebuild for another input width or number of units) are one `SetModelCommand`:
it holds a `ModelSnapshot` of the whole model before and after. Use `change`
for those: like `edit`, it pushes only a real change.

Use `edit` rather than pushing commands by hand: it pushes only when the new
network really differs from the current one.
"""

from __future__ import annotations

from typing import Hashable

from PySide6.QtGui import QUndoCommand, QUndoStack

import numpy as np

from ..model import ModelInputError, Network
from ..state import AppState, ModelSnapshot, same_network

#: ``QUndoCommand.id()`` of network edits that may merge (any value but -1).
MERGE_ID = 0x1577


class SetNetworkCommand(QUndoCommand):
    """Replace the network; undo puts the old one back.

    Parameters
    ----------
    state : AppState
    old_net, new_net : Network
        The network before and after the edit (kept by reference).
    text : str
        What the undo menu shows, e.g. "Set W_hf[1, 2] to 0.35".
    merge_key : hashable, optional
        Consecutive commands with the same key merge into one undo step
        (used for drags); None never merges.
    """

    def __init__(self, state: AppState, old_net: Network, new_net: Network, text: str,
                 merge_key: Hashable | None = None, parent: QUndoCommand | None = None) -> None:
        super().__init__(text, parent)
        self._state = state
        self._old = old_net
        self._new = new_net
        self.merge_key = merge_key

    @property
    def old_network(self) -> Network:
        return self._old

    @property
    def new_network(self) -> Network:
        return self._new

    def redo(self) -> None:  # noqa: D102 (Qt override)
        self._state.set_network(self._new)

    def undo(self) -> None:  # noqa: D102 (Qt override)
        self._state.set_network(self._old)

    def id(self) -> int:  # noqa: A003, D102 (Qt override)
        return -1 if self.merge_key is None else MERGE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt override)
        """Absorb a later command of the same drag; a drag back to the start becomes obsolete."""
        if (not isinstance(other, SetNetworkCommand) or self.merge_key is None
                or other.merge_key != self.merge_key):
            return False
        self._new = other._new
        self.setText(other.text())
        if same_network(self._old, self._new):
            self.setObsolete(True)          # QUndoStack drops it: nothing changed overall
        return True


def edit(stack: QUndoStack, state: AppState, new_net: Network, text: str,
         merge_key: Hashable | None = None) -> bool:
    """Push a `SetNetworkCommand` from ``state.network`` to ``new_net`` if they differ.

    Returns True if a command was pushed (the state now holds ``new_net``).
    """
    old = state.network
    if same_network(old, new_net):
        return False
    stack.push(SetNetworkCommand(state, old, new_net, text, merge_key))
    return True


def same_model(a: ModelSnapshot, b: ModelSnapshot) -> bool:
    """True if two snapshots hold the same network, inputs, texts, names and loss target."""
    ta, tb = a.target, b.target          # None: whatever the state holds (not a change)
    same_target = ta is None or tb is None or (ta.shape == tb.shape and np.array_equal(ta, tb))
    return (same_target and same_network(a.network, b.network) and a.inputs.shape == b.inputs.shape
            and bool(np.array_equal(a.inputs, b.inputs)) and a.labels == b.labels
            and a.caption == b.caption and a.unit_names == b.unit_names
            and a.sequence_text == b.sequence_text and a.encoding == b.encoding
            and a.preset_id == b.preset_id)


class SetModelCommand(QUndoCommand):
    """Replace the whole model (network, inputs, caption, names, sequence text); undo puts it back.

    Parameters
    ----------
    state : AppState
    old, new : ModelSnapshot
        The model before and after (kept by reference: restored bit for bit).
    text : str
        What the undo menu shows, e.g. "Load preset Counter".
    merge_key : hashable, optional
        Consecutive commands with the same key merge (typing a sequence).
    """

    def __init__(self, state: AppState, old: ModelSnapshot, new: ModelSnapshot, text: str,
                 merge_key: Hashable | None = None, parent: QUndoCommand | None = None) -> None:
        super().__init__(text, parent)
        self._state = state
        self._old = old
        self._new = new
        self.merge_key = merge_key

    @property
    def old_model(self) -> ModelSnapshot:
        return self._old

    @property
    def new_model(self) -> ModelSnapshot:
        return self._new

    def redo(self) -> None:  # noqa: D102 (Qt override)
        self._state.restore(self._new)

    def undo(self) -> None:  # noqa: D102 (Qt override)
        self._state.restore(self._old)

    def id(self) -> int:  # noqa: A003, D102 (Qt override)
        return -1 if self.merge_key is None else MERGE_ID + 1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt override)
        """Absorb a later command with the same key; back where it began, it becomes obsolete."""
        if (not isinstance(other, SetModelCommand) or self.merge_key is None
                or other.merge_key != self.merge_key):
            return False
        self._new = other._new
        self.setText(other.text())
        if same_model(self._old, self._new):
            self.setObsolete(True)
        return True


def change(stack: QUndoStack, state: AppState, new: ModelSnapshot, text: str,
           merge_key: Hashable | None = None) -> bool:
    """Push a `SetModelCommand` from ``state.snapshot()`` to ``new`` if they differ.

    Returns True if a command was pushed (the state now holds ``new``).

    Raises
    ------
    ModelInputError
        If the inputs of ``new`` do not fit its network; nothing is pushed.
    """
    x = np.asarray(new.inputs)
    if x.ndim != 2 or x.shape[1] != new.network.input_size or x.shape[0] < 1:
        raise ModelInputError(f"the network takes {new.network.input_size} values per step; "
                              f"the sequence has shape {x.shape}")
    old = state.snapshot()
    if same_model(old, new):
        return False
    stack.push(SetModelCommand(state, old, new, text, merge_key))
    return True
