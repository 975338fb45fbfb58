"""Which modules are the user's own (their code travels by value in the IR) and which are installed
(by name); the payload of a sibling module's code; its fingerprint, from the live objects."""

from __future__ import annotations

import importlib.abc
import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import headrace.dsl.user_modules as user_modules
from headrace.compiler import compile_pipeline
from headrace.dsl.user_code import CodeLoadError, importable_by_name, load, ship
from headrace.dsl.user_modules import is_users_own, own_root, own_roots

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def on_path(tmp_path, monkeypatch):
    """A folder on sys.path (as the pipeline file's folder is) whose modules are forgotten afterwards."""
    folder = tmp_path / "src"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    before = set(sys.modules)
    yield folder
    for name in set(sys.modules) - before:
        del sys.modules[name]


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text))


INSTALLED = [
    "json",
    "os.path",
    "cloudpickle",
    "click.core",
    "headrace",
    "headrace.dsl.user_code",
    "headrace.tfx.v1.dsl",
]


@pytest.mark.parametrize("module", INSTALLED)
def test_installed_modules_travel_by_name(module):
    # stdlib, site-packages, and headrace itself (an editable install: an import hook maps the name)
    importlib.import_module(module)
    assert not is_users_own(module) and own_root(module) is None
    assert module.partition(".")[0] not in own_roots()


def test_headrace_code_travels_by_name():
    from headrace.components import CsvExampleGen

    executor = CsvExampleGen(input_base="/data").EXECUTOR_SPEC.to_ir()
    assert executor["module"].startswith("headrace.components.") and "payload" not in executor


def test_a_sibling_module_and_a_local_package_are_the_users_own(on_path):
    write(
        on_path,
        {
            "sibling.py": "def f():\n    return 1\n",
            "proj/__init__.py": "",
            "proj/sub/__init__.py": "",
            "proj/sub/m.py": "X = 1\n",
        },
    )
    import proj.sub.m  # noqa: F401
    import sibling

    assert own_root("sibling") == "sibling" and own_root("proj.sub.m") == "proj"
    assert {"sibling", "proj"} <= set(own_roots())
    assert not importable_by_name(sibling.f)


def test_a_namespace_package_ships_its_regular_packages(on_path):
    write(on_path, {"ns_area/pkg/__init__.py": "", "ns_area/pkg/m.py": "X = 1\n"})  # ns_area has no __init__
    import ns_area.pkg.m  # noqa: F401

    assert own_root("ns_area.pkg.m") == "ns_area.pkg"
    assert own_root("ns_area") is None


def test_a_module_an_import_hook_maps_is_not_the_users_own(on_path, tmp_path):
    # as a finder-based editable install maps a name to a folder of another name (headrace -> framework/)
    write(tmp_path / "elsewhere", {"real_code.py": "X = 1\n"})

    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "mapped_code":
                return importlib.util.spec_from_file_location(name, tmp_path / "elsewhere" / "real_code.py")
            return None

    sys.meta_path.insert(0, Finder())
    try:
        sys.path.insert(0, str(tmp_path / "elsewhere"))  # even with its folder on sys.path
        importlib.import_module("mapped_code")
        assert not is_users_own("mapped_code")
    finally:
        sys.meta_path.pop(0)
        sys.path.remove(str(tmp_path / "elsewhere"))


def test_a_folder_a_pth_file_adds_is_installed(tmp_path, monkeypatch):
    site = tmp_path / "site-packages"
    (tmp_path / "proj").mkdir()
    site.mkdir()
    (site / "proj.pth").write_text(f"# an editable install\nimport os\n{tmp_path / 'proj'}\n../missing\n")
    assert user_modules._pth_folders(str(site)) == [str(site / str(tmp_path / "proj"))]
    monkeypatch.setattr(user_modules, "_installed_roots", lambda: (str(tmp_path / "proj"),))
    assert not user_modules._decide("m", str(tmp_path / "proj" / "m.py"), False, frozenset([str(tmp_path / "proj")]))
    assert user_modules._decide("m", str(tmp_path / "other" / "m.py"), False, frozenset([str(tmp_path / "other")]))


