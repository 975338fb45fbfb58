"""Scenario 6 (issue 11): cache soundness, property-based with Hypothesis.

Changing any input that matters never hits a stale cache entry; changing nothing always hits; a
cached artifact deleted from disk is never served.

* Real LocalDagRunner runs (function body, parameter, upstream artifact content, the content of an
  imported folder, deleted output): each example is a random sequence of edits to a pipeline
  (Produce -> Consume, and Importer -> UseImport), each
  followed by a run and then by an unchanged rerun. Every run's outputs are read back and compared
  with what the current code and parameters write, so a stale hit shows as wrong content; the
  unchanged rerun must be all CACHED on the same artifacts; a deleted output re-runs its node.
* Cache-key level (no run): a Trainer-style `module_file` (and a neighbour it imports), a file under
  a path the spec declares fingerprint=True (CsvExampleGen's `input_base`), and the image (`with_image`, a
  container component's image). Docker is not started: the image enters the key at compile time,
  which is what these tests check.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

from _reliability import record, trials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headrace import (
    BaseComponent,
    BaseExecutor,
    ComponentSpec,
    ExecutionParameter,
    ExecutorClassSpec,
)
from headrace.cli.loader import load_file_as_module
from headrace.compiler import compile_component
from headrace.components import CsvExampleGen
from headrace.dsl.container_component import create_container_component
from headrace.launcher.cache import cache_key
from headrace.orchestrators import LocalDagRunner

PIPELINE = """
import os
from headrace import Importer, InputArtifact, OutputArtifact, Parameter, Pipeline, component
from headrace.types import standard_artifacts

@component
def Produce(out: OutputArtifact[standard_artifacts.Examples], text: Parameter[str] = 'a'):
    with open(os.path.join(out.uri, 'data.txt'), 'w') as f:
        f.write(text + '|p{bp}')

@component
def Consume(examples: InputArtifact[standard_artifacts.Examples], model: OutputArtifact[standard_artifacts.Model],
            k: Parameter[int] = 0):
    with open(os.path.join(examples.uri, 'data.txt')) as f:
        data = f.read()
    with open(os.path.join(model.uri, 'model.txt'), 'w') as f:
        f.write(data + '|' + str(k) + '|c{bc}')

@component
def UseImport(examples: InputArtifact[standard_artifacts.Examples], model: OutputArtifact[standard_artifacts.Model]):
    with open(os.path.join(examples.uri, 'source.txt')) as f:
        data = f.read()
    with open(os.path.join(model.uri, 'model.txt'), 'w') as f:
        f.write(data + '|u')

def create_pipeline(root, text, k, source):
    p = Produce(text=text)
    c = Consume(examples=p.outputs['out'], k=k)
    i = Importer(source_uri=source, artifact_type=standard_artifacts.Examples).with_id('imported')
    u = UseImport(examples=i.outputs['result'])
    return Pipeline('s06', root, [p, c, i, u], enable_cache=True)
