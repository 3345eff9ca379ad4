"""Monitored repositories: the HTTP API, its service layer and its queries."""
