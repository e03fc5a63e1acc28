"""``lstm-viz bench``: how fast the engine (and, later, the GUI) is, on one thread.

Sections live in a small registry, `SECTIONS`: a name and a function
``run(quick: bool) -> list[dict]``. Each result is a dict::

    {"name": str, "median_ms": float, "target": str | None,
     "ratio": float (optional), "pass": bool (optional), ...}

``target`` is the goal in words (e.g. ``"<= 2.5x"``); ``ratio`` and ``pass``
appear for comparisons. The engine section times full traces (forward plus
backpropagation through time, every per-step quantity) and, when PyTorch is
installed, compares the LSTM side by side with

* PyTorch's fused ``nn.LSTM``, float32, forward + backward of
  ``0.5 ||h_T||^2`` (parameter gradients only: it computes far less), and
* an unrolled ``nn.LSTMCell`` float64 loop that keeps the gradient of every
  ``h_t`` and ``c_t`` (``retain_grad()``) and of the input: the same job.

Each ratio comes from its own interleaved loop of the two jobs compared (ours,
then theirs, repeated), so drift hits both alike and neither runs right after
the third: the LSTMCell loop's autograd churn slowed the trace that followed it.

The GUI section is ``lstm_viz.ui.bench_ui.run`` when that module exists.

Everything runs on one thread: BLAS thread counts are fixed through the
environment before NumPy is first imported (if NumPy is already imported,
the benchmark re-runs itself in a fresh interpreter), and ``torch.set_num_threads(1)``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from typing import Callable

from . import __version__

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")

#: (T, D, H) sizes timed, and the LSTM targets at each: ratio to fused nn.LSTM,
#: ratio to the unrolled LSTMCell loop.
SIZES: tuple[tuple[int, int, int], ...] = ((100, 8, 16), (500, 8, 32))
FUSED_TARGET = {(100, 8, 16): 2.5, (500, 8, 32): 4.0}
CELL_LOOP_TARGET = 0.15


# --------------------------------------------------------------------------- timing


def _timings(fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 2) -> dict[str, list[float]]:
    """Seconds per call of each function, measured interleaved so drift hits all alike."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    out: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            out[name].append(time.perf_counter() - t0)
    return out


def _stats(samples: list[float]) -> dict[str, float]:
    """Median, quartiles and minimum, in milliseconds."""
    s = sorted(samples)
    n = len(s)

    def q(p: float) -> float:  # linear interpolation between order statistics
        pos = p * (n - 1)
        lo = int(pos)
        hi = min(lo + 1, n - 1)
        return s[lo] + (s[hi] - s[lo]) * (pos - lo)

    return {"median_ms": q(0.5) * 1e3, "iqr_ms": (q(0.75) - q(0.25)) * 1e3, "min_ms": s[0] * 1e3}


# --------------------------------------------------------------------------- engine


def _torch_jobs(params, x):
    """The two PyTorch comparisons for one LSTM ``params`` and input ``x`` (T, D)."""
    import torch

    T, D = x.shape
    H = params.hidden_size
    sd = {k: torch.tensor(v) for k, v in params.to_state_dict().items()}

    fused = torch.nn.LSTM(D, H)
    fused.load_state_dict({k: v.float() for k, v in sd.items()})
    xf = torch.tensor(x, dtype=torch.float32).reshape(T, 1, D)

    def run_fused() -> None:
        fused.zero_grad(set_to_none=True)
        out, _ = fused(xf)
        loss = 0.5 * (out[-1] ** 2).sum()
        loss.backward()

    cell = torch.nn.LSTMCell(D, H).double()
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in sd.items()})
    xd = torch.tensor(x, dtype=torch.float64)

    def run_cell_loop() -> None:
        cell.zero_grad(set_to_none=True)
        xs = xd.clone().requires_grad_(True)
        h = torch.zeros(1, H, dtype=torch.float64)
        c = torch.zeros(1, H, dtype=torch.float64)
        hs, cs = [], []
        for t in range(T):
            h, c = cell(xs[t:t + 1], (h, c))
            h.retain_grad()
            c.retain_grad()
            hs.append(h)
            cs.append(c)
        loss = 0.5 * (h ** 2).sum()
        loss.backward()

    return run_fused, run_cell_loop


