"""How outbox messages leave: a local mailbox directory, SMTP, or an HTTP POST.

The mailbox is the default for email and SMS so that the demo and the tests can read what
would have been sent (one JSON file per message, named by its idempotency key: a repeated
attempt overwrites the same file). SMTP and HTTP are switched on by configuration:

    DEALFLOW_MAILBOX_DIR   where the mailbox writes (default ./var/mailbox)
    DEALFLOW_SMTP_URL      smtp://user:password@host:587?starttls=1 or smtps://host:465 - email by SMTP
    DEALFLOW_MAIL_FROM     the From address of emails (default dealflow@localhost)
    DEALFLOW_SMS_URL       an SMS gateway that takes a JSON POST {to, text} - SMS by HTTP
    DEALFLOW_HTTP_TIMEOUT  seconds for each HTTP attempt (default 10)
"""

from __future__ import annotations

import http.client
import json
import os
import smtplib
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from robots.actions.addresses import AddressRefused, allowed_addresses, check_url
from robots.outbox import Delivery, DeliveryError, PermanentDeliveryError, Transport

MAILBOX_ENV = "DEALFLOW_MAILBOX_DIR"
DEFAULT_MAILBOX = Path("var") / "mailbox"
#: The variables above; api.settings.Settings reads them from the environment and hands them here.
TRANSPORT_VARIABLES = (MAILBOX_ENV, "DEALFLOW_SMTP_URL", "DEALFLOW_MAIL_FROM", "DEALFLOW_SMS_URL",
                       "DEALFLOW_HTTP_TIMEOUT")


def mailbox_dir(env: Mapping[str, str]) -> Path:
    return Path(env.get(MAILBOX_ENV) or DEFAULT_MAILBOX)


class MailboxTransport:
    """Writes each message to `<directory>/<idempotency key>.json` instead of sending it."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else DEFAULT_MAILBOX

    def send(self, delivery: Delivery) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{delivery.idempotency_key}.json"
        partial = target.with_suffix(".json.part")
        body = {"kind": delivery.kind, "idempotency_key": delivery.idempotency_key, "outbox_id": delivery.id,
                "deal_id": delivery.deal_id, "attempt": delivery.attempt, **delivery.payload}
        partial.write_text(json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(partial, target)  # readers never see half a message

    def messages(self) -> list[dict[str, Any]]:
        """Everything in the mailbox, oldest first (for tests and the demo)."""
        if not self.directory.exists():
            return []
        files = sorted(self.directory.glob("*.json"), key=lambda path: (path.stat().st_mtime_ns, path.name))
        return [json.loads(path.read_text(encoding="utf-8")) for path in files]


class SmtpTransport:
    """Email over SMTP; the idempotency key is the Message-ID, so mail systems see repeats as one."""

    def __init__(self, url: str, sender: str = "dealflow@localhost", timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"DEALFLOW_SMTP_URL must look like smtp://user:password@host:port, not {url!r}")
        self.host = parts.hostname
        self.ssl = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.ssl else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.starttls = parse_qs(parts.query).get("starttls", ["0"])[0] in ("1", "true", "yes")
        self.sender = sender
        self.timeout = timeout

    def send(self, delivery: Delivery) -> None:
        payload = delivery.payload
        message = EmailMessage()
        message["From"] = payload.get("from") or self.sender
        message["To"] = payload["to"]
        message["Subject"] = payload.get("subject", "")
        message["Message-ID"] = f"<{delivery.idempotency_key}@dealflow>"
        message["Idempotency-Key"] = delivery.idempotency_key
        message.set_content(payload.get("body", ""))
        client_class = smtplib.SMTP_SSL if self.ssl else smtplib.SMTP
        try:
            with client_class(self.host, self.port, timeout=self.timeout) as client:
                if self.starttls:
                    client.starttls()
                if self.user:
                    client.login(self.user, self.password or "")
                client.send_message(message)
        except smtplib.SMTPRecipientsRefused as err:
            raise PermanentDeliveryError(f"recipient refused: {err.recipients}") from err
        except (smtplib.SMTPException, OSError) as err:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {err}") from err


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A fixed gateway URL is the operator's; it must answer itself rather than send us elsewhere.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _pinned(connection_class: type[http.client.HTTPConnection]) -> type[http.client.HTTPConnection]:
    """`connection_class` that checks the host's addresses when it connects and connects to
    exactly those (TLS still verifies the certificate against the host name)."""

    class Pinned(connection_class):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, allow: str | None = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._allow = allow
            self._create_connection = self._connect_checked

        # typeshed leaves out socket's private default-timeout sentinel, which urllib passes here.
        def _connect_checked(self, address: tuple[str, int], timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT,  # type: ignore[attr-defined]
                             source_address: Any = None) -> socket.socket:
            host, port = address
            addresses = allowed_addresses(host, port, self._allow)  # AddressRefused passes urllib untouched
            if addresses is None:
                return socket.create_connection(address, timeout, source_address)
            failure: OSError | None = None
            for ip in addresses:
                try:
                    return socket.create_connection((str(ip), port), timeout, source_address)
                except OSError as err:
                    failure = err
            raise failure or OSError(f"{host} has no address")

    Pinned.__name__ = f"Pinned{connection_class.__name__}"
    return Pinned


class _PinnedHttp(urllib.request.HTTPHandler):
    def __init__(self, allow: str | None) -> None:
        super().__init__()
        self.allow = allow

    def http_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(_pinned(http.client.HTTPConnection), req, allow=self.allow)


class _PinnedHttps(urllib.request.HTTPSHandler):
    def __init__(self, allow: str | None) -> None:
        super().__init__()
        self.allow = allow

    def https_open(self, req: urllib.request.Request) -> Any:
        # HTTPSHandler keeps its SSL context in _context, which typeshed does not declare.
        context = self._context  # type: ignore[attr-defined]
        return self.do_open(_pinned(http.client.HTTPSConnection), req, context=context, allow=self.allow)


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows 307/308, which keep the POST and its body, after checking the new URL like the
    first; refuses 301/302/303, which would turn the webhook into a GET without its body."""

    max_redirections = 5

    def __init__(self, allow: str | None) -> None:
        super().__init__()
        self.allow = allow

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> urllib.request.Request:
        if code not in (307, 308):
            fp.close()
            raise PermanentDeliveryError(
                f"POST {req.full_url}: HTTP {code} redirect to {newurl}; webhooks follow only 307/308, "
                f"which keep the POST - point the webhook at the final URL")
        try:
            check_url(newurl, self.allow)
        except AddressRefused as err:
            fp.close()
            raise PermanentDeliveryError(f"POST {req.full_url}: redirected to {newurl}, refused: {err}") from err
        same_origin = urlsplit(newurl)[:2] == urlsplit(req.full_url)[:2]
        # Headers the designer added (credentials, say) go only to the origin they were written for.
        kept = {name: value for name, value in req.header_items()
                if same_origin or name.lower() in ("content-type", "idempotency-key")}
        return urllib.request.Request(newurl, data=req.data, headers=kept, method="POST")


