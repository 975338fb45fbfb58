"""Automated data validation on the Palmer Penguins data: ingest, statistics, schema, validation.

    headrace run pipelines/data_validation_pipeline.py
    headrace show '#N' --metadata headrace_runs/penguin_data/metadata.sqlite   # the reports

CsvExampleGen (train:eval 2:1 by a hash of each row) -> StatisticsGen (TFDV) -> SchemaGen ->
ExampleValidator, which fails the run with the list of anomalies if the data stops matching its
schema. Re-running with unchanged data hits the cache for every step; adding or touching a file in
pipelines/penguin/data re-runs them.
"""

from __future__ import annotations

import os

from headrace import Pipeline
from headrace.components import CsvExampleGen, ExampleValidator, SchemaGen, StatisticsGen

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "penguin", "data")
# $HEADRACE_ROOT, else penguin_data/ under $HEADRACE_HOME (headrace_runs by default), as the other examples.
ROOT = os.environ.get("HEADRACE_ROOT") or os.path.join(os.environ.get("HEADRACE_HOME", "headrace_runs"), "penguin_data")


def create_pipeline(data: str = DATA, root: str = ROOT) -> Pipeline:
    """The four data components, wired."""
    example_gen = CsvExampleGen(input_base=data, input_config={"splits": [{"name": "all", "pattern": "*.csv"}]})
    statistics = StatisticsGen(examples=example_gen.outputs["examples"])
    schema = SchemaGen(statistics=statistics.outputs["statistics"])
    validator = ExampleValidator(
        statistics=statistics.outputs["statistics"], schema=schema.outputs["schema"], fail_on_anomalies=True
    )
    return Pipeline("penguin_data", root, [example_gen, statistics, schema, validator])


pipeline = create_pipeline()
