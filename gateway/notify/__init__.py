"""Notifications that reach people: the notifier following the log, its outbox, the recipients' directory, channels."""
