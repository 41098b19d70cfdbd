"""Hostile input and operator trials (issue 10), on SQLite and PostgreSQL."""
