"""ML Metadata: connection configs, concurrent use of one SQLite store, MariaDB, the read API, value artifacts."""

from __future__ import annotations

import functools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from types import ModuleType

import pytest

from headrace import OutputDict, Pipeline, component
from headrace.cli.loader import load_file_as_module
from headrace.errors import DefinitionError, MetadataError
from headrace.metadata import (
    Metadata,
    MetadataReader,
    connection_config_from_uri,
    mysql_metadata_connection_config,
    open_store,
    sqlite_metadata_connection_config,
)
from headrace.metadata.config import describe
from headrace.orchestrators import LocalDagRunner
from headrace.types import standard_artifacts

REPO = Path(__file__).resolve().parents[2]
HELLO_FILE = REPO / "pipelines" / "hello_pipeline.py"
HELLO_NODES = {"MakeExamples", "HelloComponent", "labels", "Train", "Validate"}


@functools.cache
def hello_module() -> ModuleType:
    """pipelines/hello_pipeline.py, loaded the way the CLI loads a pipeline file."""
    return load_file_as_module(str(HELLO_FILE))


def hello_pipeline(root: Path, metadata_connection_config=None) -> Pipeline:
    base = hello_module().create_pipeline(pipeline_root=str(root), enable_cache=True)
    if metadata_connection_config is None:
        return base
    return Pipeline(
        base.pipeline_name,
        base.pipeline_root,
        base.components,
        metadata_connection_config=metadata_connection_config,
        enable_cache=True,
    )


def by_node(executions):
    out = {}
    for e in executions:
        out.setdefault(e.node_id, []).append(e)
    return out


# -- connection configs --------------------------------------------------------------------------


def test_sqlite_config_is_an_absolute_path_opened_read_write_create(tmp_path, monkeypatch):
    from ml_metadata.proto import metadata_store_pb2

    monkeypatch.chdir(tmp_path)
    config = sqlite_metadata_connection_config("sub/md.sqlite")
    assert isinstance(config, metadata_store_pb2.ConnectionConfig)
    assert config.WhichOneof("config") == "sqlite"
    assert config.sqlite.filename_uri == str(tmp_path / "sub" / "md.sqlite")
    assert config.sqlite.connection_mode == metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    assert sqlite_metadata_connection_config(tmp_path / "p.sqlite").sqlite.filename_uri == str(tmp_path / "p.sqlite")


def test_mysql_config_carries_every_field():
    config = mysql_metadata_connection_config("db.example", 3307, "mlmd", "alice", "s3cret")
    assert config.WhichOneof("config") == "mysql"
    m = config.mysql
    assert (m.host, m.port, m.database, m.user, m.password) == ("db.example", 3307, "mlmd", "alice", "s3cret")
    assert mysql_metadata_connection_config("h", 3306, "d", "u").mysql.password == ""
    # The description used in messages never shows the password.
    assert describe(config) == "mysql://alice@db.example:3307/mlmd"
    assert "s3cret" not in describe(config)


@pytest.mark.parametrize("port", [0, 65536, -1, "3306", 3306.0])
def test_mysql_config_rejects_a_bad_port(port):
    with pytest.raises(DefinitionError, match="port"):
        mysql_metadata_connection_config("h", port, "d", "u", "p")


def test_connection_config_from_uri_reads_a_sqlite_path(tmp_path):
    config = connection_config_from_uri(str(tmp_path / "md.sqlite"))
    assert config.WhichOneof("config") == "sqlite"
    assert config.sqlite.filename_uri == str(tmp_path / "md.sqlite")


def test_connection_config_from_uri_reads_a_mysql_url():
    config = connection_config_from_uri("mysql://bob:pw@10.0.0.5:3310/mlmd_db")
    assert config.WhichOneof("config") == "mysql"
    m = config.mysql
    assert (m.host, m.port, m.database, m.user, m.password) == ("10.0.0.5", 3310, "mlmd_db", "bob", "pw")