class HttpTransport:
    """POSTs JSON with an `Idempotency-Key` header.

    With no fixed `url` it is the webhook transport: the payload holds url, body and headers;
    the address policy (`robots.actions.addresses`) is applied again when connecting, to the
    addresses actually connected to, and to every redirect. Environment proxies are not used
    for webhooks, since a proxy would resolve the name itself. With a `url` it posts the whole
    payload there (an SMS or email gateway the operator configured).
    """

    def __init__(self, url: str | None = None, *, timeout: float = 10.0, allow: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        self.url = url
        self.timeout = timeout
        self.allow = allow
        self.headers = dict(headers or {})
        if url is None:
            self._opener = urllib.request.build_opener(
                urllib.request.ProxyHandler({}), _PinnedHttp(allow), _PinnedHttps(allow), _CheckedRedirects(allow))
        else:
            self._opener = urllib.request.build_opener(_NoRedirects())

    def send(self, delivery: Delivery) -> None:
        payload = delivery.payload
        if self.url is None:
            url, body = payload["url"], payload.get("body")
            headers = {**self.headers, **{str(k): str(v) for k, v in (payload.get("headers") or {}).items()}}
        else:
            url, body, headers = self.url, payload, dict(self.headers)
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(url, data=data, method="POST")
        request.add_header("Content-Type", "application/json; charset=utf-8")
        for name, value in headers.items():
            request.add_header(name, value)
        request.add_header("Idempotency-Key", delivery.idempotency_key)
        try:
            if self.url is None:
                check_url(url, self.allow)  # scheme and credentials; addresses again on connect
            with self._opener.open(request, timeout=self.timeout) as response:
                response.read()
        except AddressRefused as err:
            raise PermanentDeliveryError(f"POST {url}: refused: {err}") from err
        except urllib.error.HTTPError as err:
            # 3xx here: a redirect loop or one not followed; retrying would meet the same answer.
            if 300 <= err.code < 500 and err.code not in (408, 409, 425, 429):
                raise PermanentDeliveryError(f"POST {url}: HTTP {err.code} {err.reason}") from err
            raise DeliveryError(f"POST {url}: HTTP {err.code} {err.reason}") from err
        except (urllib.error.URLError, OSError) as err:
            raise DeliveryError(f"POST {url}: {getattr(err, 'reason', err)}") from err


def default_transports(env: Mapping[str, str], allow: str = "") -> dict[str, Transport]:
    """The transports the configuration `env` asks for: mailbox unless SMTP or an SMS gateway is
    set; webhooks may reach the private hosts `allow` lists (DEALFLOW_WEBHOOK_ALLOW)."""
    timeout = float(env.get("DEALFLOW_HTTP_TIMEOUT") or 10)
    mailbox = MailboxTransport(mailbox_dir(env))
    smtp_url, sms_url = env.get("DEALFLOW_SMTP_URL"), env.get("DEALFLOW_SMS_URL")
    email: Transport = (SmtpTransport(smtp_url, env.get("DEALFLOW_MAIL_FROM") or "dealflow@localhost")
                        if smtp_url else mailbox)
    sms: Transport = HttpTransport(sms_url, timeout=timeout) if sms_url else mailbox
    return {"email": email, "sms": sms, "webhook": HttpTransport(timeout=timeout, allow=allow)}
