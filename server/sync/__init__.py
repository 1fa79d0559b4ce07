"""Offline sync: pull with an xid8 fence, idempotent ordered push, merge, review, files."""
