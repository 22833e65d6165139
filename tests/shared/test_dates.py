"""The one parser of typed dates: ``--since``, ``--until``, ``--before``, ``--now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pilotgate._dates import parse_time
from pilotgate.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-01", datetime(2026, 5, 1, tzinfo=UTC)),
        ("2026-05-01T10:30:00", datetime(2026, 5, 1, 10, 30, tzinfo=UTC)),
        ("2026-05-01T10:30:00Z", datetime(2026, 5, 1, 10, 30, tzinfo=UTC)),
        (
            "2026-05-01T12:30:00+02:00",
            datetime(2026, 5, 1, 12, 30, tzinfo=timezone(timedelta(hours=2))),
        ),
    ],
)
def test_dates_and_times_are_aware_and_utc_without_a_zone(text: str, expected: datetime) -> None:
    got = parse_time(text, where="--since")
    assert got == expected and got is not None and got.utcoffset() == expected.utcoffset()


def test_none_is_none_and_a_bad_date_names_the_option() -> None:
    assert parse_time(None, where="--until") is None
    with pytest.raises(ConfigError) as exc:
        parse_time("last tuesday", where="--now")
    assert exc.value.where == "--now" and "'last tuesday' is not a date" in exc.value.one_line()
