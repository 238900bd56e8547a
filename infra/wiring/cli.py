"""`ocs`: run the stack (`ocs up`), administer it (`ocs admin ...`), or run one of its processes (`ocs run ...`)."""

import argparse
import json
import logging
import signal
import sys
import threading

from command_api import commands
from command_api.domain.messaging_channel import NOT_MESSAGING
from command_api.domain.oauth_client import DEFAULT_TOKEN_LIFETIME_S, GRANT_TYPES, SCOPES
from command_api.domain.widget_channel import AUTH_LEVELS, CREDENTIAL_MODES
from command_api.relay import GROUP as RELAY
from infra.config import DEFAULT_DATA_DIR, load_settings
from infra.dead_letters import pending_letters
from infra.logs import configure as configure_logs
from infra.secrets import webhook_secret
from infra.wiring import subscription_admin
from infra.wiring.bootstrap import System
from infra.wiring.gunicorn_server import serve_api
from infra.wiring.stack import run_stack
from projectors.rebuild import rebuild
from projectors.runner import GROUP as PROJECTORS
from projectors.runner import apply
from schemas.chatbots import PROVIDERS
from schemas.errors import ApiError
from schemas.fields import decimal_digits
from schemas.read_models import COLLECTION_OF_AGGREGATE
from schemas.requests import PLATFORMS
from schemas.roles import DEFAULT_ROLE, ROLES

MESSAGING_PLATFORMS = [p for p in PLATFORMS if p not in NOT_MESSAGING]
# How long an admin command waits for the read model to show its change when the stack runs.
ADMIN_READ_MODEL_WAIT_S = 5


def data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=None, help=f"the stack's data directory (default {DEFAULT_DATA_DIR})")


def pipeline_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pipeline", type=pipeline_file, help="a JSON file: the pipeline of nodes that answers (see docs/pipelines.md)"
    )


def pipeline_file(path: str) -> dict:
    try:
        with open(path) as file:
            return json.load(file)
    except (OSError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"cannot read a pipeline from {path}: {exc}") from None


def feed_cursor(text: str) -> int:
    if not decimal_digits(text) or len(text) > 18:
        raise argparse.ArgumentTypeError("a cursor of GET /api/events/ (its `next`, or an event's `position`)")
    return int(text)


