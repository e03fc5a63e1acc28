"""The pre-flight check for Qt's window platform (no Qt involved)."""

from __future__ import annotations

import re

import pytest

from lstm_viz.ui import platform_check
from lstm_viz.ui.platform_check import XCB_PACKAGES, check

from .conftest import REPO

pytestmark = pytest.mark.skipif(not platform_check.sys.platform.startswith("linux"),
                                reason="the check only looks at Linux")


@pytest.fixture
def without(monkeypatch):
    """Make some shared libraries fail to load, as on a machine without them."""
    def hide(*sonames: str) -> None:
        real = platform_check.ctypes.CDLL

        def fake(name, *a, **k):
            if name in sonames:
                raise OSError(f"{name}: cannot open shared object file")
            return real(name, *a, **k)

        monkeypatch.setattr(platform_check.ctypes, "CDLL", fake)
    return hide


def test_offscreen_needs_nothing():
    assert check({"QT_QPA_PLATFORM": "offscreen"}) is None


def test_no_display():
    msg = check({})
    assert msg is not None and "DISPLAY" in msg and "\n" not in msg
    assert "offscreen" in msg


def test_missing_library_names_its_package(without):
    without("libxcb-cursor.so.0", "libxkbcommon-x11.so.0")
    msg = check({"DISPLAY": ":0"})
    assert msg is not None and "\n" not in msg
    assert "apt-get install libxcb-cursor0 libxkbcommon-x11-0 " in msg
    assert "QT_QPA_PLATFORM=offscreen" in msg


def test_all_present_passes(without):
    without()  # nothing hidden: this machine has them (CI installs them)
    assert check({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}) is None


def test_wayland_falls_back_to_xcb(without):
    without("libwayland-client.so.0")
    assert check({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}) is None
    assert "libwayland-client0" in check({"WAYLAND_DISPLAY": "wayland-0"})


def test_readme_shows_the_exact_line_and_packages(without):
    readme = (REPO / "README.md").read_text()
    without("libxcb-cursor.so.0")
    line = f"lstm-viz: error: {check({'DISPLAY': ':0'})}"
    assert line in readme.splitlines()
    apt = re.search(r"sudo apt-get install (.*?)\n```", readme, re.S)[1]
    assert set(apt.replace("\\", " ").split()) == set(XCB_PACKAGES)
