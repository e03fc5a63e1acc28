"""Presets: small LSTMs that each show one idea, stored as JSON in ``resources/presets/``.

A preset is one file ``resources/presets/<id>.json``::

    {
      "id": "counter",
      "title": "Counter",
      "explanation": "one line: what to look for",
      "caption": "one line under the diagram (optional)",
      "sequence": "1 0 1 1 0",          # text in the encoder's grammar
      "encoding": "numbers",            # auto | numbers | vectors | chars | words
      "unit_names": ["ones", "zeros"],  # optional, one per hidden unit
      "class_names": ["neg", "pos"],    # optional, one per readout class (needs the readout)
      "weights": {"weight_ih_l0": [[...]], "weight_hh_l0": [[...]],
                  "bias_ih_l0": [...], "bias_hh_l0": [...],
                  "readout.weight": [[...]], "readout.bias": [...]},   # readout optional
      "h0": [...], "c0": [...]          # optional initial states
    }

Weights use PyTorch's state_dict names and layout (see `lstm_viz.model.weights`);
floats are written with ``repr`` precision so a file loads back bit for bit.

The files are generated from the builder functions below and committed.
``python -m lstm_viz.model.presets --write`` regenerates them;
``python -m lstm_viz.model.presets`` (no flag) only checks that they agree with
the builders and exits 1 if one does not. The tests do the same check.

The hand-built presets use round numbers in the pre-activations so they are easy
to follow in the equations panel: sigma(+10) = 0.99995 is "open", sigma(-10) =
0.00005 is "shut".
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from .._resources import resource_path
from . import demo
from .cells import Network
from .weights import Params, WeightsError, check_class_names, init_params

#: Encodings a preset may name (the encoder's grammar, `lstm_viz.model.encoding`).
PRESET_ENCODINGS: tuple[str, ...] = ("auto", "numbers", "vectors", "chars", "words")

#: Seed of the random presets (they share it, so they differ only where their titles say).
SEED = 0


@dataclass(frozen=True, eq=False)
class Preset:
    """A network with a suggested sequence and a line saying what to look for.

    Attributes
    ----------
    id : str
        File stem in ``resources/presets/``.
    title : str
        Short name for menus.
    explanation : str
        One line in plain words: what this preset shows and what to watch.
    caption : str
        One line to show under the diagram ("" if none).
    sequence : str
        A suggested input, in the grammar of `lstm_viz.model.encoding.encode`.
    encoding : str
        How to read ``sequence`` (one of `PRESET_ENCODINGS`).
    unit_names : tuple of str
        Display names of the hidden units, empty or one per unit.
    network : Network
        The weights (D inputs, H units) and initial states.
    class_names : tuple of str
        Names of the readout's classes, empty or one per class (held by the
        network's parameters, `Params.readout_classes`).
    """

    id: str
    title: str
    explanation: str
    caption: str
    sequence: str
    encoding: str
    unit_names: tuple[str, ...]
    network: Network

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.network.params.readout_classes or ()


# ----------------------------------------------------------------------------- builders

def _blank(hidden: int, inputs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, slice]]:
    """Zero LSTM arrays ``w_ih (4H, D)``, ``w_hh (4H, H)``, ``b (4H,)`` and the gate row slices."""
    rows = {gate: slice(k * hidden, (k + 1) * hidden) for k, gate in enumerate("ifgo")}
    return np.zeros((4 * hidden, inputs)), np.zeros((4 * hidden, hidden)), np.zeros(4 * hidden), rows


def _lstm(w_ih: np.ndarray, w_hh: np.ndarray, b: np.ndarray) -> Params:
    """Hand-built LSTM parameters: the whole bias in ``bias_ih``, ``bias_hh`` zero."""
    return Params("lstm", w_ih, w_hh, b, np.zeros_like(b))


#: The suggested input of the random presets: a spike, quiet, a negative spike, quiet.
_SPIKES = "1 0 0 0 0 0 0 0 -1 0 0 0 0 0 0 0"


def build_latch() -> Preset:
    """The built-in demo (`lstm_viz.model.demo`): a hand-built latch with a leaky and an open unit."""
    return Preset(
        id="latch",
        title="Hand-built latch",
        explanation=(
            "A hand-built latch: the input gate writes the spike into the cell, the forget gate "
            "holds it, and the output gate lets it out only on the release pulse."
        ),
        caption=demo.CAPTION,
        sequence=demo.SEQUENCE_TEXT,
        encoding="vectors",
        unit_names=demo.UNIT_NAMES,
        network=demo.demo_network(),
    )


def build_copy_input() -> Preset:
    """f shut, i and o open, g = tanh(w x): the cell holds only this step's input.

    Unit "copy" has w = 1, so h_t = tanh(tanh(x_t)), close to x_t for small x;
    unit "clipped" has w = 4 and saturates to about ±0.76 (= tanh(1)).
    """
    w_ih, w_hh, b, r = _blank(2, 1)
    b[r["f"]] = -10.0            # forget everything: f = 0.00005
    b[r["i"]] = 10.0             # always write: i = 0.99995
    b[r["o"]] = 10.0             # always show: o = 0.99995
    w_ih[r["g"], 0] = [1.0, 4.0]  # candidate g = tanh(x) and tanh(4x)
    return Preset(
        id="copy_input",
        title="Copy the input",
        explanation=(
            "Forget gate shut, input and output gates open: each step the cell holds just "
            "tanh(xₜ), so hₜ = tanh(tanh(xₜ)) follows the input (unit 2 amplifies and clips it)."
        ),
        caption="h follows x step by step: nothing from earlier steps is kept.",
        sequence="0 0.2 0.4 0.5 0.4 0.2 0 -0.2 -0.4 -0.5 -0.4 -0.2 0 1 -1 0",
        encoding="numbers",
        unit_names=("copy", "clipped"),
        network=Network(_lstm(w_ih, w_hh, b)),
    )


def build_perfect_memory() -> Preset:
    """The first input is stored and never changed.

    Unit "started" writes a constant 1 at the first step (g = tanh(10)). From
    then on its output h ~ 0.76 drives every input gate shut through a
    recurrent weight of -30 (pre-activation 10 - 30 * 0.76 = -12.8). At the
    first step h_0 = 0, so the input gates are open (sigma(10)) and unit
    "memory" writes tanh(x_1). The forget gates sit at sigma(12), so the cell
    keeps what it holds; nothing later is written.
    """
    w_ih, w_hh, b, r = _blank(2, 1)
    started, memory = 0, 1
    b[r["i"]] = 10.0                       # input gates open ...
    w_hh[r["i"], started] = -30.0          # ... until "started" fires
    b[r["f"]] = 12.0                       # forget gates held open: f = 1 - 6e-6
    b[r["g"].start + started] = 10.0       # "started" writes g = tanh(10) = 1
    w_ih[r["g"].start + memory, 0] = 1.0   # "memory" writes g = tanh(x)
    b[r["o"]] = 10.0                       # show both cells
    return Preset(
        id="perfect_memory",
        title="Perfect memory",
        explanation=(
            "Forget gate held open, input gate shut after the first step (by the \"started\" "
            "unit's output): the first value is stored and every later input is ignored."
        ),
        caption="C stays flat after step 1: f = 1 keeps it, i = 0 lets nothing new in.",
        sequence="0.8 -0.5 1 0.3 -1 0 0.6 -0.2 0.9 -0.7 0.4 0 -0.3 1 -1 0.5",
        encoding="numbers",
        unit_names=("started", "memory"),
        network=Network(_lstm(w_ih, w_hh, b)),
    )


def build_counter() -> Preset:
    """c counts the ones (unit "ones") and the zeros (unit "zeros") seen so far.

    The input gate of "ones" opens when x = 1 (sigma(20x - 10)), that of
    "zeros" when x = 0 (sigma(10 - 20x)); the candidate is a constant
    g = tanh(0.1) ~ 0.1 and the forget gate stays open, so each counted step
    adds 0.1 to c: c_t ~ 0.1 * (count so far).
    """
    w_ih, w_hh, b, r = _blank(2, 1)
    ones, zeros = 0, 1
    w_ih[r["i"].start + ones, 0], b[r["i"].start + ones] = 20.0, -10.0
    w_ih[r["i"].start + zeros, 0], b[r["i"].start + zeros] = -20.0, 10.0
    b[r["f"]] = 10.0             # keep the count
    b[r["g"]] = 0.1              # each counted step adds tanh(0.1) = 0.0997
    b[r["o"]] = 10.0
    return Preset(
        id="counter",
        title="Counter",
        explanation=(
            "Input gate opens on a 1, forget gate stays open, candidate fixed at tanh(0.1) ≈ 0.1: "
            "the cell state counts the 1s (unit 1) and the 0s (unit 2), 0.1 per step."
        ),
        caption="Read C as a tally: 0.1 for every 1 seen so far (unit 2 counts the 0s).",
        sequence="1 0 1 1 0 1 0 0 1 1",
        encoding="numbers",
        unit_names=("ones", "zeros"),
        network=Network(_lstm(w_ih, w_hh, b)),
    )


def build_random() -> Preset:
    """PyTorch's default initialisation, seeded: every entry U(-1/sqrt(H), 1/sqrt(H))."""
    return Preset(
        id="random",
        title="Random (PyTorch default)",
        explanation=(
            "Untrained weights drawn as PyTorch does, uniform in ±1/√H: every gate sits between "
            "0.25 and 0.75, so the cell neither holds nor writes firmly: C drifts to a level its "
            "biases set, and a spike's own mark on it fades within a few steps."
        ),
        caption="No training yet: compare the gates with the hand-built presets.",
        sequence=_SPIKES,
        encoding="numbers",
        unit_names=(),
        network=Network(init_params("lstm", 1, 3, seed=SEED)),
    )


