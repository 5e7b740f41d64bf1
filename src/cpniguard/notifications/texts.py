"""The texts of customer notices, in English and German: our own words, short enough for an SMS.

NOTIFY-4: an account-change notice says what kind of thing changed and when, never the old or
the new value. One-time codes and call detail are the only messages that carry account data,
and only to a contact of record.
"""

from __future__ import annotations

from datetime import datetime

from cpniguard.calendar import EASTERN
from cpniguard.notifications.model import NoticeEvent

WHAT = {
    "en": {
        NoticeEvent.PASSWORD_CHANGED: "the password of your online account",
        NoticeEvent.PIN_CHANGED: "the PIN for calls to customer care",
        NoticeEvent.BACKUP_ANSWER_CHANGED: "the answer to your security question",
        NoticeEvent.ONLINE_ACCOUNT_CHANGED: "your online account",
        NoticeEvent.EMAIL_CHANGED: "the email address on your account",
        NoticeEvent.POSTAL_ADDRESS_CHANGED: "the postal address on your account",
        NoticeEvent.TELEPHONE_NUMBER_CHANGED: "a telephone number on your account",
    },
    "de": {
        NoticeEvent.PASSWORD_CHANGED: "das Passwort Ihres Online-Kontos",
        NoticeEvent.PIN_CHANGED: "die PIN für Anrufe beim Kundendienst",
        NoticeEvent.BACKUP_ANSWER_CHANGED: "die Antwort auf Ihre Sicherheitsfrage",
        NoticeEvent.ONLINE_ACCOUNT_CHANGED: "Ihr Online-Konto",
        NoticeEvent.EMAIL_CHANGED: "die E-Mail-Adresse Ihres Kundenkontos",
        NoticeEvent.POSTAL_ADDRESS_CHANGED: "die Postanschrift Ihres Kundenkontos",
        NoticeEvent.TELEPHONE_NUMBER_CHANGED: "eine Telefonnummer Ihres Kundenkontos",
    },
}

CHANGE = {
    "en": (
        "Your account was changed",
        "{carrier}: on {when} we changed {what}. If you asked for this, there is nothing to do. "
        "If you did not, call {support} right away so that we can protect your account.",
    ),
    "de": (
        "Ihr Kundenkonto wurde geändert",
        "{carrier}: Am {when} haben wir {what} geändert. Wenn Sie das veranlasst haben, ist nichts "
        "weiter zu tun. Wenn nicht, rufen Sie bitte sofort {support} an, damit wir Ihr Konto schützen.",
    ),
}

