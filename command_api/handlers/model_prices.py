"""The price table a team's usage is priced with (`ocs admin set-model-price`): per model, per million tokens."""

import re
from decimal import Decimal, InvalidOperation

from command_api import commands
from command_api.domain.team import PriceInAnotherCurrency
from command_api.handlers.teams_and_keys import Outcome, require_team
from command_api.write_model.application import OcsApplication
from schemas.errors import detail

CURRENCY = re.compile(r"[A-Z]{3}")
MAX_MODEL_NAME = 200
# A price has at most 8 decimals, as the usage's cost does (OCS's `Cost.total`), and a bound well above any LLM's.
MAX_PRICE = Decimal("1000000")


def price_text(text: str, name: str) -> str:
    """The price as plain decimal text (`2.5`, never `2.5E+0`), or a 400 saying what a price is."""
    try:
        price = Decimal(text)
    except InvalidOperation:
        price = None
    if price is None or not price.is_finite() or not 0 <= price < MAX_PRICE or -price.as_tuple().exponent > 8:
        raise detail(400, f"{name} must be a decimal number from 0 to {MAX_PRICE}, with at most 8 decimals: {text!r}")
    return format(price, "f")


def set_model_price(command: commands.SetModelPrice, app: OcsApplication) -> Outcome:
    team = require_team(app, command.team)
    if not 0 < len(command.model) <= MAX_MODEL_NAME:
        raise detail(400, f"a model's name has 1 to {MAX_MODEL_NAME} characters")
    if not CURRENCY.fullmatch(command.currency):
        raise detail(400, f"currency must be an ISO 4217 code such as USD: {command.currency!r}")
    prompt = price_text(command.prompt_per_million, "the prompt price")
    completion = price_text(command.completion_per_million, "the completion price")
    try:
        team.set_model_price(command.model, prompt, completion, command.currency)
    except PriceInAnotherCurrency as exc:
        raise detail(409, f"team {command.team!r} prices its usage in {exc.currency}: give prices in it") from None
    app.save(team)
    prices = list(team.model_prices.values())
    return Outcome({"team": team.team, "currency": team.price_currency, "prices": prices}, team)
