"""Reading an input file safely: only regular files, and the size checked before a byte is read.

A FIFO would block forever, `/dev/zero` never ends and a sparse 3 GB file takes seconds and gigabytes
before any "too large" check, so each is refused up front: the file is opened without blocking, then
`fstat` of that very descriptor (no swap between check and read) must say "regular file" and a size within
the limit; at most `limit + 1` bytes are read, so a file that grows meanwhile is still caught.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

MAX_FILE_BYTES = 1_000_000
"""The largest KPI file or events catalog read (`loading.load_document`, `warehouse/settled.inputs_digest`)."""


class InputFileError(OSError):
    """The file is not something to read: not a regular file, or too large. `str()` says which."""


class FileTooLarge(InputFileError):
    """More bytes than the limit."""


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def read_regular_file(path: Path | str, limit: int) -> bytes:
    """The bytes of `path`; InputFileError unless it is a regular file of at most `limit` bytes."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(f"it is {_kind(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise FileTooLarge(f"it is {_size(info.st_size)}, more than the {_size(limit)} allowed")
        return _read_capped(handle, limit)


def read_stream(stream: BinaryIO, limit: int) -> bytes:
    """At most `limit` bytes from a stream (stdin); InputFileError when there is more."""
    return _read_capped(stream, limit)


def _read_capped(handle: BinaryIO, limit: int) -> bytes:
    data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(f"it is more than the {_size(limit)} allowed")
    return data


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a pipe (FIFO)"), (stat.S_ISCHR, "a device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((word for test, word in kinds if test(mode)), "not a regular file")
