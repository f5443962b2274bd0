"""TLS for the mail servers: one client context per server, built from its settings."""

from __future__ import annotations

import ssl

from inviter.config import MailServerSettings
from inviter.errors import ConfigError
from inviter.translation import _


def client_context(settings: MailServerSettings, section: str) -> ssl.SSLContext:
    """Return a context that checks the server's certificate and host name.

    It trusts the system's certificate authorities, or only ``ca_file`` when one is set (a
    private CA). ``validate_certs = false`` turns both checks off. Raise ConfigError naming the
    ``[section] ca_file`` that cannot be read. Built once and shared by every connection of a
    run: loading the system's authorities costs ~10 ms of CPU, which aiosmtplib spent again
    for every connection it opened (benchmarks/RESULTS.md §1, STARTTLS).
    """
    try:
        context = ssl.create_default_context(cafile=settings.ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            _("[{section}] ca_file: '{file}' cannot be used: {reason}").format(
                section=section, file=settings.ca_file, reason=exc
            )
        ) from None
    if not settings.validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
