"""What ``Logger.log()`` costs the calling thread, next to references measured in the same run.

    PYTHONPATH=clients/python python3 clients/python/benchmarks/bench_log.py [COLLECTOR_URL]

Rows (microseconds per event, median of 7 interleaved rounds of 20 000 calls):
- ``Logger.log()`` with the sender thread idle (batch limits out of reach, so only the call is timed);
- ``json.dumps`` of the same event (the work ``log()`` leaves to the sender thread);
- the standard library's own non-blocking hand-off: ``logging`` with a ``QueueHandler``;
- with a collector URL: end-to-end throughput, 100 000 events logged, sent and acknowledged.
"""

import json
import logging
import logging.handlers
import queue
import statistics
import sys
import time

import inferlog

N = 20_000
ROUNDS = 7
INPUT = {"tenure_months": 14, "plan": "pro", "country": "DE", "usage": [0.12, 0.5, 0.33, 0.9]}
OUTPUT = {"churn": True, "score": 0.81}


def per_call(fn) -> float:
    t0 = time.perf_counter()
    for _ in range(N):
        fn()
    return (time.perf_counter() - t0) / N * 1e6


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:9"
    event = {"id": "01a23379-c5f1-7263-9bb5-caa4568124f2", "ts": "2026-12-01T21:19:08.273Z", "model": {"name": "bench", "version": "1"}}
    event.update(input=INPUT, output=OUTPUT, latency_ms={"total": 3.2})
    std = logging.getLogger("bench")
    std.propagate = False
    std.addHandler(logging.handlers.QueueHandler(queue.SimpleQueue()))
    std.setLevel(logging.INFO)
    rows = {"Logger.log()": [], "json.dumps(event)": [], "logging + QueueHandler": []}
    for _ in range(ROUNDS):
        log = inferlog.Logger(
            url, model={"name": "bench", "version": "1"}, batch_max_items=10 * N, batch_max_bytes=1 << 40,
            queue_max_items=10 * N, interval_s=3600, flush_on_exit=False, on_error=lambda e: None,
        )
        rows["Logger.log()"].append(per_call(lambda: log.log(input=INPUT, output=OUTPUT, latency_ms={"total": 3.2})))
        log.close(0.01)  # what it holds is not the point here
        rows["json.dumps(event)"].append(per_call(lambda: json.dumps(event)))
        rows["logging + QueueHandler"].append(per_call(lambda: std.info("prediction %s", event)))
    for name, values in rows.items():
        print(f"{name:26s} {statistics.median(values):6.2f} us/event")
    if len(sys.argv) > 1:
        n = 100_000
        log = inferlog.Logger(url, model={"name": "bench", "version": "1"}, queue_max_items=n, flush_on_exit=False)
        t0 = time.perf_counter()
        for _ in range(n):
            log.log(input=INPUT, output=OUTPUT, latency_ms={"total": 3.2})
        log.flush()
        dt = time.perf_counter() - t0
        s = log.stats()
        log.close()
        print(f"end to end: {n} events acknowledged in {dt:.2f} s = {n / dt:,.0f} events/s ({s['requests']} requests, sent {s['sent']}, dropped {s['dropped']})")


if __name__ == "__main__":
    main()
