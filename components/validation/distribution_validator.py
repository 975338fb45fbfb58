"""DistributionValidator: drift (this span against an earlier one) and skew (serving data against
training data), feature by feature, between current data and a baseline.

Two families of checks, either or both:

* Two-sample tests on the examples themselves (`examples` and `baseline_examples`): the
  Kolmogorov-Smirnov test for numeric features and Pearson's chi-squared test of homogeneity for
  categorical ones (scipy). Each gives a p-value; a feature drifts when p < significance_level
  (divided by the number of tests with `bonferroni=True`).
* TFDV's distance comparators on statistics (`statistics` and `baseline_statistics`), as TFX's
  DistributionValidator runs them: L-infinity distance for categorical features,
  Jensen-Shannon divergence for numeric ones, or per-feature comparators from TFX's
  `DistributionValidatorConfig`.

The output is an `ExampleAnomalies` artifact: `drift.json` (one row per feature, split pair and test,
with its statistic, p-value, threshold and verdict), the TFDV anomalies of each split pair at TFX's
path `SplitPair-<current>_<baseline>/SchemaDiff.pb` (when comparators ran), and `report.html`.

Values are streamed from the splits, so memory does not grow with the data: category counts are
exact; a numeric feature keeps at most `ks_max_rows` values per side, a uniform sample drawn with a
fixed seed (the same data gives the same sample and the same p-value; `drift.json` says which
features were sampled). scipy, pyarrow and TFDV are imported when the executor runs; TFDV only
when a comparator is configured.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from headrace.components import common as _common
from headrace.components.validation._comparators import comparator_rows, comparator_schema, comparison_only
from headrace.components.validation._drift_config import check_pairs, drift_config_dict
from headrace.components.validation._drift_tests import SAMPLE_SEED, collect, compare_pair
from headrace.dsl.base_component import BaseComponent
from headrace.dsl.executor import BaseExecutor, ExecutorClassSpec
from headrace.errors import DefinitionError, HeadraceError
from headrace.types.artifact import Artifact
from headrace.types.channel import Channel
from headrace.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter
from headrace.types.standard_artifacts import ExampleAnomalies, Examples, ExampleStatistics, Schema

DRIFT_FILE = "drift.json"
ANOMALIES_DIR = "SplitPair-{}"
ANOMALIES_FILE = "SchemaDiff.pb"  # TFX's DistributionValidator layout: one folder per split pair

# Blessing values of TFX's DistributionValidator (custom property `blessed`, per split pair).
BLESSED, NOT_BLESSED, NO_BASELINE = 1, 0, 2


class DataDriftError(HeadraceError):
    """The data drifted from its baseline (DistributionValidator with fail_on_drift=True)."""


class DistributionValidatorSpec(ComponentSpec):
    """DistributionValidator's contract: TFX's names (statistics, baseline_statistics,
    include_split_pairs, distribution_validator_config, anomalies) plus the examples-based tests."""

    PARAMETERS = {
        "include_split_pairs": ExecutionParameter(type=list, optional=True),
        "distribution_validator_config": ExecutionParameter(type=dict, optional=True),
        "features": ExecutionParameter(type=list, optional=True),
        "significance_level": ExecutionParameter(type=float),
        "bonferroni": ExecutionParameter(type=bool),
        "max_int_categories": ExecutionParameter(type=int),
        "ks_max_rows": ExecutionParameter(type=int),
        "l_infinity_threshold": ExecutionParameter(type=float, optional=True),
        "jensen_shannon_threshold": ExecutionParameter(type=float, optional=True),
        "fail_on_drift": ExecutionParameter(type=bool),
    }
    INPUTS = {
        "statistics": ChannelParameter(type=ExampleStatistics, optional=True),
        "baseline_statistics": ChannelParameter(type=ExampleStatistics, optional=True),
        "examples": ChannelParameter(type=Examples, optional=True),
        "baseline_examples": ChannelParameter(type=Examples, optional=True),
        "schema": ChannelParameter(type=Schema, optional=True),
    }
    OUTPUTS = {"anomalies": ChannelParameter(type=ExampleAnomalies)}


# -- TFDV's comparators ----------------------------------------------------------------------------


def split_pairs(current: Artifact, baseline: Artifact, include: list[list[str]] | None) -> list[tuple[str, str]]:
    """The (current, baseline) split pairs to compare: `include`, each checked against the splits
    both artifacts have; by default, the splits of the same name."""
    from headrace.components.io.examples import split_names

    cur, base = split_names(current), split_names(baseline)
    if include:
        missing = [f"({c!r}, {b!r})" for c, b in include if c not in cur or b not in base]
        if missing:
            raise ValueError(
                f"DistributionValidator: include_split_pairs {', '.join(missing)} name splits the inputs do not "
                f"have (current splits: {cur}, baseline splits: {base})."
            )
        return [(c, b) for c, b in include]
    pairs = [(s, s) for s in cur if s in base]
    if not pairs:
        raise ValueError(
            f"DistributionValidator: the current splits {cur} and the baseline splits {base} have no name in "
            "common; say which to compare, e.g. include_split_pairs=[('serving', 'train')]."
        )
    return pairs


def pair_name(current: str, baseline: str) -> str:
    """A split pair's name, as TFX names it: '<current>_<baseline>'."""
    return f"{current}_{baseline}"


