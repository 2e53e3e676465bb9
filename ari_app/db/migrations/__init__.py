"""Alembic migrations; run them with `ari_app.db.migrate`, not the `alembic` command."""
