// A run's page follows the run while it is in progress: it polls the run's small JSON status and
// updates the graph, the node table and the run's state in place (no reload). Text only (textContent):
// names come from the store and are never parsed as HTML.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("run-data").textContent);
  const POLL_MS = 1000;

  // A node of the graph opens its execution's page (once it has one).
  function link(node) {
    const g = document.getElementById("node_" + node.index);
    if (!g || !node.execution || g.dataset.href) return;
    g.dataset.href = node.execution;
    g.classList.add("linked");
    g.setAttribute("role", "link");
    g.setAttribute("tabindex", "0");
    g.addEventListener("click", () => { window.location.href = g.dataset.href; });
    g.addEventListener("keydown", (e) => { if (e.key === "Enter") window.location.href = g.dataset.href; });
  }
  data.nodes.forEach(link);
  if (!data.in_progress) return;

  function setState(el, state) {
    if (!el) return;
    for (const c of Array.from(el.classList)) if (c.startsWith("state-")) el.classList.remove(c);
    el.classList.add("state-" + state.replace(/[^A-Za-z]/g, "").toUpperCase());
  }

  function update(status) {
    const badge = document.getElementById("run-state");
    badge.textContent = status.state;
    setState(badge, status.state);
    document.getElementById("run-duration").textContent = status.duration;
    for (const node of status.nodes) {
      link(node);
      const g = document.getElementById("node_" + node.index);
      if (g) {
        setState(g, node.state);
        const texts = g.querySelectorAll("text");
        if (texts.length) texts[texts.length - 1].textContent = node.text;
      }
      const row = document.getElementById("row-" + node.index);
      if (row) {
        const cells = row.querySelectorAll("td");
        const nameCell = cells[0];
        if (node.execution && !nameCell.querySelector("a")) {
          const a = document.createElement("a");
          a.href = node.execution;
          a.textContent = node.id;
          nameCell.textContent = "";
          nameCell.appendChild(a);
        }
        const stateBadge = cells[2].querySelector(".badge");
        stateBadge.textContent = node.state;
        setState(stateBadge, node.state);
        cells[3].textContent = node.seconds === null ? "-" : node.seconds.toFixed(2) + "s";
      }
    }
    document.body.dataset.runState = status.state;
  }

  async function poll() {
    try {
      const response = await fetch(data.status_url, { cache: "no-store", credentials: "same-origin" });
      if (response.ok) {
        const status = await response.json();
        update(status);
        if (!status.in_progress) {
          // The run ended: one full load shows what only the page has (failures, log tail, attempts).
          window.location.reload();
          return;
        }
      }
    } catch (e) {
      // The server is restarting or the network blinked: try again at the next tick.
    }
    window.setTimeout(poll, POLL_MS);
  }
  window.setTimeout(poll, POLL_MS);
})();
