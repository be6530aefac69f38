"""How typed custom-field values are read from input, stored as JSON and read back (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from crm import values
from crm.channels import normalize_email, normalize_phone
from crm.errors import InvalidInput


@pytest.mark.parametrize(
    ("field_type", "given", "parsed", "stored"),
    [
        ("string", "Sberbank", "Sberbank", "Sberbank"),
        ("number", "12", Decimal("12"), 12),
        ("number", 2.5, Decimal("2.5"), 2.5),
        ("money", "1 500,5", Decimal("1500.50"), 1500.5),
        ("money", Decimal("0.005"), Decimal("0.01"), 0.01),
        ("date", "2026-01-05", date(2026, 1, 5), "2026-01-05"),
        ("date", datetime(2026, 1, 5, 23, 0, tzinfo=UTC), date(2026, 1, 5), "2026-01-05"),
        ("datetime", "2026-01-05T12:00:00+03:00", datetime(2026, 1, 5, 9, tzinfo=UTC), "2026-01-05T09:00:00+00:00"),
        ("datetime", "2026-01-05", datetime(2026, 1, 5, tzinfo=UTC), "2026-01-05T00:00:00+00:00"),
        ("bool", "yes", True, True),
        ("bool", 0, False, False),
    ],
)  # fmt: skip
def test_values_round_trip_through_json(field_type, given, parsed, stored):
    assert values.parse_field(field_type, given) == parsed
    assert values.to_json(field_type, parsed) == stored
    assert values.from_json(field_type, stored) == parsed


def test_stored_datetimes_are_utc_whatever_zone_they_came_in():
    moscow = timezone(timedelta(hours=3))
    moment = values.parse_datetime(datetime(2026, 1, 5, 12, 0, tzinfo=moscow))

    assert moment.tzinfo == UTC and moment.hour == 9


@pytest.mark.parametrize(
    ("field_type", "given", "reason"),
    [
        ("number", "twelve", "'twelve' is not a number"),
        ("number", True, "must be a number"),
        ("money", "NaN", "must be a finite number"),
        ("money", "1e13", "is too large"),
        ("date", "05.01.2026", "is not a date"),
        ("datetime", "noon", "is not a date and time"),
        ("bool", "maybe", "must be true or false"),
        ("string", ["a"], "must be text"),
    ],
)
def test_bad_values_say_why(field_type, given, reason):
    with pytest.raises(ValueError, match=reason):
        values.parse_field(field_type, given)


def test_enum_values_must_be_among_the_options():
    assert values.parse_field("enum", "credit", ["credit", "installment"]) == "credit"
    with pytest.raises(ValueError, match="must be one of: credit, installment"):
        values.parse_field("enum", "leasing", ["credit", "installment"])


def test_products_are_checked_line_by_line():
    products, errors = values.parse_products(
        [{"name": "Fridge", "price": "100"}, {"name": "", "qty": -1, "price": "x"}, "kettle"]
    )

    assert products[0] == {"name": "Fridge", "qty": 1, "price": 100}
    assert errors == {
        "products[1].name": "is required",
        "products[1].qty": "must be positive",
        "products[1].price": "'x' is not a number",
        "products[2]": "must be an object with name, qty and price",
    }


@pytest.mark.parametrize("empty", [None, "", "  ", [], {}])
def test_what_counts_as_empty(empty):
    assert values.is_empty(empty)


@pytest.mark.parametrize("filled", [0, False, Decimal("0"), "0", ["x"]])
def test_what_counts_as_filled(filled):
    assert not values.is_empty(filled)


@pytest.mark.parametrize(
    ("phone", "normalized"),
    [
        ("+7 (916) 111-22-33", "79161112233"),
        ("8 916 111 22 33", "79161112233"),
        ("9161112233", "79161112233"),
        ("+44 20 7946 0958", "442079460958"),
        ("no digits", None),
    ],
)
def test_phones_are_reduced_to_one_spelling(phone, normalized):
    assert normalize_phone(phone) == normalized


def test_emails_are_lower_case_and_must_have_an_at():
    assert normalize_email(" Ivan@Example.COM ") == "ivan@example.com"
    assert normalize_email("ivan") is None


def test_invalid_input_lists_fields_for_the_api():
    error = InvalidInput(fields={"bank": "is required", "term_months": "must be a number"})

    assert error.as_dict() == {
        "code": "invalid_input",
        "message": "bank: is required; term_months: must be a number",
        "fields": {"bank": "is required", "term_months": "must be a number"},
    }
