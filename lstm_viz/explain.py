"""Words and numbers for every element of a cell (LSTM, GRU, simple RNN): what it computes,
what it means now, and (in gradient mode) how much the loss depends on it.

The diagram's tool tips and the equations panel both read this module, so an
element is explained the same way everywhere. Pure Python and NumPy (no Qt).

Text conventions
----------------
Plain Unicode with a light subscript notation that views turn into rich text:
``f_t``, ``h_{t−1}``, ``C̃_t`` (C + combining tilde). Numbers go through `fmt`
(about three significant digits, a real minus sign ``−``). Multiplication of
numbers is written ``·``; element-wise products of vectors ``⊙``.

Element keys (shared with the diagram and `AppState.focus`), per cell kind::

    LSTM  x  h_prev  c_prev  f  i  g  o  mul_f  mul_i  add  c  tanh_c  mul_o  h
    GRU   x  h_prev  r  z  n  hn  mul_r  one_minus_z  mul_n  mul_z  add  h
    RNN   x  h_prev  a  h

Equation keys: LSTM ``f i g o c h`` (six equations), GRU ``r z n h`` (four), RNN ``a``
(one); see `equations` and `equation_of`. Gate keys (``f i g o``, ``r z n``, ``a``) are
also the weight blocks' names in `lstm_viz.model.GATES`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .model import Network, Trace

#: The six LSTM equations: (equation key, symbolic text), in the order f i g o c h.
EQUATIONS: tuple[tuple[str, str], ...] = (
    ("f", "f_t = σ(W_f·[h_{t−1}, x_t] + b_f)"),
    ("i", "i_t = σ(W_i·[h_{t−1}, x_t] + b_i)"),
    ("g", "C̃_t = tanh(W_C·[h_{t−1}, x_t] + b_C)"),
    ("o", "o_t = σ(W_o·[h_{t−1}, x_t] + b_o)"),
    ("c", "C_t = f_t ⊙ C_{t−1} + i_t ⊙ C̃_t"),
    ("h", "h_t = o_t ⊙ tanh(C_t)"),
)

_EQ_TEXT = dict(EQUATIONS)

#: Element key -> the equation it belongs to. The inputs ``x`` and ``h_prev`` feed all
#: four gate equations, so they map to none and are absent here (use ``.get``).
EQUATION_OF: dict[str, str] = {
    "f": "f", "i": "i", "g": "g", "o": "o",
    "c_prev": "c", "mul_f": "c", "mul_i": "c", "add": "c", "c": "c",
    "tanh_c": "h", "mul_o": "h", "h": "h",
}

#: Every element key `explain` understands.
ELEMENT_KEYS: tuple[str, ...] = (
    "x", "h_prev", "c_prev", "f", "i", "g", "o", "mul_f", "mul_i", "add", "c", "tanh_c",
    "mul_o", "h",
)

#: How many units are listed one per line before the rest are summarised.
MAX_LISTED_UNITS = 8

_GATE_SYMBOL = {"f": "f_t", "i": "i_t", "g": "C̃_t", "o": "o_t"}
_GATE_NAME = {"f": "forget gate", "i": "input gate", "g": "candidate", "o": "output gate"}

#: The four GRU equations (PyTorch's formulation), in the order r z n h.
GRU_EQUATIONS: tuple[tuple[str, str], ...] = (
    ("r", "r_t = σ(W_ir x_t + b_ir + W_hr h_{t−1} + b_hr)"),
    ("z", "z_t = σ(W_iz x_t + b_iz + W_hz h_{t−1} + b_hz)"),
    ("n", "n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t−1} + b_hn))"),
    ("h", "h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}"),
)

#: The simple RNN's one equation (key ``a``, the name of its weight block).
RNN_EQUATIONS: tuple[tuple[str, str], ...] = (
    ("a", "h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)"),
)

_EQUATIONS_BY_KIND = {"lstm": EQUATIONS, "gru": GRU_EQUATIONS, "rnn": RNN_EQUATIONS}

_EQUATION_OF_BY_KIND: dict[str, dict[str, str]] = {
    "lstm": EQUATION_OF,
    "gru": {"r": "r", "z": "z", "n": "n", "hn": "n", "mul_r": "n",
            "one_minus_z": "h", "mul_n": "h", "mul_z": "h", "add": "h", "h": "h"},
    "rnn": {"a": "a", "h": "a"},
}

_ELEMENT_KEYS_BY_KIND: dict[str, tuple[str, ...]] = {
    "lstm": ELEMENT_KEYS,
    "gru": ("x", "h_prev", "r", "z", "n", "hn", "mul_r", "one_minus_z", "mul_n", "mul_z",
            "add", "h"),
    "rnn": ("x", "h_prev", "a", "h"),
}


def equations(kind: str) -> tuple[tuple[str, str], ...]:
    """The (equation key, symbolic text) pairs of cell ``kind`` ("lstm", "gru", "rnn")."""
    return _EQUATIONS_BY_KIND[kind]


def equations_for(kind: str, network: Network | None = None) -> tuple[tuple[str, str], ...]:
    """`equations` as ``network``'s experiments make them: a ReLU forget gate is written
    ``ReLU(…)``, and a clamped gate says what it is held at and from which step."""
    eqs = equations(kind)
    if network is None:
        return eqs
    out = []
    for key, text in eqs:
        if kind == "lstm" and key == "f" and _relu_forget(network):
            text = _symbolic(kind, "f", True)
        held = [cl for cl in network.options.clamps if cl.gate == key]
        if held:
            text += "  (" + "; ".join(f"held at {fmt(cl.value)} from step {max(0, cl.start) + 1} on"
                                      for cl in held) + ")"
        out.append((key, text))
    return tuple(out)


def equation_of(kind: str) -> dict[str, str]:
    """Element key -> equation key for cell ``kind`` (inputs x, h_prev map to none)."""
    return _EQUATION_OF_BY_KIND[kind]


def element_keys(kind: str) -> tuple[str, ...]:
    """Every element key `explain` understands for cell ``kind``."""
    return _ELEMENT_KEYS_BY_KIND[kind]



@dataclass(frozen=True)
class Explanation:
    """What one element of the cell is and does at one step.

    Attributes
    ----------
    key : str
        Element key (see the module docstring).
    title : str
        Short name with its symbol, e.g. ``"Forget gate f_t"``.
    symbolic : str
        The formula in symbols, e.g. ``"f_t = σ(W_f·[h_{t−1}, x_t] + b_f)"``.
    numeric : str
        The formula with this step's numbers: for one unit a single line such as
        ``"f_t = σ(1.37) = 0.797"``; for all units one ``"unit k: ..."`` line per unit.
    meaning : str
        One plain sentence on what the value means right now.
    value : float or None
        The element's value for the focused unit at this step; None when all units
        are shown or the element is the input vector.
    """

    key: str
    title: str
    symbolic: str
    numeric: str
    meaning: str
    value: float | None


# --------------------------------------------------------------------------- formatting

def fmt(v: float) -> str:
    """A number for people: about three significant digits and a real minus sign.

    ``0.79751 -> "0.798"``, ``1.3712 -> "1.37"``, ``-12.345 -> "−12.3"``,
    ``0.0000123 -> "1.2e−5"``, ``0 -> "0.000"``.
    """
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    a = abs(v)
    if a == 0.0:
        s = "0.000"
    elif a < 0.0005:
        s = f"{v:.1e}".replace("e-0", "e-").replace("e+0", "e")
    elif a < 1.0:
        s = f"{v:.3f}"
    elif a < 10.0:
        s = f"{v:.2f}"
    elif a < 100.0:
        s = f"{v:.1f}"
    elif a < 1e6:
        s = f"{v:.0f}"
    else:
        s = f"{v:.2e}".replace("e+0", "e").replace("e+", "e")
    if s.lstrip("-") in ("0.000", "0.00", "0.0", "0"):
        s = s.lstrip("-")                      # never show "−0.000"
    return s.replace("-", "−")


def _in_vector(v: float) -> str:
    """`fmt`, except that 1 <= |v| < 10 keeps three decimals like the numbers under 1 do,
    so that a vector does not read ``(0.995, 1.00)``."""
    if 1.0 <= abs(v) < 10.0:
        return f"{v:.3f}".replace("-", "−")
    return fmt(v)


def _vector(values: np.ndarray, limit: int = MAX_LISTED_UNITS) -> str:
    """``(0.998, 0.500, 1.370)``, shortened with ``…`` past ``limit`` entries."""
    v = np.asarray(values, dtype=float).reshape(-1)
    if v.size <= limit:
        return "(" + ", ".join(_in_vector(x) for x in v) + ")"
    head = ", ".join(_in_vector(x) for x in v[: limit - 1])
    return f"({head}, …, {_in_vector(v[-1])})"


def _pct(v: float) -> str:
    """``0.5 -> "50%"``; one decimal near the ends (``0.998 -> "99.8%"``)."""
    p = 100.0 * v
    if 99.95 <= p < 100.0:
        return "more than 99.9%"
    if 0.0 < p < 0.05:
        return "less than 0.1%"
    return f"{p:.1f}%" if 0.0 < p < 1.0 or 99.0 < p < 100.0 else f"{round(p)}%"


# --------------------------------------------------------------------------- per-unit facts

def _clamp_at(network: Network | None, gate: str, t: int):
    """The Clamp holding ``gate`` at step ``t`` (the last listed wins, as in the engine)."""
    if network is None:
        return None
    hit = None
    for cl in network.options.clamps:
        if cl.gate == gate and t >= max(0, cl.start):
            hit = cl
    return hit


def _relu_forget(network: Network | None) -> bool:
    return network is not None and network.options.forget_activation == "relu"


def _activation(fn: str, a: float) -> float:
    """The gate's own nonlinearity, for saying what a clamped gate would have been."""
    if fn == "tanh":
        return math.tanh(a)
    if fn == "ReLU":
        return max(a, 0.0)
    return 0.5 * math.tanh(0.5 * a) + 0.5          # σ(a), overflow-free


