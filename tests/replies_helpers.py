"""Helpers for the reply tests: a meeting with known UID, and mail containers built for real.

The .msg files are written with extract-msg's own OLE writer in the layout MS-OXMSG describes
(property streams, named-property mapping, attachment storages); the TNEF blobs follow MS-OXTNEF
(signature, attribute level/id/length/data/checksum). Both are read back by the real parsers.
"""

from __future__ import annotations

import io
import mailbox
import shutil
import struct
import uuid
from datetime import UTC, datetime
from pathlib import Path

from extract_msg.ole_writer import OleWriter

from inviter.config import Settings, load_settings
from inviter.store.database import Database
from inviter.store.models import REQUEST, SENT, Contact, Delivery, MeetingState
from inviter.store.versions import meeting_fingerprint

DATA = Path(__file__).resolve().parent / "data" / "replies"
UID = "5f1c2a0e-7b8d-4c1e-9a3f-2d6e8b0c4a11@example.org"
SLUG = "temamote-tromso"

# Library heads and partners (the audience of temamote-tromso), from the shipped example.
PEOPLE = [
    ("Hilde Marie Bjørnevik", "hilde.marie.bjornevik@tromso.example.org", "biblioteksjef"),
    ("Even Helgøy", "even.helgoy@karlsoy.example.org", "biblioteksjef"),
    ("Biret Ánne Žiiná", "biret.anne.ziina@balsfjord.example.org", "biblioteksjef"),
    ("Liisa Raappana", "liisa.raappana@nordreisa.example.org", "biblioteksjef"),
    ("Sissel Kvalvik", "sissel.kvalvik@kvaenangen.example.org", "biblioteksjef"),
    ("Elle Márjá Ŋávvu", "elle.marja.navvu@kafjord.example.org", "biblioteksjef"),
    ("Aslak Čuđđi", "aslak.cuddi@lyngen.example.org", "biblioteksjef"),
    ("Emma Clarke", "emma.clarke@uit.example.org", "partner"),
    ("Anne-Grethe Fylling", "anne-grethe.fylling@tromsfylke.example.org", "partner"),
]
EMAILS = {email for _name, email, _role in PEOPLE}


def prepare(project: Path, *, invited: set[str] | None = None) -> tuple[Settings, Database]:
    """Make the project's database: contacts, the meeting's UID, invitations sent."""
    settings = load_settings(project / "inviter.toml", env={})
    db = Database(settings.database_url)
    with db.session() as s:
        for name, email, role in PEOPLE:
            s.add(
                Contact(
                    email=email,
                    name=name,
                    role=role,
                    municipality="Tromsø",
                    region="Tromsø og omegn",
                )
            )
        # The version sent is the config's: nothing changed since (status says so otherwise).
        fingerprint = meeting_fingerprint(settings.meeting(SLUG))
        state = MeetingState(slug=SLUG, uid=UID, sequence=0, fingerprint=fingerprint)
        s.add(state)
        s.flush()
        for email in EMAILS if invited is None else invited:
            s.add(
                Delivery(
                    meeting_id=state.id,
                    email=email,
                    kind=REQUEST,
                    sequence=0,
                    transport="outbox",
                    message_id=f"<{uuid.uuid4()}@example.org>",
                    status=SENT,
                )
            )
    return settings, db


def sample(name: str) -> bytes:
    """Return the bytes of a sample reply under tests/data/replies."""
    return (DATA / name).read_bytes()


def write_mbox(path: Path, messages: list[bytes]) -> Path:
    """Write messages into an mbox file with the stdlib's writer (mboxrd quoting)."""
    box = mailbox.mbox(str(path), create=True)
    try:
        for raw in messages:
            box.add(raw)
        box.flush()
    finally:
        box.close()
    return path


def write_maildir(path: Path, messages: list[bytes], *, subfolder: str = "new") -> Path:
    """Deliver messages into a Maildir the way an MDA does (tmp/, then new/ or cur/)."""
    box = mailbox.Maildir(str(path), create=True)
    for raw in messages:
        key = box.add(raw)
        if subfolder == "cur":
            message = box[key]
            message.set_subdir("cur")
            message.set_flags("S")
            box[key] = message
    return path


