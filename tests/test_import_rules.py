"""Import rules: `import headrace` stays light, and the package layers only import downwards.

The layer check is a static AST scan: import-linter cannot follow setup.py's package_dir mapping
(framework/ -> headrace, components/ -> headrace.components, orchestrators/ -> headrace.orchestrators).
"""

from __future__ import annotations

import ast
import functools
import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SOURCE_ROOTS = {"framework": "headrace", "components": "headrace.components", "orchestrators": "headrace.orchestrators"}
HEAVY = ("tensorflow", "apache_beam", "tensorflow_data_validation", "kfp", "airflow", "docker")
MAX_LINES = 450  # no module over 450 lines in framework/, components/ or orchestrators/

# The layers, top to bottom. A module belongs to the first layer one of whose prefixes it matches
# ("headrace" alone is the package's own __init__, the public facade). A layer may import only the
# layers it `may_import` (and itself); the core is everything else in framework/.
EDGE = ("headrace", "headrace.__main__", "headrace.cli", "headrace.entrypoint", "headrace.tfx", "headrace.ui")
LAYERS: dict[str, tuple[str, ...]] = {
    "edge": EDGE,
    "orchestrators": ("headrace.orchestrators",),
    "components": ("headrace.components",),
    "core": ("headrace.",),
}
MAY_IMPORT = {
    "edge": {"edge", "orchestrators", "components", "core"},
    "orchestrators": {"orchestrators", "core"},
    "components": {"components", "core"},
    "core": {"core"},
}

# Inside the core, (modules a rule applies to, modules they must not import): each sub-layer only downwards.
CORE_RULES: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("headrace.types",), ("headrace.dsl", "headrace.compiler", "headrace.metadata", "headrace.launcher")),
    (("headrace.dsl",), ("headrace.compiler", "headrace.metadata", "headrace.launcher")),
    (("headrace.compiler", "headrace.metadata"), ("headrace.launcher",)),
]

# headrace.tfx is a compatibility layer on top: nothing outside it imports it.
COMPAT_LAYER = "headrace.tfx"


def layer_of(module: str) -> str:
    """The layer a module (or an import target inside headrace) belongs to."""
    for layer, prefixes in LAYERS.items():
        for prefix in prefixes:
            if module == prefix or (
                prefix != "headrace" and module.startswith(prefix if prefix.endswith(".") else prefix + ".")
            ):
                return layer
    raise ValueError(f"{module} is in no layer")


# -- (a) a fresh interpreter -------------------------------------------------------------------------

LIGHT_SCRIPT = """
import json, sys

import headrace
from headrace import (BaseComponent, BaseExecutor, ChannelParameter, ComponentSpec, ExecutionParameter,
                      ExecutorClassSpec, InputArtifact, OutputArtifact, OutputDict, Parameter, Pipeline, component)
from headrace.compiler import compile_pipeline, dump, load
from headrace.types import standard_artifacts
import headrace.orchestrators
import headrace.metadata
from headrace.orchestrators import LocalDagRunner


@component
def Make(examples: OutputArtifact[standard_artifacts.Examples], rows: Parameter[int] = 3) -> OutputDict(n=int):
    return {'n': rows}


class GreetSpec(ComponentSpec):
    INPUTS = {'input_data': ChannelParameter(type=standard_artifacts.Examples)}
    OUTPUTS = {'output_data': ChannelParameter(type=standard_artifacts.Examples)}
    PARAMETERS = {'name': ExecutionParameter(type=str)}


class GreetExecutor(BaseExecutor):
    def Do(self, input_dict, output_dict, exec_properties):
        pass


class Greet(BaseComponent):
    SPEC_CLASS = GreetSpec
    EXECUTOR_SPEC = ExecutorClassSpec(GreetExecutor)

    def __init__(self, input_data, name=None):
        super().__init__(spec=GreetSpec(input_data=input_data, name=name))


make = Make(rows=5)
greet = Greet(input_data=make.outputs['examples'], name='x')
config = headrace.metadata.sqlite_metadata_connection_config(sys.argv[1])
pipeline = Pipeline('light', sys.argv[1], [greet], metadata_connection_config=config)
ir = load(dump(compile_pipeline(pipeline)))
print(json.dumps({
    'nodes': [n.id for n in ir.nodes],
    'kinds': [n.kind for n in ir.nodes],
    'modules': sorted(sys.modules),
}))
"""


