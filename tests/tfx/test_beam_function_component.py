# ruff: noqa: UP006, UP035, UP045  (TFX's code says Dict, List, Optional)
"""Beam in function components (issue 18, point 4): `@component(use_beam=True)` with a
`BeamComponentParameter[beam.Pipeline]` argument gets a Beam pipeline built from the pipeline's
`beam_pipeline_args`, as TFX's decorator guide says.

Sources, TFX 1.16, with only their `tfx` imports rewritten:
- tfx/dsl/component/experimental/decorators_test.py: its Beam components (`simple_beam_component`,
  `beam_component_with_artifact_inputs`, `verify_beam_pipeline_arg`, `verify_beam_pipeline_arg_non_none_default_value`)
  with the components they run with, and its Beam tests. `tf.test.TestCase` is absltest's TestCase with
  TensorFlow helpers; absltest's stands in for it with `get_temp_dir()`. Two lines differ, each said where:
  TFX's exact error messages (headrace's name the function and the fix, around TFX's sentence), and
  `_SimpleBeamComponent` (TFX's private class; its public base `BaseBeamComponent` stands in).
- The guide (https://www.tensorflow.org/tfx/guide/custom_function_component, the `use_beam=True` section):
  `MyDataProcessor`, whose body is `...` there; here it copies the examples through the Beam pipeline, and
  the guide's `Example` (a placeholder name) is `standard_artifacts.Examples`.
Each pipeline runs on `tfx.orchestration.LocalDagRunner` and on TFX's `BeamDagRunner`; the Beam pipelines
run on the DirectRunner in process (multi_processing where the test says so).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from typing import Dict, List, Optional

import apache_beam as beam
import pytest
from absl.testing import absltest

from headrace.tfx import types
from headrace.tfx import v1 as tfx
from headrace.tfx.dsl.component.experimental.annotations import (
    BeamComponentParameter,
    InputArtifact,
    OutputArtifact,
    OutputDict,
    Parameter,
)
from headrace.tfx.dsl.component.experimental.decorators import BaseFunctionalComponent, component
from headrace.tfx.dsl.components.base import base_beam_executor, executor_spec
from headrace.tfx.dsl.components.base.base_beam_component import BaseBeamComponent
from headrace.tfx.dsl.io import fileio
from headrace.tfx.orchestration import metadata, pipeline
from headrace.tfx.orchestration.beam import beam_dag_runner
from headrace.tfx.types import component_spec, standard_artifacts

pytestmark = pytest.mark.heavy_imports  # TFX's snippets import Apache Beam at their top

# -- decorators_test.py (TFX 1.16), verbatim -----------------------------------------------------------------
_TestBeamPipelineArgs = ["--my_testing_beam_pipeline_args=foo"]
_TestEmptyBeamPipeline = beam.Pipeline()


class _InputArtifact(types.Artifact):
    TYPE_NAME = "_InputArtifact"


class _OutputArtifact(types.Artifact):
    TYPE_NAME = "_OutputArtifact"


class _BasicComponentSpec(component_spec.ComponentSpec):
    PARAMETERS = {
        "folds": component_spec.ExecutionParameter(type=int),
    }
    INPUTS = {
        "input": component_spec.ChannelParameter(type=_InputArtifact),
    }
    OUTPUTS = {
        "output": component_spec.ChannelParameter(type=_OutputArtifact),
    }


@component
def injector_1(foo: Parameter[int], bar: Parameter[str]) -> OutputDict(
    a=int, b=int, c=str, d=bytes
):  # pytype: disable=invalid-annotation,wrong-arg-types
    assert foo == 9
    assert bar == "secret"
    return {"a": 10, "b": 22, "c": "unicode", "d": b"bytes"}


@component(use_beam=True)
def simple_beam_component(
    a: int,
    b: int,
    c: str,
    d: bytes,
    beam_pipeline: BeamComponentParameter[beam.Pipeline] = None,
) -> OutputDict(
    e=float, f=float, g=Optional[str], h=Optional[str]
):  # pytype: disable=invalid-annotation,wrong-arg-types
    del c, d, beam_pipeline
    return {"e": float(a + b), "f": float(a * b), "g": "OK", "h": None}


def verify_beam_pipeline_arg(a: int) -> OutputDict(b=float):  # pytype: disable=invalid-annotation,wrong-arg-types
    return {"b": float(a)}


def verify_beam_pipeline_arg_non_none_default_value(
    a: int,
    beam_pipeline: BeamComponentParameter[beam.Pipeline] = _TestEmptyBeamPipeline,
) -> OutputDict(b=float):  # pytype: disable=invalid-annotation,wrong-arg-types
    del beam_pipeline
    return {"b": float(a)}


@component
def verify(e: float, f: float, g: Optional[str], h: Optional[str]):
    assert (e, f, g, h) == (32.0, 220.0, "OK", None), (e, f, g, h)


@component
def injector_2(
    examples: OutputArtifact[standard_artifacts.Examples],
) -> OutputDict(  # pytype: disable=invalid-annotation,wrong-arg-types
    a=int,
    b=float,
    c=str,
    d=bytes,
    e=str,
    f=List[Dict[str, float]],
    g=Dict[str, Dict[str, List[bool]]],
):
    fileio.makedirs(examples.uri)
    return {
        "a": 1,
        "b": 2.0,
        "c": "3",
        "d": b"4",
        "e": "passed",
        "f": [{"foo": 1.0}, {"bar": 2.0}],
        "g": {"foo": {"bar": [True, False]}},
    }


@component(use_beam=True)
def beam_component_with_artifact_inputs(
    foo: Parameter[int],
    a: int,
    b: float,
    c: str,
    d: bytes,
    examples: InputArtifact[standard_artifacts.Examples],
    processed_examples: OutputArtifact[standard_artifacts.Examples],
    dict_input: Dict[str, Dict[str, List[bool]]],
    e1: str = "default",
    e2: Optional[str] = "default",
    f: bytes = b"default",
    g: Parameter[float] = 1000.0,
    h: Parameter[str] = "2000",
    beam_pipeline: BeamComponentParameter[beam.Pipeline] = None,
):
    # Test non-optional parameters.
    assert foo == 9
    assert isinstance(examples, standard_artifacts.Examples)
    # Test non-optional `int`, `float`, `Text` and `bytes` input values.
    assert a == 1
    assert b == 2.0
    assert c == "3"
    assert d == b"4"
    assert dict_input == {"foo": {"bar": [True, False]}}
    # Test passed optional arguments (with and without the `Optional` typehint
    # specifier).
    assert e1 == "passed"
    assert e2 == "passed"
    # Test that non-passed optional argument becomes the argument default.
    assert f == b"default"
    # Test passed optional parameter.
    assert g == 999.0
    # Test non-passed optional parameter.
    assert h == "2000"
    del beam_pipeline
    fileio.makedirs(processed_examples.uri)


# -- the guide's MyDataProcessor, its `...` filled in ------------------------------------------------------------
@component(use_beam=True)
def MyDataProcessor(
    examples: InputArtifact[standard_artifacts.Examples],
    processed_examples: OutputArtifact[standard_artifacts.Examples],
    beam_pipeline: BeamComponentParameter[beam.Pipeline] = None,
) -> None:
    """My simple custom model validation component."""

    with beam_pipeline as p:
        # data pipeline definition with beam_pipeline begins
        _ = (
            p
            | beam.io.ReadFromText(os.path.join(examples.uri, "rows.txt"))
            | beam.Map(str.upper)
            | beam.io.WriteToText(os.path.join(processed_examples.uri, "rows"), shard_name_template="")
        )
        # data pipeline definition with beam_pipeline ends


@component
def rows(examples: OutputArtifact[standard_artifacts.Examples]) -> None:
    with open(os.path.join(examples.uri, "rows.txt"), "w") as f:
        f.write("adelie\ngentoo\nchinstrap\n")


@component(use_beam=True)
def options_seen(
    examples: InputArtifact[standard_artifacts.Examples],
    beam_pipeline: BeamComponentParameter[beam.Pipeline] = None,
) -> OutputDict(options=str, rows=int):
    """What the pipeline the function gets was built from, and that it runs there (it counts the rows)."""
    options = beam_pipeline.options.get_all_options(retain_unknown_options=True)
    keys = ("direct_num_workers", "direct_running_mode", "my_testing_beam_pipeline_args")
    counted = os.path.join(examples.uri, "..", f"count-{os.getpid()}")
    with beam_pipeline as p:
        _ = (
            p
            | beam.io.ReadFromText(os.path.join(examples.uri, "rows.txt"))
            | beam.combiners.Count.Globally()
            | beam.io.WriteToText(counted, shard_name_template="")
        )
    with open(counted) as f:
        count = int(f.read())
    os.remove(counted)
    return {"options": json.dumps({k: options.get(k) for k in keys}, sort_keys=True), "rows": count}


def no_use_beam(a: int, beam_pipeline: BeamComponentParameter[beam.Pipeline] = None) -> OutputDict(b=float):
    return {"b": float(a)}


# -- the tests ----------------------------------------------------------------------------------------------------
def _runners():
    return [("LocalDagRunner", tfx.orchestration.LocalDagRunner), ("BeamDagRunner", beam_dag_runner.BeamDagRunner)]


class ComponentDecoratorTest(absltest.TestCase):
    def get_temp_dir(self) -> str:
        """tf.test.TestCase's get_temp_dir(), without TensorFlow."""
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        return folder.name

    def setUp(self):
        super().setUp()
        self._test_dir = os.path.join(
            os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR", self.get_temp_dir()), self._testMethodName
        )
        self._metadata_path = os.path.join(self._test_dir, "metadata.db")

    def _pipeline(self, components, beam_pipeline_args=None):
        metadata_config = metadata.sqlite_metadata_connection_config(self._metadata_path)
        return pipeline.Pipeline(
            pipeline_name="test_pipeline_1",
            pipeline_root=self._test_dir,
            metadata_connection_config=metadata_config,
            components=components,
            beam_pipeline_args=beam_pipeline_args,
        )

    def testSimpleBeamComponent(self):
        # `_SimpleBeamComponent` (TFX's private class) -> its public base, BaseBeamComponent.
        class _MySimpleBeamComponent(BaseBeamComponent):
            SPEC_CLASS = _BasicComponentSpec
            EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(base_beam_executor.BaseBeamExecutor)

        input_channel = types.Channel(type=_InputArtifact)
        instance = (
            _MySimpleBeamComponent(spec=_BasicComponentSpec(input=input_channel, folds=10))
            .with_id("my_instance")
            .with_beam_pipeline_args(_TestBeamPipelineArgs)
        )

        self.assertEqual(instance.EXECUTOR_SPEC.beam_pipeline_args, _TestBeamPipelineArgs)
        self.assertIs(instance.inputs["input"], input_channel)
        self.assertEqual(instance.outputs["output"].type, _OutputArtifact)
        self.assertEqual(instance.id, "my_instance")

    def testUseBeamComponentIsABeamComponent(self):
        outputs = injector_1(foo=9, bar="secret").outputs
        instance = simple_beam_component(a=outputs["a"], b=outputs["b"], c=outputs["c"], d=outputs["d"])
        self.assertIsInstance(instance, BaseFunctionalComponent)
        self.assertIsInstance(instance, BaseBeamComponent)
        self.assertNotIsInstance(injector_1(foo=9, bar="secret"), BaseBeamComponent)
        self.assertEqual(simple_beam_component.test_call.__name__, "simple_beam_component")

    def testNoBeamPipelineWhenUseBeamIsTrueFails(self):
        # TFX: assertRaisesWithLiteralMatch(ValueError, <the sentence below>); headrace's message names the
        # function around it and says what to add.
        with self.assertRaisesRegex(
            ValueError,
            r"^@component\(use_beam=True\) verify_beam_pipeline_arg: "
            + re.escape(
                "The decorated function must have one and only one optional parameter "
                "of type BeamComponentParameter[beam.Pipeline] with "
                "default value None when use_beam=True."
            )
            + r" Add `beam_pipeline: BeamComponentParameter\[beam.Pipeline\] = None`",
        ):
            component(use_beam=True)(verify_beam_pipeline_arg)(a=1)

    def testBeamPipelineDefaultIsNotNoneFails(self):
        # TFX: assertRaisesWithLiteralMatch(ValueError, 'The default value for BeamComponentParameter must be None.')
        with self.assertRaisesRegex(
            ValueError,
            r"^@component verify_beam_pipeline_arg_non_none_default_value: the default value of argument "
            r"'beam_pipeline' \(BeamComponentParameter\[beam.Pipeline\]\) must be None",
        ):
            component(use_beam=True)(verify_beam_pipeline_arg_non_none_default_value)(a=1)

    def testBeamComponentParameterWithoutUseBeamFails(self):
        # TFX would pass None to the argument; headrace says what is missing.
        with self.assertRaisesRegex(ValueError, r"argument 'beam_pipeline' .* @component\(use_beam=True\)"):
            component(no_use_beam)

    def testBeamComponentParameterTakesOnlyBeamPipeline(self):
        with self.assertRaisesRegex(
            ValueError, r"BeamComponentParameter\[T\] takes T = beam.Pipeline.*got <class 'int'>"
        ):
            BeamComponentParameter[int]

    def testBeamComponentBeamExecutionSuccess(self):
        """Test execution with return values; success case."""
        for name, runner in _runners():
            with self.subTest(runner=name):
                self._metadata_path = os.path.join(self._test_dir, name, "metadata.db")
                instance_1 = injector_1(foo=9, bar="secret")
                instance_2 = simple_beam_component(
                    a=instance_1.outputs["a"],
                    b=instance_1.outputs["b"],
                    c=instance_1.outputs["c"],
                    d=instance_1.outputs["d"],
                )
                instance_3 = verify(
                    e=instance_2.outputs["e"],
                    f=instance_2.outputs["f"],
                    g=instance_2.outputs["g"],
                    h=instance_2.outputs["h"],
                )  # pylint: disable=assignment-from-no-return
                runner().run(self._pipeline([instance_1, instance_2, instance_3]))

    def testBeamExecutionBeamComponentWithInputArtifactAndParameters(self):
        """Test execution of a beam component with InputArtifact and parameters."""
        for name, runner in _runners():
            with self.subTest(runner=name):
                self._metadata_path = os.path.join(self._test_dir, name, "metadata.db")
                instance_1 = injector_2()  # pylint: disable=no-value-for-parameter
                self.assertLen(instance_1.outputs["examples"].get(), 1)
                instance_2 = beam_component_with_artifact_inputs(  # pylint: disable=assignment-from-no-return, no-value-for-parameter
                    foo=9,
                    examples=instance_1.outputs["examples"],
                    dict_input=instance_1.outputs["g"],
                    a=instance_1.outputs["a"],
                    b=instance_1.outputs["b"],
                    c=instance_1.outputs["c"],
                    d=instance_1.outputs["d"],
                    e1=instance_1.outputs["e"],
                    e2=instance_1.outputs["e"],
                    g=999.0,
                )
                runner().run(self._pipeline([instance_1, instance_2]))

    def testGuideDataProcessorRunsItsBeamPipeline(self):
        for name, runner in _runners():
            with self.subTest(runner=name):
                root = os.path.join(self._test_dir, name)
                self._metadata_path = os.path.join(root, "metadata.db")
                source = rows()
                processor = MyDataProcessor(examples=source.outputs["examples"])
                p = self._pipeline([source, processor])
                p.pipeline_root = root
                runner().run(p)
                [out] = fileio.glob(os.path.join(root, "MyDataProcessor", "processed_examples", "*", "rows"))
                with open(out) as f:
                    self.assertEqual(sorted(f.read().split()), ["ADELIE", "CHINSTRAP", "GENTOO"])


