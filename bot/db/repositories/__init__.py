"""Repositories: SQL in, plain records out. One `Repositories` bundle shares a session (one transaction)."""
