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
from PySide6.QtGui import QColor, QFont, QPalette

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

#: One colour per kind of cell wherever cells are compared (the comparison and the
#: long-range views): blue, orange and purple, far apart in hue and lightness, so
#: the GRU's and the RNN's lines are not told apart by their dashes alone.
KIND_COLORS = {"lstm": OKABE_ITO["blue"], "gru": OKABE_ITO["orange"], "rnn": OKABE_ITO["purple"]}


def _with_other_cells(colors: dict) -> dict:
    """``colors`` with the GRU's and the RNN's quantities in the colour of the LSTM one in
    their place: the update gate z keeps old state on the top line as f does, the reset
    gate r lets (part of) h into the candidate as i lets the candidate in, and the GRU's
    candidate n and the RNN's pre-activation a are candidates like g."""
    return {**colors, "z": colors["f"], "r": colors["i"], "n": colors["g"], "a": colors["g"]}


#: One identity colour per quantity, the same in diagram, equations and plots.
GATE_COLORS_LIGHT = _with_other_cells({
    "f": OKABE_ITO["vermillion"],   # forget gate
    "i": OKABE_ITO["green"],        # input gate
    "g": OKABE_ITO["purple"],       # candidate C~
    "o": OKABE_ITO["blue"],         # output gate
    "c": OKABE_ITO["orange"],       # cell state
    "h": "#333333",                 # hidden state
    "x": "#777777",                 # input
})

# The same hues darkened until text in them reads at 4.8:1 or more on white (WCAG AA
# asks 4.5:1); the light theme's orange, purple and green fall to 2.3-3.4:1.
GATE_COLORS_CONTRAST = _with_other_cells({
    **GATE_COLORS_LIGHT,
    "f": "#BB5300", "i": "#00825E", "g": "#9D5D81",
    "c": "#986900",
    "h": "#000000", "x": "#000000",
})
# On the dark panel (#2A2A2A) the blue, vermillion and green are lightened to 4.5:1.
GATE_COLORS_DARK = _with_other_cells({
    **GATE_COLORS_LIGHT,
    "f": "#DB7626", "i": "#0FA47B",
    "o": "#4799C8",
    "h": "#DDDDDD", "x": "#AAAAAA",
})

# Tol BuRd anchors, from strongly negative to strongly positive.
_BURD = ["#2166AC", "#4393C3", "#92C5DE", "#D1E5F0", "#F7F7F7",
         "#FDDBC7", "#F4A582", "#D6604D", "#B2182B"]
_BURD_DARK_MID = "#2B2B2B"


def value_index(values: np.ndarray, vmax) -> np.ndarray:
    """Index into the 256-colour value scale of each value on ±``vmax`` (a number, or an
    array broadcasting against ``values``): NaN in the middle, ±inf and beyond ±vmax at
    the ends."""
    v = np.asarray(values, dtype=float) / vmax
    v = np.where(np.isnan(v), 0.0, v)
    return np.clip(np.round((v + 1.0) * 0.5 * 255), 0, 255).astype(int)


