"""Scenario 7 (issue 11): a bad-input corpus for every standard component and for pipeline definitions.

Definition time (no TensorFlow): for each standard component an unknown argument (a near miss), a
channel of the wrong artifact type, a value that is not a channel, a wrongly typed parameter; for
pipelines a cycle, a duplicate id, things that are not components; IR documents that are malformed,
truncated, empty, wrongly typed, huge or not UTF-8; pipeline files likewise, through the CLI. Each
must raise a headrace error (DefinitionError / IRError / the CLI's one-line message), never a bare
Python exception or a traceback.

Run time: one LocalDagRunner run whose independent branches each feed one component bad data
(empty, truncated, binary, not UTF-8, wrongly typed artifacts, a broken module file, a model that is
not a model; in the full form also a single 50 MB line and a 1 GB sparse file). Each node must end
FAILED with a headrace error (the executor raised a HeadraceError: its message says what and how to
fix it, no traceback in it), and no artifact of a failed execution may be LIVE.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _reliability import FULL, record

from headrace import HeadraceError, Importer, Pipeline
from headrace.components import (
    BulkInferrer,
    CsvExampleGen,
    DistributionValidator,
    Evaluator,
    ExampleValidator,
    ImportExampleGen,
    ImportSchemaGen,
    InfraValidator,
    Pusher,
    SchemaGen,
    StatisticsGen,
    Trainer,
)
from headrace.types import standard_artifacts as sa

pytestmark = pytest.mark.heavy_imports  # the run-time cases run TensorFlow's components in this process

COMPONENTS = [
    "CsvExampleGen",
    "ImportExampleGen",
    "StatisticsGen",
    "SchemaGen",
    "ImportSchemaGen",
    "ExampleValidator",
    "DistributionValidator",
    "Trainer",
    "Evaluator",
    "InfraValidator",
    "Pusher",
    "BulkInferrer",
]


def _ch(t: Any) -> Any:
    return Importer(source_uri="/nonexistent", artifact_type=t).outputs["result"]


PUSH = {"filesystem": {"base_directory": "/tmp/headrace-s07-push"}}


_PARTS: dict[str, dict[str, Any]] = {}  # both tests' results, recorded together as scenario 7


def _record_part(part: str, per_component: Counter[str], failures: list[str], extra: dict[str, Any]) -> None:
    _PARTS[part] = {"cases_per_component": dict(per_component), "failures": failures, **extra}
    cases = {p: sum(v["cases_per_component"].values()) for p, v in _PARTS.items()}
    bad = sum(len(v["failures"]) for v in _PARTS.values())
    record(
        7,
        "Bad input corpus",
        sum(cases.values()),
        "definitions: unknown arguments, wrong artifact types, non-channels, wrongly typed parameters, cycles, "
        "duplicate ids, malformed/truncated/empty/non-UTF-8/huge IR and pipeline files (API and CLI); run time: "
        "empty, truncated, binary, non-UTF-8, wrongly typed data, missing files, broken module files, non-models"
        + (", a 50 MB line, a 1 GB sparse file" if FULL else ""),
        bad,
        ", ".join(f"{n} bad {p} cases" for p, n in cases.items()) + f": {bad} without a typed, readable headrace "
        "error (or with a LIVE output)",
        _PARTS,
    )


def _definition_cases(tmp: Path) -> list[tuple[str, str, Callable[[], Any]]]:
    """(component or 'Pipeline', case, a call that must raise a headrace error)."""
    ex, st, sc, mo = (
        (lambda: _ch(sa.Examples)),
        (lambda: _ch(sa.ExampleStatistics)),
        (lambda: _ch(sa.Schema)),
        (lambda: _ch(sa.Model)),
    )
    mod = str(tmp / "m.py")
    cases: list[tuple[str, str, Callable[[], Any]]] = [
        ("CsvExampleGen", "unknown argument", lambda: CsvExampleGen(input_bse=str(tmp))),
        ("CsvExampleGen", "input_base wrongly typed", lambda: CsvExampleGen(input_base=123)),
        ("CsvExampleGen", "invalid_rows unknown value", lambda: CsvExampleGen(input_base=str(tmp), invalid_rows="x")),
        ("CsvExampleGen", "input_config wrongly typed", lambda: CsvExampleGen(input_base=str(tmp), input_config=7)),
        ("ImportExampleGen", "unknown argument", lambda: ImportExampleGen(input_base=str(tmp), split=1)),
        ("ImportExampleGen", "input_base missing", lambda: ImportExampleGen()),
        (
            "ImportExampleGen",
            "output_config wrongly typed",
            lambda: ImportExampleGen(input_base=str(tmp), output_config="x"),
        ),
        ("StatisticsGen", "unknown argument", lambda: StatisticsGen(examples=ex(), exampels=1)),
        ("StatisticsGen", "wrong artifact type", lambda: StatisticsGen(examples=sc())),
        ("StatisticsGen", "not a channel", lambda: StatisticsGen(examples=str(tmp))),
        ("StatisticsGen", "exclude_splits wrongly typed", lambda: StatisticsGen(examples=ex(), exclude_splits=5)),
        ("SchemaGen", "unknown argument", lambda: SchemaGen(statistics=st(), infer_shape=True)),
        ("SchemaGen", "wrong artifact type", lambda: SchemaGen(statistics=ex())),
        ("SchemaGen", "input missing", lambda: SchemaGen()),
        ("ImportSchemaGen", "unknown argument", lambda: ImportSchemaGen(schema_fil="x")),
        ("ImportSchemaGen", "schema_file wrongly typed", lambda: ImportSchemaGen(schema_file=3)),
        ("ExampleValidator", "unknown argument", lambda: ExampleValidator(statistics=st(), schema=sc(), fail=True)),
        ("ExampleValidator", "wrong artifact type", lambda: ExampleValidator(statistics=sc(), schema=sc())),
        (
            "ExampleValidator",
            "parameter wrongly typed",
            lambda: ExampleValidator(statistics=st(), schema=sc(), fail_on_anomalies="yes"),
        ),
        ("DistributionValidator", "unknown argument", lambda: DistributionValidator(statistics=st(), baseline=st())),
        (
            "DistributionValidator",
            "wrong artifact type",
            lambda: DistributionValidator(statistics=ex(), baseline_statistics=st()),
        ),
        (
            "DistributionValidator",
            "parameter wrongly typed",
            lambda: DistributionValidator(statistics=st(), baseline_statistics=st(), significance_level="0.05"),
        ),
        ("Trainer", "unknown argument", lambda: Trainer(examples=ex(), module_file=mod, train_steps=3)),
        ("Trainer", "wrong artifact type", lambda: Trainer(examples=mo(), module_file=mod)),
        ("Trainer", "module_file wrongly typed", lambda: Trainer(examples=ex(), module_file=5)),
        ("Trainer", "module_file with a NUL byte", lambda: Trainer(examples=ex(), module_file="a\0b.py")),
        ("Trainer", "train_args wrongly typed", lambda: Trainer(examples=ex(), module_file=mod, train_args=[1])),
        ("Evaluator", "unknown argument", lambda: Evaluator(examples=ex(), model=mo(), evalconfig={})),
        ("Evaluator", "wrong artifact type", lambda: Evaluator(examples=ex(), model=ex())),
        ("Evaluator", "eval_config wrongly typed", lambda: Evaluator(examples=ex(), model=mo(), eval_config=5)),
        ("InfraValidator", "unknown argument", lambda: InfraValidator(model=mo(), serving=1)),
        ("InfraValidator", "wrong artifact type", lambda: InfraValidator(model=ex())),
        ("InfraValidator", "request_spec wrongly typed", lambda: InfraValidator(model=mo(), request_spec="x")),
        ("Pusher", "unknown argument", lambda: Pusher(model=mo(), push_destination=PUSH, model_blesing=1)),
        ("Pusher", "wrong artifact type", lambda: Pusher(model=ex(), push_destination=PUSH)),
        ("Pusher", "push_destination wrongly typed", lambda: Pusher(model=mo(), push_destination="/tmp/x")),
        ("BulkInferrer", "unknown argument", lambda: BulkInferrer(examples=ex(), model=mo(), modelspec={})),
        ("BulkInferrer", "wrong artifact type", lambda: BulkInferrer(examples=mo(), model=mo())),
        (
            "BulkInferrer",
            "execution_path unknown value",
            lambda: BulkInferrer(examples=ex(), model=mo(), execution_path="gpu"),
        ),
    ]

    def cycle() -> Any:
        a, b = StatisticsGen(examples=ex()).with_id("a"), StatisticsGen(examples=ex()).with_id("b")
        a.add_upstream_node(b)
        b.add_upstream_node(a)
        return Pipeline("cycle", str(tmp / "root"), [a, b])

    def duplicate() -> Any:
        return Pipeline("dup", str(tmp / "root"), [ImportSchemaGen(schema_file="x"), ImportSchemaGen(schema_file="y")])

    cases += [
        ("Pipeline", "cycle", cycle),
        ("Pipeline", "duplicate node id", duplicate),
        ("Pipeline", "a component that is a string", lambda: Pipeline("p", str(tmp), ["CsvExampleGen"])),
        ("Pipeline", "components not a list", lambda: Pipeline("p", str(tmp), 5)),
        ("Pipeline", "pipeline_root wrongly typed", lambda: Pipeline("p", 5, [])),
        ("Pipeline", "name wrongly typed", lambda: Pipeline(None, str(tmp), [])),
        ("Pipeline", "unknown argument", lambda: Pipeline("p", str(tmp), [], enable_caching=True)),
        (
            "Pipeline",
            "metadata config wrongly typed",
            lambda: Pipeline("p", str(tmp), [], metadata_connection_config="x.db"),
        ),
    ]
    return cases


def _ir_cases(tmp: Path) -> list[tuple[str, bytes]]:
    """IR documents headrace's loader must refuse with an IRError."""
    from headrace.compiler import compile_pipeline

    good = compile_pipeline(Pipeline("ir", str(tmp / "root"), [ImportSchemaGen(schema_file=str(tmp / "s"))])).dump()
    raw = good.encode()
    return [
        ("empty", b""),
        ("truncated", raw[: len(raw) // 2]),
        ("malformed JSON", b"{ this is not json"),
        ("not UTF-8", b"\xff\xfe\x00garbage" + raw[10:]),
        ("a JSON list", b"[1, 2, 3]"),
        ("a JSON string", b'"pipeline"'),
        ("nodes wrongly typed", raw.replace(b'"nodes": [', b'"nodes": 5, "x": [', 1)),
        ("wrong IR version", raw.replace(b'"ir_version": ', b'"ir_version": 999, "old": ', 1)),
        (
            "huge (one 50 MB line)" if FULL else "huge (one 5 MB line)",
            b'{"x": "' + b"a" * ((50 if FULL else 5) << 20) + b'"}',
        ),
        ("NUL bytes", b"\0" * 1024),
    ]


def _file_cases() -> list[tuple[str, bytes]]:
    """Pipeline files the CLI must refuse with a one-line message (no traceback)."""
    good = b"from headrace import Pipeline\npipeline = Pipeline('f', '/tmp/headrace-s07-f', [])\n"
    return [
        ("empty", b""),
        ("syntax error", b"from headrace import Pipeline\npipeline = Pipeline('f', \n"),
        ("truncated", good[: len(good) // 2]),
        ("not UTF-8", good + b"name = '\xff\xfe'\n"),
        ("no pipeline defined", b"x = 1\n"),
        ("pipeline wrongly typed", b"pipeline = 42\n"),
        ("raises on import", b"raise RuntimeError('boom')\n"),
        ("NUL bytes", b"\0\0\0"),
    ]


def test_bad_definitions_raise_headrace_errors(tmp_path: Path) -> None:
    from headrace.compiler import load

    started = time.perf_counter()
    failures: list[str] = []
    per_component: Counter[str] = Counter()
    for owner, case, call in _definition_cases(tmp_path):
        per_component[owner] += 1
        try:
            call()
            failures.append(f"{owner} / {case}: no error")
        except HeadraceError as e:
            if not str(e).strip() or "Traceback" in str(e):
                failures.append(f"{owner} / {case}: unreadable message {str(e)!r}")
        except Exception as e:  # noqa: BLE001 - a bare Python exception is the violation counted here
            failures.append(f"{owner} / {case}: {type(e).__name__}: {e}")
    for case, data in _ir_cases(tmp_path):
        per_component["IR loader"] += 1
        try:
            load(data.decode("utf-8", errors="surrogateescape") if case != "not UTF-8" else data)  # type: ignore[arg-type]
            failures.append(f"IR / {case}: no error")
        except HeadraceError:
            pass
        except Exception as e:  # noqa: BLE001
            failures.append(f"IR / {case}: {type(e).__name__}: {str(e)[:200]}")
    # the CLI, as a user calls it: the IR file and pipeline files; one line, exit 1, no traceback
    cli = [sys.executable, "-m", "headrace", "compile"]
    files = [("pipeline file", n, d, ".py") for n, d in _file_cases()]
    files += [("IR file", n, d, ".json") for n, d in _ir_cases(tmp_path)[:5]]
    for kind, case, data, ext in files:
        per_component[f"CLI ({kind})"] += 1
        path = tmp_path / f"case{ext}"
        path.write_bytes(data)
        p = subprocess.run(
            [*cli, str(path), "-o", str(tmp_path / "out.json")], capture_output=True, text=True, timeout=60
        )
        if p.returncode == 0 or "Traceback" in p.stderr or not p.stderr.strip():
            failures.append(f"CLI {kind} / {case}: exit {p.returncode}, stderr {p.stderr[-300:]!r}")
    _record_part("definitions", per_component, failures, {"seconds": round(time.perf_counter() - started, 1)})
    assert not failures, "bad definitions without a headrace error:\n" + "\n".join(failures)


# -- run time --------------------------------------------------------------------------------------

EVAL = {"model_specs": [{"label_key": "label"}], "metrics_specs": [{"metrics": [{"class_name": "ExampleCount"}]}]}
GOOD_CSV = b"a,b,label\n1,2.5,x\n3,4.5,y\n5,6.5,x\n7,8.5,y\n"


def _write(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path)


def _sparse(path: Path, size: int) -> str:
    """A file of `size` bytes that takes no disk space (all NULs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.truncate(size)
    return str(path)


def _importer(node_id: str, uri: Path, artifact_type: Any, **kw: Any) -> Any:
    uri.mkdir(parents=True, exist_ok=True)
    return Importer(source_uri=str(uri), artifact_type=artifact_type, **kw).with_id(node_id)


def _runtime_cases(tmp: Path) -> list[tuple[str, str, Any, list[Any]]]:
    """(component, case, the node that must fail, its upstream importers)."""
    d = tmp / "data"
    cases: list[tuple[str, str, Any, list[Any]]] = []

    def csv(case: str, files: dict[str, bytes]) -> None:
        base = d / f"csv_{len(cases)}"
        base.mkdir(parents=True)
        for name, data in files.items():
            if isinstance(data, int):
                _sparse(base / name, data)
            else:
                _write(base / name, data)
        cases.append(("CsvExampleGen", case, CsvExampleGen(input_base=str(base)).with_id(f"csv_{len(cases)}"), []))

    csv("empty file", {"a.csv": b""})
    csv("truncated (an open quote)", {"a.csv": GOOD_CSV + b'9,"10.5\n'})
    csv("binary garbage", {"a.csv": os.urandom(4096)})
    csv("not UTF-8", {"a.csv": GOOD_CSV + b"9,10.5,\xff\xfe\n"})
    csv("wrongly typed (text in a number column)", {"a.csv": GOOD_CSV + b"nine,10.5,x\n"})
    csv("no files", {})
    if FULL:
        csv("huge: one 50 MB line", {"a.csv": b"a,b\n" + b"1" * (50 << 20) + b"\n"})
        csv("huge: a 1 GB sparse file", {"a.csv": 1 << 30})

    def imp(case: str, files: dict[str, bytes]) -> None:
        base = d / f"imp_{len(cases)}"
        base.mkdir(parents=True)
        for name, data in files.items():
            _write(base / name, data)
        cases.append(
            ("ImportExampleGen", case, ImportExampleGen(input_base=str(base)).with_id(f"imp_{len(cases)}"), [])
        )

    imp("garbage TFRecord", {"a.tfrecord": os.urandom(2048)})
    imp("garbage Parquet", {"a.parquet": b"PAR1" + os.urandom(2048) + b"PAR1"})
    imp("empty file", {"a.tfrecord": b""})
    imp("a CSV file", {"a.csv": GOOD_CSV})

    def examples(node: str, files: dict[str, bytes], splits: str = '["train"]') -> Any:
        uri = d / node
        for name, data in files.items():
            _write(uri / name, data)
        return _importer(node, uri, sa.Examples, properties={"split_names": splits})

    def stats(node: str, data: bytes | None) -> Any:
        uri = d / node
        if data is not None:
            _write(uri / "Split-train" / "FeatureStats.pb", data)
        return _importer(node, uri, sa.ExampleStatistics, properties={"split_names": '["train"]'})

    def schema(node: str, data: bytes) -> Any:
        uri = d / node
        _write(uri / "schema.pbtxt", data)
        return _importer(node, uri, sa.Schema)

    def model(node: str, files: dict[str, bytes]) -> Any:
        uri = d / node
        for name, data in files.items():
            _write(uri / name, data)
        return _importer(node, uri, sa.Model)

    garbage_parquet = {"Split-train/data_parquet-00000-of-00001.parquet": b"PAR1" + os.urandom(1024) + b"PAR1"}
    two_splits = {**garbage_parquet, **{k.replace("train", "eval"): v for k, v in garbage_parquet.items()}}
    e1 = examples("ex_garbage", garbage_parquet)
    cases.append(
        (
            "StatisticsGen",
            "garbage Parquet split",
            StatisticsGen(examples=e1.outputs["result"]).with_id("stats_garbage"),
            [e1],
        )
    )
    e2 = examples("ex_nosplit", {})
    cases.append(
        (
            "StatisticsGen",
            "a split folder missing",
            StatisticsGen(examples=e2.outputs["result"]).with_id("stats_nosplit"),
            [e2],
        )
    )
    e3 = examples("ex_badsplits", {}, splits="not json")
    cases.append(
        (
            "StatisticsGen",
            "split_names not JSON",
            StatisticsGen(examples=e3.outputs["result"]).with_id("stats_badsplits"),
            [e3],
        )
    )

    s1 = stats("st_garbage", os.urandom(512))
    cases.append(
        (
            "SchemaGen",
            "garbage statistics",
            SchemaGen(statistics=s1.outputs["result"]).with_id("schemagen_garbage"),
            [s1],
        )
    )
    s2 = stats("st_missing", None)
    cases.append(
        (
            "SchemaGen",
            "statistics file missing",
            SchemaGen(statistics=s2.outputs["result"]).with_id("schemagen_missing"),
            [s2],
        )
    )

    for i, (case, data) in enumerate(
        [("malformed text proto", b"feature { name: "), ("not UTF-8", b"feature { name: '\xff' }"), ("empty file", b"")]
    ):
        path = _write(d / f"import_schema_{i}" / "schema.pbtxt", data)
        node = ImportSchemaGen(schema_file=path).with_id(f"import_schema_{i}")
        cases.append(("ImportSchemaGen", case, node, []))
    cases.append(
        (
            "ImportSchemaGen",
            "file missing",
            ImportSchemaGen(schema_file=str(d / "nope.pbtxt")).with_id("import_schema_missing"),
            [],
        )
    )

    s3 = stats("st_garbage_ev", os.urandom(512))
    sc1 = schema("sc_ok_ev", b"")
    cases.append(
        (
            "ExampleValidator",
            "garbage statistics",
            ExampleValidator(statistics=s3.outputs["result"], schema=sc1.outputs["result"]).with_id("ev_garbage"),
            [s3, sc1],
        )
    )
    s4 = stats("st_missing_ev", None)
    sc2 = schema("sc_bad_ev", b"feature { name: ")
    cases.append(
        (
            "ExampleValidator",
            "malformed schema",
            ExampleValidator(statistics=s4.outputs["result"], schema=sc2.outputs["result"]).with_id("ev_badschema"),
            [s4, sc2],
        )
    )

    s5, s6 = stats("st_dv_a", os.urandom(256)), stats("st_dv_b", os.urandom(256))
    cases.append(
        (
            "DistributionValidator",
            "garbage statistics",
            DistributionValidator(
                statistics=s5.outputs["result"], baseline_statistics=s6.outputs["result"], l_infinity_threshold=0.1
            ).with_id("dv_garbage"),
            [s5, s6],
        )
    )
    e4, e5 = examples("ex_dv_a", garbage_parquet), examples("ex_dv_b", garbage_parquet)
    cases.append(
        (
            "DistributionValidator",
            "garbage examples",
            DistributionValidator(examples=e4.outputs["result"], baseline_examples=e5.outputs["result"]).with_id(
                "dv_examples"
            ),
            [e4, e5],
        )
    )

    for i, (case, data) in enumerate(
        [
            ("module_file with a syntax error", b"def run_fn(fn_args:\n"),
            ("module_file not UTF-8", b"x = '\xff'\n"),
            ("module_file empty (no run_fn)", b""),
            ("module_file raises on import", b"raise ValueError('boom')\n"),
        ]
    ):
        ex = examples(f"ex_tr_{i}", two_splits, splits='["train", "eval"]')
        module = _write(d / f"trainer_{i}.py", data)
        cases.append(
            (
                "Trainer",
                case,
                _trainer(ex, module, f"trainer_{i}"),
                [ex],
            )
        )
    ex = examples("ex_tr_missing", two_splits, splits='["train", "eval"]')
    cases.append(
        (
            "Trainer",
            "module_file missing",
            Trainer(examples=ex.outputs["result"], module_file=str(d / "gone.py"), keras_version=3).with_id(
                "trainer_missing"
            ),
            [ex],
        )
    )

    m1, e6 = model("mo_ev", {"saved_model.pb": os.urandom(512)}), examples("ex_ev", garbage_parquet)
    cases.append(
        (
            "Evaluator",
            "a model that is not a SavedModel",
            Evaluator(examples=e6.outputs["result"], model=m1.outputs["result"], eval_config=EVAL).with_id(
                "evaluator_garbage"
            ),
            [m1, e6],
        )
    )
    m2 = model("mo_ev_empty", {})
    cases.append(
        (
            "Evaluator",
            "an empty model",
            Evaluator(examples=e6.outputs["result"], model=m2.outputs["result"], eval_config=EVAL).with_id(
                "evaluator_empty"
            ),
            [m2],
        )
    )

    m3 = model("mo_iv", {"saved_model.pb": os.urandom(512)})
    cases.append(
        (
            "InfraValidator",
            "a model that is not a SavedModel",
            InfraValidator(model=m3.outputs["result"]).with_id("infra_garbage"),
            [m3],
        )
    )
    m4 = model("mo_iv_empty", {})
    cases.append(
        ("InfraValidator", "an empty model", InfraValidator(model=m4.outputs["result"]).with_id("infra_empty"), [m4])
    )

    m5 = model("mo_push_empty", {})
    push = {"filesystem": {"base_directory": str(tmp / "serving")}}
    cases.append(
        (
            "Pusher",
            "an empty model",
            Pusher(model=m5.outputs["result"], push_destination=push).with_id("pusher_empty"),
            [m5],
        )
    )
    infra = _importer("infra_nomodel", d / "infra_nomodel", sa.InfraBlessing, custom_properties={"blessed": 1})
    cases.append(
        (
            "Pusher",
            "an InfraBlessing without a model",
            Pusher(infra_blessing=infra.outputs["result"], push_destination=push).with_id("pusher_nomodel"),
            [infra],
        )
    )

    m6, e7 = model("mo_bi", {"saved_model.pb": os.urandom(512)}), examples("ex_bi", garbage_parquet)
    cases.append(
        (
            "BulkInferrer",
            "a model that is not a SavedModel",
            BulkInferrer(examples=e7.outputs["result"], model=m6.outputs["result"]).with_id("bulk_garbage"),
            [m6, e7],
        )
    )
    m7 = model("mo_bi_empty", {})
    cases.append(
        (
            "BulkInferrer",
            "an empty model",
            BulkInferrer(examples=e7.outputs["result"], model=m7.outputs["result"]).with_id("bulk_empty"),
            [m7],
        )
    )
    return cases


def _blessed(db: Path, uri: str) -> int | None:
    """The `blessed` custom property of the artifact at `uri`."""
    con = sqlite3.connect(db)
    try:
        row = con.execute(
            "SELECT p.int_value FROM Artifact a JOIN ArtifactProperty p ON p.artifact_id = a.id "
            "WHERE a.uri = ? AND p.name = 'blessed' AND p.is_custom_property = 1",
            (uri,),
        ).fetchone()
        return None if row is None else int(row[0])
    finally:
        con.close()


def _trainer(examples: Any, module_file: str, node_id: str) -> Any:
    # keras_version=3: the Keras the TFDV steps before it already loaded in this one process
    return Trainer(examples=examples.outputs["result"], module_file=module_file, keras_version=3).with_id(node_id)


def _live_from_failed(db: Path) -> list[tuple[int, str]]:
    """LIVE artifacts that a FAILED (or any not COMPLETE) execution output."""
    con = sqlite3.connect(db)
    try:
        return con.execute(
            "SELECT a.id, a.uri FROM Artifact a JOIN Event e ON e.artifact_id = a.id "
            "JOIN Execution x ON x.id = e.execution_id "
            "WHERE a.state = 2 AND e.type IN (2, 4) AND x.last_known_state NOT IN (3, 5)"
        ).fetchall()
    finally:
        con.close()


def test_bad_data_fails_each_component_with_a_headrace_error_and_nothing_live(tmp_path: Path) -> None:
    from headrace.orchestrators import LocalDagRunner

    started = time.perf_counter()
    cases = _runtime_cases(tmp_path)
    nodes: list[Any] = []
    for _, _, node, upstream in cases:
        nodes += [*upstream, node]
    root = tmp_path / "root"
    pipeline = Pipeline("bad_input", str(root), nodes, enable_cache=False)
    result = LocalDagRunner(executor_mode="inprocess", quiet=True, raise_on_failure=False).run(pipeline)
    failures: list[str] = []
    per_component: Counter[str] = Counter()
    messages: dict[str, str] = {}
    for component, case, node, _ in cases:
        per_component[component] += 1
        outcome = result.nodes[node.id]
        error = outcome.error
        messages[f"{component} / {case}"] = f"{error.error_type}: {error.message[:240]}" if error else outcome.state
        if component == "InfraValidator":  # a validator's answer to a bad model is its verdict: not blessed
            [uri] = outcome.outputs.get("blessing", [""]) if outcome.state == "COMPLETE" else [""]
            if _blessed(root / "metadata.sqlite", uri) != 0:
                failures.append(f"{component} / {case}: ended {outcome.state}, not with a 'not blessed' verdict")
        elif outcome.state != "FAILED" or error is None:
            failures.append(f"{component} / {case}: ended {outcome.state}")
        elif not error.expected or "Traceback" in str(error) or not error.message.strip():
            failures.append(f"{component} / {case}: not a headrace error: {error.error_type}: {error.message[:300]}")
    live = _live_from_failed(root / "metadata.sqlite")
    failures += [f"LIVE artifact {i} from a failed execution: {uri}" for i, uri in live]
    extra = {"messages": messages, "seconds": round(time.perf_counter() - started, 1)}
    _record_part("run time", per_component, failures, extra)
    assert not failures, "bad inputs without a clean failure:\n" + "\n".join(failures)
