"""Runs a node's executor in a Docker container, through the `docker` SDK (imported here only).

Two kinds of node run here:
- a container component: its command (an argv list, placeholders resolved one item at a time, no
  shell) becomes the container's entrypoint;
- a function or custom component with an image (`with_image`): the container runs
  `python -m headrace.entrypoint execute TASK RESULT` for this one task; the driver and publisher
  stay with the runner, so caching and publishing are the same as in-process.

The artifact directories are mounted at the paths the command sees (inputs read-only, outputs
read-write), with the task's scratch folder; DockerPlatformConfig's volumes add more. The container
runs as the caller's uid:gid unless told otherwise, sees only the environment it is given, streams
its output into the step's log, is killed after `timeout_seconds`, and is removed afterwards. A
non-zero exit fails the step with the tail of the container's log.
"""

from __future__ import annotations

import collections
import dataclasses
import importlib.util
import os
import pickle
import sys
import threading
from typing import Any

from headrace.dsl.placeholders import (
    CommandPlaceholder,
    ConcatPlaceholder,
    ExecPropertyPlaceholder,
    InputUriPlaceholder,
    InputValuePlaceholder,
    OutputUriPlaceholder,
    argument_text,
    from_ir,
)
from headrace.errors import HeadraceError
from headrace.launcher.executor_runner import secret_variables, with_secrets
from headrace.launcher.layout import is_value_type
from headrace.launcher.task import ExecutionTask, ExecutorResult
from headrace.types.artifact import Artifact, ValueArtifact

LOG_TAIL_LINES = 30
ENTRYPOINT = ["python", "-m", "headrace.entrypoint", "execute"]


class ContainerError(HeadraceError):
    """The container could not run, or exited with an error."""


# -- the command line ------------------------------------------------------------------------------
def resolve_command(command: list[Any], task: ExecutionTask) -> list[str]:
    """The argv: each item a string as given, or one placeholder's value, resolved once."""
    return [_resolve(from_ir(item), task) for item in command]


def _resolve(item: str | CommandPlaceholder, task: ExecutionTask) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, ConcatPlaceholder):
        return "".join(_resolve(i, task) for i in item.items)
    if isinstance(item, (InputValuePlaceholder, ExecPropertyPlaceholder)):
        if item.name in task.exec_properties:
            return argument_text(task.exec_properties[item.name])
        art = _first(task.input_dict, item.name, task.node_id, "input")
        if not isinstance(art, ValueArtifact):
            raise ContainerError(f"{task.node_id}: input '{item.name}' is not a value artifact; place its URI instead.")
        return argument_text(art.read())
    if isinstance(item, InputUriPlaceholder):
        return _first(task.input_dict, item.name, task.node_id, "input").uri
    if isinstance(item, OutputUriPlaceholder):
        return _first(task.output_dict, item.name, task.node_id, "output").uri
    raise ContainerError(f"{task.node_id}: cannot resolve {item!r}.")


def _first(artifacts: dict[str, list[dict[str, Any]]], name: str, node_id: str, what: str) -> Artifact:
    found = artifacts.get(name) or []
    if not found:
        raise ContainerError(f"{node_id}: the command places {what} '{name}', which has no artifact in this run.")
    return Artifact.from_dict(found[0])


# -- mounts ------------------------------------------------------------------------------------------
def mounts(task: ExecutionTask, file_outputs: bool) -> dict[str, dict[str, str]]:
    """Bind mounts at identical paths: every input artifact read-only, every output read-write (its
    parent folder when the command may create the output itself), and the task's scratch folder."""
    volumes: dict[str, dict[str, str]] = {}
    for arts in task.input_dict.values():
        for a in arts:
            if a.get("uri") and os.path.exists(a["uri"]):
                volumes[a["uri"]] = {"bind": a["uri"], "mode": "ro"}
    for arts in task.output_dict.values():
        for a in arts:
            value = is_value_type(a["type_name"])  # its URI is a file: the folder around it is mounted
            path = os.path.dirname(a["uri"]) if file_outputs or value else a["uri"]
            volumes[path] = {"bind": path, "mode": "rw"}
    os.makedirs(task.tmp_dir, exist_ok=True)
    volumes[task.tmp_dir] = {"bind": task.tmp_dir, "mode": "rw"}
    return volumes


