"""Pure parts: ids, sampling hash, retry policy, JSON encoding, tensors, option checks."""

import datetime as dt
import decimal
import email.utils
import json
import re
import time
import unittest
import uuid

import inferlog
from inferlog._encode import iso_formatter, json_line
from inferlog._retry import backoff_s, classify, parse_retry_after
from inferlog._sampling import hash_id, id_sampler
from inferlog._uuid7 import Uuid7

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


class Uuid7Test(unittest.TestCase):
    def test_format_time_prefix_and_order(self):
        gen = Uuid7(lambda: 1_796_159_940_312)
        ids = [gen() for _ in range(10_000)]  # one millisecond: the counter (and its overflow) keeps order
        for i in ids:
            self.assertRegex(i, UUID7)
            self.assertEqual(uuid.UUID(i).version, 7)
        self.assertEqual(ids, sorted(ids))
        self.assertEqual(len(set(ids)), len(ids))
        self.assertEqual(int(ids[0].replace("-", "")[:12], 16), 1_796_159_940_312)

    def test_clock_going_back_keeps_order(self):
        t = [1000]
        gen = Uuid7(lambda: t[0])
        a = gen()
        t[0] = 900
        self.assertLess(a, gen())


class SamplingTest(unittest.TestCase):
    def test_hash_matches_the_typescript_sdk(self):
        # Golden values from packages/sdk/src/core/sampling.ts (hashId), so both SDKs sample alike.
        cases = {
            "": (2872998923, 3286727002),
            "a": (444641715, 2255591027),
            "req-0001": (1965579842, 3795944909),
            "01a23379-c5f1-7263-9bb5-caa4568124f2": (1857722097, 1084730652),
            "héllo 😀": (3013508796, 3523632656),
        }
        for id, (plain, seeded) in cases.items():
            self.assertEqual(hash_id(id), plain, id)
            self.assertEqual(hash_id(id, 0x5BD1E995), seeded, id)

    def test_sampler(self):
        self.assertIsNone(id_sampler(1.0))
        keep = id_sampler(0.25)
        gen = Uuid7()
        kept = sum(keep(gen()) for _ in range(20_000))
        self.assertTrue(4000 < kept < 6000, kept)


class RetryTest(unittest.TestCase):
    def test_classify(self):
        self.assertEqual(classify(None), "retry")
        for s in (200, 207):
            self.assertEqual(classify(s), "ok")
        for s in (408, 425, 429, 500, 502, 503, 504):
            self.assertEqual(classify(s), "retry")
        self.assertEqual(classify(413), "split")
        self.assertEqual(classify(400, "too_many_items"), "split")
        for s in (400, 401, 403, 404, 415):
            self.assertEqual(classify(s), "fatal")

    def test_backoff(self):
        self.assertEqual(backoff_s(0, 0.1, 15, random=lambda: 0), 0.05)
        self.assertEqual(backoff_s(3, 0.1, 15, random=lambda: 1), 0.8)
        self.assertEqual(backoff_s(30, 0.1, 15, random=lambda: 1), 15)
        # Retry-After is a lower bound, capped at ten minutes.
        self.assertGreaterEqual(backoff_s(0, 0.1, 15, 7, random=lambda: 0.5), 7)
        self.assertLess(backoff_s(0, 0.1, 15, 10_000, random=lambda: 0), 601)

    def test_parse_retry_after(self):
        self.assertEqual(parse_retry_after("3"), 3.0)
        self.assertEqual(parse_retry_after(" 1.5 "), 1.5)
        self.assertIsNone(parse_retry_after(None))
        self.assertIsNone(parse_retry_after("soon"))
        now = time.time()
        date = email.utils.formatdate(now + 30, usegmt=True)
        self.assertAlmostEqual(parse_retry_after(date, now), 30, delta=1.5)
        self.assertEqual(parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now), 0.0)


class Tolist:
    def tolist(self):
        return [1.5, 2.5]


