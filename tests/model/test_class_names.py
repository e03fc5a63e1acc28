"""Names of the readout's classes: on `Params`, in preset files and in ``.npz`` weights files.

Reference values are written out here (the names, the JSON text, NumPy's own reading of the
saved archive), never taken from the code under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lstm_viz import explain as ex
from lstm_viz.model import (Network, Options, WeightsError, WeightsFileError, init_params,
                            load_state_dict, load_weights, save_weights)
from lstm_viz.model.presets import list_presets, load_preset, load_preset_file, presets_dir
from lstm_viz.model.weights import MAX_CLASS_NAME, Params

H, D, K = 2, 3, 3
NAMES = ("cat", "dog", "bird")


def _params(names=NAMES, k: int = K, kind: str = "lstm") -> Params:
    rng = np.random.default_rng(7)
    return init_params(kind, D, H, seed=3).replace(
        readout_weight=rng.standard_normal((k, H)), readout_bias=rng.standard_normal(k),
        readout_classes=names)


def _arrays(names=None, prefix: str = "lstm.") -> dict[str, np.ndarray]:
    p = _params(names=None)
    arrays = p.to_state_dict(prefix)
    if names is not None:
        arrays["readout.classes"] = names
    return arrays


# --------------------------------------------------------------------------- Params


def test_params_keep_names_through_edits_and_drop_them_with_the_classes():
    p = _params()
    assert p.readout_classes == NAMES
    assert p.with_value("weight_hh", (0, 1), 0.25).readout_classes == NAMES
    assert p.with_value("readout.bias", 1, 9.0).readout_classes == NAMES
    assert p.replace(readout_bias=np.zeros(K)).readout_classes == NAMES
    # a readout with another number of classes, or none, has other classes: no names
    four = p.replace(readout_weight=np.ones((4, H)), readout_bias=np.zeros(4))
    assert four.readout_classes is None
    assert p.replace(readout_weight=None, readout_bias=None).readout_classes is None
    # spaces around a name are dropped; an empty list is no names
    assert _params(names=[" cat ", "dog", "bird "]).readout_classes == NAMES
    assert _params(names=[]).readout_classes is None


def test_equals_sees_the_names_and_the_trace_does_not():
    named, plain = _params(), _params(names=None)
    assert named.equals(_params()) and not named.equals(plain) and not plain.equals(named)
    assert not named.equals(_params(names=("cat", "dog", "fish")))
    x = np.random.default_rng(0).standard_normal((5, D))
    opts = Options(loss_class=2)
    a = Network(named, options=opts).trace(x)
    b = Network(plain, options=opts).trace(x)
    assert a.loss == b.loss
    np.testing.assert_array_equal(a.readout_probs, b.readout_probs)
    np.testing.assert_array_equal(a.dL_dh, b.dL_dh)
    # the state_dict stays numbers only (PyTorch's load_state_dict takes it as is)
    assert set(named.to_state_dict()) == set(plain.to_state_dict())


@pytest.mark.parametrize("names, words", [
    (("cat", "dog"), ["2 names", "3 classes"]),
    (("cat", "dog", "bird", "fish"), ["4 names", "3 classes"]),
    (("cat", "", "bird"), ["name 1", "empty"]),
    (("cat", "   ", "bird"), ["name 1", "empty"]),
    (("cat", "dog", "x" * (MAX_CLASS_NAME + 1)), ["name 2", f"longer than {MAX_CLASS_NAME}"]),
    (("cat", "do\ng", "bird"), ["name 1", "one line"]),
    (("cat", 3, "bird"), ["name 1", "not text"]),
    (("cat", "cat", "bird"), ["'cat'", "two classes"]),
    ("cat", ["list of names"]),
])
def test_bad_names_are_refused_with_the_reason(names, words):
    with pytest.raises(WeightsError) as info:
        _params(names=names)
    for w in words:
        assert w in str(info.value), str(info.value)


def test_names_need_a_readout():
    with pytest.raises(WeightsError, match="no readout"):
        init_params("gru", D, H).replace(readout_classes=("a", "b"))


# --------------------------------------------------------------------------- presets


def test_first_opinion_names_its_classes_and_the_other_presets_do_not():
    p = load_preset("first_opinion")
    assert p.class_names == ("negative", "positive")
    assert p.network.params.readout_classes == ("negative", "positive")
    doc = json.loads((presets_dir() / "first_opinion.json").read_text(encoding="utf-8"))
    assert doc["class_names"] == ["negative", "positive"]
    for other in list_presets():
        if other.id != "first_opinion":
            assert other.class_names == () and other.network.params.readout_classes is None


def _preset_doc(**changes) -> dict:
    doc = json.loads((presets_dir() / "first_opinion.json").read_text(encoding="utf-8"))
    doc.update(changes)
    return doc


def _write(tmp_path, doc, name="p.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_a_preset_file_with_names_loads_them(tmp_path):
    path = _write(tmp_path, _preset_doc(class_names=["bad", " good "]))
    p = load_preset_file(path)
    assert p.class_names == ("bad", "good")
    # no "class_names" (or null) is a preset without names
    no_names = _preset_doc()
    del no_names["class_names"]
    assert load_preset_file(_write(tmp_path, no_names, "n.json")).class_names == ()
    assert load_preset_file(_write(tmp_path, _preset_doc(class_names=None), "z.json")
                            ).class_names == ()


@pytest.mark.parametrize("names, words", [
    (["negative"], ['"class_names" has 1 name', "2 classes"]),
    (["a", "b", "c"], ['"class_names" has 3 names', "2 classes"]),
    (["negative", ""], ['"class_names": name 1 is empty']),
    (["negative", 1], ["name 1 is not text"]),
    (["negative", "y" * 40], [f"longer than {MAX_CLASS_NAME}"]),
    (["same", "same"], ["names two classes"]),
    ("negative,positive", ['"class_names" must be a list']),
    ({"0": "negative"}, ['"class_names" must be a list']),
])
def test_a_preset_with_bad_names_is_refused(tmp_path, names, words):
    path = _write(tmp_path, _preset_doc(class_names=names), "bad_names.json")
    with pytest.raises(WeightsError) as info:
        load_preset_file(path)
    msg = str(info.value)
    assert msg.startswith("bad_names.json: ") and "\n" not in msg, msg
    for w in words:
        assert w in msg, msg


def test_a_preset_naming_classes_without_a_readout_is_refused(tmp_path):
    doc = json.loads((presets_dir() / "latch.json").read_text(encoding="utf-8"))
    doc["class_names"] = ["off", "on"]
    with pytest.raises(WeightsError, match=r'^latch_names\.json: "class_names" names classes, '
                                           r"but there is no readout"):
        load_preset_file(_write(tmp_path, doc, "latch_names.json"))


# --------------------------------------------------------------------------- .npz files


def test_npz_round_trip_keeps_the_names(tmp_path):
    params = _params()
    path = tmp_path / "named.npz"
    save_weights(path, Network(params))
    # what NumPy itself finds in the file: a unicode array, readable without pickle
    with np.load(path, allow_pickle=False) as z:
        stored = z["readout.classes"]
        assert stored.dtype.kind == "U" and stored.shape == (K,)
        assert stored.tolist() == list(NAMES)
    back = load_weights(path)
    assert back.params.readout_classes == NAMES and back.params.equals(params)
    # the numbers alone, as before
    sd = load_state_dict(path)
    assert "readout.classes" not in sd and all(a.dtype == np.float64 for a in sd.values())
    # no names: no member
    save_weights(tmp_path / "plain.npz", _params(names=None))
    with np.load(tmp_path / "plain.npz", allow_pickle=False) as z:
        assert "readout.classes" not in z.files
    assert load_weights(tmp_path / "plain.npz").params.readout_classes is None


def test_names_written_by_hand_next_to_a_pytorch_linear_layer(tmp_path):
    arrays = init_params("gru", D, H, seed=1).to_state_dict("gru.")
    arrays["fc.weight"] = np.ones((2, H))
    arrays["fc.bias"] = np.zeros(2)
    arrays["readout.classes"] = np.array(["no", "yes"])
    np.savez(tmp_path / "fc.npz", **arrays)
    assert load_weights(tmp_path / "fc.npz").params.readout_classes == ("no", "yes")


def test_save_weights_takes_a_state_dict_with_names(tmp_path):
    save_weights(tmp_path / "sd.npz", _arrays(names=["cat", "dog", "bird"]))
    assert load_weights(tmp_path / "sd.npz").params.readout_classes == NAMES
    with pytest.raises(WeightsFileError, match="2 names"):
        save_weights(tmp_path / "bad.npz", _arrays(names=["cat", "dog"]))
    assert not (tmp_path / "bad.npz").exists()


def test_object_array_of_names_is_refused_unread(tmp_path, refused):
    path = tmp_path / "obj.npz"
    np.savez(path, **_arrays(names=np.array(list(NAMES), dtype=object)))
    refused(path, "readout.classes", "pickled data")


@pytest.mark.parametrize("names, words", [
    (np.array([b"cat", b"dog", b"bird"]), ["readout.classes", "must be text"]),
    (np.array([1.0, 2.0, 3.0]), ["readout.classes", "must be text"]),
    (np.array([["cat", "dog", "bird"]]), ["readout.classes", "shape (1, 3)"]),
    (np.array(["cat", "dog"]), ["readout.classes has 2 names", "3 classes"]),
    (np.array(["cat", "", "bird"]), ["name 1 is empty"]),
    (np.array(["cat", "cat", "bird"]), ["names two classes"]),
])
def test_bad_names_in_a_file_are_refused(tmp_path, names, words, refused):
    path = tmp_path / "bad.npz"
    np.savez(path, **_arrays(names=names))
    refused(path, *words)


def test_names_without_a_readout_are_refused(tmp_path, refused):
    path = tmp_path / "nor.npz"
    np.savez(path, **init_params("lstm", D, H).to_state_dict(),
             **{"readout.classes": np.array(["a", "b"])})
    refused(path, "readout.classes", "no readout")


def test_names_in_a_pt_file_are_refused_in_words(tmp_path, refused):
    torch = pytest.importorskip("torch")
    sd = {k: torch.from_numpy(v) for k, v in _params(names=None).to_state_dict().items()}
    sd["readout.classes"] = ["cat", "dog", "bird"]
    torch.save(sd, tmp_path / "named.pt")
    refused(tmp_path / "named.pt", "readout.classes", ".npz")


# --------------------------------------------------------------------------- hover texts


def test_labels_and_hover_text_name_the_class():
    assert ex.class_label(1, ("negative", "positive")) == "1 positive"
    assert ex.class_label(1, ()) == "class 1"
    net = Network(_params(), options=Options(loss_class=1))
    tr = net.trace(np.ones((4, D)))
    text = ex.readout_prob_text(tr, 2, NAMES)
    assert text.startswith(f"Class 2 (bird): p = {ex.fmt(tr.readout_probs[2])}")
    assert ex.readout_prob_text(tr, 2).startswith("Class 2: p = ")
    assert "class k = 1 (dog)" in ex.loss_formula(tr, NAMES)
    assert ex.loss_formula(tr).endswith("class k = 1")
