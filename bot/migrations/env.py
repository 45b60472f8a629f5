"""Alembic's environment for refbot: `bot.schema` hands over the connection; the tables are
those of `bot.models`."""

from alembic import context
from sqlmodel import SQLModel

from bot import models  # noqa: F401  (registers the tables)

context.configure(connection=context.config.attributes["connection"], target_metadata=SQLModel.metadata,
                  render_as_batch=True, compare_type=True)  # batch: SQLite alters a table by copying it
with context.begin_transaction():
    context.run_migrations()