def test_import_headrace_and_compile_loads_no_heavy_dependency(tmp_path):
    script = tmp_path / "light_pipeline.py"
    script.write_text(textwrap.dedent(LIGHT_SCRIPT))
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "root")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["nodes"] == ["Make", "Greet"]
    assert report["kinds"] == ["python_function", "python_class"]
    modules = set(report["modules"])
    assert {"headrace", "headrace.orchestrators", "headrace.metadata", "headrace.compiler"} <= modules
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert not heavy, f"importing headrace pulled in heavy modules: {heavy}"
    assert not any(_matches(m, COMPAT_LAYER) for m in modules), "import headrace imported headrace.tfx"


# -- (b) static scan -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportRef:
    target: str  # a module name the statement imports (or may import, for `from X import name`)
    line: int
    top_level: bool  # executed when the module is imported


def module_name(path: Path) -> str:
    """framework/dsl/pipeline.py -> headrace.dsl.pipeline; components/__init__.py -> headrace.components."""
    rel = path.relative_to(REPO)
    base = SOURCE_ROOTS[rel.parts[0]]
    parts = list(rel.with_suffix("").parts[1:])
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join([base, *parts])


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.AST, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            if node.level > 1:
                package = package[: -(node.level - 1)]
            base = ".".join(package + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        return [base] + [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]
    if isinstance(node, ast.Call):  # importlib.import_module("x.y") / __import__("x")
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in ("import_module", "__import__") and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                return [arg.value]
    return []


def scan_imports(source: str, module: str, is_package: bool = False) -> list[ImportRef]:
    """Every import in `source` except those under `if TYPE_CHECKING:` (which never run).

    `top_level` is True for statements run on import: module level, inside module-level
    if/try/with/for/while blocks and class bodies; False inside functions.
    """
    refs: list[ImportRef] = []

    def visit(node: ast.AST, top: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child, top)
            return
        for target in _targets(node, module, is_package):
            refs.append(ImportRef(target, getattr(node, "lineno", 0), top))
        inside_function = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, top and not inside_function)

    visit(ast.parse(source), True)
    return refs


def _matches(target: str, prefix: str) -> bool:
    return target == prefix or target.startswith(prefix + ".")


@functools.cache
def _known_modules() -> frozenset[str]:
    return frozenset(module_name(p) for p in _source_files())


def _private_owner(target: str) -> str | None:
    """The package a private module belongs to (a module file whose name starts with '_':
    `headrace.components.io._x` is private to `headrace.components.io`). None for a public module, and
    for a private name inside a module (that module's business)."""
    parts = target.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__") and ".".join(parts[: i + 1]) in _known_modules():
            return ".".join(parts[:i])
    return None


def layer_violations(refs: list[ImportRef], module: str, where: str) -> list[str]:
    found = []
    if not _matches(module, COMPAT_LAYER):
        for ref in refs:
            if _matches(ref.target, COMPAT_LAYER):
                found.append(f"{where}:{ref.line}: {module} imports {ref.target} (only headrace.tfx may import it)")
    layer = layer_of(module)
    # `from headrace import fileio` names a module, not the package's facade: judge the module.
    lines_naming_modules = {r.line for r in refs if r.target != "headrace" and r.target in _known_modules()}
    for ref in refs:
        if not _matches(ref.target, "headrace") or (ref.target == "headrace" and ref.line in lines_naming_modules):
            continue
        target_layer = layer_of(ref.target)
        if target_layer not in MAY_IMPORT[layer]:
            found.append(
                f"{where}:{ref.line}: {module} ({layer}) imports {ref.target} ({target_layer}): the {layer} layer "
                f"may import only {', '.join(sorted(MAY_IMPORT[layer]))}"
            )
        owner = _private_owner(ref.target)
        if owner is not None and not _matches(module, owner) and owner != "headrace":
            found.append(f"{where}:{ref.line}: {module} imports {ref.target}, private to {owner}")
    for sources, forbidden in CORE_RULES:
        if not any(_matches(module, s) for s in sources):
            continue
        for ref in refs:
            for bad in forbidden:
                if _matches(ref.target, bad):
                    found.append(f"{where}:{ref.line}: {module} imports {ref.target} (must not import {bad})")
    return sorted(set(found))


