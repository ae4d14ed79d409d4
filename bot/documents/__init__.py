"""Printable documents (PDF, A4, WeasyPrint): the invite cards handed to people and the completion certificate
(Mẫu 54). A renderer takes plain records and returns bytes; it reads no database and asks no permission — the
services in bot/services (invite_cards, completion) decide who may print what and audit it.

WeasyPrint is imported when a document is first rendered, so a process that prints nothing never loads it."""
