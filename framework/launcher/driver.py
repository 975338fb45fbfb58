"""The driver: resolves inputs from the store, checks the cache, registers the execution."""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

from headrace.compiler.ir import NodeIR
from headrace.errors import HeadraceError
from headrace.launcher.layout import is_value_type, output_uri, prepare_output
from headrace.launcher.outcomes import CACHED, COMPLETE, node_outcome
from headrace.launcher.runs import RunHandle
from headrace.metadata.store import CACHE, Metadata
from headrace.metadata.values import event, event_keys, events_by_artifact, set_value
from headrace.types.artifact import Artifact, ArtifactState
from headrace.types.registry import artifact_class


class InputResolutionError(HeadraceError):
    """A node's inputs could not be resolved from the store."""


class UpstreamSkippedError(InputResolutionError):
    """A required input comes from a node that was skipped in this run (its Cond was false): the
    node is skipped too, which is not a failure."""


def skipped_reason(md: Metadata, handle: RunHandle, node_id: str) -> str | None:
    """Why `node_id` was skipped by a false Cond in this run, or None."""
    known = handle.skipped.get(node_id)
    if known is not None or node_id not in handle.node_contexts:
        return known
    outcome = node_outcome(md, handle, node_id)
    if outcome is None or not outcome.by_condition:
        return None
    handle.skipped[node_id] = outcome.reason
    return outcome.reason


def producer_execution_id(md: Metadata, handle: RunHandle, producer: str) -> int | None:
    """The execution that published `producer`'s outputs in this run, from the store."""
    known = handle.published.get(producer)
    if known is not None:
        return known
    outcome = node_outcome(md, handle, producer)
    if outcome is None or outcome.state not in (COMPLETE, CACHED):
        return None
    handle.published[producer] = outcome.execution_id or 0
    return outcome.execution_id


def outputs_of(md: Metadata, execution_ids: list[int]) -> dict[int, dict[str, list[Any]]]:
    """OUTPUT artifacts (protos) of executions, by execution id and output key, in path order."""
    if not execution_ids:
        return {}
    events = [e for e in md.call(md.store.get_events_by_execution_ids, execution_ids) if e.type == md.pb.Event.OUTPUT]
    artifacts = {a.id: a for a in md.call(md.store.get_artifacts_by_id, [e.artifact_id for e in events])}
    grouped: dict[int, dict[str, list[tuple[int, Any]]]] = {}
    for e in events:
        for key, index in event_keys(e):
            grouped.setdefault(e.execution_id, {}).setdefault(key, []).append((index, artifacts[e.artifact_id]))
    return {
        ex: {k: [a for _, a in sorted(v, key=lambda t: t[0])] for k, v in keys.items()} for ex, keys in grouped.items()
    }


def producer_outputs(md: Metadata, handle: RunHandle, producers: set[str]) -> dict[str, dict[str, list[Any]] | None]:
    """Each producer's OUTPUT artifacts (protos) in this run, or None if it has not succeeded.

    A producer that hit the cache in this run is answered with the reused artifacts, read from
    the store when the hit was found (its CACHED record may still be waiting to be written)."""
    found: dict[str, dict[str, list[Any]] | None] = {}
    exec_ids: dict[str, int | None] = {}
    for p in producers:
        if p in handle.cached_outputs:
            found[p] = handle.cached_outputs[p]
        else:
            exec_ids[p] = producer_execution_id(md, handle, p)
    published = outputs_of(md, [e for e in exec_ids.values() if e is not None])
    for p, ex in exec_ids.items():
        found[p] = published.get(ex, {}) if ex is not None else None
    return found