def _options_and_rows(result, node="options_seen"):
    outputs = result.nodes[node].outputs
    found = {}
    for key, kind in (("options", standard_artifacts.String), ("rows", standard_artifacts.Integer)):
        art = kind()
        art.uri = outputs[key][0]
        found[key] = art.value
    return json.loads(found["options"]), found["rows"]


@pytest.mark.parametrize("runner", ["LocalDagRunner", "BeamDagRunner"])
def test_the_pipelines_beam_args_then_the_nodes_reach_the_functions_pipeline(runner, tmp_path):
    source = rows()
    seen = options_seen(examples=source.outputs["examples"]).with_beam_pipeline_args(_TestBeamPipelineArgs)
    p = pipeline.Pipeline(
        pipeline_name="beam_args",
        pipeline_root=str(tmp_path),
        metadata_connection_config=metadata.sqlite_metadata_connection_config(str(tmp_path / "m.db")),
        components=[source, seen],
        beam_pipeline_args=[
            "--direct_running_mode=multi_processing",
            "--direct_num_workers=2",
            "--my_testing_beam_pipeline_args=pipeline",
        ],
    )
    if runner == "LocalDagRunner":
        result = tfx.orchestration.LocalDagRunner().run(p)
    else:  # TFX's beam_orchestrator_args reach only the orchestrating pipeline, not the function's
        result = beam_dag_runner.BeamDagRunner(beam_orchestrator_args=["--direct_num_workers=1"]).run(p)
    options, count = _options_and_rows(result)
    assert options == {
        "direct_num_workers": 2,
        "direct_running_mode": "multi_processing",
        "my_testing_beam_pipeline_args": "foo",  # the node's, after the pipeline's
    }
    assert count == 3


