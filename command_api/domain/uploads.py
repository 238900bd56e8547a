"""What an uploaded file is: its content type sniffed from the bytes, and whether chats accept it (SPEC §3.16)."""

import mimetypes
from pathlib import PurePath

MAX_FILE_BYTES = 50 * 1024 * 1024
ALLOWED_EXTENSIONS = (
    ".txt .pdf .doc .docx .xls .xlsx .csv .jpg .jpeg .png .gif .webp .mp4 .mov .avi .mp3 .wav .html .htm .css .js "
    ".xml .md .ics .vcf .rtf .tsv .yaml .yml .py .c"
).split()
# Image types no LLM provider accepts, refused whatever type the client claims.
UNSUPPORTED_IMAGE_EXTENSIONS = (".svg", ".svgz", ".bmp", ".tif", ".tiff")
SUPPORTED_IMAGE_TYPES = ("image/gif", "image/heic", "image/heif", "image/jpeg", "image/png", "image/webp")

SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"PK\x03\x04", None),  # zip containers (docx, xlsx): the extension says which
)


def extension(name: str) -> str:
    return PurePath(name).suffix.lower()


def sniffed_type(name: str, claimed: str, content: bytes) -> str:
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    for signature, content_type in SIGNATURES:
        if content.startswith(signature) and content_type:
            return content_type
    return mimetypes.guess_type(name)[0] or claimed or "application/octet-stream"


def refusal(name: str, claimed: str, content_type: str) -> str | None:
    """Why a chat refuses this file, or None."""
    ext = extension(name)
    unsupported_image = content_type.startswith("image/") and content_type not in SUPPORTED_IMAGE_TYPES
    if ext in UNSUPPORTED_IMAGE_EXTENSIONS or unsupported_image:
        return f"The image `{name}` is not a supported image type. Supported types: GIF, HEIC, HEIF, JPEG, PNG, WEBP."
    if not claimed.startswith("text/") and ext not in ALLOWED_EXTENSIONS:
        return f"File type '{ext}' is not supported. Allowed types: {', '.join(ALLOWED_EXTENSIONS)}"
    return None
