"""From serialized lines to acknowledged, spooled or reported batches: retries, splits, the spool, replay."""

from __future__ import annotations

import gzip as _gzip
import threading
import time
from typing import Any, Callable, List, NamedTuple, Optional, Tuple

from ._retry import backoff_s, classify
from ._spool import FileSpool, SpoolEntry
from ._transport import HttpSender, SendResult


class Payload(NamedTuple):
    """One request body: ``count`` NDJSON lines of one record kind, gzip-compressed or not."""

    kind: str
    body: bytes
    gzip: bool
    count: int


class Counts:
    """The logger's counters (``enqueued`` is derived from the queues). Mutated under the pipeline's lock."""

    __slots__ = (
        "sent",
        "dropped",
        "spooled",
        "retried",
        "failed",
        "replayed",
        "rejected",
        "duplicates",
        "sampled_out",
        "requests",
        "bytes_sent",
    )

    def __init__(self) -> None:
        for k in self.__slots__:
            setattr(self, k, 0)


Report = Callable[..., None]


class Delivery:
    """Sends batches with retries and backoff, spools them when the collector is unreachable, and
    replays the spool oldest first. Runs only on the logger's background thread.

    After a batch is spooled the delivery is in *outage* mode: later batches go straight to the
    spool while its oldest batch probes the collector with backoff; the first success ends it.
    """

    def __init__(
        self,
        cfg: Any,
        sender: HttpSender,
        spool: Optional[FileSpool],
        counts: Counts,
        lock: threading.Lock,
        report: Report,
    ) -> None:
        self.cfg = cfg
        self.sender = sender
        self.spool = spool
        self.counts = counts
        self.lock = lock
        self.report = report
        self.outage = False
        #: Set when close() starts: a failing batch goes to the spool at once.
        self.closing = False
        #: Set when close() gave up waiting: nothing is retried any more.
        self.stopped = False
        #: Ends backoff waits early (close with a spool, or a timed-out close).
        self.interrupt = threading.Event()
        #: Waits between attempts; tests replace it to observe the delays asked for.
        self.sleep: Callable[[float], None] = self.interrupt.wait
        self.probe_at = 0.0
        self._probe_failures = 0
        self._last: Optional[SendResult] = None

    def _add(self, **deltas: int) -> None:
        with self.lock:
            for k, v in deltas.items():
                setattr(self.counts, k, getattr(self.counts, k) + v)

    # ---- live batches ----

    def dispatch(self, kind: str, lines: List[bytes]) -> None:
        """Groups lines into bodies of at most ``batch_max_bytes`` and delivers (or spools) each."""
        limit = self.cfg.batch_max_bytes
        start = 0
        size = 0
        for i, line in enumerate(lines):
            if i > start and size + len(line) + 1 > limit:
                self._one(self.encode(kind, lines[start:i]))
                start, size = i, 0
            size += len(line) + 1
        if start < len(lines):
            self._one(self.encode(kind, lines[start:]))

    def _one(self, p: Payload) -> None:
        if self.spool is not None and self.outage:
            if self.spool.head() is not None:
                self.to_spool(p)
                return
            # Nothing left to probe with (e.g. the spool evicted it): try the network again.
            self.outage = False
        self.deliver(p)

    def encode(self, kind: str, lines: List[bytes]) -> Payload:
        raw = b"\n".join(lines) + b"\n"
        level = self.cfg.gzip_level
        if level > 0:
            return Payload(kind, _gzip.compress(raw, compresslevel=level, mtime=0), True, len(lines))
        return Payload(kind, raw, False, len(lines))

    def deliver(self, p: Payload) -> None:
        """Sends with retries; then spools (when there is a spool) or gives up, counted and reported."""
        retries = self.cfg.retries_before_spool if self.spool is not None else self.cfg.max_retries
        attempt = 0
        while True:
            res, err = self.attempt(p)
            verdict = classify(res.status if res else None, res.error_code if res else None)
            if verdict == "ok":
                self.account(p, res, replay=False)
                return
            if verdict == "split" and p.count > 1:
                for half in self.split(p):
                    self.deliver(half)
                return
            if verdict == "retry" and not self.stopped:
                if self.spool is not None and (self.closing or attempt >= retries):
                    # The collector is down or too slow: spool, and let the replay probe it.
                    self.outage = True
                    self.to_spool(p)
                    return
                if attempt < retries:
                    self._add(retried=1)
                    self.sleep(self._backoff(attempt, res))
                    attempt += 1
                    continue
            self._add(failed=p.count)
            self.report(
                "delivery_failed",
                f"{p.count} {p.kind} items lost: {describe(res, err)}",
                items=p.count,
                status=res.status if res else None,
                cause=err,
            )
            return

    def attempt(self, p: Payload) -> Tuple[Optional[SendResult], Optional[BaseException]]:
        try:
            return self.sender.send(p.kind, p.body, p.gzip), None
        except Exception as e:  # network faults, timeouts, TLS errors: all retried
            return None, e

    def account(self, p: Payload, res: SendResult, replay: bool) -> None:
        reply = res.reply
        accepted = reply.get("accepted") if reply else None
        if not isinstance(accepted, int):
            self._add(requests=1, bytes_sent=len(p.body), sent=p.count, replayed=p.count if replay else 0)
            return
        rejected = reply.get("rejected") if isinstance(reply.get("rejected"), list) else []
        ok = p.count - len(rejected)
        dup = reply.get("duplicates") if isinstance(reply.get("duplicates"), int) else 0
        self._add(
            requests=1,
            bytes_sent=len(p.body),
            sent=ok,
            duplicates=dup,
            replayed=ok if replay else 0,
            rejected=len(rejected),
        )
        if rejected:
            codes = ", ".join(sorted({str(r.get("code")) for r in rejected if isinstance(r, dict)}))
            first = rejected[0].get("message") if isinstance(rejected[0], dict) else None
            self.report(
                "rejected",
                f"the collector rejected {len(rejected)} of {p.count} {p.kind} items ({codes}); first: {first}",
                items=len(rejected),
                status=res.status,
                rejections=rejected,
            )

    def split(self, p: Payload) -> List[Payload]:
        """Halves a batch the collector found too large."""
        raw = _gzip.decompress(p.body) if p.gzip else p.body
        lines = [line for line in raw.split(b"\n") if line]
        mid = (len(lines) + 1) // 2
        return [self.encode(p.kind, part) for part in (lines[:mid], lines[mid:]) if part]

    def _backoff(self, attempt: int, res: Optional[SendResult]) -> float:
        return backoff_s(attempt, self.cfg.initial_backoff_s, self.cfg.max_backoff_s, res.retry_after_s if res else None)

    # ---- the spool ----

    def to_spool(self, p: Payload) -> None:
        assert self.spool is not None
        try:
            evicted, stored = self.spool.write(p.kind, p.body, p.count, p.gzip)
        except OSError as e:
            self._add(failed=p.count)
            self.report("spool_failed", f"could not spool {p.count} items: {e}", items=p.count, cause=e)
            return
        self._add(spooled=p.count if stored else 0, dropped=evicted)
        if evicted:
            self.report("spool_full", f"the spool is full: {evicted} items dropped (oldest first); see stats()['dropped']", items=evicted)

    def replay_step(self) -> None:
        """Sends the oldest spooled batch once. On a retryable failure, schedules the next probe with backoff."""
        entry = self.spool.head() if self.spool is not None else None
        if entry is None:
            return
        if self._replay(entry):
            self._probe_failures = 0
            self.outage = False
        else:
            self.outage = True
            self._add(retried=1)
            self.probe_at = time.monotonic() + self._backoff(self._probe_failures, self._last)
            self._probe_failures += 1

    def final_replay(self) -> None:
        """At close: every spooled batch once, oldest first, stopping at the first that cannot get through."""
        if self.spool is None:
            return
        for entry in self.spool.entries():
            if self.stopped or not self._replay(entry):
                return

    def _replay(self, entry: SpoolEntry) -> bool:
        """True when the entry is settled (sent, split, or given up on); False when it should be retried later."""
        assert self.spool is not None
        self._last = None
        try:
            body = self.spool.read(entry)
        except FileNotFoundError:
            # Another logger sharing the directory replayed it.
            self.spool.remove(entry)
            return True
        except OSError as e:
            self.spool.remove(entry)
            self._add(failed=entry.count)
            self.report("spool_failed", f"unreadable spool file {entry.name} ({entry.count} items) removed: {e}", items=entry.count, cause=e)
            return True
        p = Payload(entry.kind, body, entry.gzip, entry.count)
        res, err = self.attempt(p)
        self._last = res
        verdict = classify(res.status if res else None, res.error_code if res else None)
        if verdict == "retry":
            return False
        if verdict == "ok":
            self.account(p, res, replay=True)
        elif verdict == "split" and p.count > 1:
            try:
                halves = self.split(p)
            except (OSError, EOFError, _gzip.BadGzipFile) as e:
                halves = []
                self._add(failed=p.count)
                self.report("spool_failed", f"corrupt spool file {entry.name} removed: {e}", items=p.count, cause=e)
            self.spool.remove(entry)
            for half in halves:
                self.deliver(half)
            return True
        else:
            self._add(failed=p.count)
            self.report(
                "delivery_failed",
                f"{p.count} spooled {p.kind} items lost: {describe(res, err)}",
                items=p.count,
                status=res.status if res else None,
            )
        self.spool.remove(entry)
        return True


def describe(res: Optional[SendResult], err: Optional[BaseException]) -> str:
    if res is not None:
        out = f"HTTP {res.status}"
        if res.error_code:
            out += f" {res.error_code}"
        if res.message:
            out += f": {res.message}"
        return out
    return f"{type(err).__name__}: {err}" if err is not None else "unknown error"
