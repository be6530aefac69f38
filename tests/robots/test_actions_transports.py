"""The webhook transport against real HTTP servers on loopback addresses: it connects only to
the address the policy checked, keeps the host name in the request, and checks every
redirect hop before following it."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from robots.actions.transports import HttpTransport
from robots.outbox import Delivery, PermanentDeliveryError


class Server:
    """An HTTP server in a thread on `address` that records each POST and answers 200, or the
    redirect listed for its path."""

    def __init__(self, address: str = "127.0.0.1") -> None:
        self.requests: list[dict] = []
        self.redirects: dict[str, tuple[int, str]] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server.requests.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
                status, location = server.redirects.get(self.path, (200, None))
                self.send_response(status)
                if location is not None:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer((address, 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://{address}:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.close()


@pytest.fixture
def private_server() -> Iterator[Server]:
    """Another loopback address, 127.0.0.2: private, and not on the allow list below."""
    running = Server("127.0.0.2")
    yield running
    running.close()


#: The allow list of these tests: the first server's address only.
ALLOW = "127.0.0.1/32"


def webhook(url: str, **headers: str) -> Delivery:
    return Delivery(id=1, kind="webhook", idempotency_key="key-1", attempt=1, deal_id=None,
                    payload={"url": url, "body": {"order": "SO-1"}, "headers": headers})


@pytest.fixture
def lookups(monkeypatch) -> list[str]:
    """`shop.example` resolves to 127.0.0.1; the names looked up are recorded in order."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def resolving(host, port, *args, **kwargs):
        asked.append(host)
        if host == "shop.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolving)
    return asked


def test_the_connection_goes_to_the_checked_address_with_the_host_name_kept(server, lookups):
    HttpTransport(allow=ALLOW).send(webhook(f"http://shop.example:{server.port}/orders"))

    [request] = server.requests
    assert request["headers"]["Host"] == f"shop.example:{server.port}"
    assert request["body"] == {"order": "SO-1"} and request["headers"]["Idempotency-Key"] == "key-1"
    # Looked up by the URL check and by the transport's own check, then connected to the
    # address that check returned: the HTTP client never resolved the name itself.
    assert lookups.count("shop.example") == 2
    assert lookups[-1] == "127.0.0.1"


def test_a_redirect_to_a_private_address_is_refused_and_never_connected_to(server, private_server):
    server.redirects["/hook"] = (307, private_server.url + "/inside")

    with pytest.raises(PermanentDeliveryError, match=r"redirected to http://127\.0\.0\.2.*refused.*private"):
        HttpTransport(allow=ALLOW).send(webhook(server.url + "/hook"))

    assert [request["path"] for request in server.requests] == ["/hook"]
    assert private_server.requests == []


def test_a_redirect_to_a_name_that_resolves_privately_is_refused(server, lookups, monkeypatch):
    real = socket.getaddrinfo

    def internal(host, port, *args, **kwargs):
        if host == "erp.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", internal)
    server.redirects["/hook"] = (308, "http://erp.example/orders")

    with pytest.raises(PermanentDeliveryError, match=r"erp\.example resolves to 10\.0\.0\.7"):
        HttpTransport(allow=ALLOW).send(webhook(server.url + "/hook"))
    assert len(server.requests) == 1


def test_each_allowed_hop_is_followed_with_the_same_post(server):
    server.redirects["/a"] = (307, "/b")
    server.redirects["/b"] = (308, server.url + "/c")

    HttpTransport(allow=ALLOW).send(webhook(server.url + "/a", **{"X-Shop": "north"}))

    assert [request["path"] for request in server.requests] == ["/a", "/b", "/c"]
    assert all(request["body"] == {"order": "SO-1"} and request["headers"]["X-Shop"] == "north"
               for request in server.requests)


def test_without_the_allow_list_the_loopback_server_is_not_connected_to(server):
    with pytest.raises(PermanentDeliveryError, match="loopback, link-local or private"):
        HttpTransport(allow="").send(webhook(server.url + "/hook"))
    assert server.requests == []
