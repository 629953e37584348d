// A tiny chat page on LangGraph's React hook (`useStream` from @langchain/langgraph-sdk/react),
// bundled by build_page.mjs and driven by Playwright in tests/runtime/test_langgraph_js_react.py.
//
// window.__CONFIG = {apiUrl, apiKey, assistantId, input: "messages" | "request", reconnect}
// (set by the page's HTML). The page renders what the hook gives it; window.__seen records every
// text the last AI message had while it streamed, so the test can tell streamed tokens from one
// final state. With `reconnect`, the thread id is kept in sessionStorage and the hook's
// `reconnectOnMount` rejoins a run still going when the page is reloaded.

import { useStream } from "@langchain/langgraph-sdk/react";
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";

const config = window.__CONFIG;
window.__seen = [];

function text(message) {
  const content = message?.content;
  if (typeof content === "string") return content;
  return Array.isArray(content) ? content.map((block) => block?.text ?? "").join("") : "";
}

function App() {
  const [run, setRun] = useState(null);
  const [finished, setFinished] = useState(0);
  const [threadId, setThreadId] = useState(() =>
    config.reconnect ? sessionStorage.getItem("agentdock:thread") : null,
  );
  const [progress, setProgress] = useState([]);
  const [draft, setDraft] = useState("");
  const stream = useStream({
    apiUrl: config.apiUrl,
    apiKey: config.apiKey,
    assistantId: config.assistantId,
    messagesKey: "messages",
    threadId,
    reconnectOnMount: !!config.reconnect,
    onThreadId: (id) => {
      if (config.reconnect) sessionStorage.setItem("agentdock:thread", id);
      setThreadId(id);
    },
    onCreated: (meta) => setRun(meta.run_id),
    onCustomEvent: (data) => setProgress((seen) => [...seen, data.progress]),
    onFinish: () => setFinished((n) => n + 1),
  });
  const messages = stream.messages ?? [];
  const lastAi = [...messages].reverse().find((m) => m.type === "ai");
  const lastText = text(lastAi);
  useEffect(() => {
    if (lastText && window.__seen.at(-1) !== lastText) window.__seen.push(lastText);
  }, [lastText]);

  const send = (event) => {
    event.preventDefault();
    const input =
      config.input === "messages" ? { messages: [{ type: "human", content: draft }] } : { request: draft };
    stream.submit(input);
    setDraft("");
  };
  const { messages: _, ...values } = stream.values ?? {};
  return (
    <main>
      <form onSubmit={send}>
        <input id="input" value={draft} onChange={(e) => setDraft(e.target.value)} />
        <button id="send" type="submit">Send</button>
      </form>
      <button id="approve" onClick={() => stream.submit(undefined, { command: { resume: "yes" } })}>
        Approve
      </button>
      <ul id="messages">
        {messages.map((m, i) => (
          <li key={m.id ?? i} data-type={m.type}>
            {text(m)}
          </li>
        ))}
      </ul>
      <pre id="values">{JSON.stringify(values)}</pre>
      <pre id="interrupt">{stream.interrupt ? JSON.stringify(stream.interrupt.value) : ""}</pre>
      <p id="progress">{progress.join(",")}</p>
      <p id="status">{stream.isLoading ? "loading" : "idle"}</p>
      <p id="finished">{finished}</p>
      <p id="run">{run ?? ""}</p>
      <p id="thread">{threadId ?? ""}</p>
      <p id="error">{stream.error ? String(stream.error?.message ?? stream.error) : ""}</p>
    </main>
  );
}

createRoot(document.getElementById("root")).render(<App />);
