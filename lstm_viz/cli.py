"""The command line: the GUI by default, and the headless ``trace`` and ``bench`` commands.

``python main.py``, ``python -m lstm_viz`` and the ``lstm-viz`` console script all
call `main`. This module imports neither Qt nor NumPy at import time: the GUI is
imported only for the GUI modes, NumPy only by the commands that compute, so
``--version``, ``trace`` and ``bench`` start fast and run without a display.

Errors in what the user typed or gave us (options, sequences, weights files,
output paths) end with exit status 2 and exactly one line on stderr,
``lstm-viz: error: ...``, and no output file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Callable, Mapping, Sequence

from . import __version__

PROG = "lstm-viz"
#: Exit status for bad input (as argparse uses for bad options).
EXIT_USAGE = 2
#: The file formats ``trace --out`` can write, by extension.
TRACE_FORMATS = (".npz", ".json", ".csv")
#: Most hidden units ``trace --hidden`` makes (as many as the window opens from a file).
MAX_HIDDEN = 1024
SCREENSHOT_FORMATS = (".png", ".jpg", ".jpeg", ".bmp")
THEMES = ("light", "dark", "contrast")
CELLS = ("lstm", "gru", "rnn")
ENCODINGS = ("auto", "numbers", "vectors", "chars", "words")


class CliError(Exception):
    """Bad input from the user: reported as one ``lstm-viz: error:`` line, exit status 2."""


@dataclass(frozen=True)
class GuiOptions:
    """What the command line asks of the GUI.

    Attributes
    ----------
    smoke_test : bool
        Open the main window, play the demo once, close, exit 0.
    screenshot : str or None
        Save a picture of the main window to this path and exit.
    size : (int, int) or None
        Window size (width, height) in pixels.
    step : int or None
        Time step to show, 0-based (the command line's ``--step`` counts from 1).
    theme : {"light", "dark", "contrast"} or None
    tab : {"traces", "gradients", "compare", "long-range"} or None
        Which lower tab to show.
    gradients : bool
        Show the gradients on the diagram and strip instead of the values.
    """

    smoke_test: bool = False
    screenshot: str | None = None
    size: tuple[int, int] | None = None
    step: int | None = None
    theme: str | None = None
    tab: str | None = None
    gradients: bool = False


# --------------------------------------------------------------------------- parser


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line and go through `main`'s handler."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliError(" ".join(message.split()))


def _size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if not m or not (100 <= int(m[1]) <= 10000 and 100 <= int(m[2]) <= 10000):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a window size WIDTHxHEIGHT in pixels (each 100..10000), e.g. 1280x800"
        )
    return int(m[1]), int(m[2])


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return n


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _hidden(text: str) -> int:
    n = _positive_int(text)
    if n > MAX_HIDDEN:
        raise argparse.ArgumentTypeError(f"{text!r} is more than {MAX_HIDDEN}")
    return n


def _seed(text: str) -> int:
    n = _int(text)
    if n < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    return n


#: Names of the lower tabs for ``--tab`` (in the window's order).
TABS = ("traces", "gradients", "compare", "long-range")


def build_parser() -> argparse.ArgumentParser:
    """The full parser (GUI options at the top level, ``trace`` and ``bench`` commands)."""
    p = _Parser(
        prog=PROG,
        description="See inside an LSTM (or GRU, or simple RNN) while it runs. "
        "With no command, opens the window on the built-in demo.",
        epilog="Steps on the command line count from 1.",
    )
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    gui = p.add_argument_group("window options")
    gui.add_argument("--smoke-test", action="store_true",
                     help="open the main window, play the demo once and exit (status 0 if all went well)")
    gui.add_argument("--screenshot", metavar="PATH",
                     help="save a picture of the main window (.png, .jpg, .bmp) and exit; "
                     "needs no screen")
    gui.add_argument("--size", type=_size, metavar="WxH", help="window size in pixels, e.g. 1280x800")
    gui.add_argument("--step", type=_positive_int, metavar="N", help="show step N of the sequence")
    gui.add_argument("--theme", choices=THEMES, help="colour theme (light suits projectors)")
    gui.add_argument("--tab", choices=TABS,
                     help="which lower tab to show: the traces, the gradients, the three cells "
                     "compared, or the long-range demonstration")
    gui.add_argument("--gradients", action="store_true",
                     help="show gradients dL/d(...) on the diagram and strip instead of values")

    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    t = sub.add_parser(
        "trace", help="run a sequence through a cell, forward and back, and save every array",
        description="Run a sequence through a cell and write every per-step quantity and "
        "gradient (loss L = 0.5 ||h_s - y||^2 on step s, the last by default; with "
        "--loss-class K, the cross-entropy of the weights' readout layer on class K).",
    )
    t.add_argument("--cell", choices=CELLS,
                   help="cell kind (default lstm; with --weights, taken from the file)")
    t.add_argument("--weights", metavar="FILE",
                   help="weights in PyTorch state_dict layout (.npz; .pt when torch is installed)")
    t.add_argument("--hidden", type=_hidden, metavar="H",
                   help=f"hidden units of the random weights (default 4, at most {MAX_HIDDEN})")
    t.add_argument("--seed", type=_seed, metavar="S", help="seed of the random weights (default 0)")
    t.add_argument("--input", required=True, metavar="TEXT",
                   help="the sequence: '1 0 0.5' (numbers), '1,0; 0,1' (vectors), 'hello' (chars), ...")
    t.add_argument("--encoding", choices=ENCODINGS, default="auto",
                   help="how to read --input (default auto)")
    t.add_argument("--target", metavar="VALUES",
                   help="target y for the last hidden state: H numbers, or one for every unit "
                   "(default zeros)")
    t.add_argument("--loss-step", type=_positive_int, metavar="N",
                   help="step whose hidden state enters the loss (default the last)")
    t.add_argument("--loss-class", type=_int, metavar="K",
                   help="use the cross-entropy of the readout layer in --weights on class K "
                   "(counted from 0, as PyTorch's class labels) instead of the squared error; "
                   "adds readout_logits, readout_probs and the readout's gradients to the output")
    t.add_argument("--out", required=True, metavar="FILE", help="output file: .npz, .json or .csv")

    b = sub.add_parser(
        "bench", help="time the engine (and the GUI), compared with PyTorch when installed",
        description="Time full traces (forward + backpropagation through time) on one thread.",
    )
    b.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    b.add_argument("--quick", action="store_true", help="fewer repeats (less precise, for tests)")
    b.add_argument("--only", choices=("engine", "gui"), help="run one section only")
    return p


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    """Run the program; returns the exit status."""
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:  # --help and --version print and exit 0
            return e.code if isinstance(e.code, int) else 0
        from ._alloc import keep_freed_memory

        keep_freed_memory()              # each new trace reuses the last one's memory
        if args.command == "trace":
            _reject_gui_options(args, "trace")
            return run_trace(args)
        if args.command == "bench":
            _reject_gui_options(args, "bench")
            from .bench import main as bench_main

            return bench_main(quick=args.quick, as_json=args.json, only=args.only)
        return run_gui(_gui_options(args))
    except CliError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _reject_gui_options(args: argparse.Namespace, command: str) -> None:
    given = [f"--{n.replace('_', '-')}" for n in ("smoke_test", "screenshot", "size", "step", "theme", "tab",
                                                  "gradients")
             if getattr(args, n) not in (None, False)]
    if given:
        raise CliError(f"{', '.join(given)} only apply to the window, not to '{command}'")


def _gui_options(args: argparse.Namespace) -> GuiOptions:
    if args.screenshot is not None:
        shot = Path(args.screenshot)
        if shot.suffix.lower() not in SCREENSHOT_FORMATS:
            raise CliError(
                f"--screenshot {args.screenshot!r}: the file must end in "
                f"{', '.join(SCREENSHOT_FORMATS)}"
            )
        _check_writable(shot, "--screenshot")
    if args.smoke_test and args.screenshot is not None:
        raise CliError("--smoke-test and --screenshot cannot be combined")
    return GuiOptions(
        smoke_test=args.smoke_test,
        screenshot=args.screenshot,
        size=args.size,
        step=None if args.step is None else args.step - 1,
        theme=args.theme,
        tab=args.tab,
        gradients=args.gradients,
    )


# --------------------------------------------------------------------------- GUI


def run_gui(options: GuiOptions) -> int:
    """Check that Qt can start, then hand over to the GUI (imported only now)."""
    import importlib.util

    if options.screenshot is not None and sys.platform.startswith("linux"):
        # A screenshot needs no screen: render offscreen when there is none.
        if not os.environ.get("QT_QPA_PLATFORM") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        ):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"

    from .ui.platform_check import check

    problem = check()
    if problem:
        print(f"{PROG}: error: {problem}", file=sys.stderr)
        return 1
    if importlib.util.find_spec("lstm_viz.ui.app") is None:
        print(f"{PROG}: error: the window is not available in this version yet; "
              "the 'trace' and 'bench' commands work (see --help)", file=sys.stderr)
        return 1
    from .ui.app import run_gui as app_run_gui

    return int(app_run_gui(options))


# --------------------------------------------------------------------------- trace


def run_trace(args: argparse.Namespace) -> int:
    """The ``trace`` command: encode, build or load the network, trace, write the file."""
    out = Path(args.out)
    if out.suffix.lower() not in TRACE_FORMATS:
        raise CliError(f"--out {args.out!r}: unknown format; the file must end in "
                       f"{', '.join(TRACE_FORMATS)}")
    _check_writable(out, "--out")

    from .model import Network, encode, init_params, load_weights

    try:
        enc = encode(args.input, encoding=args.encoding)
    except ValueError as e:
        raise CliError(f"--input: {e}") from None

    if args.weights is not None:
        if args.seed is not None:
            raise CliError("--seed only applies to random weights, not with --weights")
        net = _load_network(args.weights, load_weights)
        if args.cell is not None and args.cell != net.kind:
            raise CliError(f"--cell {args.cell} does not match the weights in {args.weights}, "
                           f"which are a {net.kind.upper()}")
        if args.hidden is not None and args.hidden != net.hidden_size:
            raise CliError(f"--hidden {args.hidden} does not match the weights in {args.weights}, "
                           f"which have {net.hidden_size} hidden units")
        if enc.x.shape[1] != net.input_size:
            raise CliError(
                f"--input has {enc.x.shape[1]} value(s) per step ({enc.encoding} encoding) "
                f"but the weights in {args.weights} expect {net.input_size}"
            )
    else:
        try:
            net = Network(init_params(args.cell or "lstm", enc.x.shape[1], args.hidden or 4,
                                      seed=0 if args.seed is None else args.seed))
        except ValueError as e:
            raise CliError(str(e)) from None

    steps = enc.x.shape[0]
    if args.loss_step is not None:
        if args.loss_step > steps:
            raise CliError(f"--loss-step {args.loss_step} is past the end of the sequence "
                           f"({steps} steps)")
        net = net.with_(options=replace(net.options, loss_step=args.loss_step - 1))
    if args.loss_class is not None:
        if args.target is not None:
            raise CliError("--target is for the squared-error loss; the readout loss of "
                           "--loss-class does not use it")
        K = net.params.classes
        if K == 0:
            where = f"the weights in {args.weights} have" if args.weights else "random weights have"
            raise CliError(f"--loss-class {args.loss_class}: {where} no readout layer "
                           "(readout.weight / readout.bias, or one Linear layer such as fc.)")
        if not 0 <= args.loss_class < K:
            raise CliError(f"--loss-class {args.loss_class}: the readout has {K} "
                           f"class{'es' if K != 1 else ''}, 0 to {K - 1}")
        net = net.with_(options=replace(net.options, loss_class=args.loss_class))
    target = None if args.target is None else _parse_target(args.target, net.hidden_size)

    try:
        tr = net.trace(enc.x, target=target)
    except ValueError as e:
        raise CliError(str(e)) from None
    arrays = tr.to_dict()
    meta = {
        "kind": tr.kind,
        "encoding": enc.encoding,
        "labels": list(enc.labels),
        "vocab": None if enc.vocab is None else list(enc.vocab),
        "loss_step": int(tr.loss_step),
        "loss_class": tr.loss_class,
    }
    if net.params.readout_classes:                 # names of the readout's classes, if any
        meta["class_names"] = list(net.params.readout_classes)
    try:
        write_trace(out, arrays, meta)
    except OSError as e:
        raise CliError(f"cannot write {args.out}: {e.strerror or e}") from None
    return 0


def _load_network(path: str, load_weights: Callable[[str], object]):
    if not Path(path).exists():
        raise CliError(f"--weights {path}: no such file")
    try:
        return load_weights(path)
    except (ValueError, OSError) as e:  # WeightsError is a ValueError
        msg = str(e).removeprefix(f"{path}: ")  # io's errors already name the file
        raise CliError(f"--weights {path}: {msg}") from None
    except Exception as e:  # whatever else a damaged file provokes, it is still a bad file
        from .model.io import plain_text  # no terminal escape codes from a library's message

        raise CliError(f"--weights {path}: cannot read it "
                       f"({type(e).__name__}: {plain_text(str(e))})") from None


def _parse_target(text: str, hidden: int):
    """H numbers (commas or spaces), or one number used for every unit."""
    import numpy as np

    tokens = [t for t in re.split(r"[\s,]+", text.strip()) if t]
    values = []
    for k, tok in enumerate(tokens, 1):
        try:
            v = float(tok)
        except ValueError:
            raise CliError(f"--target: value {k} {tok!r} is not a number") from None
        if not math.isfinite(v):
            raise CliError(f"--target: value {k} {tok!r} is not a finite number")
        values.append(v)
    if not values:
        raise CliError("--target is empty")
    if len(values) == 1:
        values *= hidden
    if len(values) != hidden:
        raise CliError(f"--target has {len(values)} values but the network has {hidden} hidden "
                       f"units (give {hidden} values, or one for every unit)")
    return np.array(values, dtype=np.float64)


def _check_writable(path: Path, option: str) -> None:
    """Fail early (before any work) on an output path that cannot be written."""
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise CliError(f"{option} {path}: is a folder, not a file")
    if not parent.is_dir():
        raise CliError(f"{option} {path}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CliError(f"{option} {path}: the folder {parent} is not writable")


# --------------------------------------------------------------------------- writers


def write_trace(path: str | os.PathLike, arrays: Mapping[str, object], meta: Mapping[str, object]) -> None:
    """Write a trace's arrays as ``.npz``, ``.json`` or ``.csv`` (by extension), atomically.

    ``.npz``: one float64 array per name (`numpy.savez`, no pickled objects).
    ``.json``: an object of name -> nested lists (floats written to full
    precision, so they read back exactly) plus ``"meta"``.
    ``.csv``: long form with header ``array,step,index,value``: one row per
    element; for 2-D arrays ``step`` is the row (the time step for per-step
    arrays) and ``index`` the column; 1-D arrays leave ``step`` empty; the
    scalar ``loss`` leaves both empty. Values are Python ``repr`` of floats.
    """
    from .model.io import atomic_write

    path = Path(path)
    ext = path.suffix.lower()
    if ext == ".npz":
        atomic_write(path, lambda f: _write_npz(f, arrays))
    elif ext == ".json":
        atomic_write(path, lambda f: _write_json(f, arrays, meta))
    elif ext == ".csv":
        atomic_write(path, lambda f: _write_csv(f, arrays))
    else:
        raise ValueError(f"unknown trace format {ext!r}")


def _write_npz(f: IO[bytes], arrays: Mapping[str, object]) -> None:
    import numpy as np

    np.savez(f, **{k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()})


def _write_json(f: IO[bytes], arrays: Mapping[str, object], meta: Mapping[str, object]) -> None:
    import numpy as np

    doc: dict[str, object] = {k: np.asarray(v, dtype=np.float64).tolist() for k, v in arrays.items()}
    doc["meta"] = dict(meta)
    # json writes floats with repr(), the shortest text that reads back to the same float.
    f.write(json.dumps(doc, allow_nan=False).encode("utf-8"))
    f.write(b"\n")


def _write_csv(f: IO[bytes], arrays: Mapping[str, object]) -> None:
    import numpy as np

    lines = ["array,step,index,value"]
    for name, value in arrays.items():
        a = np.asarray(value, dtype=np.float64)
        if a.ndim == 0:
            lines.append(f"{name},,,{float(a)!r}")
        elif a.ndim == 1:
            lines.extend(f"{name},,{j},{v!r}" for j, v in enumerate(a.tolist()))
        elif a.ndim == 2:
            lines.extend(f"{name},{t},{j},{v!r}"
                         for t, row in enumerate(a.tolist()) for j, v in enumerate(row))
        else:
            raise ValueError(f"{name}: cannot write a {a.ndim}-D array as CSV")
    f.write(("\n".join(lines) + "\n").encode("utf-8"))
