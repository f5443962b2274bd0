"""contacts import with CSV: the shipped sample, the dialects Excel writes, and hostile files."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from inviter.locale.regions import MUNICIPALITIES, OFFICIAL_NAMES

from .conftest import Invoke
from .contacts_support import HEADER, assert_refused, emails, stored, write_csv

KARI = "Kari Nordmann,kari.nordmann@kafjord.example.org,biblioteksjef,Kåfjord,,,,,"
ODD = "Odd Olsen,odd.olsen@harstad.example.org,ordfører,Harstad,,,,,"


def _listed(invoke: Invoke, *args: str) -> list[dict[str, str]]:
    result = invoke("contacts", "list", "--json", *args)
    assert result.exit_code == 0, result.stderr
    value: list[dict[str, str]] = json.loads(result.stdout)
    return value


# ---------------------------------------------------------------- the shipped sample


def test_shipped_sample_imports_every_municipality(invoke: Invoke) -> None:
    result = invoke("contacts", "import", "contacts/troms.csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "contacts/troms.csv: 36 added, 0 updated, 0 unchanged\n"
    heads = _listed(invoke, "--role", "biblioteksjef")
    # Each by its whole official name: Gáivuotna – Kåfjord – Kaivuono, not Kåfjord (SSB).
    assert sorted(c["municipality"] for c in heads) == sorted(
        OFFICIAL_NAMES.get(m, m) for m in MUNICIPALITIES
    )
    per_region: dict[str, int] = {}
    for contact in heads:
        per_region[contact["region"]] = per_region.get(contact["region"], 0) + 1
    assert per_region == {"Nord-Troms": 6, "Tromsø og omegn": 3, "Midt-Troms": 6, "Sør-Troms": 6}
    everyone = _listed(invoke)
    assert all(re.fullmatch(r"[a-z.-]+@([a-z]+\.)?example\.org", c["email"]) for c in everyone)
    leaders = [c for c in everyone if c["role"] in ("kommunedirektør", "kommunalsjef", "ordfører")]
    assert len(leaders) == 12
    assert {c["region"] for c in leaders} == set(per_region)
    assert [c["email"] for c in everyone if c["language"] == "en"] == [
        "emma.clarke@uit.example.org",
        "sarah.lindqvist@tromso.example.org",
        "michael.brennan@bardu.example.org",
    ]
    partners = [c for c in everyone if c["role"] == "partner"]
    assert {c["organization"] for c in partners} == {
        "Troms fylkeskommune, fylkesbiblioteket",
        "Sámediggi – Sametinget, Sámi girjerádjosbálvalus",
        "Universitetsbiblioteket, UiT Norges arktiske universitet",
    }
    names = "".join(c["name"] for c in everyone)
    assert all(letter in names.casefold() for letter in "æøåáčđŋšŧž")


def test_nord_troms_lists_exactly_its_people(invoke: Invoke) -> None:
    invoke("contacts", "import", "contacts/troms.csv")
    listed = _listed(invoke, "--region", "Nord-Troms")
    # Norwegian alphabetical order: å comes after z, so Kvænangen before Kåfjord.
    assert [(c["name"], c["role"], c["municipality"]) for c in listed] == [
        ("Sissel Kvalvik", "biblioteksjef", "Kvænangen"),
        ("Elle Márjá Ŋávvu", "biblioteksjef", "Gáivuotna – Kåfjord – Kaivuono"),
        ("Niillas Đuolbma", "kommunedirektør", "Gáivuotna – Kåfjord – Kaivuono"),
        ("Aslak Čuđđi", "biblioteksjef", "Lyngen"),
        ("Ola Steinnes", "kommunalsjef", "Lyngen"),
        ("Kristine Hætta", "ordfører", "Nordreisa – Ráisa – Raisi"),
        ("Liisa Raappana", "biblioteksjef", "Nordreisa – Ráisa – Raisi"),
        ("Tor Åge Strømsnes", "biblioteksjef", "Skjervøy"),
        ("Ánte Ŧávgi", "biblioteksjef", "Storfjord – Omasvuotna – Omasvuono"),
    ]
    assert listed[1] == {
        "name": "Elle Márjá Ŋávvu",
        "email": "elle.marja.navvu@kafjord.example.org",
        "role": "biblioteksjef",
        "municipality": "Gáivuotna – Kåfjord – Kaivuono",
        "region": "Nord-Troms",
        "organization": "Kåfjord folkebibliotek",
        "title": "Biblioteksjef",
        "phone": "+47 777 00 101",
        "language": "nb",
    }
    # Filters take any spelling a user may type: case, Sámi and combined names.
    assert _listed(invoke, "--region", "nord-troms") == listed
    by_sami = _listed(invoke, "--municipality", "Gáivuotna", "--role", "Biblioteksjef")
    assert [c["name"] for c in by_sami] == ["Elle Márjá Ŋávvu"]


def test_list_table_for_a_person(invoke: Invoke) -> None:
    invoke("contacts", "import", "contacts/troms.csv")
    result = invoke("contacts", "list", "--municipality", "Loabák – Lavangen")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["name", "email", "role", "municipality", "region", "organization"]
    assert lines[2].startswith("Jon Erik Ánddir  ")
    assert lines[3].startswith("Máret Rávdná Kappfjell  maret.ravdna.kappfjell@lavangen.")
    assert lines[-1] == "2 contacts"
    assert invoke("contacts", "list", "--region", "Finnmark", "--role", "ordfører").stdout == (
        "No contacts.\n"
    )


def test_importing_again_updates_never_duplicates(invoke: Invoke, project: Path) -> None:
    invoke("contacts", "import", "contacts/troms.csv")
    first = stored(project)
    again = invoke("contacts", "import", "contacts/troms.csv")
    assert again.stdout == "contacts/troms.csv: 0 added, 0 updated, 36 unchanged\n"
    assert stored(project) == first
    changed = write_csv(
        project / "contacts" / "changes.csv",
        f"{HEADER}\n"
        "Elle Márjá Ŋávvu,ELLE.MARJA.NAVVU@Kafjord.Example.org,biblioteksjef,Kåfjord,,"
        "Kåfjord bibliotek,Biblioteksjef,,\n"
        f"{KARI}\n",
    )
    result = invoke("contacts", "import", str(changed.relative_to(project)))
    assert result.stdout == "contacts/changes.csv: 1 added, 1 updated, 0 unchanged\n"
    assert len(emails(project)) == 37
    [elle] = [c for c in _listed(invoke) if c["name"] == "Elle Márjá Ŋávvu"]
    assert elle["organization"] == "Kåfjord bibliotek"
    assert elle["phone"] == ""
    assert elle["email"] == "elle.marja.navvu@kafjord.example.org"


# ---------------------------------------------------------------- dialects


@pytest.mark.parametrize(
    ("encoding", "delimiter", "newline", "prefix"),
    [
        ("utf-8", ",", "\n", ""),
        ("utf-8", ",", "\r\n", "\ufeff"),
        ("utf-8", ";", "\r\n", "\ufeff"),  # Excel's "CSV UTF-8" in a Norwegian locale
        ("cp1252", ";", "\r\n", ""),  # Excel's plain "CSV" on Norwegian Windows
        ("cp1252", ",", "\r", ""),  # old Excel for Mac: CR alone
        ("utf-8", ";", "\n", "sep=;\n"),  # Excel's delimiter hint line
    ],
)
def test_excel_dialects(
    invoke: Invoke, project: Path, encoding: str, delimiter: str, newline: str, prefix: str
) -> None:
    rows = [
        "Navn;E-post;Rolle;Kommune;Tittel",
        "Ørjan Ålesund;orjan@kvafjord.example.org;Biblioteksjef;Kvæfjord;Biblioteksjef",
        '"Sørensen; Åse";ase@tromso.example.org;partner;Tromsø;"Rådgiver; ""lesing"""',
    ]
    text = prefix + newline.join(r.replace(";", delimiter) for r in rows) + newline
    path = write_csv(project / "excel.csv", text, encoding)
    result = invoke("contacts", "import", path.name)
    assert result.stderr == ""
    assert result.stdout == "excel.csv: 2 added, 0 updated, 0 unchanged\n"
    listed = [(c["name"], c["email"], c["role"], c["region"], c["title"]) for c in _listed(invoke)]
    assert listed == [
        (f"Sørensen{delimiter} Åse", "ase@tromso.example.org", "partner", "Tromsø og omegn",
         f'Rådgiver{delimiter} "lesing"'),
        ("Ørjan Ålesund", "orjan@kvafjord.example.org", "biblioteksjef", "Sør-Troms",
         "Biblioteksjef"),
    ]  # fmt: skip


