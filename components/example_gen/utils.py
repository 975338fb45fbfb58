"""Helpers TFX users call around ExampleGen (TFX's `tfx.components.example_gen.utils`)."""

from __future__ import annotations

from typing import Any

from headrace.components.example_gen.config import (
    DEFAULT_INPUT,
    DEFAULT_OUTPUT,
    date_to_span_number,
    span_number_to_date,
)


def make_default_input_config(split_pattern: str = "*") -> Any:
    """An Input config with one split of every file matching `split_pattern`."""
    from headrace.components import proto

    return proto.Input(splits=[proto.Input.Split(name="single_split", pattern=split_pattern)])


def make_default_output_config(input_config: Any) -> Any:
    """The Output config TFX pairs with an Input: train:eval 2:1 hash split for a single input
    split, no split config (keep the input's splits) for several."""
    from google.protobuf import json_format

    from headrace.components import proto

    splits = input_config.splits if hasattr(input_config, "splits") else input_config.get("splits", [])
    if len(splits) > 1:
        return proto.Output()
    return json_format.ParseDict(DEFAULT_OUTPUT, proto.Output())


def dict_to_example(instance: dict[str, Any]) -> Any:
    """A tf.train.Example from a dict of feature name -> value or list of values (ints, floats,
    str/bytes); None or an empty list leaves the feature empty. Imports TensorFlow's protos."""
    from tensorflow.core.example import example_pb2

    example = example_pb2.Example()
    for name, value in instance.items():
        feature = example.features.feature[name]
        values = value if isinstance(value, (list, tuple)) else ([] if value is None else [value])
        if not values:
            continue
        first = values[0]
        if isinstance(first, (bytes, str)):
            feature.bytes_list.value.extend(v.encode() if isinstance(v, str) else v for v in values)
        elif isinstance(first, float):
            feature.float_list.value.extend(values)
        elif isinstance(first, int):  # bool is an int
            feature.int64_list.value.extend(int(v) for v in values)
        else:
            raise TypeError(f"dict_to_example: feature '{name}' has a value of type {type(first).__name__}.")
    return example


__all__ = [
    "DEFAULT_INPUT",
    "date_to_span_number",
    "dict_to_example",
    "make_default_input_config",
    "make_default_output_config",
    "span_number_to_date",
]
