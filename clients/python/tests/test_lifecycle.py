"""Queue bounds and overflow policies, close(), exit and fork behaviour."""

import os
import subprocess
import sys
import textwrap
import unittest

import inferlog

from .fake_collector import reply
from .test_delivery import Case

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class QueueTest(Case):
    def fill(self, overflow):
        # Nothing leaves the queue on its own: batches and ticks are out of reach until close().
        log = self.logger(queue_max_items=10, batch_max_items=1000, interval_s=3600, overflow=overflow)
        ids = [log.log(input=i, output=i) for i in range(15)]
        s = log.stats()
        self.assertEqual((s["queue_depth"], s["dropped"]), (10, 5))
        self.assertTrue(log.close(5))
        self.assertEqual(self.codes(), ["queue_overflow"])
        return ids, log

    def test_drop_newest_keeps_the_first_items(self):
        ids, log = self.fill("drop-newest")
        self.assertEqual([e["id"] for e in self.fake.records()], ids[:10])
        s = log.stats()
        self.assertEqual((s["enqueued"], s["sent"], s["dropped"]), (10, 10, 5))

    def test_drop_oldest_keeps_the_last_items(self):
        ids, log = self.fill("drop-oldest")
        self.assertEqual([e["id"] for e in self.fake.records()], ids[5:])
        s = log.stats()
        self.assertEqual((s["enqueued"], s["sent"], s["dropped"]), (15, 10, 5))


class CloseTest(Case):
    def test_close_is_idempotent_and_later_logs_are_dropped(self):
        log = self.logger()
        log.log(input=1, output=1)
        self.assertTrue(log.close(5))
        self.assertTrue(log.close(5))
        log.log(input=2, output=2)
        log.feedback("x", "thumbs", 1)
        self.assertEqual(len(self.fake.records()), 1)
        s = log.stats()
        self.assertEqual((s["sent"], s["dropped"]), (1, 2))
        self.assertEqual(self.codes(), ["closed"])

    def test_close_timeout_drops_what_is_left_and_says_so(self):
        self.fake.then(reply(200, delay=1.5))
        log = self.logger(batch_max_items=1, interval_s=3600)
        for i in range(5):
            log.log(input=i, output=i)
        self.assertFalse(log.close(0.3))
        s = log.stats()
        self.assertGreaterEqual(s["dropped"], 3)
        self.assertEqual(s["queue_depth"], 0)
        self.assertIn("closed", self.codes())

    def test_context_manager_closes(self):
        with self.logger() as log:
            log.log(input=1, output=1)
        self.assertEqual(len(self.fake.records()), 1)
        self.assertEqual(log.stats()["sent"], 1)


def run_script(body, url, timeout=30):
    script = textwrap.dedent(body)
    env = {**os.environ, "PYTHONPATH": ROOT, "INFERLOG_URL": url}
    return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=timeout)


class ProcessTest(Case):
    def test_what_is_queued_at_exit_is_delivered(self):
        out = run_script(
            """
            import inferlog
            log = inferlog.Logger(model={"name": "m", "version": "1"}, interval_s=3600)
            for i in range(100):
                log.log(input=i, output=i)
            print("bye")
            """,
            self.fake.url,
        )
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(len(self.fake.records()), 100)

    @unittest.skipUnless(hasattr(os, "fork"), "needs fork")
    def test_a_forked_child_logs_with_its_own_sender(self):
        out = run_script(
            """
            import os, inferlog
            log = inferlog.Logger(model={"name": "m", "version": "1"}, interval_s=0.05)
            log.log(input="parent-before", output=1)
            log.flush(5)
            pid = os.fork()
            if pid == 0:
                log.log(input="child", output=1)
                os._exit(0 if log.close(5) else 1)
            _, status = os.waitpid(pid, 0)
            log.log(input="parent-after", output=1)
            assert log.close(5)
            assert os.waitstatus_to_exitcode(status) == 0, status
            """,
            self.fake.url,
        )
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(sorted(e["input"] for e in self.fake.records()), ["child", "parent-after", "parent-before"])


if __name__ == "__main__":
    unittest.main()
