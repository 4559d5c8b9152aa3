"""The machine's address on the local network, for `micromall serve --lan`.

A phone on the same Wi-Fi opens the preview at this address. It is found without sending a
packet: "connecting" a UDP socket only asks the kernel which interface would carry traffic to
that address, and the probes are private (RFC 1918) addresses, so nothing leaves the machine and
the internet is never contacted. When no route is known, the host name's address is used.
"""

from __future__ import annotations

import ipaddress
import socket

#: Private addresses whose route tells which interface faces the local network. Never contacted.
PROBES = ("10.255.255.255", "192.168.255.255", "172.31.255.255")


def usable(address: str) -> bool:
    """Whether a phone on the network could reach this address (not loopback, not 0.0.0.0)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.version == 4 and not (ip.is_loopback or ip.is_unspecified or ip.is_multicast)


def _routed_address(probe: str) -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect((probe, 9))  # UDP: sets the route only, sends nothing
            return str(sock.getsockname()[0])
    except OSError:
        return None


def _hostname_addresses() -> list[str]:
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET, socket.SOCK_DGRAM)
    except OSError:
        return []
    return [str(info[4][0]) for info in infos]


def lan_address() -> str | None:
    """This machine's IPv4 address on the local network, or None when it has none."""
    for probe in PROBES:
        found = _routed_address(probe)
        if found is not None and usable(found):
            return found
    return next((a for a in _hostname_addresses() if usable(a)), None)
