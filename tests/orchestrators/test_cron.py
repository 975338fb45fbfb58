"""Cron expressions as Vixie cron reads them: names, shortcuts, rare days, cron's day-or-weekday rule,
expressions that never fire, the numeric form Kubeflow gets, and clock changes (summer time)."""

from __future__ import annotations

import datetime
import time

import pytest

from headrace.errors import DefinitionError
from headrace.orchestrators.cron import Cron


def local(*args: int) -> float:
    return datetime.datetime(*args).timestamp()


def fires(expr: str, after: float, n: int) -> list[str]:
    cron, t, out = Cron(expr), after, []
    for _ in range(n):
        t = cron.next_after(t)
        out.append(time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(t)))
    return out


@pytest.fixture
def new_york(monkeypatch):
    """Local time is America/New_York (summer time from 2026-03-08 02:00, back on 2026-11-01 02:00)."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    assert time.tzname == ("EST", "EDT"), "the tzdata package is needed (apt-get install tzdata)"
    yield
    monkeypatch.undo()
    time.tzset()


def test_names_and_shortcuts_read_as_cron_reads_them():
    saturday_noon = local(2026, 12, 5, 12, 0)
    assert Cron("0 9 * * MON-FRI").next_after(saturday_noon) == local(2026, 12, 7, 9, 0)
    assert Cron("0 9 * * mon,Wed").next_after(local(2026, 12, 7, 9, 0)) == local(2026, 12, 9, 9, 0)
    assert Cron("0 0 1 JAN-MAR/2 *").next_after(saturday_noon) == local(2027, 1, 1, 0, 0)
    assert Cron("0 0 1 jan-mar/2 *").next_after(local(2027, 1, 1, 0, 0)) == local(2027, 3, 1, 0, 0)
    for shortcut, same in (
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@MIDNIGHT", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
    ):
        assert Cron(shortcut).next_after(saturday_noon) == Cron(same).next_after(saturday_noon), shortcut
        assert Cron(shortcut).expr == shortcut  # recorded as the user wrote it


def test_rare_days_are_found_years_ahead_and_days_that_never_come_are_refused():
    assert Cron("0 0 29 2 *").next_after(local(2026, 12, 5, 0, 0)) == local(2028, 2, 29, 0, 0)
    assert Cron("0 0 29 2 *").next_after(local(2028, 2, 29, 0, 0)) == local(2032, 2, 29, 0, 0)
    assert Cron("0 12 31 * *").next_after(local(2027, 1, 31, 12, 0)) == local(2027, 3, 31, 12, 0)  # no Feb 31
    for never in ("0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 31 FEB *"):
        with pytest.raises(DefinitionError, match="never fires"):
            Cron(never)


def test_both_days_restricted_means_either_and_a_star_step_is_unrestricted():
    # cron: day-of-month 1,15 OR Monday.
    assert fires("0 0 1,15 * 1", local(2026, 12, 5, 12, 0), 4) == [
        time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(local(*d)))
        for d in ((2026, 12, 7, 0, 0), (2026, 12, 14, 0, 0), (2026, 12, 15, 0, 0), (2026, 12, 21, 0, 0))
    ]
    # '*/2' counts as unrestricted (it starts with '*'): odd days AND Sundays.
    assert Cron("0 0 */2 * SUN").next_after(local(2026, 12, 5, 12, 0)) == local(2026, 12, 13, 0, 0)


@pytest.mark.parametrize(
    "bad, says",
    [
        ("", "cron expression is needed"),
        ("@reboot", "not one headrace knows"),
        ("0 0 * * FUN", "day-of-week 'FUN' is not a number"),
        ("0 0 1 SMARCH *", "month 'SMARCH' is not a number"),
        ("5-1 * * * *", "runs backwards"),
        ("*/0 * * * *", "outside"),
        ("0 24 * * *", "outside 0-23"),
        ("0 0 0 * *", "outside 1-31"),
        ("1 2 3 4", "five fields"),
        ("\u0663 * * * *", "outside ASCII"),  # an Arabic-Indic 3: Python's int() reads it, cron does not
        ("*\n* * * *", "line break"),
        ("*/61 * * * *", "steps by more than its 60 values"),
        ("1-2/x * * * *", "not a number"),
        (",".join(["1"] * 600) + " * * * *", "at most 1000"),
    ],
)
def test_bad_expressions_name_the_field_and_the_fix(bad, says):
    with pytest.raises(DefinitionError, match=says):
        Cron(bad)


def test_the_numeric_form_has_no_names_shortcuts_or_sunday_as_seven():
    assert Cron("0 9 * * MON-FRI").numeric() == "0 9 * * 1,2,3,4,5"
    assert Cron("@weekly").numeric() == Cron("0 0 * * 7").numeric() == "0 0 * * 0"
    assert Cron("*/15 * * * *").numeric() == "0,15,30,45 * * * *"
    assert Cron("0 0 * * 0-7").numeric() == "0 0 * * *"
    with pytest.raises(DefinitionError, match="List the days instead"):
        Cron("0 0 */3 * SUN").numeric()  # both for cron, either for Kubeflow's: refused, not misread
    for expr in ("0 9 * * MON-FRI", "@monthly", "*/7 1-5 */3 JUL-DEC *", "0 0 1,15 * 1"):
        start = local(2026, 12, 5, 12, 0)
        assert Cron(Cron(expr).numeric()).next_after(start) == Cron(expr).next_after(start), expr


def test_clock_changes_a_skipped_time_fires_after_the_jump_and_a_repeated_one_once(new_york):
    # 2026-03-08: 02:00 EST jumps to 03:00 EDT; 02:30 that day fires at 03:30.
    assert fires("30 2 * * *", local(2026, 3, 7, 12, 0), 3) == [
        "2026-03-08 03:30 EDT",
        "2026-03-09 02:30 EDT",
        "2026-03-10 02:30 EDT",
    ]
    # 2026-11-01: 02:00 EDT goes back to 01:00 EST; 01:30 that day fires once, the first time.
    assert fires("30 1 * * *", local(2026, 10, 31, 12, 0), 2) == ["2026-11-01 01:30 EDT", "2026-11-02 01:30 EST"]
    # With `*` hours it keeps firing through the repeated hour, in order.
    assert fires("*/20 * * * *", local(2026, 11, 1, 0, 30), 7) == [
        "2026-11-01 00:40 EDT",
        "2026-11-01 01:00 EDT",
        "2026-11-01 01:20 EDT",
        "2026-11-01 01:40 EDT",
        "2026-11-01 01:00 EST",
        "2026-11-01 01:20 EST",
        "2026-11-01 01:40 EST",
    ]
    # ... and skips the hour that does not exist.
    assert fires("*/20 * * * *", local(2026, 3, 8, 1, 0), 3) == [
        "2026-03-08 01:20 EST",
        "2026-03-08 01:40 EST",
        "2026-03-08 03:00 EDT",
    ]
