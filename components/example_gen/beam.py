"""ExampleGen the TFX way: a Beam executor whose `GetInputSourceToExamplePTransform` returns the
user's PTransform, run by `FileBasedExampleGen(custom_executor_spec=BeamExecutorSpec(MyExecutor))`
(TFX's `ExecutorClassSpec(MyExecutor)` form runs it too).

    @beam.ptransform_fn
    def JsonLinesToExample(pipeline, exec_properties, split_pattern):
        pattern = os.path.join(exec_properties['input_base'], split_pattern)
        return pipeline | beam.io.ReadFromText(pattern) | beam.Map(json.loads)

    class Executor(BaseExampleGenExecutor):
        def GetInputSourceToExamplePTransform(self):
            return JsonLinesToExample

What carries over from TFX, and what does not:
- The PTransform is applied once per input split as `transform(exec_properties, split_pattern)`
  on the pipeline, with `split_pattern` the split's pattern relative to `input_base` with the
  span and version filled in, and `exec_properties` in TFX's form: input_config, output_config,
  range_config and custom_config as proto JSON strings, plus input_base, span, version,
  output_data_format and `_beam_pipeline_args`.
- It may yield `tf.train.Example` protos (or any proto: serialized as they are), serialized
  bytes, or dicts of feature name -> value or list of values (int, float, str, bytes, numpy).
  Dicts become tf.Example without TensorFlow. Unlike TFX's `dict_to_example`, a 0, 0.0 or False
  value stays a value (TFX turns every falsy value into an empty feature); None and [] are empty.
- Output splits: with one input split and named output splits, rows are hashed into splits as TFX
  does (sha256 of the record's deterministic serialization, or of the partition feature, modulo the
  total hash buckets), so a TFX pipeline's rows land in the same splits here. The Arrow path of
  headrace's ExampleGens hashes typed column values instead: the shares and the partition column
  behave the same, but one row can fall in another split than on the Arrow path. With several
  input splits, each becomes an output split.
- Files: `Split-<name>/data_tfrecord-SSSSS-of-NNNNN.gz` (gzip TFRecords of tf.Example, written by
  Beam, as many shards as the runner makes; on Dask `data_tfrecord-<id>.gz`, one per bundle, see
  `_beam_write`) when the payload is FORMAT_TF_EXAMPLE; with
  FORMAT_PARQUET the records Beam wrote are turned into one Parquet file per split afterwards,
  streamed in this process (single-valued features become typed columns, as ImportExampleGen
  gives them). The artifact gets the properties the Arrow path sets.
"""

from __future__ import annotations

import abc
import bisect
import hashlib
import json
from typing import TYPE_CHECKING, Any

from headrace import beam_runners
from headrace.components.example_gen import config as cfg
from headrace.components.example_gen._beam_write import (
    count_records,
    remove_beam_temp,
    row_counts,
    tfrecords_to_parquet,
    write_split,
)
from headrace.components.example_gen.executor import record_output
from headrace.components.example_gen.readers import InputDataError
from headrace.components.io.examples import FORMAT_PARQUET, FORMAT_TF_EXAMPLE, data_files, split_uri
from headrace.dsl.executor import BaseExecutor
from headrace.types.artifact import Artifact

if TYPE_CHECKING:
    pass

_CONFIG_KEYS = ("input_config", "output_config", "range_config", "custom_config")
_PAYLOAD_NUMBERS = {FORMAT_TF_EXAMPLE: 6, FORMAT_PARQUET: 15}


