"""Shared inputs and independent checkers for the invitation tests (ics, messages, preview).

The meetings are copies of the shipped example's, frozen here so the known-good files in
tests/data/ics do not change when someone edits inviter.toml.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import icalendar
import vobject

from inviter.domain import Audience, Meeting, Organizer
from tests.conftest import require_tool

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
ICS_DATA = TESTS / "data" / "ics"

NOW = datetime(2022, 8, 15, 9, 30, tzinfo=UTC)
UID = "f1c0ffee-0000-4000-8000-000000000001@example.org"
MESSAGE_ID = "<0123456789abcdef0123456789abcdef@example.org>"
ORGANIZER = Organizer(name="Troms fylkeskommune, fylkesbiblioteket", email="bibliotek@example.org")
ATTENDEE_EMAIL = "elle.marja.navvu@kafjord.example.org"
ATTENDEE_NAME = "Elle Márjá Ŋávvu"

TEMAMOTE_TROMSO = Meeting(
    slug="temamote-tromso",
    title="Temamøte: Litteratur og kultur",
    template="temamote",
    start=datetime(2022, 11, 9, 10, 0),
    end=datetime(2022, 11, 9, 15, 0),
    location="Tromsø",
    description="Temamøte om handlingsplanens fokusområde litteratur og kultur: bibliotekets "
    "rolle som kulturarena.",
    audience=Audience(roles=("biblioteksjef", "partner")),
)
REGIONMOTE_NORD_TROMS = Meeting(
    slug="regionmote-nord-troms",
    title="Digitalt regionalt møte, Nord-Troms",
    template="regionmote",
    start=datetime(2022, 9, 5, 10, 0),
    end=datetime(2022, 9, 5, 12, 0),
    location="Digitalt møte (videolenke)",
    online_url="https://meet.example.org/handlingsplan-nord-troms",
    description="Oppstart av arbeidet med ny handlingsplan for folkebibliotekene i Troms "
    "2023–2028. Divisjonsdirektør Vibeke Skinstad deltar. Vi ber om at du videresender "
    "invitasjonen til din leder.",
    audience=Audience(roles=("biblioteksjef",), regions=("Nord-Troms",)),
)
BIBLIOTEKSJEFMOTE = Meeting(
    slug="biblioteksjefmote-2022",
    title="Biblioteksjefmøtet for Troms fylke",
    template="biblioteksjefmote",
    start=datetime(2022, 10, 11, 10, 0),
    end=datetime(2022, 10, 12, 15, 0),
    location="Sted kunngjøres senere",
    description="Biblioteksjefmøtet for Troms fylke, høsten 2022, over to dager.\n"
    "Dag 2 er et bibliotekpolitisk seminar om ledelse og handlingsplan.",
    audience=Audience(roles=("biblioteksjef",)),
)


def physical_lines(data: bytes) -> list[bytes]:
    """Split calendar bytes at CRLF; fail on a bare CR or LF."""
    assert data.endswith(b"\r\n")
    lines = data[:-2].split(b"\r\n")
    for line in lines:
        assert b"\r" not in line, line
        assert b"\n" not in line, line
    return lines


def normalized(data: bytes) -> list[object]:
    """Return a calendar as nested, sorted (property, parameters, value) lists.

    What khal's tests/utils.py does for its comparisons: two calendars that mean the same
    normalise alike whatever the order of their properties, parameters and RRULE parts, and
    wherever their lines are folded.
    """

    def walk(component: icalendar.cal.Component) -> list[object]:
        properties = []
        for name, value in component.property_items(recursive=False, sorted=False):
            if name in {"BEGIN", "END"}:
                continue
            raw = value.to_ical() if hasattr(value, "to_ical") else value
            text = raw.decode() if isinstance(raw, bytes) else str(raw)
            if name == "RRULE":
                text = ";".join(sorted(text.split(";")))
            properties.append(text_of(name, component, text))
        children = [walk(child) for child in component.subcomponents]
        return [component.name, sorted(properties), sorted(children, key=repr)]

    def text_of(name: str, component: icalendar.cal.Component, text: str) -> str:
        prop = component.get(name)
        items = prop if isinstance(prop, list) else [prop]
        params = sorted(
            f"{k}={v}" for item in items for k, v in getattr(item, "params", {}).items()
        )
        return f"{name};{';'.join(params)}:{text}"

    return walk(icalendar.Calendar.from_ical(data))


def content_lines(data: bytes) -> list[str]:
    """Return the unfolded content lines (RFC 5545 §3.1), decoded."""
    return data.replace(b"\r\n ", b"").decode("utf-8").split("\r\n")[:-1]


# ---------------------------------------------------------------- ical.js (Thunderbird's parser)


def icaljs(data: bytes) -> dict[str, Any]:
    """Return what tests/js/parse.mjs (ical.js) reads from a calendar."""
    node = require_tool(shutil.which("node"), "node (Node.js)")
    if not (TESTS / "js" / "node_modules" / "ical.js").is_dir():
        require_tool(None, "tests/js/node_modules/ical.js (npm ci in tests/js)")
    done = subprocess.run(
        [node, str(TESTS / "js" / "parse.mjs")],
        input=data,
        capture_output=True,
        cwd=TESTS / "js",
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# ---------------------------------------------------------------- libical's RFC 5546 check


@cache
def _libical_checker(build_dir: str) -> str:
    gcc = require_tool(shutil.which("gcc"), "gcc")
    pkg_config = require_tool(shutil.which("pkg-config"), "pkg-config")
    flags = subprocess.run(
        [pkg_config, "--cflags", "--libs", "libical"],
        capture_output=True,
        text=True,
        check=False,
    )
    if flags.returncode != 0:
        require_tool(None, "libical-dev (libical's headers and pkg-config file)")
    binary = str(Path(build_dir) / "libical-check")
    done = subprocess.run(
        [
            gcc,
            "-Wall",
            "-Werror",
            "-o",
            binary,
            str(TESTS / "libical" / "check.c"),
            *flags.stdout.split(),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return binary


def libical_errors(data: bytes, build_dir: Path) -> list[str]:
    """Return the X-LIC-ERROR lines libical's icalrestriction_check gives (empty: valid)."""
    binary = _libical_checker(str(build_dir))
    done = subprocess.run([binary], input=data, capture_output=True, timeout=60, check=False)
    errors = done.stdout.decode().splitlines()
    assert (done.returncode == 0) == (not errors), (done.returncode, errors)
    return errors


# ---------------------------------------------------------------- vobject


def vobject_event(data: bytes) -> Any:
    """Parse with vobject, validating, and return its VEVENT."""
    calendar = vobject.readOne(data.decode("utf-8"), validate=True)
    return calendar.vevent
