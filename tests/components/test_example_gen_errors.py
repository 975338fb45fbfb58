"""Bad input files: each gives an error naming the file, the line or column and the fix, and
leaves no LIVE artifact; the skip policy skips and counts malformed rows instead."""

from __future__ import annotations

from pathlib import Path

import pytest
from datagen import custom_property, live_artifacts, output_uri, run, split_rows

from headrace.components import CsvExampleGen
from headrace.components.example_gen.readers import InputDataError, ReadStats, read_csv

pytestmark = pytest.mark.heavy_imports  # pyarrow reads the splits back in this process

GOOD = "id,name,score\n1,ann,0.5\n2,bob,1.5\n3,cid,2.5\n"

CASES = {
    "extra_column": (
        {"a.csv": GOOD + "4,dan,3.5,surplus\n5,eve,4.5\n"},
        ["a.csv, line 5", "expected 3 fields", "an extra column", "invalid_rows='skip'"],
    ),
    "missing_column": (
        {"a.csv": GOOD + "4,dan\n"},
        ["a.csv, line 5", "got 2 (a missing column)", "Fix the row"],
    ),
    "empty_file": ({"a.csv": ""}, ["a.csv is empty", "no header line"]),
    "no_data_files": ({".hidden": "x", "_SUCCESS": ""}, ["No data files match pattern '*'", "input_base"]),
    "mixed_types": (
        {"a.csv": GOOD + "4,dan,high\n"},
        ["a.csv, line 5, column 'score'", "'high' is text in a column of numbers", "column_types={'score': 'string'}"],
    ),
    "non_utf8": (
        {"a.csv": GOOD + "4,d\xe9n,3.5\n"},
        ["a.csv: column 'name' has bytes that are not UTF-8 (line 5", "encoding='latin-1'"],
    ),
    "files_disagree_on_columns": (
        {"a.csv": GOOD, "b.csv": "id,name\n7,zed\n"},
        ["b.csv has different columns", "missing ['score']"],
    ),
    "header_only": ({"a.csv": "id,name,score\n"}, ["hold no rows", "a.csv"]),
    "duplicate_header": ({"a.csv": "id,id\n1,2\n"}, ["names column(s) ['id'] more than once"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_names_the_file_and_the_fix_and_leaves_nothing_live(tmp_path: Path, case: str) -> None:
    files, expected = CASES[case]
    base = tmp_path / "in"
    base.mkdir()
    for name, text in files.items():
        (base / name).write_bytes(text.encode("latin-1"))
    result = run(tmp_path / "root", CsvExampleGen(input_base=base))
    outcome = result.nodes["CsvExampleGen"]
    assert result.state == "FAILED" and outcome.state == "FAILED"
    error = str(outcome.error)
    for fragment in expected:
        assert fragment in error, f"{fragment!r} not in {error!r}"
    assert "InputDataError" in error
    assert "Traceback" not in error and "Traceback" in outcome.error.traceback_text  # the message is the help
    assert live_artifacts(tmp_path / "root") == 0


def test_a_missing_input_base_is_a_clear_error(tmp_path: Path) -> None:
    result = run(tmp_path / "root", CsvExampleGen(input_base=tmp_path / "nowhere"))
    assert "does not exist or is not a folder" in str(result.nodes["CsvExampleGen"].error)
    assert live_artifacts(tmp_path / "root") == 0


def test_skip_policy_skips_and_counts_malformed_rows(tmp_path: Path) -> None:
    base = tmp_path / "in"
    base.mkdir()
    (base / "a.csv").write_text(GOOD + "4,dan,3.5,surplus\n5,eve\n6,fay,5.5\n")
    result = run(tmp_path / "root", CsvExampleGen(input_base=base, invalid_rows="skip"))
    assert result.state == "COMPLETE"
    uri = output_uri(result, "CsvExampleGen", "examples")
    assert sorted(r["id"] for r in split_rows(uri, "train") + split_rows(uri, "eval")) == [1, 2, 3, 6]
    assert custom_property(tmp_path / "root", uri, "skipped_rows") == 2


def test_an_encoding_reads_latin1_files(tmp_path: Path) -> None:
    base = tmp_path / "in"
    base.mkdir()
    (base / "a.csv").write_bytes((GOOD + "4,d\xe9n,3.5\n").encode("latin-1"))
    result = run(tmp_path / "root", CsvExampleGen(input_base=base, encoding="latin-1"))
    uri = output_uri(result, "CsvExampleGen", "examples")
    assert "dén" in {r["name"] for r in split_rows(uri, "train") + split_rows(uri, "eval")}


def test_a_file_that_disappears_before_it_is_read(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="disappeared while it was being read"):
        list(read_csv(str(tmp_path / "gone.csv"), None, "error", None, ReadStats()))
