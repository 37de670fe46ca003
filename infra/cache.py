"""Per-process caches of what admins change rarely and every purchase reads (programs, tiers,
bonus rules), invalidated through a version row.

Each cached thing has a row in ``cache_versions``. A change (``bump``) raises its version in
the same transaction as the change itself, so a rolled-back change invalidates nothing. A
reader looks at the version at most every ``CHECK_EVERY`` seconds (one tiny indexed read per
process per second, not per purchase) and reloads when it moved; the process that made the
change forgets its copy at once after its commit. So another process sees an admin's change
within ``CHECK_EVERY`` seconds; a bonus that starts at a time is in the cache from the start
(rules are cached whole and filtered by time when used).

Caches are kept per database (engine), so tests on several schemas do not share them.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

from sqlalchemy import String, event, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from infra.db import Base, insert_ignoring

T = TypeVar("T")

# Seconds between looks at a cache's version; 0 looks on every use (the tests set it so).
CHECK_EVERY = 1.0
_FORGET = "cache_forget_after_commit"


class CacheVersion(Base):
    __tablename__ = "cache_versions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(default=0)


@dataclass
class _Entry(Generic[T]):
    version: int
    checked: float
    value: T


class VersionedCache(Generic[T]):
    """``get(session)`` returns ``load(session)``, reloaded when the version row moved."""

    def __init__(self, name: str, load: Callable[[Session], T]) -> None:
        self.name, self.load = name, load
        self._entries: weakref.WeakKeyDictionary[Any, _Entry[T]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        _ALL[name] = self

    def _version(self, reader: Session | Connection) -> int:
        return reader.scalar(select(CacheVersion.version).where(CacheVersion.name == self.name)) or 0

    def get(self, reader: Session | Connection) -> T:
        """``reader``: a session, or a connection for a read that needs no session while the value
        is cached (the wallet's); a session on it is made only to load."""
        engine = reader.engine if isinstance(reader, Connection) else reader.get_bind().engine
        entry = self._entries.get(engine)
        now = time.monotonic()
        if entry is not None and now - entry.checked < CHECK_EVERY:
            return entry.value
        version = self._version(reader)
        if entry is not None and entry.version == version:
            entry.checked = now
            return entry.value
        if isinstance(reader, Connection):
            with Session(bind=reader) as session:
                value = self.load(session)
        else:
            value = self.load(reader)
        with self._lock:
            self._entries[engine] = _Entry(version, now, value)
        return value

    def forget(self, engine: Any) -> None:
        with self._lock:
            self._entries.pop(engine, None)


_ALL: dict[str, VersionedCache[Any]] = {}


def bump(session: Session, name: str) -> None:
    """Say that what the cache ``name`` holds changed, in the caller's transaction."""
    session.execute(insert_ignoring(session, CacheVersion).values(name=name, version=0)
                    .on_conflict_do_nothing(index_elements=["name"]))
    session.execute(update(CacheVersion).where(CacheVersion.name == name)
                    .values(version=CacheVersion.version + 1).execution_options(synchronize_session=False))
    session.info.setdefault(_FORGET, set()).add(name)


@event.listens_for(Session, "after_commit")
def _forget_local(session: Session) -> None:
    names = session.info.pop(_FORGET, None)
    if names:
        engine = session.get_bind().engine
        for name in names:
            if name in _ALL:
                _ALL[name].forget(engine)


@event.listens_for(Session, "after_rollback")
def _keep(session: Session) -> None:
    session.info.pop(_FORGET, None)
