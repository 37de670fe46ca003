"""Which function runs a job of which name, and the jobs that recur.

Domain packages register their handlers with ``@job("campaigns.send")`` in a module of
their own; the worker imports those modules (``api.worker.JOB_MODULES``). A handler takes
a ``JobContext`` and the job's arguments as keywords, and must be safe to run twice: a
worker that dies after the work but before marking it done hands it to the next one.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy.orm import Session, sessionmaker

from infra.clock import Clock
from infra.resources import Resources

DEFAULT_ATTEMPTS = 5


@dataclass(frozen=True)
class JobContext:
    """What a handler gets besides its arguments.

    ``factory`` makes sessions (a handler commits its own steps); ``stopping`` is set when the
    worker is asked to stop, so a long handler can stop between steps and return ``Again``.
    """

    factory: sessionmaker[Session]
    clock: Clock
    settings: Any
    resources: Resources
    job_id: int = 0
    attempt: int = 1
    stopping: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class Again:
    """A handler's answer meaning "not finished: run me again at ``at``" (not a failure)."""

    at: dt.datetime


@dataclass(frozen=True)
class Handler:
    name: str
    run: Callable[..., Any]
    max_attempts: int = DEFAULT_ATTEMPTS
    # Recurring: one job per ``every``, at ``offset`` past the epoch's slot (daily at 02:00 UTC
    # is every=1 day, offset=2 hours).
    every: dt.timedelta | None = None
    offset: dt.timedelta = dt.timedelta(0)


_HANDLERS: dict[str, Handler] = {}


def job(name: str, *, max_attempts: int = DEFAULT_ATTEMPTS, every: dt.timedelta | None = None,
        offset: dt.timedelta = dt.timedelta(0)) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as the handler of jobs called ``name``."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        existing = _HANDLERS.get(name)
        if existing is not None and existing.run is not fn:
            raise ValueError(f"two handlers for the job {name!r}")
        _HANDLERS[name] = Handler(name, fn, max_attempts, every, offset)
        return fn

    return register


def handler(name: str) -> Handler | None:
    return _HANDLERS.get(name)


def recurring() -> list[Handler]:
    return [h for h in _HANDLERS.values() if h.every is not None]
