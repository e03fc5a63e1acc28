"""``trace``: the files it writes hold exactly the engine's numbers, under the documented names."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from lstm_viz.model import Network, Options, Params, init_params

COMMON = ("x", "h", "loss", "dL_dh", "dL_dx",
          "grad_weight_ih_l0", "grad_weight_hh_l0", "grad_bias_ih_l0", "grad_bias_hh_l0")
EXTRA = {"lstm": ("c", "dL_dc", "i", "f", "g", "o"), "gru": ("r", "z", "n"), "rnn": ()}
GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def read_npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def read_json(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    doc = json.loads(path.read_text())
    meta = doc.pop("meta")
    return {k: np.array(v, dtype=np.float64) for k, v in doc.items()}, meta


def read_csv(path: Path) -> dict[str, np.ndarray]:
    """Parse the long CSV back into arrays, checking every element appears exactly once."""
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["array", "step", "index", "value"]
    cells: dict[str, dict[tuple[int, ...], float]] = {}
    for name, step, index, value in rows[1:]:
        key = tuple(int(s) for s in (step, index) if s != "")
        if step != "":
            assert index != "", "a row with a step must have an index"
        assert key not in cells.setdefault(name, {}), f"{name}{key} written twice"
        cells[name][key] = float(value)
    out = {}
    for name, entries in cells.items():
        ndim = {len(k) for k in entries}
        assert len(ndim) == 1
        (nd,) = ndim
        shape = tuple(max(k[d] for k in entries) + 1 for d in range(nd))
        a = np.full(shape, np.nan)
        for k, v in entries.items():
            a[k] = v
        assert len(entries) == a.size, f"{name}: missing elements"
        out[name] = a
    return out


def read(path: Path) -> dict[str, np.ndarray]:
    if path.suffix == ".npz":
        return read_npz(path)
    if path.suffix == ".json":
        return read_json(path)[0]
    return read_csv(path)


def expected(tr) -> dict[str, np.ndarray]:
    """The arrays the file must hold, taken from the Trace's attributes."""
    ref = {"x": tr.x, "h": tr.h, "loss": np.float64(tr.loss), "dL_dh": tr.dL_dh, "dL_dx": tr.dL_dx}
    ref.update({f"grad_{k}": v for k, v in tr.grads.items()})
    if tr.kind == "lstm":
        ref.update(c=tr.c, dL_dc=tr.dL_dc)
    ref.update(tr.gates)
    return ref


def check_arrays(got: dict[str, np.ndarray], tr, T: int, D: int, H: int) -> None:
    kind = tr.kind
    assert set(got) == set(COMMON) | set(EXTRA[kind])
    G = GATES[kind]
    shapes = {"x": (T, D), "h": (T, H), "loss": (), "dL_dh": (T, H), "dL_dx": (T, D),
              "grad_weight_ih_l0": (G * H, D), "grad_weight_hh_l0": (G * H, H),
              "grad_bias_ih_l0": (G * H,), "grad_bias_hh_l0": (G * H,)}
    shapes.update({n: (T, H) for n in EXTRA[kind]})
    ref = expected(tr)
    for name, arr in got.items():
        assert arr.dtype == np.float64, name
        assert arr.shape == shapes[name], name
        np.testing.assert_array_equal(arr, ref[name], err_msg=name)


