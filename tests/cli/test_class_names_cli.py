"""``trace --loss-class K``: the readout's class names in the JSON meta."""

from __future__ import annotations

import json

import numpy as np

from lstm_viz.model import init_params

INPUT = "1 0 -0.5 2"
NAMES = ["low", "mid", "high"]


def _weights(tmp_path, names=None):
    rng = np.random.default_rng(1)
    arrays = init_params("lstm", 1, 2, seed=3).to_state_dict("lstm.")
    arrays["fc.weight"] = rng.standard_normal((3, 2))
    arrays["fc.bias"] = rng.standard_normal(3)
    if names is not None:
        arrays["readout.classes"] = np.array(names)
    path = tmp_path / ("named.npz" if names else "plain.npz")
    np.savez(path, **arrays)
    return path


def _meta(cli, tmp_path, path, *extra):
    out = tmp_path / "t.json"
    proc = cli("trace", "--weights", str(path), "--input", INPUT, *extra, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text(encoding="utf-8"))["meta"]


def test_meta_names_the_classes_when_the_weights_do(cli, tmp_path):
    named = _weights(tmp_path, NAMES)
    meta = _meta(cli, tmp_path, named, "--loss-class", "2")
    assert meta["loss_class"] == 2 and meta["class_names"] == NAMES
    assert "class_names" not in _meta(cli, tmp_path, _weights(tmp_path), "--loss-class", "2")


def test_bad_names_are_one_error_line(cli, tmp_path):
    path = _weights(tmp_path, ["low", "mid"])
    out = tmp_path / "t.json"
    proc = cli("trace", "--weights", str(path), "--input", INPUT, "--loss-class", "0",
               "--out", str(out))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "readout.classes has 2 names" in lines[0], proc.stderr
    assert not out.exists()
