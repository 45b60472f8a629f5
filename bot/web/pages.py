"""The dashboard's pages (SPEC §8): each reads what it shows (``bot.web.data``) and renders
one template; none changes anything."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, abort, current_app, jsonify, render_template, request

from bot import lifecycle, stats, tally
from bot.web import charts, data, metrics

blueprint = Blueprint("pages", __name__, template_folder="templates")


def dashboard():
    return current_app.extensions["refbot"]


def page_number() -> int:
    return request.args.get("page", 1, type=int)


@blueprint.get("/")
def overview():
    board = dashboard()
    now, tz = board.now(), board.config.bot.timezone
    starts = data.week_starts(now=now, tz=tz)
    with board.session() as session:
        found, weeks = stats.recent(session, starts, now=now)
        states = tally.states(session)
        attention = data.attention(session, now=now)
    weekly, responses = data.referrals_per_week(weeks), data.response_times(sum(weeks, Counter()))
    labels = [start.strftime("%d %b") for start in starts]
    return render_template(
        "overview.html", states=states, total=sum(states.values()), recent=found, attention=attention,
        weeks=len(starts),
        weekly_chart=charts.stacked_bars("Referrals per week, by how they stand now", labels,
                                         [charts.Series(name, colour, weekly[name])
                                          for name, colour, _ in data.OUTCOMES]),
        response_chart=charts.bars("First response after the offer", [b for b, _ in data.RESPONSE_BUCKETS], responses),
        funnel_chart=charts.funnel("From offer to won", data.funnel(states)))


@blueprint.get("/referrals")
def referrals():
    board = dashboard()
    state = request.args.get("state") or None
    if state is not None and state not in lifecycle.NAMES:
        abort(400, f"unknown state {state!r}")
    filters = {"state": state, "partner": request.args.get("partner", "").strip(),
               "region": request.args.get("region", "").strip()}
    with board.session() as session:
        found = data.referrals(session, number=page_number(), **filters)
        partners = data.partner_ids(session)
    return render_template("referrals.html", page=found, filters=filters, partners=partners,
                           filters_given={key: value for key, value in filters.items() if value})


@blueprint.get("/referrals/<referral_id>")
def referral(referral_id: str):
    with dashboard().session() as session:
        found = data.referral(session, referral_id.upper())
    if found is None:
        abort(404, f"no referral {referral_id}")
    return render_template("referral.html", **found)


@blueprint.get("/partners")
def partners():
    board = dashboard()
    with board.session() as session:
        rows = data.partners(session, now=board.now())
    return render_template("partners.html", rows=rows)


@blueprint.get("/inbox")
def inbox():
    with dashboard().session() as session:
        found, outcomes = data.inbox(session, number=page_number())
        subjects = {row.id: data.held.subject(row) for row in found.items}
    return render_template("inbox.html", page=found, outcomes=outcomes, subjects=subjects)


@blueprint.get("/outbox")
def outbox():
    status = request.args.get("status") or None
    if status not in (None, "queued", "sent", "failed"):
        abort(400, f"unknown status {status!r}")
    with dashboard().session() as session:
        found, statuses = data.outbox(session, status=status, number=page_number())
    return render_template("outbox.html", page=found, statuses=statuses, status=status)


@blueprint.get("/healthz")
def healthz():
    if dashboard().database_ok():
        return jsonify(status="ok", database="ok")
    return jsonify(status="error", database="unavailable"), 503


@blueprint.get("/metrics")
def prometheus():
    board = dashboard()
    body, content_type = metrics.exposition(board)
    return body, 200, {"Content-Type": content_type}
