"""The time the application believes it is. Tests hand ``create_app`` a clock they move."""

from __future__ import annotations

import datetime as dt
from typing import Callable

from flask import current_app

from wallet.db import utcnow

Clock = Callable[[], dt.datetime]


def now() -> dt.datetime:
    clock: Clock = current_app.extensions.get("clock", utcnow)
    return clock()
