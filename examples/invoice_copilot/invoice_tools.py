"""The invoice tools. Only ``lookup_invoice`` is allowed by the Dockfile; ``issue_refund`` is not.

``issue_refund`` has a real side effect (it appends to a ledger file) so tests can prove the
policy engine stopped it *before* its body ran: the ledger file must not exist afterwards.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from langchain_core.tools import tool

LEDGER_ENV = "INVOICE_REFUND_LEDGER"

INVOICES: dict[str, dict[str, str]] = {
    "INV-1001": {
        "invoice_id": "INV-1001",
        "customer": "Acme GmbH",
        "total": "1250.00",
        "currency": "EUR",
        "status": "paid",
        "card_number": "4111111111111111",
        "billing_email": "billing@acme.example",
    },
    "INV-1002": {
        "invoice_id": "INV-1002",
        "customer": "Globex Ltd",
        "total": "89.90",
        "currency": "USD",
        "status": "open",
        "card_number": "5500005555555559",
        "billing_email": "ap@globex.example",
    },
}


def ledger_path() -> Path:
    """Where refunds are recorded: $INVOICE_REFUND_LEDGER, else a file in the temp dir."""
    return Path(os.environ.get(LEDGER_ENV) or Path(tempfile.gettempdir()) / "agentdock-invoice-refunds.jsonl")


@tool
def lookup_invoice(invoice_id: str) -> str:
    """Look up an invoice by id (e.g. INV-1001): customer, total, currency, status, payment card."""
    found = INVOICES.get(invoice_id.upper())
    return json.dumps(found if found else {"invoice_id": invoice_id, "error": "not found"})


@tool
def issue_refund(invoice_id: str, amount: str) -> str:
    """Refund ``amount`` on an invoice. Moves money: the Dockfile does not allow this tool."""
    path = ledger_path()
    with path.open("a", encoding="utf-8") as ledger:
        ledger.write(json.dumps({"invoice_id": invoice_id, "amount": amount}) + "\n")
    return f"refunded {amount} on {invoice_id}"
