"""Profiles: who each user is on GitHub, kept from auth's events, and read over HTTP."""
