"""The database the service opens: engine and connection settings, every room's tables on one
MetaData, Alembic migrations run at startup."""