def _gate_numbers(tr: Trace, t: int, u: int, gate: str, network: Network | None) -> str:
    """``σ(1.37) = 0.797`` (or ReLU / tanh / clamped) for one unit, without the left side."""
    val = float(tr.gates[gate][t, u])
    cl = _clamp_at(network, gate, t)
    pre = float(tr.preacts[gate][t, u])
    fn = ("tanh" if gate in ("g", "n")
          else ("ReLU" if gate == "f" and tr.kind == "lstm" and _relu_forget(network) else "σ"))
    if cl is not None:
        free = _activation(fn, pre)
        return f"{fmt(val)} (clamped; {fn}({fmt(pre)}) would give {fmt(free)})"
    return f"{fn}({fmt(pre)}) = {fmt(val)}"


def _unit_values(tr: Trace, t: int, u: int) -> dict[str, float]:
    """Every scalar of the cell for unit ``u`` at step ``t``."""
    i, f, g, o = (float(tr.gates[k][t, u]) for k in "ifgo")
    c_prev = float(tr.c_prev(t)[u])
    c = float(tr.c[t, u])
    return {
        "h_prev": float(tr.h_prev(t)[u]), "c_prev": c_prev, "i": i, "f": f, "g": g, "o": o,
        "mul_f": f * c_prev, "mul_i": i * g, "add": c, "c": c,
        "tanh_c": math.tanh(c), "mul_o": float(tr.h[t, u]), "h": float(tr.h[t, u]),
    }


def _numbers(tr: Trace, t: int, u: int, key: str, network: Network | None) -> str:
    """The substituted formula for one unit (the right-hand side chain, with its left side)."""
    v = _unit_values(tr, t, u)
    if key in ("f", "i", "g", "o"):
        return f"{_GATE_SYMBOL[key]} = {_gate_numbers(tr, t, u, key, network)}"
    if key == "h_prev":
        return f"h_{{t−1}} = {fmt(v['h_prev'])}"
    if key == "c_prev":
        return f"C_{{t−1}} = {fmt(v['c_prev'])}"
    if key == "mul_f":
        return f"f_t·C_{{t−1}} = {fmt(v['f'])}·{fmt(v['c_prev'])} = {fmt(v['mul_f'])}"
    if key == "mul_i":
        return f"i_t·C̃_t = {fmt(v['i'])}·{fmt(v['g'])} = {fmt(v['mul_i'])}"
    if key in ("add", "c"):
        return (f"C_t = {fmt(v['f'])}·{fmt(v['c_prev'])} + {fmt(v['i'])}·{fmt(v['g'])}"
                f" = {fmt(v['mul_f'])} + {fmt(v['mul_i'])} = {fmt(v['c'])}")
    if key == "tanh_c":
        return f"tanh(C_t) = tanh({fmt(v['c'])}) = {fmt(v['tanh_c'])}"
    if key in ("mul_o", "h"):
        return f"h_t = {fmt(v['o'])}·tanh({fmt(v['c'])}) = {fmt(v['o'])}·{fmt(v['tanh_c'])} = {fmt(v['h'])}"
    raise KeyError(key)


