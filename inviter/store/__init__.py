"""The database: tables, sessions, migrations, the send run's recorder, versions and UIDs."""
