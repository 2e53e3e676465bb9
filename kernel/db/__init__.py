"""Database plumbing every room's store uses: units of work with errors translated, the schema
base and column types, retry of writes through short outages."""