def test_quoted_fields_hold_commas_and_columns_come_in_any_order(
    invoke: Invoke, project: Path
) -> None:
    path = write_csv(
        project / "any-order.csv",
        "Municipality,EMAIL,Role,Organization,Name,Phone\n"
        '"Gáivuotna – Kåfjord – Kaivuono",kari@kafjord.example.org,biblioteksjef,'
        '"Kåfjord kommune, biblioteket","Nordmann, Kari",+47 777 00 000\n'
        "\n"  # a blank line is skipped
        "Tromsø,per@tromso.example.org,partner,,Per Paulsen\n",  # short row: the rest empty
    )
    result = invoke("contacts", "import", path.name)
    assert result.stdout == "any-order.csv: 2 added, 0 updated, 0 unchanged\n"
    kari, per = _listed(invoke)
    assert kari["name"] == "Nordmann, Kari"
    assert kari["organization"] == "Kåfjord kommune, biblioteket"
    assert kari["municipality"] == "Gáivuotna – Kåfjord – Kaivuono"
    assert (per["name"], per["phone"], per["language"]) == ("Per Paulsen", "", "nb")


def test_html_in_a_name_is_kept_as_text(invoke: Invoke, project: Path) -> None:
    name = '<b>Kari</b> <script>alert("x")</script> & Co'
    path = write_csv(
        project / "html.csv",
        f'{HEADER}\n"{name.replace(chr(34), chr(34) * 2)}",k@kafjord.example.org,partner,Kåfjord\n',
    )
    assert invoke("contacts", "import", path.name).exit_code == 0
    assert _listed(invoke)[0]["name"] == name
    table = invoke("contacts", "list").stdout
    assert name in table


