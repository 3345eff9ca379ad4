"""The checker: what must hold after a chaos run, compared between the history (what every
client was told) and the state (what the system holds once it has settled).

Each rule has a stable name and returns the violations it finds, each naming the operations
involved, so a report can say what broke and where to look, and which rules held. A rule that
finds nothing returns nothing; the rules are tested with hand-made histories and states that
break each one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from codeflow_chaos.history import Operation, OperationKind
from codeflow_chaos.state import Applied, Erasure, Produced, SystemState

PROBLEM = "application/problem+json"

OUTCOME_UNKNOWN: frozenset[int | None] = frozenset({502, 504, None})
"""Answers that don't say whether the request was carried out: the gateway lost the
service (502: maybe after it had the request) or gave up on it (504), or no answer came."""

ACTIVITY: frozenset[OperationKind] = frozenset(
    {"sign_in", "dashboard", "monitor", "bulk", "stop_monitoring"}
)
"""Operations that reach auth's session check (or are a sign-in): activity, as auth sees it."""


@dataclass(frozen=True)
class Violation:
    rule: str
    detail: str
    operations: tuple[int, ...] = ()
    """The ``seq`` of every operation involved."""


Find = Callable[[Sequence[Operation], SystemState], Iterator[Violation]]


@dataclass(frozen=True)
class Rule:
    """One invariant: the name its violations carry, and how to find them."""

    name: str
    find: Find

    def __call__(self, history: Sequence[Operation], state: SystemState) -> Iterator[Violation]:
        return self.find(history, state)


@dataclass(frozen=True)
class Verdict:
    """What one rule found in a run: it holds when it found no violation."""

    rule: str
    violations: tuple[Violation, ...] = ()

    @property
    def holds(self) -> bool:
        return not self.violations


def _erased_at(erasure: Erasure) -> datetime | None:
    """When the person's data started to go: auth's erasure, or the completion if the
    ledger has no earlier moment."""
    return erasure.auth_acked_at or erasure.completed_at


def _erasures_by_user(state: SystemState) -> dict[str, Erasure]:
    return {e.user_id: e for e in state.erasures if _erased_at(e) is not None}


def acknowledged_writes_are_kept(
    history: Sequence[Operation], state: SystemState
) -> Iterator[Violation]:
    """Every repository a client was told it monitors is there, unless its owner was erased
    after the write; a write acknowledged after its owner's erasure is a violation too."""
    erased = _erasures_by_user(state)
    for op in history:
        if not op.acknowledged_write or op.kind == "stop_monitoring" or op.user_id is None:
            continue
        erasure = erased.get(op.user_id)
        erased_at = _erased_at(erasure) if erasure else None
        if erased_at is not None and op.started >= erased_at:
            yield Violation(
                "acknowledged-writes-kept",
                f"{op.kind} by {op.user_id} acknowledged ({op.status}) after their erasure "
                f"at {erased_at.isoformat()}",
                (op.seq,),
            )
            continue
        if erased_at is not None:
            continue  # erased after the write: the rows went with them
        missing = [g for g in op.github_ids if (op.user_id, g) not in state.repositories]
        if missing:
            yield Violation(
                "acknowledged-writes-kept",
                f"{op.kind} by {op.user_id} was acknowledged ({op.status}) but repositories "
                f"{missing} are not stored",
                (op.seq,),
            )


def erased_people_are_gone(history: Sequence[Operation], state: SystemState) -> Iterator[Violation]:
    """Nothing of a person whose erasure completed is left in any service."""
    for erasure in state.erasures:
        if erasure.completed_at is None:
            continue
        user = erasure.user_id
        left = [
            where
            for where, present in (
                ("auth", user in state.auth_users),
                ("profiles", user in state.profiles),
                ("repositories", any(owner == user for owner, _ in state.repositories)),
                ("janitor activity", user in state.activity),
            )
            if present
        ]
        if left:
            yield Violation(
                "erased-people-gone",
                f"{user}'s erasure completed, but {', '.join(left)} still hold them",
                tuple(op.seq for op in history if op.user_id == user),
            )


def nobody_active_is_erased(
    history: Sequence[Operation], state: SystemState
) -> Iterator[Violation]:
    """No erasure for inactivity went ahead over a person who was active after its cutoff
    and before it started, unless they asked to leave meanwhile: the janitor folds such a
    request into the erasure in flight, which auth then lets go ahead. Asking counts when
    it was granted, or when no verdict came back (a 502, a 504 or no answer: the request may
    still have been carried out); a refusal doesn't."""
    for erasure in state.erasures:
        erased_at = _erased_at(erasure)
        cutoff = erasure.inactive_since
        if erasure.reason != "inactive" or erased_at is None or cutoff is None:
            continue
        if any(
            op.user_id == erasure.user_id
            and op.kind == "delete_account"
            and (op.succeeded or op.status in OUTCOME_UNKNOWN)
            and op.started < erased_at
            for op in history
        ):
            continue
        active = [
            op.seq
            for op in history
            if op.user_id == erasure.user_id
            and op.kind in ACTIVITY
            and op.succeeded
            and cutoff < op.started
            and op.ended < erased_at
        ]
        if active:
            yield Violation(
                "nobody-active-erased",
                f"{erasure.user_id} was erased for inactivity since {cutoff.isoformat()} at "
                f"{erased_at.isoformat()}, but was active in between",
                tuple(active),
            )