def _sentence(key: str, v: dict[str, float], relu_f: bool, brief: bool = False) -> str:
    """One sentence on what ``key`` means for one unit with values ``v``.

    ``brief`` leaves the numbers out, so that units telling the same story share a
    sentence when all units are shown.
    """
    f, i, g, o = (v.get(k, 0.0) for k in "figo")

    def num(text: str) -> str:          # a parenthesised number, dropped when brief
        return "" if brief else text

    if key == "f":
        if f > 1.0:
            return ("With a ReLU forget gate f_t can exceed 1: the old cell state is multiplied"
                    f"{num(' by ' + fmt(f))} and grows instead of fading.")
        if f >= 0.9:
            return f"The forget gate is nearly open: the cell keeps almost all{num(f' ({_pct(f)})')} of its old state."
        if f <= 0.1:
            extra = " (a ReLU gives exactly 0 when its input is not positive)" if relu_f and f == 0 else ""
            return f"The forget gate is nearly shut: the old cell state is wiped{extra}."
        return ("The forget gate keeps " + ("part" if brief else f"about {_pct(f)}")
                + " of the old cell state and lets the rest fade.")
    if key == "i":
        if i >= 0.9:
            return "The input gate is open: the candidate C̃_t is written into the cell almost in full."
        if i <= 0.1:
            return "The input gate is shut: almost nothing new is written into the cell at this step."
        return ("The input gate lets " + ("part" if brief else f"about {_pct(i)}")
                + " of the candidate C̃_t into the cell.")
    if key == "g":
        if abs(g) < 0.1:
            return "The candidate proposes almost nothing new for the cell at this step."
        sign = "positive" if g > 0 else "negative"
        gate = "open, so it is written" if i >= 0.5 else "mostly shut, so little of it gets in"
        return f"The candidate proposes a {sign} value{num(f' ({fmt(g)})')} to store; the input gate is {gate}."
    if key == "o":
        if o >= 0.9:
            return "The output gate is open: h_t shows the squashed cell state almost in full."
        if o <= 0.1:
            return "The output gate is shut: h_t stays near 0 whatever the cell remembers."
        return ("The output gate passes " + ("part" if brief else f"about {_pct(o)}")
                + " of tanh(C_t) on to h_t.")
    if key == "x":
        return "The input at this step; it enters every gate together with h_{t−1}."
    if key == "h_prev":
        return ("The output of the previous step, fed back into every gate"
                + (" (at the first step, the initial state h_0)." if v.get("first") else "."))
    if key == "c_prev":
        if abs(v["c_prev"]) < 0.05:
            return "The memory carried in from the previous step is nearly empty."
        sign = "positive" if v["c_prev"] > 0 else "negative"
        return f"The memory carried in from the previous step holds a {sign} value{num(' of ' + fmt(v['c_prev']))}."
    if key == "mul_f":
        if abs(v["c_prev"]) < 0.05:
            return "There is almost no old memory to keep."
        if f <= 0.1:
            return "The forget gate wipes the old memory" + num(f": {fmt(v['mul_f'])} is left") + "."
        if f > 1.0:
            return ("f_t is above 1 (a ReLU forget gate), so the old memory grows"
                    + num(f": {fmt(v['c_prev'])} × {fmt(f)} = {fmt(v['mul_f'])}") + ".")
        if f >= 0.9:
            return "The old memory survives almost unchanged" + num(f" ({fmt(v['c_prev'])} → {fmt(v['mul_f'])})") + "."
        return "Part of the old memory survives" + num(f": {fmt(v['c_prev'])} × {fmt(f)} = {fmt(v['mul_f'])}") + "."
    if key == "mul_i":
        if abs(v["mul_i"]) < 0.05:
            return "Almost nothing is written into the memory at this step."
        return ("The gated candidate is written into the memory"
                + num(f": {fmt(g)} × {fmt(i)} = {fmt(v['mul_i'])}") + ".")
    if key in ("add", "c"):
        kept, new = abs(v["mul_f"]), abs(v["mul_i"])
        if kept < 0.05 and new < 0.05:
            story = "the cell is nearly empty after this step"
        elif new < 0.1 * kept:
            story = "the cell mostly keeps its old memory"
        elif kept < 0.1 * new:
            story = "the cell now holds mostly the new content"
        else:
            story = "old memory and new content are mixed"
        lead = "Kept memory plus new write" if key == "add" else "The cell state passed on to the next step"
        value = num(f" (C_t = {fmt(v['c'])})")
        return f"{lead}: {story}{value}."
    if key == "tanh_c":
        return ("tanh squashes the cell state into −1..1"
                + num(f" ({fmt(v['c'])} → {fmt(v['tanh_c'])})") + " before the output gate scales it.")
    if key in ("mul_o", "h"):
        if o <= 0.1:
            why = "the output gate hides the memory, so h_t is near 0"
        elif o >= 0.9:
            why = "the output gate shows the memory, so h_t follows tanh(C_t)"
        else:
            why = "the output gate passes " + ("part" if brief else _pct(o)) + " of tanh(C_t)"
        tail = "; h_t also goes on to the next step" if key == "h" else ""
        return f"The cell's output at this step: {why}{tail}."
    raise KeyError(key)


def _clamp_note(cl) -> str:
    return f"Held at {fmt(cl.value)} from step {max(0, cl.start) + 1} on by an experiment. "


# --------------------------------------------------------------------------- GRU and RNN

def _gru_values(tr: Trace, t: int, u: int) -> dict[str, float]:
    """Every scalar of the GRU cell for unit ``u`` at step ``t``."""
    r, z, n = (float(tr.gates[k][t, u]) for k in "rzn")
    h_prev = float(tr.h_prev(t)[u])
    hn = float(tr.preacts["hn"][t, u])               # W_hn h_{t-1} + b_hn
    mul_r = r * hn
    h = float(tr.h[t, u])
    return {
        "h_prev": h_prev, "r": r, "z": z, "n": n, "hn": hn, "mul_r": mul_r,
        "xin": float(tr.preacts["n"][t, u]) - mul_r,   # W_in x_t + b_in
        "pre_n": float(tr.preacts["n"][t, u]),
        "one_minus_z": 1.0 - z, "mul_n": (1.0 - z) * n, "mul_z": z * h_prev,
        "add": h, "h": h,
    }


