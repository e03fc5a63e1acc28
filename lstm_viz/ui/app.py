"""Starting the GUI: the normal window, ``--screenshot`` and ``--smoke-test``.

`run_gui(options)` is called by the command line (`lstm_viz.cli.run_gui`) with
an object that has the attributes ``smoke_test``, ``screenshot``, ``size``,
``step`` (0-based, clamped to the sequence) and ``theme``.

Settings (window layout, theme, font scale) live in QSettings under
organisation and application "lstm-viz". Setting the environment variable
``LSTM_VIZ_SETTINGS`` to a file path keeps them in that INI file instead
(tests use this). ``--screenshot`` and ``--smoke-test`` never read or write
settings, so their output does not depend on the user's last session.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QWidget

from .. import __version__

PROG = "lstm-viz"
#: Default screenshot size (width, height) in pixels.
DEFAULT_SIZE = (1920, 1080)
#: Largest side of a screenshot we agree to render.
MAX_SIDE = 10000
#: Smallest side of a screenshot that still shows the window.
MIN_SIDE = 100
#: Animation length while the smoke test plays (fast, but every step animates).
SMOKE_ANIMATION_MS = 40
#: Give up on the smoke test after this long.
SMOKE_TIMEOUT_MS = 60_000
#: Environment variable naming an INI file for the settings.
SETTINGS_ENV = "LSTM_VIZ_SETTINGS"


def open_settings() -> QSettings:
    """The user's settings, or the INI file named by ``LSTM_VIZ_SETTINGS``."""
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings("lstm-viz", "lstm-viz")


