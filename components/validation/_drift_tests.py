"""The two-sample tests of DistributionValidator: values streamed from two splits (exact category
counts, a seeded sample of numeric values), Kolmogorov-Smirnov and chi-squared with scipy."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from headrace.types.artifact import Artifact

SAMPLE_SEED = 0
MAX_CATEGORIES = 10_000  # a string feature with more distinct values is an identifier, not a category
_MIN_EXPECTED = 5  # chi-squared's rule of thumb: categories expected fewer times are pooled


# -- streaming the values of a split -----------------------------------------------------------------


class _Sample:
    """A uniform sample without replacement of at most `k` values of a stream: every value gets a
    random key from a seeded generator and the `k` smallest keys are kept (bottom-k sampling), so
    the same values in the same order give the same sample."""

    def __init__(self, k: int, seed: list[int]):
        import numpy as np

        self.k = k
        self.rng = np.random.default_rng(seed)
        self.values = np.empty(0)
        self.keys = np.empty(0)
        self.seen = 0

    def add(self, values: np.ndarray) -> None:
        import numpy as np

        self.seen += len(values)
        keys = self.rng.random(len(values))
        values = np.concatenate([self.values, values])
        keys = np.concatenate([self.keys, keys])
        if len(values) > self.k:
            keep = np.argpartition(keys, self.k - 1)[: self.k]
            values, keys = values[keep], keys[keep]
        self.values, self.keys = values, keys

    @property
    def sampled(self) -> bool:
        return self.seen > self.k


class _Column:
    """What one side keeps of one feature: the non-missing count, category counts (strings, bools,
    integers until they have too many distinct values) and a sample of numeric values."""

    def __init__(self, kind: str, max_ints: int, ks_max_rows: int, seed: list[int]):
        self.kind = kind  # 'numeric' (floats), 'integer' or 'categorical'
        self.n = 0
        self.max_counted = max_ints if kind == "integer" else MAX_CATEGORIES
        self.counts: dict[Any, int] | None = {} if kind != "numeric" else None
        self.sample = _Sample(ks_max_rows, seed) if kind != "categorical" else None

    def add(self, values: pa.Array) -> None:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.kind == "numeric":
            array = values.to_numpy(zero_copy_only=False).astype(np.float64)
            array = array[~np.isnan(array)]  # NaN is a missing value, as in TFDV's statistics
            self.n += len(array)
            assert self.sample is not None
            self.sample.add(array)
            return
        self.n += len(values)
        if self.sample is not None:
            self.sample.add(values.to_numpy(zero_copy_only=False).astype(np.float64))
        if self.counts is None:
            return
        binary = pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type)
        counted = pc.value_counts(values)
        for value, count in zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True):
            key = value.decode("utf-8", errors="replace") if binary else value
            self.counts[key] = self.counts.get(key, 0) + count
        if len(self.counts) > self.max_counted:
            self.counts = None  # too many values: an integer is then tested as a number


def _kind(t: pa.DataType, categorical_ints: set[str], name: str) -> str | None:
    """How a column of this Arrow type is tested; None for types neither test fits."""
    import pyarrow as pa

    t = t.value_type if pa.types.is_list(t) or pa.types.is_large_list(t) else t
    if pa.types.is_floating(t):
        return "numeric"
    if pa.types.is_integer(t):
        return "categorical" if name in categorical_ints else "integer"
    text = (pa.types.is_string, pa.types.is_large_string, pa.types.is_binary, pa.types.is_large_binary)
    return "categorical" if pa.types.is_boolean(t) or any(is_text(t) for is_text in text) else None


def collect(
    artifact: Artifact, split: str, side: int, features: list[str] | None, options: dict[str, Any]
) -> tuple[dict[str, _Column], dict[str, str]]:
    """Streams one split; returns its columns and the features of a type no test fits."""
    import zlib

    import pyarrow as pa
    import pyarrow.compute as pc

    from headrace.components.io.examples import iter_batches, payload_format

    columns: dict[str, _Column] = {}
    unsupported: dict[str, str] = {}
    for batch in iter_batches(artifact.uri, split, payload_format(artifact), columns=features):
        for name, col in zip(batch.schema.names, batch.columns, strict=True):
            if name in unsupported:
                continue
            if name not in columns:
                kind = _kind(col.type, options["categorical_ints"], name)
                if kind is None:
                    unsupported[name] = str(col.type)
                    continue
                seed = [SAMPLE_SEED, side, zlib.crc32(name.encode())]
                columns[name] = _Column(kind, options["max_int_categories"], options["ks_max_rows"], seed)
            if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
                col = pc.list_flatten(col)
            columns[name].add(col.drop_null())
    return columns, unsupported


# -- the tests -----------------------------------------------------------------------------------------


def finite(x: Any) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


def _ks(cur: _Column, base: _Column) -> dict[str, Any]:
    from scipy import stats

    assert cur.sample is not None and base.sample is not None
    result = stats.ks_2samp(cur.sample.values, base.sample.values)
    row: dict[str, Any] = {"test": "ks", "statistic": finite(result.statistic), "p_value": finite(result.pvalue)}
    if cur.sample.sampled or base.sample.sampled:
        row["sample_current"], row["sample_baseline"] = len(cur.sample.values), len(base.sample.values)
    return row


def _chi2(cur: dict[Any, int], base: dict[Any, int]) -> dict[str, Any]:
    """Pearson's chi-squared test of homogeneity on the 2 x k table of category counts. A category
    seen on one side only is a column with a zero; categories expected fewer than 5 times in a
    cell are pooled into one column, so the test's approximation holds."""
    import numpy as np
    from scipy import stats

    categories = sorted(set(cur) | set(base), key=lambda v: (str(type(v)), v))
    table = np.array([[cur.get(c, 0) for c in categories], [base.get(c, 0) for c in categories]], dtype=np.float64)
    totals = table.sum(axis=0)
    smallest_expected = totals * table.sum(axis=1).min() / table.sum()
    rare = smallest_expected < _MIN_EXPECTED
    columns = table[:, ~rare]
    if rare.any():
        columns = np.column_stack([columns, table[:, rare].sum(axis=1)])
    row: dict[str, Any] = {"test": "chi2", "categories": len(categories), "pooled_categories": int(rare.sum())}
    new = [str(c) for c in categories if c in cur and c not in base]
    gone = [str(c) for c in categories if c in base and c not in cur]
    if new:
        row["only_in_current"] = new[:20]
    if gone:
        row["only_in_baseline"] = gone[:20]
    if columns.shape[1] < 2:  # one category on both sides: nothing to compare
        row.update(statistic=0.0, p_value=1.0)
        return row
    result = stats.chi2_contingency(columns, correction=False)
    row.update(statistic=finite(result.statistic), p_value=finite(result.pvalue))
    return row


