"""Calling the API the way its real clients do, for scenario tests that go through HTTP alone.

A `Browser` is a person at the designer or CRM screen: signed in through POST /auth/login,
carrying the session cookie and echoing the CSRF token on every change, exactly as the
front end does. An `Integration` is a machine (the online store, the bank, the telephony)
holding an API token that an administrator issued through POST /auth/tokens. Neither
touches the database: what they learn, they learn from answers.
"""

from __future__ import annotations

from typing import Any

from api.auth import CSRF_HEADER

API = "/api/v1"
DEMO_PASSWORD = "demo"


class Caller:
    """Shared verbs: `call` answers the raw response, the others insist on a success."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.client = app.test_client()

    def headers(self, method: str) -> dict[str, str]:
        return {}

    def call(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        return self.client.open(f"{API}{path}", method=method, json=body, query_string=query or None,
                                headers=self.headers(method))

    def _ok(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        response = self.call(method, path, body, **query)
        assert 200 <= response.status_code < 300, f"{method} {path}: {response.status_code} {response.json}"
        return response.json

    def get(self, path: str, **query: Any) -> Any:
        return self._ok("GET", path, **query)

    def post(self, path: str, body: Any = None) -> Any:
        return self._ok("POST", path, {} if body is None else body)

    def patch(self, path: str, body: Any) -> Any:
        return self._ok("PATCH", path, body)

    # Reading what the scenarios look at, by the caller's own eyes.

    def deal(self, deal_id: int) -> dict[str, Any]:
        return self.get(f"/deals/{deal_id}")

    def where(self, deal_id: int) -> str:
        deal = self.deal(deal_id)
        return f"{deal['pipeline']}.{deal['stage']}"

    def feed(self) -> list[str]:
        """The caller's notifications, oldest first."""
        return [n["text"] for n in reversed(self.get("/notifications", per_page=100))]

    def tasks(self, **filters: Any) -> list[dict[str, Any]]:
        return self.get("/tasks", per_page=100, **filters)

    def timeline(self, deal_id: int) -> list[dict[str, Any]]:
        return self.get(f"/deals/{deal_id}/timeline", per_page=100)


class Browser(Caller):
    """A person signed in with login and password; changes carry the CSRF header."""

    def __init__(self, app: Any, login: str, password: str = DEMO_PASSWORD) -> None:
        super().__init__(app)
        self.login, self.password = login, password
        self.sign_in()

    def sign_in(self) -> None:
        """Sign in (again, after the session ran out: it lasts days, not months)."""
        answer = self.client.post(f"{API}/auth/login", json={"login": self.login, "password": self.password})
        assert answer.status_code == 200, answer.json
        self.user = answer.json["user"]
        self.csrf = answer.json["csrf_token"]

    def headers(self, method: str) -> dict[str, str]:
        return {} if method in ("GET", "HEAD") else {CSRF_HEADER: self.csrf}


class Integration(Caller):
    """A machine client with a bearer token."""

    def __init__(self, app: Any, token: str, source: str) -> None:
        super().__init__(app)
        self.token = token
        self.source = source

    def headers(self, method: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def send(self, event_type: str, payload: dict[str, Any], key: str | None = None) -> Any:
        """POST an event; answers the raw response (202 new, 200 a repeat)."""
        body = {"type": event_type, "payload": payload, "source": self.source}
        if key is not None:
            body["idempotency_key"] = key
        return self.call("POST", "/events", body)

    def event(self, event_type: str, payload: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        response = self.send(event_type, payload, key)
        assert response.status_code == 202, response.json
        return response.json

    @staticmethod
    def issued_by(admin: Browser, login: str, source: str, *, create: bool = False) -> Integration:
        """The administrator (creating the integration user first if asked) issues its token."""
        if create:
            user_id = admin.post("/users", {"login": login, "name": login, "roles": ["integration"]})["id"]
        else:
            user_id = next(u["id"] for u in admin.get("/users", role="integration", per_page=100)
                           if u["login"] == login)
        token = admin.post("/auth/tokens", {"name": f"{source} webhook", "user_id": user_id})["token"]
        return Integration(admin.app, token, source)
