"""What every CodeFlow service is built from.

- :class:`ServiceSettings`: database, Kafka and JWT settings (subclass with an env prefix);
- :func:`create_service_app`: the FastAPI app with the shared lifespan and health checks;
- :data:`DbSession` and :data:`CurrentIdentity`: the request's transaction and caller.
"""

from codeflow_service.app import Runtime, create_service_app
from codeflow_service.dependencies import CurrentIdentity, DbSession, db_session
from codeflow_service.settings import Environment, ServiceSettings

__all__ = [
    "CurrentIdentity",
    "DbSession",
    "Environment",
    "Runtime",
    "ServiceSettings",
    "create_service_app",
    "db_session",
]