def test_outside_troms_needs_a_region(invoke: Invoke, project: Path) -> None:
    path = write_csv(
        project / "nordland.csv",
        f"{HEADER}\nNora Berg,nora@bodo.example.org,partner,Bodø,Nordland,,,,en-GB\n",
    )
    assert invoke("contacts", "import", path.name).exit_code == 0
    [nora] = _listed(invoke, "--region", "Nordland")
    assert (nora["municipality"], nora["language"]) == ("Bodø", "en")


# ---------------------------------------------------------------- refused rows


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "Kari,kari@,biblioteksjef,Kåfjord",
            "line 3: email: 'kari@' is not a valid e-mail address: There must be something "
            "after the @-sign.",
        ),
        (
            "Kari,kari@kafjord.example.org;odd@x.example.org,biblioteksjef,Kåfjord",
            "line 3: email: 'kari@kafjord.example.org;odd@x.example.org' is not one plain "
            "address (no name, comma or spaces)",
        ),
        (
            "Kari,Kari <kari@kafjord.example.org>,biblioteksjef,Kåfjord",
            "line 3: email: 'Kari <kari@kafjord.example.org>' is not one plain address "
            "(no name, comma or spaces)",
        ),
        (
            '"Kari\r\nBcc: all@example.org",kari@kafjord.example.org,biblioteksjef,Kåfjord',
            "line 3: name: 'Kari\\r\\nBcc: all@example.org' contains a carriage return (CR)",
        ),
        (
            '"Kari\nNordmann",kari@kafjord.example.org,biblioteksjef,Kåfjord',
            "line 3: name: 'Kari\\nNordmann' contains a line feed (LF)",
        ),
        (
            "Kari\u2028Nordmann,kari@kafjord.example.org,biblioteksjef,Kåfjord",
            "line 3: name: 'Kari\\u2028Nordmann' contains the control character U+2028",
        ),
        (
            "=?utf-8?q?Kari=0ABcc:_x?=,kari@kafjord.example.org,biblioteksjef,Kåfjord",
            "line 3: name: '=?utf-8?q?Kari=0ABcc:_x?=' contains an RFC 2047 encoded word "
            "(=?…?=); write the text itself",
        ),
        (
            "Kari,kari@kafjord.example.org,biblioteksjef,Kåfjord,,,Sjef\x1b[31m",
            "line 3: title: 'Sjef\\u001b[31m' contains the control character U+001B",
        ),
        (
            f"{'K' * 201},kari@kafjord.example.org,biblioteksjef,Kåfjord",
            f"line 3: name: '{'K' * 59}…' is 201 characters long; at most 200",
        ),
        (
            ",kari@kafjord.example.org,biblioteksjef,Kåfjord",
            "line 3: name: is empty; every contact needs a name, email, role and municipality",
        ),
        (
            "Kari,kari@kafjord.example.org,biblioteksjef,Kåfjord,Sør-Troms",
            "line 3: region: 'Sør-Troms' does not match Gáivuotna – Kåfjord – Kaivuono, "
            "which is in Nord-Troms",
        ),
        (
            "Kari,kari@bodo.example.org,biblioteksjef,Bodø",
            "line 3: region: is empty and 'Bodø' is not a municipality of Troms; give the region",
        ),
        (
            "Kari,kari@kafjord.example.org,biblioteksjef,Kåfjord,,,,,se",
            "line 3: language: 'se' is not supported; use nb or en",
        ),
        (
            "Kari,kari@kafjord.example.org,biblioteksjef,Kåfjord,,,,ring meg,",
            "line 3: phone: 'ring meg' is not a phone number (digits, spaces, + - ( ) . /)",
        ),
        (
            "Kari,kari@kafjord.example.org,biblioteksjef,Kåfjord,,,,,,extra",
            "line 3: 10 values where the header has 9 columns; quote a value that holds a ','",
        ),
        (
            '"Kari,kari@kafjord.example.org,biblioteksjef,Kåfjord',
            'line 3: a quoted value is not closed (a " is missing)',
        ),
        (
            f'"{"x" * 140_000}",kari@kafjord.example.org,biblioteksjef,Kåfjord',
            "line 3: a value is longer than 131072 characters",
        ),
        (
            "Ka\x00ri,kari@kafjord.example.org,biblioteksjef,Kåfjord",
            "line 3: name: 'Ka\\u0000ri' contains the control character U+0000",
        ),
    ],
)
def test_a_bad_row_rejects_the_whole_file(
    invoke: Invoke, project: Path, row: str, message: str
) -> None:
    invoke("contacts", "import", "contacts/troms.csv")
    path = write_csv(project / "bad.csv", f"{HEADER}\n{ODD}\n{row}\n{KARI.replace('kari', 'k2')}\n")
    assert_refused(invoke, project, f"bad.csv: {message}", "contacts", "import", "bad.csv")
    assert "odd.olsen@harstad.example.org" not in emails(project)
    assert path.exists()