def _code_mounts(executor: dict[str, Any]) -> list[str]:
    """Folders holding a module the executor imports by name that is not in the image's site-packages
    (an editable install on the host, say: the user's own files travel by value and never reach this):
    mounted read-only and put on PYTHONPATH, so the image runs the code the host runs."""
    module = executor.get("module")
    if not module or executor.get("payload") or module.split(".")[0] == "headrace":
        return []
    loaded = sys.modules.get(module)
    path = getattr(loaded, "__file__", None)
    if not path:  # a fresh worker has not imported it: find it where the runner would
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            return []
        path = spec.origin if spec is not None else None
    if not path or not os.path.isfile(path):
        return []
    root = os.path.dirname(os.path.abspath(path))
    for _ in range(module.count(".")):
        root = os.path.dirname(root)
    if "site-packages" in root.split(os.sep) or "dist-packages" in root.split(os.sep):
        return []
    return [root]


# -- the engine ---------------------------------------------------------------------------------------
def client(url: str | None = None) -> Any:
    """A docker client for the engine at `url` (default: DOCKER_HOST, else the local socket).

    Raises:
        ContainerError: no engine answers; the message says how to start one.
    """
    try:
        import docker
    except ImportError:
        raise ContainerError("Running containers needs the `docker` package: pip install docker.") from None
    where = url or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    try:
        engine = docker.DockerClient(base_url=url) if url else docker.from_env()
        engine.ping()
        return engine
    except Exception as e:  # noqa: BLE001 - docker raises several kinds; all mean "not reachable"
        raise ContainerError(
            f"No Docker engine is reachable at {where} ({type(e).__name__}: {str(e)[:200]}). Start one "
            "(`sudo dockerd &`, or `bash scripts/services.sh docker` in a headrace checkout), or point "
            "DOCKER_HOST / DockerPlatformConfig.docker_server_url at a running engine."
        ) from None


def ensure_image(engine: Any, image: str) -> None:
    """The image is present locally, or pulled now.

    Raises:
        ContainerError: it is neither present nor pullable; says how to get it.
    """
    import docker.errors

    try:
        engine.images.get(image)
        return
    except docker.errors.ImageNotFound:
        pass
    try:
        engine.images.pull(image)
    except Exception as e:  # noqa: BLE001 - not found, no registry, denied: all end here
        raise ContainerError(
            f"Docker image '{image}' is not on this machine and could not be pulled ({str(e)[:200]}). Build it "
            f"(`make image` builds headrace's runtime image), `docker pull {image}` where a registry is "
            "reachable, or fix the name."
        ) from None


def run_container(task: ExecutionTask) -> ExecutorResult:
    """Runs the task's executor in a container; an engine, image or exit failure raises ContainerError."""
    executor = task.executor
    config = executor.get("docker", {})
    is_command = executor["kind"] == "container"
    image = executor["image"]
    volumes = mounts(task, file_outputs=is_command)
    environment = list(config.get("environment", []))
    args: list[str] | None = None
    if is_command:
        task = with_secrets(task)  # a Secret placed in the argv: only the container sees the value
        argv = resolve_command(executor["command"], task)
        args = resolve_command(executor["args"], task) if executor.get("args") else None
    else:
        task_file, result_file = os.path.join(task.tmp_dir, "task.pkl"), os.path.join(task.tmp_dir, "result.pkl")
        with open(task_file, "wb") as f:
            pickle.dump(_for_container(task), f, protocol=pickle.HIGHEST_PROTOCOL)
        argv = [*ENTRYPOINT, task_file, result_file]
        code = _code_mounts(executor)
        for folder in code:
            volumes.setdefault(folder, {"bind": folder, "mode": "ro"})
        environment += ["HOME=/tmp", "PYTHONUNBUFFERED=1"] + ([f"PYTHONPATH={os.pathsep.join(code)}"] if code else [])
        # the task file holds only a Secret's variable name; the entrypoint reads its value in the container
        environment += [f"{v}={value}" for v, value in _secret_environment(task).items()]
    for host, mount in config.get("volumes", {}).items():
        volumes[host] = mount
    engine = client(config.get("docker_server_url"))
    ensure_image(engine, image)
    exit_code, tail = _run(engine, image, argv, args, volumes, environment, config, task)
    if exit_code != 0:
        lines = "\n".join(tail) or "(the container printed nothing)"
        why = "was killed after its timeout" if exit_code is None else f"exited with code {exit_code}"
        raise ContainerError(
            f"The container of '{task.node_id}' (image {image}) {why}. Last lines of its log:\n{lines}"
        )
    if is_command:
        outputs = {k: [Artifact.from_dict(a) for a in arts] for k, arts in task.output_dict.items()}
        for arts in outputs.values():
            for art in arts:
                if isinstance(art, ValueArtifact):
                    art.persist_value()  # records the value the command wrote at the URI (none: an empty file)
                elif not os.path.lexists(art.uri):
                    os.makedirs(art.uri)  # an output the command did not write is published empty
        return ExecutorResult(ok=True, output_dict={k: [a.to_dict() for a in v] for k, v in outputs.items()})
    with open(result_file, "rb") as f:
        result: ExecutorResult = pickle.load(f)
    return result


