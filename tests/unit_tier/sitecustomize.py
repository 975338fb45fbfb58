"""The fast tier's guard (`make unit`): in every Python process a test starts, importing a library the
fast tier leaves out fails, and is recorded so the test fails even if the code under test swallowed the
ImportError.

tests/conftest.py installs it in the test process, and puts this folder first on PYTHONPATH so that the
processes a test starts (spawned workers, the CLI, Airflow, a notebook kernel) run it at start-up too;
forked workers inherit it. It does nothing unless HEADRACE_UNIT_GUARD names the record file, so a
process started outside `pytest --unit` is not affected.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from types import ModuleType

GUARD_ENV = "HEADRACE_UNIT_GUARD"

# Top-level package -> what loading it means. Each costs seconds per process or needs a service.
LEFT_OUT = {
    "tensorflow": "TensorFlow",
    "tf_keras": "TensorFlow (tf-keras)",
    "keras": "Keras (TensorFlow)",
    "tensorflow_data_validation": "TFDV (TensorFlow)",
    "tensorflow_model_analysis": "TFMA (TensorFlow)",
    "tensorflow_transform": "TensorFlow Transform",
    "tfx_bsl": "tfx-bsl (TensorFlow)",
    "apache_beam": "Apache Beam",
    "airflow": "Airflow",
    "nbclient": "a notebook kernel",
    "jupyter_client": "a notebook kernel",
    "docker": "the Docker engine",
}


class LeftOutError(ImportError):
    """A fast-tier test loaded a library the fast tier leaves out."""


class _Refuse(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the left-out packages (so `find_spec` still says they are installed) and refuses to load them."""

    def __init__(self, record: str):
        self.record = record

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname in LEFT_OUT:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        what = LEFT_OUT[spec.name]
        line = f"{spec.name}\t{what}\t{os.getpid()}\t{' '.join(sys.argv)[:300]}\n"
        fd = os.open(self.record, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())  # one write with O_APPEND: lines from several processes do not mix
        finally:
            os.close(fd)
        raise LeftOutError(
            f"the fast tier (make unit) does not load {what}: import of '{spec.name}' refused. Mark the test "
            "`@pytest.mark.slow` (see tests/conftest.py); `make test` runs it.",
            name=spec.name,
        )

    def exec_module(self, module: ModuleType) -> None:  # never reached: create_module raises
        raise AssertionError(module)


def install() -> None:
    """Puts the guard first on sys.meta_path if HEADRACE_UNIT_GUARD is set (idempotent)."""
    record = os.environ.get(GUARD_ENV)
    if record and not any(isinstance(f, _Refuse) for f in sys.meta_path):
        sys.meta_path.insert(0, _Refuse(record))


install()
