"""Words and numbers for every element of the LSTM cell: what it computes and what it means now.

The diagram's tool tips and the equations panel both read this module, so an
element is explained the same way everywhere. Pure Python and NumPy (no Qt).

Text conventions
----------------
Plain Unicode with a light subscript notation that views turn into rich text:
``f_t``, ``h_{t−1}``, ``C̃_t`` (C + combining tilde). Numbers go through `fmt`
(about three significant digits, a real minus sign ``−``). Multiplication of
numbers is written ``·``; element-wise products of vectors ``⊙``.

Element keys (shared with the diagram and `AppState.focus`)::

    x  h_prev  c_prev  f  i  g  o  mul_f  mul_i  add  c  tanh_c  mul_o  h

Equation keys: ``f i g o c h`` (the six LSTM equations, in that order).
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


def _vector(values: np.ndarray, limit: int = MAX_LISTED_UNITS) -> str:
    """``(0.998, 0.500, 0.998)``, shortened with ``…`` past ``limit`` entries."""
    v = np.asarray(values, dtype=float).reshape(-1)
    if v.size <= limit:
        return "(" + ", ".join(fmt(x) for x in v) + ")"
    head = ", ".join(fmt(x) for x in v[: limit - 1])
    return f"({head}, …, {fmt(v[-1])})"


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
    fn = "tanh" if gate == "g" else ("ReLU" if gate == "f" and _relu_forget(network) else "σ")
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
        if f >= 0.9 and f <= 1.0:
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


def _check(trace: Trace, t: int, unit: int, key: str) -> None:
    if trace.kind != "lstm":
        raise ValueError(f"explanations cover the LSTM cell; this is a {trace.kind.upper()}")
    if key not in ELEMENT_KEYS:
        raise KeyError(key)
    if not 0 <= t < trace.steps:
        raise ValueError(f"step {t} is outside 0..{trace.steps - 1}")
    if not -1 <= unit < trace.hidden_size:
        raise ValueError(f"unit {unit} is outside -1..{trace.hidden_size - 1}")


def explain(trace: Trace, t: int, unit: int, key: str,
            network: Network | None = None) -> Explanation:
    """Explain element ``key`` of the LSTM cell at step ``t`` (0-based).

    Parameters
    ----------
    trace : Trace
        An LSTM trace.
    t : int
        Step, 0 .. T-1.
    unit : int
        Hidden unit 0 .. H-1, or -1 for all units.
    key : str
        Element key, one of `ELEMENT_KEYS`.
    network : Network, optional
        When given, its options (ReLU forget gate, clamped gates) are named in the text.

    Raises
    ------
    KeyError
        Unknown element key.
    ValueError
        Not an LSTM trace, or ``t`` / ``unit`` out of range.
    """
    _check(trace, t, unit, key)
    t, unit = int(t), int(unit)
    title = _TITLES[key]
    symbolic = _EQ_TEXT.get(key) or _SYMBOLIC.get(key) or _EQ_TEXT[EQUATION_OF[key]]
    relu_f = _relu_forget(network)
    if relu_f and key == "f":
        symbolic = "f_t = ReLU(W_f·[h_{t−1}, x_t] + b_f)"

    if key == "x":
        x = trace.x[t]
        label = trace.labels[t] if t < len(trace.labels) else ""
        numeric = f"x_t = {_vector(x)}" + (f"  (token “{label}”)" if label else "")
        meaning = _sentence("x", {}, relu_f)
        value = float(x[0]) if x.size == 1 else None
        return Explanation(key, title, symbolic, numeric, meaning, value)

    H = trace.hidden_size
    units = [unit] if unit >= 0 else list(range(H))
    clamp = _clamp_at(network, key, t) if key in ("f", "i", "g", "o") else None
    note = _clamp_note(clamp) if clamp is not None else ""

    def facts(u: int) -> dict[str, float]:
        v = _unit_values(trace, t, u)
        v["first"] = t == 0
        return v

    if unit >= 0:
        v = facts(unit)
        numeric = _numbers(trace, t, unit, key, network)
        meaning = note + _sentence(key, v, relu_f)
        return Explanation(key, title, symbolic, numeric, meaning, float(v[key]))

    shown = units[:MAX_LISTED_UNITS]
    lines = [f"unit {u + 1}: {_numbers(trace, u=u, t=t, key=key, network=network)}" for u in shown]
    if len(units) > len(shown):
        lines.append(f"… and {len(units) - len(shown)} more units")
    numeric = "\n".join(lines)
    # One sentence for the whole vector: group units that tell the same story.
    groups: dict[str, list[int]] = {}
    for u in units:
        groups.setdefault(_sentence(key, facts(u), relu_f, brief=True), []).append(u)
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
    """The numeric line of equation ``eq_key`` (``f i g o c h``) for the equations panel.

    For one unit the substituted chain (``"f_t = σ(1.37) = 0.797"``); for all units
    (``unit == -1``) the resulting vector (``"f_t = (0.998, 0.500, 0.998)"``).
    """
    if eq_key not in _EQ_TEXT:
        raise KeyError(eq_key)
    _check(trace, t, unit, eq_key)
    if unit >= 0:
        return _numbers(trace, int(t), int(unit), eq_key, network)
    left = {"f": "f_t", "i": "i_t", "g": "C̃_t", "o": "o_t", "c": "C_t", "h": "h_t"}[eq_key]
    if eq_key in ("f", "i", "g", "o"):
        vec = trace.gates[eq_key][t]
    elif eq_key == "c":
        vec = trace.c[t]
    else:
        vec = trace.h[t]
    return f"{left} = {_vector(vec)}"
