"""AppState: the single source of truth for the GUI.

Every view reads this object and changes the app only through its setters.
A setter that changes something recomputes what depends on it and emits one
signal; a setter called with the current value emits nothing, so views can
push values back without echo loops.

Signals
-------
trace_changed()          network or inputs changed; ``state.trace`` is new
timestep_changed(int)    the time cursor moved (0-based); the trace is the same
unit_changed(int)        focused hidden unit, -1 = all units
focus_changed(str)       element key under the mouse / selected, "" = none
appearance_changed()     theme or font scale changed
animation_changed()      duration of one step's animation changed
activated(str)           the user clicked element ``key`` (e.g. a gate box); always emitted
gradients_shown(bool)    the views switched between forward values and gradients

The loss is ``L = 0.5 * ||h_s - y||^2`` with ``s = network.options.loss_step``
(the last step by default) and the target ``y = state.target`` (zeros by
default; reset to zeros when the number of hidden units changes). When the
network has a readout, `set_loss_class` (``options.loss_class``) switches it to
the readout's cross-entropy on class k instead. A network without a readout, or
with too few classes, always gets the squared error (``loss_class`` None); a
model loaded from a file or preset keeps the chosen class when its readout has it. The
readout's class names (`class_names`) are part of the network's parameters. Experiments
(ReLU forget gate, clamps, truncation, clipping) are the network's `Options`
and change through `set_options`, like any other change of the network.

When the trace changes and the cursor or focused unit no longer fits, they are
clamped and their signals are emitted *after* ``trace_changed``.

Besides the network and its inputs, the state keeps where the inputs came
from: the text and encoding the user typed (`sequence_text`, `encoding`), so
the sequence field can be put back in step after a preset, an undo or a
refused change, and the preset last loaded (`preset_id`, for "Reset to
preset"). `snapshot` / `restore` capture and put back all of the model at
once (used by the undo commands).

The default model is the built-in demo (`lstm_viz.model.demo`), with token
labels from `demo_labels`: ``"·"`` for a quiet step (0, 0), ``"1"`` for a value
spike, ``"go"`` for the release pulse.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
from PySide6.QtCore import QObject, Signal

from .explain import class_label
from .model import ModelInputError, Network, Options, Trace
from .model import demo as _demo
from .model.cells import check_loss_class
from .ui.theme import LIGHT, Theme, get_theme

#: Limits of the global font scale.
FONT_SCALE_MIN = 0.6
FONT_SCALE_MAX = 3.0

#: Preset id of the built-in demo (`lstm_viz.model.presets.build_latch`).
DEMO_PRESET = "latch"

#: Default duration of one step's animation, in milliseconds.
DEFAULT_ANIMATION_MS = 600
#: The longest step animation (ms): more is a stalled screen (and past Qt's timer range).
MAX_ANIMATION_MS = 10_000

#: `ModelSnapshot.loss_class` / `AppState.set_model` default: keep the current loss class.
KEEP = "keep"


def _num(v: float) -> str:
    """A short label for one input value: ``1``, ``-0.5``, ``2.25``."""
    return f"{v:g}".replace("-", "−")


def demo_labels(x: np.ndarray) -> tuple[str, ...]:
    """Readable token labels for the demo's (value, release) inputs.

    ``"·"`` for a quiet step, ``"go"`` for a release pulse, otherwise the value
    (``"1"`` for the spike); a step with both shows ``"1+go"``.
    """
    out = []
    for value, release in np.asarray(x, dtype=float):
        parts = []
        if value != 0.0:
            parts.append(_num(value))
        if release != 0.0:
            parts.append("go" if release == 1.0 else f"go{_num(release)}")
        out.append("+".join(parts) if parts else "·")
    return tuple(out)


def default_labels(x: np.ndarray) -> tuple[str, ...]:
    """Labels for inputs given without any: the value for one input, else the step number."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 2 and x.shape[1] == 1:
        return tuple(_num(float(v)) for v in x[:, 0])
    return tuple(str(t + 1) for t in range(len(x)))


