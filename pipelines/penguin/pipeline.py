"""The main job: the penguin classifier, trained, evaluated against the model in production,
checked for serving, pushed as a new version, and used for batch predictions.

    headrace run pipelines/penguin/pipeline.py

CsvExampleGen -> StatisticsGen -> SchemaGen -> ExampleValidator -> Trainer -> Evaluator (baseline:
the latest blessed model, through a Resolver) -> InfraValidator -> Pusher (only if blessed), and
BulkInferrer over the examples with the blessed model.
"""

from __future__ import annotations

import os

from headrace import Cond, LatestBlessedModelStrategy, Pipeline, Resolver
from headrace.components import (
    BulkInferrer,
    CsvExampleGen,
    Evaluator,
    ExampleValidator,
    InfraValidator,
    Pusher,
    SchemaGen,
    StatisticsGen,
    Trainer,
)
from headrace.types import Channel, standard_artifacts

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "processed")
# $HEADRACE_ROOT, else penguin/ under $HEADRACE_HOME (headrace_runs by default), as the other examples.
ROOT = os.environ.get("HEADRACE_ROOT") or os.path.join(os.environ.get("HEADRACE_HOME", "headrace_runs"), "penguin")

EVAL_CONFIG = {
    "model_specs": [{"label_key": "species"}],
    "slicing_specs": [{}, {"feature_keys": ["species"]}],
    "metrics_specs": [
        {
            "metrics": [
                {"class_name": "ExampleCount"},
                {
                    "class_name": "SparseCategoricalAccuracy",
                    "threshold": {
                        "value_threshold": {"lower_bound": {"value": 0.6}},
                        "change_threshold": {"direction": "HIGHER_IS_BETTER", "absolute": {"value": -1e-10}},
                    },
                },
            ]
        }
    ],
}


def create_pipeline(
    data: str = DATA,
    root: str = ROOT,
    train_steps: int = 100,
    eval_config: dict | None = None,
    module_file: str = os.path.join(HERE, "penguin_trainer.py"),
) -> Pipeline:
    """The penguin pipeline; `eval_config` overrides the blessing thresholds, `module_file` the trainer."""
    example_gen = CsvExampleGen(input_base=data)
    statistics = StatisticsGen(examples=example_gen.outputs["examples"])
    schema = SchemaGen(statistics=statistics.outputs["statistics"])
    validator = ExampleValidator(
        statistics=statistics.outputs["statistics"], schema=schema.outputs["schema"], fail_on_anomalies=True
    )
    trainer = Trainer(
        module_file=module_file,
        examples=example_gen.outputs["examples"],
        schema=schema.outputs["schema"],
        train_args={"num_steps": train_steps},
        eval_args={"num_steps": 5},
        keras_version=3,
    )
    trainer.add_upstream_node(validator)  # no training on data that failed validation
    baseline = Resolver(
        strategy_class=LatestBlessedModelStrategy,
        model=Channel(type=standard_artifacts.Model),
        model_blessing=Channel(type=standard_artifacts.ModelBlessing),
    ).with_id("latest_blessed_model_resolver")
    baseline.add_upstream_node(trainer)  # the baseline is never this run's candidate (re-runs stay cached)
    evaluator = Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=baseline.outputs["model"],
        eval_config=eval_config or EVAL_CONFIG,
    )
    infra = InfraValidator(
        model=trainer.outputs["model"],
        examples=example_gen.outputs["examples"],
        request_spec={"num_examples": 10},
    )
    with Cond(evaluator.outputs["blessing"].future()[0].custom_property("blessed") == 1):
        pusher = Pusher(
            model=trainer.outputs["model"],
            model_blessing=evaluator.outputs["blessing"],
            infra_blessing=infra.outputs["blessing"],
            push_destination={"filesystem": {"base_directory": os.path.join(root, "serving_model")}},
            custom_config={"model_name": "penguin"},
        )
    inferrer = BulkInferrer(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
    )
    components = [example_gen, statistics, schema, validator, trainer, baseline, evaluator, infra, pusher, inferrer]
    return Pipeline("penguin", root, components)


pipeline = create_pipeline()
