"""The Models page: the registry `headrace models list` shows, read from ML Metadata: each model's pushed
versions (and rollbacks), their blessing, where each went, which run pushed it and, through its lineage,
from which model and data; the version TensorFlow Serving serves (the highest on disk) is marked or,
with aliases (champion, challenger...), the versions they point at, and every alias change: who, when,
why."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from headrace.ui.render import page
from headrace.ui.store import Store


def models_page(request: Request) -> Response:
    """GET /models"""
    from headrace.components.serving.model_registry import pushed_versions
    from headrace.metadata.model_aliases import alias_history

    store: Store = request.app.state.store
    with store.reader() as reader:
        versions = pushed_versions(reader.md)
        history = alias_history(reader.md)
    models: dict[str, list] = {}
    for p in sorted(versions, key=lambda p: (p.model_name, -p.version)):
        models.setdefault(p.model_name, []).append(p)
    changes: dict[str, list] = {}
    aliases: dict[str, dict[str, int]] = {}
    for c in history:
        changes.setdefault(c.model_name, []).insert(0, c)  # newest first
        now = aliases.setdefault(c.model_name, {})
        if c.version is None:
            now.pop(c.alias, None)
        else:
            now[c.alias] = c.version
    return page(request, "models.html", "Models", models=models, aliases=aliases, changes=changes)


ROUTES = [Route("/models", models_page, name="models")]
