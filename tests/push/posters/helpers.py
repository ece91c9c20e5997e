"""Reading posters back: render the PDF or PNG and decode the QR codes printed on it."""

from __future__ import annotations

import io

import pypdfium2
import zxingcpp
from PIL import Image


def pdf_pages(pdf: bytes, scale: float = 2.0) -> list[Image.Image]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [document[i].render(scale=scale).to_pil() for i in range(len(document))]
    finally:
        document.close()


def pdf_text(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()


def qr_contents(image: Image.Image) -> list[str]:
    return sorted(r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode)


def png_qr_contents(png: bytes) -> list[str]:
    return qr_contents(Image.open(io.BytesIO(png)).convert("RGB"))
