"""The shared rate-limit store: one counter per key and time window, in the database every app server uses."""
from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from caseapp.extensions import db


class RateLimitCounter(db.Model):
    """Requests counted for one key (e.g. "LOGIN_RATE_LIMIT:ip:10.0.0.7") in the window starting at `window_start`."""

    __tablename__ = "rate_limit_counter"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # window start, whole seconds since the epoch
    count: Mapped[int] = mapped_column(default=0)
