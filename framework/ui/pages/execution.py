"""A node's execution: its inputs and outputs, parameters, the parts of its cache key, every attempt of
the node in its run, and the step's log."""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from headrace.errors import NotInStoreError
from headrace.launcher.cache import cache_key_parts
from headrace.types.canonical_json import dumps_canonical
from headrace.ui.files import read_tail
from headrace.ui.render import found, page
from headrace.ui.store import Store

_LOG_BYTES = 256 * 1024  # the end of a long log; the whole file is one click away


def execution_page(request: Request) -> Response:
    """GET /executions/{execution_id}"""
    execution_id = request.path_params["execution_id"]
    store: Store = request.app.state.store
    with store.reader() as reader:
        e = found(reader.execution, execution_id)
        run_id = str(e.properties.get("run_id", ""))
        ir = node = root = None
        attempts = []
        if run_id:
            try:
                ir = store.run_ir(reader, run_id)
                root = store.pipeline_root(reader, run_id)
                attempts = [x for x in reader.executions(run_id) if x.node_id == e.node_id]
            except NotInStoreError:
                ir = None  # the run context is gone: the execution is shown on its own
        node = next((n for n in ir.nodes if n.id == e.node_id), None) if ir is not None else None
    parts = key_matches = None
    if node is not None:
        input_ids = {k: [a.id for a in arts] for k, arts in e.inputs.items()}
        recorded_fp = e.properties.get("input_fingerprint")
        if not node.file_inputs or recorded_fp:
            parts = cache_key_parts(node, input_ids, str(recorded_fp) if recorded_fp else None)
            digest = hashlib.sha256(dumps_canonical(parts).encode()).hexdigest()
            key_matches = digest == e.properties.get("cache_key") if e.properties.get("cache_key") else None
    log = read_tail(root, str(e.properties.get("log", "")), _LOG_BYTES) if root else None
    return page(
        request,
        "execution.html",
        f"{e.node_id} #{e.id}",
        e=e,
        run_id=run_id,
        node=node,
        parts=parts,
        key_matches=key_matches,
        attempts=attempts,
        log=log,
    )


ROUTES = [Route("/executions/{execution_id:int}", execution_page, name="execution")]
