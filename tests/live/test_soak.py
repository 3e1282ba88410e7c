"""A short soak: many users on two app servers, mixed reads and writes; no error, no acknowledged write lost.

The long run with memory figures is bench/soak.py; this one keeps only what a few seconds can show.
"""
from caseapp.audit.chain import verify_chain
from caseapp.extensions import db
from tests.conftest import PASSWORD
from tests.live.workload import Account, lost_writes, run_users

SOAK_SECONDS = 20
VIRTUAL_USERS = 8
CASEWORKERS = ("caseworker_a", "caseworker_a2", "caseworker_b", "caseworker_restricted")


def test_a_short_soak_has_no_error_and_loses_no_write(app, world, app_servers):
    accounts = [Account(world.username(key), PASSWORD) for key in CASEWORKERS]
    tally = run_users(app_servers.urls, accounts, users=VIRTUAL_USERS, seconds=SOAK_SECONDS)
    assert tally.errors == [], app_servers.logs()
    assert tally.requests["login"] == VIRTUAL_USERS and tally.writes
    with app.app_context():
        assert lost_writes(tally.writes) == []
        assert verify_chain(db.session).broken is None
    assert app_servers.new_failures() == {}
