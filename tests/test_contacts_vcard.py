"""contacts import with vCard files in the shapes Outlook, Google, Apple and CardDAV export."""

from __future__ import annotations

import json
import shutil
import unicodedata
from pathlib import Path

import pytest
import vobject

from .conftest import DATA, Invoke
from .contacts_support import assert_refused, stored

SAMPLES = DATA / "contacts"


@pytest.fixture
def vcards(project: Path) -> Path:
    """Copy the sample vCards into the project folder (so messages name them shortly)."""
    folder = project / "vcards"
    shutil.copytree(SAMPLES, folder)
    return folder


def _listed(invoke: Invoke) -> dict[str, dict[str, str]]:
    result = invoke("contacts", "list", "--json")
    assert result.exit_code == 0, result.stderr
    return {c["email"]: c for c in json.loads(result.stdout)}


def _card(*lines: str) -> str:
    return "\r\n".join(("BEGIN:VCARD", "VERSION:3.0", *lines, "END:VCARD")) + "\r\n"


def _write(project: Path, name: str, text: str) -> str:
    (project / name).write_bytes(text.encode())
    return name


def test_outlook_vcard_2_1(invoke: Invoke, vcards: Path) -> None:
    result = invoke("contacts", "import", "vcards/outlook-2.1.vcf")
    assert result.stderr == ""
    assert result.stdout == "vcards/outlook-2.1.vcf: 2 added, 0 updated, 0 unchanged\n"
    listed = _listed(invoke)
    assert listed["ingeborg.odegard@senja.example.org"] == {
        "name": "Ingeborg Ødegård",  # Windows-1252 bytes
        "email": "ingeborg.odegard@senja.example.org",
        "role": "biblioteksjef",  # CATEGORIES
        "municipality": "Senja",  # CATEGORIES; the ADR locality Finnsnes is a town in Senja
        "region": "Midt-Troms",
        "organization": "Senja kommune, Senja bibliotek",
        "title": "Biblioteksjef",
        "phone": "+47 777 00 110",  # the voice number, not the fax listed first
        "language": "nb",
    }
    elle = listed["elle.marja.navvu@kafjord.example.org"]
    assert elle["name"] == "Elle Márjá Ŋávvu"  # quoted-printable UTF-8 in a Windows-1252 file
    assert (
        elle["municipality"] == "Gáivuotna – Kåfjord – Kaivuono"
    )  # ADR locality, quoted-printable over two lines
    assert (elle["organization"], elle["phone"]) == ("Kåfjord folkebibliotek", "+47 777 00 101")


def test_google_vcard_3_0(invoke: Invoke, vcards: Path) -> None:
    result = invoke("contacts", "import", "vcards/google-3.0.vcf")
    assert result.stdout == "vcards/google-3.0.vcf: 2 added, 0 updated, 0 unchanged\n"
    listed = _listed(invoke)
    assert sorted(listed) == [
        "aslak.cuddi@lyngen.example.org",  # the first address, none marked preferred
        "kristine.haetta@nordreisa.example.org",
    ]
    aslak = listed["aslak.cuddi@lyngen.example.org"]
    assert (aslak["name"], aslak["role"], aslak["municipality"], aslak["region"]) == (
        "Aslak Čuđđi",
        "biblioteksjef",
        "Lyngen",
        "Nord-Troms",
    )
    assert aslak["phone"] == "+47 777 00 103"  # work before mobile
    kristine = listed["kristine.haetta@nordreisa.example.org"]
    assert (kristine["role"], kristine["municipality"]) == ("ordfører", "Nordreisa – Ráisa – Raisi")


def test_apple_vcard_3_0_with_a_default_role(invoke: Invoke, vcards: Path) -> None:
    assert_refused(
        invoke,
        vcards.parent,
        "vcards/apple-3.0.vcf: line 1: card 'Máret Rávdná Kappfjell' has no role: add "
        "X-INVITER-ROLE or a CATEGORIES entry (biblioteksjef, kommunedirektør, kommunalsjef, "
        "ordfører, partner), or give --role",
        "contacts",
        "import",
        "vcards/apple-3.0.vcf",
    )
    result = invoke("contacts", "import", "--role", "Biblioteksjef", "vcards/apple-3.0.vcf")
    assert result.stdout == "vcards/apple-3.0.vcf: 1 added, 0 updated, 0 unchanged\n"
    [maret] = _listed(invoke).values()  # the group card is no contact
    assert maret == {
        "name": "Máret Rávdná Kappfjell",
        "email": "maret.ravdna.kappfjell@lavangen.example.org",  # type=pref, not the first
        "role": "biblioteksjef",
        "municipality": "Loabák – Lavangen",  # ADR locality "Loabák – Lavangen"
        "region": "Sør-Troms",
        "organization": "Lavangen bibliotek",
        "title": "Biblioteksjef",
        "phone": "+47 777 00 121",
        "language": "nb",
    }
    assert unicodedata.is_normalized("NFC", maret["name"])  # Apple wrote it decomposed


