"""Reading printed PDFs back as a person and a phone would: page images, QR codes, text."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image


def page_images(pdf: bytes, tmp_path: Path, dpi: int = 150, name: str = "page") -> list[Path]:
    """Each page of ``pdf`` as a PNG, drawn by poppler's ``pdftoppm`` (Debian poppler-utils)."""
    if shutil.which("pdftoppm") is None:  # pragma: no cover - depends on the machine
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", str(source), str(tmp_path / name)], check=True
    )
    return sorted(tmp_path.glob(f"{name}-*.png"))


def qr_codes(png: Path) -> list[str]:
    """The QR codes a camera app reads on an image, in reading order (rows, then columns)."""
    import zxingcpp

    found = zxingcpp.read_barcodes(Image.open(png), formats=zxingcpp.BarcodeFormat.QRCode)
    found.sort(key=lambda r: (round(r.position.top_left.y / 100), r.position.top_left.x))
    return [result.text for result in found]


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The text of ``pdf`` as poppler's ``pdftotext`` extracts it (layout kept)."""
    if shutil.which("pdftotext") is None:  # pragma: no cover - depends on the machine
        pytest.skip("pdftotext (poppler-utils) is not installed")
    source = tmp_path / "text.pdf"
    source.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True, text=True
    ).stdout


def pdf_fonts(pdf: bytes, tmp_path: Path) -> str:
    """``pdffonts``'s table of the fonts in ``pdf`` (name, type, embedded)."""
    source = tmp_path / "fonts.pdf"
    source.write_bytes(pdf)
    return subprocess.run(
        ["pdffonts", str(source)], check=True, capture_output=True, text=True
    ).stdout
