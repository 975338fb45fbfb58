"""File access for executors and components, through a filesystem chosen by URI scheme.

The functions take a path or URI and dispatch on its scheme (``gs://bucket/x`` has scheme
``gs``; a plain path has none). Only the local filesystem is registered today; a cloud
filesystem plugs in later with :func:`register_filesystem`. A URI whose scheme has no
filesystem fails with an error that names the scheme, never silently as a local path.

The names follow TFX's ``tfx.dsl.io.fileio``, so executor code ports unchanged::

    from headrace import fileio
    for name in fileio.listdir(uri):
        ...
"""

from __future__ import annotations

import builtins
import glob as _glob
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from typing import IO, Any, Union

from headrace.errors import HeadraceError

PathType = Union[str, bytes]  # noqa: UP007 (a runtime alias, as TFX exports it)

_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


class NotFoundError(HeadraceError, FileNotFoundError):
    """A path does not exist (an ``IOError``, as TFX's ``fileio.NotFoundError`` is)."""


class UnsupportedFilesystemError(HeadraceError, ValueError):
    """A URI's scheme has no registered filesystem."""


class Filesystem:
    """The operations a filesystem provides. Subclass it to add a scheme (see `register_filesystem`)."""

    SUPPORTED_SCHEMES: tuple[str, ...] = ()

    def open(self, path: str, mode: str = "r") -> IO[Any]:
        """Opens a file."""
        raise NotImplementedError

    def copy(self, src: str, dst: str, overwrite: bool = False) -> None:
        """Copies a file."""
        raise NotImplementedError

    def exists(self, path: str) -> bool:
        """Whether the path exists."""
        raise NotImplementedError

    def glob(self, pattern: str) -> list[str]:
        """Paths matching a pattern."""
        raise NotImplementedError

    def isdir(self, path: str) -> bool:
        """Whether the path is a directory."""
        raise NotImplementedError

    def listdir(self, path: str) -> list[str]:
        """The entry names of a directory."""
        raise NotImplementedError

    def makedirs(self, path: str) -> None:
        """Creates a directory and its parents (no error if it exists)."""
        raise NotImplementedError

    def mkdir(self, path: str) -> None:
        """Creates one directory."""
        raise NotImplementedError

    def remove(self, path: str) -> None:
        """Removes a file."""
        raise NotImplementedError

    def rename(self, src: str, dst: str, overwrite: bool = False) -> None:
        """Renames a file or directory."""
        raise NotImplementedError

    def rmtree(self, path: str) -> None:
        """Removes a directory tree."""
        raise NotImplementedError

    def stat(self, path: str) -> Any:
        """File status."""
        raise NotImplementedError

    def walk(self, top: str, topdown: bool = True, onerror: Any = None) -> Iterable[tuple[str, list[str], list[str]]]:
        """Walks a directory tree like `os.walk`."""
        raise NotImplementedError


def _not_found(path: str, e: OSError) -> NotFoundError:
    return NotFoundError(e.errno or 2, f"{e.strerror or 'Not found'}: {path!r}", path)


class LocalFilesystem(Filesystem):
    """Paths on this machine (no scheme, or ``file://``)."""

    SUPPORTED_SCHEMES = ("", "file")

    def open(self, path: str, mode: str = "r") -> IO[Any]:
        try:
            return builtins.open(path, mode)
        except FileNotFoundError as e:
            raise _not_found(path, e) from None

    def copy(self, src: str, dst: str, overwrite: bool = False) -> None:
        if not overwrite and os.path.exists(dst):
            raise FileExistsError(f"Destination {dst!r} exists; pass overwrite=True to replace it.")
        try:
            shutil.copyfile(src, dst)
        except FileNotFoundError as e:
            raise _not_found(src if not os.path.exists(src) else dst, e) from None

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def glob(self, pattern: str) -> list[str]:
        return sorted(_glob.glob(pattern))

    def isdir(self, path: str) -> bool:
        return os.path.isdir(path)

    def listdir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(path))
        except FileNotFoundError as e:
            raise _not_found(path, e) from None

    def makedirs(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)

    def mkdir(self, path: str) -> None:
        try:
            os.mkdir(path)
        except FileNotFoundError as e:
            raise _not_found(path, e) from None

    def remove(self, path: str) -> None:
        try:
            os.remove(path)
        except FileNotFoundError as e:
            raise _not_found(path, e) from None

    def rename(self, src: str, dst: str, overwrite: bool = False) -> None:
        if not overwrite and os.path.exists(dst):
            raise FileExistsError(f"Destination {dst!r} exists; pass overwrite=True to replace it.")
        try:
            os.replace(src, dst)
        except FileNotFoundError as e:
            raise _not_found(src, e) from None

    def rmtree(self, path: str) -> None:
        try:
            shutil.rmtree(path)
        except FileNotFoundError as e:
            raise _not_found(path, e) from None

    def stat(self, path: str) -> os.stat_result:
        try:
            return os.stat(path)
        except FileNotFoundError as e:
            raise _not_found(path, e) from None

    def walk(self, top: str, topdown: bool = True, onerror: Any = None) -> Iterator[tuple[str, list[str], list[str]]]:
        yield from os.walk(top, topdown=topdown, onerror=onerror)


