"""One JSON codec for every layer: what each Python value becomes, and that it reads back the same."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert, select

from crm import json_codec
from crm.base import jsonable
from crm.models import Deal, User
from dsl.record import Record
from engine.scripting import to_json_safe

MOSCOW = timezone(timedelta(hours=3))


class Seen(Record):
    dsl_type = "deal"

    def dsl_get(self, name: str) -> object:
        return {"id": 7, "title": "Washing machine"}[name]


def test_moments_are_iso_in_utc_and_a_naive_one_is_taken_as_utc():
    assert json_codec.plain(datetime(2026, 1, 5, 12, 0, tzinfo=MOSCOW)) == "2026-01-05T09:00:00+00:00"
    assert json_codec.plain(datetime(2026, 1, 5, 9, 0)) == "2026-01-05T09:00:00+00:00"


def test_dates_are_iso():
    assert json_codec.plain(date(2026, 1, 5)) == "2026-01-05"


def test_durations_are_seconds():
    assert json_codec.plain(timedelta(hours=2)) == 7200
    assert json_codec.plain(timedelta(milliseconds=1500)) == 1.5


def test_decimals_are_exact_numbers():
    assert json_codec.plain(Decimal("45990")) == 45990 and isinstance(json_codec.plain(Decimal("45990")), int)
    assert json_codec.plain(Decimal("12.50")) == 12.5


def test_a_stored_object_is_its_id_and_a_record_an_expression_saw_a_summary():
    assert json_codec.plain(Deal(id=42)) == 42
    assert json_codec.plain({"responsible": User(id=3)}) == {"responsible": 3}
    assert json_codec.plain(Seen()) == {"type": "deal", "id": 7, "title": "Washing machine"}


def test_sets_are_sorted_lists_so_the_same_set_always_encodes_the_same():
    assert json_codec.plain({"b", "a", "c"}) == ["a", "b", "c"]
    assert json_codec.plain(frozenset({3, 1, 2})) == [1, 2, 3]
    assert json_codec.plain({None, 1, "x"}) == json_codec.plain({"x", 1, None})


def test_containers_are_copied_deeply_with_text_keys():
    value = {1: (Decimal("1.5"), [date(2026, 1, 5)]), "nested": {"at": timedelta(minutes=1)}}
    assert json_codec.plain(value) == {"1": [1.5, ["2026-01-05"]], "nested": {"at": 60}}


def test_anything_else_is_its_text():
    class Odd:
        def __str__(self) -> str:
            return "odd"

    assert json_codec.plain(Odd()) == "odd"


def test_the_crm_and_the_engine_encode_alike():
    value = {"when": datetime(2026, 1, 5, 9, 0, tzinfo=UTC), "wait": timedelta(hours=1), "deal": Deal(id=1),
             "amount": Decimal("10.00"), "tags": {"b", "a"}}
    assert jsonable(value) == to_json_safe(value) == json_codec.plain(value)


def test_text_round_trips_to_the_plain_form():
    value = {"at": datetime(2026, 1, 5, 9, 0, tzinfo=UTC), "amount": Decimal("12.5"), "tags": {"x"},
             "days": [date(2026, 1, 5)], "nothing": None, "ok": True, "name": "Ирина"}
    text = json_codec.dumps(value)
    assert json_codec.loads(text) == json_codec.plain(value)
    assert json_codec.loads(json_codec.dumps(json_codec.loads(text))) == json_codec.loads(text)
    assert json.loads(json_codec.dumps(value, ensure_ascii=False, sort_keys=True)) == json_codec.plain(value)


@pytest.fixture
def probe(database):
    table = Table("codec_probe", MetaData(), Column("id", Integer, primary_key=True), Column("data", JSON))
    table.create(database.engine)
    yield table
    table.drop(database.engine)


def test_json_columns_store_through_the_codec(database, probe):
    value = {"at": datetime(2026, 1, 5, 12, 0, tzinfo=MOSCOW), "amount": Decimal("45990"),
             "wait": timedelta(minutes=5), "deal": Deal(id=9), "tags": {"vip", "north"}}
    with database.transaction() as session:
        session.execute(insert(probe).values(id=1, data=value))
    with database.transaction() as session:
        stored = session.scalar(select(probe.c.data).where(probe.c.id == 1))
    assert stored == {"at": "2026-01-05T09:00:00+00:00", "amount": 45990, "wait": 300, "deal": 9,
                      "tags": ["north", "vip"]}
