"""CodeFlow auth service.

GitHub sign-in, the Auth.js tables, sessions, and the JWTs the gateway forwards; emits user
events.
"""
