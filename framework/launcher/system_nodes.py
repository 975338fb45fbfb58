"""How the launcher runs the system nodes `Importer` and `Resolver` (no executor process)."""

from __future__ import annotations

import os
from typing import Any

from headrace.compiler.ir import NodeIR
from headrace.errors import HeadraceError
from headrace.fingerprint import content_fingerprint
from headrace.launcher.driver import new_execution, producer_outputs
from headrace.launcher.runs import RunHandle
from headrace.metadata.model_aliases import current_aliases
from headrace.metadata.store import Metadata
from headrace.metadata.values import event, event_keys, get_value, set_value

SOURCE_FINGERPRINT = "source_fingerprint"  # custom property: the imported files' fingerprint


def run_importer(
    md: Metadata, handle: RunHandle, node: NodeIR, record_cached: bool = True
) -> tuple[int, dict[str, list[Any]], bool]:
    """Registers the source URI as a LIVE artifact (reusing an identical one unless `reimport`).
    Returns the execution id, the outputs, and whether an existing artifact was reused (the
    execution is then recorded CACHED when caching is on for the node)."""
    p = node.parameters
    type_ir = node.outputs["result"].artifact_type
    type_id = md.artifact_type_id(type_ir.name, type_ir.properties)
    props, custom = p.get("properties") or {}, p.get("custom_properties") or {}
    # A local source's files (names, sizes, times): an artifact registered for other content is not
    # reused, else a node reading it would hit a cache entry made from the old files.
    fingerprint = content_fingerprint([p["source_uri"]]) if os.path.exists(p["source_uri"]) else None
    artifact = None
    if not p.get("reimport"):
        for a in md.call(md.store.get_artifacts_by_uri, p["source_uri"]):
            found = {k: get_value(v) for k, v in a.custom_properties.items()}
            if (
                a.type_id == type_id
                and a.state == md.pb.Artifact.LIVE
                and {k: get_value(v) for k, v in a.properties.items()} == props
                and found.pop(SOURCE_FINGERPRINT, None) == fingerprint
                and found == custom
            ):
                artifact = a if artifact is None or a.id > artifact.id else artifact
    reused = artifact is not None
    if artifact is None:
        artifact = md.pb.Artifact(type_id=type_id, uri=p["source_uri"], state=md.pb.Artifact.LIVE)
        for k, v in props.items():
            set_value(artifact.properties[k], v)
        for k, v in custom.items():
            set_value(artifact.custom_properties[k], v)
        if fingerprint is not None:
            set_value(artifact.custom_properties[SOURCE_FINGERPRINT], fingerprint)
    state = md.pb.Execution.CACHED if reused and record_cached else md.pb.Execution.COMPLETE
    ex = new_execution(md, handle, node, state)
    ex_id, [art_id], _ = md.call(
        md.store.put_execution,
        ex,
        [(artifact, event(md, md.pb.Event.OUTPUT, "result", 0))],
        handle.contexts_for(node.id),
    )
    artifact.id = art_id
    handle.published[node.id] = ex_id
    return ex_id, {"result": [artifact]}, reused


def _candidates(md: Metadata, handle: RunHandle, node: NodeIR, key: str) -> list[Any]:
    spec = node.inputs[key]
    if spec.producer:
        produced = producer_outputs(md, handle, {spec.producer})[spec.producer]
        arts = produced.get(spec.output_key or "", []) if produced else []
    else:
        type_id = md.artifact_type_id(spec.artifact_type.name, spec.artifact_type.properties)
        arts = [
            a for a in md.call(md.store.get_artifacts_by_context, handle.pipeline_context.id) if a.type_id == type_id
        ]
    return [a for a in arts if a.state == md.pb.Artifact.LIVE]


def _span_range(arts: list[Any], config: dict[str, Any]) -> list[Any]:
    """The artifacts of the configured spans, the latest version (then newest) of each, by span."""
    by_span: dict[int, Any] = {}
    for a in arts:
        if "span" not in a.properties:
            continue
        span = int(get_value(a.properties["span"]))
        version = int(get_value(a.properties["version"])) if "version" in a.properties else 0
        best = by_span.get(span)
        if best is None or (version, a.id) > best[0]:
            by_span[span] = ((version, a.id), a)
    spans = sorted(by_span)
    if "static_range" in config:
        r = config["static_range"]
        chosen = [s for s in spans if r.get("start_span_number", 0) <= s <= r.get("end_span_number", 0)]
    else:
        r = config.get("rolling_range", {})
        eligible = [s for s in spans if s >= r.get("start_span_number", 0)]
        kept = eligible[: max(0, len(eligible) - r.get("skip_num_recent_spans", 0))]
        chosen = kept[-r.get("num_spans", 1) :] if kept else []
    return [by_span[s][1] for s in chosen]


