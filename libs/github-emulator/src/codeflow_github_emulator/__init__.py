"""A local stand-in for GitHub's OAuth and REST API."""
