"""Dashboard tallies: referrals per profile and state, the same per hour of creation with the
first responses per bucket, and each referral's first response, kept as referrals change
(``bot.tally``) and counted here once from the data already there; indexes for the dashboard's
referrals that need attention.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "state_count",
        sa.Column("profile_key", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("profile_key", "status"),
    )
    op.create_table(
        "tally",
        sa.Column("hour", sa.DateTime(), nullable=False),
        sa.Column("profile_key", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "profile_key", "name"),
    )
    op.create_table(
        "first_response",
        sa.Column("referral_id", sa.String(), nullable=False),
        sa.Column("profile_key", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"]),
        sa.PrimaryKeyConstraint("referral_id"),
    )
    op.create_index("ix_first_response_created_at", "first_response", ["created_at"])
    op.create_index("ix_first_response_hours", "first_response", ["hours", "created_at"])
    op.create_index("ix_referral_status_bounce", "referral", ["status", "bounce"])
    op.create_index("ix_referral_status_deadline_at", "referral", ["status", "deadline_at"])
    from bot import tally  # the same counting as at run time

    tally.rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_referral_status_deadline_at", table_name="referral")
    op.drop_index("ix_referral_status_bounce", table_name="referral")
    op.drop_table("first_response")
    op.drop_table("tally")
    op.drop_table("state_count")