def _only(input_dict: dict[str, list[Artifact]], key: str) -> Artifact | None:
    arts = input_dict.get(key) or []
    return arts[0] if arts else None


def _verdicts(rows: list[dict[str, Any]], options: dict[str, Any]) -> None:
    """Sets each test's threshold and verdict: p < the significance level (Bonferroni-corrected
    over the tests run when asked)."""
    tested = [r for r in rows if r["test"] in ("ks", "chi2")]
    level = options["significance_level"] / (len(tested) if options["bonferroni"] and tested else 1)
    for r in tested:
        r["threshold"] = level
        r["drifted"] = r["p_value"] is not None and r["p_value"] < level


def _describe(row: dict[str, Any]) -> str:
    where = f"split '{row['split']}' vs '{row['baseline_split']}', feature '{row['feature']}'"
    if row["p_value"] is not None:
        p, threshold = row["p_value"], row["threshold"]
        return f"{where}: {row['test']} statistic {row['statistic']:.4g}, p-value {p:.3g} < {threshold:.3g}"
    if row["statistic"] is not None:
        return f"{where}: {row['test']} {row['statistic']:.4g} > threshold {row['threshold']:.4g}"
    return f"{where}: {row['test']}: {row.get('description', 'anomaly')}"


@dataclasses.dataclass
class _Found:
    """What the checks of a run found, over all split pairs."""

    pairs: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    rows: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    skipped: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    sampled: set[str] = dataclasses.field(default_factory=set)
    no_baseline: list[str] = dataclasses.field(default_factory=list)

    def add(self, pair: tuple[str, str], rows: list[dict[str, Any]], skipped: list[dict[str, Any]]) -> None:
        if pair not in self.pairs:
            self.pairs.append(pair)
        where = {"split": pair[0], "baseline_split": pair[1]}
        self.rows += [{**r, **where} for r in rows]
        self.skipped += [{**s, **where} for s in skipped]


def _run_tests(current: Artifact, baseline: Artifact, options: dict[str, Any], found: _Found) -> None:
    """KS and chi-squared on the examples of each split pair."""
    start = len(found.rows)
    for pair in split_pairs(current, baseline, options["include"]):
        cur, cur_odd = collect(current, pair[0], 0, options["features"] or None, options)
        base, base_odd = collect(baseline, pair[1], 1, options["features"] or None, options)
        rows, skipped = compare_pair(cur, base, {**cur_odd, **base_odd}, options)
        found.add(pair, rows, skipped)
        found.sampled |= {r["feature"] for r in rows if "sample_current" in r}
    _verdicts(found.rows[start:], options)


