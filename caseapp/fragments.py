"""What a process keeps per reader under the reference stamp: rendered fragments, the pieces of a page made only of
reference data (accounts, service points, flags) as one reader sees it, such as the case list's filters; and built
SQL statements whose only inputs are the reader's scope and values that are no one's personal data, such as the
case list's count and page of rows for a set of filters. Each is kept under the reference stamp read in the
request's transaction (caseapp.reference_stamp) and the reader's account, so a write to those tables, in any app
server, makes it again, and no reader is ever shown or runs what was made for another. A fragment must not hold
anything of the session (no CSRF token). Each store is bounded, the least recently used dropped first."""
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import current_app, g, has_request_context, request
from flask_login import current_user
from markupsafe import Markup

from caseapp.i18n import current_locale_name
from caseapp.reference_stamp import current_stamp

MAX_KEPT = 512
STATEMENTS, MAX_STATEMENTS = "caseapp_statements", 256  # statements: the case list's, per reader and filters
T = TypeVar("T")


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


def store(name: str = "caseapp_fragments", limit: int = MAX_KEPT) -> FragmentStore:
    """This app's store `name` (one per app object, so each test's app starts empty)."""
    return current_app.extensions.setdefault(name, FragmentStore(limit))


def _kept(kept_in: FragmentStore, key: Hashable, make: Callable[[], Any]) -> Any:
    """The value kept under `key` for the request's reference stamp, made by `make()` (and kept) when there is none."""
    # Read with the account (auth.session), before anything of its scope: else now, before the value's data.
    stamp = g.reference_stamp if "reference_stamp" in g else current_stamp()
    if stamp is None:
        return make()
    value = kept_in.get(stamp, key)
    if value is None:
        value = make()
        kept_in.put(stamp, key, value)
    return value


def fragment(name: str, arguments: Hashable, render: Callable[[], str]) -> Markup:
    """The fragment `name` for the current reader, language and `arguments`, rendered by `render()` when not kept."""
    user = current_user._get_current_object()
    key = (name, user.id, user.session_version, current_locale_name(), request.script_root, arguments)
    # an autoescaped template's output, as Jinja marks its own
    return _kept(store(), key, lambda: Markup(render()))  # nosec B704


def kept_statement(actor, name: str, arguments: Hashable, build: Callable[[], T]) -> T:
    """The SQL statement `name` of `actor` for `arguments` (values that are no one's personal data), built by
    `build()` when not kept. Building a statement and its cache key (which SQLAlchemy works out once per statement
    object) costs ~0.3–0.5 ms each time; a kept statement is run again with both. Outside a request: built."""
    if not has_request_context():
        return build()
    key = (name, actor.id, actor.session_version, arguments)
    return _kept(store(STATEMENTS, MAX_STATEMENTS), key, build)
