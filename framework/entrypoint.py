"""The container entrypoint: runs one task of one IR node inside an image.

    python -m headrace.entrypoint execute TASK_FILE RESULT_FILE
    python -m headrace.entrypoint kfp --executor-input JSON --node-ir BASE64 [--run-id ID]

`execute` (headrace's Docker launcher): TASK_FILE is the pickled `ExecutionTask` the runner wrote
(artifact folders are mounted at the paths it names); the executor's result is pickled to
RESULT_FILE. It exits 0 when the result was written (a failed executor is a result too).

`kfp` (a task of a pipeline compiled for Kubeflow Pipelines v2): KFP's launcher passes its
ExecutorInput as JSON (`{{$}}`) and the compiled node travels in --node-ir. This reads the input
artifacts (URIs as local paths: gs://b/x is /gcs/b/x, minio:// /minio/, s3:// /s3/, as KFP mounts
them; properties from their metadata), the parameter values and the output artifacts, runs the
node's executor with headrace's executor runner, and writes ExecutorOutput (each output artifact
with its metadata: properties and custom properties flat, a value artifact's value as `value`, and
the exact properties as JSON under `headrace`) to the executor output file KFP names. KFP's
launcher publishes what that file says, and kfp.local reads only that file. A failed executor exits
1 with its traceback on stderr. Neither command imports kfp.

Model ids on Kubeflow (TFX's contract, which the resolver queries rely on): KFP knows an artifact by
its name, open-source KFP's decimal ML Metadata id ("123") or Vertex AI's resource name
(".../artifacts/123"). The executor sees the number as the artifact's id; a ModelBlessing's
`current_model_id` and `baseline_model_id`, which the Evaluator sets from those ids, are written back
as the model's full KFP name (a string, as TFX's container writes them), because the model query
matches `name="{{$.inputs.artifacts['input'].metadata['current_model_id']}}"` against the Model's
name, which on Vertex AI is the resource name, and an id past 2**53 would not survive as a metadata
number.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
from typing import Any

USAGE = (
    "usage: python -m headrace.entrypoint execute TASK_FILE RESULT_FILE\n"
    "       python -m headrace.entrypoint kfp --executor-input JSON --node-ir BASE64 [--run-id ID]"
)


def main(argv: list[str]) -> int:
    if argv[:1] == ["kfp"]:
        return run_kfp(argv[1:])
    if len(argv) != 3 or argv[0] != "execute":
        print(USAGE, file=sys.stderr)
        return 2

    from headrace.launcher.executor_runner import run_task

    _, task_file, result_file = argv
    with open(task_file, "rb") as f:
        task = pickle.load(f)
    result = run_task(task)
    if not result.ok:
        print(result.traceback or f"{result.error_type}: {result.message}", file=sys.stderr)
    with open(result_file, "wb") as f:
        pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
    return 0


# -- kfp -------------------------------------------------------------------------------------------------
_REMOTE_MOUNTS = {"gs://": "/gcs/", "minio://": "/minio/", "s3://": "/s3/"}
METADATA_KEY = "headrace"  # the exact properties, as JSON (the flat metadata keys are for people and CEL)


def local_path(uri: str) -> str:
    """Where KFP's launcher makes an artifact URI readable in the container."""
    for prefix, mount in _REMOTE_MOUNTS.items():
        if uri.startswith(prefix):
            return mount + uri[len(prefix) :]
    return uri


def _kfp_args(argv: list[str]) -> dict[str, str]:
    args: dict[str, str] = {}
    it = iter(argv)
    for flag in it:
        if flag not in ("--executor-input", "--node-ir", "--run-id"):
            raise ValueError(f"unknown argument {flag!r}")
        args[flag[2:]] = next(it)
    for needed in ("executor-input", "node-ir"):
        if needed not in args:
            raise ValueError(f"--{needed} is required")
    return args


def _first(artifacts: dict[str, Any], key: str) -> dict[str, Any] | None:
    found = (artifacts.get(key) or {}).get("artifacts") or []
    return found[0] if found else None


def _artifact_dict(type_name: str, declared: dict[str, str], runtime: dict[str, Any], path: str) -> dict[str, Any]:
    """A headrace artifact dict from a KFP runtime artifact: its properties from the exact JSON the
    producer wrote, else from the flat metadata (declared names are properties, the rest custom)."""
    metadata = dict(runtime.get("metadata") or {})
    exact = metadata.pop(METADATA_KEY, None)
    if isinstance(exact, str):
        found = json.loads(exact)
        props, custom = found.get("properties", {}), found.get("custom_properties", {})
    else:
        metadata.pop("value", None)
        props = {k: v for k, v in metadata.items() if k in declared}
        custom = {k: v for k, v in metadata.items() if k not in declared}
        for k, v in props.items():  # KFP's metadata numbers are doubles
            if declared[k] == "INT" and isinstance(v, float) and v.is_integer():
                props[k] = int(v)
    return {
        "type_name": type_name,
        "id": None,
        "uri": path,
        "state": "LIVE",
        "name": runtime.get("name", ""),
        "properties": props,
        "custom_properties": custom,
    }


