"""HTTP delivery of one request body over a kept-alive ``http.client`` connection."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from typing import Any, Dict, NamedTuple, Optional

from ._retry import parse_retry_after

# What a kept-alive connection that the server has meanwhile closed looks like.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, ConnectionAbortedError)

#: Paths of the two ingest endpoints, by record kind.
PATHS = {"event": "/v1/events", "feedback": "/v1/feedback"}


class SendResult(NamedTuple):
    """The collector's reply to one request."""

    status: int
    #: The parsed JSON body of a 200/207 (``{accepted, duplicates, ids, rejected}``), else None.
    reply: Optional[Dict[str, Any]]
    #: ``error.code`` of an error reply, when there is one.
    error_code: Optional[str]
    #: ``error.message`` of an error reply, or the start of a non-JSON body.
    message: Optional[str]
    retry_after_s: Optional[float]


class HttpSender:
    """Posts NDJSON bodies to ``{url}/v1/events`` and ``{url}/v1/feedback``.

    One persistent connection, used only by the logger's background thread. Any failure closes it,
    and the next request opens a new one. ``timeout_s`` bounds connecting and each wait for the
    collector (a request with no response activity for that long fails and is retried).
    """

    def __init__(self, url: str, headers: Dict[str, str], timeout_s: float) -> None:
        u = urllib.parse.urlsplit(url)
        self._https = u.scheme == "https"
        self._host = u.hostname or "localhost"
        self._port = u.port
        self._base = u.path.rstrip("/")
        self._headers = headers
        self._timeout = timeout_s
        self._conn: Optional[http.client.HTTPConnection] = None
        #: Whether the open connection has carried a request (it may have been closed by the server since).
        self._reused = False

    def send(self, kind: str, body: bytes, gzip: bool) -> SendResult:
        """One POST. Raises ``OSError`` / ``http.client.HTTPException`` on network faults and timeouts."""
        headers = dict(self._headers)
        headers["Content-Type"] = "application/x-ndjson"
        if gzip:
            headers["Content-Encoding"] = "gzip"
        while True:
            reused = self._conn is not None and self._reused
            conn = self._connection()
            try:
                conn.request("POST", self._base + PATHS[kind], body=body, headers=headers)
                res = conn.getresponse()
                data = res.read()
            except _STALE:
                self.close()
                if reused:
                    # The server closed an idle kept-alive connection: that says nothing about the
                    # collector's health, so try once more on a new connection (a re-send is harmless).
                    continue
                raise
            except BaseException:
                self.close()
                raise
            self._reused = True
            if res.will_close:
                self.close()
            return _result(res.status, res.getheader("Retry-After"), res.getheader("Content-Type") or "", data)

    def close(self) -> None:
        """Drops the connection (the next send opens a new one)."""
        conn, self._conn = self._conn, None
        self._reused = False
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self._timeout)
        return self._conn


def _result(status: int, retry_after: Optional[str], content_type: str, data: bytes) -> SendResult:
    parsed: Any = None
    if "json" in content_type:
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = None
    reply = parsed if status in (200, 207) and isinstance(parsed, dict) else None
    code = message = None
    err = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(err, dict):
        code = err.get("code") if isinstance(err.get("code"), str) else None
        message = err.get("message") if isinstance(err.get("message"), str) else None
    elif status not in (200, 207) and data:
        message = data[:200].decode("utf-8", "replace")
    return SendResult(status, reply, code, message, parse_retry_after(retry_after))
