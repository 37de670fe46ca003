"""Process-wide clients built on first use (the push sender, the file store, the APNs client).

One ``Resources`` per process role (the web app, a worker), holding the settings it was
built from. A feature asks for its client by name with the function that builds it, so
nothing is built at import time and a process that never pushes never reads the service
account. Tests put their own clients in front (``overrides``).
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Mapping, TypeVar

T = TypeVar("T")


class Resources:
    def __init__(self, settings: Any, overrides: Mapping[str, Any] | None = None) -> None:
        self.settings = settings
        self._built: dict[str, Any] = dict(overrides or {})
        self._lock = threading.Lock()

    def get(self, name: str, build: Callable[[Any], T]) -> T:
        """The client called ``name``, built with ``build(settings)`` the first time."""
        try:
            return self._built[name]  # type: ignore[no-any-return]
        except KeyError:
            pass
        with self._lock:
            if name not in self._built:
                self._built[name] = build(self.settings)
            return self._built[name]  # type: ignore[no-any-return]
