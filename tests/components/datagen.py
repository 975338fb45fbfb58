"""Small synthetic data and pipeline helpers for the data-component tests."""

from __future__ import annotations

import csv
import glob
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np

from headrace import LocalDagRunner
from headrace.dsl import Pipeline
from headrace.orchestrators import RunResult

CITIES = ["paris", "lyon", "nice", "lille"]


def write_csv(path: Path, rows: int, seed: int = 0, shift: float = 0.0, cities: list[str] | None = None) -> Path:
    """A CSV with numeric and categorical columns: id, age, income, score, city, label."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "age", "income", "score", "city", "label"])
        for i in range(rows):
            w.writerow(
                [
                    i,
                    int(rng.integers(18, 90)),
                    round(float(rng.lognormal(10, 1)), 2),
                    round(float(rng.normal(shift, 1)), 4),
                    str(rng.choice(cities or CITIES)),
                    int(rng.integers(0, 2)),
                ]
            )
    return path


def run(root: Path, *components: Any, name: str = "data", mode: str = "process", **kwargs: Any) -> RunResult:
    """Runs the components as one pipeline under `root`, without raising on failure. TFDV tests
    run in process (`mode="inprocess"`): the test process imports TensorFlow once, not each run."""
    pipeline = Pipeline(pipeline_name=name, pipeline_root=str(root), components=list(components))
    return LocalDagRunner(raise_on_failure=False, executor_mode=mode, quiet=True).run(pipeline, **kwargs)


def output_uri(result: RunResult, node: str, key: str) -> str:
    """The URI of a node's single output artifact."""
    return result.nodes[node].outputs[key][0]


def split_rows(uri: str, split: str) -> list[dict[str, Any]]:
    """The rows of one split of an Examples artifact (Parquet or tf.Example), in file order."""
    import pyarrow as pa

    from headrace.components.io.examples import iter_batches

    payload = "FORMAT_PARQUET" if glob.glob(os.path.join(uri, f"Split-{split}", "*.parquet")) else "FORMAT_TF_EXAMPLE"
    batches = list(iter_batches(uri, split, payload))
    return pa.Table.from_batches(batches).to_pylist() if batches else []


def live_artifacts(root: Path) -> int:
    """How many LIVE artifacts the run's store holds."""
    return _sql(root / "metadata.sqlite", "SELECT COUNT(*) FROM Artifact WHERE state = 2")[0][0]


def custom_property(root: Path, uri: str, name: str) -> Any:
    """A custom property of the artifact at `uri`, read from the store."""
    found = _sql(
        root / "metadata.sqlite",
        "SELECT p.string_value, p.int_value FROM ArtifactProperty p JOIN Artifact a ON a.id = p.artifact_id "
        f"WHERE a.uri = '{uri}' AND p.name = '{name}'",
    )
    if not found:
        return None
    s, i = found[0]
    return s if s is not None else i


def _sql(db: Path, query: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(str(db))
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def split_names(root: Path, uri: str) -> list[str]:
    """The split_names property of the artifact at `uri`."""
    return json.loads(custom_property(root, uri, "split_names"))