def build_forget_bias() -> Preset:
    """The random preset's weights with +1 added to the forget-gate biases."""
    return Preset(
        id="forget_bias",
        title="Random, forget bias +1",
        explanation=(
            "The random preset's weights with +1 on the forget-gate bias, a common trick: f "
            "starts near 0.7 instead of 0.5 and stays higher, so C keeps more."
        ),
        caption="Compare with Random: same weights, the forget gate sits higher.",
        sequence=_SPIKES,
        encoding="numbers",
        unit_names=(),
        network=Network(init_params("lstm", 1, 3, seed=SEED, forget_bias=1.0)),
    )


def build_always_forget() -> Preset:
    """The random preset's weights with the forget gate forced shut (f = sigma(-10))."""
    p = init_params("lstm", 1, 3, seed=SEED)
    f = p.gate_rows("f")
    w_ih, w_hh = p.weight_ih.copy(), p.weight_hh.copy()
    b_ih, b_hh = p.bias_ih.copy(), p.bias_hh.copy()
    w_ih[f], w_hh[f], b_ih[f], b_hh[f] = 0.0, 0.0, -10.0, 0.0
    return Preset(
        id="always_forget",
        title="Always forget",
        explanation=(
            "The random weights with the forget gate forced shut (f ≈ 0): the cell keeps nothing "
            "from the step before, so Cₜ is just iₜ·C̃ₜ."
        ),
        caption="Cₜ = iₜ·C̃ₜ: only hₜ₋₁, through the recurrent weights, still links the steps.",
        sequence=_SPIKES,
        encoding="numbers",
        unit_names=(),
        network=Network(p.replace(weight_ih=w_ih, weight_hh=w_hh, bias_ih=b_ih, bias_hh=b_hh)),
    )