def _hex_to_rgb(h: str) -> tuple[int, int, int]:
    h = h.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def contrast_luminance(color) -> float:
    """WCAG's relative luminance of ``color`` (hex text or an RGB triple, 0..255)."""
    rgb = np.array(_hex_to_rgb(color) if isinstance(color, str) else color, float) / 255
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(lin @ np.array([0.2126, 0.7152, 0.0722]))


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

    def ink(self, color: str, ratio: float = 4.5) -> str:
        """``color`` for text on this theme's background: moved towards the foreground
        colour just far enough for a contrast ratio of ``ratio`` (WCAG's 4.5:1 for body
        text), so a line's orange or purple still names it in words one can read."""
        bg = contrast_luminance(self.background)
        c, fg = np.array(_hex_to_rgb(color), float), np.array(_hex_to_rgb(self.foreground), float)
        for k in range(21):
            mixed = c + (fg - c) * (k / 20)
            lum = contrast_luminance(mixed)
            if (max(lum, bg) + 0.05) / (min(lum, bg) + 0.05) >= ratio:
                break
        return "#%02X%02X%02X" % tuple(int(round(v)) for v in mixed)

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
        if vmax <= 0 or not np.isfinite(vmax):
            vmax = 1.0
        return lut[value_index(values, vmax), :3]

    def value_argb(self, values: np.ndarray, vmax: float) -> np.ndarray:
        """As `value_rgb`, each colour packed as one 0xAARRGGBB uint32 (for QImages)."""
        if vmax <= 0 or not np.isfinite(vmax):
            vmax = 1.0
        return self.lut_argb()[value_index(values, vmax)]

    def lut_argb(self) -> np.ndarray:
        """The 256-colour value scale as (256,) 0xAARRGGBB uint32 (made once per theme)."""
        cache = _LUTS_ARGB.get(self.name)
        if cache is None:
            rgb = self._lut_cache()[:, :3].astype(np.uint32)
            cache = _LUTS_ARGB[self.name] = (0xFF000000 | (rgb[:, 0] << 16) | (rgb[:, 1] << 8)
                                             | rgb[:, 2])
        return cache

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
_LUTS_ARGB: dict[str, np.ndarray] = {}

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
    gate_colors=dict(GATE_COLORS_DARK),
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
    gate_colors=dict(GATE_COLORS_CONTRAST),
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


# --------------------------------------------------------------------------- whole-app look
# (added for the main window: a QPalette, a style sheet and a pyqtgraph colour map per theme)

def _mix(a: str, b: str, t: float) -> QColor:
    """Colour ``t`` of the way from ``a`` to ``b``."""
    ca, cb = QColor(a), QColor(b)
    return QColor(round(ca.red() + (cb.red() - ca.red()) * t),
                  round(ca.green() + (cb.green() - ca.green()) * t),
                  round(ca.blue() + (cb.blue() - ca.blue()) * t))


def highlight_color(theme: Theme) -> QColor:
    """Background of a highlighted row (the focused equation): a soft tint of the accent."""
    if theme.name == "contrast":
        return QColor("#FFE600")                    # yellow marker on white, black text
    if theme.name == "dark":
        return QColor("#4A4A20")
    return QColor("#FFF3B0")


def palette(theme: Theme) -> QPalette:
    """A QPalette for the whole application in this theme."""
    p = QPalette()
    bg, panel, fg = QColor(theme.background), QColor(theme.panel), QColor(theme.foreground)
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        p.setColor(group, QPalette.ColorRole.Window, panel)
        p.setColor(group, QPalette.ColorRole.WindowText, fg)
        p.setColor(group, QPalette.ColorRole.Base, bg)
        p.setColor(group, QPalette.ColorRole.AlternateBase, panel)
        p.setColor(group, QPalette.ColorRole.Text, fg)
        p.setColor(group, QPalette.ColorRole.Button, panel)
        p.setColor(group, QPalette.ColorRole.ButtonText, fg)
        p.setColor(group, QPalette.ColorRole.ToolTipBase, bg)
        p.setColor(group, QPalette.ColorRole.ToolTipText, fg)
        p.setColor(group, QPalette.ColorRole.PlaceholderText, QColor(theme.muted))
        p.setColor(group, QPalette.ColorRole.BrightText, QColor("#D55E00"))
        p.setColor(group, QPalette.ColorRole.Highlight, QColor(theme.gate_colors.get("o", "#0072B2")))
        p.setColor(group, QPalette.ColorRole.HighlightedText, QColor("#FFFFFF"))
        p.setColor(group, QPalette.ColorRole.Link, QColor(theme.gate_colors.get("o", "#0072B2")))
        p.setColor(group, QPalette.ColorRole.Light, _mix(theme.panel, theme.background, 0.5))
        p.setColor(group, QPalette.ColorRole.Mid, QColor(theme.grid))
        p.setColor(group, QPalette.ColorRole.Dark, QColor(theme.muted))
    dis = QPalette.ColorGroup.Disabled
    muted = QColor(theme.muted) if theme.name != "contrast" else QColor("#767676")
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        p.setColor(dis, role, muted)
    p.setColor(dis, QPalette.ColorRole.Window, panel)
    p.setColor(dis, QPalette.ColorRole.Base, bg)
    p.setColor(dis, QPalette.ColorRole.Button, panel)
    return p


