"""Timing helpers: ``Logger.start()`` spans and the ``Logger.wrap`` decorator."""

from __future__ import annotations

import functools
import inspect
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional

if TYPE_CHECKING:
    from .logger import Logger

PHASES = ("pre", "inference", "post")


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def error_fields(error: BaseException) -> Dict[str, Any]:
    """``status`` and ``error`` of an event whose prediction raised."""
    return {"status": "error", "error": {"type": type(error).__name__, "message": str(error)}}


class Span:
    """Times one prediction; :meth:`end` logs it with ``latency_ms`` filled in.

    ``latency_ms.total`` runs from :meth:`Logger.start` to :meth:`end`; ``pre``, ``inference``
    and ``post`` add up the time spent in each :meth:`phase`; ``ttft`` is the time to the first
    :meth:`ttft` call. ``ts`` is the wall-clock time of ``start()``. Also a context manager: on a
    clean exit it ends, on an exception it fails (and lets the exception through).
    """

    __slots__ = ("id", "_logger", "_fields", "_t0", "_wall", "_phase", "_phase_t", "_phases", "_ttft", "_ended")

    def __init__(self, logger: "Logger", fields: Dict[str, Any]) -> None:
        self._t0 = time.perf_counter()
        self._wall = time.time()
        self._logger = logger
        given = fields.get("id")
        #: The event id, known from the start (e.g. to return it to the client for feedback).
        self.id: str = given if isinstance(given, str) and given else logger._next_id()
        self._fields = fields
        self._phase: Optional[str] = None
        self._phase_t = self._t0
        self._phases: Dict[str, float] = {}
        self._ttft: Optional[float] = None
        self._ended = False

    def _close_phase(self, now: float) -> None:
        if self._phase is not None:
            self._phases[self._phase] = self._phases.get(self._phase, 0.0) + now - self._phase_t

    def phase(self, name: str) -> "Span":
        """Starts phase ``pre``, ``inference`` or ``post``, ending the current one. Phases may repeat; their times add up."""
        now = time.perf_counter()
        self._close_phase(now)
        self._phase = name if name in PHASES else None
        self._phase_t = now
        return self

    def ttft(self) -> "Span":
        """Marks the first token (the first call counts)."""
        if self._ttft is None:
            self._ttft = time.perf_counter() - self._t0
        return self

    def set(self, **fields: Any) -> "Span":
        """Adds fields to the event (shallow merge; later calls win)."""
        self._fields = {**self._fields, **fields}
        return self

    def end(self, **fields: Any) -> str:
        """Ends the span and logs the event; returns its id. Later calls do nothing."""
        if self._ended:
            return self.id
        self._ended = True
        try:
            now = time.perf_counter()
            self._close_phase(now)
            rec = {**self._fields, **fields} if fields else dict(self._fields)
            given = rec.get("latency_ms")
            latency = dict(given) if isinstance(given, dict) else {}
            latency["total"] = _ms(now - self._t0)
            for p, s in self._phases.items():
                latency[p] = _ms(s)
            if self._ttft is not None:
                latency["ttft"] = _ms(self._ttft)
            rec["latency_ms"] = latency
            rec["id"] = self.id
            return self._logger._log_at(rec, self.id, self._wall)
        except Exception as e:
            self._logger._internal_fault(e)
            return self.id

    def fail(self, error: BaseException, **fields: Any) -> str:
        """Ends the span with ``status: "error"`` and the exception's type and message."""
        return self.end(**{**fields, **error_fields(error)})

    def __enter__(self) -> "Span":
        return self

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> bool:
        if exc is not None:
            self.fail(exc)
        else:
            self.end()
        return False


def _default_input(args: tuple, kwargs: dict) -> Any:
    if len(args) == 1 and not kwargs:
        return args[0]
    if not args:
        return kwargs
    return {"args": list(args), "kwargs": kwargs} if kwargs else list(args)


def wrap(
    logger: "Logger",
    fn: Callable[..., Any],
    input: Optional[Callable[..., Any]],
    output: Optional[Callable[[Any], Any]],
    fields: Optional[Callable[..., Dict[str, Any]]],
    model: Optional[Dict[str, Any]],
) -> Callable[..., Any]:
    """Wraps a function (plain or ``async def``) so each call is logged with input, output or error, and latency."""

    def record(args: tuple, kwargs: dict, span: Span, ok: bool, value: Any) -> None:
        try:
            try:
                inp = input(*args, **kwargs) if input else _default_input(args, kwargs)
            except Exception as e:
                inp = None
                logger._report("callback_failed", f"wrap input() raised: {e!r}", cause=e)
            extra: Dict[str, Any] = {}
            if fields:
                try:
                    extra = fields(args, kwargs, value if ok else None, None if ok else value) or {}
                except Exception as e:
                    logger._report("callback_failed", f"wrap fields() raised: {e!r}", cause=e)
            rec: Dict[str, Any] = {"input": inp, **({"model": model} if model else {}), **extra}
            if ok:
                try:
                    rec["output"] = output(value) if output else value
                except Exception as e:
                    logger._report("callback_failed", f"wrap output() raised: {e!r}", cause=e)
            else:
                rec.update(error_fields(value))
            span.set(**rec).end()
        except Exception as e:
            logger._internal_fault(e)

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def awrapped(*args: Any, **kwargs: Any) -> Any:
            span = Span(logger, {})
            try:
                result = await fn(*args, **kwargs)
            except Exception as e:
                record(args, kwargs, span, False, e)
                raise
            record(args, kwargs, span, True, result)
            return result

        return awrapped

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        span = Span(logger, {})
        try:
            result = fn(*args, **kwargs)
        except Exception as e:
            record(args, kwargs, span, False, e)
            raise
        record(args, kwargs, span, True, result)
        return result

    return wrapped
