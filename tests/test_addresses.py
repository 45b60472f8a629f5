"""The config's addresses: a plain ASCII address is checked without email_validator, and
the answer is always the one email_validator gives (SPEC §6: every error is its message)."""

import os
import subprocess
import sys

import email_validator
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot import config


def by_email_validator(value: str) -> str | None:
    """What ``email_address`` answered before the plain path: the address in lower case, or
    None where email_validator refuses it."""
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def agrees(value: str) -> None:
    plain = config._plain_address(value)
    if plain is not None:  # taken without email_validator: it takes it too, the same
        assert by_email_validator(value) == plain, value
    expected = by_email_validator(value)
    if expected is None:
        with pytest.raises(ValueError, match=r"^not an email address \("):
            config.email_address(value)
    else:
        assert config.email_address(value) == expected


# Near the edges: the characters of the plain path and those just outside it, the special-use
# names, IDNA's "xn--", labels and addresses about as long as the limits.
PIECES = st.sampled_from([*"aZ09_+-.@xn", "--", "xn--", "..", "!", "'", '"', " ", "<", "é", "\u0131", "\n", "K",
                          "\u212a"])  # ı and the Kelvin sign: not ASCII, but case-mapped to it
LABEL = st.one_of(st.text(st.sampled_from("aB7-"), min_size=0, max_size=5),
                  st.integers(58, 66).map(lambda n: "a" * n),
                  st.sampled_from(["xn--bcher-kva", "ab--cd", "a-b", "-a", "a-", "1", "123"]))
TLD = st.one_of(st.sampled_from([*email_validator.SPECIAL_USE_DOMAIN_NAMES, "example", "com", "COM", "Local",
                                 "de", "c", "x1", "1x", "123", "xn--p1ai", "a" * 63, "a" * 64]),
                st.text(st.sampled_from("abZ-9"), min_size=0, max_size=4))


def pieces(max_size: int):
    return st.lists(PIECES, max_size=max_size).map("".join)


LOCAL = st.one_of(pieces(8),
                  st.integers(60, 250).map(lambda n: "l" * n),
                  st.sampled_from(["Info", "first.last+tag", "a..b", ".a", "a.", "o'neil", "jürgen"]))


@st.composite
def addresses(draw) -> str:
    labels = draw(st.lists(LABEL, min_size=0, max_size=4))
    return draw(LOCAL) + draw(st.sampled_from(["@", "@", "@@", "＠"])) + ".".join([*labels, draw(TLD)])


@settings(max_examples=3000, deadline=None)
@given(st.one_of(addresses(), pieces(30)))
@example("leads@contoso.example")
@example("a@b.c")
def test_plain_addresses_are_only_what_email_validator_takes_and_come_out_the_same(value):
    agrees(value)


@pytest.mark.parametrize("value, plain", [
    ("leads@contoso.example", "leads@contoso.example"),
    ("First.Last+tag@Mail.Example.ORG", "first.last+tag@mail.example.org"),
    ("INFO@example.com", "info@example.com"),  # email_validator lowers RFC 2142 names itself
    ("a_b-c@a-b.c0.example", "a_b-c@a-b.c0.example"),
    ("a@b.c", "a@b.c"),
    ("x@" + "a" * 63 + ".com", "x@" + "a" * 63 + ".com"),
    ("l" * 200 + "@" + "a" * 49 + ".com", "l" * 200 + "@" + "a" * 49 + ".com"),  # 254: the longest taken
    # left to email_validator: it takes them, but the plain path does not decide them
    ("o'neil@example.com", None), ("jürgen@example.org", None), ("a@bücher.example", None),
    ("a@xn--bcher-kva.example", None), ("a@a--b.example", None), ("a@b.x1", None),
    # refused (by email_validator, with its message)
    ("l" * 200 + "@" + "a" * 50 + ".com", None), ("x@" + "a" * 64 + ".com", None),
    ("a@b.local", None), ("a@mail.TEST", None), ("a@localhost", None), ("a@b.onion", None), ("a@1.arpa", None),
    ("a@b.invalid", None), ("a@example", None), ("a@b.123", None), ("a@-b.com", None), ("a@b-.com", None),
    ("a@b..com", None), (".a@b.com", None), ("a.@b.com", None), ("a..b@b.com", None), ("a@b.com.", None),
    ("a@ab--cd.com", None), ("a b@c.com", None), ("a@b.com\n", None), ("<a@b.com>", None), ("a@[127.0.0.1]", None),
    ('"a"@b.com', None), ("a@b@c.com", None), ("@b.com", None), ("a@", None), ("", None),
])
def test_the_plain_path_takes_plain_addresses_and_leaves_the_rest(value, plain):
    assert config._plain_address(value) == plain
    agrees(value)


def test_the_special_use_names_are_email_validators():
    assert set(email_validator.SPECIAL_USE_DOMAIN_NAMES) <= config._SPECIAL_USE


def test_a_config_of_plain_addresses_loads_without_email_validator(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[bot]\nadmin_address = 'Admin@Example.org'\n[smtp]\nfrom_address = 'bot@example.org'\n")
    code = ("import sys; from pathlib import Path; from bot import config; "
            f"assert config.load(Path({str(path)!r})).bot.admin_address == 'admin@example.org'; "
            "assert 'email_validator' not in sys.modules, 'imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr
