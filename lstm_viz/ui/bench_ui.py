"""GUI speed, measured offscreen for ``main.py bench --only gui``.

At T = 100 steps and H = 8 units (a seeded random LSTM, 3 inputs):

``gui.cursor_step``
    Moving the cursor one step in the 1920x1080 main window, animation off:
    ``state.set_timestep(t)`` then ``processEvents()``, which runs every
    view's slot and lets Qt repaint what changed (diagram, strip, the three
    plots, equations). A paint counter on each view checks that they did paint
    (``painted`` says on how many of the samples). (``window.repaint()`` is not
    used: it does not repaint the QGraphicsView viewports.)
``gui.cursor_step_paced``
    The same, at ten steps a second as a teacher's key presses or a clicker send
    them, in a fresh window (each step a first visit): the event loop runs idle
    for ``PACE_S`` before each step (untimed), so the views prepare the steps
    beside the one shown (`kit.IdleWork`), and the diagram draws their pictures
    ahead (``painted["diagram_from_frame"]`` counts the steps its repaint copied from one).
    ``gui.cursor_step`` steps back to back with no idle time between; 100 of its
    150 steps are first visits.
``gui.animation_frame``
    One frame of the step animation: after one animation tick's worth of time,
    ``processEvents()`` advances the diagram and repaints what changed.
``gui.full_window_paint``
    With the diagram mid-animation, painting the *whole* window (every widget)
    into a 1920x1080 image: the worst case of a frame.
``gui.drag_T100_H8`` / ``gui.drag_T500_H32``
    Dragging a weight in the *whole* 1920x1080 window (Weights tab open, 8
    inputs, the cursor mid-sequence): one mouse move on a cell of the forget
    gate's W_hh, then ``processEvents()`` until the coalesced edit has run (new
    `Network`, the whole trace forward and backward, one undo merge) and the
    diagram, equations, strip, plots and editor have repainted (``painted``
    counts, as above; at step 1 a recurrent weight would change nothing the
    diagram shows, since h_0 = 0).
``gui.drag_T100_H8_gradients`` / ``gui.drag_T100_H8_compare``
    The same drag with the lower tab on the Gradients view (its norm plots,
    paths and saliency redrawn too) or on the LSTM vs GRU vs RNN view (the
    three cells recomputed per edit and their gradient norms redrawn), held to
    the same budget as the forward views.
``gui.drag_settle_T100_H8`` / ``gui.drag_settle_T500_H32``
    After the drag pauses (longer than the plots' ``SETTLE_MS``), each plot
    redraws once with full-width lines, one panel after another
    (``SETTLE_STAGGER_MS`` apart): the longest of those redraws, from a settle
    timer to the repaint (``all_settled`` checks every panel did). A drag
    resumed meanwhile waits for one of them, so it is held to the drag's own
    target.
``gui.drag_coalescing``
    20 mouse moves sent while no event is processed, then one
    ``processEvents()``: ``recomputes`` must be 1 and the weight must hold the
    value of the *last* move (``latest``); median_ms is that one catch-up.
``gui.startup``
    A fresh Python process that imports the app, builds the window on the same
    model, shows it and paints once; measured from just before the process is
    started until it reports the paint. As every start after the first one:
    Python keeps the app's compiled bytecode (here in a throw-away folder, so
    nothing is written into the installed tree; one untimed start fills it).
``gui.startup_compiling``
    Only when the environment forbids writing bytecode (``PYTHONDONTWRITEBYTECODE``,
    as on some CI machines): the same start as the environment runs it, compiling
    the app's sources every time. Reported without a target.

Each result is ``{"name", "median_ms", "iqr_ms", "target", "pass"}`` (target in ms;
``iqr_ms`` the spread of the samples, between their first and third quartiles).

Passes. A virtual machine's speed can drift by half for seconds at a time, longer
than one measurement lasts, so a single run of each row would land wholly in a fast
or a slow spell by chance. The rows therefore run in ``PASSES`` rounds, each with its
share of the samples (the cursor and animation rows go on in the same windows), and
each row's median is over all its samples. ``per_pass`` keeps each round's median,
and ``machine_ms`` (on the first row) the time of a fixed piece of Python at the
start of each round: a rough gauge of the machine's speed then. It follows the
processor's speed, not everything that slows a window down (memory and caches
shared with other machines), so a round can be slow while it reads fast.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

from ..bench import _stats

T_STEPS, HIDDEN, INPUTS = 100, 8, 3
SIZE = (1920, 1080)
TARGETS = {"gui.cursor_step": 8.0, "gui.cursor_step_paced": 8.0, "gui.animation_frame": 16.0,
           "gui.full_window_paint": 16.0,
           "gui.startup": 2000.0, "gui.drag_T100_H8": 16.0, "gui.drag_T500_H32": 33.0,
           "gui.drag_coalescing": 33.0, "gui.drag_settle_T100_H8": 16.0,
           "gui.drag_settle_T500_H32": 33.0, "gui.drag_T100_H8_gradients": 16.0,
           "gui.drag_T100_H8_compare": 16.0}
#: Lower tabs the T=100 drag is also measured on (name suffix -> tab index name).
DRAG_TABS = {"gradients": "BOTTOM_GRADIENTS", "compare": "BOTTOM_COMPARE"}
#: Seconds between the steps of ``gui.cursor_step_paced`` (ten steps a second).
PACE_S = 0.1
#: Rounds the rows run in (see the module docstring); 1 with ``quick``.
PASSES = 3
#: (T, H) of the drag benchmarks; D = DRAG_INPUTS.
DRAG_SIZES = ((100, 8), (500, 32))
DRAG_INPUTS = 8

_STARTUP_SCRIPT = """
import sys
from lstm_viz.ui.bench_ui import build_window
app, state, window = build_window()
window.repaint()
print("painted", flush=True)
"""


def bench_model():
    """The benchmark's network, inputs and labels (seeded)."""
    import numpy as np

    from ..model import Network, init_params

    net = Network(init_params("lstm", INPUTS, HIDDEN, seed=0))
    x = np.random.default_rng(0).normal(size=(T_STEPS, INPUTS))
    return net, x, [f"{k + 1}" for k in range(T_STEPS)]


