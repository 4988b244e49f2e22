"""A skewed wall clock for one lab replica: AUTHLAB_CLOCK_SKEW seconds ahead (+) or behind (-).

Python imports `sitecustomize` at start-up from the path; the clock-skew fault puts this
directory on PYTHONPATH of one replica, so before Flask, PyJWT or the servers import anything,
`time.time()`, `time.time_ns()` and `datetime.now()` (every clock a token, a session or the
denylist reads) run off by the offset. The monotonic clock, sleeps and timeouts stay true.

Why not libfaketime (Debian's `faketime`)? With it, CPython 3.11 under gunicorn fails: faking
the monotonic clock makes every timed wait hang, and leaving it alone makes `time.sleep` raise
EINVAL (its absolute `clock_nanosleep`), which kills gunicorn's arbiter at start.
"""

import os

_OFFSET = float(os.environ.get("AUTHLAB_CLOCK_SKEW") or 0)

if _OFFSET:
    import datetime as _datetime
    import time as _time

    _real_time, _real_time_ns = _time.time, _time.time_ns
    _DELTA = _datetime.timedelta(seconds=_OFFSET)

    def _skewed_time() -> float:
        return _real_time() + _OFFSET

    def _skewed_time_ns() -> int:
        return _real_time_ns() + int(_OFFSET * 1e9)

    class _SkewedDatetime(_datetime.datetime):
        """`datetime.now()` and `utcnow()` off by the offset; everything else as it was."""

        @classmethod
        def now(cls, tz=None):
            return super().now(tz) + _DELTA

        @classmethod
        def utcnow(cls):
            return super().utcnow() + _DELTA

    _time.time, _time.time_ns = _skewed_time, _skewed_time_ns
    _datetime.datetime = _SkewedDatetime
