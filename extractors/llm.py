"""The LLM extractor: a chat model reads the deal-bearing passages and answers in the deal schema.

Flow for one document (``LLMExtractor.extract``):

1. ``deal_passages(text)`` (the spaCy stage) picks the sentences worth a call, each with the
   sentences before it as context; only those are sent, with the opening of the document so that
   "we" or "the Company" can be resolved.
2. Each passage is answered from the on-disk cache when the same model and prompt have read it
   before; otherwise the model is called (timeouts and rate limits retried with backoff).
3. Answers are validated against ``LLMDeal`` one deal at a time, then grounded in the passage
   (``extractors.llm_grounding``): what the text does not support is dropped and counted.
4. If the model stays unavailable, the document falls back to the spaCy extractor and is marked
   for a later LLM retry (``$OUROBOROS_HOME/llm-retry.json``): no document is lost.

The model comes from ``OUROBOROS_LLM`` (``provider:model``) via LangChain's ``init_chat_model``, or
is injected (tests pass LangChain's fake chat models).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable
from langchain_core.utils.json import parse_json_markdown
from pydantic import BaseModel, Field, ValidationError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter
from tenacity.wait import wait_base

from extractors.llm_cache import AnswerCache, RetryQueue, UsageLog, answer_key
from extractors.llm_grounding import Grounder, GroundingStats, Window, normalize
from extractors.llm_prompt import DEFAULT_PROMPT, DealPrompt, load_prompt
from extractors.llm_usage import UsageReport, price_for
from extractors.registry import get_extractor, register_extractor
from extractors.sameness import same_deal
from ouroboros.core.errors import ConfigError
from ouroboros.core.records import DealKind, DealRecord, DealStatus, Extractor
from ouroboros.core.settings import get_settings

if TYPE_CHECKING:
    from extractors.pipeline import Passage
    from extractors.resolve import CompanyResolver

# The opening of the document sent with every passage, for "we", "the Company", a headline's names.
LEAD_CHARS = 300
# Seconds one model call may take before it counts as a timeout (and is retried); a local server on
# a CPU reads a prompt far slower than a hosted model.
CALL_TIMEOUT_S = 60.0
LOCAL_CALL_TIMEOUT_S = 600.0
# Most tokens one answer may have; a passage's deals fit in a few hundred.
MAX_OUTPUT_TOKENS = 1500

PROVIDER_PACKAGES: dict[str, str] = {
    "openai": "langchain-openai",
    "azure_openai": "langchain-openai",
    "anthropic": "langchain-anthropic",
    "ollama": "langchain-ollama",
    "google_genai": "langchain-google-genai",
    "mistralai": "langchain-mistralai",
    "groq": "langchain-groq",
}
API_KEY_VARS: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "azure_openai": "AZURE_OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "google_genai": "GOOGLE_API_KEY",
    "mistralai": "MISTRAL_API_KEY",
    "groq": "GROQ_API_KEY",
}
# Error class names (any provider SDK, httpx, the standard library) that mean "try again later".
# Names, not classes: provider packages are optional and must not be imported to classify.
_TRANSIENT_ERRORS = frozenset({
    "TimeoutError", "APITimeoutError", "TimeoutException", "ReadTimeout", "RateLimitError",
    "InternalServerError", "OverloadedError", "ServiceUnavailableError", "APIStatusError",
})
# ... and those that mean "the configuration is wrong": retrying cannot help, the user must act.
_CONFIG_ERRORS = frozenset({
    "APIConnectionError", "ConnectError", "ConnectionError", "AuthenticationError",
    "PermissionDeniedError", "NotFoundError",
})


class LLMSpendBack(BaseModel):
    """The recipient's obligation or stated plan to spend the money at a company."""

    payee: str | None = Field(default=None, description="The company the money is spent at.")
    what: str | None = Field(default=None, description="What is bought.")
    amount_usd: float | None = Field(default=None, description="How much, in US dollars, or null.")
    evidence: str | None = Field(default=None, description="The sentence that states the spend-back, copied "
                                 "from the passage, when it is not the deal's own sentence; else null.")