def build_xavier() -> Preset:
    """Xavier/Glorot-uniform input weights, orthogonal recurrent weights, zero biases."""
    return Preset(
        id="xavier",
        title="Xavier / orthogonal",
        explanation=(
            "Glorot-uniform input weights, orthogonal recurrent weights and zero biases: with "
            "zero input and zero state every gate is exactly ½ and the candidate exactly 0."
        ),
        caption="Step 1 has x = 0 and h₀ = 0: every gate starts at exactly ½.",
        sequence="0 " + _SPIKES,
        encoding="numbers",
        unit_names=(),
        network=Network(init_params("lstm", 1, 3, seed=SEED, scheme="xavier")),
    )


#: The suggested sentence of the readout preset; its sorted words are the one-hot columns.
OPINION_SENTENCE = "the plot was good but the acting was bad"


def build_first_opinion() -> Preset:
    """A two-class readout on a latch that keeps the first opinion word (good or bad).

    Inputs are the one-hot words of `OPINION_SENTENCE` (columns: acting, bad,
    but, good, plot, the, was). Unit "opinion" writes g = tanh(+3) on "good"
    and tanh(-3) on "bad"; unit "seen" writes g = tanh(10) = 1 on either. Both
    input gates open only on an opinion word (sigma(20 - 10)) and only while
    "seen" is still 0: its output (~0.76) shuts them through a recurrent weight
    of -30 (pre-activation 10 - 22.8 = -12.8). Forget and output gates sit at
    sigma(10). The readout reads "opinion" only: logits (-3 h, +3 h) for class
    0 (negative) and class 1 (positive), so p(positive) = sigma(6 h) ~ 0.99.
    """
    vocab = sorted(set(OPINION_SENTENCE.split()))
    good, bad = vocab.index("good"), vocab.index("bad")
    w_ih, w_hh, b, r = _blank(2, len(vocab))
    opinion, seen = 0, 1
    for word in (good, bad):
        w_ih[r["i"], word] = 20.0          # input gates open on an opinion word ...
    b[r["i"]] = -10.0                      # ... and shut on every other word
    w_hh[r["i"], seen] = -30.0             # ... and for good once "seen" has fired
    b[r["f"]] = 10.0                       # keep what was written
    w_ih[r["g"].start + opinion, good] = 3.0    # "opinion" writes tanh(3) for good ...
    w_ih[r["g"].start + opinion, bad] = -3.0    # ... and tanh(-3) for bad
    b[r["g"].start + seen] = 10.0          # "seen" writes 1
    b[r["o"]] = 10.0                       # show both cells
    params = _lstm(w_ih, w_hh, b).replace(
        readout_weight=np.array([[-3.0, 0.0], [3.0, 0.0]]),   # class 0 negative, 1 positive
        readout_bias=np.zeros(2), readout_classes=("negative", "positive"))
    return Preset(
        id="first_opinion",
        title="Readout: first opinion wins",
        explanation=(
            "A latch keeps the first opinion word (good or bad) and a 2-class readout reads it: "
            "class 0 negative, 1 positive. Try its loss in the Gradients tab."
        ),
        caption="“good” at step 4 is written and held; “bad” at step 9 finds the input gate shut.",
        sequence=OPINION_SENTENCE,
        encoding="words",
        unit_names=("opinion", "seen"),
        network=Network(params),
    )


