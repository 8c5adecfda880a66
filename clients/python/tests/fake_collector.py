"""A tiny stand-in for the collector's ingest endpoints, scripted per request (standard library only)."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional


class Request:
    def __init__(self, path: str, headers: Dict[str, str], records: List[dict]) -> None:
        self.path = path
        self.headers = headers
        self.records = records

    @property
    def ids(self) -> List[str]:
        return [r.get("id") for r in self.records]


def reply(status: int, body: Any = None, headers: Optional[Dict[str, str]] = None, delay: float = 0.0, hang_up: bool = False) -> dict:
    """A scripted answer: status, JSON body (default: the normal ingest reply), extra headers, a
    delay first; ``hang_up`` closes the kept-alive connection afterwards without saying so."""
    return {"status": status, "body": body, "headers": headers or {}, "delay": delay, "hang_up": hang_up}


class FakeCollector:
    """Records every POST (decompressed, parsed NDJSON) and answers from a script, then with 200s.

    Like the real collector, it stores each id once: a re-send counts as a duplicate.
    """

    def __init__(self) -> None:
        self.requests: List[Request] = []
        self.stored: Dict[str, int] = {}
        self.script: List[dict] = []
        self.cond = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    raw = gzip.decompress(raw)
                records = [json.loads(line) for line in raw.decode("utf-8").split("\n") if line]
                with fake.cond:
                    step = fake.script.pop(0) if fake.script else reply(200)
                if step["delay"]:
                    time.sleep(step["delay"])
                with fake.cond:
                    fake.requests.append(Request(self.path, dict(self.headers.items()), records))
                    body = step["body"]
                    if body is None and step["status"] in (200, 207):
                        body = fake._ingest(records, step["status"])
                    fake.cond.notify_all()
                data = json.dumps(body if body is not None else {"error": {"code": "x", "message": "scripted"}}).encode()
                try:
                    self.send_response(step["status"])
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in step["headers"].items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                    self.close_connection = step["hang_up"]
                except OSError:
                    pass  # the client gave up (timeout test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def _ingest(self, records: List[dict], status: int) -> dict:
        accepted = duplicates = 0
        rejected = []
        for i, r in enumerate(records):
            if status == 207 and r.get("input") == "reject-me":
                rejected.append({"index": i, "id": r.get("id"), "code": "validation_failed", "path": "/input", "message": "scripted"})
                continue
            if r["id"] in self.stored:
                duplicates += 1
            else:
                accepted += 1
            self.stored[r["id"]] = self.stored.get(r["id"], 0) + 1
        return {"accepted": accepted, "duplicates": duplicates, "ids": [r.get("id") for r in records], "rejected": rejected}

    def then(self, *steps: dict) -> "FakeCollector":
        with self.cond:
            self.script.extend(steps)
        return self

    def records(self, path: str = "/v1/events") -> List[dict]:
        with self.cond:
            return [r for q in self.requests if q.path == path for r in q.records]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        with self.cond:
            return self.cond.wait_for(predicate, timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def dead_url() -> str:
    """The URL of a port nothing listens on (connections are refused at once)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"
