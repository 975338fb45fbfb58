"""InfraValidator: can the trained model be served? It is loaded in a process of its own and sent
real prediction requests built from examples; it is blessed only if it loads and every requested
signature answers with one row per request, within the time allowed.

Serving backends are pluggable (`backend=`). The one that runs everywhere is 'tensorflow_loader':
TensorFlow's own SavedModel loader in a fresh process, which loads exactly what TF Serving loads.
TFX's `serving_spec` (TF Serving on local Docker, as TFX's tutorial writes it) is accepted: there is
no TF Serving binary or image here, so the model is validated with the loader, and the blessing's
`serving_backend` and `serving_note` say which backend ran instead of which image. `kubernetes`
is refused (headrace starts no pods). TF Serving's REST API is the next backend.

The specs are TFX's `infra_validator_pb2` messages (headrace.components.proto) or their dicts, and
checked at definition. Honoured: ValidationSpec `max_loading_time_seconds` (default 300) and
`num_tries` (default 3); RequestSpec `split_name`, `num_examples` (default 1) and
`tensorflow_serving.tag_set` / `signature_names`; ServingSpec `tensorflow_serving` (its image,
tags and digests are recorded, not run), `local_docker` (nothing to connect to) and `model_name`
(recorded). RequestSpec `make_warmup` is honoured as TFX does it: a blessed model is copied into
the blessing as `stamped_model/` with its requests (one PredictRequest per signature) in
`assets.extra/tf_serving_warmup_requests`, the blessing gets `has_model=1`, and a Pusher given only
the infra_blessing pushes that model. Refused: `kubernetes`.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from typing import Any

from headrace.components import proto
from headrace.dsl.base_component import BaseComponent
from headrace.dsl.executor import BaseExecutor, ExecutorClassSpec
from headrace.errors import DefinitionError
from headrace.types.artifact import Artifact
from headrace.types.channel import Channel
from headrace.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter
from headrace.types.standard_artifacts import Examples, InfraBlessing, Model

BACKENDS = ("tensorflow_loader",)
BLESSED_FILE, NOT_BLESSED_FILE = "INFRA_BLESSED", "INFRA_NOT_BLESSED"  # TFX's marker files
STAMPED_MODEL_DIR = "stamped_model"  # TFX's folder of the warmed-up model in an InfraBlessing
WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")  # where TF Serving looks
DEFAULT_TIMEOUT_S = 300
DEFAULT_TRIES = 3


class InfraValidatorSpec(ComponentSpec):
    """InfraValidator's contract (TFX's names, plus the serving backend)."""

    PARAMETERS = {
        "serving_spec": ExecutionParameter(type=dict, optional=True),
        "validation_spec": ExecutionParameter(type=dict, optional=True),
        "request_spec": ExecutionParameter(type=dict, optional=True),
        "backend": ExecutionParameter(type=str),
    }
    INPUTS = {
        "model": ChannelParameter(type=Model),
        "examples": ChannelParameter(type=Examples, optional=True),
    }
    OUTPUTS = {"blessing": ChannelParameter(type=InfraBlessing)}


def serving_dir(model_uri: str) -> str:
    """Where a Model artifact keeps its SavedModel: TFX's `Format-Serving` folder if present."""
    candidate = os.path.join(model_uri, "Format-Serving")
    return candidate if os.path.isdir(candidate) else model_uri


def _request(examples: Artifact | None, request_spec: dict[str, Any]) -> dict[str, Any]:
    """The request examples: the first `num_examples` rows of the chosen split, both as serialized
    tf.Examples and as feature lists (the probe feeds whichever the signature takes)."""
    tfs = request_spec.get("tensorflow_serving") or {}
    request: dict[str, Any] = {
        "signature_names": list(tfs.get("signature_names") or []),
        "tag_set": list(tfs.get("tag_set") or []),
        "count": 0,
    }
    if examples is None:
        return request
    import pyarrow as pa

    from headrace.components.io.examples import feature_values, iter_batches, payload_format, serialize_examples
    from headrace.components.io.examples import split_names as names_of

    names = names_of(examples)
    split = request_spec.get("split_name") or ("eval" if "eval" in names else names[0])
    if split not in names:
        raise ValueError(f"request_spec split_name '{split}' is not a split of the examples ({names}).")
    wanted = max(1, int(request_spec.get("num_examples") or 1))
    batches, have = [], 0
    for batch in iter_batches(examples.uri, split, payload_format(examples), batch_rows=wanted):
        batches.append(batch.slice(0, wanted - have))
        have += batches[-1].num_rows
        if have >= wanted:
            break
    if not have:
        raise ValueError(f"split '{split}' of the examples has no rows to build requests from.")
    table = pa.Table.from_batches(batches).combine_chunks()
    batch = table.to_batches()[0]
    request["serialized"] = serialize_examples(batch)
    request["features"] = feature_values(batch)
    request["count"] = have
    return request