def test_vcard_4_0(invoke: Invoke, vcards: Path) -> None:
    result = invoke("contacts", "import", "vcards/rfc6350-4.0.vcf")
    assert result.exit_code == 0, result.stderr
    assert _listed(invoke) == {
        "emma.clarke@uit.example.org": {
            "name": "Emma Clarke",
            "email": "emma.clarke@uit.example.org",  # PREF=1 beats PREF=2 listed first
            "role": "partner",
            "municipality": "Tromsø",
            "region": "Tromsø og omegn",
            "organization": "UiT Norges arktiske universitet, Universitetsbiblioteket",
            "title": "Senior Academic Librarian",
            "phone": "+47-777-00-303",  # from the tel: URI
            "language": "en",  # LANG;PREF=1:en-GB
        }
    }


def test_all_samples_in_one_import_and_again(invoke: Invoke, vcards: Path) -> None:
    paths = sorted(str(p.relative_to(vcards.parent)) for p in vcards.glob("*.vcf"))
    first = invoke("contacts", "import", "--role", "partner", *paths)
    assert first.stdout.splitlines()[-1] == "In all: 6 added, 0 updated, 0 unchanged"
    again = invoke("contacts", "import", "--role", "partner", *paths)
    assert again.stdout.splitlines()[-1] == "In all: 0 added, 0 updated, 6 unchanged"


def test_samples_agree_with_an_independent_parser(vcards: Path, invoke: Invoke) -> None:
    """vobject reads the 3.0 and 4.0 samples to the same names and addresses inviter does."""
    invoke("contacts", "import", "--role", "partner", *(str(p) for p in vcards.glob("*.vcf")))
    ours = {(c["name"], c["email"]) for c in _listed(invoke).values()}
    for name in ("google-3.0.vcf", "apple-3.0.vcf", "rfc6350-4.0.vcf"):
        for card in vobject.readComponents((vcards / name).read_text(encoding="utf-8")):
            if "x-addressbookserver-kind" in card.contents:
                continue
            emails = card.contents["email"]
            preferred = [
                e
                for e in emails
                if "pref" in [t.lower() for t in e.params.get("TYPE", [])]
                or e.params.get("PREF") == ["1"]
            ]
            fn = unicodedata.normalize("NFC", card.fn.value)
            assert (fn, (preferred or emails)[0].value.lower()) in ours


def test_a_card_vobject_writes_and_folds(invoke: Invoke, project: Path) -> None:
    card = vobject.vCard()
    name = "Biret Ánne Žiiná Čuđđi-Ŋávvu Šimmá Ŧávgi " * 3
    card.add("fn").value = name.strip()
    card.add("n").value = vobject.vcard.Name(family="Ŧávgi", given="Biret")
    card.add("email").value = "biret@balsfjord.example.org"
    card.add("org").value = ["Balsfjord bibliotek; filial", "Nordkjosbotn"]
    card.add("categories").value = ["Biblioteksjef", "Báhccavuotna"]
    text = card.serialize()
    assert any(line.startswith(" ") for line in text.splitlines())  # it did fold
    _write(project, "vobject.vcf", text)
    assert invoke("contacts", "import", "vobject.vcf").exit_code == 0
    [biret] = _listed(invoke).values()
    assert biret["name"] == name.strip()
    assert biret["organization"] == "Balsfjord bibliotek; filial, Nordkjosbotn"
    assert (biret["role"], biret["municipality"]) == ("biblioteksjef", "Balsfjord")


def test_a_fold_inside_a_utf8_sequence(invoke: Invoke, project: Path) -> None:
    # RFC 6350 §3.2 says not to, but some exporters fold at 75 octets whatever they cut.
    data = _card(
        "FN:Kari Ŋ",
        "EMAIL:kari@karlsoy.example.org",
        "CATEGORIES:partner,Karlsøy",
    ).encode()
    cut = data.index("Ŋ".encode()) + 1
    (project / "cut.vcf").write_bytes(data[:cut] + b"\r\n " + data[cut:])
    assert invoke("contacts", "import", "cut.vcf").exit_code == 0
    assert [c["name"] for c in _listed(invoke).values()] == ["Kari Ŋ"]


def test_defaults_fill_only_what_a_card_lacks(invoke: Invoke, project: Path) -> None:
    text = _card("FN:Ola", "EMAIL:ola@example.org") + _card(
        "FN:Per", "EMAIL:per@example.org", "CATEGORIES:ordfører,Bardu"
    )
    _write(project, "two.vcf", text)
    result = invoke("contacts", "import", "--role", "partner", "--municipality", "Romsa", "two.vcf")
    assert result.exit_code == 0, result.stderr
    listed = _listed(invoke)
    assert (listed["ola@example.org"]["role"], listed["ola@example.org"]["municipality"]) == (
        "partner",
        "Tromsø",
    )
    assert (listed["per@example.org"]["role"], listed["per@example.org"]["region"]) == (
        "ordfører",
        "Midt-Troms",
    )


