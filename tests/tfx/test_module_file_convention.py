"""A custom component ported from TFX keeps TFX's convention: its `module_file` is part of the cache key."""

from __future__ import annotations

from headrace.compiler import compile_component
from headrace.launcher.cache import cache_key
from headrace.tfx.dsl.components.base import base_component, base_executor, executor_spec
from headrace.tfx.types import ComponentSpec
from headrace.tfx.types.component_spec import ExecutionParameter


class _Executor(base_executor.BaseExecutor):
    def Do(self, input_dict, output_dict, exec_properties):
        pass


class TransformLikeSpec(ComponentSpec):
    PARAMETERS = {"module_file": ExecutionParameter(type=str), "steps": ExecutionParameter(type=int)}
    INPUTS: dict = {}
    OUTPUTS: dict = {}


class TransformLike(base_component.BaseComponent):
    SPEC_CLASS = TransformLikeSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(_Executor)

    def __init__(self, module_file: str, steps: int = 1):
        super().__init__(spec=TransformLikeSpec(module_file=module_file, steps=steps))


def test_a_ported_spec_fingerprints_its_module_file_and_its_neighbours(tmp_path):
    (tmp_path / "helpers.py").write_text("SCALE = 1\n")
    module = tmp_path / "transform_module.py"
    module.write_text("import helpers\n\ndef preprocessing_fn(inputs):\n    return inputs\n")
    node = compile_component(TransformLike(module_file=str(module)))
    assert node.file_inputs == ("module_file",)
    assert TransformLikeSpec.PARAMETERS["steps"].fingerprint is False
    before = cache_key(node, {})
    (tmp_path / "helpers.py").write_text("SCALE = 2\n")
    assert cache_key(node, {}) != before
