"""In-app notifications: a user's messages, on the web and synced to their phone."""