def _gru_numbers(tr: Trace, t: int, u: int, key: str, network: Network | None) -> str:
    """The substituted GRU formula of ``key`` for one unit."""
    v = _gru_values(tr, t, u)
    if key in ("r", "z"):
        return f"{key}_t = {_gate_numbers(tr, t, u, key, network)}"
    if key == "n":
        chain = (f"tanh({fmt(v['xin'])} + {fmt(v['r'])}·{fmt(v['hn'])}) = "
                 f"tanh({fmt(v['pre_n'])})")
        if _clamp_at(network, "n", t) is not None:
            return f"n_t = {fmt(v['n'])} (clamped; {chain} would give {fmt(math.tanh(v['pre_n']))})"
        return f"n_t = {chain} = {fmt(v['n'])}"
    if key == "h_prev":
        return f"h_{{t−1}} = {fmt(v['h_prev'])}"
    if key == "hn":
        return f"W_hn h_{{t−1}} + b_hn = {fmt(v['hn'])}"
    if key == "mul_r":
        return f"r_t·(W_hn h_{{t−1}} + b_hn) = {fmt(v['r'])}·{fmt(v['hn'])} = {fmt(v['mul_r'])}"
    if key == "one_minus_z":
        return f"1 − z_t = 1 − {fmt(v['z'])} = {fmt(v['one_minus_z'])}"
    if key == "mul_n":
        return f"(1 − z_t)·n_t = {fmt(v['one_minus_z'])}·{fmt(v['n'])} = {fmt(v['mul_n'])}"
    if key == "mul_z":
        return f"z_t·h_{{t−1}} = {fmt(v['z'])}·{fmt(v['h_prev'])} = {fmt(v['mul_z'])}"
    if key in ("add", "h"):
        return (f"h_t = {fmt(v['one_minus_z'])}·{fmt(v['n'])} + {fmt(v['z'])}·{fmt(v['h_prev'])}"
                f" = {fmt(v['mul_n'])} + {fmt(v['mul_z'])} = {fmt(v['h'])}")
    raise KeyError(key)


def _gru_sentence(key: str, v: dict[str, float], brief: bool = False) -> str:
    """One sentence on what GRU element ``key`` means for one unit with values ``v``."""
    r, z, n = (v.get(k, 0.0) for k in "rzn")

    def num(text: str) -> str:
        return "" if brief else text

    if key == "r":
        if r >= 0.9:
            return "The reset gate is open: the candidate sees the old state h_{t−1} in full."
        if r <= 0.1:
            return ("The reset gate is shut: the candidate ignores h_{t−1} and is built from "
                    "the input alone.")
        return ("The reset gate lets the candidate see " + ("part" if brief else f"about {_pct(r)}")
                + " of what h_{t−1} contributes.")
    if key == "z":
        if z >= 0.9:
            return "The update gate is near 1: the unit keeps its old state and ignores the candidate."
        if z <= 0.1:
            return "The update gate is near 0: the old state is replaced by the candidate."
        return ("The update gate keeps " + ("part" if brief else f"about {_pct(z)}")
                + " of the old state and takes the rest from the candidate.")
    if key == "n":
        if abs(n) < 0.1:
            return "The candidate proposes a new state near 0."
        sign = "positive" if n > 0 else "negative"
        share = "mostly" if z < 0.5 else "only a little"
        return (f"The candidate proposes a {sign} new state{num(f' ({fmt(n)})')}; "
                f"since z_t is {'low' if z < 0.5 else 'high'}, it gets in {share}.")
    if key == "x":
        return "The input at this step; it enters both gates and the candidate."
    if key == "h_prev":
        return ("The state from the previous step"
                + (" (at the first step, the initial state h_0)" if v.get("first") else "")
                + ": it feeds both gates, reaches the candidate through r_t and is kept in "
                  "part through z_t.")
    if key == "hn":
        return ("What the old state offers the candidate, before the reset gate scales it"
                + num(f" ({fmt(v['hn'])})") + ".")
    if key == "mul_r":
        if r <= 0.1:
            return "The reset gate blocks the old state: the candidate hardly sees h_{t−1}."
        return ("The old state's share of the candidate's input, after the reset gate"
                + num(f": {fmt(v['hn'])} × {fmt(r)} = {fmt(v['mul_r'])}") + ".")
    if key == "one_minus_z":
        return ("The share of the candidate that enters the new state"
                + num(f" ({_pct(1.0 - z)})") + "; the old state gets the rest, z_t.")
    if key == "mul_n":
        return "What the candidate adds to the new state" + num(f" ({fmt(v['mul_n'])})") + "."
    if key == "mul_z":
        return ("The part of the old state carried straight into h_t" + num(f" ({fmt(v['mul_z'])})")
                + ": no weights and no squashing on this path, like the LSTM's cell state.")
    if key in ("add", "h"):
        kept, new = abs(v["mul_z"]), abs(v["mul_n"])
        if kept < 0.05 and new < 0.05:
            story = "the state is near 0 after this step"
        elif new < 0.1 * kept:
            story = "the unit mostly keeps its old state"
        elif kept < 0.1 * new:
            story = "the unit now holds mostly the candidate"
        else:
            story = "old state and candidate are mixed"
        if key == "add":
            return f"Kept old state plus admitted candidate: {story}{num(f' (h_t = {fmt(v[key])})')}."
        return (f"The GRU's output and its memory, passed on to the next step: {story}"
                f"{num(f' (h_t = {fmt(v[key])})')}.")
    raise KeyError(key)


def _rnn_values(tr: Trace, t: int, u: int) -> dict[str, float]:
    """Every scalar of the simple RNN cell for unit ``u`` at step ``t`` (``a`` is its output)."""
    h = float(tr.h[t, u])
    return {"h_prev": float(tr.h_prev(t)[u]), "pre": float(tr.preacts["a"][t, u]),
            "a": h, "h": h}