class LLMHardwareMandate(BaseModel):
    """A requirement to use named hardware."""

    product: str | None = Field(default=None, description="The named hardware (e.g. Trainium).")
    vendor: str | None = Field(default=None, description="The company that makes it.")
    evidence: str | None = Field(default=None, description="The sentence that states the requirement, copied "
                                 "from the passage, when it is not the deal's own sentence; else null.")


class LLMDeal(BaseModel):
    """One capital flow that the passage states."""

    kind: DealKind
    investor: str = Field(description="Company the money comes from, named as in the text.")
    recipient: str = Field(description="Company the money goes to, named as in the text.")
    amount_text: str | None = Field(default=None, description="The amount exactly as written, or null.")
    amount_usd: float | None = Field(default=None, description="The amount in US dollars, or null.")
    spend_back: LLMSpendBack | None = None
    hardware_mandate: LLMHardwareMandate | None = None
    status: DealStatus = "announced"
    evidence: str = Field(description="The sentence(s) of the passage that state the deal, copied word for word.")


class ExtractedDeals(BaseModel):
    """Every capital flow between companies that the passage states (an empty list when none)."""

    deals: list[LLMDeal]


class LLMUnavailable(Exception):
    """The model could not answer (retries exhausted or an unexpected provider error)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failing call is retried (tests inject ``wait_none()``)."""

    attempts: int = 4
    wait: wait_base = field(default_factory=lambda: wait_exponential_jitter(initial=2, max=30))


def _error_names(error: BaseException) -> list[str]:
    return [cls.__name__ for cls in type(error).__mro__]


def is_transient(error: BaseException) -> bool:
    """Timeouts, rate limits and server-side overload: worth another try after a pause."""
    names = _error_names(error)
    # A status error is transient only for 408/429/5xx; 4xx client errors are not.
    status = getattr(error, "status_code", None)
    if names[0] == "APIStatusError" and isinstance(status, int):
        return status in (408, 429) or status >= 500
    return any(name in _TRANSIENT_ERRORS for name in names if name != "APIStatusError")


def is_config_problem(error: BaseException) -> bool:
    """Unreachable server, bad key, unknown model: the user must change the configuration."""
    return not is_transient(error) and any(name in _CONFIG_ERRORS for name in _error_names(error))


def load_chat_model(spec: str | None = None, base_url: str | None = None) -> BaseChatModel:
    """The chat model named by ``OUROBOROS_LLM`` (or ``spec``), e.g. ``openai:gpt-4.1-mini``.

    ``OUROBOROS_LLM_BASE_URL`` (or ``base_url``) points an OpenAI-compatible provider at another
    server (a local llama.cpp or vLLM server); such servers need no API key.

    Raises:
        ConfigError: no model configured, provider package missing or credentials missing.
    """
    settings = get_settings()
    spec = spec or settings.llm
    base_url = base_url or settings.llm_base_url
    if not spec:
        raise ConfigError(
            "no LLM configured: set OUROBOROS_LLM to provider:model (e.g. openai:gpt-4.1-mini, "
            "anthropic:claude-haiku-4-5, ollama:llama3.1) and install the provider's package "
            "(pip install langchain-openai / langchain-anthropic / langchain-ollama), or use --extractor spacy"
        )
    provider = spec.partition(":")[0] if ":" in spec else ""
    kwargs: dict[str, Any] = {"temperature": 0}
    if base_url:
        kwargs["base_url"] = base_url
        if provider == "openai" and not os.environ.get("OPENAI_API_KEY"):
            kwargs["api_key"] = "not-needed"  # local OpenAI-compatible servers ignore the key
    if provider in ("openai", "anthropic"):
        # Our own retry loop owns backoff; the SDK's hidden retries would multiply it. The output cap
        # bounds the cost of a model that rambles.
        timeout = LOCAL_CALL_TIMEOUT_S if base_url else CALL_TIMEOUT_S
        kwargs.update(max_retries=0, timeout=timeout, max_tokens=MAX_OUTPUT_TOKENS)
    try:
        from langchain.chat_models import init_chat_model

        return init_chat_model(spec, **kwargs)
    except ImportError as e:
        package = PROVIDER_PACKAGES.get(provider, f"langchain-{provider.replace('_', '-')}")
        raise ConfigError(
            f"OUROBOROS_LLM={spec!r} needs the provider package {package}: pip install {package}"
        ) from e
    except ValueError as e:
        raise ConfigError(
            f"OUROBOROS_LLM={spec!r} is not a model LangChain can load; write it as provider:model "
            f"(e.g. openai:gpt-4.1-mini, anthropic:claude-haiku-4-5, ollama:llama3.1): {e}"
        ) from e
    except Exception as e:  # provider SDKs raise their own types for missing credentials
        key = API_KEY_VARS.get(provider, "the provider's API key variable")
        raise ConfigError(
            f"cannot set up OUROBOROS_LLM={spec!r}: {e}. Set {key}, or OUROBOROS_LLM_BASE_URL for a "
            "local OpenAI-compatible server"
        ) from e


