"""The schema as it was when migrations began.

Revision ID: 0001
Revises:

A database made before migrations existed has exactly these tables; `refbot db upgrade`
stamps it with this revision and goes on from here. Times are naive UTC DATETIME columns
(``bot.models.UTCDateTime``), money a decimal string (``bot.models.DecimalText``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("sender", sa.String(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("referral_id", sa.String(), nullable=True),
        sa.Column("detail", sa.String(), nullable=True),
        sa.Column("replied", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index("ix_inbound_referral_id", "inbound", ["referral_id"])
    op.create_table(
        "partner",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "profile",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("partner_id", sa.String(), nullable=False),
        sa.Column("region", sa.String(), nullable=False),
        sa.Column("locations", sa.JSON(), nullable=False),
        sa.Column("contact", sa.String(), nullable=False),
        sa.Column("team", sa.JSON(), nullable=False),
        sa.Column("locale", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_profile_partner_id", "profile", ["partner_id"])
    op.create_table(
        "rfi",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("customer", sa.JSON(), nullable=False),
        sa.Column("region", sa.String(), nullable=False),
        sa.Column("location", sa.String(), nullable=True),
        sa.Column("need", sa.Text(), nullable=False),
        sa.Column("products", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("consent_to_share_contact", sa.Boolean(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "referral",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("rfi_id", sa.String(), nullable=False),
        sa.Column("partner_id", sa.String(), nullable=False),
        sa.Column("profile_key", sa.String(), nullable=False),
        sa.Column("region", sa.String(), nullable=False),
        sa.Column("location", sa.String(), nullable=True),
        sa.Column("contact", sa.String(), nullable=False),
        sa.Column("locale", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("status_since", sa.DateTime(), nullable=False),
        sa.Column("deal_value", sa.String(length=40), nullable=True),
        sa.Column("closing_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("deadline_at", sa.DateTime(), nullable=True),
        sa.Column("next_reminder_at", sa.DateTime(), nullable=True),
        sa.Column("thread_id", sa.String(), nullable=True),
        sa.Column("bounce", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["profile_key"], ["profile.key"]),
        sa.ForeignKeyConstraint(["rfi_id"], ["rfi.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("deadline_at", "next_reminder_at", "partner_id", "rfi_id", "status"):
        op.create_index(f"ix_referral_{column}", "referral", [column])
    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("from_status", sa.String(), nullable=True),
        sa.Column("to_status", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("command", sa.String(), nullable=True),
        sa.Column("detail", sa.String(), nullable=True),
        sa.Column("message_id", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_event_referral_id", "event", ["referral_id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("referral_id", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("recipient", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    for column in ("recipient", "referral_id", "status"):
        op.create_index(f"ix_outbox_{column}", "outbox", [column])


def downgrade() -> None:
    for table in ("outbox", "event", "referral", "rfi", "profile", "partner", "inbound"):
        op.drop_table(table)