# Subpackages of headrace.components that every component may use module by module; the capability
# subpackages (example_gen, evaluation, ...) are used by other capabilities only through their __init__.
SHARED_COMPONENT_PACKAGES = {"io", "beam", "reports", "proto", "common"}


def capability_violations(refs: list[ImportRef], module: str, where: str) -> list[str]:
    """A component imports another capability only through that subpackage's public face."""
    parts = module.split(".")
    if parts[:2] != ["headrace", "components"] or len(parts) < 4:
        return []
    found = []
    for ref in refs:
        target = ref.target.split(".")
        if target[:2] != ["headrace", "components"] or len(target) < 4:
            continue
        package = target[2]
        if package == parts[2] or package in SHARED_COMPONENT_PACKAGES:
            continue
        if ".".join(target[:4]) in _known_modules():
            found.append(
                f"{where}:{ref.line}: {module} imports {ref.target}: import it from headrace.components.{package}"
            )
    return sorted(set(found))


def adapter_violations(refs: list[ImportRef], module: str, where: str) -> list[str]:
    """An orchestrator adapter (a module the RUNNERS/TARGETS table names) imports no other adapter."""
    from headrace.orchestrators import RUNNERS, TARGETS

    adapters = {f"headrace.orchestrators.{m}" for m, _c, _h in (*RUNNERS.values(), *TARGETS.values())}
    adapters.discard("headrace.orchestrators.base_target")  # the IR target lives in the targets' base
    if module not in adapters:
        return []
    return sorted(
        {
            f"{where}:{ref.line}: adapter {module} imports adapter {ref.target}: share code through a base module"
            for ref in refs
            for other in adapters - {module}
            if _matches(ref.target, other)
        }
    )


def heavy_violations(refs: list[ImportRef], where: str) -> list[str]:
    return sorted(
        {
            f"{where}:{ref.line}: top-level import of {ref.target} (import it inside the function that needs it)"
            for ref in refs
            if ref.top_level and ref.target.split(".")[0] in HEAVY
        }
    )


def _source_files() -> list[Path]:
    files = [p for root in SOURCE_ROOTS for p in sorted((REPO / root).rglob("*.py")) if "__pycache__" not in p.parts]
    assert files, "no source files found: is REPO right?"
    return files


def test_scanner_sees_what_it_must_and_nothing_else():
    source = textwrap.dedent(
        """
        import os
        import tensorflow as tf
        from typing import TYPE_CHECKING
        from . import pipeline
        from ..compiler import ir
        from headrace import orchestrators
        try:
            import apache_beam
        except ImportError:
            from docker import errors
        if TYPE_CHECKING:
            from headrace.launcher import runs
        else:
            import kfp
        class Holder:
            import airflow
        def lazy():
            import tensorflow_data_validation
            import importlib
            importlib.import_module("headrace.cli.main")
        """
    )
    refs = scan_imports(source, "headrace.dsl.sample")
    targets = {r.target for r in refs}
    assert {"headrace.dsl.pipeline", "headrace.compiler.ir", "headrace.orchestrators", "headrace.cli.main"} <= targets
    assert "headrace.launcher" not in targets and "headrace.launcher.runs" not in targets
    heavy = heavy_violations(refs, "sample.py")
    assert sorted(v.split(": ")[1].split(" (")[0] for v in heavy) == [
        "top-level import of airflow",
        "top-level import of apache_beam",
        "top-level import of docker",
        "top-level import of docker.errors",
        "top-level import of kfp",
        "top-level import of tensorflow",
    ]
    assert all("tensorflow_data_validation" not in v for v in heavy)
    layers = layer_violations(refs, "headrace.dsl.sample", "sample.py")
    assert any("imports headrace.compiler.ir" in v for v in layers)
    assert any("imports headrace.orchestrators" in v for v in layers)
    assert any("imports headrace.cli.main" in v for v in layers)
    assert layer_violations(refs, "headrace.cli.sample", "sample.py") == []
    compat = scan_imports("from headrace.tfx import v1\n", "headrace.dsl.sample")
    assert any("only headrace.tfx may import it" in v for v in layer_violations(compat, "headrace.dsl.sample", "s.py"))
    assert layer_violations(compat, "headrace.tfx._table", "t.py") == []
    # `from headrace.types import x` resolves relative to a package's __init__ too.
    init_refs = scan_imports("from .artifact import Artifact\n", "headrace.types", is_package=True)
    assert {r.target for r in init_refs} == {"headrace.types.artifact", "headrace.types.artifact.Artifact"}


