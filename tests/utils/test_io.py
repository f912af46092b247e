"""Atomic writes: whole files or nothing, ordinary permissions, nothing left behind."""

import os
import stat

import pytest

from transferability.utils.io import atomic_write_text, json_safe, one_line


def test_atomic_write_gives_the_mode_open_would(tmp_path):
    """mkstemp makes 0600 files; a shipped record or model file must be readable by everyone."""
    umask = os.umask(0o022)
    try:
        p = tmp_path / "out.txt"
        atomic_write_text(p, "hello\n")
        assert p.read_text() == "hello\n"
        assert stat.S_IMODE(p.stat().st_mode) == 0o644
    finally:
        os.umask(umask)


def test_atomic_write_refuses_a_directory_and_leaves_nothing(tmp_path):
    with pytest.raises(IsADirectoryError):
        atomic_write_text(tmp_path, "x")
    with pytest.raises(FileNotFoundError):
        atomic_write_text(tmp_path / "missing" / "x.txt", "x")
    assert sorted(os.listdir(tmp_path)) == []


def test_json_safe_and_one_line():
    import numpy as np

    assert json_safe({"a": np.float32(1.5), "b": [np.int64(2), float("nan")], "c": np.arange(2)}) == \
        {"a": 1.5, "b": [2, None], "c": [0, 1]}
    assert one_line(ValueError("first\nsecond")) == "ValueError: first"
    assert one_line(KeyError()) == "KeyError"