def test_duplicates_differing_in_case_name_both_lines(invoke: Invoke, project: Path) -> None:
    write_csv(
        project / "dup.csv",
        f"{HEADER}\n{KARI}\n{ODD}\n"
        "Kari N.,Kari.Nordmann@KAFJORD.example.org,biblioteksjef,Kåfjord,,,,,\n",
    )
    assert_refused(
        invoke,
        project,
        "dup.csv: line 4: email: 'Kari.Nordmann@KAFJORD.example.org' is the same address as "
        "'kari.nordmann@kafjord.example.org' on line 2; keep one of them",
        "contacts",
        "import",
        "dup.csv",
    )
    assert stored(project) == []


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            "name,e-mail,role,municipality",
            "line 1: unknown column 'e-mail' (did you mean 'email'?); the columns are name, "
            "email, role, municipality, region, organization, title, phone, language",
        ),
        (
            "name,email,municipality",
            "line 1: missing column role (required: name, email, role, municipality)",
        ),
        (
            "email,phone",
            "line 1: missing columns name, role, municipality (required: name, email, role, "
            "municipality)",
        ),
        ("name,email,role,municipality,e-post", "line 1: columns 2 and 5 are both email"),
        (
            "Kari Nordmann,kari@kafjord.example.org,biblioteksjef,Kåfjord",
            "line 1: unknown column 'Kari Nordmann'; the columns are name, email, role, "
            "municipality, region, organization, title, phone, language",
        ),
    ],
)
def test_header_problems(invoke: Invoke, project: Path, header: str, message: str) -> None:
    write_csv(project / "head.csv", f"{header}\n{KARI}\n")
    assert_refused(invoke, project, f"head.csv: {message}", "contacts", "import", "head.csv")


def test_values_under_an_empty_header_are_refused(invoke: Invoke, project: Path) -> None:
    # Excel's trailing separators under no header are fine; a value there is not.
    write_csv(project / "trail.csv", f"name,email,role,municipality,,\n{KARI[:-5]},,\n")
    assert invoke("contacts", "import", "trail.csv").exit_code == 0
    write_csv(project / "stray.csv", f"name,email,role,municipality,,\n{ODD[:-5]},,oops\n")
    assert_refused(
        invoke,
        project,
        "stray.csv: line 2: a value in column 6, which has no header",
        "contacts",
        "import",
        "stray.csv",
    )


