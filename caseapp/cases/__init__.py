"""Cases: episodes of support for a beneficiary at a service point."""
