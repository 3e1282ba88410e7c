"""Partner organisations sharing the system."""
