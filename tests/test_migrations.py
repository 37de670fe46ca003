"""The migrations build the schema from nothing, on SQLite and PostgreSQL, and hold every model."""

from __future__ import annotations

import uuid

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.pool import NullPool

from api.migrate import alembic_config, target_metadata
from infra.db import make_engine


def test_the_migrated_database_matches_the_models(owner_engine):
    with owner_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, target_metadata())
    assert diff == []


def test_migrations_go_up_from_empty_down_to_nothing_and_up_again(owner_engine, tmp_path):
    engine = owner_engine
    if engine.dialect.name == "sqlite":
        fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
        schema = None
    else:
        # A schema of its own, so the session's database is not disturbed, on an engine
        # of its own, so no pooled connection keeps the search_path set here.
        fresh = make_engine(engine.url.render_as_string(hide_password=False), poolclass=NullPool)
        schema = f"migration_check_{uuid.uuid4().hex[:8]}"
    with fresh.connect() as conn:
        if schema:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
            conn.execute(text(f"SET search_path TO {schema}"))
            conn.commit()
        cfg = alembic_config(connection=conn)
        tables = set(target_metadata().tables)

        command.upgrade(cfg, "head")
        conn.commit()
        assert tables <= set(inspect(conn).get_table_names(schema=schema))

        command.downgrade(cfg, "base")
        conn.commit()
        assert not tables & set(inspect(conn).get_table_names(schema=schema))

        command.upgrade(cfg, "head")
        conn.commit()
        assert tables <= set(inspect(conn).get_table_names(schema=schema))
        if schema:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            conn.commit()
    fresh.dispose()