def engine_section(quick: bool) -> list[dict]:
    """Full-trace times for every cell kind and size; LSTM ratios to PyTorch."""
    import numpy as np

    from .model import Network, init_params

    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None

    repeats = 7 if quick else 41
    results: list[dict] = []
    for T, D, H in SIZES:
        size = f"T={T} D={D} H={H}"
        x = np.random.default_rng(0).standard_normal((T, D))
        for kind in ("lstm", "gru", "rnn"):
            params = init_params(kind, D, H, seed=0)
            net = Network(params)
            n = repeats if T <= 100 else max(5, repeats // 2)

            def trace(net=net) -> object:
                return net.trace(x)

            if kind != "lstm" or torch is None:
                ours = _stats(_timings({"ours": trace}, n)["ours"])
                results.append({"name": f"{kind} trace {size}", **ours, "target": None})
                continue
            fused, cell = _torch_jobs(params, x)
            # Each comparison is its own interleaved pair: run between our traces, the
            # LSTMCell loop (hundreds of ms of autograd allocations) left each next trace
            # ~3 ms slower at T=500 (18.8 against 15.7 ms), a cost of the neighbour.
            pairs = {key: _timings({"ours": trace, key: fn}, n)
                     for key, fn in (("fused", fused), ("cell", cell))}
            ours = _stats(pairs["fused"]["ours"])
            results.append({"name": f"{kind} trace {size}", **ours, "target": None})
            for key, label, target in (
                ("fused", "torch nn.LSTM fused float32 fwd+bwd", FUSED_TARGET[(T, D, H)]),
                ("cell", "torch LSTMCell float64 loop, retain_grad", CELL_LOOP_TARGET),
            ):
                mine = _stats(pairs[key]["ours"])
                theirs = _stats(pairs[key][key])
                ratio = mine["median_ms"] / theirs["median_ms"]
                results.append({
                    "name": f"lstm trace / {label} {size}",
                    **theirs,
                    "target": f"<= {target:g}x",
                    "ratio": ratio,
                    "pass": ratio <= target,
                })
    if torch is None:
        results.append({"name": "comparison with PyTorch", "median_ms": None,
                        "target": None, "note": "torch is not installed: no ratios"})
    return results


def gui_section(quick: bool) -> list[dict]:
    """``lstm_viz.ui.bench_ui.run(quick)`` if the GUI provides it."""
    if importlib.util.find_spec("lstm_viz.ui.bench_ui") is None:
        return [{"name": "gui", "median_ms": None, "target": None,
                 "note": "no GUI benchmark in this version (lstm_viz.ui.bench_ui missing): skipped"}]
    from .ui import bench_ui

    return list(bench_ui.run(quick))


#: Benchmark sections by name, in the order they run.
SECTIONS: dict[str, Callable[[bool], list[dict]]] = {
    "engine": engine_section,
    "gui": gui_section,
}


# --------------------------------------------------------------------------- report


def _table(sections: dict[str, list[dict]]) -> str:
    lines = []
    for section, results in sections.items():
        lines.append(f"[{section}]")
        width = max([len(r["name"]) for r in results] + [4])
        lines.append(f"  {'name':<{width}}  {'median ms':>10}  {'IQR ms':>8}  {'ratio':>7}  "
                     f"{'target':>8}  result")
        for r in results:
            if r.get("median_ms") is None:
                lines.append(f"  {r['name']:<{width}}  {r.get('note', '')}")
                continue
            iqr = r.get("iqr_ms")
            ratio = r.get("ratio")
            verdict = "" if "pass" not in r else ("PASS" if r["pass"] else "MISS")
            rounds = r.get("per_pass")
            rounds = f"  {' / '.join(format(v, '.1f') for v in rounds)}" if rounds else ""
            lines.append(
                f"  {r['name']:<{width}}  {r['median_ms']:>10.3f}  "
                f"{'' if iqr is None else format(iqr, '.3f'):>8}  "
                f"{'' if ratio is None else format(ratio, '.3f') + 'x':>7}  "
                f"{r.get('target') or '':>8}  {verdict:<4}{rounds}".rstrip()
            )
        if any(r.get("per_pass") for r in results):
            lines.append("  (after the result: the median of each pass; see lstm_viz.ui.bench_ui)")
        machine = next((r["machine_ms"] for r in results if r.get("machine_ms")), None)
        if machine:
            lines.append(f"  machine speed (a rough gauge): a fixed Python loop took "
                         f"{' / '.join(format(v, '.1f') for v in machine)} ms at each pass's start")
    return "\n".join(lines)


def _environment() -> dict[str, object]:
    import numpy as np

    try:
        import torch

        torch_version: str | None = torch.__version__
    except ImportError:
        torch_version = None
    return {
        "lstm_viz": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch_version,
        "machine": platform.machine(),
        "threads": 1,
        "numpy_call_us": _numpy_call_us(),
    }


def _numpy_call_us() -> float:
    """Microseconds per small NumPy call (``np.tanh`` of 64 floats into a buffer), the
    unit the engine's per-step loops are made of: it says how fast this machine is
    now, so runs on different machines or at different times can be compared."""
    import numpy as np

    a, out = np.linspace(-1.0, 1.0, 64), np.empty(64)
    tanh, best = np.tanh, float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(2000):
            tanh(a, out)
        best = min(best, (time.perf_counter() - t0) / 2000 * 1e6)
    return round(best, 3)


def _rerun_single_threaded(quick: bool, as_json: bool, only: str | None) -> int:
    """NumPy is already loaded with its own thread pool: measure in a fresh interpreter."""
    env = dict(os.environ, **{v: "1" for v in THREAD_VARS})
    cmd = [sys.executable, "-m", "lstm_viz", "bench"]
    cmd += ["--quick"] * quick + ["--json"] * as_json + (["--only", only] if only else [])
    return subprocess.run(cmd, env=env).returncode


def main(quick: bool = False, as_json: bool = False, only: str | None = None) -> int:
    """Run the sections (all, or ``only``) and print a table or one JSON object."""
    if "numpy" in sys.modules and any(os.environ.get(v) != "1" for v in THREAD_VARS[:3]):
        return _rerun_single_threaded(quick, as_json, only)
    for var in THREAD_VARS:
        os.environ[var] = "1"  # before NumPy (and its BLAS) is first imported

    names = [only] if only else list(SECTIONS)
    sections: dict[str, list[dict]] = {}
    for name in names:
        if not as_json:
            print(f"running {name} benchmarks{' (quick)' if quick else ''} ...", file=sys.stderr)
        sections[name] = SECTIONS[name](quick)
    if as_json:
        doc = {"environment": _environment(), "quick": quick,
               "results": [dict(r, section=s) for s, rs in sections.items() for r in rs]}
        print(json.dumps(doc, indent=2))
    else:
        env = _environment()
        print(f"lstm-viz {env['lstm_viz']}  python {env['python']}  numpy {env['numpy']}  "
              f"torch {env['torch'] or 'not installed'}  one thread  "
              f"(a small NumPy call: {env['numpy_call_us']:.2f} µs)")
        print(_table(sections))
    return 0
