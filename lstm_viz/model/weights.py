"""Parameter containers and initialisers, in PyTorch's layout.

A single-layer recurrent cell has four tensors, named as in a PyTorch
``state_dict`` for layer 0::

    weight_ih_l0  (G*H, D)   input-to-hidden weights, gate blocks stacked by row
    weight_hh_l0  (G*H, H)   hidden-to-hidden weights
    bias_ih_l0    (G*H,)
    bias_hh_l0    (G*H,)

where ``G`` is the number of gate blocks: 4 for an LSTM (rows ``i, f, g, o``),
3 for a GRU (rows ``r, z, n``) and 1 for a simple tanh RNN. An ``nn.LSTMCell``
(``GRUCell``, ``RNNCell``) names the same tensors without ``_l0``; a module built
with ``bias=False`` has no biases (read as zeros). An optional linear
readout (``readout.weight`` (K, H), ``readout.bias`` (K,)) may ride along, and
with it optional names of its K classes (``readout.classes`` in a weights file;
`Params.readout_classes`). The names are for people only: the engine never reads them.

`Params` is immutable: every array is read-only and edits return a new object,
so a `Params` can be shared between the GUI thread and a worker safely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

#: Gate blocks per cell kind, in PyTorch's row order.
GATES: dict[str, tuple[str, ...]] = {
    "lstm": ("i", "f", "g", "o"),
    "gru": ("r", "z", "n"),
    "rnn": ("a",),
}
#: The four tensor names, without the ``_l0`` suffix.
TENSORS: tuple[str, ...] = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
#: State_dict names of the optional readout, and the `Params` fields they fill.
READOUT: dict[str, str] = {"readout.weight": "readout_weight", "readout.bias": "readout_bias"}
KINDS: tuple[str, ...] = tuple(GATES)
#: State_dict name of the readout's optional class names (text, not a tensor).
CLASSES: str = "readout.classes"
#: The longest class name allowed, in characters (names label bars on a projector).
MAX_CLASS_NAME = 24


class WeightsError(ValueError):
    """A weights file or mapping that cannot be used; the message says why."""


def _frozen(a: np.ndarray, shape: tuple[int, ...], name: str) -> np.ndarray:
    arr = np.array(a, dtype=np.float64, copy=True)
    if arr.shape != shape:
        raise WeightsError(f"{name} has shape {arr.shape}, expected {shape}")
    if not np.all(np.isfinite(arr)):
        raise WeightsError(f"{name} contains NaN or infinite values")
    arr.flags.writeable = False
    return arr


def check_class_names(names: object, classes: int, what: str = CLASSES) -> tuple[str, ...]:
    """``names`` as the readout's class names: one short, non-empty line per class.

    Parameters
    ----------
    names : sequence of str
        One name per class, in class order (leading and trailing spaces are dropped).
    classes : int
        K, the number of classes of the readout (0: there is no readout).
    what : str
        How the names are called in messages (``readout.classes``, ``"class_names"``).

    Returns
    -------
    tuple of str, length K

    Raises
    ------
    WeightsError
        No readout, a wrong count, a name that is not text, empty, longer than
        `MAX_CLASS_NAME` characters, more than one line, or used twice.
    """
    if isinstance(names, (str, bytes)) or not hasattr(names, "__iter__"):
        raise WeightsError(f"{what} must be a list of names, one per class")
    names = list(names)
    if classes == 0:
        raise WeightsError(f"{what} names classes, but there is no readout "
                           "(readout.weight / readout.bias) to have them")
    if len(names) != classes:
        raise WeightsError(f"{what} has {len(names)} name{'s' if len(names) != 1 else ''} "
                           f"for the readout's {classes} class{'es' if classes != 1 else ''}")
    out = []
    for k, name in enumerate(names):
        if not isinstance(name, str):
            raise WeightsError(f"{what}: name {k} is not text")
        name = name.strip()
        if not name:
            raise WeightsError(f"{what}: name {k} is empty")
        if not name.isprintable():
            raise WeightsError(f"{what}: name {k} must be one line of printable text")
        if len(name) > MAX_CLASS_NAME:
            raise WeightsError(f"{what}: name {k} {name[:MAX_CLASS_NAME]!r}... is longer than "
                               f"{MAX_CLASS_NAME} characters")
        if name in out:
            raise WeightsError(f"{what}: {name!r} names two classes")
        out.append(name)
    return tuple(out)


def class_names_from_array(a: object, what: str = CLASSES) -> tuple[str, ...]:
    """The names held by a 1-D NumPy unicode array (as ``np.array(["neg", "pos"])`` makes).

    Only the text itself is checked here; `check_class_names` checks the count.
    Raises `WeightsError` for bytes, numbers, objects or another shape.
    """
    arr = np.asarray(a)
    if arr.dtype.kind != "U":
        raise WeightsError(f"{what} holds {arr.dtype} values; it must be text, e.g. "
                           "np.array([\"negative\", \"positive\"])")
    if arr.ndim != 1:
        raise WeightsError(f"{what} has shape {arr.shape}; it must be one name per class, (K,)")
    return tuple(str(n) for n in arr.tolist())


@dataclass(frozen=True, eq=False)
class Params:
    """The weights of one recurrent layer (and an optional readout).

    Parameters
    ----------
    kind : {"lstm", "gru", "rnn"}
    weight_ih : ndarray, shape (G*H, D)
    weight_hh : ndarray, shape (G*H, H)
    bias_ih, bias_hh : ndarray, shape (G*H,)
    readout_weight : ndarray, shape (K, H), optional
    readout_bias : ndarray, shape (K,), optional
    readout_classes : tuple of str, optional
        Names of the K classes (for display only); needs the readout. Checked
        by `check_class_names`; an empty sequence is the same as None.
    """

    kind: str
    weight_ih: np.ndarray
    weight_hh: np.ndarray
    bias_ih: np.ndarray
    bias_hh: np.ndarray
    readout_weight: np.ndarray | None = field(default=None)
    readout_bias: np.ndarray | None = field(default=None)
    readout_classes: tuple[str, ...] | None = field(default=None)

    def __post_init__(self) -> None:
        if self.kind not in GATES:
            raise WeightsError(f"unknown cell kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        g = len(GATES[self.kind])
        w_ih = np.asarray(self.weight_ih)
        if w_ih.ndim != 2 or w_ih.shape[0] % g or w_ih.shape[0] == 0:
            raise WeightsError(
                f"weight_ih has shape {w_ih.shape}; a {self.kind.upper()} needs ({g}*H, D)"
            )
        gh, d = w_ih.shape
        if d == 0:
            raise WeightsError(f"weight_ih has shape {w_ih.shape}: no input columns; a "
                               f"{self.kind.upper()} needs at least one input")
        h = gh // g
        set_ = object.__setattr__
        set_(self, "weight_ih", _frozen(w_ih, (gh, d), "weight_ih"))
        set_(self, "weight_hh", _frozen(self.weight_hh, (gh, h), "weight_hh"))
        set_(self, "bias_ih", _frozen(self.bias_ih, (gh,), "bias_ih"))
        set_(self, "bias_hh", _frozen(self.bias_hh, (gh,), "bias_hh"))
        if (self.readout_weight is None) != (self.readout_bias is None):
            raise WeightsError("readout needs both readout.weight and readout.bias")
        if self.readout_weight is not None:
            rw = np.asarray(self.readout_weight)
            if rw.ndim != 2 or rw.shape[1] != h:
                raise WeightsError(f"readout.weight has shape {rw.shape}, expected (K, {h})")
            set_(self, "readout_weight", _frozen(rw, rw.shape, "readout.weight"))
            set_(self, "readout_bias", _frozen(self.readout_bias, (rw.shape[0],), "readout.bias"))
        names = self.readout_classes
        if names is not None and not isinstance(names, (str, bytes)) and len(names) == 0:
            names = None
        set_(self, "readout_classes",
             None if names is None else check_class_names(names, self.classes))

    # -- shape -----------------------------------------------------------
    @property
    def gates(self) -> tuple[str, ...]:
        """Gate names in row-block order, e.g. ``("i", "f", "g", "o")``."""
        return GATES[self.kind]

    @property
    def hidden_size(self) -> int:
        return self.weight_hh.shape[1]

    @property
    def input_size(self) -> int:
        return self.weight_ih.shape[1]

    @property
    def classes(self) -> int:
        """K, the number of classes of the readout (0 without one)."""
        return 0 if self.readout_weight is None else self.readout_weight.shape[0]

    def tensor(self, name: str) -> np.ndarray:
        """One of ``weight_ih, weight_hh, bias_ih, bias_hh`` (``_l0`` suffix optional),
        or, when there is a readout, ``readout.weight`` / ``readout.bias``."""
        if name in READOUT and self.readout_weight is not None:
            return getattr(self, READOUT[name])
        name = name.removesuffix("_l0")
        if name not in TENSORS:
            raise KeyError(name)
        return getattr(self, name)

    def gate_rows(self, gate: str) -> slice:
        """Row slice of gate ``gate`` in every tensor."""
        k = self.gates.index(gate)
        h = self.hidden_size
        return slice(k * h, (k + 1) * h)

    # -- edits (each returns a new Params) -------------------------------
    def replace(self, **arrays: np.ndarray) -> "Params":
        """A copy with some tensors replaced (names as the fields).

        The class names are kept while the readout keeps its number of classes,
        and dropped when it loses them (a new K, or no readout) unless
        ``readout_classes`` is given too.
        """
        fields = {
            "kind": self.kind,
            "weight_ih": self.weight_ih,
            "weight_hh": self.weight_hh,
            "bias_ih": self.bias_ih,
            "bias_hh": self.bias_hh,
            "readout_weight": self.readout_weight,
            "readout_bias": self.readout_bias,
            "readout_classes": self.readout_classes,
        }
        fields.update(arrays)
        if "readout_classes" not in arrays and self.readout_classes is not None:
            rw = fields["readout_weight"]
            if rw is None or np.shape(rw)[:1] != (self.classes,):
                fields["readout_classes"] = None
        return Params(**fields)

    def with_tensors(self, arrays: dict[str, np.ndarray]) -> "Params":
        """A copy with tensors replaced, named as in a state_dict (``weight_hh_l0``, the
        suffix optional, or ``readout.weight``), as `tensor` reads them."""
        return self.replace(**{READOUT.get(name, name.removesuffix("_l0")): a
                               for name, a in arrays.items()})

    def with_value(self, name: str, index: int | tuple[int, ...], value: float) -> "Params":
        """A copy with one entry of tensor ``name`` set to ``value``."""
        arr = self.tensor(name).copy()
        arr[index] = value
        return self.with_tensors({name: arr})

    # -- exchange ----------------------------------------------------------
    def to_state_dict(self, prefix: str = "") -> dict[str, np.ndarray]:
        """PyTorch-style names -> float64 arrays (copies); the class names, which
        are text, are not among them (see `class_names_array`)."""
        out = {f"{prefix}{t}_l0": getattr(self, t).copy() for t in TENSORS}
        if self.readout_weight is not None:
            out["readout.weight"] = self.readout_weight.copy()
            out["readout.bias"] = self.readout_bias.copy()
        return out

    def class_names_array(self) -> np.ndarray | None:
        """The class names as a NumPy unicode array (K,) for ``readout.classes``, or None."""
        if self.readout_classes is None:
            return None
        return np.array(self.readout_classes, dtype=str)

    @classmethod
    def from_state_dict(cls, sd: Mapping[str, np.ndarray], kind: str | None = None) -> "Params":
        """Build from PyTorch state_dict names, inferring the cell kind from the shapes.

        Reads layer 0 of an ``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN``
        (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``) or
        an ``nn.LSTMCell`` / ``nn.GRUCell`` / ``nn.RNNCell`` (the same tensors
        without ``_l0``), with an optional module prefix (``lstm.weight_ih_l0``).
        A model built with ``bias=False`` has no bias tensors: its biases are
        zeros, which is what PyTorch computes. An optional readout:
        ``readout.weight`` (K, H) / ``readout.bias`` (K,), or, as PyTorch
        models name it, the one other module with both ``<name>.weight`` and
        ``<name>.bias`` (``fc.``, ``linear.``, ``decoder.`` ...); see `find_readout`.

        An ``nn.RNN`` built with ``nonlinearity="relu"`` has the same tensors
        as a tanh one; it is read as a tanh RNN, the only one the engine runs.

        Raises
        ------
        WeightsError
            Naming what is wrong: more than one layer, a bidirectional model,
            ``proj_size``, a missing tensor, only one of the two biases, weights
            of two modules, or shapes that fit no cell.
        """
        _refuse_unsupported(sd)
        modules: dict[tuple[str, str], dict[str, np.ndarray]] = {}
        for key, val in sd.items():
            m = _RECURRENT_KEY.fullmatch(key)
            if m is not None:
                module = modules.setdefault((m["prefix"], m["layer"] or ""), {})
                module[m["tensor"]] = np.asarray(val)
        if not modules:
            raise WeightsError("missing weight_ih_l0, weight_hh_l0 (layer-0 recurrent weights; "
                               "weight_ih, weight_hh for an LSTMCell, GRUCell or RNNCell)")
        if len(modules) > 1:
            where = ", ".join(sorted(f"{prefix}weight_ih{layer}" for prefix, layer in modules))
            raise WeightsError(f"weights for more than one module ({where}); keep one")
        (_, layer), found = next(iter(modules.items()))
        missing = [f"{t}{layer}" for t in ("weight_ih", "weight_hh") if t not in found]
        if missing:
            raise WeightsError(f"missing {', '.join(missing)} (the recurrent weights)")
        biases = [t for t in ("bias_ih", "bias_hh") if t in found]
        if len(biases) == 1:
            other = "bias_hh" if biases[0] == "bias_ih" else "bias_ih"
            raise WeightsError(f"missing {other}{layer}: it has {biases[0]}{layer}, but a layer "
                               "has both biases, or neither (bias=False)")
        w_ih, w_hh = found["weight_ih"], found["weight_hh"]
        if w_hh.ndim != 2 or w_ih.ndim != 2:
            raise WeightsError(f"weight_ih{layer} and weight_hh{layer} must be 2-D matrices")
        h = w_hh.shape[1]
        if h == 0 or w_hh.shape[0] % h:
            raise WeightsError(f"weight_hh{layer} has shape {w_hh.shape}, expected (G*H, H)")
        g = w_hh.shape[0] // h
        inferred = {4: "lstm", 3: "gru", 1: "rnn"}.get(g)
        if inferred is None:
            raise WeightsError(
                f"weight_hh{layer} has shape {w_hh.shape}: {g} gate blocks is not an LSTM (4), "
                "GRU (3) or RNN (1)"
            )
        if kind is not None and kind != inferred:
            raise WeightsError(f"the shapes describe a {inferred.upper()}, not a {kind.upper()}")
        rw, rb = find_readout(sd, h)
        names = sd.get(CLASSES)
        if names is not None:
            if not isinstance(names, (list, tuple)):
                names = class_names_from_array(names)
            names = check_class_names(names, 0 if rw is None else np.shape(rw)[0])
        zeros = np.zeros(w_hh.shape[0])  # bias=False: PyTorch adds nothing
        return cls(
            inferred,
            w_ih,
            w_hh,
            found.get("bias_ih", zeros),
            found.get("bias_hh", zeros),
            None if rw is None else np.asarray(rw),
            None if rb is None else np.asarray(rb),
            names,
        )

    def equals(self, other: "Params") -> bool:
        """Bit-for-bit equality of kind and every array, and the same class names."""
        if self.kind != other.kind or self.readout_classes != other.readout_classes:
            return False
        pairs = [(getattr(self, t), getattr(other, t)) for t in TENSORS]
        pairs.append((self.readout_weight, other.readout_weight))
        pairs.append((self.readout_bias, other.readout_bias))
        for a, b in pairs:
            if (a is None) != (b is None):
                return False
            if a is not None and (a.shape != b.shape or not np.array_equal(a, b)):
                return False
        return True


#: A recurrent tensor: layer 0 of nn.LSTM/GRU/RNN (``_l0``) or an nn.*Cell (no suffix).
_RECURRENT_KEY = re.compile(r"(?P<prefix>.*?)(?P<tensor>weight_ih|weight_hh|bias_ih|bias_hh)"
                            r"(?P<layer>_l0)?")
_REVERSE_KEY = re.compile(r".*(?:weight|bias)_(?:ih|hh|hr)_l\d+_reverse")   # bidirectional=True
_PROJECTION_KEY = re.compile(r".*weight_hr_l\d+(?:_reverse)?")               # proj_size > 0
_DEEPER_KEY = re.compile(r".*(?:weight|bias)_(?:ih|hh|hr)_l[1-9]\d*(?:_reverse)?")  # num_layers > 1


def _refuse_unsupported(sd: Mapping[str, object]) -> None:
    """Raise `WeightsError` for a PyTorch recurrent module the engine cannot run exactly:
    a bidirectional one, an LSTM with ``proj_size``, or more than one layer."""
    keys = sorted(sd)
    reverse = [k for k in keys if _REVERSE_KEY.fullmatch(k)]
    if reverse:
        raise WeightsError(
            f"{reverse[0]} is from a bidirectional model, and the app runs only one direction; "
            "save a model built with bidirectional=False (or drop the *_reverse weights to "
            "look at the forward direction alone)")
    projection = [k for k in keys if _PROJECTION_KEY.fullmatch(k)]
    if projection:
        raise WeightsError(
            f"{projection[0]} is the projection of an LSTM built with proj_size > 0, which is "
            "not supported; save a model built without proj_size")
    if any(_DEEPER_KEY.fullmatch(k) for k in keys):
        raise WeightsError("only single-layer networks are supported (found layer-1 weights)")


def find_readout(sd: Mapping[str, np.ndarray], hidden: int
                 ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The readout's (weight, bias) in a state_dict, or (None, None) if it has none.

    ``readout.weight`` / ``readout.bias`` when present (our own name). Otherwise
    the modules other than the recurrent one that have both ``<name>.weight``
    and ``<name>.bias`` are candidates (a ``Linear`` layer, e.g. ``fc``): exactly
    one is read as the readout and must have shapes (K, ``hidden``) and (K,);
    two or more are refused, since it is not clear which one reads the hidden
    state. A lone weight (an embedding, a bias-free layer) is not a readout.

    Raises
    ------
    WeightsError
        One line naming the keys: two candidates, or a candidate of the wrong shape.
    """
    if "readout.weight" in sd or "readout.bias" in sd:
        return sd.get("readout.weight"), sd.get("readout.bias")
    names = sorted(k[: -len(".weight")] for k in sd
                   if k.endswith(".weight") and f"{k[: -len('.weight')]}.bias" in sd)
    if not names:
        return None, None
    if len(names) > 1:
        keys = ", ".join(f"{n}.weight/{n}.bias" for n in names)
        raise WeightsError(f"more than one layer could be the readout ({keys}); keep one, or "
                           "name it readout.weight / readout.bias")
    w = np.asarray(sd[f"{names[0]}.weight"])
    b = np.asarray(sd[f"{names[0]}.bias"])
    if w.ndim != 2 or w.shape[1] != hidden or b.shape != (w.shape[0],):
        raise WeightsError(f"{names[0]}.weight {tuple(w.shape)} and {names[0]}.bias "
                           f"{tuple(b.shape)} cannot be the readout: it needs (K, {hidden}) "
                           "and (K,)")
    return w, b


