"""The evaluation page: the Evaluator's verdict and every slice's metrics beside the baseline's."""

from __future__ import annotations

from headrace.components.reports.html import esc, num, page


def evaluation_html(
    candidate: dict[str, dict[str, float]],
    baseline: dict[str, dict[str, float]] | None,
    failures: list[str],
    title: str,
) -> str:
    """A model evaluation: the verdict and its reasons, then every slice's metrics, the baseline
    model's beside them and the change (when there is a baseline).

    Args:
        candidate: {slice name: {metric: value}} of the evaluated model.
        baseline: The same for the baseline model, or None.
        failures: The failed thresholds (empty: blessed).
        title: The page title.
    """
    verdict = (
        '<p class="summary good"><b>blessed</b>: every threshold holds</p>'
        if not failures
        else '<p class="summary bad"><b>NOT blessed</b></p><ul>'
        + "".join(f"<li>{esc(f)}</li>" for f in failures)
        + "</ul>"
    )
    metrics = sorted({m for row in candidate.values() for m in row})
    head = "<tr><th>slice</th><th>metric</th><th>model</th>" + (
        "<th>baseline</th><th>change</th></tr>" if baseline else "</tr>"
    )
    trs = []
    for slice_name, row in candidate.items():
        for metric in metrics:
            if metric not in row:
                continue
            value = row[metric]
            cells = f'<td class="fname">{esc(slice_name)}</td><td>{esc(metric)}</td><td class="n">{num(value)}</td>'
            if baseline:
                base = (baseline.get(slice_name) or {}).get(metric)
                change = None if base is None or value is None else value - base
                cells += f'<td class="n">{num(base)}</td><td class="n">{num(change)}</td>'
            flagged = any(metric in f and slice_name in f for f in failures)
            trs.append(f'<tr class="{"err" if flagged else ""}">{cells}</tr>')
    return page(title, verdict + f"<table>{head}{''.join(trs)}</table>")


__all__ = ["evaluation_html"]
