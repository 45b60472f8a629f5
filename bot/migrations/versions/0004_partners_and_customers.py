"""Partners and customers: UNDO keeps what a change replaced, customer notices wait out the UNDO
window, RFIs remember the partners they named (for re-offers), profiles have a backup and a
weekly digest.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Only added columns: plain ALTER TABLE on every database, no table is copied (copying
    # referral would trip the foreign keys of its events on SQLite).
    op.add_column("event", sa.Column("before", sa.JSON(), nullable=True))
    op.add_column("referral", sa.Column("reoffer_due_at", sa.DateTime(), nullable=True))
    op.create_index("ix_referral_reoffer_due_at", "referral", ["reoffer_due_at"])
    op.add_column("rfi", sa.Column("partners", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("profile", sa.Column("backup", sa.String(), nullable=True))
    op.add_column("profile", sa.Column("digest", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("outbox", sa.Column("not_before", sa.DateTime(), nullable=True))
    op.create_table(
        "digest_sent",
        sa.Column("profile_key", sa.String(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("profile_key", "week"),
    )


def downgrade() -> None:
    op.drop_table("digest_sent")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("not_before")
    with op.batch_alter_table("profile") as batch:
        batch.drop_column("digest")
        batch.drop_column("backup")
    with op.batch_alter_table("rfi") as batch:
        batch.drop_column("partners")
    with op.batch_alter_table("referral") as batch:
        batch.drop_index("ix_referral_reoffer_due_at")
        batch.drop_column("reoffer_due_at")
    with op.batch_alter_table("event") as batch:
        batch.drop_column("before")
