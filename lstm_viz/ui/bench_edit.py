"""How fast a weight drag is: from one mouse move to the state and the weight editor redrawn.

`bench_drag` builds an `AppState` with a seeded random LSTM (D = 8 inputs), shows a
`WeightEditor` (offscreen is fine), presses on one cell of the forget gate's W_hh and
then moves the mouse one pixel at a time. Each timed step is what one mouse move costs
the user: the move event, the coalesced edit (a new `Network`, the whole trace
recomputed forward and backward, one undo-stack merge), every ``trace_changed``
slot, and the paint events of the editor (``processEvents``). Views other than the
editor are not part of this measurement (the main window's bench covers them).

Run with ``python -m lstm_viz.ui.bench_edit`` (``--quick`` for fewer repeats).
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

#: (T, H) sizes and their targets (median ms per drag step).
SIZES = ((100, 8, 16.0), (500, 32, 33.0))
INPUTS = 8


def bench_drag(quick: bool = False) -> list[dict]:
    """Median time per drag step at T=100, H=8 and T=500, H=32; one dict per size."""
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent, QUndoStack
    from PySide6.QtWidgets import QApplication

    from ..model import Network, init_params
    from ..state import AppState
    from .weight_editor import WeightEditor

    app = QApplication.instance() or QApplication(sys.argv[:1])
    repeats = 30 if quick else 120
    out = []
    for T, H, target in SIZES:
        rng = np.random.default_rng(0)
        state = AppState(Network(init_params("lstm", INPUTS, H, seed=0)),
                         rng.normal(size=(T, INPUTS)))
        stack = QUndoStack()
        editor = WeightEditor(state, stack)
        editor.resize(900, 900)
        editor.show()
        app.processEvents()
        hm = editor.heatmap("f", "hh")
        vp = hm.viewport()
        p0 = QPointF(hm.cell_pos(0, 0))

        def send(kind, pos, buttons):
            ev = QMouseEvent(kind, pos, vp.mapToGlobal(pos), Qt.MouseButton.LeftButton
                             if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton,
                             buttons, Qt.KeyboardModifier.NoModifier)
            QApplication.sendEvent(vp, ev)

        send(QEvent.Type.MouseButtonPress, p0, Qt.MouseButton.LeftButton)
        times = []
        for k in range(repeats + 5):
            pos = QPointF(p0.x(), p0.y() - 1 - (k % 40))
            t0 = time.perf_counter()
            send(QEvent.Type.MouseMove, pos, Qt.MouseButton.LeftButton)
            app.processEvents()               # the zero-delay flush, then the paints
            times.append(time.perf_counter() - t0)
        send(QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.NoButton)
        steps = stack.count()
        editor.close()
        editor.deleteLater()
        app.processEvents()
        med = statistics.median(times[5:]) * 1e3
        out.append({"name": f"weight drag step T={T} H={H} (state + editor)",
                    "median_ms": round(med, 3), "target": f"< {target:g} ms",
                    "pass": med < target, "undo_steps": steps})
    return out


if __name__ == "__main__":
    for row in bench_drag(quick="--quick" in sys.argv):
        print(row)
