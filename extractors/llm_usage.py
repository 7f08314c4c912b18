"""What an LLM run cost: calls, cache hits, tokens and an estimated price, plus what grounding dropped.

Prices are list prices in US dollars per million tokens (input, output), checked in 2025; they
change, so the estimate is a guide, not an invoice. A model that is not in the table has an unknown
cost (reported as such, never as zero); local providers (``ollama``, or any model behind
``OUROBOROS_LLM_BASE_URL``) cost nothing per token.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

# (provider, model-name prefix) -> (USD per 1M input tokens, USD per 1M output tokens).
# The longest matching prefix wins, so "gpt-4.1-mini" is not priced as "gpt-4.1".
PRICES_PER_MILLION: dict[tuple[str, str], tuple[float, float]] = {
    ("openai", "gpt-4.1-nano"): (0.10, 0.40),
    ("openai", "gpt-4.1-mini"): (0.40, 1.60),
    ("openai", "gpt-4.1"): (2.00, 8.00),
    ("openai", "gpt-4o-mini"): (0.15, 0.60),
    ("openai", "gpt-4o"): (2.50, 10.00),
    ("openai", "gpt-5-nano"): (0.05, 0.40),
    ("openai", "gpt-5-mini"): (0.25, 2.00),
    ("openai", "gpt-5"): (1.25, 10.00),
    ("anthropic", "claude-3-5-haiku"): (0.80, 4.00),
    ("anthropic", "claude-haiku-4-5"): (1.00, 5.00),
    ("anthropic", "claude-sonnet-4"): (3.00, 15.00),
    ("anthropic", "claude-3-7-sonnet"): (3.00, 15.00),
    ("anthropic", "claude-opus-4"): (15.00, 75.00),
}
LOCAL_PROVIDERS = frozenset({"ollama", "fake"})


def price_for(model_spec: str, local: bool = False) -> tuple[float, float] | None:
    """Per-million-token prices for ``provider:model``; (0, 0) when local; None when unknown."""
    provider, _, name = model_spec.partition(":")
    if not name:
        provider, name = "", provider
    if local or provider in LOCAL_PROVIDERS:
        return (0.0, 0.0)
    matches = [
        (len(prefix), price)
        for (prov, prefix), price in PRICES_PER_MILLION.items()
        if name.startswith(prefix) and provider in (prov, "")
    ]
    return max(matches)[1] if matches else None


@dataclass
class UsageReport:
    """Totals for one run of the LLM extractor."""

    model: str
    prompt: str
    price: tuple[float, float] | None
    documents: int = 0
    passages: int = 0
    calls: int = 0
    cache_hits: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    records: int = 0
    malformed: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    trimmed: Counter[str] = field(default_factory=Counter)
    needs_llm_retry: list[str] = field(default_factory=list)

    def add_usage(self, usage: dict | None) -> None:
        """Add a message's ``usage_metadata`` (absent when the provider reports none)."""
        if usage:
            self.input_tokens += int(usage.get("input_tokens", 0))
            self.output_tokens += int(usage.get("output_tokens", 0))

    def merge(self, other: UsageReport) -> None:
        """Add another report's counts (a document's) to this one (the run's)."""
        for name in ("documents", "passages", "calls", "cache_hits", "input_tokens", "output_tokens",
                     "records", "malformed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.dropped.update(other.dropped)
        self.trimmed.update(other.trimmed)
        self.needs_llm_retry.extend(other.needs_llm_retry)

    @property
    def cost_usd(self) -> float | None:
        """Estimated cost of the calls made in this run (cache hits are free); None when unknown."""
        if self.price is None:
            return None
        return (self.input_tokens * self.price[0] + self.output_tokens * self.price[1]) / 1_000_000

    def as_dict(self) -> dict:
        """A JSON-ready summary."""
        return {
            "model": self.model,
            "prompt": self.prompt,
            "documents": self.documents,
            "passages": self.passages,
            "calls": self.calls,
            "cache_hits": self.cache_hits,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": None if self.cost_usd is None else round(self.cost_usd, 6),
            "price_per_million_tokens": None if self.price is None else list(self.price),
            "records": self.records,
            "malformed_answers": self.malformed,
            "dropped": dict(sorted(self.dropped.items())),
            "trimmed": dict(sorted(self.trimmed.items())),
            "needs_llm_retry": list(self.needs_llm_retry),
        }

    def summary(self) -> str:
        """One line for the console."""
        cost = "cost unknown" if self.cost_usd is None else f"~${self.cost_usd:.4f}"
        dropped = sum(self.dropped.values())
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.dropped.items()))
        line = (
            f"LLM {self.model} ({self.prompt}): {self.passages} passages, {self.calls} calls, "
            f"{self.cache_hits} cached; {self.input_tokens} in / {self.output_tokens} out tokens, {cost}; "
            f"{self.records} records, {dropped} dropped" + (f" ({reasons})" if reasons else "")
        )
        if self.malformed:
            line += f", {self.malformed} malformed answers"
        if self.needs_llm_retry:
            line += f"; fell back to spaCy for {len(self.needs_llm_retry)} documents (marked for LLM retry)"
        return line


def summarise(entries: list[dict]) -> list[UsageReport]:
    """Run totals from ``llm-usage.jsonl`` lines (one report per model and prompt), e.g. for a run
    whose documents were read in worker processes."""
    reports: dict[tuple[str, str], UsageReport] = {}
    for entry in entries:
        key = (entry.get("model", "?"), entry.get("prompt", "?"))
        if key not in reports:
            price = entry.get("price_per_million_tokens")
            reports[key] = UsageReport(model=key[0], prompt=key[1], price=tuple(price) if price else None)
        part = UsageReport(model=key[0], prompt=key[1], price=None)
        for name in ("documents", "passages", "calls", "cache_hits", "input_tokens", "output_tokens",
                     "records"):
            setattr(part, name, int(entry.get(name, 0)))
        part.malformed = int(entry.get("malformed_answers", 0))
        part.dropped.update(entry.get("dropped", {}))
        part.trimmed.update(entry.get("trimmed", {}))
        part.needs_llm_retry.extend(entry.get("needs_llm_retry", []))
        reports[key].merge(part)
    return [reports[key] for key in sorted(reports)]


def run_summary(extractor: object) -> str | None:
    """The usage line for the console after a run, when ``extractor`` called a model (llm, ensemble).

    Commands call it after extracting: ``if (line := run_summary(extractor)): err_console.print(line)``.
    """
    report = getattr(extractor, "report", None)
    return report.summary() if isinstance(report, UsageReport) else None