class EncodeTest(unittest.TestCase):
    def test_values_models_log(self):
        line = json_line(
            {
                "a": float("nan"),
                "b": [float("inf"), 1.0],
                "arr": Tolist(),
                "when": dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.timezone.utc),
                "day": dt.date(2026, 1, 2),
                "d": decimal.Decimal("1.25"),
                "u": uuid.UUID(int=1),
                "s": {3},
                "t": (1, 2),
                "raw": b"\x00\x01",
                "text": "héllo",
            }
        )
        self.assertEqual(
            json.loads(line),
            {
                "a": None,
                "b": [None, 1.0],
                "arr": [1.5, 2.5],
                "when": "2026-01-02T03:04:05.678Z",
                "day": "2026-01-02",
                "d": 1.25,
                "u": "00000000-0000-0000-0000-000000000001",
                "s": [3],
                "t": [1, 2],
                "raw": "AAE=",
                "text": "héllo",
            },
        )
        self.assertNotIn(b"\n", line)

    def test_lone_surrogate_is_escaped(self):
        self.assertEqual(json.loads(json_line({"x": "a\ud800b"})), {"x": "a\ud800b"})

    def test_unserializable_raises(self):
        with self.assertRaises(TypeError):
            json_line({"x": object()})
        loop = {"a": 1}
        loop["self"] = loop
        with self.assertRaisesRegex(ValueError, "Circular"):
            json_line(loop)

    def test_iso_formatter(self):
        iso = iso_formatter()
        self.assertEqual(iso(1_796_159_940.312), "2026-12-01T21:19:00.312Z")
        self.assertEqual(iso(0.0), "1970-01-01T00:00:00.000Z")


class TensorTest(unittest.TestCase):
    def test_from_a_list(self):
        t = inferlog.tensor([1.0, 2.0, 3.0, 4.0], shape=[2, 2])
        self.assertEqual(t, {"dtype": "float32", "shape": [2, 2], "data": "AACAPwAAAEAAAEBAAACAQA=="})
        self.assertEqual(inferlog.tensor([1, 255], dtype="uint8")["data"], "Af8=")
        with self.assertRaises(ValueError):
            inferlog.tensor([1.0, 2.0], shape=[3])
        with self.assertRaises(ValueError):
            inferlog.tensor([300], dtype="int8")
        with self.assertRaises(ValueError):
            inferlog.tensor([1.0], dtype="float64")

    def test_from_numpy(self):
        try:
            import numpy as np
        except ImportError:
            self.skipTest("numpy not installed")
        t = inferlog.tensor(np.arange(6, dtype=np.float64).reshape(2, 3))
        self.assertEqual((t["dtype"], t["shape"]), ("float32", [2, 3]))
        self.assertEqual(t["data"], inferlog.tensor([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])["data"])
        self.assertEqual(inferlog.tensor(np.array([1, 2], dtype=np.int64))["dtype"], "int32")
        self.assertEqual(inferlog.tensor(np.zeros(4, dtype=np.float32), dtype="float16")["shape"], [4])


class OptionsTest(unittest.TestCase):
    def test_bad_options_raise_a_value_error_naming_the_option(self):
        bad = [
            ({"url": "ftp://x"}, "url"),
            ({"url": "127.0.0.1:7070"}, "url"),
            ({"url": "http://"}, "url"),
            ({"url": "http://h:99999"}, "url"),
            ({"url": 7070}, "url"),
            ({"model": {"name": "m"}}, "model"),
            ({"overflow": "spool"}, "overflow"),
            ({"sample_rate": 0}, "sample_rate"),
            ({"batch_max_items": 0}, "batch_max_items"),
            ({"interval_s": -1}, "interval_s"),
            ({"timeout_s": "10"}, "timeout_s"),
            ({"on_error": 3}, "on_error"),
            ({"gzip_level": 10}, "gzip_level"),
            ({"headers": {"a": 1}}, "headers"),
        ]
        for kwargs, name in bad:
            with self.assertRaises(ValueError, msg=kwargs) as cm:
                inferlog.Logger(**{"url": "http://127.0.0.1:1", **kwargs}, flush_on_exit=False)
            self.assertIn(repr(name), str(cm.exception))

    def test_url_with_a_path_prefix(self):
        log = inferlog.Logger("https://example.com/inferlog/", flush_on_exit=False)
        self.assertEqual(log.url, "https://example.com/inferlog")
        log.close(0.1)


if __name__ == "__main__":
    unittest.main()
