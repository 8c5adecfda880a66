"""The logger against a scripted fake collector: headers, batching, retries, Retry-After, 207, timeouts, splits."""

import asyncio
import re
import threading
import unittest

import inferlog

from .fake_collector import FakeCollector, dead_url, reply

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
MODEL = {"name": "m", "version": "1"}


class Case(unittest.TestCase):
    def setUp(self):
        self.fake = FakeCollector()
        self.errors = []
        self.delays = []
        self.loggers = []

    def tearDown(self):
        for log in self.loggers:
            log.close(2)
        self.fake.close()

    def logger(self, **kwargs):
        opts = {"model": MODEL, "on_error": self.errors.append, "flush_on_exit": False, "interval_s": 0.05, **kwargs}
        log = inferlog.Logger(opts.pop("url", self.fake.url), **opts)
        # Record the delays the logger asks for instead of waiting them out.
        log._pipeline.delivery.sleep = self.delays.append
        self.loggers.append(log)
        return log

    def codes(self):
        return [e.code for e in self.errors]


class WireTest(Case):
    def test_headers_body_and_filled_fields(self):
        log = self.logger(api_key="k1", project="shop", headers={"X-Extra": "1"})
        ids = [log.log(input={"i": i}, output=i) for i in range(3)]
        own = log.log({"id": "req-1", "input": 1}, output=2, model={"name": "other", "version": "2"}, ts="2026-01-01T00:00:00.000Z")
        fid = log.feedback(ids[0], "thumbs", -1, source={"type": "user"})
        self.assertEqual(own, "req-1")
        self.assertTrue(log.close(5))
        events = self.fake.records()
        self.assertEqual([e["id"] for e in events], ids + ["req-1"])
        for e in events[:3]:
            self.assertRegex(e["ts"], TS)
            self.assertEqual(e["model"], MODEL)
        self.assertEqual(events[3]["model"], {"name": "other", "version": "2"})
        self.assertEqual(events[3]["ts"], "2026-01-01T00:00:00.000Z")
        fb = self.fake.records("/v1/feedback")
        self.assertEqual(len(fb), 1)
        self.assertEqual({k: fb[0][k] for k in ("id", "event_id", "name", "value", "source")}, {"id": fid, "event_id": ids[0], "name": "thumbs", "value": -1, "source": {"type": "user"}})
        self.assertRegex(fb[0]["ts"], TS)
        h = self.fake.requests[0].headers
        self.assertEqual(h["Authorization"], "Bearer k1")
        self.assertEqual(h["X-Inferlog-Project"], "shop")
        self.assertEqual(h["Content-Type"], "application/x-ndjson")
        self.assertEqual(h["Content-Encoding"], "gzip")
        self.assertEqual(h["X-Extra"], "1")
        self.assertTrue(h["User-Agent"].startswith("inferlog-python/"))
        s = log.stats()
        self.assertEqual((s["enqueued"], s["sent"], s["dropped"], s["failed"], s["queue_depth"]), (5, 5, 0, 0, 0))

    def test_uncompressed_and_no_auth_headers_by_default(self):
        log = self.logger(gzip_level=0)
        log.log(input=1, output=1)
        log.flush(5)
        h = self.fake.requests[0].headers
        self.assertNotIn("Content-Encoding", h)
        self.assertNotIn("Authorization", h)
        self.assertNotIn("X-Inferlog-Project", h)

    def test_batches_by_count_and_bytes(self):
        log = self.logger(batch_max_items=100, interval_s=60)
        for i in range(250):
            log.log(input=i, output=i)
        self.assertTrue(log.flush(5))
        self.assertEqual(sorted(len(r.records) for r in self.fake.requests), [50, 100, 100])
        big = self.logger(batch_max_bytes=4096, interval_s=60)
        self.fake.requests.clear()
        for i in range(10):
            big.log(input="x" * 1000, output=i)
        big.flush(5)
        self.assertGreaterEqual(len(self.fake.requests), 3)
        self.assertEqual(sum(len(r.records) for r in self.fake.requests), 10)

    def test_errors_and_odd_values_never_raise(self):
        log = self.logger()
        self.assertRegex(log.log(12), r"^[0-9a-f-]{36}$")  # not a mapping: reported, an id still returned
        log.log(input=object(), output=1)  # cannot be serialized: left out, reported
        log.log(input=float("nan"), output=[float("inf")], error=ValueError("boom"))
        log.close(5)
        events = self.fake.records()
        self.assertEqual(len(events), 1)
        self.assertEqual((events[0]["input"], events[0]["output"]), (None, [None]))
        self.assertEqual((events[0]["status"], events[0]["error"]), ("error", {"type": "ValueError", "message": "boom"}))
        self.assertEqual(self.codes().count("serialize_failed"), 2)
        self.assertEqual(log.stats()["failed"], 2)

    def test_on_error_that_raises_is_absorbed(self):
        def bad(e):
            raise RuntimeError("handler bug")

        log = self.logger(on_error=bad)
        log.log(input=object(), output=1)
        log.log(input=1, output=1)
        self.assertTrue(log.close(5))
        self.assertEqual(len(self.fake.records()), 1)


