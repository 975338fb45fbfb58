"""Scenario 10 (issue 11): untrusted data is never unpickled.

(a) A static scan of framework/, components/ and orchestrators/ for every way Python can turn bytes
    into code (pickle/dill/cloudpickle loads, yaml.load/unsafe_load/full_load, marshal, shelve,
    numpy allow_pickle, pandas read_pickle, joblib.load). Each occurrence must be on ALLOWED with the
    reason it reads code or the framework's own messages, not data: how the bytes travel and who
    can write them. An occurrence not on the list is a violation.
(b) Malicious pickles (their __reduce__ creates a canary file) are planted wherever data might be
    read as a pickle: value artifacts' `value` files, Examples split folders, a Model folder,
    Schema / statistics / anomalies files, users' data files under ExampleGen's input_base and
    ImportSchemaGen's schema_file, the task tmp dirs of later steps, ML Metadata properties and
    custom properties (then read by cached reruns, the Python reader and the CLI), and the
    parameters, metadata config and artifact types of an IR file given to `headrace run x.json`.
    Pipelines, components and the CLI read them; the canary must never appear.
"""

from __future__ import annotations

import base64
import json
import pickle
import re
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path
from typing import Any

from _reliability import record, trials

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("framework", "components", "orchestrators")

UNSAFE = re.compile(
    r"\b(?:pickle|cPickle|dill|cloudpickle|_pickle)\.(?:loads?|Unpickler)\b"
    r"|\byaml\.(?:load|unsafe_load|full_load|load_all|unsafe_load_all|full_load_all)\b"
    r"|\bmarshal\.loads?\b|\bshelve\.open\b|\ballow_pickle\s*=\s*True\b|\bread_pickle\b|\bjoblib\.load\b"
    r"|\bimport (?:dill|shelve|marshal|joblib)\b|\bfrom (?:dill|shelve|marshal|joblib) import\b"
)

# (file, the code on the line) -> why it reads code or the framework's own messages, not data.
ALLOWED: dict[tuple[str, str], str] = {
    (
        "framework/dsl/user_code.py",
        'obj = pickle.loads(zlib.decompress(base64.b64decode(payload["data"])))',
    ): "CODE: the pipeline's own function/class (or an ExampleGen reader function) that the compiler "
    "cloudpickled into the IR's executor spec (`executor.payload`) or into ExampleGen's custom-reader "
    "parameter, because a pipeline file is not importable where the step runs. It travels inside the IR "
    "(the file `headrace compile` writes, the run's IR kept in the store for resume, the node IR KFP/Airflow "
    "pass to the task); whoever can write those can already change what the pipeline runs, like its .py "
    "file. Loaded only when that node's executor runs, never when an IR is read, shown or compiled.",
    (
        "framework/launcher/worker.py",
        "return pickle.loads(data)",
    ): "MESSAGES between the runner and the worker process it spawned: length-prefixed pickles over two "
    "anonymous pipes (os.pipe) inherited by that child only; tasks one way, results the other. No file, "
    "no socket: only the two processes can write them.",
    (
        "framework/entrypoint.py",
        "task = pickle.load(f)",
    ): "MESSAGE from the runner: the ExecutionTask the Docker launcher pickled into the step's own tmp dir "
    "(<root>/<node>/.system/tmp/<execution id>/task.pkl, written just before the container starts and "
    "mounted into it); read inside the container that runs this step's (the pipeline's own) code.",
    (
        "framework/launcher/container.py",
        "result: ExecutorResult = pickle.load(f)",
    ): "MESSAGE from the step's container: the ExecutorResult headrace's entrypoint pickles into the same "
    "tmp dir; read only after that container exited 0 (the entrypoint writes it before exiting). The "
    "container runs the pipeline's own executor in the image the pipeline names (with_image), so its code "
    "is the pipeline's code. Container components (a command in any image) never produce it: their "
    "outputs are files, read by no pickle.",
    (
        "components/serving/_serving_probe.py",
        "request = pickle.load(f)",
    ): "MESSAGE from InfraValidator: the request it built (model dir, tags, parsed examples) pickled into a "
    "private tempfile.TemporaryDirectory (mode 0700, removed afterwards) for the probe subprocess it starts; "
    "the examples are parsed data, never unpickled from the artifact.",
}


