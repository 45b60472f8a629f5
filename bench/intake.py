"""intake: RFIs from one JSON-lines file, routed, their emails queued and sent, by one
`refbot rfi submit FILE`; against the issue's floor, a plain script that parses each line and
commits it to SQLite (WAL), one commit per RFI.

`rfi submit` also sends what it queued (SPEC), which the floor does not; a second floor that
sends one short email per RFI over one SMTP connection is measured in the same run and printed
on stderr beside it, so that a reader sees how much of the gap is the sending."""

from __future__ import annotations

import json
import sys

from bench.report import Figure, rate
from bench.site import Site

TARGET = 0.5


def rfis(count: int) -> str:
    return "".join(json.dumps({
        "rfi_id": f"RFI-BENCH-{n:07d}",
        "customer": {"name": f"Customer {n}", "email": f"c{n}@example.org", "company": f"Firm {n}", "size": "medium"},
        "region": "UK", "need": "Move our on-premises SQL Server to Azure", "products": ["Azure SQL"],
        "keywords": ["migration"], "partners": ["contoso"], "consent_to_share_contact": True,
    }) + "\n" for n in range(count))


def run(size: int) -> list[Figure]:
    with Site("intake") as site:
        path = site.folder / "rfis.jsonl"
        path.write_text(rfis(size), encoding="utf-8")
        floor, _ = site.floor("intake", path=str(path), database=str(site.folder / "floor.db"))
        sending, _ = site.floor("intake", path=str(path), database=str(site.folder / "sending.db"),
                                smtp_port=site.sink.port)
        site.sink.counter.reset()
        site.app().close()  # the database exists, as on a site that takes RFIs
        seconds, out = site.refbot("rfi", "submit", str(path), "--json")
        routed = [r for r in json.loads(out) if r.get("referrals")]
        if len(routed) != size or site.sink.counter.messages < size:
            raise RuntimeError(f"rfi submit routed {len(routed)} of {size}; the sink got {site.sink.counter.messages}")
    ratio = floor / seconds
    print(f"intake: against a floor that also sends, {rate(size, sending, 'RFI/s')}: ratio {sending / seconds:.2f}",
          file=sys.stderr)
    return [Figure("intake", f"rfi submit, {size} JSON lines", rate(size, seconds, "RFI/s"),
                   rate(size, floor, "RFI/s"), ratio, f">= {TARGET:.2f}", ratio >= TARGET)]
