"""ML Metadata's SQLite connections with synchronous=NORMAL under WAL: no fsync per commit.

ml-metadata opens SQLite itself, through its own copy of SQLite linked into its extension module,
with SQLite's defaults. In WAL mode the default (synchronous=FULL) fsyncs the log at every commit:
two commits per executed step, which on a virtual disk cost more than the rest of the step's
overhead. synchronous=NORMAL syncs only at checkpoints, and SQLite documents it as safe with WAL:
a commit is in the operating system's hands when it returns (a killed process loses nothing), and a
power cut can only roll the store back to an earlier commit, never corrupt it.

ml-metadata's connection config has no field for pragmas, so this module registers an entry point
with SQLite's own hook for configuring every connection a library opens (`sqlite3_auto_extension`),
in ml-metadata's copy of SQLite. That copy's functions are not exported: their addresses come from
the extension module's ELF symbol table, checked against the module's mapping in this process.
Anything unexpected (another platform, a stripped build, a missing symbol) leaves SQLite's default
in place: slower, never less safe. The entry point sets NORMAL only on a database in WAL mode, and
not at all under HEADRACE_SQLITE_SYNCHRONOUS=FULL.
"""

from __future__ import annotations

import mmap
import os
import struct
import sys
from typing import Any

ENV = "HEADRACE_SQLITE_SYNCHRONOUS"  # NORMAL (default) or FULL: fsync at every commit

_SHT_SYMTAB, _SHT_DYNSYM, _STT_FUNC = 2, 11, 2
_ANCHOR = "PyInit_metadata_store_extension"  # exported: where the module is loaded
_FUNCTIONS = ("sqlite3_auto_extension", "sqlite3_exec")

_state: dict[str, Any] = {}  # "installed": bool once tried; "keep": the ctypes objects SQLite calls back
last_synchronous: int | None = None  # PRAGMA synchronous of the last connection opened (1 NORMAL, 2 FULL)


def wanted() -> bool:
    """Whether commits should skip the per-commit fsync (HEADRACE_SQLITE_SYNCHRONOUS is not FULL)."""
    return os.environ.get(ENV, "NORMAL").strip().upper() != "FULL"


def install() -> bool:
    """Registers the entry point in ml-metadata's SQLite, once per process. Returns whether it is in
    place; False (SQLite's default kept) when the extension is not what this module expects."""
    if "installed" not in _state:
        _state["installed"] = False
        try:
            _state["installed"] = _install()
        except (OSError, ValueError, AttributeError, ImportError, struct.error):
            pass
    return bool(_state["installed"])


def _install() -> bool:
    if not sys.platform.startswith("linux") or struct.calcsize("P") != 8 or sys.byteorder != "little":
        return False
    import ctypes

    from ml_metadata.metadata_store.pywrap import metadata_store_extension as ext

    path = os.path.realpath(ext.__file__)
    found = _elf_functions(path, _FUNCTIONS, _ANCHOR)
    if found is None:
        return False
    lib = ctypes.CDLL(path, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
    base = ctypes.cast(getattr(lib, _ANCHOR), ctypes.c_void_p).value
    if base is None:
        return False
    base -= found[_ANCHOR]
    if base != _mapped_at(path):
        return False  # the symbol table does not describe the module this process loaded
    exec_ = ctypes.CFUNCTYPE(
        ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p
    )(base + found["sqlite3_exec"])
    row_type = ctypes.CFUNCTYPE(
        ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_char_p)
    )

    def query(db: int, sql: bytes) -> bytes | None:
        """The first column of the first row (per call: ctypes lets other threads run during exec)."""
        rows: list[bytes | None] = []

        @row_type
        def on_row(_arg: Any, ncols: int, values: Any, _names: Any) -> int:
            rows.append(values[0] if ncols else None)
            return 0

        if exec_(db, sql, ctypes.cast(on_row, ctypes.c_void_p), None, None) != 0 or not rows:
            return None
        return rows[0]

    @ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
    def on_open(db: int, _errmsg: Any, _api: Any) -> int:
        # Runs inside sqlite3_open_v2 for every connection of that copy of SQLite; must return 0 (SQLITE_OK),
        # or the open fails. journal_mode is read from the file: NORMAL is safe only under WAL.
        global last_synchronous
        try:
            if wanted() and query(db, b"PRAGMA journal_mode") == b"wal":
                exec_(db, b"PRAGMA synchronous=NORMAL", None, None, None)
            level = query(db, b"PRAGMA synchronous")
            last_synchronous = int(level) if level is not None else None
        except Exception:  # noqa: BLE001 - never fail an open over this; SQLite's default stays
            pass
        return 0

    auto_extension = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)(base + found["sqlite3_auto_extension"])
    _state["keep"] = (exec_, on_open, auto_extension)  # SQLite holds the pointers: keep them alive
    return auto_extension(ctypes.cast(on_open, ctypes.c_void_p)) == 0


def _elf_functions(path: str, names: tuple[str, ...], anchor: str) -> dict[str, int] | None:
    """Offsets of the functions `names` (from .symtab) and of `anchor` (from .dynsym) in a 64-bit
    little-endian ELF file, or None if one is missing. The file is mapped, not read: its string
    table alone is megabytes."""
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as elf:
        if elf[:6] != b"\x7fELF\x02\x01":
            return None
        shoff = struct.unpack_from("<Q", elf, 0x28)[0]
        shentsize, shnum = struct.unpack_from("<HH", elf, 0x3A)
        sections = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
        found: dict[str, int] = {}
        for kind, wanted_names in ((_SHT_SYMTAB, names), (_SHT_DYNSYM, (anchor,))):
            symtab = next((s for s in sections if s[1] == kind), None)
            if symtab is None:
                return None
            strtab = sections[symtab[6]]
            for name in wanted_names:
                value = _function(elf, (strtab[4], strtab[4] + strtab[5]), (symtab[4], symtab[4] + symtab[5]), name)
                if value is None:
                    return None
                found[name] = value
    return found


def _function(elf: mmap.mmap, strings: tuple[int, int], symbols: tuple[int, int], name: str) -> int | None:
    """The value of the function symbol `name` in a symbol table (24-byte Elf64_Sym entries) and its
    string table, each given as (start, end) in the file."""
    at = elf.find(b"\0" + name.encode() + b"\0", strings[0] - 1, strings[1])
    if at < 0:
        return None
    name_offset = struct.pack("<I", at + 1 - strings[0])
    i = elf.find(name_offset, *symbols)
    while i >= 0:
        if (i - symbols[0]) % 24 == 0:
            _, info, _, _, value, _ = struct.unpack_from("<IBBHQQ", elf, i)
            if info & 0xF == _STT_FUNC and value:
                return int(value)
        i = elf.find(name_offset, i + 1, symbols[1])
    return None


def _mapped_at(path: str) -> int | None:
    """Where this process mapped the start (offset 0) of the file `path`."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(None, 5)
            if len(fields) == 6 and fields[2] == "00000000" and fields[5].strip() == path:
                return int(fields[0].split("-")[0], 16)
    return None
