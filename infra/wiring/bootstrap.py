"""The composition root: the one place where configuration, clients and applications are wired."""

import os
import socket
from functools import cached_property

from pymongo import MongoClient, WriteConcern
from pymongo.database import Database
from werkzeug.middleware.proxy_fix import ProxyFix

from command_api.bus import CommandBus
from command_api.http import app as command_app
from command_api.http.admission_lookup import WriteModelChatAccess
from command_api.http.credential_lookup import WriteModelCredentials
from command_api.read_your_writes import ProjectionNews, ReadModelWaiter
from command_api.relay import GROUP as RELAY
from command_api.relay import Relay
from command_api.write_model.application import OcsApplication
from infra import health, metrics, rate_limits
from infra.config import Settings
from infra.cookie_sessions import CookiePolicy
from infra.cors import TeamOrigins
from infra.dead_letters import DeadLetters
from infra.demo_page import DEMO_ROUTE, create_demo_app
from infra.docs import DOCS_PATHS, create_docs_app, routes_of
from infra.doorbells import Doorbell, Doorbells
from infra.group_members import GroupMembers
from infra.heartbeat import Heartbeat
from infra.instance import instance_id
from infra.kafka import REPLIES_GROUP, ensure_topics
from infra.kafka_retention import Retention
from infra.logs import install_request_ids
from infra.metrics import instrument
from infra.rate_limits import RateLimits
from infra.session_tokens import SessionTokens
from infra.wiring.frontdoor import FrontDoor
from projectors.feed import FeedWriter, feed_state
from projectors.indexes import ensure_indexes
from projectors.runner import GROUP as PROJECTORS
from projectors.runner import Projector
from query_api.http import app as query_app
from query_api.queries.change_feed import ChangeFeed
from query_api.queries.events import team_events
from query_api.queries.reply_deltas import DeltaFeed
from schemas.asyncapi import asyncapi_document
from schemas.events import DEAD_LETTER_TOPIC, TOPICS
from schemas.openapi.document import Route, openapi_document, openapi_v2_document
from schemas.read_models import EVENTS, MESSAGES
from schemas.reply_deltas import REPLY_DELTAS_TOPIC
from workers import delivery
from workers.delivery_progress import DeliveryProgress
from workers.llm import LlmClients
from workers.pipelines.definition import validate_pipeline
from workers.reactions import GroupReactions, topics_of
from workers.replies import ReplyProducer
from workers.reply_deltas import DeltaPublisher
from workers.runner import Worker

BACKGROUND_COMPONENTS = ("relay", "feed", "projector", "worker", "delivery")
# Whose doorbells the projector rings, naming what it applied: the processes answering commands.
API_DOORBELL = "api"


