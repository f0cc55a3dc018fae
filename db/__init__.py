"""The PrefLens store: SQLAlchemy models, sessions, migrations and queries (no torch here)."""
