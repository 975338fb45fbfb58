"""The penguin main job's continuous-training form: data arrives as spans, and a model is retrained only
when the data has moved away from what the model in service learnt (or when that model is old).

    headrace run pipelines/penguin/ct_pipeline.py          # one run over the newest span in the landing folder
    .venv/bin/python pipelines/penguin/ct_demo.py          # three spans arrive one by one: both outcomes

Each run reads the newest span (`span-N/*.csv` under the landing folder, $HEADRACE_CT_DATA, by default
headrace_runs/penguin_ct/landing):

CsvExampleGen (the newest span) -> StatisticsGen -> ExampleValidator (against the curated schema in
schema/) ; the champion (ModelAliasStrategy: the model in service and the examples it was trained on)
-> DistributionValidator (this span against those examples: KS per measurement, Bonferroni-corrected)
-> RetrainDecision: retrain when a feature drifted, when there is no champion yet, or when the champion
is older than max_age_days; its `why` names the features and their p-values, or says why not.
Only then (Cond): Trainer -> Evaluator (against the champion as baseline) -> Pusher, which pushes the
model as the challenger and promotes it to champion when the Evaluator blessed it (TF Serving's
model_server.config and KServe's inferenceservice.yaml follow, in serving_model/penguin/). Otherwise
Trainer, Evaluator and Pusher are SKIPPED and the champion stays in service.
"""

from __future__ import annotations

import os

from headrace import (
    Cond,
    Importer,
    InputArtifact,
    ModelAliasStrategy,
    OutputArtifact,
    Parameter,
    Pipeline,
    Resolver,
    component,
)
from headrace.components import (
    CsvExampleGen,
    DistributionValidator,
    Evaluator,
    ExampleValidator,
    Pusher,
    StatisticsGen,
    Trainer,
)
from headrace.types import Channel, standard_artifacts

HERE = os.path.dirname(os.path.abspath(__file__))
HOME = os.environ.get("HEADRACE_HOME", "headrace_runs")
ROOT = os.environ.get("HEADRACE_ROOT") or os.path.join(HOME, "penguin_ct")
LANDING = os.environ.get("HEADRACE_CT_DATA") or os.path.join(HOME, "penguin_ct", "landing")
SPANS = os.path.join(HERE, "spans")  # span-1 and span-2 alike, span-3 measured on a new scale (drifted)
SCHEMA = os.path.join(HERE, "schema")
FEATURES = ["culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g"]
MODEL_NAME = "penguin"

EVAL_CONFIG = {
    "model_specs": [{"label_key": "species"}],
    "slicing_specs": [{}],
    "metrics_specs": [
        {
            "metrics": [
                {"class_name": "ExampleCount"},
                {
                    "class_name": "SparseCategoricalAccuracy",
                    "threshold": {
                        "value_threshold": {"lower_bound": {"value": 0.6}},
                        # no worse than the champion on this span (a small tolerance: the span is small)
                        "change_threshold": {"direction": "HIGHER_IS_BETTER", "absolute": {"value": -0.05}},
                    },
                },
            ]
        }
    ],
}


