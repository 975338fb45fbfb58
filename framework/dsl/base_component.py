"""`BaseComponent`: a component instance in a pipeline (a node)."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Iterable
from typing import Any, ClassVar

from headrace.dsl.executor import ExecutorSpec, beam_capable, display_module_name
from headrace.errors import DefinitionError, did_you_mean
from headrace.types.channel import Channel, _attach_conditions
from headrace.types.component_spec import ComponentSpec
from headrace.types.placeholder import Placeholder

_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")


class BaseComponent:
    """Joins a :class:`ComponentSpec` and an executor spec; one instance is one pipeline node.

    Subclasses set `SPEC_CLASS` and `EXECUTOR_SPEC` and call
    ``super().__init__(spec=SpecClass(...))``.
    """

    SPEC_CLASS: ClassVar[type[ComponentSpec]]
    EXECUTOR_SPEC: ClassVar[ExecutorSpec]

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not hasattr(init, "__headrace_checked__"):
            cls.__init__ = checked_arguments(init)  # type: ignore[method-assign]

    def __init__(self, spec: ComponentSpec):
        cls = type(self)
        if not isinstance(getattr(cls, "SPEC_CLASS", None), type) or not issubclass(cls.SPEC_CLASS, ComponentSpec):
            raise DefinitionError(f"{cls.__name__}.SPEC_CLASS must be a ComponentSpec subclass.")
        if not isinstance(getattr(cls, "EXECUTOR_SPEC", None), ExecutorSpec):
            raise DefinitionError(
                f"{cls.__name__}.EXECUTOR_SPEC must be an executor spec, e.g. ExecutorClassSpec(MyExecutor)."
            )
        if not isinstance(spec, cls.SPEC_CLASS):
            raise DefinitionError(
                f"{cls.__name__} expects spec={cls.SPEC_CLASS.__name__}(...), got {type(spec).__name__}."
            )
        self.spec = spec
        self._id = cls.__name__
        self._explicit_upstream: list[BaseComponent] = []
        self._enable_cache: bool | None = None
        self._image: str | None = None
        self._platform_config: dict[str, Any] = {}
        self._retry: dict[str, Any] | None = None
        self._timeout: float | None = None
        self._resources: dict[str, Any] = {}
        for key, channel in spec.outputs.items():
            channel._bind(self, key)
        _attach_conditions(self)  # built inside `with Cond(...)` (a component without outputs too)

    # -- identity -------------------------------------------------------------------------
    @property
    def id(self) -> str:
        """The node id, unique within a pipeline (defaults to the class name)."""
        return self._id

    def with_id(self, id: str) -> BaseComponent:
        """Sets the node id and returns the component."""
        if not isinstance(id, str) or not _ID_RE.match(id):
            raise DefinitionError(
                f"Invalid component id {id!r}: use letters, digits, '_', '.', '-', starting with a letter or '_'."
            )
        self._id = id
        return self

    @property
    def type(self) -> str:
        """The component type: its class path."""
        cls = type(self)
        return f"{display_module_name(cls.__module__)}.{cls.__qualname__}"

    # -- wiring ---------------------------------------------------------------------------
    @property
    def inputs(self) -> dict[str, Channel]:
        """Input channels by key."""
        return self.spec.inputs

    @property
    def outputs(self) -> dict[str, Channel]:
        """Output channels by key."""
        return _OutputsDict(self)

    @property
    def exec_properties(self) -> dict[str, Any]:
        """Execution parameters by name."""
        return self.spec.exec_properties

    def add_upstream_node(self, node: BaseComponent) -> BaseComponent:
        """Makes this component run after `node`, without a data dependency."""
        if not isinstance(node, BaseComponent):
            raise DefinitionError(f"add_upstream_node expects a component, got {type(node).__name__}.")
        if node is self:
            raise DefinitionError(f"Component '{self.id}' cannot be its own upstream node.")
        if node not in self._explicit_upstream:
            self._explicit_upstream.append(node)
        return self

    def add_downstream_node(self, node: BaseComponent) -> BaseComponent:
        """Makes `node` run after this component."""
        node.add_upstream_node(self)
        return self

    @property
    def upstream_nodes(self) -> list[BaseComponent]:
        """Producers of the inputs, then of the upstream outputs its parameters read
        (`upstream.outputs['x'].future()[0].value`), then explicit upstream nodes, without repeats."""
        producers = [ch.producer for ch in self.spec.inputs.values() if ch.producer is not None]
        for value in self.spec.exec_properties.values():
            if isinstance(value, Placeholder):
                for future in value.futures():
                    producer = future.channel.producer
                    if producer is not None and producer is not self:
                        producers.append(producer)
        return list(dict.fromkeys([*producers, *self._explicit_upstream]))  # identity-hashed, order kept

    # -- caching ----------------------------------------------------------------------------
    def with_enable_cache(self, enable: bool) -> BaseComponent:
        """Turns the result cache on or off for this component, overriding the pipeline's setting."""
        self._enable_cache = bool(enable)
        return self

    @property
    def enable_cache(self) -> bool | None:
        """This component's cache switch, or None to follow the pipeline."""
        return self._enable_cache

    # -- Beam -------------------------------------------------------------------------------
    def with_beam_pipeline_args(self, beam_pipeline_args: Iterable[str]) -> BaseComponent:
        """Beam arguments for this node only, after the pipeline's `beam_pipeline_args` (later flags win),
        as TFX's Beam components take them. For a component whose executor builds Beam pipelines: an
        `@component` function with a BeamPipeline argument, or a `BeamExecutorSpec` executor."""
        spec = self.EXECUTOR_SPEC
        if not beam_capable(spec):
            raise DefinitionError(
                f"{self.id}: with_beam_pipeline_args is for components that run on Beam, and {type(self).__name__}'s "
                f"executor ({type(spec).__name__}) does not; for a function component, add an argument "
                "`beam_pipeline: BeamPipeline = None`, which receives the Beam pipeline these arguments build."
            )
        own = spec.copy()
        own.add_beam_pipeline_args(beam_pipeline_args)
        # this node's own copy (the class's spec is shared by its other nodes), as a custom executor spec is kept
        self.EXECUTOR_SPEC = own  # type: ignore[misc]
        return self

    # -- where it runs ---------------------------------------------------------------------
    def with_image(self, image: str) -> BaseComponent:
        """Runs this node's executor inside `image` (a Docker image with headrace installed, e.g.
        the runtime image `make image` builds): the container runs `python -m headrace.entrypoint`
        for this one node, with its artifact directories mounted; the driver and publisher stay
        with the runner. For a container component, replaces its image. The image is part of the
        cache key."""
        if not isinstance(image, str) or not image.strip() or any(c.isspace() for c in image):
            raise DefinitionError(
                f"{self.id}: with_image takes an image reference like 'headrace-runtime:1.0', got {image!r}."
            )
        self._image = image
        return self

    def with_platform_config(self, config: Any) -> BaseComponent:
        """Docker settings for this node's container (TFX's `DockerPlatformConfig` or a dict of
        its fields: volumes, environment, user, privileged, ...; see
        :mod:`headrace.dsl.docker_config`)."""
        from headrace.dsl.docker_config import docker_config

        self._platform_config = docker_config(config, self.id)
        return self

    @property
    def image(self) -> str | None:
        """The image set by :meth:`with_image`, or None."""
        return self._image

    @property
    def platform_config(self) -> dict[str, Any]:
        """The Docker settings set by :meth:`with_platform_config` (a dict; empty when unset)."""
        return dict(self._platform_config)

    # -- how it runs -------------------------------------------------------------------------
    def with_retry(
        self,
        max_retries: int,
        backoff_seconds: float = 0.0,
        backoff_factor: float = 2.0,
        max_backoff_seconds: float = 3600.0,
    ) -> BaseComponent:
        """Tries the node again when it fails, up to `max_retries` more times, waiting
        `backoff_seconds * backoff_factor ** (n - 1)` (at most `max_backoff_seconds`) before the n-th
        retry. Each attempt is its own execution in ML Metadata; only the last one's outputs are
        published. Kubeflow gets a retryPolicy and Airflow the task's retries."""
        from headrace.dsl.run_settings import retry_policy

        self._retry = retry_policy(self.id, max_retries, backoff_seconds, backoff_factor, max_backoff_seconds)
        return self

    def with_timeout(self, seconds: float) -> BaseComponent:
        """Stops the node's executor (its worker process or container) after `seconds`, and fails the
        node. Kubeflow and Airflow get their own timeout settings."""
        from headrace.dsl.run_settings import timeout

        self._timeout = timeout(self.id, seconds)
        return self

    def with_resources(
        self,
        cpu: str | float | None = None,
        memory: str | int | None = None,
        accelerator: str | None = None,
        accelerator_count: int | None = None,
    ) -> BaseComponent:
        """What the step asks of the machine, as Kubernetes quantities (cpu=2 or '500m',
        memory='4Gi', accelerator='nvidia-tesla-t4', accelerator_count=1): Kubeflow's resource
        requests and limits, Airflow's executor config; recorded on the execution locally."""
        from headrace.dsl.run_settings import resources

        self._resources = resources(self.id, cpu, memory, accelerator, accelerator_count)
        return self

    @property
    def retry(self) -> dict[str, Any] | None:
        """The retry policy set by :meth:`with_retry`, or None."""
        return dict(self._retry) if self._retry else None

    @property
    def timeout_seconds(self) -> float | None:
        """The timeout set by :meth:`with_timeout`, or None."""
        return self._timeout

    @property
    def resources(self) -> dict[str, Any]:
        """The resources set by :meth:`with_resources` (empty when unset)."""
        return dict(self._resources)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r})"


