"""The ``user_activity`` projection, fed by auth's ``UserCreated`` and ``UserActive``."""