OTHER = {
    "en": {
        NoticeEvent.ACCOUNT_LOCKED: (
            "Sign-in attempts on your account",
            "{carrier}: after several wrong attempts on {when} we paused access to your account "
            "details for a while. If this was not you, call {support}.",
        ),
        NoticeEvent.ONE_TIME_CODE: (
            "Your one-time code",
            "{carrier}: your one-time code is {code}. It works once and expires in {minutes} minutes. "
            "We will never ask you for it on a call we make.",
        ),
        NoticeEvent.CALL_DETAIL: (
            "The call records you asked for",
            "{carrier}: as requested on {when}, the records of your calls are enclosed ({count} calls). "
            "If you did not ask for them, call {support}.",
        ),
        NoticeEvent.OPT_OUT_NOTICE: (
            "Your choices about your customer information (CPNI)",
            "{carrier}: Federal law gives you the right, and gives us the duty, to protect the "
            "confidentiality of your customer proprietary network information (CPNI): the services "
            "you buy from us, how you use them (such as the numbers you call, when and how long), "
            "and the details on your bills. Unless you tell us not to, we, our affiliates that "
            "provide communications services and our agents will use your CPNI to offer you "
            "communications services that suit you. You may refuse, or withdraw your approval, at "
            "any time and at no cost: {steps} Refusing does not change any service you have with "
            "us. We will not use your CPNI this way until {days} days after this notice; your "
            "choice lasts until you change it.",
        ),
        NoticeEvent.OPT_OUT_RECORDED: (
            "We recorded your choice",
            "{carrier}: on {when} we recorded that you do not want us to use your customer "
            "information (CPNI) for marketing. This lasts until you tell us otherwise. Your "
            "services are not affected.",
        ),
        NoticeEvent.OPT_OUT_CONFIRM: (
            "Please confirm your request",
            "{carrier}: we received a request to stop using customer information for marketing, "
            "but we cannot match this address to an account. To protect the account holder, "
            "please make the request from the email address or telephone number on your account, "
            "or call {support}.",
        ),
        NoticeEvent.PRIVACY_POLICY_CHANGED: (
            "Our privacy policy is changing",
            "{carrier}: we have updated our privacy policy. Version {version} takes effect on "
            "{effective}. You can read the whole policy on our website, or call {support} and we "
            "will send you a copy. What changes: {summary}",
        ),
        NoticeEvent.BILLS: (
            "The bills you asked for",
            "{carrier}: as requested on {when}, your bills are enclosed ({count} bills). "
            "If you did not ask for them, call {support}.",
        ),
    },
    "de": {
        NoticeEvent.ACCOUNT_LOCKED: (
            "Anmeldeversuche bei Ihrem Kundenkonto",
            "{carrier}: Nach mehreren falschen Versuchen am {when} haben wir den Zugang zu Ihren "
            "Kontodaten vorübergehend gesperrt. Wenn Sie das nicht waren, rufen Sie {support} an.",
        ),
        NoticeEvent.ONE_TIME_CODE: (
            "Ihr Einmalcode",
            "{carrier}: Ihr Einmalcode lautet {code}. Er gilt einmal und verfällt in {minutes} Minuten. "
            "Wir fragen Sie bei unseren Anrufen nie danach.",
        ),
        NoticeEvent.CALL_DETAIL: (
            "Die angeforderten Verbindungsdaten",
            "{carrier}: Wie am {when} angefordert, erhalten Sie die Daten Ihrer Anrufe ({count} Anrufe) "
            "als Anlage. Wenn Sie sie nicht angefordert haben, rufen Sie {support} an.",
        ),
        NoticeEvent.OPT_OUT_NOTICE: (
            "Ihre Wahl zu Ihren Kundendaten (CPNI)",
            "{carrier}: Nach US-Bundesrecht haben Sie das Recht und wir die Pflicht, Ihre "
            "Kundennetzdaten (CPNI) vertraulich zu behandeln: die Dienste, die Sie bei uns beziehen, "
            "wie Sie sie nutzen (etwa welche Nummern Sie wann und wie lange anrufen) und die Angaben "
            "auf Ihren Rechnungen. Wenn Sie nicht widersprechen, nutzen wir, unsere verbundenen "
            "Unternehmen für Kommunikationsdienste und unsere Beauftragten Ihre CPNI, um Ihnen "
            "passende Kommunikationsdienste anzubieten. Sie können jederzeit und kostenlos "
            "widersprechen oder Ihre Zustimmung zurückziehen: {steps} Ein Widerspruch ändert "
            "keinen Ihrer Dienste. Wir nutzen Ihre CPNI so frühestens {days} Tage nach dieser "
            "Mitteilung; Ihre Wahl gilt, bis Sie sie ändern.",
        ),
        NoticeEvent.OPT_OUT_RECORDED: (
            "Wir haben Ihre Wahl gespeichert",
            "{carrier}: Am {when} haben wir gespeichert, dass wir Ihre Kundendaten (CPNI) nicht für "
            "Werbung nutzen sollen. Das gilt, bis Sie es ändern. Ihre Dienste bleiben unverändert.",
        ),
        NoticeEvent.OPT_OUT_CONFIRM: (
            "Bitte bestätigen Sie Ihre Anfrage",
            "{carrier}: Wir haben eine Anfrage erhalten, Kundendaten nicht mehr für Werbung zu "
            "nutzen, können diese Adresse aber keinem Kundenkonto zuordnen. Zum Schutz des "
            "Kontoinhabers stellen Sie die Anfrage bitte von der E-Mail-Adresse oder Telefonnummer "
            "Ihres Kontos oder rufen Sie {support} an.",
        ),
        NoticeEvent.PRIVACY_POLICY_CHANGED: (
            "Unsere Datenschutzerklärung ändert sich",
            "{carrier}: Wir haben unsere Datenschutzerklärung überarbeitet. Version {version} gilt ab "
            "dem {effective}. Sie finden die vollständige Erklärung auf unserer Website; unter "
            "{support} schicken wir Ihnen gern eine Kopie. Was sich ändert: {summary}",
        ),
        NoticeEvent.BILLS: (
            "Die angeforderten Rechnungen",
            "{carrier}: Wie am {when} angefordert, erhalten Sie Ihre Rechnungen ({count} Rechnungen) als "
            "Anlage. Wenn Sie sie nicht angefordert haben, rufen Sie {support} an.",
        ),
    },
}


