// The collabbot web playground: one chat over a websocket to /web/socket.
// Bot bubbles arrive as HTML made by the server's to_html (every character of text escaped);
// everything else (labels, the person's own words, names) is put in with textContent.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const messages = $("messages");
  const text = $("text");
  const send = $("send");
  const file = $("file");
  const status = $("status");
  const typing = $("typing");
  const toast = $("toast");
  const hint = $("prompt-hint");
  const commands = $("commands");
  const GROUP_NAMES = { creator: "Creator", seller: "Seller", operator: "Operator" };
  const DEFAULT_PLACEHOLDER = text.placeholder;

  let socket = null;
  let member = "";
  let retry = 0;
  let retryTimer = 0;
  let toastTimer = 0;
  let maxLength = 0;

  // --- who you are ---------------------------------------------------------------------

  function people() {
    return Array.from(document.querySelectorAll(".person"));
  }

  function choose(id, remember) {
    const button = people().find((b) => b.dataset.member === id);
    if (!button) return;
    for (const other of people()) other.setAttribute("aria-pressed", String(other === button));
    member = id;
    if (remember) {
      const url = new URL(location.href);
      url.searchParams.set("as", id);
      history.replaceState(null, "", url);
    }
    const group = button.dataset.group;
    $("me-name").textContent = button.querySelector(".name").textContent;
    $("me-role").textContent = GROUP_NAMES[group] || group;
    const avatar = $("me-avatar");
    avatar.textContent = button.querySelector(".avatar").textContent;
    avatar.className = "avatar " + group;
    document.title = button.querySelector(".name").textContent + " · collabbot playground";
    connect();
  }

  for (const button of people()) {
    button.addEventListener("click", () => choose(button.dataset.member, true));
  }

  // --- the connection ------------------------------------------------------------------

  function setStatus(state, label) {
    status.dataset.state = state;
    status.textContent = label;
  }

  function enable(on) {
    text.disabled = !on;
    send.disabled = !on;
    file.disabled = !on;
  }

  function connect() {
    clearTimeout(retryTimer);
    if (socket) {
      socket.onclose = null;
      socket.close();
      socket = null;
    }
    enable(false);
    setStatus("connecting", "connecting…");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${location.host}/web/socket?member=${encodeURIComponent(member)}`;
    const ws = new WebSocket(url);
    socket = ws;
    ws.onmessage = (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      receive(data);
    };
    ws.onopen = () => {
      retry = 0;
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      enable(false);
      typing.hidden = true;
      const wait = Math.min(10000, 500 * 2 ** retry++);
      setStatus("connecting", "reconnecting…");
      retryTimer = setTimeout(connect, wait);
    };
  }

  function emit(event) {
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      showToast("Not connected yet; try again in a moment.");
      return false;
    }
    socket.send(JSON.stringify(event));
    return true;
  }

  // --- events from the server ----------------------------------------------------------

  function receive(data) {
    switch (data.type) {
      case "hello":
        hello(data);
        break;
      case "message":
        add(data.message, true);
        break;
      case "replace":
        replace(data.message);
        break;
      case "typing":
        typing.hidden = !data.on;
        if (!data.on) unlockKeyboards();
        break;
      case "toast":
        showToast(data.text);
        break;
      case "error":
        showToast(data.text);
        unlockKeyboards();
        break;
    }
  }

  function hello(data) {
    messages.replaceChildren();
    $("me-name").textContent = data.member.name;
    $("me-role").textContent = data.member.role;
    commands.replaceChildren();
    for (const command of data.commands) {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.textContent = "/" + command.name;
      chip.title = command.summary;
      chip.addEventListener("click", () => emit({ type: "text", text: "/" + command.name }));
      commands.append(chip);
    }
    if (!data.history.length) {
      const empty = document.createElement("div");
      empty.className = "welcome";
      empty.textContent = "No messages yet. Send /start, or tap a command below.";
      messages.append(empty);
    }
    for (const message of data.history) add(message, false);
    setStatus("live", "live");
    enable(true);
    text.focus();
  }

  function add(message, live) {
    const placeholder = messages.querySelector(".welcome");
    if (placeholder) placeholder.remove();
    const row = draw(message);
    if (live && message.kind === "notice") row.classList.add("flash");
    messages.append(row);
    updatePrompt();
    messages.scrollTop = messages.scrollHeight;
  }

  function replace(message) {
    const old = messages.querySelector(`.row[data-id="${CSS.escape(message.id)}"]`);
    if (!old) {
      add(message, true);
      return;
    }
    old.replaceWith(draw(message));
    updatePrompt();
  }

  function draw(message) {
    const row = document.createElement("div");
    row.className = "row " + (message.from === "me" ? "me" : "bot");
    if (message.kind === "notice") row.classList.add("notice");
    row.dataset.id = message.id;
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    if (message.from === "me") {
      bubble.textContent = message.text;
      row.append(bubble);
    } else {
      if (message.kind === "notice") {
        const tag = document.createElement("div");
        tag.className = "tag";
        tag.textContent = "🔔 Notice";
        bubble.append(tag);
      }
      if (message.image && /^https?:\/\//i.test(message.image)) {
        const image = document.createElement("img");
        image.alt = "";
        image.referrerPolicy = "no-referrer";
        image.loading = "lazy";
        image.addEventListener("error", () => image.remove());
        image.src = message.image;
        bubble.append(image);
      }
      const body = document.createElement("div");
      body.className = "text";
      body.innerHTML = message.html; // escaped by the server (to_html)
      bubble.append(body);
      row.append(bubble);
      if (message.buttons && message.buttons.length) row.append(keyboard(message));
      if (message.prompt) row.dataset.prompt = JSON.stringify(message.prompt);
    }
    const meta = document.createElement("div");
    meta.className = "meta";
    const when = new Date(message.at);
    meta.textContent =
      (isNaN(when) ? "" : when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })) +
      (message.edited ? " · edited" : "");
    row.append(meta);
    return row;
  }

  function keyboard(message) {
    const board = document.createElement("div");
    board.className = "keyboard";
    for (const buttons of message.buttons) {
      const line = document.createElement("div");
      line.className = "krow";
      for (const spec of buttons) {
        let control;
        if (spec.url) {
          control = document.createElement("a");
          control.href = /^https?:\/\//i.test(spec.url) ? spec.url : "#";
          control.target = "_blank";
          control.rel = "noopener noreferrer nofollow";
        } else {
          control = document.createElement("button");
          control.type = "button";
          control.addEventListener("click", () => press(board, message.id, spec.payload));
        }
        control.textContent = spec.label;
        control.className = spec.style || "secondary";
        line.append(control);
      }
      board.append(line);
    }
    return board;
  }

  function press(board, id, payload) {
    if (!emit({ type: "press", payload: payload, message: id })) return;
    for (const button of board.querySelectorAll("button")) button.disabled = true;
  }

  function unlockKeyboards() {
    for (const button of messages.querySelectorAll(".keyboard button:disabled")) {
      button.disabled = false;
    }
  }

  function updatePrompt() {
    const bots = messages.querySelectorAll(".row.bot");
    const last = bots.length ? bots[bots.length - 1] : null;
    const prompt = last && last.dataset.prompt ? JSON.parse(last.dataset.prompt) : null;
    if (!prompt) {
      hint.hidden = true;
      text.placeholder = DEFAULT_PLACEHOLDER;
      text.rows = 1;
      maxLength = 0;
      return;
    }
    hint.hidden = false;
    hint.textContent = prompt.label;
    text.placeholder = prompt.placeholder || prompt.label;
    text.rows = prompt.multiline ? 3 : 1;
    maxLength = prompt.max_length || 0;
  }

  function showToast(message) {
    if (!message) return;
    toast.textContent = message;
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => {
      toast.hidden = true;
    }, 2800);
  }

  // --- what the person does -------------------------------------------------------------

  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = text.value;
    if (!value.trim()) return;
    if (maxLength && value.length > maxLength) {
      showToast(`Please keep it under ${maxLength} characters.`);
      return;
    }
    if (emit({ type: "text", text: value })) {
      text.value = "";
      text.style.height = "";
    }
  });

  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });

  text.addEventListener("input", () => {
    text.style.height = "auto";
    text.style.height = Math.min(text.scrollHeight, 160) + "px";
  });

  file.addEventListener("change", () => {
    const picked = file.files && file.files[0];
    if (!picked) return;
    const caption = text.value;
    if (
      emit({
        type: "file",
        name: picked.name.slice(0, 255),
        mime: picked.type.slice(0, 127),
        size: picked.size,
        caption: caption,
      })
    ) {
      text.value = "";
    }
    file.value = "";
  });

  const wanted = new URL(location.href).searchParams.get("as");
  if (wanted) choose(wanted, false);
})();