class System:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.doorbells: list[Doorbell | Doorbells] = []  # this process's doorbells, and the ones it rings

    @cached_property
    def app(self) -> OcsApplication:
        settings = self.settings
        return OcsApplication(
            settings.event_store_url,
            settings.files_dir,
            settings.kafka_max_message_bytes,
            self.ringer("relay").ring,
        )

    @cached_property
    def bus(self) -> CommandBus:
        return CommandBus(self.app, check_pipeline=validate_pipeline)

    @cached_property
    def mongo(self) -> MongoClient:
        if not self.settings.mongo_url:
            raise RuntimeError("no MongoDB configured: run `ocs up`, or set OCS_MONGO_URL")
        return MongoClient(self.settings.mongo_url, serverSelectionTimeoutMS=5000, tz_aware=True)

    @cached_property
    def db(self) -> Database:
        return self.mongo[self.settings.mongo_db]

    @cached_property
    def durable_db(self) -> Database:
        """The read models for a writer that moves a cursor after each write: each write is journaled before it is
        acknowledged (`j: true`), since a MongoDB server acknowledges writes its journal does not hold yet, and a
        kill -9 of it lost them once their cursor had moved past (a fault test saw five events' messages and tasks
        missing). The projector and the feed writer write plainly and journal once at the end of a batch instead
        (`Heartbeat.journal`, the feed's progress): the journal is written in order, so that one write takes every
        write before it along."""
        return self.db.with_options(write_concern=WriteConcern(j=True))

    @cached_property
    def waiter(self) -> ReadModelWaiter:
        # Named per process: gunicorn's worker processes share the host name.
        doorbell = self.doorbell(API_DOORBELL, f"{instance_id()}-{os.getpid()}")
        return ReadModelWaiter(self.db, self.settings.read_your_writes_timeout, ProjectionNews(doorbell))

    def require_kafka(self) -> str:
        if not self.settings.kafka_bootstrap:
            raise RuntimeError("no Kafka configured: run `ocs up`, or set OCS_KAFKA_BOOTSTRAP")
        return self.settings.kafka_bootstrap

    @cached_property
    def tokens(self) -> SessionTokens:
        return SessionTokens(self.settings.secret_key)

    @cached_property
    def cookies(self) -> CookiePolicy:
        settings = self.settings
        return CookiePolicy(settings.secret_key, settings.cookie_session_lifetime_s, settings.cookie_same_site)

    @cached_property
    def team_origins(self) -> TeamOrigins:
        return TeamOrigins(self.db)

    def command_side(self):
        """The command API alone (production: its own gunicorn, behind the proxy's non-GET routes)."""
        credentials, chat_access = WriteModelCredentials(self.app), WriteModelChatAccess(self.app)
        app = command_app.create_app(
            self.bus,
            self.waiter,
            credentials,
            chat_access,
            self.tokens,
            self.replies,
            self.cookies,
            self.team_origins.allowed_anywhere,
        )
        self.instrument(app)
        return app

    def query_side(self):
        """The query API alone, with the paths every side shares (health, the API's documents)."""
        ensure_indexes(self.db)
        app = query_app.create_app(
            self.db,
            self.tokens,
            self.app.files,
            self.message_feed,
            self.event_feed,
            self.delta_feed,
            self.cookies,
            self.team_origins.allowed_anywhere,
        )
        self.instrument(app)
        return app

    @cached_property
    def event_feed(self) -> ChangeFeed:
        """New events for the teams' event streams: each follows a team's, in log order."""
        return ChangeFeed(self.db[EVENTS], key="team", order="position")

    @cached_property
    def delta_feed(self) -> DeltaFeed:
        """Replies while they are generated, for the chat streams."""
        return DeltaFeed(self.settings.kafka_bootstrap, self.settings.kafka_partitions)

    @cached_property
    def message_feed(self) -> ChangeFeed:
        """New messages for the message streams: each follows a session's, in `created_at` order."""
        return ChangeFeed(self.db[MESSAGES], key="session_id", order="created_at")

    @cached_property
    def rate_limits(self) -> RateLimits:
        settings = self.settings
        return RateLimits(
            settings.mongo_url, settings.rate_limit_database, settings.rate_limit_enforce, settings.rate_limits
        )

    def instrument(self, app) -> None:
        """What every API app gets: metrics, request ids and rate limits."""
        instrument(app)
        install_request_ids(app)
        rate_limits.install(app, self.rate_limits)

    def shared_routes(self) -> dict:
        """The paths neither API side owns, as werkzeug rules, each with the app that serves it."""
        checks = {
            "event_store": lambda: (self.app.recorder.max_notification_id() or 0) >= 0,
            "mongodb": lambda: bool(self.mongo.admin.command("ping")),
            "kafka": self.kafka_reachable,
        }
        health_app = health.create_app(checks, lambda: self.pipeline_health.report())
        return {
            "/healthz": health_app,
            "/readyz": health_app,
            "/metrics": metrics.create_app(
                self.settings.kafka_bootstrap or None, lambda: self.pipeline_health.report()
            ),
            **dict.fromkeys(DOCS_PATHS, self.docs_app()),
            **({DEMO_ROUTE: create_demo_app()} if self.settings.demo_page else {}),
        }

    def docs_app(self):
        routes = api_routes()
        return create_docs_app(openapi_document(routes), asyncapi_document(), openapi_v2_document(routes))

    @cached_property
    def pipeline_health(self) -> health.PipelineHealth:
        return health.PipelineHealth(
            self.db, BACKGROUND_COMPONENTS, lambda: self.app.recorder.max_notification_id() or 0
        )

    def api(self):
        """Both sides behind one port, as `ocs up` serves them."""
        front_door = FrontDoor(
            self.command_side(), self.query_side(), self.shared_routes(), self.team_origins.allowed_anywhere
        )
        return self.behind_proxies(front_door)

    def behind_proxies(self, app):
        """Believe the forwarding headers of exactly the configured number of proxies: the client's address
        (for rate limits) and the public scheme and host (for URLs in bodies) are then the caller's own."""
        count = self.settings.trusted_proxies
        return ProxyFix(app, x_for=count, x_proto=count, x_host=count) if count else app

    def kafka_reachable(self) -> bool:
        host, _, port = self.require_kafka().split(",")[0].rpartition(":")
        with socket.create_connection((host, int(port)), timeout=1):
            return True

    def relay(self) -> Relay:
        settings = self.settings
        return Relay(
            self.app,
            self.require_kafka(),
            settings.kafka_partitions,
            self.beat("relay"),
            self.dead_letters(RELAY),
            self.retention(),
            settings.kafka_max_message_bytes,
            self.doorbell("relay"),
            self.ringer("projector", "worker"),
        )

    def retention(self) -> Retention:
        """What the relay removes from the broker once old: the events once the projectors, and for the topics they
        react to the workers, have handled them; the reply deltas and the dead letters (read live, or by others) by
        their age alone."""
        readers = {topic: (PROJECTORS,) for topic in TOPICS.values()}
        for topic in topics_of(REPLIES_GROUP):
            readers[topic] += (REPLIES_GROUP,)
        readers |= {REPLY_DELTAS_TOPIC: (), DEAD_LETTER_TOPIC: ()}
        return Retention(self.require_kafka(), self.settings.kafka_retention_ms, readers)

    def feed_writer(self) -> FeedWriter:
        """Beside the relay, in its process: the log, in order, into the teams' event feeds."""
        ensure_indexes(self.db)
        return FeedWriter(self.db, self.app.log_entries, self.beat("feed"), self.settings.event_feed_retention)

    def dead_letters(self, group: str) -> DeadLetters:
        """What `group` (the relay, or a consumer group) parked."""
        return DeadLetters(self.db, group, self.require_kafka(), self.settings.kafka_partitions)

    def topics_ready(self, topics) -> None:
        """Before a consumer subscribes: its topics exist with their partitions (`infra/kafka.ensure_topics`)."""
        ensure_topics(self.require_kafka(), topics, self.settings.kafka_partitions)

    def projector(self) -> Projector:
        ensure_indexes(self.db)
        self.topics_ready(TOPICS.values())
        return Projector(
            self.db,
            self.require_kafka(),
            self.beat("projector"),
            self.dead_letters(PROJECTORS),
            self.group_members("projector", PROJECTORS),
            self.doorbell("projector"),
            self.ringer(API_DOORBELL),
        )

    @cached_property
    def replies(self) -> ReplyProducer:
        llm = LlmClients(self.settings.llm_timeout, self.settings.llm_attempts)
        return ReplyProducer(self.app, self.bus, llm, self.reply_deltas)

    @cached_property
    def reply_deltas(self) -> DeltaPublisher:
        return DeltaPublisher(self.settings.kafka_bootstrap)

    def worker(self) -> Worker:
        """The worker process's consumer: the LLM's replies."""
        reactions = GroupReactions(REPLIES_GROUP, self.replies)
        self.topics_ready({REPLY_DELTAS_TOPIC, *reactions.topics})
        return Worker(
            self.require_kafka(),
            reactions.group,
            reactions.topics,
            reactions.handle,
            reactions.give_up,
            self.settings.worker_concurrency,
            self.beat("worker"),
            self.group_members("worker", reactions.group),
            doorbell=self.doorbell("worker"),
        )

    def delivery(self) -> delivery.SubscriptionDelivery:
        """The webhook subscriptions' deliveries, each following its team's event feed."""
        settings = self.settings
        DeliveryProgress(self.durable_db).ensure_indexes()
        return delivery.SubscriptionDelivery(
            # Cursors move after deliveries: journaled, so a MongoDB killed after acknowledging one keeps it.
            self.durable_db,
            lambda team, after, types, limit: team_events(self.db, team, after, types, None, limit),
            lambda: feed_state(self.db),
            self.bus,
            settings.secret_key,
            self.beat("delivery"),
            delivery.DeliverySettings(
                settings.delivery_attempts,
                settings.delivery_concurrency,
                settings.delivery_timeout,
                settings.delivery_backoff,
            ),
            instance_id(),
        )

    def beat(self, component: str) -> Heartbeat:
        return Heartbeat(self.db, component)

    def group_members(self, component: str, group: str) -> GroupMembers:
        """The consumer group `group`, whose members are `component`'s replicas."""
        return GroupMembers(self.db, component, group, instance_id(), self.require_kafka())

    def doorbell(self, component: str, instance: str | None = None) -> Doorbell:
        """This replica's doorbell, rung when `component` has new work (`infra.doorbells`)."""
        doorbell = Doorbell(self.settings.data_dir, component, instance or instance_id())
        self.doorbells.append(doorbell)
        return doorbell

    def ringer(self, *components: str) -> Doorbells:
        """The doorbells of every replica of `components`, to ring."""
        ringer = Doorbells(self.settings.data_dir, *components)
        self.doorbells.append(ringer)
        return ringer

    def close(self) -> None:
        for doorbell in self.doorbells:
            doorbell.close()
        if "reply_deltas" in self.__dict__:
            self.reply_deltas.close()
        for feed in ("message_feed", "event_feed", "delta_feed"):
            if feed in self.__dict__:
                self.__dict__[feed].close()
        if "rate_limits" in self.__dict__:
            self.rate_limits.close()
        if "mongo" in self.__dict__:
            self.mongo.close()
        if "app" in self.__dict__:
            self.app.close()


def api_routes() -> list[Route]:
    """Every route the API serves, for its OpenAPI document: read from apps built without dependencies, which
    declare their routes and touch nothing else."""
    return routes_of(
        command_app.create_app(None, None, None, None, None, None, None, None),
        query_app.create_app(*[None] * 8),
        health.create_app({}, dict),
        metrics.create_app(None),
        create_docs_app({}, {}, {}),
    )
