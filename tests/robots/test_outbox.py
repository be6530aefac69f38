"""The outbox: email, SMS and webhooks are queued in the caller's transaction and delivered at
least once, retried with backoff under one idempotency key, then marked failed on the deal."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from crm.models import Deal
from engine.actions import ActionContext, ActionInputError
from engine.jobs import claim_due
from engine.retry import RetryPolicy
from robots.actions import registry
from robots.actions.tables import OutboxMessage
from robots.actions.transports import HttpTransport, MailboxTransport, default_transports
from robots.outbox import deliver_due, retry
from tests.support.world import TEST_CAUSE, demo_engine, make_deal

IVAN = "ivan.sokolov@example.com"  # the first demo contact


class Receiver:
    """A real HTTP endpoint on 127.0.0.1 that answers with the given statuses, then 200."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.redirects: dict[str, tuple[int, str]] = {}  # path -> (status, Location)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": json.loads(body or b"null")})
                if self.path in receiver.redirects:
                    status, location = receiver.redirects[self.path]
                    self.send_response(status)
                    self.send_header("Location", location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


THREE_ATTEMPTS = RetryPolicy(attempts=3, base_delay=timedelta(minutes=1))


@pytest.fixture
def world(database, clock):
    return demo_engine(database, clock)


@pytest.fixture
def mailbox(tmp_path) -> MailboxTransport:
    return MailboxTransport(tmp_path / "mailbox")


@pytest.fixture
def allow_loopback(monkeypatch) -> None:
    monkeypatch.setenv("DEALFLOW_WEBHOOK_ALLOW", "127.0.0.1")


def allowed() -> str:
    """The allow-list a test configured (monkeypatched DEALFLOW_WEBHOOK_ALLOW), read when used,
    as api.settings reads it for the app."""
    return os.environ.get("DEALFLOW_WEBHOOK_ALLOW", "")


def webhooks() -> HttpTransport:
    return HttpTransport(allow=allowed())


def run(engine, name: str, deal_id: int | None, *positional, **named) -> dict:
    actions = registry.copy()
    actions.configure("webhook", allow=allowed())
    with engine.unit() as rt:
        deal = rt.crm.deal(deal_id) if deal_id is not None else None
        params = actions.bind_args(name, list(positional), named)
        return actions.call(name, ActionContext(rt.crm, deal, TEST_CAUSE), params)


def client_deal(engine) -> int:
    with engine.unit() as rt:
        contact = rt.crm.find_contact(email=IVAN)
    return make_deal(engine, contact=contact)


def rows(engine) -> list[OutboxMessage]:
    with engine.unit() as rt:
        return list(rt.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def timeline(engine, deal_id: int) -> list[tuple[str, str]]:
    with engine.unit() as rt:
        return [(e.kind, e.text) for e in rt.crm.timeline(rt.crm.deal(deal_id))]


class TestQueueing:
    def test_an_email_to_the_deals_client_is_a_pending_row_and_a_timeline_line(self, world):
        deal_id = client_deal(world)
        result = run(world, "send_email", deal_id, subject="Your order", body="Ready on Monday")
        [row] = rows(world)
        assert (row.kind, row.status, row.attempts, row.deal_id) == ("email", "pending", 0, deal_id)
        assert row.payload == {"to": IVAN, "subject": "Your order", "body": "Ready on Monday", "deal_id": deal_id}
        assert row.idempotency_key == result["idempotency_key"] and len(row.idempotency_key) == 64
        assert ("email_queued", f"Email to {IVAN} queued: Your order") in timeline(world, deal_id)

    def test_the_same_message_from_the_same_step_is_queued_once(self, world):
        deal_id = client_deal(world)
        first = run(world, "send_sms", deal_id, "+7 (916) 111-22-33", "Courier at 10:00")
        again = run(world, "send_sms", deal_id, "8 916 111 22 33", "Courier at 10:00")
        other = run(world, "send_sms", deal_id, text="Courier at 12:00")
        assert (first["queued"], again["queued"], other["queued"]) == (True, False, True)
        assert first["outbox_id"] == again["outbox_id"] != other["outbox_id"]
        assert [r.payload["to"] for r in rows(world)] == ["+79161112233", "+79161112233"]

    def test_a_given_idempotency_key_is_used_as_is(self, world):
        deal_id = client_deal(world)
        run(world, "send_email", deal_id, IVAN, "Hi", idempotency_key="order-SO-1-confirmation")
        assert rows(world)[0].idempotency_key == "order-SO-1-confirmation"

    def test_users_and_logins_are_addressed_by_their_email(self, world):
        deal_id = make_deal(world)
        run(world, "send_email", deal_id, "head.north", "Deal is stuck")
        assert rows(world)[0].payload["to"] == "head.north@dealflow.example"

    def test_a_rolled_back_step_queues_nothing(self, world):
        deal_id = client_deal(world)
        with pytest.raises(RuntimeError), world.unit() as rt:
            registry.call("send_email", ActionContext(rt.crm, rt.crm.deal(deal_id), TEST_CAUSE), {"subject": "Hi"})
            raise RuntimeError("the step failed after the action")
        assert rows(world) == []

    def test_no_address_to_send_to_is_an_input_error(self, world):
        deal_id = make_deal(world)  # no contact
        with pytest.raises(ActionInputError, match="no contact"):
            run(world, "send_email", deal_id, subject="Hi")
        with pytest.raises(ActionInputError, match="not a phone number"):
            run(world, "send_sms", deal_id, "+7", "Hi")


class TestWebhookAddresses:
    def test_loopback_is_refused_without_the_allow_list(self, world, receiver, monkeypatch):
        monkeypatch.delenv("DEALFLOW_WEBHOOK_ALLOW", raising=False)
        deal_id = make_deal(world)
        with pytest.raises(ActionInputError, match="loopback, link-local or private"):
            run(world, "webhook", deal_id, receiver.url + "/hook")
        assert rows(world) == []

    @pytest.mark.parametrize("url", [
        "http://169.254.169.254/latest/meta-data", "http://10.1.2.3/", "http://[::1]:8080/", "http://localhost/",
        "ftp://example.com/file", "http://user:secret@example.com/",
    ])
    def test_internal_addresses_and_odd_urls_are_refused(self, world, url, monkeypatch):
        monkeypatch.delenv("DEALFLOW_WEBHOOK_ALLOW", raising=False)
        with pytest.raises(ActionInputError):
            run(world, "webhook", make_deal(world), url)

    def test_the_allow_list_takes_networks_too(self, world, monkeypatch):
        monkeypatch.setenv("DEALFLOW_WEBHOOK_ALLOW", "erp.internal, 10.0.0.0/8")
        result = run(world, "webhook", make_deal(world), "http://10.1.2.3/orders", {"order": "SO-1"})
        assert result["queued"]


class TestDelivery:
    def test_emails_and_sms_land_in_the_mailbox_named_by_their_key(self, world, mailbox, clock):
        deal_id = client_deal(world)
        email = run(world, "send_email", deal_id, subject="Your order", body="Ready")
        sms = run(world, "send_sms", deal_id, text="Ready")
        assert deliver_due(world.db, clock, {"email": mailbox, "sms": mailbox}) == 2
        files = {path.stem for path in mailbox.directory.glob("*.json")}
        assert files == {email["idempotency_key"], sms["idempotency_key"]}
        [first, second] = mailbox.messages()
        assert (first["kind"], first["to"], first["subject"], second["kind"], second["text"]) == (
            "email", IVAN, "Your order", "sms", "Ready")
        assert {r.status for r in rows(world)} == {"sent"}
        assert deliver_due(world.db, clock, {"email": mailbox, "sms": mailbox}) == 0

    def test_a_webhook_is_posted_with_its_idempotency_key(self, world, receiver, allow_loopback, clock):
        deal_id = make_deal(world)
        result = run(world, "webhook", deal_id, receiver.url + "/orders", {"order": "SO-1", "total": 12990},
                     headers={"X-Shop": "north"})
        assert deliver_due(world.db, clock, {"webhook": webhooks()}) == 1
        [request] = receiver.requests
        assert request["path"] == "/orders"
        assert request["body"] == {"order": "SO-1", "total": 12990}
        assert request["headers"]["Idempotency-Key"] == result["idempotency_key"]
        assert request["headers"]["X-Shop"] == "north"

    def test_failures_are_retried_with_growing_backoff_under_the_same_key(self, world, receiver, allow_loopback,
                                                                         clock):
        receiver.statuses = [503, 500]
        run(world, "webhook", make_deal(world), receiver.url)
        transports = {"webhook": webhooks()}
        backoff = RetryPolicy(attempts=5, base_delay=timedelta(seconds=30))
        assert deliver_due(world.db, clock, transports, retry=backoff) == 0
        [row] = rows(world)
        assert (row.status, row.attempts, row.next_attempt_at - clock.now()) == ("pending", 1, timedelta(seconds=30))
        assert "503" in row.last_error
        clock.advance(timedelta(seconds=29))
        assert deliver_due(world.db, clock, transports, retry=backoff) == 0
        assert len(receiver.requests) == 1  # not due yet
        clock.advance(timedelta(seconds=1))
        deliver_due(world.db, clock, transports, retry=backoff)
        assert rows(world)[0].next_attempt_at - clock.now() == timedelta(seconds=60)
        clock.advance(timedelta(seconds=60))
        assert deliver_due(world.db, clock, transports, retry=backoff) == 1
        assert rows(world)[0].status == "sent"
        assert len({r["headers"]["Idempotency-Key"] for r in receiver.requests}) == 1
        assert len(receiver.requests) == 3

    def test_after_the_last_attempt_the_message_fails_and_the_deal_says_so(self, world, receiver, allow_loopback,
                                                                           clock):
        receiver.statuses = [503] * 10
        deal_id = make_deal(world)
        run(world, "webhook", deal_id, receiver.url)
        for _ in range(3):
            deliver_due(world.db, clock, {"webhook": webhooks()}, retry=THREE_ATTEMPTS)
            clock.advance(timedelta(hours=1))
        [row] = rows(world)
        assert (row.status, row.attempts) == ("failed", 3)
        kind, text = timeline(world, deal_id)[-1]
        assert kind == "delivery_failed" and "after 3 attempt(s)" in text and "503" in text
        deliver_due(world.db, clock, {"webhook": webhooks()}, retry=THREE_ATTEMPTS)
        assert len(receiver.requests) == 3

    def test_a_client_error_is_not_retried_but_a_person_can_retry_it(self, world, receiver, allow_loopback, clock):
        receiver.statuses = [400]
        deal_id = make_deal(world)
        run(world, "webhook", deal_id, receiver.url)
        deliver_due(world.db, clock, {"webhook": webhooks()})
        assert (rows(world)[0].status, rows(world)[0].attempts) == ("failed", 1)
        with world.unit() as rt:
            retry(rt.crm, rows(world)[0].id, cause=TEST_CAUSE)
        assert deliver_due(world.db, clock, {"webhook": webhooks()}) == 1
        assert [k for k, _ in timeline(world, deal_id)][-2:] == ["delivery_failed", "delivery_retried"]

    def test_delivery_checks_the_address_again(self, world, receiver, allow_loopback, clock, monkeypatch):
        deal_id = make_deal(world)
        run(world, "webhook", deal_id, receiver.url)
        monkeypatch.delenv("DEALFLOW_WEBHOOK_ALLOW")
        deliver_due(world.db, clock, {"webhook": webhooks()})
        assert rows(world)[0].status == "failed" and receiver.requests == []

    def test_a_kind_without_a_transport_fails_on_the_deal(self, world, clock):
        deal_id = client_deal(world)
        run(world, "send_sms", deal_id, text="Hi")
        assert deliver_due(world.db, clock, {}) == 0
        assert rows(world)[0].last_error == "PermanentDeliveryError: no transport is configured for sms"


def test_default_transports_follow_the_configuration(tmp_path):
    plain = default_transports({"DEALFLOW_MAILBOX_DIR": str(tmp_path)})
    assert isinstance(plain["email"], MailboxTransport) and plain["email"].directory == tmp_path
    assert isinstance(plain["sms"], MailboxTransport) and isinstance(plain["webhook"], HttpTransport)
    configured = default_transports({"DEALFLOW_SMTP_URL": "smtp://mailer:pw@mail.example:587?starttls=1",
                                     "DEALFLOW_SMS_URL": "https://sms.example/send"})
    smtp = configured["email"]
    assert (smtp.host, smtp.port, smtp.user, smtp.starttls) == ("mail.example", 587, "mailer", True)
    assert configured["sms"].url == "https://sms.example/send"


def test_a_failed_message_keeps_the_deal_intact(world, clock):
    deal_id = client_deal(world)
    run(world, "send_sms", deal_id, text="Hi")
    deliver_due(world.db, clock, {})
    with world.unit() as rt:
        assert rt.session.get(Deal, deal_id).stage.code == "new"


@pytest.fixture
def second_receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


class TestWebhookConnections:
    """The address policy holds where it matters: on the socket actually opened, and on redirects."""

    def deliver(self, world, clock) -> OutboxMessage:
        deliver_due(world.db, clock, {"webhook": webhooks()})
        [row] = rows(world)
        return row

    def test_a_name_that_turns_private_after_the_check_is_not_connected_to(self, world, receiver, clock,
                                                                           monkeypatch):
        monkeypatch.delenv("DEALFLOW_WEBHOOK_ALLOW", raising=False)
        real = socket.getaddrinfo
        answers = iter([["93.184.216.34"], ["93.184.216.34"]])  # public when queued and when checked...

        def rebinding(host, port, *args, **kwargs):
            if host != "rebind.example":
                return real(host, port, *args, **kwargs)
            ips = next(answers, ["127.0.0.1"])  # ...then the receiver's loopback address
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ips]

        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        port = receiver.server.server_address[1]
        deal_id = make_deal(world)
        run(world, "webhook", deal_id, f"http://rebind.example:{port}/hook")
        row = self.deliver(world, clock)
        assert receiver.requests == []
        assert (row.status, row.attempts) == ("failed", 1)
        assert "resolves to 127.0.0.1" in row.last_error
        kind, text = timeline(world, deal_id)[-1]
        assert kind == "delivery_failed" and "loopback, link-local or private" in text

    def test_a_307_is_followed_with_the_same_post(self, world, receiver, allow_loopback, clock):
        receiver.redirects["/old"] = (307, "/new")
        result = run(world, "webhook", make_deal(world), receiver.url + "/old", {"order": "SO-1"},
                     headers={"X-Shop": "north"})
        assert self.deliver(world, clock).status == "sent"
        first, second = receiver.requests
        assert (first["path"], second["path"]) == ("/old", "/new")
        assert second["body"] == {"order": "SO-1"} and second["headers"]["X-Shop"] == "north"
        assert second["headers"]["Idempotency-Key"] == result["idempotency_key"]

    def test_headers_written_for_one_origin_do_not_follow_a_redirect_to_another(
            self, world, receiver, second_receiver, allow_loopback, clock):
        receiver.redirects["/hook"] = (308, second_receiver.url + "/moved")
        result = run(world, "webhook", make_deal(world), receiver.url + "/hook", {"order": "SO-1"},
                     headers={"Authorization": "Bearer secret"})
        assert self.deliver(world, clock).status == "sent"
        [moved] = second_receiver.requests
        assert moved["body"] == {"order": "SO-1"} and "Authorization" not in moved["headers"]
        assert moved["headers"]["Idempotency-Key"] == result["idempotency_key"]

    @pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data", "http://10.0.0.1/",
                                        "file:///etc/passwd", "http://user:pw@example.com/"])
    def test_a_redirect_to_where_a_webhook_may_not_go_fails_for_good(self, world, receiver, allow_loopback, clock,
                                                                     target):
        receiver.redirects["/hook"] = (307, target)
        row = self.deliver_one(world, receiver, clock)
        assert (row.status, row.attempts) == ("failed", 1)
        assert "refused" in row.last_error or "not allowed" in row.last_error  # file: urllib refuses itself
        assert len(receiver.requests) == 1

    @pytest.mark.parametrize("status", [301, 302, 303])
    def test_a_redirect_that_would_drop_the_body_is_not_followed_nor_retried(self, world, receiver, allow_loopback,
                                                                            clock, status):
        receiver.redirects["/hook"] = (status, "/elsewhere")
        row = self.deliver_one(world, receiver, clock)
        assert (row.status, row.attempts) == ("failed", 1) and "307/308" in row.last_error
        assert [r["path"] for r in receiver.requests] == ["/hook"]

    def test_a_redirect_loop_fails_for_good(self, world, receiver, allow_loopback, clock):
        receiver.redirects["/a"], receiver.redirects["/b"] = (307, "/b"), (307, "/a")
        run(world, "webhook", make_deal(world), receiver.url + "/a")
        row = self.deliver(world, clock)
        assert (row.status, row.attempts) == ("failed", 1)

    def test_the_refusal_is_logged_with_its_reason(self, world, receiver, allow_loopback, clock, monkeypatch,
                                                   caplog):
        run(world, "webhook", make_deal(world), receiver.url)
        monkeypatch.setenv("DEALFLOW_WEBHOOK_ALLOW", "10.0.0.0/8")
        with caplog.at_level("ERROR", logger="robots.outbox"):
            row = self.deliver(world, clock)
        assert row.status == "failed" and receiver.requests == []
        assert any("127.0.0.1" in r.getMessage() and "DEALFLOW_WEBHOOK_ALLOW" in r.getMessage()
                   for r in caplog.records)

    def deliver_one(self, world, receiver, clock) -> OutboxMessage:
        run(world, "webhook", make_deal(world), receiver.url + "/hook")
        return self.deliver(world, clock)