#: Builders in teaching order: hand-built ideas first, then where training starts from.
BUILDERS: dict[str, Callable[[], Preset]] = {
    "latch": build_latch,
    "copy_input": build_copy_input,
    "perfect_memory": build_perfect_memory,
    "counter": build_counter,
    "always_forget": build_always_forget,
    "random": build_random,
    "forget_bias": build_forget_bias,
    "xavier": build_xavier,
    "first_opinion": build_first_opinion,
}


# ----------------------------------------------------------------------------- JSON

def _dump(value: Any, indent: int) -> str:
    """JSON text with each matrix row on one line (floats at repr precision)."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f'{pad}  {json.dumps(k)}: {_dump(v, indent + 2)}' for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and value and isinstance(value[0], list):
        rows = [f"{pad}  {json.dumps(row, allow_nan=False)}" for row in value]
        return "[\n" + ",\n".join(rows) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def preset_to_json(preset: Preset) -> str:
    """The JSON text of ``preset``, exactly as stored in ``resources/presets/``."""
    net = preset.network
    doc: dict[str, Any] = {
        "id": preset.id,
        "title": preset.title,
        "explanation": preset.explanation,
        "caption": preset.caption,
        "sequence": preset.sequence,
        "encoding": preset.encoding,
        "unit_names": list(preset.unit_names),
    }
    if preset.class_names:
        doc["class_names"] = list(preset.class_names)
    doc["weights"] = {k: v.tolist() for k, v in net.params.to_state_dict().items()}
    if net.h0 is not None:
        doc["h0"] = net.h0.tolist()
    if net.c0 is not None:
        doc["c0"] = net.c0.tolist()
    return _dump(doc, 0) + "\n"


def _text(doc: Mapping[str, Any], key: str, required: bool = True) -> str:
    value = doc.get(key, None if required else "")
    if value is None:
        raise WeightsError(f'missing "{key}"')
    if not isinstance(value, str):
        raise WeightsError(f'"{key}" must be text')
    return value


def _line(doc: Mapping[str, Any], key: str, required: bool = True) -> str:
    value = _text(doc, key, required).strip()
    if "\n" in value or "\r" in value:
        raise WeightsError(f'"{key}" must be a single line')
    if required and not value:
        raise WeightsError(f'"{key}" is empty')
    return value


def _array(value: Any, name: str) -> np.ndarray:
    """A nested list of numbers as float64; booleans, text and ragged lists are refused."""
    def numbers_only(v: Any) -> bool:
        if isinstance(v, list):
            return all(numbers_only(e) for e in v)
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if not isinstance(value, list) or not numbers_only(value):
        raise WeightsError(f"{name} must be a list (of lists) of numbers")
    try:
        return np.array(value, dtype=np.float64)
    except ValueError:
        raise WeightsError(f"{name} has rows of different lengths") from None


def _parse(doc: Any) -> Preset:
    if not isinstance(doc, dict):
        raise WeightsError("a preset must be a JSON object")
    encoding = _line(doc, "encoding")
    if encoding not in PRESET_ENCODINGS:
        raise WeightsError(f'"encoding" is {encoding!r}; expected one of {", ".join(PRESET_ENCODINGS)}')
    weights = doc.get("weights")
    if not isinstance(weights, dict):
        raise WeightsError('missing "weights" (an object of PyTorch state_dict names)')
    params = Params.from_state_dict({k: _array(v, k) for k, v in weights.items()})
    names = doc.get("unit_names") or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise WeightsError('"unit_names" must be a list of text')
    if names and len(names) != params.hidden_size:
        raise WeightsError(f'"unit_names" has {len(names)} names for {params.hidden_size} units')
    classes = doc.get("class_names")
    if classes is not None:
        if not isinstance(classes, list):
            raise WeightsError('"class_names" must be a list of text, one name per readout class')
        classes = check_class_names(classes, params.classes, what='"class_names"')
        params = params.replace(readout_classes=classes)
    states = {k: _array(doc[k], k) for k in ("h0", "c0") if doc.get(k) is not None}
    network = Network(params, **states)
    sequence = _text(doc, "sequence")
    if not sequence.strip():
        raise WeightsError('"sequence" is empty')
    return Preset(
        id=_line(doc, "id"),
        title=_line(doc, "title"),
        explanation=_line(doc, "explanation"),
        caption=_line(doc, "caption", required=False),
        sequence=sequence,
        encoding=encoding,
        unit_names=tuple(names),
        network=network,
    )


def load_preset_file(path: str | Path) -> Preset:
    """Read and validate one preset file.

    Raises
    ------
    WeightsError
        If the file cannot be read, is not valid JSON, misses a field, or its
        weights have the wrong shapes or values; the message names the file and
        the reason.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise WeightsError(f"{path.name}: cannot read ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise WeightsError(f"{path.name}: not a UTF-8 text file") from None
    except json.JSONDecodeError as e:
        raise WeightsError(f"{path.name}: not valid JSON (line {e.lineno}: {e.msg})") from None
    except RecursionError:
        raise WeightsError(f"{path.name}: nested too deeply to read") from None
    except ValueError as e:                    # an integer of thousands of digits
        raise WeightsError(f"{path.name}: cannot be read (a number in it is too long)"
                           if "digits" in str(e) else f"{path.name}: cannot be read ({e})") from None
    try:
        return _parse(doc)
    except WeightsError as e:
        raise WeightsError(f"{path.name}: {e}") from None
    except (OverflowError, ValueError, TypeError, RecursionError) as e:
        raise WeightsError(f"{path.name}: a value cannot be read as a number "
                           f"({type(e).__name__}: {e})") from None


def presets_dir() -> Path:
    """The folder of the preset files."""
    return resource_path("presets")


def load_preset(preset_id: str) -> Preset:
    """The shipped preset ``preset_id`` (a file stem such as ``"counter"``).

    Raises `WeightsError` if there is no such preset or its file is broken.
    """
    path = presets_dir() / f"{preset_id}.json"
    if not preset_id or Path(preset_id).name != preset_id or not path.is_file():
        known = ", ".join(p.stem for p in sorted(presets_dir().glob("*.json")))
        raise WeightsError(f"no preset called {preset_id!r} (available: {known})")
    return load_preset_file(path)


def list_presets(errors: list[str] | None = None) -> list[Preset]:
    """Every shipped preset: the built-in ones in teaching order, then any others by id.

    A broken file raises `WeightsError`; with an ``errors`` list it is left out
    instead and its message appended, so one bad file does not take the rest.
    """
    stems = {p.stem for p in presets_dir().glob("*.json")}
    order = [s for s in BUILDERS if s in stems] + sorted(stems - set(BUILDERS))
    out = []
    for stem in order:
        try:
            out.append(load_preset(stem))
        except WeightsError as e:
            if errors is None:
                raise
            errors.append(str(e))
    return out


# ----------------------------------------------------------------------------- command line

def _same_numbers(path: Path, built: Preset) -> bool:
    """The file holds the built preset up to the last bits of its floats.

    Orthogonal initialisation goes through LAPACK's QR, whose last bits differ
    between NumPy builds; such a file is still up to date.
    """
    try:
        loaded = load_preset_file(path)
    except WeightsError:
        return False
    a, b = loaded.network.params, built.network.params
    if a.kind != b.kind or a.hidden_size != b.hidden_size or a.input_size != b.input_size:
        return False
    same_text = all(getattr(loaded, f) == getattr(built, f)
                    for f in ("title", "explanation", "caption", "sequence", "encoding",
                              "unit_names", "class_names"))
    if (a.readout_weight is None) != (b.readout_weight is None):
        return False
    names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    if a.readout_weight is not None:
        if a.readout_weight.shape != b.readout_weight.shape:
            return False
        names += ["readout.weight", "readout.bias"]
    return same_text and all(np.allclose(a.tensor(n), b.tensor(n), rtol=1e-12, atol=1e-15)
                             for n in names)


def main(argv: list[str] | None = None) -> int:
    """Check (default) or ``--write`` the preset files from the builders."""
    ap = argparse.ArgumentParser(
        prog="python -m lstm_viz.model.presets",
        description="Check that resources/presets/*.json match the builders, or rewrite them.",
    )
    ap.add_argument("--write", action="store_true", help="regenerate the files from the builders")
    args = ap.parse_args(argv)
    folder = presets_dir()
    stale = []
    for preset_id, build in BUILDERS.items():
        path = folder / f"{preset_id}.json"
        text = preset_to_json(build())
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text or (current is not None and not args.write
                               and _same_numbers(path, build())):
            continue
        if args.write:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
            print(f"wrote {path}")
        else:
            stale.append(path.name)
    if stale:
        print(f"out of date (run with --write): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
