"""Where the package data lives: `resource_path` finds files in ``resources/``.

The repository keeps its data in a top-level ``resources/`` folder, which
``pyproject.toml`` maps onto the package ``lstm_viz.resources``. So the folder is

* ``<checkout>/resources`` when running from a source checkout (``python main.py``)
  or from an editable install, where ``lstm_viz`` is imported from the checkout;
* ``<site-packages>/lstm_viz/resources`` in a wheel install.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def resources_dir() -> Path:
    """The folder holding the package data.

    Raises
    ------
    FileNotFoundError
        If neither the installed nor the source-checkout location exists.
    """
    for candidate in (_PACKAGE_DIR / "resources", _PACKAGE_DIR.parent / "resources"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"lstm-viz resources not found next to {_PACKAGE_DIR} (broken installation?)"
    )


def resource_path(*parts: str) -> Path:
    """Path of a file (or folder) in ``resources/``, e.g. ``resource_path("icons", "app.svg")``.

    The path is not checked for existence; ``resource_path()`` is the folder itself.
    """
    return resources_dir().joinpath(*parts)
