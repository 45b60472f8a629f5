"""The bundled HTML layout, ``templates/layout.html.j2``, written out in Python.

The HTML part of every email is laid out here unless an admin's template folder has its own
``layout.html.j2``, which is then rendered by Jinja2 as before. Run through Jinja2, the bundled
layout was a third of a render: an attribute lookup, an ``escape`` and a ``Markup`` join for
each value of each block, and a macro call for each row of buttons; here each is one string
operation. The template stays the layout's reference, the file an admin's own starts from, and
``tests/test_email_layout.py`` holds the two to the same bytes for every email in every language.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from bot.outbound.blocks import Block, Marks


def escaped(value) -> str:
    """``markupsafe.escape`` as a plain string: the layout escapes a few dozen values an email,
    and making each a ``Markup`` cost more than escaping it."""
    if type(value) is not str:  # Markup stays as it is, anything else is made a string: as markupsafe does
        return str(escape(value))
    return value.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;").replace("'", "&#39;").replace('"', "&#34;")


# The styles the layout sets on every cell, escaped as the template's autoescape writes them.
FONT = escaped("font-family:-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif;")
TEXT_CELL = f"{FONT} font-size:16px; line-height:24px; color:#1a1a1a; background-color:#ffffff; overflow-wrap:anywhere;"
TABLE = '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 {}px 0;{}">\n'
FACT_LABEL = ('<td valign="top" width="38%" style="width:38%; padding:8px 12px 8px 0; border-bottom:1px solid #e5e7eb; '
              f'{FONT} font-size:14px; line-height:22px; color:#4b5563; background-color:#ffffff; '
              'overflow-wrap:break-word; hyphens:auto;">')
FACT_VALUE = f'<td valign="top" style="padding:8px 0; border-bottom:1px solid #e5e7eb; {TEXT_CELL} font-weight:bold;">'
FACT_ALONE = f'<td colspan="2" valign="top" style="padding:8px 0; border-bottom:1px solid #e5e7eb; {TEXT_CELL}">'
BOXES = {  # a block shown as its lines in a box of one cell: the cell's style
    "deadline": f"padding:12px 14px; border-left:4px solid #b45309; {TEXT_CELL} background-color:#fff4d6; color:#3d2800; "
                "font-weight:bold;",
    "quote": f"padding:10px 14px; border-left:4px solid #9ca3af; {TEXT_CELL} background-color:#f3f4f6; font-style:italic;",
}
CONTACT = f"padding:12px 14px; border:1px solid #9db5cc; border-radius:6px; {TEXT_CELL} background-color:#eef4fa;"
BUTTON = {
    False: "display:block; padding:12px 16px; border:1px solid #1f4e79; border-radius:6px; background-color:#1f4e79; "
           f"color:#ffffff; {FONT} font-size:17px; line-height:22px; font-weight:bold; text-align:center; "
           "text-decoration:none;",
    True: "display:block; padding:11px 16px; border:1px solid #1f4e79; border-radius:6px; background-color:#ffffff; "
          f"color:#1f4e79; {FONT} font-size:15px; line-height:20px; text-align:center; text-decoration:none;",
}
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d ()./-]{5,}\d")
PARAGRAPH = '<p style="margin:0 0 16px 0;">'
SIGNATURE = '<p style="margin:24px 0 0 0; font-size:13px; line-height:19px; color:#5b6370;">'
FOOTER = ('<p style="margin:16px 0 0 0; padding-top:12px; border-top:1px solid #e5e7eb; font-size:13px; line-height:19px; '
          'color:#5b6370; background-color:#ffffff;">')
HEAD = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<meta name="supported-color-schemes" content="light">
<title>{subject}</title>
</head>
<body style="margin:0; padding:0; background-color:#f3f4f6;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f3f4f6;">
<tr>
<td align="center" style="padding:16px 8px; background-color:#f3f4f6;">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" style="width:100%; max-width:600px; \
background-color:#ffffff; border:1px solid #d9dde3;">
<tr>
<td style="padding:14px 20px; background-color:#1f4e79; color:#ffffff; {font} font-size:16px; font-weight:bold;">{bot_name}</td>
</tr>
<tr>
<td style="padding:20px; {text_cell}">
"""
TAIL = """</td>
</tr>
</table>
</td>
</tr>
</table>
</body>
</html>"""


