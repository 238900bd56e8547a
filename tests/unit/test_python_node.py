"""The Python node's sandbox: every `python_node` helper, print capture, and escape attempts and runaways
that must come back as a PythonNodeError while the caller stays healthy. Each run spawns a child process."""

import logging
import signal
import time
from textwrap import dedent

import pytest

from workers.pipelines.python_node import (
    Limits,
    NodeContext,
    PythonNodeError,
    check_code,
    result_from,
    run_python_node,
    stopped,
)

EXAMPLE = """\
from python_node import get_session_state_key
def main(input, **kwargs):
    product = get_session_state_key("page_context.product_id")
    return f"Product {product}: {input}"
"""
PAGE_CONTEXT = {"product_id": "p-42", "url": "https://shop.example/p-42"}
DEFAULT_LIMITS = Limits()


def context(**fields) -> NodeContext:
    defaults = {"session_state": {"page_context": PAGE_CONTEXT}, "participant_data": {}, "temp_state": {}}
    return NodeContext(**{**defaults, "node_outputs": {}, "selected_routes": {}, **fields})


def run(code: str, input: str = "hi", limits: Limits = DEFAULT_LIMITS, **fields):
    return run_python_node(dedent(code), input, context(**fields), limits)


def main_doing(body: str) -> str:
    """A node whose main runs `body`: statements at any common indentation, from line 3 on."""
    return "import python_node\ndef main(input, **kwargs):\n" + "".join(
        f"    {line}\n" for line in dedent(body).splitlines()
    )


def failure(code: str, limits: Limits = DEFAULT_LIMITS, **fields) -> PythonNodeError:
    with pytest.raises(PythonNodeError) as caught:
        run(code, limits=limits, **fields)
    return caught.value


def assert_healthy():
    assert run(EXAMPLE, "next run").output == "Product p-42: next run"


def test_the_clients_example_works_as_written():
    result = run(EXAMPLE, "Is it in stock?")
    assert result.output == "Product p-42: Is it in stock?"
    assert result.session_state == {"page_context": PAGE_CONTEXT}
    assert (result.abort_message, result.ends_session, result.printed) == (None, False, "")


def test_check_code_accepts_the_example_and_runs_none_of_it():
    check_code(EXAMPLE)
    check_code("while True:\n    pass\ndef main(input, **kwargs):\n    return input")


def test_session_state_keys_are_dotted_paths_of_any_depth():
    result = run(
        main_doing("""
            python_node.set_session_state_key("plan.steps.first", "greet")
            python_node.set_session_state_key("plan.steps.second", input)
            python_node.set_session_state_key("count", 3)
            keys = ("plan.steps.second", "plan.nope.x", "items.1", "items.7", "count")
            return repr([python_node.get_session_state_key(key) for key in keys])
        """),
        input="ask",
        session_state={"page_context": PAGE_CONTEXT, "items": ["a", "b"], "count": 1},
    )
    assert result.output == "['ask', None, 'b', None, 3]"
    assert result.session_state == {
        "page_context": PAGE_CONTEXT,
        "items": ["a", "b"],
        "count": 3,
        "plan": {"steps": {"first": "greet", "second": "ask"}},
    }


def test_values_read_are_copies_so_only_the_setters_change_state():
    result = run(
        main_doing("""
            python_node.get_session_state_key("profile")["name"] = "changed"
            python_node.get_participant_data()["name"] = "changed"
            python_node.get_temp_state_key("scratch").append("changed")
            return "ok"
        """),
        session_state={"profile": {"name": "Jane"}},
        participant_data={"name": "Jane"},
        temp_state={"scratch": []},
    )
    assert (result.session_state, result.participant_data, result.temp_state) == (
        {"profile": {"name": "Jane"}},
        {"name": "Jane"},
        {"scratch": []},
    )


def test_the_callers_context_is_left_as_it_was():
    given = context(participant_data={"visits": 1})
    run_python_node(main_doing("python_node.increment_participant_data_key('visits')\nreturn ''"), "", given)
    assert given.participant_data == {"visits": 1}


@pytest.mark.parametrize("key", ["page_context", "page_context.product_id", "page_context.new.deeper"])
def test_page_context_is_read_only_and_the_node_sees_the_error(key):
    result = run(
        main_doing(f"""
            try:
                python_node.set_session_state_key({key!r}, "p-1")
            except Exception as exc:
                return str(exc)
            return "no error"
        """)
    )
    assert "page_context is read-only" in result.output
    assert result.session_state == {"page_context": PAGE_CONTEXT}


