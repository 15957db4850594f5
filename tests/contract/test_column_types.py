"""Times and amounts keep their meaning on a database without time zones or decimals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from storage.types import Amount, UTCDateTime

SQLITE = sqlite.dialect()
POSTGRES = postgresql.dialect()


def test_a_time_is_stored_in_utc_and_read_back_with_its_zone() -> None:
    moment = datetime(2025, 3, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    column = UTCDateTime()

    stored = column.process_bind_param(moment, SQLITE)

    assert stored == datetime(2025, 3, 1, 12, 0)  # naive UTC text on SQLite
    assert column.process_result_value(stored, SQLITE) == moment
    assert column.process_result_value(stored, SQLITE).tzinfo is UTC  # type: ignore[union-attr]
    assert column.process_bind_param(moment, POSTGRES) == moment


def test_a_time_without_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        UTCDateTime().process_bind_param(datetime(2025, 3, 1, 12, 0), POSTGRES)


@pytest.mark.parametrize(
    ("amount", "read_back"),
    [("0.01", "0.01"), ("24.99", "24.99"), ("9999999999.99", "9999999999.99"), ("35", "35.00")],
)
def test_an_amount_comes_back_to_the_cent(amount: str, read_back: str) -> None:
    column = Amount()

    stored = column.process_bind_param(Decimal(amount), SQLITE)

    assert str(column.process_result_value(stored, SQLITE)) == read_back
