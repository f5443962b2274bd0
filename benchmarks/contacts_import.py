"""Contact import: time and peak memory for a big CSV, and for a vCard holding a big PHOTO.

Run: .venv/bin/python benchmarks/contacts_import.py [--rows 200000] [--photo-mb 4]

Each figure is measured in a child process of its own (peak RSS is per process), against a
baseline measured in the same run:
- ``import_contacts`` of an N-row CSV (what ``inviter contacts import`` runs: read, check,
  write to SQLite in one transaction) against the standard library's csv module merely
  reading the same file;
- ``import_contacts`` of a one-row CSV, the memory floor;
- ``import_contacts`` of a vCard whose PHOTO is M megabytes of folded base64 (Outlook and
  Apple export them so), against reading the same file line by line.
Issue 20 measured 2.9 GB for 1,000,000 rows and 43 s for a 4 MB PHOTO before streaming.
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import shutil
import tempfile
import time
from pathlib import Path

from common import machine, peak_rss, run_child, table

from inviter.contacts.contact_list import import_contacts
from inviter.store.database import Database

MUNICIPALITIES = ["Tromsø", "Harstad", "Senja", "Lyngen", "Balsfjord", "Bardu"]


def write_csv(path: Path, rows: int) -> int:
    """Write ``rows`` distinct contacts; return the file's size."""
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["name", "email", "role", "municipality"])
        for number in range(rows):
            town = MUNICIPALITIES[number % len(MUNICIPALITIES)]
            writer.writerow([f"Person {number}", f"p{number}@example.org", "partner", town])
    return path.stat().st_size


def write_vcard(path: Path, megabytes: float) -> int:
    """Write one contact whose PHOTO is ``megabytes`` of base64, folded at 75 octets."""
    photo = base64.b64encode(bytes(range(256)) * int(megabytes * 2**20 / 256 * 3 / 4)).decode()
    folded = "\r\n ".join(photo[i : i + 74] for i in range(0, len(photo), 74))
    card = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Kari Nordmann\r\nEMAIL:kari@example.org\r\n"
        "X-INVITER-ROLE:partner\r\nX-INVITER-MUNICIPALITY:Tromsø\r\n"
        f"PHOTO;ENCODING=b;TYPE=JPEG:{folded}\r\nEND:VCARD\r\n"
    )
    path.write_text(card, encoding="utf-8", newline="")
    return path.stat().st_size


def child_import(path: Path, database: Path) -> None:
    """Import one file into a new SQLite database; print JSON figures."""
    db = Database(f"sqlite:///{database}")
    start = time.perf_counter()
    summary = import_contacts(db, [path])
    seconds = time.perf_counter() - start
    [file] = summary.files
    print(json.dumps({"seconds": seconds, "count": file.added, "peak": peak_rss()}))


def child_read(path: Path) -> None:
    """Read the file, nothing more: csv rows for a CSV, lines for a vCard."""
    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as stream:
        count = sum(1 for _ in (csv.reader(stream) if path.suffix == ".csv" else stream))
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "count": count, "peak": peak_rss()}))


def row(what: str, ours: dict[str, float], base: dict[str, float], floor: float) -> list[str]:
    return [
        what,
        f"{ours['seconds']:.2f}",
        f"{base['seconds']:.2f}",
        f"{ours['seconds'] / max(base['seconds'], 1e-9):.1f}",
        f"{ours['peak'] / 2**20:.1f}",
        f"{(ours['peak'] - floor) / 2**20:.1f}",
    ]


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--photo-mb", type=float, default=4.0)
    parser.add_argument("--child-import", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-read", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_import:
        child_import(*args.child_import)
        return
    if args.child_read:
        child_read(args.child_read)
        return

    print(f"# contacts import: {args.rows} CSV rows; a vCard with a {args.photo_mb} MB PHOTO")
    print(f"# {machine()}")
    folder = Path(tempfile.mkdtemp())
    try:
        one, big, card = folder / "one.csv", folder / "big.csv", folder / "photo.vcf"
        write_csv(one, 1)
        size = write_csv(big, args.rows)
        card_size = write_vcard(card, args.photo_mb)
        floor = run_child(__file__, "--child-import", str(one), str(folder / "one.db"))
        base = run_child(__file__, "--child-read", str(big))
        ours = run_child(__file__, "--child-import", str(big), str(folder / "big.db"))
        card_base = run_child(__file__, "--child-read", str(card))
        card_ours = run_child(__file__, "--child-import", str(card), str(folder / "card.db"))
    finally:
        shutil.rmtree(folder)
    if ours["count"] != args.rows or card_ours["count"] != 1:
        raise SystemExit(f"imported {ours['count']} of {args.rows}, {card_ours['count']} of 1")
    print(f"CSV: {size / 2**20:.1f} MiB; vCard: {card_size / 2**20:.1f} MiB; "
          f"one-row import: peak RSS {floor['peak'] / 2**20:.1f} MiB")  # fmt: skip
    print(
        table(
            ["what", "seconds", "baseline s", "x baseline", "peak RSS MiB", "over one row MiB"],
            [
                row(f"{args.rows} CSV rows (baseline: csv.reader)", ours, base, floor["peak"]),
                row("vCard with PHOTO (baseline: read lines)", card_ours, card_base, floor["peak"]),
            ],
        )
    )


if __name__ == "__main__":
    main()