# ---------------------------------------------------------------- encodings and files


def test_an_undecodable_byte_is_named_with_its_line(invoke: Invoke, project: Path) -> None:
    # 0x81 is undefined in Windows-1252 and not UTF-8 on its own.
    data = f"{HEADER}\n{ODD}\nKari\x81,kari@kafjord.example.org,partner,Kåfjord\n".encode("latin-1")
    (project / "bytes.csv").write_bytes(data)
    assert_refused(
        invoke,
        project,
        "bytes.csv: line 3: byte 0x81 is neither UTF-8 nor Windows-1252; save the file as "
        "CSV UTF-8",
        "contacts",
        "import",
        "bytes.csv",
    )


def test_a_file_mixing_encodings_is_refused(invoke: Invoke, project: Path) -> None:
    # UTF-8 on line 2, then a Windows-1252 "ø": decoding it all as either would garble names.
    tail = f"{ODD}\nSølvi,s@harstad.example.org,partner,Harstad\n"
    data = f"{HEADER}\n{KARI}\n".encode() + tail.encode("cp1252")
    (project / "mixed.csv").write_bytes(data)
    assert_refused(
        invoke,
        project,
        "mixed.csv: line 3: byte 0xF8 is not UTF-8, though the text before it is; the file "
        "mixes encodings: fix that line or save the file again as CSV UTF-8",
        "contacts",
        "import",
        "mixed.csv",
    )


def test_other_unusable_files(invoke: Invoke, project: Path) -> None:
    (project / "utf16.csv").write_bytes(f"{HEADER}\n{KARI}\n".encode("utf-16"))
    assert_refused(
        invoke,
        project,
        "utf16.csv: is UTF-16 (Excel's 'Unicode Text'); save it as 'CSV UTF-8' instead",
        "contacts",
        "import",
        "utf16.csv",
    )
    (project / "empty.csv").write_bytes(b"")
    assert_refused(invoke, project, "empty.csv: is empty", "contacts", "import", "empty.csv")
    write_csv(project / "header.csv", HEADER + "\r\n\r\n")
    assert_refused(
        invoke,
        project,
        "header.csv: holds no contacts, only a header row",
        "contacts",
        "import",
        "header.csv",
    )
    assert_refused(
        invoke,
        project,
        "missing.csv: cannot be read: No such file or directory",
        "contacts",
        "import",
        "missing.csv",
    )


def test_a_file_over_the_size_limit_is_refused(
    invoke: Invoke, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = project / "big.csv"
    with big.open("wb") as out:
        out.write(f"{HEADER}\n".encode())
        out.truncate(50 * 1024 * 1024 + 1)  # sparse: no 50 MB written to disk
    assert_refused(
        invoke,
        project,
        "big.csv: is 52.4 MB; the limit is 50 MB, split the file",
        "contacts",
        "import",
        "big.csv",
    )


def test_several_files_are_all_or_nothing(invoke: Invoke, project: Path) -> None:
    write_csv(project / "good.csv", f"{HEADER}\n{KARI}\n")
    write_csv(project / "bad.csv", f"{HEADER}\n{ODD}\nX,x@,partner,Harstad\n")
    assert_refused(
        invoke,
        project,
        "bad.csv: line 3: email: 'x@' is not a valid e-mail address: There must be something "
        "after the @-sign.",
        "contacts",
        "import",
        "good.csv",
        "bad.csv",
    )
    write_csv(project / "later.csv", f"{HEADER}\n{KARI.replace('Kåfjord,', 'Kåfjord,,Ny,')}\n")
    result = invoke("contacts", "import", "good.csv", "later.csv", "contacts/troms.csv")
    assert result.stdout == (
        "good.csv: 1 added, 0 updated, 0 unchanged\n"
        "later.csv: 0 added, 1 updated, 0 unchanged\n"
        "contacts/troms.csv: 36 added, 0 updated, 0 unchanged\n"
        "In all: 37 added, 1 updated, 0 unchanged\n"
    )
    [kari] = [c for c in _listed(invoke) if c["name"] == "Kari Nordmann"]
    assert kari["organization"] == "Ny"


# ---------------------------------------------------------------- 10,000 rows


def _rows(count: int) -> list[str]:
    towns = list(MUNICIPALITIES)
    return [
        f"Person {i} Ødegård,person{i}@example.org,"
        f"biblioteksjef,{towns[i % 21]},,Bibliotek {i},Bibliotekar,+47 777 {i:05d},nb"
        for i in range(count)
    ]


def test_ten_thousand_rows_import_and_update(invoke: Invoke, project: Path) -> None:
    rows = _rows(10_000)
    write_csv(project / "big.csv", HEADER + "\r\n" + "\r\n".join(rows) + "\r\n")
    result = invoke("contacts", "import", "big.csv")
    assert result.stdout == "big.csv: 10000 added, 0 updated, 0 unchanged\n"
    rows[5000] = rows[5000].replace("Bibliotekar", "Biblioteksjef")
    write_csv(project / "big.csv", HEADER + "\n" + "\n".join(rows) + "\n")
    result = invoke("contacts", "import", "big.csv")
    assert result.stdout == "big.csv: 0 added, 1 updated, 9999 unchanged\n"
    with sqlite3.connect(project / "inviter.db") as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT email) FROM contacts").fetchone() == (
            10_000,
            10_000,
        )
        assert conn.execute(
            "SELECT title FROM contacts WHERE email = 'person5000@example.org'"
        ).fetchone() == ("Biblioteksjef",)


