"""Alembic's environment for refbot: `bot.schema` hands over the connection; the tables are
those of `bot.models`."""

from alembic import context

from bot.models import all_tables

context.configure(connection=context.config.attributes["connection"], target_metadata=all_tables(),
                  render_as_batch=True, compare_type=True)  # batch: SQLite alters a table by copying it
with context.begin_transaction():
    context.run_migrations()