def test_connection_config_from_uri_defaults_the_port_and_unquotes_credentials():
    m = connection_config_from_uri("mysql://us%40er:p%40ss%3Aw@dbhost/db").mysql
    assert (m.host, m.port, m.database, m.user, m.password) == ("dbhost", 3306, "db", "us@er", "p@ss:w")


@pytest.mark.parametrize("uri", ["mysql://user:pw@host:3306/", "mysql://user:pw@host:3306", "mysql:///db"])
def test_connection_config_from_uri_rejects_an_incomplete_mysql_url(uri):
    with pytest.raises(DefinitionError, match="mysql://user:password@host:port/db"):
        connection_config_from_uri(uri)


# -- many processes, one SQLite store ------------------------------------------------------------

RACE_WORKER = textwrap.dedent(
    """
    import os
    import sys
    import time

    from headrace import InputArtifact, OutputArtifact, OutputDict, Pipeline, component
    from headrace.metadata import sqlite_metadata_connection_config
    from headrace.orchestrators import LocalDagRunner
    from headrace.types import standard_artifacts as sa


    @component
    def Produce(out: OutputArtifact[sa.Examples]) -> OutputDict(n=int):
        with open(os.path.join(out.uri, "data.txt"), "w") as f:
            f.write("x")
        return {"n": 7}


    @component
    def Consume(inp: InputArtifact[sa.Examples], n: int, model: OutputArtifact[sa.Model]):
        with open(os.path.join(inp.uri, "data.txt")) as f:
            data = f.read()
        with open(os.path.join(model.uri, "model.txt"), "w") as f:
            f.write(data * n)


    def wait_for(path):
        deadline = time.time() + 60
        while not os.path.exists(path):
            if time.time() > deadline:
                sys.exit("no go signal")
            time.sleep(0.001)


    if __name__ == "__main__":
        index, store, root, barrier, name = sys.argv[1:6]
        produce = Produce()
        consume = Consume(inp=produce.outputs["out"], n=produce.outputs["n"])
        pipeline = Pipeline(
            name, root, [produce, consume], metadata_connection_config=sqlite_metadata_connection_config(store),
            enable_cache=False,  # every run writes its own executions: this is about write contention
        )
        open(os.path.join(barrier, "ready-" + index), "w").close()
        wait_for(os.path.join(barrier, "go"))
        result = LocalDagRunner(quiet=True).run(pipeline)
        print(result.run_id, result.state, result.node_states)
        for error in result.errors:
            print(error)
        sys.exit(0 if result.succeeded else 3)
    """
)

OPEN_WORKER = textwrap.dedent(
    """
    import os
    import sys
    import time

    from headrace.metadata import open_store, sqlite_metadata_connection_config

    index, directory, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    import ml_metadata.metadata_store.metadata_store  # imported before the barrier, not timed
    for k in range(rounds):
        open(os.path.join(directory, f"ready-{k}-{index}"), "w").close()
        deadline = time.time() + 60
        while not os.path.exists(os.path.join(directory, f"go-{k}")):
            if time.time() > deadline:
                sys.exit("no go signal")
            time.sleep(0.0005)
        store = open_store(sqlite_metadata_connection_config(os.path.join(directory, f"store-{k}.sqlite")))
        store.get_artifact_types()
    print("ok")
    """
)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    for key in ("HEADRACE_METADATA", "HEADRACE_HOME", "HEADRACE_SQLITE_WAL"):
        env.pop(key, None)
    return env


def _release(procs: list[subprocess.Popen], directory: Path, ready_prefix: str, go: str) -> None:
    """Waits until every process has written its ready file, then lets them all go at once."""
    deadline = time.time() + 60
    while sum(1 for p in directory.iterdir() if p.name.startswith(ready_prefix)) < len(procs):
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            out = dead[0].communicate()[0]
            pytest.fail(f"a worker exited before the barrier (rc={dead[0].returncode}):\n{out}")
        assert time.time() < deadline, "workers did not reach the barrier"
        time.sleep(0.002)
    (directory / go).touch()


def _finish(procs: list[subprocess.Popen]) -> list[tuple[int, str]]:
    results = []
    for p in procs:
        out, _ = p.communicate(timeout=120)
        results.append((p.returncode, out))
    return results


