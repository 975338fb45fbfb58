"""A `module_file` parameter's cache fingerprint: the file and the `.py` files it imports from its folder."""

from __future__ import annotations

import os
from pathlib import Path

from headrace.launcher.cache import code_fingerprint, module_file_digest


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


def test_code_fingerprint_follows_the_module_files_neighbours(tmp_path: Path) -> None:
    module = _project(tmp_path)

    class Node:  # the two NodeIR fields code_fingerprint reads
        executor = {"kind": "python_class", "code": "abc"}
        parameters = {"module_file": str(module)}

    before = code_fingerprint(Node())  # type: ignore[arg-type]
    _write(tmp_path / "pkg" / "sizes.py", "UNITS = 16\n")
    assert code_fingerprint(Node()) != before  # type: ignore[arg-type]
    Node.parameters = {"module_file": str(tmp_path / "missing.py")}
    assert code_fingerprint(Node()) == code_fingerprint(Node())  # type: ignore[arg-type]
