"""Trainer: runs the user's `run_fn(fn_args)` from a module file, as TFX's Trainer does.

The module file is a path; it is loaded under a private module name with its folder first on
`sys.path`, so it imports its neighbours (`import penguin_utils`). Neighbours loaded by an earlier
execution in the same worker are dropped first, so an edited neighbour is seen. Its content and
that of the `.py` files it imports from its folder are part of the cache key
(`headrace.fingerprint.module_file_digest`).

Keras: TFX's module files save with Keras 2 (`model.save(path, save_format='tf')`), which the Keras
3 that TensorFlow 2.16 ships as `tf.keras` rejects. By default the executor sets
`TF_USE_LEGACY_KERAS=1` (tf.keras is then the `tf-keras` package, Keras 2, as under TFX 1.16)
unless the user's environment sets TF_USE_LEGACY_KERAS already. `keras_version=3` gives Keras 3's
`tf.keras` (save with `model.export(path)`); such a Trainer runs in a worker of its own, since a
process keeps the first `tf.keras` it resolved. TensorFlow resolves `tf.keras` on first use, not at
import, so the TFDV steps that ran before in the same worker do not fix the choice.

Recorded on the Model (custom properties): `train_steps`, `eval_steps`, `module_file_sha256`,
`keras_version`, and the final training metrics as `metric:<name>` (also in
`<model_run>/metrics.json`). Final metrics are what `run_fn` returns (a dict of numbers, or a Keras
`History`), else the last epoch of the last `Model.fit` that `run_fn` called. TensorBoard logs of
the run (its hyperparameters on the HParams dashboard, each epoch's metrics, the final ones) go into
`<model_run>/tensorboard/`: `tensorboard --logdir <pipeline root>` compares the runs.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from headrace.components import common as _common
from headrace.components.io.examples import payload_format, split_names, split_uri
from headrace.components.proto import as_dict
from headrace.components.training._keras import caller_keras_setting, choose_keras, final_metrics, watch_fit
from headrace.components.training._tensorboard import hparams_of, write_logs
from headrace.components.training.data_accessor import FnArgs, data_accessor
from headrace.components.training.errors import TrainerError
from headrace.dsl.base_component import BaseComponent
from headrace.dsl.executor import BaseExecutor, ExecutorClassSpec, ExecutorSpec
from headrace.errors import DefinitionError
from headrace.types.artifact import Artifact
from headrace.types.channel import Channel
from headrace.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter
from headrace.types.standard_artifacts import Examples, HyperParameters, Model, ModelRun, Schema

SERVING_MODEL_DIR = "Format-Serving"
EVAL_MODEL_DIR = "Format-TFMA"
KERAS3_GROUP = "tensorflow-keras3"  # a process keeps the first tf.keras it resolves: Keras 3 trains apart
_MODULE_PREFIX = "_headrace_trainer_"


class TrainerSpec(ComponentSpec):
    """Trainer's contract (TFX's names)."""

    PARAMETERS = {
        "module_file": ExecutionParameter(type=str, optional=True, fingerprint=True),
        "run_fn": ExecutionParameter(type=str, optional=True),
        "train_args": ExecutionParameter(type=dict),
        "eval_args": ExecutionParameter(type=dict),
        "custom_config": ExecutionParameter(type=dict, optional=True),
        "hyperparameters_dict": ExecutionParameter(type=dict, optional=True),
        "keras_version": ExecutionParameter(type=int, optional=True),
    }
    INPUTS = {
        "examples": ChannelParameter(type=Examples),
        "schema": ChannelParameter(type=Schema, optional=True),
        "hyperparameters": ChannelParameter(type=HyperParameters, optional=True),
    }
    OUTPUTS = {"model": ChannelParameter(type=Model), "model_run": ChannelParameter(type=ModelRun)}


# -- loading the user's code ---------------------------------------------------------------------
def _drop_modules_under(folder: str) -> None:
    """Forgets modules loaded from `folder` (a previous execution's neighbours), so edits are seen.
    Installed packages (a virtualenv inside the user's folder) and headrace itself are kept."""
    folder = os.path.realpath(folder) + os.sep
    installed = {os.path.realpath(p) + os.sep for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if not file or name.startswith("headrace"):
            continue
        real = os.path.realpath(file)
        if not real.startswith(folder) or any(real.startswith(p) for p in installed):
            continue
        if "site-packages" in real or "dist-packages" in real:
            continue
        del sys.modules[name]


def load_run_fn(module_file: str | None, run_fn: str | None) -> Callable[..., Any]:
    """The user's run function: `run_fn` (default 'run_fn') of the module file, or a dotted
    'package.module.function' importable from sys.path when there is no module file."""
    if module_file:
        if not os.path.isfile(module_file):
            raise TrainerError(f"Trainer: module_file {module_file} does not exist.")
        path = os.path.abspath(module_file)
        folder = os.path.dirname(path)
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:12]
        stem = "".join(c if c.isalnum() else "_" for c in os.path.splitext(os.path.basename(path))[0])
        name = f"{_MODULE_PREFIX}{stem}_{digest}"
        _drop_modules_under(folder)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as e:
            sys.modules.pop(name, None)
            where = f" (line {e.lineno})" if isinstance(e, SyntaxError) and e.lineno else ""
            raise TrainerError(
                f"Trainer: module_file {module_file} could not be imported{where}: {type(e).__name__}: {e}. "
                "Fix the file (its traceback is in the step's log)."
            ) from e
        except BaseException:
            sys.modules.pop(name, None)
            raise
        fn_name = (run_fn or "run_fn").rsplit(".", 1)[-1]
        fn = getattr(module, fn_name, None)
        if not callable(fn) and callable(getattr(module, "trainer_fn", None)):
            raise TrainerError(
                f"Trainer: module_file {module_file} defines TFX's estimator-based trainer_fn, which headrace "
                "does not run (TFX deprecated it); define run_fn(fn_args) that trains and saves the model to "
                "fn_args.serving_model_dir, as TFX's generic Trainer expects."
            )
        if not callable(fn):
            found = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_"))
            raise TrainerError(f"Trainer: module_file {module_file} has no function '{fn_name}' (functions: {found}).")
        return fn
    if not run_fn or "." not in run_fn:
        raise TrainerError(f"Trainer: run_fn must be 'package.module.function' without a module_file, got {run_fn!r}.")
    module_name, fn_name = run_fn.rsplit(".", 1)
    fn = getattr(importlib.import_module(module_name), fn_name, None)
    if not callable(fn):
        raise TrainerError(f"Trainer: module {module_name} has no function '{fn_name}'.")
    return fn


def _hyperparameters(input_dict: dict[str, list[Artifact]], exec_properties: dict[str, Any]) -> dict[str, Any] | None:
    """The hyperparameters: a HyperParameters artifact's `best_hyperparameters.txt` (TFX's file: a
    keras_tuner config or a plain dict as JSON), else the dict given to the component."""
    artifacts = input_dict.get("hyperparameters") or []
    if artifacts:
        path = os.path.join(artifacts[0].uri, "best_hyperparameters.txt")
        try:
            with open(path) as f:
                data = json.load(f)
        except FileNotFoundError:
            raise TrainerError(f"Trainer: the HyperParameters artifact has no {path}.") from None
        if isinstance(data, dict) and "values" in data and isinstance(data["values"], dict):
            return dict(data["values"])  # keras_tuner's HyperParameters.get_config()
        return data
    return exec_properties.get("hyperparameters_dict")


class Executor(BaseExecutor):
    """Builds `FnArgs`, calls the user's `run_fn`, checks a SavedModel was written, records params
    and final metrics (TFX's `GenericExecutor`)."""

    def Do(
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        # choose_keras sets TF_USE_LEGACY_KERAS for this step; put the caller's value back afterwards,
        # so that where the Trainer runs in the runner's own process (executor_mode='inprocess') the
        # processes it starts later (workers, kernels) do not inherit this step's choice.
        with caller_keras_setting():
            self._train(input_dict, output_dict, exec_properties)

    def _train(
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        _common.quiet_tensorflow()
        keras = choose_keras(exec_properties.get("keras_version"))
        examples = input_dict["examples"][0]
        model, model_run = output_dict["model"][0], output_dict["model_run"][0]
        train_args = exec_properties.get("train_args") or {}
        eval_args = exec_properties.get("eval_args") or {}
        known = split_names(examples)

        def files(args: dict[str, Any], default: str) -> list[str]:
            splits = list(args.get("splits") or [default])
            unknown = [s for s in splits if s not in known]
            if unknown:
                raise TrainerError(f"Trainer: splits {unknown} are not splits of the examples ({known}).")
            return [os.path.join(split_uri(examples.uri, s), "*") for s in splits]

        schema_path = None
        if input_dict.get("schema"):
            from headrace.components.io.artifact_files import SCHEMA_FILE

            schema_path = os.path.join(input_dict["schema"][0].uri, SCHEMA_FILE)
        working_dir = self.context.tmp_dir or os.path.join(model_run.uri, ".work")
        os.makedirs(working_dir, exist_ok=True)
        fn_args = FnArgs(
            working_dir=working_dir,
            train_files=files(train_args, "train"),
            eval_files=files(eval_args, "eval"),
            train_steps=int(train_args.get("num_steps") or 0) or None,
            eval_steps=int(eval_args.get("num_steps") or 0) or None,
            schema_path=schema_path,
            schema_file=schema_path,
            data_accessor=data_accessor(payload_format(examples)),
            serving_model_dir=os.path.join(model.uri, SERVING_MODEL_DIR),
            eval_model_dir=os.path.join(model.uri, EVAL_MODEL_DIR),
            model_run_dir=model_run.uri,
            hyperparameters=_hyperparameters(input_dict, exec_properties),
            custom_config=exec_properties.get("custom_config"),
        )
        seed = (fn_args.custom_config or {}).get("seed", os.environ.get("HEADRACE_TRAINER_SEED"))
        if seed is not None:  # reproducible training: Python's, NumPy's and TensorFlow's generators
            import tensorflow as tf

            tf.keras.utils.set_random_seed(int(seed))
        module_file = exec_properties.get("module_file")
        run_fn = load_run_fn(module_file, exec_properties.get("run_fn"))
        histories: list[Any] = []
        with watch_fit(histories):
            returned = run_fn(fn_args)
        serving = fn_args.serving_model_dir or ""
        if not os.path.isfile(os.path.join(serving, "saved_model.pb")):
            hint = "model.export(fn_args.serving_model_dir)" if keras == 3 else "model.save(fn_args.serving_model_dir)"
            raise TrainerError(
                f"Trainer: run_fn wrote no SavedModel to fn_args.serving_model_dir ({serving}); save it there, "
                f"e.g. {hint}."
            )
        metrics = final_metrics(returned, histories)
        for artifact in (model, model_run):
            artifact.set_custom_property("train_steps", fn_args.train_steps or 0)
            artifact.set_custom_property("eval_steps", fn_args.eval_steps or 0)
            if module_file:
                from headrace.fingerprint import module_file_digest

                artifact.set_custom_property("module_file_sha256", module_file_digest(module_file))
            artifact.set_custom_property("keras_version", keras)
            for name, value in metrics.items():
                artifact.set_custom_property(f"metric:{name}", value)
        model.set_custom_property("trained_at_ms", int(time.time() * 1000))  # a model's age (retrain by age)
        with open(os.path.join(model_run.uri, "metrics.json"), "w") as f:
            json.dump(metrics, f, indent=2, sort_keys=True)
        steps = {"train_steps": fn_args.train_steps or 0, "eval_steps": fn_args.eval_steps or 0}
        hparams = hparams_of(fn_args.hyperparameters, fn_args.custom_config, steps)
        write_logs(model_run.uri, self.context.pipeline_run_id, hparams, histories, metrics)  # for TensorBoard
        shown = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())
        print(f"trained (Keras {keras}): model in {serving}" + (f"; {shown}" if shown else ""))
        output_dict["model"][0].set_custom_property(
            "summary", f"trained (Keras {keras})" + (f": {shown}" if shown else "")
        )


class Trainer(BaseComponent):
    """Trains a model with the user's `run_fn(fn_args)` (TFX's Trainer).

    Args:
        examples: Examples to train and evaluate on (Parquet or tf.Example payloads).
        schema: Optional Schema; `fn_args.schema_path` is its `schema.pbtxt`.
        module_file: Path of a Python file defining `run_fn(fn_args)`; its content and the `.py`
            files it imports from its folder are part of the cache key.
        run_fn: The function's name in `module_file`, or without one a dotted
            'package.module.run_fn' importable where the Trainer runs.
        train_args: `TrainArgs(splits=['train'], num_steps=N)` (a proto or a dict of its fields).
        eval_args: `EvalArgs(splits=['eval'], num_steps=N)`.
        custom_config: A JSON-able dict passed as `fn_args.custom_config`. Its `seed` (or the
            HEADRACE_TRAINER_SEED variable) seeds Python, NumPy and TensorFlow before `run_fn` runs.
        hyperparameters: A HyperParameters channel (TFX's form), or a dict passed as `fn_args.hyperparameters`.
        transform_graph: Not supported yet (headrace has no Transform).
        custom_executor_spec: Another executor spec (TFX's `GenericExecutor` is this Trainer's own executor).
        keras_version: None (default): tf.keras is Keras 2 (`tf-keras`, TF_USE_LEGACY_KERAS=1, as TFX runs its
            module files) unless the environment sets TF_USE_LEGACY_KERAS; 2 or 3 forces one.
    """

    SPEC_CLASS = TrainerSpec
    EXECUTOR_SPEC = ExecutorClassSpec(Executor, worker_group=_common.TFDV_GROUP)

    def __init__(
        self,
        examples: Channel,
        schema: Channel | None = None,
        module_file: str | os.PathLike[str] | None = None,
        run_fn: str | None = None,
        train_args: Any = None,
        eval_args: Any = None,
        custom_config: dict[str, Any] | None = None,
        hyperparameters: Channel | dict[str, Any] | None = None,
        transform_graph: Channel | None = None,
        custom_executor_spec: ExecutorSpec | None = None,
        keras_version: int | None = None,
    ):
        owner = type(self).__name__
        if transform_graph is not None:
            raise DefinitionError(f"{owner}: transform_graph is not supported yet (headrace has no Transform).")
        if module_file is None and run_fn is None:
            raise DefinitionError(f"{owner}: give module_file (a file defining run_fn(fn_args)) or run_fn.")
        if module_file is not None:
            # A file here is pinned by its absolute path; one that is not here yet (it exists where the
            # pipeline runs, or a notebook writes it later) is checked when the Trainer runs.
            if not isinstance(module_file, (str, os.PathLike)) or "\0" in os.fspath(module_file):
                raise DefinitionError(f"{owner}: module_file must be a file path, got {module_file!r}.")
            module_file = os.fspath(module_file)
            if os.path.isfile(module_file):
                module_file = os.path.abspath(module_file)
        if run_fn is not None and not isinstance(run_fn, str):
            raise DefinitionError(f"{owner}: run_fn must be a name (str) as in TFX, got {type(run_fn).__name__}.")
        if keras_version not in (None, 2, 3):
            raise DefinitionError(f"{owner}: keras_version must be None, 2 or 3, got {keras_version!r}.")
        if custom_config is not None and not isinstance(custom_config, dict):
            raise DefinitionError(f"{owner}: custom_config must be a dict, got {type(custom_config).__name__}.")
        hp_channel = hyperparameters if isinstance(hyperparameters, Channel) else None
        hp_dict = hyperparameters if isinstance(hyperparameters, dict) else None
        if hyperparameters is not None and hp_channel is None and hp_dict is None:
            raise DefinitionError(f"{owner}: hyperparameters must be a HyperParameters channel or a dict.")
        if custom_executor_spec is not None:
            if not isinstance(custom_executor_spec, ExecutorSpec):
                raise DefinitionError(f"{owner}: custom_executor_spec must be an executor spec.")
            self.EXECUTOR_SPEC = custom_executor_spec
        elif keras_version == 3:
            self.EXECUTOR_SPEC = ExecutorClassSpec(Executor, worker_group=KERAS3_GROUP)
        super().__init__(
            spec=TrainerSpec(
                examples=examples,
                schema=schema,
                hyperparameters=hp_channel,
                module_file=module_file,
                run_fn=run_fn,
                train_args=_args(owner, "train_args", train_args),
                eval_args=_args(owner, "eval_args", eval_args),
                custom_config=custom_config,
                hyperparameters_dict=hp_dict,
                keras_version=keras_version,
            )
        )


def _args(owner: str, name: str, value: Any) -> dict[str, Any]:
    args = as_dict(owner, name, value) or {}
    unknown = sorted(set(args) - {"splits", "num_steps"})
    if unknown:
        raise DefinitionError(f"{owner}: {name} has unknown fields {unknown}; it takes splits and num_steps.")
    if "num_steps" in args:
        args["num_steps"] = int(args["num_steps"])
    return args


GenericExecutor = Executor  # TFX's name for the run_fn executor
