"""Replies that stream (issue 17), against the real servers with a fake LLM that streams word by word and holds
back its last word until the test releases it: what reaches a client before the release was streamed, not
chunked after the fact. No timing threshold: only the order of events."""

import http.client
import json
import queue
import socket
import threading
import uuid
from urllib.parse import urlsplit

import openai
import pytest
import requests

from tests.fake_llm import FakeLlm
from tests.stack import ChatClient, eventually

QUESTION = "would this jacket keep me dry in heavy rain"
REPLY = f"echo: {QUESTION}"


@pytest.fixture
def streaming_tenant(stack, slow_llm):
    return stack.new_tenant(prompt="You answer shoppers.", llm_base_url=slow_llm.base_url)


class Events:
    """A chat stream's events, read in a thread of their own: [(event, data), ...]."""

    def __init__(self, base_url: str, chat: ChatClient):
        address = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        self.connection.request("GET", f"/api/chat/{chat.session_id}/stream/", headers=dict(chat.headers))
        self.socket = self.connection.sock  # the response takes it over
        response = self.connection.getresponse()
        assert response.status == 200, response.read()
        self.items: queue.Queue = queue.Queue()
        self.seen: list[tuple[str, dict]] = []
        threading.Thread(target=self.read, args=(response,), daemon=True).start()

    def read(self, response) -> None:
        event = "message"
        try:
            for raw in response:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    self.items.put((event, json.loads(line[6:])))
                    event = "message"
        except (OSError, ValueError, http.client.HTTPException):
            pass  # closed

    def until(self, wanted, timeout_s: float = 20) -> tuple[str, dict]:
        """The first event (after those already seen) for which `wanted(event, data)` holds."""
        while True:
            item = self.items.get(timeout=timeout_s)
            self.seen.append(item)
            if wanted(*item):
                return item

    def close(self) -> None:
        self.socket.shutdown(socket.SHUT_RDWR)
        self.connection.close()


def is_delta(event: str, data: dict) -> bool:
    return event == "delta"


def is_reply(event: str, data: dict) -> bool:
    return event == "message" and data["role"] == "assistant"


def test_the_chat_stream_carries_a_reply_while_it_is_generated(stack, streaming_tenant, slow_llm):
    chat = ChatClient(stack.base_url)
    chat.start(streaming_tenant.chatbot_id)
    events = Events(stack.base_url, chat)
    try:
        task_id = chat.say(QUESTION)
        _, first = events.until(is_delta)
        # The provider has not sent its last word yet, and the client already reads the reply's beginning.
        assert not slow_llm.last_token_released.is_set()
        assert first["task_id"] == task_id and first["offset"] == 0 and REPLY.startswith(first["delta"])
        assert chat.task(task_id).json()["status"] == "processing"

        late = ChatClient(stack.base_url, dict(chat.headers))
        late.session_id = chat.session_id
        joined = Events(stack.base_url, late)  # a second page opens mid-reply: it gets everything so far at once
        _, caught_up = joined.until(is_delta)
        assert caught_up["offset"] == 0 and caught_up["task_id"] == task_id and REPLY.startswith(caught_up["delta"])
        joined.close()

        slow_llm.release_last_token()
        _, stored = events.until(is_reply)
        deltas = [data for event, data in events.seen if event == "delta"]
        assert "".join(delta["delta"] for delta in deltas) == stored["content"] == REPLY
        assert [delta["offset"] for delta in deltas] == [
            sum(len(d["delta"]) for d in deltas[:index]) for index in range(len(deltas))
        ]
        assert stored["task_id"] == task_id
        assert chat.reply_to(task_id)["message"]["content"] == REPLY
    finally:
        events.close()


def test_completions_stream_chunks_as_the_provider_makes_them(stack, streaming_tenant, slow_llm):
    client = openai.OpenAI(
        base_url=f"{stack.base_url}/api/openai/{streaming_tenant.chatbot_id}", api_key=streaming_tenant.key
    )
    stream = client.chat.completions.create(
        model="ignored",
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = iter(stream)
    assert next(chunks).choices[0].delta.role == "assistant"
    first = next(chunks).choices[0].delta.content
    assert first and REPLY.startswith(first) and not slow_llm.last_token_released.is_set()
    slow_llm.release_last_token()
    rest = list(chunks)
    text = first + "".join(chunk.choices[0].delta.content or "" for chunk in rest if chunk.choices)
    assert text == REPLY
    assert rest[-2].choices[0].finish_reason == "stop"
    assert rest[-1].choices == [] and rest[-1].usage.total_tokens == 2
    # Recorded as without streaming, and visible at once.
    session = streaming_tenant.client().get(f"/api/sessions/{rest[-1].id}/").json()
    assert [m["content"] for m in session["messages"]] == [QUESTION, REPLY]


def test_a_completion_whose_client_goes_away_is_still_recorded(stack, streaming_tenant, slow_llm):
    response = requests.post(
        f"{stack.base_url}/api/openai/{streaming_tenant.chatbot_id}/chat/completions",
        headers={"X-api-key": streaming_tenant.key},
        json={"messages": [{"role": "user", "content": QUESTION}], "stream": True},
        stream=True,
        timeout=30,
    )
    first = next(line for line in response.iter_lines(decode_unicode=True) if line.startswith("data: "))
    session_id = json.loads(first[6:])["id"]
    response.close()
    slow_llm.release_last_token()
    api = streaming_tenant.client()
    # A client that leaves before the end has no read-your-writes promise: the session may not be projected yet.
    messages = eventually(
        lambda: len(m := api.get(f"/api/sessions/{session_id}/").json().get("messages", [])) == 2 and m, timeout_s=20
    )
    assert messages and messages[1]["content"] == REPLY


def test_a_pipelines_last_llm_node_streams(stack, tenant, slow_llm, tmp_path):
    pipeline = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "shout", "type": "render_template", "template": "{input}!"},
            {"id": "answer", "type": "llm", "prompt": "You answer shoppers."},
            {"id": "end", "type": "end"},
        ],
        "edges": [{"from": "start", "to": "shout"}, {"from": "shout", "to": "answer"}, {"from": "answer", "to": "end"}],
    }
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(pipeline))
    chatbot = stack.admin(
        f"create-chatbot --team {tenant.slug} --name Piped --provider openai --base-url {slow_llm.base_url}"
        f" --api-key k --model m --pipeline {path}"
    )["id"]
    chat = ChatClient(stack.base_url)
    chat.start(chatbot)
    events = Events(stack.base_url, chat)
    try:
        chat.say(QUESTION)
        _, first = events.until(is_delta)
        assert not slow_llm.last_token_released.is_set() and f"echo: {QUESTION}!".startswith(first["delta"])
        slow_llm.release_last_token()
        _, stored = events.until(is_reply)
        assert stored["content"] == f"echo: {QUESTION}!"
        assert "".join(data["delta"] for event, data in events.seen if event == "delta") == stored["content"]
    finally:
        events.close()


