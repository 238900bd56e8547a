"""Team: the isolation boundary. Its id is derived from its slug, so a slug is taken once. Its allowed origins are
the web pages (`https://app.example.com`) that may call its API from a browser with credentials (cookie sign-in).
Its model prices (per million prompt and completion tokens, in one currency) price its usage (`GET /api/v2/usage/`)."""

from uuid import UUID

from command_api.domain.base import OcsAggregate
from schemas.ids import derived_id


class Team(OcsAggregate):
    class Created(OcsAggregate.Created):
        name: str

    class AllowedOriginsChanged(OcsAggregate.Event):
        origins: list

        def apply(self, team: "Team") -> None:
            team.allowed_origins = list(self.origins)

    class ModelPricesChanged(OcsAggregate.Event):
        """The whole table, each time: a read model replaces it in one write."""

        currency: str
        prices: list  # [{model, prompt_per_million, completion_per_million}], prices as decimal text

        def apply(self, team: "Team") -> None:
            team.price_currency = self.currency
            team.model_prices = {price["model"]: price for price in self.prices}

    def __init__(self, id: UUID, team: str, name: str):
        self.team = team
        self.name = name
        self.allowed_origins: list[str] = []
        self.price_currency: str | None = None
        self.model_prices: dict[str, dict] = {}

    def allow_origins(self, origins: list[str]) -> None:
        if origins != self.allowed_origins:
            self.trigger_event(self.AllowedOriginsChanged, origins=origins)

    def set_model_price(self, model: str, prompt_per_million: str, completion_per_million: str, currency: str) -> None:
        """Raises PriceInAnotherCurrency: a team's usage is priced in one currency."""
        if self.price_currency not in (None, currency):
            raise PriceInAnotherCurrency(self.price_currency)
        price = {
            "model": model,
            "prompt_per_million": prompt_per_million,
            "completion_per_million": completion_per_million,
        }
        if self.model_prices.get(model) != price or self.price_currency != currency:
            prices = sorted({**self.model_prices, model: price}.values(), key=lambda entry: entry["model"])
            self.trigger_event(self.ModelPricesChanged, currency=currency, prices=prices)


class PriceInAnotherCurrency(Exception):
    def __init__(self, currency: str):
        super().__init__(currency)
        self.currency = currency


def team_id(slug: str) -> UUID:
    return derived_id("team", slug)
