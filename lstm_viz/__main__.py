"""``python -m lstm_viz``: the same program as ``main.py`` and ``lstm-viz``."""

from lstm_viz.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
