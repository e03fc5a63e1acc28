"""Readouts in weights files: our own ``readout.*`` names and the names real PyTorch models use."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_viz.model import Network, Options, WeightsError, init_params, load_weights
from lstm_viz.model import save_weights
from lstm_viz.model.weights import Params, find_readout

H, D, K = 3, 2, 4


def _recurrent(prefix: str = "lstm.", kind: str = "lstm") -> dict[str, np.ndarray]:
    return init_params(kind, D, H, seed=2).to_state_dict(prefix)


def _readout(seed: int = 0, k: int = K, h: int = H):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((k, h)), rng.standard_normal(k)


@pytest.mark.parametrize("name", ["fc", "linear", "decoder", "head.out", "classifier"])
def test_the_one_linear_layer_of_a_state_dict_is_the_readout(tmp_path, name):
    w, b = _readout()
    arrays = {**_recurrent(), f"{name}.weight": w, f"{name}.bias": b}
    np.savez(tmp_path / "m.npz", **arrays)
    net = load_weights(tmp_path / "m.npz")
    np.testing.assert_array_equal(net.params.readout_weight, w)
    np.testing.assert_array_equal(net.params.readout_bias, b)
    assert net.params.classes == K
    tr = net.with_(options=Options(loss_class=K - 1)).trace(np.ones((3, D)))
    assert tr.readout_probs.shape == (K,)


def test_a_lone_weight_is_not_a_readout(tmp_path):
    w, b = _readout()
    vocab = np.ones((7, D))                                       # an embedding: weight only
    np.savez(tmp_path / "e.npz", **_recurrent(), **{"embedding.weight": vocab})
    assert load_weights(tmp_path / "e.npz").params.readout_weight is None
    np.savez(tmp_path / "ef.npz", **_recurrent(), **{"embedding.weight": vocab,
                                                     "fc.weight": w, "fc.bias": b})
    np.testing.assert_array_equal(load_weights(tmp_path / "ef.npz").params.readout_weight, w)


def test_two_candidates_are_refused_naming_the_keys(tmp_path, refused):
    w, b = _readout()
    np.savez(tmp_path / "two.npz", **_recurrent(), **{"fc1.weight": w, "fc1.bias": b,
                                                      "fc2.weight": w, "fc2.bias": b})
    refused(tmp_path / "two.npz", "more than one layer", "fc1.weight/fc1.bias",
            "fc2.weight/fc2.bias", "readout.weight")


def test_our_own_name_wins_over_other_layers(tmp_path):
    w, b = _readout()
    w2, b2 = _readout(seed=5)
    np.savez(tmp_path / "own.npz", **_recurrent(), **{"readout.weight": w, "readout.bias": b,
                                                      "fc.weight": w2, "fc.bias": b2})
    np.testing.assert_array_equal(load_weights(tmp_path / "own.npz").params.readout_weight, w)


@pytest.mark.parametrize("shapes", [((K, H + 1), (K,)), ((K, H), (K + 1,)), ((H,), (H,))],
                         ids=["weight-width", "bias-length", "layernorm"])
def test_wrong_shapes_are_refused_naming_the_keys(tmp_path, shapes, refused):
    (ws, bs) = shapes
    np.savez(tmp_path / "bad.npz", **_recurrent(), **{"fc.weight": np.ones(ws),
                                                      "fc.bias": np.ones(bs)})
    refused(tmp_path / "bad.npz", "fc.weight", "fc.bias", "cannot be the readout", f"(K, {H})")


def test_find_readout_without_candidates():
    assert find_readout(_recurrent(""), H) == (None, None)


def test_saved_readout_reads_back_bit_for_bit(tmp_path):
    w, b = _readout()
    p = init_params("gru", D, H, seed=1).replace(readout_weight=w, readout_bias=b)
    save_weights(tmp_path / "g.npz", Network(p), prefix="gru")
    back = load_weights(tmp_path / "g.npz").params
    assert back.equals(p)


def test_params_tensor_and_with_value_reach_the_readout():
    w, b = _readout()
    p = init_params("rnn", D, H).replace(readout_weight=w, readout_bias=b)
    assert p.tensor("readout.weight") is p.readout_weight
    q = p.with_value("readout.bias", 1, 9.0)
    assert q.readout_bias[1] == 9.0 and p.readout_bias[1] == b[1]
    with pytest.raises(KeyError):
        init_params("rnn", D, H).tensor("readout.weight")            # no readout: no such tensor
    with pytest.raises(WeightsError):
        Params.from_state_dict({**_recurrent(""), "fc.weight": np.ones((2, H)),
                                "fc.bias": np.ones(3)})


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_torch_module_state_dict_with_fc(tmp_path, kind):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional

    class Classifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind](
                D, H, batch_first=True)
            self.fc = torch.nn.Linear(H, K)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.fc(out[:, -1])

    torch.manual_seed(3)
    model = Classifier().double()
    torch.save(model.state_dict(), tmp_path / "clf.pt")
    net = load_weights(tmp_path / "clf.pt")
    assert net.kind == kind and net.params.classes == K
    x = np.random.default_rng(0).standard_normal((5, D))
    k = 2
    tr = net.with_(options=Options(loss_class=k)).trace(x)
    logits = model(torch.tensor(x)[None])
    loss = F.cross_entropy(logits, torch.tensor([k]))
    assert tr.loss == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(tr.readout_logits, logits.detach().numpy()[0], rtol=1e-12, atol=1e-13)
    loss.backward()
    np.testing.assert_allclose(tr.grads["readout.weight"], model.fc.weight.grad.numpy(),
                               rtol=1e-10, atol=1e-12)
