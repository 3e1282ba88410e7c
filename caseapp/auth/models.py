"""The user account: one partner, one or more service points, one role."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.extensions import db
from caseapp.models_base import utcnow
from caseapp.security.encryption import Encrypted, SealedText

user_service_point = Table(
    "user_service_point",
    db.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("service_point_id", ForeignKey("service_point.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    """A staff member of a partner organisation."""

    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(160))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    preferred_language: Mapped[str | None] = mapped_column(String(5))
    restricted_access: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    session_version: Mapped[int] = mapped_column(default=1)
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    # Second factor (TOTP): the secret is encrypted at rest; the last accepted time step refuses a replayed code.
    row_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    _totp_secret_sealed: Mapped[str | None] = mapped_column("totp_secret", SealedText)
    _totp_pending_secret_sealed: Mapped[str | None] = mapped_column("totp_pending_secret", SealedText)
    totp_last_step: Mapped[int | None] = mapped_column()
    mfa_enabled_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    totp_secret = Encrypted()
    totp_pending_secret = Encrypted()

    partner: Mapped["Partner"] = relationship()  # noqa: F821
    service_points: Mapped[list["ServicePoint"]] = relationship(  # noqa: F821
        secondary=user_service_point, order_by="ServicePoint.code"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def get_id(self) -> str:
        """Session identity: id and session version, so bumping the version revokes old cookies."""
        return f"{self.id}:{self.session_version}"

    @property
    def service_point_ids(self) -> set[int]:
        return {sp.id for sp in self.service_points}

    @property
    def mfa_enabled(self) -> bool:
        return self.mfa_enabled_at is not None


class RecoveryCode(db.Model):
    """A one-time code that replaces the authenticator app once; only its hash is kept."""

    __tablename__ = "recovery_code"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