def _run_comparators(
    stats: Artifact, baseline: Artifact, schema: Any, options: dict[str, Any], found: _Found, uri: str
) -> None:
    """TFDV's comparators on the statistics of each split pair; writes each pair's anomalies."""
    from headrace.components.io import artifact_files

    _common.quiet_tensorflow()
    import tensorflow_data_validation as tfdv

    for pair in split_pairs(stats, baseline, options["include"]):
        cur_stats = artifact_files.read_statistics(stats.uri, pair[0])
        base_stats = artifact_files.read_statistics(baseline.uri, pair[1])
        # TFX infers the comparators' schema from the baseline; a given schema is copied, never changed.
        start = tfdv.infer_schema(base_stats) if schema is None else type(schema).FromString(schema.SerializeToString())
        pair_schema, chosen = comparator_schema(start, options)
        full = tfdv.validate_statistics(cur_stats, pair_schema, previous_statistics=base_stats)
        path = os.path.join(uri, ANOMALIES_DIR.format(pair_name(*pair)), ANOMALIES_FILE)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(comparison_only(full).SerializeToString())
        rows, skipped = comparator_rows(full, chosen)
        found.add(pair, [{**r, "n_current": None, "n_baseline": None} for r in rows], skipped)


class Executor(BaseExecutor):
    """Runs the checks of each split pair; writes drift.json, the TFDV anomalies and report.html."""

    def Do(
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        out = output_dict["anomalies"][0]
        options = dict(exec_properties)
        options.update(
            include=exec_properties.get("include_split_pairs"),
            features=list(exec_properties.get("features") or []),
            config=exec_properties.get("distribution_validator_config"),
            categorical_ints=set(),
        )
        for key in ("l_infinity_threshold", "jensen_shannon_threshold"):
            options.setdefault(key, None)
        schema = None
        if input_dict.get("schema"):
            from headrace.components.io import artifact_files

            schema = artifact_files.read_schema(input_dict["schema"][0].uri)
            options["categorical_ints"] = {f.name for f in schema.feature if f.int_domain.is_categorical}
        current, baseline = _only(input_dict, "examples"), _only(input_dict, "baseline_examples")
        stats, baseline_stats = _only(input_dict, "statistics"), _only(input_dict, "baseline_statistics")
        comparators = any(
            options[k] is not None for k in ("l_infinity_threshold", "jensen_shannon_threshold", "config")
        )
        found = _Found()
        if current is not None:
            if baseline is None:
                found.no_baseline.append("baseline_examples")
            else:
                _run_tests(current, baseline, options, found)
        if comparators and stats is not None:
            if baseline_stats is None:
                found.no_baseline.append("baseline_statistics")
            else:
                _run_comparators(stats, baseline_stats, schema, options, found, out.uri)
        reference = current or stats
        if reference is not None and reference.has_property("span"):
            out.span = reference.span
        drifted = sorted({r["feature"] for r in found.rows if r["drifted"]})
        if found.pairs:
            out.split_names = json.dumps([pair_name(*p) for p in found.pairs])
            bad = {(r["split"], r["baseline_split"]) for r in found.rows if r["drifted"]}
            blessed = {pair_name(*p): NOT_BLESSED if p in bad else BLESSED for p in found.pairs}
        else:  # no baseline yet (a Resolver found no earlier span): TFX records the splits, blessed 2
            from headrace.components.io.examples import split_names

            splits = split_names(reference) if reference is not None else []
            out.split_names = json.dumps(splits)
            blessed = {s: NO_BASELINE for s in splits}
        out.set_json_value_custom_property("drifted_features", drifted)
        out.set_custom_property("drift_count", len(drifted))
        out.set_json_value_custom_property("blessed", blessed)
        _write(out.uri, found, options)
        self._report(found, drifted, exec_properties["fail_on_drift"])

    @staticmethod
    def _report(found: _Found, drifted: list[str], fail: bool) -> None:
        """Prints what was compared and what drifted; raises DataDriftError when asked to fail."""
        if not found.pairs:
            print(f"no baseline ({', '.join(found.no_baseline) or 'none'} resolved to nothing): nothing compared")
            return
        for s in found.skipped:
            where = f"split '{s['split']}' vs '{s['baseline_split']}'"
            print(f"not compared: {where}, feature '{s['feature']}': {s['reason']}")
        lines = [_describe(r) for r in found.rows if r["drifted"]]
        summary = (
            f"{len(drifted)} of {len({r['feature'] for r in found.rows})} features drifted ({len(found.rows)} tests)"
        )
        if not lines:
            print(f"{summary}: no drift between {', '.join(f'{c} and {b}' for c, b in found.pairs)}")
            return
        listing = "\n".join(f"  - {line}" for line in lines)
        if fail:
            raise DataDriftError(
                f"{summary}; downstream steps will not run on this data:\n{listing}\n"
                "If the change is expected, compare against a newer baseline, or leave fail_on_drift False to "
                "record drift without stopping."
            )
        print(f"{summary} (recorded; fail_on_drift=False):\n{listing}")


def _write(uri: str, found: _Found, options: dict[str, Any]) -> None:
    """drift.json and report.html."""
    from headrace.components.reports import drift_html

    document = {
        "split_pairs": [list(p) for p in found.pairs],
        "significance_level": options["significance_level"],
        "bonferroni": options["bonferroni"],
        "max_int_categories": options["max_int_categories"],
        "sampling": {
            "ks_max_rows": options["ks_max_rows"],
            "method": (
                "uniform without replacement: each value gets a random key from a generator seeded with "
                f"[{SAMPLE_SEED}, side, crc32(feature)], the smallest keys are kept; files are read in name order"
            ),
            "sampled_features": sorted(found.sampled),
        },
        "missing_baseline": found.no_baseline,
        "rows": found.rows,
        "not_compared": found.skipped,
    }
    os.makedirs(uri, exist_ok=True)
    with open(os.path.join(uri, DRIFT_FILE), "w", encoding="utf-8") as f:
        json.dump(document, f, indent=1)
    shown = [{**r, "split": f"{r['split']} vs {r['baseline_split']}"} for r in found.rows]
    title = "Distribution drift" if found.pairs else "Distribution drift: no baseline to compare with"
    _common.write_report(uri, drift_html(shown, title))


# -- the component ---------------------------------------------------------------------------------


class DistributionValidator(BaseComponent):
    """Finds features whose distribution moved between current data and a baseline.

    Give examples (`examples` and `baseline_examples`) for the two-sample tests, statistics
    (`statistics` and `baseline_statistics`) for TFDV's comparators, or both. The baseline is the
    previous span (through a Resolver) to watch drift, or the training data to watch serving skew
    (the same Examples artifact twice with `include_split_pairs=[('serving', 'train')]`, say). A
    baseline channel that resolves to nothing (the first run) compares nothing and records
    `blessed` = 2 per split, as TFX does.

    The tests on examples: Kolmogorov-Smirnov for numeric features, Pearson's chi-squared on the
    table of category counts for string, boolean and low-cardinality integer features (at most
    `max_int_categories` distinct values over both sides; a schema's `int_domain.is_categorical`
    makes an integer categorical whatever its count). A feature drifts when p < significance_level.

    Outputs `anomalies` (ExampleAnomalies): `drift.json`, TFDV's anomalies per split pair in
    `SplitPair-<current>_<baseline>/SchemaDiff.pb` (split_names are '<current>_<baseline>'),
    `report.html`; custom properties `drifted_features` (JSON list), `drift_count` (how many
    features drifted) and `blessed` (JSON: split pair -> 1 no drift, 0 drift, 2 no baseline).

    Args:
        statistics: ExampleStatistics of the current data (for the comparators).
        baseline_statistics: ExampleStatistics of the baseline.
        config: TFX's `DistributionValidatorConfig` (or its dict form): per-feature comparators and
            a num_examples comparator; they take precedence over the two thresholds below.
        include_split_pairs: (current split, baseline split) pairs to compare; default: the splits
            of the same name.
        examples: Examples of the current data (for the tests).
        baseline_examples: Examples of the baseline.
        schema: Optional Schema: its comparators' starting point (else one inferred from the
            baseline statistics, as TFX does) and its categorical integers.
        features: Features to compare (default: all the columns both sides have).
        significance_level: A test flags a feature when its p-value is below this (default 0.05).
        bonferroni: Divide the significance level by the number of tests run.
        max_int_categories: Integers with at most this many distinct values are categorical.
        ks_max_rows: At most this many values per side and feature go into a KS test (a uniform
            sample with a fixed seed above it; category counts are always exact).
        l_infinity_threshold: Flags a categorical feature whose L-infinity distance (the largest
            change in a category's share) exceeds this (TFDV, needs statistics).
        jensen_shannon_threshold: Flags a numeric feature whose Jensen-Shannon divergence exceeds
            this (TFDV, needs statistics).
        fail_on_drift: False (the default) records drift and goes on; True fails the step with the
            list of drifted features, test, statistic and p-value, so its descendants do not run.
    """

    SPEC_CLASS = DistributionValidatorSpec
    # TFDV is imported only when comparators run; the group then finds TensorFlow already loaded in
    # the worker that ran StatisticsGen. It is a preference, never a wait, so a tests-only run loses nothing.
    EXECUTOR_SPEC = ExecutorClassSpec(Executor, worker_group=_common.TFDV_GROUP)

    def __init__(
        self,
        statistics: Channel | None = None,
        baseline_statistics: Channel | None = None,
        config: Any = None,
        include_split_pairs: list[tuple[str, str]] | str | None = None,
        *,
        examples: Channel | None = None,
        baseline_examples: Channel | None = None,
        schema: Channel | None = None,
        features: list[str] | None = None,
        significance_level: float = 0.05,
        bonferroni: bool = False,
        max_int_categories: int = 20,
        ks_max_rows: int = 50_000,
        l_infinity_threshold: float | None = None,
        jensen_shannon_threshold: float | None = None,
        fail_on_drift: bool = False,
    ):
        owner = type(self).__name__
        if (examples is None) != (baseline_examples is None):
            raise DefinitionError(f"{owner}: pass examples and baseline_examples together (the tests compare them).")
        if (statistics is None) != (baseline_statistics is None):
            raise DefinitionError(f"{owner}: pass statistics and baseline_statistics together.")
        comparators = config is not None or l_infinity_threshold is not None or jensen_shannon_threshold is not None
        if comparators and statistics is None:
            raise DefinitionError(
                f"{owner}: config, l_infinity_threshold and jensen_shannon_threshold are TFDV comparators of "
                "statistics; pass statistics= and baseline_statistics= (StatisticsGen outputs)."
            )
        if examples is None and not comparators:
            raise DefinitionError(
                f"{owner}: nothing to compare: pass examples= and baseline_examples= for the KS / chi-squared tests, "
                "or statistics=, baseline_statistics= and a threshold (l_infinity_threshold=...) for TFDV's "
                "comparators."
            )
        if not 0 < significance_level < 1:
            raise DefinitionError(f"{owner}: significance_level must be between 0 and 1, got {significance_level!r}.")
        for name, value in (
            ("l_infinity_threshold", l_infinity_threshold),
            ("jensen_shannon_threshold", jensen_shannon_threshold),
        ):
            if value is not None and not 0 <= value <= 1:
                raise DefinitionError(f"{owner}: {name} must be between 0 and 1, got {value!r}.")
        for name, count, least in (("ks_max_rows", ks_max_rows, 2), ("max_int_categories", max_int_categories, 0)):
            if not isinstance(count, int) or isinstance(count, bool) or count < least:
                raise DefinitionError(f"{owner}: {name} must be an int of at least {least}, got {count!r}.")
        if features is not None and (
            not isinstance(features, (list, tuple)) or not features or not all(isinstance(f, str) for f in features)
        ):
            raise DefinitionError(f"{owner}: features must be a non-empty list of feature names, got {features!r}.")
        super().__init__(
            spec=DistributionValidatorSpec(
                statistics=statistics,
                baseline_statistics=baseline_statistics,
                examples=examples,
                baseline_examples=baseline_examples,
                schema=schema,
                include_split_pairs=check_pairs(owner, include_split_pairs),
                distribution_validator_config=drift_config_dict(owner, config),
                features=list(features) if features is not None else None,
                significance_level=significance_level,
                bonferroni=bonferroni,
                max_int_categories=max_int_categories,
                ks_max_rows=ks_max_rows,
                l_infinity_threshold=l_infinity_threshold,
                jensen_shannon_threshold=jensen_shannon_threshold,
                fail_on_drift=fail_on_drift,
            )
        )