def build_window(size=SIZE, model=None):
    """QApplication, AppState and a shown MainWindow of ``size`` on the benchmark model
    (or on ``model`` = (network, inputs, labels))."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ..state import AppState
    from .app import make_app
    from .main_window import MainWindow

    app = make_app()
    net, x, labels = model if model is not None else bench_model()
    state = AppState(net, x, labels)
    window = MainWindow(state)
    window.resize_for_layout(*size)
    window.show()
    app.processEvents()
    return app, state, window


def _dispose(window) -> None:
    """Close ``window`` and delete it now, with its menus and views: a window merely
    closed stays alive (signal connections hold it), and the windows of earlier
    measurements would slow the later ones."""
    from PySide6.QtCore import QCoreApplication, QEvent

    window.close()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _result(name: str, samples_ms: list[float], **extra) -> dict:
    stats = _stats([ms / 1e3 for ms in samples_ms])     # as the engine rows (in seconds)
    med, target = stats["median_ms"], TARGETS[name]
    return {"name": name, "median_ms": round(med, 3), "iqr_ms": round(stats["iqr_ms"], 3),
            "target": target, "pass": med < target, "samples": len(samples_ms), **extra,
            "_raw": list(samples_ms)}


def _merge(rounds: list[list[dict]]) -> list[dict]:
    """One result per row from the rows of several rounds: all samples together, paint
    counts added, checks that must hold in every round and-ed, ``per_pass`` medians."""
    out: dict[str, dict] = {}
    for results in rounds:
        for r in results:
            m = out.setdefault(r["name"], {"raw": [], "per_pass": [], "extra": {}})
            m["raw"].extend(r["_raw"])
            m["per_pass"].append(r["median_ms"])
            for k, v in r.items():
                if k in ("name", "median_ms", "iqr_ms", "target", "pass", "samples", "_raw"):
                    continue
                old = m["extra"].get(k)
                if isinstance(v, dict):
                    v = {key: (old or {}).get(key, 0) + c for key, c in v.items()}
                elif isinstance(v, bool):
                    v = v if old is None else (old and v)
                elif isinstance(v, (int, float)):
                    v = v if old is None else max(old, v)
                m["extra"][k] = v
    merged = []
    for name, m in out.items():
        r = _result(name, m["raw"], **m["extra"])
        if len(m["per_pass"]) > 1:
            r["per_pass"] = m["per_pass"]
        if "recomputes_ok" in r:
            r["pass"] = r["pass"] and r["recomputes_ok"]
        merged.append(r)
    return merged


def _machine_ms() -> float:
    """Milliseconds for a fixed piece of pure Python (the median of three): how fast the
    machine runs the app's kind of work right now."""
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        acc = 0
        for k in range(60_000):
            acc += k * k % 7
        times.append((time.perf_counter() - t0) * 1e3)
    return round(statistics.median(times), 2)


