"""CodeFlow profiles service.

GitHub profiles of signed-in users (user_profiles), fed by user events.
"""
