"""The time, as a callable that returns an aware UTC datetime.

Everything that needs "now" takes it as a value or a ``Clock``, so tests move time by
hand and a job started at 23:59 sees the same day throughout.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# A session's clock, in ``Session.info``: set on the app's sessionmakers (``api.create_app``), so
# code reacting to a commit (``passes.tracking``) dates what it queues by the app's clock, which
# tests move, rather than the wall's.
SESSION_CLOCK = "clock"


def session_clock(info: dict) -> Clock:  # type: ignore[type-arg]
    return info.get(SESSION_CLOCK) or utcnow