class _PaintCounter:
    """Counts paint events on the views' viewports (to check a measurement painted them)."""

    def __init__(self, views: dict) -> None:
        from PySide6.QtCore import QEvent, QObject

        counts = self.counts = {name: 0 for name in views}
        names = {}

        class Filter(QObject):
            def eventFilter(self, obj, ev):  # noqa: N802 (Qt override)
                if ev.type() == QEvent.Type.Paint and obj in names:
                    counts[names[obj]] += 1
                return False

        self.filter = Filter()
        for name, view in views.items():
            vp = view.viewport() if hasattr(view, "viewport") else view
            names[vp] = name
            vp.installEventFilter(self.filter)

    def reset(self) -> None:
        for k in self.counts:
            self.counts[k] = 0


def _views(window) -> dict:
    views = {"diagram": window.diagram, "strip": window.strip, "equations": window.equations}
    views.update({f"plot_{k}": p for k, p in window.plots.panels.items()})
    return views


def _cursor_step(app, state, window, n: int, pause_s: float = 0.0,
                 start: int = 0) -> tuple[list[float], dict]:
    """set_timestep, then process events until Qt has repainted what changed; with
    ``pause_s``, the event loop runs that long (untimed) before each step. The steps
    are ``start + 1``, ``start + 2`` ... (wrapping round)."""
    state.set_animation_ms(0)
    counter = _PaintCounter(_views(window))
    app.processEvents()
    out = []
    painted = {k: 0 for k in counter.counts} | {"diagram_from_frame": 0}
    for k in range(n):
        end = time.perf_counter() + pause_s
        while time.perf_counter() < end:            # idle, as between key presses
            app.processEvents()
            time.sleep(0.002)
        counter.reset()
        copied = window.diagram.frame_blits
        t0 = time.perf_counter()
        state.set_timestep((start + k + 1) % state.steps)
        app.processEvents()                 # delivers the update requests: the views paint
        out.append((time.perf_counter() - t0) * 1e3)
        for name, c in counter.counts.items():
            painted[name] += c > 0
        painted["diagram_from_frame"] += window.diagram.frame_blits > copied
    return out, painted


def _animation_frames(app, state, window, n: int) -> tuple[list[float], list[float]]:
    """Frames of the step animation: the real per-frame repaint, and a full-window paint.

    Per frame: the animation's timers advance the diagram (untimed), then the
    timed part is Qt repainting what changed (``processEvents``) and, measured
    separately, painting the *whole* 1920x1080 window into an image.
    """
    from PySide6.QtGui import QImage

    image = QImage(window.width(), window.height(), QImage.Format.Format_ARGB32_Premultiplied)
    state.set_animation_ms(600)
    state.set_timestep(0)
    app.processEvents()
    frames, full = [], []
    while len(frames) < n:
        state.step(1) if state.timestep < state.steps - 1 else state.set_timestep(0)
        start = time.perf_counter()
        while time.perf_counter() - start < 0.45 and len(frames) < n:
            time.sleep(0.012)                               # one animation tick passes
            t0 = time.perf_counter()
            app.processEvents()                             # tick + repaint of the diagram
            frames.append((time.perf_counter() - t0) * 1e3)
            if len(full) < len(frames) // 3 + 1:
                t0 = time.perf_counter()
                window.render(image)                        # everything, mid-animation
                full.append((time.perf_counter() - t0) * 1e3)
    return frames, full


