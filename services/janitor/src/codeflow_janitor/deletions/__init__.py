"""The ``deletions`` ledger: issuing ``DeleteUserData``, acknowledgements, re-sending, views."""
