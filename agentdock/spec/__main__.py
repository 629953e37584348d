"""``python -m agentdock.spec [FILE]``: regenerate ``dockfile-1.0.json`` from the models."""

import sys
from pathlib import Path

from agentdock.spec.schema import SCHEMA_FILE, write_schema

if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_FILE
    print(f"wrote {write_schema(out)}")
