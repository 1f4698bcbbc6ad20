"""A deadline on every request ``huggingface_hub`` makes for toontalker.

huggingface_hub (2.x) asks for a repository's metadata with no timeout at all, so a hub endpoint (or a proxy)
that accepts the connection and never answers hung ``weights pull`` and ``animate --weights owner/name``
forever. :func:`bound_hub_requests` adds a request hook to huggingface_hub's shared HTTP client that fills
every unset timeout (connect, read, write, pool) with ``TOONTALKER_HUB_TIMEOUT`` seconds (default 30): a
silent endpoint becomes a one-line error. A read timeout bounds each wait for data, not a whole download.
"""

from __future__ import annotations

import os
from typing import Any

from toontalker.errors import UsageError

TIMEOUT_ENV = "TOONTALKER_HUB_TIMEOUT"
DEFAULT_TIMEOUT = 30.0
_KINDS = ("connect", "read", "write", "pool")


def hub_timeout() -> float:
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise UsageError(f"{TIMEOUT_ENV}={raw!r}: expected a positive number of seconds")
    return value


def _fill_timeouts(request: Any) -> None:
    seconds = hub_timeout()
    timeout = dict(request.extensions.get("timeout") or {})
    for kind in _KINDS:
        if timeout.get(kind) is None:
            timeout[kind] = seconds
    request.extensions["timeout"] = timeout


def bound_hub_requests() -> None:
    """Make huggingface_hub's shared client time out (idempotent; re-applied if the client was replaced)."""
    from huggingface_hub.utils import get_session

    client = get_session()
    hooks = {name: list(found) for name, found in client.event_hooks.items()}
    if _fill_timeouts not in hooks.get("request", []):
        hooks.setdefault("request", []).append(_fill_timeouts)
        client.event_hooks = hooks


def is_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is an HTTP timeout."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if "Timeout" in type(current).__name__:
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
