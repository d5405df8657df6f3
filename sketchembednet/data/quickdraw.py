"""Quick, Draw! source files: sketch-rnn ``.npz`` and "simplified" ``.ndjson``.

Google publishes two per-class formats that hold the same drawings (Ha & Eck
2017, Sec. 3.1; github.com/googlecreativelab/quickdraw-dataset):

* ``sketchrnn/<class>.npz``: keys ``train``/``valid``/``test`` (70k/2.5k/2.5k),
  each a 1-D object array of int16 stroke-3 ``[L, 3]``. These are Python-2
  pickles. :func:`read_npz` never calls ``np.load(allow_pickle=True)``: it
  unpickles with ``safe_pickle.load``, which can only rebuild NumPy arrays,
  and only when the caller passes ``allow_pickle=True``
  (the builder does so for checksum-verified official files or on an explicit
  user opt-in; see ``tfds_builders/quickdraw/README.md``).
* ``full/simplified/<class>.ndjson``: one JSON drawing per line (``word``,
  ``key_id``, ``recognized``, ``drawing`` = ``[[xs], [ys]]`` per stroke), in a
  256-unit box and RDP-simplified with epsilon 2.0: exactly the input of the
  ``.npz`` files. :func:`read_simplified_ndjson` converts them to stroke-3.

Values outside a format's range are errors naming the file and line (ndjson) or
array element (npz), never dropped: they mean a corrupt file or another format
(e.g. a "raw" ndjson, whose coordinates are screen pixels), and one such value
would otherwise set the dataset's normalizing scale (one coordinate of 1e9 in
the 344-class sample moved it from 36.6 to 2.1 million). Simplified coordinates
must be numbers in ``SIMPLIFIED_RANGE`` (0..255: integers in Google's files);
npz offsets must be finite and fit int16, the files' dtype.

Class names with spaces are URL-encoded in download URLs (``%20``).

Example:
  >>> sketchrnn_url("The Eiffel Tower")
  'https://storage.googleapis.com/quickdraw_dataset/sketchrnn/The%20Eiffel%20Tower.npz'
  >>> split_of_key("5201136883597312")
  'train'
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
import urllib.parse
import zipfile
import zlib
from typing import Iterator

import numpy as np
from etils import epath

from sketchembednet.data import safe_pickle
from sketchembednet.data import strokes
from sketchembednet.data.errors import DataFileError

BUCKET = "https://storage.googleapis.com/quickdraw_dataset"
# TFDS split name -> key in the sketch-rnn .npz files.
NPZ_KEYS = {"train": "train", "validation": "valid", "test": "test"}
# ndjson files have no splits: sha256(key_id) % 100 below 90 -> train, below 95 ->
# validation, else test.
HASH_SPLITS = ((90, "train"), (95, "validation"), (100, "test"))
# Coordinates of the "simplified" ndjson: aligned to 0 and scaled to at most 255.
SIMPLIFIED_RANGE = (0, 255)
# Offsets of the sketch-rnn npz files: int16.
NPZ_RANGE = (int(np.iinfo(np.int16).min), int(np.iinfo(np.int16).max))

def sketchrnn_url(name: str) -> str:
    """URL of the official sketch-rnn ``.npz`` file of a class (spaces URL-encoded)."""
    return f"{BUCKET}/sketchrnn/{urllib.parse.quote(name)}.npz"


def simplified_url(name: str) -> str:
    """URL of the official "simplified" ``.ndjson`` file of a class."""
    return f"{BUCKET}/full/simplified/{urllib.parse.quote(name)}.ndjson"


def local_file_names(name: str, extension: str) -> list[str]:
    """Accepted names of a class's file in a folder: as is, or URL-encoded.

    Example:
      >>> local_file_names("paint can", ".ndjson")
      ['paint can.ndjson', 'paint%20can.ndjson']
    """
    names = [name + extension, urllib.parse.quote(name) + extension]
    return list(dict.fromkeys(names))


def split_of_key(key_id: str) -> str:
    """Deterministic split of an ndjson drawing: a hash of its ``key_id``."""
    bucket = int(hashlib.sha256(key_id.encode("utf-8")).hexdigest(), 16) % 100
    return next(split for limit, split in HASH_SPLITS if bucket < limit)


def sha256_of(path: epath.PathLike) -> str:
    """Hex sha256 of a file (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with epath.Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_member(archive: zipfile.ZipFile, member: str, allow_pickle: bool, name: str):
    """One ``.npy`` member of an ``.npz`` archive."""
    with archive.open(member) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        if not dtype.hasobject:
            return _read_plain(f, shape, fortran, dtype, name, member)
        if not allow_pickle:
            raise DataFileError(
                f"{name}: member {member} holds pickled Python objects; refusing to unpickle "
                "a file that is neither checksum-verified nor explicitly allowed")
        array = safe_pickle.load(f, encoding="latin1")
    if not isinstance(array, np.ndarray) or array.shape != tuple(shape):
        raise DataFileError(f"{name}: member {member} does not hold a {shape} array")
    return array


def _read_plain(f, shape, fortran, dtype, name, member) -> np.ndarray:
    """The data of a non-object ``.npy`` member whose header was read."""
    count = int(np.prod(shape, dtype=np.int64))
    data = f.read(count * dtype.itemsize)
    if len(data) != count * dtype.itemsize:
        raise DataFileError(f"{name}: member {member} is truncated")
    array = np.frombuffer(data, dtype=dtype, count=count)
    return array.reshape(shape, order="F" if fortran else "C")


def read_npz(path: epath.PathLike, allow_pickle: bool = False) -> dict[str, np.ndarray]:
    """Reads every array of an ``.npz`` file without ``np.load``.

    Args:
      path: the ``.npz`` file.
      allow_pickle: allow object arrays, rebuilt by an unpickler that only
        accepts NumPy arrays and dtypes (Python-2 pickles: latin-1 strings).

    Returns:
      ``{key: array}`` with keys without the ``.npy`` suffix.

    Raises:
      DataFileError: naming the file, if it is not a readable ``.npz`` archive
        (corrupt, truncated), or holds objects and ``allow_pickle`` is False.
    """
    name = str(path)
    try:
        with epath.Path(path).open("rb") as raw:
            with zipfile.ZipFile(raw) as archive:
                return {
                    member.removesuffix(".npy"): _read_member(archive, member, allow_pickle, name)
                    for member in archive.namelist()
                }
    except DataFileError:
        raise
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, pickle.UnpicklingError,
            KeyError, TypeError, AttributeError, IndexError, zlib.error) as e:
        kind = "zlib.error" if isinstance(e, zlib.error) else type(e).__name__
        raise DataFileError(f"{name}: not a readable .npz file ({kind}: {e})") from e


