"""An SMTP server in its own process for the benchmarks: tests/smtpd.py's recording aiosmtpd.

Run by the benchmarks, not by hand: ``python benchmarks/smtp_sink.py --delay 0.05 [--tls]``
prints ``PORT <n>`` (and ``CA <file>`` with --tls), then answers commands on stdin, one a line:
``stats`` prints a JSON line (messages, distinct recipients, connections, peak connections);
``reset`` forgets what was received; end of input stops the server.

In its own process so that the server's work does not share the GIL with the sender being
measured (a remote relay does not either).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.smtpd import Certificates, RecordingHandler, SmtpServer

USER, PASSWORD = "bibliotek@example.org", "benchmark-passord"


def main() -> None:
    """Serve until stdin closes."""
    # aiosmtpd logs a warning on every login that Session.login_data is deprecated (through
    # its "mail.log" logger, not the warnings module; tests/smtpd.py's authenticator does not
    # use it): a line on stderr a login would drown the figures and cost the server a write
    # for every one of the baseline's messages.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds held after DATA")
    parser.add_argument("--tls", action="store_true", help="STARTTLS and a password login")
    args = parser.parse_args()
    handler = RecordingHandler(delay=args.delay, users={USER: PASSWORD})
    with tempfile.TemporaryDirectory() as folder:
        if args.tls:
            certificates = Certificates(Path(folder))
            server = SmtpServer(handler, tls="starttls", certificates=certificates, auth=True)
        else:
            server = SmtpServer(handler)
        with server:
            print(f"PORT {server.port}", flush=True)
            if args.tls:
                print(f"CA {certificates.ca_file}", flush=True)
            for line in sys.stdin:
                command = line.strip()
                with handler.lock:
                    if command == "stats":
                        stats = {
                            "messages": len(handler.messages),
                            "recipients": len({m.recipients[0] for m in handler.messages}),
                            "connections": handler.connections_seen,
                            "peak_connections": handler.peak_connections,
                            "logins": len(handler.logins),
                        }
                        print(json.dumps(stats), flush=True)
                    elif command == "reset":
                        handler.messages.clear()
                        handler.logins.clear()
                        handler.commands.clear()
                        handler.connections_seen = 0
                        handler.peak_connections = 0
                        print("OK", flush=True)


if __name__ == "__main__":
    main()
