"""Text a user typed -> a (T, D) float64 input sequence, with a label and a span per step.

Four grammars, and ``auto`` to pick one:

``numbers``  ``1 0 0.5`` or ``1, 0, 0.5``
    One value per step (D = 1). Values are separated by whitespace and/or
    single commas; a trailing comma is allowed. Accepts ``-1``, ``1e-3``,
    ``.5``, ``+2`` and the Unicode minus sign ``−``; NaN and infinity are refused.
``vectors``  ``1,0; 0,1; 0.5,0.5``
    Steps separated by ``;``, the values of a step as in ``numbers``. Every step
    has the same width D; a trailing ``;`` is allowed.
``chars``  ``hello``
    One step per character (spaces included), one-hot over the vocabulary.
``words``  ``the cat sat``
    One step per whitespace-separated word, one-hot over the vocabulary.

For ``chars`` and ``words`` the default vocabulary is the sorted unique tokens
of the text; column ``k`` of ``x`` is ``vocab[k]``.

``auto`` (see `detect_encoding`): a ``;`` means vectors; mostly numeric tokens
mean numbers (so a typo such as ``0.5x`` is reported rather than silently
turning the sequence into words), and so do tokens that are all numbers or start
as one (``1 0x``, a lone ``0.5x``); otherwise several whitespace-separated
tokens mean words and a single token means chars. With an explicit vocabulary, ``auto`` reads chars if
every vocabulary entry is one character, words otherwise.

Every problem raises `SequenceError`, which carries the 1-based step and the
character span of the offending text, so a GUI can underline it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

ENCODINGS: tuple[str, ...] = ("auto", "numbers", "vectors", "chars", "words")
#: The longest sequence read (steps), and the most columns a one-hot input gets (the
#: different characters or words): beyond them the arrays alone take gigabytes.
MAX_STEPS = 100_000
MAX_ONE_HOT = 1_000

#: A finite decimal number as people type it (ASCII digits only: ``float`` would
#: also take ``1_000``, Arabic-Indic digits and ``nan``, which we do not want here).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
#: Words that ``float`` reads as NaN or infinity.
_NONFINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
#: A value token inside numbers/vectors text: anything between whitespace and commas.
_VALUE_TOKEN = re.compile(r"[^\s,]+")
_WORD = re.compile(r"\S+")
_MINUS = "\u2212"  # the Unicode minus sign, as pasted from documents

#: Visible stand-ins for characters that would otherwise show as nothing.
_VISIBLE = {" ": "\u2423", "\t": "\u21e5", "\n": "\u21b5", "\r": "\u240d"}


class SequenceError(ValueError):
    """Text that cannot be read as a sequence.

    Attributes
    ----------
    message : str
        What is wrong, in plain words (names the offending text).
    step : int or None
        The 1-based step at fault, or None when the problem is not one step's.
    start, end : int or None
        Character span ``text[start:end]`` to underline (``end`` exclusive).

    ``str(e)`` is ``"step 3: " + message`` when the step is known.
    """

    def __init__(self, message: str, step: int | None = None,
                 start: int | None = None, end: int | None = None) -> None:
        self.message = message
        self.step = step
        self.start = start
        self.end = end
        super().__init__(message if step is None else f"step {step}: {message}")


@dataclass(frozen=True)
class Encoded:
    """An encoded sequence.

    Attributes
    ----------
    x : ndarray, shape (T, D), float64, read-only
    labels : tuple of str, length T
        The token of each step as typed (characters made visible, e.g. ``"␣"``; in numbers
        and vectors a "-" is written "−", as the app prints numbers).
    encoding : {"numbers", "vectors", "chars", "words"}
        The grammar used (``auto`` resolved).
    vocab : tuple of str or None
        chars/words: the one-hot vocabulary, ``vocab[k]`` is column ``k``.
    spans : tuple of (int, int), length T
        ``text[start:end]`` is the token of each step.
    """

    x: np.ndarray
    labels: tuple[str, ...]
    encoding: str
    vocab: tuple[str, ...] | None
    spans: tuple[tuple[int, int], ...]


def visible(ch: str) -> str:
    """A character as a label people can see: ``" "`` -> ``"␣"``, control characters -> ``U+0007``."""
    if ch in _VISIBLE:
        return _VISIBLE[ch]
    if not ch.isprintable():
        return f"U+{ord(ch):04X}"
    return ch


def _is_numeric(token: str) -> bool:
    """True if ``token`` looks like a number, NaN/infinity included (rejected later, clearly)."""
    token = token.replace(_MINUS, "-")
    return bool(_NUMBER.fullmatch(token) or _NONFINITE.fullmatch(token))


#: The start of a number: a sign, then a digit or a point and a digit.
_NUMBER_START = re.compile(r"[+-]?\.?[0-9]")


def _numeric_or_typo(token: str) -> bool:
    """A number, or a token that starts as one ("0.5x", "1O"): a number typed wrong."""
    return _is_numeric(token) or bool(_NUMBER_START.match(token.replace(_MINUS, "-")))


def detect_encoding(text: str, vocab: Sequence[str] | None = None) -> str:
    """The grammar ``auto`` would use for ``text``: "numbers", "vectors", "chars" or "words".

    Does not check that the text is valid in that grammar; `encode` does.
    """
    if vocab is not None:
        return "chars" if all(len(v) == 1 for v in vocab) else "words"
    if ";" in text:
        return "vectors"
    values = _VALUE_TOKEN.findall(text)
    # Mostly numbers is numbers: "1 0 0.5x" is a typo to point at, not three words.
    if values and 2 * sum(_is_numeric(v) for v in values) > len(values):
        return "numbers"
    # So is a text of numbers and near-numbers only: "1 0x" and "0.5x" have a typo too.
    if values and any(_is_numeric(v) for v in values) or len(values) == 1:
        if all(_numeric_or_typo(v) for v in values):
            return "numbers"
    return "words" if len(text.split()) > 1 else "chars"


def encode(text: str, encoding: str = "auto", vocab: Sequence[str] | None = None) -> Encoded:
    """Read ``text`` as a sequence.

    Parameters
    ----------
    text : str
    encoding : {"auto", "numbers", "vectors", "chars", "words"}
    vocab : sequence of str, optional
        chars/words only: the one-hot vocabulary (e.g. the one a model was
        trained with). A token outside it is an error.

    Returns
    -------
    Encoded
        ``x`` has shape (T, D): D = 1 for numbers, the step width for vectors,
        ``len(vocab)`` for chars and words.

    Raises
    ------
    SequenceError
        On anything that cannot be read; the error names the step and text.
    """
    if not isinstance(text, str):
        raise SequenceError(f"the sequence must be text, not {type(text).__name__}")
    if encoding not in ENCODINGS:
        raise SequenceError(f"unknown encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")
    if not text.strip():
        raise SequenceError("the sequence is empty")
    if vocab is not None:
        vocab = _check_vocab(vocab)
    if encoding == "auto":
        encoding = detect_encoding(text, vocab)
    if encoding in ("numbers", "vectors"):
        if vocab is not None:
            raise SequenceError(f"a vocabulary applies to chars and words, not to {encoding}")
        rows, labels, spans = _vectors(text) if encoding == "vectors" else _numbers(text)
        _check_length(len(rows), spans)
        x = np.array(rows, dtype=np.float64)
        return _encoded(x, labels, encoding, None, spans)
    if encoding == "chars":
        tokens = [(ch, k, k + 1) for k, ch in enumerate(text)]
    else:
        tokens = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]
    return _one_hot(tokens, encoding, vocab)


# --------------------------------------------------------------------------- numbers, vectors


def _values(text: str, offset: int, step: int | None) -> list[tuple[float, int, int]]:
    """Parse ``text`` (found at ``offset`` in the whole input) as values separated by
    whitespace and/or single commas. Returns ``(value, start, end)`` per value.

    ``step`` is the step these values belong to (vectors) or None (numbers: each
    value is its own step, counted here).
    """
    out: list[tuple[float, int, int]] = []
    prev_end = 0
    matches = list(_VALUE_TOKEN.finditer(text))
    for k, m in enumerate(matches):
        at = step if step is not None else k + 1
        gap = text[prev_end:m.start()]
        if gap.count(",") > (0 if k == 0 else 1):
            comma = prev_end + gap.rindex(",")
            raise SequenceError("a value is missing before this comma" if k == 0
                                else "a value is missing between two commas",
                                at, offset + comma, offset + comma + 1)
        out.append((_number(m.group(), at, offset + m.start()), offset + m.start(), offset + m.end()))
        prev_end = m.end()
    tail = text[prev_end:]
    if tail.count(",") > (1 if matches else 0):
        at = step if step is not None else len(matches) + 1
        comma = prev_end + tail.rindex(",")
        raise SequenceError("a value is missing between two commas" if matches
                            else "a value is missing before this comma",
                            at, offset + comma, offset + comma + 1)
    return out


def _number(token: str, step: int, start: int) -> float:
    end = start + len(token)
    ascii_token = token.replace(_MINUS, "-")
    if _NONFINITE.fullmatch(ascii_token):
        raise SequenceError(f'"{token}" is not a finite number; give a real value', step, start, end)
    if not _NUMBER.fullmatch(ascii_token):
        hint = " (';' separates steps in the vectors encoding)" if ";" in token else ""
        raise SequenceError(f'"{token}" is not a number{hint}', step, start, end)
    value = float(ascii_token)
    if not np.isfinite(value):
        raise SequenceError(f'"{token}" is too large to represent', step, start, end)
    return value


def _numbers(text: str) -> tuple[list[list[float]], list[str], list[tuple[int, int]]]:
    values = _values(text, 0, None)
    return ([[v] for v, _, _ in values], [_label(text[s:e]) for _, s, e in values],
            [(s, e) for _, s, e in values])


def _label(token: str) -> str:
    """A number as typed, with the minus sign the rest of the app prints (−, not -)."""
    return token.replace("-", _MINUS)


def _vectors(text: str) -> tuple[list[list[float]], list[str], list[tuple[int, int]]]:
    rows: list[list[float]] = []
    labels: list[str] = []
    spans: list[tuple[int, int]] = []
    start = 0
    pieces = text.split(";")
    for k, piece in enumerate(pieces):
        step = k + 1
        end = start + len(piece)
        if not piece.strip():
            if k == len(pieces) - 1 and k > 0:
                break  # a trailing ';' (and whitespace after it)
            # underline the ';' that closes the empty step
            raise SequenceError("this step has no values", step, end, end + 1)
        values = _values(piece, start, step)  # not empty: the piece is not blank
        lead = len(piece) - len(piece.lstrip())
        s, e = start + lead, start + len(piece.rstrip())
        if rows and len(values) != len(rows[0]):
            raise SequenceError(
                f'"{text[s:e]}" has {_count(len(values))} but step 1 has {_count(len(rows[0]))}',
                step, s, e)
        rows.append([v for v, _, _ in values])
        labels.append(_label(text[s:e]))
        spans.append((s, e))
        start = end + 1
    return rows, labels, spans


def _count(n: int) -> str:
    return f"{n} value" if n == 1 else f"{n} values"


# --------------------------------------------------------------------------- chars, words


def _check_vocab(vocab: Sequence[str]) -> tuple[str, ...]:
    if isinstance(vocab, str):
        vocab = list(vocab)  # "abc" is a natural way to write a character vocabulary
    out = tuple(vocab)
    if not out:
        raise SequenceError("the vocabulary is empty")
    seen: set[str] = set()
    for v in out:
        if not isinstance(v, str) or not v:
            raise SequenceError(f"the vocabulary holds {v!r}; every entry must be non-empty text")
        if v in seen:
            raise SequenceError(f'the vocabulary lists "{v}" twice')
        seen.add(v)
    return out


def _check_length(steps: int, spans: list[tuple[int, int]]) -> None:
    if steps > MAX_STEPS:
        s, e = spans[MAX_STEPS]
        raise SequenceError(f"the sequence has {steps:,} steps; at most {MAX_STEPS:,} are read",
                            MAX_STEPS + 1, s, e)


def _one_hot(tokens: list[tuple[str, int, int]], encoding: str,
             vocab: tuple[str, ...] | None) -> Encoded:
    spans = [(s, e) for _, s, e in tokens]
    _check_length(len(tokens), spans)
    if vocab is None:
        seen: dict[str, None] = {}
        for t, (tok, s, e) in enumerate(tokens):
            if tok not in seen:
                if len(seen) == MAX_ONE_HOT:
                    kind = "character" if encoding == "chars" else "word"
                    raise SequenceError(
                        f'"{visible(tok) if encoding == "chars" else tok}" is one different '
                        f"{kind} too many: a one-hot input has at most {MAX_ONE_HOT:,} columns",
                        t + 1, s, e)
                seen[tok] = None
        vocab = tuple(sorted(seen))
    elif encoding == "chars" and any(len(v) != 1 for v in vocab):
        bad = next(v for v in vocab if len(v) != 1)
        raise SequenceError(f'the vocabulary entry "{bad}" is not a single character')
    column = {v: k for k, v in enumerate(vocab)}
    x = np.zeros((len(tokens), len(vocab)))
    for t, (tok, s, e) in enumerate(tokens):
        k = column.get(tok)
        if k is None:
            raise SequenceError(f'"{visible(tok) if encoding == "chars" else tok}" '
                                "is not in the vocabulary", t + 1, s, e)
        x[t, k] = 1.0
    labels = [visible(tok) if encoding == "chars" else tok for tok, _, _ in tokens]
    return _encoded(x, labels, encoding, vocab, spans)


def _encoded(x: np.ndarray, labels: list[str], encoding: str, vocab: tuple[str, ...] | None,
             spans: list[tuple[int, int]]) -> Encoded:
    x.flags.writeable = False
    return Encoded(x, tuple(labels), encoding, vocab, tuple(spans))
