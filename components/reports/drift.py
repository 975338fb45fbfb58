"""The drift page: DistributionValidator's tests, their statistics and p-values, drifted or not."""

from __future__ import annotations

from typing import Any

from headrace.components.reports.html import esc, num, page

_TESTS = {
    "ks": ("Kolmogorov-Smirnov", "p < threshold"),
    "chi2": ("chi-squared", "p < threshold"),
    "l_infinity": ("L-infinity distance", "statistic > threshold"),
    "jensen_shannon": ("Jensen-Shannon divergence", "statistic > threshold"),
}


def drift_html(rows: list[dict[str, Any]], title: str) -> str:
    """A table of drift tests, the drifted first and highlighted.

    Args:
        rows: Dicts with keys feature, split, test ('ks', 'chi2', 'l_infinity', 'jensen_shannon'),
            statistic, p_value (None for distances), threshold, drifted.
        title: The page title.
    """
    ordered = sorted(rows, key=lambda r: (not r["drifted"], str(r["feature"]), str(r["split"]), str(r["test"])))
    drifted = sum(1 for r in rows if r["drifted"])
    trs = []
    for r in ordered:
        name, rule = _TESTS.get(str(r["test"]), (str(r["test"]), ""))
        verdict = '<span class="badge err">drifted</span>' if r["drifted"] else '<span class="badge ok">no drift</span>'
        p_value = r.get("p_value")
        trs.append(
            f'<tr class="{"err" if r["drifted"] else ""}"><td class="fname">{esc(r["feature"])}</td>'
            f'<td>{esc(r["split"])}</td><td>{esc(name)}</td><td class="n">{num(r["statistic"])}</td>'
            f'<td class="n">{num(p_value)}</td><td class="n">{num(r["threshold"])}</td>'
            f"<td>{esc(rule)}</td><td>{verdict}</td></tr>"
        )
    features = len({r["feature"] for r in rows})
    summary = (
        f'<p class="summary {"bad" if drifted else "good"}"><b>{drifted} of {len(rows)} tests drifted</b> '
        f"({features} features)</p>"
    )
    table = (
        "<table><tr><th>feature</th><th>split</th><th>test</th><th>statistic</th><th>p-value</th><th>threshold</th>"
        f"<th>drifted when</th><th>result</th></tr>{''.join(trs)}</table>"
    )
    return page(title, summary + (table if rows else ""))


__all__ = ["drift_html"]