def run_probe(model_dir: str, request: dict[str, Any], timeout_s: float, tries: int) -> dict[str, Any]:
    """Runs the loader backend in a fresh process; retries a crash or a timeout, not a verdict."""
    with tempfile.TemporaryDirectory(prefix="headrace-infra-") as tmp:
        request_path, verdict_path = os.path.join(tmp, "request.pkl"), os.path.join(tmp, "verdict.json")
        with open(request_path, "wb") as f:
            pickle.dump(request, f)
        reason = ""
        for attempt in range(1, tries + 1):
            cmd = [
                sys.executable,
                "-m",
                "headrace.components.serving._serving_probe",
                model_dir,
                request_path,
                verdict_path,
            ]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                reason = f"the model did not load and answer within {timeout_s:g} s (try {attempt} of {tries})"
                continue
            if proc.returncode == 0 and os.path.exists(verdict_path):
                with open(verdict_path) as f:
                    verdict: dict[str, Any] = json.load(f)
                return verdict
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            reason = f"the serving process ended with code {proc.returncode}: {' | '.join(tail)}"
        return {"ok": False, "reason": reason}


def serving_note(serving: dict[str, Any]) -> str:
    """What the serving_spec asked for and which backend validates instead ('' without a spec)."""
    if not serving:
        return ""
    tfs = serving.get("tensorflow_serving")
    asked = "a serving spec"
    if tfs is not None:
        versions = [*(tfs.get("tags") or []), *(f"@{d}" for d in tfs.get("digests") or [])]
        image = tfs.get("image_name") or "tensorflow/serving"
        asked = f"TensorFlow Serving ({image}: {', '.join(versions) or 'latest'})"
    if "local_docker" in serving:
        asked += " on local Docker"
    name = f" as model '{serving['model_name']}'" if serving.get("model_name") else ""
    return (
        f"serving_spec asks for {asked}{name}; no TensorFlow Serving binary or image runs here, so the model is "
        "validated with TensorFlow's own SavedModel loader in a fresh process (backend 'tensorflow_loader'), "
        "which loads the same SavedModel TF Serving would."
    )


def check_serving_spec(owner: str, serving: dict[str, Any] | None) -> dict[str, Any] | None:
    """Refuses what cannot run here: a Kubernetes serving platform."""
    if serving and "kubernetes" in serving:
        raise DefinitionError(
            f"{owner}: serving_spec.kubernetes cannot run here: headrace starts no Kubernetes pods for infra "
            "validation; the model is validated in a local process with TensorFlow's SavedModel loader. Use "
            "ServingSpec(tensorflow_serving=TensorFlowServing(tags=['latest']), local_docker=LocalDockerConfig()) "
            "or leave serving_spec out."
        )
    return serving


def check_validation_spec(owner: str, validation: dict[str, Any] | None) -> dict[str, Any] | None:
    """Positive limits (0 or unset: the defaults)."""
    for key, default in (("max_loading_time_seconds", DEFAULT_TIMEOUT_S), ("num_tries", DEFAULT_TRIES)):
        value = (validation or {}).get(key, 0)
        if value < 0:
            raise DefinitionError(
                f"{owner}: validation_spec {key} must be positive, got {value}; leave it unset for {default}."
            )
    return validation


def check_request_spec(owner: str, requests: dict[str, Any] | None, has_examples: bool) -> dict[str, Any] | None:
    """Requests (and so a warmup) need examples."""
    if requests is None:
        return None
    if requests.get("num_examples", 0) < 0:
        raise DefinitionError(
            f"{owner}: request_spec num_examples must be at least 1, got {requests['num_examples']}; leave it unset "
            "for 1."
        )
    if not has_examples:
        raise DefinitionError(
            f"{owner}: request_spec needs examples to build the requests from; pass examples=... (an Examples "
            "channel) or leave request_spec out to validate loading only."
        )
    return requests


