"""The bounded in-memory queue between ``log()`` and the background thread that empties it."""

from __future__ import annotations

import collections
import threading
import time
from typing import Any, Callable, Deque, Dict, Optional, Tuple

from ._delivery import Counts, Delivery
from ._encode import iso_formatter, json_line
from ._spool import FileSpool
from ._transport import HttpSender

KINDS = ("event", "feedback")
_AVG_WEIGHT = 0.05


class Pipeline:
    """Queues items (O(1), under one short lock), and runs the daemon thread that batches,
    serializes, compresses and delivers them.

    Flush bookkeeping: per kind, ``popped`` counts items taken out of the queue (into a batch, or
    dropped from the head) and ``inflight`` the popped items whose batch is not settled yet; so
    ``popped + len(queue)`` counts every item ever queued. Everything queued before a flush is
    settled once ``popped - inflight`` reaches the flush's snapshot of that sum.
    """

    def __init__(
        self,
        cfg: Any,
        sender: HttpSender,
        spool: Optional[FileSpool],
        report: Callable[..., None],
        prepare: Dict[str, Callable[[dict, float, Callable[[float], str]], dict]],
    ) -> None:
        self.cfg = cfg
        self.report = report
        self._prepare = prepare
        self._spool = spool
        self._sender = sender
        self._init_state()

    def _init_state(self) -> None:
        self.lock = threading.Lock()
        self.progress = threading.Condition(self.lock)
        self.counts = Counts()
        self.queues: Dict[str, Deque[Tuple[dict, float]]] = {k: collections.deque() for k in KINDS}
        self._ev, self._fb = self.queues["event"], self.queues["feedback"]
        self._queue_max = self.cfg.queue_max_items
        self._batch_items = self.cfg.batch_max_items
        self._batch_bytes = self.cfg.batch_max_bytes
        self.popped = dict.fromkeys(KINDS, 0)
        self.inflight = dict.fromkeys(KINDS, 0)
        self.wake = threading.Event()
        self.flushers = 0
        self.closing = False
        self.stopped = False
        self.finished = False
        self.overflowing = False
        self.overflow_reported = False
        self.closed_reported = False
        self.avg_event = 1024.0
        # Per logger: the formatter caches its last result, so it must not be shared between threads.
        self._iso = iso_formatter()
        self.delivery = Delivery(self.cfg, self._sender, self._spool, self.counts, self.lock, self.report)
        self.thread = threading.Thread(target=self._run, name="inferlog-sender", daemon=True)
        self.thread.start()

    def after_fork_in_child(self, sender: HttpSender, spool: Optional[FileSpool]) -> None:
        """A forked child (e.g. a pre-forking server's worker) starts empty, with its own thread,
        connection and spool handle (locks held at fork time would never be released in the child).

        What the parent had queued is the parent's to deliver.
        """
        self._sender = sender
        self._spool = spool
        self._init_state()

    # ---- the caller's path ----

    def enqueue(self, kind: str, rec: dict, t: float) -> None:
        """Puts one item in the queue or drops it (counted). Never blocks on I/O, never raises."""
        with self.lock:
            if not self.closing:
                ev, fb = self._ev, self._fb
                q = ev if kind == "event" else fb
                if len(ev) + len(fb) >= self._queue_max:
                    self.counts.dropped += 1
                    self.overflowing = True
                    if self.cfg.overflow != "drop-oldest" or not q:
                        return
                    # Make room: the oldest item of the same kind goes, the new one is kept.
                    q.popleft()
                    self.popped[kind] += 1
                q.append((rec, t))
                n = len(q)
                if n < self._batch_items and (q is not ev or n * self.avg_event < self._batch_bytes):
                    return
                if not self.wake.is_set():
                    self.wake.set()
                return
            self.counts.dropped += 1
            if self.closed_reported:
                return
            self.closed_reported = True
        self.report("closed", "log() or feedback() after close(): dropped; see stats()['dropped']")

    def count_sampled_out(self) -> None:
        with self.lock:
            self.counts.sampled_out += 1

    # ---- the background thread ----

    def _run(self) -> None:
        d = self.delivery
        try:
            if d.spool is not None:
                try:
                    d.spool.load()
                except OSError as e:
                    self.report("spool_failed", f"cannot open the spool {d.spool.dir}: {e}; going on without it", cause=e)
                    d.spool = None
            next_tick = time.monotonic() + self.cfg.interval_s
            while not self.stopped:
                now = time.monotonic()
                timeout = next_tick - now
                if d.spool is not None and not self.closing and d.spool.head() is not None:
                    timeout = min(timeout, d.probe_at - now)
                if timeout > 0:
                    self.wake.wait(timeout)
                self.wake.clear()
                if self.stopped:
                    break
                force = self.flushers > 0 or self.closing
                now = time.monotonic()
                if now >= next_tick:
                    next_tick = now + self.cfg.interval_s
                    force = True
                self._drain(force)
                self._report_overflow()
                if self.closing:
                    with self.lock:
                        empty = not self.queues["event"] and not self.queues["feedback"]
                    if empty:
                        d.final_replay()
                        break
                elif d.spool is not None and d.spool.head() is not None and time.monotonic() >= d.probe_at:
                    d.replay_step()
        except Exception as e:  # a bug of ours: say so rather than die silently
            self.report("delivery_failed", f"internal error in the sender thread: {e!r}", cause=e)
        finally:
            with self.progress:
                self.finished = True
                self.progress.notify_all()

    def _ready(self, force: bool) -> Optional[str]:
        fb, ev = self.queues["feedback"], self.queues["event"]
        if fb and (force or len(fb) >= self.cfg.batch_max_items):
            return "feedback"
        if ev and (force or len(ev) >= self.cfg.batch_max_items or len(ev) * self.avg_event >= self.cfg.batch_max_bytes):
            return "event"
        return None

    def _drain(self, force: bool) -> None:
        while not self.stopped:
            with self.lock:
                kind = self._ready(force)
                if kind is None:
                    return
                q = self.queues[kind]
                n = min(len(q), self.cfg.batch_max_items)
                items = [q.popleft() for _ in range(n)]
                self.popped[kind] += n
                self.inflight[kind] += n
            try:
                self._send(kind, items)
            finally:
                with self.progress:
                    self.inflight[kind] -= n
                    self.progress.notify_all()

    def _send(self, kind: str, items: list) -> None:
        prepare = self._prepare[kind]
        iso = self._iso
        lines = []
        for rec, t in items:
            try:
                lines.append(json_line(prepare(rec, t, iso)))
            except Exception as e:
                with self.lock:
                    self.counts.failed += 1
                self.report("serialize_failed", f"an {kind} could not be serialized and was left out: {e}", items=1, cause=e)
        if not lines:
            return
        if kind == "event":
            mean = sum(len(x) for x in lines) / len(lines)
            self.avg_event += (mean - self.avg_event) * min(1.0, _AVG_WEIGHT * len(lines))
        self.delivery.dispatch(kind, lines)

    def _report_overflow(self) -> None:
        with self.lock:
            depth = len(self.queues["event"]) + len(self.queues["feedback"])
            say = self.overflowing and not self.overflow_reported
            if say:
                self.overflow_reported = True
            elif self.overflowing and depth * 2 < self.cfg.queue_max_items:
                self.overflowing = self.overflow_reported = False
        if say:
            self.report(
                "queue_overflow",
                f"the in-memory queue is full ({self.cfg.queue_max_items} items); dropping ({self.cfg.overflow}); see stats()['dropped']",
            )

    # ---- flush, close, stats ----

    def _settled(self, target: Dict[str, int]) -> bool:
        return all(self.popped[k] - self.inflight[k] >= target[k] for k in KINDS)

    def flush(self, timeout: Optional[float]) -> bool:
        """Waits until every item queued before the call is acknowledged, spooled, dropped or given up on.

        Returns False when ``timeout`` (seconds) ran out first, or when called from the sender thread itself.
        """
        if threading.current_thread() is self.thread:
            return False
        with self.progress:
            target = {k: self.popped[k] + len(self.queues[k]) for k in KINDS}
            self.flushers += 1
            try:
                self.wake.set()
                self.progress.wait_for(lambda: self.finished or self._settled(target), timeout)
                return self._settled(target)
            finally:
                self.flushers -= 1

    def close(self, timeout: Optional[float]) -> bool:
        """Stops taking items, flushes, replays the spool once, and ends the thread. Idempotent.

        Returns True when everything was settled in time. Items still queued when ``timeout`` runs
        out are dropped, counted and reported.
        """
        with self.lock:
            first = not self.closing
            self.closing = True
        d = self.delivery
        if first:
            d.closing = True
            if d.spool is not None:
                # Cut retry waits short: what cannot be sent now goes to the spool.
                d.interrupt.set()
            self.wake.set()
        if threading.current_thread() is not self.thread:
            self.thread.join(timeout)
        if not self.thread.is_alive():
            self._sender.close()
            return True
        self.stopped = d.stopped = True
        d.interrupt.set()
        self.wake.set()
        with self.progress:
            left = 0
            for k in KINDS:
                q = self.queues[k]
                left += len(q)
                self.popped[k] += len(q)
                q.clear()
            self.counts.dropped += left
            self.progress.notify_all()
        if left:
            self.report("closed", f"close() timed out with {left} items still queued: dropped; see stats()['dropped']", items=left)
        return False

    def stats(self) -> Dict[str, int]:
        with self.lock:
            c = self.counts
            depth = len(self._ev) + len(self._fb)
            out = {"enqueued": sum(self.popped.values()) + depth}
            out.update((k, getattr(c, k)) for k in Counts.__slots__)
            out["queue_depth"] = depth
            out["in_flight"] = sum(self.inflight.values())
        spool = self.delivery.spool
        items, size = spool.size() if spool is not None else (0, 0)
        out["spool_items"] = items
        out["spool_bytes"] = size
        return out
