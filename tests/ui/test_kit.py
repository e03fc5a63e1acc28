"""Shared drawing pieces (lstm_viz.ui.kit): fast stand-ins must show what pyqtgraph shows."""

import math

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


def test_marker_sits_on_its_data_point_at_a_fixed_pixel_size(qtbot):
    from PySide6.QtCore import QPointF

    from lstm_viz.ui.kit import Marker

    w = pg.PlotWidget()
    qtbot.addWidget(w)
    w.resize(400, 300)
    plot = w.getPlotItem()
    plot.setXRange(0, 10, padding=0)
    plot.setYRange(0, 1, padding=0)
    m = Marker(14, "star")
    plot.addItem(m, ignoreBounds=True)
    w.show()
    qtbot.waitExposed(w)
    assert not m.isVisible()                          # no point yet
    m.set_point(5.0, 0.5)
    assert m.isVisible()

    def on_screen():                                  # where the view draws it, in pixels
        return m.deviceTransform(w.viewportTransform()).mapRect(m.boundingRect())

    want = w.mapFromScene(plot.vb.mapViewToScene(QPointF(5.0, 0.5)))
    box = on_screen()
    assert abs(box.center().x() - want.x()) <= 2 and abs(box.center().y() - want.y()) <= 2
    assert 12 <= box.width() <= 16                    # 14 px across, whatever the range
    plot.setXRange(0, 1000, padding=0)
    assert 12 <= on_screen().width() <= 16
    for bad in ((None, 1.0), (1.0, float("nan"))):
        m.set_point(*bad)
        assert not m.isVisible()


def _log_plot_image(qtbot, add, keep=None):
    w = pg.PlotWidget(background="w")
    qtbot.addWidget(w)
    if keep is not None:
        keep.append(w)                                # alive, with the items in its scene
    w.resize(400, 300)
    plot = w.getPlotItem()
    plot.setLogMode(x=False, y=True)
    plot.hideAxis("left")
    plot.hideAxis("bottom")
    plot.setXRange(0, 12, padding=0)
    plot.setYRange(-4, 1, padding=0)                  # log10 units
    add(plot)
    w.show()
    qtbot.waitExposed(w)
    img = w.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.width(), 4)
    return a[:, :, :3].astype(int).sum(axis=2) < 600  # inked pixels


def test_a_log_curve_draws_its_values_where_pyqtgraph_puts_them_on_a_log_axis(qtbot):
    from lstm_viz.ui.kit import LogCurve

    x = np.arange(1.0, 12.0)
    y = np.array([1.0, 0.1, 0.01, 0.0, 0.001, 0.01, np.nan, 1.0, 10.0, -1.0, 1e-4])
    pen = pg.mkPen("#0072B2", width=1)
    curve = LogCurve(pen=pen)
    mine = _log_plot_image(qtbot, lambda p: (p.addItem(curve), curve.set_values(x, y)))
    theirs = _log_plot_image(qtbot, lambda p: p.addItem(
        pg.PlotDataItem(x, np.where(y > 0, y, np.nan), pen=pen, connect="finite")))
    # what it draws: log10 of the values, a gap at each value a log axis cannot show
    np.testing.assert_array_equal(curve.values[1], y)
    want = np.array([0, -1, -2, np.nan, -3, -2, np.nan, 0, 1, np.nan, -4])
    np.testing.assert_allclose(curve.yData, want, atol=1e-12)
    assert mine.sum() > 200                           # it drew the line
    assert (mine != theirs).sum() < 0.05 * theirs.sum()