# ---------------------------------------------------------------- TNEF (MS-OXTNEF)


def _tnef_attribute(level: int, attr_id: int, attr_type: int, data: bytes) -> bytes:
    checksum = sum(data) & 0xFFFF
    return (
        struct.pack("<BHHI", level, attr_id, attr_type, len(data))
        + data
        + struct.pack("<H", checksum)
    )


def build_tnef(message_class: str, attachments: list[tuple[str, bytes]] = ()) -> bytes:  # type: ignore[assignment]
    """Return a TNEF stream: version, code page, message class, then attachments."""
    out = struct.pack("<IH", 0x223E9F78, 0x0A1B)
    out += _tnef_attribute(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))  # attTnefVersion
    out += _tnef_attribute(1, 0x9007, 0x0006, struct.pack("<II", 1252, 0))  # attOemCodepage
    out += _tnef_attribute(1, 0x8008, 0x0007, message_class.encode() + b"\x00")  # attMessageClass
    for name, data in attachments:
        out += _tnef_attribute(2, 0x9002, 0x0006, struct.pack("<HIIIH", 1, 0xFFFFFFFF, 0, 0, 0))
        out += _tnef_attribute(2, 0x8010, 0x0001, name.encode() + b"\x00")  # attAttachTitle
        out += _tnef_attribute(2, 0x800F, 0x0006, data)  # attAttachData
    return out


def tnef_mail(tnef: bytes, *, message_id: str) -> bytes:
    """Wrap a TNEF blob as Exchange does for an Outlook client in rich-text mode."""
    import base64

    body = base64.encodebytes(tnef).decode().replace("\n", "\r\n")
    return (
        "From: =?utf-8?Q?Aslak_=C4=8Cu=C4=91=C4=91i?= <aslak.cuddi@lyngen.example.org>\r\n"
        "To: bibliotek@example.org\r\n"
        "Subject: Godtatt: =?utf-8?Q?Temam=C3=B8te=3A_Litteratur_og_kultur?=\r\n"
        "Date: Wed, 12 Oct 2022 08:00:00 +0200\r\n"
        f"Message-ID: {message_id}\r\n"
        "MIME-Version: 1.0\r\n"
        "X-MS-Has-Attach: yes\r\n"
        "X-MS-TNEF-Correlator: <A1B2C3D4E5F6@lyngen.example.org>\r\n"
        'Content-Type: multipart/mixed; boundary="_tnef_boundary_"\r\n'
        "\r\n"
        "--_tnef_boundary_\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
        "Godtatt.\r\n"
        "--_tnef_boundary_\r\n"
        'Content-Type: application/ms-tnef; name="winmail.dat"\r\n'
        'Content-Disposition: attachment; filename="winmail.dat"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n" + body + "--_tnef_boundary_--\r\n"
    ).encode()


# ---------------------------------------------------------------- Outlook .msg (MS-OXMSG)

PSETID_MEETING = uuid.UUID("6ED8DA90-450B-101B-98DA-00AA003F1305")
PSETID_APPOINTMENT = uuid.UUID("00062002-0000-0000-C000-000000000046")
_GOID_HEAD = bytes.fromhex("040000008200E00074C5B7101A82E008")


def global_object_id(uid: str) -> bytes:
    """Return PidLidGlobalObjectId for an iCalendar UID (MS-OXOCAL 2.2.1.27, vCal-Uid form)."""
    data = b"vCal-Uid" + struct.pack("<I", 1) + uid.encode() + b"\x00"
    return (
        _GOID_HEAD
        + b"\x00\x00\x00\x00"
        + b"\x00" * 8
        + b"\x00" * 8
        + struct.pack("<I", len(data))
        + data
    )


def _filetime(moment: datetime) -> int:
    return int((moment - datetime(1601, 1, 1, tzinfo=UTC)).total_seconds() * 10_000_000)