class _OutputsDict(dict):
    """`component.outputs`, with a did-you-mean on a wrong key."""

    def __init__(self, component: BaseComponent):
        super().__init__(component.spec.outputs)
        self._owner = component.id

    def __missing__(self, key: str) -> Channel:
        from headrace.errors import did_you_mean

        raise DefinitionError(
            f"Component '{self._owner}' has no output '{key}'."
            + did_you_mean(key, list(self))
            + f" Outputs: {', '.join(self) or '(none)'}."
        )


class ArgumentError(DefinitionError, TypeError):
    """A component was called with an unknown or missing argument (a TypeError too, as Python's own)."""


def checked_arguments(init: Any) -> Any:
    """A component's `__init__` whose unknown or missing arguments raise an :class:`ArgumentError`
    naming the component, the argument, the near miss and the arguments it takes (not Python's bare
    TypeError)."""
    signature = inspect.signature(init)

    @functools.wraps(init)
    def checked(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            signature.bind(self, *args, **kwargs)
        except TypeError as e:
            names = [n for n in list(signature.parameters)[1:] if not n.startswith("_")]
            unknown = [k for k in kwargs if k not in signature.parameters]
            owner = type(self).__name__
            if unknown:
                message = f"{owner}: unknown argument '{unknown[0]}'." + did_you_mean(unknown[0], names)
            else:
                message = f"{owner}: {e}."
            raise ArgumentError(f"{message} Arguments: {', '.join(names) or '(none)'}.") from None
        init(self, *args, **kwargs)

    checked.__headrace_checked__ = True  # type: ignore[attr-defined]
    return checked
