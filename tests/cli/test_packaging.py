"""Packaging: every package is shipped, and resources are found however the code is run."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from lstm_viz._resources import resource_path

from .conftest import REPO

tomllib = pytest.importorskip("tomllib")


def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def test_every_package_folder_is_listed():
    listed = set(pyproject()["tool"]["setuptools"]["packages"])
    # Every folder holding Python code is a package, with or without __init__.py.
    on_disk = {
        ".".join(p.parent.relative_to(REPO).parts)
        for p in (REPO / "lstm_viz").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert on_disk | {"lstm_viz.resources"} == listed


def test_console_script_and_metadata():
    project = pyproject()["project"]
    assert project["scripts"] == {"lstm-viz": "lstm_viz.cli:main"}
    test_extra = {d.split(">")[0].strip() for d in project["optional-dependencies"]["test"]}
    assert test_extra == {"pytest", "pytest-qt", "hypothesis"}
    names = {d.split(">")[0].split("=")[0].strip() for d in project["dependencies"]}
    assert names == {"PySide6-Essentials", "pyqtgraph", "numpy"}


def test_resource_path_from_the_checkout():
    assert resource_path("README.md") == REPO / "resources" / "README.md"
    assert resource_path("README.md").is_file()


def test_wheel_ships_code_and_resources(tmp_path):
    """Build the wheel, install it elsewhere, and find the resources from there."""
    wheels = tmp_path / "wheels"
    # Build with this environment's setuptools when it is recent enough (no download needed).
    try:
        major = int(importlib.metadata.version("setuptools").split(".")[0])
    except importlib.metadata.PackageNotFoundError:
        major = 0
    isolation = ["--no-build-isolation"] if major >= 77 else []
    # Build from a copy: setuptools leaves build/ and *.egg-info in the source folder.
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".ci-venv", "build", "*.egg-info", "__pycache__", ".pytest_cache",
        ".hypothesis"))
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-q",
         "-w", str(wheels), str(src)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    (wheel,) = wheels.glob("lstm_viz-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"lstm_viz/resources/{p.relative_to(REPO / 'resources').as_posix()}"
               for p in (REPO / "resources").rglob("*") if p.is_file()}
    assert shipped <= names
    for module in ("lstm_viz/cli.py", "lstm_viz/model/cells.py", "lstm_viz/ui/theme.py",
                   "lstm_viz/__main__.py"):
        assert module in names
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(target)
    probe = ("from lstm_viz._resources import resource_path; "
             "print(resource_path('README.md').read_text().splitlines()[0])")
    env = dict(os.environ, PYTHONPATH=str(target))
    r = subprocess.run([sys.executable, "-c", probe], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == (REPO / "resources" / "README.md").read_text().splitlines()[0]
    r = subprocess.run([sys.executable, "-c", "import lstm_viz; print(lstm_viz.__file__)"],
                       env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.stdout.startswith(str(target))
