"""The CloudEvents-shaped envelope every message travels in."""

from datetime import UTC, datetime
from typing import Any, Generic, Literal, Self, TypeVar, cast
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from codeflow_contracts.message import Message, UserId

DataT = TypeVar("DataT", bound=Message)

TRACEPARENT_PATTERN = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"
"""A W3C Trace Context ``traceparent``: version, trace id, parent span id, flags."""


class Envelope(BaseModel, Generic[DataT]):
    """One event or command, with CloudEvents 1.0 attributes around its payload.

    `subject` is the user the message is about and the Kafka key, so every message about
    one user stays in order on one partition. `traceparent` is CloudEvents' distributed
    tracing extension: the trace the message was written in, absent from the JSON when
    there was none. Other unknown attributes (CloudEvents extensions) are ignored.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: Literal["1.0"] = Field(default="1.0", description="The CloudEvents version.")
    id: UUID = Field(
        description="Unique per message; a consumer skips an id it has already processed."
    )
    source: str = Field(
        min_length=1,
        description="The producing service, as `codeflow/<service>`.",
        examples=["codeflow/auth"],
    )
    type: str = Field(
        min_length=1,
        description="What the payload is, versioned: `codeflow.<entity>.<what>.v<N>`.",
        examples=["codeflow.user.created.v1"],
    )
    time: AwareDatetime = Field(description="When the producer created the message.")
    subject: UserId = Field(
        description="The user the message is about (normally `data.user_id`); the Kafka key."
    )
    datacontenttype: Literal["application/json"] = Field(
        default="application/json", description="The encoding of `data`."
    )
    data: DataT = Field(description="The event or command itself.")
    traceparent: str | None = Field(
        default=None,
        pattern=TRACEPARENT_PATTERN,
        exclude_if=lambda value: value is None,
        description="The W3C Trace Context of the span that wrote the message (CloudEvents' "
        "distributed tracing extension); a consumer's span continues that trace.",
        examples=["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
    )

    @model_validator(mode="after")
    def _type_names_payload(self) -> Self:
        if self.type != self.data.message_type:
            raise ValueError(
                f"envelope type {self.type!r} does not match its payload, "
                f"a {type(self.data).__name__} ({self.data.message_type!r})"
            )
        return self

    @property
    def kafka_key(self) -> bytes:
        """The Kafka record key: the subject, UTF-8 encoded."""
        return self.subject.encode()


def envelope_model(message: type[DataT]) -> type[Envelope[DataT]]:
    """The envelope model parametrized with `message`, for a message class known only at runtime."""
    # A class held in a variable can't be written as a type argument, hence the casts.
    return cast(type[Envelope[DataT]], cast(Any, Envelope)[message])


def new_envelope(
    data: DataT,
    *,
    source: str,
    subject: str | None = None,
    id: UUID | None = None,
    time: datetime | None = None,
    traceparent: str | None = None,
) -> Envelope[DataT]:
    """Wrap a message in a new envelope: a fresh id and the current time unless given.

    The subject defaults to the message's user id; ``traceparent`` is the trace the message
    belongs to, if any.
    """
    return envelope_model(type(data))(
        id=id if id is not None else uuid4(),
        source=source,
        type=data.message_type,
        time=time if time is not None else datetime.now(UTC),
        subject=subject if subject is not None else data.user_id,
        data=data,
        traceparent=traceparent,
    )


def to_json_bytes(envelope: Envelope[Any]) -> bytes:
    """Serialize an envelope to UTF-8 JSON, the form it takes on Kafka."""
    return envelope.model_dump_json(serialize_as_any=True).encode()
