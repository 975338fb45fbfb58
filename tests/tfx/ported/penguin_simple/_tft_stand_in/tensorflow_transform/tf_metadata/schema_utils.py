"""`schema_from_feature_spec` for FixedLenFeature and VarLenFeature specs (TFT's behaviour for them)."""

from typing import Any

import tensorflow as tf
from tensorflow_metadata.proto.v0 import schema_pb2

_TYPES = {
    tf.int64: schema_pb2.INT,
    tf.float32: schema_pb2.FLOAT,
    tf.string: schema_pb2.BYTES,
}


def schema_from_feature_spec(feature_spec: dict[str, Any]) -> schema_pb2.Schema:
    """A Schema with one feature per spec: fixed-length ones get their shape, var-length none."""
    schema = schema_pb2.Schema()
    for name, spec in sorted(feature_spec.items()):
        feature = schema.feature.add(name=name, type=_TYPES[spec.dtype])
        if isinstance(spec, tf.io.FixedLenFeature):
            feature.presence.min_fraction = 1
            for size in spec.shape:
                feature.shape.dim.add(size=size)
        elif not isinstance(spec, tf.io.VarLenFeature):
            raise TypeError(f"Unsupported feature spec for {name}: {spec!r}")
    return schema