class RetryTest(Case):
    def test_503_with_retry_after_is_retried_after_at_least_that_long(self):
        self.fake.then(reply(503, {"error": {"code": "overloaded", "message": "busy"}}, {"Retry-After": "2"}))
        log = self.logger()
        ids = [log.log(input=i, output=i) for i in range(5)]
        self.assertTrue(log.flush(5))
        self.assertEqual(len(self.fake.requests), 2)
        self.assertEqual(self.fake.requests[0].ids, self.fake.requests[1].ids)  # same ids: the re-send is idempotent
        self.assertEqual(self.fake.requests[1].ids, ids)
        self.assertEqual(len(self.delays), 1)
        self.assertGreaterEqual(self.delays[0], 2)
        s = log.stats()
        self.assertEqual((s["sent"], s["retried"], s["failed"]), (5, 1, 0))

    def test_408_429_and_5xx_retry_with_growing_backoff(self):
        self.fake.then(reply(429), reply(408), reply(500), reply(502))
        log = self.logger(initial_backoff_s=1, max_backoff_s=100)
        log.log(input=1, output=1)
        self.assertTrue(log.flush(5))
        self.assertEqual(len(self.fake.requests), 5)
        self.assertEqual(log.stats()["retried"], 4)
        for n, d in enumerate(self.delays):
            self.assertTrue(2**n * 0.5 <= d <= 2**n, (n, d))

    def test_4xx_is_not_retried(self):
        for status in (400, 401, 403, 404):
            with self.subTest(status=status):
                self.fake.requests.clear()
                self.errors.clear()
                self.fake.then(reply(status, {"error": {"code": "nope", "message": "refused"}}))
                log = self.logger()
                log.log(input=1, output=1)
                log.log(input=2, output=2)
                self.assertTrue(log.flush(5))
                self.assertEqual(len(self.fake.requests), 1)
                s = log.stats()
                self.assertEqual((s["sent"], s["failed"], s["retried"]), (0, 2, 0))
                self.assertEqual(self.codes(), ["delivery_failed"])
                self.assertEqual(self.errors[0].status, status)
                self.assertIn("nope", str(self.errors[0]))

    def test_207_rejections_are_reported_once_and_never_retried(self):
        self.fake.then(reply(207))
        log = self.logger()
        log.log(input=1, output=1)
        bad = log.log(input="reject-me", output=1)
        log.log(input=3, output=3)
        self.assertTrue(log.flush(5))
        self.assertEqual(len(self.fake.requests), 1)
        self.assertEqual(self.codes(), ["rejected"])
        self.assertEqual(self.errors[0].rejections[0]["id"], bad)
        self.assertEqual(self.errors[0].rejections[0]["code"], "validation_failed")
        s = log.stats()
        self.assertEqual((s["sent"], s["rejected"], s["failed"], s["retried"]), (2, 1, 0, 0))

    def test_a_timed_out_request_is_resent_with_the_same_ids(self):
        self.fake.then(reply(200, delay=2.0))
        log = self.logger(timeout_s=0.5)
        ids = [log.log(input=i, output=i) for i in range(3)]
        self.assertTrue(log.flush(10))
        # The fake stored the first attempt too (it answered late): the re-send is a duplicate.
        self.fake.wait_for(lambda: len(self.fake.requests) == 2)
        self.assertEqual([r.ids for r in self.fake.requests], [ids, ids])
        self.assertEqual(self.fake.stored, {i: 2 for i in ids})
        s = log.stats()
        self.assertEqual((s["sent"], s["retried"], s["failed"]), (3, 1, 0))

    def test_413_splits_the_batch(self):
        self.fake.then(reply(413, {"error": {"code": "payload_too_large", "message": "too big"}}))
        log = self.logger()
        ids = [log.log(input=i, output=i) for i in range(7)]
        self.assertTrue(log.flush(5))
        self.assertEqual([len(r.records) for r in self.fake.requests], [7, 4, 3])
        self.assertEqual(self.fake.records()[7:], [r for q in self.fake.requests[1:] for r in q.records])
        self.assertEqual(sorted(self.fake.stored), sorted(ids))

    def test_a_connection_the_server_closed_while_idle_is_reopened_without_a_retry(self):
        self.fake.then(reply(200, hang_up=True))
        log = self.logger()
        log.log(input=1, output=1)
        self.assertTrue(log.flush(5))
        log.log(input=2, output=2)
        self.assertTrue(log.flush(5))
        s = log.stats()
        self.assertEqual((s["sent"], s["retried"], s["failed"]), (2, 0, 0))
        self.assertEqual(self.delays, [])

    def test_without_a_spool_retries_end_in_failed(self):
        log = self.logger(url=dead_url(), max_retries=3)
        log.log(input=1, output=1)
        self.assertTrue(log.flush(5))
        s = log.stats()
        self.assertEqual((s["sent"], s["failed"], s["retried"]), (0, 1, 3))
        self.assertEqual(self.codes(), ["delivery_failed"])

    def test_flush_timeout_returns_false_while_the_collector_hangs(self):
        self.fake.then(reply(200, delay=1.5))
        log = self.logger()
        log.log(input=1, output=1)
        self.assertFalse(log.flush(0.2))
        self.assertTrue(log.flush(10))


