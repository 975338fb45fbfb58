"""An artifact: type, URI, state, properties, its producer and consumers, and what a person looks at:
the HTML report a headrace component wrote (inline, in a sandboxed frame), a value artifact's value, a
Model's training metrics and serving signatures, and the files in its folder.

Files are served only from inside the artifact's URI and inside the pipeline root of the run that
produced it (`security.resolve_inside`), always with a sandboxing Content-Security-Policy: even opened
on its own, a served file runs in an opaque origin and reads nothing of the UI's. HTML, SVG and XML
files other than the component's report are served as downloads, never rendered.
"""

from __future__ import annotations

import os
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from headrace.errors import NotInStoreError
from headrace.metadata import ArtifactInfo, MetadataReader
from headrace.types.artifact import ValueArtifact, value_file
from headrace.ui.files import listing
from headrace.ui.render import error_page, found, page, url
from headrace.ui.security import FILE_POLICY, resolve_inside
from headrace.ui.signature import SignatureError, find_saved_model, signatures
from headrace.ui.store import Store

REPORT = "report.html"  # where headrace's components write an artifact's report (headrace.components.reports)
_TEXT = {".txt", ".json", ".csv", ".tsv", ".pbtxt", ".log", ".py", ".md", ".yaml", ".yml", ".cfg", ".ini"}
_IMAGES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}
METRIC_PREFIX = "metric:"  # a Model's training metrics, as the Trainer records them


def _served_root(store: Store, reader: MetadataReader, artifact_id: int) -> str | None:
    """The pipeline root of the run that produced the artifact, or None (no producer recorded)."""
    run_id = store.producer_run(reader, artifact_id)
    if run_id is None:
        return None
    try:
        return store.pipeline_root(reader, run_id)
    except NotInStoreError:
        return None


def _value(reader: MetadataReader, a: ArtifactInfo, root: str | None) -> tuple[bool, Any]:
    """(True, value) for a value artifact whose value can be read, through headrace's ValueArtifact
    API: the value recorded in the store, else its file if that lies inside the pipeline root."""
    [proto] = reader.md.call(reader.md.store.get_artifacts_by_id, [a.id])
    art = reader.md.artifact_from_proto(proto)
    if not isinstance(art, ValueArtifact) or a.state != "LIVE":
        return False, None
    if "value" not in a.custom_properties:
        inside = root is not None and resolve_inside(root, os.path.relpath(a.uri, root)) is not None
        if not inside or not os.path.exists(a.uri):
            return False, None
        size = os.path.getsize(value_file(a.uri)) if os.path.exists(value_file(a.uri)) else 0
        if size > ValueArtifact.ADOPTED_MAX_BYTES:
            return True, f"({size} bytes: too big to show; see its file)"
    try:
        return True, art.value
    except (OSError, ValueError) as e:
        return True, f"(unreadable: {e})"


def artifact_page(request: Request) -> Response:
    """GET /artifacts/{artifact_id}"""
    artifact_id = request.path_params["artifact_id"]
    store: Store = request.app.state.store
    with store.reader() as reader:
        a = found(reader.artifact, artifact_id)
        producers, consumers = reader.producers_and_consumers(artifact_id)
        root = _served_root(store, reader, artifact_id)
        has_value, value = _value(reader, a, root)
    folder = resolve_inside(root, os.path.relpath(a.uri, root)) if root else None
    folder = folder if folder is not None and os.path.isdir(folder) else None
    files, more = listing(folder) if folder else ([], False)
    report = folder is not None and os.path.isfile(os.path.join(folder, REPORT))
    metrics = {k[len(METRIC_PREFIX) :]: v for k, v in a.custom_properties.items() if k.startswith(METRIC_PREFIX)}
    saved_model = find_saved_model(folder) if folder and a.type_name == "Model" else None
    try:
        model_signatures, signature_error = (signatures(saved_model) if saved_model else []), None
    except (SignatureError, OSError) as e:
        model_signatures, signature_error = [], f"{os.path.relpath(saved_model or '', folder or '')}: {e}"
    return page(
        request,
        "artifact.html",
        f"{a.type_name} #{a.id}",
        a=a,
        producers=producers,
        consumers=consumers,
        has_value=has_value,
        value=value,
        metrics=metrics,
        signatures=model_signatures,
        signature_error=signature_error,
        report_url=url(request, "artifact_report", artifact_id=a.id) if report else None,
        files=[(name, size, _file_url(request, a.id, name)) for name, size in files],
        more_files=more,
        served=folder is not None,
        root=root,
    )


def _file_url(request: Request, artifact_id: int, name: str) -> str:
    return url(request, "artifact_file", artifact_id=artifact_id, path=name).replace("%2F", "/")


def _serve(request: Request, relative: str, report: bool) -> Response:
    artifact_id = request.path_params["artifact_id"]
    store: Store = request.app.state.store
    with store.reader() as reader:
        a = found(reader.artifact, artifact_id)
        root = _served_root(store, reader, artifact_id)
    path = resolve_inside(a.uri, relative, root) if root else None
    if path is None or not os.path.isfile(path):
        return error_page(
            request, 404, f"No file {relative!r} inside artifact #{artifact_id}'s folder in its pipeline root."
        )
    headers = {"content-security-policy": FILE_POLICY, "cache-control": "no-store"}
    ext = os.path.splitext(path)[1].lower()
    if report:
        return FileResponse(path, media_type="text/html; charset=utf-8", headers=headers)
    if ext in _TEXT:
        return FileResponse(path, media_type="text/plain; charset=utf-8", headers=headers)
    if ext in _IMAGES:
        return FileResponse(path, media_type=_IMAGES[ext], headers=headers)
    # Anything else (HTML or SVG headrace did not write, binaries) is a download, never a page here.
    return FileResponse(path, media_type="application/octet-stream", filename=os.path.basename(path), headers=headers)


def artifact_report(request: Request) -> Response:
    """GET /artifacts/{artifact_id}/report: the report.html a headrace component wrote in the folder."""
    return _serve(request, REPORT, report=True)


def artifact_file(request: Request) -> Response:
    """GET /artifacts/{artifact_id}/files/{path}: a file inside the artifact's folder."""
    return _serve(request, request.path_params["path"], report=False)


ROUTES = [
    Route("/artifacts/{artifact_id:int}", artifact_page, name="artifact"),
    Route("/artifacts/{artifact_id:int}/report", artifact_report, name="artifact_report"),
    Route("/artifacts/{artifact_id:int}/files/{path:path}", artifact_file, name="artifact_file"),
]
