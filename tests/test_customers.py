"""Customer notices are the customer's own email, and what people write without a command
reaches a person (SPEC §2 "Customer notices", §3), through real mail."""

from __future__ import annotations

import pytest

from tests.test_languages import first_email, plain

ADMIN = "program@example.com"
CUSTOMER = "erika@example.org"


@pytest.fixture
def mail_config():
    return {"bot": f'admin_address = "{ADMIN}"', "extra": "[timeouts]\nundo_minutes = 0\n"}


@pytest.mark.parametrize("locale,subject,words", [
    (None, "Your request RFI-EN: choosing another partner", "will not be following up"),
    ("fr", "Votre demande RFI-EN", "n'y donnera pas suite"),
])
def test_a_customer_notice_is_the_customers_own_email(mail, locale, subject, words):
    customer = {"name": "Erika Mustermann", "email": CUSTOMER, **({"locale": locale} if locale else {})}
    referral = mail.submit(rfi_id="RFI-EN", partners=["fabrikam"], customer=customer)  # an English partner
    person = mail.person("sales@fabrikam.example")
    person.expect(about=referral)
    person.replies("NO THANKS")
    person.expect(about=referral)
    notice = mail.person(CUSTOMER).expect(subject=subject)
    assert words in plain(notice.text)
    message = notice.message
    assert "[Referral" not in notice.subject and "RFI-EN" in notice.subject
    assert message["Reply-To"] == ADMIN  # bot.admin_address: a person, not the partner flow
    assert message["In-Reply-To"] is None and message["References"] is None
    assert "referrals+" not in notice.raw.decode() and referral not in notice.raw.decode()
    assert "X-Refbot-Referral" not in message


def test_a_customer_who_writes_back_reaches_the_admin(mail):
    referral, person, partner = first_email(mail, "en")
    person.replies("NO THANKS")
    person.expect(about=referral)
    customer = mail.person(CUSTOMER)
    customer.expect(subject="RFI-EN")
    # The customer answers the bot's own address instead of the Reply-To.
    customer.replies("Could you suggest someone else who knows SQL Server?", to="referrals@example.com")
    forwarded = mail.person(ADMIN).expect(subject="The customer of RFI-EN wrote back: Erika Mustermann",
                                          about=referral, body_contains=["Could you suggest someone else"])
    assert forwarded.message["Reply-To"] == CUSTOMER
    customer.expect_nothing(within=0.5)  # never refused
    event = mail.referral(referral)["events"][-1]
    assert event["command"] == "CUSTOMER_REPLY" and event["actor"] == CUSTOMER
    assert event["note"] == "Could you suggest someone else who knows SQL Server?"


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_a_partners_question_is_answered_and_passed_on_once(mail, language):
    referral, person, partner = first_email(mail, language)
    person.replies(partner["question"], client=partner["client"])
    answer = plain(person.expect(subject=partner["refused"], about=referral).text)
    assert partner["nothing"] in answer
    assert {"en": "passed your message on", "de": "weitergeleitet", "fr": "transmis votre message"}[language] in answer
    admin = mail.person(ADMIN)
    forwarded = admin.expect(subject=f"A question from {partner['address']}", about=referral,
                             body_contains=[plain(partner["question"]).split(" ?")[0], "Region: "])
    assert forwarded.message["Reply-To"] == partner["address"]
    admin.expect_nothing(within=0.5)
    assert mail.referral(referral)["status"] == "new"
