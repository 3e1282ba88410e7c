"""Home page per role and the interface language switch."""
from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_login import current_user

from caseapp.access.policy import AUTHENTICATED, PUBLIC, can, requires
from caseapp.auth.services import set_preferred_language
from caseapp.cases.assignment import incoming_transfer_count
from caseapp.cases.followups import home_work
from caseapp.home.workplace import workplace
from caseapp.models_base import utcnow
from caseapp.referrals.queries import referral_summary
from caseapp.extensions import db
from caseapp.i18n import LANGUAGES
from caseapp.safe_redirect import is_local_path

bp = Blueprint("home", __name__)


@bp.route("/")
@requires(AUTHENTICATED)
def index():
    work = home_work(current_user, date.today()) if can(current_user, "case.list") else None
    transfers = incoming_transfer_count(current_user) if can(current_user, "case.transfer.decide") else 0
    referrals = referral_summary(current_user, utcnow())
    organisation, points = workplace(current_user)
    return render_template("home/index.html", work=work, transfers=transfers, referrals=referrals,
                           organisation=organisation, points=points)


@bp.route("/language", methods=["POST"])
@requires(PUBLIC)
def set_language():
    language = request.form.get("language", "")
    if language not in LANGUAGES:
        abort(400)
    session["lang"] = language
    if current_user.is_authenticated:
        set_preferred_language(current_user, language)
        db.session.commit()
    target = request.form.get("next")
    return redirect(target if is_local_path(target) else url_for("home.index"))