def _scan() -> tuple[list[str], list[str]]:
    """Unlisted occurrences, and the listed ones found (file:line code)."""
    unlisted: list[str] = []
    listed: list[str] = []
    for top in SCANNED:
        for path in sorted((REPO / top).rglob("*.py")):
            rel = str(path.relative_to(REPO))
            for number, line in enumerate(path.read_text().splitlines(), 1):
                code = line.split("#", 1)[0].strip()
                if not UNSAFE.search(code):
                    continue
                (listed if (rel, code) in ALLOWED else unlisted).append(f"{rel}:{number}: {code}")
    return unlisted, listed


# -- (b) planted payloads -----------------------------------------------------------------------
class _Canary:
    """Unpickling this creates the canary file (what an attacker's payload would do instead)."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (Path(self.path),))


def _payloads(canary: str) -> list[bytes]:
    """The same attack in the forms a loader might meet: every pickle protocol, and wrapped as the
    IR wraps user code (zlib + base64)."""
    raw = [pickle.dumps(_Canary(canary), protocol=p) for p in range(pickle.HIGHEST_PROTOCOL + 1)]
    return [*raw, base64.b64encode(zlib.compress(raw[-1]))]


PIPELINE = """
import os
from headrace import InputArtifact, OutputArtifact, OutputDict, Parameter, Pipeline, component, Importer
from headrace.types.standard_artifacts import (Boolean, Bytes, Examples, ExampleAnomalies, ExampleStatistics, Float,
                                               Integer, JsonValue, Model, Schema, String)

def _try(read):
    try:
        return repr(read())[:40]
    except Exception as e:  # the payload is bad data: any error is fine, running it is not
        return type(e).__name__

@component
def ReadValues(i: InputArtifact[Integer], f: InputArtifact[Float], s: InputArtifact[String],
               b: InputArtifact[Bytes], bo: InputArtifact[Boolean], j: InputArtifact[JsonValue],
               note: Parameter[dict] = {{}}) -> OutputDict(seen=str):
    return {{'seen': '|'.join(_try(a.read) for a in (i, f, s, b, bo, j))}}

@component
def ReadFiles(examples: InputArtifact[Examples], schema: InputArtifact[Schema],
              stats: InputArtifact[ExampleStatistics], anomalies: InputArtifact[ExampleAnomalies],
              model: InputArtifact[Model]) -> OutputDict(seen=str):
    from headrace.components.io import artifact_files
    from headrace.components.io.examples import FORMAT_PARQUET, FORMAT_TF_EXAMPLE, iter_batches
    seen = [_try(lambda: list(iter_batches(examples.uri, split, fmt)))
            for split in ('train', 'eval') for fmt in (FORMAT_PARQUET, FORMAT_TF_EXAMPLE)]
    seen += [_try(lambda: artifact_files.read_schema(schema.uri)),
             _try(lambda: artifact_files.read_statistics(stats.uri, 'train')),
             _try(lambda: artifact_files.read_anomalies(anomalies.uri, 'train'))]
    return {{'seen': '|'.join(seen)}}

def imported(uri, kind, name, **props):
    return Importer(source_uri=uri, artifact_type=kind, **props).with_id(name)

def create_pipeline(root, planted, enable_cache=True):
    from headrace.components import CsvExampleGen, ImportExampleGen, ImportSchemaGen, Pusher
    v = {{t.__name__: imported(os.path.join(planted, 'values', t.__name__), t, 'value_' + t.__name__)
         for t in (Integer, Float, String, Bytes, Boolean, JsonValue)}}
    ex = imported(os.path.join(planted, 'examples'), Examples, 'examples',
                  properties={{'split_names': '["train", "eval"]'}})
    sc = imported(os.path.join(planted, 'schema'), Schema, 'schema')
    st = imported(os.path.join(planted, 'stats'), ExampleStatistics, 'stats',
                  properties={{'split_names': '["train"]'}})
    an = imported(os.path.join(planted, 'anomalies'), ExampleAnomalies, 'anomalies',
                  properties={{'split_names': '["train"]'}})
    mo = imported(os.path.join(planted, 'model'), Model, 'model')
    values = ReadValues(i=v['Integer'].outputs['result'], f=v['Float'].outputs['result'],
                        s=v['String'].outputs['result'], b=v['Bytes'].outputs['result'],
                        bo=v['Boolean'].outputs['result'], j=v['JsonValue'].outputs['result'],
                        note={{'text': 'plain'}})
    files = ReadFiles(examples=ex.outputs['result'], schema=sc.outputs['result'], stats=st.outputs['result'],
                      anomalies=an.outputs['result'], model=mo.outputs['result'])
    csv = CsvExampleGen(input_base=os.path.join(planted, 'users_csv')).with_id('csv_gen')
    imp = ImportExampleGen(input_base=os.path.join(planted, 'users_import')).with_id('import_gen')
    isg = ImportSchemaGen(schema_file=os.path.join(planted, 'users_schema', 'schema.pbtxt'))
    push = Pusher(model=mo.outputs['result'],
                  push_destination={{'filesystem': {{'base_directory': os.path.join(root, 'serving')}}}})
    nodes = [*v.values(), ex, sc, st, an, mo, values, files, csv, imp, isg, push]
    return Pipeline('s10', root, nodes, enable_cache=enable_cache)
