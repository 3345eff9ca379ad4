"""CodeFlow repositories service.

The repositories each user monitors, and the dashboard query.
"""
