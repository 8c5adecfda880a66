"""The disk spool: one fsynced file per batch, bounded, replayed oldest first."""

from __future__ import annotations

import os
import re
import threading
import time
from typing import List, NamedTuple, Optional, Tuple

# <ms:15>-<seq:8>-<pid>-<e|f><count>.ndjson[.gz]: names sort oldest first, across processes too.
# The same layout as the TypeScript SDK's spool, so either can replay what the other left.
_NAME = re.compile(r"^(\d{15})-(\d{8})-(\d+)-([ef])(\d+)\.ndjson(\.gz)?$")


class SpoolEntry(NamedTuple):
    """One spooled batch: its file name, record kind, item count, size and whether it is gzip."""

    name: str
    kind: str
    count: int
    bytes: int
    gzip: bool


class FileSpool:
    """Batches that could not be delivered, kept on disk until they can.

    Each file holds an exact request body. It is written under a temporary name, fsynced and
    renamed (then the directory is fsynced), so a crash leaves a whole batch or none. The total
    size is capped at ``max_bytes``: the oldest batches are evicted first. Several loggers may share
    a directory (a re-send is a no-op at the collector); each counts only what it spooled itself.

    Used by the logger's one background thread; ``size()`` may be read from any thread.
    """

    def __init__(self, directory: str, max_bytes: int, fsync: bool = True) -> None:
        self.dir = directory
        self.max_bytes = max_bytes
        self.fsync = fsync
        self._entries: List[SpoolEntry] = []
        self._bytes = 0
        self._items = 0
        self._seq = 0
        self._lock = threading.Lock()

    def load(self) -> None:
        """Creates the directory and lists what an earlier process left. Removes interrupted writes."""
        os.makedirs(self.dir, exist_ok=True)
        for name in sorted(os.listdir(self.dir)):
            path = os.path.join(self.dir, name)
            if name.endswith(".tmp"):
                # Never counted as spooled, so nothing acknowledged is lost by removing it. Only our
                # own temp files: another live process may be writing its own right now.
                if f"-{os.getpid()}-" in name or not _pid_alive(name):
                    _remove(path)
                continue
            m = _NAME.match(name)
            if not m:
                continue
            try:
                size = os.stat(path).st_size
            except OSError:
                continue
            self._add(SpoolEntry(name, "event" if m.group(4) == "e" else "feedback", int(m.group(5)), size, bool(m.group(6))))

    def head(self) -> Optional[SpoolEntry]:
        """The oldest batch, or None."""
        with self._lock:
            return self._entries[0] if self._entries else None

    def entries(self) -> List[SpoolEntry]:
        """Every batch, oldest first."""
        with self._lock:
            return list(self._entries)

    def size(self) -> Tuple[int, int]:
        """Items and bytes currently spooled."""
        with self._lock:
            return self._items, self._bytes

    def write(self, kind: str, body: bytes, count: int, gzip: bool) -> Tuple[int, bool]:
        """Spools one request body. Returns (items evicted to make room, whether it was stored).

        A body larger than the whole cap is not stored (its items count as evicted).
        Raises ``OSError`` when the disk refuses.
        """
        if len(body) > self.max_bytes:
            return count, False
        evicted = 0
        while self._entries and self._bytes + len(body) > self.max_bytes:
            victim = self._entries[0]
            self.remove(victim)
            evicted += victim.count
        ms = int(time.time() * 1000)
        name = f"{ms:015d}-{self._seq % 100_000_000:08d}-{os.getpid()}-{kind[0]}{count}.ndjson{'.gz' if gzip else ''}"
        self._seq += 1
        path = os.path.join(self.dir, name)
        tmp = path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(body)
            while view:
                view = view[os.write(fd, view) :]
            if self.fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        if self.fsync:
            _fsync_dir(self.dir)
        self._add(SpoolEntry(name, kind, count, len(body), gzip))
        return evicted, True

    def read(self, entry: SpoolEntry) -> bytes:
        """The request body of a spooled batch. Raises ``OSError``."""
        with open(os.path.join(self.dir, entry.name), "rb") as f:
            return f.read()

    def remove(self, entry: SpoolEntry) -> None:
        """Forgets a batch and deletes its file (already gone is fine: another process replayed it)."""
        with self._lock:
            try:
                self._entries.remove(entry)
            except ValueError:
                return
            self._bytes -= entry.bytes
            self._items -= entry.count
        _remove(os.path.join(self.dir, entry.name))

    def _add(self, entry: SpoolEntry) -> None:
        with self._lock:
            self._entries.append(entry)
            self._bytes += entry.bytes
            self._items += entry.count


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def _fsync_dir(directory: str) -> None:
    # Makes the rename itself durable; not every platform can open a directory.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _pid_alive(name: str) -> bool:
    if os.name == "nt":
        # os.kill(pid, 0) would end the process there; keep the file, it is only a leftover.
        return True
    parts = name.split("-")
    if len(parts) < 3 or not parts[2].isdigit():
        return False
    try:
        os.kill(int(parts[2]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True
