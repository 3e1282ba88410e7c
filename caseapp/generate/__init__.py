"""Synthetic data for load tests, benchmarks, backups and demos: realistic people with two years of case work,
written in bulk exactly as the services would have written it (`flask caseapp generate`)."""
