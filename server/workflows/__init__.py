"""Workflow rules: what the CRM does by itself when something happens (README "Workflow rules")."""
