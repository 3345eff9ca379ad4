"""Carrying out the janitor's ``DeleteUserData``: auth decides each erasure and starts it.

:mod:`.service` decides and answers, :mod:`.repository` holds the SQL.
"""

from codeflow_auth.deletion.service import ActivityEvidence, carry_out_deletions

__all__ = ["ActivityEvidence", "carry_out_deletions"]
