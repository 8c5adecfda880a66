"""The disk spool: outages, replay by the next logger, the size cap, crash leftovers."""

import os
import re
import shutil
import tempfile
import unittest

from inferlog._spool import FileSpool

from .fake_collector import dead_url, reply
from .test_delivery import Case

NAME = re.compile(r"^\d{15}-\d{8}-\d+-[ef]\d+\.ndjson\.gz$")


class SpoolTest(Case):
    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="inferlog-py-spool-")

    def tearDown(self):
        super().tearDown()
        shutil.rmtree(self.dir, ignore_errors=True)

    def files(self):
        return sorted(f for f in os.listdir(self.dir))

    def test_outage_spools_and_the_next_logger_replays_in_order(self):
        down = self.logger(url=dead_url(), spool_dir=self.dir, batch_max_items=10)
        ids = [down.log(input=i, output=i) for i in range(35)]
        fid = down.feedback(ids[0], "thumbs", 1)
        self.assertTrue(down.close(5))
        s = down.stats()
        self.assertEqual((s["spooled"], s["sent"], s["failed"], s["dropped"]), (36, 0, 0, 0))
        self.assertEqual(s["spool_items"], 36)
        self.assertTrue(all(NAME.match(f) for f in self.files()), self.files())

        up = self.logger(spool_dir=self.dir)
        self.assertTrue(self.fake.wait_for(lambda: len(self.fake.stored) == 36))
        self.assertTrue(up.close(5))
        self.assertEqual([e["id"] for e in self.fake.records()], ids)
        self.assertEqual([f["id"] for f in self.fake.records("/v1/feedback")], [fid])
        s = up.stats()
        self.assertEqual((s["replayed"], s["sent"], s["spool_items"]), (36, 36, 0))
        self.assertEqual(self.files(), [])

    def test_a_live_outage_then_recovery_delivers_everything_once(self):
        # Down for the first requests; the logger spools, probes with backoff, then replays.
        self.fake.then(*[reply(503, headers={"Retry-After": "0"}) for _ in range(4)])
        log = self.logger(spool_dir=self.dir, retries_before_spool=0, initial_backoff_s=0.01, max_backoff_s=0.05, interval_s=0.01)
        ids = []
        for _ in range(20):
            ids += [log.log(input=i, output=i) for i in range(10)]
            log.flush(5)
        self.assertTrue(self.fake.wait_for(lambda: len(self.fake.stored) == 200))
        self.assertTrue(log.close(5))
        self.assertEqual(sorted(self.fake.stored), sorted(ids))
        s = log.stats()
        self.assertGreater(s["spooled"], 0)
        self.assertEqual((s["sent"], s["failed"], s["dropped"], s["spool_items"]), (200, 0, 0, 0))
        self.assertEqual(self.files(), [])

    def test_close_spools_at_once_instead_of_waiting_out_backoff(self):
        log = self.logger(url=dead_url(), spool_dir=self.dir, retries_before_spool=5)
        log._pipeline.delivery.sleep = lambda s: self.fail("close() must not wait out a backoff")
        log.log(input=1, output=1)
        self.assertTrue(log.close(5))
        self.assertEqual(log.stats()["spooled"], 1)

    def test_the_cap_evicts_the_oldest_batches_and_counts_them_dropped(self):
        log = self.logger(url=dead_url(), spool_dir=self.dir, spool_max_bytes=2048, batch_max_items=5, gzip_level=0)
        for i in range(100):
            log.log(input="x" * 50, output=i)
        self.assertTrue(log.close(10))
        s = log.stats()
        self.assertGreater(s["dropped"], 0)
        self.assertEqual(s["spooled"] - s["dropped"], s["spool_items"])
        self.assertLessEqual(s["spool_bytes"], 2048)
        self.assertIn("spool_full", self.codes())
        self.assertEqual(sum(os.path.getsize(os.path.join(self.dir, f)) for f in self.files()), s["spool_bytes"])

    def test_leftovers_of_a_crash_are_removed_and_strangers_ignored(self):
        dead_pid = 2**22 + 12345  # above the default pid_max: no such process
        for name in (f"000000000000001-00000000-{dead_pid}-e1.ndjson.gz.tmp", "notes.txt"):
            with open(os.path.join(self.dir, name), "w") as f:
                f.write("x")
        spool = FileSpool(self.dir, 1 << 20)
        spool.load()
        self.assertIsNone(spool.head())
        self.assertEqual(self.files(), ["notes.txt"])

    def test_an_unreadable_spool_directory_is_reported_and_logging_goes_on(self):
        blocker = os.path.join(self.dir, "file")
        with open(blocker, "w") as f:
            f.write("not a directory")
        log = self.logger(spool_dir=os.path.join(blocker, "spool"))
        log.log(input=1, output=1)
        self.assertTrue(log.close(5))
        self.assertIn("spool_failed", self.codes())
        self.assertEqual(len(self.fake.records()), 1)


if __name__ == "__main__":
    unittest.main()
