"""TFX's hello_world custom component, copied verbatim, run by a script written the way a TFX user would.

An Importer of an Examples directory (Split-train/Split-eval, split_names set as a property) stands in
for CsvExampleGen, which headrace does not have yet.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PORTED = Path(__file__).resolve().parent / "ported"

# The hello_world files import their own package as `headrace.tfx.examples.custom_components.hello_world...`
# (TFX ships its examples inside the tfx package). This harness preamble maps that package to the copy in
# tests/tfx/ported/hello_world; a ported project imports its own package instead.
HARNESS = """
import importlib.abc, importlib.machinery, importlib.util, sys
import headrace.tfx  # installs its finder first; the harness's goes in front of it
_PKG = 'headrace.tfx.examples.custom_components.hello_world'
_DIR = {ported!r} + '/hello_world'

class _Examples(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name in ('headrace.tfx.examples', 'headrace.tfx.examples.custom_components'):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        if name == _PKG:
            init = _DIR + '/__init__.py'
            return importlib.util.spec_from_file_location(name, init, submodule_search_locations=[_DIR])
        if name.startswith(_PKG + '.'):
            return importlib.machinery.PathFinder.find_spec(name, sys.modules[name.rpartition('.')[0]].__path__)
        return None
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        pass

sys.meta_path.insert(0, _Examples())
"""

PIPELINE = """
import os
import sys

from headrace.tfx import v1 as tfx
from headrace.tfx.examples.custom_components.hello_world.hello_component import component

root, data_root = sys.argv[1], sys.argv[2]
example_gen = tfx.dsl.Importer(
    source_uri=data_root,
    artifact_type=tfx.types.standard_artifacts.Examples,
    properties={'split_names': '["train", "eval"]'},
).with_id('CsvExampleGen')
hello = component.HelloComponent(input_data=example_gen.outputs['result'], name=u'HelloWorld')
pipeline = tfx.dsl.Pipeline(
    pipeline_name='hello_tfx',
    pipeline_root=os.path.join(root, 'pipelines'),
    components=[example_gen, hello],
    enable_cache=False,
    metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
        os.path.join(root, 'metadata.db')),
)
tfx.orchestration.LocalDagRunner().run(pipeline)
"""


def _examples_dir(root: Path) -> dict[str, str]:
    rows = {"train": "a,b\n1,2\n3,4\n", "eval": "a,b\n5,6\n"}
    for split, text in rows.items():
        (root / f"Split-{split}").mkdir(parents=True)
        (root / f"Split-{split}" / "data.csv").write_text(text)
    return rows


def test_hello_world_component_runs_under_local_dag_runner(tmp_path):
    rows = _examples_dir(tmp_path / "data")
    script = tmp_path / "taxi_pipeline_hello.py"
    script.write_text(HARNESS.format(ported=str(PORTED)) + PIPELINE)
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "run"), str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr

    from headrace.tfx.orchestration.metadata import Metadata, sqlite_metadata_connection_config
    from headrace.tfx.orchestration.portable.mlmd import execution_lib
    from headrace.types import standard_artifacts

    config = sqlite_metadata_connection_config(str(tmp_path / "run" / "metadata.db"))
    with Metadata(config) as m:
        ctx = m.store.get_context_by_type_and_name("node", "hello_tfx.HelloComponent")
        [execution] = m.store.get_executions_by_context(ctx.id)
        assert execution.last_known_state == execution.COMPLETE
        inputs = execution_lib.get_input_artifacts(m, execution.id)
        outputs = execution_lib.get_output_artifacts(m, execution.id)
    [imported] = inputs["input_data"]
    [out] = outputs["output_data"]
    assert isinstance(out, standard_artifacts.Examples)
    assert imported.uri == str(tmp_path / "data")
    assert json.loads(out.split_names) == ["train", "eval"]  # the executor copied the property
    assert out.state.value == "LIVE"
    assert out.uri.startswith(str(tmp_path / "run" / "pipelines" / "HelloComponent" / "output_data"))
    for split, text in rows.items():
        assert (Path(out.uri) / f"Split-{split}" / "data.csv").read_text() == text
    assert sorted(p.name for p in Path(out.uri).iterdir()) == ["Split-eval", "Split-train"]
