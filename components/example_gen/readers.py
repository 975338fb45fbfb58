"""ExampleGen's file readers: each turns one input file into a stream of Arrow record batches,
and turns what goes wrong into an error that names the file, the line or column, and the fix."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from headrace.errors import HeadraceError

if TYPE_CHECKING:
    import pyarrow as pa

CSV_BLOCK_BYTES = 16 << 20  # pyarrow parses a block at a time: memory stays bounded per file
SKIP_HINT = "or pass invalid_rows='skip' to skip and count such rows"


class InputDataError(HeadraceError):
    """An input file of an ExampleGen cannot be read as data."""


class WidenColumnError(Exception):
    """A column's type, inferred from the first rows, does not fit a later value that another type
    holds without loss (an integer column with a decimal; an empty column with values): read the
    input again with the column declared as `to_type`."""

    def __init__(self, column: str, to_type: str = "float64"):
        super().__init__(column)
        self.column = column
        self.to_type = to_type


class ReadStats:
    """What a read skipped, for the artifact and the log."""

    def __init__(self) -> None:
        self.skipped_rows = 0
        self.skipped_samples: list[str] = []

    def skip(self, text: str) -> None:
        self.skipped_rows += 1
        if len(self.skipped_samples) < 5:
            self.skipped_samples.append(text[:200])


def _find_line(path: str, text: str) -> int | None:
    """The 1-based number of the first line of `path` equal to `text` (for error messages)."""
    target = text.rstrip("\r\n")
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            for number, line in enumerate(f, 1):
                if line.rstrip("\r\n") == target:
                    return number
    except OSError:
        return None
    return None


def _find_value_line(path: str, column: int, value: str, encoding: str) -> int | None:
    """The 1-based line of the first row whose `column` field is `value`."""
    try:
        with open(path, encoding=encoding, errors="replace", newline="") as f:
            reader = csv.reader(f)
            for row in reader:
                if len(row) > column and row[column] == value:
                    return reader.line_num
    except (OSError, csv.Error):
        return None
    return None


def _first_non_utf8(path: str) -> tuple[int, int] | None:
    """(line, byte offset in the line) of the first bytes that are not UTF-8."""
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as e:
                return number, e.start
    return None


_COLUMNS_RE = re.compile(r"Expected (\d+) columns, got (\d+): (.*)", re.S)
_CONVERT_RE = re.compile(r"column #(\d+): CSV conversion error to (\w+): invalid value '(.*)'", re.S)


def read_csv(
    path: str,
    column_types: dict[str, pa.DataType] | None,
    invalid_rows: str,
    encoding: str | None,
    stats: ReadStats,
) -> Iterator[pa.RecordBatch]:
    """Streams a CSV file with a header line. Raises InputDataError (or WidenColumnError)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    def on_invalid(row: Any) -> str:
        stats.skip(row.text)
        return "skip"

    read_options = pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES, encoding=encoding or "utf8")
    parse_options = pacsv.ParseOptions(
        newlines_in_values=True,  # a quoted value may span lines, also across pyarrow's block boundaries
        invalid_row_handler=on_invalid if invalid_rows == "skip" else None,
    )
    convert_options = pacsv.ConvertOptions(column_types=column_types or {}, strings_can_be_null=True)
    names: list[str] = []
    try:
        reader = pacsv.open_csv(path, read_options, parse_options, convert_options)
        names = reader.schema.names
        _check_header(path, names)
        _check_text(path, reader.schema, encoding)
        first = True
        for batch in reader:
            _check_text(path, batch.schema, encoding)
            if first:
                _check_mixed(path, batch, column_types or {}, encoding)
                first = False
            yield _dates_as_text(batch, column_types or {})
    except pa.ArrowInvalid as e:
        raise _csv_error(path, str(e), names or _header(path, encoding), encoding) from None
    except FileNotFoundError:
        raise InputDataError(
            f"Input file {path} disappeared while it was being read. Keep input_base unchanged while the "
            "pipeline runs (write new data to a new span folder), then run again."
        ) from None
    except OSError as e:
        raise InputDataError(f"Cannot read input file {path}: {e}.") from None


