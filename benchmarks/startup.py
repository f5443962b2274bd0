"""Start-up: how long whole ``inviter`` processes take, against ``python -c pass`` in the same run.

Run: .venv/bin/python benchmarks/startup.py [--runs 20]

Each command is run as a person runs it (a new process, in a project folder of the shipped
example with its contacts imported), in turn with the baseline, ``--runs`` times; the table
shows each one's median and fastest wall time, the median minus the baseline's (what inviter
itself costs), and the modules it loaded. Also timed, as references: importing SQLAlchemy's ORM
alone, which ``status`` cannot avoid, and the package as it started before issue 19 (every
command's modules imported for ``--help``), simulated by importing them all.

Targets (issue 19): ``--help`` and ``--version`` under 0.15 s, ``status`` under 0.3 s.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, installed_env, machine, table

PYTHON = sys.executable
MEETING = "temamote-tromso"
STATUS = f"inviter status --meeting {MEETING}"
ORM = "reference: import sqlalchemy.orm"
INVITER = str(Path(PYTHON).with_name("inviter"))
ALL_MODULES = (
    "import inviter.cli.main, inviter.compose.preview, inviter.deliver.sending, "
    "inviter.replies.imap, inviter.replies.rsvp, inviter.reports.attendance, "
    "inviter.reports.programme_report, inviter.reports.status_output, "
    "inviter.contacts.contact_list"
)


def wall(command: list[str], cwd: Path) -> float:
    """Run ``command`` once to its end; return its wall time in seconds."""
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, env=installed_env())
    return time.perf_counter() - start


def loaded(command: list[str], cwd: Path) -> int:
    """Count the modules ``command`` imports (``-X importtime`` prints one line for each)."""
    argv = [PYTHON, "-X", "importtime", *command[1:]] if command[0] == PYTHON else command
    if command[0] == INVITER:
        argv = [PYTHON, "-X", "importtime", "-m", "inviter", *command[1:]]
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=True)
    return sum(1 for line in done.stderr.splitlines() if line.startswith("import time:"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="runs of each command")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        for name in ("inviter.toml", "templates", "contacts"):
            source = ROOT / name
            copy = shutil.copytree if source.is_dir() else shutil.copy
            copy(source, project / name)
        subprocess.run(
            [INVITER, "contacts", "import", "contacts/troms.csv"],
            cwd=project,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        commands = {
            "python -c pass (baseline)": [PYTHON, "-c", "pass"],
            "inviter --help": [INVITER, "--help"],
            "inviter --version": [INVITER, "--version"],
            STATUS: [INVITER, "status", "--meeting", MEETING],
            ORM: [PYTHON, "-c", "import sqlalchemy.orm"],
            "reference: every command's modules": [PYTHON, "-c", ALL_MODULES],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():  # a warm-up of each: .pyc files, the page cache
            wall(command, project)
        for _ in range(args.runs):
            for name, command in commands.items():  # in turn, so drift hits every command
                times[name].append(wall(command, project))
        counts = {name: loaded(command, project) for name, command in commands.items()}

    base = statistics.median(times["python -c pass (baseline)"])
    rows = [
        [
            name,
            f"{statistics.median(runs):.3f}",
            f"{min(runs):.3f}",
            f"{statistics.median(runs) - base:+.3f}",
            counts[name],
        ]
        for name, runs in times.items()
    ]
    print(f"machine: {machine()}; {args.runs} runs of each, in turn, after a warm-up")
    print(table(["command", "median s", "fastest s", "minus baseline s", "modules loaded"], rows))
    # status reads the database through SQLAlchemy's ORM, so its import is status's floor.
    floor = statistics.median(times[ORM])
    print(
        f"status can be no faster than importing SQLAlchemy's ORM, {floor:.3f} s here; "
        f"beyond it, status costs {statistics.median(times[STATUS]) - floor:+.3f} s"
    )


if __name__ == "__main__":
    main()
