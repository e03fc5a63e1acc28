"""Bad input of any kind: exit status 2, one ``lstm-viz: error:`` line, no output file."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from lstm_viz.model import init_params


def write_weights(folder: Path) -> dict[str, Path]:
    """Weights files, good and bad, in ``folder``; returns name -> path."""
    good = init_params("lstm", 1, 2, seed=0).to_state_dict()
    files: dict[str, Path] = {}

    def savez(name: str, arrays: dict) -> None:
        files[name] = folder / f"{name}.npz"
        np.savez(files[name], **arrays)

    savez("good", good)
    savez("gru", init_params("gru", 1, 2, seed=0).to_state_dict())
    nan = dict(good)
    nan["weight_hh_l0"] = good["weight_hh_l0"].copy()
    nan["weight_hh_l0"][1, 1] = np.nan
    savez("nonfinite", nan)
    inconsistent = dict(good, bias_ih_l0=np.zeros(5))
    savez("inconsistent", inconsistent)
    savez("missing_tensor", {k: v for k, v in good.items() if k != "bias_hh_l0"})
    savez("object_array", dict(good, weight_ih_l0=np.array([{"a": 1}] * 8, dtype=object)))
    files["pickle"] = folder / "pickle.npz"
    files["pickle"].write_bytes(pickle.dumps(good))
    files["corrupt"] = folder / "corrupt.npz"
    files["corrupt"].write_bytes(b"PK\x03\x04 this is not really a zip archive" * 3)
    files["empty"] = folder / "empty.npz"
    files["empty"].write_bytes(b"")
    files["folder"] = folder / "folder.npz"
    files["folder"].mkdir(exist_ok=True)
    return files


OUT = "OUT.npz"  # placeholder replaced by the test's output path

CASES = {
    # the sequence
    "empty input": ["trace", "--input", "", "--out", OUT],
    "blank input": ["trace", "--input", "   ", "--out", OUT],
    "unparsable number": ["trace", "--input", "1 two 3", "--encoding", "numbers", "--out", OUT],
    "nan in input": ["trace", "--input", "1 nan 3", "--encoding", "numbers", "--out", OUT],
    "inf in input": ["trace", "--input", "1, inf", "--encoding", "numbers", "--out", OUT],
    "ragged vectors": ["trace", "--input", "1,0; 1", "--encoding", "vectors", "--out", OUT],
    "input missing": ["trace", "--out", OUT],
    # options
    "unknown option": ["trace", "--input", "1", "--frobnicate", "--out", OUT],
    "unknown command": ["frobnicate"],
    "bad cell": ["trace", "--cell", "lstmx", "--input", "1", "--out", OUT],
    "bad encoding": ["trace", "--encoding", "morse", "--input", "1", "--out", OUT],
    "hidden zero": ["trace", "--hidden", "0", "--input", "1", "--out", OUT],
    "hidden not a number": ["trace", "--hidden", "four", "--input", "1", "--out", OUT],
    "seed not a number": ["trace", "--seed", "1.5", "--input", "1", "--out", OUT],
    "seed negative": ["trace", "--seed", "-1", "--input", "1", "--out", OUT],
    "hidden too many": ["trace", "--hidden", "100000", "--input", "1", "--out", OUT],
    "too many different words": ["trace", "--encoding", "words", "--input",
                                 " ".join(f"w{k}" for k in range(1001)), "--out", OUT],
    "loss step past end": ["trace", "--input", "1 2", "--loss-step", "3", "--out", OUT],
    "loss step zero": ["trace", "--input", "1 2", "--loss-step", "0", "--out", OUT],
    "target wrong count": ["trace", "--input", "1 2", "--target", "1 2", "--out", OUT],
    "target not numbers": ["trace", "--input", "1 2", "--target", "up", "--out", OUT],
    "target nan": ["trace", "--input", "1 2", "--target", "nan", "--out", OUT],
    "window option with trace": ["--theme", "dark", "trace", "--input", "1", "--out", OUT],
    "bad theme": ["--theme", "neon"],
    "bad size": ["--size", "12"],
    "bad step": ["--step", "-1"],
    "bad screenshot extension": ["--screenshot", "shot.txt"],
    "bench bad section": ["bench", "--only", "disk"],
    # output path
    "unknown out extension": ["trace", "--input", "1", "--out", "run.txt"],
    "out folder missing": ["trace", "--input", "1", "--out", "no/such/folder/run.npz"],
    "out is a folder": ["trace", "--input", "1", "--out", "@folder"],
    # weights files
    "weights missing": ["trace", "--weights", "nothing-here.npz", "--input", "1", "--out", OUT],
    "weights a folder": ["trace", "--weights", "@folder", "--input", "1", "--out", OUT],
    "weights corrupt": ["trace", "--weights", "@corrupt", "--input", "1", "--out", OUT],
    "weights empty file": ["trace", "--weights", "@empty", "--input", "1", "--out", OUT],
    "weights pickled": ["trace", "--weights", "@pickle", "--input", "1", "--out", OUT],
    "weights object array": ["trace", "--weights", "@object_array", "--input", "1", "--out", OUT],
    "weights inconsistent": ["trace", "--weights", "@inconsistent", "--input", "1", "--out", OUT],
    "weights missing tensor": ["trace", "--weights", "@missing_tensor", "--input", "1", "--out", OUT],
    "weights non-finite": ["trace", "--weights", "@nonfinite", "--input", "1", "--out", OUT],
    "width mismatch": ["trace", "--weights", "@good", "--input", "1,0; 0,1", "--out", OUT],
    "cell disagrees with file": ["trace", "--weights", "@good", "--cell", "gru", "--input", "1",
                                 "--out", OUT],
    "hidden disagrees with file": ["trace", "--weights", "@gru", "--hidden", "3", "--input", "1",
                                   "--out", OUT],
    "seed with weights": ["trace", "--weights", "@good", "--seed", "1", "--input", "1", "--out", OUT],
}

#: Cases that fail only after the work has started: also run with a file already at --out.
LATE = ("nan in input", "weights non-finite", "width mismatch", "target wrong count",
        "loss step past end")


def _args(case: str, folder: Path, out: Path) -> list[str]:
    files = write_weights(folder)
    return [str(out) if a == OUT else str(files[a[1:]]) if a.startswith("@") else a
            for a in CASES[case]]


def _assert_one_error_line(r) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("lstm-viz: error: "), r.stderr
    assert len(lines[0]) > len("lstm-viz: error: ") + 5
    assert "Traceback" not in r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_exits_2_with_one_line(cli, tmp_path, case):
    out = tmp_path / "out.npz"
    args = _args(case, tmp_path, out)
    before = sorted(p.name for p in tmp_path.iterdir())
    r = cli(*args, cwd=tmp_path)
    _assert_one_error_line(r)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no output, no temp file


@pytest.mark.parametrize("case", LATE)
def test_existing_output_is_untouched(cli, tmp_path, case):
    out = tmp_path / "out.npz"
    out.write_bytes(b"an earlier result")
    r = cli(*_args(case, tmp_path, out), cwd=tmp_path)
    _assert_one_error_line(r)
    assert out.read_bytes() == b"an earlier result"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to read-only folders")
def test_unwritable_folder(cli, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        r = cli("trace", "--input", "1", "--out", str(folder / "run.npz"))
        _assert_one_error_line(r)
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)


def test_error_names_the_problem(cli, tmp_path):
    r = cli("trace", "--input", "1 two 3", "--encoding", "numbers", "--out", str(tmp_path / "o.npz"))
    assert "two" in r.stderr and "2" in r.stderr  # the offending text and its step
    files = write_weights(tmp_path)
    r = cli("trace", "--weights", str(files["good"]), "--cell", "gru", "--input", "1",
            "--out", str(tmp_path / "o.npz"))
    assert "LSTM" in r.stderr


def test_an_unexpected_loader_error_is_shown_without_escape_codes(tmp_path):
    from lstm_viz.cli import CliError, _load_network

    def load(path):
        raise RuntimeError("\x1b[1mboom\x1b[0m in the loader")

    (tmp_path / "w.npz").write_bytes(b"x")
    with pytest.raises(CliError) as e:
        _load_network(str(tmp_path / "w.npz"), load)
    assert "(RuntimeError: boom in the loader)" in str(e.value) and "\x1b" not in str(e.value)
