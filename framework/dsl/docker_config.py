"""How a node's container runs: TFX's `DockerPlatformConfig`, as a plain, validated dict.

`component.with_platform_config(config)` takes TFX's
`platform_config_pb2.DockerPlatformConfig(...)` (any protobuf message with that full name) or the
same fields as a dict, and the IR keeps them as JSON (`executor['docker']`):

- `docker_server_url`: the engine ('unix:///var/run/docker.sock', 'tcp://host:2375'); default:
  the DOCKER_HOST environment, as the docker CLI.
- `environment`: ['NAME=value', ...] set in the container (a dict is accepted too). Nothing else
  from the host's environment enters the container.
- `name`: the container's name (default: headrace-<node>-<execution id>).
- `privileged`: extended privileges (default False).
- `user`: {'username': 'name'} or {'uid': 1000} (default: the uid:gid of the process running the
  step, so what the container writes belongs to the user who ran the pipeline).
- `volumes`: {'/host/path': {'bind': '/container/path', 'mode': 'ro' | 'rw'}} mounted besides the
  artifact directories headrace mounts itself.
- `additional_run_args`: further keyword arguments of docker's `containers.run` (strings), e.g.
  {'shm_size': '1g', 'network_mode': 'none'}.
- `timeout_seconds` (a headrace extension): the step fails when the container runs longer.
"""

from __future__ import annotations

from typing import Any

from headrace.errors import DefinitionError

FULL_NAME = "tfx.orchestration.platform_config.DockerPlatformConfig"
_FIELDS = "docker_server_url environment name privileged user volumes additional_run_args timeout_seconds".split()
_MODES = ("ro", "rw")


def docker_config(config: Any, owner: str) -> dict[str, Any]:
    """The config as a checked dict with only the fields that are set.

    Raises:
        DefinitionError: naming the field and what it takes.
    """
    if hasattr(config, "DESCRIPTOR") and hasattr(config, "ListFields"):
        if config.DESCRIPTOR.full_name != FULL_NAME:
            raise DefinitionError(
                f"{owner}: with_platform_config takes TFX's platform_config_pb2.DockerPlatformConfig (or a dict "
                f"of its fields); got a {config.DESCRIPTOR.full_name}."
            )
        from google.protobuf import json_format

        config = json_format.MessageToDict(config, preserving_proto_field_name=True)
    if not isinstance(config, dict):
        raise DefinitionError(
            f"{owner}: with_platform_config takes a DockerPlatformConfig or a dict, got {type(config).__name__}."
        )
    unknown = sorted(set(config) - set(_FIELDS))
    if unknown:
        raise DefinitionError(f"{owner}: unknown DockerPlatformConfig field(s) {unknown}; known: {', '.join(_FIELDS)}.")
    out: dict[str, Any] = {}
    for key in ("docker_server_url", "name"):
        if config.get(key):
            out[key] = _text(config[key], f"{owner}: {key}")
    if config.get("privileged"):
        out["privileged"] = True
    if config.get("environment"):
        out["environment"] = _environment(config["environment"], owner)
    if config.get("user"):
        out["user"] = _user(config["user"], owner)
    if config.get("volumes"):
        out["volumes"] = _volumes(config["volumes"], owner)
    if config.get("additional_run_args"):
        args = config["additional_run_args"]
        if not isinstance(args, dict) or not all(isinstance(k, str) for k in args):
            raise DefinitionError(f"{owner}: additional_run_args must be a dict of docker run keyword arguments.")
        out["additional_run_args"] = dict(args)
    if config.get("timeout_seconds") is not None:
        timeout = config["timeout_seconds"]
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise DefinitionError(f"{owner}: timeout_seconds must be a positive number, got {timeout!r}.")
        out["timeout_seconds"] = float(timeout)
    return out


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise DefinitionError(f"{what} must be a string, got {value!r}.")
    return value


def _environment(value: Any, owner: str) -> list[str]:
    items = [f"{k}={v}" for k, v in value.items()] if isinstance(value, dict) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and "=" in i and i[0] != "=" for i in items):
        raise DefinitionError(
            f"{owner}: environment must be a list of 'NAME=value' strings (or a dict), got {value!r}."
        )
    return list(items)


def _user(value: Any, owner: str) -> dict[str, Any]:
    if isinstance(value, dict) and len(value) == 1:
        if isinstance(value.get("username"), str) and value["username"]:
            return {"username": value["username"]}
        uid = value.get("uid")
        if uid is not None and not isinstance(uid, bool) and int(uid) >= 0:
            return {"uid": int(uid)}
    raise DefinitionError(f"{owner}: user must be {{'username': NAME}} or {{'uid': NUMBER}}, got {value!r}.")


def _volumes(value: Any, owner: str) -> dict[str, dict[str, str]]:
    if not isinstance(value, dict):
        raise DefinitionError(f"{owner}: volumes must map host paths to {{'bind': PATH, 'mode': 'ro'|'rw'}}.")
    out = {}
    for host, mount in value.items():
        bind = mount.get("bind") if isinstance(mount, dict) else None
        mode = (mount.get("mode") or "rw") if isinstance(mount, dict) else None
        if not isinstance(host, str) or not host or not isinstance(bind, str) or not bind.startswith("/"):
            raise DefinitionError(
                f"{owner}: volume {host!r}: {mount!r} must be {{'bind': '/absolute/path', 'mode': 'ro'|'rw'}}."
            )
        # Docker takes a relative host path for a named volume, and a NUL ends the path early: both would
        # mount something other than the folder the user wrote down
        if not host.startswith("/") or "\0" in host or "\0" in bind:
            raise DefinitionError(f"{owner}: volume host path {host!r} must be an absolute path (without NUL bytes).")
        if mode not in _MODES:
            raise DefinitionError(f"{owner}: volume {host!r} has mode {mode!r}; use 'ro' or 'rw'.")
        out[host] = {"bind": bind, "mode": mode}
    return out