@pytest.mark.parametrize("same_name", [False, True], ids=["distinct-pipelines", "one-pipeline"])
def test_eight_processes_run_pipelines_on_one_new_sqlite_store_at_once(tmp_path, same_name):
    worker = tmp_path / "race_worker.py"
    worker.write_text(RACE_WORKER)
    store = tmp_path / "store" / "metadata.sqlite"  # does not exist yet: they race on creating the schema
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    names = ["race"] * 8 if same_name else [f"race{i}" for i in range(8)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(worker),
                str(i),
                str(store),
                str(tmp_path / "root" / names[i]),
                str(barrier),
                names[i],
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=_child_env(),
        )
        for i in range(8)
    ]
    _release(procs, barrier, "ready-", "go")
    results = _finish(procs)
    failed = [out for rc, out in results if rc != 0]
    assert not failed, "some of the 8 concurrent runs failed:\n" + "\n-----\n".join(failed)

    reader = MetadataReader(Metadata(sqlite_metadata_connection_config(store)))
    assert reader.pipelines() == sorted(set(names))
    runs = reader.runs()
    assert len(runs) == 8
    assert {r.run_id for r in runs} == {out.split()[0] for _, out in results}
    assert {r.state for r in runs} == {"COMPLETE"}
    for run in runs:
        execs = reader.executions(run.run_id)
        assert sorted(e.node_id for e in execs) == ["Consume", "Produce"]
        assert {e.state for e in execs} == {"COMPLETE"}
        [consume] = [e for e in execs if e.node_id == "Consume"]
        [model] = consume.outputs["model"]
        assert Path(model.uri, "model.txt").read_text() == "x" * 7
        assert consume.inputs["n"][0].custom_properties == {
            "value": 7,
            "producer_component": "Produce",
            "pipeline_name": run.pipeline_name,
        }


def test_eight_processes_opening_one_new_sqlite_store_at_once(tmp_path):
    worker = tmp_path / "open_worker.py"
    worker.write_text(OPEN_WORKER)
    rounds = 4
    procs = [
        subprocess.Popen(
            [sys.executable, str(worker), str(i), str(tmp_path), str(rounds)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=_child_env(),
        )
        for i in range(8)
    ]
    for k in range(rounds):
        _release(procs, tmp_path, f"ready-{k}-", f"go-{k}")
    results = _finish(procs)
    failed = [out for rc, out in results if rc != 0 or "ok" not in out]
    assert not failed, "open_store failed under concurrent first opens:\n" + "\n-----\n".join(failed)
    for k in range(rounds):
        store = open_store(sqlite_metadata_connection_config(tmp_path / f"store-{k}.sqlite"))
        assert store.get_artifact_types() == []


def test_eight_threads_opening_and_writing_one_new_sqlite_store_at_once(tmp_path):
    """Threads of one process (runs on a thread pool, a notebook) opening one new store: the WAL
    check closes a descriptor of the file, which drops every POSIX lock the process holds on it.
    It used to run beside another thread's first ML Metadata open, which then failed ("disk I/O
    error", "no such table: Type") or hung."""
    import concurrent.futures as cf

    from ml_metadata.proto import metadata_store_pb2 as pb

    def open_and_write(path, i):
        md = Metadata(sqlite_metadata_connection_config(path))
        for k in range(3):
            md.call(md.store.put_execution_type, pb.ExecutionType(name=f"Step{k}"))
        return md.call(md.store.put_execution_type, pb.ExecutionType(name=f"Own{i}"))

    for k in range(25):
        path = tmp_path / f"store-{k}.sqlite"
        with cf.ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(functools.partial(open_and_write, path), range(8)))
        assert len(set(ids)) == 8
        names = {t.name for t in open_store(sqlite_metadata_connection_config(path)).get_execution_types()}
        assert names == {"Step0", "Step1", "Step2"} | {f"Own{i}" for i in range(8)}


