"""`/metrics` in the Prometheus text format, counted from the database at each scrape (so
every worker and the dashboard report the same numbers): referrals per state, inbound
messages per outcome, and the outbox."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func
from sqlmodel import select

from bot import tally
from bot.inbound import held
from bot.models import InboundMessage, OutboundMessage


class Collector:
    """A prometheus_client collector that reads refbot's tables when scraped."""

    def __init__(self, board) -> None:
        self.board = board

    def collect(self):
        with self.board.session() as session:
            states = tally.states(session)
            outcomes = session.exec(select(InboundMessage.outcome, func.count()).group_by(InboundMessage.outcome)).all()
            outbox = dict(session.exec(select(OutboundMessage.status, func.count())
                                       .group_by(OutboundMessage.status)).all())
            kept = held.count(session)
        referrals = GaugeMetricFamily("refbot_referrals", "Referrals per state.", labels=["state"])
        for state, count in states.items():
            referrals.add_metric([state], count)
        inbound = CounterMetricFamily("refbot_inbound_messages", "Inbound messages processed, per outcome.",
                                      labels=["outcome"])
        for outcome, count in sorted(outcomes):
            inbound.add_metric([outcome], count)
        messages = GaugeMetricFamily("refbot_outbox_messages", "Outgoing messages per status.", labels=["status"])
        for status in ("queued", "sent", "failed"):
            messages.add_metric([status], outbox.get(status, 0))
        yield referrals
        yield inbound
        yield GaugeMetricFamily("refbot_outbox_queued", "Outgoing messages waiting to be sent.",
                                value=outbox.get("queued", 0))
        yield messages
        yield GaugeMetricFamily("refbot_inbound_held", "Inbound messages held for an admin.", value=kept)


def exposition(board) -> tuple[bytes, str]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Collector(board))
    return generate_latest(registry), CONTENT_TYPE_LATEST
