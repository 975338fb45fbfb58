"""SpanRangeStrategy: the previous span as a drift baseline, through a Resolver."""

from __future__ import annotations

from pathlib import Path

import pytest
from datagen import custom_property, run, write_csv

from headrace.components import CsvExampleGen
from headrace.dsl import Resolver, SpanRangeStrategy
from headrace.errors import DefinitionError
from headrace.types import Channel
from headrace.types.standard_artifacts import Examples


def _pipeline(base: Path, config: dict | None = None) -> list:
    gen = CsvExampleGen(input_base=base, input_config={"splits": [{"name": "all", "pattern": "span-{SPAN}/*"}]})
    previous = Resolver(
        strategy_class=SpanRangeStrategy,
        config=config or {"rolling_range": {"num_spans": 1, "skip_num_recent_spans": 1}},
        examples=Channel(type=Examples),
    ).with_id("previous_span")
    previous.add_upstream_node(gen)  # after the new span is ingested
    return [gen, previous]


def _spans(root: Path, result) -> list[int]:
    return [custom_property(root, uri, "span") for uri in result.nodes["previous_span"].outputs.get("examples", [])]


def test_the_previous_span_whether_or_not_the_new_one_was_cached(tmp_path: Path) -> None:
    base, root = tmp_path / "in", tmp_path / "root"
    write_csv(base / "span-1" / "d.csv", 30, seed=1)
    assert _spans(root, run(root, *_pipeline(base))) == []  # the first span has no baseline
    write_csv(base / "span-2" / "d.csv", 30, seed=2)
    assert _spans(root, run(root, *_pipeline(base))) == [1]
    again = run(root, *_pipeline(base))
    assert again.nodes["CsvExampleGen"].state == "CACHED" and _spans(root, again) == [1]
    write_csv(base / "span-3" / "d.csv", 30, seed=3)
    assert _spans(root, run(root, *_pipeline(base))) == [2]
    static = {"static_range": {"start_span_number": 1, "end_span_number": 2}}
    assert _spans(root, run(root, *_pipeline(base, static))) == [1, 2]


def test_bad_span_range_configs_are_definition_errors() -> None:
    with pytest.raises(DefinitionError, match="rolling_range or static_range"):
        Resolver(strategy_class=SpanRangeStrategy, config={"bogus": {}}, examples=Channel(type=Examples))
    with pytest.raises(DefinitionError, match="num_spans must be at least 1"):
        Resolver(
            strategy_class=SpanRangeStrategy,
            config={"rolling_range": {"num_spans": 0}},
            examples=Channel(type=Examples),
        )


def test_tfx_form_of_the_span_range_strategy(tmp_path: Path) -> None:
    from headrace.tfx import v1 as tfx

    resolver = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.SpanRangeStrategy,
        config={
            "range_config": tfx.proto.RangeConfig(
                static_range=tfx.proto.StaticRange(start_span_number=2, end_span_number=2)
            )
        },
        examples=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Examples),
    )
    assert resolver.exec_properties["config"] == {"static_range": {"start_span_number": 2, "end_span_number": 2}}