def _rnn_numbers(tr: Trace, t: int, u: int, key: str, network: Network | None) -> str:
    v = _rnn_values(tr, t, u)
    if key in ("a", "h"):
        return f"h_t = tanh({fmt(v['pre'])}) = {fmt(v['h'])}"
    if key == "h_prev":
        return f"h_{{t−1}} = {fmt(v['h_prev'])}"
    raise KeyError(key)


def _rnn_sentence(key: str, v: dict[str, float], brief: bool = False) -> str:
    h = v.get("h", 0.0)
    if key == "x":
        return "The input at this step: W_ih x_t is added to W_hh h_{t−1} inside the one tanh."
    if key == "h_prev":
        return ("The state from the previous step"
                + (" (at the first step, the initial state h_0)" if v.get("first") else "")
                + ": it reaches h_t only through W_hh and the tanh.")
    if key in ("a", "h"):
        if abs(h) >= 0.9:
            slope = "" if brief else f" (its slope 1 − h_t² is only {fmt(1.0 - h * h)})"
            lead = "The tanh is saturated: h_t is pinned near " + ("+1" if h > 0 else "−1")
            return lead + f" and small changes of its input barely move it{slope}."
        if key == "a":
            return ("The weighted input and old state, squashed by one tanh: the whole memory is "
                    "rewritten through this box at every step.")
        return "The RNN's output and its only memory, rewritten completely at every step."
    raise KeyError(key)


# --------------------------------------------------------------------------- public API

_TITLES = {
    "x": "Input x_t",
    "h_prev": "Previous hidden state h_{t−1}",
    "c_prev": "Previous cell state C_{t−1}",
    "f": "Forget gate f_t",
    "i": "Input gate i_t",
    "g": "Candidate C̃_t",
    "o": "Output gate o_t",
    "mul_f": "Forget: f_t × C_{t−1}",
    "mul_i": "Write: i_t × C̃_t",
    "add": "Update: C_t = kept + written",
    "c": "Cell state C_t",
    "tanh_c": "Output squashing tanh(C_t)",
    "mul_o": "Output: o_t × tanh(C_t)",
    "h": "Hidden state h_t",
}

_SYMBOLIC = {
    "x": "x_t",
    "h_prev": "h_{t−1}",
    "c_prev": "C_{t−1}",
    "mul_f": "f_t ⊙ C_{t−1}",
    "mul_i": "i_t ⊙ C̃_t",
    "tanh_c": "tanh(C_t)",
    "mul_o": _EQ_TEXT["h"],
}


_GRU_TITLES = {
    "x": "Input x_t",
    "h_prev": "Previous hidden state h_{t−1}",
    "r": "Reset gate r_t",
    "z": "Update gate z_t",
    "n": "Candidate n_t",
    "hn": "Recurrent input W_hn h_{t−1} + b_hn",
    "mul_r": "Reset: r_t × (W_hn h_{t−1} + b_hn)",
    "one_minus_z": "Candidate share 1 − z_t",
    "mul_n": "Admit: (1 − z_t) × n_t",
    "mul_z": "Keep: z_t × h_{t−1}",
    "add": "Update: h_t = admitted + kept",
    "h": "Hidden state h_t",
}

_GRU_SYMBOLIC = {
    "x": "x_t",
    "h_prev": "h_{t−1}",
    "hn": "W_hn h_{t−1} + b_hn",
    "mul_r": "r_t ⊙ (W_hn h_{t−1} + b_hn)",
    "one_minus_z": "1 − z_t",
    "mul_n": "(1 − z_t) ⊙ n_t",
    "mul_z": "z_t ⊙ h_{t−1}",
}

_RNN_TITLES = {
    "x": "Input x_t",
    "h_prev": "Previous hidden state h_{t−1}",
    "a": "New hidden state h_t = tanh(…)",
    "h": "Hidden state h_t",
}

_RNN_SYMBOLIC = {"x": "x_t", "h_prev": "h_{t−1}"}


@dataclass(frozen=True)
class _Kind:
    """What `explain` needs to know about one cell kind."""

    titles: dict
    symbolic: dict
    values: object          # (trace, t, u) -> dict of scalars
    numbers: object         # (trace, t, u, key, network) -> str
    sentence: object        # (key, values, relu_f, brief) -> str
    gates: tuple


_KINDS = {
    "lstm": _Kind(_TITLES, _SYMBOLIC, _unit_values, _numbers, _sentence, ("f", "i", "g", "o")),
    "gru": _Kind(_GRU_TITLES, _GRU_SYMBOLIC, _gru_values, _gru_numbers,
                 lambda k, v, relu_f, brief=False: _gru_sentence(k, v, brief), ("r", "z", "n")),
    "rnn": _Kind(_RNN_TITLES, _RNN_SYMBOLIC, _rnn_values, _rnn_numbers,
                 lambda k, v, relu_f, brief=False: _rnn_sentence(k, v, brief), ("a",)),
}


def _check(trace: Trace, t: int, unit: int, key: str) -> None:
    if trace.kind not in _KINDS:
        raise ValueError(f"no explanations for a {trace.kind!r} cell")
    if key not in element_keys(trace.kind):
        raise KeyError(key)
    if not 0 <= t < trace.steps:
        raise ValueError(f"step {t} is outside 0..{trace.steps - 1}")
    if not -1 <= unit < trace.hidden_size:
        raise ValueError(f"unit {unit} is outside -1..{trace.hidden_size - 1}")


def _symbolic(kind: str, key: str, relu_f: bool) -> str:
    if kind == "lstm" and relu_f and key == "f":
        return "f_t = ReLU(W_f·[h_{t−1}, x_t] + b_f)"
    eqs = dict(equations(kind))
    spec = _KINDS[kind]
    return eqs.get(key) or spec.symbolic.get(key) or eqs[equation_of(kind)[key]]


