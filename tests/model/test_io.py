"""Weights files: exact round trips, files written by others, and every refusal (never unpickling)."""

from __future__ import annotations

import io
import os
import pickle
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_viz.model import (
    KINDS, Network, WeightsError, WeightsFileError, init_params, load_state_dict,
    load_weights, save_weights,
)
from lstm_viz.model.io import atomic_write


class Evil:
    """Unpickling this creates the file ``marker``: proof that something was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    m = tmp_path / "UNPICKLED"
    # The payload really does have a side effect when unpickled (so the tests below can fail).
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(Evil(probe))).close()
    assert probe.exists()
    return m


def sd(kind: str = "lstm", d: int = 2, h: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    return init_params(kind, d, h, seed=seed).to_state_dict()


# --------------------------------------------------------------------------- round trips


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(KINDS), d=st.integers(1, 5), h=st.integers(1, 6),
       seed=st.integers(0, 2**32 - 1), prefix=st.sampled_from(["", "lstm.", "encoder.rnn."]),
       readout=st.integers(0, 3), states=st.booleans())
def test_round_trip_is_bit_exact(kind, d, h, seed, prefix, readout, states):
    rng = np.random.default_rng(seed)
    p = init_params(kind, d, h, seed=seed)
    # values of every magnitude, subnormals included
    p = p.replace(weight_ih=p.weight_ih * 10.0 ** rng.integers(-310, 300, p.weight_ih.shape))
    if readout:
        p = p.replace(readout_weight=rng.standard_normal((readout, h)),
                      readout_bias=rng.standard_normal(readout))
    h0 = rng.standard_normal(h) if states else None
    c0 = rng.standard_normal(h) if states and kind == "lstm" else None
    net = Network(p, h0=h0, c0=c0)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "w.npz"
        save_weights(path, net, prefix=prefix)
        assert os.listdir(folder) == ["w.npz"]  # no temp file left behind
        with np.load(path, allow_pickle=False) as z:  # plain NumPy sees PyTorch names
            names = set(z.files)
            assert all(z[k].dtype == np.float64 for k in names)
        assert f"{prefix}weight_ih_l0" in names and f"{prefix}bias_hh_l0" in names
        back = load_weights(path)
    assert back.params.equals(p)
    for name, want in (("h0", h0), ("c0", c0)):
        got = getattr(back, name)
        assert (got is None) == (want is None)
        if want is not None:
            assert np.array_equal(got, want)


def test_params_and_state_dict_can_be_saved(tmp_path):
    p = init_params("gru", 2, 3, seed=4)
    save_weights(tmp_path / "a.npz", p)
    assert load_weights(tmp_path / "a.npz").params.equals(p)
    save_weights(tmp_path / "b.npz", dict(p.to_state_dict("gru."), h0=np.ones(3)))
    back = load_weights(tmp_path / "b.npz")
    assert back.params.equals(p) and back.h0.tolist() == [1.0, 1.0, 1.0]


def test_prefix_gets_its_dot(tmp_path):
    save_weights(tmp_path / "w.npz", init_params("rnn", 1, 2), prefix="rnn")
    assert "rnn.weight_hh_l0" in load_state_dict(tmp_path / "w.npz")


def test_file_written_by_plain_numpy(tmp_path):
    rng = np.random.default_rng(7)
    H, D, K = 3, 2, 1
    arrays = {
        "lstm.weight_ih_l0": rng.standard_normal((4 * H, D)).astype(np.float32),
        "lstm.weight_hh_l0": rng.standard_normal((4 * H, H)).astype(np.float32),
        "lstm.bias_ih_l0": rng.standard_normal(4 * H).astype(np.float32),
        "lstm.bias_hh_l0": np.arange(4 * H, dtype=np.int64),  # integers are numbers too
        "readout.weight": rng.standard_normal((K, H)),
        "readout.bias": np.array([0.25]),
        "h0": np.array([0.5, -0.5, 0.0]),
        "c0": np.array([1.0, 2.0, 3.0], dtype=np.float32),
    }
    path = tmp_path / "model.npz"
    np.savez_compressed(path, **arrays)
    net = load_weights(path)
    assert net.kind == "lstm" and net.input_size == D and net.hidden_size == H
    p = net.params
    assert np.array_equal(p.weight_ih, arrays["lstm.weight_ih_l0"].astype(np.float64))
    assert np.array_equal(p.weight_hh, arrays["lstm.weight_hh_l0"].astype(np.float64))
    assert np.array_equal(p.bias_ih, arrays["lstm.bias_ih_l0"].astype(np.float64))
    assert p.bias_hh.tolist() == list(range(12))
    assert p.readout_bias.tolist() == [0.25]
    assert net.h0.tolist() == [0.5, -0.5, 0.0] and net.c0.tolist() == [1.0, 2.0, 3.0]
    sd_ = load_state_dict(path)
    assert set(sd_) == set(arrays) and all(a.dtype == np.float64 for a in sd_.values())
    net.trace(np.ones((2, D)))  # usable as is


# --------------------------------------------------------------------------- refusals


def test_missing_file(tmp_path, refused):
    refused(tmp_path / "nothing.npz", "no such file")


@pytest.mark.parametrize("name", ["w.h5", "w", "w.npy"])
def test_unknown_extension(tmp_path, name, refused):
    path = tmp_path / name
    np.save(tmp_path / "x.npy", np.zeros(3))
    os.replace(tmp_path / "x.npy", path)
    refused(path, "unknown weights format")


def test_folder(tmp_path, refused):
    (tmp_path / "w.npz").mkdir()
    refused(tmp_path / "w.npz", "folder")


def test_empty_file(tmp_path, refused):
    (tmp_path / "w.npz").write_bytes(b"")
    refused(tmp_path / "w.npz", "empty")


def test_npy_in_disguise(tmp_path, refused):
    with open(tmp_path / "w.npz", "wb") as f:
        np.save(f, np.zeros((4, 1)))
    refused(tmp_path / "w.npz", ".npy")


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes(tmp_path, seed, refused):
    data = np.random.default_rng(seed).bytes(500)
    path = tmp_path / "w.npz"
    for head in (b"", b"PK\x03\x04"):  # also random bytes behind a zip signature
        path.write_bytes(head + data)
        refused(path)


def _good_bytes(tmp_path: Path) -> bytes:
    save_weights(tmp_path / "good.npz", init_params("lstm", 2, 3, seed=1))
    return (tmp_path / "good.npz").read_bytes()


def test_every_truncation_is_refused(tmp_path, refused):
    good = _good_bytes(tmp_path)
    path = tmp_path / "cut.npz"
    for n in range(0, len(good) - 1, 3):
        path.write_bytes(good[:n])
        refused(path)


def test_flipped_bytes_never_escape_as_other_errors(tmp_path):
    good = _good_bytes(tmp_path)
    path = tmp_path / "flip.npz"
    rng = np.random.default_rng(0)
    outcomes = set()
    for _ in range(300):
        data = bytearray(good)
        for k in rng.integers(0, len(data), rng.integers(1, 4)):
            data[k] = int(rng.integers(0, 256))
        path.write_bytes(bytes(data))
        try:
            load_weights(path)
            outcomes.add("loaded")
        except WeightsFileError:
            outcomes.add("refused")
    assert "refused" in outcomes


def test_object_array_is_refused_without_unpickling(tmp_path, marker, refused):
    arrays = dict(sd(), weight_ih_l0=np.array([Evil(marker)] * 12, dtype=object).reshape(12, 1))
    path = tmp_path / "evil.npz"
    np.savez(path, **arrays)  # savez pickles object arrays
    refused(path, "pickled data", "refused")
    with pytest.raises(WeightsFileError, match="pickled"):
        load_state_dict(path)
    assert not marker.exists()


def test_pickle_file_is_refused_without_unpickling(tmp_path, marker, refused):
    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps(dict(sd(), extra=Evil(marker))))
    refused(path, "pickled data", "refused")
    assert not marker.exists()


def test_pickle_member_is_refused(tmp_path, marker, refused):
    path = tmp_path / "evil.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps(Evil(marker)))
    refused(path, "pickled data")
    assert not marker.exists()


def test_foreign_and_duplicate_members(tmp_path, refused):
    path = tmp_path / "w.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("notes.txt", "hello")
    refused(path, "notes.txt")
    buf = io.BytesIO()
    np.save(buf, np.zeros(3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate we make on purpose
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("h0.npy", buf.getvalue())
            zf.writestr("h0.npy", buf.getvalue())
    refused(path, "h0 twice")


def test_empty_archive(tmp_path, refused):
    path = tmp_path / "w.npz"
    np.savez(path)
    refused(path, "no arrays")


@pytest.mark.parametrize("bad, words", [
    (np.array(["a", "b"]), "not real numbers"),
    (np.array([True, False]), "not real numbers"),
    (np.array([1j, 2j]), "not real numbers"),
    (np.float64(3.0), "single number"),
])
def test_non_numeric_or_scalar(tmp_path, bad, words, refused):
    np.savez(tmp_path / "w.npz", **dict(sd(), bias_ih_l0=bad))
    refused(tmp_path / "w.npz", "bias_ih_l0", words)


def test_nan_weights(tmp_path, refused):
    arrays = sd()
    arrays["weight_hh_l0"][1, 1] = np.nan
    np.savez(tmp_path / "w.npz", **arrays)
    refused(tmp_path / "w.npz", "weight_hh", "NaN")


def test_inf_in_h0(tmp_path, refused):
    np.savez(tmp_path / "w.npz", **sd(h=3), h0=np.array([0.0, np.inf, 0.0]))
    refused(tmp_path / "w.npz", "h0")


def test_inconsistent_shapes(tmp_path, refused):
    arrays = dict(sd("lstm", 2, 3), weight_hh_l0=np.zeros((8, 3)))  # weight_ih is (12, 2)
    np.savez(tmp_path / "w.npz", **arrays)
    refused(tmp_path / "w.npz", "weight_hh", "(8, 3)")


def test_wrong_h0_size_and_c0_on_gru(tmp_path, refused):
    np.savez(tmp_path / "a.npz", **sd("lstm", 1, 3), h0=np.zeros(4))
    refused(tmp_path / "a.npz", "h0", "3")
    np.savez(tmp_path / "b.npz", **sd("gru", 1, 3), c0=np.zeros(3))
    refused(tmp_path / "b.npz", "c0")


def test_missing_tensor(tmp_path, refused):
    arrays = sd()
    del arrays["bias_hh_l0"]
    np.savez(tmp_path / "w.npz", **arrays)
    refused(tmp_path / "w.npz", "missing bias_hh_l0")


def test_layer_one_weights(tmp_path, refused):
    arrays = sd()
    arrays.update({k.replace("_l0", "_l1"): v for k, v in sd(d=3).items()})
    np.savez(tmp_path / "w.npz", **arrays)
    refused(tmp_path / "w.npz", "single-layer")


def test_error_is_a_weights_error_and_value_error(tmp_path, refused):
    e = refused(tmp_path / "none.npz")
    assert isinstance(e, WeightsError) and isinstance(e, ValueError)
    assert e.path == str(tmp_path / "none.npz") and e.reason == "no such file"


# --------------------------------------------------------------------------- saving safely


def test_save_refuses_other_formats_and_prefixes(tmp_path):
    p = init_params("lstm", 1, 2)
    with pytest.raises(WeightsFileError, match=r"\.npz"):
        save_weights(tmp_path / "w.pt", p)
    with pytest.raises(WeightsFileError, match="prefix"):
        save_weights(tmp_path / "w.npz", p, prefix="a/b.")
    with pytest.raises(WeightsFileError, match="Network, Params or state_dict"):
        save_weights(tmp_path / "w.npz", [1, 2, 3])
    assert os.listdir(tmp_path) == []


def test_invalid_data_does_not_clobber(tmp_path):
    path = tmp_path / "w.npz"
    save_weights(path, init_params("lstm", 1, 2, seed=3))
    before = path.read_bytes()
    bad = sd("lstm", 1, 2)
    bad["weight_ih_l0"][0, 0] = np.nan
    for data in (bad, {"weight_ih_l0": np.zeros((8, 1))}, dict(sd("gru", 1, 2), c0=np.zeros(2))):
        with pytest.raises(WeightsFileError):
            save_weights(path, data)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["w.npz"]


def test_failed_write_leaves_old_file_and_no_temp(tmp_path):
    path = tmp_path / "w.npz"
    path.write_bytes(b"the earlier file")

    def write(f):
        f.write(b"half of a new fi")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        atomic_write(path, write)
    assert path.read_bytes() == b"the earlier file"
    assert os.listdir(tmp_path) == ["w.npz"]


def test_unwritable_target_is_a_weights_error(tmp_path):
    with pytest.raises(WeightsFileError, match="cannot be written"):
        save_weights(tmp_path / "no" / "such" / "w.npz", init_params("rnn", 1, 1))


def test_saved_file_has_usual_permissions(tmp_path):
    save_weights(tmp_path / "w.npz", init_params("rnn", 1, 1))
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "w.npz").stat().st_mode & 0o777 == 0o666 & ~umask


# --------------------------------------------------------------------------- PyTorch files


def test_pt_without_torch(tmp_path, monkeypatch, refused):
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    path = tmp_path / "w.pt"
    path.write_bytes(b"whatever")
    refused(path, "needs PyTorch", "np.savez(")


@pytest.mark.torch
@pytest.mark.parametrize("kind", KINDS)
def test_torch_state_dict_loads_exactly(tmp_path, kind):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind](3, 5)
    sd_ = module.state_dict()
    torch.save(sd_, tmp_path / "w.pt")
    net = load_weights(tmp_path / "w.pt")
    assert net.kind == kind
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        want = sd_[f"{name}_l0"].double().numpy()
        assert np.array_equal(net.params.tensor(name), want)


@pytest.mark.torch
def test_torch_checkpoint_with_prefix_matches_torch_forward(tmp_path):
    torch = pytest.importorskip("torch")

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(2, 4, batch_first=True)
            self.readout = torch.nn.Linear(4, 1)

    torch.manual_seed(1)
    model = Model().double()
    torch.save({"epoch": 3, "state_dict": model.state_dict()}, tmp_path / "ckpt.pth")
    net = load_weights(tmp_path / "ckpt.pth")
    assert net.params.readout_weight.shape == (1, 4)
    x = np.random.default_rng(0).standard_normal((6, 2))
    with torch.no_grad():
        out, _ = model.lstm(torch.from_numpy(x)[None])
    np.testing.assert_allclose(net.trace(x).h, out[0].numpy(), rtol=0, atol=1e-12)


@pytest.mark.torch
def test_torch_file_with_pickled_object_is_refused(tmp_path, marker, refused):
    torch = pytest.importorskip("torch")
    torch.save({"weight_ih_l0": torch.zeros(4, 1), "payload": Evil(marker)}, tmp_path / "evil.pt")
    e = refused(tmp_path / "evil.pt", "pickled Python object", "never unpickles",
                "torch.save(model.state_dict(), path)")
    assert "whole pickled model" not in e.reason  # a dict of tensors, with an intruder
    assert not marker.exists()


@pytest.mark.torch
def test_torch_whole_model_and_non_tensors_are_refused(tmp_path, refused):
    torch = pytest.importorskip("torch")
    torch.save(torch.zeros(3), tmp_path / "t.pt")
    refused(tmp_path / "t.pt", "not a state_dict")
    torch.save({"weight_ih_l0": [1.0, 2.0]}, tmp_path / "l.pt")
    refused(tmp_path / "l.pt", "not a tensor")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file at all")
    refused(tmp_path / "junk.pt")


class Shell:
    """Unpickling this would run a shell command that creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.torch
