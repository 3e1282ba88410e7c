"""Rendered fragments kept per process: the pieces of a page made only of reference data (accounts, service points,
flags) as one reader sees it, such as the case list's filters. Each is kept under the reference stamp read in the
request's transaction (caseapp.reference_stamp) and the reader's account, so a write to those tables, in any app
server, makes it again, and no reader is ever shown what was made for another. A fragment must not hold anything
of the session (no CSRF token). At most `MAX_KEPT` fragments are kept, the least recently used dropped first."""
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import current_app, g, request
from flask_login import current_user
from markupsafe import Markup

from caseapp.i18n import current_locale_name
from caseapp.reference_stamp import current_stamp

MAX_KEPT = 512


class FragmentStore:
    """A bounded map of rendered fragments, emptied when the stamp changes; safe for a worker's threads."""

    def __init__(self, limit: int = MAX_KEPT):
        self.limit, self.stamp, self._kept, self._lock = limit, None, OrderedDict(), threading.Lock()

    def get(self, stamp: int, key: Hashable) -> Markup | None:
        with self._lock:
            if stamp != self.stamp:
                return None
            fragment = self._kept.get(key)
            if fragment is not None:
                self._kept.move_to_end(key)
            return fragment

    def put(self, stamp: int, key: Hashable, fragment: Markup) -> None:
        with self._lock:
            if stamp != self.stamp:
                self.stamp, self._kept = stamp, OrderedDict()
            self._kept[key] = fragment
            while len(self._kept) > self.limit:
                self._kept.popitem(last=False)


def store() -> FragmentStore:
    """This app's store (one per app object, so each test's app starts empty)."""
    return current_app.extensions.setdefault("caseapp_fragments", FragmentStore())


def fragment(name: str, arguments: Hashable, render: Callable[[], str]) -> Markup:
    """The fragment `name` for the current reader, language and `arguments`, rendered by `render()` when not kept."""
    # Read with the account (auth.session), before anything of its scope: else now, before the fragment's data.
    stamp = g.reference_stamp if "reference_stamp" in g else current_stamp()
    if stamp is None:
        return Markup(render())  # nosec B704 - as below
    user = current_user._get_current_object()
    key = (name, user.id, user.session_version, current_locale_name(), request.script_root, arguments)
    kept = store().get(stamp, key)
    if kept is None:
        kept = Markup(render())  # nosec B704 - an autoescaped template's output, as Jinja marks its own
        store().put(stamp, key, kept)
    return kept
