"""A generated referral through `referrals.services`: created with the sharing consent, then moved along
TRANSITIONS to its final status, with its timeline, audit events and the notifications the services send."""
import random
from datetime import datetime, timedelta

from caseapp.generate import texts
from caseapp.generate.people import Registered
from caseapp.generate.records import Chunk
from caseapp.generate.setting import Setting, Staff
from caseapp.generate.timing import between, spread
from caseapp.referrals.models import OPEN_FOR_RECEIVER, OUTCOMES, SHAREABLE_FIELDS
from caseapp.referrals.services import CREATE_FIELDS, TRANSITIONS

# The actions that bring a new referral to each status (a cancellation may come at several points).
PATHS = {
    "draft": (), "submitted": ("submit",), "returned": ("submit", "return"), "approved": ("submit", "approve"),
    "accepted": ("submit", "approve", "accept"), "declined": ("submit", "approve", "decline"),
    "in_progress": ("submit", "approve", "accept", "start"),
    "completed": ("submit", "approve", "accept", "start", "complete"),
}
CANCELLED_AFTER = ((), ("submit",), ("submit", "approve"), ("submit", "approve", "accept"))
REVIEW_ACTIONS = ("approve", "return")
ANSWER_ACTIONS = ("accept", "decline", "start", "complete")
NOTIFIED_REFERRERS = {"return": "referral.returned", "accept": "referral.accepted", "decline": "referral.declined",
                      "complete": "referral.completed"}
READ_AFTER_DAYS = 7  # older notifications have been read


def _path(rng: random.Random, status: str) -> list[str]:
    actions = list(PATHS[status]) if status != "cancelled" else [*rng.choice(CANCELLED_AFTER), "cancel"]
    if "approve" in actions and rng.random() < 0.1:  # returned once for more detail, then submitted again
        actions[1:1] = ["return", "submit"]
    return actions


def _gap(rng: random.Random, action: str, deadline_days: float) -> float:
    """Typical delay in days before `action` (an answer mostly within the deadline, sometimes late)."""
    if action in ("accept", "decline"):
        return deadline_days * (rng.uniform(0.05, 0.9) if rng.random() < 0.8 else rng.uniform(1, 2))
    low, high = {"submit": (0, 0.3), "approve": (0.05, 3), "return": (0.05, 3), "start": (0.5, 10),
                 "complete": (5, 60), "cancel": (0.5, 20)}[action]
    return rng.uniform(low, high)


def _notify(chunk: Chunk, users: list[Staff], kind: str, referral: dict, at: datetime, end: datetime,
            rng: random.Random) -> None:
    """One notification per distinct user (`notifications.notify`); read unless recent."""
    for user_id in dict.fromkeys(user.id for user in users):
        read = at + timedelta(hours=rng.uniform(0.5, 72)) if at < end - timedelta(days=READ_AFTER_DAYS) else None
        chunk.add("notification", {"user_id": user_id, "kind": kind, "referral_id": referral["id"],
                                   "created_at": at, "read_at": read, "emailed_at": None})


def _actor(rng: random.Random, setting: Setting, reg: Registered, referral: dict, action: str) -> Staff | None:
    """Who takes `action`: the case's worker, a supervisor of the case's organisation, or the receiving partner's
    focal point (the referring side records the answer of a partner without accounts)."""
    if action in REVIEW_ACTIONS:
        supervisors = reg.point.supervisors
        return rng.choice(supervisors) if supervisors else None
    receivers = setting.receivers.get(referral["receiving_partner_id"])
    if action in ANSWER_ACTIONS and receivers:
        return rng.choice(receivers)
    return reg.worker


def _apply(referral: dict, action: str, at: datetime, setting: Setting, rng: random.Random) -> None:
    """The fields a move sets (`services._apply`)."""
    referral["status"] = TRANSITIONS[action][1]
    referral["version"] += 1
    if action == "approve":
        referral["sent_at"] = at
        referral["deadline_at"] = at + timedelta(hours=setting.deadline_hours[referral["priority"]])
    elif action in ("accept", "decline"):
        referral["answered_at"] = at
        if action == "accept":
            referral["accepted_at"] = at
    elif action == "complete":
        referral["completed_at"], referral["outcome"] = at, rng.choice(OUTCOMES)


