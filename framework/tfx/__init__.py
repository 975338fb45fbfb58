"""TFX's import paths, served by headrace: port a TFX pipeline by rewriting its imports.

``from tfx import v1 as tfx`` becomes ``from headrace.tfx import v1 as tfx``;
``from tfx.dsl.components.base import executor_spec`` becomes
``from headrace.tfx.dsl.components.base import executor_spec``, and so on (a sed one-liner is
in docs/MIGRATING_FROM_TFX.md). Each TFX module path is built on import from one table
(`headrace/tfx/_table.py`) that says which headrace name serves which TFX name; there is no
copy of TFX's folder tree and no second API. The standard components, the Local, Beam,
Kubeflow (V2) and Airflow runners and TFX's protos are served; a name TFX has and headrace does
not have yet raises an ImportError (`NotYetAvailableError`) that names the capability it belongs to.

Importing this package is light: names resolve on first use. headrace's own code never imports it.
It does leave behind what importing TFX leaves behind that TFX code relies on: `absl.logging` and
`absl.flags` are attributes of `absl`, and `urllib.request` of `urllib` (TFX's tutorials do
`import absl` and `absl.logging.set_verbosity(absl.logging.INFO)`, or `import urllib` and
`urllib.request.urlretrieve(...)`). Those are light; TensorFlow, Beam and the rest are not imported.
"""

from __future__ import annotations

# TFX's import side effects that TFX code relies on (see the docstring); about 45 ms, all of it light.
import urllib.request  # noqa: F401
from typing import Any

from headrace.tfx._finder import NotYetAvailableError, install, lookup, names_of
from headrace.version import __version__

try:
    import absl.logging  # noqa: F401  (imports absl.flags too)
except ImportError:  # absl-py is TFX's dependency, not headrace's: without it, no TFX code imports absl either
    pass

install()


def __getattr__(name: str) -> Any:
    """`headrace.tfx.v1`, `.types`, `.dsl`, ... (TFX's top-level modules), imported on first use."""
    if name.startswith("__"):
        raise AttributeError(name)
    value = lookup("", name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *names_of("")})


__all__ = ["NotYetAvailableError", "__version__"]
