"""Referrals: service directory, referral lifecycle, review queue, partner inbox, notifications, slips."""
