"""Token usage -> ``cost_usd``: a price table per model, overridable in the Dockfile.

Prices are USD per 1 million tokens (how providers publish them). The built-in table holds
list prices of common OpenAI, Anthropic and Google models as published by the providers in
mid-2025 (checked 2025-08-01); prices change, so ``observability.metrics.prices`` in the
Dockfile overrides or extends it per model. A model name matches its exact entry, else the
longest entry it starts with (``gpt-4o-mini-2024-07-18`` -> ``gpt-4o-mini``), after a provider
prefix (``openai/``, ``models/``) is removed. An unknown model costs nothing (``None``) rather
than a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# model -> (input, output) USD per 1M tokens; list prices, checked 2025-08-01.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    # OpenAI
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "o3": (2.00, 8.00),
    "o4-mini": (1.10, 4.40),
    # Anthropic
    "claude-opus-4": (15.00, 75.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-3-haiku": (0.25, 1.25),
    # Google
    "gemini-2.5-pro": (1.25, 10.00),
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.0-flash": (0.10, 0.40),
    "gemini-1.5-pro": (1.25, 5.00),
    "gemini-1.5-flash": (0.075, 0.30),
}


class PriceTable:
    """Prices by model name; ``overrides`` (the Dockfile's) win over the built-in table."""

    def __init__(self, overrides: Mapping[str, Any] | None = None) -> None:
        table = dict(DEFAULT_PRICES)
        for model, price in (overrides or {}).items():
            # spec.models.ModelPrice or a plain {"input": .., "output": ..} mapping
            if isinstance(price, Mapping):
                table[model.lower()] = (float(price["input"]), float(price["output"]))
            else:
                table[model.lower()] = (float(price.input), float(price.output))
        self._table = table
        # Longest first, so the most specific prefix wins.
        self._prefixes = sorted(table, key=len, reverse=True)
        self._cache: dict[str, tuple[float, float] | None] = {}

    def price(self, model: str | None) -> tuple[float, float] | None:
        """(input, output) USD per 1M tokens for ``model``, or None when unknown."""
        if not model:
            return None
        key = model.lower()
        if key in self._cache:
            return self._cache[key]
        name = key.rsplit("/", 1)[-1]
        found = self._table.get(name)
        if found is None:
            found = next((self._table[p] for p in self._prefixes if name.startswith(p)), None)
        if len(self._cache) < 512:
            self._cache[key] = found
        return found

    def cost(self, model: str | None, input_tokens: int, output_tokens: int) -> float | None:
        """USD for one call's usage, or None when the model has no price."""
        price = self.price(model)
        if price is None:
            return None
        return (input_tokens * price[0] + output_tokens * price[1]) / 1_000_000