def test_open_store_waits_out_a_schema_another_process_is_still_creating(tmp_path):
    """ML Metadata raises RuntimeError ("a subset of tables") when it sees a half-created schema;
    open_store must treat that as the transient race it is and retry until the schema is complete."""
    full, partial = tmp_path / "full.sqlite", tmp_path / "partial.sqlite"
    open_store(sqlite_metadata_connection_config(full))
    con = sqlite3.connect(full)
    dropped = con.execute(
        "SELECT type, sql FROM sqlite_master WHERE sql IS NOT NULL AND tbl_name IN ('Type', 'Artifact')"
    ).fetchall()
    con.close()
    assert any(kind == "table" for kind, _ in dropped)
    shutil.copy(full, partial)
    con = sqlite3.connect(partial)
    con.execute("DROP TABLE Type")
    con.execute("DROP TABLE Artifact")
    con.commit()
    con.close()

    # Another process, as in the race this is about: two SQLite libraries in one process (Python's and
    # ML Metadata's own) must not share a database file (their POSIX locks are per process, and one may
    # truncate the WAL index the other has mapped: a bus error).
    finish_schema = (
        "import json, sqlite3, sys, time\n"
        "time.sleep(0.3)\n"
        "c = sqlite3.connect(sys.argv[1], timeout=10)\n"
        "for statement in json.loads(sys.argv[2]):\n"
        "    c.execute(statement)\n"
        "c.commit()\n"
    )
    statements = [sql for _, sql in sorted(dropped, key=lambda row: row[0] != "table")]  # tables before indexes
    other_process = subprocess.Popen([sys.executable, "-c", finish_schema, str(partial), json.dumps(statements)])
    try:
        started = time.monotonic()
        store = open_store(sqlite_metadata_connection_config(partial))
        assert time.monotonic() - started >= 0.25  # it did wait for the schema
        assert store.get_artifact_types() == []
    finally:
        assert other_process.wait(timeout=60) == 0


@pytest.mark.parametrize("where", ["under-a-file", "a-directory"])
def test_open_store_reports_an_unusable_path_as_metadata_error(tmp_path, where):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    path = blocker / "md.sqlite" if where == "under-a-file" else tmp_path
    with pytest.raises(MetadataError, match="Cannot open the ML Metadata store"):
        open_store(sqlite_metadata_connection_config(path))


# -- MariaDB ---------------------------------------------------------------------------------------

MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "headrace", "password": "headrace"}
START_MARIADB = (
    "MariaDB is not reachable on 127.0.0.1:3306 as headrace/headrace; start it with: bash scripts/services.sh mariadb"
)


def _mysql(statement: str) -> None:
    """Runs one SQL statement as the headrace user (pymysql if installed, else the mysql client)."""
    try:
        import pymysql
    except ImportError:
        subprocess.run(
            ["mysql", "-h127.0.0.1", "-P3306", "-uheadrace", "-pheadrace", "-e", statement],
            check=True,
            capture_output=True,
            timeout=30,
        )
        return
    con = pymysql.connect(connect_timeout=5, **MARIADB)
    try:
        with con.cursor() as cur:
            cur.execute(statement)
        con.commit()
    finally:
        con.close()


@pytest.fixture
def mariadb_database():
    """A unique database name on the local MariaDB, dropped afterwards. Fails (never skips) without MariaDB."""
    problem = ""
    try:
        _mysql("SELECT 1")
    except Exception as e:  # noqa: BLE001 - any failure to connect means the same thing here
        problem = f"{type(e).__name__}: {e}"
    if problem:
        pytest.fail(f"{START_MARIADB} ({problem})", pytrace=False)
    name = f"headrace_test_{uuid.uuid4().hex[:12]}"
    yield name
    _mysql(f"DROP DATABASE IF EXISTS `{name}`")


def _mariadb_config(database: str):
    return mysql_metadata_connection_config(
        MARIADB["host"], MARIADB["port"], database, MARIADB["user"], MARIADB["password"]
    )


