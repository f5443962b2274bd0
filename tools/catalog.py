"""The Bokmål catalog: extract every string staff can see, merge it into the ``.po`` that
translators edit, compile the ``.mo`` that ships in the package, and check that all three agree.

    .venv/bin/python tools/catalog.py update    # extract, merge, compile
    .venv/bin/python tools/catalog.py check     # what is missing, untranslated or stale

What is extracted (Babel does the reading):
- ``_()``, ``ngettext()``, ``pgettext()`` and ``N_()`` in ``inviter/`` (Babel's Python reader);
- every literal ``help="…"`` and ``metavar="…"`` of a Click option and the docstring of every
  command and group, which Click shows as help (found with ``ast``: Babel's reader does not
  see them);
- ``{% trans %}`` and ``_()`` in the report templates (Jinja2's Babel reader);
- Click's own words ("Usage:", "Error: {message}", "Missing option '{param_hint}'."), which
  Click looks up in the same catalog (``inviter.translation.use_language``).

``update`` keeps every translation already made.
"""

from __future__ import annotations

import ast
import inspect
import io
import sys
from collections.abc import Iterator
from pathlib import Path

import click
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "inviter"
REPORT_TEMPLATES = PACKAGE / "reports" / "templates"
CATALOG_DIR = PACKAGE / "locale" / "messages" / "nb" / "LC_MESSAGES"
PO = CATALOG_DIR / "inviter.po"
MO = CATALOG_DIR / "inviter.mo"

# Click's modules whose words reach a person running inviter (not its shell-completion scripts
# or its testing helpers).
CLICK_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "termui", "types")
KEYWORDS = {
    "_": None,
    "gettext": None,  # what Jinja2 makes of a plain {% trans %} block
    "N_": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
}
COMMAND_DECORATORS = {"command", "group"}

Key = str | tuple[str, str]


def _key(message: Message) -> Key:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return (message.context, msgid) if message.context else msgid


def _python_messages(path: Path) -> Iterator[tuple[int, str | tuple[str, ...], str | None]]:
    """(line, msgid or singular/plural pair, context) of every marked string in one file."""
    with path.open("rb") as handle:
        for line, message, _comments, context in extract(
            "python", handle, keywords=KEYWORDS, options={"encoding": "utf-8"}
        ):
            yield line, message, context
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                value = keyword.value
                if (
                    keyword.arg in {"help", "metavar"}
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                ):
                    yield value.lineno, inspect.cleandoc(value.value), None
        if isinstance(node, ast.FunctionDef) and _is_command(node):
            docstring = ast.get_docstring(node, clean=True)
            if docstring:
                yield node.lineno, docstring, None


def _is_command(node: ast.FunctionDef) -> bool:
    """True for a function made a Click command or group by its decorator."""
    for decorator in node.decorator_list:
        call = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = call.attr if isinstance(call, ast.Attribute) else getattr(call, "id", "")
        if name in COMMAND_DECORATORS:
            return True
    return False


def _template_messages(path: Path) -> Iterator[tuple[int, str | tuple[str, ...], str | None]]:
    with path.open("rb") as handle:
        for line, message, _comments, context in extract(
            "jinja2.ext:babel_extract",
            handle,
            keywords=KEYWORDS,
            options={"extensions": "jinja2.ext.i18n", "trim_blocks": "true"},
        ):
            yield line, message, context


def extract_template() -> Catalog:
    """Every message of inviter, its report templates and Click, as a catalog without
    translations (a ``.pot``)."""
    template = Catalog(project="inviter", domain="inviter", fuzzy=False)
    click_dir = Path(click.__file__).parent
    paths = [
        *sorted(PACKAGE.rglob("*.py")),
        *sorted(REPORT_TEMPLATES.glob("*.j2")),
        *(click_dir / f"{name}.py" for name in CLICK_MODULES),
    ]
    sources = [
        (path, _template_messages(path) if path.suffix == ".j2" else _python_messages(path))
        for path in paths
    ]
    for path, messages in sources:
        where = (
            str(path.relative_to(ROOT)) if path.is_relative_to(PACKAGE) else f"click/{path.name}"
        )
        for line, message, context in messages:
            msgid: str | tuple[str, ...] = message
            if isinstance(message, tuple):
                if not message[0]:
                    continue
                msgid = message[:2] if len(message) > 1 and message[1] else message[0]
            elif not message:
                continue
            template.add(msgid, locations=[(where, line)], context=context)
    return template


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale="nb", domain="inviter")


def forms(value: object) -> tuple[str, ...]:
    """A message's id or string as a tuple: one form, or a plural's forms."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(str(form) for form in value)
    return ("",)


def _translations(catalog: Catalog) -> dict[Key, str | tuple[str, ...]]:
    found: dict[Key, str | tuple[str, ...]] = {}
    for message in catalog:
        if message.id and _translated(message):
            strings = forms(message.string)
            found[_key(message)] = strings[0] if isinstance(message.string, str) else strings
    return found


def _translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return not message.fuzzy and all(strings)


def update() -> list[str]:
    """Extract, merge into the .po (keeping its translations), compile the .mo; return the
    problems ``check`` would report afterwards."""
    template = extract_template()
    known: dict[Key, str | tuple[str, ...]] = {}
    kept = read_catalog(PO) if PO.exists() else None
    if kept is not None:
        known.update(_translations(kept))
    catalog = Catalog(
        locale="nb",
        domain="inviter",
        project="inviter",
        language_team="Bokmål",
        fuzzy=False,
        # The header's date is kept, so that an update that changes no message changes no byte.
        creation_date=kept.creation_date if kept is not None else None,
    )
    for message in template:
        if not message.id:
            continue
        string = known.get(_key(message), "")
        if message.pluralizable and not isinstance(string, tuple):
            string = ("", "")
        catalog.add(
            message.id,
            string,
            locations=message.locations,
            context=message.context,
        )
    CATALOG_DIR.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=False, omit_header=False)
    compile_catalog()
    return check()


def compile_catalog() -> None:
    """Write the .mo from the .po (untranslated entries are left out, so English shows)."""
    with MO.open("wb") as handle:
        write_mo(handle, read_catalog(PO))


def _compiled(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def check() -> list[str]:
    """What is wrong with the catalog: a string staff can see that the .po lacks, an entry
    not translated, an entry no code uses any more, or a .mo older than its .po."""
    problems: list[str] = []
    if not PO.exists():
        return [f"{PO.relative_to(ROOT)} is missing: run tools/catalog.py update"]
    catalog = read_catalog(PO)
    in_po = {_key(m): m for m in catalog if m.id}
    template = extract_template()
    in_code = {_key(m): m for m in template if m.id}
    for key, message in in_code.items():
        where = ", ".join(f"{file}:{line}" for file, line in message.locations[:2])
        if key not in in_po:
            problems.append(f"not in the catalog: {key!r} ({where})")
        elif not _translated(in_po[key]):
            problems.append(f"not translated: {key!r} ({where})")
    for key in in_po:
        if key not in in_code:
            problems.append(f"no longer used: {key!r}")
    if not MO.exists() or MO.read_bytes() != _compiled(catalog):
        problems.append(
            f"{MO.relative_to(ROOT)} is older than the .po: run tools/catalog.py update"
        )
    return problems


def main(argv: list[str]) -> int:
    if argv[1:] == ["update"]:
        problems = update()
    elif argv[1:] == ["check"]:
        problems = check()
    else:
        print(__doc__)
        return 2
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
