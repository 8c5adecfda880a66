"""Which replies are retried, and how long to wait before the next attempt."""

from __future__ import annotations

import email.utils
import random as _random
import re
import time
from typing import Callable, Optional

#: Longest ``Retry-After`` honoured, seconds; beyond it the normal backoff cap applies.
MAX_RETRY_AFTER_S = 600.0

_SECONDS = re.compile(r"^\d+(\.\d+)?$")


def classify(status: Optional[int], error_code: Optional[str] = None) -> str:
    """Verdict on one attempt: ``ok``, ``split``, ``retry`` or ``fatal``.

    ``status`` is None for a network error or a timeout (retried). 200 and 207 are delivered;
    413 (body or item count over a limit) splits the batch; 408, 425, 429 and 5xx are retried;
    anything else (400, 401, 403, 404...) is fatal for the batch.
    """
    if status is None:
        return "retry"
    if status in (200, 207):
        return "ok"
    if status == 413 or error_code in ("too_many_items", "payload_too_large"):
        return "split"
    if status in (408, 425, 429) or status >= 500:
        return "retry"
    return "fatal"


def backoff_s(
    attempt: int,
    initial_s: float,
    max_s: float,
    retry_after_s: Optional[float] = None,
    random: Callable[[], float] = _random.random,
) -> float:
    """Delay before retry number ``attempt`` (0-based).

    Exponential from ``initial_s``, capped at ``max_s``, with jitter (50-100 % of the delay) so
    clients that failed together do not retry together. A server's ``Retry-After`` is a lower
    bound (plus up to 10 % jitter), itself capped at :data:`MAX_RETRY_AFTER_S`.
    """
    exp = min(max_s, initial_s * 2 ** min(attempt, 30))
    jittered = exp * (0.5 + random() * 0.5)
    if retry_after_s is not None and retry_after_s > 0:
        ra = min(retry_after_s, MAX_RETRY_AFTER_S)
        return max(jittered, ra * (1 + random() * 0.1))
    return jittered


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Parses a ``Retry-After`` header (delta seconds or an HTTP date) to seconds; None when absent or unreadable."""
    if value is None:
        return None
    v = value.strip()
    if _SECONDS.match(v):
        return float(v)
    try:
        when = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
