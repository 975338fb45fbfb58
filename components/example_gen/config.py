"""ExampleGen's configuration: TFX's Input / Output / RangeConfig (protos or their JSON dicts),
checked when the component is built, and the resolution of input files, spans and versions."""

from __future__ import annotations

import copy
import datetime
import glob
import os
import re
from typing import Any

from headrace.components.example_gen.readers import InputDataError, visible_files
from headrace.components.io.examples import FORMAT_PARQUET, FORMAT_TF_EXAMPLE
from headrace.errors import DefinitionError

_SPLIT_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_PAYLOADS = {
    6: FORMAT_TF_EXAMPLE,
    15: FORMAT_PARQUET,
    "FORMAT_TF_EXAMPLE": FORMAT_TF_EXAMPLE,
    "FORMAT_PARQUET": FORMAT_PARQUET,
    "tf_example": FORMAT_TF_EXAMPLE,
    "tfrecord": FORMAT_TF_EXAMPLE,
    "parquet": FORMAT_PARQUET,
}
DEFAULT_INPUT = {"splits": [{"name": "single_split", "pattern": "*"}]}
DEFAULT_OUTPUT = {
    "split_config": {"splits": [{"name": "train", "hash_buckets": 2}, {"name": "eval", "hash_buckets": 1}]}
}


def check_input_config(owner: str, config: dict[str, Any]) -> dict[str, Any]:
    """Validates an Input config: named splits with glob patterns."""
    splits = config.get("splits") or []
    if not isinstance(splits, list) or not splits:
        raise DefinitionError(f"{owner}: input_config needs at least one split, e.g. Input(splits=[Input.Split(...)]).")
    names = []
    for s in splits:
        name, pattern = s.get("name", ""), s.get("pattern", "")
        if not _SPLIT_NAME.match(str(name)):
            raise DefinitionError(f"{owner}: input split name {name!r} must be letters, digits, '_', '.', '-'.")
        if not pattern:
            raise DefinitionError(f"{owner}: input split '{name}' needs a pattern (a glob relative to input_base).")
        if os.path.isabs(pattern) or ".." in pattern.split("/"):
            raise DefinitionError(
                f"{owner}: input split '{name}' pattern {pattern!r} must stay inside input_base (relative, no '..')."
            )
        names.append(name)
    _unique(owner, "input", names)
    return config


def check_output_config(owner: str, config: dict[str, Any], input_config: dict[str, Any]) -> dict[str, Any]:
    """Validates an Output config; with several input splits, output splits must not be given."""
    split_config = config.get("split_config") or {}
    splits = split_config.get("splits") or []
    several_inputs = len(input_config["splits"]) > 1
    if several_inputs and splits:
        raise DefinitionError(
            f"{owner}: input_config has {len(input_config['splits'])} splits, so output splits come from it; "
            "leave output_config's split_config empty (or give input_config a single split to hash-split)."
        )
    if several_inputs:
        return config
    if not splits:
        config = copy.deepcopy(DEFAULT_OUTPUT) | {k: v for k, v in config.items() if k != "split_config"}
        splits = config["split_config"]["splits"]
    names = []
    for s in splits:
        name, buckets = s.get("name", ""), s.get("hash_buckets", 0)
        if not _SPLIT_NAME.match(str(name)):
            raise DefinitionError(f"{owner}: output split name {name!r} must be letters, digits, '_', '.', '-'.")
        if not isinstance(buckets, int) or buckets <= 0:
            raise DefinitionError(
                f"{owner}: output split '{name}' needs hash_buckets > 0 (its share of rows), got {buckets!r}."
            )
        names.append(name)
    _unique(owner, "output", names)
    return config


def _unique(owner: str, kind: str, names: list[str]) -> None:
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DefinitionError(f"{owner}: {kind} split names must be unique; {dupes} repeat.")


def payload_name(owner: str, value: Any) -> str:
    """The payload format's name from TFX's enum value, its name, or 'parquet' / 'tfrecord'."""
    found = _PAYLOADS.get(value)
    if found is None:
        raise DefinitionError(
            f"{owner}: output_data_format {value!r} is not supported; use example_gen_pb2.FORMAT_PARQUET (15, the "
            "default) or FORMAT_TF_EXAMPLE (6), or 'parquet' / 'tfrecord'."
        )
    return found


def check_range_config(owner: str, config: dict[str, Any] | None) -> dict[str, Any] | None:
    """Accepts a static range of one span, or a rolling range of the latest span."""
    if not config:
        return None
    static, rolling = config.get("static_range"), config.get("rolling_range")
    if static is not None:
        start, end = static.get("start_span_number", 0), static.get("end_span_number", 0)
        if start != end:
            raise DefinitionError(
                f"{owner}: range_config static_range {start}..{end} spans several spans; headrace's ExampleGen "
                "reads one span per run: give start_span_number == end_span_number."
            )
    elif rolling is not None:
        if rolling.get("num_spans", 1) != 1:
            raise DefinitionError(f"{owner}: range_config rolling_range supports num_spans=1 (the latest span).")
    else:
        raise DefinitionError(f"{owner}: range_config needs static_range or rolling_range.")
    return config


