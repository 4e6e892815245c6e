"""Identify files by their bytes, never by extension or Content-Type."""

from __future__ import annotations

RASTER_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"\x00\x00\x01\x00", "ico"),
)


def sniff(head: bytes) -> str | None:
    """Return a raster format name for the first bytes of a file, or None."""
    for magic, name in RASTER_MAGIC:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:12] in (b"ftypavif", b"ftypavis"):
        return "avif"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "heic"
    return None


def describe_non_image(head: bytes) -> str:
    """A short human reason for bytes that are not a raster image."""
    text = head[:512].lstrip().lower()
    if b"<svg" in text or (text.startswith(b"<?xml") and b"svg" in text):
        return "svg is not a raster image"
    if text.startswith((b"<!doctype html", b"<html")) or b"<html" in text or b"<head" in text:
        return "html page, not an image"
    if text.startswith((b"{", b"[")):
        return "json, not an image"
    if head.startswith(b"%PDF"):
        return "pdf, not an image"
    if not head:
        return "empty file"
    return "unrecognised bytes, not a raster image"

