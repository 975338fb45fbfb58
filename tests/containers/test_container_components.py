"""Container components and `.with_image(...)` on a real Docker engine, under LocalDagRunner.

The image is headrace's runtime image (`containers/build.sh`, Debian with sh and grep); the
`runtime_image` fixture builds it once, or reuses it.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from tokens_component import Tokens

import headrace
from headrace import Pipeline
from headrace.compiler import compile_pipeline
from headrace.dsl import Importer, placeholders
from headrace.dsl.container_component import create_container_component
from headrace.errors import PipelineRunError
from headrace.orchestrators import LocalDagRunner
from headrace.types import standard_artifacts

TEXT = "alpha needle one\nbeta\nneedle gamma\n$(touch x) needle\n"


def grep_component(image: str):
    """TFX's example, as written (imports aside)."""
    return create_container_component(
        name="FilterWithGrep",
        inputs={"text": standard_artifacts.ExternalArtifact},
        outputs={"filtered_text": standard_artifacts.ExternalArtifact},
        parameters={"pattern": str},
        image=image,
        command=[
            "sh",
            "-exc",
            'mkdir -p "$(dirname "$3")" && grep "$1" "$2" > "$3"',
            "--",
            placeholders.InputValuePlaceholder("pattern"),
            placeholders.InputUriPlaceholder("text"),
            placeholders.OutputUriPlaceholder("filtered_text"),
        ],
    )


def log_of(result, node_id: str) -> str:
    path = result.nodes[node_id].log
    return Path(path).read_text() if path and Path(path).is_file() else path


def run(root: Path, components: list, name: str = "containers", **kwargs):
    pipeline = Pipeline(name, str(root / "root"), components, **kwargs)
    return LocalDagRunner(quiet=True, raise_on_failure=False).run(pipeline)