def test_torch_file_that_would_run_a_command_is_refused_and_says_so(tmp_path, marker, refused):
    torch = pytest.importorskip("torch")
    torch.save({"weight_ih_l0": torch.zeros(4, 1), "payload": Shell(marker)}, tmp_path / "cmd.pt")
    e = refused(tmp_path / "cmd.pt", "pickled Python object", "never unpickles")
    assert "system" in e.reason and "weights_only" not in e.reason
    assert not marker.exists()


@pytest.mark.torch
@pytest.mark.parametrize("make, words", [
    (lambda t: t.ones(8, 1).to_sparse(), "sparse"),
    (lambda t: t.empty(8, 1, device="meta"), "meta tensor"),
    (lambda t: t.quantize_per_tensor(t.ones(8, 1), 0.1, 0, t.qint8), "dequantize"),
])
def test_torch_tensors_that_are_not_plain_arrays_are_refused(tmp_path, refused, make, words,
                                                             capfd):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():                 # quantized tensors are deprecated
        warnings.simplefilter("ignore")
        odd = make(torch)
    sd = {"weight_ih_l0": odd, "weight_hh_l0": torch.zeros(8, 2),
          "bias_ih_l0": torch.zeros(8), "bias_hh_l0": torch.zeros(8)}
    torch.save(sd, tmp_path / "odd.pt")
    capfd.readouterr()
    refused(tmp_path / "odd.pt", "weight_ih_l0", words)
    assert capfd.readouterr().err == ""             # no warnings on the terminal either


@pytest.mark.torch
def test_empty_pt_file(tmp_path, refused):
    pytest.importorskip("torch")
    (tmp_path / "w.pt").write_bytes(b"")
    refused(tmp_path / "w.pt", "empty")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_refused_without_blocking(tmp_path, refused):
    os.mkfifo(tmp_path / "pipe.npz")
    refused(tmp_path / "pipe.npz", "not a regular file")


def test_weights_with_no_input_columns_are_refused(tmp_path, refused):
    np.savez(tmp_path / "d0.npz", weight_ih_l0=np.zeros((8, 0)), weight_hh_l0=np.zeros((8, 2)),
             bias_ih_l0=np.zeros(8), bias_hh_l0=np.zeros(8))
    refused(tmp_path / "d0.npz", "no input columns")