class _Props:
    """A property stream (MS-OXMSG 2.4): fixed values inline, others in their own streams."""

    def __init__(self, header: bytes) -> None:
        self.header = header
        self.entries: list[bytes] = []
        self.streams: dict[str, bytes] = {}

    def fixed(self, prop_id: int, prop_type: int, value: bytes) -> None:
        tag = (prop_id << 16) | prop_type
        self.entries.append(struct.pack("<II", tag, 0x6) + value.ljust(8, b"\x00"))

    def variable(self, prop_id: int, prop_type: int, data: bytes) -> None:
        tag = (prop_id << 16) | prop_type
        size = len(data) + (2 if prop_type == 0x001F else 0)
        self.entries.append(struct.pack("<IIII", tag, 0x6, size, 0))
        self.streams[f"__substg1.0_{prop_id:04X}{prop_type:04X}"] = data

    def text(self, prop_id: int, value: str) -> None:
        self.variable(prop_id, 0x001F, value.encode("utf-16-le"))

    def write(self, writer: OleWriter, prefix: list[str]) -> None:
        writer.addEntry([*prefix, "__properties_version1.0"], self.header + b"".join(self.entries))
        for name, data in self.streams.items():
            writer.addEntry([*prefix, name], data)


def build_msg(
    *,
    message_class: str = "IPM.Note",
    subject: str,
    sender_name: str,
    sender: str,
    body: str = "",
    uid: str | None = None,
    sequence: int = 0,
    sent: datetime = datetime(2022, 10, 13, 8, 0, tzinfo=UTC),
    attachments: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
) -> bytes:
    """Return an Outlook .msg: a meeting response (uid given) and/or file attachments."""
    writer = OleWriter()
    named = [(PSETID_MEETING, 0x0003), (PSETID_MEETING, 0x0001), (PSETID_APPOINTMENT, 0x8201)]
    guids = list(dict.fromkeys(g for g, _lid in named))
    writer.addEntry(["__nameid_version1.0"], storage=True)
    writer.addEntry(
        ["__nameid_version1.0", "__substg1.0_00020102"], b"".join(g.bytes_le for g in guids)
    )
    entries = b"".join(
        struct.pack("<IHH", lid, ((guids.index(g) + 3) << 1), index)
        for index, (g, lid) in enumerate(named)
    )
    writer.addEntry(["__nameid_version1.0", "__substg1.0_00030102"], entries)
    writer.addEntry(["__nameid_version1.0", "__substg1.0_00040102"], b"")
    header = struct.pack("<8sIIII8s", b"", 0, len(attachments), 0, len(attachments), b"")
    props = _Props(header)
    props.text(0x001A, message_class)
    props.text(0x0037, subject)
    props.text(0x0C1A, sender_name)
    props.text(0x0C1F, sender)
    props.text(0x5D01, sender)
    props.text(0x0065, sender)
    props.text(0x0042, sender_name)
    props.text(0x1000, body)
    props.text(0x1035, f"<{uuid.uuid4()}@lyngen.example.org>")
    props.fixed(0x0E07, 0x0003, struct.pack("<I", 1))  # PR_MESSAGE_FLAGS: read, sent
    props.fixed(0x0039, 0x0040, struct.pack("<Q", _filetime(sent)))  # PR_CLIENT_SUBMIT_TIME
    if uid is not None:
        props.variable(0x8000, 0x0102, global_object_id(uid))
        props.fixed(0x8001, 0x0040, struct.pack("<Q", _filetime(sent)))
        props.fixed(0x8002, 0x0003, struct.pack("<I", sequence))
    props.write(writer, [])
    for number, (name, mime, data) in enumerate(attachments):
        folder = f"__attach_version1.0_#{number:08X}"
        writer.addEntry([folder], storage=True)
        att = _Props(b"\x00" * 8)
        att.fixed(0x3705, 0x0003, struct.pack("<I", 1))  # PR_ATTACH_METHOD: by value
        att.fixed(0x0E21, 0x0003, struct.pack("<I", number))  # PR_ATTACH_NUM
        att.variable(0x3701, 0x0102, data)
        att.text(0x3707, name)
        att.text(0x3704, name[:12])
        att.text(0x370E, mime)
        att.text(0x3001, name)
        att.write(writer, [folder])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def copy_samples(folder: Path, names: list[str]) -> Path:
    """Copy sample .eml files into a folder and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(DATA / name, folder / name)
    return folder