@component
def RetrainDecision(
    drift: InputArtifact[standard_artifacts.ExampleAnomalies],
    retrain: OutputArtifact[standard_artifacts.Boolean],
    why: OutputArtifact[standard_artifacts.String],
    champion: InputArtifact[standard_artifacts.Model] = None,
    max_age_days: Parameter[float] = 30.0,
) -> None:
    """Whether to retrain, and why (also the run summary's line): the data drifted from the champion's
    training data (the features and their p-values), there is no champion, or the champion is older
    than `max_age_days`."""
    import json
    import time

    decision, reason = True, "retrain: no model in service yet"
    if champion is not None:
        with open(os.path.join(drift.uri, "drift.json")) as f:
            rows = json.load(f)["rows"]
        worst: dict[str, float] = {}
        for r in rows:
            if r["drifted"] and (r["feature"] not in worst or r["p_value"] < worst[r["feature"]]):
                worst[r["feature"]] = r["p_value"]
        # Trained when the Trainer said so (a copy, a restore or a rollback keeps it); a model from
        # elsewhere (an Importer) has only its folder's time.
        trained_s = champion.get_custom_property("trained_at_ms", 0) / 1000 or os.path.getmtime(champion.uri)
        age_days = (time.time() - trained_s) / 86400
        if worst:
            named = ", ".join(f"{k} (p={v:.2g})" for k, v in sorted(worst.items(), key=lambda kv: kv[1]))
            reason = f"retrain: the data drifted from the champion's training data: {named}"
        elif age_days > max_age_days:
            reason = f"retrain: the champion is {age_days:.1f} days old (> {max_age_days:g})"
        else:
            tested = [r for r in rows if r["p_value"] is not None]
            low = min(tested, key=lambda r: r["p_value"], default=None)
            p = f" (lowest p={low['p_value']:.2g}: {low['feature']})" if low is not None else ""
            decision = False
            reason = f"no retrain: no feature drifted{p}, the champion is {age_days:.1f} days old (<= {max_age_days:g})"
    retrain.value, why.value = decision, reason
    why.set_custom_property("summary", reason)  # the run summary's line for this node


def create_pipeline(
    data: str = LANDING, root: str = ROOT, max_age_days: float = 30.0, train_steps: int = 100
) -> Pipeline:
    """The continuous-training pipeline over the spans in `data`."""
    example_gen = CsvExampleGen(
        input_base=data, input_config={"splits": [{"name": "all", "pattern": "span-{SPAN}/*.csv"}]}
    )
    statistics = StatisticsGen(examples=example_gen.outputs["examples"])
    schema = Importer(source_uri=SCHEMA, artifact_type=standard_artifacts.Schema).with_id("schema")
    validator = ExampleValidator(
        statistics=statistics.outputs["statistics"], schema=schema.outputs["result"], fail_on_anomalies=True
    )
    champion = Resolver(
        strategy_class=ModelAliasStrategy,
        config={"model_name": MODEL_NAME, "alias": "champion"},
        model=Channel(type=standard_artifacts.Model),
        examples=Channel(type=standard_artifacts.Examples),
    ).with_id("champion")
    champion.add_upstream_node(example_gen)  # resolved when this span's examples exist
    drift = DistributionValidator(
        examples=example_gen.outputs["examples"],
        baseline_examples=champion.outputs["examples"],
        features=FEATURES,
        significance_level=0.01,
        bonferroni=True,
    )
    decide = RetrainDecision(
        drift=drift.outputs["anomalies"], champion=champion.outputs["model"], max_age_days=max_age_days
    )
    decide.add_upstream_node(validator)  # no decision, and no training, on data that failed validation
    with Cond(decide.outputs["retrain"].future()[0].value == True):  # noqa: E712 -- a predicate, not a test
        trainer = Trainer(
            module_file=os.path.join(HERE, "penguin_trainer.py"),
            examples=example_gen.outputs["examples"],
            schema=schema.outputs["result"],
            train_args={"num_steps": train_steps},
            eval_args={"num_steps": 5},
            keras_version=3,
        )
        evaluator = Evaluator(
            examples=example_gen.outputs["examples"],
            model=trainer.outputs["model"],
            baseline_model=champion.outputs["model"],
            eval_config=EVAL_CONFIG,
        )
        pusher = Pusher(
            model=trainer.outputs["model"],
            model_blessing=evaluator.outputs["blessing"],
            push_destination={"filesystem": {"base_directory": os.path.join(root, "serving_model")}},
            custom_config={"model_name": MODEL_NAME, "alias": "challenger", "promote": True},
        )
    nodes = [example_gen, statistics, schema, validator, champion, drift, decide, trainer, evaluator, pusher]
    return Pipeline("penguin_ct", root, nodes)
