"""Who may scrape /metrics: a caller with the bearer token when METRICS_TOKEN is set; without
a token, callers on loopback or private addresses only (the scraper beside the app)."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _is_local(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_private


def check_metrics_access(request: HttpRequest) -> None:
    """Raise Refused (401 or 403) unless the caller may read the metrics.

    REMOTE_ADDR is the peer's address; X-Forwarded-For is not trusted (anyone can send it).
    Behind a reverse proxy every caller has the proxy's (private) address, so a deployment
    behind one sets METRICS_TOKEN or keeps /metrics off the proxy.
    """
    token: str = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return
        raise Refused(401, "a valid bearer token is required")
    if not _is_local(request.META.get("REMOTE_ADDR", "")):
        raise Refused(403, "metrics are served to loopback and private addresses only")