def store_rows(root: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(root / "root" / "metadata.sqlite") as db:
        return db.execute(sql).fetchall()


def test_the_grep_component_filters_a_real_file_in_a_real_container(tmp_path, runtime_image):
    source = tmp_path / "input.txt"
    source.write_text(TEXT)
    importer = Importer(source_uri=str(source), artifact_type=standard_artifacts.ExternalArtifact).with_id("text")
    grep = grep_component(runtime_image)(text=importer.outputs["result"], pattern="needle")
    result = run(tmp_path, [grep])
    assert result.succeeded, result.node_states
    [uri] = result.nodes["FilterWithGrep"].outputs["filtered_text"]
    assert Path(uri).read_text() == "alpha needle one\nneedle gamma\n$(touch x) needle\n"
    assert not (Path(uri).parent / "x").exists()
    # Lineage like any other step: a COMPLETE execution, its input and output events, a LIVE output.
    [(state,)] = store_rows(
        tmp_path,
        "SELECT last_known_state FROM Execution e JOIN Type t ON e.type_id=t.id WHERE t.name LIKE '%FilterWithGrep%'",
    )
    assert state == 3  # COMPLETE
    events = store_rows(
        tmp_path,
        "SELECT a.uri, ev.type FROM Event ev JOIN Artifact a ON a.id=ev.artifact_id "
        "JOIN Execution e ON e.id=ev.execution_id JOIN Type t ON e.type_id=t.id "
        "WHERE t.name LIKE '%FilterWithGrep%' ORDER BY ev.type",
    )
    assert events == [(str(source), 3), (uri, 4)]  # INPUT, OUTPUT
    assert store_rows(tmp_path, f"SELECT state FROM Artifact WHERE uri = '{uri}'") == [(2,)]  # LIVE
    # The second run is cached: no container starts.
    again = run(tmp_path, [grep_component(runtime_image)(text=importer.outputs["result"], pattern="needle")])
    assert again.node_states["FilterWithGrep"] == "CACHED"


def test_a_failing_container_fails_the_step_with_its_log_tail_and_leaves_nothing_live(tmp_path, runtime_image):
    Fail = create_container_component(
        name="Fail",
        outputs={"out": standard_artifacts.ExternalArtifact},
        image=runtime_image,
        command=[
            "sh",
            "-c",
            'mkdir -p "$0"; echo partial > "$0/file"; echo first; echo "the reason" >&2; exit 3',
            placeholders.OutputUriPlaceholder("out"),
        ],
    )
    result = run(tmp_path, [Fail()])
    assert result.node_states["Fail"] == "FAILED"
    error = result.nodes["Fail"].error
    assert "exited with code 3" in error.message and "the reason" in error.message
    assert store_rows(tmp_path, "SELECT COUNT(*) FROM Artifact WHERE state = 2") == [(0,)]
    out_dir = tmp_path / "root" / "Fail" / "out"
    assert not any(out_dir.iterdir()) if out_dir.exists() else True  # the partial output was removed
    with pytest.raises(PipelineRunError, match="exited with code 3"):
        result.raise_for_failure()


def test_a_container_past_its_timeout_is_killed_and_removed(tmp_path, runtime_image):
    Sleep = create_container_component(name="Sleep", image=runtime_image, command=["sleep", "60"])
    node = Sleep().with_platform_config({"timeout_seconds": 1, "name": "headrace-test-sleeper"})
    result = run(tmp_path, [node])
    assert result.node_states["Sleep"] == "FAILED"
    assert "killed after its timeout" in result.nodes["Sleep"].error.message
    import docker

    assert not docker.from_env().containers.list(all=True, filters={"name": "headrace-test-sleeper"})


def test_platform_config_sets_environment_user_and_extra_volumes(tmp_path, runtime_image):
    from headrace.tfx.proto.orchestration import platform_config_pb2

    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "in.txt").write_text("from the host\n")
    Env = create_container_component(
        name="Env",
        outputs={"out": standard_artifacts.ExternalArtifact},
        image=runtime_image,
        command=[
            "sh",
            "-c",
            'env; echo "uid=$(id -u)"; cat /mnt/shared/in.txt; test -e "$0" || echo "output not there yet"',
            placeholders.OutputUriPlaceholder("out"),
        ],
    )
    os.environ["HEADRACE_HOST_ONLY"] = "secret"
    try:
        config = platform_config_pb2.DockerPlatformConfig(
            environment=["GREETING=hello world"],
            user=platform_config_pb2.DockerPlatformConfig.ContainerRunUser(uid=4321),
            volumes={str(shared): platform_config_pb2.DockerPlatformConfig.VolumeMount(bind="/mnt/shared", mode="ro")},
        )
        result = run(tmp_path, [Env().with_platform_config(config)])
    finally:
        del os.environ["HEADRACE_HOST_ONLY"]
    assert result.succeeded, result.node_states
    log = log_of(result, "Env")  # the container's output, streamed into the step's log
    assert "GREETING=hello world" in log and "HEADRACE_HOST_ONLY" not in log
    assert "uid=4321" in log
    assert "from the host" in log
    assert "output not there yet" in log  # the output URI does not exist yet: the command may make a file or a folder
    assert Path(result.nodes["Env"].outputs["out"][0]).is_dir()  # left unwritten, it is published empty


# -- any component in an image -------------------------------------------------------------------------
def test_a_function_component_with_image_runs_in_the_container_with_the_same_outputs_and_cache(
    tmp_path, runtime_image, monkeypatch
):
    # A fresh worker interpreter, which has not imported the component's module: the component travels
    # by value in the IR (its module is the tests' own, not installed), so nothing is mounted for it.
    monkeypatch.setenv("HEADRACE_WORKER_START", "spawn")
    local = run(tmp_path / "local", [Tokens(text="a b c", repeat=2)])
    boxed = run(tmp_path / "boxed", [Tokens(text="a b c", repeat=2).with_image(runtime_image)])
    assert local.succeeded and boxed.succeeded, (local.node_states, boxed.node_states)
    values = {}
    for name, result in (("local", local), ("boxed", boxed)):
        outs = result.nodes["Tokens"].outputs
        values[name] = (
            Path(outs["count"][0]).read_text(),
            Path(outs["report"][0], "words.txt").read_text(),
            Path(outs["python"][0]).read_text(),
        )
    assert values["local"][:2] == values["boxed"][:2] == ("6", "a b c a b c ")
    assert values["boxed"][2].startswith("/opt/")  # the image's interpreter, not the host's
    assert values["local"][2] != values["boxed"][2]
    assert "counted 6 words" in log_of(boxed, "Tokens")
    again = run(tmp_path / "boxed", [Tokens(text="a b c", repeat=2).with_image(runtime_image)])
    assert again.node_states["Tokens"] == "CACHED"
    changed = run(tmp_path / "boxed", [Tokens(text="a b c", repeat=3).with_image(runtime_image)])
    assert changed.node_states["Tokens"] == "COMPLETE"


