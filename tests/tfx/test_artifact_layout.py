"""Artifacts laid out as TFX lays them out (issue 18, point 6).

- A value artifact's URI is its value's file: TFX's ValueArtifact.read and .write (tfx/types/value_artifact.py,
  TFX 1.16) open `self.uri` itself, and TFX's OutputsResolver (tfx/orchestration/portable/outputs_utils.py)
  makes that URI `{node_dir}/{key}/{execution}/value`. The component bodies below are those two methods'
  lines, verbatim but for `self` becoming the artifact argument, in function components written as TFX's
  decorator guide (docs/guide/custom_function_component.md) writes them.
- Published artifacts carry TFX's system custom properties `producer_component` and `pipeline_name`
  (tfx/types/artifact.py's `producer_component` / `pipeline_name` read them), read here from ML Metadata as
  the MLMD guide reads a store (docs/guide/mlmd.md: `store.get_artifacts_by_type(...)`).
- ImportSchemaGen copies the schema file (tfx/components/schema_gen/import_schema_gen/executor.py copies it
  with io_utils.copy_file); the pipeline is the TFDV tutorial's (docs/tutorials/tfx/penguin_tfdv.ipynb,
  `tfx.components.ImportSchemaGen(schema_file=schema_path)`), the check the one of TFX's executor_test.py.

Only the imports are rewritten (`tfx` -> `headrace.tfx`). The blessing's custom properties are read by
TFX code in tests/tfx/test_tutorials.py (the penguin_tfma tutorial, which trains a model).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from headrace.tfx import v1 as tfx
from headrace.tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, OutputDict
from headrace.tfx.dsl.component.experimental.decorators import component
from headrace.tfx.dsl.io import fileio
from headrace.tfx.types import standard_artifacts


# -- value artifacts -------------------------------------------------------------------------------------
@component
def Produce(greeting: OutputArtifact[standard_artifacts.String]) -> OutputDict(total=int):
    # TFX's ValueArtifact.write, for a value of 'hello':
    serialized_value = greeting.encode("hello")
    with fileio.open(greeting.uri, "wb") as f:
        f.write(serialized_value)
    return {"total": 41}


@component
def Consume(
    total: InputArtifact[standard_artifacts.Integer], greeting: InputArtifact[standard_artifacts.String]
) -> OutputDict(report=str):
    values = []
    for artifact in (total, greeting):
        # TFX's ValueArtifact.read:
        file_path = artifact.uri
        # Assert there is a file exists.
        if not fileio.exists(file_path):
            raise RuntimeError("Given path does not exist or is not a valid file: %s" % file_path)  # noqa: UP031
        serialized_value = fileio.open(file_path, "rb").read()
        values.append(artifact.decode(serialized_value))
    with open(total.uri) as f:  # and as tutorials read one, with Python's open
        assert int(f.read()) == values[0] == total.value
    return {"report": f"{values[1]} {values[0] + 1}"}


def _pipeline(root: Path, name: str, components: list) -> tfx.dsl.Pipeline:
    return tfx.dsl.Pipeline(
        pipeline_name=name,
        pipeline_root=str(root / "pipelines"),
        components=components,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(root / "metadata.db")
        ),
    )


def _store(root: Path):
    from ml_metadata.metadata_store import metadata_store

    return metadata_store.MetadataStore(
        tfx.orchestration.metadata.sqlite_metadata_connection_config(str(root / "metadata.db"))
    )


def test_tfx_code_reads_and_writes_a_value_artifact_at_its_uri(tmp_path):
    produce = Produce()
    consume = Consume(total=produce.outputs["total"], greeting=produce.outputs["greeting"])
    result = tfx.orchestration.LocalDagRunner().run(_pipeline(tmp_path, "values", [produce, consume]))
    assert result.succeeded, result.errors
    [report] = result.nodes["Consume"].outputs["report"]
    assert open(report).read() == "hello 42"
    for node, key in (("Produce", "total"), ("Produce", "greeting"), ("Consume", "report")):
        [uri] = result.nodes[node].outputs[key]
        path = Path(uri)  # TFX's layout: {pipeline_root}/{node}/{key}/{execution}/value, the file itself
        assert path.is_file() and path.name == "value", uri
        assert path.parent.parent == tmp_path / "pipelines" / node / key
    # The value written by TFX code at the URI is recorded in the store too, as a returned value is.
    recorded = {a.uri.split(os.sep)[-3]: a.custom_properties["value"] for a in _store(tmp_path).get_artifacts()}
    assert recorded["greeting"].string_value == "hello" and recorded["total"].int_value == 41


# -- producer_component and pipeline_name ----------------------------------------------------------------
def test_published_artifacts_carry_producer_component_and_pipeline_name(tmp_path):
    produce = Produce()
    consume = Consume(total=produce.outputs["total"], greeting=produce.outputs["greeting"])
    assert tfx.orchestration.LocalDagRunner().run(_pipeline(tmp_path, "props", [produce, consume])).succeeded
    found = {}
    for artifact in _store(tmp_path).get_artifacts():
        props = artifact.custom_properties
        found[artifact.uri.split(os.sep)[-3]] = (
            props["producer_component"].string_value,
            props["pipeline_name"].string_value,
        )
    assert found == {"total": ("Produce", "props"), "greeting": ("Produce", "props"), "report": ("Consume", "props")}
    # TFX's Artifact reads them as properties, on what the run hands back too.
    from headrace.tfx.orchestration.experimental.interactive.interactive_context import InteractiveContext

    context = InteractiveContext(pipeline_name="props", pipeline_root=str(tmp_path / "interactive"))
    produce = Produce()
    context.run(produce)
    [total] = produce.outputs["total"].get()
    assert (total.producer_component, total.pipeline_name) == ("Produce", "props")
    assert total.value == 41 and open(total.uri).read() == "41"


def test_the_kubeflow_entrypoint_writes_values_at_the_uri_and_sets_the_producer_properties(tmp_path):
    """A Kubeflow task runs the node in the container with KFP's output URIs; TFX's container writes a value
    artifact at the URI KFP gives (tfx/orchestration/kubeflow/v2/container/kubeflow_v2_run_executor.py)."""
    import json

    from headrace.compiler import compile_pipeline
    from headrace.entrypoint import main as entrypoint
    from headrace.orchestrators._kfp_spec import encode_node

    produce = Produce()
    ir = compile_pipeline(_pipeline(tmp_path, "kfp-props", [produce]))
    outputs = {k: {"artifacts": [{"name": k, "uri": str(tmp_path / "gcs" / k)}]} for k in ("total", "greeting")}
    executor_input = {"outputs": {"artifacts": outputs, "outputFile": str(tmp_path / "executor_output.json")}}
    code = entrypoint(
        ["kfp", "--executor-input", json.dumps(executor_input), "--node-ir", encode_node(ir, ir.nodes[0])]
    )
    assert code == 0
    assert (tmp_path / "gcs" / "total").read_text() == "41" and (tmp_path / "gcs" / "greeting").read_text() == "hello"
    written = json.loads((tmp_path / "executor_output.json").read_text())["artifacts"]
    for key in ("total", "greeting"):
        metadata = written[key]["artifacts"][0]["metadata"]
        assert (metadata["producer_component"], metadata["pipeline_name"]) == ("Produce", "kfp-props")


# -- ImportSchemaGen -------------------------------------------------------------------------------------
SCHEMA = b"""# The curated schema: reviewed by hand, kept in version control.
feature {
  name: "species"   # the label
  type: INT
}
feature { name: "body_mass_g" type: FLOAT }
"""


def test_import_schema_gen_copies_the_schema_file_byte_for_byte(tmp_path):
    schema_path = tmp_path / "schema" / "schema.pbtxt"
    schema_path.parent.mkdir()
    schema_path.write_bytes(SCHEMA)
    # Import the schema.
    schema_importer = tfx.components.ImportSchemaGen(schema_file=str(schema_path))
    result = tfx.orchestration.LocalDagRunner().run(_pipeline(tmp_path, "schema", [schema_importer]))
    assert result.succeeded, result.errors
    [uri] = result.nodes["ImportSchemaGen"].outputs["schema"]
    imported = os.path.join(uri, "schema.pbtxt")
    assert Path(imported).read_bytes() == SCHEMA  # comments and layout kept
    # TFX's executor_test.py testSuccess: the imported file parses to the same Schema.
    from tensorflow_metadata.proto.v0 import schema_pb2

    from headrace.tfx.utils import io_utils

    expected_proto = io_utils.parse_pbtxt_file(str(schema_path), schema_pb2.Schema())
    imported_proto = io_utils.parse_pbtxt_file(imported, schema_pb2.Schema())
    assert expected_proto == imported_proto and len(imported_proto.feature) == 2


@pytest.mark.parametrize(
    ("content", "says"),
    [(b"feature { name: 'x' typ: INT }\n", "is not a text-format Schema proto"), (b"\xff\xfe", "is not UTF-8 text")],
)
def test_import_schema_gen_refuses_a_file_that_is_not_a_schema_naming_it(tmp_path, content, says):
    schema_path = tmp_path / "broken.pbtxt"
    schema_path.write_bytes(content)
    importer = tfx.components.ImportSchemaGen(schema_file=str(schema_path))
    from headrace.orchestrators import LocalDagRunner

    result = LocalDagRunner(quiet=True, raise_on_failure=False).run(_pipeline(tmp_path, "broken", [importer]))
    assert result.node_states == {"ImportSchemaGen": "FAILED"}
    message = str(result.nodes["ImportSchemaGen"].error)
    assert str(schema_path) in message and says in message, message
