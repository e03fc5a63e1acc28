"""The program as a whole: version, entry points, no Qt in headless commands, GUI start-up checks."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

import lstm_viz
from lstm_viz.cli import GuiOptions

from .conftest import REPO, cli_env

QT_PREFIXES = ("PySide6", "shiboken6", "pyqtgraph")

# Runs main() in-process and reports on stderr which Qt modules got imported.
WRAPPER = """
import sys
from lstm_viz.cli import main
rc = main(sys.argv[1:])
qt = sorted(m for m in sys.modules if m.split('.')[0] in {prefixes!r})
print('QT-MODULES=' + ','.join(qt), file=sys.stderr)
raise SystemExit(rc)
""".format(prefixes=QT_PREFIXES)


def run_wrapped(*args: str, **env: str | None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WRAPPER, *args], cwd=REPO, env=cli_env(**env),
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def qt_modules(stderr: str) -> list[str]:
    (line,) = [ln for ln in stderr.splitlines() if ln.startswith("QT-MODULES=")]
    return [m for m in line.removeprefix("QT-MODULES=").split(",") if m]


def test_version(cli):
    r = cli("--version")
    assert r.returncode == 0
    assert r.stdout == f"lstm-viz {lstm_viz.__version__}\n"
    assert r.stderr == ""


def test_main_py_is_the_same_program():
    r = subprocess.run([sys.executable, str(REPO / "main.py"), "--version"], cwd=REPO,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    assert r.stdout == f"lstm-viz {lstm_viz.__version__}\n"


def test_help_lists_the_commands(cli):
    r = cli("--help")
    assert r.returncode == 0
    assert "trace" in r.stdout and "bench" in r.stdout and "--smoke-test" in r.stdout


def test_version_and_trace_import_no_qt(tmp_path):
    r = run_wrapped("--version")
    assert r.returncode == 0, r.stderr
    assert qt_modules(r.stderr) == []
    out = tmp_path / "run.json"
    r = run_wrapped("trace", "--input", "1 0 1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert qt_modules(r.stderr) == []
    assert out.exists()


def test_bench_quick_json_imports_no_qt():
    """Slow-ish (a few seconds): the engine section, quick, as JSON."""
    r = run_wrapped("bench", "--quick", "--json", "--only", "engine")
    assert r.returncode == 0, r.stderr
    assert qt_modules(r.stderr) == []
    doc = json.loads(r.stdout)
    names = [res["name"] for res in doc["results"]]
    for kind in ("lstm", "gru", "rnn"):
        for size in ("T=100 D=8 H=16", "T=500 D=8 H=32"):
            assert f"{kind} trace {size}" in names
    for res in doc["results"]:
        assert {"name", "median_ms", "target"} <= set(res)
        if res["median_ms"] is not None:
            assert res["median_ms"] > 0
    assert 0 < doc["environment"]["numpy_call_us"] < 1000    # this machine's speed, in µs
    ratios = [res for res in doc["results"] if "ratio" in res]
    if importlib.util.find_spec("torch") is not None:
        assert len(ratios) == 4
        assert all(isinstance(res["pass"], bool) and res["ratio"] > 0 for res in ratios)
        assert doc["environment"]["torch"]
    else:
        assert ratios == []


def test_bench_table_shows_targets_and_verdicts(monkeypatch, capsys):
    """The table, from a stand-in section (the real ones are timed above and in the GUI's tests)."""
    from lstm_viz import bench

    for var in bench.THREAD_VARS:
        monkeypatch.setenv(var, "1")  # already single-threaded: no re-run in a subprocess
    rows = [
        {"name": "fast thing", "median_ms": 1.5, "iqr_ms": 0.25, "target": "<= 2x",
         "ratio": 1.25, "pass": True},
        {"name": "slow thing", "median_ms": 9.0, "iqr_ms": 1.0, "target": "<= 2x",
         "ratio": 3.0, "pass": False},
        {"name": "absent", "median_ms": None, "target": None, "note": "skipped: not here"},
        {"name": "in rounds", "median_ms": 4.0, "iqr_ms": 0.5, "target": 8.0, "pass": True,
         "per_pass": [3.25, 4.0, 6.5], "machine_ms": [5.0, 7.5, 5.25]},
    ]
    monkeypatch.setattr(bench, "SECTIONS", {"demo": lambda quick: rows})
    assert bench.main(quick=True) == 0
    out = capsys.readouterr().out.splitlines()
    assert "[demo]" in out
    (fast,) = [ln for ln in out if "fast thing" in ln]
    (slow,) = [ln for ln in out if "slow thing" in ln]
    assert fast.endswith("PASS") and "1.500" in fast
    assert slow.endswith("MISS") and "3.000x" in slow
    assert any("skipped: not here" in ln for ln in out)
    (rounds,) = [ln for ln in out if "in rounds" in ln]
    assert rounds.endswith("PASS  3.2 / 4.0 / 6.5")
    assert any("5.0 / 7.5 / 5.2 ms" in ln for ln in out)


def test_gui_bench_rounds_merge_into_one_row_each():
    """Rows measured in several rounds: one median over all samples, each round's median
    kept, paint counts added, a check that failed in any round fails the row."""
    from lstm_viz.ui.bench_ui import _merge, _result

    a = [_result("gui.drag_T100_H8", [10.0, 11.0, 30.0], painted={"diagram": 3}),
         _result("gui.drag_coalescing", [5.0], recomputes_ok=True)]
    b = [_result("gui.drag_T100_H8", [12.0, 13.0, 14.0], painted={"diagram": 2}),
         _result("gui.drag_coalescing", [6.0], recomputes_ok=False)]
    drag, coalesce = _merge([a, b])
    assert drag["name"] == "gui.drag_T100_H8" and drag["samples"] == 6
    assert drag["median_ms"] == 12.5 and drag["per_pass"] == [11.0, 13.0]
    assert drag["painted"] == {"diagram": 5} and drag["pass"]
    assert coalesce["median_ms"] < 33 and not coalesce["pass"] and not coalesce["recomputes_ok"]


def test_no_display_is_one_line_and_no_qt():
    """xcb without a display: one line naming the problem, exit 1, Qt never imported."""
    r = run_wrapped("--smoke-test", DISPLAY=None, WAYLAND_DISPLAY=None, QT_QPA_PLATFORM="xcb")
    assert r.returncode == 1
    lines = [ln for ln in r.stderr.splitlines() if not ln.startswith("QT-MODULES=")]
    assert len(lines) == 1 and lines[0].startswith("lstm-viz: error: ")
    assert "DISPLAY" in lines[0]
    assert qt_modules(r.stderr) == []


def test_gui_step_is_passed_zero_based(monkeypatch):
    """--step counts from 1 on the command line; GuiOptions.step is 0-based."""
    from lstm_viz import cli

    seen = []
    monkeypatch.setattr(cli, "run_gui", lambda opts: seen.append(opts) or 0)
    assert cli.main(["--step", "3", "--theme", "dark", "--size", "1280x800"]) == 0
    assert seen == [GuiOptions(step=2, theme="dark", size=(1280, 800))]


@pytest.mark.skipif(importlib.util.find_spec("lstm_viz.ui.app") is not None,
                    reason="the window exists: covered by the GUI's own tests and CI's smoke test")
def test_window_missing_is_said_in_one_line(cli):
    r = cli("--smoke-test", env=cli_env(QT_QPA_PLATFORM="offscreen"))
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("lstm-viz: error: ")
    assert "not available" in lines[0]


FAULTS = """
import resource, sys
import numpy as np
if sys.argv[1] == "program":
    from lstm_viz._alloc import keep_freed_memory
    assert keep_freed_memory()
from lstm_viz.model import Network, init_params
x = np.random.default_rng(0).standard_normal((500, 8))
net = Network(init_params("lstm", 8, 32, seed=0))
for _ in range(3):
    net.trace(x)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    net.trace(x)
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


def test_the_program_reuses_freed_memory_so_a_trace_maps_no_fresh_pages():
    from lstm_viz._alloc import keep_freed_memory

    if not keep_freed_memory():
        pytest.skip("not glibc: the allocator is left as it is")

    def faults(mode: str) -> float:
        r = subprocess.run([sys.executable, "-c", FAULTS, mode], cwd=REPO, env=cli_env(),
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return float(r.stdout.strip())

    library, program = faults("library"), faults("program")
    # A library user's process maps (and the kernel zeroes) megabytes per trace; the
    # program's reuses its memory.
    assert library > 200
    assert program < library / 10


def test_main_tunes_the_allocator_before_running_a_command(monkeypatch, tmp_path):
    import lstm_viz._alloc
    from lstm_viz.cli import main

    calls = []
    monkeypatch.setattr(lstm_viz._alloc, "keep_freed_memory", lambda: calls.append(1) or True)
    assert main(["trace", "--input", "1 0 0.5", "--out", str(tmp_path / "t.npz")]) == 0
    assert calls == [1]
    assert main(["--version"]) == 0 and calls == [1]          # not for --version
