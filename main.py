"""lstm-viz from a source checkout: ``python main.py --help``."""

from lstm_viz.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