@pytest.mark.mariadb
def test_mariadb_store_is_created_and_round_trips_an_artifact(mariadb_database):
    md = Metadata(_mariadb_config(mariadb_database))
    art = standard_artifacts.Model()
    art.uri = "/models/1"
    art.set_custom_property("accuracy", 0.75)
    art.set_custom_property("epochs", 3)
    art.set_custom_property("note", "first")
    [artifact_id] = md.call(md.store.put_artifacts, [md.artifact_to_proto(art)])
    # A second handle (a new connection) sees it.
    info = MetadataReader(Metadata(_mariadb_config(mariadb_database))).artifact(artifact_id)
    assert info.type_name == "Model"
    assert info.uri == "/models/1"
    assert info.custom_properties == {"accuracy": 0.75, "epochs": 3, "note": "first"}


@pytest.mark.mariadb
def test_hello_pipeline_on_mariadb_runs_reads_back_and_caches(mariadb_database, tmp_path):
    config = _mariadb_config(mariadb_database)
    pipeline = hello_pipeline(tmp_path / "root", metadata_connection_config=config)
    first = LocalDagRunner(quiet=True).run(pipeline)
    assert first.state == "COMPLETE", first.errors
    assert set(first.node_states.values()) == {"COMPLETE"}
    assert first.metadata == f"mysql://headrace@127.0.0.1:3306/{mariadb_database}"
    assert not (tmp_path / "root" / "metadata.sqlite").exists()  # the store is MariaDB, not the SQLite default

    reader = MetadataReader(Metadata(config))
    assert reader.pipelines() == ["hello"]
    [run] = reader.runs()
    assert (run.run_id, run.pipeline_name, run.state) == (first.run_id, "hello", "COMPLETE")
    assert 0 < run.started_ms <= run.finished_ms
    execs = by_node(reader.executions(first.run_id))
    assert set(execs) == HELLO_NODES
    assert all(len(v) == 1 and v[0].state == "COMPLETE" for v in execs.values())
    [accuracy] = execs["Validate"][0].outputs["accuracy"]
    assert accuracy.type_name == "Float"
    assert accuracy.custom_properties["value"] == float(Path(accuracy.uri).read_text())
    assert execs["Train"][0].inputs["examples"][0].id == execs["HelloComponent"][0].outputs["output_data"][0].id

    second = LocalDagRunner(quiet=True).run(pipeline)
    assert second.state == "COMPLETE"
    assert second.node_states == {n: "CACHED" for n in HELLO_NODES}  # the importer reuses its artifact
    assert [r.run_id for r in reader.runs()] == [second.run_id, first.run_id]
    cached = by_node(reader.executions(second.run_id))
    assert cached["Validate"][0].state == "CACHED"
    assert cached["Validate"][0].outputs["accuracy"][0].id == accuracy.id


# -- the read API ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hello_store(tmp_path_factory):
    """The hello pipeline run twice (the second run cached) into a fresh SQLite store."""
    root = tmp_path_factory.mktemp("hello") / "root"
    first = LocalDagRunner(quiet=True).run(hello_pipeline(root))
    second = LocalDagRunner(quiet=True).run(hello_pipeline(root))
    assert first.succeeded and second.succeeded, first.errors + second.errors
    reader = MetadataReader(Metadata(sqlite_metadata_connection_config(root / "metadata.sqlite")))
    return first, second, reader


def test_reader_lists_pipelines_and_runs_newest_first(hello_store):
    first, second, reader = hello_store
    assert reader.pipelines() == ["hello"]
    runs = reader.runs()
    assert [r.run_id for r in runs] == [second.run_id, first.run_id]
    assert [r.run_id for r in reader.runs("hello")] == [second.run_id, first.run_id]
    assert reader.runs("no-such-pipeline") == []
    for r in runs:
        assert r.pipeline_name == "hello"
        assert r.state == "COMPLETE"
        assert 0 < r.started_ms <= r.finished_ms
    assert runs[1].finished_ms <= runs[0].started_ms  # the runs did not overlap


