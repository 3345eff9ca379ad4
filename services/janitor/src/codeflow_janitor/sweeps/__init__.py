"""The sweep: find users inactive for too long and issue their deletions, within limits."""
