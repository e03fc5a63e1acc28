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
    scale : {"unit", "cell", "input", "pre"}
        Which symmetric colour scale the value uses: ±1, or ±(at least 1, the
        largest |value| of the trace's wires on that scale). In gradient mode every
        wire uses the one gradient scale instead.
    anchor : (x, y)
        Centre of the per-unit strip (all units shown).
    vertical : bool
        Orientation of the strip (along the wire).
    value_at : ((x, y), align)
        Where the number of the focused unit goes; align is "l", "r" or "c"
        (the text's left edge, right edge or centre at x; vertically centred on y).
    labels : tuple of (text, (x, y), align)
        Symbol labels in the subscript notation of `lstm_viz.explain`.
    strip_max : float or None
        Longest the per-unit strip may be (the free length of the wire); None: the default.
    """

    key: str
    paths: tuple[tuple[Point, ...], ...]
    arrows: tuple[bool, ...]
    scale: str = "unit"
    anchor: Point | None = None
    vertical: bool = False
    value_at: tuple[Point, str] | None = None
    labels: tuple[tuple[str, Point, str], ...] = ()
    strip_max: float | None = None


@dataclass(frozen=True)
class CellLayout:
    """A whole cell picture.

    Attributes
    ----------
    kind : str
        Cell kind this picture is for ("lstm", "gru", "rnn").
    size : (width, height)
        The scene rectangle, from (0, 0).
    body : (x, y, width, height)
        The rounded rectangle drawn behind the cell.
    nodes, wires : tuples of specs
    bridges : tuple of (x, y)
        Points where a vertical wire passes over a horizontal one (drawn with a gap).
    stages : dict key -> (start, end)
        When each element lights up during a step's animation, as fractions of it
        (a backward step in gradient mode plays them mirrored: last stage first).
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

# Main rows and columns of the LSTM picture. The picture is wide and low because the
# diagram pane is (about 2.5 : 1 in the main window): fitInView is limited by the
# height, so every unit of height saved makes labels bigger on the projector.
_TOP = 108.0        # the cell-state line
_YMI = 220.0        # row of i × C~
_GATES = 332.0      # centre row of the gate boxes
_BUS = 442.0        # the [h_{t-1}, x_t] bus
_R = 22.0           # radius of a point-wise operation
_BOX = (92.0, 60.0)
_XF, _XI, _XG, _XO = 270.0, 440.0, 600.0, 780.0     # gate columns
_XT = 990.0         # output tanh / multiply column
_XH = 1165.0        # where h_t splits (right and up)
_XX = 170.0         # where x_t joins the bus
_YT = 205.0         # centre of the output tanh
_TANH = (92.0, 46.0)
_XO_WIRE = (_XO + _BOX[0] / 2 + _XT - _R) / 2      # middle of the o_t wire
_W, _H = 1300.0, 570.0
_BOX_TOP = _GATES - _BOX[1] / 2
_BOX_BOTTOM = _GATES + _BOX[1] / 2
_VALUE_DY = 32.0    # numbers above / below a horizontal wire
_LABEL_DY = 42.0    # symbol labels beside a horizontal wire (clear of its strip)

LSTM_LAYOUT = CellLayout(
    kind="lstm",
    size=(_W, _H),
    body=(80.0, 45.0, _XH + 30.0 - 80.0, 447.0),
    nodes=(
        NodeSpec("f", "box", (_XF, _GATES), _BOX, "σ", "f"),
        NodeSpec("i", "box", (_XI, _GATES), _BOX, "σ", "i"),
        NodeSpec("g", "box", (_XG, _GATES), _BOX, "tanh", "g"),
        NodeSpec("o", "box", (_XO, _GATES), _BOX, "σ", "o"),
        NodeSpec("mul_f", "circle", (_XF, _TOP), (2 * _R, 2 * _R), "×"),
        NodeSpec("add", "circle", (_XG, _TOP), (2 * _R, 2 * _R), "+"),
        NodeSpec("mul_i", "circle", (_XG, _YMI), (2 * _R, 2 * _R), "×"),
        NodeSpec("tanh_c", "ellipse", (_XT, _YT), _TANH, "tanh"),
        NodeSpec("mul_o", "circle", (_XT, _GATES), (2 * _R, 2 * _R), "×"),
    ),
    wires=(
        WireSpec("", (((_XX, _BUS), (_XO, _BUS)),
                      ((_XF, _BUS), (_XF, _BOX_BOTTOM)), ((_XI, _BUS), (_XI, _BOX_BOTTOM)),
                      ((_XG, _BUS), (_XG, _BOX_BOTTOM)), ((_XO, _BUS), (_XO, _BOX_BOTTOM))),
                 (False, True, True, True, True)),
        WireSpec("h_prev", (((0.0, _BUS), (_XX, _BUS)),), (False,),
                 anchor=(85.0, _BUS), value_at=((92.0, _BUS - _VALUE_DY), "c"),
                 labels=(("h_{t−1}", (6.0, _BUS + 40), "l"),), strip_max=110.0),
        WireSpec("x", (((_XX, _H), (_XX, _BUS)),), (False,), scale="input",
                 anchor=(_XX, 512.0), vertical=True, value_at=((_XX + 18, 498.0), "l"),
                 labels=(("x_t", (_XX - 16, 540.0), "r"),), strip_max=80.0),
        WireSpec("c_prev", (((0.0, _TOP), (_XF - _R, _TOP)),), (True,), scale="cell",
                 anchor=(170.0, _TOP), value_at=((160.0, _TOP - _VALUE_DY), "c"),
                 labels=(("C_{t−1}", (6.0, _TOP + _LABEL_DY), "l"),), strip_max=110.0),
        WireSpec("f", (((_XF, _BOX_TOP), (_XF, _TOP + _R)),), (True,),
                 anchor=(_XF, 214.0), vertical=True, value_at=((_XF - 20, 262.0), "r"),
                 labels=(("f_t", (_XF - 16, 162.0), "r"),), strip_max=100.0),
        WireSpec("i", (((_XI, _BOX_TOP), (_XI, _YMI), (_XG - _R, _YMI)),), (True,),
                 anchor=(_XI, 266.0), vertical=True, value_at=((_XI - 14, 272.0), "r"),
                 labels=(("i_t", (_XI - 16, 200.0), "r"),), strip_max=66.0),
        WireSpec("g", (((_XG, _BOX_TOP), (_XG, _YMI + _R)),), (True,),
                 anchor=(_XG, 272.0), vertical=True, value_at=((_XG + 16, 272.0), "l"),
                 labels=(("C̃_t", (_XG - 16, 272.0), "r"),), strip_max=52.0),
        WireSpec("mul_i", (((_XG, _YMI - _R), (_XG, _TOP + _R)),), (True,),
                 anchor=(_XG, 164.0), vertical=True, value_at=((_XG + 16, 164.0), "l"),
                 strip_max=60.0),
        WireSpec("mul_f", (((_XF + _R, _TOP), (_XG - _R, _TOP)),), (True,), scale="cell",
                 anchor=((_XF + _XG) / 2, _TOP), value_at=(((_XF + _XG) / 2, _TOP - _VALUE_DY), "c")),
        WireSpec("c", (((_XG + _R, _TOP), (_W, _TOP)), ((_XT, _TOP), (_XT, _YT - _TANH[1] / 2))),
                 (True, True), scale="cell",
                 anchor=(800.0, _TOP), value_at=((800.0, _TOP - _VALUE_DY), "c"),
                 labels=(("C_t", (_W - 6, _TOP - _LABEL_DY), "r"),)),
        WireSpec("o", (((_XO + _BOX[0] / 2, _GATES), (_XT - _R, _GATES)),), (True,),
                 anchor=(_XO_WIRE, _GATES), value_at=((_XO_WIRE, _GATES + 56.0), "c"),
                 labels=(("o_t", (_XO_WIRE, _GATES - _LABEL_DY), "c"),), strip_max=110.0),
        WireSpec("tanh_c", (((_XT, _YT + _TANH[1] / 2), (_XT, _GATES - _R)),), (True,),
                 anchor=(_XT, 269.0), vertical=True, value_at=((_XT + 16, 269.0), "l"),
                 strip_max=58.0),
        WireSpec("h", (((_XT + _R, _GATES), (_XH, _GATES), (_XH, _BUS), (_W, _BUS)),
                       ((_XH, _GATES), (_XH, 0.0))), (True, True),
                 anchor=(1234.0, _BUS), value_at=((_W - 6, _BUS - _VALUE_DY), "r"),
                 labels=(("h_t", (_W - 6, _BUS + _LABEL_DY), "r"),
                         ("h_t", (_XH + 16, 30.0), "l")),
                 strip_max=100.0),
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
    legend_at=(360.0, 506.0),
    caption_at=(8.0, 4.0),
)

# --------------------------------------------------------------------------- GRU

# The GRU in the same language: its hidden state runs along the top like the LSTM's
# cell state (z_t × h_{t−1} kept, (1 − z_t) × n_t added), and drops to the bus to feed
# the gates. The reset gate multiplies W_hn h_{t−1} + b_hn on its way into the candidate.
_GXD = 140.0        # where h_{t−1} drops from the top line to the bus
_GXX = 200.0        # where x_t joins the bus
_GXZ = 300.0        # update gate z (and z × h_{t−1} above it)
_GXR = 520.0        # reset gate r
_GX1 = 620.0        # the 1 − z node
_GXM = 720.0        # r × (W_hn h + b_hn)
_GXN = 1000.0       # candidate n, (1 − z) × n and the + on the top line
_GXH = 1180.0       # where h_t also leaves upwards
_R_MID = (_GXR + _BOX[0] / 2 + _GXM - _R) / 2       # middle of the r_t wire
_M_MID = (_GXM + _R + _GXN - _BOX[0] / 2) / 2       # middle of the r × hn wire
_ZN_MID = (_GX1 + _R + _GXN - _R) / 2               # middle of the 1 − z wire

GRU_LAYOUT = CellLayout(
    kind="gru",
    size=(_W, _H),
    body=(80.0, 45.0, _GXH + 30.0 - 80.0, 447.0),
    nodes=(
        NodeSpec("z", "box", (_GXZ, _GATES), _BOX, "σ", "z"),
        NodeSpec("r", "box", (_GXR, _GATES), _BOX, "σ", "r"),
        NodeSpec("n", "box", (_GXN, _GATES), _BOX, "tanh", "n"),
        NodeSpec("mul_z", "circle", (_GXZ, _TOP), (2 * _R, 2 * _R), "×"),
        NodeSpec("one_minus_z", "circle", (_GX1, _YMI), (2 * _R, 2 * _R), "1−"),
        NodeSpec("mul_r", "circle", (_GXM, _GATES), (2 * _R, 2 * _R), "×"),
        NodeSpec("mul_n", "circle", (_GXN, _YMI), (2 * _R, 2 * _R), "×"),
        NodeSpec("add", "circle", (_GXN, _TOP), (2 * _R, 2 * _R), "+"),
    ),
    wires=(
        WireSpec("", (((_GXX, _BUS), (_GXN, _BUS)),
                      ((_GXZ, _BUS), (_GXZ, _BOX_BOTTOM)), ((_GXR, _BUS), (_GXR, _BOX_BOTTOM)),
                      ((_GXN, _BUS), (_GXN, _BOX_BOTTOM))),
                 (False, True, True, True)),
        WireSpec("h_prev", (((0.0, _TOP), (_GXZ - _R, _TOP)),
                            ((_GXD, _TOP), (_GXD, _BUS), (_GXX, _BUS))), (True, False),
                 anchor=(62.0, _TOP), value_at=((6.0, _TOP - _VALUE_DY), "l"),
                 labels=(("h_{t−1}", (6.0, _TOP + _LABEL_DY), "l"),), strip_max=100.0),
        WireSpec("x", (((_GXX, _H), (_GXX, _BUS)),), (False,), scale="input",
                 anchor=(_GXX, 512.0), vertical=True, value_at=((_GXX + 18, 498.0), "l"),
                 labels=(("x_t", (_GXX - 16, 540.0), "r"),), strip_max=80.0),
        WireSpec("z", (((_GXZ, _BOX_TOP), (_GXZ, _TOP + _R)), ((_GXZ, _YMI), (_GX1 - _R, _YMI))),
                 (True, True),
                 anchor=(_GXZ, 264.0), vertical=True, value_at=((_GXZ - 20, 264.0), "r"),
                 labels=(("z_t", (_GXZ - 16, 168.0), "r"),), strip_max=64.0),
        WireSpec("one_minus_z", (((_GX1 + _R, _YMI), (_GXN - _R, _YMI)),), (True,),
                 anchor=(_ZN_MID, _YMI), value_at=((_ZN_MID, _YMI - _VALUE_DY), "c"),
                 strip_max=110.0),
        WireSpec("r", (((_GXR + _BOX[0] / 2, _GATES), (_GXM - _R, _GATES)),), (True,),
                 anchor=(_R_MID, _GATES), value_at=((_R_MID, _GATES + 56.0), "c"),
                 labels=(("r_t", (_R_MID, _GATES - _LABEL_DY), "c"),), strip_max=80.0),
        WireSpec("hn", (((_GXM, _BUS), (_GXM, _GATES + _R)),), (True,), scale="pre",
                 anchor=(_GXM, 398.0), vertical=True, value_at=((_GXM + 16, 414.0), "l"),
                 strip_max=60.0),
        WireSpec("mul_r", (((_GXM + _R, _GATES), (_GXN - _BOX[0] / 2, _GATES)),), (True,),
                 scale="pre", anchor=(_M_MID, _GATES),
                 value_at=((_M_MID, _GATES - _VALUE_DY), "c"), strip_max=90.0),
        WireSpec("n", (((_GXN, _BOX_TOP), (_GXN, _YMI + _R)),), (True,),
                 anchor=(_GXN, 272.0), vertical=True, value_at=((_GXN + 16, 272.0), "l"),
                 labels=(("n_t", (_GXN - 16, 272.0), "r"),), strip_max=52.0),
        WireSpec("mul_n", (((_GXN, _YMI - _R), (_GXN, _TOP + _R)),), (True,),
                 anchor=(_GXN, 164.0), vertical=True, value_at=((_GXN + 16, 164.0), "l"),
                 strip_max=60.0),
        WireSpec("mul_z", (((_GXZ + _R, _TOP), (_GXN - _R, _TOP)),), (True,),
                 anchor=((_GXZ + _GXN) / 2, _TOP),
                 value_at=(((_GXZ + _GXN) / 2, _TOP - _VALUE_DY), "c")),
        WireSpec("h", (((_GXN + _R, _TOP), (_W, _TOP)), ((_GXH, _TOP), (_GXH, 0.0))),
                 (True, True),
                 anchor=(1100.0, _TOP), value_at=((1100.0, _TOP - _VALUE_DY), "c"),
                 labels=(("h_t", (_W - 6, _TOP + _LABEL_DY), "r"),
                         ("h_t", (_GXH + 16, 30.0), "l")),
                 strip_max=100.0),
    ),
    # Inputs arrive, gates light up, the reset scales the recurrent input, the candidate
    # forms, old state and candidate are mixed.
    stages={
        "x": (0.0, 0.2), "h_prev": (0.0, 0.2), "": (0.0, 0.2),
        "r": (0.2, 0.4), "z": (0.2, 0.4), "hn": (0.2, 0.4),
        "mul_r": (0.4, 0.55), "one_minus_z": (0.4, 0.55), "mul_z": (0.4, 0.55),
        "n": (0.55, 0.7), "mul_n": (0.7, 0.82), "add": (0.82, 0.92), "h": (0.85, 1.0),
    },
    legend_at=(360.0, 506.0),
    caption_at=(8.0, 4.0),
)


# --------------------------------------------------------------------------- simple RNN

# One tanh: h_{t−1} has no path along the top; it must go down through the box.
_RXA = 650.0        # the tanh box

RNN_LAYOUT = CellLayout(
    kind="rnn",
    size=(_W, _H),
    body=(80.0, 45.0, _GXH + 30.0 - 80.0, 447.0),
    nodes=(NodeSpec("a", "box", (_RXA, _GATES), _BOX, "tanh", "a"),),
    wires=(
        WireSpec("", (((_GXX, _BUS), (_RXA, _BUS), (_RXA, _BOX_BOTTOM)),), (True,),
                 labels=(("W_ih x_t + W_hh h_{t−1} + b", (_RXA - 16, 400.0), "r"),)),
        WireSpec("h_prev", (((0.0, _TOP), (_GXD, _TOP), (_GXD, _BUS), (_GXX, _BUS)),), (False,),
                 anchor=(62.0, _TOP), value_at=((6.0, _TOP - _VALUE_DY), "l"),
                 labels=(("h_{t−1}", (6.0, _TOP + _LABEL_DY), "l"),), strip_max=100.0),
        WireSpec("x", (((_GXX, _H), (_GXX, _BUS)),), (False,), scale="input",
                 anchor=(_GXX, 512.0), vertical=True, value_at=((_GXX + 18, 498.0), "l"),
                 labels=(("x_t", (_GXX - 16, 540.0), "r"),), strip_max=80.0),
        WireSpec("h", (((_RXA, _BOX_TOP), (_RXA, _TOP), (_W, _TOP)),
                       ((_GXH, _TOP), (_GXH, 0.0))), (True, True),
                 anchor=(950.0, _TOP), value_at=((950.0, _TOP - _VALUE_DY), "c"),
                 labels=(("h_t", (_W - 6, _TOP + _LABEL_DY), "r"),
                         ("h_t", (_GXH + 16, 30.0), "l")),
                 strip_max=110.0),
    ),
    stages={"x": (0.0, 0.3), "h_prev": (0.0, 0.3), "": (0.0, 0.3), "a": (0.3, 0.7),
            "h": (0.65, 1.0)},
    legend_at=(360.0, 506.0),
    caption_at=(8.0, 4.0),
)

#: Layouts by cell kind.
LAYOUTS: dict[str, CellLayout] = {"lstm": LSTM_LAYOUT, "gru": GRU_LAYOUT, "rnn": RNN_LAYOUT}