def explain(trace: Trace, t: int, unit: int, key: str,
            network: Network | None = None) -> Explanation:
    """Explain element ``key`` of the cell at step ``t`` (0-based).

    Parameters
    ----------
    trace : Trace
        A trace of any cell kind (LSTM, GRU, RNN).
    t : int
        Step, 0 .. T-1.
    unit : int
        Hidden unit 0 .. H-1, or -1 for all units.
    key : str
        Element key, one of ``element_keys(trace.kind)``.
    network : Network, optional
        When given, its options (ReLU forget gate, clamped gates) are named in the text.

    Raises
    ------
    KeyError
        Unknown element key for this cell kind.
    ValueError
        Unknown cell kind, or ``t`` / ``unit`` out of range.
    """
    _check(trace, t, unit, key)
    t, unit = int(t), int(unit)
    spec = _KINDS[trace.kind]
    title = spec.titles[key]
    relu_f = trace.kind == "lstm" and _relu_forget(network)
    symbolic = _symbolic(trace.kind, key, relu_f)

    if key == "x":
        x = trace.x[t]
        label = trace.labels[t] if t < len(trace.labels) else ""
        numeric = f"x_t = {_vector(x)}" + (f"  (token “{label}”)" if label else "")
        meaning = spec.sentence("x", {}, relu_f)
        value = float(x[0]) if x.size == 1 else None
        return Explanation(key, title, symbolic, numeric, meaning, value)

    H = trace.hidden_size
    units = [unit] if unit >= 0 else list(range(H))
    clamp = _clamp_at(network, key, t) if key in spec.gates else None
    note = _clamp_note(clamp) if clamp is not None else ""

    def facts(u: int) -> dict[str, float]:
        v = spec.values(trace, t, u)
        v["first"] = t == 0
        return v

    if unit >= 0:
        v = facts(unit)
        numeric = spec.numbers(trace, t, unit, key, network)
        meaning = note + spec.sentence(key, v, relu_f)
        return Explanation(key, title, symbolic, numeric, meaning, float(v[key]))

    shown = units[:MAX_LISTED_UNITS]
    lines = [f"unit {u + 1}: {spec.numbers(trace, t, u, key, network)}" for u in shown]
    if len(units) > len(shown):
        lines.append(f"… and {len(units) - len(shown)} more units")
    numeric = "\n".join(lines)
    # One sentence for the whole vector: group units that tell the same story.
    groups: dict[str, list[int]] = {}
    for u in units:
        groups.setdefault(spec.sentence(key, facts(u), relu_f, brief=True), []).append(u)
    if len(groups) == 1:
        meaning = next(iter(groups)) if H == 1 else "All units — " + _lower_first(next(iter(groups)))
        meaning = note + meaning
    else:
        parts = []
        for sentence, us in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[1][0]))[:3]:
            parts.append(f"{_units_text(us)} — {_lower_first(sentence)}")
        meaning = note + " ".join(parts)
        if len(groups) > 3:
            meaning += " Select one unit to see the rest."
    return Explanation(key, title, symbolic, numeric, meaning, None)


def _lower_first(s: str) -> str:
    """Lower-case an ordinary first word ("The" -> "the"); leave symbols such as C̃_t alone."""
    word = s.split(" ", 1)[0]
    return s[:1].lower() + s[1:] if word.isalpha() and word[:1].isupper() else s


def _units_text(us: list[int]) -> str:
    if len(us) == 1:
        return f"Unit {us[0] + 1}"
    if len(us) <= 4:
        return "Units " + ", ".join(str(u + 1) for u in us[:-1]) + f" and {us[-1] + 1}"
    return f"{len(us)} units"


def equation_numbers(trace: Trace, t: int, unit: int, eq_key: str,
                     network: Network | None = None) -> str:
    """The numeric line of equation ``eq_key`` for the equations panel.

    Equation keys: LSTM ``f i g o c h``, GRU ``r z n h``, RNN ``a``. For one unit
    the substituted chain (``"f_t = σ(1.37) = 0.797"``); for all units
    (``unit == -1``) the resulting vector (``"f_t = (0.998, 0.500, 0.998)"``).
    """
    if trace.kind not in _KINDS:
        raise ValueError(f"no equations for a {trace.kind!r} cell")
    if eq_key not in dict(equations(trace.kind)):
        raise KeyError(eq_key)
    _check(trace, t, unit, eq_key)
    if unit >= 0:
        return _KINDS[trace.kind].numbers(trace, int(t), int(unit), eq_key, network)
    if trace.kind == "lstm":
        left = {"f": "f_t", "i": "i_t", "g": "C̃_t", "o": "o_t", "c": "C_t", "h": "h_t"}[eq_key]
    else:
        left = "h_t" if eq_key in ("h", "a") else f"{eq_key}_t"
    if eq_key in trace.gates:
        vec = trace.gates[eq_key][t]
    elif eq_key == "c":
        vec = trace.c[t]
    else:
        vec = trace.h[t]
    return f"{left} = {_vector(vec)}"


# --------------------------------------------------------------------------- gradients

#: Per element key: (symbol of the gradient's quantity, what it is, in words).
_GRAD_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "lstm": {
        "x": ("x_t", "the input"),
        "h_prev": ("h_{t−1}", "the hidden state entering"),
        "c_prev": ("C_{t−1}", "the cell state entering"),
        "f": ("a_f", "the forget gate's input sum (before its σ)"),
        "i": ("a_i", "the input gate's input sum (before its σ)"),
        "g": ("a_g", "the candidate's input sum (before its tanh)"),
        "o": ("a_o", "the output gate's input sum (before its σ)"),
        "mul_f": ("(f_t ⊙ C_{t−1})", "the kept memory f_t·C_{t−1}"),
        "mul_i": ("(i_t ⊙ C̃_t)", "the written memory i_t·C̃_t"),
        "add": ("C_t", "the cell state"),
        "c": ("C_t", "the cell state"),
        "tanh_c": ("tanh(C_t)", "the squashed cell state tanh(C_t)"),
        "mul_o": ("h_t", "the hidden state"),
        "h": ("h_t", "the hidden state"),
    },
    "gru": {
        "x": ("x_t", "the input"),
        "h_prev": ("h_{t−1}", "the hidden state entering"),
        "r": ("a_r", "the reset gate's input sum (before its σ)"),
        "z": ("a_z", "the update gate's input sum (before its σ)"),
        "n": ("a_n", "the candidate's input sum (before its tanh)"),
        "hn": ("(W_hn h_{t−1} + b_hn)", "the recurrent input of the candidate"),
        "mul_r": ("(r_t ⊙ (W_hn h_{t−1} + b_hn))", "the reset recurrent input"),
        "one_minus_z": ("(1 − z_t)", "the candidate's share 1 − z_t"),
        "mul_n": ("((1 − z_t) ⊙ n_t)", "the admitted candidate"),
        "mul_z": ("(z_t ⊙ h_{t−1})", "the kept old state"),
        "add": ("h_t", "the hidden state"),
        "h": ("h_t", "the hidden state"),
    },
    "rnn": {
        "x": ("x_t", "the input"),
        "h_prev": ("h_{t−1}", "the hidden state entering"),
        "a": ("a_t", "the tanh's input sum a_t"),
        "h": ("h_t", "the hidden state"),
    },
}

