"""Fingerprinted static files: content-hashed names cached for a year; plain names still served, briefly cached.

At start every file under the static folder is hashed once (SHA-256 of its bytes, first HASH_LENGTH hex digits)
and templates link `asset("css/app.css")` → `/static/css/app.<hash>.css`. Any change of a file's bytes changes
its URL, so a browser never holds a stale copy and never needs to ask again: those responses say
`public, max-age=31536000, immutable`. The plain name (`/static/css/app.css`) is still served, cached a few
minutes only. A hash that is not the file's current one answers 404: the name promises those exact bytes,
which this server no longer has, and handing it other bytes under that name (or a redirect a cache could keep)
would break the promise the year-long cache relies on.

The files are served by a small WSGI layer in front of Flask (as WhiteNoise does), not by a view: a static file
needs no session, no user and no database, and a response any cache may keep must never carry the session
cookie (Flask refreshes it on every request of a logged-in user) nor `Vary: Cookie`.
"""
import hashlib
import mimetypes
import re
from pathlib import Path

from flask import Flask, current_app, url_for
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.utils import send_file

from caseapp.security.headers import set_content_headers

HASH_LENGTH = 12
LONG_CACHE_SECONDS = 365 * 24 * 3600
SHORT_CACHE_SECONDS = 300
_FINGERPRINTED = re.compile(rf"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{{{HASH_LENGTH}}})(?P<suffix>\.[^./]+)?$")


def _fingerprint(name: str, digest: str) -> str:
    """'css/app.css' → 'css/app.<digest>.css'; a name without extension gets the digest at its end."""
    folder, _, filename = name.rpartition("/")
    stem, dot, suffix = filename.rpartition(".")
    hashed = f"{stem}.{digest}.{suffix}" if dot and stem else f"{filename}.{digest}"
    return f"{folder}/{hashed}" if folder else hashed


class AssetManifest:
    """The content hash of every static file, computed once from the files' bytes."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.digests = {
            path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_LENGTH]
            for path in sorted(folder.rglob("*")) if path.is_file()
        }

    def url_name(self, name: str) -> str:
        """The fingerprinted name of static file `name`; an unknown file is a template bug, so it raises."""
        if name not in self.digests:
            raise LookupError(f"no static file {name!r} under {self.folder}")
        return _fingerprint(name, self.digests[name])

    def resolve(self, requested: str) -> tuple[str, bool] | None:
        """(file name, fingerprinted?) for a requested name, or None when it names no current file."""
        if requested in self.digests:
            return requested, False
        match = _FINGERPRINTED.match(requested)
        if match is None:
            return None
        name = match["stem"] + (match["suffix"] or "")
        if self.digests.get(name) != match["digest"]:
            return None  # unknown file, or an outdated hash
        return name, True


class StaticFiles:
    """WSGI middleware answering GET/HEAD under the static URL path from the manifest; the rest goes to Flask."""

    def __init__(self, wsgi_app, manifest: AssetManifest, url_path: str):
        self.wsgi_app = wsgi_app
        self.manifest = manifest
        self.prefix = url_path.rstrip("/") + "/"

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith(self.prefix):
            return self.wsgi_app(environ, start_response)
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            response = MethodNotAllowed(valid_methods=["GET", "HEAD"]).get_response(environ)
        else:
            response = self._file_response(path[len(self.prefix):], environ)
        set_content_headers(response.headers)
        return response(environ, start_response)

    def _file_response(self, requested: str, environ):
        resolved = self.manifest.resolve(requested)
        if resolved is None:
            response = NotFound().get_response(environ)
            response.cache_control.no_cache = True
            return response
        name, fingerprinted = resolved
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        response = send_file(self.manifest.folder / name, environ, mimetype=mimetype,
                             max_age=LONG_CACHE_SECONDS if fingerprinted else SHORT_CACHE_SECONDS)
        if fingerprinted:
            response.cache_control.immutable = True
        return response


def asset(name: str) -> str:
    """URL of static file `name` with its content hash (the templates' only way to link a static file)."""
    return url_for("static", filename=current_app.extensions["caseapp_assets"].url_name(name))


def init_assets(app: Flask) -> None:
    """Hash the static files, serve them in front of the app and give templates `asset(...)`."""
    manifest = AssetManifest(Path(app.static_folder))
    app.extensions["caseapp_assets"] = manifest
    app.wsgi_app = StaticFiles(app.wsgi_app, manifest, app.static_url_path)
    app.jinja_env.globals["asset"] = asset
