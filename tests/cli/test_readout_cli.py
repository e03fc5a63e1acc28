"""``trace --loss-class K``: the readout's cross-entropy from the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstm_viz.model import Network, Options, encode, init_params

H, D, K = 3, 1, 4
INPUT = "1 0 -0.5 2"


def _weights(tmp_path, readout: bool = True, name: str = "readout"):
    rng = np.random.default_rng(0)
    p = init_params("gru", D, H, seed=4)
    arrays = p.to_state_dict("gru.")
    if readout:
        arrays[f"{name}.weight"] = rng.standard_normal((K, H))
        arrays[f"{name}.bias"] = rng.standard_normal(K)
    path = tmp_path / "w.npz"
    np.savez(path, **arrays)
    return path, arrays


def _one_error_line(proc, *words):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lstm-viz: error: "), proc.stderr
    for w in words:
        assert w in lines[0], lines[0]


@pytest.mark.parametrize("name", ["readout", "fc"])
def test_loss_class_writes_the_engines_readout_arrays(cli, tmp_path, name):
    path, arrays = _weights(tmp_path, name=name)
    out = tmp_path / "t.npz"
    proc = cli("trace", "--weights", str(path), "--input", INPUT, "--loss-class", "2",
               "--loss-step", "3", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    # the reference: the engine on the arrays of the file, built here
    from lstm_viz.model.weights import Params
    p = Params("gru", arrays["gru.weight_ih_l0"], arrays["gru.weight_hh_l0"],
               arrays["gru.bias_ih_l0"], arrays["gru.bias_hh_l0"],
               arrays[f"{name}.weight"], arrays[f"{name}.bias"])
    ref = Network(p, options=Options(loss_step=2, loss_class=2)).trace(encode(INPUT).x)
    with np.load(out, allow_pickle=False) as z:
        got = {k: z[k] for k in z.files}
    assert float(got["loss"]) == ref.loss
    np.testing.assert_array_equal(got["readout_probs"], ref.readout_probs)
    np.testing.assert_array_equal(got["readout_logits"], ref.readout_logits)
    np.testing.assert_array_equal(got["grad_readout.weight"], ref.grads["readout.weight"])
    np.testing.assert_array_equal(got["grad_readout.bias"], ref.grads["readout.bias"])
    np.testing.assert_array_equal(got["dL_dx"], ref.dL_dx)


def test_json_meta_names_the_class_and_plain_trace_has_no_readout(cli, tmp_path):
    path, _ = _weights(tmp_path)
    out = tmp_path / "t.json"
    assert cli("trace", "--weights", str(path), "--input", INPUT, "--loss-class", "0",
               "--out", str(out)).returncode == 0
    doc = json.loads(out.read_text())
    assert doc["meta"]["loss_class"] == 0
    assert len(doc["readout_probs"]) == K and abs(sum(doc["readout_probs"]) - 1) < 1e-15
    plain = tmp_path / "p.json"
    assert cli("trace", "--weights", str(path), "--input", INPUT, "--out", str(plain)).returncode == 0
    doc = json.loads(plain.read_text())
    assert doc["meta"]["loss_class"] is None and "readout_probs" not in doc


def test_no_readout_is_one_line_and_no_file(cli, tmp_path):
    path, _ = _weights(tmp_path, readout=False)
    out = tmp_path / "t.npz"
    _one_error_line(cli("trace", "--weights", str(path), "--input", INPUT, "--loss-class", "0",
                        "--out", str(out)), "--loss-class 0", "no readout layer", str(path))
    assert not out.exists()
    _one_error_line(cli("trace", "--input", INPUT, "--loss-class", "1", "--out", str(out)),
                    "random weights have no readout layer")
    assert not out.exists()


@pytest.mark.parametrize("k", ["4", "-1", "17"])
def test_class_out_of_range(cli, tmp_path, k):
    path, _ = _weights(tmp_path)
    out = tmp_path / "t.csv"
    _one_error_line(cli("trace", "--weights", str(path), "--input", INPUT, "--loss-class", k,
                        "--out", str(out)), f"--loss-class {k}", "4 classes, 0 to 3")
    assert not out.exists()


def test_not_a_number_and_target_conflict(cli, tmp_path):
    path, _ = _weights(tmp_path)
    out = tmp_path / "t.npz"
    _one_error_line(cli("trace", "--weights", str(path), "--input", INPUT, "--loss-class", "one",
                        "--out", str(out)), "not a whole number")
    _one_error_line(cli("trace", "--weights", str(path), "--input", INPUT, "--loss-class", "1",
                        "--target", "0", "--out", str(out)), "--target")
    assert not out.exists()