def _metadata(art: dict[str, Any]) -> dict[str, Any]:
    props, custom = art.get("properties") or {}, art.get("custom_properties") or {}
    flat: dict[str, Any] = {**custom, **props}
    if "value" in art and isinstance(art["value"], (str, int, float, bool)):
        flat.setdefault("value", art["value"])
    flat[METADATA_KEY] = json.dumps({"properties": props, "custom_properties": custom}, sort_keys=True)
    return flat


def _parameters(ir: Any, node: Any, given: dict[str, Any], run_id: str) -> dict[str, Any]:
    """The node's parameters with KFP's values: a constant as compiled (KFP's numbers are doubles: the
    IR's int stays an int), a runtime parameter's value from the pipeline input (checked by its type), an
    exit handler's final status (KFP's PipelineTaskFinalStatus) as the JSON text FinalStatusStr stands for,
    an upstream value (a dynamic parameter) from the upstream task's output parameter, checked by the
    parameter's type, and `execution_invocation().pipeline_run_id` as the run id."""
    from headrace.types.placeholder_ir import PLACEHOLDER_KEY, coerce_resolved, evaluate, is_placeholder_ir
    from headrace.types.runtime import coerce, is_final_status, ptype_named, runtime_parameter_name

    exec_properties = dict(node.parameters)
    for key, value in given.items():
        if key not in exec_properties:
            continue
        original = exec_properties[key]
        name = runtime_parameter_name(original)
        if name is not None:
            ptype = ptype_named(ir.runtime_parameters[name]["ptype"])
            exec_properties[key] = coerce(name, ptype, _whole_as_int(value, ptype is int))
        elif is_final_status(original):
            exec_properties[key] = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        elif is_placeholder_ir(original):
            ptype_name = original["ptype"]
            exec_properties[key] = coerce_resolved(node.id, key, _whole_as_int(value, ptype_name == "int"), ptype_name)
        else:
            is_int = isinstance(original, int) and not isinstance(original, bool)
            exec_properties[key] = int(value) if is_int and isinstance(value, float) else value
    for key, value in exec_properties.items():
        if is_placeholder_ir(value):  # not given by KFP: the run id, or an upstream value KFP failed to pass
            exec_properties[key] = evaluate(
                value[PLACEHOLDER_KEY], _not_given(node.id, key), {"pipeline_run_id": run_id}
            )
    return exec_properties


def _whole_as_int(value: Any, int_wanted: bool) -> Any:
    """KFP passes numbers as doubles: where an int is wanted, a whole double is that int."""
    return int(value) if int_wanted and isinstance(value, float) and value.is_integer() else value


def _not_given(node_id: str, key: str) -> Any:
    def read(future: dict[str, Any]) -> Any:
        raise ValueError(
            f"KFP gave no value for parameter '{key}' of '{node_id}' (it reads {future['producer']}'s output)"
        )

    return read


def _artifact_id(runtime: dict[str, Any]) -> int | None:
    """An input artifact's id on KFP: its metadata id, which KFP passes as the artifact's name
    ("123"; on Vertex AI a resource name ending in "/artifacts/123")."""
    name = str(runtime.get("name") or "")
    tail = name.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


MODEL_ID_KEYS = ("current_model_id", "baseline_model_id")  # a ModelBlessing's models, by id (TFX's keys)


def _model_ids_as_names(art: dict[str, Any], names: dict[int, str]) -> None:
    """A blessing's model ids (custom properties) written as those models' KFP names (see the module docstring)."""
    custom = art.get("custom_properties") or {}
    for key in MODEL_ID_KEYS:
        value = custom.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value in names:
            custom[key] = names[value]


