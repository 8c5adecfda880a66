"""Deterministic sampling by id, with the same hash as the TypeScript SDK.

An event and its later feedback get the same decision in every process and language, so kept
events keep their feedback.
"""

from __future__ import annotations

from typing import Callable, Optional

_MASK = 0xFFFFFFFF


def hash_id(id: str, seed: int = 0) -> int:
    """FNV-1a (32 bit) over the UTF-16 code units of ``id``, mixed with ``seed``, then murmur3's fmix32."""
    h = (0x811C9DC5 ^ seed) & _MASK
    data = id.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        h ^= data[i] | data[i + 1] << 8
        h = (h * 0x01000193) & _MASK
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _MASK
    h ^= h >> 16
    return h


def id_sampler(rate: float, seed: int = 0) -> Optional[Callable[[str], bool]]:
    """A predicate keeping a share ``rate`` of ids, or None when everything is kept (callers skip the check)."""
    if rate >= 1:
        return None
    threshold = int(rate * 0x100000000)
    return lambda id: hash_id(id, seed) < threshold
