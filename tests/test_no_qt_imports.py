"""lstm_viz.model (and the command-line entry module) must never import Qt.

Each check runs in a fresh interpreter, because this test process may already
have Qt loaded by other tests.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
QT_PREFIXES = ("PySide6", "shiboken6", "pyqtgraph")

# Imports the given modules (and every submodule of the packages among them),
# then prints, as JSON, what it imported and which Qt modules ended up loaded.
_PROBE = """
import importlib, json, pkgutil, sys
imported = []
for name in sys.argv[1:]:
    mod = importlib.import_module(name)
    imported.append(name)
    if hasattr(mod, "__path__"):
        for info in pkgutil.walk_packages(mod.__path__, prefix=name + "."):
            importlib.import_module(info.name)
            imported.append(info.name)
qt = sorted(m for m in sys.modules if m.split(".")[0] in {prefixes!r})
print(json.dumps({{"imported": imported, "qt": qt}}))
""".format(prefixes=set(QT_PREFIXES))


def _probe(*modules: str) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *modules],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_model_package_imports_no_qt():
    result = _probe("lstm_viz.model")
    assert "lstm_viz.model.cells" in result["imported"]
    assert "lstm_viz.model.trace" in result["imported"]
    assert "lstm_viz.model.weights" in result["imported"]
    assert result["qt"] == [], f"Qt loaded by the model: {result['qt']}"


def test_cli_module_imports_no_qt():
    if importlib.util.find_spec("lstm_viz.cli") is None:
        pytest.skip("lstm_viz.cli does not exist yet")
    result = _probe("lstm_viz.cli")
    assert result["qt"] == [], f"Qt loaded by the command line module: {result['qt']}"


def test_probe_notices_qt():
    """The probe itself can fail: importing a Qt module shows up in its report."""
    result = _probe("shiboken6")
    assert "shiboken6" in result["qt"]
