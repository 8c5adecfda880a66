"""Logs N events and one feedback item per event through the Python client, closes, prints what it did.

Usage: PYTHONPATH=clients/python python3 log_and_feedback.py URL N
Prints one JSON line: {"events": [ids], "feedback": [[feedback id, event id]], "closed": bool, "stats": {...}}.
"""

import json
import sys

import inferlog

url, n = sys.argv[1], int(sys.argv[2])
errors = []
log = inferlog.Logger(url, project="pyproj", model={"name": "py-clf", "version": "1.0.0"}, batch_max_items=64, on_error=errors.append)
events, feedback = [], []
for i in range(n):
    with log.start(input={"x": i, "text": "é" * (i % 7)}, trace={"session_id": f"s{i % 5}"}) as span:
        span.phase("inference")
        span.set(output={"label": "yes" if i % 2 else "no", "score": i / n})
    events.append(span.id)
    feedback.append([log.feedback(span.id, "label", i % 2 == 1, kind="explicit", source={"type": "annotator"}), span.id])
closed = log.close(30)
print(json.dumps({"events": events, "feedback": feedback, "closed": closed, "stats": log.stats(), "errors": [e.code for e in errors]}))
