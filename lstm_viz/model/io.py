"""Weights files: read and write PyTorch-layout state_dicts without unpickling anything.

``.npz``
    A NumPy archive of named arrays, names as in a PyTorch ``state_dict``
    (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, an
    optional module prefix such as ``lstm.``, an optional readout
    ``readout.weight`` (K, H) / ``readout.bias`` (K,), or the one other layer
    with a weight and a bias, as PyTorch names it: ``fc.``, ``linear.``,
    ``decoder.`` ...; see `lstm_viz.model.weights.find_readout`) plus optional
    initial states ``h0`` and ``c0`` of shape (H,), and optional names of the
    readout's classes ``readout.classes``: a NumPy unicode array (K,), e.g.
    ``np.array(["negative", "positive"])``, which NumPy stores without pickling.
    Every member's header is read before its data, and an object array
    (which NumPy stores as a pickle) is refused without being read. Written by
    `save_weights` or by ``np.savez(path, **model.state_dict_as_numpy)``.
``.pt`` / ``.pth``
    Read only when PyTorch is installed, only with
    ``torch.load(..., weights_only=True)`` (PyTorch's restricted loader, which
    builds tensors and plain containers and refuses any other object). Tensors
    only: class names come from ``.npz`` files (a name is not a tensor, and a
    ``.pt`` file is a pickle; the app never writes one). A whole pickled model
    (``torch.save(model, path)``) is refused with how to save its state_dict.

Every problem raises `WeightsFileError` (a `WeightsError`, hence a
``ValueError``) whose message is one line naming the file and the reason.
"""

from __future__ import annotations

import io
import math
import os
import pickletools
import re
import struct
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import IO, Callable, Mapping

import numpy as np

from .cells import Network
from .weights import CLASSES, Params, WeightsError, class_names_from_array

#: Extensions `load_weights` reads.
WEIGHTS_FORMATS: tuple[str, ...] = (".npz", ".pt", ".pth")
#: Names of the optional initial states in a weights file.
STATE_NAMES: tuple[str, ...] = ("h0", "c0")

#: The one-liner that turns a PyTorch model's weights into a file we read without PyTorch.
NPZ_ONE_LINER = ('np.savez("weights.npz", **{k: v.detach().cpu().numpy() '
                 'for k, v in model.state_dict().items()})')

#: How a PyTorch model's weights are saved so that the app can read them.
SAVE_STATE_DICT = "torch.save(model.state_dict(), path)"

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or an empty archive
_NPY_MAGIC = b"\x93NUMPY"
_PREFIX = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_]*\.)*")
#: Terminal escapes: CSI (colours, bold: "\x1b[1m"), OSC (titles, links), two-byte ones.
_ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
#: Control characters other than the line break (C0, DEL, C1).
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
#: The class ``torch.load(weights_only=True)`` refused, in its message.
_UNSUPPORTED_GLOBAL = re.compile(r"(?:Unsupported global: GLOBAL|unsupported GLOBAL) ([\w.]+)",
                                 re.IGNORECASE)
#: The most of a PyTorch file's pickle read to tell a whole model from other objects.
_MAX_PICKLE_SCAN = 64 * 2**20
#: Errors reading a damaged file can raise, from zipfile, zlib and numpy.lib.format.
_READ_ERRORS = (OSError, EOFError, ValueError, KeyError, SyntaxError, RuntimeError,
                NotImplementedError, MemoryError, OverflowError, struct.error, zlib.error,
                zipfile.BadZipFile, zipfile.LargeZipFile)


class WeightsFileError(WeightsError):
    """A weights file that cannot be read or written.

    Attributes
    ----------
    path : str
        The file, as given.
    reason : str
        Why, in one line (without the file name).

    ``str(e)`` is ``"<path>: <reason>"``.
    """

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


# --------------------------------------------------------------------------- loading


def load_weights(path: str | os.PathLike) -> Network:
    """Read a weights file into a `Network` (default options).

    Parameters
    ----------
    path : str or PathLike
        ``.npz`` (always) or ``.pt`` / ``.pth`` (when PyTorch is installed).

    Returns
    -------
    Network
        Cell kind inferred from the shapes; ``h0`` / ``c0`` from the file if
        present; the readout's class names (`Params.readout_classes`) from
        ``readout.classes`` if present (``.npz`` only).

    Raises
    ------
    WeightsFileError
        Missing, unreadable, pickled, malformed or inconsistent file.

    Examples
    --------
    >>> net = load_weights("model.npz")                 # doctest: +SKIP
    >>> tr = net.trace(x, target=y)                     # doctest: +SKIP
    """
    sd, names = _load(path)
    if names is not None:
        sd[CLASSES] = names
    try:
        params = Params.from_state_dict(sd)
        return Network(params, h0=sd.get("h0"), c0=sd.get("c0"))
    except WeightsError as e:
        raise WeightsFileError(path, str(e)) from None


