"""Shared helpers for the engine's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from lstm_viz.model import WeightsFileError, load_weights


@pytest.fixture
def refused():
    """``refused(path, *words)``: loading ``path`` fails with one line that names the file
    and contains every word; returns the WeightsFileError."""

    def check(path: Path, *words: str) -> WeightsFileError:
        with pytest.raises(WeightsFileError) as info:
            load_weights(path)
        msg = str(info.value)
        assert msg.startswith(str(path)), msg  # names the file
        assert "\n" not in msg, msg            # one line
        for w in words:
            assert w in msg, msg
        return info.value

    return check