def empty_file_reason(path: epath.PathLike, source_format: str) -> str | None:
    """Why a class file holds no drawing at all, or None if it has content.

    ``"0 bytes"``, or for ndjson ``"only blank lines"`` (reading stops at the
    first non-blank line, the first line of a real file).

    Example:
      >>> import tempfile, os
      >>> path = os.path.join(tempfile.mkdtemp(), "cat.ndjson")
      >>> _ = open(path, "w").write("\\n  \\n")
      >>> empty_file_reason(path, "ndjson")
      'only blank lines'
    """
    path = epath.Path(path)
    if path.stat().length == 0:
        return "0 bytes"
    if source_format == "ndjson":
        with path.open("rb") as f:
            if not any(line.strip() for line in f):
                return "only blank lines"
    return None


def npz_sketches(arrays: dict, split: str, name: str) -> list[np.ndarray]:
    """The stroke-3 sketches of one split of a sketch-rnn ``.npz`` (float32).

    Args:
      arrays: the result of :func:`read_npz`.
      split: ``train``, ``validation`` or ``test``.
      name: the file name, for error messages.

    Returns:
      a list of float32 ``[L, 3]`` arrays; ``L`` may be 0 (callers drop those).

    Raises:
      DataFileError: if the key is missing, an element is not ``[L, 3]``, or an
        offset is not finite or outside ``NPZ_RANGE`` (int16, the files' dtype).
      strokes.StrokeFormatError: for a bad pen column.
    """
    key = NPZ_KEYS[split]
    if key not in arrays:
        raise DataFileError(f"{name}: no '{key}' array (keys: {sorted(arrays)})")
    low, high = NPZ_RANGE
    out = []
    for i, sketch in enumerate(arrays[key]):
        arr = np.asarray(sketch)
        if arr.ndim != 2 or arr.shape[1] != 3 or not np.issubdtype(arr.dtype, np.number) \
                or np.iscomplexobj(arr):
            raise DataFileError(f"{name}: {key}[{i}] is not a numeric [L, 3] array")
        if not np.can_cast(arr.dtype, np.int16):  # int16 files need no check.
            xy = arr[:, :2].astype(np.float64)
            bad = ~((xy >= low) & (xy <= high))  # NaN is bad too.
            if bad.any():
                row, col = (int(v) for v in np.argwhere(bad)[0])
                value = xy[row, col]
                what = "is not finite" if not np.isfinite(value) else (
                    f"is outside {low}..{high}, the int16 range of the sketch-rnn files")
                raise DataFileError(f"{name}: {key}[{i}] row {row}: {'dx dy'.split()[col]} "
                                    f"{value:g} {what}")
        out.append(arr.astype(np.float32) if not len(arr) else
                   strokes.validate_stroke3(arr, f"{name}: {key}[{i}]"))
    return out