@pytest.mark.parametrize("ext", [".npz", ".json", ".csv"])
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_each_format_holds_the_engine_numbers(cli, tmp_path, cell, ext):
    out = tmp_path / f"run{ext}"
    r = cli("trace", "--cell", cell, "--hidden", "3", "--seed", "7", "--input", "1,0; 0,1; 0.5,-2",
            "--encoding", "vectors", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, -2.0]])
    tr = Network(init_params(cell, 2, 3, seed=7)).trace(x)
    check_arrays(read(out), tr, T=3, D=2, H=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temp file left


def test_defaults_are_lstm_four_units_seed_zero(cli, tmp_path):
    out = tmp_path / "run.npz"
    r = cli("trace", "--input", "1 0 0.5 0", "--encoding", "numbers", "--out", str(out))
    assert r.returncode == 0, r.stderr
    tr = Network(init_params("lstm", 1, 4, seed=0)).trace(np.array([[1.0], [0.0], [0.5], [0.0]]))
    check_arrays(read_npz(out), tr, T=4, D=1, H=4)


def test_target_loss_step_and_json_meta(cli, tmp_path):
    out = tmp_path / "run.json"
    r = cli("trace", "--cell", "gru", "--hidden", "2", "--input", "0.3 -1 2 0.25",
            "--encoding", "numbers", "--target", "0.5, -0.25", "--loss-step", "3",
            "--out", str(out))
    assert r.returncode == 0, r.stderr
    arrays, meta = read_json(out)
    net = Network(init_params("gru", 1, 2, seed=0), options=Options(loss_step=2))
    tr = net.trace(np.array([[0.3], [-1.0], [2.0], [0.25]]), target=np.array([0.5, -0.25]))
    check_arrays(arrays, tr, T=4, D=1, H=2)
    assert meta["kind"] == "gru"
    assert meta["encoding"] == "numbers"
    assert meta["loss_step"] == 2          # 0-based row of the loss step
    assert len(meta["labels"]) == 4
    # The loss is on step 3, so the last step gets no gradient.
    np.testing.assert_array_equal(arrays["dL_dh"][3], 0.0)


def test_single_target_value_is_used_for_every_unit(cli, tmp_path):
    out = tmp_path / "run.npz"
    r = cli("trace", "--hidden", "3", "--input", "1 2", "--encoding", "numbers",
            "--target", "0.75", "--out", str(out))
    assert r.returncode == 0, r.stderr
    tr = Network(init_params("lstm", 1, 3, seed=0)).trace(np.array([[1.0], [2.0]]),
                                                          target=np.full(3, 0.75))
    check_arrays(read_npz(out), tr, T=2, D=1, H=3)


def test_weights_file_in_pytorch_names(cli, tmp_path):
    rng = np.random.default_rng(3)
    H, D = 2, 3
    w = {"lstm.weight_ih_l0": rng.normal(size=(4 * H, D)),
         "lstm.weight_hh_l0": rng.normal(size=(4 * H, H)),
         "lstm.bias_ih_l0": rng.normal(size=4 * H),
         "lstm.bias_hh_l0": rng.normal(size=4 * H)}
    weights = tmp_path / "model.npz"
    np.savez(weights, **w)
    out = tmp_path / "run.npz"
    r = cli("trace", "--weights", str(weights), "--input", "1,2,3; 0,0,1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    params = Params("lstm", w["lstm.weight_ih_l0"], w["lstm.weight_hh_l0"],
                    w["lstm.bias_ih_l0"], w["lstm.bias_hh_l0"])
    tr = Network(params).trace(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]]))
    check_arrays(read_npz(out), tr, T=2, D=3, H=2)


def test_weights_file_with_agreeing_cell_and_hidden(cli, tmp_path):
    p = init_params("rnn", 1, 5, seed=11)
    weights = tmp_path / "rnn.npz"
    np.savez(weights, **{k: v for k, v in p.to_state_dict().items()})
    out = tmp_path / "run.csv"
    r = cli("trace", "--weights", str(weights), "--cell", "rnn", "--hidden", "5",
            "--input", "0.5 1", "--encoding", "numbers", "--out", str(out))
    assert r.returncode == 0, r.stderr
    check_arrays(read_csv(out), Network(p).trace(np.array([[0.5], [1.0]])), T=2, D=1, H=5)


def test_csv_values_are_float_reprs(cli, tmp_path):
    out = tmp_path / "run.csv"
    assert cli("trace", "--input", "0.1 0.2", "--encoding", "numbers", "--out", str(out)).returncode == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "array,step,index,value"
    assert "x,0,0,0.1" in lines and "x,1,0,0.2" in lines
    (loss_row,) = [ln for ln in lines if ln.startswith("loss,")]
    assert loss_row.startswith("loss,,,")
    assert all(ln.count(",") == 3 for ln in lines)


def test_readme_csv_example_is_real(cli, tmp_path):
    """The CSV rows quoted in the README come out of the command it names."""
    from .conftest import REPO

    readme = (REPO / "README.md").read_text()
    block = readme.split('`lstm-viz trace --input "1 0" --hidden 2 --out run.csv` writes 77 rows')[1]
    quoted = [ln.strip() for ln in block.split("```")[1].splitlines() if ln.strip()]
    out = tmp_path / "run.csv"
    assert cli("trace", "--input", "1 0", "--hidden", "2", "--out", str(out)).returncode == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 1 + 77
    assert set(quoted) <= set(lines)
    assert quoted[0] == lines[0]
