"""Model files that cannot hurt: bounded reads, files kept inside the model directory, hashes
checked before LightGBM sees a byte, a small schema checker for the manifests, and the model
directory written whole.

A model directory (``--models DIR``) is user input. Everything read from it goes through here:

- a manifest is read only when it is a regular file of at most :data:`MAX_MANIFEST_BYTES`
  (a FIFO or ``/dev/zero`` is refused without being read), parsed as JSON nested at most
  :data:`MAX_JSON_DEPTH` deep, and checked field by field against its schema (:class:`Object`,
  :class:`Vector`, ...): type, shape and range, once, in one place; any failure is one
  :class:`InputError` line naming the file and the field;
- a model file named by a manifest must be a plain file name (no directory part, so no
  absolute path and no ``..``), resolve inside the directory (a link pointing out is refused),
  be a regular file of at most :data:`MAX_MODEL_FILE_BYTES`, and have the size and sha256 the
  manifest's ``files`` table gives, all before its text reaches LightGBM (a truncated LightGBM
  file aborts the process inside LightGBM's C++ code, so it must never get there);
  :func:`check_lightgbm_text` then checks the text's tree table is whole, which also guards
  files migrated from the first format (which held no hashes);
- ``meta train`` checks its output directory before training (:func:`check_output_directory`)
  and writes the whole directory into a temporary sibling that is then swapped in
  (:func:`write_model_directory`), so a kill never leaves a directory mixing two trainings.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

import numpy as np

from transferability.utils.validation import InputError

__all__ = [
    "MAX_MANIFEST_BYTES", "MAX_MODEL_FILE_BYTES", "MAX_JSON_DEPTH", "MANIFESTS", "FILE_NAME",
    "SchemaError", "Number", "Integer", "String", "Boolean", "Const", "Vector", "Matrix", "Array", "Object",
    "MapOf", "Switch", "Info", "validate", "read_bounded", "read_json", "file_entry", "read_model_file",
    "FILE_ENTRY", "inside", "check_lightgbm_text", "remember_store_hash", "check_same_store", "is_model_file",
    "check_output_directory", "write_model_directory", "models_dir", "shipped_records_hash", "FORMAT_VERSION",
    "METATRANS_FORMAT", "EASYTRANS_FORMAT", "SHIPPABLE", "distance_schema", "metatrans_schema", "easytrans_schema", "read_manifest",
    "manifest_text", "migrate_models",
]

MAX_MANIFEST_BYTES = 256 * 2**20
"""Largest manifest read (256 MiB; the shipped ones are under 3 MB for 851 training pairs)."""
MAX_MODEL_FILE_BYTES = 64 * 2**20
"""Largest LightGBM model file read (64 MiB; the shipped ones are under 320 kB)."""
MAX_JSON_DEPTH = 32
"""Deepest nesting of JSON arrays and objects in a manifest (the shipped ones nest 8 deep)."""
MANIFESTS = ("metatrans.json", "easytrans.json")
"""The two learners' manifests, which may share a model directory (then trained on one store)."""
_MODEL_FILE = re.compile(r"(metatrans|easytrans)-[A-Za-z0-9._-]+\.txt")
FILE_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]*"


# -- the schema checker ---------------------------------------------------------------------------
class SchemaError(Exception):
    """A field that breaks its schema: ``path`` (keys and indices) and what is wrong."""

    def __init__(self, path, problem):
        super().__init__(problem)
        self.path, self.problem = tuple(path), problem


