"""CodeFlow's fault soak (``make chaos``): the history a run records, and the checker that
compares it with what the services hold afterwards."""
