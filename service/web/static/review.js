// streetwatch review UI: keyboard-first actions over the JSON API. No framework, no build.
// Queue: j/k move, c confirm, r reject (1-5 / arrows + Enter pick the reason), d dispatch,
// Enter open, u reload, ? help. Case page: c r d h s x o act, m comment, b / Esc back.
(() => {
  "use strict";
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const TEXT = window.SW_TEXT || { status: {}, reason: {} };
  const body = document.body;
  const page = body.dataset.page;
  const canWrite = body.dataset.canWrite === "1";
  const KEY_ACTIONS = { c: "confirm", d: "dispatch", h: "handle", s: "resolve", x: "close", o: "reopen" };

  // -- toasts (a message may survive one reload through sessionStorage) ---------------------
  function toast(message, kind = "ok") {
    const box = $("#toast");
    if (!box) return;
    const item = document.createElement("div");
    item.className = `msg ${kind}`;
    item.textContent = message;
    box.appendChild(item);
    while (box.children.length > 3) box.firstElementChild.remove();
    setTimeout(() => item.remove(), kind === "error" ? 6000 : 2600);
  }
  const flash = sessionStorage.getItem("sw-flash");
  if (flash) {
    sessionStorage.removeItem("sw-flash");
    toast(flash);
  }

  // -- the API -------------------------------------------------------------------------------
  async function call(method, url, payload) {
    const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (payload !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(payload);
    }
    const reply = await fetch(url, options);
    const data = await reply.json().catch(() => ({}));
    if (!reply.ok) {
      const detail = data.message || (typeof data.detail === "string" ? data.detail : "");
      throw new Error(`${reply.status} ${detail || reply.statusText}`);
    }
    return data;
  }

  async function transition(caseId, status, action, extra = {}) {
    if (action === "dispatch" && status === "new") {
      await call("POST", `/cases/${encodeURIComponent(caseId)}/transitions`, { action: "confirm" });
    }
    return call("POST", `/cases/${encodeURIComponent(caseId)}/transitions`, { action, ...extra });
  }

  // -- the current case: the selected card (queue) or the page's case -------------------------
  let cards = $$(".card[data-case-id]");
  let reviewed = 0; // cases this page took out of review (for the "new cases" banner)
  let index = cards.length ? 0 : -1;

  function select(i) {
    if (!cards.length) return;
    index = Math.max(0, Math.min(cards.length - 1, i));
    cards.forEach((card, n) => card.classList.toggle("selected", n === index));
    cards[index].scrollIntoView({ block: "nearest", behavior: "auto" });
  }

  function current() {
    if (page === "case") {
      return { id: body.dataset.caseId, status: body.dataset.status, el: null };
    }
    const el = cards[index];
    return el ? { id: el.dataset.caseId, status: el.dataset.status, el } : null;
  }

  const settled = (card) => card.classList.contains("done") || card.classList.contains("pending");

  function nextOpen() {
    for (let n = index + 1; n < cards.length; n++) {
      if (!settled(cards[n])) return select(n);
    }
    for (let n = 0; n < cards.length; n++) {
      if (!settled(cards[n])) return select(n);
    }
  }

  function describe(data) {
    let message = TEXT.status[data.status] || data.status;
    if (data.suppressions && data.suppressions.length && data.status === "rejected") {
      message += ` · ${TEXT.suppressed}`;
    }
    return message;
  }

  function applied(target, data) {
    const message = describe(data);
    if (page === "case") {
      sessionStorage.setItem("sw-flash", message);
      location.reload();
      return;
    }
    toast(message);
    target.el.dataset.status = data.status;
    const pill = $("[data-role=status]", target.el);
    if (pill) {
      pill.className = `pill status status-${data.status}`;
      pill.textContent = (TEXT.status_short || {})[data.status] || data.status;
    }
    if (["new", "reopened"].includes(target.status) && !["new", "reopened"].includes(data.status)) {
      reviewed += 1;
    }
    target.el.classList.remove("pending");
    target.el.classList.add("done");
  }

  async function act(action, extra = {}) {
    const target = current();
    if (!target) return;
    if (!canWrite) {
      toast(TEXT.read_only, "error");
      return;
    }
    if (action === "dispatch" && page === "case") {
      const pick = $("#department");
      if (pick && pick.value && pick.value !== body.dataset.department) extra.department = pick.value;
    }
    if (target.el) {
      // the queue moves on at once; the request finishes in the background
      if (target.el.classList.contains("pending")) return;
      target.el.classList.add("pending");
      nextOpen();
    }
    try {
      applied(target, await transition(target.id, target.status, action, extra));
    } catch (error) {
      if (target.el) target.el.classList.remove("pending");
      toast(`${TEXT.failed}: ${error.message}`, "error");
    }
  }

  // -- the reason picker ------------------------------------------------------------------------
  const picker = $("#reason-picker");
  const reasons = picker ? $$("[data-reason]", picker) : [];
  let chosen = 0;

  function choose(i) {
    chosen = (i + reasons.length) % reasons.length;
    reasons.forEach((button, n) => button.classList.toggle("chosen", n === chosen));
  }

  function openPicker() {
    if (!picker || !current()) return;
    if (!canWrite) {
      toast(TEXT.read_only, "error");
      return;
    }
    $("#reason-note").value = "";
    choose(0);
    picker.hidden = false;
  }

  function closePicker() {
    if (picker) picker.hidden = true;
  }

  function reject(i) {
    const reason = reasons[i].dataset.reason;
    const note = $("#reason-note").value.trim();
    closePicker();
    act("reject", note ? { reason_code: reason, reason: note } : { reason_code: reason });
  }

  reasons.forEach((button, n) => button.addEventListener("click", () => reject(n)));

  function pickerKey(event) {
    const inNote = event.target && event.target.id === "reason-note";
    if (event.key === "Escape") closePicker();
    else if (event.key === "Enter") reject(chosen);
    else if (event.key === "ArrowDown") choose(chosen + 1);
    else if (event.key === "ArrowUp") choose(chosen - 1);
    else if (!inNote && /^[1-9]$/.test(event.key) && Number(event.key) <= reasons.length) {
      reject(Number(event.key) - 1);
    } else return;
    event.preventDefault();
  }

  // -- help ----------------------------------------------------------------------------------
  const help = $("#help");
  const toggleHelp = () => help && (help.hidden = !help.hidden);
  $$("[data-help]").forEach((el) => el.addEventListener("click", toggleHelp));

  // -- keys ----------------------------------------------------------------------------------
  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (picker && !picker.hidden) return pickerKey(event);
    if (help && !help.hidden) {
      if (event.key === "Escape" || event.key === "?") toggleHelp();
      return;
    }
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const key = event.key;
    if (key === "?") toggleHelp();
    else if (page === "queue" && (key === "j" || key === "ArrowDown")) select(index + 1);
    else if (page === "queue" && (key === "k" || key === "ArrowUp")) select(index - 1);
    else if (page === "queue" && key === "Enter" && current()) {
      location.href = `/ui/cases/${encodeURIComponent(current().id)}`;
    } else if (page === "queue" && key === "u") location.reload();
    else if ((page === "queue" || page === "case") && key === "r") openPicker();
    else if (page === "queue" && key === "c") act("confirm");
    else if (page === "queue" && key === "d") act("dispatch");
    else if (page === "case" && KEY_ACTIONS[key] && $(`[data-action="${KEY_ACTIONS[key]}"]`)) {
      act(KEY_ACTIONS[key]);
    } else if (page === "case" && key === "m" && $("#comment")) $("#comment").focus();
    else if (page === "case" && (key === "b" || key === "Escape")) location.href = "/";
    else return;
    event.preventDefault();
  });

  // -- clicks --------------------------------------------------------------------------------
  cards.forEach((card, n) => card.addEventListener("click", () => select(n)));
  $$("[data-action]").forEach((button) =>
    button.addEventListener("click", () => {
      if (button.dataset.action === "reject") openPicker();
      else act(button.dataset.action);
    }),
  );
  $$("[data-remove-suppression]").forEach((button) =>
    button.addEventListener("click", async () => {
      try {
        await call("DELETE", `/suppressions/${button.dataset.removeSuppression}`);
        sessionStorage.setItem("sw-flash", `#${button.dataset.removeSuppression} ✓`);
        location.reload();
      } catch (error) {
        toast(`${TEXT.failed}: ${error.message}`, "error");
      }
    }),
  );
  const commentForm = $("#comment-form");
  if (commentForm) {
    commentForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = $("#comment").value.trim();
      if (!text) return;
      try {
        await call("POST", `/cases/${encodeURIComponent(body.dataset.caseId)}/comments`, { text });
        location.reload();
      } catch (error) {
        toast(`${TEXT.failed}: ${error.message}`, "error");
      }
    });
  }

  // -- new work arrives: say so, do not move the reviewer's selection -------------------------
  if (page === "queue") {
    select(0);
    const shown = Number(body.dataset.reviewTotal || 0);
    setInterval(async () => {
      try {
        const stats = await call("GET", "/ui/queue/stats");
        const banner = $("#new-arrived");
        const arrived = stats.review - (shown - reviewed);
        if (banner && arrived > 0) {
          banner.textContent = `${TEXT.new_arrived} (+${arrived})`;
          banner.hidden = false;
        }
      } catch (error) {
        /* the next poll retries */
      }
    }, 15000);
  }
})();