def html(blocks: tuple[Block, ...], marks: Marks, *, subject: str, bot_name: str, lang: str, primary: list,
         quiet: list, tap_hint) -> str:
    """What ``layout.html.j2`` renders from the same blocks, buttons and hint, byte for byte."""
    out = [HEAD.format(lang=escaped(lang), subject=escaped(subject), font=FONT, bot_name=escaped(bot_name),
                       text_cell=TEXT_CELL)]
    placed_buttons = placed_footer = False

    def buttons_here() -> None:
        out.append(f'<p style="margin:0 0 12px 0;">{escaped(tap_hint(any(b.shaped for b in primary)))}</p>\n')
        button_rows(primary, False)
        out.append("\n")

    def button_rows(found: list, small: bool) -> None:
        out.append(TABLE.format(8 if small else 16, ""))
        for b in found:
            out.append(f'<tr>\n<td style="padding:0 0 8px 0; background-color:#ffffff;">\n<a href="{escaped(b.href)}" '
                       f'style="{BUTTON[small]}">{escaped(b.label)}<span aria-hidden="true">&nbsp;&#8250;</span></a>\n'
                       "</td>\n</tr>\n")
        out.append("</table>\n")

    last = len(blocks) - 1
    for index, block in enumerate(blocks):
        kind = block.kind
        if kind == "facts":
            out.append(TABLE.format(16, " border-top:1px solid #e5e7eb;"))
            for fact in map(marks.fact, block.lines):
                if fact.label:
                    out.append(f"<tr>\n{FACT_LABEL}{escaped(fact.label)}</td>\n{FACT_VALUE}{html_line(fact.value)}</td>\n</tr>\n")
                else:
                    out.append(f"<tr>\n{FACT_ALONE}{html_line(fact.value)}</td>\n</tr>\n")
            out.append("</table>\n")
        elif kind in BOXES:
            lines = html_lines(map(marks.unlabelled, block.lines))
            out.append(f'{TABLE.format(16, "")}<tr>\n<td style="{BOXES[kind]}">{lines}</td>\n</tr>\n</table>\n')
        elif kind == "contact":
            facts = "<br>".join((f'<span style="color:#374151;">{escaped(fact.label)}</span> ' if fact.label else "")
                                + f"<strong>{contact_line(fact.value)}</strong>" for fact in map(marks.fact, block.lines))
            out.append(f'{TABLE.format(16, "")}<tr>\n<td style="{CONTACT}">{facts}</td>\n</tr>\n</table>\n')
        elif kind == "commands" and primary:
            placed_buttons = True
            buttons_here()
            out.append("\n")  # each macro's output is followed by the newline of its line in the template
        elif kind == "footer":
            placed_footer = True
            if primary and not placed_buttons:
                placed_buttons = True
                buttons_here()
                out.append("\n")
            if quiet:
                button_rows(quiet, True)
                out.append("\n")
            out.append(f"{FOOTER}{html_lines(map(marks.unlabelled, block.lines))}</p>\n")
        else:
            # A paragraph, or commands without buttons. An email with no footer block (an override
            # written without marks) sets its last paragraph as the signature.
            signature = index == last and last > 0 and kind == "paragraph" and not primary and not quiet
            lines = html_lines(map(marks.unlabelled, block.lines))
            out.append(f"{SIGNATURE if signature else PARAGRAPH}{lines}</p>\n")
    if primary and not placed_buttons:
        buttons_here()
    if quiet and not placed_footer:
        button_rows(quiet, True)
    out.append(TAIL)
    return "".join(out)


def contact_line(line: str) -> str:
    """A line of the customer's details: email addresses and phone numbers as links."""
    parts, last = [], 0
    for match in sorted([*_EMAIL.finditer(line), *_PHONE.finditer(line)], key=lambda m: m.start()):
        if match.start() < last:
            continue
        found = match.group()
        href = f"mailto:{found}" if "@" in found else "tel:" + re.sub(r"[^\d+]", "", found)
        parts += [escaped(line[last:match.start()]),
                  f'<a href="{escaped(href)}" style="color:#1f4e79; text-decoration:underline;">{escaped(found)}</a>']
        last = match.end()
    parts.append(escaped(line[last:]))
    return "".join(parts)


def html_line(line: str) -> str:
    """One line of the plain text as HTML: escaped, links made clickable, indentation kept."""
    if "://" not in line and not line.startswith(" "):  # most lines: no link, no indent
        return escaped(line)
    indent = len(line) - len(line.lstrip(" "))
    parts, last = ["&nbsp;" * indent], indent
    for match in _URL.finditer(line):
        url = escaped(match.group())
        parts += [escaped(line[last:match.start()]), f'<a href="{url}" style="color:#1f4e79;">{url}</a>']
        last = match.end()
    parts.append(escaped(line[last:]))
    return "".join(parts)


def html_lines(lines) -> str:
    """Lines as HTML, each as ``html_line`` shows it, a <br> between each."""
    return "<br>".join([html_line(line) for line in lines])


# The same as filters of an admin's layout.html.j2, whose autoescape must know them for HTML.
FILTERS = {function.__name__: lambda value, function=function: Markup(function(value))
           for function in (html_line, html_lines, contact_line)}