def admin_parsers(admin: argparse._SubParsersAction) -> None:
    p = admin.add_parser("create-team", help="create a team")
    p.add_argument("--slug", required=True)
    p.add_argument("--name")
    p = admin.add_parser("create-api-key", help="issue an API key for a team (read-only unless --write)")
    p.add_argument("--team", required=True)
    p.add_argument("--write", action="store_true")
    p.add_argument("--name", default="")
    p.add_argument("--user", help="the identity the key acts as (default admin@<team>)")
    p.add_argument(
        "--role",
        action="append",
        choices=ROLES,
        help=f"the user's role in the team, repeatable (default {DEFAULT_ROLE}): it limits what the key may do",
    )
    p.add_argument("--expires-at", help="ISO-8601 instant after which the key is refused (default: never)")
    p = admin.add_parser("revoke-api-key", help="revoke an API key")
    p.add_argument("--key-prefix", required=True)
    p = admin.add_parser(
        "set-allowed-origins", help="the web pages that may call a team's API from a browser (cookie sign-in)"
    )
    p.add_argument("--team", required=True)
    p.add_argument(
        "--origin", action="append", default=[], help="https://app.example.com (repeatable; none: no page may)"
    )
    p = admin.add_parser(
        "set-model-price", help="price a model's tokens for a team's usage (per million tokens, one currency per team)"
    )
    p.add_argument("--team", required=True)
    p.add_argument("--model", required=True, help="as chatbots name it, e.g. gpt-4o-mini")
    p.add_argument("--prompt", required=True, help="price of a million prompt tokens, e.g. 0.15")
    p.add_argument("--completion", required=True, help="price of a million completion tokens, e.g. 0.60")
    p.add_argument("--currency", default="USD", help="ISO 4217 code (default USD); a team's prices share one")
    p = admin.add_parser("create-oauth-client", help="register an OAuth2 client (application) of a team")
    p.add_argument("--team", required=True)
    p.add_argument("--grant", required=True, choices=GRANT_TYPES)
    p.add_argument("--scope", required=True, help=f"space-separated, from: {' '.join(SCOPES)}")
    p.add_argument(
        "--chatbot", action="append", default=[], help="a chatbot its machine tokens may converse with (repeatable)"
    )
    p.add_argument("--redirect-uri", action="append", default=[], help="for authorization_code (repeatable)")
    p.add_argument("--name", default="")
    p.add_argument("--token-lifetime", type=int, default=DEFAULT_TOKEN_LIFETIME_S, help="access-token seconds")
    p = admin.add_parser("create-chatbot", help="create a chatbot")
    p.add_argument("--team", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--description", default="")
    p.add_argument("--prompt", default="You are a helpful assistant.")
    p.add_argument("--provider", default="echo", choices=PROVIDERS)
    p.add_argument("--model", default="gpt-4o-mini")
    p.add_argument("--base-url")
    p.add_argument("--api-key")
    pipeline_option(p)
    p = admin.add_parser("publish-version", help="snapshot a chatbot as a new version")
    p.add_argument("--chatbot", required=True)
    p.add_argument("--description", default="")
    p.add_argument("--make-default", action="store_true")
    pipeline_option(p)
    p = admin.add_parser("create-widget", help="create an embedded-widget channel")
    p.add_argument("--chatbot", required=True)
    p.add_argument("--allowed-domain", action="append", default=[])
    p.add_argument("--auth-level", default="session_token", choices=AUTH_LEVELS)
    p.add_argument(
        "--credential-mode",
        default="embed_key",
        choices=CREDENTIAL_MODES,
        help="oauth: callers start chats with a machine token holding chat:start (one such channel per chatbot)",
    )
    p = admin.add_parser("create-channel", help="create a chatbot's messaging channel (bot messages go out on it)")
    p.add_argument("--chatbot", required=True)
    p.add_argument("--platform", required=True, choices=MESSAGING_PLATFORMS)
    p.add_argument("--webhook-url", help="where the delivery worker POSTs each bot message (HMAC-signed)")
    p = admin.add_parser("disable-widget", help="turn a widget channel off; starts get the message instead")
    p.add_argument("--channel", required=True)
    p.add_argument("--message", default="", help="shown to users (default: This chatbot is currently unavailable.)")
    p = admin.add_parser("enable-widget", help="turn a widget channel back on")
    p.add_argument("--channel", required=True)
    p = admin.add_parser(
        "create-subscription", help="POST a team's events to a webhook, signed (prints its secret once)"
    )
    p.add_argument("--team", required=True)
    p.add_argument("--url", required=True, help="http or https")
    p.add_argument(
        "--events",
        default="",
        help="comma-separated event types, exact or <Aggregate>.* (as the feed's types=); omitted: every event",
    )
    p = admin.add_parser("list-subscriptions", help="the webhook subscriptions, channels' webhooks included")
    p.add_argument("--team")
    p = admin.add_parser("disable-subscription", help="deliver nothing more to a webhook subscription")
    p.add_argument("--subscription", required=True)
    p = admin.add_parser(
        "replay-subscription", help="deliver a subscription's parked events again, in order (and, --from, the feed)"
    )
    p.add_argument("--subscription", required=True)
    p.add_argument("--from", dest="from_cursor", type=feed_cursor, help="a feed cursor: redeliver every event after it")
    p = admin.add_parser("subscription-status", help="each subscription's cursor, lag, parked deliveries, last error")
    p.add_argument("--team")
    p.add_argument("--subscription")
    admin.add_parser("dead-letters", help="list the events the relay or the projectors parked, and why")
    admin.add_parser(
        "replay-dead-letters",
        help="after a fix: apply the projectors' parked events again, in order, and ask the relay to publish its own",
    )
    admin.add_parser("rebuild-read-models", help="drop every read model and replay the event store into it")
    for parser in admin.choices.values():
        data_dir_option(parser)


def admin_command(args):
    match args.admin:
        case "create-team":
            return commands.CreateTeam(slug=args.slug, name=args.name or args.slug)
        case "create-api-key":
            return commands.IssueApiKey(
                team=args.team,
                name=args.name,
                read_only=not args.write,
                user=args.user,
                roles=tuple(args.role or (DEFAULT_ROLE,)),
                expires_at=args.expires_at,
            )
        case "set-model-price":
            return commands.SetModelPrice(
                team=args.team,
                model=args.model,
                prompt_per_million=args.prompt,
                completion_per_million=args.completion,
                currency=args.currency,
            )
        case "create-oauth-client":
            return commands.RegisterOAuthClient(
                team=args.team,
                name=args.name,
                grant_type=args.grant,
                scopes=tuple(args.scope.split()),
                chatbots=tuple(args.chatbot),
                redirect_uris=tuple(args.redirect_uri),
                token_lifetime_s=args.token_lifetime,
            )
        case "revoke-api-key":
            return commands.RevokeApiKey(prefix=args.key_prefix)
        case "set-allowed-origins":
            return commands.SetAllowedOrigins(team=args.team, origins=tuple(args.origin))
        case "create-chatbot":
            return commands.CreateChatbot(
                team=args.team,
                name=args.name,
                description=args.description,
                prompt=args.prompt,
                provider=args.provider,
                model=args.model,
                base_url=args.base_url,
                llm_api_key=args.api_key,
                pipeline=args.pipeline,
            )
        case "publish-version":
            return commands.PublishVersion(
                chatbot_id=args.chatbot,
                description=args.description,
                make_default=args.make_default,
                pipeline=args.pipeline,
            )
        case "create-widget":
            return commands.CreateWidgetChannel(
                chatbot_id=args.chatbot,
                allowed_domains=tuple(args.allowed_domain),
                auth_level=args.auth_level,
                credential_mode=args.credential_mode,
            )
        case "create-channel":
            return commands.CreateMessagingChannel(
                chatbot_id=args.chatbot, platform=args.platform, webhook_url=args.webhook_url
            )
        case "disable-widget":
            return commands.SetWidgetEnabled(channel_id=args.channel, enabled=False, disabled_message=args.message)
        case "enable-widget":
            return commands.SetWidgetEnabled(channel_id=args.channel, enabled=True)
        case "create-subscription":
            event_types = tuple(name.strip() for name in args.events.split(",") if name.strip())
            return commands.CreateSubscription(team=args.team, url=args.url, event_types=event_types)
        case "disable-subscription":
            return commands.DisableSubscription(subscription_id=args.subscription)


def run_admin(system: System, args) -> dict:
    if args.admin == "rebuild-read-models":
        held_back = system.dead_letters(RELAY).held_back()
        return {"events_replayed": rebuild(system.db, system.app.published_envelopes(held_back))}
    if args.admin == "dead-letters":
        return {"dead_letters": pending_letters(system.db)}
    if args.admin == "replay-dead-letters":
        projected = system.dead_letters(PROJECTORS).replay(lambda envelopes: apply(system.db, envelopes))
        return {**projected, "asked_relay_to_publish": system.dead_letters(RELAY).request_replay()}
    if args.admin == "list-subscriptions":
        return subscription_admin.list_subscriptions(system.db, args.team)
    if args.admin == "subscription-status":
        return subscription_admin.subscription_status(system.db, args.team, args.subscription)
    if args.admin == "replay-subscription":
        return subscription_admin.replay_subscription(system.db, args.subscription, args.from_cursor)
    outcome = system.bus.handle(admin_command(args))
    aggregate = outcome.aggregate
    if system.settings.mongo_url:
        system.waiter.timeout_s = ADMIN_READ_MODEL_WAIT_S
        system.waiter.wait(COLLECTION_OF_AGGREGATE[type(aggregate).__name__], str(aggregate.id), aggregate.version)
    # Receivers check each delivery's X-OCS-Signature with this secret; it is shown here only (it is derived).
    if args.admin == "create-channel" and args.webhook_url:
        return {**outcome.body, "webhook_secret": webhook_secret(system.settings.secret_key, str(aggregate.id))}
    if args.admin == "create-subscription":
        return {**outcome.body, "secret": webhook_secret(system.settings.secret_key, str(aggregate.id))}
    return outcome.body


def run_process(system: System, args) -> None:
    """One of the stack's processes, in the foreground until SIGTERM or Ctrl-C."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if args.process == "relay":
        # The relay publishes the log; the feed writer copies it into the teams' event feeds, in the same order.
        run_together(stop, system.relay(), system.feed_writer())
    elif args.process == "projector":
        system.projector().run(stop)
    elif args.process == "worker":
        system.worker().run(stop)
    elif args.process == "delivery":
        system.delivery().run(stop)


def run_together(stop: threading.Event, *components) -> None:
    """Each component's `run(stop)` on a thread of its own, until all have returned."""
    threads = [threading.Thread(target=component.run, args=(stop,)) for component in components]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def replica_count(text: str) -> int:
    count = int(text)
    if not 1 <= count <= 16:
        raise argparse.ArgumentTypeError("between 1 and 16 (more replicas than partitions idle)")
    return count


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="ocs", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="run the whole stack on the embedded default, in the foreground")
    up.add_argument("--port", type=int, default=8000)
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--projectors", type=replica_count, default=1, help="projector replicas (default 1)")
    up.add_argument("--workers", type=replica_count, default=1, help="LLM worker replicas (default 1)")
    data_dir_option(up)
    admin = sub.add_parser("admin", help="administer teams, keys, chatbots and read models (JSON on stdout)")
    admin_parsers(admin.add_subparsers(dest="admin", required=True))
    run = sub.add_parser("run", help="run one process of the stack (`ocs up` starts each of them)")
    run.add_argument("process", choices=("api", "relay", "projector", "worker", "delivery"))
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--host", default="127.0.0.1")
    data_dir_option(run)
    return root


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    # Admin commands answer on stdout and fail with one line on stderr: no library chatter.
    configure_logs(logging.ERROR if args.command == "admin" else logging.INFO)
    if args.command == "up":
        replicas = {"projector": args.projectors, "worker": args.workers}
        return run_stack(args.data_dir or DEFAULT_DATA_DIR, args.host, args.port, replicas)
    if args.command == "run" and args.process == "api":
        serve_api(load_settings(args.data_dir), args.host, args.port)  # each worker process builds its own System
        return 0
    system = System(load_settings(args.data_dir))
    try:
        if args.command == "admin":
            try:
                print(json.dumps(run_admin(system, args)))
            except ApiError as exc:
                print(f"error: {exc.message()}", file=sys.stderr)
                return 1
            except Exception as exc:  # one line, not a traceback, for anything the admin can fix
                print(f"error: {exc}", file=sys.stderr)
                return 1
        else:
            run_process(system, args)
        return 0
    finally:
        system.close()


if __name__ == "__main__":
    sys.exit(main())
