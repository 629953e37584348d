"""A deterministic chat model, so examples and tests run offline and still exercise real streaming.

``FakeChatModel`` is a real langchain-core ``BaseChatModel``: LangGraph and LangChain drive it
exactly as they drive a provider model (callbacks, ``stream_mode="messages"``, ``bind_tools``,
``ToolNode``). What it answers comes from a script:

* ``responses=[...]``: a list of ``str`` or ``AIMessage`` returned in turn (cycled);
* ``respond=fn``: ``fn(messages) -> AIMessage | str``, a rule-based script. If ``fn`` accepts a
  ``tools`` keyword it also receives the names of the tools bound with ``bind_tools``.

An ``AIMessage`` with ``tool_calls`` becomes real tool calls, also when streaming: the calls are
sent as ``tool_call_chunks``, so the merged message still has ``tool_calls`` (langchain-core's
``GenericFakeChatModel`` drops them). Streaming sends one token per chunk (a word plus its
trailing whitespace; ``chunk_size`` words per chunk) with ``delay_s`` seconds between chunks,
so a test can watch tokens arrive over time. ``usage_metadata`` is set on the final message or
chunk: input tokens = words in the prompt, output tokens = tokens generated.

``select_chat_model`` picks the real provider model when its API key is in the environment and
its LangChain integration is installed, and the fake otherwise: examples use it so they run
offline and against a real provider with the same code.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import inspect
import json
import logging
import os
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, PrivateAttr, model_validator

from agentdock import settings

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"\S+\s*|\s+")
Script = Callable[..., AIMessage | str]


def split_tokens(text: str, chunk_size: int = 1) -> list[str]:
    """Split ``text`` into stream tokens: ``chunk_size`` words, each with its trailing whitespace.

    Joining the tokens gives ``text`` back exactly.
    """
    words = _TOKEN.findall(text)
    size = max(1, chunk_size)
    return ["".join(words[i : i + size]) for i in range(0, len(words), size)]


def message_text(message: BaseMessage) -> str:
    """The text of a message whose content may be a string or a list of content blocks."""
    return message.text


def call_tool(name: str, args: dict[str, Any], *, content: str = "") -> AIMessage:
    """An ``AIMessage`` asking for one tool call, for scripts (the model fills in a stable id)."""
    return AIMessage(content=content, tool_calls=[{"name": name, "args": args, "id": None}])


def _count_words(messages: Sequence[BaseMessage]) -> int:
    return sum(len(message_text(m).split()) for m in messages)


class FakeChatModel(BaseChatModel):
    """A scripted chat model: deterministic answers, real tool calls, real token streaming."""

    responses: list[Any] = Field(default_factory=list)
    """Answers returned in turn (``str`` or ``AIMessage``), cycled."""
    respond: Script | None = None
    """Rule-based script ``fn(messages[, tools=names]) -> AIMessage | str``; wins over ``responses``."""
    chunk_size: int = Field(default=1, ge=1)
    """Words per streamed chunk."""
    delay_s: float = Field(default=0.0, ge=0.0)
    """Pause between streamed chunks, so streaming is observable over time."""
    model_name: str = "agentdock-fake"

    model_config = ConfigDict(arbitrary_types_allowed=True)

    _cursor: int = PrivateAttr(default=0)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @model_validator(mode="after")
    def _needs_a_script(self) -> FakeChatModel:
        if self.respond is None and not self.responses:
            raise ValueError("FakeChatModel needs responses=[...] or respond=callable(messages)")
        for item in self.responses:
            if not isinstance(item, str | AIMessage):
                raise ValueError(f"responses items must be str or AIMessage, got {type(item).__name__}")
        return self

    @property
    def _llm_type(self) -> str:
        return "agentdock-fake-chat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "chunk_size": self.chunk_size}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools like a provider model does: the script sees their names, calls stay checked."""
        formatted = [convert_to_openai_tool(t) for t in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    # -- the script ------------------------------------------------------------------------

    def _next_reply(self, messages: list[BaseMessage], tool_names: list[str]) -> AIMessage:
        if self.respond is not None:
            params = inspect.signature(self.respond).parameters
            accepts_tools = "tools" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
            raw = self.respond(messages, tools=tool_names) if accepts_tools else self.respond(messages)
        else:
            with self._lock:
                raw = self.responses[self._cursor % len(self.responses)]
                self._cursor += 1
        if isinstance(raw, str):
            return AIMessage(content=raw)
        if not isinstance(raw, AIMessage):
            raise TypeError(f"FakeChatModel script returned {type(raw).__name__}, expected AIMessage or str")
        return self._with_call_ids(raw, messages, tool_names)

    @staticmethod
    def _with_call_ids(reply: AIMessage, messages: list[BaseMessage], tool_names: list[str]) -> AIMessage:
        """Give each tool call a stable id (derived from the call and the turn) and check its name."""
        if not reply.tool_calls:
            return reply
        calls = []
        for index, call in enumerate(reply.tool_calls):
            if tool_names and call["name"] not in tool_names:
                raise ValueError(f"script calls tool {call['name']!r} but only {tool_names} are bound")
            call_id = call.get("id")
            if not call_id:
                seed = json.dumps(
                    [len(messages), index, call["name"], call["args"]], sort_keys=True, default=str
                )
                call_id = "call_" + hashlib.sha1(seed.encode()).hexdigest()[:12]
            calls.append({"name": call["name"], "args": call["args"], "id": call_id, "type": "tool_call"})
        return AIMessage(content=reply.content, tool_calls=calls, id=reply.id)

    def _reply(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> AIMessage:
        tools = kwargs.get("tools") or []
        names = [t["function"]["name"] for t in tools if isinstance(t, dict) and "function" in t]
        return self._next_reply(messages, names)

    def _usage(self, messages: list[BaseMessage], reply: AIMessage) -> dict[str, int]:
        generated = len(split_tokens(message_text(reply), self.chunk_size)) + len(reply.tool_calls)
        prompt = _count_words(messages)
        return {"input_tokens": prompt, "output_tokens": generated, "total_tokens": prompt + generated}

    def _chunks(self, messages: list[BaseMessage], reply: AIMessage) -> list[AIMessageChunk]:
        chunks = [AIMessageChunk(content=tok) for tok in split_tokens(message_text(reply), self.chunk_size)]
        for index, call in enumerate(reply.tool_calls):
            piece = tool_call_chunk(
                name=call["name"], args=json.dumps(call["args"]), id=call["id"], index=index
            )
            chunks.append(AIMessageChunk(content="", tool_call_chunks=[piece]))
        if not chunks:
            chunks.append(AIMessageChunk(content=""))
        last = chunks[-1]
        chunks[-1] = AIMessageChunk(
            content=last.content,
            tool_call_chunks=last.tool_call_chunks,
            usage_metadata=self._usage(messages, reply),  # type: ignore[arg-type]
            response_metadata=self._response_metadata(reply),
            chunk_position="last",
        )
        return chunks

    def _response_metadata(self, reply: AIMessage) -> dict[str, Any]:
        reason = "tool_calls" if reply.tool_calls else "stop"
        return {"model_name": self.model_name, "finish_reason": reason}

    # -- BaseChatModel hooks ---------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = self._reply(messages, kwargs)
        message = AIMessage(
            content=reply.content,
            tool_calls=reply.tool_calls,
            id=reply.id,
            usage_metadata=self._usage(messages, reply),  # type: ignore[arg-type]
            response_metadata=self._response_metadata(reply),
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._generate(messages, stop=stop, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for i, chunk in enumerate(self._chunks(messages, self._reply(messages, kwargs))):
            if i and self.delay_s:
                time.sleep(self.delay_s)
            generation = ChatGenerationChunk(message=chunk)
            if run_manager:
                run_manager.on_llm_new_token(message_text(chunk), chunk=generation)
            yield generation

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for i, chunk in enumerate(self._chunks(messages, self._reply(messages, kwargs))):
            if i and self.delay_s:
                await asyncio.sleep(self.delay_s)
            generation = ChatGenerationChunk(message=chunk)
            if run_manager:
                await run_manager.on_llm_new_token(message_text(chunk), chunk=generation)
            yield generation


# -- provider selection ----------------------------------------------------------------------

# provider -> (env var that enables it, integration module, class, keyword that names the model)
PROVIDERS: dict[str, tuple[str, str, str, str]] = {
    "openai": (settings.ENV_OPENAI_API_KEY, "langchain_openai", "ChatOpenAI", "model"),
    "azure": (settings.ENV_AZURE_OPENAI_API_KEY, "langchain_openai", "AzureChatOpenAI", "azure_deployment"),
    "anthropic": (settings.ENV_ANTHROPIC_API_KEY, "langchain_anthropic", "ChatAnthropic", "model"),
    "google": (settings.ENV_GOOGLE_API_KEY, "langchain_google_genai", "ChatGoogleGenerativeAI", "model"),
    "ollama": (settings.ENV_OLLAMA_HOST, "langchain_ollama", "ChatOllama", "model"),
}
_logged: set[tuple[str, str, str]] = set()
_logged_lock = threading.Lock()


def _log_once(provider: str, name: str, choice: str) -> None:
    with _logged_lock:
        if (provider, name, choice) in _logged:
            return
        _logged.add((provider, name, choice))
    log.info("chat model for %s/%s: %s", provider, name, choice)


def select_chat_model(provider: str, name: str, *, fake: BaseChatModel, **kwargs: Any) -> BaseChatModel:
    """The real ``provider`` model when its key env var is set and its integration imports, else ``fake``.

    ``kwargs`` (temperature, max_tokens, ...) go to the real model's constructor. Setting
    ``AGENTDOCK_FAKE_MODEL=1`` forces the fake (CI, tests). The choice is logged once per model.
    """
    entry = PROVIDERS.get(provider)
    forced = os.environ.get(settings.ENV_FAKE_MODEL, "").lower() in ("1", "true", "yes")
    if entry is None or forced or not os.environ.get(entry[0]):
        why = "forced by " + settings.ENV_FAKE_MODEL if forced else f"no {entry[0] if entry else 'key'} set"
        _log_once(provider, name, f"FakeChatModel ({why})")
        return fake
    env_var, module_name, class_name, name_kw = entry
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except ImportError:
        _log_once(provider, name, f"FakeChatModel ({module_name} is not installed)")
        return fake
    if provider == "ollama":
        kwargs.setdefault("base_url", os.environ[env_var])
    _log_once(provider, name, f"{module_name}.{class_name}")
    model: BaseChatModel = cls(**{name_kw: name}, **kwargs)
    return model
