"""lstm-viz: see inside a Long Short-Term Memory network while it runs."""

__version__ = "0.1.0"
