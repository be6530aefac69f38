"""Every error dealflow raises on purpose shares one base and answers in one shape."""

from __future__ import annotations

from crm.errors import InvalidInput, NotFound
from dsl import DslSyntaxError
from dsl.base_error import DealflowError
from engine import errors as engine_errors
from engine.errors import EngineError, StartRefused
from robots.actions.addresses import AddressRefused
from robots.sources import InvalidAutomation
from triggers.errors import DealNotYet
from triggers.signatures import SignatureRefused


def test_every_family_derives_from_the_one_base():
    for family in (InvalidInput, NotFound, DslSyntaxError, EngineError, AddressRefused, InvalidAutomation,
                   DealNotYet, SignatureRefused):
        assert issubclass(family, DealflowError), family


def test_there_is_one_not_found_whatever_package_names_it():
    assert engine_errors.NotFound is NotFound
    assert NotFound("no process 'x' is deployed").status == 404


def test_the_body_has_details_only_when_there_are_some():
    assert NotFound("Deal 7 does not exist", code="deal_not_found").body() == {
        "code": "deal_not_found", "message": "Deal 7 does not exist"}
    refused = StartRefused("missing", {"missing_fields": ["bank"]})
    assert refused.body() == {"code": "start_refused", "message": "missing", "details": {"missing_fields": ["bank"]}}
    assert refused.status == 422


def test_an_invalid_input_lists_its_fields_as_details():
    error = InvalidInput(fields={"bank": "is required"})
    assert error.body()["details"] == {"bank": "is required"}
    assert error.status == 422


def test_a_dsl_error_details_are_its_place_in_the_text():
    error = DslSyntaxError("unexpected ')'", 2, 5)
    assert error.body() == {"code": "invalid_dsl", "message": "unexpected ')'", "details": error.to_dict()}


def test_too_early_says_when_to_send_it_again():
    error = DealNotYet("order.paid", "A-1")
    assert (error.status, error.retry_after) == (409, 60)
    assert error.body()["details"] == {"order_id": "order A-1 has no deal yet"}
