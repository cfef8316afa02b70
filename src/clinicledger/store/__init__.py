"""Storage: SQLAlchemy Core tables, Alembic migrations, engine, unit of work."""