def test_one_bad_row_near_the_end_of_ten_thousand_rejects_all(
    invoke: Invoke, project: Path
) -> None:
    rows = _rows(10_000)
    rows[9_997] = rows[9_997].replace("@", "@@")  # the header is line 1: this is line 9,999
    write_csv(project / "big.csv", HEADER + "\n" + "\n".join(rows) + "\n")
    assert_refused(
        invoke,
        project,
        "big.csv: line 9999: email: 'person9997@@example.org' is not a valid e-mail "
        "address: The part after the @-sign contains invalid characters: '@'.",
        "contacts",
        "import",
        "big.csv",
    )
    assert stored(project) == []


def test_sami_letters_lost_by_excel_are_refused_naming_the_rows(
    invoke: Invoke, project: Path
) -> None:
    # What Excel's "CSV (semikolonseparert)" makes of Elle Márjá Ŋávvu: Windows-1252 has á but
    # no Ŋ, so it writes "?". Importing that would store the wrong name for good.
    rows = (
        "navn;e-post;rolle;kommune\r\n"
        "Elle Márjá ?ávvu;elle@kafjord.example.org;biblioteksjef;Kåfjord\r\n"
        "Kari Nordmann;kari@tromso.example.org;biblioteksjef;Tromsø\r\n"
        "Aslak ?u??i;aslak@lyngen.example.org;biblioteksjef;Lyngen\r\n"
    )
    (project / "excel.csv").write_bytes(rows.encode("cp1252"))
    result = invoke("contacts", "import", "excel.csv")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: excel.csv: lines 2, 4: letters replaced by '?' ('Elle Márjá ?ávvu'); Excel's "
        "'CSV (semikolonseparert)' cannot hold Sámi letters: save the file as "
        "'CSV UTF-8 (kommadelt)' and import it again\n"
    )
    assert json.loads(invoke("contacts", "list", "--json").stdout) == []  # nothing imported


def test_every_bad_row_is_named_at_once(project: Path, invoke: Invoke) -> None:
    # Issue 18: staff fix a file in one go, not a row per attempt.
    rows = [
        "Kari Nordmann,kari@example.org,biblioteksjef,Tromsø",
        "Ola,ola@,biblioteksjef,Tromsø",
        "Per,per@example.org,biblioteksjef,Atlantis",
        "Kari igjen,KARI@example.org,partner,Tromsø",
    ]
    path = project / "lister.csv"
    path.write_text("name,email,role,municipality\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = invoke("contacts", "import", str(path))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == f"Error: {path}: 3 rows cannot be imported; nothing was imported:"
    assert [line.split(": ")[1] for line in lines[1:]] == ["line 3", "line 4", "line 5"]
    assert "is the same address as 'kari@example.org' on line 2" in lines[3]
    assert emails(project) == []  # nothing of it: the good row neither


def test_at_most_fifty_bad_rows_are_named(project: Path, invoke: Invoke) -> None:
    path = project / "lister.csv"
    bad = "\n".join(f"Person {n},person{n}@,biblioteksjef,Tromsø" for n in range(80))
    path.write_text("name,email,role,municipality\n" + bad + "\n", encoding="utf-8")
    result = invoke("contacts", "import", str(path))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"Error: {path}: 50 rows cannot be imported (the first 50; the reading stopped there); "
        "nothing was imported:"
    )
    assert len(lines) == 51
