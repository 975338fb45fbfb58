"""Running a compiled Kubeflow package on this machine with kfp's local runner (kfp.local).

How kfp.local (kfp 2.13) runs a loaded pipeline: tasks in `dependentTasks` order; for each
container task it builds an ExecutorInput whose output artifacts are `<pipeline_root>/<pipeline>-
<timestamp>/<task>/<key>`, resolves the placeholders (an artifact's `.path` is its URI), runs the
container (DockerRunner: the image, the resolved argv, only `pipeline_root` mounted, as the image's
user) and then takes the task's outputs ONLY from the executor output file it named
(`.../<task>/executor_output.json`). A task that does not write that file has no outputs, and the
next task that reads one fails ("Task ... has no outputs"). headrace's entrypoint writes it, so
function and custom-class nodes run on plain kfp.local.

What kfp.local lacks, against KFP's launcher contract, and the compiled files use:
- publishing a container component's outputs: KFP's launcher publishes every output artifact the
  ExecutorInput declares, whether or not the program wrote an executor output file; container
  components (their own image and argv) never write one;
- preparing output folders: KFP's launcher creates each output artifact's parent folder before
  the program starts; kfp.local does not;
- `triggerPolicy.condition` (headrace's `Cond`): kfp.local raises NotImplementedError; there is no
  stand-in for it here;
- inputs outside `pipeline_root`: DockerRunner mounts only the pipeline root, so an Importer's
  source must live under it to be readable in the container.

`launcher_stand_in()` is a small local stand-in for KFP's launcher covering the first two: while it
is active, kfp.local creates the output folders and publishes declared outputs an executor did
not report. It patches two kfp.local functions for the duration and restores them.

What kfp.local does not run at all: resolver executors (a Resolver: it has no metadata store to
query), `triggerPolicy.condition` (a `Cond`) and exit handlers. `runnable_part()` writes the package
without those tasks (and without what needs their outputs; an optional input read from a resolver is
dropped, as a backend gives when the query finds nothing): the main job (scripts/kfp_local_main_job.py)
then runs 8 of its 11 tasks, all but the two resolver queries and the Pusher under its Cond.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def launcher_stand_in() -> Iterator[None]:
    """A stand-in for KFP's launcher duties that kfp.local skips (see the module docstring)."""
    from kfp.local import executor_input_utils, executor_output_utils
    from kfp.pipeline_spec import pipeline_spec_pb2 as pb

    construct, outputs_for_task = (
        executor_input_utils.construct_executor_input,
        executor_output_utils.get_outputs_for_task,
    )

    def construct_and_prepare(*args: Any, **kwargs: Any) -> Any:
        executor_input = construct(*args, **kwargs)
        for artifact_list in executor_input.outputs.artifacts.values():
            for artifact in artifact_list.artifacts:
                os.makedirs(os.path.dirname(artifact.uri), exist_ok=True)
        if executor_input.outputs.output_file:
            os.makedirs(os.path.dirname(executor_input.outputs.output_file), exist_ok=True)
        return executor_input

    def outputs_with_declared(executor_input: Any, component_spec: Any) -> Any:
        executor_output = executor_output_utils.load_executor_output(executor_input.outputs.output_file)
        for key, declared in executor_input.outputs.artifacts.items():
            if key not in executor_output.artifacts:  # published as the launcher does: URI, no metadata
                executor_output.artifacts[key].CopyFrom(
                    pb.ArtifactList(artifacts=[pb.RuntimeArtifact(name=a.name, uri=a.uri) for a in declared.artifacts])
                )
        return executor_output_utils.get_outputs_from_executor_output(
            executor_output=executor_output, executor_input=executor_input, component_spec=component_spec
        )

    executor_input_utils.construct_executor_input = construct_and_prepare
    executor_output_utils.get_outputs_for_task = outputs_with_declared
    try:
        yield
    finally:
        executor_input_utils.construct_executor_input = construct
        executor_output_utils.get_outputs_for_task = outputs_for_task


def run_package_locally(package_path: str, pipeline_root: str, stand_in: bool = True, **arguments: Any) -> str:
    """Runs a compiled package under kfp.local's DockerRunner (with the launcher stand-in unless
    `stand_in` is False); returns the run's folder under `pipeline_root`
    (`<pipeline_root>/<pipeline>-<timestamp>`, one sub-folder per task).

    Raises:
        RuntimeError: a task failed (kfp.local's error).
    """
    import kfp.local
    from kfp.components import load_component_from_file

    pipeline_root = os.path.abspath(pipeline_root)
    os.makedirs(pipeline_root, exist_ok=True)
    before = set(os.listdir(pipeline_root))
    kfp.local.init(runner=kfp.local.DockerRunner(), pipeline_root=pipeline_root, raise_on_error=True)
    pipeline = load_component_from_file(package_path)
    with launcher_stand_in() if stand_in else contextlib.nullcontext():
        pipeline(**arguments)
    # the run's folder; other new entries (a __pycache__ of a module kept under the root) are not it
    [run_dir] = sorted(d for d in set(os.listdir(pipeline_root)) - before if d.startswith(f"{pipeline.name}-"))
    return os.path.join(pipeline_root, run_dir)


def runnable_part(package_path: str, out_path: str) -> list[str]:
    """Writes to `out_path` the part of a compiled package that kfp.local can run, and returns the
    names of the tasks left out.

    kfp.local (2.13) runs container and importer executors in one DAG and refuses the rest: a
    resolver executor ("Only 'dsl.component', 'dsl.container_component', and 'dsl.importer' are
    supported"), a `triggerPolicy.condition` (a `Cond`) and an exit handler's final status
    (NotImplementedError). Those tasks are left out, and so is every task needing an output of one;
    an input that may be absent (the Evaluator's `baseline_model`, read from a resolver) is dropped,
    which is what a real backend gives when the query finds nothing, on the first run.
    """
    import yaml

    with open(package_path, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    if any("dag" in c for c in spec.get("components", {}).values()):
        raise ValueError("The package has an exit handler (a sub-DAG), which kfp.local cannot run; compile without it.")
    tasks, executors = spec["root"]["dag"]["tasks"], spec["deploymentSpec"]["executors"]
    dropped: list[str] = []
    changed = True
    while changed:  # until no task reads a dropped one (the file's tasks are in name order, not run order)
        changed = False
        for name, task in list(tasks.items()):
            component = spec["components"][task["componentRef"]["name"]]
            executor = executors[component["executorLabel"]]
            unrunnable = "resolver" in executor or "condition" in task.get("triggerPolicy", {})
            artifacts = task.get("inputs", {}).get("artifacts", {})
            declared = component.get("inputDefinitions", {}).get("artifacts", {})
            for key, ref in list(artifacts.items()):
                if ref.get("taskOutputArtifact", {}).get("producerTask") in dropped:
                    if not declared.get(key, {}).get("isOptional"):
                        unrunnable = True
                    del artifacts[key]
                    declared.pop(key, None)
            if unrunnable:
                dropped.append(name)
                del tasks[name]
                changed = True
    for task in tasks.values():
        task["dependentTasks"] = [t for t in task.get("dependentTasks", []) if t not in dropped]
    with open(out_path, "w", encoding="utf-8") as f:
        yaml.safe_dump(spec, f, sort_keys=True)
    return dropped
