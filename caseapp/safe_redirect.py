"""Following a `next` URL only when it is a path on this site."""
from urllib.parse import urlsplit


def is_local_path(target: str | None) -> bool:
    """True for '/x' style paths; false for '//host', absolute URLs, backslashes and control characters."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    if any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
