"""A module file's cache fingerprint (a parameter declared fingerprint=True): the file and the `.py` files it
imports from its folder; a parameter not declared is not fingerprinted."""

from __future__ import annotations

import os
from pathlib import Path

from headrace import BaseComponent, BaseExecutor, ComponentSpec, ExecutionParameter, ExecutorClassSpec
from headrace.compiler import compile_component
from headrace.fingerprint import module_file_digest
from headrace.launcher.cache import cache_key, input_fingerprint


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    st = os.stat(path)  # a new mtime even within the filesystem's timestamp resolution
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    return path


def _project(tmp_path: Path) -> Path:
    _write(tmp_path / "utils.py", "from helpers import scale\nVALUE = 1\n")
    _write(tmp_path / "helpers.py", "def scale(x):\n    return x * 2\n")
    _write(tmp_path / "pkg" / "__init__.py", "")
    _write(tmp_path / "pkg" / "layers.py", "from . import sizes\n")
    _write(tmp_path / "pkg" / "sizes.py", "UNITS = 8\n")
    _write(tmp_path / "unused.py", "X = 1\n")
    _write(tmp_path / "data" / "notes.py", "Y = 1\n")
    return _write(
        tmp_path / "trainer_module.py",
        "import os\nimport numpy as np\nimport utils\nfrom pkg.layers import *\n\ndef run_fn(fn_args):\n    pass\n",
    )


def test_editing_the_module_file_changes_the_digest(tmp_path: Path) -> None:
    module = _project(tmp_path)
    before = module_file_digest(str(module))
    assert module_file_digest(str(module)) == before
    _write(module, module.read_text() + "# trained longer\n")
    assert module_file_digest(str(module)) != before


def test_imported_neighbours_directly_transitively_and_relatively_change_the_digest(tmp_path: Path) -> None:
    module = _project(tmp_path)
    for neighbour in ("utils.py", "helpers.py", "pkg/__init__.py", "pkg/layers.py", "pkg/sizes.py"):
        before = module_file_digest(str(module))
        path = tmp_path / neighbour
        _write(path, path.read_text() + "\nCHANGED = True\n")
        assert module_file_digest(str(module)) != before, neighbour


def test_files_the_module_does_not_import_leave_the_digest_alone(tmp_path: Path) -> None:
    module = _project(tmp_path)
    before = module_file_digest(str(module))
    _write(tmp_path / "unused.py", "X = 2\n")
    _write(tmp_path / "data" / "notes.py", "Y = 2\n")
    _write(tmp_path / "new_file.py", "Z = 1\n")
    assert module_file_digest(str(module)) == before


def test_a_syntax_error_in_a_neighbour_still_digests_it(tmp_path: Path) -> None:
    module = _project(tmp_path)
    before = module_file_digest(str(module))
    _write(tmp_path / "helpers.py", "def scale(x:\n")
    assert module_file_digest(str(module)) != before


class _Noop(BaseExecutor):
    def Do(self, input_dict, output_dict, exec_properties):
        pass


def _component(declared: bool, module_file: str) -> BaseComponent:
    class Spec(ComponentSpec):
        PARAMETERS = {"module_file": ExecutionParameter(type=str, fingerprint=declared)}

    class WithModule(BaseComponent):
        SPEC_CLASS = Spec
        EXECUTOR_SPEC = ExecutorClassSpec(_Noop)

        def __init__(self, module_file: str):
            super().__init__(spec=Spec(module_file=module_file))

    return WithModule(module_file=module_file)


def test_a_declared_module_file_and_its_neighbours_are_in_the_cache_key(tmp_path: Path) -> None:
    module = _project(tmp_path)
    node = compile_component(_component(True, str(module)))
    assert node.file_inputs == ("module_file",)
    before, key = input_fingerprint(node), cache_key(node, {})
    _write(tmp_path / "pkg" / "sizes.py", "UNITS = 16\n")
    assert input_fingerprint(node) != before and cache_key(node, {}) != key
    missing = compile_component(_component(True, str(tmp_path / "missing.py")))
    assert input_fingerprint(missing) == input_fingerprint(missing)


def test_an_undeclared_parameter_is_not_fingerprinted(tmp_path: Path) -> None:
    module = _project(tmp_path)
    node = compile_component(_component(False, str(module)))
    assert node.file_inputs == () and input_fingerprint(node) is None
    key = cache_key(node, {})
    _write(tmp_path / "pkg" / "sizes.py", "UNITS = 16\n")
    assert cache_key(node, {}) == key  # only what the spec declares belongs to the key


def test_fingerprint_is_only_for_str_parameters() -> None:
    import pytest

    from headrace.errors import DefinitionError

    with pytest.raises(DefinitionError, match="must be str"):
        ExecutionParameter(type=int, fingerprint=True)


def test_the_execution_records_the_fingerprint(tmp_path: Path) -> None:
    from headrace import Pipeline
    from headrace.metadata import Metadata, sqlite_metadata_connection_config
    from headrace.metadata.values import get_value
    from headrace.orchestrators import LocalDagRunner

    module = _project(tmp_path / "code")
    pipeline = Pipeline("fp", str(tmp_path / "root"), [_component(True, str(module))])
    runner = LocalDagRunner(executor_mode="inprocess", quiet=True)
    first = runner.run(pipeline)
    _write(tmp_path / "code" / "helpers.py", "def scale(x):\n    return 3 * x\n")
    third = runner.run(pipeline)
    md = Metadata(sqlite_metadata_connection_config(first.metadata))
    recorded = [
        get_value(
            md.call(md.store.get_executions_by_id, [r.nodes["WithModule"].execution_id])[0].custom_properties[
                "input_fingerprint"
            ]
        )
        for r in (first, third)
    ]
    assert recorded[0] != recorded[1] and all(len(f) == 64 for f in recorded)
