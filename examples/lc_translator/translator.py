"""lc_translator: a LangChain Runnable (prompt | model | parser), served with framework: langchain.

The input dict goes to the prompt as template variables (``text``, ``target_language``); the
parser's string result becomes the single string output field ``translation``. The model is
Anthropic Claude when ANTHROPIC_API_KEY is set (and langchain-anthropic installed); offline it
is a fake that "translates" word by word from a tiny glossary, so output depends on input.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda

from agentdock.testing.fake_chat import FakeChatModel, message_text, select_chat_model

DEFAULT_LANGUAGE = "French"
GLOSSARY: dict[str, dict[str, str]] = {
    "french": {
        "hello": "bonjour",
        "world": "monde",
        "good": "bon",
        "morning": "matin",
        "thank": "merci",
        "you": "vous",
        "invoice": "facture",
        "the": "le",
        "is": "est",
        "paid": "payée",
    },
    "german": {
        "hello": "hallo",
        "world": "Welt",
        "good": "guten",
        "morning": "Morgen",
        "thank": "danke",
        "you": "Ihnen",
        "invoice": "Rechnung",
        "the": "die",
        "is": "ist",
        "paid": "bezahlt",
    },
    "spanish": {
        "hello": "hola",
        "world": "mundo",
        "good": "buenos",
        "morning": "días",
        "thank": "gracias",
        "you": "usted",
        "invoice": "factura",
        "the": "la",
        "is": "está",
        "paid": "pagada",
    },
}

prompt = ChatPromptTemplate.from_messages(
    [
        ("system", "Translate the user's text into {target_language}. Reply with the translation only."),
        ("human", "{text}"),
    ]
)


def fake_translation(messages: list[BaseMessage]) -> str:
    """Word-by-word glossary translation; unknown words are kept as they are."""
    system = next((message_text(m) for m in messages if isinstance(m, SystemMessage)), "")
    language = re.search(r"into (\w+)", system)
    glossary = GLOSSARY.get(language.group(1).lower() if language else "", {})
    text = next((message_text(m) for m in reversed(messages) if isinstance(m, HumanMessage)), "")

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        return glossary.get(word.lower(), word)

    return re.sub(r"[A-Za-z]+", swap, text)


def _with_defaults(data: dict[str, Any]) -> dict[str, Any]:
    return {"target_language": DEFAULT_LANGUAGE, **data}


def build_chain() -> Runnable[dict[str, Any], str]:
    """Build the chain once per process; Runnables are stateless and safe to share."""
    model = select_chat_model(
        "anthropic", "claude-3-5-haiku-latest", fake=FakeChatModel(respond=fake_translation), temperature=0
    )
    return RunnableLambda(_with_defaults) | prompt | model | StrOutputParser()
