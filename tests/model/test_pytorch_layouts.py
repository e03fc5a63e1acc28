"""PyTorch layouts beyond layer 0 of nn.LSTM/GRU/RNN: which are read, which are refused.

Read: ``nn.LSTMCell`` / ``GRUCell`` / ``RNNCell`` state_dicts (no ``_l0``) and
``bias=False`` modules (no biases: zeros). Refused by name: bidirectional models,
``proj_size``, one bias without the other (whole pickled models: test_whole_model_files).

Reference values come from PyTorch modules (skipped without torch) or by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lstm_viz.model import Network, Params, init_params, load_weights, save_weights

T, D, H = 7, 3, 4
MODULES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}
CELLS = {"lstm": "LSTMCell", "gru": "GRUCell", "rnn": "RNNCell"}


def sd(kind: str = "lstm", d: int = 2, h: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    return init_params(kind, d, h, seed=seed).to_state_dict()


def save_npz(path: Path, state_dict) -> Path:
    """A PyTorch state_dict written as the README says (`NPZ_ONE_LINER`)."""
    np.savez(path, **{k: v.detach().cpu().numpy() for k, v in state_dict.items()})
    return path


def unrolled(torch, cell, kind: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """h (T, H) and, for an LSTM, c (T, H) from stepping a torch cell from zero states."""
    h = torch.zeros(1, cell.hidden_size, dtype=torch.float64)
    c = torch.zeros_like(h)
    hs, cs = [], []
    with torch.no_grad():
        for x_t in torch.from_numpy(x)[:, None, :]:
            if kind == "lstm":
                h, c = cell(x_t, (h, c))
                cs.append(c[0].numpy().copy())
            else:
                h = cell(x_t, h)
            hs.append(h[0].numpy().copy())
    return np.array(hs), (np.array(cs) if kind == "lstm" else None)


# --------------------------------------------------------------------------- nn.*Cell


@pytest.mark.torch
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("kind", MODULES)
def test_cell_state_dict_matches_the_torch_cell(tmp_path, kind, bias):
    torch = pytest.importorskip("torch")
    torch.manual_seed(3)
    cell = getattr(torch.nn, CELLS[kind])(D, H, bias=bias).double()
    assert "weight_ih" in cell.state_dict()          # the layout under test: no _l0
    net = load_weights(save_npz(tmp_path / "cell.npz", cell.state_dict()))
    assert (net.kind, net.input_size, net.hidden_size) == (kind, D, H)
    if not bias:
        assert not net.params.bias_ih.any() and not net.params.bias_hh.any()
    x = np.random.default_rng(1).standard_normal((T, D))
    want_h, want_c = unrolled(torch, cell, kind, x)
    tr = net.trace(x)
    np.testing.assert_allclose(tr.h, want_h, rtol=0, atol=1e-12)
    if kind == "lstm":
        np.testing.assert_allclose(tr.c, want_c, rtol=0, atol=1e-12)


@pytest.mark.torch
def test_cell_inside_a_model_with_a_readout_from_a_pt_file(tmp_path):
    torch = pytest.importorskip("torch")

    class Tagger(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = torch.nn.GRUCell(D, H)
            self.fc = torch.nn.Linear(H, 2)

    torch.manual_seed(4)
    model = Tagger().double()
    torch.save(model.state_dict(), tmp_path / "tagger.pt")
    net = load_weights(tmp_path / "tagger.pt")
    assert net.kind == "gru" and net.params.classes == 2
    assert np.array_equal(net.params.readout_weight, model.fc.weight.detach().numpy())
    x = np.random.default_rng(2).standard_normal((T, D))
    want_h, _ = unrolled(torch, model.cell, "gru", x)
    np.testing.assert_allclose(net.trace(x).h, want_h, rtol=0, atol=1e-12)


def test_cell_names_read_as_layer_zero_names(tmp_path):
    layer = sd("gru", seed=5)
    cell = {f"rnn_cell.{k.removesuffix('_l0')}": v for k, v in layer.items()}
    np.savez(tmp_path / "cell.npz", **cell)
    np.savez(tmp_path / "layer.npz", **layer)
    assert load_weights(tmp_path / "cell.npz").params.equals(
        load_weights(tmp_path / "layer.npz").params)


def test_state_dict_with_cell_names_can_be_saved(tmp_path):
    p = init_params("lstm", 2, 3, seed=7)
    cell = {t: getattr(p, t) for t in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    save_weights(tmp_path / "w.npz", cell)
    assert load_weights(tmp_path / "w.npz").params.equals(p)
    assert Network(Params.from_state_dict(cell)).params.equals(p)


# --------------------------------------------------------------------------- bias=False


@pytest.mark.torch
@pytest.mark.parametrize("kind", MODULES)
def test_bias_free_layer_matches_torch(tmp_path, kind):
    torch = pytest.importorskip("torch")
    torch.manual_seed(5)
    module = getattr(torch.nn, MODULES[kind])(D, H, bias=False).double()
    assert not any("bias" in k for k in module.state_dict())
    x = np.random.default_rng(3).standard_normal((T, D))
    with torch.no_grad():
        want, _ = module(torch.from_numpy(x)[:, None, :])     # (T, batch 1, D)
    torch.save(module.state_dict(), tmp_path / "w.pt")
    for path in (save_npz(tmp_path / "w.npz", module.state_dict()), tmp_path / "w.pt"):
        net = load_weights(path)
        assert net.kind == kind
        np.testing.assert_allclose(net.trace(x).h, want[:, 0].numpy(), rtol=0, atol=1e-12)


def test_bias_free_rnn_by_hand(tmp_path):
    # h1 = tanh(2 * 1), h2 = tanh(2 * -1 + 0.5 * h1): no bias anywhere
    np.savez(tmp_path / "w.npz", weight_ih_l0=np.array([[2.0]]), weight_hh_l0=np.array([[0.5]]))
    net = load_weights(tmp_path / "w.npz")
    h1 = np.tanh(2.0)
    np.testing.assert_allclose(net.trace(np.array([[1.0], [-1.0]])).h[:, 0],
                               [h1, np.tanh(-2.0 + 0.5 * h1)], rtol=0, atol=1e-15)


@pytest.mark.parametrize("drop, missing, present", [
    ("bias_hh_l0", "bias_hh_l0", "bias_ih_l0"),
    ("bias_ih_l0", "bias_ih_l0", "bias_hh_l0"),
])
def test_one_bias_without_the_other_is_refused(tmp_path, refused, drop, missing, present):
    arrays = sd()
    del arrays[drop]
    np.savez(tmp_path / "w.npz", **arrays)
    refused(tmp_path / "w.npz", f"missing {missing}", present, "bias=False")
    cell = {k.removesuffix("_l0"): v for k, v in arrays.items()}
    np.savez(tmp_path / "cell.npz", **cell)
    refused(tmp_path / "cell.npz", f"missing {missing.removesuffix('_l0')}")


def test_weights_are_still_required(tmp_path, refused):
    arrays = sd()
    del arrays["weight_hh_l0"]
    np.savez(tmp_path / "w.npz", **arrays)
    refused(tmp_path / "w.npz", "missing weight_hh_l0")
    np.savez(tmp_path / "none.npz", **{"fc.weight": np.ones((2, 3)), "fc.bias": np.ones(2)})
    refused(tmp_path / "none.npz", "missing weight_ih_l0, weight_hh_l0", "LSTMCell")


def test_a_layer_and_a_cell_are_two_modules(tmp_path, refused):
    arrays = {f"lstm.{k}": v for k, v in sd().items()}
    arrays.update({f"cell.{k.removesuffix('_l0')}": v for k, v in sd().items()})
    np.savez(tmp_path / "w.npz", **arrays)
    refused(tmp_path / "w.npz", "more than one module", "cell.weight_ih", "lstm.weight_ih_l0")


@pytest.mark.parametrize("kind", MODULES)
def test_cell_and_bias_free_files_round_trip_exactly(tmp_path, kind):
    p = init_params(kind, 2, 3, seed=6)
    np.savez(tmp_path / "cell.npz", weight_ih=p.weight_ih, weight_hh=p.weight_hh)
    first = load_weights(tmp_path / "cell.npz")
    save_weights(tmp_path / "again.npz", first)
    back = load_weights(tmp_path / "again.npz")
    assert back.params.equals(first.params)
    assert np.array_equal(back.params.weight_hh, p.weight_hh)
    assert not back.params.bias_ih.any() and not back.params.bias_hh.any()


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
