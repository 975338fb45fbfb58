"""`headrace ui`: a local, read-only web UI over ML Metadata and the artifact files.

Only the `headrace ui` command imports this package (it needs the `[ui]` extra: Starlette, uvicorn,
Jinja2); `import headrace` and the other commands never load it. Its parts, one concern each:

- ``app``: the ASGI application, assembled from the pages' route tables and the security layer;
- ``server``: binding, the access token, the printed URL, uvicorn;
- ``security``: the token check, response headers, and which files may be served;
- ``store``: read-only ML Metadata handles (a small pool) and what the pages read through them;
- ``render``: the one page layout, escaping and formatting helpers (every page goes through it);
- ``charts``: line charts as geometry, drawn as SVG by the templates;
- ``graph``: graphs (a pipeline's DAG, a lineage) drawn as SVG by Graphviz's ``dot``;
- ``files``: reading logs and listing folders, inside a pipeline root only;
- ``signature``: a SavedModel's serving signatures, read from its wire format (no TensorFlow);
- ``pages``: one module per page (runs, run, execution, artifact, lineage, models, compare, metrics),
  each with its ``ROUTES``.
"""