def _notify_move(chunk: Chunk, setting: Setting, reg: Registered, referral: dict, action: str, previous: str,
                 at: datetime, end: datetime, rng: random.Random) -> None:
    """The notifications of one move (`services._notify`)."""
    receivers = setting.receivers.get(referral["receiving_partner_id"], [])
    if action == "submit":
        _notify(chunk, setting.supervisors.get(reg.case["partner_id"], []), "referral.submitted", referral, at, end,
                rng)
    elif action == "approve":
        _notify(chunk, receivers, "referral.approved", referral, at, end, rng)
    elif action in NOTIFIED_REFERRERS:
        _notify(chunk, [reg.worker], NOTIFIED_REFERRERS[action], referral, at, end, rng)
    elif action == "cancel" and previous in OPEN_FOR_RECEIVER:
        _notify(chunk, receivers, "referral.cancelled", referral, at, end, rng)


def _comment(rng: random.Random, action: str) -> str | None:
    if action == "return":
        return rng.choice(texts.RETURN_COMMENTS)
    if action == "decline":
        return rng.choice(texts.DECLINE_COMMENTS)
    return None


def refer(chunk: Chunk, setting: Setting, reg: Registered, status: str, window: tuple[datetime, datetime],
          limit: datetime, end: datetime, rng: random.Random) -> None:
    """One referral of the case created within `window`, ending in `status` (or earlier when nobody can take the
    next step) with every move before `limit`."""
    offers = setting.directory.get(reg.person["commune_code"])
    if not offers:
        return
    partner_id, service_code = rng.choice(offers)
    priority = rng.choices(("emergency", "urgent", "normal"), weights=(10, 25, 65))[0]
    actions = _path(rng, status)
    gaps = [_gap(rng, action, setting.deadline_hours[priority] / 24) for action in actions]
    # created early enough for its moves to take their usual time when the window allows
    worker, created_at = reg.worker, between(rng, window[0], min(window[1], limit - timedelta(days=sum(gaps))))
    consent = None
    if actions or rng.random() < 0.6:  # a draft may wait for the consent; submitting needs it
        method = rng.choice(("signed_form", "signed_form", "signed_form", "oral_witness"))
        consent = chunk.add("consent_record", {
            "beneficiary_id": reg.person["id"], "kind": "sharing", "method": method, "partner_id": partner_id,
            "witness_name": rng.choice(texts.WITNESSES) if method == "oral_witness" else None, "legal_basis": None,
            "given_at": created_at, "recorded_by_id": worker.id, "withdrawn_at": None, "withdrawn_by_id": None})
        chunk.audit(created_at, worker, "consent.record", "consent_record", consent["id"], kind="sharing",
                    partner_id=partner_id, method=method)
    referral = chunk.add("referral", {
        "case_id": reg.case["id"], "partner_id": reg.case["partner_id"],
        "service_point_id": reg.case["service_point_id"], "service_code": service_code, "receiving_partner_id": partner_id,
        "priority": priority, "reason": texts.REFERRAL_REASONS[setting.service_area[service_code]],
        "shared_fields": ",".join(sorted(rng.sample(SHAREABLE_FIELDS, rng.randint(0, 2)))),
        "consent_id": consent["id"] if consent else None, "status": "draft", "created_by_id": worker.id,
        "created_at": created_at, "sent_at": None, "deadline_at": None, "answered_at": None, "accepted_at": None,
        "completed_at": None, "outcome": None, "version": 1})
    chunk.audit(created_at, worker, "referral.create", "referral", referral["id"], case_id=reg.case["id"],
                fields=CREATE_FIELDS)
    moments = spread(created_at, gaps, limit)
    for action, at in zip(actions, moments):
        actor = _actor(rng, setting, reg, referral, action)
        if actor is None:
            return  # no supervisor to review it: it waits
        previous = referral["status"]
        _apply(referral, action, at, setting, rng)
        chunk.add("referral_event", {"referral_id": referral["id"], "action": action, "from_status": previous,
                                     "to_status": referral["status"], "comment": _comment(rng, action),
                                     "actor_id": actor.id, "at": at})
        chunk.audit(at, actor, f"referral.{action}", "referral", referral["id"], from_status=previous,
                    to_status=referral["status"])
        _notify_move(chunk, setting, reg, referral, action, previous, at, end, rng)
