"""Users, login and logout."""