def make_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication (created once), named for QSettings and the window manager."""
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(argv if argv is not None else [sys.argv[0]])
    app.setOrganizationName("lstm-viz")
    app.setApplicationName("lstm-viz")
    app.setApplicationDisplayName("lstm-viz")
    app.setApplicationVersion(__version__)
    return app


def _error(msg: str) -> int:
    print(f"{PROG}: error: {msg}", file=sys.stderr)
    return 2


def _check_size(size) -> tuple[int, int] | str:
    """The (width, height) to render, or an error message."""
    if size is None:
        return DEFAULT_SIZE
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        return f"window size {size!r} is not two whole numbers"
    if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
        return f"window size {w}x{h} is out of range (each side {MIN_SIDE}..{MAX_SIDE} pixels)"
    return w, h


def _check_output(path: str) -> Path | str:
    """The PNG path to write, or an error message if it cannot be written."""
    p = Path(path).expanduser()
    if p.is_dir():
        return f"cannot write the screenshot to {path!r}: it is a directory"
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        return f"cannot write the screenshot to {path!r}: folder {str(parent)!r} does not exist"
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        return f"cannot write the screenshot to {path!r}: permission denied"
    return p


def _build(options, settings: QSettings | None):
    from ..state import AppState
    from .main_window import MainWindow

    state = AppState()
    theme = getattr(options, "theme", None)
    window = MainWindow(state, settings=settings)
    if theme:
        state.set_theme(theme)
    step = getattr(options, "step", None)
    if step is not None:
        state.set_timestep(step)          # clamped to the sequence
    tab = getattr(options, "tab", None)
    if tab:
        from ..cli import TABS
        window.bottom.setCurrentIndex(TABS.index(tab))
    if getattr(options, "gradients", False):
        state.set_show_gradients(True)
    return state, window


def render_window(window, width: int, height: int) -> QImage:
    """Paint the laid-out window into a ``width`` x ``height`` image (device pixel ratio 1)."""
    window.resize_for_layout(width, height)
    window.show()
    app = QApplication.instance()
    for _ in range(3):                     # layout, polish, deferred resizes
        app.processEvents()
    if window.width() != width or window.height() != height:
        window.resize(width, height)
        app.processEvents()
    # a view that fills in over time (the long-range curves) is finished first
    finish = [w for w in window.findChildren(QWidget) if hasattr(w, "compute_now") and w.isVisible()]
    for w in finish:
        w.compute_now()
    if finish:
        for _ in range(3):                 # the new text's layout, as above
            app.processEvents()
    image = QImage(width, height, QImage.Format.Format_ARGB32)
    image.setDevicePixelRatio(1.0)
    image.fill(window.palette().window().color())
    window.render(image)
    return image


def screenshot(options) -> int:
    """Render the main window to a PNG (or JPEG, BMP) at the requested size and step; 0 or 2."""
    size = _check_size(getattr(options, "size", None))
    if isinstance(size, str):
        return _error(size)
    out = _check_output(options.screenshot)
    if isinstance(out, str):
        return _error(out)
    kind = {".png": "PNG", ".jpg": "JPG", ".jpeg": "JPG", ".bmp": "BMP"}.get(out.suffix.lower())
    if kind is None:
        return _error(f"the screenshot must be a .png, .jpg or .bmp file, not {out.name!r}")
    make_app()
    state, window = _build(options, settings=None)
    step = getattr(options, "step", None)
    if step is not None and step >= state.steps:     # not a picture of another step
        window.close()
        return _error(f"--step {step + 1}: the sequence has {state.steps} steps")
    state.set_animation_ms(0)             # show the step at rest, fully drawn
    image = render_window(window, *size)
    window.close()
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}{out.suffix}")
    if not image.save(str(tmp), kind):
        tmp.unlink(missing_ok=True)
        return _error(f"could not write the screenshot to {str(out)!r}")
    os.replace(tmp, out)
    return 0


def smoke_test(options) -> int:
    """Show the window, play the demo once through with animation, exit 0 if nothing raised."""
    errors: list[str] = []
    previous_hook = sys.excepthook

    def hook(etype, value, tb):
        errors.append("".join(traceback.format_exception(etype, value, tb)))

    sys.excepthook = hook
    try:
        app = make_app()
        state, window = _build(options, settings=None)
        size = _check_size(getattr(options, "size", None))
        if isinstance(size, str):
            return _error(size)
        window.resize_for_layout(*size)
        window.show()
        state.set_animation_ms(SMOKE_ANIMATION_MS)
        pb = window.playback
        pb.hold_ms = 10
        state.set_timestep(0)
        pb.finished.connect(app.quit)
        timed_out = []

        def give_up():
            timed_out.append(True)
            app.quit()

        QTimer.singleShot(SMOKE_TIMEOUT_MS, give_up)
        QTimer.singleShot(0, pb.play)
        app.exec()
        # let the last animation finish and paint
        QTimer.singleShot(SMOKE_ANIMATION_MS * 3, app.quit)
        app.exec()
        reached = state.timestep == state.steps - 1
        window.close()
    except Exception:                       # noqa: BLE001 - reported, not shown as a traceback
        errors.append(traceback.format_exc())
        timed_out, reached = [], False
    finally:
        sys.excepthook = previous_hook
    if errors:
        print(f"{PROG}: smoke test failed: {len(errors)} error(s) while playing the demo:",
              file=sys.stderr)
        print(errors[0], file=sys.stderr)
        return 1
    if timed_out or not reached:
        print(f"{PROG}: smoke test failed: playback did not reach the last step", file=sys.stderr)
        return 1
    print(f"{PROG}: smoke test passed: played {state.steps} steps", file=sys.stderr)
    return 0


def run_gui(options) -> int:
    """Run the GUI as the options ask; returns the process exit status."""
    if getattr(options, "screenshot", None):
        return screenshot(options)
    if getattr(options, "smoke_test", False):
        return smoke_test(options)
    size = getattr(options, "size", None)
    if size is not None:
        size = _check_size(size)
        if isinstance(size, str):
            return _error(size)
    app = make_app()
    _state, window = _build(options, settings=open_settings())
    if size is not None:
        window.resize_for_layout(*size)
    elif window.settings is None or not window.settings.contains("window/geometry"):
        window.resize_for_layout(1280, 800)
    window.show()
    return app.exec()