def test_a_pipeline_reply_no_llm_node_makes_arrives_as_one_delta(stack, tenant, tmp_path):
    pipeline = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "say", "type": "render_template", "template": "You said: {input}"},
            {"id": "end", "type": "end"},
        ],
        "edges": [{"from": "start", "to": "say"}, {"from": "say", "to": "end"}],
    }
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(pipeline))
    chatbot = stack.admin(f"create-chatbot --team {tenant.slug} --name Templ --pipeline {path}")["id"]
    chat = ChatClient(stack.base_url)
    chat.start(chatbot)
    events = Events(stack.base_url, chat)
    try:
        chat.say("hi")
        _, stored = events.until(is_reply)
        assert [data["delta"] for event, data in events.seen if event == "delta"] in (["You said: hi"], [])
        assert stored["content"] == "You said: hi"
    finally:
        events.close()


def test_stop_generating_records_what_was_said_so_far(stack, tenant):
    words = " ".join(f"word{number}" for number in range(60))
    slow = FakeLlm(reply=lambda request: words, token_delay_s=0.1).start()
    try:
        chatbot = tenant.new_chatbot("Slow", llm_base_url=slow.base_url)
        chat = ChatClient(stack.base_url)
        chat.start(chatbot)
        events = Events(stack.base_url, chat)
        task_id = chat.say("talk")
        events.until(is_delta)
        cancelled = chat.post(f"/api/chat/{chat.session_id}/{task_id}/cancel/")
        assert cancelled.status_code == 202 and cancelled.json() == {"task_id": task_id, "status": "cancelling"}
        again = chat.post(f"/api/chat/{chat.session_id}/{task_id}/cancel/")
        assert again.status_code in (202, 409)  # the worker may have recorded it in between
        reply = chat.reply_to(task_id)["message"]
        assert reply["metadata"] == {"cancelled": True}
        assert words.startswith(reply["content"]) and 0 < len(reply["content"]) < len(words)
        assert eventually(lambda: slow.streams_closed_early == 1)  # the provider call was abandoned
        finished = chat.post(f"/api/chat/{chat.session_id}/{task_id}/cancel/")
        assert finished.status_code == 409 and finished.json() == {"detail": "The task has already finished."}
        unknown = chat.post(f"/api/chat/{chat.session_id}/{uuid.uuid4()}/cancel/")
        assert unknown.status_code == 404 and unknown.json() == {"detail": "Not found."}
        events.close()
    finally:
        slow.stop()


def test_cancel_takes_the_polls_credentials(stack, tenant):
    chat = ChatClient(stack.base_url)
    chat.start(tenant.chatbot_id)
    task_id = chat.say("hi")
    stranger = requests.post(f"{stack.base_url}/api/chat/{chat.session_id}/{task_id}/cancel/")
    assert stranger.status_code == 403


def test_the_stream_takes_the_session_token_as_a_parameter_for_event_source(stack, tenant):
    chat = ChatClient(stack.base_url)
    chat.start(tenant.chatbot_id)
    token = chat.headers.pop("X-Session-Token")
    url = f"{stack.base_url}/api/chat/{chat.session_id}/stream/"
    with requests.get(url, params={"session_token": token}, stream=True, timeout=10) as admitted:
        assert admitted.status_code == 200 and admitted.headers["Content-Type"].startswith("text/event-stream")
    refused = requests.get(url, params={"session_token": "not-a-token"}, timeout=10)
    assert refused.status_code == 403 and refused.json()["error"] == "Invalid session token"
    # Only the stream reads credentials from the URL.
    poll = f"{url[: -len('stream/')]}poll/"
    with_parameter = requests.get(poll, params={"session_token": token})
    assert with_parameter.status_code >= 400 and with_parameter.json() == requests.get(poll).json()
