"""Value artifacts on disk: the URI is the value's file (TFX's layout), roots and stores written with the
earlier layout (a folder holding `value`) keep reading and caching, and a step that dies after writing its
value file never leaves it LIVE nor lets a later attempt take it for its own."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from headrace import InputArtifact, OutputArtifact, OutputDict, Parameter, Pipeline, component
from headrace.launcher.layout import prepare_output, remove_output
from headrace.orchestrators import LocalDagRunner
from headrace.types import standard_artifacts


@component
def Count(start: Parameter[int] = 1) -> OutputDict(n=int):
    return {"n": start + 1}


@component
def Double(n: InputArtifact[standard_artifacts.Integer], factor: Parameter[int] = 2) -> OutputDict(twice=int):
    with open(os.path.join(n.uri, "value") if os.path.isdir(n.uri) else n.uri) as f:
        assert int(f.read()) == n.value == n.read()
    return {"twice": factor * n.value}


@component
def Crashing(marker: Parameter[str], n: OutputArtifact[standard_artifacts.Integer]):
    with open(n.uri, "w") as f:  # the value, written at the URI as TFX code writes it
        f.write("666" if os.path.exists(marker) else "7")
    if os.path.exists(marker):
        os.kill(os.getpid(), 9)  # the worker dies after the value file is written, before the step returns


def _runner() -> LocalDagRunner:
    return LocalDagRunner(quiet=True, raise_on_failure=False)


def _sql(db: Path, query: str) -> list[tuple]:
    con = sqlite3.connect(str(db))
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def test_prepare_and_remove_a_value_output(tmp_path):
    uri = tmp_path / "node" / "n" / "abc" / "value"
    uri.parent.mkdir(parents=True)
    (uri.parent / "junk").write_text("left over")  # a leftover at the attempt's path is cleared
    prepare_output(str(uri), value=True)
    assert uri.parent.is_dir() and not any(uri.parent.iterdir())  # only the folder: no file before the executor
    uri.write_text("3")
    remove_output(str(uri))
    assert not uri.parent.exists() and uri.parent.parent.is_dir()  # the file and its attempt folder, nothing above
    folder = tmp_path / "node" / "model" / "abc"
    prepare_output(str(folder), value=False)
    (folder / "saved_model.pb").write_text("x")
    remove_output(str(folder))
    assert not folder.exists()


def test_a_store_written_with_the_earlier_layout_keeps_reading_and_caching(tmp_path):
    root = tmp_path / "root"
    count = Count()
    first = _runner().run(Pipeline("p", str(root), [count, Double(n=count.outputs["n"])]))
    assert first.succeeded, first.errors
    [uri] = first.nodes["Count"].outputs["n"]
    assert Path(uri).read_text() == "2" and Path(uri).name == "value"
    # What an earlier headrace recorded: the URI is the attempt folder (the same file on disk), and no
    # `value` custom property for a reader to take the value from.
    db = root / "metadata.sqlite"
    con = sqlite3.connect(str(db))
    con.execute("UPDATE Artifact SET uri = ? WHERE uri = ?", (os.path.dirname(uri), uri))
    con.execute(
        "DELETE FROM ArtifactProperty WHERE name = 'value' AND artifact_id = (SELECT id FROM Artifact WHERE uri = ?)",
        (os.path.dirname(uri),),
    )
    con.commit()
    con.close()
    count = Count()
    again = _runner().run(Pipeline("p", str(root), [count, Double(n=count.outputs["n"], factor=3).with_id("Again")]))
    assert again.succeeded, again.errors
    assert again.node_states == {"Count": "CACHED", "Again": "COMPLETE"}  # the earlier artifact is reused
    assert again.nodes["Count"].outputs["n"] == [os.path.dirname(uri)]
    [twice] = again.nodes["Again"].outputs["twice"]
    assert Path(twice).read_text() == "6"


def test_a_step_that_dies_after_writing_its_value_file_leaves_nothing_live(tmp_path):
    root, marker = tmp_path / "root", tmp_path / "crash"
    marker.touch()

    def pipeline() -> Pipeline:
        crashing = Crashing(marker=str(marker))
        return Pipeline("crash", str(root), [crashing, Double(n=crashing.outputs["n"])])

    first = _runner().run(pipeline(), run_id="victim")
    assert first.node_states == {"Crashing": "FAILED", "Double": "SKIPPED"}
    assert "ExecutorProcessDied" in str(first.nodes["Crashing"].error)
    db = root / "metadata.sqlite"
    abandoned = [u for (u,) in _sql(db, "SELECT uri FROM Artifact WHERE state = 5")]  # ABANDONED
    assert len(abandoned) == 1 and abandoned[0].endswith("/value")
    assert not os.path.exists(abandoned[0]) and not os.path.exists(os.path.dirname(abandoned[0]))
    assert _sql(db, "SELECT COUNT(*) FROM Artifact WHERE state = 2") == [(0,)]  # nothing LIVE
    os.remove(marker)
    second = _runner().run(pipeline(), resume="victim")
    assert second.node_states == {"Crashing": "COMPLETE", "Double": "COMPLETE"}, second.errors
    [uri] = second.nodes["Crashing"].outputs["n"]
    assert uri != abandoned[0] and Path(uri).read_text() == "7"
    assert Path(second.nodes["Double"].outputs["twice"][0]).read_text() == "14"  # never the dead attempt's 666
