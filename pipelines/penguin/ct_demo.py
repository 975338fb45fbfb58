"""Continuous training, end to end: three spans arrive one by one in the landing folder, and the
continuous-training pipeline (ct_pipeline.py) runs after each.

    .venv/bin/python pipelines/penguin/ct_demo.py

span-1: no model in service yet, so one is trained, pushed as the challenger and promoted to champion.
span-2: the same population: nothing drifted, Trainer, Evaluator and Pusher are SKIPPED.
span-3: measured on a new scale: body mass and flipper length drifted, a model is retrained, evaluated
against the champion and, blessed, promoted. Outputs under $HEADRACE_HOME/penguin_ct (headrace_runs).
"""

from __future__ import annotations

import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ct_pipeline

from headrace import LocalDagRunner
from headrace.metadata import Metadata, sqlite_metadata_connection_config
from headrace.metadata.model_aliases import current_aliases


def main() -> None:
    root, landing = ct_pipeline.ROOT, ct_pipeline.LANDING
    for span in ("span-1", "span-2", "span-3"):
        target = os.path.join(landing, span)
        if not os.path.isdir(target):
            shutil.copytree(os.path.join(ct_pipeline.SPANS, span), target)  # the new span lands
        print(f"\n== {span} arrived in {landing}", flush=True)
        result = LocalDagRunner().run(ct_pipeline.create_pipeline(landing, root))
        [why] = result.nodes["RetrainDecision"].outputs["why"]
        with open(why) as f:
            print(f"decision: {f.read()}")
        md = Metadata(sqlite_metadata_connection_config(os.path.join(root, "metadata.sqlite")))
        aliases = {a: c.version for a, c in current_aliases(md, ct_pipeline.MODEL_NAME).items()}
        print(f"model '{ct_pipeline.MODEL_NAME}' in service: {aliases or 'none'}")


if __name__ == "__main__":
    main()
