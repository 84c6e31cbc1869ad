"""Helpers for tests and demos: a throw-away PKI (never for production)."""
