"""Cron expressions as Vixie cron (and Airflow, and Kubernetes CronJobs) read them, in local time.

Five fields, minute hour day-of-month month day-of-week, each `*`, a number, a range `a-b`, a list
`a,b`, or a step `*/n` / `a-b/n` / `a/n`; months and weekdays also by name (`JAN`, `MON-FRI`), Sunday
as 0 or 7; and the shortcuts `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`)
and `@hourly`. When both day-of-month and day-of-week are restricted, a day matching either one
matches (cron's rule); a field counts as unrestricted when it starts with `*`.

Clock changes, as Vixie cron handles them: a time skipped when the clock goes forward fires once, when
the clock has jumped (02:30 fires at 03:30 on the day summer time starts); a time passed twice when
the clock goes back fires once, the first time, unless the hour field is `*` (`*/15 * * * *` keeps
firing through the repeated hour).
"""

from __future__ import annotations

import calendar
import datetime

from headrace.errors import DefinitionError

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day-of-month", 1, 31), ("month", 1, 12), ("day-of-week", 0, 7))
_NAMES = {
    "month": {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m},
    "day-of-week": {d.lower(): (i + 1) % 7 for i, d in enumerate(calendar.day_abbr)},  # mon=1 ... sun=0
}
SHORTCUTS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_SEARCH_YEARS = 28  # the calendar repeats: any day that exists comes round within this
_MAX_CHARS = 1000


class Cron:
    """A cron expression; `next_after(t)` is the first time strictly after `t` it fires."""

    def __init__(self, expr: str):
        if not isinstance(expr, str) or not expr.strip():
            raise DefinitionError("A cron expression is needed, e.g. '0 3 * * *' (03:00 every day) or '@daily'.")
        self.expr = expr.strip()
        if len(self.expr) > _MAX_CHARS:
            raise DefinitionError(f"Cron expression of {len(self.expr)} characters: at most {_MAX_CHARS}.")
        if not self.expr.isascii() or any(not (c.isprintable() or c == "\t") for c in self.expr):
            raise DefinitionError(
                f"Cron expression {self.expr[:60]!r} has a character cron does not read (a line break, a "
                "control character, or a letter or digit outside ASCII)."
            )
        text = SHORTCUTS.get(self.expr.lower())
        if text is None and self.expr.startswith("@"):
            raise DefinitionError(
                f"Cron shortcut {self.expr!r} is not one headrace knows: use one of {', '.join(sorted(SHORTCUTS))}"
                " or five fields."
            )
        parts = (text or self.expr).split()
        if len(parts) != 5:
            raise DefinitionError(
                f"Cron expression {self.expr!r} needs five fields (minute hour day-of-month month day-of-week),"
                " e.g. '0 3 * * *', or a shortcut such as '@daily'."
            )
        self.sets = [_field(p, name, lo, hi) for p, (name, lo, hi) in zip(parts, _FIELDS, strict=True)]
        self.minutes, self.hours, self.days, self.months, self.weekdays = (sorted(s) for s in self.sets)
        self.any_day, self.any_weekday = parts[2].startswith("*"), parts[4].startswith("*")
        self.any_hour = parts[1].startswith("*")
        self.fields = " ".join(parts)
        if self.any_weekday and not any(
            day <= calendar.monthrange(2000, month)[1] for month in self.months for day in self.days
        ):
            raise DefinitionError(
                f"Cron expression {self.expr!r} never fires: no month in it has day {self.days[0]}"
                f"{'' if len(self.days) == 1 else ' or later listed days'}."
            )

    def numeric(self) -> str:
        """The five fields with every name, shortcut and Sunday-as-7 written as numbers: what the
        strictest cron readers (Kubeflow's, with a seconds field in front) accept."""
        full_days, full_weekdays = self.sets[2] == set(range(1, 32)), self.sets[4] == set(range(7))
        if (self.any_day and not full_days and not full_weekdays) or (
            self.any_weekday and not full_weekdays and not full_days
        ):
            raise DefinitionError(
                f"Cron expression {self.expr!r} steps a day field ('*/n') while restricting the other: cron"
                " reads that as 'both', Kubeflow's cron as 'either'. List the days instead (e.g. '1,15')."
            )
        out = []
        for values, (name, lo, hi) in zip(self.sets, _FIELDS, strict=True):
            full = set(range(lo, 7 if name == "day-of-week" else hi + 1))
            out.append("*" if values == full else ",".join(str(v) for v in sorted(values)))
        return " ".join(out)

    def next_after(self, t: float) -> float:
        """The first time strictly after `t` (epoch seconds) that the expression fires."""
        start = datetime.datetime.fromtimestamp(t)
        day = start.date() - datetime.timedelta(days=1)  # a clock change near midnight can reach back
        for _ in range(366 * _SEARCH_YEARS):
            if self._day_matches(day):
                if _clock_changes(day):
                    found = min((c for c in self._candidates(day) if c > t), default=None)
                else:  # local time runs evenly all day: the first (hour, minute) after `start` is it
                    found = self._first_after(day, start) if day >= start.date() else None
                if found is not None:
                    return found
            day += datetime.timedelta(days=1)
        raise DefinitionError(f"Cron expression {self.expr!r} never fires.")  # pragma: no cover - checked above

    def _day_matches(self, day: datetime.date) -> bool:
        if day.month not in self.sets[3]:
            return False
        day_ok, weekday_ok = day.day in self.sets[2], (day.isoweekday() % 7) in self.sets[4]
        if self.any_day or self.any_weekday:
            return day_ok and weekday_ok
        return day_ok or weekday_ok

    def _first_after(self, day: datetime.date, start: datetime.datetime) -> float | None:
        after = (start.hour, start.minute) if day == start.date() else (-1, -1)
        for hour in self.hours:
            if hour < after[0]:
                continue
            for minute in self.minutes:
                if (hour, minute) > after:
                    return datetime.datetime(day.year, day.month, day.day, hour, minute).timestamp()
        return None

    def _candidates(self, day: datetime.date) -> set[float]:
        """Every time the expression fires on a day the clock changes: fold=0 is the first of a
        repeated time, and for a skipped one the time after the jump; fold=1 (the repeat) only for
        `*` hours."""
        found = set()
        for hour in self.hours:
            for minute in self.minutes:
                naive = datetime.datetime(day.year, day.month, day.day, hour, minute)
                found.add(naive.timestamp())
                if self.any_hour:
                    found.add(naive.replace(fold=1).timestamp())
        return found