"""


def _plant_files(planted: Path, payloads: list[bytes]) -> int:
    """Writes payloads into every artifact folder and user data file the pipeline reads."""
    count = 0

    def put(path: Path, data: bytes) -> None:
        nonlocal count
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        count += 1

    for kind in ("Integer", "Float", "String", "Bytes", "Boolean", "JsonValue"):
        put(planted / "values" / kind / "value", payloads[-2])
    for split in ("train", "eval"):
        for name in ("data.parquet", "data.tfrecord", "data.tfrecord.gz", "data.pkl", "data.pickle", "data.npy"):
            put(planted / "examples" / f"Split-{split}" / name, payloads[split == "eval"])
    put(planted / "schema" / "schema.pbtxt", payloads[2])
    put(planted / "schema" / "schema.pkl", payloads[3])
    put(planted / "stats" / "Split-train" / "FeatureStats.pb", payloads[4])
    put(planted / "anomalies" / "Split-train" / "SchemaDiff.pb", payloads[5])
    for name in ("saved_model.pb", "model.pkl", "model.joblib", "keras_metadata.pb", "variables/variables.index"):
        put(planted / "model" / name, payloads[-2])
    for name in ("data.csv", "more.csv.gz"):
        put(planted / "users_csv" / name, payloads[-2])
    for name in ("data.parquet", "data.tfrecord", "data.pkl"):
        put(planted / "users_import" / name, payloads[-2])
    put(planted / "users_schema" / "schema.pbtxt", payloads[-2])
    return count


def _plant_tmp_dirs(root: Path, node_ids: list[str], payloads: list[bytes], executions: int) -> int:
    """Pickles in the task tmp dirs the next executions will get (named by execution id)."""
    count = 0
    for node in node_ids:
        for ex_id in range(1, executions + 1):
            folder = root / node / ".system" / "tmp" / str(ex_id)
            folder.mkdir(parents=True, exist_ok=True)
            for name in ("task.pkl", "result.pkl"):
                (folder / name).write_bytes(payloads[-2])
                count += 1
    return count


def _plant_metadata(db: Path, payloads: list[bytes]) -> int:
    """Pickles (raw as latin-1 text, and base64 as the IR wraps code) in every string property and
    custom property of every artifact, execution and context, and as new custom properties."""
    import sqlite3

    texts = [payloads[-2].decode("latin-1"), payloads[-1].decode()]
    con = sqlite3.connect(str(db))
    count = 0
    try:
        for table, key in (("ArtifactProperty", "artifact_id"), ("ExecutionProperty", "execution_id"),
                           ("ContextProperty", "context_id")):  # fmt: skip
            rows = con.execute(f"SELECT {key}, name, is_custom_property FROM {table} WHERE string_value IS NOT NULL")
            for i, (owner, name, custom) in enumerate(list(rows)):
                if name in ("run_id", "node_id", "pipeline_name", "cache_key", "attempt", "ir"):
                    continue  # identity fields the runner matches on, not values it decodes
                con.execute(
                    f"UPDATE {table} SET string_value = ? WHERE {key} = ? AND name = ? AND is_custom_property = ?",
                    (texts[i % 2], owner, name, custom),
                )
                count += 1
            owners = [r[0] for r in con.execute(f"SELECT DISTINCT {key} FROM {table}")]
            for owner in owners:
                for n, text in enumerate(texts):
                    con.execute(
                        f"INSERT OR REPLACE INTO {table} ({key}, name, is_custom_property, string_value) "
                        "VALUES (?, ?, 1, ?)",
                        (owner, f"planted_{n}", text),
                    )
                    count += 1
        con.commit()
    finally:
        con.close()
    return count


def _plant_ir(ir_file: Path, payloads: list[bytes]) -> int:
    """Pickles in the IR's data fields: a parameter (raw, base64, and shaped like a code payload
    but in a plain dict parameter), the metadata config and an artifact type's properties."""
    ir = json.loads(ir_file.read_text())
    wrapped = payloads[-1].decode()
    count = 0
    for node in ir["nodes"]:
        if node["id"] == "ReadValues":
            node["parameters"]["note"] = {
                "text": payloads[-2].decode("latin-1"),
                "b64": wrapped,
                "qualname": "x",
                "code": "x",
                "payload": {"format": "cloudpickle", "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
                            "data": wrapped, "digest": "planted"},
            }  # fmt: skip
            count += 3
        for out in node["outputs"].values():
            out["artifact_type"]["properties"]["planted"] = "STRING"
        count += 1
    ir_file.write_text(json.dumps(ir))
    # A second file: the pickle in the metadata config, which must be refused with a clear error.
    ir["metadata_connection"] = {**(ir.get("metadata_connection") or {}), "planted": wrapped}
    ir_file.with_suffix(".metadata.json").write_text(json.dumps(ir))
    return count + 1


