"""encode(): every grammar by hand, every error with its step and span, and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_viz.model import ENCODINGS, SequenceError, detect_encoding, encode


def _error(text: str, encoding: str = "auto", vocab=None) -> SequenceError:
    with pytest.raises(SequenceError) as info:
        encode(text, encoding, vocab)
    return info.value


# --------------------------------------------------------------------------- grammars by hand


@pytest.mark.parametrize("text", ["1 0 0.5", "1, 0, 0.5", "1,0,0.5", " 1 ,0\t0.5 ,", "1\n0\n0.5"])
def test_numbers(text):
    e = encode(text, "numbers")
    assert e.encoding == "numbers" and e.vocab is None
    assert e.x.shape == (3, 1) and e.x.dtype == np.float64
    assert e.x[:, 0].tolist() == [1.0, 0.0, 0.5]
    assert e.labels == ("1", "0", "0.5")
    assert [text[s:t] for s, t in e.spans] == ["1", "0", "0.5"]


def test_number_forms():
    e = encode("-1 1e-3 .5 +2 5. \u22122.5 1E+2", "numbers")
    assert e.x[:, 0].tolist() == [-1.0, 0.001, 0.5, 2.0, 5.0, -2.5, 100.0]
    assert e.labels[5] == "\u22122.5"  # shown as typed
    # the minus the app prints everywhere (a hyphen beside "−0.52" on the axes looks wrong)
    assert e.labels[:2] == ("\u22121", "1e\u22123")


def test_vectors():
    text = "1,0; 0,1; 0.5,0.5"
    e = encode(text, "vectors")
    assert e.encoding == "vectors" and e.vocab is None
    assert e.x.tolist() == [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]
    assert e.labels == ("1,0", "0,1", "0.5,0.5")
    assert [text[s:t] for s, t in e.spans] == list(e.labels)


def test_vectors_trailing_semicolon_and_spaces():
    e = encode(" 1 2 3 ;4, 5 ,6; ", "vectors")
    assert e.x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert e.labels == ("1 2 3", "4, 5 ,6")


def test_one_step_vector():
    assert encode("1, 2;").x.tolist() == [[1.0, 2.0]]


def test_chars():
    text = "hi ho"
    e = encode(text, "chars")
    assert e.encoding == "chars"
    assert e.vocab == (" ", "h", "i", "o")
    assert e.labels == ("h", "i", "\u2423", "h", "o")
    expected = np.array([[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]])
    assert np.array_equal(e.x, expected)
    assert e.spans == ((0, 1), (1, 2), (2, 3), (3, 4), (4, 5))


def test_invisible_chars_get_visible_labels():
    e = encode("a\tb\nc\x07", "chars")
    assert e.labels == ("a", "\u21e5", "b", "\u21b5", "c", "U+0007")


def test_chars_with_vocab():
    e = encode("cab", "chars", vocab="abcd")
    assert e.vocab == ("a", "b", "c", "d")
    assert np.array_equal(e.x, [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]])


def test_words():
    text = "the cat  sat on the mat"
    e = encode(text, "words")
    assert e.vocab == ("cat", "mat", "on", "sat", "the")
    assert e.labels == ("the", "cat", "sat", "on", "the", "mat")
    assert e.x.argmax(axis=1).tolist() == [4, 0, 3, 2, 4, 1]
    assert [text[s:t] for s, t in e.spans] == list(e.labels)


def test_words_with_vocab_keeps_column_order():
    e = encode("b a", "words", vocab=["zz", "b", "a"])
    assert e.x.tolist() == [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


@pytest.mark.parametrize("text, expected", [
    ("1 0 0.5", "numbers"),
    ("1, 0, 0.5", "numbers"),
    ("7", "numbers"),
    ("1,0; 0,1", "vectors"),
    ("1,0;", "vectors"),
    ("hello", "chars"),
    ("hello world", "words"),
    ("1 2 three", "numbers"),  # mostly numbers: a typo to report, not words
    ("1 0 0.5x", "numbers"),
    ("1, 0.5x", "numbers"),   # half and half, but 0.5x starts as a number: a typo
    ("1 0x", "numbers"),
    ("0.5x", "numbers"),      # one token that starts as a number
    ("-.5e", "numbers"),
    ("1 2 x y", "words"),     # half and half, and x, y are words
    ("2b or not 2b", "words"),
    ("42nd street", "words"),
    ("2b", "numbers"),
    ("I have 2 cats", "words"),
    ("1 nan 3", "numbers"),   # looks numeric: read as numbers, so the NaN is reported
    ("a;b", "vectors"),
])
def test_auto(text, expected):
    assert detect_encoding(text) == expected


def test_auto_encode_resolves():
    assert encode("1 2").encoding == "numbers"
    assert encode("ab").encoding == "chars"
    assert encode("ab cd").encoding == "words"
    assert encode("1;2").encoding == "vectors"


def test_auto_with_vocab_follows_the_vocab():
    assert encode("ab ba", vocab="ab ").encoding == "chars"
    assert encode("ab ba", vocab=["ab", "ba"]).encoding == "words"


def test_result_is_read_only():
    e = encode("1 2")
    with pytest.raises(ValueError):
        e.x[0, 0] = 5.0
    assert ENCODINGS == ("auto", "numbers", "vectors", "chars", "words")


# --------------------------------------------------------------------------- errors by hand


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_empty(text, encoding):
    e = _error(text, encoding)
    assert str(e) == "the sequence is empty" and e.step is None


@pytest.mark.parametrize("text, encoding, step, bad, words", [
    ("1 0 0.5x", "numbers", 3, "0.5x", "not a number"),
    ("1 two 3", "numbers", 2, "two", "not a number"),
    ("1 0 0.5x", "auto", 3, "0.5x", "not a number"),
    ("1 0x", "auto", 2, "0x", "not a number"),
    ("0.5x", "auto", 1, "0.5x", "not a number"),
    ("1 nan 3", "auto", 2, "nan", "not a finite number"),
    ("1, inf", "numbers", 2, "inf", "not a finite number"),
    ("-Infinity 2", "numbers", 1, "-Infinity", "not a finite number"),
    ("1 1e999", "numbers", 2, "1e999", "too large"),
    ("1_000", "numbers", 1, "1_000", "not a number"),
    ("1;2", "numbers", 1, "1;2", "vectors"),
    ("1,0; 0,x", "vectors", 2, "x", "not a number"),
    ("1,0; 1", "vectors", 2, "1", "1 value but step 1 has 2 values"),
    ("1,0; 0,1; 1 2 3", "auto", 3, "1 2 3", "3 values but step 1 has 2"),
    ("cab", "chars", 3, "b", "not in the vocabulary"),
    ("a b", "chars", 2, " ", '"\u2423" is not in the vocabulary'),
    ("the dog", "words", 2, "dog", '"dog" is not in the vocabulary'),
])
def test_error_names_step_and_text(text, encoding, step, bad, words):
    vocab = {"chars": "ac", "words": ["the", "cat"]}.get(encoding)
    e = _error(text, encoding, vocab)
    assert e.step == step
    assert text[e.start:e.end] == bad
    assert str(e).startswith(f"step {step}: ")
    assert words in str(e)
    if bad.strip():
        assert f'"{bad}"' in str(e)


@pytest.mark.parametrize("text, encoding, step, start", [
    ("1,,2", "numbers", 2, 2),
    (",1 2", "numbers", 1, 0),
    ("1 , , 2", "numbers", 2, 4),
    ("1,0;;1,0", "vectors", 2, 4),
    ("; 1,0", "vectors", 1, 0),
    ("1,0; ,1", "vectors", 2, 5),
    ("1 2 ,,", "numbers", 3, 5),
])
def test_missing_values_point_at_the_separator(text, encoding, step, start):
    e = _error(text, encoding)
    assert (e.step, e.start, e.end) == (step, start, start + 1)
    assert text[e.start] in ",;"


def test_trailing_comma_is_allowed():
    assert encode("1, 2,").x[:, 0].tolist() == [1.0, 2.0]


@pytest.mark.parametrize("vocab, words", [
    ([], "empty"),
    (["a", "a"], "twice"),
    (["a", ""], "non-empty"),
    (["ab"], "single character"),
])
def test_bad_vocab(vocab, words):
    assert words in str(_error("ab", "chars", vocab))


def test_vocab_with_numbers_is_refused():
    assert "vocabulary" in str(_error("1 2", "numbers", ["a"]))


def test_unknown_encoding():
    assert "morse" in str(_error("1", "morse"))


def test_sequence_error_is_a_value_error():
    assert isinstance(_error(""), ValueError)


# --------------------------------------------------------------------------- properties

finite = st.floats(allow_nan=False, allow_infinity=False)
separator = st.sampled_from([" ", ", ", ",", " , ", "\t", "  ,"])


def _join(values: list[float], seps: list[str]) -> str:
    out = repr(values[0])
    for v, s in zip(values[1:], seps):
        out += s + repr(v)
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=1, max_size=20).flatmap(
    lambda vs: st.tuples(st.just(vs), st.lists(separator, min_size=len(vs), max_size=len(vs)),
                         st.sampled_from(["", " ", ",", ", "]), st.sampled_from(["numbers", "auto"]))))
def test_numbers_round_trip(case):
    values, seps, tail, encoding = case
    text = _join(values, seps) + tail
    e = encode(text, encoding)
    assert e.encoding == "numbers"
    assert e.x[:, 0].tolist() == values  # exact: repr reads back to the same float
    assert [float(text[s:t]) for s, t in e.spans] == values
    assert e.labels == tuple(repr(v).replace("-", "\u2212") for v in values)   # as typed, − for -


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 6).flatmap(lambda d: st.lists(
    st.tuples(st.lists(finite, min_size=d, max_size=d), st.lists(separator, min_size=d, max_size=d)),
    min_size=1, max_size=8)), st.sampled_from([";", "; ", " ;\n"]), st.booleans())
def test_vectors_round_trip(rows, step_sep, trailing):
    text = step_sep.join(_join(vs, seps) for vs, seps in rows) + (step_sep if trailing else "")
    e = encode(text, "vectors")
    assert e.x.tolist() == [vs for vs, _ in rows]
    if ";" in text:
        assert encode(text).x.tolist() == e.x.tolist()
    for (s, t), label in zip(e.spans, e.labels):
        assert text[s:t].replace("-", "\u2212") == label


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=40).filter(str.strip))
def test_chars_one_hot(text):
    e = encode(text, "chars")
    assert e.x.shape == (len(text), len(set(text)))
    assert np.array_equal(e.x.sum(axis=1), np.ones(len(text)))
    assert "".join(e.vocab[k] for k in e.x.argmax(axis=1)) == text
    assert "".join(text[s:t] for s, t in e.spans) == text
    assert all(len(label) >= 1 for label in e.labels)


word = st.text(st.characters(blacklist_categories=("Zs", "Cc", "Zl", "Zp")), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(st.lists(word, min_size=1, max_size=12),
       st.lists(st.sampled_from([" ", "  ", "\t", "\n"]), min_size=12, max_size=12))
def test_words_one_hot(words, gaps):
    words = [w for w in words if w.split() == [w]]  # some odd characters count as whitespace
    if not words:
        return
    text = "".join(g + w for g, w in zip(gaps, words))
    e = encode(text, "words")
    assert np.array_equal(e.x.sum(axis=1), np.ones(len(words)))
    assert [e.vocab[k] for k in e.x.argmax(axis=1)] == words
    assert [text[s:t] for s, t in e.spans] == words
    assert e.labels == tuple(words)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789.,;eE+-\u2212 \tnaifxy_\n")) | st.characters(),
               max_size=30),
       st.sampled_from(ENCODINGS),
       st.none() | st.lists(st.text(max_size=2), max_size=4))
def test_only_sequence_errors(text, encoding, vocab):
    try:
        e = encode(text, encoding, vocab)
    except SequenceError as err:
        if err.start is not None:
            assert 0 <= err.start < err.end <= len(text)
        assert str(err)
    else:
        assert e.x.ndim == 2 and e.x.shape[0] == len(e.labels) == len(e.spans) >= 1
        assert np.all(np.isfinite(e.x))


def test_at_most_max_one_hot_different_words_are_read():
    from lstm_viz.model.encoding import MAX_ONE_HOT
    words = [f"w{k}" for k in range(MAX_ONE_HOT)]
    assert encode(" ".join(words + words[:5]), "words").x.shape == (MAX_ONE_HOT + 5, MAX_ONE_HOT)
    text = " ".join(words + ["w0", "extra", "w1"])
    e = _error(text, "words")
    assert e.step == MAX_ONE_HOT + 2 and text[e.start:e.end] == "extra"
    assert "one different word too many" in str(e) and f"{MAX_ONE_HOT:,} columns" in str(e)


@pytest.mark.parametrize("encoding, text", [("numbers", "1 "), ("chars", "a"), ("words", "a ")])
def test_at_most_max_steps_are_read(encoding, text):
    from lstm_viz.model.encoding import MAX_STEPS
    assert encode(text * MAX_STEPS, encoding).x.shape[0] == MAX_STEPS
    e = _error(text * (MAX_STEPS + 3), encoding)
    assert e.step == MAX_STEPS + 1 and f"{MAX_STEPS + 3:,} steps" in str(e)
    assert e.start == len(text) * MAX_STEPS
