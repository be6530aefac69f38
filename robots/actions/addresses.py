"""Where a webhook may go: public addresses only, unless an operator allowed more.

A process designer writes the URL, so without this check a webhook could reach the
database, the cloud metadata endpoint or an admin page inside the network (SSRF). The host
is resolved first and every address it resolves to is checked, so a public name pointing
at 127.0.0.1 is refused too; delivery checks again when it connects, and connects to the very
addresses it checked (on every redirect too), since DNS answers can change.

`DEALFLOW_WEBHOOK_ALLOW` lists hosts and networks that are allowed anyway, comma-separated:
`127.0.0.1, 10.0.0.0/8, erp.internal`.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from dsl.base_error import DealflowError

ALLOW_ENV = "DEALFLOW_WEBHOOK_ALLOW"

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class AddressRefused(DealflowError, ValueError):
    """The URL is malformed, does not resolve, or points somewhere webhooks may not go.

    Still a ValueError: the callers that check a URL among other values catch those."""

    code = "address_refused"
    status = 422


def allow_list(raw: str | None = None) -> tuple[set[str], list[IpNetwork]]:
    """(host names, networks) from `raw`, the DEALFLOW_WEBHOOK_ALLOW setting (api.settings);
    None allows nothing beyond public addresses."""
    text = raw or ""
    hosts: set[str] = set()
    networks: list[IpNetwork] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            hosts.add(item.lower().rstrip("."))
    return hosts, networks


def is_public(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (address.is_loopback or address.is_link_local or address.is_private or address.is_reserved
                or address.is_multicast or address.is_unspecified or getattr(address, "is_site_local", False))


def resolve(host: str, port: int) -> list[IpAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise AddressRefused(f"cannot resolve host {host!r}: {err}") from err
    found: list[IpAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


def check_url(url: str, allow: str | None = None) -> str:
    """Return the URL if a webhook may call it, else raise AddressRefused saying why."""
    parts = urlsplit(url.strip() if isinstance(url, str) else "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused(f"{url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise AddressRefused("credentials in the URL are not allowed; pass them in headers")
    host = parts.hostname.lower().rstrip(".")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as err:
        raise AddressRefused(f"{url!r} has an invalid port") from err
    allowed_addresses(host, port, allow)
    return url.strip()


def allowed_addresses(host: str, port: int, allow: str | None = None) -> list[IpAddress] | None:
    """The addresses `host` resolves to right now, if a webhook may connect to every one of them;
    None when the host is allowed by name (connect to it as it resolves). Raises AddressRefused.

    The transport connects to exactly these addresses, so a name that resolves to a public
    address when checked and to 127.0.0.1 a moment later (DNS rebinding) cannot slip through.
    """
    hosts, networks = allow_list(allow)
    host = host.lower().rstrip(".")
    if host in hosts:
        return None
    addresses = resolve(host, port)
    refused = [address for address in addresses if not _allowed(address, networks)]
    if refused:
        shown = ", ".join(str(address) for address in refused)
        raise AddressRefused(
            f"{host} resolves to {shown}, a loopback, link-local or private address; "
            f"add it to {ALLOW_ENV} to allow it")
    return addresses


def _allowed(address: IpAddress, networks: Iterable[IpNetwork]) -> bool:
    if is_public(address):
        return True
    plain = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped else address
    return any(plain.version == network.version and plain in network for network in networks)