def test_an_uncaught_page_context_write_fails_the_node_with_its_line():
    error = failure(main_doing("python_node.set_session_state_key('page_context.product_id', 'p-1')"))
    assert str(error) == "PermissionError: page_context is read-only: it is what the page sent (line 3)"


def test_a_dotted_path_cannot_go_through_a_value_that_is_not_a_dict():
    error = failure(main_doing("python_node.set_session_state_key('count.x', 1)"), session_state={"count": 1})
    assert "session state 'count' is not a dict" in str(error)


def test_participant_data_helpers():
    result = run(
        main_doing("""
            before = python_node.get_participant_data()
            python_node.set_participant_data({"name": "Jane", "tags": ["a"], "single": "x", "visits": 1})
            python_node.set_participant_data_key("city", "Lyon")
            python_node.append_to_participant_data_key("tags", "b")
            python_node.append_to_participant_data_key("single", "y")
            python_node.append_to_participant_data_key("fresh", {"n": 1})
            python_node.increment_participant_data_key("visits")
            python_node.increment_participant_data_key("score", 2.5)
            return repr(before)
        """),
        participant_data={"old": True},
    )
    assert result.output == "{'old': True}"
    assert result.participant_data == {
        "name": "Jane",
        "tags": ["a", "b"],
        "single": ["x", "y"],
        "visits": 2,
        "city": "Lyon",
        "fresh": [{"n": 1}],
        "score": 2.5,
    }


@pytest.mark.parametrize(
    "call, message",
    [
        ("python_node.set_participant_data(['not', 'a', 'dict'])", "participant data is a dict, not list"),
        ("python_node.increment_participant_data_key('name')", "cannot increment participant data 'name'"),
        ("python_node.set_participant_data_key('when', python_node)", "is not JSON serializable"),
        ("python_node.set_session_state_key('', 1)", "a key is a non-empty string"),
        ("python_node.add_message_tag(' ')", "a tag is a non-empty string"),
    ],
)
def test_helpers_refuse_values_they_cannot_keep(call, message):
    assert message in str(failure(main_doing(call), participant_data={"name": "Jane"}))


def test_temp_state_node_outputs_and_selected_routes():
    result = run(
        main_doing("""
            python_node.set_temp_state_key("summary", {"words": 3})
            found = [
                python_node.get_temp_state_key("carried"),
                python_node.get_temp_state_key("missing"),
                python_node.get_node_output("llm-1"),
                python_node.get_node_output("never-ran"),
                python_node.get_selected_route("router-1"),
                python_node.get_selected_route("other-router"),
            ]
            return repr(found)
        """),
        temp_state={"carried": [1, 2]},
        node_outputs={"llm-1": "Hello there"},
        selected_routes={"router-1": "billing"},
    )
    assert result.output == "[[1, 2], None, 'Hello there', None, 'billing', None]"
    assert result.temp_state == {"carried": [1, 2], "summary": {"words": 3}}


def test_tags_are_kept_once_each_in_order():
    result = run(
        main_doing("""
            for tag in ("vip", "urgent", "vip"):
                python_node.add_message_tag(tag)
            python_node.add_session_tag("escalated")
            python_node.add_session_tag("escalated")
            return "tagged"
        """)
    )
    assert (result.message_tags, result.session_tags) == (("vip", "urgent"), ("escalated",))


def test_abort_stops_the_node_and_its_message_becomes_the_reply():
    result = run(
        main_doing("""
            python_node.set_temp_state_key("before", 1)
            python_node.abort_with_message("Sorry, I can't help with that.", tag_name="refused")
            python_node.set_temp_state_key("after", 1)
            return "never returned"
        """)
    )
    assert (result.abort_message, result.abort_tag, result.output) == ("Sorry, I can't help with that.", "refused", "")
    assert result.temp_state == {"before": 1}


def test_abort_stands_even_when_the_code_catches_it():
    code = main_doing("""
        try:
            python_node.abort_with_message("Stop")
        except BaseException:
            pass
        return "carried on"
    """)
    result = run(code)
    assert (result.abort_message, result.abort_tag, result.output) == ("Stop", None, "")


def test_end_session_ends_it_after_this_reply():
    result = run(main_doing("python_node.end_session()\nreturn 'Goodbye'"))
    assert (result.output, result.ends_session, result.abort_message) == ("Goodbye", True, None)


def test_print_output_is_captured_and_main_return_values_become_text():
    result = run(main_doing("print('looking up', input)\nprint('done', end='!', file=None)\nreturn 42"), input="x")
    assert (result.printed, result.output) == ("looking up x\ndone!", "42")