def test_reader_run_returns_one_run_and_names_the_store_for_an_unknown_id(hello_store):
    first, _, reader = hello_store
    run = reader.run(first.run_id)
    assert (run.run_id, run.pipeline_name, run.state) == (first.run_id, "hello", "COMPLETE")
    with pytest.raises(MetadataError, match=r"No run 'nope-123' in .*metadata\.sqlite"):
        reader.run("nope-123")
    with pytest.raises(MetadataError, match="nope-123"):
        reader.executions("nope-123")


def test_reader_executions_have_states_times_inputs_and_outputs(hello_store):
    first, _, reader = hello_store
    run = reader.run(first.run_id)
    execs = reader.executions(first.run_id)
    assert [e.id for e in execs] == sorted(e.id for e in execs)
    order = [e.node_id for e in execs]
    assert set(order) == HELLO_NODES and len(order) == 5
    for up, down in [("MakeExamples", "HelloComponent"), ("HelloComponent", "Train"), ("Train", "Validate")]:
        assert order.index(up) < order.index(down)
    for e in execs:
        assert e.state == "COMPLETE"
        assert e.error == ""
        assert run.started_ms <= e.create_time_ms <= e.update_time_ms <= run.finished_ms
        assert e.properties["run_id"] == first.run_id
        assert e.properties["node_id"] == e.node_id
    node = {e.node_id: e for e in execs}
    assert node["MakeExamples"].inputs == {}
    assert set(node["Train"].inputs) == {"examples", "labels"}
    assert set(node["Train"].outputs) == {"model"}
    assert set(node["Validate"].outputs) == {"blessing", "accuracy"}
    assert node["Train"].inputs["examples"][0].id == node["HelloComponent"].outputs["output_data"][0].id
    assert node["Train"].inputs["labels"][0].id == node["labels"].outputs["result"][0].id
    assert node["Validate"].inputs["model"][0].id == node["Train"].outputs["model"][0].id
    examples = node["MakeExamples"].outputs["examples"][0]
    assert examples.type_name == "Examples"
    assert examples.state == "LIVE"
    assert examples.properties == {"split_names": '["train", "eval"]', "payload_format": "FORMAT_CSV"}
    assert node["HelloComponent"].outputs["output_data"][0].custom_properties == {
        "hello": "headrace",
        "producer_component": "HelloComponent",  # TFX's system properties, on every output
        "pipeline_name": "hello",
    }
    # Executions' outputs match what the runner reported.
    assert [a.uri for a in node["Train"].outputs["model"]] == first.nodes["Train"].outputs["model"]


def test_reader_executions_of_a_cached_run_point_at_the_first_runs_artifacts(hello_store):
    first, second, reader = hello_store
    original = {e.node_id: e for e in reader.executions(first.run_id)}
    cached = {e.node_id: e for e in reader.executions(second.run_id)}
    assert {n: e.state for n, e in cached.items()} == {n: "CACHED" for n in HELLO_NODES}
    for n in ("MakeExamples", "HelloComponent", "Train", "Validate"):
        assert {k: [a.id for a in v] for k, v in cached[n].outputs.items()} == {
            k: [a.id for a in v] for k, v in original[n].outputs.items()
        }
        assert cached[n].id != original[n].id


def test_reader_artifact_by_id(hello_store):
    first, _, reader = hello_store
    [model] = {e.node_id: e for e in reader.executions(first.run_id)}["Train"].outputs["model"]
    info = reader.artifact(model.id)
    assert info == model
    assert info.type_name == "Model"
    assert Path(info.uri, "model.json").is_file()
    with pytest.raises(MetadataError, match="No artifact with id 987654"):
        reader.artifact(987654)


def _walk(node, depth=0):
    yield node, depth
    for child in node.inputs:
        yield from _walk(child, depth + 1)