_FILESYSTEMS: dict[str, Filesystem] = {}

# Schemes people use whose filesystem is a known later addition: the error says so.
_KNOWN_REMOTE = {"gs": "Google Cloud Storage", "s3": "Amazon S3", "hdfs": "HDFS", "abfs": "Azure Blob Storage"}


def register_filesystem(filesystem: Filesystem) -> None:
    """Makes `filesystem` serve the schemes in its `SUPPORTED_SCHEMES`."""
    for scheme in filesystem.SUPPORTED_SCHEMES:
        _FILESYSTEMS[scheme] = filesystem


register_filesystem(LocalFilesystem())


def scheme_of(path: PathType) -> str:
    """The URI scheme of a path ('' for a local path)."""
    text = os.fsdecode(path)
    match = _SCHEME_RE.match(text)
    return match.group(1).lower() if match else ""


def get_filesystem(path: PathType) -> Filesystem:
    """The filesystem serving `path`'s scheme.

    Raises:
        UnsupportedFilesystemError: no filesystem is registered for the scheme.
    """
    scheme = scheme_of(path)
    found = _FILESYSTEMS.get(scheme)
    if found is None:
        what = _KNOWN_REMOTE.get(scheme, f"'{scheme}://'")
        raise UnsupportedFilesystemError(
            f"No filesystem is registered for scheme '{scheme}' (in {os.fsdecode(path)!r}): headrace reads and "
            f"writes local paths only in this version; {what} support is not available yet. Use a local path, "
            "or register a Filesystem for the scheme with headrace.fileio.register_filesystem()."
        )
    return found


def _local(path: PathType) -> str:
    text = os.fsdecode(path)
    return text[len("file://") :] if text.startswith("file://") else text


def open(path: PathType, mode: str = "r") -> IO[Any]:
    """Opens a file (`mode` as for the builtin `open`)."""
    return get_filesystem(path).open(_local(path), mode)


def copy(src: PathType, dst: PathType, overwrite: bool = False) -> None:
    """Copies the file `src` to `dst`; refuses to replace `dst` unless `overwrite`."""
    _same_filesystem(src, dst).copy(_local(src), _local(dst), overwrite)


def exists(path: PathType) -> bool:
    """Whether `path` exists."""
    return get_filesystem(path).exists(_local(path))


def glob(pattern: PathType) -> list[str]:
    """The paths matching `pattern`, sorted."""
    return get_filesystem(pattern).glob(_local(pattern))


def isdir(path: PathType) -> bool:
    """Whether `path` is a directory."""
    return get_filesystem(path).isdir(_local(path))


def listdir(path: PathType) -> list[str]:
    """The entry names in the directory `path`, sorted."""
    return get_filesystem(path).listdir(_local(path))


def makedirs(path: PathType) -> None:
    """Creates `path` and its parents; no error if it exists."""
    get_filesystem(path).makedirs(_local(path))


def mkdir(path: PathType) -> None:
    """Creates the directory `path` (its parent must exist)."""
    get_filesystem(path).mkdir(_local(path))


def remove(path: PathType) -> None:
    """Removes the file `path`."""
    get_filesystem(path).remove(_local(path))


def rename(src: PathType, dst: PathType, overwrite: bool = False) -> None:
    """Renames `src` to `dst`; refuses to replace `dst` unless `overwrite`."""
    _same_filesystem(src, dst).rename(_local(src), _local(dst), overwrite)


def rmtree(path: PathType) -> None:
    """Removes the directory tree `path`."""
    get_filesystem(path).rmtree(_local(path))


def stat(path: PathType) -> Any:
    """The status of `path` (an `os.stat_result` for a local path)."""
    return get_filesystem(path).stat(_local(path))


def walk(top: PathType, topdown: bool = True, onerror: Any = None) -> Iterable[tuple[str, list[str], list[str]]]:
    """Walks the tree under `top`, as `os.walk` does."""
    return get_filesystem(top).walk(_local(top), topdown, onerror)


def _same_filesystem(src: PathType, dst: PathType) -> Filesystem:
    fs = get_filesystem(src)
    if get_filesystem(dst) is not fs:
        raise UnsupportedFilesystemError(
            f"Copying between filesystems ({os.fsdecode(src)!r} -> {os.fsdecode(dst)!r}) is not supported yet; "
            "copy through a local file."
        )
    return fs


__all__ = [
    "Filesystem",
    "LocalFilesystem",
    "NotFoundError",
    "PathType",
    "UnsupportedFilesystemError",
    "copy",
    "exists",
    "get_filesystem",
    "glob",
    "isdir",
    "listdir",
    "makedirs",
    "mkdir",
    "open",
    "register_filesystem",
    "remove",
    "rename",
    "rmtree",
    "scheme_of",
    "stat",
    "walk",
]
