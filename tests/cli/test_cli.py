"""The `headrace` command line, driven as a user drives it: a fresh process per command."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from headrace.compiler import PipelineIR, load
from headrace.metadata import Metadata, MetadataReader, RunInfo, sqlite_metadata_connection_config

REPO = Path(__file__).resolve().parents[2]
HELLO = REPO / "pipelines" / "hello_pipeline.py"
HELLO_NODES = ["MakeExamples", "HelloComponent", "labels", "Train", "Validate"]
RUN_ID = r"\d{8}-\d{6}-[0-9a-f]{4}"


def headrace(*args, env=None, cwd=None) -> subprocess.CompletedProcess:
    """Runs `headrace ARGS` in a new process; HEADRACE_* variables come only from `env`."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HEADRACE_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "headrace.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or REPO,
        timeout=120,
    )


def output(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def summary_run_id(result: subprocess.CompletedProcess, state: str = "COMPLETE") -> str:
    match = re.search(rf"^run ({RUN_ID}) {state} in ", result.stderr, re.M)
    assert match, f"no '{state}' summary in:\n{output(result)}"
    return match.group(1)


def node_state(result: subprocess.CompletedProcess, node: str) -> str:
    """The node's state in the end-of-run summary table."""
    match = re.search(rf"^  {re.escape(node)}\s+([A-Z]+)\s", result.stderr, re.M)
    assert match, f"no summary line for {node} in:\n{output(result)}"
    return match.group(1)


def reader(db: Path) -> MetadataReader:
    return MetadataReader(Metadata(sqlite_metadata_connection_config(db)))


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    text = output(result)
    assert result.returncode != 0, text
    assert "Traceback" not in text, text
    assert "Error: " in result.stderr, text
    for fragment in fragments:
        assert fragment in text, text


# -- the hello pipeline, run four times into one store ---------------------------------------------


@pytest.fixture(scope="module")
def hello(tmp_path_factory):
    """`headrace run pipelines/hello_pipeline.py` four times: fresh, cached, --no-cache, -q."""
    home = tmp_path_factory.mktemp("home")
    env = {"HEADRACE_HOME": str(home)}
    runs = {
        "first": headrace("run", HELLO, env=env),
        "cached": headrace("run", HELLO, env=env),
        "no_cache": headrace("run", HELLO, "--no-cache", env=env),
        "quiet": headrace("run", "-q", HELLO, env=env),
    }
    for name, result in runs.items():
        assert result.returncode == 0, f"{name} run failed:\n{output(result)}"
    return {"home": home, "env": env, "db": home / "hello" / "metadata.sqlite", **runs}


def test_run_prints_progress_and_a_summary_with_the_run_id(hello):
    result = hello["first"]
    run_id = summary_run_id(result)
    db = hello["db"]
    assert db.is_file()
    err = result.stderr
    assert f"headrace run {run_id} · pipeline 'hello' · 5 nodes · metadata {db}" in err
    for node in HELLO_NODES:
        assert re.search(rf"^  \[\d/5\] {node}\s+done", err, re.M), err
        assert node_state(result, node) == "COMPLETE"
    assert "[5/5]" in err
    assert f"run {run_id} COMPLETE in " in err and "(5 done)" in err
    assert f"outputs under {hello['home'] / 'hello'}" in err
    hint = re.search(r"^inspect with: (.*)$", err, re.M).group(1)
    assert hint.endswith(f"runs show {run_id} --metadata {db}")
    # The hint can be pasted as it is, even where the venv is not on PATH (as here).
    pasted = subprocess.run(hint, shell=True, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert pasted.returncode == 0 and pasted.stdout.startswith(f"run {run_id} of 'hello'"), output(pasted)
    assert re.search(r"accuracy: \S+/Validate/accuracy/", err), err
    assert result.stdout == ""  # progress and summary go to stderr


def test_second_run_is_cached(hello):
    result = hello["cached"]
    run_id = summary_run_id(result)
    assert run_id != summary_run_id(hello["first"])
    for node in ("MakeExamples", "HelloComponent", "Train", "Validate"):
        assert node_state(result, node) == "CACHED"
        assert re.search(rf"^  \[\d/5\] {node}\s+cached", result.stderr, re.M), result.stderr
    assert node_state(result, "labels") == "CACHED"  # the importer reuses the artifact it registered
    assert "(5 cached)" in result.stderr


def test_no_cache_runs_every_node_again(hello):
    result = hello["no_cache"]
    summary_run_id(result)
    assert "cached" not in output(result).lower()
    assert all(node_state(result, n) == "COMPLETE" for n in HELLO_NODES)
    # Fresh outputs, not the first run's.
    first_model = re.search(r"model: (\S+)", hello["first"].stderr).group(1)
    assert re.search(r"model: (\S+)", result.stderr).group(1) != first_model


def test_quiet_prints_only_the_run_id(hello):
    result = hello["quiet"]
    assert re.fullmatch(RUN_ID + "\n", result.stdout), result.stdout
    assert result.stderr == ""
    run = reader(hello["db"]).run(result.stdout.strip())
    assert run.state == "COMPLETE"


def _ids(hello) -> list[str]:
    """Run ids, newest first."""
    return [
        hello["quiet"].stdout.strip(),
        summary_run_id(hello["no_cache"]),
        summary_run_id(hello["cached"]),
        summary_run_id(hello["first"]),
    ]


def test_runs_list_shows_every_run_newest_first(hello):
    result = headrace("runs", "list", "--metadata", hello["db"])
    assert result.returncode == 0, output(result)
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["RUN", "ID", "PIPELINE"]
    assert [line.split()[0] for line in lines[1:]] == _ids(hello)
    assert all(line.split()[1:3] == ["hello", "COMPLETE"] for line in lines[1:])


def test_runs_list_json(hello):
    result = headrace("runs", "list", "--metadata", hello["db"], "--json")
    assert result.returncode == 0, output(result)
    runs = json.loads(result.stdout)
    assert [r["run_id"] for r in runs] == _ids(hello)
    assert {(r["pipeline_name"], r["state"]) for r in runs} == {("hello", "COMPLETE")}
    assert all(0 < r["started_ms"] <= r["finished_ms"] for r in runs)
    # Each object has RunInfo's fields, the help says: who started the run, where, and in which order.
    assert {r["started_by"] for r in runs} == {"LocalDagRunner"}
    assert all(re.fullmatch(r".+:\d+", r["runner"]) for r in runs), runs
    assert [r["context_id"] for r in runs] == sorted((r["context_id"] for r in runs), reverse=True)
    assert set(runs[0]) == {f.name for f in dataclasses.fields(RunInfo)}
    assert json.loads(headrace("runs", "list", "--metadata", hello["db"], "--name", "other", "--json").stdout) == []


def test_runs_show_lists_executions_with_states_artifacts_and_values(hello):
    run_id = summary_run_id(hello["first"])
    result = headrace("runs", "show", run_id, "--metadata", hello["db"])
    assert result.returncode == 0, output(result)
    out = result.stdout
    assert out.startswith(f"run {run_id} of 'hello': COMPLETE, started ")
    for node in HELLO_NODES:
        assert re.search(rf"^  #\d+\s+{node}\s+COMPLETE\b", out, re.M), out
    assert re.search(r"^\s+in  examples: Examples #\d+ LIVE \S+/HelloComponent/output_data/", out, re.M), out
    assert re.search(r"^\s+out model: Model #\d+ LIVE \S+/Train/model/", out, re.M), out
    match = re.search(r"^\s+out accuracy: Float #(\d+) LIVE (\S+) value=(\S+)$", out, re.M)
    assert match, out
    uri, shown = match.group(2), match.group(3)
    assert float(shown) == float(Path(uri).read_text())

    cached = headrace("runs", "show", summary_run_id(hello["cached"]), "--metadata", hello["db"]).stdout
    assert re.search(r"^  #\d+\s+Validate\s+CACHED\b", cached, re.M), cached
    # The cached Validate execution shows the first run's accuracy artifact.
    assert f"out accuracy: Float #{match.group(1)} LIVE {uri} value=" in cached


def test_runs_show_json(hello):
    run_id = summary_run_id(hello["cached"])
    result = headrace("runs", "show", run_id, "--metadata", hello["db"], "--json")
    assert result.returncode == 0, output(result)
    data = json.loads(result.stdout)
    assert data["run"]["run_id"] == run_id and data["run"]["state"] == "COMPLETE"
    states = {e["node_id"]: e["state"] for e in data["executions"]}
    assert states == {n: "CACHED" for n in HELLO_NODES}  # the importer reused its artifact
    validate = next(e for e in data["executions"] if e["node_id"] == "Validate")
    assert set(validate["inputs"]) == {"model", "examples"}
    [accuracy] = validate["outputs"]["accuracy"]
    assert accuracy["type_name"] == "Float"
    assert accuracy["custom_properties"]["value"] == float(Path(accuracy["uri"]).read_text())
    assert validate["create_time_ms"] <= validate["update_time_ms"]


def _accuracy_id(hello) -> int:
    data = json.loads(
        headrace("runs", "show", summary_run_id(hello["first"]), "--metadata", hello["db"], "--json").stdout
    )
    validate = next(e for e in data["executions"] if e["node_id"] == "Validate")
    return validate["outputs"]["accuracy"][0]["id"]


def test_lineage_of_the_accuracy_reaches_make_examples(hello):
    result = headrace("lineage", _accuracy_id(hello), "--metadata", hello["db"])
    assert result.returncode == 0, output(result)
    lines = result.stdout.splitlines()
    assert re.match(rf"Float #{_accuracy_id(hello)} \[LIVE\] \S+/Validate/accuracy/", lines[0]), lines[0]
    first_run = summary_run_id(hello["first"])

    def producer_line(node: str) -> int:
        for i, line in enumerate(lines):
            if re.search(rf"<- {node} \(execution #\d+, COMPLETE, run {first_run}\)", line):
                return i
        raise AssertionError(f"{node} not in lineage:\n{result.stdout}")

    indent = {n: len(lines[producer_line(n)]) - len(lines[producer_line(n)].lstrip()) for n in HELLO_NODES}
    assert producer_line("Validate") < producer_line("Train") < producer_line("HelloComponent")
    assert producer_line("HelloComponent") < producer_line("MakeExamples")
    assert indent["Validate"] < indent["Train"] < indent["HelloComponent"] < indent["MakeExamples"]
    assert "Model #" in result.stdout and "ExternalArtifact #" in result.stdout


def test_headrace_metadata_env_replaces_the_option(hello):
    env = {"HEADRACE_METADATA": str(hello["db"])}
    listed = headrace("runs", "list", "--json", env=env)
    assert listed.returncode == 0, output(listed)
    assert [r["run_id"] for r in json.loads(listed.stdout)] == _ids(hello)
    run_id = summary_run_id(hello["first"])
    shown = headrace("runs", "show", run_id, env=env)
    assert shown.returncode == 0 and shown.stdout.startswith(f"run {run_id} of 'hello'"), output(shown)
    lineage = headrace("lineage", _accuracy_id(hello), env=env)
    assert lineage.returncode == 0 and "<- MakeExamples" in lineage.stdout, output(lineage)


def test_pipeline_option_finds_the_pipelines_store(hello):
    listed = headrace("runs", "list", "--pipeline", HELLO, "--json", env=hello["env"])
    assert listed.returncode == 0, output(listed)
    assert [r["run_id"] for r in json.loads(listed.stdout)] == _ids(hello)
    run_id = summary_run_id(hello["first"])
    shown = headrace("runs", "show", run_id, "--pipeline", HELLO, env=hello["env"])
    assert shown.returncode == 0 and "Validate" in shown.stdout, output(shown)
    lineage = headrace("lineage", _accuracy_id(hello), "--pipeline", HELLO, env=hello["env"])
    assert lineage.returncode == 0 and "<- MakeExamples" in lineage.stdout, output(lineage)


# -- compile ---------------------------------------------------------------------------------------


def test_compile_writes_ir_that_load_reads_back(tmp_path):
    out = tmp_path / "ir" / "hello.json"
    result = headrace("compile", HELLO, "-o", out, env={"HEADRACE_HOME": str(tmp_path / "home")})
    assert result.returncode == 0, output(result)
    assert f"wrote {out}" in result.stderr
    ir = load(out.read_text())
    assert isinstance(ir, PipelineIR)
    assert ir.pipeline_name == "hello"
    assert sorted(n.id for n in ir.nodes) == sorted(HELLO_NODES)
    assert set(ir.node("Train").upstream) == {"HelloComponent", "labels"}
    assert ir.enable_cache is True
    assert os.path.abspath(ir.pipeline_root) == str(tmp_path / "home" / "hello")
    assert not (tmp_path / "home").exists()  # compiling runs nothing

    to_stdout = headrace("compile", HELLO, env={"HEADRACE_HOME": str(tmp_path / "home")})
    assert to_stdout.returncode == 0, output(to_stdout)
    again = load(to_stdout.stdout)
    assert _without_pickles(again) == _without_pickles(ir)  # pickled bytes carry per-process class ids


def _without_pickles(ir):
    data = ir.to_dict()
    for node in data["nodes"]:
        node["executor"].get("payload", {}).pop("data", None)
        node["executor"].get("payload", {}).pop("digest", None)
    return data


# -- pipeline files ----------------------------------------------------------------------------------

COMPONENTS = """
import os

from headrace import InputArtifact, OutputArtifact, OutputDict, Pipeline, component
from headrace.types import standard_artifacts as sa

HERE = os.path.dirname(os.path.abspath(__file__))
"""

MODULE_LEVEL = (
    COMPONENTS
    + """

@component
def Make(out: OutputArtifact[sa.Examples]) -> OutputDict(size=int):
    with open(os.path.join(out.uri, "rows.txt"), "w") as f:
        f.write("abc")
    return {"size": 3}


@component
def Use(examples: InputArtifact[sa.Examples], size: int, model: OutputArtifact[sa.Model]):
    with open(os.path.join(model.uri, "model.txt"), "w") as f:
        f.write(str(size))


make = Make()
use = Use(examples=make.outputs["out"], size=make.outputs["size"])
pipeline = Pipeline("module_level", os.path.join(HERE, "root"), [make, use])
"""
)


def test_a_module_level_pipeline_runs(tmp_path):
    path = tmp_path / "module_level.py"
    path.write_text(MODULE_LEVEL)
    result = headrace("run", path, cwd=tmp_path)
    assert result.returncode == 0, output(result)
    run_id = summary_run_id(result)
    assert node_state(result, "Make") == node_state(result, "Use") == "COMPLETE"
    [use] = [e for e in reader(tmp_path / "root" / "metadata.sqlite").executions(run_id) if e.node_id == "Use"]
    assert Path(use.outputs["model"][0].uri, "model.txt").read_text() == "3"


# -- user mistakes: a message, a non-zero exit, no traceback --------------------------------------

BAD_CHANNEL = (
    COMPONENTS
    + """

@component
def A(out: OutputArtifact[sa.Examples]):
    pass


@component
def B(model: InputArtifact[sa.Model]):
    pass


a = A()
b = B(model=a.outputs["out"])
pipeline = Pipeline("bad", os.path.join(HERE, "root"), [a, b])
"""
)

NAME_ERROR = """
import os

x = 1
y = undefined_name + x
"""


def _line_of(source: str, text: str) -> int:
    return next(i for i, line in enumerate(source.splitlines(), 1) if text in line)


def test_missing_pipeline_file(tmp_path):
    missing = tmp_path / "nope.py"
    for args in (["run", missing], ["compile", missing], ["runs", "list", "--pipeline", missing]):
        assert_user_error(headrace(*args, cwd=tmp_path), "not found", str(missing))


def test_file_without_a_pipeline(tmp_path):
    path = tmp_path / "empty.py"
    path.write_text("X = 1\n")
    assert_user_error(headrace("run", path), str(path), "defines no pipeline", "create_pipeline()")
    (tmp_path / "wrong.py").write_text("pipeline = 42\n")
    assert_user_error(headrace("run", tmp_path / "wrong.py"), "must be a headrace Pipeline, got int")


def test_file_whose_top_level_raises_a_definition_error(tmp_path):
    path = tmp_path / "bad_channel.py"
    path.write_text(BAD_CHANNEL)
    for command in ("run", "compile"):
        assert_user_error(headrace(command, path), str(path), "expects a channel of Model")
    assert not (tmp_path / "root").exists()


def test_definition_error_message_names_the_line(tmp_path):
    path = tmp_path / "bad_channel.py"
    path.write_text(BAD_CHANNEL)
    result = headrace("run", path)
    assert_user_error(result, str(path))
    assert f"line {_line_of(BAD_CHANNEL, 'b = B(')}" in output(result)


def test_file_whose_top_level_raises_name_error(tmp_path):
    path = tmp_path / "name_error.py"
    path.write_text(NAME_ERROR)
    result = headrace("run", path)
    assert_user_error(result, str(path), f"line {_line_of(NAME_ERROR, 'undefined_name')}", "NameError")
    assert "undefined_name" in output(result)


def test_create_pipeline_that_raises(tmp_path):
    path = tmp_path / "raises.py"
    path.write_text("def create_pipeline():\n    return 1 / 0\n")
    assert_user_error(headrace("run", path), str(path), "create_pipeline()", "ZeroDivisionError")


def test_syntax_error_and_non_python_file(tmp_path):
    (tmp_path / "syntax.py").write_text("def broken(:\n")
    assert_user_error(headrace("run", tmp_path / "syntax.py"), "SyntaxError", "syntax.py")
    (tmp_path / "pipeline.txt").write_text("pipeline = None\n")
    assert_user_error(headrace("run", tmp_path / "pipeline.txt"), "Python file")


def test_unknown_run_id_and_artifact_id(hello):
    db = hello["db"]
    assert_user_error(headrace("runs", "show", "no-such-run", "--metadata", db), "No run 'no-such-run'", str(db))
    assert_user_error(headrace("lineage", "987654", "--metadata", db), "No artifact with id 987654")
    assert_user_error(headrace("run", "--resume", "no-such-run", "--metadata", db), "No run 'no-such-run'")


def test_runs_list_without_a_store(tmp_path):
    result = headrace("runs", "list", cwd=tmp_path)
    assert_user_error(result, "Which metadata store?", "--metadata", "HEADRACE_METADATA")
    assert list(tmp_path.iterdir()) == []


def test_run_without_file_or_resume(tmp_path):
    assert_user_error(headrace("run", cwd=tmp_path), "Give a PIPELINE_FILE to run, or --resume RUN_ID")
    # Resuming without the file needs the store.
    assert_user_error(headrace("run", "--resume", "x", cwd=tmp_path), "--metadata")


def test_run_id_clashes_are_reported(hello):
    taken = summary_run_id(hello["first"])
    result = headrace("run", HELLO, "--run-id", taken, env=hello["env"])
    assert_user_error(result, f"A run with id '{taken}' already exists")
    assert_user_error(
        headrace("run", HELLO, "--resume", taken, "--run-id", "x", env=hello["env"]), "cannot be combined"
    )


@pytest.mark.parametrize("where", ["under-a-file", "a-directory"])
def test_unusable_metadata_path_is_a_message_not_a_traceback(tmp_path, where):
    (tmp_path / "afile").write_text("x")
    path = tmp_path / "afile" / "md.sqlite" if where == "under-a-file" else tmp_path
    assert_user_error(headrace("runs", "list", "--metadata", path), str(path))


def test_inspecting_a_store_that_does_not_exist_does_not_create_it(tmp_path):
    typo = tmp_path / "typo" / "metadata.sqlite"
    result = headrace("runs", "list", "--metadata", typo)
    assert not typo.parent.exists()
    assert_user_error(result, str(typo))


# -- failure and resume ----------------------------------------------------------------------------

ABC = (
    COMPONENTS
    + """
MARKER = os.path.join(HERE, "FAIL_B")


@component
def A(out: OutputArtifact[sa.Examples]):
    with open(os.path.join(out.uri, "a.txt"), "w") as f:
        f.write("a")


@component
def B(inp: InputArtifact[sa.Examples], out: OutputArtifact[sa.Model]):
    if os.path.exists(MARKER):
        raise RuntimeError("marker file present, B refuses")
    with open(os.path.join(inp.uri, "a.txt")) as f:
        data = f.read()
    with open(os.path.join(out.uri, "b.txt"), "w") as f:
        f.write(data + "b")


@component
def C(model: InputArtifact[sa.Model]) -> OutputDict(text=str):
    if os.path.exists(os.path.join(HERE, "FAIL_C")):
        raise RuntimeError("C refuses")
    with open(os.path.join(model.uri, "b.txt")) as f:
        return {"text": f.read() + "c"}


def create_pipeline():
    a = A()
    b = B(inp=a.outputs["out"])
    c = C(model=b.outputs["out"])
    return Pipeline("abc", os.path.join(HERE, "root"), [a, b, c], enable_cache=False)  # reads marker files
"""
)


def _executions(db: Path, run_id: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in reader(db).executions(run_id):
        out.setdefault(e.node_id, []).append(e.state)
    return out


def _fail_then_check(path: Path, marker: Path, db: Path) -> str:
    marker.touch()
    failed = headrace("run", path)
    assert failed.returncode == 1, output(failed)
    assert "Traceback (most recent call last)" in failed.stderr  # the user's code failed: its traceback is shown
    run_id = summary_run_id(failed, "FAILED")
    assert node_state(failed, "A") == "COMPLETE"
    assert node_state(failed, "B") == "FAILED"
    assert node_state(failed, "C") == "SKIPPED"
    assert "node 'B' failed: RuntimeError: marker file present, B refuses" in failed.stderr
    assert reader(db).run(run_id).state == "FAILED"
    assert _executions(db, run_id) == {"A": ["COMPLETE"], "B": ["FAILED"]}
    marker.unlink()
    return run_id


def test_failed_run_resumed_through_the_cli(tmp_path):
    path = tmp_path / "abc.py"
    path.write_text(ABC)
    marker, db = tmp_path / "FAIL_B", tmp_path / "root" / "metadata.sqlite"

    run_id = _fail_then_check(path, marker, db)
    resumed = headrace("run", path, "--resume", run_id)
    assert resumed.returncode == 0, output(resumed)
    assert f"headrace resuming {run_id}" in resumed.stderr
    assert summary_run_id(resumed) == run_id  # the same run, completed
    assert node_state(resumed, "A") == "REUSED"
    assert node_state(resumed, "B") == node_state(resumed, "C") == "COMPLETE"
    assert _executions(db, run_id) == {"A": ["COMPLETE"], "B": ["FAILED", "COMPLETE"], "C": ["COMPLETE"]}
    assert reader(db).run(run_id).state == "COMPLETE"
    [c] = [e for e in reader(db).executions(run_id) if e.node_id == "C"]
    assert c.outputs["text"][0].custom_properties["value"] == "abc"
    assert len(reader(db).runs()) == 1  # resuming made no new run


def test_failed_run_resumed_from_the_store_alone(tmp_path):
    path = tmp_path / "abc.py"
    path.write_text(ABC)
    marker, db = tmp_path / "FAIL_B", tmp_path / "root" / "metadata.sqlite"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    run_id = _fail_then_check(path, marker, db)
    resumed = headrace("run", "--resume", run_id, "--metadata", db, cwd=elsewhere)
    assert resumed.returncode == 0, output(resumed)
    assert node_state(resumed, "A") == "REUSED"
    assert node_state(resumed, "B") == node_state(resumed, "C") == "COMPLETE"
    assert _executions(db, run_id) == {"A": ["COMPLETE"], "B": ["FAILED", "COMPLETE"], "C": ["COMPLETE"]}
    assert list(elsewhere.iterdir()) == []  # outputs went under the stored pipeline root

    # HEADRACE_METADATA works for resuming too: a second failed run, resumed without the file or the option.
    second = _fail_then_check(path, marker, db)
    again = headrace("run", "--resume", second, cwd=elsewhere, env={"HEADRACE_METADATA": str(db)})
    assert again.returncode == 0, output(again)
    assert _executions(db, second) == {"A": ["COMPLETE"], "B": ["FAILED", "COMPLETE"], "C": ["COMPLETE"]}


def test_resume_with_another_pipelines_file_is_refused(tmp_path):
    path = tmp_path / "abc.py"
    path.write_text(ABC)
    run_id = _fail_then_check(path, tmp_path / "FAIL_B", tmp_path / "root" / "metadata.sqlite")
    db = tmp_path / "root" / "metadata.sqlite"
    result = headrace("run", HELLO, "--resume", run_id, "--metadata", db, env={"HEADRACE_HOME": str(tmp_path)})
    assert_user_error(result, f"Run '{run_id}' belongs to pipeline 'abc', not 'hello'")


def test_resume_reports_reused_nodes_in_pipeline_order(tmp_path):
    path = tmp_path / "abc.py"
    path.write_text(ABC)
    (tmp_path / "FAIL_C").touch()
    failed = headrace("run", path)
    assert failed.returncode == 1 and node_state(failed, "C") == "FAILED", output(failed)
    (tmp_path / "FAIL_C").unlink()
    resumed = headrace("run", path, "--resume", summary_run_id(failed, "FAILED"), env={"PYTHONHASHSEED": "0"})
    assert resumed.returncode == 0, output(resumed)
    progress = re.findall(r"^  \[\d/3\] (\w+)\s+(\w+)", resumed.stderr, re.M)
    assert progress == [("A", "reused"), ("B", "reused"), ("C", "running"), ("C", "done")]


def test_runs_show_names_the_failed_step_its_log_and_the_steps_that_did_not_run(tmp_path):
    path = tmp_path / "abc.py"
    path.write_text(ABC)
    (tmp_path / "FAIL_B").touch()
    failed = headrace("run", path)
    run_id = summary_run_id(failed, "FAILED")
    shown = headrace("runs", "show", run_id, "--metadata", tmp_path / "root" / "metadata.sqlite")
    assert shown.returncode == 0, output(shown)
    assert re.search(r"#\d+\s+B\s+FAILED", shown.stdout), shown.stdout
    assert "error: RuntimeError: marker file present, B refuses" in shown.stdout
    log = re.search(r"log: (\S+)", shown.stdout)
    assert log and "marker file present" in Path(log.group(1)).read_text()
    assert "not run (an upstream node failed, or the run stopped): C" in shown.stdout


# -- what a newcomer tripped on ----------------------------------------------------------------------


def test_resuming_a_complete_run_does_nothing_and_keeps_its_duration(tmp_path):
    path = tmp_path / "abc.py"
    path.write_text(ABC)
    db = tmp_path / "root" / "metadata.sqlite"
    run_id = _fail_then_check(path, tmp_path / "FAIL_B", db)
    resumed = headrace("run", path, "--resume", run_id)
    assert resumed.returncode == 0, output(resumed)
    # REUSED rows show the outputs they reuse
    assert re.search(r"^  A\s+REUSED\s+\S+\s+out: \S+/A/out/", resumed.stderr, re.M), resumed.stderr
    listed = json.loads(headrace("runs", "list", "--metadata", db, "--json").stdout)
    before = listed[0]["active_ms"]
    again = headrace("run", "--resume", run_id, "--metadata", db)
    assert again.returncode == 0, output(again)
    assert f"run {run_id} already COMPLETE: nothing to resume" in again.stderr
    after = json.loads(headrace("runs", "list", "--metadata", db, "--json").stdout)
    assert after[0]["active_ms"] == before and after[0]["state"] == "COMPLETE"
    assert _executions(db, run_id) == {"A": ["COMPLETE"], "B": ["FAILED", "COMPLETE"], "C": ["COMPLETE"]}


def test_the_summary_and_runs_list_give_the_same_duration(hello):
    run_id = summary_run_id(hello["first"])
    summary = float(re.search(rf"^run {run_id} COMPLETE in ([0-9.]+)s", hello["first"].stderr, re.M).group(1))
    listed = {r["run_id"]: r for r in json.loads(headrace("runs", "list", "--metadata", hello["db"], "--json").stdout)}
    assert abs(listed[run_id]["active_ms"] / 1000 - summary) < 0.05


def test_a_compiled_ir_runs_and_lineage_takes_the_id_as_runs_show_prints_it(tmp_path):
    env = {"HEADRACE_HOME": str(tmp_path / "home")}
    ir = tmp_path / "hello.json"
    assert headrace("compile", HELLO, "-o", ir, env=env).returncode == 0
    ran = headrace("run", ir, env=env)
    assert ran.returncode == 0, output(ran)
    run_id = summary_run_id(ran)
    db = tmp_path / "home" / "hello" / "metadata.sqlite"
    shown = headrace("runs", "show", run_id, "--metadata", db)
    artifact = re.search(r"out accuracy: Float (#\d+)", shown.stdout).group(1)
    lineage = headrace("lineage", artifact, "--metadata", db)
    assert lineage.returncode == 0 and "<- MakeExamples" in lineage.stdout, output(lineage)
    assert_user_error(headrace("lineage", "#abc", "--metadata", db), "is not an artifact id")


def test_an_unknown_run_says_how_to_list_runs_with_a_command_that_works(hello):
    result = headrace("runs", "show", "no-such-run", "--metadata", hello["db"])
    assert result.returncode == 1
    hint = re.search(r"List runs with: (headrace runs list --metadata \S+)", output(result)).group(1)
    listed = headrace(*hint.split()[1:])
    assert listed.returncode == 0 and summary_run_id(hello["first"]) in listed.stdout


def test_the_readme_names_import_from_the_top_level():
    import headrace

    assert headrace.LocalDagRunner.__name__ == "LocalDagRunner"
    assert headrace.InteractiveContext.__name__ == "InteractiveContext"
