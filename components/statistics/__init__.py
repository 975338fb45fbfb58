"""StatisticsGen: TFDV statistics of each split, in process (streamed) or on Beam.

Modules: `statistics_gen` (the component), `engine` (the in-process generators), `beam` (the Beam path)."""

from __future__ import annotations

from headrace.components.statistics.statistics_gen import StatisticsGen

__all__ = ["StatisticsGen"]
