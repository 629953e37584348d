"""Cold-start baseline: import, build and invoke the graph once, with no server at all."""

import asyncio

from bench.graph import INPUT, build_graph

print(asyncio.run(build_graph().ainvoke(dict(INPUT)))["summary"], flush=True)
