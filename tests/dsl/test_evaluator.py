"""Evaluation: reading fields, operators, their types and errors, safety and limits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from dsl import DslError, DslEvalError, DslSyntaxError, compile_expression, evaluate, limits
from tests.dsl.support import NOW, FakeRecord, ev, make_env


def eval_error(text: str, env: dict | None = None) -> DslEvalError:
    with pytest.raises(DslEvalError) as caught:
        ev(text, env)
    return caught.value


# --- field paths ------------------------------------------------------------------------------


def test_a_root_name_is_looked_up_in_the_environment():
    assert ev("count") == 3


def test_records_are_read_through_dsl_get():
    assert ev("deal.amount") == Decimal("1500.00")
    assert ev("deal.contact.phone") == "+7 900 000-00-00"
    assert ev("deal.responsible.supervisor.name") == "Olga"


def test_mappings_are_read_by_key():
    assert ev("event.approved") is True


def test_a_missing_key_of_a_mapping_is_null():
    assert ev("event.nothing_here") is None
    assert ev("unset_variable") is None


def test_null_in_the_middle_of_a_path_gives_null():
    assert ev("deal.source.name.first") is None
    assert ev("deal.responsible.supervisor.supervisor.name") is None


def test_a_missing_field_of_a_record_is_an_error_naming_the_record_type():
    error = eval_error("deal.amount > 0 and deal.colour == 'red'")
    assert error.message == "deal has no field 'colour'"
    assert (error.line, error.column) == (1, 26)


def test_reading_a_field_of_a_plain_value_is_an_error():
    error = eval_error("deal.title.length")
    assert error.message == "cannot read field 'length' of text"
    assert error.column == 12


def test_reading_a_field_of_any_other_python_object_is_an_error():
    class Model:
        title = "x"

    error = eval_error("deal.title", {"deal": Model()})
    assert error.message == "cannot read field 'title' of object"


def test_index_access_reads_list_items():
    assert ev("deal.products[0].name") == "Bike"
    assert ev("deal.products[1].qty") == 1
    assert ev("deal.products[count - 2].name") == "Helmet"


def test_negative_indexes_count_from_the_end_and_out_of_range_is_null():
    assert ev("deal.tags[-1]") == "b2b"
    assert ev("deal.tags[5]") is None
    assert ev("deal.source[0]") is None


def test_a_list_index_must_be_a_whole_number():
    assert "whole number" in eval_error("deal.tags[1.5]").message
    assert "whole number" in eval_error("deal.tags[true]").message


def test_text_keys_read_fields_with_any_name():
    assert ev("deal.custom['Delivery date']") == "2026-01-07"
    assert ev("deal['title']") == "Bike rental"


def test_floats_from_data_become_decimals():
    assert ev("event.payment.sum") == Decimal("1500.5")
    assert ev("x + 0.1", {"x": 0.2}) == Decimal("0.3")


def test_naive_datetimes_from_data_are_taken_as_utc():
    assert ev("t", {"t": datetime(2026, 1, 1, 10)}) == datetime(2026, 1, 1, 10, tzinfo=UTC)
    moscow = timezone(timedelta(hours=3))
    assert ev("t", {"t": datetime(2026, 1, 1, 10, tzinfo=moscow)}).hour == 7


def test_tuples_from_data_are_lists():
    assert ev("t", {"t": (1, 2)}) == [1, 2]


# --- safety -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "deal.__class__",
        "deal._sa_instance_state",
        "deal._fields",
        "().__class__",
        "__import__('os')",
        "deal.__class__.__mro__[1].__subclasses__()",
        "_private",
        "lower.__globals__",
        "deal.title.upper()",
        "open('/etc/passwd')",
        "eval('1')",
        "exec('x = 1')",
        "getattr(deal, 'password')",
        "deal['_sa_instance_state']",
        "deal.custom['_hidden']",
        "[].append",
        "'' + deal.__dict__",
    ],
)
def test_python_internals_are_unreachable(text):
    with pytest.raises(DslError):
        ev(text)


def test_python_attributes_of_records_are_not_fields():
    assert eval_error("deal.password").message == "deal has no field 'password'"
    assert eval_error("deal.dsl_get").message == "deal has no field 'dsl_get'"


def test_mapping_keys_starting_with_an_underscore_are_not_readable():
    assert "cannot be read" in eval_error("m['_x']", {"m": {"_x": 1}}).message


# --- comparison -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 == 1.0", True),
        ("2 > 1.5", True),
        ("1.5 <= 1", False),
        ("'a' < 'b'", True),
        ("'abc' != 'abc'", False),
        ("2026-01-05 < 2026-01-06", True),
        ("2026-01-05 == 2026-01-05T00:00Z", True),
        ("2026-01-05 < 2026-01-05T00:01", True),
        ("2026-01-05T00:00:00+01:00 < 2026-01-05", True),
        ("2h > 90m", True),
        ("1d == 24h", True),
        ("true == true", True),
        ("[1, 2] == [1, 2]", True),
        ("null == null", True),
    ],
)
def test_comparisons(text, value):
    assert ev(text) is value


def test_values_of_different_types_are_unequal_not_errors():
    assert ev("1 == '1'") is False
    assert ev("'1' != 1") is True
    assert ev("true == 1") is False
    assert ev("null == 0") is False
    assert ev("deal.source == 'web'") is False


def test_ordering_different_types_is_an_error():
    error = eval_error("deal.title > 5")
    assert error.message == "cannot compare text and number"
    assert error.column == 12
    assert eval_error("true < false").message == "cannot compare boolean and boolean"


def test_ordering_with_null_is_false_either_way():
    assert ev("deal.source > 5") is False
    assert ev("deal.source <= 5") is False
    assert ev("null < null") is False


def test_records_compare_by_identity():
    assert ev("deal == deal") is True
    assert ev("deal.contact == deal.responsible") is False


def test_is_null_and_is_not_null():
    assert ev("deal.source is null") is True
    assert ev("deal.title is not null") is True
    assert ev("unset is null") is True


def test_in_checks_list_membership_and_substrings():
    assert ev("'vip' in deal.tags") is True
    assert ev("'retail' not in deal.tags") is True
    assert ev("1 in [1.0, 2]") is True
    assert ev("'Bike' in deal.title") is True
    assert ev("'x' in deal.source") is False
    assert ev("'approved' in event") is True


def test_in_text_needs_text():
    assert eval_error("1 in 'abc'").message == "cannot look for number in text"
    assert eval_error("1 in 5").message == "cannot look for number in number"


# --- logic ------------------------------------------------------------------------------------


def test_and_or_not_return_booleans():
    assert ev("1 and 'x'") is True
    assert ev("0 or ''") is False
    assert ev("not deal.source") is True
    assert ev("not deal.tags") is False


def test_and_and_or_short_circuit():
    assert ev("false and 1 / 0") is False
    assert ev("true or deal.colour") is True
    assert ev("deal.source is not null and deal.source.name == 'x'") is False


def test_truthiness_of_empty_values_and_zero_durations():
    assert ev("not ''") is True
    assert ev("not []") is True
    assert ev("not 0s") is True
    assert ev("not 0.0") is True
    assert ev("not deal") is False


# --- arithmetic -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 + 2", 3),
        ("7 - 10", -3),
        ("6 * 7", 42),
        ("10 / 2", 5),
        ("7 / 2", Decimal("3.5")),
        ("7 % 3", 1),
        ("-7 % 3", 2),
        ("1.5 + 1", Decimal("2.5")),
        ("0.1 + 0.2", Decimal("0.3")),
        ("deal.amount * 2", Decimal("3000.00")),
        ("5.5 % 2", Decimal("1.5")),
        ("-5.5 % 2", Decimal("0.5")),
        ("-(2 + 3)", -5),
        ("'ab' + 'cd'", "abcd"),
        ("[1] + [2, 3]", [1, 2, 3]),
    ],
)
def test_arithmetic_on_numbers_text_and_lists(text, value):
    result = ev(text)
    assert result == value
    assert type(result) is type(value)


def test_integer_division_that_is_exact_stays_an_integer():
    assert type(ev("10 / 2")) is int
    assert ev("1 / 3") == Decimal("0." + "3" * 34)  # 34 significant digits


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2026-01-05T10:00 + 2h", datetime(2026, 1, 5, 12, tzinfo=UTC)),
        ("2h + 2026-01-05T10:00", datetime(2026, 1, 5, 12, tzinfo=UTC)),
        ("2026-01-05T10:00 - 1d", datetime(2026, 1, 4, 10, tzinfo=UTC)),
        ("2026-01-05 + 2d", date(2026, 1, 7)),
        ("2026-01-05 - 1w", date(2025, 12, 29)),
        ("2026-01-05 + 2d 4h", datetime(2026, 1, 7, 4, tzinfo=UTC)),
        ("2026-01-05T12:00 - 2026-01-05T10:30", timedelta(hours=1, minutes=30)),
        ("2026-01-10 - 2026-01-05", timedelta(days=5)),
        ("2026-01-05T12:00 - 2026-01-05", timedelta(hours=12)),
        ("2h + 30m", timedelta(hours=2, minutes=30)),
        ("2h - 3h", timedelta(hours=-1)),
        ("2h * 3", timedelta(hours=6)),
        ("1.5 * 2h", timedelta(hours=3)),
        ("3h / 2", timedelta(hours=1, minutes=30)),
        ("3h / 1h", 3),
        ("-1d", timedelta(days=-1)),
    ],
)
def test_arithmetic_on_dates_and_durations(text, value):
    result = ev(text)
    assert result == value
    assert type(result) is type(value)


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("1 + 'a'", "cannot add number and text", 3),
        ("'a' + 1", "cannot add text and number", 5),
        ("deal.title + deal.amount", "cannot add text and number", 12),
        ("'a' - 'b'", "cannot subtract text from text", 5),
        ("'ab' * 3", "cannot multiply text by number", 6),
        ("true / 2", "cannot divide boolean by number", 6),
        ("'a' % 2", "cannot take text modulo number", 5),
        ("2026-01-05 + 2026-01-05", "cannot add date and date", 12),
        ("1 + deal.source", "cannot add number and null", 3),
        ("-'a'", "cannot negate text", 1),
        ("1 + 2 + 'x'", "cannot add number and text", 7),
    ],
)
def test_arithmetic_type_errors_name_both_types_and_point_at_the_operator(text, message, column):
    error = eval_error(text)
    assert error.message == message
    assert (error.line, error.column) == (1, column)


@pytest.mark.parametrize("text", ["1 / 0", "1.5 / 0", "1 % 0", "2h / 0", "2h / 0s", "1 / (2 - 2)"])
def test_division_by_zero_is_an_error(text):
    assert eval_error(text).message == "division by zero"


def test_dates_out_of_range_are_errors():
    assert "out of range" in eval_error("9999-12-31 + 1w").message
    assert "out of range" in eval_error("99999999d * 99999999").message


# --- functions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("now()", NOW),
        ("today()", date(2026, 1, 5)),
        ("len('abc')", 3),
        ("len(deal.tags)", 2),
        ("len(deal.source)", 0),
        ("lower('AbC')", "abc"),
        ("upper('AbC')", "ABC"),
        ("trim('  a b ')", "a b"),
        ("lower(deal.source)", None),
        ("contains(deal.tags, 'vip')", True),
        ("contains(deal.title, 'rent')", True),
        ("starts_with(deal.contact.phone, '+7')", True),
        ("starts_with(deal.source, 'x')", False),
        ("days_between(2026-01-01, 2026-01-05)", 4),
        ("days_between(2026-01-05, 2026-01-01)", -4),
        ("days_between(deal.created_at, now())", 4),
        ("days_between('2026-01-01', '2026-01-03T23:00')", 2),
        ("days_between(2026-01-01T10:00, 2026-01-02T09:00)", 0),
        ("days_between(deal.source, now())", None),
        ("date(2026-01-05T23:30)", date(2026, 1, 5)),
        ("date('2026-01-07')", date(2026, 1, 7)),
        ("date('2026-01-07T23:00:00-03:00')", date(2026, 1, 8)),
        ("datetime(2026-01-05)", datetime(2026, 1, 5, tzinfo=UTC)),
        ("datetime('2026-01-05T10:00')", datetime(2026, 1, 5, 10, tzinfo=UTC)),
        ("duration('PT2H')", timedelta(hours=2)),
        ("duration('2d 4h')", timedelta(days=2, hours=4)),
        ("duration(3h)", timedelta(hours=3)),
        ("coalesce(deal.source, deal.title)", "Bike rental"),
        ("coalesce(null, null)", None),
        ("round(2.345, 2)", Decimal("2.35")),
        ("round(2.5)", 3),
        ("round(-2.5)", -3),
        ("round(1234, -2)", 1200),
        ("round(7, 2)", 7),
        ("abs(-3)", 3),
        ("abs(-2h)", timedelta(hours=2)),
        ("min(3, 1.5, 2)", Decimal("1.5")),
        ("max(3, 1, 2)", 3),
        ("max([2026-01-01, 2026-03-01])", date(2026, 3, 1)),
        ("min(deal.source, 4)", 4),
        ("min([])", None),
        ("str(1.50)", "1.50"),
        ("str(2026-01-05)", "2026-01-05"),
        ("str(null)", ""),
        ("str(true)", "true"),
        ("number('12')", 12),
        ("number(' 12.50 ')", Decimal("12.50")),
        ("number('-3')", -3),
        ("number(5)", 5),
        ("format_date(2026-01-05, '%d.%m.%Y')", "05.01.2026"),
        ("format_date(2026-01-05T10:30, '%H:%M on %A')", "10:30 on Monday"),
        ("format_date(2026-01-05)", "2026-01-05"),
    ],
)
def test_functions(text, value):
    result = ev(text)
    assert result == value
    assert type(result) is type(value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lower(1)", "lower() needs text, not number"),
        ("len(1)", "len() needs text or a list, not number"),
        ("number('abc')", "cannot convert 'abc' to a number"),
        ("number('1e5')", "cannot convert '1e5' to a number"),
        ("date('tomorrow')", "cannot read 'tomorrow' as a date and time"),
        ("duration('soon')", "'soon' is not a duration; write it like '2d 4h', '30m' or 'PT2H'"),
        ("round('x')", "round() needs a number, not text"),
        ("round(1.5, 1000)", "round() needs a whole number of places between -100 and 100"),
        ("format_date(2026-01-05, '%99999Y')", "format_date() cannot use the format '%99999Y'"),
        ("format_date('x')", "format_date() needs a date or a datetime, not text"),
        ("max(1, 'a')", "cannot compare text and number"),
    ],
)
def test_function_errors_say_what_was_wrong(text, message):
    error = eval_error(text)
    assert error.message == message
    assert (error.line, error.column) == (1, 1)


def test_now_and_today_read_the_clock_that_is_passed_in():
    later = datetime(2030, 6, 1, 23, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert ev("now()", now=later) == datetime(2030, 6, 2, 4, 0, tzinfo=UTC)
    assert ev("today()", now=later) == date(2030, 6, 2)


def test_a_naive_clock_is_taken_as_utc():
    assert ev("now()", now=datetime(2026, 1, 1, 8)) == datetime(2026, 1, 1, 8, tzinfo=UTC)


def test_now_without_a_clock_is_an_error_only_when_called():
    assert compile_expression("1 + 1").evaluate({}) == 2
    with pytest.raises(DslEvalError, match="needs the current time"):
        compile_expression("now()").evaluate({})


def test_evaluate_is_compile_then_evaluate():
    assert evaluate("count * 2", {"count": 4}, NOW) == 8
    with pytest.raises(DslSyntaxError):
        evaluate("count *", {}, NOW)


def test_a_compiled_expression_is_reusable_with_other_data():
    expression = compile_expression("deal.amount > 1000")
    assert expression.evaluate(make_env(), NOW) is True
    cheap = FakeRecord("deal", amount=Decimal("10"))
    assert expression.evaluate({"deal": cheap}, NOW) is False


# --- limits -----------------------------------------------------------------------------------


def test_text_results_longer_than_the_limit_are_errors():
    env = {"s": "x" * 60_000}
    assert len(ev("s + 'y'", env)) == 60_001
    with pytest.raises(DslEvalError, match="text longer than 100000"):
        ev("s + s", env)


def test_lists_longer_than_the_limit_are_errors():
    env = {"items": list(range(6_000))}
    with pytest.raises(DslEvalError, match="list longer than 10000"):
        ev("items + items", env)


def test_numbers_growing_past_100_digits_are_errors():
    env = {"big": 10**60, "dec": Decimal("1e60")}
    with pytest.raises(DslEvalError, match="more than 100 digits"):
        ev("big * big", env)
    with pytest.raises(DslEvalError, match="more than 100 digits"):
        ev("dec * dec", env)
    assert ev("big * 10", env) == 10**61


def test_evaluation_steps_are_capped(monkeypatch):
    monkeypatch.setattr(limits, "MAX_STEPS", 20)
    assert ev(" + ".join(["1"] * 10)) == 10
    with pytest.raises(DslEvalError, match="more than 20 steps"):
        ev(" + ".join(["1"] * 30))


def test_the_step_budget_is_per_call(monkeypatch):
    monkeypatch.setattr(limits, "MAX_STEPS", 20)
    expression = compile_expression(" + ".join(["1"] * 15))
    for _ in range(5):
        assert expression.evaluate({}) == 15


def test_data_nested_absurdly_deep_is_an_error_not_a_crash():
    nested: list = []
    for _ in range(100_000):
        nested = [nested]
    with pytest.raises(DslEvalError):
        ev("x == y", {"x": nested, "y": [nested]})


def test_numbers_with_more_than_100_digits_after_the_point_are_errors():
    env = {"tiny": Decimal("1e-60")}
    with pytest.raises(DslEvalError, match="more than 100 digits"):
        ev("tiny * tiny", env)


def test_decimal_arithmetic_keeps_34_significant_digits_whatever_the_thread_context():
    digits = "1.234567890123456789012345678901234"
    assert ev(f"-{digits}") == Decimal("-" + digits)
    assert ev(f"abs(-{digits})") == Decimal(digits)
    assert ev(f"{digits} + 0") == Decimal(digits)
