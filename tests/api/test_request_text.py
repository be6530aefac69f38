"""Text no database can store (NUL, lone surrogates) is refused for every endpoint at once:
a 422 naming where it is, and nothing written. Without the check each of these was a 500,
NUL on PostgreSQL only, surrogates on both."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm.db import Base
from tests.support.world import make_deal

SURROGATE, NUL = "\ud800", "\x00"


def row_counts(engine) -> dict[str, int]:
    with engine.unit() as rt:
        return {t.name: rt.session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


BODIES = [
    ("post", "/api/v1/deals", {"title": f"a{SURROGATE}"}, "body.title"),
    ("patch", "/api/v1/deals/{deal}", {"title": f"a{SURROGATE}"}, "body.title"),
    ("post", "/api/v1/contacts", {"name": SURROGATE}, "body.name"),
    ("post", "/api/v1/tasks", {"title": SURROGATE}, "body.title"),
    ("post", "/api/v1/events", {"type": "bank.decision", "payload": {}, "idempotency_key": SURROGATE},
     "body.idempotency_key"),
    ("put", "/api/v1/robots/main", {"text": f"# {SURROGATE}"}, "body.text"),
    ("post", "/api/v1/auth/tokens", {"name": f"a{NUL}"}, "body.name"),
    ("post", "/api/v1/tasks", {"title": f"a{NUL}"}, "body.title"),
    ("post", "/api/v1/tasks", {"title": "ok", "data": {f"k{NUL}": 1}}, "body.data.k\x00 (key)"),
    ("post", "/api/v1/users", {"login": f"a{NUL}", "name": "A"}, "body.login"),
    ("post", "/api/v1/leads", {"title": f"a{NUL}"}, "body.title"),
    ("post", "/api/v1/deals", {"title": "ok", "products": [{"name": f"a{NUL}"}]}, "body.products.0.name"),
    ("post", "/api/v1/contacts", {"name": "ok", "phones": [f"1{NUL}"]}, "body.phones.0"),
    ("post", "/api/v1/auth/login", {"login": f"admin{NUL}", "password": "x"}, "body.login"),
]


@pytest.mark.parametrize(("method", "url", "body", "where"), BODIES)
def test_a_body_with_text_no_database_stores_is_a_422_naming_the_field(client, engine, method, url, body, where):
    url = url.format(deal=make_deal(engine))
    before = row_counts(engine)
    response = getattr(client, method)(url, json=body)
    assert response.status_code == 422, response.json
    assert response.json["code"] == "invalid_text" and response.json["message"]
    assert list(response.json["details"]) == [where]
    assert row_counts(engine) == before


@pytest.mark.parametrize(("url", "where"), [
    ("/api/v1/tasks?column=%00", "query.column"),
    ("/api/v1/users?department=a%00", "query.department"),
    ("/api/v1/notifications?user=%00", "query.user"),
    ("/api/v1/deals?q=%00", "query.q"),
    ("/api/v1/deals?%00=1", "query.\x00 (key)"),
    ("/api/v1/processes/a%00b/versions", "path"),
])
def test_a_query_string_or_path_with_a_nul_is_a_422(client, url, where):
    response = client.get(url)
    assert response.status_code == 422, response.json
    assert response.json["code"] == "invalid_text" and list(response.json["details"]) == [where]


def test_a_text_body_is_checked_as_the_charset_it_declares(client, engine):
    before = row_counts(engine)
    nul = client.put("/api/v1/robots/main", data=b"# a\x00", content_type="text/plain")
    assert nul.status_code == 422 and nul.json["details"] == {"body": "contains a NUL character (U+0000) at position 3"}
    undeclared = client.put("/api/v1/robots/main", data=b"# a\x00")
    assert undeclared.status_code == 422 and undeclared.json["code"] == "invalid_text"
    not_utf8 = client.put("/api/v1/robots/main", data="# caf\xe9\n".encode("latin-1"), content_type="text/plain")
    assert not_utf8.status_code == 422 and not_utf8.json["code"] == "invalid_text"
    assert row_counts(engine) == before
    text = 'pipeline main "Caf\xe9 sales"\n'
    latin = client.put("/api/v1/robots/main", data=text.encode("latin-1"),
                       content_type="text/plain; charset=ISO-8859-1")
    assert latin.status_code == 200, latin.json
    assert latin.json["text"] == text


def test_ordinary_text_passes(client):
    created = client.post("/api/v1/contacts", json={"name": "Ольга Петрівна 🙂"})
    assert created.status_code == 201 and created.json["name"] == "Ольга Петрівна 🙂"
