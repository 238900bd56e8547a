"""Chatbot pipelines end to end: the client's Python-node example reading page context, an LLM node whose
prompt reads it too, routing, state kept between messages, effects recorded as events, and bad pipelines
refused at creation."""

import json
import uuid

import pytest

from schemas.errors import ApiError
from tests.stack import ChatClient, eventually

CLIENT_EXAMPLE = """
from python_node import get_session_state_key, set_session_state_key, add_session_tag

def main(input, **kwargs):
    product_id = get_session_state_key("page_context.product_id")
    asked = (get_session_state_key("questions_asked") or 0) + 1
    set_session_state_key("questions_asked", asked)
    add_session_tag("asked-about-" + str(product_id))
    return f"Question {asked} about product {product_id}: {input}"
"""


# The client's own example (seed-api.md, "In Python Nodes"), exactly as written: main's body.
SEED_API_EXAMPLE = """from python_node import get_session_state_key

# Get the entire page context
page_context = get_session_state_key("page_context")

# Access specific values
product_id = get_session_state_key("page_context.product_id")
product_name = get_session_state_key("page_context.product_name")

# Use the context to customize behavior
if product_id:
    return f"I can help you with {product_name}!"
else:
    return "How can I assist you today?"
"""


def pipeline_chatbot(stack, tenant, tmp_path, pipeline: dict, llm_base_url: str) -> str:
    path = tmp_path / f"{uuid.uuid4()}.json"
    path.write_text(json.dumps(pipeline))
    return stack.admin(
        f"create-chatbot --team {tenant.slug} --name Piped --provider openai --base-url {llm_base_url}"
        f" --api-key k --model m --pipeline {path}"
    )["id"]


def python_then_llm() -> dict:
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "lookup", "type": "python", "code": CLIENT_EXAMPLE},
            {"id": "answer", "type": "llm", "prompt": "You sell {session_state.page_context.product_name}."},
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"from": "start", "to": "lookup"},
            {"from": "lookup", "to": "answer"},
            {"from": "answer", "to": "end"},
        ],
    }


def test_python_node_and_llm_prompt_read_page_context_and_state_carries_over(stack, tenant, tmp_path, fake_llm):
    chatbot = pipeline_chatbot(stack, tenant, tmp_path, python_then_llm(), fake_llm.base_url)
    chat = ChatClient(stack.base_url)
    started = chat.start(chatbot, page_context={"product_id": "P-42", "product_name": "Premium Widget X"})
    first = chat.reply_to(chat.say("Is it in stock?"))
    assert first["status"] == "complete", first
    assert first["message"]["content"] == "echo: Question 1 about product P-42: Is it in stock?"
    (request,) = fake_llm.requests_containing("Question 1 about product P-42")
    assert request["messages"][0] == {"role": "system", "content": "You sell Premium Widget X."}
    second = chat.reply_to(chat.say("And the price?"))
    assert second["message"]["content"] == "echo: Question 2 about product P-42: And the price?"
    # The node's effects are events like any other: the read model shows them.
    session = tenant.client().get(f"/api/sessions/{started['session_id']}/").json()
    assert session["state"]["questions_asked"] == 2
    assert session["state"]["page_context"] == {"product_id": "P-42", "product_name": "Premium Widget X"}
    assert session["tags"] == ["asked-about-P-42"]
    # Subscribers see how the reply was made: each node's output, on the reply's event.
    replies = [
        event
        for event in stack.system.app.events.get(uuid.UUID(started["session_id"]))
        if type(event).__name__ == "ReplyRecorded"
    ]
    assert [step["id"] for step in replies[-1].trace] == ["start", "lookup", "answer"]
    assert replies[-1].trace[1]["output"] == "Question 2 about product P-42: And the price?"


def test_the_clients_python_node_example_works_as_written(stack, tenant, tmp_path, fake_llm):
    pipeline = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "greet", "type": "python", "code": SEED_API_EXAMPLE},
            {"id": "end", "type": "end"},
        ],
        "edges": [{"from": "start", "to": "greet"}, {"from": "greet", "to": "end"}],
    }
    chatbot = pipeline_chatbot(stack, tenant, tmp_path, pipeline, fake_llm.base_url)
    for page_context, reply in (
        ({"product_id": "P-42", "product_name": "Premium Widget X"}, "I can help you with Premium Widget X!"),
        (None, "How can I assist you today?"),
    ):
        chat = ChatClient(stack.base_url)
        chat.start(chatbot, **({"page_context": page_context} if page_context else {}))
        assert chat.reply_to(chat.say("hello"))["message"]["content"] == reply


def test_a_router_sends_each_message_down_its_branch(stack, tenant, tmp_path, fake_llm):
    pipeline = {
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "route",
                "type": "static_router",
                "data_source": "session_state",
                "key": "page_context.section",
                "routes": ["billing", "general"],
                "default": "general",
            },
            {"id": "billing", "type": "render_template", "template": "Billing will answer: {input}"},
            {"id": "general", "type": "llm", "prompt": "General help."},
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"from": "start", "to": "route"},
            {"from": "route", "to": "billing", "route": "billing"},
            {"from": "route", "to": "general", "route": "general"},
            {"from": "billing", "to": "end"},
            {"from": "general", "to": "end"},
        ],
    }
    chatbot = pipeline_chatbot(stack, tenant, tmp_path, pipeline, fake_llm.base_url)
    for section, reply in (("billing", "Billing will answer: refund?"), ("shop", "echo: refund?")):
        chat = ChatClient(stack.base_url)
        chat.start(chatbot, page_context={"section": section})
        assert chat.reply_to(chat.say("refund?"))["message"]["content"] == reply


def test_a_failing_python_node_ends_the_task_in_the_error_shape(stack, tenant, tmp_path, fake_llm):
    pipeline = python_then_llm()
    pipeline["nodes"][1]["code"] = "def main(input, **kwargs):\n    return 1 / 0\n"
    chatbot = pipeline_chatbot(stack, tenant, tmp_path, pipeline, fake_llm.base_url)
    chat = ChatClient(stack.base_url)
    chat.start(chatbot)
    task = chat.say("divide")
    assert eventually(lambda: chat.task(task).json()["status"] == "error")
    assert chat.task(task).status_code == 500
    # The worker stays healthy: the next chatbot still answers.
    other = ChatClient(stack.base_url)
    other.start(tenant.chatbot_id)
    assert other.reply_to(other.say("still there?"))["status"] == "complete"


def test_an_invalid_pipeline_is_refused_at_creation_naming_the_node(stack, tenant, tmp_path, fake_llm):
    pipeline = python_then_llm()
    pipeline["nodes"][1]["code"] = "import os\ndef main(input, **kwargs):\n    return os.name\n"
    with pytest.raises(ApiError, match="invalid pipeline: node 'lookup'"):
        pipeline_chatbot(stack, tenant, tmp_path, pipeline, fake_llm.base_url)


def test_publishing_with_a_pipeline_snapshots_it(stack, tenant, tmp_path, fake_llm):
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(python_then_llm()))
    stack.admin(f"publish-version --chatbot {tenant.chatbot_id} --pipeline {path} --make-default")
    chat = ChatClient(stack.base_url)
    chat.start(tenant.chatbot_id, page_context={"product_id": "Q-1"})
    reply = chat.reply_to(chat.say("hello"))["message"]["content"]
    assert reply.endswith("Question 1 about product Q-1: hello")