def stylesheet(theme: Theme, scale: float = 1.0) -> str:
    """An application style sheet: borders, focus rings and tool tips in the theme's colours.

    Sizes scale with the global font scale so controls grow with their text.
    """
    border = 2 if theme.name == "contrast" else 1
    pad = max(2, round(4 * scale))
    hi = highlight_color(theme).name()
    accent = theme.gate_colors.get("o", "#0072B2")
    return f"""
QMainWindow, QDialog {{ background: {theme.panel}; }}
QToolTip {{ background: {theme.background}; color: {theme.foreground};
            border: {border}px solid {theme.foreground}; padding: {pad}px; }}
QToolButton, QPushButton {{ background: {theme.background}; color: {theme.foreground};
    border: {border}px solid {theme.grid if theme.name != 'contrast' else theme.foreground};
    border-radius: 4px; padding: {pad}px {2 * pad}px; }}
QToolButton:hover, QPushButton:hover {{ border-color: {accent}; }}
QToolButton:checked, QPushButton:checked {{ background: {hi}; }}
QToolButton:disabled, QPushButton:disabled {{ color: {theme.muted}; border-style: dashed; }}
QToolButton:focus, QPushButton:focus, QComboBox:focus, QSlider:focus, QCheckBox:focus {{
    outline: none; border: 2px solid {accent}; }}
QComboBox {{ background: {theme.background}; color: {theme.foreground};
    border: {border}px solid {theme.grid if theme.name != 'contrast' else theme.foreground};
    border-radius: 4px; padding: {pad}px {2 * pad}px; }}
QComboBox QAbstractItemView {{ background: {theme.background}; color: {theme.foreground};
    selection-background-color: {hi}; selection-color: {theme.foreground}; }}
QMenuBar {{ background: {theme.panel}; color: {theme.foreground}; }}
QMenuBar::item:selected, QMenu::item:selected {{ background: {hi}; color: {theme.foreground}; }}
QMenu {{ background: {theme.background}; color: {theme.foreground};
         border: {border}px solid {theme.grid if theme.name != 'contrast' else theme.foreground}; }}
QScrollArea, QScrollArea > QWidget > QWidget {{ background: {theme.background}; }}
QSplitter::handle {{ background: {theme.grid}; }}
QSlider::groove:horizontal {{ height: {max(4, round(6 * scale))}px; background: {theme.grid};
    border-radius: 3px; }}
QSlider::sub-page:horizontal {{ background: {accent}; border-radius: 3px; }}
QSlider::handle:horizontal {{ background: {theme.foreground}; width: {max(12, round(16 * scale))}px;
    margin: -{max(4, round(6 * scale))}px 0; border-radius: {max(6, round(8 * scale))}px; }}
QStatusBar {{ background: {theme.panel}; color: {theme.foreground}; }}
"""


def colormap(theme: Theme):
    """The diverging value scale as a pyqtgraph ColorMap (imported lazily: pyqtgraph is optional here)."""
    import pyqtgraph as pg

    lut = theme.lut(256)
    return pg.ColorMap(np.linspace(0.0, 1.0, len(lut)), lut, name=f"lstm-viz-{theme.name}")


def focus_color(theme: Theme) -> QColor:
    """Halo drawn around the diagram element under the mouse or selected (opaque; callers set alpha)."""
    if theme.name == "dark":
        return QColor("#FFD84D")
    if theme.name == "contrast":
        return QColor("#FFB000")
    return QColor("#F2A900")
