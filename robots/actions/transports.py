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

import json
import os
import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

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


class PinnedTransport(httpx.BaseTransport):
    """Connects only to the addresses the address policy checked, at the moment it connects.

    Each request's host is resolved and checked here (`allowed_addresses`), and the connection
    goes to exactly those addresses: the URL is given the checked IP while the Host header and
    the TLS server name (SNI, and the certificate check with it) stay the host name. A name
    that resolved to a public address when the webhook was queued and to 127.0.0.1 now (DNS
    rebinding) is refused, never connected to. Connections are not kept alive, so none checked
    for one host name is reused for another that shares its address.
    """

    def __init__(self, allow: str | None = None) -> None:
        self.allow = allow
        self._inner = httpx.HTTPTransport(trust_env=False, limits=httpx.Limits(max_keepalive_connections=0))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        addresses = allowed_addresses(url.host, url.port or (443 if url.scheme == "https" else 80), self.allow)
        if addresses is None:  # allowed by name: it connects as the name resolves
            return self._inner.handle_request(request)
        extensions = {**request.extensions, "sni_hostname": url.raw_host.decode("ascii")}
        failure: httpx.TransportError | None = None
        for ip in addresses:
            pinned = httpx.Request(request.method, url.copy_with(host=str(ip)), headers=request.headers,
                                   stream=request.stream, extensions=extensions)
            try:
                return self._inner.handle_request(pinned)
            except httpx.ConnectError as err:  # the next checked address, never another one
                failure = err
        raise failure or httpx.ConnectError(f"{url.host} has no address", request=request)

    def close(self) -> None:
        self._inner.close()


#: 307 and 308 keep the POST and its body; the others would turn a webhook into a GET without it.
FOLLOWED_REDIRECTS = (307, 308)
MAX_REDIRECTS = 5
#: Headers that follow a redirect to another origin; the ones the designer added (credentials,
#: say) go only to the origin they were written for.
CROSS_ORIGIN_HEADERS = ("content-type", "idempotency-key")


class HttpTransport:
    """POSTs JSON with an `Idempotency-Key` header, with httpx.

    With no fixed `url` it is the webhook transport: the payload holds url, body and headers;
    the address policy (`robots.actions.addresses`) is applied again when connecting, to the
    addresses actually connected to (`PinnedTransport`), and to every redirect, which it
    follows itself, hop by hop. Environment proxies are not used for webhooks, since a proxy
    would resolve the name itself. With a `url` it posts the whole payload there (an SMS or
    email gateway the operator configured), which must answer itself rather than redirect.
    """

    def __init__(self, url: str | None = None, *, timeout: float = 10.0, allow: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        self.url = url
        self.timeout = timeout
        self.allow = allow
        self.headers = dict(headers or {})

    def send(self, delivery: Delivery) -> None:
        payload = delivery.payload
        if self.url is None:
            url, body = payload["url"], payload.get("body")
            headers = {**self.headers, **{str(k): str(v) for k, v in (payload.get("headers") or {}).items()}}
        else:
            url, body, headers = self.url, payload, dict(self.headers)
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {**headers, "Content-Type": "application/json; charset=utf-8",
                   "Idempotency-Key": delivery.idempotency_key}
        try:
            if self.url is None:
                check_url(url, self.allow)  # scheme and credentials; addresses again on connect
                with httpx.Client(transport=PinnedTransport(self.allow), timeout=self.timeout,
                                  trust_env=False) as client:
                    response = self._follow(client, url, data, headers)
            else:
                with httpx.Client(timeout=self.timeout) as client:
                    response = client.post(url, content=data, headers=headers)
        except AddressRefused as err:
            raise PermanentDeliveryError(f"POST {url}: refused: {err}") from err
        except httpx.HTTPError as err:
            raise DeliveryError(f"POST {url}: {err}") from err
        if response.status_code >= 300:
            # 3xx here: a redirect loop or one not followed; retrying would meet the same answer.
            status = f"POST {url}: HTTP {response.status_code} {response.reason_phrase}"
            if response.status_code < 500 and response.status_code not in (408, 409, 425, 429):
                raise PermanentDeliveryError(status)
            raise DeliveryError(status)

    def _follow(self, client: httpx.Client, url: str, data: bytes, headers: dict[str, str]) -> httpx.Response:
        """POST, then follow 307/308 up to MAX_REDIRECTS hops, each target checked like the first;
        the answer after the last hop is returned as it is (a loop ends as a refused redirect)."""
        current = url
        for _ in range(MAX_REDIRECTS):
            response = client.post(current, content=data, headers=headers)
            if not response.is_redirect:
                return response
            target = str(response.url.join(response.headers["location"]))
            if response.status_code not in FOLLOWED_REDIRECTS:
                raise PermanentDeliveryError(
                    f"POST {current}: HTTP {response.status_code} redirect to {target}; webhooks follow only "
                    f"307/308, which keep the POST - point the webhook at the final URL")
            try:
                check_url(target, self.allow)
            except AddressRefused as err:
                raise PermanentDeliveryError(f"POST {current}: redirected to {target}, refused: {err}") from err
            if urlsplit(target)[:2] != urlsplit(current)[:2]:
                headers = {name: value for name, value in headers.items()
                           if name.lower() in CROSS_ORIGIN_HEADERS}
            current = target
        return client.post(current, content=data, headers=headers)


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
