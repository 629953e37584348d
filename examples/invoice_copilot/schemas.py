"""The invoice_copilot I/O contract, referenced from the Dockfile as pydantic classes."""

from __future__ import annotations

from pydantic import BaseModel, Field


class InvoiceQuery(BaseModel):
    """A billing question, e.g. "What is the total of invoice INV-1001?"."""

    question: str = Field(min_length=1, max_length=2000, description="The question, in plain language.")


class InvoiceAnswer(BaseModel):
    """The copilot's answer (card numbers and e-mails are redacted by the Dockfile policies)."""

    answer: str = Field(description="The answer text.")