class TestManyWorkers:
    LEASE = timedelta(minutes=2)

    def test_a_message_a_dead_worker_claimed_goes_again_after_its_lease_with_the_same_key(self, world, mailbox,
                                                                                         clock):
        email = run(world, "send_email", client_deal(world), subject="Your order", body="Ready")
        [queued] = rows(world)
        with world.db.transaction() as session:  # claimed, then the worker died mid-delivery
            claimed = claim_due(session, OutboxMessage, OutboxMessage.next_attempt_at, worker="dead",
                                now=clock.now(), lease=self.LEASE, limit=10)
        assert claimed == [queued.id]
        assert deliver_due(world.db, clock, {"email": mailbox}, worker="alive", lease=self.LEASE) == 0
        assert mailbox.messages() == []  # the claim still holds
        clock.advance(self.LEASE + timedelta(seconds=1))
        assert deliver_due(world.db, clock, {"email": mailbox}, worker="alive", lease=self.LEASE) == 1
        [sent] = mailbox.messages()
        assert sent["idempotency_key"] == email["idempotency_key"]
        [row] = rows(world)
        assert (row.status, row.attempts, row.claimed_by) == ("sent", 1, None)

    def test_a_delivery_in_progress_holds_no_transaction_or_lock_on_its_row(self, world, clock):
        run(world, "send_email", client_deal(world), subject="Your order", body="Ready")
        seen = []

        class Peeking:
            def send(self, delivery) -> None:
                with world.db.reopen().transaction() as session:  # another worker's connection
                    row = session.scalar(select(OutboxMessage).where(OutboxMessage.id == delivery.id)
                                         .with_for_update(nowait=True))
                    seen.append((row.status, row.claimed_by is not None))

        assert deliver_due(world.db, clock, {"email": Peeking()}) == 1
        assert seen == [("pending", True)]
        assert rows(world)[0].status == "sent"