def _where(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(the top level)"


def _got(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the string {value[:40]!r}" + ("..." if len(value) > 40 else "")
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return repr(value)


_NUMBER_TYPES = {int, float}


def _is_number(v) -> bool:
    return type(v) is float or type(v) is int  # noqa: E721 - bool (a subclass of int) is not a number here


class Spec:
    """A schema node; ``null=True`` also accepts JSON null."""

    null = False

    def check(self, value, path):
        if value is None:
            if not self.null:
                raise SchemaError(path, f"must be {self.describe()}, got null")
            return
        self._check(value, path)

    def describe(self) -> str:  # pragma: no cover - every spec says what it is
        raise NotImplementedError

    def _check(self, value, path):  # pragma: no cover
        raise NotImplementedError


def _range_text(lo, hi, lo_open, hi_open):
    parts = []
    if lo is not None:
        parts.append(f"{'>' if lo_open else '>='} {lo:g}")
    if hi is not None:
        parts.append(f"{'<' if hi_open else '<='} {hi:g}")
    return " and ".join(parts)


def _in_range(x, lo, hi, lo_open, hi_open) -> bool:
    return ((lo is None or (x > lo if lo_open else x >= lo))
            and (hi is None or (x < hi if hi_open else x <= hi)))


class Number(Spec):
    """A finite JSON number (not a boolean) in an optional range."""

    def __init__(self, lo=None, hi=None, *, lo_open=False, hi_open=False, null=False):
        self.lo, self.hi, self.lo_open, self.hi_open, self.null = lo, hi, lo_open, hi_open, null

    def describe(self):
        r = _range_text(self.lo, self.hi, self.lo_open, self.hi_open)
        return "a finite number" + (f" {r}" if r else "") + (" or null" if self.null else "")

    def _check(self, value, path):
        if not _is_number(value) or not math.isfinite(value) or not _in_range(
                value, self.lo, self.hi, self.lo_open, self.hi_open):
            raise SchemaError(path, f"must be {self.describe()}, got {_got(value)}")


class Integer(Spec):
    """A JSON integer (not a boolean, not 3.0) in an optional range."""

    def __init__(self, lo=None, hi=None, *, null=False):
        self.lo, self.hi, self.null = lo, hi, null

    def describe(self):
        r = _range_text(self.lo, self.hi, False, False)
        return "an integer" + (f" {r}" if r else "") + (" or null" if self.null else "")

    def _check(self, value, path):
        if type(value) is not int or not _in_range(value, self.lo, self.hi, False, False):
            raise SchemaError(path, f"must be {self.describe()}, got {_got(value)}")


class String(Spec):
    """A JSON string, optionally one of ``choices`` or matching ``pattern`` (whole string)."""

    def __init__(self, choices=None, *, pattern=None, null=False):
        self.choices = None if choices is None else tuple(choices)
        self.pattern = None if pattern is None else re.compile(pattern)
        self.null = null

    def describe(self):
        if self.choices is not None:
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        elif self.pattern is not None:
            text = f"a string matching {self.pattern.pattern}"
        else:
            text = "a string"
        return text + (" or null" if self.null else "")

    def _check(self, value, path):
        ok = isinstance(value, str) and (self.choices is None or value in self.choices) and (
            self.pattern is None or self.pattern.fullmatch(value) is not None)
        if not ok:
            raise SchemaError(path, f"must be {self.describe()}, got {_got(value)}")


FILE_NAME = String(pattern=FILE_NAME_PATTERN)
"""A model file's name: a plain name in the model directory (no ``/``, no ``..``, not absolute)."""


class Boolean(Spec):
    def __init__(self, *, null=False):
        self.null = null

    def describe(self):
        return "true or false" + (" or null" if self.null else "")

    def _check(self, value, path):
        if not isinstance(value, bool):
            raise SchemaError(path, f"must be {self.describe()}, got {_got(value)}")


class Const(Spec):
    """Exactly ``value`` (same JSON type)."""

    def __init__(self, value, *, what=None):
        self.value, self.what = value, what

    def describe(self):
        return self.what or json.dumps(self.value)[:80]

    def check(self, value, path):
        if type(value) is not type(self.value) or value != self.value:
            raise SchemaError(path, f"must be {self.describe()}, got {_got(value)}")


class Vector(Spec):
    """A list of finite numbers: ``length`` (exact) or at least ``min_len``, each in a range,
    optionally non-decreasing."""

    def __init__(self, *, length=None, min_len=0, lo=None, hi=None, lo_open=False, hi_open=False,
                 nondecreasing=False, null=False):
        self.length, self.min_len = length, min_len
        self.lo, self.hi, self.lo_open, self.hi_open = lo, hi, lo_open, hi_open
        self.nondecreasing, self.null = nondecreasing, null

    def describe(self):
        n = f"{self.length} " if self.length is not None else (f"at least {self.min_len} " if self.min_len else "")
        r = _range_text(self.lo, self.hi, self.lo_open, self.hi_open)
        return (f"a list of {n}finite numbers" + (f" {r}" if r else "")
                + (", non-decreasing" if self.nondecreasing else "") + (" or null" if self.null else ""))

    def _check(self, value, path):
        if not isinstance(value, list):
            raise SchemaError(path, f"must be {self.describe()}, got {_got(value)}")
        if (self.length is not None and len(value) != self.length) or len(value) < self.min_len:
            raise SchemaError(path, f"must be {self.describe()}, got {_got(value)}")
        if not set(map(type, value)) <= _NUMBER_TYPES:  # one C pass; bool is not a number here
            i = next(i for i, v in enumerate(value) if not _is_number(v))
            raise SchemaError((*path, i), f"must be a finite number, got {_got(value[i])}")
        a = np.asarray(value, dtype=np.float64)
        bad = ~np.isfinite(a)
        if self.lo is not None:
            bad |= (a <= self.lo) if self.lo_open else (a < self.lo)
        if self.hi is not None:
            bad |= (a >= self.hi) if self.hi_open else (a > self.hi)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            r = _range_text(self.lo, self.hi, self.lo_open, self.hi_open)
            raise SchemaError((*path, i), f"must be a finite number{' ' + r if r else ''}, got {_got(value[i])}")
        if self.nondecreasing and len(a) > 1 and np.any(np.diff(a) < 0):
            i = int(np.flatnonzero(np.diff(a) < 0)[0]) + 1
            raise SchemaError((*path, i), f"must not be below the value before it ({a[i - 1]!r}), got {a[i]!r}")


class Matrix(Spec):
    """A list of ``n_rows`` (or at least ``min_rows``) lists of ``n_cols`` finite numbers."""

    def __init__(self, *, n_cols, n_rows=None, min_rows=0):
        self.row = Vector(length=n_cols)
        self.n_cols, self.n_rows, self.min_rows = n_cols, n_rows, min_rows

    def describe(self):
        rows = f"{self.n_rows}" if self.n_rows is not None else f"at least {self.min_rows}"
        return f"a list of {rows} rows of {self.n_cols} finite numbers"

    def _check(self, value, path):
        if not isinstance(value, list) or (self.n_rows is not None and len(value) != self.n_rows) \
                or len(value) < self.min_rows:
            raise SchemaError(path, f"must be {self.describe()}, got {_got(value)}")
        for i, row in enumerate(value):
            self.row.check(row, (*path, i))


class Array(Spec):
    """A list of items of one spec: ``length`` (exact) or ``min_len``..``max_len``, optionally
    unique or (numbers) increasing."""

    def __init__(self, item, *, length=None, min_len=0, max_len=None, unique=False, increasing=False, null=False):
        self.item, self.length, self.min_len, self.max_len = item, length, min_len, max_len
        self.unique, self.increasing, self.null = unique, increasing, null

    def describe(self):
        if self.length is not None:
            n = f"{self.length} "
        elif self.max_len is not None:
            n = f"{self.min_len} to {self.max_len} "
        else:
            n = f"at least {self.min_len} " if self.min_len else ""
        return f"a list of {n}{'distinct ' if self.unique else ''}items" + (" or null" if self.null else "")

    def _check(self, value, path):
        if not isinstance(value, list) or (self.length is not None and len(value) != self.length) \
                or len(value) < self.min_len or (self.max_len is not None and len(value) > self.max_len):
            raise SchemaError(path, f"must be {self.describe()}, got {_got(value)}")
        for i, v in enumerate(value):
            self.item.check(v, (*path, i))
        if self.unique and len(set(map(json.dumps, value))) != len(value):
            raise SchemaError(path, "must not repeat an item")
        if self.increasing and any(b <= a for a, b in zip(value, value[1:])):
            raise SchemaError(path, f"must be increasing, got {json.dumps(value)[:80]}")


class Object(Spec):
    """A JSON object with exactly these fields (``optional`` ones may be absent).

    A field's spec may be a callable taking the object (its earlier fields already checked) and
    returning the spec, for shapes that depend on other fields. ``checks`` are callables taking
    the checked object and returning ``(relative path, problem)`` or None: cross-field rules
    (lower <= upper, a file named in the file table, ...).
    """

    def __init__(self, fields: dict, *, optional=(), checks=(), null=False):
        self.fields, self.optional, self.checks, self.null = dict(fields), set(optional), tuple(checks), null

    def describe(self):
        return "an object" + (" or null" if self.null else "")

    def _check(self, value, path):
        if not isinstance(value, dict):
            raise SchemaError(path, f"must be {self.describe()}, got {_got(value)}")
        for name, spec in self.fields.items():
            if name not in value:
                if name in self.optional:
                    continue
                raise SchemaError((*path, name), "is missing")
            spec = spec(value) if callable(spec) and not isinstance(spec, Spec) else spec
            spec.check(value[name], (*path, name))
        extra = sorted(set(value) - set(self.fields))
        if extra:
            raise SchemaError((*path, extra[0]), "is not a field of this format")
        for rule in self.checks:
            problem = rule(value)
            if problem is not None:
                sub, text = problem
                raise SchemaError((*path, *sub), text)


class MapOf(Spec):
    """A JSON object of any keys (matching ``key_pattern``) to values of one spec."""

    def __init__(self, value, *, key_pattern=None, min_len=0, keys=None, null=False):
        self.value, self.min_len, self.null = value, min_len, null
        self.key_pattern = None if key_pattern is None else re.compile(key_pattern)
        self.keys = keys  # a callable giving the exact set of keys, or None

    def describe(self):
        return "an object" + (f" of at least {self.min_len} entries" if self.min_len else "") + (
            " or null" if self.null else "")

    def _check(self, value, path):
        if not isinstance(value, dict) or len(value) < self.min_len:
            raise SchemaError(path, f"must be {self.describe()}, got {_got(value)}")
        for k, v in value.items():
            if self.key_pattern is not None and not self.key_pattern.fullmatch(k):
                raise SchemaError((*path, k), f"is not a valid key (must match {self.key_pattern.pattern})")
            spec = self.value(k) if callable(self.value) and not isinstance(self.value, Spec) else self.value
            spec.check(v, (*path, k))


class Switch(Spec):
    """An object whose ``key`` field chooses its spec among ``cases``."""

    def __init__(self, key, cases: dict, *, null=False):
        self.key, self.cases, self.null = key, dict(cases), null

    def describe(self):
        return f"an object with {self.key} one of {', '.join(map(repr, self.cases))}"

    def _check(self, value, path):
        if not isinstance(value, dict) or value.get(self.key) not in self.cases or not isinstance(value[self.key], str):
            got = _got(value.get(self.key)) if isinstance(value, dict) else _got(value)
            raise SchemaError((*path, self.key) if isinstance(value, dict) else path,
                              f"must be one of {', '.join(map(repr, self.cases))}, got {got}")
        self.cases[value[self.key]].check(value, path)


class Info(Spec):
    """Free-form figures kept for the reader (held-out metrics, the selection's reasons): any
    JSON of numbers, strings, booleans and nulls nested at most :data:`MAX_JSON_DEPTH` deep,
    numbers finite. Nothing the models compute with is read from an ``Info`` field."""

    def __init__(self, *, null=True):
        self.null = null

    def describe(self):
        return "figures (numbers, strings, lists, objects)"

    def _check(self, value, path):
        stack = [(value, tuple(path), 0)]
        while stack:
            v, p, depth = stack.pop()
            if depth > MAX_JSON_DEPTH:
                raise SchemaError(p, f"is nested deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(v, dict):
                stack.extend((x, (*p, k), depth + 1) for k, x in v.items())
            elif isinstance(v, list):
                stack.extend((x, (*p, i), depth + 1) for i, x in enumerate(v))
            elif type(v) is float and not math.isfinite(v):
                raise SchemaError(p, f"must be a finite number or null, got {v!r}")


def validate(value, spec: Spec, where) -> None:
    """Check ``value`` against ``spec``; a failure is one :class:`InputError` line
    ``WHERE: field PATH PROBLEM``."""
    try:
        spec.check(value, ())
    except SchemaError as exc:
        raise InputError(f"{where}: field {_where(exc.path)} {exc.problem}") from None


# -- reading files --------------------------------------------------------------------------------
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _kind(mode) -> str:
    return next((k for test, k in _KINDS if test(mode)), "not a plain file")


def _mib(n) -> str:
    return f"{n / 2**20:g} MiB"


def read_bounded(path, *, max_bytes: int, what: str, field: str | None = None) -> bytes:
    """The bytes of the regular file ``path`` (at most ``max_bytes``), or one :class:`InputError`.

    The file is opened non-blocking and checked on its descriptor (``fstat``), so a FIFO, a
    device such as ``/dev/zero`` or a directory is refused without a read that would block or
    never end, even when it replaced a regular file after an earlier check."""
    pre = f"{field}: " if field else ""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{pre}{what} {path} is missing") from None
    except OSError as exc:
        raise InputError(f"{pre}cannot read {what} {path} ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{pre}{what} {path} is not a regular file ({_kind(st.st_mode)})")
        if st.st_size > max_bytes:
            raise InputError(f"{pre}{what} {path} is {st.st_size} bytes, above the {_mib(max_bytes)} a {what} "
                             "may have")
        chunks, n = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - n))
            if not chunk:
                break
            chunks.append(chunk)
            n += len(chunk)
            if n > max_bytes:
                raise InputError(f"{pre}{what} {path} grew above the {_mib(max_bytes)} a {what} may have")
        return b"".join(chunks)
    except OSError as exc:
        raise InputError(f"{pre}cannot read {what} {path} ({exc.strerror or exc})") from None
    finally:
        os.close(fd)


def read_json(path, *, what="manifest", max_bytes=None):
    """Parse the JSON file ``path`` (bounded, regular, UTF-8, nested at most
    :data:`MAX_JSON_DEPTH` deep in what the schema leaves free); one :class:`InputError` line
    on any failure."""
    data = read_bounded(path, max_bytes=MAX_MANIFEST_BYTES if max_bytes is None else max_bytes, what=what)
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot read {what} {path}: not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise InputError(f"cannot read {what} {path}: JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"cannot read {what} {path}: {str(exc).splitlines()[0]}") from None


def file_entry(text: str) -> dict:
    """The ``files`` table entry of a model file's text: its sha256 and size in bytes."""
    data = text.encode("utf-8")
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


FILE_ENTRY = Object({"sha256": String(pattern=r"[0-9a-f]{64}"), "size": Integer(lo=1, hi=MAX_MODEL_FILE_BYTES)})
"""Schema of one ``files`` entry."""


def inside(directory, name: str, *, where: str) -> Path:
    """``directory / name`` when it resolves inside ``directory`` (links followed), else one
    :class:`InputError` line."""
    if not isinstance(name, str) or not re.fullmatch(FILE_NAME_PATTERN, name):
        raise InputError(f"{where}: {name!r} is not a plain file name in the model directory")
    root = os.path.realpath(directory)
    real = os.path.realpath(os.path.join(directory, name))
    if os.path.commonpath([root, real]) != root or real == root:
        raise InputError(f"{where}: {os.path.join(directory, name)} is a link to {real}, outside the model "
                         f"directory {root}")
    return Path(directory) / name


def read_model_file(directory, name: str, entry: dict, *, where: str) -> str:
    """The text of model file ``name`` of ``directory`` after every check: inside the
    directory, a regular file, at most :data:`MAX_MODEL_FILE_BYTES`, the manifest's size and
    sha256 (``entry``), UTF-8. ``where`` names the manifest field in the messages."""
    path = inside(directory, name, where=where)
    data = read_bounded(path, max_bytes=MAX_MODEL_FILE_BYTES, what="model file", field=where)
    fix = "restore it or retrain with `transferability meta train`"
    if len(data) != entry["size"]:
        raise InputError(f"{where}: model file {path} is {len(data)} bytes, the manifest says {entry['size']} "
                         f"(truncated or changed since it was written); {fix}")
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise InputError(f"{where}: model file {path} does not match its sha256 in the manifest (changed since "
                         f"it was written); {fix}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{where}: model file {path} is not UTF-8 text") from None


def check_lightgbm_text(text: str):
    """None when ``text`` is a whole LightGBM model text (``Booster.model_to_string``): the
    ``tree`` header, a ``tree_sizes`` table, and exactly those trees, byte for byte, before
    ``end of trees``; else what is wrong. LightGBM itself aborts the process on a model whose
    trees are cut short, so this runs before any text reaches it."""
    if not text.startswith("tree\n"):
        return "does not start with LightGBM's 'tree' header"
    header_end = text.find("\n\n")
    header = text[:header_end] if header_end > 0 else ""
    sizes = None
    for line in header.split("\n"):
        if line.startswith("tree_sizes="):
            try:
                sizes = [int(s) for s in line[len("tree_sizes="):].split()]
            except ValueError:
                return "has a malformed tree_sizes line"
    if not sizes or any(s <= 0 for s in sizes):
        return "has no tree_sizes table in its header"
    start = header_end + 2
    end = text.find("end of trees", start)
    if end < 0:
        return "has no 'end of trees' line (cut short?)"
    if end - start != sum(sizes):
        return f"holds {end - start} bytes of trees, its header says {sum(sizes)} (cut short or edited?)"
    pos = start
    for i, s in enumerate(sizes):
        if not text.startswith(f"Tree={i}\n", pos):
            return f"tree {i} is not where the tree_sizes table puts it"
        pos += s
    return None


_STORE_HASHES: dict = {}  # (path, (inode, size, mtime)) -> store_hash of a manifest read lately
_PARSED: dict = {}  # (path, (inode, size, mtime)) -> a sibling manifest parsed for its hash, for its one reader


def _stat_key(path):
    st = os.stat(path)
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def remember_store_hash(path, store_hash: str) -> None:
    """Note the ``store_hash`` of a manifest just read in full, so that the check of its
    sibling (:func:`check_same_store`) does not parse it again."""
    try:
        key = (str(path), _stat_key(path))
    except OSError:
        return
    if len(_STORE_HASHES) >= 32:
        _STORE_HASHES.clear()
    _STORE_HASHES[key] = store_hash


def _store_hash_of(path) -> str:
    try:
        key = (str(path), _stat_key(path))
    except OSError as exc:
        raise InputError(f"cannot read {path} ({exc.strerror or exc})") from None
    if key not in _STORE_HASHES:
        doc = read_json(path)
        _PARSED.clear()  # at most one parsed document waits
        _PARSED[key] = doc
        value = doc.get("store_hash") if isinstance(doc, dict) else None
        if not isinstance(value, str):
            raise InputError(f"{path}: field store_hash must be a string, got {_got(value)}")
        remember_store_hash(path, value)
        return value
    return _STORE_HASHES[key]


def _parsed_or_read(path):
    """:func:`read_json` of ``path``, or the document the sibling check parsed moments ago when
    the file has not changed since (handed out once: no two callers share a document)."""
    try:
        key = (str(path), _stat_key(path))
    except OSError:
        return read_json(path)
    doc = _PARSED.pop(key, None)
    return read_json(path) if doc is None else doc


def check_same_store(directory, path, manifest: dict) -> None:
    """Refuse a model directory whose other learner's manifest was trained on another store
    (``store_hash``): one :class:`InputError` line. A directory with one manifest passes."""
    mine = Path(path).name
    for other in MANIFESTS:
        if other == mine:
            continue
        sibling = Path(directory) / other
        if not os.path.lexists(sibling):
            continue
        theirs = _store_hash_of(sibling)
        if theirs != manifest["store_hash"]:
            raise InputError(f"{directory} mixes two trainings: {mine} was trained on store {manifest['store_hash']}, "
                             f"{other} on store {theirs}; retrain both with `transferability meta train --output "
                             f"{directory}`")


# -- writing a model directory --------------------------------------------------------------------
def is_model_file(name: str) -> bool:
    """Whether a file name is one a model directory may hold (the two manifests, the learners'
    LightGBM files, ``label_value.json`` of ``meta labels``, or a temporary file of an interrupted
    atomic write)."""
    return (name in MANIFESTS or name == "label_value.json" or bool(_MODEL_FILE.fullmatch(name))
            or name.startswith(".tmp-"))


def check_output_directory(path, *, option="--output") -> Path:
    """The directory ``meta train`` may write, checked before any training: not a file, not
    under a file, writable, and (when it exists) holding model files only, since it is replaced
    whole. Returns it as an absolute path (a link to a directory is followed)."""
    p = Path(os.path.realpath(os.path.expanduser(os.fspath(path))))
    if os.path.lexists(p):
        if not p.is_dir():
            raise InputError(f"{option} {path} is a file, not a directory")
        try:
            foreign = sorted(e.name for e in os.scandir(p) if not (e.is_file(follow_symlinks=False)
                                                                  and is_model_file(e.name)))
        except OSError as exc:
            raise InputError(f"{option} {path}: cannot list it ({exc.strerror or exc})") from None
        if foreign:
            raise InputError(f"{option} {path} holds other files than model files ({', '.join(foreign[:3])}"
                             f"{', ...' if len(foreign) > 3 else ''}); name an empty or a model directory, "
                             "which is replaced whole")
        probe = p.parent
    else:
        probe = p.parent
        while not os.path.lexists(probe) and probe != probe.parent:
            probe = probe.parent
        if not probe.is_dir():
            raise InputError(f"{option} {path} is under {probe}, which is a file, not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"{option} {path}: cannot write in {probe}")
    return p


def write_model_directory(path, write, *, option="--output") -> list:
    """Write a whole model directory at ``path``: ``write(tmp)`` fills a fresh temporary sibling
    directory (and returns the paths it wrote), which then takes the place of ``path``.

    A kill before the swap leaves ``path`` as it was (and a ``.NAME.new-*`` sibling); the swap is
    two renames (the old directory aside, the new one in), so a kill between them leaves no
    directory at ``path`` (the previous models wait in ``.NAME.old-*``), never one that mixes
    two trainings. Returns the final paths."""
    path = check_output_directory(path, option=option)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.new-", dir=path.parent))
    try:
        written = write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it 0700; a plain mkdir would not
        old = None
        if os.path.lexists(path):
            check_output_directory(path, option=option)  # nothing foreign appeared while training
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
            os.rename(path, old)  # onto the empty directory mkdtemp made
        os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        for e in os.scandir(old):
            if is_model_file(e.name):
                os.unlink(e.path)
        try:
            os.rmdir(old)
        except OSError:
            pass
    return [str(path / Path(p).name) for p in written]


# -- where the models are, and which records they were trained on ---------------------------------
def models_dir() -> Path:
    """The shipped models (``transferability/meta/learners/models``)."""
    return Path(__file__).resolve().parent / "models"


def shipped_records_hash() -> str:
    """:func:`~transferability.meta.learners._table.records_hash` of the shipped default store's
    records (read from the text records).

    Hashing the 10 MB of records takes about half a second, and loading the MetaTrans and the
    EasyTransferability models both ask for it; the value is kept for the process, keyed on each
    file's path, size and modification time, so a changed file is hashed again."""
    from transferability.meta_store import records_dir

    stats = [(f, f.stat()) for f in sorted(records_dir().glob("*.jsonl"))]
    return _records_files_hash(tuple((str(f), st.st_size, st.st_mtime_ns) for f, st in stats))


@functools.lru_cache(maxsize=4)
def _records_files_hash(files: tuple) -> str:
    from transferability.meta_store import read_records

    from ._table import records_hash

    return records_hash([r for f, _, _ in files for r in read_records(f)])


# -- the two manifests' schemas -------------------------------------------------------------------
METATRANS_FORMAT = "transferability-metatrans"
EASYTRANS_FORMAT = "transferability-easytrans"
FORMAT_VERSION = 2
"""Model format of both manifests: 2 holds each model file's sha256 and size (``files``) and
the one distance-to-training-pairs object (:class:`~._distance.TrainingDistance`); 1 had neither
(:func:`migrate_models` converts it)."""
SHIPPABLE = ("fixed", "knn", "lgbm", "guarded_knn", "guarded_lgbm")
"""MetaTrans candidates a manifest may ship."""
EASYTRANS_LEARNERS = ("auto", "lgbm", "logistic")
"""``CumulativeModel`` learner settings (``_easytrans.LEARNER_CHOICES``; a test keeps them equal)."""
EASYTRANS_SCORERS = ("lgbm", "logistic")
"""A fitted level's scorer kinds (``_easytrans.SCORERS``)."""
CALIBRATION_KINDS = ("sigmoid", "isotonic")
"""Calibration maps (``_easytrans.CALIBRATIONS``)."""
_HASH = r"[0-9a-f]{1,64}"
_KEY = r"[A-Za-z0-9_]+"


def distance_schema(n_features: int, n_pairs=None) -> Object:
    """The schema of :meth:`~._distance.TrainingDistance.to_dict` with ``n_features`` columns
    (and ``n_pairs`` reference rows when given)."""
    return Object({
        "mean": Vector(length=n_features),
        "scale": Vector(length=n_features, lo=0.0, lo_open=True),
        "reference": Matrix(n_cols=n_features, n_rows=n_pairs, min_rows=1),
        "threshold": Number(lo=0.0, null=True),
        "percentile": Number(lo=0.0, hi=100.0),
    })


def _header(fmt: str, extra: dict, checks=()):
    from ._features import FEATURE_NAMES

    fields = {
        "format": Const(fmt), "format_version": Const(FORMAT_VERSION), "feature_schema": Integer(),
        "feature_names": Array(String(), length=len(FEATURE_NAMES)), "store_hash": String(pattern=_HASH),
        "includes_default": Boolean(), "default_records_hash": String(pattern=_HASH, null=True),
        "n_records": Integer(lo=1), "library_version": String(),
        "files": MapOf(FILE_ENTRY, key_pattern=FILE_NAME_PATTERN), **extra,
    }

    def default_hash(m):
        if m["includes_default"] and m["default_records_hash"] is None:
            return ("default_records_hash",), "must be the shipped records' hash when includes_default is true"
        return None

    return Object(fields, checks=(default_hash, *checks))


def _same_files(referenced):
    """A check that the ``files`` table lists exactly the files the entries name."""

    def rule(m):
        named = referenced(m)
        listed = set(m["files"])
        missing = sorted(named - listed)
        if missing:
            return ("files",), f"lacks {missing[0]}, which the models name"
        extra = sorted(listed - named)
        if extra:
            return ("files", extra[0]), "is a file no model names"
        return None

    return rule


def metatrans_schema() -> Object:
    """The schema of ``metatrans.json`` (format 2)."""
    from transferability.methods import available_methods

    from ._features import FEATURE_NAMES

    d = len(FEATURE_NAMES)
    known = set(available_methods())

    def entry_checks(e):
        unknown = [m for m in e["methods"] if m not in known]
        if unknown:
            return ("methods",), f"names methods this library does not have: {', '.join(unknown)}"
        if "no_adapt" not in e["methods"]:
            return ("methods",), "lacks no_adapt"
        learner = e["candidate"].replace("guarded_", "")
        expected = "knn" if learner == "fixed" else learner
        if e["effect_learner"] != expected:
            return ("effect_learner",), f"must be {expected!r} for candidate {e['candidate']!r}, got {e['effect_learner']!r}"
        if (e["lgbm_file"] is None) != (e["effect_learner"] != "lgbm"):
            return ("lgbm_file",), ("must name the LightGBM file of an lgbm effect learner" if e["lgbm_file"] is None
                                    else "must be null for a kNN effect learner")
        if e["candidate"] == "fixed" and e["margin"] is not None:
            return ("margin",), "must be null (always the default) for the fixed candidate"
        if e["fallback"] != (e["candidate"] == "fixed"):
            return ("fallback",), "must be true exactly when the candidate is fixed"
        if set(e["runtime"]) != set(e["methods"]):
            odd = sorted(set(e["runtime"]) ^ set(e["methods"]))[0]
            return ("runtime",), f"must hold one entry per method (not so for {odd!r})"
        lo, hi = np.asarray(e["conformal"]["lower"]), np.asarray(e["conformal"]["upper"])
        if np.any(lo > hi):
            j = int(np.flatnonzero(lo > hi)[0])
            return ("conformal", "lower", j), f"must not exceed the upper end ({float(hi[j])!r}), got {float(lo[j])!r}"
        return None

    def entry(_name):
        return Object({
            "methods": Array(String(pattern=_KEY), min_len=2, unique=True),
            "n_pairs": Integer(lo=1),
            "candidate": String(SHIPPABLE),
            "selection": String(null=True),
            "effect_learner": String(("knn", "lgbm")),
            "margin": Number(lo=0.0, null=True),
            "fallback": Boolean(),
            "default": lambda e: String(e["methods"]),
            "calibration_groups": String(("base", "family")),
            "conformal": lambda e: Object({"coverage": Number(0.0, 1.0, lo_open=True, hi_open=True),
                                           "lower": Vector(length=len(e["methods"])),
                                           "upper": Vector(length=len(e["methods"]))}),
            "fixed": lambda e: Object({"mean_accuracy": Vector(length=len(e["methods"]), lo=0.0, hi=1.0),
                                       "mean_log_effect": Vector(length=len(e["methods"]))}),
            "knn": lambda e: Object({
                "n_neighbors": Integer(lo=1),
                "log_effect": Matrix(n_cols=len(e["methods"]), n_rows=e["n_pairs"]),
                "names": Array(String(), length=e["n_pairs"]),
                "distance": distance_schema(d, e["n_pairs"]),
            }),
            "runtime": MapOf(Object({"coef": Vector(length=3), "resid_sd": Number(lo=0.0)}), key_pattern=_KEY),
            "metrics": Info(),
            "inner_margin_regret": Info(),
            "lgbm_file": String(pattern=FILE_NAME_PATTERN, null=True),
            "dropped": MapOf(Integer(lo=0)),
        }, checks=(entry_checks,))

    def referenced(m):
        return {e["lgbm_file"] for e in m["models"].values() if e["lgbm_file"]}

    return _header(METATRANS_FORMAT, {"models": MapOf(entry, key_pattern=_KEY, min_len=1)},
                   checks=(_same_files(referenced),))


def easytrans_schema() -> Object:
    """The schema of ``easytrans.json`` (format 2)."""
    from ._features import FEATURE_NAMES, LABEL_FREE_FEATURES

    sigmoid = Object({"kind": Const("sigmoid"), "a": Number(lo=0.0), "b": Number()})
    isotonic = Object({"kind": Const("isotonic"), "x": Vector(min_len=1, nondecreasing=True),
                       "y": Vector(min_len=1, lo=0.0, hi=1.0, nondecreasing=True)},
                      checks=(lambda c: None if len(c["x"]) == len(c["y"])
                              else (("y",), f"must have as many values as x ({len(c['x'])})"),))

    def level_checks(e):
        need = {None: ("constant",), "lgbm": ("calibration", "file"), "logistic": ("calibration", "linear")}[e["learner"]]
        for name in ("constant", "calibration", "file", "linear"):
            if (e[name] is not None) != (name in need):
                return (name,), (f"must be given for learner {json.dumps(e['learner'])}" if name in need
                                 else f"must be null for learner {json.dumps(e['learner'])}")
        if e["n_positive"] > e["n_known"]:
            return ("n_positive",), f"must not exceed n_known ({e['n_known']}), got {e['n_positive']}"
        return None

    def level(d):
        return Object({
            "k": Integer(lo=1), "n_known": Integer(lo=0), "n_positive": Integer(lo=0),
            "oof_brier": MapOf(Number(lo=0.0, hi=1.0), key_pattern="|".join(EASYTRANS_SCORERS)),
            "learner": String(EASYTRANS_SCORERS, null=True),
            "constant": Number(0.0, 1.0, null=True),
            "calibration": Switch("kind", {"sigmoid": sigmoid, "isotonic": isotonic}, null=True),
            "file": String(pattern=FILE_NAME_PATTERN, null=True),
            "linear": Object({"mean": Vector(length=d), "scale": Vector(length=d, lo=0.0, lo_open=True),
                              "coef": Vector(length=d), "intercept": Number()}, null=True),
        }, checks=(level_checks,))

    def model(entry, features, labelled):
        d = len(features)

        def checks(s):
            if s["features"] != list(features):
                return ("features",), ("must be this version's meta-features" if labelled else
                                       "must be this version's label-free meta-features") + \
                    "; retrain with `transferability meta train`"
            if s["thresholds"] != entry["thresholds"]:
                return ("thresholds",), "must be the entry's thresholds"
            for j, (lv, t) in enumerate(zip(s["levels"], entry["thresholds"])):
                if lv["k"] != t:
                    return ("levels", j, "k"), f"must be threshold {t}, got {lv['k']}"
            return None

        return Object({
            "features": Array(String(), length=d),
            "thresholds": Array(Integer(lo=1), min_len=1),
            "calibration": String(CALIBRATION_KINDS),
            "learner": String(EASYTRANS_LEARNERS),
            "levels": Array(level(d), length=len(entry["thresholds"])),
            "uses_source_labels": Const(labelled, what="true" if labelled else "false"),
            "ood": distance_schema(d, entry["n_pairs"]),
        }, checks=(checks,))

    def entry(_name):
        return Object({
            "thresholds": Array(Integer(lo=1), min_len=1, increasing=True),
            "n_pairs": Integer(lo=1),
            "calibration_groups": String(("base", "family")),
            "dropped": MapOf(Integer(lo=0)),
            "n_censored": Integer(lo=0),
            "kstar_counts": MapOf(Integer(lo=0), key_pattern=r"[0-9]+"),
            "calibration": String(CALIBRATION_KINDS),
            "metrics": Info(),
            "selection": Info(),
            "labelled": lambda e: model(e, FEATURE_NAMES, True),
            "label_free": lambda e: model(e, LABEL_FREE_FEATURES, False),
        })

    def levels_and_features(m):
        if m["label_free_features"] != list(LABEL_FREE_FEATURES):
            return ("label_free_features",), ("must be this version's label-free meta-features; retrain with "
                                              "`transferability meta train`")
        lo, hi = m["interval_levels"]
        if not lo < hi:
            return ("interval_levels",), f"must be increasing, got {m['interval_levels']}"
        return None

    def referenced(m):
        return {lv["file"] for e in m["models"].values() for kind in ("labelled", "label_free")
                for lv in e[kind]["levels"] if lv["file"]}

    return _header(EASYTRANS_FORMAT, {
        "label_free_features": Array(String()),
        "threshold": Number(0.0, 1.0, lo_open=True, hi_open=True),
        "default_k": Integer(lo=1),
        "interval_levels": Vector(length=2, lo=0.0, hi=1.0, lo_open=True, hi_open=True),
        "models": MapOf(entry, key_pattern=_KEY, min_len=1),
    }, checks=(levels_and_features, _same_files(referenced)))


SCHEMAS = {METATRANS_FORMAT: metatrans_schema, EASYTRANS_FORMAT: easytrans_schema}


# -- reading a manifest and its files -------------------------------------------------------------
def _short(value) -> str:
    return str(value) if type(value) is int else _got(value)


def read_manifest(directory, name: str, fmt: str, what: str, *, check_default=True):
    """Read and check a learner's manifest ``directory / name``, then the files it names.

    In order: a bounded regular file of JSON; its format; the feature schema and names it was
    trained on (another one: retrain); its format version (1: migrate); every field against the
    format's schema; (when it was trained with the shipped records and ``check_default``) that
    those are the records this installation ships; that the other learner's manifest beside it,
    if any, was trained on the same store; and each model file it names (:func:`read_model_file`,
    :func:`check_lightgbm_text`). Returns ``(path, manifest, {file name: text})``; every refusal
    is one :class:`InputError` line naming the file, the field and the fix."""
    from ._features import FEATURE_NAMES, FEATURE_SCHEMA_VERSION

    directory = Path(directory)
    path = directory / name
    if not os.path.lexists(path):
        raise InputError(f"no {what} models in {directory} (missing {name}); run `transferability meta train`")
    manifest = _parsed_or_read(path)
    if not isinstance(manifest, dict) or manifest.get("format") != fmt:
        raise InputError(f"{path} is not {'an' if what[0] in 'AEIOU' else 'a'} {what} manifest")
    if manifest.get("feature_schema") != FEATURE_SCHEMA_VERSION or manifest.get("feature_names") != list(FEATURE_NAMES):
        raise InputError(f"{path} was trained on feature schema {_short(manifest.get('feature_schema'))}, this version "
                         f"computes schema {FEATURE_SCHEMA_VERSION}; retrain with `transferability meta train`")
    version = manifest.get("format_version")
    if version == 1:
        raise InputError(f"{path} has model format 1 (no file hashes); migrate it with `transferability meta migrate "
                         f"{directory}`, or retrain with `transferability meta train`")
    if version != FORMAT_VERSION:
        raise InputError(f"{path} has model format {_short(version)}, this version reads {FORMAT_VERSION}")
    validate(manifest, SCHEMAS[fmt](), str(path))
    if check_default and manifest["includes_default"]:
        current = shipped_records_hash()
        if manifest["default_records_hash"] != current:
            raise InputError(f"{path} was trained on shipped records {manifest['default_records_hash']}, this "
                             f"installation ships {current}; retrain with `transferability meta train`")
    remember_store_hash(path, manifest["store_hash"])
    check_same_store(directory, path, manifest)
    texts = {}
    for file, entry in sorted(manifest["files"].items()):
        where = f"{path}: field files.{file}"
        text = read_model_file(directory, file, entry, where=where)
        problem = check_lightgbm_text(text)
        if problem:
            raise InputError(f"{where}: model file {directory / file} {problem}")
        texts[file] = text
    return path, manifest, texts


# -- migration from format 1 ----------------------------------------------------------------------
_LOAD_CHECK = """
import sys
import lightgbm
for path in sys.argv[1:]:
    print(path, flush=True)
    lightgbm.Booster(model_file=path)
print("ok", flush=True)
"""


def _lightgbm_loads(paths, *, timeout=300) -> None:
    """Load each LightGBM file in a child process, so that a file LightGBM aborts on kills the
    child, not this process; one :class:`InputError` line naming the first file that fails."""
    import subprocess
    import sys

    if not paths:
        return
    try:
        run = subprocess.run([sys.executable, "-c", _LOAD_CHECK, *map(str, paths)], capture_output=True,
                             text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise InputError(f"LightGBM did not load {len(paths)} model files within {timeout} s") from None
    lines = run.stdout.split()
    if run.returncode != 0 or not lines or lines[-1] != "ok":
        bad = lines[-1] if lines else str(paths[0])
        raise InputError(f"LightGBM cannot load model file {bad} (the check exited with {run.returncode})")


def _entries(m: dict) -> list:
    models = m.get("models")
    return [e for e in models.values() if isinstance(e, dict)] if isinstance(models, dict) else []


def _migrate_metatrans(m: dict) -> tuple:
    names = []
    for entry in _entries(m):
        k = entry.get("knn")
        if isinstance(k, dict) and "distance" not in k:
            entry["knn"] = {"n_neighbors": k.get("n_neighbors"), "log_effect": k.get("log_effect"),
                            "names": k.get("names"),
                            "distance": {"mean": k.get("mean"), "scale": k.get("scale"),
                                         "reference": k.get("reference"), "threshold": k.get("ood_threshold"),
                                         "percentile": 99.0}}
        if entry.get("lgbm_file"):
            names.append(entry["lgbm_file"])
    return m, names


def _migrate_easytrans(m: dict) -> tuple:
    names = []
    for entry in _entries(m):
        for kind in ("labelled", "label_free"):
            sub = entry.get(kind)
            if not isinstance(sub, dict):
                continue
            if isinstance(sub.get("ood"), dict):
                sub["ood"].setdefault("percentile", 99.0)
            levels = sub.get("levels") if isinstance(sub.get("levels"), list) else []
            names += [lv["file"] for lv in levels if isinstance(lv, dict) and lv.get("file")]
    return m, names


_MIGRATIONS = {METATRANS_FORMAT: _migrate_metatrans, EASYTRANS_FORMAT: _migrate_easytrans}


def manifest_text(manifest: dict) -> str:
    """The manifest as written: strict JSON (a NaN metric becomes null), sorted keys, one
    indent, ``repr`` floats; the same models give byte-identical text."""
    from transferability.utils.io import json_safe

    return json.dumps(json_safe(manifest), sort_keys=True, indent=1, allow_nan=False) + "\n"


def migrate_models(directory) -> list:
    """Convert the model-format-1 manifests of ``directory`` to format 2, in place.

    Each manifest of format 1 gets the distance-to-training-pairs object of format 2 (MetaTrans:
    ``knn.mean``/``scale``/``reference``/``ood_threshold`` become ``knn.distance``; both:
    ``percentile`` 99) and the ``files`` table (the sha256 and size of every model file it
    names, which must be whole LightGBM texts inside the directory that LightGBM loads, checked
    in a child process); the result is checked against the format-2 schema before it replaces
    the manifest (atomically). Numbers are moved, never recomputed: the models predict exactly
    as before. Manifests already of format 2 are left alone.

    Returns
    -------
    list of (str, str)
        ``(manifest path, "migrated" or "already format 2")``.
    """
    from transferability.utils.io import atomic_write_text

    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"no model directory at {directory}")
    done = []
    for name, fmt in zip(MANIFESTS, (METATRANS_FORMAT, EASYTRANS_FORMAT)):
        path = directory / name
        if not os.path.lexists(path):
            continue
        m = read_json(path)
        if not isinstance(m, dict) or m.get("format") != fmt:
            raise InputError(f"{path} is not a {fmt} manifest")
        if m.get("format_version") == FORMAT_VERSION:
            done.append((str(path), f"already format {FORMAT_VERSION}"))
            continue
        if m.get("format_version") != 1:
            raise InputError(f"{path} has model format {_short(m.get('format_version'))}; this version migrates 1 "
                             f"to {FORMAT_VERSION}")
        m, names = _MIGRATIONS[fmt](m)
        files = {}
        for file in sorted(set(names)):
            where = f"{path}: model file {file!r}"
            p = inside(directory, file, where=where)
            data = read_bounded(p, max_bytes=MAX_MODEL_FILE_BYTES, what="model file", field=where)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError(f"{where}: not UTF-8 text") from None
            problem = check_lightgbm_text(text)
            if problem:
                raise InputError(f"{where}: {p} {problem}")
            files[file] = file_entry(text)
        _lightgbm_loads([directory / f for f in files])
        m["files"], m["format_version"] = files, FORMAT_VERSION
        validate(m, SCHEMAS[fmt](), f"{path} (migrated)")
        atomic_write_text(path, manifest_text(m))
        done.append((str(path), "migrated"))
    if not done:
        raise InputError(f"no model manifests in {directory} ({' or '.join(MANIFESTS)})")
    return done
