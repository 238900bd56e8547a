"""Chatbot.publish_version: version numbering and which published version serves traffic by default."""

import pytest


def publish(chatbot, make_default: bool = False, description: str = "") -> dict:
    return chatbot.publish_version(f"version-{len(chatbot.versions) + 1}", description, make_default)


def default_version_numbers(chatbot) -> list[int]:
    return [v["version_number"] for v in chatbot.versions if v["is_default_version"]]


def test_an_unpublished_chatbot_works_on_version_one(chatbot):
    assert chatbot.version_number == 1
    assert chatbot.versions == []


def test_the_first_published_version_becomes_the_default_even_unasked(chatbot):
    version = publish(chatbot, make_default=False)

    assert version["version_number"] == 1
    assert version["is_default_version"] is True


def test_each_published_version_takes_the_next_number(chatbot):
    numbers = [publish(chatbot)["version_number"] for _ in range(3)]

    assert numbers == [1, 2, 3]
    assert chatbot.version_number == 4


def test_a_later_version_does_not_take_the_default_unless_asked(chatbot):
    publish(chatbot)
    second = publish(chatbot, make_default=False)

    assert second["is_default_version"] is False
    assert default_version_numbers(chatbot) == [1]


def test_make_default_moves_the_default_to_the_new_version(chatbot):
    publish(chatbot)
    publish(chatbot)
    publish(chatbot, make_default=True)

    assert default_version_numbers(chatbot) == [3]


def test_a_published_version_keeps_the_llm_config_it_was_published_with(chatbot):
    version = publish(chatbot)

    chatbot.llm["model"] = "changed-later"

    assert version["llm"]["model"] == "m"


def test_the_version_records_the_name_description_and_id_given(chatbot):
    version = chatbot.publish_version("public-id", "first cut", False)

    assert (version["name"], version["version_id"], version["version_description"]) == ("Bot", "public-id", "first cut")


@pytest.mark.parametrize("make_default", [False, True])
def test_publishing_is_one_event_of_the_chatbots_team(chatbot, make_default):
    publish(chatbot, make_default=make_default)

    created, published = chatbot.collect_events()

    assert type(published).__qualname__ == "Chatbot.VersionPublished"
    assert published.team == created.team == "acme"
    assert published.is_default_version is True
