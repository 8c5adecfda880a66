"""Logs steadily (events, and feedback for every 10th) until told to stop on stdin, with a disk spool.

Usage: PYTHONPATH=clients/python python3 log_through_restart.py URL SPOOL_DIR
Prints `progress {"logged", "stats"}` lines as it goes; on a `stop` line it closes and prints
`done {"events", "feedback", "closed", "stats", "errors"}`.
"""

import json
import sys
import threading
import time

import inferlog

url, spool_dir = sys.argv[1], sys.argv[2]
errors = []
log = inferlog.Logger(
    url,
    model={"name": "py-restart", "version": "1.0.0"},
    spool_dir=spool_dir,
    interval_s=0.2,
    batch_max_items=100,
    max_backoff_s=0.5,
    timeout_s=5,
    on_error=errors.append,
)
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()

events, feedback = [], []
last = time.monotonic()
while not stop.is_set():
    for _ in range(10):
        i = len(events)
        events.append(log.log(input={"i": i}, output={"y": i * 2}))
        if i % 10 == 0:
            feedback.append(log.feedback(events[-1], "thumbs", 1))
    time.sleep(0.02)
    if time.monotonic() - last > 0.1:
        last = time.monotonic()
        print("progress " + json.dumps({"logged": len(events), "stats": log.stats()}), flush=True)

closed = log.close(60)
out = {"events": events, "feedback": feedback, "closed": closed, "stats": log.stats(), "errors": sorted({e.code for e in errors})}
print("done " + json.dumps(out), flush=True)
