"""Passwords, sessions, response headers and database connection safety."""
