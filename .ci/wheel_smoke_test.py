"""A trivial test that .ci/check-wheel runs against the installed wheel, without Hypothesis."""

from __future__ import annotations

from datetime import timedelta

import pendulum

from itsm_core.calendar import BusinessCalendar


def test_the_installed_package_counts_business_hours_over_a_weekend() -> None:
    calendar = BusinessCalendar.eight_by_five("Europe/Moscow")
    friday = pendulum.datetime(2026, 3, 6, 16, tz="Europe/Moscow")
    monday = pendulum.datetime(2026, 3, 9, 10, tz="Europe/Moscow")
    assert calendar.add(friday, timedelta(hours=2)) == monday
