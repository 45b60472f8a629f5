"""Out-of-office (SPEC §2): the contact's auto-reply to a new referral sends its first email to
the profile's backup and team at once, once, and nobody is answered; through real mail."""

from __future__ import annotations

BACKUP, TEAM = "sales-de@contoso.example", "anna@contoso.example"
AWAY = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}


def test_the_contacts_out_of_office_sends_the_referral_to_backup_and_team(referral_in_new, mail):
    scene = referral_in_new
    first = scene.partner.last
    scene.partner.replies("Ich bin bis 7. Dezember nicht im Büro und lese keine E-Mails.", client="outlook-de",
                          headers=AWAY)
    backup, team = mail.person(BACKUP), mail.person(TEAM)
    for person in (backup, team):
        got = person.expect(subject="Neue Empfehlung", about=scene.referral,
                            body_contains=["leads-de@contoso.example", "nicht im Büro"])
        assert got.message["Reply-To"] == first["Reply-To"]  # the referral's own signed reply address
    scene.partner.expect_nothing(within=0.5)  # an auto-reply is never answered
    event = mail.referral(scene.referral)["events"][-1]
    assert event["command"] == "OUT_OF_OFFICE" and BACKUP in event["detail"] and TEAM in event["detail"]

    scene.partner.replies("Ich bin bis 7. Dezember nicht im Büro.", answering=first, headers=AWAY)
    backup.expect_nothing(within=1.0)  # once per referral
    team.expect_nothing(within=0)

    backup.replies("INTERESSIERT", client="outlook-de")  # the backup may act on it
    backup.expect(body_contains=["Erika Mustermann"])
    assert mail.referral(scene.referral)["status"] == "evaluating"


def test_an_out_of_office_from_someone_else_or_later_changes_nothing(referral_in_evaluating, mail):
    scene = referral_in_evaluating
    scene.partner.replies("Out of office until Monday.", headers=AWAY)
    mail.person(BACKUP).expect_nothing()
    assert mail.referral(scene.referral)["events"][-1]["command"] == "INTERESTED"
