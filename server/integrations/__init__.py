"""What leaves the server: webhooks, email, calendar feeds."""
