"""A test-only app describing the Chinook sample database, to prove the copy engine is generic."""