@component(use_beam=True)
def fails_in_pipeline(
    examples: InputArtifact[standard_artifacts.Examples],
    processed_examples: OutputArtifact[standard_artifacts.Examples],
    beam_pipeline: BeamComponentParameter[beam.Pipeline] = None,
):
    with beam_pipeline as p:
        _ = p | beam.Create([1, 2]) | beam.Map(lambda x: x / 0)
    fileio.makedirs(processed_examples.uri)


@pytest.mark.parametrize("runner", ["LocalDagRunner", "BeamDagRunner"])
def test_an_error_in_the_functions_pipeline_fails_the_run_with_that_error(runner, tmp_path):
    source = rows()
    failing = fails_in_pipeline(examples=source.outputs["examples"])
    p = pipeline.Pipeline(
        pipeline_name="beam_fails",
        pipeline_root=str(tmp_path),
        metadata_connection_config=metadata.sqlite_metadata_connection_config(str(tmp_path / "m.db")),
        components=[source, failing],
    )
    run = tfx.orchestration.LocalDagRunner() if runner == "LocalDagRunner" else beam_dag_runner.BeamDagRunner()
    with pytest.raises(ZeroDivisionError, match="division by zero") as caught:
        run.run(p)
    assert caught.value.result.node_states == {"rows": "COMPLETE", "fails_in_pipeline": "FAILED"}
    assert not list(tmp_path.glob("fails_in_pipeline/processed_examples/*/*"))
