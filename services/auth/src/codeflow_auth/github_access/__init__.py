"""Acting on GitHub for a person: the internal routes other services call, with the
person's token, which never leaves auth."""
