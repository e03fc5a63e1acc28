"""The command line's GUI modes, run as a user would: --screenshot and --smoke-test."""

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT),
               LSTM_VIZ_SETTINGS=str(tmp_path / "settings.ini"))
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("size,theme", [((1280, 800), "light"), ((640, 480), "dark")])
def test_screenshot_writes_a_png_of_the_requested_size(tmp_path, size, theme):
    out = tmp_path / "shot.png"
    r = _run("--screenshot", str(out), "--size", f"{size[0]}x{size[1]}", "--step", "3",
             "--theme", theme, tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    assert _png_size(out) == size
    assert not (tmp_path / "settings.ini").exists()        # screenshots touch no settings


def test_screenshot_to_a_missing_folder_is_one_clear_error(tmp_path):
    r = _run("--screenshot", str(tmp_path / "nope" / "shot.png"), tmp_path=tmp_path)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "error" in r.stderr


def test_screenshot_as_jpeg_and_a_step_past_the_end(tmp_path):
    r = _run("--screenshot", str(tmp_path / "shot.jpg"), "--size", "640x480", tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "shot.jpg").read_bytes()[:3] == b"\xff\xd8\xff"      # a JPEG
    r = _run("--screenshot", str(tmp_path / "late.png"), "--step", "99", tmp_path=tmp_path)
    assert r.returncode == 2 and not (tmp_path / "late.png").exists()
    assert r.stderr.strip() == "lstm-viz: error: --step 99: the sequence has 14 steps"


def test_smoke_test_plays_the_demo_and_exits_0(tmp_path):
    r = _run("--smoke-test", tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "14 steps" in r.stderr


def test_screenshot_of_a_lower_tab_in_gradient_mode(tmp_path, qapp):
    from lstm_viz.cli import _gui_options as gui_options, build_parser
    from lstm_viz.ui.app import _build
    from lstm_viz.ui.main_window import BOTTOM_COMPARE

    opts = gui_options(build_parser().parse_args(["--tab", "compare", "--gradients"]))
    state, window = _build(opts, settings=None)
    try:
        assert window.bottom.currentIndex() == BOTTOM_COMPARE and state.show_gradients
    finally:
        window.close()
        window.deleteLater()
    r = _run("--screenshot", str(tmp_path / "g.png"), "--tab", "long-range", tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    r = _run("--tab", "nowhere", tmp_path=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_a_screenshot_of_the_long_range_tab_has_every_curve_finished(qtbot, tmp_path):
    """The long-range curves fill in over time on screen; a screenshot waits for all."""
    import numpy as np
    from PySide6.QtCore import Qt

    from lstm_viz.cli import _gui_options as gui_options, build_parser
    from lstm_viz.ui.app import _build, render_window
    from lstm_viz.ui.longrange import LongRangeView

    opts = gui_options(build_parser().parse_args(["--tab", "long-range"]))
    state, window = _build(opts, settings=None)
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    qtbot.addWidget(window)                      # closed and deleted after the test
    render_window(window, 1280, 800)
    (view,) = [w for w in window.findChildren(LongRangeView) if w.isVisible()]
    assert all(np.isfinite(r).all() for r in view.results.values())
