"""Fixtures of the API tests that more than one file uses."""

from __future__ import annotations

import pytest

from tests.api.rewards_kit import Kit


@pytest.fixture
def kit(client, people, till) -> Kit:
    """An admin who makes rewards and uploads codes, partners with points, the till."""
    return Kit(client, people, till)
