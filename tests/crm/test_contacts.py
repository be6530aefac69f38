"""Contacts are found by phone or email however they were typed; leads are recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm.errors import InvalidInput
from crm.events import Cause, ContactCreated, LeadCreated
from crm.models import Contact, ContactChannel

STORE = Cause("trigger", "store-order", "Store order")


@pytest.fixture
def ivan(world):
    return world.create_contact(
        name="Ivan Sokolov", phones=["+7 (916) 111-22-33"], emails=["Ivan.Sokolov@Example.com"], cause=STORE
    )


def test_a_contact_is_found_by_any_spelling_of_its_phone(world, ivan):
    for phone in ["+7 (916) 111-22-33", "8 916 111 22 33", "89161112233", "9161112233", "+7-916-1112233"]:
        assert world.find_contact(phone=phone) is ivan, phone


def test_a_contact_is_found_by_email_ignoring_case_and_otherwise_not_at_all(world, ivan):
    assert world.find_contact(email=" ivan.sokolov@EXAMPLE.com ") is ivan
    assert world.find_contact(phone="+7 999 000-00-00", email="ivan.sokolov@example.com") is ivan
    assert world.find_contact(phone="+7 999 000-00-00") is None
    assert world.find_contact() is None


def test_find_or_create_reuses_a_known_client(world, ivan, published):
    assert world.find_or_create_contact(name="I. Sokolov", phone="8-916-111-22-33", cause=STORE) is ivan
    assert published.of(ContactCreated) == [ContactCreated(ivan.id, STORE)]


def test_find_or_create_creates_an_unknown_client(world, ivan):
    maria = world.find_or_create_contact(name=None, phone="8 903 222 33 44", cause=STORE)

    assert maria is not ivan
    assert (maria.name, maria.phones) == ("8 903 222 33 44", ["8 903 222 33 44"])
    assert world.find_contacts(phones=["+79032223344", "+79161112233"]) == [ivan, maria]


def test_invalid_channels_are_refused_and_nothing_is_written(world, database, published):
    with pytest.raises(InvalidInput) as refused:
        world.create_contact(name="", phones=["call me"], emails=["nobody"], cause=STORE)

    assert set(refused.value.fields) == {"name", "phones[0]", "emails[0]"}
    assert published == []
    world.session.commit()  # a caller that carries on commits whatever the refused call left behind
    with database.sessions() as fresh:
        assert fresh.scalar(select(func.count(Contact.id))) == 0
        assert fresh.scalar(select(func.count(ContactChannel.id))) == 0


def test_a_lead_from_a_call_is_recorded_and_announced(world, published):
    lead = world.create_lead(title="Call from +7 925 333-44-55", phone="+7 925 333-44-55", source="call",
                             responsible="manager.north1", department="store_north", cause=STORE)  # fmt: skip

    assert (lead.status, lead.source, lead.responsible_id) == ("new", "call", world.user("manager.north1").id)
    assert published.of(LeadCreated) == [LeadCreated(lead.id, STORE)]
    world.set_lead_status(lead, "junk", cause=STORE)
    assert world.lead(lead.id).status == "junk"
