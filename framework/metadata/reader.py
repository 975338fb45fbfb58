"""A small read API over the store: pipelines, runs, executions, artifacts, lineage.

The CLI is built on it; it is public so notebooks and tests can use it too.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from typing import Any

from headrace.errors import NotInStoreError
from headrace.metadata.store import PIPELINE, PIPELINE_RUN, Metadata
from headrace.metadata.values import event_keys, filter_string, get_value


@dataclasses.dataclass
class ArtifactInfo:
    """An artifact as recorded."""

    id: int
    type_name: str
    uri: str
    state: str
    properties: dict[str, Any]
    custom_properties: dict[str, Any]


@dataclasses.dataclass
class ExecutionInfo:
    """One execution of a node, with its inputs and outputs."""

    id: int
    node_id: str
    type_name: str
    state: str
    create_time_ms: int
    update_time_ms: int
    error: str
    inputs: dict[str, list[ArtifactInfo]]
    outputs: dict[str, list[ArtifactInfo]]
    properties: dict[str, Any]


@dataclasses.dataclass
class RunInfo:
    """A pipeline run, as `headrace runs list --json` prints it (one object of these fields per run;
    times are milliseconds since the epoch, 0 when not known)."""

    run_id: str
    pipeline_name: str
    state: str
    started_ms: int
    finished_ms: int
    active_ms: int = 0  # time spent running, summed over the first attempt and any resumes
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)  # its runtime parameter values
    context_id: int = 0  # the run context's id in the store: runs are created in id order
    attempt_started_ms: int = 0  # when the latest attempt started (later than started_ms after a resume)
    runner: str = ""  # host:pid of the process that drives (or drove) its latest attempt
    started_by: str = ""  # what started it: LocalDagRunner, BeamDagRunner, a scheduler's tasks...
    scheduler_run: str = ""  # the scheduler's run it maps to (an Airflow run id: manual__..., scheduled__...)
    trigger: str = (
        ""  # why it was started, as its starter said (headrace schedule: JSON, see headrace.orchestrators.scheduler)
    )

    @property
    def trigger_text(self) -> str:
        """`trigger` for a person: what `headrace schedule` recorded (the new files, the schedule time),
        or the text as its starter gave it ('' if none)."""
        try:
            found = json.loads(self.trigger) if self.trigger else None
        except ValueError:
            found = None
        if not isinstance(found, dict) or found.get("kind") not in ("on-new-data", "cron", "every"):
            return self.trigger
        by = str(found.get("by") or "a schedule")
        if found.get("kind") == "on-new-data":
            files = [
                os.path.basename(os.path.dirname(f)) + "/" + os.path.basename(f) for f in found.get("new_files", [])
            ]
            more = f" and {len(files) - 3} more" if len(files) > 3 else ""
            return f"{by}: new data ({', '.join(files[:3]) or 'changed files'}{more})"
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(float(found.get("scheduled_for", 0))))
        what = f"cron '{found.get('expr')}'" if found.get("kind") == "cron" else f"every {found.get('every_s')} s"
        return f"{by}: {what}, due {when}"

    @property
    def resumed(self) -> bool:
        """Whether the run was resumed after its first attempt ended."""
        return self.attempt_started_ms > self.started_ms > 0

    @property
    def seconds(self) -> float | None:
        """How long the run ran (its attempts summed), or None while it has not finished."""
        if self.active_ms:
            return self.active_ms / 1000
        if self.started_ms and self.finished_ms >= self.started_ms:
            return (self.finished_ms - self.started_ms) / 1000
        return None


@dataclasses.dataclass
class LineageNode:
    """An artifact and, upstream, the execution that produced it and that execution's inputs."""

    artifact: ArtifactInfo
    producer: ExecutionInfo | None
    inputs: list[LineageNode]


