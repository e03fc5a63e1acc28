"""Shared drawing pieces (lstm_viz.ui.kit): fast stand-ins must show what pyqtgraph shows."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage

from lstm_viz.ui.kit import Curve


def _ink(qtbot, item_cls, width):
    w = pg.PlotWidget(background="w")
    qtbot.addWidget(w)
    w.resize(400, 300)
    w.getPlotItem().hideAxis("left")
    w.getPlotItem().hideAxis("bottom")
    x = np.arange(60, dtype=float)
    item = item_cls(x, np.sin(x / 4.0) + 0.3 * np.cos(x), antialias=True,
                    pen=pg.mkPen("#0072B2", width=width))
    w.addItem(item)
    w.show()
    qtbot.waitExposed(w)
    img = w.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.width(), 4)
    white = np.array([255, 255, 255])
    return w, item, (np.abs(a[:, :, :3].astype(int) - white).sum(axis=2) / (3 * 255)).sum()


@pytest.mark.parametrize("width", [2.0, 3.0])
def test_a_wide_curve_inks_about_what_pyqtgraphs_own_curve_does(qtbot, width):
    _w, item, ink = _ink(qtbot, Curve, width)
    assert type(item.curve).__name__ == "_ThinCurve"
    _w2, _, want = _ink(qtbot, pg.PlotDataItem, width)
    assert 0.7 < ink / want < 1.3
    np.testing.assert_array_equal(item.getData()[0], np.arange(60, dtype=float))


def test_a_thin_curve_is_pyqtgraphs_own_drawing(qtbot):
    _w, _, ink = _ink(qtbot, Curve, 1.0)
    _w2, _, want = _ink(qtbot, pg.PlotDataItem, 1.0)
    assert ink == pytest.approx(want, rel=1e-9)
