"""DistributionValidator's settings checked when the component is defined: TFX's
`DistributionValidatorConfig` (proto or dict) and the split pairs to compare."""

from __future__ import annotations

import json
from typing import Any

from headrace.errors import DefinitionError


def drift_config_dict(owner: str, config: Any) -> dict[str, Any] | None:
    """TFX's DistributionValidatorConfig (any protobuf message of that shape) or its dict form."""
    if config is None:
        return None
    if hasattr(config, "DESCRIPTOR") and hasattr(config, "SerializeToString"):
        from google.protobuf import json_format

        config = json_format.MessageToDict(config, preserving_proto_field_name=True)
    if not isinstance(config, dict) or set(config) - {"default_slice_config"}:
        raise DefinitionError(
            f"{owner}: config must be a DistributionValidatorConfig or its dict form, e.g. "
            "{'default_slice_config': {'feature': [{'path': {'step': ['age']}, "
            "'distribution_comparator': {'jensen_shannon_divergence': {'threshold': 0.1}}}]}}; got "
            f"{config!r}."
        )
    unknown = set(config.get("default_slice_config") or {}) - {"feature", "num_examples_comparator"}
    if unknown:
        raise DefinitionError(
            f"{owner}: config.default_slice_config has unknown fields {sorted(unknown)}; it takes 'feature' and "
            "'num_examples_comparator'."
        )
    return config


def check_pairs(owner: str, pairs: Any) -> list[list[str]] | None:
    if pairs is None:
        return None
    if isinstance(pairs, str):  # TFX passes them as JSON text
        pairs = json.loads(pairs)
    ok = isinstance(pairs, (list, tuple)) and all(
        isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(s, str) for s in p) for p in pairs
    )
    if not ok or not pairs:
        raise DefinitionError(
            f"{owner}: include_split_pairs must be a non-empty list of (current split, baseline split) pairs, "
            f"e.g. [('eval', 'train')]; got {pairs!r}."
        )
    return [list(p) for p in pairs]


__all__ = ["check_pairs", "drift_config_dict"]
