"""Refusing a ``.pt`` file PyTorch's safe loader will not read: in plain words, never unpickling.

A whole model saved with ``torch.save(model, path)`` is named as such, with how to
save a state_dict instead; no terminal escape codes from PyTorch's message reach
the user. Skipped where torch is needed and not installed.
"""

from __future__ import annotations

import pickle
import sys
import types
import warnings

import pytest

from lstm_viz.model.io import plain_text

D, H = 3, 4


def test_plain_text_drops_terminal_escapes():
    assert plain_text("a \x1b[1mbold\x1b[0m \x1b[38;5;196mred\x1b[m b") == "a bold red b"
    assert plain_text("\x1b]8;;https://x.org\x1b\\link\x1b]8;;\x1b\\") == "link"
    assert plain_text("tab\there\x07\x00\nnext") == "tab here\nnext"


def test_escape_codes_from_torch_never_reach_the_message(tmp_path, monkeypatch, refused):
    def load(*args, **kwargs):
        raise RuntimeError("\x1b[1mInvalid magic number\x1b[0m; corrupt file?\n\tdetails")

    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(load=load))
    path = tmp_path / "w.pt"
    path.write_bytes(b"whatever")
    e = refused(path, "(Invalid magic number; corrupt file?)")
    assert "\x1b" not in str(e) and "[1m" not in str(e)


@pytest.mark.torch
def test_whole_pickled_model_is_refused_plainly(tmp_path, monkeypatch, refused):
    torch = pytest.importorskip("torch")
    marker = tmp_path / "UNPICKLED"

    class Model(torch.nn.Module):
        """A user's model; unpickling one creates ``marker``."""

        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(D, H)

        def __setstate__(self, state):
            marker.touch()
            super().__setstate__(state)

    # pickled by reference to an importable module, as a model in the user's code is
    home = types.ModuleType("users_models")
    home.Model = Model
    Model.__module__, Model.__qualname__ = home.__name__, "Model"
    monkeypatch.setitem(sys.modules, home.__name__, home)
    pickle.loads(pickle.dumps(Model()))
    assert marker.exists()                         # the spy works
    marker.unlink()
    cases = {
        "lstm.pt": (torch.nn.LSTM(D, H), {}),
        "model.pt": (Model(), {}),
        "legacy.pt": (Model(), {"_use_new_zipfile_serialization": False}),
    }
    for name, (obj, options) in cases.items():
        with warnings.catch_warnings():  # the legacy format cannot find Model's source
            warnings.simplefilter("ignore", UserWarning)
            torch.save(obj, tmp_path / name, **options)
        e = refused(tmp_path / name, "whole pickled model", "never unpickles",
                    "torch.save(model.state_dict(), path)")
        assert "\x1b" not in str(e) and "weights_only" not in str(e), str(e)
    assert "users_models.Model" in str(e)
    assert not marker.exists()


@pytest.mark.torch
def test_torch_reason_is_plain_and_short(tmp_path, refused):
    pytest.importorskip("torch")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file at all")
    e = refused(tmp_path / "junk.pt", "PyTorch could not read it")
    assert "\x1b" not in str(e) and "two options" not in str(e) and len(e.reason) < 240