@dataclasses.dataclass(frozen=True)
class SimplifiedDrawing:
    """One drawing of a "simplified" ndjson file.

    Attributes:
      key_id: Google's id of the drawing (a decimal string).
      stroke3: float32 ``[L, 3]``, or None for a drawing of fewer than 2 points.
      recognized: whether the game recognised the drawing.
    """

    key_id: str
    stroke3: np.ndarray | None
    recognized: bool


def _check_simplified_values(values, what: str, name: str) -> None:
    """Raises DataFileError unless ``values`` is a list of numbers in ``SIMPLIFIED_RANGE``."""
    low, high = SIMPLIFIED_RANGE
    if not isinstance(values, list):
        raise DataFileError(f"{name}: {what} must be a list of numbers, "
                            f"got {type(values).__name__}")
    try:
        arr = np.asarray(values)
        numeric = arr.ndim == 1 and arr.dtype.kind in "iuf"
    except (ValueError, OverflowError):  # Nested lists of different lengths.
        numeric = False
    if not numeric or any(isinstance(v, bool) for v in values):  # JSON true is not 1.
        bad = next((v for v in values if isinstance(v, bool) or not isinstance(v, (int, float))
                    or (isinstance(v, int) and not low <= v <= high)), values)
        if isinstance(bad, int) and not isinstance(bad, bool):  # Beyond int64.
            raise DataFileError(f"{name}: {what} value {bad} is outside {low}..{high}, the "
                                "range of the simplified format (a raw or corrupt file?)")
        raise DataFileError(f"{name}: {what} value {bad!r} is not a number")
    arr = arr.astype(np.float64)
    bad = ~((arr >= low) & (arr <= high))  # NaN is bad too.
    if bad.any():
        value = values[int(np.argmax(bad))]
        if not np.isfinite(float(value)):
            raise DataFileError(f"{name}: {what} value {value} is not finite")
        raise DataFileError(f"{name}: {what} value {value} is outside {low}..{high}, the "
                            "range of the simplified format (a raw or corrupt file?)")


def simplified_polylines(drawing, name: str) -> list[np.ndarray]:
    """The polylines of a simplified ``drawing``, checked against the format.

    Every x and y must be a number in ``SIMPLIFIED_RANGE`` (0..255).

    Example:
      >>> [line.tolist() for line in simplified_polylines([[[0, 9], [0, 255]]], "cat.ndjson:3")]
      [[[0.0, 0.0], [9.0, 255.0]]]

    Raises:
      DataFileError: naming ``name`` for a value that is not a number, not finite
        or out of range.
      strokes.StrokeFormatError: for a malformed stroke (lengths, nesting).
    """
    if isinstance(drawing, list):
        for i, stroke in enumerate(drawing):
            if isinstance(stroke, list):
                for axis, values in zip("xy", stroke[:2]):
                    _check_simplified_values(values, f"stroke {i} {axis}", name)
    return strokes.quickdraw_to_polylines(drawing, name)


