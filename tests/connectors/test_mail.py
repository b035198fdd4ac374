"""The SMTP client against a real SMTP server (aiosmtpd) on loopback: what it sends,
and how it names a refusal: permanent (5xx) or worth another try (4xx, down, slow)."""

from __future__ import annotations

import socket
from email.message import EmailMessage

import pytest

from connectors.delivery import Permanent, Transient
from connectors.mail import SmtpMailer
from demo.mail_catcher import MailCatcher, free_port


def message(to: str = "astrid@example.se") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Tandmottagningen <bokning@tandmottagningen.se>"
    mail["To"] = to
    mail["Subject"] = "Bokningsbekräftelse för Åsa"
    mail.set_content("Hej Åsa! Din tid är bokad.")
    mail.add_alternative("<p>Hej Åsa!</p>", subtype="html")
    return mail


@pytest.fixture
def catcher():
    with MailCatcher() as running:
        yield running


def test_a_message_arrives_whole(catcher):
    SmtpMailer("127.0.0.1", catcher.port, timeout_s=5).send(message())
    [caught] = catcher.messages
    assert caught.mail_from == "bokning@tandmottagningen.se"
    assert caught.rcpt_tos == ["astrid@example.se"]
    assert caught.subject == "Bokningsbekräftelse för Åsa"
    assert caught.text.strip() == "Hej Åsa! Din tid är bokad."
    assert caught.html.strip() == "<p>Hej Åsa!</p>"


def test_a_5xx_refusal_of_the_recipient_is_permanent(catcher):
    catcher.refuse["nobody@example.se"] = "550 5.1.1 No such user here"
    with pytest.raises(Permanent, match=r"550 5\.1\.1 No such user here"):
        SmtpMailer("127.0.0.1", catcher.port, timeout_s=5).send(message("nobody@example.se"))
    assert catcher.messages == []


def test_a_4xx_refusal_is_temporary(catcher):
    catcher.refuse["busy@example.se"] = "451 4.3.0 Mailbox busy, try later"
    with pytest.raises(Transient, match="451"):
        SmtpMailer("127.0.0.1", catcher.port, timeout_s=5).send(message("busy@example.se"))


def test_a_server_that_is_down_is_temporary():
    port = free_port()  # nothing listens there
    with pytest.raises(Transient, match=r"Connection ?Refused|Connection refused"):
        SmtpMailer("127.0.0.1", port, timeout_s=5).send(message())


def test_a_server_that_never_answers_times_out_as_temporary():
    # It accepts the connection (the kernel's backlog) but never says hello.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        with pytest.raises(Transient, match="timed out"):
            SmtpMailer("127.0.0.1", port, timeout_s=0.5).send(message())


def test_a_refused_login_is_temporary_configuration(catcher):
    # The catcher offers no AUTH: logging in fails, which an operator has to fix.
    with pytest.raises(Transient, match="SMTP"):
        SmtpMailer("127.0.0.1", catcher.port, "user", "secret", timeout_s=5).send(message())
