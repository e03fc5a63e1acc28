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

Use `edit` rather than pushing commands by hand: it pushes only when the new
network really differs from the current one.
"""

from __future__ import annotations

from typing import Hashable

from PySide6.QtGui import QUndoCommand, QUndoStack

from ..model import Network
from ..state import AppState, _same_network

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
        if _same_network(self._old, self._new):
            self.setObsolete(True)          # QUndoStack drops it: nothing changed overall
        return True


def edit(stack: QUndoStack, state: AppState, new_net: Network, text: str,
         merge_key: Hashable | None = None) -> bool:
    """Push a `SetNetworkCommand` from ``state.network`` to ``new_net`` if they differ.

    Returns True if a command was pushed (the state now holds ``new_net``).
    """
    old = state.network
    if _same_network(old, new_net):
        return False
    stack.push(SetNetworkCommand(state, old, new_net, text, merge_key))
    return True