def test_print_output_is_cut_at_the_limit():
    result = run(main_doing("for n in range(1000):\n    print('line', n)\nreturn ''"), limits=Limits(output_chars=50))
    assert result.printed.startswith("line 0\nline 1\n")
    assert result.printed.endswith("\n[printed output cut at 50 characters]")
    assert len(result.printed) < 100


def test_what_was_printed_before_a_failure_comes_with_the_error():
    error = failure(main_doing("print('step 1')\nreturn 1 / 0"))
    assert (str(error), error.printed) == ("ZeroDivisionError: division by zero (line 4)", "step 1\n")


def test_a_return_value_over_the_output_limit_is_refused():
    error = failure(main_doing("return 'x' * 101"), limits=Limits(output_chars=100))
    assert str(error) == "main returned 101 characters; at most 100 are allowed"


def test_state_too_large_to_record_is_refused():
    error = failure(main_doing("python_node.set_temp_state_key('big', 'x' * 5000000)\nreturn ''"))
    assert "over the 4 MB limit" in str(error)


def test_the_allowlisted_modules_can_be_imported_and_used():
    code = """\
        import json, math, random, re, string
        from datetime import date, timedelta
        def main(input, **kwargs):
            parts = [
                json.dumps({"n": math.floor(2.7)}),
                re.sub(r"\\d", "#", input),
                str(date(2024, 1, 31) + timedelta(days=1)),
                string.ascii_lowercase[:3],
                str(random.Random(7).randint(1, 1) + sum(sorted([2, 1]))),
            ]
            total = 0
            for n in [1, 2]:
                total += n
            return " ".join(parts) + f" {total}"
    """
    assert run(code, input="a1b2").output == '{"n": 2} a#b# 2024-02-01 abc 4 3'


def test_standard_functions_that_import_on_first_use_work():
    code = main_doing("""
        import datetime
        day = datetime.datetime.strptime("2024-03-01", "%Y-%m-%d")
        return day.strftime("%d/%m/%Y") + " " + str(datetime.date.today().year > 2000)
    """)
    assert run(code).output == "01/03/2024 True"


ESCAPES = {
    "import os": "import os\ndef main(input, **kwargs):\n    return os.getcwd()",
    "from os import path": "from os import path\ndef main(input, **kwargs):\n    return ''",
    "a submodule": "import json.decoder\ndef main(input, **kwargs):\n    return ''",
    "a relative import": "from . import x\ndef main(input, **kwargs):\n    return ''",
    "__import__": main_doing("return __import__('os').getcwd()"),
    "open": main_doing("return open('/etc/passwd').read()"),
    "subclasses walk": main_doing("return ().__class__.__bases__[0].__subclasses__()"),
    "getattr of __globals__": main_doing("return getattr(main, '__globals__')"),
    "getattr of a frame": main_doing("return getattr((x for x in []), 'gi_frame')"),
    "generator frame": main_doing("return (x for x in []).gi_frame.f_back"),
    "eval": main_doing("return eval('1')"),
    "exec": main_doing("exec('x = 1')"),
    "compile": main_doing("return compile('1', 'x', 'eval')"),
    "globals": main_doing("return globals()"),
    "vars": main_doing("return vars()"),
    "format attribute trick": main_doing("return '{0.__class__}'.format(1)"),
    "format through getattr": main_doing("return getattr('{0.__class__}', 'format')(1)"),
    "string.Formatter": main_doing("import string\nreturn string.Formatter().format('{0.__class__}', 1)"),
    "a module a module imported": main_doing("import datetime\nreturn datetime.sys.modules['os'].getcwd()"),
    "json's codecs": main_doing("import json\nreturn json.codecs.open('/etc/passwd').read()"),
    "a helper's owner": main_doing("return python_node.end_session.__self__"),
    "rebinding a module name": main_doing("import json\njson.loads = None"),
    "a class": "class Box:\n    pass\ndef main(input, **kwargs):\n    return ''",
    "SystemExit": main_doing("raise SystemExit(0)"),
    "a syntax error": "def main(input, **kwargs)\n    return input",
    "no main": "def handle(input, **kwargs):\n    return input",
    "main without **kwargs": "def main(input):\n    return input",
    "code nested too deeply": "x = " + "+".join(["1"] * 5000) + "\ndef main(input, **kwargs):\n    return ''",
}


@pytest.mark.parametrize("code", ESCAPES.values(), ids=ESCAPES.keys())
def test_escape_attempts_and_broken_code_fail_cleanly_and_the_next_run_works(code):
    error = failure(code)
    assert str(error)
    assert_healthy()


