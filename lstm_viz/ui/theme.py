"""One place for colour and type: themes, the value colour scale and gate colours.

Colour means the same everywhere. A *value* (a weight, an activation, a
gradient) is coloured by one diverging, colour-blind-safe scale (Paul Tol's
blue-white-red "BuRd"): negative blue, zero near-white (near-black on the dark
theme), positive red. A *gate* has one identity colour (from the Okabe-Ito
palette) used for its box in the diagram, its equation and its trace.

This module has no widgets; views ask it for colours, pens and fonts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtGui import QColor, QFont

#: Okabe-Ito categorical colours, distinguishable with every common colour-vision deficiency.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}

#: One identity colour per quantity, the same in diagram, equations and plots.
GATE_COLORS_LIGHT = {
    "f": OKABE_ITO["vermillion"],   # forget gate
    "i": OKABE_ITO["green"],        # input gate
    "g": OKABE_ITO["purple"],       # candidate C~
    "o": OKABE_ITO["blue"],         # output gate
    "c": OKABE_ITO["orange"],       # cell state
    "h": "#333333",                 # hidden state
    "x": "#777777",                 # input
    "r": OKABE_ITO["vermillion"],   # GRU reset
    "z": OKABE_ITO["green"],        # GRU update
    "n": OKABE_ITO["purple"],       # GRU candidate
    "a": OKABE_ITO["purple"],       # RNN pre-activation
}

# Tol BuRd anchors, from strongly negative to strongly positive.
_BURD = ["#2166AC", "#4393C3", "#92C5DE", "#D1E5F0", "#F7F7F7",
         "#FDDBC7", "#F4A582", "#D6604D", "#B2182B"]
_BURD_DARK_MID = "#2B2B2B"


def _hex_to_rgb(h: str) -> tuple[int, int, int]:
    h = h.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


@dataclass(frozen=True)
class Theme:
    """Colours and base sizes for one look. Views read these, never literals."""

    name: str
    background: str
    panel: str
    foreground: str
    muted: str
    grid: str
    accent: str           # the time cursor and selection
    gate_colors: dict = field(default_factory=dict)
    diverging: tuple = tuple(_BURD)
    line_width: float = 2.0
    base_point_size: float = 11.0

    def gate_color(self, name: str) -> QColor:
        return QColor(self.gate_colors.get(name, self.foreground))

    def qcolor(self, attr: str) -> QColor:
        return QColor(getattr(self, attr))

    def lut(self, n: int = 256) -> np.ndarray:
        """(n, 4) uint8 RGBA lookup table of the diverging scale, for heatmaps."""
        anchors = np.array([_hex_to_rgb(c) for c in self.diverging], dtype=float)
        pos = np.linspace(0.0, 1.0, len(anchors))
        q = np.linspace(0.0, 1.0, n)
        rgb = np.stack([np.interp(q, pos, anchors[:, k]) for k in range(3)], axis=1)
        out = np.empty((n, 4), dtype=np.ubyte)
        out[:, :3] = np.round(rgb).astype(np.ubyte)
        out[:, 3] = 255
        return out

    def value_rgb(self, values: np.ndarray, vmax: float) -> np.ndarray:
        """Map values in [-vmax, vmax] (clipped) to (..., 3) uint8 colours."""
        lut = self._lut_cache()
        v = np.asarray(values, dtype=float)
        if vmax <= 0 or not np.isfinite(vmax):
            vmax = 1.0
        idx = np.clip(np.round((np.nan_to_num(v) / vmax + 1.0) * 0.5 * 255), 0, 255).astype(int)
        return lut[idx, :3]

    def value_color(self, value: float, vmax: float) -> QColor:
        """QColor of one value on the diverging scale with symmetric limits ±vmax."""
        r, g, b = (int(c) for c in self.value_rgb(np.array(value), vmax))
        return QColor(r, g, b)

    def _lut_cache(self) -> np.ndarray:
        cache = _LUTS.get(self.name)
        if cache is None:
            cache = _LUTS[self.name] = self.lut(256)
        return cache


_LUTS: dict[str, np.ndarray] = {}

LIGHT = Theme(
    name="light",
    background="#FFFFFF",
    panel="#F4F4F4",
    foreground="#111111",
    muted="#555555",
    grid="#D0D0D0",
    accent="#000000",
    gate_colors=dict(GATE_COLORS_LIGHT),
)

DARK = Theme(
    name="dark",
    background="#1E1E1E",
    panel="#2A2A2A",
    foreground="#EEEEEE",
    muted="#AAAAAA",
    grid="#444444",
    accent="#FFFFFF",
    gate_colors={**GATE_COLORS_LIGHT, "h": "#DDDDDD", "x": "#AAAAAA"},
    diverging=tuple(_BURD[:4] + [_BURD_DARK_MID] + _BURD[5:]),
)

CONTRAST = Theme(
    name="contrast",
    background="#FFFFFF",
    panel="#FFFFFF",
    foreground="#000000",
    muted="#000000",
    grid="#000000",
    accent="#000000",
    gate_colors={**GATE_COLORS_LIGHT, "h": "#000000", "x": "#000000"},
    line_width=3.0,
    base_point_size=12.0,
)

THEMES: dict[str, Theme] = {t.name: t for t in (LIGHT, DARK, CONTRAST)}


def get_theme(name: str) -> Theme:
    """The theme called ``name`` (``light``, ``dark`` or ``contrast``)."""
    try:
        return THEMES[name]
    except KeyError:
        raise ValueError(f"unknown theme {name!r}; choose one of {', '.join(THEMES)}") from None


def scaled_font(theme: Theme, scale: float, factor: float = 1.0, bold: bool = False,
                family: str | None = None) -> QFont:
    """A font at the theme's base size times the global font scale times ``factor``."""
    f = QFont(family) if family else QFont()
    f.setPointSizeF(max(6.0, theme.base_point_size * scale * factor))
    f.setBold(bold)
    return f