def compare_pair(
    current: dict[str, _Column], baseline: dict[str, _Column], odd: dict[str, str], options: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """KS or chi-squared rows for the features both sides have, and why the others were not compared."""
    rows, skipped = [], []
    for name in options["features"] or sorted(set(current) | set(baseline) | set(odd)):
        cur, base = current.get(name), baseline.get(name)
        if name in odd:
            skipped.append({"feature": name, "reason": f"of type {odd[name]}: neither test fits"})
            continue
        if cur is None or base is None:
            skipped.append({"feature": name, "reason": f"not in the {'current' if cur is None else 'baseline'} split"})
            continue
        if cur.n == 0 or base.n == 0:
            skipped.append({"feature": name, "reason": "no values in the " + ("current" if cur.n == 0 else "baseline")})
            continue
        kinds = {cur.kind, base.kind}
        if "categorical" in kinds and len(kinds) > 1:
            skipped.append({"feature": name, "reason": f"{cur.kind} in the current split, {base.kind} in the baseline"})
            continue
        if kinds == {"categorical"} and (cur.counts is None or base.counts is None):
            skipped.append({"feature": name, "reason": f"more than {MAX_CATEGORIES:,} distinct values"})
            continue
        few_ints = (
            kinds == {"integer"}
            and cur.counts is not None
            and base.counts is not None
            and len(set(cur.counts) | set(base.counts)) <= options["max_int_categories"]
        )
        if kinds == {"categorical"} or few_ints:
            assert cur.counts is not None and base.counts is not None
            row = _chi2(cur.counts, base.counts)
        else:
            row = _ks(cur, base)
        rows.append({"feature": name, **row, "n_current": cur.n, "n_baseline": base.n})
    return rows, skipped
