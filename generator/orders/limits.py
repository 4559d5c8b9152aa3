"""Limits that keep one client from hurting the others: who the client is, a per-client token
bucket, a per-client failure counter for the admin token, and a JSON nesting check.

Pure and thread-safe; the clock is passed in, so tests need no sleeping. Memory is bounded: each
table keeps at most `max_clients` entries and forgets the idlest ones first.
"""

from __future__ import annotations

import ipaddress
import math
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: tuple[str, ...] | list[str]) -> tuple[Network, ...]:
    """'10.0.0.1', '10.0.0.0/8' or '::1' as networks; raises ValueError for anything else."""
    return tuple(ipaddress.ip_network(str(v).strip(), strict=False) for v in values)


def _in(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_ip(remote_addr: str, forwarded_for: str, trusted: tuple[Network, ...]) -> str:
    """The address a request really comes from.

    X-Forwarded-For is honoured only when the connection comes from a trusted proxy; then the
    list is read from the right (the entries the proxies appended) and the first address that
    is not itself a trusted proxy is the client. Anything left of it was written by the client
    and may be forged, so a spoofed header never changes whose bucket a request draws on.
    """
    if not trusted or not forwarded_for or not _in(remote_addr, trusted):
        return remote_addr
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote_addr  # garbage from a proxy chain: fall back to the connection
    return remote_addr


@dataclass(frozen=True)
class RateLimit:
    """Per-client token bucket: `burst` requests at once, refilled at `per_second`."""

    per_second: float = 5.0
    burst: int = 100
    exempt: tuple[str, ...] = ("127.0.0.1/32", "::1/128")  # loopback: local tools, and the other tests

    @property
    def enabled(self) -> bool:
        return self.per_second > 0 and self.burst > 0


class TokenBuckets:
    """One token bucket per client key. `take` answers None (allowed) or seconds to wait."""

    def __init__(self, limit: RateLimit, max_clients: int = 10_000) -> None:
        self.limit = limit
        self.exempt = parse_networks(limit.exempt)
        self.max_clients = max_clients
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, stamp)

    def take(self, key: str, now: float) -> float | None:
        if not self.limit.enabled or _in(key, self.exempt):
            return None
        with self._lock:
            tokens, stamp = self._buckets.pop(key, (float(self.limit.burst), now))
            tokens = min(float(self.limit.burst), tokens + max(0.0, now - stamp) * self.limit.per_second)
            wait = None
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.limit.per_second
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            return wait


class FailureCounter:
    """At most `limit` failures per `window` seconds per client; then `blocked` says how long to wait."""

    def __init__(self, limit: int = 10, window: float = 60.0, max_clients: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.pop(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        self._failures[key] = times
        while len(self._failures) > self.max_clients:
            self._failures.popitem(last=False)
        return times

    def blocked(self, key: str, now: float) -> float | None:
        """Seconds until this client may try again, or None."""
        with self._lock:
            times = self._recent(key, now)
            if len(times) >= self.limit:
                return max(1.0, times[0] + self.window - now)
            return None

    def fail(self, key: str, now: float) -> None:
        with self._lock:
            times = self._recent(key, now)
            if len(times) < self.limit * 2:  # bounded: more than that changes nothing
                times.append(now)


def retry_after(seconds: float) -> str:
    """A Retry-After value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


def json_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in a JSON text (strings are skipped), read without
    parsing, so a 10,000-deep body is refused before the parser recurses into it."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest
