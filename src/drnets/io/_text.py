"""Decoding a text input: UTF-8 with or without a byte-order mark, else Latin-1; any line ends."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

from ..core import InputError


def read_text(path: str | os.PathLike[str]) -> str:
    """The contents of a text input, with ``\\n`` line ends.

    UTF-8 is tried first (a byte-order mark is dropped); a file that is not UTF-8 is read
    as Latin-1, the usual encoding of instrument software's comment lines (``Å``, ``°``).
    CRLF and CR line ends become LF.

    Raises
    ------
    InputError
        When the file cannot be read or holds NUL bytes (binary data, or UTF-16).
    """
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise InputError(err.strerror or "cannot read", source=path) from None
    if b"\x00" in data:
        raise InputError("not a text file (it holds NUL bytes: binary, or UTF-16; save it as UTF-8)", source=path)
    data = data.removeprefix(codecs.BOM_UTF8)  # also before a Latin-1 line further down
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_float(text: str) -> float:
    """``float`` without the extras of Python's syntax that no data file means: ``1_0`` read as 10,
    and digits of other scripts.

    Raises
    ------
    ValueError
        Like ``float`` on text that is not a number.
    """
    if "_" in text or not text.isascii():
        raise ValueError(f"not a number: {text!r}")
    return float(text)


def unended_line(text: str) -> int | None:
    """The number of the last line when it has no line end (a file cut off, or written so), else None."""
    return None if not text or text.endswith("\n") else text.count("\n") + 1


def refuse_cut(value: str, shortest: int, *, source: str | os.PathLike[str], where: str) -> None:
    """Refuse a value on an unended last line that is shorter than every value of its kind before it:
    the file was most likely cut in the middle of it (``2.6479296e-18`` left as ``2.647``).

    Raises
    ------
    InputError
        Naming the file, the line and the value.
    """
    if len(value) < shortest:
        raise InputError(
            f"the last line has no line end and its value {value!r} is shorter than any like it before: the file looks "
            "cut off (end the line with a line break if it is complete)",
            source=source,
            where=where,
        )