# -- clear errors ------------------------------------------------------------------------------------------
def test_a_missing_image_is_a_clear_error(tmp_path, runtime_image):
    Missing = create_container_component(name="Missing", image="headrace-test/not-there:0", command=["true"])
    result = run(tmp_path, [Missing()])
    assert result.node_states["Missing"] == "FAILED"
    message = result.nodes["Missing"].error.message
    assert "headrace-test/not-there:0" in message and "could not be pulled" in message and "make image" in message


def test_an_engine_that_does_not_answer_is_a_clear_error(tmp_path, monkeypatch, runtime_image):
    """A stopped engine, stood in for by a DOCKER_HOST socket nothing listens on (the real one keeps running
    for the other tests)."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/stopped-docker.sock")
    True_ = create_container_component(name="True_", image=runtime_image, command=["true"])
    result = run(tmp_path, [True_()])
    assert result.node_states["True_"] == "FAILED"
    message = result.nodes["True_"].error.message
    assert "No Docker engine is reachable" in message and "dockerd" in message and "stopped-docker.sock" in message


def test_with_image_is_refused_where_nothing_runs_in_a_container():
    importer = Importer(source_uri="/x", artifact_type=standard_artifacts.ExternalArtifact).with_image("img:1")
    with pytest.raises(headrace.DefinitionError, match="takes no image"):
        compile_pipeline(Pipeline("p", "/r", [importer]))
    with pytest.raises(headrace.DefinitionError, match="image reference"):
        Tokens(text="a", repeat=1).with_image("has space:1")
    with pytest.raises(headrace.DefinitionError, match="unknown DockerPlatformConfig field"):
        Tokens(text="a", repeat=1).with_platform_config({"volume": {}})


def test_a_custom_component_class_with_tfx_executor_container_spec_and_placeholders(tmp_path, runtime_image):
    """A fully custom component as TFX writes one for a container: ComponentSpec + ExecutorContainerSpec
    with `tfx.dsl.placeholders` (command and args), through the headrace.tfx import paths."""
    from headrace.tfx import v1 as tfx
    from headrace.tfx.dsl.components.base import base_component, executor_spec
    from headrace.tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

    ph = tfx.dsl.placeholders

    class WordCountSpec(ComponentSpec):
        PARAMETERS = {"word": ExecutionParameter(type=str)}
        INPUTS = {"text": ChannelParameter(type=standard_artifacts.ExternalArtifact)}
        OUTPUTS = {"count": ChannelParameter(type=standard_artifacts.ExternalArtifact)}

    def word_count(spec_args: list) -> type:
        class WordCount(base_component.BaseComponent):
            SPEC_CLASS = WordCountSpec
            EXECUTOR_SPEC = executor_spec.ExecutorContainerSpec(
                image=runtime_image, command=["sh", "-c", 'grep -c -- "$0" "$1" > "$2"'], args=spec_args
            )

            def __init__(self, text, word):
                super().__init__(spec=WordCountSpec(text=text, word=word))

        return WordCount

    source = tmp_path / "input.txt"
    source.write_text(TEXT)
    importer = Importer(source_uri=str(source), artifact_type=standard_artifacts.ExternalArtifact)
    args = [ph.exec_property("word"), ph.input("text")[0].uri, ph.output("count")[0].uri]
    node = word_count(args)(text=importer.outputs["result"], word="needle")
    result = run(tmp_path, [node])
    assert result.succeeded, result.nodes["WordCount"].error
    assert Path(result.nodes["WordCount"].outputs["count"][0]).read_text() == "3\n"
    typo = word_count([ph.exec_property("wrod"), ph.input("text")[0].uri, ph.output("count")[0].uri])
    with pytest.raises(headrace.DefinitionError, match="Did you mean 'word'"):
        compile_pipeline(Pipeline("p", str(tmp_path / "r"), [typo(text=importer.outputs["result"], word="x")]))
