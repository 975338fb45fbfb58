"""Scenario 8 (issue 11): path confinement.

Every API and CLI argument that takes a path or a name that becomes one gets a corpus of traversal
payloads (`../`, `..%2f` and other encodings, absolute paths, a sibling-prefix root, NUL bytes, very
long names, symlinks pointing out). The arguments: a Pusher's custom_config model_name, the model
registry's rollback (model name, version), Importer source_uri, ExampleGen input_base and split
patterns, Trainer module_file, artifact URIs an executor moves its output to, `headrace runs list/show`,
`headrace show` and `headrace models rollback` --metadata, pipeline names and roots.

Verification is a filesystem diff: everything lives under one sandbox folder whose tree (names,
sizes, modification times) is taken before and after; any path created or changed outside the
locations the user configured (the pipeline root, the push destination) is a violation. A payload
may be refused (a headrace error) or contained; it may never write outside.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from _reliability import FULL, record
from click.testing import CliRunner

from headrace import HeadraceError, Importer, Pipeline, component
from headrace.dsl import OutputArtifact, Parameter
from headrace.types import standard_artifacts as sa


def _payloads(outside: Path, sibling: Path) -> list[str]:
    """Traversal payloads aimed at `outside` (a folder next to the configured ones)."""
    found = [
        "../escape",
        "../../escape",
        "../../../outside/escape",
        "sub/../../escape",
        "..%2fescape",
        "..%2F..%2Foutside%2Fescape",
        "%2e%2e/%2e%2e/outside/escape",
        "..\\..\\escape",
        "....//....//escape",
        str(outside / "escape"),
        str(sibling / "escape"),
        "escape\0.txt",
        "..",
        ".",
        "",
        "x" * 300,
    ]
    return found if FULL else found[::3]


def _tree(top: Path) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime_ns) of everything under `top` (symlinks not followed)."""
    out: dict[str, tuple[int, int]] = {}
    for folder, dirs, files in os.walk(top):
        for name in dirs + files:
            p = os.path.join(folder, name)
            st = os.lstat(p)
            out[p] = (0 if os.path.isdir(p) and not os.path.islink(p) else st.st_size, st.st_mtime_ns)
    return out


def _outside_changes(before: dict[str, Any], after: dict[str, Any], allowed: list[Path]) -> list[str]:
    roots = [str(a) + os.sep for a in allowed]
    changed = [p for p, v in after.items() if before.get(p) != v] + [p for p in before if p not in after]
    return sorted(p for p in changed if not any((p + os.sep).startswith(r) for r in roots))


@component
def move_output(target: Parameter[str], out: OutputArtifact[sa.String]) -> None:
    """A buggy or hostile executor: moves its output artifact's URI, then gives it a value."""
    out.uri = target
    out.value = "x"


