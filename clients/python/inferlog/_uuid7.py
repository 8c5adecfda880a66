"""UUIDv7 (RFC 9562) ids, time-ordered, strictly increasing within one generator."""

from __future__ import annotations

import os
import threading
import time
from typing import Callable


class Uuid7:
    """A thread-safe UUIDv7 generator.

    Ids made in the same millisecond stay increasing through a 12-bit counter in ``rand_a``
    (RFC 9562 section 6.2, method 1), seeded at random each millisecond with headroom so a burst
    rarely overflows it; on overflow the timestamp moves one millisecond ahead.

    Args:
        now_ms: epoch-millisecond clock. Default: ``time.time_ns() // 1_000_000``.
    """

    def __init__(self, now_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000) -> None:
        self._now_ms = now_ms
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0
        # Random bits come from a pooled buffer: one system call per 256 ids, not one per id.
        self._pool = b""
        self._at = 0

    def __call__(self) -> str:
        with self._lock:
            if self._at >= len(self._pool):
                self._pool = os.urandom(10 * 256)
                self._at = 0
            rand = int.from_bytes(self._pool[self._at : self._at + 10], "big")
            self._at += 10
            ms = self._now_ms()
            if ms > self._last_ms:
                self._last_ms = ms
                self._counter = rand & 0x7FF
            else:
                # Same millisecond, or the clock stepped back: keep ids increasing.
                self._counter += 1
                if self._counter > 0xFFF:
                    self._last_ms += 1
                    self._counter = rand & 0x7FF
            ms, counter = self._last_ms, self._counter
        rand_b = (rand >> 16) & ((1 << 62) - 1)
        value = (ms & 0xFFFFFFFFFFFF) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | rand_b
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
