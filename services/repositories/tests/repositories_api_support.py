"""The repositories API as its tests know it, written once for unit and integration tests."""

from __future__ import annotations

OPERATIONS = frozenset(
    {
        ("GET", "/repositories"),
        ("POST", "/repositories"),
        ("PATCH", "/repositories/{repository_id}"),
        ("DELETE", "/repositories/{repository_id}"),
        ("POST", "/repositories/bulk"),
        ("GET", "/repositories/available"),
        ("POST", "/repositories/refresh"),
    }
)
"""The seven operations the OpenAPI document lists, as ``(METHOD, path)``."""
