"""The schema page: each feature's type, presence, shape and domain."""

from __future__ import annotations

from typing import Any

from headrace.components.reports.html import EMPTY, esc, num, page

_DOMAIN_VALUES = 12


def schema_html(schema: Any, title: str) -> str:
    """A table of the schema's features: name, type, presence, valency or shape, domain.

    Args:
        schema: A tensorflow_metadata `Schema`.
        title: The page title.
    """
    domains = {d.name: d for d in schema.string_domain}
    rows = []
    for f in sorted(schema.feature, key=lambda f: f.name):
        type_name = f.DESCRIPTOR.fields_by_name["type"].enum_type.values_by_number[f.type].name
        notes = []
        if f.not_in_environment:
            notes.append("not in " + ", ".join(f.not_in_environment))
        if f.in_environment:
            notes.append("only in " + ", ".join(f.in_environment))
        if f.deprecated or f.lifecycle_stage == 6:  # 6: LifecycleStage.DEPRECATED
            notes.append("deprecated")
        rows.append(
            f'<tr><td class="fname">{esc(f.name)}</td><td>{esc(type_name)}</td><td>{esc(_presence(f))}</td>'
            f"<td>{esc(_shape(f))}</td><td>{_domain(f, domains)}</td><td>{esc('; '.join(notes))}</td></tr>"
        )
    extra = ""
    if schema.sparse_feature or schema.weighted_feature:
        names = [s.name for s in schema.sparse_feature] + [w.name for w in schema.weighted_feature]
        extra = f"<p>Sparse and weighted features: {esc(', '.join(names))}</p>"
    table = (
        "<table><tr><th>feature</th><th>type</th><th>presence</th><th>valency / shape</th><th>domain</th>"
        f"<th>notes</th></tr>{''.join(rows)}</table>"
    )
    return page(title, f'<div class="cards"><div class="card">{len(rows)} features</div></div>{table}{extra}')


def _presence(f: Any) -> str:
    if not f.HasField("presence"):
        return EMPTY
    p = f.presence
    if p.min_fraction >= 1:
        text = "required"
    elif p.HasField("min_fraction"):
        text = f"optional (≥ {p.min_fraction:.0%} of examples)"
    else:
        text = "optional"
    return text + (f", min count {p.min_count}" if p.min_count else "")


def _shape(f: Any) -> str:
    if f.HasField("shape"):
        return "shape [" + ", ".join(str(d.size) for d in f.shape.dim) + "]"
    if f.HasField("value_count"):
        lo, hi = f.value_count.min, f.value_count.max
        if lo == hi == 1:
            return "single value"
        return f"{lo} to {hi or '∞'} values" if lo != hi else f"{lo} values"
    if f.HasField("value_counts"):
        return "nested: " + " x ".join(f"{v.min} to {v.max or '∞'}" for v in f.value_counts.value_count)
    return EMPTY


def _domain(f: Any, domains: dict[str, Any]) -> str:
    which = f.WhichOneof("domain_info")
    if which in ("domain", "string_domain"):
        d = domains.get(f.domain) if which == "domain" else f.string_domain
        if d is None:
            return f"string domain {esc(f.domain)} (not in the schema)"
        values = list(d.value)
        shown = ", ".join(esc(v) for v in values[:_DOMAIN_VALUES])
        more = (
            f' <span class="more">… and {len(values) - _DOMAIN_VALUES} more</span>'
            if len(values) > _DOMAIN_VALUES
            else ""
        )
        return f'<span class="more">{len(values)} values:</span> {shown}{more}'
    if which in ("int_domain", "float_domain"):
        d = getattr(f, which)
        lo = num(d.min) if d.HasField("min") else "-∞"
        hi = num(d.max) if d.HasField("max") else "∞"
        categorical = " categorical" if which == "int_domain" and d.is_categorical else ""
        return (
            f"[{lo}, {hi}]{categorical}" if (d.HasField("min") or d.HasField("max")) else (categorical.strip() or EMPTY)
        )
    return esc(which.replace("_", " ")) if which else EMPTY


__all__ = ["schema_html"]
