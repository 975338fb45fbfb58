# ruff: noqa: UP045  (TFX's code says Optional[str])
"""A failed component's exception surfaces as TFX surfaces it (issue 18, point 5).

Under TFX, `BeamDagRunner().run(p)` / `LocalDagRunner().run(p)` of a pipeline whose component raises
AssertionError raises that AssertionError, and TFX's tests say so with `assertRaisesRegex`. The pipeline
below is tfx/dsl/component/experimental/decorators_test.py's (TFX 1.16) with only its imports rewritten;
`tf.test.TestCase` (TensorFlow's) is stood in for by unittest's TestCase with the one helper of tf.test's
the tests use, `get_temp_dir()`.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import unittest
from typing import Optional

import pytest

from headrace.errors import ExecutorError, PipelineRunError, run_error
from headrace.orchestrators import LocalDagRunner as HeadraceLocalDagRunner
from headrace.tfx import v1 as tfx
from headrace.tfx.dsl.component.experimental.annotations import OutputDict, Parameter
from headrace.tfx.dsl.component.experimental.decorators import component
from headrace.tfx.orchestration import metadata, pipeline
from headrace.tfx.orchestration.beam import beam_dag_runner


# -- decorators_test.py's components, verbatim -------------------------------------------------------------
@component
def injector_1(foo: Parameter[int], bar: Parameter[str]) -> OutputDict(
    a=int, b=int, c=str, d=bytes
):  # pytype: disable=invalid-annotation,wrong-arg-types
    assert foo == 9
    assert bar == "secret"
    return {"a": 10, "b": 22, "c": "unicode", "d": b"bytes"}


@component
def simple_component(a: int, b: int, c: str, d: bytes) -> OutputDict(
    e=float, f=float, g=Optional[str], h=Optional[str]
):  # pytype: disable=invalid-annotation,wrong-arg-types
    del c, d
    return {"e": float(a + b), "f": float(a * b), "g": "OK", "h": None}


@component
def verify(e: float, f: float, g: Optional[str], h: Optional[str]):
    assert (e, f, g, h) == (32.0, 220.0, "OK", None), (e, f, g, h)


class TestCase(unittest.TestCase):
    """tf.test.TestCase's get_temp_dir() (a temporary folder, removed after the test) without TensorFlow."""

    def get_temp_dir(self) -> str:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        return folder.name


class ComponentDecoratorTest(TestCase):
    def setUp(self):
        super().setUp()
        self._test_dir = os.path.join(
            os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR", self.get_temp_dir()), self._testMethodName
        )
        self._metadata_path = os.path.join(self._test_dir, "metadata.db")

    def _failing_pipeline(self):
        """testBeamExecutionFailure's pipeline."""
        instance_1 = injector_1(foo=9, bar="secret")
        instance_2 = simple_component(
            a=instance_1.outputs["a"],
            b=instance_1.outputs["b"],
            c=instance_1.outputs["c"],
            d=instance_1.outputs["d"],
        )
        # Swapped 'e' and 'f'.
        instance_3 = verify(
            e=instance_2.outputs["f"],
            f=instance_2.outputs["e"],
            g=instance_2.outputs["g"],
            h=instance_2.outputs["h"],
        )  # pylint: disable=assignment-from-no-return

        metadata_config = metadata.sqlite_metadata_connection_config(self._metadata_path)
        test_pipeline = pipeline.Pipeline(
            pipeline_name="test_pipeline_1",
            pipeline_root=self._test_dir,
            metadata_connection_config=metadata_config,
            components=[instance_1, instance_2, instance_3],
        )
        return test_pipeline

    @pytest.mark.heavy_imports  # Beam's DirectRunner orchestrates the run
    def testBeamExecutionFailure(self):
        """Test execution with return values; failure case."""
        test_pipeline = self._failing_pipeline()
        with self.assertRaisesRegex(AssertionError, r"\(220.0, 32.0, \'OK\', None\)"):
            beam_dag_runner.BeamDagRunner().run(test_pipeline)

    def testLocalExecutionFailure(self):
        """The same pipeline under `tfx.orchestration.LocalDagRunner`, which raises the same AssertionError."""
        test_pipeline = self._failing_pipeline()
        with self.assertRaisesRegex(AssertionError, r"\(220.0, 32.0, \'OK\', None\)") as caught:
            tfx.orchestration.LocalDagRunner().run(test_pipeline)
        # The message is the component's own (pytest's assertion rewriting may add lines to it); the run's
        # details are still there: the result, the node, and headrace's error with the original traceback.
        error = caught.exception
        self.assertTrue(str(error).startswith("(220.0, 32.0, 'OK', None)"))
        self.assertIsInstance(error, PipelineRunError)
        self.assertEqual(error.node_id, "verify")
        self.assertEqual(error.result.node_states["verify"], "FAILED")
        self.assertIn("assert (e, f, g, h) ==", str(error.__cause__))