#: The pre-activations (input sums) whose gradients the gate elements show.
_PRE_TEXT: dict[str, dict[str, str]] = {
    "lstm": {"f": "W_f·[h_{t−1}, x_t] + b_f", "i": "W_i·[h_{t−1}, x_t] + b_i",
             "g": "W_C·[h_{t−1}, x_t] + b_C", "o": "W_o·[h_{t−1}, x_t] + b_o"},
    "gru": {"r": "W_ir x_t + b_ir + W_hr h_{t−1} + b_hr",
            "z": "W_iz x_t + b_iz + W_hz h_{t−1} + b_hz",
            "n": "W_in x_t + b_in + r_t ⊙ (W_hn h_{t−1} + b_hn)"},
    "rnn": {"a": "W_ih x_t + b_ih + W_hh h_{t−1} + b_hh"},
}

#: Gate order of each kind's ``dL_dpre`` blocks (PyTorch rows).
_PRE_ORDER = {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n"), "rnn": ("a",)}


def _pre_block(trace: Trace, t: int, gate: str) -> np.ndarray:
    H = trace.hidden_size
    k = _PRE_ORDER[trace.kind].index(gate)
    return trace.dL_dpre[t, k * H:(k + 1) * H]


def gradient_at(trace: Trace, t: int, key: str) -> np.ndarray:
    """dL/d(element ``key``) at step ``t``: shape (H,), or (D,) for ``x``.

    Gate keys give the gradient with respect to the gate's pre-activation (its
    input sum, the ``dL_dpre`` block); ``h_prev`` / ``c_prev`` the total
    gradient of the state entering step t (``dL_dh0`` / ``dL_dc0`` at t = 0);
    products and sums the gradient of their result.
    """
    if trace.kind not in _KINDS:
        raise ValueError(f"no gradients for a {trace.kind!r} cell")
    if key not in element_keys(trace.kind):
        raise KeyError(key)
    if not 0 <= t < trace.steps:
        raise ValueError(f"step {t} is outside 0..{trace.steps - 1}")
    kind = trace.kind
    if key == "x":
        return trace.dL_dx[t]
    if key == "h_prev":
        return trace.dL_dh0 if t == 0 else trace.dL_dh[t - 1]
    if key == "c_prev":
        return trace.dL_dc0 if t == 0 else trace.dL_dc[t - 1]
    if key in _PRE_ORDER[kind]:
        return _pre_block(trace, t, key)
    if kind == "lstm":
        if key in ("mul_f", "mul_i", "add", "c"):
            return trace.dL_dc[t]                    # C_t = kept + written: same gradient
        if key == "tanh_c":
            return trace.dL_dh[t] * trace.gates["o"][t]     # through h_t = o_t tanh(C_t)
        return trace.dL_dh[t]                         # mul_o, h
    if kind == "gru":
        if key == "hn":
            return _pre_block(trace, t, "n") * trace.gates["r"][t]   # a_n = ... + r (hn)
        if key == "mul_r":
            return _pre_block(trace, t, "n")
        if key == "one_minus_z":
            return trace.dL_dh[t] * trace.gates["n"][t]     # through (1 - z) n
        return trace.dL_dh[t]                         # mul_n, mul_z, add, h
    return trace.dL_dh[t]                             # rnn h


#: Elements whose gradient is dL/dh_t.
_DH_KEYS = {"lstm": ("h", "mul_o"), "gru": ("h", "add", "mul_n", "mul_z"), "rnn": ("h",)}


def _first_reached(trace: Trace, network: Network | None) -> int:
    """First step the backward pass reaches (truncated BPTT stops later than 0)."""
    trunc = network.options.truncate if network is not None else None
    if trunc is None or trunc < 1:
        return 0
    return max(0, trace.loss_step - trunc + 1)


def _gradient_note(trace: Trace, t: int, key: str, network: Network | None) -> str:
    """Why this gradient is 0 (after the loss step, truncated), or where it starts."""
    s = trace.loss_step
    # The state entering step t belongs to step t-1 (to the initial state at t = 0).
    owner = t - 1 if key in ("h_prev", "c_prev") else t
    if owner > s:
        return (f" Step {t + 1} comes after the loss step (step {s + 1}): nothing computed here "
                "reaches the loss, so its gradient is 0.")
    if owner == s and t > s:
        return (f" This wire brings in the state of the loss step (step {s + 1}), so it shows "
                "that step's gradient; what this step computes from it does not reach the loss.")
    stop = _first_reached(trace, network)
    if stop > 0 and owner < stop:
        k = network.options.truncate
        return (f" Truncated backprop keeps {k} step(s), the loss step included (steps "
                f"{stop + 1} to {s + 1}), so no gradient reaches this far (it is 0).")
    spec = _KINDS.get(trace.kind)
    cl = _clamp_at(network, key, t) if spec is not None and key in spec.gates else None
    if cl is not None:
        return (f" The experiment holds this gate at {fmt(cl.value)} from step "
                f"{max(0, cl.start) + 1} on, so nothing flows back into its input sum: "
                "its gradient is 0 here, and its weights learn nothing from this step.")
    if t == s and key in _DH_KEYS[trace.kind]:
        if trace.loss_class is not None:
            return (" The backward pass starts here: at the loss step dL/dh_t = W_rᵀ(p − e_k), "
                    f"the readout's answer p minus the one-hot class k = {trace.loss_class}.")
        return " The backward pass starts here: at the loss step dL/dh_t = h_t − y."
    return ""


def zero_gradient_note(trace: Trace, first_step: int = 0) -> str:
    """A line for when no gradient reaches any step before the loss step although the
    backward pass runs there ("" otherwise): the plots are then empty, and say why."""
    s = trace.loss_step
    if s <= first_step:
        return ""                               # nothing before it, or truncation cut it all
    before = [trace.dL_dh[first_step:s]]
    if trace.dL_dc is not None:
        before.append(trace.dL_dc[first_step:s])
    if any(np.any(a != 0.0) for a in before):   # (NaN counts as something: it is shown)
        return ""
    why = ""
    live = trace.dL_dh[s] != 0.0                # the units the loss pulls on
    if not live.any():
        why = ": the loss has no slope on its step (hₜ is where the loss is least)"
    elif trace.c is not None:
        with np.errstate(over="ignore", invalid="ignore"):
            flat = np.all(np.abs(np.tanh(trace.c[s][live])) == 1.0)
        if flat:
            why = (": on the loss step tanh(Cₜ) is flat at ±1 (the cell state is huge), "
                   "so none gets into the cell")
    return f"Every gradient before the loss step is exactly 0{why}."


def loss_formula(trace: Trace, names=()) -> str:
    """The loss as a formula: ``L = ½‖h_s − y‖²`` or the readout's cross-entropy on class k
    (named from ``names``, the readout's class names, when it has one)."""
    if trace.loss_class is None:
        return "L = ½‖h_s − y‖²"
    name = class_name(trace.loss_class, names)
    which = f"{trace.loss_class} ({name})" if name else f"{trace.loss_class}"
    return f"L = −log p_k, p = softmax(W_r·h_s + b_r), class k = {which}"


def class_name(k: int, names=()) -> str:
    """The name of readout class ``k`` in ``names`` ("" when it has none)."""
    return names[k] if names and 0 <= k < len(names) else ""


def class_label(k: int, names=()) -> str:
    """A short label for readout class ``k`` (0-based, as PyTorch counts classes):
    ``"0 negative"`` when ``names`` (one per class) name it, else ``"class 0"``."""
    name = class_name(k, names)
    return f"{k} {name}" if name else f"class {k}"


#: Digits as Unicode subscripts, for plain text such as the hover text's ``z₂``.
_SUB_DIGITS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def readout_prob_text(trace: Trace, k: int, names=()) -> str:
    """What the readout's probability of class ``k`` at the loss step is (hover text).

    Plain text with Unicode subscripts (``hₛ``, ``z₂``): a tool tip shows it as it is.
    ``names``: the readout's class names (`Params.readout_classes`), if any.
    """
    if trace.readout_probs is None:
        return ""
    p, z = float(trace.readout_probs[k]), float(trace.readout_logits[k])
    s = trace.loss_step
    name = class_name(k, names)
    which = f"Class {k} ({name})" if name else f"Class {k}"
    sub = str(k).translate(_SUB_DIGITS)
    text = (f"{which}: p = {fmt(p)} ({_pct(p)}), logit z{sub} = {fmt(z)}.\n"
            f"The readout reads hₛ at the loss step (step {s + 1}): z = Wᵣ·hₛ + bᵣ, and "
            "softmax turns the logits into probabilities that add up to 1.")
    if k == trace.loss_class:
        text += (f"\nThis is the chosen class: the loss is L = −log p{sub} = {fmt(trace.loss)}, "
                 "small when the readout is sure of this class.")
    return text


def _gradient_story(trace: Trace, t: int, u: int, key: str) -> str:
    """How this gradient travels on (one unit), where the cell kind makes a point of it."""
    kind = trace.kind
    if kind == "lstm" and key in ("c", "add"):
        f = float(trace.gates["f"][t, u])
        how = (": with the forget gate this open it crosses the step almost unchanged"
               if 0.9 <= f <= 1.1 else
               ": with the forget gate shut, little of it gets through" if f <= 0.1 else "")
        return (f" Back to C_{{t−1}} it is multiplied only by f_t = {fmt(f)} (plus what arrives "
                f"through h_{{t−1}}){how}.")
    if kind == "gru" and key in ("h", "add"):
        z = float(trace.gates["z"][t, u])
        if z == 1.0:            # (held there, or saturated): then the other paths carry 0
            return (" Back to h_{t−1} all of it passes straight through (z_t = 1), with no "
                    "weights and no squashing on the way.")
        return (f" Back to h_{{t−1}} a share z_t = {fmt(z)} of it passes straight through, "
                "with no weights and no squashing on the way; more arrives through the "
                "gates' weights.")
    if kind == "rnn" and key == "h":
        h = float(trace.h[t, u])
        return (f" Back to h_{{t−1}} it must pass the tanh's slope 1 − h_t² = {fmt(1.0 - h * h)} and "
                "W_hh at every step, so over many steps it tends to fade (or blow up).")
    if kind == "rnn" and key == "a":
        # dL/da_t = dL/dh_t (1 − h_t²): the slope is behind it already
        return (" Back to h_{t−1} it passes W_hh, and then the previous step's tanh slope: "
                "the same two factors at every step, so over many steps it tends to fade "
                "(or blow up).")
    return ""


def explain_gradient(trace: Trace, t: int, unit: int, key: str,
                     network: Network | None = None) -> Explanation:
    """Explain the loss gradient at element ``key`` at step ``t`` (gradient mode).

    The numbers are `gradient_at`; ``network`` (optional) names truncation.
    Raises like `explain`.
    """
    _check(trace, t, unit, key)
    t, unit = int(t), int(unit)
    sym, words = _GRAD_WORDS[trace.kind][key]
    grad = gradient_at(trace, t, key)
    left = f"dL/d{sym}"
    title = f"Gradient {left}"
    where = f"at step {t + 1}" if key != "h_prev" and key != "c_prev" else f"step {t + 1}"
    meaning = f"How much the loss changes per unit change of {words} {where}."
    note = _gradient_note(trace, t, key, network)
    loss = f"{loss_formula(trace)}, loss at step s = {trace.loss_step + 1}"
    symbolic = f"{sym} = {_PRE_TEXT[trace.kind][key]}" if key in _PRE_TEXT[trace.kind] else loss
    if key == "x":
        return Explanation(key, title, symbolic, f"{left} = {_vector(grad)}", meaning + note,
                           float(grad[0]) if grad.size == 1 else None)
    if unit >= 0:
        g = float(grad[unit])
        story = _gradient_story(trace, t, unit, key) if not note and g != 0.0 else ""
        return Explanation(key, title, symbolic, f"{left} = {fmt(g)}", meaning + note + story, g)
    H = trace.hidden_size
    lines = [f"unit {u + 1}: {left} = {fmt(grad[u])}" for u in range(min(H, MAX_LISTED_UNITS))]
    if H > MAX_LISTED_UNITS:
        lines.append(f"… and {H - MAX_LISTED_UNITS} more units")
    return Explanation(key, title, symbolic, "\n".join(lines), meaning + note, None)
