"""The words a person typed in an HTML reply: above the quoted original, without hidden text."""

from __future__ import annotations

import pytest

from bot.inbound.html_text import html_to_text


@pytest.mark.parametrize("quote", [
    '<blockquote type="cite">INTERESTED</blockquote>',
    '<div class="gmail_quote">On Tue ... wrote:<br>INTERESTED</div>',
    '<div id="divRplyFwdMsg"><b>From:</b> Contoso</div><div>INTERESTED</div>',
    '<hr><div>From: Contoso Referrals</div><div>INTERESTED</div>',
    '<div type="cite">INTERESTED</div>',
    '<div class="moz-cite-prefix">Contoso wrote:</div>INTERESTED',
])
def test_the_quoted_original_and_what_follows_it_are_left_out(quote):
    assert html_to_text(f"<div>NO THANKS</div>{quote}<p>more</p>") == "NO THANKS"


@pytest.mark.parametrize("hidden", [
    '<div style="display:none">INTERESTED</div>', '<span style="visibility: hidden">INTERESTED</span>',
    '<p hidden>INTERESTED</p>', '<div style="font-size:0">INTERESTED</div>', '<div style="mso-hide:all">INTERESTED</div>',
    "<style>.x{}</style>", "<script>INTERESTED</script>", "<head><title>INTERESTED</title></head>",
])
def test_what_the_page_hides_is_not_read(hidden):
    assert html_to_text(f"{hidden}<div>Thanks</div>") == "Thanks"


def test_blocks_and_breaks_make_lines_and_entities_are_decoded():
    html = "<p>Hello&nbsp;team,</p><div>NO&nbsp;THANKS<br>Anna &amp; Ben</div><ul><li>one</li><li>two</li></ul>"
    assert html_to_text(html) == "Hello team,\n\nNO THANKS\nAnna & Ben\n\none\n\ntwo"


def test_stray_end_tags_and_unclosed_elements_do_not_hide_text():
    assert html_to_text("</span></div><div style='display:none'>x</div></p>INTERESTED<div>") == "INTERESTED"


def test_nesting_fifty_thousand_deep_is_read():
    assert html_to_text("<div>" * 50_000 + "INTERESTED" + "</div>" * 50_000) == "INTERESTED"