def run_kfp(argv: list[str]) -> int:
    """The `kfp` subcommand: see the module docstring."""
    import base64
    import tempfile

    from headrace.compiler.ir import load
    from headrace.launcher.layout import is_value_type
    from headrace.launcher.task import ExecutionTask
    from headrace.launcher.worker import run_in_time

    try:
        args = _kfp_args(argv)
        executor_input = json.loads(args["executor-input"])
        ir = load(base64.b64decode(args["node-ir"]).decode("utf-8"))
    except (ValueError, StopIteration) as e:
        print(f"headrace.entrypoint kfp: {e}\n{USAGE}", file=sys.stderr)
        return 2
    [node] = ir.nodes
    inputs, outputs = executor_input.get("inputs", {}), executor_input.get("outputs", {})
    input_dict: dict[str, list[dict[str, Any]]] = {}
    names: dict[int, str] = {}  # input artifact ids -> their KFP names
    for key, spec in node.inputs.items():
        runtime = _first(inputs.get("artifacts", {}), key)
        if runtime is not None:
            t = spec.artifact_type
            art = _artifact_dict(t.name, t.properties, runtime, local_path(runtime["uri"]))
            art["id"] = _artifact_id(runtime)  # the Evaluator records it as current_model_id
            if art["id"] is not None:
                names[art["id"]] = str(runtime["name"])
            input_dict[key] = [art]
    output_dict: dict[str, list[dict[str, Any]]] = {}
    remote: dict[str, dict[str, Any]] = {}
    for key, out in node.outputs.items():
        runtime = _first(outputs.get("artifacts", {}), key)
        if runtime is None:
            print(f"headrace.entrypoint kfp: KFP gave no artifact for output '{key}' of '{node.id}'.", file=sys.stderr)
            return 2
        path = local_path(runtime["uri"])
        # a headrace executor writes into its output folders; a value artifact's value is the file at its
        # URI, as TFX's container writes it, so only the folder around it is made
        os.makedirs(os.path.dirname(path) if is_value_type(out.artifact_type) else path, exist_ok=True)
        art = _artifact_dict(out.artifact_type.name, out.artifact_type.properties, runtime, path)
        art["state"] = "PENDING"
        art["custom_properties"].update(producer_component=node.id, pipeline_name=ir.pipeline_name)  # as TFX's
        output_dict[key] = [art]
        remote[key] = runtime
    try:
        exec_properties = _parameters(ir, node, inputs.get("parameterValues") or {}, args.get("run-id", ""))
    except ValueError as e:
        print(f"headrace.entrypoint kfp: {e}", file=sys.stderr)
        return 1
    task = ExecutionTask.for_node(
        ir,
        node,
        run_id=args.get("run-id", ""),
        execution_id=0,
        input_dict=input_dict,
        output_dict=output_dict,
        exec_properties=exec_properties,
        executor={k: v for k, v in node.executor.items() if k not in ("image", "docker")},  # it runs right here
        tmp_dir=tempfile.mkdtemp(prefix="headrace-"),
        log_path="",
    )
    result = run_in_time(task)  # a node's timeout (with_timeout) stops its executor here: KFP has no such field
    if not result.ok:
        print(f"'{node.id}' failed:\n{result.traceback or result.error_type + ': ' + result.message}", file=sys.stderr)
        return 1
    executor_output: dict[str, Any] = {"artifacts": {}}
    for key, arts in result.output_dict.items():
        runtime = remote[key]
        for a in arts:
            _model_ids_as_names(a, names)
        executor_output["artifacts"][key] = {
            "artifacts": [
                {
                    "name": runtime.get("name", key),
                    "uri": runtime["uri"],
                    "metadata": _metadata(a),
                }
                for a in arts
            ]
        }
    _value_parameters(executor_output, outputs.get("parameters") or {}, result.output_dict)
    output_file = outputs.get("outputFile")
    if output_file:
        os.makedirs(os.path.dirname(output_file) or ".", exist_ok=True)
        with open(output_file, "w", encoding="utf-8") as f:
            json.dump(executor_output, f, sort_keys=True)
    return 0


VALUE_PARAMETER_PREFIX = "value__"  # orchestrators._kfp_dynamic.value_parameter: an output's value, for a consumer


def _value_parameters(
    executor_output: dict[str, Any], declared: dict[str, Any], output_dict: dict[str, list[dict[str, Any]]]
) -> None:
    """The output parameters KFP asks for (`value__<output key>`): each value artifact's value, which a
    downstream task takes as a parameter; in the executor output and in the file KFP names for it."""
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if not name.startswith(VALUE_PARAMETER_PREFIX):
            continue
        arts = output_dict.get(name[len(VALUE_PARAMETER_PREFIX) :]) or []
        if not arts or "value" not in arts[0]:
            continue  # KFP reports the missing output parameter, naming it
        values[name] = arts[0]["value"]
        output_file = (spec or {}).get("outputFile")
        if output_file:
            os.makedirs(os.path.dirname(output_file) or ".", exist_ok=True)
            with open(output_file, "w", encoding="utf-8") as f:
                f.write(values[name] if isinstance(values[name], str) else json.dumps(values[name]))
    if values:
        executor_output["parameterValues"] = values


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