def test_module_names_follow_the_package_dir_mapping():
    assert module_name(REPO / "framework" / "__init__.py") == "headrace"
    assert module_name(REPO / "framework" / "dsl" / "pipeline.py") == "headrace.dsl.pipeline"
    assert module_name(REPO / "components" / "__init__.py") == "headrace.components"
    assert module_name(REPO / "orchestrators" / "local_dag_runner.py") == "headrace.orchestrators.local_dag_runner"


def test_layers_only_import_downwards():
    violations = []
    for path in _source_files():
        module = module_name(path)
        refs = scan_imports(path.read_text(encoding="utf-8"), module, path.name == "__init__.py")
        violations += layer_violations(refs, module, str(path.relative_to(REPO)))
    assert not violations, "layer violations:\n" + "\n".join(violations)


def test_no_heavy_dependency_at_module_top_level():
    violations = []
    for path in _source_files():
        module = module_name(path)
        refs = scan_imports(path.read_text(encoding="utf-8"), module, path.name == "__init__.py")
        violations += heavy_violations(refs, str(path.relative_to(REPO)))
    assert not violations, "heavy imports at module top level:\n" + "\n".join(violations)


def test_every_module_is_in_one_layer_and_every_layer_has_modules():
    modules = {module_name(p) for p in _source_files()}
    by_layer: dict[str, set[str]] = {}
    for m in modules:
        by_layer.setdefault(layer_of(m), set()).add(m)
    assert set(by_layer) == set(LAYERS), f"layers without a module: {set(LAYERS) - set(by_layer)}"
    assert by_layer["edge"] >= {"headrace", "headrace.cli.main", "headrace.entrypoint", "headrace.tfx"}
    assert "headrace.launcher.launcher" in by_layer["core"] and "headrace.orchestrators" in by_layer["orchestrators"]
    for sources, forbidden in CORE_RULES:
        for name in (*sources, *forbidden):
            assert any(_matches(m, name) for m in modules), f"rule names {name}, which has no source file"


def test_components_use_other_capabilities_through_their_public_face():
    violations = []
    for path in _source_files():
        module = module_name(path)
        refs = scan_imports(path.read_text(encoding="utf-8"), module, path.name == "__init__.py")
        violations += capability_violations(refs, module, str(path.relative_to(REPO)))
    assert not violations, "\n".join(violations)
    sample = scan_imports("from headrace.components.serving.pusher import Pusher\n", "headrace.components.evaluation.x")
    assert capability_violations(sample, "headrace.components.evaluation.x", "x.py"), "the rule must see a violation"


def test_adapters_do_not_import_each_other():
    violations = []
    for path in _source_files():
        module = module_name(path)
        refs = scan_imports(path.read_text(encoding="utf-8"), module, path.name == "__init__.py")
        violations += adapter_violations(refs, module, str(path.relative_to(REPO)))
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize("root", sorted(SOURCE_ROOTS))
def test_no_source_file_exceeds_the_line_limit(root):
    too_long = []
    for path in sorted((REPO / root).rglob("*.py")):
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            too_long.append(f"{path.relative_to(REPO)}: {n} lines (limit {MAX_LINES})")
    assert not too_long, "\n".join(too_long)
