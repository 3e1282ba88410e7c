"""Administration: partners, service points and user accounts (admin role only; never case contents)."""