@pytest.mark.parametrize("width", [1, 3])
def test_a_curves_bounds_are_pyqtgraphs_bounds(qtbot, width):
    """The quick bounding rectangle is the one pyqtgraph computes (data bounds grown by
    the pen's padding in pixels), gaps and all; moved or filled curves use pyqtgraph's."""
    from lstm_viz.ui.kit import LogCurve

    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(400, 300)
    widget.show()
    qtbot.waitExposed(widget)
    curve = LogCurve(pen=pg.mkPen("#0072B2", width=width))
    widget.getPlotItem().addItem(curve)
    widget.getPlotItem().setRange(xRange=(0, 20), yRange=(-6, 2), padding=0)
    curve.set_values(np.arange(1.0, 12.0), [1, .1, np.nan, 0, 1e-3, 3, 1e-5, 1, 2, -1, .5])
    qtbot.wait(20)
    widget.getPlotItem().getViewBox().updateMatrix()    # (pyqtgraph's reads the applied range)

    def pyqtgraphs():
        curve._boundingRect = None
        return pg.PlotCurveItem.boundingRect(curve)

    want = pyqtgraphs()
    curve._boundingRect = None
    got = curve.boundingRect()
    assert want.width() > 10 and want.height() > 5           # (the data: x 1..11, y -5..0.5)
    for a, b in ((got.left(), want.left()), (got.right(), want.right()),
                 (got.top(), want.top()), (got.bottom(), want.bottom())):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-9)
    curve.set_values(np.arange(3.0), [np.nan, 0.0, -2.0])      # nothing drawable
    assert curve.boundingRect().isEmpty()
    curve.set_values(np.arange(3.0), [1.0, 2.0, 3.0])
    curve.setPos(1.0, 0.0)                                     # moved: pyqtgraph's own
    assert curve.boundingRect() == pyqtgraphs()


def test_a_draft_curve_is_one_thin_line_until_it_settles(qtbot):
    from lstm_viz.ui.kit import SETTLE_MS, CurveDrafts, LogCurve

    x = np.arange(1.0, 12.0)
    y = 10.0 ** -np.linspace(0.0, 4.0, 11)
    curve = LogCurve(pen=pg.mkPen("#0072B2", width=3))
    widgets = []

    def add(plot):
        if curve.scene() is not None:
            curve.scene().removeItem(curve)
        plot.addItem(curve)
        curve.set_values(x, y)

    full = _log_plot_image(qtbot, add, widgets)
    drafts = CurveDrafts(None, [curve])
    drafts.changed()                                  # a first change is not a drag
    assert not curve.draft
    drafts.changed()                                  # a second one right after it is
    assert curve.draft and drafts.draft
    draft = _log_plot_image(qtbot, add, widgets)
    assert 0 < draft.sum() < 0.6 * full.sum()         # a 1 px line where the 3 px one was
    assert (draft & ~full).sum() < 0.05 * draft.sum()
    qtbot.waitUntil(lambda: not curve.draft, timeout=SETTLE_MS + 1000)
    again = _log_plot_image(qtbot, add, widgets)
    assert (again != full).sum() == 0


