"""Themes: every coloured symbol reads against its background where legibility is the point."""

import pytest

from lstm_viz.ui.theme import CONTRAST, DARK, LIGHT


def _luminance(hex_color: str) -> float:
    """WCAG relative luminance of "#RRGGBB"."""
    def lin(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex_color[k:k + 2], 16) for k in (1, 3, 5))
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def contrast_ratio(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_wcag_formula_here_gives_the_known_ratios():
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("theme, against", [(CONTRAST, "background"), (DARK, "panel")],
                         ids=["contrast", "dark"])
def test_gate_colours_read_at_4_5_to_1(theme, against):
    # Symbols such as C_t and f_t are written in their gate colour (equations, diagram,
    # plot titles): at AA contrast (4.5:1) in the high-contrast theme on white and in the
    # dark theme on its panels.
    bg = getattr(theme, against)
    low = {k: round(contrast_ratio(c, bg), 2) for k, c in theme.gate_colors.items()
           if contrast_ratio(c, bg) < 4.5}
    assert low == {}


def test_the_light_theme_keeps_the_okabe_ito_hues():
    assert LIGHT.gate_colors["c"] == "#E69F00" and LIGHT.gate_colors["f"] == "#D55E00"


@pytest.mark.parametrize("theme", [LIGHT, DARK, CONTRAST], ids=lambda t: t.name)
def test_each_gru_gate_has_the_colour_of_the_lstm_gate_in_its_place(theme):
    # z keeps the old state on the top line, as f does; r lets h into the candidate, as i
    # lets the candidate in; n is the candidate.
    g = theme.gate_colors
    assert (g["z"], g["r"], g["n"]) == (g["f"], g["i"], g["g"])


@pytest.mark.parametrize("theme", [LIGHT, DARK, CONTRAST], ids=lambda t: t.name)
def test_a_line_colour_used_as_text_reads_at_4_5_to_1_and_keeps_its_hue(theme):
    from lstm_viz.ui.theme import KIND_COLORS, OKABE_ITO

    for color in list(KIND_COLORS.values()) + list(OKABE_ITO.values()):
        ink = theme.ink(color)
        assert contrast_ratio(ink, theme.background) >= 4.5, (color, ink)
        if contrast_ratio(color, theme.background) >= 4.5:
            assert ink == color.upper()                 # nothing to fix: left as it is
    # orange on white (2.0:1) turns a darker orange, not grey or another hue
    if theme is LIGHT:
        r, g, b = (int(LIGHT.ink("#E69F00")[k:k + 2], 16) for k in (1, 3, 5))
        assert r > g > b and r < 0xE6


def test_the_compared_cells_have_colours_far_apart():
    # GRU and RNN were orange and vermillion, told apart mostly by their dashes
    from lstm_viz.ui.theme import KIND_COLORS

    def rgb(c):
        return [int(c[k:k + 2], 16) for k in (1, 3, 5)]

    cols = list(KIND_COLORS.values())
    for a in range(len(cols)):
        for b in range(a + 1, len(cols)):
            dist = sum((x - y) ** 2 for x, y in zip(rgb(cols[a]), rgb(cols[b]))) ** 0.5
            assert dist > 120, (cols[a], cols[b])