def _check_header(path: str, names: list[str]) -> None:
    blank = [i + 1 for i, n in enumerate(names) if not n.strip()]
    if blank:
        raise InputDataError(
            f"CSV file {path}: the header line has an empty column name (column {blank[0]}). Every column needs "
            "a name in the first line."
        )
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputDataError(f"CSV file {path}: the header names column(s) {dupes} more than once. Rename them.")


def _dates_as_text(batch: pa.RecordBatch, declared: dict[str, Any]) -> pa.RecordBatch:
    """Columns pyarrow read as dates or times become their text again, as TFX reads CSV (TFDV and
    tf.Example know no date type); declare a column's type to keep it typed."""
    import pyarrow as pa

    temporal = [i for i, f in enumerate(batch.schema) if pa.types.is_temporal(f.type) and f.name not in declared]
    if not temporal:
        return batch
    arrays = list(batch.columns)
    for i in temporal:
        arrays[i] = arrays[i].cast(pa.string())
    return pa.RecordBatch.from_arrays(arrays, batch.schema.names)


def _header(path: str, encoding: str | None) -> list[str]:
    try:
        with open(path, encoding=_py_encoding(encoding), errors="replace", newline="") as f:
            # read in bounded pieces: a file that is one huge line (binary, NULs) must not be read whole
            pieces = iter(lambda: f.readline(1 << 20), "")
            return next(csv.reader(pieces), [])
    except OSError:
        return []
    except csv.Error as e:  # NUL bytes, a first "field" longer than any header's: not a CSV file
        raise InputDataError(
            f"CSV file {path}: its first line is not a CSV header ({e}). Is it a CSV file? Remove it from the "
            "input folder, or narrow input_config's pattern to the CSV files."
        ) from None


_NUMBER = r"^\s*[-+]?((\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|nan|inf|infinity)\s*$"