def test_no_file_is_written_outside_the_configured_locations(tmp_path: Path, monkeypatch: Any) -> None:
    from headrace.cli.main import main
    from headrace.components import CsvExampleGen, Pusher, Trainer
    from headrace.components.proto import Input
    from headrace.components.serving import model_registry
    from headrace.metadata import Metadata, sqlite_metadata_connection_config
    from headrace.orchestrators import LocalDagRunner

    started = time.perf_counter()
    top = tmp_path / "top"  # the diffed parent; the sandbox is two levels down so '../..' stays inside it
    box = top / "a" / "box"
    root, serving, data, user = box / "root", box / "serving", box / "data", box / "user"
    outside, sibling = box / "outside", box / "root2"  # root2: a sibling whose name starts with 'root'
    for d in (root, serving, data, user, outside, sibling):
        d.mkdir(parents=True)
    (data / "a.csv").write_text("a,b\n1,2\n3,4\n5,6\n")
    (outside / "b.csv").write_text("a,b\n7,8\n")
    (serving / "ok" / "1").mkdir(parents=True)
    (serving / "ok" / "1" / "saved_model.pb").write_bytes(b"model")
    (user / "trainer.py").write_text("def run_fn(fn_args):\n    pass\n")
    monkeypatch.chdir(root)  # relative payloads resolve against a configured location
    allowed = [root, serving]
    payloads = _payloads(outside, sibling)
    before = _tree(top)
    outcomes: dict[str, dict[str, str]] = {}
    trials = 0

    def attempt(surface: str, payload: str, call: Any) -> None:
        nonlocal trials
        trials += 1
        try:
            call()
            outcomes.setdefault(surface, {})[repr(payload)[:40]] = "accepted"
        except HeadraceError as e:
            outcomes.setdefault(surface, {})[repr(payload)[:40]] = f"refused: {type(e).__name__}"
        except Exception as e:  # noqa: BLE001 - a bare exception is not a write; recorded for the report
            outcomes.setdefault(surface, {})[repr(payload)[:40]] = f"untyped: {type(e).__name__}: {str(e)[:80]}"

    push = {"filesystem": {"base_directory": str(serving)}}
    for p in payloads:
        attempt(
            "Pusher custom_config model_name",
            p,
            lambda p=p: Pusher(push_destination=push, custom_config={"model_name": p}),
        )
        attempt("model_directory(model_name)", p, lambda p=p: model_registry.model_directory(str(serving), p))
        attempt("Pipeline name", p, lambda p=p: Pipeline(p, str(root), []))
        attempt(
            "ExampleGen split name",
            p,
            lambda p=p: CsvExampleGen(
                input_base=str(data), input_config=Input(splits=[Input.Split(name=p, pattern="*")])
            ),
        )
        attempt("Trainer module_file", p, lambda p=p: Trainer(examples=_examples(), module_file=p))
        dest = {"filesystem": {"base_directory": p}}
        attempt("Pusher push_destination base_directory", p, lambda d=dest: Pusher(model=_model(), push_destination=d))
        volume = {p: {"bind": "/mnt/x", "mode": "rw"}}
        attempt("with_platform_config volumes", p, lambda v=volume: _compiled_with_volumes(root, v))
        attempt("Pipeline root", p, lambda p=p: _compiled(Pipeline("p", p, [])))

    # One run holding the payloads that reach execution: Importers of every payload, ExampleGens whose
    # split patterns point out (reading outside is allowed, writing is not), executors moving outputs.
    nodes: list[Any] = []
    for i, p in enumerate(payloads):
        if "\0" in p or not p:
            continue
        nodes.append(Importer(source_uri=p, artifact_type=sa.Examples).with_id(f"import_{i}"))
        nodes.append(move_output(target=p).with_id(f"move_{i}"))
        pattern = p if p not in (".", "..") else p + "/*.csv"
        try:
            config = Input(splits=[Input.Split(name="s", pattern=pattern)])
            nodes.append(CsvExampleGen(input_base=str(data), input_config=config).with_id(f"gen_{i}"))
            outcomes.setdefault("ExampleGen split pattern", {})[repr(p)[:40]] = "accepted"
        except HeadraceError as e:
            outcomes.setdefault("ExampleGen split pattern", {})[repr(p)[:40]] = f"refused: {type(e).__name__}"
        trials += 1
    pipeline = Pipeline("confined", str(root), nodes, enable_cache=False)
    result = LocalDagRunner(executor_mode="inprocess", quiet=True, raise_on_failure=False).run(pipeline)
    trials += len(nodes)
    outcomes["run: Importer / moved output / split pattern"] = {n: s for n, s in result.node_states.items()}
    moved_published = [n for n, s in result.node_states.items() if n.startswith("move_") and s == "COMPLETE"]

    # A symlink planted in the pipeline root pointing out: a node's output folder must not follow it.
    (root / "planted").symlink_to(outside, target_is_directory=True)
    linked = Pipeline("linked", str(root), [move_output(target="unused").with_id("planted")], enable_cache=False)
    LocalDagRunner(executor_mode="inprocess", quiet=True, raise_on_failure=False).run(linked)
    trials += 1

    # The registry's rollback and the CLI's --metadata: read commands never create a store.
    md = Metadata(sqlite_metadata_connection_config(root / "metadata.sqlite"))
    for p in payloads:
        attempt("model_registry.rollback(model_name)", p, lambda p=p: model_registry.rollback(str(serving), p, 1, md))
    attempt("model_registry.rollback(version)", "-1", lambda: model_registry.rollback(str(serving), "ok", -1, md))
    runner = CliRunner()
    for p in payloads:
        for args in (["runs", "list"], ["runs", "show", "r"], ["show", "1"], ["models", "list"]):
            trials += 1
            res = runner.invoke(main, [*args, "--metadata", p])
            outcomes.setdefault(f"CLI {' '.join(args[:1])} --metadata", {})[repr(p)[:40]] = f"exit {res.exit_code}"
        trials += 1
        res = runner.invoke(
            main,
            [
                "models",
                "rollback",
                p,
                "1",
                "--base-directory",
                str(serving),
                "--metadata",
                str(root / "metadata.sqlite"),
            ],
        )
        outcomes.setdefault("CLI models rollback NAME", {})[repr(p)[:40]] = f"exit {res.exit_code}"

    escaped = _outside_changes(before, _tree(top), allowed)
    # Python may write bytecode next to a module it imports (user/__pycache__): the user's own folder.
    escaped = [p for p in escaped if "__pycache__" not in p]
    stray = [
        p for p in ("/escape", "/tmp/escape", os.path.join(os.path.dirname(str(top)), "escape")) if os.path.exists(p)
    ]
    violations = len(escaped) + len(stray) + len(moved_published)
    record(
        8,
        "Path confinement",
        trials,
        f"{len(payloads)} traversal payloads (../, encoded, absolute, sibling-prefix, NUL, long, '.', '..', empty) "
        "into model names, rollback, Importer source_uri, split names and patterns, module_file, moved output "
        "URIs, pipeline names, --metadata of the CLI's read commands; a symlink planted in the pipeline root",
        violations,
        f"{trials} attempts: {len(escaped) + len(stray)} paths written outside the configured locations, "
        f"{len(moved_published)} moved outputs published",
        {
            "escaped": escaped,
            "stray": stray,
            "moved_outputs_published": moved_published,
            "outcomes": outcomes,
            "seconds": round(time.perf_counter() - started, 1),
        },
    )
    assert not moved_published, f"outputs moved by their executor were published: {moved_published}"
    assert violations == 0, f"written outside the configured locations: {escaped + stray}"


def _examples() -> Any:
    return Importer(source_uri="/nonexistent", artifact_type=sa.Examples).outputs["result"]


def _compiled(pipeline: Any) -> Any:
    from headrace.compiler import compile_pipeline

    return compile_pipeline(pipeline)


def _compiled_with_volumes(root: Path, volumes: dict[str, Any]) -> Any:
    node = move_output(target="x").with_platform_config({"volumes": volumes}).with_id("vol")
    return _compiled(Pipeline("vol", str(root), [node]))


def _model() -> Any:
    return Importer(source_uri="/nonexistent", artifact_type=sa.Model).outputs["result"]
