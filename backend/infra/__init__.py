"""Infrastructure: configuration, the database and its migrations, raw SQL for hot paths,
logs and their redaction, the password hashing workspace. No domain rules."""