def test_headrace_runner_keeps_pipeline_run_error_and_is_catchable_as_the_original(tmp_path):
    # headrace's own LocalDagRunner: a PipelineRunError with headrace's message, also an AssertionError.
    test = ComponentDecoratorTest("testLocalExecutionFailure")
    test._test_dir, test._metadata_path = str(tmp_path), str(tmp_path / "metadata.db")
    with pytest.raises(AssertionError) as caught:
        HeadraceLocalDagRunner().run(test._failing_pipeline())
    error = caught.value
    assert isinstance(error, PipelineRunError)
    assert str(error).startswith(f"Run {error.result.run_id} FAILED: node 'verify' failed: AssertionError: (220.0")
    assert type(error).__name__ == "PipelineRunError[AssertionError]"


class QuotaExceeded(Exception):
    """An exception whose __init__ takes other arguments than a message."""

    def __init__(self, quota: int, used: int):
        super().__init__(f"used {used} of {quota}")
        self.quota = quota


@component
def over_quota(limit: Parameter[int]):
    raise QuotaExceeded(limit, limit + 1)


def test_an_exception_class_of_the_callers_modules_with_its_own_init_is_caught_as_itself(tmp_path):
    p = tfx.dsl.Pipeline(
        pipeline_name="quota",
        pipeline_root=str(tmp_path),
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(str(tmp_path / "m.db")),
        components=[over_quota(limit=3)],
    )
    with pytest.raises(QuotaExceeded, match=r"^used 4 of 3$") as caught:
        tfx.orchestration.LocalDagRunner().run(p)
    # Not the original object: only the type, message and traceback came back from the executor.
    assert not hasattr(caught.value, "quota") and caught.value.error.error_type == "QuotaExceeded"


def _error(error_type: str, last_line: str) -> ExecutorError:
    tb = f'Traceback (most recent call last):\n  File "x.py", line 1, in f\n    raise X\n{last_line}\n'
    return ExecutorError("N", error_type, last_line.partition(": ")[2], tb)


def test_run_error_finds_the_class_only_where_it_is_already_imported():
    found = run_error(None, "N", _error("KeyError", "KeyError: 'k'"))
    assert isinstance(found, KeyError) and isinstance(found, PipelineRunError)
    assert str(found) == "Run ? FAILED: node 'N' failed: KeyError: 'k'" + "\n\nOriginal traceback:\n" + (
        found.error.traceback_text.rstrip()
    )  # headrace's message, not KeyError's quoting of it
    nested = run_error(None, "N", _error("JSONDecodeError", "json.decoder.JSONDecodeError: bad: line 1 column 1"))
    assert isinstance(nested, ValueError)  # json.decoder is imported here
    absent = run_error(None, "N", _error("Err", "not_imported_package_xyz.Err: boom"))
    assert type(absent) is PipelineRunError  # never imported to find out
    exiting = run_error(None, "N", _error("SystemExit", "SystemExit: 3"))
    assert type(exiting) is PipelineRunError  # only Exceptions: a SystemExit would end the caller
    wrong_name = run_error(None, "N", _error("ValueError", "TypeError: x"))
    assert type(wrong_name) is PipelineRunError


def test_run_error_pickles_as_the_same_class():
    error = run_error(None, "N", _error("AssertionError", "AssertionError: boom"))
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and str(again) == str(error) and again.node_id == "N"