@pytest.mark.parametrize(
    "code, message",
    [
        (ESCAPES["import os"], "Line 1: importing 'os' is not allowed (a Python node may import datetime, json,"),
        (ESCAPES["__import__"], '"__import__" is an invalid variable name because it starts with "_"'),
        (ESCAPES["generator frame"], '"gi_frame" is a restricted name'),
        (ESCAPES["eval"], "Eval calls are not allowed"),
        (ESCAPES["a class"], "classes are not allowed in a Python node"),
        (ESCAPES["a syntax error"], "Line 1: SyntaxError: expected ':'"),
        (ESCAPES["no main"], "the code must define a function main(input, **kwargs)"),
        (ESCAPES["main without **kwargs"], "the code must define a function main(input, **kwargs)"),
        (ESCAPES["code nested too deeply"], "the code is nested too deeply to compile"),
    ],
)
def test_check_code_refuses_what_cannot_compile_under_the_restrictions(code, message):
    with pytest.raises(PythonNodeError) as caught:
        check_code(code)
    assert message in str(caught.value)


def test_runtime_refusals_name_the_problem_and_the_line():
    assert str(failure(ESCAPES["getattr of __globals__"])) == (
        'AttributeError: "__globals__" is an invalid attribute name because it starts with "_" (line 3)'
    )
    assert str(failure(ESCAPES["format attribute trick"])).startswith("NotImplementedError: Using the format*()")
    assert str(failure(ESCAPES["open"])) == "NameError: name 'open' is not defined (line 3)"
    assert str(failure(ESCAPES["SystemExit"])) == "SystemExit: 0 (line 3)"


def test_an_infinite_loop_is_stopped_by_the_cpu_limit():
    started = time.monotonic()
    error = failure(main_doing("while True:\n    pass"), limits=Limits(cpu_seconds=0.5, wall_seconds=5))
    assert str(error) == "the code used more than 0.5 s of CPU time"
    assert time.monotonic() - started < 3
    assert_healthy()


def test_a_run_over_its_wall_clock_time_is_killed():
    started = time.monotonic()
    error = failure(main_doing("while True:\n    pass"), limits=Limits(cpu_seconds=30, wall_seconds=0.5))
    assert str(error) == "the code did not finish within 0.5 s"
    assert time.monotonic() - started < 2
    assert_healthy()


@pytest.mark.parametrize(
    "body",
    ["return str(len([0] * 10 ** 10))", "chunks = []\nwhile True:\n    chunks.append('x' * 1000000)"],
    ids=["one huge list", "growing until the limit"],
)
def test_memory_over_the_limit_fails_the_node(body):
    error = failure(main_doing(body), limits=Limits(memory_mb=128))
    assert str(error) == "MemoryError: the code needed more than the 128 MB allowed"
    assert_healthy()


def test_memory_within_the_limit_is_usable():
    assert run(main_doing("return str(len('x' * 100000000))")).output == "100000000"


def test_recursion_without_end_fails_the_node():
    assert str(failure(main_doing("return main(input)"))).startswith("RecursionError: maximum recursion depth")


def test_an_unreadable_answer_from_the_child_is_an_error_not_a_crash():
    for answer in (b"", b"not json", b"[]", b'{"output": "x"}'):
        with pytest.raises(PythonNodeError, match="gave no readable result"):
            result_from(answer)


@pytest.mark.parametrize(
    "returncode, message",
    [
        (-signal.SIGXCPU, "the code used more than 2 s of CPU time"),
        (-signal.SIGKILL, "the code was stopped for going over its limits (2 s CPU, 256 MB)"),
        (1, "the Python node's process failed (exit status 1)"),
    ],
)
def test_a_child_that_dies_is_explained_by_its_exit_status(returncode, message):
    assert stopped(returncode, b"", Limits()) == message


def test_a_child_that_breaks_by_itself_is_logged_for_operators(caplog):
    with caplog.at_level(logging.ERROR):
        stopped(1, b"ModuleNotFoundError: No module named 'RestrictedPython'", Limits())
    assert "No module named 'RestrictedPython'" in caplog.text


def test_code_that_returns_at_top_level_is_mains_body():
    code = "from python_node import get_session_state_key\nname = get_session_state_key('page_context.name')\n"
    code += "if name:\n    return 'Hi ' + name + ', ' + input\nreturn input"
    context = NodeContext({"page_context": {"name": "Ana"}}, {}, {}, {}, {})
    assert run_python_node(code, "welcome", context).output == "Hi Ana, welcome"
    with pytest.raises(PythonNodeError, match=r"\(line 2\)"):
        run_python_node("x = 1\nreturn y", "", context)