def resolve_inputs(md: Metadata, handle: RunHandle, node: NodeIR) -> dict[str, list[Any]]:
    """Each input's artifacts: the producer's LIVE OUTPUT artifacts in this run."""
    outputs = producer_outputs(md, handle, {i.producer for i in node.inputs.values() if i.producer})
    resolved: dict[str, list[Any]] = {}
    for key, spec in node.inputs.items():
        if spec.producer is None:
            continue  # a store query, answered by a Resolver
        produced = outputs[spec.producer]
        if produced is None:
            if spec.optional:
                resolved[key] = []
                continue
            if skipped_reason(md, handle, spec.producer) is not None:
                raise UpstreamSkippedError(f"upstream '{spec.producer}' was skipped, so input '{key}' has no artifacts")
            raise InputResolutionError(
                f"Input '{key}' of node '{node.id}': upstream node '{spec.producer}' has no successful execution "
                f"in run {handle.run_id}."
            )
        arts = produced.get(spec.output_key or "", [])
        dead = [a.id for a in arts if a.state != md.pb.Artifact.LIVE]
        if dead:
            raise InputResolutionError(f"Input '{key}' of node '{node.id}': artifacts {dead} are not LIVE.")
        resolved[key] = arts
    return resolved


def cache_enabled(node: NodeIR, pipeline_default: bool, run_override: bool | None) -> bool:
    """Per run (--no-cache wins), then per component, then per pipeline."""
    if run_override is False:
        return False
    if node.enable_cache is not None:
        return node.enable_cache
    return True if run_override else pipeline_default


def lookup_cache(md: Metadata, node: NodeIR, key: str) -> dict[str, list[Any]] | None:
    """Outputs of an earlier COMPLETE execution with this key, if all are LIVE and on disk."""
    ctx = md.get_context(CACHE, key)
    if ctx is None:
        return None
    candidates = sorted(
        (
            e.id
            for e in md.call(md.store.get_executions_by_context, ctx.id)
            if e.last_known_state == md.pb.Execution.COMPLETE
        ),
        reverse=True,
    )
    for _ex_id, outs in sorted(outputs_of(md, candidates[:3]).items(), reverse=True):
        if set(outs) != set(node.outputs):
            continue
        arts = [a for v in outs.values() for a in v]
        if all(a.state == md.pb.Artifact.LIVE and os.path.exists(a.uri) for a in arts):
            return outs
    return None


def new_execution(md: Metadata, handle: RunHandle, node: NodeIR, state: int, **props: Any) -> Any:
    """An execution proto of the node's type, carrying node and run ids."""
    ex = md.pb.Execution(type_id=md.execution_type_id(node.component_type), last_known_state=state)
    for k, v in {
        "node_id": node.id,
        "run_id": handle.run_id,
        "pipeline_name": handle.ir.pipeline_name,
        **props,
    }.items():
        if v is not None:
            set_value(ex.custom_properties[k], v)
    return ex


def input_events(md: Metadata, inputs: dict[str, list[Any]]) -> list[tuple[Any, Any]]:
    """(artifact, INPUT event) pairs for put_execution, one per artifact."""
    return events_by_artifact(md, md.pb.Event.INPUT, inputs)


def record_cached(
    md: Metadata, handle: RunHandle, records: list[tuple[NodeIR, dict[str, list[Any]], dict[str, list[Any]], str]]
) -> list[int]:
    """Records CACHED executions (node, inputs, reused outputs, cache key) pointing at existing
    artifacts: one transaction for the executions and events, one for their node associations,
    however many records there are."""
    executions, edges = [], []
    for i, (node, inputs, outputs, key) in enumerate(records):
        executions.append(new_execution(md, handle, node, md.pb.Execution.CACHED, cache_key=key))
        for kind, arts_by_key in ((md.pb.Event.INPUT, inputs), (md.pb.Event.OUTPUT, outputs)):
            for a, ev in events_by_artifact(md, kind, arts_by_key):
                ev.artifact_id = a.id
                edges.append((i, None, ev))
    ex_ids, _, _ = md.call(
        md.store.put_lineage_subgraph, executions, [], [handle.pipeline_context, handle.run_context], edges
    )
    associations = [
        md.pb.Association(execution_id=ex_id, context_id=handle.node_contexts[node.id].id)
        for ex_id, (node, *_rest) in zip(ex_ids, records, strict=True)
    ]
    md.call(md.store.put_attributions_and_associations, [], associations)
    return list(ex_ids)


