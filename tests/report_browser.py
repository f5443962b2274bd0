"""Render the report pages in a real headless Chromium: the DOM, a PDF, a screenshot.

Debian's chromium, as .ci/setup-tests installs it. Every run gets its own profile folder and no
network use of its own, so a test takes about a second.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

from tests.conftest import require_tool

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
]


def chromium() -> str:
    """Return Chromium's path (skip, or fail in CI, when missing)."""
    return require_tool(shutil.which("chromium"), "Chromium")


def _run(page: Path, work: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    work.mkdir(parents=True, exist_ok=True)
    command = [chromium(), *FLAGS, f"--user-data-dir={work / 'profile'}", *args, page.as_uri()]
    result = subprocess.run(command, capture_output=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    return result


def dump_dom(page: Path, work: Path) -> str:
    """Return the DOM Chromium built from the page, serialised."""
    return _run(page, work, "--dump-dom").stdout.decode()


def print_pdf(page: Path, work: Path) -> Path:
    """Print the page to PDF the way Chromium's print dialog would (no header and footer)."""
    pdf = work / "out.pdf"
    _run(page, work, "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    assert pdf.exists()
    return pdf


def screenshot(page: Path, work: Path, size: str = "1100,1600") -> Path:
    """Take a screenshot of the page as a PNG."""
    png = work / "shot.png"
    _run(page, work, f"--window-size={size}", f"--screenshot={png}")
    assert png.exists()
    return png


def pdf_pages(pdf: Path) -> list[str]:
    """Return the text of each page of a PDF (poppler's pdftotext, layout kept)."""
    tool = require_tool(shutil.which("pdftotext"), "pdftotext (poppler-utils)")
    text = subprocess.run(
        [tool, "-layout", "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout.decode()
    pages = text.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def page_colours(pdf: Path, page: int = 1, dpi: int = 40) -> dict[tuple[int, int, int], int]:
    """Rasterise one PDF page (poppler's pdftoppm) and count the pixels of each colour."""
    tool = require_tool(shutil.which("pdftoppm"), "pdftoppm (poppler-utils)")
    ppm = subprocess.run(
        [tool, "-r", str(dpi), "-f", str(page), "-l", str(page), str(pdf)],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    # Binary PPM (P6): magic, width, height, maxval, one whitespace byte, then RGB bytes.
    header = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", ppm)
    assert header, ppm[:40]
    pixels = ppm[header.end() :]
    size = int(header[1]) * int(header[2])
    counts: dict[tuple[int, int, int], int] = {}
    for i in range(0, size * 3, 3):
        key = (pixels[i], pixels[i + 1], pixels[i + 2])
        counts[key] = counts.get(key, 0) + 1
    return counts


def png_size(png: Path) -> tuple[int, int]:
    """Return a PNG's width and height from its IHDR chunk."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height
