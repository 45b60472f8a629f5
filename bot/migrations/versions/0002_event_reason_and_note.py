"""Events keep the partner's reason, its classification and the note written after a command.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("reason", sa.String(), nullable=True))
        batch.add_column(sa.Column("reason_code", sa.String(), nullable=True))
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch.create_index("ix_event_reason_code", ["reason_code"])
    # Until now a DECLINE or LOST kept its reason as the event's detail.
    op.execute("UPDATE event SET reason = detail WHERE command IN ('DECLINE', 'LOST') AND detail IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.drop_index("ix_event_reason_code")
        batch.drop_column("note")
        batch.drop_column("reason_code")
        batch.drop_column("reason")