def test_number_lines_reuse_a_layout_only_for_the_same_width_and_font(qtbot):
    from PySide6.QtGui import QColor

    from lstm_viz.ui.kit import NumberLines

    w = NumberLines()
    qtbot.addWidget(w)
    w.set_background(QColor("white"))
    long = "h = (" + ", ".join(f"{0.1 * k:.3f}" for k in range(12)) + ")"
    wide = w.fontMetrics().horizontalAdvance(long) + 40
    w.resize(wide, 40)
    w.show()
    qtbot.waitExposed(w)

    def shown(text):
        w.setText(text)
        qtbot.wait(10)
        return w.height(), w.grab().toImage()

    one_line = w.fontMetrics().height() + 2
    h1, img1 = shown(long)
    assert abs(h1 - one_line) <= 2                    # fits on one line
    shown("c = (0.5)")
    h3, img3 = shown(long)                            # shown again: the same picture
    assert h3 == h1 and img3 == img1
    w.resize(wide // 4, w.height())                   # narrower: laid out again, wrapped
    qtbot.wait(10)
    assert w.height() >= 2 * one_line - 2
    font = w.font()
    font.setPointSizeF(font.pointSizeF() * 2)
    w.resize(wide, w.height())
    w.setFont(font)                                   # bigger type: laid out again, taller
    qtbot.wait(10)
    assert w.height() > h1 + one_line // 2


def test_an_elided_label_ends_in_an_ellipsis_when_narrow_and_shows_all_on_hover(qtbot):
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    from lstm_viz.ui.kit import ElidedLabel

    text = "Preset “Latch”: the input gate writes the spike into the cell and holds it"
    w = ElidedLabel()
    qtbot.addWidget(w)
    w.setToolTip("What the preset shows")
    w.setText(text)
    fm = w.fontMetrics()
    w.resize(fm.horizontalAdvance(text) + 20, fm.height() + 4)
    w.show()
    qtbot.waitExposed(w)
    assert w.shown_text() == text and not w.is_elided()
    wide = w.grab().toImage()

    w.resize(fm.horizontalAdvance(text) // 3, w.height())
    qtbot.wait(10)
    shown = w.shown_text()
    assert shown.endswith("…") and text.startswith(shown[:-1]) and len(shown) < len(text) // 2
    assert w.text() == text                           # the label keeps the whole text
    assert w.minimumSizeHint().width() < fm.horizontalAdvance(text) // 3
    assert w.grab().toImage() != wide.copy(0, 0, w.width(), w.height())

    # hovering the cut text shows all of it (and what the label is for)
    center = QPoint(w.width() // 2, w.height() // 2)
    QApplication.sendEvent(w, QHelpEvent(QHelpEvent.Type.ToolTip, center, w.mapToGlobal(center)))
    assert QToolTip.isVisible() and QToolTip.text().startswith(text)
    assert "What the preset shows" in QToolTip.text()
    QToolTip.hideText()


def test_a_log_axis_writes_numbers_at_whole_decades_only(qtbot):
    from lstm_viz.ui.kit import log_plot_widget

    parent = pg.QtWidgets.QWidget()
    qtbot.addWidget(parent)
    _w, plot = log_plot_widget(parent)
    axis = plot.getAxis("left")
    narrow = axis.tickValues(-0.5, 0.5, 200)            # 0.32 .. 3.2: pyqtgraph's 2×…9× only
    assert narrow[0] == (1.0, [0.0])                     # the decade first: "1"
    assert len(narrow) == 2 and any(abs(v - math.log10(2)) < 1e-9 for v in narrow[1][1])
    # (the 2× … 9× ticks stay, on the second level, which carries no text)
    assert axis.style["maxTextLevel"] == 0
    wide = axis.tickValues(-8.0, 0.0, 200)               # many decades: pyqtgraph's own levels
    assert wide[0][0] is not None and wide[0][0] >= 1.0


def _bars_image(qtbot, add):
    w = pg.PlotWidget(background="w")
    qtbot.addWidget(w)
    w.resize(400, 300)
    plot = w.getPlotItem()
    plot.hideAxis("left")
    plot.hideAxis("bottom")
    plot.setXRange(0, 11, padding=0)
    plot.setYRange(0, 4, padding=0)
    add(plot)
    w.show()
    qtbot.waitExposed(w)
    img = w.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.width(), 4)
    return a[:, :, :3].astype(int).copy()


def test_bars_paint_what_pyqtgraphs_bar_graph_paints(qtbot):
    from lstm_viz.ui.kit import Bars

    x = np.arange(1, 11, dtype=float)
    h = np.array([0.5, 1.0, 3.0, 0.0, 2.5, 1.5, 0.25, 3.5, 2.0, 1.0])
    brush, pen = pg.mkBrush("#0072B2"), pg.mkPen("#000000", width=1)

    def theirs(plot):
        plot.addItem(pg.BarGraphItem(x=x, height=h, width=0.7, brush=brush, pen=pen))

    def ours(plot):
        bars = Bars(width=0.7)
        bars.setBrush(brush)
        bars.setPen(pen)
        bars.set_bars(x, h)
        plot.addItem(bars)

    a, b = _bars_image(qtbot, theirs), _bars_image(qtbot, ours)
    inked_a = (a != 255).any(axis=2)
    inked_b = (b != 255).any(axis=2)
    assert inked_a.sum() > 5000                         # the bars are there
    # the same pixels inked, up to a pixel's rounding along the edges
    assert (inked_a != inked_b).sum() < 0.03 * inked_a.sum()


def test_bars_draw_nan_as_nothing_and_run_huge_values_off_the_top(qtbot):
    from lstm_viz.ui.kit import Bars

    x = np.array([2.0, 5.0, 8.0])
    bars = Bars(width=1.0)

    def add(plot):
        bars.setBrush(pg.mkBrush("#000000"))
        bars.setPen(pg.mkPen("#000000", width=1))
        bars.set_bars(x, [float("nan"), float("inf"), 1e305], cap=8.0)
        plot.addItem(bars)

    a = _bars_image(qtbot, add)
    col = lambda xv: a[:, round(xv / 11 * a.shape[1])]        # noqa: E731 (a pixel column)
    black = lambda c: (c < 60).all(axis=1)                     # noqa: E731
    assert black(col(2.0)).sum() <= 2                          # NaN: at most the zero line
    assert black(col(5.0)).sum() > 0.95 * a.shape[0]           # inf: floor to the top
    assert black(col(8.0)).sum() > 0.95 * a.shape[0]           # beyond the cap: the same
    np.testing.assert_array_equal(bars.values[1][[1, 2]], [np.inf, 1e305])   # kept as given


def test_a_fitting_label_shows_the_longest_text_that_fits_its_lines(qtbot):
    """Wide: the long heading and no tool tip. Narrow: a shorter text that wraps to at
    most max_lines lines (measured from the label's own layout), the long one on hover.
    Wide again: the long one is back."""
    from lstm_viz.ui.kit import FittingLabel

    long_ = "<b>Paths into dL/dC</b><br>along the cell state (through f) &nbsp; through h (gates and W_hh)"
    short = "<b>Paths into dL/dC</b><br>along C &nbsp; through h"
    w = FittingLabel(max_lines=3)
    qtbot.addWidget(w)
    w.set_texts(long_, short)
    w.resize(900, 200)
    w.show()
    qtbot.waitExposed(w)
    assert w.text() == long_ and w.toolTip() == "" and w.full_text() == long_

    line = w.fontMetrics().lineSpacing()
    w.resize(w.fontMetrics().horizontalAdvance("along the cell state") + 8, 200)
    qtbot.wait(10)
    assert w.text() == short and w.toolTip() == long_
    assert w.heightForWidth(w.width()) <= 3 * line + 3 * 4     # at most three lines drawn
    assert w.lines(long_, w.width()) > 3

    w.resize(8, 200)                                   # nothing fits: the shortest
    qtbot.wait(10)
    assert w.text() == short
    w.resize(900, 200)
    qtbot.wait(10)
    assert w.text() == long_ and w.toolTip() == ""


def test_a_new_number_in_a_scrolled_panel_does_not_lay_out_the_window_again(qtbot):
    """A label in a `scrolling` panel that changes on every step of a drag must not make
    the window around re-run its layout (that cost ~2 ms a frame in the comparison view);
    a panel that needs more width still asks for it."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

    from lstm_viz.ui.kit import scrolling

    outer = QWidget()
    qtbot.addWidget(outer)
    panel = QWidget()
    inner = QVBoxLayout(panel)
    number = QLabel("‖dL/dx₁‖ = 8.4e−24", panel)
    inner.addWidget(number)
    area = scrolling(panel, outer)
    QVBoxLayout(outer).addWidget(area)
    outer.resize(400, 300)
    outer.show()
    qtbot.waitExposed(outer)

    requests = []

    class Count(QObject):
        def eventFilter(self, obj, ev):  # noqa: N802
            if ev.type() == QEvent.Type.LayoutRequest:
                requests.append(obj)
            return False

    counter = Count()
    outer.installEventFilter(counter)
    qtbot.wait(20)
    requests.clear()
    for k in range(5):
        number.setText(f"‖dL/dx₁‖ = 8.{k}e−24")
        qtbot.wait(5)
    assert requests == []
    before = area.minimumSizeHint().width()
    wide = QPushButton("a much wider control than the panel had before", panel)
    wide.setMinimumWidth(before + 200)
    inner.addWidget(wide)
    qtbot.waitUntil(lambda: bool(requests), timeout=1000)
    assert area.minimumSizeHint().width() >= before + 200