def new_output_artifact(node: NodeIR, key: str, uri: str, handle: RunHandle) -> Artifact:
    """A PENDING output artifact of the declared type, carrying TFX's system custom properties
    `producer_component` (the node id) and `pipeline_name`, as TFX's artifacts do."""
    type_ir = node.outputs[key].artifact_type
    art = artifact_class(type_ir.name)()
    if art.TYPE_NAME != type_ir.name:
        object.__setattr__(art, "TYPE_NAME", type_ir.name)
    art.uri = uri
    art.state = ArtifactState.PENDING
    art.producer_component = node.id
    art.pipeline_name = handle.ir.pipeline_name
    return art


def register_execution(
    md: Metadata,
    handle: RunHandle,
    node: NodeIR,
    inputs: dict[str, list[Any]],
    key: str | None,
    launcher: str | None = None,
    input_fingerprint: str | None = None,
) -> tuple[Any, dict[str, list[Artifact]]]:
    """Registers a RUNNING execution with its INPUT events and PENDING outputs; one write. It carries
    the cache key, the launcher (host:pid) and the fingerprint of the files the node declares.

    Output URIs are `{pipeline_root}/{node_id}/{output_key}/{attempt}` with a fresh attempt
    id, so a retry never writes into a directory an earlier attempt wrote; a value artifact's URI is
    the file `value` in that folder, as TFX lays it out (headrace.launcher.layout).
    """
    attempt = secrets.token_hex(6)
    ex = new_execution(
        md,
        handle,
        node,
        md.pb.Execution.RUNNING,
        cache_key=key,
        attempt=attempt,
        launcher=launcher,
        input_fingerprint=input_fingerprint,
        # what the step asked of the machine (with_resources): honoured by Kubeflow and Airflow, recorded here
        resources=json.dumps(node.resources, sort_keys=True) if node.resources else None,
        timeout_seconds=node.timeout_seconds,
    )
    root = handle.ir.pipeline_root
    outputs = {
        k: [new_output_artifact(node, k, output_uri(root, node.id, k, attempt, out.artifact_type), handle)]
        for k, out in node.outputs.items()
    }
    _check_confined(root, [a.uri for arts in outputs.values() for a in arts])
    protos = {
        k: [md.artifact_to_proto(a, node.outputs[k].artifact_type.properties) for a in arts]
        for k, arts in outputs.items()
    }
    pairs = input_events(md, inputs) + [
        (p, event(md, md.pb.Event.OUTPUT, k, i)) for k, ps in protos.items() for i, p in enumerate(ps)
    ]
    ex_id, art_ids, _ = md.call(md.store.put_execution, ex, pairs, handle.contexts_for(node.id))
    ex.id = ex_id
    out_ids = iter(art_ids[len(pairs) - sum(len(v) for v in protos.values()) :])
    for arts in outputs.values():
        for a in arts:
            a.id = next(out_ids)
            # Whatever already sits at this attempt's path (a root kept over a recreated store, a guessed
            # attempt id) is a leftover and must never be published as part of this attempt's output. A
            # container's command gets the output URI and may write a file there (`grep ... > "$3"`), so for
            # container components only the parent exists, as KFP's launcher leaves it.
            prepare_output(a.uri, is_value_type(a.type_name), file_or_folder=node.kind == "container")
    return ex, outputs


def _check_confined(root: str, uris: list[str]) -> None:
    """Output folders are made only inside the pipeline root: a symlink planted in it that points
    elsewhere (root/<node> -> /somewhere) is refused before anything is created through it."""
    real_root = os.path.realpath(root) + os.sep
    for uri in uris:
        real = os.path.realpath(uri)
        if not (real + os.sep).startswith(real_root):
            raise HeadraceError(
                f"Output folder {uri} resolves to {real}, outside the pipeline root {root} (a symlink in the "
                "pipeline root points out of it). Remove the symlink, or make the pipeline root itself point there."
            )