class BaseExampleGenExecutor(BaseExecutor, abc.ABC):
    """Base of ExampleGen executors that read their input with Beam (TFX's class and methods).

    Override `GetInputSourceToExamplePTransform` (or, for custom splitting, `GenerateExamplesByBeam`).
    `Do` builds one Beam pipeline from `self.context.beam_pipeline_args` (the pipeline's and the
    component's BeamExecutorSpec arguments; DirectRunner when none is named).
    """

    @abc.abstractmethod
    def GetInputSourceToExamplePTransform(self) -> Any:
        """The PTransform turning one input split into records: a `@beam.ptransform_fn` function
        or a PTransform class, called as `(exec_properties, split_pattern)` and applied to the
        pipeline. Records are tf.train.Example protos, serialized bytes or dicts."""

    @property
    def _beam_pipeline_args(self) -> list[str]:
        """The Beam arguments this execution runs with (TFX's attribute)."""
        from headrace.components.beam import runner_args

        return runner_args(self.context.beam_pipeline_args)

    def _make_beam_pipeline(self) -> Any:
        """A Beam pipeline on the runner the arguments name (TFX's method)."""
        import apache_beam as beam
        from apache_beam.options.pipeline_options import PipelineOptions

        from headrace.components.beam import beam_runner

        args = self._beam_pipeline_args
        return beam.Pipeline(runner=beam_runner(args), options=PipelineOptions(args))

    def GenerateExamplesByBeam(self, pipeline: Any, exec_properties: dict[str, Any]) -> dict[str, Any]:
        """{output split name: PCollection of serialized tf.Example} (TFX's method).

        Args:
            pipeline: The Beam pipeline.
            exec_properties: TFX's form of the execution properties (configs as JSON strings).
        """
        import apache_beam as beam

        input_config = json.loads(exec_properties["input_config"])
        output_config = json.loads(exec_properties["output_config"] or "{}")
        split_config = output_config.get("split_config") or {}
        outputs = split_config.get("splits") or []
        to_records = self.GetInputSourceToExamplePTransform()
        inputs = input_config["splits"]
        if outputs:
            if len(inputs) != 1:
                raise InputDataError("Output splits need exactly one input split; leave output_config empty.")
            cumulative, total = [], 0
            for split in outputs:
                total += int(split["hash_buckets"])
                cumulative.append(total)
            column = split_config.get("partition_feature_name") or None
            records = (
                pipeline
                | "InputToRecord" >> to_records(exec_properties, inputs[0]["pattern"])
                | "ToTFExample" >> beam.Map(to_serialized_example)
            )
            if beam_runners.is_dask(self._beam_pipeline_args):
                # Beam 2.72's DaskRunner gives every output of a multi-output step (Partition) to each
                # consumer: one filter per split instead.
                return {
                    split["name"]: records
                    | f"SplitData[{split['name']}]" >> beam.Filter(_in_split, i, cumulative, column)
                    for i, split in enumerate(outputs)
                }
            split_data = beam.Partition(partition_fn, len(cumulative), cumulative, column)  # type: ignore[arg-type]
            parts = records | "SplitData" >> split_data
            return {split["name"]: parts[i] for i, split in enumerate(outputs)}
        return {
            split["name"]: (
                pipeline
                | f"InputToRecord[{split['name']}]" >> to_records(exec_properties, split["pattern"])
                | f"ToTFExample[{split['name']}]" >> beam.Map(to_serialized_example)
            )
            for split in inputs
        }

    def Do(
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        """Reads the input splits with the user's PTransform and writes the output splits."""
        import apache_beam as beam

        self._log_startup(input_dict, output_dict, exec_properties)
        examples = output_dict["examples"][0]
        input_base = exec_properties["input_base"]
        span, version, files = cfg.resolve_files(
            input_base, exec_properties["input_config"], exec_properties.get("range_config")
        )
        payload = exec_properties.get("output_data_format") or FORMAT_TF_EXAMPLE
        if payload not in (FORMAT_TF_EXAMPLE, FORMAT_PARQUET):
            raise InputDataError(f"output_data_format {payload!r}: the Beam ExampleGen writes tf.Example or Parquet.")
        tfx_properties = tfx_exec_properties(exec_properties, span, version, self._beam_pipeline_args)
        pipeline = self._make_beam_pipeline()
        with beam_runners.waiting_on_cluster(self._beam_pipeline_args), pipeline:
            splits = self.GenerateExamplesByBeam(pipeline, tfx_properties)
            dask = beam_runners.is_dask(self._beam_pipeline_args)
            written = [
                records | f"WriteSplit[{name}]" >> write_split(split_uri(examples.uri, name), name, dask)
                for name, records in splits.items()
            ]
            # One last step after every split's sink: Beam 2.72's DaskRunner computes only what the
            # pipeline's last transform depends on.
            _ = written | "Written" >> beam.Flatten()
        beam_runners.close_dask_client(pipeline)
        for name in splits:
            remove_beam_temp(split_uri(examples.uri, name))
        rows = row_counts(pipeline, list(splits)) or count_records(examples.uri, list(splits))
        if rows and not sum(rows.values()):
            names = [p for ps in files.values() for p in ps]
            raise InputDataError(f"The input PTransform gave no records (input files: {', '.join(names[:5])}).")
        for name in splits:
            if not data_files(split_uri(examples.uri, name)):  # Beam writes an empty shard for an empty split
                raise InputDataError(f"The Beam pipeline wrote no file for split '{name}'.")
            if payload == FORMAT_PARQUET:
                rows[name] = tfrecords_to_parquet(split_uri(examples.uri, name))
        record_output(examples, list(splits), span, version, payload, files, input_base, rows)
        summary = ", ".join(f"{n} {rows[n]:,}" if n in rows else n for n in splits)
        print(f"{type(self).__name__} (Beam) -> {summary} ({payload})")


def tfx_exec_properties(
    exec_properties: dict[str, Any], span: int, version: int | None, beam_args: list[str]
) -> dict[str, Any]:
    """The execution properties as TFX's executors see them: configs as proto JSON strings, the
    input patterns with the span and version filled in, span / version, `_beam_pipeline_args`."""
    props = dict(exec_properties)
    input_config = json.loads(json.dumps(props["input_config"]))
    for split in input_config["splits"]:
        split["pattern"] = cfg._fill(split["pattern"], span, version)
    props["input_config"] = input_config
    for key in _CONFIG_KEYS:
        value = props.get(key)
        props[key] = json.dumps(value) if value is not None else ("{}" if key == "output_config" else None)
    if props.get("output_data_format") in _PAYLOAD_NUMBERS:  # TFX passes example_gen_pb2.PayloadFormat values
        props["output_data_format"] = _PAYLOAD_NUMBERS[props["output_data_format"]]
    props["span"] = span
    props["version"] = version
    props["_beam_pipeline_args"] = list(beam_args)
    return props


# -- records -> serialized tf.Example ---------------------------------------------------------
def _example_classes() -> dict[str, Any]:
    """tensorflow.Example and its parts as protobuf classes built from their descriptors in a
    private pool: the same wire format as TensorFlow's, without importing TensorFlow."""
    global _CLASSES
    if _CLASSES:
        return _CLASSES
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    fdp = descriptor_pb2.FieldDescriptorProto
    f = descriptor_pb2.FileDescriptorProto(name="headrace/tf_example.proto", package="tensorflow", syntax="proto3")

    def message(name: str, *fields: tuple[str, int, int, int, str]) -> descriptor_pb2.DescriptorProto:
        m = f.message_type.add(name=name)
        for field_name, number, label, kind, type_name in fields:
            field = m.field.add(name=field_name, number=number, label=label, type=kind)
            if type_name:
                field.type_name = type_name
        return m

    rep, opt = fdp.LABEL_REPEATED, fdp.LABEL_OPTIONAL
    message("BytesList", ("value", 1, rep, fdp.TYPE_BYTES, ""))
    message("FloatList", ("value", 1, rep, fdp.TYPE_FLOAT, ""))
    message("Int64List", ("value", 1, rep, fdp.TYPE_INT64, ""))
    feature = message(
        "Feature",
        ("bytes_list", 1, opt, fdp.TYPE_MESSAGE, ".tensorflow.BytesList"),
        ("float_list", 2, opt, fdp.TYPE_MESSAGE, ".tensorflow.FloatList"),
        ("int64_list", 3, opt, fdp.TYPE_MESSAGE, ".tensorflow.Int64List"),
    )
    feature.oneof_decl.add(name="kind")
    for field in feature.field:
        field.oneof_index = 0
    features = message("Features", ("feature", 1, rep, fdp.TYPE_MESSAGE, ".tensorflow.Features.FeatureEntry"))
    entry = features.nested_type.add(name="FeatureEntry")
    entry.field.add(name="key", number=1, label=opt, type=fdp.TYPE_STRING)
    entry.field.add(name="value", number=2, label=opt, type=fdp.TYPE_MESSAGE, type_name=".tensorflow.Feature")
    entry.options.map_entry = True
    message("Example", ("features", 1, opt, fdp.TYPE_MESSAGE, ".tensorflow.Features"))
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    _CLASSES = {
        n: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"tensorflow.{n}"))
        for n in ("Example", "Feature")
    }
    return _CLASSES


