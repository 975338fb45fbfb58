"""TFX's `tfx.utils.io_utils` over `headrace.fileio`."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable
from typing import Any, TypeVar

from headrace import fileio

NANO_PER_SEC = 1000 * 1000 * 1000
M = TypeVar("M")


def ensure_local(file_path: str) -> str:
    """The local path of `file_path` (headrace reads local paths only in this version)."""
    fileio.get_filesystem(file_path)  # a URI with an unsupported scheme fails here, naming it
    return file_path[len("file://") :] if file_path.startswith("file://") else file_path


def copy_file(src: str, dst: str, overwrite: bool = False) -> None:
    """Copies a file, creating `dst`'s directory."""
    fileio.makedirs(os.path.dirname(dst) or ".")
    fileio.copy(src, dst, overwrite=overwrite)


def copy_dir(
    src: str, dst: str, allow_regex_patterns: Iterable[str] = (), deny_regex_patterns: Iterable[str] = ()
) -> None:
    """Copies the tree under `src` into `dst` (replacing files), filtered by regexes on the file names."""
    allow = [re.compile(p) for p in allow_regex_patterns]
    deny = [re.compile(p) for p in deny_regex_patterns]
    for dirpath, _, files in fileio.walk(src):
        rel = os.path.relpath(dirpath, src)
        target = os.path.normpath(os.path.join(dst, rel))
        fileio.makedirs(target)
        for name in files:
            if allow and not any(p.search(name) for p in allow):
                continue
            if any(p.search(name) for p in deny):
                continue
            fileio.copy(os.path.join(dirpath, name), os.path.join(target, name), overwrite=True)


def get_only_uri_in_dir(dir_path: str) -> str:
    """The path of the one entry in a directory.

    Raises:
        RuntimeError: the directory does not hold exactly one entry.
    """
    entries = fileio.listdir(dir_path)
    if len(entries) != 1:
        raise RuntimeError(f"Expected exactly one file or directory in {dir_path!r}, found {entries}.")
    return os.path.join(dir_path, entries[0])


def delete_dir(path: str) -> None:
    """Removes a directory tree if it exists."""
    if fileio.isdir(path):
        fileio.rmtree(path)


def write_string_file(file_name: str, string_value: str) -> None:
    """Writes text to a file, creating its directory."""
    fileio.makedirs(os.path.dirname(file_name) or ".")
    with fileio.open(file_name, "w") as f:
        f.write(string_value)


def write_bytes_file(file_name: str, content: bytes) -> None:
    """Writes bytes to a file, creating its directory."""
    fileio.makedirs(os.path.dirname(file_name) or ".")
    with fileio.open(file_name, "wb") as f:
        f.write(content)


def read_string_file(file_name: str) -> str:
    """A file's text."""
    with fileio.open(file_name, "r") as f:
        return f.read()


def read_bytes_file(file_name: str) -> bytes:
    """A file's bytes."""
    with fileio.open(file_name, "rb") as f:
        return f.read()


def write_pbtxt_file(file_name: str, proto: Any) -> None:
    """Writes a protobuf message as text format, creating the directory."""
    from google.protobuf import text_format

    write_string_file(file_name, text_format.MessageToString(proto))


def parse_pbtxt_file(file_name: str, message: M) -> M:
    """Parses a text-format file into `message` and returns it."""
    from google.protobuf import text_format

    text_format.Parse(read_string_file(file_name), message)
    return message


def parse_json_file(file_name: str, message: M) -> M:
    """Parses a JSON file into the protobuf `message` and returns it."""
    from google.protobuf import json_format

    json_format.Parse(read_string_file(file_name), message)
    return message


def load_csv_column_names(csv_file: str) -> list[str]:
    """The header row of a CSV file."""
    with fileio.open(csv_file, "r") as f:
        return next(csv.reader(f))


def all_files_pattern(file_pattern: str) -> str:
    """The glob pattern of every file in a directory."""
    return os.path.join(file_pattern, "*")


def generate_fingerprint(split_name: str, file_pattern: str) -> str:
    """A fingerprint of the files matching a pattern: count, total size and checksums of their mtimes."""
    files = fileio.glob(file_pattern)
    total_bytes = 0
    xor_checksum = 0
    sum_checksum = 0
    for path in files:
        st = fileio.stat(path)
        total_bytes += st.st_size
        mtime = int(st.st_mtime_ns // NANO_PER_SEC)
        xor_checksum ^= mtime
        sum_checksum += mtime
    return (
        f"split:{split_name},num_files:{len(files)},total_bytes:{total_bytes},"
        f"xor_checksum:{xor_checksum},sum_checksum:{sum_checksum}"
    )


__all__ = [
    "NANO_PER_SEC",
    "all_files_pattern",
    "copy_dir",
    "copy_file",
    "delete_dir",
    "ensure_local",
    "generate_fingerprint",
    "get_only_uri_in_dir",
    "load_csv_column_names",
    "parse_json_file",
    "parse_pbtxt_file",
    "read_bytes_file",
    "read_string_file",
    "write_bytes_file",
    "write_pbtxt_file",
    "write_string_file",
]