def parse_simplified_line(line: str, name: str, word: str | None = None) -> SimplifiedDrawing:
    """Parses one ndjson line (``name`` is ``file:line`` for error messages).

    Raises:
      DataFileError: for invalid JSON, missing keys, a ``word`` other than
        ``word``, or a coordinate that is not a number in 0..255.
      strokes.StrokeFormatError: for a malformed ``drawing``.
    """
    try:
        record = json.loads(line)
        key_id, drawing = str(record["key_id"]), record["drawing"]
    except json.JSONDecodeError as e:
        raise DataFileError(f"{name}: invalid JSON ({e}); is the file truncated?") from e
    except (KeyError, TypeError) as e:
        raise DataFileError(f"{name}: not a Quickdraw drawing (missing {e})") from e
    if word is not None and record.get("word") != word:
        raise DataFileError(f"{name}: drawing of {record.get('word')!r} in the file of {word!r}")
    lines = simplified_polylines(drawing, name)
    if sum(len(line) for line in lines) < 2:
        return SimplifiedDrawing(key_id, None, bool(record.get("recognized", True)))
    return SimplifiedDrawing(key_id, strokes.polylines_to_stroke3(lines, name),
                             bool(record.get("recognized", True)))


def read_simplified_ndjson(path: epath.PathLike, word: str | None = None
                           ) -> Iterator[SimplifiedDrawing]:
    """Yields the drawings of a "simplified" ndjson file, in file order.

    Args:
      path: the ``.ndjson`` file.
      word: if given, every drawing's ``word`` must equal it.

    Raises:
      DataFileError / strokes.StrokeFormatError: naming ``file:line``.
    """
    with epath.Path(path).open("r", encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if line.strip():
                yield parse_simplified_line(line, f"{path}:{number}", word)


def check_splits(splits) -> set[str] | None:
    """``splits`` (one name or several) as a set of ``HASH_SPLITS`` names; None stays None.

    Raises ValueError for a name that is not ``train``, ``validation`` or ``test``.

    Example:
      >>> sorted(check_splits(["test", "validation"])), check_splits("train"), check_splits(None)
      (['test', 'validation'], {'train'}, None)
    """
    if splits is None:
        return None
    splits = {splits} if isinstance(splits, str) else set(splits)
    unknown = splits - {name for _, name in HASH_SPLITS}
    if unknown:
        raise ValueError(f"unknown splits {sorted(unknown)}; use train, validation, test")
    return splits


@dataclasses.dataclass
class UsableDrawings:
    """The kept stroke-3 drawings (float32 ``[L, 3]``, file order) of a simplified ndjson
    file, and how many were dropped for each reason (:func:`read_usable_simplified`)."""

    stroke3: list
    degenerate: int = 0  # Fewer than 2 points.
    unrecognized: int = 0  # Not recognised by the game (with recognized_only).
    too_long: int = 0  # More than max_len stroke-3 rows.


def read_usable_simplified(path: epath.PathLike, *, word: str | None = None, splits=None,
                           max_len: int | None = None, recognized_only: bool = False,
                           limit: int | None = None) -> UsableDrawings:
    """The usable stroke-3 drawings of a "simplified" ndjson file, in file order.

    Drawings outside ``splits`` (None: all; names of :func:`check_splits`, by
    :func:`split_of_key`) are skipped uncounted; of the others, those of fewer than
    2 points, unrecognised ones (with ``recognized_only``) and those longer than
    ``max_len`` (None: any) stroke-3 rows are dropped and counted. Reading stops
    after ``limit`` (None: no limit) kept drawings. With ``word``, every drawing's
    ``word`` must equal it.

    Raises:
      DataFileError / strokes.StrokeFormatError: naming ``file:line``;
      ValueError: for an unknown split name.

    Example:
      >>> usable = read_usable_simplified("cat.ndjson", max_len=64)  # doctest: +SKIP
      >>> len(usable.stroke3), usable.too_long, usable.degenerate  # doctest: +SKIP
      (120, 3, 0)
    """
    splits = check_splits(splits)
    out = UsableDrawings([])
    if limit is not None and limit <= 0:
        return out
    for drawing in read_simplified_ndjson(path, word=word):
        if splits is not None and split_of_key(drawing.key_id) not in splits:
            continue
        if drawing.stroke3 is None:
            out.degenerate += 1
        elif recognized_only and not drawing.recognized:
            out.unrecognized += 1
        elif max_len is not None and len(drawing.stroke3) > max_len:
            out.too_long += 1
        else:
            out.stroke3.append(drawing.stroke3)
            if limit is not None and len(out.stroke3) >= limit:
                break
    return out


def read_simplified_folder(folder: epath.PathLike, classes=None,
                           max_per_class: int | None = None,
                           recognized_only: bool = False) -> dict[str, list[np.ndarray]]:
    """Usable drawings of a folder of Google "simplified" ndjson files ``<class>.ndjson``.

    Args:
      folder: the folder (e.g. ``$SKETCHEMBEDNET_SHARED_DATA/quickdraw/simplified_345cls_25each``).
      classes: class names (file names without ``.ndjson``); None: every file, sorted.
      max_per_class: keep at most this many drawings per class (in file order).
      recognized_only: keep only drawings the game recognised.

    Returns:
      ``{class: [stroke-3 float32 [L, 3], ...]}`` in the order of ``classes``;
      drawings of fewer than two points are skipped.

    Raises:
      FileNotFoundError: naming the folder and every class without a file.
      ValueError: if a class has no usable drawing.

    Example:
      >>> read_simplified_folder("/nonexistent", ["circle"])  # doctest: +ELLIPSIS
      Traceback (most recent call last):
      ...
      FileNotFoundError: /nonexistent: no Quickdraw file for class 'circle' (expected ...)
    """
    folder = epath.Path(folder)
    if classes is None:
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: not a folder of Quickdraw <class>.ndjson files")
        classes = sorted(p.name[: -len(".ndjson")] for p in folder.glob("*.ndjson"))
    classes = list(classes)
    missing = [c for c in classes if not (folder / f"{c}.ndjson").is_file()]
    if missing:
        raise FileNotFoundError(
            f"{folder}: no Quickdraw file for class{'es' if len(missing) > 1 else ''} "
            f"{', '.join(repr(c) for c in missing)} (expected {folder / (missing[0] + '.ndjson')})")
    out = {}
    for name in classes:
        path = folder / f"{name}.ndjson"
        out[name] = read_usable_simplified(path, recognized_only=recognized_only,
                                           limit=max_per_class).stroke3
        if not out[name]:
            raise ValueError(f"{path}: no usable drawing")
    return out


def count_simplified_drawings(path: epath.PathLike) -> int:
    """The number of drawings of a "simplified" ndjson file: its non-blank lines (unparsed)."""
    with epath.Path(path).open("rb") as f:
        return sum(1 for line in f if line.strip())


def offset_moments(stroke3_list) -> np.ndarray:
    """``[count, sum, sum of squares]`` (float64) of all dx and dy offsets.

    Sum the results of several calls, then :func:`scale_from_moments`: the same
    number as ``strokes.normalizing_scale`` without holding every sketch.
    """
    out = np.zeros(3, np.float64)
    with np.errstate(over="ignore"):  # scale_from_moments reports an overflow.
        for s in stroke3_list:
            xy = np.asarray(s, np.float64)[:, :2]
            out += (xy.size, xy.sum(), np.square(xy).sum())
    return out


def scale_from_moments(moments: np.ndarray) -> float:
    """The population std of the offsets summarised by :func:`offset_moments`.

    The std, as sketch-rnn computes it (trained models depend on its value). The
    parsers' range checks bound what one drawing can add: e.g. one extreme but
    valid Quickdraw drawing (64 offsets of 255) moves the scale of the
    344-class sample by under 1% (``tests/reliability/data_test.py``).

    Raises:
      strokes.StrokeFormatError: if there are no offsets, the moments are not
        finite (offsets far outside any source format's range), or the std is zero.
    """
    count, total, total_sq = (float(v) for v in moments)
    if count == 0:
        raise strokes.StrokeFormatError("cannot compute a normalizing scale of zero drawings")
    if not np.all(np.isfinite([total, total_sq])):
        raise strokes.StrokeFormatError(
            f"cannot compute a normalizing scale: the offsets' sum of squares is {total_sq} "
            "(offsets far outside the source format's range)")
    variance = max(total_sq / count - (total / count) ** 2, 0.0)
    scale = float(np.sqrt(variance))
    if not np.isfinite(scale) or scale <= 0:
        raise strokes.StrokeFormatError(f"normalizing scale must be positive, got {scale}")
    return scale
