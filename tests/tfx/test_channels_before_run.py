"""A component's output channel before the run holds one placeholder artifact, as TFX's do (issue 18, point 7).

TFX's own tests assert it (`self.assertLen(instance_1.outputs['examples'].get(), 1)` in
tfx/dsl/component/experimental/decorators_test.py); after a run in InteractiveContext the channel holds the
real artifacts. The TFX snippets below have only their `tfx` imports rewritten; their test base
`tf.test.TestCase` is absltest's TestCase with TensorFlow helpers these tests do not use, so absltest's stands
in for it (TensorFlow stays out of the fast tier).
"""

from __future__ import annotations

import os

from absl.testing import absltest

from headrace.tfx import v1 as tfx
from headrace.tfx.dsl.component.experimental.annotations import OutputArtifact, OutputDict
from headrace.tfx.dsl.component.experimental.decorators import component
from headrace.tfx.dsl.io import fileio
from headrace.tfx.orchestration.experimental.interactive.interactive_context import InteractiveContext
from headrace.tfx.types import standard_artifacts


# tfx/dsl/component/experimental/decorators_test.py (TFX 1.16), verbatim but for its `List`/`Dict` outputs
# (f, g), which point 7 does not need.
@component
def injector_2(
    examples: OutputArtifact[standard_artifacts.Examples],
) -> OutputDict(  # pytype: disable=invalid-annotation,wrong-arg-types
    a=int,
    b=float,
    c=str,
    d=bytes,
    e=str,
):
    fileio.makedirs(examples.uri)
    return {
        "a": 1,
        "b": 2.0,
        "c": "3",
        "d": b"4",
        "e": "passed",
    }


class ComponentDecoratorTest(absltest.TestCase):
    def testOptionalInputsAndParameters(self):
        """decorators_test.py's first lines: the placeholder artifact before the run."""
        instance_1 = injector_2()  # pylint: disable=no-value-for-parameter
        self.assertLen(instance_1.outputs["examples"].get(), 1)

    def testPlaceholderIsAnArtifactOfTheChannelsTypeWithoutIdOrUri(self):
        instance_1 = injector_2()
        [placeholder] = instance_1.outputs["examples"].get()
        self.assertIsInstance(placeholder, standard_artifacts.Examples)
        self.assertIsNone(placeholder.id)
        self.assertEqual(placeholder.uri, "")
        self.assertIs(instance_1.outputs["examples"].get()[0], placeholder)  # the same object, as TFX's list
        self.assertLen(instance_1.outputs["a"].get(), 1)  # a value output too (an Integer)
        self.assertIsInstance(instance_1.outputs["a"].get()[0], standard_artifacts.Integer)


class ImporterTest(absltest.TestCase):
    def testSchemaImporterFromTheTutorial(self):
        # docs/tutorials/tfx/penguin_tfdv.ipynb (TFX 1.16), `_create_pipeline`'s schema importer
        schema_path = "schema/dir"
        schema_importer = tfx.dsl.Importer(
            source_uri=schema_path, artifact_type=tfx.types.standard_artifacts.Schema
        ).with_id("schema_importer")
        [artifact] = schema_importer.outputs["result"].get()
        self.assertIsInstance(artifact, tfx.types.standard_artifacts.Schema)

    def testImporterPlaceholderCarriesTheProperties(self):
        # The properties of tfx/dsl/components/common/importer_test.py's testImporterDefinitionWithSingleUri
        # (headrace's Importer has one output, 'result': its `output_key` argument is left out).
        impt = tfx.dsl.Importer(
            source_uri="m/y/u/r/i",
            properties={
                "split_names": '["train", "eval"]',
            },
            custom_properties={
                "str_custom_property": "abc",
                "int_custom_property": 123,
            },
            artifact_type=standard_artifacts.Examples,
        ).with_id("my_importer")
        output_artifact = list(impt.outputs["result"].get())[0]  # noqa: RUF015  (TFX's line)
        self.assertEqual(output_artifact.split_names, '["train", "eval"]')
        self.assertEqual(output_artifact.get_string_custom_property("str_custom_property"), "abc")
        self.assertEqual(output_artifact.get_int_custom_property("int_custom_property"), 123)


def test_interactive_run_replaces_the_placeholder_with_the_real_artifacts(tmp_path):
    # The components tutorials' `context.run(...)` then `outputs['examples'].get()[0]` (docs/tutorials/tfx/
    # components_keras.ipynb), with decorators_test.py's injector_2 for CsvExampleGen.
    context = InteractiveContext(pipeline_root=str(tmp_path / "root"))
    instance_1 = injector_2()
    [placeholder] = instance_1.outputs["examples"].get()
    context.run(instance_1, enable_cache=False)
    [artifact] = instance_1.outputs["examples"].get()
    assert artifact is not placeholder and artifact.id is not None
    assert os.path.isdir(artifact.uri)
    assert instance_1.outputs["a"].get()[0].value == 1


def test_a_channel_without_a_producer_holds_nothing():
    # TFX's `types.Channel(type=...)` (a Resolver's input, a class component's declared output) is empty.
    assert tfx.dsl.Channel(type=standard_artifacts.Model).get() == []
    assert tfx.testing.Channel(standard_artifacts.Model).get() == []
