"""``Logger``: log predictions and feedback from Python model servers without slowing them down."""

from __future__ import annotations

import atexit
import logging
import math
import os
import time
import urllib.parse
import weakref
from types import SimpleNamespace
from typing import Any, Callable, Dict, Mapping, Optional

from ._pipeline import Pipeline
from ._sampling import id_sampler
from ._span import Span, wrap
from ._spool import FileSpool
from ._transport import HttpSender
from ._uuid7 import Uuid7
from .errors import InferlogError, option_error

__version__ = "0.1.0"

_log = logging.getLogger("inferlog")
_MIB = 1024 * 1024


def _default_on_error() -> Callable[[InferlogError], None]:
    """One warning per error code per minute on the ``inferlog`` logger of the ``logging`` module."""
    last: Dict[str, float] = {}

    def warn(error: InferlogError) -> None:
        now = time.monotonic()
        if now - last.get(error.code, -math.inf) >= 60:
            last[error.code] = now
            _log.warning("inferlog: %s: %s", error.code, error.message)

    return warn


def _int_option(name: str, value: Any, minimum: int = 1, maximum: Optional[int] = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise option_error(name, f"must be an integer {bound}", value)
    return value


def _seconds_option(name: str, value: Any, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= minimum:
        raise option_error(name, f"must be a number of seconds > {minimum}", value)
    return float(value)


def _url_option(url: Any) -> str:
    if not isinstance(url, str):
        raise option_error("url", "must be a string such as 'http://127.0.0.1:7070'", url)
    try:
        u = urllib.parse.urlsplit(url)
        port_ok = u.port is None or 0 < u.port < 65536
    except ValueError:
        port_ok = False
        u = None
    if u is None or u.scheme not in ("http", "https") or not u.hostname or not port_ok or u.query or u.fragment:
        raise option_error("url", "must be an http:// or https:// base URL with a host, such as 'http://127.0.0.1:7070'", url)
    return url.rstrip("/")


class Logger:
    """Logs model predictions (events) and later feedback to an inferlog collector.

    ``log()`` and ``feedback()`` put an item on a bounded in-memory queue and return at once: no
    serialization, no I/O. A daemon thread batches items, serializes them to NDJSON, gzips and
    POSTs them to ``{url}/v1/events`` and ``{url}/v1/feedback``, with retries, backoff and an
    optional disk spool. After the constructor returns, no method raises into your code: failures go
    to ``on_error`` and are counted in :meth:`stats`. The constructor raises ``ValueError`` naming
    the option when an option is invalid.

    Args:
        url: collector base URL. Default: ``$INFERLOG_URL`` or ``http://127.0.0.1:7070``.
        api_key: sent as ``Authorization: Bearer KEY``. Default: ``$INFERLOG_API_KEY`` or none.
        project: sent as ``X-Inferlog-Project``. Default: ``$INFERLOG_PROJECT`` or none.
        model: ``{"name", "version", ...}`` of events that carry no ``model``. Default: none.
        batch_max_items: items per request. Default 1000.
        batch_max_bytes: NDJSON bytes per request before gzip. Default 1 MiB (the collector accepts 5 MiB).
        interval_s: longest an item waits before its batch is sent. Default 1.0.
        queue_max_items: items held in memory (events and feedback together). Default 10 000.
        overflow: on a full queue, ``"drop-newest"`` (default) or ``"drop-oldest"``; every drop is counted.
        spool_dir: directory of the disk spool for outages; None (default) disables it.
        spool_max_bytes: spool size cap; the oldest batches are evicted first, counted as dropped. Default 256 MiB.
        spool_fsync: fsync each spool file before counting it spooled. Default True.
        sample_rate: share of events kept, deterministic by id (feedback follows its event). Default 1.0.
        on_error: called with an :class:`InferlogError` for every absorbed failure, from the sender
            thread. Default: one ``logging`` warning per code per minute on logger ``inferlog``.
        timeout_s: a request without response activity for this long is abandoned and retried. Default 10.0.
        max_retries: retries per batch when there is no spool. Default 8.
        retries_before_spool: retries before a failing batch goes to the spool. Default 1.
        initial_backoff_s: first retry delay (doubling, 50-100 % jitter). Default 0.1.
        max_backoff_s: longest retry delay; ``Retry-After`` is honoured as a lower bound. Default 15.0.
        gzip_level: 1-9, or 0 to send uncompressed. Default 1.
        headers: extra request headers. Default none.
        flush_on_exit: close (flush, spool what cannot be sent) at interpreter exit. Default True.
        exit_timeout_s: longest that exit-time close may take. Default 5.0.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        *,
        api_key: Optional[str] = None,
        project: Optional[str] = None,
        model: Optional[Mapping[str, Any]] = None,
        batch_max_items: int = 1000,
        batch_max_bytes: int = _MIB,
        interval_s: float = 1.0,
        queue_max_items: int = 10_000,
        overflow: str = "drop-newest",
        spool_dir: Optional[str] = None,
        spool_max_bytes: int = 256 * _MIB,
        spool_fsync: bool = True,
        sample_rate: float = 1.0,
        on_error: Optional[Callable[[InferlogError], Any]] = None,
        timeout_s: float = 10.0,
        max_retries: int = 8,
        retries_before_spool: int = 1,
        initial_backoff_s: float = 0.1,
        max_backoff_s: float = 15.0,
        gzip_level: int = 1,
        headers: Optional[Mapping[str, str]] = None,
        flush_on_exit: bool = True,
        exit_timeout_s: float = 5.0,
    ) -> None:
        base = _url_option(url if url is not None else os.environ.get("INFERLOG_URL") or "http://127.0.0.1:7070")
        api_key = api_key if api_key is not None else os.environ.get("INFERLOG_API_KEY")
        project = project if project is not None else os.environ.get("INFERLOG_PROJECT")
        for name, value in (("api_key", api_key), ("project", project)):
            if value is not None and not isinstance(value, str):
                raise option_error(name, "must be a string", value)
        if model is not None:
            if not isinstance(model, Mapping) or not all(isinstance(model.get(k), str) and model.get(k) for k in ("name", "version")):
                raise option_error("model", "must be a dict with non-empty string 'name' and 'version'", model)
            model = dict(model)
        if overflow not in ("drop-newest", "drop-oldest"):
            raise option_error("overflow", "must be 'drop-newest' or 'drop-oldest'", overflow)
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, float)) or not 0 < sample_rate <= 1:
            raise option_error("sample_rate", "must be a number in (0, 1]", sample_rate)
        if on_error is not None and not callable(on_error):
            raise option_error("on_error", "must be callable", on_error)
        if spool_dir is not None and not isinstance(spool_dir, (str, os.PathLike)):
            raise option_error("spool_dir", "must be a directory path or None", spool_dir)
        if headers is not None and not (isinstance(headers, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())):
            raise option_error("headers", "must be a dict of strings", headers)
        self._cfg = SimpleNamespace(
            batch_max_items=_int_option("batch_max_items", batch_max_items),
            batch_max_bytes=_int_option("batch_max_bytes", batch_max_bytes, 1024),
            interval_s=_seconds_option("interval_s", interval_s),
            queue_max_items=_int_option("queue_max_items", queue_max_items),
            overflow=overflow,
            max_retries=_int_option("max_retries", max_retries, 0),
            retries_before_spool=_int_option("retries_before_spool", retries_before_spool, 0),
            initial_backoff_s=_seconds_option("initial_backoff_s", initial_backoff_s),
            max_backoff_s=_seconds_option("max_backoff_s", max_backoff_s),
            gzip_level=_int_option("gzip_level", gzip_level, 0, 9),
        )
        timeout_s = _seconds_option("timeout_s", timeout_s)
        self._exit_timeout_s = _seconds_option("exit_timeout_s", exit_timeout_s)
        spool_max_bytes = _int_option("spool_max_bytes", spool_max_bytes, 1024)

        self.url = base
        self._model = model
        self._rate = float(sample_rate)
        self._sampler = id_sampler(self._rate)
        self._on_error = on_error if on_error is not None else _default_on_error()
        self._headers: Dict[str, str] = {"User-Agent": f"inferlog-python/{__version__}", **(dict(headers) if headers else {})}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        if project:
            self._headers["X-Inferlog-Project"] = project
        self._timeout_s = timeout_s
        self._spool_args = (os.fspath(spool_dir), spool_max_bytes, bool(spool_fsync)) if spool_dir is not None else None
        self._next_id = Uuid7()
        self._closed = False
        self._pipeline = Pipeline(
            self._cfg,
            HttpSender(base, self._headers, timeout_s),
            FileSpool(*self._spool_args) if self._spool_args else None,
            self._report,
            {"event": self._prepare_event, "feedback": _prepare_feedback},
        )
        self._flush_on_exit = bool(flush_on_exit)
        if self._flush_on_exit:
            atexit.register(self._at_exit)
        if hasattr(os, "register_at_fork"):
            ref = weakref.ref(self)
            os.register_at_fork(after_in_child=lambda: _after_fork(ref))

    # ---- the caller's path ----

    def log(self, event: Optional[Mapping[str, Any]] = None, /, **fields: Any) -> str:
        """Enqueues an event and returns its id (a UUIDv7 unless the event has an ``id``).

        Takes the event's fields as keywords (``log(input=x, output=y, latency_ms={...})``), or a
        dict, or both. ``ts`` (the time of the call), ``model`` (the logger's) and ``id`` are filled
        in when absent. O(1), no I/O; do not mutate the objects you logged afterwards (they are
        serialized later, on the sender thread). ``error=exc`` records an exception as
        ``status: "error"``.
        """
        try:
            # The keywords dict is already a fresh dict: it becomes the record as is.
            rec = fields if event is None else {**event, **fields}
            id = rec.get("id")
            if not isinstance(id, str) or not id:
                id = rec["id"] = self._next_id()
            if self._sampler is not None and not self._sampler(id):
                self._pipeline.count_sampled_out()
                return id
            self._pipeline.enqueue("event", rec, time.time())
            return id
        except Exception as e:
            self._internal_fault(e)
            return self._next_id()

    def _log_at(self, rec: dict, id: str, t: float) -> str:
        if self._sampler is not None and not self._sampler(id):
            self._pipeline.count_sampled_out()
            return id
        self._pipeline.enqueue("event", rec, t)
        return id

    def start(self, **fields: Any) -> Span:
        """Starts timing a prediction; ``span.end(output=...)`` logs it with ``latency_ms`` filled.

        ``with log.start(input=x) as span: ... span.set(output=y)`` ends it on exit (or records the exception).
        """
        return Span(self, fields)

    def wrap(
        self,
        fn: Optional[Callable[..., Any]] = None,
        *,
        input: Optional[Callable[..., Any]] = None,
        output: Optional[Callable[[Any], Any]] = None,
        fields: Optional[Callable[..., Dict[str, Any]]] = None,
        model: Optional[Dict[str, Any]] = None,
    ) -> Any:
        """Decorator logging each call of a function (plain or ``async def``): input, output or error, latency.

        ``input(*args, **kwargs)`` and ``output(result)`` choose what is logged (default: the only
        argument, or the arguments; the result); ``fields(args, kwargs, result, error)`` adds fields.
        Exceptions of the function pass through unchanged.
        """
        if fn is None:
            return lambda f: wrap(self, f, input, output, fields, model)
        return wrap(self, fn, input, output, fields, model)

    def feedback(self, event_id: str, name: str, value: Any, **fields: Any) -> str:
        """Enqueues a feedback item for an event and returns the item's id.

        Optional fields: ``id`` (idempotency key; default a new UUIDv7), ``kind`` (``explicit`` or
        ``implicit``), ``source`` (``{"type": "user"|"annotator"|"model"|"system", "id": ...}``),
        ``ts`` (default: the time of the call), ``comment``, ``metadata``.
        """
        id = ""
        try:
            given = fields.get("id")
            id = given if isinstance(given, str) and given else self._next_id()
            if self._sampler is not None and not self._sampler(event_id):
                # Feedback follows its event's sampling decision.
                self._pipeline.count_sampled_out()
                return id
            rec = {**fields, "id": id, "event_id": event_id, "name": name, "value": value}
            self._pipeline.enqueue("feedback", rec, time.time())
            return id
        except Exception as e:
            self._internal_fault(e)
            return id

    # ---- lifecycle ----

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Waits until every item logged before the call is acknowledged, spooled, dropped or given up on.

        Returns True when that happened, False when ``timeout`` seconds (default: no limit) ran out first.
        """
        try:
            return self._pipeline.flush(timeout)
        except Exception as e:
            self._internal_fault(e)
            return False

    def close(self, timeout: Optional[float] = None) -> bool:
        """Flushes, tries once to deliver what is in the spool, then stops the sender thread. Idempotent.

        Items still queued when ``timeout`` seconds run out are dropped and counted. Returns True when
        everything was settled in time. Later ``log()`` calls are dropped (counted, reported once).
        """
        try:
            if not self._closed:
                self._closed = True
                if self._flush_on_exit:
                    atexit.unregister(self._at_exit)
            return self._pipeline.close(timeout)
        except Exception as e:
            self._internal_fault(e)
            return False

    def stats(self) -> Dict[str, int]:
        """A snapshot of the counters.

        ``enqueued``, ``sent`` (acknowledged, duplicates included), ``dropped`` (capacity losses:
        full queue, spool eviction, logged after close), ``spooled`` (cumulative), ``retried``
        (re-send attempts), ``failed`` (given up on), ``queue_depth``; also ``replayed``,
        ``rejected``, ``duplicates``, ``sampled_out``, ``in_flight``, ``spool_items``,
        ``spool_bytes``, ``requests``, ``bytes_sent``.
        """
        return self._pipeline.stats()

    def __enter__(self) -> "Logger":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---- internals ----

    def _prepare_event(self, rec: dict, t: float, iso: Callable[[float], str]) -> dict:
        # Runs on the sender thread; ``rec`` is the logger's own copy.
        if rec.get("ts") is None:
            rec["ts"] = iso(t)
        if "model" not in rec and self._model is not None:
            rec["model"] = self._model
        err = rec.get("error")
        if isinstance(err, BaseException):
            rec["error"] = {"type": type(err).__name__, "message": str(err)}
            rec.setdefault("status", "error")
        if self._rate < 1:
            given = rec.get("sample_rate")
            rec["sample_rate"] = (given if isinstance(given, (int, float)) and not isinstance(given, bool) else 1) * self._rate
        return rec

    def _report(self, code: str, message: str, **extra: Any) -> None:
        try:
            self._on_error(InferlogError(code, message, **extra))
        except Exception:
            pass  # the host's handler failed: nothing more to do without raising into the host

    def _internal_fault(self, e: BaseException) -> None:
        try:
            with self._pipeline.lock:
                self._pipeline.counts.failed += 1
        except Exception:
            pass
        self._report("serialize_failed", f"the logger was given something it cannot log: {e!r}", cause=e)

    def _at_exit(self) -> None:
        self.close(self._exit_timeout_s)

    def _after_fork(self) -> None:
        self._next_id = Uuid7()
        if not self._closed:
            spool = FileSpool(*self._spool_args) if self._spool_args else None
            self._pipeline.after_fork_in_child(HttpSender(self.url, self._headers, self._timeout_s), spool)


def _prepare_feedback(rec: dict, t: float, iso: Callable[[float], str]) -> dict:
    if rec.get("ts") is None:
        rec["ts"] = iso(t)
    return rec


def _after_fork(ref: "weakref.ReferenceType[Logger]") -> None:
    logger = ref()
    if logger is not None:
        try:
            logger._after_fork()
        except Exception:
            pass
