"""CodeFlow janitor service.

Finds users inactive for 90 days and runs the cascade-delete saga across services.
"""
