"""The one error type the client hands to ``on_error``, and the ``ValueError`` of bad options."""

from __future__ import annotations

from typing import Any, List, Optional

#: Stable codes of the failures reported through ``on_error``. Branch on these, never on text.
#:
#: - ``queue_overflow``: the in-memory queue was full; items were dropped (``stats()['dropped']``).
#: - ``closed``: ``log()``/``feedback()`` after ``close()``, or a timed-out ``close()`` left items: dropped.
#: - ``rejected``: the collector refused items one by one (a 207 reply); never retried.
#: - ``delivery_failed``: a batch is lost (retries exhausted without a spool, or a non-retryable reply).
#: - ``delivery_retry``: reserved for symmetry with the TypeScript SDK (retries are counted, not reported).
#: - ``spool_full``: spooled batches were evicted to respect ``spool_max_bytes``: items dropped.
#: - ``spool_failed``: writing or reading the spool failed.
#: - ``serialize_failed``: an item could not be turned into JSON and was left out.
#: - ``callback_failed``: a callback given to ``wrap`` (``input``, ``output``, ``fields``) raised.
ERROR_CODES = (
    "queue_overflow",
    "closed",
    "rejected",
    "delivery_failed",
    "delivery_retry",
    "spool_full",
    "spool_failed",
    "serialize_failed",
    "callback_failed",
)


class InferlogError(Exception):
    """A failure the logger absorbed. Passed to ``on_error``; never raised into the host application.

    Attributes:
        code: one of :data:`ERROR_CODES`.
        status: HTTP status of the reply, when there was one.
        items: number of items the failure concerns, when known.
        rejections: for code ``rejected``, the collector's per-item rejections
            (dicts with ``index``, ``id``, ``code``, ``path``, ``message``).
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: Optional[int] = None,
        items: Optional[int] = None,
        rejections: Optional[List[dict]] = None,
        cause: Optional[BaseException] = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.items = items
        self.rejections = rejections
        self.__cause__ = cause

    def __repr__(self) -> str:
        return f"InferlogError({self.code!r}, {self.message!r})"


def option_error(name: str, problem: str, value: Any) -> ValueError:
    """The error of an invalid option: names the option, says what is wrong and what was given."""
    return ValueError(f"inferlog: option {name!r} {problem} (got {value!r})")