def _clock_changes(day: datetime.date) -> bool:
    """Whether local time's offset from UTC changes during `day`."""
    midnight = datetime.datetime(day.year, day.month, day.day)
    return midnight.astimezone().utcoffset() != (midnight + datetime.timedelta(days=1)).astimezone().utcoffset()


def _field(text: str, name: str, lo: int, hi: int) -> set[int]:
    names = _NAMES.get(name, {})

    def number(word: str) -> int:
        if word.lower() in names:
            return names[word.lower()]
        if not word.isdigit():
            raise ValueError(word)
        return int(word)

    found: set[int] = set()
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        try:
            if slash and not step_text.isdigit():
                raise ValueError(step_text)
            step = int(step_text) if slash else 1
            if base == "*":
                start, end = lo, (6 if name == "day-of-week" else hi)
            elif "-" in base:
                a, b = base.split("-", 1)
                start, end = number(a), number(b)
            else:
                start = number(base)
                end = hi if slash else start
        except ValueError:
            example = {"month": " (or JAN-DEC)", "day-of-week": " (or SUN-SAT)"}.get(name, "")
            raise DefinitionError(
                f"Cron field {name} {text!r} is not a number{example}, range, list or step."
            ) from None
        if step < 1 or not lo <= start <= end <= hi:
            raise DefinitionError(f"Cron field {name} {text!r} is outside {lo}-{hi} (or a range runs backwards).")
        if step > hi - lo + 1:
            raise DefinitionError(f"Cron field {name} {text!r} steps by more than its {hi - lo + 1} values.")
        found.update(v % 7 if name == "day-of-week" else v for v in range(start, end + 1, step))
    return found
