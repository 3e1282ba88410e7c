"""The one access policy: roles → permissions, object checks and list scopes."""
from caseapp.access.policy import PUBLIC, can, get_or_404, requires, scope  # noqa: F401
