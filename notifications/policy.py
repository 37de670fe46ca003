"""When not to push: quiet hours in each member's own clock, and a cap per member per window."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Policy:
    """When not to push: quiet hours in the member's own clock, and a weekly cap."""

    quiet_start: int = 21  # local hour at which quiet begins
    quiet_end: int = 8  # local hour at which it ends
    cap: int = 3  # campaign pushes per member ...
    cap_window: dt.timedelta = dt.timedelta(days=7)  # ... in this window

    @classmethod
    def from_settings(cls, settings: Any) -> "Policy":
        start, end = settings.quiet_hours
        return cls(quiet_start=start, quiet_end=end, cap=settings.push_cap,
                   cap_window=dt.timedelta(days=settings.push_cap_days))

    def quiet(self, local: dt.datetime) -> bool:
        if self.quiet_start > self.quiet_end:
            return local.hour >= self.quiet_start or local.hour < self.quiet_end
        return self.quiet_start <= local.hour < self.quiet_end

    def morning_after(self, local: dt.datetime) -> dt.datetime:
        """The end of the quiet hours that contain ``local``, as UTC."""
        day = local.date() if local.hour < self.quiet_end else local.date() + dt.timedelta(days=1)
        morning = dt.datetime.combine(day, dt.time(self.quiet_end), tzinfo=local.tzinfo)
        return morning.astimezone(dt.timezone.utc)