def model_id(model: BaseChatModel, spec: str | None) -> str:
    """``provider:model`` for cache keys and prices (the spec when known, else what the model says)."""
    if spec:
        return spec
    params = model._get_ls_params() if hasattr(model, "_get_ls_params") else {}
    provider = params.get("ls_provider") or type(model).__name__
    name = params.get("ls_model_name") or getattr(model, "model_name", None) or getattr(model, "model", "")
    return f"{provider}:{name}"


def structured(model: BaseChatModel, method: str | None = None) -> tuple[Runnable, bool]:
    """The model bound to the deal schema, and whether it uses tool calling / structured output.

    Models without tool support (``with_structured_output`` raises NotImplementedError) are asked
    for JSON text instead, which the prompt describes in full; both paths end in the same parser.
    """
    kwargs = {"method": method} if method else {}
    try:
        return model.with_structured_output(ExtractedDeals, include_raw=True, **kwargs), True
    except NotImplementedError:
        return model, False


def _answer_from(output: Any) -> tuple[dict | None, AIMessage | None]:
    """(parsed answer or None, raw message) from either path's output."""
    raw, parsed = (output["raw"], output.get("parsed")) if isinstance(output, dict) else (output, None)
    message = raw if isinstance(raw, AIMessage) else None
    if isinstance(parsed, BaseModel):
        parsed = parsed.model_dump()
    elif message is not None and message.tool_calls:
        # The whole-answer schema check failed; keep the arguments so that deals are checked one by one.
        parsed = message.tool_calls[0]["args"]
    elif message is not None and isinstance(message.content, str):
        # The JSON path, and the rescue for servers that ignore the requested output format.
        try:
            parsed = parse_json_markdown(message.content, parser=json.loads)  # strict: no half answers
        except Exception:  # any parse failure is a malformed answer
            parsed = None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("deals"), list):
        return None, message
    return parsed, message


def _default_resolver() -> CompanyResolver:
    from extractors.resolve import CompanyResolver

    return CompanyResolver()


def grounder_for(resolver: CompanyResolver) -> Grounder:
    """A grounder that names companies the way the shared resolver does."""
    from extractors.resolve import clean_name

    spellings: dict[str, set[str]] = {}
    by_key: dict[str, str] = {}
    names = {**resolver.registry.company_names(), **resolver.registry.product_names()}
    for spelling, company in names.items():
        spellings.setdefault(company, {company}).add(spelling)
        by_key[clean_name(spelling).casefold()] = company

    def aliases(name: str) -> set[str]:
        company = by_key.get(clean_name(name).casefold())
        return spellings.get(company, set()) if company else set()

    return Grounder(canonical=resolver.canonical, aliases=aliases)


def _lead(text: str, passage: Passage) -> str:
    """The document's opening, cut at a word, without repeating what the context already holds."""
    lead = text[: min(LEAD_CHARS, passage.start_char)]
    if len(lead) == LEAD_CHARS:
        lead = lead.rsplit(None, 1)[0]
    lead = " ".join(lead.split())
    return "" if normalize(lead) in normalize(passage.context) else lead


