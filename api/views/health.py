"""Liveness and readiness, for the load balancer and the engineer on call."""

from __future__ import annotations

import logging

from flask import Blueprint
from sqlalchemy import text

from api.db import get_session

logger = logging.getLogger(__name__)
blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    return {"status": "ok"}, 200


@blp.get("/readyz")
def readyz() -> tuple[dict[str, str], int]:
    try:
        get_session().execute(text("SELECT 1"))
    except Exception:  # any failure means "not ready"; the reason goes to the log
        logger.exception("readyz: database unreachable")
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}, 200