_CLASSES: dict[str, Any] = {}


def _python_value(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        value = value.tolist()
    return value


def dict_to_serialized_example(record: dict[str, Any]) -> bytes:
    """A dict of feature name -> value (or list of values) as a serialized tf.Example."""
    example = _example_classes()["Example"]()
    for name, raw in record.items():
        value = _python_value(raw)
        values = value if isinstance(value, (list, tuple)) else ([] if value is None else [value])
        values = [v.decode("utf-8") if isinstance(v, bytes) else _python_value(v) for v in values]
        feature = example.features.feature[str(name)]
        if not values:
            continue  # an empty feature: present, no value
        if all(isinstance(v, (bool, int)) for v in values):
            feature.int64_list.value.extend(int(v) for v in values)
        elif all(isinstance(v, (bool, int, float)) for v in values):
            feature.float_list.value.extend(float(v) for v in values)
        elif all(isinstance(v, str) for v in values):
            feature.bytes_list.value.extend(v.encode("utf-8") for v in values)
        else:
            kinds = sorted({type(v).__name__ for v in values})
            raise InputDataError(
                f"Feature '{name}' has values of types {kinds}: a tf.Example feature holds ints, floats or strings "
                "(one kind per feature)."
            )
    return bytes(example.SerializeToString(deterministic=True))


def to_serialized_example(record: Any) -> bytes:
    """A record of the user's PTransform as serialized tf.Example bytes."""
    if isinstance(record, bytes):
        return record
    if isinstance(record, dict):
        return dict_to_serialized_example(record)
    if hasattr(record, "SerializeToString"):
        return bytes(record.SerializeToString(deterministic=True))
    raise InputDataError(
        f"The input PTransform produced a {type(record).__name__}; produce tf.train.Example protos, serialized "
        "bytes, or dicts of feature name -> values."
    )


def partition_fn(record: bytes, num_partitions: int, cumulative_buckets: list[int], column: str | None) -> int:
    """The output split of a serialized tf.Example, as TFX assigns it: sha256 of the record (or of
    the partition feature's serialization) modulo the total buckets, then its split's range."""
    key = record
    if column is not None:
        features = _example_classes()["Example"].FromString(record).features.feature
        if column not in features:
            raise InputDataError(
                f"partition_feature_name {column!r} is not a feature of the records; they have: {sorted(features)}."
            )
        feature = features[column]
        kind = feature.WhichOneof("kind")
        if kind is None:
            raise InputDataError(f"Partition feature {column!r} has no value in a record.")
        if kind == "float_list":
            raise InputDataError(f"Partition feature {column!r} holds floats; partition by an int or string feature.")
        key = feature.SerializeToString(deterministic=True)
    bucket = int(hashlib.sha256(key).hexdigest(), 16) % cumulative_buckets[-1]
    return bisect.bisect(cumulative_buckets, bucket)


def _in_split(record: bytes, index: int, cumulative_buckets: list[int], column: str | None) -> bool:
    return partition_fn(record, len(cumulative_buckets), cumulative_buckets, column) == index