def dedupe(records: Sequence[DealRecord]) -> list[DealRecord]:
    """One record per deal when overlapping passages repeat it (``extractors.sameness.same_deal``).

    The first mention is kept; later ones fill what it lacks (a passage that continues a deal
    often adds the spend-back or the mandate).
    """
    kept: list[DealRecord] = []
    for record in records:
        for i, first in enumerate(kept):
            if same_deal(first, record):
                has_amount = first.amount_text is not None
                kept[i] = first.model_copy(update={
                    "amount_text": first.amount_text if has_amount else record.amount_text,
                    "amount_usd": first.amount_usd if has_amount else record.amount_usd,
                    "spend_back": first.spend_back or record.spend_back,
                    "hardware_mandate": first.hardware_mandate or record.hardware_mandate,
                })
                break
        else:
            kept.append(record)
    return kept


@register_extractor("llm")
class LLMExtractor:
    """Deal records read by a chat model from the deal-bearing passages, grounded in the text.

    Args:
        model: a LangChain chat model; default: the one ``OUROBOROS_LLM`` names.
        model_name: ``provider:model`` used for the cache key and the price (default: the spec).
        prompt: the prompt version, a file name in ``extractors/prompts/``.
        home: the data folder for the cache and the retry list (default ``OUROBOROS_HOME``).
        passages: text -> deal-bearing passages (default ``extractors.pipeline.deal_passages``).
        fallback: extractor used when the model stays unavailable (default: the spaCy extractor).
        resolver: the shared company resolver (one per run keeps names consistent; default: the
            fallback extractor's).
        retry: the retry policy for timeouts and rate limits.
        method: ``with_structured_output`` method (``json_schema``, ``function_calling``,
            ``json_mode``); default: the provider's own, ``json_mode`` behind ``OUROBOROS_LLM_BASE_URL``.
        local: the model runs locally (prices it at zero).

    Raises:
        ConfigError: no usable model (at construction, not mid-run) or an unknown prompt.
    """

    name = "llm"

    def __init__(
        self,
        model: BaseChatModel | None = None,
        *,
        model_name: str | None = None,
        prompt: str = DEFAULT_PROMPT,
        home: Path | None = None,
        passages: Callable[[str], Sequence[Passage]] | None = None,
        fallback: Extractor | None = None,
        resolver: CompanyResolver | None = None,
        retry: RetryPolicy | None = None,
        method: str | None = None,
        local: bool | None = None,
    ) -> None:
        settings = get_settings()
        self.prompt: DealPrompt = load_prompt(prompt)
        spec = model_name or (None if model is not None else settings.llm)
        self.model = model if model is not None else load_chat_model()
        self.model_name = model_id(self.model, spec)
        if method is None and model is None and settings.llm_base_url:
            # OpenAI-compatible servers agree on JSON mode; fewer support JSON schemas or tools.
            method = "json_mode"
        self._runnable, self.uses_tools = structured(self.model, method)
        home_dir = home or settings.home_dir
        self.cache = AnswerCache(home_dir / "llm-cache")
        self.retry_queue = RetryQueue(home_dir / "llm-retry.json")
        self._passages = passages
        self._fallback = fallback
        self._resolver = resolver
        self._grounder: Grounder | None = None
        self.retry = retry or RetryPolicy()
        is_local = local if local is not None else bool(settings.llm_base_url and model is None)
        self._price = price_for(self.model_name, local=is_local)
        self.usage_log = UsageLog(home_dir / "llm-usage.jsonl")
        self.report = self._new_report()
        self._lock = threading.Lock()

    def _new_report(self) -> UsageReport:
        return UsageReport(model=self.model_name, prompt=self.prompt.name, price=self._price)

    # -- collaborators, built on first use so that constructing the extractor stays cheap ------
    @property
    def grounder(self) -> Grounder:
        """The grounding checks, built from the shared resolver."""
        if self._grounder is None:
            self._grounder = grounder_for(self.resolver)
        return self._grounder

    @property
    def resolver(self) -> CompanyResolver:
        """The company resolver: the given one, else the fallback extractor's (so that both sides of a
        run name companies alike), else a new one."""
        if self._resolver is None:
            self._resolver = getattr(self.fallback, "resolver", None) or _default_resolver()
        return self._resolver

    def passages(self, text: str) -> Sequence[Passage]:
        """The deal-bearing passages of ``text``."""
        if self._passages is None:
            from extractors.pipeline import deal_passages

            self._passages = deal_passages
        return self._passages(text)

    @property
    def fallback(self) -> Extractor:
        """The extractor that stands in when the model is unavailable."""
        if self._fallback is None:
            self._fallback = get_extractor("spacy")
        return self._fallback

    # -- the Extractor protocol ---------------------------------------------------------------
    def extract(self, text: str, doc: str) -> list[DealRecord]:
        """Deal records for one document; spaCy's when the model stays unavailable (and marked)."""
        records = self.extract_llm(text, doc)
        if records is None:
            return self.fallback.extract(text, doc)
        return records

    def extract_llm(self, text: str, doc: str) -> list[DealRecord] | None:
        """The LLM's grounded records, or None when the model failed (the document is then marked).

        Raises:
            ConfigError: the model cannot be reached or refuses the credentials.
        """
        report = self._new_report()
        report.documents = 1
        try:
            records = self._read(text, doc, report)
        except LLMUnavailable as e:
            report.needs_llm_retry.append(doc)
            self.retry_queue.mark(doc, str(e))
            records = None
        else:
            report.records = len(records or [])
            self.retry_queue.clear(doc)
        finally:
            with self._lock:
                self.report.merge(report)
            self.usage_log.append(doc, report.as_dict())
        return records

    def _read(self, text: str, doc: str, report: UsageReport) -> list[DealRecord]:
        stats = GroundingStats(dropped=report.dropped, trimmed=report.trimmed)
        records: list[DealRecord] = []
        for passage in self.passages(text):
            report.passages += 1
            window = Window(passage=passage.text, context=passage.context, lead=_lead(text, passage))
            for item in (self._answer(window, report) or {}).get("deals", []):
                deal = self._validated(item, stats)
                if deal is None:
                    continue
                record = self.grounder.ground(deal, window, doc, stats)
                if record is not None:
                    records.append(record)
        return dedupe(records)

    # -- one passage --------------------------------------------------------------------------
    def _validated(self, item: object, stats: GroundingStats) -> dict | None:
        try:
            deal = LLMDeal.model_validate(item).model_dump()
        except ValidationError:
            stats.dropped["invalid_record"] += 1
            return None
        # Half-filled parts are no parts (models often emit {"payee": null} for "none").
        if deal["spend_back"] and not deal["spend_back"]["payee"]:
            deal["spend_back"] = None
        mandate = deal["hardware_mandate"]
        if mandate and not (mandate["product"] and mandate["vendor"]):
            deal["hardware_mandate"] = None
        return deal

    def _answer(self, window: Window, report: UsageReport) -> dict | None:
        """The model's parsed answer for one passage (cached), or None when it was malformed."""
        key = answer_key(
            self.model_name, self.prompt.name, self.prompt.sha256, window.passage, window.context, window.lead
        )
        cached = self.cache.get(key)
        if cached is not None:
            report.cache_hits += 1
            return cached
        messages = self.prompt.messages(window.passage, window.context, window.lead)
        parsed, raw = _answer_from(self._call(messages, report))
        usage = dict(raw.usage_metadata) if raw is not None and raw.usage_metadata else None
        report.add_usage(usage)
        if parsed is None:
            # Not cached: a rerun asks again rather than remembering a broken answer.
            report.malformed += 1
            return None
        self.cache.put(key, parsed, {"model": self.model_name, "prompt": self.prompt.name, "usage": usage})
        return parsed

    def _call(self, messages: list[BaseMessage], report: UsageReport) -> Any:
        """Invoke the model, retrying transient failures with backoff."""
        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=self.retry.wait,
            retry=retry_if_exception(is_transient),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    report.calls += 1
                    return self._runnable.invoke(messages)
        except Exception as e:
            if is_config_problem(e):
                raise ConfigError(
                    f"the model OUROBOROS_LLM={self.model_name!r} cannot be used ({type(e).__name__}: {e}); "
                    "check OUROBOROS_LLM, OUROBOROS_LLM_BASE_URL and the provider's API key"
                ) from e
            raise LLMUnavailable(f"{type(e).__name__}: {e}") from e
        raise AssertionError("unreachable: tenacity either returns or raises")