# NOTICE-3, NOTICE-8, NOTICE-9: the precise steps to opt out, for the channel the notice
# travels by. An email can be answered directly (its Reply-To is the marketing mailbox); a
# letter cannot, so it names the mailbox, the postal address and the number instead.
OPT_OUT_STEPS = {
    "en": {
        "email": "reply to this email with the words opt out, or send an email saying opt out to "
        "{marketing_address}; either works at any hour. You may also call {support}.",
        "letter": "send an email with the words opt out to {marketing_address} (at any hour), write "
        "to us at {postal_address}, or call {support}.",
    },
    "de": {
        "email": "Antworten Sie auf diese E-Mail mit den Worten opt out oder schicken Sie eine "
        "E-Mail mit diesen Worten an {marketing_address}; beides geht rund um die Uhr. Sie können "
        "auch {support} anrufen.",
        "letter": "Schicken Sie rund um die Uhr eine E-Mail mit den Worten opt out an "
        "{marketing_address}, schreiben Sie uns an {postal_address} oder rufen Sie {support} an.",
    },
}
OPT_OUT_DEFAULTS = {
    "en": ("the email address on our website", "the address on your bill"),
    "de": ("die E-Mail-Adresse auf unserer Website", "die Anschrift auf Ihrer Rechnung"),
}

DEFAULTS = {
    "en": ("Your telephone company", "the customer care number on your bill"),
    "de": ("Ihre Telefongesellschaft", "die Kundendienstnummer auf Ihrer Rechnung"),
}


def moment_text(at: datetime, language: str) -> str:
    """The time of a change, in Eastern time, as each language writes it."""
    local = at.astimezone(EASTERN)
    if language == "de":
        return local.strftime("%d.%m.%Y um %H:%M Uhr (%Z)")
    return local.strftime("%B %-d, %Y at %-I:%M %p (%Z)")


def render(
    event: NoticeEvent, language: str, at: datetime, carrier: str, support: str, **extra: object
) -> tuple[str, str]:
    """(subject, body) of a notice in the customer's language (English when it is neither). An
    opt-out notice takes `channel` ("email" or "letter"), `marketing_address` and `postal_address`."""
    lang = language if language in CHANGE else "en"
    default_carrier, default_support = DEFAULTS[lang]
    values = {
        "carrier": carrier or default_carrier,
        "support": support or default_support,
        "when": moment_text(at, lang),
        **extra,
    }
    if event in WHAT[lang]:
        subject, body = CHANGE[lang]
        return subject, body.format(what=WHAT[lang][event], **values)
    if event is NoticeEvent.OPT_OUT_NOTICE:
        values["steps"] = _opt_out_steps(lang, values)
    subject, body = OTHER[lang][event]
    return subject, body.format(**values)


def _opt_out_steps(lang: str, values: dict[str, object]) -> str:
    """How to opt out, by `channel` (email or letter; email when not given)."""
    mailbox, postal = OPT_OUT_DEFAULTS[lang]
    steps = OPT_OUT_STEPS[lang]["letter" if values.get("channel") == "letter" else "email"]
    return steps.format(
        support=values["support"],
        marketing_address=values.get("marketing_address") or mailbox,
        postal_address=values.get("postal_address") or postal,
    )
