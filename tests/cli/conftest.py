"""Helpers for the command-line tests: run the program in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def cli_env(**changes: str | None) -> dict[str, str]:
    """The current environment with the checkout on PYTHONPATH; None removes a variable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    for k, v in changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
    """``python -m lstm_viz ARGS`` from the checkout; returns the completed process."""
    return subprocess.run(
        [sys.executable, "-m", "lstm_viz", *args],
        cwd=cwd or REPO, env=env or cli_env(), capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def cli():
    return run_cli