def _drag(T: int, H: int, n: int, tab: str = "") -> list[dict]:
    """Mouse drags on a weight cell in the full window; see the module docstring.

    With ``tab`` (a key of DRAG_TABS) the lower tab shows that view, and only
    the drag itself is measured."""
    import numpy as np
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from ..model import Network, init_params
    from .main_window import TAB_WEIGHTS
    from .plots import SETTLE_MS, SETTLE_STAGGER_MS

    x = np.random.default_rng(0).normal(size=(T, DRAG_INPUTS))
    net = Network(init_params("lstm", DRAG_INPUTS, H, seed=0))
    app, state, window = build_window(model=(net, x, [str(k + 1) for k in range(T)]))
    try:
        state.set_animation_ms(0)
        state.set_timestep(T // 2)  # mid-sequence: the edit changes the diagram and equations too
        window.show_side_tab(TAB_WEIGHTS)
        if tab:
            from . import main_window
            window.bottom.setCurrentIndex(getattr(main_window, DRAG_TABS[tab]))
        ed = window.weights
        ed.show_gate("f")
        app.processEvents()
        hm = ed.heatmap("f", "hh")
        vp = hm.viewport()
        p0 = QPointF(hm.cell_pos(0, 0))
        row = net.params.gate_rows("f").start

        def send(kind, pos, buttons):
            button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
            QApplication.sendEvent(vp, QMouseEvent(kind, pos, vp.mapToGlobal(pos), button, buttons,
                                                   Qt.KeyboardModifier.NoModifier))

        views = _views(window)
        views["editor"] = hm
        if tab:                               # the tab's plots instead of the hidden traces
            from PySide6.QtWidgets import QGraphicsView
            views = {k: v for k, v in views.items() if not k.startswith("plot_")}
            for k, v in enumerate(window.bottom.currentWidget().findChildren(QGraphicsView)):
                if v.isVisible():
                    views[f"{tab}_{k}"] = v
        counter = _PaintCounter(views)
        painted = {k: 0 for k in counter.counts}
        recomputes = [0]
        state.trace_changed.connect(lambda: recomputes.__setitem__(0, recomputes[0] + 1))
        send(QEvent.Type.MouseButtonPress, p0, Qt.MouseButton.LeftButton)
        app.processEvents()
        base = float(state.network.params.weight_hh[row, 0])
        times = []
        for k in range(n + 5):
            counter.reset()
            pos = QPointF(p0.x(), p0.y() - 1 - (k % 40))
            t0 = time.perf_counter()
            send(QEvent.Type.MouseMove, pos, Qt.MouseButton.LeftButton)
            app.processEvents()          # the coalesced edit, then every view repaints
            times.append((time.perf_counter() - t0) * 1e3)
            if k >= 5:
                for name, c in counter.counts.items():
                    painted[name] += c > 0
        if tab:
            send(QEvent.Type.MouseButtonRelease, p0, Qt.MouseButton.NoButton)
            app.processEvents()
            return [_result(f"gui.drag_T{T}_H{H}_{tab}", times[5:], painted=painted)]
        # the drag pauses: the plots' settle timer redraws them once at full width
        settle, all_settled = [], True
        panels = list(window.plots.panels.values())
        for rep in range(3 if n < 40 else 5):
            send(QEvent.Type.MouseMove, QPointF(p0.x(), p0.y() - 3 - rep), Qt.MouseButton.LeftButton)
            app.processEvents()
            send(QEvent.Type.MouseMove, QPointF(p0.x(), p0.y() - 4 - rep), Qt.MouseButton.LeftButton)
            app.processEvents()                 # a fast change: the plots are drafts now
            last = time.perf_counter()
            chunks = []
            for k in range(len(panels)):        # the panels settle one after another
                due = last + (SETTLE_MS + k * SETTLE_STAGGER_MS + 25) / 1e3
                time.sleep(max(0.0, due - time.perf_counter()))
                t0 = time.perf_counter()
                app.processEvents()             # a settle timer: full-width lines ...
                app.processEvents()             # ... and their repaint
                chunks.append((time.perf_counter() - t0) * 1e3)
            all_settled = all_settled and not any(p.draft for p in panels)
            settle.append(max(chunks))          # the longest a resumed drag could wait
        # coalescing: many moves while nothing is processed -> one recompute, latest value
        catch_up, ok = [], True
        for rep in range(5):
            recomputes[0] = 0
            for j in range(20):
                send(QEvent.Type.MouseMove, QPointF(p0.x(), p0.y() - 2 - j - rep), Qt.MouseButton.LeftButton)
            t0 = time.perf_counter()
            app.processEvents()
            catch_up.append((time.perf_counter() - t0) * 1e3)
            latest = base + (2 + 19 + rep) * ed.drag_step()
            got = float(state.network.params.weight_hh[row, 0])
            ok = ok and recomputes[0] == 1 and abs(got - latest) < 1e-9
        send(QEvent.Type.MouseButtonRelease, p0, Qt.MouseButton.NoButton)
        app.processEvents()
        undo_steps = window.undo_stack.count()
    finally:
        _dispose(window)
    out = [_result(f"gui.drag_T{T}_H{H}", times[5:], painted=painted, undo_steps=undo_steps),
           _result(f"gui.drag_settle_T{T}_H{H}", settle, all_settled=all_settled)]
    if (T, H) == DRAG_SIZES[0]:
        out.append(_result("gui.drag_coalescing", catch_up, recomputes_ok=ok))
    return out


def _startup(runs: int, cached: bool = True) -> list[float]:
    """Start-up times (ms); ``cached``: with the compiled bytecode kept (see the module
    docstring), else with the environment as it is."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if not cached:
        return _starts(env, runs)
    with tempfile.TemporaryDirectory(prefix="lstm_viz_pycache_") as prefix:
        env["PYTHONPYCACHEPREFIX"] = prefix
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        return _starts(env, runs + 1)[1:]          # the first start writes the bytecode


def _starts(env: dict, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", _STARTUP_SCRIPT], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = proc.stdout.readline()
        t1 = time.perf_counter()
        proc.wait(timeout=60)
        if line.strip() != "painted":
            raise RuntimeError("the start-up benchmark's window did not paint")
        out.append((t1 - t0) * 1e3)
    return out


def _round(quick: bool, k: int, passes: int, windows: dict) -> list[dict]:
    """Round ``k`` of ``passes``: every row with its share of the samples."""
    def share(n: int) -> int:
        return max(1, round(n / passes))

    n = share(30 if quick else 150)
    if "main" not in windows:
        windows["main"] = build_window()
    app, state, window = windows["main"]
    steps, painted = _cursor_step(app, state, window, n, start=k * n)
    frames, full = _animation_frames(app, state, window, n)
    results = [_result("gui.cursor_step", steps, painted=painted)]
    if "paced" not in windows:
        windows["paced"] = build_window()     # a fresh window: every step a first visit
    m = share(15 if quick else 50)
    paced, painted = _cursor_step(*windows["paced"], m, PACE_S, start=k * m)
    results += [_result("gui.cursor_step_paced", paced, painted=painted),
                _result("gui.animation_frame", frames),
                _result("gui.full_window_paint", full)]
    for T, H in DRAG_SIZES:
        results.extend(_drag(T, H, share(20 if quick else 80)))
    for tab in DRAG_TABS:
        results.extend(_drag(*DRAG_SIZES[0], share(20 if quick else 60), tab))
    return results


def run(quick: bool = False) -> list[dict]:
    """Measure the GUI; returns one dict per measurement (see the module docstring)."""
    passes = 1 if quick else PASSES
    windows: dict = {}
    rounds, machine = [], []
    try:
        for k in range(passes):
            machine.append(_machine_ms())
            rounds.append(_round(quick, k, passes, windows))
    finally:
        for _app, _state, window in windows.values():
            _dispose(window)
    results = _merge(rounds)
    results[0]["machine_ms"] = machine
    results.append(_result("gui.startup", _startup(2 if quick else 5)))
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        cold = _startup(2 if quick else 3, cached=False)
        results.append({"name": "gui.startup_compiling", "median_ms": round(statistics.median(cold), 3),
                        "target": None, "samples": len(cold)})
    for r in results:
        r.pop("_raw", None)
    return results


if __name__ == "__main__":      # python -m lstm_viz.ui.bench_ui [--quick]
    for r in run("--quick" in sys.argv):
        print(f"{r['name']:24s} {r['median_ms']:9.2f} ms  (target < {r['target']:g} ms)  "
              f"{'ok' if r['pass'] else 'SLOW'}")