_PLACEHOLDER = re.compile(r"\{(SPAN|VERSION|YYYY|MM|DD)(?::(\d+))?\}")
_DATE_WIDTH = {"YYYY": 4, "MM": 2, "DD": 2}
_EPOCH = datetime.date(1970, 1, 1)


def date_to_span_number(year: int, month: int, day: int) -> int:
    """The span of a date in {YYYY}-{MM}-{DD} patterns: days since 1970-01-01 (TFX's rule)."""
    return (datetime.date(year, month, day) - _EPOCH).days


def span_number_to_date(span: int) -> tuple[int, int, int]:
    """(year, month, day) of a date span."""
    d = _EPOCH + datetime.timedelta(days=span)
    return d.year, d.month, d.day


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out, pos = [], 0
    for m in _PLACEHOLDER.finditer(pattern):
        out.append(_glob_regex(pattern[pos : m.start()]))
        width = m.group(2) or _DATE_WIDTH.get(m.group(1))
        out.append(f"(?P<{m.group(1)}>\\d{{{width}}})" if width else f"(?P<{m.group(1)}>\\d+)")
        pos = m.end()
    out.append(_glob_regex(pattern[pos:]))
    return re.compile("".join(out) + r"\Z")


def _glob_regex(text: str) -> str:
    return "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in text)


def resolve_files(
    input_base: str, input_config: dict[str, Any], range_config: dict[str, Any] | None
) -> tuple[int, int | None, dict[str, list[str]]]:
    """(span, version, {input split: files}) for this run. With {SPAN} / {VERSION} in the
    patterns, the latest span (or the one range_config names) and its latest version are read."""
    if not os.path.isdir(input_base):
        raise InputDataError(
            f"input_base {input_base} does not exist or is not a folder. Point input_base at the folder that "
            "holds the data files."
        )
    splits = input_config["splits"]
    span, version = _choose_span(input_base, splits, range_config)
    files: dict[str, list[str]] = {}
    for split in splits:
        pattern = _fill(split["pattern"], span, version)
        found = visible_files(glob.glob(os.path.join(input_base, pattern)))
        if not found:
            present = sorted(os.listdir(input_base))[:10]
            raise InputDataError(
                f"No data files match pattern {pattern!r} (split '{split['name']}') in input_base {input_base}. "
                f"It holds: {', '.join(present) if present else 'nothing'}. Put data files there or fix input_config."
            )
        files[split["name"]] = found
    return span, version, files


def _fill(pattern: str, span: int, version: int | None) -> str:
    date = dict(zip(("YYYY", "MM", "DD"), span_number_to_date(span), strict=True))

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in date:
            return str(date[name]).zfill(_DATE_WIDTH[name])
        value = span if name == "SPAN" else version
        return str(value).zfill(int(m.group(2))) if m.group(2) else str(value)

    return _PLACEHOLDER.sub(sub, pattern)


def _choose_span(input_base: str, splits: list[dict[str, Any]], range_config: dict[str, Any] | None) -> tuple[int, Any]:
    patterns = [s["pattern"] for s in splits]
    dated = [p for p in patterns if "{YYYY}" in p or "{MM}" in p or "{DD}" in p]
    if dated and (
        any("{SPAN" in p for p in patterns) or any(not all(f"{{{x}}}" in p for x in _DATE_WIDTH) for p in dated)
    ):
        raise InputDataError(
            "Input patterns with a date need all of {YYYY}, {MM} and {DD}, and no {SPAN} (the date is the span)."
        )
    if not any("{SPAN" in p for p in patterns) and not dated:
        if any("{VERSION" in p for p in patterns):
            raise InputDataError("An input pattern has {VERSION} without {SPAN}; a version is a version of a span.")
        return 0, None
    wanted = None
    if range_config and "static_range" in range_config:
        wanted = int(range_config["static_range"].get("start_span_number", 0))
    minimum = int((range_config or {}).get("rolling_range", {}).get("start_span_number", 0))
    found: dict[int, set[Any]] = {}
    for p in patterns:
        regex = _pattern_regex(p)
        for path in glob.glob(os.path.join(input_base, _PLACEHOLDER.sub("*", p))):
            m = regex.match(os.path.relpath(path, input_base))
            if m:
                groups = m.groupdict()
                v = groups.get("VERSION")
                if dated:
                    try:
                        span = date_to_span_number(int(groups["YYYY"]), int(groups["MM"]), int(groups["DD"]))
                    except ValueError:
                        continue  # not a date (e.g. 2024-13-40)
                else:
                    span = int(groups["SPAN"])
                found.setdefault(span, set()).add(int(v) if v is not None else None)
    spans = sorted(s for s in found if s >= minimum and (wanted is None or s == wanted))
    if not spans:
        which = f"span {wanted}" if wanted is not None else "any span"
        raise InputDataError(
            f"No files for {which} match the input patterns {patterns} in {input_base}. Span folders are named by "
            "the pattern, e.g. 'span-{SPAN}/*' matches span-1/data.csv."
        )
    span = spans[-1]
    versions = sorted(v for v in found[span] if v is not None)
    return span, (versions[-1] if versions else None)