def _check_mixed(path: str, batch: pa.RecordBatch, declared: dict[str, Any], encoding: str | None) -> None:
    """A text column whose values are nearly all numbers holds numbers and text: a data error
    (a typo, a 'N/A' marker), reported with its line, unless the user declared the column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for index, field in enumerate(batch.schema):
        if field.name in declared or not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
            continue
        col = batch.column(index)
        present = len(col) - col.null_count
        if present < 2:
            continue
        numeric = pc.match_substring_regex(col, _NUMBER, ignore_case=True)
        count = pc.sum(numeric).as_py() or 0
        if count == present or count < 3 or present - count > max(1, 0.1 * present):
            continue
        value = col.filter(pc.invert(numeric.fill_null(True)))[0].as_py()
        line = _find_value_line(path, index, value, _py_encoding(encoding))
        raise InputDataError(
            f"CSV file {path}, line {line or '?'}, column '{field.name}': value {value!r} is text in a column of "
            f"numbers ({count:,} of {present:,} values in the first rows are numbers): mixed types in one column. "
            f"Fix the value (or mark it missing with an empty field), or declare the column's type: "
            f"column_types={{'{field.name}': 'string'}}."
        )


def _check_text(path: str, schema: pa.Schema, encoding: str | None) -> None:
    """pyarrow reads a text column with non-UTF-8 bytes as binary: say where, and how to fix it."""
    import pyarrow as pa

    binary = [f.name for f in schema if pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)]
    if not binary:
        return
    where = _first_non_utf8(path)
    at = f"line {where[0]}, byte {where[1] + 1} of the line" if where else "somewhere in the file"
    raise InputDataError(
        f"CSV file {path}: column '{binary[0]}' has bytes that are not UTF-8 ({at}). Re-encode the file as "
        "UTF-8, or pass encoding='<the file's encoding>' (e.g. encoding='latin-1') to the ExampleGen."
    )


def _csv_error(path: str, message: str, names: list[str], encoding: str | None) -> Exception:
    if "Empty CSV file" in message:
        return InputDataError(
            f"CSV file {path} is empty: it has no header line. Remove it from the input folder, or give it a "
            "header line and rows."
        )
    m = _COLUMNS_RE.search(message)
    if m:
        expected, got, text = int(m.group(1)), int(m.group(2)), m.group(3)
        line = _find_line(path, text)
        kind = "a missing" if got < expected else "an extra"
        return InputDataError(
            f"CSV file {path}, line {line or '?'}: expected {expected} fields like the header "
            f"({', '.join(names)}), got {got} ({kind} column): {text[:200]!r}. Fix the row, {SKIP_HINT}."
        )
    m = _CONVERT_RE.search(message)
    if m:
        index, to_type, value = int(m.group(1)), m.group(2), m.group(3)
        column = names[index] if index < len(names) else f"#{index}"
        if to_type == "int64" and _is_float(value):
            return WidenColumnError(column)
        if to_type == "null":  # the first block had no value in this column
            return WidenColumnError(column, "float64" if _is_float(value) else "string")
        line = _find_value_line(path, index, value, _py_encoding(encoding))
        return InputDataError(
            f"CSV file {path}, line {line or '?'}, column '{column}': value {value!r} is not {to_type} like the "
            f"values before it (mixed types in one column). Fix the value, or declare the column's type: "
            f"column_types={{'{column}': 'string'}}."
        )
    return InputDataError(f"CSV file {path}: {message}")


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _py_encoding(encoding: str | None) -> str:
    return encoding or "utf-8"


def read_parquet(path: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Streams a Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        yield from pq.ParquetFile(path).iter_batches(batch_size=batch_rows)
    except FileNotFoundError:
        raise InputDataError(f"Input file {path} disappeared while it was being read.") from None
    except (pa.ArrowInvalid, OSError) as e:
        raise InputDataError(
            f"Parquet file {path} cannot be read ({e}). It may be truncated or not Parquet: ImportExampleGen "
            "reads Parquet files and TFRecord files of tf.Example."
        ) from None


def read_tf_examples(path: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Streams a TFRecord file of serialized tf.Example (gzip or not) as list columns."""
    from tfx_bsl.coders import example_coder

    from headrace.components.io.tfrecord import TFRecordError, is_gzip, read_records

    decoder = example_coder.ExamplesToRecordBatchDecoder()
    chunk: list[bytes] = []
    try:
        for record in read_records(path, gzipped=is_gzip(path)):
            chunk.append(record)
            if len(chunk) >= batch_rows:
                yield _decode(decoder, chunk, path)
                chunk = []
        if chunk:
            yield _decode(decoder, chunk, path)
    except TFRecordError as e:
        raise InputDataError(str(e)) from None
    except FileNotFoundError:
        raise InputDataError(f"Input file {path} disappeared while it was being read.") from None


def _decode(decoder: Any, records: list[bytes], path: str) -> pa.RecordBatch:
    try:
        return decoder.DecodeBatch(records)
    except Exception as e:  # noqa: BLE001 - tfx_bsl raises RuntimeError/ValueError from C++
        raise InputDataError(
            f"TFRecord file {path}: records are not serialized tf.Example protos ({e}). ImportExampleGen reads "
            "TFRecords of tf.Example (FORMAT_TF_EXAMPLE) and Parquet files."
        ) from None


def file_kind(path: str) -> str:
    """'parquet' or 'tfrecord', from the file's first bytes (ImportExampleGen's inputs)."""
    with open(path, "rb") as f:
        head = f.read(4)
    if head == b"PAR1":
        return "parquet"
    if not head:
        raise InputDataError(f"Input file {path} is empty. Remove it from the input folder.")
    return "tfrecord"


def visible_files(paths: list[str]) -> list[str]:
    """Regular files among `paths`, without hidden or `_`-prefixed names (e.g. `_SUCCESS`)."""
    return sorted(p for p in paths if os.path.isfile(p) and not os.path.basename(p).startswith((".", "_")))
