"""TFX's tfx/proto/orchestration/platform_config.proto (`platform_config_pb2`), built without protoc
in headrace's private pool: `DockerPlatformConfig` for `component.with_platform_config(...)`."""

from __future__ import annotations

from headrace.components.proto import DESCRIPTOR_POOL
from headrace.components.proto.builder import Field, Message, build

_file = build(
    DESCRIPTOR_POOL,
    "tfx/proto/orchestration/platform_config.proto",
    "tfx.orchestration.platform_config",
    [
        Message(
            "DockerPlatformConfig",
            [
                Field("docker_server_url", 1, "string"),
                Field("environment", 2, "string", repeated=True),
                Field("name", 3, "string"),
                Field("privileged", 4, "bool"),
                Field("user", 5, "ContainerRunUser"),
                Field("volumes", 6, "map<string, VolumeMount>"),
                Field("additional_run_args", 7, "map<string, string>"),
            ],
            nested=[
                Message(
                    "ContainerRunUser",
                    [Field("username", 1, "string", oneof="kind"), Field("uid", 2, "int32", oneof="kind")],
                ),
                Message("VolumeMount", [Field("bind", 1, "string"), Field("mode", 2, "string")]),
            ],
        )
    ],
    module=__name__,
)
DESCRIPTOR = _file.descriptor
DockerPlatformConfig = _file.messages["DockerPlatformConfig"]

__all__ = ["DESCRIPTOR", "DockerPlatformConfig"]