@pytest.mark.parametrize(
    ("cards", "message"),
    [
        (
            _card(
                "FN;ENCODING=QUOTED-PRINTABLE:Kari=0D=0ABcc: all@example.org",
                "EMAIL:kari@example.org",
                "CATEGORIES:partner,Harstad",
            ),
            "line 3: name: 'Kari\\r\\nBcc: all@example.org' contains a carriage return (CR)",
        ),
        (
            _card("FN:Kari\\nNordmann", "EMAIL:kari@example.org", "CATEGORIES:partner,Harstad"),
            "line 3: name: 'Kari\\nNordmann' contains a line feed (LF)",
        ),
        (
            _card("FN:Kari", "CATEGORIES:partner,Harstad", "EMAIL;TYPE=pref:kari@"),
            "line 5: email: 'kari@' is not a valid e-mail address: There must be something "
            "after the @-sign.",
        ),
        (
            _card("FN:Kari", "CATEGORIES:partner,Harstad"),
            "line 1: email: is empty; every contact needs a name, email, role and municipality",
        ),
        (
            _card("FN:Kari", "EMAIL:kari@example.org", "CATEGORIES:partner"),
            "line 1: card 'Kari' has no municipality: add X-INVITER-MUNICIPALITY, a CATEGORIES "
            "entry or an ADR locality naming it, or give --municipality",
        ),
        (
            _card("FN:Kari", "EMAIL:kari@example.org", "CATEGORIES:partner,Harstad")
            + _card("FN:Kari N", "EMAIL:KARI@example.org", "CATEGORIES:partner,Harstad"),
            "line 10: email: 'KARI@example.org' is the same address as 'kari@example.org' on "
            "line 4; keep one of them",
        ),
        (
            _card("FN:Kari", "EMAIL:kari@example.org", "CATEGORIES:partner,Harstad")[:-11],
            "line 1: BEGIN:VCARD without END:VCARD",
        ),
        (
            "BEGIN:VCARD\r\nVERSION:5.0\r\nFN:Kari\r\nEND:VCARD\r\n",
            "line 2: vCard version '5.0' is not supported (2.1, 3.0, 4.0 are)",
        ),
        ("FN:Kari\r\n", "line 1: 'FN:Kari' is outside BEGIN:VCARD…END:VCARD"),
        (
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN Kari\r\nEND:VCARD\r\n",
            "line 3: 'FN Kari' is not a vCard property (no ':')",
        ),
    ],
)
def test_bad_cards_reject_the_file(invoke: Invoke, project: Path, cards: str, message: str) -> None:
    good = _card("FN:Odd", "EMAIL:odd@example.org", "CATEGORIES:ordfører,Harstad")
    _write(project, "good.vcf", good)
    _write(project, "bad.vcf", cards)
    assert_refused(
        invoke, project, f"bad.vcf: {message}", "contacts", "import", "good.vcf", "bad.vcf"
    )
    assert stored(project) == []


def test_a_file_without_cards(invoke: Invoke, project: Path) -> None:
    _write(project, "groups.vcf", _card("FN:Alle", "X-ADDRESSBOOKSERVER-KIND:group"))
    assert_refused(
        invoke,
        project,
        "groups.vcf: holds no contact card (no BEGIN:VCARD, or only groups)",
        "contacts",
        "import",
        "groups.vcf",
    )


def test_a_card_without_fn_is_named_from_n(invoke: Invoke, project: Path) -> None:
    _write(
        project,
        "n.vcf",
        _card("N:Nordmann;Kari;Anne;Dr.;", "EMAIL:kari@example.org", "CATEGORIES:partner,Ibestad"),
    )
    assert invoke("contacts", "import", "n.vcf").exit_code == 0
    assert [c["name"] for c in _listed(invoke).values()] == ["Kari Anne Nordmann"]


def test_a_vcard_with_a_big_photo_imports_its_contact(invoke: Invoke, project: Path) -> None:
    # 55,000 folded lines of base64: joined one by one this took 43 s for 4 MB (issue 20);
    # the photo is skipped as it is read, and the contact comes through.
    photo = "A" * (2 * 2**20)
    folded = "\r\n ".join(photo[i : i + 74] for i in range(0, len(photo), 74))
    (project / "photo.vcf").write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Kari Nordmann\r\nEMAIL:kari@example.org\r\n"
        f"PHOTO;ENCODING=b;TYPE=JPEG:{folded}\r\nNOTE:after the photo\r\nEND:VCARD\r\n",
        encoding="utf-8",
        newline="",
    )
    result = invoke(
        "contacts", "import", "photo.vcf", "--role", "partner", "--municipality", "Tromsø"
    )
    assert result.exit_code == 0, result.output
    listed = json.loads(invoke("contacts", "list", "--json").stdout)
    assert [(c["name"], c["email"]) for c in listed] == [("Kari Nordmann", "kari@example.org")]
