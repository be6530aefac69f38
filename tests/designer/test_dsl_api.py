"""The two small endpoints the designer's editors lean on: one DSL text checked on its own, and
the vocabulary completion offers. Against the live server the browser tests use."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("kind", "text"), [
    ("expression", "event.approved == true and deal.amount > 1000"),
    ("script", "share = 100 / deal.amount\nlabel = \"x\""),
    ("template", "Deal {deal.title} for {coalesce(deal.amount, 0)}"),
])
def test_a_valid_text_of_each_kind_passes(http, kind, text):
    result = http.post(f"{http.base}/dsl/check", json={"kind": kind, "text": text}).json()
    assert result == {"valid": True, "errors": []}


def test_an_invalid_expression_is_answered_with_its_line_and_column(http):
    result = http.post(f"{http.base}/dsl/check", json={"kind": "expression", "text": "deal.amount >"}).json()
    assert result["valid"] is False
    [error] = result["errors"]
    assert (error["line"], error["column"], error["kind"]) == (1, 14, "syntax")
    assert "expected" in error["message"]


def test_a_template_is_checked_as_a_template_not_as_an_expression(http):
    text = "Hello {deal.title"
    assert http.post(f"{http.base}/dsl/check", json={"kind": "template", "text": text}).json()["valid"] is False
    assert http.post(f"{http.base}/dsl/check", json={"kind": "template", "text": "Hello there"}).json()["valid"]


@pytest.mark.parametrize("body", [{"kind": "python", "text": "1"}, {"kind": "expression"}, {"text": "1"},
                                  {"kind": "expression", "text": "1", "extra": True}])
def test_a_bad_request_is_a_422_naming_the_field(http, body):
    response = http.post(f"{http.base}/dsl/check", json=body)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_payload"


def test_the_vocabulary_has_the_stages_fields_events_and_actions_the_server_checks_against(http):
    words = http.get(f"{http.base}/dsl/vocabulary").json()
    assert words["stages"]["credit"][0] == "new"
    assert words["fields"]["credit"]["ready_date"] in ("date", "datetime")
    assert "approved" in words["events"]["bank.decision"]
    assert {"move_to", "notify", "create_task"} <= set(words["actions"])
    assert words["actions"] == sorted(a["name"] for a in http.get(f"{http.base}/actions").json())
