"""The UI's pages, one module each; every module has ROUTES (Starlette routes, named for `url`).

A new page is a module here with its ROUTES, a template in ../templates extending base.html, and its
entry in PAGES.
"""

from __future__ import annotations

from headrace.ui.pages import artifact, compare, execution, lineage, metrics, models, run, runs

PAGES = (runs, run, execution, artifact, lineage, models, compare, metrics)

__all__ = ["PAGES"]