def _secret_environment(task: ExecutionTask) -> dict[str, str]:
    """Each Secret parameter's variable with its value from this process's environment."""
    names = secret_variables(task)
    resolved = with_secrets(task).exec_properties  # fails naming a variable that is not set
    return {env: resolved[key] for key, env in names.items()}


def _for_container(task: ExecutionTask) -> ExecutionTask:
    """The task as the entrypoint runs it: without an image (it runs right there) and without a log
    file (the runner writes the container's output to the log)."""
    executor = {k: v for k, v in task.executor.items() if k not in ("image", "docker")}
    return dataclasses.replace(task, executor=executor, log_path="")


def _run(
    engine: Any,
    image: str,
    argv: list[str],
    args: list[str] | None,
    volumes: dict[str, dict[str, str]],
    environment: list[str],
    config: dict[str, Any],
    task: ExecutionTask,
) -> tuple[int | None, list[str]]:
    """Starts the container, streams its output to stdout (the step's log), waits; returns the exit
    code (None after a timeout) and the last lines it printed. The container is always removed."""
    user = config.get("user", {})
    run_as = user.get("username") or (str(user["uid"]) if "uid" in user else f"{os.getuid()}:{os.getgid()}")
    # The argv exactly, no shell: `command` replaces the image's entrypoint (and its CMD is dropped);
    # `args` (TFX's ExecutorContainerSpec) follow it, or follow the image's own entrypoint.
    where = {"entrypoint": argv} if argv else {}
    container = engine.containers.create(
        image,
        command=args,
        **where,
        volumes=volumes,
        environment=environment,
        user=run_as,
        privileged=bool(config.get("privileged")),
        name=config.get("name") or f"headrace-{task.node_id}-{task.execution_id}".replace(".", "-")[:60],
        working_dir="/tmp",
        detach=True,
        **config.get("additional_run_args", {}),
    )
    timed_out = threading.Event()
    timer = None
    seconds = config.get("timeout_seconds") or task.timeout_seconds
    if seconds:

        def kill() -> None:
            timed_out.set()
            try:
                container.kill()
            except Exception:  # noqa: BLE001 - it may have just ended
                pass

        timer = threading.Timer(seconds, kill)
    tail: collections.deque[str] = collections.deque(maxlen=LOG_TAIL_LINES)
    try:
        container.start()
        if timer is not None:
            timer.start()
        pending = ""
        for chunk in container.logs(stream=True, follow=True):
            text = pending + chunk.decode("utf-8", errors="replace")
            *lines, pending = text.split("\n")
            for line in lines:
                sys.stdout.write(line + "\n")
                tail.append(line)
        if pending:
            sys.stdout.write(pending + "\n")
            tail.append(pending)
        sys.stdout.flush()
        status = container.wait()
    finally:
        if timer is not None:
            timer.cancel()
        try:
            container.remove(force=True)
        except Exception:  # noqa: BLE001 - removal is best effort; the engine may be gone
            pass
    if timed_out.is_set():
        return None, list(tail)
    return int(status.get("StatusCode", 1)), list(tail)
