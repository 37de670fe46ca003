"""The HTTP face of the program: the app factory, blueprints, schemas and auth.

Blueprints are thin: parse, authorise, call one domain function, serialise. The request
commits once, after the view answers with success (``api.db``).
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from api import cli, db, docs, errors, guards, limits, worker
from api.errors import Api
from api.spec import document
from api.views import (
    accounts,
    admin,
    files,
    health,
    notifications,
    passes,
    pos,
    receipts,
    rewards,
    rewards_admin,
    rules,
    wallet,
)
from config import Settings, load_settings
from infra import cache
from infra.clock import SESSION_CLOCK
from infra.db import make_engine, make_sessionmaker
from infra.resources import Resources
from passes import identity as pass_identity

API_DOCS = {
    "API_TITLE": "Partner Wallet",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    # Swagger UI's assets from the pinned swagger-ui-bundle-v2 wheel, served below: the docs page
    # loads nothing from the internet (and works on a machine without it).
    "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs/assets/",
}


MAX_ID = 2**63 - 1


class IdConverter(IntegerConverter):
    """A row id in a path: a positive integer that fits the database's BIGINT (else 404, not a 500)."""

    def __init__(self, map, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(map, min=1, max=MAX_ID)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application.

    ``config`` may hold ``SETTINGS`` (a ``config.Settings``; default: read from the
    environment), ``ENGINE`` or ``SESSIONMAKER`` (tests bind these to their
    connection), ``CLOCK`` (a callable returning the aware UTC now), ``PUSH_SENDER`` (a
    sender in place of the one built from settings) and any Flask key.
    """
    config = dict(config or {})
    settings: Settings = config.pop("SETTINGS", None) or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config.update(API_DOCS)
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_json_bytes,
        JSON_SORT_KEYS=False,
    )
    clock = config.pop("CLOCK", None)
    sender = config.pop("PUSH_SENDER", None)
    factory = config.pop("SESSIONMAKER", None)
    engine = config.pop("ENGINE", None)
    app.config.update(config)
    app.url_map.converters["id"] = IdConverter

    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops)  # type: ignore[method-assign]
    if clock is not None:
        app.extensions["clock"] = clock
    cache.CHECK_EVERY = settings.cache_check_seconds  # one setting for the process: its caches' freshness
    pass_identity.check_configured(settings)
    app.extensions["resources"] = Resources(settings, {"push_sender": sender} if sender is not None else None)
    read_factory = None
    if factory is None:
        engine = engine or make_engine(settings.database_url)
        factory = make_sessionmaker(engine, info=worker.session_info(settings))
        if engine.dialect.name == "postgresql":
            read_factory = make_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"),
                                             info={db.AUTOCOMMITS: True})
    if clock is not None:
        for maker in (factory, read_factory):
            if maker is not None:
                maker.kw["info"] = {**(maker.kw.get("info") or {}), SESSION_CLOCK: clock}
    app.extensions["engine"] = engine
    db.init_app(app, factory, read_factory)
    worker.load_job_modules()  # so enqueue knows each job's attempts

    api = Api(app, spec_kwargs=document.spec_kwargs(app, settings))
    document.adopt(api.spec)
    api.register_converter(IdConverter, lambda _: {"type": "integer", "format": "int64", "minimum": 1})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    for blp in (accounts.auth_blp, accounts.me_blp, wallet.blp, notifications.me_blp, pos.blp, admin.blp, rules.blp,
                notifications.blp, receipts.me_blp, receipts.admin_blp, rewards.catalog_blp, rewards.blp,
                rewards_admin.blp, passes.blp):
        api.register_blueprint(blp)
    app.register_blueprint(health.blp)
    app.register_blueprint(files.blp)
    app.register_blueprint(passes.passkit)
    app.register_blueprint(docs.blp)
    db.commit_views(app)
    errors.init_app(app)
    guards.init_app(app)
    limits.init_app(app)
    cli.init_app(app)
    if not app.debug:
        logging.basicConfig(level=logging.INFO)
    return app
