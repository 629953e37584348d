// LangGraph's JS client (@langchain/langgraph-sdk `Client`) against an AgentDock endpoint.
//
//   AGENTDOCK_KEY=agd_... AGENTDOCK_OTHER_KEY=agd_... node sdk_client.mjs <chat|review> <url> <assistant>
//
// (the keys may also be given as the 4th and 5th arguments). Prints one JSON object with what
// the client saw; tests/runtime/test_langgraph_js.py serves the agent and asserts on it. The
// script records, it does not judge: every call is the SDK's own, unchanged.
//
//   chat    assistants.search, threads.create, runs.wait twice on the thread, runs.stream in
//           "messages-tuple" (tokens), "values" and "updates", and a second key denied the thread
//   review  a graph that calls interrupt(): runs.wait pauses, runs.stream with
//           command: {resume} finishes it; a stream dropped mid-run (AbortController) is
//           rejoined with runs.joinStream(..., {lastEventId}); a stream cut mid-run by the
//           network is resumed by the client itself (Location, Last-Event-ID); a second key
//           denied the thread

import { Client } from "@langchain/langgraph-sdk";

const [scenario, apiUrl, assistant, argKey, argOther] = process.argv.slice(2);
const apiKey = argKey ?? process.env.AGENTDOCK_KEY;
const otherKey = argOther ?? process.env.AGENTDOCK_OTHER_KEY;
if (!scenario || !apiUrl || !assistant || !apiKey || !otherKey) {
  console.error("usage: node sdk_client.mjs <chat|review> <url> <assistant> (keys: AGENTDOCK_KEY, AGENTDOCK_OTHER_KEY)");
  process.exit(2);
}

const client = new Client({ apiUrl, apiKey });
const other = new Client({ apiUrl, apiKey: otherKey });

/** The HTTP status an SDK call failed with, or "ok" when it did not fail. */
async function statusOf(call) {
  try {
    await call();
    return "ok";
  } catch (error) {
    return error?.status ?? `${error?.name}: ${error?.message}`;
  }
}

/**
 * A fetch that cuts the first run stream after `events` whole SSE events, as a proxy dropping
 * the connection mid-run would, and records every request (method, path, Last-Event-ID).
 */
