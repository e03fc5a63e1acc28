"""Can Qt open a window here? Checked before Qt is imported, so the user gets one
clear line instead of Qt's abort ("could not load the Qt platform plugin ...").

This module never imports Qt. On Linux, Qt's window platform is ``xcb`` (X11)
or ``wayland``; the PySide6 wheels bundle Qt itself but rely on the system for
the X11/xcb client libraries. `check` looks for a display and tries to load
those libraries with `ctypes`, the same way Qt's plugin loader would.

The library list is what ``ldd PySide6/Qt/plugins/platforms/libqxcb.so``
reports outside the PySide6 wheel (plus what QtGui itself needs), each with the
Debian/Ubuntu package that ships it.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: Shared libraries that Qt's xcb platform plugin (and QtGui under it) loads
#: from the system, with the Debian/Ubuntu package providing each.
XCB_LIBRARIES: tuple[tuple[str, str], ...] = (
    ("libxcb.so.1", "libxcb1"),
    ("libX11.so.6", "libx11-6"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-image.so.0", "libxcb-image0"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxcb-randr.so.0", "libxcb-randr0"),
    ("libxcb-render.so.0", "libxcb-render0"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ("libxcb-shape.so.0", "libxcb-shape0"),
    ("libxcb-shm.so.0", "libxcb-shm0"),
    ("libxcb-sync.so.1", "libxcb-sync1"),
    ("libxcb-util.so.1", "libxcb-util1"),
    ("libxcb-xfixes.so.0", "libxcb-xfixes0"),
    ("libxcb-xkb.so.1", "libxcb-xkb1"),
    ("libxkbcommon.so.0", "libxkbcommon0"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libfontconfig.so.1", "libfontconfig1"),
    ("libfreetype.so.6", "libfreetype6"),
    ("libglib-2.0.so.0", "libglib2.0-0"),
    ("libEGL.so.1", "libegl1"),
    ("libGL.so.1", "libgl1"),
)

#: Libraries of Qt's wayland platform plugin, for sessions without X11.
WAYLAND_LIBRARIES: tuple[tuple[str, str], ...] = (
    ("libwayland-client.so.0", "libwayland-client0"),
    ("libwayland-cursor.so.0", "libwayland-cursor0"),
    ("libwayland-egl.so.1", "libwayland-egl1"),
    ("libxkbcommon.so.0", "libxkbcommon0"),
    ("libfontconfig.so.1", "libfontconfig1"),
    ("libEGL.so.1", "libegl1"),
)

#: Every package the xcb platform needs, as one apt-get line (used by the README and CI).
XCB_PACKAGES: tuple[str, ...] = tuple(dict.fromkeys(pkg for _, pkg in XCB_LIBRARIES))


def missing_libraries(libraries: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """The ``(soname, package)`` pairs whose library cannot be loaded."""
    missing = []
    for soname, package in libraries:
        try:
            ctypes.CDLL(soname)
        except OSError:
            missing.append((soname, package))
    return missing


def _missing_message(missing: list[tuple[str, str]]) -> str:
    libs = ", ".join(soname for soname, _ in missing)
    packages = " ".join(dict.fromkeys(pkg for _, pkg in missing))
    return (
        f"Qt cannot open a window: missing system libraries ({libs}). "
        f"Install them with: sudo apt-get install {packages} "
        "(a --screenshot also works without them under QT_QPA_PLATFORM=offscreen)"
    )


def check(environ: dict[str, str] | None = None) -> str | None:
    """None if Qt can probably open a window, else one line saying what to do.

    Parameters
    ----------
    environ : mapping, optional
        The environment to read (default `os.environ`); tests pass their own.

    Only Linux is checked, and only for the platforms that need a display
    (``QT_QPA_PLATFORM`` unset, ``xcb`` or ``wayland``); ``offscreen`` and
    others pass.
    """
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return None
    platform = env.get("QT_QPA_PLATFORM", "").strip().split(":")[0]
    if platform not in ("", "xcb", "wayland"):
        return None
    has_x = bool(env.get("DISPLAY"))
    has_wayland = bool(env.get("WAYLAND_DISPLAY"))
    if platform == "xcb" and not has_x:
        return (
            "no X display: QT_QPA_PLATFORM is xcb but DISPLAY is not set "
            "(run it inside a desktop session or under xvfb-run; "
            "--screenshot works without a display under QT_QPA_PLATFORM=offscreen)"
        )
    if platform == "wayland" and not has_wayland:
        return "no Wayland display: QT_QPA_PLATFORM is wayland but WAYLAND_DISPLAY is not set"
    if not (has_x or has_wayland):
        return (
            "no display found (neither DISPLAY nor WAYLAND_DISPLAY is set): run it inside a "
            "desktop session; --screenshot works without one under QT_QPA_PLATFORM=offscreen"
        )
    # Qt tries wayland first on a Wayland session and falls back to xcb.
    if platform in ("", "wayland") and has_wayland:
        missing = missing_libraries(WAYLAND_LIBRARIES)
        if not missing:
            return None
        if platform == "wayland" or not has_x:
            return _missing_message(missing)
    missing = missing_libraries(XCB_LIBRARIES)
    return _missing_message(missing) if missing else None
