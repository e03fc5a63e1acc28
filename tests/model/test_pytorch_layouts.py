"""PyTorch layouts beyond layer 0 of nn.LSTM/GRU/RNN that the engine cannot run, refused
by name: bidirectional models, ``proj_size``, more than one layer.

Reference values come from PyTorch modules (skipped without torch) or by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lstm_viz.model import init_params

D, H = 3, 4
MODULES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


def sd(kind: str = "lstm", d: int = 2, h: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    return init_params(kind, d, h, seed=seed).to_state_dict()


def save_npz(path: Path, state_dict) -> Path:
    """A PyTorch state_dict written as the README says (`NPZ_ONE_LINER`)."""
    np.savez(path, **{k: v.detach().cpu().numpy() for k, v in state_dict.items()})
    return path


# --------------------------------------------------------------------------- refused by name


@pytest.mark.torch
@pytest.mark.parametrize("kind", MODULES)
def test_bidirectional_model_is_refused(tmp_path, refused, kind):
    torch = pytest.importorskip("torch")
    module = getattr(torch.nn, MODULES[kind])(D, H, bidirectional=True)
    path = save_npz(tmp_path / "bi.npz", module.state_dict())
    e = refused(path, "bidirectional", "only one direction", "bidirectional=False")
    assert "_l0_reverse" in e.reason


def test_reverse_weights_are_refused_by_hand(tmp_path, refused):
    arrays = {f"enc.{k}": v for k, v in sd("rnn").items()}
    arrays.update({f"{k}_reverse": v for k, v in arrays.items()})
    np.savez(tmp_path / "bi.npz", **arrays)
    refused(tmp_path / "bi.npz", "enc.bias_hh_l0_reverse", "bidirectional")


@pytest.mark.torch
def test_proj_size_is_refused_by_name(tmp_path, refused):
    torch = pytest.importorskip("torch")
    module = torch.nn.LSTM(D, H, proj_size=2)
    path = save_npz(tmp_path / "proj.npz", module.state_dict())
    e = refused(path, "proj_size", "weight_hr_l0", "not supported")
    assert "gate blocks" not in e.reason


def test_layer_one_is_still_refused(tmp_path, refused):
    arrays = sd()
    arrays.update({k.replace("_l0", "_l1"): v for k, v in sd(d=3).items()})
    np.savez(tmp_path / "w.npz", **arrays)
    refused(tmp_path / "w.npz", "single-layer")
