"""Who is calling: JWTs signed by auth, verified by every service."""
