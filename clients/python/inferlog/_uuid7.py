"""UUIDv7 (RFC 9562) ids, time-ordered, strictly increasing within one generator."""

from __future__ import annotations

import random
import threading
import time
from typing import Callable, Optional


class Uuid7:
    """A thread-safe UUIDv7 generator, cheap enough for the ``log()`` path.

    Ids made in the same millisecond stay increasing through a 12-bit counter in ``rand_a``
    (RFC 9562 section 6.2, method 1), seeded at random each millisecond with headroom so a burst
    rarely overflows it; on overflow the timestamp moves one millisecond ahead. The time part is
    formatted once per millisecond. The 62 random bits come from the ``random`` module: ids must be
    unique, not unguessable, and its generator is reseeded in forked children.

    Args:
        now_ms: epoch-millisecond clock. Default: the system clock.
    """

    def __init__(self, now_ms: Optional[Callable[[], int]] = None) -> None:
        self._now_ms = now_ms
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0
        self._prefix = ""

    def _set_time(self, ms: int) -> None:
        h = f"{ms & 0xFFFFFFFFFFFF:012x}"
        self._last_ms = ms
        self._counter = random.getrandbits(11)
        self._prefix = f"{h[:8]}-{h[8:]}-7"

    def __call__(self) -> str:
        rand = random.getrandbits(62)
        with self._lock:
            ms = time.time_ns() // 1_000_000 if self._now_ms is None else self._now_ms()
            if ms > self._last_ms:
                self._set_time(ms)
            else:
                # Same millisecond, or the clock stepped back: keep ids increasing.
                self._counter += 1
                if self._counter > 0xFFF:
                    self._set_time(self._last_ms + 1)
            prefix, counter = self._prefix, self._counter
        # variant bits 10, then 62 random bits: "Vxxx-xxxxxxxxxxxx"
        return f"{prefix}{counter:03x}-{0x8000 | rand >> 48:04x}-{rand & 0xFFFFFFFFFFFF:012x}"
