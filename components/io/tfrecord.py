"""TFRecord files without TensorFlow: the framing TFX's payloads use, gzip-compressed or not.

A record is: length (uint64 LE), masked CRC32C of the length (uint32 LE), the bytes, masked
CRC32C of the bytes. Reading checks both CRCs, so a truncated or corrupt file is an error
naming the file and the record, not a silent short read.
"""

from __future__ import annotations

import gzip
import struct
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from headrace.errors import HeadraceError

_LEN = struct.Struct("<Q")
_CRC = struct.Struct("<I")
_MASK_DELTA = 0xA282EAD8


class TFRecordError(HeadraceError):
    """A TFRecord file is truncated or corrupt."""


_BLOCK = 4 << 20


def _mask(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def _masked_crc(data: bytes) -> int:
    import google_crc32c

    return _mask(google_crc32c.value(data))


def _open(path: str, mode: str, gzipped: bool | None = None) -> BinaryIO:
    if path.endswith(".gz") if gzipped is None else gzipped:
        return gzip.open(path, mode, compresslevel=6)  # type: ignore[return-value]
    return open(path, mode)  # type: ignore[return-value]


class RecordWriter:
    """Appends records to a TFRecord file (gzip-compressed when its name ends in .gz)."""

    def __init__(self, path: str):
        self.path = path
        self.count = 0
        self._file = _open(path, "wb")

    def write(self, records: Iterable[bytes]) -> None:
        """Appends records."""
        buf: list[bytes] = []
        for data in records:
            length = _LEN.pack(len(data))
            buf += (length, _CRC.pack(_masked_crc(length)), data, _CRC.pack(_masked_crc(data)))
            self.count += 1
        self._file.write(b"".join(buf))

    def close(self) -> None:
        """Flushes and closes the file."""
        self._file.close()


def write_records(path: str, records: Iterable[bytes]) -> int:
    """Writes records to a new TFRecord file; returns how many."""
    writer = RecordWriter(path)
    try:
        writer.write(records)
    finally:
        writer.close()
    return writer.count


def is_gzip(path: str) -> bool:
    """Whether a file starts with gzip's magic bytes."""
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def read_records(path: str, gzipped: bool | None = None) -> Iterator[bytes]:
    """Yields the records of a TFRecord file, checking CRCs. `gzipped` None: by the name (.gz).
    Reads 4 MB blocks and cuts records out of them (a read per record costs more than the CRCs)."""
    import google_crc32c

    header_size = _LEN.size + _CRC.size
    with _open(path, "rb", gzipped) as f:
        buf, pos, index = b"", 0, 0
        while True:
            try:
                if len(buf) - pos < header_size:
                    buf, pos = buf[pos:] + f.read(_BLOCK), 0
                    if not buf:
                        return
                    if len(buf) < header_size:
                        raise TFRecordError("truncated length")
                header = buf[pos : pos + _LEN.size]
                (length,) = _LEN.unpack(header)
                (crc,) = _CRC.unpack_from(buf, pos + _LEN.size)
                if crc != _mask(google_crc32c.value(header)):
                    raise TFRecordError("corrupt length")
                end = pos + header_size + length + _CRC.size
                while len(buf) < end:
                    more = f.read(max(_BLOCK, end - len(buf)))
                    if not more:
                        raise TFRecordError("truncated record")
                    buf, end, pos = buf[pos:] + more, end - pos, 0
                data = buf[pos + header_size : end - _CRC.size]
                if _CRC.unpack_from(buf, end - _CRC.size)[0] != _mask(google_crc32c.value(data)):
                    raise TFRecordError("corrupt record (CRC mismatch)")
                pos = end
            except (TFRecordError, EOFError, OSError, gzip.BadGzipFile, struct.error) as e:
                raise TFRecordError(
                    f"TFRecord file {path}: {e} at record {index}. The file is truncated or is not a "
                    "TFRecord file (gzip-compressed TFRecords must end in .gz)."
                ) from None
            yield data
            index += 1