def _states(db: Path) -> dict[str, int]:
    """Each node's latest execution state in the store (3 COMPLETE, 4 FAILED, 5 CACHED)."""
    import sqlite3

    con = sqlite3.connect(str(db))
    try:
        rows = con.execute(
            "SELECT p.string_value, e.last_known_state FROM Execution e JOIN ExecutionProperty p "
            "ON p.execution_id = e.id AND p.name = 'node_id' ORDER BY e.id"
        ).fetchall()
    finally:
        con.close()
    return dict(rows)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "headrace", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_untrusted_data_is_never_unpickled(tmp_path: Path) -> None:
    from headrace.cli.loader import load_file_as_module
    from headrace.compiler import compile_pipeline
    from headrace.orchestrators import LocalDagRunner

    # (a) the static scan
    unlisted, listed = _scan()
    stale = [f"{f}: {c}" for f, c in ALLOWED if not any(x.startswith(f) and x.endswith(c) for x in listed)]

    # (b) planted payloads, read by pipelines, components and the CLI
    rounds = trials(3, 1)
    violations: list[str] = [f"unsafe load not allowlisted: {u}" for u in unlisted]
    violations += [f"allowlist entry matches nothing (update it): {s}" for s in stale]
    planted_count, runs = 0, 0
    node_states: dict[str, Any] = {}
    for round_no in range(rounds):
        work = tmp_path / f"round{round_no}"
        canary = work / "CANARY"
        payloads = _payloads(str(canary))
        planted, root = work / "planted", work / "root"
        planted_count += _plant_files(planted, payloads)
        source = work / "s10_pipeline.py"
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(textwrap.dedent(PIPELINE).format())
        mod = load_file_as_module(str(source))
        pipeline = mod.create_pipeline(str(root), str(planted))
        node_ids = [c.id for c in pipeline.components]
        planted_count += _plant_tmp_dirs(root, node_ids, payloads, executions=60)

        def check(what: str) -> None:
            if canary.exists():
                violations.append(f"round {round_no}: the canary appeared after {what}")
                canary.unlink()

        # The control: the payloads are live (unpickling one in a fresh process makes the canary).
        subprocess.run([sys.executable, "-c", "import pickle,sys; pickle.loads(sys.stdin.buffer.read())"],
                       input=payloads[round_no % 5], check=False, timeout=60)  # fmt: skip
        if not canary.exists():
            violations.append(f"round {round_no}: the control payload did not create the canary: the test is blind")
        else:
            canary.unlink()
        first = LocalDagRunner(quiet=True, raise_on_failure=False).run(pipeline)
        runs += 1
        check("the first run")
        if first.node_states.get("ReadValues") != "COMPLETE" or first.node_states.get("ReadFiles") != "COMPLETE":
            violations.append(f"round {round_no}: the reading steps did not run: {first.node_states}")

        db = root / "metadata.sqlite"
        planted_count += _plant_metadata(db, payloads)
        again = LocalDagRunner(quiet=True, raise_on_failure=False).run(
            mod.create_pipeline(str(root), str(planted))
        )  # cached: outputs and their properties come back from the store
        runs += 1
        check("a cached rerun over planted metadata")
        fresh = LocalDagRunner(quiet=True, raise_on_failure=False).run(
            mod.create_pipeline(str(root), str(planted), enable_cache=False)
        )
        runs += 1
        check("an uncached rerun over planted metadata")

        from headrace.metadata import Metadata, MetadataReader, sqlite_metadata_connection_config

        reader = MetadataReader(Metadata(sqlite_metadata_connection_config(str(db))))
        for run_id in (first.run_id, again.run_id, fresh.run_id):
            for ex in reader.executions(run_id):
                for arts in list(ex.outputs.values()) + list(ex.inputs.values()):
                    for a in arts:
                        _ = (a.custom_properties, a.properties)
        check("MetadataReader over planted metadata")
        for args in (["runs", "list", "--metadata", str(db)], ["runs", "show", first.run_id, "--metadata", str(db)]):
            _cli(*args, cwd=work)
            check(f"headrace {' '.join(args[:2])}")
        for artifact_id in range(1, 40):
            _cli("show", str(artifact_id), "--metadata", str(db), cwd=work)
        check("headrace show ARTIFACT_ID (39 artifacts)")

        ir_file = work / "s10.json"
        ir_file.write_text(compile_pipeline(mod.create_pipeline(str(work / "root_ir"), str(planted))).dump())
        planted_count += _plant_ir(ir_file, payloads)
        planted_count += _plant_tmp_dirs(work / "root_ir", node_ids, payloads, executions=60)
        result = _cli("run", str(ir_file), "-q", "--no-cache", cwd=work)
        runs += 1
        check("headrace run x.json with pickles in its data fields")
        states = (
            _states(work / "root_ir" / "metadata.sqlite") if (work / "root_ir" / "metadata.sqlite").exists() else {}
        )
        if states.get("ReadValues") != 3:  # COMPLETE: the step with the planted parameter ran
            violations.append(f"round {round_no}: headrace run x.json did not run ReadValues ({states}): "
                              f"{result.stdout[-300:]} {result.stderr[-500:]}")  # fmt: skip
        node_states.update({f"ir:{k}": v for k, v in states.items()})
        result = _cli("run", str(ir_file.with_suffix(".metadata.json")), "-q", cwd=work)
        runs += 1
        check("headrace run x.json with a pickle in its metadata config")
        if result.returncode == 0 or "Traceback" in result.stderr or "metadata_connection" not in result.stderr:
            violations.append(
                f"round {round_no}: a planted metadata config gave no clear error: {result.stderr[-400:]}"
            )
        node_states.update({f"first:{k}": v for k, v in first.node_states.items()})
        for reader_node in ("ReadValues", "ReadFiles"):  # what each read gave: errors, never the payload's effect
            outputs = first.nodes[reader_node].outputs.get("seen") if reader_node in first.nodes else None
            node_states[f"seen:{reader_node}"] = Path(outputs[0]).read_text() if outputs else None

    record(
        10,
        "Untrusted data is never unpickled",
        rounds,
        f"{planted_count} malicious pickles planted (value files, Examples splits, Model, Schema/statistics/"
        f"anomalies files, users' CSV/Parquet/TFRecord/schema files, task tmp dirs of later steps, ML Metadata "
        f"properties, IR data fields) and read by {runs} runs, MetadataReader and the CLI; static scan: "
        f"{len(listed)} pickle loads, each allowlisted as code or own messages",
        len(violations),
        f"{len(violations)} canaries or unlisted unsafe loads",
        {
            "planted": planted_count,
            "runs": runs,
            "node_states_last_round": node_states,
            "allowlisted_loads": {x: ALLOWED[k] for k in ALLOWED for x in listed if x.startswith(k[0])},
            "violations": violations[:20],
        },
    )
    assert not violations, "untrusted data reached a pickle:\n" + "\n".join(violations[:20])