function droppingFetch(events, requests) {
  let dropped = false;
  return async (input, init) => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    requests.push({ method: init?.method ?? "GET", path: url.pathname, last_event_id: headers.get("last-event-id") });
    const response = await fetch(input, init);
    if (dropped || init?.method !== "POST" || !url.pathname.endsWith("/runs/stream")) return response;
    dropped = true;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const encoder = new TextEncoder();
    let buffer = "";
    let sent = 0;
    const body = new ReadableStream({
      async pull(controller) {
        if (sent === events) {
          // let the client take in what it was sent (an error drops chunks still queued), then cut
          await new Promise((resolve) => setTimeout(resolve, 300));
          await reader.cancel();
          return controller.error(new TypeError("terminated"));
        }
        const { done, value } = await reader.read();
        if (done) return controller.close();
        buffer += decoder.decode(value, { stream: true });
        for (let cut = buffer.indexOf("\n\n"); cut !== -1 && sent < events; cut = buffer.indexOf("\n\n")) {
          const event = buffer.slice(0, cut + 2);
          buffer = buffer.slice(cut + 2);
          controller.enqueue(encoder.encode(event));
          if (!event.startsWith(":")) sent += 1;
        }
      },
      cancel: (reason) => reader.cancel(reason),
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
}

/** Every part of a stream, as {id, event, data}. */
async function collect(parts) {
  const out = [];
  for await (const part of parts) out.push({ id: part.id ?? null, event: part.event, data: part.data });
  return out;
}

function text(message) {
  const content = message?.content;
  if (typeof content === "string") return content;
  return Array.isArray(content) ? content.map((block) => block?.text ?? "").join("") : "";
}

/** What another principal gets for this thread: the thread, its state, a run on it. */
async function denied(threadId, input) {
  return {
    get: await statusOf(() => other.threads.get(threadId)),
    state: await statusOf(() => other.threads.getState(threadId)),
    wait: await statusOf(() => other.runs.wait(threadId, assistant, { input })),
    search: (await other.threads.search({ limit: 100 })).map((t) => t.thread_id).includes(threadId),
  };
}

async function chat() {
  const assistants = await client.assistants.search();
  const thread = await client.threads.create();
  const tid = thread.thread_id;
  const first = await client.runs.wait(tid, assistant, { input: { question: "What is the total of INV-1001?" } });
  const second = await client.runs.wait(tid, assistant, {
    input: { messages: [{ role: "user", content: "And INV-1002?" }] },
  });

  let runCreated = null;
  const tuples = await collect(
    client.runs.stream(tid, assistant, {
      input: { question: "INV-1001?" },
      streamMode: "messages-tuple",
      onRunCreated: (meta) => {
        runCreated = meta;
      },
    }),
  );
  const tokens = tuples
    .filter((p) => p.event === "messages" && p.data?.[0]?.type === "AIMessageChunk")
    .map((p) => text(p.data[0]));
  const values = await collect(client.runs.stream(tid, assistant, { input: { question: "INV-1002?" }, streamMode: "values" }));
  const updates = await collect(
    client.runs.stream(tid, assistant, { input: { question: "INV-1001?" }, streamMode: "updates" }),
  );
  const lastValues = values.filter((p) => p.event === "values").at(-1)?.data;
  return {
    assistants: assistants.map((a) => ({ assistant_id: a.assistant_id, graph_id: a.graph_id })),
    thread_id: tid,
    first: { count: first.messages.length, last: text(first.messages.at(-1)) },
    second: {
      count: second.messages.length,
      first: text(second.messages[0]),
      last: text(second.messages.at(-1)),
    },
    tuples: {
      events: tuples.map((p) => p.event),
      tokens,
      metadata_is_object: tuples.filter((p) => p.event === "messages").every((p) => typeof p.data[1] === "object"),
      run_created: runCreated,
    },
    values: {
      events: values.map((p) => p.event),
      ids: values.map((p) => p.id),
      last_count: lastValues?.messages?.length ?? null,
      last: text(lastValues?.messages?.at(-1)),
    },
    updates: {
      events: updates.map((p) => p.event),
      nodes: updates.filter((p) => p.event === "updates").map((p) => Object.keys(p.data ?? {})),
    },
    thread_status: (await client.threads.get(tid)).status,
    denied: await denied(tid, { question: "INV-1001?" }),
  };
}

async function review() {
  const tid = (await client.threads.create()).thread_id;
  const paused = await client.runs.wait(tid, assistant, { input: { request: "INV-7" } });
  const state = await client.threads.getState(tid);
  const resumed = await collect(
    client.runs.stream(tid, assistant, { command: { resume: "yes" }, streamMode: "updates" }),
  );
  const after = await client.threads.getState(tid);

  // A dropped connection: the first three events, then the client goes away mid-run.
  const dropTid = (await client.threads.create()).thread_id;
  const controller = new AbortController();
  let run = null;
  const before = [];
  try {
    for await (const part of client.runs.stream(dropTid, assistant, {
      input: { request: "slow drop" },
      streamMode: ["custom", "values"],
      signal: controller.signal,
      onRunCreated: (meta) => {
        run = meta;
      },
    })) {
      before.push({ id: part.id ?? null, event: part.event, data: part.data });
      if (before.length === 3) {
        controller.abort();
        break;
      }
    }
  } catch (error) {
    if (error?.name !== "AbortError" && !String(error?.message).includes("Abort")) throw error;
  }
  const lastEventId = before.at(-1)?.id;
  const rest = run
    ? await collect(client.runs.joinStream(dropTid, run.run_id, { lastEventId }))
    : [];
  const otherJoin = run
    ? await statusOf(() => collect(other.runs.joinStream(dropTid, run.run_id, { lastEventId })))
    : null;

  // The network cuts the stream after three events: the client reconnects by itself.
  const requests = [];
  const flaky = new Client({ apiUrl, apiKey, callerOptions: { fetch: droppingFetch(3, requests) } });
  const cutTid = (await client.threads.create()).thread_id;
  const resumedParts = await collect(
    flaky.runs.stream(cutTid, assistant, { input: { request: "slow cut" }, streamMode: ["custom", "values"] }),
  );
  return {
    thread_id: tid,
    interrupt: paused.__interrupt__ ?? null,
    state_next: state.next,
    state_interrupt_ids: (state.interrupts ?? []).map((i) => i.id),
    resumed: resumed.map((p) => ({ event: p.event, data: p.event === "metadata" ? null : p.data })),
    approved: after.values.approved ?? null,
    thread_status: (await client.threads.get(tid)).status,
    drop: {
      run_created: run,
      before,
      last_event_id: lastEventId ?? null,
      rest: rest.map((p) => ({ id: p.id, event: p.event, data: p.data })),
      other_join: otherJoin,
      run_status: run ? (await client.runs.get(dropTid, run.run_id)).status : null,
    },
    cut: { parts: resumedParts, requests },
    denied: await denied(tid, { request: "x" }),
  };
}

const scenarios = { chat, review };
if (!(scenario in scenarios)) {
  console.error(`unknown scenario ${scenario}: one of ${Object.keys(scenarios).join(", ")}`);
  process.exit(2);
}
const result = await scenarios[scenario]();
process.stdout.write(`${JSON.stringify(result)}\n`);
