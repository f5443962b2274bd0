"""Find English text in inviter's source that does not go through the catalog.

A string that reads like words ("is not a number", "Name") and is neither inside ``_()``,
``ngettext()``, ``pgettext()`` or ``N_()``, nor a ``help=`` text or a docstring (which
tools/catalog.py extracts), is either shown to staff untranslated or not shown at all. The second
kind is listed, file by file, in ``tests/data/not_shown/*.txt`` (one ``path<TAB>repr`` a line:
SQL, header names, protocol words, text of invitations which follow the contact's language).

    .venv/bin/python -m tests.language_lint [PATH...]   # print the unmarked strings
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "inviter"
NOT_SHOWN = Path(__file__).resolve().parent / "data" / "not_shown"

MARKERS = {"_", "N_", "ngettext", "pgettext"}
# Two words, or one capitalised word (a heading such as "Name" or "Answer:").
WORDS = re.compile(r"[^\W\d_]{2,}[ ,:;.'’()/-]+[^\W\d_]{2,}|^[A-ZÆØÅ][a-zæøå]{2,}[:.]?$")


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _marked(tree: ast.AST) -> set[int]:
    """Ids of the nodes inside a marker call or a ``help=`` keyword."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            inside: list[ast.AST] = []
            if name in MARKERS:
                inside.extend(node.args)
            inside.extend(k.value for k in node.keywords if k.arg == "help")
            for part in inside:
                found.update(id(sub) for sub in ast.walk(part))
    return found


def unmarked(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of each word-like string in ``path`` that is not marked for the catalog."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree) | _marked(tree)
    inside_fstring: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            inside_fstring.update(id(v) for v in node.values)
    for node in ast.walk(tree):
        if id(node) in skip or id(node) in inside_fstring:
            continue
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}"
                for v in node.values
            )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        literal = text.replace("{}", " ")
        if WORDS.search(literal):
            yield node.lineno, text


def hidden_in_fstrings(path: Path) -> Iterator[tuple[int, str]]:
    """(line, call) of each marker call with a literal inside an f-string: Babel reads an
    f-string as one token (Python 3.11), so the literal never reaches the catalog."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.JoinedStr):
            for sub in ast.walk(node):
                if (
                    isinstance(sub, ast.Call)
                    and isinstance(sub.func, ast.Name)
                    and sub.func.id in MARKERS
                    and any(isinstance(arg, ast.Constant) for arg in sub.args)
                ):
                    yield sub.lineno, ast.unparse(sub)


def allowed() -> set[tuple[str, str]]:
    """(path, text) pairs declared not shown to staff."""
    pairs: set[tuple[str, str]] = set()
    for listing in sorted(NOT_SHOWN.glob("*.txt")):
        for line in listing.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                path, _, text = line.partition("\t")
                pairs.add((path, ast.literal_eval(text)))
    return pairs


def report(paths: list[Path]) -> list[str]:
    """``path<TAB>repr  # line N`` for every unmarked string not declared not shown."""
    permitted = allowed()
    lines = []
    for path in paths:
        relative = str(path.resolve().relative_to(ROOT))
        for line, text in unmarked(path):
            if (relative, text) not in permitted:
                lines.append(f"{relative}\t{text!r}\t# line {line}")
        for line, call in hidden_in_fstrings(path):
            lines.append(f"{relative}\t{call} inside an f-string: not extracted\t# line {line}")
    return lines


if __name__ == "__main__":
    targets = [Path(arg) for arg in sys.argv[1:]] or sorted(PACKAGE.rglob("*.py"))
    files = [p for t in targets for p in ([t] if t.is_file() else sorted(t.rglob("*.py")))]
    found = report(files)
    print("\n".join(found))
    print(f"{len(found)} unmarked", file=sys.stderr)
