from codeflow_contracts import topics


def test_the_four_topics_carry_the_names_of_the_architecture() -> None:
    assert topics.ALL_TOPICS == (
        "auth.user-events",
        "repositories.repository-events",
        "janitor.user-deletion-commands",
        "user-deletion-acks",
    )


def test_a_dead_letter_topic_is_named_after_its_source_topic_and_consumer_group() -> None:
    assert (
        topics.dead_letter_topic(topics.USER_EVENTS, "profiles") == "auth.user-events.profiles.dlq"
    )
