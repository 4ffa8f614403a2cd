"""Alembic environment: migrations run on the connection handed over by tracker.store.engine.migrate()."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from tracker.store import models  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata
config = context.config


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Leave alone the tables of the scheduler's jobs (APScheduler) and of the job queue (procrastinate)."""
    return not (type_ == "table" and (name or "").startswith(("apscheduler_", "procrastinate_")))


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
        with engine.begin() as conn:
            context.configure(
                connection=conn, target_metadata=target_metadata, render_as_batch=True, include_object=include_object
            )
            context.run_migrations()
        return
    context.configure(
        connection=connection, target_metadata=target_metadata, render_as_batch=True, include_object=include_object
    )
    context.run_migrations()


run()