class Executor(BaseExecutor):
    """Builds requests, runs the serving backend, writes the InfraBlessing."""

    def Do(
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        model = input_dict["model"][0]
        examples = (input_dict.get("examples") or [None])[0]
        blessing = output_dict["blessing"][0]
        note = serving_note(exec_properties.get("serving_spec") or {})
        if note:
            print(note)
        validation = exec_properties.get("validation_spec") or {}
        timeout = float(validation.get("max_loading_time_seconds") or DEFAULT_TIMEOUT_S)
        tries = max(1, int(validation.get("num_tries") or DEFAULT_TRIES))
        request_spec = exec_properties.get("request_spec") or {}
        request = _request(examples, request_spec)
        stamped = os.path.join(blessing.uri, STAMPED_MODEL_DIR)
        if request_spec.get("make_warmup"):
            # A copy of the model (TFX's stamped model); the probe writes the warmup file into it.
            shutil.copytree(serving_dir(model.uri), stamped, dirs_exist_ok=True)
            request["warmup_file"] = os.path.join(stamped, WARMUP_FILE)
            request["model_name"] = (exec_properties.get("serving_spec") or {}).get("model_name") or ""
        verdict = run_probe(serving_dir(model.uri), request, timeout, tries)
        blessed = bool(verdict.get("ok"))
        if blessed and request_spec.get("make_warmup"):
            blessing.set_custom_property("has_model", 1)
            print(f"warmed-up model written to {stamped} ({WARMUP_FILE})")
        elif os.path.isdir(stamped):
            shutil.rmtree(stamped)
        blessing.set_custom_property("blessed", int(blessed))
        blessing.set_custom_property("serving_backend", exec_properties["backend"])
        if note:
            blessing.set_custom_property("serving_note", note)
        blessing.set_custom_property("requests", int(request.get("count", 0)))
        if not blessed:
            blessing.set_custom_property("reason", str(verdict.get("reason", ""))[:2000])
        with open(os.path.join(blessing.uri, BLESSED_FILE if blessed else NOT_BLESSED_FILE), "w") as f:
            f.write(json.dumps(verdict, indent=1))
        sent = f"{request['count']} request example(s)" if request.get("count") else "no requests (load only)"
        blessing.set_custom_property(
            "summary", f"servable: loads and answers {sent}" if blessed else f"NOT servable: {verdict.get('reason')}"
        )
        if blessed:
            print(f"model blessed for serving: it loads and answers {sent}; outputs {verdict.get('outputs', {})}")
        else:
            print(f"model NOT blessed for serving: {verdict.get('reason')}")


class InfraValidator(BaseComponent):
    """Checks that a model can be served before it is pushed.

    Args:
        model: A channel of Model (a SavedModel, in `Format-Serving/` as TFX's Trainer writes it).
        serving_spec: TFX's `infra_validator_pb2.ServingSpec` (or its dict): `tensorflow_serving` with
            `local_docker` is accepted and validated with the loader (see the module docstring);
            `kubernetes` is refused.
        examples: Examples to build prediction requests from (without them, only loading is checked).
        request_spec: TFX's `RequestSpec` (or its dict): `split_name` (default eval, else the first),
            `num_examples` (default 1), and `tensorflow_serving.tag_set` (default ['serve']) /
            `signature_names` (default serving_default). Needs `examples`. `make_warmup=True`
            writes the blessed model with TF Serving warmup requests into the blessing (`stamped_model/`),
            for a Pusher given only `infra_blessing`.
        validation_spec: TFX's `ValidationSpec` (or its dict): `max_loading_time_seconds` (default 300)
            and `num_tries` (default 3; a crash or a timeout is retried, a verdict is not).
        backend: The serving backend; 'tensorflow_loader' (the default).
    """

    SPEC_CLASS = InfraValidatorSpec
    EXECUTOR_SPEC = ExecutorClassSpec(Executor)

    def __init__(
        self,
        model: Channel,
        serving_spec: Any = None,
        examples: Channel | None = None,
        request_spec: Any = None,
        validation_spec: Any = None,
        backend: str = "tensorflow_loader",
    ):
        owner = type(self).__name__
        if backend not in BACKENDS:
            raise DefinitionError(f"{owner}: backend must be one of {', '.join(BACKENDS)}; got {backend!r}.")
        serving = check_serving_spec(owner, proto.config_dict(owner, "serving_spec", serving_spec, proto.ServingSpec))
        validation = check_validation_spec(
            owner, proto.config_dict(owner, "validation_spec", validation_spec, proto.ValidationSpec)
        )
        requests = check_request_spec(
            owner, proto.config_dict(owner, "request_spec", request_spec, proto.RequestSpec), examples is not None
        )
        super().__init__(
            spec=InfraValidatorSpec(
                model=model,
                examples=examples,
                serving_spec=serving,
                request_spec=requests,
                validation_spec=validation,
                backend=backend,
            )
        )


__all__ = ["InfraValidator", "serving_dir"]