"""

# Edits: a parameter of either node (Produce's text changes the artifact Consume reads), either
# function's body, the content of the folder an Importer imports (UseImport reads it), deleting
# either node's latest output from disk, or nothing.
EDITS = st.one_of(
    st.tuples(st.just("text"), st.text(alphabet="abcxyz", min_size=1, max_size=3)),
    st.tuples(st.just("k"), st.integers(0, 3)),
    st.tuples(st.just("body_p"), st.integers(0, 3)),
    st.tuples(st.just("body_c"), st.integers(0, 3)),
    st.tuples(st.just("source"), st.text(alphabet="abcxyz", min_size=1, max_size=3)),
    st.tuples(st.just("delete"), st.sampled_from(["Produce", "Consume"])),
    st.tuples(st.just("nothing"), st.none()),
)

RUN_EXAMPLES = trials(120, 6)
KEY_EXAMPLES = trials(300, 25)


def _load(folder: Path, bp: int, bc: int) -> Any:
    path = folder / "s06_pipeline.py"
    path.write_text(textwrap.dedent(PIPELINE).format(bp=bp, bc=bc))
    return load_file_as_module(str(path))


def _read(uri: str, name: str) -> str | None:
    try:
        return Path(uri, name).read_text()
    except OSError:
        return None


class RunStats:
    examples = 0
    runs = 0
    edits: Counter[str] = Counter()
    violations: list[str] = []


@settings(
    max_examples=RUN_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(st.lists(EDITS, min_size=1, max_size=5))
def _run_property(edits: list[tuple[str, Any]]) -> None:
    RunStats.examples += 1
    folder = Path(tempfile.mkdtemp(prefix="s06_"))
    try:
        root = str(folder / "root")
        state: dict[str, Any] = {"text": "a", "k": 0, "body_p": 0, "body_c": 0, "source": "s"}
        source = folder / "source"
        source.mkdir()
        (source / "source.txt").write_text(state["source"])
        mod = _load(folder, 0, 0)
        runner = LocalDagRunner(quiet=True, raise_on_failure=False)

        def run(what: str) -> Any:
            RunStats.runs += 1
            result = runner.run(mod.create_pipeline(root, state["text"], state["k"], str(source)))
            if not result.succeeded:
                RunStats.violations.append(f"{what}: run failed: {result.errors}")
                return None
            produced = f"{state['text']}|p{state['body_p']}"
            expected = {
                "Produce": ("out", "data.txt", produced),
                "Consume": ("model", "model.txt", f"{produced}|{state['k']}|c{state['body_c']}"),
                "UseImport": ("model", "model.txt", f"{state['source']}|u"),
            }
            for node, (key, name, want) in expected.items():
                got = _read(result.nodes[node].outputs[key][0], name)
                if got != want:
                    RunStats.violations.append(
                        f"{what}: {node} ({result.node_states[node]}) served {got!r}, the current inputs give {want!r}"
                    )
            return result

        previous = run("first run")
        for kind, value in edits:
            RunStats.edits[kind] += 1
            deleted: str | None = None
            if kind in ("text", "k"):
                state[kind] = value
            elif kind == "source":  # the imported file rewritten in place, as a user refreshes data
                state[kind] = value
                (source / "source.txt").write_text(value)
            elif kind in ("body_p", "body_c"):
                state[kind] = value
                mod = _load(folder, state["body_p"], state["body_c"])
            elif kind == "delete" and previous is not None:
                key = "out" if value == "Produce" else "model"
                deleted = previous.nodes[value].outputs[key][0]
                shutil.rmtree(deleted)
            after = run(f"after {kind}={value!r}")
            if after is None:
                previous = None
                continue
            if kind == "nothing" and set(after.node_states.values()) != {"CACHED"}:
                RunStats.violations.append(f"nothing changed but {after.node_states}")
            if deleted is not None:
                node = str(value)
                key = "out" if node == "Produce" else "model"
                if after.node_states[node] != "COMPLETE" or after.nodes[node].outputs[key][0] == deleted:
                    RunStats.violations.append(f"deleted output of {node} was served: {after.node_states}")
            again = run(f"unchanged rerun after {kind}={value!r}")
            if again is not None:
                if set(again.node_states.values()) != {"CACHED"}:
                    RunStats.violations.append(f"unchanged rerun after {kind}={value!r} missed: {again.node_states}")
                elif {n: o.outputs for n, o in again.nodes.items()} != {n: o.outputs for n, o in after.nodes.items()}:
                    RunStats.violations.append(f"unchanged rerun after {kind}={value!r} served other artifacts")
            previous = again
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- cache-key level: module file, declared input folder, image ------------------------------------------------


class _ModuleSpec(ComponentSpec):
    PARAMETERS = {"module_file": ExecutionParameter(type=str, fingerprint=True)}


class _NoopExecutor(BaseExecutor):
    def Do(self, input_dict: Any, output_dict: Any, exec_properties: Any) -> None:
        """Never runs here: only the cache key is computed."""


class _Trainerish(BaseComponent):
    SPEC_CLASS = _ModuleSpec
    EXECUTOR_SPEC = ExecutorClassSpec(_NoopExecutor)

    def __init__(self, module_file: str):
        super().__init__(spec=_ModuleSpec(module_file=module_file))


class KeyStats:
    examples = 0
    checks: Counter[str] = Counter()
    violations: list[str] = []


def _check(kind: str, changed: bool, before: str, after: str) -> None:
    KeyStats.checks[kind] += 1
    if changed and before == after:
        KeyStats.violations.append(f"{kind}: the input changed but the cache key did not")
    if not changed and before != after:
        KeyStats.violations.append(f"{kind}: nothing changed but the cache key did")


CONTENT = st.binary(min_size=0, max_size=40)


@settings(max_examples=KEY_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    module=st.tuples(CONTENT, CONTENT),
    neighbour=st.tuples(CONTENT, CONTENT),
    data=st.tuples(CONTENT, CONTENT),
    new_data_file=st.booleans(),
    keep_mtime=st.booleans(),
    images=st.tuples(
        st.sampled_from(["img:1", "img:2", "other/img:1", "img@sha256:ab"]),
        st.sampled_from(["img:1", "img:2", "other/img:1", "img@sha256:ab"]),
    ),
)
def _key_property(
    module: tuple[bytes, bytes],
    neighbour: tuple[bytes, bytes],
    data: tuple[bytes, bytes],
    new_data_file: bool,
    keep_mtime: bool,
    images: tuple[str, str],
) -> None:
    KeyStats.examples += 1
    folder = Path(tempfile.mkdtemp(prefix="s06k_"))
    try:
        # A module file that imports a neighbour; both edited as a user would (no mtime games).
        module_file = folder / "trainer_module.py"
        helper = folder / "helper_lib.py"

        def write(path: Path, content: bytes) -> None:
            # keep_mtime: the new version arrives with the old modification time, as `cp -p`,
            # `rsync -t` or `tar x` of a same-sized edit leave it
            old = path.stat() if keep_mtime and path.exists() else None
            path.write_bytes(content)
            if old is not None:
                os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))

        def write_module(body: bytes, lib: bytes) -> None:
            write(module_file, b"import helper_lib\n# " + body.hex().encode() + b"\n")
            write(helper, b"# " + lib.hex().encode() + b"\n")

        write_module(module[0], neighbour[0])
        node = compile_component(_Trainerish(module_file=str(module_file)))
        k0 = cache_key(node, {})
        _check("module_file unchanged", False, k0, cache_key(node, {}))
        write_module(module[1], neighbour[0])
        k1 = cache_key(node, {})
        _check("module_file edited", module[0] != module[1], k0, k1)
        write_module(module[1], neighbour[1])
        _check("module_file neighbour edited", neighbour[0] != neighbour[1], k1, cache_key(node, {}))

        # A file under ExampleGen's input_base, rewritten in place (same name).
        base = folder / "data"
        base.mkdir()
        (base / "part.csv").write_bytes(b"x\n" + data[0].hex().encode() + b"\n")
        gen = compile_component(CsvExampleGen(input_base=str(base)))
        d0 = cache_key(gen, {})
        _check("input_base unchanged", False, d0, cache_key(gen, {}))
        write(base / "part.csv", b"x\n" + data[1].hex().encode() + b"\n")
        d1 = cache_key(gen, {})
        if data[0] != data[1]:  # rewriting the same bytes may miss (sizes and mtimes are keyed): safe
            _check("input_base file rewritten", True, d0, d1)
        if new_data_file:
            (base / "more.csv").write_bytes(b"x\n1\n")
            _check("input_base file added", True, d1, cache_key(gen, {}))

        # The image: with_image on a Python component, and a container component's own image.
        keys = [
            cache_key(compile_component(_Trainerish(module_file=str(module_file)).with_image(i)), {}) for i in images
        ]
        _check("with_image", images[0] != images[1], keys[0], keys[1])
        ckeys = []
        for image in images:
            cls = create_container_component(name="Tool", image=image, command=["echo", "hi"])
            ckeys.append(cache_key(compile_component(cls()), {}))
        _check("container image", images[0] != images[1], ckeys[0], ckeys[1])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_cache_soundness() -> None:
    RunStats.violations, RunStats.edits = [], Counter()
    KeyStats.violations, KeyStats.checks = [], Counter()
    _run_property()
    _key_property()
    violations = len(RunStats.violations) + len(KeyStats.violations)
    key_checks = sum(KeyStats.checks.values())
    record(
        6,
        "Cache soundness (property-based)",
        RunStats.examples + KeyStats.examples,
        f"{sum(RunStats.edits.values())} random edits in {RunStats.examples} run sequences "
        f"({RunStats.runs} LocalDagRunner runs: {dict(RunStats.edits)}); {key_checks} cache-key checks in "
        f"{KeyStats.examples} examples (module_file, its neighbour, input_base files, with_image, container image)",
        violations,
        f"{violations} stale hits or missed hits; every run's outputs matched the current code and parameters",
        {
            "run_examples": RunStats.examples,
            "runs": RunStats.runs,
            "edits": dict(RunStats.edits),
            "key_examples": KeyStats.examples,
            "key_checks": dict(KeyStats.checks),
            "image_level": "cache key at compile time (Docker not started)",
            "violations": (RunStats.violations + KeyStats.violations)[:20],
        },
    )
    assert violations == 0, "stale or missed cache hits:\n" + "\n".join(
        (RunStats.violations + KeyStats.violations)[:20]
    )
