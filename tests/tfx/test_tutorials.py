"""TFX's three penguin tutorials (tests/tfx/tutorials, see its README.md), run end to end in a real Jupyter
kernel after the `tfx` -> `headrace.tfx` import rewrite: every cell but the `pip install` ones, then a probe
cell of ours that reports what the run left behind (pushed models, the store, the Evaluator's output).

The tutorials' trainers are unseeded; the kernel gets HEADRACE_TRAINER_SEED so their accuracy is stable.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

REPO = Path(__file__).resolve().parents[2]
TUTORIALS = Path(__file__).resolve().parent / "tutorials"
DATA = REPO / "pipelines" / "penguin" / "data" / "processed" / "penguins_processed.csv"
MARK = "PROBE:"

# The kernel loads TensorFlow; the pytest process does not, but the tests are slow, so they run with the
# heavy ones at the end.
pytestmark = pytest.mark.heavy_imports

# Loads every pushed SavedModel, as TF Serving would, and scores it on the tutorial's data.
PUSHED = """
import glob, json, csv
import tensorflow as _tf
_versions = sorted(glob.glob(os.path.join(SERVING_MODEL_DIR, '*', 'saved_model.pb')))
_serve = _tf.saved_model.load(os.path.dirname(_versions[-1])).signatures['serving_default']
with open(_data_filepath) as _f:
    _rows = list(csv.DictReader(_f))
_inputs = {k: _tf.constant([[float(r[k])] for r in _rows]) for k in _serve.structured_input_signature[1]}
_logits = list(_serve(**_inputs).values())[0].numpy()
_accuracy = float((_logits.argmax(axis=1) == [int(r['species']) for r in _rows]).mean())
PROBE = {'versions': [os.path.relpath(v, SERVING_MODEL_DIR) for v in _versions], 'accuracy': _accuracy,
         'rows': len(_rows), 'shape': list(_logits.shape)}
"""


def run_tutorial(name: str, workdir: Path, probe: str, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, Any]:
    """Runs the ported notebook in `workdir` (a copy of the data beside it) and returns the probe's report."""
    shutil.copy(DATA, workdir / "penguins_processed.csv")
    monkeypatch.setenv("HEADRACE_TRAINER_SEED", "42")  # the kernel inherits the environment
    notebook = nbformat.read(TUTORIALS / f"{name}.ipynb", as_version=4)
    notebook.cells = [c for c in notebook.cells if not (c.cell_type == "code" and "pip install" in c.source)]
    report = f"{probe}\nprint({MARK!r} + json.dumps(PROBE))"
    notebook.cells.append(nbformat.v4.new_code_cell(report))
    resources = {"metadata": {"path": str(workdir)}}
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources=resources)
    try:
        client.execute()
    except CellExecutionError as error:
        pytest.fail(f"{name}: a cell failed after the import rewrite:\n{error}")
    [line] = [line for line in _text(notebook.cells[-1]).splitlines() if line.startswith(MARK)]
    return json.loads(line[len(MARK) :]), notebook


def _text(cell: Any) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


def _cell(notebook: Any, start: str) -> Any:
    [cell] = [c for c in notebook.cells if c.cell_type == "code" and c.source.lstrip().startswith(start)]
    return cell


def _check_pushed(probe: dict) -> None:
    assert probe["versions"] == ["1/saved_model.pb"]  # one push, version 1 of the tutorial's model name
    assert probe["shape"] == [probe["rows"], 3]  # a logit per species for every row
    assert probe["rows"] == 342
    assert probe["accuracy"] >= 0.9


def test_penguin_simple_trains_and_pushes_with_the_tutorial_module_file(tmp_path, monkeypatch):
    probe, notebook = run_tutorial("penguin_simple", tmp_path, PUSHED, monkeypatch)
    _check_pushed(probe)
    assert "saved_model.pb" in _text(_cell(notebook, "# List files"))  # the tutorial's `!find` cell
    assert (tmp_path / "metadata" / "penguin-simple" / "metadata.db").is_file()
    assert (tmp_path / "penguin_trainer.py").read_text().count("save_format='tf'") == 1  # Keras 2, via tf-keras


def test_penguin_tfdv_validates_the_data_against_its_schema_then_trains(tmp_path, monkeypatch):
    probe, notebook = run_tutorial("penguin_tfdv", tmp_path, PUSHED, monkeypatch)
    _check_pushed(probe)
    schema = (tmp_path / "schema" / "schema.pbtxt").read_text()  # copied by the notebook from SchemaGen's output
    assert schema.count("feature {") == 5
    html = [
        o
        for c in notebook.cells
        if c.cell_type == "code" and "visualize_artifacts" in c.source and "def " not in c.source
        for o in c.outputs
        if "text/html" in o.get("data", {})
    ]
    assert len(html) >= 2  # the statistics and the schema, displayed by the tutorial's own cells


TFMA = (
    PUSHED
    + """
eval_result = tfma.load_eval_result(eval_artifact.uri)
_slices = {json.dumps(list(k)): m[''][''] for k, m in eval_result.slicing_metrics}
PROBE['slices'] = {k: {n: v.get('doubleValue') for n, v in m.items()} for k, m in _slices.items()}
PROBE['validation_ok'] = tfma.load_validation_result(eval_artifact.uri).validation_ok
# The blessing as TFX code reads it (tfx/dsl/input_resolution/strategies/latest_blessed_model_strategy.py
# and tfx/components/evaluator/constants.py), next to the Trainer's model found as the tutorial finds outputs.
from headrace.tfx.components.evaluator import constants as evaluator
_blessing = evaluator_output[standard_component_specs.BLESSING_KEY][0]
with Metadata(metadata_connection_config) as metadata_handler:
  _model = get_latest_artifacts(metadata_handler, PIPELINE_NAME, 'Trainer')[standard_component_specs.MODEL_KEY][0]
PROBE['blessing'] = {
    'blessed': _blessing.get_int_custom_property(evaluator.ARTIFACT_PROPERTY_BLESSED_KEY),
    'current_model': _blessing.get_string_custom_property(evaluator.ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY),
    'current_model_id': _blessing.get_int_custom_property(evaluator.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY),
    'has_baseline': _blessing.has_custom_property(evaluator.ARTIFACT_PROPERTY_BASELINE_MODEL_URI_KEY),
    'producer_component': _blessing.producer_component,
    'pipeline_name': _blessing.pipeline_name,
}
PROBE['model'] = {'uri': _model.uri, 'id': _model.id}
"""
)


def test_penguin_tfma_evaluates_with_a_tfma_eval_config_and_pushes_a_blessed_model(tmp_path, monkeypatch):
    probe, _ = run_tutorial("penguin_tfma", tmp_path, TFMA, monkeypatch)
    _check_pushed(probe)
    slices = probe["slices"]
    assert set(slices) == {"[]", '[["species", 0]]', '[["species", 1]]', '[["species", 2]]'}
    overall = slices["[]"]["sparse_categorical_accuracy"]
    assert overall >= 0.6  # the tutorial's value threshold, which blessed the model
    assert probe["validation_ok"] is True
    # The blessing carries TFX's custom properties (the first run has no baseline model: none recorded).
    model, blessing = probe["model"], probe["blessing"]
    assert blessing == {
        "blessed": 1,
        "current_model": model["uri"],
        "current_model_id": model["id"],
        "has_baseline": False,
        "producer_component": "Evaluator",
        "pipeline_name": "penguin-tfma",
    }
    counts = [slices[k]["example_count"] for k in slices if k != "[]"]
    assert sum(counts) == slices["[]"]["example_count"]
