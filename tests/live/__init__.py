"""Live tests: real gunicorn app servers on loopback, several at once, on the suite's database."""
