"""Building blocks of the HTML reports: escaping, numbers, the page with its CSS, inline SVG charts.

No JavaScript and no external files: a page is one self-contained document. Every text that reaches
the markup goes through `esc`; callers pass raw strings.
"""

from __future__ import annotations

import datetime
import html
import math
from collections.abc import Mapping
from typing import Any

EMPTY = "\u2013"  # an en dash: no value

# One color per split, in the order splits are shown (train, eval, then the rest).
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#e15759")


def esc(value: object) -> str:
    """HTML-escapes any value (quotes too, so the result is safe inside attributes)."""
    return html.escape(str(value), quote=True)


def num(value: float | int | None) -> str:
    """A number as a person reads it: integers with thousands separators, other values to 4 digits."""
    if value is None:
        return EMPTY
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    size = abs(value)
    if size >= 1e9 or size < 1e-3:
        return f"{value:.3g}"
    return f"{value:,.0f}" if size >= 1000 else f"{value:.4g}"


def histogram(
    buckets: list[tuple[float, float, float]],
    color: str,
    x_range: tuple[float, float] | None = None,
    y_max: float | None = None,
    width: int = 300,
    height: int = 90,
) -> str:
    """A bar chart of (low, high, count) buckets, drawn as a share of their total.

    Charts of one feature in several splits share `x_range` and `y_max` so their shapes compare.
    """
    total = sum(c for _, _, c in buckets)
    if not buckets or total <= 0:
        return _empty(width, height)
    lo, hi = x_range or (min(b[0] for b in buckets), max(b[1] for b in buckets))
    span = (hi - lo) or 1.0
    top = y_max or max(c / total for _, _, c in buckets) or 1.0
    plot_h, pad = height - 16, 2
    bars = []
    for low, high, count in buckets:
        share = count / total
        x = pad + (low - lo) / span * (width - 2 * pad)
        w = max((high - low) / span * (width - 2 * pad), 1.5)
        if high == low:  # every value the same: one full-width bar
            x, w = pad, width - 2 * pad
        h = share / top * (plot_h - 2)
        bars.append(
            f'<rect x="{x:.1f}" y="{plot_h - h:.1f}" width="{max(w - 1, 1):.1f}" height="{h:.1f}" fill="{color}">'
            f"<title>[{esc(num(low))}, {esc(num(high))}]: {esc(num(count))} ({share:.1%})</title></rect>"
        )
    axis = (
        f'<line x1="0" y1="{plot_h}" x2="{width}" y2="{plot_h}" stroke="#999" stroke-width="1"/>'
        f'<text x="1" y="{height - 3}" class="ax">{esc(num(lo))}</text>'
        f'<text x="{width - 1}" y="{height - 3}" class="ax" text-anchor="end">{esc(num(hi))}</text>'
    )
    return _svg(width, height, "".join(bars) + axis)


def hbars(items: list[tuple[str, float]], total: float, color: str, width: int = 300, label_width: int = 110) -> str:
    """Horizontal bars, one per (label, count), the bar length a share of `total`, the share printed."""
    if not items or total <= 0:
        return _empty(width, 24)
    row, bar_w = 16, width - label_width - 48
    parts = []
    for i, (label, count) in enumerate(items):
        y, share = i * row, count / total
        shown = label if len(label) <= 16 else label[:15] + "…"
        parts.append(
            f"<g><title>{esc(label)}: {esc(num(count))} ({share:.1%})</title>"
            f'<text x="{label_width - 4}" y="{y + 12}" class="lb" text-anchor="end">{esc(shown)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{max(share * bar_w, 1):.1f}" height="{row - 5}" '
            f'fill="{color}"/>'
            f'<text x="{label_width + max(share * bar_w, 1) + 3:.1f}" y="{y + 12}" class="ax">{share:.0%}</text></g>'
        )
    return _svg(width, len(items) * row + 2, "".join(parts))


def _empty(width: int, height: int) -> str:
    return _svg(width, height, f'<text x="{width / 2}" y="{height / 2}" class="ax" text-anchor="middle">no data</text>')


def _svg(width: int, height: int, body: str) -> str:
    return f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">{body}</svg>'


_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Helvetica,Arial,sans-serif;font-size:13px;color:#222;
margin:24px;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}h3{font-size:14px}
.meta{color:#777;font-size:12px;margin-bottom:16px}
table{border-collapse:collapse;width:100%;margin-bottom:8px}
th{text-align:left;background:#f3f4f6;border-bottom:2px solid #d0d4da;padding:5px 8px;font-weight:600}
td{border-bottom:1px solid #e5e7eb;padding:5px 8px;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.feature{min-width:140px;max-width:260px;border-right:1px solid #e5e7eb}
td.feature.flagged{background:#fdecea;border-left:4px solid #d93025}
.fname{font-weight:600;word-break:break-all}.ftype{color:#777;font-size:11px}
td.split{white-space:nowrap}td.absent{color:#999;font-style:italic}
tr.err td{background:#fdecea}tr.warn td{background:#fff6db}
tr.err td.feature,tr.warn td.feature{background:#fdecea}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px}
.cards{display:flex;flex-wrap:wrap;gap:8px;margin-bottom:12px}
.card{border:1px solid #e5e7eb;border-radius:6px;padding:6px 10px;background:#fafafa}
.badge{display:inline-block;border-radius:6px;padding:1px 8px;font-size:11px;font-weight:600;margin:3px 0}
.badge.err{background:#d93025;color:#fff}.badge.warn{background:#f9ab00;color:#222}
.badge.ok{background:#1e8e3e;color:#fff}
.desc{font-size:11px;color:#5f2120;margin-bottom:4px}
.summary{border-radius:6px;padding:8px 12px;margin:8px 0}.summary ul{margin:4px 0 0;padding-left:20px}
.summary.bad{background:#fdecea;border:1px solid #f5c2be}.summary.good{background:#e6f4ea;border:1px solid #b7dfc1}
.warn-text{color:#b06000}.more{color:#777}
svg .ax{font-size:10px;fill:#666}svg .lb{font-size:11px;fill:#222}
"""


def page(title: str, body: str) -> str:
    """A complete HTML document: `title` is escaped here, `body` is markup the caller built."""
    made = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head>"
        f'<body><h1>{esc(title)}</h1><div class="meta">headrace report · {made}</div>{body}</body></html>\n'
    )


DATASET = "(dataset)"  # the feature column of an anomaly about the whole dataset


def ordered_splits(by_split: Mapping[str, Any]) -> list[str]:
    """Split names, train and eval first (the comparison a person makes), then the rest by name."""
    first = {"train": 0, "eval": 1, "test": 2}
    return sorted(by_split, key=lambda s: (first.get(s, 3), s))