@dataclasses.dataclass
class LineageGraph:
    """An artifact's neighbourhood across runs: the executions that produced (upstream) and consumed
    (downstream) artifacts, level by level, as a graph. Cache hits (CACHED executions, which made
    nothing new) are left out."""

    root: int  # the artifact asked about
    artifacts: dict[int, ArtifactInfo]
    executions: dict[int, ExecutionInfo]
    edges: set[tuple[str, str]]  # ("a12", "e7"): artifact 12 is an input of execution 7; ("e7", "a13"): an output
    truncated: bool = False  # more lay beyond the node limit


class MetadataReader:
    """Reads what headrace recorded."""

    def __init__(self, md: Metadata):
        self.md = md
        self._exec_type_names: dict[int, str] = {}

    def pipelines(self) -> list[str]:
        """Names of the pipelines in the store."""
        return sorted(c.name for c in self.md.call(self.md.store.get_contexts_by_type, PIPELINE))

    def runs(self, pipeline_name: str | None = None) -> list[RunInfo]:
        """Runs, newest first, optionally of one pipeline."""
        runs = [self._run_info(c) for c in self.md.call(self.md.store.get_contexts_by_type, PIPELINE_RUN)]
        if pipeline_name:
            runs = [r for r in runs if r.pipeline_name == pipeline_name]
        return sorted(runs, key=lambda r: (r.started_ms, r.run_id), reverse=True)

    def runs_page(
        self,
        pipeline_name: str | None = None,
        state: str | None = None,
        before_id: int | None = None,
        after_id: int | None = None,
        limit: int = 50,
    ) -> tuple[list[RunInfo], bool]:
        """One page of runs, newest first, read by keyset on the run context's id (a store with many
        thousands of runs reads only the page): `before_id` pages to older runs, `after_id` to newer
        ones. Returns the page and whether more runs lie beyond it in the direction paged."""
        import ml_metadata as mlmd

        wanted = [f"type = {filter_string(PIPELINE_RUN)}"]
        if pipeline_name:
            wanted.append(f"custom_properties.pipeline_name.string_value = {filter_string(pipeline_name)}")
        if state:
            wanted.append(f"custom_properties.state.string_value = {filter_string(state)}")
        if before_id is not None:
            wanted.append(f"id < {int(before_id)}")
        if after_id is not None:
            wanted.append(f"id > {int(after_id)}")
        options = mlmd.ListOptions(
            limit=limit + 1,
            order_by=mlmd.OrderByField.ID,
            is_asc=after_id is not None and before_id is None,
            filter_query=" AND ".join(wanted),
        )
        found = self.md.call(self.md.store.get_contexts, list_options=options)
        more = len(found) > limit
        page = [self._run_info(c) for c in found[:limit]]
        return sorted(page, key=lambda r: r.context_id, reverse=True), more

    def run(self, run_id: str) -> RunInfo:
        """One run; raises NotInStoreError naming the store if there is none."""
        ctx = self.md.call(self.md.store.get_context_by_type_and_name, PIPELINE_RUN, run_id)
        if ctx is None:
            raise NotInStoreError(
                f"No run '{run_id}' in {self.md.describe()}. List runs with: "
                f"headrace runs list --metadata {self.md.describe()}"
            )
        return self._run_info(ctx)

    def executions(self, run_id: str) -> list[ExecutionInfo]:
        """Executions of a run in order, with states, times, inputs and outputs."""
        self.run(run_id)
        ctx = self.md.call(self.md.store.get_context_by_type_and_name, PIPELINE_RUN, run_id)
        execs = sorted(self.md.call(self.md.store.get_executions_by_context, ctx.id), key=lambda e: e.id)
        return self._execution_infos(execs)

    def execution(self, execution_id: int) -> ExecutionInfo:
        """One execution with its inputs and outputs; raises NotInStoreError if there is none."""
        found = self.md.call(self.md.store.get_executions_by_id, [execution_id])
        if not found:
            raise NotInStoreError(f"No execution with id {execution_id} in {self.md.describe()}.")
        return self._execution_infos(found)[0]

    def producers_and_consumers(self, artifact_id: int) -> tuple[list[ExecutionInfo], list[ExecutionInfo]]:
        """The executions that output the artifact (its producer first, then cache hits that reused
        it) and those that took it as an input, each oldest first."""
        events = self.md.call(self.md.store.get_events_by_artifact_ids, [artifact_id])
        ids = sorted({e.execution_id for e in events})
        infos = {e.id: e for e in self._execution_infos(self.md.call(self.md.store.get_executions_by_id, ids))}
        out_ids = sorted({e.execution_id for e in events if e.type == self.md.pb.Event.OUTPUT})
        in_ids = sorted({e.execution_id for e in events if e.type == self.md.pb.Event.INPUT})
        return [infos[i] for i in out_ids if i in infos], [infos[i] for i in in_ids if i in infos]

    def artifact(self, artifact_id: int) -> ArtifactInfo:
        """One artifact; raises NotInStoreError if there is none."""
        found = self.md.call(self.md.store.get_artifacts_by_id, [artifact_id])
        if not found:
            raise NotInStoreError(f"No artifact with id {artifact_id} in {self.md.describe()}.")
        return self._artifact_info(found[0])

    def lineage(self, artifact_id: int, max_depth: int = 20) -> LineageNode:
        """The upstream lineage of an artifact: who produced it, from what, recursively."""
        root = self.artifact(artifact_id)
        return self._lineage(root, max_depth, set())

    def lineage_graph(self, artifact_id: int, depth: int = 3, max_nodes: int = 200) -> LineageGraph:
        """The artifact's upstream and downstream `depth` executions deep, across runs (see LineageGraph)."""
        graph = LineageGraph(artifact_id, {artifact_id: self.artifact(artifact_id)}, {}, set())
        up, down = {artifact_id}, {artifact_id}
        for _ in range(depth):
            up = self._lineage_step(graph, up, upstream=True, max_nodes=max_nodes)
            down = self._lineage_step(graph, down, upstream=False, max_nodes=max_nodes)
            if not up and not down:
                break
        return graph

    # -- internals ----------------------------------------------------------------------
    def _lineage_step(self, graph: LineageGraph, frontier: set[int], upstream: bool, max_nodes: int) -> set[int]:
        """Adds the producers (upstream) or consumers (downstream) of the `frontier` artifacts and their
        inputs (or outputs); returns the artifacts added, the next frontier."""
        if not frontier:
            return set()
        kind = self.md.pb.Event.OUTPUT if upstream else self.md.pb.Event.INPUT
        events = self.md.call(self.md.store.get_events_by_artifact_ids, sorted(frontier))
        wanted = sorted({e.execution_id for e in events if e.type == kind} - set(graph.executions))
        found = self._execution_infos(self.md.call(self.md.store.get_executions_by_id, wanted)) if wanted else []
        added: set[int] = set()
        for execution in found:
            if execution.state == "CACHED":
                continue
            if len(graph.artifacts) + len(graph.executions) >= max_nodes:
                graph.truncated = True
                break
            graph.executions[execution.id] = execution
            node = f"e{execution.id}"
            for side, arts in ((True, execution.inputs), (False, execution.outputs)):
                for a in (a for group in arts.values() for a in group):
                    edge = (f"a{a.id}", node) if side else (node, f"a{a.id}")
                    if a.id in graph.artifacts:
                        graph.edges.add(edge)
                    elif side == upstream:  # the inputs of a producer, the outputs of a consumer
                        graph.artifacts[a.id] = a
                        graph.edges.add(edge)
                        added.add(a.id)
        return added

    def _lineage(self, art: ArtifactInfo, depth: int, seen: set[int]) -> LineageNode:
        if depth <= 0 or art.id in seen:
            return LineageNode(art, None, [])
        seen = seen | {art.id}
        events = self.md.call(self.md.store.get_events_by_artifact_ids, [art.id])
        producers = sorted(e.execution_id for e in events if e.type == self.md.pb.Event.OUTPUT)
        if not producers:
            return LineageNode(art, None, [])
        # The first execution that output it produced it (later ones are cache hits or resolvers).
        [execution] = self._execution_infos(self.md.call(self.md.store.get_executions_by_id, [producers[0]]))
        inputs = [self._lineage(a, depth - 1, seen) for arts in execution.inputs.values() for a in arts]
        return LineageNode(art, execution, inputs)

    def _run_info(self, ctx: Any) -> RunInfo:
        p = {k: get_value(v) for k, v in ctx.custom_properties.items()}
        return RunInfo(
            ctx.name,
            p.get("pipeline_name", ""),
            p.get("state", ""),
            int(p.get("started_ms", 0)),  # stored as a double: ML Metadata's MySQL ints are 32-bit
            int(p.get("finished_ms", 0)),
            int(p.get("active_ms", 0)),
            json.loads(str(p["runtime_parameters"])) if "runtime_parameters" in p else {},
            ctx.id,
            int(p.get("attempt_started_ms", 0)),
            str(p.get("runner", "")),
            str(p.get("started_by", "")),
            str(p.get("airflow_run_id", "")),
            str(p.get("trigger", "")),
        )

    def _artifact_info(self, a: Any) -> ArtifactInfo:
        return ArtifactInfo(
            id=a.id,
            type_name=a.type or self.md.artifact_type_name(a.type_id),
            uri=a.uri,
            state=self.md.pb.Artifact.State.Name(a.state),
            properties={k: get_value(v) for k, v in a.properties.items()},
            custom_properties={k: get_value(v) for k, v in a.custom_properties.items()},
        )

    def _execution_infos(self, execs: list[Any]) -> list[ExecutionInfo]:
        if not execs:
            return []
        events = self.md.call(self.md.store.get_events_by_execution_ids, [e.id for e in execs])
        arts = {
            a.id: self._artifact_info(a)
            for a in self.md.call(self.md.store.get_artifacts_by_id, [e.artifact_id for e in events])
        }
        io: dict[int, tuple[dict[str, list[ArtifactInfo]], dict[str, list[ArtifactInfo]]]] = {
            e.id: ({}, {}) for e in execs
        }
        placed = sorted(((index, key, ev) for ev in events for key, index in event_keys(ev)), key=lambda t: t[0])
        for _index, key, ev in placed:
            side = 0 if ev.type == self.md.pb.Event.INPUT else 1 if ev.type == self.md.pb.Event.OUTPUT else None
            if side is not None:
                io[ev.execution_id][side].setdefault(key, []).append(arts[ev.artifact_id])
        out = []
        for e in execs:
            props = {k: get_value(v) for k, v in e.custom_properties.items()}
            state = self.md.pb.Execution.State.Name(e.last_known_state)
            if state == "CANCELED" and props.get("skipped"):
                state = "SKIPPED"  # a conditional node whose condition was false (the reason: `skipped`)
            out.append(
                ExecutionInfo(
                    id=e.id,
                    node_id=props.get("node_id", ""),
                    type_name=e.type or self._exec_type_name(e.type_id),
                    state=state,
                    create_time_ms=e.create_time_since_epoch,
                    update_time_ms=e.last_update_time_since_epoch,
                    error=props.get("error", ""),
                    inputs=io[e.id][0],
                    outputs=io[e.id][1],
                    properties=props,
                )
            )
        return out

    def _exec_type_name(self, type_id: int) -> str:
        if type_id not in self._exec_type_names:
            [t] = self.md.call(self.md.store.get_execution_types_by_id, [type_id])
            self._exec_type_names[type_id] = t.name
        return self._exec_type_names[type_id]
