"""Geometry of cell diagrams, as plain data: where every node, wire and label sits.

A layout knows nothing about values or colours. The scene builds one generic
item per `NodeSpec` and `WireSpec` and feeds it values by element key, so a GRU
or simple-RNN picture is another `CellLayout` in the same visual language plus
a function giving each key's per-step values.

Coordinates are scene units; the view scales the whole scene to fit, so only
proportions matter. y grows downwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Point = tuple[float, float]


@dataclass(frozen=True)
class NodeSpec:
    """One gate box or point-wise operation.

    Attributes
    ----------
    key : str
        Element key (hover, focus, values).
    shape : {"box", "circle", "ellipse"}
    center, size : (x, y), (width, height)
    symbol : str
        Text inside: ``σ``, ``tanh``, ``×``, ``+``.
    color : str
        Theme gate-colour key for the fill ("" for a neutral operation).
    """

    key: str
    shape: str
    center: Point
    size: tuple[float, float]
    symbol: str
    color: str = ""


@dataclass(frozen=True)
class WireSpec:
    """A wire carrying one element's value (or a neutral bus when ``key`` is "").

    Attributes
    ----------
    key : str
        Element key whose value colours the wire.
    paths : tuple of polylines
        Each polyline is a tuple of points; the first is the main path.
    arrows : tuple of bool
        Whether each polyline ends in an arrow head.
    scale : {"unit", "cell", "input"}
        Which symmetric colour scale the value uses (±1, ±max|C|, ±max|x|).
    anchor : (x, y)
        Centre of the per-unit strip (all units shown).
    vertical : bool
        Orientation of the strip (along the wire).
    value_at : ((x, y), align)
        Where the number of the focused unit goes; align is "l", "r" or "c"
        (the text's left edge, right edge or centre at x; vertically centred on y).
    labels : tuple of (text, (x, y), align)
        Symbol labels in the subscript notation of `lstm_viz.explain`.
    """

    key: str
    paths: tuple[tuple[Point, ...], ...]
    arrows: tuple[bool, ...]
    scale: str = "unit"
    anchor: Point | None = None
    vertical: bool = False
    value_at: tuple[Point, str] | None = None
    labels: tuple[tuple[str, Point, str], ...] = ()


@dataclass(frozen=True)
class CellLayout:
    """A whole cell picture.

    Attributes
    ----------
    kind : str
        Cell kind this picture is for ("lstm").
    size : (width, height)
        The scene rectangle, from (0, 0).
    body : (x, y, width, height)
        The rounded rectangle drawn behind the cell.
    nodes, wires : tuples of specs
    bridges : tuple of (x, y)
        Points where a vertical wire passes over a horizontal one (drawn with a gap).
    stages : dict key -> (start, end)
        When each element lights up during a step's animation, as fractions of it.
    legend_at : (x, y)
        Top-left corner of the colour legend.
    caption_at : (x, y)
        Top-left corner of the step caption.
    """

    kind: str
    size: tuple[float, float]
    body: tuple[float, float, float, float]
    nodes: tuple[NodeSpec, ...]
    wires: tuple[WireSpec, ...]
    bridges: tuple[Point, ...] = ()
    stages: dict = field(default_factory=dict)
    legend_at: Point = (0.0, 0.0)
    caption_at: Point = (0.0, 0.0)

    def node(self, key: str) -> NodeSpec:
        return next(n for n in self.nodes if n.key == key)


# --------------------------------------------------------------------------- LSTM

# Main rows and columns of the LSTM picture.
_TOP = 120.0        # the cell-state line
_GATES = 350.0      # centre row of the gate boxes
_BUS = 455.0        # the [h_{t-1}, x_t] bus
_R = 22.0           # radius of a point-wise operation
_BOX = (84.0, 56.0)
_XF, _XI, _XG, _XO = 250.0, 370.0, 480.0, 620.0     # gate columns
_XT = 780.0         # output tanh / multiply column
_XH = 880.0         # where h_t splits (right and up)
_XX = 150.0         # where x_t joins the bus
_YMI = 235.0        # row of i × C~
_XO_WIRE = (_XO + 42.0 + _XT - 22.0) / 2      # middle of the o_t wire
_W, _H = 1000.0, 610.0
_BOX_TOP = _GATES - _BOX[1] / 2
_BOX_BOTTOM = _GATES + _BOX[1] / 2

LSTM_LAYOUT = CellLayout(
    kind="lstm",
    size=(_W, _H),
    body=(80.0, 60.0, 840.0, 445.0),
    nodes=(
        NodeSpec("f", "box", (_XF, _GATES), _BOX, "σ", "f"),
        NodeSpec("i", "box", (_XI, _GATES), _BOX, "σ", "i"),
        NodeSpec("g", "box", (_XG, _GATES), _BOX, "tanh", "g"),
        NodeSpec("o", "box", (_XO, _GATES), _BOX, "σ", "o"),
        NodeSpec("mul_f", "circle", (_XF, _TOP), (2 * _R, 2 * _R), "×"),
        NodeSpec("add", "circle", (_XG, _TOP), (2 * _R, 2 * _R), "+"),
        NodeSpec("mul_i", "circle", (_XG, _YMI), (2 * _R, 2 * _R), "×"),
        NodeSpec("tanh_c", "ellipse", (_XT, 215.0), (80.0, 42.0), "tanh"),
        NodeSpec("mul_o", "circle", (_XT, _GATES), (2 * _R, 2 * _R), "×"),
    ),
    wires=(
        WireSpec("", (((_XX, _BUS), (_XO, _BUS)),
                      ((_XF, _BUS), (_XF, _BOX_BOTTOM)), ((_XI, _BUS), (_XI, _BOX_BOTTOM)),
                      ((_XG, _BUS), (_XG, _BOX_BOTTOM)), ((_XO, _BUS), (_XO, _BOX_BOTTOM))),
                 (False, True, True, True, True)),
        WireSpec("h_prev", (((0.0, _BUS), (_XX, _BUS)),), (False,),
                 anchor=(70.0, _BUS), value_at=((70.0, _BUS - 26), "c"),
                 labels=(("h_{t−1}", (8.0, _BUS + 32), "l"),)),
        WireSpec("x", (((_XX, _H), (_XX, _BUS)),), (False,), scale="input",
                 anchor=(_XX, 548.0), vertical=True, value_at=((_XX + 18, 535.0), "l"),
                 labels=(("x_t", (_XX - 16, 580.0), "r"),)),
        WireSpec("c_prev", (((0.0, _TOP), (_XF - _R, _TOP)),), (True,), scale="cell",
                 anchor=(160.0, _TOP), value_at=((160.0, _TOP - 26), "c"),
                 labels=(("C_{t−1}", (8.0, _TOP - 30), "l"),)),
        WireSpec("f", (((_XF, _BOX_TOP), (_XF, _TOP + _R)),), (True,),
                 anchor=(_XF, 232.0), vertical=True, value_at=((_XF - 16, 262.0), "r"),
                 labels=(("f_t", (_XF - 16, 200.0), "r"),)),
        WireSpec("i", (((_XI, _BOX_TOP), (_XI, _YMI), (_XG - _R, _YMI)),), (True,),
                 anchor=(_XI, 284.0), vertical=True, value_at=((_XI - 16, 298.0), "r"),
                 labels=(("i_t", (_XI - 16, 262.0), "r"),)),
        WireSpec("g", (((_XG, _BOX_TOP), (_XG, _YMI + _R)),), (True,),
                 anchor=(_XG, 290.0), vertical=True, value_at=((_XG + 16, 304.0), "l"),
                 labels=(("C̃_t", (_XG + 16, 274.0), "l"),)),
        WireSpec("mul_i", (((_XG, _YMI - _R), (_XG, _TOP + _R)),), (True,),
                 anchor=(_XG, 178.0), vertical=True, value_at=((_XG + 16, 178.0), "l")),
        WireSpec("mul_f", (((_XF + _R, _TOP), (_XG - _R, _TOP)),), (True,), scale="cell",
                 anchor=(365.0, _TOP), value_at=((365.0, _TOP - 26), "c")),
        WireSpec("c", (((_XG + _R, _TOP), (_W, _TOP)), ((_XT, _TOP), (_XT, 194.0))),
                 (True, True), scale="cell",
                 anchor=(630.0, _TOP), value_at=((630.0, _TOP - 26), "c"),
                 labels=(("C_t", (_W - 8, _TOP - 30), "r"),)),
        WireSpec("o", (((_XO + _BOX[0] / 2, _GATES), (_XT - _R, _GATES)),), (True,),
                 anchor=(_XO_WIRE, _GATES), value_at=((_XO_WIRE, _GATES + 30), "c"),
                 labels=(("o_t", (_XO_WIRE, _GATES - 30), "c"),)),
        WireSpec("tanh_c", (((_XT, 236.0), (_XT, _GATES - _R)),), (True,),
                 anchor=(_XT, 284.0), vertical=True, value_at=((_XT + 16, 284.0), "l")),
        WireSpec("h", (((_XT + _R, _GATES), (_XH, _GATES), (_XH, _BUS), (_W, _BUS)),
                       ((_XH, _GATES), (_XH, 0.0))), (True, True),
                 anchor=(945.0, _BUS), value_at=((_W - 6, _BUS - 26), "r"),
                 labels=(("h_t", (_W - 8, _BUS + 32), "r"), ("h_t", (_XH + 14, 22.0), "l"))),
    ),
    bridges=((_XH, _TOP),),
    # Inputs arrive, gates light up, the old state is scaled, the write is added,
    # the output is formed.
    stages={
        "x": (0.0, 0.2), "h_prev": (0.0, 0.2), "": (0.0, 0.2), "c_prev": (0.0, 0.2),
        "f": (0.2, 0.4), "i": (0.2, 0.4), "g": (0.2, 0.4), "o": (0.2, 0.4),
        "mul_f": (0.4, 0.55),
        "mul_i": (0.55, 0.7), "add": (0.55, 0.7), "c": (0.6, 0.75),
        "tanh_c": (0.75, 0.87), "mul_o": (0.85, 1.0), "h": (0.85, 1.0),
    },
    legend_at=(300.0, 548.0),
    caption_at=(10.0, 8.0),
)

#: Layouts by cell kind; GRU and RNN pictures are added here.
LAYOUTS: dict[str, CellLayout] = {"lstm": LSTM_LAYOUT}