def load_state_dict(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read every array in a weights file, as float64, by name.

    Checks each array is numeric and at least 1-D, but not how the arrays fit
    together (`load_weights` and `Params.from_state_dict` do that). The class
    names ``readout.classes``, which are text, are checked to be text and left
    out (`load_weights` reads them).

    Returns
    -------
    dict of str -> ndarray (float64)

    Raises
    ------
    WeightsFileError
    """
    return _load(path)[0]


def _load(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], tuple[str, ...] | None]:
    """The numeric arrays of a weights file as float64, and its class names (None if none)."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in WEIGHTS_FORMATS:
        raise WeightsFileError(path, f"unknown weights format {ext or '(no extension)'!r}; "
                                     f"expected {', '.join(WEIGHTS_FORMATS)}")
    if not p.exists():
        raise WeightsFileError(path, "no such file")
    if p.is_dir():
        raise WeightsFileError(path, "is a folder, not a weights file")
    if not p.is_file():                    # a pipe or a device would block the read
        raise WeightsFileError(path, "is not a regular file")
    try:
        with open(p, "rb"):
            pass
        size = p.stat().st_size
    except OSError as e:
        raise WeightsFileError(path, f"cannot be read ({e.strerror or e})") from None
    if size == 0:
        raise WeightsFileError(path, "is empty (0 bytes)")
    raw = _read_pt(path) if ext in (".pt", ".pth") else _read_npz(path)
    if not raw:
        raise WeightsFileError(path, "contains no arrays")
    names = None
    if CLASSES in raw:
        try:
            names = class_names_from_array(raw.pop(CLASSES))
        except WeightsError as e:
            raise WeightsFileError(path, str(e)) from None
    return {name: _as_float64(path, name, a) for name, a in raw.items()}, names


def _as_float64(path: str | os.PathLike, name: str, a: np.ndarray) -> np.ndarray:
    if a.dtype.hasobject:
        raise WeightsFileError(path, f"{name} contains pickled data and is refused")
    if a.dtype.kind not in "iuf":
        raise WeightsFileError(path, f"{name} holds {a.dtype} values, not real numbers")
    if a.ndim == 0:
        raise WeightsFileError(path, f"{name} is a single number, not an array")
    with np.errstate(over="ignore"):       # a long double past float64 becomes inf, refused later
        return np.asarray(a, dtype=np.float64)


def _read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` archive; object arrays refused from their header."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(_NPY_MAGIC))
    except OSError as e:
        raise WeightsFileError(path, f"cannot be read ({e.strerror or e})") from None
    if head.startswith(_NPY_MAGIC):
        raise WeightsFileError(path, "holds one unnamed array (.npy), not named weights; "
                                     "save with np.savez(path, weight_ih_l0=..., ...)")
    if head[:1] == b"\x80":  # the PROTO opcode that starts every pickle since protocol 2
        raise WeightsFileError(path, "contains pickled data and is refused")
    if head[:4] not in _ZIP_MAGIC:
        raise WeightsFileError(path, "is not an .npz archive")
    out: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                name = info.filename
                if info.is_dir():
                    continue
                if name.endswith(".pkl"):
                    raise WeightsFileError(path, "contains pickled data and is refused (a "
                                                 "PyTorch file? name it .pt)")
                if not name.endswith(".npy"):
                    raise WeightsFileError(path, f"member {name!r} is not a NumPy array")
                key = name[: -len(".npy")]
                if key in out:
                    raise WeightsFileError(path, f"holds {key} twice")
                out[key] = _read_member(path, zf, info, key)
    except WeightsFileError:
        raise
    except _READ_ERRORS as e:
        raise WeightsFileError(path, f"is damaged or not a valid .npz archive ({_first_line(e)})") from None
    return out


def _read_member(path: str | os.PathLike, zf: zipfile.ZipFile, info: zipfile.ZipInfo,
                 key: str) -> np.ndarray:
    """One ``.npy`` member: header first, so an object dtype is refused before any unpickling."""
    fmt = np.lib.format
    with zf.open(info) as f:
        version = fmt.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(f)
        else:
            shape, _, dtype = fmt.read_array_header_2_0(f)
    if dtype.hasobject:
        raise WeightsFileError(path, f"{key} contains pickled data and is refused")
    if math.prod(shape) * dtype.itemsize > info.file_size:
        raise WeightsFileError(path, f"{key} is truncated")
    with zf.open(info) as f:
        return fmt.read_array(f, allow_pickle=False)


def _read_pt(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """A PyTorch state_dict via ``torch.load(weights_only=True)``, as NumPy arrays."""
    try:
        import torch
    except ImportError:
        raise WeightsFileError(path, "reading .pt files needs PyTorch; save the state_dict as "
                                     f".npz instead: {NPZ_ONE_LINER}") from None
    try:
        with warnings.catch_warnings():       # the reason goes into the error, not to stderr
            warnings.simplefilter("ignore")
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any failure inside torch.load is the file's fault
        raise WeightsFileError(path, _torch_load_failure(path, e)) from None
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping):
        raise WeightsFileError(path, f"holds a {type(obj).__name__}, not a state_dict "
                                     "(a mapping of names to tensors)")
    out: dict[str, np.ndarray] = {}
    for key, value in obj.items():
        if key == CLASSES:
            raise WeightsFileError(path, f"{CLASSES}: class names are read from .npz files "
                                         "only (a .pt file holds tensors); remove them, or save "
                                         "the weights as .npz with np.array of the names")
        if not isinstance(value, torch.Tensor):
            raise WeightsFileError(path, f"{key} is a {type(value).__name__}, not a tensor")
        if value.is_quantized:
            raise WeightsFileError(path, f"{key} is a quantized tensor; save "
                                         "tensor.dequantize() instead")
        if value.is_meta:
            raise WeightsFileError(path, f"{key} is a meta tensor, which holds no values")
        if value.layout != torch.strided:
            raise WeightsFileError(path, f"{key} is a {value.layout} tensor; save "
                                         "tensor.to_dense() instead")
        if value.is_complex() or value.dtype == torch.bool:
            raise WeightsFileError(path, f"{key} holds {value.dtype} values, not real numbers")
        try:
            out[str(key)] = value.detach().cpu().to(torch.float64).numpy()
        except Exception as e:  # noqa: BLE001 - any other tensor NumPy cannot take
            raise WeightsFileError(path, f"{key} cannot be read as plain numbers "
                                         f"({_first_line(e)})") from None
    return out


def _torch_load_failure(path: str | os.PathLike, e: BaseException) -> str:
    """Why ``torch.load(path, weights_only=True)`` failed, in one line, for people.

    PyTorch's own message is long, coloured with terminal escape codes, and
    suggests ``weights_only=False``, which the app never uses. A file whose
    pickle names PyTorch's layer classes or parameters (a state_dict holds
    plain tensors) is a whole pickled model; one that needs another Python
    class holds some other object; anything else gets the gist of PyTorch's
    reason. The pickle is only parsed (`_pickled_globals`), never run.
    """
    text = plain_text(str(e))
    match = _UNSUPPORTED_GLOBAL.search(text)
    culprit = match.group(1) if match else None
    names = _pickled_globals(path)
    if any(_is_module_global(g) for g in (culprit or "", *names)):
        model = culprit or names[0]
        return (f"holds a whole pickled model ({model}), not a state_dict; the app never "
                "unpickles Python objects, so it reads only tensors. Save the weights "
                f"instead: {SAVE_STATE_DICT}")
    if culprit is not None:
        return (f"holds a pickled Python object ({culprit}) besides tensors, which the app "
                f"never unpickles; save only the weights: {SAVE_STATE_DICT}")
    reason = text.split("WeightsUnpickler error:", 1)[-1]
    return (f"PyTorch could not read it as plain tensors ({_first_line(reason)}); "
            f"save the weights with {SAVE_STATE_DICT}")


def _is_module_global(name: str) -> bool:
    return (name.startswith(("torch.nn.modules.", "torch.nn.parameter."))
            or name == "torch._utils._rebuild_parameter")


def _pickled_globals(path: str | os.PathLike) -> list[str]:
    """The classes and functions a PyTorch file's pickle refers to, as ``module.name``.

    Reads the pickle of a zip-format file (``*/data.pkl``) or the first pickles
    of a legacy one with `pickletools.genops`, which parses opcodes and
    executes nothing. Gives up quietly (returning what it found) on anything odd.
    """
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                members = [i for i in zf.infolist() if i.filename.endswith("data.pkl")]
                if not members or members[0].file_size > _MAX_PICKLE_SCAN:
                    return []
                data = zf.read(members[0])
        else:
            with open(path, "rb") as f:
                data = f.read(_MAX_PICKLE_SCAN)
    except _READ_ERRORS:
        return []
    found: list[str] = []
    strings: list[str] = []
    stream = io.BytesIO(data)
    try:
        for _ in range(5):  # a legacy file is a few pickles in a row, then raw tensor data
            for op, arg, _pos in pickletools.genops(stream):
                if op.name in ("GLOBAL", "INST") and isinstance(arg, str):
                    found.append(arg.replace(" ", "."))
                elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                    found.append(f"{strings[-2]}.{strings[-1]}")
                elif isinstance(arg, str):
                    strings.append(arg)
    except Exception:  # noqa: BLE001 - the end of the pickles, or a damaged one
        pass
    return found


def plain_text(text: str) -> str:
    """``text`` without terminal escape sequences (colours, bold) or other control
    characters, so it can be shown in a message box or a log; tabs become spaces,
    line breaks stay."""
    text = _ANSI_ESCAPE.sub("", text).replace("\t", " ")
    return _CONTROL.sub("", text)


def _first_line(e: BaseException | str) -> str:
    """The first non-empty line of an exception's message (or of a text), plain and short."""
    lines = [ln.strip() for ln in plain_text(str(e)).splitlines() if ln.strip()]
    line = lines[0] if lines else ("no reason given" if isinstance(e, str) else type(e).__name__)
    return line if len(line) <= 160 else line[:157] + "..."


# --------------------------------------------------------------------------- saving


def save_weights(path: str | os.PathLike, net_or_params: Network | Params | Mapping[str, np.ndarray],
                 prefix: str = "") -> None:
    """Write weights as ``.npz`` (float64, PyTorch names), atomically.

    Parameters
    ----------
    path : str or PathLike
        Must end in ``.npz``.
    net_or_params : Network, Params or mapping
        A `Network` also writes its ``h0`` / ``c0`` when set, and the readout's
        class names as ``readout.classes`` (a unicode array) when it has them.
        A state_dict mapping (which may hold ``readout.classes`` too) is checked
        as `load_weights` would check it before anything is written.
    prefix : str
        Module prefix for the recurrent tensors, e.g. ``"lstm."`` (a missing
        final dot is added). The readout is always ``readout.weight`` / ``readout.bias``.

    Raises
    ------
    WeightsFileError
        Bad extension, prefix or data, or the file cannot be written; an
        existing file at ``path`` is then left as it was.
    """
    p = Path(path)
    if p.suffix.lower() != ".npz":
        raise WeightsFileError(path, "weights are saved as .npz; give a file name ending in .npz")
    if prefix and not prefix.endswith("."):
        prefix += "."
    if not _PREFIX.fullmatch(prefix):
        raise WeightsFileError(path, f"the prefix {prefix!r} is not a module name like 'lstm.'")
    net = _as_network(path, net_or_params)
    arrays = net.params.to_state_dict(prefix)
    names = net.params.class_names_array()
    if names is not None:
        arrays[CLASSES] = names
    for name in STATE_NAMES:
        state = getattr(net, name)
        if state is not None:
            arrays[name] = np.array(state, dtype=np.float64)
    try:
        atomic_write(p, lambda f: np.savez(f, **arrays))
    except OSError as e:
        raise WeightsFileError(path, f"cannot be written ({e.strerror or e})") from None


def _as_network(path: str | os.PathLike, obj: object) -> Network:
    if isinstance(obj, Network):
        return obj
    if isinstance(obj, Params):
        return Network(obj)
    if isinstance(obj, Mapping):
        try:
            sd = {k: v if k == CLASSES else _as_float64(path, k, np.asarray(v))
                  for k, v in obj.items()}
            return Network(Params.from_state_dict(sd), h0=sd.get("h0"), c0=sd.get("c0"))
        except WeightsFileError:
            raise
        except (WeightsError, ValueError, TypeError) as e:
            raise WeightsFileError(path, f"not saved: {e}") from None
    raise WeightsFileError(path, f"not saved: expected a Network, Params or state_dict, "
                                 f"got {type(obj).__name__}")


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Write through a temporary file in the target's folder, then rename it over ``path``.

    ``write(f)`` gets a binary file. On any failure the temporary file is
    removed and ``path`` is untouched; a reader never sees a half-written file.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