def nothing_is_dead_lettered(
    history: Sequence[Operation], state: SystemState
) -> Iterator[Violation]:
    """No message sits in a dead-letter topic."""
    for topic, records in sorted(state.dead_letters.items()):
        if records:
            yield Violation("no-dead-letters", f"{records} record(s) in {topic}")


def no_outbox_row_is_stuck(history: Sequence[Operation], state: SystemState) -> Iterator[Violation]:
    """No outbox row is set aside, or still pending once the run settled."""
    for service, rows in sorted(state.stuck_outbox_rows.items()):
        if rows:
            yield Violation("no-stuck-outbox", f"{rows} outbox row(s) of {service} stuck")


def events_applied_in_order(
    history: Sequence[Operation], state: SystemState
) -> Iterator[Violation]:
    """Each consumer processed each key's messages in the order their producer wrote them.

    A producer's outbox ids order its messages; Kafka keeps that order per topic and key (one
    partition), so that is the order a consumer must first record them in its inbox. Messages
    recorded at the same moment (one transaction) are in order whatever their ids.
    """
    produced = {p.message_id: p for p in state.produced}
    streams: defaultdict[tuple[str, str, str, str], list[tuple[Produced, Applied]]]
    streams = defaultdict(list)
    for record in state.applied:
        origin = produced.get(record.message_id)
        if origin is not None:
            streams[record.consumer, origin.producer, origin.topic, origin.key].append(
                (origin, record)
            )
    seqs = _seqs_by_user(history)
    for consumer, producer, topic, key in sorted(streams):
        stream = streams[consumer, producer, topic, key]
        stream.sort(key=lambda pair: pair[0].id)
        latest: tuple[Produced, Applied] | None = None  # produced earlier, processed last
        for message, applied in stream:
            if latest is None or applied.processed_at > latest[1].processed_at:
                latest = message, applied
            elif applied.processed_at < latest[1].processed_at:
                earlier, earlier_applied = latest
                yield Violation(
                    "events-in-order",
                    f"{consumer} processed {producer}'s {message.message_type} "
                    f"{message.message_id} (outbox id {message.id}) at "
                    f"{applied.processed_at.isoformat()}, before {earlier.message_type} "
                    f"{earlier.message_id} (outbox id {earlier.id}, produced earlier) at "
                    f"{earlier_applied.processed_at.isoformat()}, both on {topic} for key {key}",
                    seqs.get(key, ()),
                )


def _seqs_by_user(history: Sequence[Operation]) -> dict[str, tuple[int, ...]]:
    seqs: defaultdict[str, list[int]] = defaultdict(list)
    for op in history:
        if op.user_id is not None:
            seqs[op.user_id].append(op.seq)
    return {user: tuple(found) for user, found in seqs.items()}


def errors_are_problems(history: Sequence[Operation], state: SystemState) -> Iterator[Violation]:
    """Every error CodeFlow answered is a problem response: no 500, no bare 502/503/504, a
    503 says when to retry, and every request got an answer within the client's timeout.
    (What GitHub answered a person during a sign-in is GitHub's matter.)"""
    for op in history:
        if not op.answered_by_codeflow:
            continue
        if op.status is None:
            yield Violation(
                "errors-are-problems", f"{op.kind} got no answer within the timeout", (op.seq,)
            )
        elif op.status >= 500:
            wrong = None
            if op.status not in (502, 503, 504):
                wrong = f"answered {op.status}"
            elif op.content_type is None or not op.content_type.startswith(PROBLEM):
                wrong = f"answered {op.status} as {op.content_type}, not a problem"
            elif op.status == 503 and not op.retry_after:
                wrong = "answered 503 without Retry-After"
            if wrong:
                yield Violation("errors-are-problems", f"{op.kind} {wrong}", (op.seq,))


RULES: tuple[Rule, ...] = (
    Rule("acknowledged-writes-kept", acknowledged_writes_are_kept),
    Rule("erased-people-gone", erased_people_are_gone),
    Rule("nobody-active-erased", nobody_active_is_erased),
    Rule("no-dead-letters", nothing_is_dead_lettered),
    Rule("no-stuck-outbox", no_outbox_row_is_stuck),
    Rule("events-in-order", events_applied_in_order),
    Rule("errors-are-problems", errors_are_problems),
)
"""Every rule, in the order they are checked and reported."""


def verdicts(history: Sequence[Operation], state: SystemState) -> list[Verdict]:
    """What each rule found, in the rules' order; a rule that found nothing holds."""
    return [Verdict(rule.name, tuple(rule(history, state))) for rule in RULES]


def check(history: Sequence[Operation], state: SystemState) -> list[Violation]:
    """Every violation of every rule, in the rules' order."""
    return [violation for verdict in verdicts(history, state) for violation in verdict.violations]
