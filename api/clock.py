"""The time the application believes it is. Tests hand ``create_app`` a clock they move."""

from __future__ import annotations

import datetime as dt

from flask import current_app

from infra.clock import Clock, utcnow


def now() -> dt.datetime:
    clock: Clock = current_app.extensions.get("clock", utcnow)
    return clock()