def test_reader_lineage_is_the_upstream_tree(hello_store):
    first, _, reader = hello_store
    execs = {e.node_id: e for e in reader.executions(first.run_id)}
    [accuracy] = execs["Validate"].outputs["accuracy"]
    tree = reader.lineage(accuracy.id)
    assert tree.artifact.id == accuracy.id
    assert tree.producer is not None and tree.producer.node_id == "Validate"
    assert tree.producer.id == execs["Validate"].id  # the first execution, not the cached one of the second run
    assert sorted(c.artifact.type_name for c in tree.inputs) == ["Examples", "Model"]
    producers: dict[str, int] = {}  # node -> its deepest position in the tree
    for n, depth in _walk(tree):
        if n.producer is not None:
            producers[n.producer.node_id] = max(depth, producers.get(n.producer.node_id, 0))
    assert producers.keys() == HELLO_NODES
    assert producers["Validate"] < producers["Train"] < producers["HelloComponent"] < producers["MakeExamples"]
    leaves = [n for n, _ in _walk(tree) if n.producer is not None and n.producer.node_id == "MakeExamples"]
    assert leaves and all(n.inputs == [] for n in leaves)

    [examples] = execs["MakeExamples"].outputs["examples"]
    root_only = reader.lineage(examples.id)
    assert root_only.producer.node_id == "MakeExamples" and root_only.inputs == []

    shallow = reader.lineage(accuracy.id, max_depth=1)
    assert shallow.producer.node_id == "Validate"
    assert shallow.inputs and all(c.producer is None and c.inputs == [] for c in shallow.inputs)

    with pytest.raises(MetadataError):
        reader.lineage(987654)


# -- value artifacts -------------------------------------------------------------------------------


def test_value_artifact_value_is_in_mlmd_and_in_its_value_file(hello_store):
    first, _, reader = hello_store
    [accuracy] = {e.node_id: e for e in reader.executions(first.run_id)}["Validate"].outputs["accuracy"]
    assert accuracy.type_name == "Float"
    [proto] = reader.md.store.get_artifacts_by_id([accuracy.id])
    assert proto.custom_properties["value"].WhichOneof("value") == "double_value"
    stored = proto.custom_properties["value"].double_value
    assert stored == float(Path(accuracy.uri).read_text())
    assert 0.0 <= stored <= 1.0
    assert accuracy.custom_properties["value"] == stored


@component
def EveryValueType() -> OutputDict(n=int, x=float, s=str, b=bool, j=dict):
    return {"n": 42, "x": 2.5, "s": "héllo", "b": True, "j": {"a": [1, 2]}}


def test_every_value_artifact_type_records_its_value_in_mlmd_and_file(tmp_path):
    pipeline = Pipeline("values", str(tmp_path / "root"), [EveryValueType()])
    result = LocalDagRunner(quiet=True, executor_mode="inprocess").run(pipeline)
    assert result.succeeded, result.errors
    reader = MetadataReader(Metadata(sqlite_metadata_connection_config(tmp_path / "root" / "metadata.sqlite")))
    [execution] = reader.executions(result.run_id)
    outs = {k: v[0] for k, v in execution.outputs.items()}
    assert {k: a.type_name for k, a in outs.items()} == {
        "n": "Integer",
        "x": "Float",
        "s": "String",
        "b": "Boolean",
        "j": "JsonValue",
    }
    protos = {a.id: a for a in reader.md.store.get_artifacts_by_id([a.id for a in outs.values()])}
    recorded = {k: protos[a.id].custom_properties["value"] for k, a in outs.items()}
    assert recorded["n"].int_value == 42
    assert recorded["x"].double_value == 2.5
    assert recorded["s"].string_value == "héllo"
    assert recorded["b"].bool_value is True
    assert json.loads(recorded["j"].string_value) == {"a": [1, 2]}
    files = {k: Path(a.uri).read_bytes() for k, a in outs.items()}
    assert files == {"n": b"42", "x": b"2.5", "s": "héllo".encode(), "b": b"1", "j": b'{"a": [1, 2]}'}


def test_a_mysql_uri_without_a_password_takes_mysql_pwd(monkeypatch):
    from headrace.metadata import connection_config_from_uri

    monkeypatch.setenv("MYSQL_PWD", "s3cret")
    assert connection_config_from_uri("mysql://headrace@db:3307/md").mysql.password == "s3cret"
    assert connection_config_from_uri("mysql://headrace:given@db/md").mysql.password == "given"  # the URI wins
