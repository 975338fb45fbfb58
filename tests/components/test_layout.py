"""The shape of components/: capability subpackages one level deep, each exposing what the rest may use
in its `__init__` (with `__all__`); a leading underscore means private to its subpackage. The import
checks are a static scan of the source."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COMPONENTS = REPO / "components"
STANDARD = [
    "BaseExampleGenExecutor",
    "BulkInferrer",
    "CsvExampleGen",
    "DataAccessor",
    "DataDriftError",
    "DataValidationError",
    "DistributionValidator",
    "Evaluator",
    "ExampleValidator",
    "FileBasedExampleGen",
    "FnArgs",
    "ImportExampleGen",
    "ImportSchemaGen",
    "InfraValidator",
    "Pusher",
    "SchemaGen",
    "StatisticsGen",
    "Trainer",
]


def _modules() -> list[Path]:
    return sorted(p for p in COMPONENTS.rglob("*.py") if "__pycache__" not in p.parts)


def _subpackages() -> list[str]:
    return sorted(p.name for p in COMPONENTS.iterdir() if (p / "__init__.py").is_file())


def _all_of(init: Path) -> list[str] | None:
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return list(ast.literal_eval(node.value))
    return None


def _component_imports(source: str) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every `from headrace.components... import names` and
    `import headrace.components...` in a file, wherever it sits (top level or in a function)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").startswith("headrace.components")
        ):
            found.append((node.lineno, node.module or "", [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names if a.name.startswith("headrace.components")]
    return found


def _crossing_violations(source: str, where: str, own_package: str | None) -> list[str]:
    """What a module outside subpackage P may take from P: the names P's `__init__` exports, or a
    public module it lists there (`headrace.components.proto.builder`), never a private module."""
    exports = {p: set(_all_of(COMPONENTS / p / "__init__.py") or ()) for p in _subpackages()}
    found = []
    for line, module, names in _component_imports(source):
        parts = module.split(".")[2:]  # after headrace.components
        if not parts:  # from headrace.components import X: a standard component or a subpackage
            continue
        package, rest = parts[0], parts[1:]
        if package == own_package or package not in exports:
            continue
        if any(p.startswith("_") for p in rest):
            found.append(f"{where}:{line}: imports {module}, private to headrace.components.{package}")
        elif rest and rest[0] not in exports[package]:
            found.append(f"{where}:{line}: imports {module}; use the names headrace.components.{package} exports")
        elif not rest:
            unknown = [n for n in names if n not in exports[package]]
            if unknown:
                found.append(f"{where}:{line}: headrace.components.{package} does not export {', '.join(unknown)}")
    return found


def test_components_are_capability_subpackages_one_level_deep():
    loose = [p.name for p in COMPONENTS.glob("*.py") if p.name != "__init__.py"]
    assert not loose, f"modules outside a capability subpackage: {loose}"
    deep = [str(p.relative_to(COMPONENTS)) for p in _modules() if len(p.relative_to(COMPONENTS).parts) > 2]
    assert not deep, f"deeper than components/<capability>/<module>.py: {deep}"
    assert {"example_gen", "statistics", "validation", "training", "evaluation", "serving"} <= set(_subpackages())
    assert {"io", "beam", "reports", "proto"} <= set(_subpackages())


@pytest.mark.parametrize("package", _subpackages())
def test_each_subpackage_exports_what_the_rest_may_use(package):
    names = _all_of(COMPONENTS / package / "__init__.py")
    assert names, f"components/{package}/__init__.py has no __all__"
    assert len(set(names)) == len(names), f"components/{package}/__init__.py lists a name twice"
    module = importlib.import_module(f"headrace.components.{package}")
    missing = [n for n in names if not hasattr(module, n)]
    assert not missing, f"headrace.components.{package}.__all__ names what it lacks: {missing}"
    assert not [n for n in names if n.startswith("_")]


def test_the_standard_components_are_re_exported_as_before():
    import headrace.components as components

    assert sorted(components.__all__) == STANDARD
    for name in STANDARD:
        assert getattr(components, name).__name__ == name


def test_no_component_imports_another_subpackages_private_module():
    violations = []
    for path in _modules():
        rel = path.relative_to(COMPONENTS)
        owner = rel.parts[0] if len(rel.parts) > 1 else None
        violations += _crossing_violations(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)), owner)
    assert not violations, "\n".join(violations)


def test_the_scan_sees_what_crosses_a_subpackage_boundary():
    source = (
        "from headrace.components.serving._serving_probe import feed_signature\n"
        "def f():\n"
        "    from headrace.components.serving import predictions, nothing_here\n"
        "from headrace.components.serving.bulk_inferrer import predictions\n"
        "from headrace.components.serving import model_registry\n"
        "from headrace.components.serving.model_registry import rollback\n"
        "from headrace.components.evaluation._metrics import compute\n"
        "from headrace.components import Trainer, proto\n"
    )
    found = sorted(_crossing_violations(source, "sample.py", "evaluation"))
    assert len(found) == 3, found
    assert "sample.py:1: imports headrace.components.serving._serving_probe, private to" in found[0]
    assert "sample.py:3: headrace.components.serving does not export nothing_here" in found[1]
    assert "sample.py:4: imports headrace.components.serving.bulk_inferrer; use the names" in found[2]


def test_the_tfx_layer_takes_only_public_names_from_components():
    violations = []
    for path in sorted((REPO / "framework" / "tfx").glob("*.py")):
        violations += _crossing_violations(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)), None)
    table = importlib.import_module("headrace.tfx._table")
    providers = [p for entries in table.MODULES.values() for p in entries.values() if isinstance(p, str)]
    providers += list(table.STAR.values())
    for provider in providers:
        module = provider.split(":")[0]
        if module.startswith("headrace.components") and any(p.startswith("_") for p in module.split(".")):
            violations.append(f"headrace.tfx._table serves {provider}, a private module")
    assert not violations, "\n".join(violations)
