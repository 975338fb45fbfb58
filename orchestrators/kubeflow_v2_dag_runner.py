"""KubeflowV2DagRunner: compiles the IR to a Kubeflow Pipelines v2 `PipelineSpec` (TFX's API shape).

    runner = KubeflowV2DagRunner(KubeflowV2DagRunnerConfig(default_image="headrace-runtime:latest"),
                                 output_filename="pipeline.yaml")
    runner.run(pipeline)                 # writes pipeline.yaml
    submit("pipeline.yaml", "http://kfp.example:8888", experiment="dev")

The file is built with kfp's own protos (`kfp.pipeline_spec.pipeline_spec_pb2`), so it is what a KFP
backend (or Vertex AI Pipelines) accepts and what `kfp.components.load_component_from_file` loads.

Who does what on Kubeflow: KFP's own driver and launcher, with KFP's ML Metadata, are the driver
and the publisher. KFP's driver resolves each task's inputs from upstream outputs, decides caching
(`enableCache` per task, keyed on the task's inputs and its container spec, which holds the node's
IR) and evaluates `triggerPolicy.condition`; KFP's launcher downloads input artifacts to local
paths, runs the container and publishes every declared output artifact with the metadata the
container wrote. headrace's part runs inside the container: `python -m headrace.entrypoint kfp`
reads KFP's ExecutorInput, runs the node's executor (headrace's executor runner, the same as
locally) and writes ExecutorOutput (artifact metadata: `headrace.<Type>` schema titles, properties
and custom properties). headrace's own ML Metadata store, cache and node launcher are not used
there.

What headrace carries over: dependencies, caching, `Cond` (as CEL), per-component images, the
pipeline root, parameters (task constants), runtime parameters (pipeline inputs with their defaults),
dynamic parameters (`upstream.outputs['x'].future()[0].value` as the upstream task's output parameter,
`_kfp_dynamic`; what KFP cannot compute is refused),
retry policies (`retryPolicy`), resources (the container's requests and limits, accelerators), the
exit handler (kfp's ExitHandler group, with the PipelineTaskFinalStatus), timeouts (no PipelineSpec
field: the entrypoint stops the executor inside the container), and Resolvers with LatestArtifactStrategy
or LatestBlessedModelStrategy as KFP resolver executors (queries over KFP's metadata store, as TFX
compiles them; SpanRangeStrategy is refused, see `_kfp_resolver`).

kfp's local runner (kfp.local, 2.13) runs container and importer tasks only: not resolver executors
(they query a KFP backend's metadata store), not the exit handler's final status, not conditions; and the
main job's steps need a runtime image with TensorFlow and TFDV (`EXTRAS=tf,data make image`).

kfp is imported only here, when a runner is built or a file is submitted, never by `import headrace`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
import warnings
from collections.abc import MutableMapping
from typing import Any

from headrace.compiler.ir import PipelineIR
from headrace.errors import DefinitionError, HeadraceError
from headrace.orchestrators.base_target import CompileTarget

DEFAULT_IMAGE = "headrace-runtime:latest"
_INSTALL_HINT = "Kubeflow Pipelines support needs the `kfp` package (2.x): pip install 'kfp>=2,<3'."


class KubeflowError(HeadraceError):
    """A Kubeflow Pipelines backend refused a request or could not be reached."""


def _kfp() -> Any:
    try:
        import kfp
    except ImportError:
        raise HeadraceError(_INSTALL_HINT) from None
    return kfp


class KubeflowV2DagRunnerConfig:
    """Settings of the compiled Kubeflow pipeline (TFX's `KubeflowV2DagRunnerConfig`).

    Args:
        display_name: The pipeline's display name (default: the pipeline's name).
        default_image: The image running function and custom-class nodes that name no image of their
            own (`with_image`). As in TFX, a mapping from node id to image sets images per node.
        default_commands: Accepted for TFX compatibility; must be None (headrace's entrypoint is fixed).
        **kwargs: TFX's other PipelineConfig arguments are refused with a message.
    """

    def __init__(
        self,
        display_name: str | None = None,
        default_image: str | MutableMapping[str, str] | None = None,
        default_commands: list[str] | None = None,
        **kwargs: Any,
    ):
        if kwargs:
            raise DefinitionError(
                f"KubeflowV2DagRunnerConfig does not take {', '.join(sorted(kwargs))}; it takes display_name, "
                "default_image and default_commands."
            )
        if default_commands is not None:
            raise DefinitionError(
                "default_commands is not supported: headrace's nodes run `python -m headrace.entrypoint kfp` in "
                "the image. Set the image with default_image or the node's .with_image(...)."
            )
        self.display_name = display_name
        self.default_image: str | MutableMapping[str, str] = default_image or DEFAULT_IMAGE
        self.default_commands = default_commands

    def image_for(self, node_id: str) -> str:
        """The default image of a node."""
        if isinstance(self.default_image, str):
            return self.default_image
        return self.default_image.get(node_id) or self.default_image.get("default") or DEFAULT_IMAGE


def build_pipeline_spec(ir: PipelineIR, config: KubeflowV2DagRunnerConfig | None = None) -> Any:
    """The `PipelineSpec` proto of a compiled pipeline.

    Raises:
        DefinitionError: the pipeline has something Kubeflow cannot express (see the module docstring).
    """
    _kfp()
    from headrace.orchestrators import _kfp_spec

    config = config or KubeflowV2DagRunnerConfig()
    if not isinstance(config.default_image, str):  # TFX's per-node image map
        nodes = tuple(
            dataclasses.replace(n, executor={**n.executor, "image": config.image_for(n.id)})
            if not n.executor.get("image") and n.kind in ("python_function", "python_class")
            else n
            for n in ir.nodes
        )
        ir = dataclasses.replace(ir, nodes=nodes)
    default = config.default_image if isinstance(config.default_image, str) else DEFAULT_IMAGE
    return _kfp_spec.build(ir, default, config.display_name)


def spec_text(spec: Any, format: str = "yaml") -> str:
    """The PipelineSpec as the text of a package file: YAML (kfp's layout; the pipeline's description,
    which says which tasks run uncached and why, repeated as comment lines in its header) or JSON."""
    from google.protobuf import json_format

    data = json_format.MessageToDict(spec)
    if format == "json":
        return json.dumps(data, indent=2, sort_keys=True) + "\n"
    if format != "yaml":
        raise DefinitionError(f"Unknown format {format!r}: use 'yaml' or 'json'.")
    import yaml

    header = (
        f"# PIPELINE DEFINITION\n# Name: {spec.pipeline_info.name}\n# Compiled by headrace for Kubeflow Pipelines v2\n"
    )
    notes = "".join(f"# {line}\n" for line in spec.pipeline_info.description.splitlines())
    return header + notes + yaml.dump(data, sort_keys=True)


def _format(path: str | None) -> str:
    """The package format a path asks for: JSON if it ends in .json, else YAML (kfp's layout)."""
    return "json" if path and path.endswith(".json") else "yaml"


def compile_kubeflow(
    ir: PipelineIR, path: str, format: str | None = None, config: KubeflowV2DagRunnerConfig | None = None
) -> str:
    """Writes the IR as a KFP v2 package file at `path`; the format is 'yaml' or 'json' (default: from
    the file's extension, YAML unless it ends in .json). Returns the path."""
    text = spec_text(build_pipeline_spec(ir, config), format or _format(path))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


class KubeflowV2DagRunner(CompileTarget):
    """Compiles pipelines to Kubeflow Pipelines v2 package files (TFX's `KubeflowV2DagRunner`).

    Args:
        config: The runner's settings.
        output_dir: Where `run` writes the file (default: the current directory).
        output_filename: The file's name for `run` (default 'pipeline.json' as in TFX; a name ending in
            .yaml or .yml gives YAML).
    """

    def __init__(
        self,
        config: KubeflowV2DagRunnerConfig | None = None,
        output_dir: str | None = None,
        output_filename: str | None = None,
    ):
        if config is not None and not isinstance(config, KubeflowV2DagRunnerConfig):
            raise DefinitionError(f"config must be a KubeflowV2DagRunnerConfig, got {type(config).__name__}.")
        self.config = config or KubeflowV2DagRunnerConfig()
        self.output_dir = output_dir or os.getcwd()
        self.output_filename = output_filename or "pipeline.json"

    @classmethod
    def from_options(cls, image: str | None = None) -> KubeflowV2DagRunner:
        """The target of `headrace compile --target kubeflow [--image IMAGE]`."""
        return cls(KubeflowV2DagRunnerConfig(default_image=image))

    @property
    def output_path(self) -> str:
        """Where `run` writes the file."""
        return os.path.join(self.output_dir, self.output_filename)

    def render(self, ir: PipelineIR, output: str | None = None) -> str:
        """The package's text: JSON if `output` ends in .json, else YAML.

        Raises:
            DefinitionError: the pipeline has something Kubeflow cannot express (see the module docstring).
        """
        return spec_text(build_pipeline_spec(ir, self.config), _format(output))

    def run(self, pipeline: Any) -> dict[str, Any]:
        """Compiles `pipeline` (a Pipeline or its PipelineIR), writes `output_path`, returns the spec as a dict."""
        from google.protobuf import json_format

        fmt = "yaml" if self.output_filename.endswith((".yaml", ".yml")) else "json"
        ir = self.to_ir(pipeline)
        spec = build_pipeline_spec(ir, self.config)
        os.makedirs(self.output_dir, exist_ok=True)
        with open(self.output_path, "w", encoding="utf-8") as f:
            f.write(spec_text(spec, fmt))
        data: dict[str, Any] = json_format.MessageToDict(spec)
        return data


def submit(
    package_path: str,
    endpoint: str,
    experiment: str | None = None,
    run_name: str | None = None,
    params: dict[str, Any] | None = None,
    cron: str | None = None,
) -> str:
    """Creates a run of a compiled package on the KFP backend at `endpoint` (kfp.Client's
    `create_run_from_pipeline_package`); returns the run id. With `cron` (five fields, as
    `headrace schedule --cron` takes), creates a recurring run instead (`create_recurring_run`: KFP's
    six-field cron with seconds 0, at most one run at a time, no catch-up of missed times) and
    returns its id.

    Raises:
        KubeflowError: the file is missing, or the backend refused or did not answer.
    """
    kfp = _kfp()
    if cron is not None:
        from headrace.orchestrators.cron import Cron

        # Checked as headrace schedule checks it; KFP's cron has a seconds field first, and takes
        # neither shortcuts (@daily) nor Sunday as 7: the numeric form has neither.
        kfp_cron = "0 " + Cron(cron).numeric()
    if not os.path.isfile(package_path):
        raise KubeflowError(
            f"No pipeline package at {package_path}: compile one with `headrace compile --target kubeflow`."
        )
    try:
        # kfp warns "This client only works with Kubeflow Pipeline v2.0.0-beta.2 and later" and prints the
        # run's links on stdout: on stderr here, so stdout carries only the run id for scripts
        with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
            warnings.simplefilter("ignore", FutureWarning)
            client = kfp.Client(host=endpoint)
            if cron is not None:
                recurring = client.create_recurring_run(
                    experiment_id=client.create_experiment(experiment or "Default").experiment_id,
                    job_name=run_name or os.path.splitext(os.path.basename(package_path))[0],
                    cron_expression=kfp_cron,
                    max_concurrency=1,
                    no_catchup=True,
                    params=params or {},
                    pipeline_package_path=package_path,
                )
                return str(recurring.recurring_run_id)
            result = client.create_run_from_pipeline_package(
                package_path,
                arguments=params or {},
                run_name=run_name,
                experiment_name=experiment,
            )
    except Exception as e:  # noqa: BLE001 - kfp raises ApiException, urllib3 and connection errors alike
        raise KubeflowError(
            f"Kubeflow Pipelines at {endpoint} did not accept the run of {package_path}: {type(e).__name__}: "
            f"{str(e)[:500]}"
        ) from None
    return str(result.run_id)


__all__ = [
    "KubeflowError",
    "KubeflowV2DagRunner",
    "KubeflowV2DagRunnerConfig",
    "build_pipeline_spec",
    "compile_kubeflow",
    "submit",
]
