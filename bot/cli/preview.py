"""`refbot preview TEMPLATE`: one email rendered with sample data, as its reader would get it."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from pathlib import Path

import click

from bot import tokens
from bot.cli.base import Context, cli, pass_ctx
from bot.errors import BadInput
from bot.locales import LOCALES
from bot.outbound.render import TEMPLATE_NAMES, Rendered, Renderer
from bot.outbound.samples import SAMPLE_NOW, SAMPLE_TOKEN, sample_context
from bot.outbound.wire import WIRE_POLICY

SAMPLE_READER = {"partner": "leads-de@contoso.example", "customer": "erika@example.org"}


@cli.command()
@click.argument("template", type=click.Choice(TEMPLATE_NAMES), metavar="TEMPLATE")
@click.option("--locale", default="en", show_default=True, type=click.Choice(LOCALES), help="The reader's language.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the whole email (.eml) or its HTML part (.html) to this file.")
@pass_ctx
def preview(ctx: Context, template: str, locale: str, out: Path | None) -> None:
    """Render one email (e.g. partner/new_referral) with sample data: its subject and text, or
    with --out the .eml or .html file. The config's template overrides and time zone apply."""
    if out is not None and out.suffix.lower() not in (".eml", ".html"):
        raise BadInput(f"--out {out}: give a file name ending in .eml (the whole email) or .html (its HTML part)")
    config = ctx.config
    rendered = Renderer.for_config(config).render(template, locale=locale, now=SAMPLE_NOW, **sample_context(template),
                                                  reply_to=tokens.reply_address(config.smtp.reply_address, SAMPLE_TOKEN))
    if out is None:
        click.echo(f"Subject: {rendered.subject}\n\n{rendered.text}", nl=False)
        return
    if out.suffix.lower() == ".html":
        out.write_text(rendered.html, encoding="utf-8")
    else:
        message = _message(rendered, config, to=SAMPLE_READER[template.split("/")[0]])
        out.write_bytes(message.as_bytes(policy=WIRE_POLICY))
    click.echo(f"Wrote {template} ({locale}) to {out}.")


def _message(rendered: Rendered, config, *, to: str) -> EmailMessage:
    """The email as a mail client would open it: both parts, and the headers that matter to it."""
    message = EmailMessage(policy=SMTP)
    message["From"] = Address(config.bot.name, addr_spec=config.smtp.from_address)
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(SAMPLE_NOW)
    message["Message-ID"] = make_msgid(idstring="preview", domain=config.smtp.from_address.split("@")[1])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text, cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    return message
