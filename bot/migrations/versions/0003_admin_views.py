"""What admins need: the address an admin acted for, held mail kept for release, and the
indexes the dashboard's pages and counts read by.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("on_behalf_of", sa.String(), nullable=True))
    with op.batch_alter_table("inbound") as batch:
        batch.add_column(sa.Column("raw", sa.LargeBinary(), nullable=True))
        batch.create_index("ix_inbound_outcome", ["outcome"])
    with op.batch_alter_table("referral") as batch:
        batch.create_index("ix_referral_created_at", ["created_at"])


def downgrade() -> None:
    with op.batch_alter_table("referral") as batch:
        batch.drop_index("ix_referral_created_at")
    with op.batch_alter_table("inbound") as batch:
        batch.drop_index("ix_inbound_outcome")
        batch.drop_column("raw")
    with op.batch_alter_table("event") as batch:
        batch.drop_column("on_behalf_of")