def aliased_model(md: Metadata, model_name: str, alias: str) -> Any | None:
    """The LIVE Model the version `alias` points at was pushed from, or None: the alias is unset, or
    the push had no Model input (a warmed-up model from an InfraBlessing). A rollback's version is
    followed back to the push it copied."""
    change = current_aliases(md, model_name).get(alias)
    artifact_id = change.pushed_artifact_id if change is not None else None
    for _ in range(100):  # a rollback of a rollback ...: never a cycle, but bounded all the same
        if artifact_id is None:
            return None
        made = [e for e in md.call(md.store.get_events_by_artifact_ids, [artifact_id]) if e.type == md.pb.Event.OUTPUT]
        if not made:
            return None
        inputs = md.call(md.store.get_events_by_execution_ids, [min(e.execution_id for e in made)])
        keyed = {event_keys(e)[0][0]: e.artifact_id for e in inputs if e.type == md.pb.Event.INPUT and event_keys(e)}
        if "model" in keyed:
            [model] = md.call(md.store.get_artifacts_by_id, [keyed["model"]])
            return model if model.state == md.pb.Artifact.LIVE else None
        artifact_id = keyed.get("pushed_model")  # a rollback: the push it copied
    return None


def trained_on(md: Metadata, model: Any) -> list[Any]:
    """The LIVE Examples the execution that made `model` read as its `examples` input."""
    made = [e for e in md.call(md.store.get_events_by_artifact_ids, [model.id]) if e.type == md.pb.Event.OUTPUT]
    if not made:
        return []
    inputs = md.call(md.store.get_events_by_execution_ids, [min(e.execution_id for e in made)])
    ids = [
        e.artifact_id for e in inputs if e.type == md.pb.Event.INPUT and any(k == "examples" for k, _ in event_keys(e))
    ]
    return [a for a in md.call(md.store.get_artifacts_by_id, ids) if a.state == md.pb.Artifact.LIVE] if ids else []


def run_resolver(md: Metadata, handle: RunHandle, node: NodeIR) -> tuple[int, dict[str, list[Any]]]:
    """Picks artifacts by the node's strategy and records them as the node's outputs."""
    strategy = node.parameters["strategy"]
    found = {key: _candidates(md, handle, node, key) for key in node.inputs}
    resolved: dict[str, list[Any]]
    if strategy == "latest_artifact":
        resolved = {k: [max(arts, key=lambda a: a.id)] if arts else [] for k, arts in found.items()}
    elif strategy == "latest_blessed_model":
        # Never the candidate: a model an upstream node of the Resolver produced in this run (a
        # cached Trainer's model may be the latest blessed one; comparing it with itself says nothing).
        produced = producer_outputs(md, handle, set(node.upstream))
        candidates = {a.id for outs in produced.values() if outs for arts in outs.values() for a in arts}
        found = {k: [a for a in arts if a.id not in candidates] for k, arts in found.items()}
        model_key = next(k for k, s in node.inputs.items() if s.artifact_type.name == "Model")
        blessing_key = next(k for k, s in node.inputs.items() if s.artifact_type.name == "ModelBlessing")
        blessings: dict[int, Any] = {}
        for b in found[blessing_key]:
            c = b.custom_properties
            if "blessed" in c and get_value(c["blessed"]) in (1, True) and "current_model_id" in c:
                model_id = get_value(c["current_model_id"])
                if model_id not in blessings or b.id > blessings[model_id].id:
                    blessings[model_id] = b
        models = [m for m in found[model_key] if m.id in blessings]
        best = max(models, key=lambda m: m.id) if models else None
        resolved = {model_key: [best] if best else [], blessing_key: [blessings[best.id]] if best else []}
    elif strategy == "model_alias":
        keys = {s.artifact_type.name: k for k, s in node.inputs.items()}
        config = node.parameters["config"]
        found_model = aliased_model(md, config["model_name"], config["alias"])
        resolved = {keys["Model"]: [found_model] if found_model is not None else []}
        if "Examples" in keys:
            resolved[keys["Examples"]] = trained_on(md, found_model) if found_model is not None else []
    elif strategy == "span_range":
        resolved = {k: _span_range(arts, node.parameters.get("config") or {}) for k, arts in found.items()}
    else:
        raise HeadraceError(f"Unknown resolver strategy {strategy!r} in node '{node.id}'.")
    ex = new_execution(md, handle, node, md.pb.Execution.COMPLETE)
    pairs = [(a, event(md, md.pb.Event.OUTPUT, k, i)) for k, arts in resolved.items() for i, a in enumerate(arts)]
    ex_id, _, _ = md.call(md.store.put_execution, ex, pairs, handle.contexts_for(node.id))
    handle.published[node.id] = ex_id
    return ex_id, resolved