def _short(v: float) -> str:
    """The shortest text that reads back as exactly ``v`` (``1``, ``0.5``, ``0.1234567891234``)."""
    text = f"{v:g}"
    return text if float(text) == v else repr(float(v))


def format_sequence(x: np.ndarray) -> tuple[str, str]:
    """Text and encoding that `lstm_viz.model.encoding.encode` reads back as exactly ``x`` (T, D).

    One value per step gives the numbers grammar (``"1 0 0.5"``), several the
    vectors grammar (``"1,0; 0,1"``).
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.shape[1] == 1:
        return " ".join(_short(v) for v in x[:, 0]), "numbers"
    return "; ".join(",".join(_short(v) for v in row) for row in x), "vectors"


@dataclass(frozen=True, eq=False)
class ModelSnapshot:
    """Everything `AppState.restore` needs to put the model back exactly as it was.

    The arrays are the state's own read-only arrays (kept by reference), so a
    snapshot restores the network and inputs bit for bit.
    """

    network: Network
    inputs: np.ndarray
    labels: tuple[str, ...]
    caption: str
    unit_names: tuple[str, ...]
    sequence_text: str
    encoding: str
    preset_id: str
    target: np.ndarray | None = None
    #: The loss class wanted when ``network.options.loss_class`` is None: a class,
    #: None (the squared error), or `KEEP` (whatever the state has). See `AppState.set_model`.
    loss_class: int | None | str = KEEP


def same_network(a: Network, b: Network) -> bool:
    """True if two networks would produce the same trace on any input."""
    if a is b:
        return True

    def same_vec(u, v) -> bool:
        if u is None or v is None:
            return u is None and v is None
        return bool(np.array_equal(u, v))

    return (a.params.equals(b.params) and a.options == b.options
            and same_vec(a.h0, b.h0) and same_vec(a.c0, b.c0))


class AppState(QObject):
    """Everything the GUI shows: the network, its inputs, the trace and the view settings.

    Parameters
    ----------
    network : Network, optional
        Defaults to the built-in demo (then ``inputs``, ``labels``, ``caption``
        and ``unit_names`` default to the demo's too).
    inputs : ndarray, shape (T, D), optional
    labels : sequence of str, optional
        One token label per step; defaults to `default_labels`.
    caption : str
        One line saying what to watch.
    unit_names : sequence of str
        Optional display names per hidden unit.

    Raises
    ------
    ModelInputError, WeightsError
        From the engine if the inputs do not fit the network. Setters raise
        the same errors and leave the state unchanged.
    """

    trace_changed = Signal()
    #: The sequence text, its encoding or the preset id changed, and nothing else did
    #: (the same numbers written another way; undo of such a change): no new trace.
    texts_changed = Signal()
    gradients_shown = Signal(bool)
    timestep_changed = Signal(int)
    unit_changed = Signal(int)
    focus_changed = Signal(str)
    appearance_changed = Signal()
    animation_changed = Signal()
    activated = Signal(str)

    def __init__(self, network: Network | None = None, inputs: np.ndarray | None = None,
                 labels: Sequence[str] | None = None, caption: str = "",
                 unit_names: Sequence[str] = (), parent: QObject | None = None) -> None:
        super().__init__(parent)
        text = encoding = None
        preset_id = ""
        if network is None:
            network = _demo.demo_network()
            if inputs is None:
                inputs = _demo.demo_inputs()
                if labels is None:
                    labels = demo_labels(inputs)
                caption = caption or _demo.CAPTION
                unit_names = unit_names or _demo.UNIT_NAMES
                text, encoding, preset_id = _demo.SEQUENCE_TEXT, "vectors", DEMO_PRESET
        if inputs is None:
            raise ValueError("inputs are required when a network is given")
        network = self._fit_loss_class(network, network.options.loss_class)
        self._network = network
        self._x, self._labels = self._check_inputs(inputs, labels)
        self._text, self._encoding = self._check_text(self._x, text, encoding)
        self._preset_id = preset_id
        self._target = np.zeros(network.hidden_size)
        self._target.flags.writeable = False
        self._trace = self._compute(network, self._x, self._labels, self._target)
        self._show_gradients = False
        self._caption = str(caption)
        self._unit_names = self._check_names(unit_names, network.hidden_size)
        self._timestep = 0
        self._unit = -1
        self._focus = ""
        self._theme: Theme = LIGHT
        self._font_scale = 1.0
        self._animation_ms = DEFAULT_ANIMATION_MS

    # ------------------------------------------------------------------ properties

    @property
    def network(self) -> Network:
        return self._network

    @property
    def inputs(self) -> np.ndarray:
        """The input sequence, shape (T, D) (read-only)."""
        return self._x

    @property
    def trace(self) -> Trace:
        """The trace of (network, inputs); always current."""
        return self._trace

    @property
    def target(self) -> np.ndarray:
        """The loss target y, shape (H,) (read-only)."""
        return self._target

    @property
    def options(self) -> Options:
        """The network's experiments and loss settings."""
        return self._network.options

    @property
    def loss_class(self) -> int | None:
        """The class k of the readout loss (0-based), or None for the squared error."""
        return self._network.options.loss_class

    @property
    def readout_classes(self) -> int:
        """K, the number of classes of the network's readout (0: no readout)."""
        return self._network.params.classes

    @property
    def class_names(self) -> tuple[str, ...]:
        """Names of the readout's classes, one per class, or () when it has none.

        They belong to the model (`Params.readout_classes`), so they come with a
        preset or weights file, go with a model without a readout, and come back on undo.
        """
        return self._network.params.readout_classes or ()

    def class_label(self, k: int) -> str:
        """``"0 negative"`` or ``"class 0"``; ``k`` is 0-based, as PyTorch counts classes."""
        return class_label(k, self.class_names)

    @property
    def loss_step(self) -> int:
        """The step (0-based) whose hidden state enters the loss."""
        return self._trace.loss_step

    @property
    def show_gradients(self) -> bool:
        """True when the views show gradients dL/d(...) instead of forward values."""
        return self._show_gradients

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    @property
    def sequence_text(self) -> str:
        """The text that produced the inputs (in the grammar of `encoding`)."""
        return self._text

    @property
    def encoding(self) -> str:
        """How `sequence_text` is read: "auto", "numbers", "vectors", "chars" or "words"."""
        return self._encoding

    @property
    def preset_id(self) -> str:
        """Id of the preset last loaded ("" if none, e.g. after loading a weights file)."""
        return self._preset_id

    @property
    def caption(self) -> str:
        return self._caption

    @property
    def unit_names(self) -> tuple[str, ...]:
        return self._unit_names

    @property
    def steps(self) -> int:
        """T, the number of steps in the trace."""
        return self._trace.steps

    @property
    def timestep(self) -> int:
        return self._timestep

    @property
    def unit(self) -> int:
        return self._unit

    @property
    def focus(self) -> str:
        return self._focus

    @property
    def theme(self) -> Theme:
        return self._theme

    @property
    def font_scale(self) -> float:
        return self._font_scale

    @property
    def animation_ms(self) -> int:
        return self._animation_ms

    def unit_label(self, u: int) -> str:
        """``"unit 2 (leaky)"`` or ``"unit 2"``; ``u`` is 0-based."""
        name = self._unit_names[u] if 0 <= u < len(self._unit_names) else ""
        return f"unit {u + 1} ({name})" if name else f"unit {u + 1}"

    def step_title(self, t: int) -> str:
        """What step ``t`` (0-based) shows: ``"Step 5 of 14 · input “a” · all units"``."""
        label = self._labels[t] if t < len(self._labels) else ""
        token = f" · input “{label}”" if label else ""
        who = self.unit_label(self.unit) if self.unit >= 0 else "all units"
        return f"Step {t + 1} of {self.steps}{token} · {who}"

    # ------------------------------------------------------------------ model setters

    def set_network(self, net: Network) -> None:
        """Replace the network (weights, initial states, options) and recompute.

        A loss class the network's readout does not have becomes None (the squared error).
        """
        net = self._fit_loss_class(net, net.options.loss_class)
        if same_network(net, self._network):
            return
        target = self._fit_target(self._target, net.hidden_size)
        trace = self._compute(net, self._x, self._labels, target)
        names = self._unit_names
        if len(names) != net.hidden_size:
            names = ("",) * net.hidden_size
        self._target = target
        self._apply(net, self._x, self._labels, trace, self._caption, names)

    def set_options(self, options: Options) -> None:
        """Replace the network's options (experiments, loss step) and recompute.

        Raises ModelInputError (state unchanged) if they do not fit, e.g. a
        clamp on a gate this cell does not have.
        """
        self.set_network(self._network.with_(options=options))

    def checked_loss_class(self, k) -> int | None:
        """``k`` as a loss class of this network's readout (an int), or None.

        Raises ModelInputError if the network has no readout or no class ``k``.
        """
        if k is not None:
            try:
                k = operator.index(k)
            except TypeError:
                raise ModelInputError(f"{k!r} is not a class number (a whole number)") from None
        check_loss_class(self._network.params, k)
        return k

    def set_loss_class(self, k: int | None) -> None:
        """Put the readout's cross-entropy on class ``k`` (0-based) into the loss; None:
        the squared error to the target.

        Raises ModelInputError (state unchanged) if the network has no readout or
        no class ``k``.
        """
        k = self.checked_loss_class(k)
        self.set_options(replace(self.options, loss_class=k))

    def loss_step_option(self, s: int | None) -> int | None:
        """``Options.loss_step`` for putting the loss on step ``s`` (0-based, clamped;
        None or the last step: None, the default)."""
        if s is None:
            return None
        s = min(max(int(s), 0), self.steps - 1)
        return None if s == self.steps - 1 else s

    def set_loss_step(self, s: int | None) -> None:
        """Put the loss on step ``s`` (0-based; None = the last step)."""
        self.set_options(replace(self.options, loss_step=self.loss_step_option(s)))

    def checked_target(self, y) -> np.ndarray:
        """``y`` as a read-only target for this network: H finite values.

        Raises ModelInputError for a wrong length or a non-finite value.
        """
        y = np.array(y, dtype=np.float64).reshape(-1)
        H = self._network.hidden_size
        if y.shape != (H,):
            raise ModelInputError(f"the target needs {H} value(s), got {y.size}")
        if not np.all(np.isfinite(y)):
            raise ModelInputError("the target must be finite numbers")
        y.flags.writeable = False
        return y

    def set_target(self, y) -> None:
        """Set the loss target y (H values) and recompute.

        Raises ModelInputError (state unchanged) for a wrong length or a
        non-finite value.
        """
        y = self.checked_target(y)
        if np.array_equal(y, self._target):
            return
        trace = self._compute(self._network, self._x, self._labels, y)
        self._target = y
        self._apply(self._network, self._x, self._labels, trace, self._caption,
                    self._unit_names)

    def set_show_gradients(self, on: bool) -> None:
        """Switch the views between forward values (False) and gradients (True)."""
        on = bool(on)
        if on != self._show_gradients:
            self._show_gradients = on
            self.gradients_shown.emit(on)

    def set_inputs(self, x: np.ndarray, labels: Sequence[str] | None = None, *,
                   text: str | None = None, encoding: str | None = None) -> None:
        """Replace the input sequence (T, D) and its token labels, and recompute.

        ``text`` and ``encoding`` say what the user typed to get ``x``; without
        them the sequence is written out in the numbers / vectors grammar.
        A new text for the same inputs emits only `texts_changed` (no new trace).
        """
        x, labels = self._check_inputs(x, labels)
        text, encoding = self._check_text(x, text, encoding)
        if (x.shape == self._x.shape and np.array_equal(x, self._x)
                and labels == self._labels):
            self._set_texts(text, encoding, self._preset_id)
            return
        net = self._fit_loss_step(self._network, x.shape[0])
        trace = self._compute(net, x, labels, self._target)
        self._text, self._encoding = text, encoding
        self._apply(net, x, labels, trace, self._caption, self._unit_names)

    def set_model(self, net: Network, x: np.ndarray, labels: Sequence[str] | None = None,
                  caption: str = "", unit_names: Sequence[str] = (), *,
                  text: str | None = None, encoding: str | None = None,
                  preset_id: str = "", target: np.ndarray | None = None,
                  loss_class: int | None | str = KEEP) -> None:
        """Replace network, inputs, labels, caption and unit names at once (one trace_changed).

        ``text`` / ``encoding`` as in `set_inputs`; ``preset_id`` names the
        preset this model comes from ("" for none). ``target`` is the loss
        target (None: the current one); one that does not fit the hidden size
        becomes zeros, as when the number of units changes.

        The loss class is the network's own ``options.loss_class`` when it has
        one; otherwise ``loss_class`` (a class, or None for the squared error;
        `KEEP`: the state's current class, so a loaded file or preset keeps the
        chosen loss). A class the readout does not have becomes None.
        """
        x, labels = self._check_inputs(x, labels)
        names = self._check_names(unit_names, net.hidden_size)
        caption = str(caption)
        text, encoding = self._check_text(x, text, encoding)
        y = self._target if target is None else np.array(target, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(y)):
            raise ModelInputError("the target must be finite numbers")
        y = self._fit_target(y, net.hidden_size)
        y.flags.writeable = False
        net = self._fit_loss_step(net, x.shape[0])
        k = net.options.loss_class
        if k is None:
            k = self.loss_class if isinstance(loss_class, str) and loss_class == KEEP else loss_class
        net = self._fit_loss_class(net, k)
        if (same_network(net, self._network) and x.shape == self._x.shape
                and np.array_equal(x, self._x) and labels == self._labels
                and caption == self._caption and names == self._unit_names
                and np.array_equal(y, self._target)):
            self._set_texts(text, encoding, str(preset_id))
            return
        trace = self._compute(net, x, labels, y)
        self._preset_id = str(preset_id)
        self._text, self._encoding = text, encoding
        self._target = y
        self._apply(net, x, labels, trace, caption, names)

    def _set_texts(self, text: str, encoding: str, preset_id: str) -> None:
        if (text, encoding, preset_id) != (self._text, self._encoding, self._preset_id):
            self._text, self._encoding, self._preset_id = text, encoding, preset_id
            self.texts_changed.emit()

    def snapshot(self) -> ModelSnapshot:
        """The whole model as it is now (network, inputs, texts), for `restore`."""
        return ModelSnapshot(self._network, self._x, self._labels, self._caption,
                             self._unit_names, self._text, self._encoding, self._preset_id,
                             self._target, self.loss_class)

    def restore(self, snap: ModelSnapshot) -> None:
        """Put back a `snapshot` (one trace_changed if anything changed)."""
        self.set_model(snap.network, snap.inputs, snap.labels, snap.caption, snap.unit_names,
                       text=snap.sequence_text, encoding=snap.encoding,
                       preset_id=snap.preset_id, target=snap.target,
                       loss_class=snap.loss_class)

    # ------------------------------------------------------------------ view setters

    def set_timestep(self, t: int) -> None:
        """Move the cursor to step ``t`` (0-based), clamped to 0 .. T-1."""
        t = min(max(int(t), 0), self._trace.steps - 1)
        if t != self._timestep:
            self._timestep = t
            self.timestep_changed.emit(t)

    def step(self, delta: int) -> None:
        """Move the cursor by ``delta`` steps (clamped)."""
        self.set_timestep(self._timestep + int(delta))

    def set_unit(self, u: int) -> None:
        """Focus hidden unit ``u`` (0-based), or all units with -1; clamped."""
        u = min(max(int(u), -1), self._trace.hidden_size - 1)
        if u != self._unit:
            self._unit = u
            self.unit_changed.emit(u)

    def set_focus(self, key: str) -> None:
        """Element key under the mouse or selected ("" for none)."""
        key = str(key or "")
        if key != self._focus:
            self._focus = key
            self.focus_changed.emit(key)

    def activate(self, key: str) -> None:
        """The user clicked element ``key`` (e.g. a gate box in the diagram).

        Always emits `activated`, even for the same key twice: a click is an
        event, not a state. The window answers a gate key by opening its weights.
        """
        self.activated.emit(str(key or ""))

    def set_theme(self, name: str) -> None:
        """Switch to theme ``name``; raises ValueError for an unknown name."""
        theme = get_theme(name)
        if theme is not self._theme:
            self._theme = theme
            self.appearance_changed.emit()

    def set_font_scale(self, s: float) -> None:
        """Set the global font scale, clamped to 0.6 .. 3.0."""
        s = float(s)
        if not np.isfinite(s):
            return
        s = round(min(max(s, FONT_SCALE_MIN), FONT_SCALE_MAX), 6)
        if s != self._font_scale:
            self._font_scale = s
            self.appearance_changed.emit()

    def set_animation_ms(self, ms: int) -> None:
        """Duration of one step's animation in ms (at most MAX_ANIMATION_MS); 0 switches
        animation off."""
        ms = min(max(0, int(ms)), MAX_ANIMATION_MS)
        if ms != self._animation_ms:
            self._animation_ms = ms
            self.animation_changed.emit()

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _check_inputs(x: np.ndarray, labels: Sequence[str] | None
                      ) -> tuple[np.ndarray, tuple[str, ...]]:
        x = np.array(x, dtype=np.float64)       # a private copy
        if x.ndim == 1:
            x = x[:, None]
        x.flags.writeable = False
        if labels is None:
            labels = default_labels(x) if x.ndim == 2 else ()
        labels = tuple(str(s) for s in labels)
        if x.ndim == 2 and len(labels) != x.shape[0]:
            raise ValueError(f"{len(labels)} labels for {x.shape[0]} steps")
        return x, labels

    @staticmethod
    def _check_text(x: np.ndarray, text: str | None, encoding: str | None) -> tuple[str, str]:
        if text is None:
            return format_sequence(x)
        return str(text), str(encoding or "auto")

    @staticmethod
    def _check_names(names: Sequence[str], hidden: int) -> tuple[str, ...]:
        names = tuple(str(s) for s in names)
        if not names:
            return ("",) * hidden
        if len(names) != hidden:
            raise ValueError(f"{len(names)} unit names for {hidden} units")
        return names

    @staticmethod
    def _fit_target(y: np.ndarray, hidden: int) -> np.ndarray:
        if y.shape == (hidden,):
            return y
        z = np.zeros(hidden)
        z.flags.writeable = False
        return z

    @staticmethod
    def _fit_loss_step(net: Network, steps: int) -> Network:
        """Keep the loss step inside a sequence that got shorter (it moves to the last step)."""
        s = net.options.loss_step
        if s is None or -steps <= s < steps:
            return net
        return net.with_(options=replace(net.options, loss_step=None))

    @staticmethod
    def _fit_loss_class(net: Network, k) -> Network:
        """``net`` with loss class ``k`` if its readout has that class, else with None."""
        try:
            check_loss_class(net.params, k)
        except ModelInputError:
            k = None
        if k == net.options.loss_class:
            return net
        return net.with_(options=replace(net.options, loss_class=k))

    @staticmethod
    def _compute(net: Network, x: np.ndarray, labels: tuple[str, ...],
                 target: np.ndarray) -> Trace:
        # the backward pass runs when a view first reads a gradient: while only forward
        # values are on screen, an edit costs the forward pass alone
        return replace(net.trace(x, target=target, lazy=True), labels=labels)

    def _apply(self, net: Network, x: np.ndarray, labels: tuple[str, ...], trace: Trace,
               caption: str, names: tuple[str, ...]) -> None:
        self._network, self._x, self._labels = net, x, labels
        self._trace, self._caption, self._unit_names = trace, caption, names
        t = min(self._timestep, trace.steps - 1)
        u = min(self._unit, trace.hidden_size - 1)
        t_moved, u_moved = t != self._timestep, u != self._unit
        self._timestep, self._unit = t, u
        self.trace_changed.emit()
        if t_moved:
            self.timestep_changed.emit(t)
        if u_moved:
            self.unit_changed.emit(u)
