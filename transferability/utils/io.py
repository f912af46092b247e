"""Small I/O helpers shared by the library, the store and the command line: one-line error
text, JSON coercion of numpy values, atomic file writes, and the check that a path to be read
is a regular file."""

from __future__ import annotations

import math
import os
import stat
import tempfile

import numpy as np

from .validation import InputError

__all__ = ["one_line", "json_default", "json_safe", "atomic_write_text", "atomic_write_bytes", "check_regular_file"]


def one_line(exc: BaseException) -> str:
    """``"TypeName: first line of the message"`` (or the type name alone)."""
    msg = str(exc).strip().splitlines()
    text = msg[0] if msg else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def json_default(o):
    """``json.dumps(default=...)`` hook for numpy scalars and arrays."""
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def json_safe(value):
    """``value`` with numpy scalars/arrays turned into Python ones and non-finite floats into
    ``None`` (strict JSON has no NaN or Infinity)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    return str(value)


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and
    ``os.replace``: readers see the old file or the new one, never a partial one, and a failed
    write leaves no temporary file behind. Raises ``OSError`` (e.g. ``IsADirectoryError``)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a directory")
    parent = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix="-" + os.path.basename(path), dir=parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        # mkstemp makes the file 0600; give it the mode a plain open() would (0666 less the umask)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path, text: str, encoding: str = "utf-8") -> None:
    """:func:`atomic_write_bytes` for text."""
    atomic_write_bytes(path, text.encode(encoding))


_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))


def check_regular_file(path, what="data file", *, name=None, error=None, missing_ok=False) -> bool:
    """Check, without opening it, that ``path`` is a regular file (a link is followed), so that
    nothing reads a FIFO, socket or device (which would block or stream forever) or a directory.

    Parameters
    ----------
    path : str or path-like
    what : str, default="data file"
        What the file should be, for the messages ("meta store", "record file", "spec file").
    name : str or None, default=None
        Prefix of the messages (``"source"`` gives ``"source: ..."``).
    error : type, default=InputError
        The exception raised (a subclass of :class:`~transferability.utils.validation.InputError`,
        e.g. the store's ``StoreError``).
    missing_ok : bool, default=False
        Return ``False`` when nothing is at ``path`` instead of raising.

    Returns
    -------
    bool
        ``True`` for a regular file; ``False`` when ``path`` does not exist and ``missing_ok``.

    Raises
    ------
    error
        One line: ``WHAT not found: PATH``, ``cannot read PATH (reason)``, ``PATH is a
        directory, not a WHAT`` or ``PATH is not a regular file (a FIFO)`` (socket, device).
    """
    error = error or InputError
    path = os.fspath(path)
    pre = f"{name}: " if name else ""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if missing_ok:
            return False
        raise error(f"{pre}{what} not found: {path}") from None
    except OSError as exc:
        raise error(f"{pre}cannot read {path} ({exc.strerror or exc})") from None
    if stat.S_ISDIR(mode):
        article = "an" if what[:1].lower() in "aeiou" else "a"
        raise error(f"{pre}{path} is a directory, not {article} {what}")
    if not stat.S_ISREG(mode):
        kind = next((k for test, k in _KINDS if test(mode)), "not a plain file")
        raise error(f"{pre}{path} is not a regular file ({kind})")
    return True