class SamplingAndSpansTest(Case):
    def test_sampling_is_by_id_and_feedback_follows_its_event(self):
        log = self.logger(sample_rate=0.5)
        ids = [log.log(input=i, output=i) for i in range(400)]
        for i in ids:
            log.feedback(i, "label", 1)
        log.close(5)
        keep = inferlog._sampling.id_sampler(0.5)
        kept = [i for i in ids if keep(i)]
        self.assertEqual([e["id"] for e in self.fake.records()], kept)
        self.assertEqual([f["event_id"] for f in self.fake.records("/v1/feedback")], kept)
        self.assertTrue(all(e["sample_rate"] == 0.5 for e in self.fake.records()))
        self.assertEqual(log.stats()["sampled_out"], 2 * (400 - len(kept)))

    def test_span_fills_latency_and_records_errors(self):
        log = self.logger()
        span = log.start(input="prompt")
        span.phase("pre").phase("inference").ttft().phase("post")
        self.assertEqual(span.end(output="text"), span.id)
        span.end(output="again")  # a second end does nothing
        with self.assertRaises(KeyError):
            with log.start(input="x") as failing:
                raise KeyError("k")
        with log.start(input="y") as ok:
            ok.set(output="z")
        log.close(5)
        ev = {e["id"]: e for e in self.fake.records()}
        self.assertEqual(len(ev), 3)
        lat = ev[span.id]["latency_ms"]
        self.assertEqual(set(lat), {"total", "pre", "inference", "post", "ttft"})
        self.assertEqual(ev[span.id]["output"], "text")
        self.assertEqual((ev[failing.id]["status"], ev[failing.id]["error"]["type"]), ("error", "KeyError"))
        self.assertEqual(ev[ok.id]["output"], "z")

    def test_wrap_sync_and_async(self):
        log = self.logger()

        @log.wrap
        def predict(x):
            if x < 0:
                raise ValueError("negative")
            return x * 2

        @log.wrap(output=lambda r: r["label"])
        async def apredict(x, temperature=1.0):
            return {"label": x}

        self.assertEqual(predict(2), 4)
        with self.assertRaises(ValueError):
            predict(-1)
        self.assertEqual(asyncio.run(apredict("a", temperature=0.5)), {"label": "a"})
        log.close(5)
        got = [(e["input"], e.get("output"), e.get("status")) for e in self.fake.records()]
        self.assertEqual(got, [(2, 4, None), (-1, None, "error"), ({"args": ["a"], "kwargs": {"temperature": 0.5}}, "a", None)])
        self.assertTrue(all("total" in e["latency_ms"] for e in self.fake.records()))

    def test_log_is_safe_from_many_threads(self):
        log = self.logger()
        out = []

        def work():
            out.extend(log.log(input=i, output=i) for i in range(500))

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        log.close(10)
        self.assertEqual(sorted(self.fake.stored), sorted(out))
        self.assertEqual(len(set(out)), 2000)


if __name__ == "__main__":
    unittest.main()