def test_a_sibling_modules_code_and_artifact_types_travel_in_the_payload(on_path):
    write(
        on_path,
        {
            "comps.py": """
                from headrace import BaseComponent, BaseExecutor, ChannelParameter, ComponentSpec, ExecutorClassSpec
                from headrace.types.artifact import Artifact

                class Note(Artifact):
                    TYPE_NAME = "Note"

                class Copy(BaseExecutor):
                    def Do(self, input_dict, output_dict, exec_properties):
                        return helper()

                def helper():
                    return 41 + 1

                class CopySpec(ComponentSpec):
                    OUTPUTS = {"note": ChannelParameter(type=Note)}

                class CopyNote(BaseComponent):
                    SPEC_CLASS = CopySpec
                    EXECUTOR_SPEC = ExecutorClassSpec(Copy)

                    def __init__(self):
                        super().__init__(spec=CopySpec())
            """
        },
    )
    import comps

    from headrace import Pipeline

    executor = compile_pipeline(Pipeline("p", "/root", [comps.CopyNote()])).node("CopyNote").executor
    assert executor["module"] == "comps" and executor["payload"]["artifact_types"]["data"]
    assert "def Do" in executor["payload"]["source"]
    assert load(executor) is comps.Copy  # where it was compiled: the live class


FRESH = """
import json, sys
from headrace.dsl.user_code import load
from headrace.types.registry import artifact_class
obj = load(json.load(sys.stdin))
print(json.dumps([obj(None).Do({}, {}, {}), artifact_class("Note").__name__, "comps2" in sys.modules]))
"""


def test_the_payload_loads_where_the_module_is_not(on_path, tmp_path):
    write(
        on_path,
        {
            "comps2.py": "from headrace import BaseExecutor\nfrom headrace.types.artifact import Artifact\n"
            "class Note(Artifact):\n    TYPE_NAME = 'Note'\n"
            "def helper():\n    return 42\n"
            "class Copy(BaseExecutor):\n    def Do(self, i, o, e):\n        return helper()\n"
        },
    )
    import comps2

    from headrace.dsl.user_code import with_artifact_types

    executor = with_artifact_types({"kind": "python_class", **ship(comps2.Copy, "Copy")}, [comps2.Note], "n")
    out = subprocess.run(
        [sys.executable, "-c", FRESH],
        input=json.dumps(executor),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    ).stdout
    assert json.loads(out) == [42, "Note", False]  # the helper came along; the module was never imported


# -- the fingerprint: from the live objects of the user's modules -------------------------------------
COMPILE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from headrace import Pipeline
from headrace.compiler import compile_pipeline
from comp import Fit
print(json.dumps(compile_pipeline(Pipeline("p", "/root", [Fit()])).node("Fit").executor["code"]))
"""


def _code(folder: Path) -> str:
    out = subprocess.run([sys.executable, "-c", COMPILE, str(folder)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_editing_a_helper_in_another_own_module_changes_the_key_and_a_comment_does_not(tmp_path):
    comp = """
        from headrace import OutputDict, component
        import tools
        from tools import scale

        @component
        def Fit() -> OutputDict(n=int):
            return {"n": scale(2) + tools.RATE}
    """
    tools = "RATE = 5\n\ndef scale(n):\n    return n * 3\n"
    write(tmp_path, {"comp.py": comp, "tools.py": tools})
    first = _code(tmp_path)
    write(
        tmp_path,
        {"tools.py": "# a comment\n\n\nRATE = 5  # the rate\n\n\ndef scale(n):\n    # triple it\n    return n * 3\n"},
    )
    assert _code(tmp_path) == first
    write(tmp_path, {"tools.py": "RATE = 5\n\ndef scale(n):\n    return n * 4\n"})
    changed = _code(tmp_path)
    assert changed != first
    write(tmp_path, {"tools.py": "RATE = 6\n\ndef scale(n):\n    return n * 4\n"})  # read as tools.RATE
    assert _code(tmp_path) not in (first, changed)


def test_a_payload_from_another_python_version_is_a_clear_error(on_path):
    write(on_path, {"comps3.py": "def f():\n    return 1\n"})
    import comps3

    fields = ship(comps3.f, "f")
    executor = {"kind": "python_function", **fields, "payload": {**fields["payload"], "python": "3.10"}}
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    with pytest.raises(CodeLoadError, match=rf"compiled by Python 3\.10 .* this is Python {here}\. Run the step"):
        load(executor)


def test_modules_are_pickled_by_value_only_while_shipping_and_a_users_registration_stays(on_path):
    import cloudpickle

    write(on_path, {"mine.py": "def f():\n    return 1\n", "theirs.py": "def g():\n    return 2\n"})
    import mine
    import theirs

    cloudpickle.register_pickle_by_value(theirs)
    try:
        ship(mine.f, "f")
        ship(theirs.g, "g")
        assert cloudpickle.list_registry_pickle_by_value() >= {"theirs"}
        assert "mine" not in cloudpickle.list_registry_pickle_by_value()
    finally:
        cloudpickle.unregister_pickle_by_value(theirs)