# -- initialisers -------------------------------------------------------------

INITS: tuple[str, ...] = ("pytorch", "xavier")


def init_params(
    kind: str,
    input_size: int,
    hidden_size: int,
    *,
    seed: int = 0,
    scheme: str = "pytorch",
    forget_bias: float = 0.0,
) -> Params:
    """Seeded random weights.

    Schemes
    -------
    ``pytorch``
        every entry ~ U(-1/sqrt(H), 1/sqrt(H)), as ``torch.nn.LSTM`` does.
    ``xavier``
        ``weight_ih`` gate blocks Xavier/Glorot-uniform, U(-a, a) with
        a = sqrt(6 / (D + H)); ``weight_hh`` gate blocks orthogonal (QR of a
        Gaussian matrix, signs fixed); biases zero.

    ``forget_bias`` is added to the forget-gate rows of ``bias_ih`` (LSTM only),
    the common trick that starts an LSTM remembering.
    """
    if kind not in GATES:
        raise WeightsError(f"unknown cell kind {kind!r}")
    if input_size < 1 or hidden_size < 1:
        raise WeightsError("input and hidden sizes must be at least 1")
    rng = np.random.default_rng(seed)
    g = len(GATES[kind])
    gh = g * hidden_size
    if scheme == "pytorch":
        k = 1.0 / np.sqrt(hidden_size)
        w_ih = rng.uniform(-k, k, (gh, input_size))
        w_hh = rng.uniform(-k, k, (gh, hidden_size))
        b_ih = rng.uniform(-k, k, gh)
        b_hh = rng.uniform(-k, k, gh)
    elif scheme == "xavier":
        a = np.sqrt(6.0 / (input_size + hidden_size))
        w_ih = rng.uniform(-a, a, (gh, input_size))
        blocks = []
        for _ in range(g):
            q, r = np.linalg.qr(rng.standard_normal((hidden_size, hidden_size)))
            blocks.append(q * np.sign(np.diag(r)))
        w_hh = np.vstack(blocks)
        b_ih = np.zeros(gh)
        b_hh = np.zeros(gh)
    else:
        raise WeightsError(f"unknown initialiser {scheme!r}; expected one of {', '.join(INITS)}")
    p = Params(kind, w_ih, w_hh, b_ih, b_hh)
    if forget_bias and kind == "lstm":
        b = p.bias_ih.copy()
        b[p.gate_rows("f")] += forget_bias
        p = p.replace(bias_ih=b)
    return p
