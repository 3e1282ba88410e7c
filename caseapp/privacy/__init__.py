"""Data-protection rights (law 09-08): consents, subject access, erasure and retention."""
